"""``/report``: the supervisor's shift report, with its CSV and XLSX downloads.

Minutes to acknowledge and to resolve (median and 90th percentile) and the share within
SLA, per shift, day or week, then by severity, by category and by agency. The numbers come
from the operations port (pandas in ``dashboard.shift_report``); the downloads are the same
tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, callback_context, dcc, html

from layouts.console.account import signed_in_line
from layouts.i18n import number, t, when
from layouts.ports import Callbacks, OperationsPort, ViewSettings
from layouts.report_words import header, title, word
from layouts.routing import Pages
from layouts.sections import REPORT_PERIODS
from layouts.tree import attrs

PERIOD_WORDS = {p: f"report_period_{p}" for p in REPORT_PERIODS}
#: The choice of the breakdowns' period that follows the current one as time moves on.
CURRENT = "current"
#: How often a report page left open is made again: it stayed as first drawn while the
#: CSV downloaded beside it had moved on.
REFRESH_MS = 60_000


def _cell(value: Any, language: str, column: str = "") -> Any:
    """A figure in the city's own way of writing numbers (20,8 and 1.200 in Indonesian), and a
    category, a severity or no agency in the wall's words (``layouts.report_words``)."""
    said = word(value, column, language)
    if said is not None:
        return said
    if value is None:
        return "–"
    if isinstance(value, float):
        return number(value, language, 1)
    if isinstance(value, int) and not isinstance(value, bool):
        return number(value, language)
    return value


def tables(report: dict[str, list[dict[str, Any]]], language: str, covers: str | None = None) -> list[Any]:
    """Each table under its title; the breakdowns' titles name the period they cover."""
    if not report:
        return [dbc.Alert(t("report_for_supervisors", language), color="warning")]
    out: list[Any] = []
    for name, rows in report.items():
        heading = title(name, language) + (f" · {covers}" if covers and name != "by_period" else "")
        out.append(html.H5(heading, className="mt-3"))
        if not rows:
            out.append(html.P("–"))
            continue
        columns = list(rows[0])
        out.append(
            html.Div(
                dbc.Table(
                    [
                        html.Thead(html.Tr([html.Th(header(c, language)) for c in columns])),
                        html.Tbody([html.Tr([html.Td(_cell(r[c], language, c)) for c in columns]) for r in rows]),
                    ],
                    size="sm",
                    striped=True,
                    className="table-dark",
                ),
                **attrs({"data-report": name}),
            )
        )
    return out


def register(app: Callbacks, pages: Pages, settings: ViewSettings, port: OperationsPort) -> None:
    language = settings.language

    def layout(period: str = "shift", **_: str) -> html.Div:
        """Opens on the shift, what a supervisor reads at its end: the "shift report" opened on
        the day."""
        period = period if period in REPORT_PERIODS else "shift"
        return html.Div(
            className="cw-console cw-report",
            **attrs({"data-page": "report"}),
            children=[
                html.Div(
                    [
                        html.H3(t("report_heading", language, city=settings.city_name), className="me-auto mb-0"),
                        html.Span(id="cw-report-who", className="text-light"),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                dbc.RadioItems(
                    id="cw-report-period",
                    options=[{"label": t(PERIOD_WORDS[p], language), "value": p} for p in REPORT_PERIODS],
                    value=period,
                    inline=True,
                ),
                html.Div(
                    [
                        html.Label(t("report_breakdowns_of", language), htmlFor="cw-report-at", className="me-2"),
                        # the periods the report lists, newest first; the breakdowns cover the one chosen
                        dbc.Select(id="cw-report-at", size="sm", className="cw-report-at", value=CURRENT),
                    ],
                    className="d-flex align-items-center my-2",
                ),
                html.Div(id="cw-report-links", className="my-2"),
                html.Div(id="cw-report-as-of", className="text-secondary small"),
                dcc.Loading(html.Div(id="cw-report-tables"), delay_show=500),  # no spinner flash at each refresh
                # the report of a page left open moves on with the city, and says as of when
                dcc.Interval(id="cw-report-tick", interval=REFRESH_MS),
            ],
        )

    pages.add("report", "/report", layout, title=f"{t('report_title', language)} – {settings.city_name}")

    @app.callback(Output("cw-report-who", "children"), Input("cw-report-who", "id"))
    def _who(_: Any) -> Any:
        return signed_in_line(port, language)

    @app.callback(
        Output("cw-report-tables", "children"),
        Output("cw-report-links", "children"),
        Output("cw-report-as-of", "children"),
        Output("cw-report-at", "options"),
        Output("cw-report-at", "value"),
        Input("cw-report-period", "value"),
        Input("cw-report-at", "value"),
        Input("cw-report-tick", "n_intervals"),
    )
    def _report(period: str, at: str | None, _: int | None) -> Any:
        """A new kind of period starts on its current one; a period chosen stays chosen as the
        page refreshes (the current shift moves on at its end, a chosen one does not)."""
        if callback_context.triggered_id == "cw-report-period" or at == CURRENT:
            at = None
        report = port.report(period, at)
        if report is None:  # not a supervisor: the downloads would answer 403 (an operator was offered them)
            return tables({}, language), [], None, [], CURRENT
        pinned = report.covers if at else CURRENT
        listed = [row["period"] for row in report.tables.get("by_period", [])][::-1]
        current = f"{t('report_current', language)} · {report.covers if not at else listed[0] if listed else ''}"
        options = [{"label": current, "value": CURRENT}, *({"label": p, "value": p} for p in listed)]
        # the period shown, always: a file downloaded a minute later had moved on to the next shift
        query = urlencode({"period": period, "at": report.covers})
        now = datetime.now(UTC)
        # with its date: a printed report read the next morning said only "Per 12:55 WIB"
        as_of = t(
            "report_as_of",
            language,
            time=when(now.isoformat(), settings.timezone, settings.timezone_label, language, with_date=True),
        )
        links = [
            html.A("CSV", href=f"/api/v1/report?{query}&format=csv", className="btn btn-sm btn-outline-light me-2"),
            html.A("XLSX", href=f"/api/v1/report?{query}&format=xlsx", className="btn btn-sm btn-outline-light"),
        ]
        return tables(report.tables, language, report.covers), links, as_of, options, pinned
