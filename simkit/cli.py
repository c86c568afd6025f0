"""``simkit`` on the command line: run a scenario, score a plan, list what exists.

::

    simkit list
    simkit run retry-storm --timeout-s 2 --retry-policy backoff --seed 3 --plot storm.png
    simkit run dynamodb-2015 --plan '[["05:06", "pause_renewals"]]'
    simkit score dynamodb-2015 --plan '[[18, "pause_renewals"]]'
    simkit phase retry-storm --lens fluid --grid 50 --plot phase.png
    simkit run --help          # every scenario's parameters, units and defaults

Scenario parameters are given as ``--name value`` (``--timeout-s 2`` and
``--timeout_s=2`` both work) and parsed by the kind the scenario declares (integer,
number, true/false, or one of a list of choices), then validated by its ``Params``
class. Bad input prints one line naming the parameter and what is allowed, and
exits with status 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from .params import Params, ParamSpec

__all__ = ["main", "parse_scenario_args", "InputError"]

USAGE_ERROR = 2


class InputError(Exception):
    """Input the user can fix (an unknown scenario, a bad parameter value, a bad plan)."""


# -- parsing scenario parameters ---------------------------------------------------------
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _convert(name: str, text: str, spec: ParamSpec) -> Any:
    """Turn the text given for parameter ``name`` into a value of its declared kind."""
    kind = spec.kind
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError
        if kind is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(text)
    except ValueError:
        raise InputError(f"{name} = {text!r} is not allowed: must be {spec.allowed()}") from None
    return kind(text) if kind is not str else text


def parse_scenario_args(params_class: type[Params], args: Sequence[str]) -> dict[str, Any]:
    """Read ``--name value`` / ``--name=value`` pairs for ``params_class`` into a dict.

    A true/false parameter may also be given alone (``--drop-abandoned``) or negated
    (``--no-drop-abandoned``). Values are converted by kind here; ranges and choices
    are checked later by the Params class itself.
    """
    specs = params_class.specs()
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or token == "--":
            raise InputError(f"unexpected argument {token!r}: parameters are given as --name value")
        key, has_value, value = token[2:].partition("=")
        name = key.replace("-", "_")
        negated = False
        if name not in specs and name.startswith("no_") and name[3:] in specs:
            name, negated = name[3:], True
        if name not in specs:
            known = ", ".join("--" + n.replace("_", "-") for n in specs)
            raise InputError(f"unknown parameter --{key} for this scenario; known parameters: {known}")
        spec = specs[name]
        alone = not has_value and (i + 1 == len(args) or args[i + 1].startswith("--"))
        if negated or (spec.kind is bool and alone):  # a flag: --jitter, --no-jitter
            if spec.kind is not bool:
                raise InputError(f"--no-{key[3:]} is only allowed for true/false parameters")
            values[name] = not negated
            i += 1
            continue
        if not has_value:
            if i + 1 == len(args):
                raise InputError(f"{name} needs a value: must be {spec.allowed()}")
            value = args[i + 1]
            i += 1
        values[name] = _convert(name, value, spec)
        i += 1
    return values


# -- scenarios -----------------------------------------------------------------------------
def _model(name: str):
    from .scenarios import get

    try:
        return get(name)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _build_params(model, args: Sequence[str]) -> Params:
    values = parse_scenario_args(model.Params, args)
    try:
        return model.Params.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None


def _check_plan(model, params: Params, seed: int, text: str | None):
    """Parse and check a plan against a fresh model, so a bad plan is an input error.

    ``intended`` and ``historical`` name the scenario's reference plans."""
    from .plan import Plan

    if text is None:
        return None
    try:
        if text.strip() in ("intended", "historical"):
            text = model.reference_plan(text.strip())
        return Plan.coerce(text, model(params, seed))
    except (TypeError, ValueError) as exc:
        raise InputError(f"--plan: {exc}") from None


def _changed(params: Params) -> str:
    """The parameters that differ from the defaults, as ``name=value`` text."""
    defaults = type(params)().to_dict()
    changed = [f"{k}={v!r}" for k, v in params.to_dict().items() if defaults.get(k) != v]
    return ", ".join(changed) if changed else "all defaults"


def _scenario_help() -> str:
    """Every scenario with its parameters (name, default, unit, meaning)."""
    from .scenarios import names

    lines = ["scenarios and their parameters:"]
    for name in names():
        try:
            model = _model(name)
        except Exception as exc:  # a scenario under construction must not break --help
            lines.append(f"\n  {name}: (cannot be loaded: {exc})")
            continue
        lines.append(f"\n  {name}: {model.title}")
        specs = model.Params.specs().values()
        for line, spec in zip(model.Params.help_lines(), specs):
            choices = f" (one of: {', '.join(map(str, spec.choices))})" if spec.choices else ""
            lines.append(f"    {line}{choices}")
        if model.actions:
            lines.append("    plan actions: " + ", ".join(model.actions))
    return "\n".join(lines)


