"""Learner plug-ins that are SimPy processes: run them, and explain the usual mistakes.

A scenario that runs a learner's process function (lab 1's ``renewal_process(env,
server)``) starts it through :func:`guarded_process`::

    start = guarded_process(renewal, arguments=("env", "server"), runs_forever=True)
    env.process(start(env, server))

The guarded process behaves exactly like the learner's own generator: it yields the
same events in the same order and passes back the same values and exceptions, so a
run with a correct plug-in is bit for bit the run without the guard. What changes is
what a learner sees when the process breaks one of SimPy's rules. Left alone, SimPy
reports those deep inside its own frames, in words that point away from the mistake:

==============================================  ==========================================
the mistake                                     what SimPy says
==============================================  ==========================================
``yield server.retry_delay_s(attempt)``         ``Invalid yield value "4.4"`` (and in a
(a number, not ``env.timeout(...)``)            notebook ``FileNotFoundError`` about
                                                ``/tmp/ipykernel_...py``)
``yield reply or env.timeout(t)``               nothing at first: ``or`` picks ``reply``
(``or`` instead of ``|``)                       and drops the timeout; later
                                                ``TypeError: 'in <string>' requires string
                                                as left operand``, or a silent hang
a function without ``yield``                    ``ValueError: None is not a generator.``
==============================================  ==========================================

The guard stops the run at the mistake with one :class:`PluginMistake` that names the
learner's function (and the line, where its source can be read) and says what to
write instead. It also catches yielding ``None``, a generator, a function, a list
of events or any other non-event; a process that ends although it should run for
the whole simulation (``runs_forever``); and a function with the wrong arguments.

The rule for ``or`` and ``and``: a SimPy event always counts as true, so
``a or b`` *is* ``a`` and ``a and b`` *is* ``b``; neither ever combines two events.
A ``yield`` whose expression is an ``or``/``and`` and whose value is an event is
therefore refused, with the ``|`` / ``&`` version as the fix.
"""

from __future__ import annotations

import ast
import functools
import inspect
import numbers
import textwrap
import types
from typing import Any, Callable, Generator, NamedTuple

import simpy

__all__ = ["PluginMistake", "guarded_process"]


class PluginMistake(TypeError):
    """A learner's plug-in broke a rule of SimPy; the message says which, and the fix."""


# -- reading the learner's source (when it can be read) ---------------------------------------

class _Source(NamedTuple):
    """A function's source, its ``yield`` expressions by line, and the lines that yield
    ``a or b`` / ``a and b`` (all empty when the source cannot be read)."""

    text: str
    yields: dict[int, ast.Yield]
    suspect: frozenset[int]


@functools.lru_cache(maxsize=256)
def _source_of(code: types.CodeType) -> _Source:
    """Read and parse the source of ``code``'s function, once.

    Nothing when the source cannot be read (a function made with ``exec``). Functions
    typed in a notebook cell can be read: IPython keeps cell sources in ``linecache``.
    """
    try:
        lines, first = inspect.getsourcelines(code)
        text = textwrap.dedent("".join(lines))
        tree = ast.parse(text)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return _Source("", {}, frozenset())
    yields: dict[int, ast.Yield] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Yield):
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                yields.setdefault(line + first - 1, node)
    suspect = frozenset(line for line, node in yields.items() if isinstance(node.value, ast.BoolOp))
    return _Source(text, yields, suspect)


def _innermost(generator: Generator) -> Generator:
    """The generator actually suspended at a ``yield`` (following ``yield from``)."""
    while isinstance(getattr(generator, "gi_yieldfrom", None), types.GeneratorType):
        generator = generator.gi_yieldfrom
    return generator


class _Where:
    """Where the learner's process is suspended: its line and the ``yield`` written there."""

    def __init__(self, generator: Generator) -> None:
        inner = _innermost(generator)
        frame = inner.gi_frame
        self.line = frame.f_lineno if frame is not None else None
        self.node: ast.Yield | None = None
        self.source = ""
        if frame is not None:
            source = _source_of(frame.f_code)
            self.source, self.node = source.text, source.yields.get(self.line)

    def text(self, node: ast.AST | None) -> str | None:
        """The source text of ``node`` (one line), or None."""
        if node is None or not self.source:
            return None
        segment = ast.get_source_segment(self.source, node)
        return " ".join(segment.split()) if segment else None

    @property
    def written(self) -> str | None:
        """The ``yield`` as written (``yield reply or env.timeout(90)``), or None."""
        if self.node is None:
            return None
        return self.text(self.node) or "yield"

    @property
    def value(self) -> str | None:
        """The yielded expression as written (``server.retry_delay_s(attempt)``), or None."""
        return self.text(self.node.value) if self.node is not None and self.node.value is not None else None

    def at(self) -> str:
        """" at line 14 (`yield server.retry_delay_s(attempt)`)", as much as is known."""
        parts = f" at line {self.line}" if self.line else ""
        return parts + (f" (`{self.written}`)" if self.written else "")


