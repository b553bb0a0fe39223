"""Every error code the Hetzner simulator raises has the status the contract gives it.

The general codes are api-overview.md's "Error Codes" table (errors.CODES); the others are listed per operation
under "Operation specific errors" in cloud.spec.json, sometimes with different statuses in different operations
(``source_port_already_used`` is 412 on add_service, 422 on update_service).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from hcloud_testlib import api

from sandbox.simulators.hcloud.contract import shared_contract
from sandbox.simulators.hcloud.errors import CODES, status_of

SIMULATOR_DIR = Path(__file__).resolve().parents[2] / "sandbox" / "simulators" / "hcloud"
SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


def _operations_of(function: ast.AST) -> list[tuple[str, str]]:
    found = []
    for decorator in getattr(function, "decorator_list", []):
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "operation":
            method, template = (arg.value for arg in decorator.args if isinstance(arg, ast.Constant))
            found.append((method, template))
    return found


def _call_graph(trees: list[ast.AST]) -> dict[str, set[tuple[str, str]]]:
    """function name -> the operations that reach it: its own ``@operation`` marks and, through ``self.name(...)``
    calls, those of every function calling it (a helper such as primary_ip serves the handlers calling it)."""
    own: dict[str, set[tuple[str, str]]] = {}
    callers: dict[str, set[str]] = {}
    for tree in trees:
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef):
                own.setdefault(function.name, set()).update(_operations_of(function))
                for node in ast.walk(function):
                    if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "self":
                        callers.setdefault(node.attr, set()).add(function.name)
    reached = {name: set(ops) for name, ops in own.items()}
    changed = True
    while changed:
        changed = False
        for name, names in callers.items():
            for caller in names:
                extra = reached.get(caller, set()) - reached.setdefault(name, set())
                if extra:
                    reached[name] |= extra
                    changed = True
    return reached


def raised_codes() -> list[tuple[str, int, str, int | None, list[tuple[str, str]]]]:
    """(file, line, code, explicit status or None, operations that reach the code) of every APIError made."""
    found = []
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SIMULATOR_DIR.glob("*.py"))}
    reaching = _call_graph(list(trees.values()))
    for path, tree in trees.items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "of"
                    and getattr(func.value, "id", "") == "APIError"
                ):
                    code_arg, status = node.args[0], None
                elif isinstance(func, ast.Name) and func.id == "APIError" and len(node.args) >= 2:
                    code_arg = node.args[1]
                    status = node.args[0].value if isinstance(node.args[0], ast.Constant) else -1
                else:
                    continue
                code = code_arg.value if isinstance(code_arg, ast.Constant) else None
                if code is None and function.name in ("fault_response",):
                    continue  # a fault's code is whatever the test injecting it chose
                found.append((path.name, node.lineno, code, status, sorted(reaching.get(function.name, ()))))
    return found


def test_every_code_the_simulator_raises_has_its_documented_status() -> None:
    """The simulator's own lookup (errors.status_of) finds every code a handler can raise, for every operation
    that reaches it (its handler, or a handler calling the helper that raises it); a code no operation reaches
    must still be documented somewhere, and is checked again when answered (see below)."""
    contract = shared_contract()
    by_operation = {(op.method, op.template): op.errors for op in contract.operations}
    problems = []
    raised = raised_codes()
    assert len(raised) > 40  # the scan sees the handlers
    for name, line, code, status, operations in raised:
        where = f"{name}:{line}"
        if code is None:
            problems.append(f"{where}: the error code is not a literal, so it cannot be checked against the tables")
            continue
        if status is not None and status != CODES.get(code, (None,))[0]:
            problems.append(f"{where}: {code} made with status {status}, api-overview.md says {CODES.get(code)}")
        if not any(status_of(code, errors) is not None for errors in by_operation.values()):
            problems.append(f"{where}: {code} is documented by no operation and not in api-overview.md")
        for method, template in operations:
            if status_of(code, by_operation[(method, template)]) is None:
                problems.append(f"{where}: {code} is not among the errors of {method} {template}")
    assert problems == []


def test_a_code_the_operation_does_not_document_is_a_recorded_simulator_bug(tmp_path: Path, monkeypatch) -> None:
    from sandbox.harness import running
    from sandbox.simulators.hcloud.errors import APIError
    from sandbox.simulators.hcloud.ssh_keys import SshKeysMixin

    def broken(self: Any, call: Any) -> Any:
        raise APIError.of("firewall_already_applied", "not an SSH key error")

    monkeypatch.setattr(SshKeysMixin, "list_ssh_keys", broken)
    with running("hcloud", tmp_path / "state", validate=True) as simulator:
        status, _h, body = api(simulator, "GET", "/v1/ssh_keys")
        assert (status, body["error"]["code"]) == (500, "server_error")
        assert "firewall_already_applied" in body["error"]["message"]
        assert simulator.app.drift[0]["operation"] == "GET /ssh_keys"


def _server(sim: Any, name: str, **extra: Any) -> dict[str, Any]:
    status, _h, body = api(sim, "POST", "/v1/servers", {**SERVER, "name": name, **extra})
    assert status == 201, body
    return body["server"]


def _error(reply: tuple[int, Any, Any]) -> tuple[int, str]:
    status, _headers, body = reply
    return status, body["error"]["code"]


def test_firewall_errors_answer_their_documented_statuses(hcloud_sim) -> None:
    server = _server(hcloud_sim, "cp-1")
    applied = [{"type": "server", "server": {"id": server["id"]}}]
    status, _h, body = api(hcloud_sim, "POST", "/v1/firewalls", {"name": "fw", "apply_to": applied})
    assert status == 201, body
    firewall = body["firewall"]["id"]
    apply = api(hcloud_sim, "POST", f"/v1/firewalls/{firewall}/actions/apply_to_resources", {"apply_to": applied})
    assert _error(apply) == (422, "firewall_already_applied")
    assert _error(api(hcloud_sim, "DELETE", f"/v1/firewalls/{firewall}")) == (422, "resource_in_use")
    other = [{"type": "server", "server": {"id": _server(hcloud_sim, "cp-2")["id"]}}]
    remove = api(hcloud_sim, "POST", f"/v1/firewalls/{firewall}/actions/remove_from_resources", {"remove_from": other})
    assert _error(remove) == (404, "firewall_resource_not_found")


def test_load_balancer_errors_answer_their_documented_statuses(hcloud_sim) -> None:
    server = _server(hcloud_sim, "cp-1")
    status, _h, body = api(
        hcloud_sim, "POST", "/v1/load_balancers", {"name": "api", "load_balancer_type": "lb11", "location": "fsn1"}
    )
    assert status == 201, body
    lb = body["load_balancer"]["id"]
    target = {"type": "server", "server": {"id": server["id"]}}
    assert api(hcloud_sim, "POST", f"/v1/load_balancers/{lb}/actions/add_target", target)[0] == 201
    assert _error(api(hcloud_sim, "POST", f"/v1/load_balancers/{lb}/actions/add_target", target)) == (
        422,
        "target_already_defined",
    )
    health = {"protocol": "tcp", "port": 6443, "interval": 15, "timeout": 10, "retries": 3}
    service = {
        "protocol": "tcp",
        "listen_port": 6443,
        "destination_port": 6443,
        "proxyprotocol": False,
        "health_check": health,
    }
    assert api(hcloud_sim, "POST", f"/v1/load_balancers/{lb}/actions/add_service", service)[0] == 201
    assert _error(api(hcloud_sim, "POST", f"/v1/load_balancers/{lb}/actions/add_service", service)) == (
        412,
        "source_port_already_used",
    )


def test_a_primary_ip_already_assigned_is_refused_with_its_code(hcloud_sim) -> None:
    first = _server(hcloud_sim, "cp-1")
    taken = first["public_net"]["ipv4"]["id"]
    reply = api(hcloud_sim, "POST", "/v1/servers", {**SERVER, "name": "cp-2", "public_net": {"ipv4": taken}})
    assert _error(reply) == (422, "primary_ip_assigned")
