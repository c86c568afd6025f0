"""A learner's SimPy process, guarded: the usual mistakes give one message that says what to write.

Lab 1's renewal process is the example (``ddb.Model(..., renewal=...)`` starts it
through :func:`simkit.plugins.guarded_process`); the guard itself is tested on a bare
SimPy environment too, so any scenario can use it. Each mistake of issue 13 ("Errors
a learner understands") has a test: the message names the learner's function, the
line, and the fix; a correct process runs bit for bit as without the guard.
"""

from __future__ import annotations

import re
import textwrap

import pytest
import simpy

from simkit.grading.checks.lab1 import renewal_trial
from simkit.plugins import PluginMistake, guarded_process
from simkit.scenarios import dynamodb_2015 as ddb

from judge_helpers import ShellTransport

# -- learners' renewal processes: right ones, in several styles ---------------------------------


def renewal_as_taught(env, server):
    while True:
        attempt = 0
        while True:
            reply = server.request_membership()
            outcome = yield reply | env.timeout(server.allowance_s)
            if reply in outcome:
                server.back_in_service()
                break
            server.out_of_service()
            attempt += 1
            yield env.timeout(server.retry_delay_s(attempt))
        yield server.renewal_due()


def _one_try(env, server):
    reply = server.request_membership()
    outcome = yield env.any_of([reply, env.timeout(server.allowance_s)])
    return reply in outcome


def renewal_with_a_helper(sim, srv):
    """Other names, a helper run with ``yield from``, ``env.any_of`` instead of ``|``."""
    attempt = 0
    while True:
        if (yield from _one_try(sim, srv)):
            srv.back_in_service()
            attempt = 0
            yield srv.renewal_due()
        else:
            srv.out_of_service()
            attempt += 1
            yield sim.timeout(srv.retry_delay_s(attempt))


# -- the mistakes --------------------------------------------------------------------------------


def yields_a_number(env, server):
    while True:
        attempt = 0
        while True:
            reply = server.request_membership()
            outcome = yield reply | env.timeout(server.allowance_s)
            if reply in outcome:
                server.back_in_service()
                break
            server.out_of_service()
            attempt += 1
            yield server.retry_delay_s(attempt)
        yield server.renewal_due()


def combines_with_or(env, server):
    while True:
        reply = server.request_membership()
        outcome = yield reply or env.timeout(server.allowance_s)
        if reply in outcome:
            server.back_in_service()
        yield server.renewal_due()


def combines_with_and(env, server):
    while True:
        reply = server.request_membership()
        outcome = yield reply and env.timeout(server.allowance_s)
        if reply in outcome:
            server.back_in_service()
        yield server.renewal_due()


def no_yield_at_all(env, server):
    reply = server.request_membership()
    env.timeout(server.allowance_s)
    if reply.triggered:
        server.back_in_service()


def yields_what_a_method_returns(env, server):
    while True:
        reply = server.request_membership()
        yield reply | env.timeout(server.allowance_s)
        yield server.back_in_service()


def forgets_to_call_timeout(env, server):
    while True:
        yield env.timeout


def yields_a_helper_generator(env, server):
    while True:
        yield _one_try(env, server)


def yields_a_list(env, server):
    while True:
        reply = server.request_membership()
        yield [reply, env.timeout(server.allowance_s)]


def takes_only_the_server(server):
    yield server.renewal_due()


def _line_of(function, text: str) -> int:
    """The line number of the file where ``function``'s source contains ``text``."""
    import inspect

    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


