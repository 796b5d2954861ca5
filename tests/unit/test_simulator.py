"""The city simulator: realistic, valid, reproducible, and cheap enough for load tests.

The demo and the load tests both stand on this traffic, so these tests pin what an operator
would notice (the MPP day, rain and flood levels, incident lifecycles) and what the rest of
the product relies on (every payload decodes to the right event; ids are stable; a seed
reproduces a run). They use a fake clock and no broker; the publisher through a real
mosquitto is tested in integration/test_simulator_publish.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely

from dashboard.config import load_config
from dashboard.picture import stage_of, station_levels
from dashboard.simulation import city_profile
from feeds.channels import ChannelRule
from feeds.city import MppHours
from feeds.geo import Districts
from feeds.normalize import Normalizer
from feeds.publish import publish_mqtt
from feeds.sim_catalog import INCIDENT_STAGES, REPORT_STAGES, TOPICS, TYPE_OF_TOPIC, WASPADA_M, WIB, iso_z
from feeds.sim_mpp import mpp_day_fraction
from feeds.simulator import CitySimulator
from tests.support.configs import write_config

REPO = Path(__file__).resolve().parents[2]
GEOJSON = REPO / "assets" / "pekanbaru_kecamatan.geojson"
#: The JSON-LD contexts an NGSI-LD payload of a Smart Data Model names, as the models publish them.
SDM_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
NGSI_LD_CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
#: Pekanbaru as the shipped config describes it; its complaint app is tested on its own
#: (``test_complaint_app_reports``), so the topic-by-topic checks here see the six plain topics.
PEKANBARU = dataclasses.replace(city_profile(load_config()), channels=())
AGENCIES, KPIS, STATIONS, TPS_SITES = PEKANBARU.agencies, PEKANBARU.kpis, PEKANBARU.stations, PEKANBARU.waste_sites

#: The eight Smart Data Models the product reads (DESIGN.md).
SDM_TYPES = {
    "Alert", "FloodMonitoring", "WaterObserved", "IssueReporting", "Open311_ServiceRequest",
    "WasteContainer", "QueueMonitor", "KeyPerformanceIndicator",
}  # fmt: skip
ALERT_CATEGORIES = {"traffic", "naturalDisaster", "weather", "environment", "health", "security", "agriculture"}
ALERT_SUBCATEGORIES = {
    "trafficJam",
    "carAccident",
    "carStopped",
    "hazardOnRoad",
    "pothole",
    "flood",
    "buildingFire",
    "forestFire",
    "robbery",
    "civilDisorder",
    "fallenPatient",
    "heartAttack",
    "airPollution",
    "rainfall",
}  # fmt: skip (all members of the SDM Alert subCategory enum)
SEVERITIES = {"informational", "low", "medium", "high", "critical"}
RESOLUTION = {"Assigned", "Closed.", "InProgress", "Open", "Unassigned"}
STANDINGS = {"veryGood", "good", "fair", "bad", "veryBad"}
KIND_OF_TOPIC = {
    "incidents": "incident",
    "drainage": "water_level",
    "waste": "waste_fill",
    "reports": "report",
    "mpp": "queue",
    "kpi": "kpi",
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

WEDNESDAY_14_WIB = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand, so every run sees the same times."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="module")
def districts() -> Districts:
    return Districts.load(GEOJSON)


def make_sim(districts: Districts, start: datetime = WEDNESDAY_14_WIB, seed: int | None = 7) -> tuple[CitySimulator, FakeClock]:
    clock = FakeClock(start)
    return CitySimulator(dataclasses.replace(PEKANBARU, districts=districts), rng_seed=seed, clock=clock), clock


def wib(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB).astimezone(UTC)


def time_of(payload: dict[str, Any]) -> str:
    """The message's own time, whichever NGSI form carries it."""
    value = payload.get("dateModified", payload.get("observationDateTime"))
    return value["value"]["@value"] if isinstance(value, dict) else value


