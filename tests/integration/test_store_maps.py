"""The named-map primitives (users, tokens, the shared secret) behave alike on both stores.

Kept apart from ``test_store_contract.py`` so the identity block of the store port has its own
contract, run against the memory store and a real Redis.
"""

from __future__ import annotations

import threading

import pytest

from dashboard.store.base import StateStore


@pytest.fixture
def store(each_store: StateStore) -> StateStore:
    return each_store


def test_put_get_all_delete(store: StateStore) -> None:
    assert store.map_get("auth:users", "ani") is None
    assert store.map_all("auth:users") == {}
    assert store.map_put("auth:users", "ani", '{"role":"operator"}') is True
    assert store.map_put("auth:users", "budi", "b") is True
    assert store.map_get("auth:users", "ani") == '{"role":"operator"}'
    assert store.map_all("auth:users") == {"ani": '{"role":"operator"}', "budi": "b"}
    assert store.map_delete("auth:users", "ani") is True
    assert store.map_delete("auth:users", "ani") is False
    assert store.map_all("auth:users") == {"budi": "b"}


def test_put_replaces_unless_only_new(store: StateStore) -> None:
    store.map_put("m", "k", "first")
    assert store.map_put("m", "k", "second") is True
    assert store.map_get("m", "k") == "second"
    assert store.map_put("m", "k", "third", only_new=True) is False
    assert store.map_get("m", "k") == "second"
    assert store.map_put("m", "fresh", "x", only_new=True) is True
    assert store.map_get("m", "fresh") == "x"


def test_maps_are_separate_and_touch_no_version(store: StateStore) -> None:
    before = store.version()
    store.map_put("a", "k", "in a")
    store.map_put("b", "k", "in b")
    assert store.map_get("a", "k") == "in a"
    assert store.map_get("b", "k") == "in b"
    assert store.map_all("c") == {}
    assert store.version() == before


def test_only_new_has_exactly_one_winner(store: StateStore) -> None:
    """Several workers creating the shared secret at once must end up with the same one."""
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def race(value: str) -> None:
        won = store.map_put("auth:meta", "secret", value, only_new=True)
        with lock:
            results.append((value, won))

    threads = [threading.Thread(target=race, args=(f"v{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [value for value, won in results if won]
    assert len(winners) == 1
    assert store.map_get("auth:meta", "secret") == winners[0]


def test_replacing_writes_only_over_the_value_read(store: StateStore) -> None:
    """Compare-and-set: a write made from what was read loses to one made meanwhile."""
    store.map_put("auth:users", "ani", "hash-1")
    assert store.map_put("auth:users", "ani", "hash-1 again", replacing="hash-1") is True
    assert store.map_get("auth:users", "ani") == "hash-1 again"
    assert store.map_put("auth:users", "ani", "stale", replacing="hash-1") is False
    assert store.map_get("auth:users", "ani") == "hash-1 again"
    assert store.map_put("auth:users", "gone", "x", replacing="hash-1") is False
    assert store.map_get("auth:users", "gone") is None, "nothing is made where nothing was"