# -- what is wrong with a yielded value --------------------------------------------------------

def _boolop(where: _Where) -> ast.BoolOp | None:
    node = where.node.value if where.node is not None else None
    return node if isinstance(node, ast.BoolOp) else None


def _either(where: _Where, node: ast.BoolOp) -> str:
    """``yield a | b`` for a yielded ``a or b`` (or ``a and b``): whichever comes first."""
    return "yield " + " | ".join(where.text(operand) or "..." for operand in node.values)


def _mistake(value: Any, where: _Where, name: str, env_name: str) -> str | None:
    """What is wrong with ``value``, yielded by the learner's process; None if nothing."""
    if isinstance(value, simpy.Event):
        node = _boolop(where)
        if node is None:
            return None
        word = "or" if isinstance(node.op, ast.Or) else "and"
        return (f"{name}{where.at()} uses `{word}` to combine SimPy events, which waits for one of them "
                f"only: an event always counts as true, so `a or b` is just `a` and `a and b` just `b`. "
                f"To wait for whichever comes first write `{_either(where, node)}`"
                f" (`&` waits for both); then `event in outcome` tells you which one fired")
    fix_value = where.value or "seconds"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (f"{name} yielded the number {float(value):.4g}{where.at()}. A SimPy process waits by "
                f"yielding an event, not a number of seconds: write `yield {env_name}.timeout({fix_value})`")
    if value is None:
        if where.value:
            return (f"{name} yielded None{where.at()}: `{where.value}` returns nothing to wait for. "
                    f"Call it without `yield`, and yield only events, such as `{env_name}.timeout(seconds)`")
        return (f"{name} yielded None{where.at()}: a bare `yield` gives SimPy nothing to wait for. "
                f"Yield an event, such as `{env_name}.timeout(seconds)`")
    if isinstance(value, types.GeneratorType):
        call = where.value or "helper(...)"
        return (f"{name} yielded a generator{where.at()}, not an event. To run it as part of this "
                f"process write `yield from {call}`; to run it alongside, start it with "
                f"`{env_name}.process({call})`")
    if callable(value):
        shown = where.value or getattr(value, "__name__", "a function")
        return (f"{name} yielded the function `{shown}` itself{where.at()}, not an event: call it, "
                f"e.g. `yield {shown}(...)`")
    if isinstance(value, (list, tuple, set)):
        return (f"{name} yielded a {type(value).__name__}{where.at()}: SimPy waits for one event. "
                f"Combine events instead: `a | b` (or `{env_name}.any_of([a, b])`) waits for the first, "
                f"`a & b` (or `{env_name}.all_of([a, b])`) for all of them")
    return (f"{name} yielded {type(value).__name__} {value!r:.40}{where.at()}, which is not a SimPy "
            f"event. A process may yield only events: `{env_name}.timeout(seconds)`, an event a method "
            f"returns, or events combined with `|` (the first of) and `&` (all of)")


# -- the guard ---------------------------------------------------------------------------------

