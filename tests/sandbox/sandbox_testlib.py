"""Helpers shared by the sandbox tests: a small loopback HTTP client, constants, a free-port finder."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

CONTRACTS = REPO_ROOT / "tests" / "contracts" / "image-factory"
QEMU_SCHEMATIC = "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n"
QEMU_CANONICAL = (
    "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n"
)
QEMU_SCHEMATIC_ID = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
RAW_IMAGE_SIZE = 256 * 1024  # small synthetic disks keep the tests fast
ASSET_SIZE = 16 * 1024


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One HTTP exchange with a simulator on 127.0.0.1 (never follows redirects, never raises on a status)."""
    target = urlsplit(url)
    assert target.hostname == "127.0.0.1", "tests talk to loopback only"
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout)
    try:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        connection.request(method, path, body=payload, headers=headers or {})
        answer = connection.getresponse()
        return Reply(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sandbox_cli(
    state: Path, ports: dict[str, int], *arguments: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m sandbox ARGUMENTS --state-dir STATE``, each named simulator on its port (0: a free one).

    ``TALOSFORGE_SANDBOX_DIR`` points nowhere, so that only ``--state-dir`` can choose the state folder.
    """
    from sandbox.simulators import port_env_var

    environment = {**os.environ, "TALOSFORGE_SANDBOX_DIR": "/nonexistent"}
    environment.update({port_env_var(name): str(port) for name, port in ports.items()})
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *arguments, "--state-dir", str(state)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
