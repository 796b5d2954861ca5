"""Any city by config.yaml alone: the demo of each city shows that city, and only that city.

Three cities run as real ``citywall demo`` processes (through the shared ``citywall_proc``
helper, against a real Mosquitto, read by headless Chromium): Pekanbaru from the shipped
config, Pariaman from ``examples/pariaman/``, and a synthetic city this module writes itself
(five pillars with their own ids, a 2 x 2 wall, its own districts GeoJSON, a complaint app
and nothing else). For each the test checks that every simulated incident lies in one of the
city's districts, that no text of the other cities appears in the API or on any page (wall,
screens, tablet, PDF), that each pillar shows under its own name, that the MPP figures
follow the city's targets, and that a complaint from the city's app is counted.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import shapely
import yaml
from shapely.geometry import shape

from dashboard.config import Config, load_config
from dashboard.local_services import WALL_READY_JS as READY_JS
from tests.support.services import CITYWALL_CMD, REPO_ROOT, CitywallProcess, Mosquitto, free_port

PARIAMAN = REPO_ROOT / "examples" / "pariaman" / "config.yaml"

#: Text that belongs to one city only: none of it may appear anywhere in another city's demo.
MARKS: dict[str, tuple[str, ...]] = {
    "pekanbaru": (
        "Pekanbaru",
        "PEKANBARU",
        "Riau",
        "Sudirman",
        "Trans Metro",
        "Tata Kelola",
        "Mobilitas",
        "Marpoyan",
        "Rumbai",
        "Siak",
        "DPMPTSP",
    ),
    "pariaman": ("Pariaman", "PARIAMAN", "Sumatera Barat", "Smart Branding", "Smart Society", "Karan Aur"),
    "contoh": ("Kota Contoh", "CONTOH", "e-Aduan", "Distrik Alfa", "Distrik Delta", "Pilar Hijau", "Pilar Bahari"),
}

#: The synthetic city: four square districts somewhere no other city is.
SQUARES = {
    "Distrik Alfa": (115.00, -2.00),
    "Distrik Beta": (115.05, -2.00),
    "Distrik Gamma": (115.00, -1.95),
    "Distrik Delta": (115.05, -1.95),
}
CONTOH_PILLARS = [
    (
        "hijau",
        "Pilar Hijau",
        "Green Pillar",
        "leaf",
        [
            {
                "id": "tps_over_threshold",
                "name": {"id": "TPS hampir penuh", "en": "Waste sites nearly full"},
                "target": 1,
                "better": "lower",
            }
        ],
    ),
    (
        "layanan",
        "Pilar Layanan",
        "Service Pillar",
        "building",
        [{"id": "mpp_target_attainment", "name": {"id": "Capaian MPP", "en": "MPP attainment"}, "unit": "%", "target": 100}],
    ),
    (
        "warga",
        "Pilar Warga",
        "Citizens Pillar",
        "people",
        [
            {
                "id": "citizen_reports_open",
                "name": {"id": "Aduan terbuka", "en": "Open complaints"},
                "target": 10,
                "better": "lower",
            },
            {
                "id": "indeks_bahagia",
                "name": {"id": "Indeks bahagia", "en": "Happiness index"},
                "target": 70,
                "source": "message",
            },
        ],
    ),
    (
        "bahari",
        "Pilar Bahari",
        "Maritime Pillar",
        "heart",
        [{"id": "open_incidents", "name": {"id": "Insiden terbuka", "en": "Open incidents"}, "target": 8, "better": "lower"}],
    ),
    (
        "aman",
        "Pilar Aman",
        "Safety Pillar",
        "shield",
        [
            {
                "id": "tangkapan_ikan",
                "name": {"id": "Tangkapan ikan (ton)", "en": "Fish landed (t)"},
                "target": 12,
                "source": "message",
            }
        ],
    ),
]


def write_contoh(directory: Path) -> Path:
    """A city only this test knows: a config, its districts, a complaint app, no simulation data."""
    features = []
    for name, (lon, lat) in SQUARES.items():
        ring = [[lon, lat], [lon + 0.05, lat], [lon + 0.05, lat + 0.05], [lon, lat + 0.05], [lon, lat]]
        features.append({"type": "Feature", "properties": {"nama": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (directory / "distrik.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    config = {
        "city": {"name": "Kota Contoh", "slug": "contoh", "districts_geojson": "distrik.geojson"},
        "wall": {"columns": 2, "rows": 2},
        "screens": {1: ["clock", "kpis"], 2: ["incidents_map"], 3: ["incident_queue", "mpp"], 4: ["ticker", "feed_health"]},
        "mpp": {"permits_per_day": 90, "permits_busy_day": 130, "busy_weekdays": ["wednesday"], "agencies": 3},
        "pillars": [
            {"id": i, "name": {"id": n_id, "en": n_en}, "icon": icon, "kpis": kpis}
            for i, n_id, n_en, icon, kpis in CONTOH_PILLARS
        ],
        "complaints": [
            {
                "id": "e-aduan",
                "name": "e-Aduan",
                "topics": ["contoh/aduan/#"],
                "categories": {"Jalan Rusak": "roads", "Sampah Liar": "waste", "Saluran Mampet": "drainage"},
            }
        ],
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Demo:
    """One city's demo, running, and what the test knows of it from the config file alone."""

    key: str
    config: Config
    base: str
    mosquitto: Mosquitto
    proc: CitywallProcess

    def get(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.base + path, timeout=30) as resp:
            return resp.status, resp.read()

    def state(self) -> dict[str, Any]:
        status, body = self.get("/api/v1/state")
        assert status == 200
        return json.loads(body)

    def foreign_marks(self) -> list[str]:
        return [m for city, marks in MARKS.items() if city != self.key for m in marks]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0, proc: CitywallProcess | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, ValueError, KeyError) as exc:  # not up yet, or a section not there yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.25)
    log = proc.log_text()[-3000:] if proc is not None else ""
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})\n{log}")


