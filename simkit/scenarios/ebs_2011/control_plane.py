"""The regional EBS control plane: one pool of threads, calls from every zone.

This is the third loop of the 2011 storm, the one that let the failure escape its
zone. The control plane serves the EBS APIs of *all* zones of the region with one
pool of threads. Calls into the degraded cluster (CreateVolume, and the nodes'
negotiations over which replica is primary) got no answer, and each held its
thread for a long timeout. The more threads they held, the fewer were left for the
normal calls of every zone, and API calls failed in perfectly healthy zones too.

A **bulkhead** decides how many new calls from a zone may take a thread, given how
many threads each zone holds now. :class:`SharedPool` is 2011; :class:`ZonePools`
gives every zone its own share, so one zone cannot starve the others. A learner's
bulkhead plugs in as any object with the same ``admit`` method::

    simkit.scenarios.ebs_2011.run(params, seed, bulkhead=MyPools(64, zones))

The model is fluid, not call by call (that would be millions of events). Every
step it:

1. releases the threads whose calls into the cluster timed out;
2. asks the bulkhead how many threads each zone's calls could take now, and which
   zones draw on the same threads (a zone *shares* with another when the other's
   calls would leave it fewer threads);
3. works out the share of calls that find every thread busy with **Erlang's loss
   formula** (:func:`loss_share`): short calls come and go all the time, so a pool
   does not fail all at once when it is nearly full; it turns away a growing share
   of calls. That is why the healthy zones' errors in 2011 were *elevated*, not
   total, and why they rose and fell with the number of hung calls;
4. admits the new calls into the cluster with the same chance of finding a thread
   (the others fail at once) and holds them for the timeout. Calls admitted together
   time out together, so the held threads ring with the timeout's period for a while
   before they settle: the saw-tooth on the dashboard is that echo, not noise.

Little's law turns a call rate into threads: 20 calls/s that take 0.25 s each keep
5 threads busy on average (:func:`threads_for`).
"""

from __future__ import annotations

import heapq
from functools import lru_cache
from typing import Mapping, Sequence

from ...params import check_number

__all__ = ["SharedPool", "ZonePools", "ControlPlane", "threads_for", "loss_share"]


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


def threads_for(rate_per_s: float, hold_s: float) -> float:
    """Little's law: threads busy on average when calls arrive at ``rate_per_s`` and hold ``hold_s``."""
    return rate_per_s * hold_s


@lru_cache(maxsize=4096)
def loss_share(threads: int, erlangs: float) -> float:
    """Share of calls that find all ``threads`` busy when ``erlangs`` threads' worth of
    calls are offered (Erlang's B formula, 1917: calls that find every line busy are
    lost). 0 threads lose everything; no load loses nothing.

    Computed with the stable recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``.
    """
    if erlangs <= 0:
        return 0.0
    share = 1.0
    for k in range(1, max(0, threads) + 1):
        share = erlangs * share / (k + erlangs * share)
    return share


class ControlPlane:
    """Threads held per zone by calls into the degraded cluster, and each zone's API errors.

    ``threads`` is the size of the whole pool (the most any zone could ever be given);
    ``calls_per_s`` and ``call_s`` describe one zone's normal API traffic.
    """

    def __init__(self, zones: Sequence[str], affected: str, bulkhead, *, timeout_s: float,
                 calls_per_s: float, call_s: float, threads: int) -> None:
        self.zones = list(zones)
        self.affected = affected
        self.bulkhead = bulkhead
        self.timeout_s = timeout_s
        self.calls_per_s = calls_per_s
        self.threads = threads
        #: threads one zone's normal calls keep busy on average (Little's law)
        self.offered = threads_for(calls_per_s, call_s)
        #: threads held now by calls into the degraded cluster, per zone
        self.busy: dict[str, float] = {z: 0.0 for z in self.zones}
        self._held: list[tuple[float, int, str, float]] = []   # heap of (deadline_s, seq, zone, threads)
        self._seq = 0
        self.cut_off = False
        #: the share of the affected zone's calls that found no thread, last step
        self.loss: dict[str, float] = {z: 0.0 for z in self.zones}

    @property
    def held(self) -> float:
        """Threads held by calls into the degraded cluster."""
        return sum(entry[3] for entry in self._held)

    def release_all(self) -> None:
        """Every call into the degraded cluster fails at once (the cluster is cut off)."""
        self._held.clear()
        for zone in self.busy:
            self.busy[zone] = 0.0

    # -- how many threads each zone can have ------------------------------------------------
    def _whole(self, extra_zone: str | None = None) -> dict[str, int]:
        busy = {z: int(round(n)) for z, n in self.busy.items()}
        if extra_zone is not None:
            busy[extra_zone] += 1
        return busy

    def _admit(self, zone: str, busy: dict[str, int]) -> int:
        got = self.bulkhead.admit(zone, self.threads, dict(busy))
        if isinstance(got, bool) or not isinstance(got, int) or not 0 <= got <= self.threads:
            raise ValueError(f"bulkhead.admit({zone!r}, {self.threads}, ...) returned {got!r}: "
                             f"must be an integer between 0 and {self.threads}")
        return got

    def losses(self) -> dict[str, float]:
        """Share of each zone's new calls that would find no thread now."""
        busy = self._whole()
        out = {}
        for zone in self.zones:
            free = self._admit(zone, busy)
            if free == 0:
                out[zone] = 1.0
                continue
            offered = 0.0
            for other in self.zones:
                if other == zone or self._admit(zone, self._whole(other)) < free:
                    offered += self._offered(other)
            out[zone] = loss_share(free, round(offered, 9))
        return out

    def _offered(self, zone: str) -> float:
        """Threads' worth of normal calls from ``zone`` (none from a zone cut off at the edge)."""
        return 0.0 if (self.cut_off and zone == self.affected) else self.offered

    # -- one step ----------------------------------------------------------------------------
    def step(self, now: float, dt: float, *, long_calls: float, create_calls: float) -> dict[str, tuple[float, float]]:
        """Advance one step; return ``{zone: (api_calls, api_errors)}`` for the step.

        ``long_calls``: calls into the degraded cluster this step (those that find a
        thread hold it for the timeout; the others fail at once); ``create_calls``:
        how many of those are customers' CreateVolume calls (they fail either way:
        turned away now, or timed out later).
        """
        held = self._held
        while held and held[0][0] <= now:
            _deadline, _seq, zone, n = heapq.heappop(held)
            self.busy[zone] = max(0.0, self.busy[zone] - n)
        self.loss = self.losses()
        if long_calls > 0 and not self.cut_off:
            free = self._admit(self.affected, self._whole())
            got = min(float(free), long_calls * (1.0 - self.loss[self.affected]))
            if got > 0:
                self._seq += 1
                heapq.heappush(held, (now + self.timeout_s, self._seq, self.affected, got))
                self.busy[self.affected] += got
        out = {}
        for zone in self.zones:
            calls = self.calls_per_s * dt
            if self.cut_off and zone == self.affected:
                out[zone] = (calls + create_calls, calls + create_calls)
            else:
                out[zone] = (calls + (create_calls if zone == self.affected else 0.0),
                             calls * self.loss[zone] + (create_calls if zone == self.affected else 0.0))
        return out
