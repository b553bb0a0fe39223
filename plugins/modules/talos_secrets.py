#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_secrets
short_description: Generate the Talos secrets bundle once and keep it encrypted with ansible-vault
version_added: 0.1.0
description:
  - Makes sure a Talos secrets bundle (the cluster's CAs, keys and tokens, as C(talosctl gen secrets) writes it)
    exists at O(path). Every machine config of the cluster is generated from it
    (see M(talosforge.cluster.talos_machine_config)).
  - An existing bundle is never overwritten. It is read and checked (it must parse as a secrets bundle, with every
    certificate, key and token Talos needs), and the task reports no change.
  - When the file is missing, C(talosctl gen secrets) generates a new bundle in a private temporary folder; the
    bundle is written to O(path) with mode C(0600), encrypted with ansible-vault when O(encrypt=true).
  - Encryption happens on the controller, in the module's action plugin, with the vault password that
    C(ansible-playbook) was given (C(--vault-id), C(--vault-password-file), C(--ask-vault-pass)) or with
    O(vault_password_file). An existing encrypted bundle is decrypted in memory only, to be checked.
  - O(rotate=true) replaces the bundle with a new one and keeps the old file, unchanged, as a timestamped
    C(0600) backup next to it. Rotating the secrets of a running cluster replaces its CAs, so the nodes must then
    get new machine configs, and clients new kubeconfig and talosconfig files.
  - The result never holds secret content; the diff shows the bundle with every key, certificate and token
    replaced by C(<secret:sha256:...>), a hash prefix, so that a rotation still shows which values changed.
  - The options O(talosconfig) and O(parallel) of the shared talos options are accepted (so that
    C(module_defaults) for the C(talosforge.cluster.talos) group apply) and have no effect here.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is generated or written in check mode; the task says whether it would create, rotate or encrypt.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: partial
    details: When a bundle is created or rotated, the diff shows it with every secret value masked.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
options:
  path:
    description:
      - The bundle file on the controller, for example C(inventories/prod/talos/secrets.yaml).
      - Its folder is created (mode C(0700)) when missing.
    type: path
    required: true
  cluster_name:
    description:
      - "The cluster the bundle belongs to. It is recorded next to the bundle in C(<path>.cluster) (mode C(0600),
        holding C(cluster: <name>)); the bundle itself stays exactly what C(talosctl gen secrets) wrote."
      - A bundle recorded for another cluster is refused, naming both clusters and the file, before anything is
        written. A bundle without a record (made by an older release) is adopted for this cluster.
      - Without it the record is neither checked nor written.
    type: str
  rotate:
    description:
      - Replace an existing bundle with a newly generated one, keeping the old file as
        C(<path>.<UTC timestamp>.bak) (mode C(0600)).
      - Without it an existing bundle is only checked, never changed.
    type: bool
    default: false
  talos_version:
    description:
      - The Talos version the bundle is generated for (C(talosctl gen secrets --talos-version)), for example
        V(v1.13.9). Omit for the version of the talosctl that runs.
    type: str
  encrypt:
    description:
      - Keep the bundle encrypted with ansible-vault.
      - A vault password is then required, from O(vault_password_file) or from the passwords the playbook runs with.
      - An existing plain-text bundle is encrypted in place (reported as a change).
      - With V(false), a new bundle is written in plain text and an existing encrypted bundle is left encrypted.
    type: bool
    default: true
  vault_id:
    description:
      - The vault ID to encrypt with, among those the playbook was given (C(--vault-id prod@...)), and the label
        written in the vault header. Omit to use the first vault password given.
      - With O(vault_password_file), only the label of that password.
    type: str
  vault_password_file:
    description:
      - A file holding the vault password (or an executable script printing it), used instead of the playbook's
        vault passwords to encrypt the bundle and to decrypt an existing one.
    type: path
notes:
  - The bundle is the root of trust of the cluster. Keep it in the inventory's repository only encrypted, and keep
    its backups like the bundle itself.
seealso:
  - module: talosforge.cluster.talos_machine_config
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Generate the cluster's secrets bundle once, encrypted with the playbook's vault password
  talosforge.cluster.talos_secrets:
    path: "{{ inventory_dir }}/talos/secrets.yaml"
    talos_version: "{{ talosforge_cluster.talos_version }}"
  delegate_to: localhost
  run_once: true

- name: The same with an explicit vault password file and vault ID label
  talosforge.cluster.talos_secrets:
    path: "{{ inventory_dir }}/talos/secrets.yaml"
    vault_id: prod
    vault_password_file: ~/.config/talosforge/prod.vault-pass
  delegate_to: localhost
  run_once: true

- name: Replace the bundle (keeps a timestamped backup)
  talosforge.cluster.talos_secrets:
    path: "{{ inventory_dir }}/talos/secrets.yaml"
    rotate: true
  delegate_to: localhost
  run_once: true
  register: rotation

- name: Show where the old bundle went
  ansible.builtin.debug:
    msg: "The previous bundle is kept in {{ rotation.backup }}"
  when: rotation.rotated
"""

RETURN = r"""
path:
  description: The bundle's absolute path.
  returned: always
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/secrets.yaml
encrypted:
  description: Whether the bundle is (or, in check mode, would be) encrypted with ansible-vault.
  returned: success
  type: bool
  sample: true
created:
  description: Whether the bundle was (or would be) generated because there was none.
  returned: success
  type: bool
  sample: false
rotated:
  description: Whether an existing bundle was (or would be) replaced because of O(rotate).
  returned: success
  type: bool
  sample: false
backup:
  description: The copy of the replaced bundle (as it was, encrypted or not).
  returned: when a bundle was rotated
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/secrets.yaml.20260301T120000Z.bak
commands:
  description: The talosctl command lines run, without the executable (no secret content).
  returned: success
  type: list
  elements: list
  sample: [["gen", "secrets", "--output-file", "/tmp/talosforge-secrets-1a2b/secrets.yaml"]]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import client_from_params
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import mask_config
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import (
    argument_spec as secrets_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import keep_secrets_bundle
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import module_runner


def argument_spec() -> dict[str, Any]:
    return secrets_argument_spec(env_fallback)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    talosctl = client_from_params(module.params, module_runner(module))
    run_module(module, lambda: keep_secrets_bundle(module.params, module.check_mode, talosctl), mask=mask_config)


if __name__ == "__main__":
    main()
