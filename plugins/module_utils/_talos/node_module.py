# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What the Talos node modules share: the node list, reading a node's state, waiting (their options and entry
are in module_entry.py).

No Ansible import; failures are the InputError, ApiError (``TalosctlError``) and PartialFailure (``NodesFailed``)
of ``_errors``, which ``_module.run_module`` reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import worker_count
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    TalosConfigError,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    TalosOutputError,
    classify_error,
    mask_config,
    parse_extensions,
    parse_json_stream,
    parse_machine_status,
    parse_version,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Connection,
    Result,
    Talosctl,
    TalosctlError,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade_plan import NodeState

Node = dict[str, Any]


class TalosInputError(InputError):
    """The input is wrong, or asks for what is refused (removing every etcd member); nothing was changed. ``errors``
    lists every problem found, in order."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = list(errors or [message])


class NodesFailed(PartialFailure):
    """Some nodes failed: ``failures`` has one entry per node (``name``, ``msg`` masked, ``failure``)."""


def workers(params: Mapping[str, Any]) -> int:
    return worker_count(params.get("parallel", 8), TalosInputError)


def check_positive(params: Mapping[str, Any], *names: str) -> None:
    errors = [f"{name} must be more than 0, got {params[name]}" for name in names if (params.get(name) or 0) <= 0]
    if errors:
        raise TalosInputError("; ".join(errors), errors)


# --------------------------------------------------------------------------------------------------------------
# The node list
# --------------------------------------------------------------------------------------------------------------


def validate_nodes(
    nodes: Iterable[Any],
    required: Iterable[str] = ("address",),
    extra: Callable[[int, Node], list[str]] | None = None,
) -> list[Node]:
    """Check the ``nodes`` option and return it as clean dicts; raise one TalosInputError listing every problem.

    Each node needs a unique ``address`` and a unique ``name`` (which defaults to the address); ``role`` (when
    given) is controlplane or worker; keys in ``required`` must be non-empty. ``extra(index, node)`` adds checks
    of a module's own.
    """
    errors: list[str] = []
    clean: list[Node] = []
    seen: dict[str, dict[str, int]] = {"name": {}, "address": {}}
    for index, node in enumerate(nodes or []):
        where = f"nodes[{index}]"
        if not isinstance(node, Mapping):
            errors.append(f"{where}: must be a mapping with name and address, got {type(node).__name__}")
            continue
        node = {
            key: (str(value).strip() if isinstance(value, str) else value)
            for key, value in node.items()
            if value is not None  # a suboption left out is None: the same as not given
        }
        if node.get("name") in (None, "") and node.get("address"):
            node["name"] = node["address"]
        label = node.get("name") or node.get("address") or where
        for key in required:
            if node.get(key) in (None, ""):
                errors.append(f"{where}.{key} ({label}): is required")
        for key in ("name", "address"):
            value = node.get(key)
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                errors.append(f"{where}.{key} ({label}): must be a string")
                continue
            if value in seen[key]:
                errors.append(f"{where}.{key}: {value} is already used by nodes[{seen[key][value]}]")
            seen[key][value] = index
        role = node.get("role")
        if role not in (None, "") and role not in ROLES:
            errors.append(f"{where}.role ({label}): must be one of {', '.join(ROLES)}, got {role!r}")
        if extra is not None:
            errors.extend(extra(index, node))
        clean.append(node)
    if not clean and not errors:
        errors.append("nodes: give at least one node")
    if errors:
        raise TalosInputError(f"invalid nodes: {'; '.join(errors)}", errors)
    return clean


def control_planes(nodes: list[Node]) -> list[Node]:
    """The control plane nodes; when no node says its role, every node is taken as one."""
    if not any(node.get("role") for node in nodes):
        return list(nodes)
    return [node for node in nodes if node.get("role") == "controlplane"]


def require_control_plane(nodes: list[Node]) -> list[Node]:
    found = control_planes(nodes)
    if not found:
        raise TalosInputError("nodes: no node has role controlplane; this operation runs on a control plane")
    return found


def direct(node: Node) -> Connection:
    """Talk to the node itself over mTLS: it is both the endpoint and the target."""
    return Connection(nodes=(node["address"],), endpoints=(node["address"],), node=node["name"])


def maintenance_api(node: Node) -> Connection:
    """Talk to the node through its insecure maintenance API."""
    return Connection(nodes=(node["address"],), insecure=True, node=node["name"])


# --------------------------------------------------------------------------------------------------------------
# Reading a node
# --------------------------------------------------------------------------------------------------------------


def _first(values: Mapping[str, Any], address: str) -> Any:
    if address in values:
        return values[address]
    return next(iter(values.values()), None)


def parsed(parse: Callable[[str], Any], result: Result, node: Node) -> Any:
    """``parse(result.stdout)``, with output talosctl should not have printed reported as a TalosctlError."""
    try:
        return parse(result.stdout)
    except TalosOutputError as exc:
        raise TalosctlError(str(exc), result=result, node=node["name"]) from exc


def machine_status(talosctl: Talosctl, node: Node, insecure: bool = False) -> dict[str, Any]:
    """The node's MachineStatus: stage, ready, unmet_conditions."""
    connection = maintenance_api(node) if insecure else direct(node)
    result = talosctl.run(["get", "machinestatus", "--output", "json"], connection)
    status = _first(parsed(parse_machine_status, result, node), node["address"])
    if status is None:
        raise TalosctlError("talosctl get machinestatus returned no resource", result=result, node=node["name"])
    return status


