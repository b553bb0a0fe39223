"""``version`` and ``get``: read-only questions to nodes."""

from __future__ import annotations

import hashlib

from ..simulators.talos import TALOS_VERSION, resources
from ..simulators.talos.errors import NodeFailure, rpc
from ..simulators.talos.state import Node
from . import rendering
from .errors import TalosctlError
from .runtime import Runtime

GO_VERSION = "go1.26.0"
KNOWN_SHAS = {"v1.13.9": "3ebd10a7"}


def _sha(version: str) -> str:
    return KNOWN_SHAS.get(version) or hashlib.sha256(f"talos {version}".encode()).hexdigest()[:8]


def long_version(tag: str) -> str:
    return (
        f"\tTag:         {tag}\n\tSHA:         {_sha(tag)}\n\tBuilt:       \n\tGo version:  {GO_VERSION}\n"
        "\tOS/Arch:     linux/amd64\n"
    )


def version(rt: Runtime) -> None:
    rt.print("Client:")
    rt.out.write(f"Talos {TALOS_VERSION}\n" if rt.flag("short") else long_version(TALOS_VERSION))
    if rt.flag("client"):
        return
    rt.print("Server:")
    rt.out.flush()
    insecure = bool(rt.flag("insecure"))
    with rt.session() as session:
        answers = session.each(
            session.node_list(insecure), lambda node: node, "error getting version: ", insecure=insecure, warn=rt.info
        )
    for node in answers:
        rt.out.write(f"\tNODE:        {node.address}\n")
        rt.out.write(long_version(node.talos_version))
        rt.out.write("\tEnabled:     RBAC\n")


def get(rt: Runtime) -> None:
    output = rt.flag("output") or "table"
    if output not in ("table", "json", "yaml"):
        if output == "jsonpath" or output.startswith("jsonpath="):
            raise TalosctlError("output mode jsonpath is not implemented by the talosforge sandbox stand-in")
        raise TalosctlError(f'unknown output mode "{output}": supported modes are json, table, yaml, jsonpath')
    if rt.flag("watch"):
        raise TalosctlError("--watch is not implemented by the talosforge sandbox stand-in")
    kind = resources.find_kind(rt.args[0])
    if kind is None:
        names = ", ".join(sorted(name for item in resources.KINDS for name in item.names[:1]))
        raise TalosctlError(
            f'resource "{rt.args[0]}" is not simulated by the talosforge sandbox stand-in (it serves {names})'
        )
    namespace = rt.flag("namespace")
    if namespace and namespace != kind.namespace:
        raise TalosctlError(f'resource "{kind.type}" is not in namespace "{namespace}" (sandbox stand-in)')
    wanted = rt.args[1] if len(rt.args) > 1 else None
    insecure = bool(rt.flag("insecure"))
    rows: list[tuple[Node, str, int, object]] = []
    with rt.session() as session:
        store = session.store

        def collect(node: Node) -> None:
            found = [
                (node, identity, version_number, spec)
                for identity, version_number, spec in resources.items(store, node, kind)
                if wanted is None or identity == wanted
            ]
            if wanted is not None and not found:
                raise NodeFailure(
                    node.address,
                    rpc("NotFound", f"resource {kind.type}({kind.namespace}/{wanted}@undefined) doesn't exist"),
                )
            rows.extend(found)

        session.each(session.node_list(insecure), collect, "", insecure=insecure)
    if output == "json":
        rt.out.write(rendering.render_json(kind, rows))
    elif output == "yaml":
        rt.out.write(rendering.render_yaml(kind, rows))
    else:
        rt.out.write(rendering.render_table(kind, rows))
