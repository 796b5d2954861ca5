"""The city's current picture: what every panel, the tablet and ``/api/v1/state`` read.

Derived at read time from the stored entities, so thresholds and targets are whatever the
config says now, and every process (ingest or web, memory or Redis) derives the same thing
from the same store. The web layer caches one picture per store version.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone
from statistics import median
from typing import Any

from dashboard.config import Config, DrainageLevels, Kpi
from dashboard.store.base import SeriesPoint, StateStore
from dashboard.incident_ops import merge_all
from dashboard.wall_control import ID as WALL_ID, KIND as WALL_KIND, wall_part
from feeds.events import SEVERITY_RANK

OPS_KIND = "incident_ops"  # operators' records, laid over the field's incidents (dashboard.incident_ops)

STAGES = ("Normal", "Waspada", "Siaga", "Awas")
PANEL_KINDS: dict[str, tuple[str, ...]] = {
    "incidents": ("incident",),
    "drainage": ("water_level",),
    "waste": ("waste_fill", "report"),
    "mpp": ("queue",),
    "kpis": ("kpi",),
}


def build_picture(store: StateStore, config: Config, now: float | None = None) -> dict[str, Any]:
    """Everything at once. ``version`` is read first, so a picture is never newer than it says."""
    now = time.time() if now is None else now
    version = store.version()
    merged = merge_all(store.entities("incident"), store.entities(OPS_KIND))
    incidents = incidents_part(merged, config, now)
    reports = store.entities("report")
    drainage = drainage_part(store, config, reports)
    waste = waste_part(store.entities("waste_fill"), reports, config, now)
    mpp = mpp_part(store, config, now)
    picture = {
        "version": version,
        "city": {"name": config.city.name, "timezone": config.city.timezone, "language": config.city.language},
        "incidents": incidents,
        "drainage": drainage,
        "waste": waste,
        "mpp": mpp,
        "reports": reports_part(reports, config),
        "ticker": store.recent(config.history.ticker_events),
        **live_sections(store, config, now),
    }
    picture["kpis"] = kpis_part(store, config, picture, now)
    picture["wall"] = wall_part(_wall_record(store), config.operations, merged, incidents["open"], drainage["stations"], now)
    return picture


def build_wall_part(store: StateStore, config: Config, now: float) -> dict[str, Any]:
    """The ``wall`` section alone (for ``GET /api/v1/wall``), from the same rules as the picture."""
    merged = merge_all(store.entities("incident"), store.entities(OPS_KIND))
    open_ = [d for d in merged.values() if d.get("status") != "resolved"]
    stations = drainage_part(store, config, {})["stations"] if config.operations.takeovers else []
    return wall_part(_wall_record(store), config.operations, merged, open_, stations, now)


def _wall_record(store: StateStore) -> dict[str, Any] | None:
    stamped = store.read_stamped(WALL_KIND, WALL_ID)
    return stamped[1] if stamped else None


def live_sections(store: StateStore, config: Config, now: float) -> dict[str, Any]:
    """The parts that change without a new version (a feed drops, time passes): read each time."""
    return {"generated_at": iso(now), "feeds": store.feeds(), "freshness": freshness(store.last_seen(), config, now)}


def freshness(seen: dict[str, float], config: Config, now: float) -> dict[str, dict[str, Any]]:
    """Per panel family: when data last arrived, how long a silence it may keep, and whether
    that is over. Feeds have their own rhythms: drainage gauges report every minute, a closed
    MPP every few minutes, so each family has its own limit."""
    thresholds = config.thresholds
    out: dict[str, dict[str, Any]] = {}
    for family, kinds in PANEL_KINDS.items():
        limit = thresholds.stale_after_family_s.get(family, thresholds.stale_after_s)
        last = max((seen.get(k, 0.0) for k in kinds), default=0.0)
        out[family] = {"updated_at": iso(last) if last else None, "stale": (now - last) > limit, "stale_after_s": limit}
    return out


# --- incidents ------------------------------------------------------------------------------
def incidents_part(docs: dict[str, dict[str, Any]], config: Config, now: float) -> dict[str, Any]:
    open_, resolved_day = [], []
    for doc in docs.values():
        if doc.get("status") == "resolved":
            if now - ts(doc.get("resolved_at") or doc["observed_at"]) <= 86_400:
                resolved_day.append(doc)
        else:
            open_.append(_with_age(doc, now))
    open_.sort(key=lambda d: (SEVERITY_RANK.get(d.get("severity", "medium"), 2), -ts(d["observed_at"]), d["id"]))
    sla = config.thresholds.incident_sla_min
    within = sum(1 for d in resolved_day if _minutes_open(d) <= sla.get(d.get("severity", "medium"), 240))
    return {
        "open": open_,
        "open_count": len(open_),
        "by_severity": dict(Counter(d.get("severity") for d in open_)),
        "by_status": dict(Counter(d.get("status") for d in open_)),
        "by_kecamatan": dict(Counter(d.get("kecamatan") or "?" for d in open_)),
        "by_category": dict(Counter(d.get("category") for d in open_)),
        "by_assignee": dict(Counter(d["assignee"] for d in open_ if d.get("assignee"))),
        "resolved_24h": len(resolved_day),
        "resolved_within_sla_24h": within,
    }


def _with_age(doc: dict[str, Any], now: float) -> dict[str, Any]:
    opened = doc.get("opened_at") or doc["observed_at"]
    return {**doc, "age_s": max(0, int(now - ts(opened)))}


def _minutes_open(doc: dict[str, Any]) -> float:
    opened = doc.get("opened_at") or doc["observed_at"]
    return (ts(doc.get("resolved_at") or doc["observed_at"]) - ts(opened)) / 60


# --- citizen reports, whatever their family or channel ---------------------------------------
def reports_part(reports: dict[str, dict[str, Any]], config: Config) -> dict[str, Any]:
    open_ = [r for r in reports.values() if r.get("status") != "resolved"]
    by_channel = {c.name: 0 for c in config.complaints}
    for r in open_:
        if r.get("channel"):
            by_channel[r["channel"]] = by_channel.get(r["channel"], 0) + 1
    return {
        "open": len(open_),
        "open_by_topic": dict(Counter(r.get("topic") or "other" for r in open_)),
        "open_by_channel": by_channel,
    }


# --- drainage -------------------------------------------------------------------------------
def drainage_part(store: StateStore, config: Config, reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    stations = []
    for doc in store.entities("water_level").values():
        levels = station_levels(doc, config)
        stage = stage_of(doc["level_m"], levels)
        trend = store.series(f"water_level:{doc['id']}", since=ts(doc["observed_at"]) - 6 * 3_600)
        stations.append({**doc, "stage": stage, "levels": levels.model_dump(), "trend": trend})
    stations.sort(key=lambda s: (-STAGES.index(s["stage"]), s.get("name") or s["station_id"], s["id"]))
    worst = max((s["stage"] for s in stations), key=STAGES.index, default="Normal")
    drainage_reports = [r for r in reports.values() if r.get("topic") == "drainage"]
    return {
        "stations": stations,
        "worst_stage": worst,
        "in_alert": sum(1 for s in stations if s["stage"] != "Normal"),
        "flood_alert": worst in ("Siaga", "Awas"),
        "reports_open_by_kecamatan": _open_by_kecamatan(drainage_reports),
    }


def station_levels(doc: dict[str, Any], config: Config) -> DrainageLevels:
    """Config per station wins; then the gauge's own alert/danger levels; then the default."""
    own = config.thresholds.drainage_stations.get(doc.get("station_id", ""))
    if own:
        return own
    alert, danger = doc.get("alert_level_m"), doc.get("danger_level_m")
    if alert is not None and danger is not None and 0 < alert < danger:
        waspada = max(alert - (danger - alert), alert * 0.75)
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
def waste_part(fills: dict[str, dict[str, Any]], reports: dict[str, dict[str, Any]], config: Config, now: float) -> dict[str, Any]:
    full = config.thresholds.waste_full
    containers = sorted(fills.values(), key=lambda d: (-d["fill"], d["id"]))
    waste_reports = [r for r in reports.values() if r.get("topic") == "waste"]
    resolved = [r for r in waste_reports if r.get("status") == "resolved" and r.get("resolved_at")]
    hours = [(ts(r["resolved_at"]) - ts(r["opened_at"])) / 3_600 for r in resolved]
    sla_h = config.thresholds.waste_report_sla_h
    return {
        "containers": [{**c, "over_threshold": c["fill"] >= full} for c in containers],
        "over_threshold": sum(1 for c in containers if c["fill"] >= full),
        "reports_open": sum(1 for r in waste_reports if r.get("status") != "resolved"),
        "reports_resolved": len(resolved),
        "reports_resolved_within_sla": sum(1 for h in hours if h <= sla_h),
        "median_resolve_h": round(median(hours), 1) if hours else None,
        "reports_open_by_kecamatan": _open_by_kecamatan(waste_reports),
        "other_reports_open": sum(1 for r in reports.values() if r.get("topic") == "other" and r.get("status") != "resolved"),
    }


