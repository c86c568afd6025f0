"""``dynamodb-2015``: DynamoDB in US-East, 20 September 2015, the GSI membership blowup.

Read it in this order, each file a few screens:

* :mod:`.params`: the knobs and their calibrated defaults;
* :mod:`.metadata`: the metadata service (finite capacity, slower under load,
  keeps working for callers who gave up);
* :mod:`.fleet`: membership size with GSIs, the renewal process, customer errors;
* :mod:`.dependents`: SQS, Auto Scaling, CloudWatch and the Console login;
* :mod:`.operators`: what the operators could do, and what each lever could and
  could not do that night;
* :mod:`.model`: the run, the trigger at 02:19, the page and the scoring.

The incident, paraphrased from AWS's summary (https://aws.amazon.com/message/5467D2/):
storage servers must renew their partition membership with a metadata service.
GSIs had quietly made memberships two to three times larger, so the biggest ones
took nearly the servers' whole allowance to process. A short network disruption
sent many renewals at once; they slowed each other past the allowance; servers
dropped out of service and retried, and the retries kept the service overloaded
for hours, until operators paused the requests, added capacity and resumed.
"""

from .fleet import membership_size, renewal_process
from .metadata import standalone_processing_s
from . import dependents, fleet, metadata, model, operators
from .model import HISTORICAL_PLAN, INTENDED_PLAN, Model, run, tipping_gsi_factor
from .params import RETRY_POLICIES, Params

__all__ = ["Params", "Model", "run", "membership_size", "renewal_process",
           "standalone_processing_s", "tipping_gsi_factor", "RETRY_POLICIES", "HISTORICAL_PLAN",
           "INTENDED_PLAN"]
