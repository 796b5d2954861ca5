"""The mayor's tablet in a real Chromium (portrait, landscape, phone) and its PDF summary.

The app runs in-process on a memory store filled the way production fills it (the
simulator's payloads through the normalizer into ``CityState``, replayed over the last
hours: ``City`` and ``serve`` from the wall's browser tests), plus a month of KPI trend
points written as ``sample_kpis`` writes them. At each size the page must show the six
pillar cards with a standing word, the headline numbers of the store, no sideways scroll
and no tap target under 44 x 44 px; tapping a pillar must open its KPIs with value, target
and a trend, in place. Live updates must change values without remounting the charts.
The PDF is fetched from its route and read back with ``pdftotext``, in Indonesian and in
English.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from dashboard.config import Config, load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.sample_city import City, tablet_city
from dashboard.store.memory import MemoryStore
from feeds.events import Incident, KpiReading
from layouts.i18n import catalog, number, t
from layouts.mayor.page import EXPORT_PDF
from tests.support.city import water

pytestmark = pytest.mark.browser

#: An iPad upright and on its side, a phone, and that phone at 150 % zoom (390 / 1.5 = 260 px).
SIZES = [(820, 1180), (1180, 820), (390, 844), (260, 563)]
#: A KPI value as the tablet writes it: digits with grouping, at most two decimals, an optional unit.
VALUE = re.compile(r"\d{1,3}(?:[.,]\d{3})*(?:[.,]\d{1,2})?(?:%| \S+)?")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
PILLARS = [p.id for p in load_config().pillars]


def english(config: Config) -> Config:
    return config.model_copy(update={"city": config.city.model_copy(update={"language": "en"})})


@pytest.fixture(scope="module")
def city() -> City:
    return tablet_city(load_config())


@pytest.fixture(scope="module")
def site(city: City) -> Iterator[str]:
    with serve(city.config, city.store) as base:
        yield base


# --- what the page must satisfy ------------------------------------------------------------------
#: Everything a finger can hit, visible, at least 44 x 44; and a few facts about the page.
PAGE_JS = """
() => {
  const vw = window.innerWidth;
  const doc = document.documentElement;
  const small = [];
  const seen = new Set();
  const visible = el => {
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.pointerEvents === 'none') return null;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? r : null;
  };
  const check = el => {
    // a radio inside its label (or Bootstrap's hidden .btn-check): the label is what a finger hits
    if (seen.has(el) || el.matches('.btn-check') || (el.matches('input') && el.closest('label'))) return;
    seen.add(el);
    const r = visible(el);
    if (r && (r.width < 44 - 0.5 || r.height < 44 - 0.5))
      small.push([el.tagName, (el.className || '').toString().slice(0, 40), (el.textContent || '').trim().slice(0, 30),
                  Math.round(r.width), Math.round(r.height)]);
  };
  document.querySelectorAll('a[href], button, [role=button], label, input:not([type=hidden]), select, textarea, summary,'
                            + ' [tabindex]:not([tabindex="-1"])').forEach(check);
  // anything else that looks clickable (pointer cursor), at its outermost element
  document.querySelectorAll('body *').forEach(el => {
    if (getComputedStyle(el).cursor !== 'pointer') return;
    if (el.parentElement && getComputedStyle(el.parentElement).cursor === 'pointer') return;
    check(el);
  });
  const hoverOnly = Array.from(document.querySelectorAll('[title]'))
    .filter(el => visible(el) && !(el.textContent || '').trim()).map(el => el.outerHTML.slice(0, 80));
  const cards = Array.from(document.querySelectorAll('[data-pillar]')).map(el => ({
    pillar: el.getAttribute('data-pillar'),
    standing: el.getAttribute('data-standing'),
    word: (el.querySelector('.tb-standing .tb-word') || {}).textContent || '',
    shape: (el.querySelector('.tb-standing .tb-shape') || {}).textContent || '',
    colour: getComputedStyle(el).borderLeftColor,
    visible: !!visible(el),
  }));
  const heads = {};
  document.querySelectorAll('[data-headline]').forEach(el => {
    heads[el.getAttribute('data-headline')] = (el.querySelector('.tb-big') || {}).textContent || '';
  });
  // what is cut: a card, the span's buttons or the detail wider than its box, or a word of
  // the city's name or a pillar's broken across two lines
  const cut = Array.from(document.querySelectorAll('[data-pillar], .tb-detail, .tb-range'))
    .filter(el => visible(el) && el.scrollWidth > el.clientWidth + 1)
    .map(el => (el.getAttribute('data-pillar') || el.className).toString().slice(0, 40));
  document.querySelectorAll('.tb-city, .tb-card-name').forEach(el => {
    const words = (el.textContent || '').split(/\\s+/).filter(Boolean);
    const text = el.firstChild && el.firstChild.nodeType === 3 ? el.firstChild : null;
    if (!text) return;
    let at = 0;
    for (const word of words) {
      const start = text.data.indexOf(word, at);
      at = start + word.length;
      const range = document.createRange();
      range.setStart(text, start);
      range.setEnd(text, at);
      if (new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size > 1) cut.push('word ' + word);
    }
  });
  const exp = document.querySelector('a[data-export]');
  return {scrollWidth: doc.scrollWidth, bodyScrollWidth: document.body.scrollWidth, vw, small, hoverOnly, cards, heads, cut,
          font: getComputedStyle(document.querySelector('.tb-root')).fontFamily,
          export: exp ? exp.getAttribute('href') : null,
          updated: document.querySelector('[data-panel=tablet]').getAttribute('data-updated-at')};
}
"""

READY_JS = """
() => {
  const cards = Array.from(document.querySelectorAll('[data-pillar]'));
  return cards.length === 6 && cards.every(c => c.getAttribute('data-standing') !== 'unknown')
    && !!document.querySelector('[data-headline=incidents] .tb-chips')
    && document.querySelector('[data-panel=tablet]').getAttribute('data-updated-at') !== '';
}
"""


def open_page(page_factory: Any, base: str, size: tuple[int, int]) -> tuple[Any, list[str], list[str]]:
    """The tablet, filled; with the console errors and any request that left the machine."""
    page = page_factory(*size)
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(f"{base}/tablet")
    page.wait_for_function(READY_JS, timeout=15_000)
    return page, errors, outside


def check_layout(page: Any, size: tuple[int, int], language: str) -> dict[str, Any]:
    facts = page.evaluate(PAGE_JS)
    width = size[0]
    assert facts["scrollWidth"] <= width and facts["bodyScrollWidth"] <= width, (
        f"sideways scroll at {size}: {facts['scrollWidth']}"
    )
    assert not facts["small"], f"tap targets under 44 x 44 at {size}: {facts['small']}"
    assert not facts["hoverOnly"], f"information only on hover: {facts['hoverOnly']}"
    assert not facts["cut"], f"cut at {size}: {facts['cut']}"
    assert "Liberation Sans" in facts["font"], "tablet.css is not applied"
    cards = facts["cards"]
    assert [c["pillar"] for c in cards] == list(PILLARS)
    words = {s: t(s, language) for s in ("veryGood", "good", "fair", "bad", "veryBad")}
    shapes = {"veryGood": "✔", "good": "✔", "fair": "▲", "bad": "✖", "veryBad": "✖"}
    for card in cards:
        assert card["visible"] is True, card
        assert card["word"] == words.get(card["standing"]), card  # a word ...
        assert card["shape"] == shapes.get(card["standing"]), card  # ... a shape ...
        assert re.fullmatch(r"rgba?\(\d+, \d+, \d+(, [\d.]+)?\)", card["colour"]), card
        assert card["colour"] != "rgba(0, 0, 0, 0)", card  # ... and a colour
    assert facts["export"] == EXPORT_PDF
    assert ISO_TIME.fullmatch(facts["updated"]), f"data-updated-at is not an ISO time: {facts['updated']!r}"
    return facts


#: The data's age as the browser writes it, from the words the page hands to its scripts.
AGE = {"id": r"diperbarui \d+ (dtk|mnt|j|h) lalu", "en": r"updated \d+ (s|min|h|d) ago"}


def check_words(page: Any, language: str) -> None:
    """The browser's words come from the catalog: the age reads in the language, no key shows raw."""
    page.wait_for_function("() => !!(document.querySelector('.tb-age') || {}).textContent", timeout=5_000)
    age = page.text_content(".tb-age") or ""
    assert re.fullmatch(AGE[language], age), age
    assert page.evaluate("() => window.citywallWords.missing") == []
    text = page.inner_text("body")
    raw = [key for key in catalog(language) if "_" in key and re.search(rf"\b{key}\b", text)]
    assert raw == [], f"words shown as their keys: {raw}"


