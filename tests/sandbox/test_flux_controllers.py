"""The real Flux controllers (tier 3) against a sandbox cluster's real kube-apiserver.

A git repository is served over smart HTTP on 127.0.0.1 (``git http-backend`` behind a small CGI handler here;
Flux refuses ``git://``), a Helm chart repository by a plain static HTTP server; source-controller fetches both,
kustomize-controller applies and prunes what the repository holds (decrypting SOPS with age when told to), and
helm-controller installs the chart. sops and age-keygen are the built programs too.
"""

from __future__ import annotations

import base64
import functools
import http.server
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_testlib import LiveCluster, wait_for

from sandbox.gotools import binary
from sandbox.gotools.programs import MissingProgram, bin_dir
from sandbox.kube import flux

pytestmark = pytest.mark.slow

PROGRAMS = ("source-controller", "kustomize-controller", "helm-controller", "sops", "age-keygen")
NAMESPACE = "apps"
TIMEOUT = 120.0
SOURCE = ("source.toolkit.fluxcd.io", "v1")
KUSTOMIZE = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
HELM = ("helm.toolkit.fluxcd.io", "v2", "helmreleases")


def _programs() -> dict[str, Path]:
    try:
        return {name: binary(name) for name in PROGRAMS}
    except MissingProgram:
        missing = [name for name in PROGRAMS if not (bin_dir() / name).exists()]
        pytest.skip(
            f"not built: {', '.join(missing)} (the third gotools tier: TALOSFORGE_GOTOOLS_TIER=3 scripts/test, or "
            "python -m sandbox.gotools build --tier 3; about 40 min cold)"
        )


# --- a git repository over smart HTTP ---------------------------------------------------------------------------


class _GitHttp(http.server.BaseHTTPRequestHandler):
    """Hands each request to ``git http-backend`` as CGI and relays its answer."""

    root = ""

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            for _chunk in range(1_000_000):
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi(self) -> None:
        path, query = self.path.partition("?")[::2]
        body = self._body()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False, timeout=60
        )
        head, blank, payload = done.stdout.partition(b"\r\n\r\n")
        if not blank:
            head, payload = done.stdout.partition(b"\n\n")[::2]
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, value = line.partition(":")[::2]
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(handler: Any) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_GLOBAL="/dev/null")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