# --------------------------------------------------------------------------------------
# the MPP day


@pytest.mark.parametrize(
    ("day", "target"),
    [(date(2025, 3, 12), 700), (date(2025, 3, 10), 1000), (date(2025, 3, 14), 1000), (date(2025, 3, 13), 700)],
    ids=["wednesday", "monday", "friday", "thursday"],
)
def test_mpp_day_sums_to_the_target_at_closing(districts: Districts, day: date, target: int) -> None:
    sim, _ = make_sim(districts)
    at_close = sim.mpp_total_served(wib(day, 16, 0))
    assert abs(at_close - target) <= 0.05 * target
    assert sim.mpp_total_served(wib(day, 23, 59)) == at_close  # the count holds until midnight


def test_mpp_is_zero_before_opening_and_at_weekends(districts: Districts) -> None:
    sim, _ = make_sim(districts)
    assert sim.mpp_total_served(wib(date(2025, 3, 12), 7, 59)) == 0
    assert sim.mpp_total_served(wib(date(2025, 3, 12), 0, 0)) == 0
    assert sim.mpp_total_served(wib(date(2025, 3, 16), 11, 0)) == 0  # Sunday
    assert sim.mpp_total_served(wib(date(2025, 3, 15), 11, 0)) == 0  # Saturday
    assert sim.mpp_total_served(wib(date(2025, 3, 12), 8, 30)) > 0


@pytest.mark.parametrize("day", [date(2025, 3, 12), date(2025, 3, 14)], ids=["wednesday", "friday"])
def test_mpp_curve_is_monotonic_per_agency(districts: Districts, day: date) -> None:
    sim, _ = make_sim(districts)
    previous = dict.fromkeys((a.office for a in AGENCIES), 0)
    for minute in range(24 * 60):
        served = sim.mpp_served(wib(day, 0) + timedelta(minutes=minute))
        assert all(served[k] >= previous[k] for k in served)
        previous = served


def test_mpp_has_two_peaks_and_a_longer_friday_break() -> None:
    wednesday, friday = date(2025, 3, 12), date(2025, 3, 14)

    def at(day: date, h: int, m: int = 0) -> float:
        return mpp_day_fraction(datetime(day.year, day.month, day.day, h, m, tzinfo=WIB))

    assert at(wednesday, 12, 0) == at(wednesday, 12, 59)  # istirahat
    assert at(friday, 11, 30) == at(friday, 13, 29)  # Jumat prayers
    assert at(wednesday, 11, 30) < at(wednesday, 12, 0)
    assert at(friday, 11, 30) == at(friday, 12, 15)
    morning = at(wednesday, 10, 30) - at(wednesday, 9, 30)
    early = at(wednesday, 9, 0) - at(wednesday, 8, 0)
    after_lunch = at(wednesday, 14, 15) - at(wednesday, 13, 15)
    late = at(wednesday, 16, 0) - at(wednesday, 15, 0)
    assert morning > early and after_lunch > late


def test_mpp_started_mid_day_shows_the_day_so_far(districts: Districts) -> None:
    """A demo started at 14:00 must show the same counts as one running since morning."""
    early, clock = make_sim(districts, wib(date(2025, 3, 12), 7, 0))
    early.initial_state()
    while clock.now < WEDNESDAY_14_WIB:
        clock.advance(minutes=5)
        early.next_messages()
    late, _ = make_sim(districts, WEDNESDAY_14_WIB)
    assert early.mpp_served(WEDNESDAY_14_WIB) == late.mpp_served(WEDNESDAY_14_WIB)
    mpp = [p for topic, p in late.initial_state() if topic == "mpp"]
    assert sum(p["ticketServed"]["value"] for p in mpp) == late.mpp_total_served() > 300


