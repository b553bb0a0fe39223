# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""hcloud_servers against the API: learn what exists with one list call, carry out the plan in rounds.

Round 1 creates the missing servers in parallel; round 2 attaches networks; round 3 fixes labels and protection and
powers servers on; the prune round deletes. Each round waits on all its actions at once. A create whose answer was
lost, or that meets ``uniqueness_error`` (an earlier run was killed after the server was made), adopts the server
after checking that it carries the cluster's labels; a create is never sent twice blindly. References (image,
network, firewalls, placement group) are looked up only when a server is created or attached, so a run with
nothing to do costs one list call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    CLUSTER,
    cluster_labels,
    matches,
    selector,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.references import References
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.servers_plan import (
    BUSY,
    Desired,
    Step,
    desired_servers,
    diff,
    node_fact,
    plan,
    server_changes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count


def _create_body(want: Desired, refs: References) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": want.name,
        "server_type": want.server_type,
        "image": refs.image(want.image),
        "labels": want.label_dict(),
        "start_after_create": not want.network,
        "public_net": {"enable_ipv4": want.enable_ipv4, "enable_ipv6": want.enable_ipv6},
    }
    if want.location:
        body["location"] = want.location
    if want.firewalls:
        body["firewalls"] = [{"firewall": refs.id_of("firewall", name)} for name in want.firewalls]
    if want.placement_group:
        body["placement_group"] = refs.id_of("placement_group", want.placement_group)
    if want.user_data:
        body["user_data"] = want.user_data
    return body


class Converger:
    def __init__(self, client: HcloudClient, params: Mapping[str, Any]):
        self.client = client
        self.params = params
        self.refs = References(client)
        self.workers = worker_count(params.get("parallel") or 8, InputError)
        self.timeout = float(params.get("wait_timeout") or 600)
        self.failures: dict[str, dict[str, Any]] = {}

    # -- helpers ----------------------------------------------------------------------------------------------

    def _fail(self, step: Step, exc: Exception) -> None:
        self.failures.setdefault(step.name, item_failure(step.name, exc))

    def _each(self, steps: list[Step], work: Any) -> list[Any]:
        """``work(step)`` for every step in parallel; returns the actions they started (failures recorded)."""
        live = [step for step in steps if step.name not in self.failures]
        outcomes = in_parallel(live, self.workers, None, lambda _client, step: work(step), (HcloudError,), "hcloud")
        actions: list[Any] = []
        for step, (started, error) in zip(live, outcomes, strict=True):
            if error is not None:
                self._fail(step, error)
            else:
                actions.extend(started or [])
        return actions

    def _wait(self, actions: list[Any], steps: list[Step]) -> None:
        try:
            self.client.wait_actions(actions, self.timeout)
        except HcloudError as exc:  # name the servers whose actions failed; others went on
            failed_ids = {str(r.get("id")) for a in getattr(exc, "actions", []) for r in a.get("resources") or []}
            for step in steps:
                if not failed_ids or (step.server is not None and str(step.server["id"]) in failed_ids):
                    self._fail(step, exc)

    # -- rounds -----------------------------------------------------------------------------------------------

    def create(self, step: Step) -> list[Any]:
        want = step.want
        answer = self.client.create("/servers", _create_body(want, self.refs), lambda: self._made(want))
        if "adopted" in answer:
            step.server = answer["adopted"]
            changes, step.drift = server_changes(want, step.server)
            step.action, step.changes = "update", ["adopted", *changes]
            return []
        step.server = answer["server"]
        return [answer.get("action"), *(answer.get("next_actions") or [])]

    def _made(self, want: Desired) -> dict[str, Any] | None:
        """After a lost answer or ``uniqueness_error``: the server of that name to adopt, None when there is none."""
        if not self.client.list("servers", {"name": want.name}):
            return None
        return {"adopted": self.adopt(want)}

    def adopt(self, want: Desired) -> dict[str, Any]:
        found = self.client.list("servers", {"name": want.name})
        cluster = want.label_dict()[CLUSTER]
        if not found or not matches(found[0].get("labels") or {}, selector(cluster_labels(cluster))):
            raise HcloudError(
                f"server {want.name!r} already exists in the project and does not carry the labels of "
                f"cluster {cluster!r}; rename the node or delete that server",
                409,
                "uniqueness_error",
            )
        server = found[0]
        if server.get("status") in BUSY:
            wait_for_busy(self.client, [server], self.timeout)
            server = self.client.call("GET", f"/servers/{server['id']}")["server"]
        return server

    def attach(self, step: Step) -> list[Any]:
        want = step.want
        body: dict[str, Any] = {"network": self.refs.id_of("network", want.network)}
        if want.private_ipv4:
            body["ip"] = want.private_ipv4
        try:
            answer = self.client.call("POST", f"/servers/{step.server_id}/actions/attach_to_network", body, ok=(201,))
        except HcloudError as exc:
            if exc.code == "server_already_attached":  # a retried attach whose first answer was lost
                return []
            raise
        return [answer.get("action")]

    def fix(self, step: Step) -> list[Any]:
        want, ident = step.want, step.server_id
        started: list[Any] = []
        if "labels" in step.changes:
            self.client.call("PUT", f"/servers/{ident}", {"labels": want.label_dict()})
        if "firewalls" in step.changes:
            target = {"apply_to": [{"type": "server", "server": {"id": ident}}]}
            for name in want.firewalls:
                ident_fw = self.refs.id_of("firewall", name)
                answer = self.client.call(
                    "POST", f"/firewalls/{ident_fw}/actions/apply_to_resources", target, ok=(201,)
                )
                started.extend(answer.get("actions") or [])
        if "delete_protection" in step.changes or (step.action == "create" and want.delete_protection):
            flag = want.delete_protection
            answer = self.client.call(
                "POST", f"/servers/{ident}/actions/change_protection", {"delete": flag, "rebuild": flag}, ok=(201,)
            )
            started.append(answer.get("action"))
        if "power_on" in step.changes or (step.action == "create" and want.network):
            answer = self.client.call("POST", f"/servers/{ident}/actions/poweron", ok=(201,))
            started.append(answer.get("action"))
        return started

    def delete(self, step: Step) -> list[Any]:
        answer = self.client.delete(f"/servers/{step.server_id}")
        return [answer.get("action")]

    def run(self, steps: list[Step]) -> None:
        creates = [s for s in steps if s.action == "create"]
        self._wait(self._each(creates, self.create), creates)
        attach = [
            s
            for s in steps
            if (s.action == "create" and s.want.network and s.server is not None and not s.server.get("private_net"))
            or "attach_network" in s.changes
        ]
        self._wait(self._each(attach, self.attach), attach)
        fixes = [s for s in steps if s.action in ("create", "update") and s.server is not None]
        self._wait(self._each(fixes, self.fix), fixes)
        deletes = [s for s in steps if s.action == "delete"]
        self._wait(self._each(deletes, self.delete), deletes)


