"""What a citywall process sets up for itself: its heap before it serves, its stop signals."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Iterator

import pytest

from dashboard.cli import stop_on_signals
from dashboard.runtime import settle_the_heap


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process's collector goes back to what it was


def test_what_start_up_built_leaves_the_collectors_passes_and_is_still_freed(frozen_heap: None) -> None:
    built = [[n] for n in range(1_000)]
    settle_the_heap()
    assert gc.get_freeze_count() >= len(built) + 1
    tracked = {id(obj) for obj in gc.get_objects()}
    assert id(built) not in tracked and id(built[0]) not in tracked
    made_later: list[int] = []
    assert id(made_later) in {id(obj) for obj in gc.get_objects()}
    # frozen is not kept: the last reference going still frees it
    frozen_before = gc.get_freeze_count()
    del built
    assert gc.get_freeze_count() <= frozen_before - 1_001


def test_a_stop_signal_that_lands_while_the_main_thread_holds_the_events_lock_still_stops() -> None:
    """The race that hung ``citywall simulate`` on SIGTERM: the signal's handler runs in the
    main thread while that thread is inside ``Event.wait``'s own bookkeeping, holding the
    event's lock (taken here the way ``Event.wait`` takes it)."""
    stop = threading.Event()
    before = signal.getsignal(signal.SIGUSR1)
    stop_on_signals(stop, (signal.SIGUSR1,))
    try:
        with stop._cond:  # the lock Event.wait holds when the signal lands
            os.kill(os.getpid(), signal.SIGUSR1)
            landed = sum(range(1_000))  # the handler runs between these steps, in this thread
        assert landed == 499_500
        assert stop.wait(10), "the stop signal was lost"
    finally:
        signal.signal(signal.SIGUSR1, before)
