"""The sections of the city picture: one definition for the store side that builds them
(``dashboard.picture``), the panels, the tablet, the map, the API, the PDF and the tests.

They are frozen dataclasses with slots: a section is built once per change of its kinds and
then read by every view of every page, so building must cost no more than a dict (no
validation: what goes in was checked at the door, by the feeds and the config), and frozen,
because an unchanged section is handed out again as the very same object and a panel knows by
identity that it has nothing to send (``layouts.live_parts``). Attribute names are checked by
mypy in every reader; ``layouts.picture.to_json`` writes them out as the JSON the API has
always answered.

The rows inside a section (an open incident, a gauge, a container, an MPP counter, a ticker
line) are typed too: each is built from the store's JSON document by its ``from_doc``, which
names the fields a screen may read and fills the defaults the feeds guarantee, so no reader
guesses at a key. A row in the API has exactly those fields: the store's own bookkeeping
(``kind``) stays out, and a ticker line carries all its fields, empty where they do not apply.
``/api/v1/incidents`` is the place for whole documents.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, overload


def half_up(value: float, places: int = 0) -> Decimal:
    """``value`` to ``places`` decimals the way a supervisor checks it by hand: a 5 goes up.

    Python's ``round`` and Babel both round a tie to the even digit, and work on the binary
    float: 7.25 minutes came out as 7.2 and 2.675 as 2.67. The shortest text of the float
    (``str``) is what the number was written as, so it is rounded instead."""
    return Decimal(str(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_half_up(value: float, places: int = 0) -> float:
    """``half_up`` as a float, for a figure a read model carries (an infinity or NaN stays as it is)."""
    return float(half_up(value, places)) if math.isfinite(value) else value


def share_pct(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in per cent to one decimal, but never 100 while something is
    missing nor 0 while something is there: 1,999 of 2,000 in time rounded to 100.0, which
    read as "no misses"."""
    if not whole:
        return None
    pct = round_half_up(100 * part / whole, 1)
    if 0 < part < whole:
        return min(max(pct, 0.1), 99.9)
    return pct


