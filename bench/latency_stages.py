"""Where publish-to-visible time goes: a timestamp at each stage of one Alert's path.

``bench/latency.py`` gives the totals; this runs the same trials with ``citywall demo``
instrumented (stage functions wrapped to write ``time.time()`` to a file) and the page's
WebSocket hooked, and prints, per stage, the median and p95 of its time since the moment
just before ``mosquitto_pub`` started. Idle only: under load the stamps of other messages
would be mixed in.

    .venv/bin/python bench/latency_stages.py --trials 30 --page /screen/4 [--peer]

``--peer`` also runs Node-RED Dashboard 2.0 (``bench/nodered.py``) on the same broker, its
page in the same Chromium with the same socket hook, trials alternating as in
``bench/peer_latency.py``. Its server cannot be stamped, so it gets the page's stages only;
``frame_to_text`` (visible minus browser_recv) is each page's own share, and whatever comes
before ``browser_recv`` is the broker, the server and the socket.

Stages: ``read`` (the MQTT client's read turn began), ``on_message`` (the MQTT adapter has
the message), ``notified`` (the store told the web side of the change, from the writing
thread), ``stored`` (``CityState.accept`` returned), ``wake`` (the change reached the event
loop), ``resumed`` (the page's push went back to work), ``picture`` (the push read the
picture), ``rendered`` (the page's text parts were rendered and queued), ``ws_send`` (the
websocket frame left), ``browser_recv`` (the page's push socket received it), ``visible``
(the MutationObserver saw the text). ``read`` is the first read turn after the publish began,
which idle is the trial's (a keep-alive answer could come first, seldom).
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Every socket message's arrival, in ms since the epoch to a tenth of a ms (``Date.now()``
#: has whole ms, too coarse for a stage of one or two).
HOOK_SOCKET = """(() => { window.__recv = []; const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {configurable: true, get: d.get, set(fn) {
    d.set.call(this, (e) => { window.__recv.push(performance.timeOrigin + performance.now()); return fn(e); }); }}); })()"""


def serve_instrumented(trace: str, argv: list[str]) -> int:
    """``citywall demo`` with each stage function wrapped to stamp the trace file."""
    sys.path.insert(0, str(ROOT))
    from starlette.websockets import WebSocket

    import dashboard.ingest as ingest
    import dashboard.reader as reader
    import feeds.mqtt as mqtt
    import feeds.mqtt_socket as mqtt_socket
    import layouts.push as push

    out = open(trace, "a", buffering=1)  # noqa: SIM115 - lives as long as the instrumented server

    def stamp(name: str) -> None:
        out.write(f"{name} {time.time() * 1000:.3f}\n")

    def wrap(owner: Any, attr: str, before: str | None = None, after: str | None = None) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if before:
                stamp(before)
            result = original(*args, **kwargs)
            if after:
                stamp(after)
            return result

        setattr(owner, attr, wrapper)

    wrap(mqtt_socket.ReadAheadClient, "loop_read", before="read")
    wrap(mqtt.MqttAdapter, "_on_message", before="on_message")
    wrap(reader._ChangeWatcher, "_changed", before="notified")
    wrap(ingest.CityState, "accept", after="stored")
    wrap(reader._ChangeWatcher, "_wake", before="wake")
    wrap(push.SharedPicture, "get", before="resumed")  # called as the push loop resumes
    wrap(reader.PictureCache, "picture", after="picture")
    wrap(push._Page, "_updates", after="rendered")
    # the push hands each frame to the socket's public ``send_text``
    send_text = WebSocket.send_text

    async def stamped_send(self: WebSocket, data: str) -> None:
        await send_text(self, data)
        stamp("ws_send")

    WebSocket.send_text = stamped_send  # type: ignore[method-assign,assignment]
    from dashboard.cli import main

    return main(argv)


#: One trial: just before the publish, when ``mosquitto_pub`` returned, when the text was seen
#: (None: not within 5 s), and every socket message's arrival; ms since the epoch.
Row = tuple[float, float, float | None, list[float]]


def trial(page: Any, mqtt_port: int) -> Row:
    """One Alert, published the way every latency benchmark here does (``bench/common.py``)."""
    from bench import common

    needle = f"Uji latensi {uuid.uuid4().hex[:10]}"
    page.evaluate("(n) => { window.__seenAt = null; window.__needle = n; window.__recv = []; }", needle)
    before = common.publish_trial(mqtt_port, needle)
    published = time.time() * 1000
    seen = None
    deadline = time.monotonic() + 5
    while seen is None and time.monotonic() < deadline:
        seen = page.evaluate("window.__seenAt")
        time.sleep(0.005)
    return before, published, seen, page.evaluate("window.__recv")


def measure(page_path: str, trials: int, peer: bool = False, keep: Path | None = None) -> dict[str, dict[str, list[float]]]:
    """Stages by product: ``citywall`` always, ``nodered`` with ``peer``; with ``keep``, the
    server's stamps are copied there (``bench/wire_times.py`` reads them)."""
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from bench import common, nodered
    from dashboard.local_services import CHROMIUM_ARGS, chromium_binary

    workdir = Path(tempfile.mkdtemp(prefix="citywall-stages-"))
    trace = workdir / "trace.txt"
    trace.touch()
    mosquitto, mqtt_port = common.start_mosquitto(workdir)
    web_port = common.free_port()
    mqtt_url = f"mqtt://127.0.0.1:{mqtt_port}"
    demo = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(trace), "demo", "--port", str(web_port), "--mqtt-url", mqtt_url, "--rate", "0"],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"},  # reads without logging in
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peer_server: nodered.NodeRed | None = None
    rows: dict[str, list[Row]] = {"citywall": []}
    try:
        common.wait_http(f"http://127.0.0.1:{web_port}/healthz")
        common.fill_city(mqtt_port)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_binary(), args=list(CHROMIUM_ARGS))
            pages = {"citywall": browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()}
            pages["citywall"].add_init_script(HOOK_SOCKET)
            pages["citywall"].goto(f"http://127.0.0.1:{web_port}{page_path}")
            pages["citywall"].wait_for_selector(common.READY, timeout=30_000)
            pages["citywall"].wait_for_timeout(3_000)
            if peer:
                peer_server = nodered.NodeRed(nodered.install(), workdir, mqtt_port)
                pages["nodered"] = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
                pages["nodered"].add_init_script(HOOK_SOCKET)
                pages["nodered"].goto(peer_server.url)
                pages["nodered"].wait_for_selector(f"text={nodered.LABEL}", timeout=60_000)
                pages["nodered"].wait_for_timeout(1_000)
                rows["nodered"] = []
            for page in pages.values():
                page.evaluate(common.OBSERVER)
            names = list(pages)
            for i in range(trials):
                for name in names if i % 2 == 0 else names[::-1]:
                    rows[name].append(trial(pages[name], mqtt_port))
                    time.sleep(0.2)
            browser.close()
    finally:
        if peer_server is not None:
            peer_server.stop()
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(10)
        mosquitto.terminate()
        mosquitto.wait(10)
    stamps = read_stamps(trace)
    if keep is not None:
        shutil.copyfile(trace, keep)
    shutil.rmtree(workdir, ignore_errors=True)
    return {name: _stages(product_rows, stamps if name == "citywall" else []) for name, product_rows in rows.items()}


