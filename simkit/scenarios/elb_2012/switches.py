"""The operators' switches for the control-plane workflows.

Two kinds of workflow can be switched separately: ``"customer"`` (customers'
configuration changes) and ``"scaling"`` (automatic scale-up and scale-down). Each
kind is on for a *share* of the load balancers, chosen by cohort: a load balancer
belongs to cohort ``lb_id % 100``, and a share of 0.3 means cohorts 0-29. Off is share
0, on is share 1. A gradual re-enable is a *ramp*: from the moment it starts, the
share grows linearly to 1 over ``ramp_h`` hours, so the work queued while the
workflows were off comes back a few cohorts at a time.
"""

from __future__ import annotations

import math

__all__ = ["KINDS", "WorkflowSwitches"]

#: The kinds of workflow the operator can switch separately.
KINDS = ("customer", "scaling")

#: How many cohorts the load balancers are split into.
COHORTS = 100


class WorkflowSwitches:
    """Which workflows run on which load balancers, and any ramp under way."""

    def __init__(self, ramp_h: float) -> None:
        self.ramp_s = ramp_h * 3600.0
        self._share = {kind: 1.0 for kind in KINDS}
        self._ramp_from: dict[str, tuple[float, float] | None] = {kind: None for kind in KINDS}

    # -- reading -----------------------------------------------------------------------
    def share(self, kind: str, t_s: float) -> float:
        """Share of load balancers on which workflows of ``kind`` run at time ``t_s``."""
        ramp = self._ramp_from[kind]
        if ramp is None:
            return self._share[kind]
        start_s, start_share = ramp
        return min(1.0, start_share + (t_s - start_s) / self.ramp_s)

    def enabled_for(self, kind: str, lb_id: int, t_s: float) -> bool:
        """Does a workflow of ``kind`` run on load balancer ``lb_id`` at ``t_s``?"""
        share = self.share(kind, t_s)
        return share >= 1.0 or (lb_id % COHORTS) < share * COHORTS

    def enabled_cohorts(self, kind: str, t_s: float) -> int:
        """How many cohorts (from cohort 0 up) run workflows of ``kind`` at ``t_s``."""
        share = self.share(kind, t_s)
        return COHORTS if share >= 1.0 else math.ceil(share * COHORTS)

    def is_on(self, kind: str) -> bool:
        """Fully on, no ramp under way."""
        return self._share[kind] >= 1.0 and self._ramp_from[kind] is None

    def is_off(self, kind: str) -> bool:
        """Fully off, no ramp under way."""
        return self._share[kind] <= 0.0 and self._ramp_from[kind] is None

    def is_ramping(self, kind: str) -> bool:
        return self._ramp_from[kind] is not None

    @property
    def all_on(self) -> bool:
        return all(self.is_on(kind) for kind in KINDS)

    @property
    def all_off(self) -> bool:
        return all(self.is_off(kind) for kind in KINDS)

    @property
    def ramp_covers_all(self) -> bool:
        """Every kind is either on or coming back on a ramp."""
        return all(self.is_on(kind) or self.is_ramping(kind) for kind in KINDS)

    @property
    def none_switched_off(self) -> bool:
        """No kind is fully off (a ramp under way counts as on: it is the careful way back)."""
        return all(not self.is_off(kind) for kind in KINDS)

    # -- switching -------------------------------------------------------------------------
    def disable(self, kinds: tuple[str, ...]) -> None:
        """Switch ``kinds`` off on every load balancer, ending any ramp."""
        for kind in kinds:
            self._share[kind], self._ramp_from[kind] = 0.0, None

    def enable_all(self) -> None:
        """Switch every kind on everywhere, now."""
        for kind in KINDS:
            self._share[kind], self._ramp_from[kind] = 1.0, None

    def start_ramp(self, t_s: float) -> list[str]:
        """Start a ramp for every kind that is not on and not ramping; the kinds started."""
        started = []
        for kind in KINDS:
            if not self.is_on(kind) and not self.is_ramping(kind):
                self._ramp_from[kind] = (t_s, self._share[kind])
                started.append(kind)
        return started

    def finish_ramps(self, t_s: float) -> bool:
        """End the ramps that have reached every load balancer; True if the last one just ended."""
        finished = False
        for kind in KINDS:
            if self.is_ramping(kind) and self.share(kind, t_s) >= 1.0:
                self._share[kind], self._ramp_from[kind] = 1.0, None
                finished = True
        return finished and self.all_on
