"""What a simulated server *is*: a disk file, a rescue system (a real OpenSSH server on loopback) and, when its
disk holds a Talos image from the Image Factory simulator, a simulated Talos node in maintenance mode.

The rescue sshd runs ``/usr/sbin/sshd -D`` with its own config, host key and authorized_keys, listening on the
server's public IPv4 (from 127.88.0.0/16 by default). Every session runs through a ForceCommand wrapper that
executes the client's command with ``/dev/sda`` replaced by the path of the server's disk file, so
``xz -d | dd of=/dev/sda`` writes the disk. (A mount namespace with the file bound over ``/dev/sda`` would be
closer to a real device, but needs CAP_SYS_ADMIN and a private /dev; the text substitution works wherever sshd
does and is predictable.) As with ``dd`` onto a regular file, the disk then holds exactly what was written.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from ..talos import lifecycle as talos_lifecycle
from ..talos.state import Store as TalosStore

SSHD = "/usr/sbin/sshd"
_FACTORY_LABEL = b"TALOSFORGE SANDBOX SYNTHETIC ASSET - made by the Image Factory simulator"
_WRAPPER = """#!/bin/sh
# ForceCommand of the simulated rescue system: run the client's command with /dev/sda meaning this server's disk.
DISK={disk}
if [ -z "$SSH_ORIGINAL_COMMAND" ]; then
    echo "Hetzner Cloud rescue system (talosforge sandbox simulator): run a command, e.g. dd of=/dev/sda"
    exit 0
fi
cmd=$(printf '%s' "$SSH_ORIGINAL_COMMAND" | sed "s#/dev/sda\\b#$DISK#g")
cd /root 2>/dev/null || cd /
exec /bin/sh -c "$cmd"
"""


def talos_image_facts(disk: Path) -> dict[str, str] | None:
    """Version, schematic, platform and arch from the label the Image Factory simulator writes into a raw disk."""
    try:
        with disk.open("rb") as handle:
            head = handle.read(446)
    except FileNotFoundError:
        return None
    if not head.startswith(_FACTORY_LABEL):
        return None
    facts = dict(re.findall(r"^(\w+): (\S+)$", head.decode("utf-8", errors="replace"), re.MULTILINE))
    if "version" not in facts or "schematic" not in facts:
        return None
    return facts


class Machines:
    """Disks, rescue systems and Talos nodes of the simulated servers."""

    def __init__(self, data_dir: Path, state_dir: Path, ssh_port: int = 22, sshd: str = SSHD) -> None:
        self.root = data_dir
        self.state_dir = state_dir
        self.ssh_port = ssh_port
        self.sshd = sshd
        self.rescues: dict[int, subprocess.Popen[bytes]] = {}
        atexit.register(self.stop_all)  # `sandbox serve` ends on SIGTERM: take the rescue sshds with it

    def disk(self, server_id: int) -> Path:
        return self.root / "disks" / f"{server_id}.img"

    def image_file(self, image_id: int) -> Path:
        return self.root / "images" / f"{image_id}.img"

    def make_disk(self, server_id: int, image: dict[str, Any]) -> None:
        target = self.disk(server_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.image_file(image["id"])
        if source.exists():
            shutil.copyfile(source, target)
        else:  # a system image: a small labelled disk
            target.write_bytes(f"SIMULATED DISK of image {image.get('name')} ({image['id']})\n".encode().ljust(4096))

    def snapshot(self, server_id: int, image_id: int) -> tuple[int, str]:
        """Copy the disk into an image file: (bytes, sha256)."""
        target = self.image_file(image_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with self.disk(server_id).open("rb") as source, target.open("wb") as sink:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                sink.write(block)
                size += len(block)
        return size, digest.hexdigest()

    # --- power --------------------------------------------------------------------------------------------------
    def boot(self, server: dict[str, Any], authorized_keys: list[str], architecture: str = "x86") -> None:
        """Power on: into the rescue system when it is enabled, else from the disk.

        A Talos image for the other architecture (amd64 on an arm server) does not boot: no node appears.
        """
        if server.get("rescue_enabled"):
            self.start_rescue(server, authorized_keys)
            return
        facts = talos_image_facts(self.disk(server["id"]))
        address = talos_address(server)
        if facts and facts.get("arch", "amd64") != {"x86": "amd64", "arm": "arm64"}[architecture]:
            return
        if facts and address:
            store = TalosStore(self.state_dir)
            with store.locked():
                if server.get("_talos_address") == address and store.node(address) is not None:
                    talos_lifecycle.boot(store, address)  # this server's own node, powered on again
                else:  # first boot from this disk: a fresh node (replacing any stale record at the address)
                    talos_lifecycle.add(
                        store, address, version=facts["version"], schematic=facts["schematic"], platform="hcloud"
                    )
            server["_talos_address"] = address

    def halt(self, server: dict[str, Any]) -> None:
        self.stop_rescue(server["id"])

    def destroy(self, server: dict[str, Any]) -> None:
        self.stop_rescue(server["id"])
        address = server.get("_talos_address")
        if address:
            store = TalosStore(self.state_dir)
            with store.locked():
                store.remove(address)
        server.pop("_talos_address", None)
        with contextlib.suppress(FileNotFoundError):
            self.disk(server["id"]).unlink()

    # --- the rescue system ----------------------------------------------------------------------------------------
    def start_rescue(self, server: dict[str, Any], authorized_keys: list[str]) -> None:
        ipv4 = (server["public_net"].get("ipv4") or {}).get("ip")
        if not ipv4:
            return  # no public address: nothing to listen on (the real rescue system needs one too)
        self.stop_rescue(server["id"])
        folder = self.root / "rescue" / str(server["id"])
        folder.mkdir(parents=True, exist_ok=True)
        host_key = folder / "ssh_host_ed25519_key"
        if not host_key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True, timeout=30)
        (folder / "authorized_keys").write_text("".join(key.strip() + "\n" for key in authorized_keys))
        wrapper = folder / "rescue-command"
        wrapper.write_text(_WRAPPER.format(disk=shlex.quote(str(self.disk(server["id"])))))
        wrapper.chmod(0o755)
        config = folder / "sshd_config"
        config.write_text(
            f"ListenAddress {ipv4}:{self.ssh_port}\nHostKey {host_key}\nPidFile {folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nForceCommand {wrapper}\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nPrintMotd no\nAllowTcpForwarding no\nX11Forwarding no\n"
            "LogLevel ERROR\nSubsystem sftp internal-sftp\n"
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        log = (folder / "sshd.log").open("ab")
        process = subprocess.Popen(
            [self.sshd, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        self.rescues[server["id"]] = process
        _wait_listening(ipv4, self.ssh_port, process)

    def stop_rescue(self, server_id: int) -> None:
        process = self.rescues.pop(server_id, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for server_id in list(self.rescues):
            self.stop_rescue(server_id)


def talos_address(server: dict[str, Any]) -> str | None:
    """Where talosctl reaches the node: its public IPv4, else its first private network IP."""
    ipv4 = (server["public_net"].get("ipv4") or {}).get("ip")
    if ipv4:
        return str(ipv4)
    private = server.get("private_net") or []
    return str(private[0]["ip"]) if private else None


def _wait_listening(host: str, port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # bounded: at most `timeout` seconds
        if process.poll() is not None:
            raise RuntimeError(f"the rescue sshd for {host}:{port} exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.02)
    raise RuntimeError(f"the rescue sshd did not listen on {host}:{port} within {timeout} s")
