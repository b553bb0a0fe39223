"""Packs the stand-in charts into Helm chart archives and writes the repository's index.yaml.

An archive is ``<name>-<version>.tgz`` with every file under ``<name>/``, as ``helm package`` lays it out; it is
made deterministically (sorted entries, fixed times and owners, no gzip timestamp), so the same sources always give
the same bytes and the same digest. Archives and the index are cached in the simulator's data folder and made again
when a source file changes (checked by size and modification time on each request for the index).
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import re
import tarfile
import threading
from pathlib import Path
from typing import Any

import yaml

from .sources import CONTRACTS_DIR, GATEWAY_API_STANDARD, SOURCES, ChartSource

FIXED_MTIME = 1767225600  # 2026-01-01T00:00:00Z, the time recorded for every file in an archive
# templates/<name>.yaml.gotmpl in the repository is templates/<name>.yaml in the chart: Helm templates are not YAML,
# and every .yaml file in the repository is linted as YAML (yamllint, ansible-test sanity)
TEMPLATE_SUFFIX = ".gotmpl"
INDEX_NAME = "index.yaml"
_BUNDLE_VERSION = re.compile(r"^    gateway\.networking\.k8s\.io/bundle-version: (\S+)$", re.MULTILINE)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def chart_files(source: ChartSource) -> list[tuple[str, Path]]:
    """(path inside the chart, source file) for every file of the chart, the contract files included."""
    files = [
        (path.relative_to(source.folder).as_posix().removesuffix(TEMPLATE_SUFFIX), path)
        for path in sorted(source.folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    if source.schema_path is not None:
        files.append(("values.schema.json", source.schema_path))
    prefix = {"crds": "crds", "subchart": "charts/crds/crds", "files": "files/crds"}[source.crds_in]
    for crd in source.crd_paths():
        files.append((f"{prefix}/{crd.parent.name}/{crd.name}", crd))
    return files


def metadata(source: ChartSource) -> dict[str, Any]:
    data = yaml.safe_load((source.folder / "Chart.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("name") != source.name or not data.get("version"):
        raise ValueError(f"{source.folder / 'Chart.yaml'}: needs name {source.name!r} and a version")
    return data


def _subchart_yaml(parent: dict[str, Any]) -> bytes:
    text = yaml.safe_dump(
        {
            "apiVersion": "v2",
            "name": "crds",
            "version": str(parent["version"]),
            "description": f"The CRDs of the {parent['name']} stand-in chart (talosforge sandbox), enabled by "
            "crds.enabled like upstream's crds subchart.",
        },
        sort_keys=False,
    )
    return text.encode("utf-8")


def package(source: ChartSource) -> tuple[str, bytes]:
    """(archive file name, archive bytes) of one chart."""
    meta = metadata(source)
    members = [(f"{source.name}/{inside}", path.read_bytes(), 0o644) for inside, path in chart_files(source)]
    if source.crds_in == "subchart" and source.crds:
        members.append((f"{source.name}/charts/crds/Chart.yaml", _subchart_yaml(meta), 0o644))
    members.sort(key=lambda member: member[0])
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, data, mode in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), mode, FIXED_MTIME
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                archive.addfile(info, io.BytesIO(data))
    return f"{source.name}-{meta['version']}.tgz", buffer.getvalue()


def _stamp(source: ChartSource) -> list[list[Any]]:
    stamp: list[list[Any]] = []
    for inside, path in chart_files(source):
        status = path.stat()
        stamp.append([inside, status.st_size, status.st_mtime_ns])
    return stamp


class ChartRepository:
    """The packaged charts and their index under ``root`` (``<state>/charts/repository``)."""

    def __init__(self, root: Path, sources: dict[str, ChartSource] | None = None) -> None:
        self.root = root
        self.sources = dict(sources or SOURCES)
        self._lock = threading.Lock()

    @property
    def _state_file(self) -> Path:
        return self.root / "built.json"

    def refresh(self) -> bytes:
        """The index.yaml bytes, after re-packing every chart whose sources changed since it was packed."""
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                built = json.loads(self._state_file.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                built = {}
            changed = False
            for name, source in self.sources.items():
                stamp = _stamp(source)
                record = built.get(name)
                if record and record["stamp"] == stamp and (self.root / record["file"]).is_file():
                    continue
                file_name, data = package(source)
                digest = hashlib.sha256(data).hexdigest()
                if not record or record["digest"] != digest or not (self.root / record["file"]).is_file():
                    if record and record["file"] != file_name:
                        (self.root / record["file"]).unlink(missing_ok=True)
                    _write(self.root / file_name, data)
                    record = {"file": file_name, "digest": digest, "created": _now()}
                built[name] = {**record, "stamp": stamp}
                changed = True
            index = self.root / INDEX_NAME
            if changed or not index.is_file():
                _write(index, self._index(built).encode("utf-8"))
                _write(self._state_file, json.dumps(built, indent=1).encode("utf-8"))
            return index.read_bytes()

    def _index(self, built: dict[str, Any]) -> str:
        entries: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(self.sources):
            record = built[name]
            entry = dict(metadata(self.sources[name]))
            entry.update(created=record["created"], digest=record["digest"], urls=[f"charts/{record['file']}"])
            entries[name] = [entry]
        index = {"apiVersion": "v1", "entries": entries, "generated": max(r["created"] for r in built.values())}
        return yaml.safe_dump(index, sort_keys=True)

    def archive(self, file_name: str) -> Path | None:
        """The packed archive called ``file_name`` (after a refresh), or None."""
        self.refresh()
        path = self.root / file_name
        return path if "/" not in file_name and file_name.endswith(".tgz") and path.is_file() else None


def gateway_api_manifest() -> tuple[str, bytes]:
    """(version, bytes) of the Gateway API standard channel's release manifest, made from the contract CRDs.

    The version is the ``gateway.networking.k8s.io/bundle-version`` the files carry. The release's own
    standard-install.yaml holds the same CRDs, one YAML document each.
    """
    documents, versions = [], set()
    for crd in GATEWAY_API_STANDARD:
        text = (CONTRACTS_DIR / "crds" / crd).read_text(encoding="utf-8")
        found = _BUNDLE_VERSION.search(text)
        versions.add(found.group(1) if found else f"none in {crd}")
        documents.append(text.removeprefix("---\n"))
    if len(versions) != 1:
        raise ValueError(f"the Gateway API contract CRDs are of several releases: {sorted(versions)}")
    (version,) = versions
    header = f"# Gateway API {version}, standard channel: its CRDs (talosforge sandbox, from tests/contracts/crds)\n"
    return version, (header + "".join(f"---\n{document}" for document in documents)).encode("utf-8")


def _write(target: Path, data: bytes) -> None:
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(target)
