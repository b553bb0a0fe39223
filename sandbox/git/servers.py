"""Start, watch and stop the two Git servers: a private sshd and nginx in front of fcgiwrap, all on 127.0.0.1.

Each runs in the foreground as a child in its own session (no init system is assumed): ``sshd -D -e -f
<state>/git/ssh/sshd_config``, ``fcgiwrap -s unix:<state>/git/https/run/fcgiwrap.sock`` (as the git account) and
``nginx -c <state>/git/https/nginx.conf -g 'daemon off;'``. ``servers.json`` records their pids and ports; a
recorded pid counts only while ``/proc/PID/cmdline`` still names our configuration (a reused pid is not ours).
Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import processes
from . import tls
from .account import Account, check_reachable
from .layout import Layout
from .store import GitStore

DEFAULT_SSH_PORT = 18722
DEFAULT_HTTPS_PORT = 18723
SSH_PORT_ENV = "TALOSFORGE_SANDBOX_PORT_GIT_SSH"
HTTPS_PORT_ENV = "TALOSFORGE_SANDBOX_PORT_GIT_HTTPS"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
SSHD = "/usr/sbin/sshd"
FCGIWRAP_WORKERS = 4
SERVERS = ("fcgiwrap", "https", "ssh")  # start order; stop goes the other way
PROGRAMS = {
    "ssh": ("sshd", SSHD),
    "https": ("nginx", "/usr/sbin/nginx"),
    "fcgiwrap": ("fcgiwrap", "/usr/sbin/fcgiwrap"),
}


@dataclass
class ServerStatus:
    name: str
    url: str | None
    port: int | None
    pid: int | None
    up: bool
    requests: int = 0  # HTTPS: requests in access.log; SSH: logins accepted (sshd.log)


def configured_port(variable: str, default: int) -> int:
    value = os.environ.get(variable)
    if not value:
        return default
    if not value.isdigit() or int(value) > 65535:
        raise ValueError(f"{variable}={value!r} is not a port number")
    return int(value)


def program(name: str) -> str:
    """The path of sshd, nginx or fcgiwrap; RuntimeError naming the Debian package when it is missing."""
    command, fallback = PROGRAMS[name]
    found = shutil.which(command) or (fallback if os.access(fallback, os.X_OK) else None)
    if not found:
        package = {"ssh": "openssh-server", "https": "nginx", "fcgiwrap": "fcgiwrap"}[name]
        raise RuntimeError(f"the sandbox Git servers need {command} (Debian package {package}), which is not installed")
    return found


def missing_programs() -> list[str]:
    """The programs the servers need that are not installed (for tests that skip naming them)."""
    missing = []
    for name in SERVERS:
        try:
            program(name)
        except RuntimeError:
            missing.append(PROGRAMS[name][0])
    if not shutil.which("git"):
        missing.append("git")
    return missing


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class GitServers:
    """The Git servers of one sandbox state folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.store = GitStore(root)
        self.layout: Layout = self.store.layout

    # --- records --------------------------------------------------------------------------------------------

    def _records(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.layout.servers.read_text(encoding="utf-8")))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _save_records(self, records: dict[str, Any]) -> None:
        self.layout.base.mkdir(parents=True, exist_ok=True)
        temporary = self.layout.servers.with_name("servers.json.tmp")
        temporary.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self.layout.servers)

    def _marker(self, name: str) -> str:
        """A word of the server's command line that only our process for this state folder has."""
        return str(
            {
                "ssh": self.layout.ssh / "sshd_config",
                "https": self.layout.https / "nginx.conf",
                "fcgiwrap": self.layout.socket,
            }[name]
        )

    def _ours(self, name: str, pid: int | None) -> bool:
        if not pid or not processes.is_alive(pid):
            return False
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return True
        return any(self._marker(name) in word.decode(errors="replace") for word in words)

    def running(self) -> bool:
        records = self._records()
        return all(self._ours(name, records.get(name, {}).get("pid")) for name in SERVERS)

    # --- urls -----------------------------------------------------------------------------------------------

    def ssh_url(self, name: str) -> str:
        """``ssh://git@127.0.0.1:PORT/NAME.git`` (the account's name; the port of the running server)."""
        record = self._records().get("ssh") or {}
        if not record.get("port"):
            raise RuntimeError("the sandbox Git servers were never started in this state folder")
        return f"ssh://{record['account']}@127.0.0.1:{record['port']}/{name}.git"

    def https_url(self, name: str) -> str:
        record = self._records().get("https") or {}
        if not record.get("port"):
            raise RuntimeError("the sandbox Git servers were never started in this state folder")
        return f"https://127.0.0.1:{record['port']}/{name}.git"

    def known_hosts(self) -> str:
        """The known_hosts line of the SSH server (``[127.0.0.1]:PORT ssh-ed25519 AAAA...``)."""
        record = self._records().get("ssh") or {}
        if not record.get("port") or not self.layout.host_key.with_suffix(".pub").exists():
            raise RuntimeError("the sandbox Git servers were never started in this state folder")
        kind, body = self.layout.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{record['port']} {kind} {body}\n"

    @property
    def ca_file(self) -> Path:
        return self.layout.ca

    # --- configuration ------------------------------------------------------------------------------------

    def _sshd_config(self, account: Account, port: int) -> Path:
        layout = self.layout
        if not layout.host_key.exists():
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "talosforge sandbox git",
                    "-f",
                    str(layout.host_key),
                ],
                check=True,
                timeout=30,
                capture_output=True,
            )
        config = layout.ssh / "sshd_config"
        config.write_text(
            "# The sandbox's SSH Git server (sandbox/git/servers.py); rewritten at each start.\n"
            f"ListenAddress 127.0.0.1:{port}\nHostKey {layout.host_key}\nPidFile {layout.ssh / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {layout.authorized_keys}\nAllowUsers {account.name}\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin forced-commands-only\nUsePAM no\nStrictModes no\nDisableForwarding yes\n"
            "PermitTTY no\nPermitUserEnvironment no\nAcceptEnv GIT_PROTOCOL\nPrintMotd no\nPrintLastLog no\n"
            "LogLevel INFO\nMaxStartups 50:30:100\n"
        )
        return config

    def _nginx_config(self, account: Account, port: int) -> Path:
        layout = self.layout
        _ca, certificate, key = tls.ensure_certificates(layout.https)
        temporary = layout.https / "tmp"
        temporary.mkdir(exist_ok=True)
        account.own(temporary)
        user = f"user {account.name} {grp.getgrgid(account.gid).gr_name};\n"
        params = "".join(
            f"        fastcgi_param {name} {value};\n"
            for name, value in (
                ("GATEWAY_INTERFACE", "CGI/1.1"),
                ("SERVER_SOFTWARE", "nginx"),
                ("SERVER_PROTOCOL", "$server_protocol"),
                ("REQUEST_METHOD", "$request_method"),
                ("QUERY_STRING", "$query_string"),
                ("CONTENT_TYPE", "$content_type"),
                ("CONTENT_LENGTH", "$content_length"),
                ("REQUEST_URI", "$request_uri"),
                ("REMOTE_ADDR", "$remote_addr"),
                ("SERVER_NAME", "$server_name"),
                ("SERVER_PORT", "$server_port"),
                ("HTTPS", "on"),
                ("SCRIPT_NAME", '""'),
                ("SCRIPT_FILENAME", str(layout.gate)),
                ("PATH_INFO", "/$repository.git$rest"),
                ("SANDBOX_GIT_REPOSITORY", "$repository"),
            )
        )
        config = layout.https / "nginx.conf"
        config.write_text(
            "# The sandbox's HTTPS Git server (sandbox/git/servers.py); rewritten at each start.\n"
            + (user if account.switches else "")
            + f"worker_processes 1;\npid {layout.https / 'nginx.pid'};\nerror_log {layout.https / 'error.log'} warn;\n"
            "events { worker_connections 128; }\n"
            "http {\n"
            f"    access_log {layout.https / 'access.log'};\n"
            + "".join(
                f"    {kind}_temp_path {temporary / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + "    default_type text/plain;\n    server_tokens off;\n"
            "    server {\n"
            f"        listen 127.0.0.1:{port} ssl;\n"
            f"        ssl_certificate {certificate};\n        ssl_certificate_key {key};\n"
            "        ssl_protocols TLSv1.2 TLSv1.3;\n"
            "        client_max_body_size 0;\n"
            '        location = /_sandbox/health { return 200 "ok\\n"; }\n'
            '        location ~ "^/(?<repository>(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*)'
            '\\.git(?<rest>/.*)$" {\n'
            f"            fastcgi_pass unix:{layout.socket};\n"
            "            fastcgi_buffering off;\n            fastcgi_request_buffering on;\n"
            "            fastcgi_read_timeout 120s;\n"
            + params.replace("        fastcgi_param", "            fastcgi_param")
            + "        }\n"
            '        location / { return 404 "not a repository of this server\\n"; }\n'
            "    }\n"
            "}\n"
        )
        return config

    # --- processes ------------------------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], account: Account | None = None) -> subprocess.Popen[bytes]:
        log_path = {
            "ssh": self.layout.ssh / "sshd.log",
            "https": self.layout.https / "nginx.out.log",
            "fcgiwrap": self.layout.https / "fcgiwrap.log",
        }[name]
        kwargs: dict[str, Any] = {}
        if account is not None and account.switches:
            kwargs = {"user": account.uid, "group": account.gid, "extra_groups": []}
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.layout.home),
        }
        with log_path.open("ab") as log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=environment,
                cwd=self.layout.base,
                **kwargs,
            )

    def _wait(self, name: str, process: subprocess.Popen[bytes], ready: Any, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:  # bounded: at most START_TIMEOUT_S
            if process.poll() is not None:
                raise RuntimeError(
                    f"git {name} server ({PROGRAMS[name][0]}) exited with status {process.returncode}; "
                    f"last lines of {log}:\n{_tail(log)}"
                )
            if ready():
                return
            time.sleep(0.05)
        processes.terminate(process.pid, STOP_TIMEOUT_S, group=True)
        raise RuntimeError(f"git {name} server ({PROGRAMS[name][0]}) not ready within {START_TIMEOUT_S:.0f} s")

    def start(self, ssh_port: int | None = None, https_port: int | None = None) -> list[str]:
        """Start the servers unless they run; ports default to the fixed ones (env overrides), 0 = a free one."""
        if self.running():
            current = self._records()
            return [
                f"git-{name}: already running at {current[name]['url']} (pid {current[name]['pid']})"
                for name in ("ssh", "https")
            ]
        self.stop()  # whatever part of an earlier start is left
        account = self.store.account
        check_reachable(account, self.layout.base)
        binaries = {name: program(name) for name in SERVERS}
        ports = {
            "ssh": configured_port(SSH_PORT_ENV, DEFAULT_SSH_PORT) if ssh_port is None else ssh_port,
            "https": configured_port(HTTPS_PORT_ENV, DEFAULT_HTTPS_PORT) if https_port is None else https_port,
        }
        for name, variable in (("ssh", SSH_PORT_ENV), ("https", HTTPS_PORT_ENV)):
            ports[name] = ports[name] or _free_port()
            if _listening(ports[name]):
                raise RuntimeError(
                    f"git-{name}: port {ports[name]} on 127.0.0.1 is already in use; stop what uses it or set "
                    f"{variable} to another port"
                )
        if len(str(self.layout.socket)) > 100:
            raise RuntimeError(f"the state folder's path is too long for fcgiwrap's unix socket: {self.layout.socket}")
        self.store.prepare()
        self.store.publish()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
        self.layout.socket.unlink(missing_ok=True)
        sshd_config = self._sshd_config(account, ports["ssh"])
        nginx_config = self._nginx_config(account, ports["https"])
        records: dict[str, Any] = {}
        try:
            fcgiwrap = self._spawn(
                "fcgiwrap",
                [
                    binaries["fcgiwrap"],
                    "-c",
                    str(FCGIWRAP_WORKERS),
                    "-s",
                    f"unix:{self.layout.socket}",
                    "-p",
                    str(self.layout.gate),
                ],
                account,
            )
            records["fcgiwrap"] = {"pid": fcgiwrap.pid}
            self._wait("fcgiwrap", fcgiwrap, self.layout.socket.exists, self.layout.https / "fcgiwrap.log")
            nginx = self._spawn(
                "https",
                [
                    binaries["https"],
                    "-e",
                    str(self.layout.https / "error.log"),
                    "-c",
                    str(nginx_config),
                    "-p",
                    str(self.layout.https),
                    "-g",
                    "daemon off;",
                ],
            )
            url = f"https://127.0.0.1:{ports['https']}"
            records["https"] = {"pid": nginx.pid, "port": ports["https"], "url": url}
            self._wait("https", nginx, lambda: _listening(ports["https"]), self.layout.https / "error.log")
            sshd = self._spawn("ssh", [binaries["ssh"], "-D", "-e", "-f", str(sshd_config)])
            url = f"ssh://{account.name}@127.0.0.1:{ports['ssh']}"
            records["ssh"] = {"pid": sshd.pid, "port": ports["ssh"], "url": url, "account": account.name}
            self._wait("ssh", sshd, lambda: _listening(ports["ssh"]), self.layout.ssh / "sshd.log")
        except BaseException:
            self._save_records(records)
            self.stop()  # nothing half-started stays behind
            raise
        self._save_records(records)
        return [
            f"git-ssh: started at {records['ssh']['url']} (pid {records['ssh']['pid']})",
            f"git-https: started at {records['https']['url']} (pid {records['https']['pid']}, "
            f"fcgiwrap pid {records['fcgiwrap']['pid']}; CA {self.layout.ca})",
        ]

    def stop(self) -> list[str]:
        """SIGTERM each server's process group, SIGKILL after a bounded wait; returns what was done."""
        records = self._records()
        messages = []
        for name in reversed(SERVERS):
            pid = (records.get(name) or {}).get("pid")
            if pid is None or not self._ours(name, pid):
                if name in records:
                    records[name]["pid"] = None
                continue
            how = "stopped" if processes.terminate(int(pid), STOP_TIMEOUT_S, group=True) else "killed"
            messages.append(f"git-{name}: {how} (pid {pid})")
            records[name]["pid"] = None
        if records:
            self._save_records(records)
        return messages

    def status(self) -> list[ServerStatus]:
        records = self._records()
        result = []
        for name in ("ssh", "https"):
            record = records.get(name) or {}
            up = self._ours(name, record.get("pid")) and bool(record.get("port")) and _listening(record["port"])
            if name == "https":
                up = up and self._ours("fcgiwrap", (records.get("fcgiwrap") or {}).get("pid"))
            result.append(
                ServerStatus(
                    f"git-{name}", record.get("url"), record.get("port"), record.get("pid"), up, self._count(name)
                )
            )
        return result

    def _count(self, name: str) -> int:
        path = self.layout.https / "access.log" if name == "https" else self.layout.ssh / "sshd.log"
        try:
            lines = path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return 0
        return len(lines) if name == "https" else sum("Accepted publickey" in line for line in lines)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


@contextlib.contextmanager
def running(root: str | os.PathLike[str], ssh_port: int = 0, https_port: int = 0) -> Iterator[GitServers]:
    """The Git servers of ``root`` for the length of a ``with`` block (free ports by default), then stopped."""
    servers = GitServers(root)
    try:
        servers.start(ssh_port, https_port)
        yield servers
    finally:
        servers.stop()
