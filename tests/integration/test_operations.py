"""The incident workflow, wall control, audit and shift report, on both stores.

Actions go through ``Desk`` (the object the API and the console share) on a store fed the
way production feeds it (``CityState.accept``); what the wall shows is read back from the
picture the screens render. Expected values are written out by hand here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

from dashboard.audit import to_csv
from dashboard.config import Config, load_config
from dashboard.desk import Desk
from dashboard.incident_ops import Action, ActionError, Actor, with_field_severity
from dashboard.ingest import CityState
from dashboard.layout_settings import view_settings
from dashboard.picture import build_picture
from dashboard.shift_report import Period, PeriodError, as_csv, as_json, as_xlsx, build, checked_at, incidents_frame, period_label
from dashboard.store.base import StateStore
from dashboard.store.memory import MemoryStore
from feeds.events import Incident
from layouts.console import detail as console_detail
from layouts.pages.report import tables as report_tables
from layouts.sections import REPORT_UNASSIGNED, IncidentRow, share_pct
from tests.support.operations import gauge
from tests.support.trees import texts

START = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 WIB
OPERATOR = Actor("ani", "operator", "session", "127.0.0.1")
SUPERVISOR = Actor("budi", "supervisor", "session", "127.0.0.1")


@dataclass
class Clock:
    now: float = START.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from dashboard.store.redis_store import RedisStore

    made = RedisStore(request.getfixturevalue("redis_url"), prefix="citywall")
    try:
        yield made
    finally:
        made.close()


def alert(
    id: str, minutes: float, status: str = "new", severity: str = "critical", category: str = "traffic", opened_min: float = 0.0
) -> Incident:
    """An Alert observed ``minutes`` after START, opened ``opened_min`` after START."""
    return Incident(
        id=id,
        observed_at=START + timedelta(minutes=minutes),
        source_type="Alert",
        category=category,
        severity=severity,
        status=status,
        kecamatan="Sail",
        lat=0.51,
        lon=101.45,  # type: ignore[arg-type]
        description=f"{category} {id}",
        opened_at=START + timedelta(minutes=opened_min),
    )


def desk_on(store: StateStore, config: Config, clock: Clock) -> Desk:
    return Desk(store, config, clock=clock)


def open_row(store: StateStore, config: Config, incident_id: str, now: float) -> IncidentRow:
    picture = build_picture(store, config, now=now)
    return next(d for d in picture.incidents.open if d.id == incident_id)


def test_acknowledge_assign_show_on_the_queue_and_keep_through_field_updates(store: StateStore, config: Config) -> None:
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("A1", 0))
    desk = desk_on(store, config, clock)
    clock.now += 60
    assert desk.act("A1", Action("acknowledge"), OPERATOR)["status"] == "acknowledged"
    clock.now += 60
    detail = desk.act("A1", Action("assign", agency="BPBD"), OPERATOR)
    assert (detail["status"], detail["assignee"]) == ("dispatched", "BPBD")
    row = open_row(store, config, "A1", clock.now)
    assert (row.status, row.assignee) == ("dispatched", "BPBD")
    # a field update observed before the assignment changes the description but not the status
    state.accept(
        Incident(
            id="A1",
            observed_at=START + timedelta(minutes=1, seconds=30),
            source_type="Alert",
            category="traffic",
            severity="critical",
            status="new",
            description="updated text",
            opened_at=START,
        )
    )
    row = open_row(store, config, "A1", clock.now)
    assert (row.status, row.assignee, row.description) == ("dispatched", "BPBD", "updated text")
    # a newer field observation wins: the field app resolved it after the operator assigned it
    state.accept(alert("A1", 10, status="resolved"))
    picture = build_picture(store, config, now=clock.now)
    assert all(d.id != "A1" for d in picture.incidents.open)
    assert desk.incident("A1")["assignee"] == "BPBD"


def test_an_assignment_made_meanwhile_is_not_silently_replaced(store: StateStore, config: Config) -> None:
    """Two operators assigned one incident 64 ms apart, to BPBD and to Damkar; both read
    "dispatched" and the incident went to Damkar without a word to the first."""
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("M1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    budi = Actor("budi", "operator", "session", "127.0.0.1")
    assert desk.act("M1", Action("assign", agency="BPBD", assignee_seen=""), OPERATOR)["assignee"] == "BPBD"
    with pytest.raises(ActionError) as refused:
        desk.act("M1", Action("assign", agency="Damkar", assignee_seen=""), budi)
    assert (refused.value.status, refused.value.word, refused.value.fill) == (409, "err_assigned_meanwhile", {"agency": "BPBD"})
    assert desk.incident("M1")["assignee"] == "BPBD"
    # having seen BPBD, a reassignment goes through; so does one that does not say what it saw (the API's)
    assert desk.act("M1", Action("assign", agency="Damkar", assignee_seen="BPBD"), budi)["assignee"] == "Damkar"
    assert desk.act("M1", Action("assign", agency="Dishub"), OPERATOR)["assignee"] == "Dishub"


def test_rules_refuse_what_does_not_apply(store: StateStore, config: Config) -> None:
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("B1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    cases = [
        (Action("assign", agency="NASA"), 422),
        (Action("resolve", code="nope"), 422),
        (Action("reopen"), 409),
        (Action("note", text="  "), 422),
        (Action("note", text="\u200b\u200b \ufeff"), 422),  # zero-width only: saved, and shown as a blank note
        (Action("escalate", severity="low"), 422),
        (Action("tick", step=99), 422),
        (Action("fly"), 422),
    ]
    for action, status in cases:
        with pytest.raises(ActionError) as caught:
            desk.act("B1", action, OPERATOR)
        assert caught.value.status == status, action
    with pytest.raises(ActionError) as caught:
        desk.act("nope", Action("acknowledge"), OPERATOR)
    assert caught.value.status == 404
    desk.act("B1", Action("acknowledge"), OPERATOR)
    with pytest.raises(ActionError) as caught:
        desk.act("B1", Action("acknowledge"), OPERATOR)
    assert caught.value.status == 409
    assert store.audit(100)[0]["action"] == "acknowledge", "refused actions leave no audit entry"
    assert len(store.audit(100)) == 1


def test_a_resolved_incident_keeps_its_severity_until_reopened(store: StateStore, config: Config) -> None:
    """The "+" on a resolved incident said "Naikkan: KRITIS" and moved it to another row of the
    shift report; a tired operator's slip, as a colleague had resolved it."""
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("R1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    desk.act("R1", Action("resolve", code="handled"), OPERATOR)
    for kind in ("escalate", "deescalate"):
        with pytest.raises(ActionError) as caught:
            desk.act("R1", Action(kind), OPERATOR)
        assert (caught.value.status, caught.value.word) == (409, "err_reopen_first")
    desk.act("R1", Action("reopen"), OPERATOR)
    assert desk.act("R1", Action("escalate"), OPERATOR)["severity"] == "critical"


def test_severity_sop_resolve_reopen_and_the_history(store: StateStore, config: Config) -> None:
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("C1", 0, severity="high", category="traffic"))
    desk = desk_on(store, config, clock)
    for minutes, action in enumerate(
        [
            Action("escalate"),
            Action("tick", step=0),
            Action("tick", step=2),
            Action("untick", step=2),
            Action("note", text="CCTV shows two cars"),
            Action("resolve", code="handled"),
            Action("reopen"),
        ],
        start=1,
    ):
        clock.now = START.timestamp() + minutes * 60
        detail = desk.act("C1", action, OPERATOR)
    assert detail["severity"] == "critical"
    assert [(s["step"], s["done"]) for s in detail["sop"]] == [(0, True), (1, False), (2, False), (3, False)]
    assert detail["sop"][0]["by"] == "ani"
    assert detail["sop"][0]["text"] == "Konfirmasi lokasi lewat CCTV"
    assert [n["text"] for n in detail["notes"]] == ["CCTV shows two cars"]
    assert [h["action"] for h in detail["history"]] == ["escalate", "tick", "tick", "untick", "note", "resolve", "reopen"]
    assert detail["status"] == "new"
    # the SLA clock: critical is acknowledged within 5 minutes; resolve took 6, reopened so pending again
    assert detail["sla"]["acknowledge_min"] == 5
    assert detail["sla"]["acknowledge_took_s"] == 360 and detail["sla"]["acknowledge_met"] is False
    assert detail["sla"]["resolve_left_s"] == 60 * 60 - 7 * 60


