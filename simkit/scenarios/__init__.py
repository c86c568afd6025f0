"""The scenarios of the course, by name.

``get("dynamodb-2015")`` returns that scenario's ``Model`` class; ``names()`` lists
them. Modules are imported on first use, so ``import simkit`` stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import ActionRefused, Panel, ScenarioModel, ScoreCard

__all__ = ["get", "names", "ActionRefused", "Panel", "ScenarioModel", "ScoreCard"]

#: scenario name -> module under simkit.scenarios
_MODULES = {
    "retry-storm": "retry_storm",
    "dynamodb-2015": "dynamodb_2015",
    "elb-2012": "elb_2012",
    "ebs-2011": "ebs_2011",
}


def names() -> list[str]:
    """The names of the scenarios whose module is present."""
    return [name for name, module in _MODULES.items() if importlib.util.find_spec(f"{__name__}.{module}")]


def get(name: str) -> type[ScenarioModel]:
    """The Model class of scenario ``name``; a clear error for an unknown name."""
    if not isinstance(name, str) or name not in _MODULES:
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {', '.join(names())}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return module.Model
