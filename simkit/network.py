"""Networks with capacity: links, routes, traffic shifts, disruptions and partitions.

Many cascades start in the network: a link is cut, a partition splits a cluster,
or a change sends traffic where it does not fit. This module describes a network
at the level a postmortem does, not packet by packet:

* a **link** is a shared network (a switch fabric, a backbone) with a
  ``capacity`` (Gbit/s, or any unit you choose) that several nodes attach to;
* a **node** (a server) sends ``demand`` units of traffic and has a **route**: the
  links it may use, in order of preference ("primary", then "secondary"). Its
  traffic goes on the first link of its route that is not disrupted for it;
* **flows** are extra traffic placed directly on a link, not tied to one node
  (re-mirroring copies, a backup job), set and changed as a model runs;
* **changes** happen over time, each with a start and a duration (or open until
  ended): a traffic **shift** moves some nodes' traffic off one link onto
  another; a **disruption** takes a link away from some (or all) nodes; a
  **partition** stops two sides from talking at all.

Loads follow from the routes: a link's load is the demand of the nodes whose
traffic it carries plus its flows, and its *utilisation* is load / capacity. A link
whose utilisation is above its ``overload_limit`` (1.0 by default) is
**overloaded**: it drops so much that nobody can rely on it. So two nodes *can
reach* each other at time ``t`` when no partition separates them and they share a
link that is on both routes, disrupted for neither, and not overloaded.

The model is a pure function of time: ask ``net.can_reach("n1", "n2", t)`` for
any ``t``, past or future. To react when the network changes during a
simulation, :meth:`Network.bind` it to a :class:`simkit.world.World`.

Example: the EBS network shift of April 2011 (see ``simkit.scenarios.ebs_2011``)::

    net = Network()
    net.add_link("primary", capacity=400)        # Gbit/s
    net.add_link("secondary", capacity=40)       # not sized for primary traffic
    net.add_nodes([f"n{i}" for i in range(200)], route=("primary", "secondary"),
                  demand=1.0, group=lambda name: "rack-a" if int(name[1:]) < 50 else "rest")
    shift = net.shift("rack-a", to_link="secondary", start_s=1020)   # the mistake
    net.overloaded("secondary", 1030)   # True: 50 Gbit/s on a 40 Gbit/s network
    net.can_reach("n1", "n99", 1030)    # False: n1 has lost both networks
    net.end(shift, at_s=1620)           # the rollback
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from .params import check_number

__all__ = ["Link", "Change", "NetworkState", "Network"]

#: The kinds of scheduled change a network knows.
CHANGE_KINDS = ("shift", "disruption", "partition")


@dataclass(frozen=True)
class Link:
    """A shared network with a capacity that nodes attach to.

    ``overload_limit`` is the utilisation (load / capacity) above which the link is
    unusable for reachability: 1.0 means "as soon as it is asked to carry more than
    it can". Raise it for a link that degrades gracefully.
    """

    name: str
    capacity: float
    unit: str = "Gbit/s"
    overload_limit: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"link name = {self.name!r} is not allowed: must be a non-empty string")
        check_number(f"capacity of link {self.name!r}", self.capacity, minimum=0,
                     exclusive_minimum=True, unit=self.unit)
        check_number(f"overload_limit of link {self.name!r}", self.overload_limit, minimum=0,
                     exclusive_minimum=True)


@dataclass
class _Node:
    name: str
    group: str
    route: tuple[str, ...]
    demand: float


class Change:
    """One scheduled change: active from ``start_s`` until ``end_s`` (None = until ended).

    Made by :meth:`Network.shift`, :meth:`Network.disrupt` and
    :meth:`Network.partition`; end it early (a rollback) with :meth:`Network.end`.
    """

    def __init__(self, kind: str, label: str, start_s: float, end_s: float | None, *,
                 nodes: frozenset[str] = frozenset(), other: frozenset[str] = frozenset(),
                 from_link: str | None = None, to_link: str | None = None, link: str | None = None) -> None:
        self.kind = kind
        self.label = label
        self.start_s = start_s
        self.end_s = end_s
        self.nodes = nodes          # who is shifted / disrupted / side A of a partition
        self.other = other          # side B of a partition
        self.from_link = from_link  # shift: the link traffic moves off (None = each node's first)
        self.to_link = to_link      # shift: the link traffic moves onto
        self.link = link            # disruption: the link taken away

    def active(self, t_s: float) -> bool:
        """Is this change in effect at time ``t_s``? (start inclusive, end exclusive)"""
        return self.start_s <= t_s and (self.end_s is None or t_s < self.end_s)

    def __repr__(self) -> str:
        end = "open" if self.end_s is None else f"{self.end_s:g}"
        return f"Change({self.kind}, {self.label!r}, {self.start_s:g} s -> {end}, {len(self.nodes)} nodes)"


class NetworkState:
    """The network at one moment: every node's route in effect and the load it puts on links.

    Built by :meth:`Network.state` and cached while the same changes are in force,
    so it is cheap to query many times. Loads, utilisation and overload include the
    network's flows *as they are when you ask*: flows change often, routes rarely.
    """

    def __init__(self, network: "Network", active: tuple[Change, ...]) -> None:
        self.network = network
        self.active = active
        disrupted: dict[str, set[str]] = {}   # node -> links taken away from it
        moved: dict[str, tuple[str | None, str]] = {}  # node -> (from_link, to_link); later shifts win
        self.partitions: list[tuple[frozenset[str], frozenset[str]]] = []
        for change in active:
            if change.kind == "disruption":
                for n in change.nodes:
                    disrupted.setdefault(n, set()).add(change.link)
            elif change.kind == "shift":
                for n in change.nodes:
                    moved[n] = (change.from_link, change.to_link)
            else:
                self.partitions.append((change.nodes, change.other))
        #: each node's links in effect, in order of preference (disrupted ones removed)
        self.routes: dict[str, tuple[str, ...]] = {}
        #: the link carrying each node's traffic (None: every link of its route is cut)
        self.carrying: dict[str, str | None] = {}
        #: traffic the nodes put on each link (flows not included)
        self.node_load = {name: 0.0 for name in network.links}
        for node in network._nodes.values():
            route = node.route
            if node.name in moved:
                route = _shifted(route, *moved[node.name])
            cut = disrupted.get(node.name, ())
            usable = tuple(link for link in route if link not in cut)
            self.routes[node.name] = usable
            carrier = usable[0] if usable else None
            self.carrying[node.name] = carrier
            if carrier is not None:
                self.node_load[carrier] += node.demand

    def load(self, link: str) -> float:
        """Traffic offered to ``link``: its nodes' demand plus its flows."""
        return self.node_load[self.network._link(link)] + self.network._flow_load.get(link, 0.0)

    def utilisation(self, link: str) -> float:
        """Load / capacity of ``link`` (above 1: more than it can carry)."""
        return self.load(link) / self.network.links[link].capacity

    def overloaded(self, link: str) -> bool:
        """Is ``link`` above its overload limit?"""
        return self.utilisation(link) > self.network.links[link].overload_limit

    def delivered_fraction(self, link: str) -> float:
        """Share of the offered traffic the link delivers: min(1, capacity / load)."""
        load = self.load(link)
        return 1.0 if load <= 0 else min(1.0, self.network.links[link].capacity / load)

    def usable_links(self, node: str) -> tuple[str, ...]:
        """The links ``node`` can talk over now: on its route, not disrupted, not overloaded."""
        return tuple(link for link in self.routes[self.network._known(node)] if not self.overloaded(link))

    def isolated(self, node: str) -> bool:
        """True when ``node`` has no usable link at all."""
        return not self.usable_links(node)

    def can_reach(self, a: str, b: str) -> bool:
        """Can node ``a`` talk to node ``b`` now?"""
        if a == b:
            return self.network._known(a) == b
        for side_a, side_b in self.partitions:
            if (a in side_a and b in side_b) or (a in side_b and b in side_a):
                return False
        return bool(set(self.usable_links(a)) & set(self.usable_links(b)))


