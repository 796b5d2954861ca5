"""How a change reaches the pages: from the writing thread to the event loop, and the picture
read for them.

The browser tests follow a change end to end; these pin the hand-over itself.
"""

from __future__ import annotations

import asyncio
import threading

from dashboard.config import load_config
from dashboard.picture import build_picture
from dashboard.reader import PictureCache
from dashboard.store.memory import MemoryStore
from layouts import map_lists
from layouts.panels import incident_queue, ticker
from layouts.picture import CRITICAL_SHOWN, CityPicture
from layouts.push import SharedPicture
from tests.support.city import NOW, city, incident
from tests.support.helpers import run_async


def test_a_burst_written_in_memory_wakes_the_pages_once_without_a_thread_of_their_own() -> None:
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    reader = PictureCache(store, config)

    def burst() -> None:
        for n in range(50):
            state.accept(incident(f"urn:ngsi-ld:Alert:burst-{n}", ago=60))

    async def main() -> tuple[int, int, set[str]]:
        threads_before = {t.name for t in threading.enumerate()}
        waiter = asyncio.create_task(reader.changed(store.version(), 30))
        await asyncio.sleep(0)  # a turn of the loop: the waiter starts the watch and waits
        loop = asyncio.get_running_loop()
        handed = []
        hand = loop.call_soon_threadsafe
        loop.call_soon_threadsafe = lambda *a, **k: (handed.append(1), hand(*a, **k))[1]  # type: ignore[method-assign]
        writer = threading.Thread(target=burst)
        writer.start()
        writer.join()  # the loop is held meanwhile: every write of the burst finds a wake on its way
        version = await waiter
        started = {t.name for t in threading.enumerate()} - threads_before
        return version, len(handed), started

    version, handed, started = run_async(main())
    assert version == store.version() == 50
    assert handed == 1, "fifty writes while the loop was busy: one wake handed to it"
    assert "change-watcher" not in started


def test_changes_while_no_page_waits_wake_nothing_and_the_next_wait_sees_them_at_once() -> None:
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    reader = PictureCache(store, config)

    async def main() -> tuple[int, int, int, int]:
        first = await reader.changed(-1, 1)  # starts the watch; the version differs: back at once
        loop = asyncio.get_running_loop()
        handed = []
        hand = loop.call_soon_threadsafe
        loop.call_soon_threadsafe = lambda *a, **k: (handed.append(1), hand(*a, **k))[1]  # type: ignore[method-assign]
        writer = threading.Thread(target=lambda: [state.accept(incident(f"urn:ngsi-ld:Alert:q-{n}", ago=60)) for n in range(5)])
        writer.start()
        writer.join()  # every page is between frames: nobody waits
        quiet = len(handed)
        seen = await reader.changed(first, 30)  # comes to wait: the five changes are already there
        waiter = asyncio.create_task(reader.changed(seen, 30))
        await asyncio.sleep(0)  # now a page waits
        writer = threading.Thread(target=lambda: state.accept(incident("urn:ngsi-ld:Alert:q-last", ago=60)))
        writer.start()
        writer.join()
        return seen, quiet, await waiter, len(handed)

    seen, quiet, woken, handed = run_async(main())
    assert (seen, quiet) == (5, 0), "five changes with no page waiting: no wake, and the next wait returns them"
    assert (woken, handed) == (6, 1), "a change while a page waits: one wake, and it carries the new version"


class _Reader:
    def __init__(self, reads_block: bool) -> None:
        self.reads_block = reads_block
        self.read_in: list[threading.Thread] = []

    def picture(self) -> CityPicture:
        self.read_in.append(threading.current_thread())
        return CityPicture()

    def version(self) -> int:
        return 0

    async def changed(self, since: int, timeout: float) -> int:
        return since


