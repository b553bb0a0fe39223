"""How one talosctl call reaches the simulated nodes: talosconfig, endpoints, apid proxying, maintenance mode.

Like the real client, an mTLS call connects to an *endpoint* (``--endpoints`` or the talosconfig context) and
apid there proxies to each *node* (``--nodes`` or the context). The endpoint must be a configured node whose CA
is the talosconfig's CA (else ``x509: certificate signed by unknown authority``) and which accepts the client
certificate (else ``tls: bad certificate``); a node in maintenance mode answers with a self-signed certificate
(``unknown authority`` too). ``--insecure`` connects to each node directly, without a client certificate: a
maintenance node answers, a configured one wants a certificate (``tls: certificate required``). An address that
is not in the sandbox, a node with the ``unreachable`` fault and a powered-off node give ``no route to host``; a
node that is installing or rebooting refuses connections while its pending call count runs down.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..simulators.talos import lifecycle, yamlio
from ..simulators.talos.errors import NodeFailure
from ..simulators.talos.state import Node, Store, strip_port
from . import errors
from .errors import TalosctlError

T = TypeVar("T")


@dataclass
class ClientConfig:
    path: Path
    context: str
    data: dict[str, Any]
    endpoints: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    ca: bytes | None = None
    crt: bytes | None = None
    key: bytes | None = None


def talosconfig_path(explicit: str | None, env: dict[str, str], cwd: Path) -> Path:
    if explicit:
        return (cwd / explicit).resolve() if not os.path.isabs(explicit) else Path(explicit)
    if env.get("TALOSCONFIG"):
        return Path(env["TALOSCONFIG"])
    return Path(env.get("HOME", str(Path.home()))) / ".talos" / "config"


def load_talosconfig(path: Path, context: str | None = None) -> ClientConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TalosctlError(
            f'failed to open config file "{path}": open {path}: {(error.strerror or str(error)).lower()}'
        ) from None
    try:
        data = yamlio.load_one(text, "talosconfig") if text.strip() else {}
    except yamlio.YAMLError as error:
        raise TalosctlError(f'failed to open config file "{path}": {error}') from None
    name = context or str(data.get("context") or "")
    contexts = data.get("contexts") or {}
    if name not in contexts:
        raise TalosctlError(
            f'error constructing client: failed to resolve configuration context: context "{name}" '
            "is not defined in 'contexts' key in config"
        )
    entry = contexts[name] or {}

    def decoded(key: str) -> bytes | None:
        try:
            return base64.b64decode(entry[key]) if entry.get(key) else None
        except (ValueError, TypeError):
            return None

    return ClientConfig(
        path,
        name,
        data,
        [str(e) for e in entry.get("endpoints") or []],
        [str(n) for n in entry.get("nodes") or []],
        decoded("ca"),
        decoded("crt"),
        decoded("key"),
    )


def _same_pem(a: bytes, b: bytes) -> bool:
    """The same certificate, whatever the line breaks around its PEM block."""
    return b"".join(a.split()) == b"".join(b.split())


class Session:
    """One talosctl call's view of the nodes; holds the state lock and saves every node it touched."""

    def __init__(self, store: Store, flags: Callable[[str], Any], env: dict[str, str], cwd: Path) -> None:
        self.store, self.flag, self.env, self.cwd = store, flags, env, cwd
        self.touched: dict[str, Node] = {}
        self.refused: set[str] = set()
        self._config: ClientConfig | None = None
        self._lock: AbstractContextManager[Store] | None = None

    def __enter__(self) -> Session:
        self._lock = self.store.locked()
        self._lock.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            for node in self.touched.values():
                if self.store.node(node.address) is not None:
                    self.store.save(node)
        finally:
            if self._lock is not None:
                self._lock.__exit__(*exc_info)

    # -- configuration -------------------------------------------------------------------------------------------
    def config(self) -> ClientConfig:
        if self._config is None:
            path = talosconfig_path(self.flag("talosconfig") or None, self.env, self.cwd)
            self._config = load_talosconfig(path, self.flag("context") or None)
        return self._config

    def node_list(self, insecure: bool = False) -> list[str]:
        given = [strip_port(node) for node in self.flag("nodes") or []]
        if given or insecure:
            return given
        from_config = [strip_port(node) for node in self.config().nodes]
        if not from_config:
            raise TalosctlError(
                "nodes are not set for the command: please use `--nodes` flag or configuration file "
                "to set the nodes to run the command against"
            )
        return from_config

    # -- reaching nodes --------------------------------------------------------------------------------------------
    def _load(self, address: str) -> Node | None:
        if address not in self.touched:
            try:
                node = self.store.node(address)
            except ValueError:
                node = None
            if node is None:
                return None
            self.touched[address] = node
            self._tick(node)
        return self.touched[address]

    def peer(self, address: str) -> Node | None:
        """Another node this call changes without contacting it (no pending call is used up)."""
        if address not in self.touched:
            node = self.store.node(address)
            if node is None:
                return None
            self.touched[address] = node
        return self.touched[address]

    def admin(self, node: Node) -> None:
        """Mutating APIs want the os:admin role in the client certificate (maintenance mode asks for none)."""
        crt = self._config.crt if self._config is not None else None
        if not node.configured or crt is None:
            return
        from ..simulators.talos import (
            pki,  # cryptography: ~0.1 s to import, paid only by calls that check a certificate
        )

        if "os:admin" not in pki.organizations(crt):
            raise NodeFailure(node.address, errors.rpc("PermissionDenied", "not authorized"))

    def tick(self, node: Node) -> None:
        """One more contact with a node that is installing or rebooting (health polls with it)."""
        self.refused.discard(node.address)
        self._tick(node)

    def _tick(self, node: Node) -> None:
        if not node.pending or node.stage == "off" or node.faults.get("unreachable"):
            return
        if node.pending.get("calls", 0) > 0:
            node.pending["calls"] -= 1
            self.refused.add(node.address)
        else:
            lifecycle.finish(self.store, node)

    def _reachable(self, address: str) -> Node:
        node = self._load(address)
        if node is None or node.faults.get("unreachable") or node.stage == "off":
            raise NodeFailure(address, errors.no_route(address))
        if node.address in self.refused:
            raise NodeFailure(address, errors.refused(address))
        return node

    def endpoint(self) -> Node:
        """The endpoint node this call talks to over mTLS (TalosctlError when none answers)."""
        config = self.config()
        endpoints = [strip_port(e) for e in (self.flag("endpoints") or config.endpoints)]
        if not endpoints:
            raise TalosctlError("error constructing client: failed to determine endpoints")
        first_error = ""
        for address in endpoints:
            try:
                node = self._reachable(address)
            except NodeFailure as failure:
                first_error = first_error or failure.message
                continue
            if (
                not node.configured
                or not node.ca_crt
                or config.ca is None
                or not _same_pem(config.ca, base64.b64decode(node.ca_crt))
            ):
                first_error = first_error or errors.unknown_authority()
                continue
            from ..simulators.talos import (
                pki,  # cryptography: ~0.1 s to import, paid only by calls that check a certificate
            )

            if config.crt is None or not pki.signed_by(config.crt, config.ca):
                first_error = first_error or errors.bad_certificate()
                continue
            return node
        raise NodeFailure(endpoints[0], first_error)

    def via(self, endpoint: Node, address: str) -> Node:
        """A node reached through apid on ``endpoint``."""
        node = self._reachable(address)
        if node.address == endpoint.address:
            return node
        if not node.configured or node.ca_crt != endpoint.ca_crt:
            raise NodeFailure(address, errors.unknown_authority())
        return node

    def maintenance(self, address: str) -> Node:
        """A node reached with ``--insecure`` (the maintenance API, no client certificate)."""
        node = self._reachable(address)
        if node.configured:
            raise NodeFailure(address, errors.certificate_required())
        return node

    def _one_of(self, addresses: list[str]) -> str:
        """In maintenance mode the nodes are the client's endpoints, balanced round robin: a call reaches ONE of
        them (the real client picks at random among those that answer; the stand-in takes the first)."""
        for address in addresses:
            try:
                self._reachable(address)
            except NodeFailure:
                continue
            return address
        return addresses[0]

    def each(
        self,
        addresses: list[str],
        work: Callable[[Node], T],
        prefix: str,
        insecure: bool = False,
        warn: Callable[[str], None] | None = None,
    ) -> list[T]:
        """``work`` on every node, failures worded as talosctl reports them.

        Over mTLS the request carries the node list and apid answers per node, so a node's failure comes back as
        ``1 error occurred:\n\t* <node>: <error>`` even for a single node; with ``warn`` (commands that print what
        they got and only warn, like ``version``) the failures are passed to it and the successes returned. In
        maintenance mode (``--insecure``) the client talks to the node itself: its error comes back bare.
        """
        if not addresses:
            raise TalosctlError(
                "nodes are not set for the command: please use `--nodes` flag or configuration "
                "file to set the nodes to run the command against"
            )
        endpoint = None
        if not insecure:
            try:
                endpoint = self.endpoint()
            except NodeFailure as failure:
                raise TalosctlError(prefix + failure.message) from None
        elif len(addresses) > 1:
            addresses = [self._one_of(addresses)]
        results, failures = [], []
        for address in addresses:
            try:
                node = self.maintenance(address) if endpoint is None else self.via(endpoint, address)
                results.append(work(node))
            except NodeFailure as failure:
                failures.append((failure.node, failure.message))
        if failures and endpoint is None:
            raise TalosctlError(prefix + failures[0][1])
        if failures and warn is not None:
            warn("WARNING: " + errors.per_node(failures).rstrip("\n"))
        elif failures:
            raise TalosctlError(prefix + errors.per_node(failures))
        return results
