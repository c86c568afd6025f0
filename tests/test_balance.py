"""The commander game is won by understanding, never by foreknowledge or button-mashing.

For every scenario, over seeds 0-9 (see :mod:`simkit.commander.balance`):

* doing nothing is in the bottom band, the intended plan in the top band, on every seed;
* each action alone at the page, every action at the page, and every action every
  tick score below the top band and at least 10 points below the intended plan;
* of 200 seeded random plans (1-6 steps after the page) at most 2% reach the top band,
  and their median is at least 25 points below the intended plan;
* the historical plan, where the record gives one, scores at least 15 points above
  doing nothing.

``benchmarks/bench_balance.py`` prints the same table.
"""

from __future__ import annotations

import statistics

import pytest

from simkit.commander.balance import balance
from simkit.scenarios import get, names

pytestmark = pytest.mark.slow

SEEDS = range(10)


@pytest.fixture(scope="module", params=names())
def table(request):
    return balance(request.param, SEEDS, random_count=200, workers=2)


def _lazy(table) -> dict[str, list[float]]:
    return {name: scores for name, scores in table.scores.items()
            if name.startswith("only ") or name.startswith("every action")}


def test_doing_nothing_is_in_the_bottom_band(table):
    assert max(table.scores["nothing"]) < 30, table.scores["nothing"]


def test_the_intended_plan_is_in_the_top_band_on_every_seed(table):
    assert min(table.scores["intended plan"]) >= 80, table.scores["intended plan"]


def test_lazy_plays_stay_below_the_top_band_and_well_below_the_intended_plan(table):
    intended = table.scores["intended plan"]
    offenders = []
    for name, scores in _lazy(table).items():
        for seed, (got, best) in enumerate(zip(scores, intended)):
            if got >= 80 or got > best - 10:
                offenders.append(f"{name} on seed {seed}: {got:g} (intended {best:g})")
    assert not offenders, f"{table.scenario}: " + "; ".join(offenders)


def test_random_plans_rarely_reach_the_top_band(table):
    median_intended = statistics.median(table.scores["intended plan"])
    assert table.top_share() <= 0.02, f"{table.top_share():.1%} of random plans in the top band"
    assert statistics.median(table.random_scores) <= median_intended - 25


@pytest.mark.parametrize("scenario", [n for n in names() if get(n).historical_plan is not None])
def test_the_historical_plan_beats_doing_nothing(scenario):
    table = balance(scenario, SEEDS, random_count=0, workers=2, only=("nothing", "historical plan"))
    assert table.mean("historical plan") >= table.mean("nothing") + 15, table.scores
