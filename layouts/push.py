"""The push: one websocket per open page, carrying only what changed for that page.

A page opens ``PUSH_PATH`` (``assets/push.js``) and says which live parts it holds; the server
then sends it *frames*, each the newest state of the parts whose view changed since the page's
last frame:

    {"v": version, "u": [[content_role, instance, prop, value, digest], ...], "f": freshness,
     "s": [[content_role, instance, digest], ...] or null}

``value`` is what ``LiveParts`` rendered (a tree or a keyed delta from the tree the page shows,
or a figure ``Patch``), encoded once per process however many pages show it: a frame is
those bytes joined, so one more page costs the server a join and a send, not an encoding of
every part. The browser hands trees straight to their ``HtmlTree`` and figures to Dash.

The page answers each frame (``{"ack": version}``) once it has applied it, and the next frame
waits for that answer: a page that renders slower than the city changes gets fewer, newer
frames instead of a backlog. Text goes first: when figures changed too, they follow in a
frame of their own once the text is on screen, and at most every two seconds
(``FIGURE_EVERY_S``).
Paced text parts (what moves with nearly every message of a busy feed: the MPP's queues, the
gauges, the waste sites, the counts of the map and of the incident queue, the lesser rows of
the queue and of the map's most severe list, the ticker's flow) go with the text, but at most
once a second (``PACED_EVERY_S``) once a short burst (``PACED_BURST``) is spent; the critical
rows of the queue, the map's list and the ticker, and everything else, go with every frame.
When a change moves a part that is not paced on a page already drawn, and the paced ones are
due, it goes in a frame of its own before the paced ones are worked out. In a quiet city the
paced parts are due with nearly every change, and a new critical incident's frame waited for
them: with a cold cache, 0.96-1.24 ms of work before `/screen/4`'s frame instead of 0.68-0.75
(``bench/README.md``). Whether the paced parts (or the figures) may have moved is told by the
picture's version and second alone: asked of their views, it built the sections they read, the
incidents' two hundred rows among them, at every look.
Frames to one page are at least ``frame_gap`` apart, and up to ``QUIET_GAP_MAX_S`` while none
of its text moves; an urgent change (an open critical incident, ``StateStore.urgent_changes``)
sends the next one at once, once per gap at most.

About every heartbeat a frame also says, in ``s``, the digest of every text part the server
believes the page shows. The page compares them with what it draws and asks for everything
again on any difference: whatever race made it draw an older tree (the layout's own content
taken again over a pushed one), a part that then never changes again is put right within a
heartbeat, not left wrong for the weeks a kiosk runs.

The browser reconnects by itself, for ever, with a growing pause; so a kiosk behind a
restarted server or proxy gets its push back without a reload. The route sits behind the
same guard, origin check and connection limits as every other route (``dashboard.app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import CityReader

PUSH_PATH = "/_citywall/push"
#: The close code that tells a page the push is switched off: it does not reconnect.
PUSH_OFF_CODE = 4000
#: The shortest gap between two frames to one page: twenty a second. An urgent change (an open
#: critical incident) does not wait for it (``_Page._pause``). Under 500 new Alerts/s, 50 ms
#: instead of 25 halves the frames a page may get and took 3-4 points of a core off the server,
#: and the critical trial Alerts showed no later (``bench/README.md``).
MIN_GAP_S = 0.05
#: Added to the gap between two frames for every pushing page of this worker: see ``frame_gap``.
PER_CONNECTION_GAP_S = 0.002
#: A page whose last frames had no text for it waits longer for its next look, the gap doubling
#: up to this. Under 500 lesser Alerts/s, ``/screen/4``'s only part that is neither paced nor
#: a figure (the queue's critical rows) never moved, yet the page read the picture and its
#: parts twenty times a second to send something four times. An urgent change still cuts the
#: wait short, and a page that was sent text is back at the frame gap.
QUIET_GAP_MAX_S = 0.25
HEARTBEAT_S = 2.0
#: A version none of a page's parts shows goes to it at most this often (see ``_Page.push``).
VERSION_EVERY_S = 0.25
#: A figure (the map, a chart) goes to a page at most this often; text goes with every frame.
#: Redrawing the map takes the full wall's browser 60-120 ms (at 500 changes a second it was
#: once redrawn with every frame). Once a second, a new Alert's frame still landed behind a
#: redraw often enough to set the wall's p95 (119-134 ms against 81-92 at two seconds); the
#: critical rows of the map's most severe list beside it are text and show a new critical
#: incident at once.
FIGURE_EVERY_S = 2.0
#: A paced text part (``LivePart.paced``: the MPP's queues, the gauges, the map's counts, the
#: queue's counts, the lesser rows of the queue and of the map's most severe list, the
#: ticker's flow) goes to a page at most this often. Under the simulator's mix their numbers
#: changed with nearly every frame: 97 % of the full wall's DOM changes, each frame's text
#: laid out and painted again, with a new Alert's frame waiting behind them. A critical
#: incident does not wait for them: what shows it at once (the critical rows of the queue, the
#: ticker and the map's most severe list) is not paced, and sending the paced parts with every
#: critical trial Alert made the full wall's frames for it bigger and its p50 3-4 ms longer.
PACED_EVERY_S = 1.0
#: Paced parts may go this many times in a row before ``PACED_EVERY_S`` holds them back, one
#: more earned every ``PACED_EVERY_S`` (a token bucket). A busy feed spends the burst within a
#: few frames and is paced as before; a quiet city's changes, such as an operator who
#: acknowledges an incident and assigns it a moment later, show at once. Without it, the
#: assignment's row waited for the rest of the second the acknowledgement had started.
PACED_BURST = 3
ACK_TIMEOUT_S = 10.0
#: A page may ask for everything again (``resend``, or a claim of other parts) at most this
#: often; an ask within it is kept and answered when it ends. Each ask sends every part the
#: page holds, figures and paced parts included: asked with every answer, a page could make
#: the server send it its whole claim twenty times a second.
RESEND_EVERY_S = HEARTBEAT_S
#: A page says which parts it holds and acknowledges frames: nothing it sends is bigger.
MAX_MESSAGE_BYTES = 64 * 1024
MAX_CLAIMED_PARTS = 1_000
#: A page sends an answer per frame (twenty a second at most, a few more with urgent ones) and
#: a claim when its parts change; past this rate, after a burst, it is not a page: the socket
#: is closed (1008). Twenty clients sending claims of a thousand parts in a loop slowed the
#: whole worker, its /healthz to 4-6 s; a page closed this way reconnects and claims again.
MESSAGES_PER_S = 40.0
MESSAGE_BURST = 120.0


def frame_gap(connections: int) -> float:
    """The shortest time between two frames to one page, longer as more pages are open.

    A worker with hundreds of pushing pages (a misbehaving client, or far more screens than
    one worker should carry) gives each fewer, newer frames instead of falling behind
    everywhere, ``/healthz`` included. A wall's 24 screens and a few consoles keep 50 to 60 ms."""
    return max(MIN_GAP_S, connections * PER_CONNECTION_GAP_S)


