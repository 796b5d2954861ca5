"""1,000 hostile messages interleaved with 100 valid ones, through a real broker and a real
``citywall ingest`` process: every valid one is stored, every hostile one is dead-lettered
and counted under the reason it deserves, and the process keeps ingesting afterwards.

One judgement call: an Alert whose description is ``<script>alert(1)</script>`` is valid.
It is text; the dashboard must store it as text and render it as text (escaping is the
renderer's job, and dropping the alert would lose a real incident). So those alerts count
as valid here and must come back verbatim.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboard.store.redis_store import RedisStore
from feeds.events import Reason
from tests.support.helpers import (
    PacedPublisher,
    await_subscription,
    feed,
    make_alerts,
    publish_once,
    settled_counts,
    start_ingest,
    wait_until,
    write_config,
)
from tests.support.services import CITYWALL_CMD, CitywallProcess, Mosquitto, free_port

pytestmark = pytest.mark.integration

TOPIC = "pekanbaru/storm"
VALID = 100
SCRIPT_TAGGED = 10
DEAD_KEPT = 500  # config feeds.dead_letters_kept
EXCERPT_BYTES = 200  # what the adapters keep of a rejected payload
BIG = 2 * 1024 * 1024


# ---------------------------------------------------------------------------------------
# the storm


def _alert(rng: random.Random, n: int, **changes: Any) -> dict[str, Any]:
    """A well-formed Alert with a HOSTILE id; ``changes`` make it bad (None deletes a key)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Alert:HOSTILE-{n:05d}",
        "type": "Alert",
        "category": "traffic",
        "subCategory": "trafficJam",
        "severity": "high",
        "description": f"hostile {n}",
        "location": {"type": "Point", "coordinates": [101.45 + rng.random() / 100, 0.51 + rng.random() / 100]},
        "dateIssued": now,
        "dateModified": now,
    }
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def _kpi(n: int, value: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:KeyPerformanceIndicator:HOSTILE-{n:05d}",
        "type": "KeyPerformanceIndicator",
        "name": "hostile",
        "kpiValue": value,
        "dateModified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _enc(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


#: (name, count, reason, maker(rng, n) -> payload bytes). Counts add up to 1,000.
HOSTILE: list[tuple[str, int, Reason, Callable[[random.Random, int], bytes]]] = [
    ("truncated JSON", 90, Reason.MALFORMED_JSON, lambda r, n: (b := _enc(_alert(r, n)))[: r.randrange(1, len(b) - 1)]),
    ("empty payload", 10, Reason.MALFORMED_JSON, lambda r, n: b""),
    ("severity: 5", 50, Reason.WRONG_TYPE, lambda r, n: _enc(_alert(r, n, severity=5))),
    ('location: "here"', 50, Reason.WRONG_TYPE, lambda r, n: _enc(_alert(r, n, location="here"))),
    ("category: []", 50, Reason.WRONG_TYPE, lambda r, n: _enc(_alert(r, n, category=[]))),
    ('kpiValue: "lots"', 50, Reason.WRONG_TYPE, lambda r, n: _enc(_kpi(n, "lots"))),
    ("no category", 10, Reason.MISSING_FIELD, lambda r, n: _enc(_alert(r, n, category=None))),
    ("2 MB description", 20, Reason.TOO_LARGE, lambda r, n: _enc(_alert(r, n, description="é" * (BIG // 2)))),
    (
        "just over 64 KiB",
        80,
        Reason.TOO_LARGE,
        lambda r, n: _enc(_alert(r, n, description="x" * (64 * 1024 + r.randrange(1, 2_000)))),
    ),
    (
        "random binary",
        100,
        Reason.NOT_UTF8,
        lambda r, n: b"\xff\xfe" + bytes(r.getrandbits(8) for _ in range(r.randrange(1, 600))),
    ),
    ("10,000 nested arrays", 60, Reason.TOO_DEEP, lambda r, n: _nested(10_000).encode()),
    (
        "Alert with a 10,000-deep attribute",
        40,
        Reason.TOO_DEEP,
        lambda r, n: _enc(_alert(r, n))[:-1] + b',"extra":' + _nested(10_000).encode() + b"}",
    ),
    (
        "NaN / Infinity literals",
        100,
        Reason.NON_FINITE_NUMBER,
        lambda r, n: _enc(_kpi(n, 0)).replace(b'"kpiValue": 0', b'"kpiValue": ' + r.choice([b"NaN", b"Infinity", b"-Infinity"])),
    ),
    ("unknown type", 80, Reason.UNKNOWN_TYPE, lambda r, n: _enc(_alert(r, n, type=r.choice(["Spaceship", "alert!", "Ufo"])))),
    ("no type", 20, Reason.UNKNOWN_TYPE, lambda r, n: _enc(_alert(r, n, type=None))),
    (
        "not an object",
        50,
        Reason.NOT_AN_OBJECT,
        lambda r, n: r.choice([b"[1, 2, 3]", b"42", b'"an alert"', b"null", b"true", b"[" + _enc(_alert(r, n)) + b"]"]),
    ),
    (
        "coordinates out of range",
        70,
        Reason.COORDINATES_OUT_OF_RANGE,
        lambda r, n: _enc(_alert(r, n, location={"type": "Point", "coordinates": [500.0 + n, -300.0]})),
    ),
    (
        "far in the future",
        70,
        Reason.FUTURE_TIME,
        lambda r, n: _enc(_alert(r, n, dateIssued="2999-01-01T00:00:00Z", dateModified="2999-01-01T00:00:00Z")),
    ),
]


def excerpt_of(payload: bytes) -> str:
    return payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def build_storm(seed: int = 20240601) -> tuple[list[dict[str, Any]], list[tuple[bytes, Reason | None]]]:
    """(valid alerts, messages in send order): hostile and valid shuffled together."""
    rng = random.Random(seed)
    valid = make_alerts(VALID, "STORM")
    for i, alert in enumerate(make_alerts(SCRIPT_TAGGED, "XSS")):
        alert["description"] = f'<script>alert(1)</script> [XSS-{i:07d}] "quoted" & <b>bold</b>'
        valid.append(alert)
    messages: list[tuple[bytes, Reason | None]] = [(json.dumps(a, ensure_ascii=False).encode(), None) for a in valid]
    n = 0
    for _name, count, reason, make in HOSTILE:
        for _ in range(count):
            messages.append((make(rng, n), reason))
            n += 1
    assert n == 1_000
    rng.shuffle(messages)
    return valid, messages


# ---------------------------------------------------------------------------------------


def test_the_payloads_are_what_they_claim_to_be() -> None:
    """The storm itself, checked against the normalizer in-process: a wrong expectation here
    would make the integration test below meaningless."""
    from dashboard.config import load_config
    from dashboard.runtime import build_normalizer
    from feeds.events import Rejected

    normalizer = build_normalizer(load_config(environ={}))
    _, messages = build_storm()
    for payload, reason in messages:
        if reason is None:
            normalizer.decode(payload)
            continue
        with pytest.raises(Rejected) as caught:
            normalizer.decode(payload)
        assert caught.value.reason == reason, (payload[:120], caught.value)


def test_a_storm_of_hostile_messages_is_counted_by_reason_and_the_valid_ones_get_through(
    mosquitto: Mosquitto, redis_url: str, citywall_proc: Callable[..., CitywallProcess], tmp_path: Path
) -> None:
    started = time.monotonic()
    config = write_config(tmp_path, {"feeds.dead_letters_kept": DEAD_KEPT})
    env = {
        "CITYWALL_MQTT_URL": mosquitto.url,
        "CITYWALL_STORE_URL": redis_url,
        "CITYWALL_REDIS_URL": "",
        "CITYWALL_MQTT_CLIENT_ID": f"citywall-storm-{uuid.uuid4().hex[:8]}",
    }
    store = RedisStore(redis_url)
    try:
        ingest = start_ingest(citywall_proc, config, env)
        canary = await_subscription(mosquitto, store, ingest, TOPIC)
        before = settled_counts(store, "mqtt", lambda c: c.get("accepted", 0) >= 1, proc=ingest)

        valid, messages = build_storm()
        publisher = PacedPublisher(mosquitto, [(TOPIC, payload) for payload, _ in messages], rate=400.0)
        publisher.start()
        publisher.finish()
        hostile = [(payload, reason) for payload, reason in messages if reason is not None]
        expected = Counter(reason.value for _, reason in hostile)

        def storm_counted(c: dict[str, int]) -> bool:
            return c.get("rejected", 0) >= len(hostile) and c.get("accepted", 0) - before.get("accepted", 0) >= len(valid)

        after = settled_counts(store, "mqtt", storm_counted, timeout=90, proc=ingest)
        assert ingest.alive, ingest.log_text()[-4000:]

        # every reason counted exactly, and nothing else rejected
        got = {k.removeprefix("rejected."): v for k, v in after.items() if k.startswith("rejected.")}
        table = "\n".join(
            f"  {reason:<26} sent {expected.get(reason, 0):>4}   counted {got.get(reason, 0):>4}"
            for reason in sorted(set(expected) | set(got))
        )
        print(
            f"\n[hostile] per-reason dead letters (sent vs counted in feed 'mqtt'):\n{table}\n"
            f"  {'total':<26} sent {len(hostile):>4}   counted {after.get('rejected', 0):>4}"
        )
        assert got == dict(expected)
        assert after["rejected"] == len(hostile) == sum(got.values())
        assert after["accepted"] - before["accepted"] == len(valid)
        assert after.get("duplicates", 0) == before.get("duplicates", 0)
        assert after["received"] - before["received"] == len(messages)

        # every valid alert stored, the script tags as plain text, nothing hostile stored
        docs = store.entities("incident")
        for alert in valid:
            assert alert["id"] in docs, f"valid alert lost: {alert['id']}"
            assert docs[alert["id"]]["description"] == alert["description"]
        assert set(docs) == {a["id"] for a in valid} | {canary}
        assert not any("HOSTILE" in i for kind in ("kpi", "incident") for i in store.entities(kind))
        xss = [docs[a["id"]]["description"] for a in valid if a["id"].split(":")[-1].startswith("XSS")]
        assert len(xss) == SCRIPT_TAGGED and all(d.startswith("<script>alert(1)</script>") for d in xss)

        # dead letters: bounded, newest first, each with its reason and the payload's first bytes
        letters = store.dead_letters(10_000)
        assert len(letters) == DEAD_KEPT
        newest = list(reversed(hostile))[:DEAD_KEPT]
        for i, (letter, (payload, reason)) in enumerate(zip(letters, newest, strict=True)):
            assert letter["reason"] == reason.value, f"dead letter {i}: {letter['reason']} != {reason.value}"
            assert letter["excerpt"] == excerpt_of(payload), f"dead letter {i}: excerpt differs"
            assert letter["origin"] == TOPIC and letter["feed"] == "mqtt" and letter["detail"]
        times = [letter["received_at"] for letter in letters]
        assert times == sorted(times, reverse=True), "newest first"
        assert all(len(letter["excerpt"].encode()) <= 3 * EXCERPT_BYTES for letter in letters)

        # still alive and still ingesting
        last = make_alerts(1, f"AFTER{uuid.uuid4().hex[:6]}")[0]
        publish_once(mosquitto, [(TOPIC, json.dumps(last).encode())])
        wait_until(lambda: last["id"] in store.entities("incident"), 30, "a message after the storm is stored", proc=ingest)
        assert feed(store, "mqtt").get("connected") is True

        # /metrics of a web process on the same store reports the same counts
        port = free_port()
        serve = citywall_proc(
            [*CITYWALL_CMD, "serve", "--config", str(config), "--port", str(port)],
            env={"CITYWALL_STORE_URL": redis_url, "CITYWALL_MQTT_URL": "", "CITYWALL_REDIS_URL": ""},
        )
        serve.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        for reason, count in expected.items():
            pattern = rf'^citywall_feed_rejected(?:_total)?\{{(?=[^}}]*feed="mqtt")(?=[^}}]*reason="{reason}")[^}}]*\}} (\S+)$'
            found = re.search(pattern, metrics, re.MULTILINE)
            assert found, f"no citywall_feed_rejected line for {reason} in /metrics:\n{metrics[:3000]}"
            assert float(found.group(1)) == count, f"{reason}: /metrics says {found.group(1)}, sent {count}"
        print(
            f"[hostile] {len(messages)} messages ({publisher.seconds:.1f} s to publish), "
            f"{len(valid)} valid stored, {len(letters)} dead letters kept, total {time.monotonic() - started:.1f} s"
        )
    finally:
        store.close()
