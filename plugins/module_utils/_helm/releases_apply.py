# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The helm_releases run: read everything, decide, check the values of every release to change, then act in order.

Reads first: one ``helm list`` for all the releases, then ``helm get values`` of each existing release in parallel.
A release that needs no change costs nothing more. Every release to install or upgrade is rendered with
``helm template`` (in parallel) before the first write, so that values a chart's schema refuses stop the run with
nothing installed. Then ``helm upgrade --install`` runs one release at a time in the order given (the CNI first),
and the values file of each is written once helm has accepted it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure, item_failure
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.helm import Helm, HelmError, Runner, helm_words
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_plan import (
    DRIFTED,
    INSTALLED,
    UNCHANGED,
    Decision,
    Release,
    decide,
    releases_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.values import (
    MASK,
    looks_secret,
    mask_text,
    masked,
    secret_strings,
    to_yaml,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.values_files import ValuesFiles
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count

# What helm says when a chart refuses values (its values.schema.json, or a `fail` in a template).
_REFUSALS = ("values don't meet the specifications of the schema", "execution error at", "validation:")


def run(params: dict[str, Any], check_mode: bool, runner: Runner, warn: Callable[[str], None]) -> dict[str, Any]:
    """The module's work; the result (changed, releases, values_files, commands, diff)."""
    releases = releases_from_params(params.get("releases") or [])
    workers = worker_count(params.get("parallel", 8))
    dry = check_mode or bool(params.get("check_only"))
    secrets = [text for release in releases for text in secret_strings(release.values)]
    files = ValuesFiles(params["values_dir"])
    home = tempfile.mkdtemp(prefix="talosforge-helm-")
    try:
        helm = Helm(binary=params.get("helm_binary") or "helm", kubeconfig=os.path.expanduser(params["kubeconfig"]),
                    home=home, runner=runner, mask=lambda text: mask_text(text, secrets))  # fmt: skip
        stale_after = int(params.get("wait_timeout") or 300)
        decisions = read_and_decide(helm, releases, files, workers, stale_after)
        blocked = [decision.blocked for decision in decisions if decision.blocked]
        if blocked and not params.get("check_only"):
            raise HelmError("Nothing was installed: " + "; ".join(blocked), code="in_progress")
        for reason in blocked:  # check_only installs nothing: a release another helm run holds is only not checked
            warn(f"not checked: {reason}")
        for decision in decisions:
            if decision.action == DRIFTED:
                warn(f"helm release {decision.release.key}: {decision.reason}; "
                     + ("it would be put back (check mode)" if dry else "putting it back"))  # fmt: skip
            elif decision.status and decision.status != "deployed":
                warn(
                    f"helm release {decision.release.key}: {decision.reason}"
                    + (" (check mode: not done)" if dry else "")
                )
        acting = [decision for decision in decisions if decision.acts]
        check_values(helm, acting, workers)
        result = base_result(decisions, files)
        if not dry:
            act(helm, decisions, files, params, result)
        result["changed"] = bool(acting) or bool(result["values_files_written"]) or (
            dry and any(files.needs_write(d.release) for d in decisions))  # fmt: skip
        result["commands"] = [" ".join(call) for call in helm.calls]
        result["diff"] = [diff_entry(decision) for decision in acting]
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def read_and_decide(
    helm: Helm, releases: list[Release], files: ValuesFiles, workers: int, stale_after: float = 300
) -> list[Decision]:
    """One ``helm list``, the values of the existing releases in parallel, and a Decision per release."""
    if not releases:
        return []
    listed = {
        (item.get("namespace"), item.get("name")): item for item in helm.list_releases([r.name for r in releases])
    }
    present = [release for release in releases if (release.namespace, release.name) in listed]
    answers = in_parallel(present, workers, None, lambda _c, r: helm.get_values(r.name, r.namespace), (HelmError,),
                          "helm")  # fmt: skip
    errors = [error for _value, error in answers if error is not None]
    if errors:
        raise HelmError("; ".join(str(error) for error in errors))
    now = time.time()
    live_values = {release.key: value for release, (value, _error) in zip(present, answers, strict=True)}
    return [
        decide(
            release,
            listed.get((release.namespace, release.name)),
            live_values.get(release.key),
            files.read(release),
            now,
            stale_after,
        )  # fmt: skip
        for release in releases
    ]


def check_values(helm: Helm, acting: list[Decision], workers: int) -> None:
    """``helm template`` every release to change; InputError-like HelmError naming all refusals, nothing installed."""
    if not acting:
        return
    answers = in_parallel(
        acting, workers, None,
        lambda _c, d: helm.template(d.release.name, d.release.namespace, d.release.chart, d.release.values_yaml()),
        (HelmError,), "helm",
    )  # fmt: skip
    refused = [(d, error) for d, (_v, error) in zip(acting, answers, strict=True) if isinstance(error, HelmError)]
    if not refused:
        return
    values = [(d, e) for d, e in refused if any(word in e.stderr for word in _REFUSALS)]
    other = [(d, e) for d, e in refused if (d, e) not in values]
    parts = []
    if values:
        parts.append("the chart(s) refused the values of " + "; ".join(
            f"{d.release.name}: {helm.mask(helm_words(e.stderr))}" for d, e in values))  # fmt: skip
    if other:
        parts.append("helm template failed for " + "; ".join(
            f"{d.release.name}: {helm.mask(helm_words(e.stderr) or str(e))}" for d, e in other))  # fmt: skip
    first = refused[0][1]
    raise HelmError("Nothing was installed: " + "; ".join(parts), rc=first.details.get("rc"), stderr=first.stderr,
                    release=refused[0][0].release.key, code="values_refused" if values else "helm")  # fmt: skip


def act(helm: Helm, decisions: list[Decision], files: ValuesFiles, params: dict[str, Any], result: dict) -> None:
    """Install or upgrade, one release at a time in the given order; write each values file once helm took it."""
    timeout = int(params.get("wait_timeout") or 300)
    rows = {row["namespace"] + "/" + row["name"]: row for row in result["releases"]}
    for index, decision in enumerate(decisions):
        release = decision.release
        if decision.acts:
            try:
                if decision.recovery == "rollback":
                    helm.rollback(release.name, release.namespace, timeout)
                elif decision.recovery == "uninstall":
                    helm.uninstall(release.name, release.namespace, timeout)
                answer = helm.upgrade(release.name, release.namespace, release.chart, release.values_yaml(),
                                      release.create_namespace, release.wait, timeout)  # fmt: skip
            except HelmError as exc:
                done = [d.release.key for d in decisions[:index] if d.acts]
                left = [d.release.key for d in decisions[index + 1 :] if d.acts]
                result["changed"] = bool(done) or bool(result["values_files_written"])
                message = (f"{exc} (done before it: {', '.join(done) or 'none'}; not attempted: "
                           f"{', '.join(left) or 'none'})")  # fmt: skip
                raise PartialFailure(message, result, [item_failure(release.key, exc)]) from exc
            rows[release.key]["revision"] = answer.get("version", rows[release.key]["revision"])
        if files.needs_write(release):
            result["values_files_written"].append(files.write(release))


def base_result(decisions: list[Decision], files: ValuesFiles) -> dict[str, Any]:
    return {
        "changed": False,
        "releases": [
            {
                "name": d.release.name,
                "namespace": d.release.namespace,
                "chart": d.release.chart_name,
                "version": d.release.chart.version,
                "action": d.action,
                "reason": d.reason,
                "changed_keys": d.keys if d.action != UNCHANGED else [],
                "revision": d.revision,
                "values_file": files.path(d.release),
            }
            for d in decisions
        ],
        "values_files_written": [],
    }


def diff_entry(decision: Decision) -> dict[str, str]:
    """One Ansible diff: the release's values before (live) and after (wanted), secret-looking values masked."""
    release = decision.release
    before = "" if decision.action == INSTALLED else to_yaml(masked(decision.before))
    after = to_yaml(masked_after(release.values, decision.before or {}))
    chart_before = decision.live_chart or "not installed"
    return {
        "before_header": f"helm release {release.key} ({chart_before}) values",
        "after_header": f"helm release {release.key} ({release.chart_name}-{release.chart.version}) values",
        "before": before,
        "after": after,
    }


def masked_after(after: Any, before: Any, hide: bool = False) -> Any:
    """Like ``masked(after)``, but a hidden value that differs from ``before`` shows as changed."""
    if isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        return {key: masked_after(value, old.get(key), hide or looks_secret(key)) for key, value in after.items()}
    if isinstance(after, list):
        old_list = before if isinstance(before, list) else []
        return [masked_after(value, old_list[i] if i < len(old_list) else None, hide) for i, value in enumerate(after)]
    if hide and after is not None and not isinstance(after, bool):
        return MASK if after == before else MASK + " (changed)"
    return after
