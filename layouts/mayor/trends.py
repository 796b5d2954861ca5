"""One KPI's trend over one span: the chart, its labels, and a line saying what it shows.

The chart is drawn by ``layouts.charts``; its numbers (high, low, target, the times at the
edges) are HTML around the image. ``trend_parts`` builds the parts that change with the
data; ``trend_block`` places them in elements that stay, so a new point replaces an image
source and a few labels in place and a chart is never remounted.
"""

from __future__ import annotations

from typing import Any

from dash import html

from layouts import charts
from layouts.i18n import t
from layouts.mayor.figures import amount, axis_labels, change_text, target_text
from layouts.ports import ViewSettings
from layouts.tree import attrs

STANDING_COLOURS = {
    "veryGood": "#2f7d32",
    "good": "#2f7d32",
    "fair": "#b25e00",
    "bad": "#c62828",
    "veryBad": "#c62828",
    "unknown": "#6b7785",
    "closed": "#6b7785",
}
GOOD_SIDE = "#2f7d32"
LINE = "#1f4e8c"
BLANK_SVG = charts.data_uri([], 10, 10)


def _y(v: float, lo: float, hi: float) -> float:
    """A value's height in the chart's 0..100 box, top down."""
    return charts.y_of(v, lo, hi, 0, 100)


def trend_svg(s: dict[str, Any], target: float | None, better: str, standing: str) -> str:
    """The line as an SVG data URI that stretches to any width (labels are HTML around it).

    The band on the good side of the target is tinted, so "above the line is good" (or
    below, for counts that should fall) reads without a legend. Strokes do not scale, so the
    line keeps its weight from a phone to a landscape tablet.
    """
    lo, hi = charts.padded(s["lo"], s["hi"], target)
    span = (s["end"] - s["start"]) or 1
    # x runs to 988 of 1000 so the dot that marks "now" is not cut in half at the edge
    points = [(round((t_ - s["start"]) / span * 988), _y(v, lo, hi)) for t_, v in s["points"]]
    parts = []
    if target is not None:
        ty = _y(target, lo, hi)
        top, height = (0, ty) if better == "higher" else (ty, round(100 - ty, 1))
        parts.append(charts.band(top, height, 1000, GOOD_SIDE, 0.09))
        parts.append(charts.guide(ty, 1000, GOOD_SIDE, 1.5, "6 4", fixed=True))
    parts.append(charts.polyline(points, LINE, 2.5, fixed=True))
    if points:
        x_last, y_last = points[-1]
        parts.append(charts.dot(x_last, y_last, STANDING_COLOURS.get(standing, "#6b7785"), 9, fixed=True))
    return charts.data_uri(parts, 1000, 100, stretch=True)


def trend_parts(k: dict[str, Any], range_: str, settings: ViewSettings) -> tuple[str, str, list[Any], list[Any]]:
    """One span of one KPI as (image, alt text, labels on the chart, caption under it).

    These are the parts that change; ``trend_block`` places them in elements that stay.
    """
    language = settings.language
    s = k["trends"][range_]
    if not s["points"]:
        return BLANK_SVG, t("no_history", language), [html.Div(t("no_history", language), className="tb-chart-empty")], []
    lo, hi = charts.padded(s["lo"], s["hi"], k["target"])
    unit = k["unit"]
    marks = [html.Span(amount(s["hi"], unit, language), className="tb-y", style={"top": f"{_y(s['hi'], lo, hi)}%"})]
    if _y(s["lo"], lo, hi) - _y(s["hi"], lo, hi) > 22:
        marks.append(html.Span(amount(s["lo"], unit, language), className="tb-y", style={"top": f"{_y(s['lo'], lo, hi)}%"}))
    if k["target"] is not None:
        marks.append(
            html.Span(target_text(k, language), className="tb-target-mark", style={"top": f"{_y(k['target'], lo, hi)}%"})
        )
    alt = (
        f"{t('trend', language)} {t(f'span_{range_}', language)}: {amount(s['first'], unit, language)} → "
        f"{amount(s['last'], unit, language)}, {t('min', language)} {amount(s['lo'], unit, language)}, "
        f"{t('max', language)} {amount(s['hi'], unit, language)}"
    )
    text, mood = change_text(s, k, range_, language)
    start, middle, end = axis_labels(range_, s["start"], s["end"], settings)
    caption = [
        html.Div([html.Span(start), html.Span(middle), html.Span(end)], className="tb-xaxis"),
        html.Div(
            className="tb-trend-text",
            **attrs({"data-mood": mood}),
            children=[
                html.Span(text, className="tb-change"),
                html.Span(f" · {t(mood, language)}" if mood != "steady" else "", className="tb-mood"),
                html.Span(
                    f" · {t('min', language)} {amount(s['lo'], unit, language)} · "
                    f"{t('max', language)} {amount(s['hi'], unit, language)}",
                    className="tb-range-facts",
                ),
            ],
        ),
    ]
    return trend_svg(s, k["target"], k["better"], k["standing"]), alt, marks, caption


def part_id(role: str, kpi: str, range_: str | None = None) -> dict[str, str]:
    """Pattern ids of the parts of a KPI that callbacks update in place."""
    return {"role": role, "kpi": kpi} if range_ is None else {"role": role, "kpi": kpi, "range": range_}


def trend_block(k: dict[str, Any], range_: str, settings: ViewSettings) -> html.Div:
    """One span of one KPI: the chart with its labels written out, and one line of what it says."""
    src, alt, marks, caption = trend_parts(k, range_, settings)
    return html.Div(
        className="tb-trend",
        **attrs({"data-range": range_}),
        children=[
            html.Div(t(f"span_{range_}", settings.language), className="tb-trend-label"),
            html.Div(
                className="tb-chart",
                children=[
                    html.Img(id=part_id("tb-chart", k["id"], range_), src=src, alt=alt, className="tb-chart-img"),
                    html.Div(marks, id=part_id("tb-marks", k["id"], range_), className="tb-marks"),
                ],
            ),
            html.Div(caption, id=part_id("tb-caption", k["id"], range_), className="tb-caption"),
        ],
    )
