"""District lookup: which kecamatan a point falls in, fast enough to ask for every message.

The normalizer tags each located event with its kecamatan so panels can group by district
without doing geometry themselves; the simulator needs random points inside a district.
Both use one ``Districts`` object per GeoJSON file, loaded once and cached by path.

Speed matters because the lookup runs per message. Profiling showed that one shapely call
costs a few microseconds of numpy ufunc overhead and building a ``Point`` several more, far
more than the geometry itself. So at load time an ``STRtree`` classifies a fine grid over the
city (cells of ~220 m) in one vectorised pass: cells wholly inside one district, cells
outside all of them, and border cells with their few candidate districts. A lookup is then
a bounding-box test and a list index; only points in border cells pay for an exact test
against prepared geometries.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

__all__ = ["District", "Districts", "GeoJsonError", "Uniform", "name_key"]

_PREFIX = re.compile(r"^\s*(?:kecamatan|kec\.?)\s+", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_RANDOM_TRIES = 1_000
_CELL_DEG = 0.002  # ~220 m at the equator: 19k cells for Pekanbaru, built in well under a second
#: Cells at most: districts spread wider (a stray feature far away) get coarser cells, not
#: a grid that takes the memory of the machine (one feature at [0, 0] asked for 17 million).
_CELLS_MAX = 250_000
#: A districts file is a city's boundaries: a few MB at most (Pekanbaru's is 0.2 MB).
GEOJSON_MAX_BYTES = 16 * 1024 * 1024
#: Outline points the map draws at most (Pekanbaru's file has 2,408): enough for every
#: screen's map at the wall's full width, small enough to send with each map update.
DRAWING_MAX_POINTS = 20_000
#: The coarsest the map's outlines get while every ring is kept: a hundredth of the city.
_SIMPLIFY_MOST = 0.01
#: Where a feature says which city or regency it lies in.
CITY_PROPERTIES = ("kabupaten_kota",)
_OUTSIDE = -1
_BORDER = -2


class GeoJsonError(ValueError):
    """A districts file that cannot serve: missing, unreadable, or with no named polygons."""


class Uniform(Protocol):
    """What ``random_point`` needs from a generator; ``random.Random`` satisfies it."""

    def uniform(self, a: float, b: float) -> float: ...


def name_key(name: str) -> str:
    """Fold a district name for matching: "Kec. Lima Puluh", "LIMAPULUH" and "lima-puluh" agree.

    Upstream sources disagree on spacing (Kemendagri writes "Limapuluh", "Binawidya",
    "Tuahmadani"), so spaces and punctuation carry no meaning here.
    """
    return _NOT_ALNUM.sub("", _PREFIX.sub("", name).lower())


@dataclass(frozen=True, slots=True)
class District:
    """One polygon with the names it answers to and a point that lies inside it."""

    name: str
    geometry: BaseGeometry
    inside: tuple[float, float]  # (lat, lon)
    aliases: frozenset[str]
    properties: dict[str, Any] = field(default_factory=dict, compare=False)  # the file's, of its first part
    parts: int = 1  # the features of its name that make it

    def area_km2(self) -> float:
        """The area, from degrees at the district's latitude: close enough to shade a map by."""
        km_per_deg = 111.32
        return float(self.geometry.area * km_per_deg**2 * math.cos(math.radians(self.inside[0])))


