"""The console's keyboard: the space bar plays and pauses while the console has focus.

ipywidgets has no keyboard events, so this is a tiny invisible widget written with
``anywidget`` (a few lines of JavaScript shipped with the Python class, no build step;
``anywidget`` is the one dependency the console adds, for this). Placed inside the
console, it makes the console's box focusable (a click on its background focuses it)
and, while the focus is anywhere inside the console, turns the space bar into a click
on the play button, the same click a mouse makes, so the kernel sees nothing new.
Space typed into a text field (the plan table) stays a space. The browser's own
reaction to space (scrolling the notebook, or clicking the focused action button
again) is suppressed, so space never takes an action by accident.
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["SpaceToPlay"]

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const rootClass = model.get("root_class");
  const buttonClass = model.get("button_class");
  const root = () => el.closest("." + rootClass);
  const typing = (t) => t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  const onKey = (event) => {
    if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
    const box = root();
    if (!box || !box.contains(event.target) || typing(event.target)) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.type === "keydown" && !event.repeat) {
      const button = box.querySelector("." + buttonClass);
      if (button && !button.disabled) button.click();
    }
  };
  const focusable = () => {
    const box = root();
    if (box && !box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
    return Boolean(box);
  };
  let tries = 0;
  const timer = setInterval(() => { if (focusable() || ++tries > 50) clearInterval(timer); }, 100);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("keyup", onKey, true);
  return () => {
    clearInterval(timer);
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("keyup", onKey, true);
  };
}
export default { render };
"""


class SpaceToPlay(anywidget.AnyWidget):
    """Invisible: space inside the box with CSS class ``root_class`` clicks ``button_class``."""

    _esm = _ESM
    root_class = traitlets.Unicode("cascade-console").tag(sync=True)
    button_class = traitlets.Unicode("cascade-play").tag(sync=True)
