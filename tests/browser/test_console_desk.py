"""The console at an operator's desk over a shift: keys, choices, numbers, times, sign-in.

Each test drives ``/console`` in a real Chromium against an app on a memory store, closed as
a real site is (reading needs a login). What an action did is read from the store's audit,
which records every action the desk applied, in order: an action that must not happen is
shown absent by a later one that must, so no test waits for nothing to happen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from dashboard.config import Config, load_config
from dashboard.desk import Desk
from dashboard.incident_ops import Action, Actor
from dashboard.ingest import CityState
from dashboard.local_services import running_app
from dashboard.store.memory import MemoryStore
from tests.support.auth import add_users
from tests.support.operations import gauge, incident, seed, signed_in_context

LOAD_MS = 60_000


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


@pytest.fixture
def city(config: Config) -> Iterator[tuple[CityState, str]]:
    store = MemoryStore()
    add_users(store)
    state = CityState(store, config)
    seed(state)
    state.accept(incident("DESK-A", severity="high", description="Kejadian A"))
    state.accept(incident("DESK-B", severity="high", description="Kejadian B", ago_s=10.0))
    with running_app(config, store) as base:
        yield state, base


@pytest.fixture
def desk(browser: Any, city: tuple[CityState, str]) -> Iterator[Any]:
    ctx = signed_in_context(browser, city[1], "operator")
    page = ctx.new_page()
    page.set_default_timeout(LOAD_MS)
    page.goto(f"{city[1]}/console")
    page.wait_for_selector(".cw-console-table tr[data-incident]")
    yield page
    ctx.close()


def select(page: Any, incident_id: str) -> None:
    page.click(f'.cw-console-table tr[data-incident="{incident_id}"]')
    page.wait_for_selector(f'#cw-console-detail [data-incident="{incident_id}"]')


def actions(state: CityState, incident_id: str) -> list[str]:
    """What was done to the incident, oldest first."""
    return [e["action"] for e in reversed(state.store.audit()) if e["target"] == f"incident/{incident_id}"]


def confirmed(page: Any, text: str) -> None:
    page.locator("#cw-msg-ok", has_text=text).wait_for()


@pytest.mark.browser
def test_a_letter_typed_into_a_select_box_is_not_a_shortcut(city: tuple[CityState, str], desk: Any) -> None:
    """ "r" picks an option in a select box (RED in the broadcast's level, a resolution code);
    it used to resolve the incident too. (The broadcast's box is a supervisor's: an operator's
    is greyed out.)"""
    state, _ = city
    select(desk, "DESK-A")
    desk.select_option("#cw-act-code", "handled")
    desk.focus("#cw-act-code")
    desk.keyboard.press("r")
    desk.locator("#cw-act-acknowledge").click()
    confirmed(desk, "diterima")
    assert actions(state, "DESK-A") == ["acknowledge"]


@pytest.mark.browser
def test_a_key_pressed_on_a_filter_dropdown_is_not_a_shortcut(city: tuple[CityState, str], desk: Any) -> None:
    """Dash's dropdown is a button, not a select: with the severity filter focused (opened,
    then closed with Escape), "-" lowered the chosen incident's severity and "a"
    acknowledged it."""
    state, _ = city
    select(desk, "DESK-A")
    desk.click("#cw-filter-severity")
    desk.keyboard.press("Escape")
    desk.focus("#cw-filter-severity")
    desk.keyboard.press("-")
    desk.keyboard.press("Escape")
    desk.focus("#cw-filter-severity")
    desk.keyboard.press("a")
    desk.keyboard.press("Escape")
    desk.locator("#cw-act-escalate").click()
    confirmed(desk, "KRITIS")
    assert actions(state, "DESK-A") == ["escalate"]


@pytest.mark.browser
def test_the_filter_dropdowns_speak_the_desks_language(desk: Any) -> None:
    """Dash's dropdown writes its own words, in English unless told: an Indonesian desk read
    "Select All" and "No options found" inside its filters."""
    desk.click("#cw-filter-severity")
    menu = desk.locator(".dash-dropdown-content")
    expect(menu).to_contain_text("Pilih semua")
    desk.keyboard.type("zzz")
    expect(menu).to_contain_text("Tidak ada pilihan")
    assert "Select All" not in menu.inner_text()


@pytest.mark.browser
def test_a_refused_sop_tick_leaves_the_box_as_it_was(browser: Any, city: tuple[CityState, str]) -> None:
    """A viewer's tick was refused ("needs the operator role"), but the box stayed ticked while
    nothing had been recorded."""
    state, base = city
    ctx = signed_in_context(browser, base, "viewer")
    try:
        page = ctx.new_page()
        page.set_default_timeout(LOAD_MS)
        page.goto(f"{base}/console")
        page.wait_for_selector(".cw-console-table tr[data-incident]")
        select(page, "DESK-A")
        box = page.locator("#cw-console-detail input[type=checkbox]").first
        box.click()
        expect(page.locator("#cw-msg-error")).to_contain_text("operator")
        expect(box).not_to_be_checked()
        assert actions(state, "DESK-A") == []
    finally:
        ctx.close()


@pytest.mark.browser
def test_an_assignment_made_meanwhile_is_told_not_replaced(city: tuple[CityState, str], desk: Any) -> None:
    """Two desks assigned one incident at the same moment and each read "dispatched". Here the
    other desk's BPBD lands while this desk still shows the incident unassigned (the moment
    before its detail follows, held by setting what it shows back): its Damkar is refused."""
    state, _ = city
    select(desk, "DESK-A")
    other = Desk(state.store, state.config)
    other.act("DESK-A", Action("assign", agency="BPBD"), Actor("budi", "operator", "session", "127.0.0.1"))
    expect(desk.locator("#cw-detail-assignee")).to_have_text("→ BPBD")
    desk.evaluate("window.dash_clientside.set_props('cw-detail-seen', {data: {id: 'DESK-A', assignee: ''}})")
    desk.select_option("#cw-act-agency", "Damkar")
    desk.click("#cw-act-assign")
    expect(desk.locator("#cw-msg-error")).to_have_text("Sudah ditugaskan ke BPBD oleh orang lain; periksa lalu tugaskan lagi")
    assert Desk(state.store, state.config).incident("DESK-A")["assignee"] == "BPBD"


@pytest.mark.browser
def test_a_held_key_acts_once(city: tuple[CityState, str], desk: Any) -> None:
    """A key held down repeats (``keydown`` again with ``repeat`` set): "+" held raised the
    severity a step per repeat. Only the repeat is sent here, so it must do nothing at all."""
    state, _ = city
    select(desk, "DESK-A")
    desk.evaluate("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: '+', repeat: true, bubbles: true}))")
    desk.locator("#cw-act-acknowledge").click()
    confirmed(desk, "diterima")
    assert actions(state, "DESK-A") == ["acknowledge"]


@pytest.mark.browser
def test_the_next_incident_starts_with_nothing_chosen(city: tuple[CityState, str], desk: Any) -> None:
    """A resolution code, an agency and a half-written note stay with the incident they were
    chosen for: resolving B with the keyboard after A's code was chosen made B a false alarm."""
    state, _ = city
    select(desk, "DESK-A")
    desk.select_option("#cw-act-code", "false_alarm")
    desk.select_option("#cw-act-agency", "BPBD")
    desk.fill("#cw-act-text", "setengah ditulis")
    desk.click("#cw-act-resolve")
    confirmed(desk, "selesai")
    desk.keyboard.press("j")  # the next row: B
    desk.wait_for_selector('#cw-console-detail [data-incident="DESK-B"]')
    assert [desk.input_value(f"#{i}") for i in ("cw-act-code", "cw-act-agency", "cw-act-text")] == ["", "", ""]
    desk.keyboard.press("r")
    expect(desk.locator("#cw-msg-error")).to_have_text("Pilih penyelesaian dulu")
    assert actions(state, "DESK-B") == []


