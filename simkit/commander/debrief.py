"""The debrief: what would have helped most, found by replaying variants of the player's plan.

After an incident, the most useful feedback is concrete: "pausing renewals 20 minutes
earlier would have scored 88 (+31)". :func:`debrief` makes a handful of variants of the
player's own plan, replays each on the same seed, and reports the best improvements in
words. The variants, in order of priority:

* the whole plan ``debrief_shift_s`` earlier (not before the page);
* each action the plan never took, added at the page (for an empty plan, also one
  shift later), and one more of an action it may take again, a shift after its last;
* each step taken ``debrief_shift_s`` earlier (not before the page);
* each step dropped;
* the whole plan, and each step, a shift later.

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

    ``model`` is the scenario on the same seed and params, paged already (for the page,
    the clock and the end of the run). The order is the order of priority when only
    some variants can be played: acting sooner, the actions the plan lacks (one more of
    an action it may take again, too), each step sooner, each step left out, then later.
    """
    cls = get_scenario(scenario)
    shift = cls.debrief_shift_s / 60.0
    tick = cls.tick_s / 60.0
    page_min = -(-model.page_s // cls.tick_s) * cls.tick_s / 60.0
    end_min = model.horizon_s / 60.0
    steps = sorted(((s.minutes(model.world.clock_start_s), s.action) for s in plan.steps), key=lambda s: s[0])
    words = format_duration(cls.debrief_shift_s)

    def clock(minute: float) -> str:
        return model.world.stamp(minute * 60.0)

    def snap(minute: float) -> float:
        return round(round(minute / tick) * tick, 3)

    def label(name: str) -> str:
        return cls.actions[name].label if name in cls.actions else name

    sooner, added, earlier, dropped, later = [], [], [], [], []
    if len(steps) > 1:
        move = min(shift, steps[0][0] - page_min)
        if move >= tick:
            sooner.append((f"the whole plan {format_duration(move * 60)} earlier",
                           [(snap(m - move), n) for m, n in steps]))
        if steps[-1][0] + shift < end_min:
            later.append((f"the whole plan {words} later", [(snap(m + shift), n) for m, n in steps]))
    for i, (minute, name) in enumerate(steps):
        rest = steps[:i] + steps[i + 1:]
        before = snap(max(page_min, minute - shift))
        if before < minute:
            earlier.append((f"{label(name).lower()} {words} earlier (at {clock(before)} instead of {clock(minute)})",
                            sorted(rest + [(before, name)])))
        after = snap(minute + shift)
        if after < end_min:
            later.append((f"{label(name).lower()} {words} later (at {clock(after)} instead of {clock(minute)})",
                          sorted(rest + [(after, name)])))
        dropped.append((f"leaving out \"{label(name)}\" at {clock(minute)}", list(rest)))
    taken = {name: sum(1 for _, n in steps if n == name) for name in cls.actions}
    for name, spec in cls.actions.items():
        if taken[name] == 0:
            times = [page_min] if steps else [page_min, snap(page_min + shift)]
            what = f"adding \"{spec.label}\""
        elif spec.limit is None or taken[name] < spec.limit:
            last = max(m for m, n in steps if n == name)
            times = [snap(last + shift)]
            what = f"taking \"{spec.label}\" once more"
        else:
            continue
        added += [(f"{what} at {clock(minute)}", sorted(steps + [(minute, name)]))
                  for minute in times if minute < end_min]
    ordered = sooner + added[:1] + earlier + added[1:] + dropped + later
    return [(what, [list(step) for step in changed]) for what, changed in ordered]


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
    else:  # only the page is needed: run until it comes
        while model.page_s is None and not model.finished:
            model.advance_to(model.now + cls.tick_s)
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