def test_an_operators_resolution_stands_against_later_field_stages_until_reopened(store: StateStore, config: Config) -> None:
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("S1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    clock.now = START.timestamp() + 2 * 60
    desk.act("S1", Action("resolve", code="handled"), OPERATOR)
    state.accept(alert("S1", 5, status="acknowledged", severity="high"))  # the field app, three minutes later
    assert desk.incident("S1")["status"] == "resolved"
    assert all(d.id != "S1" for d in build_picture(store, config, now=START.timestamp() + 6 * 60).incidents.open)
    clock.now = START.timestamp() + 7 * 60
    desk.act("S1", Action("reopen"), OPERATOR)
    state.accept(alert("S1", 8, status="dispatched", severity="high"))
    assert open_row(store, config, "S1", clock.now).status == "dispatched", "after the reopen the field's stages show again"


def test_a_field_that_says_new_again_does_not_undo_an_operators_acknowledgement(store: StateStore, config: Config) -> None:
    """A field system that knows nothing of the desk re-sent "new" two minutes after an
    operator acknowledged a critical Alert: it stood as unseen again and took over screen 10
    once more. The field moves an incident on, never back; a later stage from it shows."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("N1", 0, severity="critical"))
    desk = desk_on(store, config, clock)
    clock.now = START.timestamp() + 60
    desk.act("N1", Action("acknowledge"), OPERATOR)
    state.accept(alert("N1", 3, status="new", severity="critical"))  # the field's re-send, newer than the action
    assert open_row(store, config, "N1", clock.now).status == "acknowledged"
    assert build_picture(store, config, now=clock.now).wall.takeovers == []
    state.accept(alert("N1", 5, status="dispatched", severity="critical"))
    assert open_row(store, config, "N1", clock.now).status == "dispatched"


def test_a_field_message_naming_no_severity_keeps_the_incidents_and_the_operators(store: StateStore, config: Config) -> None:
    """A status update without a severity was read as "medium": it took a critical incident
    down on the wall, and undid an operator's escalation made before it. So did one that
    repeated the field's own severity, as field systems do with every update."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("V1", 0, severity="critical"))
    state.accept(replace(alert("V1", 2, status="acknowledged", severity="medium"), severity_said=False))
    assert open_row(store, config, "V1", clock.now).severity == "critical"
    state.accept(alert("V2", 0, severity="high"))
    clock.now = START.timestamp() + 60
    desk_on(store, config, clock).act("V2", Action("escalate"), OPERATOR)
    state.accept(replace(alert("V2", 3, status="dispatched", severity="medium"), severity_said=False))
    assert (open_row(store, config, "V2", clock.now).severity, open_row(store, config, "V2", clock.now).status) == (
        "critical",
        "dispatched",
    )
    state.accept(alert("V2", 4, status="dispatched", severity="high"))  # the field's own, repeated: no new judgement
    assert open_row(store, config, "V2", clock.now).severity == "critical"
    state.accept(alert("V2", 5, status="dispatched", severity="low"))  # the field names another after the escalation
    assert open_row(store, config, "V2", clock.now).severity == "low"
    state.accept(replace(alert("V3", 0, severity="medium"), severity_said=False))  # new, and naming none
    assert open_row(store, config, "V3", clock.now).severity == "medium"
    # a de-escalation holds the same way: the field repeating "critical" is its old judgement
    state.accept(alert("V4", 0, severity="critical"))
    desk_on(store, config, clock).act("V4", Action("deescalate"), OPERATOR)
    state.accept(alert("V4", 6, status="dispatched", severity="critical"))
    assert open_row(store, config, "V4", clock.now).severity == "high"
    state.accept(alert("V4", 7, status="dispatched", severity="medium"))
    state.accept(alert("V4", 8, status="dispatched", severity="critical"))  # the field raises it again itself
    assert open_row(store, config, "V4", clock.now).severity == "critical"


def test_the_history_says_when_the_field_took_the_severity_back(store: StateStore, config: Config) -> None:
    """The field named another severity after an operator's escalation: the wall showed the
    field's, while the incident's history ended at the escalation, with nothing to say why."""
    clock = Clock(now=START.timestamp() + 60)  # 10:01 WIB
    state = CityState(store, config, clock=clock)
    state.accept(alert("H1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    desk.act("H1", Action("escalate"), OPERATOR)
    state.accept(alert("H1", 3, status="dispatched", severity="high"))  # its own again: no new judgement
    assert [h["action"] for h in desk.incident("H1")["history"]] == ["escalate"]
    clock.now = START.timestamp() + 6 * 60
    desk.act("H1", Action("note", text="Tim sudah di lokasi"), OPERATOR)
    state.accept(alert("H1", 5, status="dispatched", severity="low"))  # another, 10:05 on the field's clock
    history = desk.incident("H1")["history"]
    assert [(h["action"], h.get("severity")) for h in history] == [
        ("escalate", "critical"),
        ("field_severity", "low"),
        ("note", None),
    ]
    assert history[1]["at"] == "2026-12-01T03:05:00+00:00"
    drawn = texts(console_detail.render(desk.incident("H1"), view_settings(config), now=clock.now))
    assert "10:05:00 lapangan menetapkan tingkat · RENDAH" in drawn
    clock.now += 60
    desk.act("H1", Action("escalate"), OPERATOR)  # the operator's again, over the field's: the field's stays told
    history = desk.incident("H1")["history"]
    assert [(h["action"], h.get("severity")) for h in history] == [
        ("escalate", "critical"),
        ("field_severity", "low"),
        ("note", None),
        ("escalate", "medium"),
    ]
    assert [h["action"] for h in store.read_stamped("incident_ops", "H1")[1]["history"]] == [  # kept, not derived
        "escalate",
        "field_severity",
        "note",
        "escalate",
    ]
    state.accept(alert("H1", 8, status="dispatched", severity="low"))  # its own again, after the escalation
    assert [h["action"] for h in desk.incident("H1")["history"]][-1] == "escalate"
    state.accept(alert("H1", 9, status="dispatched", severity="high"))
    assert [(h["action"], h.get("severity")) for h in desk.incident("H1")["history"]][-1] == ("field_severity", "high")


def test_housekeeping_drops_incidents_resolved_by_operators_and_their_records(store: StateStore, config: Config) -> None:
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("D1", 0))
    state.accept(alert("D2", 0))
    desk = desk_on(store, config, clock)
    desk.act("D1", Action("resolve", code="handled"), OPERATOR)
    desk.act("D2", Action("acknowledge"), OPERATOR)
    state.housekeep(now=START.timestamp() + (config.history.resolved_days + 1) * 86_400)
    assert set(store.entities("incident")) == {"D2"}
    assert set(store.entities("incident_ops")) == {"D2"}


def test_wall_control_preset_broadcast_push_and_expiry(store: StateStore, config: Config) -> None:
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("E1", 0, severity="low"))
    desk = desk_on(store, config, clock)
    version = store.version()
    desk.set_preset("banjir", SUPERVISOR)
    assert store.version() > version, "screens wake on the version"
    desk.broadcast("RED", "Banjir di Rumbai", 5, SUPERVISOR)
    desk.push(4, "E1", 2, OPERATOR)
    wall = build_picture(store, config, now=clock.now).wall
    assert wall.current == "banjir"
    assert wall.broadcast is not None and (wall.broadcast.level, wall.broadcast.text) == ("RED", "Banjir di Rumbai")
    assert [(p.screen, p.incident, p.severity) for p in wall.pushed] == [(4, "E1", "low")]
    assert [p.name for p in wall.presets] == ["default", "banjir", "layanan"]
    later = build_picture(store, config, now=clock.now + 3 * 60).wall
    assert later.pushed == [] and later.broadcast is not None
    assert build_picture(store, config, now=clock.now + 6 * 60).wall.broadcast is None
    with pytest.raises(ActionError):
        desk.set_preset("nope", SUPERVISOR)
    with pytest.raises(ActionError):
        desk.broadcast("PURPLE", "x", 5, SUPERVISOR)
    desk.clear_broadcast(SUPERVISOR)
    assert build_picture(store, config, now=clock.now).wall.broadcast is None
    # nothing left to clear, a screen the wall lacks: refused, and nothing written to the audit
    with pytest.raises(ActionError) as nothing:
        desk.clear_broadcast(SUPERVISOR)
    assert (nothing.value.status, nothing.value.word) == (409, "err_nothing_broadcast")
    with pytest.raises(ActionError) as no_screen:
        desk.dismiss(99, SUPERVISOR)
    assert (no_screen.value.status, str(no_screen.value)) == (422, "screen must be 1-24")
    actions = [e["action"] for e in store.audit(10)]
    assert actions == ["wall.broadcast.clear", "wall.push", "wall.broadcast", "wall.preset"]


def test_a_push_ends_when_its_incident_is_resolved(store: StateStore, config: Config) -> None:
    """A resolved incident stayed pushed on its screen, "selesai", for the rest of its minutes,
    in place of the screen's own panels; and once that was fixed, a reopen within those
    minutes put it back on the wall, unasked."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("P1", 0, severity="high"))
    state.accept(alert("P2", 1, severity="high"))
    desk = desk_on(store, config, clock)
    desk.push(4, "P1", 10, OPERATOR)
    desk.push(5, "P2", 10, OPERATOR)
    desk.push(6, "P1", 10, OPERATOR)  # one incident on two screens
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["P1", "P2", "P1"]
    clock.now += 60
    desk.act("P1", Action("resolve", code="handled"), OPERATOR)
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["P2"]
    assert store.audit(1)[0]["action"] == "wall.push.end"
    clock.now += 60
    desk.act("P1", Action("reopen"), OPERATOR)
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["P2"], "off until pushed again"
    assert store.audit(1)[0]["action"] == "reopen", "nothing more to end"
    desk.push(4, "P1", 10, OPERATOR)
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["P1", "P2"]


def test_a_reopen_ends_the_push_that_the_fields_resolve_left(store: StateStore, config: Config) -> None:
    """The field resolved a pushed incident (the screen dropped it); an operator reopened it
    within the push's minutes, and it came back on the wall."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("F1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    desk.push(4, "F1", 10, OPERATOR)
    clock.now += 60
    state.accept(alert("F1", 1, severity="high", status="resolved"))
    assert build_picture(store, config, now=clock.now).wall.pushed == []
    clock.now += 60
    desk.act("F1", Action("reopen"), OPERATOR)
    assert build_picture(store, config, now=clock.now).wall.pushed == []


def test_the_fields_resolve_ends_a_push_that_its_reopen_does_not_bring_back(store: StateStore, config: Config) -> None:
    """The field resolved a pushed incident and reopened it within the push's minutes: it came
    back on its screen, unasked. A push made after the reopen shows, and an incident that was
    never resolved keeps its push through the field's other updates."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("G1", 0, severity="high"))
    state.accept(alert("G2", 0, severity="high"))
    desk = desk_on(store, config, clock)
    desk.push(4, "G1", 10, OPERATOR)
    desk.push(5, "G2", 10, OPERATOR)
    clock.now += 60
    state.accept(alert("G1", 1, severity="high", status="resolved"))
    state.accept(alert("G2", 1, severity="high", status="dispatched"))
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["G2"]
    clock.now += 60
    state.accept(alert("G1", 2, severity="high", status="dispatched"))
    state.accept(alert("G2", 2, severity="critical", status="dispatched"))
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["G2"], "not back after the reopen"
    clock.now += 60
    state.accept(alert("G1", 3, severity="critical", status="dispatched"))
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["G2"], "nor after a later update"
    with pytest.raises(ActionError) as nothing:  # the screen shows its own panels: nothing to take off
        desk.dismiss(4, OPERATOR)
    assert nothing.value.status == 409
    assert desk.push(4, "G1", 10, OPERATOR)["replaced"] is None, "it took nothing off the screen"
    assert [p.incident for p in build_picture(store, config, now=clock.now).wall.pushed] == ["G1", "G2"]
    state.accept(alert("G1", 4, severity="critical", status="resolved"))
    clock.now += 60
    assert desk.push(4, "G2", 10, OPERATOR)["replaced"] is None, "nor did the next, over a resolved one"


def test_a_push_over_another_incidents_push_says_whose_it_took_off(store: StateStore, config: Config) -> None:
    """A push put over a colleague's push on the same screen went by unsaid: the colleague's
    incident left the wall and nobody was told."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("R1", 0, severity="high"))
    state.accept(alert("R2", 1, severity="high"))
    desk = desk_on(store, config, clock)
    assert desk.push(4, "R1", 10, Actor(name="budi", role="operator"))["replaced"] is None
    clock.now += 30
    taken = desk.push(4, "R2", 10, Actor(name="sari", role="operator"))
    assert taken["replaced"] == {"incident": "R1", "by": "budi"}
    assert [p["incident"] for p in taken["pushed"]] == ["R2"]
    assert store.audit(1)[0]["detail"]["replaced"] == {"incident": "R1", "by": "budi"}
    clock.now += 30
    assert desk.push(4, "R2", 5, Actor(name="sari", role="operator"))["replaced"] is None, "the same incident again"
    assert desk.push(5, "R1", 5, Actor(name="budi", role="operator"))["replaced"] is None, "an empty screen"


def test_takeover_fires_for_a_critical_incident_and_clears_on_acknowledge(store: StateStore, config: Config) -> None:
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("F1", 0, severity="high"))
    assert build_picture(store, config, now=clock.now).wall.takeovers == []
    state.accept(alert("F2", 1, severity="critical"))
    takeovers = build_picture(store, config, now=clock.now).wall.takeovers
    assert [(x.screen, x.id, x.rule) for x in takeovers] == [(10, "F2", "critical-incident")]
    assert list(build_picture(store, config, now=clock.now).wall.to_json()["takeovers"][0]) == [
        "screen",
        "rule",
        "kind",
        "id",
        "severity",
        "title",
        "where",
        "category",
        "lat",
        "lon",
    ]
    Desk(store, config, clock=clock).act("F2", Action("acknowledge"), OPERATOR)
    assert build_picture(store, config, now=clock.now).wall.takeovers == []


