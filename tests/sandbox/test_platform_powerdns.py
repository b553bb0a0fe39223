# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform role's powerdns.yml and cert_manager.yml in a real ansible-playbook against the sandbox's real
kube-apiserver: the PowerDNS objects applied, its Service on the dns pool's planned address (the LB-IPAM stand-in),
the sandbox's real pdns_server serving the cluster zone created through its API, an RFC 2136 update signed with the
vault-kept TSIG key accepted and an unsigned one refused, the ClusterIssuer accepted by the real CRD; a re-run
changes nothing."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from kube_testlib import LiveCluster, cni_daemonset, wait_for
from sandbox_testlib import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "unit"))
from playbook_testlib import run_playbook

pytestmark = pytest.mark.slow
CRDS = REPO_ROOT / "tests" / "contracts" / "crds"
PASSWORD = b"platform-powerdns-test"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never through a proxy
# The role variables of powerdns.yml and cert_manager.yml at their defaults (roles/platform/defaults/main.yml).
ROLE_VARS = {
    "platform_powerdns_namespace": "powerdns",
    "platform_powerdns_image": "powerdns/pdns-auth-51:5.1.4",
    "platform_powerdns_storage_size": "1Gi",
    "platform_powerdns_storage_class": "",
    "platform_powerdns_api_allow_from": ["0.0.0.0/0", "::/0"],
    "platform_powerdns_dnsupdate_from": ["0.0.0.0/0", "::/0"],
    "platform_powerdns_nameservers": [],
    "platform_powerdns_api_key_file": "",
    "platform_tsig_key_name": "cert-manager",
    "platform_tsig_key_file": "",
    "platform_cert_manager_issuer_name": "letsencrypt",
    "platform_cert_manager_namespace": "cert-manager",
    "platform_cert_manager_tsig_secret": "powerdns-tsig",
    "platform_wait_timeout": 60,
}


@pytest.fixture(scope="module", params=["api-only", "controllers"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    """The API server alone (pdns_server runs once the objects exist), or with the controllers tier: then it runs
    only once the Deployment's pod is available, which needs Ready nodes, a pod the restricted pod-security level
    admits, and a volume that needs no StorageClass (the sandbox, like a bare Talos cluster, has none)."""
    controllers = request.param == "controllers"
    root = tmp_path_factory.mktemp("platform-powerdns")
    cluster = LiveCluster.create(root, control_planes=1, workers=1 if controllers else 0, controllers=controllers)
    try:
        prepare(cluster, controllers)
        yield cluster
    finally:
        cluster.close()


def apply(live: LiveCluster, body: dict[str, Any]) -> None:
    from kubernetes import dynamic

    api = dynamic.DynamicClient(live.api()).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    api.server_side_apply(body=body, namespace=body["metadata"].get("namespace"), field_manager="test", force=True)


def prepare(live: LiveCluster, controllers: bool) -> None:
    """What the earlier steps of the platform stage leave: MetalLB's and cert-manager's CRDs and namespaces, the
    dns pool, MetalLB's controller (to the LB-IPAM stand-in, MetalLB is installed); with the controllers tier, a CNI
    (the nodes turn Ready)."""
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(live.api())
    for crd, name in (
        ("metallb.io/ipaddresspool.yaml", "ipaddresspools.metallb.io"),
        ("cert-manager.io/clusterissuer.yaml", "clusterissuers.cert-manager.io"),
    ):
        extensions.create_custom_resource_definition(yaml.safe_load((CRDS / crd).read_text()))
        wait_for(
            lambda name=name: any(
                c.type == "Established"
                for c in extensions.read_custom_resource_definition(name).status.conditions or []
            ),
            30,
            f"the CRD {name}",
        )
    for namespace in ("metallb-system", "cert-manager"):
        apply(live, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for name, address in (("ingress-pool", ".100/32"), ("dns-pool", ".101/32")):
        apply(
            live,
            {
                "apiVersion": "metallb.io/v1beta1",
                "kind": "IPAddressPool",
                "metadata": {"name": name, "namespace": "metallb-system"},
                "spec": {"addresses": [live.prefix + address]},
            },
        )
    labels = {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": "controller"}
    pod = {"containers": [{"name": "controller", "image": "quay.io/metallb/controller:v0.16.1"}]}
    spec = {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod}}
    metadata = {"name": "metallb-controller", "namespace": "metallb-system"}
    apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec})
    if controllers:
        client.AppsV1Api(live.api()).create_namespaced_daemon_set("kube-system", cni_daemonset())


def definition(live: LiveCluster) -> dict[str, Any]:
    """The sandbox inventory's cluster (seed 001's platform) moved onto this cluster's loopback subnet."""
    text = (REPO_ROOT / "inventories" / "sandbox" / "cluster.talosforge.yml").read_text()
    return yaml.safe_load(text.replace("127.5.0.", live.prefix + "."))["cluster"]


def play(live: LiveCluster, tmp_path: Path) -> str:
    variables = dict(
        ROLE_VARS,
        _platform_secrets_dir=str(tmp_path / "secrets"),
        talos_vault_password_file=str(tmp_path / "vault-pass"),
    )
    include = {"ansible.builtin.include_role": {"name": "talosforge.cluster.platform"}}
    return yaml.safe_dump(
        [
            {
                "hosts": "all[0]",
                "gather_facts": False,
                "module_defaults": {"talosforge.cluster.kube_objects": {"kubeconfig": str(live.kubeconfig)}},
                "vars": variables,
                "tasks": [
                    {"name": "PowerDNS", **{k: dict(v, tasks_from="powerdns.yml") for k, v in include.items()}},
                    {"name": "Issuer", **{k: dict(v, tasks_from="cert_manager.yml") for k, v in include.items()}},
                ],
            }
        ]
    )


def decrypt(path: Path) -> str:
    return VaultLib([("default", VaultSecret(PASSWORD))]).decrypt(path.read_bytes()).decode().strip()


def recap(run: subprocess.CompletedProcess) -> dict[str, int]:
    found = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout)
    assert found, run.stdout + run.stderr
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, found.groups()), strict=True))


