"""One mapper per Smart Data Model: a flattened entity in, one typed event out.

A mapper reads only through ``feeds.fields.Fields``, so the repairs and refusals are the
same in every model; what is here is each model's own meaning: which fields it requires,
which aliases name the same thing, and which enum words (English and Indonesian) it accepts.
``route`` picks the mapper from the payload's ``type``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from feeds.events import (
    CitizenReport,
    Event,
    Incident,
    KpiReading,
    QueueReading,
    Reason,
    Rejected,
    WasteFill,
    WaterLevel,
)
from feeds.fields import DESCRIPTION_MAX, Fields, address_text, sample, to_float

__all__ = ["KPI_ID_PREFIX", "Mapper", "SOURCE_TYPES", "route"]

KPI_ID_PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:"


_SEVERITY = {
    "informational": "informational", "info": "informational", "informasi": "informational",
    "low": "low", "rendah": "low",
    "medium": "medium", "moderate": "medium", "sedang": "medium",
    "high": "high", "tinggi": "high",
    "critical": "critical", "kritis": "critical",
}  # fmt: skip
#: The words a feed may name the critical severity with (``feeds.gather`` looks for them).
CRITICAL_WORDS = tuple(word for word, level in _SEVERITY.items() if level == "critical")
_INCIDENT_STATUS = {
    "new": "new", "open": "new", "baru": "new",
    "acknowledged": "acknowledged", "diterima": "acknowledged",
    "dispatched": "dispatched", "dikirim": "dispatched",
    "resolved": "resolved", "closed": "resolved", "selesai": "resolved",
}  # fmt: skip
_REPORT_RESOLVED = frozenset({"closed", "resolved", "selesai", "done"})
_SERVICE = {
    "open": "open", "buka": "open",
    "closed": "closed", "tutup": "closed", "ditutup": "closed",
    "suspended": "paused", "jeda": "paused", "istirahat": "paused",
}  # fmt: skip
_STANDING = {
    "verygood": "veryGood", "sangatbaik": "veryGood",
    "good": "good", "baik": "good",
    "fair": "fair", "cukup": "fair",
    "bad": "bad", "buruk": "bad",
    "verybad": "veryBad", "sangatburuk": "veryBad",
}  # fmt: skip
_TOPIC_FIELDS = ("category", "subCategory", "title", "service_name", "description", "comments")
_DRAINAGE = re.compile(r"\b(?:drain|banjir|flood|genangan|selokan|parit|saluran)")
_WASTE = re.compile(r"\b(?:sampah|waste|garbage|trash|litter|tps|rubbish)")


def _alert(f: Fields, source: str) -> Incident:
    """Alert -> Incident. Category and a time are what an operator cannot do without.

    ``observed_at`` is the newest time the alert carries (it orders updates); ``opened_at``
    is when it began (dateIssued), which is what age and SLA are measured from.
    """
    entity_id = f.entity_id()
    category = f.text("category", required=True)
    observed = f.time("dateModified", "modifiedAt", "dateIssued", "dateCreated", "validFrom", "observedAt", required=True)
    lat, lon = f.location()
    return Incident(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        category=category,
        sub_category=f.text("subCategory"),
        severity=f.enum("severity", _SEVERITY, "medium"),
        severity_said=f.attrs.get("severity") not in (None, ""),
        status=f.enum("status", _INCIDENT_STATUS, "new"),
        description=f.text("description", limit=DESCRIPTION_MAX) or "",
        address=address_text(f.attrs),
        opened_at=f.time("dateIssued", "dateCreated", "validFrom") or observed,
    )


def _flood_monitoring(f: Fields, source: str) -> WaterLevel:
    """FloodMonitoring -> WaterLevel; the station, not the entity, identifies the gauge."""
    entity_id = f.entity_id()
    level = f.level("currentLevel")
    observed = f.time("observationDateTime", "dateObserved", "dateModified", "modifiedAt", "observedAt", required=True)
    lat, lon = f.location()
    return WaterLevel(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        station_id=f.ident("stationID") or entity_id,
        name=f.text("name"),
        level_m=level,
        alert_level_m=f.metres("alertLevel"),
        danger_level_m=f.metres("dangerLevel"),
        status_text=f.text("floodLevelStatus"),
    )


def _water_observed(f: Fields, source: str) -> WaterLevel:
    """WaterObserved -> WaterLevel; the schema requires location and dateObserved."""
    entity_id = f.entity_id()
    lat, lon = f.location(required=True)
    level = f.level("waterLevel", "height")
    observed = f.time("dateObserved", "observedAt", required=True)
    return WaterLevel(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        station_id=f.ident("refDevice") or entity_id,
        name=f.text("name"),
        level_m=level,
    )


def _citizen_report(f: Fields, source: str) -> CitizenReport:
    """IssueReporting / Open311 -> CitizenReport; the topic decides drainage vs waste panels."""
    entity_id = f.entity_id()
    opened = f.time("requested_datetime", "observationDateTime", "dateCreated", required=True)
    times = [t for t in (opened, f.time("updated_datetime"), f.time("observationDateTime"), f.time("dateModified")) if t]
    observed = max(times)
    status = _report_status(f)
    resolved_at = None
    if status == "resolved":
        resolved_at = f.time("updated_datetime", "dateModified") or observed
    lat, lon = f.location()
    channel = f.channel
    topic = channel.family(f.text("category"), f.text("subCategory"), f.text("service_name")) if channel else _topic(f)
    return CitizenReport(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        topic=topic,  # type: ignore[arg-type]
        channel=channel.name if channel else "",
        category=f.text("category", "service_name", "title") or "",
        description=f.text("description", "comments", limit=DESCRIPTION_MAX) or "",
        status=status,
        opened_at=opened,
        resolved_at=resolved_at,
    )


def _report_status(f: Fields) -> Literal["open", "resolved"]:
    """Only a clear "closed/resolved/selesai/done" closes a report; anything else is still open."""
    status = f.text("resolutionStatus", "status")
    return "resolved" if status and status.lower().rstrip(".") in _REPORT_RESOLVED else "open"


def _topic(f: Fields) -> str:
    words = " | ".join(t for t in (f.text(k, limit=DESCRIPTION_MAX) for k in _TOPIC_FIELDS) if t).lower()
    if _DRAINAGE.search(words):
        return "drainage"
    if _WASTE.search(words):
        return "waste"
    return "other"


def _waste_container(f: Fields, source: str) -> WasteFill:
    """WasteContainer -> WasteFill. Without ``fillingLevel`` there is nothing to show."""
    entity_id = f.entity_id()
    fill = _fill(f.number("fillingLevel", required=True))  # type: ignore[arg-type]
    lat, lon = f.location(required=True)
    observed = f.time("dateObserved", "dateModified", "modifiedAt", "dateUpdated", "binLoggedTime", "observedAt", required=True)
    return WasteFill(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        name=f.text("name"),
        fill=fill,
        status=f.text("status"),
    )


def _fill(value: float) -> float:
    """0..1 as the schema says; 1 < x <= 100 can only be a percentage."""
    if 0.0 <= value <= 1.0:
        return value
    if 1.0 < value <= 100.0:
        return value / 100.0
    raise Rejected(Reason.INVALID_VALUE, f"fillingLevel: {value} is neither a fraction nor a percentage")


def _queue_monitor(f: Fields, source: str) -> QueueReading:
    """QueueMonitor -> QueueReading, one MPP counter line."""
    entity_id = f.entity_id()
    agency = f.text("officeName", "name", required=True)
    observed = f.time(
        "dateModified", "modifiedAt", "dateObserved", "observationDateTime", "dateCreated", "observedAt", required=True
    )
    _line_priority(f)
    wait = f.number("averageWaitingTime")
    state = _service_state(f)
    if wait is not None and wait < 0:
        raise Rejected(Reason.INVALID_VALUE, "averageWaitingTime: must not be negative")
    return QueueReading(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        agency=agency,
        service=f.text("serviceName"),
        waiting=f.count("ticketsToServe") or 0,
        serving=f.count("ticketsBeingServed") or 0,
        served_today=f.count("ticketServed") or 0,
        avg_wait_min=wait,
        open=state == "open",
        paused=state == "paused",
    )


def _line_priority(f: Fields) -> None:
    """Not shown, but checked: upstream sends it as a boolean or an integer, both fine."""
    value = f.attrs.get("linePriority")
    if value is not None and not isinstance(value, bool):
        to_float("linePriority", value)


def _service_state(f: Fields) -> str:
    """``open``, ``closed`` or ``paused``: some feeds send a plain boolean for open."""
    value = f.attrs.get("serviceStatus")
    if isinstance(value, bool):
        return "open" if value else "closed"
    return str(f.enum("serviceStatus", _SERVICE, "open"))


def _kpi(f: Fields, source: str) -> KpiReading:
    """KeyPerformanceIndicator -> KpiReading; the value must be a number to be plotted."""
    entity_id = f.entity_id()
    value = f.number("kpiValue", required=True)
    observed = f.time("dateModified", "modifiedAt", "updatedAt", "dateObserved", "observedAt")
    if observed is None:
        observed = _period_end(f)
    return KpiReading(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        kpi_id=entity_id.removeprefix(KPI_ID_PREFIX),
        name=f.text("name"),
        value=value,  # type: ignore[arg-type]
        standing=f.enum("currentStanding", _STANDING, None),
    )


def _period_end(f: Fields) -> datetime:
    """When a KPI without a modification time stood: its period's end, or now while the period
    is not over ("this month so far", sent on the 5th, was dead-lettered as from the future)."""
    period = f.attrs.get("calculationPeriod")
    if isinstance(period, dict) and period.get("to") is not None:
        return f.check_time("calculationPeriod.to", period["to"], until_now=True)
    raise Rejected(Reason.MISSING_FIELD, "dateModified (or modifiedAt, updatedAt, calculationPeriod.to)")


Mapper = Callable[[Fields, str], Event]

_ROUTES: dict[str, tuple[str, Mapper]] = {
    "Alert": ("Alert", _alert),
    "FloodMonitoring": ("FloodMonitoring", _flood_monitoring),
    "WaterObserved": ("WaterObserved", _water_observed),
    "IssueReporting": ("IssueReporting", _citizen_report),
    "Open311_ServiceRequest": ("Open311_ServiceRequest", _citizen_report),
    "Open311ServiceRequest": ("Open311_ServiceRequest", _citizen_report),
    "WasteContainer": ("WasteContainer", _waste_container),
    "QueueMonitor": ("QueueMonitor", _queue_monitor),
    "KeyPerformanceIndicator": ("KeyPerformanceIndicator", _kpi),
}
SOURCE_TYPES: tuple[str, ...] = tuple(sorted({canonical for canonical, _ in _ROUTES.values()}))
_IRI_TAIL = re.compile(r"[#/:]")


def route(kind: Any) -> tuple[str, Mapper]:
    """The mapper for a payload's ``type``.

    An NGSI-LD expanded IRI is matched by its last segment, and an NGSI-LD type array by its
    first known member; anything else unknown is refused.
    """
    if kind is None or kind == "":
        raise Rejected(Reason.UNKNOWN_TYPE, "type is missing")
    for name in kind if isinstance(kind, list) else [kind]:
        if isinstance(name, str) and name:
            route = _ROUTES.get(name) or _ROUTES.get(_IRI_TAIL.split(name)[-1])
            if route is not None:
                return route
    raise Rejected(Reason.UNKNOWN_TYPE, f"type: {sample(kind)}")