class GitRepo:
    """A working copy whose ``push`` publishes to the bare repository the HTTP server serves."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "served" / "fleet.git"
        self.work = root / "fleet"
        self.bare.parent.mkdir(parents=True)
        _git(root, "init", "-q", "--bare", "-b", "main", str(self.bare))
        _git(root, "init", "-q", "-b", "main", str(self.work))
        _git(self.work, "remote", "add", "origin", str(self.bare))

    def write(self, relative: str, documents: list[dict[str, Any]] | str) -> None:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(documents if isinstance(documents, str) else yaml.safe_dump_all(documents))

    def remove(self, relative: str) -> None:
        (self.work / relative).unlink()

    def push(self, message: str) -> str:
        _git(self.work, "add", "-A")
        _git(self.work, "commit", "-q", "-m", message)
        _git(self.work, "push", "-q", "origin", "main")
        return _git(self.work, "rev-parse", "HEAD")


# --- the cluster --------------------------------------------------------------------------------------------------


class LiveApis:
    """The API clients of a live sandbox cluster, and a ConfigMap read (None when it does not exist)."""

    live: LiveCluster
    config_map_namespace = NAMESPACE

    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.live.api())

    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.live.api())

    def config_map(self, name: str, namespace: str | None = None) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return self.core().read_namespaced_config_map(name, namespace or self.config_map_namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise


class Fleet(LiveApis):
    def __init__(self, live: LiveCluster, repo: GitRepo, git_url: str, charts_url: str, programs: dict[str, Path]):
        self.live, self.repo, self.git_url, self.charts_url, self.programs = live, repo, git_url, charts_url, programs
        self.age_key: str | None = None

    def create(self, group: str, version: str, plural: str, body: dict[str, Any]) -> None:
        self.custom().create_namespaced_custom_object(group, version, NAMESPACE, plural, body)

    def get(self, group: str, version: str, plural: str, name: str) -> dict[str, Any]:
        return self.custom().get_namespaced_custom_object(group, version, NAMESPACE, plural, name)

    def reconcile_now(self, group: str, version: str, plural: str, name: str) -> None:
        patch = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": str(time.time_ns())}}}
        self.custom().patch_namespaced_custom_object(group, version, NAMESPACE, plural, name, patch)

    def ready(self, group: str, version: str, plural: str, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The object once its Ready condition is True for its current generation (the logs on failure)."""

        def check() -> dict[str, Any] | None:
            found = self.get(group, version, plural, name)
            status = found.get("status") or {}
            for condition in status.get("conditions") or []:
                if condition["type"] == "Ready" and condition["status"] == "True":
                    if status.get("observedGeneration") == found["metadata"]["generation"]:
                        return found
            return None

        try:
            return wait_for(check, timeout, f"{plural}/{name} Ready", interval=0.5)
        except AssertionError:
            status = self.get(group, version, plural, name).get("status")
            raise AssertionError(f"{plural}/{name} not Ready within {timeout:.0f} s: {status}\n{self.logs()}") from None

    def git_repository(self) -> dict[str, Any]:
        """The GitRepository ``fleet`` (made on first use), once Ready with the working copy's HEAD."""
        from kubernetes.client.exceptions import ApiException

        try:
            self.create(*SOURCE, "gitrepositories", _git_repository("fleet", self.git_url))
        except ApiException as error:
            if error.status != 409:
                raise
        head = f"main@sha1:{_git(self.repo.work, 'rev-parse', 'HEAD')}"
        found = self.ready(*SOURCE, "gitrepositories", "fleet")
        if found["status"]["artifact"]["revision"] != head:
            self.reconcile_now(*SOURCE, "gitrepositories", "fleet")
            wait_for(
                lambda: self.get(*SOURCE, "gitrepositories", "fleet")["status"]["artifact"]["revision"] == head,
                TIMEOUT,
                f"GitRepository fleet at {head}",
                interval=0.5,
            )
        return self.get(*SOURCE, "gitrepositories", "fleet")

    def publish(self, message: str) -> None:
        """Commit and push the working copy, and wait until source-controller has the new revision."""
        self.repo.push(message)
        self.git_repository()

    def encrypted_secret(self) -> str:
        """A Secret encrypted by sops for an age key made by age-keygen, pushed once as ``secrets/db.yaml``; the key."""
        if self.age_key is None:
            key, encrypted = _sops_secret(self.programs, self.repo.work.parent / "sops")
            self.repo.write("secrets/db.yaml", encrypted)
            self.publish("an encrypted Secret")
            self.age_key = key
        return self.age_key

    def logs(self) -> str:
        daemons = self.live.real().flux.daemons
        return "\n".join(f"--- {name}: {daemon.tail(15)}" for name, daemon in daemons.items())


def _git_repository(name: str, url: str) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name},
        "spec": {"url": url, "interval": "10m", "ref": {"branch": "main"}, "timeout": "30s"},
    }


def _kustomization(name: str, path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name},
        "spec": {
            "interval": "10m",
            "path": path,
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "timeout": "1m",
            **spec,
        },
    }


def _config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE}, "data": data}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    programs = _programs()
    root = tmp_path_factory.mktemp("flux")
    repo = GitRepo(root)
    repo.write("apps/keep.yaml", [_config_map("keep", {"stays": "yes"})])
    repo.write("apps/greeting.yaml", [_config_map("greeting", {"text": "hello from git"})])
    repo.push("two ConfigMaps")

    git_server, git_url = _serve(type("Handler", (_GitHttp,), {"root": str(repo.bare.parent)}))
    charts = root / "charts"
    _package_chart(root / "chart-src", charts)
    chart_server, charts_url = _serve(functools.partial(_Quiet, directory=str(charts)))

    saved = os.environ.get(flux.ENABLE_ENV)
    os.environ[flux.ENABLE_ENV] = "1"  # the Sandbox copies os.environ: the talosctl bootstrap starts Flux
    try:
        live = LiveCluster.create(root / "cluster", control_planes=1, workers=0, name="flux")
    finally:
        if saved is None:
            os.environ.pop(flux.ENABLE_ENV, None)
        else:
            os.environ[flux.ENABLE_ENV] = saved
    try:
        from kubernetes import client

        client.CoreV1Api(live.api()).create_namespace({"metadata": {"name": NAMESPACE}})
        yield Fleet(live, repo, f"{git_url}/fleet.git", charts_url, programs)
    finally:
        live.close()
        git_server.shutdown()
        chart_server.shutdown()


