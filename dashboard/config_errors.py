"""How a configuration that cannot run is told: one line with the key path and the reason.

An integrator at a terminal fixes a config from the message alone, so it names the file, the
key path (``feeds.mqtt.url``) and what is wrong with it, and, when the value came from an
environment variable, that variable. It never shows the value itself: a URL may carry a
password, and a wrong type is described by its kind ("got text"), not echoed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

#: A config error is one line on a terminal; a longer one is cut (it never carries a value).
ERROR_MAX = 500

#: A key path in the config tree: section and field names, list indexes, mapping keys.
KeyPath = tuple[Any, ...]


class ConfigError(Exception):
    """A configuration that cannot run; its message is the one line the user sees."""

    def __init__(self, message: str) -> None:
        message = " ".join(message.split())
        super().__init__(message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…")


class LocatedError(ValueError):
    """A cross-field error that knows its key path, so the message can name it exactly.

    Raised inside a model validator of the root model, where pydantic would otherwise place
    the error at the top level.
    """

    def __init__(self, path: KeyPath, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def dotted(path: KeyPath) -> str:
    """``("feeds", "mqtt", "url")`` -> ``feeds.mqtt.url``; the empty path is the top level."""
    return ".".join(str(p) for p in path) or "(top level)"


def one_line(
    file: Path | str,
    exc: ValidationError,
    source_of: Callable[[KeyPath], str] | None = None,
    model: type[BaseModel] | None = None,
) -> str:
    """The first error, as ``file: key.path: reason``; pydantic's own text is too long for a terminal.

    ``source_of`` may add where a key's value came from (an environment variable), placed
    right after the key path so that a cut message still shows it.
    """
    errors = [dict(e) for e in exc.errors()]  # pydantic's ErrorDetails, as plain dicts
    error = _first_to_tell(errors)
    located = (error.get("ctx") or {}).get("error")
    if isinstance(located, LocatedError):
        path, reason = located.path, located.reason
    else:
        path = _key_path(error)
        reason = _reason(error)
        if error["type"] == "extra_forbidden":
            reason += _meant(path[-1], _known_keys(model, path[:-1]) if model is not None else [])
    source = source_of(path) if source_of is not None else ""
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{file}: {dotted(path)}{source}: {reason}{suffix}"


def _first_to_tell(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """An unknown key before any other error: a key spelt wrong is also a required key
    missing, and "city.districts_geojson: required key is missing" sent the integrator
    looking for a key that was there, one letter off."""
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def _key_path(error: dict[str, Any]) -> KeyPath:
    return tuple(p for p in error["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]")))


def _meant(key: Any, known: list[str]) -> str:
    """The hint ' (did you mean X?)' when a key its section has is spelt nearly the same."""
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.75) if isinstance(key, str) else []
    return f" (did you mean {match[0]}?)" if match else ""


def _known_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys of the section at ``path`` of ``model``'s tree (none when it is no section)."""
    kind: Any = model
    for part in path:
        kind = _inside(_section(kind), part)
    section = _section(kind)
    return list(section.model_fields) if section is not None else []


def _section(kind: Any) -> Any:
    """``kind`` with what wraps a section taken off (Optional, Annotated, a union with a section)."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind
    if get_origin(kind) in (Union, UnionType):
        return next((k for k in map(_section, get_args(kind)) if k is not None), None)
    return None if get_origin(kind) is None else kind


def _inside(kind: Any, part: Any) -> Any:
    """What one step of a key path leads to: a field of a section, an item of a list or a map."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    args = get_args(kind)
    if get_origin(kind) in (list, tuple, set, frozenset) and args:
        return args[0]
    if get_origin(kind) is dict and len(args) == 2:
        return args[1]
    return None


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "literal_error" and "[key]" in error["loc"]:
        return f"not a known name ({message.removeprefix('Input should be ')})"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message} (got {kind_of(error.get('input'))})"  # the kind, never the value: it may be a password
    return message


def kind_of(value: Any) -> str:
    """What a YAML value is, in YAML's words."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )
