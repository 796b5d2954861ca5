"""The one path every inbound message takes: decode -> store -> count.

Every adapter (MQTT, Redis streams) hands each message to a ``Pipeline`` and acknowledges it
only once ``handle`` returned, so every transport treats a bad message, a buggy decoder and a
failing store exactly the same way: a broken message is dead-lettered with a named reason,
the good ones around it go through, and a store that is down makes the message come again.
The path through the package: adapter (``feeds.mqtt``, ``feeds.redis_feed``) -> ``Pipeline``
-> ``feeds.normalize.Normalizer`` -> the store behind ``feeds.sink.EventSink``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from feeds.events import DeadLetter, Event, Reason, Rejected
from feeds.health import Clock, FeedStats, utc_now
from feeds.sink import EventSink, StoreUnavailable
from feeds.text import encodable, safe_excerpt

log = logging.getLogger(__name__)

#: What a dead letter keeps of its origin (a topic or stream id) and of the detail: a
#: 65,000-character topic is still identifiable from its first 256.
ORIGIN_MAX = 256
DETAIL_MAX = 500


class Decoder(Protocol):
    """What ``feeds.normalize.Normalizer`` offers: bytes in, one typed event out."""

    def decode(self, payload: bytes | bytearray | str, origin: str = "") -> Event:
        """Return the event or raise ``Rejected``."""
        ...


class Pipeline:
    """decode -> store -> count, identical for every transport.

    ``handle`` returns normally when the message is settled (stored or dead-lettered), which
    is the adapter's cue to acknowledge it. It raises only when the sink raised: the store
    is down, the message must not be acknowledged, and the broker will redeliver it.
    """

    def __init__(
        self,
        normalizer: Decoder,
        sink: EventSink,
        stats: FeedStats,
        dead_letter_excerpt: int = 200,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.normalizer = normalizer
        self.sink = sink
        self.stats = stats
        self.excerpt_bytes = dead_letter_excerpt
        self._clock = clock

    def decode(self, payload: bytes | bytearray, origin: str) -> Event | Rejected:
        """The event a payload carries, or why it carries none; never raises.

        Apart from ``handle`` so that an adapter holding several messages at once (a gathered
        MQTT turn, a stream read) decodes them all before it stores the first: in one thread,
        decoding and storing in turn ran each on caches the other had just filled, and took
        about a fifth longer a message than decoding a turn's ten and then storing them
        (``bench/README.md``)."""
        try:
            return self.normalizer.decode(payload, origin)
        except Rejected as exc:
            return exc.with_traceback(None)  # kept a while: not with the frames it was raised in
        except Exception as exc:  # a decoder bug must not stop the feed for everyone else
            log.exception("decoder failed on a message from %s", safe_excerpt(origin, ORIGIN_MAX))  # a topic is anyone's text
            return Rejected(Reason.INVALID_VALUE, f"decoder error: {type(exc).__name__}: {exc}")

    def handle(self, payload: bytes | bytearray, origin: str, decoded: Event | Rejected | None = None) -> bool:
        """True when the payload became an event, False when it was dead-lettered.

        ``decoded``: what ``decode`` already made of this very payload, if it was called."""
        self.stats.received()
        event = self.decode(payload, origin) if decoded is None else decoded
        if isinstance(event, Rejected):
            self._dead_letter(payload, origin, event.reason, event.detail)
            return False
        try:
            changed = self.sink.accept(event)
        except Rejected as exc:  # a rule of the store, e.g. a new id past a cap
            self._dead_letter(payload, origin, exc.reason, exc.detail)
            return False
        except (StoreUnavailable, OSError):
            self.stats.store_failed()
            raise
        except Exception as exc:  # the store refused this message: acknowledge it, keep it for inspection
            log.warning("store refused a message from %s: %s", safe_excerpt(origin, ORIGIN_MAX), type(exc).__name__)
            self._dead_letter(payload, origin, Reason.STORE_REJECTED, f"{type(exc).__name__}: {exc}")
            return False
        self.stats.accepted(bool(changed))
        if (
            getattr(event, "lat", None) is not None
            and getattr(event, "kecamatan", "") is None
            and getattr(self.normalizer, "districts", None) is not None
        ):
            self.stats.outside_districts()  # located, but in none of the city's districts
        return True

    def refuse(self, payload: bytes, origin: str, reason: Reason, detail: str) -> None:
        """Dead-letter a message the transport itself found unusable (e.g. a stream entry
        without the payload field), counted like any other rejection."""
        self.stats.received()
        self._dead_letter(payload, origin, reason, detail)

    def _dead_letter(self, payload: bytes | bytearray | str, origin: str, reason: Reason, detail: str) -> None:
        """Keep the refused message, cleaned and clipped so that keeping it cannot fail on its text.

        Only an unavailable store is raised (the message then comes again); a letter the
        store refuses for any other reason is counted and dropped, or it would loop for ever.
        """
        raw = payload[: self.excerpt_bytes]
        excerpt = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", errors="replace")
        letter = DeadLetter(
            feed=self.stats.name,
            origin=safe_excerpt(origin, ORIGIN_MAX),
            reason=reason,
            detail=safe_excerpt(detail, DETAIL_MAX),
            received_at=self._clock(),
            excerpt=encodable(excerpt),
        )
        try:
            self.sink.reject(letter)
        except (StoreUnavailable, OSError):
            self.stats.store_failed()
            raise
        except Exception:
            log.exception("could not keep a dead letter from %s; counted, not kept", letter.origin)
        self.stats.rejected(reason)
