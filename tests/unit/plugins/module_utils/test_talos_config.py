# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talos config patches merged with Talos's rules, the collection's documents, and secrets masked for diffs.

Every document rendered for every node of every example inventory is validated against the v1.13.9 JSON schema
(tests/contracts/talos/v1.13.9/config.schema.json), each against the ``$defs`` entry of its kind.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.plan import plan_images
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import machine_documents as nodes_mod
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.deletes import (
    split_deletes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    TalosConfigError,
    doc_id,
    dump_documents,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.json_patch import (
    apply_json_patch,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.masking import (
    mask_secrets,
    mask_value,
    masked_text,
    scrub,
    secret_spots,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.merge import (
    merge_documents_value,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.patches import (
    Patch,
    apply_patch,
    parse_patch,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.machine_documents import (
    RenderOptions,
    hcloud_vip_config,
    hostname_config,
    layer2_vip_config,
    link_config,
    render_node,
    resolver_config,
)
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((REPO / "tests/contracts/talos/v1.13.9/config.schema.json").read_text(encoding="utf-8"))
FIXTURES = REPO / "tests/unit/fixtures/talos"
INVENTORIES = sorted((REPO / "inventories").glob("*/cluster.talosforge.yml"))

# Fields that talosctl gen config writes and Talos still reads but that the published schema leaves out
# (docgen:nodoc / deprecated): they are removed before schema validation, and only they.
NODOC_FIELDS = [
    ("persist",),
    ("machine", "features", "rbac"),
    ("machine", "features", "apidCheckExtKeyUsage"),
    ("machine", "features", "stableHostname"),
    ("cluster", "apiServer", "disablePodSecurityPolicy"),
]
# Talos before v1.12 has no network documents; its machine.network is not in the v1.13 schema either.
LEGACY_FIELDS = [("machine", "network")]


def schema_for(doc: dict) -> dict:
    """The schema of ``doc``'s kind: the ``$defs`` entry that the top-level ``oneOf`` names for it."""
    kind = doc_id(doc)[1]
    for ref in SCHEMA["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        if kind == "v1alpha1" and name == "v1alpha1.Config":
            break
        if SCHEMA["$defs"][name].get("properties", {}).get("kind", {}).get("enum") == [kind]:
            break
    else:
        raise AssertionError(f"no schema for kind {kind}")
    return {"$schema": SCHEMA["$schema"], "$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}


def schema_errors(doc: dict, strip: list[tuple[str, ...]] = ()) -> list[str]:
    doc = copy.deepcopy(doc)
    for path in strip:
        node = doc
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    validator = Draft202012Validator(schema_for(doc))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}" for e in validator.iter_errors(doc)]


def fixture(name: str) -> list[dict]:
    return load_documents((FIXTURES / name).read_text(encoding="utf-8"))


def model(path: Path) -> dict:
    definition = yaml.safe_load(path.read_text(encoding="utf-8"))["cluster"]
    cluster, issues = load_cluster(definition)
    assert not [i for i in issues if i.level == "error"], issues
    data = cluster.to_dict()
    plan_images(data)
    return data


# --------------------------------------------------------------------------------------------------------------
# Strategic merge, table-driven
# --------------------------------------------------------------------------------------------------------------

MERGES = [
    ("maps merge key by key", {"a": {"b": 1, "c": 2}}, {"a": {"c": 3, "d": 4}}, {"a": {"b": 1, "c": 3, "d": 4}}),
    ("lists are appended", {"machine": {"certSANs": ["a"]}}, {"machine": {"certSANs": ["b"]}}, None),
    ("a scalar replaces", {"x": "old"}, {"x": "new"}, {"x": "new"}),
    ("an empty string is skipped (Talos zero value)", {"x": "old"}, {"x": ""}, {"x": "old"}),
    ("zero is skipped", {"x": 5}, {"x": 0}, {"x": 5}),
    ("false is always taken", {"x": True}, {"x": False}, {"x": False}),
    ("null leaves the value", {"x": 1}, {"x": None}, {"x": 1}),
    ("a new key is added, even empty", {"x": 1}, {"y": ""}, {"x": 1, "y": ""}),
]


@pytest.mark.parametrize(("left", "right", "expected"), [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_strategic_merge_basics(left, right, expected):
    if expected is None:
        expected = {"machine": {"certSANs": ["a", "b"]}}
    assert merge_documents_value(left, right) == expected


SPECIAL = [
    (
        "podSubnets are replaced",
        {"cluster": {"network": {"podSubnets": ["10.244.0.0/16"], "serviceSubnets": ["10.96.0.0/12"]}}},
        {"cluster": {"network": {"podSubnets": ["10.42.0.0/16"]}}},
        {"cluster": {"network": {"podSubnets": ["10.42.0.0/16"], "serviceSubnets": ["10.96.0.0/12"]}}},
    ),
    (
        "serviceSubnets are replaced",
        {"cluster": {"network": {"serviceSubnets": ["10.96.0.0/12"]}}},
        {"cluster": {"network": {"serviceSubnets": ["10.43.0.0/16"]}}},
        {"cluster": {"network": {"serviceSubnets": ["10.43.0.0/16"]}}},
    ),
    (
        "auditPolicy is replaced",
        {"cluster": {"apiServer": {"auditPolicy": {"kind": "Policy", "rules": [{"level": "Metadata"}]}}}},
        {"cluster": {"apiServer": {"auditPolicy": {"kind": "Policy", "rules": [{"level": "None"}]}}}},
        {"cluster": {"apiServer": {"auditPolicy": {"kind": "Policy", "rules": [{"level": "None"}]}}}},
    ),
    (
        "interfaces merge by interface name",
        {"machine": {"network": {"interfaces": [{"interface": "eth0", "addresses": ["10.0.0.2/24"]}]}}},
        {"machine": {"network": {"interfaces": [{"interface": "eth0", "mtu": 9000}, {"interface": "eth1"}]}}},
        {
            "machine": {
                "network": {
                    "interfaces": [
                        {"interface": "eth0", "addresses": ["10.0.0.2/24"], "mtu": 9000},
                        {"interface": "eth1"},
                    ]
                }
            }
        },
    ),
    (
        "interfaces merge by deviceSelector",
        {"machine": {"network": {"interfaces": [{"deviceSelector": {"busPath": "0*"}, "dhcp": False}]}}},
        {"machine": {"network": {"interfaces": [{"deviceSelector": {"busPath": "0*"}, "dhcp": True}]}}},
        {"machine": {"network": {"interfaces": [{"deviceSelector": {"busPath": "0*"}, "dhcp": True}]}}},
    ),
    (
        "vlans merge by vlanId",
        {"machine": {"network": {"interfaces": [{"interface": "eth0", "vlans": [{"vlanId": 5, "mtu": 1500}]}]}}},
        {"machine": {"network": {"interfaces": [{"interface": "eth0", "vlans": [{"vlanId": 5, "mtu": 1400}]}]}}},
        {"machine": {"network": {"interfaces": [{"interface": "eth0", "vlans": [{"vlanId": 5, "mtu": 1400}]}]}}},
    ),
    (
        "admissionControl merges by name",
        {"cluster": {"apiServer": {"admissionControl": [{"name": "PodSecurity", "configuration": {"a": 1}}]}}},
        {"cluster": {"apiServer": {"admissionControl": [{"name": "PodSecurity", "configuration": {"b": 2}}]}}},
        {"cluster": {"apiServer": {"admissionControl": [{"name": "PodSecurity", "configuration": {"a": 1, "b": 2}}]}}},
    ),
    (
        "extraArgs take each key whole",
        {"cluster": {"apiServer": {"extraArgs": {"feature-gates": ["A=true"], "v": "2"}}}},
        {"cluster": {"apiServer": {"extraArgs": {"feature-gates": ["B=true"]}}}},
        {"cluster": {"apiServer": {"extraArgs": {"feature-gates": ["B=true"], "v": "2"}}}},
    ),
]


@pytest.mark.parametrize(("left", "right", "expected"), [s[1:] for s in SPECIAL], ids=[s[0] for s in SPECIAL])
def test_strategic_merge_special_fields(left, right, expected):
    assert merge_documents_value(left, right) == expected


def test_merge_keeps_its_inputs():
    left, right = {"a": {"b": [1]}}, {"a": {"b": [2]}}
    merge_documents_value(left, right)
    assert left == {"a": {"b": [1]}} and right == {"a": {"b": [2]}}


def test_extension_config_files_merge_by_mount_path():
    left = {"apiVersion": "v1alpha1", "kind": "ExtensionServiceConfig", "name": "x"}
    left["configFiles"] = [{"mountPath": "/a", "content": "1"}]
    right = {**left, "configFiles": [{"mountPath": "/a", "content": "2"}, {"mountPath": "/b", "content": "3"}]}
    merged = merge_documents_value(left, right, (), "ExtensionServiceConfig")
    assert merged["configFiles"] == [{"mountPath": "/a", "content": "2"}, {"mountPath": "/b", "content": "3"}]


def test_merge_type_mismatch_names_the_field():
    with pytest.raises(TalosConfigError, match=r"machine\.network: cannot merge a string into a mapping"):
        merge_documents_value({"machine": {"network": {"hostname": "a"}}}, {"machine": {"network": "b"}})


# --------------------------------------------------------------------------------------------------------------
# $patch: delete, multi-document patches
# --------------------------------------------------------------------------------------------------------------

BASE = [
    {
        "version": "v1alpha1",
        "machine": {
            "network": {"hostname": "a", "interfaces": [{"interface": "eth0"}, {"interface": "eth1", "mtu": 9000}]},
            "install": {"disk": "/dev/sda", "wipe": False},
        },
    },
    {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"},
    {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "mtu": 1500},
]


def patched(*patch_docs) -> list[dict]:
    return apply_patch(BASE, Patch(documents=list(patch_docs)))


def test_delete_a_key():
    docs = patched({"machine": {"install": {"wipe": {"$patch": "delete"}}}})
    assert docs[0]["machine"]["install"] == {"disk": "/dev/sda"}
    assert BASE[0]["machine"]["install"] == {"disk": "/dev/sda", "wipe": False}


def test_delete_a_section_and_merge_the_rest_of_the_patch():
    docs = patched({"machine": {"network": {"$patch": "delete"}, "install": {"disk": "/dev/vda"}}})
    assert "network" not in docs[0]["machine"]
    assert docs[0]["machine"]["install"]["disk"] == "/dev/vda"


def test_delete_a_list_item_by_its_first_field():
    docs = patched({"machine": {"network": {"interfaces": [{"interface": "eth1", "$patch": "delete"}]}}})
    assert docs[0]["machine"]["network"]["interfaces"] == [{"interface": "eth0"}]


def test_delete_a_whole_document():
    docs = patched({"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "$patch": "delete"})
    assert [doc_id(d)[1] for d in docs] == ["v1alpha1", "HostnameConfig"]


def test_delete_of_an_absent_document_is_skipped():
    assert patched({"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth9", "$patch": "delete"}) == BASE


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"machine": {"network": {"nameservers": {"$patch": "delete"}}}}, r"machine\.network\.nameservers .*not found"),
        ({"machine": {"network": {"interfaces": [{"interface": "eth7", "$patch": "delete"}]}}}, "interface=eth7"),
        ({"version": "v1alpha1", "$patch": "delete"}, "cannot remove the whole v1alpha1 document"),
    ],
    ids=["missing key", "missing item", "v1alpha1 root"],
)
def test_delete_errors(patch, message):
    with pytest.raises(TalosConfigError, match=message):
        patched(patch)


def test_split_deletes_drops_emptied_documents():
    rest, selectors = split_deletes({"machine": {"network": {"$patch": "delete"}}})
    assert rest is None and [s.path for s in selectors] == [("machine", "network")]


def test_multidocument_patch_merges_same_kind_and_name_and_adds_others():
    docs = patched(
        {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "off", "hostname": "n1"},
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth0", "mtu": 9000},
        {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth1", "up": True},
    )
    assert docs[1] == {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "off", "hostname": "n1"}
    assert docs[2]["mtu"] == 9000
    assert docs[3] == {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "eth1", "up": True}


def test_a_document_needs_both_kind_and_api_version():
    with pytest.raises(TalosConfigError, match="needs apiVersion"):
        patched({"kind": "LinkConfig", "name": "eth1"})


# --------------------------------------------------------------------------------------------------------------
# JSON patches
# --------------------------------------------------------------------------------------------------------------

JSON_PATCHES = [
    (
        "add",
        [{"op": "add", "path": "/machine/network/hostname", "value": "b"}],
        ("machine", "network", "hostname"),
        "b",
    ),
    ("append", [{"op": "add", "path": "/machine/certSANs/-", "value": "x"}], ("machine", "certSANs"), ["a", "x"]),
    ("insert", [{"op": "add", "path": "/machine/certSANs/0", "value": "x"}], ("machine", "certSANs"), ["x", "a"]),
    (
        "replace",
        [{"op": "replace", "path": "/machine/install/disk", "value": "/dev/vda"}],
        ("machine", "install", "disk"),
        "/dev/vda",
    ),
    ("remove", [{"op": "remove", "path": "/machine/install/wipe"}], ("machine", "install"), {"disk": "/dev/sda"}),
    (
        "move",
        [{"op": "move", "from": "/machine/install/disk", "path": "/machine/disk"}],
        ("machine", "disk"),
        "/dev/sda",
    ),
    ("copy", [{"op": "copy", "from": "/machine/certSANs", "path": "/machine/more"}], ("machine", "more"), ["a"]),
    (
        "test then add",
        [{"op": "test", "path": "/version", "value": "v1alpha1"}, {"op": "add", "path": "/debug", "value": True}],
        ("debug",),
        True,
    ),
    (
        "escaped pointer",
        [{"op": "add", "path": "/machine/nodeLabels/a~1b", "value": "c"}],
        ("machine", "nodeLabels", "a/b"),
        "c",
    ),
]


@pytest.mark.parametrize(("ops", "path", "expected"), [j[1:] for j in JSON_PATCHES], ids=[j[0] for j in JSON_PATCHES])
def test_json_patch(ops, path, expected):
    doc = {
        "version": "v1alpha1",
        "machine": {
            "network": {"hostname": "a"},
            "certSANs": ["a"],
            "install": {"disk": "/dev/sda", "wipe": False},
            "nodeLabels": {},
        },
    }
    result = apply_json_patch(doc, ops)
    for part in path:
        result = result[part]
    assert result == expected


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([{"op": "remove", "path": "/machine/nope"}], "'nope' not found"),
        ([{"op": "replace", "path": "/machine/nope", "value": 1}], "'nope' not found"),
        ([{"op": "test", "path": "/version", "value": "v2"}], "test failed"),
        ([{"op": "add", "path": "/machine/certSANs/7", "value": 1}], "out of range"),
    ],
)
def test_json_patch_errors(ops, message):
    with pytest.raises(TalosConfigError, match=message):
        apply_json_patch({"version": "v1alpha1", "machine": {"certSANs": []}}, ops)


def test_json_patch_applies_to_the_v1alpha1_document_of_a_multidocument_config():
    patch = parse_patch('- op: add\n  path: /machine/network/hostname\n  value: "z"\n', "p")
    docs = apply_patch(BASE, patch)
    assert docs[0]["machine"]["network"]["hostname"] == "z" and docs[1:] == BASE[1:]


# --------------------------------------------------------------------------------------------------------------
# Reading patches and YAML
# --------------------------------------------------------------------------------------------------------------


def test_parse_patch_forms():
    assert parse_patch({"machine": {}}).documents == [{"machine": {}}]
    text = "machine:\n  install:\n    disk: /dev/vda\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: off\n"
    multi = parse_patch(text)
    assert len(multi.documents) == 2 and multi.documents[1]["auto"] == "off"
    assert parse_patch([{"op": "remove", "path": "/debug"}]).operations == [{"op": "remove", "path": "/debug"}]
    assert parse_patch('[{"op": "add", "path": "/debug", "value": true}]').operations[0]["value"] is True


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (42, "a patch is a mapping"),
        ("- a\n---\nb: 1\n", "must be a mapping"),
        ([{"op": "frob", "path": "/x"}], "needs op"),
        ([{"op": "add", "path": "/x"}], "add needs a value"),
        ([{"op": "add", "path": "x", "value": 1}], "not a JSON pointer"),
        ("machine: [", "not valid YAML"),
    ],
)
def test_parse_patch_errors_name_the_patch(patch, message):
    with pytest.raises(TalosConfigError, match=message) as info:
        parse_patch(patch, "patches[3] of the node")
    assert "patches[3] of the node" in str(info.value)


def test_yaml_scalars_read_as_talos_reads_them():
    doc = load_documents("a: off\nb: yes\nc: 0x10\nd: 2024-01-02\ne: true\nf: 0o644\ng: 0644\nh: 1:20\n")[0]
    assert doc == {"a": "off", "b": "yes", "c": 16, "d": "2024-01-02", "e": True, "f": 420, "g": 420, "h": "1:20"}


def test_dump_is_stable_and_round_trips():
    docs = fixture("controlplane.config")
    text = dump_documents(docs)
    assert load_documents(text) == docs
    assert dump_documents(load_documents(text)) == text
    assert text.index("machine:") < text.index("cluster:")  # insertion order, not sorted
    assert "auto: 'off'" in dump_documents([{"auto": "off"}])  # quoted: a YAML 1.1 reader would see a boolean


# --------------------------------------------------------------------------------------------------------------
# The collection's documents
# --------------------------------------------------------------------------------------------------------------

BUILT = [
    hostname_config("cp-1"),
    layer2_vip_config("10.0.0.10", "ens18"),
    hcloud_vip_config("203.0.113.7", "eth0", "token"),
    link_config("ens18", "10.0.0.11/24", "10.0.0.1"),
    link_config("ens18", "fd00::11/64", None),
    resolver_config(["10.0.0.1", "2606:4700:4700::1111"]),
]


@pytest.mark.parametrize("doc", BUILT, ids=[d["kind"] for d in BUILT])
def test_built_documents_validate_against_the_schema(doc):
    assert schema_errors(doc) == []


def test_schema_lookup_finds_each_kind():
    assert schema_for({"version": "v1alpha1"})["$ref"].endswith("v1alpha1.Config")
    assert schema_for(hostname_config("x"))["$ref"].endswith("network.HostnameConfigV1Alpha1")


def test_an_invalid_document_does_not_validate():
    assert schema_errors({"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "x", "mtu": "big"})


@pytest.mark.parametrize("inventory", INVENTORIES, ids=[p.parent.name for p in INVENTORIES])
def test_every_document_of_every_example_inventory_validates(inventory):
    cluster = model(inventory)
    legacy = not nodes_mod.multidoc_network(cluster["talos_version"])
    bases = {"controlplane": fixture("controlplane-v1.10.config" if legacy else "controlplane.config")}
    bases["worker"] = [bases["controlplane"][0]] if legacy else fixture("worker.config")
    strip = NODOC_FIELDS + (LEGACY_FIELDS if legacy else [])
    options = RenderOptions(hcloud_token="test-token")
    problems = []
    for node in cluster["nodes"]:
        for doc in render_node(bases[node["role"]], cluster, node, options):
            problems += [f"{node['name']} {doc_id(doc)[1]}: {e}" for e in schema_errors(doc, strip)]
    assert problems == []


def kinds(docs: list[dict]) -> list[str]:
    return [doc_id(d)[1] for d in docs]


def render(inventory: str, name: str, **options) -> list[dict]:
    cluster = model(REPO / "inventories" / inventory / "cluster.talosforge.yml")
    node = next(n for n in cluster["nodes"] if n["name"] == name)
    base = fixture(f"{node['role']}.config")
    return render_node(base, cluster, node, RenderOptions(**options))


def test_proxmox_control_plane_gets_hostname_vip_link_and_resolver():
    docs = render("proxmox-edge-gitops", "controlplane1")
    assert kinds(docs) == ["v1alpha1", "HostnameConfig", "Layer2VIPConfig", "LinkConfig", "ResolverConfig"]
    assert docs[1] == hostname_config("controlplane1")
    assert docs[2] == layer2_vip_config("10.0.3.1", "ens18")
    assert docs[3] == link_config("ens18", "10.0.1.2/16", "10.0.0.1")
    assert docs[4]["nameservers"] == [{"address": "10.0.0.1"}]
    machine, cluster = docs[0]["machine"], docs[0]["cluster"]
    assert machine["install"]["image"].startswith("factory.talos.dev/metal-installer/")
    assert cluster["network"]["cni"] == {"name": "none"} and cluster["proxy"]["disabled"] is True
    assert cluster["etcd"]["advertisedSubnets"] == ["10.0.0.0/16"]


def test_proxmox_worker_has_no_vip_and_gets_its_labels():
    docs = render("proxmox-edge-gitops", "worker0", link="eth1")
    assert kinds(docs) == ["v1alpha1", "HostnameConfig", "LinkConfig", "ResolverConfig"]
    assert docs[2]["name"] == "eth1"
    assert docs[0]["machine"]["nodeLabels"] == {"node-role.talosforge.io/ingress": "true"}
    assert "etcd" not in docs[0]["cluster"]


def test_hcloud_nodes_use_dhcp_taints_and_the_external_cloud_provider():
    docs = render("hcloud-multiregion-lb", "arm64-1")
    assert kinds(docs) == ["v1alpha1", "HostnameConfig"]
    machine = docs[0]["machine"]
    assert machine["nodeTaints"] == {"kubernetes.io/arch": "arm64:NoSchedule"}
    assert machine["install"]["image"].startswith("factory.talos.dev/hcloud-installer/")
    assert docs[0]["cluster"]["externalCloudProvider"] == {"enabled": True}
    assert machine["kubelet"]["nodeIP"] == {"validSubnets": ["10.0.1.0/24"]}
    assert machine["kubelet"]["extraArgs"] == {"cloud-provider": "external"}


def test_hcloud_vip_needs_the_token_and_writes_it():
    cluster = model(REPO / "inventories/hcloud-day2/cluster.talosforge.yml")
    cluster["endpoint"]["vip"] = "203.0.113.7"
    node = cluster["nodes"][0]
    with pytest.raises(TalosConfigError, match="hcloud_token"):
        render_node(fixture("controlplane.config"), cluster, node, RenderOptions())
    docs = render_node(fixture("controlplane.config"), cluster, node, RenderOptions(hcloud_token="t0k"))
    assert docs[-1] == hcloud_vip_config("203.0.113.7", "eth0", "t0k")


def test_legacy_talos_gets_machine_network_instead_of_documents():
    cluster = model(REPO / "inventories/homelab-cilium-l2/cluster.talosforge.yml")
    docs = render_node(fixture("controlplane-v1.10.config"), cluster, cluster["nodes"][0], RenderOptions())
    assert kinds(docs) == ["v1alpha1"]
    network = docs[0]["machine"]["network"]
    assert network["hostname"] == "k8s-nuc"
    assert network["interfaces"] == [
        {
            "interface": "ens18",
            "addresses": ["10.11.80.11/24"],
            "routes": [{"network": "0.0.0.0/0", "gateway": "10.11.80.1"}],
            "vip": {"ip": "10.11.80.100"},
        }
    ]
    assert docs[0]["cluster"]["network"]["podSubnets"] == ["10.42.0.0/16"]
    assert docs[0]["cluster"]["allowSchedulingOnControlPlanes"] is True


def test_user_patches_come_after_the_collections_and_in_model_order():
    cluster = model(REPO / "inventories/sandbox/cluster.talosforge.yml")
    node = dict(cluster["nodes"][0])
    node["patches"] = [
        {"machine": {"install": {"disk": "/dev/vda"}}},
        "machine:\n  install:\n    disk: /dev/nvme0n1\n",
        {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "127.5.0.10", "$patch": "delete"},
    ]
    docs = render_node(fixture("controlplane.config"), cluster, node, RenderOptions(), [{"debug": True}])
    assert docs[0]["machine"]["install"]["disk"] == "/dev/nvme0n1"
    assert "Layer2VIPConfig" not in kinds(docs)
    assert docs[0]["debug"] is True


def test_a_bad_node_patch_names_the_patch_and_the_field():
    cluster = model(REPO / "inventories/sandbox/cluster.talosforge.yml")
    node = dict(cluster["nodes"][3], patches=[{"machine": {"install": "oops"}}])
    with pytest.raises(TalosConfigError, match=r"patches\[0\] of the node: v1alpha1: machine\.install: cannot merge"):
        render_node(fixture("worker.config"), cluster, node, RenderOptions())


# --------------------------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------------------------


def test_mask_secrets_hides_keys_certificates_and_tokens():
    docs = fixture("controlplane.config")
    masked = [mask_secrets(doc) for doc in docs]
    text = dump_documents(masked)
    for secret in ("RkFLRSBPUyBDQSBLRVk=", "fake00.faketokenfaketo", "RkFLRSBTRUNSRVRCT1ggU0VDUkVU"):
        assert secret not in text
    assert masked[0]["machine"]["ca"]["key"] == mask_value("RkFLRSBPUyBDQSBLRVk=")
    assert masked[0]["cluster"]["clusterName"] == "sandbox"  # not a secret
    assert masked[0]["machine"]["nodeLabels"] == docs[0]["machine"]["nodeLabels"]
    assert docs[0]["machine"]["ca"]["key"] == "RkFLRSBPUyBDQSBLRVk="  # the input is left alone


def test_a_changed_secret_changes_its_mask():
    assert mask_value("a") != mask_value("b") and mask_value("a") == mask_value("a")
    assert mask_value("a").startswith("<secret:sha256:") and len(mask_value("a")) == len("<secret:sha256:>") + 12


def test_mask_secrets_covers_tokens_talosconfig_and_environment():
    doc = {
        "apiVersion": "v1alpha1",
        "kind": "ExtensionServiceConfig",
        "name": "tailscale",
        "environment": ["TS_AUTHKEY=tskey-abc", "TS_ROUTES=10.0.0.0/24"],
    }
    assert mask_secrets(doc)["environment"] == [f"TS_AUTHKEY={mask_value('tskey-abc')}", "TS_ROUTES=10.0.0.0/24"]
    assert mask_secrets(hcloud_vip_config("1.2.3.4", "eth0", "tok"))["apiToken"] == mask_value("tok")
    talosconfig = {"context": "c", "contexts": {"c": {"endpoints": ["1.2.3.4"], "ca": "A", "crt": "B", "key": "C"}}}
    masked = mask_secrets(talosconfig)["contexts"]["c"]
    assert masked["endpoints"] == ["1.2.3.4"] and "A" not in masked.values() and "C" not in masked.values()
    assert "tskey-abc" not in masked_text([doc])


def test_secret_patches_are_masked_where_they_write_before_and_after():
    patch = "apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: ts\nconfigFiles:\n  - content: hunter22\n"
    json_patch = '[{"op": "add", "path": "/machine/files/0/content", "value": "p4ssword!"}]'
    spots = secret_spots([patch, json_patch, "not: [valid"])
    assert spots.values == frozenset({"hunter22", "p4ssword!"})
    old = {"apiVersion": "v1alpha1", "kind": "ExtensionServiceConfig", "name": "ts"}
    old["configFiles"] = [{"content": "old-secret", "mountPath": "/etc/x"}]
    masked = mask_secrets(old, spots)
    assert masked["configFiles"] == [{"content": mask_value("old-secret"), "mountPath": "/etc/x"}]
    other = {"apiVersion": "v1alpha1", "kind": "ExtensionServiceConfig", "name": "other", "configFiles": []}
    other["configFiles"] = [{"content": "public", "mountPath": "/etc/y"}]
    assert mask_secrets(other, spots) == other
    v1 = {"version": "v1alpha1", "machine": {"files": [{"content": "x1", "path": "/a"}], "note": "p4ssword!"}}
    masked = mask_secrets(v1, spots)
    assert (
        masked["machine"]["files"][0]["content"] == mask_value("x1") and masked["machine"]["files"][0]["path"] == "/a"
    )
    assert masked["machine"]["note"] == mask_value("p4ssword!")
    assert scrub("bad value p4ssword! here", spots) == f"bad value {mask_value('p4ssword!')} here"


def test_a_secret_patch_with_bad_yaml_does_not_echo_its_text():
    with pytest.raises(TalosConfigError) as info:
        parse_patch("environment: [TS_AUTHKEY=tskey-abc\n", "secret_patches[0]", secret=True)
    assert "tskey" not in str(info.value) and "line 2" in str(info.value)
