"""Complaint apps as the normalizer sees them: where their reports arrive and what their
categories mean.

A city's own complaint apps name their categories their own way ("Sampah Liar", "Got
Mampet"); a ``ChannelRule`` from the config recognises the app by the MQTT topic or Redis
stream a report came in on and maps its category names to a panel family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ChannelRule", "topic_matches"]


@dataclass(frozen=True)
class ChannelRule:
    """A complaint app: its reports are recognised by where they arrive (MQTT topic filters,
    Redis stream names) and their categories mapped to a panel family by the app's own names."""

    name: str
    topics: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    categories: dict[str, str] = field(default_factory=dict)

    def matches(self, origin: str) -> bool:
        stream = origin.split("#", 1)[0]
        return stream in self.streams or any(topic_matches(f, origin) for f in self.topics)

    def family(self, *names: str | None) -> str:
        folded = {k.casefold(): v for k, v in self.categories.items()}
        for name in names:
            if name and name.strip().casefold() in folded:
                return folded[name.strip().casefold()]
        return "other"


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching (``+`` one level, ``#`` the rest), for a message's own topic."""
    parts, levels = pattern.split("/"), topic.split("/")
    for i, part in enumerate(parts):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(parts) == len(levels)
