"""Each panel's pure parts with a sample picture: what it shows, in which words, what it sends.

Panels are functions of the picture (``view``) and of their view (``render``, or a ``Patch``
for figures), so they are tested here with a hand-written picture in the contract's shape
(see ``dashboard/picture.py``), without a server or a browser. The browser checks (sizes,
overflow, offline) are in ``test_wall_browser.py``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from dash import Patch, html

from dashboard.config import load_config
from dashboard.layout_settings import view_settings
from layouts import map_figure, map_plan, panels
from layouts.console.detail import history_words, push_default
from layouts.frame import frame, signature
from layouts.i18n import when_lately
from layouts.pages.report import tables as report_tables
from layouts.panels import clock, drainage, feed_health, incident_queue, incidents_map, kpis, mpp, ticker, waste
from layouts.picture import CityPicture
from layouts.ports import PillarInfo, Span, ViewSettings, WallGeometry
from layouts.screens import grid_style, screen_body, screen_content, span_size
from layouts.screens import panel_block as screen_panel
from layouts.sections import (
    CityInfo,
    ContainerRow,
    CounterRow,
    DrainageSection,
    Freshness,
    GaugeRow,
    HourServed,
    IncidentRow,
    IncidentsSection,
    KpiEntry,
    KpisSection,
    KpiTrend,
    MppSection,
    PillarBlock,
    TickerLine,
    WasteSection,
)
from layouts.tree import keyed_delta, to_tree
from tests.support.configs import write_config
from tests.support.trees import texts
from tests.support.views import gauge as station

ASSETS = Path(__file__).resolve().parents[2] / "assets"
NOW = "2024-07-05T07:32:00+00:00"  # Friday 14:32 WIB


def settings(language: str = "id") -> ViewSettings:
    geojson = json.loads((ASSETS / "pekanbaru_kecamatan.geojson").read_text(encoding="utf-8"))
    return ViewSettings(
        city_name="Kota Pekanbaru",
        language=language,
        timezone="Asia/Jakarta",
        timezone_label="WIB",
        wall=WallGeometry(6, 4, 1920, 1080, 6),
        screens={1: ("clock", "kpis"), 4: ("incident_queue",)},
        spans=(Span("incidents_map", (2, 3, 8, 9), 2, 9),),
        districts_geojson=geojson,
        pillars=tuple(PillarInfo(i, names[0 if language == "id" else 1], icon) for i, names, icon in PILLARS),
    )


PILLARS = (
    ("governance", ("Tata Kelola", "Governance"), "building"),
    ("people", ("Masyarakat", "People"), "people"),
    ("mobility", ("Mobilitas", "Mobility"), "bus"),
)


def incident(i: int, severity: str, kecamatan: str, status: str = "new", lat: float = 0.52, lon: float = 101.44) -> IncidentRow:
    return IncidentRow(
        id=f"urn:ngsi-ld:Alert:{i}",
        severity=severity,
        status=status,
        category="traffic",
        sub_category=None,
        description=f"Kecelakaan {i} di Jl. Sudirman",
        kecamatan=kecamatan,
        address=None,
        lat=lat,
        lon=lon,
        assignee=None,
        acked_at=None,
        source_type="Alert",
        observed_at=NOW,
        opened_at=None,
    )


def gauge(gauge_id: str, station_id: str, name: str, kecamatan: str, level_m: float, stage: str, trend: list[Any]) -> GaugeRow:
    return station(station_id, name, stage, level_m, kecamatan, trend, gauge_id=gauge_id)


def container(site_id: str, name: str, kecamatan: str, fill: float, over_threshold: bool) -> ContainerRow:
    return ContainerRow(
        id=site_id,
        name=name,
        kecamatan=kecamatan,
        lat=None,
        lon=None,
        fill=fill,
        status=None,
        source_type="WasteContainer",
        observed_at=NOW,
        over_threshold=over_threshold,
    )


def counter(
    counter_id: str, agency: str, waiting: int, serving: int, served_today: int, avg_wait_min: float | None
) -> CounterRow:
    return CounterRow(
        id=counter_id,
        agency=agency,
        service=None,
        waiting=waiting,
        serving=serving,
        served_today=served_today,
        avg_wait_min=avg_wait_min,
        open=True,
        paused=False,
        source_type="QueueMonitor",
        observed_at=NOW,
    )


def kpi(kpi_id: str, name: str, value: float | None, target: float, standing: str, unit: str = "%") -> KpiEntry:
    return KpiEntry(
        id=kpi_id,
        name=name,
        unit=unit,
        value=value,
        target=target,
        better="higher",
        standing=standing,
        updated_at=NOW,
        trend=KpiTrend(day=[], month=[]),
    )


def sample_picture() -> CityPicture:
    fresh = Freshness(updated_at=NOW, stale=False, stale_after_s=60)
    trend = [[1_720_160_000 + 60 * i, 1.2 + 0.01 * i] for i in range(120)]
    families = ("incidents", "drainage", "waste", "mpp", "kpis")
    return CityPicture(
        version=42,
        generated_at=NOW,
        city=CityInfo(name="Kota Pekanbaru", timezone="Asia/Jakarta", language="id"),
        incidents=IncidentsSection(
            open=[
                incident(1, "critical", "Sukajadi", "dispatched"),
                incident(2, "high", "Lima Puluh"),
                incident(3, "medium", "Tenayan Raya", "acknowledged"),
                incident(4, "low", "Rumbai"),
            ],
            open_count=4,
            by_severity={"critical": 1, "high": 1, "medium": 1, "low": 1},
            by_status={"new": 2, "acknowledged": 1, "dispatched": 1},
            by_kecamatan={"Sukajadi": 1, "Limapuluh": 1, "Tenayan Raya": 1, "Rumbai": 1},
            by_category={"traffic": 4},
            by_assignee={},
            resolved_24h=20,
            resolved_within_sla_24h=18,
        ),
        drainage=DrainageSection(
            stations=[
                gauge("s1", "PKU-DR-01", "Sungai Siak - Palas", "Rumbai", 2.31, "Siaga", trend),
                gauge("s2", "PKU-DR-02", "Drainase Air Hitam", "Payung Sekaki", 0.6, "Normal", []),
            ],
            worst_stage="Siaga",
            in_alert=1,
            flood_alert=True,
            reports_open_by_kecamatan={"Rumbai": 3},
        ),
        waste=WasteSection(
            containers=[
                container("t1", "TPS Sialangrampai", "Kulim", 0.93, True),
                container("t2", "TPS Wonorejo", "Marpoyan Damai", 0.41, False),
            ],
            over_threshold=1,
            reports_open=7,
            reports_resolved=12,
            reports_resolved_within_sla=11,
            median_resolve_h=5.5,
            reports_open_by_kecamatan={"Bina Widya": 4, "Sail": 3},
            other_reports_open=0,
        ),
        mpp=MppSection(
            agencies=[
                counter("a1", "Disdukcapil", waiting=31, serving=4, served_today=180, avg_wait_min=22.0),
                counter("a2", "Bank BNI", waiting=3, serving=1, served_today=40, avg_wait_min=5.0),
            ],
            served_today=412,
            agencies_total=26,
            services=175,
            waiting=34,
            serving=5,
            avg_wait_min=20.2,
            target=700,
            attainment_pct=58.9,
            name="Mal Pelayanan Publik",
            hourly=[HourServed(hour=h, served=0 if h < 8 else 50 + h) for h in range(15)],
            due_now=525,  # 14:00 of 08:00-16:00
            pace_pct=78.5,
            open_now=True,
        ),
        kpis=KpisSection(
            pillars={
                "governance": PillarBlock(
                    name="Tata Kelola",
                    icon="building",
                    standing="fair",
                    kpis=[
                        kpi("mpp_target_attainment", "Capaian target izin MPP hari ini", 58.9, 100, "bad"),
                        kpi("incidents_within_sla", "Insiden selesai sesuai SLA", 90.0, 90, "good"),
                    ],
                ),
                "mobility": PillarBlock(
                    name="Mobilitas",
                    icon="bus",
                    standing="unknown",
                    kpis=[
                        kpi("ketepatan_bus_tmp", "Ketepatan waktu bus TMP", None, 90, "unknown"),
                    ],
                ),
            }
        ),
        ticker=[
            TickerLine.from_doc(
                {
                    "t": "2024-07-05T07:30:00+00:00",
                    "kind": "incident",
                    "id": "i1",
                    "severity": "critical",
                    "status": "new",
                    "kecamatan": "Sukajadi",
                    "text": "Kebakaran rumah",
                }
            ),
            TickerLine.from_doc(
                {
                    "t": "2024-07-05T07:31:00+00:00",
                    "kind": "report",
                    "id": "r1",
                    "topic": "waste",
                    "status": "open",
                    "kecamatan": "Sail",
                    "text": "Sampah menumpuk",
                }
            ),
        ],
        feeds={
            "mqtt": {
                "counts": {
                    "received": 1000,
                    "accepted": 990,
                    "duplicates": 4,
                    "rejected": 6,
                    "rejected.unknown_type": 5,
                    "rejected.missing_field": 1,
                },
                "connected": True,
                "last_message_at": NOW,
                "gaps": [],
            },
            "redis": {"counts": {"received": 10}, "connected": False, "last_message_at": None},
        },
        freshness={f: fresh for f in families},
        seen={f: True for f in families},
    )


#: Before any feed delivered: every family known, none ever seen.
EMPTY = CityPicture(
    freshness={
        f: Freshness(updated_at=None, stale=True, stale_after_s=60) for f in ("incidents", "drainage", "waste", "mpp", "kpis")
    },
    seen={f: False for f in ("incidents", "drainage", "waste", "mpp", "kpis")},
)


def parts(module: Any) -> Any:
    """A panel's live parts, top to bottom: its ``PARTS`` where it has several, else its one."""
    return getattr(module, "PARTS", [(None, module.view, module.render, False)])


