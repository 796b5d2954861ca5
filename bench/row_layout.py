"""What one new row costs a screen's layout: the browser's work once a row lands on top of a list.

    python bench/row_layout.py [--css "CSS to compare"] [--rounds 3] [--repeats 200]

A pushed frame that puts a new incident on top of the queue makes the browser lay the page out
again before anything shows it; ``bench/common.py``'s observer reads ``innerText`` at that
moment, so this layout is inside every latency trial. For each list below, on ``citywall demo``
filled by ``fill_city`` and opened in headless Chromium at 1920 x 1080, the page itself
``--repeats`` times: clones the list's first row with new text, puts it on top, times
``document.body.offsetHeight`` (style and layout) and then ``document.body.innerText``, and
takes the row out again. The figure is the mean in µs per row: the page's clock is coarsened to
0.1 ms, so a mean of many, not a percentile.

``--css`` adds a style sheet for a second variant, measured alternately with the shipped one in
each round, so the two compare in the same run (absolute figures move between runs on a shared
machine). The figures printed are the median over the rounds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    CHROMIUM_ARGS,
    READY,
    chromium,
    command_line,
    fill_city,
    finish,
    machine,
    start_citywall,
    start_mosquitto,
    stop_group,
)

#: (page, the list whose first row is cloned): the lists a new incident changes at once.
LISTS = (("/screen/4", ".cw-queue"), ("/screen/13", ".cw-ticks"), ("/screen/9", ".cw-map-incs"))

MEASURE = """([list, css, repeats]) => {
  const sheet = document.createElement('style');
  sheet.textContent = css;
  document.head.appendChild(sheet);
  const box = document.querySelector(list);
  const row = box.firstElementChild;
  document.body.offsetHeight;
  let layout = 0, text = 0;
  for (let i = 0; i < repeats; i++) {
    const copy = row.cloneNode(true);
    const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) node.data = node.data + ' ' + i;
    box.insertBefore(copy, box.firstChild);
    let started = performance.now();
    document.body.offsetHeight;
    layout += performance.now() - started;
    started = performance.now();
    document.body.innerText;
    text += performance.now() - started;
    copy.remove();
    document.body.offsetHeight;
  }
  sheet.remove();
  return {layout_us: 1000 * layout / repeats, inner_text_us: 1000 * text / repeats, rows: box.children.length};
}"""


def open_page(page: Page, base: str, path: str) -> None:
    page.goto(base + path)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(2_000)


def measure(base: str, variants: dict[str, str], rounds: int, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            for path, selector in LISTS:
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                open_page(page, base, path)
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
                for _ in range(rounds):
                    for name, css in variants.items():
                        runs[name].append(page.evaluate(MEASURE, [selector, css, repeats]))
                out[f"{path} {selector}"] = {
                    name: {
                        "layout_us": round(statistics.median(r["layout_us"] for r in got)),
                        "inner_text_us": round(statistics.median(r["inner_text_us"] for r in got)),
                        "rows": got[-1]["rows"],
                        "rounds": got,
                    }
                    for name, got in runs.items()
                }
                page.close()
        finally:
            browser.close()
    return out


def figures(result: dict[str, Any]) -> None:
    print(f"mean per new row, median of {result['rounds']} rounds of {result['repeats']}")
    print(f"{'list':<26} {'variant':<9} {'layout µs':>10} {'innerText µs':>13} {'rows':>5}")
    for name, variants in result["lists"].items():
        for variant, figure in variants.items():
            print(f"{name:<26} {variant:<9} {figure['layout_us']:>10} {figure['inner_text_us']:>13} {figure['rows']:>5}")
    if result["css"]:
        print(f"variant css: {result['css']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--css", default="", help="a style sheet to compare with the shipped one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", help="keep the JSON result in this file")
    parser.add_argument("--json", action="store_true", help="print the JSON result instead of the figures")
    args = parser.parse_args()
    variants = {"shipped": ""} | ({"variant": args.css} if args.css else {})
    result: dict[str, Any] = {
        "command": command_line("row_layout.py"),
        "machine": machine(),
        "css": args.css,
        "rounds": args.rounds,
        "repeats": args.repeats,
    }
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="citywall-rows-"))
    mosquitto, citywall = None, None
    try:
        mosquitto, port = start_mosquitto(work)
        citywall, base = start_citywall(work, port)
        fill_city(port)
        result["lists"] = measure(base, variants, args.rounds, args.repeats)
    finally:
        stop_group(citywall)
        if mosquitto is not None:
            mosquitto.terminate()
            mosquitto.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    result["seconds"] = round(time.monotonic() - started)
    return finish(result, args.out, args.json, figures)


if __name__ == "__main__":
    sys.exit(main())