class SharedPicture:
    """One picture read at a time for all pushes of a process; those that ask while a read is
    running wait for that one. A thousand open pages each reading the store in a thread of
    their own queued behind one another for tens of seconds.

    A reader whose reads never wait (``reads_block`` false: the city in this process's
    memory) is read on the event loop itself, for a read of well under a millisecond: the
    trip to a thread and back cost a change two more wake-ups on its way to the screen. Such a
    read runs to its end before any other page's coroutine does, so there is none to share."""

    def __init__(self, reader: CityReader) -> None:
        self.reader = reader
        self.in_thread = getattr(reader, "reads_block", True)
        self._task: asyncio.Future[CityPicture] | None = None

    async def get(self) -> CityPicture:
        if not self.in_thread:
            return self.reader.picture()
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._task = asyncio.ensure_future(asyncio.to_thread(self.reader.picture))
        return await asyncio.shield(task)


@dataclass
class TokenBucket:
    """Sends a page may have: ``per_s`` earned a second, up to ``burst``, full at the start."""

    per_s: float
    burst: float
    tokens: float = field(init=False)
    counted_at: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def level(self, now: float) -> float:
        """Those left, plus those earned since they were last counted."""
        self.tokens = min(self.burst, self.tokens + (now - self.counted_at) * self.per_s)
        self.counted_at = now
        return self.tokens

    def take(self, now: float) -> bool:
        """One spent, if one is left."""
        if self.level(now) < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Pusher:
    """The push side of one app: the known parts, the shared picture read, the open pages."""

    def __init__(
        self,
        live: LiveParts,
        known: Mapping[tuple[str, str], frozenset[str]],
        freshness: Callable[[CityPicture], dict[str, Any]],
    ) -> None:
        self.live = live
        self.known = known
        self.freshness = freshness
        self.shared = SharedPicture(live.reader)
        self.open = 0

    async def serve(self, websocket: WebSocket) -> None:
        """The route: accept, then push to this page until it goes away."""
        await websocket.accept()
        self.open += 1
        page = _Page(self, websocket)
        listener = asyncio.create_task(page.listen())
        try:
            await page.push(listener)
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            pass  # the page went away mid-send
        finally:
            self.open -= 1
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener

    def allowed(self, claimed: Any) -> list[tuple[str, str]]:
        """The claimed parts that exist on some page the caller may show (``known`` holds each
        part's pages), each once, in the order given: a client that lies can ask for no more
        than its pages hold, never for made-up copies."""
        if not isinstance(claimed, list):
            return []
        parts: dict[tuple[str, str], None] = {}
        for item in claimed[:MAX_CLAIMED_PARTS]:
            if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
                part = (item[0], item[1])
                pages = self.known.get(part)
                if pages is not None and any(self.live.may_show(path) for path in pages):
                    parts[part] = None
        return list(parts)


