#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_machine_config
short_description: Render every node's Talos machine config from the secrets bundle and the cluster model
version_added: 0.1.0
description:
  - Renders the machine config of each node of O(nodes) and writes it to C(<output_dir>/<node>.yaml) (mode
    C(0600)), with a C(talosconfig) for the cluster next to it (or at O(talosconfig)).
  - C(talosctl gen config) runs once per task, whatever the number of nodes, with the cluster's name, API endpoint,
    Kubernetes and Talos versions and the secrets bundle; it writes the control-plane and worker bases and the
    talosconfig. Each node's config is then that base for its role with patches applied in this order, so that a
    later patch can change or delete what an earlier one set.
  - 1. the collection's cluster settings (pod and service networks; CNI C(none) and kube-proxy disabled for
    Cilium with kube-proxy replacement, since Cilium is installed later; C(allowSchedulingOnControlPlanes); the
    external cloud provider for the Hetzner cloud controller manager; the node network for kubelet and etcd).
  - 2. the collection's node settings - install disk and installer image (each node's own, from its schematic,
    so nodes with different extensions share one gen config), node labels and taints, and the network
    documents of Talos v1.12+ - C(HostnameConfig) (the node's name, C(auto=off)); on control planes, when the
    cluster has C(endpoint.vip), C(Layer2VIPConfig) (Proxmox) or C(HCloudVIPConfig) (Hetzner, with
    O(hcloud_token)); C(LinkConfig) with the node's address, prefix and default route, and C(ResolverConfig),
    where Talos configures the address itself (Proxmox with C(addressing=meta) or C(cloud-init)). Before Talos
    v1.12 the same settings go to C(machine.network).
  - 3. the node's C(patches) from the cluster model (cluster, node_defaults, role, pool, node), then O(patches),
    then O(secret_patches).
  - Patches are merged the way Talos merges them - strategic merge (maps merged, lists appended, C($patch=delete)),
    multi-document patches (a document of another kind is added, or merged with the one of the same kind and
    name), and JSON patches (RFC 6902 lists of C(op), C(path), C(value)), which apply to the v1alpha1 document.
  - Every node's new config is checked with C(talosctl validate) (in parallel, O(parallel) at a time) before
    anything is written; a file that already holds exactly the new render is not checked again.
  - A patch that cannot be applied or a config that does not validate fails the task with a message naming the
    node and the field, and no file is written, for any node.
  - A file is rewritten only when its content changes. talosctl generates the same config from the same bundle
    and inputs, so a second run reports no change. The talosconfig keeps its client certificate while the
    bundle's CA is the same.
  - The diff shows each changed file with certificates, keys, tokens and secrets replaced by
    C(<secret:sha256:...>), a hash prefix, so a changed secret still shows.
  - The talosconfig is written to O(talosconfig) when it is given (so that the C(module_defaults) of the
    C(talosforge.cluster.talos) group point every talos module at it), else to C(<output_dir>/talosconfig).
  - Runs on the controller (the Talos stage delegates to localhost). A secrets bundle encrypted with
    ansible-vault is decrypted by the module's action plugin to a private temporary file for the run.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - The configs are rendered and validated in a temporary folder and compared with the files; nothing is written.
      - When the secrets bundle does not exist yet, every file is reported as one that would be created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One diff per changed file, with secret values masked.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
options:
  cluster:
    description:
      - The cluster model, C(talosforge_cluster) as the C(talosforge.cluster.cluster_definition) module returns it
        (nodes with their C(installer_image)).
    type: dict
    required: true
  nodes:
    description:
      - Names of the nodes to render (for example C(ansible_play_hosts)). Omit for every node of O(cluster).
      - Files of nodes not named are left alone.
    type: list
    elements: str
  secrets_file:
    description:
      - The secrets bundle that M(talosforge.cluster.talos_secrets) keeps; plain or encrypted with ansible-vault.
      - It must belong to O(cluster)'s C(name), as recorded next to it in C(<secrets_file>.cluster); a bundle
        recorded for another cluster is refused before anything is written. A bundle without a record is adopted
        for this cluster (the record is written, and the result's C(msg) says so).
    type: path
    required: true
  vault_password_file:
    description:
      - File holding the vault password of an encrypted O(secrets_file); without it the playbook's vault passwords
        (C(--vault-id), C(--vault-password-file), C(--ask-vault-pass)) are used.
      - The bundle is decrypted on the controller into a 0600 file in a scratch folder inside O(output_dir) (never
        the system temp folder), removed after the task; what a killed run left there is removed by the next run.
    type: path
  vault_id:
    description: Vault ID label of the password in O(vault_password_file).
    type: str
  output_dir:
    description:
      - Folder of the rendered files, created with mode C(0700) when missing.
    type: path
    required: true
  endpoint:
    description:
      - The Kubernetes API endpoint URL, for example C(https://10.0.0.10:6443).
      - Default C(endpoint.url) of O(cluster); required when that is not known yet (a Hetzner load balancer
        without C(endpoint.host), before the infrastructure stage has created it).
    type: str
  talosconfig_endpoints:
    description:
      - The endpoints written in the talosconfig (addresses talosctl connects to).
      - Default those of the existing talosconfig; for a new one the control-plane nodes' addresses from
        O(cluster), else the VIP, else the API endpoint's host.
    type: list
    elements: str
  talosconfig_renew_before_days:
    description:
      - The talosconfig keeps its admin client certificate from one run to the next (C(talosctl gen config) issues a
        new one each time) until it expires within this many days; then the new one is written.
    type: int
    default: 30
  link:
    description:
      - Name of the node's network link for C(LinkConfig), C(Layer2VIPConfig) and C(HCloudVIPConfig).
      - Default V(ens18) on Proxmox (the first virtio NIC) and V(eth0) on Hetzner Cloud.
    type: str
  hcloud_token:
    description:
      - Hetzner Cloud API token, written into C(HCloudVIPConfig) when a Hetzner cluster has C(endpoint.vip).
      - When not set, the E(HCLOUD_TOKEN) environment variable is used if it is set.
    type: str
  patches:
    description:
      - More patches for every node of O(nodes), applied after the model's, in the same formats (a mapping, a
        YAML text with one or more documents, or a list of JSON patch operations).
      - For settings without secrets; use O(secret_patches) for the others.
    type: list
    elements: raw
    default: []
  secret_patches:
    description:
      - Patches that carry secrets (an extension's auth key from the vault), each a YAML text with one or more
        documents, applied after O(patches).
      - Not logged. In the diff, every value written by these patches is masked like a key or a token.
      - YAML text rather than mappings, so that Ansible hides each patch whole instead of every word in it.
    type: list
    elements: str
    default: []
  validate:
    description: Check every rendered config with C(talosctl validate) before writing.
    type: bool
    default: true
notes:
  - Files of nodes that left the cluster are not removed.
seealso:
  - module: talosforge.cluster.talos_secrets
  - module: talosforge.cluster.cluster_definition
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Render the machine configs of the play's nodes
  talosforge.cluster.talos_machine_config:
    cluster: "{{ talosforge_cluster }}"
    nodes: "{{ ansible_play_hosts }}"
    secrets_file: "{{ inventory_dir }}/talos/secrets.yaml"
    output_dir: "{{ inventory_dir }}/talos/rendered"
  delegate_to: localhost
  run_once: true
  register: machine_configs

- name: A Hetzner cluster behind a load balancer created by the infrastructure stage, with a Tailscale auth key
  talosforge.cluster.talos_machine_config:
    cluster: "{{ talosforge_cluster }}"
    secrets_file: "{{ inventory_dir }}/talos/secrets.yaml"
    output_dir: "{{ inventory_dir }}/talos/rendered"
    endpoint: "https://{{ load_balancer.ipv4 }}:6443"
    talosconfig_endpoints: "{{ servers | map(attribute='ipv4') }}"
    patches:
      - machine:
          sysctls:
            net.core.somaxconn: "65535"
    secret_patches:
      - |
        apiVersion: v1alpha1
        kind: ExtensionServiceConfig
        name: tailscale
        environment:
          - TS_AUTHKEY={{ talosforge_tailscale_authkey }}
  delegate_to: localhost
  run_once: true

- name: Show which files changed
  ansible.builtin.debug:
    msg: "{{ machine_configs.nodes | selectattr('changed') | map(attribute='path') }}"
"""

RETURN = r"""
output_dir:
  description: The folder of the rendered files (absolute).
  returned: success
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/rendered
nodes:
  description: One entry per node of O(nodes), in the order of the cluster model.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
      returned: always
      sample: cp-1
    role:
      description: C(controlplane) or C(worker).
      type: str
      returned: always
      sample: controlplane
    path:
      description: The node's machine config file.
      type: str
      returned: always
      sample: /home/ops/cluster/inventories/prod/talos/rendered/cp-1.yaml
    changed:
      description: Whether the file was (or would be) written.
      type: bool
      returned: always
    validate_mode:
      description: The C(talosctl validate --mode) for the node's platform (C(metal) or C(cloud)).
      type: str
      returned: always
      sample: metal
talosconfig:
  description: The talosconfig file.
  returned: success
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/rendered/talosconfig
talosconfig_changed:
  description: Whether the talosconfig was (or would be) written.
  returned: success
  type: bool
talosconfig_expires:
  description: When the client certificate of the talosconfig (as written, or as it would be) expires, in UTC.
  returned: success
  type: str
  sample: "2027-11-21T14:52:16+00:00"
failures:
  description: The nodes whose config could not be rendered or did not validate (C(name)), with the reason (C(msg)).
  returned: failure
  type: list
  elements: dict
  sample: [{"name": "worker-1", "msg": "patches[2] of the node: machine.network: cannot merge a string into a mapping"}]
commands:
  description: The talosctl command lines run, without the executable (paths only, no secret content).
  returned: always
  type: list
  elements: list
  sample: [["validate", "--config", "/tmp/talosforge-config-x/render/cp-1.yaml", "--mode", "metal"]]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.machine_config import render_machine_configs
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    client_from_params,
    talos_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import mask_config
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import module_runner


def argument_spec() -> dict[str, Any]:
    return {
        **talos_argument_spec(env_fallback),
        "cluster": {"type": "dict", "required": True},
        "nodes": {"type": "list", "elements": "str"},
        "secrets_file": {"type": "path", "required": True},
        "vault_password_file": {"type": "path", "no_log": False},
        "vault_id": {"type": "str"},
        "output_dir": {"type": "path", "required": True},
        "endpoint": {"type": "str"},
        "talosconfig_endpoints": {"type": "list", "elements": "str"},
        "talosconfig_renew_before_days": {"type": "int", "default": 30},
        "link": {"type": "str"},
        "hcloud_token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["HCLOUD_TOKEN"])},
        "patches": {"type": "list", "elements": "raw", "default": []},
        "secret_patches": {"type": "list", "elements": "str", "default": [], "no_log": True},
        "validate": {"type": "bool", "default": True},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    talosctl = client_from_params(module.params, module_runner(module))
    run_module(module, lambda: render_machine_configs(module.params, module.check_mode, talosctl), mask=mask_config)


if __name__ == "__main__":
    main()
