"""How much does the kit cost? The retry storm in the kit vs the same storm in bare SimPy.

Runs the kit's ``retry-storm`` scenario and a reference model of the same storm
written with plain SimPy and nothing from the kit (below: Poisson arrivals with one
load spike, ``workers`` servers, a bounded queue served in FIFO or random order, a
per-attempt timeout, immediate retries, and servers that keep working on requests
whose caller gave up). Both
run in this process with the kit's default parameters over the storm alone
(``horizon_s`` = ``STORM_HORIZON_S``, 300 s: the bare model has no maintenance window).

Reported, each the median of ``--repeats`` runs after a warm-up:

* wall time of a whole run (build, simulate, collect the results);
* kernel events processed (counted in a separate run by wrapping ``env.step``,
  the same way for both) and events per second;
* the ratio of the kit's events/s to bare SimPy's. Target: >= 0.7;
* the wall time of the kit's default run: the commander game's eight-minute incident
  with the database maintenance, played without actions (the storm throughout, the
  dearest run there is). Target: < 2 s (on a 2-core machine).

A side-by-side summary shows that the two models tell the same story (goodput
before the spike, collapse after it); their random streams differ, so the
numbers agree statistically, not exactly.

Usage: ``python benchmarks/bench_retry_storm.py [--repeats 5] [--seed 0]``
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import deque
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import StepCounter, alternating_medians, machine, table, verdict  # noqa: E402

from simkit.scenarios import retry_storm  # noqa: E402

TARGET_RATIO = 0.7
TARGET_RUN_S = 2.0
#: The storm alone, as lab 0's experiments run it.
STORM = {"horizon_s": retry_storm.STORM_HORIZON_S}
#: The default run: the commander game's incident.
GAME_S = retry_storm.Params().horizon_s


# -- the reference model: plain SimPy, no kit ------------------------------------------------------
class BareRetryStorm:
    """The retry storm with nothing but ``simpy``, ``random`` and lists of counts per second."""

    def __init__(self, seed: int, *, base_load_rps: float, spike_factor: float, spike_start_s: float,
                 spike_duration_s: float, workers: int, mean_service_s: float, timeout_s: float,
                 max_retries: int, horizon_s: float, queue_limit: int, queue_discipline: str) -> None:
        self.env = simpy.Environment()
        self.base, self.factor = base_load_rps, spike_factor
        self.spike_start, self.spike_end = spike_start_s, spike_start_s + spike_duration_s
        self.workers, self.mean_service_s = workers, mean_service_s
        self.timeout_s, self.max_retries, self.horizon_s = timeout_s, max_retries, horizon_s
        self.queue_limit, self.random_order = queue_limit, queue_discipline == "random"
        self.arrivals_rng = random.Random(f"{seed}/arrivals")
        self.service_rng = random.Random(f"{seed}/service")
        self.order_rng = random.Random(f"{seed}/order")
        n = max(1, math.ceil(horizon_s))  # one-second buckets
        self.n = n
        names = ("offered", "attempts", "answered", "success", "timeouts", "failed",
                 "served", "useful", "wasted", "latency_sum", "latency_n", "queue_length", "busy")
        self.c = {name: [0.0] * n for name in names}
        self.queue: deque = deque()
        self.busy = 0
        self.env.process(self.arrivals())
        self.env.process(self.sampler())

    def bucket(self, t: float) -> int:
        i = int(t)
        return i if i < self.n else self.n - 1

    # load: a base rate with one spike
    def rate_at(self, t: float) -> float:
        return self.base * self.factor if self.spike_start <= t < self.spike_end else self.base

    def next_change(self, t: float) -> float:
        if t < self.spike_start:
            return self.spike_start
        return self.spike_end if t < self.spike_end else math.inf

    def arrivals(self):
        env, rng, offered = self.env, self.arrivals_rng, self.c["offered"]
        while True:
            rate, change = self.rate_at(env.now), self.next_change(env.now)
            gap = rng.expovariate(rate)
            if env.now + gap >= change:
                yield env.timeout(change - env.now)  # the rate changes first: draw again
                continue
            yield env.timeout(gap)
            offered[self.bucket(env.now)] += 1
            env.process(self.call())

    # the caller: attempt, wait up to the timeout, retry at once
    def call(self):
        env, c = self.env, self.c
        arrived = env.now
        for _attempt in range(self.max_retries + 1):
            c["attempts"][self.bucket(env.now)] += 1
            job = [env.event(), False]  # [done event, abandoned by the caller]
            self.submit(job)
            if not job[0].triggered:
                env.timeout(self.timeout_s).callbacks.append(lambda _e, job=job: self.give_up(job))
            outcome = yield job[0]
            if outcome == "ok":
                now = self.bucket(env.now)
                c["success"][now] += 1
                c["answered"][self.bucket(arrived)] += 1
                c["latency_sum"][now] += env.now - arrived
                c["latency_n"][now] += 1
                return
            if outcome == "timeout":
                c["timeouts"][self.bucket(env.now)] += 1
        c["failed"][self.bucket(env.now)] += 1

    @staticmethod
    def give_up(job) -> None:
        if not job[0].triggered:
            job[1] = True  # the server is not told
            job[0].succeed("timeout")

    # the server: workers and a bounded queue; abandoned work is still done
    def submit(self, job) -> None:
        if self.busy < self.workers:
            self.start(job)
        elif len(self.queue) >= self.queue_limit:
            job[0].succeed("rejected")  # turned away at the door: the caller retries at once
        else:
            self.queue.append(job)

    def start(self, job) -> None:
        self.busy += 1
        work = self.service_rng.expovariate(1.0 / self.mean_service_s)
        self.env.timeout(work).callbacks.append(lambda _e: self.finish(job))

    def finish(self, job) -> None:
        self.busy -= 1
        i = self.bucket(self.env.now)
        self.c["served"][i] += 1
        if job[1]:
            self.c["wasted"][i] += 1
        else:
            self.c["useful"][i] += 1
            job[0].succeed("ok")
        if self.queue:
            if self.random_order:
                index = int(self.order_rng.random() * len(self.queue))
                job = self.queue[index]
                del self.queue[index]
            else:
                job = self.queue.popleft()
            self.start(job)

    def sampler(self):
        while True:
            i = self.bucket(self.env.now)
            self.c["queue_length"][i] = len(self.queue)
            self.c["busy"][i] = self.busy
            yield self.env.timeout(1.0)

    def run(self) -> dict:
        self.env.run(until=self.horizon_s)
        return self.summary()

    def summary(self) -> dict:
        s = {k: np.asarray(v) for k, v in self.c.items()}
        t = np.arange(self.n, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            error = np.where(s["offered"] > 0, 1 - np.minimum(s["answered"] / np.maximum(s["offered"], 1), 1), 0.0)
        settled = t < self.horizon_s - self.timeout_s * (self.max_retries + 1)
        before = (t >= 10) & (t < self.spike_start)
        tail = (t >= max(self.horizon_s - 60, self.spike_end)) & settled
        return {
            "goodput_before_rps": float(s["useful"][before].mean()),
            "goodput_end_rps": float(s["useful"][t >= max(self.horizon_s - 60, self.spike_end)].mean()),
            "attempts_end_rps": float(s["attempts"][t >= max(self.horizon_s - 60, self.spike_end)].mean()),
            "error_rate_end": float(error[tail].mean()) if tail.any() else float("nan"),
            "wasted_share": float(s["wasted"].sum() / max(1.0, s["served"].sum())),
        }


def bare_params(p: retry_storm.Params) -> dict:
    """The kit's default parameters, as plain numbers for the bare model."""
    if p.retry_policy != "immediate" or p.queue_discipline == "lifo" or p.queue_deadline_s:
        raise SystemExit("the bare model covers retry_policy='immediate', a FIFO or random queue, no deadline")
    return dict(base_load_rps=p.base_load_rps, spike_factor=p.spike_factor, spike_start_s=p.spike_start_s,
                spike_duration_s=p.spike_duration_s, workers=p.workers, mean_service_s=p.mean_service_s,
                timeout_s=p.timeout_s, max_retries=p.max_retries, horizon_s=p.horizon_s,
                queue_limit=p.queue_limit, queue_discipline=p.queue_discipline)