@pytest.mark.browser
def test_a_key_pressed_before_the_detail_follows_does_nothing(city: tuple[CityState, str], desk: Any) -> None:
    """j then a key, at once as an operator's fingers do, while the page is still busy with the
    last action: the key went out before the page had taken the new selection, and reopened
    the incident just resolved."""
    state, _ = city
    select(desk, "DESK-A")
    desk.select_option("#cw-act-code", "handled")
    desk.click("#cw-act-resolve")
    confirmed(desk, "selesai")
    desk.keyboard.press("j")  # B: A has left the list, or B is the row below it
    desk.keyboard.press("o")  # before the detail shows B: nothing
    desk.wait_for_selector('#cw-console-detail [data-incident="DESK-B"]')
    desk.keyboard.press("a")
    confirmed(desk, "diterima")
    assert (actions(state, "DESK-A"), actions(state, "DESK-B")) == (["resolve"], ["acknowledge"])


@pytest.mark.browser
def test_j_three_times_at_once_goes_three_rows_down(city: tuple[CityState, str], desk: Any) -> None:
    """Three j in one go, faster than any round trip. Each j moved from the row the server had
    highlighted, a round trip behind, and Dash merged rows chosen before it ran the choosing
    callback into one call that took the first: the desk stopped at B."""
    state, _ = city
    select(desk, "DESK-A")  # A, B, SEED-0, SEED-1, ...
    desk.evaluate(
        """() => { for (let i = 0; i < 3; i++) {
            document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "j", bubbles: true}));
        } }"""
    )
    desk.wait_for_selector('#cw-console-detail [data-incident="SEED-1"]')
    desk.keyboard.press("a")
    confirmed(desk, "diterima")
    assert [actions(state, i) for i in ("DESK-B", "SEED-0", "SEED-1")] == [[], [], ["acknowledge"]]


