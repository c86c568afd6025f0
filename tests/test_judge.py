"""The judge, without nbgrader: the wire format, the probe protocol, the proxies, fail-closed.

The "kernel" here is an in-process IPython shell (:class:`judge_helpers.ShellTransport`):
the protocol is the same as with a real kernel (a synthetic cell whose reply is a
display output), only faster. ``test_judge_same_verdict.py`` uses real kernels.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import simkit
from simkit.grading import judge as judge_module, probe, wire
from simkit.grading.judge import Judge, KernelFunction, KernelObject, hidden_lines
from simkit.plan import PlanStep
from simkit.result import Result
from simkit.scenarios import get as get_scenario
from simkit.scenarios import elb_2012 as elb

from judge_helpers import ShellTransport

SETUP = "import math\nimport numpy as np\nfrom simkit import grading\nfrom simkit.grading import check\n"

#: retry-storm's intended plan as (minute, action): a plan that reaches the top band, whatever the game.
_INTENDED = [(PlanStep(at, action).minutes(0.0), action) for at, action in get_scenario("retry-storm").intended_plan]

NOTEBOOK = f"INTENDED = {_INTENDED!r}\n" + '''
import numpy as np
def double(x):
    return 2 * x
def boom(x):
    raise ValueError(f"bad input {x}")
def todo(x):
    raise NotImplementedError()
class Bucket:
    def __init__(self, ratio=0.5, max_tokens=3):
        self.tokens = max_tokens
        self.ratio = ratio
    def on_success(self):
        self.tokens = min(3, self.tokens + self.ratio)
    def try_spend(self):
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
X = np.float64(0.25)
N = np.int64(7)
S = {"a", "b"}
PLAN = [(np.float64(minute), action) for minute, action in INTENDED]
'''


@pytest.fixture()
def shell() -> ShellTransport:
    transport = ShellTransport()
    failed, _ = transport.execute(NOTEBOOK)
    assert not failed
    return transport


@pytest.fixture()
def judge(shell: ShellTransport) -> Judge:
    return Judge(shell, [SETUP])


def _error(verdict) -> str:
    return "; ".join(o["evalue"] for o in verdict.outputs if o["output_type"] == "error")


def _printed(verdict) -> str:
    return "".join(o["text"] for o in verdict.outputs if o["output_type"] == "stream")


# -- the wire format ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", math.inf, [1, (2, 3)], {"a": [1.5]}, {1: "one", (2, 3): None},
    {"x", "y"}, frozenset({4, 5}), (), np.float64(0.1), np.int64(-3), np.bool_(True), np.float32(1.5),
    np.arange(6.0).reshape(2, 3), np.array([True, False]), np.array([1, 2], dtype=np.uint8),
    elb.Config(("i-a",), 2, frozenset({1, 2})),
])
def test_values_cross_unchanged(value):
    back = wire.decode(wire.loads(wire.dumps(wire.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    else:
        assert back == value


def test_nan_and_kit_objects_cross_unchanged():
    nan = wire.decode(wire.loads(wire.dumps(wire.encode(float("nan")))))
    assert math.isnan(nan)
    result = simkit.run("retry-storm", {"horizon_s": 120}, seed=1)
    back = wire.decode(wire.loads(wire.dumps(wire.encode(result))))
    assert isinstance(back, Result) and back.digest() == result.digest() and back.summary == result.summary
    lb = elb.LoadBalancer(3, elb.Config(("i-a",), 2), None, damaged=True)
    back = wire.decode(wire.encode(lb))
    assert isinstance(back, elb.LoadBalancer) and dataclasses.astuple(back) == dataclasses.astuple(lb)
    from simkit.commander import Plan
    plan = Plan([(1, "shed_load")])
    assert wire.decode(wire.encode(plan)) == plan


@pytest.mark.parametrize("data, problem", [
    (["dc", "os.path", "join", {}], "only rebuilt from the kit"),
    (["nd", "|O", [1], [1]], "not allowed"),
    (["nd", "<f8", [3], [1.0]], "does not fill"),
    (["mystery", 1], "unknown tag"),
    (["ref", 1, "function", "f"], "only data is allowed"),
    ({"a": 1}, "malformed"),
])
def test_decoding_refuses_anything_but_data(data, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(data)


def test_json_without_nan_literals():
    with pytest.raises(wire.WireError):
        wire.loads('[NaN]')
    with pytest.raises(ValueError):
        wire.dumps(float("nan"))


# -- the probe protocol and the proxies ---------------------------------------------------

def test_values_and_functions_come_out_of_the_kernel(judge):
    verdict = judge.run_test_cell(
        "assert double(21) == 42\n"
        "assert isinstance(X, np.float64) and X == 0.25\n"
        "assert isinstance(N, np.int64) and S == {'a', 'b'}\n"
        "assert isinstance(double, grading.judge.KernelFunction) if hasattr(grading, 'judge') else True\n"
        "grading.check_close('X', X, 0.25)\n"
        "grading.check_type('N', N, int)\n"
        "print('fine')\n")
    assert verdict.passed, verdict.outputs
    assert _printed(verdict) == "fine\n"
    assert verdict.probes >= 5


def test_objects_stay_in_the_kernel_behind_handles(judge, shell):
    verdict = judge.run_test_cell(
        "b = Bucket(ratio=0.5, max_tokens=3)\n"
        "assert b.tokens == 3\n"
        "assert [b.try_spend() for _ in range(4)] == [True, True, True, False]\n"
        "b.on_success()\n"
        "assert b.tokens == 0.5\n")
    assert verdict.passed, verdict.outputs
    assert probe._HANDLES == {}, "the kernel's handles are released after each test cell"
    captured = {}
    judge.namespace["keep"] = captured
    judge.run_test_cell("keep['b'] = Bucket()\nkeep['f'] = double\n")
    assert isinstance(captured["b"], KernelObject) and isinstance(captured["f"], KernelFunction)
    with pytest.raises(TypeError, match="truth value"):
        bool(captured["b"])


def test_kernel_exceptions_come_back_as_builtin_types(judge):
    verdict = judge.run_test_cell("boom(3)\n")
    assert not verdict.passed
    error = verdict.outputs[-1]
    assert error["ename"] == "ValueError"
    assert "bad input 3 (raised by your code, in boom(3))" in error["evalue"]
    assert error["traceback"] == [f"ValueError: {error['evalue']}"], "no frames: they would show the test"
    verdict = judge.run_test_cell("todo(1)\n")
    assert "todo(1) is not written yet" in _error(verdict)
    verdict = judge.run_test_cell(
        "grading.check_raises(ValueError, 'boom(1)', boom, 1)\n"
        "grading.check_raises(ValueError, 'double(1)', double, 1)\n")
    assert "double(1) should raise ValueError, but it returned normally" in _error(verdict)


def test_hidden_tests_fail_without_revealing_inputs_or_expected_values(judge):
    cell = ("grading.check_close('double(2)', double(2), 4)\n"
            "### BEGIN HIDDEN TESTS\n"
            "print('secret printing')\n"
            "grading.check_close('double on other inputs', double(12.5), 25.0001, rel=1e-9)\n"
            "### END HIDDEN TESTS\n")
    verdict = judge.run_test_cell(cell)
    assert not verdict.passed
    text = _error(verdict) + _printed(verdict)
    assert "double on other inputs is too low" in text
    for secret in ("12.5", "25", "secret printing"):
        assert secret not in text
    verdict = judge.run_test_cell("### BEGIN HIDDEN TESTS\nboom(123.25)\n### END HIDDEN TESTS\n")
    assert _error(verdict) == "your code raised ValueError during a hidden test"
    verdict = judge.run_test_cell("### BEGIN HIDDEN TESTS\n{}['key 42']\n### END HIDDEN TESTS\n")
    assert _error(verdict) == "KeyError while running a hidden test"
    assert verdict.grader_error is not None


def test_visible_messages_may_show_expected_values_for_visible_inputs(judge, shell):
    shell.execute("def double(x):\n    return 3 * x\n")
    verdict = judge.run_test_cell("grading.check_close('double(2)', double(2), 4, show_expected=True)\n")
    assert _error(verdict) == "double(2) = 6 is too high (expected about 4)"
    verdict = judge.run_test_cell("grading.check_close('ANSWER', double(2), 4)\n")
    assert _error(verdict) == "ANSWER = 6 is too high"


def test_missing_names_fail_like_in_a_kernel(judge):
    verdict = judge.run_test_cell("print(UNDEFINED_ANSWER)\n")
    assert not verdict.passed and _error(verdict) == "name 'UNDEFINED_ANSWER' is not defined"


def test_the_judge_uses_its_own_builtins_and_setup_names(judge, shell):
    shell.execute("len = lambda x: 42\nisinstance = lambda *a: True\nnp = None\nmath = None\n")
    verdict = judge.run_test_cell("assert len([1]) == 1 and not isinstance(1, str)\nassert np.pi == math.pi\n")
    assert verdict.passed, verdict.outputs


def test_in_notebook_runs_kit_functions_next_to_the_learners_code(judge):
    verdict = judge.run_test_cell(
        "from simkit.grading.checks import lab0\n"
        "t = grading.in_notebook(lab0.budget_trace, Bucket, 0.5, 3, 'rrrrs')\n"
        "assert t['granted'] == [True, True, True, False, None] and t['tokens'][-1] == 0.5\n"
        "card = grading.check_plan('retry-storm', PLAN, at_least='top')\n")
    assert verdict.passed, verdict.outputs


def test_in_notebook_is_a_plain_call_outside_the_judge():
    from simkit.grading import in_notebook
    assert in_notebook(max, 3, 4) == 4


def test_one_line_checks_run_the_same_in_the_kernel_and_in_the_judge(judge, shell):
    shell.execute("def utilisation(a, c, s):\n    return a * s / c\n")
    assert judge.run_test_cell("check('lab0.utilisation', utilisation)\n").passed
    failed, _ = shell.execute(SETUP + "check('lab0.utilisation', utilisation)\n")
    assert not failed
    shell.execute("def utilisation(a, c, s):\n    return a * s\n")
    verdict = judge.run_test_cell("check('lab0.utilisation', utilisation)\n")
    assert _error(verdict) == "utilisation(70, 10, 0.1) = 7 is too high (expected about 0.7). Hint: " \
                              "70 requests/s x 0.1 s of work each keeps 7 of the 10 workers busy on average"
    failed, _ = shell.execute(SETUP + "check('lab0.utilisation', utilisation)\n")
    assert failed


# -- tricks in the kernel cannot raise a verdict ----------------------------------------------

def test_a_kernel_that_blanks_cells_gets_no_answer(judge, shell):
    shell.execute("get_ipython().input_transformers_post.append(lambda lines: [])\n")
    try:
        verdict = judge.run_test_cell("assert double(2) == 4\n")
    finally:
        shell.shell.input_transformers_post.clear()
    assert not verdict.passed and "did not answer" in _error(verdict) or "gave no reply" in _error(verdict)


def test_a_swallowing_exception_handler_changes_nothing(judge, shell):
    shell.execute("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)\n")
    try:
        verdict = judge.run_test_cell("boom(1)\n")
    finally:
        shell.shell.set_custom_exc((), None)
    assert not verdict.passed


def test_a_kernel_that_lies_must_lie_with_the_right_values(judge, shell):
    shell.execute("import simkit.grading.probe as p\n_real = p.handle\n"
                  "p.handle = lambda request, ns: {'ok': 4} if request['op'] == 'call' else _real(request, ns)\n")
    try:
        assert judge.run_test_cell("assert double(2) == 4\n").passed
        assert not judge.run_test_cell("assert double(3) == 6\n").passed
    finally:
        shell.execute("p.handle = _real\n")


@pytest.fixture(scope="module")
def kernel():
    """A real kernel: patches made in it cannot reach this process (unlike the in-process shell)."""
    from judge_helpers import KernelTransport

    transport = KernelTransport()
    failed, outputs = transport.execute(NOTEBOOK)
    assert not failed, outputs
    yield transport
    transport.close()


def test_patching_the_grader_and_kit_in_the_kernel_changes_nothing(kernel):
    failed, outputs = kernel.execute(
        "import simkit.grading as g, simkit.grading.values as v, simkit.commander.engine as e\n"
        "g.check_close = v.check_close = lambda *a, **k: None\n"
        "g.check_plan = g.canonical.check_plan = lambda *a, **k: {'band': 'top'}\n"
        "e.score = lambda *a, **k: None\n"
        "import importlib.util\n"
        "importlib.util.find_spec = lambda *a, **k: None\n"
        "PLAN = []\n")
    assert not failed, outputs
    judge = Judge(kernel, [SETUP])
    assert not judge.run_test_cell("grading.check_close('double(2)', double(2), 5)\n").passed
    assert not judge.run_test_cell("grading.check_plan('retry-storm', PLAN, at_least='low')\n").passed
    assert judge.run_test_cell("grading.check_close('double(2)', double(2), 4)\n").passed


class _Scripted:
    """A transport that answers with canned payloads (to test fail-closed)."""

    def __init__(self, payloads):
        self.payloads = payloads

    def run(self, code, timeout_s):
        if isinstance(self.payloads, Exception):
            raise self.payloads
        return self.payloads


@pytest.mark.parametrize("payloads", [
    [],
    [{"reply": "not json"}],
    [{"reply": '{"ok": 4, "nonce": "wrong"}'}],
    [{"nothing": 1}],
    judge_module.NoReply("timeout"),
])
def test_no_usable_reply_fails_the_check(payloads):
    judge = Judge(_Scripted(payloads), [SETUP])
    verdict = judge.run_test_cell("assert ANSWER == 4\n")
    assert not verdict.passed
    assert "notebook" in _error(verdict)


def test_two_replies_fail_the_check(monkeypatch):
    class Twice:
        def run(self, code, timeout_s):
            nonce = wire.loads(eval(code.split("answer(", 1)[1][:-1]))["nonce"]
            reply = {"reply": wire.dumps({"ok": 4, "nonce": nonce})}
            return [reply, reply]
    verdict = Judge(Twice(), [SETUP]).run_test_cell("assert ANSWER == 4\n")
    assert not verdict.passed and "more than one reply" in _error(verdict)


def test_the_time_budget_of_a_test_cell_is_shared_by_its_probes(judge):
    verdict = judge.run_test_cell("for _ in range(3):\n    double(1)\n", timeout_s=0.0)
    assert not verdict.passed and "time ran out" in _error(verdict)


def test_hidden_lines_cover_the_block_and_its_markers():
    source = "a\n### BEGIN HIDDEN TESTS\nb\nc\n### END HIDDEN TESTS\nd\n"
    assert hidden_lines(source) == {2, 3, 4, 5}


def test_kit_functions_are_sent_by_name_classmethods_included():
    from simkit.grading.checks import lab1
    from simkit.scenarios import dynamodb_2015 as ddb

    assert wire.importable_name(ddb.run) == ("simkit.scenarios.dynamodb_2015.model", "Model.run")
    assert wire.importable_name(lab1.renewal_trial) == ("simkit.grading.checks.lab1", "renewal_trial")
    assert wire.importable_name(lambda: 1) is None
    assert probe._resolve(["import", "simkit.scenarios.dynamodb_2015.model", "Model.run"]) == ddb.run