def _package_chart(source: Path, out: Path) -> None:
    chart = source / "greeter"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v2", "name": "greeter", "version": "0.1.0", "appVersion": "1.0.0"})
    )
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeter\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    out.mkdir(parents=True)
    helm = str(binary("helm"))
    env = {**os.environ, "HOME": str(source), "HELM_CACHE_HOME": str(source / "cache")}
    subprocess.run([helm, "package", str(chart), "-d", str(out)], env=env, check=True, capture_output=True)
    subprocess.run([helm, "repo", "index", str(out)], env=env, check=True, capture_output=True)


def _sops_secret(programs: dict[str, Path], root: Path) -> tuple[str, str]:
    """An age key made by age-keygen and a Secret encrypted for it by sops: (the key file's text, the ciphertext)."""
    root.mkdir(parents=True)
    key_file = root / "age.agekey"
    subprocess.run([str(programs["age-keygen"]), "-o", str(key_file)], check=True, capture_output=True)
    key = key_file.read_text()
    recipient = next(line.split(": ", 1)[1] for line in key.splitlines() if line.startswith("# public key: "))
    plain = root / "secret.yaml"
    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": NAMESPACE},
        "stringData": {"password": "s3cret-from-sops"},
    }
    plain.write_text(yaml.safe_dump(document))
    env = {**os.environ, "HOME": str(root), "SOPS_AGE_KEY_FILE": str(key_file)}
    sops = str(programs["sops"])
    command = [sops, "--encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", str(plain)]
    encrypted = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    assert "s3cret-from-sops" not in encrypted and "ENC[AES256_GCM," in encrypted
    (root / "secret.enc.yaml").write_text(encrypted)
    command = [sops, "--decrypt", str(root / "secret.enc.yaml")]
    decrypted = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    assert yaml.safe_load(decrypted)["stringData"] == {"password": "s3cret-from-sops"}
    return key, encrypted


# --- the tests ----------------------------------------------------------------------------------------------------


def test_controllers_run_healthy_on_loopback(fleet: Fleet) -> None:
    real = fleet.live.real()
    assert all(real.flux.running().values()), fleet.logs()
    wait_for(lambda: all(real.flux.healthy().values()), 60, "the three controllers' /readyz")
    ports = real.flux.ports()
    assert set(ports) == {"source-controller", "kustomize-controller", "helm-controller"}
    assert real.status().controllers == ["source-controller", "kustomize-controller", "helm-controller"]


def test_git_repository_is_ready_with_the_pushed_revision(fleet: Fleet) -> None:
    found = fleet.git_repository()
    artifact = found["status"]["artifact"]
    assert artifact["revision"] == f"main@sha1:{_git(fleet.repo.work, 'rev-parse', 'HEAD')}"
    # advertised where the other controllers fetch it: source-controller's own artifact server on loopback
    assert artifact["url"].startswith(f"{fleet.live.real().flux.artifact_url()}/gitrepository/{NAMESPACE}/fleet/")

    fleet.repo.write("apps/later.yaml", [_config_map("later", {"n": "3"})])
    fleet.publish("a third ConfigMap")


def test_a_git_url_flux_cannot_speak_is_refused(fleet: Fleet) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as refused:
        fleet.create(*SOURCE, "gitrepositories", _git_repository("daemon", "git://127.0.0.1/fleet.git"))
    assert refused.value.status == 422 and "spec.url" in refused.value.body


