"""helm_releases with the real helm (v4, built by the sandbox) against the sandbox cluster's real kube-apiserver.

The test charts (charts-fixtures/) are packaged with helm and served from a chart repository on a free loopback port,
so the module fetches them with ``--repo`` as it fetches upstream charts. helm runs through a wrapper that logs every
command line, which is how "a re-run runs no helm write" is counted.
"""

from __future__ import annotations

import http.server
import json
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.helm import HelmError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_apply import run
from kube_testlib import LiveCluster

from sandbox.gotools import binary

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parent / "charts-fixtures"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def chart_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A chart repository with plain 0.1.0 and 0.2.0 and checked 1.2.0, packaged by helm, served over HTTP."""
    helm = str(binary("helm"))
    folder = tmp_path_factory.mktemp("charts")
    env = helm_env(folder / "helm-home")
    for chart, version in (("plain", "0.1.0"), ("plain", "0.2.0"), ("checked", "1.2.0")):
        subprocess.run([helm, "package", str(FIXTURES / chart), "--version", version, "-d", str(folder / "repo")],
                       check=True, capture_output=True, env=env)  # fmt: skip
    subprocess.run([helm, "repo", "index", str(folder / "repo")], check=True, capture_output=True, env=env)
    handler = partial(QuietHandler, directory=str(folder / "repo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def helm_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HELM_CACHE_HOME": str(home / "c"), "HELM_CONFIG_HOME": str(home / "f"),
            "HELM_DATA_HOME": str(home / "d")}  # fmt: skip


class Bench:
    """One test's helm wrapper (logging each command line), values folder and namespace."""

    def __init__(self, live: LiveCluster, root: Path, repo: str):
        self.live = live
        self.repo = repo
        self.root = root
        self.log = root / "helm-calls.log"
        self.wrapper = root / "helm"
        self.wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{self.log}"\nexec "{binary("helm")}" "$@"\n')
        self.wrapper.chmod(0o755)
        self.values_dir = root / "values"
        self.namespace = "t-" + uuid.uuid4().hex[:8]
        self.warnings: list[str] = []

    def release(self, name: str, chart: str = "plain", version: str = "0.1.0", values: Any = None) -> dict:
        return {"name": name, "namespace": self.namespace, "chart": chart, "repo": self.repo, "version": version,
                "values": values or {}, "create_namespace": True, "wait": False}  # fmt: skip

    def run(self, releases: list[dict], check_mode: bool = False, **options: Any) -> dict[str, Any]:
        params = {"kubeconfig": str(self.live.kubeconfig), "helm_binary": str(self.wrapper),
                  "values_dir": str(self.values_dir), "releases": releases, "wait_timeout": 120, "check_only": False,
                  "parallel": 8, **options}  # fmt: skip
        self.log.write_text("")
        self.warnings = []
        return run(params, check_mode, subprocess_runner, self.warnings.append)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def verbs(self) -> list[str]:
        """Each logged call as its subcommand and release name (``get values x``, ``upgrade x``...)."""
        found = []
        for line in self.calls():
            words = line.split()
            if words[0] == "get":
                found.append(f"get values {words[2]}")
            elif words[0] in ("template", "upgrade"):
                found.append(f"{words[0]} {words[2] if words[1] == '--install' else words[1]}")
            else:
                found.append(words[0])
        return found

    def helm(self, *args: str, stdin: str | None = None) -> str:
        """The real helm, not logged (what a person would run by hand)."""
        done = subprocess.run([str(binary("helm")), *args, "--kubeconfig", str(self.live.kubeconfig)], input=stdin,
                              capture_output=True, text=True, env=helm_env(self.root / "by-hand"), check=True,
                              timeout=120)  # fmt: skip
        return done.stdout

    def live_values(self, name: str) -> Any:
        return json.loads(self.helm("get", "values", name, "-n", self.namespace, "-o", "json"))

    def listed(self) -> dict[str, dict]:
        answer = json.loads(self.helm("list", "-n", self.namespace, "-o", "json"))
        return {item["name"]: item for item in answer}


def subprocess_runner(argv: list[str], stdin: str | None, env: Any) -> tuple[int, str, str]:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env={**os.environ, **env}, timeout=300,
                          check=False)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def bench(kube_cluster: LiveCluster, tmp_path: Path, chart_repo: str) -> Bench:
    return Bench(kube_cluster, tmp_path, chart_repo)


