#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_cluster_resources_info
short_description: List everything on Hetzner Cloud that carries a cluster's labels
version_added: 0.1.0
description:
  - Lists the servers, load balancers, floating IPs, firewalls, placement groups, networks, SSH keys and, when
    asked, snapshots that carry C(talosforge.io/cluster=<cluster>) and C(talosforge.io/managed-by=talosforge.cluster).
  - With them, the load balancers the hcloud cloud controller manager made for the cluster's Services of type
    LoadBalancer (they carry its C(hcloud-ccm/service-uid) label, not the cluster's, and sit in the cluster's
    network, which they would keep from being deleted). One more list call when the cluster has a network.
    Each kind is one list call; the calls run in parallel.
  - This module only reads. M(talosforge.cluster.hcloud_cluster_resources) deletes what it lists.
extends_documentation_fragment:
  - talosforge.cluster.hcloud
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything, so check mode runs it in full.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  cluster:
    description: Name of the cluster (the value of the C(talosforge.io/cluster) label).
    type: str
    required: true
  include_snapshots:
    description: Also list snapshots carrying the cluster's labels.
    type: bool
    default: false
  label_selector:
    description: A further label selector that every resource must also match, such as V(talosforge.io/role=worker).
    type: str
  parallel:
    description: How many list requests run at the same time.
    type: int
    default: 8
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: What belongs to the cluster
  talosforge.cluster.hcloud_cluster_resources_info:
    cluster: prod
    include_snapshots: true
  register: cluster_resources

- name: The cluster's workers only
  talosforge.cluster.hcloud_cluster_resources_info:
    cluster: prod
    label_selector: talosforge.io/role=worker
  register: workers
"""

RETURN = r"""
resources:
  description: The resources found, each with C(kind), C(id), C(name), C(labels), C(protected).
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: servers, id: "52813146", name: cp-1, protected: false,
       labels: {talosforge.io/cluster: prod, talosforge.io/managed-by: talosforge.cluster}}
label_selector:
  description: The label selector used.
  returned: always
  type: str
  sample: talosforge.io/cluster=prod,talosforge.io/managed-by=talosforge.cluster
api_requests:
  description: API requests this run sent.
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.resources import info
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    spec = auth_argument_spec(env_fallback)
    spec.update(
        cluster={"type": "str", "required": True},
        include_snapshots={"type": "bool", "default": False},
        label_selector={"type": "str"},
        parallel={"type": "int", "default": 8},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: info(client_from_params(module.params), module.params))


if __name__ == "__main__":
    main()
