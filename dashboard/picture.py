"""The city's current picture: what every panel, the tablet and ``/api/v1/state`` read.

Sections are read from the store in time that does not grow with the city: the big sets
(incidents, citizen reports) from the read models the store keeps at write time
(``dashboard.read_models``); the small, capped ones (stations, TPS sites, MPP counters,
KPIs) from their entities, and only when their kinds moved (``Sections``). Thresholds and
targets are applied at read time where they can be, so they are whatever the config says
now, and every process (ingest or web, memory or Redis) derives the same thing from the same
store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from datetime import time as dt_time
from typing import Any, TypeVar

from dashboard.config import Config, DrainageLevels, Kpi
from dashboard.incident_ops import OPS_KIND, merge_all
from dashboard.ingest_members import as_deployed
from dashboard.kpis import DERIVED
from dashboard.read_models import (
    INCIDENTS_NEW,
    INCIDENTS_OPEN,
    INCIDENTS_RESOLVED,
    INCIDENTS_RESOLVED_SLA,
    REPORTS_OPEN,
    tag_counts,
    time_key,
    waste_median_hours,
    waste_resolved_day,
)
from dashboard.store.base import SeriesPoint, StateStore, entity_series, kpi_series
from dashboard.wall_control import ID as WALL_ID
from dashboard.wall_control import KIND as WALL_KIND
from dashboard.wall_control import STAGES, wall_part
from feeds.events import SEVERITY_RANK
from layouts.mayor.figures import shown
from layouts.picture import CRITICAL_SHOWN, CityPicture, critical_head
from layouts.sections import (
    JUDGED,
    STANDINGS,
    CityInfo,
    ContainerRow,
    CounterRow,
    DrainageSection,
    Freshness,
    GaugeRow,
    HourServed,
    IncidentRow,
    IncidentsSection,
    KpiEntry,
    KpisSection,
    KpiTrend,
    MppSection,
    PillarBlock,
    ReportsSection,
    StageLevels,
    TickerLine,
    TopRows,
    WallSection,
    WasteSection,
    round_half_up,
)

Made = TypeVar("Made")

#: A last arrival this far in the future is no sign of life: the clock was set back (an NTP
#: step) after it was stamped, and a feed that died then looked fresh for as long as the step
#: plus its limit. Closer than this, it is two hosts' clocks that differ a little.
CLOCK_SKEW_S = 5.0
PANEL_KINDS: dict[str, tuple[str, ...]] = {
    "incidents": ("incident",),
    "drainage": ("water_level",),
    "waste": ("waste_fill", "report"),
    "mpp": ("queue",),
    "kpis": ("kpi",),
}


def build_picture(
    store: StateStore,
    config: Config,
    now: float | None = None,
    sections: Sections | None = None,
    live: dict[str, Any] | None = None,
    lazy: bool = False,
) -> CityPicture:
    """The city now. ``version`` is read first, so a picture is never newer than it says.

    With ``sections`` (one per process, kept by the web side's cache), a section whose kinds
    did not move since the last picture is the very same object as before: nothing of it is
    read again, and a panel that shows only it knows, by identity, that it has nothing to send.
    ``lazy``: each section is read when first asked for (``CityPicture.lazily``), which only a
    store in this process's memory allows: its reads never wait on the network.
    ``live``: the ``live_sections`` of this ``now``, when the caller has read them already.
    """
    now = time.time() if now is None else now
    version = store.version()
    reading = _Reading(store, config, now, sections if sections is not None else Sections(), whole=not lazy)
    picture = CityPicture.lazily(
        {name: getattr(reading, name) for name in LAZY_SECTIONS},
        version=version,
        **(live if live is not None else live_sections(store, config, now)),
    )
    return picture if lazy else picture.settle()


#: The picture's sections read from the store when first asked for; the rest are read at once.
LAZY_SECTIONS = ("city", "incidents", "critical", "drainage", "waste", "mpp", "reports", "ticker", "kpis", "wall")
#: The sections the derived KPIs are computed from (``dashboard.kpis.DERIVED``); their feeds'
#: last deliveries (``freshness``) also go into what the KPIs show.
KPI_INPUTS = ("incidents", "reports", "drainage", "waste", "mpp")


class _Reading:
    """How each section of one picture is read: through the process's ``Sections``, with the
    kinds' versions as they were when the picture was begun. A section asked for later is
    then the one an eager reading would have made, unless its kinds moved in between; it is
    then newer than the picture's version, which a reading may always be."""

    def __init__(self, store: StateStore, config: Config, now: float, sections: Sections, whole: bool = True) -> None:
        self.store = store
        self.whole = whole  # every section is read now (``settle``): the incidents' among them
        self.config = config
        self.now = now
        self.sections = sections
        self.moved = store.kind_versions()
        self.minute = int(now // 60)  # what was resolved in the last 24 hours shrinks as time passes

    def _get(self, name: str, extra: tuple[Any, ...], build: Callable[[], Any], keep_equal: bool = False) -> Any:
        return self.sections.get(name, self.moved, extra, build, keep_equal)

    def city(self, _: CityPicture) -> CityInfo:
        city = self.config.city
        return self._get("city", (), lambda: CityInfo(city.name, city.timezone, city.language))

    def incidents(self, _: CityPicture) -> IncidentsSection:
        made = self.sections.rows_made
        return self._get("incidents", (self.minute,), lambda: incidents_part(self.store, self.config, self.now, made))

    def critical(self, picture: CityPicture) -> Sequence[IncidentRow]:
        """Read apart from the incidents when the picture is read lazily; a picture read whole
        (a store over the network) takes them from the incidents' rows it reads anyway."""

        def build() -> Sequence[IncidentRow]:
            if self.whole:
                return critical_head(picture.incidents)
            return critical_part(self.store, self.sections.critical_made)

        return self._get("critical", (), build, keep_equal=True)

    def reports(self, _: CityPicture) -> ReportsSection:
        return self._get("reports", (), lambda: reports_part(self.store, self.config))

    def drainage(self, _: CityPicture) -> DrainageSection:
        return self._get("drainage", (), lambda: drainage_part(self.store, self.config))

    def waste(self, _: CityPicture) -> WasteSection:
        return self._get("waste", (self.minute,), lambda: waste_part(self.store, self.config, self.now))

    def mpp(self, _: CityPicture) -> MppSection:
        return self._get("mpp", (self.minute,), lambda: mpp_part(self.store, self.config, self.now))

    def ticker(self, _: CityPicture) -> list[TickerLine]:
        return self._get("ticker", (), lambda: ticker_lines(self.store, self.config, self.sections.ticker_made))

    def kpis(self, picture: CityPicture) -> KpisSection:
        delivered = tuple((family, fresh.updated_at) for family, fresh in picture.freshness.items())
        inputs = (self.minute, delivered, *(id(getattr(picture, name)) for name in KPI_INPUTS))
        trends = self._get("kpi_trends", (self.minute,), lambda: kpi_trends(self.store, self.config, self.now))
        return self._get("kpis", inputs, lambda: kpis_part(self.store, self.config, picture, self.now, trends))

    def wall(self, picture: CityPicture) -> WallSection:
        drainage = picture.drainage
        build = lambda: build_wall_part(self.store, self.config, self.now, drainage)  # noqa: E731
        return self._get("wall", (id(drainage),), build, keep_equal=True)


class Sections:
    """The last built object of each picture section and what it was built from.

    A section is rebuilt only when one of its kinds' versions moved (``SECTION_KINDS``) or
    one of its ``extra`` inputs changed (the minute, for what counts "today"); otherwise the
    same object is handed out again. Incidents at 500 a second then rebuild the incidents
    section, from its read models, and leave drainage, waste and the MPP alone. A small
    section that most of those incidents leave as it was (the critical ones, the wall's) is
    also handed out again when rebuilt equal: the views that read only it are then known
    unchanged by identity (``layouts.live_parts``), where every look at a page worked them
    out again.

    Lazy pictures build their sections in whichever thread reads them first (the event loop,
    a callback's thread), so one lock, re-entered by a section built from others (the KPIs),
    keeps two threads from building one section at once.
    """

    def __init__(self) -> None:
        self._built: dict[str, tuple[tuple[Any, ...], Any]] = {}
        self._lock = threading.RLock()
        #: The ticker's lines by the stored line they were made from (``ticker_lines``).
        self.ticker_made: dict[int, tuple[dict[str, Any], TickerLine]] = {}
        #: And the incidents' rows by their stored document (``incidents_part``), the critical
        #: ones' apart (``critical_part``).
        self.rows_made: dict[int, tuple[dict[str, Any], IncidentRow]] = {}
        self.critical_made: dict[int, tuple[dict[str, Any], IncidentRow]] = {}

    def get(
        self, name: str, moved: dict[str, int], extra: tuple[Any, ...], build: Callable[[], Any], keep_equal: bool = False
    ) -> Any:
        key = (*(moved.get(kind, 0) for kind in SECTION_KINDS[name]), *extra)
        with self._lock:
            hit = self._built.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
            value = build()
            if keep_equal and hit is not None and hit[1] == value:
                value = hit[1]
            self._built[name] = (key, value)
            return value


#: The kinds each section is made of (see ``Sections``).
SECTION_KINDS: dict[str, tuple[str, ...]] = {
    "incidents": ("incident", OPS_KIND),
    "critical": ("incident", OPS_KIND),
    "reports": ("report",),
    "drainage": ("water_level", "report"),
    "waste": ("waste_fill", "report"),
    "mpp": ("queue",),
    "ticker": ("incident", "report"),
    "kpis": ("kpi",),
    "kpi_trends": (),  # points are sampled once a minute and bump no version
    "wall": (WALL_KIND, "incident", OPS_KIND),
    "city": (),  # the config's, for the life of the process
}

#: How many open incidents a picture carries: the queue, the map's markers and the console's
#: first screen; the rest are one page away (``GET /api/v1/incidents``).
TOP_ROWS = 200
#: How far down the not-yet-acknowledged incidents a takeover rule looks for its match.
TAKEOVER_SCAN = 500


def build_wall_part(store: StateStore, config: Config, now: float, drainage: DrainageSection | None = None) -> WallSection:
    """The ``wall`` section (also ``GET /api/v1/wall``): pushed incidents are read by id and
    takeover rules look at the head of the not-yet-acknowledged ones, never at every incident."""
    record = _wall_record(store)
    pinned = [p["incident"] for p in (record or {}).get("pushed", []) if isinstance(p, dict) and p.get("incident")]
    merged = merge_all(store.get("incident", pinned), store.get(OPS_KIND, pinned)) if pinned else {}
    fresh = [
        found
        for rule in config.operations.takeovers
        if rule.kind == "incident"
        if (found := _first_new(store, rule.severity, rule.category)) is not None
    ]
    stations = []
    if config.operations.takeovers:
        stations = (drainage if drainage is not None else drainage_part(store, config)).stations
    return wall_part(record, config.operations, merged, fresh, stations, now)


def _first_new(store: StateStore, severity: str, category: str | None) -> dict[str, Any] | None:
    """The first not-yet-acknowledged incident at ``severity`` or worse (and of ``category``),
    in the index's order: most severe, then oldest. The index is ordered by severity first,
    so the scan stops at the first row past the rule's severity."""
    worst = SEVERITY_RANK.get(severity, 2)
    after: str | None = None
    scanned, page = 0, 8  # the head first: it matches almost always, and every incident asks again
    while scanned < TAKEOVER_SCAN:
        rows = store.index_page(INCIDENTS_NEW, after=after, limit=page)
        for _key, doc in rows:
            if SEVERITY_RANK.get(doc.get("severity") or "medium", 2) > worst:
                return None
            if category is None or doc.get("category") == category:
                return doc
        if len(rows) < page:
            return None
        scanned, page, after = scanned + len(rows), 50, rows[-1][0]
    return None


def _wall_record(store: StateStore) -> dict[str, Any] | None:
    stamped = store.read_stamped(WALL_KIND, WALL_ID)
    return stamped[1] if stamped else None


def ticker_lines(
    store: StateStore, config: Config, made: dict[int, tuple[dict[str, Any], TickerLine]] | None = None
) -> list[TickerLine]:
    """The newest ticker lines. With ``made`` (the last call's lines, by the stored line each
    was made from), a stored line that is the very same object is not made again: the memory
    store hands out the lines it keeps, which it never changes, and a new incident made all
    fifty again. (Redis decodes new objects each time: all are made.)"""
    make = _reusing(made, TickerLine.from_doc)
    return [make(doc) for doc in store.recent(config.history.ticker_events) if isinstance(doc, dict)]


def live_sections(store: StateStore, config: Config, now: float) -> dict[str, Any]:
    """The parts that change without a new version (a feed drops, time passes): read each time.
    Keyed by ``CityPicture`` field: the web side keeps each one's old object when it is equal."""
    fresh = freshness(store.last_seen(), config, now)
    return {
        "generated_at": iso(now),
        "feeds": as_deployed(store.feeds(), datetime.fromtimestamp(now, UTC)),
        "freshness": fresh,
        "seen": {family: info.updated_at is not None for family, info in fresh.items()},
    }


def freshness(seen: dict[str, float], config: Config, now: float) -> dict[str, Freshness]:
    """Per panel family: when data last arrived, how long a silence it may keep, and whether
    that is over. Feeds have their own rhythms: drainage gauges report every minute, a closed
    MPP every few minutes, so each family has its own limit."""
    thresholds = config.thresholds
    out: dict[str, Freshness] = {}
    for family, kinds in PANEL_KINDS.items():
        limit = thresholds.stale_after(family)
        last = max((seen.get(k, 0.0) for k in kinds), default=0.0)
        age = now - last
        out[family] = Freshness(
            updated_at=iso(last) if last else None, stale=not -CLOCK_SKEW_S <= age <= limit, stale_after_s=limit
        )
    return out


# --- incidents: from their read models (``dashboard.read_models``) --------------------------
def incidents_part(
    store: StateStore, config: Config, now: float, made: dict[int, tuple[dict[str, Any], IncidentRow]] | None = None
) -> IncidentsSection:
    """With ``made`` (kept by ``Sections``), a row whose stored document is the very same object
    as one the last section made a row of is that row again, as the ticker's lines are."""
    tags = store.index_tags(INCIDENTS_OPEN)
    day_ago = time_key(now - 86_400)
    docs = [doc for _, doc in store.index_page(INCIDENTS_OPEN, limit=TOP_ROWS)]
    return IncidentsSection(
        open=TopRows(docs, _reusing(made, IncidentRow.from_doc)),
        open_count=store.index_count(INCIDENTS_OPEN),
        by_severity=tag_counts(tags, "severity"),
        by_status=tag_counts(tags, "status"),
        by_kecamatan=tag_counts(tags, "kecamatan"),
        by_category=tag_counts(tags, "category"),
        by_assignee=tag_counts(tags, "assignee"),
        resolved_24h=store.index_count(INCIDENTS_RESOLVED, low=day_ago),
        resolved_within_sla_24h=store.index_count(INCIDENTS_RESOLVED_SLA, low=day_ago),
    )


#: Past the open index's critical keys: they begin with the critical rank (``incident_rows``).
CRITICAL_END = str(SEVERITY_RANK["critical"] + 1)


def critical_part(store: StateStore, made: dict[int, tuple[dict[str, Any], IncidentRow]] | None = None) -> TopRows:
    """The open critical incidents, most urgent first, ``CRITICAL_SHOWN`` at most: the head of
    the open incidents' index (most severe first), counted and read on its own, in O(log n +
    the rows shown): a city with a hundred critical incidents open read them all at every
    look. A row that stopped being critical between the count and the read is left out by
    its severity; one that became critical then leaves the last one out until the next
    picture, which its write asks for."""
    count = store.index_count(INCIDENTS_OPEN, high=CRITICAL_END)
    page = store.index_page(INCIDENTS_OPEN, limit=min(count, CRITICAL_SHOWN)) if count else []
    docs = [doc for _, doc in page if doc.get("severity") == "critical"]
    return TopRows(docs, _reusing(made, IncidentRow.from_doc))


def _reusing(
    made: dict[int, tuple[dict[str, Any], Made]] | None, make: Callable[[dict[str, Any]], Made]
) -> Callable[[dict[str, Any]], Made]:
    """``make``, except that a stored document that is the very same object as one the last
    call's maker was given gets the same thing back. ``made`` then holds what this maker made
    or handed back, as it is asked: a section's rows are made lazily (``TopRows``), and the map
    reads all two hundred on every new incident. Without ``made``, plain ``make``."""
    if made is None:
        return make
    last = dict(made)
    made.clear()

    def reuse(doc: dict[str, Any]) -> Made:
        hit = last.get(id(doc))
        value = hit[1] if hit is not None and hit[0] is doc else make(doc)
        made[id(doc)] = (doc, value)
        return value

    return reuse


# --- citizen reports, whatever their family or channel ---------------------------------------
def reports_part(store: StateStore, config: Config) -> ReportsSection:
    tags = store.index_tags(REPORTS_OPEN)
    by_channel = {c.name: 0 for c in config.complaints}
    by_channel.update(tag_counts(tags, "channel"))
    return ReportsSection(
        open=store.index_count(REPORTS_OPEN),
        open_by_topic=tag_counts(tags, "topic"),
        open_by_channel=by_channel,
    )


def _open_by_kecamatan(store: StateStore, topic: str) -> dict[str, int]:
    return tag_counts(store.index_tags(REPORTS_OPEN), f"kecamatan:{topic}")


# --- drainage -------------------------------------------------------------------------------
def drainage_part(store: StateStore, config: Config) -> DrainageSection:
    stations = []
    for doc in store.entities("water_level").values():
        levels = station_levels(doc, config)
        stage = stage_of(doc["level_m"], levels)
        trend = store.series(entity_series("water_level", doc["id"]), since=ts(doc["observed_at"]) - 6 * 3_600)
        judged_by = StageLevels(waspada=levels.waspada, siaga=levels.siaga, awas=levels.awas)
        stations.append(GaugeRow.from_doc(doc, stage, judged_by, trend))
    stations.sort(key=_worst_first)
    worst = max((s.stage for s in stations), key=STAGES.index, default="Normal")
    return DrainageSection(
        stations=stations,
        worst_stage=worst,
        in_alert=sum(1 for s in stations if s.stage != "Normal"),
        flood_alert=worst in ("Siaga", "Awas"),
        reports_open_by_kecamatan=_open_by_kecamatan(store, "drainage"),
    )


def _worst_first(station: GaugeRow) -> tuple[int, float, str, str]:
    """By stage; within one, by how near the station is to its next stage's line, in metres (at
    Awas, how far over it). The flood banner names the first stations: by name, it named two
    stations 2,5 m high and hid a third at 2,8 m behind "+2 lainnya"."""
    levels = station.levels
    line = {"Normal": levels.waspada, "Waspada": levels.siaga}.get(station.stage, levels.awas)
    return (-STAGES.index(station.stage), line - station.level_m, station.title, station.id)


def station_levels(doc: dict[str, Any], config: Config) -> DrainageLevels:
    """Config per station wins; then the gauge's own alert/danger levels; then the default.

    Never raises: the levels come from the gauge's message, and a stage that cannot be drawn
    would take the drainage panel, the KPIs and every screen's overlay down with it."""
    own = config.thresholds.drainage_stations.get(doc.get("station_id", ""))
    if own:
        return own
    alert, danger = doc.get("alert_level_m"), doc.get("danger_level_m")
    if alert is not None and danger is not None and 0 < alert < danger:
        waspada = max(alert - (danger - alert), alert * 0.75)
        if 0 < waspada < alert:  # levels so near zero that they round together cannot be stages
            return DrainageLevels(waspada=waspada, siaga=alert, awas=danger)
    return config.thresholds.drainage


def stage_of(level: float, levels: DrainageLevels) -> str:
    if level >= levels.awas:
        return "Awas"
    if level >= levels.siaga:
        return "Siaga"
    if level >= levels.waspada:
        return "Waspada"
    return "Normal"


# --- waste ----------------------------------------------------------------------------------
def waste_part(store: StateStore, config: Config, now: float) -> WasteSection:
    full = config.thresholds.waste_full
    containers = sorted(store.entities("waste_fill").values(), key=lambda d: (-d["fill"], d["id"]))
    topics = tag_counts(store.index_tags(REPORTS_OPEN), "topic")
    resolved, within = waste_resolved_day(store, now)
    median_h = waste_median_hours(store)
    return WasteSection(
        containers=[ContainerRow.from_doc(c, c["fill"] >= full) for c in containers],
        over_threshold=sum(1 for c in containers if c["fill"] >= full),
        reports_open=topics.get("waste", 0),
        reports_resolved=resolved,
        reports_resolved_within_sla=within,
        median_resolve_h=round_half_up(median_h, 1) if median_h is not None else None,
        reports_open_by_kecamatan=_open_by_kecamatan(store, "waste"),
        other_reports_open=topics.get("other", 0),
    )


# --- MPP ------------------------------------------------------------------------------------
def mpp_open_on(config: Config, day: datetime) -> bool:
    """Whether the MPP opens on ``day`` at all: not on a weekday it keeps closed, nor on a
    public holiday."""
    return day.strftime("%A").lower() in config.mpp.open_weekdays and day.date() not in config.mpp.closed_dates


def mpp_target(config: Config, day: datetime) -> int:
    """The day's permits target: none on a day the MPP is closed (it stood 'bad' every weekend
    and every public holiday)."""
    if not mpp_open_on(config, day):
        return 0
    busy = day.strftime("%A").lower() in config.mpp.busy_weekdays
    return config.mpp.permits_busy_day if busy else config.mpp.permits_per_day


def _minute_of_day(t: dt_time | datetime) -> int:
    return t.hour * 60 + t.minute


def mpp_due(config: Config, local_now: datetime, target: int) -> int:
    """The share of ``target`` due by ``local_now`` at an even pace over the opening hours
    (a closed day's target is none already)."""
    opens, closes = _minute_of_day(config.mpp.opens), _minute_of_day(config.mpp.closes)
    return round(target * min(1.0, max(0.0, (_minute_of_day(local_now) - opens) / (closes - opens))))


def mpp_open_now(config: Config, local_now: datetime) -> bool:
    """Whether the MPP serves at ``local_now``: an open day, between opening and closing."""
    minute = _minute_of_day(local_now)
    return mpp_open_on(config, local_now) and _minute_of_day(config.mpp.opens) <= minute < _minute_of_day(config.mpp.closes)


def mpp_part(store: StateStore, config: Config, now: float) -> MppSection:
    tz = config.city.tz
    local_now = datetime.fromtimestamp(now, tz)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = [d for d in store.entities("queue").values() if ts(d["observed_at"]) >= midnight.timestamp()]
    today.sort(key=lambda d: (-d.get("waiting", 0), d["id"]))
    served = sum(d.get("served_today", 0) for d in today)
    waiting = sum(d.get("waiting", 0) for d in today)
    # the counters that serve now: a closed MPP's agencies report a wait of 0, and the wall
    # read "0,0 mnt rata-rata tunggu" all night
    waits = [
        (d["avg_wait_min"], d.get("waiting", 0) or 1) for d in today if d.get("avg_wait_min") is not None and d.get("open", True)
    ]
    avg_wait = sum(w * n for w, n in waits) / sum(n for _, n in waits) if waits else None
    target = mpp_target(config, local_now)
    due = mpp_due(config, local_now, target)
    return MppSection(
        agencies=[CounterRow.from_doc(d) for d in today],
        served_today=served,
        waiting=waiting,
        serving=sum(d.get("serving", 0) for d in today),
        avg_wait_min=round_half_up(avg_wait, 1) if avg_wait is not None else None,
        target=target,
        attainment_pct=round_half_up(100 * served / target, 1) if target else None,
        name=config.mpp.name,
        services=config.mpp.services,
        agencies_total=config.mpp.agency_count,
        hourly=_hourly(store, [d["id"] for d in today], midnight, local_now, config.mpp.opens),
        due_now=due,
        pace_pct=round_half_up(100 * served / due, 1) if due else None,
        open_now=mpp_open_now(config, local_now),
    )


def _hourly(store: StateStore, ids: list[str], midnight: datetime, local_now: datetime, opens: dt_time) -> list[HourServed]:
    """Permits served per local hour, from each counter's cumulative series since midnight.

    A counter first heard of today later than an hour after opening carries tickets served
    at times nobody saw: they count in "served today", in no hour. A demo begun at 20:10
    drew the day's 700 as one bar at 20:00, four hours after the MPP closed."""
    start = midnight.timestamp()
    first_counted = start + (opens.hour + 1) * 3_600 + opens.minute * 60
    hours = local_now.hour + 1
    per_hour = [0.0] * hours
    for entity_id in ids:
        last_by_hour: dict[int, float] = {}
        points = store.series(entity_series("queue", entity_id), since=start)  # none before ``start``
        for t, value in points:
            hour = int((t - start) // 3_600)
            if hour < hours:
                last_by_hour[hour] = value
        previous = points[0][1] if points and points[0][0] > first_counted else 0.0
        for hour in range(hours):
            if hour in last_by_hour:
                per_hour[hour] += max(0.0, last_by_hour[hour] - previous)
                previous = last_by_hour[hour]
    return [HourServed(hour=h, served=int(v)) for h, v in enumerate(per_hour)]


# --- KPIs -----------------------------------------------------------------------------------
def kpi_trends(store: StateStore, config: Config, now: float) -> dict[str, KpiTrend]:
    """Every KPI's day and month trend: read once a minute, not with every incident."""
    return {kpi.id: _trend(store, kpi.id, now) for _, kpi in config.kpis()}


def kpis_part(
    store: StateStore, config: Config, picture: CityPicture, now: float, trends: dict[str, KpiTrend] | None = None
) -> KpisSection:
    received = {_kpi_key(d): d for d in store.entities("kpi").values()}
    language = config.city.language
    entries: dict[str, list[KpiEntry]] = {p.id: [] for p in config.pillars}
    for pillar, kpi in config.kpis():
        value: float | None
        closed = False
        if kpi.source == "derived":
            family = DERIVED[kpi.id].family
            value, updated = _derived(picture, kpi.id, family)
            closed = updated is not None and DERIVED[kpi.id].closed(picture)
        else:
            family, doc = "kpis", received.get(kpi.id)
            value, updated = (doc["value"], doc["observed_at"]) if doc else (None, None)
        entries[pillar].append(
            KpiEntry(
                id=kpi.id,
                name=kpi.name.get(language) or next(iter(kpi.name.values())),
                unit=kpi.unit,
                value=value,
                target=kpi.target,
                better=kpi.better,
                standing="closed" if closed else standing(value, kpi),
                updated_at=updated,
                family=family,
                trend=trends[kpi.id] if trends is not None else _trend(store, kpi.id, now),
            )
        )
    return KpisSection(
        pillars={
            p.id: PillarBlock(
                name=p.label(language), icon=p.icon, kpis=entries[p.id], standing=_worst([k.standing for k in entries[p.id]])
            )
            for p in config.pillars
        }
    )


def _derived(picture: CityPicture, kpi_id: str, family: str) -> tuple[float | None, str | None]:
    """A derived KPI's value, and when its feed last delivered: none before that feed ever has.
    It was stamped with the picture's time, so a KPI from a feed silent for hours looked new."""
    if not picture.seen.get(family):
        return None, None
    fresh = picture.freshness.get(family)
    return DERIVED[kpi_id].value(picture), fresh.updated_at if fresh else None


def _kpi_key(doc: dict[str, Any]) -> str:
    return str(doc.get("kpi_id") or doc["id"])


def standing(value: float | None, kpi: Kpi) -> str:
    """Against the target, in the SDM's words; counts with a zero target get a small margin.
    Judged on the value as the tablet shows it, so the word and the number agree."""
    if value is None:
        return "unknown"
    value = shown(value, kpi.unit)
    target = kpi.target
    if kpi.better == "higher":
        if value >= target:
            return "good"
        return "fair" if value >= 0.85 * target else "bad"
    if value <= target:
        return "good"
    return "fair" if value <= target * 1.25 + 1 else "bad"


def _worst(standings: list[str]) -> str:
    """The worst judged standing; a pillar whose KPIs are all closed now is closed too."""
    known = [s for s in standings if s in JUDGED]
    if known:
        return max(known, key=STANDINGS.index)
    return "closed" if standings and all(s == "closed" for s in standings) else "unknown"


def _trend(store: StateStore, kpi_id: str, now: float) -> KpiTrend:
    day = store.series(kpi_series(kpi_id), since=now - 86_400)
    month = store.series(kpi_series(kpi_id, month=True), since=now - 31 * 86_400)
    return KpiTrend(day=day, month=month)


def kpi_day_point(kpi_id: str, t: float, value: float) -> SeriesPoint:
    """A point of the KPI's day trend: one a minute, kept 24 h."""
    return SeriesPoint(kpi_series(kpi_id), t, value, 60, 1_440, 86_400)


def kpi_month_point(kpi_id: str, t: float, value: float) -> SeriesPoint:
    """A point of the KPI's month trend: one an hour, kept 31 days."""
    return SeriesPoint(kpi_series(kpi_id, month=True), t, value, 3_600, 744, 31 * 86_400)


def sample_kpis(store: StateStore, config: Config, now: float | None = None) -> int:
    """Write every KPI's current value into its day (1 min) and month (1 h) series.

    A KPI counted from a feed that has fallen silent is not written: its value is the last
    one heard, and writing it every minute drew a flat line to "now" on the mayor's tablet,
    "steady over 6 min" beside "0 stations in alert" with the gauges' feed dead. The line now
    stops where the data stopped. A KPI sent as a message of its own keeps its own rhythm (a
    month's revenue holds until the next), and is written as before."""
    now = time.time() if now is None else now
    picture = build_picture(store, config, now)
    written = 0
    for block in picture.kpis.pillars.values():
        for kpi in block.kpis:
            if kpi.value is None or _silent(picture, kpi.family, now):
                continue
            store.add_point(kpi_day_point(kpi.id, now, float(kpi.value)))
            store.add_point(kpi_month_point(kpi.id, now, float(kpi.value)))
            written += 1
    return written


def _silent(picture: CityPicture, family: str, now: float) -> bool:
    """Whether the feed a KPI is counted from has gone quiet past its limit, or never spoke.
    Data stamped after ``now`` (another process's clock ahead of this one's) is not silence."""
    if family == "kpis":
        return False
    fresh = picture.freshness.get(family)
    if fresh is None or fresh.updated_at is None:
        return True
    return now - ts(fresh.updated_at) > fresh.stale_after_s


# --- helpers --------------------------------------------------------------------------------
def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")
