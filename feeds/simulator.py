"""A simulated city: FIWARE Smart Data Models payloads for the demo and for load tests.

The demo must look like a real command centre from the first second, and load tests need
valid traffic at thousands of messages a second. Both come from one model of the city:

* incidents (``Alert``, NGSI-v2 keyValues) that arrive across the city's districts and move
  through new -> acknowledged -> dispatched -> resolved over minutes;
* drainage gauges (``FloodMonitoring``, NGSI-v2 keyValues) at the city's gauges,
  driven by rain episodes that are likelier in the afternoon;
* TPS containers (``WasteContainer``, NGSI-LD keyValues) that fill through the day (most
  of all in the official 19:00-22:00 disposal hours) and are emptied by morning trucks;
* citizen reports (``IssueReporting``, NGSI-v2 keyValues) about sampah and drainase, and
  through each configured complaint channel with that app's own category names;
* the MPP's agency queues (``QueueMonitor``, NGSI-LD normalized) whose served counts
  follow a daily curve in local time, around ``mpp.permits_per_day`` (more on busy days);
* KPIs no stream can derive (``KeyPerformanceIndicator``, NGSI-v2 keyValues), around target.

Which city: a ``feeds.city.CityProfile`` (districts, gauges, TPS, MPP tenants, KPIs, complaint
channels), built by ``dashboard`` from ``config.yaml``. Nothing city-specific lives here.

Everything is a pure function of the seed and the clock readings, so tests are
reproducible. The simulator emits payloads only; ``feeds.publish`` puts them on MQTT or a
Redis stream. ``feeds`` must not import ``dashboard`` or ``layouts``.

Around this module: ``feeds.sim_catalog`` (topics, kinds, stages: pure data),
``feeds.sim_state`` (the things being simulated), and the parts of the model, each a mixin
of ``CitySimulator``: ``feeds.sim_environment`` (rain, gauges, TPS), ``feeds.sim_events``
(incidents and reports), ``feeds.sim_mpp`` (the MPP's daily curve and queues) and
``feeds.sim_payloads`` (the Smart Data Models encoders). They are mixins of one object, not
objects of their own, because they all draw from one seeded random stream in the fixed order
``_step`` calls them, which is what makes a seed reproduce the same city, message for message.
What stays here is the clock: warm-up, stepping, cadence and the public API.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from feeds import city
from feeds.sim_catalog import (
    INCIDENT_KINDS,
    Message,
    Payload,
    iso_z,
    utc_now,
)
from feeds.sim_environment import Environment
from feeds.sim_events import Arrivals
from feeds.sim_payloads import SdmPayloads, _zone
from feeds.sim_state import _Incident, _Report


class CitySimulator(Environment, Arrivals, SdmPayloads):
    """Realistic traffic of one city as Smart Data Models payloads, driven by an injected clock.

    Use ``initial_state(now)`` once, then either ``next_messages(now)`` (natural cadence,
    ~2 messages/s: what a real city would send) or ``stream(rate_per_s)`` (exactly the
    rate asked for, topped up with sensor readings: demos and load tests). Same seed and
    same clock readings give the same messages.

    Payloads are fresh dicts; the caller may mutate them.
    """

    #: Incident arrivals per minute at a weight-1.0 hour for a city of ``RATE_POPULATION_K``
    #: thousand people; mean lifetime ~28 min -> ~48 open. Smaller cities get fewer, in proportion.
    RATE_POPULATION_K = 1_132
    INCIDENTS_PER_MIN = 1.7
    MAX_OPEN_INCIDENTS = 80
    REPORTS_PER_MIN = 0.6
    MAX_OPEN_REPORTS = 300
    STATION_PERIOD_S = 30.0
    AGENCY_PERIOD_S = 30.0
    AGENCY_CLOSED_PERIOD_S = 300.0
    CONTAINER_PERIOD_S = 120.0
    KPI_PERIOD_S = 120.0
    WARMUP = timedelta(hours=24)  # TPS fills, river levels and slow reports need a day
    INCIDENT_WARMUP = timedelta(hours=3)  # incidents live < 2 h: 3 h reach the steady state
    MAX_CATCH_UP = timedelta(hours=6)
    #: Share of filler messages in ``stream``: drainage and MPP dominate.
    FILLER_WEIGHTS: tuple[tuple[str, int], ...] = (("drainage", 9), ("mpp", 8), ("waste", 3))

    def __init__(
        self,
        profile: city.CityProfile | city.DistrictsLike,
        rng_seed: int | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not isinstance(profile, city.CityProfile):  # bare districts: a city with generated names
            profile = city.CityProfile(slug="city", name="Kota", districts=profile)
        self.city = profile = profile.complete()
        self.districts = profile.districts
        self.clock = clock
        self.tz = _zone(profile.timezone)
        self.mpp_target_normal = profile.mpp_target_normal
        self.mpp_target_busy = profile.mpp_target_busy
        self.agencies = profile.agencies
        self.kpis = profile.kpis
        self._tag = profile.id_tag
        self._rng = random.Random(rng_seed)
        # Everything that must be a pure function of (seed, date) derives from this token.
        self._token = str(rng_seed) if rng_seed is not None else f"{self._rng.getrandbits(64):x}"
        self._names = list(self.districts.names())
        if not self._names:
            raise ValueError("districts has no names: cannot place incidents")
        places = profile.places
        flood_prone = {s.kecamatan for s in profile.stations}
        self._flood_names = [n for n in self._names if n in flood_prone] or self._names
        self._peri_names = [n for n in self._names if n in places and places[n].peri_urban] or self._names
        people = [float(places[n].population_k if n in places else 50) for n in self._names]
        self._people_cum = list(accumulate(people))
        #: arrivals and open-set caps follow the city's size (bounded, so a typo cannot flood the demo)
        self._scale = min(3.0, max(0.05, sum(people) / self.RATE_POPULATION_K))
        self._max_open_incidents = max(10, round(self.MAX_OPEN_INCIDENTS * self._scale))
        self._max_open_reports = max(20, round(self.MAX_OPEN_REPORTS * self._scale))
        self._central_cum = list(
            accumulate(w * (1.6 if n in places and places[n].central else 1.0) for n, w in zip(self._names, people, strict=True))
        )
        self._channels = profile.channels
        self.stations = self._make_stations()
        self.containers = self._make_containers()
        self._due: list[tuple[datetime, int, _Incident | _Report]] = []  # heap of (when, tie-break, what)
        self._seq = 0
        self._incidents: dict[str, _Incident] = {}
        self._reports: dict[str, _Report] = {}
        self._incident_no = 0
        self._report_no = 0
        self._run_tag = ""
        self._t: datetime | None = None  # simulated time reached
        self._incidents_from: datetime | None = None
        self._rain_mm_h = 0.0
        self._rain_until: datetime | None = None
        self._agency_next: list[datetime] = []
        self._mpp_plans: dict[date, list[int]] = {}
        self._kpi_next: list[datetime] = []
        self._point_pool: list[tuple[str, float, float]] = []
        self._filler_cycle = self._make_filler_cycle()

    # ------------------------------------------------------------------ construction

    def _make_filler_cycle(self) -> list[str]:
        """A fixed interleaving of filler kinds by weight (smooth weighted round robin)."""
        weights = dict(self.FILLER_WEIGHTS)
        current = {k: 0 for k in weights}
        total = sum(weights.values())
        cycle = []
        for _ in range(total):
            for k, w in weights.items():
                current[k] += w
            best = max(current, key=lambda k: current[k])
            current[best] -= total
            cycle.append(best)
        return cycle

    # ------------------------------------------------------------------ public API

    def initial_state(self, now: datetime | None = None) -> list[Message]:
        """One message per station, TPS, MPP agency and KPI, plus open incidents and reports.

        Sent first so a fresh dashboard shows a full picture at once instead of filling in
        over minutes.
        """
        now = self._now(now)
        self._ensure_started(now)
        self._advance(now, collect=False)
        iso = iso_z(now)
        local = now.astimezone(self.tz)
        out: list[Message] = [("drainage", self._drainage_payload(st, iso)) for st in self.stations]
        out += [("waste", self._waste_payload(c, iso)) for c in self.containers]
        out += [("mpp", self._mpp_payload(i, local, iso)) for i in range(len(self.agencies))]
        out += [("kpi", self._kpi_payload(i, now, iso)) for i in range(len(self.kpis))]
        out += [("incidents", self._incident_payload(inc)) for inc in self._incidents.values() if inc.stage >= 0]
        out += [(self._report_topic(rep), self._report_payload(rep)) for rep in self._reports.values() if rep.stage >= 0]
        return out

    def next_messages(self, now: datetime | None = None) -> list[Message]:
        """What the city sent since the last call: lifecycle updates, new events, and each
        sensor at its natural cadence (gauges and queues every 30 s, TPS every 2 min)."""
        now = self._now(now)
        self._ensure_started(now)
        out = self._advance(now, collect=True)
        iso = iso_z(now)
        for st in self.stations:
            if st.next_report is not None and st.next_report <= now:
                out.append(("drainage", self._drainage_payload(st, iso)))
                st.next_report = self._next_slot(st.next_report, now, self.STATION_PERIOD_S)
        for c in self.containers:
            if c.next_report is not None and c.next_report <= now:
                out.append(("waste", self._waste_payload(c, iso)))
                c.next_report = self._next_slot(c.next_report, now, self.CONTAINER_PERIOD_S)
        local = now.astimezone(self.tz)
        period = self.AGENCY_PERIOD_S if self._mpp_open(local) else self.AGENCY_CLOSED_PERIOD_S
        for i, due in enumerate(self._agency_next):
            if due <= now:
                out.append(("mpp", self._mpp_payload(i, local, iso)))
                self._agency_next[i] = self._next_slot(due, now, period)
        return out

    def stream(self, rate_per_s: float = 20.0) -> Iterator[Message]:
        """Endless messages at whatever pace the caller pulls them (it does not sleep).

        Due events (incidents, reports, KPIs, TPS pickups) come first; the rest of the
        ``rate_per_s`` budget is drainage, MPP and TPS readings in a fixed interleaving.
        The clock is read about 20 times per simulated second (every ``rate_per_s / 20``
        messages), and the processes advance on each read, which keeps 5,000 msg/s cheap.
        """
        every = max(1, int(rate_per_s / 20))
        pending: deque[Message] = deque()
        cycle, ci = self._filler_cycle, 0
        rr = {"drainage": 0, "mpp": 0, "waste": 0}
        n = 0
        now = self._now(None)
        self._ensure_started(now)
        iso, local = iso_z(now), now.astimezone(self.tz)
        while True:
            if n % every == 0:
                now = self._now(None)
                pending.extend(self._advance(now, collect=True))
                iso, local = iso_z(now), now.astimezone(self.tz)
            n += 1
            if pending:
                yield pending.popleft()
                continue
            kind = cycle[ci]
            ci = (ci + 1) % len(cycle)
            if kind == "drainage":
                i = rr["drainage"] = (rr["drainage"] + 1) % len(self.stations)
                yield "drainage", self._drainage_payload(self.stations[i], iso)
            elif kind == "mpp":
                i = rr["mpp"] = (rr["mpp"] + 1) % len(self.agencies)
                yield "mpp", self._mpp_payload(i, local, iso)
            else:
                i = rr["waste"] = (rr["waste"] + 1) % len(self.containers)
                yield "waste", self._waste_payload(self.containers[i], iso)

    def unique_alerts(self, n: int, prefix: str = "LT", severity: str = "high") -> Iterator[Payload]:
        """``n`` Alert payloads with unique ids and unique descriptions, for no-loss and
        latency tests: the description carries ``[prefix-000042]`` so a test can find the
        very message in the DOM. Points come from a pre-generated pool, keeping it cheap."""
        if not self._point_pool:
            self._fill_point_pool()
        kinds = [k for k in INCIDENT_KINDS if "{" in k.templates[0] and k.weight > 0]
        pool = self._point_pool
        for i in range(n):
            kind = kinds[i % len(kinds)]
            kec, lat, lon = pool[i % len(pool)]
            place = self.city.places.get(kec)
            places = place.streets if place and place.streets else (f"Kec. {kec}",)
            street = places[i % len(places)]
            text = kind.templates[0].format(
                street=street,
                kec=kec,
                dest="pusat kota",
                km=1,
                vehicle="sepeda motor",
                vehicle2="mobil pribadi",
                n=2,
                cm=30,
                ha=2,
            )
            iso = iso_z(self._now(None))
            yield {
                "id": f"urn:ngsi-ld:Alert:{prefix}-{i:07d}",
                "type": "Alert",
                "category": kind.category,
                "subCategory": kind.sub_category,
                "severity": severity,
                "status": "new",
                "description": f"[{prefix}-{i:07d}] {text}",
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "address": self._address(street, kec),
                "alertSource": f"urn:{self.city.slug}:source:load-test",
                "dateIssued": iso,
                "validFrom": iso,
                "dateModified": iso,
            }

    def start_rain(self, now: datetime | None = None, mm_per_h: float = 40.0, minutes: float = 120.0) -> None:
        """Make it rain now (demo button, tests): levels rise, floods and reports follow."""
        now = self._now(now)
        self._ensure_started(now)
        self._set_rain(mm_per_h, now + timedelta(minutes=minutes))

    @property
    def raining(self) -> bool:
        return self._rain_mm_h > 0

    def open_incidents(self) -> int:
        return len(self._incidents)

    def open_reports(self) -> int:
        return len(self._reports)

    def mpp_served(self, now: datetime | None = None) -> dict[str, int]:
        """Tickets served today per agency (office name), cumulative since 00:00 WIB."""
        local = self._now(now).astimezone(self.tz)
        plan = self._mpp_plan(local.date())
        return {a.office: self._served(i, plan, local) for i, a in enumerate(self.agencies)}

    def mpp_total_served(self, now: datetime | None = None) -> int:
        return sum(self.mpp_served(now).values())

    # ------------------------------------------------------------------ time

    def _now(self, now: datetime | None) -> datetime:
        """An aware UTC time, never earlier than what was already simulated."""
        now = self.clock() if now is None else now
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        now = now.astimezone(UTC)
        if self._t is not None and now < self._t:
            return self._t
        return now

    @staticmethod
    def _next_slot(due: datetime, now: datetime, period_s: float) -> datetime:
        nxt = due + timedelta(seconds=period_s)
        return nxt if nxt > now else now + timedelta(seconds=period_s)

    def _ensure_started(self, now: datetime) -> None:
        """First call: run the last 24 h silently so the city is in a lived-in state."""
        if self._t is not None:
            return
        self._run_tag = f"{now.astimezone(self.tz):%y%m%d%H%M}{self._rng.getrandbits(12):03x}"
        start = now - self.WARMUP
        self._t = start
        self._incidents_from = now - self.INCIDENT_WARMUP
        for c in self.containers:
            c.fill = c.daily_fill * self._rng.uniform(0.2, 0.6)
            c.last_emptied = start
            c.next_pickup = self._next_pickup(c, start)
        self._advance(now, collect=False, step_s=300.0, max_catch_up=self.WARMUP)
        n = len(self.stations)
        for i, st in enumerate(self.stations):
            st.next_report = now + timedelta(seconds=self.STATION_PERIOD_S * (i + 1) / n)
        for i, c in enumerate(self.containers):
            c.next_report = now + timedelta(seconds=self.CONTAINER_PERIOD_S * (i + 1) / len(self.containers))
        self._agency_next = [
            now + timedelta(seconds=self.AGENCY_PERIOD_S * (i + 1) / len(self.agencies)) for i in range(len(self.agencies))
        ]
        self._kpi_next = [now + timedelta(seconds=self.KPI_PERIOD_S * (i + 1) / len(self.kpis)) for i in range(len(self.kpis))]

    def _advance(
        self, now: datetime, collect: bool, step_s: float = 60.0, max_catch_up: timedelta | None = None
    ) -> list[Message]:
        """Move every process from the simulated time to ``now`` in steps of at most
        ``step_s``; returns the due events (with their own, earlier-or-equal times)."""
        assert self._t is not None
        out: list[Message] | None = [] if collect else None
        if now <= self._t:
            return []
        limit = max_catch_up or self.MAX_CATCH_UP
        if now - self._t > limit:  # a laptop woke up: skip, don't replay hours
            self._t = now - limit
        while self._t < now:
            t1 = min(now, self._t + timedelta(seconds=step_s))
            self._step(self._t, t1, out)
            self._t = t1
        self._pop_due(now, out)
        self._kpis_due(now, out)
        return out or []

    def _step(self, t0: datetime, t1: datetime, out: list[Message] | None) -> None:
        """One step of every process; ``out`` None means nobody listens (warm-up)."""
        dt_h = (t1 - t0).total_seconds() / 3600
        local = t1.astimezone(self.tz)
        self._weather(t1, local, dt_h)
        self._rivers(dt_h)
        self._fill_containers(local, dt_h)
        for c in self._pickups(t1):
            if out is not None:
                out.append(("waste", self._waste_payload(c, iso_z(c.last_emptied or t1))))
        self._arrivals(t0, t1, local, dt_h)
        self._pop_due(t1, out)

    def _pop_due(self, until: datetime, out: list[Message] | None) -> None:
        """Emit every lifecycle stage that is due, with its own time, and schedule the next."""
        while self._due and self._due[0][0] <= until:
            item = heapq.heappop(self._due)[2]
            item.stage += 1
            incident = isinstance(item, _Incident)
            live: dict[str, Any] = self._incidents if incident else self._reports
            if out is not None:
                if isinstance(item, _Incident):
                    out.append(("incidents", self._incident_payload(item)))
                else:
                    out.append((self._report_topic(item), self._report_payload(item)))
            if item.stage + 1 < len(item.stage_times):
                self._push(item.stage_times[item.stage + 1], item)
            else:
                live.pop(item.entity_id, None)

    def _kpis_due(self, now: datetime, out: list[Message] | None) -> None:
        if not self._kpi_next or out is None:
            return
        iso = iso_z(now)
        for i, due in enumerate(self._kpi_next):
            if due <= now:
                out.append(("kpi", self._kpi_payload(i, now, iso)))
                self._kpi_next[i] = self._next_slot(due, now, self.KPI_PERIOD_S)

    def _fill_point_pool(self) -> None:
        """64 points per kecamatan, drawn once, so unique_alerts stays cheap at any rate."""
        r = random.Random(f"pool:{self._token}")
        for _ in range(64):
            for kec in self._names:
                lat, lon = self.districts.random_point(kec, r)
                self._point_pool.append((kec, lat, lon))
