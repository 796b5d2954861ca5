"""The incident map: the city's kecamatan coloured by open incidents, incidents as markers.

Offline by construction: the districts are plain ``go.Scatter`` polygons on hidden x/y axes
(longitude, latitude), so no tile server, no map style and no font is ever fetched. Near the
equator a degree of longitude and of latitude are the same length, so equal pixels per
degree on both axes is a faithful projection.

Built once, then patched: the figure (polygons, one trace of leader lines, label annotations,
empty marker traces) is made when the page is laid out; updates are a ``Patch`` of the
district fills, the marker positions and the label texts only, and only when those changed.
Leaders are a line trace, not annotation arrows: plotly measures every arrow against the
page's layout each time it redraws, which on the wall cost more than everything else an
update did.

On the wall the map spans several screens. There it is laid out in canvas pixels: the map
is placed so the small central kecamatan sit well inside one screen, their labels stand in
two stacks beside that cluster on leader lines, and every label is moved off the bezel
lines, so no text ever sits across a gap between two monitors. District outlines, leader
lines and markers may cross a bezel; text does not. The side lists (totals, legend, ranking,
most severe incidents) sit inside single screens for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dash import Dash, Patch, dcc, html

from layouts.frame import SEVERITY_SHAPES, empty, live_ids, live_part, seen
from layouts.i18n import age, number, t
from layouts.live_parts import LiveParts
from layouts.ports import ViewSettings
from layouts.sections import IncidentsSection, incidents_of
from layouts.tree import attrs, row_tree

FAMILY = "incidents"
SEVERITIES = ("critical", "high", "medium", "low", "informational")
SYMBOLS = {"critical": "diamond", "high": "triangle-up", "medium": "circle", "low": "circle-open", "informational": "square-open"}
COLOURS = {"critical": "#ff5c5c", "high": "#ff922b", "medium": "#ffd43b", "low": "#66d9e8", "informational": "#ced4da"}
#: Open-incident bins for the district fill: (lowest count, fill colour). Discrete bins read
#: better from 4 m than a continuous scale, and stay clear of the severity marker colours.
BINS = ((0, "#141d2b"), (1, "#22335a"), (3, "#35457f"), (6, "#4d3f8f"), (10, "#6a3596"))
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
LEADER_GAP_PX = 4.0       # between a leader's end and its label's box
SMALL_KM2 = 8.0           # districts smaller than this get their label on a leader line
NAME_PX, FLUID_NAME_PX = 26, 20   # label names on a spanned map and in one grid cell
COUNT_SCALE = 1.5                  # the count under a name, relative to the name
CATEGORIES = 6
TOP_ROWS = 18


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in canvas pixels (x grows right, y grows down)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: Box) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


@dataclass(frozen=True)
class District:
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]   # (lon, lat) outer rings
    anchor: tuple[float, float]                         # (lon, lat) inside the polygon
    area_km2: float


@dataclass(frozen=True)
class MapLayout:
    """Where everything goes, in data coordinates, plus the pixel facts of a spanned map."""

    districts: tuple[District, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    labels: tuple[tuple[float, float], ...]             # label centre per district (lon, lat)
    leaders: tuple[tuple[tuple[float, float], tuple[float, float]] | None, ...]  # (district, label) per district
    size: tuple[int, int] | None                        # canvas px of the span, None when fluid
    map_box: Box | None = None                          # the map's own rectangle on the span
    marker_px: int = 30


def districts_of(geojson: dict[str, Any] | None) -> tuple[District, ...]:
    """The polygons and label points of the configured district file (any city's)."""
    out: list[District] = []
    for feature in (geojson or {}).get("features") or []:
        props, geometry = feature.get("properties") or {}, feature.get("geometry") or {}
        polygons = [geometry.get("coordinates") or []] if geometry.get("type") == "Polygon" else geometry.get("coordinates") or []
        rings = tuple(tuple((float(x), float(y)) for x, y, *_ in polygon[0]) for polygon in polygons if polygon)
        if not rings:
            continue
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        lon = props.get("label_lon", props.get("centroid_lon", (min(xs) + max(xs)) / 2))
        lat = props.get("label_lat", props.get("centroid_lat", (min(ys) + max(ys)) / 2))
        area = props.get("area_km2_geom") or (max(xs) - min(xs)) * (max(ys) - min(ys)) * 111.32 ** 2
        name = props.get("nama") or props.get("name") or str(feature.get("id", len(out)))
        out.append(District(name, rings, (float(lon), float(lat)), float(area)))
    return tuple(out)


def label_box(name: str, cx: float, cy: float, name_px: int = NAME_PX) -> Box:
    """The rough pixel box of a two-line label (name over count), for collision checks."""
    count_px = name_px * COUNT_SCALE
    width = max(len(name) * name_px * 0.56, 3 * count_px * 0.6) + 16
    height = name_px * 1.25 + count_px * 1.2
    return Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def bezels(settings: ViewSettings, size: tuple[int, int]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The bezel gaps inside a span, as (start, end) pixel bands: vertical ones, horizontal ones."""
    wall = settings.wall
    pitch_x = wall.screen_width_px + wall.bezel_px
    pitch_y = wall.screen_height_px + wall.bezel_px
    xs: list[tuple[float, float]] = [(c * wall.screen_width_px + (c - 1) * wall.bezel_px, c * pitch_x)
                                     for c in range(1, round((size[0] + wall.bezel_px) / pitch_x))]
    ys: list[tuple[float, float]] = [(r * wall.screen_height_px + (r - 1) * wall.bezel_px, r * pitch_y)
                                     for r in range(1, round((size[1] + wall.bezel_px) / pitch_y))]
    return xs, ys


def _clear_of(box: Box, bands_x: list[tuple[float, float]], bands_y: list[tuple[float, float]], anchor: tuple[float, float],
              margin: float = 14) -> Box:
    """Move a label box off every bezel band, towards the side its anchor lies on."""
    for b0, b1 in bands_x:
        if box.x0 < b1 + margin and box.x1 > b0 - margin:
            box = box.shifted((b0 - margin - box.x1) if anchor[0] < (b0 + b1) / 2 else (b1 + margin - box.x0), 0)
    for b0, b1 in bands_y:
        if box.y0 < b1 + margin and box.y1 > b0 - margin:
            box = box.shifted(0, (b0 - margin - box.y1) if anchor[1] < (b0 + b1) / 2 else (b1 + margin - box.y0))
    return box


def _crosses(box: Box, bands_x: list[tuple[float, float]], bands_y: list[tuple[float, float]], margin: float = 10) -> bool:
    return any(box.x0 < b1 + margin and box.x1 > b0 - margin for b0, b1 in bands_x) or \
        any(box.y0 < b1 + margin and box.y1 > b0 - margin for b0, b1 in bands_y)


def plan(settings: ViewSettings, size: tuple[int, int] | None, left_px: int = 560, right_px: int = 1000,
         top_px: int = 96, bottom_px: int = 36) -> MapLayout:
    """Lay the map out: its place on the span, its axis ranges, and every label's position.

    With ``size`` (a span in canvas pixels) the map fills the height, keeps ``left_px`` and
    ``right_px`` free for the side lists and slides sideways so the small central districts
    sit as far from a vertical bezel as possible. Without it (a single grid cell) the same
    plan is made for a nominal 740-pixel map and the figure scales with its box.
    """
    districts = districts_of(settings.districts_geojson)
    if not districts:
        return MapLayout((), (0.0, 1.0), (0.0, 1.0), (), (), size)
    lons = [x for d in districts for ring in d.rings for x, _ in ring]
    lats = [y for d in districts for ring in d.rings for _, y in ring]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    # fluid: planned for a small map (labels are fixed in px, so a bigger real map only spreads them)
    width, height = size if size else (740 * (lon1 - lon0) / (lat1 - lat0) + 80, 820)
    if not size:
        left_px = right_px = 40
        top_px, bottom_px = 40, 40
    k = (height - top_px - bottom_px) / (lat1 - lat0)           # pixels per degree, both axes
    map_w = k * (lon1 - lon0)
    bands_x, bands_y = bezels(settings, size) if size else ([], [])
    small = [d for d in districts if d.area_km2 < SMALL_KM2] or list(districts)
    lo, hi = left_px, max(left_px, width - right_px - map_w)

    def worst_gap(left: float) -> float:
        if not bands_x:
            return -abs(left - (width - map_w) / 2)
        return min(min(abs(left + (d.anchor[0] - lon0) * k - (b0 + b1) / 2) for b0, b1 in bands_x) for d in small)

    left = max((lo + (hi - lo) * i / 40 for i in range(41)), key=worst_gap)
    top = top_px

    def px(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon - lon0) * k, top + (lat1 - lat) * k

    def data(x: float, y: float) -> tuple[float, float]:
        return lon0 + (x - left) / k, lat1 - (y - top) / k

    name_px = NAME_PX if size else FLUID_NAME_PX
    scale = 1.0 if size else 0.75
    placed: list[Box] = []
    labels: list[tuple[float, float] | None] = [None] * len(districts)
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = []
    leader_of: dict[int, int] = {}
    # large districts first, at their own label points (moved off bezels)
    for i, d in enumerate(districts):
        if d in small and len(small) < len(districts):
            continue
        ax, ay = px(*d.anchor)
        box = _clear_of(label_box(d.name, ax, ay, name_px), bands_x, bands_y, (ax, ay))
        placed.append(box)
        labels[i] = data((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
    # small central districts: callouts in two stacks, left and right of the cluster, each
    # label level with its district where it can be, on a leader line, never on the cluster
    if len(small) < len(districts):
        corners = [px(x, y) for d in small for ring in d.rings for x, y in ring]
        cluster = Box(min(c[0] for c in corners), min(c[1] for c in corners),
                      max(c[0] for c in corners), max(c[1] for c in corners))
        mid = (cluster.x0 + cluster.x1) / 2
        gap = 70 * scale
        for side in (-1, 1):
            members = sorted((d for d in small
                              if (px(*d.anchor)[0] - mid) * side >= 0 and (side == 1 or px(*d.anchor)[0] != mid)),
                             key=lambda d: px(*d.anchor)[1])
            previous_bottom = -math.inf
            for d in members:
                ax, ay = px(*d.anchor)
                probe = label_box(d.name, 0, 0, name_px)
                w, h = probe.x1 - probe.x0, probe.y1 - probe.y0
                x0 = cluster.x0 - gap - w if side < 0 else cluster.x1 + gap
                y0 = max(ay - h / 2, previous_bottom + 8)
                # the free spot nearest to level-with-its-district: outwards a little, or up/down
                best: tuple[float, Box] | None = None
                for dx_step in range(5):
                    for dy_step in range(-6, 13):
                        box = _clear_of(Box(x0 + side * dx_step * w * 0.5, y0 + dy_step * (h / 2 + 4),
                                            x0 + side * dx_step * w * 0.5 + w, y0 + dy_step * (h / 2 + 4) + h),
                                        bands_x, bands_y, (ax, ay))
                        if any(box.overlap(p) > 0 for p in placed) or box.overlap(cluster) > 0 \
                                or box.y0 < top or box.y1 > height - 8 or box.x0 < 4 or box.x1 > width - 4:
                            continue
                        cost = abs(dy_step) * 1.0 + dx_step * 1.5 + (4 if dy_step < 0 else 0)
                        if best is None or cost < best[0]:
                            best = (cost, box)
                box = best[1] if best else Box(x0, y0, x0 + w, y0 + h)
                placed.append(box)
                previous_bottom = box.y1
                i = districts.index(d)
                centre = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
                labels[i] = data(*centre)
                leaders.append((data(ax, ay), data(*_edge_toward((ax, ay), box, LEADER_GAP_PX))))
                leader_of[i] = len(leaders) - 1
    x_range = (lon0 - left / k, lon0 + (width - left) / k)
    y_range = (lat1 - (height - top) / k, lat1 + top / k)
    return MapLayout(
        districts, x_range, y_range, tuple(label for label in labels if label is not None),
        tuple(leaders[leader_of[i]] if i in leader_of else None for i in range(len(districts))),
        (int(width), int(height)) if size else None,
        Box(left, top, left + map_w, top + (lat1 - lat0) * k) if size else None,
        30 if size else 16,
    )


def _edge_toward(start: tuple[float, float], box: Box, gap: float) -> tuple[float, float]:
    """Where the line from ``start`` to the box's centre meets the box grown by ``gap``."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    sx, sy = start
    t = 0.0
    for s0, c, lo, hi in ((sx, cx, box.x0 - gap, box.x1 + gap), (sy, cy, box.y0 - gap, box.y1 + gap)):
        if s0 != c and not lo <= s0 <= hi:
            t = max(t, ((lo if s0 < lo else hi) - s0) / (c - s0))
    t = min(t, 1.0)
    return sx + (cx - sx) * t, sy + (cy - sy) * t


_PLANS: dict[tuple[int, tuple[int, int] | None], MapLayout] = {}


def cached_plan(settings: ViewSettings, size: tuple[int, int] | None) -> MapLayout:
    """Planning walks every ring; pages are laid out per request, the geometry never changes."""
    key = (id(settings.districts_geojson), size)
    if key not in _PLANS:
        _PLANS[key] = plan(settings, size)
    return _PLANS[key]


def label_text(name: str, count: int | None) -> str:
    """A district label: its name over its open-incident count (bigger), or the name alone."""
    if count is None:
        return name
    return f"{name}<br><span style='font-size:{COUNT_SCALE * 100:.0f}%'><b>{count}</b></span>"


def base_figure(layout: MapLayout) -> dict[str, Any]:
    """The static figure: district polygons, leader lines, label annotations and marker traces."""
    data: list[dict[str, Any]] = []
    for d in layout.districts:  # traces 0..n-1: the districts, then one marker trace per severity
        xs: list[float | None] = []
        ys: list[float | None] = []
        for ring in d.rings:
            xs += [x for x, _ in ring] + [None]
            ys += [y for _, y in ring] + [None]
        data.append({"type": "scatter", "x": xs[:-1], "y": ys[:-1], "mode": "lines", "fill": "toself",
                     "fillcolor": BINS[0][1], "line": {"color": "#8aa0bf", "width": 2}, "hoverinfo": "skip", "name": d.name})
    xs, ys = [], []
    for leader in layout.leaders:
        if leader is not None:
            (x0, y0), (x1, y1) = leader
            xs += [x0, x1, None]
            ys += [y0, y1, None]
    data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "hoverinfo": "skip", "name": "leaders",
                 "line": {"color": "#dbe4ef", "width": 3}})
    for severity in SEVERITIES:
        open_symbol = SYMBOLS[severity].endswith("-open")
        data.append({"type": "scatter", "x": [], "y": [], "mode": "markers", "hoverinfo": "skip", "name": severity,
                     "marker": {"symbol": SYMBOLS[severity], "size": layout.marker_px, "color": COLOURS[severity],
                                "line": {"color": COLOURS[severity] if open_symbol else "#0b0f14",
                                         "width": 5 if open_symbol else 2}}})
    size = NAME_PX if layout.size else FLUID_NAME_PX
    annotations = []
    for i, d in enumerate(layout.districts):
        x, y = layout.labels[i]
        note: dict[str, Any] = {"x": x, "y": y, "xref": "x", "yref": "y", "text": label_text(d.name, None),
                                "showarrow": False, "font": {"family": FONT, "size": size, "color": "#f1f5fa"},
                                "bgcolor": "rgba(6,10,17,0.72)", "borderpad": 4, "align": "center"}
        if layout.leaders[i] is not None:
            note.update(bordercolor="#dbe4ef", borderwidth=1)
        annotations.append(note)
    fig_layout: dict[str, Any] = {
        "annotations": annotations,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "dragmode": False, "hovermode": False,
        "xaxis": {"visible": False, "range": list(layout.x_range), "fixedrange": True},
        "yaxis": {"visible": False, "range": list(layout.y_range), "fixedrange": True},
        "font": {"family": FONT, "color": "#f1f5fa"}, "uirevision": "map",
    }
    if layout.size:
        fig_layout.update(width=layout.size[0], height=layout.size[1], autosize=False)
    else:
        fig_layout["yaxis"].update(scaleanchor="x", scaleratio=1, constrain="domain")
        fig_layout["xaxis"].update(constrain="domain")
    return {"data": data, "layout": fig_layout}


