# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Everything that carries a cluster's labels (hcloud_cluster_resources_info), and its removal in dependency order
(hcloud_cluster_resources); with them, the load balancers the cloud controller manager made for the cluster's
Services in its network (they carry the CCM's label, not the cluster's).

Kinds are listed in parallel (one list call each). Removal goes kind by kind in ``KINDS`` order (servers first,
so that nothing still uses a firewall, placement group or network when its turn comes), in parallel within a kind,
waiting on the kind's actions before the next one starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure, item_failure
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    cluster_labels,
    parse_selector,
    selector,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel

# Deletion order. "images" are the cluster's snapshots, listed only when asked for.
KINDS = ("servers", "load_balancers", "floating_ips", "firewalls", "placement_groups", "networks", "ssh_keys", "images")
# Kinds whose resources may carry delete protection, and the body that lifts it.
UNPROTECT = {
    "servers": {"delete": False, "rebuild": False},
    "load_balancers": {"delete": False},
    "floating_ips": {"delete": False},
    "networks": {"delete": False},
    "images": {"delete": False},
}


def cluster_selector(cluster: str, extra: str | None = None) -> str:
    text = selector(cluster_labels(cluster))
    if extra:
        parse_selector(extra)
        text += "," + extra
    return text


def summary(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": str(item["id"]),
        "name": item.get("name") or item.get("description"),
        "labels": dict(item.get("labels") or {}),
        "protected": bool((item.get("protection") or {}).get("delete")),
    }


def list_all(
    client: HcloudClient, label_selector: str, kinds: tuple[str, ...], parallel: int = 8
) -> dict[str, list[dict[str, Any]]]:
    """Every resource of ``kinds`` matching the selector, as the API returns them, listed in parallel."""

    def one(_client: Any, kind: str) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"label_selector": label_selector}
        if kind == "images":
            query["type"] = "snapshot"
        return client.list(kind, query)

    outcomes = in_parallel(list(kinds), parallel, None, one, (HcloudError,), "hcloud-list")
    for _found, error in outcomes:
        if error is not None:
            raise error
    return {kind: found for kind, (found, _error) in zip(kinds, outcomes, strict=True)}


# The label the hcloud cloud controller manager puts on the load balancers it makes for Services of type LoadBalancer.
CCM_SERVICE_LABEL = "hcloud-ccm/service-uid"


