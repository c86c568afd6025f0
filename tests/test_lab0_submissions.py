"""Lab 0 graded like a class would be: right in another style, plausibly wrong, copied from the text.

Each submission is lab 0's source notebook with some answer cells rewritten, run in a real
kernel with its test cells judged outside it (as ``nbgrader autograde`` does, see
:func:`judge_helpers.run_judged`), hidden tests included. One kernel run per submission:

* **another style** (NumPy numbers and arrays, NumPy floats among a run's parameters (the
  kit refuses NumPy integers there, so none is passed), Erlang C through the Erlang B
  recursion, windows found with ``searchsorted``, a vectorised envelope over the map, a
  different plan written in NumPy minutes): every test cell passes;
* **plausible mistakes**, one per graded cell: utilisation capped at 1, Erlang C without
  the rho >= 1 guard, the goodput share as a mean of per-second shares (the visible checks
  cannot tell, the hidden ones can), layers that add instead of multiply, a token bucket
  that caps before depositing, goodput read as throughput, the wasted share of the spike's
  window only, every sweep run on seed 0, the backoff run not pinned to the lab's 200 s, the
  budget's goodput over the whole run, a zero division at exactly the capacity, a boundary
  off by a step (``>`` for ``>=``), the map's two error counts swapped, the shares of seeds
  that recovered for those that collapsed, and doing nothing in the game: every graded
  cell fails, each for its own mistake (the failure names it). In the same kernel the plan
  cells are judged again with every action taken at once at the page: that is a real
  response, but not the top band;
* **copied from the text**: correct functions, but every experiment answer and the plan
  taken from the lab's prose: no point of Parts 3 to 5. The only plan the text shows is the
  plain-Python example of Part 5 (add workers at 00:01:05), which stays in the bottom band.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline_helpers as ph
from judge_helpers import CellVerdict, KernelTransport, _message, lab_workdir, run_judged, solution_with
from simkit.grading.judge import Judge

pytestmark = pytest.mark.slow

LAB = "lab0-overload"

FUNCTIONS_GRADED = {"test_utilisation", "test_erlang_c_wait_s", "test_goodput_share", "test_max_amplification",
                    "test_token_bucket_budget", "test_spike_needed_s", "test_envelope"}
EXPERIMENTS_GRADED = {"test_reproduce", "test_whatif_wasted", "test_whatif_vulnerable", "test_whatif_backoff",
                      "test_whatif_budget", "test_envelope_vs_map", "test_envelope_vs_des"}
COMMANDER_GRADED = {"test_plan_low", "test_plan_middle", "test_plan_top"}

ANOTHER_STYLE = {
    "utilisation": '''
def utilisation(arrival_rps, workers, mean_service_s):
    return np.divide(np.multiply(arrival_rps, mean_service_s), workers)
''',
    "erlang_c_wait_s": '''
def erlang_c_wait_s(arrival_rps, workers, mean_service_s):
    """Erlang C from the Erlang B recursion: B(k) = a B(k-1) / (k + a B(k-1))."""
    a = np.float64(arrival_rps) * mean_service_s
    if a >= workers:
        return np.inf
    blocking = np.float64(1.0)
    for k in range(1, int(workers) + 1):
        blocking = a * blocking / (k + a * blocking)
    p_wait = workers * blocking / (workers - a * (1 - blocking))
    return p_wait * mean_service_s / (workers - a)
''',
    "goodput_share": '''
def goodput_share(result, start_s, end_s):
    first, last = np.searchsorted(result.t_s, [start_s, end_s])   # t_s is sorted
    served = np.sum(result["served"][first:last])
    with np.errstate(invalid="ignore"):
        return np.float64(np.sum(result["useful"][first:last])) / served if served else np.float64(np.nan)
''',
    "max_amplification": '''
def max_amplification(max_retries, layers=1):
    return np.prod(np.full(int(layers), max_retries + 1, dtype=np.int64))
''',
    "token_bucket_budget": '''
class TokenBucketBudget:
    def __init__(self, ratio=0.1, max_tokens=10.0):
        self.ratio, self.max_tokens = np.float64(ratio), np.float64(max_tokens)
        self.tokens = self.max_tokens

    def on_success(self):
        self.tokens = np.minimum(self.tokens + self.ratio, self.max_tokens)

    def try_spend(self):
        allowed = self.tokens >= 1
        self.tokens = self.tokens - 1 if allowed else self.tokens
        return bool(allowed)
''',
    "reproduce_answers": '''
first, last = np.searchsorted(storm.t_s, [120, 300])
AMPLIFICATION_AFTER_SPIKE = np.divide(*(np.sum(storm[name][first:last]) for name in ("attempts", "offered")))
GOODPUT_SHARE_AFTER_SPIKE = goodput_share(storm, np.int64(120), np.float64(300))
''',
    "whatif_wasted": '''
NO_RETRY_WASTED_SHARE = np.sum(no_retry["wasted"]) / np.sum(no_retry["served"])
''',
    "whatif_vulnerable": '''
BASES = [40, 45, 50, 55, 60]
SEEDS = [0, 1, 2, 3, 4]
recovered = np.array([[simkit.run("retry-storm", {"base_load_rps": base, "horizon_s": 200.0},
                                  seed=seed).summary["recovered"] for seed in SEEDS]
                      for base in np.asarray(BASES, dtype=float)])
RECOVERED_SHARE = dict(zip(BASES, recovered.mean(axis=1)))
SAFE_BASE_RPS = np.array(BASES)[recovered.all(axis=1)].max()
NEVER_BASE_RPS = np.array(BASES)[~recovered.any(axis=1)].min()
''',
    "whatif_backoff": '''
backoff = simkit.run("retry-storm", {"retry_policy": "backoff", "horizon_s": np.float64(200)}, seed=0)
BACKOFF_RECOVERS = np.bool_(backoff.summary["recovered"])
BACKOFF_AMPLIFICATION_END = np.float64(backoff.summary["attempts_end_rps"] / backoff.summary["offered_end_rps"])
''',
    "whatif_budget": '''
budget = simkit.run("retry-storm", {"retry_policy": "budget", "horizon_s": 200}, seed=0)
BUDGET_GOODPUT_END_RPS = np.nanmean(budget["useful"][budget.t_s >= 200 - 60])   # the last minute
BUDGET_RECOVERED_AT_S = np.float64(budget.summary["recovered_at_s"])
''',
    "envelope_functions": '''
def spike_needed_s(spike_factor, base_load_rps, capacity_rps, timeout_s):
    excess_rps = np.float64(spike_factor) * base_load_rps - capacity_rps
    return np.float64(timeout_s) * capacity_rps / excess_rps if excess_rps > 0 else np.inf


def envelope_predicts_collapse(spike_factor, spike_duration_s, base_load_rps, capacity_rps, timeout_s, max_retries):
    conditions = [
        spike_factor * base_load_rps > capacity_rps,
        spike_duration_s >= spike_needed_s(spike_factor, base_load_rps, capacity_rps, timeout_s),
        (max_retries + 1) * base_load_rps > capacity_rps,
    ]
    return np.all(conditions)
''',
    "envelope_vs_map": '''
from simkit.phase import phase_map

MAP_GRID = 25
fluid = phase_map("retry-storm", lens="fluid", grid=MAP_GRID)
sizes, durations = np.meshgrid(fluid.sizes, fluid.durations)      # rows: durations, columns: sizes
predicted = np.vectorize(envelope_predicts_collapse)(sizes, durations, 70, 100, 1.0, 3).astype(bool)
ENVELOPE_AGREEMENT = np.mean(predicted != fluid.recovered)
TOO_OPTIMISTIC = np.sum(~predicted & ~fluid.recovered)
TOO_PESSIMISTIC = np.sum(predicted & fluid.recovered)
''',
    "envelope_vs_des": '''
DES_SPIKE = 1.6
DES_DURATIONS = [2.0, 6.0, 10.0]
DES_SEEDS = [0, 1, 2, 3, 4]
DES_COLLAPSED_SHARE = {
    duration: np.mean([not simkit.run("retry-storm", {"spike_factor": DES_SPIKE, "spike_duration_s": duration,
                                                      "horizon_s": 300}, seed=seed).summary["recovered"]
                       for seed in DES_SEEDS])
    for duration in DES_DURATIONS}
ENVELOPE_WRONG_AT = set(filter(lambda d: envelope_predicts_collapse(DES_SPIKE, d, 70, 100, 1.0, 3)
                               != (DES_COLLAPSED_SHARE[d] > 0.5), DES_DURATIONS))
''',
    # not the kit's plan: shed at 00:01:15, the two steps of workers at 00:01:30 and 00:02:45
    "commander_plan": '''
PLAN = [(np.float64(1.25), "shed_load"), (np.float64(1.5), "add_capacity"), (np.float64(2.75), "add_capacity")]
''',
}

#: one plausible mistake per graded cell; the experiment cells compute everything but their own mistake right
MISTAKES = {
    "utilisation": '''
def utilisation(arrival_rps, workers, mean_service_s):
    return min(1.0, arrival_rps * mean_service_s / workers)   # "a share of the time": capped at 100 %
''',
    "erlang_c_wait_s": '''
def erlang_c_wait_s(arrival_rps, workers, mean_service_s):
    a = arrival_rps * mean_service_s
    rho = a / workers                                          # no rho >= 1 guard
    term, below_c = 1.0, 0.0
    for k in range(workers):
        if k > 0:
            term *= a / k
        below_c += term
    at_c = term * a / workers / (1.0 - rho)
    return at_c / (below_c + at_c) * mean_service_s / (workers * (1.0 - rho))
''',
    "goodput_share": '''
def goodput_share(result, start_s, end_s):
    window = (result.t_s >= start_s) & (result.t_s < end_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = result["useful"][window] / result["served"][window]
    if np.isnan(shares).all():
        return math.nan
    return float(np.nanmean(shares))                           # the mean of the per-second shares
''',
    "max_amplification": '''
def max_amplification(max_retries, layers=1):
    return (max_retries + 1) * layers                           # layers add up instead of multiplying
''',
    "token_bucket_budget": '''
class TokenBucketBudget:
    def __init__(self, ratio=0.1, max_tokens=10.0):
        self.ratio, self.max_tokens, self.tokens = ratio, max_tokens, max_tokens

    def on_success(self):
        if self.tokens < self.max_tokens:                      # caps before depositing
            self.tokens += self.ratio

    def try_spend(self):
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
''',
    "reproduce_answers": '''
window = (storm.t_s >= 120) & (storm.t_s < 300)
AMPLIFICATION_AFTER_SPIKE = storm["attempts"][window].sum() / storm["offered"][window].sum()
GOODPUT_SHARE_AFTER_SPIKE = storm["served"][window].sum() / storm["attempts"][window].sum()  # throughput
''',
    "whatif_wasted": '''
spike = (no_retry.t_s >= 60) & (no_retry.t_s < 120)            # the demo's window, not the whole run
NO_RETRY_WASTED_SHARE = 1 - no_retry["useful"][spike].sum() / no_retry["served"][spike].sum()
''',
    "whatif_vulnerable": '''
BASES = [40, 45, 50, 55, 60]
SEEDS = [0, 1, 2, 3, 4]
RECOVERED_SHARE = {}
for base in BASES:
    recovered = [simkit.run("retry-storm", {"base_load_rps": base, "horizon_s": 200}, seed=0).summary["recovered"]
                 for seed in SEEDS]                            # seed=0 typed: five copies of one night
    RECOVERED_SHARE[base] = sum(recovered) / len(SEEDS)
SAFE_BASE_RPS = max(base for base in BASES if RECOVERED_SHARE[base] == 1)
NEVER_BASE_RPS = min(base for base in BASES if RECOVERED_SHARE[base] == 0)
''',
    "whatif_backoff": '''
backoff = simkit.run("retry-storm", {"retry_policy": "backoff"}, seed=0)   # the default 480 s, not 200 s
BACKOFF_RECOVERS = backoff.summary["recovered"]
BACKOFF_AMPLIFICATION_END = backoff.summary["amplification_end"]
''',
    "whatif_budget": '''
budget = simkit.run("retry-storm", {"retry_policy": "budget", "horizon_s": 200}, seed=0)
BUDGET_GOODPUT_END_RPS = float(np.mean(budget["useful"]))       # over the whole run, not the last minute
BUDGET_RECOVERED_AT_S = budget.summary["recovered_at_s"]
''',
    "envelope_functions": '''
def spike_needed_s(spike_factor, base_load_rps, capacity_rps, timeout_s):
    excess_rps = spike_factor * base_load_rps - capacity_rps
    if excess_rps < 0:                                         # a spike of exactly the capacity divides by 0
        return math.inf
    return timeout_s * capacity_rps / excess_rps


def envelope_predicts_collapse(spike_factor, spike_duration_s, base_load_rps, capacity_rps, timeout_s, max_retries):
    sustains = (max_retries + 1) * base_load_rps > capacity_rps
    return sustains and spike_duration_s > spike_needed_s(spike_factor, base_load_rps, capacity_rps, timeout_s)
''',
    "envelope_vs_map": '''
from simkit.phase import phase_map

MAP_GRID = 25
fluid = phase_map("retry-storm", lens="fluid", grid=MAP_GRID)
predicted = np.array([[envelope_predicts_collapse(size, duration, 70, 100, 1.0, 3) for size in fluid.sizes]
                      for duration in fluid.durations])
collapsed = ~fluid.recovered
ENVELOPE_AGREEMENT = float(np.mean(predicted == collapsed))
TOO_OPTIMISTIC = int(np.sum(predicted & ~collapsed))           # the two counts swapped
TOO_PESSIMISTIC = int(np.sum(collapsed & ~predicted))
''',
    "envelope_vs_des": '''
DES_SPIKE = 1.6
DES_DURATIONS = [2.0, 6.0, 10.0]
DES_SEEDS = [0, 1, 2, 3, 4]
DES_COLLAPSED_SHARE = {}
for duration in DES_DURATIONS:
    params = {"spike_factor": DES_SPIKE, "spike_duration_s": duration, "horizon_s": 300}
    recovered = [simkit.run("retry-storm", params, seed=seed).summary["recovered"] for seed in DES_SEEDS]
    DES_COLLAPSED_SHARE[duration] = sum(recovered) / len(DES_SEEDS)   # the share that recovered
ENVELOPE_WRONG_AT = {duration for duration in DES_DURATIONS
                     if envelope_predicts_collapse(DES_SPIKE, duration, 70, 100, 1.0, 3)
                     != (DES_COLLAPSED_SHARE[duration] > 0.5)}
''',
    "commander_plan": '''
PLAN = []   # wait for the storm to pass
''',
}

#: the failure of each mistaken cell names its own mistake (not a neighbour's)
MISTAKE_NAMED = {
    "test_utilisation": "above 1 are allowed",
    "test_erlang_c_wait_s": "ZeroDivisionError: at rho = 1",
    "test_goodput_share": "goodput_share on another result",
    "test_max_amplification": "max_amplification(2, layers=5)",
    "test_token_bucket_budget": "never more",
    "test_reproduce": "GOODPUT_SHARE_AFTER_SPIKE",
    "test_whatif_wasted": "NO_RETRY_WASTED_SHARE",
    "test_whatif_vulnerable": "RECOVERED_SHARE",
    "test_whatif_backoff": "BACKOFF_AMPLIFICATION_END",
    "test_whatif_budget": "BUDGET_GOODPUT_END_RPS",
    "test_spike_needed_s": "exactly the capacity",
    "test_envelope": "long enough (>=)",
    "test_envelope_vs_map": "TOO_OPTIMISTIC",
    "test_envelope_vs_des": "DES_COLLAPSED_SHARE",
    "test_plan_low": "band 'bottom'",
    "test_plan_middle": "band 'bottom'",
    "test_plan_top": "band 'bottom'",
}

#: judged again in the mistakes' kernel: every action at once at the page (seed 2's page, 00:01:10)
EVERY_ACTION_AT_ONCE = '''
PLAN = [("00:01:10", action) for action in ("shed_load", "retry_budget", "add_capacity", "pause_clients",
                                             "resume_clients")]
'''

#: every experiment answer and the plan taken from the lab's own prose (the functions are right)
COPIED = {
    "reproduce_answers": '''
AMPLIFICATION_AFTER_SPIKE = 235 / 70   # "asked for about 235 requests per second" while 70 arrive
GOODPUT_SHARE_AFTER_SPIKE = 0.2        # "only about a fifth of what it completes reaches a caller"
''',
    "whatif_wasted": '''
NO_RETRY_WASTED_SHARE = 2 / 3          # "only about a third ... reached a caller who was still waiting"
''',
    "whatif_vulnerable": '''
BASES = [40, 45, 50, 55, 60]
SEEDS = [0, 1, 2, 3, 4]
# "at 45 ... on some nights the default spike tips it over"; "exceeds the capacity only once the base load passes 50"
RECOVERED_SHARE = {40: 1.0, 45: 0.6, 50: 0.4, 55: 0.0, 60: 0.0}
SAFE_BASE_RPS = 40
NEVER_BASE_RPS = 55
''',
    "whatif_backoff": '''
BACKOFF_RECOVERS = False               # "against a queue that stays full it is no help"
BACKOFF_AMPLIFICATION_END = 4          # "up to (k + 1) times its normal load"
''',
    "whatif_budget": '''
BUDGET_GOODPUT_END_RPS = 70            # "the offered load is back at 70 per second"
BUDGET_RECOVERED_AT_S = 90 + 20        # "about as fast as without any retries": "within 20 seconds of the spike's end"
''',
    "envelope_vs_map": '''
ENVELOPE_AGREEMENT = 1.0
TOO_OPTIMISTIC = 0
TOO_PESSIMISTIC = 0                    # "The envelope never predicted a collapse where the map recovered"
''',
    "envelope_vs_des": '''
DES_SPIKE = 1.6
DES_DURATIONS = [2.0, 6.0, 10.0]
DES_SEEDS = [0, 1, 2, 3, 4]
# "At 1.6x the discrete model tips over after spikes of about 4 to 6 seconds on most seeds, where the envelope asks
# for 8.3"
DES_COLLAPSED_SHARE = {2.0: 0.0, 6.0: 0.8, 10.0: 1.0}
ENVELOPE_WRONG_AT = {6.0}
''',
    # the plain-Python example of Part 5: incident.tick(13) (00:01:05), incident.act("add_capacity")
    "commander_plan": '''
PLAN = [("00:01:05", "add_capacity")]
''',
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lab_workdir(tmp_path_factory, LAB)


def _verdicts(verdicts: list[CellVerdict]) -> dict[str, tuple[bool, str]]:
    return {v.grade_id: (v.passed, v.message) for v in verdicts}


def _graded(answers: dict[str, str], workdir: Path,
            plans_after: dict[str, str] | None = None) -> tuple[dict, dict[str, dict]]:
    """Each test cell's (passed, message); then, per plan in ``plans_after``, the plan cells' verdicts
    with that plan run in the same kernel after the notebook."""
    nb = solution_with(LAB, answers)
    kernel = KernelTransport(cwd=str(workdir))
    try:
        graded = _verdicts(run_judged(nb, kernel))
        replans = {}
        if plans_after:
            judge = Judge(kernel, [c.source for c in nb.cells if ph.grade_id(c) == "setup"])
            plan_cells = [c for c in nb.cells if ph.grade_id(c) in COMMANDER_GRADED]
            for name, source in plans_after.items():
                failed, outputs = kernel.execute(source)
                assert not failed, f"the plan {name!r} did not run: {outputs}"
                replans[name] = {}
                for cell in plan_cells:
                    verdict = judge.run_test_cell(cell.source)
                    replans[name][ph.grade_id(cell)] = (verdict.passed, _message(verdict.outputs))
    finally:
        kernel.close()
    return graded, replans


def test_right_answers_in_another_style_get_every_point(workdir: Path) -> None:
    graded, _ = _graded(ANOTHER_STYLE, workdir)
    assert set(graded) == FUNCTIONS_GRADED | EXPERIMENTS_GRADED | COMMANDER_GRADED
    failed = {gid: message for gid, (passed, message) in graded.items() if not passed}
    assert not failed, f"right answers in another style lost points: {failed}"


def test_plausible_mistakes_lose_the_points_of_their_cells(workdir: Path) -> None:
    graded, replans = _graded(MISTAKES, workdir, {"every action at once": EVERY_ACTION_AT_ONCE})
    failed = {gid for gid, (passed, _) in graded.items() if not passed}
    expected = FUNCTIONS_GRADED | EXPERIMENTS_GRADED | COMMANDER_GRADED
    assert failed == expected, (
        f"should fail: {sorted(expected - failed)}; should pass: {sorted(failed - expected)}; "
        f"messages: { {gid: graded[gid][1] for gid in failed ^ expected} }")
    misnamed = {gid: graded[gid][1] for gid, words in MISTAKE_NAMED.items() if words not in graded[gid][1]}
    assert not misnamed, f"these failures do not name their cell's own mistake: {misnamed}"
    hidden_only = {"test_goodput_share", "test_reproduce", "test_whatif_wasted", "test_whatif_vulnerable",
                   "test_whatif_backoff", "test_whatif_budget", "test_envelope_vs_map", "test_envelope_vs_des"}
    visible = {gid for gid in hidden_only if "a hidden test failed" not in graded[gid][1]}
    assert not visible, f"these mistakes should slip past the visible checks and fail a hidden test only: {visible}"
    # mashing every button at the page is a real response (the loop is broken) but not a good one
    at_once = replans["every action at once"]
    assert {gid for gid, (passed, _) in at_once.items() if not passed} == {"test_plan_top"}, at_once


def test_answers_copied_from_the_text_earn_no_experiment_point(workdir: Path) -> None:
    graded, _ = _graded(COPIED, workdir)
    earned = {gid for gid, (passed, _) in graded.items() if passed}
    # The text's only plan, the plain-Python example (more workers at seed 0's page), shows how
    # to act, not what to do: alone it stays in the bottom band.
    assert earned == FUNCTIONS_GRADED, (
        f"copied numbers earned {sorted(earned - FUNCTIONS_GRADED)}; lost {sorted(FUNCTIONS_GRADED - earned)}")
    assert "bottom" in graded["test_plan_low"][1], graded["test_plan_low"][1]