def span_size_for(instance: str, settings: ViewSettings) -> tuple[int, int] | None:
    """The canvas size when this instance is the spanned map (``span*`` / ``s<n>-span``)."""
    from layouts.screens import span_size  # late: screens imports the panel registry

    if "span" not in instance:
        return None
    span = next((s for s in settings.spans if s.panel == "incidents_map"), None)
    return span_size(span, settings) if span else None


def _screen_rects(settings: ViewSettings, size: tuple[int, int]) -> list[Box]:
    wall = settings.wall
    cols = round((size[0] + wall.bezel_px) / (wall.screen_width_px + wall.bezel_px))
    rows = round((size[1] + wall.bezel_px) / (wall.screen_height_px + wall.bezel_px))
    return [Box(c * (wall.screen_width_px + wall.bezel_px), r * (wall.screen_height_px + wall.bezel_px),
                c * (wall.screen_width_px + wall.bezel_px) + wall.screen_width_px,
                r * (wall.screen_height_px + wall.bezel_px) + wall.screen_height_px)
            for r in range(rows) for c in range(cols)]


def legend(language: str) -> html.Div:
    """The fill bins, static: what a district's colour means."""
    bounds = [b for b, _ in BINS]
    items = []
    for i, (low, colour) in enumerate(BINS):
        high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        text = str(low) if high == low else (f"{low}–{high}" if high is not None else f"≥ {low}")
        items.append(html.Span([html.Span(className="cw-swatch", style={"background": colour}), text],
                               className="cw-legend-item"))
    return html.Div([html.Div(t("legend_fill", language), className="cw-section-title"),
                     html.Div(items, className="cw-legend cw-legend-wrap")], className="cw-map-legend")


