"""The typed picture: ``/api/v1/state`` keeps its public shape, and an unchanged section is
the very same object from one picture to the next, so a view that read only it is not
computed again.

The expected keys are written out by hand from the published shape of ``/api/v1/state``;
they are not read from the types under test.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard.city_config import Kpi
from dashboard.config import load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.picture import Sections, _first_new, build_picture, freshness, standing
from dashboard.store.memory import MemoryStore
from feeds.events import CitizenReport, Incident, QueueReading
from layouts.live_parts import LivePart, LiveParts
from layouts.mayor.summaries import headline_summary
from layouts.picture import CityPicture
from layouts.ports import ViewSettings, WallGeometry
from tests.support.city import NOW, at, city, feed_city_day, incident, water
from tests.support.configs import write_config
from tests.support.helpers import get_json

FAMILIES = ["incidents", "drainage", "waste", "mpp", "kpis"]


def test_api_state_keeps_its_top_level_and_section_keys() -> None:
    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    with serve(config, store) as base:
        state = get_json(f"{base}/api/v1/state")
    assert list(state) == [
        "version",
        "city",
        "incidents",
        "drainage",
        "waste",
        "mpp",
        "reports",
        "ticker",
        "generated_at",
        "feeds",
        "freshness",
        "seen",
        "kpis",
        "wall",
        "store",
        "screens",
    ]
    assert list(state["city"]) == ["name", "timezone", "language"]
    assert list(state["incidents"]) == [
        "open",
        "open_count",
        "by_severity",
        "by_status",
        "by_kecamatan",
        "by_category",
        "by_assignee",
        "resolved_24h",
        "resolved_within_sla_24h",
    ]
    assert {"id", "severity", "age_s"} <= set(state["incidents"]["open"][0])
    assert list(state["drainage"]) == ["stations", "worst_stage", "in_alert", "flood_alert", "reports_open_by_kecamatan"]
    station = state["drainage"]["stations"][0]
    assert {"id", "level_m", "stage", "levels", "trend"} <= set(station)
    assert list(station["levels"]) == ["waspada", "siaga", "awas"]
    assert list(state["waste"]) == [
        "containers",
        "over_threshold",
        "reports_open",
        "reports_resolved",
        "reports_resolved_within_sla",
        "median_resolve_h",
        "reports_open_by_kecamatan",
        "other_reports_open",
    ]
    assert list(state["mpp"]) == [
        "agencies",
        "served_today",
        "waiting",
        "serving",
        "avg_wait_min",
        "target",
        "attainment_pct",
        "name",
        "services",
        "agencies_total",
        "hourly",
        "due_now",
        "pace_pct",
        "open_now",
    ]
    assert state["mpp"]["hourly"] == [] or list(state["mpp"]["hourly"][0]) == ["hour", "served"]
    assert list(state["reports"]) == ["open", "open_by_topic", "open_by_channel"]
    assert isinstance(state["ticker"], list) and list(state["ticker"][0])[:2] == ["t", "kind"]
    assert list(state["feeds"]["mqtt"]) and "counts" in state["feeds"]["mqtt"]
    assert list(state["freshness"]) == FAMILIES
    assert all(list(f) == ["updated_at", "stale", "stale_after_s"] for f in state["freshness"].values())
    assert state["seen"] == {"incidents": True, "drainage": True, "waste": True, "mpp": True, "kpis": True}
    assert list(state["kpis"]) == ["pillars"]
    pillar = next(iter(state["kpis"]["pillars"].values()))
    assert list(pillar) == ["name", "icon", "kpis", "standing"]
    assert list(pillar["kpis"][0]) == [
        "id",
        "name",
        "unit",
        "value",
        "target",
        "better",
        "standing",
        "updated_at",
        "trend",
        "family",
    ]
    assert list(pillar["kpis"][0]["trend"]) == ["day", "month"]
    assert list(state["wall"]) == ["presets", "current", "broadcast", "pushed", "takeovers"]
    assert list(state["store"]) == ["status", "ok", "epoch", "reset_at"]
    assert list(state["screens"]) == ["expected", "live", "silent"]
    # the server reads trends up to its own clock; the day above is in the past: read it at its time
    then = json.loads(json.dumps(build_picture(store, config, NOW).to_json()))
    days = [k["trend"]["day"] for p in then["kpis"]["pillars"].values() for k in p["kpis"] if k["trend"]["day"]]
    assert days and all(len(point) == 2 for point in days[0]), "trend points are [time, value] pairs"


def test_a_section_whose_kinds_did_not_move_is_the_same_object() -> None:
    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    sections = Sections()
    first = build_picture(store, config, NOW, sections)
    city(store, config).accept(
        Incident(id="new-1", observed_at=at(30), source_type="Alert", category="traffic", severity="high", description="Tabrakan")
    )
    second = build_picture(store, config, NOW + 1, sections)
    assert second.version > first.version
    assert second.incidents is not first.incidents and second.incidents.open_count == first.incidents.open_count + 1
    assert second.drainage is first.drainage
    assert second.waste is first.waste
    assert second.mpp is first.mpp
    assert second.reports is first.reports
    assert second.city is first.city


class _CountingStore(MemoryStore):
    """Counts the reads behind the ticker and the KPIs, which a queue's page never shows."""

    def __init__(self) -> None:
        super().__init__()
        self.recent_reads = 0
        self.kpi_reads = 0

    def recent(self, n: int) -> list[Any]:
        self.recent_reads += 1
        return super().recent(n)

    def entities(self, kind: str) -> dict[str, dict[str, Any]]:
        self.kpi_reads += kind == "kpi"
        return super().entities(kind)


