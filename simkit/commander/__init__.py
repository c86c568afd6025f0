"""The incident-commander game: engine (plain Python) and console (widgets).

``Incident``, ``Plan`` and ``score`` are the engine; ``Console`` (in
:mod:`simkit.commander.console`) is the ipywidgets front end that drives them, with
its parts in their own modules: the layout (``console_view``), its words
(``console_text``), the live charts (``headline``), the play loop (``player``), the
editable plan (``plan_table``) and the space-bar shortcut (``keys``). Importing this
package imports no widgets, so headless grading never loads them.
"""

from .engine import Incident, Plan, PlanStep, replay, score

__all__ = ["Incident", "Plan", "PlanStep", "replay", "score"]