@dataclass(frozen=True, slots=True)
class CityInfo:
    name: str = ""
    timezone: str = "UTC"
    language: str = "id"


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a family's data last arrived, and whether its silence has run past its limit."""

    updated_at: str | None
    stale: bool
    stale_after_s: int


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One open incident as the screens show it: the field's report with the operators' record
    laid over it (status, severity, assignee).

    It holds no age: a picture is read once per change of the city, and an age written into it
    stood still while nothing changed. The screens write the age in the browser from ``since``;
    the ticker and the API take it from ``age_at`` with the time of their reading.
    """

    id: str
    severity: str
    status: str
    category: str
    sub_category: str | None
    description: str
    kecamatan: str | None
    address: str | None
    lat: float | None
    lon: float | None
    assignee: str | None
    acked_at: str | None  #: when it was first acknowledged, by the field or an operator (ISO 8601)
    source_type: str
    observed_at: str
    opened_at: str | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> IncidentRow:
        return cls(
            id=doc["id"],
            severity=doc.get("severity") or "medium",
            status=doc.get("status") or "new",
            category=doc.get("category") or "",
            sub_category=doc.get("sub_category"),
            description=doc.get("description") or "",
            kecamatan=doc.get("kecamatan"),
            address=doc.get("address"),
            lat=doc.get("lat"),
            lon=doc.get("lon"),
            assignee=doc.get("assignee"),
            acked_at=doc.get("acked_at"),
            source_type=doc.get("source_type") or "",
            observed_at=doc["observed_at"],
            opened_at=doc.get("opened_at"),
        )

    @property
    def since(self) -> str:
        """When it started: opened by an operator, or else first seen in the field (ISO 8601)."""
        return self.opened_at or self.observed_at

    def age_at(self, now: float) -> int:
        """Whole seconds since it started, at ``now`` (epoch seconds); never below 0."""
        return max(0, int(now - epoch(self.since)))

    @property
    def text(self) -> str:
        """What a row says: the description, or the category when the report has none."""
        return self.description or self.category


class TopRows(Sequence[IncidentRow]):
    """The most urgent open incidents, each made into a row when it is first read.

    The incidents section is rebuilt with every new incident, up to 500 times a second, while
    a page reads the dozen rows it shows (the queue 14, the ticker the critical head). Making
    all ``TOP_ROWS`` rows every time was most of the cost of a picture; now only the map and
    the console, which read them all, pay for all. A picture is read by several threads: two
    that make the same row at once make equal rows, and either may be kept.
    """

    __slots__ = ("_docs", "_make", "_rows")

    def __init__(self, docs: Sequence[Any], make: Callable[[Any], IncidentRow]) -> None:
        self._docs = docs
        self._make = make
        self._rows: list[IncidentRow | None] = [None] * len(docs)

    @classmethod
    def of(cls, rows: Sequence[IncidentRow]) -> TopRows:
        """Rows already made (tests, other sources)."""
        return cls(list(rows), lambda row: row)

    def __len__(self) -> int:
        return len(self._docs)

    @overload
    def __getitem__(self, index: int) -> IncidentRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[IncidentRow]: ...
    def __getitem__(self, index: int | slice) -> IncidentRow | list[IncidentRow]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self._docs)))]
        if index < 0:
            index += len(self._docs)
        if not 0 <= index < len(self._docs):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[IncidentRow]:
        return (self._row(i) for i in range(len(self._docs)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (TopRows, list)):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content, and that content is made lazily

    def __repr__(self) -> str:
        return f"TopRows({len(self._docs)} rows)"

    def _row(self, i: int) -> IncidentRow:
        row = self._rows[i]
        if row is None:
            row = self._rows[i] = self._make(self._docs[i])
        return row


@dataclass(frozen=True, slots=True)
class IncidentsSection:
    """Open incidents, from the read models the store keeps at write time."""

    open: Sequence[IncidentRow]  #: the most urgent first (severity, then newest), at most ``TOP_ROWS``
    open_count: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_kecamatan: dict[str, int]
    by_category: dict[str, int]
    by_assignee: dict[str, int]
    resolved_24h: int
    resolved_within_sla_24h: int

    @classmethod
    def empty(cls) -> IncidentsSection:
        return cls(
            open=TopRows.of([]),
            open_count=0,
            by_severity={},
            by_status={},
            by_kecamatan={},
            by_category={},
            by_assignee={},
            resolved_24h=0,
            resolved_within_sla_24h=0,
        )


@dataclass(frozen=True, slots=True)
class TickerLine:
    """One line of the ticker: an incident (with its ``severity``) or a citizen report (with
    its ``topic`` and the ``channel`` it came through)."""

    t: str  #: when it was observed, ISO 8601
    kind: str  #: "incident" or "report"
    id: str
    severity: str | None
    topic: str | None
    channel: str
    status: str
    kecamatan: str | None
    text: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TickerLine:
        """From the line ingest stored (``dashboard.ingest``); a field it lacks reads as empty,
        so an old or damaged line shows blank instead of breaking the ticker."""
        return cls(
            t=str(doc.get("t") or ""),
            kind=str(doc.get("kind") or "incident"),
            id=str(doc.get("id") or ""),
            severity=doc.get("severity"),
            topic=doc.get("topic"),
            channel=str(doc.get("channel") or ""),
            status=str(doc.get("status") or ""),
            kecamatan=doc.get("kecamatan"),
            text=str(doc.get("text") or ""),
        )


@dataclass(frozen=True, slots=True)
class ReportsSection:
    """Open citizen reports, whatever their family or channel."""

    open: int
    open_by_topic: dict[str, int]
    open_by_channel: dict[str, int]

    @classmethod
    def empty(cls) -> ReportsSection:
        return cls(open=0, open_by_topic={}, open_by_channel={})


@dataclass(frozen=True, slots=True)
class StageLevels:
    """The three levels (metres) at which a gauge enters Waspada, Siaga and Awas."""

    waspada: float
    siaga: float
    awas: float


@dataclass(frozen=True, slots=True)
class GaugeRow:
    """One water-level gauge: its last reading, the stage that reading is in, the levels it was
    judged by, and six hours of ``(time, level)`` for the sparkline."""

    id: str
    station_id: str
    name: str | None
    kecamatan: str | None
    lat: float | None
    lon: float | None
    level_m: float
    alert_level_m: float | None
    danger_level_m: float | None
    status_text: str | None
    source_type: str
    observed_at: str
    stage: str  #: Normal, Waspada, Siaga or Awas
    levels: StageLevels
    trend: list[tuple[float, float]]

    @classmethod
    def from_doc(cls, doc: dict[str, Any], stage: str, levels: StageLevels, trend: list[tuple[float, float]]) -> GaugeRow:
        return cls(
            id=doc["id"],
            station_id=doc.get("station_id") or doc["id"],
            name=doc.get("name"),
            kecamatan=doc.get("kecamatan"),
            lat=doc.get("lat"),
            lon=doc.get("lon"),
            level_m=doc["level_m"],
            alert_level_m=doc.get("alert_level_m"),
            danger_level_m=doc.get("danger_level_m"),
            status_text=doc.get("status_text"),
            source_type=doc.get("source_type") or "",
            observed_at=doc["observed_at"],
            stage=stage,
            levels=levels,
            trend=trend,
        )

    @property
    def title(self) -> str:
        return self.name or self.station_id


@dataclass(frozen=True, slots=True)
class DrainageSection:
    """Gauges, worst stage first."""

    stations: list[GaugeRow]
    worst_stage: str
    in_alert: int
    flood_alert: bool
    reports_open_by_kecamatan: dict[str, int]

    @classmethod
    def empty(cls) -> DrainageSection:
        return cls(stations=[], worst_stage="Normal", in_alert=0, flood_alert=False, reports_open_by_kecamatan={})


@dataclass(frozen=True, slots=True)
class ContainerRow:
    """One TPS container: how full it was at its last reading, and whether that is past the
    city's threshold."""

    id: str
    name: str | None
    kecamatan: str | None
    lat: float | None
    lon: float | None
    fill: float  #: 0 to 1
    status: str | None
    source_type: str
    observed_at: str
    over_threshold: bool

    @classmethod
    def from_doc(cls, doc: dict[str, Any], over_threshold: bool) -> ContainerRow:
        return cls(
            id=doc["id"],
            name=doc.get("name"),
            kecamatan=doc.get("kecamatan"),
            lat=doc.get("lat"),
            lon=doc.get("lon"),
            fill=doc["fill"],
            status=doc.get("status"),
            source_type=doc.get("source_type") or "",
            observed_at=doc["observed_at"],
            over_threshold=over_threshold,
        )


