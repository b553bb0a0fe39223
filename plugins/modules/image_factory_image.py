#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_factory_image
short_description: Name, and optionally download, a Talos boot image from an Image Factory
version_added: 0.1.0
description:
  - Builds the download URL of a boot image (disk image, ISO, UKI) and the installer image reference for a
    schematic ID and Talos version. Without O(dest_dir) nothing is sent over the network.
  - With O(dest_dir), downloads the image into that cache directory and verifies it. A download goes to
    C(<filename>.part) first and is resumed on the next run if it breaks off. The verified file is renamed into
    place, and its SHA-256 is written to C(<filename>.sha256). A later run that finds the file matching its
    C(.sha256) file downloads nothing and reports no change.
  - The download is verified against O(checksum) when given, else against the checksum the factory publishes
    at C(<image url>.sha256). The community factory publishes none (it answers 402); the module then records
    the computed SHA-256 and returns RV(checksum_verified=false).
  - With O(images), one task names and downloads many images (for example one per platform and architecture).
    The distinct downloads run in parallel, at most O(parallel) at a time, each exactly as a single image is
    downloaded. Hosts that share a cache wait for each other on each file.
extends_documentation_fragment:
  - talosforge.cluster.image_factory
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Nothing is downloaded; the result says, from the cache alone, whether a download would happen.
      - With O(images), that is said for each image.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  schematic_id:
    description:
      - Schematic ID, as returned by M(talosforge.cluster.image_factory_schematic).
      - One of O(schematic_id) and O(images) is required; they are mutually exclusive.
    type: str
  talos_version:
    description:
      - Talos version, such as V(v1.13.9) (a missing leading V(v) is added).
      - Required with O(schematic_id). With O(images), the version of the images that do not set their own.
    type: str
  platform:
    description:
      - Talos platform of the image, such as V(metal), V(hcloud), V(nocloud), V(aws) or V(vmware).
      - With O(images), the platform of the images that do not set their own (as for O(arch), O(format),
        O(secureboot) and O(decompress)).
    type: str
    default: metal
  arch:
    description:
      - CPU architecture.
    type: str
    choices: [amd64, arm64]
    default: amd64
  format:
    description:
      - Image format, the file suffix the factory serves, such as V(raw.xz), V(raw.zst), V(qcow2), V(iso),
        V(raw.tar.gz), V(vhd.xz), V(ova) or V(uki.efi).
    type: str
    default: raw.xz
  secureboot:
    description:
      - Use the SecureBoot variant of the image and of the installer.
    type: bool
    default: false
  installer_registry:
    description:
      - Registry that serves installer images, as C(host[:port]).
      - Defaults to the host (and port) of O(url).
    type: str
  dest_dir:
    description:
      - Cache directory to download the image into; created with mode 0700 when missing.
      - Without it the module only returns names and URLs.
    type: path
  filename:
    description:
      - File name in O(dest_dir).
      - Defaults to C(<id12>-<talos_version>-<name served by the factory>), where C(id12) is the first 12 characters
        of the schematic ID, for example C(376567988ad3-v1.13.9-metal-amd64.raw.xz). Images of different
        schematics and versions thus never share a name.
      - Not with O(images), where each image may set its own.
    type: str
  checksum:
    description:
      - Expected checksum of the downloaded file, as V(sha256:<hex>) or V(sha512:<hex>).
      - When O(decompress=true), this is the checksum of the compressed file as served.
      - Not with O(images), where each image may set its own.
    type: str
  decompress:
    description:
      - Also unpack a V(.xz) or V(.gz) image to the file name without that suffix (the compressed file is kept).
    type: bool
    default: false
  images:
    description:
      - Several images to name, and with O(dest_dir) download, in one task.
      - A key left out of an image takes the value of the option of the same name (O(talos_version), O(platform),
        O(arch), O(format), O(secureboot), O(decompress)); O(filename) and O(checksum) are per image only.
      - Every image is checked before anything is downloaded; errors name the image, for example C(images[2]).
      - Images that are the same download (same URL, file name, checksum and O(decompress)) are downloaded once.
        Two different images may not write the same file name.
      - RV(images) has one result per image of this list, in the same order.
      - If any download fails, the task fails naming the image (its index and URL) and still returns the results
        of the others.
      - Mutually exclusive with O(schematic_id), O(filename) and O(checksum).
    type: list
    elements: dict
    suboptions:
      schematic_id:
        description:
          - Schematic ID of the image.
        type: str
        required: true
      talos_version:
        description:
          - Talos version of the image; defaults to O(talos_version).
        type: str
      platform:
        description:
          - Talos platform of the image; defaults to O(platform).
        type: str
      arch:
        description:
          - CPU architecture of the image; defaults to O(arch).
        type: str
        choices: [amd64, arm64]
      format:
        description:
          - Image format; defaults to O(format).
        type: str
      secureboot:
        description:
          - Use the SecureBoot variant; defaults to O(secureboot).
        type: bool
      filename:
        description:
          - File name in O(dest_dir); defaults as O(filename) does.
        type: str
      checksum:
        description:
          - Expected checksum of the downloaded file, as O(checksum).
        type: str
      decompress:
        description:
          - Also unpack the image; defaults to O(decompress).
        type: bool
  parallel:
    description:
      - With O(images) and O(dest_dir), how many images are downloaded at the same time (each with its own
        connection to the factory).
    type: int
    default: 4
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Name the Hetzner Cloud image and the installer for a schematic
  talosforge.cluster.image_factory_image:
    schematic_id: "{{ schematic.id }}"
    talos_version: v1.13.9
    platform: hcloud
  register: image

