"""MQTT inbound adapter (paho-mqtt 2.x).

Delivery guarantee: at-least-once for QoS 1, end to end. A message is acknowledged (PUBACK)
only after ``Pipeline.handle`` returned, i.e. after the store accepted it or kept it as a
dead letter. The ack is sent from inside ``on_message`` on paho's own network thread (paho's
``manual_ack`` mode), so there is no queue between receipt and storage that could ack
something the store never saw. ``manual_ack`` is used instead of paho's automatic ack only so
that a *failed* store can withhold the ack: the adapter then stops acknowledging, and after
a backoff drops the connection, because brokers redeliver unacknowledged messages only on
reconnect. Redelivered duplicates are harmless: the store upserts by entity id.

Survival across restarts, on either side:

- the client id is stable and the session persistent (MQTT 5: clean_start=False with a
  session expiry; 3.1.1: clean_session=False), so the broker queues QoS 1 messages while
  ingest is down and hands them over when it returns;
- every (re)connect subscribes again. A broker that lost its state (no persistence, a new
  node behind a load balancer) answers session-present=0 and would otherwise never send
  anything again: the dashboard would sit there, connected and silent;
- a retained status message, ``<status_topic>/<client_id>``, says "online" while connected;
  the last will turns it to "offline" when the process dies without saying goodbye.
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from feeds.ack_window import AckWindow
from feeds.events import Event, Rejected
from feeds.gather import Gather, urgent_marks
from feeds.health import FeedStats
from feeds.mappers import CRITICAL_WORDS
from feeds.membership import MemberRegistry, Membership, member_id
from feeds.mqtt_socket import ReadAheadClient
from feeds.pipeline import ORIGIN_MAX, Decoder, Pipeline
from feeds.sink import EventSink
from feeds.text import safe_excerpt

log = logging.getLogger(__name__)

STORE_RETRY_MAX_S = 30.0
#: The reason a feed's outage gives when ingest dropped the connection itself, because the
#: store refused what came: only a new connection makes the broker send it again.
STORE_DROP_REASON = "reconnecting: the store was unavailable, the broker sends again what it did not take"
#: Emptying a dead member's session ends when nothing has come for this long after the
#: unsubscribe (the broker sends a resumed session's messages at once), or at the limit.
DRAIN_QUIET_S = 1.0
DRAIN_LIMIT_S = 300.0
#: Mosquitto's count of messages it dropped (a client's queue full, an over-long inflight
#: window), published every ``sys_interval``; other brokers simply never send it.
SYS_DROPPED = "$SYS/broker/publish/messages/dropped"


class TlsSettings(Protocol):
    """The fields of ``dashboard.config.Tls`` this adapter reads (feeds cannot import it)."""

    @property
    def ca_file(self) -> str | None: ...
    @property
    def cert_file(self) -> str | None: ...
    @property
    def key_file(self) -> str | None: ...
    @property
    def insecure(self) -> bool: ...


class MqttSettings(Protocol):
    """The fields of ``dashboard.config.MqttFeed`` this adapter reads."""

    @property
    def url(self) -> str | None: ...
    @property
    def topics(self) -> Sequence[str]: ...
    @property
    def qos(self) -> int: ...
    @property
    def protocol(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def shared_group(self) -> str | None: ...
    @property
    def member(self) -> str | None: ...
    @property
    def session_expiry_s(self) -> int: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def tls(self) -> TlsSettings | None: ...
    @property
    def status_topic(self) -> str: ...
    @property
    def keepalive_s(self) -> int: ...
    @property
    def heartbeat_s(self) -> int: ...
    @property
    def hold_ms(self) -> int: ...
    @property
    def gather_ms(self) -> int: ...


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_url(url: str) -> Endpoint:
    """``mqtt://user:pass@host:port`` or ``mqtts://...``; credentials are percent-decoded
    so a password may contain ``@`` or ``:``.

    Every ``ValueError`` is worded without the URL, which may hold a password: the standard
    library's own (a port that is not a number) quotes the text it took for the port, which
    with a ``/`` in the password was the start of the password."""
    if any(c.isspace() for c in url):
        raise ValueError("MQTT url has a space in it (write a space in a password as %20)")
    try:
        parts = urlsplit(url)
    except ValueError:  # its message quotes the host part, password and all (a full-width '#', say)
        raise ValueError("MQTT url cannot be read (a character in it that a URL may not hold?)") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError("MQTT url must start with mqtt:// or mqtts://")  # never echo: it may hold a password
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port
    except ValueError:
        raise ValueError(
            "MQTT url has a port that is not a number from 0 to 65535 (write a / ? # in a password as %2F %3F %23)"
        ) from None
    if not parts.hostname:
        raise ValueError("MQTT url has no host")
    return Endpoint(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def tls_context(ca_file: str | None, cert_file: str | None, key_file: str | None, insecure: bool) -> ssl.SSLContext:
    """A client context; ``insecure`` skips certificate and host checks (lab brokers with
    self-signed certificates only; never on a production wall)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def subscription_filters(topics: Sequence[str], shared_group: str | None) -> list[str]:
    """Wrap each filter as ``$share/<group>/<filter>`` so ingest processes split the load."""
    if not shared_group:
        return list(topics)
    return [f"$share/{shared_group}/{topic}" for topic in topics]


