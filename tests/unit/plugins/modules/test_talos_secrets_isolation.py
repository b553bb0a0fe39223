# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13: a secrets bundle belongs to one cluster, and no secret is left outside the cluster's output folder.

Two clusters pointed at one folder must not share a bundle (a record next to it names its cluster); every scratch
file of the Talos code lives inside the cluster's 0700 output folder, and what a killed run left there is swept by
the next run.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.action import talos_machine_config as config_action
from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import machine_config, secrets
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import Talosctl
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process
from test_talos_machine_config import NODES, STANDIN, sandbox_model
from test_talos_secrets import FakeTalosctl, params, vault_codec

REPO = Path(__file__).resolve().parents[4]
standin = pytest.mark.skipif(not STANDIN.exists(), reason="the sandbox talosctl stand-in is not available")


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def config_params(tmp_path: Path, bundle: Path, name: str | None = None) -> dict:
    cluster = sandbox_model()
    if name:
        cluster["name"] = name
    return {
        "cluster": cluster,
        "nodes": list(NODES),
        "secrets_file": str(bundle),
        "output_dir": str(tmp_path / "out" / "configs"),
        "talosctl": str(STANDIN),
        "timeout": 60.0,
        "parallel": 2,
        "patches": [],
        "validate": True,
    }


def render(p: dict, check_mode: bool = False) -> dict:
    return machine_config.render_machine_configs(p, check_mode, Talosctl(binary=p["talosctl"], runner=run_process))


# --------------------------------------------------------------------------------------------------------------
# Two clusters, one secrets bundle
# --------------------------------------------------------------------------------------------------------------


def test_a_bundle_recorded_for_another_cluster_is_refused_before_any_write(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path, cluster_name="alpha"), False, secrets.NoVault(), FakeTalosctl())
    assert yaml.safe_load(Path(secrets.record_path(str(path))).read_text()) == {"cluster": "alpha"}
    before = listing(tmp_path)
    for rotate in (False, True):
        with pytest.raises(secrets.SecretsError) as caught:
            secrets.ensure_bundle(params(path, cluster_name="beta", rotate=rotate), False, secrets.NoVault(), None)
        message = str(caught.value)
        assert "alpha" in message and "beta" in message and str(path) in message
    assert listing(tmp_path) == before


def test_the_same_cluster_is_accepted(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path, cluster_name="alpha"), False, secrets.NoVault(), FakeTalosctl())
    before = listing(tmp_path)
    again = secrets.ensure_bundle(params(path, cluster_name="alpha"), False, secrets.NoVault(), FakeTalosctl())
    assert again["changed"] is False and listing(tmp_path) == before


def test_a_legacy_bundle_without_a_record_is_adopted_once(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path), False, secrets.NoVault(), FakeTalosctl())  # no cluster name: no record
    assert not os.path.exists(secrets.record_path(str(path)))
    planned = secrets.ensure_bundle(params(path, cluster_name="alpha"), True, secrets.NoVault(), None)
    assert planned["changed"] is True and not os.path.exists(secrets.record_path(str(path)))  # check mode
    adopted = secrets.ensure_bundle(params(path, cluster_name="alpha"), False, secrets.NoVault(), None)
    assert adopted["changed"] is True and "alpha" in adopted["msg"]
    assert secrets.stat_mode(secrets.record_path(str(path))) == 0o600
    with pytest.raises(secrets.SecretsError, match="alpha"):
        secrets.ensure_bundle(params(path, cluster_name="beta"), False, secrets.NoVault(), None)


def test_a_record_that_is_not_a_cluster_name_is_refused(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path), False, secrets.NoVault(), FakeTalosctl())
    Path(secrets.record_path(str(path))).write_text("- not a mapping\n")
    with pytest.raises(secrets.SecretsError, match="cluster"):
        secrets.ensure_bundle(params(path, cluster_name="alpha"), False, secrets.NoVault(), None)


