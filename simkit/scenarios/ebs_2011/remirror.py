"""What a node does for a volume that lost its peer: the re-mirror search policy.

This is the first piece learners write in Lab 3, and the first of the three loops
of the storm. A node that loses contact with the other replica of a volume
assumes that replica is gone. In 2011 it then searched the cluster for a node with
free space, at once, and if there was none it searched again after a short fixed
wait, forever: with free space at zero, hundreds of nodes did nothing but search.

Two fixes came out of the postmortem, and the policy below has both:

* **prefer the previous replica**: if the old peer is alive, reconnect to it (a
  short resync; I/O to the volume was blocked, so its copy is still current) and
  only search for new space when it is really gone. While it is alive but
  unreachable, wait for it;
* **back off**: after each failed search round wait longer (capped exponential
  backoff), with jitter so the nodes do not search in lock-step.

The model calls a policy through two methods, so a learner's version plugs in by
subclassing :class:`RemirrorPolicy` and overriding them::

    class MyPolicy(RemirrorPolicy):
        def choose(self, previous_alive, previous_reachable):
            ...                       # return "reconnect", "wait" or "search"
        def delay_s(self, failures, rng, previous_delay_s):
            ...                       # seconds until the next search round

    simkit.scenarios.ebs_2011.run(params, seed, remirror=MyPolicy.from_params(params))
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from functools import lru_cache

from ...params import check_choice, check_number
from ...policies import ExponentialBackoff, FixedRetry, RetryPolicy
from .params import BACKOFFS

__all__ = ["DECISIONS", "choose_remirror", "search_delay_s", "retry_policy", "RemirrorPolicy"]

#: What a node may decide for a volume that lost its peer.
DECISIONS = ("reconnect", "wait", "search")

#: Failures beyond this many all give the capped delay; keeps 2**n a small number.
_MAX_DOUBLINGS = 60

#: A node never gives up searching: its retry policy allows this many retries.
_FOREVER = sys.maxsize


def choose_remirror(previous_alive: bool, previous_reachable: bool, prefer_previous: bool) -> str:
    """Decide how to get a volume mirrored again.

    ``previous_alive``: the node with the previous replica is running;
    ``previous_reachable``: this node can talk to it now. Returns "reconnect" (resync
    with the previous replica), "wait" (it is alive but out of reach: wait for the
    network) or "search" (look for a node with free space and copy the volume there).
    Without ``prefer_previous`` (2011) the answer is always "search".
    """
    if prefer_previous and previous_alive:
        return "reconnect" if previous_reachable else "wait"
    return "search"


@lru_cache(maxsize=64)
def retry_policy(backoff: str, base_s: float, cap_s: float) -> RetryPolicy:
    """The kit's retry policy (:mod:`simkit.policies`) for a re-mirror ``backoff`` setting.

    "none" is :class:`~simkit.policies.FixedRetry` (always ``base_s``: 2011);
    "exponential" is :class:`~simkit.policies.ExponentialBackoff` without jitter; "full",
    "equal" and "decorrelated" are the same backoff with that jitter. A node never
    gives up, so the policies allow as many retries as there are.
    """
    check_choice("backoff", backoff, BACKOFFS)
    if backoff == "none":
        return FixedRetry(max_retries=_FOREVER, wait_s=base_s)
    jitter = "none" if backoff == "exponential" else backoff
    return ExponentialBackoff(max_retries=_FOREVER, base_s=base_s, cap_s=cap_s, jitter=jitter)


def search_delay_s(failures: int, rng: random.Random, base_s: float, cap_s: float, backoff: str,
                   previous_delay_s: float = 0.0) -> float:
    """Seconds to wait after ``failures`` failed search rounds in a row (1 = the first).

    * "none": always ``base_s``: no backoff at all (the 2011 behaviour);
    * "exponential": ``min(cap_s, base_s * 2**(failures - 1))``;
    * "full": uniform between 0 and that;
    * "equal": half of it, plus uniform in the other half;
    * "decorrelated": ``min(cap_s, uniform(base_s, 3 * previous_delay_s))`` (with
      ``previous_delay_s`` at least ``base_s``).

    The waits are those of :mod:`simkit.policies` (see :func:`retry_policy`); a node
    can fail thousands of rounds, so the doubling stops after 60 (the cap wins long
    before).
    """
    policy = retry_policy(backoff, base_s, cap_s)
    return policy.delay_s(min(failures, _MAX_DOUBLINGS + 1), rng, previous_delay_s)


@dataclass(frozen=True)
class RemirrorPolicy:
    """The canonical policy: :func:`choose_remirror` and :func:`search_delay_s` with fixed settings.

    ``RemirrorPolicy()`` is the 2011 behaviour (search at once, retry every 30 s);
    ``RemirrorPolicy(prefer_previous=True, backoff="full")`` is the fix.
    """

    prefer_previous: bool = False
    backoff: str = "none"
    base_s: float = 30.0
    cap_s: float = 600.0

    def __post_init__(self) -> None:
        if not isinstance(self.prefer_previous, bool):
            raise TypeError(f"prefer_previous = {self.prefer_previous!r} is not allowed: must be True or False")
        check_choice("backoff", self.backoff, BACKOFFS)
        check_number("base_s", self.base_s, minimum=0, exclusive_minimum=True, unit="s")
        check_number("cap_s", self.cap_s, minimum=self.base_s, unit="s")
        object.__setattr__(self, "_retry", retry_policy(self.backoff, self.base_s, self.cap_s))

    @classmethod
    def from_params(cls, params) -> "RemirrorPolicy":
        """The policy a scenario's parameters describe."""
        return cls(prefer_previous=params.prefer_previous_replica, backoff=params.remirror_backoff,
                   base_s=params.search_retry_s, cap_s=params.search_cap_s)

    def choose(self, previous_alive: bool, previous_reachable: bool) -> str:
        """"reconnect", "wait" or "search" for a volume that lost its peer."""
        return choose_remirror(previous_alive, previous_reachable, self.prefer_previous)

    def delay_s(self, failures: int, rng: random.Random, previous_delay_s: float) -> float:
        """Seconds until the next search round after ``failures`` failed rounds in a row
        (:func:`search_delay_s` with this policy's settings)."""
        return self._retry.delay_s(min(failures, _MAX_DOUBLINGS + 1), rng, previous_delay_s)
