#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_definition
short_description: Validate a cluster definition and resolve it into the cluster model and image plan
version_added: 0.1.0
description:
  - Checks a talosforge cluster definition (see the collection's C(docs/cluster-definition.md)) and reports every
    problem at once, each with its field path and a sentence on how to fix it. Nothing is contacted; the site
    playbook runs this first, before any stage touches an API.
  - Resolves the definition into the cluster model (node pools expanded, every node with the settings it inherits)
    and plans the Talos images the nodes need, with schematic IDs computed locally as the Image Factory does.
  - Never changes anything.
author:
  - talosforge.cluster contributors (@talosforge)
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  definition:
    description: The cluster definition, as written under C(cluster:) in the inventory file.
    type: dict
    required: true
  source:
    description:
      - The file the definition was read from. Relative paths in the definition are resolved against its folder;
        without it, against the current directory.
    type: path
  selected_nodes:
    description:
      - Plan images for these nodes only (the play's hosts, so that C(--limit) narrows the work). Validation always
        covers the whole definition. Omit to plan for every node.
    type: list
    elements: str
  fail_on_warnings:
    description: Fail on warnings too, such as an even number of control-plane nodes.
    type: bool
    default: false
notes:
  - Warnings are shown as Ansible warnings and returned in RV(issues).
"""

EXAMPLES = r"""
- name: Validate the cluster definition from the inventory
  talosforge.cluster.cluster_definition:
    definition: "{{ talosforge_definition }}"
    source: "{{ talosforge_definition_file }}"
    selected_nodes: "{{ ansible_play_hosts }}"
  run_once: true
  delegate_to: localhost
  register: definition

- name: Show the control-plane nodes
  ansible.builtin.debug:
    msg: "{{ definition.cluster.nodes | selectattr('role', 'eq', 'controlplane') | map(attribute='name') }}"
"""

RETURN = r"""
cluster:
  description:
    - The resolved cluster model. Each node carries its inherited settings and, from the image plan,
      C(schematic_id), C(image_url) and C(installer_image).
    - It also carries what the roles need derived from the definition, computed once (the collection's
      C(docs/stage-contract.md)) - C(endpoint.kind), C(endpoint.floating_ip), the first address of each
      load-balancer pool, C(talos_files) and, on Hetzner Cloud, C(provider.labels).
  returned: success
  type: dict
  sample:
    name: homelab
    talos_version: v1.13.9
    kubernetes_version: 1.34.1
    endpoint: {url: "https://10.11.80.100:6443", vip: 10.11.80.100}
    nodes:
      - name: cp-1
        role: controlplane
        address: 10.11.80.11
        platform: metal
        schematic_id: ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515
images:
  description: The distinct images the selected nodes need, one per schematic, platform, architecture and format.
  returned: success
  type: list
  elements: dict
  sample:
    - schematic_id: ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515
      schematic: {customization: {systemExtensions: {officialExtensions: [siderolabs/qemu-guest-agent]}}}
      extensions: [siderolabs/qemu-guest-agent]
      platform: metal
      arch: amd64
      format: qcow2
      filename: ce4c980550dd-v1.13.9-metal-amd64.qcow2
      url: https://factory.talos.dev/image/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515/v1.13.9/metal-amd64.qcow2
      installer_image: factory.talos.dev/metal-installer/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515:v1.13.9
      nodes: [cp-1, cp-2, cp-3]
issues:
  description: Every problem found, errors and warnings, each with C(level), C(path), C(message) and C(fix).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.definition_module import check_definition
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict:
    return {
        "definition": {"type": "dict", "required": True},
        "source": {"type": "path"},
        "selected_nodes": {"type": "list", "elements": "str"},
        "fail_on_warnings": {"type": "bool", "default": False},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: check_definition(module.params, module.warn))


if __name__ == "__main__":
    main()
