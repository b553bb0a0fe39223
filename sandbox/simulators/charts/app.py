"""The chart repository simulator's HTTP side: a Helm chart repository, and helm's and sops's release downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...httpbase import TEXT_PLAIN, HTTPError, Request, Response, SimulatorApp, file_response, route
from .helm_release import HelmDownloads, HelmUnavailable
from .packager import ChartRepository, gateway_api_manifest
from .sops_release import SopsDownloads, SopsUnavailable


class ChartsApp(SimulatorApp):
    name = "charts"
    server_header = "Helm chart repository of stand-in charts (talosforge sandbox)"

    def __init__(self, state_dir: Any, options: dict[str, Any] | None = None) -> None:
        super().__init__(state_dir, options)
        binary = self.options.get("helm_binary")
        self.repository = ChartRepository(self.data_dir / "repository")
        self.helm = HelmDownloads(self.data_dir / "helm", Path(binary) if binary else None)
        sops = self.options.get("sops_binary")
        self.sops = SopsDownloads(Path(sops) if sops else None)
        # the archives are made at the first request that needs them (a reset or a fresh start leaves none)

    @route(("GET", "HEAD"), r"/index\.yaml")
    def index(self, request: Request) -> Response:
        return Response(200, self.repository.refresh(), {"Content-Type": "application/x-yaml"})

    @route(("GET", "HEAD"), r"/charts/(?P<file>[^/]+)")
    def chart(self, request: Request) -> Response:
        path = self.repository.archive(request.params["file"])
        if path is None:
            raise HTTPError(404, f"chart archive {request.params['file']} not found")
        return file_response(request, path, {"Content-Type": "application/gzip"})

    @route(("GET", "HEAD"), r"/gateway-api/(?P<version>[^/]+)/standard-install\.yaml")
    def gateway_api(self, request: Request) -> Response:
        version, manifest = gateway_api_manifest()
        if request.params["version"] != version:
            raise HTTPError(404, f"Gateway API {request.params['version']}: this sandbox serves {version} only")
        return Response(200, manifest, {"Content-Type": "application/octet-stream"})

    @route(("GET", "HEAD"), r"/helm/(?P<file>[^/]+)")
    def helm_download(self, request: Request) -> Response:
        try:
            path, text = self.helm.lookup(request.params["file"])
        except HelmUnavailable as error:
            raise HTTPError(404, str(error)) from None
        if path is None:
            return Response(200, text or b"", {"Content-Type": TEXT_PLAIN})
        return file_response(request, path, {"Content-Type": "application/x-tar"})

    @route(("GET", "HEAD"), r"/sops/releases/download/(?P<version>[^/]+)/(?P<file>[^/]+)")
    def sops_download(self, request: Request) -> Response:
        try:
            path, text = self.sops.lookup(request.params["version"], request.params["file"])
        except SopsUnavailable as error:
            raise HTTPError(404, str(error)) from None
        if path is None:
            return Response(200, text or b"", {"Content-Type": TEXT_PLAIN})
        return file_response(request, path, {"Content-Type": "application/octet-stream"})