def wait_for_busy(client: HcloudClient, servers: list[dict[str, Any]], timeout: float) -> bool:
    """Wait for the running actions of servers that are busy (an earlier run was stopped while they were being
    made); one list call for all. Returns whether there was anything to wait for."""
    busy = {server["id"] for server in servers if server.get("status") in BUSY}
    if not busy:
        return False
    running = client.list("servers/actions", {"status": "running"}, key="actions")
    mine = [
        a for a in running if any(r.get("type") == "server" and r.get("id") in busy for r in a.get("resources") or [])
    ]
    client.wait_actions(mine, timeout)
    return True


def cluster_servers(client: HcloudClient, cluster: str) -> list[dict[str, Any]]:
    """Every server carrying the cluster's labels (one list call)."""
    return client.list("servers", {"label_selector": selector(cluster_labels(cluster))})


def converge(client: HcloudClient, params: Mapping[str, Any], check_mode: bool) -> dict[str, Any]:
    """Plan, and unless ``check_mode`` carry the plan out; the module's result.

    Raises ServerSpecError (InputError), HcloudError (ApiError), or PartialFailure with the result as far as known.
    """
    desired = desired_servers(params)
    existing = cluster_servers(client, params["cluster"])
    if not check_mode and wait_for_busy(client, existing, float(params.get("wait_timeout") or 600)):
        existing = cluster_servers(client, params["cluster"])
    steps = plan(desired, existing, bool(params.get("prune")))
    changed = any(step.action != "unchanged" for step in steps)
    failures: list[dict[str, Any]] = []
    if changed and not check_mode:
        converger = Converger(client, params)
        converger.run(steps)
        failures = list(converger.failures.values())
        current = {s["name"]: s for s in cluster_servers(client, params["cluster"])}
    else:
        current = {s["name"]: s for s in existing}
    result = {
        "changed": changed,
        "plan": [step.report() for step in steps],
        "nodes": [node_fact(current.get(want.name), want) for want in desired],
        "cluster_nodes": [node_fact(current[name]) for name in sorted(current)],
        "diff": diff(steps),
        "api_requests": client.requests,
    }
    if failures:
        raise PartialFailure.of("servers", len(steps), failures, result)
    return result


def info(client: HcloudClient, params: Mapping[str, Any]) -> dict[str, Any]:
    """hcloud_servers_info: the node facts of every server of the cluster, sorted by name; never changes."""
    found = {server["name"]: server for server in cluster_servers(client, params["cluster"])}
    return {
        "changed": False,
        "cluster_nodes": [node_fact(found[name]) for name in sorted(found)],
        "api_requests": client.requests,
    }
