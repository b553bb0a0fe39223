#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_reset
short_description: Remove Talos nodes from their cluster gracefully (leave etcd, drain, wipe)
version_added: 0.1.0
description:
  - "Reads every node of O(nodes) first (in parallel). A node in maintenance mode has no configuration left and is
    already reset: it is skipped. A node that cannot be read fails the task before any node is touched (unless
    O(ignore_unreachable=true))."
  - "Control planes leave etcd first (C(talosctl etcd leave)), one at a time, so etcd shrinks cleanly and keeps
    quorum; the task refuses to remove the last etcd members (tear a whole cluster down with the destroy playbook
    instead). Each node is then reset with C(talosctl reset --graceful), which cordons and drains it before
    wiping it. Workers are reset in parallel, at most O(parallel) at a time, before the control planes."
  - The Kubernetes Node objects of reset nodes are not deleted by Talos; delete them with C(kubectl delete node)
    or kubernetes.core.k8s.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are read and each one's planned actions are returned; nothing is run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The nodes to reset; each needs O(nodes[].role).
  graceful:
    description:
      - Cordon and drain the node (and leave etcd) before wiping it (C(talosctl reset --graceful)).
      - Control planes leave etcd explicitly first either way.
    type: bool
    default: true
  reboot:
    description:
      - Reboot the node after the reset (into maintenance mode) instead of shutting it down.
    type: bool
    default: false
  wipe_mode:
    description:
      - Which disks to wipe (C(talosctl reset --wipe-mode)).
    type: str
    choices: [all, system-disk, user-disks]
    default: all
  wait_timeout:
    description:
      - Seconds talosctl waits for each reset to complete (C(talosctl reset --timeout)).
    type: float
    default: 600.0
  ignore_unreachable:
    description:
      - Count a node that cannot be reached as already reset (for example one an earlier reset shut down), instead
        of failing.
    type: bool
    default: false
seealso:
  - module: talosforge.cluster.talos_info
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Remove a worker from the cluster
  talosforge.cluster.talos_reset:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: w3, address: 10.0.0.23, role: worker}

- name: Show what removing a control plane would do
  talosforge.cluster.talos_reset:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    reboot: true
    nodes:
      - {name: cp3, address: 10.0.0.13, role: controlplane}
  check_mode: true
  register: plan
"""

RETURN = r"""
nodes:
  description: One entry per node, in the order of O(nodes).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
      returned: always
      sample: cp3
    role:
      description: The node's role.
      type: str
      returned: always
      sample: controlplane
    changed:
      description: Whether the node is (or, in check mode, would be) reset by this task.
      type: bool
      returned: always
    actions:
      description: The talosctl commands run (or, in check mode, to run) on the node, in order.
      type: list
      elements: str
      returned: always
      sample: [etcd leave, reset --graceful --wipe-mode all]
    status:
      description: V(planned) (check mode), V(reset), V(already reset), V(unreachable), V(failed) or V(pending).
      type: str
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.reset import reset_nodes


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        graceful={"type": "bool", "default": True},
        reboot={"type": "bool", "default": False},
        wipe_mode={"type": "str", "choices": ["all", "system-disk", "user-disks"], "default": "all"},
        wait_timeout={"type": "float", "default": 600.0},
        ignore_unreachable={"type": "bool", "default": False},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), reset_nodes)


if __name__ == "__main__":
    main()
