"""The instructor guide's lab 2 section states the model's numbers and the game's bands truly.

Graders read ``course/INSTRUCTORS.md`` (the lab 2 rubric and answer key) while marking,
so its figures are held to the model like the lab's own text (:mod:`lab_tables`).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import pipeline_helpers as ph
from lab_tables import lab2_elb_2012 as lab2
from lab_tables import score, summary

pytestmark = pytest.mark.slow

SEEDS = lab2.SEEDS


def _section() -> str:
    text = (ph.COURSE / "INSTRUCTORS.md").read_text(encoding="utf-8")
    start = text.index("### Rubric: lab2-elb-2012")
    return re.sub(r"\s+", " ", text[start:text.index("### Rubric: lab3-ebs-2011")])


def _over_seeds(plan, key: str) -> list[float]:
    return [summary(lab2.SCENARIO, seed=s, plan=plan)[key] for s in SEEDS]


def test_the_guides_figures_are_the_models() -> None:
    text = _section()
    share = 100 * float(np.mean(_over_seeds(None, "damaged_share_at_17_02")))
    lost = _over_seeds(lab2.WITHOUT_MERGE, "changes_lost")
    reconcile = _over_seeds(lab2.RECONCILE_AT_1700, "time_to_normal_h")
    restore = _over_seeds(lab2.elb.HISTORICAL_PLAN, "time_to_normal_h")
    burst = _over_seeds(lab2.BURST, "overload_damaged_lbs")
    checks = {
        "about 6.8% by 5:02 PM": abs(share - 6.8) <= 0.3,
        "(about 200)": all(150 <= n <= 260 for n in lost),
        "about 6 h against about 22 h": all(abs(h - 6) <= 0.5 for h in reconcile)
                                        and all(abs(h - 22) <= 1 for h in restore),
        "(150-190 healthy load balancers": abs(min(burst) - 150) <= 5 and abs(max(burst) - 190) <= 5,
    }
    for snippet, holds in checks.items():
        assert snippet in text, f"the guide no longer says {snippet!r}: update this test"
        assert holds, f"the guide says {snippet!r}, the model disagrees"


def test_the_guides_bands_are_the_games() -> None:
    text = _section()
    historical = [score(lab2.SCENARIO, lab2.elb.HISTORICAL_PLAN, seed=s) for s in SEEDS]
    at_1700 = [score(lab2.SCENARIO, lab2.RECONCILE_AT_1700, seed=s) for s in SEEDS]
    intended = [score(lab2.SCENARIO, lab2.elb.INTENDED_PLAN, seed=s) for s in SEEDS]
    assert "low band (about 47)" in text and {c.band for c in historical} == {"low"}
    assert all(abs(c.score - 47) <= 2 for c in historical)
    assert "middle band (about 78)" in text and {c.band for c in at_1700} == {"middle"}
    assert all(abs(c.score - 78) <= 2 for c in at_1700)
    assert "the intended plan scores 96" in text and all(round(c.score) == 96 for c in intended)



def test_the_guides_choice_is_the_graded_one() -> None:
    nb = ph.read_nb(ph.SOLUTIONS / "lab2-elb-2012" / "lab2-elb-2012.ipynb")
    answer = next(c.source for c in nb.cells if ph.grade_id(c) == "side_by_side_answer")
    letter = re.search(r'WHY_STOPPING_WORKS = "([a-d])"', answer).group(1)
    assert f"the right choice is **{letter}**" in _section()