@standin
def test_machine_configs_are_not_rendered_from_another_clusters_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    talosctl = Talosctl(binary=str(STANDIN), runner=run_process)
    bundle = tmp_path / "out" / "secrets.yaml"
    secrets.ensure_bundle(params(bundle), False, secrets.NoVault(), talosctl)  # a bundle of before the record
    first = config_params(tmp_path, bundle)
    render(first)  # adopted for the sandbox cluster
    assert yaml.safe_load(Path(secrets.record_path(str(bundle))).read_text()) == {"cluster": first["cluster"]["name"]}
    before = listing(tmp_path / "out")
    other = config_params(tmp_path, bundle, name="another-cluster")
    for check_mode in (True, False):
        with pytest.raises(secrets.SecretsError) as caught:
            render(other, check_mode)
        assert "another-cluster" in str(caught.value) and first["cluster"]["name"] in str(caught.value)
    assert listing(tmp_path / "out") == before


def test_each_sandbox_inventory_has_its_own_output_folder():
    folders: dict[str, str] = {}
    for inventory in sorted((REPO / "inventories").glob("*/cluster.talosforge.yml")):
        folder = inventory.parent
        definition = yaml.safe_load(inventory.read_text(encoding="utf-8")) or {}
        chosen = ((definition.get("cluster") or {}).get("talos_files") or {}).get("directory")
        for vars_file in sorted(folder.glob("group_vars/all/*.yml")):
            chosen = (yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}).get("talos_output_dir", chosen)
        if chosen is None:
            continue  # the role's default, under the inventory's own folder
        resolved = str(chosen).replace("{{ (inventory_dir ~ '/../../.sandbox') | realpath }}", ".sandbox")
        resolved = resolved.replace("inventory_dir", str(folder))
        assert resolved not in folders, f"{folder.name} and {folders.get(resolved)} share the output folder {resolved}"
        folders[resolved] = folder.name


# --------------------------------------------------------------------------------------------------------------
# No secret outside the output folder
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def system_temp(tmp_path, monkeypatch):
    """The system temp folder of this test, and every tempfile call recorded with the folder it wrote in."""
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    calls: list[str] = []
    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory", "TemporaryFile"):
        original = getattr(tempfile, name)

        def recorder(*args, __original=original, __name=name, **kwargs):
            made = __original(*args, **kwargs)
            path = made[1] if __name == "mkstemp" else made if isinstance(made, str) else getattr(made, "name", "")
            calls.append(os.path.abspath(str(path)))
            return made

        monkeypatch.setattr(tempfile, name, recorder)
    return {"folder": folder, "calls": calls}


