"""A broken config.yaml stops start-up with one line: the file, the key path and the reason."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import types
import typing
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter

from dashboard.config import DEFAULT_CONFIG, Config, ConfigError, DrainageLevels, load_config
from tests.support.configs import write_config

#: Any value of the config as JSON would give it (a section as a mapping, a path as text).
JSON_VALUE: TypeAdapter[Any] = TypeAdapter(Any)

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
#: A file that exists, for the keys that name one.
A_FILE = str(Path(__file__).resolve())


write = write_config


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message, "the error must be one line"
    assert message.startswith(str(path)), message
    return message


def test_shipped_config_is_valid() -> None:
    config = load_config(DEFAULT_CONFIG, environ={})
    assert config.city.timezone == "Asia/Jakarta"
    assert config.city.language == "id"
    assert (config.wall.columns, config.wall.rows) == (6, 4)
    assert config.mpp.permits_per_day == 700 and config.mpp.permits_busy_day == 1000
    assert set(config.mpp.busy_weekdays) == {"monday", "friday"}
    covered = set(config.screens) | {s for span in config.spans for s in config.span_screens(span)}
    assert covered == set(range(1, 25)), "every one of the 24 screens shows something"
    assert [p.id for p in config.pillars] == ["governance", "people", "economy", "environment", "living", "mobility"]
    assert config.mpp.agency_count == 26 and config.mpp.services == 175
    assert config.districts_path() == DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson"
    assert len(config.simulation.stations) == 12 and len(config.simulation.waste_sites) == 40


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["wall"].update(colums=6), "wall.colums: unknown key"),
        (lambda c: c.update(citty={}), "citty: unknown key"),
        (lambda c: c["wall"].update(columns="six"), "wall.columns: Input should be a valid integer"),
        (lambda c: c["mpp"].update(permits_per_day=[700]), "mpp.permits_per_day: Input should be a valid integer"),
        (lambda c: c["screens"].update({25: ["clock"]}), "screens.25: screen 25 is outside the 6x4 wall (screens 1-24)"),
        (lambda c: c["screens"].update({0: ["clock"]}), "screens.0: screen 0 is outside the 6x4 wall"),
        (lambda c: c["screens"].update({4: ["clock", "weather_radar"]}), "screens.4.1: no panel named 'weather_radar'"),
        (lambda c: c["spans"][0].update(panel="nope"), "spans.0.panel: no panel named 'nope'"),
        (lambda c: c["spans"][0].update(bottom_right=30), "spans.0.bottom_right: screen 30 is outside"),
        (lambda c: c["screens"].update({3: ["clock"]}), "spans.0: screen 3 is already used by screens"),
        (lambda c: c["city"].update(timezone="Asia/Pekanbaru"), "city.timezone: unknown time zone 'Asia/Pekanbaru'"),
        (lambda c: c["city"].update(language="fr"), "city.language: Input should be 'id' or 'en'"),
        (lambda c: c["city"].pop("name"), "city.name: required key is missing"),
        (
            lambda c: c["feeds"]["mqtt"].update(url="http://broker"),
            "feeds.mqtt.url: MQTT url must start with mqtt:// or mqtts://",
        ),
        (lambda c: c["store"].update(url="postgres://x"), "store.url: must be memory:// or redis://host:port/db"),
        (
            lambda c: c["thresholds"].update(drainage={"waspada": 2, "siaga": 1, "awas": 3}),
            "thresholds.drainage: levels must rise",
        ),
        (
            lambda c: c["pillars"][0]["kpis"][0].update(id="made_up_kpi"),
            "pillars.0.kpis.0: no derived KPI named 'made_up_kpi'; use source: message for KPIs that arrive on a feed (derived: ",
        ),
        (lambda c: c["pillars"][0]["kpis"][0].update(target=True), "pillars.0.kpis.0.target: Input should be a valid number"),
        (lambda c: c["pillars"][1].update(id="governance"), "pillars.1.id: the same id as pillars.0"),
        (lambda c: c.update(complaints=c["complaints"] * 2), "complaints.1.id: the same id as complaints.0"),
        (lambda c: c["pillars"][2].update(icon="unicorn"), "pillars.2.icon: Input should be 'building'"),
        (lambda c: c["pillars"][3].update(kpis=[]), "pillars.3.kpis: List should have at least 1 item"),
        (lambda c: c["pillars"][3].pop("kpis"), "pillars.3.kpis: required key is missing"),
        (lambda c: c["city"].update(timezone="Asia/Surabaya"), "Indonesia's are Asia/Jakarta (WIB), Asia/Pontianak (WIB)"),
        (lambda c: c.update(pillars=c["pillars"][:2]), "pillars: List should have at least 3 items"),
        (lambda c: c.update(pillars=c["pillars"] * 2), "pillars: List should have at most 8 items"),
        (lambda c: c["city"].update(districts_geojson="nowhere.geojson"), "city.districts_geojson: file not found"),
        (lambda c: c["complaints"][0].update(topics=[]), "complaints.0: a complaint channel needs topics or streams"),
        (
            lambda c: c["complaints"][0]["categories"].update(Lainnya="parks"),
            "complaints.0.categories.Lainnya: Input should be 'drainage'",
        ),
        (lambda c: c["wall"].update(reload_at="25:99"), "wall.reload_at:"),
        # a zone that exists, on the other side of the world (Etc/GMT+7 is UTC-7); Pekanbaru lies
        # at 101.4 degrees east, its sun's time about UTC+6.8
        (lambda c: c["city"].update(timezone="Etc/GMT+7"), "city.timezone: Etc/GMT+7 is UTC-7, but the districts lie"),
        (lambda c: c["city"].update(timezone="Africa/Abidjan"), "city.timezone: Africa/Abidjan is UTC+0, but"),  # no DST
        (lambda c: c["feeds"]["mqtt"].update(member="ingest 1"), "feeds.mqtt.member: String should match pattern"),
        (lambda c: c["feeds"]["mqtt"].update(hold_ms=200), "feeds.mqtt.hold_ms: Input should be less than or equal to 50"),
    ],
)
def test_broken_config_names_key_and_reason(tmp_path: Path, edit, expected: str) -> None:
    message = error_of(write(tmp_path, edit))
    assert expected in message


def test_a_key_spelt_wrong_is_named_not_the_key_it_was_meant_to_be(tmp_path: Path) -> None:
    """A key one letter off is also a required key missing, and pydantic lists that first:
    "city.districts_geojson: required key is missing (and 1 more)" named the key that was
    there and hid the one that was wrong."""

    def misspelt(c: dict[str, Any]) -> None:
        c["city"]["districts_geojsn"] = c["city"].pop("districts_geojson")

    def renamed(c: dict[str, Any]) -> None:
        c["citty"] = c.pop("city")

    for edit, told in [
        (misspelt, "city.districts_geojsn: unknown key (did you mean districts_geojson?) (and 1 more)"),
        (renamed, "citty: unknown key (did you mean city?) (and 1 more)"),
        (lambda c: c["city"].update(colour="red"), "city.colour: unknown key"),
        (lambda c: c["server"].update(max_body_byte=1024), "server.max_body_byte: unknown key (did you mean max_body_bytes?)"),
        (
            lambda c: c["pillars"][0]["kpis"][0].update(targte=1),
            "pillars.0.kpis.0.targte: unknown key (did you mean target?)",
        ),
    ]:
        path = write(tmp_path, edit)
        assert error_of(path) == f"{path}: {told}"


def test_an_unknown_derived_kpi_is_told_every_derived_name_uncut(tmp_path: Path) -> None:
    """The line was cut at 300 characters, inside the list, and the advice after it was lost."""
    message = error_of(write(tmp_path, lambda c: c["pillars"][0]["kpis"][0].update(id="made_up_kpi")))
    assert "tps_over_threshold" in message and "citizen_reports_open" in message and message.endswith(")")


def test_a_missing_simulation_file_is_named_where_it_was_looked_for(tmp_path: Path) -> None:
    """Following the production recipe (the config copied alone to /etc/citywall) said only
    'cannot read the file it names (FileNotFoundError)', not where it had looked."""
    path = write(tmp_path, lambda c: c.update(simulation="pekanbaru-simulation.yaml"))
    assert error_of(path) == f"{path}: simulation: file not found ({tmp_path / 'pekanbaru-simulation.yaml'})"


def test_relative_paths_resolve_next_to_the_config(tmp_path: Path) -> None:
    """A bare file name is looked up beside the config file, not in the shipped assets."""
    tree = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    tree["city"]["districts_geojson"] = "kecamatan.geojson"
    tree["simulation"] = "sim.yaml"
    (tmp_path / "sim.yaml").write_text(
        (DEFAULT_CONFIG.parent / "pekanbaru-simulation.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    assert error_of(path).endswith(f"city.districts_geojson: file not found ({tmp_path / 'kecamatan.geojson'})")
    (tmp_path / "kecamatan.geojson").write_bytes((DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson").read_bytes())
    config = load_config(path, environ={})
    assert config.districts_path() == tmp_path / "kecamatan.geojson"
    assert config.simulation.organization == "Pemerintah Kota Pekanbaru"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[" * 3_000 + b"]" * 3_000, "nested deeper than 32 levels"),
        (
            b"a: &a [x, x, x, x, x, x, x, x]\n" + b"".join(b"k%d: [*a, *a, *a, *a, *a, *a, *a, *a]\n" % i for i in range(70)),
            "more than 64 aliases",
        ),
        (b"stations: [" + b"1, " * 600_000 + b"]", "file is larger than 1024 KB"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"stations: [", "not valid YAML"),
    ],
    ids=["deep", "aliases", "large", "not-utf8", "broken"],
)
def test_a_simulation_file_has_the_config_files_limits(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "sim.yaml").write_bytes(content)
    message = error_of(write(tmp_path, lambda c: c.update(simulation=str(tmp_path / "sim.yaml"))))
    assert ": simulation: the file it names " in message and expected in message, message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "city.districts_geojson: file is not valid JSON"),
        ('{"type": "FeatureCollection", "features": []}', "city.districts_geojson: no Polygon or MultiPolygon feature"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nama": "A"}, '
            '"geometry": {"type": "Point", "coordinates": [100, 0]}}]}',
            "city.districts_geojson: feature 0: geometry Point, not a Polygon or MultiPolygon",
        ),
        ("[1, 2]", "city.districts_geojson: not a GeoJSON FeatureCollection"),
        (  # a file from another source names its districts otherwise: say what it has
            '{"type": "FeatureCollection", "features": ['
            '{"type": "Feature", "properties": {"NAMOBJ": "A", "WADMKK": "Kota Pasuruan"}, "geometry": {"type": "Polygon", '
            '"coordinates": [[[100, 0], [100.1, 0], [100.1, 0.1], [100, 0]]]}}]}',
            "city.districts_geojson: no Polygon or MultiPolygon feature with a 'nama' property"
            " (the first feature's properties: NAMOBJ, WADMKK)",
        ),
        (
            '{"type": "FeatureCollection", "features": ['
            '{"type": "Feature", "properties": {"nama": "A"}, "geometry": {"type": "Polygon", '
            '"coordinates": [[[100, 0], [100.1, 0], [100.1, 0.1], [100, 0]]]}},'
            '{"type": "Feature", "properties": {"NAMA": "B", "kode": "14.71.02"}, "geometry": {"type": "Polygon", '
            '"coordinates": [[[100.1, 0], [100.2, 0], [100.2, 0.1], [100.1, 0]]]}}]}',
            "city.districts_geojson: feature 1 has no 'nama' property (its properties: NAMA, kode)",
        ),
        (
            '{"type": "FeatureCollection", "features": ['
            '{"type": "Feature", "properties": {"nama": "Pariaman Tengah"}, "geometry": {"type": "Polygon", '
            '"coordinates": [[[100, -1], [100, -1], [100, -1], [100, -1]]]}}]}',
            "city.districts_geojson: districts without area: Pariaman Tengah (are the coordinates rounded?)",
        ),
    ],
    ids=[
        "not-json",
        "no-features",
        "points-only",
        "not-a-collection",
        "named-otherwise",
        "name-under-another-key",
        "rounded-to-nothing",
    ],
)
def test_unusable_geojson_is_a_config_error(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "bad.geojson").write_text(content, encoding="utf-8")
    message = error_of(write(tmp_path, lambda c: c["city"].update(districts_geojson=str(tmp_path / "bad.geojson"))))
    assert expected in message


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ({"district": "Atlantis", "lat": 0.5, "lon": 101.4}, "simulation.waste_sites.0.district: no district of that name"),
        ({"district": "Sail", "lat": 0.13, "lon": 117.5}, "simulation.waste_sites.0: lat 0.13, lon 117.5 is 1"),
    ],
)
def test_a_waste_site_is_in_a_district_of_the_city(tmp_path: Path, site: dict[str, Any], expected: str) -> None:
    """A TPS in a district the city lacks, or at another city's coordinates, passed check-config."""
    message = error_of(write(tmp_path, lambda c: c.update(simulation={"waste_sites": [{"name": "TPS", **site}]})))
    assert expected in message