def probe(talosctl: Talosctl, node: Node, insecure: str = "auto", maintenance_first: bool = False) -> dict[str, Any]:
    """Which API the node answers: {"maintenance": bool, "insecure": bool, "stage", "ready"}.

    With ``insecure=auto`` the node is read over mTLS with the talosconfig first. When that is refused the way a
    node in maintenance mode refuses it (TLS or certificate errors, "maintenance mode"), the insecure maintenance
    API is tried; a node that answers there is in maintenance mode. A node that answers neither raises
    TalosctlError naming it. ``always`` goes straight to the insecure API, ``never`` uses mTLS only.
    ``maintenance_first`` (with ``auto``) tries the two in the other order: one call instead of two for a node that
    is in maintenance mode, as every node is on a cluster's first run.
    """
    if insecure == "auto" and maintenance_first:
        try:
            status = machine_status(talosctl, node, insecure=True)
            return {**status, "maintenance": True, "insecure": True}
        except TalosctlError as exc:
            if classify_error(exc.stderr or str(exc)) != "maintenance":
                raise
        status = machine_status(talosctl, node)  # it wants a client certificate: it is configured
        return {"maintenance": status["stage"] == "maintenance", "insecure": False, **status}
    if insecure != "always":
        try:
            status = machine_status(talosctl, node)
            return {"maintenance": status["stage"] == "maintenance", "insecure": False, **status}
        except TalosctlError as exc:
            if insecure == "never" or classify_error(exc.stderr or str(exc)) != "maintenance":
                raise
            first_error = exc
    try:
        status = machine_status(talosctl, node, insecure=True)
    except TalosctlError as exc:
        if insecure == "always":
            raise
        raise TalosctlError(
            f"refused both the talosconfig's client certificate ({first_error}) and the insecure maintenance API "
            f"({exc}); check that talosconfig belongs to this cluster",
            result=exc.result,
            node=node["name"],
        ) from exc
    return {**status, "maintenance": True, "insecure": True}


def talos_version(talosctl: Talosctl, node: Node) -> str | None:
    result = talosctl.run(["version"], direct(node))
    server = _first(parsed(parse_version, result, node)["servers"], node["address"]) or {}
    return server.get("tag")


