"""The files of ``deploy/`` made fit for a test: the same recipe, on free loopback ports.

The deploy and scale-out tests run these very files, so a change to the recipe is tested.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.services import HOST

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def nginx_site(listen_port: int, upstream_ports: list[int]) -> str:
    """``deploy/nginx/citywall.conf`` with its listen port and upstream servers templated, and
    its access log in nginx's own directory (``access.log`` under its ``-p`` prefix)."""
    text = (DEPLOY / "nginx" / "citywall.conf").read_text()
    text, listens = re.subn(r"listen 80;", f"listen {HOST}:{listen_port};", text)
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstream_ports)
    text, upstreams = re.subn(r"^    server 127\.0\.0\.1:8050 .*;$", servers, text, flags=re.M)
    text, logs = re.subn(r"access_log /var/log/nginx/access\.log ", "access_log access.log ", text)
    assert (listens, upstreams, logs) == (1, 1, 1), "the deploy config changed shape: update the template"
    return text
