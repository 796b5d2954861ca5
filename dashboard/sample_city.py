"""A simulated city in a memory store: the simulator's payloads replayed through the real ingest path.

Browser tests, the docs' screenshots and the tablet's metrics all need a wall that looks like a
working morning in the city, not a handful of hand-made rows: the simulator's Smart Data
Models payloads go through the normalizer into ``CityState.accept``, replayed over the last
hours so trends and the MPP's hourly curve exist, and a thread can keep the city moving while
a browser looks. It is in the package (not in ``tests/``) so scripts can use it without
importing the test suite; nothing in the product's running path imports it.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.config import WEEKDAYS, Config
from dashboard.ingest import CityState
from dashboard.picture import kpi_day_point, kpi_month_point, sample_kpis
from dashboard.runtime import build_normalizer
from dashboard.simulation import simulator_for
from dashboard.store.base import StateStore
from dashboard.store.memory import MemoryStore

ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _weekday_shift(now: datetime, config: Config) -> timedelta:
    """How far back the simulator's clock runs so its "today" is a working day.

    The MPP is closed on the days the config does not open it (weekends, as shipped, and
    its closed dates); a test
    or a screenshot taken on a Sunday should still show a working MPP. The day chosen is as
    busy as today by the config (the picture takes today's target from today), and the
    payloads' times are moved forward by the same amount, so for the store everything
    happened in the last hours."""
    busy, open_days, closed = set(config.mpp.busy_weekdays), set(config.mpp.open_weekdays), set(config.mpp.closed_dates)
    local = now.astimezone(ZoneInfo(config.city.timezone))

    def is_busy(day: datetime) -> bool:
        return WEEKDAYS[day.weekday()] in busy

    def is_open(day: datetime) -> bool:
        return WEEKDAYS[day.weekday()] in open_days and day.date() not in closed

    week = [local - timedelta(days=back) for back in range(7)]
    alike = (back for back, day in enumerate(week) if is_open(day) and is_busy(day) == is_busy(local))
    return timedelta(days=next(alike, next((back for back, day in enumerate(week) if is_open(day)), 0)))


def _shift_times(value: Any, delta: timedelta) -> Any:
    """Every ISO timestamp in a payload, moved by ``delta`` (keeps the payload's own format)."""
    if not delta:
        return value
    if isinstance(value, dict):
        return {k: _shift_times(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_times(v, delta) for v in value]
    if isinstance(value, str):
        match = ISO.match(value)
        if match:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")) + delta
            if match.group(3) == "Z":
                return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
            return moment.isoformat()
    return value


class City:
    """A memory store fed by the simulator through the real ingest path, and kept moving."""

    def __init__(self, config: Config, seed: int = 7) -> None:
        self.shift = _weekday_shift(datetime.now(UTC), config)
        if self.shift:  # the simulator's "today" is a working day: serve it with the MPP open today
            today = datetime.now(config.city.tz).strftime("%A").lower()
            mpp = config.mpp.model_copy(update={"open_weekdays": [*config.mpp.open_weekdays, today]})
            config = config.model_copy(update={"mpp": mpp})
        self.config = config  # what to serve this city with
        self.store = MemoryStore()
        self.state = CityState(self.store, config)
        self.normalizer = build_normalizer(config)
        self.simulator = simulator_for(config, rng_seed=seed)
        self.rejected = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def feed(self, messages: list[tuple[str, dict[str, Any]]]) -> int:
        accepted = 0
        for topic, payload in messages:
            origin = topic if "/" in topic else f"{self.config.city.slug}/{topic}"  # as the publisher sends it
            try:
                self.state.accept(self.normalizer.decode(json.dumps(_shift_times(payload, self.shift)), origin))
                accepted += 1
            except Exception:  # a simulator message the normalizer refuses is not this test's concern
                self.rejected += 1
        return accepted

    def replay(self, hours: float = 6.5, step_s: float = 120.0, downpour_h: float | None = None) -> City:
        """The last ``hours`` of the city, so trends and the hourly MPP curve have history.

        ``downpour_h``: a heavy rain that began that many hours ago (drains rise to Siaga
        and Awas, flood reports follow), for screenshots of the flood alert.
        """
        end = datetime.now(UTC) - self.shift
        t = end - timedelta(hours=hours)
        self.feed(self.simulator.initial_state(t))
        rain_at = None if downpour_h is None else end - timedelta(hours=downpour_h)
        while t < end:
            t = min(end, t + timedelta(seconds=step_s))
            if rain_at is not None and downpour_h is not None and t >= rain_at:
                self.simulator.start_rain(t, mm_per_h=24.0, minutes=downpour_h * 60 + 30)
                rain_at = None
            self.feed(self.simulator.next_messages(t))
        sample_kpis(self.store, self.config)
        self._feed_health(connected=True)
        return self

    def _feed_health(self, connected: bool, received: int = 0) -> None:
        now = datetime.now(UTC).isoformat()
        if not received:  # first report: plausible totals of a morning's traffic
            self.state.record_feed(
                "mqtt",
                {
                    "received": 41_870,
                    "accepted": 41_602,
                    "duplicates": 231,
                    "rejected": 37,
                    "rejected.unknown_type": 21,
                    "rejected.missing_field": 16,
                },
                {"connected": connected, "last_message_at": now, "gaps": []},
            )
            self.state.record_feed(
                "redis",
                {"received": 3_120, "accepted": 3_118, "duplicates": 2},
                {"connected": connected, "last_message_at": now, "gaps": []},
            )
            return
        self.state.record_feed(
            "mqtt", {"received": received, "accepted": received}, {"connected": connected, "last_message_at": now, "gaps": []}
        )

    def start(self) -> City:
        """Keep the city moving (the simulator's natural ~2 messages a second)."""

        def run() -> None:
            while not self._stop.wait(1.0):
                n = self.feed(self.simulator.next_messages(datetime.now(UTC) - self.shift))
                self._feed_health(True, n or 1)

        self._thread = threading.Thread(target=run, name="city-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def kpi_history(store: StateStore, config: Config, now: float | None = None, seed: int = 11) -> int:
    """31 days of hourly and 24 h of per-minute points per KPI, around the KPI's configured target.

    The store only has what ``sample_kpis`` wrote during the replay; a tablet shows a month.
    The history starts from the config's target (data the test is given, not anything the
    dashboard computes), drifts a little over the month and swings with the day,
    deterministically per KPI id; counts stay whole and percentages stay within 0..100.
    """
    now = time.time() if now is None else now
    written = 0
    for _pillar, kpi in config.kpis():
        rng = random.Random(f"{seed}:{kpi.id}")
        curve = _KpiCurve(float(kpi.target), kpi.unit, now, rng)
        for hours in range(744, 0, -1):
            point = curve.at(hours * 3_600, rng.gauss(0, curve.spread * 0.3))
            store.add_point(kpi_month_point(kpi.id, now - hours * 3_600, point))
        for minutes in range(1_440, 0, -1):
            store.add_point(kpi_day_point(kpi.id, now - minutes * 60, curve.at(minutes * 60, rng.gauss(0, curve.spread * 0.1))))
        written += 1
    return written


class _KpiCurve:
    """One KPI's made-up past: a drift over the month and a swing with the day around ``value``."""

    def __init__(self, value: float, unit: str, now: float, rng: random.Random) -> None:
        self.value, self.unit, self.now = value, unit, now
        self.whole = value.is_integer() and unit != "%"
        self.spread = max(abs(value) * 0.06, 1.0)
        self.drift, self.phase = rng.uniform(-1.5, 1.5) * self.spread, rng.uniform(0, 2 * math.pi)

    def at(self, age_s: float, noise: float) -> float:
        daily = math.sin(2 * math.pi * ((self.now - age_s) / 86_400 % 1) + self.phase) * min(1.0, age_s / 3_600)
        v = self.value + self.drift * age_s / (31 * 86_400) + 0.5 * self.spread * daily + noise * min(1.0, age_s / 600)
        v = min(100.0, max(0.0, v)) if self.unit == "%" else max(0.0, v)
        return float(round(v)) if self.whole else round(v, 2)


def tablet_city(config: Config) -> City:
    city = City(config).replay(hours=3)
    kpi_history(city.store, config)
    return city
