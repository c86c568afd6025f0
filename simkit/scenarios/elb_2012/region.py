"""The region's load balancers and the control plane's state data about them.

:class:`Region` holds every :class:`~.fleet.LoadBalancer` and what the control plane
keeps beside them: the *journal* (every record it wrote, which is what a merge
replays), the customer changes it accepted (to tell at the end which ones the records
still hold), and the snapshot taken at the moment of the deletion (what a restore
rewinds to). It also keeps running sets of the load balancers whose record is
missing and of those that are damaged, so the minute-by-minute readings cost nothing
to compute. Call :meth:`Region.sync` after anything may have changed a load balancer.
"""

from __future__ import annotations

import math

from .fleet import Config, JournalEntry, LoadBalancer, merge_journal, restore_from_snapshot

__all__ = ["Region"]


class Region:
    """Load balancers, their records, the journal and the snapshot."""

    def __init__(self) -> None:
        self.lbs: list[LoadBalancer] = []
        self.missing: set[int] = set()        # record missing
        self.missing_new: set[int] = set()    # record missing, created after the deletion
        self.damaged: set[int] = set()        # misconfigured: customers' traffic fails
        self.repairable: set[int] = set()     # damaged, record present: a re-push heals them
        self.damaged_weight = 0.0
        self.total_weight = 0.0
        #: load balancers with this id or above were created after the deletion
        self.first_new_id: float = math.inf
        self.journal: list[JournalEntry] = []
        #: (change id, lb id, t_s) of every customer change the control plane accepted
        self.accepted: list[tuple[int, int, float]] = []
        self.snapshot: dict[int, Config | None] | None = None
        self.snapshot_s: float | None = None
        self.deleted_ids: list[int] = []
        self._next_change_id = 0

    # -- the fleet ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.lbs)

    def add(self, lb: LoadBalancer) -> None:
        self.lbs.append(lb)
        self.total_weight += lb.weight
        self.sync(lb)

    def is_new(self, lb: LoadBalancer) -> bool:
        """Created after the deletion (the API for these kept working)."""
        return lb.lb_id >= self.first_new_id

    def new_change_id(self) -> int:
        self._next_change_id += 1
        return self._next_change_id

    def sync(self, lb: LoadBalancer) -> None:
        """Bring the running sets up to date after ``lb`` may have changed."""
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

    def sync_all(self) -> None:
        for lb in self.lbs:
            self.sync(lb)

    # -- what the control plane writes ----------------------------------------------------
    def write(self, t_s: float, lb: LoadBalancer) -> None:
        """Journal the record ``lb`` has now (called whenever the control plane writes one)."""
        if lb.stored is not None:
            self.journal.append(JournalEntry(t_s, lb.lb_id, lb.stored))

    def accept_change(self, change_id: int, lb: LoadBalancer, t_s: float) -> None:
        self.accepted.append((change_id, lb.lb_id, t_s))

    # -- the deletion and the restore ------------------------------------------------------
    def delete_records(self, ids: list[int], t_s: float) -> None:
        """The maintenance process deletes the records of ``ids``. The state just before is
        what a restore can get back (the snapshot "just before 12:24 PM")."""
        self.snapshot = {lb.lb_id: lb.stored for lb in self.lbs}
        self.snapshot_s = t_s
        self.first_new_id = len(self.lbs)
        self.deleted_ids = sorted(ids)
        for i in self.deleted_ids:
            self.lbs[i].stored = None
            self.sync(self.lbs[i])

    def restore(self) -> dict[str, int]:
        """Rewind every record to the snapshot (see :func:`.fleet.restore_from_snapshot`)."""
        counts = restore_from_snapshot(self.lbs, self.snapshot or {})
        self.sync_all()
        return counts

    def merge(self) -> int:
        """Replay the records written since the snapshot (see :func:`.fleet.merge_journal`)."""
        changed = merge_journal({lb.lb_id: lb for lb in self.lbs}, self.journal, self.snapshot_s or 0.0)
        self.sync_all()
        return changed

    # -- readings --------------------------------------------------------------------------
    @property
    def deletion_done(self) -> bool:
        return self.snapshot_s is not None

    @property
    def damaged_share(self) -> float:
        return len(self.damaged) / len(self.lbs)

    @property
    def damaged_traffic_share(self) -> float:
        """Share of the region's traffic that goes to damaged load balancers."""
        return max(0.0, self.damaged_weight) / self.total_weight

    def changes_lost(self) -> int:
        """Accepted customer changes that the stored records no longer hold."""
        lost = 0
        for change_id, lb_id, _ in self.accepted:
            stored = self.lbs[lb_id].stored
            if stored is None or change_id not in stored.changes:
                lost += 1
        return lost
