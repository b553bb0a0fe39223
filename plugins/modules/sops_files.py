#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sops_files
short_description: Keep Kubernetes Secrets encrypted with SOPS for age in a folder, rewritten only when they change
version_added: 0.1.0
description:
  - Keeps one file per Secret in O(dest), each encrypted with C(sops) for the O(age_recipients), the values under the
    keys matching O(encrypted_regex) (C(data) and C(stringData)) as C(ENC[...]) and the rest readable, as Flux's
    kustomize-controller decrypts them. The GitOps stage commits these files; no Secret reaches Git in clear.
  - sops encrypts with a fresh data key and fresh IVs every time, so encrypting an unchanged Secret again would give
    other bytes, and a new commit on every run. Instead, a file already in O(dest) is decrypted with O(age_key) and
    compared, as data, with the Secret wanted, and its sops metadata with the O(age_recipients) and
    O(encrypted_regex) wanted. When both agree its ciphertext is kept byte for byte; otherwise the Secret is
    encrypted anew and the file replaced atomically (mode C(0600)).
  - A file that O(age_key) cannot decrypt (encrypted for other keys) or that is not a SOPS file is encrypted anew for
    the O(age_recipients), with a warning naming it.
  - The plaintext reaches sops on its standard input and comes back on its standard output; it is never written to
    disk, and the age identity is passed in C(SOPS_AGE_KEY) in the environment of the decrypting sops process only.
    sops reads no C(.sops.yaml) (C(--config /dev/null)) and none of the user's keys (C(~/.config/sops/age),
    C(~/.ssh)); the C(SOPS_*) variables of the task's environment are ignored.
  - Every file is decided (decrypted, compared, encrypted, in parallel) before the first is written, so a wrong
    input or a failing sops leaves O(dest) as it was. No value of a Secret appears in the result, a warning, an
    error or the diff.
requirements:
  - sops 3.8 or later (the role C(talosforge.cluster.sops) installs it and sets C(talosforge_sops_binary)), on the
    host the task runs on (the control node, with C(delegate_to=localhost)).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Decrypts and compares the files, and encrypts those that would change in memory (returned in RV(files));
        writes nothing, not even O(dest).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - One entry per changed path listing the Secret's keys, each value replaced by C(<encrypted>),
        C(<encrypted, changed>) or C(<encrypted, added>), and the recipients. Never a value.
options:
  sops_binary:
    description: The sops program to run (the role C(talosforge.cluster.sops) sets C(talosforge_sops_binary)).
    type: path
    required: true
  dest:
    description:
      - The folder holding the encrypted files, on the host the task runs on; created C(0700) when missing.
    type: path
    required: true
  age_recipients:
    description:
      - The age public keys (V(age1...)) every file is encrypted for, such as the cluster's (whose identity is the
        C(sops-age) Secret Flux decrypts with) and the operator's. The recipient of O(age_key) must be among them.
      - A file in O(dest) encrypted for other recipients is encrypted anew.
    type: list
    elements: str
    required: true
  age_key:
    description:
      - The age identity (V(AGE-SECRET-KEY-1...), alone or as C(age-keygen) writes it with its comments) used only to
        decrypt the files already in O(dest); the value of C(talosforge.cluster.vault_secret) with C(kind=age).
    type: str
    required: true
  encrypted_regex:
    description:
      - The keys whose values are encrypted (sops' C(--encrypted-regex)). It must select C(data) and C(stringData).
    type: str
    default: ^(data|stringData)$
  files:
    description: The Secrets to keep, one file each.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - The file's path relative to O(dest), with V(/) separators; V(..), V(.) and absolute paths are refused.
        type: str
        required: true
      content:
        description:
          - The plaintext of one Secret manifest (a single YAML mapping with C(kind) V(Secret)). Never shown.
        type: str
        required: true
  prune:
    description: Remove the files of O(dest) that are not in O(files), and the folders left empty.
    type: bool
    default: false
  parallel:
    description: How many files are decrypted and encrypted at once.
    type: int
    default: 8
notes:
  - Comments and formatting of the Secret do not count; two manifests with the same data are the same Secret, and
    the file is kept.
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Encrypt the cluster's Secrets for the GitOps repository
  talosforge.cluster.sops_files:
    sops_binary: "{{ talosforge_sops_binary }}"
    dest: "{{ talosforge_output_dir }}/gitops-secrets"
    age_recipients:
      - "{{ sops_age.public }}"
    age_key: "{{ sops_age.value }}"
    files:
      - path: cert-manager-tsig.yaml
        content: |
          apiVersion: v1
          kind: Secret
          metadata:
            name: tsig
            namespace: cert-manager
          stringData:
            secret: "{{ tsig.value }}"
    prune: true
  delegate_to: localhost
  register: encrypted

- name: Hand the ciphertext to the GitOps tree
  ansible.builtin.set_fact:
    gitops_secrets: "{{ encrypted.files }}"
"""

RETURN = r"""
files:
  description:
    - The ciphertext of every listed file, by path (in check mode, what would be written). Safe to show and commit.
  returned: success
  type: dict
  sample:
    cert-manager-tsig.yaml: "apiVersion: v1\nkind: Secret\n...\nstringData:\n    secret: ENC[AES256_GCM,data:...]\nsops:\n ..."
changed_paths:
  description: The paths written, re-encrypted, set to mode C(0600) or pruned (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: [cert-manager-tsig.yaml]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._sops.files_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._sops.sops import module_runner


def argument_spec() -> dict[str, Any]:
    return {
        "sops_binary": {"type": "path", "required": True},
        "dest": {"type": "path", "required": True},
        "age_recipients": {"type": "list", "elements": "str", "required": True},
        "age_key": {"type": "str", "required": True, "no_log": True},
        "encrypted_regex": {"type": "str", "default": "^(data|stringData)$"},
        "files": {
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "path": {"type": "str", "required": True},
                "content": {"type": "str", "required": True, "no_log": True},
            },
        },
        "prune": {"type": "bool", "default": False},
        "parallel": {"type": "int", "default": 8},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module.params, module.check_mode, module._diff, module_runner(module)))


if __name__ == "__main__":
    main()
