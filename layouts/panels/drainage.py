"""Drainage and river gauges: each station's level against its Waspada/Siaga/Awas marks.

The worst stations come first (the picture sorts them). Each row tells the stage three
ways (word, shape, colour), draws the level on a track whose tinted bands are that
station's own thresholds, and a six-hour trend line with the rise of the last hour, because
"2,1 m and rising 0,3 m an hour" calls for a different response than "2,1 m and falling".
When any station reaches Siaga or Awas, a flood alert banner spans the panel.
Rows the panel has no room for go from the bottom (the least severe) and are counted under
the list ("+2 lainnya"), never dropped unsaid; the banner does the same with its names.

Trend lines are small inline SVG images (``layouts.charts``, shared with the tablet): no
chart library per row, a few hundred bytes each, and only sent when the station's numbers change.
"""

from __future__ import annotations

import re
from typing import Any

from dash import Dash

from layouts import charts
from layouts import elements as el
from layouts.frame import STAGE_COLOURS, STAGE_SHAPES, empty, live_part, seen
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs, row_tree

FAMILY = "drainage"
ROWS = 16
TREND_POINTS = 48
STAGES = ("Normal", "Waspada", "Siaga", "Awas")
LEVELS = ("waspada", "siaga", "awas")
ALERTED = ("Siaga", "Awas")  #: the stages the flood banner names
_WORD = re.compile(r"\S+")


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return live_part("drainage", instance, "cw-drainage")


def _thin(points: list[Any], keep: int) -> list[float]:
    """At most ``keep`` values, evenly picked and always ending with the newest."""
    values = [float(p[1]) for p in points if isinstance(p, (list, tuple)) and len(p) == 2]
    if len(values) <= keep:
        return values
    step = (len(values) - 1) / (keep - 1)
    return [values[round(i * step)] for i in range(keep)]


def _rise_per_hour(points: list[Any]) -> float | None:
    """Change over the last hour of readings (metres per hour), or None with too little history."""
    pts = [(float(p[0]), float(p[1])) for p in points if isinstance(p, (list, tuple)) and len(p) == 2]
    if len(pts) < 2:
        return None
    t_end, v_end = pts[-1]
    earlier = [p for p in pts if p[0] <= t_end - 3_600]
    t0, v0 = earlier[-1] if earlier else pts[0]
    if t_end - t0 < 600:
        return None
    return (v_end - v0) * 3_600 / (t_end - t0)


def _shared_words(mine: list[str], other: list[str]) -> int:
    """How many leading words two names have in common."""
    n = 0
    for a, b in zip(mine, other, strict=False):
        if a != b:
            break
        n += 1
    return n


def name_parts(names: list[str]) -> list[tuple[str, str]]:
    """Each name as (the leading words it shares with another listed name, the rest).

    A city's stations are often named alike ("Pos drainase Pariaman Selatan", "... Tengah"),
    and a narrow row cut every name to the same "Pos drainase Pari…": the end that tells
    them apart was the part lost. The row lets the shared lead shrink first, so the own part
    always shows, and the whole name wherever there is room. The own part keeps at least the
    last word, and does not start with a lone separator ("- Palas").
    """
    words = [name.split() for name in names]
    parts = []
    for i, (name, mine) in enumerate(zip(names, words, strict=True)):
        shared = max((_shared_words(mine, other) for j, other in enumerate(words) if j != i), default=0)
        keep = min(shared, len(mine) - 1)
        while 0 < keep < len(mine) - 1 and not any(c.isalnum() for c in mine[keep]):
            keep += 1
        if keep <= 0:
            parts.append(("", name))
            continue
        start = [m.start() for m in _WORD.finditer(name)][keep]
        parts.append((name[:start], name[start:]))
    return parts


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    drainage = picture.drainage
    listed = drainage.stations[:ROWS]
    stations = []
    for s, (lead, own) in zip(listed, name_parts([s.title for s in listed]), strict=True):
        rise = _rise_per_hour(s.trend)
        stations.append(
            {
                "id": s.station_id,
                "name": s.title,
                "lead": lead,
                "own": own,
                "kecamatan": s.kecamatan or "",
                "level": s.level_m,
                "stage": s.stage if s.stage in STAGES else "Normal",
                # tuples, so a row is built once per content (``row_tree``)
                "levels": (s.levels.waspada, s.levels.siaga, s.levels.awas),
                "trend": tuple(round(v, 3) for v in _thin(s.trend, TREND_POINTS)),
                "rise": None if rise is None else round(rise, 2),
            }
        )
    alerted = [s for s in stations if s["stage"] in ALERTED]
    return {
        "has_data": seen(picture, FAMILY),
        "flood_alert": drainage.flood_alert,
        "alerted": [(s["lead"], s["own"], s["stage"]) for s in alerted],
        # past ``ROWS``: the "+N" lines count them (``more_line``)
        "alerted_hidden": sum(1 for s in drainage.stations if s.stage in ALERTED) - len(alerted),
        "hidden": len(drainage.stations) - len(stations),
        "worst": drainage.worst_stage,
        "in_alert": drainage.in_alert,
        "count": len(drainage.stations),
        "reports_open": sum(drainage.reports_open_by_kecamatan.values()),
        "stations": stations,
    }


def sparkline(values: list[float], levels: dict[str, float], colour: str, width: int = 240, height: int = 60) -> str:
    """A trend line as an SVG data URI, with the Siaga mark as a dashed line for scale."""
    top = max([levels.get("awas", 0.0) * 1.1, *values, 0.1])
    pad = 4

    def y(v: float) -> float:
        return charts.y_of(v, 0.0, top, pad, height - pad)

    parts = [charts.guide(y(levels.get("siaga", top)), width, "#ff922b", 2, "6 5", opacity=0.8)]
    if len(values) >= 2:
        step = (width - 2 * pad) / (len(values) - 1)
        parts.append(charts.polyline([(round(pad + i * step, 1), y(v)) for i, v in enumerate(values)], colour, 4))
    return charts.data_uri(parts, width, height)