def test_the_push_reads_a_city_in_memory_on_the_loop_and_any_other_in_a_thread() -> None:
    async def read(reader: _Reader) -> threading.Thread:
        await SharedPicture(reader).get()
        return threading.current_thread()  # the loop's

    in_memory, remote = _Reader(reads_block=False), _Reader(reads_block=True)
    loops = [run_async(read(reader)) for reader in (in_memory, remote)]
    assert in_memory.read_in == [loops[0]]
    assert len(remote.read_in) == 1 and remote.read_in[0] is not loops[1]
    assert PictureCache(MemoryStore(), load_config()).reads_block is False


def test_a_quiet_city_still_sees_the_clock_move_what_counts_the_last_24_hours() -> None:
    """A picture is built per change of the city, and also when the minute turns: an incident
    resolved 23 h 59 min 30 s ago leaves the 24-hour count two minutes later with nothing else
    having happened."""
    config = load_config()
    store = MemoryStore()
    city(store, config).accept(incident("urn:ngsi-ld:Alert:done", ago=86_400 - 30, status="resolved"))
    now = [NOW]
    reader = PictureCache(store, config, clock=lambda: now[0])
    first = reader.picture()
    assert (first.incidents.open_count, first.incidents.resolved_24h) == (0, 1)
    now[0] = NOW + 120
    later = reader.picture()
    assert later.version == first.version, "nothing was written in between"
    assert later.incidents.resolved_24h == 0


def test_the_critical_rows_stay_the_same_object_while_only_lesser_incidents_come() -> None:
    """What the critical rows' views read is kept by identity while lesser incidents come, so
    a look at a page at 500 new incidents a second does not work those views out again; a
    critical incident, or one that stops being critical, makes new rows."""
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    reader = PictureCache(store, config, clock=lambda: NOW)
    state.accept(incident("urn:ngsi-ld:Alert:A", ago=600, severity="critical"))
    first = reader.picture()
    assert [d.id for d in first.critical or []] == ["urn:ngsi-ld:Alert:A"]

    state.accept(incident("urn:ngsi-ld:Alert:B", ago=300, severity="high"))
    second = reader.picture()
    assert second.version == first.version + 1
    assert second.incidents is not first.incidents, "the incidents section moved"
    assert [d.id for d in second.incidents.open] == ["urn:ngsi-ld:Alert:A", "urn:ngsi-ld:Alert:B"]
    assert second.critical is first.critical
    assert second.wall is first.wall

    state.accept(incident("urn:ngsi-ld:Alert:C", ago=60, severity="critical"))
    third = reader.picture()
    assert [d.id for d in third.critical or []] == ["urn:ngsi-ld:Alert:C", "urn:ngsi-ld:Alert:A"]

    state.accept(incident("urn:ngsi-ld:Alert:A", ago=30, status="resolved", severity="critical"))
    fourth = reader.picture()
    assert [d.id for d in fourth.critical or []] == ["urn:ngsi-ld:Alert:C"]
    assert "critical" not in fourth.to_json(), "the API's state keeps its shape: the rows are in incidents.open"
    whole = build_picture(store, config, NOW, lazy=False)  # as a store over the network is read
    assert [d.id for d in whole.critical or []] == ["urn:ngsi-ld:Alert:C"]
    assert whole.critical == [d for d in whole.incidents.open if d.severity == "critical"]


def test_the_critical_rows_are_the_newest_a_panel_can_show_however_many_are_open() -> None:
    """A hundred critical incidents open were all read at every look at a page that shows
    eighteen at most."""
    config = load_config()
    store = MemoryStore()
    state = city(store, config)
    for n in range(CRITICAL_SHOWN + 5):
        state.accept(incident(f"urn:ngsi-ld:Alert:c{n:02d}", ago=3_000 - n, severity="critical"))
    state.accept(incident("urn:ngsi-ld:Alert:lesser", ago=10, severity="high"))
    rows = PictureCache(store, config, clock=lambda: NOW).picture().critical or []
    newest = [f"urn:ngsi-ld:Alert:c{n:02d}" for n in range(CRITICAL_SHOWN + 4, 4, -1)]
    assert [d.id for d in rows] == newest
    assert max(incident_queue.ROWS, map_lists.TOP_ROWS, ticker.CRITICAL_ROWS) <= CRITICAL_SHOWN
