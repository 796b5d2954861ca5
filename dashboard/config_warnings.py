"""What a config may say that is valid but is likely a slip, in one line each.

``citywall check-config`` prints these, and ``demo`` and ``serve`` print them as they start:
a wall with twelve blank screens, another city's map or another city's names left in a copied
config all started without a word. Errors, which stop start-up, are ``dashboard.config``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dashboard.config import Config, sites_elsewhere


def config_warnings(config: Config, demo: bool = True) -> list[str]:
    """What is valid but likely a mistake. ``check-config`` says it, and so do ``demo`` and
    ``serve`` as they start: a wall with twelve blank screens, or another city's map, started
    without a word. ``demo``: whether the simulator's topics matter (not to ``serve``)."""
    from feeds.geo import Districts

    out = []
    joined = Districts.load(config.districts_path()).joined()
    if joined:  # by design (a mainland and its islets), but a copied feature left unrenamed reads the same
        out.append(f"city.districts_geojson: features of one name make one district: {', '.join(joined)}")
    if not config.operations.agencies:  # valid, but the console's "assign" offers nobody
        out.append("operations.agencies is empty: operators cannot assign an incident to anyone")
    missed = config.demo_topics_missed()
    if missed and demo:  # valid for real feeds, but the demo's own messages would go nowhere
        out.append(_demo_topics_warning(config, missed))
    idle = config.idle_screens()
    if idle:  # valid (a screen kept for a CCTV input), but a black LCD looks dead
        which = f"screens {', '.join(map(str, idle))} show" if len(idle) > 1 else f"screen {idle[0]} shows"
        out.append(f"{which} nothing (no panel, span or playlist)")
    if config.feeds.mqtt.member and not config.feeds.mqtt.shared_group:  # valid, but each member takes every message
        out.append("feeds.mqtt.member is set but shared_group is not: every ingest member takes every message")
    out += [*_category_warnings(config), *sites_elsewhere(config)]
    boundaries = _boundaries_warning(config)
    if boundaries:  # valid, but the wall then showed one city's name over another's map
        out.append(boundaries)
    if not _has_licence(config.districts_path().parent):  # the README asks for it beside them
        out.append(
            "city.districts_geojson: no licence file beside it (a name starting LICENSE, LICENCE or"
            " COPYING): the boundaries' terms go with every copy of them"
        )
    out += _other_city_warnings(config)
    return out


#: "Kota Pariaman", "Kabupaten Kampar", "Kota Administrasi Jakarta Timur": how a config names
#: a city or a regency in its texts (a name is one or two capitalised words).
_PLACE = re.compile(r"\b(Kota(?:\s+Administrasi)?|Kabupaten|Kab\.)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)?)")
#: Where a config names its own city's bodies: the desk's agencies, the MPP and its tenants'
#: offices, the complaint apps and the demo's organisation. KPI names are left out ("Kota
#: Layak Anak" is a national programme, not a city).
_NAMING = ("operations.agencies", "mpp", "complaints", "simulation.organization")


def _city_key(name: str) -> str:
    """ "Kota Pekanbaru", "PEKANBARU" and "kota pekanbaru" alike: the name without its prefix."""
    from feeds.geo import name_key

    return name_key(re.sub(r"^\s*(?:kota(?:\s+administrasi)?|kabupaten|kab\.?)\s+", "", name, flags=re.IGNORECASE))


