"""Where an ingest message's time goes: each step of ``Pipeline.handle`` timed apart, and a
cProfile of the whole handler, on the same batch the live rounds used.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard.config import Config


STAGES = ("stats_counting", "json_parse_and_checks", "validate_and_map", "event_to_doc", "store_upsert_series_ticker")


def _stage_pass(config: Config, normalizer: Any, payloads: list[bytes]) -> list[float]:
    """One pass doing exactly what ``Pipeline.handle`` does, with a stopwatch between steps.

    Interleaved per message, as live, so allocation and GC costs land where they occur; the
    state is fresh, as in each live round. ``to_doc`` is timed on its own and subtracted
    from ``accept`` (which calls it), leaving the store's share. The stopwatch is this
    thread's CPU time, so other processes on a shared machine do not inflate a step; the
    cost of reading it is measured and taken off.
    """
    from dashboard.ingest import CityState
    from dashboard.store.memory import MemoryStore
    from feeds.health import FeedStats
    from feeds.payload import parse_payload

    state, stats, limit = CityState(MemoryStore(), config), FeedStats("bench"), config.feeds.max_payload_bytes
    clock = time.thread_time
    total = [0.0] * 5
    gc.collect()
    for payload in payloads:
        t0 = clock()
        stats.received()
        t1 = clock()
        entity = parse_payload(payload, limit)
        t2 = clock()
        event = normalizer.from_entity(entity).event
        t3 = clock()
        event.to_doc()
        t4 = clock()
        stats.accepted(state.accept(event))
        t5 = clock()
        for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            total[i] += dt
    overhead = _clock_overhead(clock)
    return [max(0.0, t / len(payloads) - overhead) * 1e6 for t in total]


def _clock_overhead(clock: Callable[[], float], n: int = 20_000) -> float:
    """Seconds one stopwatch reading adds to the step it closes."""
    started = clock()
    for _ in range(n):
        clock()
    return (clock() - started) / n


def stage_breakdown(
    config: Config, normalizer: Any, messages: list[tuple[str, bytes]], bare_us: float, pipeline_us: float, passes: int = 5
) -> dict[str, Any]:
    """CPU microseconds per message for each step of the handler (fastest of ``passes``), next to
    paho's own cost (the bare subscriber's CPU per message, live) and the live pipeline's.
    ``adapter_and_contention`` is the live total minus paho minus the handler steps: the
    adapter's callback, its locks and manual ack, its other threads, cache misses."""
    payloads = [p for _, p in messages]
    samples = [_stage_pass(config, normalizer, payloads) for _ in range(passes)]
    stages = {name: round(min(s[i] for s in samples), 2) for i, name in enumerate(STAGES)}
    stages["store_upsert_series_ticker"] = round(stages["store_upsert_series_ticker"] - stages["event_to_doc"], 2)
    handler = round(sum(stages.values()), 2)
    return {
        "paho_receive_ack": round(bare_us, 2),
        **stages,
        "handler_total": handler,
        "adapter_and_contention": round(pipeline_us - bare_us - handler, 2),
        "pipeline_live_total": round(pipeline_us, 2),
        "how": f"handler steps timed per message with thread CPU time over the same batch, fastest of {passes} "
        "passes (store_upsert_series_ticker = CityState.accept minus its to_doc); paho_receive_ack and "
        "pipeline_live_total are the live rounds' process CPU-us per message (median), bare and pipeline",
    }


def _handle_all(pipeline: Any, messages: list[tuple[str, bytes]]) -> None:
    for kind, payload in messages:
        pipeline.handle(payload, kind)


def profile_handler(config: Config, normalizer: Any, messages: list[tuple[str, bytes]], top: int = 15) -> list[dict[str, Any]]:
    """cProfile of ``Pipeline.handle`` over the batch: the functions with the most own time."""
    import cProfile
    import pstats

    from dashboard.ingest import CityState
    from dashboard.store.memory import MemoryStore
    from feeds.health import FeedStats
    from feeds.pipeline import Pipeline

    pipeline = Pipeline(normalizer, CityState(MemoryStore(), config), FeedStats("bench"))
    profiler = cProfile.Profile()
    profiler.runcall(_handle_all, pipeline, messages)
    stats = pstats.Stats(profiler)
    n = len(messages)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    return [
        {
            "function": f"{_short(path)}:{line}({name})",
            "calls": nc,
            "own_us_per_msg": round(tt / n * 1e6, 2),
            "cumulative_us_per_msg": round(ct / n * 1e6, 2),
        }
        for (path, line, name), (_cc, nc, tt, ct, _callers) in rows
    ]


def _short(path: str) -> str:
    """Repository-relative or library-relative, so the profile reads the same on any machine."""
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1]
    if "/lib/python3." in path:  # the standard library: lib/python3.11/json/decoder.py -> json/decoder.py
        return path.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(Path(__file__).resolve().parent.parent))
    return path