def test_a_busy_day_the_mpp_is_closed_is_refused(tmp_path: Path) -> None:
    """A city whose MPP opens Saturday to Thursday kept the default busy days (Monday and
    Friday): Friday's busy target could never apply, and check-config said "ok"."""

    def edit(c: dict[str, Any]) -> None:
        c["mpp"].update(open_weekdays=["saturday", "sunday", "monday", "tuesday", "wednesday", "thursday"])
        c["mpp"].pop("busy_weekdays")

    assert "mpp: busy_weekdays friday: the MPP is not open that day (open_weekdays)" in error_of(write(tmp_path, edit))


def test_a_busy_day_target_below_a_normal_days_is_refused(tmp_path: Path) -> None:
    """The two targets swapped passed check-config; the tablet then held the busy days to the
    lower one."""
    message = error_of(write(tmp_path, lambda c: c["mpp"].update(permits_per_day=1000, permits_busy_day=700)))
    assert "mpp: permits_busy_day (700) is below permits_per_day (1000): a busy day's target is the higher one" in message


def test_no_busy_days_leaves_the_busy_target_alone(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, lambda c: c["mpp"].update(permits_busy_day=0, busy_weekdays=[])))
    assert (config.mpp.permits_per_day, config.mpp.permits_busy_day) == (700, 0)


@pytest.mark.parametrize("target", [500, -5])
def test_a_percentage_target_outside_0_to_100_is_refused(tmp_path: Path, target: int) -> None:
    """A KPI target of 500 % (a slip for 50) passed, and its pillar stood "bad" for ever."""

    def edit(c: dict[str, Any]) -> None:
        kpi = next(k for p in c["pillars"] for k in p["kpis"] if k.get("unit") == "%")
        kpi["target"] = target

    assert f"target {target} %: a percentage target lies between 0 and 100" in error_of(write(tmp_path, edit))


@pytest.mark.parametrize(
    ("location", "far_km"),
    [([-0.6265, 100.1196], 150), ([101.44406, 0.51374], 5_000)],  # Pariaman's; and lon, lat the wrong way round
)
def test_the_mpp_is_in_the_city(tmp_path: Path, location: list[float], far_km: float) -> None:
    """A config copied from another city kept that city's MPP, and the demo's queues were
    published from there, counted as outside the districts on feed health."""
    message = error_of(write(tmp_path, lambda c: c["mpp"].update(location=location)))
    told = message.split("mpp.location: ", 1)[1]
    prefix = f"lat {location[0]}, lon {location[1]} is "
    assert told.startswith(prefix) and told.endswith(" km outside the city's districts"), told
    assert float(told[len(prefix) :].split()[0]) > far_km


