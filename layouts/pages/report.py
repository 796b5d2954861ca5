"""``/report``: the supervisor's shift report, with its CSV and XLSX downloads.

Minutes to acknowledge and to resolve (median and 90th percentile) and the share within
SLA, per shift, day or week, then by category and by agency. The numbers come from the
operations port (pandas in ``dashboard.shift_report``); the downloads are the same tables.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from layouts.ports import OperationsPort, ViewSettings
from layouts.routing import Pages
from layouts.tree import attrs

TITLES = {"by_period": "Per period", "by_category": "By category", "by_agency": "By agency"}
HEADERS = {"incidents": "incidents", "acknowledged": "acked", "resolved": "resolved", "ack_median_min": "ack median (min)",
           "ack_p90_min": "ack p90 (min)", "ack_within_sla_pct": "ack within SLA %", "resolve_median_min": "resolve median (min)",
           "resolve_p90_min": "resolve p90 (min)", "resolve_within_sla_pct": "resolve within SLA %"}


def tables(report: dict[str, list[dict[str, Any]]]) -> list[Any]:
    if not report:
        return [dbc.Alert("The shift report is for supervisors: sign in as one.", color="warning")]
    out: list[Any] = []
    for name, rows in report.items():
        out.append(html.H5(TITLES.get(name, name), className="mt-3"))
        if not rows:
            out.append(html.P("–"))
            continue
        columns = list(rows[0])
        out.append(html.Div(dbc.Table([
            html.Thead(html.Tr([html.Th(HEADERS.get(c, c)) for c in columns])),
            html.Tbody([html.Tr([html.Td("–" if r[c] is None else r[c]) for c in columns]) for r in rows]),
        ], size="sm", striped=True, className="table-dark"), **attrs({"data-report": name})))
    return out


def register(app: Dash, pages: Pages, settings: ViewSettings, port: OperationsPort) -> None:
    def layout(period: str = "day", **_: str) -> html.Div:
        period = period if period in ("shift", "day", "week") else "day"
        return html.Div(className="cw-console cw-report", **attrs({"data-page": "report"}), children=[
            html.H3(f"Shift report · {settings.city_name}"),
            dbc.RadioItems(id="cw-report-period", options=[{"label": p, "value": p} for p in ("shift", "day", "week")],
                           value=period, inline=True),
            html.Div(id="cw-report-links", className="my-2"),
            dcc.Loading(html.Div(id="cw-report-tables")),
        ])

    pages.add("report", "/report", layout, title=f"citywall report – {settings.city_name}")

    @app.callback(Output("cw-report-tables", "children"), Output("cw-report-links", "children"),
                  Input("cw-report-period", "value"))
    def _report(period: str) -> Any:
        links = [html.A("CSV", href=f"/api/v1/report?period={period}&format=csv", className="btn btn-sm btn-outline-light me-2"),
                 html.A("XLSX", href=f"/api/v1/report?period={period}&format=xlsx", className="btn btn-sm btn-outline-light")]
        return tables(port.report(period)), links
