#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_machine_config
short_description: Render every node's Talos machine config from the secrets bundle and the cluster model
version_added: 0.1.0
description:
  - Renders the machine config of each node of O(nodes) and writes it to C(<output_dir>/<node>.yaml) (mode
    C(0600)), with a C(talosconfig) for the cluster next to it (or at O(talosconfig)).
  - C(talosctl gen config) runs once per task, whatever the number of nodes, with the cluster's name, API endpoint,
    Kubernetes and Talos versions and the secrets bundle; it writes the control-plane and worker bases and the
    talosconfig. Each node's config is then that base for its role with patches applied in this order, so that a
    later patch can change or delete what an earlier one set.
  - 1. the collection's cluster settings (pod and service networks; CNI C(none) and kube-proxy disabled for
    Cilium with kube-proxy replacement, since Cilium is installed later; C(allowSchedulingOnControlPlanes); the
    external cloud provider for the Hetzner cloud controller manager; the node network for kubelet and etcd).
  - 2. the collection's node settings - install disk and installer image (each node's own, from its schematic,
    so nodes with different extensions share one gen config), node labels and taints, and the network
    documents of Talos v1.12+ - C(HostnameConfig) (the node's name, C(auto=off)); on control planes, when the
    cluster has C(endpoint.vip), C(Layer2VIPConfig) (Proxmox) or C(HCloudVIPConfig) (Hetzner, with
    O(hcloud_token)); C(LinkConfig) with the node's address, prefix and default route, and C(ResolverConfig),
    where Talos configures the address itself (Proxmox with C(addressing=meta) or C(cloud-init)). Before Talos
    v1.12 the same settings go to C(machine.network).
  - 3. the node's C(patches) from the cluster model (cluster, node_defaults, role, pool, node), then O(patches),
    then O(secret_patches).
  - Patches are merged the way Talos merges them - strategic merge (maps merged, lists appended, C($patch=delete)),
    multi-document patches (a document of another kind is added, or merged with the one of the same kind and
    name), and JSON patches (RFC 6902 lists of C(op), C(path), C(value)), which apply to the v1alpha1 document.
  - Every node's new config is checked with C(talosctl validate) (in parallel, O(parallel) at a time) before
    anything is written; a file that already holds exactly the new render is not checked again.
  - A patch that cannot be applied or a config that does not validate fails the task with a message naming the
    node and the field, and no file is written, for any node.
  - A file is rewritten only when its content changes. talosctl generates the same config from the same bundle
    and inputs, so a second run reports no change. The talosconfig keeps its client certificate while the
    bundle's CA is the same.
  - The diff shows each changed file with certificates, keys, tokens and secrets replaced by
    C(<secret:sha256:...>), a hash prefix, so a changed secret still shows.
  - The talosconfig is written to O(talosconfig) when it is given (so that the C(module_defaults) of the
    C(talosforge.cluster.talos) group point every talos module at it), else to C(<output_dir>/talosconfig).
  - Runs on the controller (the Talos stage delegates to localhost). A secrets bundle encrypted with
    ansible-vault is decrypted by the module's action plugin to a private temporary file for the run.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - The configs are rendered and validated in a temporary folder and compared with the files; nothing is written.
      - When the secrets bundle does not exist yet, every file is reported as one that would be created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One diff per changed file, with secret values masked.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
options:
  cluster:
    description:
      - The cluster model, C(talosforge_cluster) as the C(talosforge.cluster.cluster_definition) module returns it
        (nodes with their C(installer_image)).
    type: dict
    required: true
  nodes:
    description:
      - Names of the nodes to render (for example C(ansible_play_hosts)). Omit for every node of O(cluster).
      - Files of nodes not named are left alone.
    type: list
    elements: str
  secrets_file:
    description:
      - The secrets bundle that M(talosforge.cluster.talos_secrets) keeps; plain or encrypted with ansible-vault.
    type: path
    required: true
  vault_password_file:
    description:
      - File holding the vault password of an encrypted O(secrets_file); without it the playbook's vault passwords
        (C(--vault-id), C(--vault-password-file), C(--ask-vault-pass)) are used.
      - The bundle is decrypted on the controller into a 0600 temporary file that is removed after the task.
    type: path
  vault_id:
    description: Vault ID label of the password in O(vault_password_file).
    type: str
  output_dir:
    description:
      - Folder of the rendered files, created with mode C(0700) when missing.
    type: path
    required: true
  endpoint:
    description:
      - The Kubernetes API endpoint URL, for example C(https://10.0.0.10:6443).
      - Default C(endpoint.url) of O(cluster); required when that is not known yet (a Hetzner load balancer
        without C(endpoint.host), before the infrastructure stage has created it).
    type: str
  talosconfig_endpoints:
    description:
      - The endpoints written in the talosconfig (addresses talosctl connects to).
      - Default those of the existing talosconfig; for a new one the control-plane nodes' addresses from
        O(cluster), else the VIP, else the API endpoint's host.
    type: list
    elements: str
  talosconfig_renew_before_days:
    description:
      - The talosconfig keeps its admin client certificate from one run to the next (C(talosctl gen config) issues a
        new one each time) until it expires within this many days; then the new one is written.
    type: int
    default: 30
  link:
    description:
      - Name of the node's network link for C(LinkConfig), C(Layer2VIPConfig) and C(HCloudVIPConfig).
      - Default V(ens18) on Proxmox (the first virtio NIC) and V(eth0) on Hetzner Cloud.
    type: str
  hcloud_token:
    description:
      - Hetzner Cloud API token, written into C(HCloudVIPConfig) when a Hetzner cluster has C(endpoint.vip).
      - When not set, the E(HCLOUD_TOKEN) environment variable is used if it is set.
    type: str
  patches:
    description:
      - More patches for every node of O(nodes), applied after the model's, in the same formats (a mapping, a
        YAML text with one or more documents, or a list of JSON patch operations).
      - For settings without secrets; use O(secret_patches) for the others.
    type: list
    elements: raw
    default: []
  secret_patches:
    description:
      - Patches that carry secrets (an extension's auth key from the vault), each a YAML text with one or more
        documents, applied after O(patches).
      - Not logged. In the diff, every value written by these patches is masked like a key or a token.
      - YAML text rather than mappings, so that Ansible hides each patch whole instead of every word in it.
    type: list
    elements: str
    default: []
  validate:
    description: Check every rendered config with C(talosctl validate) before writing.
    type: bool
    default: true
notes:
  - Files of nodes that left the cluster are not removed.
seealso:
  - module: talosforge.cluster.talos_secrets
  - module: talosforge.cluster.cluster_definition
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Render the machine configs of the play's nodes
  talosforge.cluster.talos_machine_config:
    cluster: "{{ talosforge_cluster }}"
    nodes: "{{ ansible_play_hosts }}"
    secrets_file: "{{ inventory_dir }}/talos/secrets.yaml"
    output_dir: "{{ inventory_dir }}/talos/rendered"
  delegate_to: localhost
  run_once: true
  register: machine_configs

- name: A Hetzner cluster behind a load balancer created by the infrastructure stage, with a Tailscale auth key
  talosforge.cluster.talos_machine_config:
    cluster: "{{ talosforge_cluster }}"
    secrets_file: "{{ inventory_dir }}/talos/secrets.yaml"
    output_dir: "{{ inventory_dir }}/talos/rendered"
    endpoint: "https://{{ load_balancer.ipv4 }}:6443"
    talosconfig_endpoints: "{{ servers | map(attribute='ipv4') }}"
    patches:
      - machine:
          sysctls:
            net.core.somaxconn: "65535"
    secret_patches:
      - |
        apiVersion: v1alpha1
        kind: ExtensionServiceConfig
        name: tailscale
        environment:
          - TS_AUTHKEY={{ talosforge_tailscale_authkey }}
  delegate_to: localhost
  run_once: true

- name: Show which files changed
  ansible.builtin.debug:
    msg: "{{ machine_configs.nodes | selectattr('changed') | map(attribute='path') }}"
"""

RETURN = r"""
output_dir:
  description: The folder of the rendered files (absolute).
  returned: success
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/rendered
nodes:
  description: One entry per node of O(nodes), in the order of the cluster model.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
      returned: always
      sample: cp-1
    role:
      description: C(controlplane) or C(worker).
      type: str
      returned: always
      sample: controlplane
    path:
      description: The node's machine config file.
      type: str
      returned: always
      sample: /home/ops/cluster/inventories/prod/talos/rendered/cp-1.yaml
    changed:
      description: Whether the file was (or would be) written.
      type: bool
      returned: always
    validate_mode:
      description: The C(talosctl validate --mode) for the node's platform (C(metal) or C(cloud)).
      type: str
      returned: always
      sample: metal
talosconfig:
  description: The talosconfig file.
  returned: success
  type: str
  sample: /home/ops/cluster/inventories/prod/talos/rendered/talosconfig
talosconfig_changed:
  description: Whether the talosconfig was (or would be) written.
  returned: success
  type: bool
talosconfig_expires:
  description: When the client certificate of the talosconfig (as written, or as it would be) expires, in UTC.
  returned: success
  type: str
  sample: "2027-11-21T14:52:16+00:00"
failures:
  description: The nodes whose config could not be rendered or did not validate, with the reason.
  returned: failure
  type: list
  elements: dict
  sample: [{"node": "worker-1", "msg": "patches[2] of the node: machine.network: cannot merge a string into a mapping"}]
commands:
  description: The talosctl command lines run, without the executable (paths only, no secret content).
  returned: always
  type: list
  elements: list
  sample: [["validate", "--config", "/tmp/talosforge-config-x/render/cp-1.yaml", "--mode", "metal"]]
"""

import os
import re
import shutil
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import worker_count
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config import (
    HAS_YAML,
    SecretSpots,
    TalosConfigError,
    dump_documents,
    load_documents,
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
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import (
    FILE_MODE,
    SecretsError,
    check_bundle,
    is_vault,
    read_file,
    write_private,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosconfig import render_talosconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
    module_runner,
    use_runner,
)

ROLES = ("controlplane", "worker")
_NODE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class NodesFailed(Exception):
    """Some nodes' configs could not be rendered or validated; nothing was written."""

    def __init__(self, failures: list[dict[str, str]], total: int, commands: list[list[str]]):
        self.failures = failures
        self.commands = commands
        reasons = "; ".join(f'node "{f["node"]}": {f["msg"]}' for f in failures)
        super().__init__(f"{len(failures)} of {total} node configs are invalid, no file was written: {reasons}")


def argument_spec() -> dict[str, Any]:
    return {
        "talosctl": {"type": "path"},
        "talosconfig": {"type": "path"},
        "timeout": {"type": "float", "default": 300.0},
        "parallel": {"type": "int", "default": 8},
        "cluster": {"type": "dict", "required": True},
        "nodes": {"type": "list", "elements": "str"},
        "secrets_file": {"type": "path", "required": True},
        "vault_password_file": {"type": "path", "no_log": False},
        "vault_id": {"type": "str"},
        "output_dir": {"type": "path", "required": True},
        "endpoint": {"type": "str"},
        "talosconfig_endpoints": {"type": "list", "elements": "str"},
        "talosconfig_renew_before_days": {"type": "int", "default": 30},
        "link": {"type": "str"},
        "hcloud_token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["HCLOUD_TOKEN"])},
        "patches": {"type": "list", "elements": "raw", "default": []},
        "secret_patches": {"type": "list", "elements": "str", "default": [], "no_log": True},
        "validate": {"type": "bool", "default": True},
    }


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
            failures.append({"node": node["name"], "msg": f"role {node.get('role')!r} is not controlplane or worker"})
            continue
        try:
            extra, secret = params.get("patches") or [], params.get("secret_patches") or []
            docs = render_node(bases[node["role"]], cluster, node, options, extra, secret)
            rendered[node["name"]] = dump_documents(docs)
        except TalosConfigError as exc:
            failures.append({"node": node["name"], "msg": str(exc)})
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
        return client.run(args, use_talosconfig=False, check=False, node=name)

    failures = []
    for name, (result, error) in zip(names, talosctl.run_per_node(names, work, parallel), strict=True):
        if error is not None:
            failures.append({"node": name, "msg": str(error)})
        elif not result.ok:
            output = (result.stderr.strip() or result.stdout.strip() or f"exit code {result.rc}").replace("\n", " ")
            mode = validate_mode(by_name[name])
            failures.append({"node": name, "msg": f"talosctl validate --mode {mode} rejected the config: {output}"})
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


def run_module(params: dict[str, Any], check_mode: bool, talosctl: Talosctl | None = None) -> dict[str, Any]:
    """Render, validate and write; raises TalosConfigError, SecretsError, TalosctlError or NodesFailed."""
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
    talosctl = talosctl or Talosctl(binary=params.get("talosctl"), timeout=params["timeout"])
    workdir = tempfile.mkdtemp(prefix="talosforge-config-")
    try:
        return _render_and_write(params, check_mode, talosctl, workdir, cluster, nodes, endpoint, secrets_file, result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
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
    talosctl.run(gen_config_args(cluster, endpoint, secrets_file, gen_dir), use_talosconfig=False)
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
        failures.sort(key=lambda failure: order.index(failure["node"]))
        for failure in failures:
            failure["msg"] = scrub(failure["msg"], spots)
        raise NodesFailed(failures, len(nodes), talosctl.commands())

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


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    use_runner(module_runner(module))
    try:
        result = run_module(module.params, module.check_mode)
    except NodesFailed as exc:
        module.fail_json(msg=str(exc), failures=exc.failures, commands=exc.commands)
    except (TalosConfigError, SecretsError, TalosctlError) as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
