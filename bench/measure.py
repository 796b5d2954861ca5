"""What the ingest and store benchmarks share: the machine, the options, the command.

Both print their figures and the command line that reproduces them, and ``--out`` keeps the
JSON in the repository (bench/results/), so the latest numbers travel with the code; that
ending is every benchmark's, ``bench.common.finish``. Everything heavy (paho, redis, the
simulator, the store) is imported where it is used.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard.config import Config

#: The demo publishes 20 msg/s; generating at that simulated pace gives the demo's mix
#: (mostly gauge and queue readings, some incidents and reports) with distinct time stamps.
DEMO_RATE = 20.0
#: Exit status of a config file that does not validate (the same as ``citywall``'s).
EXIT_CONFIG = 2


def machine_info() -> dict[str, Any]:
    """What the numbers depend on; the load average shows whether others were busy too."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["paho_mqtt"] = version("paho-mqtt")
        info["redis_py"] = version("redis")
    return info


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def process_rss_bytes() -> int:
    """RSS after a full collection; psutil when installed (a test extra), else /proc."""
    gc.collect()
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")


def mb(n_bytes: float) -> float:
    return round(n_bytes / 1_048_576, 1)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The simulator's wire encoding (compact JSON, UTF-8), so sizes match the real feed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class SimClock:
    """Simulated time that moves a fixed step per ``tick``: the soak and the message
    generator read it instead of the wall clock, so a month passes in minutes and every
    message gets its own, later time stamp (equal stamps would be duplicates to the store)."""

    def __init__(self, start: datetime, step_s: float) -> None:
        self.start = start
        self.step_s = step_s
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.ticks * self.step_s)

    def epoch(self) -> float:
        return self.start.timestamp() + self.ticks * self.step_s


def mosquitto_version(binary: str) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=5)
        first = (out.stdout or out.stderr).splitlines()[0]
        return first.replace("mosquitto version", "mosquitto").strip()
    return "mosquitto"


def redis_version(binary: str) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
        return next(p.split("=", 1)[1] for p in out.split() if p.startswith("v="))
    return "?"


def finish_command(parts: list[str], args: argparse.Namespace) -> str:
    if getattr(args, "config", None):
        parts += ["--config", args.config]
    if args.json:
        parts.append("--json")
    if args.out:
        parts += ["--out", args.out]
    return shlex.join(parts)


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def common_options(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark here takes."""
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--out", default=None, help="also write the JSON to this file (e.g. bench/results/ingest.json)")
    parser.add_argument("--config", default=None, help="config file (default: $CITYWALL_CONFIG or ./config.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the processes do")


def load_bench_config(args: argparse.Namespace) -> Config | None:
    """The config the product would read, with its logging; None (after saying why) when it
    does not validate, so the benchmark stops as ``citywall`` would, never printing a value."""
    from dashboard.config import ConfigError, load_config
    from dashboard.redact import install as install_logging
    from dashboard.redact import redact

    install_logging(logging.INFO if args.verbose else logging.WARNING, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {redact(str(exc))}", file=sys.stderr)
        return None
