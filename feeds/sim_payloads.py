"""The simulated city written as FIWARE Smart Data Models: one encoder per model and form.

Alerts and reports go out as NGSI-v2 keyValues, gauges as ``FloodMonitoring``, TPS as NGSI-LD
keyValues ``WasteContainer``, MPP queues as NGSI-LD normalized ``QueueMonitor`` and KPIs as
``KeyPerformanceIndicator``: every form the normalizer must read shows up in the demo. The
encoders are a mixin of ``CitySimulator`` because they read its city and its MPP plan; they
change no state.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.city import CityProfile, MessageKpi
from feeds.sim_catalog import (
    ALERT_SOURCES,
    INCIDENT_STAGES,
    QUEUE_CONTEXT,
    REPORT_STAGES,
    WASTE_CONTEXT,
    WIB,
    Payload,
    iso_z,
)
from feeds.sim_mpp import MppQueues
from feeds.sim_state import _Container, _Incident, _Report, _Station


class SdmPayloads(MppQueues):
    """Encoders for ``CitySimulator``: what they read from it is declared here."""

    city: CityProfile
    tz: tzinfo
    kpis: Any
    _rng: random.Random
    _tag: str
    _token: str

    def _address(self, street: str, kec: str) -> dict[str, str]:
        out = {"streetAddress": street, "district": kec, "addressLocality": self.city.locality}
        if self.city.region:
            out["addressRegion"] = self.city.region
        out["addressCountry"] = "ID"
        return out

    def _incident_payload(self, inc: _Incident) -> Payload:
        """Alert, NGSI-v2 keyValues, plus ``status``; one id, a later dateModified per stage."""
        issued = inc.stage_isos[0]
        return {
            "id": inc.entity_id,
            "type": "Alert",
            "category": inc.kind.category,
            "subCategory": inc.kind.sub_category,
            "severity": inc.severity,
            "status": INCIDENT_STAGES[inc.stage],
            "description": inc.description,
            "location": {"type": "Point", "coordinates": [inc.lon, inc.lat]},
            "address": self._address(inc.street, inc.kecamatan),
            "alertSource": self._source_of(inc.kind.category),
            "dateIssued": issued,
            "validFrom": issued,
            "dateModified": inc.stage_isos[inc.stage],
        }

    @staticmethod
    def _report_topic(rep: _Report) -> str:
        return rep.channel.topic if rep.channel is not None else "reports"

    def _report_payload(self, rep: _Report) -> Payload:
        """IssueReporting, NGSI-v2 keyValues. ``observationDateTime`` is when the citizen
        reported (the normalizer's ``opened_at``); ``dateModified`` moves with the status.
        A complaint app's report carries only that app's own category name."""
        created = rep.stage_isos[0]
        modified = rep.stage_isos[rep.stage]
        if rep.channel is not None:
            return {
                "id": rep.entity_id,
                "type": "IssueReporting",
                "reportId": rep.report_id,
                "category": rep.label,
                "title": rep.label,
                "comments": rep.description,
                "landmark": rep.street,
                "resolutionStatus": REPORT_STAGES[rep.stage],
                "location": {"type": "Point", "coordinates": [rep.lon, rep.lat]},
                "address": self._address(rep.street, rep.kecamatan),
                "dateCreated": created,
                "observationDateTime": created,
                "dateModified": modified,
            }
        return {
            "id": rep.entity_id,
            "type": "IssueReporting",
            "reportId": rep.report_id,
            "category": "Drainase" if rep.topic == "drainage" else "Sampah",
            "categoryCode": rep.topic,
            "subCategory": rep.label,
            "title": rep.label,
            "comments": rep.description,
            "departmentId": "PUPR" if rep.topic == "drainage" else "DLHK",
            "landmark": rep.street,
            "resolutionStatus": REPORT_STAGES[rep.stage],
            "location": {"type": "Point", "coordinates": [rep.lon, rep.lat]},
            "address": self._address(rep.street, rep.kecamatan),
            "dateCreated": created,
            "observationDateTime": created,
            "dateModified": modified,
        }

    def _drainage_payload(self, st: _Station, iso: str) -> Payload:
        """FloodMonitoring, NGSI-v2 keyValues; the level carries +-5 mm of sensor noise.

        No ``alertLevel`` / ``dangerLevel``: a gauge's own levels outrank the config's default,
        so sending Pekanbaru's 2.0 / 2.5 m judged every demo city by them. The simulated gauges
        are the city's own, judged by its ``thresholds``; the status says the same."""
        level = round(max(0.0, st.level + self._rng.uniform(-0.005, 0.005)), 3)
        waspada, siaga, awas = self.city.levels_of(st.site.code)
        status = "Awas" if level >= awas else "Siaga" if level >= siaga else "Waspada" if level >= waspada else "Normal"
        site = st.site
        return {
            "id": st.entity_id,
            "type": "FloodMonitoring",
            "stationID": site.code,
            "name": site.name,
            "currentLevel": level,
            "referenceLevel": st.reference,
            "measuredDistance": round(st.reference - level, 3),
            "floodLevelStatus": status,
            "dataProvider": self.city.drainage_provider,
            "location": {"type": "Point", "coordinates": [site.lon, site.lat]},
            "address": self._address(f"Kel. {site.kelurahan}", site.kecamatan),
            "observationDateTime": iso,
            "dateModified": iso,
        }

    def _waste_payload(self, c: _Container, iso: str) -> Payload:
        """WasteContainer, NGSI-LD keyValues with @context; fillingLevel 0..1."""
        return {
            "id": c.entity_id,
            "type": "WasteContainer",
            "name": c.name,
            "fillingLevel": round(c.fill, 3),
            "status": c.status,
            "binCapacity": c.capacity_m3,
            "binFullnessThreshold": 80,
            "category": ["fixed"],
            "storedWasteOrigin": "household",
            "storedWasteKind": "other",
            "wardId": c.kode,
            "location": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "address": self._address(f"Kel. {c.kelurahan}", c.kecamatan),
            "dateLastEmptying": iso_z(c.last_emptied) if c.last_emptied else None,
            "dateModified": iso,
            "@context": list(WASTE_CONTEXT),
        }

    def _mpp_payload(self, i: int, local: datetime, iso: str) -> Payload:
        """QueueMonitor, NGSI-LD normalized; ``averageWaitingTime`` (minutes) and
        ``ticketsBeingServed`` are extensions the SDM lacks."""
        spec = self.agencies[i]
        plan = self._mpp_plan(local.date())
        served = self._served(i, plan, local)
        status, waiting, serving, wait = self._queue_now(i, plan, local)
        issued = served + serving + waiting
        letter = _ticket_letters(i)
        mpp_lat, mpp_lon = self.city.mpp_location or (0.0, 0.0)
        return {
            "id": f"urn:ngsi-ld:QueueMonitor:MPP-{self._tag}:{spec.slug}",
            "type": "QueueMonitor",
            "name": {"type": "Property", "value": f"Antrean {spec.office}"},
            "officeName": {"type": "Property", "value": spec.office},
            "serviceName": {"type": "Property", "value": spec.service},
            "serviceId": {"type": "Property", "value": spec.slug},
            "serviceStatus": {"type": "Property", "value": status},
            "ticketsToServe": {"type": "Property", "value": waiting},
            "ticketServed": {"type": "Property", "value": served},
            "ticketServedLabel": {"type": "Property", "value": f"{letter}-{served:03d}"},
            "ticketsBeingServed": {"type": "Property", "value": serving},
            "averageWaitingTime": {"type": "Property", "value": wait, "unitCode": "MIN"},
            "lastTicketIssued": {"type": "Property", "value": issued},
            "lastTicketIssuedLabel": {"type": "Property", "value": f"{letter}-{issued:03d}"},
            "areaServed": {"type": "Property", "value": self.city.mpp_name},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [mpp_lon, mpp_lat]}},
            "dateModified": {"type": "Property", "value": {"@type": "DateTime", "@value": iso}},
            "@context": list(QUEUE_CONTEXT),
        }

    def _kpi_payload(self, i: int, now: datetime, iso: str) -> Payload:
        """KeyPerformanceIndicator, NGSI-v2 keyValues; the last id segment is the KPI id."""
        spec = self.kpis[i]
        local = now.astimezone(self.tz)
        value, standing, period = self._kpi_value(spec, local)
        out: Payload = {
            "id": f"urn:ngsi-ld:KeyPerformanceIndicator:{spec.kpi_id}",
            "type": "KeyPerformanceIndicator",
            "name": spec.name,
            "alternateName": spec.kpi_id,
            "description": spec.description or spec.name,
            "category": ["quantitative"],
            "organization": self.city.organization,
            "provider": spec.provider or self.city.organization,
            "kpiValue": value,
            "currentStanding": standing,
            "calculationPeriod": {"from": period[0].isoformat(), "to": period[1].isoformat()},
            "calculationMethod": "automatic",
            "calculationFrequency": "daily",
            "address": {k: v for k, v in self._address("", "").items() if v},
            "dateModified": iso,
        }
        return out

    def _kpi_value(self, spec: MessageKpi, local: datetime) -> tuple[float, str, tuple[date, date]]:
        """A plausible value around the KPI's target: a daily level (most days near the
        target, some clearly off) and a small wobble through the day."""
        day = local.date()
        daily = random.Random(f"kpi:{self._token}:{spec.kpi_id}:{day.isoformat()}")
        target = spec.target
        scale = abs(target) if target else 1.0
        level = daily.gauss(1.0, 0.07)
        wobble = 1.0 + 0.01 * math.sin((local.hour * 60 + local.minute) / 1440 * 2 * math.pi)
        value = target + scale * (level * wobble - 1.0)
        if spec.unit == "%":
            value = min(100.0, value)
        value = round(max(0.0, value), 0 if _counted(spec) else 2)
        ratio = value / scale if spec.better == "higher" else (scale / value if value else 2.0)
        if not target:
            ratio = 1.0 if value <= 0.5 else 0.7
        return value, _standing(ratio, (1.05, 0.97, 0.85, 0.7)), (day - timedelta(days=30), day)

    def _source_of(self, category: str) -> str:
        name = self.city.sources.get(category) or ALERT_SOURCES.get(category, "callcenter-112")
        return f"urn:{self.city.slug}:source:{name}"


def _counted(spec: MessageKpi) -> bool:
    """Whether the KPI counts things (licences issued this month: a whole target in the
    hundreds, no percentage), so its simulated value is whole: "1.325,5 izin usaha" read as
    nonsense. An index or a rate (85, 2 reports per 10,000) keeps its decimals."""
    return spec.unit != "%" and float(spec.target).is_integer() and abs(spec.target) >= 100


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - depends on the host
        return WIB


def _ticket_letters(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the prefix of agency i's ticket numbers."""
    out = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _standing(ratio: float, bands: tuple[float, float, float, float]) -> str:
    """Map a ratio (1.0 = on target) to the SDM currentStanding enum."""
    for cut, name in zip(bands, ("veryGood", "good", "fair", "bad"), strict=True):
        if ratio >= cut:
            return name
    return "veryBad"
