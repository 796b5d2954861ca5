"""What the server process sets up for itself before it serves."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

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
