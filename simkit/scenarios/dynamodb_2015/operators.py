"""What the operators could do on the night, and what each lever could and could not do.

Every lever is an :func:`~simkit.actions.action` of the model (this class is mixed
into :class:`~simkit.scenarios.dynamodb_2015.model.Model`). What AWS's summary
(https://aws.amazon.com/message/5467D2/) says about each, and how the model follows:

* **Pause and resume renewal requests** (a fleet-wide switch). AWS decided to pause
  requests to the metadata service at 05:06, and DynamoDB "finished disabling
  traffic" at 05:45: some 25 minutes for the switch to be in place everywhere, then
  up to one renewal interval plus an allowance for the last server to drop out.
  The model's switch takes ``switch_delay_s`` (25 min) either way, and only one
  switch can be rolling out at a time: a fleet-wide change is not reversed halfway.
  While paused, no renewal reaches the service, so every server drops out of
  service (customers fail) but the retry load is gone. Resuming lets every server
  ask at once: the 02:19 herd again, which only enough capacity survives.
* **Add metadata capacity**. Capacity is added by administrative requests that the
  metadata service itself must process; while the retries kept it saturated they
  failed ("after several failed attempts"), and once the pause had relieved it they
  worked. The model needs the service to answer twice: the request (within
  ``admin_timeout_s``), and, ``capacity_delay_s`` later when the new hosts are
  provisioned, their joining (they register and load their share of the store, the
  same kind of heavy request). Hosts that join while the service is overloaded
  again are turned back. Both steps and the 20-minute provisioning are the
  model's; the record says only that the requests failed under load and that
  "significant capacity" was added between the pause and 07:10.
* **Fleet-wide configuration changes** (longer allowance, slower renewals, backoff,
  retry budget). AWS made the allowance longer and the renewal rate lower
  *afterwards*, as corrective actions; on the night it did neither. A storage server
  receives its membership "and all related information" from the metadata service;
  the model assumes its configuration travels that way too (see
  :mod:`.fleet`). So a published change reaches, after ``deploy_delay_s`` to build
  and stage it, only the servers whose renewals succeed: the ones stuck in the retry
  loop, which are the ones that need it, never hear of it, and the loop goes on.

Costs (the rubric's "cost of actions"): a switch 1, a capacity request 2 (hosts and
an administrative change to a service in trouble), a config change 3 (a fleet-wide
change made in the middle of an incident). Refused attempts cost 1 each.
"""

from __future__ import annotations

from typing import Any

from ...actions import ActionFailed, ActionRecord, action

__all__ = ["OperatorActions", "ADMIN_WORK_S", "MAX_CAPACITY_ADDS"]

#: Standalone processing time of one administrative request (adding capacity, or new
#: hosts joining): it rewrites the service's own configuration, a heavy request.
ADMIN_WORK_S = 30.0
#: How many times capacity can be added (spare hosts run out).
MAX_CAPACITY_ADDS = 3


