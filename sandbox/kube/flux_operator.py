"""flux-operator's stand-in: each FluxInstance is reconciled by the sandbox, with the real Flux controllers.

The collection installs Flux as flux-operator's docs advise: the ``flux-operator`` chart (the sandbox's stand-in
chart runs no operator, sandbox/charts/flux-operator), then a FluxInstance ``flux``. One small process per cluster
plays the operator once its Deployment exists (a Deployment running the image
``ghcr.io/controlplaneio-fluxcd/flux-operator``, in any namespace, as LB-IPAM looks for MetalLB's controller) and does
for each FluxInstance what the operator does (controlplaneio-fluxcd/flux-operator, internal/controller and
internal/builder, read for behaviour):

- adds the finalizer ``fluxcd.controlplane.io/finalizer``; matches ``spec.distribution.version`` (a semver range such
  as ``2.x`` or ``2.9.x``) against the one Flux release the sandbox carries the CRDs of (v2.9.4): no match is
  ``BuildFailed`` and ``Stalled``, as the operator says it;
- applies the CRDs of the chosen components that the sandbox has (source, kustomize, helm and notification
  controllers, tests/contracts/crds) and runs the real controllers of the components the sandbox builds
  (:class:`sandbox.kube.flux.Flux`, the same start as ``TALOSFORGE_SANDBOX_FLUX=1``). notification-controller is
  not built: its CRDs are installed, the controller does not run, and the Ready message says so. A controller the
  sandbox builds but has not built makes Ready False, naming the program and how to build it;
- creates the sync objects as the operator's template does: a source and a Kustomization named after the namespace
  (or ``spec.sync.name``), GitRepository ``ref.name`` = ``spec.sync.ref`` (OCIRepository ``ref.tag``, Bucket
  ``bucketName``), ``secretRef`` from ``pullSecret``, the sync interval on the source, the Kustomization every
  ``10m0s`` with ``prune: true``; applied server-side as ``flux-operator``, with the operator's labels and
  annotations; updated when the FluxInstance changes, deleted when ``spec.sync`` goes;
- sets the status as the operator does: Ready Unknown/Progressing while it works, True/ReconciliationSucceeded
  (``Reconciliation finished in ...``) once the controllers answer ``/readyz`` and the sync source and
  Kustomization are Ready for their generation (the operator waits for all it applied to become ready), False with
  the operator's reasons otherwise; ``lastAttemptedRevision``/``lastAppliedRevision`` ``v2.9.4@sha256:<digest>``,
  ``components``, ``inventory``, ``history``; records Events as ``flux-operator``;
- on deletion, as the operator uninstalls: stops the controllers, removes the Flux objects' finalizers, deletes the
  sync objects and the CRDs it applied (what Flux had applied stays), then removes its finalizer.

It polls every ``IDLE_POLL_S`` (one list request while no FluxInstance exists, or none is served).
Its identity is its own client certificate (``talosforge-sandbox-flux-operator``, in ``system:masters``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import gotools
from ..gotools.programs import MissingProgram
from . import certs, flux
from .client import Api
from .events import post_event
from .identity import stand_in_api
from .loop import arguments, exit_on_sigterm, run_forever
from .loop import now as _now
from .machine_config import v1alpha1

POLL_S = 2.0  # while a FluxInstance is being reconciled
IDLE_POLL_S = 3.0
USER = "talosforge-sandbox-flux-operator"
COMPONENT = "flux-operator"  # the operator's field manager and event source
GROUP = "fluxcd.controlplane.io"
INSTANCES = f"/apis/{GROUP}/v1/fluxinstances"
FINALIZER = f"{GROUP}/finalizer"
RECONCILE_ANNOTATION = f"{GROUP}/reconcile"
TIMEOUT_ANNOTATION = f"{GROUP}/reconcileTimeout"
DEFAULT_TIMEOUT_S = 300.0  # the operator's default (5m)
UNINSTALL_WAIT_S = 60.0  # how long an uninstall waits for the CRDs to go (the operator: 5m, then goes on)
OPERATOR_IMAGE = re.compile(r"(^|/)controlplaneio-fluxcd/flux-operator(:|@|$)")
# The Flux release the sandbox carries the CRDs of (tests/contracts/crds/README.md): the only version it can match.
FLUX_VERSION = "v2.9.4"
# The operator's default components when spec.components is empty.
DEFAULT_COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
# The CRDs each component brings, where the sandbox has them.
COMPONENT_CRDS = {
    "source-controller": "source.toolkit.fluxcd.io",
    "kustomize-controller": "kustomize.toolkit.fluxcd.io",
    "helm-controller": "helm.toolkit.fluxcd.io",
    "notification-controller": "notification.toolkit.fluxcd.io",
}
# Tags of the components Flux v2.9.4 ships that the sandbox does not build (the built ones report their module's).
SHIPPED_TAGS = {"notification-controller": "v1.9.3"}
BUILD_HINT = "python -m sandbox.gotools build --tier 3 (or TALOSFORGE_GOTOOLS_TIER=3 scripts/test)"
SOURCE_GROUP_VERSION = "source.toolkit.fluxcd.io/v1"
KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1"
_PLURALS = {"GitRepository": "gitrepositories", "OCIRepository": "ocirepositories", "Bucket": "buckets"}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(text: str) -> float:
    return sum(float(number) * _UNIT_S[unit] for number, unit in _DURATION.findall(text))


def go_duration(text: str) -> str:
    """A duration as Go's ``time.Duration.String()`` writes it (``1m`` is ``1m0s``), as the operator passes on."""
    total = round(_seconds(text), 9)
    if total == 0:
        return "0s"
    if total < 1:
        return f"{_trim(total * 1000)}ms"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{int(hours)}h" if hours else ""
    out += f"{int(minutes)}m" if hours or minutes else ""
    return out + f"{_trim(seconds)}s"


