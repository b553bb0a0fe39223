"""Config diffs as a Talos node shows them, and whether a change applies without a reboot."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from . import canonical, yamlio

# The v1alpha1 fields Talos applies in place (everything else in that document needs a reboot); other document
# kinds are always applied in place.
_IMMEDIATE_MACHINE = (
    "ca",
    "acceptedCAs",
    "time",
    "certSANs",
    "install",
    "network",
    "sysfs",
    "sysctls",
    "logging",
    "controlPlane",
    "kubelet",
    "kernel",
    "registries",
    "pods",
    "seccompProfiles",
    "nodeAnnotations",
    "nodeLabels",
    "nodeTaints",
)
_IMMEDIATE_FEATURES = ("kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm")


def diff(old: str, new: str) -> str:
    """A unified diff with Talos' ``--- a`` / ``+++ b`` header; empty when the texts are equal."""
    if old == new:
        return ""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), "a", "b", n=3)
    text = ""
    for line in lines:
        text += line if line.endswith("\n") else line + "\n"
    return text


def _v1alpha1(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((document for document in documents if "kind" not in document), None)


def immediate_problem(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> str | None:
    """None when ``new`` can replace ``current`` in place, else Talos' explanation with the offending diff."""
    old_config, new_config = _v1alpha1(current), _v1alpha1(new)
    if old_config is None:
        return "current config is not v1alpha1"
    if new_config is None:
        return "new config is not v1alpha1"
    candidate = copy.deepcopy(new_config)
    for key in ("debug", "cluster"):
        _copy(old_config, candidate, key)
    old_machine, new_machine = old_config.get("machine"), candidate.get("machine")
    if isinstance(old_machine, dict) and isinstance(new_machine, dict):
        for key in _IMMEDIATE_MACHINE:
            _copy(old_machine, new_machine, key)
        old_features, new_features = old_machine.get("features"), new_machine.get("features")
        if isinstance(old_features, dict) and isinstance(new_features, dict):
            for key in _IMMEDIATE_FEATURES:
                _copy(old_features, new_features, key)
    old_text, new_text = yamlio.dump(canonical.document(old_config)), yamlio.dump(canonical.document(candidate))
    if old_text == new_text:
        return None
    return "this config change can't be applied in immediate mode\ndiff:\n" + diff(old_text, new_text)


def _copy(source: dict[str, Any], target: dict[str, Any], key: str) -> None:
    if key in source:
        target[key] = copy.deepcopy(source[key])
    else:
        target.pop(key, None)
