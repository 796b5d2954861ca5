"""The city's picture reduced to what the tablet shows, as plain data.

Summaries hold numbers, ids and timestamps only (no words, no components): they are what
the callbacks compare to decide what changed, and what both the live page and the PDF are
rendered from. They are computed once per store version, however many tablets ask.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from layouts.frame import seen
from layouts.picture import CityPicture
from layouts.ports import ViewSettings

SEVERITIES = ("critical", "high", "medium", "low", "informational")
#: The families whose newest update is "the data's time" of the tablet.
FAMILIES = "incidents+drainage+waste+mpp+kpis"
#: Trend spans: how far back, which stored series, and how many points the chart keeps.
RANGES: dict[str, tuple[int, str, int]] = {
    "day": (86_400, "day", 96),  # 1-min points -> 15-min steps
    "week": (7 * 86_400, "month", 112),  # hourly points, the last day's by the minute -> 90-min steps
    "month": (31 * 86_400, "month", 124),  # the same -> 6-h steps
}
#: A picture before anything arrived: what the skeleton is drawn from.
EMPTY = CityPicture()


def data_time(picture: CityPicture) -> str | None:
    """The newest update of any family the tablet shows: what "Data as of" means."""
    times = [v.updated_at for v in picture.freshness.values()]
    known = [x for x in times if x]
    return max(known, key=lambda x: datetime.fromisoformat(x).timestamp()) if known else None


def headline_summary(picture: CityPicture) -> dict[str, Any]:
    """The four facts of today (incidents, flooding, MPP permits, waste) and the data's time."""
    incidents, drainage, mpp, waste = picture.incidents, picture.drainage, picture.mpp, picture.waste
    return {
        "incidents": {
            "seen": seen(picture, "incidents"),
            "open": incidents.open_count,
            "by_severity": [[s, int(incidents.by_severity.get(s, 0))] for s in SEVERITIES],
        },
        "flood": {
            "seen": seen(picture, "drainage"),
            "alert": drainage.flood_alert,
            "worst": drainage.worst_stage,
            "in_alert": drainage.in_alert,
            "stations": len(drainage.stations),
            "worst_station": _worst_station(picture),
        },
        "mpp": {
            "seen": seen(picture, "mpp"),
            "served": mpp.served_today,
            "target": mpp.target,
            "pct": mpp.attainment_pct,
            "before_opening": mpp.before_opening,
        },
        "waste": {
            "seen": seen(picture, "waste"),
            "resolved": waste.reports_resolved,
            "open": waste.reports_open,
        },
        "as_of": data_time(picture),
    }


def _worst_station(picture: CityPicture) -> list[Any] | None:
    """The station that leads the drainage panel, ``[title, level in cm]``, while any is above
    Normal: "2 of 12 stations above normal" left the mayor asking which, and how high. The
    level is kept in whole centimetres, as it is written, so a reading that moves it less
    does not redraw the tiles."""
    stations = picture.drainage.stations
    if not stations or stations[0].stage == "Normal":
        return None
    return [stations[0].title, round(stations[0].level_m * 100)]


def _ts(value: Any) -> float:
    return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else float(value)


def trend_summary(points: list[Any], span_s: int, buckets: int, now: float, current: float | None = None) -> dict[str, Any]:
    """One trend span: points thinned to ``buckets`` steps (last value of each), plus the facts.

    ``current``, the value the tablet shows beside the chart, ends the line: the points are
    sampled once a minute, and "74 … highest 73" stood beside a line that ended at 72. The
    last value of a step (not the mean) keeps it there; low and high come from every stored
    point, so a short spike still counts. Without ``current`` (its feed is silent) the line
    ends where the data did.
    """
    start = now - span_s
    raw = [(float(p[0]), float(p[1])) for p in points or [] if p and p[1] is not None and float(p[0]) >= start]
    raw.sort()
    if current is not None and raw:
        raw.append((max(now, raw[-1][0]), float(current)))
    if len(raw) < 2:
        return {"start": start, "end": now, "points": [], "first": None, "last": None, "lo": None, "hi": None}
    step = span_s / buckets
    kept: dict[int, tuple[float, float]] = {}
    for t_, v in raw:
        kept[min(buckets - 1, int((t_ - start) // step))] = (t_, v)
    values = [v for _, v in raw]
    return {
        "start": start,
        "end": now,
        "points": [[round(t_, 0), round(v, 3)] for _, (t_, v) in sorted(kept.items())],
        "first": raw[0][1],
        "first_at": raw[0][0],
        "last": raw[-1][1],
        "lo": min(values),
        "hi": max(values),
    }


def _hours_then_minutes(day: list[Any], month: list[Any]) -> list[Any]:
    """The week's and the month's points: the hourly ones up to where the day's minute points
    begin, then those. Hourly points alone, one an hour stored at its start, lost what moved
    within an hour, so the same two minutes read "down 1, lowest 42, highest 43" on the day
    and "steady, lowest 42, highest 42" on the week; and a history seven minutes old read
    "steady over 1 h 5 min" there."""
    minutes = [p for p in day or [] if p and p[1] is not None]
    if not minutes:
        return month
    begins = min(float(p[0]) for p in minutes)
    return [p for p in month or [] if p and float(p[0]) + 3_600 <= begins] + minutes


def pillar_ids(settings: ViewSettings | None, picture: CityPicture | None = None) -> list[str]:
    """The city's pillars in its config's order; without settings, the picture's order."""
    if settings is not None and settings.pillars:
        return [p.id for p in settings.pillars]
    return list(picture.kpis.pillars) if picture is not None else []


def pillar_summaries(picture: CityPicture, settings: ViewSettings | None = None) -> dict[str, Any]:
    """Per pillar: standing, its KPIs and their three trend spans, in the tablet's order."""
    pillars = picture.kpis.pillars
    # windows move by the minute (KPIs are sampled once a minute), so a picture a second
    # newer does not redraw and resend every chart
    now = _ts(picture.generated_at or time.time()) // 60 * 60
    out: dict[str, Any] = {}
    for p in pillar_ids(settings, picture):
        block = pillars.get(p)
        kpis = []
        for k in block.kpis if block is not None else []:
            series = {"day": k.trend.day, "month": _hours_then_minutes(k.trend.day, k.trend.month)}
            fresh = picture.freshness.get(k.family)
            heard = k.family == "kpis" or (fresh is not None and not fresh.stale)
            current = float(k.value) if heard and isinstance(k.value, int | float) else None
            kpis.append(
                {
                    "id": k.id,
                    "name": k.name or k.id,
                    "unit": k.unit,
                    "value": k.value,
                    "target": k.target,
                    "better": k.better,
                    "standing": k.standing,
                    "updated_at": k.updated_at,
                    "family": k.family,
                    "trends": {r: trend_summary(series[src], span, n, now, current) for r, (span, src, n) in RANGES.items()},
                }
            )
        out[p] = {"id": p, "standing": block.standing if block is not None else "unknown", "kpis": kpis}
    return out
