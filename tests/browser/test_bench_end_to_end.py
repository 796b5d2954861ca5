"""The benchmark scripts that drive a real Chromium, run end to end at a tiny size: real
Mosquitto, the demo and headless Chromium. Speed is never asserted (bench/README.md has the
figures); what is checked is that every message is counted and the JSON keeps its shape."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.helpers import assert_positive

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.browser
def test_latency_scripts_run_end_to_end(tmp_path: Path) -> None:
    """bench/latency.py and bench/latency_stages.py at two trials: real Mosquitto, demo, Chromium."""
    out = tmp_path / "latency.json"
    subprocess.run(
        [sys.executable, "bench/latency.py", "--trials", "2", "--load", "50", "--pages", "/screen/4", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=240,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    run = result["runs"][0]
    assert run["page"] == "/screen/4" and result["command"].startswith("python bench/latency.py")
    for series in (run["idle"], run["load"]):
        assert series["trials"] == 2 and series["shown"] + series["lost"] == 2
        assert series["shown"] == 2, "a trial was lost on an idle tiny run"
        assert_positive(series["p95_ms"])
        assert_positive(series["push_bytes_per_update"])
    stages = subprocess.run(
        [sys.executable, "bench/latency_stages.py", "--trials", "2"],
        cwd=ROOT,
        check=True,
        timeout=240,
        capture_output=True,
        text=True,
    ).stdout
    printed = {line.split()[0] for line in stages.splitlines() if line.startswith("  ")}
    server = {"read", "on_message", "notified", "stored", "wake", "resumed", "picture", "rendered", "ws_send"}
    assert server | {"browser_recv", "visible", "frame_to_text"} <= printed, stages
    assert "python bench/latency_stages.py --trials 2" in stages


@pytest.mark.browser
def test_row_layout_measures_each_list_with_and_without_the_variant(tmp_path: Path) -> None:
    """bench/row_layout.py at one round of five rows: every list measured with the shipped CSS and
    the variant, the page left with the rows it had, and a command that runs again as recorded."""
    out = tmp_path / "rows.json"
    argv = ["bench/row_layout.py", "--rounds", "1", "--repeats", "5", "--css", ".cw-queue { gap: 30px; }", "--out", str(out)]
    subprocess.run([sys.executable, *argv], cwd=ROOT, check=True, timeout=240, capture_output=True)
    result = json.loads(out.read_text())
    assert result["command"] == shlex.join(["python", *argv])
    assert set(result["lists"]) == {"/screen/4 .cw-queue", "/screen/13 .cw-ticks", "/screen/9 .cw-map-incs"}
    for variants in result["lists"].values():
        assert set(variants) == {"shipped", "variant"}
        assert variants["shipped"]["rows"] == variants["variant"]["rows"] > 0
        for figure in variants.values():
            assert_positive(figure["layout_us"])
            assert len(figure["rounds"]) == 1


@pytest.mark.integration
@pytest.mark.browser
def test_city_growth_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "growth.json"
    subprocess.run(
        [
            sys.executable,
            "bench/city_growth.py",
            "--sizes",
            "100",
            "300",
            "--stream-rate",
            "20",
            "--stream-seconds",
            "2",
            "--idle-seconds",
            "1",
            "--cap",
            "2000",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        timeout=280,
        capture_output=True,
    )
    result = json.loads(out.read_text())

    assert result["command"].startswith("python bench/city_growth.py --sizes 100 300")
    assert [s["open_incidents_preloaded"] for s in result["sizes"]] == [100, 300]
    for size in result["sizes"]:
        assert size["preload"]["open_counted"] >= size["open_incidents_preloaded"]
        assert size["stream"]["sent"] == 40
        assert size["stream"]["missing"] == 0
        assert size["latency"]["trials"] >= 1
        assert size["latency"]["shown"] + size["latency"]["lost"] == size["latency"]["trials"]
        assert size["cpu_us_per_message"] > 0
    for key in ("load_avg_at_start", "load_avg_at_end"):  # the 1, 5 and 15 minute load averages
        load = result["machine"][key]
        assert len(load) == 3 and all(type(x) in (int, float) and x >= 0 for x in load), (key, load)
    assert result["growth"]["from"] == 100 and result["growth"]["to"] == 300


@pytest.mark.browser
def test_kiosk_soak_samples_pages_that_keep_updating(tmp_path: Path) -> None:
    """bench/kiosk_soak.py for a minute over bare CDP: every page is sampled, visible, free of
    script errors, and its heartbeat shows it applied newer store versions between samples."""
    out = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, "bench/kiosk_soak.py", "--minutes", "1", "--warmup", "0", "--every", "5", "--out", str(out)],
        cwd=ROOT,
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    pages = json.loads(out.read_text())["pages"]
    assert set(pages) == {"/screen/4", "/screen/9", "/wall?scale=0.25"}
    for path, result in pages.items():
        samples = result["samples"]
        assert len(samples) >= 2, path
        assert all(s["visible"] is True for s in samples), path
        assert samples[-1]["script_errors"] == 0, path  # None only before the first heartbeat
        assert all(len(s["heap_mb_readings"]) == 3 and s["heap_mb"] == min(s["heap_mb_readings"]) for s in samples), path
        assert_positive(samples[0]["heap_mb"])
        # the first sample may come before the page's first heartbeat (None or -1); the last may not
        assert samples[-1]["applied_version"] > max(samples[0]["applied_version"] or 0, 0), path
