#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_servers_info
short_description: Read the servers of a cluster on Hetzner Cloud as node facts
version_added: 0.1.0
description:
  - Lists the servers that carry the cluster's labels (C(talosforge.io/cluster=<cluster>) and
    C(talosforge.io/managed-by=talosforge.cluster)) with one API request and returns them as the node facts of
    docs/stage-contract.md, the same facts M(talosforge.cluster.hcloud_servers) returns.
  - This module only reads. The day-two playbooks use it (through the talosforge.cluster.infra_hcloud role's
    C(facts) entry point) to find the nodes without provisioning anything.
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
    description: Name of the cluster; the value of the C(talosforge.io/cluster) label on its servers.
    type: str
    required: true
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Where the cluster's servers are
  talosforge.cluster.hcloud_servers_info:
    cluster: prod
  register: found

- name: The control plane's Talos addresses
  ansible.builtin.debug:
    msg: "{{ found.cluster_nodes | selectattr('role', '==', 'controlplane') | map(attribute='talos_address') }}"
"""

RETURN = r"""
cluster_nodes:
  description: Node facts (docs/stage-contract.md) of every server carrying the cluster's labels, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: cp-1, role: controlplane, provider: hcloud, provider_id: "52813146", location: fsn1,
       public_ipv4: 203.0.113.21, public_ipv6: "2001:db8:1::1", private_ipv4: 10.0.1.11,
       talos_address: 203.0.113.21, status: running}
api_requests:
  description: API requests this run sent (retries included).
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.servers_apply import info
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    spec = auth_argument_spec(env_fallback)
    spec.update(cluster={"type": "str", "required": True})
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: info(client_from_params(module.params), module.params))


if __name__ == "__main__":
    main()