def test_mpp_queues_open_pause_and_close(districts: Districts) -> None:
    def statuses(sim: CitySimulator) -> dict[str, dict[str, Any]]:
        return {p["officeName"]["value"]: p for t, p in sim.initial_state() if t == "mpp"}

    day = date(2025, 3, 12)
    busy = statuses(make_sim(districts, wib(day, 10, 0))[0])
    assert len(busy) == 26 and all(p["serviceStatus"]["value"] == "Open" for p in busy.values())
    first = next(iter(busy.values()))
    assert first["officeName"]["value"].startswith("DPMPTSP")
    assert first["ticketServed"]["value"] == max(p["ticketServed"]["value"] for p in busy.values())
    assert first["ticketsToServe"]["value"] > 0 and first["averageWaitingTime"]["value"] > 0
    lunch = statuses(make_sim(districts, wib(day, 12, 30))[0])
    assert {p["serviceStatus"]["value"] for p in lunch.values()} == {"Suspended"}
    assert all(p["ticketsBeingServed"]["value"] == 0 for p in lunch.values())
    night = statuses(make_sim(districts, wib(day, 20, 0))[0])
    assert {p["serviceStatus"]["value"] for p in night.values()} == {"Closed"}
    assert all(p["ticketsToServe"]["value"] == 0 for p in night.values())


def test_mpp_serves_the_hours_and_days_the_config_opens_it(districts: Districts) -> None:
    """The simulated MPP served Monday to Friday, 08:00 to 16:00, whatever the config said: a
    city open 07:30-15:30 and on Saturdays showed a closed MPP on its own open Saturday and
    served half an hour past its own closing, against its chart's axis."""
    config = load_config()
    mpp = config.mpp.model_copy(
        update={
            "opens": time(7, 30),
            "closes": time(15, 30),
            "open_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"],
            "closed_dates": [date(2025, 3, 13)],  # a holiday on a Thursday
        }
    )
    profile = city_profile(config.model_copy(update={"mpp": mpp}))
    assert profile.mpp_hours == MppHours(450, 930, frozenset(range(6)), frozenset({date(2025, 3, 13)}))
    wednesday, saturday = date(2025, 3, 12), date(2025, 3, 15)

    def status_at(moment: datetime) -> set[str]:
        sim = CitySimulator(dataclasses.replace(profile, districts=districts, channels=()), rng_seed=7, clock=FakeClock(moment))
        return {p["serviceStatus"]["value"] for t, p in sim.initial_state() if t == "mpp"}

    assert status_at(wib(wednesday, 7, 45)) == {"Open"}
    assert status_at(wib(wednesday, 15, 40)) == {"Closed"}
    assert status_at(wib(saturday, 10, 0)) == {"Open"}
    assert status_at(wib(date(2025, 3, 13), 10, 0)) == {"Closed"}, "a closed date the config lists"
    hours = profile.mpp_hours
    local = lambda day, h, m: datetime(day.year, day.month, day.day, h, m, tzinfo=WIB)  # noqa: E731
    assert mpp_day_fraction(local(wednesday, 7, 30), 0, hours) == 0.0 < mpp_day_fraction(local(wednesday, 7, 45), 0, hours)
    assert mpp_day_fraction(local(wednesday, 15, 30), 0, hours) == 1.0
    assert mpp_day_fraction(local(saturday, 11, 0), 0, hours) > 0.0


# --------------------------------------------------------------------------------------
# every payload is valid and means what it says


def sample_traffic(
    districts: Districts, seconds: int = 300, rate: float = 50
) -> tuple[list[tuple[str, dict[str, Any]]], FakeClock]:
    """Initial state, a stream, natural-cadence messages and unique alerts: everything we emit."""
    sim, clock = make_sim(districts)
    sim.start_rain(mm_per_h=30, minutes=30)  # so flood incidents and rain alerts occur too
    out = sim.initial_state()
    stream = sim.stream(rate)
    for _ in range(int(seconds * rate)):
        clock.advance(seconds=1 / rate)
        out.append(next(stream))
    for _ in range(60):
        clock.advance(seconds=10)
        out += sim.next_messages()
    out += [("incidents", p) for p in sim.unique_alerts(50, "T")]
    return out, clock


