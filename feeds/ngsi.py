"""Flatten any of the four NGSI wire forms into one keyValues dict.

Producers send Smart Data Models as NGSI-v2 or NGSI-LD, each either "keyValues" (plain
values) or "normalized" (every attribute wrapped as ``{"type": ..., "value": ...}``). The
mappers in ``feeds.mappers`` should see one shape only, so this module peels the
wrappers off and reports which form it saw (the conformance report and metrics show it).

The form is detected per attribute, not per message, because real payloads mix them: the
upstream examples put ``{"type": "string", "value": ...}`` inside NGSI-LD entities, use a
``Relationship`` for a date, and nest ``{"@type": "DateTime", "@value": ...}`` in values.
An attribute counts as wrapped when it is an object with a ``type`` and a ``value`` (or
``object``/``languageMap``); a GeoJSON point ``{"type": "Point", "coordinates": ...}`` or a
postal address ``{"type": "PostalAddress", ...}`` has no ``value`` and stays as it is.

NGSI-LD brokers stamp each property with when it was measured (``observedAt``) and may send
no ``dateObserved`` at all; the latest of those stamps is kept as ``observedAt``, which the
mappers read after the model's own time fields.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

from feeds.timestamps import parse_time

__all__ = ["Form", "Unwrapped", "unwrap", "LD_ATTRIBUTE_TYPES"]

LD_ATTRIBUTE_TYPES = frozenset(
    {
        "Property",
        "GeoProperty",
        "Relationship",
        "LanguageProperty",
        "VocabProperty",
        "ListProperty",
        "ListRelationship",
        "JsonProperty",
    }
)
_KEEP = ("id", "type")
_DROP = frozenset({"@context"})
_VALUE_KEYS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")
#: A ``languageMap`` is read in the first of these it has, then in any; a city names its own first.
_PREFERRED_LANGUAGES = ("id", "en")


class Form(str, Enum):
    """The four NGSI representations of one entity."""

    V2_KEY_VALUES = "ngsi-v2 keyValues"
    V2_NORMALIZED = "ngsi-v2 normalized"
    LD_KEY_VALUES = "ngsi-ld keyValues"
    LD_NORMALIZED = "ngsi-ld normalized"


class Unwrapped(NamedTuple):
    """The flat entity, the form detected, and unit codes found on wrapped attributes."""

    attrs: dict[str, Any]
    form: Form
    units: dict[str, str]


def unwrap(entity: dict[str, Any], languages: tuple[str, ...] = _PREFERRED_LANGUAGES) -> Unwrapped:
    """Flatten one entity; ``id`` and ``type`` are kept as given and ``@context`` is dropped.
    A ``languageMap`` gives its text in the first of ``languages`` it has.

    Never raises on odd shapes: anything it cannot recognise is passed through unchanged, and
    the normalizer, which knows what each field should be, rejects it with a precise reason.
    """
    attrs: dict[str, Any] = {}
    units: dict[str, str] = {}
    ld = "@context" in entity
    wrapped = False
    observed: list[Any] = []
    for key, raw in entity.items():
        if key in _KEEP:
            attrs[key] = raw
            continue
        if key in _DROP:
            continue
        if type(raw) is dict and "value" in raw and "type" in raw:  # the common wrapped case, first
            wrapped = True
            ld = ld or (isinstance(raw["type"], str) and raw["type"] in LD_ATTRIBUTE_TYPES)
            attrs[key] = _attribute_value(raw, languages)
            if "observedAt" in raw:
                observed.append(raw["observedAt"])
            if "unitCode" in raw or "metadata" in raw:
                unit = _unit_code(raw)
                if unit:
                    units[key] = unit
        elif not isinstance(raw, (dict, list)):  # a plain keyValues scalar
            attrs[key] = raw
        elif isinstance(raw, dict) and "type" in raw and _has_value(raw):
            wrapped = True
            ld = ld or (isinstance(raw["type"], str) and raw["type"] in LD_ATTRIBUTE_TYPES)
            attrs[key] = _attribute_value(raw, languages)
            unit = _unit_code(raw)
            if unit:
                units[key] = unit
        elif isinstance(raw, list) and raw and all(isinstance(x, dict) and "type" in x and _has_value(x) for x in raw):
            wrapped = ld = True  # an NGSI-LD multi-attribute: several instances told apart by datasetId
            instance = _default_instance(raw)
            attrs[key] = _attribute_value(instance, languages)
            if "observedAt" in instance:
                observed.append(instance["observedAt"])
        elif isinstance(raw, dict) and "@value" in raw:
            attrs[key] = raw["@value"]
        else:
            attrs[key] = raw
    if observed and "observedAt" not in attrs:
        attrs["observedAt"] = _latest(observed)
    return Unwrapped(attrs, _form(ld, wrapped), units)


def _latest(stamps: list[Any]) -> Any:
    """The latest of the properties' ``observedAt``; the first as sent when none reads as a
    time, so the mapper refuses it by name."""
    read = [(moment, stamp) for stamp in stamps if isinstance(stamp, str) and (moment := parse_time(stamp))]
    return max(read, key=lambda pair: pair[0])[1] if read else stamps[0]


def _has_value(attribute: dict[str, Any]) -> bool:
    return any(k in attribute for k in _VALUE_KEYS)


def _attribute_value(attribute: dict[str, Any], languages: tuple[str, ...] = _PREFERRED_LANGUAGES) -> Any:
    """The plain value of one wrapped attribute, whichever of the NGSI spellings carries it."""
    kind = attribute.get("type")
    if "value" in attribute:
        value = attribute["value"]
        if type(value) is not dict and kind != "geo:point":
            return value
    elif "object" in attribute:
        value = attribute["object"]
    elif "languageMap" in attribute:
        value = _pick_language(attribute["languageMap"], languages)
    else:
        value = next(attribute[k] for k in _VALUE_KEYS if k in attribute)
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    if kind == "geo:point" and isinstance(value, str):
        return _geo_point(value)
    return value


def _default_instance(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """NGSI-LD's default instance is the one without a datasetId; else take the first."""
    return next((x for x in instances if "datasetId" not in x), instances[0])


def _pick_language(language_map: Any, languages: tuple[str, ...]) -> Any:
    if not isinstance(language_map, dict) or not language_map:
        return language_map
    for language in languages:
        if language in language_map:
            return language_map[language]
    return next(iter(language_map.values()))


def _geo_point(text: str) -> Any:
    """NGSI-v2 ``geo:point`` is "lat, lon" text; turn it into a GeoJSON Point ([lon, lat])."""
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        return text
    return {"type": "Point", "coordinates": [lon, lat]}


def _unit_code(attribute: dict[str, Any]) -> str | None:
    """``unitCode`` sits on the attribute in NGSI-LD and inside ``metadata`` in NGSI-v2."""
    unit = attribute.get("unitCode")
    if unit is None:
        metadata = attribute.get("metadata")
        if isinstance(metadata, dict):
            unit = metadata.get("unitCode")
            if isinstance(unit, dict):
                unit = unit.get("value")
    return unit if isinstance(unit, str) else None


def _form(ld: bool, wrapped: bool) -> Form:
    if ld:
        return Form.LD_NORMALIZED if wrapped else Form.LD_KEY_VALUES
    return Form.V2_NORMALIZED if wrapped else Form.V2_KEY_VALUES
