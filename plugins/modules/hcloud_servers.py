#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_servers
short_description: Converge all the servers of a cluster on Hetzner Cloud at once, in parallel
version_added: 0.1.0
description:
  - Takes the whole list of a cluster's servers and makes the project match it. One list call by the cluster's
    labels learns what exists; missing servers are created concurrently, all actions are awaited together, and
    drift the module can fix (labels, delete protection, a missing network attachment, firewalls that were all
    removed, a server that is off) is fixed. A run with nothing to do costs one API request.
  - Servers are created powered off when they join a network, attached to it with their private address, then
    powered on, so that they boot with the address they keep.
  - A create that fails with C(uniqueness_error) (an earlier run was stopped after the server was made) adopts the
    existing server when it carries the cluster's labels, so a run that was killed and re-run ends with exactly
    the listed servers.
  - Servers that carry the cluster's labels but are not in O(servers) are deleted only with O(prune=true).
  - Returns the node facts of docs/stage-contract.md in RV(nodes), in the order of O(servers).
extends_documentation_fragment:
  - talosforge.cluster.hcloud
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - One list call; RV(plan) says per server whether it would be created, updated, deleted or left alone.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - User data is never shown.
options:
  cluster:
    description:
      - Name of the cluster; the value of the C(talosforge.io/cluster) label on every server.
    type: str
    required: true
  servers:
    description:
      - Every server of the cluster. A key left out takes the module option of the same name.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Server name (unique in the project), the node's name.
        type: str
        required: true
      role:
        description: Talos role; the value of the C(talosforge.io/role) label.
        type: str
        choices: [controlplane, worker]
        default: worker
      pool:
        description: Node pool; the value of the C(talosforge.io/pool) label when set.
        type: str
      server_type:
        description: Server type such as V(cpx31) or V(cax21).
        type: str
      location:
        description: Location such as V(fsn1), V(nbg1) or V(hel1).
        type: str
      image:
        description:
          - Image id, image name, or V(label:<selector>) for the newest snapshot matching a label selector.
        type: str
      placement_group:
        description: Placement group name or id.
        type: str
      network:
        description: Network name or id to attach the server to.
        type: str
      private_ipv4:
        description: The server's address on O(servers[].network); the API picks one when unset.
        type: str
      firewalls:
        description: Firewall names or ids applied at creation.
        type: list
        elements: str
      enable_ipv4:
        description: Give the server a public IPv4 address (at creation).
        type: bool
      enable_ipv6:
        description: Give the server a public IPv6 network (at creation).
        type: bool
      delete_protection:
        description: Protect the server against deletion and rebuild.
        type: bool
      labels:
        description: Extra labels; the collection's labels are added and win.
        type: dict
      user_data:
        description:
          - Cloud-init user data, for Talos the machine config, given at creation only. Never logged.
          - The talosforge.cluster roles leave it unset and apply machine configs over the Talos API instead.
        type: str
  server_type:
    description: Server type of the servers that set none.
    type: str
  location:
    description: Location of the servers that set none.
    type: str
  image:
    description: Image of the servers that set none (id, name or V(label:<selector>)).
    type: str
  placement_group:
    description: Placement group of the servers that set none.
    type: str
  network:
    description: Network of the servers that set none.
    type: str
  firewalls:
    description: Firewalls of the servers that set none.
    type: list
    elements: str
  enable_ipv4:
    description: Public IPv4 for the servers that set nothing.
    type: bool
    default: true
  enable_ipv6:
    description: Public IPv6 for the servers that set nothing.
    type: bool
    default: true
  delete_protection:
    description: Delete protection for the servers that set nothing.
    type: bool
    default: false
  prune:
    description:
      - Delete servers that carry the cluster's labels but are not in O(servers).
      - Without it they are left alone and reported in RV(plan) with a note.
    type: bool
    default: false
  parallel:
    description: How many API requests of one round are sent at the same time.
    type: int
    default: 8
  wait_timeout:
    description: Seconds to wait for the actions of one round (all servers together).
    type: float
    default: 600.0
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Converge the cluster's servers from the Talos snapshot
  talosforge.cluster.hcloud_servers:
    cluster: prod
    image: "label:talosforge.io/talos-version=v1.13.9,talosforge.io/arch=amd64"
    network: prod
    firewalls: [prod]
    servers:
      - {name: cp-1, role: controlplane, pool: cp, server_type: cpx31, location: fsn1, private_ipv4: 10.0.1.11}
      - {name: cp-2, role: controlplane, pool: cp, server_type: cpx31, location: nbg1, private_ipv4: 10.0.1.12}
      - {name: worker-1, pool: workers, server_type: cx32, location: fsn1, private_ipv4: 10.0.1.101}
  register: servers

- name: Remove the servers that left the list
  talosforge.cluster.hcloud_servers:
    cluster: prod
    servers: "{{ wanted_servers }}"
    prune: true
"""

RETURN = r"""
nodes:
  description: Node facts (docs/stage-contract.md), one per server of O(servers), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: cp-1, role: controlplane, provider: hcloud, provider_id: "52813146", location: fsn1,
       public_ipv4: 203.0.113.21, public_ipv6: "2001:db8:1::1", private_ipv4: 10.0.1.11,
       talos_address: 203.0.113.21, status: running}
cluster_nodes:
  description:
    - Node facts of every server carrying the cluster's labels, as they are after this run (in check mode, as
      they were), sorted by name. M(talosforge.cluster.hcloud_servers_info) returns the same without converging.
  returned: always
  type: list
  elements: dict
plan:
  description: Per server, C(action) (create, update, delete, unchanged), C(changes), C(drift) and C(id).
  returned: always
  type: list
  elements: dict
api_requests:
  description: API requests this run sent (retries included).
  returned: always
  type: int
failures:
  description:
    - Per failed server, C(name), C(msg) and the API's C(failure) (C(status), C(code), C(details), C(request));
      docs/failures.md.
  returned: on failure
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.servers_apply import converge
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.servers_plan import INHERITED
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module

# Module-level defaults of the options a server inherits (on a server they have none: unset means inherited).
DEFAULTS = {"enable_ipv4": True, "enable_ipv6": True, "delete_protection": False}


def argument_spec() -> dict[str, Any]:
    server: dict[str, dict[str, Any]] = {
        "name": {"type": "str", "required": True},
        "role": {"type": "str", "choices": list(ROLES), "default": "worker"},
        "pool": {"type": "str"},
        "server_type": {"type": "str"},
        "location": {"type": "str"},
        "image": {"type": "str"},
        "placement_group": {"type": "str"},
        "network": {"type": "str"},
        "private_ipv4": {"type": "str"},
        "firewalls": {"type": "list", "elements": "str"},
        "enable_ipv4": {"type": "bool"},
        "enable_ipv6": {"type": "bool"},
        "delete_protection": {"type": "bool"},
        "labels": {"type": "dict"},
        "user_data": {"type": "str", "no_log": True},
    }
    spec = auth_argument_spec(env_fallback)
    spec.update(
        cluster={"type": "str", "required": True},
        servers={"type": "list", "elements": "dict", "required": True, "options": server},
        prune={"type": "bool", "default": False},
        parallel={"type": "int", "default": 8},
        wait_timeout={"type": "float", "default": 600.0},
    )
    # The module options a server inherits when it leaves them out: the same spec, with the module's defaults.
    spec.update({key: {**server[key], **({"default": DEFAULTS[key]} if key in DEFAULTS else {})} for key in INHERITED})
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: converge(client_from_params(module.params), module.params, module.check_mode))


if __name__ == "__main__":
    main()