def test_station_takeover_holds_its_acknowledgement(store: StateStore, config: Config) -> None:
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(gauge("W1", 3.1, START))
    assert [(x.screen, x.id) for x in build_picture(store, config, now=clock.now).wall.takeovers] == [
        (11, "urn:ngsi-ld:FloodMonitoring:W1")
    ]
    assert list(build_picture(store, config, now=clock.now).wall.to_json()["takeovers"][0]) == [
        "screen",
        "rule",
        "kind",
        "id",
        "stage",
        "title",
        "where",
        "level_m",
        "lat",
        "lon",
    ]
    Desk(store, config, clock=clock).ack_station("W1", OPERATOR)  # by its station id
    assert build_picture(store, config, now=clock.now + 59 * 60).wall.takeovers == []
    assert len(build_picture(store, config, now=clock.now + 61 * 60).wall.takeovers) == 1


def test_a_calm_station_cannot_be_acknowledged_so_its_next_alarm_still_takes_over(store: StateStore, config: Config) -> None:
    """Screen 11 is taken over by a station at Awas (2,5 m). Acknowledged while at 1,0 m, a
    station kept its rise to 2,9 m off the wall for the rule's hour."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    desk = Desk(store, config, clock=clock)
    state.accept(gauge("W2", 1.0, START))
    with pytest.raises(ActionError) as refused:
        desk.ack_station("W2", OPERATOR)
    assert (refused.value.status, refused.value.reason) == (409, "station W2 is at Normal: no takeover to acknowledge")
    clock.now += 60
    state.accept(gauge("W2", 2.9, START + timedelta(minutes=1)))
    assert [(x.screen, x.id) for x in build_picture(store, config, now=clock.now).wall.takeovers] == [
        (11, "urn:ngsi-ld:FloodMonitoring:W2")
    ]
    desk.ack_station("W2", OPERATOR)  # by the station id the screen shows, not only the entity id
    assert build_picture(store, config, now=clock.now).wall.takeovers == []
    with pytest.raises(ActionError) as unknown:
        desk.ack_station("W9", OPERATOR)
    assert unknown.value.status == 404


def test_a_resolved_incident_is_not_pushed_over_a_live_push(store: StateStore, config: Config) -> None:
    """The screen drops a resolved incident's push at once: the push of a resolved incident
    took a colleague's live push off the screen and left the screen with nothing."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    desk = Desk(store, config, clock=clock)
    state.accept(alert("LIVE", 0))
    state.accept(alert("DONE", 0))
    clock.now += 60
    desk.act("DONE", Action("resolve", code="handled"), OPERATOR)
    desk.push(4, "LIVE", 10, OPERATOR)
    with pytest.raises(ActionError) as refused:
        desk.push(4, "DONE", 10, OPERATOR)
    assert (refused.value.status, refused.value.word) == (409, "err_already_resolved")
    assert [(p.screen, p.incident) for p in build_picture(store, config, now=clock.now).wall.pushed] == [(4, "LIVE")]


