"""The incident map: the city's kecamatan coloured by open incidents, incidents as markers.

This file is the panel: its skeleton (``body``) and its live parts (``register``). What it
is made of lives beside it: ``layouts.map_plan`` places the map and its labels (off the
bezels on a spanned wall), ``layouts.map_figure`` builds the figure and the patch that
updates it, and ``layouts.map_lists`` holds the side lists (totals, legend, ranking, most
severe incidents), which sit inside single screens so no text crosses a bezel.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, dcc, html

from layouts import map_lists as lists
from layouts.frame import live_ids, live_part
from layouts.i18n import t
from layouts.live_parts import LiveParts
from layouts.map_figure import base_figure, map_patch, map_view
from layouts.map_plan import Box, cached_plan, screen_rects
from layouts.ports import ViewSettings

FAMILY = lists.FAMILY  # the figure and every list show the incidents part of the picture


def span_size_for(instance: str, settings: ViewSettings) -> tuple[int, int] | None:
    """The canvas size when this instance is the spanned map (``span*`` / ``s<n>-span``)."""
    from layouts.screens import span_size  # late: screens imports the panel registry

    if "span" not in instance:
        return None
    span = next((s for s in settings.spans if s.panel == "incidents_map"), None)
    return span_size(span, settings) if span else None


def body(instance: str, settings: ViewSettings) -> list[Any]:
    """The graph and the lists' places: beside the map in one grid cell, or, on a spanned map,
    each list inside one screen of the span beside the map, so no text crosses a bezel."""
    size = span_size_for(instance, settings)
    layout = cached_plan(settings, size)
    graph_id, _ = live_ids("incidents_map", instance)
    graph = dcc.Graph(
        id=graph_id,
        figure=base_figure(layout),
        className="cw-graph cw-map-graph",
        config={"staticPlot": False, "displayModeBar": False, "responsive": not size},
        style={"width": f"{size[0]}px", "height": f"{size[1]}px"} if size else {"width": "100%", "height": "100%"},
    )
    head = live_part("incidents_map-head", instance, "cw-map-head")
    rank = live_part("incidents_map-rank", instance, "cw-map-rank")
    cats = live_part("incidents_map-cat", instance, "cw-map-cats")
    latest = live_part("incidents_map-top", instance, "cw-map-top")
    status = live_part("incidents_map-status", instance, "cw-map-state")
    if not size or layout.map_box is None:
        return [
            html.Div(
                className="cw-map cw-map-fluid",
                children=[
                    html.Div(live_part("incidents_map", instance, child=graph), className="cw-map-canvas"),
                    html.Div([*head, *rank], className="cw-map-side"),
                ],
            )
        ]
    # spanned: each list sits inside one screen, beside the map, so no text crosses a bezel
    pad = 28
    screens = screen_rects(settings, size)
    box = layout.map_box
    left_screens = [s for s in screens if s.x0 < box.x0]
    right_screens = [s for s in screens if s.x1 > box.x1]

    def column(screen: Box, left_side: bool, top_gap: float) -> dict[str, str]:
        x0, x1 = (screen.x0 + pad, box.x0 - pad) if left_side else (box.x1 + pad, screen.x1 - pad)
        return {
            "left": f"{x0:.0f}px",
            "top": f"{screen.y0 + top_gap:.0f}px",
            "width": f"{x1 - x0:.0f}px",
            "maxHeight": f"{screen.y1 - pad - screen.y0 - top_gap:.0f}px",
        }

    slots: list[tuple[list[Box], bool, float, list[Any]]] = [
        (left_screens[:1], True, 110, [*head, lists.legend(settings.language), *cats]),
        (left_screens[1:2], True, pad, status),
        (right_screens[:1], False, pad, rank),
        (right_screens[1:2], False, pad, latest),
    ]
    overlays = [
        html.Div(content, className="cw-map-overlay", style=column(where[0], left_side, gap))
        for where, left_side, gap, content in slots
        if where
    ]
    # a stale mark on every screen of the span, not only on the one with the title
    corners = [
        html.Span(
            f"⚠ {t('stale', settings.language)}",
            className="cw-stale-badge cw-stale-corner",
            style={"left": f"{s.x1 - 460:.0f}px", "top": f"{s.y0 + 20:.0f}px"},
        )
        for s in screens
    ]
    return [
        html.Div(
            className="cw-map cw-map-spanned",
            style={"width": f"{size[0]}px", "height": f"{size[1]}px"},
            children=[
                html.Div(live_part("incidents_map", instance, child=graph), className="cw-map-canvas"),
                *overlays,
                *corners,
            ],
        )
    ]


def register(app: Dash, live: LiveParts) -> None:
    """The figure's patch and the five lists, each a live part redrawn only when what it shows changed."""
    live.add(app, "incidents_map-top", lists.top_view, lists.top_render)
    live.add(app, "incidents_map-status", lists.status_view, lists.status_render)
    live.add(app, "incidents_map", map_view, map_patch, prop="figure")
    live.add(app, "incidents_map-head", lists.head_view, lists.head_render)
    live.add(app, "incidents_map-rank", lists.rank_view, lists.rank_render)
    live.add(app, "incidents_map-cat", lists.cat_view, lists.cat_render)
