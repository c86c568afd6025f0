"""The incident-commander game: engine (plain Python) and console (widgets).

``Incident``, ``Plan`` and ``score`` are the engine; ``Console`` (in
:mod:`simkit.commander.console`) is the ipywidgets front end that drives them.
"""

from .engine import Incident, Plan, PlanStep, replay, score

__all__ = ["Incident", "Plan", "PlanStep", "replay", "score"]
