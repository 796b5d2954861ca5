"""When the HTTP poll leaves a change to the websocket push, when it takes over, and how
often the push sends a frame.

The browser tests run both paths end to end; this pins the decisions themselves.
"""

from __future__ import annotations

import asyncio
import math
import time
from types import SimpleNamespace
from typing import Any

import pytest

from layouts import push
from layouts.live import push_keeps_up
from tests.support.helpers import run_async


@pytest.mark.parametrize(
    ("pushed", "lag", "keeps_up", "why"),
    [
        (-1, None, False, "no push ever arrived: a blocked websocket, the poll delivers"),
        (None, None, False, "no push ever arrived"),
        (12, None, True, "the push works and the poll has not found it behind before: wait a tick"),
        (14, 12, True, "the push moved since the poll last found it behind"),
        (12, 12, False, "the push delivered nothing for a whole tick: the poll takes over"),
        (3, 500, True, "versions counted from zero again after a store restart: moved is moved"),
    ],
)
def test_the_poll_gives_a_working_push_one_tick(pushed: int | None, lag: int | None, keeps_up: bool, why: str) -> None:
    assert push_keeps_up(pushed, lag) is keeps_up, why


def test_pages_get_fewer_frames_as_more_pages_are_pushed_to() -> None:
    from layouts.push import frame_gap

    assert frame_gap(1) == 0.05, "one page: the frame gap"
    assert frame_gap(30) == 0.06, "a wall's screens and consoles: 60 ms"
    assert frame_gap(200) == 0.4, "200 pages on one worker: 2.5 frames a second each"


@pytest.mark.parametrize(
    ("poll_ms", "heartbeat_s", "pushed_ms", "why"),
    [
        (1_000, 10, 5_000, "every half heartbeat: the heartbeat rides on the poll"),
        (1_000, 1, 1_000, "never faster than the configured poll"),
        (8_000, 10, 8_000, "a slow configured poll stays as slow"),
    ],
)
def test_the_poll_slows_to_half_a_heartbeat_while_pushed(poll_ms: int, heartbeat_s: int, pushed_ms: int, why: str) -> None:
    from layouts.live import pushed_poll_ms
    from layouts.ports import ViewSettings, WallGeometry

    view = ViewSettings(
        city_name="Kota Uji",
        language="id",
        timezone="Asia/Jakarta",
        timezone_label="WIB",
        wall=WallGeometry(columns=1, rows=1, screen_width_px=1920, screen_height_px=1080, bezel_px=0),
        screens={1: ("clock",)},
        poll_ms=poll_ms,
        heartbeat_s=heartbeat_s,
    )
    assert pushed_poll_ms(view) == pushed_ms, why


class UrgentAnswers:
    """A reader that answers the push's ``urgent`` from a list, and notes the waits asked for."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[int] = []

    async def urgent(self, since: float, timeout: float) -> bool:
        self.asked.append(round(timeout))
        return self.answers.pop(0)


def test_an_urgent_change_cuts_the_frame_gap_short_once_per_gap(monkeypatch: Any) -> None:
    """Gaps of 100 s, so the test does not race a clock; sleeps are noted, not slept."""
    monkeypatch.setattr(push, "MIN_GAP_S", 100.0)
    slept: list[int] = []

    async def noted(seconds: float) -> None:
        slept.append(round(seconds))

    async def rounds() -> tuple[list[int], bool, bool]:
        page = push._Page(SimpleNamespace(open=1), None)  # type: ignore[arg-type]
        reader = UrgentAnswers(True, False)
        here: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # the page stays
        monkeypatch.setattr(push.asyncio, "sleep", noted)
        await page._pause(reader, time.monotonic(), here)  # type: ignore[arg-type]
        early = page.early_at > -math.inf
        await page._pause(reader, time.monotonic(), here)  # type: ignore[arg-type]  # within the early one's gap
        monkeypatch.setattr(push, "MIN_GAP_S", 0.0)
        page.early_at = -math.inf
        await page._pause(reader, time.monotonic() - 1, here)  # type: ignore[arg-type]  # the gap is over: no wait
        return reader.asked, early, bool(reader.answers)

    asked, early, left = run_async(rounds())
    assert (asked, early, slept) == ([100], True, [100]), "one early frame, then the rest of the gap slept"
    assert left is True, "a gap that is over asks nothing"


def test_a_page_whose_text_did_not_move_looks_again_later_and_an_urgent_change_still_cuts_in(monkeypatch: Any) -> None:
    """A frame gap of 10 s and a quiet one of at most 35 s, so the test does not race a clock."""
    monkeypatch.setattr(push, "MIN_GAP_S", 10.0)
    monkeypatch.setattr(push, "QUIET_GAP_MAX_S", 35.0)

    async def rounds() -> tuple[list[int], bool]:
        page = push._Page(SimpleNamespace(open=1), None)  # type: ignore[arg-type]
        reader = UrgentAnswers(False, False, False, False, True)
        here: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # the page stays
        for quiet in (0, 1, 2, 3):  # looks in a row that found nothing to send
            page.quiet = quiet
            await page._pause(reader, time.monotonic(), here)  # type: ignore[arg-type]
        await page._pause(reader, time.monotonic(), here)  # type: ignore[arg-type]  # quiet, and urgent
        return reader.asked, page.early_at > -math.inf

    asked, early = run_async(rounds())
    assert asked == [10, 20, 35, 35, 35], "the gap doubles while the page is quiet, up to its cap"
    assert early is True, "an urgent change cuts even a quiet page's wait short"


def test_an_ask_for_everything_within_the_gap_is_kept_even_when_its_timer_fires_early(monkeypatch: Any) -> None:
    """The loop's timer may fire a hair before ``time.monotonic()`` says the gap is over;
    the ask it carries must be kept again, not dropped (a page then waited for it for ever)."""
    monkeypatch.setattr(push, "RESEND_EVERY_S", 100.0)

    async def asks() -> tuple[bool, bool, bool]:
        page = push._Page(SimpleNamespace(open=1), None)  # type: ignore[arg-type]
        page._start_over()  # the claim's: answered at once
        page.shown = {("incident_queue", "s4-0"): "digest"}
        page._start_over()  # within the gap: kept for its end
        kept = page.restart_later is not None
        page._start_over_later()  # the timer, firing before the gap is over
        still_kept = page.restart_later is not None and page.shown != {}
        page.restarted_at -= 100.0  # the gap is over
        page._start_over_later()
        answered = page.shown == {} and page.restart_later is None
        return kept, still_kept, answered

    assert run_async(asks()) == (True, True, True)