@pytest.fixture(scope="module")
def traffic(districts: Districts) -> tuple[list[tuple[str, dict[str, Any]]], FakeClock]:
    return sample_traffic(districts)


def test_every_topic_and_type_occurs(traffic: tuple[list[tuple[str, dict[str, Any]]], FakeClock]) -> None:
    messages, _ = traffic
    assert {topic for topic, _ in messages} == set(TOPICS)
    for topic, payload in messages:
        assert payload["type"] in SDM_TYPES
        assert TYPE_OF_TOPIC[topic] == payload["type"]


def test_every_payload_decodes_to_its_event(
    districts: Districts, traffic: tuple[list[tuple[str, dict[str, Any]]], FakeClock]
) -> None:
    """The normalizer, allowed no clock skew at all, accepts every message: ids, types,
    times (none in the future) and locations are all there."""
    messages, clock = traffic
    normalizer = Normalizer(districts, districts.bounds, 64 * 1024, 0, clock=clock)
    for topic, payload in messages:
        event = normalizer.decode(json.dumps(payload, allow_nan=False))
        assert event.kind == KIND_OF_TOPIC[topic]
        assert event.id == payload["id"]
        if event.kind in {"incident", "water_level", "waste_fill", "report"}:
            assert event.kecamatan is not None, payload  # type: ignore[attr-defined]


def test_points_lie_in_the_kecamatan_they_name(
    districts: Districts, traffic: tuple[list[tuple[str, dict[str, Any]]], FakeClock]
) -> None:
    """Inside the named polygon (not ``kecamatan_at``: neighbouring polygons overlap in thin
    border slivers, where that answers with the first one in file order)."""
    messages, _ = traffic
    for _, payload in messages:
        if "address" in payload and "location" in payload and "district" in payload["address"]:
            lon, lat = payload["location"]["coordinates"]
            assert shapely.intersects_xy(districts.geometry(payload["address"]["district"]), lon, lat), payload["id"]


def test_times_are_utc_z_and_never_ahead_of_the_clock(traffic: tuple[list[tuple[str, dict[str, Any]]], FakeClock]) -> None:
    messages, clock = traffic
    latest = iso_z(clock.now)
    for _, payload in messages:
        stamp = time_of(payload)
        assert ISO_Z.match(stamp), stamp
        assert stamp <= latest
        for key in ("dateIssued", "observationDateTime", "dateCreated", "dateLastEmptying"):
            if key in payload:
                assert ISO_Z.match(payload[key]) and payload[key] <= latest


def test_values_are_within_the_smart_data_model_enums(traffic: tuple[list[tuple[str, dict[str, Any]]], FakeClock]) -> None:
    messages, _ = traffic
    seen: Counter[str] = Counter()
    for _, p in messages:
        seen[p["type"]] += 1
        if p["type"] == "Alert":
            assert p["category"] in ALERT_CATEGORIES and p["subCategory"] in ALERT_SUBCATEGORIES
            assert p["severity"] in SEVERITIES and p["status"] in INCIDENT_STAGES
            assert type(p["description"]) is str and p["description"].strip() != "", p["id"]
        elif p["type"] == "IssueReporting":
            assert p["resolutionStatus"] in RESOLUTION and p["categoryCode"] in {"drainage", "waste"}
        elif p["type"] == "FloodMonitoring":
            assert 0 <= p["currentLevel"] < p["referenceLevel"]
            assert "alertLevel" not in p and "dangerLevel" not in p  # the city's thresholds judge its gauges
        elif p["type"] == "WasteContainer":
            assert 0 <= p["fillingLevel"] <= 1 and p["id"].startswith("urn:ngsi-ld:WasteContainer:TPS-")
            assert p["@context"] == [SDM_CONTEXT.format("WasteManagement"), NGSI_LD_CORE_CONTEXT]
        elif p["type"] == "QueueMonitor":
            assert p["@context"] == [SDM_CONTEXT.format("QueueManagement"), NGSI_LD_CORE_CONTEXT]
            for key, attribute in p.items():
                if key not in {"id", "type", "@context"}:
                    assert attribute["type"] in {"Property", "GeoProperty"} and "value" in attribute, key
            assert p["serviceStatus"]["value"] in {"Open", "Closed", "Suspended"}
        elif p["type"] == "KeyPerformanceIndicator":
            assert p["currentStanding"] in STANDINGS and isinstance(p["kpiValue"], (int, float)) and p["name"]
    assert seen["Alert"] and seen["IssueReporting"] and seen["KeyPerformanceIndicator"]


