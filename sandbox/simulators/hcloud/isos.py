"""ISOs: a small fixed catalogue of public ISOs (list with its filters, get) and attaching one to a server.

Attaching only marks the server (``server.iso``): the simulated server still boots from its disk (or into rescue).
The real catalogue also has ISOs for any architecture (``architecture: null``, what ``include_architecture_wildcard``
adds); cloud.spec.json's ISO schema does not admit null there (its enum lacks it), so every ISO here has one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...httpbase import operation
from .app import Call, HcloudCore
from .errors import APIError

_ISOS = [
    # id, name, description, architecture
    (127321, "ubuntu-24.04.2-live-server-amd64.iso", "Ubuntu 24.04.2 (amd64)", "x86"),
    (127322, "ubuntu-24.04.2-live-server-arm64.iso", "Ubuntu 24.04.2 (arm64)", "arm"),
    (121847, "debian-12.10.0-amd64-netinst.iso", "Debian 12.10 netinstall (amd64)", "x86"),
    (121848, "debian-12.10.0-arm64-netinst.iso", "Debian 12.10 netinstall (arm64)", "arm"),
]


@cache
def isos() -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "name": name,
            "description": description,
            "type": "public",
            "deprecation": None,
            "architecture": architecture,
        }
        for ident, name, description, architecture in _ISOS
    ]


class IsosMixin(HcloudCore):
    def iso_by_id(self, ident: int) -> dict[str, Any] | None:
        return next((item for item in isos() if item["id"] == ident), None)

    def resolve_iso(self, id_or_name: int | str, architecture: str) -> dict[str, Any]:
        """The ISO a request names (ID or name) that a server of ``architecture`` can boot."""
        found = next((item for item in isos() if str(id_or_name) in (str(item["id"]), item["name"])), None)
        if found is None:
            raise APIError.invalid_input("iso", f"ISO {id_or_name} not found")
        if found["architecture"] not in (None, architecture):
            raise APIError.invalid_input("iso", f"ISO {id_or_name} is for {found['architecture']}, not {architecture}")
        return found

    @operation("GET", "/isos")
    def list_isos(self, call: Call) -> Any:
        items = isos()
        architecture = call.get("architecture")
        wildcard = call.get("include_architecture_wildcard")
        if wildcard is not None and architecture is None:
            raise APIError.invalid_input("include_architecture_wildcard", "needs the architecture filter")
        if architecture is not None:
            accepted = (architecture, None) if wildcard else (architecture,)
            items = [item for item in items if item["architecture"] in accepted]
        return self.listing(call, "isos", items)

    @operation("GET", "/isos/{id}")
    def get_iso(self, call: Call) -> Any:
        found = self.iso_by_id(call.id())
        if found is None:
            raise APIError(404, "not_found", f"ISO with ID '{call.id()}' not found")
        return 200, {"iso": found}
