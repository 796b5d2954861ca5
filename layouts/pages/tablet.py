"""``/tablet``: the mayor's summary, sized for a tablet in either orientation and for a phone.

The page is only the skeleton from ``layouts.mayor.page``; the callbacks in
``layouts.mayor.callbacks`` fill it and keep it current. ``?pillar=<name>`` opens a pillar
straight away, so a link shared by the staff lands on the pillar it is about.
"""

from __future__ import annotations

from dash import html

from layouts.i18n import t
from layouts.mayor import callbacks
from layouts.mayor.page import page
from layouts.ports import Callbacks, CityReader, ViewSettings
from layouts.routing import Pages


def register(app: Callbacks, pages: Pages, reader: CityReader, settings: ViewSettings) -> None:
    """The page and its callbacks, as the console registers its own."""

    def layout(pillar: str = "", **_: str) -> html.Div:
        return page(settings, open_pillar=pillar)

    pages.add("tablet", "/tablet", layout, title=f"{t('title', settings.language)} – {settings.city_name}")
    callbacks.register(app, reader, settings)
