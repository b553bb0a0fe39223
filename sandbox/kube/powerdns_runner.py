"""The in-cluster PowerDNS, for real: a pdns_server per Deployment that runs the official authoritative image.

No container runs in the sandbox, so for each Deployment whose pod template has a container with a
``powerdns/pdns-auth-*`` image, this process (one per cluster) runs a real ``pdns_server`` (Debian's pdns-server
with the gsqlite3 backend) the way that container would run it, from the objects the collection applied:

- the configuration the image would read: its ``/etc/powerdns/pdns.conf`` (gsqlite3 at
  ``/var/lib/powerdns/pdns.sqlite3``, ``include-dir=/etc/powerdns/pdns.d``), the ``_api.conf`` that its
  ``startup.py`` writes into ``pdns.d`` when ``PDNS_AUTH_API_KEY`` is set (value, or the Secret/ConfigMap key it
  refers to), and the ``*.conf`` files that the pod's volume mounts put into ``pdns.d`` (a ConfigMap or Secret
  mounted on the folder, or single files with ``subPath``);
- the database on the volume mounted where ``gsqlite3-database`` points (a PersistentVolumeClaim is a folder under
  the sandbox state that outlives the server; no volume means the image's own file, which its build created with
  the schema). A volume starts empty, as a real one does: it hides the image's database, so the schema is created
  only when an init container of the pod runs ``sqlite3`` (what a manifest must do for a fresh volume);
- the network: the Service of type LoadBalancer in the same namespace that selects the pod's labels, with its
  assigned address; pdns_server listens on that address, on the Service ports that target its ``local-port``
  (DNS, UDP and TCP) and its ``webserver-port`` (HTTP API), as clients outside the cluster reach it.

A start that the real container could not make is refused, logged and reported as a Warning event on the
Deployment (reason ``PowerDNSNotStarted``, from ``talosforge-sandbox-powerdns``), e.g. ``startup.py`` unable to
write ``_api.conf`` because a ConfigMap volume (always read-only) is mounted on ``/etc/powerdns/pdns.d``.
The server is restarted when the pod would be replaced (its template changes: a checksum annotation, ``kubectl
rollout restart``) or its Service's address or ports change; a changed ConfigMap or Secret alone is not seen until
then, as a running container does not see it either. It is stopped when the Deployment goes away or is scaled to
zero; with the controllers tier on, it runs only while the Deployment has an
available replica (kwok reports the pod Running once the nodes are Ready).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import Api
from .events import post_event
from .identity import stand_in_api
from .loop import arguments, exit_on_sigterm, run_forever
from .loop import now as _now
from .processes import Daemon, environment

POLL_S = 1.0
IDLE_POLL_S = 3.0  # while no Deployment runs a PowerDNS image: a cluster without one stays quiet
RETRY_S = 10.0  # a server that exits is started again after this long (kubelet's back-off, simplified)
USER = "talosforge-sandbox-powerdns"
IMAGE = re.compile(r"^(?:[\w.-]+(?::\d+)?/)?powerdns/pdns-auth-\d+(?:[:@].*)?$")
PDNS_SERVER = "/usr/sbin/pdns_server"
SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
INCLUDE_DIR = "/etc/powerdns/pdns.d"
IMAGE_DEFAULTS = {  # the official image's /etc/powerdns/pdns.conf (PowerDNS dockerdata/pdns.conf)
    "local-address": "0.0.0.0,::",
    "launch": "gsqlite3",
    "gsqlite3-dnssec": "",
    "gsqlite3-database": "/var/lib/powerdns/pdns.sqlite3",
    "include-dir": INCLUDE_DIR,
}
# What the image's startup.py writes to pdns.d/_api.conf when PDNS_AUTH_API_KEY is set.
API_CONF = (
    "webserver\napi\napi-key={key}\nwebserver-address=0.0.0.0\nwebserver-allow-from=0.0.0.0/0\n"
    "webserver-password={key}\n"
)
READ_ONLY_VOLUMES = ("configMap", "secret", "projected", "downwardAPI")


class NotStarted(Exception):
    """What would keep the real container from serving, in the words a reader needs."""


def settings(files: list[str]) -> dict[str, str]:
    """The effective ``key=value`` settings of pdns.conf texts read in order (later wins, ``+=`` appends)."""
    found: dict[str, str] = {}
    for text in files:
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if key.endswith("+") and sep:
                key = key[:-1].strip()
                found[key] = f"{found[key]},{value}" if found.get(key) else value
            else:
                found[key] = value if sep else "yes"
    return found


@dataclass
class Wanted:
    """What one pdns_server runs from."""

    key: str  # namespace/deployment
    files: dict[str, str]  # pdns.d file name -> text (the image's _api.conf included)
    address: str
    dns_port: int
    web_port: int
    database: Path
    create_schema: bool


class Runner:
    def __init__(self, api: Api, cluster_dir: Path, log_dir: Path, gate_on_available: bool) -> None:
        self.api = api
        self.root = cluster_dir / "powerdns"
        self.cluster = cluster_dir.name
        self.volumes = cluster_dir / "volumes"
        self.log_dir = log_dir
        self.gate_on_available = gate_on_available
        self.started: dict[str, float] = {}
        self.reported: set[tuple[str, str]] = set()

    # --- reading the objects -------------------------------------------------------------------------------

    def _get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.api.call("GET", f"/api/v1/namespaces/{namespace}/{kind}/{name}")

    def _data(self, kind: str, namespace: str, name: str) -> dict[str, str]:
        found = self._get(kind, namespace, name)
        if found is None:
            raise NotStarted(f"{kind[:-1]} {namespace}/{name} does not exist (the pod would not start)")
        data = dict(found.get("data") or {})
        if kind == "secrets":
            return {k: base64.b64decode(v).decode() for k, v in data.items()}
        return data

    def _api_key(self, namespace: str, container: dict[str, Any]) -> str | None:
        for env in container.get("env") or []:
            if env.get("name") != "PDNS_AUTH_API_KEY":
                continue
            if "value" in env:
                return str(env["value"])
            source = env.get("valueFrom") or {}
            ref, kind = source.get("secretKeyRef"), "secrets"
            if ref is None:
                ref, kind = source.get("configMapKeyRef"), "configmaps"
            if ref is None:
                raise NotStarted("PDNS_AUTH_API_KEY takes its value from a source the sandbox does not read")
            data = self._data(kind, namespace, ref["name"])
            if ref["key"] not in data:
                raise NotStarted(f"{kind[:-1]} {namespace}/{ref['name']} has no key {ref['key']!r}")
            return data[ref["key"]]
        return None

    def _include_files(
        self, namespace: str, pod: dict[str, Any], container: dict[str, Any]
    ) -> tuple[dict[str, str], bool]:
        """The files the mounts put into pdns.d, and whether the folder itself is read-only."""
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        files: dict[str, str] = {}
        read_only = False
        for mount in container.get("volumeMounts") or []:
            path = str(mount["mountPath"]).rstrip("/")
            volume = volumes.get(mount["name"]) or {}
            source = next(((kind, volume[kind]) for kind in ("configMap", "secret") if kind in volume), None)
            if path == INCLUDE_DIR and not mount.get("subPath"):
                fixed = any(kind in volume for kind in READ_ONLY_VOLUMES)
                read_only = read_only or fixed or bool(mount.get("readOnly"))
                if source is not None:
                    files.update(self._volume_files(namespace, *source))
            elif path.startswith(INCLUDE_DIR + "/") and source is not None:
                data = self._volume_files(namespace, *source)
                sub = mount.get("subPath") or ""
                if sub in data:
                    files[path[len(INCLUDE_DIR) + 1 :]] = data[sub]
        return files, read_only

    def _volume_files(self, namespace: str, kind: str, volume: dict[str, Any]) -> dict[str, str]:
        name = volume.get("name") or volume.get("secretName") or ""
        data = self._data("configmaps" if kind == "configMap" else "secrets", namespace, name)
        items = volume.get("items")
        if items:
            return {item["path"]: data[item["key"]] for item in items if item["key"] in data}
        return data

    def _service(self, namespace: str, labels: dict[str, str], services: list[dict[str, Any]]) -> dict[str, Any] | None:
        for item in sorted(services, key=lambda s: s["metadata"]["name"]):
            spec = item.get("spec") or {}
            selector = spec.get("selector") or {}
            if item["metadata"]["namespace"] != namespace or spec.get("type") != "LoadBalancer" or not selector:
                continue
            if all(labels.get(k) == v for k, v in selector.items()):
                return item
        return None

    @staticmethod
    def _service_port(service: dict[str, Any], container: dict[str, Any], target: int) -> int | None:
        """The Service port whose targetPort reaches ``target`` in the container (by number or port name)."""
        names = {p.get("name"): p.get("containerPort") for p in container.get("ports") or [] if p.get("name")}
        for port in (service.get("spec") or {}).get("ports") or []:
            aimed = port.get("targetPort", port["port"])
            if (names.get(aimed) if isinstance(aimed, str) else aimed) == target:
                return int(port["port"])
        return None

    def identity(self, deployment: dict[str, Any], services: list[dict[str, Any]]) -> str | None:
        """What the running server depends on beyond its start: the pod template (a change replaces the pod, which
        then reads its ConfigMap and Secret again; a change of those alone does not, as on a real cluster) and the
        Service's address and ports. None when no pod would run or the Service has no address yet."""
        metadata, spec = deployment["metadata"], deployment.get("spec") or {}
        if spec.get("replicas", 1) == 0:
            return None
        if self.gate_on_available and not (deployment.get("status") or {}).get("availableReplicas"):
            return None
        template = spec.get("template") or {}
        service = self._service(metadata["namespace"], (template.get("metadata") or {}).get("labels") or {}, services)
        ingress = ((service or {}).get("status") or {}).get("loadBalancer", {}).get("ingress") or []
        if service is None or not ingress or not ingress[0].get("ip"):
            return None  # unreachable (yet): no Service of type LoadBalancer selects the pods, or it has no address
        body = json.dumps([template, ingress[0]["ip"], (service.get("spec") or {}).get("ports")], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def wanted(self, deployment: dict[str, Any], services: list[dict[str, Any]]) -> Wanted:
        """What the Deployment's pdns container runs from, read now (at its start); NotStarted when it would fail."""
        metadata, spec = deployment["metadata"], deployment.get("spec") or {}
        namespace = metadata["namespace"]
        template = spec.get("template") or {}
        pod = template.get("spec") or {}
        container = next(c for c in pod.get("containers") or [] if IMAGE.match(str(c.get("image") or "")))
        key = self._api_key(namespace, container)
        files, read_only = self._include_files(namespace, pod, container)
        if key is not None:
            if read_only:
                raise NotStarted(
                    f"the image's startup.py writes {INCLUDE_DIR}/_api.conf when PDNS_AUTH_API_KEY is set, and "
                    f"{INCLUDE_DIR} is a read-only volume (ConfigMap and Secret volumes always are): the container "
                    f"would exit with OSError: [Errno 30] Read-only file system: '{INCLUDE_DIR}/_api.conf'. Mount the "
                    "configuration files one by one with subPath, or elsewhere"
                )
            files["_api.conf"] = API_CONF.format(key=key)
        conf = {name: text for name, text in files.items() if name.endswith(".conf") and not name.startswith(".")}
        effective = settings([_defaults_text(), *(conf[name] for name in sorted(conf))])
        service = self._service(namespace, (template.get("metadata") or {}).get("labels") or {}, services)
        if service is None:
            raise NotStarted(f"no Service of type LoadBalancer in {namespace} selects the pods of {metadata['name']}")
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [{}]
        local_port = int(effective.get("local-port") or 53)
        web_port = int(effective.get("webserver-port") or 8081)
        dns_port = self._service_port(service, container, local_port) or local_port
        web = self._service_port(service, container, web_port) or web_port
        database, create_schema = self._database(namespace, metadata["name"], pod, container, effective)
        return Wanted(f"{namespace}/{metadata['name']}", conf, ingress[0]["ip"], dns_port, web, database, create_schema)

    def _database(
        self, namespace: str, name: str, pod: dict[str, Any], container: dict[str, Any], effective: dict[str, str]
    ) -> tuple[Path, bool]:
        """Where the sqlite file lives here, and whether its schema is created (image file, or an init container
        running sqlite3 on a fresh volume)."""
        path = effective.get("gsqlite3-database") or IMAGE_DEFAULTS["gsqlite3-database"]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        mounts = sorted(container.get("volumeMounts") or [], key=lambda m: -len(m["mountPath"]))
        for mount in mounts:
            prefix = str(mount["mountPath"]).rstrip("/") + "/"
            if not path.startswith(prefix):
                continue
            volume = volumes.get(mount["name"]) or {}
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            own = self.root / namespace / name / f"volume-{mount['name']}"
            base = self.volumes / namespace / claim if claim else own
            inits = json.dumps([c.get("command", []) + c.get("args", []) for c in pod.get("initContainers") or []])
            return base / path[len(prefix) :], "sqlite3" in inits
        return self.root / namespace / name / "image" / path.lstrip("/"), True

    # --- running the servers --------------------------------------------------------------------------------

    def _dir(self, key: str) -> Path:
        return self.root / key

    def _daemon(self, key: str) -> Daemon:
        log = self.log_dir / f"pdns-{self.cluster}-{key.replace('/', '-')}.log"
        return Daemon(self._dir(key) / "pdns.pid", log)

    def sync(self) -> bool:
        """One pass; whether any Deployment runs a PowerDNS image (an idle runner polls less often)."""
        deployments = (self.api.call("GET", "/apis/apps/v1/deployments") or {}).get("items") or []
        services = (self.api.call("GET", "/api/v1/services") or {}).get("items") or []
        mine = [
            d
            for d in deployments
            if any(
                IMAGE.match(str(c.get("image") or ""))
                for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
            )
        ]
        keep = set()
        for deployment in mine:
            key = f"{deployment['metadata']['namespace']}/{deployment['metadata']['name']}"
            try:
                identity = self.identity(deployment, services)
                if identity is None:
                    continue
                keep.add(key)
                if self._current(key, identity):
                    continue
                self._run(self.wanted(deployment, services), identity)
            except NotStarted as problem:
                keep.discard(key)
                self._stop(key)
                self._report(deployment, str(problem))
        for pid_file in self.root.glob("*/*/pdns.pid"):
            key = f"{pid_file.parent.parent.name}/{pid_file.parent.name}"
            if key not in keep:
                self._stop(key)
        return bool(mine)

    def _current(self, key: str, identity: str) -> bool:
        """Whether the server of ``key`` runs for ``identity``, or exited less than RETRY_S ago."""
        fingerprint = self._dir(key) / "fingerprint"
        if not fingerprint.exists() or fingerprint.read_text() != identity:
            return False
        daemon = self._daemon(key)
        if daemon.alive() or time.monotonic() - self.started.get(key, 0.0) < RETRY_S:
            return True
        print(f"{_now()} {key}: pdns_server exited, starting it again: {daemon.tail()}", flush=True)
        return False

    def _run(self, wanted: Wanted, identity: str) -> None:
        folder = self._dir(wanted.key)
        daemon = self._daemon(wanted.key)
        self._write_config(folder, wanted)
        wanted.database.parent.mkdir(parents=True, exist_ok=True)
        if wanted.create_schema and not wanted.database.exists():
            with sqlite3.connect(wanted.database) as db:
                db.executescript(SCHEMA.read_text())
        daemon.start(
            [
                PDNS_SERVER,
                f"--config-dir={folder / 'etc'}",
                f"--socket-dir={_socket_dir(folder)}",
                "--guardian=no",
                "--daemon=no",
                "--disable-syslog",
                "--write-pid=no",
            ],
            env=environment(),
        )
        (folder / "fingerprint").write_text(identity)
        self.started[wanted.key] = time.monotonic()
        print(
            f"{_now()} {wanted.key}: pdns_server on {wanted.address} (dns {wanted.dns_port}/udp+tcp, api "
            f"{wanted.web_port}/tcp), database {wanted.database}",
            flush=True,
        )

    @staticmethod
    def _write_config(folder: Path, wanted: Wanted) -> None:
        """The image's pdns.conf with the include folder moved here; the pod's pdns.d files as they are; last
        (``~sandbox.conf`` sorts after them, and pdns reads included files in order) where to listen and the file."""
        etc = folder / "etc"
        shutil.rmtree(etc, ignore_errors=True)
        (etc / "pdns.d").mkdir(parents=True, mode=0o700)
        main = {**IMAGE_DEFAULTS, "include-dir": str(etc / "pdns.d")}
        (etc / "pdns.conf").write_text("".join(f"{k}={v}\n" if v else f"{k}\n" for k, v in main.items()))
        for name, text in wanted.files.items():
            target = etc / "pdns.d" / name
            target.touch(mode=0o600)
            target.write_text(text)
        overrides = {
            "local-address": wanted.address,
            "local-port": wanted.dns_port,
            "webserver-address": wanted.address,
            "webserver-port": wanted.web_port,
            "gsqlite3-database": wanted.database,
        }
        (etc / "pdns.d" / "~sandbox.conf").write_text("".join(f"{k}={v}\n" for k, v in overrides.items()))

    def _stop(self, key: str) -> None:
        daemon = self._daemon(key)
        if daemon.alive():
            print(f"{_now()} {key}: stopping pdns_server", flush=True)
        daemon.stop()
        (self._dir(key) / "fingerprint").unlink(missing_ok=True)
        shutil.rmtree(_socket_dir(self._dir(key)), ignore_errors=True)

    def _report(self, deployment: dict[str, Any], message: str) -> None:
        metadata = deployment["metadata"]
        seen = (metadata.get("uid", ""), message)
        if seen in self.reported:
            return
        self.reported.add(seen)
        print(f"{_now()} {metadata['namespace']}/{metadata['name']}: not started: {message}", flush=True)
        involved = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "namespace": metadata["namespace"],
            "name": metadata["name"],
            "uid": metadata.get("uid"),
        }
        post_event(self.api, involved, "Warning", "PowerDNSNotStarted", message, USER)