@pytest.fixture(params=["pekanbaru", "pariaman", "contoh"])
def demo(
    request: pytest.FixtureRequest, tmp_path: Path, mosquitto: Mosquitto, citywall_proc: Callable[..., CitywallProcess]
) -> Iterator[Demo]:
    key = request.param
    path = {"pekanbaru": REPO_ROOT / "config.yaml", "pariaman": PARIAMAN}.get(key) or write_contoh(tmp_path)
    config = load_config(path, environ={})
    port = free_port()
    proc = citywall_proc(
        [*CITYWALL_CMD, "demo", "--config", str(path), "--port", str(port), "--mqtt-url", mosquitto.url, "--rate", "5"],
        env={"CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(f"{base}/healthz", timeout=60)
    city = Demo(key, config, base, mosquitto, proc)
    message_kpis = {k.id for _, k in config.kpis() if k.source == "message"}

    published: list[bool] = []

    def filled() -> bool:
        s = city.state()
        if not published and any(feed.get("connected") is True for feed in s["feeds"].values()):
            publish_simulated_alert(city)  # once ingest has subscribed: before, the broker keeps it for nobody
            published.append(True)
        valued = {k["id"] for b in s["kpis"]["pillars"].values() for k in b["kpis"] if k["value"] is not None}
        return (
            s["incidents"]["open_count"] > 0
            and bool(s["drainage"]["stations"])
            and bool(s["waste"]["containers"])
            and message_kpis <= valued
            and len(s["mpp"]["agencies"]) == config.mpp.agency_count
        )

    wait_for(f"{key}: the simulated city on /api/v1/state", filled, proc=proc)
    yield city


def districts_of(config: Config) -> dict[str, Any]:
    doc = json.loads(config.districts_path().read_text(encoding="utf-8"))
    return {f["properties"]["nama"]: shape(f["geometry"]) for f in doc["features"]}


def publish_complaint(city: Demo) -> tuple[str, str]:
    """One citizen complaint through the city's app, in a category the app maps to roads."""
    channel = city.config.complaints[0]
    category = next(name for name, family in channel.categories.items() if family == "roads")
    topic = channel.topics[0].replace("#", "test").replace("+", "test")
    name, polygon = next(iter(districts_of(city.config).items()))
    point = polygon.representative_point()
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    entity_id = f"urn:ngsi-ld:IssueReporting:TEST-{uuid.uuid4().hex[:10]}"
    payload = {
        "id": entity_id,
        "type": "IssueReporting",
        "category": category,
        "title": category,
        "comments": "Aspal berlubang di depan sekolah",
        "resolutionStatus": "Open",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
        "dateCreated": now,
        "observationDateTime": now,
        "dateModified": now,
    }
    publish(city, topic, payload)
    return entity_id, channel.name


def publish_simulated_alert(city: Demo) -> None:
    """One Alert made by the city's own simulator (its streets, a point in one of its
    districts), so the city has an open incident however its random start went: about one
    start in 30 of the simulated Pariaman had none, and a new one comes about every 8 minutes,
    so the wait below failed by chance."""
    from dashboard.simulation import simulator_for

    payload = next(simulator_for(city.config, rng_seed=1).unique_alerts(1, prefix="CITY"))
    publish(city, f"{city.config.city.slug}/incidents", payload)


def publish(city: Demo, topic: str, payload: dict[str, Any]) -> None:
    host, port = city.mosquitto.url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    client.connect(host, int(port))
    client.loop_start()
    try:
        client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def expected_mpp_target(config: Config) -> tuple[int, datetime]:
    local = datetime.now(config.city.tz)
    weekday = local.strftime("%A").lower()
    if weekday not in config.mpp.open_weekdays:  # closed: no target
        return 0, local
    busy = weekday in config.mpp.busy_weekdays
    return (config.mpp.permits_busy_day if busy else config.mpp.permits_per_day), local


NOT_READY_JS = """() => Array.from(document.querySelectorAll('[data-panel]')).filter(p => {
  const body = p.querySelector('.cw-panel-body');
  return !body || !body.innerText.trim() || (p.querySelector('.dash-graph') && !p.querySelector('.main-svg'))
    || (p.getAttribute('data-panel') !== 'clock' && p.getAttribute('data-updated-at') === '');
}).map(p => p.getAttribute('data-panel'))"""


def page_text(page: Any, base: str, path: str, ready: str = READY_JS) -> str:
    """Everything the page says once its panels have data (hidden text included)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(base + path, wait_until="domcontentloaded")
    try:
        page.wait_for_function(ready, timeout=120_000, polling=250)
    except PlaywrightTimeout:
        raise AssertionError(f"{path}: not ready; panels waiting: {page.evaluate(NOT_READY_JS)}") from None
    return page.evaluate("() => document.title + '\\n' + document.body.textContent")


def distinct_screens(config: Config) -> list[int]:
    """The first screen of each distinct content: a screen's panels, or a span's first screen."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for n in range(1, config.wall.screen_count + 1):
        span = config.span_at(n)
        content = (f"span:{span.panel}",) if span else tuple(config.screens.get(n, ()))
        if content and content not in seen:
            seen.add(content)
            out.append(n)
    return out


TABLET_READY = """() => {
  const cards = Array.from(document.querySelectorAll('.tb-card[data-pillar]'));
  return cards.length > 0 && cards.some(c => c.getAttribute('data-standing') !== 'unknown');
}"""


@pytest.mark.browser
def test_each_city_runs_as_itself(demo: Demo, page_factory: Callable[..., Any], tmp_path: Path) -> None:
    config, language = demo.config, demo.config.city.language
    state = demo.state()

    # every simulated incident lies in one of this city's districts, and none was counted outside
    polygons = districts_of(config)
    incidents = state["incidents"]["open"]
    assert incidents
    for inc in incidents:
        assert any(shapely.intersects_xy(p, inc["lon"], inc["lat"]) for p in polygons.values()), inc["id"]
        assert inc["kecamatan"] in polygons, inc
    assert set(state["incidents"]["by_kecamatan"]) <= set(polygons)
    assert all(feed["counts"].get("outside_districts", 0) == 0 for feed in state["feeds"].values()), state["feeds"]

    # each pillar under its own name, in the config's order
    wanted = [(p.id, p.label(language)) for p in config.pillars]
    assert [(i, b["name"]) for i, b in state["kpis"]["pillars"].items()] == wanted

    # MPP figures follow this city's targets
    target, local = expected_mpp_target(config)
    mpp = state["mpp"]
    assert mpp["target"] == target
    assert len(mpp["agencies"]) == config.mpp.agency_count
    if local.weekday() >= 5:
        assert mpp["served_today"] == 0
    else:
        assert 0 <= mpp["served_today"] <= 1.05 * target
        if local.hour >= 16:
            assert abs(mpp["served_today"] - target) <= 0.05 * target, (mpp["served_today"], target)

    # a complaint from the city's app is counted, as a road report under the app's name
    entity_id, channel = publish_complaint(demo)

    def counted() -> dict[str, Any] | None:
        s = demo.state()
        line = next((x for x in s["ticker"] if x["id"] == entity_id), None)
        return s if line and line["channel"] == channel and line["topic"] == "roads" else None

    after = wait_for("the complaint in the ticker", counted, timeout=30, proc=demo.proc)
    assert after["reports"]["open_by_channel"][channel] >= 1
    kpi = {k["id"]: k for b in after["kpis"]["pillars"].values() for k in b["kpis"]}
    if "citizen_reports_open" in kpi:
        assert kpi["citizen_reports_open"]["value"] == after["reports"]["open"] >= 1

    # no other city's text in the API ...
    foreign = demo.foreign_marks()
    api = json.dumps(after, ensure_ascii=False)
    assert [m for m in foreign if m in api] == []
    assert config.city.name in api

    # ... nor on any page: the whole wall, every screen, the tablet, the PDF
    wall = config.wall
    page = page_factory(wall.columns * 1920 // 4 + 40, wall.rows * 1080 // 4 + 40)
    texts = {"/wall?scale=0.25": page_text(page, demo.base, "/wall?scale=0.25")}
    names_on_wall = page.eval_on_selector_all(".cw-pillar-name", "els => els.map(e => e.textContent)")
    assert names_on_wall[: len(wanted)] == [name for _, name in wanted]
    # the wall holds every screen; each screen page is opened too, one per distinct content
    # (Pekanbaru's 24 screens repeat nine panel kinds)
    screen = page_factory()
    for n in distinct_screens(config):
        texts[f"/screen/{n}"] = page_text(screen, demo.base, f"/screen/{n}")
    tablet = page_factory(820, 1180)
    texts["/tablet"] = page_text(tablet, demo.base, "/tablet", TABLET_READY)
    cards = tablet.eval_on_selector_all(
        ".tb-card[data-pillar]", "els => els.map(e => [e.dataset.pillar, e.querySelector('.tb-card-name').textContent])"
    )
    assert [tuple(c) for c in cards] == wanted
    heading = tablet.text_content(".tb-h2") or ""
    assert (
        str(len(wanted)) in heading
        or {3: "tiga", 4: "empat", 5: "lima", 6: "enam", 7: "tujuh", 8: "delapan"}[len(wanted)] in heading.lower()
    )
    status, pdf = demo.get("/api/v1/summary.pdf")
    assert status == 200 and pdf.startswith(b"%PDF")
    (tmp_path / "summary.pdf").write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "summary.pdf"), "-"], capture_output=True, check=True, timeout=60
    )
    texts["summary.pdf"] = re.sub(r"\s+", " ", out.stdout.decode())
    for _, name in wanted:
        assert name in texts["summary.pdf"], name
    for where, text in texts.items():
        assert config.city.name in text or where.startswith("/screen/"), where
        leaked = [m for m in foreign if m in text]
        assert leaked == [], f"{where} shows another city's text: {leaked}"


