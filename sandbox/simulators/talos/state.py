"""The sandbox's Talos nodes: one JSON record per node address, plus one record per cluster (etcd), on disk.

Layout under the sandbox state folder::

    talos/nodes/<address>.json         the node record (fields of :class:`Node`)
    talos/nodes/<address>.config.yaml  the machine config the node runs (0600)
    talos/nodes/<address>.staged.yaml  a config applied with --mode staged, active after the next reboot (0600)
    talos/clusters/<cluster-id>.json   per cluster: bootstrapped, etcd members, Kubernetes version, revision
    talos/.lock                        taken (flock) around every read-modify-write

Nothing here talks to a network: an address is only a key. Several talosctl processes may run at once (the
collection applies configs in parallel); :meth:`Store.locked` serialises their state changes.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import TALOS_VERSION

VANILLA_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
STAGES = ("maintenance", "installing", "running", "rebooting", "resetting", "off")
FAULTS = ("unreachable", "reboot-during-upgrade", "never-leaves-maintenance")
_ADDRESS = re.compile(r"^[0-9A-Za-z._:%-]{1,253}$")
_INSTALLER = re.compile(
    r"^(?P<registry>[^/]+(?:/[^/]+)*?)/(?:(?P<platform>[a-z0-9]+)-)?installer(?P<secureboot>-secureboot)?"
    r"/(?P<schematic>[0-9a-f]{64}):(?P<version>v[0-9][^@]*)$"
)
_PLAIN_INSTALLER = re.compile(r"^(?P<repo>.+/installer):(?P<version>v[0-9][^@]*)$")


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_address(address: str) -> str:
    """The address as a state key; ValueError for something that is not a host or IP address."""
    bare = address.strip()
    if bare.startswith("[") and "]" in bare:
        bare = bare[1 : bare.index("]")]
    if not _ADDRESS.match(bare) or bare.startswith(".") or "/" in bare:
        raise ValueError(f"invalid node address {address!r}")
    return bare


def strip_port(endpoint: str) -> str:
    """``10.0.0.1:50000`` -> ``10.0.0.1``; ``[fd00::1]:50000`` -> ``fd00::1``; a bare address is kept."""
    text = endpoint.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    if text.startswith("["):
        return text[1 : text.index("]")] if "]" in text else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def parse_installer(image: str) -> tuple[str, str]:
    """(schematic, version) of an installer image; ValueError when it is not one.

    ``<registry>/<platform>-installer[-secureboot]/<schematic>:<version>``, the legacy
    ``<registry>/installer/<schematic>:<version>``, or ``<registry>/.../installer:<version>`` (no customization).
    """
    match = _INSTALLER.match(image)
    if match:
        return match.group("schematic"), match.group("version")
    plain = _PLAIN_INSTALLER.match(image)
    if plain:
        return VANILLA_SCHEMATIC, plain.group("version")
    raise ValueError(f'"{image}" is not a Talos installer image reference')


def stable_hostname(address: str) -> str:
    """A ``talos-xxx-yyy`` name derived from the address, as ``HostnameConfig auto: stable`` gives one."""
    digest = hashlib.sha256(address.encode()).digest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    letters = "".join(alphabet[byte % 36] for byte in digest[:6])
    return f"talos-{letters[:3]}-{letters[3:]}"


class NodeNotFound(KeyError):
    """No node with that address in the sandbox (prints as its message, not as a quoted key)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such node"


@dataclass
class Node:
    """One simulated Talos node (see docs/talosctl-standin.md for each field)."""

    address: str
    stage: str = "maintenance"
    platform: str = "metal"
    talos_version: str = TALOS_VERSION
    schematic: str = VANILLA_SCHEMATIC
    installer_image: str | None = None
    install_disk: str | None = None
    hostname: str = ""
    role: str | None = None
    cluster_id: str | None = None
    cluster_name: str | None = None
    cluster_endpoint: str | None = None
    ca_crt: str | None = None
    config_sha256: str | None = None
    config_version: int = 0
    staged: bool = False
    reboots: int = 0
    etcd_member: bool = False
    kubernetes_version: str | None = None
    pending: dict[str, Any] | None = None
    next_boot: dict[str, Any] | None = None
    install_calls: int = 0
    faults: dict[str, Any] = field(default_factory=dict)
    machine_id: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    created: str = ""
    updated: str = ""

    @property
    def configured(self) -> bool:
        return self.config_sha256 is not None and self.stage not in ("maintenance", "off")

    def event(self, kind: str, **details: Any) -> None:
        self.events = [*self.events[-49:], {"ts": utc_now(), "event": kind, **details}]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class Cluster:
    """The etcd side of one cluster, keyed by ``cluster.id`` of the configs its nodes run."""

    cluster_id: str
    cluster_name: str = ""
    bootstrapped: bool = False
    bootstrap_node: str | None = None
    members: list[str] = field(default_factory=list)
    revision: int = 0
    kubernetes_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(partial, mode)
    os.replace(partial, path)


class Store:
    """The node and cluster records of one sandbox state folder."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.state_dir = Path(state_dir)
        self.root = self.state_dir / "talos"

    @contextlib.contextmanager
    def locked(self) -> Iterator[Store]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _node_file(self, address: str, suffix: str = ".json") -> Path:
        return self.root / "nodes" / f"{check_address(address)}{suffix}"

    def node(self, address: str) -> Node | None:
        try:
            return Node.from_json(json.loads(self._node_file(address).read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError):
            return None

    def nodes(self) -> list[Node]:
        folder = self.root / "nodes"
        found = [self.node(path.name[:-5]) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return [node for node in found if node is not None]

    def save(self, node: Node) -> None:
        node.updated = utc_now()
        node.created = node.created or node.updated
        _write(self._node_file(node.address), json.dumps(node.to_json(), indent=2) + "\n", 0o600)

    def remove(self, address: str) -> bool:
        removed = False
        for suffix in (".json", ".config.yaml", ".staged.yaml"):
            with contextlib.suppress(FileNotFoundError):
                self._node_file(address, suffix).unlink()
                removed = True
        return removed

    def config(self, address: str, staged: bool = False) -> str | None:
        try:
            return self._node_file(address, ".staged.yaml" if staged else ".config.yaml").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_config(self, address: str, text: str | None, staged: bool = False) -> None:
        path = self._node_file(address, ".staged.yaml" if staged else ".config.yaml")
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        else:
            _write(path, text, 0o600)

    def _cluster_file(self, cluster_id: str) -> Path:
        return self.root / "clusters" / f"{hashlib.sha256(cluster_id.encode()).hexdigest()[:32]}.json"

    def cluster(self, cluster_id: str) -> Cluster:
        try:
            data = json.loads(self._cluster_file(cluster_id).read_text(encoding="utf-8"))
            return Cluster(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return Cluster(cluster_id)

    def save_cluster(self, cluster: Cluster) -> None:
        _write(self._cluster_file(cluster.cluster_id), json.dumps(cluster.to_json(), indent=2) + "\n", 0o600)

    def cluster_nodes(self, cluster_id: str) -> list[Node]:
        return [node for node in self.nodes() if node.cluster_id == cluster_id and node.configured]
