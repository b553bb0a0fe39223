# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The managed files as data, without git: which paths are ours, what changes, the diff."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import check_branch, check_url, shown_url
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.tree_plan import (
    Entry,
    ManagedTree,
    blob_id,
    commit_message,
    unified_diff,
)
from gitops_testlib import git


def entry(path: str, text: str, mode: str = "100644") -> Entry:
    return Entry(mode, "blob", blob_id(text.encode()), path)


def test_blob_ids_are_gits() -> None:
    text = "kind: Kustomization\nnamé: ü\n"
    assert blob_id(text.encode()) == git("hash-object", "--stdin", stdin=text.encode()).strip()
    assert len(blob_id(b"", 64)) == 64


@pytest.mark.parametrize("path", ["", "/etc/passwd", "a/../b", "./a", ".git/config", "a/.GIT/x", "a\\b", 'a"b', "a\nb"])
def test_paths_that_could_leave_the_tree_are_refused(path: str) -> None:
    with pytest.raises(InputError):
        ManagedTree({path: "x"}, [])


def test_prefixes_match_whole_path_components() -> None:
    tree = ManagedTree({"clusters/prod/a.yaml": "a"}, ["clusters/prod/", "k8s"])
    assert tree.prefixes == ["clusters/prod", "k8s"]
    assert tree.is_managed("clusters/prod/x/y") and tree.is_managed("k8s")
    assert not tree.is_managed("clusters/prod2/a.yaml") and not tree.is_managed("clusters/production")


def test_without_prefixes_only_the_files_are_managed() -> None:
    tree = ManagedTree({"a.yaml": "new\n"}, [])
    changes = tree.changes([entry("a.yaml", "old\n"), entry("b.yaml", "other\n")])
    assert [(c.path, c.action) for c in changes] == [("a.yaml", "modified")]


def test_changes_by_content_and_mode() -> None:
    tree = ManagedTree({"k8s/a": "same\n", "k8s/b": "new\n", "k8s/c": "exec\n", "k8s/d": "d\n"}, ["k8s"])
    current = [entry("k8s/a", "same\n"), entry("k8s/b", "old\n"), entry("k8s/c", "exec\n", "100755"),
               entry("k8s/gone", "x\n"), entry("README", "not ours\n")]  # fmt: skip
    assert [(c.path, c.action) for c in tree.changes(current)] == [
        ("k8s/b", "modified"), ("k8s/c", "modified"), ("k8s/d", "added"), ("k8s/gone", "deleted"),
    ]  # fmt: skip
    assert not ManagedTree({"k8s/a": "same\n"}, ["k8s"]).changes([entry("k8s/a", "same\n"), entry("x", "y")])


def test_a_file_outside_the_prefixes_or_in_the_way_is_refused() -> None:
    with pytest.raises(InputError, match="outside the managed paths"):
        ManagedTree({"README.md": "x"}, ["k8s"])
    with pytest.raises(InputError, match="also the folder"):
        ManagedTree({"k8s/a": "x", "k8s/a/b": "y"}, ["k8s"])
    with pytest.raises(InputError, match="unmanaged file"):
        ManagedTree({"k8s/apps/x": "x"}, ["k8s/apps"]).changes([entry("k8s", "a file named like the folder\n")])


def test_the_diff_is_unified_with_gits_headers() -> None:
    tree = ManagedTree({"k8s/a": "one\ntwo\n", "k8s/new": "n"}, ["k8s"])
    changes = tree.changes([entry("k8s/a", "one\n"), entry("k8s/old", "o\n")])
    text = unified_diff(changes, tree, {"k8s/a": "one\n", "k8s/old": "o\n"})
    assert text == (
        "--- a/k8s/a\n+++ b/k8s/a\n@@ -1 +1,2 @@\n one\n+two\n"
        "--- /dev/null\n+++ b/k8s/new\n@@ -0,0 +1 @@\n+n\n\\ No newline at end of file\n"
        "--- a/k8s/old\n+++ /dev/null\n@@ -1 +0,0 @@\n-o\n"
    )


def test_the_commit_message_lists_the_changes() -> None:
    tree = ManagedTree({"k8s/a": "x"}, ["k8s"])
    assert commit_message("Sync\n", tree.changes([])) == "Sync\n\nadded: k8s/a\n"
    assert commit_message("Sync", tree.changes([entry("k8s/b", "b")])) == "Sync\n\nadded: k8s/a\ndeleted: k8s/b\n"


@pytest.mark.parametrize(
    "url", ["ssh://git@git.example.org:2222/infra/c.git", "git@git.example.org:infra/c.git", "file:///srv/c.git"]
)
def test_repository_urls_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["-oProxyCommand=x:y", "ext::sh -c x", "git.example.org/c.git", "ftp://h/c.git"])
def test_repository_urls_refused(url: str) -> None:
    with pytest.raises(InputError):
        check_url(url)


def test_a_password_never_shows() -> None:
    assert shown_url("https://bob:pw@h.example.org:8443/c.git") == "https://bob@h.example.org:8443/c.git"
    assert shown_url("ssh://git@h/c.git") == "ssh://git@h/c.git"


@pytest.mark.parametrize("branch", ["-f", "a..b", "a b", "/main", "main.lock", "a//b", ".hidden", "x~1"])
def test_branch_names_refused(branch: str) -> None:
    with pytest.raises(InputError):
        check_branch(branch)
    assert check_branch("clusters/prod-1.2") == "clusters/prod-1.2"
