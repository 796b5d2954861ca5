"""A soak: a month of simulated city traffic applied to one store, its memory watched.

It checks that the bounded windows (resolved days, series count and age, caps) really keep a
wall that runs for weeks flat: memory at 50% and at 100% of the events must match within
``FLAT_TOLERANCE_PCT``. The memory store is measured by this process's RSS, Redis by its own
``used_memory`` (a private redis-server unless given ``--redis-url``). Timing is done here
and only here: unit tests never assert speed.

    .venv/bin/python bench/store_soak.py --events 1000000 --backend memory --days 14 --out bench/results/store-memory.json
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import finish, write_result
from bench.measure import (
    DEMO_RATE,
    EXIT_CONFIG,
    SimClock,
    common_options,
    encode_payload,
    finish_command,
    load_bench_config,
    machine_info,
    mb,
    positive,
    process_rss_bytes,
    rate,
    redis_version,
)
from dashboard.local_services import HOST, RedisServer, redis_binary

if TYPE_CHECKING:
    from dashboard.config import Config
    from dashboard.ingest import CityState
    from dashboard.store.base import StateStore

KINDS = ("incident", "water_level", "report", "waste_fill", "queue", "kpi")
SERIES_KINDS = ("water_level", "queue", "waste_fill")
#: A Monday 00:00 WIB, so the soak's month starts on a known weekday (busy MPP day).
SOAK_START = datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
SOAK_CHECKPOINTS = tuple(range(10, 101, 10))
FLAT_TOLERANCE_PCT = 5.0


@contextlib.contextmanager
def soak_redis(redis_url: str | None, workdir: Path) -> Iterator[tuple[str, str]]:
    """(url, label): the given Redis, else a private redis-server that keeps nothing on disk."""
    if redis_url:
        yield redis_url, f"external Redis {redis_url} (--redis-url; used_memory includes whatever else it holds)"
        return
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed: pass --redis-url or install redis-server")
    server = RedisServer(workdir)
    server.start()
    try:
        yield (
            server.url,
            f"redis-server {redis_version(binary)} started by the benchmark on {HOST}:{server.port} (--save '' --appendonly no)",
        )
    finally:
        server.stop()


@dataclass
class SoakTimers:
    """Seconds spent per stage, so the events/s can be about the store alone."""

    generate: float = 0.0
    decode: float = 0.0
    apply: float = 0.0
    housekeep: float = 0.0
    housekeep_calls: int = 0
    sample_kpis: float = 0.0
    sample_kpis_calls: int = 0
    rejected: int = 0


def time_housekeeping(state: CityState, timers: SoakTimers) -> None:
    """Wrap the state's own ``housekeep`` (which ``accept`` calls every 30 s of its clock), so
    its share of ``apply`` can be reported apart; the schedule itself is untouched."""
    inner = state.housekeep

    def timed(now: float | None = None) -> int:
        started = time.perf_counter()
        try:
            return inner(now)
        finally:
            timers.housekeep += time.perf_counter() - started
            timers.housekeep_calls += 1

    state.housekeep = timed  # type: ignore[method-assign]


def soak_messages(sim: Any, clock: SimClock) -> Iterator[tuple[str, dict[str, Any]]]:
    """The initial picture, then the endless stream; the clock moves one step per message."""
    for message in sim.initial_state():
        clock.tick()
        yield message
    stream = sim.stream(DEMO_RATE)  # reads the clock on every message at this rate
    while True:
        clock.tick()
        yield next(stream)


def store_snapshot(store: StateStore, kpi_ids: Sequence[str]) -> dict[str, Any]:
    """Entity counts per kind and the points held in series: what the windows bound."""
    entities = {kind: store.entities(kind) for kind in KINDS}
    counts = {kind: len(docs) for kind, docs in entities.items()}
    resolved = sum(1 for d in entities["incident"].values() if d.get("status") == "resolved")
    points = sum(len(store.series(f"{kind}:{i}")) for kind in SERIES_KINDS for i in entities[kind])
    kpi_points = sum(len(store.series(f"{prefix}:{k}")) for prefix in ("kpi", "kpi_h") for k in kpi_ids)
    return {
        "entities": counts,
        "incidents_resolved": resolved,
        "incidents_open": counts["incident"] - resolved,
        "entity_series_points": points,
        "kpi_series_points": kpi_points,
        "ticker": len(store.recent(10_000)),
    }


def redis_used_memory(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def delete_prefix(url: str, prefix: str) -> None:
    """Clean up after ourselves on a Redis we do not own."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    finally:
        client.close()


@dataclass
class SoakBackend:
    store: StateStore
    label: str
    memory: Callable[[], dict[str, Any]]