def _shifted(route: tuple[str, ...], from_link: str | None, to_link: str) -> tuple[str, ...]:
    """The route after moving traffic off ``from_link`` (default: the first) onto ``to_link``."""
    off = from_link if from_link is not None else route[0]
    out: list[str] = []
    for link in route:
        replacement = to_link if link == off else link
        if replacement not in out:
            out.append(replacement)
    if to_link not in out:  # the node was not on from_link at all: it just gains to_link
        out.insert(0, to_link)
    return tuple(out)


class Network:
    """Links, nodes with routes, flows, and changes scheduled over time.

    Build it with :meth:`add_link`, :meth:`add_node` / :meth:`add_nodes`; schedule
    changes with :meth:`shift`, :meth:`disrupt`, :meth:`partition`; end one early with
    :meth:`end`. Query it at any time with :meth:`state` or the shortcuts
    (:meth:`can_reach`, :meth:`utilisation`, :meth:`overloaded`, ...).

    Wherever a method takes ``who``, pass a node name, a group name, or a list of
    them; ``None`` means every node.
    """

    def __init__(self) -> None:
        self.links: dict[str, Link] = {}
        self._nodes: dict[str, _Node] = {}
        self._groups: dict[str, list[str]] = {}
        self._flows: dict[tuple[str, str], float] = {}
        self._flow_load: dict[str, float] = {}
        #: goes up by one whenever routes, demands, nodes, links or changes are edited
        self.version = 0
        self.changes: list[Change] = []
        self._cache: dict[tuple, NetworkState] = {}
        self._listeners: list[Callable[[float], None]] = []
        self._world = None

    # -- building -----------------------------------------------------------------------
    def add_link(self, name: str, capacity: float, *, unit: str = "Gbit/s",
                 overload_limit: float = 1.0) -> Link:
        """Add a link called ``name`` with ``capacity`` (> 0) and return it."""
        if name in self.links:
            raise ValueError(f"link {name!r} already exists")
        link = Link(name, capacity, unit, overload_limit)
        self.links[name] = link
        self._invalidate()
        return link

    def add_node(self, name: str, *, route: Sequence[str], demand: float = 0.0, group: str | None = None) -> None:
        """Add node ``name`` whose traffic (``demand``) uses the links of ``route`` in order.

        ``group`` (default: the node's own name) lets later calls address many nodes at once.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"node name = {name!r} is not allowed: must be a non-empty string")
        if name in self._nodes:
            raise ValueError(f"node {name!r} already exists")
        if name in self._groups:
            raise ValueError(f"node name {name!r} is already used as a group name")
        group = name if group is None else group
        if not isinstance(group, str) or not group:
            raise ValueError(f"group = {group!r} is not allowed: must be a non-empty string")
        if group != name and group in self._nodes:
            raise ValueError(f"group name {group!r} is already used as a node name")
        route_t = self._check_route(route, f"route of node {name!r}")
        demand = check_number(f"demand of node {name!r}", demand, minimum=0)
        self._nodes[name] = _Node(name, group, route_t, demand)
        self._groups.setdefault(group, []).append(name)
        self._invalidate()

    def add_nodes(self, names: Iterable[str], *, route: Sequence[str], demand: float = 0.0,
                  group: str | Callable[[str], str] | None = None) -> None:
        """Add several nodes with the same route and demand; ``group`` may be a function of the name."""
        for name in names:
            self.add_node(name, route=route, demand=demand,
                          group=group(name) if callable(group) else group)

    def set_route(self, who: str | Iterable[str] | None, route: Sequence[str]) -> None:
        """Give the nodes of ``who`` a new route (a configuration change, from now on)."""
        route_t = self._check_route(route, "route")
        for name in self.resolve(who):
            self._nodes[name].route = route_t
        self._invalidate()

    def set_demand(self, who: str | Iterable[str] | None, demand: float) -> None:
        """Set the traffic each node of ``who`` sends."""
        demand = check_number("demand", demand, minimum=0)
        for name in self.resolve(who):
            self._nodes[name].demand = demand
        self._invalidate()

    def set_flow(self, name: str, link: str, load: float) -> None:
        """Put ``load`` units of extra traffic called ``name`` on ``link`` (0 removes it)."""
        self._link(link)
        load = check_number(f"load of flow {name!r}", load, minimum=0)
        key = (link, name)
        if load == 0:
            self._flows.pop(key, None)
        else:
            self._flows[key] = load
        self._flow_load[link] = sum(v for (on, _name), v in self._flows.items() if on == link)

    # -- scheduling changes -------------------------------------------------------------
    def shift(self, who: str | Iterable[str] | None, *, to_link: str, from_link: str | None = None,
              start_s: float, duration_s: float | None = None, label: str | None = None) -> Change:
        """Move the traffic of ``who`` off ``from_link`` (default: each node's first link) onto
        ``to_link`` from ``start_s`` for ``duration_s`` (None: until :meth:`end`).

        During the shift those nodes no longer use ``from_link`` at all: that is what a
        traffic shift is for (taking a router out of the path to upgrade it).
        """
        self._link(to_link)
        if from_link is not None:
            self._link(from_link)
            if from_link == to_link:
                raise ValueError(f"from_link and to_link are both {to_link!r}: a shift must move traffic")
        nodes = frozenset(self.resolve(who))
        return self._schedule(Change("shift", label or f"traffic shift onto {to_link}",
                                     *self._window(start_s, duration_s), nodes=nodes,
                                     from_link=from_link, to_link=to_link))

    def disrupt(self, link: str, *, start_s: float, duration_s: float | None = None,
                who: str | Iterable[str] | None = None, label: str | None = None) -> Change:
        """Take ``link`` away from ``who`` (default: every node) from ``start_s`` for ``duration_s``."""
        self._link(link)
        nodes = frozenset(self.resolve(who))
        return self._schedule(Change("disruption", label or f"{link} disrupted",
                                     *self._window(start_s, duration_s), nodes=nodes, link=link))

    def partition(self, side_a: str | Iterable[str], side_b: str | Iterable[str] | None = None, *,
                  start_s: float, duration_s: float | None = None, label: str | None = None) -> Change:
        """Stop every node of ``side_a`` from reaching every node of ``side_b``
        (default: all the others), from ``start_s`` for ``duration_s``."""
        a = frozenset(self.resolve(side_a))
        if side_b is None:
            b = frozenset(self._nodes) - a
        else:
            b = frozenset(self.resolve(side_b))
            if a & b:
                raise ValueError("partition sides overlap: a node cannot be on both sides")
        if not a or not b:
            raise ValueError("a partition needs at least one node on each side")
        return self._schedule(Change("partition", label or "network partition",
                                     *self._window(start_s, duration_s), nodes=a, other=b))

    def end(self, change: Change, at_s: float) -> None:
        """End ``change`` at ``at_s``: a rollback or a repair. Ending it at or before its
        start cancels it; ending it later than it was going to end is an error."""
        if change not in self.changes:
            raise ValueError(f"{change!r} is not a change of this network")
        at_s = check_number("at_s", at_s, minimum=0, unit="s")
        if change.end_s is not None and at_s >= change.end_s:
            raise ValueError(f"at_s = {at_s!r} is not allowed: the change already ends at {change.end_s:g} s")
        change.end_s = max(at_s, change.start_s)
        self._invalidate()
        self._wake_at(change.end_s)

    # -- queries ------------------------------------------------------------------------
    def resolve(self, who: str | Iterable[str] | None) -> list[str]:
        """The node names ``who`` stands for (names and groups, in a stable order)."""
        if who is None:
            return list(self._nodes)
        items = [who] if isinstance(who, str) else list(who)
        out: list[str] = []
        seen: set[str] = set()
        for item in items:
            if item in self._nodes:
                names = [item]
            elif item in self._groups:
                names = self._groups[item]
            else:
                raise ValueError(f"unknown node or group {item!r}; groups: {', '.join(self._groups) or 'none'}")
            for n in names:
                if n not in seen:
                    seen.add(n)
                    out.append(n)
        if not out:
            raise ValueError("who names no node")
        return out

    @property
    def nodes(self) -> list[str]:
        """Every node name, in the order added."""
        return list(self._nodes)

    def group_of(self, node: str) -> str:
        return self._nodes[self._known(node)].group

    def active_changes(self, t_s: float) -> tuple[Change, ...]:
        """The changes in effect at ``t_s``, in the order they were scheduled."""
        return tuple(c for c in self.changes if c.active(t_s))

    def state(self, t_s: float) -> NetworkState:
        """The network at time ``t_s`` (cached while the same changes are active)."""
        active = self.active_changes(t_s)
        key = tuple(id(c) for c in active)
        state = self._cache.get(key)
        if state is None:
            state = self._cache[key] = NetworkState(self, active)
        return state

    def change_times(self) -> list[float]:
        """Every moment a change starts or ends, sorted."""
        times = {c.start_s for c in self.changes} | {c.end_s for c in self.changes if c.end_s is not None}
        return sorted(times)

    def load(self, link: str, t_s: float) -> float:
        """Traffic offered to ``link`` at ``t_s``, in the link's unit."""
        return self.state(t_s).load(link)

    def utilisation(self, link: str, t_s: float) -> float:
        """Load / capacity of ``link`` at ``t_s`` (above 1 means more than it can carry)."""
        return self.state(t_s).utilisation(link)

    def overloaded(self, link: str, t_s: float) -> bool:
        """Is ``link`` above its overload limit at ``t_s``?"""
        return self.state(t_s).overloaded(link)

    def delivered_fraction(self, link: str, t_s: float) -> float:
        """Share of the traffic offered to ``link`` that it delivers at ``t_s``."""
        return self.state(t_s).delivered_fraction(link)

    def usable_links(self, node: str, t_s: float) -> tuple[str, ...]:
        """The links ``node`` can talk over at ``t_s``."""
        return self.state(t_s).usable_links(node)

    def carrying_link(self, node: str, t_s: float) -> str | None:
        """The link that carries ``node``'s traffic at ``t_s`` (None when every link is cut)."""
        return self.state(t_s).carrying[self._known(node)]

    def isolated(self, node: str, t_s: float) -> bool:
        """True when ``node`` cannot talk over any link at ``t_s``."""
        return self.state(t_s).isolated(node)

    def can_reach(self, a: str, b: str, t_s: float) -> bool:
        """Can node ``a`` talk to node ``b`` at time ``t_s``?"""
        self._known(b)
        return self.state(t_s).can_reach(a, b)

    # -- running inside a simulation ----------------------------------------------------
    def bind(self, world, on_change: Callable[[float], None] | None = None, *,
             record: bool = True, prefix: str = "net_") -> None:
        """Follow the network during a simulation in ``world``.

        At every moment a change starts or ends (including changes scheduled or ended
        later, such as a rollback), ``on_change(t)`` is called and, if ``record``, the
        gauge ``<prefix><link>_utilisation`` is set for each link and the start or end of
        each change is noted on the timeline.
        """
        if self._world is not None:
            raise ValueError("this network is already bound to a world")
        self._world = world
        if on_change is not None:
            self._listeners.append(on_change)
        self._record = record
        self._prefix = prefix
        self._woken: set[float] = set()
        self._wake_at(world.now)
        for t in self.change_times():
            self._wake_at(t)

    def record(self, t_s: float | None = None) -> None:
        """Set the utilisation gauges now (call it after changing flows, if you plot them)."""
        world = self._world
        if world is None:
            raise ValueError("record() needs a world: call bind(world) first")
        t = world.now if t_s is None else t_s
        state = self.state(t)
        for name in self.links:
            world.metrics.gauge(f"{self._prefix}{name}_utilisation", t, state.utilisation(name))

    def _wake_at(self, t_s: float) -> None:
        world = self._world
        if world is None or t_s in self._woken or t_s > world.horizon_s:
            return
        self._woken.add(t_s)
        world.at(t_s, lambda: self._fire(t_s))

    def _fire(self, t_s: float) -> None:
        world = self._world
        if self._record:
            for c in self.changes:
                if c.start_s == t_s:
                    world.note(c.label, "event")
                if c.end_s == t_s and c.end_s > c.start_s:
                    world.note(f"{c.label} ends", "event")
            self.record(t_s)
        for listener in self._listeners:
            listener(t_s)

    # -- checks -------------------------------------------------------------------------
    def _schedule(self, change: Change) -> Change:
        self.changes.append(change)
        self._invalidate()
        self._wake_at(change.start_s)
        if change.end_s is not None:
            self._wake_at(change.end_s)
        return change

    @staticmethod
    def _window(start_s: float, duration_s: float | None) -> tuple[float, float | None]:
        start = check_number("start_s", start_s, minimum=0, unit="s")
        if duration_s is None:
            return start, None
        duration = check_number("duration_s", duration_s, minimum=0, exclusive_minimum=True, unit="s")
        return start, start + duration

    def _check_route(self, route: Sequence[str], what: str) -> tuple[str, ...]:
        if isinstance(route, str) or not isinstance(route, (list, tuple)) or not route:
            raise ValueError(f"{what} = {route!r} is not allowed: must be a non-empty list of link names")
        for link in route:
            self._link(link)
        if len(set(route)) != len(route):
            raise ValueError(f"{what} = {route!r} is not allowed: a link appears twice")
        return tuple(route)

    def _link(self, name: str) -> str:
        if name not in self.links:
            raise ValueError(f"unknown link {name!r}; links: {', '.join(self.links) or 'none yet'}")
        return name

    def _known(self, node: str) -> str:
        if node not in self._nodes:
            raise ValueError(f"unknown node {node!r}")
        return node

    def _invalidate(self) -> None:
        self._cache.clear()
        self.version += 1

    def summary(self, t_s: float) -> Mapping[str, float]:
        """Utilisation of every link at ``t_s``, for printing."""
        state = self.state(t_s)
        return {name: round(state.utilisation(name), 4) for name in self.links}
