"""The Mal Pelayanan Publik: served today against today's target, queues, the hourly curve.

The MPP processes about 700 permits a day (1,000 on busy days), so the headline is
"412 / 700" with a progress bar; below it the agencies with the longest queues and the
permits served per hour. The hour chart is a fixed 24-bar figure built once; updates are a
``Patch`` of its bar heights, labels and colours, never a new figure, so the series cannot
grow and the browser never rebuilds the chart.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Patch, dcc, html

from layouts import elements as el
from layouts.frame import empty, live_ids, live_part, seen
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings

FAMILY = "mpp"
AGENCIES = 12
HOURS = 24
BAR = "#4dabf7"
BAR_NOW = "#ffd43b"
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"


def base_figure() -> dict[str, Any]:
    """The hourly chart's fixed skeleton: 24 bars at zero, axes styled for the wall."""
    return {
        "data": [
            {
                "type": "bar",
                "x": list(range(HOURS)),
                "y": [0] * HOURS,
                "text": [""] * HOURS,
                "textposition": "outside",
                "cliponaxis": False,
                "hoverinfo": "skip",
                "marker": {"color": [BAR] * HOURS},
                "textfont": {"size": 22, "color": "#e9eef5", "family": FONT},
            }
        ],
        "layout": {
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "margin": {"l": 8, "r": 8, "t": 40, "b": 44},
            "showlegend": False,
            "bargap": 0.18,
            "font": {"family": FONT, "size": 20, "color": "#c7d2e0"},
            "xaxis": {
                "range": [7.5, 17.5],
                "tickmode": "linear",
                "dtick": 1,
                "tickfont": {"size": 20},
                "showgrid": False,
                "zeroline": False,
                "fixedrange": True,
                "ticks": "",
                "color": "#c7d2e0",
                "tickformat": "02d",
            },
            "yaxis": {"visible": False, "fixedrange": True, "rangemode": "tozero"},
            "dragmode": False,
            "uirevision": "mpp",
        },
    }


def body(instance: str, settings: ViewSettings) -> list[Any]:
    chart_id, _ = live_ids("mpp-chart", instance)
    graph = dcc.Graph(
        id=chart_id,
        figure=base_figure(),
        className="cw-graph cw-mpp-chart",
        config={"staticPlot": False, "displayModeBar": False, "responsive": True},
        style={"height": "100%", "width": "100%"},
    )
    return [
        html.Div(
            className="cw-mpp",
            children=[
                *live_part("mpp", instance, "cw-mpp-main"),
                html.Div(
                    className="cw-mpp-chart-box",
                    children=[
                        html.Div(t("per_hour", settings.language), className="cw-section-title"),
                        html.Div(live_part("mpp-chart", instance, child=graph), className="cw-graph-box"),
                    ],
                ),
            ],
        )
    ]


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    mpp = picture.mpp
    agencies = sorted(mpp.agencies, key=lambda a: (-a.waiting, -a.served_today))
    return {
        "has_data": seen(picture, FAMILY),
        "served": mpp.served_today,
        "target": mpp.target,
        "pct": mpp.attainment_pct,
        "before_opening": mpp.before_opening,
        "waiting": mpp.waiting,
        "serving": mpp.serving,
        "avg_wait": mpp.avg_wait_min,
        "agencies_total": mpp.agencies_total,
        "services": mpp.services,
        "agencies": [
            {
                "name": a.agency,
                "waiting": a.waiting,
                "serving": a.serving,
                "served": a.served_today,
                "wait": a.avg_wait_min,
                "open": a.open,
                "paused": a.paused,
            }
            for a in agencies[:AGENCIES]
        ],
    }


def chart_view(picture: CityPicture, settings: ViewSettings) -> list[int]:
    return [h.served for h in picture.mpp.hourly[:HOURS]]


def chart_patch(served: list[int], settings: ViewSettings) -> Patch:
    """Only bar heights, labels, colours and the visible hours change."""
    now = len(served) - 1
    y = served + [0] * (HOURS - len(served))
    busy = [h for h, v in enumerate(served) if v > 0]
    opens, closes = settings.mpp_hours  # the configured hours: Pasuruan's 08:00-15:00 showed 08-17
    first = min([opens, *busy])
    last = max([closes, now if now >= 0 else closes, *busy])
    patch = Patch()
    patch["data"][0]["y"] = y
    patch["data"][0]["text"] = [number(v, settings.language) if v else "" for v in y]
    patch["data"][0]["marker"]["color"] = [BAR_NOW if h == now else BAR for h in range(HOURS)]
    patch["layout"]["xaxis"]["range"] = [first - 0.5, min(last, HOURS - 1) + 0.5]
    patch["layout"]["yaxis"]["range"] = [0, max(y + [1]) * 1.18]
    return patch


