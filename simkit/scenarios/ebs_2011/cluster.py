"""The EBS cluster: nodes with replica slots, volumes in replica pairs, re-mirroring, crashes.

Every volume has two replicas on two different nodes. Each node has a fixed number
of replica slots (all volumes are the same size here), and a few of them are free:
the spare buffer.

When the two nodes of a volume cannot reach each other, the volume has **lost its
peer**. Its I/O blocks (the volume is *stuck*) until it is mirrored again. One node
(the *holder*, which keeps serving the volume) drives the repair; the other one
holds the *previous* replica. The holder asks its :class:`RemirrorPolicy` what to
do, and:

* "reconnect": resynchronises with the previous replica (a short transfer, no new
  space needed);
* "wait": does nothing until the network or the previous replica changes;
* "search": looks for a node with a free slot. Found: the volume is copied there
  (``volume_gbit`` over the secondary network) and the previous replica is left
  behind, still taking its slot (it is only cleaned up after the event). Not found:
  the search fails and the holder tries again after the policy's delay.

Searches and copies travel over the **replication network** (the secondary network
in this model). While customer traffic that was shifted onto it by mistake is more
than it can carry, it drops everything and nobody can re-mirror: volumes that lost
their peer wait, stuck. When the change is rolled back and the network is usable
again, every one of them searches at once. That is when the 2011 storm began (AWS:
the nodes began searching when connectivity was restored), not at the shift.

A node searches for all the volumes it must re-mirror in one **round** (that is
what keeps the model fast: a round is one event, not one per volume). A round
that fails closes all its replication requests at once, and that is where the
2011 race condition bit: the more requests a node closes together, the likelier it
crashes. A crashed node's replicas all need re-mirroring too, and its slots, free
or not, are never reused: capacity loss feeds the storm.
"""

from __future__ import annotations

import math

from ...sharing import SharedProgress
from .params import STEP_S
from .remirror import DECISIONS, RemirrorPolicy

__all__ = ["Cluster", "HEALTHY", "WAITING", "SEARCHING", "COPYING", "LOST", "STATE_NAMES"]

HEALTHY, WAITING, SEARCHING, COPYING, LOST = range(5)
STATE_NAMES = ("healthy", "waiting", "searching", "copying", "lost")
_COPY, _RESYNC = 0, 1


