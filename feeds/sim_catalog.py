"""What the simulated city sends, independent of which city: topics, wire time format, kinds.

The incident kinds (with the agencies and words a Pekanbaru operator would see), the citizen
report kinds, the complaint channels' phrasing, the lifecycle stages and the topics each Smart
Data Model travels on. ``feeds.simulator`` draws from these; tests read them to know what to
expect. Pure data and two small time helpers: no randomness, no state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Payload = dict[str, Any]
Message = tuple[str, Payload]


def _wib() -> tzinfo:
    """Asia/Jakarta, or a fixed +07:00 where the system has no tz database (slim images)."""
    try:
        return ZoneInfo("Asia/Jakarta")
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the host
        return timezone(timedelta(hours=7), "WIB")


WIB: tzinfo = _wib()
UTC = UTC

#: Topic suffixes; the caller adds the city prefix (``<slug>/``). A topic with a ``/`` in it
#: (a complaint channel's) is already complete.
TOPICS: tuple[str, ...] = ("incidents", "drainage", "waste", "reports", "mpp", "kpi")

#: The Smart Data Models types this simulator emits, by topic.
TYPE_OF_TOPIC: dict[str, str] = {
    "incidents": "Alert",
    "drainage": "FloodMonitoring",
    "waste": "WasteContainer",
    "reports": "IssueReporting",
    "mpp": "QueueMonitor",
    "kpi": "KeyPerformanceIndicator",
}

NGSI_LD_CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
WASTE_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld",
    NGSI_LD_CORE,
)
QUEUE_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.QueueManagement/master/context.jsonld",
    NGSI_LD_CORE,
)

#: Indonesian drainage alert stages (metres): the dashboard's defaults.
WASPADA_M, SIAGA_M, AWAS_M = 1.5, 2.0, 2.5

INCIDENT_STAGES: tuple[str, ...] = ("new", "acknowledged", "dispatched", "resolved")
REPORT_STAGES: tuple[str, ...] = ("Open", "InProgress", "Closed.")  # "Closed." is the SDM enum value


def utc_now() -> datetime:
    """The default clock: aware UTC now."""
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``: the one time format on the wire."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    m = moment  # field by field: strftime is the slowest part of building a message
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond // 1000:03d}Z"


#: Kinds of incident that happen mostly in the dry season (June-September in Sumatra).
DRY_SEASON_KINDS = frozenset({"forestFire", "airPollution"})


@dataclass(frozen=True)
class IncidentKind:
    """A kind of incident: SDM category/subCategory, Indonesian wording, and how often."""

    category: str
    sub_category: str
    templates: tuple[str, ...]
    weight: float
    severity: tuple[tuple[str, float], ...]
    area: str = "all"  # all | central | flood | peri
    rain_factor: float = 1.0  # weight multiplier while it rains
    rush_factor: float = 1.0  # weight multiplier in rush hours


# fallenTree is not in the SDM subCategory enum: a tree across the road is a hazardOnRoad.
# Weights are relative shares of ~2,400 incidents a day (what a 30-80 open set with
# minute-scale lifecycles implies): traffic dominates, fires stay rare.
INCIDENT_KINDS: tuple[IncidentKind, ...] = (
    IncidentKind(
        "traffic",
        "trafficJam",
        (
            "Kemacetan panjang di {street} arah {dest}",
            "Antrean kendaraan sekitar {km} km di {street}",
            "Lampu lalu lintas padam, simpang di {street} macet",
        ),
        40,
        (("informational", 5), ("low", 40), ("medium", 43), ("high", 12)),
        "central",
        1.5,
        1.8,
    ),
    IncidentKind(
        "traffic",
        "carAccident",
        (
            "Kecelakaan lalu lintas antara {vehicle} dan {vehicle2} di {street}",
            "Kecelakaan tunggal {vehicle} di {street}, korban luka ringan",
            "Tabrakan beruntun {n} kendaraan di {street}",
        ),
        14,
        (("low", 12), ("medium", 45), ("high", 35), ("critical", 8)),
        "central",
        1.3,
        1.5,
    ),
    IncidentKind(
        "traffic",
        "carStopped",
        ("{vehicle} mogok di lajur kiri {street}",),
        12,
        (("informational", 20), ("low", 60), ("medium", 20)),
        "central",
        1.0,
        1.5,
    ),
    IncidentKind(
        "traffic",
        "hazardOnRoad",
        (
            "Pohon tumbang menutup sebagian badan {street}",
            "Pohon tumbang menimpa kabel listrik di {street}",
        ),
        3,
        (("low", 15), ("medium", 50), ("high", 35)),
        "all",
        6.0,
    ),
    IncidentKind(
        "traffic",
        "pothole",
        ("Jalan berlubang membahayakan pengendara di {street}",),
        8,
        (("informational", 20), ("low", 55), ("medium", 25)),
        "all",
        1.5,
    ),
    IncidentKind(
        "naturalDisaster",
        "flood",
        (
            "Genangan air {cm} cm di {street}",
            "Drainase meluap, genangan {cm} cm di {street}",
            "Banjir setinggi {cm} cm merendam rumah warga di Kec. {kec}",
        ),
        2,
        (("low", 12), ("medium", 45), ("high", 35), ("critical", 8)),
        "flood",
        20.0,
    ),
    IncidentKind(
        "security",
        "buildingFire",
        (
            "Kebakaran ruko di {street}, {n} unit damkar dikerahkan",
            "Kebakaran rumah warga di {street}",
        ),
        0.4,
        (("medium", 20), ("high", 50), ("critical", 30)),
        "all",
        0.5,
    ),
    IncidentKind(
        "security",
        "forestFire",
        (
            "Kebakaran lahan sekitar {ha} ha di Kec. {kec}",
            "Titik api terpantau di lahan gambut Kec. {kec}",
        ),
        0.3,
        (("medium", 40), ("high", 45), ("critical", 15)),
        "peri",
        0.1,
    ),
    IncidentKind(
        "security", "robbery", ("Laporan penjambretan di {street}",), 2, (("low", 15), ("medium", 60), ("high", 25)), "central"
    ),
    IncidentKind(
        "security",
        "civilDisorder",
        ("Keributan antarwarga di {street}, Satpol PP menuju lokasi",),
        0.8,
        (("low", 30), ("medium", 55), ("high", 15)),
        "all",
    ),
    IncidentKind(
        "health",
        "fallenPatient",
        ("Warga pingsan di {street}, ambulans dibutuhkan",),
        2.5,
        (("medium", 55), ("high", 40), ("critical", 5)),
        "all",
    ),
    IncidentKind(
        "health",
        "heartAttack",
        ("Dugaan serangan jantung di {street}, ambulans 119 dikirim",),
        0.8,
        (("high", 60), ("critical", 40)),
        "all",
    ),
    IncidentKind(
        "environment",
        "airPollution",
        ("Kabut asap menurunkan jarak pandang di Kec. {kec}",),
        0.5,
        (("informational", 40), ("low", 40), ("medium", 20)),
        "peri",
        0.0,
    ),
    IncidentKind(
        "weather",
        "rainfall",
        ("Hujan lebat disertai angin kencang di Kec. {kec}",),
        0.0,
        (("informational", 60), ("low", 40)),
        "all",
        0.0,
    ),  # rain-only, see _incident_weights
)

#: Who reports an alert of each category, when the city's config does not say.
ALERT_SOURCES: dict[str, str] = {
    "traffic": "dishub-atcs",
    "naturalDisaster": "bpbd",
    "weather": "bmkg",
    "environment": "dlhk",
    "security": "callcenter-112",
    "health": "callcenter-112",
}

#: (topic, SDM subCategory label, categoryCode, description templates)
REPORT_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("drainage", "Genangan air", ("Genangan air setinggi {cm} cm di depan rumah warga di {street}",)),
    ("drainage", "Drainase tersumbat", ("Parit tersumbat sampah dan sedimen di {street}, air tidak mengalir",)),
    ("drainage", "Saluran meluap", ("Saluran drainase meluap ke jalan saat hujan di {street}",)),
    ("drainage", "Gorong-gorong rusak", ("Gorong-gorong amblas di {street}",)),
    ("waste", "Sampah menumpuk", ("Tumpukan sampah belum diangkut {days} hari di {street}",)),
    ("waste", "TPS penuh", ("TPS penuh dan sampah meluber ke jalan di Kec. {kec}",)),
    ("waste", "Pembuangan liar", ("Sampah dibuang sembarangan di lahan kosong {street}",)),
    ("waste", "Pembakaran sampah", ("Warga membakar sampah, asap mengganggu di Kec. {kec}",)),
)


#: What a complaint app's report says, by the family its category maps to.
CHANNEL_TEMPLATES: dict[str, tuple[str, ...]] = {
    "drainage": ("Saluran air tersumbat dan meluap di {street}",),
    "waste": ("Sampah belum diangkut {days} hari di {street}",),
    "roads": ("Jalan rusak dan berlubang di {street}", "Aspal jalan amblas di {street}"),
    "other": ("Lampu penerangan jalan mati di {street}",),
}