def agency_row(a: dict[str, Any], language: str) -> el.Tree:
    """A counter closed for the day reads "tutup"; one paused for the midday break reads
    "jeda", and the people waiting at it stay in its row."""
    if a["open"]:
        wait = "–" if a["wait"] is None else f"{number(a['wait'], language)} {t('min_short', language)}"
    else:
        wait = t("paused_now" if a["paused"] else "closed_now", language)
    return el.Div(
        className="cw-agency" + ("" if a["open"] else " is-closed"),
        children=[
            el.Span(a["name"], className="cw-agency-name"),
            el.Span(number(a["waiting"], language), className="cw-agency-num cw-agency-waiting"),
            el.Span(number(a["served"], language), className="cw-agency-num"),
            el.Span(wait, className="cw-agency-num"),
        ],
    )


def size_note(shown: dict[str, Any], language: str) -> list[Any]:
    """ "· 26 instansi, 175 layanan": the MPP's size as the city's config gives it."""
    parts = [
        t("agencies_n", language).format(n=number(shown["agencies_total"], language)) if shown["agencies_total"] else "",
        t("services_n", language).format(n=number(shown["services"], language)) if shown["services"] else "",
    ]
    text = ", ".join(p for p in parts if p)
    return [el.Span(f" · {text}", className="cw-mpp-size")] if text else []


def _day_so_far(shown: dict[str, Any], pct: float, language: str) -> list[Any]:
    """Under the count: the share of today's target, or why there is none to show."""
    if not shown["target"]:
        return [el.Div(t("mpp_closed_today", language), className="cw-stat-label")]
    if shown["before_opening"]:
        return [el.Div(t("mpp_not_open_yet", language), className="cw-stat-label")]
    return _against_target(pct, language)


def _against_target(pct: float, language: str) -> list[Any]:
    return [
        el.Div(f"{t('served_today', language)} · {t('target_today', language)}", className="cw-stat-label"),
        el.Div(
            className="cw-progress",
            children=[
                el.Div(
                    className="cw-progress-fill" + (" is-done" if pct >= 100 else ""), style={"width": f"{min(pct, 100):.1f}%"}
                ),
                el.Span(f"{number(pct, language, 1)}%", className="cw-progress-text"),
            ],
        ),
    ]


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    target = shown["target"] or 0
    pct = shown["pct"] if shown["pct"] is not None else (100 * shown["served"] / target if target else 0)
    avg = "–" if shown["avg_wait"] is None else f"{number(shown['avg_wait'], language, 1)} {t('min_short', language)}"
    header = el.Div(
        className="cw-agency cw-agency-head",
        children=[
            el.Span(t("agency", language), className="cw-agency-name"),
            el.Span(t("waiting", language), className="cw-agency-num"),
            el.Span(t("col_served", language), className="cw-agency-num"),
            el.Span(t("col_wait", language), className="cw-agency-num"),
        ],
    )
    return [
        el.Div(
            className="cw-mpp-top",
            children=[
                el.Div(
                    className="cw-mpp-served",
                    children=[
                        el.Div(
                            [
                                el.Span(number(shown["served"], language), className="cw-headline cw-huge"),
                                *([el.Span(f" / {number(target, language)}", className="cw-mpp-target")] if target else []),
                            ],
                            className="cw-mpp-count",
                        ),
                        *_day_so_far(shown, pct, language),
                    ],
                ),
                el.Div(
                    className="cw-stats cw-stats-col",
                    children=[
                        el.Div(
                            [
                                el.Span(number(shown["waiting"], language), className="cw-headline"),
                                el.Span(t("waiting", language), className="cw-stat-label"),
                            ],
                            className="cw-stat",
                        ),
                        el.Div(
                            [
                                el.Span(avg, className="cw-stat-num"),
                                el.Span(t("avg_wait", language), className="cw-stat-label"),
                            ],
                            className="cw-stat",
                        ),
                    ],
                ),
            ],
        ),
        el.Div(
            className="cw-mpp-agencies",
            children=[
                # "terpanjang": the rows are the longest queues, as many as the screen holds, of
                # the 26 the note counts; "Antrean per instansi" beside 12 rows read as all of them
                el.Div([t("queue_by_agency", language), *size_note(shown, language)], className="cw-section-title"),
                header,
                el.Div([agency_row(a, language) for a in shown["agencies"]], className="cw-agency-rows cw-fit"),
            ],
        ),
    ]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "mpp", view, render, paced=True)
    live.add(app, "mpp-chart", chart_view, chart_patch, prop="figure")
