"""Services that depend on DynamoDB, each driven by DynamoDB's error rate.

The four dependents AWS described in its postmortem, each reduced to the one
mechanism that shaped its outage. Each function takes DynamoDB's customer error
rate per minute (a NumPy array, the probability that one DynamoDB request fails)
and returns its own series, one value per minute. They are deliberately simple
formulas, not simulations, so a learner can check them by hand:

* **SQS** keeps queue metadata in a cache, refreshed every minute from a DynamoDB
  table. A queue whose cache entry has not been refreshed for ``ttl_s`` cannot be
  served: its error share is the chance that *every* refresh in that window failed.
  Half of DynamoDB failing barely shows; all of it failing shows at once.
* **CloudWatch** enriches incoming EC2 metrics with Auto Scaling group membership
  read from DynamoDB, with the same kind of cache (shorter): metrics whose
  enrichment data went stale are delayed or missing.
* **Auto Scaling** writes its state to DynamoDB: its API faults as often as a
  write fails. Its background scheduler runs scaling jobs; a job needs several
  writes and is retried later if one fails, so a backlog builds during the outage
  and drains afterwards at the scheduler's spare rate.
* **Console login** makes a non-essential call to DynamoDB with a long timeout.
  The call retries inside its timeout; when all tries fail the login waits the
  whole timeout instead of failing fast and carrying on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sqs_error_rate", "cloudwatch_missing_fraction", "autoscaling", "console_login_s"]

#: DynamoDB writes one Auto Scaling job needs (all must succeed).
AUTOSCALING_WRITES_PER_JOB = 3
#: Tries the Console's login call makes before its timeout.
CONSOLE_TRIES = 3
#: Login time when DynamoDB answers (seconds).
CONSOLE_BASE_LOGIN_S = 2.0


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


def cloudwatch_missing_fraction(error: np.ndarray, bucket_s: float, ttl_s: float) -> np.ndarray:
    """CloudWatch: share of EC2 metrics delayed or missing (enrichment data stale)."""
    return _all_failed_within(error, max(1, round(ttl_s / bucket_s)))


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
