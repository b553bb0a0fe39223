# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform role's powerdns.yml and cert_manager.yml with an edge VPS in the definition, in a real
ansible-playbook against the sandbox's real kube-apiserver and its real pdns_server: the cluster zone delegates
_acme-challenge.<zone> to the edge's name server (a referral from the in-cluster PowerDNS), and the ClusterIssuer,
accepted by the real CRD, sends its updates to the edge's PowerDNS (edge.public_address:53, or
platform_cert_manager_nameserver); a re-run changes nothing. The edge's address is configuration text: nothing is
sent to it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_testlib import LiveCluster
from test_platform_powerdns import PASSWORD, definition, play, prepare, recap, run_playbook

pytestmark = pytest.mark.slow
EDGE_ADDRESS = "198.51.100.7"  # documentation range, only written into the issuer
EDGE = {
    "host": "vps.example.org",
    "public_address": EDGE_ADDRESS,
    "domain": "sandbox.example.org",
    "mesh": {"type": "headscale", "login_server": "https://headscale.example.org"},
    "acme": {"email": "ops@example.org"},
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("platform-acme-edge"), control_planes=1, workers=0)
    try:
        prepare(cluster, False)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module's runs: the in-cluster PowerDNS keeps the API key of the first run."""
    folder = tmp_path_factory.mktemp("platform-acme-edge-runs")
    (folder / "vault-pass").write_bytes(PASSWORD + b"\n")
    return folder


def edge_play(live: LiveCluster, tmp_path: Path, **extra: Any) -> str:
    """test_platform_powerdns's play on the first Talos node (the edge host is reached over SSH, never here)."""
    plays = yaml.safe_load(play(live, tmp_path))
    plays[0]["hosts"] = "talos[0]"
    plays[0]["vars"].update(extra)
    return yaml.safe_dump(plays)


def dig(address: str, name: str, rtype: str) -> str:
    command = ["dig", "+norec", "+time=2", "+tries=2", f"@{address}", name, rtype]
    return subprocess.run(command, capture_output=True, text=True, timeout=20, check=True).stdout


def issuer_nameserver(live: LiveCluster) -> str:
    from kubernetes import dynamic

    issuers = dynamic.DynamicClient(live.api()).resources.get(api_version="cert-manager.io/v1", kind="ClusterIssuer")
    return issuers.get(name="letsencrypt").to_dict()["spec"]["acme"]["solvers"][0]["dns01"]["rfc2136"]["nameserver"]


def test_challenges_delegated_to_the_edge(live: LiveCluster, work: Path) -> None:
    if not shutil.which("dig"):
        pytest.skip("dig (dnsutils) is not installed")
    tmp_path = work
    cluster = dict(definition(live), edge=EDGE)
    text = edge_play(live, tmp_path)
    first = run_playbook(tmp_path, cluster, text, "--diff")
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]

    address = f"{live.prefix}.101"
    referral = dig(address, "_acme-challenge.sandbox.example.org", "TXT")
    assert "flags: qr aa" not in referral, referral
    assert any(
        line.split()[-2:] == ["NS", "ns1.example.org."] and line.startswith("_acme-challenge.sandbox.example.org.")
        for line in referral.splitlines()
    ), referral
    # Other names of the zone are still the in-cluster server's own.
    assert "flags: qr aa" in dig(address, "ns1.sandbox.example.org", "A")
    assert issuer_nameserver(live) == f"{EDGE_ADDRESS}:53"

    again = run_playbook(tmp_path, cluster, text)
    assert again.returncode == 0 and recap(again)["changed"] == 0, again.stdout[-6000:]

    # A mesh address for the updates, given by the user.
    mesh = run_playbook(tmp_path, cluster, edge_play(live, tmp_path, platform_cert_manager_nameserver="100.64.0.5:53"))
    assert mesh.returncode == 0, mesh.stdout[-6000:]
    assert issuer_nameserver(live) == "100.64.0.5:53"


def test_edge_without_public_address_needs_the_nameserver(live: LiveCluster, work: Path) -> None:
    tmp_path = work
    edge = {key: value for key, value in EDGE.items() if key != "public_address"}
    done = run_playbook(tmp_path, dict(definition(live), edge=edge), edge_play(live, tmp_path))
    assert done.returncode != 0
    assert "platform_cert_manager_nameserver to the edge's address on the mesh" in done.stdout, done.stdout[-4000:]


def test_edge_without_mesh_keeps_the_in_cluster_server(live: LiveCluster, work: Path) -> None:
    tmp_path = work
    edge = dict(EDGE, mesh={"type": "none"})
    done = run_playbook(tmp_path, dict(definition(live), edge=edge), edge_play(live, tmp_path))
    assert done.returncode == 0, done.stdout[-6000:]
    assert issuer_nameserver(live) == f"{live.prefix}.101:53"