def _other_city_warnings(config: Config) -> list[str]:
    """Texts that name another city than ``city.name``: a config copied from Pariaman's and
    half edited kept "BPBD Kota Pariaman" in the console, the MPP's name and the demo's
    organisation, and check-config said ok. A kecamatan called "Kota ..." (Kota Tengah in
    Gorontalo) is one of the city's own districts, not another city."""
    from feeds.geo import Districts

    own = _city_key(config.city.name)
    districts = Districts.load(config.districts_path())

    def elsewhere(match: re.Match[str]) -> bool:
        named = _city_key(match.group(2))
        ours = bool(own) and (own.startswith(named) or named.startswith(own))
        return not ours and districts.match(match.group(0)) is None

    def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                yield from walk(inner, f"{path}.{i}")
        elif isinstance(value, str) and path.startswith(_NAMING):
            yield from ((path, match.group(0)) for match in _PLACE.finditer(value) if elsewhere(match))

    out = []
    found = list(walk(config.model_dump(mode="json"), ""))
    if found:
        places = ", ".join(sorted({place for _, place in found}))
        keys = ", ".join(dict.fromkeys(path for path, _ in found[:6]))
        out.append(f"{keys} name {places}, not {config.city.name} (city.name): copied from another city's config?")
    # a complaint channel's topics left at the other city's ("pariaman/lapor/#"): the demo publishes
    # where the config says and looks fine, while the city's own app sends under its own slug
    own_topics = all(t.split("/")[0] == config.city.slug for t in config.feeds.mqtt.topics or [f"{config.city.slug}/#"])
    for i, channel in enumerate(config.complaints):
        away = [t for t in channel.topics if t.split("/")[0] not in (config.city.slug, "+", "#")]
        if away and own_topics:
            out.append(
                f"complaints.{i}.topics: {', '.join(away)} not under {config.city.slug}/, where the city's other"
                " feeds arrive: copied from another city's config?"
            )
    return out


def _boundaries_warning(config: Config) -> str | None:
    """The districts file names another city than ``city.name``: a config copied from one
    city to the next kept the first one's map, and nothing said so."""
    from feeds.geo import Districts

    said = Districts.load(config.districts_path()).city_names()
    if not said or _city_key(config.city.name) in {_city_key(name) for name in said}:
        return None
    return (
        f"city.districts_geojson: its districts say they lie in {', '.join(sorted(said)[:3])}, not in "
        f"{config.city.name} (city.name): another city's boundaries?"
    )


#: How a data set's licence file is named: LICENSE, LICENCE-boundaries-MIT.txt, COPYING.
_LICENCE = re.compile(r"^(licen[cs]e|copying)", re.IGNORECASE)


def _has_licence(folder: Path) -> bool:
    """Whether a licence file sits in ``folder``. Boundaries are somebody's data under terms
    that must travel with them; a folder that cannot be listed is not judged."""
    try:
        return any(_LICENCE.match(entry.name) for entry in folder.iterdir())
    except OSError:
        return True


def _category_warnings(config: Config) -> list[str]:
    """Categories the config names that look like a slip for one the Alert data model has.

    Valid (a city may have categories of its own), but ``natural_disaster`` never matches the
    feeds' ``naturalDisaster``: its SOP never showed, and a takeover on ``banjir`` never fired."""
    from dashboard.read_models import COUNTED_CATEGORIES

    def folded(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    model = {folded(c): c for c in COUNTED_CATEGORIES}
    own = set(config.operations.sop) - {"default"}
    lines = []
    for key in sorted(own - COUNTED_CATEGORIES):
        if folded(key) in model:
            lines.append(f"operations.sop.{key}: the feeds send {model[folded(key)]!r}; this SOP applies to {key!r} only")
    for i, rule in enumerate(config.operations.takeovers):
        if rule.category and rule.category not in COUNTED_CATEGORIES | own:
            hint = f" (did you mean {model[folded(rule.category)]!r}?)" if folded(rule.category) in model else ""
            lines.append(
                f"operations.takeovers.{i}.category: {rule.category!r} is neither an Alert category nor one with"
                f" an SOP of its own: the rule may never fire{hint}"
            )
    return lines


def _demo_topics_warning(config: Config, missed: list[str]) -> str:
    return (
        f"feeds.mqtt.topics ({', '.join(config.feeds.mqtt.topics)}) take none of {', '.join(missed)},"
        f" where `citywall demo` publishes: its wall would stay empty (leave topics out for {config.city.slug}/#)"
    )
