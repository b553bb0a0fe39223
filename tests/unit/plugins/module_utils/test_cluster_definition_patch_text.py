# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A patch written as YAML text is parsed and shape-checked when the definition is checked, in every place a patch
can be written: broken text is an error at the patch's path, not a failure later when configs are rendered."""

from __future__ import annotations

import pytest
from cluster_definition_cases import changed, errors_at, path_text

PLACES = [
    ("patches",),
    ("node_defaults", "patches"),
    ("control_plane", "patches"),
    ("worker", "patches"),
    ("node_pools", 0, "patches"),
    ("nodes", 0, "patches"),
]
BROKEN = {
    "unclosed flow": "machine: {network: [",
    "bad indentation": "machine:\n  network:\n    hostname: a\n   mtu: 1500\n",
    "tab indentation": "machine:\n\tnetwork: {}\n",
    "a plain sentence": "set the hostname to cp-1",
    "a number": "42",
    "only comments": "# nothing here\n",
    "empty documents": "---\n---\n",
    "a list that is not JSON patch": "- machine\n- cluster\n",
    "an empty list of operations": "[]",
    "unknown op": "- {op: frobnicate, path: /machine/network}\n",
    "path not a pointer": "- {op: add, path: machine/network/hostname, value: cp}\n",
    "add without value": "- op: add\n  path: /machine/network/hostname\n",
    "move without from": "- {op: move, path: /machine/network}\n",
    "a list among mappings": "machine: {}\n---\n- {op: remove, path: /machine/network}\n",
    "a scalar among mappings": "machine: {}\n---\nhello\n",
    "a key written twice": "machine:\n  network: {}\n  network: {hostname: a}\n",
    "a nested key written twice": "machine:\n  kubelet:\n    image: a\n    image: b\n",
}
GOOD = {
    "strategic merge": "machine:\n  sysctls:\n    vm.swappiness: '10'\n",
    "several documents": (
        "machine: {kubelet: {extraArgs: {v: '2'}}}\n---\n"
        "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: cp\nauto: off\n"
    ),
    "JSON patch": "- op: add\n  path: /machine/network/hostname\n  value: cp-1\n- op: remove\n  path: /cluster/proxy\n",
    "a delete": "machine:\n  network:\n    $patch: delete\n",
}


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
@pytest.mark.parametrize("place", PLACES, ids=[path_text(p) for p in PLACES])
def test_broken_patch_text_is_an_error_at_its_path(place, text):
    document = changed("proxmox", place, [{"machine": {"kubelet": {}}}, text])
    where = f"{path_text(place)}[1]"
    errors = errors_at(document)
    assert where in errors, f"{text!r} at {where} was accepted; errors: {errors}"
    assert all("\n" not in message for message in errors[where]), errors[where]


@pytest.mark.parametrize("text", list(GOOD.values()), ids=list(GOOD))
@pytest.mark.parametrize("place", PLACES, ids=[path_text(p) for p in PLACES])
def test_good_patch_text_is_accepted_as_written(place, text):
    document = changed("proxmox", place, [text])
    assert errors_at(document) == {}


def test_a_yaml_error_names_line_and_column():
    errors = errors_at(changed("proxmox", ("patches",), [BROKEN["bad indentation"]]))
    assert any("line 4" in message for message in errors["patches[0]"]), errors


def test_templated_text_is_left_to_the_module_that_sees_it_rendered():
    """The inventory reads the definition before Ansible renders Jinja; the cluster_definition module sees it
    rendered and checks it then."""
    text = "machine:\n  network:\n    hostname: {{ inventory_hostname }}\n"
    assert errors_at(changed("proxmox", ("patches",), [text])) == {}
