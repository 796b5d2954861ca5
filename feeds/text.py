"""Text from the field, made safe to store and to show.

JSON can carry strings that are not text: ``"\\ud800"`` (a lone UTF-16 surrogate) is valid
JSON, but no UTF-8 encoder accepts it, so one such character stopped every Redis write and
every JSON answer that contained it. NUL and other C0/C1 control characters break terminals,
logs and some clients; bidirectional overrides (U+202A-U+202E, U+2066-U+2069) make a label
read differently from what it is (an id that displays as another id).

The policy, per kind of field:

* identifiers (entity ids, station ids): **rejected** (``bad_text``) when they hold any of
  the above. An id is compared, not read; silently changing it would merge or split
  entities, and there is no honest "cleaned" id.
* free text (category, name, description, address, status words): **cleaned**. A lone
  surrogate becomes U+FFFD (the replacement character, so the reader sees that something
  was there), control characters become a space, bidi overrides and isolates are removed.
  The incident still reaches the wall: losing a real alert over a stray byte is worse than
  showing it with a replacement mark.
* what the adapters keep of a refused message: topic and detail cleaned the same way and
  clipped; the excerpt keeps its bytes as received (it is evidence), with only lone
  surrogates replaced, so a dead letter can always be stored and listed.
"""

from __future__ import annotations

import re

__all__ = ["BIDI_CONTROL", "clean", "encodable", "is_clean", "clip", "safe_excerpt"]

#: The character ranges each pattern below is made of, spelled once.
_SURROGATES = "\ud800-\udfff"
#: C0 controls (tab, newline and carriage return included: one-line fields), DEL and C1.
_CONTROLS = "\x00-\x1f\x7f-\x9f"
#: Embeddings, overrides and isolates, plus the implicit marks that can reorder a label.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
#: Zero-width space, joiners, word joiner, BOM: they draw nothing.
_INVISIBLE = "\u200b-\u200d\u2060\ufeff"

_SURROGATE = re.compile(f"[{_SURROGATES}]")
_CONTROL = re.compile(f"[{_CONTROLS}]")
BIDI_CONTROL = re.compile(f"[{_BIDI}]")
_UNSAFE = re.compile(f"[{_SURROGATES}{_CONTROLS}{_BIDI}]")
#: ``_UNSAFE`` and the characters that draw nothing: fine in free text (an emoji's joiner), not
#: in an identifier, where "A1" and "A1\u200b" were two incidents that looked the same on every
#: screen.
_NOT_IN_AN_ID = re.compile(f"[{_SURROGATES}{_CONTROLS}{_BIDI}{_INVISIBLE}]")


def is_clean(text: str) -> bool:
    """No lone surrogate, control character, bidi control or invisible character: fit to be
    an identifier. One scan: it runs on every message's id."""
    return _NOT_IN_AN_ID.search(text) is None


def clean(text: str) -> str:
    """Free text that encodes as UTF-8 and renders as what it says (see the module doc)."""
    if _UNSAFE.search(text) is None:
        return text  # the common case costs one scan
    text = _SURROGATE.sub("\ufffd", text)
    text = _CONTROL.sub(" ", text)
    return BIDI_CONTROL.sub("", text)


def encodable(text: str) -> str:
    """Only the lone surrogates replaced: for a raw excerpt kept byte for byte otherwise."""
    return _SURROGATE.sub("\ufffd", text)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut is marked with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def safe_excerpt(text: str, limit: int) -> str:
    """Cleaned and clipped: for dead-letter topics, details and excerpts."""
    return clip(clean(text), limit)