def test_a_lazy_picture_reads_only_the_sections_asked_for_and_they_equal_an_eager_reading() -> None:
    config = load_config()
    store = _CountingStore()
    feed_city_day(store, config)
    sections = Sections()
    build_picture(store, config, NOW, sections)  # every section built once, as a running app has
    city(store, config).accept(
        Incident(id="new-3", observed_at=at(32), source_type="Alert", category="fire", severity="critical", description="Api")
    )
    store.recent_reads = store.kpi_reads = 0
    lazy = build_picture(store, config, NOW + 1, sections, lazy=True)
    copy = lazy.but(screens=None)
    assert [row.id for row in copy.incidents.open if row.id == "new-3"] == ["new-3"]
    assert (store.recent_reads, store.kpi_reads) == (0, 0)  # neither the ticker nor the KPIs were read
    assert copy.ticker[0].id == "new-3" and store.recent_reads == 1
    assert copy.kpis is lazy.kpis and store.kpi_reads == 1  # a copy's section is the one its original gets
    eager = build_picture(store, config, NOW + 1)
    assert lazy == eager


def test_ticker_lines_are_made_only_for_stored_lines_not_seen_before() -> None:
    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    sections = Sections()
    first = build_picture(store, config, NOW, sections).ticker
    city(store, config).accept(
        Incident(
            id="new-2",
            observed_at=at(31),
            source_type="Alert",
            category="fire",
            severity="critical",
            description="Kebakaran gudang",
        )
    )
    second = build_picture(store, config, NOW + 1, sections).ticker
    assert second == build_picture(store, config, NOW + 1).ticker  # the same as made from scratch
    assert second[0].id == "new-2" and second[0].text == "Kebakaran gudang"
    assert len(second) == min(len(first) + 1, config.history.ticker_events)
    assert all(kept is before for kept, before in zip(second[1:], first, strict=False))  # not made again


def test_incident_rows_are_made_only_for_documents_not_seen_before() -> None:
    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    sections = Sections()
    first = list(build_picture(store, config, NOW, sections).incidents.open)
    city(store, config).accept(
        Incident(id="new-4", observed_at=at(33), source_type="Alert", category="fire", severity="critical", description="Asap")
    )
    second = list(build_picture(store, config, NOW + 1, sections).incidents.open)
    assert second == list(build_picture(store, config, NOW + 1).incidents.open)  # as made from scratch
    assert [row.id for row in second if row not in first] == ["new-4"]
    kept = [row for row in second if row.id != "new-4"]
    assert len(kept) == len(first) - (len(first) == len(second))  # the last may have dropped off the top
    assert all(any(row is before for before in first) for row in kept)  # not made again


def test_a_takeover_rule_finds_its_category_past_the_head_of_the_new_incidents() -> None:
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    for n in range(20):  # older critical incidents of another category come first in the index
        state.accept(Incident(id=f"jam-{n}", observed_at=at(n), source_type="Alert", category="traffic", severity="critical"))
    state.accept(Incident(id="banjir-1", observed_at=at(40), source_type="Alert", category="flood", severity="high"))
    found = _first_new(store, "high", "flood")
    assert found is not None and found["id"] == "banjir-1"
    assert _first_new(store, "critical", "flood") is None  # past the critical ones it stops
    assert _first_new(store, "critical", None)["id"] == "jam-19"  # type: ignore[index]  # the oldest first


class _CopyingStore(MemoryStore):
    """Hands out copies of its ticker lines, as Redis decodes new ones on every read."""

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(line) for line in super().recent(limit)]


def test_ticker_lines_read_as_new_objects_are_made_again() -> None:
    config = load_config()
    store = _CopyingStore()
    feed_city_day(store, config)
    sections = Sections()
    first = build_picture(store, config, NOW, sections).ticker
    store.upsert(
        "report",
        "r-x",
        1.0,
        {"id": "r-x"},
        recent={"t": "2026-01-01T00:00:00Z", "kind": "report", "id": "r-x", "text": "Lampu mati"},
    )
    second = build_picture(store, config, NOW + 1, sections).ticker
    assert second[0].text == "Lampu mati"
    assert second[1] == first[0] and second[1] is not first[0]


def settings() -> ViewSettings:
    return ViewSettings(
        city_name="Kota",
        language="id",
        timezone="Asia/Jakarta",
        timezone_label="WIB",
        wall=WallGeometry(1, 1, 1920, 1080, 0),
        screens={},
    )


class _Reader:
    def __init__(self, picture: CityPicture) -> None:
        self.current = picture

    def version(self) -> int:
        return self.current.version

    def picture(self) -> CityPicture:
        return self.current

    async def changed(self, since: int, timeout: float) -> int:
        return self.current.version


def test_a_view_is_computed_again_only_when_a_section_it_read_is_another_object() -> None:
    calls: list[str] = []

    def waste_view(picture: CityPicture, _: ViewSettings) -> Any:
        calls.append("waste")
        return picture.waste.reports_open

    def whole_view(picture: CityPicture, _: ViewSettings) -> Any:
        calls.append("whole")
        return len(picture.to_json())

    base = CityPicture(version=1, generated_at="2026-03-02T03:00:00+00:00")
    live = LiveParts(_Reader(base), settings())
    live.parts["waste"] = LivePart(waste_view, lambda shown, s: [str(shown)])
    live.parts["whole"] = LivePart(whole_view, lambda shown, s: [str(shown)])
    live.view("waste", base)
    live.view("whole", base)
    assert calls == ["waste", "whole"]
    # another picture, another incidents section, the same waste section: the waste view stands
    other = replace(base, version=2, incidents=replace(base.incidents, open_count=3))
    live.view("waste", other)
    assert calls == ["waste", "whole"]
    # a view that walked the whole picture is computed again with every picture
    live.view("whole", other)
    assert calls == ["waste", "whole", "whole"]
    # a new waste section (equal or not) is another object: computed again
    live.view("waste", replace(other, waste=replace(other.waste, reports_open=1)))
    assert calls == ["waste", "whole", "whole", "waste"]


