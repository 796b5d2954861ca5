"""The simulated city's events: incidents and citizen reports, when and where they arise.

A mixin of ``feeds.simulator.CitySimulator``: arrivals are Poisson by hour of day, rain and
city size; each new incident or report gets its whole lifecycle (new -> ... -> resolved)
drawn at birth and is queued on the simulator's heap of due stages. They draw from the
simulator's one seeded random stream, so the order of calls is part of the contract.
"""

from __future__ import annotations

import heapq
import math
import random
from datetime import datetime, timedelta

from feeds.city import Channel, CityProfile, DistrictsLike
from feeds.sim_catalog import CHANNEL_TEMPLATES, DRY_SEASON_KINDS, INCIDENT_KINDS, REPORT_KINDS
from feeds.sim_state import _Incident, _Report
from feeds.sim_words import say


class Arrivals:
    """New incidents and reports for ``CitySimulator``; what they read and write is declared here."""

    INCIDENTS_PER_MIN: float
    REPORTS_PER_MIN: float
    city: CityProfile
    districts: DistrictsLike
    _rng: random.Random
    _scale: float
    _rain_mm_h: float
    _incidents_from: datetime | None
    _incidents: dict[str, _Incident]
    _reports: dict[str, _Report]
    _max_open_incidents: int
    _max_open_reports: int
    _names: list[str]
    _flood_names: list[str]
    _peri_names: list[str]
    _people_cum: list[float]
    _central_cum: list[float]
    _channels: tuple[Channel, ...]
    _tag: str
    _run_tag: str
    _incident_no: int
    _report_no: int
    _due: list[tuple[datetime, int, _Incident | _Report]]
    _seq: int

    @staticmethod
    def _hour_weight(hour: int) -> float:
        """Incidents per hour relative to midday: rush hours up, nights down."""
        if 7 <= hour < 9 or 16 <= hour < 19:
            return 1.25
        if 9 <= hour < 16 or 19 <= hour < 22:
            return 1.0
        if 5 <= hour < 7 or 22 <= hour < 24:
            return 0.9
        return 0.8

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(self._rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, self._rng.random()
        while p > limit:
            k += 1
            p *= self._rng.random()
        return k

    def _arrivals(self, t0: datetime, t1: datetime, local: datetime, dt_h: float) -> None:
        """New incidents and reports in (t0, t1], Poisson by hour, rain and open-set cap."""
        minutes = dt_h * 60
        span = t1 - t0
        w = self._hour_weight(local.hour)
        rain_boost = 1.0 + min(self._rain_mm_h, 50) / 50  # heavy rain: up to 2x
        k = self._poisson(self.INCIDENTS_PER_MIN * self._scale * w * rain_boost * minutes)
        if self._incidents_from is not None and t1 < self._incidents_from:
            k = 0  # early warm-up: nothing of these would still be open now
        for _ in range(min(k, self._max_open_incidents - len(self._incidents))):
            self._new_incident(t1 - span * self._rng.random(), local)
        day = 1.2 if 6 <= local.hour < 21 else 0.3
        k = self._poisson(self.REPORTS_PER_MIN * self._scale * day * rain_boost * minutes)
        for _ in range(min(k, self._max_open_reports - len(self._reports))):
            self._new_report(t1 - span * self._rng.random())

    def _incident_weights(self, local: datetime) -> list[float]:
        """Kind shares now: rush hours favour traffic, rain favours floods and fallen trees,
        the dry season (June-September in Sumatra) brings land fires and haze."""
        rush = 7 <= local.hour < 9 or 16 <= local.hour < 19
        raining = self._rain_mm_h > 0
        dry = 6 <= local.month <= 9
        out = []
        for k in INCIDENT_KINDS:
            w = k.weight * (k.rain_factor if raining else 1.0) * (k.rush_factor if rush else 1.0)
            if k.sub_category in DRY_SEASON_KINDS:
                w *= 4.0 if dry else 0.5
            if k.sub_category == "rainfall" and raining and self._rain_mm_h >= 20:
                w = 3.0
            out.append(w)
        return out

    def _pick_kecamatan(self, area: str) -> str:
        """Where an incident or report happens: by population, central roads for traffic,
        flood-prone kelurahan for floods, the peat and plantation edge for land fires."""
        if area == "flood":
            if self._rng.random() < 0.8:
                return self._rng.choice(self._flood_names)
        elif area == "peri":
            return self._rng.choice(self._peri_names)
        cum = self._central_cum if area == "central" else self._people_cum
        return self._rng.choices(self._names, cum_weights=cum)[0]

    def _street(self, kec: str) -> str:
        place = self.city.places.get(kec)
        return (
            self._rng.choice(place.streets) if place and place.streets else (kec if self.city.language == "en" else f"Kec. {kec}")
        )

    def _fill_template(self, template: str, street: str, kec: str) -> str:
        r = self._rng
        vehicles = self.city.vehicles
        v1, v2 = r.sample(vehicles, 2) if len(vehicles) > 1 else (vehicles[0], vehicles[0])
        return say(template, self.city.language).format(
            street=street,
            kec=kec,
            dest=r.choice(self.city.destinations),
            km=r.randint(1, 4),
            vehicle=v1,
            vehicle2=v2,
            n=r.randint(2, 4),
            cm=5 * r.randint(2, 14),
            ha=r.randint(1, 15),
            days=r.randint(2, 6),
        )

    def _new_incident(self, t: datetime, local: datetime) -> None:
        r = self._rng
        kind = r.choices(INCIDENT_KINDS, weights=self._incident_weights(local))[0]
        severity = r.choices([s for s, _ in kind.severity], weights=[w for _, w in kind.severity])[0]
        kec = self._pick_kecamatan(kind.area)
        street = self._street(kec)
        lat, lon = self.districts.random_point(kec, r)
        self._incident_no += 1
        urgency = {"critical": 0.5, "high": 0.7}.get(severity, 1.0)
        ack = t + timedelta(minutes=r.uniform(0.5, 4) * urgency)
        dispatched = ack + timedelta(minutes=r.uniform(1, 8) * urgency)
        work = r.uniform(5, 30) * (3 if r.random() < 0.1 else 1)
        inc = _Incident(
            f"urn:ngsi-ld:Alert:{self._tag}-{self._run_tag}-{self._incident_no:06d}",
            kind,
            severity,
            self._fill_template(r.choice(kind.templates), street, kec),
            street,
            kec,
            lat,
            lon,
            [t, ack, dispatched, dispatched + timedelta(minutes=work)],
        )
        self._incidents[inc.entity_id] = inc
        self._push(t, inc)

    def _new_report(self, t: datetime) -> None:
        r = self._rng
        channel = None
        if self._channels and r.random() < 0.35:  # a share of complaints comes through the city's apps
            channel = r.choice(self._channels)
        if channel is not None and channel.categories:
            label, topic = r.choice(channel.categories)
            templates = CHANNEL_TEMPLATES.get(topic, CHANNEL_TEMPLATES["other"])
        else:
            drainage_weight = 4.0 if self._rain_mm_h > 0 else 1.0
            weights = [drainage_weight if topic == "drainage" else 1.2 for topic, _, _ in REPORT_KINDS]
            topic, label, templates = r.choices(REPORT_KINDS, weights=weights)[0]
            channel = None
        kec = self._pick_kecamatan("flood" if topic == "drainage" else "all")
        street = self._street(kec)
        lat, lon = self.districts.random_point(kec, r)
        self._report_no += 1
        in_progress = t + timedelta(minutes=r.uniform(5, 60))
        closing = r.uniform(20, 300) if r.random() > 0.05 else r.uniform(20 * 60, 30 * 60)  # 5% breach the 24 h SLA
        rep = _Report(
            f"urn:ngsi-ld:IssueReporting:{self._tag}-{self._run_tag}-{self._report_no:06d}",
            f"{channel.id.upper() if channel else 'LPR'}-{self._run_tag}-{self._report_no:06d}",
            topic,
            label if channel else say(label, self.city.language),  # an app's own category stays its own
            self._fill_template(r.choice(templates), street, kec),
            street,
            kec,
            lat,
            lon,
            [t, in_progress, in_progress + timedelta(minutes=closing)],
            channel=channel,
        )
        self._reports[rep.entity_id] = rep
        self._push(t, rep)

    def _push(self, at: datetime, what: _Incident | _Report) -> None:
        self._seq += 1
        heapq.heappush(self._due, (at, self._seq, what))
