"""``gen secrets``, ``gen config`` and ``validate``: offline commands, no node involved."""

from __future__ import annotations

import os
from pathlib import Path

from . import canonical, machineconfig, patches, secrets, validation, yamlio
from .errors import TalosctlError, multierror
from .runtime import Runtime

OUTPUT_TYPES = ("controlplane", "worker", "talosconfig")


def _talos_version(rt: Runtime) -> tuple[int, int] | None:
    text = rt.flag("talos-version")
    if not text:
        return None
    try:
        return machineconfig.parse_talos_version(text)
    except ValueError as error:
        raise TalosctlError(str(error)) from None


def _check_absent(rt: Runtime, destination: str) -> None:
    if not rt.flag("force") and rt.path(destination).exists():
        raise TalosctlError(f'file "{destination}" already exists, use --force to overwrite')


def _write(rt: Runtime, destination: str, text: str, mode: int, announce: bool) -> None:
    if destination == "-":
        rt.out.write(text)
        return
    _check_absent(rt, destination)
    path = rt.path(destination)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    if announce:
        rt.info(f"Created {destination}")


def gen_secrets(rt: Runtime) -> None:
    for unsupported in ("from-controlplane-config", "from-kubernetes-pki"):
        if rt.flag(unsupported):
            raise TalosctlError(f"--{unsupported} is not implemented by the talosforge sandbox stand-in")
    _talos_version(rt)
    bundle = secrets.generate()
    token = rt.flag("kubernetes-bootstrap-token")
    if token:
        if not validation.TOKEN_PATTERN.match(token):
            raise TalosctlError(f'failed to create secrets bundle: invalid bootstrap token "{token}"')
        bundle.bootstrap_token = token
    _write(rt, rt.flag("output-file") or "secrets.yaml", bundle.to_yaml(), 0o600, announce=False)


def _output_paths(rt: Runtime, types: list[str]) -> dict[str, str]:
    output = rt.flag("output")
    if output == "-":
        return dict.fromkeys(types, "-")
    if not output:
        return {kind: str(rt.cwd / ("talosconfig" if kind == "talosconfig" else f"{kind}.yaml")) for kind in types}
    if len(types) == 1:
        return {types[0]: output}
    return {kind: os.path.join(output, "talosconfig" if kind == "talosconfig" else f"{kind}.yaml") for kind in types}


def _options(rt: Runtime, version: tuple[int, int] | None) -> machineconfig.Options:
    mirrors = []
    for spec in rt.flag("registry-mirror"):
        host, separator, url = spec.partition("=")
        if not separator:
            raise TalosctlError(f'invalid registry mirror spec: "{spec}"')
        mirrors.append((host, url))
    return machineconfig.Options(
        cluster_name=rt.args[0],
        endpoint=rt.args[1],
        kubernetes_version=str(rt.flag("kubernetes-version")).lstrip("v"),
        install_disk=rt.flag("install-disk"),
        install_image=rt.flag("install-image"),
        additional_sans=list(rt.flag("additional-sans")),
        dns_domain=rt.flag("dns-domain"),
        discovery=rt.flag("with-cluster-discovery"),
        kubespan=rt.flag("with-kubespan"),
        registry_mirrors=mirrors,
        talos_version=version or (1, 13),
    )


def gen_config(rt: Runtime) -> None:
    problem = machineconfig.endpoint_problem(rt.args[1])
    if problem:
        raise TalosctlError(problem)
    if rt.flag("version") != "v1alpha1":
        raise TalosctlError(f'unknown config version: "{rt.flag("version")}"')
    types = list(rt.flag("output-types"))
    if not types:
        raise TalosctlError("at least one output type must be specified")
    if len(types) > 1 and rt.flag("output") == "-":
        raise TalosctlError("can't use multiple output types with stdout")
    wrong = [f'invalid output type: "{kind}"' for kind in types if kind not in OUTPUT_TYPES]
    if wrong:
        raise TalosctlError(multierror(wrong))
    version = _talos_version(rt)
    if version is not None and version < (1, 12):
        raise TalosctlError("the talosforge sandbox stand-in generates configs for --talos-version v1.12 and later")
    if rt.flag("with-secrets"):
        try:
            bundle = secrets.load(rt.path(rt.flag("with-secrets")))
        except secrets.SecretsError as error:
            raise TalosctlError(str(error)) from None
    else:
        bundle = secrets.generate()
    options = _options(rt, version)
    rendered: dict[str, str] = {}
    for role in ("controlplane", "worker"):
        if role not in types:
            continue
        documents = machineconfig.generate(bundle, options, role)
        role_patches = rt.flag("config-patch-control-plane" if role == "controlplane" else "config-patch-worker")
        try:
            documents = patches.apply(documents, [*rt.flag("config-patch"), *role_patches])
        except (patches.PatchError, yamlio.YAMLError) as error:
            raise TalosctlError(str(error)) from None
        found = validation.problems(documents, mode="metal", installed=True)
        if found:
            raise TalosctlError("failed to generate config bundle: " + multierror(found))
        rendered[role] = canonical.encode(documents)
    if "talosconfig" in types:
        rendered["talosconfig"] = yamlio.dump(machineconfig.talosconfig(bundle, options.cluster_name))
    for kind, destination in _output_paths(rt, types).items():
        _write(rt, destination, rendered[kind], 0o644, announce=True)


def validate(rt: Runtime) -> None:
    if not rt.given("mode"):
        raise TalosctlError('required flag(s) "mode" not set')
    mode, name = rt.flag("mode"), rt.flag("config")
    if mode not in validation.MODES:
        raise TalosctlError(f'unknown mode: "{mode}"')
    try:
        text = Path(rt.path(name)).read_text(encoding="utf-8")
    except OSError as error:
        raise TalosctlError(f"open {name}: {(error.strerror or str(error)).lower()}") from None
    try:
        documents = yamlio.load_documents(text)
    except yamlio.YAMLError as error:
        raise TalosctlError(str(error)) from None
    found = validation.problems(documents, mode=mode)
    if found:
        raise TalosctlError(multierror(found))
    rt.print(f"{name} is valid for {mode} mode")