def test_first_run_installs_in_order_and_a_rerun_runs_no_helm_write(bench: Bench) -> None:
    releases = [bench.release("first", values={"greeting": "hi", "nested": {"n": 3}}),
                bench.release("second", "checked", "1.2.0", {"replicas": 2, "mode": "b"})]  # fmt: skip
    result = bench.run(releases)
    assert result["changed"]
    assert [(r["name"], r["action"], r["revision"]) for r in result["releases"]] == [
        ("first", "installed", 1), ("second", "installed", 1)]  # fmt: skip
    verbs = bench.verbs()
    assert verbs[0] == "list" and sorted(verbs[1:3]) == ["template first", "template second"]
    assert verbs[3:] == ["upgrade first", "upgrade second"]  # in the order given, after every template
    assert bench.live_values("first") == {"greeting": "hi", "nested": {"n": 3}}
    from kubernetes import client

    configmap = client.CoreV1Api(bench.live.api()).read_namespaced_config_map("first-values", bench.namespace)
    assert configmap.data["greeting"] == "hi"

    assert stat.S_IMODE(bench.values_dir.stat().st_mode) == 0o700
    for release in releases:
        path = bench.values_dir / f"{bench.namespace}-{release['name']}.yaml"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert yaml.safe_load(path.read_text()) == release["values"]
    assert sorted(result["values_files_written"]) == sorted(str(p) for p in bench.values_dir.glob("*.yaml"))
    mtimes = {p: p.stat().st_mtime_ns for p in bench.values_dir.glob("*.yaml")}

    started = time.monotonic()
    again = bench.run(releases)
    elapsed = time.monotonic() - started
    assert not again["changed"]
    assert [r["action"] for r in again["releases"]] == ["unchanged", "unchanged"]
    assert sorted(bench.verbs()) == ["get values first", "get values second", "list"]
    assert {p: p.stat().st_mtime_ns for p in bench.values_dir.glob("*.yaml")} == mtimes
    assert not bench.warnings
    print(f"\nno-op run: {len(bench.calls())} helm calls, {elapsed:.2f} s")


def test_values_a_chart_refuses_stop_the_run_before_any_install(bench: Bench) -> None:
    releases = [bench.release("cni", values={"greeting": "first"}),
                bench.release("strict", "checked", "1.2.0",
                              {"replicas": 0, "mode": "c", "auth": {"token": "sek-ret"}})]  # fmt: skip
    with pytest.raises(HelmError) as error:
        bench.run(releases)
    message = str(error.value)
    assert message.startswith("Nothing was installed: the chart(s) refused the values of strict: ")
    assert "/replicas" in message and "/mode" in message and "sek-ret" not in message
    assert "upgrade" not in " ".join(bench.verbs())
    assert bench.listed() == {}  # the release before it was not installed either
    assert not bench.values_dir.exists()


def test_a_hand_made_upgrade_is_drift_and_is_put_back(bench: Bench) -> None:
    releases = [bench.release("drifty", "checked", "1.2.0", {"replicas": 2, "mode": "a"})]
    bench.run(releases)
    bench.helm("upgrade", "drifty", "checked", "--repo", bench.repo, "--version", "1.2.0", "-n", bench.namespace,
               "--reuse-values", "--set", "mode=b")  # fmt: skip
    assert bench.live_values("drifty") == {"replicas": 2, "mode": "b"}

    result = bench.run(releases)
    row = result["releases"][0]
    assert result["changed"] and row["action"] == "drifted" and row["changed_keys"] == ["mode"]
    assert row["revision"] == 3
    assert (
        len(bench.warnings) == 1 and "DRIFT" in bench.warnings[0] and f"{bench.namespace}/drifty" in bench.warnings[0]
    )
    assert "mode" in bench.warnings[0] and "putting it back" in bench.warnings[0]
    assert bench.live_values("drifty") == {"replicas": 2, "mode": "a"}
    assert not bench.run(releases)["changed"]


def test_check_mode_writes_nothing_and_shows_the_values_masked(bench: Bench) -> None:
    before = {"replicas": 2, "mode": "a", "auth": {"token": "first-token"}}
    bench.run([bench.release("kept", "checked", "1.2.0", before)])
    files = {p: p.read_text() for p in bench.values_dir.glob("*.yaml")}

    after = {"replicas": 3, "mode": "a", "auth": {"token": "second-token"}}
    planned = [bench.release("kept", "checked", "1.2.0", after), bench.release("newcomer", values={"greeting": "x"})]
    result = bench.run(planned, check_mode=True)
    assert result["changed"]
    assert [(r["action"], r["changed_keys"]) for r in result["releases"]] == [
        ("upgraded", ["auth.token", "replicas"]), ("installed", ["greeting"])]  # fmt: skip
    assert "upgrade" not in " ".join(bench.verbs())
    assert bench.live_values("kept") == before and "newcomer" not in bench.listed()
    assert {p: p.read_text() for p in bench.values_dir.glob("*.yaml")} == files
    diff = result["diff"][0]
    assert "replicas: 2" in diff["before"] and "replicas: 3" in diff["after"]
    assert "token" not in (diff["before"] + diff["after"]).replace("token:", "")
    assert "first-token" not in str(result) and "second-token" not in str(result)
    assert "(changed)" in diff["after"]

    only = bench.run(planned, check_only=True)
    assert only["changed"] and "upgrade" not in " ".join(bench.verbs())


def test_a_chart_version_bump_upgrades(bench: Bench) -> None:
    bench.run([bench.release("bumped", values={"greeting": "v1"})])
    result = bench.run([bench.release("bumped", version="0.2.0", values={"greeting": "v1"})])
    row = result["releases"][0]
    assert row["action"] == "upgraded" and "chart plain-0.1.0 instead of plain 0.2.0" in row["reason"]
    assert bench.listed()["bumped"]["chart"] == "plain-0.2.0"
    assert not bench.warnings


