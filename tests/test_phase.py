"""Phase maps: the back-of-envelope boundary, comparing maps, the plot, the explorer, `simkit phase`."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_hex

from simkit.cli import main
from simkit.explorer import PhaseExplorer, phase_view
from simkit.phase import PhaseMap, agreement, envelope, phase_map
from simkit.plots import PHASE_COLORS, phase_plot


# -- the back of the envelope ----------------------------------------------------------------------
def test_envelope_numbers_for_the_defaults():
    env = envelope()
    assert env.capacity_rps == 100 and env.critical_size == pytest.approx(100 / 70)
    assert env.sustains  # 4 x 70 > 100
    # a doubled load (140/s) builds a queue one timeout deep (100 requests) in 100 / 40 s
    assert float(env.critical_duration_s(2.0)) == pytest.approx(2.5)
    assert math.isinf(float(env.critical_duration_s(1.4)))  # 98/s never exceeds capacity
    assert env.collapses(2.0, 3.0) and not env.collapses(2.0, 2.0)
    assert not envelope({"base_load_rps": 20.0}).sustains  # 4 x 20 <= 100
    assert not envelope({"retry_policy": "none"}).sustains


def test_envelope_underestimates_the_danger_of_random_order():
    """What the lab can check: wherever the envelope predicts a collapse, the map shows one; but
    the map collapses for shorter spikes too (random order: some requests wait far longer than
    the mean, so timeouts start before the queue is a whole timeout deep)."""
    result = phase_map("retry-storm", lens="fluid", grid=40)
    predicted = envelope().grid(result.sizes, result.durations)
    collapsed = ~result.recovered
    assert not (predicted & ~collapsed).any()
    assert (collapsed & ~predicted).sum() > 0.05 * collapsed.size
    assert (predicted == collapsed).mean() > 0.8


# -- maps and their comparison ----------------------------------------------------------------------
def _map(recovered, seeds=(0,)):
    recovered = np.asarray(recovered, dtype=bool)
    layers = recovered if recovered.ndim == 3 else recovered[None]
    shape = layers.shape[1:]
    return PhaseMap("retry-storm", "des", {}, "spike_factor", "spike_duration_s",
                    np.arange(shape[1], dtype=float), np.arange(shape[0], dtype=float), list(seeds),
                    layers, np.zeros(shape), np.zeros(shape))


def test_agreement_counts_cells_and_boundary_steps():
    reference = _map([[1, 1, 1], [1, 0, 0], [1, 0, 0]])
    assert agreement(reference, reference) == {"share": 1.0, "max_steps": 0.0}
    shifted = _map([[1, 1, 1], [1, 1, 0], [1, 0, 0]])  # the boundary moved by one cell
    assert agreement(reference, shifted) == {"share": 8 / 9, "max_steps": 1.0}
    far = _map([[1, 1, 1], [1, 1, 1], [1, 1, 0]])
    assert agreement(reference, far)["max_steps"] == 1.0
    inverted = _map([[0, 0, 0], [0, 0, 0], [0, 0, 1]])
    assert agreement(reference, inverted)["max_steps"] >= 2.0
    with pytest.raises(ValueError, match="same grid"):
        agreement(reference, _map([[1, 1], [1, 1]]))


def test_seeds_that_disagree_show_as_mixed():
    two_seeds = _map([[[1, 0], [0, 0]], [[1, 1], [0, 0]]], seeds=(0, 1))
    assert two_seeds.share_recovered.tolist() == [[1.0, 0.5], [0.0, 0.0]]
    assert two_seeds.recovered.tolist() == [[True, False], [False, False]]  # a tie errs on danger
    assert "?" in two_seeds.text()


def test_des_map_keeps_each_seed_in_its_place():
    grid = dict(sizes=[1.2, 2.4], durations=[0.0, 15.0])
    result = phase_map("retry-storm", {"horizon_s": 120}, lens="des", seeds=[0, 1], workers=1,
                       progress=False, **grid)
    assert result.recovered_by_seed.shape == (2, 2, 2)
    assert result.recovered.tolist() == [[True, True], [True, False]]  # only the big, long spike collapses
    data = json.loads(result.to_json())
    assert data["seeds"] == [0, 1] and data["sizes"] == [1.2, 2.4] and data["recovered"][1] == [True, False]
    assert 2 < data["amplification_end"][1][1] < 4


def test_dynamodb_has_a_phase_map_too():
    result = phase_map("dynamodb-2015", {"horizon_s": 7200}, grid=3, workers=1, progress=False)
    assert result.size_name == "disruption_fraction" and result.duration_name == "disruption_s"
    assert result.recovered[0].all()  # no disruption, nothing to recover from
    assert result.recovered[:, 0].all() and not result.recovered[-1, -1]  # a big, long one sticks


def test_retry_storm_maps_run_the_storm_alone_before_the_games_maintenance():
    # The default run is the commander game (8 minutes, a database maintenance at 05:15); a phase
    # map is about the spike, so it runs the storm alone unless told otherwise.
    from simkit.scenarios.retry_storm import STORM_HORIZON_S, Params

    fluid = phase_map("retry-storm", lens="fluid", grid=4)
    assert fluid.params["horizon_s"] == STORM_HORIZON_S < Params().maintenance_start_s
    des = phase_map("retry-storm", {"horizon_s": 120}, lens="des", sizes=[1.2, 2.4], durations=[0.0, 15.0],
                    workers=1, progress=False)
    assert des.params["horizon_s"] == 120  # the caller's horizon wins
    with pytest.raises(ValueError, match="would include the database maintenance"):
        phase_map("retry-storm", {"horizon_s": 480}, lens="fluid", grid=4)


@pytest.mark.parametrize("call, message", [
    (lambda: phase_map("elb-2012"), "has no phase map"),
    (lambda: phase_map("retry-storm", {"spike_factor": 2.0}), "set by the phase map's axes"),
    (lambda: phase_map("retry-storm", lens="crystal"), "lens = 'crystal' is not allowed"),
    (lambda: phase_map("retry-storm", sizes=[2.0, 1.0]), "increasing order"),
    (lambda: phase_map("retry-storm", durations=[0, 400.0]), "must end within horizon_s"),
    (lambda: phase_map("retry-storm", {"queue_discipline": "fifo"}, lens="fluid"), "random' order only"),
    (lambda: phase_map("dynamodb-2015", lens="fluid"), "fluid model exists for retry-storm only"),
    (lambda: phase_map("retry-storm", seeds=[]), "seeds is not allowed to be empty"),
])
def test_bad_requests_get_plain_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- the plot ---------------------------------------------------------------------------------------
def test_phase_plot_draws_cells_and_the_envelope(tmp_path):
    result = phase_map("retry-storm", lens="fluid", grid=12)
    fig = phase_plot(result)
    ax = fig.axes[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == "recovered" and labels[1].startswith("collapsed")
    assert any("back of the envelope" in label for label in labels)
    mesh = ax.collections[0]
    classes = np.unique(np.asarray(mesh.get_array()))
    assert classes.tolist() == [0, 2]  # collapsed and recovered cells; no "mixed" without seeds
    drawn = [to_hex(mesh.cmap(mesh.norm(c))) for c in classes]
    assert drawn == [PHASE_COLORS["collapsed"].lower(), PHASE_COLORS["recovered"].lower()]
    assert "fluid lens" in ax.get_title(loc="left")
    path = tmp_path / "map.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert PHASE_COLORS["recovered"] != PHASE_COLORS["collapsed"]


def test_phase_plot_says_when_no_collapse_can_last():
    fig = phase_plot(phase_map("retry-storm", {"base_load_rps": 20.0}, lens="fluid", grid=6))
    assert any("no collapse can last" in t.get_text() for t in fig.axes[0].texts)


# -- the explorer -----------------------------------------------------------------------------------
def test_phase_view_is_the_explorers_logic():
    default = phase_view(grid=15)
    assert 0.3 < default.collapsed_share < 0.9
    assert "collapses" in default.caption and "attempts per customer request" in default.caption
    gentle = phase_view(base_load_rps=50.0, timeout_s=3.0, max_retries=1, grid=15)
    assert gentle.collapsed_share < default.collapsed_share
    assert phase_view(retry_policy="budget", grid=15).collapsed_share == 0.0
    assert "no spike on this map" in phase_view(retry_policy="none", grid=15).caption
    with pytest.raises(ValueError, match="retry_policy = 'sometimes' is not allowed"):
        phase_view(retry_policy="sometimes", grid=6)


def test_explorer_sliders_redraw_through_phase_view():
    explorer = PhaseExplorer(grid=10)
    first_png, first_caption = explorer.image.value, explorer.caption.value
    assert first_png[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.controls["retry_policy"].value = "budget"  # what a click does
    assert explorer.view.collapsed_share == 0.0
    assert explorer.caption.value != first_caption and explorer.image.value != first_png
    assert explorer.levers()["retry_policy"] == "budget"
    assert explorer.view.collapsed_share == phase_view(**explorer.levers(), grid=10).collapsed_share


# -- the command line -------------------------------------------------------------------------------
def test_cli_phase_json_parses(capsys):
    assert main(["phase", "retry-storm", "--lens", "fluid", "--grid", "8", "--timeout-s", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lens"] == "fluid" and data["params"]["timeout_s"] == 2.0
    assert len(data["sizes"]) == 8 and len(data["recovered"]) == 8
    assert any(not cell for row in data["recovered"] for cell in row)


def test_cli_phase_text_and_plot(capsys, tmp_path):
    png = tmp_path / "phase.png"
    assert main(["phase", "retry-storm", "--lens", "des", "--sizes", "1.2:2.4:2", "--durations", "0:12:2",
                 "--horizon-s", "120", "--workers", "1", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "des lens, seeds 0" in out and "back-of-envelope prediction" in out and str(png) in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.parametrize("argv, message", [
    (["phase", "elb-2012"], "elb-2012 has no phase map"),
    (["phase", "nosuch"], "unknown scenario 'nosuch'"),
    (["phase", "retry-storm", "--sizes", "2"], "--sizes '2' is not allowed"),
    (["phase", "retry-storm", "--durations", "5:1"], "low < high"),
    (["phase", "retry-storm", "--seeds", "a"], "--seeds 'a' is not allowed"),
    (["phase", "retry-storm", "--spike-factor", "2"], "set by the phase map's axes"),
    (["phase", "retry-storm", "--lens", "fluid", "--queue-discipline", "fifo"], "random' order only"),
    (["phase", "retry-storm", "--plot", "/no/such/folder/x.png"], "does not exist"),
])
def test_cli_phase_bad_input_is_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_phase_in_a_subprocess(tmp_path):
    done = subprocess.run([sys.executable, "-m", "simkit.cli", "phase", "retry-storm", "--lens", "fluid",
                           "--grid", "5", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scenario"] == "retry-storm"
