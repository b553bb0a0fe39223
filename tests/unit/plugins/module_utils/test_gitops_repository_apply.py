# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gitops_repository's work against real git: a bare repository on the local filesystem (file:// URL)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import GitError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.repository_apply import run
from gitops_testlib import Origin, git, subprocess_runner

TREE = {
    "clusters/prod/infrastructure.yaml": "kind: Kustomization\nname: infra-controllers\n",
    "infrastructure/controllers/cert-manager.yaml": "kind: HelmRelease\nvalues:\n  crds:\n    enabled: true\n",
    "apps/kustomization.yaml": "resources: []\n",
}
MANAGED = ["clusters/prod", "infrastructure", "apps/kustomization.yaml"]


def params(origin: Origin, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    base = {"url": origin.url, "branch": origin.branch, "work_dir": str(tmp_path / "work"), "files": dict(TREE),
            "managed_paths": list(MANAGED), "commit_message": "talosforge: cluster prod"}  # fmt: skip
    return {**base, **extra}


class Killed(BaseException):
    """The run dies here (as a SIGKILL would stop it): no cleanup, no result."""


def runner_until(command: str, action: str = "kill", origin: Origin | None = None, after: str = ""):  # type: ignore[no-untyped-def]
    """A subprocess runner that, at the first ``git <command>`` (after a ``git <after>``), dies (kill) or lets
    someone else push first."""
    fired: list[list[str]] = []
    seen: list[str] = []

    def run_git(argv: list[str], stdin: bytes | None, env: Mapping[str, str]) -> tuple[int, str, str]:
        seen.append(argv[1])
        if argv[1] == command and not fired and (not after or after in seen):
            fired.append(argv)
            if action == "kill":
                raise Killed()
            if origin is not None:
                origin.push_files({"apps/team/configmap.yaml": "kind: ConfigMap\n"}, "a user's app")
        return subprocess_runner(argv, stdin, env)

    return run_git


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path)


def test_first_push_to_an_empty_repository(origin: Origin, tmp_path: Path) -> None:
    result = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert result["changed"] and result["previous_revision"] is None
    assert result["revision"] == result["commit"] == origin.head()
    assert origin.files() == TREE and origin.count() == 1
    assert sorted(change["path"] for change in result["changes"]) == sorted(TREE)
    assert {change["action"] for change in result["changes"]} == {"added"}
    message = git("--git-dir", str(origin.path), "log", "-1", "--format=%an <%ae>%n%B")
    assert message.startswith("talosforge <talosforge@localhost>\ntalosforge: cluster prod\n")
    assert "added: apps/kustomization.yaml" in message
    work = tmp_path / "work"
    assert stat.S_IMODE(os.stat(work).st_mode) == 0o700


def test_a_rerun_makes_no_commit_and_reads_no_file(origin: Origin, tmp_path: Path) -> None:
    first = run(params(origin, tmp_path), False, False, subprocess_runner)
    again = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert not again["changed"] and again["commit"] is None and again["changes"] == []
    assert again["revision"] == first["revision"] == origin.head() and origin.count() == 1
    assert again["commands"] == ["fetch", "for-each-ref", "ls-tree"]


def test_unmanaged_files_are_untouched_and_kept(origin: Origin, tmp_path: Path) -> None:
    mine = {"README.md": "ours\n", "apps/team/app.yaml": "kind: ConfigMap\n", "clusters/staging/x.yaml": "a: 1\n"}
    before = origin.push_files(mine)
    result = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert result["previous_revision"] == before
    assert git("--git-dir", str(origin.path), "rev-parse", f"{result['commit']}^").strip() == before
    assert origin.files() == {**mine, **TREE}
    origin.push_files({"apps/team/app.yaml": "kind: ConfigMap\ndata: {}\n"})
    again = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert not again["changed"] and origin.files()["apps/team/app.yaml"] == "kind: ConfigMap\ndata: {}\n"


