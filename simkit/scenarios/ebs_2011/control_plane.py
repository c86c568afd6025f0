"""The regional EBS control plane: one pool of threads, calls from every zone.

This is the third loop of the 2011 storm, the one that let the failure escape its
zone. The control plane serves the EBS APIs of *all* zones of the region with one
pool of threads. Calls into the degraded cluster (CreateVolume, and the nodes'
negotiations over which replica is primary) got no answer, and each held its
thread for a long timeout. Enough of them took every thread, and then calls for
perfectly healthy zones failed too.

A **bulkhead** decides how many new calls from a zone may take a thread, given how
many threads each zone holds now. :class:`SharedPool` is 2011; :class:`ZonePools`
gives every zone its own share, so one zone cannot starve the others. A learner's
bulkhead plugs in as any object with the same ``admit`` method::

    simkit.scenarios.ebs_2011.run(params, seed, bulkhead=MyPools(64, zones))

The model is fluid, not call by call (that would be millions of events): every
step it releases the threads whose calls timed out, admits the new long calls
into the degraded cluster, then works out which share of each zone's normal, short
calls found a thread. Little's law turns a call rate into threads: 20 calls/s
that take 0.25 s each need 5 threads.
"""

from __future__ import annotations

from collections import deque
from typing import Mapping, Sequence

from ...params import check_number

__all__ = ["SharedPool", "ZonePools", "ControlPlane", "threads_for"]


class SharedPool:
    """One pool of ``threads`` for every zone: first come, first served (2011)."""

    def __init__(self, threads: int) -> None:
        self.threads = int(check_number("threads", threads, kind=int, minimum=1))

    def admit(self, zone: str, wanted: int, busy: Mapping[str, int]) -> int:
        """How many of ``wanted`` new calls from ``zone`` get a thread, given ``busy`` threads per zone."""
        return max(0, min(wanted, self.threads - sum(busy.values())))


class ZonePools:
    """A bulkhead: each of ``zones`` gets ``threads // len(zones)`` threads of its own."""

    def __init__(self, threads: int, zones: Sequence[str]) -> None:
        threads = int(check_number("threads", threads, kind=int, minimum=1))
        if not zones:
            raise ValueError("zones is empty: a per-zone pool needs at least one zone")
        self.per_zone = threads // len(zones)
        if self.per_zone < 1:
            raise ValueError(f"threads = {threads} is not allowed: fewer threads than zones ({len(zones)})")

    def admit(self, zone: str, wanted: int, busy: Mapping[str, int]) -> int:
        """How many of ``wanted`` new calls from ``zone`` fit in the zone's own pool."""
        return max(0, min(wanted, self.per_zone - busy.get(zone, 0)))


class ControlPlane:
    """Threads held per zone, long calls in flight, and the API error count per zone."""

    def __init__(self, zones: Sequence[str], affected: str, bulkhead, *, timeout_s: float,
                 calls_per_s: float, call_s: float) -> None:
        self.zones = list(zones)
        self.affected = affected
        self.bulkhead = bulkhead
        self.timeout_s = timeout_s
        self.calls_per_s = calls_per_s
        #: threads one zone's normal calls need at once (Little's law), at least one
        self.need = max(1, round(calls_per_s * call_s))
        self.busy: dict[str, int] = {z: 0 for z in self.zones}
        self._held: deque[list] = deque()   # [start_s, zone, threads], oldest first
        self._carry = 0.0                   # fractional long calls carried to the next step
        self.cut_off = False

    @property
    def held(self) -> int:
        """Threads held by calls into the degraded cluster."""
        return sum(entry[2] for entry in self._held)

    def release_all(self) -> None:
        """Every call into the degraded cluster fails at once (the cluster is cut off)."""
        for _start, zone, n in self._held:
            self.busy[zone] -= n
        self._held.clear()

    def _admit(self, zone: str, wanted: int) -> int:
        got = self.bulkhead.admit(zone, wanted, dict(self.busy))
        if isinstance(got, bool) or not isinstance(got, int) or not 0 <= got <= wanted:
            raise ValueError(f"bulkhead.admit({zone!r}, {wanted}, ...) returned {got!r}: "
                             f"must be an integer between 0 and {wanted}")
        return got

    def step(self, now: float, dt: float, *, long_calls: float, create_calls: float) -> dict[str, tuple[float, float]]:
        """Advance one step; return ``{zone: (api_calls, api_errors)}`` for the step.

        ``long_calls``: calls into the degraded cluster this step (they hold a thread
        for the timeout); ``create_calls``: how many of those are customers'
        CreateVolume calls (they fail either way: rejected now or timed out later).
        """
        held = self._held
        while held and held[0][0] + self.timeout_s <= now:
            _start, zone, n = held.popleft()
            self.busy[zone] -= n
        out = {z: [self.calls_per_s * dt, 0.0] for z in self.zones}
        if long_calls > 0:
            self._carry += long_calls
            wanted = int(self._carry)
            self._carry -= wanted
            if wanted:
                got = self._admit(self.affected, wanted)
                if got:
                    held.append([now, self.affected, got])
                    self.busy[self.affected] += got
        out[self.affected][0] += create_calls
        out[self.affected][1] += create_calls
        taken: dict[str, int] = {}
        for zone in self.zones:
            got = self._admit(zone, self.need)
            taken[zone] = got
            self.busy[zone] += got
            out[zone][1] += self.calls_per_s * dt * (1.0 - got / self.need)
        for zone, got in taken.items():
            self.busy[zone] -= got
        return {z: (calls, errors) for z, (calls, errors) in out.items()}


def threads_for(rate_per_s: float, hold_s: float) -> float:
    """Little's law: threads busy on average when calls arrive at ``rate_per_s`` and hold ``hold_s``."""
    return rate_per_s * hold_s
