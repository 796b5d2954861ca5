"""Raw message bytes to one JSON object: the checks that need no knowledge of the data model.

They run cheapest first and in a fixed order (size, UTF-8, JSON, finite numbers, depth,
object), so a hostile or broken payload costs as little as possible and always gets the same
reason. What the object means is ``feeds.mappers``' business.
"""

from __future__ import annotations

import json
import math
from typing import Any

from feeds.events import Reason, Rejected

__all__ = ["MAX_DEPTH", "json_kind", "parse_payload"]

MAX_DEPTH = 32


class _Constant(Exception):
    """Raised from inside the JSON parser on NaN/Infinity, turned into a rejection outside it."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _finite(text: str) -> float:
    """A JSON number too large for a float (``1e999``) is read as infinity: refused like the
    ``Infinity`` literal. It went on as the text "inf", in a category or a description."""
    value = float(text)
    if not math.isfinite(value):
        raise _Constant(text[:24])
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def parse_payload(payload: bytes | bytearray | memoryview | str, max_bytes: int) -> dict[str, Any]:
    """Size, UTF-8, JSON, depth and object checks, in that order; returns the parsed object."""
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(data) > max_bytes:
        raise Rejected(Reason.TOO_LARGE, f"{len(data)} bytes, limit {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.NOT_UTF8, f"invalid byte at offset {exc.start}") from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark says nothing; some Windows tools add one
    try:
        value = _DECODER.decode(text)
    except _Constant as exc:
        raise Rejected(Reason.NON_FINITE_NUMBER, f"{exc.args[0]} is not a JSON number") from None
    except RecursionError:
        raise Rejected(Reason.TOO_DEEP, f"nesting deeper than {MAX_DEPTH}") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise Rejected(Reason.MALFORMED_JSON, str(exc)[:120]) from None
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise Rejected(Reason.TOO_DEEP, f"nesting deeper than {MAX_DEPTH}")
    if not isinstance(value, dict):
        raise Rejected(Reason.NOT_AN_OBJECT, f"top level is a JSON {json_kind(value)}")
    return value


def _depth(value: Any) -> int:
    """Nesting depth (a bare object is 1), iteratively so it cannot itself overflow the stack."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"