# -- measuring -------------------------------------------------------------------------------------
def kit_events(seed: int) -> int:
    model = retry_storm.Model(STORM, seed)
    counter = StepCounter(model.world.env)
    model.advance_to(model.horizon_s)
    model.result()
    return counter.events


def bare_events(seed: int, params: dict) -> int:
    model = BareRetryStorm(seed, **params)
    counter = StepCounter(model.env)
    model.run()
    return counter.events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per model (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    defaults = retry_storm.Params(**STORM)
    params = bare_params(defaults)
    seed = args.seed

    timed = alternating_medians(
        {"kit": lambda: retry_storm.Model.run(STORM, seed=seed),
         "bare": lambda: BareRetryStorm(seed, **params).run(),
         "game": lambda: retry_storm.Model.run(seed=seed)},
        repeats=args.repeats,
    )
    (kit_s, kit_times), (bare_s, bare_times) = timed["kit"], timed["bare"]
    game_s, game_times = timed["game"]
    kit_n, bare_n = kit_events(seed), bare_events(seed, params)
    kit_rate, bare_rate = kit_n / kit_s, bare_n / bare_s
    ratio = kit_rate / bare_rate

    print(f"retry-storm, kit vs bare SimPy: default parameters, the storm alone ({retry_storm.STORM_HORIZON_S:g} s), seed {seed}, "
          f"median of {args.repeats} alternating runs after a warm-up")
    print(machine())
    print()
    print(table(
        ["model", "wall s", "kernel events", "events/s", "min s", "max s"],
        [["kit (simkit.run)", kit_s, kit_n, kit_rate, min(kit_times), max(kit_times)],
         ["bare SimPy", bare_s, bare_n, bare_rate, min(bare_times), max(bare_times)]],
    ))
    print()
    print(f"events/s, kit / bare:    {ratio:.2f}   (target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})")
    print(f"wall time, kit / bare:   {kit_s / bare_s:.2f}")
    print(f"kit, the storm alone:    {kit_s:.2f} s")
    print(f"kit default run:         {game_s:.2f} s (the game's {GAME_S:g}-s incident, no actions; "
          f"min {min(game_times):.2f}, max {max(game_times):.2f}; target < {TARGET_RUN_S:g} s: "
          f"{verdict(game_s < TARGET_RUN_S)})")

    kit_summary = retry_storm.Model.run(STORM, seed=seed).summary
    bare_summary = BareRetryStorm(seed, **params).run()
    print()
    print("same storm? (different random streams: expect close, not equal)")
    print(table(["", "kit", "bare"], [[k, float(kit_summary[k]), float(v)] for k, v in bare_summary.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