def test_assigning_the_agency_it_already_has_is_refused_and_not_dispatched_again(store: StateStore, config: Config) -> None:
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("AG", 0))
    desk = Desk(store, config, clock=clock)
    clock.now += 60
    desk.act("AG", Action("assign", agency="Dishub"), OPERATOR)
    with pytest.raises(ActionError) as refused:
        desk.act("AG", Action("assign", agency="Dishub"), OPERATOR)
    assert (refused.value.status, refused.value.reason) == (409, "incident is already assigned to Dishub")
    assert [e["action"] for e in store.audit(10)] == ["assign"]
    assert desk.act("AG", Action("assign", agency="Damkar"), OPERATOR)["assignee"] == "Damkar"  # another agency may take it over
    with pytest.raises(ActionError) as missing:
        desk.act("AG", Action("assign"), OPERATOR)
    assert missing.value.reason.startswith("an assignment needs an agency (known: ")


def test_a_step_up_or_down_says_in_the_audit_where_the_severity_went(store: StateStore, config: Config) -> None:
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("SV", 0, severity="high"))
    desk = Desk(store, config, clock=clock)
    clock.now += 60
    desk.act("SV", Action("escalate"), OPERATOR)
    clock.now += 60
    desk.act("SV", Action("deescalate"), OPERATOR)
    assert [(e["action"], e["detail"]["severity"]) for e in store.audit(10)] == [("deescalate", "high"), ("escalate", "critical")]


def test_audit_csv_quotes_formulas(config: Config) -> None:
    store = MemoryStore()
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("G1", 0))
    clock.now += 60
    Desk(store, config, clock=clock).act(
        "G1", Action("note", text='=HYPERLINK("x")'), Actor("=cmd", "operator", "session", "127.0.0.1")
    )
    rows = list(csv.reader(io.StringIO(to_csv(store.audit(10)))))
    assert rows[0] == ["at", "who", "role", "via", "origin", "action", "target", "detail"]
    assert rows[1][:7] == ["2026-12-01T03:01:00+00:00", "'=cmd", "operator", "session", "127.0.0.1", "note", "incident/G1"]
    assert '"text": "=HYPERLINK' in rows[1][7]


def test_audit_csv_writes_a_bidi_control_as_its_escape_and_keeps_the_note_as_typed(config: Config) -> None:
    """A right-to-left override in a note would show the auditor's cells in another order
    than was written; the export shows it as an escape, and its JSON still reads as typed."""
    store = MemoryStore()
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("B1", 0))
    clock.now += 60
    note = "pompa \u202eaman\u202c selesai"
    Desk(store, config, clock=clock).act("B1", Action("note", text=note), Actor("ani", "operator", "session", "10.0.0.5"))
    exported = to_csv(store.audit(10))
    assert [c for c in exported if c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"] == []
    detail = list(csv.reader(io.StringIO(exported)))[1][7]
    assert "pompa \\u202eaman\\u202c selesai" in detail
    assert json.loads(detail)["text"] == "pompa \u202eaman\u202c selesai"


def test_exports_quote_every_text_cell_for_spreadsheets_that_split_at_semicolons(config: Config) -> None:
    """An Indonesian-locale spreadsheet separates cells with ``;`` and split an unquoted one."""
    frames = {"by_category": pd.DataFrame([{"category": "Banjir; genangan", "incidents": 3}])}
    assert as_csv(frames).splitlines()[1:3] == ['"category","incidents"', '"Banjir; genangan",3']
    store = MemoryStore()
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("Q1", 0))
    clock.now += 60
    Desk(store, config, clock=clock).act(
        "Q1", Action("note", text="pompa 2; pompa 3"), Actor("ani", "operator", "session", "10.0.0.5")
    )
    line = to_csv(store.audit(10)).splitlines()[1]
    assert line.startswith('"2026-12-01T03:01:00+00:00","ani","operator","session","10.0.0.5","note","incident/Q1","{')
    assert "pompa 2; pompa 3" in next(csv.reader([line]))[7]


