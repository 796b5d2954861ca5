"""The Dash app factory: the place where config, store, pages and panels meet.

``create_app`` is the only function that knows all three packages. Everything it hands to
``layouts`` is plain: a reader satisfying ``layouts.ports.CityReader`` and ``ViewSettings``.
Dash runs on its FastAPI backend so pages can be pushed to over a websocket, and the JSON
API shares the same server and port.
"""

from __future__ import annotations

import html as markup
import logging
import os
from pathlib import Path
from typing import Any

from dash import Dash, html
from dash.exceptions import PreventUpdate
from starlette.middleware.gzip import GZipMiddleware

from dashboard import api, export, ops_api, screen_registry, web_security
from dashboard.auth import may_show_page, reporter_name
from dashboard.auth import routes as auth_routes
from dashboard.auth.csrf import COOKIE as CSRF_COOKIE
from dashboard.auth.guard import AuthMiddleware
from dashboard.auth.service import AuthService
from dashboard.config import Config
from dashboard.console_port import ConsolePort
from dashboard.desk import Desk
from dashboard.health import StoreGate, StoreHealth
from dashboard.layout_settings import view_settings
from dashboard.reader import PictureCache
from dashboard.screen_registry import ScreenRegistry
from dashboard.store.base import StateStore
from dashboard.store.redis_store import is_outage
from dashboard.writeback import WriteBack
from dashboard.writeback import from_config as writeback_from_config
from layouts import live, overlay, panels, routing
from layouts.dash_compat import no_callback_websocket, run_first_request_setup
from layouts.i18n import words_holder
from layouts.live_parts import LiveParts
from layouts.pages import console, report, screen, tablet, wall

ASSETS = Path(__file__).resolve().parent.parent / "assets"


class CityDash(Dash):
    """Dash, with the page's title escaped: Dash writes it into the HTML as it is, and the
    title carries the city's name from the config. A name holding markup put a
    ``<meta http-equiv="refresh">`` of its own into every page, which the CSP does not stop.
    The router sets the same title as text (``layouts.routing``), so that stays raw."""

    def interpolate_index(
        self,
        metas: Any = "",
        title: Any = "",
        css: Any = "",
        config: Any = "",
        scripts: Any = "",
        app_entry: Any = "",
        favicon: Any = "",
        renderer: Any = "",
    ) -> Any:
        return super().interpolate_index(
            metas=metas,
            title=markup.escape(str(title)),
            css=css,
            config=config,
            scripts=scripts,
            app_entry=app_entry,
            favicon=favicon,
            renderer=renderer,
        )


