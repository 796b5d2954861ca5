"""The mayor's daily summary as a PDF the staff can share: the tablet's KPI view on paper.

Why this way:

- The document is built from the picture on the server (``layouts.mayor.page.print_page``,
  written out as static HTML with the CSS inline), not by pointing a browser at the live
  page: no JavaScript, no callbacks to wait for, no need for the server to reach its own
  public URL through a proxy, and nothing is fetched while printing.
- A real renderer prints it: the system Chromium in headless print mode, with a throwaway
  profile. The PDF therefore looks like the tablet (same CSS, same SVG trends) and its text
  is real text, so it can be searched and quoted.
- One print at a time, and the last PDF is kept for the rest of its minute (whatever the
  data did meanwhile: under live traffic the version changes many times a second, and a
  cache keyed by it queued 42 requests for 58 s of Chromium). At most ``QUEUE_MAX``
  requests wait for the printer; the rest get 429 with ``Retry-After`` at once.
- Without Chromium the route answers 503 and says what to install, rather than failing
  somewhere inside a subprocess.

Chromium is looked up as ``$CITYWALL_CHROMIUM``, then ``chromium``/``chromium-browser``/
``google-chrome`` on the PATH.
"""

from __future__ import annotations

import html as html_text
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from dashboard.reader import PictureCache
from layouts.i18n import t
from layouts.mayor.page import print_page
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import to_tree

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CHROMIUM_ENV = "CITYWALL_CHROMIUM"
PRINT_TIMEOUT_S = 60
QUEUE_MAX = 2
#: The printed page runs no script and fetches nothing: styles inline, images as data URIs.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
VOID = frozenset({"img", "br", "hr", "input", "meta", "link", "wbr"})


class ChromiumMissing(RuntimeError):
    """No Chromium to print with: the integrator has to install one or point to it."""


def find_chromium() -> str | None:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


# --- Dash components to static HTML ----------------------------------------------------------
def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", r"-\1", name).lower()


def _css(style: dict[str, Any]) -> str:
    return ";".join(f"{_kebab(k)}:{v}" for k, v in style.items())


def static_html(node: Any) -> str:
    """Plain ``dash.html`` components as HTML, so the print view shares the tablet's markup.

    The components are walked once, by ``layouts.tree.to_tree`` (the walker the live panels
    use), and the plain tree it returns is written out here: ``className``, ``style``,
    ``data-*``/``aria-*`` and plain attributes; ids mean nothing outside Dash and are dropped.
    """
    return _tree_html(to_tree(node))


def _tree_html(tree: Any) -> str:
    if tree is None:
        return ""
    if isinstance(tree, list):
        return "".join(_tree_html(n) for n in tree)
    if isinstance(tree, (str, int, float)):
        return html_text.escape(str(tree))
    tag = tree["t"]
    attrs = []
    for key, value in tree.get("p", {}).items():
        name = {"className": "class", "htmlFor": "for"}.get(key, key)
        text = _css(value) if key == "style" else str(value)
        attrs.append(f' {name}="{html_text.escape(text, quote=True)}"')
    opening = f"<{tag}{''.join(attrs)}>"
    if tag in VOID:
        return opening
    return f"{opening}{_tree_html(tree.get('c'))}</{tag}>"


def summary_document(picture: CityPicture, settings: ViewSettings, printed_at: float) -> str:
    """The whole printable page: Bootstrap and the tablet CSS inline, nothing to fetch. It runs
    no script, so ``<html>`` carries the page's kind itself (``assets/citywall.js`` sets it on
    the live pages)."""
    css = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ASSETS / "vendor" / "bootstrap" / "bootstrap.min.css", ASSETS / "tablet.css")
        if p.exists()
    )
    body = static_html(print_page(picture, settings, printed_at))
    title = html_text.escape(f"{t('title', settings.language)} – {settings.city_name}")
    return (
        f'<!doctype html><html lang="{settings.language}" class="cw-page-tablet cw-page-print"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<title>{title}</title><style>{css}</style></head><body class="tb-print-body">{body}</body></html>'
    )


