# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_zone does, without Ansible: parameters in, result out (docs/failures.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import absolute_name
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_plan import (
    describe,
    desired_apex,
    plan_zone,
)


def run(params: Mapping[str, Any], check_mode: bool, client: PowerDNSClient | None = None) -> dict[str, Any]:
    """Read the zone, plan, and (unless ``check_mode``) change it. Raises InputError or PowerDNSError."""
    name = absolute_name(params["name"], "name")
    want = desired_apex(name, params) if params["state"] == "present" else None
    client = client or client_from_params(params)
    found = client.find_zone(name)
    current = client.zone(found["id"]) if found else None
    plan = plan_zone(name, params["state"], params["kind"], want, current)
    result: dict[str, Any] = {"changed": plan.changed, "zone": describe(current)}
    if plan.diff is not None:
        result["diff"] = plan.diff
    if check_mode or not plan.changed:
        return result
    if current is None:
        client.create_zone(plan.create or {})
        found = client.find_zone(name)
        result["zone"] = describe(client.zone(found["id"])) if found else {}
    elif plan.delete:
        client.delete_zone(current["id"])
        result["zone"] = {}
    else:
        if plan.kind:
            client.update_zone(current["id"], {"kind": plan.kind})
        if plan.patch:
            client.patch_rrsets(current["id"], plan.patch)
        result["zone"] = describe(client.zone(current["id"]))
    return result