def ccm_load_balancers(client: HcloudClient, networks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The load balancers the cloud controller manager made for the cluster's Services: they carry its label, not
    the cluster's, and sit in the cluster's network (which they would keep from being deleted)."""
    ids = {int(network["id"]) for network in networks}
    made = client.list("load_balancers", {"label_selector": CCM_SERVICE_LABEL})
    return [lb for lb in made if ids & {int(net.get("network", 0)) for net in lb.get("private_net") or []}]


def _protected(found: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        summary(kind, item)
        for kind, items in found.items()
        for item in items
        if (item.get("protection") or {}).get("delete")
    ]


def _delete_one(client: HcloudClient, kind: str, item: Mapping[str, Any], remove_protection: bool) -> list[Any]:
    """Start deleting one resource; returns the actions to wait for."""
    try:
        _prepare_delete(client, kind, item, remove_protection)
    except HcloudError as exc:
        if exc.status == 404 and exc.code == "not_found":
            return []  # gone between the list and now: deleted
        raise
    answer = client.delete(f"/{kind}/{item['id']}")
    return [answer["action"]] if answer.get("action") else []


def _prepare_delete(client: HcloudClient, kind: str, item: Mapping[str, Any], remove_protection: bool) -> None:
    """Lift delete protection (when asked) and take a firewall off what its label selectors apply it to."""
    ident = item["id"]
    if remove_protection and kind in UNPROTECT and (item.get("protection") or {}).get("delete"):
        answer = client.call("POST", f"/{kind}/{ident}/actions/change_protection", UNPROTECT[kind], ok=(201,))
        client.wait_actions([answer.get("action")])
    if kind == "firewalls":
        selectors = [entry for entry in item.get("applied_to") or [] if entry.get("type") == "label_selector"]
        if selectors:
            body = {
                "remove_from": [
                    {"type": "label_selector", "label_selector": entry["label_selector"]} for entry in selectors
                ]
            }
            answer = client.call("POST", f"/firewalls/{ident}/actions/remove_from_resources", body, ok=(201,))
            client.wait_actions(answer.get("actions") or [])


def delete_all(
    client: HcloudClient,
    found: Mapping[str, list[dict[str, Any]]],
    remove_protection: bool,
    parallel: int = 8,
    timeout: float = 600.0,
) -> list[dict[str, Any]]:
    """Delete ``found`` kind by kind; returns the failures (deletion of later kinds stops after one)."""
    failures: list[dict[str, Any]] = []
    for kind in KINDS:
        pairs = [(kind, item) for item in found.get(kind) or []]
        if not pairs:
            continue
        outcomes = in_parallel(
            pairs,
            parallel,
            None,
            lambda _client, pair: _delete_one(client, pair[0], pair[1], remove_protection),
            (HcloudError,),
            "hcloud-delete",
        )
        actions: list[Any] = []
        for (_kind, item), (started, error) in zip(pairs, outcomes, strict=True):
            if error is not None:
                entry = summary(kind, item)
                failures.append({**entry, **item_failure(entry["name"], error)})
            else:
                actions.extend(started)
        try:
            client.wait_actions(actions, timeout)
        except HcloudError as exc:
            failures.append({"kind": kind, **item_failure(kind, exc)})
        if failures:
            return failures
    return failures


def read(client: HcloudClient, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The result of hcloud_cluster_resources_info, and the resources found as the API gave them, by kind."""
    label_selector = cluster_selector(params["cluster"], params.get("label_selector"))
    kinds = tuple(kind for kind in KINDS if kind != "images" or params.get("include_snapshots"))
    found = list_all(client, label_selector, kinds, params.get("parallel") or 8)
    if found.get("networks") and "load_balancers" in kinds:
        found["load_balancers"] = found["load_balancers"] + ccm_load_balancers(client, found["networks"])
    result: dict[str, Any] = {
        "changed": False,
        "label_selector": label_selector,
        "resources": [summary(kind, item) for kind in kinds for item in found[kind]],
        "api_requests": client.requests,
    }
    return result, found


def info(client: HcloudClient, params: Mapping[str, Any]) -> dict[str, Any]:
    """hcloud_cluster_resources_info: what carries the cluster's labels; changes nothing."""
    return read(client, params)[0]


def remove(client: HcloudClient, params: Mapping[str, Any], check_mode: bool) -> dict[str, Any]:
    """hcloud_cluster_resources: delete what carries the cluster's labels, in dependency order.

    Raises LabelError (InputError), HcloudError (ApiError), or PartialFailure naming the resources not deleted.
    """
    result, found = read(client, params)
    resources = result["resources"]
    if not resources:
        return result
    protected = _protected(found)
    if protected and not params.get("remove_protection"):
        names = ", ".join(f"{p['kind']} {p['name']} ({p['id']})" for p in protected)
        raise HcloudError(
            f"these resources are protected against deletion: {names}; nothing was deleted. "
            "Set remove_protection: true to lift the protection and delete them",
            code="protected",
            details={"protected": protected},
        )
    result["changed"] = True
    listed = [f"{r['kind']}/{r['name']} ({r['id']})" for r in resources]
    result["diff"] = {"before": {"resources": listed}, "after": {"resources": []}}
    if check_mode:
        return result
    failures = delete_all(
        client,
        found,
        bool(params.get("remove_protection")),
        params.get("parallel") or 8,
        float(params.get("wait_timeout") or 600),
    )
    result["api_requests"] = client.requests
    if failures:
        raise PartialFailure.of("deletions", len(resources), failures, result)
    return result
