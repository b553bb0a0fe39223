#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_vms_info
short_description: Read the Talos VMs of a cluster on Proxmox VE
version_added: 0.1.0
description:
  - Lists the QEMU VMs that carry the cluster's tags (C(talosforge) and C(cluster-<cluster_name>)) with one
    C(/cluster/resources) request, through the same client (retries, error shape) as M(talosforge.cluster.proxmox_vms).
  - This module only reads. The preflight play of the C(talosforge.cluster.site) playbook uses it to prove the API
    URL, its certificate and the token before anything is created.
extends_documentation_fragment:
  - talosforge.cluster.proxmox
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything, so check mode runs it in full.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  cluster_name:
    description: Name of the cluster; its VMs are tagged C(cluster-<cluster_name>).
    type: str
    required: true
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: The cluster's VMs
  talosforge.cluster.proxmox_vms_info:
    api_url: https://pve1.example.net:8006
    api_token_id: ansible@pve!talosforge
    api_token_secret: "{{ vault_proxmox_token_secret }}"
    cluster_name: homelab
  register: found

- name: The VMs that are not running
  ansible.builtin.debug:
    msg: "{{ found.vms | rejectattr('status', '==', 'running') | map(attribute='name') }}"
"""

RETURN = r"""
vms:
  description: Every VM carrying the cluster's tags, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: cp-1, vmid: 4101, pve_node: pve1, status: running, tags: [cluster-homelab, controlplane, talosforge]}
api_requests:
  description: API requests this run sent (retries included).
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    client_from_params,
    proxmox_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_apply import info


def argument_spec() -> dict[str, Any]:
    spec = proxmox_argument_spec(env_fallback)
    spec.update(cluster_name={"type": "str", "required": True})
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: info(module.params, client_from_params(module.params)))


if __name__ == "__main__":
    main()
