# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.talos_machine_config against the sandbox's talosctl stand-in (sandbox/bin/talosctl).

Renders the sandbox inventory's nodes, re-runs without change, changes one node with a patch (masked diff), fails
on an invalid patch naming the node and writing nothing, and writes nothing in check mode. Every talosctl command
line the module ran is checked against the v1.13.9 CLI reference, and every document written against the JSON
schema. The last test runs both action plugins (vault encryption and decryption) through ansible-playbook.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.doc_fragments.talos import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.plan import plan_images
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import machine_config, secrets
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    TalosConfigError,
    doc_id,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import NodesFailed
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosconfig import render_talosconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import Talosctl
from ansible_collections.talosforge.cluster.plugins.modules import talos_machine_config as module
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process
from jsonschema import Draft202012Validator
from module_harness import check_documentation, run_module

REPO = Path(__file__).resolve().parents[4]
STANDIN = REPO / "sandbox" / "bin" / "talosctl"
CONTRACTS = REPO / "tests" / "contracts" / "talos" / "v1.13.9"
SCHEMA = json.loads((CONTRACTS / "config.schema.json").read_text(encoding="utf-8"))
NODES = ["cp-1", "cp-2", "worker-1"]

standin = pytest.mark.skipif(not STANDIN.exists(), reason="the sandbox talosctl stand-in is not available")


def sandbox_model() -> dict:
    definition = yaml.safe_load((REPO / "inventories/sandbox/cluster.talosforge.yml").read_text(encoding="utf-8"))
    cluster, issues = load_cluster(definition["cluster"])
    assert not [i for i in issues if i.level == "error"]
    model = cluster.to_dict()
    plan_images(model)
    return model


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A sandbox state folder, a secrets bundle made by the stand-in, and the module's parameters."""
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    talosctl = Talosctl(binary=str(STANDIN), runner=run_process)
    bundle = tmp_path / "secrets.yaml"
    secrets.ensure_bundle({"path": str(bundle), "encrypt": False, "timeout": 60}, False, secrets.NoVault(), talosctl)
    params = {
        "cluster": sandbox_model(),
        "nodes": list(NODES),
        "secrets_file": str(bundle),
        "output_dir": str(tmp_path / "rendered"),
        "talosctl": str(STANDIN),
        "timeout": 60.0,
        "parallel": 8,
        "patches": [],
        "validate": True,
    }
    return {"params": params, "out": tmp_path / "rendered", "tmp": tmp_path}


def run_checked(params: dict, check_mode: bool = False):
    """``render_machine_configs`` with a fresh Talosctl whose commands are then held to the CLI contract."""
    talosctl = Talosctl(binary=params["talosctl"], runner=run_process)
    try:
        return machine_config.render_machine_configs(params, check_mode, talosctl), talosctl
    finally:
        check_contract(talosctl)


