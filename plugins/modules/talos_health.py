#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_health
short_description: Wait until a Talos cluster is healthy, and say which check failed on which node if it is not
version_added: 0.1.0
description:
  - Runs C(talosctl health) from the first control plane of O(nodes) that answers, with the control plane and
    worker addresses of O(nodes) (C(--control-plane-nodes), C(--worker-nodes)), waiting at most
    O(wait_timeout) seconds (C(--wait-timeout)).
  - On success, returns every check talosctl ran. On failure, the message names the check that failed and the
    nodes it failed on (by name), with talosctl's reason; C(failure.details) holds C(checks), C(failed_check) and
    C(failed_nodes) (node name to reason) beside talosctl's C(node), C(rc) and C(stderr).
  - Reads only; never reports a change.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The health checks only read, so they run in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The cluster's nodes, control planes and workers. When no node has a role, every node is taken as a control
        plane.
  wait_timeout:
    description:
      - Seconds talosctl waits for the cluster to become healthy (C(--wait-timeout)).
      - The O(timeout) of the talosctl invocation is raised to at least this plus 30 seconds.
    type: float
    default: 600.0
seealso:
  - module: talosforge.cluster.talos_info
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Wait up to ten minutes for the cluster to be healthy
  talosforge.cluster.talos_health:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes: "{{ talos_nodes }}"
    wait_timeout: 600
"""

RETURN = r"""
node:
  description: The name of the control plane the checks ran from.
  returned: always
  type: str
  sample: cp1
checks:
  description: The checks talosctl ran, in order, each with its outcome.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What talosctl waited for.
      type: str
      returned: always
      sample: etcd to be healthy
    ok:
      description: Whether the check passed.
      type: bool
      returned: always
    message:
      description: The reason the check did not pass (empty when it passed).
      type: str
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.health import cluster_health
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        wait_timeout={"type": "float", "default": 600.0},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), cluster_health)


if __name__ == "__main__":
    main()
