# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Build one Talos snapshot the way hcloud-upload-image does, and clean up what earlier builds left behind.

A temporary SSH key and server (labelled ``talosforge.io/temporary=image-build``) are made; the server boots the
rescue system with that key; over SSH (the system ssh client, BatchMode, a known_hosts file of its own, bounded
timeouts) the rescue system fetches the Image Factory's hcloud image itself and writes it to /dev/sda; the server is
then snapshotted with the image's labels. The temporary server and key are deleted in a ``finally`` path, also
when a step failed. A create whose answer was lost (or that meets ``uniqueness_error``) is never sent again blindly:
the key, server or snapshot it made is found by name or labels and adopted. Commands run through an injected
runner (the module's run_command); nothing here imports Ansible or subprocess.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_plan import (
    Wanted,
    cheapest_server_type,
    temporary_labels,
    write_command,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import selector

# runner(argv, stdin, env, timeout) -> (exit code, stdout, stderr)
Runner = Callable[[list, "str | None", Mapping, float], "tuple[int, str, str]"]


class BuildError(HcloudError):
    """A build step outside the API failed (key generation, SSH, the disk write)."""


def leftovers(client: HcloudClient, cluster: str | None) -> dict[str, list[dict[str, Any]]]:
    """Temporary servers and SSH keys of earlier builds (two list calls)."""
    label_selector = selector(temporary_labels(cluster))
    return {kind: client.list(kind, {"label_selector": label_selector}) for kind in ("servers", "ssh_keys")}


def clean_leftovers(client: HcloudClient, found: Mapping[str, list[dict[str, Any]]], timeout: float) -> None:
    actions = [client.delete(f"/servers/{s['id']}").get("action") for s in found["servers"]]
    client.wait_actions(actions, timeout)
    for key in found["ssh_keys"]:
        client.delete(f"/ssh_keys/{key['id']}")


class Builder:
    def __init__(
        self,
        client: HcloudClient,
        runner: Runner,
        params: Mapping[str, Any],
        sleep: Callable[[float], None] | None = None,
    ):
        self.client = client
        self.runner = runner
        self.cluster = params.get("cluster")
        self.base_image = params.get("base_image") or "debian-12"
        self.scratch = params.get("scratch_dir") or "~/.ansible/talosforge"
        self.ssh_port = int(params.get("ssh_port") or 22)
        self.ssh_timeout = float(params.get("ssh_timeout") or 300)
        self.write_timeout = float(params.get("write_timeout") or 1800)
        self.timeout = float(params.get("wait_timeout") or 900)
        self.sleep = sleep or time.sleep
        self._types: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def server_type(self, wanted: Wanted) -> str:
        if wanted.server_type:
            return wanted.server_type
        with self._lock:
            if self._types is None:
                self._types = self.client.list("server_types")
        return cheapest_server_type(self._types, wanted.arch, wanted.location)

    # -- local commands ---------------------------------------------------------------------------------------

    def _run(self, argv: list[str], timeout: float, what: str) -> str:
        rc, out, err = self.runner(argv, None, {}, timeout)
        if rc != 0:
            raise BuildError(
                f"{what} failed (exit code {rc}): {(err or out).strip()[-800:]}",
                code="command_failed",
                details={"rc": rc},
            )
        return out

    def _keypair(self, workdir: str) -> str:
        path = os.path.join(workdir, "id_ed25519")
        self._run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "talosforge-image-build", "-f", path],
            60,
            "ssh-keygen",
        )
        with open(path + ".pub", encoding="utf-8") as handle:
            return handle.read().strip()

    def _ssh(self, workdir: str, address: str, command: str) -> list[str]:
        options = {
            "BatchMode": "yes",
            "IdentitiesOnly": "yes",
            "StrictHostKeyChecking": "accept-new",
            "UserKnownHostsFile": os.path.join(workdir, "known_hosts"),
            "ConnectTimeout": "10",
            "ServerAliveInterval": "10",
            "ServerAliveCountMax": "6",
            "LogLevel": "ERROR",
        }
        argv = ["ssh", "-i", os.path.join(workdir, "id_ed25519"), "-p", str(self.ssh_port)]
        for key, value in options.items():
            argv += ["-o", f"{key}={value}"]
        return argv + [f"root@{address}", command]

    def _wait_for_ssh(self, workdir: str, address: str) -> None:
        deadline = time.monotonic() + self.ssh_timeout
        last = ""
        for _attempt in range(1000):
            rc, out, err = self.runner(self._ssh(workdir, address, "true"), None, {}, 30)
            if rc == 0:
                return
            last = (err or out).strip()[-300:]
            if time.monotonic() + 2 > deadline:
                break
            self.sleep(2)
        raise BuildError(
            f"the rescue system at {address}:{self.ssh_port} did not accept SSH within "
            f"{self.ssh_timeout:.0f} s: {last}",
            code="ssh_unreachable",
        )

    # -- one build --------------------------------------------------------------------------------------------

    def build(self, wanted: Wanted) -> dict[str, Any]:
        """Make the snapshot of ``wanted``; returns the image as the API returned it."""
        scratch.sweep(scratch.private_folder(self.scratch))  # keys a killed build left behind
        workdir = scratch.scratch_dir(self.scratch, "image-build")
        suffix = f"{wanted.arch}-{wanted.schematic_id[:8]}-{secrets.token_hex(3)}"
        name = f"talosforge-image-build-{suffix}"
        labels = temporary_labels(self.cluster)
        key_id = server_id = None
        failed = True
        try:
            public_key = self._keypair(workdir)
            key_id = self.client.create(
                "/ssh_keys",
                {"name": name, "public_key": public_key, "labels": labels},
                lambda: self._named("ssh_keys", name),
            )["ssh_key"]["id"]
            body = {
                "name": name,
                "server_type": self.server_type(wanted),
                "image": self.base_image,
                "location": wanted.location,
                "start_after_create": False,
                "labels": labels,
                "ssh_keys": [key_id],
                "public_net": {"enable_ipv4": True, "enable_ipv6": False},
            }
            answer = self.client.create("/servers", body, lambda: self._named("servers", name))
            server_id = answer["server"]["id"]
            self.client.wait_actions([answer.get("action"), *(answer.get("next_actions") or [])], self.timeout)
            if "action" not in answer:  # adopted: wait for what still runs on it (its create)
                self._wait_running(server_id)
            rescue = self.client.call(
                "POST",
                f"/servers/{server_id}/actions/enable_rescue",
                {"type": "linux64", "ssh_keys": [key_id]},
                ok=(201,),
            )
            self.client.wait_actions([rescue.get("action")], self.timeout)
            power = self.client.call("POST", f"/servers/{server_id}/actions/poweron", ok=(201,))
            self.client.wait_actions([power.get("action")], self.timeout)
            server = self.client.call("GET", f"/servers/{server_id}")["server"]
            address = ((server.get("public_net") or {}).get("ipv4") or {}).get("ip")
            if not address:
                raise BuildError(f"the temporary server {name} has no public IPv4 address to reach its rescue system")
            self._wait_for_ssh(workdir, address)
            self._run(
                self._ssh(workdir, address, write_command(wanted.url)),
                self.write_timeout,
                f"writing {wanted.url} to /dev/sda of the rescue system",
            )
            image_labels = wanted.labels(self.cluster)
            made = self.client.create(
                f"/servers/{server_id}/actions/create_image",
                {"type": "snapshot", "description": wanted.description(), "labels": image_labels},
                lambda: self._snapshot_of(server_id, image_labels),
            )
            self.client.wait_actions([made.get("action")], self.timeout)
            if "action" not in made:
                self._wait_running(server_id)
            image = self.client.call("GET", f"/images/{made['image']['id']}")["image"]
            failed = False
            return image
        finally:
            scratch.remove(workdir)
            try:
                self._cleanup(server_id, key_id)
            except BuildError:
                if not failed:  # else the first error is the one to report
                    raise

    # -- adopting what a request made when its answer was lost ------------------------------------------------

    def _named(self, kind: str, name: str) -> dict[str, Any] | None:
        """The temporary server or key this build named (names carry a random suffix: it is ours), to adopt."""
        found = self.client.list(kind, {"name": name})
        return {kind[:-1]: found[0]} if found else None

    def _snapshot_of(self, server_id: int, labels: Mapping[str, str]) -> dict[str, Any] | None:
        """The snapshot of ``server_id`` carrying the image's labels (made by a create_image whose answer was lost)."""
        found = self.client.list("images", {"type": "snapshot", "label_selector": selector(dict(labels))})
        mine = [image for image in found if (image.get("created_from") or {}).get("id") == server_id]
        return {"image": mine[-1]} if mine else None

    def _wait_running(self, server_id: int) -> None:
        running = self.client.list("servers/actions", {"status": "running"}, key="actions")
        mine = [
            action
            for action in running
            if any(r.get("type") == "server" and r.get("id") == server_id for r in action.get("resources") or [])
        ]
        self.client.wait_actions(mine, self.timeout)

    def _cleanup(self, server_id: int | None, key_id: int | None) -> None:
        """Delete the temporary server and key; a failure here is raised only when nothing else failed."""
        problems = []
        if server_id is not None:
            try:
                answer = self.client.delete(f"/servers/{server_id}")
                self.client.wait_actions([answer.get("action")], self.timeout)
            except HcloudError as exc:
                problems.append(f"temporary server {server_id}: {exc}")
        if key_id is not None:
            try:
                self.client.delete(f"/ssh_keys/{key_id}")
            except HcloudError as exc:
                problems.append(f"temporary SSH key {key_id}: {exc}")
        if problems:
            raise BuildError(
                "cleanup failed (the next run removes the leftovers by label): " + "; ".join(problems),
                code="cleanup_failed",
            )
