"""Where everything on the incident map goes: its place on the span, its axis ranges, every label.

Near the equator a degree of longitude and of latitude are the same length, so equal pixels
per degree on both axes is a faithful projection, and the map is planned in canvas pixels.
On the wall the map spans several screens: it is placed so the small central kecamatan sit
well inside one screen, their labels stand in two stacks beside that cluster on leader
lines, and every label is moved off the bezel lines, so no text ever sits across a gap
between two monitors. District outlines, leader lines and markers may cross a bezel; text
does not.

Kept apart from the panel (``layouts.panels.incidents_map``) because it is pure geometry:
no Dash, no picture, testable on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from layouts.ports import ViewSettings

LEADER_GAP_PX = 4.0  # between a leader's end and its label's box
SMALL_KM2 = 8.0  # districts smaller than this get their label on a leader line
NAME_PX, FLUID_NAME_PX = 26, 20  # label names on a spanned map and in one grid cell
COUNT_SCALE = 1.5  # the count under a name, relative to the name


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
    rings: tuple[tuple[tuple[float, float], ...], ...]  # (lon, lat) outer rings
    anchor: tuple[float, float]  # (lon, lat) inside the polygon
    area_km2: float


@dataclass(frozen=True)
class MapLayout:
    """Where everything goes, in data coordinates, plus the pixel facts of a spanned map."""

    districts: tuple[District, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    labels: tuple[tuple[float, float], ...]  # label centre per district (lon, lat)
    leaders: tuple[tuple[tuple[float, float], tuple[float, float]] | None, ...]  # (district, label) per district
    size: tuple[int, int] | None  # canvas px of the span, None when fluid
    map_box: Box | None = None  # the map's own rectangle on the span
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
        area = props.get("area_km2_geom") or (max(xs) - min(xs)) * (max(ys) - min(ys)) * 111.32**2
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
    xs: list[tuple[float, float]] = [
        (c * wall.screen_width_px + (c - 1) * wall.bezel_px, c * pitch_x)
        for c in range(1, round((size[0] + wall.bezel_px) / pitch_x))
    ]
    ys: list[tuple[float, float]] = [
        (r * wall.screen_height_px + (r - 1) * wall.bezel_px, r * pitch_y)
        for r in range(1, round((size[1] + wall.bezel_px) / pitch_y))
    ]
    return xs, ys


def _clear_of(
    box: Box,
    bands_x: list[tuple[float, float]],
    bands_y: list[tuple[float, float]],
    anchor: tuple[float, float],
    margin: float = 14,
) -> Box:
    """Move a label box off every bezel band, towards the side its anchor lies on."""
    for b0, b1 in bands_x:
        if box.x0 < b1 + margin and box.x1 > b0 - margin:
            box = box.shifted((b0 - margin - box.x1) if anchor[0] < (b0 + b1) / 2 else (b1 + margin - box.x0), 0)
    for b0, b1 in bands_y:
        if box.y0 < b1 + margin and box.y1 > b0 - margin:
            box = box.shifted(0, (b0 - margin - box.y1) if anchor[1] < (b0 + b1) / 2 else (b1 + margin - box.y0))
    return box


def crosses(box: Box, bands_x: list[tuple[float, float]], bands_y: list[tuple[float, float]], margin: float = 10) -> bool:
    """Whether a box comes within ``margin`` of any bezel band."""
    return any(box.x0 < b1 + margin and box.x1 > b0 - margin for b0, b1 in bands_x) or any(
        box.y0 < b1 + margin and box.y1 > b0 - margin for b0, b1 in bands_y
    )


def plan(
    settings: ViewSettings,
    size: tuple[int, int] | None,
    left_px: int = 560,
    right_px: int = 1000,
    top_px: int = 96,
    bottom_px: int = 36,
) -> MapLayout:
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
    k = (height - top_px - bottom_px) / (lat1 - lat0)  # pixels per degree, both axes
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
        cluster = Box(
            min(c[0] for c in corners), min(c[1] for c in corners), max(c[0] for c in corners), max(c[1] for c in corners)
        )
        mid = (cluster.x0 + cluster.x1) / 2
        gap = 70 * scale
        for side in (-1, 1):
            members = sorted(
                (d for d in small if (px(*d.anchor)[0] - mid) * side >= 0 and (side == 1 or px(*d.anchor)[0] != mid)),
                key=lambda d: px(*d.anchor)[1],
            )
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
                        box = _clear_of(
                            Box(
                                x0 + side * dx_step * w * 0.5,
                                y0 + dy_step * (h / 2 + 4),
                                x0 + side * dx_step * w * 0.5 + w,
                                y0 + dy_step * (h / 2 + 4) + h,
                            ),
                            bands_x,
                            bands_y,
                            (ax, ay),
                        )
                        if (
                            any(box.overlap(p) > 0 for p in placed)
                            or box.overlap(cluster) > 0
                            or box.y0 < top
                            or box.y1 > height - 8
                            or box.x0 < 4
                            or box.x1 > width - 4
                        ):
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
        districts,
        x_range,
        y_range,
        tuple(label for label in labels if label is not None),
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


def cached_plan(settings: ViewSettings, size: tuple[int, int] | None) -> MapLayout:
    """Planning walks every ring; pages are laid out per request, the geometry never changes.

    Kept with the settings (``ViewSettings.memo``), so each app plans its own city's map."""
    key = ("map_plan", size)
    found = settings.memo.get(key)
    if not isinstance(found, MapLayout):
        found = settings.memo[key] = plan(settings, size)
    return found


def screen_rects(settings: ViewSettings, size: tuple[int, int]) -> list[Box]:
    """Each screen of a span as a box in canvas pixels, bezels left out, row by row."""
    wall = settings.wall
    cols = round((size[0] + wall.bezel_px) / (wall.screen_width_px + wall.bezel_px))
    rows = round((size[1] + wall.bezel_px) / (wall.screen_height_px + wall.bezel_px))
    return [
        Box(
            c * (wall.screen_width_px + wall.bezel_px),
            r * (wall.screen_height_px + wall.bezel_px),
            c * (wall.screen_width_px + wall.bezel_px) + wall.screen_width_px,
            r * (wall.screen_height_px + wall.bezel_px) + wall.screen_height_px,
        )
        for r in range(rows)
        for c in range(cols)
    ]
