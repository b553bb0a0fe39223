#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_apply_config
short_description: Apply machine configurations to many Talos nodes in parallel, in maintenance mode or over mTLS
version_added: 0.1.0
description:
  - Applies each node's rendered machine configuration (for example the files written by
    M(talosforge.cluster.talos_machine_config)) with C(talosctl apply-config), at most O(parallel) nodes at a time.
  - "Every node is first read, and nothing is applied before all of them have been: the node list and the
    configuration files are checked, then each node is probed, then each node is asked for a C(--dry-run), in
    which it validates its configuration. If any of this fails (an unreachable node, a configuration a node
    refuses), the task fails naming the node and no node is changed."
  - "How a node is reached is detected per node (O(insecure=auto)): the module reads the node's C(machinestatus)
    over mTLS with O(talosconfig). A node that refuses the client certificate the way a node in maintenance mode
    does (TLS or certificate errors) is read again through the insecure maintenance API; if it answers there, it
    is in maintenance mode and gets C(--insecure). A node that answers neither fails the task. When the first
    node of the list turns out to be in maintenance mode, the others are asked in the other order (the
    maintenance API first, then mTLS), which saves a call per node on a cluster's first run."
  - A node in maintenance mode has no configuration yet, so applying always changes it. For a configured node,
    C(talosctl apply-config --dry-run) decides whether anything would change and provides the diff; the
    configuration is applied only to the nodes where it would.
  - After applying, with O(wait=true), the module waits (at most O(wait_timeout) seconds) until each changed node
    answers over mTLS outside maintenance mode. A node that does not fails the task with its name; the other
    nodes keep their result.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are probed and dry-run only; nothing is applied.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - One diff per changed node, with secrets (keys, tokens, encryption secrets) masked.
      - For a configured node it is the diff talosctl prints for the dry run; for a node in maintenance mode it is
        the whole configuration as the new state.
options:
  nodes:
    description:
      - The nodes to configure; each needs O(nodes[].config), the path of its machine configuration file.
      - The same node list can be given to every Talos module (O(nodes[].role) and O(nodes[].image) are ignored
        here).
  mode:
    description:
      - How the configuration is applied (C(talosctl apply-config --mode)).
      - V(auto) lets Talos decide whether a reboot is needed; V(staged) applies it at the next reboot.
      - A node in maintenance mode always gets V(auto), because its first configuration installs Talos and reboots.
    type: str
    choices: [auto, no-reboot, reboot, staged]
    default: auto
  insecure:
    description:
      - V(auto) detects per node whether it is in maintenance mode (see the description).
      - V(always) talks to every node through the insecure maintenance API; V(never) uses mTLS only.
    type: str
    choices: [auto, always, never]
    default: auto
  wait:
    description:
      - Wait until each node the configuration was applied to answers over mTLS outside maintenance mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each node with O(wait=true).
    type: float
    default: 600.0
  poll_interval:
    description:
      - Seconds between two reads of a node while waiting.
    type: float
    default: 5.0
notes:
  - The configuration files carry the cluster's private keys; the module never returns their content, and the diff
    masks every secret value.
seealso:
  - module: talosforge.cluster.talos_machine_config
  - module: talosforge.cluster.talos_bootstrap
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Apply the rendered configurations (maintenance mode on the first run, mTLS after)
  talosforge.cluster.talos_apply_config:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: cp1, address: 10.0.0.11, config: "{{ cluster_dir }}/configs/cp1.yaml"}
      - {name: cp2, address: 10.0.0.12, config: "{{ cluster_dir }}/configs/cp2.yaml"}
      - {name: w1, address: 10.0.0.21, config: "{{ cluster_dir }}/configs/w1.yaml"}
  register: applied

- name: Show what would change, without applying (run with --check --diff)
  talosforge.cluster.talos_apply_config:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    mode: no-reboot
    nodes: "{{ talos_nodes }}"
  check_mode: true
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
      sample: cp1
    address:
      description: The address talosctl connected to.
      type: str
      returned: always
      sample: 10.0.0.11
    maintenance:
      description: Whether the node was in maintenance mode before the task.
      type: bool
      returned: always
    insecure:
      description: Whether the node was reached through the insecure maintenance API (C(--insecure)).
      type: bool
      returned: always
    changed:
      description: Whether the configuration changes (or, in check mode, would change) on this node.
      type: bool
      returned: always
    applied:
      description: Whether C(talosctl apply-config) was run on this node by this task.
      type: bool
      returned: always
    apply_mode:
      description: How Talos says it applies (or would apply) the change, from the dry-run summary.
      type: str
      returned: always
      sample: Applied configuration without a reboot (skipped in dry-run).
    stage:
      description: The node's machine stage after the task (before it, in check mode).
      type: str
      returned: always
      sample: running
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.apply_config import MODES, apply_configs
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        mode={"type": "str", "choices": MODES, "default": "auto"},
        insecure={"type": "str", "choices": ["auto", "always", "never"], "default": "auto"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 600.0},
        poll_interval={"type": "float", "default": 5.0},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), apply_configs)


if __name__ == "__main__":
    main()
