"""The lists beside the incident map: totals, legend, ranking, categories, lifecycle, most severe.

Each but the static legend is a live part of the map panel (``layouts.panels.incidents_map``):
a ``*_view`` takes what the list shows out of the picture, and a ``*_render`` writes it as
``dash.html``. The panel places them; on a spanned map each sits inside a single screen, so
no text crosses a bezel.
"""

from __future__ import annotations

from typing import Any

from dash import html

from layouts import elements as el
from layouts.frame import SEVERITY_SHAPES, age_cell, empty, seen
from layouts.i18n import category_word, number, t
from layouts.map_figure import BINS, SEVERITIES, counts_by_district, fill_for
from layouts.map_plan import cached_plan
from layouts.mayor.figures import amount
from layouts.picture import CityPicture, critical_rows
from layouts.ports import ViewSettings
from layouts.sections import IncidentRow, share_pct
from layouts.tree import attrs, row_tree

FAMILY = "incidents"
CATEGORIES = 6
TOP_ROWS = 18
MUTED = "var(--cw-muted)"


def legend(language: str) -> html.Div:
    """The fill bins, static: what a district's colour means."""
    bounds = [b for b, _ in BINS]
    items = []
    for i, (low, colour) in enumerate(BINS):
        high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        text = str(low) if high == low else (f"{low}–{high}" if high is not None else f"≥ {low}")
        items.append(
            html.Span([html.Span(className="cw-swatch", style={"background": colour}), text], className="cw-legend-item")
        )
    return html.Div(
        [
            html.Div(t("legend_fill", language), className="cw-section-title"),
            html.Div(items, className="cw-legend cw-legend-wrap"),
        ],
        className="cw-map-legend",
    )


def head_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    incidents = picture.incidents
    by = incidents.by_severity
    return {
        "has_data": seen(picture, FAMILY),
        "open": incidents.open_count,
        "by_severity": [(s, by.get(s, 0)) for s in SEVERITIES if s != "informational" or by.get(s)],
    }


def head_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [
        el.Div(
            [
                el.Span(number(shown["open"], language), className="cw-headline cw-huge"),
                el.Span(t("open_incidents", language), className="cw-stat-label"),
            ],
            className="cw-stat",
        ),
        el.Div(
            className="cw-map-sevs",
            children=[
                el.Div(
                    [
                        el.Span(SEVERITY_SHAPES[s], className=f"cw-map-symbol sev-{s}"),
                        el.Span(t(s, language), className="cw-map-sev-word"),
                        el.Span(number(c, language), className="cw-map-sev-count"),
                    ],
                    className=f"cw-map-sev sev-{s}",
                )
                for s, c in shown["by_severity"]
            ],
        ),
    ]


def rank_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    incidents = picture.incidents
    names = [d.name for d in cached_plan(settings, None).districts]
    counts = counts_by_district(incidents, names)
    ranked = sorted(zip(names, counts, strict=True), key=lambda nc: (-nc[1], nc[0]))
    # Open incidents in no district (a point outside every boundary, or no place at all):
    # without their own row the ranking added up to less than the total above it.
    elsewhere = max(incidents.open_count - sum(counts), 0)
    return {"has_data": seen(picture, FAMILY), "ranked": ranked, "elsewhere": elsewhere}


def rank_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    elsewhere = shown["elsewhere"]
    most = max([c for _, c in shown["ranked"]] + [elsewhere, 1])
    bars = [_rank_row(name, name, count, most, language) for name, count in shown["ranked"]]
    if elsewhere:
        # grey, not a district's fill: no district on the map has this colour for them
        bars.append(_rank_row("_elsewhere", t("no_kecamatan", language), elsewhere, most, language, MUTED))
    return [
        el.Div(t("by_kecamatan", language), className="cw-section-title"),
        el.Div(bars, className="cw-bars cw-fit"),
    ]


def _rank_row(key: str, name: str, count: int, most: int, language: str, fill: str | None = None) -> Any:
    return el.Div(
        className="cw-bar-row cw-bar-row-compact",
        key=key,
        children=[
            el.Span(name, className="cw-bar-name"),
            el.Div(
                el.Div(
                    className="cw-bar-fill",
                    style={"width": f"{100 * count / most:.1f}%", "background": fill or fill_for(max(count, 1))},
                ),
                className="cw-bar-track",
            ),
            el.Span(number(count, language), className="cw-bar-value"),
        ],
    )


