"""The parts of ``config.yaml`` that describe the city itself rather than the product.

Pillars, the places the simulator talks about (streets, gauges, TPS, MPP tenants) and the
complaint channels differ from city to city: Pekanbaru's six pillars are not Pasuruan's,
Pariaman has no Trans Metro bus. Keeping these models here keeps ``dashboard/config.py``
about the product's own settings, and lets a new city be described in data alone.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from dashboard.kpis import DERIVED_KPIS

#: Icons the tablet can draw for a pillar (CSS masks in ``assets/tablet.css``).
PILLAR_ICONS = ("building", "people", "chart", "leaf", "home", "bus", "megaphone", "shield", "heart", "grid")
#: The report families the panels group complaints into.
REPORT_FAMILIES = ("drainage", "waste", "roads", "other")

Slug = Field(pattern=r"^[a-z0-9_-]+$", max_length=64)


def _two_digit_hour(value: Any) -> Any:
    """``8:00`` as ``08:00``: how people write an opening time. A number is refused here:
    pydantic would read 800 as seconds past midnight, UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError('a time of day is written "08:00"')
    if isinstance(value, str) and re.fullmatch(r"\d:\d\d(:\d\d)?", value.strip()):
        return "0" + value.strip()
    return value


def _city_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a time of day in city time takes no offset (write 08:00, not 08:00+07:00)")
    return value


#: A time of day on the city's clock, written "08:00" or "8:00" (``config.yaml``).
CityTime = Annotated[time, BeforeValidator(_two_digit_hour), AfterValidator(_city_clock)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Names = dict[Literal["id", "en"], str]


class Kpi(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_:.-]+$", max_length=64)
    name: Names = Field(min_length=1)
    unit: str = Field(default="", max_length=16)
    target: float = Field(strict=True, allow_inf_nan=False)  # a YAML "true" was read as 1; .nan stood "bad" for ever
    better: Literal["higher", "lower"] = "higher"
    source: Literal["derived", "message"] = "derived"

    @model_validator(mode="after")
    def _percent_in_range(self) -> Kpi:
        """A share of a whole is 0-100: a target of 500 % was a slip for 50, and the pillar it
        belongs to stood "bad" for ever with check-config saying ok."""
        if self.unit.strip() == "%" and not 0 <= self.target <= 100:
            raise ValueError(f"target {self.target:g} %: a percentage target lies between 0 and 100")
        return self

    @model_validator(mode="after")
    def _derivable(self) -> Kpi:
        if self.source == "derived" and self.id not in DERIVED_KPIS:
            known = ", ".join(sorted(DERIVED_KPIS))
            raise ValueError(  # the advice first: a long list of names is what a cut line loses
                f"no derived KPI named {self.id!r}; use source: message for KPIs that arrive on a feed (derived: {known})"
            )
        return self


class Pillar(_Strict):
    """One smart-city pillar as the city's own plan names it."""

    id: str = Slug
    name: Names = Field(min_length=1)
    icon: Literal[PILLAR_ICONS] = "grid"  # type: ignore[valid-type]
    kpis: list[Kpi] = Field(min_length=1, max_length=12)  # an empty card "no KPI yet" for ever otherwise

    def label(self, language: str) -> str:
        return self.name.get(language) or next(iter(self.name.values()))  # type: ignore[call-overload]


class Place(_Strict):
    """What the simulator knows of one district: how many people live there and where."""

    population_k: float = Field(default=50, ge=0, le=10_000)
    streets: list[str] = Field(default_factory=list, max_length=50)
    central: bool = False  # busy roads: traffic incidents gather here
    peri_urban: bool = False  # land fires and haze happen at the edge


class Station(_Strict):
    """A drainage or river gauge."""

    code: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$", max_length=64)
    name: str = Field(max_length=120)
    district: str
    kelurahan: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    river: bool = False  # rivers rise and fall slowly; urban drains are flashy


class WasteSite(_Strict):
    """A TPS (waste collection point) the simulator reports fill levels for."""

    name: str = Field(max_length=120)
    district: str
    kelurahan: str = ""
    ward_code: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Agency(_Strict):
    """One MPP tenant: its share of the day's tickets and how its counters behave."""

    slug: str = Slug
    office: str = Field(max_length=120)
    service: str = Field(max_length=120)
    share: float = Field(default=1.0, gt=0)
    counters: int = Field(default=2, ge=1, le=100)
    base_wait_min: float = Field(default=15, gt=0)
    service_min: float = Field(default=8, gt=0)


class ComplaintChannel(_Strict):
    """A citizen complaint app (e-Sambat, LAPOR!, ...) whose reports arrive on a feed.

    Its messages are recognised by where they arrive (MQTT topic filters, Redis streams); its
    own category names map to the families the panels show.
    """

    id: str = Slug
    name: str = Field(max_length=60)
    topics: list[str] = Field(default_factory=list, max_length=20)
    streams: list[str] = Field(default_factory=list, max_length=20)
    categories: dict[str, Literal[REPORT_FAMILIES]] = Field(default_factory=dict, max_length=200)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _somewhere(self) -> ComplaintChannel:
        if not self.topics and not self.streams:
            raise ValueError("a complaint channel needs topics or streams to arrive on")
        return self


class MessageKpiText(_Strict):
    provider: str = ""
    description: str = ""


class Simulation(_Strict):
    """Texts and places for ``citywall demo``; each part left out gets plain generated names."""

    organization: str = ""  # "Pemerintah Kota Pekanbaru"
    region: str = ""  # province, in addresses
    places: dict[str, Place] = Field(default_factory=dict)
    stations: list[Station] = Field(default_factory=list, max_length=500)
    waste_sites: list[WasteSite] = Field(default_factory=list, max_length=2_000)
    vehicles: list[str] = Field(default_factory=list, max_length=50)
    destinations: list[str] = Field(default_factory=list, max_length=50)
    sources: dict[str, str] = Field(default_factory=dict)  # alert category -> who reports it
    drainage_provider: str = ""
    kpis: dict[str, MessageKpiText] = Field(default_factory=dict)
