"""Whether a body can be a request for one of the app's Dash callbacks, and if not, why.

Dash takes a callback request as it comes: it indexes into the outputs, the inputs and the
states it is sent, and a callback then gets whatever values came. An entry of the wrong
kind, an input under another name, or a path that is a number made Dash or the callback
raise, and the page's request got a bare 500 (with, at best, a traceback in the log). So
every entry is held against the callback the app declared, position by position, and the
values of the few properties whose type the callbacks rely on are checked too; what does
not fit is a 400 with the reason (``dashboard.web_security.KnownRoutes``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: A callback's ids, inputs and states nest a few levels (a pattern's list of dicts of ids).
MAX_CALLBACK_DEPTH = 32
#: The wildcards of a pattern id that stand for every matching component: a list of them.
MANY = (["ALL"], ["ALLSMALLER"])
#: The types a property's value must have, where a callback relies on one.
TEXT_PROPERTIES = frozenset({"pathname", "search", "hash", "href"})
COUNT_PROPERTIES = frozenset({"n_clicks", "n_intervals", "n_submit", "n_blur"})


def callback_refusal(body: bytes, callbacks: Mapping[str, Any]) -> str | None:
    """Why ``body`` cannot be a request for one of ``callbacks`` (the app's, by output), or None."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return "the body is not JSON"
    refused = _outer_refusal(request)
    if refused is not None:
        return refused
    declared = callbacks.get(request["output"])
    if declared is None or declared.get("callback") is None:  # a clientside one runs in the browser alone
        return "no such callback"
    if declared.get("no_output"):  # the renderer sends no outputs at all for it
        return None if request.get("outputs") in (None, [], {}) else "the callback has no outputs"
    if not isinstance(request.get("outputs"), (dict, list)):
        return "no outputs listed"
    return _outputs_refusal(request["outputs"], declared.get("output")) or _inputs_refusal(request, declared)


def _outer_refusal(request: Any) -> str | None:
    if not isinstance(request, dict):
        return "the body is not a JSON object"
    if not isinstance(request.get("output"), str):
        return "no output named"
    for key in ("inputs", "state", "changedPropIds"):
        if not isinstance(request.get(key, []), list):
            return f"{key} is not a list"
    if not all(isinstance(changed, str) for changed in request.get("changedPropIds", [])):
        return "an entry of changedPropIds is not text"
    if _depth(request) > MAX_CALLBACK_DEPTH:
        return f"nested deeper than {MAX_CALLBACK_DEPTH} levels"
    return None


def _outputs_refusal(outputs: Any, declared: Any) -> str | None:
    """One entry per declared output, in a list when the callback has several."""
    if isinstance(declared, (list, tuple)):
        if not isinstance(outputs, list) or len(outputs) != len(declared):
            return f"the callback has {len(declared)} outputs"
        pairs = list(zip(outputs, declared, strict=True))
    else:
        pairs = [(outputs, declared)]
    for i, (entry, output) in enumerate(pairs):
        refused = _entry_refusal(entry, output.component_id_str(), output.component_property, f"outputs[{i}]")
        if refused is not None:
            return refused
    return None


def _inputs_refusal(request: dict[str, Any], declared: Mapping[str, Any]) -> str | None:
    for key in ("inputs", "state"):
        want, got = declared.get(key, []), request.get(key, [])
        if len(got) != len(want):
            return f"the callback takes {len(want)} {key}, not {len(got)}"
        for i, (entry, dependency) in enumerate(zip(got, want, strict=True)):
            where = f"{key}[{i}]"
            refused = _entry_refusal(entry, dependency["id"], dependency["property"], where)
            refused = refused or _value_refusal(entry, dependency["property"], where)
            if refused is not None:
                return refused
    return None


def _entry_refusal(entry: Any, want_id: str, want_property: str, where: str) -> str | None:
    """``entry`` names the component and property the callback declared at its place: the
    same id, or for a pattern an id of the same keys, one object or (for every matching
    component) a list of them."""
    pattern = _pattern(want_id)
    many = pattern is not None and any(value in MANY for value in pattern.values())
    if many and not isinstance(entry, list):
        return f"{where} is not a list"
    for item in entry if many else [entry]:
        if not isinstance(item, dict):
            return f"{where} is not an object"
        if item.get("allow_optional") is True and item.get("value") is None:
            continue  # an optional entry whose component is not on the page: the renderer sends the spec itself
        said = item.get("property")
        # an output more than one callback may write is sent as "children@<the callback's hash>"
        if not isinstance(said, str) or said.partition("@")[0] != want_property:
            return f"{where} is not the property {want_property}"
        if not _same_component(item.get("id"), want_id, pattern):
            return f"{where} is not the component the callback takes"
    return None


def _pattern(want_id: str) -> dict[str, Any] | None:
    """The pattern a declared id stands for (Dash writes it as JSON), or None for a plain id."""
    if not want_id.startswith("{"):
        return None
    pattern = json.loads(want_id)
    return pattern if isinstance(pattern, dict) else None


def _same_component(got: Any, want_id: str, pattern: dict[str, Any] | None) -> bool:
    if pattern is None:
        return got == want_id
    if not isinstance(got, dict) or got.keys() != pattern.keys():
        return False
    return all(
        isinstance(got[key], (str, int, float)) if isinstance(value, list) else got[key] == value
        for key, value in pattern.items()
    )


def _value_refusal(entry: Any, prop: str, where: str) -> str | None:
    """A path is text starting with "/", a count a whole number: the router and the poll
    computed with whatever came, and a number for a path was a 500."""
    for item in entry if isinstance(entry, list) else [entry]:
        value = item.get("value")
        if value is None:
            continue
        if prop in TEXT_PROPERTIES and not isinstance(value, str):
            return f"{where}: {prop} is not text"
        if prop == "pathname" and not value.startswith("/"):
            return f"{where}: the pathname does not start with /"
        if prop in COUNT_PROPERTIES and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{where}: {prop} is not a whole number"
    return None


def _depth(value: Any) -> int:
    """How deep ``value`` nests, without recursion (a deep one must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if level <= MAX_CALLBACK_DEPTH:
                stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
