"""What each stand-in chart takes from the contracts: its CRDs and upstream's values.schema.json.

The chart folders in sandbox/charts/ hold only what is ours (Chart.yaml, values.yaml, templates). The CRDs and the
schemas are the upstream files, kept once in the repository under tests/contracts/ (sources in the READMEs there);
the packager copies them into each chart as it builds the archive, in the place upstream's chart keeps them:

- ``crds``: the chart's ``crds/`` folder (Helm installs them before the templates, never upgrades them);
- ``subchart``: the ``crds/`` folder of a subchart ``crds`` enabled by the value ``crds.enabled`` (MetalLB and
  Envoy Gateway ship their CRDs in such a subchart);
- ``files``: ``files/crds/``, rendered by the chart's own template only when ``crds.enabled`` (cert-manager) or
  ``installCRDs`` (flux-operator) is true: those charts render their CRDs from templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...paths import REPO_ROOT

CHARTS_DIR = REPO_ROOT / "sandbox" / "charts"
CONTRACTS_DIR = REPO_ROOT / "tests" / "contracts"

_GATEWAY_API = (
    "gatewayclass",
    "gateway",
    "httproute",
    "grpcroute",
    "referencegrant",
    "backendtlspolicy",
    "listenerset",
    "tlsroute",
    "tcproute",
    "udproute",
)
_ENVOY_GATEWAY = (
    "envoyproxy",
    "backendtrafficpolicy",
    "clienttrafficpolicy",
    "securitypolicy",
    "envoypatchpolicy",
    "envoyextensionpolicy",
    "backend",
    "httproutefilter",
)
_METALLB = (
    "ipaddresspool",
    "l2advertisement",
    "bgpadvertisement",
    "bgppeer",
    "bfdprofile",
    "community",
    "servicel2status",
    "servicebgpstatus",
    "configurationstate",
)


@dataclass(frozen=True)
class ChartSource:
    name: str
    crds: tuple[str, ...] = ()  # paths under tests/contracts/crds/
    crds_in: str = "crds"  # crds | subchart | files (see the module's docstring)
    schema: bool = False  # tests/contracts/charts/<name>/values.schema.json goes in as the chart's schema
    charts_dir: Path = CHARTS_DIR  # where the chart's own folder is (tests point it at a copy)

    @property
    def folder(self) -> Path:
        return self.charts_dir / self.name

    @property
    def schema_path(self) -> Path | None:
        return CONTRACTS_DIR / "charts" / self.name / "values.schema.json" if self.schema else None

    def crd_paths(self) -> list[Path]:
        return [CONTRACTS_DIR / "crds" / crd for crd in self.crds]


def _group(group: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{group}/{kind}.yaml" for kind in kinds)


# The Gateway API release manifest (github.com/kubernetes-sigs/gateway-api/releases/download/<version>/
# standard-install.yaml) is served from the same contract files: the standard channel's CRDs.
GATEWAY_API_STANDARD = _group("gateway.networking.k8s.io", _GATEWAY_API)

SOURCES: dict[str, ChartSource] = {
    source.name: source
    for source in (
        ChartSource(
            "cilium",
            _group("cilium.io", ("ciliumloadbalancerippool", "ciliuml2announcementpolicy")),
            schema=True,
        ),
        ChartSource("metallb", _group("metallb.io", _METALLB), crds_in="subchart", schema=True),
        ChartSource("ingress-nginx"),
        ChartSource(
            "cert-manager",
            _group("cert-manager.io", ("certificate", "certificaterequest", "issuer", "clusterissuer"))
            + _group("acme.cert-manager.io", ("order", "challenge")),
            crds_in="files",
            schema=True,
        ),
        ChartSource("sealed-secrets", _group("bitnami.com", ("sealedsecret",))),
        ChartSource("hcloud-cloud-controller-manager"),
        ChartSource("hcloud-csi", schema=True),
        ChartSource(
            "flux-operator",
            _group("fluxcd.controlplane.io", ("fluxinstance", "fluxreport", "resourceset", "resourcesetinputprovider")),
            crds_in="files",
            schema=True,
        ),
        ChartSource(
            "gateway-helm",
            GATEWAY_API_STANDARD + _group("gateway.envoyproxy.io", _ENVOY_GATEWAY),
            crds_in="subchart",
        ),
    )
}
