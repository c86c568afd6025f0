"""The incident-commander console: play an incident from a notebook, in one screen.

::

    from simkit.commander.console import Console
    console = Console("dynamodb-2015", seed=0)
    console                      # shows the console under the cell

The console is a thin front end over :class:`simkit.commander.engine.Incident`. Every
control calls one public method of :class:`Console` (:meth:`~Console.play`,
:meth:`~Console.pause`, :meth:`~Console.advance`, :meth:`~Console.take`,
:meth:`~Console.undo`, :meth:`~Console.replay`, ...), each of which calls the engine and
then :meth:`~Console.refresh`, which redraws the console from the engine's state. No
rule of the game lives in a callback, so a test (or a notebook without a browser) can
drive the console exactly as a click would, and the plan it ends with scores the same
in the grader.

**Time runs by itself** while playing: :class:`~simkit.commander.player.Player` runs
:meth:`Console.frame` on the kernel's event loop, a few ticks per frame at the chosen
speed; clicks are handled between frames, so the engine still acts only between ticks.
Where no event loop runs (a plain script), :meth:`Console.frame` is called by hand.

**The debrief** runs when the incident is over, in a worker thread (its variants in
worker processes), so the kernel keeps handling clicks meanwhile; the card shows it
when it is ready. Without an event loop it runs at once.

:meth:`Console.insert_plan`, run in a cell of its own, puts the plan line into a new
cell below: a button cannot do that, because a click reaches the kernel as a widget
message, and Jupyter only inserts cells in reply to a cell being run.
"""

from __future__ import annotations

import functools
import time
import weakref
from typing import Any, Callable, ClassVar

from ..actions import ActionRecord
from ..params import Params
from ..plan import Plan
from ..rubric import ScoreCard
from .console_text import (
    alarm_html,
    card_html,
    clock_html,
    meter_html,
    pending_html,
    record_html,
    rubric_html,
    speed_label,
    status_html,
)
from .console_view import CHART_SIZE_PX, ConsoleView
from .debrief import debrief
from .engine import Incident
from .headline import HeadlineChart
from .player import Player, frame_plan, in_background

__all__ = ["Console"]

#: While playing, the full dashboard (a slow picture) is redrawn at most this often.
DASHBOARD_EVERY_S = 2.0


