"""``ebs-2011``: EC2/EBS in US-East, 21 April 2011: the misrouted network shift.

What happened (paraphrasing AWS's postmortem, https://aws.amazon.com/message/65648/):
at 12:47 AM PDT a traffic shift, part of a primary-network upgrade in one
Availability Zone, sent primary traffic onto the low-capacity secondary network.
Many EBS nodes lost both networks, and with them contact with the other replica
of their volumes. When the change was rolled back, all of them searched the
cluster for free space to re-mirror at once; the spare space ran out, and nodes
kept searching, again and again, while their volumes stayed *stuck* (about 13% of
the zone's volumes). A race condition crashed nodes that closed many replication
requests at once, so more volumes needed re-mirroring. CreateVolume calls and
negotiations into the degraded cluster held threads of the *regional* control
plane for a long timeout, and API calls failed in other zones too, until
CreateVolume was disabled in the zone at 02:40. As crashes left more volumes
without their previous replica, their negotiations with the control plane grew,
and from about 05:30 the region's EBS APIs browned out again, until the cluster was
cut off from the control plane at 08:20.

The model has the three coupled loops of that night, one module each:

* :mod:`.remirror`: the search policy (loop 1: the search storm, workload
  amplification): search at once and retry without backoff, or back off with
  jitter (:mod:`simkit.policies`) and prefer the previous replica;
* :mod:`.cluster`: nodes, slots, volumes and copies; the storm begins when the
  replication network is usable again (at the rollback); the race condition
  (loop 2: crashes under load, capacity-loss amplification);
* :mod:`.control_plane`: the regional thread pool and its bulkhead (loop 3: long
  timeouts exhausting a shared pool, blast radius), with Erlang's loss formula for
  the share of calls that find no thread;
* :mod:`.model`: the step that ties them to the two networks
  (:mod:`simkit.network`) and the operator actions;
* :mod:`.rules`: the commander game: the page, the rubric, the reference plans.

Quick start::

    from simkit.scenarios import ebs_2011
    result = ebs_2011.run(seed=1)                       # the storm, 00:30 to 12:30
    fixed = ebs_2011.run({"prefer_previous_replica": True, "remirror_backoff": "full"})
    print(result.summary["stuck_share_mean"], fixed.summary["stuck_share_mean"])
    aws = ebs_2011.run(plan=ebs_2011.HISTORICAL_PLAN)   # what the operators did

Plug in your own pieces with ``run(params, seed, remirror=..., bulkhead=...)``.
"""

from __future__ import annotations

from .cluster import Cluster
from .control_plane import ControlPlane, SharedPool, ZonePools, loss_share, threads_for
from .model import HISTORICAL_PLAN, INTENDED_PLAN, Model
from .params import BACKOFFS, CLOCK_START_S, POOLS, STEP_S, Params
from .remirror import DECISIONS, RemirrorPolicy, choose_remirror, retry_policy, search_delay_s

__all__ = [
    "Params", "Model", "run", "RemirrorPolicy", "choose_remirror", "search_delay_s", "retry_policy",
    "DECISIONS", "SharedPool", "ZonePools", "ControlPlane", "Cluster", "threads_for", "loss_share",
    "HISTORICAL_PLAN", "INTENDED_PLAN", "BACKOFFS", "POOLS", "STEP_S", "CLOCK_START_S",
]

run = Model.run
