"""Prose is tested: every number a lab's text states is in its claims table and holds.

See :mod:`lab_tables`. Each lab's table lists its claims (recomputed from the model)
and its facts (taken from the record, with the source).
"""

from __future__ import annotations

import importlib
import re

import pytest

import pipeline_helpers as ph
from lab_tables import Claim, Fact

pytestmark = pytest.mark.slow


def _table(lab_id: str):
    return importlib.import_module(f"lab_tables.{lab_id.replace('-', '_')}")


def _markdown(path) -> str:
    nb = ph.read_nb(path)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return re.sub(r"\s+", " ", text)


def test_every_claim_and_fact_is_in_the_labs_text(lab_id: str) -> None:
    table = _table(lab_id)
    for folder in (ph.SOLUTIONS, ph.REPO / "labs"):
        for name in ph.notebook_names(ph.SOLUTIONS / lab_id):
            text = _markdown(folder / lab_id / f"{name}.ipynb")
            missing = [item.snippet for item in [*table.CLAIMS, *table.FACTS]
                       if re.sub(r"\s+", " ", item.snippet) not in text]
            assert not missing, f"{folder.name}/{lab_id}: not in the text any more: {missing}"


def test_every_claim_holds_on_the_model(lab_id: str) -> None:
    table = _table(lab_id)
    wrong = []
    for claim in table.CLAIMS:
        assert isinstance(claim, Claim)
        value = claim.compute()
        if not abs(value - claim.stated) <= claim.tolerance:
            wrong.append(f"{claim.snippet!r}: the text says {claim.stated:g}, the model gives {value:.4g} "
                         f"(tolerance {claim.tolerance:g})")
    assert not wrong, "\n".join(wrong)


def test_every_fact_names_its_source(lab_id: str) -> None:
    for fact in _table(lab_id).FACTS:
        assert isinstance(fact, Fact) and fact.source.strip()