def expected_heads(city: City, language: str) -> dict[str, str]:
    """The headline counts, counted here from the stored events themselves (not through the
    dashboard's read side): open incidents are those not resolved; the MPP's served today is
    the sum over agencies that reported since local midnight; resolved waste reports are
    waste-topic reports resolved in the last 24 hours."""
    store = city.store
    midnight = datetime.now(ZoneInfo(city.config.city.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
    open_incidents = sum(1 for d in store.entities("incident").values() if d["status"] != "resolved")
    served = sum(
        d.get("served_today", 0) for d in store.entities("queue").values() if datetime.fromisoformat(d["observed_at"]) >= midnight
    )
    resolved = sum(
        1
        for d in store.entities("report").values()
        if d.get("topic") == "waste"
        and d.get("status") == "resolved"
        and d.get("resolved_at")
        and datetime.now(UTC) - datetime.fromisoformat(d["resolved_at"]) <= timedelta(hours=24)
    )
    assert open_incidents > 0, "the replayed city has open incidents (so the headline is not a vacuous 0)"
    return {"incidents": number(open_incidents, language), "mpp": number(served, language), "waste": number(resolved, language)}


#: How far below the bottom of the tapped card's row its KPIs open (px).
UNDER_ITS_ROW_JS = """
(pillar) => {
  const card = document.querySelector(`[data-pillar=${pillar}]`).getBoundingClientRect();
  const row = Array.from(document.querySelectorAll('[data-pillar]')).map(c => c.getBoundingClientRect())
    .filter(r => Math.abs(r.top - card.top) < 2);
  const detail = document.querySelector(`[data-pillar-detail=${pillar}]`).closest('.tb-detail').getBoundingClientRect();
  return Math.round(detail.top - Math.max(...row.map(r => r.bottom)));
}
"""


#: Whether the opened KPIs show whole, or else the tapped card is at the top of the screen with
#: its KPIs under it.
CARD_AND_KPIS_ON_SCREEN_JS = """
(pillar) => {
  const card = document.querySelector(`[data-pillar=${pillar}]`).getBoundingClientRect();
  const detail = document.getElementById('tb-detail').getBoundingClientRect();
  return (detail.top >= 0 && detail.bottom <= window.innerHeight) || Math.abs(card.top) <= 1;
}
"""


def open_pillar(page: Any, pillar: str, language: str, city: City) -> None:
    """Tap a pillar: its KPIs appear with value, target and a visible trend; the span toggles."""
    page.click(f"[data-pillar={pillar}]")
    detail = page.locator(f"[data-pillar-detail={pillar}]")
    detail.wait_for(state="visible", timeout=5_000)
    assert page.get_attribute(f"[data-pillar={pillar}]", "aria-expanded") == "true"
    gap = page.evaluate(UNDER_ITS_ROW_JS, pillar)
    assert 0 <= gap <= 40, f"the KPIs of {pillar} open {gap} px from the bottom of its row"
    # the tapped card stays on screen, its KPIs starting under it (a phone scrolled it away)
    page.wait_for_function(CARD_AND_KPIS_ON_SCREEN_JS, arg=pillar, timeout=3_000)
    configured = [k for p, k in city.config.kpis() if p == pillar]
    kpis = detail.locator(".tb-kpi")
    assert kpis.count() == len(configured)
    low, high = t("min", language), t("max", language)
    for i, kpi in enumerate(configured):
        row = kpis.nth(i)
        assert row.locator(".tb-kpi-name").inner_text().strip() == kpi.name[language]
        assert VALUE.fullmatch(row.locator(".tb-value").inner_text().strip()), row.locator(".tb-value").inner_text()
        assert row.locator(".tb-target").inner_text().startswith(t("target", language))
        chart = row.locator(".tb-trend[data-range=day] .tb-chart-img")
        assert chart.is_visible() is True
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0") is True
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40
        trend = row.locator(".tb-trend[data-range=day] .tb-trend-text").inner_text().strip()
        assert re.search(rf"· {low} {VALUE.pattern} · {high} {VALUE.pattern}$", trend), trend
    # the span toggle: week replaces day
    page.click(f"#tb-range label:has-text('{t('range_week', language)}')")
    first = kpis.nth(0)
    first.locator(".tb-trend[data-range=week] .tb-chart-img").wait_for(state="visible", timeout=3_000)
    assert not first.locator(".tb-trend[data-range=day]").is_visible()
    page.click(f"#tb-range label:has-text('{t('range_day', language)}')")


# --- the page at three sizes ---------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_tablet_at_size(site: str, city: City, page_factory: Any, size: tuple[int, int]) -> None:
    page, errors, outside = open_page(page_factory, site, size)
    facts = check_layout(page, size, "id")
    check_words(page, "id")
    heads = facts["heads"]
    for name, value in expected_heads(city, "id").items():
        assert heads[name].strip().startswith(value), (name, heads[name], value)
    assert heads["flood"].strip() in {
        f"{shape}{t(stage, 'id')}" for stage, shape in {"Normal": "●", "Waspada": "▲", "Siaga": "◆", "Awas": "■"}.items()
    }, heads["flood"]
    # open the pillar with the most KPIs, then check the page again with it open
    open_pillar(page, "people", "id", city)
    assert page.url == f"{site}/tablet?pillar=people"  # a copied link lands on the pillar on screen
    check_layout(page, size, "id")
    page.click("#tb-close")
    page.locator("#tb-detail").wait_for(state="hidden", timeout=3_000)
    assert page.url == f"{site}/tablet"
    open_pillar(page, "economy", "id", city)
    page.keyboard.press("Escape")  # closes it as the button does
    page.locator("#tb-detail").wait_for(state="hidden", timeout=3_000)
    assert page.get_attribute("[data-pillar=economy]", "aria-expanded") == "false"
    assert page.evaluate("document.activeElement.getAttribute('data-pillar')") == "economy"
    page.click("[data-pillar=living]")
    page.locator("[data-pillar-detail=living]").wait_for(state="visible", timeout=3_000)
    page.reload()  # the address the tap wrote opens that pillar again
    page.locator("[data-pillar-detail=living]").wait_for(state="visible", timeout=10_000)
    assert page.get_attribute("[data-pillar=living]", "aria-expanded") == "true"
    assert page.url == f"{site}/tablet?pillar=living"
    assert not errors, errors
    assert not outside, outside


COUNT_FIRST_CLAIMS = """
window.__firstClaims = 0;
const setTimeoutBefore = window.setTimeout;
window.setTimeout = function (callback, ...rest) {
  if (callback && callback.name === 'quickClaim') window.__firstClaims += 1;
  return setTimeoutBefore.call(this, callback, ...rest);
};
"""


def test_a_page_without_live_parts_stops_looking_for_them(site: str, page_factory: Any) -> None:
    """The tablet has no live parts to claim on the push; it looked for them every 25 ms for ever,
    a wake-up 40 times a second on the mayor's battery for as long as the page stayed open."""
    page = page_factory(1280, 800)
    page.clock.install()
    page.add_init_script(COUNT_FIRST_CLAIMS)  # after the clock's: it counts the fake timers
    page.goto(f"{site}/tablet")
    page.wait_for_function(READY_JS, timeout=15_000)
    page.clock.run_for(60_000)  # a minute of the page's timers
    assert page.evaluate("window.__firstClaims") == 200  # 5 s at 25 ms, then the once-a-second check


def test_the_tablet_turns_to_the_new_day_at_midnight_on_a_quiet_night(page_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday's 903 permits stood on the tablet after midnight until some feed sent anything:
    it was redrawn only with a new version. The minute turning alone now redraws it."""
    import time

    import dashboard.app as app_module
    from dashboard.reader import PictureCache
    from feeds.events import QueueReading

    wib = ZoneInfo("Asia/Jakarta")
    offset = [datetime(2025, 6, 2, 23, 59, 0, tzinfo=wib).timestamp() - time.time()]  # a Monday

    def clock() -> float:
        return time.time() + offset[0]

    class CityClockCache(PictureCache):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "clock": clock})

    monkeypatch.setattr(app_module, "PictureCache", CityClockCache)
    config = load_config()
    store = MemoryStore()
    state = CityState(store, config, clock=clock)
    afternoon = datetime(2025, 6, 2, 16, 0, tzinfo=wib).astimezone(UTC)
    for i in range(3):
        state.accept(QueueReading(id=f"mpp-{i}", observed_at=afternoon, source_type="t", agency=f"A{i}", served_today=300 + i))
    mpp = "() => (document.querySelector('[data-headline=mpp]') || {}).innerText || ''"
    with serve(config, store) as base:
        page = page_factory(1024, 1366)
        page.clock.install()
        page.goto(f"{base}/tablet")
        page.wait_for_function(f"() => ({mpp})().includes('903')", timeout=15_000)
        before = page.evaluate(mpp)
        offset[0] += 90  # Tuesday 00:00:30 in the city, and nothing arrives
        page.clock.fast_forward(61_000)
        page.wait_for_function(f"() => !({mpp})().includes('903')", timeout=15_000)
        after = page.evaluate(mpp)
    assert "1.000" in before, before  # Monday's target
    assert "700" in after and "1.000" not in after, after  # Tuesday's, nothing served yet


def test_live_update_keeps_charts_mounted(site: str, city: City, page_factory: Any) -> None:
    """New KPI values, a new pillar standing and a new critical incident arrive: text changes,
    the chart stays the same node."""
    page, errors, _ = open_page(page_factory, site, (1180, 820))
    page.click("[data-pillar=economy]")
    row = page.locator("[data-pillar-detail=economy] [data-kpi=realisasi_pad]")
    row.wait_for(state="visible")
    badge = "[data-pillar-detail=economy] .tb-detail-head .tb-standing"

    def kpi(kpi_id: str, value: float) -> None:
        doc = next(d for d in city.store.entities("kpi").values() if (d.get("kpi_id") or d["id"]) == kpi_id)
        city.state.accept(
            KpiReading(
                id=doc["id"], observed_at=datetime.now(UTC), source_type="KeyPerformanceIndicator", kpi_id=kpi_id, value=value
            )
        )

    # a pillar is only as good as its worst KPI; both of this pillar's KPIs come as messages,
    # so the test sets them: the other one good, this one bad, then this one good too
    kpi("investasi_izin_usaha", 1500.0)
    kpi("realisasi_pad", 10.0)
    page.wait_for_function(f"() => document.querySelector('{badge}').dataset.standing === 'bad'", timeout=10_000)
    row.locator(".tb-trend[data-range=day] .tb-chart-img").evaluate("img => { img.__tbMark = 'same node'; }")
    before = int(page.get_attribute("[data-headline=incidents] [data-severity=critical]", "data-count") or 0)

    kpi("realisasi_pad", 91.5)
    city.state.accept(
        Incident(
            id="tablet-test-critical",
            observed_at=datetime.now(UTC),
            source_type="Alert",
            category="traffic",
            severity="critical",
            status="new",
            description="Tabrakan beruntun",
            kecamatan="Bukit Raya",
        )
    )

    row.locator(".tb-value", has_text="91,5").wait_for(timeout=10_000)
    page.wait_for_function(
        f"() => +document.querySelector('[data-headline=incidents] [data-severity=critical]').dataset.count === {before + 1}",
        timeout=10_000,
    )
    page.wait_for_function(f"() => document.querySelector('{badge}').dataset.standing === 'good'", timeout=10_000)
    assert row.get_attribute("data-standing") == "good"
    assert page.get_attribute("[data-pillar=economy]", "data-standing") == "good"
    assert row.locator(".tb-trend[data-range=day] .tb-chart-img").evaluate("img => img.__tbMark") == "same node"
    assert page.get_attribute("[data-pillar=economy]", "aria-expanded") == "true"  # still open
    assert not errors, errors


# --- the PDF ---------------------------------------------------------------------------------
def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=90) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "summary.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=30)
    return re.sub(r"\s+", " ", out.stdout.decode())


def check_pdf(data: bytes, name: str, city: City, config: Config, tmp_path: Path) -> str:
    """The file a tap gives: named by city and date, and saying what the tablet says, in its language."""
    language = config.city.language
    assert data.startswith(b"%PDF")
    label = t("file", language)
    assert re.fullmatch(rf"{label}-kota-pekanbaru-\d{{4}}-\d{{2}}-\d{{2}}-\d{{4}}-WIB\.pdf", name), name
    text = pdf_text(data, tmp_path)
    assert config.city.name in text
    for pillar in config.pillars:
        assert pillar.label(language) in text, pillar.id
    # open traffic incidents, counted from the stored events (not through the dashboard's read side)
    traffic = sum(
        1 for d in city.store.entities("incident").values() if d.get("category") == "traffic" and d["status"] != "resolved"
    )
    value = number(traffic, language)
    assert f"{value} {t('target', language)}" in text, value
    today = format_datetime(datetime.now(UTC), "d MMMM y", tzinfo=ZoneInfo(config.city.timezone), locale=language)
    assert today in text
    assert re.search(rf"{t('printed', language)} \w+, {today} \d{{2}}:\d{{2}} WIB", text), text[:400]
    return text


def fetch_pdf(base: str) -> tuple[bytes, str]:
    status, headers, data = fetch(f"{base}{EXPORT_PDF}")
    assert status == 200, data[:500]
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("attachment")
    return data, re.search(r'filename="([^"]+)"', headers["content-disposition"]).group(1)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_one_tap_pdf_summary_in_indonesian(site: str, city: City, browser: Any, tmp_path: Path) -> None:
    """The export button is a plain link: one tap downloads the PDF and the page stays."""
    context = browser.new_context(viewport={"width": 820, "height": 1180}, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{site}/tablet")
        page.wait_for_function(READY_JS, timeout=15_000)
        with page.expect_download(timeout=60_000) as download:
            page.click("a[data-export]")
        path = tmp_path / "tapped.pdf"
        download.value.save_as(path)
        text = check_pdf(path.read_bytes(), download.value.suggested_filename, city, city.config, tmp_path)
        assert page.url.endswith("/tablet")
    finally:
        context.close()
    assert "Ringkasan Wali Kota" in text and "Insiden terbuka" in text


def test_pdf_without_chromium_says_what_to_do(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYWALL_CHROMIUM", "/nonexistent/chromium")
    status, headers, body = fetch(f"{site}{EXPORT_PDF}")
    assert status == 503
    assert "Chromium" in body.decode() and "CITYWALL_CHROMIUM" in body.decode()


# --- English, last: Dash's page registry is per process, so this app's pages win from here on ----
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_english_tablet_and_pdf(city: City, page_factory: Any, tmp_path: Path) -> None:
    config = english(city.config)
    with serve(config, city.store) as base:
        page, errors, _ = open_page(page_factory, base, (820, 1180))
        facts = check_layout(page, (820, 1180), "en")
        check_words(page, "en")
        assert page.inner_text("[data-headline=incidents] .tb-tile-label") == "Open incidents"
        assert facts["heads"]["incidents"].strip().startswith(expected_heads(city, "en")["incidents"])
        text = check_pdf(*fetch_pdf(base), city, config, tmp_path)
        assert "Mayor's summary" in text and "Open incidents" in text
        assert not errors, errors


def test_a_silent_feed_is_marked_on_its_tile_and_kpis_and_an_unheard_one_claims_nothing(page_factory: Any) -> None:
    """The incident feed delivered once and fell silent (its limit here is 1 s); a KPI arrives
    now; the drainage feed never spoke. The page as a whole follows its newest feed, so the
    incidents' tile and KPIs must say for themselves that they are old; the drainage KPI has
    no value and no standing ("0 stations in alert, good" was a claim no gauge had made)."""
    config = load_config()
    thresholds = config.thresholds.model_copy(update={"stale_after_family_s": {"incidents": 1, "kpis": 900}})
    config = config.model_copy(update={"thresholds": thresholds})
    store = MemoryStore()
    state = CityState(store, config)
    state.accept(Incident(id="T-1", observed_at=datetime.now(UTC), source_type="Alert", category="traffic", severity="high"))
    state.accept(
        KpiReading(
            id="K-1", observed_at=datetime.now(UTC), source_type="KeyPerformanceIndicator", kpi_id="realisasi_pad", value=50.0
        )
    )
    with serve(config, store) as base:
        page = page_factory(1180, 820)
        page.goto(f"{base}/tablet")
        page.locator('[data-headline="incidents"][data-stale="true"] .tb-tile-stale').wait_for(timeout=15_000)
        assert page.locator('[data-headline="flood"]').get_attribute("data-stale-for") is None
        assert page.get_attribute("[data-panel=tablet]", "data-stale") == "false"
        updated = page.locator('[data-kpi="open_incidents"] .tb-kpi-updated').first
        assert updated.get_attribute("data-stale") == "true"
        assert updated.get_attribute("data-stale-for") == "incidents"
        monthly = page.locator('[data-kpi="realisasi_pad"] .tb-kpi-updated').first
        assert monthly.get_attribute("data-stale-for") is None  # a KPI sent on its own rhythm
        # the card of the pillar counted from the silent feed says so, once; one sent by message does not
        living = page.locator('[data-pillar="living"] .tb-card-stale')
        assert [m.get_attribute("data-stale") for m in living.all()] == ["true"]
        assert [m.is_visible() for m in living.all()] == [True] and "DATA TERTUNDA" in living.first.inner_text()
        assert page.locator('[data-pillar="economy"] .tb-card-stale').count() == 0
        drainage = page.locator('[data-kpi="drainage_stations_in_alert"]').first
        assert drainage.get_attribute("data-standing") == "unknown"
        assert drainage.locator(".tb-value").inner_text() == "–"


def test_a_silent_gauge_feeds_normal_turns_grey_and_a_warning_keeps_its_colour(page_factory: Any) -> None:
    """With the gauges' feed dead, the flood tile kept "NORMAL" in large green beside "no flood
    alert": only a small chip said the data was late. A stage of warning keeps its colour."""
    config = load_config()
    thresholds = config.thresholds.model_copy(update={"stale_after_family_s": {"drainage": 1}})
    config = config.model_copy(update={"thresholds": thresholds})

    def silent_tile(level_m: float) -> tuple[str, str]:
        store = MemoryStore()
        CityState(store, config).accept(water("PS-SAIL", 0, level_m, "Pos Sail"))
        with serve(config, store) as base:
            page = page_factory(1180, 820)
            page.goto(f"{base}/tablet")
            stage = page.locator('[data-headline="flood"][data-stale="true"] .tb-stage')
            stage.wait_for(timeout=15_000)
            return str(stage.get_attribute("data-stage")), str(stage.evaluate("el => getComputedStyle(el).color"))

    assert silent_tile(0.4) == ("Normal", "rgb(93, 106, 122)")  # the page's muted grey (#5d6a7a), not green
    assert silent_tile(9.0) == ("Awas", "rgb(198, 40, 40)")  # its red (#c62828) kept: the danger is not known to be over