def check_contract(talosctl: Talosctl) -> None:
    contract = pytest.importorskip("sandbox.talosctl.contract").load(CONTRACTS / "cli.md")
    for argv in talosctl.commands():
        assert contract.check(["talosctl", *argv]) == [], argv


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    if not folder.exists():
        return {}
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def schema_errors(doc: dict) -> list[str]:
    kind = doc_id(doc)[1]
    name = "v1alpha1.Config" if kind == "v1alpha1" else None
    if kind == "v1alpha1":  # talosctl gen config writes persist: true, a field the published schema does not list
        doc = {key: value for key, value in doc.items() if key != "persist"}
    for definition, body in SCHEMA["$defs"].items():
        if body.get("properties", {}).get("kind", {}).get("enum") == [kind]:
            name = definition
    assert name, f"no schema for {kind}"
    validator = Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]})
    return [f"{kind} {list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def with_node_patch(params: dict, node: str, patch) -> dict:
    params = copy.deepcopy(params)
    target = next(n for n in params["cluster"]["nodes"] if n["name"] == node)
    target["patches"] = [*target["patches"], patch]
    return params


# --------------------------------------------------------------------------------------------------------------
# Documentation and inputs (no talosctl needed)
# --------------------------------------------------------------------------------------------------------------


def test_argument_spec_matches_documentation():
    spec = check_documentation(module, ModuleDocFragment)
    assert spec["hcloud_token"]["no_log"] and spec["secret_patches"]["no_log"] and "no_log" not in spec["patches"]


def test_unknown_nodes_and_a_missing_endpoint_are_refused():
    model = sandbox_model()
    with pytest.raises(TalosConfigError, match="nodes not in the cluster model: cp-9"):
        machine_config.select_nodes(model, ["cp-1", "cp-9"])
    model["nodes"][0]["name"] = "../etc"
    with pytest.raises(TalosConfigError, match="must be DNS labels"):
        machine_config.select_nodes(model, None)
    model["endpoint"]["url"] = None
    with pytest.raises(TalosConfigError, match="give endpoint"):
        machine_config.api_endpoint({}, model)
    assert machine_config.api_endpoint({"endpoint": "https://lb:6443"}, model) == "https://lb:6443"


def test_check_mode_without_a_bundle_renders_nothing(tmp_path):
    params = {
        "cluster": sandbox_model(),
        "nodes": None,
        "secrets_file": str(tmp_path / "missing.yaml"),
        "output_dir": str(tmp_path / "out"),
        "timeout": 10.0,
        "parallel": 8,
        "patches": [],
    }
    result = machine_config.render_machine_configs(params, True, Talosctl(binary="/bin/false", runner=run_process))
    assert result["changed"] and all(n["changed"] for n in result["nodes"]) and result["commands"] == []
    assert not (tmp_path / "out").exists()
    with pytest.raises(secrets.SecretsError, match="create it with talos_secrets first"):
        machine_config.render_machine_configs(params, False, Talosctl(binary="/bin/false", runner=run_process))


def test_an_encrypted_bundle_needs_the_action_plugin(tmp_path):
    bundle = tmp_path / "secrets.yaml"
    bundle.write_text("$ANSIBLE_VAULT;1.1;AES256\n3031\n")
    params = {"cluster": sandbox_model(), "secrets_file": str(bundle), "output_dir": str(tmp_path), "timeout": 1.0}
    with pytest.raises(secrets.SecretsError, match="its action plugin decrypts the bundle"):
        machine_config.render_machine_configs(params, False, Talosctl(binary="/bin/false", runner=run_process))


def _certificate(days: int) -> str:
    """A base64 PEM client certificate valid for ``days`` more days, as talosconfig holds it."""
    import base64
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "os:admin")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, None)
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.PEM)).decode()


def _talosconfig(ca: str, crt: str, key: str, endpoints: str = "[]") -> str:
    return f"context: c\ncontexts:\n  c:\n    endpoints: {endpoints}\n    ca: {ca}\n    crt: {crt}\n    key: {key}\n"


def test_talosconfig_keeps_its_client_certificate_while_the_ca_is_the_same_and_it_is_not_due():
    new, old = _certificate(365), _certificate(200)
    generated = _talosconfig("CA1", new, "NEWKEY")
    previous = _talosconfig("CA1", old, "OLDKEY", "[old]")
    text, expiry = render_talosconfig(generated, previous, ["10.0.0.1"])
    assert yaml.safe_load(text)["contexts"]["c"] == {
        "endpoints": ["10.0.0.1"],
        "ca": "CA1",
        "crt": old,
        "key": "OLDKEY",
    }
    assert 199 <= (expiry - module_expiry_now()).days <= 200
    other_ca = render_talosconfig(generated, previous.replace("CA1", "CA0"), [])[0]
    assert yaml.safe_load(other_ca)["contexts"]["c"]["crt"] == new


@pytest.mark.parametrize("days_left,renewed", [(10, True), (29, True), (31, False)])
def test_talosconfig_client_certificate_is_renewed_before_it_expires(days_left, renewed):
    new, old = _certificate(365), _certificate(days_left)
    text = render_talosconfig(
        _talosconfig("CA1", new, "NEWKEY"), _talosconfig("CA1", old, "OLDKEY"), [], renew_before_days=30
    )[0]
    assert yaml.safe_load(text)["contexts"]["c"]["crt"] == (new if renewed else old)


def test_talosconfig_with_an_unreadable_certificate_takes_the_new_one():
    new = _certificate(365)
    text, expiry = render_talosconfig(_talosconfig("CA1", new, "K"), _talosconfig("CA1", "OLD", "OK"), [])
    assert yaml.safe_load(text)["contexts"]["c"]["crt"] == new and expiry is not None


def module_expiry_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------------------
# Against the stand-in
# --------------------------------------------------------------------------------------------------------------


