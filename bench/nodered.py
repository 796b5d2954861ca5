"""The peer: Node-RED with FlowFuse Dashboard 2.0, installed and run for the benchmarks.

``bench/peer/install-nodered`` installs pinned versions into ``.cache/peer/`` (git-ignored)
and describes them in ``.cache/peer/runtime.json``. Here the flow is written and Node-RED
started on it: one ``mqtt in`` on the city's incidents topic (QoS 1, parsed JSON), the same
broker citywall reads, into one text widget showing the latest Alert's ``description`` on
the dashboard page ``/dashboard/alerts``. That is the smallest dashboard that answers the
same question the trial asks ("is this new Alert on the screen yet?").
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import INCIDENT_TOPIC, ROOT, free_port, stop_group

INSTALLER = ROOT / "bench" / "peer" / "install-nodered"
PAGE = "/dashboard/alerts"
LABEL = "Latest alert"


def install() -> dict[str, Any]:
    """Run the installer (quick when everything is in place); the runtime description it prints."""
    out = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"bench/peer/install-nodered failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def flow(mqtt_port: int) -> list[dict[str, Any]]:
    """The flow: mqtt in -> ui-text (latest description), and the dashboard's config nodes."""
    return [
        {"id": "bench_tab", "type": "tab", "label": "citywall peer benchmark", "disabled": False, "info": ""},
        {
            "id": "bench_broker",
            "type": "mqtt-broker",
            "name": "bench broker",
            "broker": "127.0.0.1",
            "port": str(mqtt_port),
            "clientid": "",
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "4",
            "keepalive": "60",
            "cleansession": True,
            "autoUnsubscribe": True,
        },
        {
            "id": "bench_in",
            "type": "mqtt in",
            "z": "bench_tab",
            "name": "alerts",
            "topic": INCIDENT_TOPIC,
            "qos": "1",
            "datatype": "json",
            "broker": "bench_broker",
            "nl": False,
            "rap": True,
            "rh": 0,
            "inputs": 0,
            "x": 120,
            "y": 80,
            "wires": [["bench_text"]],
        },
        {
            "id": "bench_base",
            "type": "ui-base",
            "name": "citywall peer",
            "path": "/dashboard",
            "includeClientData": True,
            "acceptsClientConfig": ["ui-notification", "ui-control"],
            "showPathInSidebar": False,
            "navigationStyle": "default",
            "titleBarStyle": "default",
            "showReconnectNotification": True,
            "notificationDisplayTime": 1,
            "showDisconnectNotification": True,
        },
        {
            "id": "bench_theme",
            "type": "ui-theme",
            "name": "bench theme",
            "colors": {
                "surface": "#ffffff",
                "primary": "#0094ce",
                "bgPage": "#eeeeee",
                "groupBg": "#ffffff",
                "groupOutline": "#cccccc",
            },
            "sizes": {"pagePadding": "12px", "groupGap": "12px", "groupBorderRadius": "4px", "widgetGap": "12px"},
        },
        {
            "id": "bench_page",
            "type": "ui-page",
            "name": "Alerts",
            "ui": "bench_base",
            "path": "/alerts",
            "icon": "alert",
            "layout": "grid",
            "theme": "bench_theme",
            "order": 1,
            "className": "",
            "visible": "true",
            "disabled": "false",
        },
        {
            "id": "bench_group",
            "type": "ui-group",
            "name": "Incidents",
            "page": "bench_page",
            "width": "12",
            "height": "1",
            "order": 1,
            "showTitle": True,
            "className": "",
            "visible": "true",
            "disabled": "false",
            "groupType": "default",
        },
        {
            "id": "bench_text",
            "type": "ui-text",
            "z": "bench_tab",
            "group": "bench_group",
            "order": 1,
            "width": 0,
            "height": 0,
            "name": "latest alert",
            "label": LABEL,
            "format": "{{msg.payload}}",
            "layout": "row-left",
            "style": False,
            "font": "",
            "fontSize": 16,
            "color": "#000000",
            "wrapText": True,
            "className": "",
            "value": "payload.description",
            "valueType": "msg",
            "x": 330,
            "y": 80,
            "wires": [],
        },
    ]


class NodeRed:
    """Node-RED on a free loopback port with the flow above; ``stop`` ends it."""

    def __init__(self, runtime: dict[str, Any], workdir: Path, mqtt_port: int) -> None:
        self.runtime = runtime
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        user_dir = workdir / "nodered"
        user_dir.mkdir(parents=True, exist_ok=True)
        flow_file = user_dir / "flows.json"
        flow_file.write_text(json.dumps(flow(mqtt_port), indent=1))
        self.log_path = workdir / "nodered.log"
        env = {**os.environ, "PEER_NR_PORT": str(self.port), "PEER_NR_USER_DIR": str(user_dir), "PEER_NR_FLOW": str(flow_file)}
        argv = [runtime["node"], runtime["red"], "--settings", runtime["settings"], "--userDir", str(user_dir)]
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                argv, cwd=user_dir, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return self.base + PAGE

    def _wait_ready(self, timeout: float = 120) -> None:
        """Ready when the dashboard answers and the log says the MQTT node is connected."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Node-RED exited; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")
            if "Connected to broker" in self.log_path.read_text(errors="replace"):
                try:
                    urllib.request.urlopen(self.url, timeout=2).read()
                    return
                except OSError:
                    pass
            time.sleep(0.3)
        raise RuntimeError(f"Node-RED was not ready within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        stop_group(self.proc)