def cat_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    incidents = picture.incidents
    cats = sorted(incidents.by_category.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return {"has_data": seen(picture, FAMILY), "cats": [(str(c), n) for c, n in cats[:CATEGORIES]]}


def cat_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    most = max((n for _, n in shown["cats"]), default=1) or 1
    rows = [
        el.Div(
            className="cw-bar-row cw-bar-row-compact",
            children=[
                el.Span(category_word(c, language), className="cw-bar-name"),
                el.Div(
                    el.Div(className="cw-bar-fill cw-bar-cat", style={"width": f"{100 * n / most:.1f}%"}),
                    className="cw-bar-track",
                ),
                el.Span(number(n, language), className="cw-bar-value"),
            ],
        )
        for c, n in shown["cats"]
    ]
    return [el.Div(t("by_category", language), className="cw-section-title"), el.Div(rows, className="cw-bars cw-fit")]


STATUSES = ("new", "acknowledged", "dispatched")


def status_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    incidents = picture.incidents
    by = incidents.by_status
    assignees = sorted(incidents.by_assignee.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    return {
        "has_data": seen(picture, FAMILY),
        "status": [(s, by.get(s, 0)) for s in STATUSES],
        "assignees": [[a, n] for a, n in assignees],
        "resolved": incidents.resolved_24h,
        "within": incidents.resolved_within_sla_24h,
    }


def status_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Where the open incidents stand in their lifecycle, and how the last day went."""
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    share = share_pct(shown["within"], shown["resolved"])  # as the KPI says it: 1,999 of 2,000 is not 100 %
    pct = amount(share, "%", language)  # as the pillar's KPI writes it: 100 % whole, 99,9 % short of it
    return [
        el.Div(t("by_status", language), className="cw-section-title"),
        el.Div(
            [
                el.Div(
                    [
                        el.Span(t(s, language), className=f"cw-status st-{s}"),
                        el.Span(number(n, language), className="cw-stat-num"),
                    ],
                    className="cw-map-status",
                )
                for s, n in shown["status"]
            ],
            className="cw-map-statuses",
        ),
        *(
            [
                el.Div(
                    " · ".join(f"{a} {number(n, language)}" for a, n in shown["assignees"]),
                    className="cw-map-assignees",
                    **attrs({"data-assignees": ",".join(a for a, _ in shown["assignees"])}),
                )
            ]
            if shown.get("assignees")
            else []
        ),
        el.Div(t("resolved_day", language), className="cw-section-title"),
        el.Div(
            [
                el.Span(number(shown["resolved"], language), className="cw-headline"),
                el.Span(t("resolved_sla", language).format(pct=pct), className="cw-stat-label"),
            ],
            className="cw-stat",
        ),
    ]


def top_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """The open critical incidents, under the list's title: the head of the list, as it is
    most severe first. They go with the frame they change in; the rows under them
    (``rest_view``) are paced."""
    rows = [_top_shown(d) for d in critical_rows(picture)[:TOP_ROWS]]
    return {"has_data": seen(picture, FAMILY), "rows": rows}


def rest_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """The rest of the most severe open incidents, below the critical ones."""
    return {"rows": [_top_shown(d) for d in picture.incidents.open[:TOP_ROWS] if d.severity != "critical"]}


def _top_shown(d: IncidentRow) -> dict[str, Any]:
    return {
        "id": d.id,
        "severity": d.severity,
        "text": d.text,
        "kecamatan": d.kecamatan or "–",
        "since": d.since,  # the age is the browser's (``age_cell``)
    }


def top_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [el.Div(t("most_severe", language), className="cw-section-title"), *rest_render(shown, settings)]


def rest_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Nothing while there are no rows: the critical ones then have the column."""
    if not shown["rows"]:
        return []
    return [el.Div([_top_row(r, settings.language) for r in shown["rows"]], className="cw-map-incs cw-fit")]


@row_tree
def _top_row(r: dict[str, Any], language: str) -> el.Tree:
    return el.Div(
        className=f"cw-map-inc sev-{r['severity']}",
        key=r["id"],  # keyed: a new incident at the top sends one row and references
        children=[
            el.Span(f"{SEVERITY_SHAPES.get(r['severity'], '●')} {t(r['severity'], language)}", className="cw-sev"),
            el.Span(r["text"], className="cw-desc"),
            el.Span(r["kecamatan"], className="cw-where"),
            age_cell(r["since"]),
        ],
    )
