"""The push route as a page meets it: claim parts, get frames, answer them (``layouts/push.py``).

A real server on a loopback port and a real websocket client; the store is changed in-process
so each test knows exactly what happened between two frames.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from dashboard.config import Config, load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.store.base import StateStore
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore
from feeds.events import Incident, QueueReading
from layouts import push
from tests.support.city import critical_now

pytestmark = pytest.mark.integration

QUEUE = ["incident_queue", "s4-0"]
MAP = ["incidents_map", "s2-span"]
MAP_LATEST = ["incidents_map-top", "s2-span"]  # the map's most severe list: its critical rows
MAP_REST = ["incidents_map-top-rest", "s2-span"]  # and the rows under them, paced
QUEUE_CRITICAL = ["incident_queue-critical", "s4-0"]


#: Two days back: a row's age then reads in days and does not change while a test runs (a
#: minute turning would change every row, and a whole list would rightly beat its delta).
LONG_AGO = datetime.now(UTC) - timedelta(days=2)


def alert(n: int, text: str, severity: str = "high") -> Incident:
    return Incident(
        id=f"urn:ngsi-ld:Alert:push-{n}",
        observed_at=LONG_AGO + timedelta(seconds=n),
        source_type="Alert",
        category="traffic",
        severity=severity,  # type: ignore[arg-type]
        kecamatan="Sukajadi",
        lat=0.517,
        lon=101.438,
        description=text,
    )


@pytest.fixture
def site() -> Iterator[tuple[CityState, str]]:
    store = MemoryStore()
    state = CityState(store, load_config())
    state.accept(alert(0, "Kejadian pertama"))
    with serve(load_config(), store) as base:
        yield state, base


@pytest.fixture(params=["memory", "redis"])
def either_site(request: pytest.FixtureRequest) -> Iterator[tuple[CityState, str]]:
    """The same site on each store: the Redis one hears changes by pub/sub, in a thread."""
    store: StateStore = MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    state = CityState(store, load_config())
    state.accept(alert(0, "Kejadian pertama"))
    try:
        with serve(load_config(), store) as base:
            yield state, base
    finally:
        store.close()


def open_push(base: str) -> ClientConnection:
    return connect(base.replace("http://", "ws://") + "/_citywall/push", origin=base, open_timeout=20, max_size=2**24)


def frame(ws: ClientConnection) -> dict[str, Any]:
    body = json.loads(ws.recv(timeout=20))
    assert isinstance(body, dict)
    return body


def frame_with_updates(ws: ClientConnection, answer: bool = True) -> dict[str, Any]:
    """The next frame that carries parts (bare version and heartbeat frames answered and passed)."""
    for _ in range(200):
        body = frame(ws)
        if body["u"]:
            return body
        if answer:
            ws.send(json.dumps({"ack": body["v"]}))
    raise AssertionError("no frame with parts in 200 frames")


def test_a_page_gets_its_part_whole_then_only_the_rows_that_changed(site: tuple[CityState, str]) -> None:
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE]}))
        first = frame_with_updates(ws)
        assert [u[:3] for u in first["u"]] == [["incident_queue-content", "s4-0", "tree"]]
        whole = first["u"][0][3]
        assert set(whole) == {"digest", "full"} and whole["digest"] == first["u"][0][4]
        assert "Kejadian pertama" in json.dumps(whole["full"])
        ws.send(json.dumps({"ack": first["v"]}))

        state.accept(alert(1, "Kejadian kedua"))
        second = frame_with_updates(ws)
        update = second["u"][0][3]
        assert update["base"] == whole["digest"], "a delta from what the page shows"
        sent = json.dumps(update["delta"])
        assert "Kejadian kedua" in sent
        assert "Kejadian pertama" not in sent, "a row the page has goes as a reference, not again"


def test_a_frame_says_what_the_server_believes_each_text_part_shows(site: tuple[CityState, str]) -> None:
    """The page's check (assets/push.js): the first frame, and one about every heartbeat after,
    lists each text part with the digest it was last sent."""
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE]}))
        first = frame_with_updates(ws)
        assert first["s"] == [["incident_queue-content", "s4-0", first["u"][0][4]]]
        ws.send(json.dumps({"ack": first["v"]}))
        state.accept(alert(1, "Kejadian kedua"))
        second = frame_with_updates(ws)
        ws.send(json.dumps({"ack": second["v"]}))
        sent = second["u"][0][4]
        for _ in range(20):  # the next check, at most a heartbeat (2 s) later
            body = frame(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            if body["s"] is not None:
                assert body["s"] == [["incident_queue-content", "s4-0", sent]]
                return
        raise AssertionError("no frame with the check in 20 frames")


def test_unknown_parts_are_ignored_and_a_repeated_claim_sends_nothing_again(site: tuple[CityState, str]) -> None:
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE, ["incident_queue", "s999-0"], ["no_such_panel", "x"]]}))
        first = frame_with_updates(ws)
        assert [u[:2] for u in first["u"]] == [["incident_queue-content", "s4-0"]]
        ws.send(json.dumps({"parts": [QUEUE]}))
        ws.send(json.dumps({"ack": first["v"]}))
        state.accept(alert(1, "Kejadian kedua"))
        after = frame_with_updates(ws)
        assert "base" in after["u"][0][3], "the same claim again did not reset what the page was sent"


def test_frames_wait_for_the_answer_and_carry_the_newest_state(site: tuple[CityState, str]) -> None:
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE]}))
        first = frame_with_updates(ws, answer=False)  # not answered: the next frame has to wait
        for n, text in enumerate(("Satu", "Dua", "Tiga"), start=1):
            state.accept(alert(n, f"Kejadian {text}"))
        version = state.store.version()
        ws.send(json.dumps({"ack": first["v"]}))
        coalesced = frame_with_updates(ws)
        assert coalesced["v"] == version, "one frame with the newest version, not one per change"
        sent = json.dumps(coalesced["u"][0][3])
        assert all(f"Kejadian {text}" in sent for text in ("Satu", "Dua", "Tiga"))


def test_a_critical_incident_goes_at_once_and_takes_the_waiting_change_along(
    either_site: tuple[CityState, str], monkeypatch: Any
) -> None:
    """Frames to a page are a gap apart (a minute here, once the page has had a change pushed
    the usual way, so the test does not race a clock): a critical incident resolved (no longer
    urgent) waits for the next frame, a new critical one sends it now, with the newest state of
    every part that is not paced (the map's critical rows: the one gone, the new one there)
    and without those that are (the queue's lesser rows, paced to a minute here, as the gap)."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 1)  # no burst: the claim's frame spends the one send
    state, base = either_site
    for n in (8, 9):  # before any page: no urgent frame to race
        state.accept(alert(n, f"Kebakaran {n}", severity="critical"))
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE_CRITICAL, QUEUE, MAP_LATEST]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        state.accept(resolved(9))
        state.accept(alert(1, "Kejadian pertama hari ini"))
        second = frame_with_updates(ws)
        assert roles(second) == {"incident_queue-critical-content", "incidents_map-top-content"}, (
            "the queue's lesser rows wait their turn"
        )
        monkeypatch.setattr(push, "MIN_GAP_S", 60.0)
        ws.send(json.dumps({"ack": second["v"]}))
        state.accept(resolved(8))
        state.accept(alert(2, "Kejadian biasa"))
        state.accept(alert(3, "Kejadian kritis", severity="critical"))
        body = frame_with_updates(ws)  # without the early frame, a minute: the receive times out first
        assert roles(body) == {"incident_queue-critical-content", "incidents_map-top-content"}
        sent = {u[0]: json.dumps(u[3]) for u in body["u"]}
        assert "Kejadian kritis" in sent["incident_queue-critical-content"]
        assert "Kejadian biasa" not in sent["incident_queue-critical-content"]
        latest = sent["incidents_map-top-content"]
        assert "Kejadian kritis" in latest and "Kebakaran 8" not in latest, "the newest state of the part"


def resolved(n: int) -> Incident:
    """Alert ``n``, resolved a minute after it was raised."""
    raised = alert(n, f"Kebakaran {n}", severity="critical")
    return replace(raised, status="resolved", observed_at=raised.observed_at + timedelta(minutes=1))


def roles(body: dict[str, Any]) -> set[str]:
    return {u[0] for u in body["u"]}


def test_a_figure_waits_its_turn_while_the_text_goes_at_once(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """Figures go at most every ``FIGURE_EVERY_S`` (a minute here, so the test does not race a
    clock): new incidents within it send the queue each time and the map not at all, and the
    map is held, not lost: asked for everything, the page gets it."""
    monkeypatch.setattr(push, "FIGURE_EVERY_S", 60.0)
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE, MAP]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        second = frame_with_updates(ws)
        ws.send(json.dumps({"ack": second["v"]}))
        assert (roles(first), roles(second)) == ({"incident_queue-content"}, {"incidents_map-content"})
        for n, text in enumerate(("Satu", "Dua", "Tiga"), start=1):
            state.accept(alert(n, f"Kejadian {text}"))
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            assert roles(body) == {"incident_queue-content"}, f"after incident {n}"
        ws.send(json.dumps({"resend": 1}))
        seen: set[str] = set()
        for _ in range(2):
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            seen |= roles(body)
        assert seen == {"incident_queue-content", "incidents_map-content"}


def test_a_figure_held_back_goes_by_itself_when_its_turn_comes(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """A change to the map inside its gap reaches the page when the gap ends, with nothing
    else happening: no later change, no ask, and the heartbeat (a minute here) far off. The
    page comes back for what it is owed without working out the map's view to learn that."""
    monkeypatch.setattr(push, "HEARTBEAT_S", 60.0)
    monkeypatch.setattr(push, "FIGURE_EVERY_S", 3.0)
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE, MAP]}))
        digests: dict[str, str] = {}
        while set(digests) != {"incident_queue-content", "incidents_map-content"}:
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            digests |= {u[0]: u[4] for u in body["u"]}
        state.accept(alert(30, "Kejadian di peta"))
        text = frame_with_updates(ws)
        ws.send(json.dumps({"ack": text["v"]}))
        assert "incident_queue-content" in roles(text)
        later = text
        while "incidents_map-content" not in roles(later):  # each recv waits 20 s at most
            later = frame_with_updates(ws)
            ws.send(json.dumps({"ack": later["v"]}))
        (drawn,) = [u for u in later["u"] if u[0] == "incidents_map-content"]
        assert drawn[2] == "figure" and drawn[4] != digests["incidents_map-content"], "the map as it is now"


