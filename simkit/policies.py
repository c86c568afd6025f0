"""The caller's levers: retry policies, a retry budget, a circuit breaker, throttling.

A retry turns one failure into another attempt. When failures come from overload,
each retry adds load to a service that is already too busy: that is the sustaining
loop of most metastable failures (Huang et al., OSDI 2022). The policies here are
the usual remedies, as written up in the AWS Builders' Library ("Timeouts, retries
and backoff with jitter") and the Google SRE book ("Handling overload"):

* :class:`NoRetry`, :class:`FixedRetry`: the baselines;
* :class:`ExponentialBackoff`: wait longer after each failure, capped, with jitter
  ("full", "equal" or "decorrelated") so callers do not retry in lock-step;
* :class:`RetryBudget`: a token bucket shared by a client: each success deposits a
  fraction of a token, each retry spends one, so retries can never be more than a
  fixed share of successful traffic;
* :class:`CircuitBreaker`: after enough failures in a row, stop calling for a while;
* :class:`AdaptiveThrottle`: reject locally with probability
  ``max(0, (requests - K * accepts) / (requests + 1))`` (SRE book).

All randomness comes from the ``rng`` the caller passes in (a stream from
:meth:`simkit.world.World.rng`), never from the global ``random`` module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .params import check_choice, check_number

__all__ = [
    "RetryPolicy",
    "NoRetry",
    "FixedRetry",
    "ExponentialBackoff",
    "RetryBudget",
    "CircuitBreaker",
    "AdaptiveThrottle",
    "JITTERS",
]

JITTERS = ("none", "full", "equal", "decorrelated")


class RetryPolicy(Protocol):
    """Decides whether and when to try again after a failed attempt."""

    max_retries: int

    def delay_s(self, retry: int, rng, previous_delay_s: float = 0.0) -> float | None:
        """Seconds to wait before retry number ``retry`` (1 = first retry), or None to give up."""


@dataclass(frozen=True)
class NoRetry:
    """Never retry: one attempt per request."""

    max_retries: int = 0

    def delay_s(self, retry: int, rng, previous_delay_s: float = 0.0) -> float | None:
        return None


@dataclass(frozen=True)
class FixedRetry:
    """Retry up to ``max_retries`` times, each after the same ``wait_s`` (0 = at once)."""

    max_retries: int = 3
    wait_s: float = 0.0

    def __post_init__(self) -> None:
        check_number("max_retries", self.max_retries, kind=int, minimum=0)
        check_number("wait_s", self.wait_s, minimum=0, unit="s")

    def delay_s(self, retry: int, rng, previous_delay_s: float = 0.0) -> float | None:
        return self.wait_s if retry <= self.max_retries else None


@dataclass(frozen=True)
class ExponentialBackoff:
    """Capped exponential backoff: ``min(cap_s, base_s * 2**(retry-1))``, then jitter.

    * "none": exactly that;
    * "full": uniform in ``[0, that]`` (spreads retries out the most);
    * "equal": half of it fixed, plus uniform in the other half;
    * "decorrelated": ``min(cap_s, uniform(base_s, 3 * previous))`` (AWS's variant).
    """

    max_retries: int = 3
    base_s: float = 0.1
    cap_s: float = 10.0
    jitter: str = "full"

    def __post_init__(self) -> None:
        check_number("max_retries", self.max_retries, kind=int, minimum=0)
        check_number("base_s", self.base_s, minimum=0, exclusive_minimum=True, unit="s")
        check_number("cap_s", self.cap_s, minimum=0, exclusive_minimum=True, unit="s")
        check_choice("jitter", self.jitter, JITTERS)
        if self.cap_s < self.base_s:
            raise ValueError(f"cap_s = {self.cap_s!r} is not allowed: must be >= base_s ({self.base_s})")

    def delay_s(self, retry: int, rng, previous_delay_s: float = 0.0) -> float | None:
        if retry > self.max_retries:
            return None
        ceiling = min(self.cap_s, self.base_s * 2 ** (retry - 1))
        if self.jitter == "none":
            return ceiling
        if self.jitter == "full":
            return rng.uniform(0.0, ceiling)
        if self.jitter == "equal":
            return ceiling / 2 + rng.uniform(0.0, ceiling / 2)
        previous = max(previous_delay_s, self.base_s)
        return min(self.cap_s, rng.uniform(self.base_s, 3 * previous))


class RetryBudget:
    """A token bucket that limits retries to a share of successes.

    Each successful call deposits ``ratio`` tokens (up to ``max_tokens``); each
    retry must spend one whole token, or it is not made. With ``ratio=0.1`` retries
    add at most about 10% to the load, however bad things get.
    """

    def __init__(self, ratio: float = 0.1, max_tokens: float = 10.0) -> None:
        self.ratio = check_number("ratio", ratio, minimum=0, maximum=1)
        self.max_tokens = check_number("max_tokens", max_tokens, minimum=1)
        self.tokens = self.max_tokens

    def on_success(self) -> None:
        self.tokens = min(self.max_tokens, self.tokens + self.ratio)

    def try_spend(self) -> bool:
        """Spend a token for one retry; False (no retry) if the bucket is empty."""
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class CircuitBreaker:
    """Stop calling a service that keeps failing; try again after a cool-down.

    Closed: calls go through. After ``failure_threshold`` failures in a row it
    opens: calls fail at once, locally, for ``cooldown_s``. Then it lets one call
    through (half-open): success closes it, failure opens it again.
    """

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 5.0) -> None:
        self.failure_threshold = check_number("failure_threshold", failure_threshold, kind=int, minimum=1)
        self.cooldown_s = check_number("cooldown_s", cooldown_s, minimum=0, exclusive_minimum=True, unit="s")
        self.failures = 0
        self.open_until_s: float | None = None
        self.half_open = False

    def allow(self, now_s: float) -> bool:
        """May a call go out at ``now_s``?"""
        if self.open_until_s is None:
            return True
        if now_s < self.open_until_s or self.half_open:
            return False
        self.half_open = True  # let exactly one probe through
        return True

    def record(self, success: bool, now_s: float) -> None:
        """Tell the breaker how a call that it allowed went."""
        if success:
            self.failures = 0
            self.open_until_s = None
            self.half_open = False
            return
        self.failures += 1
        if self.half_open or self.failures >= self.failure_threshold:
            self.open_until_s = now_s + self.cooldown_s
            self.half_open = False

    @property
    def is_open(self) -> bool:
        return self.open_until_s is not None


class AdaptiveThrottle:
    """Client-side adaptive throttling from the Google SRE book.

    Tracks requests and accepts (successes) with exponential decay, and rejects a
    new request locally with probability ``max(0, (requests - k * accepts) /
    (requests + 1))``. With ``k = 2`` the client sends at most about twice what the
    backend has recently been accepting.
    """

    def __init__(self, k: float = 2.0, decay: float = 0.99) -> None:
        self.k = check_number("k", k, minimum=1)
        self.decay = check_number("decay", decay, minimum=0, maximum=1, exclusive_minimum=True)
        self.requests = 0.0
        self.accepts = 0.0

    def allow(self, rng) -> bool:
        p_reject = max(0.0, (self.requests - self.k * self.accepts) / (self.requests + 1.0))
        self.requests = self.requests * self.decay + 1.0
        self.accepts *= self.decay
        return rng.random() >= p_reject

    def on_success(self) -> None:
        self.accepts += 1.0