class Districts:
    """The districts of one city, built from a GeoJSON FeatureCollection with a ``nama`` property."""

    def __init__(self, districts: list[District], source: str = "") -> None:
        if not districts:
            raise ValueError(f"{source or 'districts'}: no polygon features with a 'nama' property")
        self.source = source
        self._districts = districts
        self._by_name = {d.name: d for d in districts}
        self._by_key: dict[str, str] = {}
        for d in districts:
            for alias in d.aliases:
                self._by_key.setdefault(alias, d.name)
        geometries = [d.geometry for d in districts]
        for geometry in geometries:
            shapely.prepare(geometry)
        self._tree = shapely.STRtree(geometries)
        self.bounds: tuple[float, float, float, float] = tuple(shapely.total_bounds(geometries).tolist())
        self._grid = _Grid(self.bounds, self._tree, geometries)

    # construction ---------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Districts:
        """The districts of a GeoJSON file, parsed once per resolved path and then shared."""
        return _load_cached(str(Path(path).resolve()))

    @classmethod
    def from_geojson(cls, doc: dict[str, Any], source: str = "") -> Districts:
        """Build from an already parsed FeatureCollection (tests, other cities, no file)."""
        return cls(_districts([f for f in doc.get("features", []) if _usable(f)]), source)

    # queries --------------------------------------------------------------------------

    def names(self) -> list[str]:
        """District names in file order (Kemendagri code order for Pekanbaru)."""
        return [d.name for d in self._districts]

    def kecamatan_at(self, lat: float, lon: float) -> str | None:
        """The district holding the point, or None outside the city.

        A point exactly on a shared border belongs to the first district in file order, so
        the answer is stable rather than "nowhere".
        """
        index = self._index_at(lat, lon)
        return None if index < 0 else self._districts[index].name

    def contains_city(self, lat: float, lon: float) -> bool:
        """True when the point lies inside (or on the border of) one of the districts."""
        return self._index_at(lat, lon) >= 0

    def km_from(self, lat: float, lon: float) -> float:
        """How far the point lies from the nearest district, in km along the ground (0 inside):
        for checking the places a config names, not for every message."""
        if self.contains_city(lat, lon):
            return 0.0
        point = shapely.Point(lon, lat)
        nearest = min((shapely.shortest_line(d.geometry, point) for d in self._districts), key=lambda line: line.length)
        (lon_a, lat_a), (lon_b, lat_b) = nearest.coords
        return _ground_km(lat_a, lon_a, lat_b, lon_b)

    def joined(self) -> list[str]:
        """The districts made of more than one feature of their name, in file order."""
        return [d.name for d in self._districts if d.parts > 1]

    def match(self, name: str) -> str | None:
        """The canonical district name for a free-text name, or None when it names none of them."""
        return self._by_key.get(name_key(name))

    def centroid(self, name: str) -> tuple[float, float]:
        """(lat, lon) of a point inside the district, good for labels and map markers.

        Uses the file's own ``centroid_lat``/``centroid_lon`` when given (checked to lie inside);
        otherwise shapely's centroid, or a surface point when the centroid falls outside a
        concave polygon. Raises KeyError for an unknown name.
        """
        return self._get(name).inside

    def random_point(self, name: str, rng: Uniform) -> tuple[float, float]:
        """A uniformly random (lat, lon) inside the district, by rejection sampling its envelope."""
        district = self._get(name)
        lon_min, lat_min, lon_max, lat_max = district.geometry.bounds
        for _ in range(_RANDOM_TRIES):
            lon, lat = rng.uniform(lon_min, lon_max), rng.uniform(lat_min, lat_max)
            if shapely.contains_xy(district.geometry, lon, lat):
                return lat, lon
        return district.inside

    def geometry(self, name: str) -> BaseGeometry:
        """The (prepared) shapely geometry of a district, for callers that draw or measure."""
        return self._get(name).geometry

    def city_names(self) -> set[str]:
        """The city or regency the file's features say they belong to (``kabupaten_kota``, as
        the shipped files and BPS-derived ones have it), so a config that points at another
        city's boundaries can be told; empty when the file does not say."""
        return {
            d.properties[key].strip()
            for d in self._districts
            for key in CITY_PROPERTIES
            if isinstance(d.properties.get(key), str) and d.properties[key].strip()
        }

    def drawing(self, max_points: int = DRAWING_MAX_POINTS) -> dict[str, Any]:
        """The districts as the map draws them: a FeatureCollection with one feature per
        district (the parts of one split over several features joined, with their joined
        properties), a label point inside each, and outlines simplified until they all hold
        at most ``max_points`` points. Every screen's map carries the outlines: a surveyed
        file of 12 MB sent 11 MB with every map update."""
        features = []
        for district, geometry in zip(self._districts, self._outlines(max_points), strict=True):
            properties = {**district.properties, "nama": district.name}
            if not all(isinstance(properties.get(k), (int, float)) for k in ("label_lat", "label_lon")):
                properties["label_lat"], properties["label_lon"] = district.inside
            if not isinstance(properties.get("area_km2_geom"), (int, float)):
                properties["area_km2_geom"] = district.area_km2()
            features.append({"type": "Feature", "properties": properties, "geometry": mapping(geometry)})
        return {"type": "FeatureCollection", "features": features}

    def _outlines(self, max_points: int) -> list[BaseGeometry]:
        """The districts' shapes within ``max_points``, the tolerance doubled until they fit.
        Kept whole, each ring keeps at least four points, so a file of thousands of islets
        never fits that way: past ``_SIMPLIFY_MOST`` of the city's extent, rings that shrink
        to nothing are let go (a tiny islet), and what is left is drawn even if it is still
        over (the loop had doubled the tolerance for ever)."""
        geometries = [d.geometry for d in self._districts]
        lon_min, lat_min, lon_max, lat_max = self.bounds
        extent = max(lon_max - lon_min, lat_max - lat_min)
        tolerance = extent / 20_000
        while sum(shapely.get_num_coordinates(g) for g in geometries) > max_points:
            if tolerance > extent * _SIMPLIFY_MOST:
                return [shapely.simplify(d.geometry, tolerance / 2, preserve_topology=False) for d in self._districts]
            geometries = _simplified(self._districts, tolerance)
            tolerance *= 2
        return geometries

    # helpers --------------------------------------------------------------------------

    def _index_at(self, lat: float, lon: float) -> int:
        """Index of the district holding the point, or -1; exact geometry only on border cells."""
        lon_min, lat_min, lon_max, lat_max = self.bounds
        if not (lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
            return _OUTSIDE
        cell = self._grid.cell(lat, lon)
        state = self._grid.states[cell]
        if state != _BORDER:
            return state
        indexes, geometries = self._grid.candidates[cell]
        hits = shapely.intersects_xy(geometries, lon, lat)
        for index, hit in zip(indexes, hits.tolist(), strict=True):
            if hit:
                return index
        return _OUTSIDE

    def _get(self, name: str) -> District:
        district = self._by_name.get(name)
        if district is None:
            canonical = self.match(name)
            if canonical is None:
                raise KeyError(f"no district named {name!r} in {self.source or 'this city'}")
            district = self._by_name[canonical]
        return district

    def __len__(self) -> int:
        return len(self._districts)

    def __repr__(self) -> str:
        return f"Districts({len(self)} from {self.source or '<memory>'})"


class _Grid:
    """A regular grid over the districts' bounds, each cell pre-classified in one STRtree pass."""

    def __init__(self, bounds: tuple[float, float, float, float], tree: shapely.STRtree, geometries: list[BaseGeometry]) -> None:
        self.lon_min, self.lat_min, lon_max, lat_max = bounds
        width, height = lon_max - self.lon_min, lat_max - self.lat_min
        size = max(_CELL_DEG, math.sqrt(width * height / _CELLS_MAX), max(width, height) / _CELLS_MAX)
        while math.ceil(width / size) * math.ceil(height / size) > _CELLS_MAX:  # the rounding up, at most a step or two
            size *= 1.01
        self.size = size
        self.nx = max(1, math.ceil(width / size))
        self.ny = max(1, math.ceil(height / size))
        i, j = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        x0, y0 = self.lon_min + i.ravel() * size, self.lat_min + j.ravel() * size
        boxes = shapely.box(x0, y0, x0 + size, y0 + size)
        self.states: list[int] = [_OUTSIDE] * (self.nx * self.ny)
        self.candidates: dict[int, tuple[tuple[int, ...], np.ndarray]] = {}
        touching: dict[int, list[int]] = {}
        for cell, index in tree.query(boxes, predicate="intersects").T.tolist():
            touching.setdefault(cell, []).append(index)
        inside = {cell: index for cell, index in tree.query(boxes, predicate="within").T.tolist()}
        for cell, indexes in touching.items():
            if len(indexes) == 1 and cell in inside:
                self.states[cell] = inside[cell]
            else:
                self.states[cell] = _BORDER
                ordered = tuple(sorted(indexes))
                # one vectorised intersects_xy over the candidates beats a Point plus a call each
                self.candidates[cell] = (ordered, np.array([geometries[i] for i in ordered], dtype=object))

    def cell(self, lat: float, lon: float) -> int:
        """The cell of a point already known to lie within the bounds (the far edges clamp in)."""
        i = min(int((lon - self.lon_min) / self.size), self.nx - 1)
        j = min(int((lat - self.lat_min) / self.size), self.ny - 1)
        return j * self.nx + i


@functools.cache
def _load_cached(path: str) -> Districts:
    """One parse per file for the life of the process; the files are shipped, not edited live.

    Raises ``GeoJsonError`` saying what is wrong with the file (never its content)."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise GeoJsonError("not a regular file")
            raw = handle.read(GEOJSON_MAX_BYTES + 1)
    except FileNotFoundError:
        raise GeoJsonError("file not found") from None
    except OSError as exc:
        raise GeoJsonError(f"file cannot be read ({type(exc).__name__})") from None
    if len(raw) > GEOJSON_MAX_BYTES:
        raise GeoJsonError(f"file is larger than {GEOJSON_MAX_BYTES // (1024 * 1024)} MiB")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))  # a BOM (as Windows tools write it) is no error
    except UnicodeDecodeError:
        raise GeoJsonError("file is not UTF-8") from None
    except (ValueError, RecursionError):
        raise GeoJsonError("file is not valid JSON, or nested too deep") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise GeoJsonError("not a GeoJSON FeatureCollection")
    for i, feature in enumerate(doc["features"]):
        if not (isinstance(feature, dict) and _is_area(feature)):
            # a district drawn as a point or a line, or with no geometry, was left off the map
            # and out of every count without a word, and check-config said ok
            raise GeoJsonError(f"feature {i}: {_shape_of(feature)}, not a Polygon or MultiPolygon")
    areas = list(enumerate(doc["features"]))
    usable = [f for _, f in areas if _usable(f)]
    if not usable:  # which names the file has: "NAMOBJ" or "name" for a file from another source
        first = ""
        if areas:
            first = f" (the first feature's properties: {_keys(areas[0][1].get('properties') or {})})"
        raise GeoJsonError(f"no Polygon or MultiPolygon feature with a 'nama' property{first}")
    for i, feature in areas:
        if not _usable(feature):  # a district under "NAMA" was left off the map without a word
            props = feature.get("properties") or {}
            if "nama" in props:
                raise GeoJsonError(f"feature {i}: its 'nama' is not a name ({_kind(props['nama'])})")
            raise GeoJsonError(f"feature {i} has no 'nama' property (its properties: {_keys(props)})")
    try:
        made = _districts(usable)
        districts = Districts(made, source=path)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError, shapely.errors.ShapelyError) as exc:
        raise GeoJsonError(f"a feature's geometry cannot be read ({type(exc).__name__})") from None
    flat = [d.name for d in made if d.geometry.area <= 0]
    if flat:  # coordinates rounded to whole degrees: the map divided by a district's zero size
        raise GeoJsonError(f"districts without area: {', '.join(flat[:5])} (are the coordinates rounded?)")
    lon_min, lat_min, lon_max, lat_max = districts.bounds
    if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        # a file written [lat, lon]: the map drew the city on its side, and no point fell in it
        raise GeoJsonError(
            f"coordinates off the globe (longitude {lon_min:g} to {lon_max:g}, latitude {lat_min:g} to {lat_max:g});"
            " GeoJSON positions are [longitude, latitude]"
        )
    return districts


def _ground_km(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """The great-circle distance between two points (haversine, on a sphere of Earth's mean radius)."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    d_phi, d_lambda = phi_b - phi_a, math.radians(lon_b - lon_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _is_area(feature: dict[str, Any]) -> bool:
    geometry = feature.get("geometry")
    return isinstance(geometry, dict) and geometry.get("type") in {"Polygon", "MultiPolygon"}


def _shape_of(feature: Any) -> str:
    """What a feature that is no area holds instead, in GeoJSON's words."""
    if not isinstance(feature, dict):
        kind = {type(None): "null", list: "a list", str: "text", bool: "true or false"}.get(type(feature), "a number")
        return f"{kind} instead of a feature"
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return "no geometry"
    said = geometry.get("type")
    return f"geometry {said}" if isinstance(said, str) and len(said) <= 40 else "a geometry without a type"


def _usable(feature: dict[str, Any]) -> bool:
    name = (feature.get("properties") or {}).get("nama")
    return isinstance(name, str) and bool(name.strip()) and _is_area(feature)


def _simplified(districts: list[District], tolerance: float) -> list[BaseGeometry]:
    """The districts simplified as one coverage: a border two of them share is simplified
    once, the same for both, where each simplified alone left slivers of sea between them. A
    file whose shapes are no coverage (a part that ``make_valid`` turned into a line beside
    its polygon) has each simplified alone."""
    shapes = [d.geometry for d in districts]
    try:
        return list(shapely.coverage_simplify(shapes, tolerance))
    except (TypeError, shapely.errors.ShapelyError):
        return [shapely.simplify(g, tolerance, preserve_topology=True) for g in shapes]


def _keys(props: dict[str, Any]) -> str:
    """A feature's property names, the first eight in alphabetical order, each cut to 40 characters."""
    return ", ".join(sorted(str(k)[:40] for k in props)[:8]) or "none"


def _kind(value: Any) -> str:
    """What a JSON value is, in words, for an error about it."""
    if isinstance(value, str):
        return "empty text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number: write it as text"
    return {type(None): "null", list: "a list", dict: "an object"}.get(type(value), "not text")


def _districts(features: list[dict[str, Any]]) -> list[District]:
    """One district per name, in file order. A district split over several features of one
    name (a mainland and its islets, as exports often write them) is one district: kept
    apart, only the last part counted, its gauges and incidents all landed on that part, and
    the map listed the name once per part."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for feature in features:
        parts.setdefault(name_key(feature["properties"]["nama"]), []).append(feature)
    return [_district(group) for group in parts.values()]


def _district(parts: list[dict[str, Any]]) -> District:
    geometries = [shape(part["geometry"]) for part in parts]
    geometries = [g if g.is_valid else shapely.make_valid(g) for g in geometries]
    geometry = geometries[0] if len(geometries) == 1 else shapely.union_all(geometries)
    props = _joined_properties([part["properties"] for part in parts])
    return District(
        name=props["nama"].strip(),
        geometry=geometry,
        inside=_inside_point(geometry, props),
        aliases=frozenset(_aliases([part["properties"] for part in parts])),
        properties=props,
        parts=len(parts),
    )


def _aliases(parts: list[dict[str, Any]]) -> set[str]:
    """The folded names a district answers to: its name, its Kemendagri name and its code, in
    any of its parts."""
    found = set()
    for props in parts:
        for key in ("nama", "nama_kemendagri", "kode"):
            value = props.get(key)
            if isinstance(value, str) and value.strip():
                found.add(name_key(value))
    return found


#: What a part says of itself alone: the district of several parts has its own, or none.
_PART_ONLY = ("centroid_lat", "centroid_lon", "centroid_inside", "label_lat", "label_lon")


def _joined_properties(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The first part's properties, with what only held for that part made the district's:
    the areas added up and the kelurahan of every part listed, its centroid and label point
    left out (an islet listed first put the district's label and markers on the islet)."""
    props = dict(parts[0])
    if len(parts) == 1:
        return props
    for key in _PART_ONLY:
        props.pop(key, None)
    areas = [part.get("area_km2_geom") for part in parts]
    props.pop("area_km2_geom", None)
    if all(isinstance(a, (int, float)) for a in areas):
        props["area_km2_geom"] = sum(areas)
    if all(isinstance(part.get("kelurahan"), list) for part in parts):
        props["kelurahan"] = list(dict.fromkeys(k for part in parts for k in part["kelurahan"]))
        if "jumlah_kelurahan" in props:
            props["jumlah_kelurahan"] = len(props["kelurahan"])
    else:
        props.pop("kelurahan", None)
        props.pop("jumlah_kelurahan", None)
    return props


def _inside_point(geometry: BaseGeometry, props: dict[str, Any]) -> tuple[float, float]:
    """The file's centroid when it lies inside; else a point inside the largest part, so a
    district's label and markers stand on its mainland, not in the sea between its islands."""
    lat, lon = props.get("centroid_lat"), props.get("centroid_lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and shapely.contains_xy(geometry, lon, lat):
        return float(lat), float(lon)
    largest = max(getattr(geometry, "geoms", [geometry]), key=lambda part: part.area)
    point = largest.centroid
    if not largest.contains(point):
        point = largest.point_on_surface()
    return point.y, point.x
