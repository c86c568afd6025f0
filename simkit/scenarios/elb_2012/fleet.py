"""Load balancers, their two copies of the truth, and the operations that touch them.

Every load balancer (LB) has two records of its configuration:

* ``lb.live``: what its running nodes actually do (the back-end hosts they send
  traffic to, how many nodes there are). The nodes keep serving from it whatever
  happens to the control plane.
* ``lb.stored``: the control plane's copy, in the regional *state data*. Every
  control-plane workflow (a customer's configuration change, a scale-up or
  scale-down) reads it, computes the new configuration from it, and pushes the
  result to the nodes. ``None`` means the record is missing.

The Christmas Eve 2012 failure lives in that read-compute-push cycle. When the
record is missing, the workflow does not stop and ask: it acts on what it finds,
which is nothing, and leaves the load balancer misconfigured (here: DNS points
at a fresh default node instead of the LB's own nodes, so its customers' traffic
fails). ``lb.damaged`` says whether that has happened.

The functions below are the canonical versions of what the lab asks learners to
write (:func:`apply_workflow`, :func:`reconcile_lb`) and the state operations of
the recovery (:func:`restore_from_snapshot`, :func:`merge_journal`). They are real
operations on the records, so a restore that forgets to merge really does lose
the changes customers made after the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

__all__ = [
    "Config",
    "LoadBalancer",
    "Workflow",
    "apply_workflow",
    "reconcile_lb",
    "restore_from_snapshot",
    "merge_journal",
    "JournalEntry",
]

#: The smallest number of nodes a load balancer runs.
MIN_NODES = 2


@dataclass(frozen=True)
class Config:
    """One load balancer's configuration.

    ``backends``: the hosts traffic is sent to. ``nodes``: how many load balancer
    nodes serve it. ``changes``: the ids of the customer changes this configuration
    includes (so we can tell, at the end, which customer changes survived).
    Frozen: a workflow builds a new Config instead of editing one in place.
    """

    backends: tuple[str, ...]
    nodes: int
    changes: frozenset[int] = frozenset()


@dataclass(eq=False, slots=True)
class LoadBalancer:
    """A running load balancer: live configuration, stored record, health.

    ``weight`` is its share of the region's traffic (relative); ``created_s`` when
    it was created (simulated seconds; 0 for the ones that exist at the start).
    """

    lb_id: int
    live: Config
    stored: Config | None
    weight: float = 1.0
    created_s: float = 0.0
    damaged: bool = False

    @property
    def missing(self) -> bool:
        """True if the control plane has no record of this load balancer."""
        return self.stored is None


@dataclass(frozen=True)
class Workflow:
    """A control-plane workflow run against one load balancer.

    ``kind`` is one of ``"customer_change"`` (register or deregister ``host``,
    recorded as customer change ``change_id``), ``"scale_up"``, ``"scale_down"``
    or ``"repair"`` (re-push the stored configuration unchanged).
    """

    kind: str
    change_id: int | None = None
    host: str | None = None
    remove: bool = False

    KINDS = ("customer_change", "scale_up", "scale_down", "repair")

    def apply(self, config: Config) -> Config:
        """The configuration this workflow produces from ``config`` (pure: no side effects)."""
        if self.kind == "scale_up":
            return Config(config.backends, config.nodes + 1, config.changes)
        if self.kind == "scale_down":
            return Config(config.backends, max(MIN_NODES, config.nodes - 1), config.changes)
        if self.kind == "repair":
            return config
        if self.kind == "customer_change":
            backends = config.backends
            if self.remove and self.host in backends and len(backends) > 1:
                backends = tuple(h for h in backends if h != self.host)
            elif not self.remove and self.host not in backends:
                backends = backends + (self.host,)
            return Config(backends, config.nodes, config.changes | {self.change_id})
        raise ValueError(f"kind = {self.kind!r} is not allowed: must be one of {', '.join(self.KINDS)}")


def apply_workflow(lb: LoadBalancer, workflow: Workflow) -> bool:
    """Run ``workflow`` on ``lb`` the way the 2012 control plane did. True if it completed.

    With a stored record: compute the new configuration *from the stored record*
    (not from the live one), save it as the new record and push it to the nodes;
    a load balancer that was damaged is healed by the push. Without a record: the
    workflow misconfigures the load balancer (``lb.damaged = True``), leaves the
    live configuration on its nodes alone, and fails.
    """
    if lb.stored is None:
        lb.damaged = True
        return False
    new = workflow.apply(lb.stored)
    lb.stored = new
    lb.live = new
    lb.damaged = False
    return True


def reconcile_lb(lb: LoadBalancer) -> bool:
    """Make the stored record agree with the live configuration, and heal the LB.

    The live configuration is the truth: the nodes have been serving from it all
    along. If the record is missing or differs, rebuild it from the live
    configuration; if the load balancer is damaged, point its DNS back at its own
    nodes. Returns True if anything was changed.
    """
    changed = False
    if lb.stored != lb.live:
        lb.stored = lb.live
        changed = True
    if lb.damaged:
        lb.damaged = False
        changed = True
    return changed


@dataclass(frozen=True)
class JournalEntry:
    """One record the control plane wrote: at ``t_s``, LB ``lb_id`` got ``config``."""

    t_s: float
    lb_id: int
    config: Config


def restore_from_snapshot(lbs: Sequence[LoadBalancer], snapshot: Mapping[int, Config]) -> dict[str, int]:
    """Replace every stored record by the snapshot's copy.

    A restore rewinds the whole state data to the snapshot: records written
    after it (changes, load balancers created since) are gone, and records the
    snapshot has come back. Returns counts: ``restored`` (a missing record came
    back), ``reverted`` (a record went back to an older version) and ``dropped``
    (a record the snapshot does not have).
    """
    counts = {"restored": 0, "reverted": 0, "dropped": 0}
    for lb in lbs:
        old = snapshot.get(lb.lb_id)
        if lb.stored is None and old is not None:
            counts["restored"] += 1
        elif lb.stored is not None and old is None:
            counts["dropped"] += 1
        elif lb.stored is not None and old != lb.stored:
            counts["reverted"] += 1
        lb.stored = old
    return counts


def merge_journal(
    lbs_by_id: Mapping[int, LoadBalancer], journal: Iterable[JournalEntry], since_s: float
) -> int:
    """Replay the records written after ``since_s`` (the snapshot time) onto the state.

    For each load balancer the latest journal entry after the snapshot wins: that
    is what the control plane last wrote for it. Returns how many records changed.
    """
    latest: dict[int, Config] = {}
    for entry in journal:
        if entry.t_s >= since_s:
            latest[entry.lb_id] = entry.config
    changed = 0
    for lb_id, config in latest.items():
        lb = lbs_by_id[lb_id]
        if lb.stored != config:
            lb.stored = config
            changed += 1
    return changed
