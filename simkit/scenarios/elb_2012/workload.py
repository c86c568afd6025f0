"""The control plane at work: the workflows customers and traffic ask for, and how they run.

Three Poisson streams of work arrive, whatever the operators do:

* **customer changes** (register or deregister a back-end host), at a constant rate
  per load balancer; refused while customer-change workflows are off;
* **scaling workflows**, at a rate per load balancer that follows the traffic curve
  (a Poisson stream thinned by the curve); queued while scaling is off;
* **new load balancers**, whose creation writes a fresh record and always works.

Each workflow goes through ``apply_workflow`` (:func:`.fleet.apply_workflow`, or the
learner's): read the record, compute, push. On a missing record that push leaves the
load balancer damaged. Every simulated minute the control plane also drains queued
scaling work on the load balancers where scaling is on again (at most
``control_plane_workflows_per_min``) and re-pushes damaged load balancers whose
record is back (``repair_lbs_per_h``).

Switching every workflow on at once releases the whole queue in one minute
(:meth:`ControlPlane.release_backlog_at_once`): the work beyond the control plane's
capacity may fail half-way and leave its load balancer misconfigured. **That burst is
the model's assumption, not a fact from the record**: AWS wrote that it re-enabled the
workflows slowly so as not to harm healthy load balancers, not what switching them
all on would have done.

Every draw comes from a stream of its own (``"customer_changes"``, ``"scaling"``,
``"creations"``, ``"overload"``), and the arrival streams draw the same numbers
whatever the operators do, so two plans played on one seed face the same workload.
"""

from __future__ import annotations

from typing import Callable

from ...world import World
from .fleet import Config, LoadBalancer, Workflow
from .parameters import Params
from .region import Region
from .switches import WorkflowSwitches
from .traffic import TrafficCurve

__all__ = ["ControlPlane", "new_config"]

_REPAIR = Workflow("repair")


def new_config(rng, changes: frozenset = frozenset()) -> Config:
    """A fresh configuration: 2-6 back-end hosts and 2-6 nodes."""
    backends = tuple(f"i-{rng.getrandbits(32):08x}" for _ in range(rng.randint(2, 6)))
    return Config(backends, rng.randint(2, 6), changes)


