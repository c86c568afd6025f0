"""The knobs of ``retry-storm``, and the retry policy they ask for.

The defaults are the commander game's incident (eight minutes: the spike at 01:00, the
database maintenance at 05:15). Runs shorter than ``maintenance_start_s`` are the storm
alone: lab 0's experiments and the phase maps use :data:`STORM_HORIZON_S` (see the
package docstring for why).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...params import Params as BaseParams, param
from ...policies import JITTERS, ExponentialBackoff, FixedRetry, NoRetry, RetryBudget
from ...service import DISCIPLINES

__all__ = ["Params", "make_retry", "RETRY_POLICIES", "QUEUE_LIMIT", "QUEUE_DISCIPLINE", "STORM_HORIZON_S",
           "BUDGET_TOKENS"]

RETRY_POLICIES = ("none", "immediate", "backoff", "budget")

#: The default waiting room of the service, and the order its workers take requests in.
QUEUE_LIMIT = 400
QUEUE_DISCIPLINE = "random"

#: The length of the storm-only experiments (lab 0's runs, the phase maps): the
#: default incident up to just before the database maintenance, which therefore
#: never happens in them.
STORM_HORIZON_S = 300.0

#: The retry budget's bucket: at most this many tokens saved up.
BUDGET_TOKENS = 10


@dataclass(frozen=True)
class Params(BaseParams):
    """The knobs of the retry storm. Defaults tip over into a metastable collapse."""

    base_load_rps: float = param(70.0, unit="requests/s", minimum=0, maximum=1000,
                                 doc="steady customer request rate")
    spike_factor: float = param(2.0, unit="x", minimum=1, maximum=20, doc="load multiplier during the spike")
    spike_start_s: float = param(60.0, unit="s", minimum=0, maximum=3600, doc="when the spike starts")
    spike_duration_s: float = param(30.0, unit="s", minimum=0, maximum=3600,
                                    doc="how long the spike lasts (0 = no spike)")
    workers: int = param(10, unit="workers", minimum=1, maximum=1000, doc="parallel workers of the service")
    mean_service_s: float = param(0.1, unit="s", minimum=0, exclusive_minimum=True, maximum=60,
                                  doc="mean work per request (exponential)")
    queue_limit: int = param(QUEUE_LIMIT, unit="requests", minimum=0, maximum=1_000_000,
                             doc="requests that may wait in the service's queue; more are turned away at once "
                                 "(0 = no waiting room)")
    queue_deadline_s: float = param(0.0, unit="s", minimum=0, maximum=3600,
                                    doc="server-side deadline: queued requests that waited longer are dropped "
                                        "instead of served (0 = no deadline)")
    queue_discipline: str = param(QUEUE_DISCIPLINE, choices=DISCIPLINES,
                                  doc="which queued request a free worker takes: fifo (oldest) | lifo (newest) "
                                      "| random (any, in no particular order)")
    timeout_s: float = param(1.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                             doc="caller timeout per attempt")
    retry_policy: str = param("immediate", choices=RETRY_POLICIES,
                              doc="none | immediate (retry at once) | backoff (capped exponential, with jitter) "
                                  "| budget (immediate, but limited by a token bucket)")
    max_retries: int = param(3, unit="retries", minimum=0, maximum=20, doc="retries per request after the first try")
    backoff_base_s: float = param(0.2, unit="s", minimum=0, exclusive_minimum=True, maximum=60,
                                  doc="backoff: ceiling of the first retry's wait (it doubles for each retry)")
    backoff_cap_s: float = param(5.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                                 doc="backoff: longest wait before a retry")
    backoff_jitter: str = param("full", choices=JITTERS,
                                doc="backoff: none | full | equal | decorrelated (how the wait is randomised)")
    budget_ratio: float = param(0.1, unit="tokens/success", minimum=0, maximum=1,
                                doc="retry budget: tokens a success deposits (a retry spends 1)")
    maintenance_start_s: float = param(315.0, unit="s", minimum=0, maximum=3600,
                                       doc="when the database's scheduled maintenance starts (the second "
                                           "trigger; none in a run that ends before it)")
    maintenance_s: float = param(75.0, unit="s", minimum=0, maximum=3600,
                                 doc="how long the maintenance lasts (0 = no maintenance)")
    maintenance_slowdown: float = param(2.5, unit="x", minimum=1, maximum=20,
                                        doc="how many times longer every request takes during the maintenance")
    config_push_s: float = param(60.0, unit="s", minimum=0, maximum=600,
                                 doc="time for a client config push (the retry budget) to reach every caller; "
                                     "it reaches an equal share of them each second")
    boot_s: float = param(60.0, unit="s", minimum=0, maximum=3600, doc="time for added workers to boot")
    capacity_step_workers: int = param(5, unit="workers", minimum=1, maximum=1000,
                                       doc="workers one 'add capacity' action starts")
    resume_ramp_s: float = param(60.0, unit="s", minimum=0, maximum=600,
                                 doc="after a pause, the edge lets customers back in over this long "
                                     "(an equal share more each second)")
    horizon_s: float = param(480.0, unit="s", minimum=10, maximum=3600, doc="simulated duration")

    rules = (
        (lambda p: p.spike_start_s + p.spike_duration_s <= p.horizon_s,
         "the spike (spike_start_s + spike_duration_s) must end within horizon_s"),
        (lambda p: p.backoff_base_s <= p.backoff_cap_s, "backoff_base_s must be <= backoff_cap_s"),
    )

    @property
    def has_maintenance(self) -> bool:
        """Does the database maintenance happen in this run (it starts before the end and slows requests)?"""
        return self.maintenance_s > 0 and self.maintenance_slowdown > 1 and self.maintenance_start_s < self.horizon_s


def make_retry(p: Params):
    """The client-side retry policy and budget that the parameters ``p`` ask for."""
    if p.retry_policy == "none":
        return NoRetry(), None
    if p.retry_policy == "backoff":
        return ExponentialBackoff(max_retries=p.max_retries, base_s=p.backoff_base_s, cap_s=p.backoff_cap_s,
                                  jitter=p.backoff_jitter), None
    if p.retry_policy == "budget":
        return FixedRetry(max_retries=p.max_retries), RetryBudget(ratio=p.budget_ratio, max_tokens=BUDGET_TOKENS)
    return FixedRetry(max_retries=p.max_retries), None