def _southern_tip() -> tuple[float, float]:
    """The city's southernmost corner (lat, lon), read from the shipped districts file."""
    doc = json.loads((DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson").read_text())
    corners = [
        (lat, lon)
        for feature in doc["features"]
        for polygon in (
            feature["geometry"]["coordinates"]
            if feature["geometry"]["type"] == "MultiPolygon"
            else [feature["geometry"]["coordinates"]]
        )
        for ring in polygon
        for lon, lat in ring
    ]
    return min(corners)


def test_a_site_outside_the_districts_or_in_another_district_is_named(tmp_path: Path) -> None:
    """The districts' extent plus 5 km let a gauge 2 km outside a small city through; a gauge
    that names one district but stands in another was counted under the other, unsaid."""
    lat, lon = _southern_tip()
    simulation = yaml.safe_load((DEFAULT_CONFIG.parent / "pekanbaru-simulation.yaml").read_text())
    station = simulation["stations"][0]
    other = next(s["district"] for s in simulation["stations"] if s["district"] != station["district"])

    def first_station(**change: Any) -> Path:
        def edit(c: dict[str, Any]) -> None:
            c["simulation"] = copy.deepcopy(simulation)
            c["simulation"]["stations"][0].update(change)

        return write(tmp_path, edit)

    far = error_of(first_station(lat=round(lat - 0.02, 6), lon=lon))  # 2.2 km south of the southernmost corner
    assert f"simulation.stations.0: lat {round(lat - 0.02, 6)}, lon {lon} is 2." in far, far
    assert far.endswith(" km outside the city's districts")
    load_config(first_station(lat=round(lat - 0.004, 6), lon=lon), environ={})  # 0.4 km off: a gauge on the far bank
    elsewhere = first_station(district=other)
    load_config(elsewhere, environ={})  # it runs: a gauge a few metres over a border is no broken config
    done = run_cli("check-config", str(elsewhere))
    assert done.returncode == 0, done.stderr
    told = f"simulation.stations.0: lat {station['lat']}, lon {station['lon']} lies in {station['district']}, not in {other}"
    assert f"{elsewhere}: warning: {told}" in done.stdout.splitlines()


def test_a_place_the_districts_lack_is_named(tmp_path: Path) -> None:
    def edit(c):
        c["simulation"] = {"stations": [{"code": "X-1", "name": "Pos", "district": "Atlantis", "lat": 0.5, "lon": 101.4}]}

    message = error_of(write(tmp_path, edit))
    assert "simulation.stations.0.district: no district of that name" in message
    assert "Atlantis" not in message.split(": ", 2)[-1]


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("city: [unclosed\n", encoding="utf-8")
    assert "not valid YAML" in error_of(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    assert "(top level): must be a mapping" in error_of(path)


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "absent.yaml") == f"{tmp_path / 'absent.yaml'}: file not found"


def test_an_installation_without_a_city_says_how_to_name_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pip-installed package's default is a path beside its code, where no config.yaml was
    installed: the error named that path and nothing else to do."""
    absent = tmp_path / "site-packages" / "config.yaml"
    monkeypatch.setattr("dashboard.config.DEFAULT_CONFIG", absent)
    monkeypatch.delenv("CITYWALL_CONFIG", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={})
    assert str(caught.value) == (
        f"{absent}: file not found (the default, read when neither --config nor CITYWALL_CONFIG names a"
        " file; an installed citywall has none of its own: name a city's config.yaml with either)"
    )


# ---------------------------------------------------------------------------------------
# environment overrides: CITYWALL_<SECTION>__<KEY>, validated like the file

GEOJSON = str(DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson")
SHIPPED_PILLAR_IDS = ["governance", "people", "economy", "environment", "living", "mobility"]

#: Every key of the config: the text put in its variable, and what the loaded config then holds
#: there (as JSON would show it), or a (part, value) pair when only a part is worth comparing.
#: Each differs from the shipped config, so a variable that is not applied fails its case.
LEAVES: dict[str, tuple[str, Any]] = {
    "city.name": ("Kota Uji", "Kota Uji"),
    "city.slug": ("uji", "uji"),
    "city.timezone": ("Asia/Makassar", "Asia/Makassar"),
    "city.timezone_label": ("WITA", "WITA"),
    "city.language": ("en", "en"),
    "city.districts_geojson": (GEOJSON, GEOJSON),
    "wall.columns": ("7", 7),  # 7 columns keep the shipped span (screens 2 to 9) a rectangle
    "wall.rows": ("5", 5),
    "wall.screen_width_px": ("3840", 3840),
    "wall.screen_height_px": ("2160", 2160),
    "wall.screen_width_mm": ("1000.5", 1000.5),
    "wall.screen_height_mm": ("560.25", 560.25),
    "wall.bezel_mm": ("1.25", 1.25),
    "wall.reload_at": ("04:30", "04:30:00"),
    "screens": ('{"24": ["clock"]}', ("24", ["clock"])),
    "spans": ("[]", []),
    "playlists": ('{"3": {"panels": ["clock", "kpis"], "every_s": 10}}', {"3": {"panels": ["clock", "kpis"], "every_s": 10}}),
    "feeds.mqtt.url": ("mqtt://127.0.0.1:1884", "mqtt://127.0.0.1:1884"),
    "feeds.mqtt.topics": ('["uji/#", "lapor/#"]', ["uji/#", "lapor/#"]),
    "feeds.mqtt.qos": ("0", 0),
    "feeds.mqtt.protocol": ("3.1.1", "3.1.1"),
    "feeds.mqtt.client_id": ("wall-7", "wall-7"),
    "feeds.mqtt.shared_group": ("ingest", "ingest"),
    "feeds.mqtt.member": ("2", "2"),
    "feeds.mqtt.session_expiry_s": ("600", 600),
    "feeds.mqtt.username": ("operator", "operator"),
    "feeds.mqtt.password": ("pw-from-env", "pw-from-env"),
    "feeds.mqtt.tls.ca_file": (A_FILE, A_FILE),  # the files must exist
    "feeds.mqtt.tls.cert_file": (A_FILE, A_FILE),
    "feeds.mqtt.tls.key_file": (A_FILE, A_FILE),
    "feeds.mqtt.tls.insecure": ("true", True),
    "feeds.mqtt.status_topic": ("uji/status", "uji/status"),
    "feeds.mqtt.keepalive_s": ("60", 60),
    "feeds.mqtt.heartbeat_s": ("7", 7),
    "feeds.mqtt.hold_ms": ("10", 10),
    "feeds.mqtt.gather_ms": ("5", 5),
    "feeds.redis.url": ("redis://127.0.0.1:6380/0", "redis://127.0.0.1:6380/0"),
    "feeds.redis.streams": ('["uji:events"]', ["uji:events"]),
    "feeds.redis.field": ("payload", "payload"),
    "feeds.redis.group": ("wall", "wall"),
    "feeds.redis.consumer": ("c1", "c1"),
    "feeds.redis.channels": ('["alerts"]', ["alerts"]),
    "feeds.max_payload_bytes": ("4096", 4096),
    "feeds.max_future_s": ("60", 60),
    "feeds.dead_letters_kept": ("100", 100),
    "feeds.zoneless_times": ("city", "city"),
    "store.url": ("redis://127.0.0.1:6380/1", "redis://127.0.0.1:6380/1"),
    "store.key_prefix": ("uji", "uji"),
    "history.series_points": ("720", 720),
    "history.series_age_h": ("48", 48),
    "history.resolved_days": ("3", 3),
    "history.open_incidents_max": ("5000", 5000),
    "history.reports_max": ("6000", 6000),
    "history.ticker_events": ("20", 20),
    "history.stations_max": ("300", 300),
    "history.sites_max": ("400", 400),
    "history.queues_max": ("50", 50),
    "history.kpis_max": ("60", 60),
    "thresholds.stale_after_s": ("120", 120),
    "thresholds.stale_after_family_s": (
        '{"drainage": 120}',
        {"incidents": 300, "waste": 300, "mpp": 900, "kpis": 900, "drainage": 120},
    ),
    "thresholds.drainage.waspada": ("1.0", 1.0),
    "thresholds.drainage.siaga": ("2.2", 2.2),
    "thresholds.drainage.awas": ("3.0", 3.0),
    "thresholds.drainage_stations": (
        '{"PKU-DR-01": {"waspada": 1, "siaga": 2, "awas": 3}}',
        {"PKU-DR-01": {"waspada": 1.0, "siaga": 2.0, "awas": 3.0}},
    ),
    "thresholds.drainage_range_m.low": ("-5", -5.0),
    "thresholds.drainage_range_m.high": ("30", 30.0),
    "thresholds.waste_full": ("0.9", 0.9),
    "thresholds.waste_report_sla_h": ("48", 48),
    "mpp.permits_per_day": ("500", 500),
    "mpp.permits_busy_day": ("900", 900),
    "mpp.busy_weekdays": ('["tuesday"]', ["tuesday"]),
    "mpp.services": ("100", 100),
    "mpp.agencies": ("12", 12),
    "mpp.name": ("MPP Kota Uji", "MPP Kota Uji"),
    "mpp.location": ("[0.5, 101.4]", [0.5, 101.4]),
    "mpp.opens": ("07:30", "07:30:00"),
    "mpp.closes": ("15:00", "15:00:00"),
    "mpp.open_weekdays": ('["tuesday", "saturday"]', ["tuesday", "saturday"]),  # the busy day above is open
    "mpp.closed_dates": ('["2026-12-25"]', ["2026-12-25"]),
    "pillars": (json.dumps(BASE["pillars"][::-1]), ("ids", SHIPPED_PILLAR_IDS[::-1])),
    "complaints": ("[]", []),
    "simulation.organization": ("Pemerintah Kota Uji", "Pemerintah Kota Uji"),
    "simulation.region": ("Sumatera Barat", "Sumatera Barat"),
    "simulation.places": ('{"Sukajadi": {"population_k": 51.5}}', ("Sukajadi.population_k", 51.5)),
    "simulation.stations": ("[]", []),
    "simulation.waste_sites": ("[]", []),
    "simulation.vehicles": ('["becak"]', ["becak"]),
    "simulation.destinations": ('["Pasar Bawah"]', ["Pasar Bawah"]),
    "simulation.sources": ('{"traffic": "atcs-uji"}', ("traffic", "atcs-uji")),
    "simulation.drainage_provider": ("BPBD Kota Uji", "BPBD Kota Uji"),
    "simulation.kpis": ('{"realisasi_pad": {"provider": "Bapenda Uji"}}', ("realisasi_pad.provider", "Bapenda Uji")),
    "server.host": ("0.0.0.0", "0.0.0.0"),
    "server.port": ("9000", 9000),
    "server.websocket": ("false", False),
    "server.poll_ms": ("500", 500),
    "server.api_docs": ("true", True),
    "server.allowed_origins": ('["https://wall.example"]', ["https://wall.example"]),
    "server.max_body_bytes": ("2048", 2048),
    "server.max_callback_bytes": ("4096", 4096),
    "server.max_response_bytes": ("131072", 131072),
    "server.max_connections_per_client": ("10", 10),
    "server.max_connections": ("20", 20),
    "server.screens_expected": ("12", 12),
    "server.heartbeat_s": ("30", 30),
    "operations.agencies": ('[{"id": "BPBD", "name": "BPBD Kota Uji"}]', [{"id": "BPBD", "name": "BPBD Kota Uji"}]),
    "operations.resolution_codes": ('[{"code": "done", "label": "Selesai"}]', [{"code": "done", "label": "Selesai"}]),
    "operations.sop": ('{"traffic": ["Cek CCTV"]}', ("traffic", ["Cek CCTV"])),
    "operations.sla": (
        '{"critical": {"acknowledge_min": 2, "resolve_min": 30}}',
        ("critical", {"acknowledge_min": 2, "resolve_min": 30}),
    ),
    "operations.presets": ("[]", []),
    "operations.takeovers": ("[]", []),
    "operations.shifts": ('[{"name": "siang", "start": "08:00"}]', [{"name": "siang", "start": "08:00:00"}]),
    "operations.audit_kept": ("500", 500),
    "operations.notes_kept": ("20", 20),
    "operations.history_kept": ("20", 20),
    "operations.push_max_min": ("60", 60),
    "operations.broadcast_max_min": ("120", 120),
    "auth.anonymous_read": ("true", True),
    "auth.session_ttl_h": ("8", 8),
    "auth.users_file": ("/etc/citywall/users.yaml", "/etc/citywall/users.yaml"),
    "auth.secure_cookies": ("true", True),
}


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key of a model tree that holds a value rather than a section: a section is a
    model, or a model or nothing (``tls``); lists and mappings are values, set whole."""
    paths = []
    for name, field in model.model_fields.items():
        union = typing.get_origin(field.annotation) in (typing.Union, types.UnionType)
        members = [a for a in typing.get_args(field.annotation) if a is not type(None)] if union else [field.annotation]
        section = members[0] if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel) else None
        paths += leaf_paths(section, f"{prefix}{name}.") if section else [f"{prefix}{name}"]
    return paths


def variable(path: str) -> str:
    return "CITYWALL_" + path.upper().replace(".", "__")


def value_at(config: Config, path: str) -> Any:
    node: Any = config
    for name in path.split("."):
        node = getattr(node, name) if node is not None else None  # feeds.mqtt.tls is None when unset
    return JSON_VALUE.dump_python(node, mode="json")


def part(value: Any, where: str) -> Any:
    """``ids``: the ids of a list; ``a.b``: keys into mappings."""
    if where == "ids":
        return [item["id"] for item in value]
    for key in where.split("."):
        value = value[key]
    return value


def test_the_cases_cover_every_key_of_the_model() -> None:
    """A key added to the config without a case here fails, so every key stays reachable."""
    paths = leaf_paths(Config)
    assert len(paths) == len(set(paths)) and len(paths) > 100
    assert sorted(LEAVES) == sorted(paths)


@pytest.fixture(scope="module")
def shipped() -> Config:
    return load_config(DEFAULT_CONFIG, environ={})


@pytest.fixture(scope="module")
def every_key_set() -> Config:
    """The shipped file with all the cases' variables set at once: one load (reading the file
    is most of a load's time), and the values are chosen to make a valid config together."""
    return load_config(DEFAULT_CONFIG, environ={variable(path): text for path, (text, _) in LEAVES.items()})


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_key_can_be_set_from_the_environment(path: str, shipped: Config, every_key_set: Config) -> None:
    _, expected = LEAVES[path]
    before = value_at(shipped, path)
    got = value_at(every_key_set, path)
    if isinstance(expected, tuple):
        where, expected = expected
        before, got = part(before, where), part(got, where)
    assert before != expected, "the case must change the shipped value"
    assert got == expected


@pytest.mark.parametrize(
    "path",
    [
        "wall.rows",
        "feeds.mqtt.tls.insecure",
        "server.allowed_origins",
        "thresholds.stale_after_family_s",
        "simulation.places",
        "pillars",
    ],
)
def test_one_variable_alone_sets_its_key(path: str, shipped: Config) -> None:
    """A few of the cases alone, one per kind of value, so no case relies on another's variable."""
    text, expected = LEAVES[path]
    got = value_at(load_config(DEFAULT_CONFIG, environ={variable(path): text}), path)
    if isinstance(expected, tuple):
        where, expected = expected
        got = part(got, where)
    assert got == expected


def test_names_are_read_without_regard_to_case() -> None:
    config = load_config(DEFAULT_CONFIG, environ={"citywall_wall__rows": "5", "CityWall_Server__Port": "9001"})
    assert (config.wall.rows, config.server.port) == (5, 9001)


def test_a_whole_section_as_json_merges_and_a_key_path_refines_it() -> None:
    environ = {"CITYWALL_WALL": '{"rows": 5, "bezel_mm": 2.0}', "CITYWALL_WALL__BEZEL_MM": "1.5"}
    config = load_config(DEFAULT_CONFIG, environ=environ)
    assert (config.wall.rows, config.wall.bezel_mm) == (5, 1.5)
    assert config.wall.columns == 6 and config.wall.screen_width_px == 1920, "the file's other keys stay"


def test_a_mapping_merges_key_by_key_with_the_file(tmp_path: Path) -> None:
    """``screens.1`` from the environment replaces the file's screen 1 (an integer key in
    YAML), leaves the other screens alone, and adds no second screen 1."""
    config = load_config(DEFAULT_CONFIG, environ={"CITYWALL_SCREENS__1": '["clock"]'})
    assert config.screens[1] == ["clock"]
    assert config.screens[4] == ["incident_queue"] and config.screens[24] == ["clock", "kpis"]
    assert sorted(config.screens) == [1, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]


def test_a_mapping_key_spelled_in_capitals_in_the_file_is_found_from_a_lower_case_name(tmp_path: Path) -> None:
    levels = {"waspada": 1.0, "siaga": 2.0, "awas": 3.0}
    path = write(tmp_path, lambda c: c["thresholds"].update(drainage_stations={"PKU-DR-01": levels}))
    config = load_config(path, environ={"CITYWALL_THRESHOLDS__DRAINAGE_STATIONS__PKU-DR-01__AWAS": "4.5"})
    assert config.thresholds.drainage_stations == {"PKU-DR-01": DrainageLevels(waspada=1.0, siaga=2.0, awas=4.5)}


def test_the_gauges_range_has_a_default_and_holds_every_stage(tmp_path: Path) -> None:
    assert (load_config(DEFAULT_CONFIG, environ={}).thresholds.drainage_range_m.model_dump()) == {"low": -20.0, "high": 50.0}
    upside_down = write(tmp_path, lambda c: c["thresholds"].update(drainage_range_m={"low": 5, "high": 2}))
    assert "thresholds.drainage_range_m: low must be below high" in error_of(upside_down)
    station = {"PKU-DR-01": {"waspada": 1.0, "siaga": 2.0, "awas": 80.0}}
    unreachable = write(tmp_path, lambda c: c["thresholds"].update(drainage_stations=station))
    assert "drainage_stations.PKU-DR-01: its levels (1 to 80 m) must lie within drainage_range_m (-20 to 50 m)" in error_of(
        unreachable
    )


def test_the_feeds_refuse_a_level_outside_the_configured_range(tmp_path: Path) -> None:
    from dashboard.runtime import build_normalizer
    from feeds.events import Reason, Rejected

    path = write(tmp_path, lambda c: c["thresholds"].update(drainage_range_m={"low": -5, "high": 8}))
    normalizer = build_normalizer(load_config(path, environ={}))
    gauge = {"id": "PKU-DR-07", "type": "FloodMonitoring", "observationDateTime": "2026-11-21T23:55:00+07:00"}
    assert normalizer.decode(json.dumps({**gauge, "currentLevel": 7.5})).level_m == 7.5
    with pytest.raises(Rejected) as refused:
        normalizer.decode(json.dumps({**gauge, "currentLevel": 9}))
    assert refused.value.reason is Reason.INVALID_VALUE
    assert "(-5 to 8 m, thresholds.drainage_range_m)" in refused.value.detail


def test_a_city_may_read_stamps_without_a_zone_as_its_local_time(tmp_path: Path) -> None:
    from dashboard.runtime import build_normalizer

    assert load_config(DEFAULT_CONFIG, environ={}).feeds.zoneless_times == "utc"
    path = write(tmp_path, lambda c: c["feeds"].update(zoneless_times="city"))
    normalizer = build_normalizer(load_config(path, environ={}))  # Pekanbaru: Asia/Jakarta
    alert = {"id": "A-1", "type": "Alert", "category": "traffic", "dateIssued": "2026-11-21T16:00:00"}
    assert normalizer.decode(json.dumps(alert)).observed_at.isoformat() == "2026-11-21T09:00:00+00:00"
    wrong = write(tmp_path, lambda c: c["feeds"].update(zoneless_times="wib"))
    assert "feeds.zoneless_times: Input should be 'utc' or 'city'" in error_of(wrong)


def test_lists_are_json_and_replace_the_files_list() -> None:
    config = load_config(
        DEFAULT_CONFIG,
        environ={
            "CITYWALL_SERVER__ALLOWED_ORIGINS": '["https://a.example", "https://b.example"]',
            "CITYWALL_FEEDS__MQTT__TOPICS": '["uji/#"]',
        },
    )
    assert config.server.allowed_origins == ["https://a.example", "https://b.example"]
    assert config.feeds.mqtt.topics == ["uji/#"]


def test_an_item_of_a_list_has_no_variable_of_its_own() -> None:
    message = error_of_env({"CITYWALL_PILLARS__0__ID": "x"})
    assert "pillars (from CITYWALL_PILLARS__0__ID): a list is set whole, as JSON (CITYWALL_PILLARS='[...]')" in message


def test_null_clears_an_optional_key_and_empty_counts_as_unset(tmp_path: Path) -> None:
    path = write(tmp_path, lambda c: c["feeds"]["mqtt"].update(url="mqtt://127.0.0.1:1883", client_id="from-file"))
    config = load_config(path, environ={"CITYWALL_FEEDS__MQTT__URL": "null", "CITYWALL_FEEDS__MQTT__CLIENT_ID": ""})
    assert config.feeds.mqtt.url is None
    assert config.feeds.mqtt.client_id == "from-file"
    assert load_config(path, environ={"CITYWALL_FOO__BAR": ""}).feeds.mqtt.url == "mqtt://127.0.0.1:1883", "empty: unset"


NAMED = [
    ("CITYWALL_MQTT_URL", "mqtt://127.0.0.1:1884", "feeds.mqtt.url", "mqtt://127.0.0.1:1884"),
    ("CITYWALL_REDIS_URL", "redis://127.0.0.1:6380/0", "feeds.redis.url", "redis://127.0.0.1:6380/0"),
    ("CITYWALL_STORE_URL", "redis://127.0.0.1:6380/1", "store.url", "redis://127.0.0.1:6380/1"),
    ("CITYWALL_LANGUAGE", "en", "city.language", "en"),
    ("CITYWALL_MQTT_CLIENT_ID", "wall-9", "feeds.mqtt.client_id", "wall-9"),
    ("CITYWALL_MQTT_SHARED_GROUP", "ingest", "feeds.mqtt.shared_group", "ingest"),
    ("CITYWALL_MQTT_MEMBER", "3", "feeds.mqtt.member", "3"),
    ("CITYWALL_AUTH_ANONYMOUS_READ", "true", "auth.anonymous_read", True),
]


@pytest.mark.parametrize(("name", "text", "path", "expected"), NAMED, ids=[n[0] for n in NAMED])
def test_the_short_names_from_before_still_work(name: str, text: str, path: str, expected: Any) -> None:
    group = {"CITYWALL_MQTT_SHARED_GROUP": "ingest"} if name == "CITYWALL_MQTT_MEMBER" else {}  # a member is one of a group
    assert value_at(load_config(DEFAULT_CONFIG, environ={**group, name: text}), path) == expected
    assert value_at(load_config(DEFAULT_CONFIG, environ={**group, name: ""}), path) != expected, "empty is unset"


def test_several_short_names_at_once() -> None:
    env = {
        "CITYWALL_MQTT_URL": "mqtt://127.0.0.1:1884",
        "CITYWALL_REDIS_URL": "redis://127.0.0.1:6380/0",
        "CITYWALL_STORE_URL": "redis://127.0.0.1:6380/1",
        "CITYWALL_LANGUAGE": "en",
    }
    config = load_config(DEFAULT_CONFIG, environ=env)
    assert config.feeds.mqtt.url == "mqtt://127.0.0.1:1884"
    assert config.feeds.redis.url == "redis://127.0.0.1:6380/0"
    assert config.store.url == "redis://127.0.0.1:6380/1" and config.store.backend == "redis"
    assert config.city.language == "en"


@pytest.mark.parametrize("reverse", [False, True], ids=["short-name-first", "key-path-first"])
def test_a_key_path_variable_wins_over_the_short_name_for_the_same_key(reverse: bool) -> None:
    pairs = [
        ("CITYWALL_STORE_URL", "redis://127.0.0.1:6380/1"),
        ("CITYWALL_STORE__URL", "redis://127.0.0.1:6380/2"),
        ("CITYWALL_MQTT_CLIENT_ID", "short"),
        ("CITYWALL_FEEDS", '{"mqtt": {"client_id": "section"}}'),
    ]
    config = load_config(DEFAULT_CONFIG, environ=dict(pairs[::-1] if reverse else pairs))
    assert config.store.url == "redis://127.0.0.1:6380/2"
    assert config.feeds.mqtt.client_id == "section"


def error_of_env(environ: dict[str, str]) -> str:
    return error_of(DEFAULT_CONFIG, environ)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"CITYWALL_WALL__COLUMNS": "six"},
            "wall.columns (from CITYWALL_WALL__COLUMNS): Input should be a valid integer, unable to parse string as an integer "
            "(got text)",
        ),
        (
            {"CITYWALL_WALL__COLUMNS": "40"},
            "wall.columns (from CITYWALL_WALL__COLUMNS): Input should be less than or equal to 16",
        ),
        ({"CITYWALL_WALL__COLUMNZ": "4"}, "wall.columnz (from CITYWALL_WALL__COLUMNZ): unknown key"),
        ({"CITYWALL_WALL": '{"colums": 4}'}, "wall.colums (from CITYWALL_WALL): unknown key"),
        ({"CITYWALL_FOO__BAR": "1"}, "foo (from CITYWALL_FOO__BAR): unknown key"),
        ({"CITYWALL_WALL_COLUMNS": "4"}, "CITYWALL_WALL_COLUMNS: not a known variable; a key path is spelled with __"),
        ({"CITYWALL_CITY__LANGUAGE": "fr"}, "city.language (from CITYWALL_CITY__LANGUAGE): Input should be 'id' or 'en'"),
        (
            {"CITYWALL_SERVER__ALLOWED_ORIGINS": "https://a.example"},
            "server.allowed_origins (from CITYWALL_SERVER__ALLOWED_ORIGINS): not valid JSON",
        ),
        (
            {"CITYWALL_SERVER__ALLOWED_ORIGINS": '"https://a.example"'},
            "server.allowed_origins (from CITYWALL_SERVER__ALLOWED_ORIGINS): Input should be a valid list (got text)",
        ),
        (
            {"CITYWALL_THRESHOLDS__DRAINAGE__AWAS": "1.0"},
            "thresholds.drainage (with CITYWALL_THRESHOLDS__DRAINAGE__AWAS): levels must rise",
        ),
        (
            {"CITYWALL_SCREENS__25": '["clock"]'},
            "screens.25 (from CITYWALL_SCREENS__25): screen 25 is outside the 6x4 wall (screens 1-24)",
        ),
        ({"CITYWALL_WALL__ROWS": "2"}, "operations.presets.0.screens.16: screen 16 is outside the wall (1-12)"),
    ],
    ids=[
        "type",
        "range",
        "unknown-key",
        "unknown-key-in-json",
        "unknown-section",
        "single-underscore",
        "literal",
        "not-json",
        "json-of-the-wrong-kind",
        "section-check",
        "cross-section-check",
        "file-value-now-outside",
    ],
)
def test_a_bad_environment_value_names_the_key_the_variable_and_the_reason(environ: dict[str, str], expected: str) -> None:
    assert expected in error_of_env(environ)


