# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_objects' order of work against an in-memory stand-in of the API (the real one: tests/sandbox):
Namespaces and CRDs first, every object checked before the first write, no-op runs that only read, check mode,
deletion order, bounded waiting for expectations."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.client import KubeApiError, Stats
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.kubeconfig import Connection
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.objects_apply import Run, run

CORE = {
    "resources": [
        {"name": "namespaces", "kind": "Namespace", "namespaced": False},
        {"name": "nodes", "kind": "Node", "namespaced": False},
        {"name": "configmaps", "kind": "ConfigMap", "namespaced": True},
        {"name": "configmaps/status", "kind": "ConfigMap", "namespaced": True},
    ]
}
CRDS = {"resources": [{"name": "customresourcedefinitions", "kind": "CustomResourceDefinition", "namespaced": False}]}
WIDGETS = {"resources": [{"name": "widgets", "kind": "Widget", "namespaced": True}]}
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.org"


class FakeApi:
    """Objects by path; discovery; dry runs that write nothing; a Widget with ``spec.size < 0`` is refused."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []
        self.stats = Stats()
        self.lock = threading.Lock()
        self.down = 0  # the next reads not answered (an API server that is starting)

    def _note(self, method: str, path: str) -> None:
        with self.lock:
            self.log.append((method, path))
        self.stats.count("GET" if method == "GET" else "PATCH" if method.startswith("PATCH") else method)

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.log if m in ("PATCH", "DELETE")]

    def get(self, path: str, missing_ok: bool = False) -> Any:
        self._note("GET", path)
        if self.down:
            self.down -= 1
            raise KubeApiError("cannot reach https://x: connection refused", code="Unreachable")
        found = {"/api/v1": CORE, "/apis/apiextensions.k8s.io/v1": CRDS}.get(path)
        if path == "/apis/example.org/v1" and CRD_PATH in self.objects:
            found = WIDGETS
        found = found or copy.deepcopy(self.objects.get(path))
        if found is None and not missing_ok:
            raise KubeApiError("not found", status=404, code="NotFound")
        return found

    def apply(self, path: str, manifest: dict[str, Any], field_manager: str, dry_run: bool = False) -> Any:
        self._note("PATCH dry-run" if dry_run else "PATCH", path)
        parts = path.split("/")
        if (
            "namespaces" in parts[:-2]
            and f"/api/v1/namespaces/{parts[parts.index('namespaces') + 1]}" not in self.objects
        ):
            raise KubeApiError(f'namespaces "{parts[parts.index("namespaces") + 1]}" not found', status=404)
        if manifest["kind"] == "Widget" and manifest.get("spec", {}).get("size", 0) < 0:
            raise KubeApiError("spec.size: Invalid value: -1: should be >= 0", status=422, code="Invalid")
        result = copy.deepcopy(self.objects.get(path) or {})
        result.update(copy.deepcopy(manifest))
        result.setdefault("metadata", {})["resourceVersion"] = str(len(self.log))
        if manifest["kind"] == "CustomResourceDefinition":
            result["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
        if not dry_run:
            self.objects[path] = result
        return result

    def delete(self, path: str) -> bool:
        self._note("DELETE", path)
        return self.objects.pop(path, None) is not None

    def close(self) -> None:
        pass


class FakeRun(Run):
    def __init__(self, api: FakeApi, params: dict[str, Any], check_mode: bool = False):
        connection = Connection("https://x", "https", "x", 443, "", None, None, None, "default")
        super().__init__(params, check_mode, connection, sleep=self.tick, clock=self.now)
        self.time = 0.0
        self.client = api  # type: ignore[assignment]
        self.stats = api.stats
        self._clients = []
        self._idle = []
        self.api = api

    def tick(self, seconds: float) -> None:
        self.time += seconds

    def now(self) -> float:
        return self.time

    def make_client(self) -> Any:
        return self.api


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.org"},
    "spec": {
        "group": "example.org",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}


def widget(size: int = 1, name: str = "w") -> dict[str, Any]:
    return {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"size": size}}  # fmt: skip


def configmap(namespace: str = "shop", value: str = "1") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": namespace},
            "data": {"v": value}}  # fmt: skip


def call(api: FakeApi, objects: list[dict[str, Any]], check_mode: bool = False, **params: Any) -> dict[str, Any]:
    params = {"kubeconfig": "unused", "objects": objects, **params}
    return run(params, check_mode, FakeRun(api, params, check_mode))


def test_namespaces_and_crds_are_written_first_then_the_rest() -> None:
    api = FakeApi()
    result = call(api, [widget(), configmap(), NAMESPACE, CRD])
    writes = api.writes()
    assert set(writes[:2]) == {("PATCH", "/api/v1/namespaces/shop"), ("PATCH", CRD_PATH)}
    assert set(writes[2:]) == {
        ("PATCH", "/apis/example.org/v1/namespaces/shop/widgets/w"),
        ("PATCH", "/api/v1/namespaces/shop/configmaps/c"),
    }
    assert [o["action"] for o in result["objects"]] == ["created"] * 4 and result["changed"] is True
    assert result["objects"][0] == {"apiVersion": "example.org/v1", "kind": "Widget", "namespace": "shop",
                                    "name": "w", "action": "created"}  # fmt: skip


def test_a_second_run_only_reads() -> None:
    api = FakeApi()
    objects = [widget(), configmap(), None, NAMESPACE, CRD]  # None: an empty YAML document
    call(api, objects)
    api.log.clear()
    api.stats = Stats()
    again = call(api, objects)
    assert again["changed"] is False and api.writes() == []
    assert {method for method, _path in api.log} == {"GET"}
    assert again["api_requests"] == {"GET": 7}  # discovery of 3 group-versions, 4 objects


def test_a_refused_object_fails_before_anything_is_written() -> None:
    api = FakeApi()
    call(api, [NAMESPACE, CRD])
    api.log.clear()
    with pytest.raises(PartialFailure) as failed:
        call(api, [configmap("shop", "2"), widget(-1), widget(2, "fine")])
    assert str(failed.value) == (
        "Nothing was written: the API server refused 1 of 3 objects (Widget shop/w): "
        "Widget shop/w: spec.size: Invalid value: -1: should be >= 0"
    )
    assert api.writes() == [] and failed.value.result["objects"] == []
    assert failed.value.failures[0]["failure"]["code"] == "Invalid"


def test_an_object_of_a_new_crd_is_checked_once_the_crd_exists_and_nothing_else_is_written() -> None:
    api = FakeApi()
    with pytest.raises(PartialFailure) as failed:
        call(api, [CRD, NAMESPACE, widget(-1), configmap()])
    assert str(failed.value).startswith("Only the Namespaces and CRDs before them were written")
    assert [(o["kind"], o["action"]) for o in failed.value.result["objects"]] == [
        ("CustomResourceDefinition", "created"),
        ("Namespace", "created"),
    ]
    assert "/api/v1/namespaces/shop/configmaps/c" not in api.objects


def test_an_object_in_a_namespace_nobody_creates_is_refused_by_name() -> None:
    with pytest.raises(PartialFailure, match='Nothing was written: .* ConfigMap elsewhere/c: namespaces "elsewhere"'):
        call(FakeApi(), [configmap("elsewhere")])


def test_check_mode_writes_nothing_and_shows_new_objects_from_their_manifests() -> None:
    api = FakeApi()
    result = call(api, [NAMESPACE, CRD, widget(), configmap()], check_mode=True)
    assert api.writes() == []
    assert [o["action"] for o in result["objects"]] == ["created"] * 4
    diff = {d["before_header"]: d for d in result["diff"]}
    assert diff["Widget shop/w"]["before"] == "" and "size: 1" in diff["Widget shop/w"]["after"]


def test_a_kind_nobody_serves_is_an_input_problem_named_by_object() -> None:
    with pytest.raises(PartialFailure) as failed:
        call(FakeApi(), [widget()])
    assert str(failed.value) == (
        "Nothing was written: the API server serves no kind for 1 of 1 objects (Widget shop/w): "
        "Widget shop/w: kind Widget in example.org/v1 is not served and no CRD of this task defines it"
    )
    assert failed.value.result["objects"] == [] and failed.value.failures[0]["name"] == "Widget shop/w"


def test_absent_deletes_the_crds_objects_before_the_crd_and_counts_unknown_kinds_as_gone() -> None:
    api = FakeApi()
    call(api, [NAMESPACE, CRD, widget()])
    api.log.clear()
    result = call(api, [CRD, widget(), NAMESPACE], state="absent")
    assert [p for m, p in api.writes()][0] == "/apis/example.org/v1/namespaces/shop/widgets/w"
    assert [o["action"] for o in result["objects"]] == ["deleted"] * 3
    api.log.clear()
    again = call(api, [CRD, widget(), NAMESPACE], state="absent")
    assert again["changed"] is False and api.writes() == []


def test_waiting_for_expectations_is_bounded_and_names_each_one_not_met() -> None:
    api = FakeApi()
    call(api, [NAMESPACE, configmap()])
    expect = [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "c", "condition": "Ready"}]
    run_ = FakeRun(api, {"kubeconfig": "unused"})
    params = {"kubeconfig": "unused", "objects": [], "expect": expect, "wait_timeout": 5}
    with pytest.raises(PartialFailure) as failed:
        run(params, False, run_)
    assert str(failed.value) == (
        "1 of 1 expectations not met within 5 s: ConfigMap shop/c: condition Ready not reported yet"
    )
    assert 5 <= run_.time < 7
    assert failed.value.result["pending"][0]["why"] == "condition Ready not reported yet"
    reported = call(api, [], expect=expect)
    assert reported["pending"] == [{**expect[0], "why": "condition Ready not reported yet"}]


def test_waiting_goes_on_while_the_api_server_does_not_answer_yet() -> None:
    api = FakeApi()
    call(api, [NAMESPACE])
    api.down = 3
    expect = [
        {"apiVersion": "v1", "kind": "Namespace", "name": "shop"},
        {"apiVersion": "v1", "kind": "Node", "name": "n"},
    ]
    run_ = FakeRun(api, {"kubeconfig": "unused"})
    params = {"kubeconfig": "unused", "objects": [], "expect": expect, "wait_timeout": 10}
    with pytest.raises(PartialFailure) as failed:
        run(params, False, run_)
    assert str(failed.value) == "1 of 2 expectations not met within 10 s: Node n: it does not exist"
    api.down = 1
    reported = call(api, [], expect=expect)
    assert [p["why"] for p in reported["pending"]] == [
        "the API server did not answer: cannot reach https://x: connection refused"
    ] * 2


def test_objects_of_a_crd_the_call_changes_are_checked_against_the_new_crd() -> None:
    api = FakeApi()
    call(api, [NAMESPACE, CRD, widget()])
    api.log.clear()
    changed_crd = {**CRD, "metadata": {**CRD["metadata"], "labels": {"schema": "2"}}}
    result = call(api, [changed_crd, widget(2)])
    order = [(method, path) for method, path in api.log if method.startswith("PATCH")]
    assert order == [
        ("PATCH dry-run", CRD_PATH),
        ("PATCH", CRD_PATH),
        ("PATCH dry-run", "/apis/example.org/v1/namespaces/shop/widgets/w"),
        ("PATCH", "/apis/example.org/v1/namespaces/shop/widgets/w"),
    ]
    assert [o["action"] for o in result["objects"]] == ["updated", "updated"]