@contextlib.contextmanager
def soak_backend(args: argparse.Namespace, workdir: Path, prefix: str) -> Iterator[SoakBackend]:
    """The store under test and how to read its memory (RSS, or Redis ``used_memory``)."""
    if args.backend == "memory":
        from dashboard.store.memory import MemoryStore

        yield SoakBackend(MemoryStore(), "memory (in-process MemoryStore)", lambda: {"rss_mb": mb(process_rss_bytes())})
        return
    from dashboard.store.redis_store import RedisStore

    with soak_redis(args.redis_url, workdir) as (url, label):
        store = RedisStore(url, prefix=prefix)
        try:
            yield SoakBackend(
                store,
                label,
                lambda: {"used_memory_mb": mb(redis_used_memory(url)), "bench_process_rss_mb": mb(process_rss_bytes())},
            )
        finally:
            store.close()
            if args.redis_url:
                delete_prefix(url, prefix)


def checkpoint(
    percent: int, done: int, clock: SimClock, started: float, timers: SoakTimers, backend: SoakBackend, kpi_ids: Sequence[str]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "percent": percent,
        "events": done,
        "simulated_days": round((clock.now() - SOAK_START).total_seconds() / 86_400, 2),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    row.update(backend.memory())
    row.update(store_snapshot(backend.store, kpi_ids))
    row["apply_events_per_s_so_far"] = rate(done, timers.apply)
    return row


def with_history(config: Config, overrides: Sequence[str]) -> Config:
    """``--history resolved_days=1``: smaller windows, validated like config.yaml itself, so a
    slow backend can show "full, then flat" within a run it can afford."""
    if not overrides:
        return config
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"bench/store_soak.py: --history wants KEY=VALUE, got {item!r}")
        changes[key.strip()] = value.strip()
    history = type(config.history).model_validate({**config.history.model_dump(), **changes})
    return config.model_copy(update={"history": history})


