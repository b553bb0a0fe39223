# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The values files: ``<values_dir>/<namespace>-<name>.yaml``, 0600 in a 0700 folder, written only when changed.

They hold what the last run installed, so that the GitOps stage can hand the same values to Flux, and so that the
next run can tell a hand-made change (the file still matches what is wanted) from a change of ours.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_plan import Release

FILE_MODE = 0o600


class ValuesFileError(InputError):
    """A values file that cannot be read or written."""


class ValuesFiles:
    """The values folder of one run."""

    def __init__(self, folder: str):
        self.folder = os.path.abspath(os.path.expanduser(folder))

    def path(self, release: Release) -> str:
        return os.path.join(self.folder, f"{release.namespace}-{release.name}.yaml")

    def read(self, release: Release) -> str | None:
        """The file's text, or None when there is none."""
        path = self.path(release)
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValuesFileError(f"cannot read the values file of {release.key} ({path}): {exc}") from exc

    def needs_write(self, release: Release) -> bool:
        """Whether the file is missing, holds other text, or is readable by others than its owner."""
        path = self.path(release)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            return True
        except OSError as exc:
            raise ValuesFileError(f"cannot read the values file of {release.key} ({path}): {exc}") from exc
        return mode != FILE_MODE or self.read(release) != release.file_text()

    def write(self, release: Release) -> str:
        """Write the file atomically (0600, folder 0700); its path."""
        path = self.path(release)
        try:
            handle, temporary = scratch.scratch_file(self.folder, "values", ".yaml")
        except OSError as exc:
            raise ValuesFileError(f"cannot write the values file of {release.key} ({path}): {exc}") from exc
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(release.file_text())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, path)
        except OSError as exc:
            raise ValuesFileError(f"cannot write the values file of {release.key} ({path}): {exc}") from exc
        finally:
            scratch.remove(temporary)
        return path
