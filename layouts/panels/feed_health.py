"""Feed health: can the operators trust what the other screens show?

"The river is calm" and "the river gauge feed is dead" look the same on a level chart, so
this panel says, per source, when data last arrived and whether that is too long ago, and
per inbound feed (MQTT, Redis) whether it is connected and what it received, stored and
rejected. Ages tick in the browser (``citywall.js`` writes every ``data-age-for`` element
and ``data-stale-for`` attribute once a second), so a dead feed shows up here even when
nothing at all reaches the server any more.

Feed counters come from ``picture.feeds`` (the store's ``feeds()``, each feed's own status
document); the panel reads those documents defensively, since an older or broken writer may
have left anything in them, and still shows the per-source ages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash

from layouts import elements as el
from layouts.frame import empty, live_part
from layouts.i18n import day_start, number, t, when, when_lately, word_or_code
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs

FAMILY = "feeds"
SOURCES = ("incidents", "drainage", "waste", "mpp", "kpis")
SOURCE_LABELS = {
    "incidents": "incidents",
    "drainage": "drainage_family",
    "waste": "waste_family",
    "mpp": "mpp_family",
    "kpis": "kpis_family",
}
FEEDS_SHOWN = 4


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return live_part("feed_health", instance, "cw-feed-health")


def _rejected(counts: dict[str, Any]) -> tuple[int, list[tuple[str, int]]]:
    """The rejected total and the reasons, largest first (``rejected.<reason>`` keys)."""
    reasons = sorted(
        ((k.split(".", 1)[1], int(v)) for k, v in counts.items() if k.startswith("rejected.") and v), key=lambda kv: -kv[1]
    )
    total = counts.get("rejected")
    return (int(total) if total is not None else sum(v for _, v in reasons)), reasons


def reason_word(code: str, language: str) -> str:
    """A dead-letter reason (``feeds.events.Reason``) in the wall's language: operators read
    "jenis tak dikenal", not ``unknown_type``; the API and the dead-letter records keep the code.
    A code this build has no word for (a store written by another version) shows as it came,
    not as an error: the panel must still draw."""
    return word_or_code("reason", code, language)


def _mapping(value: Any) -> dict[str, Any]:
    """A section of the picture as a dict, or an empty one: a store written by an older or
    broken writer may hold anything there, and the panel must still draw."""
    return value if isinstance(value, dict) else {}


def _in_order(feeds: dict[str, Any]) -> list[str]:
    """The feeds first, then the ingest members (``<feed>@<member>``) that are not done with:
    running ones before dead ones. A member whose session was emptied has nothing left to
    show; the rows are few, and the feeds' own must never be pushed off them."""
    own = sorted(name for name in feeds if "@" not in name)
    members = [name for name in feeds if "@" in name and _mapping(feeds[name]).get("state") != "drained"]
    members.sort(key=lambda name: (_mapping(feeds[name]).get("state") != "running", name))
    return own + members


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    fresh = picture.freshness
    day = day_start(picture.read_at(), settings.timezone)
    feeds = picture.feeds
    shown_feeds = []
    for name in _in_order(feeds)[:FEEDS_SHOWN]:
        feed = _mapping(feeds[name])
        counts = _mapping(feed.get("counts"))
        rejected, reasons = _rejected(counts)
        shown_feeds.append(
            {
                "name": name,
                "connected": bool(feed.get("connected")),
                "silent": bool(feed.get("silent")),
                "last": feed.get("last_message_at"),
                "day": day,
                "received": int(counts.get("received", 0)),
                "accepted": int(counts.get("accepted", 0)),
                "duplicates": int(counts.get("duplicates", 0)),
                "rejected": rejected,
                "reasons": reasons[:2],
                "outside": int(counts.get("outside_districts", 0)),
                "lost": int(counts.get("lost", 0)),
            }
        )
    return {
        "alarms": alarms(picture),
        "has_data": bool(fresh),
        # a city whose KPIs all come from the streams has no KPI feed: "never, delayed" for ever
        "sources": [
            {"family": f, "updated_at": fresh[f].updated_at, "day": day}
            for f in SOURCES
            if f in fresh and (f != "kpis" or f in settings.kpi_families)
        ],
        "feeds": shown_feeds,
        "feeds_known": bool(feeds),
        "ticker_events": len(picture.ticker),
    }


def alarms(picture: CityPicture) -> dict[str, Any]:
    """What must catch an operator's eye: the store away or emptied, new ids refused at a cap,
    messages the broker dropped, and how many screens are alive out of those expected."""
    store, screens = picture.store, picture.screens
    too_many = dropped = 0
    for feed in picture.feeds.values():
        if isinstance(feed, dict):
            counts = _mapping(feed.get("counts"))
            too_many += int(counts.get("rejected.too_many_entities", 0))
            dropped = max(dropped, int(feed.get("broker_dropped") or 0))
    return {
        "store_down": store is not None and not store.ok,
        "store_reset_at": store.reset_at if store is not None else None,
        "too_many": too_many,
        "broker_dropped": dropped,
        "screens": [screens.live, screens.expected, screens.silent] if screens is not None else None,
    }