def body(instance: str, settings: ViewSettings) -> list[Any]:
    size = span_size_for(instance, settings)
    layout = cached_plan(settings, size)
    graph_id, _ = live_ids("incidents_map", instance)
    graph = dcc.Graph(id=graph_id, figure=base_figure(layout), className="cw-graph cw-map-graph",
                      config={"staticPlot": False, "displayModeBar": False, "responsive": not size},
                      style={"width": f"{size[0]}px", "height": f"{size[1]}px"} if size else {"width": "100%", "height": "100%"})
    head = live_part("incidents_map-head", instance, "cw-map-head")
    rank = live_part("incidents_map-rank", instance, "cw-map-rank")
    cats = live_part("incidents_map-cat", instance, "cw-map-cats")
    latest = live_part("incidents_map-top", instance, "cw-map-top")
    status = live_part("incidents_map-status", instance, "cw-map-state")
    if not size or layout.map_box is None:
        return [html.Div(className="cw-map cw-map-fluid", children=[
            html.Div(live_part("incidents_map", instance, child=graph), className="cw-map-canvas"),
            html.Div([*head, *rank], className="cw-map-side"),
        ])]
    # spanned: each list sits inside one screen, beside the map, so no text crosses a bezel
    pad = 28
    screens = _screen_rects(settings, size)
    box = layout.map_box
    left_screens = [s for s in screens if s.x0 < box.x0]
    right_screens = [s for s in screens if s.x1 > box.x1]

    def column(screen: Box, left_side: bool, top_gap: float) -> dict[str, str]:
        x0, x1 = (screen.x0 + pad, box.x0 - pad) if left_side else (box.x1 + pad, screen.x1 - pad)
        return {"left": f"{x0:.0f}px", "top": f"{screen.y0 + top_gap:.0f}px", "width": f"{x1 - x0:.0f}px",
                "maxHeight": f"{screen.y1 - pad - screen.y0 - top_gap:.0f}px"}

    slots: list[tuple[list[Box], bool, float, list[Any]]] = [
        (left_screens[:1], True, 110, [*head, legend(settings.language), *cats]),
        (left_screens[1:2], True, pad, status),
        (right_screens[:1], False, pad, rank),
        (right_screens[1:2], False, pad, latest),
    ]
    overlays = [html.Div(content, className="cw-map-overlay", style=column(where[0], left_side, gap))
                for where, left_side, gap, content in slots if where]
    # a stale mark on every screen of the span, not only on the one with the title
    corners = [html.Span(f"⚠ {t('stale', settings.language)}", className="cw-stale-badge cw-stale-corner",
                         style={"left": f"{s.x1 - 460:.0f}px", "top": f"{s.y0 + 20:.0f}px"}) for s in screens]
    return [html.Div(className="cw-map cw-map-spanned", style={"width": f"{size[0]}px", "height": f"{size[1]}px"}, children=[
        html.Div(live_part("incidents_map", instance, child=graph), className="cw-map-canvas"),
        *overlays, *corners,
    ])]


