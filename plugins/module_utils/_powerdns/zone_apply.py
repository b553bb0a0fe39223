# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_zone does, without Ansible: parameters in, result out (docs/failures.md).

One read of the zone, with its metadata and the TSIG key in parallel when the task manages them; then only the
writes that something differs for: nothing at all on a re-run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    PowerDNSError,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import absolute_name, display
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_extras import (
    Extras,
    check_rrsets,
    describe_extras,
    desired_allow_from,
    desired_tsig_key,
    plan_extras,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_plan import (
    ZonePlan,
    describe,
    desired_apex,
    plan_zone,
)


def _named(error: PowerDNSError, zone: str, url: str) -> PowerDNSError:
    """The error with the zone and the server named in front (the request stays in ``failure``)."""
    where = f"zone {display(zone)} on {url}: "
    return PowerDNSError(where + str(error), error.status, error.code, error.details, error.request)


def run(params: Mapping[str, Any], check_mode: bool, client: PowerDNSClient | None = None) -> dict[str, Any]:
    """Read the zone, plan, and (unless ``check_mode``) change it. Raises InputError or PowerDNSError."""
    name = absolute_name(params["name"], "name")
    present = params["state"] == "present"
    want = desired_apex(name, params) if present else None
    if present:  # every local problem before the first request
        check_rrsets(name, params)
        key = desired_tsig_key(params.get("tsig_key"))
        desired_allow_from(params.get("allow_from"))
    else:
        key = None
    client = client or client_from_params(params)
    try:
        return _run(name, params, check_mode, client, want, key)
    except PowerDNSError as exc:
        raise _named(exc, name, client.url) from exc


def _read(client: PowerDNSClient, name: str, key_id: str | None, metadata: bool) -> tuple[Any, Any, Any]:
    """The zone, its metadata (when asked) and the TSIG key (when asked), read in parallel."""
    reads: list[Callable[[], Any]] = [lambda: client.zone_or_none(name)]
    if metadata:
        reads.append(lambda: client.metadata(name))
    if key_id:
        reads.append(lambda: client.tsig_key(key_id))
    answers = in_parallel(reads, len(reads), None, lambda _client, read: read(), (PowerDNSError,), "powerdns-read")
    for _answer, error in answers:
        if error is not None:
            raise error
    values = [answer for answer, _error in answers]
    zone = values.pop(0)
    meta = values.pop(0) if metadata else None
    found_key = values.pop(0) if key_id else None
    return zone, meta, found_key


def _run(
    name: str, params: Mapping[str, Any], check_mode: bool, client: PowerDNSClient, want: Any, key: Any
) -> dict[str, Any]:
    present = params["state"] == "present"
    manages_metadata = present and (params.get("tsig_key") is not None or params.get("allow_from") is not None)
    current, metadata, current_key = _read(client, name, key.id if key else None, manages_metadata)
    plan = plan_zone(name, params["state"], params["kind"], want, current)
    extras = None
    if present:
        sets = current.get("rrsets") if current else (plan.create or {}).get("rrsets")
        extras = plan_extras(name, params, list(sets or []), metadata or {}, current_key)
        _merge(name, plan, extras, current is not None)
    result: dict[str, Any] = {"changed": plan.changed, "zone": describe(current), "changes": []}
    if current is not None:
        result["zone"].update(describe_extras(params, metadata))
    if extras is not None:
        result["changes"] = [c.result() for c in extras.changes]
    if plan.diff is not None:
        result["diff"] = plan.diff
    if check_mode or not plan.changed:
        return result
    if plan.delete and current is not None:
        client.delete_zone(current["id"])
        result["zone"] = {}
        return result
    _write(client, name, current, plan, extras)
    after = client.zone_or_none(name)
    result["zone"] = describe(after)
    if after is not None:
        result["zone"].update(describe_extras(params, dict(metadata or {}, **(extras.metadata if extras else {}))))
    return result


def _merge(name: str, plan: ZonePlan, extras: Extras, exists: bool) -> None:
    """Put the extras' sets into the new zone's body and their lines into the plan's diff (which then says the
    plan changes something)."""
    if not extras.changed:
        return
    if plan.create is not None:
        plan.create["rrsets"] += [c.after.api(changetype=None) for c in extras.changes if c.after is not None]
    header = {"before_header": f"zone {display(name)}", "after_header": f"zone {display(name)}"}
    diff = plan.diff or dict(header, before="", after="")
    diff["before"] += extras.before if exists else ""
    diff["after"] += extras.after
    plan.diff = diff


def _write(
    client: PowerDNSClient, name: str, current: Mapping[str, Any] | None, plan: ZonePlan, extras: Extras | None
) -> None:
    """The writes of the plan: the zone (created, or its kind and one PATCH of sets), the key, the metadata."""
    if current is None:
        client.create_zone(plan.create or {})
    else:
        if plan.kind:
            client.update_zone(current["id"], {"kind": plan.kind})
        patch = plan.patch + ([c.api() for c in extras.changes] if extras else [])
        if patch:
            client.patch_rrsets(current["id"], patch)
    if extras is None:
        return
    if extras.create_key:
        client.create_tsig_key(extras.create_key.api())
    if extras.update_key:
        client.update_tsig_key(extras.update_key.id, extras.update_key.api())
    for kind, values in sorted(extras.metadata.items()):
        if values:
            client.set_metadata(name, kind, values)
        elif current is not None:
            client.delete_metadata(name, kind)
