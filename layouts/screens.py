"""One wall screen's content, shared by ``/wall`` (all screens) and ``/screen/<n>`` (one).

A screen shows its configured panels in a grid, or its piece of a panel that spans several
screens. A spanning panel is rendered once at the size of its whole rectangle (bezel gaps
included) and each screen shows its own window onto it, so lines continue straight across
the bezels.

The grid suits its panels: a clock takes a short band across the top and the rest share
what is left (one panel fills it, two sit side by side, more make two rows), because a clock
needs a line and a KPI board needs the screen.
"""

from __future__ import annotations

import math
from typing import Any, cast

from dash import html

from layouts import panels
from layouts.frame import frame
from layouts.ports import Span, ViewSettings
from layouts.tree import attrs

#: Panels that only need a band across the top of a shared screen, and its height in px.
BANDS = {"clock": 200}


def panel_block(name: str, instance: str, settings: ViewSettings) -> html.Div:
    module = panels.load(name)
    family = module.family(settings) if hasattr(module, "family") else module.FAMILY  # some follow the city's config
    return frame(name, family, instance, settings.language, module.body(instance, settings))


def grid_style(names: tuple[str, ...]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The CSS grid of a screen and the placement of each of its panels."""
    bands = [n for n in names if n in BANDS] if len(names) > 1 else []
    rest = [n for n in names if n not in bands]
    count = len(rest)
    cols = 1 if count <= 1 else 2 if count in (2, 4) else 3
    rows = max(1, math.ceil(count / cols))
    template_rows = " ".join([f"{BANDS[n]}px" for n in bands] + ["minmax(0, 1fr)"] * rows)
    style = {"gridTemplateColumns": f"repeat({cols}, minmax(0, 1fr))", "gridTemplateRows": template_rows}
    places = [{"gridColumn": "1 / -1"} if n in bands else {} for n in names]
    return style, places


def grid(names: tuple[str, ...], screen: int, settings: ViewSettings, prefix: str | None = None) -> html.Div:
    ordered = tuple(sorted(names, key=lambda n: n not in BANDS)) if len(names) > 1 else names
    style, places = grid_style(ordered)
    blocks = []
    for i, name in enumerate(ordered):
        block = panel_block(name, f"{prefix or f's{screen}'}-{i}", settings)
        if places[i]:
            cast(Any, block).style = places[i]  # Dash's typed components list no attributes
        blocks.append(block)
    return html.Div(blocks, className=f"cw-grid cw-grid-{len(blocks)}", style=style)


def preset_panels(screen: int, settings: ViewSettings, preset: str | None) -> tuple[str, ...] | None:
    """The panels a wall preset puts on ``screen``, or None when the preset leaves it alone."""
    return settings.presets.get(preset or "", {}).get(screen)


def screen_body(screen: int, settings: ViewSettings, preset: str | None = None) -> html.Div:
    """A screen's own content: its panels, or its playlist rotating through panels.

    A playlist shows one slide at a time, every ``every_s`` seconds the next (the rotation
    runs in ``citywall.js``; all slides stay live, so a slide is current the moment it
    shows). The screen's fixed panels, when it has some, are the first slide.
    """
    chosen = preset_panels(screen, settings, preset)
    if chosen is not None:
        return grid(chosen, screen, settings, prefix=f"s{screen}{preset}")
    names = settings.screens.get(screen, ())
    playlist = settings.playlists.get(screen)
    if not playlist:
        return grid(names, screen, settings)
    panels_, every_s = playlist
    slides = ([names] if names else []) + [(p,) for p in panels_]
    return html.Div(
        [
            html.Div(grid(slide, screen, settings, prefix=f"s{screen}p{k}"), className="cw-slide")
            for k, slide in enumerate(slides)
        ],
        className="cw-playlist",
        **attrs({"data-every": str(every_s)}),
    )


def span_size(span: Span, settings: ViewSettings) -> tuple[int, int]:
    wall = settings.wall
    (r0, c0), (r1, c1) = wall.position(span.top_left), wall.position(span.bottom_right)
    cols, rows = c1 - c0 + 1, r1 - r0 + 1
    return (cols * wall.screen_width_px + (cols - 1) * wall.bezel_px, rows * wall.screen_height_px + (rows - 1) * wall.bezel_px)


def span_block(span: Span, settings: ViewSettings, instance: str, place: dict[str, str] | None = None) -> html.Div:
    """A spanning panel at the size of its whole rectangle, bezel gaps included.

    The screen geometry goes along as CSS variables so the panel can keep its head and
    badges inside the first screen. ``place`` adds the caller's positioning to the style
    (the wall's absolute offsets, a screen's window translation).
    """
    width, height = span_size(span, settings)
    wall = settings.wall
    return html.Div(
        panel_block(span.panel, instance, settings),
        className="cw-span",
        style={
            "width": f"{width}px",
            "height": f"{height}px",
            "--cw-screen-w": f"{wall.screen_width_px}px",
            "--cw-screen-h": f"{wall.screen_height_px}px",
            "--cw-bezel": f"{wall.bezel_px}px",
            **(place or {}),
        },
    )


def screen_content(screen: int, settings: ViewSettings, preset: str | None = None) -> Any:
    """For ``/screen/<n>``: the screen's own panels, or its window onto a span (a preset that
    names the screen replaces either)."""
    span = settings.span_at(screen)
    if span is None or preset_panels(screen, settings, preset) is not None:
        return screen_body(screen, settings, preset)
    wall = settings.wall
    (r0, c0), (r, c) = wall.position(span.top_left), wall.position(screen)
    dx = (c - c0) * (wall.screen_width_px + wall.bezel_px)
    dy = (r - r0) * (wall.screen_height_px + wall.bezel_px)
    return span_block(span, settings, f"s{screen}-span", {"transform": f"translate({-dx}px, {-dy}px)"})


def identify(screen: int) -> html.Div:
    """The screen's number, huge, for matching browser windows to monitors during set-up."""
    return html.Div(str(screen), className="cw-identify")
