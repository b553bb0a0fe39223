#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_secret
short_description: Generate a secret once and keep it in a file encrypted with ansible-vault
version_added: 0.1.0
description:
  - Makes sure a file at O(path) holds a secret of O(kind), encrypted with ansible-vault, and returns the secret.
    The first run generates it (from the operating system's random source) and writes it with mode C(0600); every
    later run decrypts it in memory and returns the same value.
  - Used for the secrets the collection makes itself, such as the in-cluster PowerDNS's API key, the TSIG key
    cert-manager signs its DNS updates with, a GitOps deploy key (O(kind=ssh_ed25519)) or a SOPS age key
    (O(kind=age)).
  - An existing file is never replaced. It must hold a secret of O(kind) (else the task fails, naming the file);
    a file that is not encrypted yet is encrypted, and its mode is set to C(0600).
  - Encryption happens on the controller, in the module's action plugin (the same ansible-vault code as
    M(talosforge.cluster.talos_secrets)), with O(vault_password_file) or with the vault password C(ansible-playbook)
    was given (C(--vault-id), C(--vault-password-file), C(--ask-vault-pass)).
  - The task's result holds the secret; it is marked C(no_log), so it is shown censored, while a registered variable
    holds the value.
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - An existing secret is read and returned. When the file does not exist, a secret is generated and returned
        but not kept (the real run generates another one).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: partial
    details: Says that a secret is created, never its value.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
options:
  path:
    description:
      - The file the encrypted secret is kept in, on the controller. Its folder is created (mode C(0700)) when missing.
    type: path
    required: true
  kind:
    description:
      - V(base64) is O(length) random bytes in base64 (a TSIG secret), V(hex) the same in hexadecimal, V(password)
        O(length) random letters and digits.
      - V(ssh_ed25519) is an ed25519 SSH key pair (the value is the OpenSSH private key, RV(public) the public key
        line); V(age) is an age X25519 identity (the value is C(AGE-SECRET-KEY-1...), RV(public) the C(age1...)
        recipient), written like C(age-keygen) writes it.
    type: str
    choices: [base64, hex, password, ssh_ed25519, age]
    default: base64
  length:
    description:
      - For V(base64) and V(hex), the number of random bytes; for V(password), the number of characters. From 16
        to 4096; used only when the secret is generated.
    type: int
    default: 32
  vault_id:
    description:
      - The vault ID to encrypt with, among those the playbook was given, and the label written in the vault header.
        Omit to use the first vault password given.
    type: str
  vault_password_file:
    description:
      - A file holding the vault password (or an executable script printing it), used instead of the playbook's
        vault passwords to encrypt the secret and to decrypt it.
    type: path
notes:
  - The module runs only through its action plugin (as a task); a raw module call cannot use ansible-vault and fails.
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: The TSIG key cert-manager signs its updates with, made once
  talosforge.cluster.vault_secret:
    path: "{{ inventory_dir }}/secrets/tsig-cert-manager.vault"
    kind: base64
    length: 32
    vault_password_file: ~/.config/talosforge/prod.vault-pass
  register: tsig

- name: A deploy key for the GitOps repository
  talosforge.cluster.vault_secret:
    path: "{{ inventory_dir }}/secrets/flux-deploy-key.vault"
    kind: ssh_ed25519
  register: deploy_key

- name: Show the public half (the private one stays in the vault file)
  ansible.builtin.debug:
    msg: "{{ deploy_key.public }}"
"""

RETURN = r"""
value:
  description: The secret (in check mode, for a file that does not exist yet, one that is not kept).
  returned: success
  type: str
  sample: 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
public:
  description: The public half of a key pair; V(null) for the random kinds.
  returned: success
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc0j3u2n9Tn0VwTq1n8r2b6kI0X3cY9mLk5n2o9q8Zr
path:
  description: The absolute path of the file.
  returned: always
  type: str
  sample: /home/ops/cluster/inventories/prod/secrets/tsig-cert-manager.vault
kind:
  description: The kind of secret.
  returned: always
  type: str
  sample: base64
created:
  description: Whether the secret was generated in this run (would be, in check mode).
  returned: always
  type: bool
  sample: false
encrypted:
  description: Always V(true) after the run; the file is kept encrypted.
  returned: always
  type: bool
  sample: true
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.secret import (
    argument_spec as secret_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.secret import keep_secret


def argument_spec() -> dict[str, Any]:
    return secret_argument_spec()


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: keep_secret(module.params, module.check_mode))


if __name__ == "__main__":
    main()
