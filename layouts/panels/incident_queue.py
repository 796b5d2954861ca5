"""The incident queue: most severe first, then newest, with age and status.

Severity is told by a word and a shape as well as colour, so it reads from 4 m and for
colour-blind operators. Only the top rows are sent: a 1080-pixel screen shows about a dozen,
and the browser hides whatever does not fit the panel's box (``cw-fit``) instead of letting
the page scroll. The headline is the number an operator looks for first: open incidents.

Three live parts, drawn one under the other as one list: the counts
(``incident_queue-head``), the open critical incidents (``incident_queue-critical``) and the
rest of the rows (``incident_queue``). The counts and the rest move with nearly every message
of a busy feed, so the push sends them at most once a second (``LivePart.paced``); the
critical rows go with the frame they change in. Under 500 new incidents a second a critical
one then reaches the screen as one new row, not with the half-dozen lesser rows that came in
since the last frame, all drawn and laid out anew.
"""

from __future__ import annotations

from typing import Any

from dash import Dash

from layouts import elements as el
from layouts.frame import SEVERITY_SHAPES, age_cell, empty, live_part, seen
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture, critical_rows
from layouts.ports import ViewSettings
from layouts.sections import IncidentRow
from layouts.tree import attrs, row_tree

FAMILY = "incidents"
ROWS = 14
SEVERITIES = ("critical", "high", "medium", "low")
#: Informational incidents have a chip only while some are open: the headline's count holds
#: them, and chips that added up to less than it read as a miscount on the wall.
QUIET_SEVERITY = "informational"
SHAPES = SEVERITY_SHAPES  # kept for callers of the earlier name


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return [
        *live_part("incident_queue-head", instance, "cw-queue-head"),
        *live_part("incident_queue-critical", instance, "cw-queue-critical"),
        *live_part("incident_queue", instance, "cw-queue-rest"),
    ]


def head_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    incidents = picture.incidents
    return {
        "has_data": seen(picture, FAMILY),
        "open_count": incidents.open_count,
        "by_severity": {s: incidents.by_severity.get(s, 0) for s in (*SEVERITIES, QUIET_SEVERITY)},
    }


def critical_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """The open critical incidents: the head of the list, as the list is most severe first."""
    return {"rows": [_shown(d) for d in critical_rows(picture)[:ROWS]]}


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """The rest of the top rows, and whether incidents ever came (the panel's "no data yet").
    A row's age is not in it: the browser writes it from ``since`` (``age_cell``), so a row
    stays the same while it ages."""
    return {
        "has_data": seen(picture, FAMILY),
        "rows": [_shown(d) for d in picture.incidents.open[:ROWS] if d.severity != "critical"],
    }


def _shown(d: IncidentRow) -> dict[str, Any]:
    return {
        "id": d.id,
        "severity": d.severity,
        "text": d.text,
        "kecamatan": d.kecamatan or "–",
        "status": d.status,
        "assignee": d.assignee,
        "since": d.since,
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
                # the agency on a line of its own: "DIKIRIM · SATPOLPP" on one was cut to "DIKIRIM · …"
                [t(d["status"], language), el.Span(d["assignee"], className="cw-status-to")]
                if d.get("assignee")
                else t(d["status"], language),
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
                    for s in (*SEVERITIES, QUIET_SEVERITY)
                    if s != QUIET_SEVERITY or counts.get(s, 0)
                ],
            ),
        ],
    )


def head_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    return [summary(shown, settings.language)] if shown["has_data"] else []


def rows_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Nothing while there are no rows: the other parts then have the panel."""
    if not shown["rows"]:
        return []
    return [el.Div(rows(shown["rows"], settings.language), className="cw-queue cw-fit")]


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """The rows below the critical ones, or "no data yet" before the first incident."""
    return rows_render(shown, settings) if shown["has_data"] else [empty(settings.language)]


#: The panel's live parts, top to bottom: role, view, render, paced.
PARTS = (
    ("incident_queue-head", head_view, head_render, True),
    ("incident_queue-critical", critical_view, rows_render, False),
    ("incident_queue", view, render, True),
)


def register(app: Dash, live: LiveParts) -> None:
    for role, part_view, part_render, paced in PARTS:
        live.add(app, role, part_view, part_render, paced=paced)
