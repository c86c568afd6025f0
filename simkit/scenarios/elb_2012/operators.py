"""What the on-call engineer can do: the operator actions of the ELB 2012 commander game.

Each action is declared once, with ``@action``, next to its effect: its label, what it
does (the tooltip), its delay read from :class:`.parameters.Params`, how often it may be
taken, its cost in the rubric (:mod:`.game`), and the preconditions whose reasons the
player sees. :class:`OperatorActions` is a part of :class:`.model.Model` (a mixin): the
actions act on the model's workflow switches (:mod:`.switches`), its reconciliation
sweep (:mod:`.sweep`), its records (:mod:`.region`) and the recovery's state machine
(:mod:`.recovery`), whose refusal reasons the restore and merge actions pass on.

The actions, by what they are for:

* **stop the damage**: ``disable_all_workflows``, ``disable_scaling``,
  ``disable_customer_changes`` (at once);
* **get the records back**: ``reconcile`` (a sweep against live state, no snapshot
  needed), or ``restore_snapshot`` then, if attempt 1 fails, ``restore_alternate``,
  then ``merge_changes`` (hours each);
* **come back**: ``enable_workflows_gradually`` (a ramp), or ``enable_workflows_all``
  (everything at once: in this model, an assumption not in the record, the burst of
  queued work breaks healthy load balancers);
* **the root cause**: ``require_approval`` (it cannot undo a deletion already made).
"""

from __future__ import annotations

from typing import Callable

from ...actions import ActionFailed, action
from .parameters import Params
from .recovery import Stage
from .sweep import Sweep
from .switches import KINDS

__all__ = ["OperatorActions"]

_STILL = ("workflows were re-enabled while it ran, and a sweep needs the records and the live "
          "configurations to hold still")


def _hours(field: str) -> Callable[[Params], float]:
    """A delay read from a Params field given in hours."""
    return lambda params: getattr(params, field) * 3600.0


