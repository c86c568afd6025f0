"""``elb-2012``: Elastic Load Balancing, US-East, Christmas Eve 2012. Automation acting on wrong state.

What happened (paraphrased from AWS's summary, https://aws.amazon.com/message/680587/):
at 12:24 PM PST on 24 December 2012 a maintenance process, run by mistake
against production, logically deleted part of the ELB control plane's *state
data*, the records it keeps about each load balancer. Running load balancers do
not need those records to serve traffic; control-plane workflows do. Every
workflow that then touched a load balancer whose record was gone (a customer's
configuration change, an automatic scale-up or scale-down) misconfigured it, and
its customers' traffic suffered. New load balancers worked fine, which puzzled
the team. At 5:02 PM workflows were disabled: 6.8% of running load balancers
were affected. A first restore attempt took hours and gave no usable snapshot,
an alternate method worked at 2:45 AM, merging the changes made since took about
three hours, workflows came back slowly, and ELB was declared normal at 12:05 PM
on Christmas Day.

What the model shows:

1. **Not a metastable failure.** There is no feedback loop keeping the system
   down. The damage grows because automation keeps acting on missing records,
   one load balancer at a time, at the workflows' rate. Disable the workflows
   and it stops growing *at once* (compare Lab 1, where pausing load alone did
   not end the collapse).
2. **Blast radius = exposure x rate x time.** :mod:`.estimate` predicts the
   damaged share from the deleted share and the workflow rates.
3. **Restore vs reconcile.** A restore rewinds the records to the snapshot and
   loses what customers changed since, unless the journal is merged. Reconciling
   each record against the load balancer's live configuration needs no snapshot
   at all (the corrective action AWS announced).
4. **Re-enable gradually.** Switching all workflows on at once releases the
   queued work in one burst, beyond the control plane's capacity, and breaks
   healthy load balancers. *This burst is the model's assumption, not a fact
   from the record*: AWS only wrote that it re-enabled the workflows slowly so
   as not to affect healthy load balancers.

Modules, each a few screens, in reading order: :mod:`.parameters` (``Params``),
:mod:`.traffic` (the daily curve), :mod:`.fleet` (a load balancer, a workflow, restore,
merge, reconcile), :mod:`.estimate` (blast radius), :mod:`.region` (the records, the
journal, the snapshot), :mod:`.workload` (the workflows and their queue),
:mod:`.switches` (turning workflows off and on), :mod:`.sweep` (reconciliation),
:mod:`.recovery` (the restore's state machine), :mod:`.readings` (the monitors),
:mod:`.game` (the page, the rubric, the reference plans) and :mod:`.model` (``Model``).

Plugging in a learner's code::

    from simkit.scenarios import elb_2012
    result = elb_2012.run(seed=0, apply_workflow=my_apply_workflow, reconcile_lb=my_reconcile_lb)
"""

from __future__ import annotations

from .estimate import blast_radius, touch_rate_per_h
from .fleet import (
    Config,
    JournalEntry,
    LoadBalancer,
    Workflow,
    apply_workflow,
    merge_journal,
    reconcile_lb,
    restore_from_snapshot,
)
from .model import HISTORICAL_PLAN, INTENDED_PLAN, KINDS, Model
from .parameters import CLOCK_START_S, Params
from .recovery import Recovery, Stage
from .traffic import TrafficCurve


__all__ = [
    "Params",
    "Model",
    "run",
    "Config",
    "LoadBalancer",
    "Workflow",
    "JournalEntry",
    "apply_workflow",
    "reconcile_lb",
    "restore_from_snapshot",
    "merge_journal",
    "blast_radius",
    "touch_rate_per_h",
    "TrafficCurve",
    "KINDS",
    "Recovery",
    "Stage",
    "HISTORICAL_PLAN",
    "INTENDED_PLAN",
    "CLOCK_START_S",
]

run = Model.run
