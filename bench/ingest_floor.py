"""What it costs just to take 500 Alerts/s off the broker: citywall, Node-RED and a bare client.

    python bench/ingest_floor.py --out bench/results/ingest-floor.json

With no page open, each subject subscribes to the incidents topic at QoS 1 on a Mosquitto of
its own (a fresh one each time: citywall's session is persistent, and a broker shared with
the others would hand it everything they were sent meanwhile) while
``bench/publish_alerts.py`` sends new Alerts at ``--rate``/s; after ``--warmup`` s its CPU
(the whole process tree, psutil) is measured for ``--seconds``:

- ``citywall``: ``citywall demo --rate 0`` (the MQTT adapter, the normaliser, the store);
- ``node-red``: the peer's flow of ``bench/nodered.py`` (``mqtt in`` into one text widget);
- ``paho v5`` and ``paho v3.1.1``: this script as a bare paho-mqtt subscriber that does
  nothing with a message but acknowledge it by hand (``manual_ack``), the way citywall's
  adapter acknowledges only what it stored;
- ``read-ahead v5``: the same bare subscriber on citywall's own client
  (``feeds/mqtt_socket.py``: the socket read a chunk at a time, plain PUBLISH packets taken
  whole from it).

The subjects alternate, ``--rounds`` times. The bare clients are what the MQTT client itself
costs: reading, parsing and acknowledging, with nothing done with the message.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    INCIDENT_TOPIC,
    ROOT,
    CpuMeter,
    Publisher,
    command_line,
    feed_counts,
    finish,
    machine,
    start_citywall,
    start_mosquitto,
    stop_group,
)

SUBJECTS = ("citywall", "node-red", "paho v5", "paho v3.1.1", "read-ahead v5")
#: The bare client's protocol for each bare subject; "5+" is MQTT 5 on citywall's read-ahead client.
BARE = {"paho v5": "5", "paho v3.1.1": "3.1.1", "read-ahead v5": "5+"}


def subscriber(port: int, protocol: str) -> None:
    """The bare client: subscribe, acknowledge every message by hand, count them."""
    import paho.mqtt.client as mqtt

    received = 0

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        client.ack(message.mid, message.qos)

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        client.subscribe(INCIDENT_TOPIC, qos=1)

    from feeds.mqtt_socket import ReadAheadClient

    kind = ReadAheadClient if protocol == "5+" else mqtt.Client
    client = kind(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"floor-{protocol}",
        protocol=mqtt.MQTTv311 if protocol == "3.1.1" else mqtt.MQTTv5,
        manual_ack=True,
    )
    client.on_message = on_message
    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    print("ready", flush=True)
    client.loop_forever()
    print(json.dumps({"received": received}), flush=True)


class BareClient:
    def __init__(self, port: int, protocol: str) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "--subscriber", protocol, "--port", str(port)]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare subscriber did not start")

    def received(self) -> int | None:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        return int(json.loads(lines[-1])["received"]) if lines else None


def one(subject: str, workdir: Path, runtime: dict[str, Any] | None, args: argparse.Namespace) -> dict[str, Any]:
    """Start a broker and the subject, load it, measure its CPU, stop both."""
    mosquitto, port = start_mosquitto(workdir)
    try:
        return measure(subject, workdir, port, runtime, args)
    finally:
        mosquitto.terminate()
        mosquitto.wait(10)


def measure(subject: str, workdir: Path, port: int, runtime: dict[str, Any] | None, args: argparse.Namespace) -> dict[str, Any]:
    import psutil

    from bench.nodered import NodeRed

    citywall = nodered = bare = None
    if subject == "citywall":
        citywall, base = start_citywall(workdir, port)
        pid = citywall.pid
    elif subject == "node-red":
        assert runtime is not None
        nodered = NodeRed(runtime, workdir, port)
        pid = nodered.proc.pid
    else:
        bare = BareClient(port, BARE[subject])
        pid = bare.proc.pid
    publisher = Publisher("alerts", port, args.rate, prefix=f"floor-{time.monotonic_ns()}")
    try:
        time.sleep(args.warmup)
        meter = CpuMeter(psutil.Process(pid))
        meter.start()
        time.sleep(args.seconds)
        cpu = meter.stop()
    finally:
        sent = publisher.stop()
        received = None
        if citywall is not None:
            time.sleep(2)
            received = feed_counts(base)["received"]
            stop_group(citywall)
        if nodered is not None:
            nodered.stop()
        if bare is not None:
            received = bare.received()
    return {"subject": subject, **cpu, "sent": sent, "received": received}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subjects", nargs="+", default=list(SUBJECTS), choices=SUBJECTS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--subscriber", choices=tuple(BARE.values()), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.subscriber:
        subscriber(args.port, args.subscriber)
        return 0
    result: dict[str, Any] = {
        "command": command_line("ingest_floor.py"),
        "machine": machine(),
        "method": (
            "no page open; each subject subscribed at QoS 1 to the incidents topic while new Alerts "
            f"arrive at {args.rate:g}/s; CPU of its process tree over {args.seconds:g} s after "
            f"{args.warmup:g} s of load; subjects alternate"
        ),
    }
    runtime = None
    if "node-red" in args.subjects:
        from bench.nodered import install

        runtime = install()
        result["peer"] = runtime["versions"]
    workdir = Path(tempfile.mkdtemp(prefix="citywall-floor-"))
    runs = []
    try:
        for round_no in range(args.rounds):
            for subject in args.subjects:
                row = one(subject, workdir, runtime, args)
                row["round"] = round_no + 1
                runs.append(row)
                print(f"round {round_no + 1} {subject}: {row['cpu_pct_of_one_core']} % of a core", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["runs"] = runs
    result["median_cpu_pct_of_one_core"] = {
        s: statistics.median(r["cpu_pct_of_one_core"] for r in runs if r["subject"] == s) for s in args.subjects
    }
    return finish(result, args.out, args.json, print_figures)


def print_figures(result: dict[str, Any]) -> None:
    print("| subject | CPU, % of one core (median) | each round | received / sent (last round) |")
    print("| --- | ---: | --- | --- |")
    for subject, median in result["median_cpu_pct_of_one_core"].items():
        rows = [r for r in result["runs"] if r["subject"] == subject]
        last = rows[-1]
        counts = f"{last['received']:,} / {last['sent']:,}" if last["received"] is not None else f"- / {last['sent']:,}"
        print(f"| {subject} | {median} | {', '.join(str(r['cpu_pct_of_one_core']) for r in rows)} | {counts} |")


if __name__ == "__main__":
    sys.exit(main())
