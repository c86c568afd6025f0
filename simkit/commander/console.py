"""The incident-commander console: play an incident from a notebook, with buttons.

::

    from simkit.commander.console import Console
    console = Console("retry-storm")
    console                      # shows the console under the cell

The console is a thin front end over :class:`simkit.commander.engine.Incident`.
Every button calls one public method of :class:`Console` (:meth:`~Console.advance`,
:meth:`~Console.run_to_end`, :meth:`~Console.take`, :meth:`~Console.restart`), and
each of those calls the engine and then :meth:`~Console.refresh`, which redraws
everything from the engine's state. No rule of the game lives in a callback, so a
test (or a notebook without a browser) can drive the console exactly as a click
would, and the plan it ends with scores the same in the grader.

The plan played so far is shown as one line of Python (``PLAN = [(1.25,
'shed_load'), ...]``) to copy into an answer cell. :meth:`Console.insert_plan`,
run in a cell of its own, puts that line into a new cell below instead: a button
cannot do that, because a button click reaches the kernel as a widget message, and
Jupyter only inserts cells in reply to a cell being run.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ..params import Params
from ..scenarios.base import ScoreCard
from .console_view import (
    PENDING_SCORE,
    ConsoleView,
    action_tooltip,
    clock_html,
    log_html,
    score_html,
    status_html,
)
from .engine import Incident

__all__ = ["Console"]

_PLAN_HINT = (
    "Copy this line into the cell that defines <code>PLAN</code>. Or run "
    "<code>console.insert_plan()</code> in a new cell (with your console's name) "
    "to get the line as a new cell below that one."
)


class Console:
    """An ipywidgets console for one incident: clock, actions, dashboard, log, score.

    ``scenario`` is a scenario name (see :func:`simkit.scenarios.names`), ``params``
    its Params or a dict of overrides, ``seed`` the random seed. ``dpi`` sets the
    resolution of the dashboard picture (its cost grows with it).

    Show it with ``display(console)`` or by ending a cell with ``console``.
    """

    def __init__(
        self,
        scenario: str,
        params: Params | dict | None = None,
        seed: int = 0,
        *,
        dpi: float = 80,
    ) -> None:
        self.scenario = scenario
        self.params = params
        self.seed = seed
        self.dpi = dpi
        self.incident = Incident(scenario, params, seed)
        self.view = ConsoleView.build(self.incident.model, seed, _PLAN_HINT)
        #: Wall-clock seconds of the last update: ``"engine_s"`` (simulating) and
        #: ``"draw_s"`` (drawing the dashboard). For benchmarks; never used by the game.
        self.timings: dict[str, float] = {}
        self._card: ScoreCard | None = None
        self._wire()
        self.refresh()

    # -- what the buttons call -------------------------------------------------------------
    def advance(self, n: int = 1) -> None:
        """Advance the clock by ``n`` ticks, then redraw."""
        if self.incident.finished:
            self._say(False, "the incident is over: nothing left to advance")
            return
        self._timed(lambda: self.incident.tick(n))
        self.refresh()

    def run_to_end(self) -> None:
        """Play the rest of the incident, then show the score card."""
        self._timed(self.incident.run_to_end)
        self.refresh()

    def take(self, action: str) -> tuple[bool, str]:
        """Try ``action`` now; show what happened (or why not) and redraw.

        Returns the engine's ``(accepted, message)``.
        """
        spec = self.incident.model.actions.get(action)
        label = spec.label if spec else repr(action)
        ok, message = self._timed(lambda: self.incident.act(action))
        self._say(ok, f"{label}: {message}" if ok else f"cannot {label.lower()}: {message}")
        self.refresh()
        return ok, message

    def restart(self) -> None:
        """Start the same incident again (same scenario, parameters and seed)."""
        self.incident = Incident(self.scenario, self.params, self.seed)
        self._card = None
        self._say(None, "restarted: a fresh copy of the incident, same seed")
        self.refresh()

    def refresh(self) -> None:
        """Redraw every part of the console from the engine's state."""
        incident, model, view = self.incident, self.incident.model, self.view
        view.clock.value = clock_html(model.now, model.horizon_s, model.world.clock_start_s)
        over = incident.finished
        for button in (view.advance_1, view.advance_10, view.run_end):
            button.disabled = over
        for name, reason in incident.available().items():
            button = view.actions[name]
            button.disabled = reason is not None
            button.tooltip = action_tooltip(model.actions[name], model.params, reason)
        view.log.value = log_html(incident.log)
        view.plan.value = self.plan_line
        card = self.score_card()
        view.score.value = PENDING_SCORE if card is None else score_html(card)
        self._draw()

    # -- reading ---------------------------------------------------------------------------
    @property
    def widget(self):
        """The top-level widget (an ``ipywidgets.VBox``)."""
        return self.view.root

    @property
    def plan_line(self) -> str:
        """The plan played so far, as one line of Python: ``PLAN = [...]``."""
        return self.incident.plan.to_python()

    @property
    def status(self) -> str:
        """What the last command did, or why it was refused (as shown, in HTML)."""
        return self.view.status.value

    def score_card(self) -> ScoreCard | None:
        """The score card once the incident is over, else None."""
        if self._card is None and self.incident.finished:
            self._card = self.incident.score_card()
        return self._card

    def insert_plan(self) -> None:
        """Put the plan line into a new cell below the cell that runs this.

        Uses IPython's ``set_next_input`` (what ``%load`` uses), which JupyterLab,
        Notebook 7 and the classic notebook all honour when a *cell* runs it (not
        from a button: see the module's docstring). Outside IPython it prints the line.
        """
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            print(self.plan_line)
        else:
            shell.set_next_input(self.plan_line, replace=False)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """Show the widget in a notebook; a text line where no widgets can be shown."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (
            f"Incident commander console for {self.scenario!r} (seed {self.seed}) at "
            f"{self.incident.clock}: {len(self.incident.plan)} action(s) taken. "
            "It needs a live Jupyter frontend to show its buttons."
        )
        return bundle

    def __repr__(self) -> str:
        return f"Console({self.scenario!r}, seed={self.seed}) at {self.incident.clock}"

    # -- internals -------------------------------------------------------------------------
    def _wire(self) -> None:
        """Connect each button to the public method it stands for."""
        view = self.view
        view.advance_1.on_click(self._callback(self.advance, 1))
        view.advance_10.on_click(self._callback(self.advance, 10))
        view.run_end.on_click(self._callback(self.run_to_end))
        view.restart.on_click(self._callback(self.restart))
        for name, button in view.actions.items():
            button.on_click(self._callback(self.take, name))

    def _callback(self, method: Callable, *args: Any) -> Callable:
        """A click handler that calls ``method(*args)`` and shows any error in the console.

        A callback's exception would otherwise only reach JupyterLab's log panel,
        which learners rarely open.
        """

        def on_click(_button) -> None:
            try:
                method(*args)
            except Exception as exc:
                self._say(False, f"error: {type(exc).__name__}: {exc}")
                raise

        return on_click

    def _say(self, ok: bool | None, text: str) -> None:
        self.view.status.value = status_html(ok, text)

    def _timed(self, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = step()
        self.timings["engine_s"] = time.perf_counter() - start
        return value

    def _draw(self) -> None:
        """Redraw the dashboard picture up to now.

        The figure comes from :func:`simkit.plots.dashboard`, built with matplotlib's
        object API (no pyplot), so nothing is left open when the picture is made; it
        is rendered with the Agg renderer into PNG bytes for an ``Image`` widget,
        which swaps its picture in place (no flicker, no growing output).
        """
        from ..plots import dashboard, png_bytes

        start = time.perf_counter()
        model = self.incident.model
        figure = dashboard(self.incident.result(), panels=model.panels, until_s=model.now)
        self.view.dashboard.value = png_bytes(figure, dpi=self.dpi)
        figure.clear()
        self.timings["draw_s"] = time.perf_counter() - start
