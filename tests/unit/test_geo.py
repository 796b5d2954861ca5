"""Districts: point-in-polygon against the shipped Pekanbaru kecamatan.

Expected centroids are the ``centroid_lat``/``centroid_lon`` published with the data (see
assets/README-data.md), so a test failure means the lookup is wrong, not the data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import Polygon, shape

from feeds.geo import GEOJSON_MAX_BYTES, Districts, GeoJsonError, name_key

ASSETS = Path(__file__).resolve().parents[2] / "assets"
KECAMATAN = ASSETS / "pekanbaru_kecamatan.geojson"

KNOWN_CENTROIDS = {
    "Sukajadi": (0.51723, 101.43786),
    "Pekanbaru Kota": (0.52297, 101.44846),
    "Sail": (0.51584, 101.4595),
    "Lima Puluh": (0.53922, 101.45892),
    "Rumbai Barat": (0.63278, 101.40229),
    "Bukit Raya": (0.47301, 101.46649),
    "Tenayan Raya": (0.53372, 101.53509),
    "Tuah Madani": (0.45689, 101.3818),
    "Kulim": (0.47125, 101.53799),
    "Rumbai Timur": (0.61197, 101.5105),
}


@pytest.fixture(scope="module")
def districts() -> Districts:
    return Districts.load(KECAMATAN)


def test_fifteen_kecamatan(districts: Districts) -> None:
    names = districts.names()
    assert len(names) == 15
    assert len(set(names)) == 15
    assert {"Sukajadi", "Bina Widya", "Tuah Madani", "Kulim", "Rumbai Timur"} <= set(names)


@pytest.mark.parametrize("name", sorted(KNOWN_CENTROIDS))
def test_published_centroid_maps_back_to_its_kecamatan(districts: Districts, name: str) -> None:
    lat, lon = KNOWN_CENTROIDS[name]
    assert districts.kecamatan_at(lat, lon) == name
    assert districts.contains_city(lat, lon)


def test_every_centroid_lies_in_its_own_polygon(districts: Districts) -> None:
    for name in districts.names():
        lat, lon = districts.centroid(name)
        assert districts.kecamatan_at(lat, lon) == name


def test_city_centre_is_sukajadi(districts: Districts) -> None:
    # config.yaml's map centre, the Wikipedia coordinate of the city: Kel. Jadirejo, Kec. Sukajadi
    assert districts.kecamatan_at(0.513408, 101.447026) == "Sukajadi"


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (0.0, 0.0),  # Gulf of Guinea
        (1.5, 104.0),  # South China Sea off Singapore
        (1.2, 102.9),  # Strait of Malacca side of Riau, far outside the city
        (0.42, 101.323),  # south-west corner of the bounding box, outside every polygon
        (0.6905, 101.3235),  # north-west corner of the bounding box
        (40.423852, -3.712247),  # Madrid, from the upstream Alert example
        (-0.9, 100.35),  # Padang
    ],
)
def test_points_outside_the_city_give_none(districts: Districts, lat: float, lon: float) -> None:
    assert districts.kecamatan_at(lat, lon) is None
    assert not districts.contains_city(lat, lon)


def test_lookup_reads_latitude_first() -> None:
    """A district whose mirror image across lat = lon is also on the globe, so a lookup that
    confused the order would find it at the swapped point (Pekanbaru cannot show this: its
    longitude, 101, is no latitude at all)."""
    # lon 10..11, lat 20..21 (GeoJSON is [lon, lat])
    square = {"type": "Polygon", "coordinates": [[[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]]]}
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nama": "Kotak"}, "geometry": square}]}
    districts = Districts.from_geojson(doc)
    assert districts.kecamatan_at(20.5, 10.5) == "Kotak"
    assert districts.kecamatan_at(10.5, 20.5) is None
    assert districts.contains_city(20.5, 10.5)
    assert not districts.contains_city(10.5, 20.5)


def test_lookup_agrees_with_brute_force_near_borders(districts: Districts) -> None:
    """The grid shortcut must give the same answer as testing every polygon."""
    import shapely

    rng = random.Random(7)
    lon_min, lat_min, lon_max, lat_max = districts.bounds
    for _ in range(3_000):
        lat, lon = rng.uniform(lat_min - 0.01, lat_max + 0.01), rng.uniform(lon_min - 0.01, lon_max + 0.01)
        point = shapely.Point(lon, lat)
        expected = next((n for n in districts.names() if districts.geometry(n).intersects(point)), None)
        assert districts.kecamatan_at(lat, lon) == expected, (lat, lon)


def test_random_points_fall_inside_the_requested_kecamatan(districts: Districts) -> None:
    rng = random.Random(42)
    for name in districts.names():
        for _ in range(20):
            lat, lon = districts.random_point(name, rng)
            assert districts.kecamatan_at(lat, lon) == name


def test_random_point_is_reproducible(districts: Districts) -> None:
    assert districts.random_point("Sail", random.Random(1)) == districts.random_point("Sail", random.Random(1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Limapuluh", "Lima Puluh"),  # Kemendagri spelling
        ("Kec. Bina Widya", "Bina Widya"),
        ("KECAMATAN TUAHMADANI", "Tuah Madani"),
        ("marpoyan-damai", "Marpoyan Damai"),
        ("14.71.14", "Kulim"),
        ("Tampan", None),  # the pre-2020 name: now split in two, so it names no single district
        ("Madrid", None),
    ],
)
def test_match_folds_spelling(districts: Districts, text: str, expected: str | None) -> None:
    assert districts.match(text) == expected


def test_centroid_accepts_aliases_and_rejects_unknown(districts: Districts) -> None:
    assert districts.centroid("limapuluh") == districts.centroid("Lima Puluh")
    with pytest.raises(KeyError):
        districts.centroid("Atlantis")


def test_load_is_cached_per_path(districts: Districts) -> None:
    assert Districts.load(str(KECAMATAN)) is districts
    assert Districts.load(ASSETS / ".." / "assets" / KECAMATAN.name) is districts


def test_from_geojson_without_published_centroids() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nama": "Kotak"}, "geometry": square}]}
    districts = Districts.from_geojson(doc)
    assert districts.names() == ["Kotak"]
    assert districts.centroid("Kotak") == pytest.approx((0.5, 0.5))
    assert districts.kecamatan_at(0.25, 0.75) == "Kotak"
    assert districts.kecamatan_at(1.5, 0.5) is None


def test_name_key_ignores_case_space_and_prefix() -> None:
    assert name_key("Kec. Lima Puluh") == name_key("limapuluh") == "limapuluh"


def _square(name: str, lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "properties": {"nama": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deep"),
        (
            json.dumps({"type": "FeatureCollection", "features": [_square("A", 101.4, 0.5)]}).replace("101.4,", "Infinity,", 1),
            "a feature's geometry cannot be read",
        ),
    ],
)
def test_a_hostile_districts_file_is_one_reason(tmp_path: Path, content: str, reason: str) -> None:
    """A RecursionError and a GEOSException escaped as tracebacks."""
    path = tmp_path / "districts.geojson"
    path.write_text(content)
    with pytest.raises(GeoJsonError) as caught:
        Districts.load(path)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("feature", "told"),
    [
        (
            {"type": "Feature", "properties": {"nama": "B"}, "geometry": {"type": "Point", "coordinates": [101.5, 0.5]}},
            "geometry Point",
        ),
        (
            {"type": "Feature", "properties": {"nama": "B"}, "geometry": {"type": "polygon", "coordinates": []}},
            "geometry polygon",
        ),
        ({"type": "Feature", "properties": {"nama": "B"}, "geometry": None}, "no geometry"),
        ([101.5, 0.5], "a list instead of a feature"),
    ],
)
def test_a_district_that_is_no_area_is_named_not_dropped(tmp_path: Path, feature: Any, told: str) -> None:
    """A kecamatan drawn as a point, with its type in lower case or with no geometry was left
    off the map and out of every count without a word, and check-config said ok."""
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_square("A", 101.4, 0.5), feature]}))
    with pytest.raises(GeoJsonError) as caught:
        Districts.load(path)
    assert str(caught.value) == f"feature 1: {told}, not a Polygon or MultiPolygon"


def test_a_districts_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """A file saved by a Windows tool starts with a BOM, and was refused as "not valid JSON"."""
    path = tmp_path / "districts.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"type": "FeatureCollection", "features": [_square("A", 101.4, 0.5)]}).encode())
    assert Districts.load(path).names() == ["A"]


def test_a_districts_file_written_latitude_first_is_refused(tmp_path: Path) -> None:
    """Bontang at [0.13, 117.5] written [lat, lon]: the map lay on its side and no point fell in it."""
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_square("A", 0.13, 117.5)]}))
    with pytest.raises(GeoJsonError) as caught:
        Districts.load(path)
    assert str(caught.value) == (
        "coordinates off the globe (longitude 0.13 to 0.14, latitude 117.5 to 117.51);"
        " GeoJSON positions are [longitude, latitude]"
    )


def test_a_districts_file_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.geojson"
    path.write_bytes(b" " * (GEOJSON_MAX_BYTES + 1))
    with pytest.raises(GeoJsonError) as caught:
        Districts.load(path)
    assert str(caught.value) == "file is larger than 16 MiB"


def test_a_stray_feature_far_away_makes_the_cells_coarser_not_the_grid_huge() -> None:
    """One small feature at [0, 0] beside the city asked for 17 million cells."""
    doc = {"type": "FeatureCollection", "features": [_square("Kota", 101.4, 0.5, 0.1), _square("Nyasar", 0.0, 0.0)]}
    districts = Districts.from_geojson(doc)
    grid = districts._grid
    assert grid.nx * grid.ny <= 250_000
    assert (districts.kecamatan_at(0.55, 101.45), districts.kecamatan_at(0.005, 0.005), districts.kecamatan_at(0.3, 50.0)) == (
        "Kota",
        "Nyasar",
        None,
    )


def _box(x: float, y: float, size: float) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def _area(name: str, *rings: list[list[list[float]]], **props: Any) -> dict[str, Any]:
    geometry = (
        {"type": "Polygon", "coordinates": rings[0]} if len(rings) == 1 else {"type": "MultiPolygon", "coordinates": list(rings)}
    )
    return {"type": "Feature", "properties": {"nama": name, **props}, "geometry": geometry}


def test_a_district_split_over_features_of_one_name_is_one_district() -> None:
    """Exports often write a mainland and its islets as features of one name: each part was a
    district of its own, and only the last (an islet) answered to the name."""
    doc = {
        "type": "FeatureCollection",
        "features": [
            _area("Pantai", _box(100.0, -1.0, 0.1), area_km2_geom=120.0),
            _area("Darat", _box(100.1, -1.0, 0.1)),
            _area("Kec. PANTAI", _box(99.8, -1.0, 0.01), area_km2_geom=1.5),  # an islet, spelled otherwise
        ],
    }
    districts = Districts.from_geojson(doc)
    assert districts.names() == ["Pantai", "Darat"]
    assert districts.kecamatan_at(-0.995, 99.805) == "Pantai"  # on the islet
    assert districts.kecamatan_at(-0.95, 100.05) == "Pantai"  # on the mainland
    lat, lon = districts.centroid("Pantai")
    assert (100.0 < lon < 100.1) and (-1.0 < lat < -0.9), "the label stands on the mainland, not between the parts"
    rng = random.Random(3)
    points = [districts.random_point("Pantai", rng) for _ in range(400)]
    assert all(districts.kecamatan_at(la, lo) == "Pantai" for la, lo in points)
    assert sum(lo > 100.0 for _, lo in points) > 380, "points spread by area: the mainland is 100 times the islet"

    drawn = districts.drawing()
    assert [f["properties"]["nama"] for f in drawn["features"]] == ["Pantai", "Darat"]
    pantai = drawn["features"][0]
    assert pantai["geometry"]["type"] == "MultiPolygon"
    assert len(pantai["geometry"]["coordinates"]) == 2
    assert pantai["properties"]["area_km2_geom"] == 121.5
    assert (pantai["properties"]["label_lat"], pantai["properties"]["label_lon"]) == (lat, lon)


def test_the_drawing_keeps_to_its_point_budget() -> None:
    """A surveyed outline of 60,000 points went whole into every map update."""
    import math

    ring = [
        [100.0 + 0.1 * math.cos(2 * math.pi * i / 60_000), -1.0 + 0.1 * math.sin(2 * math.pi * i / 60_000)] for i in range(60_000)
    ]
    ring.append(ring[0])
    districts = Districts.from_geojson({"type": "FeatureCollection", "features": [_area("Bulat", [ring])]})
    drawn = districts.drawing(max_points=2_000)["features"][0]["geometry"]["coordinates"][0]
    assert 100 < len(drawn) <= 2_000
    area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(drawn, drawn[1:], strict=False)))
    assert area == pytest.approx(math.pi * 0.1**2, rel=0.01)
    assert len(districts.drawing()["features"][0]["geometry"]["coordinates"][0]) <= 20_000


def test_the_files_own_city_is_read() -> None:
    doc = {"type": "FeatureCollection", "features": [_area("A", _box(100.0, -1.0, 0.1), kabupaten_kota="Kota Padang ")]}
    assert Districts.from_geojson(doc).city_names() == {"Kota Padang"}
    assert Districts.load(KECAMATAN).city_names() == {"Kota Pekanbaru"}


@pytest.mark.parametrize(
    ("nama", "said"), [(1377, "a number: write it as text"), ("  ", "empty text"), (None, "null"), (["A"], "a list")]
)
def test_a_nama_that_is_not_a_name_is_named(tmp_path: Path, nama: Any, said: str) -> None:
    doc = {"type": "FeatureCollection", "features": [_area("A", _box(100.0, -1.0, 0.1)), _area("B", _box(100.2, -1.0, 0.1))]}
    doc["features"][1]["properties"]["nama"] = nama
    path = tmp_path / f"nama-{len(said)}.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(GeoJsonError) as caught:
        Districts.load(path)
    assert str(caught.value) == f"feature 1: its 'nama' is not a name ({said})"


def test_a_district_whose_islet_comes_first_stands_on_its_mainland() -> None:
    """The first part's centroid and label were kept for the joined district: with the islet
    listed first, its label and markers stood on the islet."""
    islet = _area("Pantai", _box(99.8, -1.0, 0.01), centroid_lat=-0.995, centroid_lon=99.805, label_lat=-0.995,
                  label_lon=99.805, kelurahan=["Pulau"], jumlah_kelurahan=1)  # fmt: skip
    mainland = _area("Pantai", _box(100.0, -1.0, 0.1), kelurahan=["Pasar", "Pantai"], jumlah_kelurahan=2)
    districts = Districts.from_geojson({"type": "FeatureCollection", "features": [islet, mainland]})
    lat, lon = districts.centroid("Pantai")
    assert (100.0 < lon < 100.1) and (-1.0 < lat < -0.9)
    (drawn,) = districts.drawing()["features"]
    assert 100.0 < drawn["properties"]["label_lon"] < 100.1
    assert (drawn["properties"]["kelurahan"], drawn["properties"]["jumlah_kelurahan"]) == (["Pulau", "Pasar", "Pantai"], 3)
    assert "centroid_lat" not in drawn["properties"]


def test_a_district_of_many_islets_is_drawn_within_the_budget() -> None:
    """Kept whole, every ring keeps four points: 60 islets can never fit 200 points, and the
    tolerance doubled for ever (the app hung at start). Islets too small to see are let go."""
    islets = [_box(100.2 + 0.002 * i, -1.0, 0.0005)[0] for i in range(60)]
    doc = {"type": "FeatureCollection", "features": [_area("Kepulauan", _box(100.0, -1.0, 0.1), *[[ring] for ring in islets])]}
    districts = Districts.from_geojson(doc)
    geometry = shape(districts.drawing(max_points=200)["features"][0]["geometry"])
    assert shapely.get_num_coordinates(geometry) <= 200
    assert geometry.area == pytest.approx(0.1 * 0.1, rel=0.05), "the main island is still drawn"


def test_a_simplified_border_is_the_same_line_for_both_districts() -> None:
    """Each district simplified alone moved its side of a shared border its own way: slivers
    of sea showed between them on the map."""
    import math

    border = [[100.1 + 0.0003 * math.sin(i / 7), -1.0 + 0.1 * i / 5_000] for i in range(5_001)]
    west = [[100.0, -1.0], *border, [100.0, -0.9], [100.0, -1.0]]
    east = [*border, [100.2, -0.9], [100.2, -1.0], border[0]]
    assert all(Polygon(ring).is_valid for ring in (west, east))
    doc = {"type": "FeatureCollection", "features": [_area("Barat", [west]), _area("Timur", [east])]}
    drawn = [shape(f["geometry"]) for f in Districts.from_geojson(doc).drawing(max_points=1_000)["features"]]
    assert shapely.get_num_coordinates(drawn[0]) + shapely.get_num_coordinates(drawn[1]) <= 1_000
    assert drawn[0].intersection(drawn[1]).area == pytest.approx(0, abs=1e-12), "no overlap"
    assert drawn[0].union(drawn[1]).area == pytest.approx(0.2 * 0.1, rel=1e-3), "and no gap"
