"""The on-call engineer's levers in ``retry-storm``, each with the side effect common sense gives it.

This class is mixed into :class:`~simkit.scenarios.retry_storm.model.Model`. Every rule
is one sentence a learner can check against the dashboard:

* **Shed stale requests** (at once, cost 1): the service drops queued requests that
  have waited longer than half the callers' timeout instead of working on them. It
  bounds queue *time*, so what the workers do is useful again; the dropped customers'
  attempts fail (and their callers may retry).
* **Switch to a retry budget** (cost 2): a client config push that reaches the callers
  gradually, an equal share each second, all of them after ``config_push_s``. Callers
  that have it retry only while the shared token bucket allows; the others still retry
  at once, so the loop weakens only as the push spreads.
* **Add workers** (cost 2: money): ``capacity_step_workers`` more workers, after
  ``boot_s`` to boot; spares for two such steps. New workers that come up while the
  queue is full are swamped before their caches are warm and crash (the step fails and
  its spares go back to the pool): capacity does not end a retry storm, it gets eaten
  by it. Break the loop first.
* **Pause clients** (at once, cost 2): the edge turns every new customer request away
  (they fail at once) until resumed. Retries die out within a few timeouts.
* **Resume clients** (cost 1): the edge lets customers back in gradually, an equal
  share more each second over ``resume_ramp_s``; the rest are still turned away.
  Pausing again during the ramp stops it.

Costs (the rubric's "cost of actions") stand for toil, risk and money; a refused
attempt costs 1.
"""

from __future__ import annotations

from typing import Any, Callable

from ...actions import ActionFailed, action
from ...policies import RetryBudget
from .params import BUDGET_TOKENS

__all__ = ["OperatorActions", "RollingBudget", "MAX_CAPACITY_ADDS", "FULL_QUEUE_SHARE"]

#: Spare workers are there for this many "add workers" steps.
MAX_CAPACITY_ADDS = 2
#: The queue counts as full (new workers crash) at this share of ``queue_limit``.
FULL_QUEUE_SHARE = 0.9


class RollingBudget:
    """A retry budget that only part of the callers have yet.

    ``share()`` is the share of callers the config push has reached so far; a retry
    is checked against the shared bucket with that probability (drawn from ``rng``),
    otherwise it goes ahead as before. Every success deposits, as in
    :class:`~simkit.policies.RetryBudget`, which holds the tokens.
    """

    def __init__(self, bucket: RetryBudget, share: Callable[[], float], rng: Any) -> None:
        self.bucket = bucket
        self.share = share
        self.rng = rng

    def on_success(self) -> None:
        self.bucket.on_success()

    def try_spend(self) -> bool:
        if self.rng.random() >= self.share():
            return True  # this caller has not got the new config yet
        return self.bucket.try_spend()


class OperatorActions:
    """The operator actions of ``retry-storm`` (a mixin of its Model; see the module docstring)."""

    # set up by Model.build: self.params, self.world, self.service, self.clients,
    # self.capacity_adds, self._edge_generation

    # -- breaking the loop --------------------------------------------------------------------------
    @action("Shed stale requests", cost=1,
            description="The service drops queued requests that waited longer than half the callers' "
                        "timeout instead of working on them; those customers' attempts fail.")
    def shed_load(self) -> str:
        self.service.max_queue_wait_s = self.params.timeout_s / 2
        return (f"the service now drops requests that waited longer than {self.params.timeout_s / 2:g} s "
                f"(half the timeout)")

    @action("Switch to a retry budget", delay="config_push_s", cost=2,
            description="Push a client config that limits retries with a token bucket (budget_ratio tokens "
                        "per success). It reaches an equal share of the callers each second.")
    def retry_budget(self) -> str:
        self.clients.budget = self.clients.budget.bucket
        return "every caller now retries within the budget"

    @retry_budget.precondition
    def retry_budget(self) -> str | None:
        return "the clients already use a retry budget" if self.clients.budget is not None else None

    @retry_budget.on_request
    def retry_budget(self) -> str:
        p, world = self.params, self.world
        start = world.now

        def share() -> float:
            return 1.0 if p.config_push_s <= 0 else min(1.0, (world.now - start) / p.config_push_s)

        bucket = RetryBudget(ratio=p.budget_ratio, max_tokens=BUDGET_TOKENS)
        self.clients.budget = RollingBudget(bucket, share, world.rng("operator.rollout"))
        return f"config push under way: it reaches all callers in {p.config_push_s:g} s"

    # -- capacity -----------------------------------------------------------------------------------
    @action("Add workers", delay="boot_s", limit=None, cost=2,
            description="Start more workers (capacity_step_workers each time; spares for two steps). They "
                        "boot first, and crash if they come up while the queue is full.")
    def add_capacity(self) -> str:
        p, service = self.params, self.service
        if p.queue_limit and len(service.queue) >= FULL_QUEUE_SHARE * p.queue_limit:
            raise ActionFailed(f"the {p.capacity_step_workers} new workers came up into a full queue "
                               f"({len(service.queue)} requests waiting) and crashed before their caches "
                               f"were warm; the spares go back to the pool")
        self.capacity_adds += 1
        service.set_workers(service.workers + p.capacity_step_workers)
        return (f"{p.capacity_step_workers} workers added ({service.workers} now, "
                f"capacity {self.capacity_rps():.0f} requests/s)")

    @add_capacity.precondition
    def add_capacity(self) -> str | None:
        if self.capacity_adds >= MAX_CAPACITY_ADDS:
            return f"no spare workers left: capacity was already added {MAX_CAPACITY_ADDS} times"
        return None

    # -- the edge -----------------------------------------------------------------------------------
    @action("Pause clients", limit=None, cost=2,
            description="The edge turns every new customer request away (they fail at once) until resumed.")
    def pause_clients(self) -> str:
        self._edge_generation += 1  # stops a ramp under way
        self.clients.paused = True
        return "new customer requests are turned away"

    @pause_clients.precondition
    def pause_clients(self) -> str | None:
        return "clients are already paused" if self.clients.paused else None

    @action("Resume clients", limit=None, cost=1,
            description="The edge lets customers back in gradually: an equal share more each second over "
                        "resume_ramp_s.")
    def resume_clients(self) -> str:
        p, clients = self.params, self.clients
        clients.paused = False
        if p.resume_ramp_s <= 0:
            clients.admit_share = 1.0
            return "customer requests flow again"
        clients.admit_share = 0.0
        self._edge_generation += 1
        self.world.env.process(self._ramp(self._edge_generation))
        return f"customers are let back in gradually, all of them in {p.resume_ramp_s:g} s"

    @resume_clients.precondition
    def resume_clients(self) -> str | None:
        return None if self.clients.paused else "clients are not paused"

    def _ramp(self, generation: int):
        """Raise the share let through at the edge by one step a second, unless paused again."""
        env, clients = self.world.env, self.clients
        steps = max(1, round(self.params.resume_ramp_s))
        for step in range(1, steps + 1):
            yield env.timeout(self.params.resume_ramp_s / steps)
            if self._edge_generation != generation:
                return
            clients.admit_share = step / steps
        self.world.note("every customer is let through again", "effect")
