"""Shared-group membership under load: a member busy storing, or stuck on its store, keeps
beating, and a survivor never takes over a member whose beat is fresh when it comes to drain
it (taking a session over kicks its owner off the broker). The broker and store runs are in
``tests/integration/test_elastic_ingest.py``."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt

from dashboard.ingest_members import CLAIMS, StoreMembers
from dashboard.local_services import wait_until
from dashboard.store.memory import MemoryStore
from feeds.events import DeadLetter, Event
from feeds.membership import Membership
from feeds.mqtt import MqttAdapter
from tests.support.helpers import kpi_payload, make_normalizer


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def settings(heartbeat_s: int = 1) -> Any:
    """The fields of ``dashboard.config.MqttFeed`` the adapter reads, for a shared group."""
    return SimpleNamespace(
        url="mqtt://127.0.0.1:1",
        topics=["pekanbaru/#"],
        qos=1,
        protocol="5",
        client_id="citywall-ingest",
        shared_group="ingest",
        member=None,
        session_expiry_s=3600,
        username=None,
        password=None,
        tls=None,
        status_topic="citywall/status",
        keepalive_s=30,
        heartbeat_s=heartbeat_s,
        hold_ms=0,
        gather_ms=20,
    )


class StuckSink:
    """A store whose writes of events hang until ``release`` (a slot migrating, say)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.entered = threading.Event()
        self.release = threading.Event()

    def accept(self, event: Event) -> bool:
        self.entered.set()
        assert self.release.wait(60), "the test never released the store"
        return True

    def reject(self, letter: DeadLetter) -> None:
        raise AssertionError(f"nothing should be dead-lettered: {letter}")

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        self.store.record_feed(feed, counts, status)


class FakeClient:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, mid: int, qos: int) -> None:
        self.acked.append(mid)


def record(store: MemoryStore, name: str) -> dict[str, Any]:
    return StoreMembers(store).members("mqtt")[name]


def beats_after(store: MemoryStore, name: str, t: float) -> float:
    """The member's heartbeat stamp, once it is later than ``t``."""
    return wait_until(
        lambda: (b := float(record(store, name).get("heartbeat_t") or 0.0)) > t and b, 30, f"a heartbeat of {name} after {t}"
    )


def test_a_member_whose_message_handling_is_blocked_still_beats() -> None:
    store = MemoryStore()
    sink = StuckSink(store)
    adapter = MqttAdapter(settings(), make_normalizer(), sink, members=StoreMembers(store))
    assert adapter.membership is not None
    name = adapter.membership.name
    adapter.membership.start()
    client = FakeClient()
    msg = mqtt.MQTTMessage(mid=7, topic=b"pekanbaru/kpi")
    msg.payload, msg.qos = kpi_payload(1), 1
    handler = threading.Thread(target=adapter._on_message, args=(client, None, msg))
    try:
        handler.start()
        assert sink.entered.wait(30), "the message reached the store"
        first = beats_after(store, name, 0.0)
        second = beats_after(store, name, first)
        third = beats_after(store, name, second)
        assert handler.is_alive() and client.acked == [], "all three beats came while the message was still being stored"
        assert first < second < third
        assert (record(store, name)["state"], record(store, name)["alive"]) == ("running", True)
    finally:
        sink.release.set()
        handler.join(30)
        adapter.membership.stop()
    assert client.acked == [7], "acknowledged once stored"
    assert (record(store, name)["state"], record(store, name)["alive"]) == ("left", False)


