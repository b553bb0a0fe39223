#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_vms
short_description: Converge the Talos VMs of a cluster on Proxmox VE, all nodes in one task
version_added: 0.1.0
description:
  - Takes the whole node list and makes one VM per node across one or more Proxmox nodes, in parallel
    phases. It creates (or reconfigures) every VM, wait for all their tasks together, grow disks, start the stopped
    VMs, wait for the QEMU guest agents.
  - A VM is made with the wanted cores and memory, a boot disk imported from a Talos image in a storage
    (C(import-from)) and grown to the wanted size, a virtio NIC on O(bridge) (and O(vlan)), the guest agent
    enabled, a serial console, and the tags C(talosforge), C(cluster-<cluster_name>) and the node's role.
  - What exists is learnt from one C(/cluster/resources) call. A VM's config is read only when that summary
    shows a difference, so a run with nothing to do makes one API request.
  - A VM belongs to the cluster when its name is the node's name and it carries the C(talosforge) and
    C(cluster-<cluster_name>) tags. A VM of that name without them is refused, never changed.
  - On an existing VM, cores, memory, tags, the NIC's bridge and VLAN (its MAC address is kept), the agent and
    serial settings and the cloud-init address are updated; a disk smaller than wanted is grown. Disks are
    never shrunk or imported again. Changes PVE cannot hot-plug stay pending until the VM is rebooted; the
    module says so in RV(reboot_required) and does not reboot.
  - VMs of the cluster that no node names are removed only with O(prune=true).
  - With O(state=absent), removes every VM carrying the cluster's tags (stopped first, disks destroyed).
  - Returns RV(nodes), the node facts of docs/stage-contract.md, in the order of O(nodes).
extends_documentation_fragment:
  - talosforge.cluster.proxmox
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads what exists and returns the plan (RV(vms)) without writing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
options:
  cluster_name:
    description:
      - Name of the cluster; the VMs are tagged C(cluster-<cluster_name>).
    type: str
    required: true
  state:
    description:
      - V(present) converges the VMs of O(nodes); V(absent) removes all VMs of the cluster.
    type: str
    choices: [present, absent]
    default: present
  nodes:
    description:
      - One entry per Talos node, in the order of the cluster definition.
      - Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: Node name; the VM's name.
        type: str
        required: true
      role:
        description: V(controlplane) or V(worker); becomes a tag.
        type: str
        choices: [controlplane, worker]
        default: worker
      pve_node:
        description: Proxmox node the VM is made on.
        type: str
        required: true
      cores:
        description: CPU cores (one socket).
        type: int
        required: true
      memory:
        description: Memory in MiB.
        type: int
        required: true
      disk:
        description: Size of the boot disk in GiB (the imported image is grown to it).
        type: int
        required: true
      image:
        description:
          - Volume id of the Talos image to import the boot disk from, such as V(local:import/talosforge-demo-376567988ad3-v1.13.9-metal-amd64.qcow2)
            (see M(talosforge.cluster.proxmox_talos_image)). Used only when the VM is made.
        type: str
      address:
        description:
          - The node's static address. With O(cloud_init=true) written as C(address/prefix) into C(ipconfig0).
          - Returned as the node's C(talos_address) in RV(nodes). Without it the address comes from the guest agent.
        type: str
      vmid:
        description: VM id for this node, instead of O(vmid_base) + its position.
        type: int
  storage:
    description: Storage for the VM disks (and the cloud-init drive).
    type: str
    default: local-lvm
  bridge:
    description: Bridge of the VM's NIC.
    type: str
    default: vmbr0
  vlan:
    description: VLAN tag of the VM's NIC.
    type: int
  cloud_init:
    description:
      - Add a NoCloud cloud-init drive and set C(ipconfig0) and C(nameserver) (the Talos nocloud image reads
        them). Leave V(false) for the metal image, whose address is in META key 10.
    type: bool
    default: false
  gateway:
    description: Default gateway written into C(ipconfig0) with O(cloud_init=true).
    type: str
  nameservers:
    description: DNS servers written into the cloud-init C(nameserver) with O(cloud_init=true).
    type: list
    elements: str
    default: []
  vmid_base:
    description:
      - First VM id; a new node's VM gets O(vmid_base) + its position in O(nodes).
      - Without it new VMs get the free ids from C(/cluster/nextid) upwards, chosen before any VM is made so
        that parallel creations never race for one id.
    type: int
  cpu_type:
    description: QEMU CPU type of new VMs (Talos needs x86-64-v2 or later).
    type: str
    default: x86-64-v2-AES
  start:
    description: Start VMs that are stopped (new VMs included).
    type: bool
    default: true
  wait_agent:
    description:
      - Wait until the QEMU guest agent of every VM started in this run answers (the image needs the
        C(siderolabs/qemu-guest-agent) extension). Without the extension set V(false); the Talos stage then
        waits, bounded, for the Talos API of each node.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the guest agents, all together.
    type: int
    default: 300
  task_timeout:
    description: Seconds to wait for each phase's PVE tasks, all together.
    type: int
    default: 600
  poll_interval:
    description: Longest pause between two polls of task status or guest agents (polls start faster).
    type: float
    default: 1.0
  prune:
    description: Remove the cluster's VMs that no entry of O(nodes) names.
    type: bool
    default: false
  parallel:
    description: How many API calls run at the same time.
    type: int
    default: 8
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Make the cluster's VMs
  talosforge.cluster.proxmox_vms:
    api_url: https://pve1.example.org:8006
    api_token_id: talosforge@pve!ansible
    api_token_secret: "{{ vault_proxmox_token_secret }}"
    cluster_name: homelab
    storage: local-lvm
    bridge: vmbr0
    vmid_base: 4100
    nodes:
      - {name: cp-1, role: controlplane, pve_node: pve1, cores: 2, memory: 4096, disk: 20,
         image: "local:import/talosforge-homelab-1c2b3a4d5e6f-v1.13.9-metal-amd64.qcow2", address: 10.0.1.11}
      - {name: worker-1, role: worker, pve_node: pve2, cores: 4, memory: 8192, disk: 100,
         image: "local:import/talosforge-homelab-8a9b0c1d2e3f-v1.13.9-metal-amd64.qcow2", address: 10.0.1.21}
  register: vms