@pytest.mark.browser
def test_j_after_a_resolve_goes_to_the_row_below_it(city: tuple[CityState, str], desk: Any) -> None:
    """Once the resolved row has left the list, j goes to the row that was below it (the one
    now in its place); it went back to the top of the queue."""
    state, _ = city
    select(desk, "DESK-B")  # A, B, SEED-0, ...
    desk.select_option("#cw-act-code", "handled")
    desk.click("#cw-act-resolve")
    confirmed(desk, "selesai")
    expect(desk.locator('.cw-console-table tr[data-incident="DESK-B"]')).to_have_count(0)
    desk.keyboard.press("j")
    desk.wait_for_selector('#cw-console-detail [data-incident="SEED-0"]')
    desk.keyboard.press("a")
    confirmed(desk, "diterima")
    assert (actions(state, "DESK-A"), actions(state, "SEED-0")) == ([], ["acknowledge"])


@pytest.mark.browser
def test_a_kept_note_leaves_the_box_empty(city: tuple[CityState, str], desk: Any) -> None:
    """Enter a second time no longer keeps the same note twice."""
    state, _ = city
    select(desk, "DESK-A")
    desk.fill("#cw-act-text", "Petugas sudah di lokasi")
    desk.press("#cw-act-text", "Enter")
    expect(desk.locator("#cw-msg-ok")).to_have_text("Tambah catatan: disimpan")  # not the status, "baru"
    assert desk.input_value("#cw-act-text") == ""
    desk.press("#cw-act-text", "Enter")
    expect(desk.locator("#cw-msg-error")).to_have_text("Tulis catatan dulu")
    assert actions(state, "DESK-A") == ["note"]


def console_with_clipboard(browser: Any, base: str, role: str) -> tuple[Any, Any]:
    """A signed-in desk whose page may write and read the clipboard, on the console."""
    ctx = signed_in_context(browser, base, role)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = ctx.new_page()
    page.set_default_timeout(LOAD_MS)
    page.goto(f"{base}/console")
    page.wait_for_selector(".cw-console-table tr[data-incident]")
    return ctx, page


