"""A page's heartbeat is recorded off the event loop.

With Redis down, every open page's poll carried a heartbeat that the worker wrote to the store
on its event loop; each write waited out the client's retries, and the worker's ``/healthz``
and its static files took 5 to 15 s to answer while three pages were open. Here the store's
write of a heartbeat blocks until the test lets it go, and ``/healthz`` must answer meanwhile.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from dashboard.config import load_config
from dashboard.local_services import running_app
from dashboard.screen_registry import MAP
from dashboard.store.memory import MemoryStore
from tests.support.helpers import beat_callback
from tests.support.operations import open_config


class StuckBeats(MemoryStore):
    """A store whose reads of the heartbeat map hang, as a Redis client retrying does."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def map_get(self, name: str, key: str) -> Any:
        if name == MAP:
            self.entered.set()
            self.release.wait(60)
        return super().map_get(name, key)


def test_a_heartbeat_the_store_holds_up_leaves_the_worker_answering() -> None:
    store = StuckBeats()
    with running_app(open_config(load_config(environ={})), store) as base, ThreadPoolExecutor(1) as pool:
        try:
            poll = pool.submit(
                requests.post, base + "/_dash-update-component", json=beat_callback("stuck-beat", "/screen/4"), timeout=60
            )
            assert store.entered.wait(30), "the heartbeat reached the store"
            health = requests.get(base + "/healthz", timeout=20)
            assert health.status_code == 200, health.text
        finally:
            store.release.set()
        assert poll.result(timeout=60).status_code == 200
