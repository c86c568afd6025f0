"""Parameters: validation on construction, from_dict, replace, help text."""

from dataclasses import dataclass

import pytest

from simkit.params import Params, check_choice, check_number, param


@dataclass(frozen=True)
class Knobs(Params):
    workers: int = param(4, unit="workers", minimum=1, doc="parallel workers")
    timeout_s: float = param(1.0, unit="s", minimum=0, exclusive_minimum=True, doc="timeout")
    share: float = param(0.5, minimum=0, maximum=1, doc="a share")
    mode: str = param("fifo", choices=("fifo", "lifo"), doc="queue order")
    verbose: bool = param(False, doc="talk")

    rules = ((lambda p: p.workers <= 100 or p.mode == "fifo", "lifo needs at most 100 workers"),)


def test_defaults_are_valid_and_normalised():
    k = Knobs(workers=4, timeout_s=2)
    assert k.timeout_s == 2.0 and isinstance(k.timeout_s, float)
    assert k.to_dict() == {"workers": 4, "timeout_s": 2.0, "share": 0.5, "mode": "fifo", "verbose": False}


def test_integral_float_accepted_for_int():
    assert Knobs(workers=3.0).workers == 3


def test_numpy_numbers_are_numbers_and_numpy_bools_are_not():
    import numpy as np

    from simkit.world import World

    knobs = Knobs(workers=np.int64(3), timeout_s=np.int32(2), share=np.float32(0.25))
    assert (knobs.workers, knobs.timeout_s, knobs.share) == (3, 2.0, 0.25)
    assert type(knobs.workers) is int and type(knobs.timeout_s) is float
    assert World(np.int64(7), horizon_s=10).seed == 7
    with pytest.raises(TypeError, match="workers = np.True_ is not allowed"):
        Knobs(workers=np.bool_(True))
    with pytest.raises(TypeError, match="seed = True is not allowed"):
        World(True, horizon_s=10)


def test_replace_validates_again():
    k = Knobs()
    assert k.replace(share=0.25).share == 0.25
    with pytest.raises(ValueError, match="share = 2"):
        k.replace(share=2)


def test_from_dict_rejects_unknown_names_and_lists_known_ones():
    with pytest.raises(TypeError, match=r"no parameter 'workerz'.*known parameters: workers, timeout_s"):
        Knobs.from_dict({"workerz": 3})


def test_cross_field_rule():
    with pytest.raises(ValueError, match="lifo needs at most 100 workers"):
        Knobs(workers=101, mode="lifo")


def test_help_lines_show_units_and_defaults():
    lines = Knobs.help_lines()
    assert lines[0] == "--workers (default 4) [workers]: parallel workers"
    assert any(line.startswith("--timeout-s (default 1.0) [s]") for line in lines)


def test_frozen():
    with pytest.raises(Exception):
        Knobs().workers = 5  # type: ignore[misc]


def test_check_helpers():
    assert check_number("x", 3, minimum=0) == 3.0
    assert check_choice("c", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="c = 'z' is not allowed: must be one of 'a', 'b'"):
        check_choice("c", "z", ("a", "b"))