def paste_into(page: Any, box: str, text: str) -> None:
    """``text`` pasted over what ``box`` holds, as a desk pastes: through the clipboard."""
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    page.focus(box)
    page.keyboard.press("Control+A")
    page.keyboard.press("Control+V")


@pytest.mark.browser
def test_a_note_pasted_longer_than_the_box_takes_says_it_was_cut(browser: Any, city: tuple[CityState, str]) -> None:
    """The box takes 1,000 characters; a longer paste was cut without a word. A paste that
    fits says nothing, the lines of a copied text and its last line break included, and takes
    the warning away; so does choosing another incident."""
    state, base = city
    ctx, page = console_with_clipboard(browser, base, "operator")
    try:
        select(page, "DESK-A")
        cut = page.locator("#cw-console-msg #cw-msg-cut")

        def paste(text: str) -> None:
            paste_into(page, "#cw-act-text", text)

        paste("pompa " + "x" * 994 + "AKHIR")
        expect(cut).to_have_text("Catatan terpotong: paling banyak 1.000 karakter. Periksa ujungnya sebelum menyimpan.")
        assert page.input_value("#cw-act-text") == "pompa " + "x" * 994
        paste("pompa 2 menyala\r\n" + "y" * 982 + "\n")  # 999 characters once the box has joined the lines
        expect(cut).to_have_count(0)
        kept = page.input_value("#cw-act-text")
        assert kept.startswith("pompa 2 menyala") and kept.endswith("y" * 982)
        page.keyboard.press("Enter")
        expect(page.locator("#cw-msg-ok")).to_have_text("Tambah catatan: disimpan")
        notes = [e["detail"]["text"] for e in state.store.audit() if e["action"] == "note" and e["target"] == "incident/DESK-A"]
        assert notes == [kept]
        paste("z" * 1001)
        expect(cut).to_have_count(1)
        select(page, "DESK-B")
        expect(cut).to_have_count(0)
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_broadcast_pasted_too_long_and_a_note_cut_at_an_emoji_say_so(browser: Any, city: tuple[CityState, str]) -> None:
    """The broadcast box kept 280 of 370 characters without a word; and a note whose cut fell
    on an emoji (two places in the box) left the box one short of full, which read as no cut."""
    _, base = city
    ctx, page = console_with_clipboard(browser, base, "supervisor")
    try:
        paste = functools.partial(paste_into, page)

        paste("#cw-broadcast-text", "Siaga banjir " + "x" * 357)
        expect(page.locator("#cw-wall-msg #cw-msg-cut")).to_have_text(
            "Siaran terpotong: paling banyak 280 karakter. Periksa ujungnya sebelum mengirim."
        )
        assert len(page.input_value("#cw-broadcast-text")) == 280
        paste("#cw-broadcast-text", "Hujan reda")
        expect(page.locator("#cw-wall-msg #cw-msg-cut")).to_have_count(0)
        select(page, "DESK-A")
        paste("#cw-act-text", "a" * 999 + "\U0001f691")
        expect(page.locator("#cw-console-msg #cw-msg-cut")).to_have_count(1)
        assert page.input_value("#cw-act-text") == "a" * 999
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("screen", "minutes", "said"),
    [
        ("25", "10", "Layar harus bilangan bulat 1–24"),
        ("", "10", "Layar harus bilangan bulat 1–24"),
        ("4", "2.5", "Menit harus bilangan bulat 1–240"),
        ("4", "0", "Menit harus bilangan bulat 1–240"),
    ],
)
def test_a_push_with_a_number_out_of_range_says_which(
    city: tuple[CityState, str], desk: Any, screen: str, minutes: str, said: str
) -> None:
    """The browser sends nothing for a number its box refuses: that became ten minutes
    without a word, or a Python error about int() for the screen."""
    state, _ = city
    select(desk, "DESK-A")
    desk.fill("#cw-push-screen", screen)
    desk.fill("#cw-push-minutes", minutes)
    desk.click("#cw-act-push")
    expect(desk.locator("#cw-msg-error")).to_have_text(said)
    assert [e for e in state.store.audit() if e["action"] == "push"] == []