def test_report_exports_keep_feed_text_as_text() -> None:
    """A category comes from a feed: in a supervisor's spreadsheet it must not run as a formula."""
    frames = {"by_category": pd.DataFrame([{"category": '=HYPERLINK("http://x.example/?"&B2,"Banjir")', "incidents": 3}])}
    rows = list(csv.reader(io.StringIO(as_csv(frames))))
    assert rows[1:3] == [["category", "incidents"], ['\'=HYPERLINK("http://x.example/?"&B2,"Banjir")', "3"]]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx(frames, "id")))["Per kategori"]
    assert (sheet["A2"].data_type, sheet["A2"].value, sheet["B2"].value) == (
        "s",
        '\'=HYPERLINK("http://x.example/?"&B2,"Banjir")',
        3,
    )


def test_shift_report_medians_p90_and_sla(config: Config) -> None:
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    desk = Desk(store, config, clock=clock)
    # five critical traffic incidents opened at 10:00 WIB, acknowledged after 2, 4, 6, 8, 10 minutes
    for i, ack in enumerate([2, 4, 6, 8, 10]):
        state.accept(alert(f"R{i}", 0))
        clock.now = START.timestamp() + ack * 60
        desk.act(f"R{i}", Action("assign", agency="Dishub"), OPERATOR)
    clock.now = START.timestamp() + 30 * 60
    desk.act("R0", Action("resolve", code="handled"), OPERATOR)
    frames = build(store, config, "shift", now=clock.now)
    by_period = frames["by_period"].to_dict(orient="records")
    assert len(by_period) == 1
    row = by_period[0]
    assert row["period"] == "2026-12-01 pagi"
    assert (row["incidents"], row["acknowledged"], row["resolved"]) == (5, 5, 1)
    assert row["ack_median_min"] == 6.0
    assert row["ack_p90_min"] == 9.2  # linear between 8 and 10
    assert row["ack_within_sla_pct"] == 40.0  # 2 and 4 within 5 minutes
    assert (row["resolve_median_min"], row["resolve_within_sla_pct"]) == (30.0, 100.0)
    assert frames["by_agency"].to_dict(orient="records")[0]["agency"] == "Dishub"
    assert "# by_category" in as_csv(frames)
    assert as_xlsx(frames, "id")[:2] == b"PK"  # an XLSX is a zip


def test_the_reports_spreadsheet_says_what_its_page_says() -> None:
    """The XLSX said ``naturalDisaster``, ``critical``, ``-`` and ``ack_median_min`` beside a page
    that said "Bencana alam", "kritis", "tanpa instansi" and its headers; the CSV keeps the
    codes, for programs."""
    frames = {
        "by_severity": pd.DataFrame([{"severity": "critical", "incidents": 3, "ack_median_min": 4.5}]),
        "by_category": pd.DataFrame([{"category": "naturalDisaster", "incidents": 2}]),
        "by_agency": pd.DataFrame([{"agency": REPORT_UNASSIGNED, "incidents": 5}, {"agency": "BPBD", "incidents": 1}]),
    }
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx(frames, "id")))
    assert book.sheetnames == ["Per tingkat", "Per kategori", "Per instansi"]
    rows = {name: [[cell.value for cell in row] for row in book[name].iter_rows()] for name in book.sheetnames}
    assert rows["Per tingkat"][1] == ["kritis", 3, 4.5]
    assert rows["Per tingkat"][0][:2] == ["tingkat", "kejadian"]
    assert rows["Per kategori"] == [["kategori", "kejadian"], ["Bencana alam", 2]]
    assert rows["Per instansi"][1:] == [["tanpa instansi", 5], ["BPBD", 1]]
    assert openpyxl.load_workbook(io.BytesIO(as_xlsx(frames, "en"))).sheetnames == ["By severity", "By category", "By agency"]
    assert '"naturalDisaster",2' in as_csv(frames)


def test_shift_report_by_severity_most_severe_first_each_against_its_own_sla(store: StateStore, config: Config) -> None:
    """Critical: acknowledge within 5 min; high: within 10. The high one opened first, yet the
    critical row leads. By hand, at 20 min: critical A acknowledged after 3 min (in time) and B
    after 8 (late): median 5.5, p90 7.5, 1 of 2 in time; high C after 8 (in time); low D and
    informational E are still waiting but have an hour and four, so they are not judged yet.
    Medium had no incident and gets no row. Only A was assigned: the other four are the agency
    nobody was given."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    desk = Desk(store, config, clock=clock)
    opened = (("C", "high", 0), ("A", "critical", 1), ("E", "informational", 2), ("B", "critical", 2), ("D", "low", 3))
    for id, severity, minute in opened:
        state.accept(alert(id, minute, severity=severity, opened_min=minute))
    actions = ((4, "A", Action("assign", agency="Dishub")), (8, "C", Action("acknowledge")), (10, "B", Action("acknowledge")))
    for at, id, action in actions:
        clock.now = START.timestamp() + at * 60
        desk.act(id, action, OPERATOR)
    frames = build(store, config, "shift", now=START.timestamp() + 20 * 60)
    rows = as_json(frames)["by_severity"]  # as the API answers it
    assert [(r["severity"], r["incidents"], r["acknowledged"]) for r in rows] == [
        ("critical", 2, 2),
        ("high", 1, 1),
        ("low", 1, 0),
        ("informational", 1, 0),
    ]
    assert (rows[0]["ack_median_min"], rows[0]["ack_p90_min"], rows[0]["ack_within_sla_pct"]) == (5.5, 7.5, 50.0)
    assert (rows[1]["ack_median_min"], rows[1]["ack_within_sla_pct"]) == (8.0, 100.0)
    assert (rows[2]["ack_median_min"], rows[2]["ack_within_sla_pct"]) == (None, None)
    assert [(r["agency"], r["incidents"]) for r in frames["by_agency"].to_dict(orient="records")] == [("-", 4), ("Dishub", 1)]
    assert list(frames) == ["by_period", "by_severity", "by_category", "by_agency"]
    assert '# by_severity\n"severity",' in as_csv(frames)


def test_the_report_page_says_severities_and_no_agency_in_words() -> None:
    report = {
        "by_severity": [{"severity": "critical", "incidents": 2}, {"severity": "informational", "incidents": 1}],
        "by_agency": [{"agency": "-", "incidents": 3}, {"agency": "Dishub", "incidents": 1}],
    }
    shown = texts(report_tables(report, "id"))
    assert shown[: shown.index("Per instansi")] == ["Per tingkat", "tingkat", "kejadian", "kritis", "2", "info", "1"]
    assert shown[shown.index("Per instansi") :] == [
        "Per instansi",
        "instansi",
        "kejadian",
        "tanpa instansi",
        "3",
        "Dishub",
        "1",
    ]


@pytest.mark.parametrize(("asked", "shown"), [({}, "shift"), ({"period": "week"}, "week"), ({"period": "year"}, "shift")])
def test_the_report_page_opens_on_the_shift(config: Config, asked: dict[str, str], shown: str) -> None:
    from layouts.pages import report
    from layouts.routing import Pages

    class Callbacks:
        def callback(self, *_: object, **__: object) -> object:
            return lambda f: f

    pages = Pages()
    report.register(Callbacks(), pages, view_settings(config), None)  # type: ignore[arg-type]
    found = pages.find("report")
    assert found is not None
    page, _ = found
    choice = next(c for c in page.layout(**asked).children if getattr(c, "id", None) == "cw-report-period")
    assert choice.value == shown


def test_an_incident_past_its_sla_still_waiting_counts_as_a_breach(config: Config) -> None:
    """Critical: acknowledge within 5 min, resolve within 60. At 10:50 WIB, A was
    acknowledged after 2 min and resolved after 40; B, opened at 10:00, is still new; C,
    opened at 10:48, is new but still has time. By hand: acknowledged in time 1 of 2 judged
    (A in time, B 50 min late; C not yet due), resolved in time 1 of 1 (B and C not yet due).
    B's wait used to be left out, and the shift showed 100 %."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    desk = Desk(store, config, clock=clock)
    state.accept(alert("A", 0))
    state.accept(alert("B", 0))
    clock.now = START.timestamp() + 2 * 60
    desk.act("A", Action("acknowledge"), OPERATOR)
    clock.now = START.timestamp() + 40 * 60
    desk.act("A", Action("resolve", code="handled"), OPERATOR)
    clock.now = START.timestamp() + 48 * 60
    state.accept(alert("C", 48, opened_min=48))
    row = build(store, config, "shift", now=START.timestamp() + 50 * 60)["by_period"].to_dict(orient="records")[0]
    assert (row["incidents"], row["acknowledged"], row["ack_within_sla_pct"]) == (3, 1, 50.0)
    assert (row["resolved"], row["resolve_within_sla_pct"]) == (1, 100.0)
    later = build(store, config, "shift", now=START.timestamp() + 70 * 60)["by_period"].to_dict(orient="records")[0]
    assert later["resolve_within_sla_pct"] == 50.0  # B is now past 60 min unresolved; C is at 22 min


