"""Services that depend on DynamoDB, each driven by DynamoDB's error rate.

The four dependents AWS described in its postmortem, each reduced to the one
mechanism that shaped its outage. Each function takes DynamoDB's customer error
rate per minute (a NumPy array, the probability that one DynamoDB request fails)
and returns its own series, one value per minute. They are deliberately simple
formulas, not simulations, so a learner can check them by hand:

* **SQS** keeps queue metadata in a cache, refreshed every minute from a DynamoDB
  table. A queue whose cache entry has not been refreshed for ``ttl_s`` cannot be
  served: its error share is the chance that *every* refresh in that window failed.
  Half of DynamoDB failing barely shows; all of it failing shows at once
  (record: SQS errors from 05:45, when DynamoDB had finished disabling traffic,
  to 07:10).
* **CloudWatch** enriches incoming EC2 metrics with Auto Scaling group membership
  read from DynamoDB, with a short cache: a batch whose enrichment data went stale
  is held back and retried (delayed); the backlog is retried with the pipeline's
  spare capacity, and batches held longer than ``hold_s`` are given up (missing).
  Half of DynamoDB failing already shows, and the backlog outlives DynamoDB's
  recovery by a few minutes (record: delayed or missing metrics from 02:35,
  elevated errors 05:51-07:10, fully recovered at 07:29).
* **Auto Scaling** writes its state to DynamoDB: its API faults as often as a
  write fails. Its background scheduler runs scaling jobs; a job needs several
  writes and is retried later if one fails, so a backlog builds during the outage
  and drains afterwards at the scheduler's spare rate (record: faults 02:15-07:10,
  backlog cleared at 10:52).
* **Console login** makes a non-essential call to DynamoDB with a long timeout.
  The call retries inside its timeout; when all tries fail the login waits the
  whole timeout instead of failing fast and carrying on (record: slow logins
  05:45-07:10).

The thresholds that say when a dependent counts as impaired (``*_THRESHOLD``,
:data:`CONSOLE_SLOW_S`) and the constants below are the model's: the record gives
the times, not the numbers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sqs_error_rate", "cloudwatch", "autoscaling", "console_login_s", "impaired_window",
           "clears_at_min", "SQS_THRESHOLD", "CLOUDWATCH_THRESHOLD", "AUTOSCALING_THRESHOLD",
           "CONSOLE_SLOW_S"]

#: DynamoDB writes one Auto Scaling job needs (all must succeed).
AUTOSCALING_WRITES_PER_JOB = 3
#: Tries the Console's login call makes before its timeout.
CONSOLE_TRIES = 3
#: Login time when DynamoDB answers (seconds).
CONSOLE_BASE_LOGIN_S = 2.0
#: A login counts as slow above this mean time ("tens of seconds", says the record).
CONSOLE_SLOW_S = 20.0
#: SQS counts as failing when this share of queues cannot be served.
SQS_THRESHOLD = 0.10
#: CloudWatch counts as impaired when this share of new metrics is missing, or when
#: at least a minute's worth of metrics is still held back.
CLOUDWATCH_THRESHOLD = 0.10
#: Auto Scaling's API counts as faulting above this fault rate.
AUTOSCALING_THRESHOLD = 0.05


def _all_failed_within(error: np.ndarray, window: int) -> np.ndarray:
    """Per bucket, the probability that a refresh made once a bucket failed in each of
    the last ``window`` buckets: the product of the error rates over that window.
    Before the run DynamoDB was healthy (error 0); NaN (not simulated yet) stays NaN."""
    e = np.nan_to_num(error, nan=0.0)
    padded = np.concatenate((np.zeros(window - 1), e))
    out = np.lib.stride_tricks.sliding_window_view(padded, window).prod(axis=1)
    return np.where(np.isnan(error), np.nan, out)


def sqs_error_rate(error: np.ndarray, bucket_s: float, ttl_s: float) -> np.ndarray:
    """SQS: share of queues whose metadata cache went stale (every refresh in ``ttl_s`` failed)."""
    return _all_failed_within(error, max(1, round(ttl_s / bucket_s)))


def cloudwatch(error: np.ndarray, bucket_s: float, ttl_s: float, hold_s: float,
               spare: float) -> tuple[np.ndarray, np.ndarray]:
    """CloudWatch: (share of new EC2 metrics that cannot be enriched now, minutes' worth of
    metrics held back) per bucket.

    Each minute one minute's worth of metrics arrives; the stale share of it joins the
    backlog. The pipeline retries up to ``spare`` minutes' worth of backlog per minute,
    and a retry works when the cache is fresh. The backlog keeps at most ``hold_s`` of
    metrics; older ones are given up (missing for good).
    """
    stale = _all_failed_within(error, max(1, round(ttl_s / bucket_s)))
    minutes = bucket_s / 60.0
    cap = hold_s / 60.0
    backlog = np.full(len(error), np.nan)
    held = 0.0
    for i, s in enumerate(stale):
        if np.isnan(s):
            break
        held = min(cap, held + s * minutes)
        held -= min(held, spare * minutes) * (1.0 - s)
        backlog[i] = held
    return stale, backlog


def autoscaling(error: np.ndarray, bucket_s: float, jobs_per_min: float,
                capacity_per_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Auto Scaling: (API fault rate, scheduler backlog in jobs) per bucket.

    Each minute ``jobs_per_min`` jobs join the backlog; the scheduler tries up to
    ``capacity_per_min`` of them; a try succeeds if all its DynamoDB writes do.
    """
    minutes = bucket_s / 60.0
    backlog = np.full(len(error), np.nan)
    pending = 0.0
    for i, e in enumerate(error):
        if np.isnan(e):
            break
        pending += jobs_per_min * minutes
        tried = min(pending, capacity_per_min * minutes)
        pending -= tried * (1.0 - e) ** AUTOSCALING_WRITES_PER_JOB
        backlog[i] = pending
    return error.copy(), backlog


def console_login_s(error: np.ndarray, call_timeout_s: float) -> np.ndarray:
    """Console: mean login time; the login waits the whole timeout when every try fails."""
    return CONSOLE_BASE_LOGIN_S + call_timeout_s * error ** CONSOLE_TRIES


def impaired_window(t_s: np.ndarray, impaired: np.ndarray) -> tuple[float, float] | None:
    """``(first, last)`` start times of the buckets where ``impaired`` holds, or None."""
    hits = np.nonzero(np.asarray(impaired, dtype=bool))[0]
    if hits.size == 0:
        return None
    return float(t_s[hits[0]]), float(t_s[hits[-1]])


def clears_at_min(backlog: np.ndarray, bucket_s: float, jobs_per_min: float,
                  capacity_per_min: float) -> float | None:
    """Minute (since the start of the run) at which the Auto Scaling backlog is gone: where
    it first reaches zero, or, if it is still draining at the end, that end plus the time
    to drain the rest at the spare rate (``capacity - jobs`` per minute, DynamoDB healthy).
    None if there never was a backlog, or it is not draining at the end."""
    simulated = backlog[~np.isnan(backlog)]
    if simulated.size == 0 or simulated.max() < 1.0:
        return None
    peak = int(np.argmax(simulated))
    after = np.nonzero(simulated[peak:] < 1.0)[0]
    if after.size:
        return (peak + after[0]) * bucket_s / 60.0
    spare = capacity_per_min - jobs_per_min
    if spare <= 0 or simulated.size < 2 or simulated[-1] >= simulated[-2]:
        return None  # not draining at the end (DynamoDB still failing): no estimate
    return simulated.size * bucket_s / 60.0 + simulated[-1] / spare
