"""How talosctl prints resources: a table (Go's tabwriter), JSON or YAML, with COSI metadata."""

from __future__ import annotations

import json
from typing import Any

from ..simulators.talos import yamlio
from ..simulators.talos.resources import Kind
from ..simulators.talos.state import Node


def _metadata(kind: Kind, identity: str, version: int, node: Node) -> dict[str, Any]:
    return {
        "namespace": kind.namespace,
        "type": kind.type,
        "id": identity,
        "version": version,
        "owner": kind.owner,
        "phase": "running",
        "created": node.created,
        "updated": node.updated,
    }


def render_yaml(kind: Kind, rows: list[tuple[Node, str, int, Any]]) -> str:
    parts = []
    for node, identity, version, spec in rows:
        body = {"metadata": _metadata(kind, identity, version, node), "spec": spec}
        parts.append(f"node: {node.address}\n" + yamlio.dump(body))
    return "---\n".join(parts)


def render_json(kind: Kind, rows: list[tuple[Node, str, int, Any]]) -> str:
    return "".join(
        json.dumps(
            {"metadata": _metadata(kind, identity, version, node), "node": node.address, "spec": spec},
            indent=4,
            sort_keys=True,
        )
        + "\n"
        for node, identity, version, spec in rows
    )


def _cell(spec: Any, path: str) -> str:
    value = spec
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(json.dumps(item) for item in value) + "]"
    return "" if value is None else str(value)


def tabulate(rows: list[list[str]], padding: int = 3) -> str:
    """Go's text/tabwriter with minwidth 0, padding 3, spaces: every column but the last padded."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(len(row) for row in rows))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + padding) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def render_table(kind: Kind, rows: list[tuple[Node, str, int, Any]]) -> str:
    header = ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", *(name for name, _path in kind.columns)]
    table = [header]
    for node, identity, version, spec in rows:
        table.append(
            [
                node.address,
                kind.namespace,
                kind.display,
                identity,
                str(version),
                *(_cell(spec, path) for _name, path in kind.columns),
            ]
        )
    return tabulate(table)