@dataclass(frozen=True, slots=True)
class WasteSection:
    """TPS containers, fullest first (each with ``over_threshold``), and waste reports."""

    containers: list[ContainerRow]
    over_threshold: int
    reports_open: int
    reports_resolved: int
    reports_resolved_within_sla: int
    median_resolve_h: float | None
    reports_open_by_kecamatan: dict[str, int]
    other_reports_open: int

    @classmethod
    def empty(cls) -> WasteSection:
        return cls(
            containers=[],
            over_threshold=0,
            reports_open=0,
            reports_resolved=0,
            reports_resolved_within_sla=0,
            median_resolve_h=None,
            reports_open_by_kecamatan={},
            other_reports_open=0,
        )


@dataclass(frozen=True, slots=True)
class HourServed:
    hour: int  #: local hour of the day, 0 to 23
    served: int


@dataclass(frozen=True, slots=True)
class CounterRow:
    """One MPP counter (an agency's desk) as read today."""

    id: str
    agency: str
    service: str | None
    waiting: int
    serving: int
    served_today: int
    avg_wait_min: float | None
    open: bool
    paused: bool  #: stopped for a while (the break), people still waiting
    source_type: str
    observed_at: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> CounterRow:
        return cls(
            id=doc["id"],
            agency=doc.get("agency") or doc["id"],
            service=doc.get("service"),
            waiting=doc.get("waiting") or 0,
            serving=doc.get("serving") or 0,
            served_today=doc.get("served_today") or 0,
            avg_wait_min=doc.get("avg_wait_min"),
            open=doc.get("open", True),
            paused=doc.get("paused", False),
            source_type=doc.get("source_type") or "",
            observed_at=doc["observed_at"],
        )