def test_a_channel_complaint_counts_exactly_once(tmp_path: Path) -> None:
    """In process, with nothing else in the city: the app's report is one open road report,
    and the same message on an ordinary topic is only an "other" report."""
    from dashboard.ingest import CityState
    from dashboard.picture import build_picture
    from dashboard.runtime import build_normalizer
    from dashboard.store.memory import MemoryStore

    config = load_config(write_contoh(tmp_path), environ={})
    store = MemoryStore()
    state = CityState(store, config)
    normalizer = build_normalizer(config)
    now = datetime.now(UTC).isoformat()
    payload = {
        "id": "urn:ngsi-ld:IssueReporting:X-1",
        "type": "IssueReporting",
        "category": "Jalan Rusak",
        "comments": "Aspal amblas",
        "resolutionStatus": "Open",
        "location": {"type": "Point", "coordinates": [115.02, -1.98]},
        "dateCreated": now,
        "dateModified": now,
    }
    event = normalizer.decode(json.dumps(payload), "contoh/aduan/laporan")
    assert (event.topic, event.channel, event.kecamatan) == ("roads", "e-Aduan", "Distrik Alfa")  # type: ignore[attr-defined]
    state.accept(event)
    picture = build_picture(store, config)
    kpi = {k.id: k for b in picture.kpis.pillars.values() for k in b.kpis}
    assert kpi["citizen_reports_open"].value == 1
    assert picture.reports.open_by_channel == {"e-Aduan": 1}
    assert picture.reports.open_by_topic == {"roads": 1}

    plain = normalizer.decode(json.dumps(payload), "contoh/reports")
    assert (plain.topic, plain.channel) == ("other", "")  # type: ignore[attr-defined]


