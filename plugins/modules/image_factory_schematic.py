#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_factory_schematic
short_description: Register a Talos Image Factory schematic and return its ID
version_added: 0.1.0
description:
  - Computes the schematic ID locally, exactly as the Image Factory does (SHA-256 of its canonical YAML form),
    then makes sure the factory knows the schematic.
  - The module asks C(GET /schematics/<id>) first; only when the factory answers 404 does it
    C(POST /schematics), and it fails if the factory answers an ID different from the local one.
  - The schematic is validated before any request. Unknown fields and wrong types are reported with their
    field path, for example C(customization.meta[0].key).
  - In check mode the module makes no request at all. It returns the ID and the canonical form and reports
    no change, because registering a schematic never changes its ID and is repeated safely on the real run.
  - With O(schematics), one task registers many schematics (for example one per node group). Entries that
    normalise to the same ID are registered once, and the distinct ones are checked and registered in parallel.
extends_documentation_fragment:
  - talosforge.cluster.image_factory
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: No request is sent in check mode; C(changed) is always V(false) there.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - When the schematic is registered, the diff shows the canonical YAML as the new state.
      - With O(schematics), there is one diff per schematic registered.
options:
  schematic:
    description:
      - The schematic as the Image Factory accepts it, with the fields C(owner), C(overlay) (C(image), C(name),
        C(options)) and C(customization) (C(embeddedMachineConfiguration), C(extraKernelArgs), C(meta),
        C(systemExtensions.officialExtensions), C(bootloader), C(secureboot.enrollKeys),
        C(secureboot.includeWellKnownCertificates), C(diskImage.sectorSize)).
      - Keys may come in any order. Empty lists, empty mappings and null values are dropped, as the factory does.
      - META keys may be integers (V(10)) or strings in decimal or hex (V("0xa")).
      - An empty mapping is the default schematic
        (ID C(376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba)). It is also what is registered
        when neither O(schematic) nor O(schematics) is given.
      - Mutually exclusive with O(schematics).
    type: dict
    default: {}
  schematics:
    description:
      - Several schematics, each written as O(schematic) is, to register in one task.
      - Every entry is validated before any request; errors name the entry, for example
        C(schematics[2].customization.meta[0].key).
      - Entries that normalise to the same ID are registered once. RV(schematics) holds one result per distinct ID,
        in the order the IDs first appear; RV(ids) holds one ID per entry of this list, duplicates included, so
        the two lists can be zipped.
      - The distinct schematics are checked and registered in parallel, at most O(parallel) at a time.
        If any of them fails, the task fails naming the entry (its index and ID) and still returns the results
        of the others.
      - An empty list registers nothing.
      - Mutually exclusive with O(schematic).
    type: list
    elements: dict
  parallel:
    description:
      - With O(schematics), how many schematics are checked and registered at the same time (each with its own
        connection to the factory).
    type: int
    default: 8
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Register a schematic with the QEMU guest agent and iSCSI tools
  talosforge.cluster.image_factory_schematic:
    schematic:
      customization:
        systemExtensions:
          officialExtensions:
            - siderolabs/qemu-guest-agent
            - siderolabs/iscsi-tools
  register: schematic

- name: A schematic with a static network configuration in META key 0xa (metal platform)
  talosforge.cluster.image_factory_schematic:
    url: https://factory.example.org
    schematic:
      customization:
        meta:
          - key: 0xa
            value: "{{ network_config | to_nice_yaml }}"

- name: Show the installer image of the schematic
  ansible.builtin.debug:
    msg: "factory.talos.dev/metal-installer/{{ schematic.id }}:v1.13.9"

- name: Register the schematics of all node groups in one task (in parallel, each distinct one once)
  talosforge.cluster.image_factory_schematic:
    schematics:
      - customization:
          systemExtensions:
            officialExtensions:
              - siderolabs/qemu-guest-agent
      - customization:
          extraKernelArgs:
            - net.ifnames=0
      - {}
  register: group_schematics

- name: Pair each node group with its schematic ID
  ansible.builtin.debug:
    msg: "{{ dict(['control-plane', 'workers', 'storage'] | zip(group_schematics.ids)) }}"
"""

RETURN = r"""
id:
  description: The schematic ID (64 lowercase hex characters), the same on every community factory.
  returned: success, when O(schematics) is not set
  type: str
  sample: 6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
schematic:
  description: The canonical YAML of the schematic, the exact bytes the ID is the SHA-256 of.
  returned: success, when O(schematics) is not set
  type: str
  sample: "customization:\n    extraKernelArgs:\n        - net.ifnames=0\n"
url:
  description: URL of the schematic on the factory (C(GET) it to read the stored form).
  returned: success, when O(schematics) is not set
  type: str
  sample: https://factory.talos.dev/schematics/6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
schematics:
  description:
    - One result per distinct schematic of O(schematics), in the order their IDs first appear in that list.
    - When the task fails, the entries of the schematics that failed carry C(failed=true) and C(msg).
  returned: when O(schematics) is set
  type: list
  elements: dict
  contains:
    id:
      description: The schematic ID.
      type: str
      returned: always
      sample: 6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
    schematic:
      description: The canonical YAML of the schematic.
      type: str
      returned: always
      sample: "customization:\n    extraKernelArgs:\n        - net.ifnames=0\n"
    url:
      description: URL of the schematic on the factory.
      type: str
      returned: always
      sample: https://factory.talos.dev/schematics/6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
    changed:
      description: Whether this schematic was registered by this task.
      type: bool
      returned: always
ids:
  description:
    - The schematic ID of every entry of O(schematics), in the same order and with duplicates, so that
      C(my_list | zip(result.ids)) pairs each entry with its ID.
  returned: when O(schematics) is set
  type: list
  elements: str
  sample:
    - 6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
    - 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba
    - 6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import factory_argument_spec
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module

MUTUALLY_EXCLUSIVE = [("schematic", "schematics")]


def argument_spec() -> dict[str, Any]:
    spec = factory_argument_spec(env_fallback)
    spec["schematic"] = {"type": "dict", "default": {}}
    spec["schematics"] = {"type": "list", "elements": "dict"}
    spec["parallel"] = {"type": "int", "default": 8}
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True
    )
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
