# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order of a helm_releases run (_helm/releases_apply.py) with a scripted stand-in for helm (not helm: it
answers list, get values, template and upgrade from a dict, in the shapes helm v4.2.4 prints). The same behaviour
against the real helm and kube-apiserver is in tests/sandbox/test_helm_releases.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.helm import HelmError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_apply import run


class ScriptedHelm:
    """Releases by name: {"chart": ..., "status": ..., "values": ..., "revision": n}; ``fail`` maps a verb and a
    release name to helm's stderr."""

    def __init__(self, releases=None, fail=None):
        self.releases = dict(releases or {})
        self.fail = dict(fail or {})
        self.calls: list[list[str]] = []

    def __call__(self, argv, stdin, env):
        args = argv[1:]
        self.calls.append(args)
        assert args[-2] == "--kubeconfig" and set(env) == {"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"}
        verb = args[0]
        if verb == "list":
            return 0, json.dumps([{"name": name, "namespace": "ns", "revision": str(r["revision"]),
                                   "status": r["status"], "chart": r["chart"]}
                                  for name, r in self.releases.items()]), ""  # fmt: skip
        name = args[2] if verb in ("get", "upgrade") else args[1]
        if (verb, name) in self.fail:
            return 1, "", "Error: " + self.fail[(verb, name)] + "\n"
        if verb == "get":
            return 0, json.dumps(self.releases[name]["values"]), ""
        if verb == "template":
            return 0, "---\nkind: ConfigMap\n", ""
        version = args[args.index("--version") + 1]
        old = self.releases.get(name, {"revision": 0})
        self.releases[name] = {"chart": f"{args[3]}-{version}", "status": "deployed", "values": json.loads(
            json.dumps(yaml.safe_load(stdin))), "revision": old["revision"] + 1}  # fmt: skip
        return 0, json.dumps({"name": name, "version": old["revision"] + 1}), ""


def params(tmp_path: Path, *names: str, **values) -> dict:
    releases = [
        {"name": n, "namespace": "ns", "chart": "c", "repo": "http://127.0.0.1:9/", "version": "1.0.0",
         "values": values.get(n, {"k": n}), "create_namespace": True, "wait": False}
        for n in names
    ]  # fmt: skip
    return {"kubeconfig": str(tmp_path / "kubeconfig"), "helm_binary": "/bin/true", "values_dir": str(tmp_path / "v"),
            "releases": releases, "wait_timeout": 30, "check_only": False, "parallel": 4}  # fmt: skip


def verbs(helm: ScriptedHelm) -> list[str]:
    return [call[0] for call in helm.calls]


def test_an_install_that_fails_reports_what_was_done_and_what_was_not(tmp_path):
    helm = ScriptedHelm(fail={("upgrade", "b"): "context deadline exceeded"})
    with pytest.raises(PartialFailure) as error:
        run(params(tmp_path, "a", "b", "c"), False, helm, print)
    message = str(error.value)
    assert "ns/b: helm upgrade --install failed: context deadline exceeded" in message
    assert "done before it: ns/a" in message and "not attempted: ns/c" in message
    assert error.value.result["changed"] is True
    assert [f["name"] for f in error.value.failures] == ["ns/b"]
    assert verbs(helm) == ["list", "template", "template", "template", "upgrade", "upgrade"]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["ns-a.yaml"]  # b's file only once helm took it


def test_a_failed_read_names_the_release_and_nothing_is_templated(tmp_path):
    helm = ScriptedHelm({"a": {"chart": "c-1.0.0", "status": "deployed", "values": {"k": "a"}, "revision": 1}},
                        fail={("get", "a"): "release: not found"})  # fmt: skip
    with pytest.raises(HelmError, match="ns/a: reading the values .helm get values. failed: release: not found"):
        run(params(tmp_path, "a"), False, helm, print)
    assert verbs(helm) == ["list", "get"]


def test_a_template_failure_that_is_not_about_values_is_named_as_such(tmp_path):
    helm = ScriptedHelm(fail={("template", "a"): 'chart "c" version "1.0.0" not found in http://127.0.0.1:9/'})
    with pytest.raises(HelmError) as error:
        run(params(tmp_path, "a"), False, helm, print)
    assert str(error.value).startswith('Nothing was installed: helm template failed for a: chart "c" version')
    assert "upgrade" not in verbs(helm)


def test_unchanged_release_gets_its_missing_values_file_and_mode_repaired(tmp_path):
    helm = ScriptedHelm({"a": {"chart": "c-1.0.0", "status": "deployed", "values": {"k": "a"}, "revision": 4}})
    result = run(params(tmp_path, "a"), False, helm, print)
    path = tmp_path / "v" / "ns-a.yaml"
    assert result["changed"] and result["values_files_written"] == [str(path)]
    assert result["releases"][0]["action"] == "unchanged" and result["releases"][0]["revision"] == 4
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    assert run(params(tmp_path, "a"), False, helm, print)["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not run(params(tmp_path, "a"), False, helm, print)["changed"]
    assert verbs(helm)[-2:] == ["list", "get"]


def test_check_mode_creates_no_folder_and_reports_the_file_it_would_write(tmp_path):
    helm = ScriptedHelm({"a": {"chart": "c-1.0.0", "status": "deployed", "values": {"k": "a"}, "revision": 4}})
    result = run(params(tmp_path, "a"), True, helm, print)
    assert result["changed"] and result["values_files_written"] == []
    assert not (tmp_path / "v").exists()


def test_missing_helm_says_how_to_get_it(tmp_path):
    options = {**params(tmp_path, "a"), "helm_binary": str(tmp_path / "no-helm")}
    with pytest.raises(HelmError, match="talosforge.cluster.helm role"):
        run(options, False, ScriptedHelm(), print)


def test_no_releases_runs_nothing(tmp_path):
    helm = ScriptedHelm()
    result = run({**params(tmp_path), "releases": []}, False, helm, print)
    assert not result["changed"] and result["releases"] == [] and helm.calls == []


def test_a_release_another_helm_run_holds_fails_an_install_but_only_warns_a_check(tmp_path):
    # A fresh pending-upgrade (helm-controller upgrading a release Flux took over, say): not stale, not ours to undo.
    busy = {"a": {"chart": "c-1.0.0", "status": "pending-upgrade", "values": {"k": "a"}, "revision": 2},
            "b": {"chart": "c-1.0.0", "status": "deployed", "values": {"k": "old"}, "revision": 1}}  # fmt: skip
    with pytest.raises(HelmError) as raised:
        run(params(tmp_path, "a", "b"), False, ScriptedHelm(busy), lambda _text: None)
    assert raised.value.code == "in_progress" and "a" in str(raised.value)
    warnings: list[str] = []
    helm = ScriptedHelm(busy)
    result = run({**params(tmp_path, "a", "b"), "check_only": True}, False, helm, warnings.append)
    assert any(text.startswith("not checked: ") and "pending-upgrade" in text for text in warnings), warnings
    assert "upgrade" not in verbs(helm) and result["changed"]