class OperatorActions:
    """The operator actions of :class:`.model.Model` (see the module docstring).

    They use the model's ``params``, ``world``, ``region``, ``control_plane``,
    ``switches``, ``sweep``, ``recovery``, ``reconcile_lb`` and ``approval_required``.
    """

    # -- operator actions: stopping the damage ---------------------------------------------------
    @action("Disable all workflows", cost=1, limit=None,
            description="Stop customer-change and scaling workflows on every load balancer: customers' "
                        "change requests are refused, scaling work is queued until re-enabled.")
    def disable_all_workflows(self) -> str:
        return self._disable(KINDS)

    @disable_all_workflows.precondition
    def disable_all_workflows(self) -> str | None:
        return "all workflows are already disabled" if self.switches.all_off else None

    @action("Disable scaling workflows", cost=1, limit=None,
            description="Stop scale-up/scale-down workflows only; they queue up until re-enabled.")
    def disable_scaling(self) -> str:
        return self._disable(("scaling",))

    @disable_scaling.precondition
    def disable_scaling(self) -> str | None:
        return "scaling workflows are already disabled" if self.switches.is_off("scaling") else None

    @action("Disable customer changes", cost=1, limit=None,
            description="Refuse customers' configuration changes (the API returns an error); creating new "
                        "load balancers keeps working.")
    def disable_customer_changes(self) -> str:
        return self._disable(("customer",))

    @disable_customer_changes.precondition
    def disable_customer_changes(self) -> str | None:
        return "customer changes are already disabled" if self.switches.is_off("customer") else None

    def _disable(self, kinds: tuple[str, ...]) -> str:
        self.switches.disable(kinds)
        return f"{' and '.join(kinds)} workflows disabled: they no longer touch any load balancer"

    # -- operator actions: reconcile -----------------------------------------------------------
    @action("Reconcile against live state", cost=2, limit=None,
            description="Sweep every load balancer (all workflows must be disabled, and stay so until it "
                        "ends): rebuild its record from its live configuration where it is missing or "
                        "differs, and point damaged ones back at their own nodes. It checks "
                        "reconcile_lbs_per_h load balancers an hour (a parameter).")
    def reconcile(self) -> str:
        p = self.params
        self.sweep = Sweep(self.world, self.region, self.reconcile_lb, p.reconcile_lbs_per_h)
        return (f"reconciliation sweep started over {len(self.region)} load balancers "
                f"(about {self.sweep.hours_left():.1f} h)")

    @reconcile.precondition
    def reconcile(self) -> str | None:
        if self.sweep is not None and self.sweep.running:
            if self.sweep.continuous:
                return "the control plane already reconciles continuously"
            return "a reconciliation sweep is already running"
        if not self.switches.all_off:
            return ("disable all workflows first: the sweep compares each record with the live "
                    "configuration, and that needs both to hold still")
        return None

    # -- operator actions: restore and merge (the recovery's state machine) ---------------------
    @action("Restore state from snapshot", delay=_hours("restore_attempt_h"), cost=2, limit=None,
            description="Restore attempt 1: rebuild the state data as it was just before the deletion. Takes "
                        "hours and may yield no usable snapshot; records written after the snapshot are "
                        "replaced.")
    def restore_snapshot(self) -> str:
        if not self._snapshot_usable:
            self.recovery.move(Stage.ATTEMPT1_FAILED, self.world.now)
            raise ActionFailed("attempt 1 yielded no usable snapshot")
        return self._restore("attempt 1")

    @restore_snapshot.precondition
    def restore_snapshot(self) -> str | None:
        return self.recovery.refusal(Stage.ATTEMPT1)

    @restore_snapshot.on_request
    def restore_snapshot(self) -> None:
        # Whether attempt 1 yields a usable snapshot is drawn now, from its own stream.
        self._snapshot_usable = self.world.rng("restore").random() < self.params.snapshot_usable_prob
        self.recovery.move(Stage.ATTEMPT1, self.world.now)

    @action("Restore by the alternate method", delay=_hours("alternate_restore_h"), cost=2, limit=None,
            description="A second way to rebuild the snapshot, devised once the first attempt has failed; "
                        "takes hours, and rewinds every record to the snapshot.")
    def restore_alternate(self) -> str:
        return self._restore("the alternate method")

    @restore_alternate.precondition
    def restore_alternate(self) -> str | None:
        return self.recovery.refusal(Stage.ALTERNATE)

    @restore_alternate.on_request
    def restore_alternate(self) -> None:
        self.recovery.move(Stage.ALTERNATE, self.world.now)

    def _restore(self, method: str) -> str:
        counts = self.region.restore()
        self.recovery.move(Stage.RESTORED, self.world.now)
        return (f"state restored from snapshot by {method}: {counts['restored']} records back, "
                f"{counts['reverted']} reverted, {counts['dropped']} dropped")

    @action("Merge changes since the snapshot", delay=_hours("merge_h"), cost=1, limit=None,
            description="Replay the records the control plane wrote after the snapshot onto the restored "
                        "state, so no customer change is lost.")
    def merge_changes(self) -> str:
        changed = self.region.merge()
        self.recovery.move(Stage.MERGED, self.world.now)
        return f"merge finished: {changed} records brought up to date"

    @merge_changes.precondition
    def merge_changes(self) -> str | None:
        return self.recovery.refusal(Stage.MERGING)

    @merge_changes.on_request
    def merge_changes(self) -> None:
        self.recovery.move(Stage.MERGING, self.world.now)

    # -- operator actions: coming back ------------------------------------------------------------
    @action("Re-enable workflows gradually", cost=1, limit=None,
            description="Turn workflows back on for a growing share of load balancers, all of them after "
                        "the ramp time (parameter gradual_enable_h); queued work drains within the control "
                        "plane's capacity. Stops a reconciliation sweep under way.")
    def enable_workflows_gradually(self) -> str:
        self.switches.start_ramp(self.world.now)
        self._stop_sweep()
        return (f"workflows coming back for a growing share of load balancers "
                f"(all in {self.params.gradual_enable_h:g} h)")

    @enable_workflows_gradually.precondition
    def enable_workflows_gradually(self) -> str | None:
        if self.switches.all_on:
            return "all workflows are already enabled"
        if self.switches.ramp_covers_all:
            return "a gradual re-enable is already under way"
        return None

    @action("Re-enable all workflows at once", cost=2, limit=None,
            description="Turn every workflow back on now: all queued work hits the control plane in the same "
                        "minute, and in this model (an assumption, not in AWS's record) work beyond its "
                        "capacity may fail half-way and break healthy load balancers. Stops a "
                        "reconciliation sweep under way.")
    def enable_workflows_all(self) -> str:
        queued = self.control_plane.queued_count()
        self.switches.enable_all()
        self._stop_sweep()
        broken = self.control_plane.release_backlog_at_once(self.world.now)
        if broken:
            self.world.note(f"{queued} queued workflows hit the control plane at once: "
                            f"{broken} load balancers left misconfigured", "failure")
        return f"all workflows on; {queued} queued workflows released at once, {broken} load balancers broken"

    @enable_workflows_all.precondition
    def enable_workflows_all(self) -> str | None:
        return "all workflows are already enabled" if self.switches.all_on else None

    def _stop_sweep(self) -> None:
        if self._sweeping():
            self.sweep.stop(_STILL)

    # -- operator actions: the root cause ---------------------------------------------------------
    @action("Require approval for production access", cost=1,
            description="From now on, running a process against production state needs approval each time. "
                        "It cannot undo a deletion that has already happened.")
    def require_approval(self) -> str:
        self.approval_required = True
        if self.region.deletion_done:
            return "production access now needs approval; it cannot undo the deletion that already happened"
        return "production access now needs approval: the maintenance process will not run against production"

    @require_approval.precondition
    def require_approval(self) -> str | None:
        return "production access already needs approval" if self.approval_required else None

    def _sweeping(self) -> bool:
        """A one-off reconciliation sweep is under way."""
        return self.sweep is not None and self.sweep.running and not self.sweep.continuous