class Console:
    """An ipywidgets console for one incident: clock, play, actions, charts, log, score, plan.

    ``scenario`` is a scenario name (see :func:`simkit.scenarios.names`), ``params`` its
    Params or a dict of overrides, ``seed`` the random seed. ``pause_on_page`` stops
    play when the on-call engineer is paged, so the alarm is a moment to decide;
    ``debrief`` runs the debrief when the incident is over; ``dpi`` sets the
    resolution of the pictures.

    Show it with ``display(console)`` or by ending a cell with ``console``. Only one
    console of a kernel plays at a time: playing one (or making a new one, as re-running
    its cell does) pauses the others, so a console left behind never plays on unseen.
    """

    _all: ClassVar[weakref.WeakSet] = weakref.WeakSet()

    def __init__(
        self,
        scenario: str,
        params: Params | dict | None = None,
        seed: int = 0,
        *,
        pause_on_page: bool = True,
        debrief: bool = True,
        dpi: float = 100,
    ) -> None:
        self.scenario = scenario
        self.params = params
        self.seed = seed
        self.pause_on_page = pause_on_page
        self.debrief_enabled = debrief
        self.dpi = dpi
        self.incident = Incident(scenario, params, seed)
        model = self.incident.model
        self.settings = model.console_settings()
        self.speed = self.settings.speeds[0]
        self.view = ConsoleView.build(model, seed, self.settings, on_plan_edit=self._plan_edited)
        self.chart = HeadlineChart(self.settings, horizon_s=model.horizon_s, clock_start_s=model.world.clock_start_s,
                                   stamp=self._stamp, width_px=CHART_SIZE_PX[0], height_px=CHART_SIZE_PX[1], dpi=dpi)
        self.player = Player(self.frame, self._frame_interval, on_error=self._failed)
        #: Wall-clock seconds of the last update, for benchmarks (never used by the game):
        #: ``engine_s`` (simulating), ``chart_s`` (headline charts), ``refresh_s`` (the whole redraw).
        self.timings: dict[str, float] = {}
        self._card: ScoreCard | None = None
        self._debrief_state = "off"
        self._generation = 0
        self._followed: ActionRecord | None = None
        self._note: tuple[str | None, str] = (None, "")
        self._dashboard_at = 0.0
        self._wire()
        self.view.score.value = rubric_html(model.rubric)
        self._pause_others()
        Console._all.add(self)
        self.refresh()

    # -- time ------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """True while time runs by itself."""
        return self.player.playing

    def play(self) -> None:
        """Let time run by itself at :attr:`speed` until paused, paged or over."""
        if self.incident.finished:
            self._say(None, "the incident is over: Restart, or replay an edited plan")
            return
        self._pause_others()
        runs = self.player.start()
        tail = "" if runs else " (no event loop here: call console.frame() to advance)"
        self._say(None, f"playing at {speed_label(self.speed)}; space or ‖ Pause to stop{tail}")
        self.refresh()

    def pause(self) -> None:
        """Stop time; nothing moves until you play or step again."""
        was = self.player.playing
        self.player.stop()
        if was:
            self._say(None, f"paused at {self.incident.clock}")
        self.refresh()

    def toggle_play(self) -> None:
        """Pause if playing, else play (the play button and the space bar)."""
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` simulated seconds per wall-clock second (one of the scenario's speeds)."""
        if speed not in self.settings.speeds:
            allowed = ", ".join(f"{s:g}" for s in self.settings.speeds)
            raise ValueError(f"speed = {speed!r} is not allowed: choose one of {allowed} (simulated s per s)")
        self.speed = float(speed)
        if self.view.speed.value != self.speed:
            self.view.speed.value = self.speed

    def frame(self) -> bool:
        """One frame of play: advance a frame's worth of ticks, then redraw.

        Returns False when play must stop: the incident is over, or (with
        ``pause_on_page``) the on-call engineer has just been paged."""
        if self.incident.finished:
            return False
        ticks, _ = frame_plan(self.speed, self.incident.model.tick_s)
        was_paged = self.incident.model.paged
        self._timed("engine_s", lambda: self.incident.tick(ticks))
        paged_now = self.pause_on_page and not was_paged and self.incident.model.paged
        stop = self.incident.finished or paged_now
        if stop:
            self.player.stop()
        if paged_now:
            self._say(None, "⚠ you are paged: play paused so you can decide. ▶ Play (or space) goes on")
        self.refresh()
        return not stop

    def advance(self, n: int = 1) -> None:
        """Advance the clock by ``n`` ticks, then redraw."""
        if self.incident.finished:
            self._say(None, "the incident is over: nothing left to advance")
            return
        self._timed("engine_s", lambda: self.incident.tick(n))
        self.refresh()

    def run_to_end(self) -> None:
        """Play the rest of the incident at once, then show the score card."""
        self.player.stop()
        self._timed("engine_s", self.incident.run_to_end)
        self.refresh()

    # -- actions -----------------------------------------------------------------------------
    def take(self, action: str) -> tuple[bool, str]:
        """Try ``action`` now; the status line follows what becomes of it. Returns the
        engine's ``(accepted, message)``."""
        before = len(self.incident.records)
        ok, message = self._timed("engine_s", lambda: self.incident.act(action))
        if len(self.incident.records) > before:
            self._followed = self.incident.records[-1]
        else:  # not even tried: an unknown name, or the plan is full
            self._say("refused", f"cannot {action!r}: {message}")
        self.refresh()
        return ok, message

    def undo(self) -> None:
        """Take back your last action: the incident is played again without it, up to now."""
        self.player.stop()
        step = self.incident.undo()
        if step is None:
            self._say(None, "nothing to undo: no action taken yet")
        else:
            label = self._label(step.action)
            self._past_changed(f"took back {label} ({self._stamp(self.incident.step_time_s(step))}): replayed without it up to "
                               f"{self.incident.clock}")
        self.refresh()

    def replay(self, plan: Plan | list | str | None = None) -> bool:
        """Play ``plan`` (default: the plan table, as edited) again from the start, up to
        where the clock is, or to its last step if that is later. Returns False, with the
        reason on the status line, if the plan cannot be played."""
        self.player.stop()
        try:
            plan = (self.view.plan_table.plan(self.incident.model.world) if plan is None
                    else Plan.coerce(plan, self.incident.model))
            world = self.incident.model.world
            last = max((s.minutes(world.clock_start_s) * 60.0 for s in plan.steps), default=0.0)
            started = time.perf_counter()
            self.incident.replay(plan, until_s=max(self.incident.model.now, last))
        except ValueError as problem:
            self._say("refused", f"cannot replay: {problem}")
            self.refresh()
            return False
        self._past_changed(f"replayed your plan from the start up to {self.incident.clock} "
                           f"({time.perf_counter() - started:.1f} s)")
        self.refresh()
        return True

    def restart(self) -> None:
        """Start the same incident again (same scenario, parameters and seed)."""
        self.player.stop()
        self.incident = Incident(self.scenario, self.params, self.seed)
        self._past_changed("restarted: a fresh copy of the incident, same seed")
        self.refresh()

    # -- reading -----------------------------------------------------------------------------
    @property
    def widget(self):
        """The top-level widget (an ``ipywidgets.VBox``)."""
        return self.view.root

    @property
    def plan_line(self) -> str:
        """The plan played so far, as one line of Python: ``PLAN = [...]``, times as the clock reads them."""
        return self.incident.clock_plan().to_python()

    @property
    def status(self) -> str:
        """The status line as shown (HTML): what the last command did, or why not."""
        return self.view.status.value

    def score_so_far(self) -> ScoreCard:
        """The rubric's verdict if the incident ended now (the score meter shows this)."""
        return self._card or self.incident.model.score_card()

    def score_card(self) -> ScoreCard | None:
        """The final score card once the incident is over (with the debrief when it is
        ready), else None."""
        if self._card is None and self.incident.finished:
            self._finish()
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

    # -- drawing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every part of the console from the engine's state."""
        started = time.perf_counter()
        incident, model, view = self.incident, self.incident.model, self.view
        if incident.finished and self._card is None:
            self._finish()
        view.clock.value = clock_html(incident.clock, model.now, model.horizon_s)
        view.alarm.value = alarm_html(model.page_s, self._page_label(), model.page_rule, self._stamp)
        view.status.value = (record_html(self._followed, model.now, self._stamp) if self._followed is not None
                             else status_html(*self._note))
        view.show_controls(incident, self.playing)
        view.pending.value = pending_html(incident.records, model.now, self._stamp)
        view.show_log(incident)
        view.show_plan(incident, self._generation, self.plan_line)
        view.meter.value = meter_html(self.score_so_far(), final=self._card is not None)
        self._timed("chart_s", self._draw_chart)
        if view.tab == "Full dashboard" and (not self.playing or time.monotonic() - self._dashboard_at > DASHBOARD_EVERY_S):
            view.show_dashboard(incident, self.dpi * 0.8)
            self._dashboard_at = time.monotonic()
        self.timings["refresh_s"] = time.perf_counter() - started

    def _draw_chart(self) -> None:
        model = self.incident.model
        series = model.world.metrics.series()
        series.update(model.extra_series())
        self.view.headline.value = self.chart.render(model.now, model.world.metrics.times(), series,
                                                     model.world.timeline.events)

    # -- the end and the debrief ---------------------------------------------------------------
    def _finish(self) -> None:
        """The incident is over: the final card, the debrief, and the Score card tab."""
        self.player.stop()
        self._card = self.incident.model.score_card()
        self._start_debrief()
        self.view.score.value = card_html(self._card, self._debrief_state, self._stamp)
        self.view.show_tab("Score card")

    def _start_debrief(self) -> None:
        """Replay variants of the plan (:func:`simkit.commander.debrief.debrief`) in the
        background; the card shows the lines when they come, unless the incident was
        restarted or replayed meanwhile."""
        if not self.debrief_enabled:
            self._debrief_state = "off"
            return
        card, generation = self._card, self._generation
        job = functools.partial(debrief, self.scenario, Plan(list(self.incident.plan.steps)),
                                params=self.params, seed=self.seed, card=card)

        def done(lines: list[str]) -> None:
            if generation == self._generation:
                card.debrief = lines
                self._debrief_state = "done"
                self.view.score.value = card_html(card, "done", self._stamp)

        self._debrief_state = "waiting"
        in_background(job, done)

    # -- internals -----------------------------------------------------------------------------
    def _past_changed(self, message: str) -> None:
        """The incident was restarted or replayed: forget its card and its status."""
        self._generation += 1
        self._card = None
        self._debrief_state = "off"
        self._followed = None
        self.view.forget_shown()
        self.view.score.value = rubric_html(self.incident.model.rubric)
        self._say(None, message)

    def _plan_edited(self) -> None:
        self.player.stop()
        self.refresh()

    def _add_step(self) -> None:
        self.view.plan_table.add_row(self.incident.clock, next(iter(self.incident.model.actions)))

    def _discard(self) -> None:
        self.view.forget_shown()
        self.refresh()

    def _pause_others(self) -> None:
        for other in list(Console._all):
            if other is not self and other.playing:
                other.pause()

    def _stamp(self, t_s: float) -> str:
        return self.incident.model.world.stamp(t_s)

    def _label(self, action: str) -> str:
        spec = self.incident.model.actions.get(action)
        return f"{spec.label} [{action}]" if spec else repr(action)

    def _page_label(self) -> str:
        return next((w.label for w in self.incident.model.watches if w.page), "")

    def _frame_interval(self) -> float:
        return frame_plan(self.speed, self.incident.model.tick_s)[1]

    def _say(self, state: str | None, text: str) -> None:
        """Show ``text`` on the status line (it stops following an action's record)."""
        self._followed = None
        self._note = (state, text)
        self.view.status.value = status_html(state, text)

    def _failed(self, exc: BaseException) -> None:
        self._say("failed", f"error while playing: {type(exc).__name__}: {exc}")
        self.refresh()

    def _timed(self, key: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = step()
        self.timings[key] = time.perf_counter() - start
        return value

    def _wire(self) -> None:
        """Connect each control to the public method it stands for."""
        view = self.view
        view.play.on_click(self._callback(self.toggle_play))
        view.speed.observe(lambda change: self._callback(self.set_speed, change["new"])(None), names="value")
        view.advance_1.on_click(self._callback(self.advance, 1))
        view.advance_10.on_click(self._callback(self.advance, 10))
        view.run_end.on_click(self._callback(self.run_to_end))
        view.undo.on_click(self._callback(self.undo))
        view.restart.on_click(self._callback(self.restart))
        view.replay.on_click(self._callback(self.replay))
        view.add_step.on_click(self._callback(self._add_step))
        view.discard.on_click(self._callback(self._discard))
        view.tabs.observe(lambda _change: self._callback(self.refresh)(None), names="selected_index")
        for name, button in view.actions.items():
            button.on_click(self._callback(self.take, name))

    def _callback(self, method: Callable, *args: Any) -> Callable:
        """A handler that calls ``method(*args)`` and shows any error in the console.

        A callback's exception would otherwise only reach JupyterLab's log panel,
        which learners rarely open."""

        def handler(_widget) -> None:
            try:
                method(*args)
            except Exception as exc:
                self._say("failed", f"error: {type(exc).__name__}: {exc}")
                raise

        return handler