class Cluster:
    """Nodes, volumes and the re-mirroring machinery of one EBS cluster.

    ``network`` is a :class:`simkit.network.Network` whose nodes the cluster adds
    (route primary, then secondary); ``policy`` a :class:`RemirrorPolicy` or
    anything with its ``choose`` and ``delay_s`` methods; ``note(label, kind)``
    writes to the timeline.
    """

    def __init__(self, params, network, policy, world, note, replication_link: str = "secondary") -> None:
        self.p = params
        self.replication_link = replication_link
        # The 2011 policy waits a fixed time after every failed round: no need to ask it
        # hundreds of thousands of times (a learner's policy, even a subclass, is asked).
        self._fixed_delay = policy.base_s if type(policy) is RemirrorPolicy and policy.backoff == "none" else None
        self.net = network
        self.policy = policy
        self.note = note
        self.rng_space = world.rng("ebs.search-target")
        self.rng_backoff = world.rng("ebs.backoff")
        self.rng_race = world.rng("ebs.race")
        n, slots = params.n_nodes, params.slots_per_node
        self.slots = slots
        free_total = round(params.spare_fraction * n * slots)
        used_total = n * slots - free_total
        self.n_volumes = used_total // 2
        used_total = 2 * self.n_volumes
        if self.n_volumes < 1:
            raise ValueError("the cluster holds no volume: lower spare_fraction or add nodes or slots")
        used = [used_total // n + (1 if i < used_total % n else 0) for i in range(n)]
        if max(used) > slots:  # pragma: no cover - guarded by the arithmetic above
            raise AssertionError("more replicas than slots")

        # -- nodes --------------------------------------------------------------------
        self.names: list[str] = []
        self.alive: list[bool] = []
        self.iso: list[bool] = []
        self.free: list[int] = []
        self.on_node: list[set[int]] = []        # volumes with a replica or a copy on the node
        self.searching: list[set[int]] = []      # volumes the node searches space for
        self.orphans: list[int] = []             # how many of them have lost their previous replica too
        self.waiting: list[set[int]] = []        # volumes the node waits on (previous replica out of reach)
        self.next_round: list[int] = []          # step index of the node's next search round, -1 = none
        self._luck: list[float] = []             # race hazard a node can still take before it crashes
        self._race = params.race_crash_prob
        self.fail_rounds: list[int] = []
        self.last_delay: list[float] = []
        self._free_list: list[int] = []          # nodes with a free slot, alive and not isolated
        self._free_pos: dict[int, int] = {}
        self.free_alive = 0                      # free slots on running nodes
        for i in range(n):
            self._new_node(slots - used[i])

        # -- volumes: pair the used slots at random, never both replicas on one node ---
        bag = [i for i in range(n) for _ in range(used[i])]
        rng = world.rng("ebs.placement")
        rng.shuffle(bag)
        for k in range(0, len(bag), 2):
            if bag[k] == bag[k + 1]:
                x = bag[k]
                while True:
                    j = rng.randrange(len(bag))
                    if j // 2 != k // 2 and bag[j] != x and bag[j ^ 1] != x:
                        bag[k + 1], bag[j] = bag[j], bag[k + 1]
                        break
        self.holder = bag[0::2]
        self.other = bag[1::2]
        self.target = [-1] * self.n_volumes
        self._orphan = [False] * self.n_volumes   # counted in orphans[holder]
        self.state = [HEALTHY] * self.n_volumes
        self.count = [self.n_volumes, 0, 0, 0, 0]
        self._copy_id = [-1] * self.n_volumes
        self._copy_kind = [_COPY] * self.n_volumes
        for v in range(self.n_volumes):
            self.on_node[self.holder[v]].add(v)
            self.on_node[self.other[v]].add(v)

        # -- copies progress together over the secondary network (processor sharing) ------
        self._copies: SharedProgress[tuple[int, int]] = SharedProgress()   # items: (copy id, volume)
        self._seq = 0

        # -- bookkeeping read by the model ---------------------------------------------
        self.k = 0                               # current step index
        self._calendar: dict[int, list[int]] = {}
        self._state = None                       # the NetworkState in force
        self._usable: list[frozenset[str]] = []  # each node's usable links in that state
        self._partitions = False
        self.replication_up = True               # can nodes re-mirror over the replication network?
        self.throttled = False
        self.n_isolated = 0                      # running nodes that cannot talk to anyone
        self.nodes_crashed = 0
        self.stale_slots = 0
        self.step_searches = 0
        self.step_failed = 0
        self.step_failed_orphans = 0
        self.step_peer_lost = 0
        self.step_hazard = 0.0

    # -- nodes ----------------------------------------------------------------------------
    def _new_node(self, free: int) -> int:
        i = len(self.names)
        name = f"n{i:03d}"
        self.names.append(name)
        self.alive.append(True)
        self.iso.append(False)
        self.free.append(free)
        self.on_node.append(set())
        self.searching.append(set())
        self.orphans.append(0)
        self.waiting.append(set())
        self.next_round.append(-1)
        self._luck.append(self.rng_race.expovariate(1.0))
        self.fail_rounds.append(0)
        self.last_delay.append(0.0)
        self.free_alive += free
        self._refresh_free(i)
        return i

    def add_nodes(self, count: int, demand_gbps: float, route: tuple[str, ...]) -> list[str]:
        """Bring ``count`` empty nodes into the cluster (and the network); return their names."""
        added = []
        for _ in range(count):
            i = self._new_node(self.slots)
            self._usable.append(frozenset())  # known at the next network check
            self.net.add_node(self.names[i], route=route, demand=demand_gbps, group="added")
            added.append(self.names[i])
        return added

    def _refresh_free(self, i: int) -> None:
        eligible = self.free[i] > 0 and self.alive[i] and not self.iso[i]
        pos = self._free_pos.get(i)
        if eligible and pos is None:
            self._free_pos[i] = len(self._free_list)
            self._free_list.append(i)
        elif not eligible and pos is not None:
            last = self._free_list.pop()
            if last != i:
                self._free_list[pos] = last
                self._free_pos[last] = pos
            del self._free_pos[i]

    @property
    def space_reachable(self) -> bool:
        """Is there a free slot on some running, connected node?"""
        return bool(self._free_list)

    def _reach(self, a: int, b: int) -> bool:
        if self.iso[a] or self.iso[b]:
            return False
        if self._partitions:
            return self._state.can_reach(self.names[a], self.names[b])
        return not self._usable[a].isdisjoint(self._usable[b])

    # -- volume states --------------------------------------------------------------------
    def _set(self, v: int, state: int) -> None:
        self.count[self.state[v]] -= 1
        self.state[v] = state
        self.count[state] += 1

    @property
    def stuck(self) -> int:
        """Volumes whose I/O is blocked: waiting, searching or being copied."""
        return self.count[WAITING] + self.count[SEARCHING] + self.count[COPYING]

    def _lose_peer(self, v: int, keeper: int, previous: int) -> None:
        """Volume ``v`` lost its peer; ``keeper`` drives the repair, ``previous`` has the old replica."""
        self.holder[v] = keeper
        self.other[v] = previous
        self._set(v, WAITING)
        self.step_peer_lost += 1
        self._decide(v)

    def _decide(self, v: int) -> None:
        """Ask the policy what to do for pending volume ``v`` now, and do it."""
        i, prev = self.holder[v], self.other[v]
        self._unsearch(i, v)
        self.waiting[i].discard(v)
        prev_alive = prev >= 0 and self.alive[prev]
        prev_reachable = prev_alive and self._reach(i, prev)
        decision = self.policy.choose(prev_alive, prev_reachable)
        if decision not in DECISIONS:
            raise ValueError(f"the re-mirror policy's choose() returned {decision!r}: "
                             f"must be one of {', '.join(map(repr, DECISIONS))}")
        if decision == "reconnect":
            if not prev_reachable:
                raise ValueError("the re-mirror policy chose 'reconnect' although the previous replica "
                                 f"is {'out of reach' if prev_alive else 'gone'}: it can only reconnect "
                                 "when previous_reachable is True")
            self._start_copy(v, prev, self.p.resync_gbit, _RESYNC)
        elif decision == "wait":
            self._set(v, WAITING)
            self.waiting[i].add(v)
        elif self.iso[i] or not self.replication_up:
            self._set(v, WAITING)           # it cannot search now: it waits for the network
            self.waiting[i].add(v)
        else:
            self._set(v, SEARCHING)
            self.searching[i].add(v)
            if not prev_alive:
                self._orphan[v] = True
                self.orphans[i] += 1
            self._kick(i)

    def _unsearch(self, i: int, v: int) -> None:
        """Node ``i`` no longer searches space for ``v``."""
        if v in self.searching[i]:
            self.searching[i].discard(v)
            if self._orphan[v]:
                self._orphan[v] = False
                self.orphans[i] -= 1

    def _lose(self, v: int) -> None:
        """No running node has a current copy of ``v``: it needs manual recovery."""
        self._unsearch(self.holder[v], v)
        self.waiting[self.holder[v]].discard(v)
        self._set(v, LOST)

    # -- search rounds ----------------------------------------------------------------------
    def _kick(self, i: int) -> None:
        """Make sure node ``i`` has a search round scheduled (next step, unless one is due)."""
        if self.next_round[i] < 0:
            self._schedule(i, self.k + 1)

    def _schedule(self, i: int, k: int) -> None:
        self.next_round[i] = k
        self._calendar.setdefault(k, []).append(i)

    def rounds(self, k: int) -> None:
        """Run the search rounds due at step ``k``."""
        self.k = k
        for i in self._calendar.pop(k, ()):
            if self.next_round[i] == k:
                self.next_round[i] = -1
                self._round(i)

    def _round(self, i: int) -> None:
        """Node ``i`` searches once for every volume it must re-mirror."""
        volumes = self.searching[i]
        if not volumes or not self.alive[i] or self.iso[i] or not self.replication_up:
            if not volumes:
                self.fail_rounds[i] = 0
            return
        failed = len(volumes)
        self.step_searches += failed
        if self._free_list:
            for v in sorted(volumes):
                t = self._find_space(i, self.other[v])
                if t < 0:
                    break
                self._unsearch(i, v)
                self._start_copy(v, t, self.p.volume_gbit, _COPY)
                failed -= 1
            if not failed:
                self.fail_rounds[i] = 0
                self.last_delay[i] = 0.0
                return
        self.step_failed += failed
        self.step_failed_orphans += self.orphans[i]
        if failed > 1 and self._race:
            # The race: every pair of requests closed together may collide. A round's
            # chance to crash the node is 1 - exp(-race_crash_prob * pairs); drawing each
            # node's "bad luck" once (an exponential threshold) gives exactly that.
            hazard = self._race * failed * (failed - 1) / 2
            self.step_hazard += hazard
            self._luck[i] -= hazard
            if self._luck[i] <= 0:
                self.crash(i, f"node {self.names[i]} crashed: it closed {failed} replication requests "
                              "at once (race condition)")
                return
        failures = self.fail_rounds[i] = self.fail_rounds[i] + 1
        delay = self._fixed_delay
        if delay is None:
            delay = self.policy.delay_s(failures, self.rng_backoff, self.last_delay[i])
            try:
                ok = 0.0 <= delay < math.inf
            except TypeError:
                ok = False
            if not ok:
                raise ValueError(f"the re-mirror policy's delay_s({failures}, rng, {self.last_delay[i]:g}) "
                                 f"returned {delay!r}: must be a number of seconds >= 0")
        if self.throttled:
            delay = max(delay, self.p.throttle_interval_s * self.rng_backoff.uniform(0.5, 1.5))
        self.last_delay[i] = delay
        k = self.k + (1 if delay <= STEP_S else math.ceil(delay / STEP_S - 1e-9))
        self.next_round[i] = k
        due = self._calendar.get(k)
        if due is None:
            self._calendar[k] = [i]
        else:
            due.append(i)

    def _find_space(self, i: int, prev: int) -> int:
        """A node with a free slot that ``i`` can reach (not ``i``, not ``prev``), or -1."""
        free_list = self._free_list
        if not free_list:
            return -1
        for _ in range(4):
            j = free_list[self.rng_space.randrange(len(free_list))]
            if j != i and j != prev and self._reach(i, j):
                return j
        for j in free_list:
            if j != i and j != prev and self._reach(i, j):
                return j
        return -1

    # -- copies -----------------------------------------------------------------------------
    def _start_copy(self, v: int, t: int, gbit: float, kind: int) -> None:
        if kind == _COPY:
            self.free[t] -= 1
            self.free_alive -= 1
            self._refresh_free(t)
            self.on_node[t].add(v)
        self.target[v] = t
        self._set(v, COPYING)
        self._seq += 1
        self._copy_id[v] = self._seq
        self._copy_kind[v] = kind
        self._copies.add(gbit, (self._seq, v))

    def _abort_copy(self, v: int) -> None:
        t = self.target[v]
        if self._copy_kind[v] == _COPY:
            self.on_node[t].discard(v)
            if self.alive[t]:  # the half-written slot is free again
                self.free[t] += 1
                self.free_alive += 1
                self._refresh_free(t)
        self.target[v] = -1
        self._copy_id[v] = -1
        self._set(v, WAITING)

    @property
    def copying(self) -> int:
        return self.count[COPYING]

    def progress(self, gbit_each: float) -> None:
        """Every copy in flight moves ``gbit_each`` more Gbit; finish those that are done
        (an aborted copy stays in the bookkeeping until its mark, and is skipped then)."""
        for seq, v in self._copies.advance(gbit_each):
            if self._copy_id[v] == seq:
                self._finish(v)

    def _finish(self, v: int) -> None:
        if self._copy_kind[v] == _COPY:
            old = self.other[v]
            if old >= 0:
                self.on_node[old].discard(v)
                self.stale_slots += 1     # the previous replica keeps its slot until cleanup
            self.other[v] = self.target[v]
        self.target[v] = -1
        self._copy_id[v] = -1
        self._set(v, HEALTHY)

    # -- failures ---------------------------------------------------------------------------
    def crash(self, i: int, label: str) -> None:
        """Node ``i`` dies: its slots are gone and every volume it touched needs attention."""
        if not self.alive[i]:
            return
        self.alive[i] = False
        self.nodes_crashed += 1
        if self.iso[i]:
            self.n_isolated -= 1
        self.free_alive -= self.free[i]
        self._refresh_free(i)
        for v in self.searching[i]:
            self._orphan[v] = False
        self.searching[i].clear()
        self.orphans[i] = 0
        self.waiting[i].clear()
        self.next_round[i] = -1
        self.note(label, "failure")
        for v in sorted(self.on_node[i]):
            state = self.state[v]
            if state == HEALTHY:
                keeper = self.other[v] if self.holder[v] == i else self.holder[v]
                self._lose_peer(v, keeper, i)
            elif state == COPYING:
                if self.holder[v] == i:
                    self._abort_copy(v)
                    self._hand_over(v, i)
                elif self.target[v] == i:
                    self._abort_copy(v)
                    self._decide(v)
                # else: the dead node only held the stale previous replica; the copy goes on
            elif state in (WAITING, SEARCHING):
                if self.holder[v] == i:
                    self._hand_over(v, i)
                else:
                    self._decide(v)     # the previous replica is gone now
        self.on_node[i].clear()

    def _hand_over(self, v: int, dead: int) -> None:
        """The holder of pending ``v`` died: the previous replica takes over, if it is alive."""
        prev = self.other[v]
        if prev >= 0 and self.alive[prev]:
            self.holder[v] = prev
            self.other[v] = dead
            self._decide(v)
        else:
            self._lose(v)

    # -- the network ------------------------------------------------------------------------
    def on_network_change(self, state, full: bool) -> None:
        """The network changed: update who is isolated, and every volume that notices.

        ``full``: the set of changes in force changed (a partition may have appeared),
        so every volume is checked; otherwise only the volumes on nodes whose
        isolation changed.
        """
        self._state = state
        self._partitions = bool(state.partitions)
        link = self.replication_link
        usable = state.node_load[link] <= state.network.links[link].capacity
        if usable != self.replication_up:
            self.replication_up = usable
            full = True
        self._usable = [frozenset(state.usable_links(name)) for name in self.names]
        changed = []
        for i, name in enumerate(self.names):
            iso = not self._usable[i]
            if iso != self.iso[i]:
                self.iso[i] = iso
                changed.append(i)
                self._refresh_free(i)
        self.n_isolated = sum(1 for i, up in enumerate(self.alive) if up and self.iso[i])
        if full:
            volumes = range(self.n_volumes)
        else:
            touched: set[int] = set()
            for i in changed:
                touched |= self.on_node[i]
            volumes = sorted(touched)
        for v in volumes:
            state_v = self.state[v]
            if state_v == HEALTHY:
                a, b = self.holder[v], self.other[v]
                if not self._reach(a, b):
                    keeper, previous = (b, a) if self.iso[a] and not self.iso[b] else (a, b)
                    self._lose_peer(v, keeper, previous)
            elif state_v in (WAITING, SEARCHING):
                self._decide(v)
            elif state_v == COPYING and not self._reach(self.holder[v], self.target[v]):
                self._abort_copy(v)
                self._decide(v)
        for i in changed:
            if not self.iso[i] and self.alive[i] and self.searching[i]:
                self._kick(i)

    def begin_step(self) -> None:
        """Reset the per-step counters the model reads."""
        self.step_searches = 0
        self.step_failed = 0
        self.step_failed_orphans = 0
        self.step_peer_lost = 0
        self.step_hazard = 0.0