MISTAKES = [
    # (learner's function, text of the offending line or None, what the message must say)
    (yields_a_number, "yield server.retry_delay_s(attempt)",
     ["yielded the number", "not a number of seconds",
      "write `yield env.timeout(server.retry_delay_s(attempt))`"]),
    (combines_with_or, "yield reply or env.timeout(server.allowance_s)",
     ["uses `or` to combine SimPy events", "`a or b` is just `a`",
      "write `yield reply | env.timeout(server.allowance_s)`"]),
    (combines_with_and, "yield reply and env.timeout(server.allowance_s)",
     ["uses `and` to combine SimPy events", "write `yield reply | env.timeout(server.allowance_s)`"]),
    (no_yield_at_all, None,
     ["returned None instead of a generator", "has no `yield`", "`outcome = yield reply | env.timeout("]),
    (yields_what_a_method_returns, "yield server.back_in_service()",
     ["yielded None", "`server.back_in_service()` returns nothing to wait for", "Call it without `yield`"]),
    (forgets_to_call_timeout, "yield env.timeout",
     ["yielded the function `env.timeout` itself", "call it"]),
    (yields_a_helper_generator, "yield _one_try(env, server)",
     ["yielded a generator", "write `yield from _one_try(env, server)`"]),
    (yields_a_list, "yield [reply, env.timeout(server.allowance_s)]",
     ["yielded a list", "`a | b` (or `env.any_of([a, b])`) waits for the first"]),
]


@pytest.mark.parametrize("renewal, line_text, says", MISTAKES, ids=[m[0].__name__ for m in MISTAKES])
@pytest.mark.parametrize("unanswered", [False, True], ids=["quiet", "nobody-answers"])
def test_each_mistake_stops_the_run_with_one_message_that_says_what_to_write(renewal, line_text, says,
                                                                              unanswered):
    with pytest.raises(PluginMistake) as caught:
        renewal_trial(renewal, 1.0, unanswered)
    message = str(caught.value)
    assert message.startswith(f"{renewal.__name__}(env, server)"), message
    for phrase in says:
        assert phrase in message, f"{phrase!r} not in: {message}"
    if line_text is not None:
        assert f"at line {_line_of(renewal, line_text)} (`{line_text}`)" in message
    assert "\n" not in message and "Invalid yield value" not in message
    assert isinstance(caught.value, TypeError), "a PluginMistake is a TypeError (the judge reports built-in types)"


def test_what_simpy_says_without_the_guard_is_what_the_guard_replaces():
    """The reason for the guard: SimPy's own words for two of the mistakes."""
    env = simpy.Environment()
    env.process(_bare_number(env))
    with pytest.raises(RuntimeError, match="Invalid yield value"):
        env.run()
    with pytest.raises(ValueError, match="None is not a generator"):
        simpy.Environment().process(None)


def _bare_number(env):
    yield 4.5


def test_a_function_with_the_wrong_arguments_is_refused_before_the_run():
    with pytest.raises(PluginMistake, match=re.escape("takes_only_the_server(server) should take (env, server)")):
        ddb.Model(seed=0, renewal=takes_only_the_server)


@pytest.mark.parametrize("plugin, says", [
    (renewal_as_taught(None, None), "a generator that was already started: pass the function itself"),
    ("renewal_process", "should be a generator function taking (env, server), but it is str"),
])
def test_something_that_is_no_process_function_is_refused_before_the_run(plugin, says):
    with pytest.raises(PluginMistake, match=re.escape(says)):
        ddb.Model(seed=0, renewal=plugin)


@pytest.mark.parametrize("renewal", [renewal_as_taught, renewal_with_a_helper])
def test_a_right_renewal_process_runs_bit_for_bit_as_the_kits_own(renewal):
    assert ddb.run(seed=3, renewal=renewal).digest() == ddb.run(seed=3).digest()


def test_the_right_process_passes_the_labs_visible_trials():
    assert renewal_trial(renewal_with_a_helper, 2.0, gsi_factor=1.0)[0] == 1.0
    share, attempts, _ = renewal_trial(renewal_with_a_helper, 1.0, True)
    assert share == 0.0 and 30 <= attempts <= 41


# -- the guard on a bare SimPy environment: what any scenario gets --------------------------------


def test_a_process_that_must_run_forever_may_not_finish():
    """``runs_forever``: forgetting the ``while True:`` loop is named. (Lab 1 leaves it off: a
    renewal process that gives up is a legitimate experiment there.)"""
    env = simpy.Environment()
    start = guarded_process(_stops_after_a_while, arguments=("env",), runs_forever=True)
    env.process(start(env))
    with pytest.raises(PluginMistake, match=re.escape(
            "_stops_after_a_while(env) finished after 30 simulated seconds, but it has to run for the whole "
            "simulation: put its steps in a `while True:` loop")):
        env.run()


