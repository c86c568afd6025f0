"""The daily traffic curve of the region's load balancers, Christmas Eve included.

Traffic matters to this scenario in two ways. Busy hours bring more *scaling*
workflows (a load balancer adds or removes nodes as its traffic moves), so the
control plane touches more load balancers in the evening than at 4 AM. And the
customer-facing error rate is traffic-weighted: a damaged load balancer hurts
more at the evening peak.

The curve is relative (a typical midday is about 1.0) and piecewise linear in the
hour of day, which keeps it easy to read and to integrate. On Monday 24 December
2012 (the day of the incident) streaming traffic rose well above a normal
evening: :class:`TrafficCurve` adds a bump on that evening, from 15:00 to
midnight, highest at 20:00.
"""

from __future__ import annotations

from bisect import bisect_right

__all__ = ["ORDINARY_DAY", "TrafficCurve"]

#: (hour of day, relative traffic) on an ordinary day; the curve is linear between points.
ORDINARY_DAY: tuple[tuple[float, float], ...] = (
    (0.0, 0.85), (3.0, 0.50), (5.0, 0.45), (7.0, 0.60), (9.0, 0.90), (12.0, 1.05),
    (15.0, 1.10), (18.0, 1.25), (21.0, 1.35), (24.0, 0.85),
)

_HOURS = [h for h, _ in ORDINARY_DAY]
_LEVELS = [v for _, v in ORDINARY_DAY]

#: The Christmas Eve bump: it starts, peaks and ends at these hours of 24 December.
EVE_START_H, EVE_PEAK_H, EVE_END_H = 15.0, 20.0, 24.0


def ordinary_level(hour: float) -> float:
    """Relative traffic at ``hour`` (0-24) of an ordinary day (linear interpolation)."""
    i = min(bisect_right(_HOURS, hour), len(_HOURS) - 1)
    h0, h1 = _HOURS[i - 1], _HOURS[i]
    v0, v1 = _LEVELS[i - 1], _LEVELS[i]
    return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)


def eve_bump(hour: float) -> float:
    """Shape of the Christmas Eve extra traffic, 0 outside 15:00-24:00 and 1 at 20:00."""
    if hour <= EVE_START_H or hour >= EVE_END_H:
        return 0.0
    if hour <= EVE_PEAK_H:
        return (hour - EVE_START_H) / (EVE_PEAK_H - EVE_START_H)
    return (EVE_END_H - hour) / (EVE_END_H - EVE_PEAK_H)


class TrafficCurve:
    """Relative traffic at simulated time ``t_s``.

    ``clock_start_s`` is the time of day simulated time 0 stands for, on Monday 24
    December (day 0). ``eve_boost`` is the extra share of traffic at 20:00 on that
    day (0.3 means 30% above an ordinary evening).
    """

    def __init__(self, clock_start_s: float, eve_boost: float) -> None:
        self.clock_start_s = float(clock_start_s)
        self.eve_boost = float(eve_boost)
        #: an upper bound of the curve, used to thin a Poisson stream by it
        self.max_level = max(_LEVELS) * (1.0 + self.eve_boost)

    def level(self, t_s: float) -> float:
        """Relative traffic at simulated time ``t_s``."""
        seconds = self.clock_start_s + t_s
        day, hour = int(seconds // 86400), (seconds % 86400) / 3600.0
        value = ordinary_level(hour)
        if day == 0 and self.eve_boost:
            value *= 1.0 + self.eve_boost * eve_bump(hour)
        return value

    def rising(self, t_s: float) -> bool:
        """True if traffic is higher five minutes later (a scale-up is due, not a scale-down)."""
        return self.level(t_s + 300.0) > self.level(t_s)

    def integral_h(self, start_s: float, end_s: float, step_s: float = 60.0) -> float:
        """Integral of the curve over ``[start_s, end_s]``, in hours (trapezoids of ``step_s``)."""
        if end_s <= start_s:
            return 0.0
        n = max(1, int(round((end_s - start_s) / step_s)))
        width = (end_s - start_s) / n
        total = 0.5 * (self.level(start_s) + self.level(end_s))
        total += sum(self.level(start_s + k * width) for k in range(1, n))
        return total * width / 3600.0
