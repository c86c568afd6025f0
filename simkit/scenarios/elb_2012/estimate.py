"""Back-of-the-envelope blast radius: how many load balancers will be damaged by time T?

A load balancer is damaged the first time any workflow touches it while its
record is missing. Workflows reach a given load balancer as a Poisson stream of
rate ``r`` (touches per hour, all kinds together), so the chance that it has
been touched at least once after ``T`` hours is ``1 - exp(-r T)``. Only the
``deleted_share`` of load balancers whose record is missing can be damaged::

    damaged share  =  deleted_share x (1 - exp(-r x T))

For small ``r T`` this grows almost linearly (about ``deleted_share x r x T``): the
damage keeps growing for as long as the workflows run, and stops the moment
they are disabled. :func:`touch_rate_per_h` turns the scenario's parameters into
``r`` (the scaling rate follows the traffic curve, so it is averaged over the
window).
"""

from __future__ import annotations

import math

from .parameters import CLOCK_START_S, Params
from .traffic import TrafficCurve

__all__ = ["blast_radius", "touch_rate_per_h"]


def blast_radius(deleted_share: float, touch_rate_per_h: float, hours: float) -> float:
    """Expected share of load balancers damaged ``hours`` after the deletion, workflows on."""
    if hours <= 0:
        return 0.0
    return deleted_share * (1.0 - math.exp(-touch_rate_per_h * hours))


def touch_rate_per_h(params: Params, start_s: float, end_s: float) -> float:
    """Mean rate at which workflows touch one load balancer between ``start_s`` and ``end_s``.

    Customer changes come at a constant rate; scaling workflows at
    ``scaling_rate_per_lb_h`` times the traffic level, averaged over the window.
    """
    if end_s <= start_s:
        raise ValueError(f"end_s = {end_s!r} is not allowed: must be > start_s ({start_s!r})")
    curve = TrafficCurve(CLOCK_START_S, params.christmas_eve_boost)
    hours = (end_s - start_s) / 3600.0
    mean_traffic = curve.integral_h(start_s, end_s) / hours
    return params.customer_change_rate_per_lb_h + params.scaling_rate_per_lb_h * mean_traffic
