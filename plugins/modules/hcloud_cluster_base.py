#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_cluster_base
short_description: Converge the shared Hetzner Cloud resources of a cluster in one task
version_added: 0.1.0
description:
  - Makes the resources the cluster's servers stand on what the options say, all in one task - the private network
    and its subnet, the firewall and its rules, one spread placement group per node pool, and the Kubernetes API
    endpoint (a load balancer over the control planes with its service, target and network, or a floating IP).
  - Every resource carries the cluster's labels (C(talosforge.io/cluster=<cluster>) and
    C(talosforge.io/managed-by=talosforge.cluster)) and is found by them - one list request per kind, sent in
    parallel - so a run with nothing to do costs one request per kind. A resource of the wanted name without those
    labels is not the cluster's; it is refused, never changed.
  - Missing resources are created whole with one request where the API allows it (a network with its subnet, a
    firewall with its rules, a load balancer with its network, service and target). Labels, delete protection, the
    subnet, the firewall's rules and the load balancer's network, service and target are fixed in place. What the
    API cannot change in place (a network's range, a load balancer's type or location, a floating IP's type or
    home location) is reported in RV(plan) as drift and left alone.
  - Every request has the collection's retry policy (rate limit paced at its refill rate, 5xx, locked, dropped
    connections). A create whose answer was lost is never sent twice; the resource is looked up by name and adopted.
    A failure names the resource and keeps the API's error (see docs/failures.md).
  - Removal is M(talosforge.cluster.hcloud_cluster_resources) with O(talosforge.cluster.hcloud_cluster_resources#module:state=absent).
extends_documentation_fragment:
  - talosforge.cluster.hcloud
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads what exists and returns the plan; a resource that would be created is listed with its changes.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
options:
  cluster:
    description: Name of the cluster; the value of the C(talosforge.io/cluster) label on every resource.
    type: str
    required: true
  name:
    description:
      - Name of the network and the firewall; the placement groups are named C(<name>-<pool>), the load balancer
        and the floating IP C(<name>-api).
      - Defaults to O(cluster).
    type: str
  delete_protection:
    description: Delete protection of the network, the load balancer and the floating IP.
    type: bool
    default: false
  network:
    description: The private network and the one subnet the servers are in. Omit for servers without one.
    type: dict
    suboptions:
      ip_range:
        description: IPv4 range of the network, such as V(10.0.0.0/16). Hetzner private networks are IPv4 only.
        type: str
        required: true
      subnet_ip_range:
        description: IPv4 range of the subnet, inside O(network.ip_range), such as V(10.0.1.0/24).
        type: str
        required: true
      network_zone:
        description: Network zone of the subnet; it must hold the servers' locations.
        type: str
        default: eu-central
  firewall:
    description: The firewall the servers are given, with exactly these rules. Omit for no firewall.
    type: dict
    suboptions:
      rules:
        description: The rules, in the API's form. Their order does not matter.
        type: list
        elements: dict
        default: []
        suboptions:
          direction:
            description: V(in) (needs O(firewall.rules[].source_ips)) or V(out) (needs O(firewall.rules[].destination_ips)).
            type: str
            choices: [in, out]
            default: in
          protocol:
            description: The protocol.
            type: str
            choices: [tcp, udp, icmp, esp, gre]
            required: true
          port:
            description: A port or a range such as V(30000-32767), for V(tcp) and V(udp) only.
            type: str
          source_ips:
            description: Source ranges in CIDR form.
            type: list
            elements: str
            default: []
          destination_ips:
            description: Destination ranges in CIDR form.
            type: list
            elements: str
            default: []
          description:
            description: What the rule is for.
            type: str
  placement_groups:
    description: One spread placement group per node pool named here, labelled C(talosforge.io/pool=<pool>).
    type: list
    elements: str
    default: []
  load_balancer:
    description:
      - A load balancer over the control planes as the Kubernetes API endpoint. With O(network) it joins the
        network and reaches its targets on their private addresses.
    type: dict
    suboptions:
      type:
        description: Load balancer type.
        type: str
        default: lb11
      location:
        description: Location of the load balancer.
        type: str
        required: true
      listen_port:
        description: Port the endpoint listens on.
        type: int
        default: 6443
      destination_port:
        description: Port of the targets (the API server) and of the TCP health check.
        type: int
        default: 6443
      target_label_selector:
        description: Label selector of the target servers, such as the control planes' role label.
        type: str
        required: true
      use_private_ip:
        description: Reach the targets on their private addresses (only with O(network)).
        type: bool
        default: true
  floating_ip:
    description: A floating IP as the Kubernetes API endpoint (Talos assigns it to the control plane that leads).
    type: dict
    suboptions:
      type:
        description: Address family.
        type: str
        choices: [ipv4, ipv6]
        default: ipv4
      home_location:
        description: Home location of the floating IP.
        type: str
        required: true
      address:
        description:
          - The address the cluster's endpoint expects. Hetzner chooses a floating IP's address, so when the one it
            gave (or the existing one) differs, the task fails naming both and keeps the floating IP.
        type: str
  parallel:
    description: How many resources are worked on at the same time.
    type: int
    default: 8
  wait_timeout:
    description: Seconds to wait for each round of actions.
    type: float
    default: 600.0
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Network, firewall, placement groups and API load balancer of the cluster
  talosforge.cluster.hcloud_cluster_base:
    cluster: prod
    delete_protection: true
    network: {ip_range: 10.0.0.0/16, subnet_ip_range: 10.0.1.0/24}
    firewall:
      rules:
        - {protocol: tcp, port: "6443", source_ips: [0.0.0.0/0, "::/0"], description: Kubernetes API}
        - {protocol: tcp, port: "50000", source_ips: [203.0.113.0/24], description: Talos API}
        - {protocol: tcp, port: 1-65535, source_ips: [10.0.0.0/16], description: node-to-node TCP}
    placement_groups: [controlplane, workers]
    load_balancer:
      location: fsn1
      target_label_selector: talosforge.io/cluster=prod,talosforge.io/role=controlplane
  register: base

- name: The endpoint's public address
  ansible.builtin.debug:
    msg: "{{ base.load_balancer.ipv4 }}"
"""

RETURN = r"""
network:
  description: The network (C(id), C(name), C(ip_range)); null when not wanted or only planned (check mode).
  returned: always
  type: dict
firewall:
  description: The firewall (C(id), C(name)); null when not wanted or only planned.
  returned: always
  type: dict
placement_groups:
  description: The placement groups (C(id), C(name)), in the order of O(placement_groups); null entries are planned.
  returned: always
  type: list
  elements: dict
load_balancer:
  description: The load balancer (C(id), C(name), C(ipv4), C(ipv6), C(private_ipv4)); null when not wanted or planned.
  returned: always
  type: dict
floating_ip:
  description: The floating IP (C(id), C(name), C(ip)); null when not wanted or only planned.
  returned: always
  type: dict
plan:
  description: One entry per resource - C(kind), C(name), C(id), C(action) (create, update, none), C(changes), C(drift).
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: network, name: prod, id: 41, action: update, changes: [subnet 10.0.1.0/24], drift: []}
api_requests:
  description: API requests this run sent (retries included).
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.base_apply import converge
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    rule = {
        "direction": {"type": "str", "choices": ["in", "out"], "default": "in"},
        "protocol": {"type": "str", "choices": ["tcp", "udp", "icmp", "esp", "gre"], "required": True},
        "port": {"type": "str"},
        "source_ips": {"type": "list", "elements": "str", "default": []},
        "destination_ips": {"type": "list", "elements": "str", "default": []},
        "description": {"type": "str"},
    }
    spec = auth_argument_spec(env_fallback)
    spec.update(
        cluster={"type": "str", "required": True},
        name={"type": "str"},
        delete_protection={"type": "bool", "default": False},
        network={
            "type": "dict",
            "options": {
                "ip_range": {"type": "str", "required": True},
                "subnet_ip_range": {"type": "str", "required": True},
                "network_zone": {"type": "str", "default": "eu-central"},
            },
        },
        firewall={
            "type": "dict",
            "options": {"rules": {"type": "list", "elements": "dict", "default": [], "options": rule}},
        },
        placement_groups={"type": "list", "elements": "str", "default": []},
        load_balancer={
            "type": "dict",
            "options": {
                "type": {"type": "str", "default": "lb11"},
                "location": {"type": "str", "required": True},
                "listen_port": {"type": "int", "default": 6443},
                "destination_port": {"type": "int", "default": 6443},
                "target_label_selector": {"type": "str", "required": True},
                "use_private_ip": {"type": "bool", "default": True},
            },
        },
        floating_ip={
            "type": "dict",
            "options": {
                "type": {"type": "str", "choices": ["ipv4", "ipv6"], "default": "ipv4"},
                "home_location": {"type": "str", "required": True},
                "address": {"type": "str"},
            },
        },
        parallel={"type": "int", "default": 8},
        wait_timeout={"type": "float", "default": 600.0},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: converge(client_from_params(module.params), module.params, module.check_mode))


if __name__ == "__main__":
    main()