class OperatorActions:
    """The operator actions of ``dynamodb-2015`` (a mixin of its Model; see the module doc)."""

    # set up by Model.build: self.fleet, self.cells, self.settings, self.params, self.world,
    # self.capacity_adds, self.admin_log, self._admin_replies

    # -- the switch ------------------------------------------------------------------------------
    def _switch_rolling_out(self) -> str | None:
        """Why no switch can be flipped now (one is still rolling out), or None."""
        for record in self.pending():
            if record.name in ("pause_renewals", "resume_renewals"):
                what = "pause" if record.name == "pause_renewals" else "resume"
                return (f"the {what} is still rolling out (in place at {self.clock(record.due_s)}); "
                        f"one fleet-wide switch at a time")
        return None

    @action("Pause renewal requests", delay="switch_delay_s", limit=None, cost=1,
            description="Stop storage servers' requests from reaching the metadata service. Every server "
                        "drops out of service when its next renewal fails, but the retry load goes away.")
    def pause_renewals(self) -> str:
        self.fleet.paused = True
        return "renewal requests paused: servers drop out as their renewals fail"

    @pause_renewals.precondition
    def pause_renewals(self) -> str | None:
        return self._switch_rolling_out() or ("renewal requests are already paused" if self.fleet.paused else None)

    @action("Resume renewal requests", delay="switch_delay_s", limit=None, cost=1,
            description="Let storage servers' requests reach the metadata service again: every server that "
                        "is out of service asks at once.")
    def resume_renewals(self) -> str:
        self.fleet.paused = False
        out = sum(1 for s in self.fleet.servers if not s.in_service)
        workers = sum(c.workers for c in self.cells)
        return (f"renewal requests flow again: {out} servers out of service ask at once, "
                f"on {workers:g} metadata workers")

    @resume_renewals.precondition
    def resume_renewals(self) -> str | None:
        return self._switch_rolling_out() or (None if self.fleet.paused else "renewal requests are not paused")

    # -- capacity ----------------------------------------------------------------------------------
    @action("Add metadata capacity", delay="admin_timeout_s", limit=None, cost=2,
            description="Send the administrative request that adds workers to the metadata service; the "
                        "service must answer it within the admin timeout, and answer again when the new "
                        "hosts join after the capacity delay (spare hosts for 3 adds).")
    def add_capacity(self) -> str:
        """The admin request's verdict, when its timeout is up; then the hosts are provisioned."""
        p, world = self.params, self.world
        answered = self._answered(self._admin_replies, "request", world.now - p.admin_timeout_s)
        if not answered:
            raise ActionFailed(f"the metadata service did not answer the admin request within "
                               f"{p.admin_timeout_s:g} s (it is too busy)")
        self.capacity_adds += 1
        record = self._latest_record("add_capacity")
        world.at(world.now + p.capacity_delay_s, lambda: self._hosts_join(answered, record))
        return (f"admin request answered: {p.capacity_step_workers} workers being provisioned, "
                f"joining at {self.clock(world.now + p.capacity_delay_s)}")

    @add_capacity.precondition
    def add_capacity(self) -> str | None:
        if self.capacity_adds >= MAX_CAPACITY_ADDS:
            return f"no spare hosts left: capacity was already added {MAX_CAPACITY_ADDS} times"
        return None

    @add_capacity.on_request
    def add_capacity(self) -> str:
        """Add capacity the only way there is: an administrative request to the metadata
        service itself, which must answer within the admin timeout."""
        p = self.params
        self._admin_replies = [cell.submit(ADMIN_WORK_S, p.admin_timeout_s, kind="admin") for cell in self.cells]
        return f"administrative request sent; it must be answered within {p.admin_timeout_s:g} s"

    def _hosts_join(self, cells: list, record: ActionRecord | None) -> None:
        """The new hosts are provisioned: they join if the service answers them in time."""
        p, world = self.params, self.world
        replies = [cell.submit(ADMIN_WORK_S, p.admin_timeout_s, kind="admin") for cell in cells]

        def verdict() -> None:
            joined = self._answered(replies, "join", world.now - p.admin_timeout_s, cells)
            if not joined:
                self.capacity_adds -= 1   # the hosts go back to the spare pool
                reason = (f"the new metadata hosts could not join: the service did not answer them within "
                          f"{p.admin_timeout_s:g} s (it is overloaded again)")
                world.note(f"Add metadata capacity failed: {reason}", "failure")
                if record is not None:
                    record.status, record.message = "failed", reason
                return
            step = p.capacity_step_workers / len(self.cells)
            for cell in joined:
                cell.set_workers(cell.workers + step)
            world.note(f"metadata capacity now {sum(c.workers for c in self.cells):g} workers", "recovery")

        world.at(world.now + p.admin_timeout_s, verdict)

    def _answered(self, replies: list, step: str, sent_s: float, cells: list | None = None) -> list:
        """The cells that answered their admin request; logs the step in ``admin_log``."""
        cells = self.cells if cells is None else cells
        answered = [cell for cell, reply in zip(cells, replies) if reply.triggered]
        self.admin_log.append({"minute": sent_s / 60.0, "step": step, "ok": bool(answered),
                               "cells_answered": len(answered)})
        return answered

    def _latest_record(self, name: str) -> ActionRecord | None:
        for record in reversed(self.action_log):
            if record.name == name:
                return record
        return None

    # -- fleet-wide configuration ---------------------------------------------------------------------
    @action("Double the retrieval allowance", delay="deploy_delay_s", limit=2, cost=3,
            description="Publish a config that doubles how long servers wait for their membership. A server "
                        "gets it with its next membership that arrives in time.")
    def lengthen_allowance(self) -> str:
        return self._publish(allowance_s=self.settings.published.allowance_s * 2)

    @action("Halve the renewal rate", delay="deploy_delay_s", limit=2, cost=3,
            description="Publish a config that doubles the time between routine renewals. A server gets it "
                        "with its next membership that arrives in time.")
    def slow_renewals(self) -> str:
        return self._publish(renewal_interval_s=self.settings.published.renewal_interval_s * 2)

    @action("Retry with backoff and jitter", delay="deploy_delay_s", cost=3,
            description="Publish a config: servers wait a random, growing delay between retries. A server "
                        "gets it with its next membership that arrives in time.")
    def enable_backoff(self) -> str:
        return self._publish(retry_policy="backoff-jitter")

    @enable_backoff.precondition
    def enable_backoff(self) -> str | None:
        return ("servers are already configured to retry with backoff and jitter"
                if self.settings.published.retry_policy == "backoff-jitter" else None)

    @action("Retry within a budget", delay="deploy_delay_s", cost=3,
            description="Publish a config: servers retry at once only while their token bucket allows, else "
                        "wait for the next routine renewal. A server gets it with its next membership that "
                        "arrives in time.")
    def enable_retry_budget(self) -> str:
        return self._publish(retry_policy="budget")

    @enable_retry_budget.precondition
    def enable_retry_budget(self) -> str | None:
        return ("servers are already configured to retry within a budget"
                if self.settings.published.retry_policy == "budget" else None)

    def _publish(self, **change: Any) -> str:
        """Publish one config change; say what it is and how it spreads."""
        self.settings.publish(**change)
        (name, value), = change.items()
        shown = f"{value:g} s" if isinstance(value, float) else value
        label = {"allowance_s": "retrieval allowance", "renewal_interval_s": "renewal interval",
                 "retry_policy": "retry policy"}[name]
        return f"config published ({label} {shown}): servers adopt it with their next membership in time"
