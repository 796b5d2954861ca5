"""``/console``: the operator's desk screen, at arm's length.

Queue (with filters and keyboard shortcuts), the selected incident's detail with its SOP,
actions and history, the map, and a live miniature of the wall with the supervisor's
controls. Built with dash-bootstrap-components; the panels are in ``layouts/console``.
The page reads the city through the shared ``cw-version`` poll, so it follows every change.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from layouts.console import detail, queue, wall_mini
from layouts.console import map as console_map
from layouts.console.account import signed_in_line
from layouts.i18n import t
from layouts.ports import Callbacks, CityReader, OperationsPort, ViewSettings
from layouts.routing import Pages
from layouts.tree import attrs


def register(app: Callbacks, pages: Pages, reader: CityReader, settings: ViewSettings, port: OperationsPort) -> None:
    language = settings.language

    def layout(**_: str) -> html.Div:
        choices = port.choices()
        return html.Div(
            className="cw-console",
            **attrs({"data-page": "console"}),
            children=[
                dcc.Store(id="cw-console-selected", data=None),
                dcc.Store(id="cw-console-done", data=0),
                dbc.Navbar(
                    dbc.Container(
                        [
                            dbc.NavbarBrand(t("console_brand", language, city=settings.city_name)),
                            html.Small(t("console_shortcuts", language), className="text-white d-none d-xl-inline"),
                            html.Span(id="cw-console-who", className="text-light"),
                        ],
                        fluid=True,
                    ),
                    dark=True,
                    className="mb-2",
                ),
                dbc.Container(
                    fluid=True,
                    children=[
                        dbc.Row(
                            [
                                dbc.Col([queue.layout(settings), html.Div(className="mb-2"), console_map.layout()], lg=7),
                                dbc.Col(
                                    [
                                        detail.layout(settings, choices),
                                        html.Div(className="mb-2"),
                                        wall_mini.layout(settings, choices, supervisor=port.may("supervisor")),
                                    ],
                                    lg=5,
                                    className="cw-console-side",
                                ),
                            ],
                            className="g-2",
                        ),
                    ],
                ),
            ],
        )

    pages.add("console", "/console", layout, title=f"{t('console_title', language)} – {settings.city_name}")

    @app.callback(Output("cw-console-who", "children"), Input("cw-console-selected", "id"))
    def _who(_: Any) -> Any:
        return signed_in_line(port, language)

    queue.register(app, reader, settings)
    detail.register(app, reader, settings, port)
    console_map.register(app, reader, settings)
    wall_mini.register(app, reader, settings, port)
