"""The stand-in takes a machine config exactly when Talos's own validation does.

A set of documents (every document kind the collection writes, every document example of Talos's configuration
reference, and variants such as HostnameConfig with ``auto: off``/``stable``, with and without ``hostname``),
each alone and after a generated v1alpha1 config, goes through ``talos-config validate`` (Talos's code) and
through the stand-in: ``talosctl validate``, ``apply-config --dry-run`` and ``apply-config`` to a node in
maintenance mode. Each of the stand-in's answers must be the verdict Talos gives, and never a crash.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import machine_documents
from talosctl_testlib import CONTRACTS, Run, Sandbox

from sandbox.gotools.programs import binary
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.talosctl import resident

pytestmark = pytest.mark.slow

_EXAMPLE = re.compile(r"\{\{< highlight yaml >\}\}\n(apiVersion: v1alpha1\nkind: .*?)\{\{< /highlight >\}\}", re.S)


def collection_documents() -> dict[str, dict[str, Any]]:
    """One of each document the collection writes (machine_documents), by kind."""
    docs = [
        machine_documents.hostname_config("cp-1"),
        machine_documents.layer2_vip_config("10.5.0.10", "eth0"),
        machine_documents.hcloud_vip_config("10.5.0.10", "eth0", "hcloud-token"),
        machine_documents.link_config("eth0", "10.5.0.11/24", "10.5.0.1"),
        machine_documents.link_config("eth0", "10.5.0.11/24", None),
        machine_documents.resolver_config(["10.5.0.1", "1.1.1.1"]),
    ]
    return {f"collection {doc['kind']} {index}": doc for index, doc in enumerate(docs)}


def hostname_variants() -> dict[str, str]:
    head = "apiVersion: v1alpha1\nkind: HostnameConfig\n"
    return {
        f"HostnameConfig {name}": head + body
        for name, body in {
            "auto off": "auto: off\n",
            "auto off with hostname": "auto: off\nhostname: cp-1\n",
            "auto off quoted with hostname": "auto: 'off'\nhostname: cp-1.example.org\n",
            "auto stable": "auto: stable\n",
            "auto stable with hostname": "auto: stable\nhostname: cp-1\n",
            "hostname only": "hostname: cp-1\n",
            "neither": "",
            "auto unknown": "auto: sometimes\n",
            "hostname invalid": "hostname: -not_a-host-\n",
        }.items()
    }


def reference_examples() -> dict[str, str]:
    """Every document example of the configuration reference (the blocks that start a document)."""
    found = {}
    for page in sorted((CONTRACTS / "configuration").rglob("*.md")):
        for index, block in enumerate(_EXAMPLE.findall(page.read_text(encoding="utf-8"))):
            found[f"reference {page.relative_to(CONTRACTS)} #{index}"] = block
    return found


def document_sets() -> dict[str, str]:
    sets = {name: yaml.safe_dump(doc, sort_keys=False) for name, doc in collection_documents().items()}
    sets.update(hostname_variants())
    sets.update(reference_examples())
    return sets


def test_the_sets_cover_every_kind_the_collection_writes() -> None:
    kinds = {doc["kind"] for doc in collection_documents().values()}
    assert kinds == {"HostnameConfig", "Layer2VIPConfig", "HCloudVIPConfig", "LinkConfig", "ResolverConfig"}
    written = set(re.findall(r'"kind": "(\w+)"', Path(machine_documents.__file__).read_text(encoding="utf-8")))
    assert written <= kinds, written - kinds
    assert len(reference_examples()) >= 40


def _base_without_hostname(worker: str) -> str:
    kept = [part for part in worker.split("\n---\n") if "kind: HostnameConfig" not in part]
    return "\n---\n".join(kept).rstrip("\n") + "\n"


def _accepted(run: Run) -> bool | None:
    """True or False as talosctl answers; None for anything else (a crash of the stand-in)."""
    if run.returncode not in (0, 1) or "Traceback" in run.output:
        return None
    return run.returncode == 0


def test_the_stand_in_takes_a_config_exactly_when_talos_does(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    sandbox.gen_cluster()
    base = _base_without_hostname((sandbox.work / "out" / "worker.yaml").read_text(encoding="utf-8"))
    configs: dict[str, str] = {}
    for name, text in document_sets().items():
        configs[f"{name} (alone)"] = text
        # a second HostnameConfig would be a duplicate: the generated one is left out above
        configs[f"{name} (after v1alpha1)"] = base + "---\n" + text
    addresses = [f"10.77.{index // 200}.{index % 200 + 10}" for index in range(len(configs))]
    TalosNodes(sandbox.state).add(*addresses)
    program = str(binary("talos-config"))
    mismatches = []
    with resident.running(sandbox.state):
        for (name, text), address in zip(configs.items(), addresses, strict=True):
            path = sandbox.work / "config.yaml"
            path.write_text(text, encoding="utf-8")
            talos = subprocess.run(
                [program, "validate", "--mode", "metal", "--config", str(path)],
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
            expected = talos.returncode == 0
            answers = {
                "validate": sandbox.talosctl("validate", "--mode", "metal", "--config", "config.yaml"),
                "apply --dry-run": sandbox.talosctl(
                    "apply-config", "--insecure", "-n", address, "--file", "config.yaml", "--dry-run"
                ),
                "apply": sandbox.talosctl("apply-config", "--insecure", "-n", address, "--file", "config.yaml"),
            }
            for how, run in answers.items():
                if _accepted(run) != expected:
                    mismatches.append(
                        f"{name}: talos-config {'accepts' if expected else 'refuses'} "
                        f"({(talos.stdout + talos.stderr).strip()[:200]}), stand-in {how}: {run.output.strip()[:300]}"
                    )
    assert not mismatches, "\n".join(mismatches)


def test_a_config_without_v1alpha1_leaves_the_node_in_maintenance(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    sandbox.gen_cluster()
    TalosNodes(sandbox.state).add("10.78.0.11")
    (sandbox.work / "hostname.yaml").write_text(hostname_variants()["HostnameConfig auto off with hostname"])
    sandbox.ok("apply-config", "--insecure", "-n", "10.78.0.11", "--file", "hostname.yaml")
    node = sandbox.node("10.78.0.11")
    assert (node["stage"], node["hostname"], node["config_sha256"]) == ("maintenance", "cp-1", None)
    # a config that is complete for boot installs the node, with the install image of its v1alpha1 document
    worker = (sandbox.work / "out" / "worker.yaml").read_text(encoding="utf-8")
    parts = worker.split("\n---\n")
    (sandbox.work / "reordered.yaml").write_text("\n---\n".join([*parts[1:], parts[0]]) + "\n", encoding="utf-8")
    sandbox.ok("apply-config", "--insecure", "-n", "10.78.0.11", "--file", "reordered.yaml")
    node = sandbox.node("10.78.0.11")
    assert node["stage"] == "running" and node["installer_image"] and "metal-installer" in node["installer_image"]