class StuckReads(StoreMembers):
    """A registry whose reads of the members hang (the sweep stuck on a moving store)."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.reading = threading.Event()
        self.release = threading.Event()

    def members(self, feed: str) -> dict[str, dict[str, Any]]:
        self.reading.set()
        assert self.release.wait(60), "the test never released the reads"
        return super().members(feed)


def beating_member(registry: StoreMembers, name: str) -> Membership:
    """A member on its own threads, beating every second, with nothing to drain."""
    return Membership(
        registry,
        feed="mqtt",
        member=name,
        group="ingest",
        heartbeat_s=1.0,
        snapshot=lambda: {"connected": True},
        drain=lambda client_id: 0,
    )


def test_a_member_whose_sweep_is_stuck_on_the_store_still_beats() -> None:
    store = MemoryStore()
    registry = StuckReads(store)
    member = beating_member(registry, "ingest-a")
    member.start()
    try:
        assert registry.reading.wait(30), "the sweep began reading"
        first = beats_after(store, member.name, 0.0)
        second = beats_after(store, member.name, first)
        assert registry.reading.is_set() and not registry.release.is_set(), "the sweep is still stuck"
        assert first < second
    finally:
        registry.release.set()
        member.stop()
    assert record(store, member.name)["state"] == "left"


def member(registry: StoreMembers, name: str, clock: Clock, drained: list[str]) -> Membership:
    def drain(client_id: str) -> int:
        drained.append(client_id)
        return 1

    return Membership(
        registry,
        feed="mqtt",
        member=name,
        group="ingest",
        heartbeat_s=5.0,
        snapshot=lambda: {"connected": True},
        drain=drain,
        clock=clock,
    )


class BeatsDuringClaim(StoreMembers):
    """The busy member's beat lands between the survivor's verdict and its drain."""

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        super().__init__(store)
        self.clock = clock
        self.busy: Membership | None = None
        self.claims: list[str] = []

    def claim(self, name: str, by: str) -> bool:
        won = super().claim(name, by)
        self.claims.append(name)
        if self.busy is not None and name == self.busy.name:
            self.clock.t += 0.2
            self.busy.beat("running")
        return won


def test_a_peer_does_not_drain_a_member_whose_beat_is_fresh_at_claim_time() -> None:
    store, clock = MemoryStore(), Clock()
    registry = BeatsDuringClaim(store, clock)
    drained: list[str] = []
    survivor, busy = member(registry, "ingest-a", clock, drained), member(registry, "ingest-busy", clock, [])
    registry.busy = busy
    survivor.beat("running")
    busy.beat("running")
    for _ in range(2):  # a survivor in touch with the store: it read the records an interval ago
        assert survivor.sweep() == []
        clock.t += 5.0
    clock.t += 0.5
    assert survivor.sweep() == [], "its heartbeat moved after the verdict: alive, left alone"
    assert registry.claims == [busy.name], "it was judged dead, and claimed"
    assert drained == []
    assert store.map_get(CLAIMS, busy.name) is None, "the claim was given back"
    assert (record(store, busy.name)["state"], record(store, busy.name)["alive"]) == ("running", True)
    # the same survivor still empties a member that stays silent
    registry.busy = None
    clock.t += 5.0
    assert survivor.sweep() == [], "silent for one interval: not yet"
    clock.t += 5.5
    assert survivor.sweep() == ["ingest-busy"]
    wait_until(lambda: record(store, busy.name).get("state") == "drained", 30, "the silent member drained")
    assert drained == ["ingest-busy"]
    wait_until(lambda: store.map_get(CLAIMS, busy.name) is None, 30, "the claim given back once drained")


def test_a_survivor_that_was_stuck_itself_looks_again_before_declaring_anyone_dead() -> None:
    store, clock = MemoryStore(), Clock()
    registry = StoreMembers(store)
    drained: list[str] = []
    survivor = member(registry, "ingest-a", clock, drained)
    live, dead = member(registry, "ingest-live", clock, []), member(registry, "ingest-dead", clock, [])
    for m in (survivor, live, dead):
        m.beat("running")
    assert survivor.sweep() == []
    clock.t += 30.0  # the survivor's own store calls hung for 30 s, and so did everyone's beats
    assert survivor.sweep() == [], "back from being stuck: no verdict on this read"
    assert record(store, "mqtt@ingest-live")["state"] == "running"
    assert record(store, "mqtt@ingest-dead")["state"] == "running"
    clock.t += 0.5
    live.beat("running")  # the live member's beat lands as the store answers again
    survivor.beat("running")
    clock.t += 4.5
    assert survivor.sweep() == ["ingest-dead"], "in touch again: only the one that stayed silent"
    wait_until(lambda: record(store, "mqtt@ingest-dead").get("state") == "drained", 30, "the dead member drained")
    assert drained == ["ingest-dead"]
    assert (record(store, "mqtt@ingest-live")["state"], record(store, "mqtt@ingest-live")["alive"]) == ("running", True)


class StuckBeat(StoreMembers):
    """A registry whose next "running" beat hangs until released (a write on a moving store)."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.stuck = threading.Event()
        self.release = threading.Event()
        self.armed = False

    def beat(self, name: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        if self.armed and status.get("state") == "running":
            self.armed = False
            self.stuck.set()
            assert self.release.wait(60), "the test never released the beat"
        super().beat(name, counts, status)


def test_left_is_the_last_word_even_with_a_beat_on_its_way() -> None:
    store = MemoryStore()
    registry = StuckBeat(store)
    leaving = beating_member(registry, "ingest-leaving")
    leaving.start()
    beats_after(store, leaving.name, 0.0)
    registry.armed = True
    assert registry.stuck.wait(30), "a beat hangs in the store"
    stopping = threading.Thread(target=leaving.stop)
    stopping.start()
    wait_until(lambda: leaving._halt.is_set(), 30, "stop began")
    registry.release.set()
    stopping.join(60)
    assert not stopping.is_alive()
    assert (record(store, leaving.name)["state"], record(store, leaving.name)["alive"]) == ("left", False)