def test_top_rows_are_made_only_when_read_and_read_like_a_list() -> None:
    from layouts.sections import TopRows, plain

    made: list[str] = []

    def make(doc: dict[str, Any]) -> Any:
        made.append(doc["id"])
        return {"row": doc["id"]}

    rows = TopRows([{"id": f"inc-{i}"} for i in range(200)], make)
    assert made == [] and len(rows) == 200
    assert rows[:3] == [{"row": "inc-0"}, {"row": "inc-1"}, {"row": "inc-2"}]
    assert rows[-1] == {"row": "inc-199"}
    assert made == ["inc-0", "inc-1", "inc-2", "inc-199"], "only the rows read were made"
    assert rows[1] is rows[1] and made.count("inc-1") == 1, "a row is made once"
    with pytest.raises(IndexError):
        rows[200]
    assert rows == [{"row": f"inc-{i}"} for i in range(200)]
    assert plain(TopRows([{"id": "a"}], make)) == [{"row": "a"}]


def test_the_queue_reads_its_head_of_the_open_incidents_and_the_api_reads_them_all() -> None:
    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    for i in range(30):
        city(store, config).accept(
            Incident(
                id=f"bulk-{i:02d}",
                observed_at=at(i),
                source_type="Alert",
                category="traffic",
                severity="low",
                description=f"Antrian {i}",
            )
        )
    picture = build_picture(store, config, NOW)
    rows = picture.incidents.open
    assert len(rows) == min(200, picture.incidents.open_count) and len(rows) > 14
    ids_in_order = [row.id for row in rows]
    api_rows = picture.to_json()["incidents"]["open"]
    assert [r["id"] for r in api_rows] == ids_in_order
    assert all(isinstance(r["age_s"], int) and r["age_s"] >= 0 for r in api_rows)
    severity_rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    ranks = [severity_rank[r["severity"]] for r in api_rows]
    assert ranks == sorted(ranks), "most severe first"


def test_the_apis_ages_are_those_of_the_reading_not_of_the_citys_last_change() -> None:
    """A picture is built once per change of the city; read an hour later with nothing
    changed in between, ``/api/v1/state`` must say the incidents are an hour older."""
    config = load_config()
    store = MemoryStore()
    city(store, config).accept(
        Incident(id="alone", observed_at=at(300), source_type="Alert", category="traffic", severity="high", description="Banjir")
    )
    picture = build_picture(store, config, NOW)
    assert [(r["id"], r["age_s"]) for r in picture.to_json()["incidents"]["open"]] == [("alone", 300)]
    an_hour_on = replace(picture, generated_at="2026-03-02T04:00:00+00:00")  # what the reader does with a new reading
    assert [(r["id"], r["age_s"]) for r in an_hour_on.to_json()["incidents"]["open"]] == [("alone", 3_900)]


def test_a_view_holding_top_rows_is_digested_by_its_rows() -> None:
    """A view that keeps the lazy rows themselves (not a slice) must still change its digest
    when they change; digested by its name it would never change again."""
    from layouts.frame import signature
    from layouts.sections import TopRows

    def rows(*ids: str) -> TopRows:
        return TopRows([{"id": i} for i in ids], lambda doc: doc["id"])

    assert signature({"rows": rows("a", "b")}) == signature({"rows": rows("a", "b")})
    assert signature({"rows": rows("a", "b")}) != signature({"rows": rows("a", "c")})
    assert signature({"rows": rows("a", "b")}) == signature({"rows": ["a", "b"]})


def test_the_printed_summary_names_its_kind_on_html_as_it_runs_no_script() -> None:
    """The live pages get their ``<html>`` class from citywall.js; the printed summary has no
    script, so it carries the classes its white page and margins hang on itself."""
    from dashboard.export import summary_document

    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    document = summary_document(build_picture(store, config, NOW), settings(), NOW)
    assert '<html lang="id" class="cw-page-tablet cw-page-print">' in document
    assert "html.cw-page-print, html.cw-page-print body { background: #fff; }" in document
    assert "<script" not in document


def test_a_gauge_s_own_levels_too_near_zero_to_be_stages_fall_back_to_the_city_s() -> None:
    """Alert and danger levels of 5e-324 and 1e-323 m: the derived waspada rounds to the alert
    level itself. That station once made the drainage section, and with it the KPIs, every
    screen's overlay and /api/v1/state, raise on every picture."""
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    tiny = replace(water("TINY", 60, 0.2), alert_level_m=5e-324, danger_level_m=1e-323)
    state.accept(tiny)
    state.accept(water("SANE", 30, 0.5))
    picture = build_picture(store, config, now=NOW)
    by_id = {g.id: (g.stage, g.levels.siaga) for g in picture.drainage.stations}
    assert by_id == {"TINY": ("Normal", config.thresholds.drainage.siaga), "SANE": ("Normal", config.thresholds.drainage.siaga)}
    assert picture.to_json()["drainage"]["worst_stage"] == "Normal"


def test_within_a_stage_the_station_nearest_its_next_line_or_furthest_over_awas_comes_first() -> None:
    """The city's lines are 1,5 / 2,0 / 2,5 m; gauge "C" brings its own alert and danger levels
    of 3,0 and 4,0 m (its Siaga and Awas). By hand: Awas "Z" at 2,8 m is 0,3 m over and "A"
    at 2,6 m 0,1 m over, so Z leads though A comes first by name; at Siaga "B" (2,4 m, 0,1 m
    from Awas) before "Y" (2,1 m); "C" at 3,2 m is Siaga by its own lines, 0,8 m from its Awas,
    after both; of the Normal ones "N2" (1,4 m) is nearer Waspada than "N1" (0,9 m). The flood
    banner names the first of them."""
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    own = replace(water("C", 30, 3.2), alert_level_m=3.0, danger_level_m=4.0)
    for reading in (water("A", 30, 2.6), water("Z", 30, 2.8), water("Y", 30, 2.1), water("B", 30, 2.4), own):
        state.accept(reading)
    state.accept(water("N1", 30, 0.9))
    state.accept(water("N2", 30, 1.4))
    stations = build_picture(store, config, now=NOW).drainage.stations
    assert [(g.id, g.stage) for g in stations] == [
        ("Z", "Awas"),
        ("A", "Awas"),
        ("B", "Siaga"),
        ("Y", "Siaga"),
        ("C", "Siaga"),
        ("N2", "Normal"),
        ("N1", "Normal"),
    ]
    assert headline_summary(build_picture(store, config, now=NOW))["flood"]["worst_station"] == ["Pos Z", 280]


