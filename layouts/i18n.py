"""Words, numbers and times as the operators read them: Bahasa Indonesia first, English by config.

Numbers use the locale's separators (``1.000,5`` in Indonesian) and times are shown in the
city's zone with its label (``Jumat, 5 Juli 2024 14:32 WIB``); Babel does the locale work.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "clock": "Waktu",
        "incident_queue": "Antrean insiden",
        "incidents_map": "Peta insiden",
        "drainage": "Drainase & tinggi air",
        "waste": "Persampahan",
        "mpp": "Mal Pelayanan Publik",
        "kpis": "Pilar kota cerdas",
        "feed_health": "Kesehatan feed",
        "ticker": "Kejadian terbaru",
        "stale": "DATA TERTUNDA",
        "updated": "diperbarui",
        "ago": "lalu",
        "no_data": "Belum ada data",
        "open": "terbuka",
        "critical": "KRITIS",
        "high": "TINGGI",
        "medium": "SEDANG",
        "low": "RENDAH",
        "informational": "INFO",
        "new": "baru",
        "acknowledged": "diterima",
        "dispatched": "dikirim",
        "resolved": "selesai",
        "screen": "Layar",
        "tablet": "Ringkasan Wali Kota",
        # drainage
        "flood_alert": "PERINGATAN BANJIR",
        "stations_in_alert": "pos Siaga/Awas",
        "stations": "pos",
        "level": "tinggi air",
        "Normal": "NORMAL",
        "Waspada": "WASPADA",
        "Siaga": "SIAGA",
        "Awas": "AWAS",
        "trend_6h": "tren 6 jam",
        "reports_drainage": "laporan genangan terbuka",
        # waste
        "tps_fill": "Pengisian TPS (terpenuh)",
        "tps_full": "TPS hampir penuh",
        "reports_open": "laporan terbuka",
        "reports_resolved": "laporan selesai",
        "median_resolve": "median waktu selesai",
        "open_by_kecamatan": "Laporan sampah terbuka per kecamatan",
        "hours_short": "jam",
        # MPP
        "served_today": "dilayani hari ini",
        "target_today": "target hari ini",
        "waiting": "menunggu",
        "serving": "dilayani",
        "avg_wait": "rata-rata tunggu",
        "queue_by_agency": "Antrean per instansi",
        "per_hour": "Dilayani per jam",
        "agency": "instansi",
        "min_short": "mnt",
        "col_served": "dilayani",
        "col_wait": "rata² tunggu",
        "closed": "tutup",
        "agencies_n": "{n} instansi",
        "services_n": "{n} layanan",
        # KPIs (pillar names come from the city's config)
        "veryGood": "SANGAT BAIK",
        "good": "BAIK",
        "fair": "CUKUP",
        "bad": "BURUK",
        "veryBad": "SANGAT BURUK",
        "unknown": "BELUM ADA",
        "target": "target",
        # feed health
        "connected": "TERHUBUNG",
        "disconnected": "TERPUTUS",
        "last_message": "pesan terakhir",
        "received": "diterima",
        "accepted": "disimpan",
        "rejected": "ditolak",
        "duplicates": "duplikat",
        "reconnects": "sambung ulang",
        "data_age": "Umur data per sumber",
        "feeds_title": "Feed masuk",
        "fresh": "SEGAR",
        "delayed": "TERTUNDA",
        "never": "belum pernah",
        "feeds_pending": "Status koneksi feed belum tersedia",
        "alarms": "Peringatan",
        "store_down": "Penyimpanan data tidak terjangkau",
        "store_reset": "Penyimpanan data dikosongkan",
        "too_many": "id baru melewati batas",
        "broker_dropped": "pesan dibuang broker",
        "screens_live": "layar hidup",
        "screens_silent": "layar diam",
        "incidents": "Insiden",
        "drainage_family": "Drainase",
        "waste_family": "Sampah",
        "mpp_family": "MPP",
        "kpis_family": "KPI",
        "events_in_ticker": "kejadian di ticker",
        # ticker and map
        "incident": "INSIDEN",
        "report": "LAPORAN",
        "topic_waste": "sampah",
        "topic_drainage": "drainase",
        "topic_roads": "jalan",
        "topic_other": "lainnya",
        "outside_districts": "di luar wilayah",
        "open_incidents": "insiden terbuka",
        "by_kecamatan": "Insiden terbuka per kecamatan",
        "legend_fill": "Warna kecamatan = insiden terbuka",
        "severity": "Tingkat",
        "by_category": "Insiden terbuka per jenis",
        "most_severe": "Insiden terbuka paling berat",
        "by_status": "Status insiden terbuka",
        "resolved_day": "Selesai 24 jam terakhir",
        "resolved_sla": "{pct} sesuai SLA",
        "cat_traffic": "Lalu lintas",
        "cat_naturalDisaster": "Bencana alam",
        "cat_weather": "Cuaca",
        "cat_environment": "Lingkungan",
        "cat_health": "Kesehatan",
        "cat_security": "Keamanan",
        "cat_agriculture": "Pertanian",
        "cat_water": "Air",
        # a card over a screen: taken over by a rule or pushed by an operator; broadcast levels
        "takeover": "PERLU TINDAKAN",
        "pushed": "DITAMPILKAN OPERATOR",
        "ack_hint": "Terima di konsol untuk menutup",
        "assignee": "Ditangani",
        "station": "Pos drainase",
        "GREEN": "INFO",
        "ORANGE": "WASPADA",
        "RED": "BAHAYA",
    },
    "en": {
        "clock": "Time",
        "incident_queue": "Incident queue",
        "incidents_map": "Incident map",
        "drainage": "Drainage & water levels",
        "waste": "Waste",
        "mpp": "Public Service Mall",
        "kpis": "Smart-city pillars",
        "feed_health": "Feed health",
        "ticker": "Latest events",
        "stale": "DATA DELAYED",
        "updated": "updated",
        "ago": "ago",
        "no_data": "No data yet",
        "open": "open",
        "critical": "CRITICAL",
        "high": "HIGH",
        "medium": "MEDIUM",
        "low": "LOW",
        "informational": "INFO",
        "new": "new",
        "acknowledged": "acknowledged",
        "dispatched": "dispatched",
        "resolved": "resolved",
        "screen": "Screen",
        "tablet": "Mayor's summary",
        # drainage
        "flood_alert": "FLOOD ALERT",
        "stations_in_alert": "stations at Siaga/Awas",
        "stations": "stations",
        "level": "water level",
        "Normal": "NORMAL",
        "Waspada": "WASPADA",
        "Siaga": "SIAGA",
        "Awas": "AWAS",
        "trend_6h": "6 h trend",
        "reports_drainage": "open flooding reports",
        # waste
        "tps_fill": "Waste sites, fullest first",
        "tps_full": "sites nearly full",
        "reports_open": "open reports",
        "reports_resolved": "reports resolved",
        "median_resolve": "median time to resolve",
        "open_by_kecamatan": "Open waste reports by district",
        "hours_short": "h",
        # MPP
        "served_today": "served today",
        "target_today": "today's target",
        "waiting": "waiting",
        "serving": "serving",
        "avg_wait": "average wait",
        "queue_by_agency": "Queue per agency",
        "per_hour": "Served per hour",
        "agency": "agency",
        "min_short": "min",
        "col_served": "served",
        "col_wait": "avg wait",
        "closed": "closed",
        "agencies_n": "{n} agencies",
        "services_n": "{n} services",
        # KPIs (pillar names come from the city's config)
        "veryGood": "VERY GOOD",
        "good": "GOOD",
        "fair": "FAIR",
        "bad": "POOR",
        "veryBad": "VERY POOR",
        "unknown": "NO DATA",
        "target": "target",
        # feed health
        "connected": "CONNECTED",
        "disconnected": "DISCONNECTED",
        "last_message": "last message",
        "received": "received",
        "accepted": "stored",
        "rejected": "rejected",
        "duplicates": "duplicates",
        "reconnects": "reconnects",
        "data_age": "Age of data by source",
        "feeds_title": "Inbound feeds",
        "fresh": "FRESH",
        "delayed": "DELAYED",
        "never": "never",
        "feeds_pending": "Feed connection status not available yet",
        "alarms": "Alarms",
        "store_down": "Data store unreachable",
        "store_reset": "Data store was emptied",
        "too_many": "new ids past the cap",
        "broker_dropped": "messages dropped by the broker",
        "screens_live": "screens live",
        "screens_silent": "screens silent",
        "incidents": "Incidents",
        "drainage_family": "Drainage",
        "waste_family": "Waste",
        "mpp_family": "MPP",
        "kpis_family": "KPIs",
        "events_in_ticker": "events in the ticker",
        # ticker and map
        "incident": "INCIDENT",
        "report": "REPORT",
        "topic_waste": "waste",
        "topic_drainage": "drainage",
        "topic_roads": "roads",
        "topic_other": "other",
        "outside_districts": "outside the districts",
        "open_incidents": "open incidents",
        "by_kecamatan": "Open incidents by district",
        "legend_fill": "District colour = open incidents",
        "severity": "Severity",
        "by_category": "Open incidents by type",
        "most_severe": "Most severe open incidents",
        "by_status": "Open incidents by status",
        "resolved_day": "Resolved in the last 24 h",
        "resolved_sla": "{pct} within SLA",
        "cat_traffic": "Traffic",
        "cat_naturalDisaster": "Natural disaster",
        "cat_weather": "Weather",
        "cat_environment": "Environment",
        "cat_health": "Health",
        "cat_security": "Security",
        "cat_agriculture": "Agriculture",
        "cat_water": "Water",
        # a card over a screen: taken over by a rule or pushed by an operator; broadcast levels
        "takeover": "ACTION NEEDED",
        "pushed": "ON WALL BY OPERATOR",
        "ack_hint": "Acknowledge in the console to clear",
        "assignee": "Assigned",
        "station": "Drainage station",
        "GREEN": "INFO",
        "ORANGE": "ALERT",
        "RED": "DANGER",
    },
}


#: Set by the test suite: a missing word raises instead of showing its key, so a gap fails a
#: test rather than reaching a wall. Read on each miss only, so it costs nothing otherwise.
STRICT_ENV = "CITYWALL_STRICT_WORDS"


def t(key: str, language: str) -> str:
    """The label in the configured language (Indonesian for an unknown language).

    A missing word shows as its key on a running wall, where a gap is better than an error;
    under the test suite (``CITYWALL_STRICT_WORDS=1``) it raises ``KeyError`` instead.
    """
    words = LABELS.get(language, LABELS["id"])
    try:
        return words[key]
    except KeyError:
        if os.environ.get(STRICT_ENV) == "1":
            raise KeyError(f"no word for {key!r} in language {language!r}") from None
        return key


def number(value: float | int | None, language: str, decimals: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=language)


def when(iso: str | None, tz: str, tz_label: str, language: str, with_date: bool = False) -> str:
    """An ISO time in the city's zone: ``14:32 WIB``, or with the long date."""
    if not iso:
        return "–"
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    pattern = "EEEE, d MMMM y HH:mm" if with_date else "HH:mm"
    return f"{format_datetime(moment, pattern, tzinfo=ZoneInfo(tz), locale=language)} {tz_label}"


def age(seconds: float | int | None, language: str) -> str:
    """A compact age (``3 mnt``, ``2 j``) that stays short enough to read from 4 m."""
    if seconds is None:
        return "–"
    s = int(seconds)
    units = (("h", 86_400), ("j", 3_600), ("mnt", 60)) if language == "id" else (("d", 86_400), ("h", 3_600), ("min", 60))
    for unit, size in units:
        if s >= size:
            return f"{s // size} {unit}"
    return f"{s} {'dtk' if language == 'id' else 's'}"
