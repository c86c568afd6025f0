"""A learner's bad input gets a message naming the parameter, the value and the rule.

One table across the kit: each row builds something with one bad value and names
the exception type and a fragment the message must contain.
"""

import math

import pytest

import simkit
from simkit.client import Clients, LoadProfile
from simkit.commander import Incident, Plan, score
from simkit.metrics import Metrics
from simkit.policies import AdaptiveThrottle, CircuitBreaker, ExponentialBackoff, FixedRetry, RetryBudget
from simkit.scenarios import get
from simkit.scenarios.retry_storm import Params as StormParams
from simkit.service import Service
from simkit.world import World


def _service(**kw):
    return Service(World(0, horizon_s=10), **kw)


BAD_INPUTS = [
    ("negative timeout", lambda: StormParams(timeout_s=-1), ValueError, "timeout_s = -1 is not allowed: must be a number > 0 and <= 600 (s)"),
    ("zero timeout", lambda: StormParams(timeout_s=0), ValueError, "timeout_s = 0 is not allowed"),
    ("string workers", lambda: StormParams(workers="ten"), TypeError, "workers = 'ten' is not allowed: must be an integer >= 1"),
    ("fractional workers", lambda: StormParams(workers=2.5), TypeError, "workers = 2.5 is not allowed"),
    ("bool as number", lambda: StormParams(base_load_rps=True), TypeError, "base_load_rps = True is not allowed"),
    ("nan load", lambda: StormParams(base_load_rps=math.nan), ValueError, "base_load_rps = nan is not allowed"),
    ("infinite load", lambda: StormParams(base_load_rps=math.inf), ValueError, "base_load_rps = inf"),
    ("unknown retry policy", lambda: StormParams(retry_policy="forever"), ValueError, "retry_policy = 'forever' is not allowed: must be one of 'none'"),
    ("too many retries", lambda: StormParams(max_retries=50), ValueError, "max_retries = 50 is not allowed: must be an integer >= 0 and <= 20"),
    ("spike past horizon", lambda: StormParams(spike_start_s=290, spike_duration_s=30, horizon_s=300), ValueError, "must end within horizon_s"),
    ("unknown parameter", lambda: simkit.run("retry-storm", {"timeout": 1}), TypeError, "no parameter 'timeout'"),
    ("unknown scenario", lambda: get("dynamo"), ValueError, "unknown scenario 'dynamo'"),
    ("params of wrong type", lambda: simkit.run("retry-storm", params=[1, 2]), TypeError, "params must be a Params or a dict"),
    ("negative seed", lambda: World(-1, horizon_s=10), TypeError, "seed = -1 is not allowed"),
    ("string seed", lambda: World("7", horizon_s=10), TypeError, "seed = '7' is not allowed"),
    ("zero workers in service", lambda: _service(workers=0), ValueError, "workers = 0 is not allowed: must be an integer >= 1"),
    ("bad discipline", lambda: _service(workers=1, discipline="sorted"), ValueError, "discipline = 'sorted' is not allowed: must be one of 'fifo', 'lifo', 'random'"),
    ("negative service time", lambda: _service(workers=1, mean_service_s=-0.1), ValueError, "mean_service_s = -0.1 is not allowed"),
    ("shed fraction above one", lambda: _service(workers=1, shed_fraction=1.5), ValueError, "shed_fraction = 1.5 is not allowed: must be a number >= 0 and <= 1"),
    ("negative retries", lambda: FixedRetry(max_retries=-1), ValueError, "max_retries = -1 is not allowed"),
    ("bad jitter", lambda: ExponentialBackoff(jitter="some"), ValueError, "jitter = 'some' is not allowed: must be one of 'none', 'full'"),
    ("cap below base", lambda: ExponentialBackoff(base_s=2, cap_s=1), ValueError, "cap_s = 1 is not allowed: must be >= base_s"),
    ("budget ratio above one", lambda: RetryBudget(ratio=2), ValueError, "ratio = 2 is not allowed"),
    ("breaker threshold zero", lambda: CircuitBreaker(failure_threshold=0), ValueError, "failure_threshold = 0 is not allowed"),
    ("throttle k below one", lambda: AdaptiveThrottle(k=0.5), ValueError, "k = 0.5 is not allowed"),
    ("empty load profile", lambda: LoadProfile([]), ValueError, "steps is not allowed to be empty"),
    ("negative rate", lambda: LoadProfile([(0, -5)]), ValueError, "requests_per_s = -5 is not allowed"),
    ("clients zero timeout", lambda: Clients(World(0, horizon_s=5), _service(workers=1), LoadProfile([(0, 1)]), timeout_s=0), ValueError, "timeout_s = 0 is not allowed"),
    ("metrics zero bucket", lambda: Metrics(0, 10), ValueError, "bucket_s and horizon_s must be > 0"),
    ("plan with unknown action", lambda: score("retry-storm", [(1, "reboot")]), ValueError, "plan action 'reboot' is not an action of retry-storm"),
    ("plan with bad time", lambda: score("retry-storm", [("25:99", "shed_load")]), ValueError, "plan time '25:99' is not allowed"),
    ("plan with negative time", lambda: score("retry-storm", [(-1, "shed_load")]), ValueError, "plan time -1 is not allowed"),
    ("plan step malformed", lambda: Plan([("shed_load",)]), ValueError, "plan step ('shed_load',) is not allowed"),
    ("plan not a list", lambda: Plan.coerce(42), TypeError, "a plan must be a list"),
    ("tick of zero", lambda: Incident("retry-storm").tick(0), ValueError, "n = 0 is not allowed"),
]


@pytest.mark.parametrize("case, build, error, fragment", BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_is_named_in_the_message(case, build, error, fragment):
    with pytest.raises(error) as info:
        build()
    assert fragment in str(info.value), f"{case}: message was {str(info.value)!r}"
