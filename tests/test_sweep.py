"""simkit.sweep: parallel runs, results in input order, the same with 1 or 2 workers."""

import pytest

from simkit.sweep import default_workers, run_summaries, sweep


def square(x):
    return x * x


def fail_on_three(x):
    if x == 3:
        raise ValueError("three is not allowed here")
    return x


def test_results_come_back_in_input_order_with_workers():
    points = list(range(20, 0, -1))
    assert sweep(square, points, workers=2, progress=False) == [p * p for p in points]


def test_one_worker_runs_in_this_process():
    seen = []

    def remember(x):  # a closure: only possible without worker processes
        seen.append(x)
        return x

    assert sweep(remember, [1, 2, 3], workers=1, progress=False) == [1, 2, 3]
    assert seen == [1, 2, 3]


def test_scenario_runs_are_identical_with_one_and_two_workers():
    sets = [{"base_load_rps": b, "horizon_s": 50, "spike_start_s": 20, "spike_duration_s": 5}
            for b in (50, 70, 90)]
    one = run_summaries("retry-storm", sets, seeds=[0, 1], workers=1, progress=False)
    two = run_summaries("retry-storm", sets, seeds=[0, 1], workers=2, progress=False)
    assert one == two
    assert len(one) == 3 and all(len(per_seed) == 2 for per_seed in one)
    assert one[0][0] != one[0][1]  # the seeds differ, and each lands in its place


def test_progress_is_reported_after_every_run(capsys):
    calls = []
    sweep(square, [1, 2, 3], workers=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    sweep(square, [1, 2], workers=1)
    err = capsys.readouterr().err
    assert "sweep: 2/2 runs (100%)" in err


def test_a_failing_run_names_its_point():
    with pytest.raises(RuntimeError, match=r"run 3 of the sweep failed \(3\): three is not allowed") as info:
        sweep(fail_on_three, [0, 1, 2, 3, 4], workers=2, progress=False)
    assert isinstance(info.value.__cause__, ValueError)


def test_unpicklable_function_gets_a_plain_message():
    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        sweep(lambda x: x, [1, 2], workers=2, progress=False)


def test_bad_parameters_are_refused_before_any_run():
    with pytest.raises(ValueError, match="base_load_rps = -1"):
        run_summaries("retry-storm", [{"base_load_rps": 60}, {"base_load_rps": -1}], progress=False)
    with pytest.raises(ValueError, match="workers = 0 is not allowed"):
        sweep(square, [1], workers=0)


def test_default_workers_never_exceed_the_points():
    assert default_workers(1) == 1
    assert 1 <= default_workers(100) <= 100
