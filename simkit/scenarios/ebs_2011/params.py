"""The knobs of the EBS 2011 scenario, with defaults calibrated against incidents.md.

Units are in the names: ``_s`` seconds, ``_gbps`` Gbit/s, ``_gbit`` Gbit, ``_per_s``
per second. The cluster is smaller than the real one (a few hundred nodes, a few
thousand volumes) but keeps its proportions: a thin spare-capacity buffer, a
secondary network far smaller than the primary one, a regional control plane
with one thread pool for every zone.

What comes from the record: the times (the shift at 00:47, the rollback about ten
minutes later), the share of volumes stuck (about 13%), that the storm began when
connectivity returned, that crashes added more stuck volumes during the morning, and
the two brownouts of the regional APIs (00:50-02:40, and from about 05:30 until the
cluster was cut off at 08:20). Every number below is the model's: AWS published no
cluster size, thread count, timeout, call rate or crash rate. The race condition's
rate and the negotiations per failed search are chosen so that, on most seeds, a
few crashes during the early morning bring the second brownout (its start varies
from seed to seed, as the crashes do).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...params import Params as BaseParams
from ...params import param

__all__ = ["Params", "BACKOFFS", "POOLS", "STEP_S", "CLOCK_START_S"]

#: How the nodes wait between re-mirror search rounds. "none" is 2011: a fixed,
#: short wait; the others are capped exponential backoff, without jitter or with
#: full, equal or decorrelated jitter (as in :class:`simkit.policies.ExponentialBackoff`).
BACKOFFS = ("none", "exponential", "full", "equal", "decorrelated")

#: How the control plane's threads are shared between zones.
POOLS = ("shared", "per-zone")

#: The cluster and the control plane advance in steps of this many seconds.
STEP_S = 30.0

#: Simulated time 0 is 00:30 PDT, 17 minutes before the network change.
CLOCK_START_S = 30 * 60.0


@dataclass(frozen=True)
class Params(BaseParams):
    """Parameters of ``ebs-2011``. The defaults reproduce the storm of 21 April 2011."""

    # -- the cluster ------------------------------------------------------------------
    n_nodes: int = param(200, unit="nodes", minimum=10, maximum=2000,
                         doc="EBS nodes in the affected cluster")
    slots_per_node: int = param(50, unit="replicas", minimum=2, maximum=500,
                                doc="replica slots per node (every volume replica takes one)")
    spare_fraction: float = param(0.03, minimum=0, maximum=0.9,
                                  doc="share of all slots free before the event (the spare buffer)")
    volume_gbit: float = param(800.0, unit="Gbit", minimum=0, maximum=100_000, exclusive_minimum=True,
                               doc="data copied to make a new replica of one volume")
    resync_gbit: float = param(8.0, unit="Gbit", minimum=0, maximum=100_000, exclusive_minimum=True,
                               doc="data exchanged to reconnect a volume to its previous replica")
    copy_gbps: float = param(1.0, unit="Gbit/s", minimum=0, maximum=1000, exclusive_minimum=True,
                             doc="fastest one re-mirror copy can go (when the network is not congested)")

    # -- the networks and the trigger -------------------------------------------------
    node_demand_gbps: float = param(10.0, unit="Gbit/s", minimum=0, maximum=1000, exclusive_minimum=True,
                                    doc="primary-network traffic of one node")
    primary_capacity_gbps: float = param(4000.0, unit="Gbit/s", minimum=0, maximum=1_000_000, exclusive_minimum=True,
                                         doc="capacity of the primary network")
    secondary_capacity_gbps: float = param(100.0, unit="Gbit/s", minimum=0, maximum=100_000, exclusive_minimum=True,
                                           doc="capacity of the secondary (node-to-node replication) network")
    isolated_fraction: float = param(0.10, minimum=0, maximum=1,
                                     doc="share of nodes whose primary traffic the wrong shift moves")
    trigger_at_s: float = param(17 * 60.0, unit="s", minimum=0, maximum=48 * 3600,
                                doc="when the wrong traffic shift happens (default 00:47)")
    auto_rollback_after_s: float = param(600.0, unit="s", minimum=0, maximum=48 * 3600,
                                         doc="network engineers roll the shift back this long after it "
                                             "(0 = only the operator's rollback action ends it)")

    # -- the re-mirror search ---------------------------------------------------------
    remirror_backoff: str = param("none", choices=BACKOFFS,
                                  doc="wait between search rounds: none (fixed, 2011) | exponential | "
                                      "full | equal | decorrelated (jitter)")
    search_retry_s: float = param(30.0, unit="s", minimum=STEP_S, maximum=3600,
                                  doc="wait after a failed search round (the base of the backoff)")
    search_cap_s: float = param(600.0, unit="s", minimum=STEP_S, maximum=24 * 3600,
                                doc="longest wait between search rounds with backoff")
    prefer_previous_replica: bool = param(False,
                                          doc="reconnect to the previous replica when it is alive, "
                                              "instead of searching for new space")
    search_gbit: float = param(1.0, unit="Gbit", minimum=0, maximum=1000,
                               doc="secondary-network traffic of one search for space")
    race_crash_prob: float = param(2e-6, minimum=0, maximum=0.01,
                                   doc="chance that one pair of replication requests closed in the same "
                                       "search round hits the race condition and crashes the node")
    throttle_interval_s: float = param(900.0, unit="s", minimum=STEP_S, maximum=24 * 3600,
                                       doc="after the throttle action, nodes search at most about this often")

    # -- the regional control plane ---------------------------------------------------
    n_zones: int = param(4, unit="zones", minimum=2, maximum=8,
                         doc="Availability Zones sharing the regional control plane")
    api_calls_per_s: float = param(20.0, unit="calls/s", minimum=0, maximum=10_000, exclusive_minimum=True,
                                   doc="EBS API calls per zone per second (normal traffic)")
    api_call_s: float = param(0.25, unit="s", minimum=0, maximum=600, exclusive_minimum=True,
                              doc="thread time of a normal API call")
    create_volume_per_s: float = param(0.3, unit="calls/s", minimum=0, maximum=1000,
                                       doc="CreateVolume calls that land on the degraded cluster")
    negotiations_per_search: float = param(0.035, unit="calls/search", minimum=0, maximum=1,
                                           doc="negotiations with the control plane (which replica is "
                                               "primary) per failed search for a volume whose previous "
                                               "replica crashed")
    cp_threads: int = param(64, unit="threads", minimum=2, maximum=10000,
                            doc="threads of the regional control plane")
    cp_pool: str = param("shared", choices=POOLS,
                         doc="shared: one pool for all zones (2011) | per-zone: a bulkhead per zone")
    cp_timeout_s: float = param(300.0, unit="s", minimum=0, maximum=86400, exclusive_minimum=True,
                                doc="how long a call into the degraded cluster holds a thread")
    short_timeout_s: float = param(5.0, unit="s", minimum=0, maximum=3600, exclusive_minimum=True,
                                   doc="the timeout the shorten-timeout action sets")

    # -- operator levers (each action's delay is read from here) -----------------------
    capacity_nodes_added: int = param(40, unit="nodes", minimum=1, maximum=2000,
                                      doc="servers the add-capacity action brings in")
    capacity_lead_time_s: float = param(4 * 3600.0, unit="s", minimum=0, maximum=48 * 3600,
                                        doc="time to truck in and start the added servers (at night)")
    isolate_delay_s: float = param(300.0, unit="s", minimum=0, maximum=12 * 3600,
                                   doc="time to cut the degraded cluster off from the control plane")
    throttle_delay_s: float = param(600.0, unit="s", minimum=0, maximum=12 * 3600,
                                    doc="time for the stop-futile-searching change to reach every node")
    timeout_deploy_s: float = param(600.0, unit="s", minimum=0, maximum=12 * 3600,
                                    doc="time to deploy the short timeout to the regional control plane")
    split_pool_deploy_s: float = param(1800.0, unit="s", minimum=0, maximum=12 * 3600,
                                       doc="time to deploy a thread pool per zone to the regional control plane")

    horizon_s: float = param(12 * 3600.0, unit="s", minimum=3600, maximum=48 * 3600,
                             doc="simulated duration from 00:30")

    rules = (
        (lambda p: p.trigger_at_s < p.horizon_s, "the trigger (trigger_at_s) must come before horizon_s"),
        (lambda p: p.search_cap_s >= p.search_retry_s, "search_cap_s must be >= search_retry_s"),
        (lambda p: p.short_timeout_s <= p.cp_timeout_s, "short_timeout_s must be <= cp_timeout_s"),
        (lambda p: p.cp_threads >= p.n_zones, "cp_threads must be >= n_zones (a per-zone pool needs a thread)"),
    )