def _trim(number: float) -> str:
    return f"{number:.9f}".rstrip("0").rstrip(".")


def _version(text: str) -> tuple[int, ...] | None:
    found = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    return None if found is None else tuple(int(part or 0) for part in found.groups())


def matches(constraint: str, version: str = FLUX_VERSION) -> bool:
    """Whether ``version`` satisfies a semver range as the operator reads ``spec.distribution.version``: ``2.x``,
    ``2.9.x``, ``2.9.4``, ``*``, comparisons (``>=2.5.0 <3.0``, comma or space between), ``~2.9``, ``^2.3``."""
    have = _version(version)
    assert have is not None
    terms = [term for term in re.split(r"[,\s]+", constraint.strip()) if term]
    if not terms:
        return False
    for term in terms:
        operator, rest = re.match(r"(>=|<=|!=|>|<|=|~|\^)?(.*)", term).groups()  # type: ignore[union-attr]
        parts = rest.lstrip("v").split(".")
        if parts[0] in ("*", "x", "X"):
            continue
        wildcard = next((i for i, part in enumerate(parts) if part in ("*", "x", "X")), len(parts))
        want = _version(".".join(parts[:wildcard]))
        if want is None:
            return False
        if (operator in (None, "=") and wildcard < 3) or operator == "~":
            keep = 2 if operator == "~" else wildcard
            if have[:keep] != want[:keep] or have < want:
                return False
        elif operator == "^":
            if have[0] != want[0] or have < want:
                return False
        elif not {
            None: have == want,
            "=": have == want,
            "!=": have != want,
            ">": have > want,
            ">=": have >= want,
            "<": have < want,
            "<=": have <= want,
        }[operator]:
            return False
    return True


def built_version(program: str) -> str:
    """The version of the controller's module the sandbox builds (its wrapper's go.mod), e.g. ``v1.9.3``."""
    module = gotools.PROGRAMS[program].module
    go_mod = gotools.PROGRAMS[program].module_dir / "go.mod"
    for line in go_mod.read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in (module, "require") and module in words:
            return words[words.index(module) + 1]
    return "unknown"


@dataclass
class Plan:
    """What a FluxInstance asks for, as the stand-in can give it."""

    version: str | None
    components: list[str]
    runnable: list[str]  # components whose controller the sandbox builds and has built
    unbuilt: dict[str, str]  # component -> why its controller cannot start (not built, and how to build it)
    not_run: list[str]  # components the sandbox has no program for
    crd_groups: list[str]
    sync: list[dict[str, Any]]
    revision: str


