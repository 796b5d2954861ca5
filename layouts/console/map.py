"""The console's map: district outlines, every open incident, the selected one ringed.

A plain Plotly scatter in lon/lat (no tile server: the command centre may be offline),
redrawn when the city or the selection changes; at desk size that is a small figure.

SVG traces, not WebGL ones: Plotly's WebGL traces build their drawing code with ``eval``,
which the pages' content security policy forbids (``dashboard.web_security``), and drew
nothing but Plotly's "WebGL is not supported" notice where the map should be. The picture
holds at most a few hundred open incidents (``TOP_ROWS``), which SVG draws at once.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc
from dash.exceptions import PreventUpdate

from layouts.frame import signature
from layouts.map_figure import plotly_text
from layouts.picture import CityPicture
from layouts.ports import Callbacks, CityReader, ViewSettings

COLOURS = {"critical": "#ff5c5c", "high": "#ff922b", "medium": "#fcc419", "low": "#74c0fc", "informational": "#adb5bd"}


def layout() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                dcc.Store(id="cw-console-map-sig", data=None),
                dcc.Graph(id="cw-console-map", config={"displayModeBar": False}, style={"height": "34vh"}),
            ],
            className="p-1",
        )
    )


def outlines(settings: ViewSettings) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for feature in (settings.districts_geojson or {}).get("features", []):
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon[:1]:
                xs += [p[0] for p in ring] + [None]
                ys += [p[1] for p in ring] + [None]
    return xs, ys


def figure(
    picture: CityPicture, selected: str | None, settings: ViewSettings, lines: tuple[list[Any], list[Any]]
) -> dict[str, Any]:
    open_ = [d for d in picture.incidents.open if d.lat is not None and d.lon is not None]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": lines[0],
            "y": lines[1],
            "mode": "lines",
            "hoverinfo": "skip",
            "line": {"color": "#51627a", "width": 1},
        }
    ]
    for severity, colour in COLOURS.items():
        pts = [d for d in open_ if d.severity == severity][:2_000]
        data.append(
            {
                "type": "scatter",
                "x": [d.lon for d in pts],
                "y": [d.lat for d in pts],
                "mode": "markers",
                "marker": {"color": colour, "size": 7},
                "text": [plotly_text(d.description or d.id) for d in pts],
                "hoverinfo": "text",
                "name": severity,
            }
        )
    layout: dict[str, Any] = {
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": False,
        "paper_bgcolor": "#131f30",
        "plot_bgcolor": "#131f30",
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, "scaleanchor": "x"},
        "uirevision": "keep",
    }
    chosen = next((d for d in open_ if d.id == selected), None)
    if chosen is not None:
        data.append(
            {
                "type": "scatter",
                "x": [chosen.lon],
                "y": [chosen.lat],
                "mode": "markers",
                "hoverinfo": "skip",
                "marker": {"size": 22, "color": "rgba(0,0,0,0)", "line": {"color": "#ffffff", "width": 3}},
            }
        )
    return {"data": data, "layout": layout}


def register(app: Callbacks, reader: CityReader, settings: ViewSettings) -> None:
    lines = outlines(settings)

    @app.callback(
        Output("cw-console-map", "figure"),
        Output("cw-console-map-sig", "data"),
        Input("cw-version", "data"),
        Input("cw-console-selected", "data"),
        State("cw-console-map-sig", "data"),
    )
    def _map(_: Any, selected: str | None, shown: str | None) -> Any:
        picture = reader.picture()
        digest = signature([[d.id, d.severity, d.lat, d.lon] for d in picture.incidents.open] + [selected])
        if digest == shown:
            raise PreventUpdate
        return figure(picture, selected, settings, lines), digest