def test_an_acknowledgement_is_judged_by_the_severity_it_was_given_then(config: Config) -> None:
    """Medium: acknowledge within 30 min. Acknowledged after 20, raised to critical at 30: in
    time. It was judged against critical's 5 minutes."""
    store = MemoryStore()
    clock = Clock()
    CityState(store, config, clock=clock).accept(alert("M", 0, severity="medium"))
    desk = Desk(store, config, clock=clock)
    clock.now = START.timestamp() + 20 * 60
    desk.act("M", Action("acknowledge"), OPERATOR)
    clock.now = START.timestamp() + 30 * 60
    desk.act("M", Action("escalate", severity="critical"), OPERATOR)
    row = build(store, config, "shift", now=clock.now)["by_period"].to_dict(orient="records")[0]
    assert row["ack_within_sla_pct"] == 100.0
    assert frames_severity(store, config, clock.now) == ["critical"]


def test_an_incident_lowered_when_already_late_is_judged_at_the_level_it_was_late_at(config: Config) -> None:
    """Critical: acknowledge within 5 min; informational: within 240; medium: within 30. By hand:
    - H, critical, lowered to informational at 30 (25 minutes late) and acknowledged at 31:
      late. It counted as informational's and in time, and the shift's share went up.
    - W, the same lowering at 30, still waiting at 120: overdue, a breach already.
    - C, critical, found misclassified and lowered at 1 (in time), acknowledged at 100: in time
      against informational's 240.
    - M, medium, raised to critical at 2 and lowered back at 3 (in time for a critical),
      acknowledged at 6: in time against medium's 30.
    By severity at 120: informational H, W, C: 2 acknowledged, 1 of 3 in time; medium M: 1 of 1."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    for incident_id, severity in (("H", "critical"), ("W", "critical"), ("C", "critical"), ("M", "medium")):
        state.accept(alert(incident_id, 0, severity=severity))
    desk = Desk(store, config, clock=clock)
    for minute, incident_id, action in (
        (1, "C", Action("deescalate", severity="informational")),
        (2, "M", Action("escalate", severity="critical")),
        (3, "M", Action("deescalate", severity="medium")),
        (6, "M", Action("acknowledge")),
        (30, "H", Action("deescalate", severity="informational")),
        (30, "W", Action("deescalate", severity="informational")),
        (31, "H", Action("acknowledge")),
        (100, "C", Action("acknowledge")),
    ):
        clock.now = START.timestamp() + minute * 60
        desk.act(incident_id, action, OPERATOR)
    rows = build(store, config, "shift", now=START.timestamp() + 120 * 60)["by_severity"].to_dict(orient="records")
    assert [(r["severity"], r["incidents"], r["acknowledged"], r["ack_within_sla_pct"]) for r in rows] == [
        ("medium", 1, 1, 100.0),
        ("informational", 3, 2, 33.3),
    ]


def test_the_fields_own_acknowledgement_and_resolution_count_from_when_it_said_so(store: StateStore, config: Config) -> None:
    """Medium (acknowledge within 30 min, resolve within 720), all opened at 10:00 WIB, the
    report read at 10:00 + 900 min. By hand:
    - P: the field says acknowledged at 3, dispatched at 5, resolved at 60: acknowledged at 3
      (in time), resolved at 60 (in time).
    - Q: the field says resolved at 60 and sends it again at 800: acknowledged and resolved at
      60; the acknowledgement late (60 > 30), the resolution in time.
    - R: the field says acknowledged at 3 and nothing more: acknowledged in time, and open past
      720, so its resolution is a breach.
    Acknowledged in time 2 of 3, resolved in time 2 of 3; medians 3 and 60 minutes. Before,
    only an operator's record gave an acknowledgement and a re-send moved the resolution, and
    the report said 0 %, 33.3 % and 430 minutes."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    for incident_id, steps in {
        "P": [(0, "new"), (3, "acknowledged"), (5, "dispatched"), (60, "resolved")],
        "Q": [(0, "new"), (60, "resolved"), (800, "resolved")],
        "R": [(0, "new"), (3, "acknowledged")],
    }.items():
        for minutes, status in steps:
            state.accept(alert(incident_id, minutes, status=status, severity="medium"))
    now = START.timestamp() + 900 * 60
    row = build(store, config, "day", now=now)["by_period"].to_dict(orient="records")[0]
    assert (row["incidents"], row["acknowledged"], row["resolved"]) == (3, 3, 2)
    assert (row["ack_within_sla_pct"], row["resolve_within_sla_pct"]) == (66.7, 66.7)
    assert (row["ack_median_min"], row["resolve_median_min"]) == (3.0, 60.0)
    clock.now = now
    detail = desk_on(store, config, clock).incident("P")
    assert detail is not None
    sla = detail["sla"]
    assert (sla["acknowledge_took_s"], sla["resolve_took_s"], sla["resolve_met"]) == (180, 3_600, True)