def test_fixed_things_have_stable_ids(districts: Districts) -> None:
    def ids(sim: CitySimulator) -> dict[str, list[str]]:
        by_topic: dict[str, list[str]] = defaultdict(list)
        for topic, payload in sim.initial_state():
            if topic in {"drainage", "waste", "mpp", "kpi"}:
                by_topic[topic].append(payload["id"])
        return by_topic

    one = ids(make_sim(districts, seed=1)[0])
    other = ids(make_sim(districts, datetime(2025, 7, 1, 2, 0, tzinfo=UTC), seed=None)[0])
    assert one == other
    assert [len(one[t]) for t in ("drainage", "waste", "mpp", "kpi")] == [len(STATIONS), len(TPS_SITES), 26, len(KPIS)]
    assert len(STATIONS) == 12 and len(TPS_SITES) == 40
    assert all(len(set(v)) == len(v) for v in one.values())
    assert one["kpi"][0] == "urn:ngsi-ld:KeyPerformanceIndicator:indeks_kepuasan_mpp"  # the config's first message KPI
    assert all(":MPP-PEKANBARU:" in i for i in one["mpp"]) and all(
        i.startswith("urn:ngsi-ld:WasteContainer:TPS-PEKANBARU-") for i in one["waste"]
    )


# --------------------------------------------------------------------------------------
# lifecycles


def run(sim: CitySimulator, clock: FakeClock, hours: float, step_s: float) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for _ in range(int(hours * 3600 / step_s)):
        clock.advance(seconds=step_s)
        out += sim.next_messages()
    return out


def test_incidents_progress_through_their_lifecycle_in_order(districts: Districts) -> None:
    sim, clock = make_sim(districts, wib(date(2025, 3, 12), 9, 0))
    sim.initial_state()
    start = clock.now
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for topic, payload in run(sim, clock, hours=3, step_s=20):
        if topic == "incidents":
            history[payload["id"]].append(payload)
    born_early = 0
    for updates in history.values():
        statuses = [u["status"] for u in updates]
        first = INCIDENT_STAGES.index(statuses[0])
        assert statuses == list(INCIDENT_STAGES[first : first + len(statuses)])  # in order, none skipped
        stamps = [u["dateModified"] for u in updates]
        assert stamps == sorted(set(stamps))  # strictly later each time
        assert len({u["dateIssued"] for u in updates}) == 1
        if statuses[0] == "new" and updates[0]["dateIssued"] < iso_z(start + timedelta(hours=1)):
            born_early += 1
            assert statuses[-1] == "resolved"
    assert born_early > 30


def test_reports_progress_from_open_to_closed(districts: Districts) -> None:
    sim, clock = make_sim(districts, wib(date(2025, 3, 12), 8, 0))
    sim.initial_state()
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for topic, payload in run(sim, clock, hours=10, step_s=60):
        if topic == "reports":
            history[payload["id"]].append(payload)
    closed = 0
    for updates in history.values():
        statuses = [u["resolutionStatus"] for u in updates]
        first = REPORT_STAGES.index(statuses[0])
        assert statuses == list(REPORT_STAGES[first : first + len(statuses)])
        assert len({u["observationDateTime"] for u in updates}) == 1  # when it was reported
        closed += statuses[-1] == "Closed."
    assert closed > 50 and len(history) > 100