def test_asks_for_everything_are_answered_at_most_once_per_gap(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """A page that asks for everything again and again (``resend``) does not make the server
    send its whole claim, figures included, with every frame: within ``RESEND_EVERY_S`` (a
    minute here) of the claim, new incidents still go at once, as the rows that changed, and
    the map is not sent again."""
    monkeypatch.setattr(push, "RESEND_EVERY_S", 60.0)
    monkeypatch.setattr(push, "FIGURE_EVERY_S", 60.0)  # after the claim's, only an ask sends the map
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE, MAP]}))
        seen: set[str] = set()
        while seen != {"incident_queue-content", "incidents_map-content"}:
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            seen |= roles(body)
        for n in (1, 2):
            ws.send(json.dumps({"resend": 1}))
            state.accept(alert(10 + n, f"Kejadian ulang {n}"))
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            assert roles(body) == {"incident_queue-content"}, f"after ask {n}"
            assert set(body["u"][0][3]) == {"base", "digest", "delta"}, f"after ask {n}: the whole part went again"


def test_a_resend_request_gets_the_part_whole_again(site: tuple[CityState, str]) -> None:
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [QUEUE]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        ws.send(json.dumps({"resend": 1}))
        again = frame_with_updates(ws)
        assert set(again["u"][0][3]) == {"digest", "full"}