def file_name(settings: ViewSettings, moment: float, ext: str = "pdf") -> str:
    """``ringkasan-kota-pekanbaru-2024-07-05-1432-WIB.pdf``: sorts by date in a downloads folder."""
    return dated_name(t("file", settings.language), settings.city_name, settings.timezone, settings.timezone_label, moment, ext)


def dated_name(stem: str, city_name: str, timezone: str, timezone_label: str, moment: float, ext: str) -> str:
    """``<stem>-kota-pekanbaru-2024-07-05-1432-WIB.<ext>``: a download that says whose it is and
    when it was made, in the city's time, and sorts by date in a downloads folder."""
    local = datetime.fromtimestamp(moment, ZoneInfo(timezone))
    city = re.sub(r"[^a-z0-9]+", "-", city_name.lower()).strip("-")
    label = re.sub(r"[^A-Za-z0-9]+", "", timezone_label) or "local"
    return f"{stem}-{city}-{local:%Y-%m-%d-%H%M}-{label}.{ext}"


def print_pdf(document: str, chromium: str, timeout: float = PRINT_TIMEOUT_S) -> bytes:
    """Chromium's own print to PDF, in a throwaway profile; the page's CSP forbids scripts and fetches."""
    with tempfile.TemporaryDirectory(prefix="citywall-print-") as tmp:
        page, out = Path(tmp) / "summary.html", Path(tmp) / "summary.pdf"
        page.write_text(document, encoding="utf-8")
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        result = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        if not out.exists() or out.stat().st_size == 0:
            tail = result.stderr.decode(errors="replace")[-800:]
            raise RuntimeError(f"Chromium printed nothing (exit {result.returncode}): {tail}")
        return out.read_bytes()


class PrinterBusy(RuntimeError):
    """More requests are waiting for the printer than ``QUEUE_MAX``: ask again shortly."""


class SummaryPrinter:
    """Prints one summary at a time and keeps the last one for the rest of its minute."""

    def __init__(self, reader: PictureCache, settings: ViewSettings, queue_max: int = QUEUE_MAX) -> None:
        self.reader = reader
        self.settings = settings
        self.queue_max = queue_max
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queued = 0
        self._last: tuple[int, bytes] | None = None

    def pdf(self, now: float | None = None) -> tuple[bytes, float]:
        chromium = find_chromium()
        if chromium is None:
            raise ChromiumMissing(
                "PDF export needs Chromium, which was not found on this server. Install it "
                f"(Debian: apt-get install chromium) or set {CHROMIUM_ENV} to the browser's path."
            )
        now = time.time() if now is None else now
        key = int(now // 60)
        last = self._last
        if last is not None and last[0] == key:
            return last[1], now
        with self._queue_lock:
            if self._queued >= self.queue_max + 1:  # one printing, ``queue_max`` waiting
                raise PrinterBusy("the PDF printer is busy; try again in a few seconds")
            self._queued += 1
        try:
            with self._lock:
                last = self._last
                if last is not None and last[0] == key:
                    return last[1], now
                picture = self.reader.picture()
                data = print_pdf(summary_document(picture, self.settings, now), chromium)
                self._last = (key, data)
                return data, now
        finally:
            with self._queue_lock:
                self._queued -= 1


def register(server: FastAPI, reader: PictureCache, settings: ViewSettings) -> None:
    """The summary routes: the PDF is the tablet on paper.

    ``GET /api/v1/summary.pdf`` is what the tablet's export button links to;
    ``GET /api/v1/summary.html`` is the same document for a browser (a preview, or printing
    from a desktop).
    """
    printer = SummaryPrinter(reader, settings)

    @server.get("/api/v1/summary.pdf")
    def summary_pdf() -> Response:
        try:
            data, moment = printer.pdf()
        except ChromiumMissing as exc:
            return Response(str(exc), status_code=503, media_type="text/plain; charset=utf-8")
        except PrinterBusy as exc:
            return Response(str(exc), status_code=429, media_type="text/plain; charset=utf-8", headers={"Retry-After": "5"})
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            return Response(f"PDF export failed: {exc}", status_code=503, media_type="text/plain; charset=utf-8")
        name = file_name(settings, moment)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @server.get("/api/v1/summary.html")
    def summary_page() -> HTMLResponse:
        return HTMLResponse(summary_document(reader.picture(), settings, time.time()), headers={"Cache-Control": "no-store"})