def schematic(talosctl: Talosctl, node: Node) -> tuple[str | None, list[dict[str, Any]], bool]:
    """The schematic ID the node booted from, its extensions, and whether the node could say.

    An Image Factory image reports its schematic as the pseudo-extension ``schematic``; an image without one has
    no schematic (None). A node that does not serve the extensions resource at all (an error other than a
    connection error) gives (None, [], False), and the caller compares versions only.
    """
    result = talosctl.run(["get", "extensions", "--output", "json"], direct(node), check=False)
    if not result.ok:
        if classify_error(result.stderr) in ("unreachable", "maintenance"):
            raise TalosctlError(f"talosctl get extensions failed: {result.stderr.strip()}", result, node["name"])
        return None, [], False
    found = _first(parsed(parse_extensions, result, node), node["address"]) or {"schematic": None, "extensions": []}
    return found["schematic"], found["extensions"], True


def installer_image(talosctl: Talosctl, node: Node) -> str | None:
    """``machine.install.image`` of the configuration the node runs (``talosctl get machineconfig``), if any."""
    result = talosctl.run(["get", "machineconfig", "--output", "json"], direct(node))
    for resource in parsed(parse_json_stream, result, node):
        spec = resource.get("spec")
        image = install_image_of(spec) if isinstance(spec, str) else None
        if image:
            return image
    return None


def install_image_of(config_text: str) -> str | None:
    """The install image of a machine configuration's text (the v1alpha1 document's ``machine.install.image``)."""
    try:
        documents = load_documents(config_text)
    except TalosConfigError:
        return None
    for document in documents:
        if isinstance(document, dict) and "kind" not in document:
            image = ((document.get("machine") or {}).get("install") or {}).get("image")
            return str(image) if image else None
    return None


def node_state(talosctl: Talosctl, node: Node) -> NodeState:
    """Version, schematic and readiness of a configured node (mTLS), for upgrade planning."""
    status = machine_status(talosctl, node)
    version = talos_version(talosctl, node)
    found, _extensions, known = schematic(talosctl, node)
    return NodeState(
        name=node["name"],
        address=node["address"],
        role=node.get("role") or "",
        version=version,
        schematic=found,
        ready=bool(status["ready"]) and status["stage"] == "running",
        stage=status["stage"],
        schematic_known=known,
    )


# --------------------------------------------------------------------------------------------------------------
# Waiting and results
# --------------------------------------------------------------------------------------------------------------


def wait_for(
    check: Callable[[], Any],
    timeout: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Any, Exception | None]:
    """Call ``check`` every ``interval`` s until it returns something truthy or ``timeout`` s have passed.

    Returns (last value, None) on success, or (last value, last TalosctlError or None) when time ran out: errors
    of talosctl are expected while a node reboots and are retried.
    """
    deadline = clock() + timeout
    last: Any = None
    error: Exception | None = None
    while True:
        try:
            last = check()
            error = None
            if last:
                return last, None
        except TalosctlError as exc:
            error = exc
        if clock() + interval > deadline:
            return last, error
        sleep(interval)


def split_outcomes(
    nodes: list[Node], outcomes: list[tuple[Any, Exception | None]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Results by node name, and one ``failures`` entry per node that failed (message masked, named "node X: ...")."""
    results: dict[str, Any] = {}
    failures: list[dict[str, Any]] = []
    for node, (value, error) in zip(nodes, outcomes, strict=True):
        if error is not None:
            failures.append(node_failure(node["name"], error))
        else:
            results[node["name"]] = value
    return results, failures


def node_failure(name: str, error: Exception) -> dict[str, Any]:
    """The ``failures`` entry of node ``name``: its masked message, which names the node, and talosctl's failure."""
    entry = item_failure(name, error)
    message = mask_config(entry["msg"])
    entry["msg"] = message if message.startswith("node ") else f"node {name}: {message}"
    return entry


def errors_message(action: str, failures: list[dict[str, Any]], total: int) -> str:
    return f"{action} failed on {len(failures)} of {total} nodes: " + "; ".join(f["msg"] for f in failures)


def by_name(nodes: Iterable[Node]) -> dict[str, Node]:
    return {node["name"]: node for node in nodes}


def address_names(nodes: Iterable[Node]) -> dict[str, str]:
    return {node["address"]: node["name"] for node in nodes}