def test_the_tablet_names_no_worst_station_while_every_one_is_normal() -> None:
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    state.accept(water("N1", 30, 1.49))
    summary = headline_summary(build_picture(store, config, now=NOW))["flood"]
    assert (summary["worst"], summary["stations"], summary["worst_station"]) == ("Normal", 1, None)


def test_made_up_categories_are_counted_as_other_and_a_city_s_own_by_name() -> None:
    """Every category counted is a tag each picture reads: a feed of unique made-up ones made
    that cost grow with the city. The incident keeps its own word."""
    config = load_config()
    config = config.model_copy(
        update={"operations": config.operations.model_copy(update={"sop": {**config.operations.sop, "fire": ["Kirim Damkar"]}})}
    )
    store = MemoryStore()
    state = city(store, config)
    for n, category in enumerate(["traffic", "fire", "cat-1", "cat-2", "x" * 120]):
        state.accept(replace(incident(f"C{n}", 60 + n), category=category))
    picture = build_picture(store, config, now=NOW)
    assert picture.incidents.by_category == {"traffic": 1, "fire": 1, "other": 3}
    assert sorted(d.category for d in picture.incidents.open) == sorted(["traffic", "fire", "cat-1", "cat-2", "x" * 120])


def _kpi(picture: CityPicture, kpi_id: str) -> Any:
    return next(k for block in picture.kpis.pillars.values() for k in block.kpis if k.id == kpi_id)


def test_a_derived_kpi_has_no_value_before_its_feed_delivers_and_then_that_feeds_time() -> None:
    """ "0 open incidents" is not news before the incident feed has said anything, nor does a
    drainage KPI become known when only incidents arrived; and a derived KPI is as recent as
    its feed's last message, not as the reading (a KPI of a feed silent for hours looked new)."""
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    before = build_picture(store, config, now=NOW)
    for kpi_id in ("open_incidents", "drainage_stations_in_alert"):
        kpi = _kpi(before, kpi_id)
        assert (kpi.value, kpi.standing, kpi.updated_at) == (None, "unknown", None), kpi_id
    arrived_from = int(time.time())
    state.accept(incident("K-1", 60))
    arrived_by = time.time()
    later = build_picture(store, config, now=arrived_by + 3 * 3_600)
    open_incidents = _kpi(later, "open_incidents")
    assert (open_incidents.value, open_incidents.family) == (1, "incidents")
    assert arrived_from <= datetime.fromisoformat(open_incidents.updated_at).timestamp() <= arrived_by
    drainage = _kpi(later, "drainage_stations_in_alert")
    assert (drainage.value, drainage.standing, drainage.updated_at, drainage.family) == (None, "unknown", None, "drainage")
    pillar = next(b for b in later.kpis.pillars.values() if any(k.id == "drainage_stations_in_alert" for k in b.kpis))
    assert pillar.standing == _worst_known([k.standing for k in pillar.kpis])


def _worst_known(standings: list[str]) -> str:
    order = ["veryGood", "good", "fair", "bad", "veryBad"]
    known = [s for s in standings if s != "unknown"]
    return max(known, key=order.index) if known else "unknown"


@pytest.mark.parametrize(
    ("value", "target", "better", "unit", "expected"),
    [
        (79.96, 80, "higher", "%", "good"),  # shown as 80,0 %
        (79.94, 80, "higher", "%", "fair"),  # shown as 79,9 %
        (1.996, 2, "higher", "", "good"),  # shown as 2,00
        (1.994, 2, "higher", "", "fair"),  # shown as 1,99
        (30.04, 30, "lower", "min", "good"),  # shown as 30,0 min
        (30.06, 30, "lower", "min", "fair"),  # shown as 30,1 min
    ],
)
def test_a_kpis_standing_agrees_with_the_value_the_tablet_shows(
    value: float, target: float, better: str, unit: str, expected: str
) -> None:
    kpi = Kpi(id="k", name={"id": "k"}, unit=unit, target=target, better=better, source="message")
    assert standing(value, kpi) == expected


def test_the_tablets_share_within_sla_judges_by_the_shift_reports_table() -> None:
    """operations.sla gives a critical incident 60 minutes to be resolved. The tablet used a
    second table (30 minutes) and called 50 minutes a breach that the shift report did not."""
    config = load_config()
    assert config.operations.sla["critical"].resolve_min == 60
    store = MemoryStore()
    state = city(store, config)
    state.accept(incident("S-50", 600, "resolved", severity="critical", opened_ago=600 + 50 * 60))
    state.accept(incident("S-70", 600, "resolved", severity="critical", opened_ago=600 + 70 * 60))
    state.accept(incident("S-55", 600, "resolved", severity="critical", opened_ago=600 + 55 * 60))
    picture = build_picture(store, config, now=NOW)
    assert _kpi(picture, "incidents_within_sla").value == 66.7  # 2 of 3, by hand


