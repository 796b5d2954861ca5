"""The MPP's day as the simulator models it: opening hours, breaks and a cumulative service curve.

Served counts follow a curve over local opening hours (a morning and an afternoon peak, a
longer break on Fridays for Jumat prayers), cached per day type, so a simulated day ends near
its target and the hourly panel looks like a real one. ``MppQueues``, a mixin of
``feeds.simulator.CitySimulator``, turns the curve into each agency's plan for the day and
its queue at a given minute.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime
from functools import lru_cache

from feeds.city import AgencySpec, CityProfile, MppHours

# The MPP's day: a cumulative curve over opening hours, cached per day type and hours.

#: Monday to Friday, 08:00 to 16:00, as the shipped config opens the MPP.
SHIPPED_HOURS = MppHours()
BREAKS: dict[bool, tuple[int, int]] = {False: (12 * 60, 13 * 60), True: (11 * 60 + 30, 13 * 60 + 30)}  # Friday: Jumat prayers
#: (morning peak weight, afternoon peak weight): balanced, morning-heavy, afternoon-heavy.
MPP_VARIANTS: tuple[tuple[float, float], ...] = ((1.0, 0.75), (1.3, 0.55), (0.8, 0.95))


def _service_rate(minute: float, friday: bool, variant: int, hours: MppHours) -> float:
    """Relative rate of served tickets at a minute of the day: two peaks, nothing in the break."""
    start, end = BREAKS[friday]
    if minute < hours.opens_min or minute >= hours.closes_min or start <= minute < end:
        return 0.0
    morning, afternoon = MPP_VARIANTS[variant]
    rate = 0.25 + morning * math.exp(-(((minute - 600) / 60) ** 2))  # peak around 10:00
    rate += afternoon * math.exp(-(((minute - (end + 50)) / 45) ** 2))  # peak ~50 min after the break
    if minute > hours.closes_min - 30:  # counters wind down before closing
        rate *= 0.3 + 0.7 * (hours.closes_min - minute) / 30
    return rate


@lru_cache(maxsize=8)
def _cumulative_profile(friday: bool, variant: int, hours: MppHours) -> tuple[float, ...]:
    """F[m] for m = 0.. minutes after opening: share of the day's tickets served, 0 -> 1."""
    acc, out = 0.0, [0.0]
    for m in range(hours.closes_min - hours.opens_min):
        acc += _service_rate(hours.opens_min + m + 0.5, friday, variant, hours)
        out.append(acc)
    return tuple(v / acc for v in out) if acc else tuple(out)


def mpp_day_fraction(local: datetime, variant: int = 0, hours: MppHours = SHIPPED_HOURS) -> float:
    """Share of the day's MPP tickets served by ``local`` (the city's time): 0 before it
    opens, 1 after it closes, 0 all day on a weekday it does not open.

    Piecewise linear between minutes, hence monotonic; the same curve drives the served
    counts whether the simulator started at 07:00 or at 14:00.
    """
    if not hours.open_on(local.date()):
        return 0.0
    minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6
    if minute <= hours.opens_min:
        return 0.0
    if minute >= hours.closes_min:
        return 1.0
    profile = _cumulative_profile(local.weekday() == 4, variant, hours)
    offset = minute - hours.opens_min
    i = int(offset)
    return profile[i] + (profile[i + 1] - profile[i]) * (offset - i)


def _slope(friday: bool, variant: int, minute: int, hours: MppHours) -> float:
    """Fraction of the day's tickets served in the minute starting at ``minute`` of the day."""
    if not hours.opens_min <= minute < hours.closes_min:
        return 0.0
    profile = _cumulative_profile(friday, variant, hours)
    i = minute - hours.opens_min
    return profile[i + 1] - profile[i]


@lru_cache(maxsize=8)
def _peak_slope(friday: bool, variant: int, hours: MppHours) -> float:
    """The busiest minute of the day type, to express the current load as 0..1."""
    return max(_slope(friday, variant, m, hours) for m in range(hours.opens_min, hours.closes_min))


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split an integer total by weights so that the parts sum exactly to it."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


class MppQueues:
    """Each MPP agency's day and queue for ``CitySimulator``; what they read is declared here."""

    city: CityProfile
    agencies: tuple[AgencySpec, ...]
    mpp_target_normal: int
    mpp_target_busy: int
    _rng: random.Random
    _token: str
    _mpp_plans: dict[date, list[int]]

    def _mpp_plan(self, day: date) -> list[int]:
        """Tickets each agency serves on ``day``: the day's target +-3%, split by share +-10%.

        A pure function of (seed, date), so a simulator started at 14:00 shows the counts
        the morning would have produced.
        """
        plan = self._mpp_plans.get(day)
        if plan is not None:
            return plan
        if not self.city.mpp_hours.open_on(day):
            plan = [0] * len(self.agencies)
        else:
            r = random.Random(f"mpp:{self._token}:{day.isoformat()}")
            target = self.mpp_target_busy if day.weekday() in self.city.busy_weekdays else self.mpp_target_normal
            total = round(target * r.uniform(0.97, 1.03))
            plan = _largest_remainder(total, [a.share * r.uniform(0.9, 1.1) for a in self.agencies])
        if len(self._mpp_plans) > 16:
            self._mpp_plans.clear()
        self._mpp_plans[day] = plan
        return plan

    def _served(self, i: int, plan: list[int], local: datetime) -> int:
        return min(plan[i], int(plan[i] * mpp_day_fraction(local, i % len(MPP_VARIANTS), self.city.mpp_hours) + 1e-9))

    def _mpp_open(self, local: datetime) -> bool:
        hours, minute = self.city.mpp_hours, local.hour * 60 + local.minute
        return hours.open_on(local.date()) and hours.opens_min <= minute < hours.closes_min

    def _queue_now(self, i: int, plan: list[int], local: datetime) -> tuple[str, int, int, float]:
        """(serviceStatus, waiting, being served, average wait in minutes) by Little's law."""
        spec = self.agencies[i]
        if not self._mpp_open(local):
            return "Closed", 0, 0, 0.0
        variant, hours = i % len(MPP_VARIANTS), self.city.mpp_hours
        friday = local.weekday() == 4
        minute = local.hour * 60 + local.minute
        b0, b1 = BREAKS[friday]
        if b0 <= minute < b1:  # istirahat: people keep waiting, nobody is served
            rate = plan[i] * _slope(friday, variant, b0 - 1, hours)
            waiting = round(rate * spec.base_wait_min * 0.8 * self._rng.uniform(0.9, 1.1))
            return "Suspended", waiting, 0, round(spec.base_wait_min * 1.5, 1)
        rate = plan[i] * _slope(friday, variant, minute, hours)  # tickets per minute
        load = min(1.0, rate / (plan[i] * _peak_slope(friday, variant, hours) or 1.0))
        wait = spec.base_wait_min * (0.5 + 1.2 * load) * self._rng.uniform(0.9, 1.1)
        waiting = round(rate * wait)
        serving = min(spec.counters, math.ceil(rate * spec.service_min)) if plan[i] else 0
        return "Open", waiting, serving, round(wait, 1)