def test_other_prefixed_variables_are_left_alone() -> None:
    environ = {
        "CITYWALL_CONFIG": "/nowhere.yaml",
        "CITYWALL_SECRET_KEY": "k",
        "CITYWALL_CHROMIUM": "chromium",
        "CITYWALL_WORKERS": "2",
        "CITYWALL_STRICT_WORDS": "1",
        "OTHER__WALL__COLUMNS": "2",
    }
    assert load_config(DEFAULT_CONFIG, environ=environ).wall.columns == 6


def test_check_config_reads_the_environment(tmp_path: Path) -> None:
    """The same rules hold in a real process started with the variables set."""
    env = {**os.environ, "CITYWALL_WALL__ROWS": "5", "CITYWALL_CITY__NAME": "Kota Uji"}
    done = run_cli("check-config", str(DEFAULT_CONFIG), env=env)
    assert done.returncode == 0, done.stderr
    assert "ok (Kota Uji, 15 kecamatan, 6x5 wall" in done.stdout
    done = run_cli("check-config", str(DEFAULT_CONFIG), env={**os.environ, "CITYWALL_WALL__COLUMNS": "five"})
    assert done.returncode == 2
    prefix = f"citywall: config error: {DEFAULT_CONFIG}: wall.columns (from CITYWALL_WALL__COLUMNS): "
    assert done.stderr.strip().startswith(prefix)
    assert "five" not in done.stderr
    # another file: the error was blamed on the default one, loaded before the file asked for
    other = write(tmp_path, lambda c: c["city"].update(name="Kota Lain"))
    done = run_cli("check-config", str(other), env={**os.environ, "CITYWALL_WALL__COLUMNS": "five"})
    assert done.stderr.strip().startswith(f"citywall: config error: {other}: wall.columns (from CITYWALL_WALL__COLUMNS): ")
    assert run_cli("check-config", str(other)).stdout.startswith(f"{other}: ok (Kota Lain, 15 kecamatan, 6x4 wall")


