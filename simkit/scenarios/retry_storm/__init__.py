"""``retry-storm``: the textbook metastable failure, in one service and its callers.

Customers send requests at a steady rate to a service that can handle it with
room to spare. Each caller waits ``timeout_s`` per attempt and then retries, up
to ``max_retries`` times. At ``spike_start_s`` the load doubles for a short while.
The service has a bounded queue (``queue_limit``: newcomers beyond it are turned
away at once), and its free workers take queued requests in no particular order
(``queue_discipline="random"``, as a pool of threads woken by whichever
connection is ready does).

What happens (with the defaults):

1. During the spike the queue grows. Soon many requests wait longer than the timeout.
2. Callers give up and retry, but the service does not know: it still works on
   every abandoned request it picks (wasted work). Each customer request now costs
   up to ``max_retries + 1`` attempts, so the *attempted* load is several times the
   offered load, far beyond capacity.
3. The spike ends, but the queue stays full: the retries alone sustain the
   overload. The service settles into a **degraded equilibrium**: the queue is
   full, a few requests are lucky enough to be picked before their caller gives
   up (goodput low, not zero), most work is wasted, and attempts run at about
   three times the offered load. It stays there although the trigger is gone: a
   *metastable* failure (Bronson et al., HotOS 2021; Huang et al., OSDI 2022).

Without retries, with a retry budget, or with half the base load, the same spike
passes and the service recovers by itself. Because the queue is bounded, breaking
the loop ends the collapse at any time: a retry budget, once it has reached the
callers, drains the queue in seconds.

With ``queue_discipline="fifo"`` every queued request waits the same (the queue's
whole length), so the collapsed state serves nobody in time (goodput zero); with an
unbounded queue (a huge ``queue_limit``) the backlog of abandoned requests grows
without end, and no late lever can work until it is flushed.

**The second trigger, and the incident commander's game.** The default run is
the game of lab 0: eight minutes (``horizon_s`` 480) in ticks of five seconds. At
``maintenance_start_s`` (05:15) the database the service reads from starts its
scheduled maintenance, announced in the timeline at the start: for
``maintenance_s`` (75 s) every request takes ``maintenance_slowdown`` (2.5) times
as long, so ten workers can finish 40 requests a second where 70 arrive. A service
still caught in its retry loop only sinks deeper; one whose loop is broken but
which has no headroom fails a share of its customers while it lasts; one whose
loop is broken *and* which has added workers beforehand (70 x 0.25 s = 17.5
workers' worth of work per second: two steps of five) rides it out. So the game
takes three decisions, each a step of the lesson: break the loop at once (shed
stale requests: this bounds queue time), then restore headroom in time for the
maintenance (two steps of workers, each booting for a minute, which crash if they
come up into the storm's full queue). The levers and their side effects are in
:mod:`.operators`, the page, the rubric and the intended plan in :mod:`.model`.

*Why the maintenance starts after 300 s.* Lab 0's physics experiments run the
storm alone: the default parameters with ``horizon_s`` 300 (or 200), and the phase
maps (:mod:`simkit.phase`, :mod:`simkit.fluid`, which use
:data:`STORM_HORIZON_S`). A maintenance that starts at or after the end of a run
does not happen in it (nothing is scheduled, no note is written, no random number
is drawn), so every series of those runs is bit for bit what it was before the
game had a second trigger (they only gain one more, ``capacity``). The fluid lens
has no maintenance window and refuses a run that would include one.

Modules: :mod:`.params` (the knobs), :mod:`.model` (the service, callers,
triggers, series, page and rubric), :mod:`.operators` (the operator's levers).
"""

from .model import INTENDED_PLAN, PAGE_TIMEOUT_SHARE, RECOVERED_ERROR, Model, run
from .operators import FULL_QUEUE_SHARE, MAX_CAPACITY_ADDS, RollingBudget
from .params import BUDGET_TOKENS, QUEUE_DISCIPLINE, QUEUE_LIMIT, RETRY_POLICIES, STORM_HORIZON_S, Params, make_retry

__all__ = ["Params", "Model", "run", "make_retry", "RETRY_POLICIES", "QUEUE_LIMIT", "QUEUE_DISCIPLINE",
           "STORM_HORIZON_S", "BUDGET_TOKENS", "PAGE_TIMEOUT_SHARE", "RECOVERED_ERROR", "INTENDED_PLAN",
           "MAX_CAPACITY_ADDS", "FULL_QUEUE_SHARE", "RollingBudget"]