@pytest.mark.browser
def test_the_history_reads_on_the_citys_clock(city: tuple[CityState, str], desk: Any, config: Config) -> None:
    state, _ = city
    select(desk, "DESK-A")
    desk.click("#cw-act-acknowledge")
    confirmed(desk, "diterima")
    (entry,) = [e for e in state.store.audit() if e["target"] == "incident/DESK-A"]
    local = datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo(config.city.timezone)).strftime("%H:%M:%S")
    expect(desk.locator(".cw-history li").first).to_have_text(f"{local} operator (operator) menerima · → diterima")


@pytest.mark.browser
def test_a_console_whose_sign_in_ended_goes_to_the_login(city: tuple[CityState, str], desk: Any) -> None:
    """Without its session every callback gets 401: the queue stood still and the buttons did
    nothing, the operator's name still in the corner. The login brings them back here.

    A new incident makes the queue ask the server; a callback of the page's first load still
    out when the session went does the same, and either one is enough."""
    state, _ = city
    desk.context.clear_cookies(name="citywall_session")
    state.accept(incident("DESK-NEW", severity="high", description="Datang setelah sesi habis"))
    desk.wait_for_url("**/login?next=%2Fconsole")


@pytest.mark.browser
def test_a_queue_longer_than_the_list_says_so(city: tuple[CityState, str], desk: Any) -> None:
    """The list holds the 200 most urgent open incidents; past that, a line says so."""
    state, _ = city
    assert desk.locator("#cw-console-queue-note").inner_text() == ""  # 8 open: all listed
    for n in range(200):
        state.accept(incident(f"MANY-{n}", severity="low", ago_s=30.0 + n))
    expect(desk.locator("#cw-console-queue-note")).to_have_text(
        "Hanya 200 paling mendesak dari 208 insiden terbuka; saringan mencari di antaranya"
    )


@pytest.mark.browser
def test_an_sla_clock_counts_down_past_its_deadline_on_a_quiet_feed(city: tuple[CityState, str], desk: Any) -> None:
    """A high incident must be acknowledged within 10 minutes; this one has 3 seconds left.
    Nothing else changes in the city, and the clock still turns red and negative: the detail
    used to be redrawn only with a change, and an overdue clock stayed green."""
    state, _ = city
    state.accept(incident("DESK-SLA", severity="high", description="Hampir lewat SLA", ago_s=10 * 60 - 3))
    select(desk, "DESK-SLA")
    clock = desk.locator("#cw-console-detail [data-sla-due]").first
    expect(clock).to_have_class(re.compile(r"\bcw-sla-over\b"), timeout=15_000)
    expect(clock).to_have_text(re.compile(r"^-0:\d\d$"))
    # the resolve clock, 4 hours less the 10 minutes gone: hours and minutes, not "229:57"
    resolve = desk.locator("#cw-console-detail [data-sla-due]").nth(1)
    expect(resolve).to_have_text(re.compile(r"^3 jam (49|50) mnt$"))


@pytest.mark.browser
def test_a_station_takeover_is_acknowledged_from_the_console(city: tuple[CityState, str], desk: Any) -> None:
    """A gauge at Awas takes screen 11 over until someone acknowledges it; the console showed
    the takeover on its miniature, but only the HTTP API could acknowledge it."""
    state, _ = city
    state.accept(gauge("PKU-DR-04", 2.9, name="Drainase Sialang Sakti"))
    row = desk.locator('[data-station-takeover="urn:ngsi-ld:FloodMonitoring:PKU-DR-04"]')
    expect(row).to_contain_text("Layar 11: Drainase Sialang Sakti AWAS 2,90\u00a0m")
    row.get_by_role("button", name="Terima peringatan pos").click()
    desk.locator("#cw-wall-msg .alert-success").wait_for()
    expect(row).to_have_count(0)
    entry = state.store.audit()[0]
    assert (entry["action"], entry["who"], entry["detail"]) == (
        "wall.takeover.ack",
        "operator",
        {"station": "urn:ngsi-ld:FloodMonitoring:PKU-DR-04"},
    )