def test_config_env_var_selects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, lambda c: c["city"].update(name="Kota Pariaman", slug="pariaman"))
    monkeypatch.setenv("CITYWALL_CONFIG", str(path))
    assert load_config().city.name == "Kota Pariaman"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], capture_output=True, text=True, timeout=60, env=env)


def test_check_config_ok() -> None:
    done = run_cli("check-config", str(DEFAULT_CONFIG))
    assert done.returncode == 0, done.stderr
    assert "ok (Kota Pekanbaru, 15 kecamatan, 6x4 wall" in done.stdout


def test_check_config_warns_when_features_of_one_name_make_one_district(tmp_path: Path) -> None:
    """Joining them is by design (a mainland and its islets), but a feature copied and left
    unrenamed joined two kecamatan into one, and check-config said ok."""
    doc = json.loads((DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson").read_text())
    doc["features"][1]["properties"]["nama"] = doc["features"][0]["properties"]["nama"]
    (tmp_path / "districts.geojson").write_text(json.dumps(doc))
    path = write(tmp_path, lambda c: c["city"].update(districts_geojson="districts.geojson") or c.pop("simulation"))
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{path}: ok (Kota Pekanbaru, 14 kecamatan, ")
    name = doc["features"][0]["properties"]["nama"]
    assert f"{path}: warning: city.districts_geojson: features of one name make one district: {name}" in lines


def test_check_config_warns_of_boundaries_without_their_licence(tmp_path: Path) -> None:
    """The README asks for the data's licence file beside the boundaries; a folder without one
    passed with "ok"."""
    boundaries = tmp_path / "districts.geojson"
    boundaries.write_bytes((DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson").read_bytes())
    path = write(tmp_path, lambda c: c["city"].update(districts_geojson="districts.geojson") or c.pop("simulation"))
    warning = (
        f"{path}: warning: city.districts_geojson: no licence file beside it (a name starting LICENSE, LICENCE or"
        " COPYING): the boundaries' terms go with every copy of them"
    )
    assert warning in run_cli("check-config", str(path)).stdout.splitlines()
    (tmp_path / "LICENCE-boundaries.txt").write_text("MIT", encoding="utf-8")
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    assert "licence" not in done.stdout
    assert "licence" not in run_cli("check-config", str(DEFAULT_CONFIG)).stdout  # the shipped boundaries have theirs


def test_check_config_warns_when_no_agency_can_be_assigned(tmp_path: Path) -> None:
    """A new city left without operations.agencies passed with 'ok', and its console's assign
    offered nobody. It still runs (a wall can be watched without a desk), with a warning."""
    path = write(tmp_path, lambda c: c["operations"].update(agencies=[]))
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.splitlines()[1]
        == f"{path}: warning: operations.agencies is empty: operators cannot assign an incident to anyone"
    )
    assert "warning" not in run_cli("check-config", str(DEFAULT_CONFIG)).stdout


def test_the_demo_and_serve_say_check_configs_warnings_as_they_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wall with no agencies, or twelve blank screens, started without a word: only
    check-config said so, and a city's IT person runs the demo, not check-config. ``serve``
    leaves out the warning about the simulator's topics, which only the demo publishes on."""
    from dashboard.cli import _print_urls

    def edit(tree: dict[str, Any]) -> None:
        tree["operations"]["agencies"] = []
        tree["feeds"]["mqtt"]["topics"] = ["elsewhere/#"]

    config = load_config(write(tmp_path, edit), environ={})
    _print_urls(config, "127.0.0.1", 8050, mqtt_url="mqtt://127.0.0.1:1883")
    demo = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  warning  ")]
    _print_urls(config, "127.0.0.1", 8050)
    serve = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  warning  ")]
    agencies = "  warning  operations.agencies is empty: operators cannot assign an incident to anyone"
    assert [line.split(" (")[0] for line in demo] == [agencies, "  warning  feeds.mqtt.topics"]
    assert serve == [agencies]
    _print_urls(load_config(environ={}), "127.0.0.1", 8050, mqtt_url="mqtt://127.0.0.1:1883")
    assert "warning" not in capsys.readouterr().out


def test_check_config_warns_of_another_citys_names_and_topics_left_in(tmp_path: Path) -> None:
    """A config copied from another city and half edited kept "BPBD Kota Pariaman" in the
    console and its complaint app's topics under pariaman/, and check-config said ok."""

    def edit(tree: dict[str, Any]) -> None:
        tree["operations"]["agencies"][0]["name"] = "BPBD Kota Pariaman"
        tree["mpp"]["name"] = "Mal Pelayanan Publik Kota Pariaman"
        tree["complaints"][0]["topics"] = ["pariaman/lapor/#"]

    path = write(tmp_path, edit)
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        f"{path}: warning: mpp.name, operations.agencies.0.name name Kota Pariaman, not Kota Pekanbaru (city.name):"
        " copied from another city's config?",
        f"{path}: warning: complaints.0.topics: pariaman/lapor/# not under pekanbaru/, where the city's other feeds"
        " arrive: copied from another city's config?",
    ]


@pytest.mark.parametrize(
    ("city", "agency", "warned"),
    [
        ("kota pekanbaru", "Kantor Imigrasi Kota Pekanbaru", False),  # the city's name in lower case
        ("PEKANBARU", "BPBD Kota Pekanbaru", False),
        ("Kota Pekanbaru", "Dinas Kabupaten Kampar", True),
        ("Kota Administrasi Jakarta Selatan", "Suku Dinas Kota Administrasi Jakarta Selatan", False),
        ("Kota Administrasi Jakarta Selatan", "Suku Dinas Kota Administrasi Jakarta Timur", True),
    ],
)
def test_another_citys_name_is_told_apart_from_the_citys_own(tmp_path: Path, city: str, agency: str, warned: bool) -> None:
    """Case, a "Kota Administrasi" prefix and a KPI that names a national programme ("Kota
    Layak Anak") are no other city."""
    from dashboard.config_warnings import _other_city_warnings

    def edit(tree: dict[str, Any]) -> None:
        tree["city"]["name"] = city
        tree["operations"]["agencies"][0]["name"] = agency
        tree["pillars"][0]["kpis"][0]["name"] = {"id": "Kota Layak Anak", "en": "Child-friendly city"}
        for tenant in tree["mpp"].get("agencies", []):
            tenant["office"] = tenant["office"].replace("Kota Pekanbaru", city)

    said = _other_city_warnings(load_config(write(tmp_path, edit), environ={}))
    keys = [key for line in said for key in line.split(" name ")[0].split(", ")]
    assert ("operations.agencies.0.name" in keys) is warned, said
    assert not [key for key in keys if key.startswith("pillars")], said


def test_a_zone_with_daylight_saving_is_judged_by_either_of_its_offsets() -> None:
    """Pacific/Auckland is UTC+13 in its summer (December) and UTC+12 in its winter. Districts
    at 140 degrees east keep a sun time of UTC+9.3: 3.7 hours from the summer offset, 2.7 from
    the winter one, within the three allowed. Judged by today's offset, the check passed or
    failed with the season; at 100 degrees east (UTC+6.7) both are too far."""
    from dashboard.config import _check_zone

    shipped = load_config(environ={})
    auckland = shipped.model_copy(update={"city": shipped.city.model_copy(update={"timezone": "Pacific/Auckland"})})
    _check_zone(auckland, [140.0], "config.yaml")  # no error
    with pytest.raises(ConfigError, match=r"^config\.yaml: city\.timezone: Pacific/Auckland is UTC\+1[23], but"):
        _check_zone(auckland, [100.0], "config.yaml")


def test_check_config_warns_of_another_citys_boundaries(tmp_path: Path) -> None:
    """A config copied from Pekanbaru to Pasuruan, its name changed and its map not, passed
    with "ok": the wall showed "Kota Pasuruan" over Pekanbaru's fifteen kecamatan."""
    path = write(tmp_path, lambda c: c["city"].update(name="Kota Pasuruan"))
    done = run_cli("check-config", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        f"{path}: warning: city.districts_geojson: its districts say they lie in Kota Pekanbaru, not in Kota Pasuruan "
        "(city.name): another city's boundaries?"
    )
    # and the MPP's offices still named after the first city (the first six are named)
    offices = [f"mpp.agencies.{i}.office" for i, a in enumerate(load_config(path).mpp.agencies) if "Kota Pekanbaru" in a.office]
    assert len(offices) > 6
    assert done.stdout.splitlines()[2:] == [
        f"{path}: warning: {', '.join(offices[:6])} name Kota Pekanbaru, not Kota Pasuruan (city.name):"
        " copied from another city's config?"
    ]
    spelled_otherwise = write(tmp_path, lambda c: c["city"].update(name="PEKANBARU"))
    assert "warning" not in run_cli("check-config", str(spelled_otherwise)).stdout


def test_check_config_takes_its_file_as_every_command_does(tmp_path: Path) -> None:
    """``check-config --config PATH`` was refused ("unrecognized arguments") where every other
    command takes ``--config``."""
    done = run_cli("check-config", "--config", str(DEFAULT_CONFIG))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{DEFAULT_CONFIG}: ok (Kota Pekanbaru")
    other = write(tmp_path, lambda c: None)
    done = run_cli("check-config", str(DEFAULT_CONFIG), "--config", str(other))
    assert done.returncode == 2
    assert "give the config file once" in done.stderr


def test_check_config_warns_of_a_screen_that_shows_nothing(tmp_path: Path) -> None:
    """A 4 x 3 wall whose screens list left screen 5 out passed with "ok": the LCD stayed
    black, which on a wall reads as a dead screen. It may be meant (a CCTV input), so it
    is a warning that names the screens."""

    def edit(c: dict[str, Any]) -> None:
        c["wall"].update(columns=4, rows=3)
        c["screens"] = {1: ["clock", "kpis"], 4: ["incident_queue"], 8: ["drainage"], 9: ["mpp"], 10: []}
        c["spans"] = [{"panel": "incidents_map", "top_left": 2, "bottom_right": 7}]
        c["playlists"] = {11: {"panels": ["waste", "ticker"], "every_s": 20}}
        c["operations"].update(presets=[], takeovers=[])

    path = write(tmp_path, edit)
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [f"{path}: warning: screens 5, 10, 12 show nothing (no panel, span or playlist)"]


def test_check_config_warns_when_the_demo_publishes_where_ingest_does_not_listen(tmp_path: Path) -> None:
    """The shipped config copied for another city kept topics ["pekanbaru/#"]: the demo
    published contoh/..., ingest took only the complaint app's topic, and the wall stayed
    empty while check-config said "ok". Real feeds may use any topics, so it warns."""
    path = write(tmp_path, lambda c: c["city"].update(slug="contoh"))
    done = run_cli("check-config", str(path))
    assert done.returncode == 0, done.stderr
    missed = ", ".join(f"contoh/{t}" for t in ("incidents", "drainage", "waste", "reports", "mpp", "kpi"))
    assert done.stdout.splitlines()[1:] == [
        f"{path}: warning: feeds.mqtt.topics (pekanbaru/#) take none of {missed}, where `citywall demo` publishes:"
        " its wall would stay empty (leave topics out for contoh/#)"
    ]


def test_check_config_fails_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, lambda c: c["screens"].update({25: ["clock"]}))
    done = run_cli("check-config", str(path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"citywall: config error: {path}: screens.25: screen 25 is outside the 6x4 wall (screens 1-24)"


@pytest.mark.parametrize("command", ["demo", "serve", "ingest"])
def test_start_up_stops_on_broken_config(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, lambda c: c["wall"].update(colums=6))
    done = run_cli(command, "--config", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("wall.colums: unknown key (did you mean columns?)")
    assert done.stdout == ""


def test_every_pillar_icon_is_drawn_by_the_tablet() -> None:
    """The config accepts exactly the icons the tablet has a glyph for."""
    from dashboard.city_config import PILLAR_ICONS
    from layouts.mayor.kpis import ICONS

    assert set(PILLAR_ICONS) == set(ICONS)
    css = (DEFAULT_CONFIG.parent / "assets" / "tablet.css").read_text(encoding="utf-8")
    assert [i for i in PILLAR_ICONS if f'.tb-icon[data-icon="{i}"]' not in css] == []


def _city(key: str, value: Any) -> Any:
    return lambda tree: tree["city"].__setitem__(key, value)


def _top(key: str, value: Any) -> Any:
    return lambda tree: tree.__setitem__(key, value)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (_city("timezone", "Asia"), "city.timezone: unknown time zone 'Asia'"),  # a folder of zones
        (_city("timezone", "a" * 300), "city.timezone: unknown time zone"),  # a name too long for the disk
        (_city("districts_geojson", "~nosuchuser/districts.geojson"), "city.districts_geojson: not a path this machine can open"),
        (_city("districts_geojson", "districts\0.geojson"), "city.districts_geojson: not a path this machine can open"),
        (_city("districts_geojson", "/dev/zero"), "city.districts_geojson: not a regular file"),
        (_top("simulation", "sim\0.yaml"), "simulation: cannot read the file it names (ValueError)"),
        (_top("simulation", "/dev/zero"), "simulation: the file it names is refused: not a regular file"),
    ],
)
def test_a_name_no_file_can_have_is_one_line_naming_its_key(tmp_path: Path, edit: Any, expected: str) -> None:
    """Each of these was a traceback (IsADirectoryError, OSError, RuntimeError, ValueError),
    and /dev/zero was read for ever."""
    assert expected in error_of(write(tmp_path, edit))


def test_a_config_file_that_is_a_device_is_refused_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(Path("/dev/zero"), environ={})
    assert str(caught.value) == "/dev/zero: not a regular file"


@pytest.mark.timeout(30)
def test_a_config_file_that_is_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as caught:
        load_config(fifo, environ={})
    assert str(caught.value) == f"{fifo}: not a regular file"


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["thresholds"].update(waste_full=float("nan")), "thresholds.waste_full"),
        (lambda c: c["mpp"].update(location=[0.5, float("inf")]), "mpp.location.1"),
    ],
)
def test_no_number_of_the_config_is_nan_or_infinite(tmp_path: Path, edit: Any, key: str) -> None:
    assert f"{key}: Input should be a finite number" in error_of(write(tmp_path, edit))


def test_the_old_second_sla_table_stops_start_up_saying_where_the_slas_are(tmp_path: Path) -> None:
    """The incident SLAs were in two tables, and the tablet and the shift report disagreed."""
    path = write_config(tmp_path, lambda tree: tree["thresholds"].update(incident_sla_min={"critical": 30}))
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert str(refused.value) == (
        f"{path}: thresholds: incident_sla_min is gone: set each severity's resolve_min in operations.sla"
    )


def test_an_mpp_that_closes_before_it_opens_stops_start_up(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda tree: tree["mpp"].update(opens="16:00", closes="08:00"))
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert str(refused.value) == f"{path}: mpp: closes (08:00) must be after opens (16:00)"


@pytest.mark.parametrize(
    ("written", "opens", "closes"),
    [("8:00", time(8), time(15, 30)), ("07:30", time(7, 30), time(15, 30)), ('"8:00"', time(8), time(15, 30))],
)
def test_an_opening_time_is_read_as_people_write_it(tmp_path: Path, written: str, opens: time, closes: time) -> None:
    """Unquoted, YAML 1.1 read 8:00 as the number 480 (base 60), which became 00:08 UTC without a
    word; 07:30 beside 15:30 stopped start-up with a traceback."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace('opens: "08:00"', f"opens: {written}").replace('closes: "16:00"', "closes: 15:30")
    text = text.replace('{name: pagi, start: "07:00"}', "{name: pagi, start: 7:00}")
    path = tmp_path / "config.yaml"
    text = text.replace(" assets/", f" {DEFAULT_CONFIG.parent}/assets/").replace(
        "simulation: pekanbaru", f"simulation: {DEFAULT_CONFIG.parent}/pekanbaru"
    )
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={})
    assert (config.mpp.opens, config.mpp.closes) == (opens, closes)
    assert config.operations.shifts[0].start == time(7)


def test_a_time_of_day_written_as_a_number_or_unquoted_anywhere_is_read_right(tmp_path: Path) -> None:
    """A number was read as seconds past midnight and refused for an offset it never had; the
    wall's reload time missed the unquoted form the other times took."""
    path = write_config(tmp_path, lambda tree: tree["mpp"].update(opens=800))
    assert error_of(path) == f'{path}: mpp.opens: a time of day is written "08:00"'
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace('reload_at: "03:00"', "reload_at: 3:30")
    assert "reload_at: 3:30" in text
    text = text.replace(" assets/", f" {DEFAULT_CONFIG.parent}/assets/").replace(
        "simulation: pekanbaru", f"simulation: {DEFAULT_CONFIG.parent}/pekanbaru"
    )
    (tmp_path / "unquoted.yaml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "unquoted.yaml", environ={}).wall.reload_at == time(3, 30)


def test_a_time_of_day_with_an_offset_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, lambda tree: tree["mpp"].update(opens="08:00+07:00"))
    assert error_of(path) == f"{path}: mpp.opens: a time of day in city time takes no offset (write 08:00, not 08:00+07:00)"


@pytest.mark.parametrize(("zone", "label"), [("Asia/Makassar", "WITA"), ("Asia/Jayapura", "WIT"), ("Asia/Jakarta", "WIB")])
def test_the_time_zone_names_itself_unless_the_config_names_it(tmp_path: Path, zone: str, label: str) -> None:
    """A city in WITA left without a label was shown in 'WIB'."""

    def edit(tree: dict[str, Any]) -> None:
        tree["city"]["timezone"] = zone
        tree["city"].pop("timezone_label", None)

    assert load_config(write_config(tmp_path, edit), environ={}).city.timezone_label == label


@pytest.mark.parametrize(
    ("zone", "label", "own"),
    [
        ("Asia/Makassar", "WIB", "WITA"),
        ("Asia/Jakarta", "wita", "WIB"),
        ("Asia/Jayapura", "WITA", "WIT"),
        ("Asia/Pontianak", "WIT", "WIB"),
    ],
)
def test_an_indonesian_label_of_another_zone_is_refused(tmp_path: Path, zone: str, label: str, own: str) -> None:
    """A config copied from a WIB city (Pariaman's names its label) and moved to Asia/Makassar
    showed "20:36 WIB" on the clock, the ages and the report: a time an hour off to anyone
    who reads the label."""

    def edit(tree: dict[str, Any]) -> None:
        tree["city"].update(timezone=zone, timezone_label=label)

    message = error_of(write_config(tmp_path, edit))
    assert f"city: timezone_label {label!r} is not the label of {zone} ({own})" in message


def test_the_shipped_config_moved_to_another_zone_takes_that_zones_label() -> None:
    """The shipped config named its label (WIB), so a site that set only the zone (the
    README's step 3, or CITYWALL_CITY__TIMEZONE) kept WIB on a WITA clock."""
    assert load_config(environ={"CITYWALL_CITY__TIMEZONE": "Asia/Makassar"}).city.timezone_label == "WITA"


@pytest.mark.parametrize(
    ("zone", "label"), [("Asia/Makassar", "WITA"), ("Asia/Pontianak", "WIB"), ("Asia/Makassar", "Waktu Makassar")]
)
def test_a_label_that_fits_the_zone_or_is_the_citys_own_words_is_kept(tmp_path: Path, zone: str, label: str) -> None:
    def edit(tree: dict[str, Any]) -> None:
        tree["city"].update(timezone=zone, timezone_label=label)

    assert load_config(write_config(tmp_path, edit), environ={}).city.timezone_label == label


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("bbox", [101.323, 0.42039, 101.60535, 0.691], "the districts' own extent is used"),
        ("map_center", [0.513408, 101.447026], "the map centres on the districts of city.districts_geojson"),
    ],
)
def test_a_city_key_that_is_gone_is_named_with_why(tmp_path: Path, key: str, value: list[float], why: str) -> None:
    """Pekanbaru's bbox left in another city's config turned its district tagging off: every
    point fell outside it. The key is gone, and a config still holding it is told."""
    assert error_of(write(tmp_path, _city(key, value))).endswith(f": city: {key} is gone: {why}")


