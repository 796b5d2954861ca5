"""When each server sent a trial Alert's text, read off the loopback wire: both products on one clock.

The browser-side stamps of ``bench/latency_stages.py`` cannot tell the server from the socket
and the page, and Node-RED's server cannot be stamped at all. A packet capture can: in a
``--peer`` run every trial Alert goes from ``mosquitto_pub`` to the one broker, from it to
both products' MQTT clients, and from each product's web server to its page in a websocket
frame that carries the Alert's text in the clear. So, for each trial, the capture gives when
the PUBLISH went to the broker, when the broker wrote it to each subscriber, and when each server's frame
left, all on the kernel's clock; citywall's stage stamps (``--trace``, ``time.time()``) are on
the same clock and fall in between.

    tcpdump -i lo -s 0 -U -w /tmp/wire.pcap & capture=$!   # tcpdump, as root
    python bench/latency_stages.py --trials 30 --page /screen/4 --peer --trace /tmp/stages.txt
    kill $capture
    python bench/wire_times.py /tmp/wire.pcap --trace /tmp/stages.txt

Under load (``bench/peer_latency.py --loads alerts``) the frames are found the same way; the
stage stamps of the other messages would be mixed in, so leave out ``--trace`` there.

A web server's connection is citywall's when its frames' JSON starts ``{"v":``
(``layouts.push``) and Node-RED's when they are Socket.IO events (``42[``); a trial's frame is
the first packet from it that holds the trial's text (a text cut across two packets is
missed). Times are ms since the trial's PUBLISH crossed the loopback to the broker; IPv4
only, as every benchmark here talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import struct
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.latency_stages import read_stamps  # noqa: E402

#: The trial Alerts' text (``bench/common.py``'s ``trial``): its id is the trial's.
NEEDLE = re.compile(rb"Uji latensi ([0-9a-f]{10})")
#: Bytes before the IP header, by the capture's link type: Ethernet, BSD loopback, Linux cooked v1 and v2.
LINK_HEADER = {1: 14, 0: 4, 113: 16, 276: 20}
#: A libpcap file's first bytes: its byte order, and what a stamp's fraction counts in ms.
MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-3),  # microseconds
    b"\xa1\xb2\xc3\xd4": (">", 1e-3),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-6),  # nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1e-6),
}
#: What starts each product's frames, just after the websocket header.
PRODUCTS = {"citywall": b'{"v":', "node-red": b"42["}


@dataclass(frozen=True)
class Packet:
    at_ms: float
    source: int
    destination: int
    payload: bytes


def packets(capture: bytes) -> list[Packet]:
    """The TCP packets over IPv4 in a libpcap file (micro- or nanosecond stamps, either byte order)."""
    if capture[:4] not in MAGICS:
        raise SystemExit("not a libpcap file (a pcapng one? tcpdump -w writes libpcap)")
    order, tick = MAGICS[capture[:4]]
    link = struct.unpack(order + "I", capture[20:24])[0]
    skip = LINK_HEADER.get(link)
    if skip is None:
        raise SystemExit(f"link type {link} is not read here (capture on lo with tcpdump)")
    out, at = [], 24
    while at + 16 <= len(capture):
        seconds, fraction, kept, _ = struct.unpack(order + "IIII", capture[at : at + 16])
        ip = capture[at + 16 + skip : at + 16 + kept]
        at += 16 + kept
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:  # IPv4, TCP
            continue
        tcp = ip[(ip[0] & 0x0F) * 4 :]
        if len(tcp) < 20:
            continue
        source, destination = struct.unpack(">HH", tcp[:4])
        out.append(Packet(seconds * 1e3 + fraction * tick, source, destination, tcp[(tcp[12] >> 4) * 4 :]))
    return out


def trials(capture: list[Packet]) -> dict[str, dict[str, float]]:
    """Per trial: when its PUBLISH crossed the loopback, when the broker had written it to
    every subscriber (the first write to each, so a retransmission does not count), and when
    each product's first frame holding its text left."""
    seen: dict[str, list[Packet]] = defaultdict(list)
    for packet in capture:
        for match in NEEDLE.finditer(packet.payload):
            seen[match.group(1).decode()].append(packet)
    servers = _servers(capture)
    out: dict[str, dict[str, float]] = {}
    for trial, found in seen.items():
        broker = found[0].destination  # mosquitto_pub to the broker
        times = {"published": found[0].at_ms}
        first_write: dict[int, float] = {}
        for packet in found:
            if packet.source == broker:
                first_write.setdefault(packet.destination, packet.at_ms)
            product = servers.get(packet.source)
            if product is not None and f"{product} frame" not in times:
                times[f"{product} frame"] = packet.at_ms
        if first_write:
            times["delivered"] = max(first_write.values())
        out[trial] = times
    return out


def _servers(capture: list[Packet]) -> dict[int, str]:
    """Each web server's port, by the product whose frames start there: a connection's first
    frame tells it, wherever a trial's text falls later (in a frame's second segment, say)."""
    servers: dict[int, str] = {}
    for packet in capture:
        if packet.source in servers:
            continue
        for product, start in PRODUCTS.items():
            if start in packet.payload[:16]:  # just after a websocket frame's header
                servers[packet.source] = product
    return servers


def with_stages(by_trial: dict[str, dict[str, float]], trace: Path) -> None:
    """Each citywall stage's first stamp between the trial's publish and citywall's frame (idle runs)."""
    stamps = read_stamps(trace)
    for times in by_trial.values():
        end = times.get("citywall frame")
        if end is None:
            continue
        for name, at in stamps:
            key = f"citywall {name}"
            if times["published"] <= at <= end and key not in times:
                times[key] = at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path, help="a libpcap file of the loopback during the run")
    parser.add_argument("--trace", type=Path, help="citywall's stage stamps (bench/latency_stages.py --trace)")
    args = parser.parse_args()
    by_trial = trials(packets(args.capture.read_bytes()))
    if not by_trial:
        print("no trial Alert found: a capture of IPv4 on the loopback, as libpcap (tcpdump -w), taken during the run?")
        return 1
    if args.trace is not None:
        with_stages(by_trial, args.trace)
    since: dict[str, list[float]] = defaultdict(list)
    for times in by_trial.values():
        for name, at in times.items():
            if name != "published":
                since[name].append(at - times["published"])
    print(f"{len(by_trial)} trials; ms since the trial's PUBLISH crossed the loopback to the broker")
    for name, values in sorted(since.items(), key=lambda item: statistics.median(item[1])):
        values.sort()
        p90 = values[math.ceil(0.9 * len(values)) - 1]  # the nearest rank, as bench/common.py's p95
        print(f"  {name:<28} p50 {statistics.median(values):6.2f}   p90 {p90:6.2f}   (n={len(values)})")
    print(f"\npython bench/wire_times.py {' '.join(sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
