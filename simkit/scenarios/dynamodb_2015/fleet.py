"""The storage fleet: servers, their memberships, their renewals, and what customers see.

Four ideas, each a few lines below:

* **Membership size** (:func:`membership_size`). A server holds partitions of many
  tables. A Global Secondary Index has partitions of its own, held by storage
  servers like any other, so a server's membership lists its table partitions
  *and* the GSI partitions that come with them. ``gsi_factor`` says how much GSIs
  multiplied membership sizes: 1 before GSIs, 2 when the indexes together have as
  many partitions as the tables, 3 when twice as many.
* **Renewal** (:func:`renewal_process`, a SimPy process per server). A server
  asks the metadata service for its membership at start-up, periodically, and
  after a network disruption. If the reply does not come within its allowance it
  takes itself out of service (it serves no customer requests) and retries, as
  its retry policy says, until a renewal succeeds. Even a server that retries "at
  once" first takes a few seconds, at random, to drop the timed-out call and
  reconnect, so servers retrying after every allowance do not march in lock-step.
* **Configuration travels with the membership** (:class:`ServerConfig`). What a
  server is configured with (allowance, renewal interval, retry policy) is the
  config it received with its last membership. When operators publish a new one
  (:meth:`FleetSettings.publish`), each server adopts it with its next membership
  that arrives in time. AWS's summary says the metadata service sends a server its
  partitions "and all related information"; that server configuration rides along
  is *the model's assumption*. Its consequence is the point: a server stuck in the
  retry loop never gets a renewal through, so it never hears of the fix.
* **Customer errors** (:class:`Fleet`). Each partition lives on ``replicas``
  servers. A customer request to a partition fails if none of them is in
  service. The fleet keeps, for a sample of partitions, how many of their
  replicas are in service, so the error rate is one division.

Both functions are meant to be replaced by a learner's version: pass yours to
:class:`~simkit.scenarios.dynamodb_2015.Model` as ``membership=`` or ``renewal=``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Callable, Generator

import simpy

from ...policies import ExponentialBackoff, RetryBudget
from ...world import World
from .metadata import MetadataService

__all__ = [
    "membership_size",
    "renewal_process",
    "partitions_per_server",
    "StorageServer",
    "ServerConfig",
    "FleetSettings",
    "Fleet",
    "MembershipFn",
    "RenewalFn",
]

#: A membership-size law: (table_partitions, gsi_factor) -> entries.
MembershipFn = Callable[[int, float], int]
#: A renewal process: (env, server) -> SimPy generator.
RenewalFn = Callable[[simpy.Environment, "StorageServer"], Generator]


def membership_size(table_partitions: int, gsi_factor: float) -> int:
    """Entries in the membership of a server holding ``table_partitions`` table partitions.

    Each table partition brings ``gsi_factor - 1`` GSI partitions with it (on
    average), and every partition is one entry: the size is
    ``table_partitions x gsi_factor``, rounded to a whole number of entries.
    """
    if isinstance(table_partitions, bool) or not isinstance(table_partitions, int) or table_partitions < 0:
        raise ValueError(f"table_partitions = {table_partitions!r} is not allowed: must be an integer >= 0")
    if isinstance(gsi_factor, bool) or not isinstance(gsi_factor, (int, float)) or not gsi_factor >= 1:
        raise ValueError(f"gsi_factor = {gsi_factor!r} is not allowed: must be a number >= 1")
    return round(table_partitions * gsi_factor)


def renewal_process(env: simpy.Environment, server: "StorageServer") -> Generator:
    """One storage server's membership renewals, for the whole run.

    Ask for the membership and wait at most ``server.allowance_s``. In time: back
    in service, then wait until the next renewal is due. Too late: out of service,
    wait as the retry policy says, ask again.
    """
    while True:
        attempt = 0
        while True:
            reply = server.request_membership()
            outcome = yield reply | env.timeout(server.allowance_s)
            if reply in outcome:
                server.back_in_service()
                break
            server.out_of_service()
            attempt += 1
            yield env.timeout(server.retry_delay_s(attempt))
        yield server.renewal_due()


def partitions_per_server(servers: int, median: int, spread: float) -> list[int]:
    """Table partitions held by each server, smallest first: a log-normal spread around
    ``median``, taken at evenly spaced quantiles so that the fleet is the same for every
    seed (only *which* server holds which partitions is random)."""
    normal = NormalDist()
    return [
        max(1, round(median * math.exp(spread * normal.inv_cdf((i + 0.5) / servers))))
        for i in range(servers)
    ]


class StorageServer:
    """One storage server: its membership, whether it serves customers, and its tools
    for renewing (the methods a renewal process calls)."""

    def __init__(self, fleet: "Fleet", index: int, table_partitions: int, entries: int,
                 metadata: MetadataService) -> None:
        self.fleet = fleet
        self.env = fleet.env
        self.index = index
        self.table_partitions = table_partitions
        self.entries = entries
        self.metadata = metadata
        self.in_service = True
        self.reachable = True
        self.partitions: list[int] = []        # customer partitions with a replica here
        self.config: ServerConfig = fleet.settings.published   # the config it runs with
        self.budget = RetryBudget(ratio=fleet.settings.budget_ratio, max_tokens=fleet.settings.budget_tokens)
        self._previous_delay_s = 0.0
        self._due: simpy.Event | None = None
        self._cycle = 0

    # -- what a renewal process uses ---------------------------------------------------------
    @property
    def allowance_s(self) -> float:
        """How long to wait for a membership reply (from this server's config)."""
        return self.config.allowance_s

    def request_membership(self) -> simpy.Event:
        """Send a renewal request; the event fires when the membership arrives.

        If this server is cut off by the network, or renewals are paused, the
        request never reaches the metadata service and the event never fires.
        """
        self.fleet.count("renewal_attempts")
        if not self.reachable or self.fleet.paused:
            return self.env.event()
        return self.metadata.request(self.entries, self.allowance_s)

    def back_in_service(self) -> None:
        """The membership arrived in time: adopt the config that came with it, serve customers."""
        self.fleet.count("renewal_successes")
        self.config = self.fleet.settings.published
        self.budget.on_success()
        self._previous_delay_s = 0.0
        self.fleet.set_in_service(self, True)

    def out_of_service(self) -> None:
        """The membership did not arrive in time: stop serving customers."""
        self.fleet.count("renewal_timeouts")
        self.fleet.set_in_service(self, False)

    def retry_delay_s(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 = first), per the fleet's policy."""
        delay = self.fleet.settings.retry_delay_s(self, attempt)
        self._previous_delay_s = delay
        return delay

    def renewal_due(self) -> simpy.Event:
        """An event that fires when the next renewal is due: after the renewal
        interval, or at once when a network disruption of this server ends."""
        self._cycle += 1
        cycle = self._cycle
        self._due = self.env.event()
        self.env.timeout(self.config.renewal_interval_s).callbacks.append(
            lambda _event: self._ring(cycle))
        return self._due

    # -- what the network does to it ---------------------------------------------------------
    def disconnect(self) -> None:
        """Cut off: customers cannot reach it and its requests go nowhere."""
        self.reachable = False
        self.fleet.set_in_service(self, False)

    def reconnect(self) -> None:
        """Back on the network: it must confirm its membership before serving again."""
        self.reachable = True
        self._ring(self._cycle)

    def _ring(self, cycle: int) -> None:
        if cycle == self._cycle and self._due is not None and not self._due.triggered:
            self._due.succeed()


@dataclass(frozen=True)
class ServerConfig:
    """What one storage server runs with; it arrives with the server's membership."""

    allowance_s: float
    renewal_interval_s: float
    retry_policy: str


class FleetSettings:
    """The server config operators publish, and the retry policies' machinery.

    ``published`` is the newest :class:`ServerConfig`; each server adopts it with its
    next membership that arrives in time (see the module docstring), so during an
    overload a published change reaches the servers that renew, not the ones stuck
    retrying.
    """

    def __init__(self, *, allowance_s: float, renewal_interval_s: float, retry_policy: str,
                 backoff_base_s: float, backoff_cap_s: float, budget_ratio: float,
                 budget_tokens: float, reconnect_s: float, rng) -> None:
        self.published = ServerConfig(allowance_s, renewal_interval_s, retry_policy)
        self.changed = False             # has an operator published a config yet?
        self.reconnect_s = reconnect_s
        self.budget_ratio = budget_ratio
        self.budget_tokens = budget_tokens
        self.backoff = ExponentialBackoff(max_retries=10**9, base_s=backoff_base_s,
                                          cap_s=backoff_cap_s, jitter="full")
        self.rng = rng

    def publish(self, **changes) -> ServerConfig:
        """Publish a new config (fields of :class:`ServerConfig`); servers adopt it as they renew."""
        self.published = replace(self.published, **changes)
        self.changed = True
        return self.published

    def retry_delay_s(self, server: StorageServer, attempt: int) -> float:
        """The retry policy of ``server``'s config, in one place:

        * "immediate": ask again at once (after reconnecting: ``reconnect_s()``);
        * "backoff-jitter": wait a random time in ``[0, min(cap, base x 2^(attempt-1))]``;
        * "budget": ask again at once while the server's token bucket has a token
          (a success deposits ``budget_ratio``), else wait for the next routine
          renewal time.
        """
        policy = server.config.retry_policy
        if policy == "backoff-jitter":
            return self.backoff.delay_s(attempt, self.rng, server._previous_delay_s)
        if policy == "budget" and not server.budget.try_spend():
            return server.config.renewal_interval_s
        return self.reconnect_delay_s()

    def reconnect_delay_s(self) -> float:
        """Seconds a server takes to retry "at once": uniform in ``[0, reconnect_s]``
        (dropping the timed-out call and reconnecting; the model's number). Without it,
        servers that retry after every allowance keep fixed phases and the few that
        happen to follow a finishing request get every free slot."""
        return self.rng.uniform(0.0, self.reconnect_s) if self.reconnect_s > 0 else 0.0


class Fleet:
    """The storage servers, the customer partitions on them, and the error rate.

    ``cells`` is a list of metadata services; server ``i`` asks cell
    ``i * len(cells) // servers`` (neighbouring servers share a cell).
    """

    def __init__(self, world: World, *, table_partitions: list[int], gsi_factor: float,
                 membership: MembershipFn, cells: list[MetadataService], replicas: int,
                 customer_partitions: int, settings: FleetSettings) -> None:
        self.world = world
        self.env = world.env
        self.settings = settings
        self.paused = False
        self._counters = {name: world.metrics.counter(name)
                          for name in ("renewal_attempts", "renewal_successes", "renewal_timeouts")}
        n = len(table_partitions)
        self.servers = [
            StorageServer(self, i, table_partitions[i], membership(table_partitions[i], gsi_factor),
                          cells[i * len(cells) // n])
            for i in range(n)
        ]
        self._place_partitions(world.rng("placement"), replicas, customer_partitions)
        self.in_service_count = n

    def _place_partitions(self, rng, replicas: int, count: int) -> None:
        """Put each sampled customer partition on ``replicas`` distinct servers, a server
        being picked in proportion to its membership size (big memberships hold more)."""
        weights = [s.entries or 1 for s in self.servers]
        self.replicas_up: list[int] = []
        for partition in range(count):
            chosen: set[int] = set()
            while len(chosen) < replicas:
                chosen.add(rng.choices(range(len(self.servers)), weights)[0])
            for index in sorted(chosen):
                self.servers[index].partitions.append(partition)
            self.replicas_up.append(replicas)
        self.partitions_down = 0
        self.partition_count = count

    # -- state changes ---------------------------------------------------------------------------
    def count(self, name: str) -> None:
        self._counters[name][self.world.metrics.bucket(self.env.now)] += 1

    def set_in_service(self, server: StorageServer, in_service: bool) -> None:
        """Move ``server`` in or out of the customer request path, updating partition counts."""
        if server.in_service == in_service or (in_service and not server.reachable):
            return
        server.in_service = in_service
        step = 1 if in_service else -1
        self.in_service_count += step
        up = self.replicas_up
        for partition in server.partitions:
            if in_service:
                if up[partition] == 0:
                    self.partitions_down -= 1
                up[partition] += 1
            else:
                up[partition] -= 1
                if up[partition] == 0:
                    self.partitions_down += 1

    # -- what customers see ----------------------------------------------------------------------
    @property
    def error_rate(self) -> float:
        """Share of customer requests failing now: partitions with no replica in service."""
        return self.partitions_down / self.partition_count

    @property
    def in_service_fraction(self) -> float:
        return self.in_service_count / len(self.servers)

    @property
    def adopted_fraction(self) -> float:
        """Share of servers running the newest published config."""
        if not self.settings.changed:
            return 1.0  # nothing was ever published: everyone runs the config it started with
        newest = self.settings.published
        return sum(1 for s in self.servers if s.config is newest) / len(self.servers)
