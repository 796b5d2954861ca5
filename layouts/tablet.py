"""The mayor's tablet: today's headlines, then the city's pillars, each opening to its KPIs.

Why it is built the way it is:

- The skeleton is static. The four headline tiles, one card and one KPI section per pillar
  of the city's config (3 to 8, its own ids, names and icons) exist from the first render;
  callbacks fill them and later send only the parts whose content changed (a digest per
  part, as the wall panels do). Nothing is remounted when the city moves, so an open pillar
  stays open and nothing jumps under a finger.
- Trends are small SVG images drawn here, not plotly graphs. Without plotly.js the page is a
  fraction of the weight and paints sooner on a tablet, a chart never catches a finger
  that meant to scroll, and the same image prints crisply into the PDF summary. Every number
  a chart carries (first and last value, low and high, target, the times at the edges) is
  also written as text next to it, so nothing is only on hover, and ``pdftotext`` reads it.
- All three trend spans (day, week, month) arrive together and CSS shows the one the toggle
  picks: the toggle answers at once, offline too, and the print view shows all three.
- Opening a pillar is a client-side class change: the section with its KPIs appears right
  under the row of the card that was tapped (CSS ``order`` per grid width), so it opens
  where the finger is, in portrait, landscape and on a phone.
- Views (``headlines_view``, ``pillars_view``) reduce the picture to plain data; the same
  render functions build the live page and the printable summary (``print_view``), so the
  PDF always says what the tablet says.

Words that only the tablet uses live here (``WORDS``); shared words come from ``i18n``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from layouts.frame import SEVERITY_SHAPES, STAGE_SHAPES, STANDING_SHAPES, frame_id, part, seen, signature
from layouts.i18n import number, t, when
from layouts.ports import CityReader, ViewSettings
from layouts.sections import incidents_of
from layouts.tree import attrs

#: The icons the tablet can draw (CSS masks in ``assets/tablet.css``); ``grid`` is the default.
ICONS = ("building", "people", "chart", "leaf", "home", "bus", "megaphone", "shield", "heart", "grid")
SEVERITIES = ("critical", "high", "medium", "low", "informational")
#: The families whose newest update is "the data's time" of the tablet.
FAMILIES = "incidents+drainage+waste+mpp+kpis"
EXPORT_PDF = "/api/v1/summary.pdf"
#: The page root is a frame like the wall's panels: the shared freshness callback keeps its
#: ``data-updated-at``/``data-stale`` (the test hooks) current and ages its text every second.
ROOT_ID = frame_id("tablet", FAMILIES, "tablet")

#: Trend spans: how far back, which stored series, and how many points the chart keeps.
RANGES: dict[str, tuple[int, str, int]] = {
    "day": (86_400, "day", 96),            # 1-min points -> 15-min steps
    "week": (7 * 86_400, "month", 112),    # hourly points -> 90-min steps
    "month": (31 * 86_400, "month", 124),  # hourly points -> 6-h steps
}

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Ringkasan Wali Kota",
        "data_as_of": "Data per",
        "printed": "Dicetak",
        "export": "Unduh PDF",
        "h_incidents": "Insiden terbuka",
        "h_flood": "Banjir & drainase",
        "flood_none": "Tidak ada peringatan banjir",
        "flood_alert": "PERINGATAN BANJIR",
        "stations_up": "{n} dari {m} pos di atas normal",
        "h_mpp": "Izin MPP hari ini",
        "of_target": "{pct} dari target hari ini ({target})",
        "h_waste": "Laporan sampah",
        "resolved": "selesai",
        "still_open": "{n} masih terbuka",
        "pillars": "{n} pilar kota cerdas",
        "tap_hint": "Ketuk pilar untuk melihat KPI-nya",
        "on_target": "{n} dari {m} KPI sesuai target",
        "no_kpis": "Belum ada KPI",
        "range_day": "Hari",
        "range_week": "Minggu",
        "range_month": "Bulan",
        "span_day": "24 jam terakhir",
        "span_week": "7 hari terakhir",
        "span_month": "31 hari terakhir",
        "span_short_day": "24 jam",
        "span_short_week": "7 hari",
        "span_short_month": "31 hari",
        "trend": "Tren",
        "close": "Tutup",
        "now": "kini",
        "min": "terendah",
        "max": "tertinggi",
        "up": "naik",
        "down": "turun",
        "steady": "stabil",
        "better": "membaik",
        "worse": "memburuk",
        "in_span": "dalam {span}",
        "points": "poin",
        "no_history": "Belum ada riwayat",
        "updated": "diperbarui",
        "no_data": "Belum ada data",
        "stale": "DATA TERTUNDA",
        "value": "Nilai",
        "file": "ringkasan",
    },
    "en": {
        "title": "Mayor's summary",
        "data_as_of": "Data as of",
        "printed": "Printed",
        "export": "Download PDF",
        "h_incidents": "Open incidents",
        "h_flood": "Flooding & drainage",
        "flood_none": "No flood alert",
        "flood_alert": "FLOOD ALERT",
        "stations_up": "{n} of {m} stations above normal",
        "h_mpp": "MPP permits today",
        "of_target": "{pct} of today's target ({target})",
        "h_waste": "Waste reports",
        "resolved": "resolved",
        "still_open": "{n} still open",
        "pillars": "The {n} smart-city pillars",
        "tap_hint": "Tap a pillar to see its KPIs",
        "on_target": "{n} of {m} KPIs on target",
        "no_kpis": "No KPIs yet",
        "range_day": "Day",
        "range_week": "Week",
        "range_month": "Month",
        "span_day": "last 24 hours",
        "span_week": "last 7 days",
        "span_month": "last 31 days",
        "span_short_day": "24 h",
        "span_short_week": "7 days",
        "span_short_month": "31 days",
        "trend": "Trend",
        "close": "Close",
        "now": "now",
        "min": "low",
        "max": "high",
        "up": "up",
        "down": "down",
        "steady": "steady",
        "better": "improving",
        "worse": "worsening",
        "in_span": "over {span}",
        "points": "pts",
        "no_history": "No history yet",
        "updated": "updated",
        "no_data": "No data yet",
        "stale": "DATA DELAYED",
        "value": "Value",
        "file": "summary",
    },
}


def w(key: str, language: str) -> str:
    """A tablet word in the configured language (Indonesian when the language is unknown)."""
    return WORDS.get(language, WORDS["id"]).get(key) or t(key, language)


# --- views: the picture reduced to what the tablet shows --------------------------------------
def data_time(picture: dict[str, Any] | None) -> str | None:
    """The newest update of any family the tablet shows: what "Data as of" means."""
    times = [v.get("updated_at") for v in part(picture, "freshness").values() if isinstance(v, dict)]
    known = [x for x in times if x]
    return max(known, key=lambda x: datetime.fromisoformat(x).timestamp()) if known else None


def headlines_view(picture: dict[str, Any] | None) -> dict[str, Any]:
    incidents, drainage = incidents_of(picture), part(picture, "drainage")
    mpp, waste = part(picture, "mpp"), part(picture, "waste")
    by_severity = incidents.get("by_severity") or {}
    return {
        "incidents": {
            "seen": seen(picture, "incidents"),
            "open": incidents.get("open_count", 0),
            "by_severity": [[s, int(by_severity.get(s, 0))] for s in SEVERITIES],
        },
        "flood": {
            "seen": seen(picture, "drainage"),
            "alert": bool(drainage.get("flood_alert")),
            "worst": drainage.get("worst_stage") or "Normal",
            "in_alert": drainage.get("in_alert", 0),
            "stations": len(drainage.get("stations") or []),
        },
        "mpp": {
            "seen": seen(picture, "mpp"),
            "served": mpp.get("served_today", 0),
            "target": mpp.get("target"),
            "pct": mpp.get("attainment_pct"),
        },
        "waste": {
            "seen": seen(picture, "waste"),
            "resolved": waste.get("reports_resolved", 0),
            "open": waste.get("reports_open", 0),
        },
        "as_of": data_time(picture),
    }


def _ts(value: Any) -> float:
    return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else float(value)


def series_view(points: list[Any], span_s: int, buckets: int, now: float) -> dict[str, Any]:
    """One trend span: points thinned to ``buckets`` steps (last value of each), plus the facts.

    The last value of a step (not the mean) keeps the end of the line equal to the value
    shown as "now"; low and high come from every stored point, so a short spike still counts.
    """
    start = now - span_s
    raw = [(float(p[0]), float(p[1])) for p in points or [] if p and p[1] is not None and float(p[0]) >= start]
    raw.sort()
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


def pillars_heading(count: int, language: str) -> str:
    """"Enam pilar kota cerdas" for Pekanbaru, "Lima pilar ..." for a city with five."""
    words = NUMBER_WORDS.get(language, {})
    text = w("pillars", language).format(n=words.get(count, str(count)))
    return text[:1].upper() + text[1:]


NUMBER_WORDS: dict[str, dict[int, str]] = {
    "id": {3: "tiga", 4: "empat", 5: "lima", 6: "enam", 7: "tujuh", 8: "delapan"},
    "en": {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"},
}


def pillar_ids(settings: ViewSettings | None, picture: dict[str, Any] | None = None) -> list[str]:
    """The city's pillars in its config's order; without settings, the picture's order."""
    if settings is not None and settings.pillars:
        return [p.id for p in settings.pillars]
    return list(part(part(picture, "kpis"), "pillars"))