def _open_by_kecamatan(reports: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(r.get("kecamatan") or "?" for r in reports if r.get("status") != "resolved"))


# --- MPP ------------------------------------------------------------------------------------
def mpp_target(config: Config, day: datetime) -> int:
    busy = day.strftime("%A").lower() in config.mpp.busy_weekdays
    return config.mpp.permits_busy_day if busy else config.mpp.permits_per_day


def mpp_part(store: StateStore, config: Config, now: float) -> dict[str, Any]:
    tz = config.city.tz
    local_now = datetime.fromtimestamp(now, tz)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = [d for d in store.entities("queue").values() if ts(d["observed_at"]) >= midnight.timestamp()]
    today.sort(key=lambda d: (-d.get("waiting", 0), d["id"]))
    served = sum(d.get("served_today", 0) for d in today)
    waiting = sum(d.get("waiting", 0) for d in today)
    waits = [(d["avg_wait_min"], d.get("waiting", 0) or 1) for d in today if d.get("avg_wait_min") is not None]
    avg_wait = sum(w * n for w, n in waits) / sum(n for _, n in waits) if waits else None
    target = mpp_target(config, local_now)
    return {
        "agencies": today,
        "served_today": served,
        "waiting": waiting,
        "serving": sum(d.get("serving", 0) for d in today),
        "avg_wait_min": round(avg_wait, 1) if avg_wait is not None else None,
        "target": target,
        "attainment_pct": round(100 * served / target, 1) if target else None,
        "name": config.mpp.name,
        "services": config.mpp.services,
        "agencies_total": config.mpp.agency_count,
        "hourly": _hourly(store, [d["id"] for d in today], midnight, local_now),
    }