def plan(instance: dict[str, Any]) -> Plan:
    spec = instance.get("spec") or {}
    namespace = instance["metadata"]["namespace"]
    distribution = spec.get("distribution") or {}
    version = FLUX_VERSION if matches(str(distribution.get("version") or "")) else None
    components = list(spec.get("components") or DEFAULT_COMPONENTS)
    runnable, unbuilt, not_run = [], {}, []
    for component in components:
        if component in flux.PROGRAMS:
            try:
                gotools.binary(component)
                runnable.append(component)
            except MissingProgram:
                path = gotools.bin_dir() / component
                unbuilt[component] = f"{component} is not built ({path} is missing): build it with {BUILD_HINT}"
        else:
            not_run.append(component)
    groups = [COMPONENT_CRDS[c] for c in components if c in COMPONENT_CRDS]
    sync = sync_objects(namespace, spec.get("sync"), version or FLUX_VERSION)
    registry = str(distribution.get("registry") or "")
    digest = hashlib.sha256(
        json.dumps({"components": components, "registry": registry, "sync": sync}, sort_keys=True).encode()
    ).hexdigest()
    return Plan(version, components, runnable, unbuilt, not_run, groups, sync, f"{version}@sha256:{digest}")


def sync_objects(namespace: str, sync: dict[str, Any] | None, version: str) -> list[dict[str, Any]]:
    """The source and Kustomization the operator's sync template renders for ``spec.sync`` (none without it)."""
    if not sync:
        return []
    kind = sync["kind"]
    name = sync.get("name") or namespace
    metadata = {
        "name": name,
        "namespace": namespace,
        "labels": {
            "app.kubernetes.io/managed-by": "flux-operator",
            "app.kubernetes.io/instance": namespace,
            "app.kubernetes.io/version": version,
            "app.kubernetes.io/part-of": "flux",
            f"{GROUP}/name": "flux",
            f"{GROUP}/namespace": namespace,
        },
        "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "Ignore", "kustomize.toolkit.fluxcd.io/prune": "Disabled"},
    }
    source_spec: dict[str, Any] = {"interval": go_duration(str(sync.get("interval") or "1m"))}
    if kind == "GitRepository":
        source_spec["ref"] = {"name": sync["ref"]}
    elif kind == "OCIRepository":
        source_spec["ref"] = {"tag": sync["ref"]}
    else:
        source_spec["bucketName"] = sync["ref"]
    if sync.get("pullSecret"):
        source_spec["secretRef"] = {"name": sync["pullSecret"]}
    if sync.get("provider"):
        source_spec["provider"] = sync["provider"]
    source_spec["endpoint" if kind == "Bucket" else "url"] = sync["url"]
    source = {"apiVersion": SOURCE_GROUP_VERSION, "kind": kind, "metadata": metadata, "spec": source_spec}
    kustomization = {
        "apiVersion": KUSTOMIZATION_API,
        "kind": "Kustomization",
        "metadata": json.loads(json.dumps(metadata)),
        "spec": {
            "interval": "10m0s",
            "path": sync["path"],
            "prune": True,
            "sourceRef": {"kind": kind, "name": name},
        },
    }
    return [source, kustomization]


def object_path(document: dict[str, Any]) -> str:
    kind = document["kind"]
    plural = _PLURALS.get(kind) or f"{kind.lower()}s"
    metadata = document["metadata"]
    return f"/apis/{document['apiVersion']}/namespaces/{metadata['namespace']}/{plural}/{metadata['name']}"


def inventory_id(document: dict[str, Any]) -> dict[str, str]:
    """An entry of ``status.inventory`` as the operator writes it: ``<namespace>_<name>_<group>_<kind>`` and version."""
    group, _slash, version = document["apiVersion"].rpartition("/")
    metadata = document["metadata"]
    return {
        "id": f"{metadata.get('namespace', '')}_{metadata['name']}_{group}_{document['kind']}",
        "v": version,
    }


def _from_inventory(entry: dict[str, str]) -> tuple[str, str, str, str, str]:
    namespace, name, group, kind = entry["id"].split("_", 3)
    return namespace, name, group, kind, entry["v"]