def alarm_rows(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    rows: list[Any] = []
    if shown["store_down"]:
        rows.append(el.Div(f"✖ {t('store_down', language)}", className="cw-alarm", **attrs({"data-alarm": "store_down"})))
    if shown["store_reset_at"]:
        at = datetime.fromtimestamp(float(shown["store_reset_at"]), UTC).isoformat()
        rows.append(
            el.Div(
                f"■ {t('store_reset', language)} {when(at, settings.timezone, settings.timezone_label, language)}",
                className="cw-alarm",
                **attrs({"data-alarm": "store_reset"}),
            )
        )
    if shown["too_many"]:
        rows.append(
            el.Div(
                f"■ {number(shown['too_many'], language)} {t('too_many', language)}",
                className="cw-alarm",
                **attrs({"data-alarm": "too_many_entities"}),
            )
        )
    if shown["broker_dropped"]:
        rows.append(
            el.Div(
                f"■ {number(shown['broker_dropped'], language)} {t('broker_dropped', language)}",
                className="cw-alarm",
                **attrs({"data-alarm": "broker_dropped"}),
            )
        )
    if shown["screens"] is not None:
        live, expected, silent = shown["screens"]
        text = f"{number(live, language)}/{number(expected, language)} {t('screens_live', language)}"
        if silent:
            text += f" · {number(silent, language)} {t('screens_silent', language)}"
        rows.append(
            el.Div(
                text,
                className="cw-alarm" if silent or live < expected else "cw-muted",
                **attrs(
                    {"data-alarm": "screens", "data-live": str(live), "data-expected": str(expected), "data-silent": str(silent)}
                ),
            )
        )
    return rows


def _last(iso: str, day: float | None, settings: ViewSettings) -> str:
    """When a feed last delivered: ``14:32 WIB`` on the city's day of the reading (``day``, its
    start), ``3 Jul 14:32 WIB`` before it. A feed silent since Wednesday read as this
    afternoon's on Friday morning."""
    if day is None:
        return when(iso, settings.timezone, settings.timezone_label, settings.language)
    return when_lately(iso, settings.timezone, settings.timezone_label, settings.language, day)


def source_row(src: dict[str, Any], settings: ViewSettings) -> el.Tree:
    language = settings.language
    family = src["family"]
    updated = src["updated_at"]
    last = _last(updated, src.get("day"), settings) if updated else t("never", language)
    return el.Div(
        className="cw-source",
        key=family,  # keyed: each message moves a feed's counts, not the families' rows
        **attrs({"data-stale-for": family}),
        children=[
            el.Span(t(SOURCE_LABELS.get(family, family), language), className="cw-source-name"),
            el.Span(last, className="cw-source-last"),
            el.Span("", className="cw-source-age", **attrs({"data-age-for": family, "data-age-short": "1"})),
            el.Span(
                [
                    el.Span(f"● {t('fresh', language)}", className="cw-when-fresh"),
                    el.Span(f"■ {t('delayed', language)}", className="cw-when-stale"),
                ],
                className="cw-source-state",
            ),
        ],
    )


def feed_row(feed: dict[str, Any], settings: ViewSettings) -> el.Tree:
    language = settings.language
    state = "connected" if feed["connected"] else "silent" if feed.get("silent") else "disconnected"
    last = _last(feed["last"], feed.get("day"), settings) if feed["last"] else t("never", language)
    reasons = ", ".join(f"{reason_word(r, language)} {number(n, language)}" for r, n in feed["reasons"])
    return el.Div(
        className=f"cw-feed is-{state}",
        key=feed["name"],
        **attrs({"data-feed": feed["name"]}),
        children=[
            el.Div(
                className="cw-feed-head",
                children=[
                    el.Span(feed["name"].upper(), className="cw-feed-name"),
                    el.Span(f"{'●' if feed['connected'] else '✖'} {t(state, language)}", className=f"cw-feed-state is-{state}"),
                    el.Span(f"{t('last_message', language)} {last}", className="cw-feed-last"),
                ],
            ),
            el.Div(
                className="cw-feed-counts",
                children=[
                    el.Span([el.B(number(feed["received"], language)), f" {t('received', language)}"]),
                    el.Span([el.B(number(feed["accepted"], language)), f" {t('accepted', language)}"]),
                    el.Span([el.B(number(feed["duplicates"], language)), f" {t('duplicates', language)}"]),
                    el.Span(
                        [
                            el.B(number(feed["rejected"], language)),
                            f" {t('rejected', language)}",
                            *([f" ({reasons})"] if reasons else []),
                        ],
                        className="cw-feed-rejected" if feed["rejected"] else "",
                    ),
                    el.Span(
                        [el.B(number(feed["outside"], language)), f" {t('outside_districts', language)}"],
                        className="cw-feed-outside cw-feed-rejected" if feed["outside"] else "cw-feed-outside",
                        **attrs({"data-outside": str(feed["outside"])}),
                    ),
                    *(
                        [el.Span([el.B(number(lost, language)), f" {t('lost', language)}"], className="cw-feed-rejected")]
                        if (lost := feed.get("lost", 0))
                        else []
                    ),
                ],
            ),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    feeds: list[Any] = [feed_row(f, settings) for f in shown["feeds"]]
    if not feeds:
        feeds = [el.Div(t("feeds_pending", language), className="cw-muted")]
    alarm = alarm_rows(shown["alarms"], settings)
    return [
        *([el.Div(alarm, className="cw-feed-section cw-alarms")] if alarm else []),
        el.Div(
            [
                el.Div(t("data_age", language), className="cw-section-title"),
                el.Div([source_row(s, settings) for s in shown["sources"]], className="cw-sources"),
            ],
            className="cw-feed-section",
        ),
        el.Div(
            [el.Div(t("feeds_title", language), className="cw-section-title"), el.Div(feeds, className="cw-feeds cw-fit")],
            className="cw-feed-section cw-feed-section-grow",
        ),
    ]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "feed_health", view, render)