@pytest.mark.parametrize(
    ("local", "served", "due", "pace", "word", "open_now"),
    [
        # Tuesday 1 Dec 2026, target 700, open 08:00-16:00 WIB: 480 minutes; good from 100 %, fair from 85 %
        (datetime(2026, 12, 1, 7, 50), 0, 0, None, "closed", False),  # before opening nothing is due or judged
        (datetime(2026, 12, 1, 8, 0), 0, 0, None, "unknown", True),  # open, but nothing due in its first minute
        (datetime(2026, 12, 1, 10, 0), 150, 175, 85.7, "fair", True),  # 120 of 480 min: 700 / 4 = 175; 150 / 175
        (datetime(2026, 12, 1, 12, 0), 360, 350, 102.9, "good", True),  # half the day: 350 due; 360 / 350
        (datetime(2026, 12, 1, 15, 59), 650, 699, 93.0, "fair", True),  # a minute before closing
        (datetime(2026, 12, 1, 17, 0), 650, 700, 92.9, "fair", False),  # after closing, the whole target
        (datetime(2026, 12, 5, 10, 0), 0, 0, None, "closed", False),  # Saturday: closed all day
    ],
)
def test_the_mpp_is_judged_by_the_share_of_its_target_due_by_now(
    local: datetime, served: int, due: int, pace: float | None, word: str, open_now: bool
) -> None:
    """A morning was judged against the whole day's target: the MPP was 'bad' every morning.
    Before it opens and on a day it does not, there is nothing to judge: the tablet said
    "BELUM ADA" (no data yet) all weekend, as if a feed were missing; it now says closed."""
    config = load_config()
    moment = local.replace(tzinfo=config.city.tz).timestamp()
    store = MemoryStore()
    CityState(store, config, clock=lambda: moment).accept(
        QueueReading(
            id="mpp-q", observed_at=datetime.fromtimestamp(moment - 60, UTC), source_type="QueueMonitor",
            agency="dpmptsp", served_today=served,
        )
    )  # fmt: skip
    picture = build_picture(store, config, now=moment)
    assert (picture.mpp.due_now, picture.mpp.pace_pct) == (due, pace)
    assert picture.mpp.target == (0 if local.weekday() == 5 else 700)  # a Saturday has no target
    assert picture.mpp.open_now is open_now
    kpi = _kpi(picture, "mpp_on_pace")
    assert (kpi.value, kpi.standing) == (pace, word)


def test_the_mpps_kpis_are_closed_while_it_is_and_unknown_while_its_feed_is_silent(tmp_path: Path) -> None:
    """A Saturday (1 Dec 2026 was a Tuesday): the MPP's three KPIs have no value. With its
    feed heard they are closed, and a pillar of nothing else is too; with no MPP feed ever
    heard nobody knows, and they stay unknown."""

    def mpp_pillar(tree: dict[str, Any]) -> None:
        kpis = [{"id": k, "name": {"id": k}, "unit": "%", "target": 90} for k in ("mpp_target_attainment", "mpp_avg_wait_min")]
        tree["pillars"][0]["kpis"] = [tree["pillars"][0]["kpis"][0], *kpis]  # the MPP's three, nothing else

    config = load_config(write_config(tmp_path, mpp_pillar))
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=config.city.tz).timestamp()
    mpp_kpis = ("mpp_on_pace", "mpp_target_attainment", "mpp_avg_wait_min")
    silent = build_picture(MemoryStore(), config, now=saturday)
    assert [_kpi(silent, k).standing for k in mpp_kpis] == ["unknown"] * 3
    store = MemoryStore()
    CityState(store, config, clock=lambda: saturday).accept(
        QueueReading(
            id="mpp-q", observed_at=datetime.fromtimestamp(saturday - 60, UTC), source_type="QueueMonitor",
            agency="dpmptsp", avg_wait_min=0.0, open=False,
        )
    )  # fmt: skip
    heard = build_picture(store, config, now=saturday)
    assert [(_kpi(heard, k).value, _kpi(heard, k).standing) for k in mpp_kpis] == [(None, "closed")] * 3
    assert _kpi(heard, "open_incidents").standing == "unknown"  # no incident feed heard: not closed
    assert heard.kpis.pillars["governance"].standing == "closed"
    assert silent.kpis.pillars["governance"].standing == "unknown"

    def on_tuesday(hour: int) -> list[tuple[float | None, str]]:
        """The three at ``hour`` on Tuesday 1 Dec 2026, 300 permits served by then."""
        moment = datetime(2026, 12, 1, hour, 0, tzinfo=config.city.tz).timestamp()
        store = MemoryStore()
        CityState(store, config, clock=lambda: moment).accept(
            QueueReading(
                id="mpp-q", observed_at=datetime.fromtimestamp(moment - 60, UTC), source_type="QueueMonitor",
                agency="dpmptsp", served_today=300 if hour > 8 else 0, avg_wait_min=12.0, waiting=4, open=8 <= hour < 16,
            )
        )  # fmt: skip
        picture = build_picture(store, config, now=moment)
        return [(_kpi(picture, k).value, _kpi(picture, k).standing) for k in mpp_kpis]

    # before opening "0 % of the target" is no missed target; by day all three are judged
    # (target 90 for each here); after closing the day's permits stand, the wait is closed
    assert on_tuesday(7) == [(None, "closed"), (0.0, "closed"), (None, "closed")]
    assert on_tuesday(12) == [(85.7, "fair"), (42.9, "bad"), (12.0, "bad")]  # 300 / 350 due, 300 / 700
    assert on_tuesday(17) == [(42.9, "bad"), (42.9, "bad"), (None, "closed")]


@pytest.mark.parametrize(
    ("standings", "pillar"),
    [
        (["closed", "closed"], "closed"),
        (["closed", "good"], "good"),
        (["closed", "unknown"], "unknown"),
        (["bad", "closed", "fair"], "bad"),
        ([], "unknown"),
    ],
)
def test_a_pillar_stands_by_its_judged_kpis_and_is_closed_only_when_all_of_them_are(standings: list[str], pillar: str) -> None:
    from dashboard.picture import _worst

    assert _worst(standings) == pillar