def _stops_after_a_while(env):
    for _ in range(3):
        yield env.timeout(10)


def test_interrupts_and_failed_events_reach_the_learners_code():
    seen = []

    def worker(env, alarm):
        try:
            yield env.timeout(100)
        except simpy.Interrupt as stop:
            seen.append(("interrupted", env.now, stop.cause))
        try:
            yield alarm
        except ValueError as failure:
            seen.append(("failed", env.now, str(failure)))
        return "done"

    env = simpy.Environment()
    alarm = env.event()
    process = env.process(guarded_process(worker, arguments=("env", "alarm"))(env, alarm))

    def boss():
        yield env.timeout(5)
        process.interrupt("stop")
        yield env.timeout(5)
        alarm.fail(ValueError("no reply"))

    env.process(boss())
    env.run()
    assert seen == [("interrupted", 5, "stop"), ("failed", 10, "no reply")]
    assert process.value == "done", "a process that may end returns its value"


def test_without_readable_source_a_late_type_error_still_gets_the_hint():
    """A function made with exec has no source to read; the `or` shows up as a TypeError later."""
    namespace: dict = {}
    exec(textwrap.dedent("""
        def waits(env, reply):
            outcome = yield reply or env.timeout(5)
            return reply in outcome
    """), namespace)
    env = simpy.Environment()
    reply = env.event()
    env.process(guarded_process(namespace["waits"], arguments=("env", "reply"))(env, reply))
    env.timeout(1).callbacks.append(lambda _e: reply.succeed("membership"))
    with pytest.raises(PluginMistake, match=r"waits\(env, reply\) raised TypeError .* write `yield a \| b`"):
        env.run()


def test_in_a_notebook_the_cells_source_is_read_and_the_line_shown():
    """IPython keeps cell sources in linecache, so a function typed in a cell gets the full message."""
    shell = ShellTransport()
    shell.execute("from simkit.grading.checks.lab1 import renewal_trial\n")
    shell.execute(textwrap.dedent("""\
        def renewal_process(env, server):
            while True:
                reply = server.request_membership()
                outcome = yield reply or env.timeout(server.allowance_s)
                if reply in outcome:
                    server.back_in_service()
                yield server.renewal_due()
        """))
    shell.execute("try:\n    renewal_trial(renewal_process, 1.0)\nexcept TypeError as e:\n    MESSAGE = str(e)\n")
    message = shell.shell.user_ns["MESSAGE"]
    assert message.startswith("renewal_process(env, server) at line 4 "
                              "(`yield reply or env.timeout(server.allowance_s)`)"), message
    assert "write `yield reply | env.timeout(server.allowance_s)`" in message


def test_the_lab_check_shows_the_message_in_the_judge_too():
    """Through the judge (autograde), the visible check reports the guard's sentence."""
    from simkit.grading.judge import Judge

    shell = ShellTransport()
    shell.execute(textwrap.dedent("""\
        def renewal_process(env, server):
            while True:
                reply = server.request_membership()
                outcome = yield reply | env.timeout(server.allowance_s)
                if reply in outcome:
                    server.back_in_service()
                    yield server.renewal_due()
                else:
                    server.out_of_service()
                    yield server.retry_delay_s(1)
        """))
    judge = Judge(shell, ["from simkit import grading\nfrom simkit.grading import check\n"])
    verdict = judge.run_test_cell('check("lab1.renewal_timeouts", renewal_process)\n')
    error = [o for o in verdict.outputs if o["output_type"] == "error"]
    assert not verdict.passed and error[0]["ename"] == "TypeError"
    assert "renewal_process(env, server) yielded the number" in error[0]["evalue"]
    assert "write `yield env.timeout(server.retry_delay_s(1))`" in error[0]["evalue"]
