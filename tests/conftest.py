"""Shared fixtures: where the repository's parts are, and which labs exist.

A test that takes a ``lab_id`` argument runs once for every lab in ``solutions/``
(a folder holding at least one notebook). A lab that is not there yet is not
collected; every lab that is there is tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline_helpers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "lab_id" in metafunc.fixturenames:
        labs = pipeline_helpers.lab_ids()
        if labs:
            metafunc.parametrize("lab_id", labs, scope="module")
        else:
            metafunc.parametrize("lab_id", [pytest.param(
                None, marks=pytest.mark.skip(reason="solutions/ holds no lab notebooks yet"))],
                scope="module")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder."""
    return pipeline_helpers.REPO


@pytest.fixture(scope="session")
def course_dir() -> Path:
    """course/: the nbgrader course root (config, syllabus, instructor guide)."""
    return pipeline_helpers.COURSE


@pytest.fixture(scope="session")
def solutions_dir() -> Path:
    """solutions/: the source notebooks."""
    return pipeline_helpers.SOLUTIONS


@pytest.fixture(scope="session")
def labs_dir() -> Path:
    """labs/: the generated learners' notebooks."""
    return pipeline_helpers.LABS


@pytest.fixture(scope="session")
def lab_ids() -> list[str]:
    """The ids of the labs present in solutions/, sorted."""
    return pipeline_helpers.lab_ids()


@pytest.fixture(scope="session")
def grading_sandbox() -> None:
    """The course autogrades in the bubblewrap sandbox kernel: skip (fail under CI) without it."""
    import tiny_lab

    tiny_lab.require_sandbox()
