"""Background simulators for the CLI: start them detached, report, reset and stop them.

Each simulator runs as ``python -m sandbox serve NAME --port P --state-dir D`` in its own session (so its own
process group), bound to 127.0.0.1. ``<state>/sandbox.json`` records ``{"simulators": {name: {url, port, pid}}}``.
Every wait here is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths, processes, requestlog, simulators
from .git import GitServers, site_repository
from .kube.cluster import SandboxCluster
from .processes import is_alive
from .simulators.image_factory import talosctl_assets
from .talosctl import LOG_NAME as TALOSCTL_LOG
from .talosctl import client as talosctl_client
from .talosctl import resident as talosctl_resident

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
POLL_S = 0.1


@dataclass
class SimulatorStatus:
    name: str
    url: str | None
    port: int | None
    pid: int | None
    up: bool
    requests: int
    unit: str = "requests"

    def line(self) -> str:
        state = "up" if self.up else "down"
        return f"{self.name:<16} {self.url or '-':<26} {state:<5} {self.requests} {self.unit}"


# --- state file ------------------------------------------------------------------------------------------------


def load_state(root: Path) -> dict[str, Any]:
    try:
        data = json.loads(paths.state_file(root).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        data = {}
    data.setdefault("simulators", {})
    return data


def save_state(root: Path, data: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    target = paths.state_file(root)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, target)


# --- processes -------------------------------------------------------------------------------------------------


def url_scheme(name: str) -> str:
    """``https`` for simulators that serve TLS (their module sets ``URL_SCHEME``), else ``http``."""
    return str(getattr(simulators.load(name), "URL_SCHEME", "http"))


def tls_context(root: Path | None, name: str, url: str) -> ssl.SSLContext | None:
    """For an https simulator: a client context trusting its CA file (``ca_file(root)`` of its module)."""
    if not url.startswith("https://"):
        return None
    ca_file = getattr(simulators.load(name), "ca_file", None) if name in simulators.names() else None
    if root is not None and callable(ca_file) and Path(ca_file(root)).exists():
        return ssl.create_default_context(cafile=str(ca_file(root)))
    return ssl._create_unverified_context()


def health(url: str, timeout: float = 1.0, context: ssl.SSLContext | None = None) -> dict[str, Any] | None:
    """The simulator's /_sandbox/health answer, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=timeout, context=context) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def is_sandbox_process(pid: int, name: str) -> bool:
    """True when ``pid`` is a ``python -m sandbox serve NAME`` process (guards against a reused pid)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return is_alive(pid)  # no /proc: trust the pid file
    words = [word.decode(errors="replace") for word in argv]
    return "sandbox" in words and "serve" in words and name in words


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _spawn(root: Path, name: str, port: int, options: dict[str, Any]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "sandbox", "serve", name, "--port", str(port), "--state-dir", str(root)]
    for key, value in options.items():
        command += ["--option", f"{key}={json.dumps(value)}"]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(paths.REPO_ROOT), environment.get("PYTHONPATH")]))
    output = paths.server_output(root, name)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=paths.REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def running_entry(entry: dict[str, Any], name: str, root: Path | None = None) -> bool:
    """True when the recorded process is alive, is ours, and answers as ``name``."""
    pid, url = entry.get("pid"), entry.get("url")
    if not pid or not url or not is_alive(pid) or not is_sandbox_process(int(pid), name):
        return False
    answer = health(url, context=tls_context(root, name, url))
    return bool(answer) and answer.get("name") == name


VAULT_PASSWORD_FILE = "vault-password"


def ensure_vault_password(root: Path) -> Path:
    """<state>/vault-password: a random ansible-vault password (0600) for the sandbox cluster's secrets."""
    path = root / VAULT_PASSWORD_FILE
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def start(root: Path, only: list[str] | None = None, options: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Start the selected simulators (all by default) unless already running; returns messages for the user."""
    selected = only or simulators.names()
    state = load_state(root)
    messages: list[str] = [f"vault password of the sandbox cluster's secrets: {ensure_vault_password(root)}"]
    ports: dict[str, int] = {}
    for name in selected:
        entry = state["simulators"].get(name, {})
        if running_entry(entry, name, root):
            messages.append(f"{name}: already running at {entry['url']} (pid {entry['pid']})")
            continue
        port = simulators.configured_port(name) or _free_port()
        if _port_in_use(port):
            raise RuntimeError(
                f"{name}: port {port} on 127.0.0.1 is already in use; stop what uses it or set "
                f"{simulators.port_env_var(name)} to another port"
            )
        ports[name] = port
    launched: dict[str, subprocess.Popen[bytes]] = {}
    for name, port in ports.items():
        launched[name] = _spawn(root, name, port, (options or {}).get(name, {}))
        url = f"{url_scheme(name)}://127.0.0.1:{port}"
        state["simulators"][name] = {"url": url, "port": port, "pid": launched[name].pid}
    deadline = time.monotonic() + START_TIMEOUT_S
    failures = []
    for name, process in launched.items():
        url = state["simulators"][name]["url"]
        while time.monotonic() < deadline and process.poll() is None:
            if health(url, 0.5, tls_context(root, name, url)) is not None:
                break
            time.sleep(POLL_S)
        if process.poll() is None and health(url, 1.0, tls_context(root, name, url)) is not None:
            messages.append(f"{name}: started at {url} (pid {process.pid})")
            continue
        exit_code = process.poll()
        reason = f"exited with code {exit_code}"
        if exit_code is None:
            reason = f"did not answer within {START_TIMEOUT_S:.0f} s"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)
        state["simulators"][name]["pid"] = None
        output = paths.server_output(root, name)
        failures.append(f"{name}: {reason}; last lines of {output}:\n{_tail(output)}")
    save_state(root, state)
    if failures:
        raise RuntimeError("\n".join(failures))
    if only is None:
        messages.append(_start_resident_talosctl(root))
        messages += _start_git_servers(root)
    return messages


def _start_git_servers(root: Path) -> list[str]:
    """The real Git servers (sshd, nginx + git http-backend; docs/sandbox-git.md). They serve the GitOps stage
    only, so a start they cannot make (a program not installed, a state folder the git account cannot enter, a
    port taken) says why on one line and leaves the rest of the sandbox running; ``python -m sandbox git start``
    then fails with the same reason."""
    try:
        messages = GitServers(root).start()
    except (RuntimeError, ValueError, OSError) as error:
        return [f"git: not started: {error}"]
    try:  # the repository the sandbox inventory's GitOps stage pushes to (sandbox/git/site_repository.py)
        return [*messages, site_repository.prepare(root)]
    except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as error:
        return [*messages, f"git: repository {site_repository.REPOSITORY} not prepared: {error}"]


RESIDENT_TALOSCTL = "talosctl"


def _start_resident_talosctl(root: Path) -> str:
    """The resident talosctl stand-in (sandbox.talosctl.resident) for this state folder, started once."""
    pid = talosctl_client.ping(str(root))
    if pid:
        return f"{RESIDENT_TALOSCTL}: resident stand-in already running (pid {pid})"
    process = talosctl_resident.spawn(root, paths.server_output(root, RESIDENT_TALOSCTL))
    return f"{RESIDENT_TALOSCTL}: resident stand-in started (pid {process.pid})"


def status(root: Path) -> list[SimulatorStatus]:
    state = load_state(root)
    result = []
    for name in simulators.names() + sorted(set(state["simulators"]) - set(simulators.names())):
        entry = state["simulators"].get(name, {})
        up = running_entry(entry, name, root) if entry else False
        result.append(
            SimulatorStatus(
                name, entry.get("url"), entry.get("port"), entry.get("pid"), up, requestlog.count(root, name)
            )
        )
    pid = talosctl_client.ping(str(root))
    calls = requestlog.count(root, TALOSCTL_LOG)  # the stand-in's call log sits beside the request logs
    result.append(SimulatorStatus(RESIDENT_TALOSCTL, "resident (unix socket)", None, pid, bool(pid), calls, "calls"))
    result.extend(cluster.status() for cluster in SandboxCluster.all(root))  # real API servers (sandbox/kube)
    for server in GitServers(root).status():  # the Git servers, once started here
        if server.url:
            unit = "logins" if server.name == "git-ssh" else "requests"
            result.append(
                SimulatorStatus(server.name, server.url, server.port, server.pid, server.up, server.requests, unit)
            )
    return result


def stop(root: Path) -> list[str]:
    """SIGTERM each recorded simulator's process group, SIGKILL after a bounded wait, and forget the pids."""
    state = load_state(root)
    messages = []
    for name, entry in state["simulators"].items():
        pid = entry.get("pid")
        if not pid or not is_alive(pid) or not is_sandbox_process(int(pid), name):
            messages.append(f"{name}: not running")
            entry["pid"] = None
            continue
        if processes.terminate(int(pid), STOP_TIMEOUT_S, group=True):
            messages.append(f"{name}: stopped (pid {pid})")
        else:
            messages.append(f"{name}: killed (pid {pid}) after {STOP_TIMEOUT_S:.0f} s")
        entry["pid"] = None
    save_state(root, state)
    pid = talosctl_client.ping(str(root))
    if pid:
        how = "stopped" if processes.terminate(pid, STOP_TIMEOUT_S) else f"killed after {STOP_TIMEOUT_S:.0f} s"
        messages.append(f"{RESIDENT_TALOSCTL}: resident stand-in {how} (pid {pid})")
    for cluster in SandboxCluster.all(root):
        cluster.stop()
        messages.append(f"kube-apiserver: cluster {cluster.name} stopped (etcd, kube-apiserver, kubelet stand-in)")
    messages += GitServers(root).stop()
    return messages


def reset(root: Path) -> list[str]:
    """Make the state folder what a fresh ``start`` makes it, the simulators that run staying up.

    Every simulator forgets its data (running ones are told over HTTP, and keep what their start wrote, such as
    the Proxmox CA); the sandbox clusters are stopped and forgotten; what no simulator owns and a start does not
    write (Talos nodes, cluster output folders, installed tools, the talosctl call log, request logs) goes; the
    files a start writes (the talosctl checksum file of the Image Factory simulator) are written again.
    """
    if not paths.state_file(root).is_file():
        raise RuntimeError(f"{root} is not a sandbox state folder (it has no {paths.state_file(root).name})")
    state = load_state(root)
    messages = []
    for name in simulators.names():
        entry = state["simulators"].get(name, {})
        if entry and running_entry(entry, name, root):
            request = urllib.request.Request(f"{entry['url']}/_sandbox/reset", data=b"{}", method="POST")
            context = tls_context(root, name, entry["url"])
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                answer.read()
            messages.append(f"{name}: reset (running)")
            continue
        shutil.rmtree(paths.data_dir(root, name), ignore_errors=True)
        messages.append(f"{name}: reset")
    for cluster in SandboxCluster.all(root):
        cluster.remove()
        messages.append(f"kube-apiserver: cluster {cluster.name} stopped and forgotten")
    if GitServers(root).store.forget():  # repositories, keys and tokens go; running Git servers stay up
        messages.append("git: repositories, deploy keys and tokens forgotten")
    messages += _remove_what_start_does_not_write(root)
    _write_start_files(root)
    return messages


GIT_DIR = "git"  # the Git servers' folder: its store forgets the repositories, the servers' files stay

# <state>/talos: the Talos nodes and their clusters go; the parsed CLI reference the resident stand-in writes when
# it starts stays
TALOS_DIR, TALOS_KEEP = "talos", ("cache",)


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def _remove_what_start_does_not_write(root: Path) -> list[str]:
    keep = {paths.state_file(root).name, VAULT_PASSWORD_FILE, paths.log_dir(root).name, *simulators.names(), GIT_DIR}
    removed = []
    for path in sorted(root.iterdir()):
        if path.name == TALOS_DIR and path.is_dir():
            nodes = [item for item in path.iterdir() if item.name not in TALOS_KEEP]
            for item in nodes:
                _remove(item)
            if nodes:
                removed.append(f"{TALOS_DIR}: Talos nodes and their clusters removed")
        elif path.name not in keep:
            _remove(path)
            removed.append(f"{path.name}: removed")
    for log in paths.log_dir(root).glob("*.jsonl"):  # request logs and the talosctl call log; not server output
        log.unlink(missing_ok=True)
    return removed


def _write_start_files(root: Path) -> None:
    """What a start writes outside a simulator's stored data: the checksum file the talosctl role verifies the
    Image Factory simulator's talosctl against (its app writes it when it starts and when it resets; a stopped
    simulator's data folder was removed above, so it is written here)."""
    talosctl_assets.write_checksums(paths.data_dir(root, "image-factory") / "talosctl")