def _hourly(store: StateStore, ids: list[str], midnight: datetime, local_now: datetime) -> list[dict[str, Any]]:
    """Permits served per local hour, from each counter's cumulative series since midnight."""
    start = midnight.timestamp()
    hours = local_now.hour + 1
    per_hour = [0.0] * hours
    for entity_id in ids:
        last_by_hour: dict[int, float] = {}
        for t, value in store.series(f"queue:{entity_id}", since=start):
            hour = int((t - start) // 3_600)
            if 0 <= hour < hours:
                last_by_hour[hour] = value
        previous = 0.0
        for hour in range(hours):
            if hour in last_by_hour:
                per_hour[hour] += max(0.0, last_by_hour[hour] - previous)
                previous = last_by_hour[hour]
    return [{"hour": h, "served": int(v)} for h, v in enumerate(per_hour)]


# --- KPIs -----------------------------------------------------------------------------------
def derived_values(picture: dict[str, Any]) -> dict[str, float | None]:
    incidents, waste, drainage, mpp = picture["incidents"], picture["waste"], picture["drainage"], picture["mpp"]
    resolved = incidents["resolved_24h"]
    return {
        "incidents_within_sla": _pct(incidents["resolved_within_sla_24h"], resolved),
        "open_incidents": incidents["open_count"],
        "traffic_incidents_open": incidents["by_category"].get("traffic", 0),
        "mpp_target_attainment": mpp["attainment_pct"],
        "mpp_avg_wait_min": mpp["avg_wait_min"],
        "waste_reports_resolved_24h": _pct(waste["reports_resolved_within_sla"], waste["reports_resolved"]),
        "tps_over_threshold": waste["over_threshold"],
        "drainage_stations_in_alert": drainage["in_alert"],
        # every open complaint counts, whichever app or family it came through
        "citizen_reports_open": picture["reports"]["open"],
    }


def kpis_part(store: StateStore, config: Config, picture: dict[str, Any], now: float) -> dict[str, Any]:
    derived = derived_values(picture)
    received = {_kpi_key(d): d for d in store.entities("kpi").values()}
    language = config.city.language
    pillars: dict[str, Any] = {
        p.id: {"name": p.label(language), "icon": p.icon, "kpis": []} for p in config.pillars
    }
    for pillar, kpi in config.kpis():
        if kpi.source == "derived":
            value, updated = derived.get(kpi.id), picture["generated_at"]
        else:
            doc = received.get(kpi.id)
            value, updated = (doc["value"], doc["observed_at"]) if doc else (None, None)
        entry = {
            "id": kpi.id,
            "name": kpi.name.get(config.city.language) or next(iter(kpi.name.values())),
            "unit": kpi.unit,
            "value": value,
            "target": kpi.target,
            "better": kpi.better,
            "standing": standing(value, kpi),
            "updated_at": updated,
            "trend": _trend(store, kpi.id, now),
        }
        pillars[pillar]["kpis"].append(entry)
    for block in pillars.values():
        block["standing"] = _worst([k["standing"] for k in block["kpis"]])
    return {"pillars": pillars}


def _kpi_key(doc: dict[str, Any]) -> str:
    return str(doc.get("kpi_id") or doc["id"])


STANDINGS = ("veryGood", "good", "fair", "bad", "veryBad", "unknown")


def standing(value: float | None, kpi: Kpi) -> str:
    """Against the target, in the SDM's words; counts with a zero target get a small margin."""
    if value is None:
        return "unknown"
    target = kpi.target
    if kpi.better == "higher":
        if value >= target:
            return "good"
        return "fair" if value >= 0.85 * target else "bad"
    if value <= target:
        return "good"
    return "fair" if value <= target * 1.25 + 1 else "bad"


def _worst(standings: list[str]) -> str:
    known = [s for s in standings if s != "unknown"]
    return max(known, key=STANDINGS.index) if known else "unknown"


def _trend(store: StateStore, kpi_id: str, now: float) -> dict[str, Any]:
    day = store.series(f"kpi:{kpi_id}", since=now - 86_400)
    month = store.series(f"kpi_h:{kpi_id}", since=now - 31 * 86_400)
    return {"day": day, "month": month}


def kpi_day_point(kpi_id: str, t: float, value: float) -> SeriesPoint:
    """A point of the KPI's day trend: one a minute, kept 24 h."""
    return SeriesPoint(f"kpi:{kpi_id}", t, value, 60, 1_440, 86_400)


def kpi_month_point(kpi_id: str, t: float, value: float) -> SeriesPoint:
    """A point of the KPI's month trend: one an hour, kept 31 days."""
    return SeriesPoint(f"kpi_h:{kpi_id}", t, value, 3_600, 744, 31 * 86_400)


def sample_kpis(store: StateStore, config: Config, now: float | None = None) -> int:
    """Write every KPI's current value into its day (1 min) and month (1 h) series."""
    now = time.time() if now is None else now
    picture = build_picture(store, config, now)
    written = 0
    for block in picture["kpis"]["pillars"].values():
        for kpi in block["kpis"]:
            if kpi["value"] is None:
                continue
            store.add_point(kpi_day_point(kpi["id"], now, float(kpi["value"])))
            store.add_point(kpi_month_point(kpi["id"], now, float(kpi["value"])))
            written += 1
    return written


# --- helpers --------------------------------------------------------------------------------
def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")

