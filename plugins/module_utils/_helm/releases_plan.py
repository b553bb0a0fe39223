# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What to do with each release: install, upgrade, put back after a hand-made change, or nothing.

Pure: ``decide`` compares one wanted release with what ``helm list`` and ``helm get values`` said about it and with
the values file the last run wrote. A deployed release with the wanted chart and values is left alone. When its
values or chart differ while the values file still holds exactly what is wanted (the last run installed these),
someone changed the release by hand: that is drift, reported and put back. Otherwise the difference is ours (new
values, a chart upgrade) and the release is upgraded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.values import changed_keys, normal, to_yaml

INSTALLED, UPGRADED, UNCHANGED, DRIFTED = "installed", "upgraded", "unchanged", "drifted"
# What a helm run that was interrupted leaves (the release locked in a pending status), and what clears it so that
# the release can be installed again: an install that never finished is removed, an upgrade or rollback rolled back.
RECOVERIES = {"pending-install": "uninstall", "uninstalling": "uninstall", "pending-upgrade": "rollback",
              "pending-rollback": "rollback"}  # fmt: skip
_UPDATED = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? ([+-]\d{4})")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class Chart:
    """Where a chart comes from: a repository URL and the chart's name in it, or an ``oci://`` reference."""

    chart: str
    version: str
    repo: str | None = None

    def args(self) -> list[str]:
        """The chart and its source, as ``helm template``/``helm upgrade`` take them after the release name."""
        source = ["--repo", self.repo] if self.repo else []
        return [self.chart, *source, "--version", self.version]


@dataclass
class Release:
    """One wanted release, as the task gives it."""

    name: str
    namespace: str
    chart: Chart
    values: Any
    create_namespace: bool = True
    wait: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def chart_name(self) -> str:
        """The chart's own name (for an ``oci://`` reference, its last path segment)."""
        return self.chart.chart.rstrip("/").rsplit("/", 1)[-1]

    def values_yaml(self) -> str:
        return to_yaml(self.values)

    def file_text(self) -> str:
        """The values file: a comment naming the release and its chart, then the values (what GitOps reuses)."""
        source = self.chart.repo or self.chart.chart
        header = f"# {self.key}: chart {self.chart_name} {self.chart.version} from {source} (talosforge.cluster)\n"
        return header + self.values_yaml()


@dataclass
class Decision:
    """What the run does with one release, and why."""

    release: Release
    action: str
    reason: str = ""
    keys: list[str] = field(default_factory=list)
    before: Any = None
    revision: int | None = None
    status: str | None = None
    live_chart: str | None = None
    recovery: str | None = None  # "uninstall" or "rollback" before installing again (RECOVERIES)
    blocked: str | None = None  # why the release cannot be touched now (another helm run holds it)

    @property
    def acts(self) -> bool:
        return self.action != UNCHANGED


def releases_from_params(items: list[dict[str, Any]]) -> list[Release]:
    """The ``releases`` option as Release objects; InputError naming every bad entry (nothing is run before)."""
    errors: list[str] = []
    releases: list[Release] = []
    seen: set[str] = set()
    for index, item in enumerate(items or []):
        where = f"releases[{index}]"
        name, namespace = item.get("name") or "", item.get("namespace") or ""
        chart, repo, version = item.get("chart") or "", item.get("repo") or None, str(item.get("version") or "")
        if not _DNS_LABEL.match(name) or len(name) > 53:
            errors.append(f"{where}: name {name!r} must be a DNS label of at most 53 characters (helm's rule)")
        if not _DNS_LABEL.match(namespace):
            errors.append(f"{where} ({name}): namespace {namespace!r} must be a DNS label")
        if not chart:
            errors.append(f"{where} ({name}): chart is required")
        elif chart.startswith("oci://"):
            if repo:
                errors.append(f"{where} ({name}): an oci:// chart takes no repo")
        elif not repo or not re.match(r"^(https?|oci)://", repo):
            errors.append(f"{where} ({name}): repo must be the chart repository's URL (http(s)://...), or chart an "
                          "oci:// reference")  # fmt: skip
        if not version:
            errors.append(f"{where} ({name}): version is required (charts are pinned)")
        values = item.get("values")
        if values is not None and not isinstance(values, dict):
            errors.append(f"{where} ({name}): values must be a mapping")
        key = f"{namespace}/{name}"
        if key in seen:
            errors.append(f"{where}: release {key} is listed twice")
        seen.add(key)
        releases.append(Release(
            name=name, namespace=namespace, chart=Chart(chart=chart, version=version, repo=repo),
            values=normal(values), create_namespace=bool(item.get("create_namespace", True)),
            wait=bool(item.get("wait", False)),
        ))  # fmt: skip
    files = [f"{release.namespace}-{release.name}" for release in releases]
    for file in sorted({file for file in files if files.count(file) > 1}):
        errors.append(f"two releases would share the values file {file}.yaml (<namespace>-<name>.yaml)")
    if errors:
        raise InputError("; ".join(errors))
    return releases


