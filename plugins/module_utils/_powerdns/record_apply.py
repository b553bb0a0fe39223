# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_record does, without Ansible: parameters in, result out (docs/failures.md).

One read of the zone list, one read per zone and one PATCH per changed zone, whatever the number of sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.plan import changes_diff
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.record_plan import (
    assign_zones,
    plan_changes,
    requests_from_params,
)


def run(params: Mapping[str, Any], check_mode: bool, client: PowerDNSClient | None = None) -> dict[str, Any]:
    """Check the sets, read their zones, plan, and (unless ``check_mode``) patch. Raises InputError or
    PowerDNSError."""
    requests = requests_from_params(params)
    client = client or client_from_params(params)
    listed = {str(z.get("name", "")).lower(): z for z in client.zones()}
    zones = {name: client.zone(listed[name]["id"]) for name in assign_zones(requests, listed)}
    changes, after = plan_changes(requests, zones)
    result: dict[str, Any] = {
        "changed": bool(changes),
        "changes": [c.result() for c in changes],
        "rrsets": after,
    }
    if changes:
        result["diff"] = changes_diff(changes)
    if changes and not check_mode:
        for zone in sorted({c.zone for c in changes}):
            client.patch_rrsets(zones[zone]["id"], [c.api() for c in changes if c.zone == zone])
    return result