def test_points_outside_every_district_are_counted_and_shown(tmp_path: Path) -> None:
    from dashboard.layout_settings import view_settings
    from dashboard.runtime import build_normalizer
    from feeds.health import FeedStats
    from feeds.pipeline import Pipeline
    from layouts.panels import feed_health
    from layouts.picture import CityPicture
    from layouts.sections import Freshness

    config = load_config(write_contoh(tmp_path), environ={})

    class Sink:
        def accept(self, event: Any) -> bool:
            return True

        def reject(self, letter: Any) -> None:
            raise AssertionError(letter)

        def record_feed(self, *args: Any) -> None:
            pass

    stats = FeedStats("mqtt")
    pipeline = Pipeline(build_normalizer(config), Sink(), stats)  # type: ignore[arg-type]
    now = datetime.now(UTC).isoformat()
    for i, (lon, lat) in enumerate([(115.02, -1.98), (116.5, -1.98), (115.07, -1.93)]):
        alert = {
            "id": f"urn:ngsi-ld:Alert:o-{i}",
            "type": "Alert",
            "category": "traffic",
            "subCategory": "trafficJam",
            "severity": "low",
            "description": "uji",
            "location": {"type": "Point", "coordinates": [lon, lat]},
            "dateIssued": now,
            "dateModified": now,
        }
        assert pipeline.handle(json.dumps(alert).encode(), "contoh/incidents")
    snap = stats.snapshot()
    assert snap["outside_districts"] == 1 and snap["accepted"] == 3
    counts = {"received": snap["received"], "accepted": snap["accepted"], "outside_districts": snap["outside_districts"]}
    settings = view_settings(config)
    picture = CityPicture(
        freshness={"incidents": Freshness(updated_at=now, stale=False, stale_after_s=60)},
        feeds={"mqtt": {"connected": True, "counts": dict(counts)}},
    )
    rendered = json.dumps(feed_health.render(feed_health.view(picture, settings), settings), default=lambda o: o.to_plotly_json())
    assert '"data-outside": "1"' in rendered and "di luar wilayah" in rendered
