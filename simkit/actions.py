"""Operator actions, declared once, next to their effect.

An action of the commander game is a method of a scenario's model, decorated with
:func:`action`. The decorator holds everything the game needs to know about it:

.. code-block:: python

    class Model(ScenarioModel):

        @action("Pause renewal requests", delay="switch_delay_s", cost=2,
                description="Stop storage servers' requests from reaching the metadata service.")
        def pause_renewals(self) -> str:
            self.fleet.paused = True
            return "renewal requests paused"

        @pause_renewals.precondition
        def pause_renewals(self) -> str | None:
            return "renewal requests are already paused" if self.fleet.paused else None

* the **label** on the console's button and the **plan identifier** (the method's name);
* a one-sentence **description** for the tooltip and the notebooks;
* the **delay** before the effect: a number of seconds, the name of a field of the
  scenario's ``Params`` (so a tooltip can never disagree with the parameters), or a
  function of the params;
* how often it may be taken (``limit``), and its **cost** in the scenario's rubric
  (operational risk, toil or money; see :mod:`simkit.rubric`);
* **preconditions**, each returning the reason shown to the player, or None.

The decorated method is the *effect*: the kit calls it when the delay has passed and
logs what it returns. An effect that does not work raises :class:`ActionFailed` with
the reason. An action that must start something the moment it is requested (an
administrative request sent to a service, which then has to answer within the delay)
adds an :meth:`Action.on_request` hook. Scheduling, logging, the limit, the page and
the costs are the kit's business (:class:`simkit.scenarios.base.ScenarioModel`), the
same for every scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

__all__ = ["action", "Action", "ActionRecord", "ActionRefused", "ActionFailed", "format_duration"]

#: A delay: seconds, the name of a Params field in seconds, or a function of the Params.
Delay = Union[float, str, Callable[[Any], float]]


class ActionRefused(Exception):
    """An operator action that cannot be taken now; the message says why."""


class ActionFailed(Exception):
    """Raised by an action's effect when the action did not work; the message says why."""


def format_duration(seconds: float) -> str:
    """A delay in words: "at once", "45 s", "10 min", "2 h 30 min"."""
    if seconds <= 0:
        return "at once"
    if seconds < 120 and not float(seconds / 60).is_integer():
        return f"{seconds:g} s"
    minutes = seconds / 60.0
    if minutes < 120:
        return f"{minutes:g} min"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


@dataclass
class Action:
    """One operator action of a scenario (made by :func:`action`; see the module doc)."""

    name: str
    label: str
    description: str
    effect: Callable[[Any], str | None]
    delay: Delay = 0.0
    limit: int | None = 1
    cost: float = 1.0
    preconditions: list[Callable[[Any], str | None]] = field(default_factory=list)
    request: Callable[[Any], str | None] | None = None

    def precondition(self, check: Callable[[Any], str | None]) -> "Action":
        """Decorator: add a precondition (a method returning the refusal reason, or None)."""
        self.preconditions.append(check)
        return self

    def on_request(self, hook: Callable[[Any], str | None]) -> "Action":
        """Decorator: a method run the moment the action is requested (may return a message)."""
        self.request = hook
        return self

    def delay_s(self, params: Any) -> float:
        """The delay in seconds for these parameters."""
        if isinstance(self.delay, str):
            return float(getattr(params, self.delay))
        if callable(self.delay):
            return float(self.delay(params))
        return float(self.delay)

    def refusal(self, model: Any) -> str | None:
        """The first precondition that does not hold now, or None."""
        for check in self.preconditions:
            reason = check(model)
            if reason:
                return reason
        return None

    def tooltip(self, params: Any) -> str:
        """The description with the delay, limit and cost read from ``params``."""
        delay = self.delay_s(params)
        when = "takes effect at once" if delay <= 0 else f"takes effect after {format_duration(delay)}"
        limit = "" if self.limit is None else (" once" if self.limit == 1 else f" at most {self.limit} times")
        times = f"; can be taken{limit}" if limit else ""
        return f"{self.description} ({when}{times}; cost {self.cost:g}) [plan: {self.name}]"

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"action {self.name!r} is bound to the attribute {name!r}; give them one name")

    def __call__(self, model: Any) -> str | None:  # pragma: no cover - a guard, not an API
        raise TypeError(f"call model.act({self.name!r}) to take an action; the kit schedules its effect")


def action(
    label: str,
    *,
    description: str,
    delay: Delay = 0.0,
    limit: int | None = 1,
    cost: float = 1.0,
) -> Callable[[Callable[[Any], str | None]], Action]:
    """Declare the decorated method as an operator action (see the module docstring)."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit = {limit!r} is not allowed: must be None (no limit) or >= 1")
    if cost < 0:
        raise ValueError(f"cost = {cost!r} is not allowed: must be >= 0")

    def declare(effect: Callable[[Any], str | None]) -> Action:
        return Action(effect.__name__, label, description, effect, delay, limit, cost)

    return declare


@dataclass
class ActionRecord:
    """What happened to one action the operator tried.

    ``status`` is ``"refused"`` (not taken: ``message`` says why), ``"pending"`` (taken,
    its effect comes at ``due_s``), ``"done"`` or ``"failed"`` (the effect came, or
    did not work: ``message`` says what happened).
    """

    name: str
    label: str
    requested_s: float
    due_s: float
    status: str
    message: str = ""
    cost: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status != "refused"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.name, "minute": self.requested_s / 60.0, "due_minute": self.due_s / 60.0,
                "status": self.status, "ok": self.status in ("pending", "done"), "message": self.message,
                "cost": self.cost}