def pillars_view(picture: dict[str, Any] | None, settings: ViewSettings | None = None) -> dict[str, Any]:
    """Per pillar: standing, its KPIs and their three trend spans, in the tablet's order."""
    pillars = part(part(picture, "kpis"), "pillars")
    # windows move by the minute (KPIs are sampled once a minute), so a picture a second
    # newer does not redraw and resend every chart
    now = _ts((picture or {}).get("generated_at") or time.time()) // 60 * 60
    # derived KPIs have a value from the first picture on ("0 open incidents"); before any
    # feed has delivered, that is not news, so nothing is claimed good or bad yet
    known = any(seen(picture, f) for f in FAMILIES.split("+"))
    out: dict[str, Any] = {}
    for p in pillar_ids(settings, picture):
        block = pillars.get(p) or {}
        kpis = []
        for k in block.get("kpis") or []:
            trend = k.get("trend") or {}
            kpis.append({
                "id": k.get("id", ""),
                "name": k.get("name") or k.get("id", ""),
                "unit": k.get("unit") or "",
                "value": k.get("value") if known else None,
                "target": k.get("target"),
                "better": k.get("better", "higher"),
                "standing": (k.get("standing") or "unknown") if known else "unknown",
                "updated_at": k.get("updated_at"),
                "trends": {r: series_view(trend.get(src) or [], span, n, now) for r, (span, src, n) in RANGES.items()},
            })
        out[p] = {"id": p, "standing": (block.get("standing") or "unknown") if known else "unknown", "kpis": kpis}
    return out


