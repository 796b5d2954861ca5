"""The console's incident queue: every open incident, filterable, one row per incident.

Rows carry ``data-incident`` and ``data-status`` like the wall's queue. A click (or j/k on
the keyboard) selects a row, in the browser (``assets/console_keys.js``); the selection lives
in the page (``cw-console-selected``) so the detail, the map and the actions follow it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from layouts.frame import SEVERITY_SHAPES, signature
from layouts.i18n import number, t
from layouts.picture import CityPicture
from layouts.ports import Callbacks, CityReader, ViewSettings
from layouts.sections import IncidentRow
from layouts.tree import attrs

SHOWN = 200
SEVERITIES = ("critical", "high", "medium", "low", "informational")
STATUSES = ("new", "acknowledged", "dispatched")
#: The search box filters once typing pauses this long: on Enter only, the list and the box
#: disagreed (the box said "zzz", the list still showed the last search's rows).
SEARCH_PAUSE_MS = 300


def layout(settings: ViewSettings) -> dbc.Card:
    language = settings.language
    return dbc.Card(
        [
            dbc.CardHeader(
                dbc.Row(
                    [
                        dbc.Col(html.Strong(t("incident_queue", language), id="cw-console-queue-title"), width="auto"),
                        _choice("cw-filter-severity", SEVERITIES, "console_filter_severity", language),
                        _choice("cw-filter-status", STATUSES, "console_filter_status", language),
                        dbc.Col(
                            dbc.Input(
                                id="cw-filter-text",
                                placeholder=t("console_filter_search", language),
                                debounce=SEARCH_PAUSE_MS,
                                size="sm",
                            ),
                            md=3,
                        ),
                    ],
                    className="g-2 align-items-center",
                )
            ),
            dbc.CardBody(
                [
                    dcc.Store(id="cw-console-queue-sig", data=None),
                    html.Div(id="cw-console-queue", className="cw-console-queue"),
                    html.Small(id="cw-console-queue-note", className="text-secondary px-2"),
                ],
                className="p-0",
            ),
        ]
    )


def filtered(
    picture: CityPicture, severities: list[str] | None, statuses: list[str] | None, text: str | None
) -> list[IncidentRow]:
    rows = picture.incidents.open
    needle = (text or "").strip().lower()
    out = []
    for d in rows:
        if severities and d.severity not in severities:
            continue
        if statuses and d.status not in statuses:
            continue
        if needle and needle not in " ".join(x or "" for x in (d.id, d.description, d.category, d.kecamatan, d.assignee)).lower():
            continue
        out.append(d)
        if len(out) >= SHOWN:
            break
    return out


def table(rows: list[IncidentRow], selected: str | None, language: str, filtering: bool = False) -> html.Table:
    """The queue's rows; none says why there are none: a search that matched nothing left an
    empty table, as if the queue had not loaded."""
    body = [
        html.Tr(
            className="cw-selected" if d.id == selected else "",
            **attrs({"data-incident": d.id, "data-status": d.status}),
            children=[
                html.Td(f"{SEVERITY_SHAPES.get(d.severity, '●')} {t(d.severity, language)}", className=f"sev-{d.severity}"),
                html.Td(d.text or d.id),
                html.Td(d.kecamatan or "–"),
                html.Td(t(d.status, language), className="cw-row-status"),
                html.Td(d.assignee or "–", className="cw-row-assignee"),
                # the age, written by the browser from the start (``layouts.frame.age_cell``)
                html.Td(html.Span(**attrs({"data-age-since": d.since}))),
            ],
        )
        for d in rows
    ] or [
        html.Tr(
            html.Td(
                t("console_no_match" if filtering else "console_none_open", language),
                colSpan=6,
                className="cw-queue-empty text-secondary",
            )
        )
    ]
    return dbc.Table([html.Tbody(body)], size="sm", hover=bool(rows), className="cw-console-table")


def register(app: Callbacks, reader: CityReader, settings: ViewSettings) -> None:
    @app.callback(
        Output("cw-console-queue", "children"),
        Output("cw-console-queue-sig", "data"),
        Input("cw-version", "data"),
        Input("cw-filter-severity", "value"),
        Input("cw-filter-status", "value"),
        Input("cw-filter-text", "value"),
        Input("cw-console-selected", "data"),
        State("cw-console-queue-sig", "data"),
    )
    def _queue(
        _: Any,
        severities: list[str] | None,
        statuses: list[str] | None,
        text: str | None,
        selected: str | None,
        shown: str | None,
    ) -> Any:
        rows = filtered(reader.picture(), severities, statuses, text)
        filtering = bool(severities or statuses or (text or "").strip())
        shown_rows = [[d.id, d.status, d.assignee, d.severity, d.description, d.since] for d in rows]
        digest = signature([*shown_rows, selected, filtering])  # an empty list's words follow the filters
        if digest == shown:
            raise PreventUpdate
        return table(rows, selected, settings.language, filtering), digest

    @app.callback(Output("cw-console-queue-note", "children"), Input("cw-version", "data"))
    def _note(_: Any) -> str:
        """Past ``TOP_ROWS`` open incidents the list holds the most urgent only, and its filters
        look among those: with 20,000 open, a search for a known low incident found nothing
        and nothing said why."""
        incidents = reader.picture().incidents
        if incidents.open_count <= len(incidents.open):
            return ""
        language = settings.language
        return t(
            "console_queue_top",
            language,
            shown=number(len(incidents.open), language),
            total=number(incidents.open_count, language),
        )


def _choice(component_id: str, values: tuple[str, ...], placeholder: str, language: str) -> dbc.Col:
    """One of the queue's multiple-choice filters, its values in the operator's language."""
    return dbc.Col(
        dcc.Dropdown(
            id=component_id,
            options=[{"label": t(v, language), "value": v} for v in values],
            multi=True,
            placeholder=t(placeholder, language),
            labels=_dropdown_words(language),
            className="text-dark",
            # Dash's 200 px showed three of the five severities: the rest needed a scroll inside
            maxHeight=MENU_MAX_PX,
        ),
        md=3,
    )


#: Tall enough for every choice a filter has (five severities, four statuses) under the
#: dropdown's own search and "select all".
MENU_MAX_PX = 360


def _dropdown_words(language: str) -> dcc.Dropdown.Labels:
    """The words Dash's dropdown writes itself ("Select All", "No options found"), which are
    English unless given."""
    return dcc.Dropdown.Labels(
        select_all=t("console_dropdown_select_all", language),
        deselect_all=t("console_dropdown_deselect_all", language),
        selected_count=t("console_dropdown_selected_count", language),
        search=t("console_dropdown_search", language),
        clear_search=t("console_dropdown_clear_search", language),
        clear_selection=t("console_dropdown_clear_selection", language),
        no_options_found=t("console_dropdown_no_options_found", language),
    )
