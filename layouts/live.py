"""How pages stay current: pushed over a websocket, with a versioned poll as the fallback.

Push (``layouts.push``). Each open page keeps one websocket of its own and gets frames of the
parts whose view changed, lists as keyed deltas from what it shows. The page's script
(``assets/push.js``) reconnects by itself, for ever, so a kiosk behind a restarted server or
proxy gets its push back without a reload.

Poll. Every page also holds ``cw-version``; a light callback compares it with the store's
version every ``poll_ms`` and panels re-render over HTTP when it changed. That path serves
browsers where the websocket is blocked. The push marks the version it delivered in
``cw-pushed``, which nothing listens to, so where the push works the poll finds nothing new
and costs one small request. A poll that lands between a change and its push does not race
the push: once a page has had a push, the poll waits a tick for it and takes over only if the
push delivered nothing in that tick (``cw-lag`` holds what the push had delivered then).
While the push delivers, the poll slows to ``pushed_poll_ms`` (``assets/push.js`` sets the
interval), and it is back to ``poll_ms`` as soon as the socket drops.

Freshness (age and stale state) is computed in the browser once a second from the last
freshness the server sent, so a panel turns stale by itself when the feed or the server goes
quiet, and clears as soon as fresh data arrives.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from starlette.websockets import WebSocket

from layouts.live_parts import LiveParts
from layouts.picture import CityPicture, plain
from layouts.ports import ViewSettings
from layouts.push import PUSH_OFF_CODE, PUSH_PATH, Pusher
from layouts.routing import Pages
from layouts.tree import attrs

#: Poll ticks a new page leaves to its push before the poll fills it instead: where the
#: websocket is blocked the first content comes this much later, where it works the poll
#: never races the push's first delivery.
PUSH_GRACE_TICKS = 3


def live_components(settings: ViewSettings) -> html.Div:
    """The poll's interval and stores; the poll's two paces ride along for ``assets/push.js``."""
    return html.Div(
        [
            dcc.Interval(id="cw-tick", interval=settings.poll_ms),
            dcc.Interval(id="cw-beat-tick", interval=settings.heartbeat_s * 1_000),
            dcc.Store(id="cw-beat", data=None),
            dcc.Store(id="cw-version", data=-1),
            dcc.Store(id="cw-pushed", data=-1),
            dcc.Store(id="cw-lag", data=None),
            dcc.Store(id="cw-fresh", data=None),
            dcc.Store(id="cw-fresh-taken", data=None),
            dcc.Store(id="cw-nudged", data=0),
            dcc.Store(
                id="cw-settings",
                data={
                    "stale_after_s": settings.stale_after_s,
                    "reload_at": settings.reload_at,
                    "timezone": settings.timezone,
                    "language": settings.language,
                    "timezone_label": settings.timezone_label,
                },
            ),
        ],
        style={"display": "none"},
        **attrs({"data-cw-poll-ms": str(settings.poll_ms), "data-cw-poll-pushed-ms": str(pushed_poll_ms(settings))}),
    )


def pushed_poll_ms(settings: ViewSettings) -> int:
    """The poll's pace while the push delivers: every half heartbeat, since the heartbeat rides
    on the poll (a screen is taken for silent after two heartbeats without a report).

    Each tick and the writes it reads cost a page a pass of Dash's renderer over all its
    components; on the full wall those passes were the largest cost left besides the frames.
    The push's own watch (``assets/push.js``) replaces a silent socket, and the poll comes back
    to ``poll_ms`` the moment the socket drops."""
    return max(settings.poll_ms, settings.heartbeat_s * 1_000 // 2)


def page_parts(content: Any) -> html.Div:
    """The live parts a page holds, so its push loop knows what to render for it; and a flag
    the poll finds by pattern (absent on pages without live parts, such as the tablet)."""
    parts = sorted(set(_live_parts_in(content)))
    return html.Div(
        [dcc.Store(id=PARTS_FLAG, data=True)],
        style={"display": "none"},
        **attrs({"data-cw-parts": json.dumps(parts, separators=(",", ":"))}),
    )


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


def register(
    app: Dash,
    live: LiveParts,
    pages: Pages,
    push: bool = True,
    on_beat: Callable[[Any], None] | None = None,
    may_show: Callable[[str], bool] = lambda path: True,
) -> None:
    """The poll and the browser-side freshness always; the websocket push when ``push``.

    ``may_show(path)``: whether the caller may show the page at ``path``; a live part goes,
    by poll or push, only to a caller who may show some page that holds it.

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
    async def _poll(
        ticks: int | None,
        known: int | None,
        pushed: int | None,
        lag: int | None,
        beat: Any = None,
        has_parts: list[Any] | None = None,
    ) -> tuple[Any, Any, Any]:
        # Dash runs callbacks on the event loop: store I/O goes to a thread, or one slow
        # Redis answer would hold up every page and /healthz of this worker (the heartbeat's
        # write did, 5-15 s a request with Redis down and three pages open)
        if on_beat is not None and beat is not None:
            await asyncio.to_thread(on_beat, beat)
        if push and has_parts and (pushed is None or pushed < 0) and (ticks or 0) < PUSH_GRACE_TICKS:
            return no_update, no_update, no_update  # a new page: its push is on its way
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

    known = part_pages(live, pages)
    live.copies = dict(Counter(role for role, _ in known))
    for (role, _), paths in known.items():
        live.pages_of[role] = live.pages_of.get(role, frozenset()) | paths
    live.may_show = may_show
    pusher = Pusher(live, known, freshness_message)
    # without the push the route still answers, so the page's script knows to stop trying
    app.server.add_api_websocket_route(PUSH_PATH, pusher.serve if push else push_off)

    # The frames' freshness is written by assets/citywall.js itself, once a second and from
    # each freshness message: the push hands it its own; the poll's come through cw-fresh.
    app.clientside_callback(
        ClientsideFunction(namespace="citywall", function_name="fresh"),
        Output("cw-fresh-taken", "data"),
        Input("cw-fresh", "data"),
        State("cw-settings", "data"),
    )