def run_store(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Apply ``--events`` simulated events over ``--days`` simulated days to one store."""
    from dashboard.ingest import CityState
    from dashboard.picture import sample_kpis
    from dashboard.runtime import SAMPLE_EVERY_S, build_normalizer
    from dashboard.simulation import simulator_for
    from feeds.events import Rejected

    n = args.events
    config = with_history(config, args.history)
    machine = machine_info()
    clock = SimClock(SOAK_START, args.days * 86_400 / n)
    prefix = f"citywall-bench-{uuid.uuid4().hex[:8]}"
    timers = SoakTimers()
    windows = config.history.model_dump()
    kpi_ids = [kpi.id for _pillar, kpi in config.kpis()]
    marks = {max(1, n * p // 100): p for p in SOAK_CHECKPOINTS}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="citywall-soak-") as tmp, soak_backend(args, Path(tmp), prefix) as backend:
        sim = simulator_for(config, args.seed, clock=clock.now)
        normalizer = build_normalizer(config)
        normalizer.clock = clock.now  # "from the future" is judged against simulated time
        state = CityState(backend.store, config, clock=clock.epoch)
        time_housekeeping(state, timers)
        baseline = backend.memory()
        source = soak_messages(sim, clock)
        next_sample = clock.epoch() + SAMPLE_EVERY_S
        started = time.perf_counter()
        for done in range(1, n + 1):
            t0 = time.perf_counter()
            _kind, payload = next(source)
            data = encode_payload(payload)
            t1 = time.perf_counter()
            try:
                event = normalizer.decode(data)
            except Rejected:
                timers.rejected += 1
                event = None
            t2 = time.perf_counter()
            if event is not None:
                state.accept(event)
            t3 = time.perf_counter()
            timers.generate += t1 - t0
            timers.decode += t2 - t1
            timers.apply += t3 - t2
            if args.sample_kpis and clock.epoch() >= next_sample:
                next_sample = clock.epoch() + SAMPLE_EVERY_S
                sample_kpis(backend.store, config, now=clock.epoch())
                timers.sample_kpis += time.perf_counter() - t3
                timers.sample_kpis_calls += 1
            if done in marks:
                rows.append(checkpoint(marks[done], done, clock, started, timers, backend, kpi_ids))
                _progress(args, rows[-1])
                if done < n:  # a long soak stopped early still leaves its checkpoints behind
                    partial = store_result(
                        args, machine, backend.label, baseline, rows, timers, time.perf_counter() - started, done, windows
                    )
                    write_result({**partial, "complete": False, "events_requested": n}, args.out)
        wall = time.perf_counter() - started
        label = backend.label
    result = store_result(args, machine, label, baseline, rows, timers, wall, n, windows)
    return {**result, "complete": True}


def _progress(args: argparse.Namespace, row: dict[str, Any]) -> None:
    """A line per checkpoint on stderr, so a long Redis soak shows it is alive."""
    memory = row.get("rss_mb", row.get("used_memory_mb"))
    print(
        f"  {row['percent']:>3}%  {row['events']:>9,} events  day {row['simulated_days']:>5}  {memory} MB  {row['wall_s']} s",
        file=sys.stderr,
        flush=True,
    )


def store_result(
    args: argparse.Namespace,
    machine: dict[str, Any],
    label: str,
    baseline: dict[str, Any],
    rows: list[dict[str, Any]],
    timers: SoakTimers,
    wall: float,
    n: int,
    history: dict[str, Any],
) -> dict[str, Any]:
    key = "rss_mb" if args.backend == "memory" else "used_memory_mb"
    at = {r["percent"]: r for r in rows}
    memory = {f"{p}%": at[p][key] for p in (10, 50, 100) if p in at}
    growth = None
    if 50 in at and 100 in at and at[50][key]:
        growth = round(100 * (at[100][key] - at[50][key]) / at[50][key], 1)
    store_s = timers.apply - timers.housekeep
    return {
        "benchmark": "store",
        "command": store_command(args),
        "backend": args.backend,
        "store": label,
        "events": n,
        "simulated_days": args.days,
        "simulated_seconds_per_event": round(args.days * 86_400 / n, 3),
        "memory_metric": "process RSS after gc.collect()" if args.backend == "memory" else "Redis INFO memory used_memory",
        "memory_mb": memory,
        "memory_baseline_mb": baseline,
        "growth_50_to_100_pct": growth,
        "flat_50_to_100": growth is not None and abs(growth) <= FLAT_TOLERANCE_PCT,
        "flat_tolerance_pct": FLAT_TOLERANCE_PCT,
        "entities_at_100": rows[-1]["entities"] if rows else {},
        "events_per_s": rate(n, timers.apply),
        "events_per_s_without_housekeeping": rate(n, store_s),
        "end_to_end_events_per_s": rate(n, wall),
        "seconds": {
            "wall": round(wall, 1),
            "apply": round(timers.apply, 1),
            "housekeep": round(timers.housekeep, 1),
            "generate": round(timers.generate, 1),
            "decode": round(timers.decode, 1),
            "sample_kpis": round(timers.sample_kpis, 1),
        },
        "housekeep_calls": timers.housekeep_calls,
        "sample_kpis_calls": timers.sample_kpis_calls,
        "rejected": timers.rejected,
        "events_source": "simulator payloads encoded to JSON and decoded once each with the real Normalizer "
        "(simulated clock); generation and decoding are timed apart and not in events_per_s",
        "events_per_s_means": "events applied per second of CityState.accept (the store writes plus the "
        "housekeeping accept triggers every 30 simulated seconds)",
        "history_windows": history,
        "checkpoints": rows,
        "machine": machine,
    }


def store_command(args: argparse.Namespace) -> str:
    parts = [
        "python",
        "bench/store_soak.py",
        "--events",
        str(args.events),
        "--backend",
        args.backend,
        "--days",
        f"{args.days:g}",
        "--seed",
        str(args.seed),
    ]
    if args.sample_kpis:
        parts.append("--sample-kpis")
    for item in args.history:
        parts += ["--history", item]
    if args.redis_url:
        parts += ["--redis-url", args.redis_url]
    return finish_command(parts, args)


def print_store(result: dict[str, Any]) -> None:
    key = "rss_mb" if result["backend"] == "memory" else "used_memory_mb"
    print(f"store soak: {result['events']:,} events over {result['simulated_days']:g} simulated days on {result['store']}")
    print(f"memory: {result['memory_metric']}; baseline {result['memory_baseline_mb']}")
    head = f"{'%':>4} {'events':>10} {'day':>6} {'MB':>8} " + " ".join(f"{k[:11]:>11}" for k in KINDS)
    print("\n" + head + f" {'series pts':>10} {'kpi pts':>8}")
    for r in result["checkpoints"]:
        counts = " ".join(f"{r['entities'][k]:>11,}" for k in KINDS)
        print(
            f"{r['percent']:>4} {r['events']:>10,} {r['simulated_days']:>6} {r[key]:>8} {counts} "
            f"{r['entity_series_points']:>10,} {r['kpi_series_points']:>8,}"
        )
    flat = "flat" if result["flat_50_to_100"] else "NOT flat"
    print(
        f"\nmemory at 10/50/100%: {result['memory_mb']}; 50% -> 100%: {result['growth_50_to_100_pct']}% "
        f"({flat}, tolerance {result['flat_tolerance_pct']}%)"
    )
    s = result["seconds"]
    print(
        f"events/s: {result['events_per_s']:,} through CityState.accept ({result['events_per_s_without_housekeeping']:,} "
        f"without its housekeeping: {s['housekeep']} s in {result['housekeep_calls']:,} calls); "
        f"end to end {result['end_to_end_events_per_s']:,}/s"
    )
    print(f"seconds: {s}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/store_soak.py", description="soak: memory of one store while simulated weeks of events are applied"
    )
    p.add_argument("--events", type=positive, default=1_000_000, help="events to apply (default 1000000)")
    p.add_argument("--backend", choices=("memory", "redis"), default="memory")
    p.add_argument("--redis-url", default=None, help="use this Redis instead of starting a private redis-server")
    p.add_argument("--days", type=float, default=35.0, help="simulated days the events span (default 35)")
    p.add_argument(
        "--sample-kpis",
        action="store_true",
        help="also run the ingest process's KPI sampler every 60 simulated s (a full build_picture "
        "each time: 50,400 of them in 35 days, which dominates the run)",
    )
    p.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config history window for this run (repeatable), e.g. resolved_days=1",
    )
    common_options(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = load_bench_config(args)
    if config is None:
        return EXIT_CONFIG
    return finish(run_store(config, args), args.out, args.json, print_store)


if __name__ == "__main__":
    sys.exit(main())
