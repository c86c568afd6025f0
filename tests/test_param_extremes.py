"""A search for parameters that pass validation and then crash inside a model.

Every scenario, every numeric parameter, one at a time at its declared minimum and
maximum (and just inside an exclusive minimum), with the run as short as the
scenario allows. Each case must either run (model, result, score card) or be refused
by validation with a one-line message that names the parameter: never a traceback
from inside the model.
"""

from __future__ import annotations

import math

import pytest

from simkit.scenarios import get, names
from simkit.sweep import sweep


def _horizon_name(params_class) -> str | None:
    return next((n for n in params_class.specs() if n.startswith("horizon")), None)


def extreme_cases(scenario: str) -> list[tuple[str, str, str, float]]:
    """(scenario, parameter, which end, value) for every numeric parameter's extremes."""
    cases = []
    for name, spec in get(scenario).Params.specs().items():
        if spec.kind not in (int, float) or spec.choices is not None:
            continue
        cases.append((scenario, name, "minimum", spec.minimum))
        if spec.exclusive_minimum:
            tiny = 1 if spec.kind is int else max(1e-6, abs(spec.minimum) * 1e-6)
            cases.append((scenario, name, "just above the minimum", spec.minimum + tiny))
        cases.append((scenario, name, "maximum", spec.maximum))
    return cases


def try_case(case: tuple[str, str, str, float]) -> str | None:
    """None if the case runs or is refused properly; else what went wrong, in one line."""
    scenario, name, end, value = case
    model_class = get(scenario)
    spec = model_class.Params.specs()[name]
    value = spec.kind(value)
    overrides = {name: value}
    horizon = _horizon_name(model_class.Params)
    if horizon and horizon != name:  # as short a run as the scenario allows (its trigger must fit)
        shortest, default = model_class.Params.specs()[horizon].minimum, getattr(model_class.Params(), horizon)
        while shortest < default:
            if _valid(model_class, {**overrides, horizon: shortest}):
                overrides = {**overrides, horizon: shortest}
                break
            shortest *= 2
    try:
        params = model_class.coerce_params(overrides)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if "\n" in message or name not in message:
            return f"{name} at its {end} ({value!r}) refused without naming it in one line: {message!r}"
        return None
    try:
        model = model_class(params, seed=0)
        model.advance_to(model.horizon_s)
        model.result()
        model.score_card()
    except Exception as exc:  # noqa: BLE001 - any exception here is the bug this test looks for
        return f"{name} at its {end} ({value!r}) crashed inside the model: {type(exc).__name__}: {exc}"
    return None


def _valid(model_class, overrides) -> bool:
    try:
        model_class.coerce_params(overrides)
    except (TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("scenario", names())
def test_every_numeric_parameter_declares_both_bounds(scenario):
    """The search below can only try the extremes a parameter declares."""
    missing = [name for name, spec in get(scenario).Params.specs().items()
               if spec.kind in (int, float) and spec.choices is None
               and (spec.minimum is None or spec.maximum is None or not math.isfinite(spec.maximum))]
    assert not missing, f"{scenario}: no minimum or maximum declared for {', '.join(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("scenario", names())
def test_extreme_parameters_run_or_are_refused_clearly(scenario):
    cases = extreme_cases(scenario)
    problems = [p for p in sweep(try_case, cases, workers=2, progress=False) if p]
    assert not problems, f"{scenario}: {len(problems)} of {len(cases)} cases fail:\n" + "\n".join(problems)
