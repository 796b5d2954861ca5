"""The Chromium fixture works: if this fails, every browser test would fail for reasons that
have nothing to do with the dashboard. (The other services' fixtures: integration/test_services.py.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.mark.browser
def test_chromium_renders_content(page_factory: Callable[..., object]) -> None:
    page = page_factory()
    page.set_content("<h1 id='t'>Command Centre</h1>")  # type: ignore[attr-defined]
    assert page.inner_text("#t") == "Command Centre"  # type: ignore[attr-defined]
    assert page.viewport_size == {"width": 1920, "height": 1080}  # type: ignore[attr-defined]

    small = page_factory(800, 600)
    small.goto("data:text/html,<p id=p>Surabaya</p>")  # type: ignore[attr-defined]
    assert small.inner_text("#p") == "Surabaya"  # type: ignore[attr-defined]
    assert small.evaluate("window.innerWidth") == 800  # type: ignore[attr-defined]
