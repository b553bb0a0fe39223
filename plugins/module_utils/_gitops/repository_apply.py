# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The gitops_repository module's work: fetch, compare the managed files, commit on the fetched revision, push.

The commit is written straight into the bare clone's objects (``git fast-import``), parented on the revision just
fetched, so files nobody manages are carried over as they are and no work tree can be left half-changed. Before it
is pushed it is kept on ``refs/talosforge/pending/<branch>``: a run killed between commit and push leaves it there,
and the next run pushes that very commit when it still sits on the remote's revision and holds what is wanted
(exactly one commit reaches the remote). The push carries a lease on the fetched revision: if someone pushed in
between, nothing is overwritten, the commit stays on the pending ref, and the error names both revisions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import (
    Git,
    GitError,
    Runner,
    check_branch,
    check_url,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.tree_plan import (
    DELETED,
    Change,
    ManagedTree,
    fast_import_stream,
    parse_ls_tree,
    unified_diff,
)


def auth_from_params(params: Mapping[str, Any], work: str) -> dict[str, Any]:
    """The credentials and host keys git is given; a ``known_hosts`` text is written 0600 into the work folder."""
    if params.get("ssh_key_file") and params.get("token"):
        raise InputError("give either ssh_key_file (SSH) or token (HTTPS), not both")
    auth: dict[str, Any] = {key: params.get(key) for key in ("token", "username", "http_auth", "ca_file")}
    if params.get("ssh_key_file"):
        key_file = os.path.abspath(os.path.expanduser(params["ssh_key_file"]))
        if not os.path.isfile(key_file):
            raise InputError(f"ssh_key_file {key_file}: no such file")
        auth["key_file"] = key_file
    known_hosts = params.get("known_hosts")
    auth["known_hosts_file"] = os.path.join(work, "known_hosts.given" if known_hosts else "known_hosts")
    auth["known_hosts_given"] = bool(known_hosts)
    if known_hosts:
        text = known_hosts if known_hosts.endswith("\n") else known_hosts + "\n"
        try:
            with open(auth["known_hosts_file"], encoding="utf-8") as handle:
                same = handle.read() == text
        except OSError:
            same = False
        if not same:
            handle_fd, temporary = scratch.scratch_file(work, "known-hosts")
            with os.fdopen(handle_fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, auth["known_hosts_file"])
    return auth


def run(params: Mapping[str, Any], check_mode: bool, diff: bool, runner: Runner) -> dict[str, Any]:
    """The module's result: changed, revision, previous_revision, commit, changes (and diff)."""
    tree = ManagedTree(params.get("files") or {}, params.get("managed_paths") or [], params.get("scaffold") or {})
    if not tree.files and not tree.prefixes and not tree.scaffold:
        raise InputError("nothing to manage: give files, managed_paths, scaffold, or some of them")
    check_url(params["url"])
    check_branch(params["branch"])
    work = scratch.private_folder(params["work_dir"])
    os.chmod(work, 0o700)
    git = Git(work, params["url"], params["branch"], runner, auth_from_params(params, work),
              params.get("git_binary") or "git", int(params.get("timeout") or 60))  # fmt: skip
    git.init()
    refs = git.fetch()
    remote, pending = refs.get(git.remote_ref), refs.get(git.pending_ref)
    changes = tree.changes(parse_ls_tree(git.ls_tree(remote)))
    listed = [{"path": change.path, "action": change.action} for change in changes]
    result: dict[str, Any] = {"changed": bool(changes), "revision": remote, "previous_revision": remote,
                              "commit": None, "changes": listed}  # fmt: skip
    if diff:
        result["diff"] = {"prepared": diff_text(git, tree, changes)}
    if not changes:
        if pending and not check_mode:
            git.set_ref(git.pending_ref, None)  # pushed by a run killed before it could clear it, or obsolete
        result["commands"] = list(git.commands)
        return result
    if check_mode:
        result["commands"] = list(git.commands)
        return result
    commit = reusable_pending(git, tree, pending, remote)
    if commit is None:
        author = f"{params.get('author_name') or 'talosforge'} <{params.get('author_email') or 'talosforge@localhost'}>"
        stream = fast_import_stream(git.pending_ref, remote, tree, changes, author, params.get("commit_message") or "")
        commit = git.fast_import(stream)
    push(git, commit, remote)
    git.set_ref(git.remote_ref, commit)
    git.set_ref(git.pending_ref, None)
    result.update(revision=commit, commit=commit, commands=list(git.commands))
    return result


def reusable_pending(git: Git, tree: ManagedTree, pending: str | None, remote: str | None) -> str | None:
    """The pending commit of a run that did not push it, when it sits on ``remote`` and holds the wanted files."""
    if not pending or git.parent(pending) != remote:
        return None
    return pending if tree.holds(parse_ls_tree(git.ls_tree(pending))) else None


def push(git: Git, commit: str, remote: str | None) -> None:
    """Push with a lease on ``remote``; when the branch moved on meanwhile, fail naming both revisions."""
    try:
        git.push(commit, remote)
    except GitError as exc:
        if exc.code == "auth_refused":
            raise
        try:
            now = git.fetch().get(git.remote_ref)
        except GitError:
            raise exc from None
        if now == remote:
            raise
        moved = GitError(
            f"the branch {git.branch} of repository {git.shown} moved on since it was fetched: it was at "
            f"{remote or '(no branch)'}, it is now at {now or '(deleted)'} (someone pushed meanwhile). Nothing was "
            f"pushed and nothing was overwritten; the commit {commit} of this run is kept on {git.pending_ref} in "
            f"{git.gitdir}. Re-run to commit the managed files on top of {now or 'the new branch'}.",
            git.shown,
            None,
            exc.details.get("rc"),
            exc.details.get("stderr") or "",
            "remote_moved",
        )
        moved.request = exc.request
        raise moved from None


def diff_text(git: Git, tree: ManagedTree, changes: list[Change]) -> str:
    """The unified diff of the changed managed files (their old text read in one command)."""
    old = {change.path: change.old.oid for change in changes if change.old is not None and change.old.kind == "blob"}
    texts = git.blobs(sorted(set(old.values())))
    before = {path: texts.get(oid, "") for path, oid in old.items()}
    for change in changes:
        if change.action == DELETED and change.old is not None and change.old.kind != "blob":
            before[change.path] = f"({change.old.kind} {change.old.oid})\n"
    return unified_diff(changes, tree, before)
