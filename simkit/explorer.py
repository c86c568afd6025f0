"""An interactive phase map of the retry storm: move a slider, see the metastable region move.

::

    from simkit.explorer import PhaseExplorer, phase_view
    PhaseExplorer()                    # sliders + the map, redrawn by the fluid lens
    view = phase_view(base_load_rps=60, timeout_s=2.0, max_retries=2, retry_policy="backoff")
    view.collapsed_share, view.envelope_agreement, view.figure

:func:`phase_view` is the whole logic: it computes the fluid phase map for one
setting of the four levers (base load, timeout, retries, retry policy) and draws it
with the back-of-envelope boundary. :class:`PhaseExplorer` only wires ipywidgets
sliders to it, so tests and notebooks without a browser (e.g. ``nbgrader
autograde``, where no widget callback fires) get exactly what a click shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .phase import PhaseMap, envelope, phase_map
from .scenarios.retry_storm import RETRY_POLICIES

__all__ = ["PhaseView", "phase_view", "PhaseExplorer", "SLIDERS"]

#: The explorer's sliders: parameter -> (lowest, highest, step).
SLIDERS: dict[str, tuple[float, float, float]] = {
    "base_load_rps": (20.0, 100.0, 5.0),
    "timeout_s": (0.25, 5.0, 0.25),
    "max_retries": (0, 8, 1),
}


@dataclass
class PhaseView:
    """One drawing of the explorer: the map, the numbers under it, and the figure."""

    map: PhaseMap
    collapsed_share: float
    envelope_agreement: float
    figure: Any

    @property
    def caption(self) -> str:
        """One line under the map, in words."""
        collapsed = ~self.map.recovered
        if not collapsed.any():
            state = "no spike on this map tips the service over"
        else:
            goodput = float(np.nanmean(self.map.goodput_end_rps[collapsed]))
            amplification = float(np.nanmean(self.map.amplification_end[collapsed]))
            state = (f"collapsed cells: goodput {goodput:.0f} requests/s, "
                     f"{amplification:.1f} attempts per customer request")
        return (f"{self.collapsed_share:.0%} of the map collapses; {state}; "
                f"the back-of-envelope boundary agrees on {self.envelope_agreement:.0%} of the cells")


def phase_view(
    base_load_rps: float = 70.0,
    timeout_s: float = 1.0,
    max_retries: int = 3,
    retry_policy: str = "immediate",
    *,
    grid: int = 30,
    params: dict[str, Any] | None = None,
    title: str | None = None,
) -> PhaseView:
    """The fluid phase map of retry-storm for one setting of the explorer's levers.

    ``params`` sets any other retry-storm parameter (e.g. ``{"queue_limit": 100}``);
    ``grid`` is the number of values per axis.
    """
    from .plots import phase_plot

    overrides = {**(params or {}), "base_load_rps": base_load_rps, "timeout_s": timeout_s,
                 "max_retries": max_retries, "retry_policy": retry_policy}
    result = phase_map("retry-storm", overrides, grid=grid, lens="fluid")
    predicted = envelope(result.params).grid(result.sizes, result.durations)
    collapsed = ~result.recovered
    figure = phase_plot(result, title=title if title is not None else _title(overrides))
    return PhaseView(result, float(collapsed.mean()), float((predicted == collapsed).mean()), figure)


def _title(levers: dict[str, Any]) -> str:
    return (f"load {levers['base_load_rps']:g}/s, timeout {levers['timeout_s']:g} s, "
            f"{levers['max_retries']} retries ({levers['retry_policy']})")


class PhaseExplorer:
    """Sliders for base load, timeout, retries and retry policy over a live fluid phase map.

    Every change calls :func:`phase_view` and shows its figure and caption. Show it
    with ``display(explorer)`` or by ending a cell with it. ``grid`` sets the map's
    resolution (30 redraws in well under a second); ``params`` fixes other parameters.
    """

    def __init__(self, *, grid: int = 30, params: dict[str, Any] | None = None, dpi: float = 80) -> None:
        import ipywidgets as w

        self.grid, self.params, self.dpi = grid, dict(params or {}), dpi
        self.controls = {
            "base_load_rps": w.FloatSlider(value=70.0, description="base load (/s)", continuous_update=False,
                                           min=SLIDERS["base_load_rps"][0], max=SLIDERS["base_load_rps"][1],
                                           step=SLIDERS["base_load_rps"][2]),
            "timeout_s": w.FloatSlider(value=1.0, description="timeout (s)", continuous_update=False,
                                       min=SLIDERS["timeout_s"][0], max=SLIDERS["timeout_s"][1],
                                       step=SLIDERS["timeout_s"][2]),
            "max_retries": w.IntSlider(value=3, description="retries", continuous_update=False,
                                       min=int(SLIDERS["max_retries"][0]), max=int(SLIDERS["max_retries"][1])),
            "retry_policy": w.Dropdown(value="immediate", options=list(RETRY_POLICIES), description="policy"),
        }
        self.image = w.Image(format="png")
        self.caption = w.HTML()
        self.widget = w.VBox([*self.controls.values(), self.image, self.caption])
        for control in self.controls.values():
            control.observe(lambda _change: self.redraw(), names="value")
        self.view: PhaseView | None = None
        self.redraw()

    def levers(self) -> dict[str, Any]:
        """The values the sliders show now."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> PhaseView:
        """Recompute the map for the sliders' values and show it (what every slider change does)."""
        from .plots import png_bytes

        self.view = phase_view(**self.levers(), grid=self.grid, params=self.params)
        self.image.value = png_bytes(self.view.figure, dpi=self.dpi)
        self.caption.value = f"<p>{self.view.caption}</p>"
        return self.view

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Phase-map explorer (needs a live Jupyter frontend): {self.view.caption}"
        return bundle
