"""The frame every panel sits in: title, age of its data, and the stale state.

The frame root carries the test hooks (``data-panel``, ``data-updated-at``, ``data-stale``).
Staleness is computed in the browser from the last freshness the server sent and the time
since, so a panel turns stale by itself when the server or the feed goes quiet, and keeps
showing its last values instead of blanking.

It also holds the few helpers every panel shares, so that each panel file stays about what
it shows: ``signature`` (send a panel's HTML only when what it shows changed), the shapes
that tell severity, stage and standing apart without colour, and ``empty`` (the one
"no data yet" element the browser tests look for).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from dash import dcc, html

from layouts import elements as el
from layouts.i18n import t
from layouts.picture import CityPicture
from layouts.tree import HtmlTree, attrs

#: Families whose frame never turns stale (the clock is computed in the browser itself).
ALWAYS_FRESH = frozenset({"clock"})

#: Shapes that carry meaning next to colour, for 4 m distance and colour-blind operators.
SEVERITY_SHAPES = {"critical": "◆", "high": "▲", "medium": "●", "low": "○", "informational": "□"}
STAGE_SHAPES = {"Normal": "●", "Waspada": "▲", "Siaga": "◆", "Awas": "■"}
#: And their colours where CSS does not reach (the map's markers, an SVG's pin or line): the
#: same as the ``--cw-critical`` to ``--cw-info`` variables and the ``.stage-*`` rules of
#: ``assets/citywall.css``.
SEVERITY_COLOURS = {"critical": "#ff5c5c", "high": "#ff922b", "medium": "#ffd43b", "low": "#66d9e8", "informational": "#ced4da"}
STAGE_COLOURS = {"Normal": "#51cf66", "Waspada": "#ffd43b", "Siaga": "#ff922b", "Awas": "#ff5c5c"}
STANDING_SHAPES = {"veryGood": "✔", "good": "✔", "fair": "▲", "bad": "✖", "veryBad": "✖", "unknown": "?", "closed": "–"}


def frame_id(panel: str, family: str, instance: str) -> dict[str, str]:
    return {"role": "frame", "panel": panel, "family": family, "instance": instance}


def frame(panel: str, family: str, instance: str, language: str, body: Any, title: str | None = None) -> html.Div:
    """The panel root. It starts stale with no time: nothing is claimed fresh before data arrived."""
    fresh = family in ALWAYS_FRESH
    return html.Div(
        id=frame_id(panel, family, instance),
        className=f"cw-panel cw-panel-{panel}",
        **attrs({"data-panel": panel, "data-updated-at": "", "data-stale": "false" if fresh else "true", "data-family": family}),
        children=[
            html.Div(
                className="cw-panel-head",
                children=[
                    html.Span(title or t(panel, language), className="cw-panel-title"),
                    html.Span("", className="cw-age", **attrs({"data-age-for": family})),
                    html.Span(f"⚠ {t('stale', language)}", className="cw-stale-badge"),
                ],
            ),
            html.Div(body, className="cw-panel-body"),
        ],
    )


def signature(view: Any) -> str:
    """A short digest of what a panel shows.

    Panels keep the digest of what they last sent in a ``dcc.Store`` next to their content
    and answer ``no_update`` when it is the same, so a change in the MPP queue does not
    resend the drainage panel's HTML to every screen.
    """
    text = orjson.dumps(view, default=_as_text, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def _as_text(value: Any) -> Any:
    """What JSON does not know, for the digest: a lazy sequence (the incidents' ``TopRows``)
    by its content, anything else by its text. A sequence digested by its name would never
    change, and its panel would stop updating without a word."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return str(value)


def empty(language: str) -> el.Tree:
    """What a panel shows before its first data: one element the browser tests can find."""
    return el.Div(t("no_data", language), className="cw-empty")


def age_cell(since: str) -> el.Tree:
    """An incident's age, written by the browser (``assets/citywall.js``) from ``since`` (its
    ISO start) every second, in the catalog's words (``age_seconds`` to ``age_days``: ``3 mnt``,
    ``2 j``, short enough to read from 4 m).

    Rendered on the server, a row changed whenever its age did: every row of every list was
    sent and laid out again once a second while incidents came in; and since a picture is
    read once per change, the ages stood still while none came."""
    return el.Span(className="cw-age-cell", **attrs({"data-age-since": since}))


def seen(picture: CityPicture, family: str) -> bool:
    """Whether this family's feed ever delivered: zero open incidents is news, no feed is not.

    Read from the small ``seen`` section, which changes once per family and feed, rather than
    from ``freshness``, which moves with every message: a view that only asks this is then
    not computed again per message (``layouts.live_parts``)."""
    return bool(picture.seen.get(family))


def live_ids(role: str, instance: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ids of a live part (its content and the digest of what it shows)."""
    return {"role": f"{role}-content", "instance": instance}, {"role": f"{role}-sig", "instance": instance}


def live_part(role: str, instance: str, class_name: str = "", child: Any = None) -> list[Any]:
    """A part of a panel that follows the city: a content element plus its digest store.

    The content is an ``HtmlTree`` (see ``layouts.tree``). ``child`` replaces it (a
    ``dcc.Graph`` whose figure is patched, say); it must carry the content id from ``live_ids``.
    """
    content_id, sig_id = live_ids(role, instance)
    return [dcc.Store(id=sig_id, data=None), child if child is not None else HtmlTree(id=content_id, className=class_name)]
