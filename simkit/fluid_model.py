"""The inside of the fluid lens (:mod:`simkit.fluid`): the compartments and one time step.

Read :mod:`simkit.fluid` first: it says what the model keeps and what it leaves
out. This module holds the state of every cell of a grid as NumPy arrays and
advances them together, one step of ``dt`` seconds at a time.
"""

from __future__ import annotations

import numpy as np

from .fluid import FluidRun
from .scenarios.retry_storm import Params

__all__ = ["FluidModel", "busy_share_table"]

#: The largest ring buffer (cells x steps x attempt numbers) the model may allocate.
_MAX_BUFFER_CELLS = 40_000_000

#: The recovery test: the share of customers failing over the final window must be below this...
_RECOVERED_BELOW = 0.05
#: ...a window this long (s), ending where the last calls to judge have settled.
_JUDGE_S = 5.0
#: A cell has settled when no part of its state moved by more than this (relative) in one check.
_SETTLED = 1e-7


def busy_share_table(workers: int) -> tuple[np.ndarray, np.ndarray]:
    """How busy the workers are, on average, when a given number of requests is in the service.

    This is the *pointwise stationary* closure of a fluid queue (Wang, Tipper and
    others): in an M/M/c queue at utilisation rho, the mean number of requests in the
    service is ``L(rho) = c rho + P_wait rho / (1 - rho)`` (Erlang C); read backwards, a
    service holding ``L`` requests keeps a share ``rho`` of its workers busy. So the
    fluid queue does not vanish below capacity, it holds what a random queue holds on
    average, and it fills up over time as load nears capacity, as a real one does.
    Returns (requests in the service, busy share), increasing, for ``np.interp``."""
    rho = 1.0 - np.geomspace(1.0, 1e-6, 400)
    a = rho * workers
    # Erlang C by the stable recurrence on Erlang B: B(0) = 1, B(k) = a B / (k + a B)
    erlang_b = np.ones_like(a)
    for k in range(1, workers + 1):
        erlang_b = a * erlang_b / (k + a * erlang_b)
    p_wait = erlang_b / (1.0 - rho * (1.0 - erlang_b))
    in_system = a + p_wait * rho / (1.0 - rho)
    return in_system, rho