def test_a_failed_release_is_upgraded_again(bench: Bench) -> None:
    bench.run([bench.release("broken", values={"greeting": "ok"})])
    with pytest.raises(subprocess.CalledProcessError):
        _fail_upgrade(bench)
    assert bench.listed()["broken"]["status"] == "failed"

    result = bench.run([bench.release("broken", values={"greeting": "ok"})])
    row = result["releases"][0]
    assert row["action"] == "upgraded" and "status failed" in row["reason"]
    assert any("status failed" in warning for warning in bench.warnings)
    assert bench.listed()["broken"]["status"] == "deployed"


def _fail_upgrade(bench: Bench) -> None:
    """An upgrade by hand with an extra object in a namespace that does not exist: helm records a failed revision."""
    chart = bench.root / "plain-extra"
    subprocess.run(["cp", "-r", str(FIXTURES / "plain"), str(chart)], check=True)
    (chart / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken-extra\n  namespace: no-such-namespace\n",
        encoding="utf-8",
    )
    bench.helm("upgrade", "broken", str(chart), "-n", bench.namespace, "--set", "greeting=ok")


def test_a_release_an_interrupted_helm_run_left_pending_is_cleared_and_installed(bench: Bench) -> None:
    wanted = [bench.release("stuck", values={"greeting": "ok"})]
    _interrupted(bench, "install", "stuck")
    assert bench.listed()["stuck"]["status"] == "pending-install"
    with pytest.raises(HelmError) as error:  # within wait_timeout it may be another helm run at work
        bench.run(wanted)
    assert error.value.code == "in_progress" and "another helm operation holds the release" in str(error.value)
    assert bench.verbs() == ["list", "get values stuck"]

    time.sleep(1.5)
    result = bench.run(wanted, wait_timeout=1)
    row = result["releases"][0]
    assert (
        row["action"] == "installed"
        and "status pending-install" in row["reason"]
        and "installed again" in row["reason"]
    )
    assert bench.verbs()[-2:] == ["uninstall", "upgrade stuck"] and bench.listed()["stuck"]["status"] == "deployed"

    _interrupted(bench, "upgrade", "stuck")
    assert bench.listed()["stuck"]["status"] == "pending-upgrade"
    time.sleep(1.5)
    result = bench.run(wanted, wait_timeout=1)
    assert "rolled back, then upgraded" in result["releases"][0]["reason"]
    assert bench.verbs()[-2:] == ["rollback", "upgrade stuck"] and bench.listed()["stuck"]["status"] == "deployed"
    assert bench.live_values("stuck") == {"greeting": "ok"}


def _interrupted(bench: Bench, verb: str, name: str) -> None:
    """helm ``verb`` of a chart whose hook never completes (no Job controller here), killed while it waits."""
    chart = bench.root / "hooked"
    if not chart.exists():
        subprocess.run(["cp", "-r", str(FIXTURES / "plain"), str(chart)], check=True)
        (chart / "templates" / "hook.yaml").write_text(HOOK_JOB, encoding="utf-8")
    command = [str(binary("helm")), verb, name, str(chart), "-n", bench.namespace, "--timeout", "120s",
               "--kubeconfig", str(bench.live.kubeconfig)]  # fmt: skip
    if verb == "install":
        command.append("--create-namespace")
    before = _hook_jobs(bench)
    process = subprocess.Popen(command, env=helm_env(bench.root / "by-hand"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _hook_jobs(bench) - before:
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait(timeout=10)


def _hook_jobs(bench: Bench) -> set[str]:
    """The uids of the hook Jobs in the test's namespace (a new one: helm is waiting on the hook)."""
    from kubernetes import client

    jobs = client.BatchV1Api(bench.live.api()).list_namespaced_job(bench.namespace).items
    return {job.metadata.uid for job in jobs if job.metadata.name == "hook" and not job.metadata.deletion_timestamp}


HOOK_JOB = """---
apiVersion: batch/v1
kind: Job
metadata:
  name: hook
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: hook, image: busybox}]
"""


def test_the_module_through_ansible_playbook_is_idempotent(bench: Bench) -> None:
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    releases = [bench.release("played", "checked", "1.2.0", {"replicas": 1, "mode": "b"}),
                bench.release("played-too", values={"greeting": "hello"})]  # fmt: skip
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Helm releases", "register": "out", "talosforge.cluster.helm_releases": {
            "kubeconfig": str(bench.live.kubeconfig), "helm_binary": str(bench.wrapper),
            "values_dir": str(bench.values_dir), "releases": releases}},
        {"ansible.builtin.debug": {"var": "out.releases"}},
    ]}]  # fmt: skip
    path = bench.root / "play.yml"
    path.write_text(yaml.safe_dump(play), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]))  # fmt: skip
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
    bench.log.write_text("")
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout and '"action": "installed"' in first.stdout
    bench.log.write_text("")
    second = subprocess.run([*command, "--diff"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout and second.stdout.count('"action": "unchanged"') == 2
    assert sorted(bench.verbs()) == ["get values played", "get values played-too", "list"]