@standin
def test_renders_three_nodes_then_changes_nothing(env):
    result, talosctl = run_checked(env["params"])
    assert result["changed"] and [n["name"] for n in result["nodes"]] == NODES
    assert all(n["changed"] for n in result["nodes"]) and result["talosconfig_changed"]
    assert sorted(p.name for p in env["out"].iterdir()) == ["cp-1.yaml", "cp-2.yaml", "talosconfig", "worker-1.yaml"]
    for path in env["out"].iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(env["out"].stat().st_mode) == 0o700
    commands = talosctl.commands()
    assert [c[:2] for c in commands].count(["gen", "config"]) == 1  # once, whatever the number of nodes
    assert sorted(c[c.index("--config") + 1].rsplit("/", 1)[-1] for c in commands if c[0] == "validate") == [
        "cp-1.yaml",
        "cp-2.yaml",
        "worker-1.yaml",
    ]
    for name in NODES:
        docs = load_documents((env["out"] / f"{name}.yaml").read_text())
        problems = [e for doc in docs for e in schema_errors(doc)]
        assert problems == [], name
        kinds = [doc_id(d)[1] for d in docs]
        assert kinds[:2] == ["v1alpha1", "HostnameConfig"] and "LinkConfig" in kinds
        assert ("Layer2VIPConfig" in kinds) == name.startswith("cp-")
        assert docs[1]["hostname"] == name
    talosconfig = yaml.safe_load((env["out"] / "talosconfig").read_text())
    assert talosconfig["contexts"][talosconfig["context"]]["endpoints"] == ["127.5.0.11", "127.5.0.12", "127.5.0.13"]

    before = snapshot(env["out"])
    again, talosctl = run_checked(env["params"])
    assert again["changed"] is False and not any(n["changed"] for n in again["nodes"])
    assert [c[:2] for c in talosctl.commands()] == [["gen", "config"]]  # unchanged files are not validated again
    assert "diff" not in again and snapshot(env["out"]) == before


@standin
def test_a_node_patch_changes_that_node_only_with_a_masked_diff(env):
    run_checked(env["params"])
    before = snapshot(env["out"])
    patch = {"machine": {"nodeLabels": {"example.org/tier": "gold"}}}
    result, talosctl = run_checked(with_node_patch(env["params"], "worker-1", patch))
    assert [n["name"] for n in result["nodes"] if n["changed"]] == ["worker-1"]
    assert [c[-3].rsplit("/", 1)[-1] for c in talosctl.commands() if c[0] == "validate"] == ["worker-1.yaml"]
    after = snapshot(env["out"])
    assert {name for name in after if after[name] != before[name]} == {"worker-1.yaml"}
    (diff,) = result["diff"]
    assert diff["after_header"].endswith("worker-1.yaml")
    assert "example.org/tier: gold" in diff["after"] and "example.org/tier" not in diff["before"]
    assert "<secret:sha256:" in diff["after"]
    raw = yaml.safe_load(Path(env["params"]["secrets_file"]).read_text())
    for value in (raw["trustdinfo"]["token"], raw["cluster"]["secret"], raw["certs"]["os"]["crt"]):
        assert value not in json.dumps(result)


@standin
def test_an_invalid_patch_fails_naming_the_node_and_writes_nothing(env):
    run_checked(env["params"])
    before = snapshot(env["out"])
    bad = with_node_patch(env["params"], "cp-2", {"machine": {"kubelet": {"frobnicate": True}}})
    bad = with_node_patch(bad, "cp-1", {"machine": {"nodeLabels": {"example.org/x": "y"}}})  # valid on its own
    with pytest.raises(NodesFailed) as info:
        run_checked(bad)
    message = str(info.value)
    assert 'node "cp-2"' in message and "frobnicate" in message and "no file was written" in message
    assert [f["name"] for f in info.value.failures] == ["cp-2"]
    assert snapshot(env["out"]) == before

    broken = with_node_patch(env["params"], "worker-1", {"machine": {"install": "oops"}})
    with pytest.raises(NodesFailed, match=r'node "worker-1": patches\[0\] of the node: .*machine\.install'):
        run_checked(broken)
    assert snapshot(env["out"]) == before


@standin
def test_an_invalid_patch_on_a_fresh_cluster_writes_no_file_at_all(env):
    bad = with_node_patch(env["params"], "worker-1", {"cluster": {"network": {"dnsDomain": "not a domain!"}}})
    with pytest.raises(NodesFailed, match='node "worker-1"'):
        run_checked(bad)
    assert not env["out"].exists()