@standin
def test_no_talos_code_path_writes_a_file_outside_the_output_folder(tmp_path, monkeypatch, system_temp):
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    out = tmp_path / "out"
    talosctl = Talosctl(binary=str(STANDIN), runner=run_process)
    bundle = out / "secrets.yaml"
    secrets.ensure_bundle(params(bundle, cluster_name="sandbox"), False, secrets.NoVault(), talosctl)
    secrets.ensure_bundle(params(bundle, rotate=True), False, secrets.NoVault(), talosctl)
    p = config_params(tmp_path, bundle, name="sandbox")
    p["output_dir"] = str(out)
    render(p)
    codec = vault_codec()
    encrypted = out / "vaulted.yaml"
    encrypted.write_bytes(codec.encrypt(bundle.read_bytes()))
    folder, copy = config_action.decrypted_copy(codec, str(encrypted), str(out))
    assert Path(copy).read_bytes() == bundle.read_bytes() and Path(folder) in Path(copy).parents
    scratch.remove(folder)
    assert system_temp["calls"], "the scan saw no temporary file at all"
    for path in system_temp["calls"]:
        assert Path(path).is_relative_to(out), f"{path} is outside the output folder {out}"
        assert Path(path).name.startswith(scratch.PREFIX), path
    assert list(system_temp["folder"].iterdir()) == []
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_the_sweep_removes_only_what_a_finished_run_left(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch, "STARTED", time.time() + 5)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead = int(gone.stdout)
    stale = tmp_path / f"{scratch.PREFIX}{dead}-config-abc"
    stale.mkdir()
    (stale / "secrets.yaml").write_text("key: value")
    mine = tmp_path / f"{scratch.PREFIX}{os.getpid()}-config-def"
    mine.mkdir()
    other = tmp_path / "secrets.yaml"
    other.write_text("kept")
    assert scratch.sweep(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and mine.exists() and other.exists()
    monkeypatch.setattr(scratch, "STARTED", time.time() - 3600)
    young = tmp_path / f"{scratch.PREFIX}{dead}-config-ghi"
    young.mkdir()
    assert scratch.sweep(str(tmp_path)) == []  # newer than this run: not ours to judge


SLOW_TALOSCTL = """\
#!/bin/sh
if [ "$1" = validate ]; then
    touch "{marker}"
    sleep 60
fi
exec "{standin}" "$@"
"""

KILLED_RUN = """\
import json, sys
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import machine_config
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import Talosctl
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process
params = json.loads(sys.argv[1])
machine_config.render_machine_configs(params, False, Talosctl(binary=params["talosctl"], runner=run_process))
"""


@standin
def test_a_run_killed_while_rendering_leaves_no_secret_outside_and_the_next_run_sweeps(tmp_path, monkeypatch):
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    system = tmp_path / "system-temp"
    system.mkdir()
    bundle = tmp_path / "out" / "secrets.yaml"
    secrets.ensure_bundle(params(bundle), False, secrets.NoVault(), Talosctl(binary=str(STANDIN), runner=run_process))
    marker = tmp_path / "validating"
    slow = tmp_path / "slow-talosctl"
    slow.write_text(SLOW_TALOSCTL.format(marker=marker, standin=STANDIN))
    slow.chmod(0o755)
    p = config_params(tmp_path, bundle)
    p["talosctl"] = str(slow)
    # the test's own import paths, not its interpreter's: the stand-in talosctl may run another Python version
    ours = [path for path in sys.path if path and not path.startswith((sys.base_prefix, sys.prefix))]
    env = {**os.environ, "TMPDIR": str(system), "PYTHONPATH": os.pathsep.join(ours)}
    import json

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, json.dumps(p)], env=env, start_new_session=True, cwd=str(REPO)
    )
    try:
        deadline = time.time() + 60
        while not marker.exists() and child.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the render never reached validation"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    secret = bundle.read_bytes().split(b"key: ")[-1].split(b"\n")[0]
    leaked = [f for f in glob.glob(str(system / "**"), recursive=True) if os.path.isfile(f)]
    assert leaked == [], f"left in the system temp folder: {leaked}"
    left = [p for p in (tmp_path / "out").rglob("*") if scratch.PREFIX in str(p)]
    assert left, "the killed run left no scratch in the output folder (was it killed mid-render?)"
    for path in (tmp_path / "out").iterdir():
        if path.name.startswith(scratch.PREFIX):
            assert os.stat(path).st_mode & 0o077 == 0, path
    assert secret
    monkeypatch.setattr(scratch, "STARTED", time.time() + 1)
    render(config_params(tmp_path, bundle))
    assert [p for p in (tmp_path / "out").rglob("*") if scratch.PREFIX in str(p)] == []


class SnapshotTalosctl(Talosctl):
    """``etcd snapshot <file>`` writes a few bytes there, like a node that answered."""

    def __init__(self):
        super().__init__(binary="talosctl")

    def run(self, args, *rest, **kwargs):
        Path(args[-1]).write_bytes(b"etcd data with secrets")
        return None


def test_kubeconfig_and_etcd_snapshot_scratch_stays_in_their_folder_and_is_swept(tmp_path, system_temp):
    from ansible_collections.talosforge.cluster.plugins.module_utils._talos import etcd_snapshot, kubeconfig

    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = out / f"{scratch.PREFIX}{int(gone.stdout)}-kubeconfig-old"
    stale.write_text("client-key-data: left by a killed run")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    kubeconfig.write_private(str(out / "kubeconfig"), "apiVersion: v1\n")
    assert not stale.exists(), "the stale scratch file of a killed run was not swept"
    node = {"name": "cp-1", "address": "127.0.0.1"}
    assert etcd_snapshot.take(SnapshotTalosctl(), [node], str(out / "etcd.db")) == "cp-1"
    assert (out / "etcd.db").read_bytes() == b"etcd data with secrets"
    assert system_temp["calls"], "the scan saw no temporary file at all"
    for path in system_temp["calls"]:
        assert Path(path).is_relative_to(out) and Path(path).name.startswith(scratch.PREFIX), path
    assert sorted(p.name for p in out.iterdir()) == ["etcd.db", "kubeconfig"]