class ControlPlane:
    """The workflows of the region's ELB control plane, and their effect on the records."""

    def __init__(self, world: World, params: Params, region: Region, switches: WorkflowSwitches,
                 traffic: TrafficCurve, apply_workflow: Callable[[LoadBalancer, Workflow], bool]) -> None:
        self.world, self.params, self.region = world, params, region
        self.switches, self.traffic, self.apply_workflow = switches, traffic, apply_workflow
        self.metrics = world.metrics
        #: scaling work queued while scaling is off, by cohort: lb_id -> scale up? (in arrival order)
        self.queued: list[dict[int, bool]] = [{} for _ in range(100)]
        self._repair_credit = 0.0
        self.first_damage_s: float | None = None

    def start(self) -> None:
        """Start the three arrival streams."""
        env = self.world.env
        env.process(self._customer_changes())
        env.process(self._scaling())
        env.process(self._creations())

    # -- the arrival streams --------------------------------------------------------------
    def _customer_changes(self):
        env, p, lbs = self.world.env, self.params, self.region.lbs
        rng = self.world.rng("customer_changes")
        while p.customer_change_rate_per_lb_h > 0:
            yield env.timeout(rng.expovariate(p.customer_change_rate_per_lb_h * len(lbs) / 3600.0))
            lb = lbs[int(rng.random() * len(lbs))]
            remove = rng.random() < 0.4
            pick = rng.random()
            host = lb.live.backends[int(pick * len(lb.live.backends))] if remove else f"i-{rng.getrandbits(32):08x}"
            self.customer_change(lb, host, remove, env.now)

    def _scaling(self):
        env, p, curve, lbs = self.world.env, self.params, self.traffic, self.region.lbs
        rng = self.world.rng("scaling")
        while p.scaling_rate_per_lb_h > 0:
            yield env.timeout(rng.expovariate(p.scaling_rate_per_lb_h * curve.max_level * len(lbs) / 3600.0))
            accept = rng.random() * curve.max_level < curve.level(env.now)
            lb = lbs[int(rng.random() * len(lbs))]
            if accept:
                self.scaling_event(lb, curve.rising(env.now), env.now)

    def _creations(self):
        env, p, region = self.world.env, self.params, self.region
        rng = self.world.rng("creations")
        while p.new_lbs_per_h > 0:
            yield env.timeout(rng.expovariate(p.new_lbs_per_h / 3600.0))
            change_id = region.new_change_id()
            config = new_config(rng, frozenset({change_id}))
            lb = LoadBalancer(len(region), config, config, weight=rng.lognormvariate(0.0, 1.0), created_s=env.now)
            region.add(lb)
            region.write(env.now, lb)
            region.accept_change(change_id, lb, env.now)
            self.metrics.count("lbs_created", env.now)
            self.metrics.count("workflow_runs", env.now)
            self.api_call(lb, env.now)

    # -- one workflow ---------------------------------------------------------------------
    def run(self, lb: LoadBalancer, workflow: Workflow, now: float) -> bool:
        """Run one workflow through ``apply_workflow``; journal the record it wrote."""
        was_damaged = lb.damaged
        ok = bool(self.apply_workflow(lb, workflow))
        self.region.sync(lb)
        self.metrics.count("workflow_runs", now)
        if ok:
            self.region.write(now, lb)
        if lb.damaged and not was_damaged:
            self.metrics.count("workflow_damage", now)
            if self.first_damage_s is None:
                self.first_damage_s = now
                self.world.note("first load balancer misconfigured: a workflow acted on a missing record",
                                "failure")
        return ok

    def customer_change(self, lb: LoadBalancer, host: str, remove: bool, now: float) -> None:
        change_id = self.region.new_change_id()
        if not self.switches.enabled_for("customer", lb.lb_id, now):
            # Refused on purpose (workflows disabled): counted apart from the API's failures.
            self.metrics.count("changes_refused", now)
            return
        if self.run(lb, Workflow("customer_change", change_id, host, remove), now):
            self.region.accept_change(change_id, lb, now)
            self.metrics.count("changes_accepted", now)
            self.api_call(lb, now)
        else:
            self.metrics.count("changes_failed", now)
            self.api_call(lb, now, error=True, slow=True)

    def scaling_event(self, lb: LoadBalancer, up: bool, now: float) -> None:
        queue = self.queued[lb.lb_id % 100]
        if not self.switches.enabled_for("scaling", lb.lb_id, now):
            queue[lb.lb_id] = up
            return
        queue.pop(lb.lb_id, None)
        self.run(lb, Workflow("scale_up" if up else "scale_down"), now)

    def api_call(self, lb: LoadBalancer, now: float, *, error: bool = False, slow: bool = False) -> None:
        """Count one call to the control-plane API, for a new or an existing load balancer."""
        group = "new" if self.region.is_new(lb) else "existing"
        self.metrics.count(f"api_calls_{group}", now)
        if error:
            self.metrics.count(f"api_errors_{group}", now)
        if slow:
            self.metrics.count("api_slow_calls", now)

    # -- every minute ---------------------------------------------------------------------
    def queued_count(self) -> int:
        """Scaling workflows queued while disabled."""
        return sum(len(cohort) for cohort in self.queued)

    def drain_queue(self, now: float) -> None:
        """Run queued scaling work on load balancers where scaling is on again, within capacity."""
        budget = int(self.params.control_plane_workflows_per_min)
        for cohort in self.queued[:self.switches.enabled_cohorts("scaling", now)]:
            while cohort and budget > 0:
                i = next(iter(cohort))
                up = cohort.pop(i)
                self.run(self.region.lbs[i], Workflow("scale_up" if up else "scale_down"), now)
                budget -= 1
            if budget == 0:
                return

    def release_backlog_at_once(self, now: float) -> int:
        """Every queued workflow in the same minute (the model's assumption, see the module
        doc): beyond capacity, each may fail half-way. Returns how many load balancers broke."""
        capacity = int(self.params.control_plane_workflows_per_min)
        rng = self.world.rng("overload")
        broken = 0
        queued = [item for cohort in self.queued for item in cohort.items()]
        for cohort in self.queued:
            cohort.clear()
        for k, (i, up) in enumerate(queued):
            lb = self.region.lbs[i]
            if k >= capacity and rng.random() < self.params.overload_damage_prob:
                if not lb.damaged:
                    lb.damaged = True        # a half-finished workflow left DNS on a half-built node set
                    self.region.sync(lb)
                    broken += 1
                    self.metrics.count("overload_damage", now)
                continue
            self.run(lb, Workflow("scale_up" if up else "scale_down"), now)
        return broken

    def repair(self, now: float) -> None:
        """Enabled workflows re-push damaged load balancers whose record is back."""
        region = self.region
        if not region.repairable:
            self._repair_credit = 0.0
            return
        self._repair_credit += self.params.repair_lbs_per_h / 60.0
        budget = int(self._repair_credit)
        if budget == 0:
            return
        for i in sorted(region.repairable):
            if budget == 0:
                break
            lb = region.lbs[i]
            if self.switches.enabled_for("scaling", lb.lb_id, now):
                self.run(lb, _REPAIR, now)
                self.metrics.count("repairs", now)
                budget -= 1
                self._repair_credit -= 1.0
        self._repair_credit = min(self._repair_credit, 1.0)   # unused capacity does not pile up
