"""Where identity keeps its records: the store's named maps, or a users file.

Both satisfy ``NamedMaps``. The users file is for sites that manage accounts as a file
(configuration management, a read-only store): a JSON document, rewritten atomically under
an exclusive lock so two ``citywall users`` commands cannot lose each other's change.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol


class NamedMaps(Protocol):
    def map_get(self, name: str, key: str) -> str | None: ...

    def map_all(self, name: str) -> dict[str, str]: ...

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False, replacing: str | None = None) -> bool: ...

    def map_delete(self, name: str, key: str) -> bool: ...


class Counters(Protocol):
    """Counters that every web worker sees alike and that vanish ``ttl_s`` after their first
    count (the login throttle's wrong tries)."""

    def count_up(self, name: str, key: str, ttl_s: float) -> int: ...

    def counted(self, name: str, key: str) -> int: ...

    def count_clear(self, name: str, key: str) -> None: ...


class IdentityStore(NamedMaps, Counters, Protocol):
    """What identity keeps in the city's store: tokens, the cookie secret, the wrong tries."""


class FileMaps:
    """``NamedMaps`` in one JSON file (mode 0600: it holds password hashes)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def map_get(self, name: str, key: str) -> str | None:
        return self._read().get(name, {}).get(key)

    def map_all(self, name: str) -> dict[str, str]:
        return dict(self._read().get(name, {}))

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False, replacing: str | None = None) -> bool:
        with self._locked() as data:
            entries = data.setdefault(name, {})
            if (only_new and key in entries) or (replacing is not None and entries.get(key) != replacing):
                return False
            entries[key] = value
            return True

    def map_delete(self, name: str, key: str) -> bool:
        with self._locked() as data:
            return data.get(name, {}).pop(key, None) is not None

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(f"{self.path}: not a valid users file ({exc.__class__.__name__})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{self.path}: not a valid users file (expected a JSON object)")
        return data

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, indent=1, sort_keys=True)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
