"""What decoding a turn's messages before storing any of them saves, in one process.

    python bench/decode_ahead.py [--messages 5000] [--batches 1 2 5 10 16] [--passes 3] [--out PATH]

New Alerts (``bench/publish_alerts.py``'s payloads) go through the live wiring's
``Pipeline`` (the shipped config's normaliser, ``CityState`` on a ``MemoryStore``), each pass
on a fresh store, in two ways:

- ``in_turn``: ``Pipeline.handle`` for each message, decoding and storing one after another;
- ``ahead``: in batches of N, ``Pipeline.decode`` for the batch and then ``handle`` for each
  with what was decoded, as the MQTT adapter does with a gathered turn (``feeds/mqtt.py``)
  and the Redis stream adapter with a read.

The figure is this thread's CPU time per message (``time.thread_time``), the fastest of
``--passes``. At 500 Alerts/s a gathered turn holds about ten messages. Messages come back
to back here: live, each turn follows a pause in which other processes used the caches,
so the live saving differs (``bench/ingest_floor.py`` measures it).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import command_line, finish, machine  # noqa: E402
from bench.publish_alerts import payload  # noqa: E402

ORIGIN = "pekanbaru/incidents"


def _pipeline() -> Any:
    from dashboard.config import load_config
    from dashboard.ingest import CityState
    from dashboard.runtime import build_normalizer
    from dashboard.store.memory import MemoryStore
    from feeds.health import FeedStats
    from feeds.pipeline import Pipeline

    config = load_config()
    return Pipeline(build_normalizer(config), CityState(MemoryStore(), config), FeedStats("bench"))


def _pass(messages: list[bytes], batch: int | None) -> float:
    """Microseconds of CPU per message; ``batch`` None: decoded and stored in turn."""
    pipeline = _pipeline()
    gc.collect()
    started = time.thread_time()
    if batch is None:
        for message in messages:
            pipeline.handle(message, ORIGIN)
    else:
        for start in range(0, len(messages), batch):
            chunk = messages[start : start + batch]
            decoded = [pipeline.decode(message, ORIGIN) for message in chunk]
            for message, ahead in zip(chunk, decoded, strict=True):
                pipeline.handle(message, ORIGIN, ahead)
    return (time.thread_time() - started) / len(messages) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 5, 10, 16])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    result: dict[str, Any] = {"machine": machine(), "command": command_line("decode_ahead.py"), "messages": args.messages}
    rng = random.Random(args.seed)
    modes: list[tuple[str, int | None]] = [("in_turn", None), *((f"ahead_{n}", n) for n in args.batches)]
    best: dict[str, float] = {}
    for round_ in range(args.passes):  # the modes alternate, so a slow minute of the machine hits each
        for name, batch in modes:
            messages = [payload(f"p{round_}-{name}", n, rng).encode() for n in range(args.messages)]
            took = _pass(messages, batch)
            best[name] = min(best.get(name, took), took)
    result["cpu_us_per_message"] = {name: round(us, 1) for name, us in best.items()}

    def figures(r: dict[str, Any]) -> None:
        base = r["cpu_us_per_message"]["in_turn"]
        print("| how | CPU µs a message | against in turn |\n| --- | ---: | ---: |")
        for name, us in r["cpu_us_per_message"].items():
            print(f"| {name.replace('_', ' ')} | {us} | {us / base:.2f} |")

    return finish(result, args.out, args.json, figures)


if __name__ == "__main__":
    raise SystemExit(main())
