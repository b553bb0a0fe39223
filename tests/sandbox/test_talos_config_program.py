"""gen secrets, gen config and validate run Talos's own code (talos-config), and so do the nodes' config checks.

The stand-in checks a command line against the CLI reference, then hands it to ``talos-config`` (a Go build of
talosctl's offline commands on Talos's pkg/machinery): what these tests assert on is Talos's own output and words.
A fake program in place of talos-config shows what the handoff passes along and what it relays.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from talosctl_testlib import Sandbox

from sandbox.gotools.programs import BIN_DIR_ENV
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.talosctl import talos_config

pytestmark = pytest.mark.slow

ENDPOINT = "https://10.0.0.10:6443"
EXTENSIONS_DEPRECATED = (
    ".machine.install.extensions is deprecated, please see "
    "https://docs.siderolabs.com/talos/latest/platform-specific-installations/boot-assets"
)


def _gen(sandbox: Sandbox, *extra: str, output: str = "out") -> None:
    sandbox.ok(
        "gen",
        "config",
        "demo",
        ENDPOINT,
        "--with-secrets",
        "secrets.yaml",
        "--install-disk",
        "/dev/vda",
        "--with-docs=false",
        "--with-examples=false",
        "-o",
        output,
        "--force",
        *extra,
    )


def _documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """secrets.yaml and out/{controlplane.yaml,worker.yaml,talosconfig}, made once."""
    sandbox = Sandbox(tmp_path_factory.mktemp("generated"))
    sandbox.ok("gen", "secrets")  # -o defaults to secrets.yaml
    _gen(sandbox)
    return sandbox


@pytest.mark.parametrize("mode", ["metal", "cloud"])
@pytest.mark.parametrize("role", ["controlplane", "worker"])
def test_generated_configs_validate(generated: Sandbox, role: str, mode: str) -> None:
    validated = generated.ok("validate", "--config", f"out/{role}.yaml", "--mode", mode)
    assert (validated.stdout, validated.stderr) == (f"out/{role}.yaml is valid for {mode} mode\n", "")
    bundle = yaml.safe_load((generated.work / "secrets.yaml").read_text())
    config = _documents(generated.work / "out" / f"{role}.yaml")[0]
    assert config["machine"]["type"] == role
    assert config["cluster"]["id"] == bundle["cluster"]["id"]  # --with-secrets was used
    assert config["machine"]["token"] == bundle["trustdinfo"]["token"]


def test_gen_writes_files_as_talosctl_does(generated: Sandbox) -> None:
    assert stat.S_IMODE((generated.work / "secrets.yaml").stat().st_mode) == 0o600
    for name in ("controlplane.yaml", "worker.yaml", "talosconfig"):
        assert stat.S_IMODE((generated.work / "out" / name).stat().st_mode) == 0o644, name
    again = generated.talosctl("gen", "config", "demo", ENDPOINT, "-o", "out", "--with-secrets", "secrets.yaml")
    refused = 'generating PKI and tokens\nfile "out/controlplane.yaml" already exists, use --force to overwrite\n'
    assert (again.returncode, again.stderr) == (1, refused)
    single = generated.ok(
        "gen",
        "config",
        "demo",
        ENDPOINT,
        "--with-secrets",
        "secrets.yaml",
        "-t",
        "worker",
        "-o",
        "-",
        "--with-docs=false",
        "--with-examples=false",
        "--install-disk",
        "/dev/vda",
    )
    assert single.stdout == (generated.work / "out" / "worker.yaml").read_text()  # same secrets, same config
    assert "Created" not in single.stderr


def test_gen_config_defaults_are_talosctls(generated: Sandbox) -> None:
    config = _documents(generated.work / "out" / "controlplane.yaml")[0]
    generated.ok("gen", "config", "defaults", ENDPOINT, "-t", "controlplane", "-o", "defaults.yaml")
    default = yaml.safe_load_all((generated.work / "defaults.yaml").read_text()).__next__()
    assert default["machine"]["install"]["image"] == "ghcr.io/siderolabs/installer:v1.13.9"
    assert default["machine"]["install"]["disk"] == "/dev/sda"
    assert default["machine"]["kubelet"]["image"] == "ghcr.io/siderolabs/kubelet:v1.36.3"
    assert default["cluster"]["network"]["dnsDomain"] == "cluster.local"
    assert default["cluster"]["id"] != config["cluster"]["id"]  # fresh secrets without --with-secrets
    assert "# " in (generated.work / "defaults.yaml").read_text()  # --with-docs/--with-examples default to true


def test_patches_from_a_file_and_inline(generated: Sandbox) -> None:
    (generated.work / "labels.yaml").write_text("machine:\n  nodeLabels:\n    zone: a\n")
    _gen(
        generated,
        "--config-patch",
        "@labels.yaml",
        "--config-patch-worker",
        '{"machine": {"nodeLabels": {"tier": "workers"}}}',
        output="patched",
    )
    controlplane = _documents(generated.work / "patched" / "controlplane.yaml")[0]
    worker = _documents(generated.work / "patched" / "worker.yaml")[0]
    assert controlplane["machine"]["nodeLabels"]["zone"] == "a" and "tier" not in controlplane["machine"]["nodeLabels"]
    assert worker["machine"]["nodeLabels"] == {"zone": "a", "tier": "workers"}
    generated.ok("validate", "--config", "patched/worker.yaml", "--mode", "metal")


def test_invalid_patches_are_refused_with_talos_words(generated: Sandbox) -> None:
    (generated.work / "typo.yaml").write_text("machine:\n  install:\n    disks: /dev/sda\n")
    typo = generated.fails(
        "gen",
        "config",
        "demo",
        ENDPOINT,
        "--with-secrets",
        "secrets.yaml",
        "-o",
        "typo",
        "--config-patch",
        "@typo.yaml",
    )
    assert typo.stderr == (
        "error parsing config JSON patch: error decoding document /v1alpha1/ (line 1): unknown keys "
        "found during decoding:\nmachine:\n    install:\n        disks: /dev/sda\n\n"
    )
    assert not (generated.work / "typo").exists()
    json_patch = generated.fails(
        "gen",
        "config",
        "demo",
        ENDPOINT,
        "--with-secrets",
        "secrets.yaml",
        "-o",
        "typo",
        "--config-patch",
        '[{"op": "add", "path": "/machine/certSANs/-", "value": "x"}]',
    )
    assert json_patch.stderr == (
        "generating PKI and tokens\nfailed to generate config bundle: error patching configs: "
        "JSON6902 patches are not supported for multi-document machine configuration\n"
    )
    missing = generated.fails("gen", "config", "demo", ENDPOINT, "-o", "typo", "--config-patch", "@absent.yaml")
    assert missing.stderr == "error parsing config JSON patch: open absent.yaml: no such file or directory\n"
    scheme = generated.fails("gen", "config", "demo", "10.0.0.10:6443", "-o", "typo")
    assert scheme.stderr == 'no scheme specified for the cluster endpoint URL\ntry: "https://10.0.0.10:6443"\n'


def test_validate_refuses_an_invalid_config_with_talos_words(generated: Sandbox) -> None:
    documents = _documents(generated.work / "out" / "worker.yaml")
    documents[0]["machine"]["features"]["hostDNS"] = {"enabled": False, "forwardKubeDNSToHost": False}
    del documents[0]["cluster"]["controlPlane"]
    (generated.work / "broken.yaml").write_text(yaml.safe_dump_all(documents))
    refused = generated.fails("validate", "-c", "broken.yaml", "-m", "container")
    assert (refused.stdout, refused.stderr) == (
        "",
        (
            "1 error occurred:\n\t* v1alpha1.Config: 3 errors occurred:\n"
            "\t* cluster controlplane endpoint is required\n"
            "\t* feature HostDNS should be enabled in container mode (.machine.features.hostDNS.enabled)\n"
            "\t* feature HostDNS should forward kube-dns to host in container mode "
            "(.machine.features.hostDNS.forwardKubeDNSToHost)\n\n\n\n\n"
        ),
    )
    assert generated.fails("validate", "-c", "absent.yaml", "-m", "metal").stderr == (
        "open absent.yaml: no such file or directory\n"
    )
    assert generated.fails("validate", "-c", "out/worker.yaml", "-m", "lab").stderr == 'unknown runtime mode: "lab"\n'
    no_mode = generated.fails("validate", "-c", "out/worker.yaml")
    assert no_mode.stderr.startswith('required flag(s) "mode" not set\n\nUsage:\n  talosctl validate [flags]\n')


def test_strict_turns_a_warning_into_an_error(generated: Sandbox) -> None:
    (generated.work / "extensions.yaml").write_text(
        "machine:\n  install:\n    extensions:\n      - image: ghcr.io/siderolabs/gvisor:20231214.0-v1.6.0\n"
    )
    _gen(generated, "-t", "worker", "--config-patch", "@extensions.yaml", output="extensions-worker.yaml")
    warned = generated.ok("validate", "-c", "extensions-worker.yaml", "-m", "metal")
    assert warned.stdout == "extensions-worker.yaml is valid for metal mode\n"
    assert warned.stderr == f"WARNING: {EXTENSIONS_DEPRECATED}\n"
    strict = generated.fails("validate", "-c", "extensions-worker.yaml", "-m", "metal", "--strict")
    assert strict.stdout == ""
    assert strict.stderr == (
        f"1 error occurred:\n\t* v1alpha1.Config: 1 error occurred:\n\t* warning: {EXTENSIONS_DEPRECATED}\n\n\n\n\n"
    )


def test_nodes_check_configs_with_talos_validation(generated: Sandbox) -> None:
    metal, cloud = "10.0.0.31", "10.0.0.32"
    nodes = TalosNodes(generated.state)
    nodes.add(metal)
    nodes.add(cloud, platform="hcloud")
    documents = _documents(generated.work / "out" / "worker.yaml")
    del documents[0]["machine"]["install"]
    (generated.work / "no-install.yaml").write_text(yaml.safe_dump_all(documents))
    refused = generated.fails("apply-config", "-f", "no-install.yaml", "-n", metal, "--insecure")
    assert refused.stderr == (
        "error applying new configuration: rpc error: code = InvalidArgument desc = 1 error "
        "occurred:\n\t* v1alpha1.Config: 1 error occurred:\n\t* install instructions are "
        'required in "metal" mode\n\n\n\n\n'
    )
    assert generated.node(metal)["stage"] == "maintenance"
    generated.ok("apply-config", "-f", "no-install.yaml", "-n", cloud, "--insecure")  # cloud mode: no install needed
    assert generated.node(cloud)["stage"] == "running"

    (generated.work / "typo.yaml").write_text("machine:\n  install:\n    disks: /dev/sda\n")
    typo = generated.fails("apply-config", "-f", "out/worker.yaml", "-n", metal, "--insecure", "-p", "@typo.yaml")
    assert typo.stderr.startswith("error decoding document /v1alpha1/ (line 1): unknown keys found during decoding:")
    generated.ok(
        "apply-config",
        "-f",
        "out/worker.yaml",
        "-n",
        metal,
        "--insecure",
        "--config-patch",
        "machine:\n  nodeLabels:\n    zone: b\n",
    )
    applied = _documents(generated.state / "talos" / "nodes" / f"{metal}.config.yaml")
    assert applied[0]["machine"]["nodeLabels"] == {"zone": "b"}
    assert [document.get("kind", "v1alpha1") for document in applied] == ["v1alpha1", "HostnameConfig"]


def test_node_checks_are_cached_by_content(generated: Sandbox) -> None:
    address = "10.0.0.33"
    TalosNodes(generated.state).add(address)
    cache = generated.state / "talos" / "config-check-cache"
    documents = _documents(generated.work / "out" / "worker.yaml")
    documents[0]["machine"]["nodeLabels"] = {"cached": "yes"}
    text = yaml.safe_dump_all(documents)
    (generated.work / "cached.yaml").write_text(text)
    before = set(cache.glob("*.json")) if cache.exists() else set()
    generated.ok("apply-config", "-f", "cached.yaml", "-n", address, "--insecure", "--dry-run")
    added = set(cache.glob("*.json")) - before
    assert len(added) == 1
    (entry,) = added
    answer = json.loads(entry.read_text())
    answer["cases"]["metal"]["error"] = "planted in the cache"
    entry.write_text(json.dumps(answer))
    planted = generated.fails("apply-config", "-f", "cached.yaml", "-n", address, "--insecure")
    assert planted.stderr.endswith("desc = planted in the cache\n")  # the second call read the cache, not Talos
    assert set(cache.glob("*.json")) - before == {entry}


# --- the handoff, seen through a fake talos-config -----------------------------------------------------------------

FAKE = """#!/bin/sh
{ printf '%s\\n' "$@"; echo "cwd=$(pwd)"; echo "marker=$TALOSFORGE_TEST_MARKER"; } > "$TALOSFORGE_TEST_RECORD"
echo "talos-config says hello"
echo "talos-config complains" >&2
exit "${TALOSFORGE_TEST_EXIT:-0}"
"""


@pytest.fixture
def fake(tmp_path: Path) -> Sandbox:
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    program = folder / talos_config.PROGRAM
    program.write_text(FAKE)
    program.chmod(0o755)
    sandbox = Sandbox(tmp_path / "sandbox")
    sandbox.env.update(
        {
            BIN_DIR_ENV: str(folder),
            "TALOSFORGE_TEST_RECORD": str(tmp_path / "record"),
            "TALOSFORGE_TEST_MARKER": "from the caller",
        }
    )
    return sandbox


def _record(sandbox: Sandbox) -> list[str] | None:
    path = Path(sandbox.env["TALOSFORGE_TEST_RECORD"])
    return path.read_text().splitlines() if path.exists() else None


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "-c", "a b.yaml", "--mode", "cloud", "--strict"],
        ["gen", "secrets", "-o", "-", "--force"],
        ["gen", "config", "demo", ENDPOINT, "--config-patch", "machine:\n  nodeLabels: {a: b}", "-t", "worker"],
    ],
)
def test_the_handoff_passes_the_call_along_and_relays_the_answer(fake: Sandbox, argv: list[str]) -> None:
    fake.env["TALOSFORGE_TEST_EXIT"] = "3"
    run = fake.talosctl(*argv)
    assert (run.returncode, run.stdout, run.stderr) == (3, "talos-config says hello\n", "talos-config complains\n")
    assert _record(fake) == [*"\n".join(argv).split("\n"), f"cwd={fake.work}", "marker=from the caller"]
    assert fake.log()[-1]["exit_code"] == 3 and fake.log()[-1]["error"] == "talos-config complains"
    fake.env["TALOSFORGE_TEST_EXIT"] = "0"
    assert fake.ok(*argv).stdout == "talos-config says hello\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "-c", "x.yaml", "-m", "metal", "--bogus"], "unknown flag: --bogus\n"),
        (["gen", "config", "demo"], "accepts 2 arg(s), received 1\n"),
        (["gen", "secrets", "--output-dir", "x"], "unknown flag: --output-dir\n"),
        (
            ["gen", "config", "demo", ENDPOINT, "--output-dir", "x"],
            "unknown flag: --output-dir\n",
        ),  # hidden in talosctl
    ],
)
def test_a_command_line_the_contract_refuses_never_reaches_talos_config(
    fake: Sandbox, argv: list[str], message: str
) -> None:
    run = fake.fails(*argv)
    assert run.stderr == message
    assert _record(fake) is None


def test_without_talos_config_the_stand_in_fails_loudly(fake: Sandbox, tmp_path: Path) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    fake.env[BIN_DIR_ENV] = str(empty)
    for argv in (["gen", "secrets"], ["validate", "-c", "x.yaml", "-m", "metal"]):
        run = fake.fails(*argv)
        assert run.stderr == (
            f"talosforge sandbox stand-in: talos-config is not built ({empty}/talos-config is "
            "missing): run `python -m sandbox.gotools build talos-config` (scripts/test and "
            "scripts/sandbox-site "
            "do it)\n"
        )
    TalosNodes(fake.state).add("10.0.0.41")
    (fake.work / "c.yaml").write_text("version: v1alpha1\n")
    applied = fake.fails("apply-config", "-f", "c.yaml", "-n", "10.0.0.41", "--insecure")
    assert applied.stderr.startswith("talosforge sandbox stand-in: talos-config is not built")
    assert not os.path.exists(fake.work / "secrets.yaml")