def read_stamps(trace: Path) -> list[tuple[str, float]]:
    """The instrumented server's stamps, in the order written: each a stage's name and ms since the epoch."""
    return [(name, float(at)) for name, at in (line.split() for line in trace.read_text().splitlines() if line.strip())]


def _stages(rows: list[Row], stamps: list[tuple[str, float]]) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = {}
    for before, published, seen, received in rows:
        if seen is None:
            continue
        first: dict[str, float] = {"mosquitto_pub_returned": published - before}
        for name, at in stamps:
            if before <= at <= seen and name not in first:
                first[name] = at - before
        got = [at for at in received if before <= at <= seen + 1]  # seen has whole ms
        if got:
            first["browser_recv"] = got[0] - before
            first["frame_to_text"] = seen - got[0]
        first["visible"] = seen - before
        for name, value in first.items():
            stages.setdefault(name, []).append(value)
    return stages


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        return serve_instrumented(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--page", default="/screen/4")
    parser.add_argument("--peer", action="store_true", help="Node-RED Dashboard 2.0 on the same broker, trials alternating")
    parser.add_argument("--trace", type=Path, help="keep the server's stage stamps in this file (for bench/wire_times.py)")
    args = parser.parse_args()
    by_product = measure(args.page, args.trials, args.peer, args.trace)
    for product, stages in by_product.items():
        page = args.page if product == "citywall" else "its text widget"
        seen = len(stages.get("visible", []))
        print(f"{product}, {page}, idle, {seen} of {args.trials} trials seen; ms since just before mosquitto_pub")
        for name in sorted(stages, key=lambda n: statistics.median(stages[n]) if n != "frame_to_text" else math.inf):
            values = sorted(stages[name])
            p95 = values[max(0, int(0.95 * len(values)) - 1)]
            print(f"  {name:<24} p50 {statistics.median(values):6.1f}   p95 {p95:6.1f}   (n={len(values)})")
    print(f"\npython bench/latency_stages.py {' '.join(sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
