#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_bootstrap
short_description: Bootstrap etcd on the first Talos control plane, exactly once
version_added: 0.1.0
description:
  - Runs C(talosctl bootstrap) on the first control plane of O(nodes), once in the life of the cluster.
  - "The module first asks every control plane for its etcd members (C(talosctl etcd members), in parallel). If
    any of them answers with a member list, etcd is already bootstrapped: the task reports no change and returns
    the members. Otherwise it bootstraps the first control plane. When Talos answers that etcd is already
    bootstrapped (C(AlreadyExists)), that is not an error and not a change either."
  - With O(wait=true), it then waits until the bootstrapped node lists itself as an etcd member.
  - Never bootstrap a cluster that already has members on another control plane; the member check is what keeps a
    re-run (or a run with the node order changed) from splitting etcd.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the etcd members are read, and the task reports whether it would bootstrap.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The cluster's nodes. The first node with O(nodes[].role=controlplane) is bootstrapped. When no node has a
        role, every node is taken as a control plane.
  wait:
    description:
      - After bootstrapping, wait until the node lists itself as an etcd member.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true).
    type: float
    default: 300.0
  poll_interval:
    description:
      - Seconds between two reads of the etcd members while waiting.
    type: float
    default: 5.0
notes:
  - To rebuild a cluster from an etcd snapshot, see M(talosforge.cluster.talos_etcd_snapshot).
seealso:
  - module: talosforge.cluster.talos_apply_config
  - module: talosforge.cluster.talos_kubeconfig
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Bootstrap etcd (no change when the cluster already has members)
  talosforge.cluster.talos_bootstrap:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: cp1, address: 10.0.0.11, role: controlplane}
      - {name: cp2, address: 10.0.0.12, role: controlplane}
      - {name: w1, address: 10.0.0.21, role: worker}
"""

RETURN = r"""
node:
  description: The name of the control plane that was (or, in check mode, would be) bootstrapped.
  returned: when the cluster was not bootstrapped before the task
  type: str
  sample: cp1
already_bootstrapped:
  description: Whether etcd already had members before the task.
  returned: always
  type: bool
members:
  description: The etcd members, as C(talosctl etcd members) lists them (empty in check mode before a bootstrap).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The member ID.
      type: str
      returned: always
      sample: 2b2bf5d5be5cf1b0
    hostname:
      description: The member's host name.
      type: str
      returned: always
      sample: cp1
    peer_urls:
      description: The member's peer URLs.
      type: list
      elements: str
      returned: always
      sample: [https://10.0.0.11:2380]
    client_urls:
      description: The member's client URLs.
      type: list
      elements: str
      returned: always
      sample: [https://10.0.0.11:2379]
    learner:
      description: Whether the member is a learner.
      type: bool
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.bootstrap import bootstrap_etcd
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 300.0},
        poll_interval={"type": "float", "default": 5.0},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), bootstrap_etcd)


if __name__ == "__main__":
    main()