def test_an_ingest_member_without_a_shared_group_has_a_client_id_of_its_own() -> None:
    """The systemd unit names a member for every instance; with the shipped env file (no
    group) both members connected under one client id and the broker threw each off as the
    other came, 19 times in 10 s, while check-config said ok. Refusing the config instead
    stopped a site that runs one member and whose env file predates the group."""
    from feeds.mqtt import MqttAdapter

    config = load_config(environ={"CITYWALL_MQTT_MEMBER": "1", "CITYWALL_MQTT_URL": "mqtt://127.0.0.1:1883"})
    ids = {
        member: MqttAdapter(
            config.feeds.mqtt.model_copy(update={"member": member}), cast(Any, None), cast(Any, None)
        ).client_id.rsplit("-", 1)[-1]
        for member in ("1", "2")
    }
    assert ids == {"1": "1", "2": "2"}
    assert load_config(environ={}).feeds.mqtt.client_id == "citywall-ingest"
    done = run_cli("check-config", str(DEFAULT_CONFIG), env={**os.environ, "CITYWALL_MQTT_MEMBER": "1"})
    assert done.returncode == 0, done.stderr
    assert "warning: feeds.mqtt.member is set but shared_group is not: every ingest member takes every message" in done.stdout
    shipped = Path(__file__).resolve().parents[2] / "deploy" / "citywall.env"
    assert "CITYWALL_MQTT_SHARED_GROUP=ingest" in shipped.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["feeds"]["mqtt"].update(topics=["pekanbaru/#/x"]),
            "feeds.mqtt.topics: item 0 ('pekanbaru/#/x'): '#' must be a whole level, and the last",
        ),
        (
            lambda c: c["feeds"]["mqtt"].update(topics=["a/b+/c"]),
            "feeds.mqtt.topics: item 0 ('a/b+/c'): '+' must be a whole level",
        ),
        (
            lambda c: c["feeds"]["mqtt"].update(status_topic="citywall/#"),
            "feeds.mqtt.status_topic: 'citywall/#': a topic to publish to, without '+' or '#'",
        ),
        (lambda c: c["feeds"]["mqtt"].update(client_id=""), "feeds.mqtt.client_id: String should have at least 1 character"),
        (lambda c: c["feeds"]["mqtt"].update(shared_group="a/b"), "feeds.mqtt.shared_group: String should match pattern"),
        (
            lambda c: c["feeds"]["mqtt"].update(tls={"ca_file": "/nowhere/ca.pem"}),
            "feeds.mqtt.tls.ca_file: file not found (/nowhere/ca.pem)",
        ),
        (
            lambda c: c["feeds"]["redis"].update(url="redis://:Rahasia#2026@127.0.0.1:6379/0"),
            "feeds.redis.url: not a valid redis:// URL (a port or an option is not a number)",
        ),
        (
            lambda c: c["server"].update(allowed_origins=["https://wall.pekanbaru.go.id/"]),
            "server.allowed_origins: item 0 ('https://wall.pekanbaru.go.id/'): write it as https://host[:port]",
        ),
        (
            lambda c: c["server"].update(allowed_origins=["wall.pekanbaru.go.id"]),
            "server.allowed_origins: item 0 ('wall.pekanbaru.go.id'): write it as https://host[:port]",
        ),
        (
            lambda c: c["thresholds"].update(stale_after_family_s={"incidents": 0}),
            "thresholds.stale_after_family_s.incidents: Input should be greater than or equal to 1",
        ),
        (
            lambda c: c["operations"]["sla"]["critical"].update(acknowledge_min=60, resolve_min=5),
            "operations.sla.critical: acknowledge_min (60) is more than resolve_min (5)",
        ),
        (
            lambda c: c["operations"].update(sla={"critical": {"acknowledge_min": 5, "resolve_min": 60}}),
            "operations: sla: every severity needs its minutes; missing high, medium, low, informational",
        ),
        (lambda c: c["mpp"].update(agencies=-3), "mpp.agencies.count: Input should be greater than or equal to 0"),
        (lambda c: c["mpp"].update(agencies=100_000), "mpp.agencies.count: Input should be less than or equal to 500"),
        (lambda c: c["mpp"]["agencies"][0].update(counter=3), "mpp.agencies.tenants.0.counter: unknown key"),
        (lambda c: c["city"].update(name=""), "city.name: String should have at least 1 character"),
        (lambda c: c["screens"].update({"24": ["ticker"]}), "screens: screen 24 is listed twice (as 24 and '24')"),
    ],
    ids=[
        "hash-inside",
        "plus-inside",
        "status-wildcard",
        "no-client-id",
        "group-slash",
        "missing-ca",
        "redis-hash-in-password",
        "origin-slash",
        "origin-no-scheme",
        "stale-zero",
        "sla-swapped",
        "sla-partial",
        "tenants-negative",
        "tenants-huge",
        "tenant-typo",
        "no-city-name",
        "screen-twice",
    ],
)
def test_a_config_that_would_fail_later_is_refused_at_the_door(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    """Each passed check-config, then stopped ingest or start-up with a traceback, or showed
    something wrong without a word (found by setting up another city from the shipped file)."""
    message = error_of(write(tmp_path, edit))
    assert message.endswith(expected) or f": {expected}" in message, message


def test_a_family_left_out_keeps_its_own_staleness_limit(tmp_path: Path) -> None:
    """Setting ``incidents`` alone left the MPP stale after 60 s instead of its 900."""
    config = load_config(write(tmp_path, lambda c: c["thresholds"].update(stale_after_family_s={"incidents": 120})), environ={})
    assert [config.thresholds.stale_after(f) for f in ("incidents", "waste", "mpp", "kpis")] == [120, 300, 900, 900]


@pytest.mark.parametrize("target", [float("nan"), float("inf")])
def test_a_kpi_target_that_is_no_number_is_refused(tmp_path: Path, target: float) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["pillars"][0]["kpis"][0]["target"] = target

    assert "target: Input should be a finite number" in error_of(write(tmp_path, edit))


def test_check_config_warns_of_a_category_that_looks_like_a_slip(tmp_path: Path) -> None:
    """Valid, as a city may have categories of its own; but an SOP under ``natural_disaster``
    never showed (the feeds send ``naturalDisaster``), and a takeover on ``banjir`` never fired."""

    def edit(c: dict[str, Any]) -> None:
        c["operations"]["sop"]["natural_disaster"] = ["Kirim BPBD"]
        c["operations"]["takeovers"].append({"name": "banjir", "screen": 12, "kind": "incident", "category": "banjir"})
        c["operations"]["takeovers"].append({"name": "cuaca", "screen": 13, "kind": "incident", "category": "Weather"})

    path = write(tmp_path, edit)
    done = run_cli("check-config", str(path), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    warnings = [line.split(": warning: ", 1)[1] for line in done.stdout.splitlines() if ": warning: " in line]
    assert warnings == [
        "operations.sop.natural_disaster: the feeds send 'naturalDisaster'; this SOP applies to 'natural_disaster' only",
        "operations.takeovers.2.category: 'banjir' is neither an Alert category nor one with an SOP of its own:"
        " the rule may never fire",
        "operations.takeovers.3.category: 'Weather' is neither an Alert category nor one with an SOP of its own:"
        " the rule may never fire (did you mean 'weather'?)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty: a config needs at least the city and pillars sections"),
        ("# Kota Pasuruan, belum diisi\n", "the file is empty: a config needs at least the city and pillars sections"),
        ("- city\n- pillars\n", "(top level): must be a mapping of sections, got a list"),
    ],
    ids=["empty", "comments-only", "a-list"],
)
def test_a_file_with_no_sections_says_what_it_is(tmp_path: Path, text: str, expected: str) -> None:
    """An empty file was "must be a mapping of sections, got NoneType"."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert error_of(path) == f"{path}: {expected}"
