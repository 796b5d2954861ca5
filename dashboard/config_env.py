"""Environment variables that override ``config.yaml``: any key, by its path.

``CITYWALL_<SECTION>__<KEY>__...`` sets the key at that path (``CITYWALL_WALL__COLUMNS=4`` is
``wall.columns``; ``CITYWALL_FEEDS__MQTT__URL`` is ``feeds.mqtt.url``). Names are read without
regard to case. A list, or a whole section, is given as JSON
(``CITYWALL_SERVER__ALLOWED_ORIGINS='["https://wall.example"]'``); a mapping merges key by key
into the file's, a list replaces the file's whole. ``null`` clears an optional key; an empty
variable counts as unset. Parsing the names and decoding the JSON is pydantic-settings' job
(its ``EnvSettingsSource``), so the rules are the library's documented ones rather than ours.

The values are not validated here: they are put into the file's tree at their key path, and
the tree is validated once, by the same models, so an environment value gets the same checks
and the same one-line error as a value in the file, plus the name of the variable it came from.

Seven short names from before the general rule keep working (``NAMED_VARIABLES``). When a
short name and a key-path variable set the same key, the key-path variable wins: it is the
spelling every key has, the short names are shortcuts kept for deployments that use them.

pydantic-settings ignores variables with the prefix that match no field, so a typo would pass
silently; ``overrides`` refuses a ``CITYWALL_`` variable whose first part after the prefix,
followed by ``__`` or ``_``, is not a top-level section, naming the variable. Other variables
with the prefix (``CITYWALL_CONFIG``, ``CITYWALL_SECRET_KEY``, ...) are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from dashboard.config_errors import ConfigError, KeyPath, dotted
from dashboard.config_model import Config

PREFIX = "CITYWALL_"
DELIMITER = "__"
#: the text that clears an optional key (``feeds.mqtt.url`` and the like)
NULL = "null"

#: Short names from before every key had one; each sets one key, as text, when not empty.
NAMED_VARIABLES: dict[str, tuple[str, ...]] = {
    "CITYWALL_MQTT_URL": ("feeds", "mqtt", "url"),
    "CITYWALL_REDIS_URL": ("feeds", "redis", "url"),
    "CITYWALL_STORE_URL": ("store", "url"),
    "CITYWALL_LANGUAGE": ("city", "language"),
    "CITYWALL_MQTT_CLIENT_ID": ("feeds", "mqtt", "client_id"),
    "CITYWALL_MQTT_SHARED_GROUP": ("feeds", "mqtt", "shared_group"),
    "CITYWALL_MQTT_MEMBER": ("feeds", "mqtt", "member"),
    "CITYWALL_AUTH_ANONYMOUS_READ": ("auth", "anonymous_read"),
}
SECTIONS = frozenset(Config.model_fields)


@dataclass(frozen=True)
class Override:
    """One value from the environment and the key path it lands on."""

    variable: str
    path: tuple[str, ...]
    #: text, or what the JSON held (a list, a number, None): validated later with the file
    value: Any


class _Shape(BaseSettings, Config):
    """The config's fields as a settings class: what ``EnvSettingsSource`` reads names against.

    It is never instantiated (so its schema is never built): the values it finds are merged
    into the file's tree and validated by ``Config`` itself.
    """

    model_config = SettingsConfigDict(defer_build=True)


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of ``os.environ``
    (``load_config(environ=...)`` is how tests and scripts hand in their own)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(
            _Shape,
            case_sensitive=False,
            env_prefix=PREFIX,
            env_nested_delimiter=DELIMITER,
            env_ignore_empty=True,
            env_parse_none_str=NULL,
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def overrides(environ: Mapping[str, str], file: Path | str) -> list[Override]:
    """Every override the environment holds, in the order they apply (later wins).

    The short names come first, then key-path variables from the shortest path to the
    longest, so ``CITYWALL_WALL__COLUMNS`` refines a ``CITYWALL_WALL`` JSON section (as
    pydantic-settings merges them) and both win over ``CITYWALL_STORE_URL``-style names.
    """
    named = [Override(var, path, environ[var]) for var, path in NAMED_VARIABLES.items() if environ.get(var)]
    by_path: list[Override] = []
    for variable in sorted(v for v in environ if environ[v] != "" and _is_key_path(v, file)):
        by_path += _read(variable, environ[variable], file)
    return named + sorted(by_path, key=lambda o: len(o.path))


def apply(tree: dict[str, Any], found: Iterable[Override], file: Path | str) -> None:
    """Put each override into the file's tree at its path; a mapping on the way merges, a list
    on the way is refused (a list is set whole, as JSON, so its items have no variables)."""
    for override in found:
        node: Any = tree
        for depth, name in enumerate(override.path[:-1]):
            key = _existing_key(node, name)
            child = node.get(key)
            if isinstance(child, list):
                upto = override.path[: depth + 1]
                whole = PREFIX + DELIMITER.join(upto).upper()
                reason = f"a list is set whole, as JSON ({whole}='[...]')"
                raise ConfigError(f"{file}: {dotted(upto)} (from {override.variable}): {reason}")
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[_existing_key(node, override.path[-1])] = override.value


def source_of(found: Iterable[Override]) -> Callable[[KeyPath], str]:
    """For an error at a key path: `` (from VAR)`` when the value there came from a variable,
    `` (with VAR)`` when a variable set a key inside it, else nothing."""
    found = list(found)

    def note(path: KeyPath) -> str:
        at = tuple(str(p).lower() for p in path)
        lowered = [(o, tuple(p.lower() for p in o.path)) for o in found]
        inside = [o for o, p in lowered if p == at[: len(p)]]
        if inside:
            return f" (from {inside[-1].variable})"  # the last applied is the one that holds
        below = [o for o, p in lowered if at and p[: len(at)] == at]
        return f" (with {below[-1].variable})" if below else ""

    return note


def _is_key_path(variable: str, file: Path | str) -> bool:
    """Whether a variable names a key path; refuses one that looks meant to but names no section."""
    if variable in NAMED_VARIABLES or not variable.upper().startswith(PREFIX):
        return False
    rest = variable[len(PREFIX) :].lower()
    if DELIMITER in rest:
        head = rest.split(DELIMITER, 1)[0]
        if head not in SECTIONS:
            raise ConfigError(f"{file}: {head} (from {variable}): unknown key")
        return True
    if rest in SECTIONS:
        return True  # a whole section, as JSON
    typo = next((s for s in sorted(SECTIONS) if rest.startswith(f"{s}_")), None)
    if typo is not None:
        raise ConfigError(
            f"{file}: {variable}: not a known variable; a key path is spelled with "
            f"{DELIMITER} between names ({PREFIX}{typo.upper()}{DELIMITER}...)"
        )
    return False  # another of the product's variables (CITYWALL_CONFIG, CITYWALL_SECRET_KEY, ...)


def _read(variable: str, value: str, file: Path | str) -> list[Override]:
    """One variable through pydantic-settings, as overrides of the leaves it sets (one alone, so
    a bad one is named exactly and each leaf knows where it came from)."""
    try:
        tree = _Environment({variable: value})()
    except SettingsError:
        path = tuple(variable[len(PREFIX) :].lower().split(DELIMITER))
        reason = "not valid JSON (a list or a mapping is given as JSON)"
        raise ConfigError(f"{file}: {dotted(path)} (from {variable}): {reason}") from None
    return [Override(variable, path, leaf) for path, leaf in _leaves(tree, ())]


def _leaves(node: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):  # an empty mapping sets nothing: mappings merge
        for key, child in node.items():
            yield from _leaves(child, (*path, str(key)))
    else:
        yield path, node


def _existing_key(node: dict[Any, Any], name: str) -> Any:
    """The file's own spelling of a key the environment names as text, in lower case when it
    came from a variable's name (``1`` for the screen ``"1"``, ``PKU-01`` for ``pku-01``), so
    the value replaces the file's rather than sits beside it. An exact match comes first."""
    for same in (lambda k: str(k) == name, lambda k: str(k).lower() == name.lower()):
        keys = [k for k in node if same(k)]
        if keys:
            return keys[0]
    return name