def packet_limit(max_payload_bytes: int) -> int:
    """The largest packet the broker may send us (MQTT 5's Maximum Packet Size): sixteen
    times the largest payload the pipeline takes, and never under 8 MiB. A message too large
    by that much still comes and is dead-lettered as such, where operators see it; one far
    larger (a broker's own limit is often 256 MB) is dropped by the broker instead of being
    read whole into memory first."""
    return max(8 << 20, 16 * max_payload_bytes)


class MqttAdapter:
    """One MQTT connection feeding one ``Pipeline``; see the module docstring for the why.

    Several ingest processes sharing a ``shared_group`` each need their own ``client_id``:
    the broker disconnects the older of two clients with one id. Given a ``members``
    registry, a shared-group member takes ``<client_id>-<host>-<pid>`` and keeps a heartbeat,
    and the group empties the session of a member that died (see ``feeds.membership``).
    """

    def __init__(
        self,
        config: MqttSettings,
        normalizer: Decoder,
        sink: EventSink,
        *,
        name: str = "mqtt",
        client_id: str | None = None,
        flush_every_s: float = 1.0,
        dead_letter_excerpt: int = 200,
        members: MemberRegistry | None = None,
        max_packet_bytes: int | None = None,
        actions_prefix: str | None = None,
    ) -> None:
        """``actions_prefix``: where the operators' actions are written back
        (``<slug>/actions/incidents/``), ours and not field data when a broad filter catches them."""
        if not config.url:
            raise ValueError("feeds.mqtt.url is not set")
        self.config = config
        self.endpoint = parse_url(config.url)
        elastic = members is not None and bool(config.shared_group) and config.protocol == "5"
        # a named member has a client id of its own, in a group or not: without one, the members
        # the systemd unit starts connected under one id and the broker threw each off as the
        # next came (without a group, each takes every message; check-config warns)
        own = elastic or config.member is not None
        self.client_id = client_id or (member_id(config.client_id, member=config.member) if own else config.client_id)
        self.status_topic = f"{config.status_topic}/{self.client_id}"
        self._status_prefix = f"{config.status_topic}/"
        #: our own presence and write-back messages: a field message on ``.../actions/incidents/...``
        #: elsewhere in the tree is field data (it was dropped without a word)
        self._own_prefixes = (self._status_prefix, *([actions_prefix] if actions_prefix else []))
        if not config.topics:  # the config names them after the city; an empty list would subscribe to nothing
            raise ValueError("MQTT feed has no topics to subscribe to")
        self._filters = subscription_filters(config.topics, config.shared_group)
        self.sink = sink
        self.stats = FeedStats(name)
        self.pipeline = Pipeline(normalizer, sink, self.stats, dead_letter_excerpt)
        self._v5 = config.protocol == "5"
        self._max_packet_bytes = max_packet_bytes  # MQTT 5 only: under 3.1.1 the broker's own limit holds
        self._flush_every_s = flush_every_s
        self._ready = threading.Event()
        self._halt = threading.Event()
        self._stopping = False
        self._unreachable_told = False  # said once per outage that the broker does not answer
        self._subscribe_mid: int | None = None
        self._store_lock = threading.Lock()
        self._store_failing = False
        self._store_failures = 0
        self._drop_at = 0.0
        self._dropped_for_store = False  # the next disconnect is ours, for the store's sake
        self._housekeeper: threading.Thread | None = None
        self._ahead: dict[int, tuple[mqtt.MQTTMessage, Event | Rejected]] = {}  # ``_decode_turn``
        self._client = self._make_client()
        self.membership: Membership | None = None
        if elastic and members is not None:
            self.membership = Membership(
                members,
                feed=name,
                member=self.client_id,
                group=str(config.shared_group),
                heartbeat_s=config.heartbeat_s,
                snapshot=self.stats.snapshot,
                drain=self.drain_session,
            )

    # -- set-up ---------------------------------------------------------------------------

    def _make_client(self) -> ReadAheadClient:
        hold_s, gather_s = self.config.hold_ms / 1000, self.config.gather_ms / 1000
        client = self._bare_client(
            self.client_id,
            ack_window=AckWindow(hold_s) if hold_s else None,
            gather=Gather(gather_s, urgent_marks(CRITICAL_WORDS)) if gather_s else None,
        )
        client.will_set(self.status_topic, "offline", qos=1, retain=True)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_turn = self._decode_turn
        return client

    def _bare_client(
        self,
        client_id: str,
        *,
        reconnect: bool = True,
        ack_window: AckWindow | None = None,
        gather: Gather | None = None,
    ) -> ReadAheadClient:
        """A client with this feed's protocol, credentials and TLS, and no callbacks yet."""
        client = ReadAheadClient(
            CallbackAPIVersion.VERSION2,
            ack_window=ack_window,
            gather=gather,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if self._v5 else mqtt.MQTTv311,
            clean_session=None if self._v5 else False,
            manual_ack=True,
            reconnect_on_failure=reconnect,
        )
        username = self.config.username or self.endpoint.username
        password = self.config.password or self.endpoint.password
        if username:
            client.username_pw_set(username, password)
        tls = self.config.tls
        if tls is not None or self.endpoint.tls:
            client.tls_set_context(
                tls_context(
                    tls.ca_file if tls else None,
                    tls.cert_file if tls else None,
                    tls.key_file if tls else None,
                    tls.insecure if tls else False,
                )
            )
            if tls is not None and tls.insecure:
                client.tls_insecure_set(True)
        return client

    def _connect_properties(self) -> Properties | None:
        if not self._v5:
            return None
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        if self._max_packet_bytes is not None:
            props.MaximumPacketSize = self._max_packet_bytes
        return props

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is down now is retried with backoff."""
        self._client.connect_async(
            self.endpoint.host,
            self.endpoint.port,
            keepalive=self.config.keepalive_s,
            clean_start=False if self._v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        self._housekeeper = threading.Thread(target=self._housekeep, name=f"{self.stats.name}-health", daemon=True)
        self._housekeeper.start()
        if self.membership is not None:  # beats on its own threads: a busy message loop never silences it
            self.membership.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """True once connected *and* subscribed, i.e. once a publish would reach us."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Say "offline" (a clean disconnect suppresses the will), disconnect, flush stats.

        The session stays on the broker (its expiry is not shortened), so messages
        published while ingest is stopped are waiting when it starts again. A group member
        keeps beating until it is off the broker and only then says "left": a peer that took
        its session over earlier would kick a member that is still storing messages.
        """
        self._stopping = True
        self._halt.set()
        if self._ready.is_set():
            info = self._client.publish(self.status_topic, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.warning("%s: could not publish offline status", self.stats.name)
        self._client.disconnect()
        self._client.loop_stop()
        if self._housekeeper is not None:
            self._housekeeper.join(timeout)
        self._ready.clear()
        self.stats.disconnected("stopped")
        self._flush()
        if self.membership is not None:  # "left": the group empties this session now, not after two beats
            try:
                self.membership.stop("left")
            except Exception:
                log.warning("%s: could not record leaving the group", self.stats.name, exc_info=True)

    # -- paho callbacks (network thread) ---------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
        if reason.is_failure:
            log.warning("%s: broker refused the connection: %s", self.stats.name, reason)
            self.stats.disconnected(f"refused: {reason}")
            return
        with self._store_lock:
            self._store_failing = False
        self._unreachable_told = False
        client.publish(self.status_topic, "online", qos=1, retain=True)
        qos = self.config.qos
        _, self._subscribe_mid = client.subscribe([(topic, qos) for topic in self._filters] + [(SYS_DROPPED, 0)])
        log.info(
            "%s: connected to %s:%s (session present: %s)",
            self.stats.name,
            self.endpoint.host,
            self.endpoint.port,
            flags.session_present,
        )

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Any) -> None:
        if mid != self._subscribe_mid:
            return
        for topic, code in zip([*self._filters, SYS_DROPPED], reasons, strict=False):
            if code.is_failure and topic == SYS_DROPPED:
                log.info("%s: the broker does not share its dropped-message count", self.stats.name)
            elif code.is_failure:
                log.error("%s: broker refused subscription %r: %s", self.stats.name, topic, code)
        # Connected means subscribed: before the SUBACK a message to a fresh session is lost.
        self.stats.connected()
        self._flush()
        self._ready.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        """paho retries on its own, silently: an ingest started with its broker down said
        nothing at all. Said once per outage, not once per retry."""
        self.stats.disconnected("connect failed")
        if not self._unreachable_told and not self._stopping:
            self._unreachable_told = True
            log.warning(
                "%s: no answer from the broker at %s:%s; trying again, every 1 to 30 s",
                self.stats.name,
                self.endpoint.host,
                self.endpoint.port,
            )

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
        self._ready.clear()
        if self._stopping:
            return
        log.warning("%s: disconnected: %s", self.stats.name, reason)
        # the drop that makes the broker send again: paho names it "Unspecified error"
        said, self._dropped_for_store = (STORE_DROP_REASON if self._dropped_for_store else str(reason)), False
        self.stats.disconnected(said)
        self._flush()

    def _decode_turn(self, messages: list[mqtt.MQTTMessage]) -> None:
        """A turn's field messages decoded before the first is stored (``Pipeline.decode``
        says why); ``_on_message`` takes each one's result. Kept with the message itself, so
        no other message can be mistaken for it, and only until the next turn."""
        with self._store_lock:
            failing = self._store_failing
        ahead: dict[int, tuple[mqtt.MQTTMessage, Event | Rejected]] = {}
        if not failing:  # nothing is handled until the store is back
            for msg in messages:
                origin = _topic_of(msg)
                if origin != SYS_DROPPED and not origin.startswith(self._own_prefixes):
                    ahead[id(msg)] = (msg, self.pipeline.decode(msg.payload, origin))
        self._ahead = ahead

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        ahead = self._ahead.pop(id(msg), None)  # the entry holds ``msg``: no other object has its id
        with self._store_lock:
            failing = self._store_failing
        if failing:
            if not msg.qos:  # never sent again: lost, and counted as such rather than by nobody
                self.stats.lost()
            return  # no ack: the broker redelivers after the reconnect
        origin = _topic_of(msg)
        if origin == SYS_DROPPED:
            self._broker_dropped(msg.payload)
            if msg.qos:
                client.ack(msg.mid, msg.qos)
            return
        if origin.startswith(self._own_prefixes):
            client.ack(msg.mid, msg.qos)  # our own presence and write-back messages, caught by a broad filter
            return
        try:
            self.pipeline.handle(msg.payload, origin, ahead[1] if ahead is not None else None)
        except Exception as exc:
            self._store_failed(origin, exc)
            return
        with self._store_lock:
            self._store_failures = 0
        client.ack(msg.mid, msg.qos)

    def _broker_dropped(self, payload: bytes | bytearray) -> None:
        """The broker's own count, as a status (replaced, not added): it is the broker's total."""
        try:
            count = int(payload.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return
        self.stats.set_status("broker_dropped", count)

    # -- store failure and housekeeping ----------------------------------------------------

    def _store_failed(self, origin: str, exc: BaseException) -> None:
        """Stop acking; schedule a reconnect so the broker redelivers what we did not ack."""
        with self._store_lock:
            self._store_failing = True
            self._store_failures += 1
            delay = min(2.0 ** (self._store_failures - 1), STORE_RETRY_MAX_S)
            self._drop_at = time.monotonic() + delay
            failures = self._store_failures
        where = safe_excerpt(origin, ORIGIN_MAX)  # a topic is anyone's text: no line breaks of its own in the log
        if failures == 1:  # the cause, with its traceback, once an outage; each retry's was the same again
            log.error("%s: store failed on a message from %s; retrying in %.0f s", self.stats.name, where, delay, exc_info=exc)
            return
        log.error(
            "%s: store failed on a message from %s (%d in a row): %s; retrying in %.0f s",
            self.stats.name,
            where,
            failures,
            safe_excerpt(f"{type(exc).__name__}: {exc}", ORIGIN_MAX),
            delay,
        )

    def _housekeep(self) -> None:
        while not self._halt.wait(self._flush_every_s):
            self._flush()
            self._maybe_redeliver()

    # -- a dead member's session ---------------------------------------------------------

    def drain_session(self, client_id: str) -> int:
        """Resume ``client_id``'s session, store what it held, and delete it.

        Unsubscribes the shared filters first, so the broker routes nothing new there; the
        messages already in the session (unacknowledged and queued) come anyway. Ends when
        nothing has arrived for ``DRAIN_QUIET_S`` after the last message was *stored* (a store
        slow to answer does not look like an empty session), with a DISCONNECT that sets the
        session expiry to 0. A failing store ends it early *without* deleting the session, so
        the messages stay for a later attempt; so does losing the connection (the owner came
        back and took its session over): this client never reconnects by itself, or the two
        would take the session from each other in turn. Returns how many messages were stored.
        """
        handled = 0
        last = time.monotonic()
        connected = threading.Event()
        failed = threading.Event()
        lost = threading.Event()
        busy = threading.Event()
        present: list[bool] = []
        client = self._bare_client(client_id, reconnect=False)

        def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
            if reason.is_failure:
                failed.set()
                return
            present.append(bool(flags.session_present))
            if flags.session_present:
                c.unsubscribe(list(self._filters))
            connected.set()

        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            nonlocal handled, last
            busy.set()
            try:
                if failed.is_set():
                    return
                origin = _topic_of(msg)
                if origin != SYS_DROPPED and not origin.startswith(self._own_prefixes):
                    try:
                        self.pipeline.handle(msg.payload, origin)
                    except Exception:
                        failed.set()  # keep the session: its messages stay for the next attempt
                        return
                    handled += 1
                if msg.qos:
                    c.ack(msg.mid, msg.qos)
            finally:
                last = time.monotonic()  # quiet counts from the end of the work, not its start
                busy.clear()

        def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
            lost.set()

        client.on_connect = on_connect
        client.on_message = on_message
        client.on_disconnect = on_disconnect
        props = self._connect_properties()  # a group member's session: MQTT 5
        client.connect(
            self.endpoint.host, self.endpoint.port, keepalive=self.config.keepalive_s, clean_start=False, properties=props
        )
        client.loop_start()
        deadline = time.monotonic() + DRAIN_LIMIT_S
        try:
            if not connected.wait(30) or failed.is_set():
                raise ConnectionError(f"could not resume the session of {client_id}")
            if present and present[0]:
                while time.monotonic() < deadline and not failed.is_set() and not lost.is_set():
                    if not busy.is_set() and time.monotonic() - last >= DRAIN_QUIET_S:
                        break
                    lost.wait(0.1)
            if failed.is_set():
                raise ConnectionError(f"the store failed while emptying the session of {client_id}")
            if lost.is_set():
                raise ConnectionError(f"lost the session of {client_id} while emptying it (its owner is back?)")
            bye = Properties(PacketTypes.DISCONNECT)
            bye.SessionExpiryInterval = 0
            client.disconnect(properties=bye)
        finally:
            client.loop_stop()
        self._flush()
        return handled

    def _maybe_redeliver(self) -> None:
        """Drop the connection once per failure. Dropped again on every tick, a reconnect that
        lands on a tick before its CONNACK is read (and with it ``_on_connect``, which clears
        the failure) was dropped in turn: paho's backoff of 1, 2, 4 s kept the reconnects on the
        ticks, and a clean-clone run saw nothing redelivered for 10 s."""
        with self._store_lock:
            due = self._store_failing and time.monotonic() >= self._drop_at
            if due:
                self._drop_at = math.inf  # the next failure, on the next connection, sets it again
        if not due:
            return
        shutdown = getattr(self._client.socket(), "shutdown", None)  # no socket when not connected
        if shutdown is None:
            return
        self._dropped_for_store = True
        with contextlib.suppress(OSError):  # paho sees a lost connection and reconnects
            shutdown(socket.SHUT_RDWR)

    def _flush(self) -> None:
        self.stats.flush_or_tell(self.sink, log)


def _topic_of(msg: mqtt.MQTTMessage) -> str:
    try:
        return msg.topic
    except UnicodeDecodeError:
        return repr(msg._topic)  # brokers should refuse these; never let one stop the feed
