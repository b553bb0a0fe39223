# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared plumbing of the Talos node modules that needs no talosctl: node lists, waiting, error collection."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.health import health_args
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    client_from_params,
    talos_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    TalosInputError,
    check_positive,
    control_planes,
    direct,
    install_image_of,
    require_control_plane,
    split_outcomes,
    validate_nodes,
    wait_for,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    LOCAL,
    Connection,
    Result,
    Talosctl,
    TalosctlError,
)

NODES = [
    {"name": "cp1", "address": "10.0.0.1", "role": "controlplane"},
    {"name": "w1", "address": "10.0.0.2", "role": "worker"},
    {"name": "cp2", "address": "10.0.0.3", "role": "controlplane"},
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_wait_for_retries_talosctl_errors_until_success():
    clock = FakeClock()
    answers = iter([TalosctlError("connection refused"), None, "ready"])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(check, timeout=10, interval=2, sleep=clock.sleep, clock=clock) == ("ready", None)
    assert clock.sleeps == [2, 2]


def test_wait_for_gives_up_with_the_last_error():
    clock = FakeClock()

    def check():
        raise TalosctlError("no route to host", node="w1")

    value, error = wait_for(check, timeout=5, interval=2, sleep=clock.sleep, clock=clock)
    assert value is None and str(error) == "node w1: no route to host"
    assert clock.sleeps == [2, 2]  # a third sleep would pass the deadline

    def broken():
        raise ValueError("not a talosctl error: not retried")

    with pytest.raises(ValueError):
        wait_for(broken, 1, 1, clock.sleep, clock)


def test_split_outcomes_names_and_masks():
    outcomes = [("a", None), (None, TalosctlError("bad\n  token: abc.def", node="w1")), (None, ValueError("x"))]
    results, failures = split_outcomes(NODES, outcomes)
    assert results == {"cp1": "a"}
    assert [(f["name"], f["msg"]) for f in failures] == [
        ("w1", "node w1: bad\n  token: ********"),
        ("cp2", "node cp2: x"),
    ]
    assert failures[0]["failure"]["details"]["node"] == "w1" and "failure" not in failures[1]


def test_roles_and_health_arguments():
    assert [node["name"] for node in control_planes(NODES)] == ["cp1", "cp2"]
    assert control_planes([{"name": "a"}, {"name": "b"}]) == [{"name": "a"}, {"name": "b"}]
    with pytest.raises(TalosInputError, match="no node has role controlplane"):
        require_control_plane([NODES[1]])
    assert health_args(NODES, 90) == [
        "health", "--wait-timeout", "90s", "--control-plane-nodes", "10.0.0.1,10.0.0.3", "--worker-nodes", "10.0.0.2",
    ]  # fmt: skip
    assert "--worker-nodes" not in health_args([NODES[0]], 1)


def test_validate_nodes_extra_checks_and_options():
    with pytest.raises(TalosInputError) as caught:
        validate_nodes([{"address": "10.0.0.1"}], extra=lambda index, node: [f"nodes[{index}]: custom"])
    assert caught.value.errors == ["nodes[0]: custom"] and isinstance(caught.value, InputError)
    with pytest.raises(TalosInputError, match="wait_timeout must be more than 0"):
        check_positive({"wait_timeout": 0, "poll_interval": 1}, "wait_timeout", "poll_interval")
    spec = talos_argument_spec("fallback")
    assert spec["talosctl"] == {"type": "path", "fallback": ("fallback", ["TALOSFORGE_TALOSCTL"])}
    assert spec["parallel"]["default"] == 8 and spec["timeout"]["type"] == "float"


def test_install_image_of():
    text = "version: v1alpha1\nmachine:\n  install:\n    image: ghcr.io/siderolabs/installer:v1.13.9\n---\nkind: X\n"
    assert install_image_of(text) == "ghcr.io/siderolabs/installer:v1.13.9"
    assert install_image_of("machine: {}\n") is None
    assert install_image_of("a: [") is None


def test_talosctl_error_is_an_api_error_without_secrets():
    result = Result(["/opt/bin/talosctl", "get", "x", "--nodes", "10.0.0.1"], 1, "", "connection refused\ntoken: abc")
    error = TalosctlError("talosctl get failed", result=result, node="w1")
    assert str(error) == "node w1: talosctl get failed"
    assert error.failure() == {
        "status": None,
        "code": "unreachable",
        "details": {"node": "w1", "rc": 1, "stderr": "connection refused\ntoken: ********"},
        "request": "talosctl get x --nodes 10.0.0.1",
    }
    lost = TalosctlError("talosctl version did not finish within 5 s", argv=["/x/talosctl", "version"])
    assert lost.failure()["request"] == "talosctl version" and lost.failure()["code"] == "other"
    assert lost.failure()["details"] == {"node": None, "rc": None, "stderr": None}


def test_connections_and_an_explicit_runner():
    calls = []

    def runner(argv, stdin, env, timeout):
        calls.append(argv)
        return 0, "ok", ""

    talosctl = client_from_params({"talosctl": "/bin/true", "talosconfig": "/tc", "timeout": 7}, runner)
    assert talosctl.timeout == 7.0 and talosctl.runner is runner
    talosctl.run(["version"], direct(NODES[0]))
    talosctl.run(["gen", "secrets"], LOCAL)
    talosctl.run(["get", "x"], Connection(nodes=("10.0.0.2",), insecure=True))
    assert talosctl.commands() == [
        ["version", "--talosconfig", "/tc", "--nodes", "10.0.0.1", "--endpoints", "10.0.0.1"],
        ["gen", "secrets"],
        ["get", "x", "--insecure", "--nodes", "10.0.0.2"],
    ]
    talosctl.at_least(60)
    talosctl.at_least(1)
    assert talosctl.timeout == 60
    unset = Talosctl(binary="/bin/true")
    unset.runner = None  # (conftest gives a runner to those built without one)
    with pytest.raises(TalosctlError, match="no way to run talosctl"):
        unset.run(["version"])