def chart_matches(live_chart: str, name: str, version: str) -> bool:
    """Whether ``helm list``'s chart column (``<name>-<version>``) is this chart at this version (a leading v is
    not significant: cert-manager's chart version is v1.19.1, ``--version 1.19.1`` finds it)."""
    wanted = version[1:] if version.startswith("v") else version
    for candidate in (wanted, "v" + wanted):
        if live_chart == f"{name}-{candidate}":
            return True
    return False


def decide(
    release: Release,
    live: dict[str, Any] | None,
    live_values: Any,
    file_text: str | None,
    now: float | None = None,
    stale_after: float = 300,
) -> Decision:
    """The Decision for ``release`` given its ``helm list`` entry (None: not installed), its values and the text
    of its values file (None: no file). A release pending for ``stale_after`` seconds or more at ``now`` (epoch
    seconds) was left by an interrupted helm run; a younger one is another helm run at work: ``blocked``."""
    if live is None:
        return Decision(release, INSTALLED, "not installed", keys=changed_keys({}, release.values), before=None)
    before = normal(live_values)
    status = str(live.get("status") or "")
    chart = str(live.get("chart") or "")
    decision = Decision(release, UNCHANGED, before=before, revision=_int(live.get("revision")), status=status,
                        live_chart=chart, keys=changed_keys(before, release.values))  # fmt: skip
    wanted_chart = f"{release.chart_name} {release.chart.version}"
    if status in RECOVERIES:
        return _pending(decision, live, now, stale_after)
    if status != "deployed":
        decision.action = UPGRADED
        decision.reason = f"status {status or 'unknown'} (a failed or interrupted helm run): upgraded again"
        return decision
    chart_ok = chart_matches(chart, release.chart_name, release.chart.version)
    if chart_ok and not decision.keys:
        return decision
    what = []
    if not chart_ok:
        what.append(f"chart {chart} instead of {wanted_chart}")
    if decision.keys:
        what.append("values differ at " + ", ".join(decision.keys))
    if file_text is not None and file_text == release.file_text():
        decision.action = DRIFTED
        decision.reason = "DRIFT (changed outside this collection, e.g. by hand with helm): " + "; ".join(what)
    else:
        decision.action = UPGRADED
        decision.reason = "; ".join(what)
    return decision


def _pending(decision: Decision, live: dict[str, Any], now: float | None, stale_after: float) -> Decision:
    status, updated = str(decision.status), live.get("updated")
    recovery = RECOVERIES[status]
    decision.recovery = recovery
    decision.action = INSTALLED if recovery == "uninstall" else UPGRADED
    since = updated_epoch(updated)
    age = None if since is None or now is None else now - since
    if age is None or age < stale_after:
        started = f"{age:.0f} s ago" if age is not None else f"at {updated}"
        decision.blocked = (
            f"{decision.release.key}: another helm operation holds the release (status {status}, started {started}); "
            f"wait for it to end, or re-run when it is {stale_after:.0f} s old (wait_timeout): it is then taken as "
            f"interrupted and {'removed' if recovery == 'uninstall' else 'rolled back'}"
        )
        return decision
    what = "removed and installed again" if recovery == "uninstall" else "rolled back, then upgraded"
    decision.reason = f"status {status} for {age:.0f} s (an interrupted helm run): {what}"
    return decision


def updated_epoch(text: Any) -> float | None:
    """``helm list``'s ``updated`` (``2026-12-07 21:03:31.135431322 +0000 UTC``) in epoch seconds; None if not so."""
    match = _UPDATED.match(str(text or ""))
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    stamp = datetime.strptime(f"{day} {clock} {offset}", "%Y-%m-%d %H:%M:%S %z")
    return stamp.timestamp() + float("0." + (fraction or "0"))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
