# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""kube_objects: apply (or delete) Kubernetes objects, then report or await expectations.

Present, in this order:
1. every object is read and checked without writing (a dry-run apply where the live object does not already hold
   the manifest); objects that need a Namespace or a CRD of the same call are checked once those exist;
2. refused objects fail the call before anything is written ("bad input gets a clear error and loses nothing");
3. Namespaces and CRDs are applied, CRDs awaited until Established, discovery read again;
4. the objects that waited for them are checked (a refusal now fails before any of the rest is written);
5. the rest is applied in parallel; unchanged objects are never written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure
from ansible_collections.talosforge.cluster.plugins.module_utils._kube import kubeconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.client import KubeApiError, KubeClient, Stats
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.compare import masked, to_yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.discovery import Discovery, crd_resources
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.expect import check, label, validate
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.object_steps import (
    Item,
    apply,
    delete,
    items_from,
    plan,
    refused,
    resolve,
    waiting_for,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count

CRD_TIMEOUT = 60.0
POLL = 1.0


class Run:
    """One call: its connection, clients, discovery and the clock (injectable for tests)."""

    def __init__(
        self,
        params: dict[str, Any],
        check_mode: bool,
        connection: kubeconfig.Connection | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.params = params
        self.check_mode = check_mode
        self.connection = connection or kubeconfig.connection(params["kubeconfig"], params.get("context"))
        self.stats = Stats()
        self.sleep, self.clock = sleep, clock
        self.client = KubeClient(self.connection, self.stats)
        self.workers = worker_count(params.get("parallel") or 8)
        self.field_manager = params.get("field_manager") or "talosforge"
        self._clients: list[KubeClient] = [self.client]
        self._idle: list[KubeClient] = []

    def make_client(self) -> KubeClient:
        """An idle client (its connection kept alive from an earlier step) or a new one."""
        if self._idle:
            return self._idle.pop()
        client = KubeClient(self.connection, self.stats)
        self._clients.append(client)
        return client

    def each(self, items: list[Item], work: Callable[[KubeClient, Item], Item]) -> list[dict[str, Any]]:
        """``work`` on every item in parallel; the failures, each naming its object."""
        if not items:
            return []
        self._idle = list(self._clients)  # the caller waits meanwhile: every client is free
        outcomes = in_parallel(items, self.workers, self.make_client, work, (KubeApiError,), "kube")
        return [refused(item, error) for item, (_done, error) in zip(items, outcomes, strict=True) if error is not None]

    def close(self) -> None:
        for client in self._clients:
            client.close()


def run(params: dict[str, Any], check_mode: bool, run_: Run | None = None) -> dict[str, Any]:
    """The module's work; returns its result (``changed``, ``objects``, ``pending``, ``addresses``, ``diff``)."""
    items = items_from(params.get("objects") or [])
    expectations = validate(params.get("expect") or [])
    current = run_ or Run(params, check_mode)
    try:
        crds = [item.manifest for item in items if item.kind == "CustomResourceDefinition"]
        planned = {key: value for crd in crds for key, value in crd_resources(crd).items()}
        discovery = Discovery(current.client, planned)
        absent = params.get("state") == "absent"
        failures = resolve(items, discovery, current.connection.namespace, absent)
        _stop_if(failures, items, current, "Nothing was written", "the API server serves no kind for")
        if absent:
            _absent(current, items)
        else:
            _present(current, items, discovery)
        result = _result(items, current)
        pending, addresses = _expect(current, discovery, expectations, float(params.get("wait_timeout") or 0), result)
        result.update(pending=pending, addresses=addresses)
        result["api_requests"] = dict(current.stats.requests)
        return result
    finally:
        current.close()


def _present(current: Run, items: list[Item], discovery: Discovery) -> None:
    field_manager = current.field_manager
    first = [item for item in items if item.first]
    rest = [item for item in items if not item.first]
    failures = current.each(first, lambda client, item: plan(client, item, field_manager))
    waiting = waiting_for(first)
    failures += current.each(rest, lambda client, item: plan(client, item, field_manager, waiting))
    _stop_if(failures, items, current, "Nothing was written")
    if current.check_mode:
        return
    failures = current.each([i for i in first if i.action != "unchanged"], lambda c, i: apply(c, i, field_manager))
    _stop_if(failures, items, current, "Some Namespaces or CRDs were refused; nothing else was written")
    failures = _await_crds(current, first, discovery)
    _stop_if(failures, items, current, "Only the Namespaces and CRDs before them were written", "waiting failed for")
    deferred = [item for item in rest if item.deferred]
    failures = _serve(current, discovery, deferred)
    _stop_if(failures, items, current, "Only the Namespaces and CRDs before them were written", "waiting failed for")
    failures = current.each(deferred, lambda client, item: plan(client, item, field_manager))
    _stop_if(failures, items, current, "Only the Namespaces and CRDs before them were written")
    failures = current.each([i for i in rest if i.action != "unchanged"], lambda c, i: apply(c, i, field_manager))
    _stop_if(failures, items, current, "Some objects were refused")


def _absent(current: Run, items: list[Item]) -> None:
    check_mode = current.check_mode
    rest = [item for item in items if not item.first]
    first = [item for item in items if item.first]
    failures = current.each(rest, lambda client, item: delete(client, item, check_mode))
    _stop_if(failures, items, current, "Some objects could not be deleted")
    failures = current.each(first, lambda client, item: delete(client, item, check_mode))
    _stop_if(failures, items, current, "Some Namespaces or CRDs could not be deleted")


def _stop_if(
    failures: list[dict[str, Any]], items: list[Item], current: Run, what: str, verb: str = "the API server refused"
) -> None:
    """Fail naming every object that failed; the result lists what was written before (never lost)."""
    if not failures:
        return
    names = ", ".join(failure["name"] for failure in failures)
    reasons = "; ".join(failure["msg"] for failure in failures)
    result = _result([item for item in items if item.written], current)
    result["api_requests"] = dict(current.stats.requests)
    raise PartialFailure(
        f"{what}: {verb} {len(failures)} of {len(items)} objects ({names}): {reasons}", result, failures
    )


def _await_crds(current: Run, first: list[Item], discovery: Discovery) -> list[dict[str, Any]]:
    """Wait (bounded) until every CRD of the call is Established; forget the discovery of those written.

    Returns the failures: CRDs not Established in time (with their conditions' words), or not readable.
    """
    deadline = current.clock() + CRD_TIMEOUT
    failures = []
    for item in (item for item in first if item.kind == "CustomResourceDefinition"):
        state = item.after or item.live or {}
        try:
            while not _established(state) and current.clock() <= deadline:
                current.sleep(0.2)
                state = current.client.get(item.path)
        except KubeApiError as exc:
            failures.append(refused(item, exc))
            continue
        if not _established(state):
            why = f"not Established within {CRD_TIMEOUT:.0f} s ({_crd_why(state)})"
            failures.append({"name": item.label, "msg": f"{item.label}: {why}"})
        elif item.written:
            for api_version, _kind in crd_resources(item.manifest):
                discovery.forget(api_version)
    return failures


def _established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _crd_why(crd: dict[str, Any]) -> str:
    conditions = (crd.get("status") or {}).get("conditions") or []
    said = [f"{c.get('type')}={c.get('status')}: {c.get('message')}" for c in conditions if c.get("status") != "True"]
    return "; ".join(said) or "no conditions reported yet"


def _serve(current: Run, discovery: Discovery, deferred: list[Item]) -> list[dict[str, Any]]:
    """Resolve the kinds of the deferred objects again (discovery may lag a moment behind a new CRD); failures."""
    deadline = current.clock() + CRD_TIMEOUT
    failures = []
    for item in deferred:
        try:
            found = discovery.served(item.api_version, item.kind)
            while found is None and current.clock() <= deadline:
                discovery.forget(item.api_version)
                current.sleep(0.2)
                found = discovery.served(item.api_version, item.kind)
        except KubeApiError as exc:
            failures.append(refused(item, exc))
            continue
        if found is None:
            why = f"kind {item.kind} not served within {CRD_TIMEOUT:.0f} s of its CRD being Established"
            failures.append({"name": item.label, "msg": f"{item.label}: {why}"})
        else:
            item.resource, item.served = found, True
    return failures


def _result(items: list[Item], current: Run) -> dict[str, Any]:
    changed = [item for item in items if item.action and item.action != "unchanged"]
    diff = [
        {
            "before_header": item.label,
            "after_header": item.label,
            "before": to_yaml(masked(item.live)),
            "after": to_yaml(masked(item.after, item.live)) if item.after is not None else "",
        }
        for item in changed
    ]
    return {
        "changed": bool(changed),
        "objects": [item.summary() for item in items if item.action],
        "pending": [],
        "addresses": {},
        "diff": diff,
    }


def _expect(
    current: Run, discovery: Discovery, entries: list[dict[str, Any]], wait: float, result: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Check every expectation, polling until ``wait`` seconds passed; (pending, addresses) or PartialFailure."""
    addresses: dict[str, str] = {}
    open_entries = list(entries)
    reasons: dict[int, str] = {}
    deadline = current.clock() + wait
    while True:
        still = []
        for position, entry in enumerate(open_entries):
            try:
                met, why, address = _check_one(current, discovery, entry)
            except KubeApiError as exc:  # no answer (the API server may be starting): the same for all the rest
                for waiting in open_entries[position:]:
                    reasons[id(waiting)] = f"the API server did not answer: {exc}"
                still.extend(open_entries[position:])
                break
            if met:
                if address:
                    addresses[f"{entry.get('namespace') or ''}/{entry['name']}"] = address
            else:
                reasons[id(entry)] = why
                still.append(entry)
        open_entries = still
        if not open_entries or wait <= 0 or current.clock() >= deadline or current.check_mode:
            break
        current.sleep(min(POLL, max(0.0, deadline - current.clock())))
    pending = [{**entry, "why": reasons[id(entry)]} for entry in open_entries]
    if pending and wait > 0 and not current.check_mode:
        failures = [{"name": label(entry), "msg": f"{label(entry)}: {entry['why']}"} for entry in pending]
        result.update(pending=pending, addresses=addresses, api_requests=dict(current.stats.requests))
        raise PartialFailure(
            f"{len(pending)} of {len(entries)} expectations not met within {wait:.0f} s: "
            + "; ".join(failure["msg"] for failure in failures),
            result,
            failures,
        )
    return pending, addresses


def _check_one(current: Run, discovery: Discovery, entry: dict[str, Any]) -> tuple[bool, str, str | None]:
    """One expectation, read now. An API server that refuses the read is a reason, not a failure: the wait goes on
    until its deadline (a CRD may be being installed). One that does not answer raises (KubeApiError, status None)."""
    api_version, kind = str(entry["apiVersion"]), str(entry["kind"])
    try:
        resource = discovery.served(api_version, kind)
        if resource is None:
            discovery.forget(api_version)  # read again at the next look: its CRD may come meanwhile
            return False, f"kind {kind} is not served in {api_version}", None
        namespace = (entry.get("namespace") or current.connection.namespace) if resource.namespaced else None
        live = current.client.get(resource.path(namespace, str(entry["name"])), missing_ok=True)
    except KubeApiError as exc:
        if exc.status is None:
            raise
        return False, f"reading it failed: {exc}", None
    return check(entry, live)