def views(module: Any, picture: CityPicture, s: ViewSettings) -> list[Any]:
    """The views of every live part of a panel, top to bottom."""
    return [view(picture, s) for _, view, _, _ in parts(module)]


def drawn(module: Any, picture: CityPicture, s: ViewSettings) -> list[Any]:
    """A panel's live content as the page draws it: every part's render, top to bottom."""
    return [node for _, view, render, _ in parts(module) for node in render(view(picture, s), s)]


def joined(node: Any) -> str:
    return " | ".join(texts(node))


def classes(node: Any) -> list[str]:
    if isinstance(node, (list, tuple)):
        return [c for child in node for c in classes(child)]
    if isinstance(node, dict):
        return [str((node.get("p") or {}).get("className", ""))] + classes(node.get("c"))
    if not hasattr(node, "children"):
        return []
    own = [getattr(node, "className", "") or ""]
    return own + classes(node.children)


HTML_PANELS = [incident_queue, drainage, waste, mpp, kpis, feed_health, ticker]


@pytest.mark.parametrize("module", HTML_PANELS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_panel_shows_no_data_before_its_feed_and_never_raises(module: Any) -> None:
    s = settings()
    for picture in (CityPicture(), EMPTY):
        text = joined(drawn(module, picture, s))
        if module is feed_health and picture is EMPTY:
            # feed health is the one panel with something to say when nothing arrives
            assert "belum pernah" in text and "belum tersedia" in text
        else:
            assert "Belum ada data" in text


def _kpi_moved(p: CityPicture) -> CityPicture:
    governance = p.kpis.pillars["governance"]
    moved = replace(governance, kpis=[replace(governance.kpis[0], value=60.0), *governance.kpis[1:]])
    return replace(p, kpis=KpisSection(pillars={**p.kpis.pillars, "governance": moved}))


#: One change per part of the picture, each to a value the panels show: a new section, as
#: the store side makes one (sections are frozen and shared between pictures).
CHANGES: dict[str, Any] = {
    "incidents": lambda p: replace(p, incidents=replace(p.incidents, open_count=5)),
    "drainage": lambda p: replace(
        p, drainage=replace(p.drainage, stations=[replace(p.drainage.stations[0], level_m=2.6), *p.drainage.stations[1:]])
    ),
    "waste": lambda p: replace(p, waste=replace(p.waste, reports_open=8)),
    "mpp": lambda p: replace(p, mpp=replace(p.mpp, served_today=413)),
    "kpis": _kpi_moved,
    "feeds": lambda p: replace(
        p, feeds={**p.feeds, "mqtt": {**p.feeds["mqtt"], "counts": {**p.feeds["mqtt"]["counts"], "received": 1001}}}
    ),
    "ticker": lambda p: replace(
        p,
        ticker=[
            TickerLine.from_doc({"t": NOW, "kind": "incident", "id": "i9", "severity": "low", "status": "new", "text": "x"}),
            *p.ticker,
        ],
    ),
}
#: The parts each panel reads; a change anywhere else must leave its view (and so its
#: signature, and so the browser) alone. Feed health counts the ticker's events.
READS = {
    "incident_queue": {"incidents"},
    "drainage": {"drainage"},
    "waste": {"waste"},
    "mpp": {"mpp"},
    "kpis": {"kpis"},
    "feed_health": {"feeds", "ticker"},
    "ticker": {"ticker"},
}


@pytest.mark.parametrize("module", HTML_PANELS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_view_is_plain_data_and_its_signature_is_stable(module: Any) -> None:
    s = settings()
    a, b = views(module, sample_picture(), s), views(module, sample_picture(), s)
    json.dumps(a)  # plain data: cheap to digest, nothing Dash in it
    assert signature(a) == signature(b)


@pytest.mark.parametrize("part", sorted(CHANGES))
@pytest.mark.parametrize("module", HTML_PANELS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_signature_changes_with_the_panels_own_part_only(module: Any, part: str) -> None:
    s = settings()
    before = signature(views(module, sample_picture(), s))
    changed = CHANGES[part](sample_picture())
    after = signature(views(module, changed, s))
    own = part in READS[module.__name__.rsplit(".", 1)[-1]]
    assert (after != before) is own, f"{part} change {'left' if own else 'changed'} the view"


def test_incident_queue_orders_by_the_picture_and_says_severity_in_words_and_shapes() -> None:
    s = settings()
    panel = drawn(incident_queue, sample_picture(), s)
    text = joined(panel)
    assert "◆ KRITIS" in text and "▲ TINGGI" in text
    assert text.index("Kecelakaan 1") < text.index("Kecelakaan 2") < text.index("Kecelakaan 3"), "the critical row first"
    assert "dikirim" in text
    # the headline: open incidents, then one chip per severity
    assert texts(panel[0]) == [
        "4",
        "insiden terbuka",
        "◆ KRITIS 1",
        "▲ TINGGI 1",
        "● SEDANG 1",
        "○ RENDAH 1",
    ]
    assert "cw-headline" in classes(panel)
    picture = sample_picture()
    counts = {**picture.incidents.by_severity, "informational": 2}
    with_info = replace(picture, incidents=replace(picture.incidents, open_count=6, by_severity=counts))
    assert texts(drawn(incident_queue, with_info, s)[0])[2:] == [
        "◆ KRITIS 1",
        "▲ TINGGI 1",
        "● SEDANG 1",
        "○ RENDAH 1",
        "□ INFO 2",
    ], "while informational incidents are open the chips add up to the headline"
    critical = [r["id"] for r in incident_queue.critical_view(sample_picture(), s)["rows"]]
    rest = [r["id"] for r in incident_queue.view(sample_picture(), s)["rows"]]
    assert (critical, rest) == (["urn:ngsi-ld:Alert:1"], ["urn:ngsi-ld:Alert:2", "urn:ngsi-ld:Alert:3", "urn:ngsi-ld:Alert:4"]), (
        "the critical row in its own part, the rest in theirs, each once"
    )


def test_drainage_banner_stage_words_trend_and_rise() -> None:
    s = settings()
    shown = drainage.view(sample_picture(), s)
    rendered = drainage.render(shown, s)
    text = joined(rendered)
    assert "PERINGATAN BANJIR" in text and "Sungai Siak - Palas (SIAGA)" in text
    assert "◆ SIAGA" in text and "● NORMAL" in text
    assert "2,31 m" in text  # Indonesian decimal comma
    assert "↑ 0,60 m/jam" in text  # 0.01 m a minute
    assert len(shown["stations"][0]["trend"]) == drainage.TREND_POINTS  # bounded, however long the history
    assert rendered[0]["p"]["className"].startswith("cw-flood-banner")
    calm = sample_picture()
    calm = replace(calm, drainage=replace(calm.drainage, flood_alert=False))
    assert "PERINGATAN BANJIR" not in joined(drainage.render(drainage.view(calm, s), s))


def test_drainage_sparkline_is_a_local_svg() -> None:
    uri = drainage.sparkline([0.5, 1.0, 2.2], {"waspada": 1.5, "siaga": 2.0, "awas": 2.5}, "#fff")
    assert uri.startswith("data:image/svg+xml")
    body = unquote(uri.split(",", 1)[1])
    assert "http" not in body.replace("http://www.w3.org/2000/svg", "")
    svg = ElementTree.fromstring(body)  # a well-formed image once decoded
    line = svg.find("{http://www.w3.org/2000/svg}polyline")
    assert line is not None and line.get("stroke") == "#fff"
    # top = 1.1 x awas = 2.75; y = 56 - 52 * v / 2.75, x from 4 to 236
    assert line.get("points") == "4,46.5 120,37.1 236,14.4"
    siaga = svg.find("{http://www.w3.org/2000/svg}path")
    assert siaga is not None and siaga.get("d") == "M0 18.2H240"


def test_waste_fullest_sites_reports_and_median() -> None:
    s = settings()
    text = joined(waste.render(waste.view(sample_picture(), s), s))
    assert "TPS Sialangrampai" in text and "■ 93%" in text
    assert "5,5 jam" in text and "Bina Widya" in text
    assert text.index("TPS Sialangrampai") < text.index("TPS Wonorejo")


def test_mpp_headline_queue_and_hourly_patch() -> None:
    s = settings()
    text = joined(mpp.render(mpp.view(sample_picture(), s), s))
    assert "412" in text and " / 700" in text and "58,9%" in text
    assert "26 instansi, 175 layanan" in text  # the MPP's size from the config
    assert text.index("Disdukcapil") < text.index("Bank BNI")  # longest queue first
    patch = mpp.chart_patch(mpp.chart_view(sample_picture(), s), s)
    assert isinstance(patch, Patch)
    ops = patch.to_plotly_json()["operations"]
    y = next(op["params"]["value"] for op in ops if op["location"] == ["data", 0, "y"])
    assert len(y) == mpp.HOURS and y[8] == 58 and y[14] == 64  # a fixed 24 bars: the series cannot grow
    assert all(op["location"][0] in ("data", "layout") for op in ops)


def test_the_hourly_chart_spans_the_configured_opening_hours() -> None:
    """The axis was 08-17 whatever the config said; an MPP open 08:00-15:00 showed two hours
    it never serves in. Served hours outside the opening ones still show."""
    s = replace(settings(), mpp_hours=(8, 14))

    def axis(served: list[int]) -> list[float]:
        ops = mpp.chart_patch(served, s).to_plotly_json()["operations"]
        return next(op["params"]["value"] for op in ops if op["location"] == ["layout", "xaxis", "range"])

    morning = [0] * 8 + [40, 55, 10]  # 10:xx now
    assert axis(morning) == [7.5, 14.5]
    assert axis([0] * 7 + [3] + [50] * 8 + [0]) == [6.5, 16.5], "served before opening, and now at 16:xx"


def test_a_closed_mpp_says_so_instead_of_counting_against_a_target() -> None:
    s = settings()
    closed = replace(sample_picture(), mpp=replace(sample_picture().mpp, served_today=0, target=0, attainment_pct=None))
    text = joined(mpp.render(mpp.view(closed, s), s))
    assert "MPP tutup hari ini" in text and " / " not in text.split("MPP tutup")[0]


def test_a_counter_paused_for_the_break_says_so_and_one_closed_for_the_day_says_tutup() -> None:
    """From 12:00 to 13:00 every counter read "tutup" beside the people still waiting at it,
    as if the MPP had shut for the day."""
    s = settings()
    rows = [
        replace(counter("q1", "Disdukcapil", 14, 0, 120, 22.5), open=False, paused=True),
        replace(counter("q2", "Samsat", 3, 0, 80, None), open=False),
        counter("q3", "BPJS", 2, 1, 60, 9.0),
    ]
    picture = replace(sample_picture(), mpp=replace(sample_picture().mpp, agencies=rows))
    shown = mpp.view(picture, s)
    assert [(texts(mpp.agency_row(a, "id"))) for a in shown["agencies"]] == [
        ["Disdukcapil", "14", "120", "jeda"],
        ["Samsat", "3", "80", "tutup"],
        ["BPJS", "2", "60", "9 mnt"],
    ]
    assert texts(mpp.agency_row(shown["agencies"][0], "en"))[-1] == "paused"


def test_an_mpp_not_open_yet_says_so_instead_of_a_missed_target() -> None:
    """At midnight before a Monday the wall and the tablet read "0 / 1.000" at "0,0%" of the
    day's target: a missed target, where nothing was due yet."""
    from layouts.mayor.headlines import mpp_body

    s = settings()
    night = replace(
        sample_picture().mpp, served_today=0, target=1000, attainment_pct=0.0, due_now=0, pace_pct=None, open_now=False
    )
    text = joined(mpp.render(mpp.view(replace(sample_picture(), mpp=night), s), s))
    assert "0 |  / 1.000 | MPP belum buka hari ini" in text and "%" not in text.split("menunggu")[0], text
    tile = {"served": 0, "target": 1000, "pct": 0.0, "before_opening": True}
    assert texts(mpp_body(tile, "id")) == ["0", "\u00a0/ 1.000", "MPP belum buka hari ini"]
    opening = replace(night, open_now=True)  # 08:00: open, its first minute's share not yet due
    assert "0,0%" in joined(mpp.render(mpp.view(replace(sample_picture(), mpp=opening), s), s))
    assert "0,0%" in texts(mpp_body({**tile, "before_opening": False}, "id"))[-1]


def test_kpis_pillars_by_their_configured_names() -> None:
    """Another city's pillars show under its own names, in its order; no built-in name appears."""
    own = dataclasses.replace(
        settings(),
        pillars=(PillarInfo("branding", "Smart Branding", "megaphone"), PillarInfo("government", "Smart Government", "building")),
    )
    picture = replace(
        sample_picture(),
        kpis=KpisSection(
            pillars={
                "government": PillarBlock(
                    name="Government", icon="building", standing="good", kpis=[kpi("a", "A", 1, 1, "good", unit="")]
                ),
                "branding": PillarBlock(
                    name="Branding", icon="megaphone", standing="bad", kpis=[kpi("b", "B", 0, 1, "bad", unit="")]
                ),
            }
        ),
    )
    text = joined(kpis.render(kpis.view(picture, own), own))
    assert text.index("Smart Branding") < text.index("Smart Government")
    assert "Tata Kelola" not in text and "Mobilitas" not in text


def test_kpis_six_pillars_value_vs_target_with_direction() -> None:
    s = settings()
    text = joined(kpis.render(kpis.view(sample_picture(), s), s))
    assert "Tata Kelola" in text and "✖" in text and "target ≥ 100%" in text
    assert "58,9%" in text and "90%" in text
    assert "? BELUM ADA" in text and "–" in text  # no value yet: said, not hidden
    english = settings("en")
    assert "Governance" in joined(kpis.render(kpis.view(sample_picture(), english), english))


def test_feed_health_reads_the_feeds_section_defensively() -> None:
    s = settings()
    text = joined(feed_health.render(feed_health.view(sample_picture(), s), s))
    assert "MQTT" in text and "● TERHUBUNG" in text and "✖ TERPUTUS" in text
    assert "1.000" in text and "jenis tak dikenal 5" in text
    assert "Insiden" in text and "14:32 WIB" in text
    without = replace(sample_picture(), feeds={})
    text = joined(feed_health.render(feed_health.view(without, s), s))
    assert "belum tersedia" in text


def test_feed_health_shows_the_feeds_before_ingest_members_and_no_emptied_member() -> None:
    s = settings()
    members = {
        f"mqtt@ingest-host-{pid}": {"state": state, "connected": state == "running", "counts": {}}
        for pid, state in ((11, "drained"), (12, "drained"), (13, "dead"), (14, "running"), (15, "drained"))
    }
    feeds = {**members, "redis": {"connected": True, "counts": {}}, "mqtt": {"connected": True, "counts": {}}}
    shown = feed_health.view(replace(sample_picture(), feeds=feeds), s)["feeds"]
    assert [f["name"] for f in shown] == ["mqtt", "redis", "mqtt@ingest-host-14", "mqtt@ingest-host-13"]


def test_ticker_newest_first_in_wib() -> None:
    s = settings()
    text = joined(ticker.render(ticker.view(sample_picture(), s), s))
    assert text.index("Sampah menumpuk") < text.index("Kebakaran rumah")
    assert "14:31" in text and "▣ sampah" in text and "◆ KRITIS" in text


def derived_only(tree: dict[str, Any]) -> None:
    """The shipped city with pillars whose KPIs all come from the streams: no KPI feed at all."""
    kpi = {"open_incidents": "incidents", "mpp_on_pace": "mpp", "drainage_stations_in_alert": "drainage"}
    tree["pillars"] = [
        {"id": f"p{i}", "name": {"id": f"P{i}", "en": f"P{i}"}, "kpis": [{"id": k, "name": {"en": k}, "target": 1}]}
        for i, k in enumerate(kpi)
    ]


def test_a_board_of_derived_kpis_ages_with_the_feeds_they_come_from(tmp_path: Path) -> None:
    """A city whose KPIs all come from the streams (README: they "need no feed") had its KPI
    board striped "data delayed" for ever and a "KPIs: never, delayed" row on feed health,
    waiting for KeyPerformanceIndicator messages nobody sends."""
    s = view_settings(load_config(write_config(tmp_path, derived_only), environ={}))
    root = screen_panel("kpis", "t", s)
    assert getattr(root, "data-family") == "drainage+incidents+mpp"
    assert [x["family"] for x in feed_health.view(sample_picture(), s)["sources"]] == ["incidents", "drainage", "waste", "mpp"]


def test_a_board_with_a_kpi_feed_ages_with_that_feed() -> None:
    s = view_settings(load_config(environ={}))
    assert getattr(screen_panel("kpis", "t", s), "data-family") == "kpis"
    assert "kpis" in [x["family"] for x in feed_health.view(sample_picture(), s)["sources"]]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Screen 30 is not on this wall: its screens are 1–24 (6 x 4)"),
        ("id", "Layar 30 tidak ada di dinding ini: layarnya 1–24 (6 x 4)"),
    ],
)
def test_a_kiosk_pointed_past_the_wall_is_told_which_screens_there_are(language: str, expected: str) -> None:
    """A kiosk left at /screen/9 when the city moved to a 3 x 2 wall read "Screen 9: 1-6"."""
    from layouts.pages import screen
    from layouts.routing import Pages

    pages = Pages()
    screen.register(pages, settings(language))
    found = pages.find("screen/30")
    assert found is not None
    page, variables = found
    assert texts(page.layout(**variables)) == [expected]


def test_clock_reads_like_a_wall_clock_in_both_languages() -> None:
    moment = datetime(2024, 7, 5, 7, 32, 9, tzinfo=UTC)
    assert clock.reading(moment, settings()) == {"hm": "14:32", "s": ":09", "date": "Jumat, 5 Juli 2024", "zone": "WIB"}
    assert clock.reading(moment, settings("en"))["date"] == "Friday, 5 July 2024"
    root = frame("clock", clock.FAMILY, "t", "id", clock.body("t", settings()))
    assert getattr(root, "data-stale") == "false", "a clock is never stale"


def test_map_patch_touches_only_fills_labels_and_markers() -> None:
    s = settings()
    shown = map_figure.map_view(sample_picture(), s)
    names = shown["names"]
    assert len(names) == 15
    assert shown["counts"][names.index("Lima Puluh")] == 1  # "Limapuluh" in the feed: matched by folded name
    ops = map_figure.map_patch(shown, s).to_plotly_json()["operations"]
    touched = {(op["location"][0], op["location"][-1]) for op in ops}
    assert touched == {("data", "fillcolor"), ("data", "text"), ("data", "x"), ("data", "y")}
    assert all(op["operation"] == "Assign" for op in ops)
    base = map_figure.base_figure(map_plan.cached_plan(s, None))
    index = next(i for i, trace in enumerate(base["data"]) if trace["name"] == "critical")
    critical = next(op for op in ops if op["location"] == ["data", index, "x"])
    assert critical["params"]["value"] == [101.44]
    for op in ops:  # every patched trace is the one the base figure has there
        trace = base["data"][op["location"][1]] if op["location"][0] == "data" else None
        assert trace is None or trace["name"] in [*names, "labels", *map_figure.SEVERITIES]
    labels = next(op for op in ops if op["location"][-1] == "text")
    assert base["data"][labels["location"][1]]["name"] == "labels"
    assert labels["params"]["value"][names.index("Lima Puluh")] == map_figure.label_text("Lima Puluh", 1)


def test_map_figure_is_offline_and_static() -> None:
    s = settings()
    layout = map_plan.cached_plan(s, span_size(s.spans[0], s))
    figure = map_figure.base_figure(layout)
    kinds = {trace["type"] for trace in figure["data"]}
    assert kinds == {"scatter"}, "no tile-based map traces"
    assert "mapbox" not in figure["layout"] and "map" not in figure["layout"]
    assert "annotations" not in figure["layout"]


def test_map_labels_are_drawn_under_every_marker() -> None:
    """An annotation is drawn above every trace: the labels' boxes hid the incidents under
    them. As a text trace before the markers, a label is drawn under them instead."""
    s = settings()
    figure = map_figure.base_figure(map_plan.cached_plan(s, span_size(s.spans[0], s)))
    order = [trace["name"] for trace in figure["data"]]
    labels = figure["data"][order.index("labels")]
    assert (labels["mode"], len(labels["text"])) == ("text", 15)
    assert all(order.index("labels") < order.index(severity) for severity in map_figure.SEVERITIES)


def test_map_labels_keep_off_the_bezels() -> None:
    s = settings()
    size = span_size(s.spans[0], s)
    layout = map_plan.cached_plan(s, size)
    bands_x, bands_y = map_plan.bezels(s, size)
    assert bands_x == [(1920, 1926)] and bands_y == [(1080, 1086)]
    x0, x1 = layout.x_range
    y0, y1 = layout.y_range
    for district, (lon, lat) in zip(layout.districts, layout.labels, strict=True):
        cx = (lon - x0) / (x1 - x0) * size[0]
        cy = (y1 - lat) / (y1 - y0) * size[1]
        box = map_plan.label_box(district.name, cx, cy)
        assert not map_plan.crosses(box, bands_x, bands_y, margin=0), district.name


def test_screens_give_a_clock_a_band_and_the_rest_the_screen() -> None:
    style, places = grid_style(("clock", "kpis"))
    assert style["gridTemplateRows"] == "200px minmax(0, 1fr)" and places[0] == {"gridColumn": "1 / -1"}
    style, _ = grid_style(("incident_queue",))
    assert style["gridTemplateColumns"] == "repeat(1, minmax(0, 1fr))"
    style, _ = grid_style(("waste", "drainage"))
    assert style["gridTemplateColumns"] == "repeat(2, minmax(0, 1fr))"
    assert span_size(settings().spans[0], settings()) == (3846, 2166)


def test_a_playlist_screen_has_one_slide_per_step_with_unique_ids() -> None:
    from dataclasses import replace

    s = replace(settings(), playlists={4: (("waste", "mpp"), 20)})
    body = screen_body(4, s)
    assert body.className == "cw-playlist" and getattr(body, "data-every") == "20"
    slides = body.children
    assert len(slides) == 3  # the screen's own panels first, then each playlist panel
    ids = [json.dumps(frame_.id, sort_keys=True) for slide in slides for frame_ in slide.children.children]
    assert len(ids) == len(set(ids)) == 3
    assert screen_content(1, s).className.startswith("cw-grid")


def test_a_span_window_is_the_whole_span_moved_by_whole_screens_and_bezels() -> None:
    s = settings()
    window = screen_content(9, s)
    assert window.style["transform"] == "translate(-1926px, -1086px)"
    assert window.style["width"] == "3846px"


def test_every_panel_module_follows_the_contract() -> None:
    for name in panels.names():
        module = panels.load(name)
        assert isinstance(module.FAMILY, str) and callable(module.body) and callable(module.register), name
        assert module.__doc__ and len(module.__doc__) > 80, f"{name}: say why, in the module docstring"
        body = module.body("t0", settings())
        assert isinstance(body, (list, html.Div)), name


def test_the_ticker_holds_a_recent_critical_line_above_a_flood_of_lesser_ones() -> None:
    s = settings()
    flood = [
        TickerLine.from_doc(
            {
                "t": f"2026-12-01T10:00:{59 - i:02d}+07:00",
                "kind": "incident",
                "id": f"low-{i}",
                "severity": "low",
                "status": "new",
                "kecamatan": "Sail",
                "text": f"lesser {i}",
            }
        )
        for i in range(30)
    ]
    critical = replace(
        incident(1, "critical", "Rumbai"),
        id="crit-1",
        observed_at="2026-12-01T10:00:10+07:00",
        description="Banjir besar di Rumbai",
    )
    old_critical = replace(critical, id="crit-0", observed_at="2026-12-01T09:00:30+07:00", description="Kebakaran kemarin")
    critical_line = TickerLine.from_doc(
        {"t": critical.observed_at, "kind": "incident", "id": "crit-1", "severity": "critical", "text": critical.description}
    )
    picture = CityPicture(
        generated_at="2026-12-01T03:00:30+00:00",  # 20 s after the critical incident, an hour after the old one
        ticker=[*flood[:5], critical_line, *flood[5:]],
        incidents=replace(IncidentsSection.empty(), open=[critical, old_critical], open_count=2),
        freshness={"incidents": Freshness(updated_at="2026-12-01T03:00:59+00:00", stale=False, stale_after_s=60)},
        seen={"incidents": True},
    )
    held = [line["id"] for line in ticker.held_view(picture, s)["lines"]]
    flow = [line["id"] for line in ticker.view(picture, s)["lines"]]
    assert held == ["crit-1"], "a critical line of 20 s ago is held; an hour-old one is not"
    assert flow == [f"low-{i}" for i in range(20)], "the flow: the newest lesser lines, newest first, the held one not again"
    eleven_minutes_on = replace(picture, generated_at="2026-12-01T03:11:10+00:00")  # nothing changed in the city
    assert ticker.held_view(eleven_minutes_on, s)["lines"] == [], "its hold ends on time"
    quiet = replace(eleven_minutes_on, ticker=[*flood[:5], critical_line])
    assert [line["id"] for line in ticker.view(quiet, s)["lines"]] == [*(f"low-{i}" for i in range(5)), "crit-1"], (
        "a line no longer held is back in the flow, in time order"
    )
    assert "Banjir besar di Rumbai" in texts(ticker.held_render(ticker.held_view(picture, s), s))
    assert ticker.held_render(ticker.held_view(eleven_minutes_on, s), s) == [], "nothing held, nothing drawn"


def _refs(delta: object) -> list[str]:
    """The keys a delta sends as references (``{"k": key}``), anywhere in it."""
    found: list[str] = []
    if isinstance(delta, list):
        for child in delta:
            found += _refs(child)
    elif isinstance(delta, dict):
        if set(delta) == {"k"}:
            found.append(delta["k"])
        else:
            found += _refs(delta.get("c"))
    return found


def _kpi(kpi_id: str, value: float) -> dict[str, object]:
    return {"id": kpi_id, "name": kpi_id, "value": value, "unit": "%", "target": 80, "better": "higher", "standing": "good"}


def test_a_kpi_that_moves_sends_its_row_and_references_to_the_rest() -> None:
    """Every new incident moves the incident KPIs, on four screens of the wall: as whole cards
    that was 8.5 KB per copy and frame."""

    def shown(resolved: float) -> dict[str, object]:
        pillars = [
            {
                "id": "governance",
                "name": "Tata kelola",
                "standing": "good",
                "kpis": [_kpi("sla", resolved), _kpi("egov", 91)],
            },
            {"id": "environment", "name": "Lingkungan", "standing": "good", "kpis": [_kpi("waste", 88)]},
        ]
        return {"has_data": True, "pillars": pillars}

    old, new = to_tree(kpis.render(shown(81.0), settings())), to_tree(kpis.render(shown(82.5), settings()))
    delta = keyed_delta(old, new)
    assert sorted(_refs(delta)) == ["egov", "environment"]
    assert "82,5%" in json.dumps(delta, ensure_ascii=False)


def test_a_reading_that_moves_one_gauge_sends_its_row_and_references_to_the_rest() -> None:
    """Every water-level reading changed the drainage panel, on three screens of the wall: as
    every row with its sparkline that was 22 KB per copy and frame."""
    s = settings()
    picture = sample_picture()
    stations = picture.drainage.stations
    assert len(stations) == 2  # the sample's two gauges
    moved = replace(stations[-1], level_m=stations[-1].level_m + 0.07)
    after = replace(picture, drainage=replace(picture.drainage, stations=[*stations[:-1], moved]))
    old = to_tree(drainage.render(drainage.view(picture, s), s))
    new = to_tree(drainage.render(drainage.view(after, s), s))
    delta = keyed_delta(old, new)
    assert sorted(_refs(delta)) == sorted(g.station_id for g in stations[:-1])
    assert f'"data-station": "{moved.station_id}"' in json.dumps(delta, ensure_ascii=False)


def test_a_new_incident_beside_the_map_sends_one_row_and_references() -> None:
    from layouts.map_lists import top_render

    def row(n: int) -> dict[str, str]:
        text = f"Kejadian {n}"
        return {"id": f"urn:ngsi-ld:Alert:{n}", "severity": "high", "text": text, "kecamatan": "Sukajadi", "since": NOW}

    old = to_tree(top_render({"has_data": True, "rows": [row(1), row(2)]}, settings()))
    new = to_tree(top_render({"has_data": True, "rows": [row(3), row(1), row(2)]}, settings()))
    delta = keyed_delta(old, new)
    assert _refs(delta) == ["urn:ngsi-ld:Alert:1", "urn:ngsi-ld:Alert:2"]
    assert "Kejadian 3" in json.dumps(delta)


def _age_cells(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [cell for child in node for cell in _age_cells(child)]
    if not isinstance(node, dict):
        return []
    own = [node] if "cw-age-cell" in str((node.get("p") or {}).get("className", "")) else []
    return own + _age_cells(node.get("c"))


@pytest.mark.parametrize("lister", ["queue", "beside the map"])
def test_an_incidents_age_is_left_to_the_browser_so_its_row_stays_the_same_as_it_ages(lister: str) -> None:
    """An hour on, the same incidents give the same view: the age cell carries the incident's
    start (``data-age-since``) and no text, which ``assets/citywall.js`` writes."""
    from layouts.map_lists import rest_render, rest_view, top_render, top_view

    s = settings()
    picture = sample_picture()
    incidents = picture.incidents
    later = replace(picture, generated_at="2024-07-05T08:32:00+00:00")  # NOW, an hour on
    if lister == "queue":
        assert signature(views(incident_queue, picture, s)) == signature(views(incident_queue, later, s))
        cells = _age_cells(to_tree(drawn(incident_queue, picture, s)))
    else:
        lists = ((top_view, top_render), (rest_view, rest_render))  # the critical rows and the rest
        assert [signature(v(picture, s)) for v, _ in lists] == [signature(v(later, s)) for v, _ in lists]
        cells = _age_cells(to_tree([node for v, r in lists for node in r(v(picture, s), s)]))
    assert [c["p"].get("data-age-since") for c in cells] == [NOW] * len(incidents.open)
    assert all("c" not in c for c in cells), "no age text from the server"


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2026-03-02T00:39:00+00:00", "07:39 WIB"),  # this morning
        ("2026-03-01T17:30:00+00:00", "00:30 WIB"),  # just after the city's midnight, UTC's yesterday
        ("2026-03-01T16:30:00+00:00", "1 Mar 23:30 WIB"),  # the city's yesterday
        ("2026-02-27T00:39:00+00:00", "27 Feb 07:39 WIB"),  # a monthly KPI's last reading
    ],
)
def test_a_kpis_time_carries_its_date_unless_it_is_of_the_citys_day(iso: str, expected: str) -> None:
    """Monday 2 March 2026, 10:00 WIB. "diperbarui 07:39 WIB" for a reading three days old read as this morning's."""
    assert when_lately(iso, "Asia/Jakarta", "WIB", "id", datetime(2026, 3, 2, 3, 0, tzinfo=UTC).timestamp()) == expected