def test_a_managed_file_no_longer_wanted_is_deleted(origin: Origin, tmp_path: Path) -> None:
    run(params(origin, tmp_path), False, False, subprocess_runner)
    origin.push_files({"infrastructure/configs/by-hand.yaml": "kind: Gateway\n", "docs/notes.md": "keep\n"})
    files = {k: v for k, v in TREE.items() if not k.startswith("infrastructure/controllers")}
    result = run(params(origin, tmp_path, files=files), False, True, subprocess_runner)
    assert sorted((c["path"], c["action"]) for c in result["changes"]) == [
        ("infrastructure/configs/by-hand.yaml", "deleted"),
        ("infrastructure/controllers/cert-manager.yaml", "deleted"),
    ]
    assert origin.files() == {**files, "docs/notes.md": "keep\n"}
    assert "--- a/infrastructure/configs/by-hand.yaml\n+++ /dev/null\n" in result["diff"]["prepared"]


def test_a_changed_file_is_one_commit_with_its_diff(origin: Origin, tmp_path: Path) -> None:
    run(params(origin, tmp_path), False, False, subprocess_runner)
    files = {**TREE, "apps/kustomization.yaml": "resources:\n  - team\n"}
    result = run(params(origin, tmp_path, files=files), False, True, subprocess_runner)
    assert result["changes"] == [{"path": "apps/kustomization.yaml", "action": "modified"}]
    assert origin.count() == 2 and origin.files() == files
    assert result["diff"]["prepared"] == (
        "--- a/apps/kustomization.yaml\n+++ b/apps/kustomization.yaml\n@@ -1 +1,2 @@\n"
        "-resources: []\n+resources:\n+  - team\n"
    )


def test_check_mode_shows_the_diff_and_commits_nothing(origin: Origin, tmp_path: Path) -> None:
    before = origin.push_files({"README.md": "hi\n"})
    result = run(params(origin, tmp_path), True, True, subprocess_runner)
    assert result["changed"] and result["commit"] is None and result["revision"] == before
    assert origin.head() == before and origin.count() == 1
    assert (
        "+++ b/infrastructure/controllers/cert-manager.yaml\n@@ -0,0 +1,4 @@\n+kind: HelmRelease\n"
        in (result["diff"]["prepared"])
    )
    refs = git("--git-dir", str(tmp_path / "work" / "repo.git"), "for-each-ref", "--format=%(refname)")
    assert "refs/talosforge/pending" not in refs


def test_a_remote_that_moved_on_fails_naming_both_revisions_and_loses_nothing(origin: Origin, tmp_path: Path) -> None:
    fetched = origin.push_files({"README.md": "hi\n"})
    with pytest.raises(GitError) as failed:
        run(params(origin, tmp_path), False, False, runner_until("push", "push", origin))
    moved = origin.head()
    assert moved != fetched and failed.value.code == "remote_moved"
    message = str(failed.value)
    assert fetched in message and str(moved) in message and origin.url in message
    assert origin.files()["apps/team/configmap.yaml"] == "kind: ConfigMap\n"  # their commit is there
    gitdir = str(tmp_path / "work" / "repo.git")
    kept = git("--git-dir", gitdir, "rev-parse", "refs/talosforge/pending/main").strip()
    assert kept in message
    assert git("--git-dir", gitdir, "show", f"{kept}:apps/kustomization.yaml") == TREE["apps/kustomization.yaml"]
    again = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert again["previous_revision"] == moved and origin.files()["apps/team/configmap.yaml"] == "kind: ConfigMap\n"
    assert git("--git-dir", str(origin.path), "rev-parse", f"{again['commit']}^").strip() == moved


