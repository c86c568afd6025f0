"""The debrief: what would have helped most, found by replaying variants of the player's plan.

After an incident, the most useful feedback is concrete: "pausing renewals 20 minutes
earlier would have scored 88 (+31)". :func:`debrief` makes a handful of variants of the
player's own plan, replays each on the same seed, and reports the best improvements in
words. The variants, in order of priority:

* the whole plan earlier (not before the page) or later;
* each step taken ``debrief_shift_s`` earlier (not before the page) or later;
* each step dropped;
* each action the plan never took, added at the page (or, for an empty plan, at the
  page and one shift later).

At most ``max_variants`` are played, in worker processes, so a debrief takes a few
seconds. The same plan and seed always give the same debrief.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..actions import format_duration
from ..params import Params
from ..plan import Plan, play_out
from ..rubric import ScoreCard
from ..scenarios import get as get_scenario

__all__ = ["debrief", "variants"]

#: Variants played at most (a debrief should take a few seconds, not a minute).
MAX_VARIANTS = 10


def _score(job: tuple[str, list, Any, int]) -> float:
    scenario, plan, params, seed = job
    model = get_scenario(scenario)(params, seed)
    play_out(model, plan)
    return model.score_card().score


def variants(scenario: str, plan: Plan, model: Any) -> list[tuple[str, list]]:
    """``(what was changed, in words; the changed plan as data)``, most promising first.

    ``model`` is a run of the scenario on the same seed and params (for the page, the
    clock and the end of the run)."""
    cls = get_scenario(scenario)
    shift = cls.debrief_shift_s / 60.0
    tick = cls.tick_s / 60.0
    page_min = -(-model.page_s // cls.tick_s) * cls.tick_s / 60.0
    end_min = model.horizon_s / 60.0
    steps = sorted(((s.minutes(model.world.clock_start_s), s.action) for s in plan.steps), key=lambda s: s[0])

    def clock(minute: float) -> str:
        return model.world.stamp(minute * 60.0)

    def snap(minute: float) -> float:
        return round(round(minute / tick) * tick, 3)

    out: list[tuple[str, list]] = []
    words = format_duration(cls.debrief_shift_s)
    if len(steps) > 1:
        move = min(shift, steps[0][0] - page_min)
        if move >= tick:
            out.append((f"the whole plan {format_duration(move * 60)} earlier",
                        [(snap(m - move), n) for m, n in steps]))
        if steps[-1][0] + shift < end_min:
            out.append((f"the whole plan {words} later", [(snap(m + shift), n) for m, n in steps]))
    for i, (minute, name) in enumerate(steps):
        label = cls.actions[name].label.lower() if name in cls.actions else name
        rest = steps[:i] + steps[i + 1:]
        earlier = snap(max(page_min, minute - shift))
        if earlier < minute:
            out.append((f"{label} {words} earlier (at {clock(earlier)} instead of {clock(minute)})",
                        sorted(rest + [(earlier, name)])))
        later = snap(minute + shift)
        if later < end_min:
            out.append((f"{label} {words} later (at {clock(later)} instead of {clock(minute)})",
                        sorted(rest + [(later, name)])))
        out.append((f"leaving out \"{cls.actions[name].label}\" at {clock(minute)}", list(rest)))
    taken = {name for _, name in steps}
    for name, spec in cls.actions.items():
        if name in taken:
            continue
        times = [page_min] if steps else [page_min, snap(page_min + shift)]
        for minute in times:
            if minute < end_min:
                out.append((f"adding \"{spec.label}\" at {clock(minute)}", sorted(steps + [(minute, name)])))
    return [(what, [list(step) for step in changed]) for what, changed in out]


def debrief(
    scenario: str,
    plan: Plan | list | str,
    *,
    params: Params | dict | None = None,
    seed: int = 0,
    card: ScoreCard | None = None,
    max_variants: int = MAX_VARIANTS,
    workers: int | None = None,
) -> list[str]:
    """A few lines on what would have improved ``plan`` most (on this seed), best first."""
    cls = get_scenario(scenario)
    model = cls(params, seed)
    plan = Plan.coerce(plan, model)
    if card is None:
        play_out(model, plan)
        card = model.score_card()
    else:
        model.advance_to(model.horizon_s)
    if model.page_s is None:
        return ["nothing paged the on-call engineer on this seed: there was nothing to respond to"]
    options = variants(scenario, plan, model)[:max_variants]
    if not options:
        return ["no variant of this plan to try"]
    jobs = [(scenario, changed, params, seed) for _, changed in options]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            scores = list(pool.map(_score, jobs))
    else:
        scores = [_score(job) for job in jobs]
    ranked = sorted(zip(scores, range(len(options))), key=lambda item: (-item[0], item[1]))
    better = [(s, options[i][0]) for s, i in ranked if s > card.score + 0.05]
    if not better:
        return [f"none of the {len(options)} variants tried (each step earlier, later or left out, each "
                f"missing action added) scored higher than your {card.score:g}"]
    lines = [f"{what[0].upper() + what[1:]} would have scored {s:g} ({s - card.score:+.1f})"
             for s, what in better[:3]]
    return lines
