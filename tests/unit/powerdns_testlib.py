# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real PowerDNS Authoritative server on loopback for the PowerDNS tests (module_utils and modules).

``pdns_server`` (Debian's pdns-server with the sqlite3 backend, which scripts/lib/podman.sh installs) is started
with a fresh database by the ``pdns`` fixture; ``needs_pdns`` skips a test when the package is not installed.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    client_from_params,
)

PDNS_SERVER = shutil.which("pdns_server") or "/usr/sbin/pdns_server"
SQLITE_SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
API_KEY = "unit-test-key"


# --------------------------------------------------------------------------------------------------------------
# A real PowerDNS on loopback
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _attempt in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on 127.0.0.1")


class PdnsServer:
    """pdns_server with a fresh sqlite3 database, its DNS and API on loopback; stopped by ``stop()``."""

    def __init__(self, folder: Path, extra_config: tuple[str, ...] = ()):
        self.folder = folder
        self.dns_port = free_port()
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        database = folder / "pdns.sqlite3"
        with sqlite3.connect(database) as db:
            db.executescript(SQLITE_SCHEMA.read_text(encoding="utf-8"))
        (folder / "pdns.conf").write_text(
            "\n".join(
                [
                    "launch=gsqlite3",
                    f"gsqlite3-database={database}",
                    "local-address=127.0.0.1",
                    f"local-port={self.dns_port}",
                    "api=yes",
                    f"api-key={API_KEY}",
                    "webserver=yes",
                    "webserver-address=127.0.0.1",
                    f"webserver-port={self.api_port}",
                    "webserver-allow-from=127.0.0.0/8",
                    f"socket-dir={folder}",
                    "guardian=no",
                    "daemon=no",
                    "security-poll-suffix=",
                    *extra_config,
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.log = open(folder / "pdns.log", "wb")
        self.process = subprocess.Popen(
            [PDNS_SERVER, f"--config-dir={folder}", "--disable-syslog"], stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait()

    def _wait(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(self.url + "/api/v1/servers/localhost", headers={"X-API-Key": API_KEY})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(request, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("pdns_server did not start: " + (self.folder / "pdns.log").read_text(errors="replace"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()

    def client(self, api_key: str = API_KEY) -> PowerDNSClient:
        return client_from_params({"url": self.url, "api_key": api_key})

    def params(self, **extra) -> dict:
        return {"url": self.url, "api_key": API_KEY, **extra}

    def dig(self, name: str, rtype: str) -> str:
        """dig's full answer from this server, without recursion; skips the test when dig is missing."""
        if not shutil.which("dig"):
            pytest.skip("dig (dnsutils) is not installed")
        command = ["dig", "+norec", "+time=2", "+tries=1", "@127.0.0.1", "-p", str(self.dns_port), name, rtype]
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=True).stdout


needs_pdns = pytest.mark.skipif(
    not (Path(PDNS_SERVER).exists() and SQLITE_SCHEMA.exists()),
    reason="pdns-server and pdns-backend-sqlite3 are not installed (scripts/lib/podman.sh installs them)",
)


def running_pdns(tmp_path_factory: pytest.TempPathFactory, extra_config: tuple[str, ...] = ()) -> Iterator[PdnsServer]:
    """The body of a test file's ``pdns`` fixture: a server for the tests of that file, stopped after them.

    ``extra_config`` are more pdns.conf lines (such as ``dnsupdate=yes``)."""
    server = PdnsServer(tmp_path_factory.mktemp("pdns"), extra_config)
    yield server
    server.stop()
