"""What an operator's or a supervisor's write may carry: the bodies of the operations API,
and the console's actions, held to the same shapes.

Types, sizes and the characters free text may hold are checked here; whether an action
applies (a known agency, a screen of this wall, a non-empty broadcast) is the desk's to say,
with words the console speaks (``dashboard.desk``). The API's bodies are strict: a screen
sent as ``true`` or ``"2"`` is refused, not taken as screen 1 or 2. The console's values
come from its own widgets and are read leniently (``ConsolePort``), but a list or an object
where text belongs is refused there too: it reached the desk and came back as Python's own
error text, or as a 500.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from feeds.fields import ID_MAX

#: An entity id as the feeds take it (``feeds.fields``): up to ``ID_MAX`` characters, none a
#: control character. A narrower set here left incidents the feed had taken, with a space or
#: a ``#`` in their id, beyond the API while the console could act on them.
#: The length is a limit of its own, apart from the pattern: a 257-character id was answered
#: with the pattern itself, where "at most 256 characters" says what is wrong.
ID = r"^[^\x00-\x1f\x7f]*$"
EntityId = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID)]
IdInPath = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID)]
#: Free text an operator writes (a note, a broadcast): lines and tabs, but no other control
#: character. Marks of writing direction are text (a note may quote Arabic); the console
#: isolates them (``<bdi>``) and the CSV exports write them escaped.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ActionBody(_Body):
    action: str = Field(max_length=32)
    agency: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=1_000, pattern=TEXT)
    severity: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=64)
    step: int | None = Field(default=None, ge=0, le=1_000)
    assignee_seen: str | None = Field(default=None, max_length=64)


class PresetBody(_Body):
    preset: str = Field(max_length=64)


class BroadcastBody(_Body):
    level: Literal["GREEN", "ORANGE", "RED"]
    text: str = Field(max_length=280, pattern=TEXT)  # empty: the desk says so, in the desk's words
    minutes: int = Field(default=30, ge=1, le=10_080)


class PushBody(_Body):
    screen: int = Field(ge=1, le=256)
    incident: EntityId
    minutes: int = Field(default=10, ge=1, le=10_080)


class DismissBody(_Body):
    screen: int = Field(ge=1, le=256)


class StationAckBody(_Body):
    station: EntityId


class NoBody(_Body):
    pass


def lenient(model: type[_Body], values: dict[str, Any]) -> _Body:
    """``values`` from the console's widgets as ``model``: numbers typed as text are taken,
    an unset value takes its default. Raises ``BodyError``."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None}, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the request"
        control = first["type"] == "string_pattern_mismatch"
        said = "holds a control character" if control else first["msg"]
        raise BodyError(f"{where}: {said}", where, control) from None


class BodyError(ValueError):
    """A write whose values are not of the shape it needs: the first problem, in plain words,
    and which field (``field``) and whether a control character was the problem (``control``),
    for the console to say it in the desk's language."""

    def __init__(self, reason: str, field: str = "", control: bool = False) -> None:
        super().__init__(reason)
        self.field = field
        self.control = control