def test_open_incidents_stay_bounded(districts: Districts) -> None:
    sim, clock = make_sim(districts, wib(date(2025, 3, 12), 0, 0))
    sim.initial_state()
    daytime = []
    for _ in range(24 * 12):
        clock.advance(minutes=5)
        sim.next_messages()
        assert 10 <= sim.open_incidents() <= CitySimulator.MAX_OPEN_INCIDENTS
        if 8 <= clock.now.astimezone(WIB).hour < 20:
            daytime.append(sim.open_incidents())
    assert 30 <= sum(daytime) / len(daytime) <= 80


# --------------------------------------------------------------------------------------
# water


def test_rainy_afternoon_crosses_waspada_and_recedes(districts: Districts) -> None:
    sim, clock = make_sim(districts, wib(date(2025, 3, 12), 13, 0))
    sim.initial_state()
    sim.start_rain(mm_per_h=35, minutes=90)
    peak: dict[str, float] = defaultdict(float)
    last: dict[str, float] = {}
    statuses = set()
    for topic, payload in run(sim, clock, hours=5, step_s=60):
        if topic == "drainage":
            peak[payload["stationID"]] = max(peak[payload["stationID"]], payload["currentLevel"])
            last[payload["stationID"]] = payload["currentLevel"]
            statuses.add(payload["floodLevelStatus"])
    assert max(peak.values()) >= WASPADA_M
    assert "Waspada" in statuses or "Siaga" in statuses or "Awas" in statuses
    flashy = [s.code for s in STATIONS if not s.river]
    assert sum(last[c] < peak[c] - 0.2 for c in flashy) >= len(flashy) // 2  # drains empty after the rain


def test_thresholds_are_crossed_now_and_then(districts: Districts) -> None:
    """Over six natural days Waspada is reached on some days, not on all of them."""
    sim, clock = make_sim(districts, wib(date(2025, 3, 10), 0, 0), seed=14)
    sim.initial_state()
    days_over: dict[date, bool] = {}
    for topic, payload in run(sim, clock, hours=144, step_s=900):
        if topic == "drainage":
            day = datetime.fromisoformat(payload["observationDateTime"]).astimezone(WIB).date()
            days_over[day] = days_over.get(day, False) or payload["currentLevel"] >= WASPADA_M
    assert len(days_over) >= 6
    assert 1 <= sum(days_over.values()) < len(days_over)


def test_the_gauges_are_judged_by_the_citys_own_drainage_levels(districts: Districts, tmp_path: Path) -> None:
    """A city whose drains go Waspada at 1.0 m and whose river gauge PKU-DR-01 is Awas only
    at 4.0 m: its demo judged every gauge by Pekanbaru's 1.5 / 2.0 / 2.5 m, because the
    simulated gauges sent those as their own levels, which outrank the config's default."""

    def edit(tree: dict[str, Any]) -> None:
        tree["thresholds"]["drainage"] = {"waspada": 1.0, "siaga": 1.6, "awas": 2.2}
        tree["thresholds"]["drainage_stations"] = {"PKU-DR-01": {"waspada": 2.0, "siaga": 3.0, "awas": 4.0}}

    config = load_config(write_config(tmp_path, edit), environ={})
    own = {"PKU-DR-01": (2.0, 3.0, 4.0)}
    clock = FakeClock(wib(date(2025, 3, 12), 13, 0))
    profile = dataclasses.replace(city_profile(config), districts=districts, channels=())
    sim = CitySimulator(profile, rng_seed=7, clock=clock)
    normalizer = Normalizer(districts, districts.bounds, 64 * 1024, 0, clock=clock)
    sim.initial_state()
    sim.start_rain(mm_per_h=35, minutes=90)
    judged: Counter[str] = Counter()
    for topic, payload in run(sim, clock, hours=5, step_s=60):
        if topic != "drainage":
            continue
        event = normalizer.decode(json.dumps(payload))
        doc = {"station_id": payload["stationID"], **dataclasses.asdict(event)}
        levels = station_levels(doc, config)
        assert (levels.waspada, levels.siaga, levels.awas) == own.get(payload["stationID"], (1.0, 1.6, 2.2))
        stage = stage_of(payload["currentLevel"], levels)
        assert payload["floodLevelStatus"] == stage, payload
        judged[stage] += 1
    assert judged["Normal"] and judged["Waspada"] + judged["Siaga"] + judged["Awas"]


#: Words of the Indonesian texts that no English one has.
INDONESIAN = {"di", "dan", "warga", "sekitar", "setinggi", "Kec.", "Pos", "Instansi", "Layanan", "Pemerintah"}


def test_an_english_citys_demo_speaks_english(districts: Districts) -> None:
    """An English city's wall showed "Warga pingsan di Beach Road, ambulans dibutuhkan" and
    "Pos drainase ..." gauges: the simulator had Indonesian words only."""
    config = load_config(environ={"CITYWALL_LANGUAGE": "en"})
    # no complaint app: an app's own categories are the city's words, whatever its language
    bare = dataclasses.replace(city_profile(config), districts=districts, stations=(), agencies=(), organization="", channels=())
    profile = bare.complete()
    clock = FakeClock(wib(date(2025, 3, 12), 13, 0))
    sim = CitySimulator(profile, rng_seed=7, clock=clock)
    sim.start_rain(mm_per_h=30, minutes=60)
    texts = [s.name for s in profile.stations] + [a.office for a in profile.agencies] + [profile.organization]
    for _, p in sim.initial_state() + run(sim, clock, hours=3, step_s=30):
        if p["type"] == "Alert":
            texts.append(p["description"])
        elif p["type"] in ("IssueReporting", "Open311_ServiceRequest"):
            texts += [p.get("title") or p.get("service_name", ""), p.get("comments") or p.get("description", "")]
    kinds = {t.split()[0] for t in texts}
    assert len(texts) > 100 and len(kinds) > 15
    said = [t for t in texts if INDONESIAN & set(t.replace(",", " ").split())]
    assert not said, said[:5]


def test_every_simulated_text_has_its_english_with_the_same_blanks() -> None:
    from string import Formatter

    from feeds.sim_catalog import CHANNEL_TEMPLATES, INCIDENT_KINDS, REPORT_KINDS
    from feeds.sim_words import ENGLISH

    said = [t for k in INCIDENT_KINDS for t in k.templates] + [t for _, label, ts in REPORT_KINDS for t in (label, *ts)]
    said += [t for ts in CHANNEL_TEMPLATES.values() for t in ts]
    for text in said:
        blanks = {f for _, f, _, _ in Formatter().parse(text) if f}
        assert {f for _, f, _, _ in Formatter().parse(ENGLISH[text]) if f} == blanks, text


# --------------------------------------------------------------------------------------
# load-test helpers, determinism, cost


def test_unique_alerts_are_unique(districts: Districts) -> None:
    sim, _ = make_sim(districts)
    alerts = list(sim.unique_alerts(5_000, "LT"))
    assert len(alerts) == 5_000
    assert len({a["id"] for a in alerts}) == 5_000
    assert len({a["description"] for a in alerts}) == 5_000
    assert all(a["type"] == "Alert" and a["location"]["type"] == "Point" for a in alerts)
    assert "[LT-0000042]" in alerts[42]["description"]


def test_a_seed_reproduces_the_run(districts: Districts) -> None:
    def record(seed: int) -> list[tuple[str, dict[str, Any]]]:
        sim, clock = make_sim(districts, seed=seed)
        out = sim.initial_state()
        stream = sim.stream(100)
        for _ in range(3_000):
            clock.advance(seconds=0.01)
            out.append(next(stream))
        out += run(sim, clock, hours=0.5, step_s=15)
        return out

    first = record(42)
    assert first == record(42)
    assert first != record(43)