def test_a_message_over_the_limit_closes_the_socket(site: tuple[CityState, str]) -> None:
    _, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [["x", "y" * 70_000]]}))
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_client_that_sends_faster_than_any_page_is_closed(site: tuple[CityState, str]) -> None:
    """A page answers each frame and claims its parts when they change; twenty clients
    sending big claims in a loop slowed the whole worker. Past a burst, the socket closes."""
    from layouts.push import MESSAGE_BURST

    _, base = site
    with open_push(base) as ws:
        claim = json.dumps({"parts": [QUEUE] * 900})
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(int(MESSAGE_BURST) * 20):
                ws.send(claim)
            for _ in range(100):
                ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_with_the_push_switched_off_the_page_is_told_to_stop() -> None:
    config: Config = load_config()
    config = config.model_copy(update={"server": config.server.model_copy(update={"websocket": False})})
    with serve(config, MemoryStore()) as base, open_push(base) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


MPP = ["mpp", "s6-0"]


def queue_reading(waiting: int) -> QueueReading:
    return QueueReading(
        id="urn:ngsi-ld:QueueMonitor:push-disdukcapil",
        observed_at=datetime.now(UTC),
        source_type="QueueMonitor",
        agency="Disdukcapil Uji",
        waiting=waiting,
        serving=2,
        served_today=40,
    )


