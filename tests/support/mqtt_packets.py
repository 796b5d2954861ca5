"""MQTT packets written out byte by byte, for the tests of the client that reads them: what a
broker sends is built here rather than by paho, so paho's own reader is not both the test and
the tested."""

from __future__ import annotations

USER_PROPERTY = 0x26


def mqtt_string(text: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + text


def publish_packet(
    topic: bytes, payload: bytes, *, qos: int = 0, mid: int = 0, retain: bool = False, properties: bytes = b""
) -> bytes:
    """A PUBLISH packet as MQTT 5 spells it."""
    body = mqtt_string(topic) + (mid.to_bytes(2, "big") if qos else b"") + bytes([len(properties)]) + properties + payload
    assert len(body) < 128  # one byte of remaining length
    return bytes([0x30 | qos << 1 | int(retain), len(body)]) + body


def puback(mid: int) -> bytes:
    return bytes([0x40, 2]) + mid.to_bytes(2, "big")
