"""How pages stay current: pushed over a websocket, with a versioned poll as the fallback.

Push. Each open page runs one persistent websocket callback. It waits for the store to
change and sends, as ``set_props`` messages in one batch, only the live parts of *this*
page whose view changed, lists as keyed deltas from what the page shows
(``layouts.live_parts``). Nothing goes back and forth per panel, so a change reaches the
screen in one server-to-browser hop. Changes closer together than ``MIN_GAP_S`` are
coalesced, and a new batch waits until the browser has applied the last one: under heavy
traffic a page gets fewer updates, always the newest state. Feed health and freshness change
without a new version, so the loop also wakes every ``HEARTBEAT_S``.

The push callback has no input, which is what Dash starts again on its own when the page's
websocket reconnects; and when the poll finds the push behind, the page nudges Dash to
reconnect (``assets/citywall.js``), since Dash gives up after ten tries. So a kiosk behind a
restarted proxy or server gets its push back without a reload.

Poll. Every page also holds ``cw-version``; a light callback compares it with the store's
version every ``poll_ms`` and panels re-render over HTTP when it changed. That path serves
browsers where the websocket is blocked. The push marks the version it delivered in
``cw-pushed``, which nothing listens to, so where the push works the poll finds nothing new
and costs one small request. A poll that lands between a change and its push does not race
the push: once a page has had a push, the poll waits a tick for it and takes over only if the
push delivered nothing in that tick (``cw-lag`` holds what the push had delivered then).

Freshness (age and stale state) is computed in the browser once a second from the last
freshness the server sent, so a panel turns stale by itself when the feed or the server goes
quiet, and clears as soon as fresh data arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update, set_props
from dash.exceptions import PreventUpdate

from layouts.frame import live_ids
from layouts.live_parts import LiveParts
from layouts.ports import CityReader, ViewSettings

MIN_GAP_S = 0.025
#: Added to the gap between two batches for every pushing page of this worker: see ``frame_gap``.
PER_CONNECTION_GAP_S = 0.002
HEARTBEAT_S = 2.0
PARTS_CHECK_S = 10.0
#: Poll ticks a new page leaves to its push before the poll fills it instead: where the
#: websocket is blocked the first content comes this much later, where it works the poll
#: never races the push's first delivery.
PUSH_GRACE_TICKS = 3


def live_components(settings: ViewSettings) -> html.Div:
    return html.Div(
        [
            dcc.Interval(id="cw-tick", interval=settings.poll_ms),
            dcc.Interval(id="cw-second", interval=1_000),
            dcc.Interval(id="cw-beat-tick", interval=settings.heartbeat_s * 1_000),
            dcc.Store(id="cw-beat", data=None),
            dcc.Store(id="cw-version", data=-1),
            dcc.Store(id="cw-pushed", data=-1),
            dcc.Store(id="cw-lag", data=None),
            dcc.Store(id="cw-fresh", data=None),
            dcc.Store(id="cw-resend", data=0),
            dcc.Store(id="cw-nudged", data=0),
            dcc.Store(id="cw-settings", data={"stale_after_s": settings.stale_after_s, "reload_at": settings.reload_at,
                                                "timezone": settings.timezone, "language": settings.language,
                                                "timezone_label": settings.timezone_label}),
        ],
        style={"display": "none"},
    )


def page_parts(content: Any) -> html.Div:
    """The live parts a page holds, so its push loop knows what to render for it; and a flag
    the poll finds by pattern (absent on pages without live parts, such as the tablet)."""
    return html.Div([dcc.Store(id="cw-parts", data=sorted(set(_live_parts_in(content)))),
                     dcc.Store(id=PARTS_FLAG, data=True)], style={"display": "none"})


#: Present only on pages with live parts: there the poll leaves the first ticks to the push.
PARTS_FLAG = {"role": "cw-has-parts", "page": "this"}


def _live_parts_in(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _live_parts_in(child)
        return
    ident = getattr(node, "id", None)
    if isinstance(ident, dict) and str(ident.get("role", "")).endswith("-content"):
        yield ident["role"].removesuffix("-content"), ident["instance"]
    yield from _live_parts_in(getattr(node, "children", None) or [])


def register(app: Dash, live: LiveParts, push: bool = True, on_beat: Callable[[Any], None] | None = None) -> None:
    """The poll and the browser-side freshness always; the websocket push when ``push``.

    ``on_beat`` receives each page's heartbeat (``assets/heartbeat.js``), which rides on the
    poll every page runs anyway: a screen that stops polling stops beating."""
    reader = live.reader
    app.clientside_callback(
        ClientsideFunction(namespace="citywall_beat", function_name="beat"),
        Output("cw-beat", "data"),
        Input("cw-beat-tick", "n_intervals"),
        State("cw-pushed", "data"),
        State("cw-version", "data"),
    )

    @app.callback(
        Output("cw-version", "data"),
        Output("cw-fresh", "data"),
        Output("cw-lag", "data"),
        Input("cw-tick", "n_intervals"),
        State("cw-version", "data"),
        State("cw-pushed", "data"),
        State("cw-lag", "data"),
        State("cw-beat", "data"),
        State({"role": "cw-has-parts", "page": ALL}, "data"),
    )
    async def _poll(ticks: int | None, known: int | None, pushed: int | None, lag: int | None,
                    beat: Any = None, has_parts: list[Any] | None = None) -> tuple[Any, Any, Any]:
        if on_beat is not None and beat is not None:
            on_beat(beat)
        if push and has_parts and (pushed is None or pushed < 0) and (ticks or 0) < PUSH_GRACE_TICKS:
            return no_update, no_update, no_update  # a new page: its push is on its way
        # Dash runs callbacks on the event loop: store I/O goes to a thread, or one slow
        # Redis answer would hold up every page and /healthz of this worker
        version = await asyncio.to_thread(reader.version)
        if version in (known, pushed):
            return no_update, no_update, no_update
        if push_keeps_up(pushed, lag):
            return no_update, no_update, pushed  # give the push one tick to deliver it
        return version, freshness_message(await asyncio.to_thread(reader.picture)), pushed

    # The push falling behind (cw-lag moved) nudges the websocket: see assets/citywall.js
    app.clientside_callback(
        ClientsideFunction(namespace="citywall", function_name="reconnect"),
        Output("cw-nudged", "data"),
        Input("cw-lag", "data"),
        prevent_initial_call=True,
    )

    if push:
        known = known_parts(live)
        looping: set[int] = set()
        shared = SharedPicture(reader)

        # No input: Dash starts such a callback with the page, and starts it again whenever
        # its websocket comes back (a server, proxy or network restart), so the push resumes.
        @app.callback(websocket=True, persistent=True)
        async def _push() -> None:
            websocket = ctx.websocket
            if websocket is None or id(websocket) in looping:
                raise PreventUpdate  # one push loop per connection, however often a client asks
            looping.add(id(websocket))
            try:
                await _push_loop(websocket, live, known, shared, lambda: len(looping))
            finally:
                looping.discard(id(websocket))
            raise PreventUpdate

    app.clientside_callback(
        ClientsideFunction(namespace="citywall", function_name="freshness"),
        Output({"role": "frame", "panel": ALL, "family": ALL, "instance": ALL}, "data-stale"),
        Output({"role": "frame", "panel": ALL, "family": ALL, "instance": ALL}, "data-updated-at"),
        Input("cw-second", "n_intervals"),
        Input("cw-fresh", "data"),
        State("cw-settings", "data"),
    )


def push_keeps_up(pushed: int | None, lag: int | None) -> bool:
    """Whether the push works on this page: it has delivered, and has moved since the last tick.

    ``lag`` is what the push had delivered when a poll last found the page behind (``None``
    before that). Equality, not order: a Redis restarted without persistence counts its
    versions from zero again.
    """
    if pushed is None or pushed < 0:
        return False  # no push has ever arrived: the poll is this page's only path
    return lag is None or pushed != lag


def known_parts(live: LiveParts) -> frozenset[tuple[str, str]]:
    """Every live part some page holds: all a connection may ask to be sent.

    The browser says which parts its page holds; a client that lies can then ask for no
    more than the whole wall, and never for made-up copies of a part."""
    found: set[tuple[str, str]] = set()
    for page in dash.page_registry.values():
        layout = page["layout"]
        if not callable(layout):
            found.update(_live_parts_in(layout))
        elif "<n>" in (page.get("path_template") or ""):
            for n in range(1, live.settings.wall.screen_count + 1):
                found.update(_live_parts_in(layout(n=str(n))))
        else:
            found.update(_live_parts_in(layout()))
    return frozenset(p for p in found if p[0] in live.parts)


class SharedPicture:
    """One picture read at a time for all push loops of a process; loops that ask while a read
    is running wait for that one. A thousand open pages each reading the store in a thread of
    their own queued behind one another for tens of seconds."""

    def __init__(self, reader: CityReader) -> None:
        self.reader = reader
        self._task: asyncio.Future[dict[str, Any]] | None = None

    async def get(self) -> dict[str, Any]:
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._task = asyncio.ensure_future(asyncio.to_thread(self.reader.picture))
        return await asyncio.shield(task)


async def _push_loop(websocket: Any, live: LiveParts, known: frozenset[tuple[str, str]] | None = None,
                     shared: SharedPicture | None = None, connections: Callable[[], int] = lambda: 1) -> None:
    """Until the page goes away: wait for a change, send what changed for this page.

    The loop runs on the connection, not the page: a side task asks the browser which live
    parts the page holds (``cw-parts``) now and then, so a page change is followed, and a
    browser busy rendering never holds up the next push.
    """
    reader = live.reader
    page = _PageParts(live, known)
    watcher = asyncio.create_task(page.follow(websocket))
    shown: dict[tuple[str, str], str] = {}
    fresh_sent: Any = None
    version = pushed = -1
    try:
        while not websocket.is_shutdown:
            if page.changed:
                page.changed, shown, pushed = False, {}, -1
            try:
                # a Redis store answers over the network: read off the loop, once for all pages
                picture = await (shared.get() if shared is not None else asyncio.to_thread(reader.picture))
            except Exception:  # the store is away: keep what the page shows, it turns stale by itself
                await asyncio.sleep(HEARTBEAT_S)
                continue
            version = picture.get("version", version)
            # text first: what an operator reads goes out before the figures are even rendered
            sent = push_changes(picture, live, page.text_parts, shown)
            if sent and page.figure_parts:
                await _applied(websocket)  # the browser has drawn the text before a figure's redraw can hold it up
            sent += push_changes(picture, live, page.figure_parts, shown)
            if page.parts and version != pushed:
                pushed = version
                set_props("cw-pushed", {"data": version})
            families = picture.get("freshness")
            if families != fresh_sent:
                fresh_sent = families
                set_props("cw-fresh", {"data": freshness_message(picture)})
            last = time.monotonic()
            if sent:
                await _applied(websocket)
            await reader.changed(version, HEARTBEAT_S if page.parts else 0.05)  # a new page: its parts come soon
            gap = frame_gap(connections()) - (time.monotonic() - last)
            if gap > 0:
                await asyncio.sleep(gap)
    finally:
        watcher.cancel()


def frame_gap(connections: int) -> float:
    """The shortest time between two batches to one page, longer as more pages are open.

    Every open page costs the server the encoding of each part it is sent, so a worker with
    hundreds of pushing pages (a misbehaving client, or far more screens than one worker
    should carry) gives each fewer, newer frames instead of falling behind everywhere,
    ``/healthz`` included. A wall's 24 screens and a few consoles keep 25 to 60 ms."""
    return max(MIN_GAP_S, connections * PER_CONNECTION_GAP_S)


