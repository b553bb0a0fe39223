# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gitops_repository through main() (AnsibleModule.run_command runs git) against real bare repositories."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.talosforge.cluster.plugins.modules import gitops_repository
from gitops_testlib import Origin, git
from module_harness import check_documentation, run_module

FILES = {
    "k8s/flux/cluster/ks.yaml": "kind: Kustomization\n",
    "k8s/infrastructure/controllers/cilium.yaml": "kind: HelmRelease\n",
}


def args(origin: Origin, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"url": origin.url, "work_dir": str(tmp_path / "work"), "files": dict(FILES),
            "managed_paths": ["k8s/flux", "k8s/infrastructure"], **extra}  # fmt: skip


def test_documentation_matches_the_spec() -> None:
    spec = check_documentation(gitops_repository)
    assert spec["token"]["no_log"] is True


def test_push_rerun_and_check_mode_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = Origin(tmp_path)
    origin.push_files({"k8s/apps/team/cm.yaml": "kind: ConfigMap\n"})
    first = run_module(gitops_repository, args(origin, tmp_path), capsys)
    assert first["changed"] and first["revision"] == origin.head() and "diff" not in first
    started = time.monotonic()
    again = run_module(gitops_repository, args(origin, tmp_path), capsys)
    elapsed = time.monotonic() - started
    assert not again["changed"] and again["commands"] == ["fetch", "for-each-ref", "ls-tree"] and elapsed < 5
    wanted = {**FILES, "k8s/flux/cluster/ks.yaml": "kind: Kustomization\nspec: {}\n"}
    checked = run_module(gitops_repository, {**args(origin, tmp_path, files=wanted), "_ansible_check_mode": True,
                                             "_ansible_diff": True}, capsys)  # fmt: skip
    assert checked["changed"] and checked["commit"] is None and origin.count() == 2
    assert checked["diff"]["prepared"].endswith(" kind: Kustomization\n+spec: {}\n")
    assert origin.files()["k8s/apps/team/cm.yaml"] == "kind: ConfigMap\n"


def test_a_raced_push_fails_with_both_revisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server-side hook moves the branch while our push is being received, as a concurrent push would."""
    origin = Origin(tmp_path)
    base = origin.push_files({"README.md": "hi\n"})
    other = git("--git-dir", str(origin.path), "commit-tree", "-p", base, "-m", "theirs", f"{base}^{{tree}}").strip()
    hook = origin.path / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nunset GIT_QUARANTINE_PATH\ngit update-ref refs/heads/main {other} {base}\n")
    hook.chmod(0o755)
    failed = run_module(gitops_repository, args(origin, tmp_path), capsys)
    assert failed["failed"] and failed["failure"]["code"] == "remote_moved"
    assert base in failed["msg"] and other in failed["msg"] and origin.head() == other
    assert "refs/talosforge/pending/main" in failed["msg"]
    hook.unlink()
    done = run_module(gitops_repository, args(origin, tmp_path), capsys)
    assert done["changed"] and done["previous_revision"] == other and origin.count() == 3


def test_invalid_input_fails_before_any_git(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = Origin(tmp_path)
    failed = run_module(gitops_repository, args(origin, tmp_path, files={"../x": "y"}), capsys)
    assert failed["failed"] and "'..'" in failed["msg"] and not (tmp_path / "work").exists()
