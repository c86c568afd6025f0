"""The ``ebs-2011`` model: the cluster, its two networks and the regional control plane, in steps.

Every ``STEP_S`` (30 s) the model:

1. looks at the network: if it changed (the wrong shift, the rollback, the
   secondary network tipping into overload), the cluster finds out which nodes are
   cut off, whether the replication network carries anything, and which volumes lost
   their peer;
2. runs the search rounds that are due (:mod:`.cluster`);
3. puts the searches and copies on the secondary network as flows, and moves every
   copy forward by its share of that network's capacity;
4. steps the control plane (:mod:`.control_plane`): calls into the degraded cluster
   hold threads for the long timeout, and every zone's normal calls find a thread or
   fail;
5. records the series the dashboard and the score read.

The operator's actions are declared below with :func:`simkit.actions.action`; the
page, the rubric and the reference plans are in :mod:`.rules`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...actions import action
from ...metrics import ratio
from ...network import Network
from ...outcome import Watch, error_minutes, settled_since
from ...world import World
from ..base import Panel, ScenarioModel
from . import rules
from .cluster import LOST, SEARCHING, Cluster
from .control_plane import ControlPlane, SharedPool, ZonePools
from .params import CLOCK_START_S, STEP_S, Params
from .remirror import RemirrorPolicy

__all__ = ["Model", "ZONE_LETTERS", "HISTORICAL_PLAN", "INTENDED_PLAN"]

ZONE_LETTERS = "abcdefgh"
ROUTE = ("primary", "secondary")
BUCKET_S = 60.0
HISTORICAL_PLAN = rules.HISTORICAL_PLAN
INTENDED_PLAN = rules.INTENDED_PLAN


def _stuck(m: "Model") -> float:
    return m.cluster.stuck / m.cluster.n_volumes


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
    headline_series = ("stuck_share", "api_error_share_healthy_pct", "searches")
    headline_window_s = 3 * 3600.0
    play_speeds = (300.0, 1200.0, 4800.0)
    debrief_shift_s = 30 * 60.0
    rubric = rules.RUBRIC
    intended_plan = INTENDED_PLAN
    historical_plan = HISTORICAL_PLAN
    page_rule = f"more than {rules.PAGE_STUCK:.0%} of zone a's volumes are stuck (I/O blocked)"
    watches = (
        Watch(f"more than {rules.PAGE_STUCK:.0%} of zone a's volumes stuck", lambda m: _stuck(m) > rules.PAGE_STUCK,
              clears=lambda m: _stuck(m) < 0.005, clear_label="fewer than 0.5% of zone a's volumes stuck",
              page=True),
        Watch("free space exhausted: nodes search the cluster again and again",
              lambda m: m.cluster.count[SEARCHING] > 0 and not m.cluster.space_reachable,
              clears=lambda m: m.cluster.count[SEARCHING] == 0 or m.cluster.space_reachable,
              clear_label="nodes find space again (or stop searching)"),
        Watch("API errors above 5% in the healthy zones", lambda m: m.healthy_loss() > 0.05,
              clears=lambda m: m.healthy_loss() < rules.HEALTHY_API_OK,
              clear_label="API calls in the healthy zones succeed again"),
    )
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

    def build(self, *, remirror: Any = None, bulkhead: Any = None) -> None:
        p = self.params
        self.world = World(self.seed, horizon_s=p.horizon_s, bucket_s=BUCKET_S, clock_start_s=CLOCK_START_S)
        _check_plugin("remirror", remirror, ("choose", "delay_s"))
        _check_plugin("bulkhead", bulkhead, ("admit",))
        self.zones = list(ZONE_LETTERS[: p.n_zones])
        self.affected = self.zones[0]

        net = self.network = Network()
        net.add_link("primary", p.primary_capacity_gbps)
        net.add_link("secondary", p.secondary_capacity_gbps)
        self.remirror = remirror if remirror is not None else RemirrorPolicy.from_params(p)
        self.cluster = Cluster(p, net, self.remirror, self.world, self.world.note, replication_link="secondary")
        n_shifted = round(p.isolated_fraction * p.n_nodes)
        for i, name in enumerate(self.cluster.names):
            net.add_node(name, route=ROUTE, demand=p.node_demand_gbps,
                         group="behind-router" if i < n_shifted else "elsewhere")
        self.shift = None
        self.rolled_back_at_s: float | None = None
        self.storm_started_s: float | None = None
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
                               calls_per_s=p.api_calls_per_s, call_s=p.api_call_s, threads=p.cp_threads)
        self.create_disabled = False
        self.total_slots = p.n_nodes * p.slots_per_node
        self._net_full: tuple | None = None
        self._net_over: tuple | None = None
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
        if self.storm_started_s is None and c.step_failed and t >= p.trigger_at_s:
            self.storm_started_s = t

        net.set_flow("space searches", "secondary", c.step_searches * p.search_gbit / STEP_S)
        net.set_flow("re-mirror copies", "secondary", c.copying * p.copy_gbps)
        if c.replication_up:
            c.progress(p.copy_gbps * state.delivered_fraction("secondary") * STEP_S)

        api = self.cp.step(t, STEP_S, **self._calls_into_cluster())
        if self.create_disabled and not self.cp.cut_off:   # rejected at the edge: errors, no thread
            calls, errors = api[self.affected]
            create = p.create_volume_per_s * STEP_S
            api[self.affected] = (calls + create, errors + create)
        for zone, (calls, errors) in api.items():
            m.count(f"api_calls_{zone}", t, calls)
            m.count(f"api_errors_{zone}", t, errors)
        m.count("searches", t, c.step_searches)
        m.count("failed_searches", t, c.step_failed)
        m.count("expected_crashes", t, c.step_hazard)
        self._record(t, state)

    @property
    def degraded(self) -> bool:
        """Does the cluster hang calls into it? (a node cut off, or volumes searching for no space)"""
        c = self.cluster
        return c.n_isolated > 0 or (not c.space_reachable and c.count[SEARCHING] > 0)

    def _calls_into_cluster(self) -> dict[str, float]:
        """This step's calls from the control plane into the degraded cluster, which hang.

        CreateVolume calls (customers') and the nodes' negotiations over which replica
        is primary: one per volume that just lost its peer, and some per failed search.
        None while the cluster is healthy, CreateVolume is disabled, or it is cut off.
        """
        p, c = self.params, self.cluster
        if not self.degraded or self.cp.cut_off:
            return {"long_calls": 0.0, "create_calls": 0.0}
        create = 0.0 if self.create_disabled else p.create_volume_per_s * STEP_S
        negotiations = c.step_peer_lost + p.negotiations_per_search * c.step_failed_orphans
        return {"long_calls": create + negotiations, "create_calls": create}

    def healthy_loss(self) -> float:
        """Share of the healthy zones' API calls that find no thread now."""
        losses = self.cp.loss
        healthy = [z for z in self.zones if z != self.affected]
        return sum(losses[z] for z in healthy) / len(healthy)

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

    def _auto_rollback(self) -> None:
        if self.rolled_back_at_s is None:
            self.rolled_back_at_s = self.world.now
            self.world.note("network engineers roll the change back", "recovery")

    # -- operator actions ---------------------------------------------------------------------
    @action("Roll back the network change", cost=rules.cost("rollback_network"),
            description="Send the shifted nodes' primary traffic back to the primary network (network "
                        "engineers do it by themselves auto_rollback_after_s after the change). The cut-off "
                        "nodes reconnect, and every volume that lost its peer searches for space at once.")
    def rollback_network(self) -> str:
        self.network.end(self.shift, self.world.now)
        self.rolled_back_at_s = self.world.now
        return "primary traffic is back on the primary network"

    @rollback_network.precondition
    def rollback_network(self) -> str | None:
        if self.shift is None:
            return "this run has no network change to roll back"
        if self.shift.end_s is not None and self.shift.end_s <= self.world.now:
            return "the network change is already rolled back"
        return None

    @action("Disable CreateVolume in zone a", cost=rules.cost("disable_create_volume"),
            description="Reject new CreateVolume calls for zone a at the edge, so they stop holding "
                        "control-plane threads; customers in zone a get an error instead of a volume.")
    def disable_create_volume(self) -> str:
        self.create_disabled = True
        return "CreateVolume calls for zone a are now rejected at once"

    @action("Cut the cluster off from the control plane", delay="isolate_delay_s",
            cost=rules.cost("isolate_control_plane"),
            description="Stop all communication between the degraded cluster and the regional control "
                        "plane: calls into it stop holding threads, but zone a's whole EBS API fails "
                        "while it lasts (as in 2011).")
    def isolate_control_plane(self) -> str:
        self.cp.cut_off = True
        self.cp.release_all()
        return "degraded cluster cut off from the control plane: zone a's EBS API is down"

    @action("Stop futile searching", delay="throttle_delay_s", cost=rules.cost("throttle_remirror"),
            description="Push a change to every node of the cluster: search for space at most about "
                        "every throttle_interval_s (jittered), instead of every search_retry_s.")
    def throttle_remirror(self) -> str:
        self.cluster.throttled = True
        minutes = self.params.throttle_interval_s / 60
        return f"nodes now search for space at most every ~{minutes:g} min"

    @action("Add storage servers", delay="capacity_lead_time_s", cost=rules.cost("add_capacity"),
            description="Truck in, rack and start new storage servers (capacity_nodes_added of them): "
                        "expensive, and slow at night.")
    def add_capacity(self) -> str:
        p = self.params
        self.cluster.add_nodes(p.capacity_nodes_added, p.node_demand_gbps, ROUTE)
        self.total_slots += p.capacity_nodes_added * p.slots_per_node
        return f"{p.capacity_nodes_added} storage servers added to the cluster"

    @add_capacity.on_request
    def add_capacity(self) -> str:
        p = self.params
        return f"{p.capacity_nodes_added} servers ordered: they arrive in {p.capacity_lead_time_s / 3600:g} h"

    @action("Shorten the control-plane timeout", delay="timeout_deploy_s", cost=rules.cost("shorten_timeout"),
            description="Deploy a short timeout (short_timeout_s) for the control plane's calls into "
                        "the cluster, to every control-plane server of the region.")
    def shorten_timeout(self) -> str:
        self.cp.timeout_s = self.params.short_timeout_s
        return f"control-plane timeout now {self.params.short_timeout_s:g} s"

    @shorten_timeout.precondition
    def shorten_timeout(self) -> str | None:
        return "the timeout is already short" if self.cp.timeout_s <= self.params.short_timeout_s else None

    @action("Split the thread pool per zone", delay="split_pool_deploy_s", cost=rules.cost("split_pool"),
            description="Deploy new control-plane code that gives each zone its own share of the "
                        "threads (a bulkhead), to the control plane that serves every zone.")
    def split_pool(self) -> str:
        self.cp.bulkhead = ZonePools(self.params.cp_threads, self.zones)
        return "the control plane now has a thread pool per zone"

    @split_pool.precondition
    def split_pool(self) -> str | None:
        return None if isinstance(self.cp.bulkhead, SharedPool) else "the control plane already has a pool per zone"

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
        v = self.cluster.n_volumes
        ok = (healthy < rules.HEALTHY_API_OK) & (s["crash_hazard_per_h"] < rules.CRASH_HAZARD_OK_PER_H) \
            & (s["isolated_nodes"] == 0)
        contained_at = settled_since(t[elapsed], ok[elapsed], start_s=p.trigger_at_s) if after.any() else None
        return {
            "volumes": v,
            "nodes": p.n_nodes,
            "stuck_share_peak": float(stuck[elapsed].max()),
            "stuck_share_mean": float(stuck[after].mean()) if after.any() else 0.0,
            "stuck_share_end": float(stuck[elapsed][-1]),
            "stuck_volume_hours": float(stuck[after].sum() * v * minutes / 60.0),
            "free_share_min": float(np.nanmin(s["free_share"][elapsed])),
            "free_zero_minutes": float(((s["free_slots"] == 0) & (s["searching_share"] > 0) & elapsed).sum()
                                       * minutes),
            "searches_total": self.world.metrics.total("searches"),
            "nodes_crashed": self.cluster.nodes_crashed,
            "volumes_lost": self.cluster.count[LOST],
            "healthy_api_error_share": float(healthy[after].mean()) if after.any() else 0.0,
            "healthy_api_error_minutes": error_minutes(t[elapsed], healthy[elapsed], BUCKET_S,
                                                       start_s=p.trigger_at_s),
            "affected_api_error_share": float(s["api_error_share_affected"][after].mean()) if after.any() else 0.0,
            "affected_api_error_minutes": error_minutes(t[elapsed], s["api_error_share_affected"][elapsed],
                                                        BUCKET_S, start_s=p.trigger_at_s),
            "rolled_back_at_min": None if self.rolled_back_at_s is None else self.rolled_back_at_s / 60.0,
            "storm_started_at": None if self.storm_started_s is None else self.world.clock(self.storm_started_s),
            "time_to_contain_min": None if contained_at is None else (contained_at - p.trigger_at_s) / 60.0,
            "contained": contained_at is not None,
            "contained_at": None if contained_at is None else self.world.clock(contained_at),
            "page_at": None if self.page_s is None else self.world.clock(self.page_s),
        }

    def summary(self) -> dict[str, Any]:
        return self._figures()

    def measure(self) -> dict[str, Any]:
        """What the rubric scores, over the part run so far."""
        f = self._figures()
        return {
            "stuck_share_mean_pct": round(100 * f["stuck_share_mean"], 2),
            "healthy_api_error_minutes": round(f["healthy_api_error_minutes"], 1),
            "affected_api_error_minutes": round(f["affected_api_error_minutes"], 1),
            "minutes_to_contain": None if f["time_to_contain_min"] is None else round(f["time_to_contain_min"], 1),
            "volumes_lost_pct": round(100 * f["volumes_lost"] / f["volumes"], 3),
            "contained": int(f["contained"]),
            "contained_at": f["contained_at"],
            "nodes_crashed": f["nodes_crashed"],
        }

    def outcome(self, m: dict[str, Any]) -> str:
        spread = f"healthy zones saw {m['healthy_api_error_minutes']:.0f} API error-minutes"
        stuck = f"{m['stuck_share_mean_pct']:.1f}% of zone a's volumes were stuck on average"
        crashed = f", {m['nodes_crashed']} nodes crashed" if m["nodes_crashed"] else ""
        if not m["contained"]:
            return f"the failure was still spreading at the end: {spread}, {stuck}{crashed}"
        return f"contained at {m['contained_at']} ({m['minutes_to_contain']:.0f} min after the change): " \
               f"{spread}, {stuck}{crashed}"


def _check_plugin(name: str, obj: Any, methods: tuple[str, ...]) -> None:
    if obj is None:
        return
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        raise TypeError(f"{name} = {obj!r} is not allowed: it needs the method(s) {', '.join(missing)}")


run = Model.run