# --- live parts ------------------------------------------------------------------------
def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def counts_by_district(incidents: IncidentsSection, names: list[str]) -> list[int]:
    """Open incidents per district, matched by folded name ("Lima Puluh" = "Limapuluh")."""
    folded = {_fold(n): i for i, n in enumerate(names)}
    counts = [0] * len(names)
    for name, count in (incidents.get("by_kecamatan") or {}).items():
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


def map_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    """What the figure shows: counts per district and marker positions per severity."""
    incidents = incidents_of(picture)
    names = [d.name for d in cached_plan(settings, None).districts]
    markers: dict[str, list[list[float]]] = {s: [[], []] for s in SEVERITIES}
    for d in incidents.get("open") or []:
        lat, lon = d.get("lat"), d.get("lon")
        if lat is None or lon is None:
            continue
        xy = markers.get(d.get("severity") or "medium", markers["medium"])
        xy[0].append(round(float(lon), 5))
        xy[1].append(round(float(lat), 5))
    return {"names": names, "counts": counts_by_district(incidents, names), "markers": markers}


def map_patch(shown: dict[str, Any], settings: ViewSettings) -> Patch:
    """Fills, label texts and marker positions: the only parts of the figure that move."""
    n = len(shown["names"])
    patch = Patch()
    for i, count in enumerate(shown["counts"]):
        patch["data"][i]["fillcolor"] = fill_for(count)
        patch["layout"]["annotations"][i]["text"] = label_text(shown["names"][i], count)
    for j, severity in enumerate(SEVERITIES):
        xs, ys = shown["markers"][severity]
        patch["data"][n + 1 + j]["x"] = xs  # after the districts and the leaders
        patch["data"][n + 1 + j]["y"] = ys
    return patch


