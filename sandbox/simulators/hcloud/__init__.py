"""Hetzner Cloud simulator: the /v1 API of servers, actions, images, ISOs, volumes, networks, firewalls, placement
groups, load balancers, floating and primary IPs, SSH keys and the catalogue; a real OpenSSH rescue system; Talos
nodes.

Built from tests/contracts/hetzner-cloud (cloud.spec.json and api-overview.md); see docs/sandbox-hcloud.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...httpbase import Request, Response
from .actions import ActionFailure
from .catalog import CatalogMixin
from .floating_ips import FloatingIpsMixin
from .images import ImagesMixin
from .isos import IsosMixin
from .load_balancers import LoadBalancersMixin
from .networking import NetworkingMixin
from .primary_ip_actions import PrimaryIpActionsMixin
from .primary_ips import PrimaryIpsMixin
from .server_actions import ServerActionsMixin
from .server_changes import ServerChangesMixin
from .servers import ServersMixin
from .ssh_keys import SshKeysMixin
from .state import public
from .volumes import VolumesMixin

NAME = "hcloud"
DEFAULT_PORT = 18703
OPTIONS = {
    "validate": "bool, default true: check every response against cloud.spec.json (a drift answers 500)",
    "token": "str, default none: the only bearer token accepted (else any non-empty token is)",
    "rate_limit": "int, default 3600: requests per hour; the bucket refills limit/3600 per second",
    "action_latency_ms": "number or {command: ms}, default 0: how long actions stay running ('*' = default)",
    "public_ipv4_range": "CIDR, default 127.88.0.0/16: public IPv4 addresses handed out (loopback: rescue sshd)",
    "public_ipv6_range": "CIDR, default 2001:db8::/32: public IPv6 /64s handed out (text only)",
    "rescue_ssh_port": "int, default 22: the port the rescue system's sshd listens on",
}


class HcloudApp(
    ServersMixin,
    ServerActionsMixin,
    ServerChangesMixin,
    ImagesMixin,
    IsosMixin,
    SshKeysMixin,
    PrimaryIpsMixin,
    PrimaryIpActionsMixin,
    VolumesMixin,
    CatalogMixin,
    NetworkingMixin,
    FloatingIpsMixin,
    LoadBalancersMixin,
):
    """The simulator; the pipeline is in app.HcloudCore, the endpoints in the mixins."""

    def reset_state(self) -> None:
        for server in self.store.all("servers"):
            self.machines.destroy(server)  # its rescue sshd and its Talos node go with it
        self.machines.stop_all()
        super().reset_state()

    # --- control plane additions ----------------------------------------------------------------------------------
    def control(self, request: Request) -> Response:
        action = (request.method, request.path[len("/_sandbox/") :].strip("/"))
        try:
            if action == ("GET", "actions"):
                return Response.json(200, self.actions.settings())
            if action == ("POST", "action-latency"):
                data = request.json()
                if not isinstance(data, dict) or set(data) - {"ms", "command"}:
                    raise ValueError('action latency is {"ms": 500} or {"ms": 500, "command": "create_server"}')
                self.actions.set_latency(data.get("ms", 0), data.get("command"))
                return Response.json(200, self.actions.settings())
            if action == ("POST", "action-failures"):
                data = request.json()
                for item in data if isinstance(data, list) else [data]:
                    self.actions.add_failure(ActionFailure.from_json(item))
                return Response.json(201, self.actions.settings())
            if action == ("DELETE", "action-failures"):
                self.actions.failures.clear()
                return Response.json(200, self.actions.settings())
            if action == ("GET", "rate-limit"):
                return Response.json(200, self.rate_limit.state())
            if action == ("POST", "rate-limit"):
                data = request.json()
                if not isinstance(data, dict) or set(data) - {"limit", "remaining"}:
                    raise ValueError('rate limit is {"limit": 3600} or {"limit": 10, "remaining": 0}')
                self.rate_limit.configure(data.get("limit", self.rate_limit.limit), data.get("remaining"))
                return Response.json(200, self.rate_limit.state())
            if action == ("GET", "drift"):
                return Response.json(200, {"drift": self.drift})
            if request.method == "GET" and action[1].startswith(("servers/", "images/")):
                return self._inspect(action[1])
        except (ValueError, TypeError) as error:
            return Response.json(400, {"error": str(error)})
        return super().control(request)

    def _inspect(self, what: str) -> Response:
        """What the API does not show: a server's disk and rescue system, a snapshot's bytes and checksum."""
        kind, _slash, ident = what.partition("/")
        item = self.store.get(kind, ident)
        if item is None:
            return Response.json(404, {"error": f"no {kind[:-1]} {ident}"})
        if kind == "servers":
            disk = self.machines.disk(item["id"])
            extra = {
                "disk": str(disk),
                "disk_bytes": disk.stat().st_size if disk.exists() else None,
                "rescue_running": item["id"] in self.machines.rescues,
                "talos_address": item.get("_talos_address"),
            }
        else:
            extra = {
                "file": str(self.machines.image_file(item["id"])),
                "bytes": item.get("_bytes"),
                "sha256": item.get("_sha256"),
            }
        return Response.json(200, {kind[:-1]: public(item), **extra})


def create_app(state_dir: Path, options: dict[str, Any]) -> HcloudApp:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown hcloud option(s): {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    options = dict(options)
    for key in ("validate",):
        if isinstance(options.get(key), str):
            options[key] = options[key].lower() in ("1", "true", "yes", "on")
    for key in ("rate_limit", "rescue_ssh_port"):
        if isinstance(options.get(key), str):
            options[key] = int(options[key])
    if isinstance(options.get("action_latency_ms"), str) and options["action_latency_ms"].lstrip().startswith("{"):
        options["action_latency_ms"] = json.loads(options["action_latency_ms"])
    return HcloudApp(state_dir, options)
