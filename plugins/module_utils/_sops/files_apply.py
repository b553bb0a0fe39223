# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The sops_files module's work: keep Secrets encrypted with sops for age in a folder, rewritten only when needed.

sops encrypts with a fresh data key and fresh IVs every time, so encrypting an unchanged Secret again gives other
bytes (and a new commit). Each file already in dest is decrypted with the age identity instead and compared, as
data, with the Secret wanted, and its sops metadata with the recipients and encrypted_regex wanted: when both agree,
its ciphertext is kept byte for byte. Everything is decided (decrypted, compared, encrypted, in parallel) before
the first file is written, so a wrong input or a failing sops leaves dest as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count
from ansible_collections.talosforge.cluster.plugins.module_utils._sops.secret_files import (
    DEFAULT_REGEX,
    HAS_YAML,
    SCRATCH_PREFIX,
    SopsInputError,
    WantedFile,
    age_recipients_of,
    all_encrypted,
    changed_keys,
    check_recipients,
    check_regex,
    identity_of,
    leaves,
    load_one,
    metadata_differs,
    normal,
    same,
    scrub,
    shown,
    sops_metadata,
    wanted_files,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._sops.sops import Runner, Sops, SopsError

FILE_MODE, DIR_MODE = 0o600, 0o700


@dataclass
class Outcome:
    """What one listed file needs: ``action`` is unchanged, mode, created, updated, rekeyed or replaced."""

    path: str
    action: str
    ciphertext: str
    diff: dict[str, str] | None = None
    warning: str | None = None


class Job:
    """The settings every file shares."""

    def __init__(self, dest: str, sops: Sops, identity: str, recipients: list[str], regex: str, diff: bool):
        self.dest, self.sops, self.identity, self.recipients, self.regex, self.diff = (
            dest, sops, identity, recipients, regex, diff)  # fmt: skip

    def target(self, path: str) -> str:
        """The file's place in dest; refused when a link in dest would lead it outside."""
        full = os.path.join(self.dest, *path.split("/"))
        real_dest = os.path.realpath(self.dest)
        real = os.path.realpath(full)
        if os.path.commonpath([real_dest, real]) != real_dest:
            raise SopsInputError(f"path {path!r} leads outside dest through a link ({real})")
        if os.path.isdir(full):
            raise SopsInputError(f"path {path!r} is a folder in dest")
        return full

    def settle(self, wanted: WantedFile) -> Outcome:
        """Decide one file: keep its ciphertext when it holds the wanted Secret for the wanted recipients."""
        full = self.target(wanted.path)
        try:
            with open(full, "rb") as handle:
                current = handle.read()
        except FileNotFoundError:
            return self._encrypt(wanted, "created", None, "")
        except OSError as exc:
            raise SopsInputError(f"path {wanted.path!r}: cannot read {full}: {exc.strerror}") from None
        text = current.decode("utf-8", errors="replace")
        meta = sops_metadata(text)
        if meta is None:
            warning = f"{wanted.path} in dest is not a SOPS-encrypted file; it is replaced by the Secret encrypted"
            return self._encrypt(wanted, "replaced", None, "<not a SOPS file>\n", warning)
        rc, plaintext, why = self.sops.decrypt(current, self.identity, wanted.path)
        if rc != 0:
            holders = ", ".join(age_recipients_of(meta)) or "no age recipient"
            warning = (f"{wanted.path} in dest could not be decrypted with age_key (it is encrypted for {holders}; "
                       f"sops exit {rc}: {why}); it is encrypted anew for age_recipients")  # fmt: skip
            return self._encrypt(wanted, "replaced", None, f"<encrypted for {holders}, not readable with age_key>\n",
                                 warning)  # fmt: skip
        try:
            before = normal(load_one(plaintext, wanted.path))
        except SopsInputError:
            before = None
        keys_differ = before is None or not same(before, wanted.data)
        why_meta = metadata_differs(meta, self.recipients, self.regex)
        if keys_differ or why_meta or not all_encrypted(text):
            action = "updated" if keys_differ else "rekeyed"
            shown_before = shown(before, self.regex) if before is not None else "<encrypted>\n"
            return self._encrypt(wanted, action, before, f"recipients: {', '.join(age_recipients_of(meta))}\n"
                                 + shown_before)  # fmt: skip
        mode_ok = os.stat(full).st_mode & 0o777 == FILE_MODE
        return Outcome(wanted.path, "unchanged" if mode_ok else "mode", text)

    def _encrypt(self, wanted: WantedFile, action: str, before: Any, before_text: str,
                 warning: str | None = None) -> Outcome:  # fmt: skip
        ciphertext = self.sops.encrypt(wanted.text, self.recipients, self.regex, wanted.path, wanted.secrets)
        if not all_encrypted(ciphertext):
            raise SopsError(f"sops left a value of {wanted.path} unencrypted; nothing was written", wanted.path,
                            [self.sops.binary, "--encrypt"])  # fmt: skip
        outcome = Outcome(wanted.path, action, ciphertext, warning=warning)
        if self.diff:
            if before is None:
                summary = f"<encrypted, {action}, {len(leaves(wanted.data))} keys>"
            else:
                summary = f"<encrypted, {action}, {len(changed_keys(before, wanted.data))} keys changed>"
            after = f"recipients: {', '.join(sorted(self.recipients))}\n" + shown(wanted.data, self.regex, before)
            outcome.diff = {"before_header": wanted.path, "after_header": f"{wanted.path} {summary}",
                            "before": before_text, "after": after}  # fmt: skip
        return outcome


def run(params: Mapping[str, Any], check_mode: bool, diff: bool, runner: Runner) -> dict[str, Any]:
    """The module's result: changed, files, changed_paths (and diff, warnings)."""
    if not HAS_YAML:
        raise SopsInputError("PyYAML is required (it comes with ansible-core)")
    regex = check_regex(params.get("encrypted_regex") or DEFAULT_REGEX)
    wanted = wanted_files(params.get("files") or [], regex)
    recipients = check_recipients(params.get("age_recipients") or [])
    identity, own = identity_of(params.get("age_key"))
    if own not in recipients:
        raise SopsInputError(f"age_key is the identity of {own}, which is not among age_recipients: the files written "
                             "could not be decrypted on the next run, and every run would encrypt them anew. Add "
                             f"{own} to age_recipients or give the key of one of them")  # fmt: skip
    workers = worker_count(params.get("parallel", 8), SopsInputError)
    sops = Sops(params["sops_binary"], runner)
    sops.check()
    dest = os.path.abspath(os.path.expanduser(params["dest"]))
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise SopsInputError(f"dest {dest} is not a folder")
    job = Job(dest, sops, identity, recipients, regex, diff)
    outcomes = _settle_all(job, wanted, workers)
    listed = {outcome.path for outcome in outcomes}
    pruned = _prunable(dest, listed) if params.get("prune") else []
    changed_paths = sorted([outcome.path for outcome in outcomes if outcome.action != "unchanged"] + pruned)
    result: dict[str, Any] = {
        "changed": bool(changed_paths),
        "files": {outcome.path: outcome.ciphertext for outcome in outcomes},
        "changed_paths": changed_paths,
    }
    warnings = [outcome.warning for outcome in outcomes if outcome.warning]
    if warnings:
        secrets = [value for item in wanted for value in item.secrets] + [identity]
        result["warnings"] = [scrub(warning, secrets) for warning in warnings]
    if diff:
        result["diff"] = _diffs(outcomes, pruned)
    if not check_mode:
        _write(dest, outcomes, pruned)
    return result


def _settle_all(job: Job, wanted: list[WantedFile], workers: int) -> list[Outcome]:
    """Every file decided, in parallel; any failure fails the task before anything is written."""
    results = in_parallel(wanted, workers, None, lambda _client, item: job.settle(item), (SopsError, SopsInputError),
                          "sops")  # fmt: skip
    failed = [error for _result, error in results if error is not None]
    if len(failed) == 1:
        raise failed[0]
    if failed:
        first = failed[0]
        message = f"{len(failed)} of {len(wanted)} files failed; nothing was written: " + "; ".join(map(str, failed))
        if isinstance(first, SopsError):
            raise SopsError(message, None, [job.sops.binary], code=first.code or "sops") from None
        raise SopsInputError(message) from None
    return [outcome for outcome, _error in results]


def _prunable(dest: str, listed: set[str]) -> list[str]:
    """The files (and links) under dest that are not listed; the module's own scratch entries excepted."""
    found: list[str] = []
    for root, folders, names in os.walk(dest):
        folders[:] = sorted(folder for folder in folders if not folder.startswith(SCRATCH_PREFIX))
        for name in names:
            if name.startswith(SCRATCH_PREFIX):
                continue
            path = os.path.relpath(os.path.join(root, name), dest).replace(os.sep, "/")
            if path not in listed:
                found.append(path)
    for root, folders, _names in os.walk(dest):  # links to folders are not walked into, and are pruned too
        found += [os.path.relpath(os.path.join(root, folder), dest).replace(os.sep, "/")
                  for folder in folders if os.path.islink(os.path.join(root, folder))]  # fmt: skip
    return sorted(set(found))


def _diffs(outcomes: list[Outcome], pruned: list[str]) -> list[dict[str, str]]:
    found = [outcome.diff for outcome in outcomes if outcome.diff is not None]
    found += [{"before_header": outcome.path, "after_header": outcome.path, "before": "mode: <not 0600>\n",
               "after": "mode: 0600\n"} for outcome in outcomes if outcome.action == "mode"]  # fmt: skip
    found += [{"before_header": path, "after_header": f"{path} (pruned)", "before": "<encrypted>\n", "after": ""}
              for path in pruned]  # fmt: skip
    return sorted(found, key=lambda entry: entry["before_header"])


def _write(dest: str, outcomes: list[Outcome], pruned: list[str]) -> None:
    """Write the changed files atomically (0600, folders 0700), then remove the pruned ones."""
    scratch.private_folder(dest)
    os.chmod(dest, DIR_MODE)
    scratch.sweep(dest)
    for outcome in outcomes:
        full = os.path.join(dest, *outcome.path.split("/"))
        if outcome.action == "unchanged":
            continue
        if outcome.action == "mode":
            os.chmod(full, FILE_MODE)
            continue
        folder = os.path.dirname(full)
        os.makedirs(folder, mode=DIR_MODE, exist_ok=True)
        handle, temporary = scratch.scratch_file(folder, "sops", ".yaml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(outcome.ciphertext)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, full)
        except BaseException:
            scratch.remove(temporary)
            raise
    for path in pruned:
        full = os.path.join(dest, *path.split("/"))
        if os.path.islink(full) or not os.path.isdir(full):
            os.unlink(full)
        _remove_empty_folders(dest, os.path.dirname(full))


def _remove_empty_folders(dest: str, folder: str) -> None:
    while os.path.abspath(folder) != os.path.abspath(dest):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)
