"""The PVE API schema (tests/contracts/proxmox-ve/pve-apidata.json), indexed by path template and method.

The file is the API viewer's tree: ``{path, info: {GET: {parameters, returns, ...}}, children: [...]}``. Path
templates carry ``{name}`` placeholders (``/nodes/{node}/qemu/{vmid}``); :meth:`Schema.find` turns a concrete
path under ``/api2/json`` into its template, the method's definition and the path parameters.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import paths

SCHEMA_FILE = paths.REPO_ROOT / "tests" / "contracts" / "proxmox-ve" / "pve-apidata.json"
_PLACEHOLDER = re.compile(r"\{([^}/]+)\}")
# volume IDs carry a slash (local:import/talos.qcow2), and so do UPIDs of tasks on volumes (imgdel); the server
# sees the path percent-decoded, so these placeholders may span a slash
_SLASHED = {"volume": r"[^/]+(?:/[^/]+)?", "upid": r"[^/]+(?:/[^/]+)*?"}


@dataclass(frozen=True)
class Method:
    """One documented API method: its template path, HTTP method, parameter schema and return schema."""

    path: str
    method: str
    name: str
    parameters: dict[str, Any]
    returns: dict[str, Any]

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.parameters.get("properties") or {})


@dataclass(frozen=True)
class Match:
    method: Method
    path_params: dict[str, str]


class Schema:
    """Every documented (path, method) of the PVE API."""

    def __init__(self, tree: list[dict[str, Any]]) -> None:
        self.methods: dict[tuple[str, str], Method] = {}
        self._templates: list[tuple[re.Pattern[str], str, int]] = []
        stack = list(tree)
        while stack:
            node = stack.pop()
            stack.extend(node.get("children") or [])
            path = node["path"]
            for verb, info in (node.get("info") or {}).items():
                self.methods[(path, verb)] = Method(
                    path, verb, info.get("name", ""), info.get("parameters") or {}, info.get("returns") or {}
                )
            pattern = "".join(
                f"(?P<{name.replace('-', '_')}>{_SLASHED.get(name, '[^/]+')})" if name else re.escape(text)
                for text, name in _split_template(path)
            )
            # literal segments win over placeholders (/nodes/{node}/qemu before /nodes/{node}/{x})
            self._templates.append((re.compile(pattern), path, len(_PLACEHOLDER.findall(path))))
        self._templates.sort(key=lambda item: (item[2], -len(item[1])))

    def paths(self) -> list[str]:
        return sorted({path for path, _verb in self.methods})

    def method(self, path: str, verb: str) -> Method | None:
        return self.methods.get((path, verb))

    def template_of(self, concrete: str) -> tuple[str, dict[str, str]] | None:
        """The documented template a concrete path (without /api2/json) belongs to, with its placeholders."""
        for pattern, template, _count in self._templates:
            found = pattern.fullmatch(concrete)
            if found:
                names = _PLACEHOLDER.findall(template)
                return template, {name: found.group(name.replace("-", "_")) for name in names}
        return None

    def find(self, concrete: str, verb: str) -> Match | None | bool:
        """The method for a concrete path: a Match, None (unknown path) or False (path known, method not)."""
        found = self.template_of(concrete)
        if found is None:
            return None
        template, params = found
        method = self.method(template, verb)
        if method is None:
            return False
        return Match(method, params)


def _split_template(path: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    position = 0
    for found in _PLACEHOLDER.finditer(path):
        if found.start() > position:
            parts.append((path[position : found.start()], ""))
        parts.append(("", found.group(1)))
        position = found.end()
    if position < len(path):
        parts.append((path[position:], ""))
    return parts


@functools.lru_cache(maxsize=4)
def load(path: str | None = None) -> Schema:
    """The schema from ``path`` (default: the vendored contract); parsed once per process."""
    source = Path(path) if path else SCHEMA_FILE
    return Schema(json.loads(source.read_text(encoding="utf-8")))
