"""Publish new Alerts (every one a new incident) at a steady rate, in a process of its own.

    python bench/publish_alerts.py --port 1883 --rate 500 [--count N] [--prefix load]

The background load of ``peer_latency.py`` ("500 new Alerts/s") and the preload of
``city_growth.py``. Each Alert has a new id, a unique description, a severity other than
``critical`` (so a trial's critical Alert still goes to the top of a queue sorted by
severity) and a point inside the city. QoS 1 on ``pekanbaru/incidents``, the topic the
trials use. Runs until ``--count`` messages are acknowledged or SIGTERM, then prints
``{"sent": N}``: the messages the broker acknowledged.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import INCIDENT_TOPIC, random_point  # noqa: E402

SEVERITIES = ("high", "medium", "low", "informational")
CATEGORIES = ("traffic", "environment", "health", "security", "weather", "naturalDisaster")


def payload(prefix: str, n: int, rng: random.Random) -> str:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps(
        {
            "id": f"Alert:{prefix}-{n:08d}",
            "type": "Alert",
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES),
            "location": {"type": "Point", "coordinates": random_point(rng)},
            "dateIssued": now,
            "description": f"Beban {prefix} {n:08d}",
            "alertSource": "bench-load",
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--count", type=int, default=None, help="stop after this many (default: until SIGTERM)")
    parser.add_argument("--prefix", default="load", help="id prefix; each run should use its own")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    acked = [0]
    lock = threading.Lock()
    connected = threading.Event()

    def on_publish(client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        with lock:
            acked[0] += 1

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-alerts-{args.prefix}-{random.getrandbits(24):06x}")
    client.on_publish = on_publish
    client.on_connect = lambda *a: connected.set()
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", args.port, keepalive=30)
    client.loop_start()
    if not connected.wait(10):
        print(json.dumps({"sent": 0, "error": "no connection"}), flush=True)
        return 1
    rng = random.Random(f"{args.seed}-{args.prefix}")
    started = time.monotonic()
    published = 0
    while not stop.is_set() and (args.count is None or published < args.count):
        due = int((time.monotonic() - started) * args.rate) + 1
        if args.count is not None:
            due = min(due, args.count)
        while published < due:
            client.publish(INCIDENT_TOPIC, payload(args.prefix, published, rng), qos=1)
            published += 1
        time.sleep(0.002)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if acked[0] >= published:
                break
        time.sleep(0.01)
    client.loop_stop()
    client.disconnect()
    print(json.dumps({"sent": acked[0], "published": published, "seconds": round(time.monotonic() - started, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
