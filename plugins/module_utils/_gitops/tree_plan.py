# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The managed files of a repository as data, pure: which paths are ours, what changes, the commit and the diff.

A repository's tree is read as ``Entry`` rows (``git ls-tree -r``). The files a caller wants are a mapping of path
to text; ``managed_paths`` are the prefixes (folders or files) the caller owns. A file of the tree under a managed
path that is not wanted is deleted; a file outside every managed path is never looked at, except a ``scaffold`` file:
written once when the branch does not have it, then left to its owner. Files are compared by
their blob id, computed here the way git does (``blob <size>\\0<bytes>``), so an unchanged tree costs no read of
any file's content.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

FILE_MODE = "100644"
ADDED, MODIFIED, DELETED = "added", "modified", "deleted"


@dataclass(frozen=True)
class Entry:
    """One row of ``git ls-tree -r``: a file (or link, or submodule) of a tree."""

    mode: str
    kind: str
    oid: str
    path: str


@dataclass(frozen=True)
class Change:
    path: str
    action: str
    old: Entry | None = None


def clean_path(path: str, what: str) -> str:
    """A repository-relative path with ``/`` separators, refused when it could leave the tree or touch ``.git``."""
    if not isinstance(path, str) or not path.strip("/"):
        raise InputError(f"{what} {path!r}: an empty path")
    if path.startswith("/") or "\\" in path:
        raise InputError(f"{what} {path!r}: give a path relative to the repository's root, with / separators")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts) or any(part.lower() == ".git" for part in parts):
        raise InputError(f"{what} {path!r}: '.', '..' and '.git' are not allowed in a path")
    if any(ord(char) < 32 or char == '"' for char in path):
        raise InputError(f"{what} {path!r}: control characters and double quotes are not allowed in a path")
    return "/".join(parts)