def test_the_average_wait_is_of_the_counters_open_now() -> None:
    """A closed MPP's agencies report a wait of 0: the wall read "0,0 mnt rata-rata tunggu"
    all night, and one closed counter pulled the open ones' average down by day."""
    config = load_config(environ={})
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=config.city.tz).timestamp()

    def counter(i: str, wait: float, waiting: int, open_: bool) -> QueueReading:
        return QueueReading(
            id=f"mpp-{i}", observed_at=datetime.fromtimestamp(moment - 60, UTC), source_type="QueueMonitor",
            agency=i, avg_wait_min=wait, waiting=waiting, open=open_,
        )  # fmt: skip

    day, night = MemoryStore(), MemoryStore()
    for store, counters in (
        (day, [counter("a", 12.0, 10, True), counter("b", 20.0, 30, True), counter("c", 0.0, 0, False)]),
        (night, [counter("a", 0.0, 0, False), counter("b", 0.0, 0, False)]),
    ):
        for reading in counters:
            CityState(store, config, clock=lambda: moment).accept(reading)
    assert build_picture(day, config, now=moment).mpp.avg_wait_min == 18.0  # (12 x 10 + 20 x 30) / 40
    assert build_picture(night, config, now=moment).mpp.avg_wait_min is None


def test_a_public_holiday_listed_in_the_config_has_no_target() -> None:
    """Christmas on a Friday (25 Dec 2026): a busy day's 1,000 permits were due, and the tablet
    showed the closed MPP failing."""
    config = load_config(environ={})
    holiday = config.model_copy(update={"mpp": config.mpp.model_copy(update={"closed_dates": [date(2026, 12, 25)]})})
    noon = datetime(2026, 12, 25, 12, 0, tzinfo=config.city.tz).timestamp()
    targets = [build_picture(MemoryStore(), c, now=noon).mpp for c in (config, holiday)]
    assert [(m.target, m.due_now, m.attainment_pct) for m in targets] == [(1_000, 500, 0.0), (0, 0, None)]


def test_a_last_arrival_ahead_of_the_clock_is_stale() -> None:
    """After the clock was set back, a feed that died looked fresh for the step plus its limit."""
    config = load_config(environ={})
    now = 1_750_000_000.0
    limit = config.thresholds.stale_after("incidents")
    ages = {"just now": 0.0, "a host a little ahead": -4.0, "the clock set back a minute": -60.0, "silent too long": limit + 1}
    stale = {name: freshness({"incident": now - age}, config, now)["incidents"].stale for name, age in ages.items()}
    assert stale == {
        "just now": False,
        "a host a little ahead": False,
        "the clock set back a minute": True,
        "silent too long": True,
    }


def test_a_waste_report_closed_by_a_clock_behind_the_one_that_opened_it_took_no_time() -> None:
    """An Open311 request opened at 09:40 WIB by the app and closed at 09:30 WIB by a desk whose
    clock ran behind: the wall read "-0,2 jam median waktu selesai"."""
    config = load_config(environ={})
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC).timestamp()  # 10:00 WIB
    store = MemoryStore()
    CityState(store, config, clock=lambda: now).accept(
        CitizenReport(
            id="R-skew", observed_at=datetime(2026, 12, 5, 2, 40, tzinfo=UTC), source_type="Open311_ServiceRequest",
            topic="waste", category="Sampah menumpuk", status="resolved",
            opened_at=datetime(2026, 12, 5, 2, 40, tzinfo=UTC), resolved_at=datetime(2026, 12, 5, 2, 30, tzinfo=UTC),
        )
    )  # fmt: skip
    waste = build_picture(store, config, now=now).waste
    assert (waste.reports_resolved, waste.reports_resolved_within_sla, waste.median_resolve_h) == (1, 1, 0.0)


def _served_per_hour(readings: list[tuple[int, int, int]]) -> dict[int, int]:
    """The MPP's hourly bars for one counter's readings (local hour, minute, served today),
    on a Wednesday of the shipped city (open 08:00-16:00 WIB), seen at the last reading."""
    config = load_config(environ={})
    moments = [datetime(2026, 12, 2, h, m, tzinfo=config.city.tz).timestamp() for h, m, _ in readings]
    store = MemoryStore()
    for moment, (_, _, served) in zip(moments, readings, strict=True):
        CityState(store, config, clock=lambda moment=moment: moment).accept(
            QueueReading(
                id="mpp-q", observed_at=datetime.fromtimestamp(moment, UTC), source_type="QueueMonitor",
                agency="dpmptsp", served_today=served,
            )
        )  # fmt: skip
    mpp = build_picture(store, config, now=moments[-1]).mpp
    assert mpp.served_today == readings[-1][2]
    return {h.hour: h.served for h in mpp.hourly if h.served}


def test_tickets_served_before_the_counter_was_first_heard_are_in_no_hour() -> None:
    """A demo (or a restart on an emptied store) begun at 20:10 drew the whole day's 700
    tickets as one bar at 20:00, four hours after the MPP closed: a counter's first reading
    of the day says how many were served, not when."""
    assert _served_per_hour([(20, 10, 700)]) == {}
    assert _served_per_hour([(11, 0, 300), (11, 40, 330), (12, 20, 380)]) == {11: 30, 12: 50}


def test_a_counter_heard_from_the_opening_hour_on_has_its_first_tickets_counted() -> None:
    assert _served_per_hour([(7, 50, 0), (8, 30, 40), (9, 30, 100)]) == {8: 40, 9: 60}
    assert _served_per_hour([(8, 14, 20), (9, 5, 70)]) == {8: 20, 9: 50}  # silent overnight, first heard at opening