def _condition(item: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in (item.get("status") or {}).get("conditions") or [] if c.get("type") == kind), None)


def is_ready(item: dict[str, Any] | None) -> bool:
    """Ready=True for the object's current generation (kstatus's Current for a Flux object)."""
    if not item:
        return False
    ready = _condition(item, "Ready")
    generation = item["metadata"].get("generation")
    observed = (item.get("status") or {}).get("observedGeneration")
    return bool(ready and ready.get("status") == "True" and observed == generation)


def _fmt_duration(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s" if seconds < 60 else go_duration(f"{int(seconds)}s")


@dataclass
class Attempt:
    """The stand-in's memory of one FluxInstance's current reconciliation."""

    revision: str = ""
    generation: int = 0
    started: float = field(default_factory=time.monotonic)
    applied: bool = False
    done: bool = False  # Ready=True written for this revision and generation
    crd_groups: tuple[str, ...] = ()


class FluxOperator:
    def __init__(self, api: Api, controllers: flux.Flux, cluster_dir: Path) -> None:
        self.api = api
        self.controllers = controllers
        self.cluster_dir = cluster_dir
        self.attempts: dict[str, Attempt] = {}
        self.reported: set[tuple[str, str, str]] = set()

    # --- one round ---------------------------------------------------------------------------------------------

    def sync(self) -> bool:
        """One round over every FluxInstance; True while one is still being worked on."""
        listed = self.api.call("GET", INSTANCES)
        items = list((listed or {}).get("items") or [])
        if not items or not self._operator_installed():
            return False
        busy = False
        for item in items:
            if item["metadata"].get("deletionTimestamp"):
                self.uninstall(item)
                continue
            if str((item["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION, "")).lower() == "disabled":
                continue
            busy = not self.reconcile(item) or busy
        return busy

    def _operator_installed(self) -> bool:
        for item in (self.api.call("GET", "/apis/apps/v1/deployments") or {}).get("items") or []:
            pod = ((item.get("spec") or {}).get("template") or {}).get("spec") or {}
            if any(OPERATOR_IMAGE.search(str(c.get("image") or "")) for c in pod.get("containers") or []):
                return True
        return False

    def reconcile(self, item: dict[str, Any]) -> bool:
        """Reconcile one FluxInstance; True once it is settled (Ready, or failed for good)."""
        metadata = item["metadata"]
        if FINALIZER not in (metadata.get("finalizers") or []):
            self._patch(item, {"metadata": {"finalizers": [*(metadata.get("finalizers") or []), FINALIZER]}})
            item = self.api.call("GET", self._path(item)) or item
        uid, generation = item["metadata"]["uid"], item["metadata"].get("generation", 1)
        wanted = plan(item)
        attempt = self.attempts.get(uid)
        if attempt is None or (attempt.revision, attempt.generation) != (wanted.revision, generation):
            attempt = self.attempts[uid] = Attempt(wanted.revision, generation)
        status = item.get("status") or {}

        if wanted.version is None:
            message = (
                f"build failed: no match found for semver: {(item['spec'].get('distribution') or {}).get('version')}"
            )
            self._set_status(item, "False", "BuildFailed", message, stalled=True)
            self._event(item, "Warning", "BuildFailed", message)
            return True

        if status.get("lastAttemptedRevision") != wanted.revision:
            verb = "Upgrading to" if status.get("lastAttemptedRevision") else "Installing"
            self._event(item, "Normal", "Progressing", f"{verb} revision {wanted.revision}")
            self._set_status(
                item,
                "Unknown",
                "Progressing",
                "Reconciliation in progress",
                reconciling=True,
                extra={"lastAttemptedRevision": wanted.revision},
            )
            item = self.api.call("GET", self._path(item)) or item

        if attempt.done:
            # Settled: keep the controllers running (as a Deployment restarts its pod), nothing else until a change.
            self.controllers_up(wanted)
            return True

        if not attempt.applied:
            applied_crds = self._apply_crds(wanted)
            self._apply_sync(item, wanted)
            entries = [inventory_id(crd) for crd in applied_crds] + [inventory_id(o) for o in wanted.sync]
            self._set_fields(item, {"inventory": {"entries": entries}, "components": self._components(item, wanted)})
            attempt.applied = True
            attempt.crd_groups = tuple(wanted.crd_groups)
        self.controllers_up(wanted)

        if wanted.unbuilt:
            message = "reconciliation failed: sandbox stand-in: " + "; ".join(wanted.unbuilt.values())
            self._set_status(item, "False", "ReconciliationFailed", message, reconciling=True)
            self._event(item, "Warning", "ReconciliationFailed", message)
            return True

        waiting = self._waiting_for(wanted)
        if waiting:
            elapsed = time.monotonic() - attempt.started
            if elapsed > self._timeout(item):
                message = f"reconciliation failed: timeout waiting for: [{', '.join(waiting)}]"
                self._set_status(item, "False", "ReconciliationFailed", message, reconciling=True)
                self._event(item, "Warning", "ReconciliationFailed", message)
            return False

        elapsed = time.monotonic() - attempt.started
        message = f"Reconciliation finished in {_fmt_duration(elapsed)}"
        if wanted.not_run:
            message += f" (sandbox stand-in: {', '.join(wanted.not_run)} not run, no sandbox program" + (
                "; its CRDs are installed)" if any(c in COMPONENT_CRDS for c in wanted.not_run) else ")"
            )
        history = self._history(item, wanted, elapsed)
        self._set_status(
            item,
            "True",
            "ReconciliationSucceeded",
            message,
            extra={
                "lastAppliedRevision": wanted.revision,
                "lastAttemptedRevision": wanted.revision,
                "history": history,
            },
        )
        self._event(item, "Normal", "ReconciliationSucceeded", message)
        attempt.done = True
        return True

    # --- the parts ---------------------------------------------------------------------------------------------

    def controllers_up(self, wanted: Plan) -> list[str]:
        """The controllers of the runnable components running, the others stopped; the ones started."""
        running = {program for program, pid in self.controllers.running().items() if pid}
        if running == set(wanted.runnable):
            return []
        apiserver = json.loads((self.cluster_dir / "apiserver" / "apiserver.json").read_text())
        pki = certs.ClusterPKI.from_config(v1alpha1((self.cluster_dir / "bootstrap-config.yaml").read_text()))
        pki_dir = self.cluster_dir / "apiserver" / "pki"
        started = self.controllers.ensure(pki, apiserver["url"], pki_dir, tuple(wanted.runnable))
        if started:
            print(f"{_now()} started {', '.join(started)}", flush=True)
        return started

    def _apply_crds(self, wanted: Plan) -> list[dict[str, Any]]:
        return flux.apply_crds(self.api, groups=tuple(wanted.crd_groups))

    def _apply_sync(self, item: dict[str, Any], wanted: Plan) -> None:
        for document in wanted.sync:
            path = object_path(document) + f"?fieldManager={COMPONENT}&force=true"
            self.api.call("PATCH", path, document, content_type="application/apply-patch+yaml")
        # what the last inventory held and the new one does not: garbage, as the operator collects it
        keep = {inventory_id(o)["id"] for o in wanted.sync}
        for entry in ((item.get("status") or {}).get("inventory") or {}).get("entries") or []:
            if _from_inventory(entry)[3] != "CustomResourceDefinition" and entry["id"] not in keep:
                self._delete_entry(entry)

    def _delete_entry(self, entry: dict[str, Any]) -> None:
        """Delete the object an inventory entry names."""
        namespace, name, group, kind, version = _from_inventory(entry)
        document = {
            "apiVersion": f"{group}/{version}",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
        }
        self.api.call("DELETE", object_path(document))

    def _waiting_for(self, wanted: Plan) -> list[str]:
        """What is not ready yet, in the operator's words (``<Kind>/<namespace>/<name> status: '<status>'``)."""
        waiting = []
        health = self.controllers.healthy()
        for program in wanted.runnable:
            if not health.get(program):
                waiting.append(f"Deployment/flux-system/{program} status: 'InProgress'")
        for document in wanted.sync:
            found = self.api.call("GET", object_path(document))
            if not is_ready(found):
                ready = _condition(found or {}, "Ready") or {}
                state = "Failed" if ready.get("status") == "False" else "InProgress"
                detail = f" ({ready.get('message')})" if ready.get("message") else ""
                metadata = document["metadata"]
                waiting.append(
                    f"{document['kind']}/{metadata['namespace']}/{metadata['name']} status: '{state}'{detail}"
                )
        return waiting

    def _components(self, item: dict[str, Any], wanted: Plan) -> list[dict[str, str]]:
        registry = str(((item.get("spec") or {}).get("distribution") or {}).get("registry") or "ghcr.io/fluxcd")
        found = []
        for component in wanted.components:
            tag = built_version(component) if component in flux.PROGRAMS else SHIPPED_TAGS.get(component, "unknown")
            found.append({"name": component, "repository": f"{registry.rstrip('/')}/{component}", "tag": tag})
        return found

    def _history(self, item: dict[str, Any], wanted: Plan, elapsed: float) -> list[dict[str, Any]]:
        digest = wanted.revision.split("@", 1)[1]
        history = list((item.get("status") or {}).get("history") or [])
        now = _now()
        entry = next((h for h in history if h.get("digest") == digest), None)
        if entry is None:
            entry = {"digest": digest, "firstReconciled": now, "totalReconciliations": 0}
            history.insert(0, entry)
        entry.update(
            lastReconciled=now,
            lastReconciledDuration=_fmt_duration(elapsed),
            lastReconciledStatus="ReconciliationSucceeded",
            totalReconciliations=int(entry.get("totalReconciliations") or 0) + 1,
            metadata={"flux": wanted.version or ""},
        )
        return history[:5]

    def _timeout(self, item: dict[str, Any]) -> float:
        text = str((item["metadata"].get("annotations") or {}).get(TIMEOUT_ANNOTATION) or "")
        return _seconds(text) or DEFAULT_TIMEOUT_S

    def uninstall(self, item: dict[str, Any]) -> None:
        """As the operator uninstalls: controllers stopped, Flux objects' finalizers removed, what it applied
        deleted (the sync objects, the CRDs), then its finalizer removed."""
        finalizers = item["metadata"].get("finalizers") or []
        if FINALIZER not in finalizers:
            return
        entries = ((item.get("status") or {}).get("inventory") or {}).get("entries") or []
        self.controllers.stop()
        crds = [_from_inventory(e) for e in entries if _from_inventory(e)[3] == "CustomResourceDefinition"]
        for _namespace, name, _group, _kind, _version in crds:
            crd = self.api.call("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            if crd:
                self._drop_finalizers(crd)
        for entry in entries:
            if _from_inventory(entry)[3] != "CustomResourceDefinition":
                self._delete_entry(entry)
        for _namespace, name, _group, _kind, _version in crds:
            self.api.call("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        # as the operator does, wait until the CRDs are gone (their objects with them) before letting the instance go
        deadline = time.monotonic() + UNINSTALL_WAIT_S
        for _namespace, name, _group, _kind, _version in crds:
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            while self.api.call("GET", path) is not None and time.monotonic() < deadline:
                time.sleep(0.5)
        self._patch(item, {"metadata": {"finalizers": [f for f in finalizers if f != FINALIZER]}})
        self.attempts.pop(item["metadata"]["uid"], None)
        print(f"{_now()} {item['metadata']['namespace']}/{item['metadata']['name']}: uninstalled", flush=True)

    def _drop_finalizers(self, crd: dict[str, Any]) -> None:
        """Every object of the CRD loses its finalizers (no controller is left to remove them)."""
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            base = f"/apis/{spec['group']}/{version['name']}"
            for obj in (self._list(f"{base}/{spec['names']['plural']}") or {}).get("items") or []:
                if obj["metadata"].get("finalizers"):
                    path = f"{base}/namespaces/{obj['metadata']['namespace']}/{spec['names']['plural']}"
                    self.api.call(
                        "PATCH",
                        f"{path}/{obj['metadata']['name']}",
                        {"metadata": {"finalizers": None}},
                        "application/merge-patch+json",
                    )
            break

    def _list(self, path: str, tries: int = 20) -> Any:
        """A list, waited for while kube-apiserver answers 429 (a CRD's storage re-initialising after an update)."""
        for attempt in range(tries):
            try:
                return self.api.call("GET", path)
            except urllib.error.HTTPError as error:
                if error.code != 429 or attempt == tries - 1:
                    raise
                time.sleep(0.5)
        return None

    # --- writing -----------------------------------------------------------------------------------------------

    @staticmethod
    def _path(item: dict[str, Any]) -> str:
        return f"/apis/{GROUP}/v1/namespaces/{item['metadata']['namespace']}/fluxinstances/{item['metadata']['name']}"

    def _patch(self, item: dict[str, Any], patch: dict[str, Any]) -> None:
        self.api.call("PATCH", self._path(item), patch, "application/merge-patch+json")

    def _set_fields(self, item: dict[str, Any], fields: dict[str, Any]) -> None:
        status = item.get("status") or {}
        changed = {key: value for key, value in fields.items() if status.get(key) != value}
        if changed:
            self.api.call("PATCH", self._path(item) + "/status", {"status": changed}, "application/merge-patch+json")
            item.setdefault("status", {}).update(changed)

    def _set_status(
        self,
        item: dict[str, Any],
        ready: str,
        reason: str,
        message: str,
        reconciling: bool = False,
        stalled: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Ready (and Reconciling, Stalled as the operator keeps them), written only when something changed."""
        generation = item["metadata"].get("generation", 1)
        old = list((item.get("status") or {}).get("conditions") or [])
        wanted = [("Ready", ready, reason, message)]
        if reconciling:
            retry = "ProgressingWithRetry" if ready == "False" else "Progressing"
            wanted.append(("Reconciling", "True", retry, message if ready == "False" else "Reconciliation in progress"))
        if stalled:
            wanted.append(("Stalled", "True", reason, message))
        conditions = []
        for kind, status, why, words in wanted:
            before = next((c for c in old if c.get("type") == kind), None)
            same_status = before is not None and before.get("status") == status
            conditions.append(
                {
                    "type": kind,
                    "status": status,
                    "observedGeneration": generation,
                    "lastTransitionTime": before["lastTransitionTime"] if same_status and before else _now(),
                    "reason": why,
                    "message": words,
                }
            )

        def said(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            keys = ("type", "status", "reason", "message", "observedGeneration")
            return sorted(tuple(c.get(k) for k in keys) for c in found)

        fields: dict[str, Any] = dict(extra or {})
        if said(old) != said(conditions):
            fields["conditions"] = conditions
        self._set_fields(item, fields)

    def _event(self, item: dict[str, Any], kind: str, reason: str, message: str) -> None:
        metadata = item["metadata"]
        seen = (f"{metadata.get('uid', '')}/{metadata.get('generation')}", reason, message)
        if seen in self.reported:
            return
        self.reported.add(seen)
        involved = {
            "apiVersion": f"{GROUP}/v1",
            "kind": "FluxInstance",
            "namespace": metadata["namespace"],
            "name": metadata["name"],
            "uid": metadata.get("uid"),
            "resourceVersion": metadata.get("resourceVersion"),
        }
        post_event(self.api, involved, kind, reason, message, COMPONENT)
        print(f"{_now()} {metadata['namespace']}/{metadata['name']}: {kind} {reason}: {message}", flush=True)


def for_cluster(cluster_dir: Path, log_dir: Path) -> FluxOperator:
    """The stand-in of the cluster in ``cluster_dir``, its controllers the cluster's :class:`flux.Flux`."""
    return FluxOperator(
        stand_in_api(cluster_dir, "flux-operator", USER), flux.Flux(cluster_dir, log_dir, cluster_dir.name), cluster_dir
    )


def main(argv: list[str] | None = None) -> int:
    args = arguments("sandbox.kube.flux_operator", __doc__, argv, "--cluster-dir", "--log-dir")
    exit_on_sigterm()
    operator = for_cluster(args.cluster_dir, args.log_dir)
    errors = (OSError, urllib.error.URLError, ValueError, KeyError, flux.FluxError)
    run_forever(operator.sync, errors, POLL_S, IDLE_POLL_S, busy_after_error=False)


if __name__ == "__main__":
    sys.exit(main())
