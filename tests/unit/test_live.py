"""When the HTTP poll leaves a change to the websocket push, and when it takes over.

The browser tests run both paths end to end; this pins the decision itself, tick by tick.
"""

from __future__ import annotations

import pytest

from layouts.live import push_keeps_up


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

    assert frame_gap(1) == 0.025, "one page: the frame gap"
    assert frame_gap(30) == 0.06, "a wall's screens and consoles: 60 ms"
    assert frame_gap(200) == 0.4, "200 pages on one worker: 2.5 frames a second each"
