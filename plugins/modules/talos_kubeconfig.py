#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_kubeconfig
short_description: Write the cluster's admin kubeconfig, merge it into an existing one, renew it before it expires
version_added: 0.1.0
description:
  - Asks a control plane for an admin kubeconfig (C(talosctl kubeconfig - --merge=false), which prints it) and writes
    it to O(path) with mode C(0600), atomically.
  - The control planes of O(nodes) are asked in order until one answers.
  - "The file is left as it is when it already holds the cluster (same server and certificate authority), its
    admin user with a client certificate valid for more than O(renew_before_days) days, and the context that ties
    them. Talos issues a new client certificate for every request, so comparing the files byte for byte would
    always find a change: the decision is made on these entries and on the certificate's expiry, which is read
    with the C(cryptography) library."
  - With O(merge=true), the cluster, user and context are merged into the existing file by name (entries of other
    clusters are kept) and the current context is set to this cluster's, as C(talosctl kubeconfig --merge) does.
    With O(merge=false), the file is replaced whenever it holds anything else.
  - The kubeconfig's content is never returned or logged.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the kubeconfig is fetched and compared, and nothing is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The diff names the context, server and certificate expiry only, never a key or certificate.
options:
  nodes:
    description:
      - The cluster's nodes. The control planes are asked in order. When no node has a role, every node is taken as
        one.
  path:
    description:
      - Where the kubeconfig is written (mode C(0600)). Its folder is created when missing.
    type: path
    required: true
  merge:
    description:
      - Merge into the existing file (clusters, users and contexts by name) instead of replacing it.
    type: bool
    default: false
  renew_before_days:
    description:
      - Write a new kubeconfig when the client certificate in the file expires within this many days.
    type: int
    default: 30
  force:
    description:
      - Write a new kubeconfig even when the file is up to date.
    type: bool
    default: false
notes:
  - The talosconfig written by M(talosforge.cluster.talos_machine_config) also holds a client certificate that
    expires; renew it with C(talosctl config new) before then.
seealso:
  - module: talosforge.cluster.talos_bootstrap
requirements:
  - PyYAML and cryptography (both come with ansible-core) on the host that runs the module.
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Write the admin kubeconfig next to the talosconfig
  talosforge.cluster.talos_kubeconfig:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    path: "{{ cluster_dir }}/kubeconfig"
    nodes: "{{ talos_nodes }}"

- name: Merge it into the operator's kubeconfig, renewing it two months before it expires
  talosforge.cluster.talos_kubeconfig:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    path: ~/.kube/config
    merge: true
    renew_before_days: 60
    nodes: "{{ talos_nodes }}"
"""

RETURN = r"""
path:
  description: The kubeconfig's path.
  returned: always
  type: str
  sample: /home/ops/clusters/prod/kubeconfig
context:
  description: The name of the cluster's context.
  returned: always
  type: str
  sample: admin@prod
cluster:
  description: The name of the cluster entry.
  returned: always
  type: str
  sample: prod
server:
  description: The Kubernetes API server URL.
  returned: always
  type: str
  sample: https://10.0.0.10:6443
node:
  description: The name of the control plane that answered.
  returned: always
  type: str
  sample: cp1
expires:
  description: When the client certificate in the file expires (ISO 8601, UTC), after the task.
  returned: when known
  type: str
  sample: "2027-05-09T07:36:11+00:00"
renewed:
  description: Whether a new client certificate was (or, in check mode, would be) written.
  returned: always
  type: bool
reason:
  description: Why the file was (or was not) written.
  returned: always
  type: str
  sample: the kubeconfig does not exist yet
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.kubeconfig_fetch import keep_kubeconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        path={"type": "path", "required": True},
        merge={"type": "bool", "default": False},
        renew_before_days={"type": "int", "default": 30},
        force={"type": "bool", "default": False},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), keep_kubeconfig)


if __name__ == "__main__":
    main()