- name: Download the metal image for Proxmox and unpack it
  talosforge.cluster.image_factory_image:
    schematic_id: "{{ schematic.id }}"
    talos_version: v1.13.9
    platform: metal
    format: raw.xz
    dest_dir: ~/.cache/talosforge/images
    decompress: true
  register: metal_image
  delegate_to: localhost
  run_once: true

- name: Download the images of every platform and architecture in one task, in parallel
  talosforge.cluster.image_factory_image:
    talos_version: v1.13.9
    dest_dir: ~/.cache/talosforge/images
    images:
      - schematic_id: "{{ schematic.id }}"
        platform: hcloud
      - schematic_id: "{{ schematic.id }}"
        platform: hcloud
        arch: arm64
      - schematic_id: "{{ proxmox_schematic.id }}"
        platform: nocloud
        format: qcow2
  register: cluster_images
  delegate_to: localhost
  run_once: true

- name: Show where each image is
  ansible.builtin.debug:
    msg: "{{ cluster_images.images | map(attribute='path') | list }}"
"""

RETURN = r"""
url:
  description: Download URL of the image.
  returned: when O(images) is not set
  type: str
  sample: https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/hcloud-amd64.raw.xz
installer_image:
  description: Installer image reference for the same schematic, platform and version.
  returned: when O(images) is not set
  type: str
  sample: factory.talos.dev/hcloud-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.13.9
filename:
  description: Name of the image file in O(dest_dir) (as downloaded, before unpacking).
  returned: when O(images) is not set
  type: str
  sample: 376567988ad3-v1.13.9-hcloud-amd64.raw.xz
path:
  description: The file to use, the unpacked one when O(decompress=true).
  returned: when O(dest_dir) is set and O(images) is not
  type: str
  sample: /home/me/.cache/talosforge/images/376567988ad3-v1.13.9-metal-amd64.raw
sha256:
  description: SHA-256 of RV(path); empty in check mode when the file is not there yet.
  returned: when O(dest_dir) is set and O(images) is not
  type: str
download_path:
  description: The downloaded file (equal to RV(path) without O(decompress)).
  returned: when O(dest_dir) is set and O(images) is not
  type: str
download_sha256:
  description: SHA-256 of RV(download_path).
  returned: when O(dest_dir) is set and O(images) is not
  type: str
checksum_verified:
  description:
    - Whether the file was checked against O(checksum) or the factory's published checksum in this run.
    - V(false) on the community factory, which publishes no checksums, and on a cache hit without O(checksum).
  returned: when O(dest_dir) is set and O(images) is not
  type: bool
