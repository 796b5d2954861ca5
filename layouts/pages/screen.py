"""``/screen/<n>``: one wall screen alone, full viewport, for a kiosk LCD.

The screen is exactly one monitor (1920 x 1080 by default): no scrollbars, no cursor, nothing
outside it (``cw-kiosk`` in the wall theme). ``?identify=1`` adds the screen's number, huge.
"""

from __future__ import annotations

from dash import html

from layouts.i18n import t
from layouts.live import page_parts
from layouts.overlay import overlay
from layouts.ports import ViewSettings
from layouts.routing import Pages
from layouts.screens import identify as identify_mark
from layouts.screens import screen_content
from layouts.tree import attrs


def register(pages: Pages, settings: ViewSettings) -> None:
    def layout(n: str = "1", identify: str = "0", preset: str = "default", **_: str) -> html.Div:
        try:
            screen = int(n)
        except ValueError:
            screen = 0
        if not 1 <= screen <= settings.wall.screen_count:
            wall = settings.wall
            return html.Div(  # a kiosk left on a screen of a bigger wall is told what this one has
                t(
                    "screen_not_on_wall",
                    settings.language,
                    n=n[:16],
                    count=wall.screen_count,
                    columns=wall.columns,
                    rows=wall.rows,
                ),
                className="cw-error",
            )
        preset = preset if preset in settings.presets else "default"
        content = [screen_content(screen, settings, preset), overlay(screen, "k")]
        if identify not in ("0", "", "false"):
            content.append(identify_mark(screen))
        content.append(page_parts(content))
        return html.Div(
            content,
            className="cw-screen cw-kiosk",
            style={"width": f"{settings.wall.screen_width_px}px", "height": f"{settings.wall.screen_height_px}px"},
            **attrs({"data-screen": str(screen), "data-page-preset": preset}),
        )

    pages.add("screen", "/screen/<n>", layout, title=f"citywall – {settings.city_name}")
