"""The incident queue: most severe first, then newest, with age and status.

Severity is told by a word and a shape as well as colour, so it reads from 4 m and for
colour-blind operators. Only the top rows are sent: a 1080-pixel screen shows about a dozen,
and the browser hides whatever does not fit the panel's box (``cw-fit``) instead of letting
the page scroll. The headline is the number an operator looks for first: open incidents.
"""

from __future__ import annotations

from typing import Any

from dash import Dash

from layouts import elements as el
from layouts.frame import SEVERITY_SHAPES, age_cell, empty, live_part, seen
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs, row_tree

FAMILY = "incidents"
ROWS = 14
SEVERITIES = ("critical", "high", "medium", "low")
SHAPES = SEVERITY_SHAPES  # kept for callers of the earlier name


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return live_part("incident_queue", instance, "cw-queue-panel")


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """What the queue shows: counts and the top rows. A row's age is not in it: the browser
    writes it from ``since`` (``age_cell``), so a row stays the same while it ages."""
    incidents = picture.incidents
    rows = [
        {
            "id": d.id,
            "severity": d.severity,
            "text": d.text,
            "kecamatan": d.kecamatan or "–",
            "status": d.status,
            "assignee": d.assignee,
            "since": d.since,
        }
        for d in incidents.open[:ROWS]
    ]
    return {
        "has_data": seen(picture, FAMILY),
        "open_count": incidents.open_count,
        "by_severity": {s: incidents.by_severity.get(s, 0) for s in SEVERITIES},
        "resolved_24h": incidents.resolved_24h,
        "rows": rows,
    }


def rows(shown: list[dict[str, Any]], language: str) -> list[Any]:
    return [_row(d, language) for d in shown]


@row_tree
def _row(d: dict[str, Any], language: str) -> el.Tree:
    return el.Div(
        className=f"cw-row sev-{d['severity']}",
        key=d["id"],
        **attrs({"data-incident": d["id"], "data-status": d["status"]}),
        children=[
            el.Span(f"{SEVERITY_SHAPES.get(d['severity'], '●')} {t(d['severity'], language)}", className="cw-sev"),
            el.Span(d["text"], className="cw-desc"),
            el.Span(d["kecamatan"], className="cw-where"),
            el.Span(
                t(d["status"], language) + (f" · {d['assignee']}" if d.get("assignee") else ""),
                className=f"cw-status st-{d['status']}",
            ),
            age_cell(d["since"]),
        ],
    )


def summary(shown: dict[str, Any], language: str) -> el.Tree:
    counts = shown["by_severity"]
    return el.Div(
        className="cw-queue-summary",
        children=[
            el.Div(
                className="cw-stat",
                children=[
                    el.Span(number(shown["open_count"], language), className="cw-headline"),
                    el.Span(t("open_incidents", language), className="cw-stat-label"),
                ],
            ),
            el.Div(
                className="cw-chips",
                children=[
                    el.Span(
                        f"{SEVERITY_SHAPES[s]} {t(s, language)} {number(counts.get(s, 0), language)}",
                        className=f"cw-chip sev-{s}",
                    )
                    for s in SEVERITIES
                ],
            ),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [summary(shown, language), el.Div(rows(shown["rows"], language), className="cw-queue cw-fit")]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "incident_queue", view, render)
