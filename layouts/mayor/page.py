"""The tablet as a page: the live skeleton the callbacks fill, and the same pieces on paper (the PDF)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import dcc, html

from layouts.frame import frame_id
from layouts.i18n import t, when
from layouts.mayor.headlines import as_of_text, headline_tiles, pillars_heading
from layouts.mayor.kpis import card_body, detail_body, pillar_title, standing_badge
from layouts.mayor.summaries import EMPTY, FAMILIES, RANGES, headline_summary, pillar_ids, pillar_summaries
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs

EXPORT_PDF = "/api/v1/summary.pdf"
MINUTE_MS = 60_000
#: The page root is a frame like the wall's panels: ``assets/citywall.js`` keeps its
#: ``data-updated-at``/``data-stale`` (the test hooks) current and ages its text every second.
ROOT_ID = frame_id("tablet", FAMILIES, "tablet")


def page(settings: ViewSettings, open_pillar: str = "") -> html.Div:
    """The static skeleton; the first callback fills it with the city's current picture."""
    language = settings.language
    empty_heads = headline_summary(EMPTY)
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
    detail = html.Section(
        id="tb-detail",
        className="tb-detail",
        **attrs({"aria-live": "polite"}),
        children=[
            html.Div(
                className="tb-detail-bar",
                children=[
                    html.Span(t("trend", language), className="tb-detail-bar-label"),
                    # a native radio group (keyboard and screen readers know it) dressed as Bootstrap
                    # buttons; dcc, not dbc: dcc is loaded anyway, dbc's bundle would add 228 KB to every page
                    dcc.RadioItems(
                        id="tb-range",
                        options=[{"label": t(f"range_{r}", language), "value": r} for r in RANGES],
                        value="day",
                        inline=True,
                        className="tb-range",
                        labelClassName="btn btn-outline-primary",
                        inputClassName="tb-range-input",
                    ),
                    html.Button(
                        ["✕ ", t("close", language)],
                        id="tb-close",
                        type="button",
                        n_clicks=0,
                        className="btn btn-outline-secondary tb-close",
                    ),
                ],
            ),
            *[
                html.Div(
                    id={"role": "tb-body", "pillar": p},
                    className="tb-detail-body",
                    **attrs({"data-pillar-detail": p, "data-pillar-index": str(i)}),
                )
                for i, p in enumerate(ids)
            ],
        ],
    )
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
            # what the clock alone changes (the MPP's day and pace, "updated" times, the day's
            # windows) with no new version to bring it: a quiet night left yesterday's MPP up
            dcc.Interval(id="tb-minute", interval=MINUTE_MS),
            html.Header(
                className="tb-header",
                children=[
                    html.Div(
                        className="tb-heading",
                        children=[
                            html.H1(settings.city_name, className="tb-city"),
                            html.Div(t("title", language), className="tb-subtitle"),
                        ],
                    ),
                    html.A(
                        [
                            html.Span("⤓", className="tb-export-icon", **attrs({"aria-hidden": "true"})),
                            html.Span(t("export", language), className="tb-export-long"),
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
                            html.Span(f"⚠ {t('stale', language)}", className="tb-stale"),
                        ],
                    ),
                ],
            ),
            html.Div(headline_tiles(empty_heads, language), id="tb-headlines", className="tb-headlines"),
            html.Div(
                className="tb-section-head",
                children=[
                    html.H2(pillars_heading(len(ids), language), className="tb-h2"),
                    html.Span(t("tap_hint", language), className="tb-hint"),
                ],
            ),
            html.Div([*cards, detail], className="tb-pillars", **attrs({"data-count": str(len(ids))})),
        ],
    )


def print_page(picture: CityPicture, settings: ViewSettings, printed_at: float) -> html.Div:
    """The KPI view on paper: headlines, the pillar cards, then every pillar open with all three spans."""
    language = settings.language
    heads = headline_summary(picture)
    pillars = pillar_summaries(picture, settings)
    ids = list(pillars)
    printed = datetime.fromtimestamp(printed_at, UTC).isoformat()
    page = html.Div(
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
                            html.Div(t("title", language), className="tb-subtitle"),
                        ],
                    ),
                    html.Div(
                        className="tb-status",
                        children=[
                            html.Div(
                                f"{t('printed', language)} "
                                f"{when(printed, settings.timezone, settings.timezone_label, language, with_date=True)}",
                                className="tb-printed",
                            ),
                            html.Div(as_of_text(heads["as_of"], settings), className="tb-asof"),
                            html.Span(f"⚠ {t('stale', language)}", className="tb-stale"),
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
    stale = {family for family, fresh in picture.freshness.items() if fresh.stale}
    setattr(page, "data-stale", "true" if _mark_stale(page, stale) else "false")
    return page


def _mark_stale(component: Any, stale: set[str]) -> bool:
    """Marks what the page's script would mark, for paper, which runs none: every tile and
    KPI line whose feed (``data-stale-for``) has fallen silent. A shared PDF said "no flood
    alert" of a gauge feed that had been silent for an hour. Whether any was marked."""
    marked = False
    family = getattr(component, "data-stale-for", None)
    if isinstance(family, str):
        setattr(component, "data-stale", "true" if family in stale else "false")
        marked = family in stale
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            marked = _mark_stale(child, stale) or marked
    return marked