# --- formatting -------------------------------------------------------------------------------
def amount(value: float | int | None, unit: str, language: str) -> str:
    """A KPI value: whole numbers stay whole, others get one decimal, percent sticks to the number."""
    if value is None:
        return "–"
    v = float(value)
    decimals = 0 if v.is_integer() else (1 if unit == "%" or abs(v) >= 10 else 2)
    text = number(round(v, decimals), language, decimals)
    return f"{text}%" if unit == "%" else (f"{text} {unit}" if unit else text)


def target_text(k: dict[str, Any], language: str) -> str:
    sign = "≥" if k["better"] == "higher" else "≤"
    return f"{t('target', language)} {sign} {amount(k['target'], k['unit'], language)}"


def _local(ts: float, pattern: str, settings: ViewSettings) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), pattern, tzinfo=ZoneInfo(settings.timezone),
                           locale=settings.language)


def axis_labels(range_: str, start: float, end: float, settings: ViewSettings) -> list[str]:
    """Start, middle and end of a span in the city's time: hours for a day, dates beyond."""
    first, middle = {"day": ("EEE HH:mm", "HH:mm"), "week": ("EEE d/M", "EEE d/M"), "month": ("d MMM", "d MMM")}[range_]
    return [_local(start, first, settings), _local((start + end) / 2, middle, settings), w("now", settings.language)]


# --- the trend chart --------------------------------------------------------------------------
def _scale(s: dict[str, Any], target: float | None) -> tuple[float, float]:
    lo, hi = s["lo"], s["hi"]
    if target is not None:
        lo, hi = min(lo, target), max(hi, target)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.12
    return lo - pad, hi + pad


def _y(v: float, lo: float, hi: float) -> float:
    return round(100 - (v - lo) / (hi - lo) * 100, 1)


STANDING_COLOURS = {"veryGood": "#2f7d32", "good": "#2f7d32", "fair": "#b25e00", "bad": "#c62828",
                    "veryBad": "#c62828", "unknown": "#6b7785"}


def trend_svg(s: dict[str, Any], target: float | None, better: str, standing: str) -> str:
    """The line as an SVG data URI that stretches to any width (labels are HTML around it).

    The band on the good side of the target is tinted, so "above the line is good" (or
    below, for counts that should fall) reads without a legend. Strokes do not scale, so the
    line keeps its weight from a phone to a landscape tablet.
    """
    lo, hi = _scale(s, target)
    span = (s["end"] - s["start"]) or 1
    # x runs to 988 of 1000 so the dot that marks "now" is not cut in half at the edge;
    # single quotes and few decimals keep the URI short (it travels with every update)
    pts = " ".join(f"{round((t_ - s['start']) / span * 988)},{_y(v, lo, hi):g}" for t_, v in s["points"])
    keep = "vector-effect='non-scaling-stroke'"
    parts = ["<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1000 100' preserveAspectRatio='none'>"]
    if target is not None:
        ty = _y(target, lo, hi)
        top, height = (0, ty) if better == "higher" else (ty, round(100 - ty, 1))
        parts.append(f"<rect y='{top:g}' width='1000' height='{height:g}' fill='%232f7d32' fill-opacity='.09'/>")
        parts.append(f"<path d='M0 {ty:g}H1000' stroke='%232f7d32' stroke-width='1.5' stroke-dasharray='6 4' {keep}/>")
    parts.append(f"<polyline points='{pts}' fill='none' stroke='%231f4e8c' stroke-width='2.5' stroke-linejoin='round' {keep}/>")
    if s["points"]:
        x_last, y_last = pts.rsplit(" ", 1)[-1].split(",")
        colour = STANDING_COLOURS.get(standing, "#6b7785").replace("#", "%23")
        parts.append(f"<path d='M{x_last} {y_last}h0' stroke='{colour}' stroke-width='9' stroke-linecap='round' {keep}/>")
    parts.append("</svg>")
    # only what a URI cannot carry is escaped: '#' (written %23 above), '<', '>' and '%'
    return "data:image/svg+xml;charset=utf-8," + "".join(parts).replace("<", "%3C").replace(">", "%3E")


def delta_amount(size: float, scale: float, unit: str, language: str) -> str:
    """A change at the precision of the KPI itself; a change of a percentage is in points."""
    if unit == "%":
        return f"{number(round(size, 1), language, 1)} {w('points', language)}"
    decimals = 0 if float(size).is_integer() else (1 if scale >= 10 else 2)
    text = number(round(size, decimals), language, decimals)
    return f"{text} {unit}" if unit else text


