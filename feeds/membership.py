"""Members of an MQTT 5 shared subscription group: who is alive, and who empties the session
of a member that is gone.

Why this exists. With ``$share/<group>/<filter>`` the broker hands each message to one
member's *session*. A member that dies (SIGKILL, OOM, a lost host) leaves two kinds of
messages with its session: those sent to it but never acknowledged, and those the broker
keeps routing to it, round-robin, while the session lives. Mosquitto 2.0.11 gives neither to
the other members (measured: with session expiry 0 the unacknowledged ones are dropped with
the session; with a longer expiry new ones keep queueing for the dead member until it expires,
and are then dropped). A replacement process with a new client id never sees that session.

The mechanism. Every member has a client id of its own (``<client_id>-<host>-<pid>``), a
persistent session, and a heartbeat in the store, written by a thread of its own: neither a
message loop busy storing a burst nor a message write retrying against a moving cluster slot
delays it, and neither does the sweep. A second thread looks at the others once per heartbeat.
A member whose heartbeat is older than two of its intervals is dead (one that stopped by
SIGTERM says "left", after it disconnected, and needs no wait). The first survivor to claim it
(an atomic claim in the store) connects *with the dead member's client id* and
``clean_start=False``: the broker resumes that session and delivers what it held,
unacknowledged and queued alike. The survivor unsubscribes the shared filters at once (so
nothing new is routed there), stores and acknowledges what comes, and when nothing more
arrives it disconnects with a session expiry of 0, which deletes the session. A process that
starts does the same sweep, so a group that died entirely is emptied by the first member to
come back.

Taking over a session kicks its owner off the broker, so a live member must never be taken
for dead. Hence, conservatively:

- the beat thread only beats. A beat that fails (store unavailable) is tried again within a
  second, not a whole interval later, and a beat that was stuck is followed at once by the
  next, so the heartbeat resumes as soon as the store answers again;
- silence is measured against the clock *after* the records were read, never before a call
  that may have blocked;
- a survivor judges silence only while it is itself in touch with the store: its read of the
  records must have been quick and its previous read recent. One that was stuck itself (a
  store outage or a slot migration stalls every member alike, since all member records share
  one slot) first looks again, so a live member whose beat was stuck in the same outage has
  landed it meanwhile;
- after winning the claim the survivor reads the record once more: if the heartbeat moved,
  or the silence no longer holds, it gives the claim back and leaves the session alone;
- the survivor's connection under the dead member's id never reconnects by itself: if the
  owner comes back and takes its session over, the survivor stops without deleting it.

These make a wrong verdict unlikely, not impossible: a live member whose own beat is stuck in
the store for longer than two intervals while a survivor's reads go through still looks dead.
Its owner is then kicked off, reconnects under its own id and subscribes again (as on every
connect); what its old session held is stored by the survivor.

The trade-off. Messages of a dead member wait two to three heartbeats plus the drain before
they are stored (late, never lost), and a survivor that was cut off from the store waits one
more heartbeat before it declares anyone dead. A member that stays alive but cannot reach the
broker keeps its session to itself until it reconnects: only its own process can tell that it
is alive, so no one else takes its messages. In exchange, nothing depends on the broker
redistributing (MQTT 5 only says it *should*), a graceful stop and a crash take the same path,
and a group that is entirely down still queues everything. Duplicates are possible (a message
stored by the dead member just before it died comes again) and harmless: the store upserts by
id. Heartbeats compare wall clocks, so hosts need NTP.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: A member is dead when its last heartbeat is older than this many of its intervals.
DEAD_AFTER_BEATS = 2
#: A survivor was stuck itself when its read of the records took longer than one interval, or
#: when more than ``DEAD_AFTER_BEATS`` intervals passed since its previous read ended: it then
#: reads again before it declares anyone dead.
#: A failed beat is tried again after this long (or the interval, if shorter).
BEAT_RETRY_S = 1.0
#: How long the record of a member whose session was emptied stays for operators to see. Each
#: restart of a member leaves one (a new process has a new id); kept for ever they piled up
#: as dead rows on the feed-health panel and pushed the live feeds off it.
KEEP_DRAINED_S = 3600.0
COUNTED = ("received", "accepted", "duplicates", "store_errors")


class MemberRegistry(Protocol):
    """Where members record themselves; the store in ``dashboard`` implements it."""

    def beat(self, name: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        """Add ``counts`` (deltas) to member ``name`` and replace its status fields."""
        ...

    def members(self, feed: str) -> dict[str, dict[str, Any]]:
        """Every member record of ``feed``: name -> status fields (and ``counts``)."""
        ...

    def claim(self, name: str, by: str) -> bool:
        """True for the one caller that may empty member ``name``'s session."""
        ...

    def release(self, name: str, by: str) -> None:
        """Give back ``by``'s claim on ``name`` (the member was alive after all, or is done)."""
        ...

    def forget(self, name: str) -> None:
        """Drop member ``name``'s record: its session was emptied long enough ago."""
        ...


