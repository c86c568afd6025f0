"""simkit: a small kit for simulating cascading failure, on top of SimPy.

Read it in this order: :mod:`~simkit.params` (validated knobs), :mod:`~simkit.world`
(clock and seeded random streams), :mod:`~simkit.metrics` (what is measured),
:mod:`~simkit.service` (a server that wastes work), :mod:`~simkit.sharing` (processor
sharing: jobs that slow each other down), :mod:`~simkit.policies` and
:mod:`~simkit.client` (timeouts, retries, budgets, breakers), :mod:`~simkit.network`,
then a scenario such as :mod:`simkit.scenarios.retry_storm`. For many runs at
once: :mod:`~simkit.sweep` (parallel runs), :mod:`~simkit.phase` (phase maps),
:mod:`~simkit.fluid` (a fast mean-field lens on the retry storm).

Quick start::

    import simkit
    result = simkit.run("retry-storm", seed=1)
    print(result.describe())
"""

from __future__ import annotations

from typing import Any

from .params import Params
from .result import Result
from .world import World

__version__ = "0.1.0"
__all__ = ["run", "scenario", "Params", "Result", "World", "__version__"]


def scenario(name: str):
    """The Model class of scenario ``name`` (see :mod:`simkit.scenarios`)."""
    from .scenarios import get

    return get(name)


def run(name: str, params: Any = None, seed: int = 0, plan: Any = None) -> Result:
    """Run scenario ``name`` over its whole horizon and return its :class:`Result`.

    ``params`` is the scenario's Params object or a dict of overrides; ``plan`` an
    optional list of ``(time, "action")`` operator steps.
    """
    return scenario(name).run(params, seed=seed, plan=plan)