def change_text(s: dict[str, Any], k: dict[str, Any], range_: str, language: str) -> tuple[str, str]:
    """How the KPI moved over the span, and whether that is good: ("▲ up 5 over 24 h", "worse")."""
    first, last = s["first"], s["last"]
    delta = last - first
    scale = max(abs(k["target"] or 0), abs(last), 1.0)
    span = w(f"span_short_{range_}", language)
    if abs(delta) < 0.01 * scale:
        return f"● {w('steady', language)} {w('in_span', language).format(span=span)}", "steady"
    up = delta > 0
    arrow, verb = ("▲", w("up", language)) if up else ("▼", w("down", language))
    good = up == (k["better"] == "higher")
    size = delta_amount(abs(delta), max(abs(first), abs(last)), k["unit"], language)
    return f"{arrow} {verb} {size} {w('in_span', language).format(span=span)}", "better" if good else "worse"


BLANK_SVG = "data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'/%3E"


def trend_parts(k: dict[str, Any], range_: str, settings: ViewSettings) -> tuple[str, str, list[Any], list[Any]]:
    """One span of one KPI as (image, alt text, labels on the chart, caption under it).

    These are the parts that change; ``trend_block`` places them in elements that stay.
    """
    language = settings.language
    s = k["trends"][range_]
    if not s["points"]:
        return BLANK_SVG, w("no_history", language), [html.Div(w("no_history", language), className="tb-chart-empty")], []
    lo, hi = _scale(s, k["target"])
    unit = k["unit"]
    marks = [html.Span(amount(s["hi"], unit, language), className="tb-y", style={"top": f"{_y(s['hi'], lo, hi)}%"})]
    if _y(s["lo"], lo, hi) - _y(s["hi"], lo, hi) > 22:
        marks.append(html.Span(amount(s["lo"], unit, language), className="tb-y", style={"top": f"{_y(s['lo'], lo, hi)}%"}))
    if k["target"] is not None:
        marks.append(html.Span(target_text(k, language), className="tb-target-mark",
                               style={"top": f"{_y(k['target'], lo, hi)}%"}))
    alt = (f"{w('trend', language)} {w(f'span_{range_}', language)}: {amount(s['first'], unit, language)} → "
           f"{amount(s['last'], unit, language)}, {w('min', language)} {amount(s['lo'], unit, language)}, "
           f"{w('max', language)} {amount(s['hi'], unit, language)}")
    text, mood = change_text(s, k, range_, language)
    start, middle, end = axis_labels(range_, s["start"], s["end"], settings)
    caption = [
        html.Div([html.Span(start), html.Span(middle), html.Span(end)], className="tb-xaxis"),
        html.Div(className="tb-trend-text", **attrs({"data-mood": mood}), children=[
            html.Span(text, className="tb-change"),
            html.Span(f" · {w(mood, language)}" if mood != "steady" else "", className="tb-mood"),
            html.Span(f" · {w('min', language)} {amount(s['lo'], unit, language)} · "
                      f"{w('max', language)} {amount(s['hi'], unit, language)}", className="tb-range-facts"),
        ]),
    ]
    return trend_svg(s, k["target"], k["better"], k["standing"]), alt, marks, caption


def part_id(role: str, kpi: str, range_: str | None = None) -> dict[str, str]:
    """Pattern ids of the parts of a KPI that callbacks update in place."""
    return {"role": role, "kpi": kpi} if range_ is None else {"role": role, "kpi": kpi, "range": range_}


def trend_block(k: dict[str, Any], range_: str, settings: ViewSettings) -> html.Div:
    """One span of one KPI: the chart with its labels written out, and one line of what it says."""
    src, alt, marks, caption = trend_parts(k, range_, settings)
    return html.Div(className="tb-trend", **attrs({"data-range": range_}), children=[
        html.Div(w(f"span_{range_}", settings.language), className="tb-trend-label"),
        html.Div(className="tb-chart", children=[
            html.Img(id=part_id("tb-chart", k["id"], range_), src=src, alt=alt, className="tb-chart-img"),
            html.Div(marks, id=part_id("tb-marks", k["id"], range_), className="tb-marks"),
        ]),
        html.Div(caption, id=part_id("tb-caption", k["id"], range_), className="tb-caption"),
    ])


# --- pieces -----------------------------------------------------------------------------------
def standing_badge(standing: str, language: str) -> html.Span:
    """Standing told three ways: colour (CSS), a shape and a word."""
    return html.Span([html.Span(STANDING_SHAPES.get(standing, "?"), className="tb-shape", **attrs({"aria-hidden": "true"})),
                      html.Span(t(standing, language), className="tb-word")],
                     className="tb-standing", **attrs({"data-standing": standing}))


def bullet(k: dict[str, Any]) -> html.Div:
    """Value as a bar against a tick at the target, on a scale that holds both."""
    value, target = k["value"], k["target"]
    if value is None or target is None:
        return html.Div(className="tb-bullet tb-bullet-empty")
    top = max(float(value), float(target), 1e-9) * 1.15
    return html.Div(className="tb-bullet", **attrs({"aria-hidden": "true"}), children=[
        html.Div(className="tb-bullet-fill", style={"width": f"{max(0.0, float(value)) / top * 100:.1f}%"}),
        html.Div(className="tb-bullet-target", style={"left": f"{float(target) / top * 100:.1f}%"}),
    ])