def writes(events: list[dict[str, Any]]) -> list[str]:
    """The write requests kube_objects sent, from the API server's audit log (dry runs are not writes)."""
    return [
        f"{event['verb']} {event['requestURI']}"
        for event in events
        if event.get("userAgent") == "talosforge.cluster/kube_objects"
        and event.get("verb") in ("create", "update", "patch", "delete")
        and "dryRun=All" not in event.get("requestURI", "")
    ]


def nsupdate(address: str, zone: str, name: str, key: str | None) -> subprocess.CompletedProcess:
    script = f'server {address} 53\nzone {zone}\nupdate add {name} 60 TXT "challenge"\nsend\n'
    command = ["nsupdate", "-t", "5"] + (["-y", key] if key else [])
    return subprocess.run(command, input=script, capture_output=True, text=True, timeout=20, check=False)


def test_powerdns_zone_tsig_and_issuer(live: LiveCluster, tmp_path: Path) -> None:
    if not shutil.which("nsupdate"):
        pytest.skip("nsupdate (dnsutils) is not installed")
    from kubernetes import client, dynamic

    (tmp_path / "vault-pass").write_bytes(PASSWORD + b"\n")
    cluster = definition(live)
    text = play(live, tmp_path)
    first = run_playbook(tmp_path, cluster, text, "--diff")
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]

    address = f"{live.prefix}.101"
    service = client.CoreV1Api(live.api()).read_namespaced_service("powerdns", "powerdns")
    assert service.status.load_balancer.ingress[0].ip == address
    assert service.metadata.annotations["metallb.io/address-pool"] == "dns-pool"

    api_key = decrypt(tmp_path / "secrets" / "powerdns-api-key.vault")
    tsig = decrypt(tmp_path / "secrets" / "tsig-cert-manager.vault")
    assert api_key not in first.stdout and tsig not in first.stdout
    request = urllib.request.Request(
        f"http://{address}:8081/api/v1/servers/localhost/zones/sandbox.example.org.", headers={"X-API-Key": api_key}
    )
    with DIRECT.open(request, timeout=10) as answer:
        zone = json.loads(answer.read())
    sets = {(r["name"], r["type"]): [x["content"] for x in r["records"]] for r in zone["rrsets"]}
    assert sets[("sandbox.example.org.", "NS")] == ["ns1.sandbox.example.org."]
    assert sets[("ns1.sandbox.example.org.", "A")] == [address]

    signed = nsupdate(
        address, "sandbox.example.org", "_acme-challenge.sandbox.example.org", f"hmac-sha256:cert-manager:{tsig}"
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    unsigned = nsupdate(address, "sandbox.example.org", "unsigned.sandbox.example.org", None)
    assert unsigned.returncode != 0 and "REFUSED" in unsigned.stdout + unsigned.stderr

    issuers = dynamic.DynamicClient(live.api()).resources.get(api_version="cert-manager.io/v1", kind="ClusterIssuer")
    acme = issuers.get(name="letsencrypt").to_dict()["spec"]["acme"]
    assert acme["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert acme["email"] == "ops@sandbox.example.org"
    assert acme["solvers"][0]["dns01"]["rfc2136"] == {
        "nameserver": f"{address}:53",
        "tsigKeyName": "cert-manager",
        "tsigAlgorithm": "HMACSHA256",
        "tsigSecretSecretRef": {"name": "powerdns-tsig", "key": "tsig-secret"},
    }
    secret = client.CoreV1Api(live.api()).read_namespaced_secret("powerdns-tsig", "cert-manager")
    assert base64.b64decode(secret.data["tsig-secret"]).decode() == tsig

    seen = len(live.audit())
    assert any("/namespaces/powerdns/services/powerdns" in write for write in writes(live.audit()))
    started = time.monotonic()
    again = run_playbook(tmp_path, cluster, text)
    elapsed = time.monotonic() - started
    assert again.returncode == 0 and recap(again)["changed"] == 0, again.stdout[-6000:]
    assert writes(live.audit()[seen:]) == []
    print(f"no-op re-run of powerdns.yml and cert_manager.yml: {elapsed:.1f} s (ansible-playbook), no write")
    checked = run_playbook(tmp_path, cluster, text, "--check", "--diff")
    assert checked.returncode == 0 and recap(checked)["changed"] == 0, checked.stdout[-6000:]