@dataclass(frozen=True, slots=True)
class MppSection:
    """The public service mall today: its counters (busiest first) and the day against its target."""

    agencies: list[CounterRow]  #: the counters read today, longest queue first
    served_today: int
    waiting: int
    serving: int
    avg_wait_min: float | None
    target: int
    attainment_pct: float | None
    name: str
    services: int
    agencies_total: int
    hourly: list[HourServed]
    #: the share of ``target`` due by now, at an even pace over the opening hours (0 before
    #: opening and on closed days), and ``served_today`` against it: a morning is judged by
    #: the morning's share, not by the whole day's target
    due_now: int = 0
    pace_pct: float | None = None
    #: whether the MPP serves now (an open day, between opening and closing): outside that its
    #: KPIs stand closed (``dashboard.kpis``), not "no data yet" or a missed target
    open_now: bool = False

    @property
    def before_opening(self) -> bool:
        """An open day, before the MPP's hours: "0 / 1,000, 0.0 %" at midnight read as a missed
        target, where nothing is due yet."""
        return bool(self.target) and not self.open_now and not self.due_now

    @classmethod
    def empty(cls) -> MppSection:
        return cls(
            agencies=[],
            served_today=0,
            waiting=0,
            serving=0,
            avg_wait_min=None,
            target=0,
            attainment_pct=None,
            name="",
            services=0,
            agencies_total=0,
            hourly=[],
        )


@dataclass(frozen=True, slots=True)
class KpiTrend:
    """A KPI's history as ``(time, value)`` points: a point a minute for the day, an hour for the month."""

    day: list[tuple[float, float]]
    month: list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class KpiEntry:
    id: str
    name: str
    unit: str
    value: float | None
    target: float
    better: str  #: "higher" or "lower"
    standing: str  #: one of ``STANDINGS``
    updated_at: str | None
    trend: KpiTrend
    #: the panel family whose feed it comes from ("kpis": a KeyPerformanceIndicator message):
    #: the tablet marks the KPI stale when that feed is
    family: str = "kpis"


@dataclass(frozen=True, slots=True)
class PillarBlock:
    """A pillar's KPIs, and its standing: the worst of theirs."""

    name: str
    icon: str
    kpis: list[KpiEntry]
    standing: str


@dataclass(frozen=True, slots=True)
class KpisSection:
    pillars: dict[str, PillarBlock]

    @classmethod
    def empty(cls) -> KpisSection:
        return cls(pillars={})


#: A KPI's standing against its target, in the Smart Data Model's words, best first; then the
#: two that judge nothing: ``unknown`` (no value yet) and ``closed`` (no value because what it
#: measures is closed now: the MPP at night or on a holiday).
STANDINGS = ("veryGood", "good", "fair", "bad", "veryBad", "unknown", "closed")
#: The standings that say how a KPI stands against its target.
JUDGED = ("veryGood", "good", "fair", "bad", "veryBad")

