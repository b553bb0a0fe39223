#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_etcd_snapshot
short_description: Take an etcd snapshot of a Talos cluster to a file, with its SHA-256
version_added: 0.1.0
description:
  - Streams a snapshot of etcd from the first control plane of O(nodes) that answers (C(talosctl etcd snapshot)) to
    O(path), with mode C(0600), and returns its size and SHA-256.
  - The snapshot is written to a temporary file in the same folder and renamed when complete, so O(path) never holds
    a partial snapshot.
  - When O(path) already exists and O(force=false), no snapshot is taken and the existing file is described; name
    the file by date (for example C(etcd-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}.db)) to take one per run.
extends_documentation_fragment:
  - talosforge.cluster.talos
  - talosforge.cluster.talos_nodes
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode no snapshot is taken; the task reports whether it would take one.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The cluster's nodes. The control planes are tried in order. When no node has a role, every node is taken as
        one.
  path:
    description:
      - The snapshot file to write. Its folder is created when missing.
    type: path
    required: true
  force:
    description:
      - Take a new snapshot even when O(path) exists, replacing it.
    type: bool
    default: false
notes:
  - "Restoring (disaster recovery, when etcd has lost quorum for good): reset the control planes' etcd state
    (C(talosctl reset --system-labels-to-wipe EPHEMERAL) on each control plane, or rebuild them), apply their
    configurations again (M(talosforge.cluster.talos_apply_config)), then bootstrap the first one from the
    snapshot instead of with M(talosforge.cluster.talos_bootstrap): C(talosctl bootstrap --recover-from <path>)
    (add C(--recover-skip-hash-check) only for a copy of the etcd data directory rather than a snapshot). The
    other control planes join on their own. Check the file's SHA-256 against the one returned when it was taken
    first. See the EXAMPLES."
  - The snapshot holds every Kubernetes Secret of the cluster; keep it encrypted at rest.
seealso:
  - module: talosforge.cluster.talos_bootstrap
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Take a dated etcd snapshot
  talosforge.cluster.talos_etcd_snapshot:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes: "{{ talos_nodes }}"
    path: "{{ backup_dir }}/etcd-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}.db"
  register: snapshot

- name: Record its checksum next to it
  ansible.builtin.copy:
    content: "{{ snapshot.sha256 }}  {{ snapshot.path | basename }}\n"
    dest: "{{ snapshot.path }}.sha256"
    mode: "0600"

# Restore (disaster recovery only): verify the snapshot, wipe etcd state on the control planes, re-apply their
# configurations, then bootstrap the first control plane from the snapshot.
- name: Verify the snapshot's checksum
  ansible.builtin.stat:
    path: "{{ backup_dir }}/etcd-20260509T073611Z.db"
    checksum_algorithm: sha256
  register: restore_file
  failed_when: restore_file.stat.checksum != expected_sha256

- name: Bootstrap etcd from the snapshot
  ansible.builtin.command:
    argv: [talosctl, bootstrap, --recover-from, "{{ restore_file.stat.path }}",
           --talosconfig, "{{ cluster_dir }}/talosconfig",
           --nodes, "{{ first_control_plane }}", --endpoints, "{{ first_control_plane }}"]
  changed_when: true
"""

RETURN = r"""
path:
  description: The snapshot file.
  returned: always
  type: str
  sample: /backups/prod/etcd-20260509T073611Z.db
size:
  description: Its size in bytes.
  returned: when the file exists after the task
  type: int
  sample: 5246976
sha256:
  description: Its SHA-256, in hex.
  returned: when the file exists after the task
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
node:
  description: The name of the control plane the snapshot was taken from.
  returned: when a snapshot was taken
  type: str
  sample: cp1
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.etcd_snapshot import take_snapshot
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import (
    node_module_spec,
    run_node_module,
)


def argument_spec() -> dict[str, Any]:
    return node_module_spec(
        env_fallback,
        path={"type": "path", "required": True},
        force={"type": "bool", "default": False},
    )


def main() -> None:
    run_node_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), take_snapshot)


if __name__ == "__main__":
    main()
