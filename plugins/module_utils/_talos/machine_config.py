# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_machine_config module: render every node's machine config, validate them all, then write what changed.

``talosctl gen config`` runs once per task; each node's config is the base of its role with the patches of
``machine_documents`` applied. Nothing is written unless every node's config renders and validates. Runs on the
controller; the action plugin hands it a decrypted secrets bundle.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import worker_count
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    HAS_YAML,
    TalosConfigError,
    dump_documents,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.masking import (
    SecretSpots,
    masked_text,
    scrub,
    secret_spots,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.machine_documents import (
    RenderOptions,
    additional_sans,
    install_image,
    render_node,
    talosconfig_endpoints,
    validate_mode,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import NodesFailed
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import (
    FILE_MODE,
    SecretsError,
    check_bundle,
    claim_bundle,
    is_vault,
    read_file,
    write_private,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosconfig import render_talosconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    LOCAL,
    Connection,
    Talosctl,
)

_NODE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


def select_nodes(cluster: dict[str, Any], names: list[str] | None) -> list[dict[str, Any]]:
    nodes = [node for node in cluster.get("nodes") or [] if isinstance(node, dict) and node.get("name")]
    bad = [str(node["name"]) for node in nodes if not _NODE_NAME.fullmatch(str(node["name"]))]
    if bad:
        raise TalosConfigError(f"node names must be DNS labels (they name files and hostnames): {', '.join(bad)}")
    if names is None:
        return nodes
    known = {node["name"] for node in nodes}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise TalosConfigError(
            f"nodes not in the cluster model: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    wanted = set(names)
    return [node for node in nodes if node["name"] in wanted]


def api_endpoint(params: dict[str, Any], cluster: dict[str, Any]) -> str:
    endpoint = params.get("endpoint") or (cluster.get("endpoint") or {}).get("url")
    if not endpoint:
        raise TalosConfigError(
            "the Kubernetes API endpoint is not known yet (a load balancer without endpoint.host): give endpoint, "
            "for example https://<load balancer address>:6443, once the infrastructure stage has created it"
        )
    return endpoint


def _endpoint_host(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]


def gen_config_args(cluster: dict[str, Any], endpoint: str, secrets_file: str, out: str) -> list[str]:
    """``talosctl gen config``: both roles and the talosconfig in one run. The installer image and disk given here
    are the first node's; every node's own are set by its patch."""
    first = (cluster.get("nodes") or [{}])[0]
    args = ["gen", "config", cluster["name"], endpoint, "--with-secrets", secrets_file]
    args += ["--kubernetes-version", str(cluster["kubernetes_version"]), "--talos-version", cluster["talos_version"]]
    args += [
        "--install-image",
        install_image(cluster, first),
        "--install-disk",
        first.get("install_disk") or "/dev/sda",
    ]
    sans = additional_sans(cluster)
    if sans:
        args += ["--additional-sans", ",".join(sans)]
    args += ["--output-types", ",".join([*ROLES, "talosconfig"]), "--output", out]
    return [*args, "--with-docs=false", "--with-examples=false", "--force"]


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------------------------------------------
# Render, validate, compare, write
# --------------------------------------------------------------------------------------------------------------


def render_all(
    params: dict[str, Any], cluster: dict[str, Any], nodes: list[dict[str, Any]], bases: dict[str, list]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    options = RenderOptions(hcloud_token=params.get("hcloud_token"), link=params.get("link"))
    rendered: dict[str, str] = {}
    failures: list[dict[str, str]] = []
    for node in nodes:
        if node.get("role") not in ROLES:
            failures.append({"name": node["name"], "msg": f"role {node.get('role')!r} is not controlplane or worker"})
            continue
        try:
            extra, secret = params.get("patches") or [], params.get("secret_patches") or []
            docs = render_node(bases[node["role"]], cluster, node, options, extra, secret)
            rendered[node["name"]] = dump_documents(docs)
        except TalosConfigError as exc:
            failures.append({"name": node["name"], "msg": str(exc)})
    return rendered, failures


def validate_all(
    talosctl: Talosctl, folder: str, nodes: list[dict[str, Any]], rendered: dict[str, str], parallel: int
) -> list[dict[str, str]]:
    """``talosctl validate`` for every rendered node, ``parallel`` at a time; the failures."""
    by_name = {node["name"]: node for node in nodes}
    names = [name for name in by_name if name in rendered]
    for name in names:
        write_private(os.path.join(folder, f"{name}.yaml"), rendered[name].encode("utf-8"))

    def work(client: Talosctl, name: str) -> Any:
        mode = validate_mode(by_name[name])
        args = ["validate", "--config", os.path.join(folder, f"{name}.yaml"), "--mode", mode]
        return client.run(args, Connection(use_talosconfig=False, node=name), check=False)

    failures = []
    for name, (result, error) in zip(names, talosctl.run_per_node(names, work, parallel), strict=True):
        if error is not None:
            failures.append({"name": name, "msg": str(error)})
        elif not result.ok:
            output = (result.stderr.strip() or result.stdout.strip() or f"exit code {result.rc}").replace("\n", " ")
            mode = validate_mode(by_name[name])
            failures.append({"name": name, "msg": f"talosctl validate --mode {mode} rejected the config: {output}"})
    return failures


def _diff(path: str, before: str | None, after: str, spots: SecretSpots) -> dict[str, str]:
    def masked(text: str | None) -> str:
        if text is None:
            return ""
        try:
            return masked_text(load_documents(text, path), spots)
        except TalosConfigError:
            return "<not YAML>\n"

    return {
        "before": masked(before),
        "after": masked(after),
        "before_header": path if before is not None else f"{path} (absent)",
        "after_header": path,
    }


def _needs_mode(path: str) -> bool:
    return os.path.exists(path) and os.stat(path).st_mode & 0o777 != FILE_MODE


def render_machine_configs(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: render, validate and write; raises TalosConfigError, SecretsError, TalosctlError or NodesFailed
    (``failures`` names each node whose config is invalid; nothing was written)."""
    if not HAS_YAML:
        raise TalosConfigError("PyYAML is required (it comes with ansible-core on the controller)")
    worker_count(params.get("parallel", 8), TalosConfigError)  # fail early on parallel < 1
    cluster = params["cluster"]
    for key in ("name", "talos_version", "kubernetes_version"):
        if not cluster.get(key):
            raise TalosConfigError(f"cluster.{key} is missing: pass talosforge_cluster, the resolved cluster model")
    nodes = select_nodes(cluster, params.get("nodes"))
    endpoint = api_endpoint(params, cluster)
    output_dir = os.path.abspath(params["output_dir"])
    talosconfig_path = os.path.abspath(params.get("talosconfig") or os.path.join(output_dir, "talosconfig"))
    entries = [
        {
            "name": node["name"],
            "role": node.get("role"),
            "path": os.path.join(output_dir, f"{node['name']}.yaml"),
            "changed": False,
            "validate_mode": validate_mode(node),
        }
        for node in nodes
    ]
    result: dict[str, Any] = {"changed": False, "output_dir": output_dir, "nodes": entries}
    result.update(talosconfig=talosconfig_path, talosconfig_changed=False, commands=[])
    secrets_file = os.path.abspath(params["secrets_file"])
    if not os.path.exists(secrets_file):
        if not check_mode:
            raise SecretsError(f"the secrets bundle {secrets_file} does not exist: create it with talos_secrets first")
        for entry in entries:
            entry["changed"] = not os.path.exists(entry["path"])
        result["talosconfig_changed"] = not os.path.exists(talosconfig_path)
        result["changed"] = True
        result["msg"] = f"the secrets bundle {secrets_file} does not exist yet; the configs cannot be rendered"
        return result
    data = read_file(secrets_file)
    if is_vault(data):
        raise SecretsError(
            f"{secrets_file} is encrypted with ansible-vault: run talosforge.cluster.talos_machine_config as a task "
            "(its action plugin decrypts the bundle) with the vault password"
        )
    check_bundle(data, secrets_file)
    adopted = claim_bundle(secrets_file, cluster["name"], check_mode)  # another cluster's bundle: refused here
    # The scratch folder (talosctl gen config's output, the configs to validate) is inside the 0700 output folder,
    # or the bundle's own private folder while the output folder does not exist (it is made only to write).
    where = output_dir if os.path.isdir(output_dir) else os.path.dirname(secrets_file)
    if not check_mode:
        scratch.sweep(where)  # what a killed run left (its gen config output holds the CA keys)
    workdir = scratch.scratch_dir(where, "config")
    try:
        _render_and_write(params, check_mode, talosctl, workdir, cluster, nodes, endpoint, secrets_file, result)
        if adopted:
            result["msg"] = adopted
        return result
    finally:
        scratch.remove(workdir)
        result["commands"] = talosctl.commands()


def _render_and_write(
    params: dict[str, Any],
    check_mode: bool,
    talosctl: Talosctl,
    workdir: str,
    cluster: dict[str, Any],
    nodes: list[dict[str, Any]],
    endpoint: str,
    secrets_file: str,
    result: dict[str, Any],
) -> dict[str, Any]:
    gen_dir = os.path.join(workdir, "gen")
    talosctl.run(gen_config_args(cluster, endpoint, secrets_file, gen_dir), LOCAL)
    bases = {}
    for role in ROLES:
        text = _read_text(os.path.join(gen_dir, f"{role}.yaml"))
        if text is None:
            raise TalosConfigError(f"talosctl gen config did not write {role}.yaml")
        bases[role] = load_documents(text, f"the {role} config written by talosctl gen config")
    rendered, failures = render_all(params, cluster, nodes, bases)
    on_disk = {entry["name"]: _read_text(entry["path"]) for entry in result["nodes"]}
    # A file that already holds exactly this render was validated when it was written: only new content is checked.
    fresh = {name: text for name, text in rendered.items() if on_disk.get(name) != text}
    if params.get("validate", True) and fresh:
        failures += validate_all(talosctl, os.path.join(workdir, "render"), nodes, fresh, params.get("parallel", 8))
    spots = secret_spots(params.get("secret_patches") or [])
    if failures:
        order = [node["name"] for node in nodes]
        failures.sort(key=lambda failure: order.index(failure["name"]))
        for failure in failures:
            failure["msg"] = scrub(failure["msg"], spots)
        reasons = "; ".join(f'node "{failure["name"]}": {failure["msg"]}' for failure in failures)
        message = f"{len(failures)} of {len(nodes)} node configs are invalid, no file was written: {reasons}"
        raise NodesFailed(message, {"commands": talosctl.commands()}, failures)

    diffs = []
    writes: list[tuple[str, str]] = []
    for entry in result["nodes"]:
        before = on_disk[entry["name"]]
        after = rendered[entry["name"]]
        if before != after:
            writes.append((entry["path"], after))
            diffs.append(_diff(entry["path"], before, after, spots))
        entry["changed"] = before != after or _needs_mode(entry["path"])
    talosconfig_path = result["talosconfig"]
    previous = _read_text(talosconfig_path) if os.path.exists(talosconfig_path) else None
    generated = _read_text(os.path.join(gen_dir, "talosconfig")) or ""
    talosconfig, expiry = render_talosconfig(
        generated,
        previous,
        params.get("talosconfig_endpoints") or None,
        params.get("talosconfig_renew_before_days", 30),
        default_endpoints=talosconfig_endpoints(cluster, _endpoint_host(endpoint)),
    )
    result["talosconfig_expires"] = expiry.isoformat() if expiry else None
    if talosconfig != previous:
        writes.append((talosconfig_path, talosconfig))
        diffs.append(_diff(talosconfig_path, previous, talosconfig, spots))
    result["talosconfig_changed"] = talosconfig != previous or _needs_mode(talosconfig_path)
    result["changed"] = result["talosconfig_changed"] or any(entry["changed"] for entry in result["nodes"])
    if diffs:
        result["diff"] = diffs
    if check_mode:
        return result
    os.makedirs(result["output_dir"], mode=0o700, exist_ok=True)
    for path, text in writes:
        write_private(path, text.encode("utf-8"))
    for path in [entry["path"] for entry in result["nodes"]] + [talosconfig_path]:
        if _needs_mode(path):
            os.chmod(path, FILE_MODE)
    return result
