"""The metadata service: finite capacity, slower under load, and it never gives up.

A storage server asks the metadata service for its membership (the list of
partitions it holds). The service reads the list from its store, bundles it and
sends it back. Three properties of that service made 20 September 2015:

1. **Processing time grows with membership size**: ``base_processing_s +
   per_entry_s x entries`` when a request has a worker to itself
   (:func:`standalone_processing_s`).
2. **Processing time grows with concurrent load**. The service works on up to
   ``slots`` requests at once and shares its ``workers`` among them equally
   (*processor sharing*, :mod:`simkit.sharing`): with ``n`` requests in progress
   and ``n > workers``, each one advances at ``workers / n`` of full speed. Twenty
   simultaneous requests on eight workers each take 2.5 times as long. A request
   that arrives when all slots are taken is dropped: the caller hears nothing and
   times out. So under full load every request takes ``slots / workers`` times as
   long as alone (3.6 with the defaults), and a server whose membership takes more
   than ``allowance / 3.6`` alone cannot renew while the overload lasts.
3. **It keeps working on requests whose caller already gave up.** The storage
   server stops waiting after its allowance; the service cannot tell and finishes
   the request anyway. That work is *wasted*: it occupies a slot and a share of
   every worker, slowing down the requests whose callers are still waiting.

Why not :class:`simkit.service.Service` (workers + a FIFO queue)? Because the
2015 story is about requests *slowing each other down* while they are processed
("multiple, simultaneous requests for these large memberships caused processing
to slow further"), which processor sharing expresses directly. The mechanism is
the kit's (:class:`simkit.sharing.ProcessorSharingService`); this module adds
what a membership costs.
"""

from __future__ import annotations

import simpy

from ...sharing import ProcessorSharingService
from ...world import World

__all__ = ["MetadataService", "standalone_processing_s"]


def standalone_processing_s(entries: int, base_processing_s: float, per_entry_s: float) -> float:
    """Seconds the service needs for a membership of ``entries`` when nothing else is running."""
    return base_processing_s + per_entry_s * entries


class MetadataService(ProcessorSharingService):
    """The metadata service (or one cell of it): a processor-sharing service with
    ``workers`` of capacity and ``slots_per_worker x workers`` request slots whose
    work per request is set by the membership's size. ``name`` prefixes its metrics
    (``metadata_goodput``, ``metadata_wasted``, ``metadata_dropped``, ...)."""

    def __init__(self, world: World, *, workers: float, slots_per_worker: float,
                 base_processing_s: float, per_entry_s: float, name: str = "metadata") -> None:
        super().__init__(world, workers=workers, slots_per_worker=slots_per_worker, name=name)
        self.base_processing_s = base_processing_s
        self.per_entry_s = per_entry_s

    def request(self, entries: int, caller_waits_s: float, kind: str = "renewal") -> simpy.Event:
        """Ask for a membership of ``entries`` entries; the event fires when the reply is sent.

        ``caller_waits_s`` is how long the caller will wait. The service does not act
        on it (it cannot see its callers give up); it is only used to *measure*
        whether the reply was in time (goodput) or too late (wasted work).
        """
        work = standalone_processing_s(entries, self.base_processing_s, self.per_entry_s)
        return self.submit(work, caller_waits_s, kind)