def test_a_resolution_after_an_operators_reopening_counts_from_itself(store: StateStore, config: Config) -> None:
    """Medium (resolve within 720). The field resolves at 10, an operator reopens at 20, the
    field resolves again at 800: the resolution is at 800, late. It had kept the first one's
    10 minutes. And the field saying "new" again after its acknowledgement keeps that."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("RO", 0, severity="medium"))
    state.accept(alert("RO", 3, status="acknowledged", severity="medium"))
    state.accept(alert("RO", 6, severity="medium"))  # "new" again
    state.accept(alert("RO", 10, status="resolved", severity="medium"))
    clock.now = START.timestamp() + 20 * 60
    desk = desk_on(store, config, clock)
    reopened = desk.act("RO", Action("reopen"), OPERATOR)
    assert (reopened["status"], reopened.get("resolved_at")) == ("new", None)
    state.accept(alert("RO", 800, status="resolved", severity="medium"))
    clock.now = START.timestamp() + 900 * 60
    frame = incidents_frame(store, config, clock.now).to_dict(orient="records")
    assert [(r["id"], r["ack_min"], r["resolve_min"]) for r in frame] == [("RO", 3.0, 800.0)]


def test_an_operator_acknowledging_after_the_field_does_not_move_the_acknowledgement(config: Config) -> None:
    """The field acknowledged at 3 minutes, an operator assigned at 40: the acknowledgement
    stays at 3 (medium: within 30)."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("F", 0, severity="medium"))
    state.accept(alert("F", 3, status="acknowledged", severity="medium"))
    clock.now = START.timestamp() + 40 * 60
    desk_on(store, config, clock).act("F", Action("assign", agency="Dishub"), OPERATOR)
    frame = incidents_frame(store, config, clock.now).to_dict(orient="records")
    assert [(r["id"], r["ack_min"]) for r in frame] == [("F", 3.0)]


def test_a_step_stamped_before_the_incident_opened_took_no_time(config: Config) -> None:
    """The field's app issued the Alert at 10:05 WIB and its desk, a clock five minutes behind,
    acknowledged and resolved it "at 10:00": the console read "-5:00 ✓" and the API a negative
    ``acknowledge_took_s``. The shift report counts such a step as 0 minutes; so does the SLA."""
    store = MemoryStore()
    clock = Clock(now=START.timestamp() + 10 * 60)
    CityState(store, config, clock=clock).accept(alert("K", 0, status="acknowledged", severity="high", opened_min=5))
    sla = desk_on(store, config, clock).incident("K")["sla"]
    assert (sla["acknowledge_took_s"], sla["acknowledge_met"]) == (0, True)
    CityState(store, config, clock=clock).accept(alert("K", 1, status="resolved", severity="high", opened_min=5))
    sla = desk_on(store, config, clock).incident("K")["sla"]
    assert (sla["acknowledge_took_s"], sla["resolve_took_s"], sla["resolve_met"]) == (0, 0, True)


def test_the_consoles_history_names_the_day_of_a_step_before_today(config: Config) -> None:
    """Opened at 23:50 WIB, acknowledged at 23:55 and assigned at 00:10: at 00:20 the console
    listed "00:10:00" over "23:55:00", as if the acknowledgement came after the assignment."""
    wib = ZoneInfo("Asia/Jakarta")
    opened = datetime(2026, 12, 4, 23, 50, tzinfo=wib)
    store = MemoryStore()
    clock = Clock(now=opened.timestamp())
    CityState(store, config, clock=clock).accept(
        Incident(id="M", observed_at=opened, source_type="Alert", category="traffic", severity="low", status="new",
                 description="Lampu lalu lintas mati", opened_at=opened)
    )  # fmt: skip
    desk = desk_on(store, config, clock)
    clock.now = datetime(2026, 12, 4, 23, 55, tzinfo=wib).timestamp()
    desk.act("M", Action("acknowledge"), OPERATOR)
    clock.now = datetime(2026, 12, 5, 0, 10, tzinfo=wib).timestamp()
    desk.act("M", Action("assign", agency="Dishub"), OPERATOR)
    clock.now = datetime(2026, 12, 5, 0, 20, tzinfo=wib).timestamp()
    drawn = texts(console_detail.render(desk.incident("M"), view_settings(config), now=clock.now))
    lines = [line for line in drawn if " ani (operator) " in line]
    assert [line.split(" ani ")[0] for line in lines] == ["00:10:00", "4 Des 23:55:00"]  # newest first


def test_an_action_on_an_alert_stamped_ahead_is_recorded_when_it_was_done(config: Config) -> None:
    """The field's clock runs 200 s ahead (within ``feeds.max_future_s``). The acknowledgement
    still counts as newer than the Alert it answers, but the history, the audit trail and the
    SLA said it was done at the Alert's time plus a millisecond: 10:03:20 for an operator who
    acted at 10:00:00, a time that had not come yet."""
    store = MemoryStore()
    clock = Clock()  # 10:00:00 WIB
    CityState(store, config, clock=clock).accept(alert("S", 200 / 60, opened_min=200 / 60))  # 10:03:20 on its clock
    detail = desk_on(store, config, clock).act("S", Action("acknowledge"), OPERATOR)
    assert detail["status"] == "acknowledged"
    assert detail["history"][-1]["at"] == detail["acked_at"] == "2026-12-01T03:00:00+00:00"
    assert store.audit(1)[0]["at"] == "2026-12-01T03:00:00+00:00"
    assert (detail["sla"]["acknowledge_took_s"], detail["sla"]["acknowledge_met"]) == (0, True)
    assert build_picture(store, config, now=clock.now).wall.takeovers == []  # the answered Alert does not win


def test_a_creation_arriving_after_its_update_still_tells_when_the_incident_opened(store: StateStore, config: Config) -> None:
    """The field acknowledged a critical Alert at 10:20 in a message without dateIssued, and it
    arrived before the creation (10:00), which was then refused as older: the incident read as
    opened at 10:20 and acknowledged in 0 s, within the 5 minutes it had missed by 15."""
    clock = Clock(now=START.timestamp() + 25 * 60)
    state = CityState(store, config, clock=clock)
    state.accept(alert("L", 20, status="acknowledged", opened_min=20))  # the update, first
    state.accept(alert("L", 0))  # the creation, late
    detail = desk_on(store, config, clock).incident("L")
    assert (detail["status"], detail["opened_at"]) == ("acknowledged", "2026-12-01T03:00:00+00:00")
    assert (detail["sla"]["acknowledge_took_s"], detail["sla"]["acknowledge_met"]) == (1_200, False)
    assert open_row(store, config, "L", clock.now).since == "2026-12-01T03:00:00+00:00"  # the wall's age counts from 10:00
    frame = incidents_frame(store, config, clock.now).to_dict(orient="records")
    assert [(r["id"], r["ack_min"]) for r in frame] == [("L", 20.0)]


def frames_severity(store: MemoryStore, config: Config, now: float) -> list[str]:
    return [r["severity"] for r in incidents_frame(store, config, now).to_dict(orient="records")]


def test_shifts_are_listed_in_the_order_they_came(config: Config) -> None:
    """Pagi 07:00, siang 15:00, malam 23:00 WIB: by name, malam came first."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    clock.now = START.timestamp() + 14 * 3600
    for n, minutes in enumerate([13 * 60 + 30, 60, 6 * 60]):  # 23:30, 11:00 and 16:00 WIB
        state.accept(alert(f"S{n}", minutes, opened_min=minutes))
    periods = build(store, config, "shift", now=START.timestamp() + 14 * 3600)["by_period"]["period"].tolist()
    assert periods == ["2026-12-01 pagi", "2026-12-01 siang", "2026-12-01 malam"]


def test_every_shift_is_listed_and_the_breakdowns_cover_one(config: Config) -> None:
    """P opened at 10:00 WIB on 1 December (pagi), N at 00:00 on the 2nd (the 1st's malam,
    high); read at 10:00 on the 2nd. By hand: the shifts are the 1st's pagi (1), siang (0),
    malam (1) and the 2nd's pagi (0); the empty siang had no row and read as missing. The
    breakdowns counted both incidents, whatever shift was read; they now cover the current
    shift (nothing yet), or the one asked for (N alone)."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    clock.now = START.timestamp() + 24 * 3600
    state.accept(alert("P", 0, severity="critical"))
    state.accept(alert("N", 14 * 60, severity="high", opened_min=14 * 60))
    frames = build(store, config, "shift", now=clock.now)
    assert [(r["period"], r["incidents"], r["ack_median_min"]) for r in frames["by_period"].to_dict(orient="records")] == [
        ("2026-12-01 pagi", 1, None),
        ("2026-12-01 siang", 0, None),
        ("2026-12-01 malam", 1, None),
        ("2026-12-02 pagi", 0, None),
    ]
    assert [len(frames[name]) for name in ("by_severity", "by_category", "by_agency")] == [0, 0, 0]
    malam = build(store, config, "shift", now=clock.now, at=checked_at("2026-12-01 malam", "shift", config))
    assert [(r["severity"], r["incidents"]) for r in malam["by_severity"].to_dict(orient="records")] == [("high", 1)]
    assert as_json(malam)["by_period"] == as_json(frames)["by_period"]  # the list of periods stays whole


