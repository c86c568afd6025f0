"""A reconciliation sweep: rebuild each record from what the load balancer really runs.

The live configuration on a load balancer's nodes is the one copy of the truth that
the deletion never touched. A sweep walks the fleet in order of id, at
``reconcile_lbs_per_h`` load balancers an hour, and calls ``reconcile_lb`` on each
(:func:`.fleet.reconcile_lb`, or the learner's own): a missing or stale record is
rebuilt from the live configuration, a damaged load balancer is pointed back at its
own nodes. No snapshot, no merge, nothing lost.

A one-off sweep compares a record with a live configuration, so both must hold still
while it runs: the operator starts it with every workflow disabled, and re-enabling
any workflow stops it where it is (:meth:`Sweep.stop`). A *continuous* sweep (the
corrective action AWS announced, parameter ``continuous_reconciliation``) is built
into the workflows themselves and starts over each time it reaches the end.
"""

from __future__ import annotations

from typing import Callable

from ...world import World
from .fleet import LoadBalancer
from .region import Region

__all__ = ["Sweep"]


class Sweep:
    """One pass (or, if ``continuous``, endless passes) of reconciliation over the region."""

    def __init__(self, world: World, region: Region, reconcile_lb: Callable[[LoadBalancer], bool],
                 lbs_per_h: float, *, continuous: bool = False) -> None:
        self.world, self.region, self.reconcile_lb = world, region, reconcile_lb
        self.per_minute = lbs_per_h / 60.0
        self.continuous = continuous
        self.running = True
        self._credit = 0.0          # load balancers the sweep may check (fractions carry over)
        self._start_pass()

    def _start_pass(self) -> None:
        self.next_index = 0
        self.rebuilt = 0
        self.repaired = 0

    def hours_left(self) -> float:
        """Hours until this pass reaches the last load balancer."""
        return (len(self.region) - self.next_index) / (self.per_minute * 60.0)

    def step(self, now: float) -> None:
        """One minute of sweeping (called every simulated minute while running)."""
        if not self.running:
            return
        self._credit += self.per_minute
        region, lbs = self.region, self.region.lbs
        while self._credit >= 1.0 and self.next_index < len(lbs):
            self._credit -= 1.0
            lb = lbs[self.next_index]
            self.next_index += 1
            self._reconcile(lb, now)
        if self.next_index >= len(region):
            self._end_pass()

    def _reconcile(self, lb: LoadBalancer, now: float) -> None:
        before_stored, before_damaged = lb.stored, lb.damaged
        if not self.reconcile_lb(lb):
            return
        self.region.sync(lb)
        metrics = self.world.metrics
        if lb.stored is not None and lb.stored != before_stored:
            self.region.write(now, lb)
            self.rebuilt += 1
        if before_damaged and not lb.damaged:
            self.repaired += 1
            metrics.count("repairs", now)
        metrics.count("reconciled", now)

    def _end_pass(self) -> None:
        if self.rebuilt or self.repaired or not self.continuous:
            self.world.note(f"reconciliation sweep done: {self.rebuilt} records rebuilt from live "
                            f"state, {self.repaired} load balancers repaired", "recovery")
        if self.continuous:
            self._start_pass()
        else:
            self.running = False

    def stop(self, why: str) -> None:
        """Stop a one-off sweep where it is (records it rebuilt stay rebuilt)."""
        if not self.running or self.continuous:
            return
        self.running = False
        self.world.note(f"reconciliation sweep stopped after {self.next_index} of {len(self.region)} "
                        f"load balancers: {why}", "failure")
