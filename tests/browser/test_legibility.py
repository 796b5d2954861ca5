"""Legibility from the operator's seat and on the mayor's hand-held screen, measured in Chromium.

The wall is read from 3-5 m. The signage rule of thumb used here: a character's height (the
font's em, the CSS font size) at least the viewing distance / 250, so 16 mm at 4 m; one CSS
pixel of a 55" 1920 x 1080 panel is 0.63 mm, so 16 mm is 25.4 px, taken as 26 px for the
labels an operator must read to know what a figure means or what state a row is in. Contrast
is WCAG 2.x: 4.5:1, 3:1 for large text (>= 24 px, or >= 18.66 px bold), against the colour
actually behind the text: the ancestors' backgrounds composited, their grayscale filter and
opacity applied (a stale panel greys and dims its body), and for text laid over a sibling (the
MPP's percentage on its bar) that sibling's colours and gradient stops. The tablet follows the hand-held rule: body text at
least 16 px.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import pytest
from babel.dates import format_date

from dashboard.config import Config, load_config
from dashboard.local_services import WALL_READY_JS as READY_JS
from dashboard.local_services import serve
from dashboard.sample_city import City, tablet_city
from tests.support.helpers import alert

pytestmark = pytest.mark.browser

#: px of a 55" 1920 x 1080 panel's active area (1209.6 mm / 1920)
PX_MM = 1209.6 / 1920
#: the operator's seat (m) and the signage rule: em >= distance / 250
DISTANCE_MM = 4000
LABEL_PX = DISTANCE_MM / 250 / PX_MM  # 25.4 px

#: What both measurements below read colours with: a CSS colour as RGBA, its relative
#: luminance, and the WCAG contrast ratio of two colours.
COLOUR_JS = r"""
  const parse = s => {
    const m = (s || '').match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
"""

#: [selector, text, font px, contrast, large] of every visible text under a root; contrast is
#: the text's colour (its alpha and every ancestor's opacity applied) over the composited
#: background behind it.
TEXTS_JS = (
    r"""
(rootSel) => {
"""
    + COLOUR_JS
    + r"""  const out = [];
  const root = document.querySelector(rootSel) || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement, text = node.textContent.trim();
    if (!text || !el || el.closest('script, style, svg')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    // a glyph's pixel and the pixel beside it, composited as the browser does: the text over
    // its element's background, each ancestor's background under that, each element's
    // filter and opacity applied to all it paints, the page's black at the bottom (premultiplied RGBA)
    const col = parse(cs.color);
    let p = [col[0] * col[3], col[1] * col[3], col[2] * col[3], col[3]], q = [0, 0, 0, 0];
    const under = (a, b) => a.map((v, i) => v + b[i] * (1 - a[3]));
    const gray = (c, amount) => {   // the filter's matrix (Filter Effects 1, grayscale())
      const k = 1 - amount, [r, g, b, a] = c;
      return [(0.2126 + 0.7874 * k) * r + (0.7152 - 0.7152 * k) * g + (0.0722 - 0.0722 * k) * b,
              (0.2126 - 0.2126 * k) * r + (0.7152 + 0.2848 * k) * g + (0.0722 - 0.0722 * k) * b,
              (0.2126 - 0.2126 * k) * r + (0.7152 - 0.7152 * k) * g + (0.0722 + 0.9278 * k) * b, a];
    };
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      const c = parse(s.backgroundColor) || [0, 0, 0, 0];
      const b = [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]];
      p = under(p, b); q = under(q, b);
      // a grayscale filter (a stale panel's body) takes the colour out before the opacity
      const g = (s.filter || '').match(/grayscale\(([\d.]+)\)/);
      if (g) { p = gray(p, parseFloat(g[1])); q = gray(q, parseFloat(g[1])); }
      const o = parseFloat(s.opacity);
      p = p.map(v => v * o); q = q.map(v => v * o);
    }
    p = under(p, [0, 0, 0, 1]); q = under(q, [0, 0, 0, 1]);
    const fg = p.slice(0, 3), bg = q.slice(0, 3);
    const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10) || 400;
    out.push([(el.getAttribute('class') || el.tagName).toString(), text.slice(0, 40), size, ratio(fg, bg),
              size >= 24 || (size >= 18.66 && weight >= 700)]);
  }
  return out;
}
"""
)


def contrast_failures(rows: list[list[Any]]) -> list[str]:
    return [f"{t!r} ({cls}) {size}px {c:.2f}:1" for cls, t, size, c, large in rows if c < (3.0 if large else 4.5)]


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def wall(config: Config) -> Iterator[str]:
    city = City(config).replay(hours=1.0, step_s=180).start()
    try:
        with serve(config, city.store) as base:
            yield base
    finally:
        city.stop()


def open_screen(page: Any, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(READY_JS, timeout=45_000, polling=100)


def sizes(page: Any, selector: str) -> list[float]:
    return page.eval_on_selector_all(
        selector,
        "els => els.filter(e => e.getBoundingClientRect().width > 0).map(e => parseFloat(getComputedStyle(e).fontSize))",
    )


@pytest.mark.parametrize(
    ("screen", "selector"),
    [
        # what a KPI's figure is: its name, the target it is held to, and its pillar's standing
        (16, ".cw-kpi-name"),
        (16, ".cw-kpi-target"),
        (16, ".cw-standing"),
        (1, ".cw-kpi-name"),  # the same pillars in half a screen under the clock
        (1, ".cw-kpi-target"),
        (1, ".cw-standing"),
        # an incident's row in the queue: how grave, what, and its state (baru, diterima, dikirim)
        (4, ".cw-row .cw-sev"),
        (4, ".cw-row .cw-desc"),
        (4, ".cw-row .cw-status"),
        # and in the ticker, with what kind of event it is (insiden, laporan)
        (13, ".cw-tick .cw-status"),
        (13, ".cw-tick .cw-kind"),
        (13, ".cw-tick .cw-desc"),
        # what a headline figure counts: "insiden terbuka", "/ 12 pos >= WASPADA", "TPS hampir penuh"
        (4, ".cw-stat-label"),
        (5, ".cw-stat-label"),
        (6, ".cw-stat-label"),
        (14, ".cw-stat-label"),
        # the words of a state: a station's stage and the legend that names the stages, the
        # queue's count per severity, a source's and a feed's health, the map's gravest rows
        (5, ".cw-stage"),
        (5, ".cw-legend-item"),
        (4, ".cw-chip"),
        (7, ".cw-source-state"),
        (7, ".cw-feed-state"),
        (3, ".cw-map-inc .cw-sev"),
        (3, ".cw-map-inc .cw-age-cell"),
    ],
)
def test_wall_labels_meet_the_signage_rule(page_factory: Any, wall: str, screen: int, selector: str) -> None:
    page = page_factory()
    open_screen(page, f"{wall}/screen/{screen}")
    found = sizes(page, selector)
    assert found, f"no visible {selector} on /screen/{screen}"
    assert min(found) >= LABEL_PX, (
        f"/screen/{screen} {selector}: {min(found)} px = {min(found) * PX_MM:.1f} mm, "
        f"under {DISTANCE_MM / 250:.0f} mm (distance / 250 at {DISTANCE_MM / 1000:.0f} m)"
    )
    # the larger words still fit their cells: a state word cut by its ellipsis is no state word
    cut = page.eval_on_selector_all(
        selector,
        "els => els.filter(e => e.getBoundingClientRect().width > 0 && e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent)",
    )
    if not selector.endswith("-desc") and selector != ".cw-kpi-name":  # long texts end in an ellipsis
        assert not cut, f"/screen/{screen} {selector}: cut by the cell: {cut[:5]}"


@pytest.mark.parametrize("screen", [4, 5, 7, 13, 14])
def test_stale_panel_keeps_its_words_readable(page_factory: Any, wall: str, screen: int) -> None:
    """A stale panel dims its body to say so, but keeps every word at AA contrast: the values it
    keeps are the last known picture, and the hatched border and the badge already say stale."""
    page = page_factory()
    open_screen(page, f"{wall}/screen/{screen}")
    # the state a panel enters when its feed falls silent, set as the page itself sets it
    page.evaluate("() => document.querySelectorAll('[data-panel]').forEach(p => p.setAttribute('data-stale', 'true'))")
    rows = page.evaluate(TEXTS_JS, "[data-screen]")
    assert rows
    failures = contrast_failures(rows)
    assert not failures, f"/screen/{screen} stale: " + "; ".join(sorted(set(failures))[:8])


@pytest.mark.parametrize(("screen", "row"), [(4, ".cw-row"), (13, ".cw-tick")])
def test_a_status_word_is_not_coloured_as_a_severity(page_factory: Any, wall: str, screen: int, row: str) -> None:
    """The queue's row takes its severity's colour; its status word must not, or "DIKIRIM" on a
    critical row reads red and on a high row orange, as if the status were a severity."""
    page = page_factory()
    open_screen(page, f"{wall}/screen/{screen}")
    seen = page.eval_on_selector_all(
        f"{row} .cw-status",
        "els => els.filter(e => e.getBoundingClientRect().width > 0).map(e => [e.className, getComputedStyle(e).color])",
    )
    assert len(seen) >= 5, seen
    # the text colour (#f1f5fa), white for a new one; a resolved one (in the ticker) is green
    unresolved = {colour for kind, colour in seen if "st-resolved" not in kind}
    assert unresolved <= {"rgb(241, 245, 250)", "rgb(255, 255, 255)"}, seen
    assert {colour for kind, colour in seen if "st-resolved" in kind} <= {"rgb(81, 207, 102)"}, seen


@pytest.mark.parametrize("screen", [1, 4, 5, 7, 13, 14])
def test_fresh_wall_text_meets_aa(page_factory: Any, wall: str, screen: int) -> None:
    page = page_factory()
    open_screen(page, f"{wall}/screen/{screen}")
    failures = contrast_failures(page.evaluate(TEXTS_JS, "[data-screen]"))
    assert not failures, f"/screen/{screen}: " + "; ".join(sorted(set(failures))[:8])


def alert_at(issued: datetime, description: str) -> tuple[str, dict[str, Any]]:
    return "incidents", {**alert(description), "dateIssued": issued.isoformat()}


def test_a_ticker_line_from_yesterday_shows_its_day_legibly(page_factory: Any, config: Config) -> None:
    """After midnight the lines from before it carry their day under the time; that day is
    read from the same seat as the rest, so it is no smaller than the wall's smallest text
    (20 px). At 0.62 em it was 16 px, and only a run that crossed midnight saw it."""
    city = City(config)
    now = datetime.now(UTC) - city.shift  # the simulator's clock: ``feed`` moves its times on to today
    midnight = datetime.now(config.city.tz).replace(hour=0, minute=0, second=0, microsecond=0) - city.shift
    today = max(now - timedelta(minutes=5), midnight)  # in the first minutes after midnight, still today
    accepted = city.feed([alert_at(today, "Antrean hari ini"), alert_at(now - timedelta(hours=30), "Antrean kemarin")])
    assert accepted == 2
    with serve(city.config, city.store) as base:
        page = page_factory()
        open_screen(page, f"{base}/screen/13")
        page.wait_for_function("() => document.body.innerText.includes('Antrean kemarin')", timeout=15_000)
        days = page.eval_on_selector_all(
            ".cw-tick-day",
            "els => els.filter(e => e.getBoundingClientRect().width > 0)"
            ".map(e => [e.textContent, parseFloat(getComputedStyle(e).fontSize), e.scrollWidth <= e.clientWidth + 1])",
        )
    yesterday = (now + city.shift - timedelta(hours=30)).astimezone(config.city.tz)
    assert [d[0] for d in days] == [format_date(yesterday, "d MMM", locale="id")]
    assert days[0][1] >= 20, f"the day under a line's time is {days[0][1]} px"
    assert days[0][2], "the day is cut by its column"


@pytest.fixture(scope="module")
def tablet() -> Iterator[str]:
    city = tablet_city(load_config())
    with serve(city.config, city.store) as base:
        yield base


def open_tablet(page: Any, base: str) -> None:
    page.goto(f"{base}/tablet", wait_until="domcontentloaded")
    # filled: the six pillars with their standing, and the headline tiles with their lines
    page.wait_for_function(
        "() => document.querySelectorAll('[data-pillar] .tb-standing').length === 6"
        " && !!document.querySelector('[data-headline=flood] .tb-tile-strong')"
        " && !!document.querySelector('[data-headline=incidents] .tb-chips')",
        timeout=15_000,
    )


def test_tablet_severity_chip_with_none_open_stays_readable(page_factory: Any, tablet: str) -> None:
    """'0 kritis' is news to the mayor: a severity with no open incident steps back, at AA."""
    page = page_factory(820, 1180)
    open_tablet(page, tablet)
    # a count of zero, as the page writes it (data-count) when a severity has none open
    page.evaluate("() => document.querySelectorAll('.tb-chip').forEach(c => c.setAttribute('data-count', '0'))")
    rows = page.evaluate(TEXTS_JS, "[data-headline=incidents] .tb-chips")
    assert len(rows) >= 3 * 5, rows  # shape, count and word of every severity
    failures = contrast_failures(rows)
    assert not failures, "; ".join(failures[:8])


@pytest.mark.parametrize(("width", "height"), [(820, 1180), (1180, 820), (390, 844)])
def test_tablet_body_text_at_least_16px(page_factory: Any, tablet: str, width: int, height: int) -> None:
    """The headline tiles' labels and lines, the pillars' names and their standing words are what
    the mayor reads: body text, >= 16 px on a hand-held screen; nothing at all under 12 px;
    every word at AA."""
    page = page_factory(width, height)
    open_tablet(page, tablet)
    for selector in (".tb-tile-label", ".tb-tile-strong", ".tb-card-name", ".tb-standing"):
        found = sizes(page, selector)
        assert found, f"no visible {selector}"
        assert min(found) >= 16, f"{width}x{height} {selector}: {min(found)} px (needs >= 16)"
    rows = page.evaluate(TEXTS_JS, ".tb-root")
    assert rows
    assert min(r[2] for r in rows) >= 12, [r[:3] for r in rows if r[2] < 12][:5]
    failures = contrast_failures(rows)
    assert not failures, "; ".join(failures[:8])


#: Every word of visible text under a root that the browser broke across two lines: a word is
#: a run between ordinary spaces, so a phrase held together with no-break spaces counts as one.
SPLIT_WORDS_JS = r"""
(rootSel) => {
  const out = [];
  const walker = document.createTreeWalker(document.querySelector(rootSel), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/[^ \n\t]+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top));
      if (new Set(tops).size > 1) out.push(m[0]);
    }
  }
  return out;
}
"""


@pytest.mark.parametrize(("width", "height"), [(360, 740), (390, 844), (820, 1180)])
def test_tablet_breaks_no_word_and_keeps_the_time_with_its_zone(page_factory: Any, tablet: str, width: int, height: int) -> None:
    """On a 360-px phone the waste tile wrote "selesai (24 ja" over "m)", its words joined by
    no-break spaces into one too long for the tile; and "Data per Minggu, 6 Desember 2026
    06:32" left "WIB" alone on a line under it."""
    page = page_factory(width, height)
    open_tablet(page, tablet)
    assert page.evaluate(SPLIT_WORDS_JS, ".tb-root") == []
    clock = page.eval_on_selector_all(".tb-asof .tb-nowrap", "els => els.map(e => [e.textContent, e.getClientRects().length])")
    assert len(clock) == 1 and clock[0][0].endswith(" WIB") and clock[0][1] == 1, clock