async def push_off(websocket: WebSocket) -> None:
    """The push is switched off (``server.websocket: false``): say so, and the page stops asking."""
    await websocket.accept()
    await websocket.close(code=PUSH_OFF_CODE)


def push_keeps_up(pushed: int | None, lag: int | None) -> bool:
    """Whether the push works on this page: it has delivered, and has moved since the last tick.

    ``lag`` is what the push had delivered when a poll last found the page behind (``None``
    before that). Equality, not order: a Redis restarted without persistence counts its
    versions from zero again.
    """
    if pushed is None or pushed < 0:
        return False  # no push has ever arrived: the poll is this page's only path
    return lag is None or pushed != lag


def part_pages(live: LiveParts, pages: Pages) -> dict[tuple[str, str], frozenset[str]]:
    """Every live part some page of this app holds, under any wall preset, with the paths of
    those pages: all a connection may ask to be sent, and what a kiosk token scoped to some
    pages may see. Laid out with the default preset only, the panels a preset puts on a
    screen were refused to every page, and stayed empty under their titles.

    The browser says which parts its page holds; a client that lies can then ask for no
    more than the whole wall, and never for made-up copies of a part."""
    found: dict[tuple[str, str], set[str]] = {}
    presets = [{}, *({"preset": name} for name in live.settings.presets)]  # a preset's panels are parts of their own
    for page in pages:
        if "n" in page.variables:
            laid = [
                (page.path.replace("<n>", str(n)), page.layout(n=str(n), **preset))
                for n in range(1, live.settings.wall.screen_count + 1)
                for preset in presets
            ]
        else:
            laid = [(page.path, page.layout(**preset)) for preset in presets]
        for path, layout in laid:
            for part in _live_parts_in(layout):
                if part[0] in live.parts:
                    found.setdefault(part, set()).add(path)
    return {part: frozenset(paths) for part, paths in found.items()}


def freshness_message(picture: CityPicture) -> dict[str, Any]:
    """What the browser needs to age each family on its own: the server's clock and the last times."""
    return {"server_now": time.time(), "families": plain(picture.freshness)}