class _Page:
    """One open page: what it holds, what it was last sent, and its answers."""

    def __init__(self, pusher: Pusher, websocket: WebSocket) -> None:
        self.pusher = pusher
        self.websocket = websocket
        self.text_parts: list[tuple[str, str]] = []
        self.paced_parts: list[tuple[str, str]] = []
        self.figure_parts: list[tuple[str, str]] = []
        self.shown: dict[tuple[str, str], str] = {}
        self.figures_at = 0.0  # time.monotonic() of the last figures sent (``FIGURE_EVERY_S``)
        #: The (version, second) of the picture the paced parts, and the figures, were last worked
        #: out from: until the picture moves on they are as sent, known without working any out
        self.paced_seen: tuple[int, str | None] | None = None
        self.figures_seen: tuple[int, str | None] | None = None
        self.early_at = -math.inf  # and of the last frame an urgent change sent early
        self.paced = TokenBucket(1.0 / PACED_EVERY_S, float(PACED_BURST))  # paced sends (``PACED_BURST``)
        self.quiet = 0  # looks in a row that found no text to send (``QUIET_GAP_MAX_S``)
        self.restarted_at = -math.inf  # time.monotonic() of the last ask for everything answered
        self.restart_later: asyncio.TimerHandle | None = None  # an ask kept for the end of the gap
        self.wake = asyncio.Event()
        self.answered = asyncio.Event()
        self.claimed = asyncio.Event()
        self.messages = TokenBucket(MESSAGES_PER_S, MESSAGE_BURST)  # what the page may send us

    async def listen(self) -> None:
        """The page's messages: which parts it holds, its answers, and asks to resend all."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                if self.restart_later is not None:
                    self.restart_later.cancel()
                self.wake.set()
                self.answered.set()
                return
            text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            if len(text) > MAX_MESSAGE_BYTES:
                await self.websocket.close(code=1009)
                return
            if not self.messages.take(time.monotonic()):  # past MESSAGES_PER_S, after MESSAGE_BURST
                await self.websocket.close(code=1008)
                return
            try:
                body = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(body, dict):
                continue
            if "parts" in body:
                self._hold(self.pusher.allowed(body["parts"]))
            if "ack" in body:
                self.answered.set()
            if body.get("resend"):
                self._start_over()

    def _hold(self, parts: list[tuple[str, str]]) -> None:
        if self.claimed.is_set() and set(parts) == {*self.text_parts, *self.paced_parts, *self.figure_parts}:
            return  # the same claim again: what the page was sent still stands
        live = self.pusher.live.parts
        self.text_parts = [p for p in parts if live[p[0]].is_tree and not live[p[0]].paced]
        self.paced_parts = [p for p in parts if live[p[0]].is_tree and live[p[0]].paced]
        self.figure_parts = [p for p in parts if not live[p[0]].is_tree]
        self.paced_seen = self.figures_seen = None  # the new ones were never worked out
        self.claimed.set()
        self._start_over()
        self.wake.set()  # newly claimed parts are not in ``shown``: they go at once either way

    def _start_over(self) -> None:
        """Everything the page holds goes again with its next frame, or, asked within
        ``RESEND_EVERY_S`` of the last time, once that has passed."""
        wait = self.restarted_at + RESEND_EVERY_S - time.monotonic()
        if wait > 0:
            if self.restart_later is None:
                self.restart_later = asyncio.get_running_loop().call_later(wait, self._start_over_later)
            return
        self.restarted_at = time.monotonic()
        self.shown, self.figures_at = {}, 0.0
        self.paced_seen = self.figures_seen = None
        self.paced.tokens = max(self.paced.level(time.monotonic()), 1.0)
        self.wake.set()

    def _start_over_later(self) -> None:
        """The kept ask, at the end of the gap. The loop's timer may fire a hair before
        ``time.monotonic()`` says the gap is over: then it is kept again, not dropped."""
        self.restart_later = None
        self._start_over()

    async def push(self, listener: asyncio.Task[None]) -> None:
        """Until the page goes away: wait for a change, send what changed for this page."""
        await _first(listener, self.claimed.wait())
        reader = self.pusher.live.reader
        version, sent_version, fresh_sent, sent_at, checked_at = -1, None, None, 0.0, 0.0
        while not listener.done():
            try:
                picture = await self.pusher.shared.get()
            except Exception:  # the store is away: the page keeps what it shows and turns stale by itself
                await _first(listener, asyncio.sleep(HEARTBEAT_S))
                continue
            version = picture.version
            seen = (version, picture.generated_at)
            fresh = picture.freshness
            last = time.monotonic()
            self.wake.clear()
            drawn = bool(self.shown)  # the page shows what it was sent, not a claim or an ask for everything
            text = self._updates(picture, self.text_parts)
            moved = bool(text)
            paced_due = self.paced.level(last) >= 1.0
            if drawn and text and paced_due and self.paced_parts and seen != self.paced_seen:  # text first (the module doc)
                first_fresh = self.pusher.freshness(picture) if fresh != fresh_sent else None
                await self._send(version, text, first_fresh)
                sent_version, fresh_sent, sent_at, text = version, fresh, last, []
            paced = self._updates(picture, self.paced_parts) if paced_due else []
            if paced_due:
                self.paced_seen = seen
            if paced:
                self.paced.tokens -= 1.0
                text += paced
                moved = True
            # A new version goes out even when none of this page's parts moved (the poll reads
            # from it that the push is alive), but such a bare number at most every
            # VERSION_EVERY_S; and something goes at least every heartbeat (the page's watchdog).
            bare_due = version != sent_version and last - sent_at >= VERSION_EVERY_S
            if text or fresh != fresh_sent or bare_due or last - sent_at >= HEARTBEAT_S:
                check = last - checked_at >= HEARTBEAT_S
                fresh_message = self.pusher.freshness(picture) if fresh != fresh_sent else None
                await self._send(version, text, fresh_message, self._shown() if check else None)
                sent_version, fresh_sent, sent_at = version, fresh, last
                checked_at = last if check else checked_at
            self.quiet = 0 if moved else min(self.quiet + 1, 8)
            # after the text is on screen: a figure's redraw must not hold the text up
            figures_due = last - self.figures_at >= FIGURE_EVERY_S
            figures = self._updates(picture, self.figure_parts) if figures_due else []
            if figures_due:
                self.figures_seen = seen
            if figures:
                self.figures_at = last
                await self._send(version, figures, None)
            # what is still owed (a bare version, a paced part or a figure not yet due) is come back for in time
            now = time.monotonic()
            owed = [VERSION_EVERY_S - (now - sent_at)] if version != sent_version else []
            if not paced_due and self.paced_parts and seen != self.paced_seen:
                owed.append((1.0 - self.paced.level(now)) * PACED_EVERY_S)
            if not figures_due and self.figure_parts and seen != self.figures_seen:
                owed.append(FIGURE_EVERY_S - (now - self.figures_at))
            waits = [reader.changed(version, HEARTBEAT_S), self.wake.wait()]
            await _first(listener, *waits, *([asyncio.sleep(max(0.0, min(owed)))] if owed else []))
            await self._pause(reader, last, listener)

    async def _pause(self, reader: CityReader, last: float, listener: asyncio.Future[None]) -> None:
        """The rest of the frame gap since ``last`` (longer after quiet looks), cut short by an
        urgent change (an open critical incident) at most once per frame gap, or by the page
        going away: a critical incident reaches the screen without waiting for the next frame,
        and a storm of them at most doubles the frames."""
        base = frame_gap(self.pusher.open)
        gap = min(base * 2**self.quiet, max(base, QUIET_GAP_MAX_S))
        now = time.monotonic()
        rest = gap - (now - last)
        if rest <= 0:
            return
        if now - self.early_at < base:
            await _first(listener, asyncio.sleep(rest))
            return
        urgent = asyncio.ensure_future(reader.urgent(last, rest))
        await _first(listener, urgent)
        if urgent.done() and not urgent.cancelled() and urgent.result():
            self.early_at = time.monotonic()

    def _updates(self, picture: CityPicture, parts: list[tuple[str, str]]) -> list[bytes]:
        """Each part whose view changed since this page last got it, as its encoded frame entry."""
        live = self.pusher.live
        out: list[bytes] = []
        for role, instance in parts:
            _, digest = live.view(role, picture)
            before = self.shown.get((role, instance))
            if before == digest:
                continue
            encoded = live.encoded_update(role, digest, before)
            out.append(
                b"[%s,%s,%s,%s,%s]"
                % (
                    orjson.dumps(f"{role}-content"),
                    orjson.dumps(instance),
                    orjson.dumps(live.parts[role].target),
                    encoded,
                    orjson.dumps(digest),
                )
            )
            self.shown[(role, instance)] = digest
        if out:
            live.stats.batches += 1
            live.stats.parts += len(out)
        return out

    def _shown(self) -> list[tuple[str, str, str]]:
        """What the page's text parts should show, by digest, for its check (see the module's doc)."""
        shown = self.shown
        return [(f"{part[0]}-content", part[1], shown[part]) for part in (*self.text_parts, *self.paced_parts) if part in shown]

    async def _send(
        self, version: int, updates: list[bytes], fresh: dict[str, Any] | None, shown: list[tuple[str, str, str]] | None = None
    ) -> None:
        frame = b'{"v":%d,"u":[%s],"f":%s,"s":%s}' % (version, b",".join(updates), orjson.dumps(fresh), orjson.dumps(shown))
        self.answered.clear()
        await self.websocket.send_text(frame.decode("utf-8"))
        self.pusher.live.stats.bytes += len(frame)
        # back-pressure: the next frame waits until the page has applied this one
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ACK_TIMEOUT_S):
                await self.answered.wait()


async def _first(listener: asyncio.Future[None], *awaitables: Any) -> None:
    """Wait for the first of ``awaitables``, or until the page has gone (its listener ended);
    the others are cancelled, so no waiter outlives its round."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait([*tasks, listener], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