def kpi_facts(k: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Name, standing, value against target, and when the value was measured."""
    language = settings.language
    updated = when(k["updated_at"], settings.timezone, settings.timezone_label, language) if k["updated_at"] else "–"
    return [
        html.Div([html.Div(k["name"], className="tb-kpi-name"), standing_badge(k["standing"], language)],
                 className="tb-kpi-head"),
        html.Div([html.Span(amount(k["value"], k["unit"], language), className="tb-value"),
                  html.Span(target_text(k, language), className="tb-target")], className="tb-kpi-figures"),
        bullet(k),
        html.Div(f"{w('updated', language)} {updated}", className="tb-kpi-updated"),
    ]


def kpi_block(k: dict[str, Any], settings: ViewSettings) -> html.Div:
    return html.Div(id=part_id("tb-kpi", k["id"]), className="tb-kpi",
                    **attrs({"data-kpi": k["id"], "data-standing": k["standing"]}), children=[
        html.Div(kpi_facts(k, settings), id=part_id("tb-facts", k["id"]), className="tb-kpi-facts"),
        html.Div([trend_block(k, r, settings) for r in RANGES], className="tb-trends"),
    ])


def on_target(p: dict[str, Any]) -> tuple[int, int]:
    known = [k for k in p["kpis"] if k["standing"] != "unknown"]
    return sum(1 for k in known if k["standing"] in ("good", "veryGood")), len(p["kpis"])


def card_body(p: dict[str, Any], language: str) -> list[Any]:
    """What a pillar card says besides its name: standing, and how many KPIs are on target."""
    good, total = on_target(p)
    summary = w("on_target", language).format(n=good, m=total) if total else w("no_kpis", language)
    dots = [html.Span(STANDING_SHAPES.get(k["standing"], "?"), className="tb-dot", **attrs({"data-standing": k["standing"]}))
            for k in p["kpis"]]
    return [standing_badge(p["standing"], language), html.Div(summary, className="tb-card-sub"),
            html.Div(dots, className="tb-dots", **attrs({"aria-hidden": "true"}))]


def pillar_title(pillar: str, settings: ViewSettings) -> list[Any]:
    info = settings.pillar(pillar)
    icon = info.icon if info.icon in ICONS else "grid"
    return [html.Span(className="tb-icon", **attrs({"data-icon": icon, "aria-hidden": "true"})),
            html.Span(info.name, className="tb-card-name")]


def detail_body(p: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    head = html.Div([html.H3(pillar_title(p["id"], settings), className="tb-detail-title"),
                     html.Div(standing_badge(p["standing"], language), id={"role": "tb-detail-standing", "pillar": p["id"]},
                              className="tb-detail-standing")], className="tb-detail-head")
    if not p["kpis"]:
        return [head, html.Div(w("no_kpis", language), className="tb-empty")]
    return [head, *[kpi_block(k, settings) for k in p["kpis"]]]


def _sev_chip(sev: str, n: int, language: str) -> html.Span:
    return html.Span([html.Span(SEVERITY_SHAPES.get(sev, "●"), className="tb-shape", **attrs({"aria-hidden": "true"})),
                      html.B(number(n, language)), html.Span(t(sev, language).lower())],
                     className="tb-chip", **attrs({"data-severity": sev, "data-count": str(n)}))


def _tile(name: str, label: str, body: list[Any], **extra: str) -> html.Div:
    return html.Div([html.Div(label, className="tb-tile-label"), *body], className="tb-tile",
                    **attrs({"data-headline": name, **extra}))


def headline_tiles(v: dict[str, Any], language: str) -> list[Any]:
    """The four facts of today, each a big number with the words that make it mean something."""
    nd = html.Div(w("no_data", language), className="tb-tile-sub")
    inc, flood, mpp, waste = v["incidents"], v["flood"], v["mpp"], v["waste"]
    incidents = _tile("incidents", w("h_incidents", language), [
        html.Div(number(inc["open"], language), className="tb-big"),
        html.Div([_sev_chip(s, n, language) for s, n in inc["by_severity"]], className="tb-chips"),
    ] if inc["seen"] else [html.Div("–", className="tb-big"), nd])
    stage = flood["worst"]
    flood_tile = _tile(
        "flood",
        w("h_flood", language),
        [
            html.Div(
                [
                    html.Span(STAGE_SHAPES.get(stage, "●"), className="tb-shape", **attrs({"aria-hidden": "true"})),
                    html.Span(t(stage, language)),
                ],
                className="tb-big tb-stage",
                **attrs({"data-stage": stage}),
            ),
            html.Div(w("flood_alert", language) if flood["alert"] else w("flood_none", language), className="tb-tile-strong"),
            html.Div(
                w("stations_up", language).format(n=number(flood["in_alert"], language), m=number(flood["stations"], language)),
                className="tb-tile-sub",
            ),
        ]
        if flood["seen"]
        else [html.Div("–", className="tb-big"), nd],
        **attrs({"data-alert": "true" if flood["alert"] else "false"}),
    )
    pct = mpp["pct"]
    width = min(100.0, float(pct or 0))
    mpp_tile = _tile("mpp", w("h_mpp", language), [
        html.Div([html.Span(number(mpp["served"], language)),
                  html.Small(f" / {number(mpp['target'], language)}", className="tb-of")], className="tb-big"),
        html.Div(html.Div(className="progress-bar", style={"width": f"{width:.0f}%"}), className="progress tb-progress",
                 role="progressbar", **attrs({"aria-valuenow": f"{width:.0f}", "aria-valuemin": "0", "aria-valuemax": "100"})),
        html.Div(w("of_target", language).format(pct=f"{number(pct or 0, language)}%",
                                                 target=number(mpp["target"], language)), className="tb-tile-sub"),
    ] if mpp["seen"] else [html.Div("–", className="tb-big"), nd])
    waste_tile = _tile("waste", w("h_waste", language), [
        html.Div([html.Span(number(waste["resolved"], language)),
                  html.Small(f" {w('resolved', language)}", className="tb-of")], className="tb-big"),
        html.Div(w("still_open", language).format(n=number(waste["open"], language)), className="tb-tile-sub"),
    ] if waste["seen"] else [html.Div("–", className="tb-big"), nd])
    return [incidents, flood_tile, mpp_tile, waste_tile]


def as_of_text(iso: str | None, settings: ViewSettings) -> str:
    if not iso:
        return w("no_data", settings.language)
    moment = when(iso, settings.timezone, settings.timezone_label, settings.language, with_date=True)
    return f"{w('data_as_of', settings.language)} {moment}"


# --- the page ---------------------------------------------------------------------------------
EMPTY: dict[str, Any] = {"freshness": {}}


def page(settings: ViewSettings, open_pillar: str = "") -> html.Div:
    """The static skeleton; the first callback fills it with the city's current picture."""
    language = settings.language
    empty_heads = headlines_view(EMPTY)
    ids = pillar_ids(settings)
    open_pillar = open_pillar if open_pillar in ids else ""
    cards = [
        html.Button(
            id={"role": "tb-card", "pillar": p},
            className="tb-card",
            n_clicks=0,
            type="button",
            style={"order": str((i + 1) * 10)},
            **attrs(
                {
                    "data-pillar": p,
                    "data-standing": "unknown",
                    "aria-expanded": "true" if p == open_pillar else "false",
                    "aria-controls": "tb-detail",
                }
            ),
            children=[
                html.Div(
                    [*pillar_title(p, settings), html.Span("›", className="tb-chevron", **attrs({"aria-hidden": "true"}))],
                    className="tb-card-top",
                ),
                html.Div(
                    id={"role": "tb-card-body", "pillar": p},
                    className="tb-card-body",
                    children=[standing_badge("unknown", language)],
                ),
            ],
        )
        for i, p in enumerate(ids)
    ]
    detail = html.Section(id="tb-detail", className="tb-detail", **attrs({"aria-live": "polite"}), children=[
        html.Div(className="tb-detail-bar", children=[
            html.Span(w("trend", language), className="tb-detail-bar-label"),
            # a native radio group (keyboard and screen readers know it) dressed as Bootstrap
            # buttons; dcc, not dbc: dcc is loaded anyway, dbc's bundle would add 228 KB to every page
            dcc.RadioItems(
                id="tb-range",
                options=[{"label": w(f"range_{r}", language), "value": r} for r in RANGES],
                value="day",
                inline=True,
                className="tb-range",
                labelClassName="btn btn-outline-primary",
                inputClassName="tb-range-input",
            ),
            html.Button(["✕ ", w("close", language)], id="tb-close", type="button", n_clicks=0,
                        className="btn btn-outline-secondary tb-close"),
        ]),
        *[html.Div(id={"role": "tb-body", "pillar": p}, className="tb-detail-body",
                   **attrs({"data-pillar-detail": p, "data-pillar-index": str(i)}))
          for i, p in enumerate(ids)],
    ])
    return html.Div(
        id=ROOT_ID,
        className="tb-root",
        **attrs(
            {
                "data-open": open_pillar,
                "data-open-index": str(ids.index(open_pillar)) if open_pillar else "",
                "data-range": "day",
                "data-panel": "tablet",
                "data-updated-at": "",
                "data-stale": "true",
                "data-family": FAMILIES,
            }
        ),
        children=[
            dcc.Store(id="tb-sig", data=None),
            dcc.Store(id="tb-sig-kpis", data=None),
            html.Header(
                className="tb-header",
                children=[
                    html.Div(
                        className="tb-heading",
                        children=[
                            html.H1(settings.city_name, className="tb-city"),
                            html.Div(w("title", language), className="tb-subtitle"),
                        ],
                    ),
                    html.A(
                        [
                            html.Span("⤓", className="tb-export-icon", **attrs({"aria-hidden": "true"})),
                            html.Span(w("export", language), className="tb-export-long"),
                            html.Span("PDF", className="tb-export-short", **attrs({"aria-hidden": "true"})),
                        ],
                        id="tb-export",
                        href=EXPORT_PDF,
                        className="btn btn-primary tb-export",
                        n_clicks=0,
                        **attrs({"data-export": "pdf"}),
                    ),
                    html.Div(
                        className="tb-status",
                        children=[
                            html.Span(as_of_text(None, settings), id="tb-asof", className="tb-asof"),
                            html.Span("", className="tb-age", **attrs({"data-age-for": FAMILIES})),
                            html.Span(f"⚠ {w('stale', language)}", className="tb-stale"),
                        ],
                    ),
                ],
            ),
            html.Div(headline_tiles(empty_heads, language), id="tb-headlines", className="tb-headlines"),
            html.Div(
                className="tb-section-head",
                children=[
                    html.H2(pillars_heading(len(ids), language), className="tb-h2"),
                    html.Span(w("tap_hint", language), className="tb-hint"),
                ],
            ),
            html.Div([*cards, detail], className="tb-pillars", **attrs({"data-count": str(len(ids))})),
        ],
    )


def print_view(picture: dict[str, Any], settings: ViewSettings, printed_at: float) -> html.Div:
    """The KPI view on paper: headlines, the pillar cards, then every pillar open with all three spans."""
    language = settings.language
    heads = headlines_view(picture)
    pillars = pillars_view(picture, settings)
    ids = list(pillars)
    printed = datetime.fromtimestamp(printed_at, UTC).isoformat()
    return html.Div(
        className="tb-root tb-print",
        **attrs({"data-range": "all"}),
        children=[
            html.Header(
                className="tb-header",
                children=[
                    html.Div(
                        className="tb-heading",
                        children=[
                            html.H1(settings.city_name, className="tb-city"),
                            html.Div(w("title", language), className="tb-subtitle"),
                        ],
                    ),
                    html.Div(
                        className="tb-status",
                        children=[
                            html.Div(
                                f"{w('printed', language)} "
                                f"{when(printed, settings.timezone, settings.timezone_label, language, with_date=True)}",
                                className="tb-printed",
                            ),
                            html.Div(as_of_text(heads["as_of"], settings), className="tb-asof"),
                        ],
                    ),
                ],
            ),
            html.Div(headline_tiles(heads, language), className="tb-headlines"),
            html.H2(pillars_heading(len(ids), language), className="tb-h2"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(pillar_title(p, settings), className="tb-card-top"),
                            html.Div(card_body(pillars[p], language), className="tb-card-body"),
                        ],
                        className="tb-card",
                        **attrs({"data-pillar": p, "data-standing": pillars[p]["standing"]}),
                    )
                    for p in ids
                ],
                className="tb-pillars",
                **attrs({"data-count": str(len(ids))}),
            ),
            *[
                html.Section(detail_body(pillars[p], settings), className="tb-detail-body", **attrs({"data-pillar-detail": p}))
                for p in ids
            ],
        ],
    )