# -- commands ------------------------------------------------------------------------------
def _cmd_list(_args: argparse.Namespace, _extra: Sequence[str]) -> int:
    from .scenarios import names

    for name in names():
        try:
            title = _model(name).title
        except Exception as exc:  # a scenario under construction must not hide the others
            title = f"(cannot be loaded: {type(exc).__name__}: {exc})"
        print(f"{name:16s} {title}")
    return 0


def _cmd_run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    model = _model(args.scenario)
    params = _build_params(model, extra)
    if args.plot:
        _check_plot_path(args.plot)
    plan = _check_plan(model, params, args.seed, args.plan)
    result = model.run(params, seed=args.seed, plan=plan)
    print(f"{model.title}")
    print(f"parameters: {_changed(params)}")
    if plan is not None:
        print(f"plan: {plan.to_json()}")
    print(result.describe())
    if args.plot:
        _save_plot(result, args.plot)
        print(f"dashboard written to {args.plot}")
    return 0


def _check_plot_path(path: str) -> None:
    """Refuse a plot file we could not write, before spending time on the run."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"--plot {path!r}: folder {folder!r} does not exist")
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix not in formats:
        raise InputError(f"--plot {path!r}: unknown image type; use one of: .{', .'.join(sorted(formats))}")


def _save_plot(result, path: str) -> None:
    from .plots import dashboard

    fig = dashboard(result)
    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise InputError(f"--plot {path!r}: cannot write the figure: {exc}") from None


def _cmd_score(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from .commander.debrief import debrief
    from .commander.engine import score

    model = _model(args.scenario)
    params = _build_params(model, extra)
    plan = _check_plan(model, params, args.seed, args.plan)
    card = score(args.scenario, plan, params=params, seed=args.seed)
    if args.debrief:
        card.debrief = debrief(args.scenario, plan, params=params, seed=args.seed, card=card)
    if args.json:
        print(json.dumps(card.to_dict(), default=str))
        return 0
    print(format_card(args.scenario, args.seed, plan.to_json(), card))
    return 0


def _cmd_rubric(args: argparse.Namespace, _extra: Sequence[str]) -> int:
    model = _model(args.scenario)
    print(f"{model.name}: how the commander game scores ({model.title})")
    print(model.rubric.text())
    print(f"You are paged when {model.page_rule}; no action can be taken before.")
    print("Actions (plan identifier: label):")
    params = model.Params()
    for name, spec in model.actions.items():
        print(f"  {name}: {spec.label}. {spec.tooltip(params)}")
    return 0


def format_card(scenario: str, seed: int, plan_json: str, card) -> str:
    """A score card as text: the plan, then the rubric's lines with what each earned."""
    return f"score card: {scenario} (seed {seed})\nplan: {plan_json}\n{card.text()}"


