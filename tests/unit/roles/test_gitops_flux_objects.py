# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gitops role's Flux objects (templates/flux.yml.j2), rendered by a real ansible-playbook with the role's
defaults: over SSH the Secret flux-system holds the deploy key and known_hosts, over HTTPS the token and the CA (the
keys source-controller reads); the Secret sops-age holds the age key under a name ending in .agekey; the FluxInstance
validates against flux-operator's CRD (tests/contracts/crds/fluxcd.controlplane.io) and syncs the branch's full ref
and the cluster folder. The same objects go to the sandbox's real kube-apiserver in the molecule scenario; the HTTPS
path is only here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "gitops"
CRD = REPO / "tests" / "contracts" / "crds" / "fluxcd.controlplane.io" / "fluxinstance.yaml"
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.template:
        src: "{{ role_dir }}/templates/flux.yml.j2"
        dest: "{{ out }}/flux.yml"
        mode: "0600"
"""
COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]
FLUX = {"version": "2.9.x", "branch": "main", "path": "k8s/clusters/lab", "components": COMPONENTS}
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
AGE = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"


def render(tmp_path: Path, **values: Any) -> dict[str, dict[str, Any]]:
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    variables = {key: value for key, value in defaults.items() if "{{" not in str(value)}
    variables.update(role_dir=str(ROLE), out=str(tmp_path), _gitops_age={"value": AGE}, _gitops_ca="")
    variables.update(values)
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HCLOUD_", "ANSIBLE_"))}
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]))  # fmt: skip
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml")]
    done = subprocess.run([*command, "-e", f"@{tmp_path / 'vars.yml'}"], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    documents = [doc for doc in yaml.safe_load_all((tmp_path / "flux.yml").read_text()) if doc]
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in documents}


def fluxinstance_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    return next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]


def test_over_ssh_flux_reads_with_the_deploy_key_and_the_host_keys(tmp_path: Path) -> None:
    known = "[git.example.org]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0YW5kLWlu"
    objects = render(tmp_path, _gitops_flux_ssh=True, _gitops_deploy_key={"value": KEY}, _gitops_known_hosts=known,
                     _gitops_flux={**FLUX, "url": "ssh://git@git.example.org:2222/infra/lab.git"})  # fmt: skip
    assert sorted(objects) == ["FluxInstance/flux", "Namespace/flux-system", "Secret/flux-system", "Secret/sops-age"]
    assert objects["Secret/flux-system"]["stringData"] == {"identity": KEY, "known_hosts": known}
    assert objects["Secret/sops-age"]["stringData"] == {"identity.agekey": AGE}
    instance = objects["FluxInstance/flux"]
    jsonschema.validate(instance, fluxinstance_schema(), cls=jsonschema.Draft4Validator)
    assert instance["spec"]["sync"] == {
        "kind": "GitRepository", "url": "ssh://git@git.example.org:2222/infra/lab.git", "ref": "refs/heads/main",
        "path": "k8s/clusters/lab", "pullSecret": "flux-system", "interval": "1m",
    }  # fmt: skip
    assert instance["spec"]["distribution"] == {"version": "2.9.x", "registry": "ghcr.io/fluxcd"}
    assert instance["spec"]["components"] == FLUX["components"]
    assert instance["spec"]["cluster"]["networkPolicy"] is True


def test_over_https_flux_reads_with_a_token_and_the_private_ca(tmp_path: Path) -> None:
    ca = "-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n"
    https = {**FLUX, "url": "https://git.example.org/infra/lab.git", "branch": "live"}
    token = {"gitops_flux_token": "tfgit_read-only-token", "gitops_flux_username": "flux"}
    objects = render(
        tmp_path, _gitops_flux_ssh=False, _gitops_known_hosts="", _gitops_ca=ca, _gitops_flux=https, **token
    )
    assert objects["Secret/flux-system"]["stringData"] == {
        "username": "flux", "password": "tfgit_read-only-token", "ca.crt": ca,
    }  # fmt: skip
    instance = objects["FluxInstance/flux"]
    jsonschema.validate(instance, fluxinstance_schema(), cls=jsonschema.Draft4Validator)
    assert instance["spec"]["sync"]["ref"] == "refs/heads/live"


def test_the_crd_refuses_a_sync_without_its_path(tmp_path: Path) -> None:
    objects = render(tmp_path, _gitops_flux_ssh=False, _gitops_known_hosts="",
                     _gitops_flux={**FLUX, "url": "https://git.example.org/infra/lab.git"})  # fmt: skip
    broken = objects["FluxInstance/flux"]
    del broken["spec"]["sync"]["path"]
    with pytest.raises(jsonschema.ValidationError, match="path"):
        jsonschema.validate(broken, fluxinstance_schema(), cls=jsonschema.Draft4Validator)
