"""Feed health: what each adapter received, stored and refused, and when it was cut off.

An operator looking at the wall must be able to tell "the river is calm" from "the river
gauge feed is dead". ``FeedStats`` keeps what answers that question for one adapter in one
process: what arrived, what was stored, what was dead-lettered and why, and when the
connection dropped and for how long. Several ingest processes may feed one city (MQTT shared
subscriptions, Redis consumer groups), so ``flush_to`` hands the store counter *deltas*,
which add up across processes, rather than totals, which would overwrite each other.

Staleness is deliberately not judged here: a feed that is connected but quiet is healthy
from the adapter's point of view, and only the store knows how old the newest data is.

The message path itself (decode -> store -> count) is ``feeds.pipeline.Pipeline``; it counts
into a ``FeedStats``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds.events import Reason
from feeds.sink import EventSink
from feeds.timestamps import stored_time

GAPS_KEPT = 20
#: The reason of the gap between the last process's last report and this one's connection.
RESTART_REASON = "ingest was not running (stopped or restarted)"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Gap:
    """One outage: ``ended`` stays None while the connection is still down."""

    started: datetime
    reason: str
    ended: datetime | None = None

    @classmethod
    def from_doc(cls, doc: Any) -> _Gap | None:
        """A gap as ``to_doc`` wrote it; None for anything else (a store written by hand)."""
        if not isinstance(doc, dict):
            return None
        started = stored_time(doc.get("started_at"))
        if started is None:
            return None
        return cls(started=started, reason=str(doc.get("reason") or ""), ended=stored_time(doc.get("ended_at")))

    def to_doc(self) -> dict[str, Any]:
        seconds = None if self.ended is None else round((self.ended - self.started).total_seconds(), 3)
        return {
            "started_at": self.started.isoformat(),
            "ended_at": None if self.ended is None else self.ended.isoformat(),
            "seconds": seconds,
            "reason": self.reason,
        }


#: A flush that keeps failing is said again every this many tries (ten minutes at one a second).
FLUSH_TOLD_EVERY = 600


class FeedStats:
    """Counters and connection history of one adapter, safe to update from any thread.

    Invariant once a message is fully handled: ``received == accepted + duplicates +
    rejected``. ``accepted`` counts events that changed the city state, ``duplicates`` those
    the store already had (redeliveries after a reconnect, a producer resending): a high
    duplicate rate is normal after an outage and alarming otherwise, so it is kept apart.
    A message whose storage failed (``store_failed``) is only counted as received; it will
    be received again when the broker redelivers it. A QoS 0 message that came while the store
    was away is received and ``lost``: nothing sends it again.
    """

    def __init__(self, name: str, *, clock: Clock = utc_now, gaps_kept: int = GAPS_KEPT) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flush_failures = 0  # flushes failed in a row
        self._counts: dict[str, int] = {}
        self._flushed: dict[str, int] = {}
        self._connected = False
        self._ever_connected = False
        self._last_message_at: datetime | None = None
        self._gaps: deque[_Gap] = deque(maxlen=gaps_kept)
        self._extra: dict[str, Any] = {}

    # -- counting -------------------------------------------------------------------------

    def _bump(self, key: str, n: int = 1) -> None:
        self._counts[key] = self._counts.get(key, 0) + n

    def received(self) -> None:
        with self._lock:
            self._bump("received")
            self._last_message_at = self._clock()

    def accepted(self, changed: bool) -> None:
        with self._lock:
            self._bump("accepted" if changed else "duplicates")

    def rejected(self, reason: Reason) -> None:
        with self._lock:
            self._bump("rejected")
            self._bump(f"rejected.{reason.value}")

    def outside_districts(self) -> None:
        """A stored event whose point lies in none of the city's districts (shown as such)."""
        with self._lock:
            self._bump("outside_districts")

    def lost(self) -> None:
        """A QoS 0 message that came while the store was away: the broker never sends it again."""
        with self._lock:
            self._bump("received")
            self._bump("lost")
            self._last_message_at = self._clock()

    def store_failed(self) -> None:
        """The sink raised: the message stays unacknowledged and will come again."""
        with self._lock:
            self._bump("store_errors")

    # -- the process before this one -------------------------------------------------------

    def carry_on(self, previous: dict[str, Any] | None, *, silent_after: timedelta) -> None:
        """Take up the outage history the last process left in the store (``previous``: this
        feed's stored status), so a restart no longer empties it.

        A gap the last process left open ends when it last reported. When nothing has reported
        on this feed for ``silent_after`` (the time after which the wall calls a feed silent),
        the time from that last report until this process connects is a gap too: nobody was
        taking the feed's messages. A fresher report means another ingest process feeds it
        (a shared subscription, a consumer group), or this one came straight back."""
        if not previous:
            return
        gaps = [gap for gap in map(_Gap.from_doc, previous.get("gaps") or []) if gap is not None]
        last_report = stored_time(previous.get("reported_at"))
        for gap in gaps:
            if gap.ended is None:
                gap.ended = max(gap.started, last_report) if last_report else gap.started
        if last_report is not None and self._clock() - last_report > silent_after:
            gaps.append(_Gap(started=last_report, reason=RESTART_REASON))
        with self._lock:
            self._gaps.extend(gaps[-(self._gaps.maxlen or len(gaps)) :])

    # -- connection -----------------------------------------------------------------------

    def connected(self) -> None:
        """Close the open gap, if any; a connection after a drop counts as a reconnect."""
        with self._lock:
            if self._connected:
                return
            self._connected = True
            if self._ever_connected:
                self._bump("reconnects")
            self._ever_connected = True
            if self._gaps and self._gaps[-1].ended is None:
                self._gaps[-1].ended = self._clock()

    def disconnected(self, reason: str) -> None:
        """Open a gap when a live connection drops; failed retries while down add nothing."""
        with self._lock:
            if not self._connected:
                if self._gaps and self._gaps[-1].ended is None:
                    open_gap = self._gaps[-1]  # why it goes on; a restart's keeps that it was one
                    restart = open_gap.reason.startswith(RESTART_REASON)
                    open_gap.reason = f"{RESTART_REASON}, then: {reason}" if restart else reason
                return
            self._connected = False
            self._gaps.append(_Gap(started=self._clock(), reason=reason))

    def set_status(self, key: str, value: Any) -> None:
        """A status the transport learns on the side (the broker's dropped count)."""
        with self._lock:
            self._extra[key] = value

    @property
    def is_connected(self) -> bool:
        with self._lock:
            return self._connected

    # -- reporting ------------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        return {
            "connected": self._connected,
            "last_message_at": None if self._last_message_at is None else self._last_message_at.isoformat(),
            "gaps": [gap.to_doc() for gap in self._gaps],
            **self._extra,
        }

    def snapshot(self) -> dict[str, Any]:
        """Totals since this object was made, for this process's own health endpoint."""
        with self._lock:
            counts = dict(self._counts)
            status = self._status()
        prefix = "rejected."
        return {
            "name": self.name,
            **status,
            "received": counts.get("received", 0),
            "accepted": counts.get("accepted", 0),
            "duplicates": counts.get("duplicates", 0),
            "rejected": {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix)},
            "store_errors": counts.get("store_errors", 0),
            "lost": counts.get("lost", 0),
            "outside_districts": counts.get("outside_districts", 0),
            "reconnects": counts.get("reconnects", 0),
        }

    def flush_or_tell(self, sink: EventSink, log: logging.Logger) -> None:
        """``flush_to``, its failure said with the traceback the first time, then in one line
        every ``FLUSH_TOLD_EVERY`` failures, and its recovery once. Adapters flush every
        second: a Redis outage of an hour was 3,600 warnings with a traceback each, which
        buried the one line that said what happened."""
        try:
            self.flush_to(sink)
        except Exception as exc:
            with self._lock:
                self._flush_failures += 1
                failures = self._flush_failures
            if failures == 1:
                log.warning("%s: could not record feed health", self.name, exc_info=True)
            elif failures % FLUSH_TOLD_EVERY == 0:
                log.warning(
                    "%s: still cannot record feed health (%d tries): %s: %s", self.name, failures, type(exc).__name__, exc
                )
            return
        with self._lock:
            failures, self._flush_failures = self._flush_failures, 0
        if failures:
            log.warning("%s: feed health recorded again after %d failed tries", self.name, failures)

    def flush_to(self, sink: EventSink) -> None:
        """Hand the sink what changed since the last successful flush.

        Count keys (only non-zero deltas are sent): ``received``, ``accepted``,
        ``duplicates``, ``rejected`` (total) and ``rejected.<reason>``, ``store_errors``,
        ``lost``, ``reconnects``. They are flat because the sink adds them up key by key. Status keys
        (replaced, not added): ``connected``, ``last_message_at`` (ISO; left out until this
        process has had a message, so a restart keeps the last one's), ``reported_at``
        (ISO, this flush), ``gaps``
        (the last 20: ``started_at``, ``ended_at``, ``seconds``, ``reason``).

        If the sink raises, nothing is marked as flushed, so the same deltas go out with the
        next flush instead of being lost. The flush lock keeps the timer and a connect
        callback from sending the same delta twice.
        """
        with self._flush_lock:
            with self._lock:
                totals = dict(self._counts)
                # when this process last spoke: a killed ingest leaves "connected" standing in
                # the store, and only the age of this tells the web side it has gone silent
                status = {**self._status(), "reported_at": self._clock().isoformat()}
            if status["last_message_at"] is None:  # a restarted ingest: the last one's stands
                del status["last_message_at"]
            deltas = {k: v - self._flushed.get(k, 0) for k, v in totals.items()}
            sink.record_feed(self.name, {k: v for k, v in deltas.items() if v}, status)
            self._flushed = totals