checksum_source:
  description:
    - V(user) (O(checksum)), V(factory) (published C(.sha256)), V(none) (nothing published),
      V(cache) (the file matched its C(.sha256) file; nothing was downloaded), or V(unknown) (check mode).
  returned: when O(dest_dir) is set and O(images) is not
  type: str
downloaded:
  description: Whether image bytes were (or, in check mode, would be) fetched.
  returned: when O(dest_dir) is set and O(images) is not
  type: bool
decompressed:
  description: Whether the image was (or would be) unpacked.
  returned: when O(dest_dir) is set and O(images) is not
  type: bool
resumed_from:
  description: Bytes of an earlier, interrupted download that were kept and resumed from.
  returned: when O(dest_dir) is set and O(images) is not
  type: int
size:
  description: Size of RV(path) in bytes (0 in check mode when it is not there yet).
  returned: when O(dest_dir) is set and O(images) is not
  type: int
images:
  description:
    - One result per image of O(images), in the same order, each with the keys returned for a single image
      (the download keys only with O(dest_dir)).
    - When the task fails, the images that failed carry C(failed=true) and C(msg) next to their names.
  returned: when O(images) is set
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this image was (or, in check mode, would be) downloaded or unpacked.
      type: bool
      returned: always
    url:
      description: Download URL of the image.
      type: str
      returned: always
    installer_image:
      description: Installer image reference.
      type: str
      returned: always
    filename:
      description: Name of the image file in O(dest_dir).
      type: str
      returned: always
    path:
      description: The file to use, the unpacked one when unpacking was asked.
      type: str
      returned: when O(dest_dir) is set
    sha256:
      description: SHA-256 of RV(images[].path).
      type: str
      returned: when O(dest_dir) is set
    download_path:
      description: The downloaded file.
      type: str
      returned: when O(dest_dir) is set
    download_sha256:
      description: SHA-256 of RV(images[].download_path).
      type: str
      returned: when O(dest_dir) is set
    checksum_verified:
      description: As RV(checksum_verified), for this image.
      type: bool
      returned: when O(dest_dir) is set
    checksum_source:
      description: As RV(checksum_source), for this image.
      type: str
      returned: when O(dest_dir) is set
    downloaded:
      description: Whether image bytes were (or would be) fetched.
      type: bool
      returned: when O(dest_dir) is set
    decompressed:
      description: Whether the image was (or would be) unpacked.
      type: bool
      returned: when O(dest_dir) is set
    resumed_from:
      description: Bytes of an earlier, interrupted download that were kept.
      type: int
      returned: when O(dest_dir) is set
    size:
      description: Size of RV(images[].path) in bytes.
      type: int
      returned: when O(dest_dir) is set
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    ARCHES,
    factory_argument_spec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.image_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module

MUTUALLY_EXCLUSIVE = [("schematic_id", "images"), ("filename", "images"), ("checksum", "images")]
REQUIRED_ONE_OF = [("schematic_id", "images")]
REQUIRED_BY = {"schematic_id": ("talos_version",)}


def argument_spec() -> dict[str, Any]:
    spec = factory_argument_spec(env_fallback)
    spec.update(
        schematic_id={"type": "str"},
        talos_version={"type": "str"},
        platform={"type": "str", "default": "metal"},
        arch={"type": "str", "choices": list(ARCHES), "default": "amd64"},
        format={"type": "str", "default": "raw.xz"},
        secureboot={"type": "bool", "default": False},
        installer_registry={"type": "str"},
        dest_dir={"type": "path"},
        filename={"type": "str"},
        checksum={"type": "str"},
        decompress={"type": "bool", "default": False},
        images={"type": "list", "elements": "dict", "options": image_options()},
        parallel={"type": "int", "default": 4},
    )
    return spec


def image_options() -> dict[str, Any]:
    """Options of one entry of ``images``; no defaults, so that a missing key is None and can be inherited."""
    return {
        "schematic_id": {"type": "str", "required": True},
        "talos_version": {"type": "str"},
        "platform": {"type": "str"},
        "arch": {"type": "str", "choices": list(ARCHES)},
        "format": {"type": "str"},
        "secureboot": {"type": "bool"},
        "filename": {"type": "str"},
        "checksum": {"type": "str"},
        "decompress": {"type": "bool"},
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_by=REQUIRED_BY,
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