def test_the_reports_figures_are_written_the_citys_way() -> None:
    report = {"by_period": [{"period": "2026-12-01 pagi", "incidents": 1200, "ack_median_min": 20.8, "ack_p90_min": None}]}
    table = report_tables(report, "id")[1]
    cells = [str(td.children) for td in table.children.children[1].children[0].children]
    assert cells == ["2026-12-01 pagi", "1.200", "20,8", "–"]


@pytest.mark.parametrize("config_path", ["config.yaml", "examples/pariaman/config.yaml"])
def test_each_list_beside_a_spanned_map_stands_inside_one_screen(config_path: str) -> None:
    """Pekanbaru's map spans two rows of two screens, Pariaman's one row of two. There the
    most severe incidents began beside the map and ran on into the next screen: every line
    cut in two by the bezel, and the ranking beside the map hidden under it."""
    s = view_settings(load_config(Path(__file__).resolve().parents[2] / config_path, environ={}))
    size = span_size(s.spans[0], s)
    screens = map_plan.screen_rects(s, size)
    overlays = [
        node for top in incidents_map.body("span", s) for node in _walk(top) if getattr(node, "className", "") == "cw-map-overlay"
    ]
    assert len(overlays) >= 2
    for overlay in overlays:
        style = overlay.style
        x0, y0 = float(style["left"][:-2]), float(style["top"][:-2])
        x1, y1 = x0 + float(style["width"][:-2]), y0 + float(style["maxHeight"][:-2])
        assert any(r.x0 <= x0 and x1 <= r.x1 and r.y0 <= y0 and y1 <= r.y1 for r in screens), (x0, y0, x1, y1)
    boxes = sorted((o.style["left"], o.style["top"]) for o in overlays)
    assert len(boxes) == len(set(boxes)), "two lists in one place"
    shown = {getattr(n, "id", {}).get("role") for o in overlays for n in _walk(o) if isinstance(getattr(n, "id", None), dict)}
    assert "incidents_map-top-content" in shown, "the most severe open incidents show on every span (Pariaman's lacked them)"

    def holds(overlay: Any, role: str) -> bool:
        return any(isinstance(getattr(n, "id", None), dict) and n.id["role"] == role for n in _walk(overlay))

    # the most severe list needs the width (a description on every row), the ranking does not:
    # on Pariaman's span it stood in the strip beside the map, its descriptions cut to one
    # letter, while the next screen held the four rows of the ranking
    right = [o for o in overlays if float(o.style["left"][:-2]) > s.wall.screen_width_px / 2]
    top = next(o for o in right if holds(o, "incidents_map-top-content"))
    assert float(top.style["width"][:-2]) == max(float(o.style["width"][:-2]) for o in right)