def is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class ManagedTree:
    """The files wanted under the managed paths, and the scaffold: files written only where the branch has none."""

    def __init__(
        self, files: Mapping[str, str], managed_paths: Iterable[str], scaffold: Mapping[str, str] | None = None
    ):
        self.prefixes = sorted({clean_path(prefix, "managed path") for prefix in managed_paths})
        self.files = self._texts(files, "file")
        for path in self.files:
            if self.prefixes and not self.is_managed(path):
                raise InputError(f"file {path!r} is outside the managed paths ({', '.join(self.prefixes)})")
        self.scaffold = self._texts(scaffold or {}, "scaffold file")
        for path in self.scaffold:
            if path in self.files or any(is_under(path, prefix) for prefix in self.prefixes):
                raise InputError(f"scaffold file {path!r} is managed: a file is either managed or a scaffold file")
        every = [*self.files, *self.scaffold]
        for path in every:
            clash = next((other for other in every if other.startswith(path + "/")), None)
            if clash:
                raise InputError(f"file {path!r} is also the folder of file {clash!r}")

    @staticmethod
    def _texts(files: Mapping[str, str], what: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for raw, text in files.items():
            path = clean_path(raw, what)
            if not isinstance(text, str):
                raise InputError(f"{what} {raw!r}: its content must be text, not {type(text).__name__}")
            if path in found:
                raise InputError(f"{what} {raw!r} is given twice (under two spellings of its path)")
            found[path] = text.encode("utf-8")
        return found

    def data(self, path: str) -> bytes:
        """The bytes to write at ``path``, a managed or a scaffold file."""
        return self.files[path] if path in self.files else self.scaffold[path]

    def is_managed(self, path: str) -> bool:
        """A path under a managed prefix; without prefixes, only the wanted files themselves are managed."""
        if not self.prefixes:
            return path in self.files
        return any(is_under(path, prefix) for prefix in self.prefixes)

    def changes(self, tree: Iterable[Entry]) -> list[Change]:
        """What turns ``tree`` (all files of a revision) into the wanted one, by path."""
        tree = list(tree)
        current = {entry.path: entry for entry in tree if self.is_managed(entry.path)}
        found: list[Change] = []
        for path, data in self.files.items():
            entry = current.get(path)
            if entry is None:
                found.append(Change(path, ADDED))
            elif entry.mode != FILE_MODE or entry.oid != blob_id(data, len(entry.oid)):
                found.append(Change(path, MODIFIED, entry))
        for path, entry in current.items():
            if path not in self.files:
                found.append(Change(path, DELETED, entry))
        present = {entry.path for entry in tree}
        found += [Change(path, ADDED) for path in self.scaffold if not self._scaffold_present(path, present)]
        blocked = [
            entry.path
            for entry in tree
            if not self.is_managed(entry.path) and entry.path not in self.scaffold and self._shadows(entry.path)
        ]
        if blocked:
            raise InputError(f"wanted files would replace the unmanaged file(s) {', '.join(sorted(blocked))}")
        return sorted(found, key=lambda change: change.path)

    @staticmethod
    def _scaffold_present(path: str, present: set[str]) -> bool:
        """The branch has the file, or has a folder (or file) where it would go: either way, it is the owner's."""
        parents = path.split("/")
        return (
            path in present
            or any("/".join(parents[:i]) in present for i in range(1, len(parents)))
            or any(other.startswith(path + "/") for other in present)
        )

    def _shadows(self, path: str) -> bool:
        """An unmanaged file that a wanted file would need as a folder (or the reverse)."""
        return any(wanted.startswith(path + "/") or path.startswith(wanted + "/") for wanted in self.files)

    def holds(self, tree: Iterable[Entry]) -> bool:
        """Whether ``tree`` already holds exactly the wanted managed files."""
        return not self.changes(tree)


def blob_id(data: bytes, length: int = 40) -> str:
    """The id git gives a file holding ``data``: SHA-1 (40 hex digits) or SHA-256 (64) of its blob header and bytes."""
    digest = hashlib.sha256() if length == 64 else hashlib.sha1()  # nosec B324 - git's object id, not a security use
    digest.update(b"blob %d\0" % len(data) + data)
    return digest.hexdigest()


def parse_ls_tree(output: str) -> list[Entry]:
    """The rows of ``git ls-tree -r -z``: ``<mode> <type> <oid>\\t<path>`` separated by NUL."""
    entries = []
    for row in output.split("\0"):
        if not row:
            continue
        meta, path = row.split("\t", 1)
        mode, kind, oid = meta.split(" ")
        entries.append(Entry(mode, kind, oid, path))
    return entries


def commit_message(message: str, changes: list[Change]) -> str:
    """The caller's message, then one line per changed path."""
    body = "\n".join(f"{change.action}: {change.path}" for change in changes)
    return f"{message.rstrip()}\n\n{body}\n"


def fast_import_stream(ref: str, parent: str | None, tree: ManagedTree, changes: list[Change],
                       author: str, message: str, when: float | None = None) -> bytes:  # fmt: skip
    """The ``git fast-import`` input that writes one commit on ``ref``: ``parent`` plus ``changes``."""
    stamp = f"{author} {int(time.time() if when is None else when)} +0000"
    text = commit_message(message, changes).encode("utf-8")
    out = [f"commit {ref}\n".encode(), f"author {stamp}\ncommitter {stamp}\n".encode()]
    out.append(b"data %d\n" % len(text) + text + b"\n")
    if parent:
        out.append(f"from {parent}\n".encode())
    for change in sorted(changes, key=lambda change: change.action != DELETED):  # deletes first: a file may
        if change.action == DELETED:  # take the place of a deleted folder
            out.append(f"D {change.path}\n".encode())
        else:
            data = tree.data(change.path)
            out.append(f"M {FILE_MODE} inline {change.path}\n".encode() + b"data %d\n" % len(data) + data + b"\n")
    out.append(b"done\n")
    return b"".join(out)


def unified_diff(changes: list[Change], tree: ManagedTree, before: Mapping[str, str]) -> str:
    """One unified diff of every changed file, ``a/``/``b/`` headers as git writes them."""
    chunks = []
    for change in changes:
        old = before.get(change.path, "") if change.action != ADDED else ""
        new = tree.data(change.path).decode("utf-8") if change.action != DELETED else ""
        old_name = "/dev/null" if change.action == ADDED else f"a/{change.path}"
        new_name = "/dev/null" if change.action == DELETED else f"b/{change.path}"
        lines = difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name, lineterm="\n"
        )
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        chunks.append(text or f"--- {old_name}\n+++ {new_name}\n(mode only)\n")
    return "".join(chunks)
