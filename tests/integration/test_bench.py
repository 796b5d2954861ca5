"""Smoke tests for the benchmarks in bench/: each runs at a tiny size and keeps its shape.

Speed is measured by the benchmarks themselves (bench/README.md), never asserted here: on a
shared 2-core machine a timing assertion is a coin toss. What is checked is that the
commands run end to end against real services, count every message, and print and write
the JSON that bench/results/ and the README rely on.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import ingest, store_soak
from dashboard.local_services import mosquitto_binary
from tests.support.helpers import assert_positive

pytestmark = pytest.mark.integration


def run_json(capsys: pytest.CaptureFixture[str], main: Any, argv: list[str]) -> dict[str, Any]:
    """Run a benchmark's ``main(<argv> --json)`` in-process; the one JSON object it prints."""
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def run_script(script: str, *args: str) -> str:
    """A benchmark run as bench/README.md says: a script of its own, from the checkout; what it printed."""
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        timeout=240,
        capture_output=True,
        text=True,
    ).stdout


def test_bench_ingest_tiny(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "ingest.json"
    result = run_json(capsys, ingest.main, ["--messages", "150", "--rounds", "2", "--out", str(out)])

    assert json.loads(out.read_text()) == result
    for key in ("pipeline_msgs_per_s", "bare_msgs_per_s", "ratio", "cpu_ratio"):
        assert_positive(result[key])
    assert result["ratio"] == round(result["pipeline_msgs_per_s"] / result["bare_msgs_per_s"], 3)
    assert result["messages"] == 150 and result["qos"] == 1
    assert result["method"].startswith("backlog: each round makes two persistent sessions")
    if mosquitto_binary() is not None:
        assert re.fullmatch(r"mosquitto \S+ started by the benchmark on 127\.0\.0\.1:\d+, no persistence", result["broker"]), (
            result["broker"]
        )
    else:
        assert result["broker"].startswith("embedded amqtt broker on mqtt://127.0.0.1:"), result["broker"]
    assert result["command"].startswith("python bench/ingest.py --messages 150 ")
    assert result["machine"]["cores"] == os.cpu_count()
    assert result["machine"]["python"] == platform.python_version()
    assert len(result["runs"]) == 2
    assert [r["order"] for r in result["runs"]] == [["bare", "pipeline"], ["pipeline", "bare"]]
    for run in result["runs"]:
        pipeline = run["pipeline"]
        assert run["bare"]["received"] == 150
        assert pipeline["accepted"] + pipeline["duplicates"] + pipeline["rejected"] == 150
        assert pipeline["rejected"] == 0  # the simulator only sends valid messages
    stages = result["stages_us_per_msg"]
    for key in (
        "paho_receive_ack",
        "json_parse_and_checks",
        "validate_and_map",
        "event_to_doc",
        "store_upsert_series_ticker",
        "handler_total",
        "pipeline_live_total",
    ):
        assert_positive(stages[key])
    top = result["profile_top_own_time"]
    assert len(top) >= 1
    assert all(re.fullmatch(r".+:\d+\(.+\)", row["function"]) for row in top), top[:3]
    assert sum(result["message_mix"].values()) == 150


def check_store_result(result: dict[str, Any], backend: str, events: int) -> None:
    assert result["backend"] == backend and result["events"] == events
    assert set(result["memory_mb"]) == {"10%", "50%", "100%"}
    for value in result["memory_mb"].values():
        assert_positive(value)
    assert_positive(result["events_per_s"])
    assert [c["percent"] for c in result["checkpoints"]] == list(range(10, 101, 10))
    assert result["checkpoints"][-1]["events"] == events
    assert set(result["entities_at_100"]) == {"incident", "water_level", "report", "waste_fill", "queue", "kpi"}
    assert result["entities_at_100"]["water_level"] > 0
    assert result["rejected"] == 0
    assert result["command"].startswith(f"python bench/store_soak.py --events {events} --backend {backend}")


def test_bench_store_memory_tiny(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    result = run_json(
        capsys,
        store_soak.main,
        ["--events", "600", "--days", "0.05", "--sample-kpis", "--history", "resolved_days=0", "--out", str(out)],
    )

    check_store_result(result, "memory", 600)
    assert json.loads(out.read_text()) == result
    assert "rss_mb" in result["checkpoints"][0]
    assert result["history_windows"]["resolved_days"] == 0
    assert result["sample_kpis_calls"] > 0


@pytest.mark.skipif(
    shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists(), reason="redis-server is not installed"
)
def test_bench_store_redis_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, store_soak.main, ["--backend", "redis", "--events", "300", "--days", "0.02"])

    check_store_result(result, "redis", 300)
    assert "used_memory_mb" in result["checkpoints"][0]
    assert "redis-server" in result["store"]


def test_bench_store_runs_as_a_script_and_prints_a_table_and_the_command() -> None:
    """As bench/README.md says to run it: a script of its own, from the checkout."""
    text = run_script("bench/store_soak.py", "--events", "200", "--days", "0.01")
    assert "memory at 10/50/100%" in text
    assert "command: python bench/store_soak.py --events 200 --backend memory" in text


def test_bench_decode_ahead_runs_as_a_script_and_prints_both_ways_and_the_command(tmp_path: Path) -> None:
    out = tmp_path / "decode-ahead.json"
    text = run_script("bench/decode_ahead.py", "--messages", "40", "--batches", "10", "--passes", "1", "--out", str(out))
    assert "| in turn | " in text and "| ahead 10 | " in text
    assert f"command: python bench/decode_ahead.py --messages 40 --batches 10 --passes 1 --out {out}" in text
    result = json.loads(out.read_text())
    assert sorted(result["cpu_us_per_message"]) == ["ahead_10", "in_turn"]
    for figure in result["cpu_us_per_message"].values():
        assert_positive(figure)
    assert result["messages"] == 40
