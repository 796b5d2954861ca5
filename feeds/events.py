"""Typed events: what a feed hands to the store once a message has passed validation.

Whatever the wire form (NGSI-v2 or NGSI-LD, keyValues or normalized, MQTT or Redis), a
message becomes exactly one of these. Everything downstream (store, panels, API) sees only
these shapes, so a new wire format touches ``feeds/`` alone.

Every event carries the entity ``id`` (updates of one thing share it, which makes applying
them idempotent) and ``observed_at``, the message's own time in UTC: the store orders by
it, never by arrival, so a late message cannot overwrite a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, Literal

Severity = Literal["critical", "high", "medium", "low", "informational"]
IncidentStatus = Literal["new", "acknowledged", "dispatched", "resolved"]
ReportTopic = Literal["drainage", "waste", "roads", "other"]
ReportStatus = Literal["open", "resolved"]
Standing = Literal["veryGood", "good", "fair", "bad", "veryBad"]

SEVERITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}


@dataclass(frozen=True, kw_only=True)
class Event:
    id: str
    observed_at: datetime
    source_type: str

    @property
    def kind(self) -> str:
        return KIND_OF[type(self)]

    def to_doc(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO times) for stores and the API.

        Events hold only scalars and times, so a shallow read of the fields is enough;
        ``dataclasses.asdict`` deep-copies and cost a sixth of the whole ingest path.
        """
        # a class is hashable; mypy checks the instances' __hash__, which eq dataclasses drop
        doc = {name: getattr(self, name) for name in _field_names(type(self))}  # type: ignore[arg-type]
        for key, value in doc.items():
            if isinstance(value, datetime):
                doc[key] = value.isoformat()
        doc["kind"] = self.kind
        return doc


@dataclass(frozen=True, kw_only=True)
class Located:
    lat: float | None = None
    lon: float | None = None
    kecamatan: str | None = None


@dataclass(frozen=True, kw_only=True)
class Incident(Event, Located):
    """An ``Alert``: something operators must act on, with a lifecycle."""

    category: str
    sub_category: str | None = None
    severity: Severity = "medium"
    #: False when the message named no severity (a status update): the incident then keeps
    #: the one it has (``dashboard.ingest``) instead of taking this default
    severity_said: bool = True
    status: IncidentStatus = "new"
    description: str = ""
    address: str | None = None
    opened_at: datetime | None = None  # dateIssued/dateCreated: when the incident began, for age and SLA


@dataclass(frozen=True, kw_only=True)
class WaterLevel(Event, Located):
    """A drainage or river gauge reading (``FloodMonitoring`` or ``WaterObserved``)."""

    station_id: str
    name: str | None = None
    level_m: float
    alert_level_m: float | None = None
    danger_level_m: float | None = None
    status_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class CitizenReport(Event, Located):
    """A complaint from the public (``IssueReporting`` or ``Open311_ServiceRequest``)."""

    topic: ReportTopic
    channel: str = ""  # the complaint app it came through, as shown on screen
    category: str = ""
    description: str = ""
    status: ReportStatus = "open"
    opened_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class WasteFill(Event, Located):
    """A TPS or container fill level (``WasteContainer``), 0..1."""

    name: str | None = None
    fill: float
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueueReading(Event):
    """One MPP counter line (``QueueMonitor``): who waits, who is served, how many today."""

    agency: str
    service: str | None = None
    waiting: int = 0
    serving: int = 0
    served_today: int = 0
    avg_wait_min: float | None = None
    open: bool = True
    #: not serving for a while (``Suspended``: the midday break, say) while people keep
    #: waiting; a paused counter is not open, but the wall says "jeda", not "tutup"
    paused: bool = False


@dataclass(frozen=True, kw_only=True)
class KpiReading(Event):
    """A KPI computed elsewhere (``KeyPerformanceIndicator``)."""

    kpi_id: str
    name: str | None = None
    value: float
    standing: Standing | None = None


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


KIND_OF: dict[type, str] = {
    Incident: "incident",
    WaterLevel: "water_level",
    CitizenReport: "report",
    WasteFill: "waste_fill",
    QueueReading: "queue",
    KpiReading: "kpi",
}


class Reason(str, Enum):
    """Why a message was dead-lettered; each is counted separately in health and metrics."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    MALFORMED_JSON = "malformed_json"
    TOO_DEEP = "too_deep"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    NON_FINITE_NUMBER = "non_finite_number"
    COORDINATES_OUT_OF_RANGE = "coordinates_out_of_range"
    FUTURE_TIME = "future_time"
    BAD_TEXT = "bad_text"  # an identifier holding a lone surrogate, a control or a bidi character
    STORE_REJECTED = "store_rejected"  # the store refused the message itself (not an outage)
    TOO_MANY_ENTITIES = "too_many_entities"  # a new id past the configured cap for its kind
    TOO_OLD = "too_old"  # an incident or report not held, older than resolved ones are kept: a replay


class Rejected(Exception):
    """A message that cannot become an event. ``detail`` names the field when there is one."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message kept for inspection: where it came from, why, and its first bytes."""

    feed: str
    origin: str
    reason: Reason
    detail: str
    received_at: datetime
    excerpt: str = field(default="")

    def to_doc(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "origin": self.origin,
            "reason": self.reason.value,
            "detail": self.detail,
            "received_at": self.received_at.isoformat(),
            "excerpt": self.excerpt,
        }
