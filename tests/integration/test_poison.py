"""Poison messages: text that JSON carries but nothing downstream can store or show.

A lone surrogate (``"\\ud800x"``) is valid JSON; before the fix it stopped Redis ingest for
good (every retry failed the same way) and broke ``/api/v1/state`` on the memory store. The
set below goes through both real transports (Mosquitto, Redis streams) into both stores, with
good messages interleaved: every good one must land, every poison one must be cleaned or
dead-lettered by reason, and the feed must keep going.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import redis

from dashboard.config import MqttFeed, RedisFeed, load_config
from dashboard.ingest import CityState
from dashboard.reader import PictureCache
from dashboard.runtime import build_normalizer
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore
from feeds.events import DeadLetter, Reason
from feeds.health import FeedStats
from feeds.mqtt import MqttAdapter
from feeds.pipeline import Pipeline
from feeds.redis_feed import RedisStreamAdapter
from feeds.sink import StoreUnavailable
from feeds.text import clean, is_clean
from tests.support.services import Mosquitto, RedisServer

TIMEOUT = 20.0
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def alert(ident: str, **fields: Any) -> dict[str, Any]:
    doc = {
        "id": f"urn:ngsi-ld:Alert:{ident}",
        "type": "Alert",
        "category": "traffic",
        "severity": "high",
        "dateIssued": NOW,
        "description": f"good {ident}",
        "location": {"type": "Point", "coordinates": [101.45, 0.51]},
    }
    doc.update(fields)
    return doc


def water(ident: str, **fields: Any) -> dict[str, Any]:
    doc = {
        "id": f"urn:ngsi-ld:WaterObserved:{ident}",
        "type": "WaterObserved",
        "dateObserved": NOW,
        "waterLevel": 1.2,
        "location": {"type": "Point", "coordinates": [101.45, 0.51]},
    }
    doc.update(fields)
    return doc


#: (payload, what must happen): "clean:<field>=<expected>" or "dead:<reason>".
POISON: list[tuple[dict[str, Any], str]] = [
    (alert("P1", category="\ud800x"), "clean:category=\ufffdx"),
    (alert("P2", description="flood\x00 at\x07 gate"), "clean:description=flood  at  gate"),
    (alert("P3", description="\u202egnorw\u202c shown"), "clean:description=gnorw shown"),
    (alert("P4", category="fire\udfff", description="\x1b[31mred\u2066"), "clean:category=fire\ufffd"),
    (alert("P5\ud800"), "dead:bad_text"),
    (alert("P6\x00"), "dead:bad_text"),
    (alert("P7\u202e"), "dead:bad_text"),
    (water("P8", refDevice="gauge\ud800"), "dead:bad_text"),
    (water("P9", name="Sungai\u0085 Siak\udc00"), "clean:name=Sungai  Siak\ufffd"),
    (alert("P10", dateIssued="2024-01-01T00:00:00\ud800"), "dead:invalid_value"),
    (alert("P11", severity="high\ud800"), "clean:severity=high"),  # enum words ignore non-letters
]
GOOD = 30


def interleaved() -> list[bytes]:
    """Good alerts with every poison message between them (json escapes keep them valid JSON)."""
    out: list[bytes] = []
    for n in range(GOOD):
        out.append(json.dumps(alert(f"G{n}")).encode())
        if n < len(POISON):
            out.append(json.dumps(POISON[n][0]).encode())
    return out


def kind_of(doc: dict[str, Any]) -> str:
    return "incident" if doc["type"] == "Alert" else "water_level"


def check_outcome(store: Any) -> None:
    """Every good id stored; each poison message cleaned as stated or dead-lettered by reason."""
    incidents = store.entities("incident")
    stations = store.entities("water_level")
    missing = [n for n in range(GOOD) if f"urn:ngsi-ld:Alert:G{n}" not in incidents]
    assert not missing, f"good messages lost: {missing}"
    letters = store.dead_letters(1_000)
    for doc, expect in POISON:
        kept = (incidents if kind_of(doc) == "incident" else stations).get(doc["id"])
        if expect.startswith("clean:"):
            field, _, value = expect.removeprefix("clean:").partition("=")
            assert kept is not None, f"{doc['id']!r} was dropped, should be cleaned"
            assert kept[field] == value, f"{doc['id']}: {field} = {kept[field]!r}"
        else:
            assert kept is None, f"{doc['id']!r} was stored, should be dead-lettered"
    reasons = sorted(letter["reason"] for letter in letters)
    expected = sorted(e.removeprefix("dead:") for _, e in POISON if e.startswith("dead:"))
    assert reasons == expected
    for letter in letters:
        assert all(is_clean(str(v)) or k == "excerpt" for k, v in letter.items())


def check_readable(store: Any) -> None:
    """Every read path answers: the picture encodes as UTF-8 JSON, and so do the dead letters."""
    picture = PictureCache(store, load_config()).picture()
    json.dumps(picture.to_json(), ensure_ascii=False).encode("utf-8")
    json.dumps(store.dead_letters(1_000), ensure_ascii=False).encode("utf-8")
    json.dumps(store.recent(500), ensure_ascii=False).encode("utf-8")
    json.dumps(store.feeds(), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------
# the text policy itself


def test_clean_replaces_what_cannot_be_shown() -> None:
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("a\x00b\tc\nd\x9fe") == "a b c d e"
    assert clean("\u202eabc\u202c\u2066d\u2069") == "abcd"
    assert clean("Jl. Sudirman – Pekanbaru ✓") == "Jl. Sudirman – Pekanbaru ✓"
    assert is_clean("urn:ngsi-ld:Alert:1") and not is_clean("a\u202eb") and not is_clean("a\udc80")


def test_store_refusing_a_message_dead_letters_it_and_goes_on() -> None:
    """Not an outage: the message is kept as store_rejected, and the next one is stored."""
    stored: list[str] = []
    letters: list[DeadLetter] = []

    class Picky:
        def accept(self, event: Any) -> bool:
            if event.id.endswith("bad"):
                raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")
            stored.append(event.id)
            return True

        def reject(self, letter: DeadLetter) -> None:
            letters.append(letter)

        def record_feed(self, *_: Any) -> None: ...

    pipeline = Pipeline(build_normalizer(load_config()), Picky(), FeedStats("mqtt"))
    assert pipeline.handle(json.dumps(alert("bad")).encode(), "t") is False
    assert pipeline.handle(json.dumps(alert("ok")).encode(), "t") is True
    assert stored == ["urn:ngsi-ld:Alert:ok"]
    assert [(x.reason, x.detail.split(":")[0]) for x in letters] == [(Reason.STORE_REJECTED, "UnicodeEncodeError")]


def test_an_unavailable_store_is_retried_not_dead_lettered() -> None:
    class Down:
        def accept(self, event: Any) -> bool:
            raise StoreUnavailable("redis: ConnectionError")

        def reject(self, letter: DeadLetter) -> None:
            raise AssertionError("an outage must not dead-letter")

        def record_feed(self, *_: Any) -> None: ...

    stats = FeedStats("mqtt")
    with pytest.raises(StoreUnavailable):
        Pipeline(build_normalizer(load_config()), Down(), stats).handle(json.dumps(alert("x")).encode(), "t")
    assert stats.snapshot()["store_errors"] == 1


def test_a_long_topic_is_clipped_in_the_dead_letter() -> None:
    store = MemoryStore()
    pipeline = Pipeline(build_normalizer(load_config()), CityState(store, load_config()), FeedStats("mqtt"))
    pipeline.handle(b"not json", "t" * 65_010 + "\ud800")
    (letter,) = store.dead_letters()
    assert len(letter["origin"]) <= 256 and letter["origin"].startswith("tttt")


@pytest.mark.integration
def test_redis_store_tells_an_outage_from_a_bad_document(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, prefix="poison")
    try:
        with pytest.raises(UnicodeEncodeError):  # about the document: not StoreUnavailable
            store.upsert("incident", "x", 1.0, {"category": "\ud800"})
        assert store.upsert("incident", "y", 1.0, {"category": "ok"}) is True
        redis_server.stop()
        with pytest.raises(StoreUnavailable):
            store.upsert("incident", "z", 1.0, {"category": "ok"})
    finally:
        store.close()


@pytest.mark.integration
def test_the_redis_calls_of_ingests_housekeeping_are_an_outage_too(redis_server: RedisServer) -> None:
    """``CityState.accept`` counts, lists, deletes and trims around its write (the caps); a
    Redis that went away there must make the feed retry the message, not dead-letter it."""
    store = RedisStore(redis_server.url, prefix="poison-housekeeping")
    calls: dict[str, Callable[[], Any]] = {
        "count": lambda: store.count("incident"),
        "oldest": lambda: store.oldest("incident", 2.0),
        "delete": lambda: store.delete("incident", ["y"]),
        "trim": lambda: store.trim("incident", 0),
    }
    try:
        assert store.upsert("incident", "y", 1.0, {"category": "ok"}) is True
        redis_server.stop()
        raised = {}
        for name, call in calls.items():
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - which error each raises is what is tested
                raised[name] = type(exc).__name__
        assert raised == {name: "StoreUnavailable" for name in calls}
    finally:
        store.close()


# ---------------------------------------------------------------------------------------
# both feeds into both stores


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    made = RedisStore(url, prefix="poison")
    yield made
    made.close()


def wait_for(check: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def settled(store: Any) -> bool:
    letters = store.dead_letters(1_000)
    dead = sum(1 for _, e in POISON if e.startswith("dead:"))
    return (
        len(store.entities("incident")) + len(store.entities("water_level")) >= GOOD + len(POISON) - dead and len(letters) >= dead
    )


@pytest.mark.integration
def test_poison_over_mqtt(store: Any, mosquitto: Mosquitto) -> None:
    config = load_config()
    adapter = MqttAdapter(
        MqttFeed(url=mosquitto.url, topics=["poison/#"], client_id="poison-test"),
        build_normalizer(config),
        CityState(store, config),
    )
    adapter.start()
    try:
        assert adapter.wait_connected(TIMEOUT)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        pub.connect(mosquitto.host, mosquitto.port)
        pub.loop_start()
        for info in [pub.publish("poison/x", payload, qos=1) for payload in interleaved()]:
            info.wait_for_publish(TIMEOUT)
        pub.disconnect()
        pub.loop_stop()
        assert wait_for(lambda: settled(store)), "the feed did not settle every message"
        check_outcome(store)
        check_readable(store)
        assert adapter.stats.snapshot()["store_errors"] == 0
    finally:
        adapter.stop()


@pytest.mark.integration
def test_poison_over_redis_streams(store: Any, redis_url: str) -> None:
    config = load_config()
    client = redis.Redis.from_url(redis_url)
    for payload in interleaved():
        client.xadd("poison:events", {"data": payload})
    adapter = RedisStreamAdapter(
        RedisFeed(url=redis_url, streams=["poison:events"], consumer="p1"), build_normalizer(config), CityState(store, config)
    )
    adapter.start()
    try:
        assert wait_for(lambda: settled(store)), "the feed did not settle every message"
        check_outcome(store)
        check_readable(store)
        assert wait_for(lambda: client.xpending("poison:events", "citywall")["pending"] == 0), "poison left unacked"
        assert adapter.stats.snapshot()["store_errors"] == 0
    finally:
        adapter.stop()
        client.close()


def test_a_topic_is_logged_on_one_line_whatever_it_holds(caplog: pytest.LogCaptureFixture) -> None:
    """A topic is anyone's text: a line break in it must not start a line of the log that
    looks like the product's own."""

    class Broken:
        def decode(self, payload: bytes, origin: str) -> Any:
            raise RuntimeError("a decoder bug")

    store = MemoryStore()
    pipeline = Pipeline(Broken(), CityState(store, load_config()), FeedStats("mqtt"))  # type: ignore[arg-type]
    with caplog.at_level("ERROR", logger="feeds.pipeline"):
        assert pipeline.handle(b"{}", "kota/x\nERROR citywall: all feeds stopped") is False
    (record,) = [r for r in caplog.records if "decoder failed" in r.getMessage()]
    assert "\n" not in record.getMessage() and "all feeds stopped" in record.getMessage()
