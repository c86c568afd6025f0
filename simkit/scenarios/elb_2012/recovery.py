"""Where the recovery of the state data stands: a small state machine.

On Christmas Eve 2012 the way back went through a fixed sequence of stages, and an
operator could only start the next one when the previous had ended::

    intact --deletion--> lost --restore_snapshot--> attempt 1 --+--> restored --merge--> merging --> merged
                                                     |          ^
                                         no usable snapshot     |
                                                     v          |
                                               attempt 1 failed --restore_alternate--> alternate

(attempt 1 yields a usable snapshot only with probability ``snapshot_usable_prob``;
in 2012 it did not.) :class:`Recovery` holds the current :class:`Stage`, moves only
along :data:`ALLOWED` and, when an operator asks for a stage that cannot come next,
says why in words a player understands: the operator actions' preconditions return
exactly these reasons.

Reconciliation against live state is not a stage here: it needs no snapshot, so it
can repair the records whatever stage the restore is in.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Stage", "ALLOWED", "Recovery"]


class Stage(Enum):
    """The stages of the state data's recovery."""

    INTACT = "intact"                       # nothing deleted (yet)
    LOST = "lost"                           # part of the state data deleted, no restore started
    ATTEMPT1 = "attempt 1"                  # restore attempt 1 running
    ATTEMPT1_FAILED = "attempt 1 failed"    # attempt 1 ended without a usable snapshot
    ALTERNATE = "alternate"                 # the alternate restore method running
    RESTORED = "restored"                   # records rewound to the snapshot
    MERGING = "merging"                     # changes since the snapshot being replayed
    MERGED = "merged"                       # restored and up to date


S = Stage

#: The stages that may follow each stage.
ALLOWED: dict[Stage, frozenset[Stage]] = {
    S.INTACT: frozenset({S.LOST}),
    S.LOST: frozenset({S.ATTEMPT1}),
    S.ATTEMPT1: frozenset({S.ATTEMPT1_FAILED, S.RESTORED}),
    S.ATTEMPT1_FAILED: frozenset({S.ALTERNATE}),
    S.ALTERNATE: frozenset({S.RESTORED}),
    S.RESTORED: frozenset({S.MERGING}),
    S.MERGING: frozenset({S.MERGED}),
    S.MERGED: frozenset(),
}

#: Why an operator cannot start ``target`` while the recovery is at ``current``:
#: ``_WHY_NOT[target][current]``; ``_OTHERWISE[target]`` covers the remaining stages.
_WHY_NOT: dict[Stage, dict[Stage, str]] = {
    S.ATTEMPT1: {
        S.INTACT: "no state has been lost: there is nothing to restore",
        S.ATTEMPT1: "restore attempt 1 is still running",
        S.ATTEMPT1_FAILED: "attempt 1 yielded no usable snapshot; use the alternate method",
        S.ALTERNATE: "the alternate restore is still running",
    },
    S.ALTERNATE: {
        S.INTACT: "no state has been lost: there is nothing to restore",
        S.LOST: "try the usual restore first (restore_snapshot); the alternate method comes after it fails",
        S.ATTEMPT1: "restore attempt 1 is still running",
        S.ALTERNATE: "the alternate restore is already running",
    },
    S.MERGING: {
        S.MERGING: "the merge is already running",
        S.MERGED: "the changes have already been merged",
    },
}
_OTHERWISE: dict[Stage, str] = {
    S.ATTEMPT1: "the state has already been restored",
    S.ALTERNATE: "the state has already been restored",
    S.MERGING: "nothing to merge into: restore a snapshot first",
}


class Recovery:
    """The current stage of the recovery and the moves allowed from it."""

    def __init__(self) -> None:
        self.stage = Stage.INTACT
        #: (simulated seconds, stage) of every move, for the record
        self.history: list[tuple[float, Stage]] = [(0.0, Stage.INTACT)]

    def can_move(self, target: Stage) -> bool:
        return target in ALLOWED[self.stage]

    def refusal(self, target: Stage) -> str | None:
        """Why the recovery cannot move to ``target`` now (the reason shown to the
        player), or None if it can."""
        if self.can_move(target):
            return None
        return _WHY_NOT.get(target, {}).get(self.stage) or _OTHERWISE.get(
            target, f"the recovery is at stage {self.stage.value!r}, not ready for {target.value!r}")

    def move(self, target: Stage, t_s: float) -> None:
        """Move to ``target`` at simulated time ``t_s``; ValueError if that move is not allowed."""
        if not self.can_move(target):
            raise ValueError(f"recovery cannot move from {self.stage.value!r} to {target.value!r}: "
                             f"{self.refusal(target)}")
        self.stage = target
        self.history.append((t_s, target))

    @property
    def restored(self) -> bool:
        """True once a snapshot has been restored (merged or not)."""
        return self.stage in (Stage.RESTORED, Stage.MERGING, Stage.MERGED)

    @property
    def restored_s(self) -> float | None:
        """When the snapshot was restored (None if it has not been)."""
        return next((t for t, stage in self.history if stage is Stage.RESTORED), None)

    def __repr__(self) -> str:
        return f"Recovery(stage={self.stage.value!r})"