def test_a_paced_part_waits_its_turn_while_the_incidents_go_at_once(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """The MPP's numbers go at most every ``PACED_EVERY_S`` (a minute here, so the test does
    not race a clock): a new reading and then a new critical incident send the map's critical
    rows and not the MPP; the reading is held, not lost: asked for everything, the page gets
    the newest."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 1)  # no burst: the claim's frame spends the one send
    state, base = site
    state.accept(queue_reading(111))
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [MAP_LATEST, MPP]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        assert roles(first) == {"incidents_map-top-content", "mpp-content"}, "a new claim gets every part at once"
        assert '"111"' in mpp_tree(first)
        for n, waiting in enumerate((222, 333), start=1):
            state.accept(queue_reading(waiting))
            state.accept(alert(n, f"Kejadian {n}", severity="critical"))
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            assert roles(body) == {"incidents_map-top-content"}, f"after reading {waiting}"
        ws.send(json.dumps({"resend": 1}))
        again = frame_with_updates(ws)
        assert roles(again) == {"incidents_map-top-content", "mpp-content"}
        assert '"333"' in mpp_tree(again) and '"222"' not in mpp_tree(again)


MAP_RANK = ["incidents_map-rank", "s2-span"]


def test_the_maps_counts_and_lesser_rows_keep_their_pace_while_its_critical_rows_go_at_once(
    site: tuple[CityState, str], monkeypatch: Any
) -> None:
    """The map's ranking of kecamatan and the rows under its critical ones are paced (a minute
    here, no burst): each new high and critical incident sends the critical rows alone; the
    rest is held, not lost: asked for everything, the page gets both as they are now."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 1)  # no burst: the claim's frame spends the one send
    state, base = site
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [MAP_LATEST, MAP_REST, MAP_RANK]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        assert roles(first) == {"incidents_map-top-content", "incidents_map-top-rest-content", "incidents_map-rank-content"}
        for n in (1, 2):
            state.accept(alert(n, f"Kejadian {n}"))
            state.accept(alert(10 + n, f"Kebakaran {n}", severity="critical"))
            body = frame_with_updates(ws)
            ws.send(json.dumps({"ack": body["v"]}))
            assert roles(body) == {"incidents_map-top-content"}, f"after incidents {n} and {10 + n}"
            (rows,) = [json.dumps(u[3]) for u in body["u"]]
            assert f"Kebakaran {n}" in rows and f"Kejadian {n}" not in rows, "the critical rows alone"
        ws.send(json.dumps({"resend": 1}))
        again = frame_with_updates(ws)
        (was,) = [u[4] for u in first["u"] if u[0] == "incidents_map-rank-content"]
        (now,) = [u[4] for u in again["u"] if u[0] == "incidents_map-rank-content"]
        assert now != was, "the ranking with the new incidents counted"
        (rest,) = [json.dumps(u[3]) for u in again["u"] if u[0] == "incidents_map-top-rest-content"]
        assert "Kejadian 1" in rest and "Kejadian 2" in rest, "the lesser rows, held and then sent"


def test_a_quiet_page_gets_a_short_burst_of_paced_changes_at_once(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """Paced to a minute here, with a burst of three: the claim's frame spends one send, the
    next two readings of the MPP go at once, and the third waits for the minute. Each reading
    is followed by a new critical incident, which is never paced and goes no later than the
    reading. An operator's two actions a second apart reach the wall as they happen; a busy
    feed spends the burst and is paced as before.

    The page answers its last frame only once both changes of a round are in: the push waits
    for that answer, so its next look sees the two together however slow the machine."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 3)
    state, base = site
    state.accept(queue_reading(111))
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [MAP_LATEST, MPP]}))
        last = frame_with_updates(ws)
        assert roles(last) == {"incidents_map-top-content", "mpp-content"}
        for n, waiting in enumerate((222, 333), start=1):
            state.accept(queue_reading(waiting))
            state.accept(alert(n, f"Kejadian {n}", severity="critical"))
            ws.send(json.dumps({"ack": last["v"]}))
            bodies = frames_until(ws, lambda seen, n=n, w=waiting: shows_incident(seen, n) and shows_reading(seen, w))
            last = bodies[-1]
            incident_at = next(i for i, b in enumerate(bodies) if shows_incident([b], n))
            reading_at = next(i for i, b in enumerate(bodies) if shows_reading([b], waiting))
            assert incident_at <= reading_at, f"incident {n} no later than reading {waiting}"
        state.accept(queue_reading(444))
        state.accept(alert(3, "Kejadian 3", severity="critical"))
        ws.send(json.dumps({"ack": last["v"]}))
        bodies = frames_until(ws, lambda seen: shows_incident(seen, 3))
        # a last incident, the third's frame still unanswered: a frame of the MPP's would come
        # after that answer and before this incident's frame
        state.accept(alert(4, "Kejadian 4", severity="critical"))
        ws.send(json.dumps({"ack": bodies[-1]["v"]}))
        bodies += frames_until(ws, lambda seen: shows_incident(seen, 4))
        assert not shows_reading(bodies, 444), "the burst is spent: the MPP waits its turn"


def test_a_critical_row_goes_before_the_paced_parts_that_moved_with_it(site: tuple[CityState, str], monkeypatch: Any) -> None:
    """On a page already drawn, a change that moves a part that is not paced and one that is,
    both due, sends them in two frames: the critical row alone first, then the MPP's reading.
    A claim's first frame still holds everything. The claim's frame is answered only once both
    changes are in, so the push's next look sees them together."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 3)  # the claim's frame spends one: the reading is due
    state, base = site
    state.accept(queue_reading(111))
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [MAP_LATEST, MPP]}))
        first = frame_with_updates(ws)
        assert roles(first) == {"incidents_map-top-content", "mpp-content"}, "a new claim gets every part at once"
        state.accept(queue_reading(222))
        state.accept(alert(1, "Kejadian kritis", severity="critical"))
        ws.send(json.dumps({"ack": first["v"]}))
        row = frame_with_updates(ws)
        ws.send(json.dumps({"ack": row["v"]}))
        assert roles(row) == {"incidents_map-top-content"}, "the critical row alone"
        assert "Kejadian kritis" in json.dumps(row["u"])
        reading = frame_with_updates(ws)
        assert roles(reading) == {"mpp-content"} and '"222"' in mpp_tree(reading), "then the reading, at once"
        assert reading["v"] == row["v"], "both from the same picture"


