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
    # the critical rows (with the title) and the rest under them: one list, two parts
    latest = [
        *live_part("incidents_map-top", instance, "cw-map-top"),
        *live_part("incidents_map-top-rest", instance, "cw-map-top-rest"),
    ]
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
    screens = screen_rects(settings, size)
    box = layout.map_box
    left = _columns([s for s in screens if s.x0 < box.x0], box, left_side=True)
    # the widest first, for the most severe incidents (a description on every row): on a span
    # one row high the strip beside the map came first, and cut each description to a letter
    right = sorted(_columns([s for s in screens if s.x1 > box.x1], box, left_side=False), key=lambda c: c.x0 - c.x1)
    overlays = [
        html.Div(content, className="cw-map-overlay", style=style)
        for style, content in (
            *_placed(left, [(110, [*head, lists.legend(settings.language), *cats]), (PAD, status)]),
            # the most severe open incidents first: on a span with one column to the right (a
            # two-screen wall) the list that did not fit was this one, and its screen held the
            # four rows of a small city's district ranking
            *_placed(right, [(PAD, latest), (PAD, rank)]),
        )
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


PAD = 28
#: A list beside the map needs this much width, or it goes to another screen of the span.
MIN_COLUMN_PX = 360


def _columns(beside: list[Box], box: Box, left_side: bool) -> list[Box]:
    """Where lists may stand on one side of the map: in each screen of that side, the part
    not under the map, wide enough to read. A screen the map does not reach gives all of
    itself; the one it ends in, what is left beside it. (On a span one screen high the lists
    once began beside the map and ran on into the next screen, cut in two by the bezel.)"""
    out = []
    for screen in beside:
        x0, x1 = (screen.x0 + PAD, min(box.x0, screen.x1) - PAD) if left_side else (max(box.x1, screen.x0) + PAD, screen.x1 - PAD)
        if x1 - x0 >= MIN_COLUMN_PX:
            out.append(Box(x0, screen.y0, x1, screen.y1))
    return out


def _placed(columns: list[Box], wanted: list[tuple[float, list[Any]]]) -> list[tuple[dict[str, str], list[Any]]]:
    """The lists in the columns, in order, one each: a list with no column left is not
    shown (stacked under another, it ran past the foot of a screen one span high)."""
    return [
        (
            {
                "left": f"{column.x0:.0f}px",
                "top": f"{column.y0 + gap:.0f}px",
                "width": f"{column.x1 - column.x0:.0f}px",
                "maxHeight": f"{column.y1 - PAD - column.y0 - gap:.0f}px",
            },
            content,
        )
        for column, (gap, content) in zip(columns, wanted, strict=False)
    ]


def register(app: Dash, live: LiveParts) -> None:
    """The figure's patch and the five lists, each a live part redrawn only when what it shows changed.

    The counts (the totals, the lifecycle, the ranking, the categories) are paced, as the
    queue's are: under 500 new Alerts/s each changed with every frame, and making them again
    twenty times a second was the larger part of what a map window cost the server. The most
    severe list is split as the queue is: its critical rows go at once, the rows under them
    are paced (made again with every frame, they were most of what was left)."""
    live.add(app, "incidents_map-top", lists.top_view, lists.top_render)
    live.add(app, "incidents_map-top-rest", lists.rest_view, lists.rest_render, paced=True)
    live.add(app, "incidents_map-status", lists.status_view, lists.status_render, paced=True)
    live.add(app, "incidents_map", map_view, map_patch, prop="figure")
    live.add(app, "incidents_map-head", lists.head_view, lists.head_render, paced=True)
    live.add(app, "incidents_map-rank", lists.rank_view, lists.rank_render, paced=True)
    live.add(app, "incidents_map-cat", lists.cat_view, lists.cat_render, paced=True)