def test_killed_between_commit_and_push_then_rerun_pushes_exactly_once(origin: Origin, tmp_path: Path) -> None:
    base = origin.push_files({"README.md": "hi\n"})
    with pytest.raises(Killed):
        run(params(origin, tmp_path), False, False, runner_until("push"))
    assert origin.head() == base
    gitdir = str(tmp_path / "work" / "repo.git")
    pending = git("--git-dir", gitdir, "rev-parse", "refs/talosforge/pending/main").strip()
    result = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert result["changed"] and result["commit"] == pending == origin.head()
    assert "fast-import" not in result["commands"]  # the killed run's commit, not a second one
    assert origin.count() == 2
    assert "refs/talosforge" not in git("--git-dir", gitdir, "for-each-ref", "--format=%(refname)")
    again = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert not again["changed"] and origin.count() == 2


def test_killed_after_the_push_then_rerun_changes_nothing(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(Killed):
        run(params(origin, tmp_path), False, False, runner_until("update-ref", after="push"))
    pushed = origin.head()
    result = run(params(origin, tmp_path), False, False, subprocess_runner)
    assert not result["changed"] and result["revision"] == pushed and origin.count() == 1
    gitdir = str(tmp_path / "work" / "repo.git")
    assert "refs/talosforge" not in git("--git-dir", gitdir, "for-each-ref", "--format=%(refname)")


def test_a_pending_commit_of_other_files_is_replaced(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(Killed):
        run(params(origin, tmp_path), False, False, runner_until("push"))
    files = {**TREE, "apps/kustomization.yaml": "resources: [x]\n"}
    result = run(params(origin, tmp_path, files=files), False, False, subprocess_runner)
    assert origin.files() == files and origin.count() == 1 and "fast-import" in result["commands"]


def test_a_repository_that_does_not_exist_fails_naming_it(tmp_path: Path) -> None:
    url = (tmp_path / "nowhere.git").as_uri()
    with pytest.raises(GitError) as failed:
        run({"url": url, "branch": "main", "work_dir": str(tmp_path / "w"), "files": TREE}, False, False,
            subprocess_runner)  # fmt: skip
    assert url in str(failed.value) and failed.value.code == "not_found"


def test_a_password_in_the_url_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as failed:
        run({"url": "https://bob:s3cret@git.example.org/x.git", "branch": "main", "work_dir": str(tmp_path / "w"),
             "files": TREE}, False, False, subprocess_runner)  # fmt: skip
    assert "s3cret" not in str(failed.value) and "https://bob@git.example.org/x.git" in str(failed.value)


def test_a_file_outside_the_managed_paths_is_refused(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="outside the managed paths"):
        run(params(origin, tmp_path, files={"README.md": "x"}), False, False, subprocess_runner)
    assert origin.head() is None


def test_a_scaffold_file_is_written_once_then_left_to_the_user(origin: Origin, tmp_path: Path) -> None:
    files = {k: v for k, v in TREE.items() if not k.startswith("apps/")}
    scaffold = {"apps/kustomization.yaml": "resources: []\n"}
    managed = ["clusters/prod", "infrastructure"]
    first = run(params(origin, tmp_path, files=files, managed_paths=managed, scaffold=scaffold), False, False,
                subprocess_runner)  # fmt: skip
    assert ("apps/kustomization.yaml", "added") in [(c["path"], c["action"]) for c in first["changes"]]
    assert origin.files()["apps/kustomization.yaml"] == "resources: []\n"
    mine = "resources: [configmap.yaml]\n"
    origin.push_files({"apps/kustomization.yaml": mine, "apps/configmap.yaml": "kind: ConfigMap\n"}, "a user's app")
    again = run(params(origin, tmp_path, files=files, managed_paths=managed, scaffold=scaffold), False, False,
                subprocess_runner)  # fmt: skip
    assert not again["changed"] and origin.files()["apps/kustomization.yaml"] == mine


def test_a_scaffold_file_may_not_be_managed(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="either managed or a scaffold file"):
        run(params(origin, tmp_path, scaffold={"clusters/prod/x.yaml": "x\n"}), False, False, subprocess_runner)
    assert origin.count() == 0
