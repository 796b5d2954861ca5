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
persistent session, and a heartbeat in the store. Every member looks at the others at each
heartbeat; a member whose heartbeat is older than two of its intervals is dead (one that
stopped by SIGTERM says "left" and needs no wait). The first survivor to claim it (an atomic
claim in the store) connects *with the dead member's client id* and ``clean_start=False``:
the broker resumes that session and delivers what it held, unacknowledged and queued alike.
The survivor unsubscribes the shared filters at once (so nothing new is routed there),
stores and acknowledges what comes, and when nothing more arrives it disconnects with a
session expiry of 0, which deletes the session. A process that starts does the same sweep,
so a group that died entirely is emptied by the first member to come back.

The trade-off. Messages of a dead member wait up to two heartbeats plus the drain before
they are stored (late, never lost); in exchange, nothing depends on the broker redistributing
(MQTT 5 only says it *should*), a graceful stop and a crash take the same path, and a group
that is entirely down still queues everything. Duplicates are possible (a message stored by
the dead member just before it died comes again) and harmless: the store upserts by id.
Heartbeats compare wall clocks, so hosts need NTP; a member that only looked dead (a store
outage longer than two heartbeats) has its session taken for a moment and takes it back on
its next reconnect, re-subscribing as on every connect.
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


def member_id(client_id: str, host: str | None = None, pid: int | None = None) -> str:
    """A client id of this process alone: a restarted or replacement process gets a new one."""
    import os

    host = (host or socket.gethostname()).split(".")[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in host)[:40]
    return f"{client_id}-{safe}-{os.getpid() if pid is None else pid}"


def record_name(feed: str, member: str) -> str:
    return f"{feed}@{member}"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


class Membership:
    """One member's heartbeat and its sweep for dead peers; driven by the adapter's timer.

    ``snapshot`` gives this process's totals (``FeedStats.snapshot``); ``drain(client_id)``
    empties a dead member's session and returns how many messages it handled.
    """

    def __init__(self, registry: MemberRegistry, *, feed: str, member: str, group: str, heartbeat_s: float,
                 snapshot: Callable[[], dict[str, Any]], drain: Callable[[str], int],
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.feed = feed
        self.member = member
        self.group = group
        self.heartbeat_s = heartbeat_s
        self._snapshot = snapshot
        self._drain = drain
        self._clock = clock
        self._sent: dict[str, int] = {}
        self._next_beat = 0.0
        self._draining: set[str] = set()
        self._lock = threading.Lock()
        self.host = socket.gethostname()

    @property
    def name(self) -> str:
        return record_name(self.feed, self.member)

    def tick(self) -> None:
        """Beat and sweep when a heartbeat is due; cheap otherwise."""
        now = self._clock()
        if now < self._next_beat:
            return
        self._next_beat = now + self.heartbeat_s
        self.beat("running")
        self.sweep(now)

    def beat(self, state: str) -> None:
        import os

        snap = self._snapshot()
        totals = {k: int(snap.get(k, 0)) for k in COUNTED}
        totals["rejected"] = sum(int(v) for v in (snap.get("rejected") or {}).values())
        deltas = {k: v - self._sent.get(k, 0) for k, v in totals.items() if v != self._sent.get(k, 0)}
        now = self._clock()
        self.registry.beat(self.name, deltas, {
            "member": self.member, "host": self.host, "pid": os.getpid(), "group": self.group,
            "state": state, "alive": state == "running", "connected": bool(snap.get("connected")) and state == "running",
            "heartbeat_at": _iso(now), "heartbeat_t": now, "heartbeat_s": self.heartbeat_s,
            "last_message_at": snap.get("last_message_at"),
        })
        self._sent = totals

    def sweep(self, now: float | None = None) -> list[str]:
        """Mark dead members as such and empty their sessions (one drain thread each)."""
        now = self._clock() if now is None else now
        started = []
        for name, record in self.registry.members(self.feed).items():
            member = record.get("member")
            if not isinstance(member, str) or member == self.member or record.get("group") != self.group:
                continue
            state = record.get("state")
            if state in ("drained",):
                continue
            beat_s = float(record.get("heartbeat_s") or self.heartbeat_s)
            silent = now - float(record.get("heartbeat_t") or 0.0)
            if state == "running" and silent <= DEAD_AFTER_BEATS * beat_s:
                continue
            if state == "running":  # shown dead now, before the drain is done
                self.registry.beat(name, {}, {"state": "dead", "alive": False, "connected": False,
                                              "dead_since": _iso(now)})
            with self._lock:
                if member in self._draining:
                    continue
            if not self.registry.claim(name, self.member):
                continue
            with self._lock:
                self._draining.add(member)
            threading.Thread(target=self._empty, args=(name, member), name=f"drain-{member}", daemon=True).start()
            started.append(member)
        return started

    def _empty(self, name: str, member: str) -> None:
        try:
            handled = self._drain(member)
            self.registry.beat(name, {}, {"state": "drained", "alive": False, "connected": False,
                                          "drained_by": self.member, "drained_messages": handled,
                                          "drained_at": _iso(self._clock())})
            log.warning("took over the session of %s: %d message(s) stored", member, handled)
        except Exception:
            log.exception("could not empty the session of %s; it stays for a later sweep", member)
        finally:
            with self._lock:
                self._draining.discard(member)