def create_app(config: Config, store: StateStore, writeback: WriteBack | None = None) -> Dash:
    """``writeback``: where operator actions go out; by default the configured MQTT broker and
    Redis feed (none configured: actions are stored and audited only)."""
    health = StoreHealth(store).start()
    screens = ScreenRegistry(
        config.wall.screen_count,
        config.server.screens_expected,
        config.server.heartbeat_s,
        may_show=may_show_page,
        maps=store,
        reporter=reporter_name,
    )
    reader = PictureCache(store, config, health=health, screens=screens.summary)
    if writeback is None:
        writeback = writeback_from_config(
            config.feeds.mqtt.url,
            config.feeds.redis.url,
            config.city.slug,
            client_id=f"{config.feeds.mqtt.client_id}-actions-{os.getpid()}",
        )
    desk = Desk(store, config, writeback)
    port = ConsolePort(desk)
    settings = view_settings(config)
    auth = AuthService(config.auth, store, allowed_origins=config.server.allowed_origins, store_ok=lambda: health.ok)
    health.on_reset(auth.restore_secret)
    app = CityDash(
        __name__,
        backend="fastapi",
        use_pages=False,  # each app routes its own pages (layouts.routing): Dash's page table is global
        assets_folder=str(ASSETS),
        assets_ignore=r"login\.js$",  # the login page's own script (dashboard.auth.routes)
        serve_locally=True,
        title=f"citywall – {config.city.name}",
        update_title=None,  # type: ignore[arg-type]  # Dash documents None (keep the title) but types it str
        suppress_callback_exceptions=True,
        websocket_allowed_origins=list(config.server.allowed_origins),  # besides the page's own
        # Dash's renderer echoes this cookie in this header on every callback: the CSRF proof
        # the guard asks of a session (see dashboard.auth.csrf).
        csrf_token_name=CSRF_COOKIE,
        csrf_header_name="X-CSRF-Token",
        on_error=outage_changes_nothing,
    )
    # the page's language for the browser: an English iPad offered to translate the Indonesian
    # tablet, and a screen reader could not tell which language it reads
    app.index_string = app.index_string.replace("<html>", f'<html lang="{settings.language}">', 1)
    # the store's probe ends with the server: an app a test made and dropped went on probing,
    # and on the Redis emptied for the next test wrote a new epoch among that test's keys
    app.server.router.on_shutdown.append(health.stop)
    pages = app.server.state.pages = routing.Pages()
    for page in (wall, screen):
        page.register(pages, settings)
    # the words the browser shows come with the layout, from the same catalog as the server's
    app.layout = html.Div(
        [live.live_components(settings), words_holder(settings.language), routing.container()], className="cw-root"
    )
    # the registry's place on a FastAPI app is its state
    parts = app.server.state.live_parts = LiveParts(reader, settings, fill_on_load=not config.server.websocket)
    for name in panels.names():
        panels.load(name).register(app, parts)
    overlay.register(app, parts)
    # a page's callbacks answer only whoever may show that page (a kiosk token scoped to a screen may not)
    console.register(routing.PageCallbacks(app, "/console", may_show_page), pages, reader, settings, port)
    tablet.register(routing.PageCallbacks(app, "/tablet", may_show_page), pages, reader, settings)
    report.register(routing.PageCallbacks(app, "/report", may_show_page), pages, settings, port)
    routing.register(app, pages, settings.language, may_show=may_show_page)
    live.register(app, parts, pages, push=config.server.websocket, on_beat=screens.beat, may_show=may_show_page)
    auth_routes.register(app.server, auth)
    api.register(app.server, reader, parts.stats)
    ops_api.register(app.server, desk, reader)
    screen_registry.register(app.server, screens)
    export.register(app.server, reader, settings)
    app.server.add_middleware(GZipMiddleware, minimum_size=1_024)
    app.server.add_middleware(
        web_security.KnownRoutes,
        routes=lambda: app.server.router.routes,
        scripts=lambda: app.registered_paths,
        callbacks=lambda: app.callback_map,
    )
    app.server.add_middleware(AuthMiddleware, auth=auth)  # outside all but the limits and headers of _harden
    run_first_request_setup(app)  # a kiosk may boot straight into /screen/N (see layouts.dash_compat)
    no_callback_websocket(app)  # callbacks go over HTTP, the push over its own socket
    _harden(app, config, health)  # after the set-up, which adds the pages' own clientside callback
    return app


CALLBACK_LOG = logging.getLogger("citywall.callbacks")


def outage_changes_nothing(error: Exception) -> None:
    """Every callback's last word on an error: one that met the store away (in the second
    before the health check sees it go, or during a failover) answers "nothing new", and
    the page keeps what it shows and turns stale by itself. Anything else stays an error,
    and is logged: Dash answers it with a bare 500 and writes nothing anywhere."""
    if is_outage(error):
        raise PreventUpdate from error
    CALLBACK_LOG.error("a callback failed: %s", type(error).__name__, exc_info=error)
    raise error


def create_asgi() -> Any:
    """The ASGI app of one web worker: ``serve --workers N`` (or ``uvicorn --factory
    dashboard.app:create_asgi``) calls this in every worker process, with the config file
    named by ``CITYWALL_CONFIG``. A broken config fails the worker with the same one line."""
    import logging

    from dashboard.config import load_config
    from dashboard.redact import install
    from dashboard.runtime import open_store

    install(logging.WARNING, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config()
    return create_app(config, open_store(config)).server


def _harden(app: Dash, config: Config, health: StoreHealth) -> None:
    """Headers, limits and origins outermost (added last), docs off; see ``web_security``.

    The CSP hashes are taken here, after every clientside callback is registered."""
    server = config.server
    blocked = web_security.remove_api_docs(app.server, keep_schema=server.api_docs)
    web_security.quiet_validation_errors(app.server)
    limits = web_security.Limits(
        max_body_bytes=server.max_body_bytes,
        max_callback_bytes=server.max_callback_bytes,
        max_response_bytes=server.max_response_bytes,
        max_connections_per_client=server.max_connections_per_client,
        max_connections=server.max_connections,
        allowed_origins=frozenset(server.allowed_origins),
        blocked_paths=blocked,
    )
    app.server.add_middleware(StoreGate, health=health)
    app.server.add_middleware(
        web_security.WebSecurity,
        csp=web_security.content_security_policy(app.csp_hashes()),
        limits=limits,
    )
