"""The incident map as a Plotly figure, built once and then patched.

Offline by construction: the districts are plain ``scatter`` polygons on hidden x/y axes
(longitude, latitude), so no tile server, no map style and no font is ever fetched.

The figure (polygons, one trace of leader lines, one of labels, empty marker traces) is
made when the page is laid out; updates are a ``Patch`` of the district fills, the marker
positions and the label texts only, and only when those changed. Leaders are a line trace,
not annotation arrows: plotly measures every arrow against the page's layout each time it
redraws, which on the wall cost more than everything else an update did. Labels are a text
trace under the markers, not annotations, which are drawn over every trace and hid the
incidents under their boxes.
"""

from __future__ import annotations

import html
from typing import Any

from dash import Patch

from layouts.frame import SEVERITY_COLOURS
from layouts.map_plan import COUNT_SCALE, FLUID_NAME_PX, NAME_PX, MapLayout, cached_plan
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.sections import IncidentsSection

SEVERITIES = ("critical", "high", "medium", "low", "informational")
SYMBOLS = {"critical": "diamond", "high": "triangle-up", "medium": "circle", "low": "circle-open", "informational": "square-open"}
#: Open-incident bins for the district fill: (lowest count, fill colour). Discrete bins read
#: better from 4 m than a continuous scale, and stay clear of the severity marker colours.
BINS = ((0, "#141d2b"), (1, "#22335a"), (3, "#35457f"), (6, "#4d3f8f"), (10, "#6a3596"))
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
#: A label's halo: its text's outline in the page's darkest colour, legible on every fill.
LABEL_HALO = "0 0 2px #060a11, 0 0 4px #060a11, 0 0 6px #060a11"


def label_text(name: str, count: int | None) -> str:
    """A district label: its name over its open-incident count (bigger), or the name alone."""
    if count is None:
        return plotly_text(name)
    return f"{plotly_text(name)}<br><span style='font-size:{COUNT_SCALE * 100:.0f}%'><b>{count}</b></span>"


def plotly_text(text: str) -> str:
    """Text as plotly draws it literally: plotly reads a trace's text as a subset of HTML, so
    a description from the feed with ``<a href=...>`` became a live link in a tooltip."""
    return html.escape(text, quote=False)


def base_figure(layout: MapLayout) -> dict[str, Any]:
    """The static figure: district polygons, leader lines, labels and marker traces."""
    data: list[dict[str, Any]] = []
    for d in layout.districts:  # traces 0..n-1: the districts, then one marker trace per severity
        xs: list[float | None] = []
        ys: list[float | None] = []
        for ring in d.rings:
            xs += [x for x, _ in ring] + [None]
            ys += [y for _, y in ring] + [None]
        data.append(
            {
                "type": "scatter",
                "x": xs[:-1],
                "y": ys[:-1],
                "mode": "lines",
                "fill": "toself",
                "fillcolor": BINS[0][1],
                "line": {"color": "#8aa0bf", "width": 2},
                "hoverinfo": "skip",
                "name": d.name,
            }
        )
    xs, ys = [], []
    for leader in layout.leaders:
        if leader is not None:
            (x0, y0), (x1, y1) = leader
            xs += [x0, x1, None]
            ys += [y0, y1, None]
    data.append(
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines",
            "hoverinfo": "skip",
            "name": "leaders",
            "line": {"color": "#dbe4ef", "width": 3},
        }
    )
    data.append(label_trace(layout))
    for severity in SEVERITIES:
        open_symbol = SYMBOLS[severity].endswith("-open")
        data.append(
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "mode": "markers",
                "hoverinfo": "skip",
                "name": severity,
                "marker": {
                    "symbol": SYMBOLS[severity],
                    "size": layout.marker_px,
                    "color": SEVERITY_COLOURS[severity],
                    "line": {"color": SEVERITY_COLOURS[severity] if open_symbol else "#0b0f14", "width": 5 if open_symbol else 2},
                },
            }
        )
    fig_layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "dragmode": False,
        "hovermode": False,
        "xaxis": {"visible": False, "range": list(layout.x_range), "fixedrange": True},
        "yaxis": {"visible": False, "range": list(layout.y_range), "fixedrange": True},
        "font": {"family": FONT, "color": "#f1f5fa"},
        "uirevision": "map",
    }
    if layout.size:
        fig_layout.update(width=layout.size[0], height=layout.size[1], autosize=False)
    else:
        fig_layout["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
        fig_layout["xaxis"].update(constrain="domain")
    return {"data": data, "layout": fig_layout}


def label_trace(layout: MapLayout) -> dict[str, Any]:
    """The district labels as one text trace, drawn under the markers.

    Annotations are drawn above every trace: their boxes hid the incidents under them, 6 of
    78 on the sample city's map, a critical one among them as likely as any. A dark halo
    (the text's shadow) keeps a label legible on any district's fill without a box."""
    size = NAME_PX if layout.size else FLUID_NAME_PX
    return {
        "type": "scatter",
        "x": [x for x, _ in layout.labels],
        "y": [y for _, y in layout.labels],
        "text": [label_text(d.name, None) for d in layout.districts],
        "mode": "text",
        "textposition": "middle center",
        "textfont": {"family": FONT, "size": size, "color": "#f1f5fa", "shadow": LABEL_HALO},
        "cliponaxis": False,
        "hoverinfo": "skip",
        "name": "labels",
    }


def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def counts_by_district(incidents: IncidentsSection, names: list[str]) -> list[int]:
    """Open incidents per district, matched by folded name ("Lima Puluh" = "Limapuluh")."""
    folded = {_fold(n): i for i, n in enumerate(names)}
    counts = [0] * len(names)
    for name, count in incidents.by_kecamatan.items():
        i = folded.get(_fold(str(name)))
        if i is not None:
            counts[i] += int(count)
    return counts


def fill_for(count: int) -> str:
    colour = BINS[0][1]
    for low, c in BINS:
        if count >= low:
            colour = c
    return colour


def map_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """What the figure shows: counts per district and marker positions per severity."""
    incidents = picture.incidents
    names = [d.name for d in cached_plan(settings, None).districts]
    markers: dict[str, list[list[float]]] = {s: [[], []] for s in SEVERITIES}
    for d in incidents.open:
        if d.lat is None or d.lon is None:
            continue
        xy = markers.get(d.severity, markers["medium"])
        xy[0].append(round(float(d.lon), 5))
        xy[1].append(round(float(d.lat), 5))
    return {"names": names, "counts": counts_by_district(incidents, names), "markers": markers}


def map_patch(shown: dict[str, Any], settings: ViewSettings) -> Patch:
    """Fills, label texts and marker positions: the only parts of the figure that move."""
    n = len(shown["names"])
    patch = Patch()
    for i, count in enumerate(shown["counts"]):
        patch["data"][i]["fillcolor"] = fill_for(count)
    patch["data"][n + 1]["text"] = [label_text(name, count) for name, count in zip(shown["names"], shown["counts"], strict=True)]
    for j, severity in enumerate(SEVERITIES):
        xs, ys = shown["markers"][severity]
        patch["data"][n + 2 + j]["x"] = xs  # after the districts, the leaders and the labels
        patch["data"][n + 2 + j]["y"] = ys
    return patch