# --- callbacks --------------------------------------------------------------------------------
#: Opens and closes pillars, and switches the trend span, in the browser: no server trip.
TOGGLE_JS = """
function (clicks, closeClicks, range, open) {
    var c = window.dash_clientside.callback_context;
    var next = open || "";
    (c.triggered || []).forEach(function (trig) {
        var p = trig.prop_id || "";
        if (p === "tb-close.n_clicks") { next = ""; return; }
        if (p.indexOf("tb-card") < 0 || p.slice(-9) !== ".n_clicks" || !trig.value) return;
        var id = JSON.parse(p.slice(0, -9));
        next = next === id.pillar ? "" : id.pillar;
    });
    var cards = c.outputs_list[2] || [];
    var expanded = cards.map(function (o) { return o.id.pillar === next ? "true" : "false"; });
    var index = expanded.indexOf("true");
    if (next && next !== open) {
        window.setTimeout(function () {
            var el = document.getElementById("tb-detail");
            if (el && el.scrollIntoView) el.scrollIntoView({block: "nearest", behavior: "smooth"});
        }, 60);
    }
    return [next, range || "day", expanded, index < 0 ? "" : String(index)];
}
"""


#: Printing takes a second or two: the button shows it is working, so nobody taps twice.
EXPORT_BUSY_JS = """
function (clicks) {
    var el = document.getElementById("tb-export");
    if (clicks && el) {
        el.setAttribute("data-busy", "true");
        window.setTimeout(function () { el.removeAttribute("data-busy"); }, 4000);
    }
    return window.dash_clientside.no_update;
}
"""


