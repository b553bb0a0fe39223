# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""hcloud_cluster_base against the API: one list call per kind (in parallel) learns what exists, then two rounds
make it what is wanted: the network, firewall, placement groups and floating IP together, then the load balancer
(it joins the network).

Every request goes through HcloudClient (retries, pacing, one error shape). A create whose answer was lost is
never sent again blindly: the resource is looked up by name and adopted when it carries the cluster's labels. A
change action whose answer was lost is sent again only when the resource, read again, still needs it. Within one
resource the changes go one after the other, each action awaited (the API locks a resource while an action runs);
the resources of a round are worked on in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.base_plan import (
    KINDS,
    SINGULAR,
    Change,
    Wanted,
    changes,
    create_body,
    drift,
    foreign,
    wanted_resources,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    ANSWER_LOST,
    HcloudClient,
    HcloudError,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import cluster_labels, selector
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.resources import list_all
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count


@dataclass
class Step:
    want: Wanted
    found: dict[str, Any] | None
    action: str = "none"  # create, update, none
    changes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def shown(self) -> dict[str, Any]:
        return {
            "kind": SINGULAR[self.want.kind],
            "name": self.want.name,
            "id": (self.found or {}).get("id"),
            "action": self.action,
            "changes": self.changes,
            "drift": self.drift,
        }


class Converger:
    def __init__(self, client: HcloudClient, params: Mapping[str, Any], check_mode: bool):
        self.client = client
        self.check_mode = check_mode
        self.timeout = float(params.get("wait_timeout") or 600)
        self.parallel = worker_count(params.get("parallel", 8), InputError)
        self.network_id: int | None = None

    # -- reading ------------------------------------------------------------------------------------------------

    def read(self, wanted: list[Wanted], cluster: str) -> list[Step]:
        """One list call per kind wanted (in parallel), by the cluster's labels; each wanted resource found by name."""
        kinds = tuple(kind for kind in KINDS if any(w.kind == kind for w in wanted))
        listed = list_all(self.client, selector(cluster_labels(cluster)), kinds, self.parallel)
        found = {kind: {item.get("name"): item for item in items} for kind, items in listed.items()}
        return [Step(want, found[want.kind].get(want.name)) for want in wanted]

    def _by_name(self, want: Wanted) -> dict[str, Any] | None:
        """The resource of that name, after a lost answer or ``uniqueness_error``; refused when not the cluster's."""
        items = self.client.list(want.kind, {"name": want.name})
        if not items:
            return None
        problem = foreign(want, items[0])
        if problem:
            raise HcloudError(problem, code="uniqueness_error", details={"id": items[0].get("id")})
        return items[0]

    # -- one resource -------------------------------------------------------------------------------------------

    def converge(self, step: Step) -> Step:
        want = step.want
        network_id = self.network_id if want.kind == "load_balancers" and want.settings["network"] else None
        if step.found is None:
            step.action = "create"
            step.changes = ["create"]
            if self.check_mode:
                step.changes += ["delete protection"] if want.protect else []
                return step
            step.found = self._create(want, network_id)
        step.drift = drift(want, step.found)
        todo = changes(want, step.found, network_id)
        if step.action == "none" and todo:
            step.action = "update"
        step.changes += [c.what for c in todo]
        if self.check_mode:
            return step
        for change in todo:
            self._change(want, step, change, network_id)
        return step

    def _create(self, want: Wanted, network_id: int | None) -> dict[str, Any]:
        key = SINGULAR[want.kind]
        answer = self.client.create(
            f"/{want.kind}", create_body(want, network_id), lambda: _adopted(self._by_name(want))
        )
        if "adopted" in answer:
            return answer["adopted"]
        self.client.wait_actions([answer.get("action"), *(answer.get("actions") or [])], self.timeout)
        return answer[key]

    def _change(self, want: Wanted, step: Step, change: Change, network_id: int | None) -> None:
        resource = f"/{want.kind}/{(step.found or {}).get('id')}"
        path = resource + change.suffix
        for _attempt in range(self.client.max_attempts):
            try:
                answer = self.client.call(change.method, path, change.body, resend=change.method == "PUT")
            except HcloudError as exc:
                if exc.code != ANSWER_LOST:
                    raise
                step.found = self.client.call("GET", resource)[SINGULAR[want.kind]]
                if change not in changes(want, step.found, network_id):
                    return  # the lost request did its work
                continue
            self.client.wait_actions([answer.get("action"), *(answer.get("actions") or [])], self.timeout)
            if change.method == "PUT":
                step.found = answer.get(SINGULAR[want.kind]) or step.found
            return
        lost = f"{change.method} {path}: the answer was lost {self.client.max_attempts} times"
        raise HcloudError(lost, code=ANSWER_LOST, request=f"{change.method} {path}")

    # -- rounds -------------------------------------------------------------------------------------------------

    def round(self, steps: list[Step], failures: list[dict[str, Any]]) -> None:
        outcomes = in_parallel(steps, self.parallel, None, lambda _c, s: self.converge(s), (HcloudError,), "hcloud")
        for step, (_done, error) in zip(steps, outcomes, strict=True):
            if error is not None:
                failures.append(item_failure(step.want.key(), error))


def _adopted(found: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if found is None else {"adopted": found}


def _summary(step: Step) -> dict[str, Any] | None:
    item = step.found
    if item is None:
        return None
    kind = step.want.kind
    shown: dict[str, Any] = {"id": item.get("id"), "name": item.get("name")}
    if kind == "networks":
        shown["ip_range"] = item.get("ip_range")
    elif kind == "floating_ips":
        shown["ip"] = item.get("ip")
    elif kind == "load_balancers":
        public = item.get("public_net") or {}
        private = [net.get("ip") for net in item.get("private_net") or []]
        shown.update(
            ipv4=(public.get("ipv4") or {}).get("ip"),
            ipv6=(public.get("ipv6") or {}).get("ip"),
            private_ipv4=private[0] if private else None,
        )
    return shown


def converge(client: HcloudClient, params: Mapping[str, Any], check_mode: bool) -> dict[str, Any]:
    """The module's work: read, two rounds, the result (``PartialFailure`` when some resources failed)."""
    wanted = wanted_resources(params)
    run = Converger(client, params, check_mode)
    steps = run.read(wanted, params["cluster"])
    failures: list[dict[str, Any]] = []
    first = [s for s in steps if s.want.kind != "load_balancers"]
    run.round(first, failures)
    network = next((s for s in first if s.want.kind == "networks"), None)
    run.network_id = (network.found or {}).get("id") if network else None
    second = [s for s in steps if s.want.kind == "load_balancers"]
    if network is not None and network.found is None and not check_mode:
        for step in second:
            failures.append(item_failure(step.want.key(), HcloudError("not made: the network it joins failed")))
    else:
        run.round(second, failures)
    result = _result(steps, check_mode)
    fip = next((s for s in steps if s.want.kind == "floating_ips" and s.found), None)
    wanted_ip = fip.want.settings["address"] if fip else None
    if fip and wanted_ip and fip.found and fip.found.get("ip") != wanted_ip:
        failures.append(
            item_failure(
                fip.want.key(),
                InputError(
                    f"Hetzner gave the floating IP {fip.want.name} the address {fip.found.get('ip')}, but the "
                    f"endpoint wants {wanted_ip}. Hetzner chooses floating IP addresses: set the endpoint's address "
                    f"to {fip.found.get('ip')} in the cluster definition and run again"
                ),
            )
        )
    result["api_requests"] = client.requests
    if failures:
        raise PartialFailure.of("resources", len(steps), failures, result)
    return result


def _result(steps: list[Step], check_mode: bool) -> dict[str, Any]:
    by_kind: dict[str, Any] = {SINGULAR[kind]: None for kind in KINDS}
    by_kind["placement_groups"] = []
    for step in steps:
        if step.want.kind == "placement_groups":
            by_kind["placement_groups"].append(_summary(step))
        else:
            by_kind[SINGULAR[step.want.kind]] = _summary(step)
    del by_kind["placement_group"]
    before = {s.want.key(): ("absent" if s.action == "create" else "present") for s in steps}
    after = {s.want.key(): ("present" if s.action == "none" else ", ".join(s.changes)) for s in steps}
    return {
        "changed": any(s.action != "none" for s in steps),
        **by_kind,
        "plan": [s.shown() for s in steps],
        "diff": {"before": before, "after": after},
        "check_mode": check_mode,
    }
