"""What wall control lays over a screen: a broadcast banner, a pushed incident, a takeover.

Every screen (on ``/screen/<n>`` and on each tile of ``/wall``) holds one overlay: a live
part of its own (``overlay-s<n>``), so it follows the store's version like any panel and
reaches an open screen with the same push, within a second, without a reload. It also
carries the current preset (``data-wall-preset``); ``assets/wall_control.js`` sees a preset
other than the one the page was drawn with and has Dash's router draw the page again.

A takeover wins over a pushed incident on the same screen: it is what the city's rules say
cannot wait. Pushes and the broadcast carry an end time and are left out once it passes, so
they vanish at the next push heartbeat without anyone writing. The broadcast banner runs
along the top of every screen but those under the top row of a span: there it lay across
the middle of the spanned map, over the city centre.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from dash import Dash, html

from layouts import elements as el
from layouts.frame import SEVERITY_COLOURS, SEVERITY_SHAPES, STAGE_COLOURS, STAGE_SHAPES, live_part
from layouts.i18n import number, t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.sections import PushedIncident, StationTakeover, Takeover
from layouts.tree import attrs

MAP_SPAN_DEG = 0.02  # half the side of the pushed incident's map: about 2 km each way


def role(screen: int) -> str:
    return f"overlay-s{screen}"


def overlay(screen: int, instance: str) -> html.Div:
    return html.Div(
        live_part(role(screen), instance, "cw-overlay"),
        className="cw-overlay-root",
        **attrs({"data-overlay-screen": str(screen)}),
    )


def _card(**known: Any) -> dict[str, Any]:
    """A takeover's or a pushed incident's card, with every key the render reads."""
    keep = (
        "id",
        "kind",
        "rule",
        "title",
        "severity",
        "stage",
        "where",
        "level_m",
        "lat",
        "lon",
        "status",
        "assignee",
        "address",
        "incident",
        "category",
    )
    return {k: known.get(k) for k in keep}


def _takeover_card(x: Takeover) -> dict[str, Any]:
    if isinstance(x, StationTakeover):
        return _card(
            id=x.id,
            kind=x.kind,
            rule=x.rule,
            title=x.title,
            stage=x.stage,
            where=x.where,
            level_m=x.level_m,
            lat=x.lat,
            lon=x.lon,
        )
    return _card(
        id=x.id,
        kind=x.kind,
        rule=x.rule,
        title=x.title,
        severity=x.severity,
        where=x.where,
        category=x.category,
        lat=x.lat,
        lon=x.lon,
    )


def _pushed_card(p: PushedIncident) -> dict[str, Any]:
    return _card(
        title=p.title,
        severity=p.severity,
        where=p.where,
        lat=p.lat,
        lon=p.lon,
        status=p.status,
        assignee=p.assignee,
        address=p.address,
        incident=p.incident,
    )


def under_a_spans_top(screen: int, settings: ViewSettings) -> bool:
    """Whether the screen shows a lower part of a spanned panel (the map's screens 8 and 9)."""
    span = settings.span_at(screen)
    return span is not None and settings.wall.position(screen)[0] > settings.wall.position(span.top_left)[0]


def view_for(screen: int):
    def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
        wall = picture.wall
        now = time.time()
        broadcast = wall.broadcast if not under_a_spans_top(screen, settings) else None
        takeover = next((x for x in wall.takeovers if x.screen == screen), None)
        pushed = next((p for p in wall.pushed if p.screen == screen and p.until > now), None)
        return {
            "preset": wall.current or "default",
            "broadcast": [broadcast.level, broadcast.text] if broadcast is not None and broadcast.until > now else None,
            "takeover": _takeover_card(takeover) if takeover is not None else None,
            "pushed": _pushed_card(pushed) if pushed is not None and takeover is None else None,
        }

    return view


#: A broadcast longer than two lines of the strip's letters hold (about 110 characters at
#: 48 px on a 1920-px screen) takes a taller strip in smaller letters: at 280 characters the
#: wall showed the first 130 and an ellipsis.
LONG_BROADCAST = 110


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    out: list[Any] = [el.Span(className="cw-preset-mark", **attrs({"data-wall-preset": shown["preset"]}))]
    if shown["broadcast"]:
        level, text = shown["broadcast"]
        out.append(
            el.Div(
                [el.Span(t(level, language), className="cw-broadcast-level"), el.Span(text, className="cw-broadcast-text")],
                className=f"cw-broadcast lvl-{level}" + (" cw-broadcast-long" if len(text) > LONG_BROADCAST else ""),
                **attrs({"data-broadcast": level}),
            )
        )
    card = shown["takeover"] or shown["pushed"]
    if card:
        takeover = shown["takeover"] is not None
        ident = card.get("id") or card.get("incident") or ""
        # a station in its stage's shape and colour, as on the drainage panel; an incident in its
        # severity's: the badge, and the pin on the card's map, which was red for any of them
        if card.get("kind") == "station":
            stage = card.get("stage") or "Awas"
            badge, badge_class, colour = (
                f"{STAGE_SHAPES.get(stage, '■')} {t(stage, language)}",
                f"stage-{stage}",
                STAGE_COLOURS.get(stage),
            )
            # the level as the drainage panel writes it ("2,90 m"): the card said "2.9 m" beside it
            sub = f"{t('station', language)} · {number(card.get('level_m'), language, 2)}\u00a0m"
        else:
            severity = card.get("severity") or "medium"
            badge = f"{SEVERITY_SHAPES.get(severity, '●')} {t(severity, language)}"
            badge_class, colour = f"sev-{severity}", SEVERITY_COLOURS.get(severity)
            status = t(card.get("status") or "new", language)
            sub = status + (f" · {t('assignee', language)}: {card['assignee']}" if card.get("assignee") else "")
        minimap = _minimap(card.get("lat"), card.get("lon"), settings, colour or SEVERITY_COLOURS["critical"])
        out.append(
            el.Div(
                className="cw-takeover" if takeover else "cw-pushed",
                **attrs({"data-takeover" if takeover else "data-pushed": ident}),
                children=[
                    el.Div(t("takeover" if takeover else "pushed", language), className="cw-card-kicker"),
                    el.Div(badge, className=f"cw-card-badge {badge_class}"),
                    el.Div(card.get("title") or ident, className="cw-card-title"),
                    el.Div(" · ".join(x for x in (card.get("where"), card.get("address")) if x), className="cw-card-where"),
                    el.Div(
                        sub if card.get("kind") == "station" or not takeover else t("ack_hint", language), className="cw-card-sub"
                    ),
                    *([el.Img(src=minimap, className="cw-card-map", alt="")] if minimap else []),
                ],
            )
        )
    return out


def _minimap(lat: Any, lon: Any, settings: ViewSettings, colour: str) -> str | None:
    """The districts around a point and the point in ``colour``, as an SVG data URI: a map
    zoomed to the incident that needs no tile server and no graph component inside live
    content."""
    if lat is None or lon is None or not settings.districts_geojson:
        return None
    lat, lon = float(lat), float(lon)
    x0, x1, y0, y1 = lon - MAP_SPAN_DEG, lon + MAP_SPAN_DEG, lat - MAP_SPAN_DEG, lat + MAP_SPAN_DEG
    size = 600

    def xy(pt: list[float]) -> str:
        return f"{(pt[0] - x0) / (x1 - x0) * size:.1f},{(y1 - pt[1]) / (y1 - y0) * size:.1f}"

    paths = []
    for feature in settings.districts_geojson.get("features", []):
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon:
                if not any(x0 - 0.05 <= p[0] <= x1 + 0.05 and y0 - 0.05 <= p[1] <= y1 + 0.05 for p in ring):
                    continue
                paths.append("M" + " L".join(xy(p) for p in ring) + " Z")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
        f'<rect width="{size}" height="{size}" fill="#0b1422"/>'
        f'<path d="{" ".join(paths)}" fill="#15233a" stroke="#8aa0bf" stroke-width="2"/>'
        f'<circle cx="{size / 2}" cy="{size / 2}" r="60" fill="none" stroke="{colour}" stroke-width="6"/>'
        f'<circle cx="{size / 2}" cy="{size / 2}" r="16" fill="{colour}"/></svg>'
    )
    return "data:image/svg+xml;utf8," + quote(svg)


def register(app: Dash, live: LiveParts) -> None:
    for screen in range(1, live.settings.wall.screen_count + 1):
        live.add(app, role(screen), view_for(screen), render)
