"""The talosctl stand-in end to end: secrets, configs, apply, bootstrap, kubeconfig, health, upgrade, snapshot, reset.

Every call runs sandbox/bin/talosctl as a subprocess against a temporary sandbox state folder; at the end every
logged command line is checked against the v1.13.9 CLI reference.
"""

from __future__ import annotations

import base64
import datetime
import json
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from talosctl_testlib import CLI_MD, FACTORY_IMAGE, QEMU, VANILLA, Sandbox

from sandbox.simulators.talos import pki
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.talosctl import contract

pytestmark = pytest.mark.slow

CP1, CP2, WORKER = "10.0.0.11", "10.0.0.12", "10.0.0.21"


def _pem(text: str) -> bytes:
    return base64.b64decode(text)


def _cert(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(_pem(text))


def test_gen_secrets_and_config_are_real_and_valid(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    sandbox.gen_cluster()
    work = sandbox.work
    assert stat.S_IMODE((work / "secrets.yaml").stat().st_mode) == 0o600
    bundle = yaml.safe_load((work / "secrets.yaml").read_text())
    assert set(bundle) == {"cluster", "secrets", "trustdinfo", "certs"}
    assert set(bundle["certs"]) == {"etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"}
    assert set(bundle["certs"]["k8sserviceaccount"]) == {"key"}
    assert isinstance(_cert(bundle["certs"]["os"]["crt"]).public_key(), ed25519.Ed25519PublicKey)
    for name in ("etcd", "k8s", "k8saggregator"):
        assert isinstance(_cert(bundle["certs"][name]["crt"]).public_key(), ec.EllipticCurvePublicKey)
    assert _pem(bundle["certs"]["os"]["key"]).startswith(b"-----BEGIN ED25519 PRIVATE KEY-----")
    assert _pem(bundle["certs"]["etcd"]["key"]).startswith(b"-----BEGIN EC PRIVATE KEY-----")
    for name, pair in bundle["certs"].items():  # the stand-in reads every key Talos makes (the RSA SA key too)
        pki.load_key(_pem(pair["key"]))
        assert name == "k8sserviceaccount" or pki.signed_by(_pem(pair["crt"]), _pem(pair["crt"]))

    for name in ("controlplane", "worker"):
        validated = sandbox.ok("validate", "--config", f"out/{name}.yaml", "--mode", "metal")
        assert validated.stdout == f"out/{name}.yaml is valid for metal mode\n"
    controlplane = list(yaml.safe_load_all((work / "out" / "controlplane.yaml").read_text()))
    assert [document.get("kind", "v1alpha1") for document in controlplane] == ["v1alpha1", "HostnameConfig"]
    assert controlplane[1] == {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"}
    config = controlplane[0]
    assert config["persist"] is True  # Talos writes it, although the published schema does not list it
    assert config["machine"]["type"] == "controlplane"
    assert config["machine"]["install"] == {
        "disk": "/dev/vda",
        "image": FACTORY_IMAGE.format(schematic=VANILLA, version="v1.13.9"),
        "wipe": False,
        "grubUseUKICmdline": True,
    }
    assert config["machine"]["ca"] == bundle["certs"]["os"]
    assert config["cluster"]["controlPlane"]["endpoint"] == "https://10.0.0.10:6443"
    assert config["cluster"]["clusterName"] == "demo"
    assert config["cluster"]["etcd"]["ca"] == bundle["certs"]["etcd"]
    assert config["cluster"]["secretboxEncryptionSecret"] == bundle["secrets"]["secretboxencryptionsecret"]
    worker = next(yaml.safe_load_all((work / "out" / "worker.yaml").read_text()))
    assert worker["machine"]["ca"]["key"] == "" and worker["cluster"]["ca"]["key"] == ""

    talosconfig = yaml.safe_load((work / "out" / "talosconfig").read_text())
    assert talosconfig["context"] == "demo"
    context = talosconfig["contexts"]["demo"]
    assert context["endpoints"] == []
    client = _cert(context["crt"])
    client.verify_directly_issued_by(_cert(context["ca"]))
    assert [a.value for a in client.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)] == ["os:admin"]

    again = sandbox.fails("gen", "secrets", "-o", "secrets.yaml")
    assert again.stderr == 'file "secrets.yaml" already exists, use --force to overwrite\n'


def test_patches_are_applied_and_checked(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    (sandbox.work / "vip.yaml").write_text("apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.10\nlink: eth0\n")
    (sandbox.work / "node.yaml").write_text(
        "machine:\n  certSANs: [cp.example.org]\n  nodeLabels: {role: db}\ncluster:\n  network:\n"
        "    podSubnets: [10.42.0.0/16]\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: off\n"
    )
    sandbox.gen_cluster("demo", "v1.13.9", "--config-patch", "@node.yaml", "--config-patch-control-plane", "@vip.yaml")
    controlplane = list(yaml.safe_load_all((sandbox.work / "out" / "controlplane.yaml").read_text()))
    assert [d.get("kind", "v1alpha1") for d in controlplane] == ["v1alpha1", "HostnameConfig", "Layer2VIPConfig"]
    assert controlplane[0]["machine"]["certSANs"] == ["cp.example.org"]
    assert controlplane[0]["machine"]["nodeLabels"] == {
        "node.kubernetes.io/exclude-from-external-load-balancers": "",
        "role": "db",
    }
    assert controlplane[0]["cluster"]["network"]["podSubnets"] == ["10.42.0.0/16"]  # merge: replace
    assert controlplane[1]["auto"] == "off"
    worker = list(yaml.safe_load_all((sandbox.work / "out" / "worker.yaml").read_text()))
    assert [d.get("kind", "v1alpha1") for d in worker] == ["v1alpha1", "HostnameConfig"]
    for name in ("controlplane.yaml", "worker.yaml"):
        sandbox.ok("validate", "--config", f"out/{name}", "--mode", "metal")

    (sandbox.work / "bad.yaml").write_text("machine:\n  install:\n    disks: /dev/sda\n")
    refused = sandbox.fails(
        "gen", "config", "demo", "https://10.0.0.10:6443", "--config-patch", "@bad.yaml", "-o", "bad", "--force"
    )
    assert "unknown keys found during decoding:\nmachine:\n    install:\n        disks: /dev/sda\n" in refused.stderr
    json_patch = sandbox.fails(
        "gen",
        "config",
        "demo",
        "https://10.0.0.10:6443",
        "-o",
        "bad",
        "--force",
        "--config-patch",
        '[{"op": "add", "path": "/machine/certSANs/-", "value": "x"}]',
    )
    assert "JSON6902 patches are not supported for multi-document machine configuration" in json_patch.stderr
    scheme = sandbox.fails("gen", "config", "demo", "10.0.0.10:6443", "-o", "bad")
    assert scheme.stderr.startswith('no scheme specified for the cluster endpoint URL\ntry: "https://10.0.0.10:6443"')


def test_full_lifecycle(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    nodes = TalosNodes(sandbox.state)
    nodes.add(CP1, CP2, WORKER)
    sandbox.gen_cluster(image_version="v1.13.8")

    for address in (CP1, CP2):  # --insecure reaches one node per call, like the real client
        sandbox.ok("apply-config", "--file", "out/controlplane.yaml", "--nodes", address, "--insecure")
    applied = sandbox.ok("apply-config", "--file", "out/worker.yaml", "--nodes", WORKER, "--insecure")
    assert applied.stderr == "Applied configuration without a reboot\n"
    first = sandbox.node(CP1)
    assert (first["stage"], first["role"], first["talos_version"], first["schematic"]) == (
        "running",
        "controlplane",
        "v1.13.8",
        VANILLA,
    )
    config_file = sandbox.state / "talos" / "nodes" / f"{CP1}.config.yaml"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert config_file.read_text() == (sandbox.work / "out" / "controlplane.yaml").read_text()

    dry = sandbox.ok("apply-config", "--file", "out/controlplane.yaml", *sandbox.mtls(CP1, CP1), "--dry-run")
    assert dry.stderr == (
        "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\nNo changes.\n"
    )

    unhealthy = sandbox.fails("health", *sandbox.mtls(CP1, CP1), "--wait-timeout", "30s")
    assert (
        'waiting for etcd to be healthy: 2 errors occurred:\n\t* 10.0.0.11: service "etcd" not in expected '
        'state "Running"' in unhealthy.stderr
    )
    assert sandbox.fails("kubeconfig", "kc", *sandbox.mtls(CP1, CP1)).stderr.startswith("error copying: ")

    sandbox.ok("bootstrap", *sandbox.mtls(CP1, CP1))
    twice = sandbox.fails("bootstrap", *sandbox.mtls(CP2, CP1))
    assert twice.stderr == (
        "error executing bootstrap: 1 error occurred:\n\t* 10.0.0.12: rpc error: code = "
        "AlreadyExists desc = etcd data directory is not empty\n\n\n"
    )

    sandbox.ok("kubeconfig", "kc", *sandbox.mtls(CP1, CP1))
    kubeconfig = yaml.safe_load((sandbox.work / "kc").read_text())
    assert stat.S_IMODE((sandbox.work / "kc").stat().st_mode) == 0o600
    assert kubeconfig["current-context"] == "admin@demo"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://10.0.0.10:6443"
    client = _cert(kubeconfig["users"][0]["user"]["client-certificate-data"])
    cluster_ca = _cert(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"])
    client.verify_directly_issued_by(cluster_ca)
    # OpenSSL builds the chain by key identifier: the client's must be the one Talos (Go) gave its CA
    assert (
        client.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        == cluster_ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    lifetime = client.not_valid_after_utc - client.not_valid_before_utc
    assert lifetime == datetime.timedelta(hours=8760)

    healthy = sandbox.ok("health", *sandbox.mtls(CP1, CP1))
    lines = healthy.stderr.splitlines()
    assert lines[0] == 'discovered nodes: ["10.0.0.11" "10.0.0.12" "10.0.0.21"]'
    assert "waiting for etcd to be healthy: OK" in lines
    assert lines[-1] == "waiting for all k8s nodes to report schedulable: OK"

    members = sandbox.ok("etcd", "members", *sandbox.mtls(CP1, CP1)).stdout.splitlines()
    assert members[0].split() == ["NODE", "ID", "HOSTNAME", "PEER", "URLS", "CLIENT", "URLS", "LEARNER"]
    assert len(members) == 3 and "https://10.0.0.12:2380" in members[2]

    nodes.set_fault(CP2, "reboot-during-upgrade", calls=2)
    image = FACTORY_IMAGE.format(schematic=QEMU, version="v1.13.9")
    dropped = sandbox.fails("upgrade", "--image", image, *sandbox.mtls(CP2, CP1))
    assert (
        "error during upgrade: 1 error occurred:\n\t* 10.0.0.12: rpc error: code = Unavailable desc = error "
        "reading from server: EOF\n" in dropped.stderr
    )
    for _call in range(2):  # talosctl version only warns about a node that does not answer, and exits 0
        away = sandbox.ok("version", *sandbox.mtls(CP2, CP1))
        assert away.stderr.startswith("WARNING: 1 error occurred:\n\t* 10.0.0.12: rpc error: code = Unavailable")
        assert "connect: connection refused" in away.stderr and "NODE:" not in away.stdout
    back = sandbox.ok("version", *sandbox.mtls(CP2, CP1))
    assert "\tNODE:        10.0.0.12\n\tTag:         v1.13.9\n" in back.stdout
    assert (sandbox.node(CP2)["schematic"], sandbox.node(CP2)["reboots"]) == (QEMU, 2)
    upgraded = sandbox.ok("upgrade", "--image", image, *sandbox.mtls(CP1, CP1))
    assert upgraded.stderr.splitlines()[-2:] == ["watching nodes: [10.0.0.11]", "    * 10.0.0.11: post check passed"]

    registered = sandbox.state / "image-factory" / "schematics"
    registered.mkdir(parents=True)
    (registered / f"{QEMU}.json").write_text('{"officialExtensions": ["siderolabs/qemu-guest-agent"]}')
    extensions = sandbox.ok("get", "extensions", *sandbox.mtls(CP1, CP1)).stdout.splitlines()
    assert extensions[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "NAME", "VERSION"]
    assert [line.split()[5:] for line in extensions[1:]] == [
        ["qemu-guest-agent", extensions[1].split()[6]],
        ["schematic", QEMU],
    ]
    assert extensions[1].split()[6].endswith("-v1.13.9")

    status = json.loads(sandbox.ok("get", "machinestatus", *sandbox.mtls(CP1, CP1), "-o", "json").stdout)
    assert status["spec"] == {"stage": "running", "status": {"ready": True, "unmetConditions": []}}

    saved = sandbox.ok("etcd", "snapshot", "db.snapshot", *sandbox.mtls(CP1, CP1))
    size = (sandbox.work / "db.snapshot").stat().st_size
    assert saved.stdout.splitlines()[0] == f'etcd snapshot saved to "db.snapshot" ({size} bytes)'
    assert saved.stdout.splitlines()[1].startswith("snapshot info: hash ")
    sandbox.ok("etcd", "snapshot", "again.snapshot", *sandbox.mtls(CP1, CP1))
    assert (sandbox.work / "again.snapshot").read_bytes() == (sandbox.work / "db.snapshot").read_bytes()

    sandbox.ok("reset", "--graceful", "--reboot", *sandbox.mtls(CP2, CP1))
    reset = sandbox.node(CP2)
    assert (reset["stage"], reset["role"], reset["etcd_member"]) == ("maintenance", None, False)
    assert not (sandbox.state / "talos" / "nodes" / f"{CP2}.config.yaml").exists()
    assert len(sandbox.ok("etcd", "members", *sandbox.mtls(CP1, CP1)).stdout.splitlines()) == 2
    last = sandbox.fails("reset", "--graceful", "--reboot", *sandbox.mtls(CP1, CP1))
    assert "FailedPrecondition" in last.stderr

    reference = contract.load(CLI_MD)
    log = sandbox.log()
    assert len(log) == 25  # one record per call, failed ones included
    for record in log:
        assert reference.check(record["argv"]) == [], record["argv"]
        assert {"ts", "argv", "cwd", "exit_code", "duration_ms"} <= set(record)
