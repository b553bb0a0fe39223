#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_cluster_resources
short_description: Delete everything on Hetzner Cloud that carries a cluster's labels
version_added: 0.1.0
description:
  - Deletes the servers, load balancers, floating IPs, firewalls, placement groups, networks, SSH keys and, when
    asked, snapshots that carry C(talosforge.io/cluster=<cluster>) and C(talosforge.io/managed-by=talosforge.cluster).
  - With them, the load balancers the hcloud cloud controller manager made for the cluster's Services of type
    LoadBalancer (they carry its C(hcloud-ccm/service-uid) label, not the cluster's, and sit in the cluster's
    network, which they would keep from being deleted). One more list call when the cluster has a network.
    Resources without both labels are never touched.
  - Each kind is listed with one call (the calls run in parallel), then deleted kind by kind in dependency order
    (servers, load balancers, floating IPs, firewalls, placement groups, networks, SSH keys, snapshots), in parallel
    within a kind.
  - Protected resources stop the deletion before anything is deleted, unless O(remove_protection=true).
  - This backs the talosforge.cluster.destroy playbook. To only list the resources, use
    M(talosforge.cluster.hcloud_cluster_resources_info).
extends_documentation_fragment:
  - talosforge.cluster.hcloud
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - RV(resources) lists what would be deleted; nothing is.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
options:
  cluster:
    description: Name of the cluster (the value of the C(talosforge.io/cluster) label).
    type: str
    required: true
  state:
    description:
      - V(absent) deletes everything that carries the cluster's labels.
      - It has no default, so that a task that leaves it out to list the resources (what V(present) did before
        M(talosforge.cluster.hcloud_cluster_resources_info) existed) fails instead of deleting anything.
    type: str
    choices: [absent]
    required: true
  include_snapshots:
    description: Also delete snapshots carrying the cluster's labels.
    type: bool
    default: false
  label_selector:
    description: A further label selector that every resource must also match, such as V(talosforge.io/role=worker).
    type: str
  remove_protection:
    description: Lift delete protection from protected resources before deleting them.
    type: bool
    default: false
  parallel:
    description: How many requests of one kind run at the same time.
    type: int
    default: 8
  wait_timeout:
    description: Seconds to wait for the deletion actions of one kind.
    type: float
    default: 600.0
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Tear the cluster down (servers first, network last)
  talosforge.cluster.hcloud_cluster_resources:
    cluster: prod
    state: absent
    remove_protection: true
"""

RETURN = r"""
resources:
  description: The resources found before deletion, each with C(kind), C(id), C(name), C(labels), C(protected).
  returned: always
  type: list
  elements: dict
label_selector:
  description: The label selector used.
  returned: always
  type: str
  sample: talosforge.io/cluster=prod,talosforge.io/managed-by=talosforge.cluster
api_requests:
  description: API requests this run sent.
  returned: always
  type: int
failures:
  description:
    - Per failed deletion, the resource (C(kind), C(id), C(name), C(labels), C(protected)), C(msg) and the API's
      C(failure) (C(status), C(code), C(details), C(request)); docs/failures.md.
  returned: on failure
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.resources import remove
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    spec = auth_argument_spec(env_fallback)
    spec.update(
        cluster={"type": "str", "required": True},
        state={"type": "str", "choices": ["absent"], "required": True},
        include_snapshots={"type": "bool", "default": False},
        label_selector={"type": "str"},
        remove_protection={"type": "bool", "default": False},
        parallel={"type": "int", "default": 8},
        wait_timeout={"type": "float", "default": 600.0},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: remove(client_from_params(module.params), module.params, module.check_mode))


if __name__ == "__main__":
    main()
