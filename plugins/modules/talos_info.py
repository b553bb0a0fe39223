#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_info
short_description: Read the Talos version, schematic, stage and readiness of many nodes, and the etcd members
version_added: 0.1.0
description:
  - Reads every node of O(nodes) in parallel, at most O(parallel) at a time, and the etcd members from the first
    control plane that answers.
  - "For each node: whether it answers over mTLS or only in maintenance mode (detected as in
    M(talosforge.cluster.talos_apply_config)), its machine stage and readiness (C(talosctl get machinestatus)),
    its Talos version (C(talosctl version)), its schematic and system extensions (C(talosctl get extensions):
    an image built by an Image Factory carries its schematic ID as the pseudo-extension C(schematic)) and the
    install image of its configuration (C(talosctl get machineconfig)). Nodes in maintenance mode report their
    stage only."
  - A node that cannot be read is reported with C(reachable=false) and the error; it does not fail the task.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The nodes to read. When no node has a role, every node is taken as a control plane for the etcd member
        list.
seealso:
  - module: talosforge.cluster.talos_health
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Read the nodes
  talosforge.cluster.talos_info:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes: "{{ talos_nodes }}"
  register: talos

- name: Nodes not yet on v1.13.9
  ansible.builtin.debug:
    msg: "{{ talos.nodes | rejectattr('version', 'equalto', 'v1.13.9') | map(attribute='name') }}"
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
      description: The node's address.
      type: str
      returned: always
      sample: 10.0.0.11
    role:
      description: The role given in O(nodes), if any.
      type: str
      returned: always
      sample: controlplane
    reachable:
      description: Whether the node answered.
      type: bool
      returned: always
    maintenance:
      description: Whether the node is in maintenance mode (answers only the insecure API).
      type: bool
      returned: when reachable
    stage:
      description: The machine stage (maintenance, booting, installing, running, rebooting, upgrading, ...).
      type: str
      returned: when reachable
      sample: running
    ready:
      description: Whether Talos reports the machine ready.
      type: bool
      returned: when reachable
    unmet_conditions:
      description: Why the machine is not ready.
      type: list
      elements: str
      returned: when reachable
    version:
      description: The Talos version the node runs.
      type: str
      returned: when reachable and not in maintenance mode
      sample: v1.13.9
    schematic:
      description:
        - The Image Factory schematic ID the node booted from (null for an image not built by a factory).
        - Read from the C(schematic) pseudo-extension; when the node does not report extensions, derived from
          RV(nodes[].installer_image) (an image that is not a factory image counts as the default schematic).
      type: str
      returned: when reachable and not in maintenance mode
      sample: 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba
    installer_image:
      description: The install image of the node's machine configuration (C(machine.install.image)).
      type: str
      returned: when reachable and not in maintenance mode
      sample: factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.13.9
    extensions:
      description: The system extensions, each with C(name) and C(version).
      type: list
      elements: dict
      returned: when reachable and not in maintenance mode
    error:
      description: Why the node could not be read.
      type: str
      returned: when not reachable
etcd_members:
  description: The etcd members (C(id), C(hostname), C(peer_urls), C(client_urls), C(learner)); empty before bootstrap.
  returned: always
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.info import read_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(env_fallback)


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), read_cluster)


if __name__ == "__main__":
    main()