#: The progress text's colour against every colour of what lies under its middle that is not
#: one of its ancestors (the bar's fill, a sibling): its background colour and each colour stop
#: of its gradient, the text's own background (if any) composited over each.
OVER_SIBLING_JS = (
    r"""
(sel) => {
"""
    + COLOUR_JS
    + r"""  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const text = document.querySelector(sel);
  const r = text.getBoundingClientRect();
  const under = document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    .filter(e => e !== text && !e.contains(text))[0];
  const cs = getComputedStyle(under);
  const colours = [parse(cs.backgroundColor), ...(cs.backgroundImage.match(/rgba?\([^)]+\)/g) || []).map(parse)]
    .filter(c => c && c[3] > 0);
  const own = parse(getComputedStyle(text).backgroundColor) || [0, 0, 0, 0];
  const fg = parse(getComputedStyle(text).color);
  return {under: under.className, ratios: colours.map(c => { const bg = over(own, c); return ratio(over(fg, bg), bg); })};
}
"""
)


@pytest.fixture(scope="module")
def mpp_day(config: Config) -> Iterator[str]:
    """A city replayed from before the MPP opened, so its count runs against today's target.
    Its MPP serves round the clock: before its hours the panel says it has not opened yet, in
    place of the bar, and this test runs at any hour."""
    mpp = config.mpp.model_copy(update={"opens": dt_time(0, 0), "closes": dt_time(23, 59)})
    city = City(config.model_copy(update={"mpp": mpp})).replay(hours=8.5, step_s=180)
    with serve(city.config, city.store) as base:
        yield base


@pytest.mark.parametrize("done", [False, True], ids=["on-its-way", "target-met"])
def test_mpp_progress_percentage_reads_over_its_bar(page_factory: Any, mpp_day: str, done: bool) -> None:
    """The MPP's 'served against today's target' percentage sits on the end of its bar: over the
    bar's blue gradient on its way and over its green once met, it must read at 3:1 (28 px
    bold is large text), whatever the bar's fill under it."""
    page = page_factory()
    open_screen(page, f"{mpp_day}/screen/6")
    page.wait_for_selector(".cw-progress-text")
    # the bar full under the text, as the page draws it at 100 % (is-done: the target met)
    page.evaluate(
        "done => { const f = document.querySelector('.cw-progress-fill'); f.style.width = '100%';"
        " f.classList.toggle('is-done', done); }",
        done,
    )
    found = page.evaluate(OVER_SIBLING_JS, ".cw-progress-text")
    assert "cw-progress-fill" in found["under"], found
    assert found["ratios"] and min(found["ratios"]) >= 3.0, found