def track(level: float | None, levels: dict[str, float], stage: str) -> el.Tree:
    """The level on a track tinted by the station's own bands (Normal, Waspada, Siaga, Awas)."""
    top = max(levels.get("awas", 0.0) * 1.25, (level or 0.0) * 1.05, 0.1)

    def pct(v: float) -> float:
        return round(100 * min(max(v / top, 0.0), 1.0), 1)

    w, s, a = pct(levels.get("waspada", top)), pct(levels.get("siaga", top)), pct(levels.get("awas", top))
    bands = [("Normal", 0, w), ("Waspada", w, s), ("Siaga", s, a), ("Awas", a, 100)]
    return el.Div(
        className="cw-track",
        children=[
            *[
                el.Div(className=f"cw-band band-{name}", style={"left": f"{x0}%", "width": f"{x1 - x0}%"})
                for name, x0, x1 in bands
            ],
            el.Div(className=f"cw-level stage-{stage}", style={"width": f"{pct(level or 0.0)}%"}),
            *[el.Div(className="cw-mark", style={"left": f"{x}%"}) for x in (w, s, a)],
        ],
    )


def name_line(lead: str, own: str, class_name: str) -> el.Tree:
    """A name in two spans, the shared lead (if any) before the part that tells it apart, so
    the CSS can shrink the lead first (``name_parts``); a name with no lead draws as before."""
    children = ([el.Span(lead, className="cw-name-lead")] if lead else []) + [el.Span(own, className="cw-name-own")]
    return el.Span(children, className=class_name)


@row_tree
def station_row(s: dict[str, Any], language: str) -> el.Tree:
    """Keyed by station: a reading moves its own row, and the page is sent that row and
    references to the others instead of every row with its sparkline (22 KB a copy)."""
    levels = dict(zip(LEVELS, s["levels"], strict=True))
    rise = s["rise"]
    arrow = "" if rise is None else "↑" if rise > 0.005 else "↓" if rise < -0.005 else "→"
    rise_text = "" if rise is None else f"{arrow} {number(abs(rise), language, 2)} m/{t('hours_short', language)}"
    return el.Div(
        className=f"cw-station stage-{s['stage']}",
        key=s["id"],
        **attrs({"data-station": s["id"]}),
        children=[
            el.Span(f"{STAGE_SHAPES[s['stage']]} {t(s['stage'], language)}", className=f"cw-stage stage-{s['stage']}"),
            el.Div(
                [name_line(s["lead"], s["own"], "cw-station-name"), el.Span(s["kecamatan"], className="cw-station-where")],
                className="cw-station-id",
            ),
            el.Div(
                [
                    el.Span(f"{number(s['level'], language, 2)} m", className="cw-station-level"),
                    el.Span(rise_text, className="cw-station-rise"),
                ],
                className="cw-station-value",
            ),
            track(s["level"], levels, s["stage"]),
            el.Img(src=sparkline(list(s["trend"]), levels, STAGE_COLOURS[s["stage"]]), className="cw-spark", alt=""),
        ],
    )


def more_line(hidden: int, language: str) -> el.Tree:
    """The line after a ``cw-fit`` list saying how many of its entries are not shown, so a
    station never drops out of sight unsaid. ``data-hidden`` counts those the server left out
    (past ``ROWS``); the browser adds those its box had no room for and hides the line when
    there are none (``assets/citywall.js``, fit)."""
    text = t("fit_more", language, n=number(hidden, language)) if hidden else ""
    return el.Div(text, className="cw-fit-more", **attrs({"data-hidden": str(hidden)}))


def banner(shown: dict[str, Any], language: str) -> el.Tree:
    """Every Siaga/Awas station, each name whole: the browser shows those that fit on the
    line and counts the rest after it, instead of cutting the text mid-word ("Sungai Sibam (AW…")."""
    names = [name_line(lead, f"{own} ({t(stage, language)})", "cw-flood-name") for lead, own, stage in shown["alerted"]]
    return el.Div(
        className=f"cw-flood-banner stage-{shown['worst']}",
        role="alert",
        children=[
            el.Span(f"{STAGE_SHAPES.get(shown['worst'], '■')} {t('flood_alert', language)}", className="cw-flood-title"),
            el.Div(
                [el.Div(names, className="cw-flood-names cw-fit"), more_line(shown["alerted_hidden"], language)],
                className="cw-flood-list",
            ),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    head = el.Div(
        className="cw-drainage-summary",
        children=[
            el.Div(
                [
                    el.Span(number(shown["in_alert"], language), className="cw-headline"),
                    el.Span(
                        f"/ {number(shown['count'], language)} {t('stations', language)} ≥ {t('Waspada', language)}",
                        className="cw-stat-label",
                    ),
                ],
                className="cw-stat",
            ),
            el.Div(
                [
                    el.Span(number(shown["reports_open"], language), className="cw-stat-num"),
                    el.Span(t("reports_drainage", language), className="cw-stat-label"),
                ],
                className="cw-stat",
            ),
            el.Div(
                className="cw-legend",
                children=[el.Span(f"{STAGE_SHAPES[s]} {t(s, language)}", className=f"cw-legend-item stage-{s}") for s in STAGES],
            ),
        ],
    )
    rows = el.Div([station_row(s, language) for s in shown["stations"]], className="cw-stations cw-fit")
    return ([banner(shown, language)] if shown["flood_alert"] else []) + [head, rows, more_line(shown["hidden"], language)]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "drainage", view, render, paced=True)