def test_on_a_span_with_one_column_beside_the_map_the_most_severe_incidents_take_it() -> None:
    """A city of four small kecamatan on a 4 x 2 wall, its map over screens 2 and 3: one
    column to the right, which held the four rows of the district ranking while the most
    severe open incidents showed nowhere."""

    def square(name: str, x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        return {"type": "Feature", "properties": {"nama": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}

    districts = {
        "type": "FeatureCollection",
        "features": [
            square("A", 112.87, -7.66, 112.895, -7.62),
            square("B", 112.895, -7.66, 112.915, -7.63),
            square("C", 112.915, -7.68, 112.95, -7.64),
            square("D", 112.895, -7.63, 112.93, -7.6),
        ],
    }
    s = replace(
        settings(),
        wall=WallGeometry(4, 2, 1920, 1080, 6),
        spans=(Span("incidents_map", (2, 3), 2, 3),),
        screens={},
        districts_geojson=districts,
    )
    right = [
        node
        for top in incidents_map.body("span", s)
        for node in _walk(top)
        if getattr(node, "className", "") == "cw-map-overlay" and float(node.style["left"][:-2]) > 1920
    ]
    roles = [n.id["role"] for o in right for n in _walk(o) if isinstance(getattr(n, "id", None), dict)]
    assert "incidents_map-top-content" in roles, roles


def _walk(node: Any) -> Any:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from _walk(child)


def test_a_push_goes_by_default_to_the_queue_screen_or_the_first_screen_of_its_own() -> None:
    """A 3 x 2 wall: the map spans screens 1 and 2. Screen 4, the old default, was not always there."""
    wall = WallGeometry(columns=3, rows=2, screen_width_px=1920, screen_height_px=1080, bezel_px=6)
    spans = (Span("incidents_map", (1, 2), 1, 2),)
    with_queue = replace(settings(), wall=wall, spans=spans, screens={3: ("clock",), 6: ("incident_queue",)})
    assert push_default(with_queue) == 6
    assert push_default(replace(with_queue, screens={3: ("clock",)})) == 3


def test_the_maps_share_within_sla_is_the_kpis_not_rounded_up_to_100() -> None:
    """1,999 of 2,000 read "100%" beside the map while the KPI said 99,9."""
    from layouts.map_lists import status_render

    shown = {"has_data": True, "status": [("new", 1)], "assignees": [], "resolved": 2_000, "within": 1_999}
    assert "99,9%" in joined(status_render(shown, settings()))
    assert "100%" not in joined(status_render(shown, settings()))


def test_a_figure_reads_the_same_on_the_wall_the_map_and_the_tablet() -> None:
    """The wall wrote 1,6 where the tablet wrote 1,64, the map 100,0% where the pillar wrote
    100%, and the tablet's MPP 102% where the wall's said 101,9%."""
    from layouts.map_lists import status_render
    from layouts.mayor.headlines import mpp_body

    row = {"id": "k", "name": "Partisipasi", "value": 1.64, "target": 2.0, "unit": "", "better": "higher", "standing": "fair"}
    assert texts(kpis.kpi_row(row, "id"))[1] == "1,64"
    whole = {"has_data": True, "status": [("new", 1)], "assignees": [], "resolved": 40, "within": 40}
    assert "100%" in joined(status_render(whole, settings()))
    assert texts(mpp_body({"served": 713, "target": 700, "pct": 101.9}, "id"))[-1].startswith("101,9%")


def test_a_ticker_line_from_an_earlier_day_says_which_day() -> None:
    """At 09:00 WIB a line from yesterday's 14:30 read "14:30", under this morning's 08:45: an
    event from the afternoon to come, or one from a week ago, for all the wall said."""
    s = settings()
    morning = "2024-07-05T02:00:00+00:00"  # Friday 09:00 WIB

    def line(i: str, t: str) -> TickerLine:
        return TickerLine(
            t=t, kind="incident", id=i, severity="high", topic=None, channel="", status="new", kecamatan="Sail", text=i
        )

    lines = [line("today", "2024-07-05T01:45:00+00:00"), line("yesterday", "2024-07-04T07:30:00+00:00")]
    lines.append(line("last-night", "2024-07-04T16:59:00+00:00"))  # 23:59 WIB on Thursday
    picture = replace(sample_picture(), ticker=lines, generated_at=morning)
    shown = {row["id"]: row for row in ticker.view(picture, s)["lines"]}
    assert {i: (row["time"], row["day"]) for i, row in shown.items()} == {
        "today": ("08:45", None),
        "yesterday": ("14:30", "4 Jul"),
        "last-night": ("23:59", "4 Jul"),
    }
    assert "4 Jul" in joined(ticker.render(ticker.view(picture, s), s))
    english = ticker.view(picture, settings("en"))["lines"]
    assert [row["day"] for row in english] == [None, "4 Jul", "4 Jul"]


def test_the_ranking_beside_the_map_adds_up_to_the_open_incidents() -> None:
    """Two of 796 open incidents were in no district (a point outside every boundary, or no
    place at all), and the ranking added up to 794 under a total of 796."""
    from layouts.map_lists import rank_render, rank_view

    picture = sample_picture()
    placed = rank_render(rank_view(picture, settings()), settings())
    assert "Tanpa kecamatan" not in joined(placed)

    # one in a kecamatan of another city, one with no kecamatan: six open, four placed
    by_kecamatan = {**picture.incidents.by_kecamatan, "Pariaman Tengah": 1}
    incidents = replace(picture.incidents, open_count=6, by_kecamatan=by_kecamatan)
    rows = rank_render(rank_view(replace(picture, incidents=incidents), settings()), settings())
    values = [int(node["c"]) for node in _walk_trees(rows) if "cw-bar-value" in str(node.get("p", {}).get("className"))]
    assert sum(values) == 6
    assert values[-1] == 2
    assert joined(rows).endswith("Tanpa kecamatan | 2")


def _walk_trees(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for child in node for found in _walk_trees(child)]
    if not isinstance(node, dict):
        return []
    return [node, *_walk_trees(node.get("c"))]


@pytest.mark.parametrize(
    ("standings", "language", "said"),
    [
        (["unknown", "unknown"], "id", "Belum ada nilai untuk 2 KPI"),
        (["unknown", "unknown"], "en", "No values yet for its 2 KPIs"),
        (["good", "unknown", "bad"], "id", "1 dari 3 KPI sesuai target"),
        (["good", "closed"], "id", "1 dari 2 KPI sesuai target"),
        (["closed", "closed"], "id", "Tutup saat ini: 2 KPI-nya tanpa nilai"),
        (["closed", "closed"], "en", "Closed now: no values for its 2 KPIs"),
        ([], "id", "Belum ada KPI"),
    ],
)
def test_a_pillar_card_with_no_kpi_known_says_so_not_none_on_target(standings: list[str], language: str, said: str) -> None:
    """ "0 dari 2 KPI sesuai target" under "? BELUM ADA" read as "none on target" on a quiet
    Sunday, when the MPP's KPIs had no value."""
    from layouts.mayor.kpis import card_body

    closed = bool(standings) and set(standings) == {"closed"}
    pillar = {
        "standing": "closed" if closed else "unknown",
        "kpis": [{"standing": s, "updated_at": None, "family": "incidents"} for s in standings],
    }
    summary = card_body(pillar, language)[1]
    assert summary.children == said


def test_a_kpi_of_a_service_closed_now_says_closed_on_the_wall_and_the_tablet() -> None:
    """On a Sunday the MPP's KPIs read "– ?" on the wall and "BELUM ADA" (no data yet) on the
    mayor's tablet, as if a feed had failed."""
    from layouts.mayor.kpis import kpi_facts

    row = {"id": "k", "name": "Izin MPP", "value": None, "target": 100, "unit": "%", "better": "higher", "standing": "closed"}
    assert texts(kpis.kpi_row(row, "id"))[1:] == ["tutup", "", "target ≥ 100%"]
    assert texts(kpis.kpi_row(row, "en"))[1:3] == ["closed", ""]
    card = {"id": "governance", "name": "Tata Kelola", "standing": "closed", "kpis": [row]}
    assert texts(kpis.pillar_card(card, "id"))[:2] == ["Tata Kelola", "– TUTUP"]
    badge = kpi_facts({**row, "updated_at": None, "family": "mpp"}, settings())[0].children[1]
    assert [part.children for part in badge.children] == ["–", "TUTUP"]
    unknown = {**row, "standing": "unknown"}
    assert texts(kpis.kpi_row(unknown, "id"))[1:3] == ["–", "?"]


def test_feed_text_in_a_plotly_tooltip_is_drawn_as_text() -> None:
    """plotly reads a trace's text as a subset of HTML: a description published with an
    ``<a href>`` became a live link in the console map's tooltip."""
    from layouts.console.map import figure
    from layouts.map_figure import label_text

    hostile = '<a href="https://evil.example/phish">Klik</a> & <b>BIG</b>'
    row = replace(incident(9, "critical", "Sukajadi"), description=hostile)
    picture = replace(sample_picture(), incidents=replace(sample_picture().incidents, open=[row]))
    traces = figure(picture, None, settings(), ([], []))["data"]
    (texts_drawn,) = [t["text"] for t in traces if t.get("name") == "critical"]
    assert texts_drawn == ['&lt;a href="https://evil.example/phish"&gt;Klik&lt;/a&gt; &amp; &lt;b&gt;BIG&lt;/b&gt;']
    assert label_text("Bukit <Raya>", 3).startswith("Bukit &lt;Raya&gt;<br>")


@pytest.mark.parametrize(
    ("entry", "language", "said"),
    [
        ({"action": "assign", "status": "dispatched", "agency": "Dishub"}, "id", "menugaskan · Dishub · → dikirim"),
        ({"action": "tick", "step": 0}, "id", "mencentang langkah 1"),
        ({"action": "resolve", "status": "resolved", "code": "handled"}, "id", "menyelesaikan · Ditangani · → selesai"),
        ({"action": "deescalate", "severity": "high"}, "en", "de-escalated · HIGH"),
        ({"action": "resolve", "code": "gone"}, "en", "resolved · gone"),
        ({"action": "merge"}, "en", "merge"),
    ],
)
def test_a_history_entry_reads_in_the_consoles_language(entry: dict[str, Any], language: str, said: str) -> None:
    """The history read ``assign status=dispatched agency=Dishub`` and ``tick step=0``: the
    desk's ids, in English on an Indonesian console, its SOP steps counted from 0."""
    assert history_words(entry, language, {"handled": "Ditangani"}) == said


def test_the_tickers_held_lines_are_worked_out_once_for_each_second_of_the_picture() -> None:
    """The held lines read their age at the picture's reading: a view that asks the picture's
    time is kept while its second and sections are, like any other. It was worked out again at
    every look at the page, up to twenty times a second."""
    from layouts.live_parts import LivePart, LiveParts

    calls: list[str | None] = []

    def counted(picture: CityPicture, s: ViewSettings) -> dict[str, Any]:
        calls.append(picture.generated_at)
        return ticker.held_view(picture, s)

    live = LiveParts(reader=None, settings=settings())  # type: ignore[arg-type]  # views only
    live.parts["ticker-held"] = LivePart(counted, ticker.held_render)
    first = sample_picture()
    shown, _ = live.view("ticker-held", first)
    assert [line["id"] for line in shown["lines"]] == [first.incidents.open[0].id]
    live.view("ticker-held", replace(first, version=43))  # the city moved elsewhere, same second
    assert calls == [NOW]
    later = "2024-07-05T07:32:01+00:00"
    live.view("ticker-held", replace(first, version=44, generated_at=later))
    assert calls == [NOW, later]
    by_hand = replace(first, generated_at=None)  # no time of its own: read now, every time
    live.view("ticker-held", by_hand)
    live.view("ticker-held", by_hand)
    assert calls == [NOW, later, None, None]
