"""``/wall``: every screen tiled on one canvas, for a video-wall controller spanning them all.

The canvas is columns x rows screens with bezel gaps between them, so a controller that maps
one big desktop over the monitors shows each screen exactly on its LCD. ``?scale=0.25``
shrinks it for a desk preview; ``?identify=1`` shows each screen's number for setting up.
"""

from __future__ import annotations

from dash import html

from layouts.live import page_parts
from layouts.overlay import overlay
from layouts.ports import ViewSettings
from layouts.routing import Pages
from layouts.screens import identify as identify_mark
from layouts.screens import preset_panels, screen_body, span_block
from layouts.tree import attrs


def canvas(settings: ViewSettings, scale: float = 1.0, identify: bool = False, preset: str = "default") -> html.Div:
    wall = settings.wall
    step_x, step_y = wall.screen_width_px + wall.bezel_px, wall.screen_height_px + wall.bezel_px
    tiles = []
    spanned = {s for span in settings.spans for s in span.screens}
    for screen in range(1, wall.screen_count + 1):
        row, col = wall.position(screen)
        style = {
            "left": f"{col * step_x}px",
            "top": f"{row * step_y}px",
            "width": f"{wall.screen_width_px}px",
            "height": f"{wall.screen_height_px}px",
        }
        own = screen not in spanned or preset_panels(screen, settings, preset) is not None
        content = [screen_body(screen, settings, preset)] if own else []
        over = " cw-over-span" if own and screen in spanned else " cw-under-span" if not own else ""
        tiles.append(
            html.Div(
                [*content, overlay(screen, "w")],
                className="cw-screen cw-tile" + over,
                style=style,
                **attrs({"data-screen": str(screen)}),
            )
        )
    for i, span in enumerate(settings.spans):
        row, col = wall.position(span.top_left)
        tiles.append(
            span_block(
                span, settings, f"span{i}", {"position": "absolute", "left": f"{col * step_x}px", "top": f"{row * step_y}px"}
            )
        )
    if identify:
        # on top of everything, spans included, so every monitor shows its own number
        for screen in range(1, wall.screen_count + 1):
            row, col = wall.position(screen)
            tiles.append(
                html.Div(
                    identify_mark(screen),
                    className="cw-identify-tile",
                    style={
                        "left": f"{col * step_x}px",
                        "top": f"{row * step_y}px",
                        "width": f"{wall.screen_width_px}px",
                        "height": f"{wall.screen_height_px}px",
                    },
                )
            )
    width = wall.columns * step_x - wall.bezel_px
    height = wall.rows * step_y - wall.bezel_px
    return html.Div(
        html.Div(
            tiles,
            className="cw-canvas",
            style={"width": f"{width}px", "height": f"{height}px", "transform": f"scale({scale})", "transformOrigin": "0 0"},
        ),
        # full size is what a wall controller shows: a kiosk (no cursor, no scrollbars);
        # a scaled preview is for a desk, where a cursor and scrolling are welcome
        className="cw-wall" + (" cw-identifying" if identify else "") + (" cw-kiosk" if scale == 1.0 else " cw-preview"),
        style={"width": f"{width * scale}px", "height": f"{height * scale}px"},
    )


def register(pages: Pages, settings: ViewSettings) -> None:
    def layout(scale: str = "1", identify: str = "0", preset: str = "default", **_: str) -> html.Div:
        try:
            factor = min(max(float(scale), 0.05), 4.0)
        except ValueError:
            factor = 1.0
        preset = preset if preset in settings.presets else "default"
        wall = canvas(settings, factor, identify not in ("0", "", "false"), preset)
        return html.Div([wall, page_parts(wall)], **attrs({"data-page-preset": preset}))

    pages.add("wall", "/wall", layout, title=f"citywall – {settings.city_name}")
