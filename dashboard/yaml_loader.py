"""A YAML loader for ``config.yaml`` that refuses what a config file never needs.

``yaml.safe_load`` constructs no objects, but it still happily reads files that hurt: an
alias bomb ("billion laughs") of a few hundred bytes expands to hundreds of megabytes as soon
as anything walks it (a validation error printing it did); 3,000 levels of nesting end in a
``RecursionError``; a section given twice silently takes the second; a file in Latin-1 dies
with a traceback. Each of these is refused here with ``YamlRefused``, whose message is one
line naming the line of the file and the reason (never the value).

Limits are generous for a real config (Pekanbaru's is about 5 KB, 6 levels deep, no aliases).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ALIASES = 64
#: Nodes the document would have with every alias expanded: the size of what is validated.
MAX_EXPANDED_NODES = 100_000


#: The tags YAML 1.1 gives base-60 numbers (``1:30``), which YAML 1.2 dropped.
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TEXT_TAG = "tag:yaml.org,2002:str"


class YamlRefused(ValueError):
    """A file this loader will not read; ``str()`` is the reason, with a line when known."""

    def __init__(self, reason: str, mark: Any = None) -> None:
        where = f"line {mark.line + 1}: " if mark is not None else ""
        super().__init__(f"{where}{reason}")


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader with depth, alias and duplicate-key checks while composing, and YAML 1.2's
    numbers: ``8:00`` is text, not YAML 1.1's base-60 integer 480. An unquoted ``opens: 8:00``
    had become 00:08 UTC, and ``opens: 07:30`` beside ``closes: 15:30`` a traceback."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        if tag in _NUMBER_TAGS and ":" in value:  # no other number has a colon
            return _TEXT_TAG
        return tag

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlRefused(f"more than {MAX_ALIASES} aliases", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _expanded_size(node)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if duplicate:
                    raise YamlRefused(f"key {_key_text(key)} given twice", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _key_text(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:59] + "…"


def _expanded_size(root: Any) -> int:
    """Nodes with aliases expanded, counted once per distinct node (memoised), so the count
    itself costs what the file holds, not what it would expand to."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in active:
                raise YamlRefused("an alias refers to itself", node.start_mark)
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        active.discard(key)
        total = 1 + sum(sizes.get(id(child), 1) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise YamlRefused(f"aliases expand to more than {MAX_EXPANDED_NODES:,} values", node.start_mark)
        sizes[key] = total
    return sizes.get(id(root), 0)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_file(path: Path) -> bytes:
    """A regular file's bytes, at most ``MAX_BYTES`` of them read: a device or a FIFO named as
    a config file (``/dev/zero``) would otherwise be read for ever. Opened without blocking:
    a plain open of a FIFO waits for a writer, so ``check-config`` on one hung before the
    check could refuse it."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise YamlRefused("not a regular file")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlRefused(f"file is larger than {MAX_BYTES // 1024} KB")
    return data


def load_yaml_bytes(data: bytes) -> Any:
    """Parse one YAML document from raw bytes, within the limits above."""
    if len(data) > MAX_BYTES:
        raise YamlRefused(f"file is larger than {MAX_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlRefused(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise YamlRefused(f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