def test_stream_is_mostly_drainage_and_mpp(districts: Districts) -> None:
    sim, clock = make_sim(districts)
    sim.initial_state()
    stream = sim.stream(20)
    counts: Counter[str] = Counter()
    for _ in range(20 * 600):
        clock.advance(seconds=0.05)
        counts[next(stream)[0]] += 1
    total = sum(counts.values())
    assert (counts["drainage"] + counts["mpp"]) / total > 0.7
    assert counts["incidents"] > 0 and counts["kpi"] > 0 and counts["waste"] > 0


def test_a_long_stream_at_load_test_rates_stays_on_known_topics(districts: Districts) -> None:
    """20,000 messages at 5,000/s of simulated time (its speed is not asserted here: rules)."""
    sim, _ = make_sim(districts, seed=3)
    sim.initial_state()
    stream = sim.stream(5_000)
    topics = {next(stream)[0] for _ in range(20_000)}
    assert topics <= set(TYPE_OF_TOPIC), topics


def test_the_publisher_takes_only_urls_the_config_takes(districts: Districts) -> None:
    """``publish_mqtt`` parses with ``feeds.mqtt.parse_url``: a bare host or another scheme is
    refused before anything connects, as it is in config.yaml."""
    for url in ("localhost", "tcp://localhost:1883", "http://x"):
        with pytest.raises(ValueError, match="mqtt://"):
            publish_mqtt(url, "pkutest/", rate=10, duration_s=0.1, simulator=CitySimulator(districts, rng_seed=1))


def test_complaint_app_reports(districts: Districts) -> None:
    """A configured complaint app gets a share of the reports, on its own topic and in its own
    category names only; the normalizer maps them back to the panels' families."""
    config = load_config()
    profile = dataclasses.replace(city_profile(config), districts=districts)
    channel = profile.channels[0]
    clock = FakeClock(WEDNESDAY_14_WIB)
    sim = CitySimulator(profile, rng_seed=3, clock=clock)
    messages = sim.initial_state()
    for _ in range(120):
        clock.advance(minutes=1)
        messages += sim.next_messages()
    app = [p for topic, p in messages if topic == channel.topic]
    plain = [p for topic, p in messages if topic == "reports"]
    assert len(app) > 20 and len(plain) > 20
    names = dict(channel.categories)
    assert {p["category"] for p in app} <= set(names)
    assert all("categoryCode" not in p for p in app)  # nothing but the app's own words
    rule = ChannelRule(channel.name, tuple(config.complaints[0].topics), (), names)
    normalizer = Normalizer(districts, districts.bounds, 64 * 1024, 0, clock=clock, channels=[rule])
    for p in app:
        event = normalizer.decode(json.dumps(p), channel.topic)
        assert event.channel == channel.name and event.topic == names[p["category"]]  # type: ignore[attr-defined]


def test_a_counted_kpi_is_simulated_whole_and_a_rate_keeps_its_decimals(districts: Districts) -> None:
    """The wall read "Izin usaha baru bulan ini 1.325,5": licences come whole."""
    values: dict[str, list[float]] = defaultdict(list)
    for day in range(10, 20):
        sim, _ = make_sim(districts, wib(date(2025, 3, day), 11, 7))
        for topic, p in sim.initial_state():
            if topic == "kpi":
                values[p["alternateName"]].append(p["kpiValue"])
    assert all(float(v).is_integer() for v in values["investasi_izin_usaha"]), values["investasi_izin_usaha"]
    assert not all(float(v).is_integer() for v in values["partisipasi_pelaporan"]), values["partisipasi_pelaporan"]
    assert not all(float(v).is_integer() for v in values["indeks_kepuasan_mpp"]), values["indeks_kepuasan_mpp"]