async def _applied(websocket: Any) -> None:
    """Back-pressure: wait until the browser has worked through what was sent.

    The browser answers a property request only after the updates queued before it, so a
    page that renders slower than the city changes gets fewer, newer updates instead of a
    growing backlog that keeps its main thread busy for ever.
    """
    with contextlib.suppress(TimeoutError):
        await websocket.get_prop("cw-pushed", "data", timeout=10.0)


class _PageParts:
    """The live parts of the page on the other end of one websocket, kept current on the side.

    It also follows ``cw-resend``, which the page bumps when a delta did not fit what it shows
    (``assets/html_tree.js``): the next round then sends every part whole."""

    def __init__(self, live: LiveParts, known: frozenset[tuple[str, str]] | None = None) -> None:
        self.live = live
        self.known_parts = known
        self.parts: list[tuple[str, str]] = []
        self.text_parts: list[tuple[str, str]] = []
        self.figure_parts: list[tuple[str, str]] = []
        self.changed = False
        self._known: Any = None
        self._resend: Any = None

    async def follow(self, websocket: Any) -> None:
        while not websocket.is_shutdown:
            try:
                current, resend = await asyncio.gather(websocket.get_prop("cw-parts", "data", timeout=10.0),
                                                       websocket.get_prop("cw-resend", "data", timeout=10.0))
            except TimeoutError:  # the browser is busy: keep what we have, ask again later
                current, resend = self._known, self._resend
            except Exception:  # the connection went away: the push loop ends with it
                return
            if current != self._known or resend != self._resend:
                self._known, self._resend = current, resend
                self.parts = self._allowed(current)
                self.text_parts = [p for p in self.parts if self.live.parts[p[0]].is_tree]
                self.figure_parts = [p for p in self.parts if not self.live.parts[p[0]].is_tree]
                self.changed = True
            await asyncio.sleep(0.05 if not self.parts else PARTS_CHECK_S)

    def _allowed(self, claimed: Any) -> list[tuple[str, str]]:
        """The claimed parts that exist on some page, each once, in the order given."""
        if not isinstance(claimed, list):
            return []
        parts: dict[tuple[str, str], None] = {}
        for item in claimed[:1_000]:
            if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
                continue
            part = (item[0], item[1])
            if part[0] in self.live.parts and (self.known_parts is None or part in self.known_parts):
                parts[part] = None
        return list(parts)


def push_changes(picture: dict[str, Any], live: LiveParts, parts: list[tuple[str, str]],
                 shown: dict[tuple[str, str], str]) -> int:
    """Send each part whose view changed since this page last got it; return how many went.

    A part's view is computed once per change of what it reads, its update once per process
    however many pages show it, and a list goes as a keyed delta from what this page shows.
    """
    sent = 0
    for role, instance in parts:
        _, digest = live.view(role, picture)
        before = shown.get((role, instance))
        if before == digest:
            continue
        props, size = live.update_size(role, digest, before)
        content_id, sig_id = live_ids(role, instance)
        set_props(content_id, {live.parts[role].target: props})
        set_props(sig_id, {"data": digest})  # what the copy shows, so the poll's callback leaves it alone
        live.stats.bytes += size
        shown[(role, instance)] = digest
        sent += 1
    if sent:
        live.stats.batches += 1
        live.stats.parts += sent
    return sent


def freshness_message(picture: dict[str, Any]) -> dict[str, Any]:
    """What the browser needs to age each family on its own: the server's clock and the last times."""
    return {"server_now": time.time(), "families": picture.get("freshness", {})}
