"""The programs built from Go modules: what each is, how it is compiled, and where the sandbox finds it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import REPO_ROOT

GOTOOLS_DIR = Path(__file__).resolve().parent
BIN_DIR_ENV = "TALOSFORGE_GOTOOLS_BIN"


class MissingProgram(RuntimeError):
    """A program the sandbox needs has not been built."""


def _kube_version_ldflags(version: str) -> list[str]:
    # /version must report the real release (helm's kubeVersion checks and Ansible's version checks read it).
    major, minor = version.lstrip("v").split(".")[:2]
    flags = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return flags


def _helm_version_ldflags(version: str) -> list[str]:
    return [
        f"-X helm.sh/helm/v4/internal/version.version={version}",
        "-X helm.sh/helm/v4/internal/version.gitTreeState=clean",
    ]


def _age_version_ldflags(version: str) -> list[str]:
    return [f"-X main.Version={version}"]


@dataclass(frozen=True)
class Program:
    """One binary: the family (wrapper module folder), the package it builds and the module whose version it is."""

    name: str
    family: str
    package: str
    module: str
    tier: int = 1
    tags: tuple[str, ...] = ()
    ldflags: object = None  # callable(version) -> list[str]
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def module_dir(self) -> Path:
        return GOTOOLS_DIR / self.family


_KUBE_TAGS = ("selinux", "notest", "grpcnotrace")

# Tier 3 (in scripts/test's default build; TALOSFORGE_GOTOOLS_TIER=2 leaves it out): the GitOps stage's real programs,
# about 40 min cold on 2 cores.
# Each Flux controller has its own wrapper, since their go.mods pick different k8s.io releases (sandbox-flux.md).
# None of them takes a version through ldflags except age-keygen (sops carries its version as a constant).
_FLUX_PROGRAMS = (
    Program(
        "source-controller",
        "flux-source",
        "github.com/fluxcd/source-controller",
        "github.com/fluxcd/source-controller",
        tier=3,
    ),
    Program(
        "kustomize-controller",
        "flux-kustomize",
        "github.com/fluxcd/kustomize-controller",
        "github.com/fluxcd/kustomize-controller",
        tier=3,
    ),
    Program(
        "helm-controller", "flux-helm", "github.com/fluxcd/helm-controller", "github.com/fluxcd/helm-controller", tier=3
    ),
    Program("sops", "sops", "github.com/getsops/sops/v3/cmd/sops", "github.com/getsops/sops/v3", tier=3),
    Program(
        "age-keygen", "sops", "filippo.io/age/cmd/age-keygen", "filippo.io/age", tier=3, ldflags=_age_version_ldflags
    ),
)

PROGRAMS: dict[str, Program] = {
    program.name: program
    for program in (
        Program("etcd", "etcd", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/server/v3"),
        Program("etcdctl", "etcd", "go.etcd.io/etcd/etcdctl/v3", "go.etcd.io/etcd/etcdctl/v3"),
        Program("etcdutl", "etcd", "go.etcd.io/etcd/etcdutl/v3", "go.etcd.io/etcd/etcdutl/v3"),
        Program(
            "kube-apiserver",
            "kube",
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes",
            tags=_KUBE_TAGS,
            ldflags=_kube_version_ldflags,
        ),
        Program("helm", "helm", "helm.sh/helm/v4/cmd/helm", "helm.sh/helm/v4", ldflags=_helm_version_ldflags),
        Program("talos-config", "talos", ".", "github.com/siderolabs/talos/pkg/machinery"),
        Program(
            "kube-controller-manager",
            "kube",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            "k8s.io/kubernetes",
            tier=2,
            tags=_KUBE_TAGS,
            ldflags=_kube_version_ldflags,
        ),
        Program(
            "kube-scheduler",
            "kube",
            "k8s.io/kubernetes/cmd/kube-scheduler",
            "k8s.io/kubernetes",
            tier=2,
            tags=_KUBE_TAGS,
            ldflags=_kube_version_ldflags,
        ),
        Program("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok", "sigs.k8s.io/kwok", tier=2),
        *_FLUX_PROGRAMS,
    )
}


def bin_dir() -> Path:
    """Where built programs live: $TALOSFORGE_GOTOOLS_BIN, else <repo>/.build/gotools/bin (ignored by git)."""
    return Path(os.environ.get(BIN_DIR_ENV) or REPO_ROOT / ".build" / "gotools" / "bin")


def binary(name: str) -> Path:
    """The path of a built program, or MissingProgram saying how to build it."""
    if name not in PROGRAMS:
        raise KeyError(f"unknown Go program {name!r} (known: {', '.join(PROGRAMS)})")
    path = bin_dir() / name
    if not os.access(path, os.X_OK):
        raise MissingProgram(
            f"{name} is not built ({path} is missing): run `python -m sandbox.gotools build {name}` "
            "(scripts/test and scripts/sandbox-site do it)"
        )
    return path