def register(app: Dash, reader: CityReader, settings: ViewSettings) -> None:
    """The tablet's callbacks: headlines and cards, the KPIs, and (in the browser) what is open."""
    language = settings.language
    memo: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {}

    def views() -> tuple[dict[str, Any], dict[str, Any]]:
        """Views are computed once per store version, however many tablets ask (one tuple, swapped whole)."""
        picture = reader.picture()
        cached = memo.get("views")
        if cached is None or cached[0] != picture.get("version"):
            cached = memo["views"] = (picture.get("version"), headlines_view(picture), pillars_view(picture, settings))
        return cached[1], cached[2]

    def differ(known: dict[str, str] | None) -> tuple[dict[str, str], Any]:
        """A fresh digest map, and ``changed(key, shown)`` that records a digest and compares it."""
        old = known or {}
        sig: dict[str, str] = {}

        def changed(key: str, shown: Any) -> bool:
            sig[key] = signature(shown)
            return old.get(key) != sig[key]

        return sig, changed

    def each(index: int, chosen: dict[Any, Any], render: Any) -> list[Any]:
        """One entry per matched component, in the order Dash lists them; ``no_update`` if unchanged."""
        out = []
        for o in ctx.outputs_list[index]:
            i = o["id"]
            key = i["pillar"] if "pillar" in i else ((i["kpi"], i["range"]) if "range" in i else i["kpi"])
            value = chosen.get(key)
            out.append(no_update if value is None else render(value))
        return out

    @app.callback(
        Output("tb-headlines", "children"),
        Output("tb-asof", "children"),
        Output({"role": "tb-card-body", "pillar": ALL}, "children"),
        Output({"role": "tb-card", "pillar": ALL}, "data-standing"),
        Output("tb-sig", "data"),
        Input("cw-version", "data"),
        State("tb-sig", "data"),
    )
    def _summary(_: int | None, known: dict[str, str] | None) -> tuple[Any, ...]:
        """The headlines and the pillar cards: small, so they answer first and the page is useful."""
        heads, pillars = views()
        sig, changed = differ(known)
        head_out = (
            headline_tiles(heads, language)
            if changed("head", [heads[x] for x in ("incidents", "flood", "mpp", "waste")])
            else no_update
        )
        asof_out = as_of_text(heads["as_of"], settings) if changed("asof", heads["as_of"]) else no_update
        cards: dict[str, Any] = {}
        for pillar in pillar_ids(settings):
            p = pillars.get(pillar) or {"id": pillar, "standing": "unknown", "kpis": []}
            cards[pillar] = (
                p if changed(f"card:{pillar}", [p["standing"], [[k["id"], k["standing"]] for k in p["kpis"]]]) else None
            )
        if sig == known:
            raise PreventUpdate  # Dash takes no_update for a wildcard output only inside its list
        return (head_out, asof_out, each(2, cards, lambda p: card_body(p, language)),
                each(3, cards, lambda p: p["standing"]), sig)

    @app.callback(
        Output({"role": "tb-body", "pillar": ALL}, "children"),
        Output({"role": "tb-detail-standing", "pillar": ALL}, "children"),
        Output({"role": "tb-kpi", "kpi": ALL}, "data-standing"),
        Output({"role": "tb-facts", "kpi": ALL}, "children"),
        Output({"role": "tb-chart", "kpi": ALL, "range": ALL}, "src"),
        Output({"role": "tb-chart", "kpi": ALL, "range": ALL}, "alt"),
        Output({"role": "tb-marks", "kpi": ALL, "range": ALL}, "children"),
        Output({"role": "tb-caption", "kpi": ALL, "range": ALL}, "children"),
        Output("tb-sig-kpis", "data"),
        Input("cw-version", "data"),
        State("tb-sig-kpis", "data"),
    )
    def _kpis(_: int | None, known: dict[str, str] | None) -> tuple[Any, ...]:
        """Every pillar's KPIs, sent into elements that stay: charts are never remounted.

        A pillar's section is built once (again only if its list of KPIs changes). After that
        a new standing replaces the pillar's badge, a new value replaces that KPI's text, and
        a new trend point replaces the image source and the labels of that span, in place.
        All arrive with the page (in their own request, after the cards), so opening a
        pillar needs no server.
        """
        _heads, pillars = views()
        sig, changed = differ(known)
        bodies: dict[str, Any] = {}
        standings: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        spans: dict[tuple[str, str], Any] = {}
        for pillar in pillar_ids(settings):
            p = pillars.get(pillar) or {"id": pillar, "standing": "unknown", "kpis": []}
            shape = [[k["id"], k["name"], k["unit"], k["target"], k["better"]] for k in p["kpis"]]
            rebuilt = changed(f"body:{pillar}", shape)
            bodies[pillar] = p if rebuilt else None
            standings[pillar] = p if changed(f"standing:{pillar}", p["standing"]) and not rebuilt else None
            for k in p["kpis"]:
                # "updated 15:42 WIB" is shown to the minute: a derived KPI re-stamped every second is not news
                shown = {**{x: y for x, y in k.items() if x != "trends"}, "updated_at": (k["updated_at"] or "")[:16]}
                fresh = changed(f"kpi:{k['id']}", shown)
                facts[k["id"]] = k if fresh and not rebuilt else None
                for r in RANGES:
                    fresh = changed(f"trend:{k['id']}:{r}", [k["trends"][r], k["standing"]])
                    spans[(k["id"], r)] = trend_parts(k, r, settings) if fresh and not rebuilt else None
        if sig == known:
            raise PreventUpdate
        return (each(0, bodies, lambda p: detail_body(p, settings)),
                each(1, standings, lambda p: standing_badge(p["standing"], language)),
                each(2, facts, lambda k: k["standing"]),
                each(3, facts, lambda k: kpi_facts(k, settings)),
                each(4, spans, lambda parts: parts[0]),
                each(5, spans, lambda parts: parts[1]),
                each(6, spans, lambda parts: parts[2]),
                each(7, spans, lambda parts: parts[3]),
                sig)

    app.clientside_callback(
        TOGGLE_JS,
        Output(ROOT_ID, "data-open"),
        Output(ROOT_ID, "data-range"),
        Output({"role": "tb-card", "pillar": ALL}, "aria-expanded"),
        Output(ROOT_ID, "data-open-index"),
        Input({"role": "tb-card", "pillar": ALL}, "n_clicks"),
        Input("tb-close", "n_clicks"),
        Input("tb-range", "value"),
        State(ROOT_ID, "data-open"),
    )
    app.clientside_callback(EXPORT_BUSY_JS, Output("tb-export", "data-taps"), Input("tb-export", "n_clicks"),
                            prevent_initial_call=True)
