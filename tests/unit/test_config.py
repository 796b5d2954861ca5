"""A broken config.yaml stops start-up with one line: the file, the key path and the reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dashboard.config import DEFAULT_CONFIG, ConfigError, load_config
from tests.support.configs import write_config

BASE = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


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
        (lambda c: c["feeds"]["mqtt"].update(url="http://broker"), "feeds.mqtt.url: must start with mqtt:// or mqtts://"),
        (lambda c: c["store"].update(url="postgres://x"), "store.url: must be memory:// or redis://host:port/db"),
        (
            lambda c: c["thresholds"].update(drainage={"waspada": 2, "siaga": 1, "awas": 3}),
            "thresholds.drainage: levels must rise",
        ),
        (lambda c: c["pillars"][0]["kpis"][0].update(id="made_up_kpi"), "pillars.0.kpis.0: no derived KPI named 'made_up_kpi'"),
        (lambda c: c["pillars"][1].update(id="governance"), "pillars.1.id: the same id as pillars.0"),
        (lambda c: c.update(complaints=c["complaints"] * 2), "complaints.1.id: the same id as complaints.0"),
        (lambda c: c["pillars"][2].update(icon="unicorn"), "pillars.2.icon: Input should be 'building'"),
        (lambda c: c.update(pillars=c["pillars"][:2]), "pillars: List should have at least 3 items"),
        (lambda c: c.update(pillars=c["pillars"] * 2), "pillars: List should have at most 8 items"),
        (lambda c: c["city"].update(districts_geojson="nowhere.geojson"), "city.districts_geojson: file not found"),
        (lambda c: c["complaints"][0].update(topics=[]), "complaints.0: a complaint channel needs topics or streams"),
        (
            lambda c: c["complaints"][0]["categories"].update(Lainnya="parks"),
            "complaints.0.categories.Lainnya: Input should be 'drainage'",
        ),
        (lambda c: c["wall"].update(reload_at="25:99"), "wall.reload_at:"),
    ],
)
def test_broken_config_names_key_and_reason(tmp_path: Path, edit, expected: str) -> None:
    message = error_of(write(tmp_path, edit))
    assert expected in message


def test_relative_paths_resolve_next_to_the_config(tmp_path: Path) -> None:
    """A bare file name is looked up beside the config file, not in the shipped assets."""
    tree = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    tree["city"]["districts_geojson"] = "kecamatan.geojson"
    tree["simulation"] = "sim.yaml"
    (tmp_path / "sim.yaml").write_text((DEFAULT_CONFIG.parent / "pekanbaru-simulation.yaml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    assert "city.districts_geojson: file not found" in error_of(path)
    (tmp_path / "kecamatan.geojson").write_bytes((DEFAULT_CONFIG.parent / "assets" / "pekanbaru_kecamatan.geojson").read_bytes())
    config = load_config(path, environ={})
    assert config.districts_path() == tmp_path / "kecamatan.geojson"
    assert config.simulation.organization == "Pemerintah Kota Pekanbaru"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "city.districts_geojson: file is not valid JSON"),
        ('{"type": "FeatureCollection", "features": []}', "city.districts_geojson: no Polygon or MultiPolygon feature"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nama": "A"}, '
         '"geometry": {"type": "Point", "coordinates": [100, 0]}}]}', "city.districts_geojson: no Polygon or MultiPolygon"),
        ("[1, 2]", "city.districts_geojson: not a GeoJSON FeatureCollection"),
    ],
    ids=["not-json", "no-features", "points-only", "not-a-collection"],
)
def test_unusable_geojson_is_a_config_error(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "bad.geojson").write_text(content, encoding="utf-8")
    message = error_of(write(tmp_path, lambda c: c["city"].update(districts_geojson=str(tmp_path / "bad.geojson"))))
    assert expected in message


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
    assert "file not found" in error_of(tmp_path / "absent.yaml")


def test_environment_overrides() -> None:
    env = {"CITYWALL_MQTT_URL": "mqtt://127.0.0.1:1884", "CITYWALL_REDIS_URL": "redis://127.0.0.1:6380/0",
           "CITYWALL_STORE_URL": "redis://127.0.0.1:6380/1", "CITYWALL_LANGUAGE": "en"}
    config = load_config(DEFAULT_CONFIG, environ=env)
    assert config.feeds.mqtt.url == "mqtt://127.0.0.1:1884"
    assert config.feeds.redis.url == "redis://127.0.0.1:6380/0"
    assert config.store.url == "redis://127.0.0.1:6380/1" and config.store.backend == "redis"
    assert config.city.language == "en"


def test_bad_environment_override_is_named(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, lambda c: None), {"CITYWALL_STORE_URL": "mysql://x"})
    assert "store.url: must be memory://" in message


def test_config_env_var_selects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, lambda c: c["city"].update(name="Kota Pariaman", slug="pariaman"))
    monkeypatch.setenv("CITYWALL_CONFIG", str(path))
    assert load_config().city.name == "Kota Pariaman"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_check_config_ok() -> None:
    done = run_cli("check-config", str(DEFAULT_CONFIG))
    assert done.returncode == 0, done.stderr
    assert "ok (Kota Pekanbaru, 6x4 wall" in done.stdout


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
    assert done.stderr.strip().endswith("wall.colums: unknown key")
    assert done.stdout == ""


def test_every_pillar_icon_is_drawn_by_the_tablet() -> None:
    """The config accepts exactly the icons the tablet has a glyph for."""
    from dashboard.city_config import PILLAR_ICONS
    from layouts import tablet

    assert set(PILLAR_ICONS) == set(tablet.ICONS)
    css = (DEFAULT_CONFIG.parent / "assets" / "tablet.css").read_text(encoding="utf-8")
    assert [i for i in PILLAR_ICONS if f'.tb-icon[data-icon="{i}"]' not in css] == []
