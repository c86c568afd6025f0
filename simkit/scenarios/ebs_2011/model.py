"""The ``ebs-2011`` model: the cluster, its two networks and the regional control plane, in steps.

Every ``STEP_S`` (30 s) the model:

1. looks at the network: if it changed (the wrong shift, the rollback, the
   secondary network tipping into overload), the cluster finds out which nodes are
   cut off and which volumes lost their peer;
2. runs the search rounds that are due (:mod:`.cluster`);
3. puts the searches and copies on the secondary network as flows, and moves every
   copy forward by its share of that network's capacity;
4. steps the control plane (:mod:`.control_plane`): calls into the degraded cluster
   take threads for the long timeout, then each zone's normal calls get what is left;
5. records the series the dashboard and the score read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...metrics import ratio
from ...network import Network
from ...world import World
from ..base import ActionSpec, Panel, ScenarioModel, ScoreCard
from .cluster import LOST, SEARCHING, Cluster
from .control_plane import ControlPlane, SharedPool, ZonePools
from .params import CLOCK_START_S, STEP_S, Params
from .remirror import RemirrorPolicy

__all__ = ["Model", "ZONE_LETTERS", "HISTORICAL_PLAN"]

ZONE_LETTERS = "abcdefgh"
ROUTE = ("primary", "secondary")
BUCKET_S = 60.0

#: What AWS did on the day, as a commander plan (times of day, PDT).
HISTORICAL_PLAN = [("02:40", "disable_create_volume"), ("08:20", "isolate_control_plane"),
                   ("11:30", "throttle_remirror")]


class Model(ScenarioModel):
    """One EBS cluster in zone a, two networks, a regional control plane for all zones.

    ``remirror`` replaces the re-mirror policy the parameters describe (see
    :mod:`.remirror`); ``bulkhead`` replaces the control plane's thread pool (see
    :mod:`.control_plane`). That is how a learner's own pieces run in the scenario.
    """

    name = "ebs-2011"
    title = "EBS, April 2011: the misrouted network shift and the re-mirroring storm"
    Params = Params
    tick_s = 300.0
    actions = {
        "rollback_network": ActionSpec(
            "rollback_network", "Roll back the network change",
            "Send the primary traffic back to the primary network (at once).", 0.0),
        "disable_create_volume": ActionSpec(
            "disable_create_volume", "Disable CreateVolume in zone a",
            "Reject new CreateVolume calls for the affected zone at once, so they stop "
            "tying up control-plane threads (customers in zone a get errors instead).", 0.0),
        "isolate_control_plane": ActionSpec(
            "isolate_control_plane", "Cut the cluster off from the control plane",
            "Stop all communication between the degraded cluster and the regional control "
            "plane; calls into the cluster fail fast (takes 5 min to put in place).", 300.0),
        "throttle_remirror": ActionSpec(
            "throttle_remirror", "Stop futile searching",
            "Push a change to the nodes: search for space at most about every 15 min, "
            "jittered (takes 10 min to roll out).", 600.0),
        "add_capacity": ActionSpec(
            "add_capacity", "Add storage servers",
            "Truck in and start more storage servers (slow: about 4 h at night).", 4 * 3600.0),
        "shorten_timeout": ActionSpec(
            "shorten_timeout", "Shorten the control-plane timeout",
            "Deploy a short timeout for calls into the cluster (10 min to deploy).", 600.0),
        "split_pool": ActionSpec(
            "split_pool", "Split the thread pool per zone",
            "Deploy a bulkhead: each zone gets its own share of the threads (30 min).", 1800.0),
    }
    panels = (
        Panel("Volumes in the affected zone", [("stuck_share", "stuck (I/O blocked)"),
                                               ("searching_share", "searching for space"),
                                               ("free_share", "free space (share of slots)")],
              "% of volumes / slots", scale=100),
        Panel("Loop 1: the search storm", [("searches", "searches for space per minute")], "searches/min"),
        Panel("Loop 2: capacity lost", [("nodes_crashed", "nodes crashed (race condition)"),
                                        ("volumes_lost", "volumes lost")], "count"),
        Panel("Loop 3: the regional control plane", [("cp_threads_held", "threads held by calls into the cluster"),
                                                     ("api_error_share_healthy_pct", "API errors, healthy zones (%)"),
                                                     ("api_error_share_affected_pct", "API errors, zone a (%)")],
              "threads / %"),
        Panel("Networks", [("net_primary_utilisation", "primary"),
                           ("net_secondary_utilisation", "secondary")], "utilisation (1 = full)"),
    )

    def __init__(self, params: Params | dict | None = None, seed: int = 0, *,
                 remirror: Any = None, bulkhead: Any = None) -> None:
        super().__init__(params, seed)
        p = self.params
        self.world = World(seed, horizon_s=p.horizon_s, bucket_s=BUCKET_S, clock_start_s=CLOCK_START_S)
        _check_plugin("remirror", remirror, ("choose", "delay_s"))
        _check_plugin("bulkhead", bulkhead, ("admit",))
        self.zones = list(ZONE_LETTERS[: p.n_zones])
        self.affected = self.zones[0]

        net = self.network = Network()
        net.add_link("primary", p.primary_capacity_gbps)
        net.add_link("secondary", p.secondary_capacity_gbps)
        self.remirror = remirror if remirror is not None else RemirrorPolicy.from_params(p)
        self.cluster = Cluster(p, net, self.remirror, self.world, self.world.note)
        n_shifted = round(p.isolated_fraction * p.n_nodes)
        for i, name in enumerate(self.cluster.names):
            net.add_node(name, route=ROUTE, demand=p.node_demand_gbps,
                         group="behind-router" if i < n_shifted else "elsewhere")
        self.shift = None
        self.rolled_back_at_s: float | None = None
        if n_shifted:
            self.shift = net.shift("behind-router", from_link="primary", to_link="secondary",
                                   start_s=p.trigger_at_s, label="traffic shift onto the secondary network")
            self.world.at(p.trigger_at_s, lambda: self.world.note(
                f"network change: primary traffic of {n_shifted} nodes shifted onto the "
                "secondary network by mistake", "trigger"))
            if p.auto_rollback_after_s > 0:
                net.end(self.shift, p.trigger_at_s + p.auto_rollback_after_s)
                self.world.at(p.trigger_at_s + p.auto_rollback_after_s, self._auto_rollback)

        if bulkhead is None:
            bulkhead = SharedPool(p.cp_threads) if p.cp_pool == "shared" else ZonePools(p.cp_threads, self.zones)
        self.cp = ControlPlane(self.zones, self.affected, bulkhead, timeout_s=p.cp_timeout_s,
                               calls_per_s=p.api_calls_per_s, call_s=p.api_call_s)
        self.create_disabled = False
        self.requested: set[str] = set()
        self.total_slots = p.n_nodes * p.slots_per_node
        self._net_full: tuple | None = None
        self._net_over: tuple | None = None
        self._storm_noted = False
        self._brownout = False
        # Every series exists from the start, so a result (or a dashboard) can be drawn at 00:30.
        for name in ["searches", "failed_searches", "expected_crashes"] + \
                [f"api_{what}_{zone}" for zone in self.zones for what in ("calls", "errors")]:
            self.world.metrics.count(name, 0.0, 0.0)
        self._record(0.0, net.state(0.0))
        self.world.every(STEP_S, self._step)

    # -- the step ---------------------------------------------------------------------------
    def _step(self) -> None:
        t = self.world.now
        p, c, net, m = self.params, self.cluster, self.network, self.world.metrics
        c.begin_step()
        state = net.state(t)
        full_key = (net.version, tuple(id(ch) for ch in state.active))
        over_key = (state.overloaded("primary"), state.overloaded("secondary"))
        if full_key != self._net_full or over_key != self._net_over:
            c.on_network_change(state, full=full_key != self._net_full)
            self._net_full, self._net_over = full_key, over_key

        c.rounds(int(round(t / STEP_S)))

        net.set_flow("space searches", "secondary", c.step_searches * p.search_gbit / STEP_S)
        net.set_flow("re-mirror copies", "secondary", c.copying * p.copy_gbps)
        c.progress(p.copy_gbps * state.delivered_fraction("secondary") * STEP_S)

        degraded = c.n_isolated > 0 or (not c.space_reachable and c.count[SEARCHING] > 0)
        create = p.create_volume_per_s * STEP_S
        if self.create_disabled or self.cp.cut_off:
            create_errors, create_long = create, 0.0
        elif degraded:
            create_errors, create_long = create, create
        else:
            create_errors, create_long = 0.0, 0.0
        negotiations = c.step_peer_lost + p.negotiations_per_search * c.step_failed
        long_calls = create_long + (negotiations if degraded and not self.cp.cut_off else 0.0)
        api = self.cp.step(t, STEP_S, long_calls=long_calls, create_calls=create_long)
        if create_errors > create_long:  # rejected at the edge: errors, no thread
            calls, errors = api[self.affected]
            api[self.affected] = (calls + create_errors, errors + create_errors)

        healthy_calls = healthy_errors = 0.0
        for zone, (calls, errors) in api.items():
            m.count(f"api_calls_{zone}", t, calls)
            m.count(f"api_errors_{zone}", t, errors)
            if zone != self.affected:
                healthy_calls += calls
                healthy_errors += errors
        m.count("searches", t, c.step_searches)
        m.count("failed_searches", t, c.step_failed)
        m.count("expected_crashes", t, c.step_hazard)
        self._record(t, state)
        self._notes(t, healthy_errors / healthy_calls if healthy_calls else 0.0)

    def _record(self, t: float, state) -> None:
        """Set the gauges: the state of the cluster, the control plane and the networks at ``t``."""
        c, m = self.cluster, self.world.metrics
        v = c.n_volumes
        m.gauge("stuck_share", t, c.stuck / v)
        m.gauge("searching_share", t, c.count[SEARCHING] / v)
        m.gauge("copying_share", t, c.copying / v)
        m.gauge("free_slots", t, c.free_alive)
        m.gauge("free_share", t, c.free_alive / self.total_slots)
        m.gauge("nodes_crashed", t, c.nodes_crashed)
        m.gauge("isolated_nodes", t, c.n_isolated)
        m.gauge("volumes_lost", t, c.count[LOST])
        m.gauge("cp_threads_held", t, self.cp.held)
        m.gauge("net_primary_utilisation", t, state.utilisation("primary"))
        m.gauge("net_secondary_utilisation", t, state.utilisation("secondary"))

    def _notes(self, t: float, healthy_share: float) -> None:
        c = self.cluster
        if not self._storm_noted and c.count[SEARCHING] > 0 and not c.space_reachable:
            self._storm_noted = True
            self.world.note("free space exhausted: nodes search the cluster again and again", "failure")
        if not self._brownout and healthy_share > 0.5:
            self._brownout = True
            self.world.note("control-plane threads exhausted: API errors in healthy zones", "failure")
        elif self._brownout and healthy_share < 0.01:
            self._brownout = False
            self.world.note("API calls in healthy zones succeed again", "recovery")

    def _auto_rollback(self) -> None:
        if self.rolled_back_at_s is None:
            self.rolled_back_at_s = self.world.now
            self.world.note("network engineers roll the change back", "recovery")

    # -- operator actions ---------------------------------------------------------------------
    def precondition(self, action: str) -> str | None:
        p = self.params
        if self.now < p.trigger_at_s:
            return f"nothing has happened yet: the network change comes at {self.world.clock(p.trigger_at_s)}"
        if action == "rollback_network":
            if self.shift is None:
                return "this run has no network change to roll back"
            if self.shift.end_s is not None and self.shift.end_s <= self.now:
                return "the network change is already rolled back"
            return None
        if action == "disable_create_volume" and self.create_disabled:
            return "CreateVolume is already disabled in zone a"
        if action == "split_pool" and isinstance(self.cp.bulkhead, ZonePools):
            return "the control plane already has a pool per zone"
        if action == "shorten_timeout" and self.cp.timeout_s <= p.short_timeout_s:
            return "the timeout is already short"
        if action in self.requested:
            return "already done (or under way)"
        return None

    def _apply(self, action: str) -> str:
        p, world = self.params, self.world
        delay = self.actions[action].delay_s
        if action == "rollback_network":
            self.network.end(self.shift, world.now)
            self.rolled_back_at_s = world.now
            return "primary traffic is back on the primary network"
        if action == "disable_create_volume":
            self.create_disabled = True
            return "CreateVolume calls for zone a are now rejected at once"
        self.requested.add(action)
        if action == "isolate_control_plane":
            def cut():
                self.cp.cut_off = True
                self.cp.release_all()
                world.note("degraded cluster cut off from the control plane", "recovery")
            world.at(world.now + delay, cut)
            return "cutting the cluster off from the control plane: in 5 min"
        if action == "throttle_remirror":
            def throttle():
                self.cluster.throttled = True
                world.note("nodes now search for space at most every ~15 min", "recovery")
            world.at(world.now + delay, throttle)
            return "the throttle reaches the nodes in 10 min"
        if action == "add_capacity":
            def arrive():
                self.cluster.add_nodes(p.capacity_nodes_added, p.node_demand_gbps, ROUTE)
                self.total_slots += p.capacity_nodes_added * p.slots_per_node
                world.note(f"{p.capacity_nodes_added} storage servers added", "recovery")
            world.at(world.now + p.capacity_lead_time_s, arrive)
            hours = p.capacity_lead_time_s / 3600
            return f"{p.capacity_nodes_added} servers ordered: they arrive in {hours:g} h"
        if action == "shorten_timeout":
            def shorten():
                self.cp.timeout_s = p.short_timeout_s
                world.note(f"control-plane timeout now {p.short_timeout_s:g} s", "recovery")
            world.at(world.now + delay, shorten)
            return "short timeout deploying: in effect in 10 min"
        if action == "split_pool":
            def split():
                self.cp.bulkhead = ZonePools(p.cp_threads, self.zones)
                world.note("control plane now has a thread pool per zone", "recovery")
            world.at(world.now + delay, split)
            return "per-zone pools deploying: in effect in 30 min"
        raise AssertionError(action)  # pragma: no cover - check() rejects unknown actions

    # -- results --------------------------------------------------------------------------------
    def extra_series(self) -> dict[str, np.ndarray]:
        """API error share per zone, for the healthy zones together and for zone a; crash hazard."""
        s = self.world.metrics.series()
        out: dict[str, np.ndarray] = {}
        healthy_calls = healthy_errors = 0.0
        for zone in self.zones:
            calls, errors = s[f"api_calls_{zone}"], s[f"api_errors_{zone}"]
            out[f"api_error_share_{zone}"] = ratio(errors, calls, empty=0.0)
            if zone != self.affected:
                healthy_calls = healthy_calls + calls
                healthy_errors = healthy_errors + errors
        out["api_error_share_healthy"] = ratio(healthy_errors, healthy_calls, empty=0.0)
        out["api_error_share_affected"] = out[f"api_error_share_{self.affected}"]
        out["api_error_share_healthy_pct"] = 100 * out["api_error_share_healthy"]
        out["api_error_share_affected_pct"] = 100 * out["api_error_share_affected"]
        out["crash_hazard_per_h"] = s["expected_crashes"] * (3600.0 / BUCKET_S)
        return out

    def _figures(self) -> dict[str, Any]:
        """The numbers the summary and the score are made of (over the part run so far)."""
        p = self.params
        s = self.world.metrics.series()
        s.update(self.extra_series())
        t = self.world.metrics.times()
        elapsed = t < max(self.now, BUCKET_S)
        after = elapsed & (t >= p.trigger_at_s)
        minutes = BUCKET_S / 60.0
        stuck = np.nan_to_num(s["stuck_share"])
        healthy = s["api_error_share_healthy"]
        figures: dict[str, Any] = {
            "volumes": self.cluster.n_volumes,
            "nodes": p.n_nodes,
            "stuck_share_peak": float(stuck[elapsed].max()),
            "stuck_share_mean": float(stuck[after].mean()) if after.any() else 0.0,
            "stuck_share_end": float(stuck[elapsed][-1]),
            "stuck_volume_hours": float(stuck[after].sum() * self.cluster.n_volumes * minutes / 60.0),
            "free_share_min": float(np.nanmin(s["free_share"][elapsed])),
            "free_zero_minutes": float(((s["free_slots"] == 0) & (s["searching_share"] > 0) & elapsed).sum()
                                       * minutes),
            "searches_total": self.world.metrics.total("searches"),
            "nodes_crashed": self.cluster.nodes_crashed,
            "volumes_lost": self.cluster.count[LOST],
            "healthy_api_error_share": float(healthy[after].mean()) if after.any() else 0.0,
            "healthy_api_error_minutes": float(healthy[after].sum() * minutes),
            "affected_api_error_share": float(s["api_error_share_affected"][after].mean()) if after.any() else 0.0,
            "rolled_back_at_min": None if self.rolled_back_at_s is None else self.rolled_back_at_s / 60.0,
        }
        ok = (healthy < 0.01) & (s["crash_hazard_per_h"] < 0.1) & (s["isolated_nodes"] == 0)
        bad = np.nonzero(after & ~ok)[0]
        last = int(np.nonzero(elapsed)[0][-1])
        if not after.any():
            contained_at = None
        elif bad.size == 0:
            contained_at = float(p.trigger_at_s)
        elif bad[-1] + 1 <= last and (t[last] + BUCKET_S - t[bad[-1] + 1]) >= 1800:
            contained_at = float(t[bad[-1] + 1])
        else:
            contained_at = None
        figures["time_to_contain_min"] = (None if contained_at is None
                                          else max(0.0, contained_at - p.trigger_at_s) / 60.0)
        figures["contained"] = contained_at is not None
        return figures

    def summary(self) -> dict[str, Any]:
        return self._figures()

    def score_card(self) -> ScoreCard:
        """Score out of 100: blast radius 30, time to contain 35, volumes stuck 25, volumes lost 10.

        * blast radius: API error-minutes in the healthy zones; 120 or more scores 0;
        * time to contain: from the trigger until the healthy zones are fine, no node
          is cut off and the cluster has stopped crashing (expected crashes < 0.1 per
          hour), for good; 6 h or never scores 0;
        * volumes stuck: the mean stuck share after the trigger (volume-hours stuck over
          all volume-hours); 4% or less scores full, 22% or more scores 0;
        * volumes lost (no running node has a current copy): 0.2% of the volumes scores 0.
        """
        f = self._figures()
        p = self.params
        v = self.cluster.n_volumes
        blast = 30.0 * max(0.0, 1.0 - f["healthy_api_error_minutes"] / 120.0)
        ttc = f["time_to_contain_min"]
        contain = 0.0 if ttc is None else 35.0 * max(0.0, 1.0 - ttc / 360.0)
        stuck = 25.0 * min(1.0, max(0.0, (0.22 - f["stuck_share_mean"]) / 0.18))
        lost = 10.0 * max(0.0, 1.0 - f["volumes_lost"] / max(1.0, 0.002 * v))
        score = round(blast + contain + lost + stuck, 1)
        band = ScoreCard.band_for(score)
        reasons = []
        if f["healthy_api_error_minutes"] >= 60:
            reasons.append(f"healthy zones saw {f['healthy_api_error_minutes']:.0f} API error-minutes "
                           "(the blast radius escaped zone a)")
        if ttc is None:
            reasons.append("the incident was never contained")
        else:
            reasons.append(f"contained {ttc:.0f} min after the trigger")
        if f["nodes_crashed"]:
            reasons.append(f"{f['nodes_crashed']} nodes crashed under the search storm")
        reasons.append(f"{100 * f['stuck_share_mean']:.1f}% of volumes stuck on average")
        return ScoreCard(
            error_minutes=round(float(f["stuck_share_mean"]) * max(0.0, self.now - p.trigger_at_s) / 60.0, 2),
            time_to_recover_min=None if ttc is None else round(ttc, 1),
            work_lost=float(f["volumes_lost"]),
            work_lost_unit="volumes lost (no running node has a current copy)",
            score=score,
            band=band,
            verdict="; ".join(reasons),
            details={
                "points": {"blast_radius": round(blast, 1), "time_to_contain": round(contain, 1),
                           "volumes_lost": round(lost, 1), "volumes_stuck": round(stuck, 1)},
                "healthy_api_error_minutes": round(f["healthy_api_error_minutes"], 1),
                "stuck_share_mean": round(f["stuck_share_mean"], 4),
                "stuck_volume_hours": round(f["stuck_volume_hours"], 1),
                "nodes_crashed": f["nodes_crashed"],
            },
        )


def _check_plugin(name: str, obj: Any, methods: tuple[str, ...]) -> None:
    if obj is None:
        return
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        raise TypeError(f"{name} = {obj!r} is not allowed: it needs the method(s) {', '.join(missing)}")