@pytest.mark.browser
def test_the_preset_choice_opens_on_the_walls_preset(browser: Any, city: tuple[CityState, str]) -> None:
    """After a reload the choice read the wall's own layout while the wall showed "banjir"."""
    state, base = city
    Desk(state.store, state.config).set_preset("banjir", Actor("budi", "supervisor", "session", "127.0.0.1"))
    ctx = signed_in_context(browser, base, "supervisor")
    page = ctx.new_page()
    page.goto(f"{base}/console")
    page.locator('#cw-mini-preset[data-preset="banjir"]').wait_for(timeout=LOAD_MS)
    expect(page.locator("#cw-preset-choice")).to_have_value("banjir")
    ctx.close()


@pytest.mark.browser
def test_the_search_filters_as_one_types_and_says_when_nothing_matches(desk: Any) -> None:
    """The list followed the search box only on Enter: after typing "zzz" it still showed the
    last search's rows, and a search that matched nothing left an empty table."""
    desk.fill("#cw-filter-text", "Kejadian A")
    expect(desk.locator(".cw-console-table tr[data-incident]")).to_have_count(1)
    expect(desk.locator('.cw-console-table tr[data-incident="DESK-A"]')).to_have_count(1)
    desk.fill("#cw-filter-text", "zzzz")
    expect(desk.locator(".cw-console-table .cw-queue-empty")).to_have_text("Tidak ada insiden yang cocok dengan saringan")
    expect(desk.locator(".cw-console-table tr[data-incident]")).to_have_count(0)


@pytest.mark.browser
def test_an_action_that_gets_no_answer_says_it_may_not_have_gone(city: tuple[CityState, str], desk: Any) -> None:
    """With the server away a press said nothing, looked taken, and left the buttons greyed.
    The console now says the action may not have been recorded and gives the buttons back;
    the next answered action takes the notice away, and nothing else does."""
    state, _ = city
    select(desk, "DESK-A")
    notice = desk.locator("#cw-not-sent")
    said = "Tindakan mungkin tidak tercatat: server tidak menjawab atau menolaknya. Periksa kejadiannya, lalu coba lagi."

    def failing(answer: Callable[[Any], None]) -> Callable[[Any], None]:
        """The request a press of an action button sends fails; every other passes."""
        return lambda route: (
            answer(route) if '"changedPropIds":["cw-act-' in (route.request.post_data or "") else route.continue_()
        )

    callbacks = "**/_dash-update-component*"
    for answer in (
        lambda route: route.abort("connectionrefused"),  # the server gone
        lambda route: route.fulfill(status=502, body="Bad Gateway"),  # a proxy's answer for it
        lambda route: route.fulfill(status=403, content_type="application/json", body='{"detail": "forbidden"}'),
    ):
        desk.route(callbacks, failing(answer))
        desk.click("#cw-act-acknowledge")
        expect(notice).to_have_text(said)
        assert notice.get_attribute("role") == "alert"
        expect(desk.locator("#cw-act-acknowledge")).to_be_enabled()  # given back: the press can be made again
        desk.unroute(callbacks)
        notice.evaluate("el => el.remove()")
    assert actions(state, "DESK-A") == [], "none reached the server"

    desk.route(callbacks, failing(lambda route: route.abort("connectionrefused")))
    desk.click("#cw-act-escalate")
    expect(notice).to_have_text(said)
    desk.unroute(callbacks)
    state.accept(incident("DESK-C", severity="low", description="Kejadian C"))  # the page hears a change
    desk.wait_for_selector('.cw-console-table tr[data-incident="DESK-C"]')
    expect(notice).to_have_text(said)  # the queue's own answers are not an action's

    desk.click("#cw-act-acknowledge")
    confirmed(desk, "diterima")
    expect(notice).to_have_count(0)
    assert actions(state, "DESK-A") == ["acknowledge"]
