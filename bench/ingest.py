"""How many validated messages per second one ingest process takes from MQTT into the store.

Measured next to what a bare paho subscriber takes from the same broker in the same run. The
ratio, not the absolute number, is the claim: it says how much of the ceiling that paho and
the broker allow the product's own code uses up (the method: ``INGEST_METHOD`` below).
It starts its own Mosquitto on a free loopback port unless given ``--mqtt-url``. Timing is
done here and only here: unit tests never assert speed.

    .venv/bin/python bench/ingest.py --messages 50000 --rounds 3 --out bench/results/ingest.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import finish
from bench.measure import (
    EXIT_CONFIG,
    common_options,
    finish_command,
    load_bench_config,
    machine_info,
    median,
    positive,
)

if TYPE_CHECKING:
    from dashboard.config import Config

INGEST_GOAL_RATIO = 0.5

INGEST_METHOD = (
    "backlog: each round makes two persistent sessions (QoS 1, clean_start=False with a session "
    "expiry), one for a bare paho subscriber and one for the real MqttAdapter -> Normalizer -> "
    "CityState(MemoryStore), and disconnects them; a separate publisher process (so its CPU does not "
    "share our GIL) then puts all N messages on the broker, which queues them for both sessions; each "
    "subscriber then reconnects and is timed from its first to its last settled message, i.e. its "
    "drain rate with the broker never the bottleneck. The order alternates between rounds."
)


def run_ingest(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Generate once, then ``rounds`` alternating rounds, then the stage breakdown."""
    from bench.ingest_rounds import generate_messages, ingest_broker, ingest_round, write_backlog_file
    from bench.ingest_stages import profile_handler, stage_breakdown
    from dashboard.runtime import build_normalizer

    n, qos, token = args.messages, args.qos, uuid.uuid4().hex[:8]
    machine = machine_info()
    messages = generate_messages(n, args.seed)
    normalizer = build_normalizer(config)
    with tempfile.TemporaryDirectory(prefix="citywall-bench-") as tmp:
        workdir = Path(tmp)
        backlog = workdir / "backlog.txt"
        write_backlog_file(messages, backlog)
        with ingest_broker(args.mqtt_url, config.feeds.mqtt.protocol, n + 10_000, workdir) as broker:
            runs = [
                ingest_round(config, normalizer, broker, backlog, n, qos, r, token, args.idle_timeout)
                for r in range(1, args.rounds + 1)
            ]
            label, protocol = broker.label, broker.protocol
    bare = median([r["bare"]["msgs_per_s"] for r in runs])
    pipe = median([r["pipeline"]["msgs_per_s"] for r in runs])
    ratio = round(pipe / bare, 3) if bare else 0.0
    return {
        "benchmark": "ingest",
        "command": ingest_command(args),
        "pipeline_msgs_per_s": pipe,
        "bare_msgs_per_s": bare,
        "ratio": ratio,
        "goal_ratio": INGEST_GOAL_RATIO,
        "goal_met": ratio >= INGEST_GOAL_RATIO,
        "ratio_median_of_rounds": round(median([r["ratio"] for r in runs]), 3),
        "cpu_ratio": round(median([r["cpu_ratio"] for r in runs]), 3),
        "cpu_ratio_means": "bare CPU-us per message / pipeline CPU-us per message (process CPU time over the "
        "same windows, median of rounds): the ratio with other processes' load taken out",
        "messages": n,
        "qos": qos,
        "protocol": f"MQTT {protocol}",
        "broker": label,
        "method": INGEST_METHOD,
        "message_mix": dict(Counter(kind for kind, _ in messages).most_common()),
        "payload_bytes_mean": round(sum(len(p) for _, p in messages) / n, 1),
        "runs": runs,
        "stages_us_per_msg": stage_breakdown(
            config,
            normalizer,
            messages,
            median([r["bare"]["cpu_us_per_msg"] for r in runs]),
            median([r["pipeline"]["cpu_us_per_msg"] for r in runs]),
        ),
        "profile_top_own_time": profile_handler(config, normalizer, messages),
        "machine": machine,
    }


def ingest_command(args: argparse.Namespace) -> str:
    """The command line that reproduces these figures, every option spelt out."""
    parts = [
        "python",
        "bench/ingest.py",
        "--messages",
        str(args.messages),
        "--qos",
        str(args.qos),
        "--rounds",
        str(args.rounds),
        "--seed",
        str(args.seed),
    ]
    if args.mqtt_url:
        parts += ["--mqtt-url", args.mqtt_url]
    return finish_command(parts, args)


def print_ingest(result: dict[str, Any]) -> None:
    print(f"ingest benchmark: {result['messages']} messages, QoS {result['qos']}, {result['protocol']}")
    print(f"broker:  {result['broker']}")
    print(f"method:  {result['method']}")
    print(f"\n{'round':>5} {'order':<16} {'bare msg/s':>11} {'pipeline msg/s':>15} {'ratio':>6}  accepted/dup/rejected")
    for r in result["runs"]:
        p = r["pipeline"]
        print(
            f"{r['round']:>5} {'->'.join(r['order']):<16} {r['bare']['msgs_per_s']:>11,.0f} {p['msgs_per_s']:>15,.0f} "
            f"{r['ratio']:>6.2f}  {p['accepted']}/{p['duplicates']}/{p['rejected']}"
        )
    print(
        f"{'median':>5} {'':<16} {result['bare_msgs_per_s']:>11,.0f} {result['pipeline_msgs_per_s']:>15,.0f} "
        f"{result['ratio']:>6.2f}  (goal >= {result['goal_ratio']}: {'met' if result['goal_met'] else 'NOT met'})"
    )
    print(f"CPU-time ratio (other processes' load taken out): {result['cpu_ratio']:.2f}")
    print("\nwhere the time goes (us per message):")
    for name, us in result["stages_us_per_msg"].items():
        if isinstance(us, (int, float)):
            print(f"  {name:<28} {us:>8.1f}")
    print("\nmost own time in Pipeline.handle (cProfile, us per message):")
    for row in result["profile_top_own_time"][:8]:
        print(f"  {row['own_us_per_msg']:>7.2f}  {row['function']}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/ingest.py", description=INGEST_METHOD)
    p.add_argument("--messages", type=positive, default=50_000, help="messages per round (default 50000)")
    p.add_argument("--qos", type=int, choices=(1,), default=1, help="QoS of publish and subscriptions (1)")
    p.add_argument("--mqtt-url", default=None, help="use this broker instead of starting a mosquitto")
    p.add_argument("--rounds", type=positive, default=3, help="alternating rounds; medians are reported (3)")
    p.add_argument("--idle-timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    common_options(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_publish"]:  # the publisher child of a round (bench/ingest_rounds.py)
        from bench.ingest_rounds import publisher_main

        return publisher_main(argv[1:])
    args = parser().parse_args(argv)
    config = load_bench_config(args)
    if config is None:
        return EXIT_CONFIG
    return finish(run_ingest(config, args), args.out, args.json, print_ingest)


if __name__ == "__main__":
    sys.exit(main())
