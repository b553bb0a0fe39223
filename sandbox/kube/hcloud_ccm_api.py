"""What the hcloud CCM stand-in reads before it acts: the CCM workload's settings, and a Hetzner Cloud API client.

:func:`settings` finds the cloud controller manager's Deployment or DaemonSet in ``kube-system`` (by its image
``hetznercloud/hcloud-cloud-controller-manager`` or the chart's ``app.kubernetes.io/name`` label) and resolves its
container's environment (plain values and ``secretKeyRef``\\ s, as the kubelet would) and command-line flags.
:class:`Hcloud` talks JSON to the API at ``HCLOUD_ENDPOINT`` with the token, counting its requests; it refuses any
endpoint that is not a loopback address, so the stand-in can never reach the real Hetzner Cloud.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "kube-system"
IMAGE = "hetznercloud/hcloud-cloud-controller-manager"
CHART_NAME = "hcloud-cloud-controller-manager"
DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"
USER_AGENT = "hcloud-cloud-controller-manager/sandbox-stand-in"
ACTION_WAIT_S = 60.0


def _flags(container: dict[str, Any]) -> dict[str, str]:
    """``--name=value`` / ``--name`` flags of the container's command and args."""
    flags = {}
    for word in [*(container.get("command") or []), *(container.get("args") or [])]:
        if str(word).startswith("--"):
            name, _eq, value = str(word)[2:].partition("=")
            flags[name] = value
    return flags


def _truthy(text: str | None, default: bool) -> bool:
    if text is None or text == "":
        return default
    return text.strip().lower() in ("1", "t", "true", "yes", "on")


@dataclass
class Settings:
    """The CCM's configuration as its process would see it."""

    workload: str  # "Deployment/hcloud-cloud-controller-manager"
    env: dict[str, str]
    flags: dict[str, str]
    problems: list[str] = field(default_factory=list)  # env entries that could not be resolved

    @property
    def endpoint(self) -> str:
        return self.env.get("HCLOUD_ENDPOINT") or DEFAULT_ENDPOINT

    @property
    def token(self) -> str:
        return self.env.get("HCLOUD_TOKEN", "")

    @property
    def network(self) -> str:
        return self.env.get("HCLOUD_NETWORK", "")

    def flag_on(self, name: str, default: bool) -> bool:
        return _truthy(self.flags.get(name), default) if name in self.flags else default

    def env_on(self, name: str, default: bool) -> bool:
        return _truthy(self.env.get(name), default)

    @property
    def routes_enabled(self) -> bool:
        """The route controller runs with ``--allocate-node-cidrs`` and ``--configure-cloud-routes`` (default on),
        a network, and ``HCLOUD_NETWORK_ROUTES_ENABLED`` not false (the hcloud CCM's default is on)."""
        return (
            bool(self.network)
            and self.flag_on("allocate-node-cidrs", False)
            and self.flag_on("configure-cloud-routes", True)
            and self.env_on("HCLOUD_NETWORK_ROUTES_ENABLED", True)
        )

    @property
    def load_balancers_enabled(self) -> bool:
        return self.env_on("HCLOUD_LOAD_BALANCERS_ENABLED", True)

    @property
    def cluster_cidr(self) -> str:
        return self.flags.get("cluster-cidr", "")

    def fingerprint(self) -> str:
        return json.dumps([self.workload, sorted(self.env.items()), sorted(self.flags.items())])


def loopback(endpoint: str) -> bool:
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_ccm(item: dict[str, Any]) -> bool:
    labels = (item.get("metadata") or {}).get("labels") or {}
    if labels.get("app.kubernetes.io/name") == CHART_NAME:
        return True
    containers = ((((item.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    return any(IMAGE in str(c.get("image") or "") for c in containers)


def _container(item: dict[str, Any]) -> dict[str, Any]:
    containers = item["spec"]["template"]["spec"].get("containers") or []
    return next((c for c in containers if IMAGE in str(c.get("image") or "")), containers[0] if containers else {})


def settings(api: Any) -> Settings | None:
    """The CCM workload's settings, or None when no CCM Deployment or DaemonSet exists in kube-system (two reads,
    and one per Secret its environment references)."""
    found = []
    for kind, plural in (("Deployment", "deployments"), ("DaemonSet", "daemonsets")):
        listed = api.call("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/{plural}") or {}
        found += [(kind, item) for item in listed.get("items") or [] if _is_ccm(item)]
    if not found:
        return None
    kind, item = sorted(found, key=lambda pair: (pair[0], pair[1]["metadata"]["name"]))[0]
    container = _container(item)
    secrets: dict[str, dict[str, str] | None] = {}
    env: dict[str, str] = {}
    problems = []
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if "value" in entry:
            env[name] = str(entry.get("value") or "")
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            if entry.get("valueFrom"):
                problems.append(f"{name}: only value and secretKeyRef are read by the stand-in")
            continue
        secret_name = str(ref.get("name"))
        if secret_name not in secrets:
            secret = api.call("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/{secret_name}")
            data = (secret or {}).get("data") or {}
            secrets[secret_name] = (
                None if secret is None else {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
            )
        values = secrets[secret_name]
        if values is not None and ref.get("key") in values:
            env[name] = values[ref["key"]].strip()
        elif not ref.get("optional"):
            problems.append(f"{name}: Secret {NAMESPACE}/{secret_name} has no key {ref.get('key')!r}")
    return Settings(f"{kind}/{item['metadata']['name']}", env, _flags(container), problems)


class HcloudError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code


class Hcloud:
    """A JSON client of the Hetzner Cloud API at a loopback endpoint; counts its reads and writes."""

    def __init__(self, endpoint: str, token: str, timeout: float = 10.0) -> None:
        if not loopback(endpoint):
            raise ValueError(f"{endpoint} is not a loopback address: the stand-in only talks to the sandbox")
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.reads = 0
        self.writes = 0
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = self.endpoint + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if method == "GET":
            self.reads += 1
        else:
            self.writes += 1
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                problem = json.loads(text).get("error") or {}
            except (ValueError, AttributeError):
                problem = {}
            raise HcloudError(error.code, problem.get("code", "http_error"), problem.get("message", text)) from None
        return json.loads(text) if text else None

    def listing(self, path: str, key: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every page of a list (50 a page, at most 20 pages)."""
        items: list[dict[str, Any]] = []
        for page in range(1, 21):
            answer = self.call("GET", path, query={**(query or {}), "page": page, "per_page": 50})
            items += answer.get(key) or []
            if not ((answer.get("meta") or {}).get("pagination") or {}).get("next_page"):
                break
        return items

    def act(self, method: str, path: str, body: Any = None) -> Any:
        """A request that answers with an action (or several): waits until they end; an action in error raises."""
        answer = self.call(method, path, body) or {}
        actions = [answer["action"]] if answer.get("action") else list(answer.get("actions") or [])
        for action in actions:
            self.wait(action)
        return answer

    def wait(self, action: dict[str, Any]) -> None:
        deadline = time.monotonic() + ACTION_WAIT_S
        while action.get("status") == "running":
            if time.monotonic() > deadline:
                raise HcloudError(0, "timeout", f"action {action['id']} ({action.get('command')}) still running")
            time.sleep(0.05)
            action = self.call("GET", f"/actions/{action['id']}")["action"]
        if action.get("status") == "error":
            error = action.get("error") or {}
            raise HcloudError(0, error.get("code", "action_failed"), error.get("message", str(action.get("command"))))
