"""The city picture: everything the panels, the tablet, the console and ``/api/v1/state`` read.

Defined here, in ``layouts``, because the panels read it and ``layouts`` never imports
``dashboard``; the store side (``dashboard.picture.build_picture``) builds it. Every field
has an empty default, so a page asked for before the first picture (or a test that needs one
section) draws "no data yet" instead of raising.

A picture may be built *lazily* (``CityPicture.lazily``): each section is read from the store
the first time something reads it. A page that shows the incident queue then never pays for
the KPIs or the ticker on a new incident; ``/api/v1/state`` reads them all.

``to_json`` is the one way out to JSON (``plain`` is re-exported here for its other
users): the shape of ``/api/v1/state`` is a public interface
and is pinned by a test with its keys written out by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from layouts.sections import (
    CityInfo,
    DrainageSection,
    Freshness,
    IncidentRow,
    IncidentsSection,
    KpisSection,
    MppSection,
    ReportsSection,
    ScreensSummary,
    StoreStatus,
    TickerLine,
    WallSection,
    WasteSection,
    epoch,
    plain,
)


@dataclass(frozen=True)
class CityPicture:
    """One reading of the city. The sections are shared between pictures while their kinds do
    not move (``dashboard.picture.Sections``): compare them with ``is``, never copy them."""

    version: int = -1
    city: CityInfo = field(default_factory=CityInfo)
    incidents: IncidentsSection = field(default_factory=IncidentsSection.empty)
    #: The open critical incidents, most urgent first, ``CRITICAL_SHOWN`` at most: the head of
    #: ``incidents.open``, read on its own. Read it through ``critical_rows``. None in a picture built by hand (a factory,
    #: not a default: a default is a class attribute, which a lazy picture would find first).
    critical: Sequence[IncidentRow] | None = field(default_factory=lambda: None)
    drainage: DrainageSection = field(default_factory=DrainageSection.empty)
    waste: WasteSection = field(default_factory=WasteSection.empty)
    mpp: MppSection = field(default_factory=MppSection.empty)
    reports: ReportsSection = field(default_factory=ReportsSection.empty)
    ticker: list[TickerLine] = field(default_factory=list)  #: the latest events, newest first
    generated_at: str | None = None
    #: each feed's status document as the feed writes it (``counts``, ``connected``, ...)
    feeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    freshness: dict[str, Freshness] = field(default_factory=dict)
    #: per family, whether it ever delivered (changes rarely, unlike ``freshness``)
    seen: dict[str, bool] = field(default_factory=dict)
    kpis: KpisSection = field(default_factory=KpisSection.empty)
    wall: WallSection = field(default_factory=WallSection.empty)
    store: StoreStatus | None = None  #: present when the app watches the store's health
    screens: ScreensSummary | None = None  #: present when the app keeps a screen registry

    @classmethod
    def lazily(cls, sections: Mapping[str, Callable[[CityPicture], Any]], **given: Any) -> CityPicture:
        """A picture with the fields ``given`` (the rest at their defaults), whose ``sections``
        are each built, by ``sections[name](picture)``, the first time one is read."""
        _known(given)
        picture = object.__new__(cls)
        for f in fields(cls):
            if f.name in given:
                object.__setattr__(picture, f.name, given[f.name])
            elif f.name not in sections:
                factory = f.default_factory
                object.__setattr__(picture, f.name, factory() if callable(factory) else f.default)
        object.__setattr__(picture, "_pending", dict(sections))
        return picture

    if not TYPE_CHECKING:  # to the type checker, every field is simply there

        def __getattr__(self, name: str) -> Any:
            """Only for a field not yet built: build it now, once (see ``lazily``); a copy
            (``but``) takes its original's, so the section is built once for all copies."""
            build = self.__dict__.get("_pending", {}).get(name)
            if build is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            origin = self.__dict__.get("_origin")
            value = getattr(origin, name) if origin is not None else build(self)
            object.__setattr__(self, name, value)
            return value

    @property
    def original(self) -> CityPicture:
        """The picture this one is a copy of (``but``), else itself. The reader builds one per
        store version and minute and hands out copies with the live parts: what is worked out
        from a picture once for many callers is keyed by this."""
        origin = self.__dict__.get("_origin")
        return origin if isinstance(origin, CityPicture) else self

    def but(self, **changes: Any) -> CityPicture:
        """This picture with ``changes``; the sections not read yet stay unread
        (``dataclasses.replace`` would build them all) and are read from this one when asked."""
        _known(changes)
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        copy.__dict__["_origin"] = self.__dict__.get("_origin", self)
        return copy

    def settle(self) -> CityPicture:
        """Every section built now, and the picture returned: for a reading that must not wait
        on the store later (a Redis store is read in a thread; its pages, on the event loop)."""
        for name in self.__dict__.get("_pending", {}):
            getattr(self, name)
        return self

    def read_at(self) -> float:
        """When this picture was read (``generated_at``, epoch seconds): what an age counts to.
        A picture built by hand without it (a test's) is read now."""
        return epoch(self.generated_at) if self.generated_at else time.time()

    def to_json(self) -> dict[str, Any]:
        """The picture as the JSON document ``/api/v1/state`` answers (``store`` and ``screens``
        only where the app has them). Each open incident's ``age_s`` is its age at
        ``generated_at``, the time of this reading, not of the city's last change."""
        out = plain(self)
        now = self.read_at()
        out["incidents"]["open"] = [
            {**doc, "age_s": row.age_at(now)} for doc, row in zip(out["incidents"]["open"], self.incidents.open, strict=True)
        ]
        del out["critical"]  # the head of incidents.open, already there
        for optional in ("store", "screens"):
            if out[optional] is None:
                del out[optional]
        return out


#: The most critical rows a panel shows: the map's list 18, the queue 14, the ticker's held
#: lines 8 (the newest, which come first).
CRITICAL_SHOWN = 20


def critical_rows(picture: CityPicture) -> Sequence[IncidentRow]:
    """The open critical incidents, most urgent first, ``CRITICAL_SHOWN`` at most.

    The rows a critical incident changes go to the screens with the frame it comes in, at up
    to 500 new incidents a second. Read from the whole incidents section, every look at a
    page rebuilt that section's two hundred rows and counts for the few rows it showed;
    ``critical`` is read from the store's index on its own, in O(log n + the rows shown). A
    picture built by hand has none: its incidents' critical head stands in."""
    rows = picture.critical
    return rows if rows is not None else critical_head(picture.incidents)


def critical_head(incidents: IncidentsSection) -> list[IncidentRow]:
    """The critical rows among the incidents' top rows, ``CRITICAL_SHOWN`` at most."""
    return [d for d in incidents.open if d.severity == "critical"][:CRITICAL_SHOWN]


def _known(names: Mapping[str, Any]) -> None:
    """A misspelt field must fail here, as ``dataclasses.replace`` would, not hide as an attribute."""
    unknown = names.keys() - CityPicture.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"CityPicture has no field {sorted(unknown)[0]!r}")


__all__ = ["CRITICAL_SHOWN", "CityPicture", "critical_head", "critical_rows", "plain"]