def test_the_printed_summary_marks_what_the_tablet_marks_stale() -> None:
    """The tablet's stale marks are set by its script, and the PDF runs none: a shared PDF
    said "no flood alert" of gauges silent for an hour, with no warning on it at all."""
    import re

    from dashboard.export import summary_document

    config = load_config()
    store = MemoryStore()
    feed_city_day(store, config)
    last = max(store.last_seen().values())

    def printed(at: float) -> str:
        return summary_document(build_picture(store, config, at), settings(), at)

    def marks(document: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for tag in re.findall(r"<[^>]*data-stale-for=[^>]*>", document):
            family = re.search(r'data-stale-for="([^"]+)"', tag)
            stale = re.search(r'data-stale="([^"]+)"', tag)
            assert family and stale, tag
            found.setdefault(stale.group(1), set()).add(family.group(1))
        return found

    def root_stale(document: str) -> str:
        (root,) = re.findall(r"<div[^>]*tb-root[^>]*>", document)
        return dict(re.findall(r'([\w-]+)="([^"]*)"', root))["data-stale"]

    fresh = printed(last + 30)
    assert marks(fresh).get("true", set()) == set()
    assert root_stale(fresh) == "false"

    # 10 minutes after the last message: past drainage's 60 s and the incidents' and waste's
    # 5 minutes (config.yaml), within the MPP's 15 minutes
    late = printed(last + 600)
    assert {"drainage", "incidents", "waste"} <= marks(late)["true"]
    assert "mpp" not in marks(late)["true"]
    assert root_stale(late) == "true", "the page's header says it too"
    assert "⚠ DATA TERTUNDA" in late


@pytest.mark.parametrize(
    "sent",
    [
        "indeks_kepuasan_mpp",
        "pekanbaru:indeks_kepuasan_mpp",
        "kpi-2026-pekanbaru-indeks_kepuasan_mpp",
        "dinas/indeks_kepuasan_mpp",
    ],
)
def test_a_kpi_message_lands_on_the_kpi_its_id_ends_with(sent: str) -> None:
    """The README says a KPI message's id ends with the KPI id; an id with a namespace of its
    own was counted accepted and never shown."""
    from feeds.events import KpiReading

    config = load_config()
    store = MemoryStore()
    state = CityState(store, config)
    assert state.accept(
        KpiReading(
            id=f"urn:ngsi-ld:KeyPerformanceIndicator:{sent}", observed_at=at(9), source_type="KPI", kpi_id=sent, value=87.5
        )
    )
    picture = build_picture(store, config, NOW)
    (shown,) = [k for p in picture.kpis.pillars.values() for k in p.kpis if k.id == "indeks_kepuasan_mpp"]
    assert shown.value == 87.5


def test_a_kpi_message_that_names_no_kpi_of_the_city_is_refused_with_the_known_ones() -> None:
    from feeds.events import KpiReading, Reason, Rejected

    config = load_config()
    state = CityState(MemoryStore(), config)
    for sent in ("kepuasan_mpp", "indeks_kepuasan_mpp_2", "xindeks_kepuasan_mpp"):
        with pytest.raises(Rejected) as refused:
            state.accept(KpiReading(id=sent, observed_at=at(9), source_type="KPI", kpi_id=sent, value=1.0))
        assert refused.value.reason is Reason.INVALID_VALUE
        assert refused.value.detail.startswith(f"id: {sent} names no KPI this city takes by message (known: ")
        assert "indeks_kepuasan_mpp" in refused.value.detail


DAY = 86_400


def state_at_now(clock: Any = None, **history: int) -> CityState:
    """A city whose clock reads ``NOW`` (the test city's own clock stands at 0)."""
    from dashboard.config_sections import History

    config = load_config()
    config = config.model_copy(update={"history": History(**{**config.history.model_dump(), **history})})
    return CityState(MemoryStore(), config, clock=clock or (lambda: NOW))


@pytest.mark.parametrize(
    ("resolved_days", "ago_days", "taken"), [(7, 6.9, True), (7, 7.1, False), (0, 0.9, True), (0, 1.1, False)]
)
def test_an_incident_the_city_does_not_hold_older_than_it_keeps_resolved_ones_is_a_replay(
    resolved_days: int, ago_days: float, taken: bool
) -> None:
    """A month-old critical Alert replayed by a gateway came back open and took over a screen;
    so did the create of one resolved and long since dropped. Not held and older than the
    city keeps resolved incidents (a day at least): refused, named."""
    from feeds.events import Reason, Rejected

    state = state_at_now(resolved_days=resolved_days)
    alert = incident("OLD-1", ago_days * DAY, severity="critical")
    if taken:
        assert state.accept(alert) is True
        return
    with pytest.raises(Rejected) as refused:
        state.accept(alert)
    assert refused.value.reason is Reason.TOO_OLD
    days = max(resolved_days, 1)
    assert refused.value.detail == f"incident OLD-1: from {days}+ days ago and not held (resolved ones are kept {days} days)"
    assert state.store.entities("incident") == {}


def test_a_held_incident_takes_a_late_update_and_a_report_is_judged_like_an_incident() -> None:
    from feeds.events import Reason, Rejected
    from tests.support.city import Clock

    clock = Clock(NOW - 5 * DAY)
    state = state_at_now(clock)
    assert state.accept(incident("HELD", 8 * DAY)) is True, "three days old when it came"
    clock.now = NOW
    assert state.accept(incident("HELD", 7.5 * DAY, "acknowledged")) is True, "held: an update, however late"
    assert state.store.entities("incident")["HELD"]["status"] == "acknowledged"

    late = CitizenReport(
        id="REP-OLD",
        observed_at=at(8 * DAY),
        opened_at=at(8 * DAY),
        source_type="IssueReporting",
        topic="waste",
        category="sampah",
    )
    with pytest.raises(Rejected) as refused:
        state.accept(late)
    assert refused.value.reason is Reason.TOO_OLD
    assert state.accept(replace(late, observed_at=at(6 * DAY), opened_at=at(6 * DAY))) is True


def test_a_silent_feeds_kpis_are_not_sampled_on() -> None:
    """The minute sampler wrote a KPI's last value every minute after its feed died: the
    tablet drew "steady" up to "now" beside "0 stations in alert" with the gauges silent. A
    KPI sent as its own message keeps its rhythm and is sampled as before."""
    from dashboard.picture import kpi_series, sample_kpis
    from feeds.events import KpiReading

    config = load_config(environ={})
    store = MemoryStore()
    state = CityState(store, config)
    heard = time.time()
    state.accept(water("PS-SAIL", 0, 1.2, "Pos Sail"))
    state.accept(KpiReading(id="KPI-PAD", observed_at=datetime.fromtimestamp(heard, UTC), source_type="KeyPerformanceIndicator",
                            kpi_id="realisasi_pad", value=72.5))  # fmt: skip
    limit = config.thresholds.stale_after("drainage")
    sample_kpis(store, config, heard + 5)
    sample_kpis(store, config, heard + limit + 120)  # the gauges silent past their limit

    drainage = [t for t, _ in store.series(kpi_series("drainage_stations_in_alert"))]
    revenue = [t for t, _ in store.series(kpi_series("realisasi_pad"))]
    assert len(drainage) == 1 and drainage[0] <= heard + 5, "the line stops where the gauges stopped"
    assert len(revenue) == 2, "a month's revenue holds until the next"


def test_a_trend_ends_at_the_value_shown_beside_it() -> None:
    """The value is live, the points a minute's sample: "74 … highest 73" stood beside a line
    that ended lower. Its feed silent, the line ends where the data did."""
    from layouts.mayor.summaries import trend_summary

    now = 1_800_000_000.0
    points = [[now - 180, 70.0], [now - 120, 73.0], [now - 60, 72.0]]
    shown = trend_summary(points, 86_400, 48, now, current=74.0)
    assert (shown["last"], shown["hi"], shown["lo"], shown["first"]) == (74.0, 74.0, 70.0, 70.0)
    assert shown["points"][-1] == [now, 74.0]
    silent = trend_summary(points, 86_400, 48, now)
    assert (silent["last"], silent["hi"], silent["points"][-1]) == (72.0, 73.0, [now - 60, 72.0])
    assert trend_summary([], 86_400, 48, now, current=74.0)["points"] == [], "no history is not made of the value alone"


def test_the_tablets_trends_end_at_the_value_while_its_feed_speaks() -> None:
    from layouts.mayor.summaries import pillar_summaries
    from layouts.sections import Freshness, KpiEntry, KpisSection, KpiTrend, PillarBlock

    now = 1_800_000_000.0
    day = [(now - 180, 70.0), (now - 120, 73.0)]

    def entry(kpi_id: str, family: str) -> KpiEntry:
        return KpiEntry(kpi_id, kpi_id, "", 74.0, 80.0, "higher", "fair", "2027-01-15T08:00:00+00:00", KpiTrend(day, []), family)

    picture = CityPicture(
        generated_at=datetime.fromtimestamp(now, UTC).isoformat(),
        kpis=KpisSection(
            {"living": PillarBlock("Living", "home", [entry("open", "incidents"), entry("gauges", "drainage")], "fair")}
        ),
        freshness={"incidents": Freshness("x", False, 300), "drainage": Freshness("x", True, 60)},
    )
    kpis = {k["id"]: k["trends"]["day"] for k in pillar_summaries(picture)["living"]["kpis"]}
    assert (kpis["open"]["last"], kpis["open"]["hi"]) == (74.0, 74.0)
    assert (kpis["gauges"]["last"], kpis["gauges"]["hi"]) == (73.0, 73.0), "the gauges are silent: no value added"


def tablet_trends(kpi: Any, at: float) -> dict[str, Any]:
    """The tablet's three trend spans of ``kpi``, alone on its pillar, in a picture made at
    ``at`` with the KPI's feed speaking."""
    from layouts.mayor.summaries import pillar_summaries
    from layouts.sections import Freshness, KpisSection, PillarBlock

    picture = CityPicture(
        generated_at=datetime.fromtimestamp(at, UTC).isoformat(),
        kpis=KpisSection({"pillar": PillarBlock("Pillar", "home", [kpi], kpi.standing)}),
        freshness={kpi.family: Freshness("x", False, 3600)},
    )
    trends: dict[str, Any] = pillar_summaries(picture)["pillar"]["kpis"][0]["trends"]
    return trends


def test_a_young_historys_week_says_how_long_it_really_is() -> None:
    """Hourly points stand at the start of their hour: seven minutes of history read "steady
    over 1 h 5 min" on the week and the month."""
    from layouts.mayor.figures import covered_text
    from layouts.sections import KpiEntry, KpiTrend

    now = 1_800_000_000.0  # 08:00 UTC, a whole hour
    began = now + 25 * 60  # 08:25
    later = began + 7 * 60
    day = [(began, 91.4), (began + 240, 91.5)]
    month = [(now, 91.5)]  # the hour's point, stored at 08:00
    kpi = KpiEntry("mpp", "MPP", "", 91.5, 85.0, "higher", "good", None, KpiTrend(day, month), "kpis")
    trends = tablet_trends(kpi, later)
    assert [covered_text(trends[r], r, "en") for r in ("day", "week", "month")] == ["7 min", "7 min", "7 min"]


def test_the_week_and_the_month_see_what_the_day_saw() -> None:
    """The same two minutes read "down 1, lowest 42, highest 43" on the day and "steady,
    lowest 42, highest 42" on the week: the week took one point an hour."""
    from layouts.sections import KpiEntry, KpiTrend

    now = 1_800_000_000.0 + 40 * 60  # 08:40 UTC
    day = [(now - 150, 43.0), (now - 90, 55.0), (now - 30, 42.0)]  # a spike within the hour
    hour = 1_800_000_000.0
    month = [(hour - 3 * 3_600, 50.0), (hour - 2 * 3_600, 48.0), (hour, 41.0)]  # 05:00, 06:00 and 08:00
    kpi = KpiEntry("open", "Open", "", 42.0, 40.0, "lower", "fair", None, KpiTrend(day, month), "incidents")
    trends = tablet_trends(kpi, now)
    assert (trends["day"]["first"], trends["day"]["lo"], trends["day"]["hi"]) == (43.0, 42.0, 55.0)
    for span in ("week", "month"):
        # the hours before the minutes began (05:00, 06:00), then the minutes; 08:00's hour is theirs
        assert (trends[span]["first"], trends[span]["lo"], trends[span]["hi"]) == (50.0, 42.0, 55.0), span
        assert trends[span]["first_at"] == hour - 3 * 3_600, span
