"""The talosctl contract parser (sandbox/talosctl/contract.py) on the real v1.13.9 CLI reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from talosctl_testlib import CLI_MD, Sandbox

from sandbox.talosctl import cli, contract


@pytest.fixture(scope="module")
def reference() -> contract.Contract:
    return contract.load(CLI_MD)


def test_every_section_of_the_reference_is_a_command(reference: contract.Contract) -> None:
    headings = {
        tuple(match.group(1).split())
        for match in re.finditer(r"^## talosctl((?: [\w.-]+)*)\s*$", CLI_MD.read_text(), re.MULTILINE)
    }
    assert headings <= set(reference.commands)
    assert ("apply-config",) in reference.commands and ("etcd", "snapshot") in reference.commands
    assert reference.talos_version() == "v1.13.9"
    # a group implied by deeper sections exists too, and is not runnable
    assert not reference.command("cluster", "create").runnable
    assert set(reference.command("etcd").children) >= {"members", "snapshot", "leave", "status"}


def test_apply_config_flags_types_and_defaults(reference: contract.Contract) -> None:
    flags = reference.command("apply-config").flags
    assert flags["file"].short == "f" and flags["file"].kind == "string"
    assert flags["insecure"].short == "i" and flags["insecure"].kind == "bool"
    assert flags["mode"].kind == "enum"
    assert flags["mode"].choices == ("auto", "no-reboot", "reboot", "staged", "try")
    assert flags["mode"].default == "auto"
    assert flags["nodes"].kind == "strings" and flags["nodes"].short == "n"
    assert flags["config-patch"].kind == "stringArray"
    assert flags["timeout"].kind == "duration" and flags["timeout"].default == "1m0s"
    assert "talosconfig" in flags and not flags["talosconfig"].inherited


def test_inherited_flags_are_parsed(reference: contract.Contract) -> None:
    members = reference.command("etcd", "members").flags
    assert {"nodes", "endpoints", "talosconfig", "context", "cluster", "help"} <= set(members)
    assert members["nodes"].inherited and not members["help"].inherited
    assert reference.command("gen", "config").flags["force"].inherited
    # gen config and validate talk to no node: no --talosconfig, no --nodes
    for path in (("gen", "config"), ("gen", "secrets"), ("validate",)):
        assert "talosconfig" not in reference.command(*path).flags
        assert "nodes" not in reference.command(*path).flags


def test_positional_arguments_come_from_the_usage_line(reference: contract.Contract) -> None:
    assert (reference.command("gen", "config").min_args, reference.command("gen", "config").max_args) == (2, 2)
    assert (reference.command("kubeconfig").min_args, reference.command("kubeconfig").max_args) == (0, 1)
    assert (reference.command("get").min_args, reference.command("get").max_args) == (1, 2)
    assert (reference.command("config", "endpoint").min_args, reference.command("config", "endpoint").max_args) == (
        1,
        None,
    )
    assert (reference.command("version").min_args, reference.command("version").max_args) == (0, 0)


@pytest.mark.parametrize(
    "argv",
    [
        ["gen", "secrets", "-o", "secrets.yaml", "--force"],
        [
            "gen",
            "config",
            "demo",
            "https://10.0.0.10:6443",
            "--with-secrets",
            "s.yaml",
            "--output-types",
            "controlplane,worker,talosconfig",
            "-o",
            "out",
            "--with-docs=false",
            "--with-examples=false",
            "--config-patch",
            "@patch.yaml",
            "--config-patch-control-plane",
            "@cp.yaml",
            "--additional-sans",
            "a,b",
        ],
        ["validate", "--config", "controlplane.yaml", "--mode", "metal", "--strict"],
        ["apply-config", "--file", "c.yaml", "--nodes", "10.0.0.1", "--insecure", "--mode", "no-reboot"],
        ["apply-config", "-f", "c.yaml", "-n", "10.0.0.1,10.0.0.2", "-e", "10.0.0.1", "--dry-run", "-m", "staged"],
        ["bootstrap", "--nodes", "10.0.0.1", "--endpoints", "10.0.0.1", "--talosconfig", "tc"],
        ["kubeconfig", "kc", "--nodes", "10.0.0.1", "--force", "--merge=false"],
        ["health", "--nodes", "10.0.0.1", "--wait-timeout", "10m", "--server=false", "--control-plane-nodes", "a,b"],
        [
            "upgrade",
            "--nodes",
            "10.0.0.1",
            "--image",
            "ghcr.io/siderolabs/installer:v1.13.9",
            "--wait",
            "--timeout",
            "30m0s",
        ],
        ["upgrade-k8s", "--to", "1.36.3", "--nodes", "10.0.0.1", "--dry-run"],
        ["reset", "--graceful=false", "--reboot", "--wipe-mode", "system-disk", "-n", "10.0.0.1"],
        ["etcd", "snapshot", "db.snapshot", "-n", "10.0.0.1"],
        ["-n", "10.0.0.1", "version", "--short"],
        ["talosctl", "get", "members", "-o", "json", "-n", "10.0.0.1"],
        ["/usr/local/bin/talosctl", "config", "endpoint", "10.0.0.1", "10.0.0.2"],
    ],
)
def test_valid_command_lines_pass(reference: contract.Contract, argv: list[str]) -> None:
    assert reference.check(argv) == []


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["apply-config", "--foo"], "unknown flag: --foo"),
        (["frobnicate"], 'unknown command "frobnicate" for "talosctl"'),
        (["etcd", "frobnicate"], 'unknown command "frobnicate" for "talosctl etcd"'),
        (["apply", "-f", "x"], 'unknown command "apply" for "talosctl"'),
        (["upgrade", "--preserve"], "unknown flag: --preserve"),
        (["upgrade", "--stage"], "unknown flag: --stage"),
        (["gen", "config", "demo", "https://x:6443", "--talosconfig", "t"], "unknown flag: --talosconfig"),
        (["bootstrap", "-x"], "unknown shorthand flag: 'x' in -x"),
        (["apply-config", "--file"], "flag needs an argument: --file"),
        (["apply-config", "-f"], "flag needs an argument: 'f' in -f"),
        (
            ["apply-config", "--mode", "sometimes"],
            'invalid argument "sometimes" for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try',  # noqa: E501
        ),
        (
            ["health", "--wait-timeout", "10"],
            'invalid argument "10" for "--wait-timeout" flag: time: missing unit in duration "10"',
        ),
        (
            ["apply-config", "--dry-run=maybe"],
            'invalid argument "maybe" for "--dry-run" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
        (["gen", "config", "demo"], "accepts 2 arg(s), received 1"),
        (["version", "extra"], 'unknown command "extra" for "talosctl version"'),
        (["kubeconfig", "a", "b"], "accepts at most 1 arg(s), received 2"),
        (["config", "endpoint"], "requires at least 1 arg(s), only received 0"),
    ],
)
def test_invalid_command_lines_are_reported(reference: contract.Contract, argv: list[str], problem: str) -> None:
    problems = reference.check(argv)
    assert len(problems) == 1 and problems[0].split("\n")[0] == problem


def test_unknown_commands_get_cobra_suggestions(reference: contract.Contract) -> None:
    assert reference.check(["apply", "-f", "x"]) == [
        'unknown command "apply" for "talosctl"\n\nDid you mean this?\n\tapply-config\n'
    ]
    assert "command group" in reference.check(["etcd"])[0]


def test_typed_values(reference: contract.Contract) -> None:
    invocation = reference.parse(["upgrade", "-n", "a,b", "--nodes", "c", "--image", "img", "--timeout", "1h30m"])
    assert invocation.values["nodes"] == ["a", "b", "c"]
    assert invocation.value("timeout") == 5400.0
    assert invocation.value("wait") is True and invocation.value("drain") is True  # documented defaults
    assert reference.parse(["health", "--server=false"]).value("server") is False
    output_types = reference.parse(["gen", "config", "a", "b"]).value("output-types")
    assert output_types == ["controlplane", "worker", "talosconfig"]


def test_cache_on_disk_is_reused(tmp_path: Path) -> None:
    first = contract.load(CLI_MD, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("cli-contract-*.json"))) == 1
    again = contract.Contract.from_json(contract.parse_markdown(CLI_MD.read_text()).to_json())
    assert set(again.commands) == set(first.commands)
    assert again.command("apply-config").flags == first.command("apply-config").flags


def test_every_implemented_command_is_in_the_reference(reference: contract.Contract) -> None:
    for path in cli.IMPLEMENTED:
        assert reference.command(*path).runnable, path


def test_the_executable_rejects_what_the_reference_does_not_list(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    unknown_flag = sandbox.fails("apply-config", "--file", "x.yaml", "--foo")
    assert unknown_flag.stderr.startswith("unknown flag: --foo")
    unknown_command = sandbox.fails("frobnicate")
    assert unknown_command.stderr.startswith('unknown command "frobnicate" for "talosctl"')
    hidden = sandbox.fails("upgrade", "--nodes", "10.0.0.1", "--preserve")
    assert "unknown flag: --preserve" in hidden.stderr
    helped = sandbox.ok("bootstrap", "--help")
    assert "talosctl bootstrap [flags]" in helped.stdout
    sandbox.ok("gen", "secrets", "-o", "s.yaml", "--kubernetes-bootstrap-token", "abcdef.0123456789abcdef")
    sandbox.fails("gen", "config", "c", "https://x:6443", "--config-patch", "{apiToken: secret}", "--bogus")
    log = sandbox.log()
    assert [record["exit_code"] for record in log] == [1, 1, 1, 0, 0, 1]
    assert log[4]["argv"] == ["gen", "secrets", "-o", "s.yaml", "--kubernetes-bootstrap-token", "REDACTED"]
    assert log[5]["argv"][-2:] == ["REDACTED", "--bogus"]
    assert log[0]["argv"] == ["apply-config", "--file", "x.yaml", "--foo"]
    assert log[0]["error"] == "unknown flag: --foo"