def frames_until(ws: ClientConnection, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The frames with parts until ``done`` holds of all of them so far, each answered but the
    last: the caller answers it once it has made its next changes."""
    bodies: list[dict[str, Any]] = []
    for _ in range(200):
        body = frame_with_updates(ws)
        bodies.append(body)
        if done(bodies):
            return bodies
        ws.send(json.dumps({"ack": body["v"]}))
    raise AssertionError("not done in 200 frames")


def shows_incident(bodies: list[dict[str, Any]], n: int) -> bool:
    return any(f"Kejadian {n}" in json.dumps(u[3]) for b in bodies for u in b["u"] if u[0] == "incidents_map-top-content")


def shows_reading(bodies: list[dict[str, Any]], waiting: int) -> bool:
    return any(f'"{waiting}"' in mpp_tree(b) for b in bodies if "mpp-content" in roles(b))


TICKER = ["ticker", "s13-0"]
HELD = ["ticker-held", "s13-0"]


def test_a_critical_incident_goes_at_once_as_one_held_line_while_the_flow_and_the_gauges_keep_their_pace(
    site: tuple[CityState, str], monkeypatch: Any
) -> None:
    """The ticker's flow and the MPP are paced (``PACED_EVERY_S``, a minute here): after a plain
    new incident and a new reading, a critical incident sends the map's critical rows and the
    ticker's held lines at once, that line alone, while the flow and the MPP wait their turn."""
    monkeypatch.setattr(push, "PACED_EVERY_S", 60.0)
    monkeypatch.setattr(push, "PACED_BURST", 1)  # no burst: the claim's frame spends the one send
    state, base = site
    state.accept(queue_reading(111))
    with open_push(base) as ws:
        ws.send(json.dumps({"parts": [MAP_LATEST, TICKER, HELD, MPP]}))
        first = frame_with_updates(ws)
        ws.send(json.dumps({"ack": first["v"]}))
        assert roles(first) == {"incidents_map-top-content", "ticker-content", "ticker-held-content", "mpp-content"}, (
            "a new claim gets every part"
        )
        state.accept(queue_reading(222))
        state.accept(alert(1, "Kejadian biasa"))  # paced everywhere: no frame of its own
        state.accept(critical_now("urn:ngsi-ld:Alert:push-2", "Kejadian kritis"))  # held: younger than ten minutes
        urgent = frame_with_updates(ws)
        assert roles(urgent) == {"incidents_map-top-content", "ticker-held-content"}, "the flow and the MPP wait their turn"
        (held,) = [json.dumps(u[3]) for u in urgent["u"] if u[0] == "ticker-held-content"]
        assert "Kejadian kritis" in held and "Kejadian biasa" not in held


def mpp_tree(body: dict[str, Any]) -> str:
    """The MPP part's whole tree in a frame, as text (its digests left out)."""
    (update,) = [u[3] for u in body["u"] if u[0] == "mpp-content"]
    return json.dumps(update["full"])