#: The shift report's periods, and the figures each row of its tables carries, in order:
#: ``dashboard.shift_report`` makes the rows, ``layouts/pages/report.py`` heads the columns.
REPORT_PERIODS = ("shift", "day", "week")
#: The agency of incidents nobody was assigned, in the data (the page says it in words).
REPORT_UNASSIGNED = "-"


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """The report's tables (rows of figures, as the API answers them) and the period that the
    breakdowns by severity, category and agency cover (``2026-12-07 pagi``); the first
    table lists every period."""

    covers: str
    tables: dict[str, list[dict[str, Any]]]


REPORT_FIGURES = (
    "incidents",
    "acknowledged",
    "resolved",
    "ack_median_min",
    "ack_p90_min",
    "ack_within_sla_pct",
    "resolve_median_min",
    "resolve_p90_min",
    "resolve_within_sla_pct",
)


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store as the web side last saw it (``dashboard.health``); ``reset_at`` is a unix time."""

    status: str
    ok: bool
    epoch: Any
    reset_at: float | None


@dataclass(frozen=True, slots=True)
class ScreensSummary:
    """The wall's screens a live page shows out of those expected, and how many screens a
    page showed that no live page shows now (``dashboard.screen_registry``)."""

    expected: int
    live: int
    silent: int


@dataclass(frozen=True, slots=True)
class WallPreset:
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class Broadcast:
    """The banner across the wall; it ends at ``until`` (a unix time) by itself."""

    level: str  #: GREEN, ORANGE or RED
    text: str
    until: float
    by: str
    at: str


@dataclass(frozen=True, slots=True)
class PushedIncident:
    """An incident an operator put on one screen until ``until``, with what the screen shows of it."""

    screen: int
    incident: str
    until: float
    by: str
    at: str
    title: str
    severity: str | None
    status: str | None
    assignee: str | None
    where: str | None
    address: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class IncidentTakeover:
    """A config rule fired by a new incident: it holds its screen until someone acknowledges it."""

    screen: int
    rule: str
    kind: str  #: "incident"
    id: str
    severity: str | None
    title: str
    where: str | None
    category: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class StationTakeover:
    """A config rule fired by a gauge at or past a stage, until the station is acknowledged."""

    screen: int
    rule: str
    kind: str  #: "station"
    id: str
    stage: str
    title: str
    where: str | None
    level_m: float | None
    lat: float | None
    lon: float | None


Takeover = IncidentTakeover | StationTakeover


@dataclass(frozen=True, slots=True)
class WallSection:
    """What the wall shows besides its panels (also ``GET /api/v1/wall``)."""

    presets: list[WallPreset]
    current: str
    broadcast: Broadcast | None
    pushed: list[PushedIncident]
    takeovers: list[Takeover]

    @classmethod
    def empty(cls) -> WallSection:
        return cls(presets=[], current="default", broadcast=None, pushed=[], takeovers=[])

    def to_json(self) -> dict[str, Any]:
        return plain(self)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list (``GET /api/v1/incidents``, ``/reports``)."""

    items: list[dict[str, Any]]
    next: str | None  #: the cursor of the next page; None at the end

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "next": self.next}


@functools.lru_cache(maxsize=4_096)
def epoch(iso_time: str) -> float:
    """An ISO 8601 time as epoch seconds, UTC when it names no zone. The top rows come back
    with every reading, so their times are parsed once."""
    moment = datetime.fromisoformat(iso_time)
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def plain(value: Any) -> Any:
    """Dataclasses as dicts (in field order), all the way down; anything else as it is.

    Lists and dicts are walked only where they may hold a dataclass; the counts and other
    plain JSON inside a section are handed out as they are (not copied)."""
    fields = getattr(type(value), "__dataclass_fields__", None)
    if fields is not None:
        return {name: plain(getattr(value, name)) for name in fields}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()} if _holds_dataclass(value.values()) else value
    if isinstance(value, TopRows):
        return [plain(v) for v in value]
    if isinstance(value, list):
        return [plain(v) for v in value] if _holds_dataclass(value) else value
    return value


def _holds_dataclass(values: Any) -> bool:
    for v in values:
        return hasattr(type(v), "__dataclass_fields__")
    return False