@pytest.mark.parametrize(
    ("at", "period", "good"),
    [
        ("2026-12-01 pagi", "shift", True), ("2026-12-01 sore", "shift", False), ("2026-12-01", "shift", False),
        ("2026-12-01", "day", True), ("2026-02-30", "day", False), ("2026-12-01 pagi", "day", False),
        ("2026-W50", "week", True), ("2026-W53", "week", True), ("2025-W53", "week", False),
        ("2026-W54", "week", False), ("2026-12-01", "week", False), ("x" * 500, "day", False),
    ],
)  # fmt: skip
def test_a_period_asked_for_must_be_one_of_its_kind(config: Config, at: str, period: Period, good: bool) -> None:
    if good:
        assert checked_at(at, period, config) == at
    else:
        with pytest.raises(PeriodError, match=r"^at: expected ") as refused:
            checked_at(at, period, config)
        assert at not in str(refused.value)  # named, not echoed


def test_an_incident_without_an_agency_exports_as_a_plain_dash() -> None:
    frames = {"by_agency": pd.DataFrame([{"agency": "-", "incidents": 2}, {"agency": "-1+1", "incidents": 1}])}
    rows = list(csv.reader(io.StringIO(as_csv(frames))))
    assert rows[2:4] == [["-", "2"], ["'-1+1", "1"]]


def test_shift_labels_follow_city_time(config: Config) -> None:
    wib = timedelta(hours=7)
    at = lambda h, m: (datetime(2026, 12, 1, h, m, tzinfo=UTC) - wib).timestamp()  # noqa: E731
    assert period_label(at(6, 59), "shift", config) == "2026-11-30 malam"
    assert period_label(at(7, 0), "shift", config) == "2026-12-01 pagi"
    assert period_label(at(23, 30), "shift", config) == "2026-12-01 malam"
    assert period_label(at(12, 0), "week", config) == "2026-W49"


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(1_999, 2_000, 99.9), (1, 2_000, 0.1), (2_000, 2_000, 100.0), (0, 5, 0.0), (2, 3, 66.7), (29, 400, 7.3)],
)
def test_a_share_short_of_the_whole_never_shows_100(part: int, whole: int, shown: float) -> None:
    """1,999 of 2,000 acknowledged in time rounded to 100.0 %: "no misses" on a busy week."""
    assert share_pct(part, whole) == shown


def test_the_queue_lists_the_newest_opened_first_within_a_severity(store: StateStore, config: Config) -> None:
    """The queue sorted by each incident's last update and showed its age from its opening:
    "4 mnt" stood above "3 mnt", and one opened an hour ago jumped to the top whenever the
    field sent a new status."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("OLD", 0, severity="high", opened_min=0))
    state.accept(alert("NEW", 10, severity="high", opened_min=10))
    state.accept(alert("OLD", 20, status="acknowledged", severity="high", opened_min=0))  # updated last
    state.accept(alert("LOW", 30, severity="low", opened_min=30))
    open_rows = build_picture(store, config, now=clock.now).incidents.open
    assert [row.id for row in open_rows] == ["NEW", "OLD", "LOW"]


def test_the_console_says_no_agency_was_named_for_an_incident_the_field_dispatched(config: Config) -> None:
    """Beside the status "dikirim", an incident the field dispatched (its messages name no
    agency) read "belum ditugaskan", not yet assigned: the opposite of what had happened."""
    store = MemoryStore()
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("N1", 0))
    state.accept(alert("N2", 0))
    state.accept(alert("N2", 1, status="dispatched"))
    state.accept(alert("N3", 0))
    desk = desk_on(store, config, clock)
    desk.act("N3", Action("assign", agency="BPBD"), OPERATOR)

    def status_and_assignee(incident_id: str) -> list[str]:
        return texts(console_detail.render(desk.incident(incident_id), view_settings(config), now=clock.now))[2:4]

    assert [status_and_assignee(i) for i in ("N1", "N2", "N3")] == [
        ["baru", "belum ditugaskan"],
        ["dikirim", "tanpa instansi"],
        ["dikirim", "→ BPBD"],
    ]
    desk.act("N1", Action("resolve", code="handled"), OPERATOR)
    assert status_and_assignee("N1") == ["selesai", "tanpa instansi"]


def test_the_fields_severity_goes_into_a_history_out_of_order_without_losing_an_entry() -> None:
    """Entries are stamped by each web worker's clock, so a history may be out of order; the
    field's entry went in by counting the earlier ones, which dropped one entry and doubled
    another."""
    history = [
        {"at": "2026-12-01T03:00:00+00:00", "action": "escalate", "severity": "critical"},
        {"at": "2026-12-01T03:05:00+00:00", "action": "note"},
        {"at": "2026-12-01T03:03:00+00:00", "action": "tick"},
    ]
    incident = {"severity": "low", "severity_at": "2026-12-01T03:04:00Z"}
    record = {"severity": "critical", "severity_at": START.timestamp()}
    placed = with_field_severity(history, incident, record)
    assert [h["action"] for h in placed] == ["escalate", "field_severity", "note", "tick"]
    assert placed[1] == {
        "at": "2026-12-01T03:04:00+00:00",
        "by": "field",
        "role": "field",
        "action": "field_severity",
        "severity": "low",
    }
    assert with_field_severity(history, incident, {**record, "field_severity_told": "2026-12-01T03:04:00Z"}) == history


def test_the_ticker_says_what_the_queue_says_after_a_field_message(store: StateStore, config: Config) -> None:
    """An operator dispatched an incident and escalated it; the field then re-sent its own
    earlier stage. The queue showed "DIKIRIM · SatpolPP" and "kritis", the ticker's line for
    that message "DITERIMA" and "tinggi"."""
    clock = Clock()
    state = CityState(store, config, clock=clock)
    state.accept(alert("T1", 0, severity="high"))
    desk = desk_on(store, config, clock)
    desk.act("T1", Action("assign", agency="SatpolPP"), OPERATOR)
    desk.act("T1", Action("escalate"), OPERATOR)
    state.accept(alert("T1", 1, severity="high", status="acknowledged"))
    picture = build_picture(store, config, now=clock.now)
    line = next(line for line in picture.ticker if line.id == "T1")
    assert (line.status, line.severity) == ("dispatched", "critical")
    row = open_row(store, config, "T1", clock.now)
    assert (row.status, row.severity, row.assignee) == ("dispatched", "critical", "SatpolPP")