def head_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    incidents = incidents_of(picture)
    by = incidents.get("by_severity") or {}
    return {"has_data": seen(picture, FAMILY), "open": incidents.get("open_count", 0),
            "by_severity": [(s, by.get(s, 0)) for s in SEVERITIES if s != "informational" or by.get(s)]}


def head_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [
        html.Div([html.Span(number(shown["open"], language), className="cw-headline cw-huge"),
                  html.Span(t("open_incidents", language), className="cw-stat-label")], className="cw-stat"),
        html.Div(className="cw-map-sevs", children=[
            html.Div([html.Span(SEVERITY_SHAPES[s], className=f"cw-map-symbol sev-{s}"),
                      html.Span(t(s, language), className="cw-map-sev-word"),
                      html.Span(number(c, language), className="cw-map-sev-count")], className=f"cw-map-sev sev-{s}")
            for s, c in shown["by_severity"]
        ]),
    ]


def rank_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    incidents = incidents_of(picture)
    names = [d.name for d in cached_plan(settings, None).districts]
    counts = counts_by_district(incidents, names)
    ranked = sorted(zip(names, counts, strict=True), key=lambda nc: (-nc[1], nc[0]))
    return {"has_data": seen(picture, FAMILY), "ranked": ranked}


def rank_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    most = max((c for _, c in shown["ranked"]), default=1) or 1
    return [
        html.Div(t("by_kecamatan", language), className="cw-section-title"),
        html.Div([
            html.Div(className="cw-bar-row cw-bar-row-compact", children=[
                html.Span(name, className="cw-bar-name"),
                html.Div(html.Div(className="cw-bar-fill",
                                  style={"width": f"{100 * count / most:.1f}%", "background": fill_for(max(count, 1))}),
                         className="cw-bar-track"),
                html.Span(number(count, language), className="cw-bar-value"),
            ])
            for name, count in shown["ranked"]
        ], className="cw-bars cw-fit"),
    ]