@standin
def test_check_mode_writes_nothing(env):
    planned, _talosctl = run_checked(env["params"], check_mode=True)
    assert planned["changed"] and all(n["changed"] for n in planned["nodes"])
    assert len(planned["diff"]) == len(NODES) + 1 and not env["out"].exists()
    run_checked(env["params"])
    before = snapshot(env["out"])
    changed = with_node_patch(env["params"], "cp-1", {"machine": {"install": {"wipe": True}}})
    planned, _talosctl = run_checked(changed, check_mode=True)
    assert [n["name"] for n in planned["nodes"] if n["changed"]] == ["cp-1"]
    assert "wipe: true" in planned["diff"][0]["after"]
    assert snapshot(env["out"]) == before


SECRET_PATCH = """\
apiVersion: v1alpha1
kind: ExtensionServiceConfig
name: tailscale
environment:
  - TS_ROUTES=10.5.0.0/24
  - TS_EXTRA_ARGS=--login-server=https://hs.example.org/{key}
"""


@standin
def test_module_main_hides_the_diff_without_diff_mode(env, capsys):
    args = {**env["params"], "secret_patches": [SECRET_PATCH.format(key="tskey-one")]}
    result = run_module(module, args, capsys)
    assert result["changed"] and "diff" not in result
    assert "tskey-one" not in json.dumps(result)  # secret_patches are no_log


@standin
def test_secret_patches_are_masked_in_the_diff_before_and_after(env):
    first = copy.deepcopy(env["params"])
    first["secret_patches"] = [SECRET_PATCH.format(key="tskey-one")]
    result, _talosctl = run_checked(first)
    assert "tskey-one" in (env["out"] / "worker-1.yaml").read_text()
    assert "tskey-one" not in json.dumps(result) and "ExtensionServiceConfig" in json.dumps(result)
    second = {**first, "secret_patches": [SECRET_PATCH.format(key="tskey-two")]}
    result, _talosctl = run_checked(second)
    text = json.dumps(result)
    assert "tskey-one" not in text and "tskey-two" not in text
    assert all(n["changed"] for n in result["nodes"]) and result["diff"][0]["before"] != result["diff"][0]["after"]
    broken = {**first, "secret_patches": ["environment: [tskey-three\n"]}
    with pytest.raises(NodesFailed) as info:
        run_checked(broken)
    assert "tskey-three" not in str(info.value) and "secret_patches[0] of the task is not valid YAML (line" in str(
        info.value
    )


@standin
@pytest.mark.slow
def test_playbook_encrypts_the_bundle_and_renders_from_it(tmp_path):
    """Both action plugins: talos_secrets encrypts with the playbook's vault password, talos_machine_config
    decrypts for the run; a second run changes nothing."""
    password = tmp_path / "vault-pass"
    password.write_text("sandbox-vault-password\n")
    (tmp_path / "model.json").write_text(json.dumps(sandbox_model()))
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          vars:
            model: "{{{{ lookup('ansible.builtin.file', '{tmp_path}/model.json') | from_json }}}}"
          module_defaults:
            talosforge.cluster.talos_secrets: {{talosctl: "{STANDIN}"}}
            talosforge.cluster.talos_machine_config: {{talosctl: "{STANDIN}"}}
          tasks:
            - talosforge.cluster.talos_secrets:
                path: "{tmp_path}/talos/secrets.yaml"
              register: bundle
            - talosforge.cluster.talos_machine_config:
                cluster: "{{{{ model }}}}"
                nodes: [cp-1, worker-1]
                secrets_file: "{{{{ bundle.path }}}}"
                output_dir: "{tmp_path}/talos/rendered"
        """)
    )
    environment = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_VAULT_PASSWORD_FILE": str(password),
        "TALOSFORGE_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)]
    if not shutil.which(command[0]):
        pytest.skip("ansible-playbook is not installed next to this Python")

    def play() -> str:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    first = play()
    assert "changed=2" in first
    stored = (tmp_path / "talos" / "secrets.yaml").read_bytes()
    assert secrets.is_vault(stored)
    assert sorted(p.name for p in (tmp_path / "talos" / "rendered").iterdir()) == [
        "cp-1.yaml",
        "talosconfig",
        "worker-1.yaml",
    ]
    assert "changed=0" in play()
    assert (tmp_path / "talos" / "secrets.yaml").read_bytes() == stored