def _socket_dir(folder: Path) -> Path:
    """Where pdns_server puts its control socket: a short path (a UNIX socket path has at most 107 bytes, and the
    sandbox state can be deep), one per server, 0700."""
    short = Path(tempfile.gettempdir()) / f"talosforge-pdns-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short


def _defaults_text() -> str:
    return "".join(f"{k}={v}\n" if v else f"{k}\n" for k, v in IMAGE_DEFAULTS.items())


def stop_all(cluster_dir: Path, log_dir: Path) -> None:
    """Stops every pdns_server of the cluster (the runner stops them too; this covers a runner that died)."""
    for pid_file in (cluster_dir / "powerdns").glob("*/*/pdns.pid"):
        Daemon(pid_file, log_dir / "unused.log").stop()
        shutil.rmtree(_socket_dir(pid_file.parent), ignore_errors=True)


def identity(cluster_dir: Path) -> Api:
    """The runner's own client certificate, signed by the cluster CA (written once under ``powerdns/``)."""
    return stand_in_api(cluster_dir, "powerdns", USER)


def main(argv: list[str] | None = None) -> int:
    args = arguments("sandbox.kube.powerdns_runner", __doc__, argv, "--cluster-dir", "--log-dir")
    record = json.loads((args.cluster_dir / "cluster.json").read_text())
    runner = Runner(identity(args.cluster_dir), args.cluster_dir, args.log_dir, bool(record.get("controllers")))
    exit_on_sigterm(lambda: stop_all(args.cluster_dir, args.log_dir))
    run_forever(runner.sync, (OSError, urllib.error.URLError, ValueError, KeyError, sqlite3.Error), POLL_S, IDLE_POLL_S)


if __name__ == "__main__":
    sys.exit(main())
