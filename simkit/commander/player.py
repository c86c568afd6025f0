"""Time that runs by itself: the console's play loop, run by the kernel's own event loop.

A Jupyter kernel (ipykernel) handles widget messages on an :mod:`asyncio` event loop
in its main thread. :class:`Player` starts a task on that loop that calls a *frame*
function (advance the clock a few ticks, redraw), then sleeps until the next frame is
due. The sleep hands the loop back to the kernel, so a click (pause, an action) is
handled between two frames, never in the middle of one: the engine still acts only
between ticks, and a game played this way replays bit for bit as a plan.

Pacing comes from the simulation, not from the browser: a frame that takes longer than
its interval delays the next one (the game slows down) instead of piling up
messages, and pausing takes effect at once because the sleeping task is cancelled.

Where no event loop runs (a plain script, most tests), :meth:`Player.start` reports
that nothing will run by itself; the caller then drives frames by hand, calling the
same frame function. A test can also run the real loop with :func:`asyncio.run`.

:func:`in_background` is the same idea for one long job (the debrief): a worker thread
does it while the loop keeps serving clicks, and the result is shown from the loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, TypeVar

T = TypeVar("T")

__all__ = ["Player", "frame_plan", "in_background", "TARGET_FRAME_S", "MIN_GAP_S"]

#: The wall-clock time a frame aims at: about four redraws a second.
TARGET_FRAME_S = 0.25
#: The least time between frames, so the browser and the kernel's messages keep up.
MIN_GAP_S = 0.03


def frame_plan(speed: float, tick_s: float, target_s: float = TARGET_FRAME_S) -> tuple[int, float]:
    """``(ticks per frame, seconds between frames)`` to play at ``speed`` simulated seconds
    per wall-clock second: whole ticks only (the engine acts between ticks), about
    ``target_s`` per frame, at least one tick."""
    if not speed > 0 or not tick_s > 0:
        raise ValueError(f"speed = {speed!r} and tick_s = {tick_s!r} are not allowed: both must be > 0")
    ticks = max(1, round(speed * target_s / tick_s))
    return ticks, ticks * tick_s / speed


class Player:
    """Calls ``frame()`` again and again while playing, ``interval()`` seconds apart.

    ``frame`` returns False when play must stop (the incident is over, the engineer was
    paged); ``on_error`` is told about an exception raised by a frame (play stops).
    """

    def __init__(
        self,
        frame: Callable[[], bool],
        interval: Callable[[], float],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._frame = frame
        self._interval = interval
        self._on_error = on_error
        self._task: asyncio.Task | None = None
        self.playing = False

    @property
    def runs_by_itself(self) -> bool:
        """True while a task on an event loop is playing frames."""
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Start playing. True if frames now run by themselves (an event loop runs in
        this thread, as in a Jupyter kernel); False if the caller must call the frame
        function itself."""
        self.playing = True
        if self.runs_by_itself:
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._task = loop.create_task(self._run())
        return True

    def stop(self) -> None:
        """Stop playing; a frame in progress finishes, no further frame starts."""
        self.playing = False
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not _current_task():
            task.cancel()

    async def _run(self) -> None:
        me = _current_task()
        try:
            while self.playing and self._task is me:
                started = time.perf_counter()
                if not self._frame():
                    self.playing = False
                    break
                spent = time.perf_counter() - started
                await asyncio.sleep(max(MIN_GAP_S, self._interval() - spent))
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # shown in the console, not lost in a log
            self.playing = False
            if self._on_error is not None:
                self._on_error(exc)
        finally:
            if self._task is me:
                self._task = None


def in_background(job: Callable[[], T], done: Callable[[T], None]) -> bool:
    """Run ``job()`` in a worker thread and call ``done(result)`` back on the event loop,
    so the kernel keeps handling clicks meanwhile. Without a running event loop, run it
    now and call ``done`` at once. Returns True if the job went to the background.

    An exception raised by ``job`` reaches ``done`` as a one-line message in a list
    (``["... could not run: ..."]``) rather than vanishing in a background task."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        done(job())
        return False

    async def wait() -> None:
        try:
            result = await loop.run_in_executor(None, job)
        except Exception as exc:  # pragma: no cover - reported, not raised, in a background task
            result = [f"could not run: {type(exc).__name__}: {exc}"]
        done(result)

    loop.create_task(wait())
    return True


def _current_task() -> asyncio.Task | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
