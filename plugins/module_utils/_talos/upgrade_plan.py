# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The plan of a rolling Talos upgrade: which node goes when, which is skipped or waited for. Pure.

The nodes' states are read by ``node_module.node_state``; ``upgrade`` carries the plan out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    normalize_version,
    parse_installer_image,
    same_schematic,
)


@dataclass
class NodeState:
    """What was read from one node before an upgrade."""

    name: str
    address: str
    role: str
    version: str | None = None
    schematic: str | None = None
    ready: bool = True
    stage: str | None = None
    schematic_known: bool = True


@dataclass(frozen=True)
class UpgradeTarget:
    """Where a node should end up: the installer image, its Talos version and schematic."""

    image: str
    version: str
    schematic: str | None = None

    @classmethod
    def from_image(cls, image: str) -> UpgradeTarget:
        ref = parse_installer_image(image)
        if not ref.version:
            raise ValueError(f"installer image {image!r} has no Talos version tag (for example :v1.13.9)")
        return cls(image=ref.image, version=normalize_version(ref.version) or "", schematic=ref.schematic)


@dataclass
class UpgradeStep:
    """One entry of an upgrade plan: ``upgrade`` the node, ``wait`` for it, or ``skip`` it."""

    node: str
    address: str
    role: str
    action: str
    reason: str
    from_version: str | None = None
    to_version: str | None = None
    from_schematic: str | None = None
    to_schematic: str | None = None
    image: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data.update(self.extra)
        return data


class UpgradePlanError(InputError):
    """The upgrade cannot be planned safely (etcd quorum at risk, or a node without a target)."""


def _target_for(name: str, target: UpgradeTarget | Mapping[str, UpgradeTarget]) -> UpgradeTarget:
    if isinstance(target, UpgradeTarget):
        return target
    if name not in target:
        raise UpgradePlanError(f"node {name}: no target image")
    return target[name]


def plan_upgrade(
    nodes_state: Iterable[NodeState], target: UpgradeTarget | Mapping[str, UpgradeTarget]
) -> list[UpgradeStep]:
    """The ordered steps of a rolling upgrade. Pure: it decides, it runs nothing.

    - Control planes come first, then workers; each group keeps the given order, except that a node that is not
      ready comes first in its group (it is already down: it is dealt with before anything else is taken down).
    - A node already on the target version and schematic is skipped, or waited for when it is not ready (an
      interrupted upgrade that finished on its own). This is what makes a re-run resume where it stopped. When a
      node cannot say which schematic it runs (``schematic_known`` false), only its version is compared.
    - etcd quorum: at most one control plane may be down at a time. When more than one control plane is not ready,
      the plan is refused; when one is not ready, it is the first step and nothing else is touched before it is.
    """
    states = list(nodes_state)
    for state in states:
        if state.role not in ROLES:
            raise UpgradePlanError(f"node {state.name}: role must be one of {', '.join(ROLES)}, got {state.role!r}")
    down = [state.name for state in states if state.role == "controlplane" and not state.ready]
    if len(down) > 1:
        raise UpgradePlanError(
            f"control plane nodes {', '.join(down)} are not ready: upgrading now could lose etcd quorum; "
            "bring them back (or remove them from etcd) and re-run"
        )
    steps: list[UpgradeStep] = []
    for role in ROLES:
        group = [state for state in states if state.role == role]
        group.sort(key=lambda state: state.ready)  # stable: not-ready nodes first, then the given order
        for state in group:
            steps.append(_step(state, _target_for(state.name, target)))
    return steps


def _step(state: NodeState, target: UpgradeTarget) -> UpgradeStep:
    current = normalize_version(state.version)
    step = UpgradeStep(
        node=state.name,
        address=state.address,
        role=state.role,
        action="skip",
        reason="",
        from_version=current,
        to_version=target.version,
        from_schematic=state.schematic,
        to_schematic=target.schematic,
        image=target.image,
    )
    same_version = current == normalize_version(target.version)
    if same_version and (not state.schematic_known or same_schematic(state.schematic, target.schematic)):
        step.action = "skip" if state.ready else "wait"
        step.reason = "already on the target version" + (" and schematic" if state.schematic_known else "")
        step.reason += "" if state.ready else ", not ready yet"
        if not state.schematic_known:
            step.reason += " (the node does not report its schematic; only the version was compared)"
        return step
    step.action = "upgrade"
    if not same_version:
        step.reason = f"Talos {current or 'unknown'} -> {target.version}"
    else:
        step.reason = f"schematic {state.schematic or 'none'} -> {target.schematic or 'none'}"
    return step