- name: Remove every VM of the cluster
  talosforge.cluster.proxmox_vms:
    api_url: https://pve1.example.org:8006
    api_token_id: talosforge@pve!ansible
    api_token_secret: "{{ vault_proxmox_token_secret }}"
    cluster_name: homelab
    state: absent
"""

RETURN = r"""
nodes:
  description: Node facts (docs/stage-contract.md), one per entry of O(nodes), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: cp-1, role: controlplane, provider: proxmox, provider_id: pve1/4100, location: pve1,
       public_ipv4: null, public_ipv6: null, private_ipv4: 10.0.1.11, talos_address: 10.0.1.11, status: running}
vms:
  description:
    - Per node what was (or in check mode would be) done.
    - C(action) is V(create), V(update) or V(unchanged); C(changes) the config keys set; C(resize_to_gib) the
      disk growth; C(start) whether it was started; C(notes) what to know (pending until reboot, never shrunk).
  returned: when O(state=present)
  type: list
  elements: dict
orphans:
  description: VMs of the cluster no node names, left in place (O(prune=false)), as C(<pve node>/<vmid> (<name>)).
  returned: when O(state=present)
  type: list
  elements: str
pruned:
  description: Names of the VMs removed (or to be removed) by O(prune=true).
  returned: when O(state=present)
  type: list
  elements: str
reboot_required:
  description: Nodes whose changes wait for a reboot of the VM.
  returned: when O(state=present)
  type: list
  elements: str
removed:
  description: VMs removed with O(state=absent), as C(<pve node>/<vmid> (<name>)).
  returned: when O(state=absent)
  type: list
  elements: str
failures:
  description:
    - Per failed VM its C(name), C(msg) and C(failure) (C(status), C(code), C(details) with PVE's parameter
      C(errors) and the failed task's log tail in C(task_log), C(request)); docs/failures.md.
  returned: when some VMs failed
  type: list
  elements: dict
api_requests:
  description: API requests made (retries included).
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    proxmox_argument_spec,
    run_state,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_apply import run_absent, run_present


def argument_spec() -> dict[str, Any]:
    spec = proxmox_argument_spec(env_fallback)
    spec.update(
        cluster_name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        nodes={"type": "list", "elements": "dict", "options": node_options()},
        storage={"type": "str", "default": "local-lvm"},
        bridge={"type": "str", "default": "vmbr0"},
        vlan={"type": "int"},
        cloud_init={"type": "bool", "default": False},
        gateway={"type": "str"},
        nameservers={"type": "list", "elements": "str", "default": []},
        vmid_base={"type": "int"},
        cpu_type={"type": "str", "default": "x86-64-v2-AES"},
        start={"type": "bool", "default": True},
        wait_agent={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
        task_timeout={"type": "int", "default": 600},
        poll_interval={"type": "float", "default": 1.0},
        prune={"type": "bool", "default": False},
        parallel={"type": "int", "default": 8},
    )
    return spec


def node_options() -> dict[str, Any]:
    return {
        "name": {"type": "str", "required": True},
        "role": {"type": "str", "choices": list(ROLES), "default": "worker"},
        "pve_node": {"type": "str", "required": True},
        "cores": {"type": "int", "required": True},
        "memory": {"type": "int", "required": True},
        "disk": {"type": "int", "required": True},
        "image": {"type": "str"},
        "address": {"type": "str"},
        "vmid": {"type": "int"},
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("nodes",))],
        supports_check_mode=True,
    )
    run_module(module, lambda: run_state(module.params, module.check_mode, run_present, run_absent))


if __name__ == "__main__":
    main()
