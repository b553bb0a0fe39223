"""Real etcd members for a sandbox cluster, one per control-plane node, at the node's address (2379 and 2380).

Talos runs etcd on every control plane, peers and clients over TLS with the cluster's etcd CA. The sandbox does
the same with the etcd binary built from ``go.etcd.io/etcd/server/v3``: the first member starts a new cluster
(``talosctl bootstrap``), later ones are added with ``etcdctl member add`` and start with
``--initial-cluster-state existing``, a member that leaves is removed and its data wiped, snapshots are
``etcdctl snapshot save`` and a recovery is ``etcdutl snapshot restore`` into the first member's data folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import gotools
from . import certs
from .processes import Daemon

CLIENT_PORT = 2379
PEER_PORT = 2380
READY_TIMEOUT_S = 30.0
RECONFIGURE_TIMEOUT_S = 30.0


class EtcdError(RuntimeError):
    """An etcd operation failed; the message is etcd's or etcdctl's own."""


@dataclass(frozen=True)
class Member:
    name: str
    address: str

    @property
    def client_url(self) -> str:
        return f"https://{self.address}:{CLIENT_PORT}"

    @property
    def peer_url(self) -> str:
        return f"https://{self.address}:{PEER_PORT}"


class EtcdCluster:
    """The etcd members of one sandbox cluster, under ``<cluster dir>/etcd/<address>/``."""

    def __init__(self, cluster_dir: Path, token: str, log_dir: Path) -> None:
        self.root = cluster_dir / "etcd"
        self.token = token
        self.log_dir = log_dir

    def _dir(self, member: Member) -> Path:
        return self.root / member.address

    def daemon(self, member: Member) -> Daemon:
        return self._daemon_at(member.address)

    def _daemon_at(self, address: str) -> Daemon:
        return Daemon(self.root / address / "pid", self.log_dir / f"etcd-{address}.log")

    def _pki(self, member: Member) -> Path:
        return self._dir(member) / "pki"

    def running(self) -> list[Member]:
        members = []
        if self.root.is_dir():
            for folder in sorted(self.root.iterdir()):
                record = folder / "member.json"
                if record.exists():
                    member = Member(**json.loads(record.read_text()))
                    if self.daemon(member).alive():
                        members.append(member)
        return members

    def ctl(self, *args: str, member: Member | None = None, timeout: float = 30.0) -> str:
        """Run etcdctl against ``member`` (default: the first running member that is not a learner, which refuses
        most requests) with the sandbox's client certificate."""
        if member is not None:
            return self._ctl(member, args, timeout)
        running = self.running()
        if not running:
            raise EtcdError("no etcd member of this cluster is running")
        for candidate in running:
            try:
                return self._ctl(candidate, args, timeout)
            except EtcdError as error:
                if "not supported for learner" not in str(error) or candidate == running[-1]:
                    raise
        raise AssertionError("unreachable")

    def _ctl(self, member: Member, args: tuple[str, ...], timeout: float) -> str:
        pki = self._pki(member)
        return _tool(
            "etcdctl",
            f"--endpoints={member.client_url}",
            f"--cacert={pki / 'ca.crt'}",
            f"--cert={pki / 'client.crt'}",
            f"--key={pki / 'client.key'}",
            "--command-timeout=20s",
            *args,
            timeout=timeout,
        )

    def members(self) -> list[dict[str, Any]]:
        """``etcdctl member list`` as etcd reports it (ID as an integer, name, peer and client URLs, learner)."""
        data = json.loads(self.ctl("member", "list", "-w", "json"))
        return [
            {
                "id": int(item["ID"]),
                "name": item.get("name", ""),
                "peer_urls": item.get("peerURLs", []),
                "client_urls": item.get("clientURLs", []),
                "learner": bool(item.get("isLearner", False)),
            }
            for item in data.get("members", [])
        ]

    def status(self, member: Member) -> dict[str, Any]:
        data = json.loads(self.ctl("endpoint", "status", "-w", "json", member=member))[0]["Status"]
        return {
            "id": int(data["header"]["member_id"]),
            "db_size": int(data.get("dbSize", 0)),
            "db_size_in_use": int(data.get("dbSizeInUse", 0)),
            "leader": int(data.get("leader", 0)),
            "raft_index": int(data.get("raftIndex", 0)),
            "raft_term": int(data.get("raftTerm", 0)),
            "raft_applied_index": int(data.get("raftAppliedIndex", 0)),
            "learner": bool(data.get("isLearner", False)),
            "version": str(data.get("version", "")),
            "storage_version": str(data.get("storageVersion", "") or data.get("version", "")),
            "errors": list(data.get("errors", []) or []),
        }

    def _start(self, member: Member, pki: certs.ClusterPKI, initial: list[Member], state: str) -> None:
        folder = self._dir(member)
        folder.mkdir(parents=True, exist_ok=True)
        certs.write_etcd_member(self._pki(member), pki, member.address, member.name)
        (folder / "member.json").write_text(json.dumps({"name": member.name, "address": member.address}))
        tls = self._pki(member)
        command = [
            str(gotools.binary("etcd")),
            f"--name={member.name}",
            f"--data-dir={folder / 'data'}",
            f"--listen-client-urls={member.client_url}",
            f"--advertise-client-urls={member.client_url}",
            f"--listen-peer-urls={member.peer_url}",
            f"--initial-advertise-peer-urls={member.peer_url}",
            "--initial-cluster=" + ",".join(f"{m.name}={m.peer_url}" for m in initial),
            f"--initial-cluster-state={state}",
            f"--initial-cluster-token={self.token}",
            "--client-cert-auth=true",
            f"--trusted-ca-file={tls / 'ca.crt'}",
            f"--cert-file={tls / 'server.crt'}",
            f"--key-file={tls / 'server.key'}",
            "--peer-client-cert-auth=true",
            f"--peer-trusted-ca-file={tls / 'ca.crt'}",
            f"--peer-cert-file={tls / 'peer.crt'}",
            f"--peer-key-file={tls / 'peer.key'}",
            "--unsafe-no-fsync=true",
            # Members join back to back here, milliseconds apart; with the strict check etcd refuses each
            # reconfiguration until it has seen every member up for five seconds ("unhealthy cluster").
            "--strict-reconfig-check=false",
            "--log-level=warn",
        ]
        self.daemon(member).start(command)

    def wait_ready(self, member: Member, timeout: float = READY_TIMEOUT_S, learner: bool = False) -> None:
        """Until the member answers: healthy (a voter), or serving its status (a learner, which is never healthy)."""
        deadline = time.monotonic() + timeout
        last = ""
        probe = ("endpoint", "status") if learner else ("endpoint", "health")
        while time.monotonic() < deadline:
            if not self.daemon(member).alive():
                raise EtcdError(f"etcd {member.name} exited: {self.daemon(member).tail()}")
            try:
                self.ctl(*probe, "--command-timeout=1s", member=member, timeout=10)
                return
            except (EtcdError, subprocess.TimeoutExpired) as error:
                last = str(error)
            time.sleep(0.2)
        raise EtcdError(f"etcd {member.name} at {member.client_url} was not healthy within {timeout:.0f} s: {last}")

    def bootstrap(self, member: Member, pki: certs.ClusterPKI, snapshot: Path | None = None) -> None:
        """Start a new one-member cluster, from an etcd snapshot when given (``bootstrap --recover-from``)."""
        self.wipe(member)
        if snapshot is not None:
            folder = self._dir(member)
            folder.mkdir(parents=True, exist_ok=True)
            _tool(
                "etcdutl",
                "snapshot",
                "restore",
                str(snapshot),
                f"--data-dir={folder / 'data'}",
                f"--name={member.name}",
                f"--initial-cluster={member.name}={member.peer_url}",
                f"--initial-advertise-peer-urls={member.peer_url}",
                f"--initial-cluster-token={self.token}",
                timeout=120,
            )
        self._start(member, pki, [member], "new")
        self.wait_ready(member)

    def join(self, member: Member, pki: certs.ClusterPKI) -> None:
        """Add a member to the running cluster and start it (what a control plane does when it joins)."""
        if member in self.running():
            return
        # As Talos does, a new member joins as a learner (it does not count for quorum while it catches up) and is
        # promoted once in sync; adding it as a voter would leave a two-member cluster without quorum meanwhile.
        existing = self.members()
        if not any(member.peer_url in item["peer_urls"] for item in existing):
            self._retry_reconfigure("member", "add", member.name, f"--peer-urls={member.peer_url}", "--learner")
            existing = self.members()
        initial = [
            Member(item["name"] or member.name, item["peer_urls"][0].split("//", 1)[1].rsplit(":", 1)[0])
            for item in existing
        ]
        self.wipe(member)
        self._start(member, pki, initial, "existing")
        self.wait_ready(member, learner=True)
        for item in self.members():
            if member.peer_url in item["peer_urls"] and item["learner"]:
                self._retry_reconfigure("member", "promote", f"{item['id']:x}")
        self.wait_ready(member)

    def leave(self, member: Member) -> None:
        """Remove a member from the cluster (by another member when there is one), stop it and wipe its data."""
        others = [m for m in self.running() if m != member]
        for item in self.members():
            if member.peer_url in item["peer_urls"]:
                self._retry_reconfigure("member", "remove", f"{item['id']:x}", via=others[0] if others else member)
        self.wipe(member)

    def _retry_reconfigure(self, *args: str, via: Member | None = None) -> None:
        # etcd refuses a reconfiguration until the leader has seen every member active for a few seconds
        # ("unhealthy cluster") and promotes a learner only once it is in sync; as Talos does, retry, bounded.
        deadline = time.monotonic() + RECONFIGURE_TIMEOUT_S
        while True:
            try:
                self.ctl(*args, member=via)
                return
            except EtcdError as error:
                # etcd's words: "unhealthy cluster", and for a learner still catching up "can only promote a learner
                # member which is in sync with leader" (older releases: "... not in sync ...").
                transient = any(
                    words in str(error) for words in ("unhealthy cluster", "in sync with leader", "not in sync")
                )
                if not transient or time.monotonic() > deadline:
                    raise
            time.sleep(0.3)

    def wipe(self, member: Member) -> None:
        """Stop the member and delete its data (its certificates and member record stay)."""
        self.daemon(member).stop()
        shutil.rmtree(self._dir(member) / "data", ignore_errors=True)

    def snapshot(self, target: Path, member: Member) -> None:
        self.ctl("snapshot", "save", str(target), member=member, timeout=120)

    def stop_all(self) -> None:
        if self.root.is_dir():
            for folder in self.root.iterdir():
                self._daemon_at(folder.name).stop()


def _tool(program: str, *args: str, timeout: float) -> str:
    """Run etcdctl or etcdutl; its output, or EtcdError with the last line it printed on stderr."""
    result = subprocess.run(
        [str(gotools.binary(program)), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise EtcdError(lines[-1] if lines else f"{program} {args[0]} failed (exit code {result.returncode})")
    return result.stdout


def snapshot_status(path: Path) -> dict[str, int]:
    """hash, revision, total keys and size of an etcd snapshot file (``etcdutl snapshot status``)."""
    data = json.loads(_tool("etcdutl", "snapshot", "status", str(path), "-w", "json", timeout=60))
    return {
        "hash": int(data["hash"]),
        "revision": int(data["revision"]),
        "keys": int(data["totalKey"]),
        "size": int(data["totalSize"]),
    }
