"""The live parts of the app: what each one shows, how it is drawn, and the work pages share.

Every panel part that follows the city is registered here once (``LiveParts.add``), and
both ways a page is kept current use the same registry: the websocket push
(``layouts.live``) and the versioned poll (the HTTP callback made in ``add``). The app
factory makes one registry per app, so two apps in one process never share a view.

Three kinds of sharing keep a change's cost at what changed, whatever the number of pages:

- **A view is computed once per change of what it read.** Each view reads a few sections of
  the picture; the registry records which (``_Reads``) and hands out the same view until one
  of those sections is another object (the store side rebuilds a section only when its
  kinds moved: ``dashboard.picture.Sections``) or the second turns. At 500 new incidents a
  second, the drainage panel's view is not computed again.
- **A part is rendered once per view**, for all the wall's screens.
- **A list travels as a keyed delta** (``layouts.tree.keyed_delta``): a page that shows the
  previous version of a part gets the rows that changed and references to those it has.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, cast

import orjson
from dash import ALL, Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from layouts.frame import live_ids, signature
from layouts.picture import CityPicture
from layouts.ports import CityReader, ViewSettings
from layouts.tree import keyed_delta, to_tree

#: Rendered parts and deltas kept per registry: enough for every part of a wall and a few
#: versions behind, small enough not to matter.
KEPT = 512


@dataclass(frozen=True)
class LivePart:
    """How one part of a panel follows the city.

    ``view`` reduces the picture to exactly what the part shows (plain data, cheap to
    digest); ``render`` turns that into children, or a ``Patch`` of a figure (``prop``).
    ``paced``: what moves with nearly every message of a busy feed (a queue's numbers, a
    gauge, the ticker's flow), which the push sends a page at most once a second
    (``layouts.push``).
    """

    view: Callable[[CityPicture, ViewSettings], Any]
    render: Callable[[Any, ViewSettings], Any]
    prop: str = "children"
    paced: bool = False

    @property
    def target(self) -> str:
        """The content element's prop that receives updates: rendered children travel as a tree."""
        return "tree" if self.is_tree else self.prop

    @property
    def is_tree(self) -> bool:
        return self.prop == "children"


@dataclass
class PushStats:
    """What the push has sent from this process (read by ``/metrics``)."""

    batches: int = 0
    parts: int = 0
    bytes: int = 0


class _Reads:
    """The picture, noting which sections a view reads; anything but a section (``to_json``,
    say) counts as reading all, except what tells only the picture's second (``OF_THE_SECOND``).
    Views are typed against ``CityPicture`` and read attributes, which this forwards."""

    __slots__ = ("_picture", "read")

    def __init__(self, picture: CityPicture) -> None:
        self._picture = picture
        self.read: set[str] | None = set()

    def __getattr__(self, name: str) -> Any:
        if self.read is not None:
            if name in SECTIONS:
                self.read.add(name)
            elif name not in OF_THE_SECOND or not self._picture.generated_at:  # by hand: read now
                self.read = None
        return getattr(self._picture, name)


#: The picture's fields: what a view may be recorded as reading.
SECTIONS = frozenset(f.name for f in fields(CityPicture))
#: What tells only the picture's second (``generated_at``), which a view is kept for anyway:
#: the ticker's held lines read their age with it, and were worked out again at every look.
OF_THE_SECOND = frozenset({"read_at"})


@dataclass(frozen=True)
class _View:
    second: Any
    reads: tuple[tuple[str, Any], ...] | None  # None: it read everything, so it never repeats
    shown: Any
    digest: str

    def still(self, picture: CityPicture) -> bool:
        return (
            self.reads is not None
            and picture.generated_at == self.second
            and all(getattr(picture, key) is value for key, value in self.reads)
        )


class LiveParts:
    """The registry of live parts (one per app) and the views, renders and deltas they share."""

    def __init__(self, reader: CityReader, settings: ViewSettings, fill_on_load: bool = False) -> None:
        self.reader = reader
        self.settings = settings
        #: Without the push, each copy is filled by its poll callback as it appears on a page:
        #: a page whose content mounted after the poll's first tick would otherwise stay empty
        #: until the city next changed.
        self.fill_on_load = fill_on_load
        self.parts: dict[str, LivePart] = {}
        #: How many copies of each part the app's pages hold (``layouts.live.part_pages``): a
        #: poll asking for more copies is refused. Each copy costs the answer a whole tree, so
        #: a 200 KB request listing a thousand made-up copies made the server build 10 MB.
        self.copies: dict[str, int] = {}
        #: The paths of the pages that hold each part (``layouts.live.part_pages``), and who may
        #: show a path: a kiosk token scoped to the tablet read the incident queue through
        #: the queue's poll, though no page it may open holds it.
        self.pages_of: dict[str, frozenset[str]] = {}
        self.may_show: Callable[[str], bool] = lambda path: True
        self.stats = PushStats()
        self._views: dict[str, _View] = {}
        self._rendered: OrderedDict[tuple[str, str], tuple[Any, bytes]] = OrderedDict()
        self._deltas: OrderedDict[tuple[str, str, str], tuple[Any, bytes]] = OrderedDict()

    # --- registration ---------------------------------------------------------------------
    def add(
        self,
        app: Dash,
        role: str,
        view: Callable[[CityPicture, ViewSettings], Any],
        render: Callable[[Any, ViewSettings], Any],
        prop: str = "children",
        paced: bool = False,
    ) -> None:
        """Register a part, and the poll's callback for every copy of it on a page.

        When the digest equals what a copy already shows, that copy gets ``no_update``: a
        store version bump elsewhere in the city costs this part one small request.
        """
        live = self.parts[role] = LivePart(view, render, prop, paced)
        content_id, sig_id = live_ids(role, ALL)

        @app.callback(
            Output(content_id, live.target),
            Output(sig_id, "data"),
            Input("cw-version", "data"),
            State(sig_id, "data"),
            # with the push on, not with the page: the push (or the poll's first tick) fills it;
            # fifty requests per wall page at load queued behind Chromium's six connections
            prevent_initial_call=not self.fill_on_load,
        )
        async def _update(_: int | None, known: list[str | None]) -> tuple[list[Any], list[Any]]:
            if not known or len(known) > self.copies.get(role, len(known)) or not self.may_read(role):
                raise PreventUpdate
            picture = await asyncio.to_thread(self.reader.picture)  # off the event loop: see live._poll
            _, digest = self.view(role, picture)
            if all(k == digest for k in known):
                raise PreventUpdate
            update = self.update(role, digest)
            return ([no_update if k == digest else update for k in known], [no_update if k == digest else digest for k in known])

    def may_read(self, role: str) -> bool:
        """Whether the caller may show some page that holds a copy of the part."""
        return any(self.may_show(path) for path in self.pages_of.get(role, ()))

    def roles(self) -> Iterable[str]:
        return self.parts.keys()

    # --- shared work ----------------------------------------------------------------------
    def view(self, role: str, picture: CityPicture) -> tuple[Any, str]:
        """The part's view of this picture and its digest, computed again only when what it read moved."""
        hit = self._views.get(role)
        if hit is not None and hit.still(picture):
            return hit.shown, hit.digest
        reads = _Reads(picture)
        shown = self.parts[role].view(cast(CityPicture, reads), self.settings)
        names = reads.read
        digest = hit.digest if hit is not None and hit.shown == shown else signature(shown)
        self._views[role] = _View(
            picture.generated_at, None if names is None else tuple((n, getattr(picture, n)) for n in sorted(names)), shown, digest
        )
        return shown, digest

    def update(self, role: str, digest: str, since: str | None = None) -> Any:
        """The prop value that brings a copy showing ``since`` (a digest, or None) to ``digest``."""
        return self._update(role, digest, since)[0]

    def encoded_update(self, role: str, digest: str, since: str | None = None) -> bytes:
        """``update`` as JSON, encoded once per process however many pages it goes to."""
        return self._update(role, digest, since)[1]

    def _update(self, role: str, digest: str, since: str | None) -> tuple[Any, bytes]:
        full = self._render(role, digest)
        part = self.parts[role]
        if not part.is_tree or since is None or (role, since) not in self._rendered:
            return full
        key = (role, since, digest)
        hit = self._deltas.get(key)
        if hit is None:
            old, new = self._rendered[(role, since)][0]["full"], full[0]["full"]
            delta = {"base": since, "digest": digest, "delta": keyed_delta(old, new)}
            hit = self._deltas[key] = (delta, _encode(delta))
            while len(self._deltas) > KEPT:
                self._deltas.popitem(last=False)
        else:
            self._deltas.move_to_end(key)
        return hit if len(hit[1]) < len(full[1]) else full

    def _render(self, role: str, digest: str) -> tuple[Any, bytes]:
        key = (role, digest)
        hit = self._rendered.get(key)
        if hit is None:
            part = self.parts[role]
            view = self._views[role].shown if self._views.get(role) and self._views[role].digest == digest else None
            if view is None:
                raise KeyError(f"{role}: no view with digest {digest}")
            rendered = part.render(view, self.settings)
            value = {"digest": digest, "full": to_tree(rendered)} if part.is_tree else rendered
            hit = self._rendered[key] = (value, _encode(value))
            while len(self._rendered) > KEPT:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(key)
        return hit


def _encode(value: Any) -> bytes:
    """An update as the JSON the push sends (``layouts.push``), once per process: with a
    hundred pages open, encoding each part again for every page was most of the server's time."""
    return orjson.dumps(value, default=_plain)


def _plain(value: Any) -> Any:
    """A figure ``Patch`` (or any Dash object) as the JSON Dash would send."""
    plain = getattr(value, "to_plotly_json", None)
    return plain() if callable(plain) else str(value)
