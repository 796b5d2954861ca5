"""Waste: the fullest TPS (temporary waste sites) and the citizens' open waste reports.

Two questions drive this screen in the morning briefing: which sites need a truck first, and
where the complaints pile up. So: the fullest sites as bars (the over-threshold ones marked
by a word and shape, not only red), open reports per kecamatan, and how fast reports are
closed (count resolved and the median time to resolve).
"""

from __future__ import annotations

from typing import Any

from dash import Dash

from layouts import elements as el
from layouts.frame import empty, live_part, seen
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs

FAMILY = "waste"
TOP_SITES = 12
TOP_KECAMATAN = 15


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return live_part("waste", instance, "cw-waste")


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    waste = picture.waste
    containers = waste.containers
    by_kec = sorted(waste.reports_open_by_kecamatan.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "has_data": seen(picture, FAMILY),
        "sites": [
            {
                "id": c.id,
                "name": c.name or c.id,
                "kecamatan": c.kecamatan or "",
                "fill": round(float(c.fill), 3),
                "full": c.over_threshold,
            }
            for c in containers[:TOP_SITES]
        ],
        "site_count": len(containers),
        "over_threshold": waste.over_threshold,
        "reports_open": waste.reports_open,
        "reports_resolved": waste.reports_resolved,
        "median_resolve_h": waste.median_resolve_h,
        "by_kecamatan": by_kec[:TOP_KECAMATAN],
    }


def _stat(value: str, label: str, headline: bool = False) -> el.Tree:
    return el.Div(
        [el.Span(value, className="cw-headline" if headline else "cw-stat-num"), el.Span(label, className="cw-stat-label")],
        className="cw-stat",
    )


def site_row(site: dict[str, Any], language: str) -> el.Tree:
    pct = min(max(site["fill"], 0.0), 1.0) * 100
    label = f"{number(pct, language)}%"
    return el.Div(
        className="cw-bar-row" + (" is-full" if site["full"] else ""),
        **attrs({"data-site": site["id"]}),
        children=[
            el.Div(
                [el.Span(site["name"], className="cw-bar-name"), el.Span(site["kecamatan"], className="cw-bar-sub")],
                className="cw-bar-label",
            ),
            el.Div(el.Div(className="cw-bar-fill", style={"width": f"{pct:.1f}%"}), className="cw-bar-track"),
            el.Span(("■ " if site["full"] else "") + label, className="cw-bar-value"),
        ],
    )


def kecamatan_row(name: str, count: int, most: int, language: str) -> el.Tree:
    return el.Div(
        className="cw-bar-row cw-bar-row-compact",
        children=[
            el.Span(name, className="cw-bar-name"),
            el.Div(
                el.Div(className="cw-bar-fill cw-bar-reports", style={"width": f"{100 * count / max(most, 1):.1f}%"}),
                className="cw-bar-track",
            ),
            el.Span(number(count, language), className="cw-bar-value"),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    median = shown["median_resolve_h"]
    median_text = "–" if median is None else f"{number(median, language, 1)} {t('hours_short', language)}"
    most = max((c for _, c in shown["by_kecamatan"]), default=1)
    return [
        el.Div(
            className="cw-stats",
            children=[
                _stat(
                    number(shown["over_threshold"], language),
                    f"{t('tps_full', language)} / {number(shown['site_count'], language)}",
                    True,
                ),
                _stat(number(shown["reports_open"], language), t("reports_open", language), True),
                _stat(number(shown["reports_resolved"], language), t("reports_resolved", language)),
                _stat(median_text, t("median_resolve", language)),
            ],
        ),
        el.Div(
            className="cw-columns",
            children=[
                el.Div(
                    [
                        el.Div(t("tps_fill", language), className="cw-section-title"),
                        el.Div([site_row(s, language) for s in shown["sites"]], className="cw-bars cw-fit"),
                    ],
                    className="cw-column",
                ),
                el.Div(
                    [
                        el.Div(t("open_by_kecamatan", language), className="cw-section-title"),
                        el.Div(
                            [kecamatan_row(n, c, most, language) for n, c in shown["by_kecamatan"]], className="cw-bars cw-fit"
                        )
                        if shown["by_kecamatan"]
                        else el.Div("0", className="cw-muted"),
                    ],
                    className="cw-column",
                ),
            ],
        ),
    ]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "waste", view, render, paced=True)