def _describe(function: Callable[..., Any], arguments: tuple[str, ...]) -> tuple[str, str]:
    """("renewal_process(env, server)", "env"): the learner's names where they can be read."""
    name = getattr(function, "__name__", None) or type(function).__name__
    try:
        own = [p.name for p in inspect.signature(function).parameters.values()
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        own = []
    shown = own if len(own) == len(arguments) else list(arguments)
    return f"{name}({', '.join(shown)})", shown[0] if shown else "env"


def _check_function(function: Any, arguments: tuple[str, ...], what: str) -> None:
    """Refuse, before anything runs, what cannot be a process function with ``arguments``."""
    wanted = f"a generator function taking ({', '.join(arguments)})"
    if isinstance(function, types.GeneratorType):
        raise PluginMistake(f"the {what} should be {wanted}, but it is a generator that was already "
                            f"started: pass the function itself (without calling it)")
    if not callable(function):
        raise PluginMistake(f"the {what} should be {wanted}, but it is {type(function).__name__} "
                            f"{function!r:.40}")
    try:
        inspect.signature(function).bind(*arguments)
    except TypeError:
        name = getattr(function, "__name__", "it")
        raise PluginMistake(f"the {what} {name}{inspect.signature(function)} should take "
                            f"({', '.join(arguments)}): the simulation calls it with "
                            f"{len(arguments)} argument(s)") from None
    except ValueError:  # no signature to read (some built-ins): calling it will tell
        pass


def _not_a_generator(result: Any, title: str, env_name: str) -> str:
    """Why the value a process function returned cannot be run by SimPy."""
    if isinstance(result, simpy.events.Process):
        return (f"{title} returned a SimPy Process: it started a process itself. Give the simulation "
                f"the generator function (whose body yields events); it starts one per caller")
    got = "None" if result is None else f"a value of type {type(result).__name__}"
    return (f"{title} returned {got} instead of a generator: its body has no `yield`, so it runs to "
            f"the end at once. A SimPy process is a generator function that waits by yielding events, "
            f"e.g. `yield {env_name}.timeout(seconds)` or `outcome = yield reply | "
            f"{env_name}.timeout(seconds)`")


def guarded_process(function: Callable[..., Generator], *, arguments: tuple[str, ...] = ("env",),
                    runs_forever: bool = False, what: str = "process") -> Callable[..., Generator]:
    """Wrap a learner's SimPy process function so that its mistakes say what to write.

    ``function`` is called as ``function(env, *rest)`` (``arguments`` names the
    parameters for messages, e.g. ``("env", "server")``). The result, called with the
    same arguments, returns a generator to hand to ``env.process``; it yields what the
    learner's generator yields, and raises :class:`PluginMistake` (a ``TypeError``) at
    the first mistake. With ``runs_forever`` the process must never finish. ``what``
    names the plug-in in the messages about the function itself ("renewal process").
    Raises :class:`PluginMistake` at once for something that cannot be such a function.
    """
    _check_function(function, arguments, what)
    title, env_name = _describe(function, arguments)

    @functools.wraps(function)
    def start(env: simpy.Environment, *rest: Any) -> Generator:
        process = function(env, *rest)
        if not isinstance(process, types.GeneratorType):
            raise PluginMistake(_not_a_generator(process, title, env_name))
        return _guard(process, env, title, env_name, runs_forever)

    return start


def _guard(process: Generator, env: simpy.Environment, title: str, env_name: str,
           runs_forever: bool) -> Generator:
    """Drive ``process`` for SimPy, checking everything it yields (see :func:`guarded_process`)."""
    __tracebackhide__ = True  # IPython and pytest: the mistake is in the learner's code, not here
    advance: Callable[..., Any] = process.send
    reply: Any = None
    waited_for_one = False   # did the last yield wait for one plain event (not a condition)?
    code, source = None, _Source("", {}, frozenset())   # the learner's function now suspended
    while True:
        try:
            target = advance(reply)
        except StopIteration as finished:
            if runs_forever:
                raise PluginMistake(
                    f"{title} finished after {env.now:.0f} simulated seconds, but it has to run for the "
                    f"whole simulation: put its steps in a `while True:` loop") from None
            return finished.value
        except TypeError as error:
            if waited_for_one and not source.text:  # perhaps `yield a or b`, which we could not see
                raise PluginMistake(
                    f"{title} raised TypeError ({error}) just after waiting for a single event. If it "
                    f"waited with `yield a or b`: `or` does not combine SimPy events (an event counts "
                    f"as true, so `a or b` is `a`); write `yield a | b`") from error
            raise
        frame = _innermost(process).gi_frame
        if frame.f_code is not code:
            code, source = frame.f_code, _source_of(frame.f_code)
        if not isinstance(target, simpy.Event) or frame.f_lineno in source.suspect:
            mistake = _mistake(target, _Where(process), title, env_name)
            if mistake is not None:
                process.close()
                raise PluginMistake(mistake)
        waited_for_one = not isinstance(target, simpy.events.Condition)
        try:
            reply, advance = (yield target), process.send
        except GeneratorExit:
            process.close()
            raise
        except BaseException as thrown:  # an Interrupt, or a failed event: the learner's to handle
            reply, advance = thrown, process.throw