class FluidModel:
    """The state of every cell, advanced one step at a time (see the module docstring).

    Attempt numbers are 0 (first try) to ``max_retries``; per-cell arrays have the
    cell as their last axis. The ring buffers remember, for the last ``memory``
    steps, how much of each attempt number was admitted, and the running
    log-survival ``log_keep`` (the log of the share of any request in the service
    not yet finished), so the part of an old admission still in the service is
    ``admitted x exp(log_keep_now - log_keep_then)``: random order treats every
    request alike.

    Cells whose state has stopped changing after their spike (back to healthy, or
    settled in the collapsed equilibrium) are taken out of the arrays, so the run
    speeds up as the grid settles; their figures are read off at that moment.
    """

    #: the per-cell arrays, as (attribute, axis of the cell); compaction slices them all
    _CELL_ARRAYS = (("base", 0), ("factor", 0), ("spike_start", 0), ("spike_end", 0), ("cell_index", 0),
                    ("admitted_log", 2), ("keep_log", 1), ("log_keep", 0), ("live", 1), ("dead", 0),
                    ("tokens", 0), ("due", 2), ("waiting", 1), ("last_state", 1),
                    ("step_before", 1))

    def __init__(self, p: Params, arrays: dict[str, np.ndarray], dt: float) -> None:
        self.p, self.dt = p, dt
        self.shape = arrays["base_load_rps"].shape
        cells = int(np.prod(self.shape)) if self.shape else 1
        self.cells = cells
        flat = {name: a.reshape(cells) for name, a in arrays.items()}
        self.base, self.factor = flat["base_load_rps"], flat["spike_factor"]
        self.spike_start, self.spike_end = flat["spike_start_s"], flat["spike_start_s"] + flat["spike_duration_s"]
        self.cell_index = np.arange(cells)
        self.k = p.max_retries if p.retry_policy != "none" else 0
        self.capacity = p.workers / p.mean_service_s * dt  # requests finished per step, all workers busy
        self.busy_table = busy_share_table(p.workers)
        self.in_system_limit = p.queue_limit + p.workers
        # a request must be done this many steps after arriving, or its caller has gone
        self.n_live = max(1, int(round(p.timeout_s / dt)))
        self.n_deadline = int(round(p.queue_deadline_s / dt)) if p.queue_deadline_s > 0 else 0
        self.sheds_live = bool(self.n_deadline) and self.n_deadline < self.n_live
        memory = max(self.n_live, self.n_deadline) + 1
        if memory * cells * (self.k + 2) > _MAX_BUFFER_CELLS:
            raise ValueError(f"the fluid model would need too much memory for {cells} cells: reduce the grid, "
                             "or the ratio of queue_deadline_s (or timeout_s) to the time step")
        self.memory = memory
        self.admitted_log = np.zeros((memory, self.k + 1, cells))  # admissions per step and attempt number
        self.keep_log = np.zeros((memory, cells))  # log-survival before each step
        self.log_keep = np.zeros(cells)
        self.live = np.zeros((self.k + 1, cells))  # in the service, caller still waiting, by attempt number
        self.dead = np.zeros(cells)  # in the service, caller gone
        self.tokens = np.full(cells, 10.0)  # the retry budget's bucket (used by "budget" only)
        self.last_state = np.zeros((6, cells))  # at the previous check
        self.step_before = np.zeros((6, cells))  # one step before this check
        self._retry_delays()

    # -- retries: when an attempt that failed is tried again --------------------------------
    def _retry_delays(self) -> None:
        """Per attempt number, the fixed part of the wait before its retry (in steps) and the
        mean of its exponentially spread part (seconds)."""
        p, k = self.p, self.k
        fixed = np.zeros(k + 1)
        spread = np.zeros(k + 1)
        if p.retry_policy == "backoff":
            previous = p.backoff_base_s
            for n in range(k):
                ceiling = min(p.backoff_cap_s, p.backoff_base_s * 2 ** n)
                if p.backoff_jitter == "none":
                    fixed[n] = ceiling
                elif p.backoff_jitter == "full":
                    spread[n] = ceiling / 2
                elif p.backoff_jitter == "equal":
                    fixed[n], spread[n] = ceiling / 2, ceiling / 4
                else:  # decorrelated: the mean of min(cap, uniform(base, 3 x previous))
                    previous = min(p.backoff_cap_s, (p.backoff_base_s + 3 * previous) / 2)
                    spread[n] = previous
        self.fixed_steps = np.rint(fixed / self.dt).astype(int)
        self.spread_s = spread
        # retries due in a future step, by the attempt number they will be
        self.due = np.zeros((int(self.fixed_steps.max()) + 2, k + 1, self.cells))
        # retries in their exponential wait, by the attempt number they will be
        self.waiting = np.zeros((k + 1, self.cells))
        self.leave_share = np.minimum(1.0, self.dt / np.maximum(spread, self.dt))[:, None]
        self.spread_rows = spread > 0
        self.longest_call_s = self.p.timeout_s * (k + 1) + float(fixed.sum() + 3 * spread.sum())

    def _schedule(self, step: int, failed: np.ndarray) -> None:
        """Failed attempts 0..k-1 come back as attempts 1..k: after the fixed part of the
        backoff, then (for jitter) an exponential wait."""
        for n in range(self.k):
            delay = max(1, int(self.fixed_steps[n]))
            self.due[(step + delay) % len(self.due), n + 1] += failed[n]

    def _retries_arriving(self, step: int) -> np.ndarray:
        """The retries that reach the service in this step, by attempt number."""
        slot = step % len(self.due)
        due = self.due[slot].copy()
        self.due[slot] = 0.0
        if not self.spread_rows.any():
            return due
        spread = self.spread_rows
        self.waiting[spread] += due[spread]
        due[spread] = 0.0
        leaving = self.waiting * self.leave_share
        self.waiting -= leaving
        return due + leaving

    # -- one run ---------------------------------------------------------------------------------
    def run(self) -> FluidRun:
        p, dt = self.p, self.dt
        steps = int(round(p.horizon_s / dt))
        window = max(1, int(round(min(60.0, p.horizon_s / 2) / dt)))
        # judge recovery like the discrete model: over the last seconds whose calls have settled
        judge_to = max(1, steps - int(round(self.longest_call_s / dt)))
        judge_from = max(0, judge_to - max(1, int(round(_JUDGE_S / dt))))
        out = {name: np.full(self.cells, np.nan) for name in
               ("useful", "offered", "attempts", "queue", "judged_offered", "judged_failed")}
        sums = {name: np.zeros(self.cells) for name in out}
        check_every = self.n_live + int(self.fixed_steps.max(initial=0)) + 1
        for step in range(steps):
            useful, offered, attempts, failed = self._step(step)
            if step >= steps - window:
                sums["useful"][self.cell_index] += useful
                sums["offered"][self.cell_index] += offered
                sums["attempts"][self.cell_index] += attempts
                sums["queue"][self.cell_index] += self._waiting_queue()
            if judge_from <= step < judge_to:
                sums["judged_offered"][self.cell_index] += offered
                sums["judged_failed"][self.cell_index] += failed
            if step % check_every == 0:
                self.step_before = self._state(useful, attempts)
            elif step % check_every == 1:
                self._retire_settled(step, out, useful, offered, attempts, failed)
                if len(self.cell_index) == 0:
                    break
        still = self.cell_index
        for name in out:
            out[name][still] = sums[name][still]
        scale = {"useful": window, "offered": window, "attempts": window, "queue": window}
        with np.errstate(invalid="ignore", divide="ignore"):
            for name, n in scale.items():
                out[name][still] /= n
            error = np.where(out["judged_offered"] > 0, out["judged_failed"] / out["judged_offered"], 0.0)
            error_end = np.where(out["offered"] > 0, 1 - out["useful"] / out["offered"], 0.0)
        shape = self.shape
        return FluidRun(
            recovered=(error < _RECOVERED_BELOW).reshape(shape),
            goodput_end_rps=(out["useful"] / dt).reshape(shape),
            offered_end_rps=(out["offered"] / dt).reshape(shape),
            attempts_end_rps=(out["attempts"] / dt).reshape(shape),
            queue_end=out["queue"].reshape(shape),
            error_rate_end=np.clip(error_end, 0.0, 1.0).reshape(shape),
            dt_s=dt,
        )

    def _waiting_queue(self) -> np.ndarray:
        """Requests waiting for a worker (the discrete model's ``queue_length``)."""
        in_system = self.live.sum(axis=0) + self.dead
        return np.maximum(0.0, in_system - self.p.workers * self._busy_share(in_system))

    def _state(self, useful: np.ndarray, attempts: np.ndarray) -> np.ndarray:
        """What must stand still for a cell to have settled: its compartments and flows."""
        return np.stack([self.live.sum(axis=0), self.dead, self.waiting.sum(axis=0) + self.due.sum(axis=(0, 1)),
                         useful, attempts, self.tokens])

    def _retire_settled(self, step, out, useful, offered, attempts, failed) -> None:
        """Take out the cells whose spike and its retries are over and whose state has stood
        still both over the last step and since the last check (a fixed point, not a cycle);
        their per-step flows are their final figures."""
        state = self._state(useful, attempts)
        scale = _SETTLED * (1.0 + np.abs(state).max(axis=0))
        still = (np.abs(state - self.step_before).max(axis=0) <= scale) & \
            (np.abs(state - self.last_state).max(axis=0) <= scale)
        calm = step * self.dt > self.spike_end + self.longest_call_s
        settled = calm & still
        self.last_state = state
        if not settled.any():
            return
        cells = self.cell_index[settled]
        out["useful"][cells], out["offered"][cells] = useful[settled], offered[settled]
        out["attempts"][cells], out["queue"][cells] = attempts[settled], self._waiting_queue()[settled]
        out["judged_offered"][cells], out["judged_failed"][cells] = offered[settled], failed[settled]
        keep = ~settled
        for name, axis in self._CELL_ARRAYS:
            array = getattr(self, name)
            setattr(self, name, np.compress(keep, array, axis=axis))

    def _step(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Advance every cell by one step; return (useful, offered, attempts, failed customers)."""
        p, k, dt = self.p, self.k, self.dt
        t = step * dt
        # the spike's share of this step, exactly, so that short spikes keep their size
        overlap = np.clip(np.minimum(t + dt, self.spike_end) - np.maximum(t, self.spike_start), 0.0, dt)
        offered = self.base * (dt + (self.factor - 1.0) * overlap)
        arriving = self._retries_arriving(step)
        arriving[0] += offered
        failed = np.zeros_like(offered)
        if p.retry_policy == "budget" and k:
            failed += self._spend_tokens(arriving)
        attempts = arriving.sum(axis=0)
        # admission: at most queue_limit requests wait (and one per worker is in service)
        in_system = self.live.sum(axis=0) + self.dead
        room = np.maximum(0.0, self.in_system_limit - in_system + self.capacity * self._busy_share(in_system))
        with np.errstate(invalid="ignore", divide="ignore"):
            admit_share = np.where(attempts > room, room / attempts, 1.0)
        admitted = arriving * admit_share
        turned_away = arriving - admitted
        # service in random order: every request in the service has the same chance to finish
        live = self.live + admitted
        pool = in_system + admitted.sum(axis=0)
        served = np.minimum(pool, self.capacity * self._busy_share(pool))
        with np.errstate(invalid="ignore", divide="ignore"):
            keep = np.where(pool > 0, 1.0 - served / pool, 1.0)
        useful = (live * (1.0 - keep)).sum(axis=0)
        self.live = live * keep
        self.dead *= keep
        ring = step % self.memory
        self.admitted_log[ring] = admitted
        self.keep_log[ring] = self.log_keep
        self.log_keep = self.log_keep + np.log(np.maximum(keep, 1e-300))
        expired = self._expire(step)
        self._deadline_drops(step)
        if p.retry_policy == "budget":
            self.tokens = np.minimum(10.0, self.tokens + p.budget_ratio * useful)
        failed += self._after_failures(step, expired, turned_away)
        attempts = attempts + self._burned_attempts(turned_away)
        return useful, offered, attempts, failed

    def _busy_share(self, in_system: np.ndarray) -> np.ndarray:
        """The share of the workers busy when ``in_system`` requests are in the service."""
        return np.interp(in_system, self.busy_table[0], self.busy_table[1])

    def _spend_tokens(self, arriving: np.ndarray) -> np.ndarray:
        """Budget: retries go out only while the bucket has tokens; return the calls that fail."""
        wanted = arriving[1:].sum(axis=0)
        allowed = np.minimum(wanted, self.tokens)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(wanted > 0, allowed / wanted, 1.0)
        arriving[1:] *= share
        self.tokens = self.tokens - allowed
        return wanted - allowed

    def _burned_attempts(self, turned_away: np.ndarray) -> np.ndarray:
        """Immediate retries of a turned-away attempt hit the same full queue at once: the call
        spends all its remaining retries in an instant (each counts as an attempt)."""
        if self.p.retry_policy not in ("immediate", "budget") or self.k == 0:
            return 0.0
        remaining = np.arange(self.k, -1, -1)[:, None]  # retries left after attempt n
        burned = (turned_away * remaining).sum(axis=0)
        if self.p.retry_policy == "budget":
            burned = np.minimum(burned, self.tokens)
            self.tokens = self.tokens - burned
        return burned

    def _survivors(self, step: int, age: int) -> np.ndarray:
        """How much of what was admitted ``age`` steps ago (by attempt number) is still in the service."""
        then = (step - age) % self.memory
        share = np.exp(self.log_keep - self.keep_log[then])
        return self.admitted_log[then] * share

    def _expire(self, step: int) -> np.ndarray:
        """Live requests whose caller's timeout has come turn dead (or are dropped by a shorter
        deadline first); return them by attempt number."""
        age = self.n_deadline if self.sheds_live else self.n_live
        if step < age:
            return np.zeros_like(self.live)
        expired = np.minimum(self._survivors(step, age), self.live)
        self.live = self.live - expired
        if not self.sheds_live:
            self.dead = self.dead + expired.sum(axis=0)
        return expired

    def _deadline_drops(self, step: int) -> None:
        """Dead requests that reach the server-side deadline are dropped from the queue."""
        if self.n_deadline and not self.sheds_live and step >= self.n_deadline:
            self.dead = self.dead - np.minimum(self._survivors(step, self.n_deadline).sum(axis=0), self.dead)

    def _after_failures(self, step: int, expired: np.ndarray, turned_away: np.ndarray) -> np.ndarray:
        """Retry what the policy retries; return the customers who fail for good in this step."""
        k = self.k
        failed = expired[k] + turned_away[k]  # their last attempt
        if k == 0:
            return failed
        if self.p.retry_policy in ("immediate", "budget"):
            failed = failed + turned_away[:k].sum(axis=0)  # see _burned_attempts
            self._schedule(step, expired[:k])
        else:  # backoff: a turned-away caller hears at once and backs off like after a timeout
            self._schedule(step, expired[:k] + turned_away[:k])
        return failed
