# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster
short_description: Hosts and groups from a talosforge cluster definition
version_added: 0.1.0
description:
  - Reads one cluster definition (see the collection's C(docs/cluster-definition.md)) from an inventory file whose
    name ends in C(.talosforge.yml) or C(.talosforge.yaml), and turns it into hosts grouped by role, so that
    C(--limit controlplane), C(--limit worker), C(--limit pool_<name>) or a single node name work as usual.
  - Every Talos node becomes a host in the groups C(talos), C(controlplane) or C(worker), and C(pool_<name>) when it
    comes from a node pool. Talos nodes have no SSH; their hosts use the C(local) connection and the collection's
    modules reach the nodes through their APIs.
  - The edge VPS, when the definition has one, becomes a host in the group C(edge), reached over SSH.
  - The resolved definition is available to every host as C(talosforge_cluster); each node's own settings as
    C(talosforge_node). It is the same model the P(talosforge.cluster.definition#role) role publishes, image plan
    included (each node's C(schematic_id), C(image_url) and C(installer_image)), see the collection's
    C(docs/stage-contract.md). When the definition has errors, nodes carry no image fields. The definition as
    written is kept in C(talosforge_definition), so that the
    M(talosforge.cluster.cluster_definition) module can validate it before anything touches an API.
  - Problems in the definition do not stop the inventory from loading (so that they can all be reported at once by
    the site playbook's first step), unless the definition is not a mapping at all.
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: Marks this file as a source for this plugin.
    required: true
    type: str
    choices: [talosforge.cluster.cluster]
  cluster:
    description:
      - The cluster definition. Relative paths in it (such as C(image_factory.cache_dir)) are resolved
        against the folder of the inventory file.
    required: true
    type: dict
"""

EXAMPLES = r"""
# inventories/homelab/cluster.talosforge.yml
plugin: talosforge.cluster.cluster
cluster:
  name: homelab
  talos_version: v1.13.9
  kubernetes_version: 1.34.1
  allow_scheduling_on_control_planes: true
  provider:
    type: proxmox
    proxmox:
      api_url: https://pve.example.org:8006
      nodes: [pve1]
  network:
    nodes: 10.11.80.0/24
  endpoint:
    vip: 10.11.80.100
  nodes:
    - {name: cp1, role: controlplane, address: 10.11.80.11}
    - {name: cp2, role: controlplane, address: 10.11.80.12}
    - {name: cp3, role: controlplane, address: 10.11.80.13}

# Extra groups from node labels, through the constructed options:
# keyed_groups:
#   - key: talosforge_node.labels['topology.kubernetes.io/zone'] | default('none')
#     prefix: zone
"""

import os
import re
import sys
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import published_model
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import (
    errors_of,
    format_issues,
    load_cluster,
)

_FILE_SUFFIXES = (".talosforge.yml", ".talosforge.yaml")


def _group_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "talosforge.cluster.cluster"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(_FILE_SUFFIXES)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        definition = self.get_option("cluster")
        cluster, issues = load_cluster(definition)
        if cluster is None:
            raise AnsibleParserError(f"{path}: the cluster definition cannot be read:\n{format_issues(issues)}")
        base_dir = os.path.dirname(os.path.realpath(path))
        model, _images = published_model(cluster, base_dir, with_images=not errors_of(issues))

        self.inventory.add_group("talos")
        for role in ROLES:
            self.inventory.add_group(role)
            self.inventory.add_child("talos", role)
        self.inventory.set_variable("all", "talosforge_cluster", model)
        self.inventory.set_variable("all", "talosforge_definition", definition)
        self.inventory.set_variable("all", "talosforge_definition_file", os.path.realpath(path))

        strict = self.get_option("strict")
        for node in model["nodes"]:
            self._add_node(node, strict)
        if model.get("edge"):
            self._add_edge(model["edge"])

    def _add_node(self, node: dict, strict: bool) -> None:
        name = node["name"]
        self.inventory.add_host(name, group=node["role"] if node["role"] in ROLES else "talos")
        if node.get("pool"):
            pool_group = "pool_" + _group_name(node["pool"])
            self.inventory.add_group(pool_group)
            self.inventory.add_child("talos", pool_group)
            self.inventory.add_host(name, group=pool_group)
        self.inventory.set_variable(name, "talosforge_node", node)
        self.inventory.set_variable(name, "ansible_connection", "local")
        self.inventory.set_variable(name, "ansible_python_interpreter", sys.executable)
        host_vars = self.inventory.get_host(name).get_vars()
        self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def _add_edge(self, edge: dict) -> None:
        host = edge.get("host")
        if not host:
            return
        self.inventory.add_group("edge")
        self.inventory.add_host(host, group="edge")
        self.inventory.set_variable(host, "talosforge_edge", edge)
