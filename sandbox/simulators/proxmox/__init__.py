"""Proxmox VE simulator: the PVE API under /api2/json over HTTPS, checked against the PVE API schema.

Built from tests/contracts/proxmox-ve (pve-apidata.json, endpoints-summary.md). Nodes, storages, VMs and worker
tasks (UPIDs) are stateful; images are really downloaded from loopback URLs (the Image Factory simulator); a VM
started from a Talos image brings up a simulated Talos node in maintenance mode (sandbox.talosctl). It is a
simulator: no VM runs. See docs/sandbox-proxmox.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "proxmox"
DEFAULT_PORT = 18702
URL_SCHEME = "https"
DEFAULT_TOKEN = "root@pam!talosforge=5a4d1f0e-7c1b-4e55-9c2a-3d6b8e0f4a21"
OPTIONS = {
    "token": f"str, default {DEFAULT_TOKEN!r}: the one API token accepted (USER@REALM!TOKENID=SECRET)",
    "nodes": "list of node names, default ['pve1']: the PVE nodes of the simulated cluster",
    "validate": "bool, default true: check every request and response against pve-apidata.json (400 / 500)",
    "task_seconds": "number, default 0.2: how long a worker task stays 'running' (at least its real work)",
    "storage_size": "int bytes, default 274877906944 (256 GiB): capacity of each node's 'local' and 'local-lvm'",
    "import_disk_size": "int bytes or null, default null: size of every disk imported with import-from "
    "(null: the qcow2 header's virtual size, else the source file's size)",
    "tls": "bool, default true: serve HTTPS with the simulator's own CA (<state>/proxmox/ca.pem)",
}
DEFAULTS: dict[str, Any] = {
    "token": DEFAULT_TOKEN,
    "nodes": ["pve1"],
    "validate": True,
    "task_seconds": 0.2,
    "storage_size": 256 << 30,
    "import_disk_size": None,
    "tls": True,
}


def ca_file(state_dir: Path) -> Path:
    """Where the simulator's CA certificate lands (clients pass it as their CA file)."""
    return Path(state_dir) / NAME / "ca.pem"


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown proxmox option(s): {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    merged = {**DEFAULTS, **options}
    token = merged["token"]
    if not isinstance(token, str) or "@" not in token or "!" not in token or "=" not in token:
        raise ValueError("option token must look like USER@REALM!TOKENID=SECRET")
    nodes = merged["nodes"]
    if isinstance(nodes, str):
        nodes = [name for name in nodes.split(",") if name]
    if not isinstance(nodes, list) or not nodes or not all(isinstance(name, str) and name for name in nodes):
        raise ValueError("option nodes must be a non-empty list of node names")
    merged["nodes"] = nodes
    seconds = merged["task_seconds"]
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
        raise ValueError("option task_seconds must be a number of seconds from 0 to 600")
    for key in ("storage_size", "import_disk_size"):
        value = merged[key]
        if value is None and key == "import_disk_size":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"option {key} must be a number of bytes")
    return merged


def create_app(state_dir: Path, options: dict[str, Any]) -> Any:
    # imported here: the app brings cryptography (its TLS) along, which listing the simulators and their options
    # (python -m sandbox options|status) does not need
    from .app import ProxmoxApp

    return ProxmoxApp(state_dir, _checked(options))