def cat_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    incidents = incidents_of(picture)
    cats = sorted((incidents.get("by_category") or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
    return {"has_data": seen(picture, FAMILY), "cats": [(str(c), n) for c, n in cats[:CATEGORIES]]}


def _category(key: str, language: str) -> str:
    label = t(f"cat_{key}", language)
    return key if label == f"cat_{key}" else label


def cat_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    most = max((n for _, n in shown["cats"]), default=1) or 1
    rows = [
        html.Div(className="cw-bar-row cw-bar-row-compact", children=[
            html.Span(_category(c, language), className="cw-bar-name"),
            html.Div(html.Div(className="cw-bar-fill cw-bar-cat", style={"width": f"{100 * n / most:.1f}%"}),
                     className="cw-bar-track"),
            html.Span(number(n, language), className="cw-bar-value"),
        ])
        for c, n in shown["cats"]
    ]
    return [html.Div(t("by_category", language), className="cw-section-title"), html.Div(rows, className="cw-bars cw-fit")]


STATUSES = ("new", "acknowledged", "dispatched")


def status_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    incidents = incidents_of(picture)
    by = incidents.get("by_status") or {}
    assignees = sorted((incidents.get("by_assignee") or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    return {"has_data": seen(picture, FAMILY), "status": [(s, by.get(s, 0)) for s in STATUSES],
            "assignees": [[a, n] for a, n in assignees],
            "resolved": incidents.get("resolved_24h") or 0, "within": incidents.get("resolved_within_sla_24h") or 0}


def status_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Where the open incidents stand in their lifecycle, and how the last day went."""
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    pct = f"{number(100 * shown['within'] / shown['resolved'], language)}%" if shown["resolved"] else "–"
    return [
        html.Div(t("by_status", language), className="cw-section-title"),
        html.Div([html.Div([html.Span(t(s, language), className=f"cw-status st-{s}"),
                            html.Span(number(n, language), className="cw-stat-num")],
                           className="cw-map-status") for s, n in shown["status"]], className="cw-map-statuses"),
        *([html.Div(" · ".join(f"{a} {number(n, language)}" for a, n in shown["assignees"]),
                    className="cw-map-assignees", **attrs({"data-assignees": ",".join(a for a, _ in shown["assignees"])}))]
          if shown.get("assignees") else []),
        html.Div(t("resolved_day", language), className="cw-section-title"),
        html.Div([html.Span(number(shown["resolved"], language), className="cw-headline"),
                  html.Span(t("resolved_sla", language).format(pct=pct), className="cw-stat-label")], className="cw-stat"),
    ]


def top_view(picture: dict[str, Any], settings: ViewSettings) -> dict[str, Any]:
    """The most severe open incidents (the picture sorts them), for the screen beside the map."""
    incidents = incidents_of(picture)
    rows = [
        {"severity": d.get("severity") or "medium", "text": d.get("description") or d.get("category") or "",
         "kecamatan": d.get("kecamatan") or "–", "age": age(d.get("age_s"), settings.language)}
        for d in (incidents.get("open") or [])[:TOP_ROWS]
    ]
    return {"has_data": seen(picture, FAMILY), "rows": rows}


def top_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [
        html.Div(t("most_severe", language), className="cw-section-title"),
        html.Div([_top_row(r, language) for r in shown["rows"]], className="cw-map-incs cw-fit"),
    ]


@row_tree
def _top_row(r: dict[str, Any], language: str) -> html.Div:
    return html.Div(className=f"cw-map-inc sev-{r['severity']}", children=[
        html.Span(f"{SEVERITY_SHAPES.get(r['severity'], '●')} {t(r['severity'], language)}", className="cw-sev"),
        html.Span(r["text"], className="cw-desc"),
        html.Span(r["kecamatan"], className="cw-where"),
        html.Span(r["age"], className="cw-age-cell"),
    ])


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "incidents_map-top", top_view, top_render)
    live.add(app, "incidents_map-status", status_view, status_render)
    live.add(app, "incidents_map", map_view, map_patch, prop="figure")
    live.add(app, "incidents_map-head", head_view, head_render)
    live.add(app, "incidents_map-rank", rank_view, rank_render)
    live.add(app, "incidents_map-cat", cat_view, cat_render)
