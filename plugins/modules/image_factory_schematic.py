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
    details: When the schematic is registered, the diff shows the canonical YAML as the new state.
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
        (ID C(376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba)).
    type: dict
    default: {}
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
"""

RETURN = r"""
id:
  description: The schematic ID (64 lowercase hex characters), the same on every community factory.
  returned: success
  type: str
  sample: 6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
schematic:
  description: The canonical YAML of the schematic, the exact bytes the ID is the SHA-256 of.
  returned: success
  type: str
  sample: "customization:\n    extraKernelArgs:\n        - net.ifnames=0\n"
url:
  description: URL of the schematic on the factory (C(GET) it to read the stored form).
  returned: success
  type: str
  sample: https://factory.talos.dev/schematics/6905bc709e5947573a4ec2d11723b58882936d3d0e15c708f7d78f0c689684a5
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory import (
    ImageFactoryClient,
    ImageFactoryError,
    client_from_params,
    factory_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._schematic import SchematicError, canonicalize


def argument_spec() -> dict[str, Any]:
    spec = factory_argument_spec(env_fallback)
    spec["schematic"] = {"type": "dict", "default": {}}
    return spec


def run_module(params: dict[str, Any], check_mode: bool, client: ImageFactoryClient | None = None) -> dict[str, Any]:
    """Do the work; return the result. Raises SchematicError, ImageFactoryError or HttpError."""
    schematic_id, canonical = canonicalize(params.get("schematic") or {})
    base = (params.get("url") or "").rstrip("/")
    result: dict[str, Any] = {
        "changed": False,
        "id": schematic_id,
        "schematic": canonical,
        "url": f"{base}/schematics/{schematic_id}",
    }
    if check_mode:
        return result
    client = client or client_from_params(params)
    created = client.ensure_schematic(params.get("schematic") or {})[2]
    if created:
        result["changed"] = True
        result["diff"] = {
            "before": "",
            "after": canonical,
            "before_header": f"schematic {schematic_id} (not registered)",
            "after_header": f"schematic {schematic_id}",
        }
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run_module(module.params, module.check_mode)
        if not module._diff:
            result.pop("diff", None)
        module.exit_json(**result)
    except SchematicError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)
    except ImageFactoryError as exc:
        module.fail_json(msg=str(exc))
    except HttpError as exc:
        module.fail_json(
            msg=f"Image Factory request failed: {exc}", status=exc.status, body=exc.body, request_url=exc.url
        )


if __name__ == "__main__":
    main()
