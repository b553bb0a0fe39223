#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_upgrade
short_description: Rolling Talos upgrade, one node at a time, control planes first; Kubernetes upgrade too
version_added: 0.1.0
description:
  - "Reads every node first (in parallel: Talos version, schematic, stage and readiness). A node that cannot be
    reached is waited for (at most O(wait_timeout) seconds: it may be rebooting after an interrupted run); a node
    that cannot be read fails the task before any node is touched."
  - "Then plans the upgrade: control planes first, then workers, in the order of O(nodes); a node already on the
    target version B(and) schematic is skipped, so a re-run after an interruption continues with the nodes still
    behind. At most one control plane may be down at a time, to keep etcd quorum: when more than one is not ready
    the task fails without touching anything; when one is not ready, it is dealt with first."
  - "Then upgrades the nodes one at a time with C(talosctl upgrade --image). Before each node (and once at the end),
    with O(health_check=true), the cluster must pass C(talosctl health) (see M(talosforge.cluster.talos_health)).
    After each node, the module waits (at most O(wait_timeout) seconds) until the node is back, ready, on the
    target version and schematic. A node that reboots in the middle of its upgrade (talosctl loses the
    connection) is waited for the same way and verified; a node that does not come back on the target fails the
    task naming it, and a re-run resumes from there."
  - With O(kubernetes_version), C(talosctl upgrade-k8s --to) runs after the Talos upgrade. It is first run with
    C(--dry-run), which says which version the cluster runs; when that is already the target, nothing is done.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are read and the plan is returned; the Kubernetes upgrade is dry-run only.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The diff lists the nodes to upgrade with their current and target versions and schematics.
options:
  nodes:
    description:
      - The nodes to upgrade; each needs O(nodes[].role), and may give O(nodes[].image), the node's own installer
        image (for example for a node group with other system extensions).
      - With O(health_check=true) or O(kubernetes_version), include the control planes, even to upgrade only
        workers. The checks and the Kubernetes upgrade run from one of them, and nodes already on the target are
        skipped anyway.
  image:
    description:
      - The installer image to upgrade to, for the nodes without their own C(image), for example
        C(factory.talos.dev/metal-installer/<schematic>:v1.13.9).
      - Its tag is the target Talos version; for an Image Factory image, the path segment of 64 hex digits is the
        target schematic. An image that is not a factory image targets nodes without a schematic.
    type: str
  kubernetes_version:
    description:
      - Upgrade Kubernetes to this version (C(talosctl upgrade-k8s --to)) after the Talos upgrade.
    type: str
  health_check:
    description:
      - Require C(talosctl health) to pass before each node and after the last one.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each node to come back after its upgrade, and for each health check.
    type: float
    default: 900.0
  poll_interval:
    description:
      - Seconds between two reads of a node while waiting for it.
    type: float
    default: 10.0
notes:
  - Nodes are drained before they reboot (the default of C(talosctl upgrade)).
  - A Kubernetes upgrade needs every node on a Talos version that supports the target Kubernetes version; upgrade
    Talos first (as this module does when both are asked).
seealso:
  - module: talosforge.cluster.talos_info
  - module: talosforge.cluster.talos_health
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Upgrade Talos on every node, then Kubernetes
  talosforge.cluster.talos_upgrade:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    image: "factory.talos.dev/metal-installer/{{ schematic_id }}:v1.13.9"
    kubernetes_version: 1.36.3
    nodes: "{{ talos_nodes }}"

- name: Show the plan only
  talosforge.cluster.talos_upgrade:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    image: "factory.talos.dev/metal-installer/{{ schematic_id }}:v1.13.9"
    nodes: "{{ talos_nodes }}"
  check_mode: true
  register: plan
"""

RETURN = r"""
steps:
  description: The plan, in the order it runs, with what happened to each node.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The node's name.
      type: str
      returned: always
      sample: cp1
    role:
      description: The node's role.
      type: str
      returned: always
      sample: controlplane
    action:
      description: V(upgrade), V(skip) (already on the target) or V(wait) (on the target, not ready yet).
      type: str
      returned: always
    reason:
      description: Why.
      type: str
      returned: always
      sample: Talos v1.13.8 -> v1.13.9
    status:
      description:
        - V(planned) (check mode), V(upgraded), V(skipped), V(ready) (waited for), V(failed) (its upgrade or wait
          failed) or V(pending) (not reached, or the health check before it failed).
      type: str
      returned: always
    from_version:
      description: The version the node ran before.
      type: str
      returned: always
    to_version:
      description: The target version.
      type: str
      returned: always
    from_schematic:
      description: The schematic the node ran before.
      type: str
      returned: always
    to_schematic:
      description: The target schematic.
      type: str
      returned: always
    image:
      description: The installer image used.
      type: str
      returned: always
    note:
      description: Something to know about this node's upgrade (for example, a lost connection it recovered from).
      type: str
      returned: when there is one
upgraded:
  description: The names of the nodes upgraded by this task.
  returned: always
  type: list
  elements: str
  sample: [cp1, cp2]
kubernetes:
  description: The Kubernetes upgrade, when O(kubernetes_version) is set.
  returned: when O(kubernetes_version) is set
  type: dict
  contains:
    from_version:
      description: The version the cluster ran, as talosctl detected it.
      type: str
      returned: when detected
      sample: v1.35.2
    to_version:
      description: The target version.
      type: str
      returned: always
      sample: v1.36.3
    changed:
      description: Whether Kubernetes was (or, in check mode, would be) upgraded.
      type: bool
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade import upgrade_cluster


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        image={"type": "str"},
        kubernetes_version={"type": "str"},
        health_check={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 900.0},
        poll_interval={"type": "float", "default": 10.0},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), upgrade_cluster)


if __name__ == "__main__":
    main()
