"""Is the game fair? Score the lazy ways to play against the plan the lab teaches.

A commander scenario is well balanced when only understanding reaches the top band.
This module plays the strategies a player who does not understand the incident
would try, on several seeds:

* **nothing**: no action at all;
* **each action alone at the page**, and **every action at the page**;
* **every action every tick** from the page on (pressing everything, all the time);
* **random plans**: 1 to 6 random actions at random times after the page;

next to the scenario's ``intended_plan`` and ``historical_plan``. :func:`balance`
returns the scores; ``benchmarks/bench_balance.py`` prints them as a table and the
balance tests hold each scenario to the rules in ``shared/DESIGN.md``. Runs go to
worker processes, since a table is a few hundred runs.
"""

from __future__ import annotations

import os
import random
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..plan import play_out
from ..scenarios import get as get_scenario

__all__ = ["page_minute", "lazy_plans", "random_plans", "play_score", "balance", "Balance"]


def page_minute(scenario: str, seed: int, params: dict | None = None) -> float:
    """Minute of the page on this seed (from a run without actions), snapped to the tick."""
    cls = get_scenario(scenario)
    model = cls(params, seed)
    model.advance_to(model.horizon_s)
    if model.page_s is None:
        raise ValueError(f"{scenario} never pages on seed {seed}: nothing for the commander to do")
    tick = cls.tick_s
    return (-(-model.page_s // tick) * tick) / 60.0


def lazy_plans(scenario: str, page_min: float) -> dict[str, list]:
    """The plans a player who does not understand the incident would try, by name."""
    actions = list(get_scenario(scenario).actions)
    plans: dict[str, list] = {"nothing": []}
    for name in actions:
        plans[f"only {name} at the page"] = [(page_min, name)]
    plans["every action at the page"] = [(page_min, name) for name in actions]
    return plans


def random_plans(scenario: str, page_min: float, count: int, rng_seed: int = 0) -> list[list]:
    """``count`` plans of 1-6 random actions at random tick times from the page on."""
    cls = get_scenario(scenario)
    rng = random.Random(rng_seed)
    actions = list(cls.actions)
    end_min = cls(None, 0).horizon_s / 60.0
    tick_min = cls.tick_s / 60.0
    ticks = max(1, int((end_min - page_min) / tick_min))
    plans = []
    for _ in range(count):
        steps = [(round(page_min + rng.randrange(ticks) * tick_min, 3), rng.choice(actions))
                 for _ in range(rng.randint(1, 6))]
        plans.append(sorted(steps))
    return plans


def _map(fn: Callable, jobs: list, workers: int | None) -> list:
    """``[fn(job) for job in jobs]``, in worker processes when ``workers`` > 1 (same order)."""
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(fn, jobs, chunksize=max(1, len(jobs) // (8 * workers))))


def play_score(job: tuple[str, Any, int, dict | None]) -> float:
    """Score of one strategy on one seed: ``(scenario, plan_or_"every tick", seed, params)``.

    ``"every tick"`` presses every action at every tick from the page on, through the
    model directly (no plan could hold that many steps).
    """
    scenario, plan, seed, params = job
    cls = get_scenario(scenario)
    model = cls(params, seed)
    if plan == "every tick":
        while not model.finished:
            model.advance_to(model.now + model.tick_s)
            if model.paged and not model.finished:
                for name in model.actions:
                    model.try_action(name)
    else:
        play_out(model, plan)
    return model.score_card().score


@dataclass
class Balance:
    """Scores of each strategy over the seeds, and the random plans' scores."""

    scenario: str
    seeds: list[int]
    scores: dict[str, list[float]] = field(default_factory=dict)
    random_scores: list[float] = field(default_factory=list)

    def mean(self, name: str) -> float:
        return statistics.fmean(self.scores[name])

    def rows(self) -> list[tuple[str, float, float, float]]:
        """``(strategy, min, mean, max)`` per strategy, the random plans last."""
        rows = [(name, min(v), statistics.fmean(v), max(v)) for name, v in self.scores.items()]
        if self.random_scores:
            rows.append((f"{len(self.random_scores)} random plans (median {statistics.median(self.random_scores):.1f}, "
                         f"top band {self.top_share():.1%})",
                         min(self.random_scores), statistics.fmean(self.random_scores), max(self.random_scores)))
        return rows

    def top_share(self) -> float:
        return sum(s >= 80 for s in self.random_scores) / max(1, len(self.random_scores))


def balance(scenario: str, seeds: Sequence[int] = range(10), *, random_count: int = 200,
            workers: int | None = None, params: dict | None = None,
            only: Sequence[str] | None = None) -> Balance:
    """Score every lazy strategy and the reference plans on each seed, plus
    ``random_count`` random plans (each on one of the seeds, in turn). ``only`` keeps
    just the strategies named (e.g. ``("nothing", "historical plan")``)."""
    cls = get_scenario(scenario)
    seeds = list(seeds)
    pages = _map(_page_job, [(scenario, s, params) for s in seeds], workers)
    strategies: dict[str, list[tuple]] = {}
    for seed, page in zip(seeds, pages):
        named = {"intended plan": cls.intended_plan, **lazy_plans(scenario, page),
                 "every action every tick": "every tick"}
        if cls.historical_plan is not None:
            named["historical plan"] = cls.historical_plan
        if only is not None:
            named = {name: plan for name, plan in named.items() if name in only}
        for name, plan in named.items():
            strategies.setdefault(name, []).append((scenario, plan, seed, params))
    randoms = []
    for i in range(random_count):
        seed, page = seeds[i % len(seeds)], pages[i % len(seeds)]
        randoms.append((scenario, random_plans(scenario, page, 1, rng_seed=i)[0], seed, params))
    jobs = [job for group in strategies.values() for job in group] + randoms
    scores = _map(play_score, jobs, workers)
    result = Balance(scenario, seeds)
    k = 0
    for name, group in strategies.items():
        result.scores[name] = scores[k:k + len(group)]
        k += len(group)
    result.random_scores = scores[k:]
    return result


def _page_job(job: tuple[str, int, dict | None]) -> float:
    return page_minute(*job)
