# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Scratch files (decrypted bundles, rendered configs, temporary SSH keys): always inside a private folder (the
cluster's output folder), never in the system temp.

Every scratch name starts with ``PREFIX`` and holds the process id of the run that made it, so that a run that was
killed (and could not remove its decrypted bundle or its rendered configs) is recognised and swept by the next one:
``sweep`` removes what a process that no longer runs left there before the current run started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

PREFIX = ".talosforge-scratch-"
STARTED = time.time()  # when this process (one task) started: what is older than it and not ours is stale


def _own_prefix(kind: str) -> str:
    return f"{PREFIX}{os.getpid()}-{kind}-"


def private_folder(folder: str) -> str:
    """``folder`` as an absolute path, created 0700 when missing."""
    folder = os.path.abspath(os.path.expanduser(folder))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def scratch_dir(folder: str, kind: str) -> str:
    """A new 0700 folder inside ``folder`` for this run's scratch files; the caller removes it (``remove``)."""
    return tempfile.mkdtemp(prefix=_own_prefix(kind), dir=private_folder(folder))


def scratch_file(folder: str, kind: str, suffix: str = "") -> tuple[int, str]:
    """A new 0600 file inside ``folder``: (open descriptor, path); the caller removes it."""
    return tempfile.mkstemp(prefix=_own_prefix(kind), suffix=suffix, dir=private_folder(folder))


def remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        try:
            os.unlink(path)
        except OSError:
            pass


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def is_stale(name: str, mtime: float, started: float | None = None) -> bool:
    """Whether the scratch entry ``name`` was left by a run that is over: older than this run, its process gone."""
    if not name.startswith(PREFIX) or mtime >= (STARTED if started is None else started):
        return False
    pid = name[len(PREFIX) :].split("-", 1)[0]
    return not pid.isdigit() or not _running(int(pid))


def sweep(folder: str, started: float | None = None) -> list[str]:
    """Remove the stale scratch entries of ``folder`` (see ``is_stale``); return their paths."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    swept = []
    for name in sorted(names):
        path = os.path.join(folder, name)
        try:
            mtime = os.lstat(path).st_mtime
        except OSError:
            continue
        if is_stale(name, mtime, started):
            remove(path)
            swept.append(path)
    return swept
