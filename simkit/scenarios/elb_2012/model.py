"""The ELB 2012 model: a fleet of load balancers, workflow streams, the deletion, the recovery.

Read :mod:`.fleet` first (what a load balancer and a workflow are). This module
wires them into a simulation:

* three Poisson streams of control-plane work: customer configuration changes
  (constant rate per load balancer), scaling workflows (rate per load balancer
  proportional to the traffic curve, drawn by thinning) and new load balancers;
* the trigger, at 12:24 PM: a share of the stored records is deleted; nothing
  alerts;
* a step every simulated minute that drains deferred work, repairs, advances a
  reconciliation sweep and records the series (customer error rate, API errors
  and latency, damaged and missing shares);
* the operator actions of the commander game.

Learner code plugs in through two keywords: ``Model(params, seed,
apply_workflow=f, reconcile_lb=g)`` (and the same on :meth:`Model.run`) use ``f``
and ``g`` in place of :func:`.fleet.apply_workflow` and :func:`.fleet.reconcile_lb`.
Both are called with a :class:`.fleet.LoadBalancer` and act on it in place.

The random streams are split by purpose (``"fleet"``, ``"customer_changes"``,
``"scaling"``, ``"creations"``, ``"deletion"``, ``"restore"``, ``"overload"``) and
every event draws the same numbers whatever the operator does, so two plans
played with the same seed face exactly the same workload.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ...metrics import ratio
from ...world import World
from ..base import ActionSpec, Panel, ScenarioModel, ScoreCard
from . import fleet
from .fleet import Config, JournalEntry, LoadBalancer, Workflow, merge_journal, restore_from_snapshot
from .parameters import CLOCK_START_S, Params
from .scoring import penalties, score_from
from .traffic import TrafficCurve

__all__ = ["Model", "KINDS", "REFERENCE_PLAN"]

#: The kinds of workflow the operator can disable separately.
KINDS = ("customer", "scaling")

#: What AWS did, as a plan (times of day, PST): disable workflows at 5:02 PM, try a
#: restore, fall back on the alternate method, merge, re-enable slowly.
REFERENCE_PLAN = [
    ("17:00", "disable_all_workflows"),
    ("17:10", "restore_snapshot"),
    ("22:00", "restore_alternate"),
    ("02:50", "merge_changes"),
    ("05:40", "enable_workflows_gradually"),
]

_DAMAGE_MILESTONES = (0.01, 0.05, 0.10, 0.20)
_REPAIR = Workflow("repair")


def _hook(name: str, given: Callable | None, default: Callable) -> Callable:
    if given is None:
        return default
    if not callable(given):
        raise TypeError(f"{name} = {given!r} is not allowed: must be a function taking a LoadBalancer")
    return given


class Model(ScenarioModel):
    """Christmas Eve 2012: workflows keep acting on a control plane whose records were deleted."""

    name = "elb-2012"
    title = "ELB, Christmas Eve 2012: automation acting on deleted state"
    Params = Params
    tick_s = 600.0
    actions = {
        "disable_all_workflows": ActionSpec(
            "disable_all_workflows", "Disable all workflows",
            "Stop customer-change and scaling workflows on every load balancer (takes effect at once); "
            "change requests are refused, scaling work is queued."),
        "disable_scaling": ActionSpec(
            "disable_scaling", "Disable scaling workflows",
            "Stop scale-up/scale-down workflows only; they queue up until re-enabled."),
        "disable_customer_changes": ActionSpec(
            "disable_customer_changes", "Disable customer changes",
            "Refuse customers' configuration changes (the API returns an error); creating new load "
            "balancers keeps working."),
        "restore_snapshot": ActionSpec(
            "restore_snapshot", "Restore state from snapshot",
            "Restore the state data to a point just before the deletion. Takes hours, and may yield "
            "no usable snapshot. Records written after the snapshot are replaced.", 4.5 * 3600),
        "restore_alternate": ActionSpec(
            "restore_alternate", "Restore by the alternate method",
            "A second way to rebuild the snapshot, devised once the first attempt has failed; takes hours.",
            4.75 * 3600),
        "merge_changes": ActionSpec(
            "merge_changes", "Merge changes since the snapshot",
            "Replay the records the control plane wrote after the snapshot onto the restored state "
            "(about 3 h).", 2.8 * 3600),
        "reconcile": ActionSpec(
            "reconcile", "Reconcile against live state",
            "Sweep every load balancer (all workflows must be disabled): rebuild its record from its "
            "live configuration where it is missing or differs, and point damaged ones back at their own "
            "nodes."),
        "enable_workflows_gradually": ActionSpec(
            "enable_workflows_gradually", "Re-enable workflows gradually",
            "Turn workflows back on for a growing share of load balancers (all after 4.5 h); queued "
            "work drains within the control plane's capacity."),
        "enable_workflows_all": ActionSpec(
            "enable_workflows_all", "Re-enable all workflows at once",
            "Turn every workflow back on now; all queued work hits the control plane in the same minute."),
        "require_approval": ActionSpec(
            "require_approval", "Require approval for production access",
            "From now on, running a process against production state needs approval each time."),
    }
    panels = (
        Panel("Load balancers", [("damaged_share", "damaged (misconfigured)"),
                                 ("missing_share", "stored record missing")], "% of running", scale=100),
        Panel("Customer-facing error rate", [("customer_error_rate", "requests failing")], "%", scale=100),
        Panel("Control-plane API errors", [("api_error_rate_existing", "existing load balancers"),
                                           ("api_error_rate_new", "new load balancers")], "%", scale=100,
              ylim=(0, 105)),
        Panel("Control-plane API latency", [("api_latency_s", "mean per call")], "s"),
        Panel("Workflows", [("scaling_enabled", "scaling enabled"),
                            ("customer_changes_enabled", "customer changes enabled"),
                            ("traffic", "traffic (relative)")], "share / level"),
    )

    def __init__(
        self,
        params: Params | dict | None = None,
        seed: int = 0,
        *,
        apply_workflow: Callable[[LoadBalancer, Workflow], bool] | None = None,
        reconcile_lb: Callable[[LoadBalancer], bool] | None = None,
    ) -> None:
        super().__init__(params, seed)
        self.apply_workflow = _hook("apply_workflow", apply_workflow, fleet.apply_workflow)
        self.reconcile_lb = _hook("reconcile_lb", reconcile_lb, fleet.reconcile_lb)
        p = self.params
        self.world = World(seed, horizon_s=p.horizon_h * 3600.0, bucket_s=60.0, clock_start_s=CLOCK_START_S)
        self.metrics = self.world.metrics
        self.traffic = TrafficCurve(CLOCK_START_S, p.christmas_eve_boost)

        # The fleet and what we track about it (kept up to date by _sync).
        self.lbs: list[LoadBalancer] = []
        self.missing: set[int] = set()
        self.missing_new: set[int] = set()
        self.damaged: set[int] = set()
        self.repairable: set[int] = set()     # damaged, record present: a re-push heals them
        self.damaged_weight = 0.0
        self.total_weight = 0.0
        self.first_new_id: float = math.inf   # LBs with this id or above were created after the deletion
        self._build_fleet()

        # State-data history: every record written, the snapshot, the accepted customer changes.
        self.journal: list[JournalEntry] = []
        self.snapshot: dict[int, Config | None] | None = None
        self.snapshot_s: float | None = None
        self.accepted: list[tuple[int, int, float]] = []   # (change_id, lb_id, t_s) of every accepted change
        self._next_change_id = 0

        # Workflow switches: share of LBs (by id cohort) enabled, per kind; an optional ramp.
        self.share = {kind: 1.0 for kind in KINDS}
        self.ramp: dict[str, tuple[float, float] | None] = {kind: None for kind in KINDS}
        # Deferred scaling work, by cohort (lb_id % 100): lb_id -> scale up? (insertion-ordered).
        self.pending: list[dict[int, bool]] = [{} for _ in range(100)]

        # Recovery state.
        self.approval_required = p.approval_required
        self.deletion_done = False
        self.deleted_ids: list[int] = []
        self.restore_phase: str | None = None   # attempt1, attempt1_failed, alternate, restored, merging, merged
        self.restored_s: float | None = None    # when a restore completed
        self.sweep: dict[str, Any] | None = None
        self._repair_credit = 0.0
        self._milestones = list(_DAMAGE_MILESTONES)
        self._was_normal = True
        self._first_damage_noted = False

        world = self.world
        world.at(p.deletion_at_min * 60.0, self._delete_state)
        world.env.process(self._customer_changes())
        world.env.process(self._scaling())
        world.env.process(self._creations())
        if p.continuous_reconciliation:
            self._start_sweep(continuous=True)
        self._minute()                       # the state at 12:00, so a result exists before any step
        world.every(60.0, self._minute, start_s=60.0)

    # -- construction -----------------------------------------------------------------
    def _build_fleet(self) -> None:
        rng = self.world.rng("fleet")
        for i in range(self.params.load_balancers):
            config = self._new_config(rng, frozenset())
            self._add_lb(LoadBalancer(i, config, config, weight=rng.lognormvariate(0.0, 1.0)))

    @staticmethod
    def _new_config(rng, changes: frozenset) -> Config:
        backends = tuple(f"i-{rng.getrandbits(32):08x}" for _ in range(rng.randint(2, 6)))
        return Config(backends, rng.randint(2, 6), changes)

    def _add_lb(self, lb: LoadBalancer) -> None:
        self.lbs.append(lb)
        self.total_weight += lb.weight
        self._sync(lb)

    def _sync(self, lb: LoadBalancer) -> None:
        """Bring the tracking sets up to date after ``lb`` may have changed."""
        i = lb.lb_id
        if lb.stored is None:
            self.missing.add(i)
            if i >= self.first_new_id:
                self.missing_new.add(i)
        else:
            self.missing.discard(i)
            self.missing_new.discard(i)
        if lb.damaged and i not in self.damaged:
            self.damaged.add(i)
            self.damaged_weight += lb.weight
        elif not lb.damaged and i in self.damaged:
            self.damaged.remove(i)
            self.damaged_weight = self.damaged_weight - lb.weight if self.damaged else 0.0
        if lb.damaged and lb.stored is not None:
            self.repairable.add(i)
        else:
            self.repairable.discard(i)

    # -- workflow switches ------------------------------------------------------------
    def enabled_share(self, kind: str, t_s: float | None = None) -> float:
        """Share of load balancers on which workflows of ``kind`` run at time ``t_s``."""
        ramp = self.ramp[kind]
        if ramp is None:
            return self.share[kind]
        start_s, start_share = ramp
        now = self.world.now if t_s is None else t_s
        return min(1.0, start_share + (now - start_s) / (self.params.gradual_enable_h * 3600.0))

    def _enabled_for(self, kind: str, lb: LoadBalancer, t_s: float) -> bool:
        share = self.enabled_share(kind, t_s)
        return share >= 1.0 or (lb.lb_id % 100) < share * 100.0

    # -- the workload ------------------------------------------------------------------
    def _customer_changes(self):
        """Customers change their load balancers' configuration (register/deregister hosts)."""
        env, p = self.world.env, self.params
        rng = self.world.rng("customer_changes")
        while p.customer_change_rate_per_lb_h > 0:
            rate_per_s = p.customer_change_rate_per_lb_h * len(self.lbs) / 3600.0
            yield env.timeout(rng.expovariate(rate_per_s))
            lb = self.lbs[int(rng.random() * len(self.lbs))]
            remove = rng.random() < 0.4
            pick = rng.random()
            host = lb.live.backends[int(pick * len(lb.live.backends))] if remove else f"i-{rng.getrandbits(32):08x}"
            self._customer_change(lb, host, remove, env.now)

    def _scaling(self):
        """Scaling workflows: a Poisson stream thinned by the traffic curve."""
        env, p, curve = self.world.env, self.params, self.traffic
        rng = self.world.rng("scaling")
        while p.scaling_rate_per_lb_h > 0:
            rate_per_s = p.scaling_rate_per_lb_h * curve.max_level * len(self.lbs) / 3600.0
            yield env.timeout(rng.expovariate(rate_per_s))
            accept = rng.random() * curve.max_level < curve.level(env.now)
            lb = self.lbs[int(rng.random() * len(self.lbs))]
            if accept:
                self._scaling_event(lb, curve.rising(env.now), env.now)

    def _creations(self):
        """Customers create new load balancers; creation writes a fresh record and works."""
        env, p = self.world.env, self.params
        rng = self.world.rng("creations")
        while p.new_lbs_per_h > 0:
            yield env.timeout(rng.expovariate(p.new_lbs_per_h / 3600.0))
            change_id = self._new_change_id()
            config = self._new_config(rng, frozenset({change_id}))
            lb = LoadBalancer(len(self.lbs), config, config, weight=rng.lognormvariate(0.0, 1.0),
                              created_s=env.now)
            self._add_lb(lb)
            self.journal.append(JournalEntry(env.now, lb.lb_id, config))
            self.accepted.append((change_id, lb.lb_id, env.now))
            self.metrics.count("lbs_created", env.now)
            self.metrics.count("workflow_runs", env.now)
            self._api_call(lb, env.now)

    def _new_change_id(self) -> int:
        self._next_change_id += 1
        return self._next_change_id

    # -- one workflow -------------------------------------------------------------------
    def _run(self, lb: LoadBalancer, workflow: Workflow, now: float) -> bool:
        """Run one workflow through the (possibly learner-written) ``apply_workflow``."""
        was_damaged = lb.damaged
        ok = bool(self.apply_workflow(lb, workflow))
        self._sync(lb)
        self.metrics.count("workflow_runs", now)
        if ok and lb.stored is not None:
            self.journal.append(JournalEntry(now, lb.lb_id, lb.stored))
        if lb.damaged and not was_damaged:
            self.metrics.count("workflow_damage", now)
            if not self._first_damage_noted:
                self._first_damage_noted = True
                self.world.note("first load balancer misconfigured: a workflow acted on a missing record",
                                "failure")
        return ok

    def _customer_change(self, lb: LoadBalancer, host: str, remove: bool, now: float) -> None:
        change_id = self._new_change_id()
        if not self._enabled_for("customer", lb, now):
            # Refused on purpose (workflows disabled): counted apart from the API's failures.
            self.metrics.count("changes_refused", now)
            return
        if self._run(lb, Workflow("customer_change", change_id, host, remove), now):
            self.accepted.append((change_id, lb.lb_id, now))
            self.metrics.count("changes_accepted", now)
            self._api_call(lb, now)
        else:
            self.metrics.count("changes_failed", now)
            self._api_call(lb, now, error=True, slow=True)

    def _scaling_event(self, lb: LoadBalancer, up: bool, now: float) -> None:
        if not self._enabled_for("scaling", lb, now):
            self.pending[lb.lb_id % 100][lb.lb_id] = up
            return
        self.pending[lb.lb_id % 100].pop(lb.lb_id, None)
        self._run(lb, Workflow("scale_up" if up else "scale_down"), now)

    def _api_call(self, lb: LoadBalancer, now: float, *, error: bool = False, slow: bool = False) -> None:
        group = "new" if lb.lb_id >= self.first_new_id else "existing"
        self.metrics.count(f"api_calls_{group}", now)
        if error:
            self.metrics.count(f"api_errors_{group}", now)
        if slow:
            self.metrics.count("api_slow_calls", now)

    # -- the trigger --------------------------------------------------------------------
    def _delete_state(self) -> None:
        now = self.world.now
        if self.approval_required:
            self.world.note("maintenance process stopped: production access needs approval", "event")
            return
        self.snapshot = {lb.lb_id: lb.stored for lb in self.lbs}
        self.snapshot_s = now
        self.first_new_id = len(self.lbs)
        n = round(self.params.deleted_share * len(self.lbs))
        self.deleted_ids = sorted(self.world.rng("deletion").sample(range(len(self.lbs)), n))
        for i in self.deleted_ids:
            self.lbs[i].stored = None
            self._sync(self.lbs[i])
        self.deletion_done = True
        self.world.note(f"maintenance process run against production deletes {n} load balancers' "
                        f"records (nothing alerts)", "trigger")

    # -- every minute --------------------------------------------------------------------
    def _minute(self) -> None:
        now = self.world.now
        self._finish_ramps(now)
        self._drain_backlog(now)
        self._repair(now)
        if self.sweep is not None:
            self._sweep_step(now)
        self._record(now)

    def _finish_ramps(self, now: float) -> None:
        for kind in KINDS:
            if self.ramp[kind] is not None and self.enabled_share(kind, now) >= 1.0:
                self.ramp[kind] = None
                self.share[kind] = 1.0
                if all(self.share[k] >= 1.0 and self.ramp[k] is None for k in KINDS):
                    self.world.note("workflows re-enabled on every load balancer", "recovery")

    def _drain_backlog(self, now: float) -> None:
        """Run deferred scaling work on enabled load balancers, within the control plane's capacity."""
        budget = int(self.params.control_plane_workflows_per_min)
        share = self.enabled_share("scaling", now)
        enabled_cohorts = 100 if share >= 1.0 else math.ceil(share * 100.0)
        for cohort in self.pending[:enabled_cohorts]:
            while cohort and budget > 0:
                i = next(iter(cohort))
                up = cohort.pop(i)
                self._run(self.lbs[i], Workflow("scale_up" if up else "scale_down"), now)
                budget -= 1
            if budget == 0:
                return

    def pending_count(self) -> int:
        """Scaling workflows queued while disabled."""
        return sum(len(cohort) for cohort in self.pending)

    def _release_backlog_at_once(self, now: float) -> int:
        """Every queued workflow at once: those beyond capacity may fail half-way. Returns LBs broken."""
        capacity = int(self.params.control_plane_workflows_per_min)
        rng = self.world.rng("overload")
        broken = 0
        queued = [item for cohort in self.pending for item in cohort.items()]
        for cohort in self.pending:
            cohort.clear()
        for k, (i, up) in enumerate(queued):
            lb = self.lbs[i]
            if k >= capacity and rng.random() < self.params.overload_damage_prob:
                if not lb.damaged:
                    lb.damaged = True        # a half-finished workflow left DNS on a half-built node set
                    self._sync(lb)
                    broken += 1
                    self.metrics.count("overload_damage", now)
                continue
            self._run(lb, Workflow("scale_up" if up else "scale_down"), now)
        return broken

    def _repair(self, now: float) -> None:
        """Enabled workflows re-push damaged load balancers whose record is back."""
        if not self.repairable:
            self._repair_credit = 0.0
            return
        self._repair_credit += self.params.repair_lbs_per_h / 60.0
        budget = int(self._repair_credit)
        if budget == 0:
            return
        for i in sorted(self.repairable):
            if budget == 0:
                break
            lb = self.lbs[i]
            if self._enabled_for("scaling", lb, now):
                self._run(lb, _REPAIR, now)
                self.metrics.count("repairs", now)
                budget -= 1
                self._repair_credit -= 1.0
        self._repair_credit = min(self._repair_credit, 1.0)   # unused capacity does not pile up

    # -- reconciliation -------------------------------------------------------------------
    def _start_sweep(self, *, continuous: bool = False) -> None:
        self.sweep = {"next": 0, "credit": 0.0, "rebuilt": 0, "repaired": 0, "continuous": continuous}

    def _sweep_step(self, now: float) -> None:
        sweep = self.sweep
        sweep["credit"] += self.params.reconcile_lbs_per_h / 60.0
        while sweep["credit"] >= 1.0 and sweep["next"] < len(self.lbs):
            sweep["credit"] -= 1.0
            lb = self.lbs[sweep["next"]]
            sweep["next"] += 1
            before_stored, before_damaged = lb.stored, lb.damaged
            if self.reconcile_lb(lb):
                self._sync(lb)
                if lb.stored is not None and lb.stored != before_stored:
                    self.journal.append(JournalEntry(now, lb.lb_id, lb.stored))
                    sweep["rebuilt"] += 1
                if before_damaged and not lb.damaged:
                    sweep["repaired"] += 1
                    self.metrics.count("repairs", now)
                self.metrics.count("reconciled", now)
        if sweep["next"] >= len(self.lbs):
            if sweep["rebuilt"] or sweep["repaired"] or not sweep["continuous"]:
                self.world.note(f"reconciliation sweep done: {sweep['rebuilt']} records rebuilt from live "
                                f"state, {sweep['repaired']} load balancers repaired", "recovery")
            if sweep["continuous"]:
                self._start_sweep(continuous=True)
                self.sweep["credit"] = sweep["credit"]
            else:
                self.sweep = None

    # -- recording ------------------------------------------------------------------------
    def is_normal(self) -> bool:
        """Every LB healthy, every record present, and no kind of workflow switched off.

        A gradual re-enable under way counts as on: it is the careful way back, and
        load balancers already serve normally during it.
        """
        return (not self.damaged and not self.missing
                and all(self.share[k] > 0.0 or self.ramp[k] is not None for k in KINDS))

    def _record(self, now: float) -> None:
        p, m = self.params, self.metrics
        n = len(self.lbs)
        n_new = n - self.first_new_id if self.deletion_done else 0
        damaged_share = len(self.damaged) / n
        m.gauge("running_lbs", now, n)
        m.gauge("damaged_lbs", now, len(self.damaged))
        m.gauge("missing_state_lbs", now, len(self.missing))
        m.gauge("damaged_share", now, damaged_share)
        m.gauge("missing_share", now, len(self.missing) / n)
        m.gauge("customer_error_rate", now, p.damaged_error_share * max(0.0, self.damaged_weight) / self.total_weight)
        m.gauge("traffic", now, self.traffic.level(now))
        m.gauge("scaling_enabled", now, self.enabled_share("scaling", now))
        m.gauge("customer_changes_enabled", now, self.enabled_share("customer", now))
        m.gauge("pending_workflows", now, self.pending_count())
        normal = self.is_normal()
        m.gauge("normal", now, 1.0 if normal else 0.0)
        # Read calls (describe, health checks) to the API this minute, as expected values:
        # a read of a missing record fails, slowly.
        per_lb = p.api_calls_per_lb_h / 60.0
        missing_existing = len(self.missing) - len(self.missing_new)
        m.count("api_calls_existing", now, per_lb * (n - n_new))
        m.count("api_errors_existing", now, per_lb * missing_existing)
        m.count("api_calls_new", now, per_lb * n_new)
        m.count("api_errors_new", now, per_lb * len(self.missing_new))
        m.count("api_slow_calls", now, per_lb * len(self.missing))
        # Timeline notes.
        while self._milestones and damaged_share >= self._milestones[0]:
            self.world.note(f"{self._milestones.pop(0):.0%} of load balancers misconfigured", "failure")
        if normal and not self._was_normal:
            self.world.note("back to normal: every load balancer healthy and managed again", "recovery")
        self._was_normal = normal

    # -- operator actions --------------------------------------------------------------
    def precondition(self, action: str) -> str | None:
        on = {k: self.share[k] >= 1.0 and self.ramp[k] is None for k in KINDS}
        off = {k: self.share[k] <= 0.0 and self.ramp[k] is None for k in KINDS}
        if action == "disable_all_workflows" and all(off.values()):
            return "all workflows are already disabled"
        if action == "disable_scaling" and off["scaling"]:
            return "scaling workflows are already disabled"
        if action == "disable_customer_changes" and off["customer"]:
            return "customer changes are already disabled"
        if action in ("enable_workflows_gradually", "enable_workflows_all") and all(on.values()):
            return "all workflows are already enabled"
        if action == "enable_workflows_gradually" and all(on[k] or self.ramp[k] is not None for k in KINDS):
            return "a gradual re-enable is already under way"
        if action == "restore_snapshot":
            if not self.deletion_done:
                return "no state has been lost: there is nothing to restore"
            return {
                "attempt1": "restore attempt 1 is still running",
                "attempt1_failed": "attempt 1 yielded no usable snapshot; use the alternate method",
                "alternate": "the alternate restore is still running",
            }.get(self.restore_phase, "the state has already been restored" if self.restore_phase else None)
        if action == "restore_alternate":
            if self.restore_phase is None:
                return "try the usual restore first (restore_snapshot); the alternate method comes after it fails"
            return {
                "attempt1": "restore attempt 1 is still running",
                "attempt1_failed": None,
                "alternate": "the alternate restore is already running",
            }.get(self.restore_phase, "the state has already been restored")
        if action == "merge_changes":
            return {
                "restored": None,
                "merging": "the merge is already running",
                "merged": "the changes have already been merged",
            }.get(self.restore_phase, "nothing to merge into: restore a snapshot first")
        if action == "reconcile":
            if self.sweep is not None and self.sweep["continuous"]:
                return "the control plane already reconciles continuously"
            if self.sweep is not None:
                return "a reconciliation sweep is already running"
            if not all(off.values()):
                return ("disable all workflows first: the sweep compares each record with the live "
                        "configuration, and that needs both to hold still")
        if action == "require_approval" and self.approval_required:
            return "production access already needs approval"
        return None

    def _apply(self, action: str) -> str:
        world, p, now = self.world, self.params, self.world.now
        if action in ("disable_all_workflows", "disable_scaling", "disable_customer_changes"):
            kinds = {"disable_all_workflows": KINDS, "disable_scaling": ("scaling",),
                     "disable_customer_changes": ("customer",)}[action]
            for kind in kinds:
                self.share[kind], self.ramp[kind] = 0.0, None
            return f"{' and '.join(kinds)} workflows disabled: they no longer touch any load balancer"
        if action == "enable_workflows_gradually":
            for kind in KINDS:
                if self.share[kind] < 1.0 and self.ramp[kind] is None:
                    self.ramp[kind] = (now, self.share[kind])
            return f"workflows coming back for a growing share of load balancers (all in {p.gradual_enable_h:g} h)"
        if action == "enable_workflows_all":
            for kind in KINDS:
                self.share[kind], self.ramp[kind] = 1.0, None
            queued = self.pending_count()
            broken = self._release_backlog_at_once(now)
            if broken:
                world.note(f"{queued} queued workflows hit the control plane at once: "
                           f"{broken} load balancers left misconfigured", "failure")
            return f"all workflows on; {queued} queued workflows released at once, {broken} load balancers broken"
        if action == "restore_snapshot":
            # Whether attempt 1 yields a usable snapshot is drawn now, from its own stream.
            usable = world.rng("restore").random() < p.snapshot_usable_prob
            self.restore_phase = "attempt1"
            world.at(now + p.restore_attempt_h * 3600.0, lambda: self._restore_done(usable, "attempt 1"))
            return f"restore attempt 1 started; it takes about {p.restore_attempt_h:g} h"
        if action == "restore_alternate":
            self.restore_phase = "alternate"
            world.at(now + p.alternate_restore_h * 3600.0, lambda: self._restore_done(True, "the alternate method"))
            return f"alternate restore started; it takes about {p.alternate_restore_h:g} h"
        if action == "merge_changes":
            self.restore_phase = "merging"
            world.at(now + p.merge_h * 3600.0, self._merge_done)
            return f"merge of the changes since the snapshot started; it takes about {p.merge_h:g} h"
        if action == "reconcile":
            self._start_sweep()
            hours = len(self.lbs) / p.reconcile_lbs_per_h
            return f"reconciliation sweep started over {len(self.lbs)} load balancers (about {hours:.1f} h)"
        if action == "require_approval":
            self.approval_required = True
            if self.deletion_done:
                return "production access now needs approval; it cannot undo the deletion that already happened"
            return "production access now needs approval: the maintenance process will not run against production"
        raise AssertionError(action)  # pragma: no cover - check() rejects unknown actions

    def _restore_done(self, usable: bool, method: str) -> None:
        if not usable:
            self.restore_phase = "attempt1_failed"
            self.world.note("restore attempt 1 finished: no usable snapshot", "failure")
            return
        counts = restore_from_snapshot(self.lbs, self.snapshot)
        for lb in self.lbs:
            self._sync(lb)
        self.restore_phase = "restored"
        self.restored_s = self.world.now
        self.world.note(f"state restored from snapshot by {method}: {counts['restored']} records back, "
                        f"{counts['reverted']} reverted, {counts['dropped']} dropped", "recovery")

    def _merge_done(self) -> None:
        changed = merge_journal({lb.lb_id: lb for lb in self.lbs}, self.journal, self.snapshot_s)
        for lb in self.lbs:
            self._sync(lb)
        self.restore_phase = "merged"
        self.world.note(f"merge finished: {changed} records brought up to date", "recovery")

    # -- results ------------------------------------------------------------------------
    def when(self, t_s: float) -> str:
        """Day and time of simulated time ``t_s``: "Mon 17:02" or "Tue 05:40" (24-25 Dec 2012)."""
        day = "Mon" if CLOCK_START_S + t_s < 86400.0 else "Tue"
        return f"{day} {self.world.clock(t_s)}"

    def extra_series(self) -> dict[str, np.ndarray]:
        """API error rates (existing vs new load balancers, and all) and mean API latency."""
        s = self.metrics.series()
        zeros = np.zeros(self.metrics.n_buckets)
        out = {}
        calls_all = zeros.copy()
        errors_all = zeros.copy()
        for group in ("existing", "new"):
            calls = s.get(f"api_calls_{group}", zeros)
            errors = s.get(f"api_errors_{group}", zeros)
            calls_all, errors_all = calls_all + calls, errors_all + errors
            out[f"api_error_rate_{group}"] = ratio(errors, calls)
        slow = s.get("api_slow_calls", zeros)
        p = self.params
        out["api_error_rate"] = ratio(errors_all, calls_all)
        out["api_latency_s"] = p.api_latency_s + ratio((p.missing_state_latency_s - p.api_latency_s) * slow, calls_all)
        return out

    def changes_lost(self) -> int:
        """Accepted customer changes that the stored records no longer hold."""
        lost = 0
        for change_id, lb_id, _ in self.accepted:
            stored = self.lbs[lb_id].stored
            if stored is None or change_id not in stored.changes:
                lost += 1
        return lost

    def _normal_since_s(self) -> float | None:
        """Start of the last stretch of 'normal' minutes that runs to the end (None: not normal at the end)."""
        normal = self.metrics.series().get("normal")
        t = self.metrics.times()
        last = min(int(self.world.now // 60.0), len(t) - 1)
        if normal is None or last < 0 or normal[last] < 0.5:
            return None
        bad = np.nonzero(normal[: last + 1] < 0.5)[0]
        return 0.0 if len(bad) == 0 else float(t[bad[-1] + 1])

    def _outcome(self) -> dict[str, Any]:
        s = self.metrics.series()
        t = self.metrics.times()
        p = self.params
        upto = min(int(self.world.now // 60.0), len(t) - 1) + 1
        damaged = np.nan_to_num(s["damaged_lbs"][:upto])
        deletion_s = p.deletion_at_min * 60.0
        normal_s = self._normal_since_s()
        if not self.deletion_done and normal_s is not None:
            ttn_h: float | None = 0.0
        elif normal_s is None:
            ttn_h = None
        else:
            ttn_h = max(0.0, normal_s - deletion_s) / 3600.0
        lb_hours = float(damaged.sum() / 60.0)
        at_1702 = 302 * 60.0
        share = s["damaged_share"]
        peak_i = int(np.nanargmax(share[:upto])) if upto else 0
        return {
            "deleted_lbs": len(self.deleted_ids),
            "damaged_share_at_17_02": float(share[int(at_1702 // 60)]) if at_1702 < self.world.now else None,
            "damaged_share_peak": float(np.nanmax(share[:upto])),
            "damaged_share_end": float(share[upto - 1]),
            "damaged_lbs_peak": int(np.nanmax(damaged)) if upto else 0,
            "damaged_peak_at": self.when(float(t[peak_i])),
            "damaged_lb_hours": round(lb_hours, 2),
            "damage_fleet_hours": round(lb_hours / p.load_balancers, 4),
            "customer_error_rate_peak": float(np.nanmax(s["customer_error_rate"][:upto])),
            "changes_accepted": len(self.accepted),
            "changes_lost": self.changes_lost(),
            "time_to_normal_h": None if ttn_h is None else round(ttn_h, 3),
            "normal_at": None if normal_s is None or not self.deletion_done else self.when(normal_s),
            "overload_damaged_lbs": int(self.metrics.total("overload_damage")),
            "changes_refused": int(self.metrics.total("changes_refused")),
            "damaged_lbs_end": len(self.damaged),
            "missing_records_end": len(self.missing),
            "running_lbs_end": len(self.lbs),
        }

    def summary(self) -> dict[str, Any]:
        out = self._outcome()
        api = self.extra_series()
        after = (self.metrics.times() >= self.params.deletion_at_min * 60.0) & (self.metrics.times() < self.world.now)
        out["api_error_rate_existing_peak"] = float(np.nanmax(api["api_error_rate_existing"][after])) if after.any() else 0.0
        out["api_latency_s_peak"] = float(np.nanmax(api["api_latency_s"][after])) if after.any() else self.params.api_latency_s
        return out

    def score_card(self) -> ScoreCard:
        o = self._outcome()
        s = self.metrics.series()
        t = self.metrics.times()
        after = t >= self.params.deletion_at_min * 60.0
        error_minutes = float(np.nan_to_num(s["customer_error_rate"])[after].sum())
        ttn = o["time_to_normal_h"]
        fleet_h, lost = o["damage_fleet_hours"], o["changes_lost"]
        score = score_from(fleet_h, ttn, lost)
        band = ScoreCard.band_for(score)
        if not self.deletion_done:
            verdict = "the deletion never happened: production access needed approval"
        elif ttn is None:
            verdict = (f"not back to normal by the end: {o['damaged_lbs_end']} load balancers misconfigured, "
                       f"{o['missing_records_end']} records missing")
            if all(self.share[k] >= 1.0 for k in KINDS) and o["missing_records_end"]:
                verdict += "; workflows kept acting on missing records"
        else:
            verdict = (f"back to normal {ttn:.1f} h after the deletion, with {o['damaged_lb_hours']:.0f} "
                       f"damaged load-balancer-hours")
        if lost:
            verdict += f"; {lost} customer changes lost (the records no longer hold them)"
        return ScoreCard(
            error_minutes=round(error_minutes, 2),
            time_to_recover_min=None if ttn is None else round(ttn * 60.0, 1),
            work_lost=float(lost),
            work_lost_unit="customer changes lost",
            score=score,
            band=band,
            verdict=verdict,
            details={**o, "penalties": penalties(fleet_h, ttn, lost)},
        )