# -- the parser ----------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``run --help`` and ``score --help`` list every scenario."""
    scenarios_help = _scenario_help()
    parser = _Parser(
        prog="simkit",
        allow_abbrev=False,
        description="Run the course's cascading-failure scenarios from a terminal.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{list,run,score,rubric,phase}", parser_class=_Parser)
    sub.required = True
    sub.add_parser("list", help="list the scenarios", description="List the scenarios.")

    run = sub.add_parser(
        "run",
        help="run a scenario and print its timeline and summary",
        allow_abbrev=False,
        usage="simkit run SCENARIO [--PARAM VALUE ...] [--seed N] [--plot OUT.png] [--plan JSON]",
        description="Run a scenario over its whole horizon; print its timeline and summary.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=scenarios_help,
    )
    run.add_argument("scenario", help="scenario name (see below)")
    _common(run)
    run.add_argument("--plot", metavar="OUT.png", help="also write the dashboard to this image file")
    run.add_argument("--plan", metavar="JSON",
                     help='operator actions, e.g. \'[[18, "pause_renewals"]]\' (minutes or "HH:MM"), '
                          'or "intended" / "historical" for the scenario\'s reference plans')

    score = sub.add_parser(
        "score",
        help="replay an incident-commander plan and print its score card",
        allow_abbrev=False,
        usage="simkit score SCENARIO --plan JSON [--PARAM VALUE ...] [--seed N] [--json]",
        description="Replay a plan of operator actions on a scenario and print the score card.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=scenarios_help,
    )
    score.add_argument("scenario", help="scenario name (see below)")
    _common(score)
    score.add_argument("--plan", metavar="JSON", default="[]",
                       help='operator actions, e.g. \'[[18, "pause_renewals"]]\' (default: none), '
                            'or "intended" / "historical" for the scenario\'s reference plans')
    score.add_argument("--json", action="store_true", help="print the score card as JSON")
    score.add_argument("--debrief", action="store_true",
                       help="also replay variants of the plan and say what would have helped most")

    rubric = sub.add_parser(
        "rubric", help="print how a scenario's commander game is scored, and its actions",
        allow_abbrev=False, description="Print a scenario's rubric, its page rule and its actions.")
    rubric.add_argument("scenario", help="scenario name")
    _add_phase_parser(sub)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (integer >= 0, default 0)")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed = {text!r} is not allowed: must be an integer >= 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simkit`` command; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    commands = {"list": _cmd_list, "run": _cmd_run, "score": _cmd_score, "rubric": _cmd_rubric,
                "phase": _cmd_phase}
    if args.command in ("list", "rubric") and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return commands[args.command](args, extra)
    except InputError as exc:
        print(f"simkit {args.command}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # output piped into `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# -- simkit phase: the phase map of a scenario -----------------------------------------------------
def _add_phase_parser(sub) -> None:
    from .phase import LENSES, TRIGGERS

    axes = "; ".join(f"{name}: {t.size} x {t.duration}" for name, t in TRIGGERS.items())
    phase = sub.add_parser(
        "phase",
        help="map trigger size x duration to recovered / collapsed",
        allow_abbrev=False,
        usage="simkit phase SCENARIO [--lens des|fluid] [--grid N] [--sizes LO:HI[:N]] "
              "[--durations LO:HI[:N]] [--seeds 0,1] [--workers N] [--json] [--plot OUT.png] [--PARAM VALUE ...]",
        description="Run a scenario over a grid of trigger sizes and durations and show which cells "
                    f"recover and which stay collapsed. Trigger axes: {axes}. Other parameters are "
                    "given as --name value, as for `simkit run`.",
    )
    phase.add_argument("scenario", help=f"scenario name ({', '.join(TRIGGERS)})")
    phase.add_argument("--lens", choices=LENSES, default="des",
                       help="des: the discrete-event scenario, one run per cell and seed (default); "
                            "fluid: the fast mean-field model (retry-storm only)")
    phase.add_argument("--grid", type=_grid_size, default=None,
                       help="values per axis (default 6 for des, 50 for fluid)")
    phase.add_argument("--sizes", metavar="LO:HI[:N]", help="trigger sizes (default: the scenario's range)")
    phase.add_argument("--durations", metavar="LO:HI[:N]", help="trigger durations in s (default: the scenario's range)")
    phase.add_argument("--seeds", default="0", help="comma-separated seeds for the des lens (default 0)")
    phase.add_argument("--workers", type=_grid_size, default=None,
                       help="worker processes for the des lens (default: one per core; 1 = in this process)")
    phase.add_argument("--json", action="store_true", help="print the map as JSON")
    phase.add_argument("--plot", metavar="OUT.png", help="also draw the map to this image file")


def _grid_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: must be an integer >= 1")
    return value


def _axis_option(name: str, text: str | None, default_range: tuple[float, float], n: int):
    """``LO:HI`` or ``LO:HI:N`` as evenly spaced values (None: the default range)."""
    from .phase import axis_values

    if text is None:
        low, high = default_range
    else:
        parts = text.split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            low, high = float(parts[0]), float(parts[1])
            n = int(parts[2]) if len(parts) == 3 else n
        except ValueError:
            raise InputError(f"--{name} {text!r} is not allowed: must be LO:HI or LO:HI:N, e.g. 1.2:2.4:6") from None
    try:
        return axis_values(low, high, n)
    except (TypeError, ValueError) as exc:
        raise InputError(f"--{name}: {exc}") from None


def _seeds_option(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise InputError(f"--seeds {text!r} is not allowed: must be integers >= 0, separated by commas")
    return seeds


def _cmd_phase(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from .phase import TRIGGERS, envelope, phase_map

    if args.scenario not in TRIGGERS:
        _model(args.scenario)  # an unknown name gets the usual message
        raise InputError(f"{args.scenario} has no phase map; scenarios with one: {', '.join(TRIGGERS)}")
    model = _model(args.scenario)
    trigger = TRIGGERS[args.scenario]
    overrides = parse_scenario_args(model.Params, extra)
    n = args.grid or (50 if args.lens == "fluid" else 6)
    sizes = _axis_option("sizes", args.sizes, trigger.size_range, n)
    durations = _axis_option("durations", args.durations, trigger.duration_range, n)
    seeds = _seeds_option(args.seeds)
    if args.plot:
        _check_plot_path(args.plot)
    try:
        result = phase_map(args.scenario, overrides, sizes=sizes, durations=durations, lens=args.lens,
                           seeds=seeds, workers=args.workers, progress=not args.json)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    if args.json:
        print(result.to_json())
    else:
        print(f"{model.title}: phase map ({args.lens} lens"
              + (f", seeds {', '.join(map(str, seeds))})" if args.lens == "des" else ")"))
        print(f"parameters: {_changed(model.Params.from_dict(result.params))}")
        print(result.text())
        print('"." recovered, "X" collapsed (outlived the trigger), "?" the seeds disagree')
        if args.scenario == "retry-storm":
            predicted = envelope(result.params).grid(result.sizes, result.durations)
            share = float((predicted == ~result.recovered).mean())
            print(f"back-of-envelope prediction (simkit.phase.envelope) agrees on {share:.0%} of the cells")
    if args.plot:
        from .plots import phase_plot

        fig = phase_plot(result)
        try:
            fig.savefig(args.plot, dpi=110)
        except (OSError, ValueError) as exc:
            raise InputError(f"--plot {args.plot!r}: cannot write the figure: {exc}") from None
        if not args.json:
            print(f"phase map written to {args.plot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
