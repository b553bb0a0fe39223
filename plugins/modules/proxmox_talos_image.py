#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: proxmox_talos_image
short_description: Put Talos images into Proxmox VE storage through the API, verified, several in parallel
version_added: 0.1.0
description:
  - Stores Talos boot images in a Proxmox storage that holds C(import) content (disk images such as qcow2, to
    be imported as VM disks) or C(iso) content, using only the API (no SSH).
  - By default PVE downloads each image itself from the Image Factory (C(download-url)). With O(method=upload)
    the image is downloaded to O(cache_dir) on the control node and uploaded.
  - Every copy is verified by PVE against a checksum, the first there is of the entry's O(images[].checksum),
    the Image Factory's published C(<url>.sha256) (Enterprise factories publish one), and the SHA-256 of a
    download into O(cache_dir) (the cache of M(talosforge.cluster.image_factory_image) is reused). Without any of them
    the copy is stored unverified and RV(images[].checksum_source) says V(none).
  - Idempotent by file name. The default name, C(<name_prefix><schematic id, 12 characters>-<version>-<platform>-<arch>.<format>),
    holds everything that makes the image, so a volume of that name is the image and is not fetched again.
  - Each image goes to every Proxmox node in its O(images[].pve_nodes), or through one of them when the
    storage is shared. All copies are started at once and their tasks are waited on together.
  - With O(state=absent), removes from O(pve_nodes) every volume whose file name starts with O(name_prefix)
    (and those of O(images)).
extends_documentation_fragment:
  - talosforge.cluster.proxmox
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Lists the storage and says which copies would be made (or removed); nothing is downloaded.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  state:
    description: V(present) stores the images; V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  images:
    description: The images to store.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: Download URL of the image, such as an Image Factory C(/image/<id>/<version>/metal-amd64.qcow2).
        type: str
        required: true
      filename:
        description:
          - File name in the storage. Defaults to O(name_prefix) followed by the schematic id (12 characters),
            version and the factory's file name. Must end in C(.qcow2), C(.raw), C(.vmdk), C(.ova) or C(.img)
            for O(content=import), C(.iso) or C(.img) for O(content=iso).
        type: str
      checksum:
        description: Expected checksum as V(sha256:<hex>) (or another algorithm PVE knows, such as V(sha512:<hex>)).
        type: str
      pve_nodes:
        description: Proxmox nodes that need the image; defaults to O(pve_nodes).
        type: list
        elements: str
  pve_nodes:
    description:
      - Proxmox nodes that need the images (those without their own O(images[].pve_nodes)).
      - With O(state=absent), the nodes to remove the images from.
    type: list
    elements: str
    default: []
  storage:
    description: Storage to put the images in.
    type: str
    default: local
  content:
    description: Content type of the volumes, V(import) for disk images or V(iso).
    type: str
    choices: [import, iso]
    default: import
  method:
    description: V(download_url) lets PVE fetch the image; V(upload) sends it from O(cache_dir).
    type: str
    choices: [download_url, upload]
    default: download_url
  name_prefix:
    description:
      - Start of the default file names; name the cluster in it so that O(state=absent) removes exactly the
        cluster's images.
    type: str
    default: talosforge-
  cache_dir:
    description:
      - Folder on the control node where images are downloaded (and reused) to compute their checksum or to
        upload them. Needed by O(method=upload).
    type: path
  factory_validate_certs:
    description: Verify the TLS certificate of the image URLs (on the control node and in PVE's download).
    type: bool
    default: true
  factory_ca_path:
    description: PEM file of the certificate authorities to trust for the image URLs on the control node.
    type: path
  task_timeout:
    description: Seconds to wait for all the copy tasks together.
    type: int
    default: 1800
  poll_interval:
    description: Longest pause between two polls of the tasks.
    type: float
    default: 1.0
  parallel:
    description: How many API calls and downloads run at the same time.
    type: int
    default: 4
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Let PVE fetch the nodes' images into the import content of storage local
  talosforge.cluster.proxmox_talos_image:
    api_url: https://pve1.example.org:8006
    api_token_id: talosforge@pve!ansible
    api_token_secret: "{{ vault_proxmox_token_secret }}"
    storage: local
    name_prefix: talosforge-homelab-
    pve_nodes: [pve1, pve2]
    images:
      - url: https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/metal-amd64.qcow2
  register: stored

- name: Remove the cluster's images
  talosforge.cluster.proxmox_talos_image:
    api_url: https://pve1.example.org:8006
    api_token_id: talosforge@pve!ansible
    api_token_secret: "{{ vault_proxmox_token_secret }}"
    state: absent
    storage: local
    name_prefix: talosforge-homelab-
    pve_nodes: [pve1, pve2]
"""

RETURN = r"""
images:
  description: One result per entry of O(images), in order.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The image's URL.
      type: str
      returned: always
    filename:
      description: Its file name in the storage.
      type: str
      returned: always
    volid:
      description: Its volume id, for C(import-from), such as C(local:import/<filename>).
      type: str
      returned: always
    changed:
      description: Whether a copy was (or would be) made.
      type: bool
      returned: always
    stored_on:
      description: The Proxmox nodes through which it is stored (one for a shared storage).
      type: list
      elements: str
      returned: always
    copied_to:
      description: The nodes it was (or would be) copied to in this run.
      type: list
      elements: str
      returned: always
    checksum_source:
      description: V(user), V(factory), V(computed), V(none), or V(existing) when no copy was made.
      type: str
      returned: always
shared:
  description: Whether the storage is shared between the nodes.
  returned: when O(state=present)
  type: bool
removed:
  description: The volumes removed (or to be removed), as C(<pve node>:<volid>).
  returned: when O(state=absent)
  type: list
  elements: str
failures:
  description:
    - Per failed copy its C(name) (C(<pve node>:<volid>)), C(url), C(pve_node), C(msg) and, when a request or a PVE
      task failed, its C(failure) (C(status), C(code), C(details) with the task log's tail in C(task_log),
      C(request)); docs/failures.md.
  returned: when some copies failed
  type: list
  elements: dict
api_requests:
  description: Proxmox API requests made.
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    proxmox_argument_spec,
    run_state,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.images_apply import run_absent, run_present


def argument_spec() -> dict[str, Any]:
    spec = proxmox_argument_spec(env_fallback)
    spec.update(
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        images={
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "url": {"type": "str", "required": True},
                "filename": {"type": "str"},
                "checksum": {"type": "str"},
                "pve_nodes": {"type": "list", "elements": "str"},
            },
        },
        pve_nodes={"type": "list", "elements": "str", "default": []},
        storage={"type": "str", "default": "local"},
        content={"type": "str", "choices": ["import", "iso"], "default": "import"},
        method={"type": "str", "choices": ["download_url", "upload"], "default": "download_url"},
        name_prefix={"type": "str", "default": "talosforge-"},
        cache_dir={"type": "path"},
        factory_validate_certs={"type": "bool", "default": True},
        factory_ca_path={"type": "path"},
        task_timeout={"type": "int", "default": 1800},
        poll_interval={"type": "float", "default": 1.0},
        parallel={"type": "int", "default": 4},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run_state(module.params, module.check_mode, run_present, run_absent))


if __name__ == "__main__":
    main()
