"""Time stamps from the field, read as aware UTC datetimes.

Producers send ISO 8601 in many dialects: with or without a zone, date only, with a
space for the ``T``, or an offset followed by a stray ``Z``. One reader for all of them keeps
every mapper's idea of "when" the same.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

__all__ = ["names_zone", "parse_time", "stored_time"]

_TIME_TEXT_MAX = 64
_OFFSET_THEN_Z = re.compile(r"[+-]\d{2}:?\d{2}[Zz]$")


def parse_time(text: str, zoneless: tzinfo = UTC) -> datetime | None:
    """ISO 8601 (with or without zone, fractions, date-only) as an aware UTC datetime, or None.

    A missing zone means ``zoneless``: UTC, as NGSI has it, unless the city says its field
    systems send their local time (``feeds.zoneless_times``). An offset followed by a stray
    ``Z`` ("-08:00Z", seen in the upstream Open311 example) is read as the offset: both name a
    zone and the offset is the more specific.
    """
    if len(text) > _TIME_TEXT_MAX:
        return None
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_noisy_time(text)
        if moment is None:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneless)
        if zoneless is UTC:
            return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def names_zone(text: str) -> bool:
    """Whether a stamp ``parse_time`` reads names its zone; one that does not was read in the
    zone for stamps without one. For the reason a stamp is refused: a producer sending its
    local time without an offset (14:00 in WIB) where UTC is assumed is seven hours "ahead"
    and should be told why."""
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_noisy_time(text)
    return moment is not None and moment.tzinfo is not None


def _parse_noisy_time(text: str) -> datetime | None:
    """The slow path for stamps ``fromisoformat`` refuses: spaces, "-08:00Z", a lower-case z."""
    text = text.strip()
    if not text:
        return None
    if _OFFSET_THEN_Z.search(text):
        text = text[:-1]
    elif text[-1] == "z":
        text = text[:-1] + "Z"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def stored_time(value: object) -> datetime | None:
    """An ISO time as this product writes it into the store (``isoformat`` with its zone);
    None for anything else: a stored status outlives the release that wrote it."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
