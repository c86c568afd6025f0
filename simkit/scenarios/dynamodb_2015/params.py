"""The knobs of the ``dynamodb-2015`` scenario, with defaults calibrated on the incident.

Every number here is a model number, not DynamoDB's: AWS never published the size
of the fleet, the membership sizes or the time allowance. What the defaults do
reproduce is the *shape* of 20 September 2015 (see ``incidents.md``): with
post-GSI membership sizes (``gsi_factor`` 2.75, just below the point where the
largest membership alone would exceed the allowance) a 90-second network
disruption at 02:19 tips the fleet into a state where about half of all customer
requests fail (55% +- 5 from 02:49 to 08:00 on seeds 0-9; AWS: "approximately
55%"), within about fifteen minutes, and it stays there after the network is fine
again; with pre-GSI sizes (``gsi_factor`` 1) the same disruption passes. In normal
operation the metadata service is about 75% busy: no headroom for a burst.

Where the record gives a duration, the default follows it: the pause or resume
switch (``switch_delay_s``: the pause decided at 05:06, traffic fully disabled by
05:45) and the dependents' timings (SQS, CloudWatch, Console, Auto Scaling). The
capacity delay, the config deploy delay, the admin timeout, the reconnect time and
the dependents' caches are the model's: the record does not say.

The simulated clock starts at 02:00 (PDT): ``disruption_start_s = 1140`` is 02:19.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...params import Params as BaseParams
from ...params import param

__all__ = ["Params", "RETRY_POLICIES", "CLOCK_START_S"]

#: The run's time 0 is 02:00 in the morning.
CLOCK_START_S = 2 * 3600.0

#: How a storage server retries a renewal that did not come back in time.
RETRY_POLICIES = ("immediate", "backoff-jitter", "budget")


@dataclass(frozen=True)
class Params(BaseParams):
    """Fleet, metadata service, storage-server behaviour, trigger, dependents."""

    # -- the fleet and its tables ------------------------------------------------------
    servers: int = param(150, unit="servers", minimum=10, maximum=2000,
                         doc="storage servers in the fleet")
    partitions_median: int = param(100, unit="partitions", minimum=1, maximum=10000,
                                   doc="table partitions held by the median server (before GSIs)")
    partitions_spread: float = param(0.4, minimum=0, maximum=1.5,
                                     doc="spread of partitions per server (log-normal sigma; 0 = all equal)")
    gsi_factor: float = param(2.75, unit="x", minimum=1, maximum=10,
                              doc="membership growth due to Global Secondary Indexes "
                                  "(1 = no GSIs; 3 = GSIs add twice the table's partitions)")
    replicas: int = param(3, unit="replicas", minimum=1, maximum=5,
                          doc="storage servers holding each partition")
    customer_partitions: int = param(1000, unit="partitions", minimum=50, maximum=20000,
                                     doc="partitions sampled to measure the customer error rate")

    # -- the metadata service -----------------------------------------------------------
    metadata_workers: int = param(10, unit="workers", minimum=1, maximum=1000,
                                  doc="processing capacity of the metadata service")
    metadata_slots: int = param(36, unit="requests", minimum=1, maximum=100000,
                                doc="requests the service works on at once (added workers bring "
                                    "slots in the same ratio); requests beyond that are dropped")
    base_processing_s: float = param(0.9, unit="s", minimum=0, maximum=600,
                                     doc="processing time of an empty membership, alone on a worker")
    per_entry_s: float = param(0.097, unit="s", minimum=0, maximum=60, exclusive_minimum=True,
                               doc="processing time per membership entry, alone on a worker")
    metadata_cells: int = param(1, unit="cells", minimum=1, maximum=64,
                                doc="independent metadata-service instances (cells), each as big as "
                                    "metadata_workers/metadata_slots say, each serving an equal part of the fleet")

    # -- storage-server behaviour -------------------------------------------------------
    allowance_s: float = param(90.0, unit="s", minimum=1, maximum=3600,
                               doc="retrieval time allowance: how long a server waits for its membership")
    renewal_interval_s: float = param(600.0, unit="s", minimum=1, maximum=86400,
                                      doc="time between routine membership renewals")
    reconnect_s: float = param(5.0, unit="s", minimum=0, maximum=60,
                               doc="a server retrying 'at once' first takes a random 0 to this many seconds "
                                   "to drop the timed-out call and reconnect")
    retry_policy: str = param("immediate", choices=RETRY_POLICIES,
                              doc="immediate (retry at once) | backoff-jitter (capped exponential backoff, "
                                  "full jitter) | budget (immediate while a token bucket allows, "
                                  "else wait for the next routine renewal)")
    backoff_base_s: float = param(5.0, unit="s", minimum=0, exclusive_minimum=True, maximum=3600,
                                  doc="backoff-jitter: ceiling of the first retry delay")
    backoff_cap_s: float = param(300.0, unit="s", minimum=0, exclusive_minimum=True, maximum=86400,
                                 doc="backoff-jitter: largest retry delay")
    budget_ratio: float = param(0.1, unit="tokens/success", minimum=0, maximum=1,
                                doc="budget: tokens a successful renewal deposits (a retry spends 1)")
    budget_tokens: float = param(3.0, unit="tokens", minimum=1, maximum=100,
                                 doc="budget: size of each server's token bucket")

    # -- the trigger ----------------------------------------------------------------------
    disruption_start_s: float = param(1140.0, unit="s", minimum=0, maximum=86400,
                                      doc="when the network disruption begins (s after 02:00; 1140 = 02:19)")
    disruption_s: float = param(90.0, unit="s", minimum=0, maximum=3600,
                                doc="how long the disruption lasts (0 = no trigger)")
    disruption_fraction: float = param(0.35, minimum=0, maximum=1,
                                       doc="share of the fleet cut off by the disruption")

    # -- operator actions -----------------------------------------------------------------
    capacity_step_workers: int = param(24, unit="workers", minimum=1, maximum=1000,
                                       doc="workers one 'add capacity' action brings")
    capacity_delay_s: float = param(1200.0, unit="s", minimum=0, maximum=7200,
                                    doc="time to provision new metadata hosts once the admin request is "
                                        "answered; then they must join (another admin request)")
    switch_delay_s: float = param(1500.0, unit="s", minimum=0, maximum=3600,
                                  doc="time for a pause or resume switch to be in place across the service "
                                      "(2015: paused from 05:06, traffic fully disabled by 05:45)")
    deploy_delay_s: float = param(600.0, unit="s", minimum=0, maximum=7200,
                                  doc="time to build and stage a storage-server config change; servers "
                                      "then adopt it with their next membership that arrives in time")
    admin_timeout_s: float = param(60.0, unit="s", minimum=0, exclusive_minimum=True, maximum=3600,
                                   doc="how long an administrative request waits for the metadata service")

    # -- dependents of DynamoDB -------------------------------------------------------------
    sqs_cache_ttl_s: float = param(900.0, unit="s", minimum=60, maximum=86400,
                                   doc="SQS: how long a queue-metadata cache entry may go without a refresh")
    cloudwatch_cache_ttl_s: float = param(120.0, unit="s", minimum=60, maximum=86400,
                                          doc="CloudWatch: how long group-membership data may go without a refresh")
    cloudwatch_hold_s: float = param(1800.0, unit="s", minimum=60, maximum=86400,
                                     doc="CloudWatch: how long metrics that could not be enriched are held "
                                         "back and retried before they are given up")
    cloudwatch_spare: float = param(1.5, unit="x", minimum=0, exclusive_minimum=True, maximum=100,
                                    doc="CloudWatch: held-back metrics retried per minute, in minutes' worth "
                                        "of metrics (the pipeline's spare capacity)")
    autoscaling_jobs_per_min: float = param(10.0, unit="jobs/min", minimum=0, maximum=10000,
                                            doc="Auto Scaling: scaling jobs submitted per minute")
    autoscaling_capacity_per_min: float = param(21.0, unit="jobs/min", minimum=0, exclusive_minimum=True,
                                                maximum=10000,
                                                doc="Auto Scaling: jobs its scheduler can run per minute")
    console_call_timeout_s: float = param(40.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                                          doc="Console: timeout of the non-essential login call to DynamoDB")

    horizon_s: float = param(21600.0, unit="s", minimum=1800, maximum=86400,
                             doc="simulated duration (21600 s = 02:00 to 08:00)")

    rules = (
        (lambda p: p.replicas <= p.servers, "replicas must be <= servers"),
        (lambda p: p.metadata_cells <= p.servers // 10,
         "metadata_cells must leave at least 10 servers per cell (metadata_cells <= servers / 10)"),
        (lambda p: p.backoff_base_s <= p.backoff_cap_s, "backoff_base_s must be <= backoff_cap_s"),
        (lambda p: p.disruption_start_s + p.disruption_s < p.horizon_s,
         "the disruption (disruption_start_s + disruption_s) must end before horizon_s"),
    )
