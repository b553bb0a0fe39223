# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps stage's small filters: the platform's Secrets as sops_files' files, and what to await from Flux."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.gitops_tree import FilterModule

FILTERS = FilterModule().filters()
TSIG = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "powerdns-tsig", "namespace": "cert-manager"},
        "type": "Opaque", "data": {"tsig-secret": "c2VjcmV0"}}  # fmt: skip
HCLOUD = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hcloud", "namespace": "kube-system"},
          "stringData": {"token": "t0ken", "network": "demo"}}  # fmt: skip


def test_each_secret_gets_a_file_named_after_it_in_a_stable_order() -> None:
    files = FILTERS["gitops_secret_files"]([TSIG, HCLOUD])
    assert [entry["path"] for entry in files] == [
        "cert-manager-powerdns-tsig.sops.yaml",
        "kube-system-hcloud.sops.yaml",
    ]
    assert yaml.safe_load(files[0]["content"]) == TSIG
    assert FILTERS["gitops_secret_files"]([HCLOUD, TSIG]) == files


@pytest.mark.parametrize(
    ("secrets", "words"),
    [
        ([{"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "b"}}], "is not a Secret manifest"),
        ([{"kind": "Secret", "metadata": {"name": "a"}}], "no namespace or no name"),
        ([TSIG, TSIG], "given twice"),
        ({"kind": "Secret"}, "a list of manifests"),
    ],
)
def test_what_is_not_a_list_of_secrets_is_refused(secrets, words: str) -> None:
    with pytest.raises(AnsibleFilterError, match=words):
        FILTERS["gitops_secret_files"](secrets)


def test_flux_runs_the_commit_once_every_object_reports_it() -> None:
    commit = "a" * 40
    found = FILTERS["flux_expectations"]([{"name": "cilium"}, {"name": "cert-manager"}], commit)
    assert [(entry["kind"], entry["name"]) for entry in found] == [
        ("GitRepository", "flux-system"),
        ("Kustomization", "flux-system"),
        ("Kustomization", "infrastructure-controllers"),
        ("Kustomization", "infrastructure-configs"),
        ("Kustomization", "apps"),
        ("HelmRelease", "cilium"),
        ("HelmRelease", "cert-manager"),
    ]
    assert all(entry["namespace"] == "flux-system" for entry in found)
    assert [entry.get("revision") for entry in found[:5]] == [commit] * 5
    assert found[-1] == {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "namespace": "flux-system",
                         "name": "cert-manager", "condition": "Ready"}  # fmt: skip
    with pytest.raises(AnsibleFilterError, match="revision must be the commit"):
        FILTERS["flux_expectations"]([], None)


class Tagged(str):
    """A str subclass, as Ansible hands templated strings to filters (PyYAML's safe dumper refuses them)."""


def test_ansibles_own_string_types_are_written_as_plain_yaml() -> None:
    secret = {
        Tagged("apiVersion"): Tagged("v1"),
        "kind": Tagged("Secret"),
        "metadata": {"name": Tagged("hcloud"), "namespace": "kube-system"},
        "stringData": {"token": Tagged("t")},
    }
    assert yaml.safe_load(FILTERS["gitops_secret_files"]([secret])[0]["content"])["stringData"] == {"token": "t"}


def test_the_helmreleases_to_look_for_one_per_release() -> None:
    found = FILTERS["flux_helmreleases"]([{"name": "cilium"}, {"name": "metallb"}])
    assert found == [
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "namespace": "flux-system",
            "name": "cilium",
        },
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "namespace": "flux-system",
            "name": "metallb",
        },
    ]
    with pytest.raises(AnsibleFilterError, match="with a name"):
        FILTERS["flux_helmreleases"]([{"chart": "x"}])


def test_a_requested_reconcile_is_awaited_on_the_source() -> None:
    found = FILTERS["flux_expectations"]([], "b" * 40, "2026-12-08T00:00:00Z")
    assert found[0]["requested"] == "2026-12-08T00:00:00Z"
    assert all("requested" not in entry for entry in found[1:])