def member_id(client_id: str, host: str | None = None, pid: int | None = None, member: str | None = None) -> str:
    """A client id of this process alone: ``<client_id>-<host>-<member>`` for a member named in
    the config (the same after a restart, so the broker hands it back its own session), else
    with the pid (a restarted or replacement process is a new member). A session that only
    the store knew of, a survivor empties; one the store lost (a Redis that came back empty)
    kept taking its share of the group's messages, out of reach, until it expired."""
    import os

    host = (host or socket.gethostname()).split(".")[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in host)[:40]
    return f"{client_id}-{safe}-{member or (os.getpid() if pid is None else pid)}"


def record_name(feed: str, member: str) -> str:
    return f"{feed}@{member}"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _beat_s(record: dict[str, Any], default: float) -> float:
    return float(record.get("heartbeat_s") or default)


def _beat_t(record: dict[str, Any]) -> float:
    return float(record.get("heartbeat_t") or 0.0)


class Membership:
    """One member's heartbeat and its sweep for dead peers, each on a thread of its own.

    ``snapshot`` gives this process's totals (``FeedStats.snapshot``); ``drain(client_id)``
    empties a dead member's session and returns how many messages it handled. ``start``
    starts both threads; ``stop`` ends them and writes the member's last word ("left").
    """

    def __init__(
        self,
        registry: MemberRegistry,
        *,
        feed: str,
        member: str,
        group: str,
        heartbeat_s: float,
        snapshot: Callable[[], dict[str, Any]],
        drain: Callable[[str], int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.feed = feed
        self.member = member
        self.group = group
        self.heartbeat_s = heartbeat_s
        self._snapshot = snapshot
        self._drain = drain
        self._clock = clock
        self._sent: dict[str, int] = {}
        self._last_read_end: float | None = None
        self._draining: set[str] = set()
        self._lock = threading.Lock()
        #: Held for each beat's write, so the last word ("left") is the last write: a beat
        #: still on its way when ``stop`` comes lands before it, never after.
        self._beat_lock = threading.Lock()
        self._final = False
        self._halt = threading.Event()
        self._threads: list[threading.Thread] = []
        self.host = socket.gethostname()

    @property
    def name(self) -> str:
        return record_name(self.feed, self.member)

    # -- the two threads ---------------------------------------------------------------------

    def start(self) -> None:
        self._halt.clear()
        self._threads = [
            threading.Thread(target=self._beat_loop, name=f"{self.feed}-heartbeat", daemon=True),
            threading.Thread(target=self._sweep_loop, name=f"{self.feed}-sweep", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, state: str = "left", timeout: float = 15.0) -> None:
        """End the threads, then record ``state`` as this member's last word.

        Call it once the member is off the broker: until then it keeps beating, so no peer
        takes over a session that is still connected.
        """
        self._halt.set()
        with self._beat_lock:
            self._final = True
        for thread in self._threads:
            thread.join(timeout)
        self._write(state)

    def _beat_loop(self) -> None:
        failures = 0
        while not self._halt.is_set():
            started = time.monotonic()
            try:
                self.beat("running")
            except Exception:
                failures += 1
                if failures == 1:
                    log.warning("%s: heartbeat failed; trying again", self.name, exc_info=True)
                pause = min(BEAT_RETRY_S, self.heartbeat_s)
            else:
                if failures:
                    log.warning("%s: heartbeat recorded again after %d failed attempt(s)", self.name, failures)
                failures = 0
                # due one interval after the previous attempt began: one that was stuck is followed at once
                pause = max(0.0, started + self.heartbeat_s - time.monotonic())
            if self._halt.wait(pause):
                return

    def _sweep_loop(self) -> None:
        while not self._halt.is_set():
            started = time.monotonic()
            try:
                self.sweep()
            except Exception:
                log.warning("%s: could not look for dead members", self.name, exc_info=True)
            if self._halt.wait(max(0.0, started + self.heartbeat_s - time.monotonic())):
                return

    # -- beats -------------------------------------------------------------------------------

    def beat(self, state: str) -> None:
        """Record this member's totals and ``state`` now; nothing once ``stop`` has begun."""
        with self._beat_lock:
            if self._final:
                return
            self._write_locked(state)

    def _write(self, state: str) -> None:
        with self._beat_lock:
            self._write_locked(state)

    def _write_locked(self, state: str) -> None:
        import os

        snap = self._snapshot()
        totals = {k: int(snap.get(k, 0)) for k in COUNTED}
        totals["rejected"] = sum(int(v) for v in (snap.get("rejected") or {}).values())
        deltas = {k: v - self._sent.get(k, 0) for k, v in totals.items() if v != self._sent.get(k, 0)}
        now = self._clock()
        self.registry.beat(
            self.name,
            deltas,
            {
                "member": self.member,
                "host": self.host,
                "pid": os.getpid(),
                "group": self.group,
                "state": state,
                "alive": state == "running",
                "connected": bool(snap.get("connected")) and state == "running",
                "heartbeat_at": _iso(now),
                "heartbeat_t": now,
                "heartbeat_s": self.heartbeat_s,
                "last_message_at": snap.get("last_message_at"),
            },
        )
        self._sent = totals

    # -- the sweep ---------------------------------------------------------------------------

    def _gone(self, record: dict[str, Any], now: float) -> bool:
        """Whether ``record`` is of a member whose session may be taken: it said "left", or
        its heartbeat has been silent for longer than ``DEAD_AFTER_BEATS`` of its intervals."""
        state = record.get("state")
        if state == "left":
            return True
        if state not in ("running", "dead"):
            return False
        return now - _beat_t(record) > DEAD_AFTER_BEATS * _beat_s(record, self.heartbeat_s)

    def sweep(self, now: float | None = None) -> list[str]:
        """Mark dead members as such and empty their sessions (one drain thread each).

        ``now`` is taken after the records were read unless given."""
        began = self._clock() if now is None else now
        records = self.registry.members(self.feed)
        now = self._clock() if now is None else now
        in_touch = (
            self._last_read_end is not None
            and now - began <= self.heartbeat_s
            and began - self._last_read_end <= DEAD_AFTER_BEATS * self.heartbeat_s
        )
        self._last_read_end = now
        started = []
        for name, record in records.items():
            member = record.get("member")
            if not isinstance(member, str) or member == self.member or record.get("group") != self.group:
                continue
            if record.get("state") == "drained":
                if now - float(record.get("drained_t") or _beat_t(record)) > KEEP_DRAINED_S:
                    self.registry.forget(name)
                continue
            if not self._gone(record, now):
                continue
            if record.get("state") != "left" and not in_touch:
                continue  # just back from being stuck ourselves: its beat may be landing now
            with self._lock:
                if member in self._draining:
                    continue
            if not self.registry.claim(name, self.member):
                continue
            if not self._still_gone(name, record):
                self.registry.release(name, self.member)
                log.warning("%s: %s beat again before its session was taken; left alone", self.name, member)
                continue
            if record.get("state") == "running":  # shown dead now, before the drain is done
                self.registry.beat(name, {}, {"state": "dead", "alive": False, "connected": False, "dead_since": _iso(now)})
            with self._lock:
                self._draining.add(member)
            threading.Thread(target=self._empty, args=(name, member), name=f"drain-{member}", daemon=True).start()
            started.append(member)
        return started

    def _still_gone(self, name: str, seen: dict[str, Any]) -> bool:
        """Read ``name``'s record again, right before its session is taken: gone still, and
        with the very heartbeat that was judged (one that moved means it is alive)."""
        record = self.registry.members(self.feed).get(name)
        now = self._clock()
        if record is None or not self._gone(record, now):
            return False
        return record.get("state") == "left" or _beat_t(record) == _beat_t(seen)

    def _empty(self, name: str, member: str) -> None:
        try:
            handled = self._drain(member)
            drained = self._clock()
            self.registry.beat(
                name,
                {},
                {
                    "state": "drained",
                    "alive": False,
                    "connected": False,
                    "drained_by": self.member,
                    "drained_messages": handled,
                    "drained_at": _iso(drained),
                    "drained_t": drained,
                },
            )
            log.warning("took over the session of %s: %d message(s) stored", member, handled)
        except Exception:
            log.exception("could not empty the session of %s; it stays for a later sweep", member)
        finally:
            with self._lock:
                self._draining.discard(member)
            try:
                self.registry.release(name, self.member)
            except Exception:
                log.warning("%s: could not give back the claim on %s", self.name, member, exc_info=True)