def test_kustomization_applies_then_prunes(fleet: Fleet) -> None:
    fleet.git_repository()
    fleet.create(*KUSTOMIZE[:2], KUSTOMIZE[2], _kustomization("apps", "./apps"))
    fleet.ready(*KUSTOMIZE, "apps")
    greeting = fleet.config_map("greeting")
    assert greeting is not None and greeting.data == {"text": "hello from git"}
    assert greeting.metadata.labels["kustomize.toolkit.fluxcd.io/name"] == "apps"
    assert fleet.config_map("keep") is not None

    fleet.repo.remove("apps/greeting.yaml")
    fleet.publish("greeting goes")
    fleet.reconcile_now(*KUSTOMIZE, "apps")
    wait_for(lambda: fleet.config_map("greeting") is None, TIMEOUT, "greeting pruned")
    assert fleet.config_map("keep") is not None
    inventory = {entry["id"] for entry in fleet.ready(*KUSTOMIZE, "apps")["status"]["inventory"]["entries"]}
    assert f"{NAMESPACE}_keep__ConfigMap" in inventory and f"{NAMESPACE}_greeting__ConfigMap" not in inventory


def test_helm_release_installs_a_chart_from_a_helm_repository(fleet: Fleet) -> None:
    fleet.create(
        *SOURCE,
        "helmrepositories",
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "local"},
            "spec": {"url": fleet.charts_url, "interval": "10m"},
        },
    )
    fleet.ready(*SOURCE, "helmrepositories", "local")
    fleet.create(
        *HELM[:2],
        HELM[2],
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "hello"},
            "spec": {
                "interval": "10m",
                "chart": {
                    "spec": {
                        "chart": "greeter",
                        "version": "0.1.x",
                        "sourceRef": {"kind": "HelmRepository", "name": "local"},
                    }
                },
                "values": {"greeting": "hello from flux"},
            },
        },
    )
    release = fleet.ready(*HELM, "hello", timeout=180)
    assert release["status"]["history"][0]["chartVersion"] == "0.1.0"
    made = fleet.config_map("hello-greeter")
    assert made is not None and made.data == {"greeting": "hello from flux"}
    stored = fleet.core().list_namespaced_secret(NAMESPACE, label_selector="owner=helm,name=hello").items
    assert [secret.metadata.name for secret in stored] == ["sh.helm.release.v1.hello.v1"]


def test_sops_secret_is_decrypted_with_an_age_key(fleet: Fleet) -> None:
    key = fleet.encrypted_secret()
    assert "s3cret-from-sops" not in (fleet.repo.work / "secrets" / "db.yaml").read_text()
    fleet.core().create_namespaced_secret(
        NAMESPACE, {"metadata": {"name": "sops-age"}, "stringData": {"identity.agekey": key}}
    )
    decryption = {"provider": "sops", "secretRef": {"name": "sops-age"}}
    fleet.create(*KUSTOMIZE[:2], KUSTOMIZE[2], _kustomization("secrets", "./secrets", decryption=decryption))
    fleet.ready(*KUSTOMIZE, "secrets")
    secret = fleet.core().read_namespaced_secret("db", NAMESPACE)
    assert base64.b64decode(secret.data["password"]).decode() == "s3cret-from-sops"


def test_without_decryption_the_ciphertext_is_applied_and_ready(fleet: Fleet) -> None:
    """Why the collection must always set spec.decryption: without it nothing fails, the Secret holds ciphertext."""
    fleet.encrypted_secret()
    fleet.core().create_namespace({"metadata": {"name": "raw"}})
    fleet.create(*KUSTOMIZE[:2], KUSTOMIZE[2], _kustomization("raw-secrets", "./secrets", targetNamespace="raw"))
    fleet.ready(*KUSTOMIZE, "raw-secrets")
    secret = fleet.core().read_namespaced_secret("db", "raw")
    assert base64.b64decode(secret.data["password"]).decode().startswith("ENC[AES256_GCM,")


def test_stop_ends_the_controllers(fleet: Fleet) -> None:
    real = fleet.live.real()
    pids = [pid for pid in real.flux.running().values() if pid]
    assert len(pids) == 3
    real.flux.stop()
    assert not any(real.flux.running().values())
    assert not [pid for pid in pids if _program(pid) in flux.PROGRAMS]


def _program(pid: int) -> str:
    try:
        return Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()).name
    except OSError:
        return ""
