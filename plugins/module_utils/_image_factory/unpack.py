# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Unpacking a downloaded .xz or .gz image in bounded memory, atomically, with its SHA-256 computed on the way.

Concatenated streams (and xz stream padding) are followed to the end; a file that is not a valid archive, or that
ends before its stream does, raises ValueError and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import os
import zlib
from collections.abc import Iterator
from typing import Any


def _decompressor(xz: bool) -> Any:
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ) if xz else zlib.decompressobj(16 + zlib.MAX_WBITS)


def _inflate(engine: Any, block: bytes, xz: bool, limit: int) -> Iterator[bytes]:
    """Feed ``block`` to the engine; yield its output in pieces of at most ``limit`` bytes (bounded memory)."""
    if xz:
        yield engine.decompress(block, max_length=limit)
        while not engine.eof and not engine.needs_input:
            yield engine.decompress(b"", max_length=limit)
        return
    while block and not engine.eof:
        yield engine.decompress(block, limit)
        block = engine.unconsumed_tail


def _write(reader: Any, writer: Any, xz: bool, chunk_size: int, hasher: Any) -> bool:
    """Unpack every stream of ``reader`` into ``writer``; return whether the last stream ended."""
    engine = _decompressor(xz)
    for block in iter(lambda: reader.read(chunk_size), b""):
        while block:
            if engine.eof:  # a further concatenated stream, after optional xz stream padding
                block = block.lstrip(b"\0") if xz else block
                if not block:
                    break
                engine = _decompressor(xz)
            for data in _inflate(engine, block, xz, chunk_size):
                hasher.update(data)
                writer.write(data)
            block = engine.unused_data if engine.eof else b""
    return bool(engine.eof)


def unpack(source: str, target: str, chunk_size: int) -> str:
    """Unpack ``source`` (.xz, else gzip) to ``target`` (mode 0600) through ``target.part``; return its sha256.

    Raises ValueError when ``source`` is not a valid archive or is cut short.
    """
    part = target + ".part"
    hasher = hashlib.sha256()
    xz = source.endswith(".xz")
    try:
        with (
            open(source, "rb") as reader,
            os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as writer,
        ):
            if not _write(reader, writer, xz, chunk_size, hasher):
                raise ValueError(f"{source} ends before its compressed stream does (truncated file)")
            writer.flush()
            os.fsync(writer.fileno())
    except (lzma.LZMAError, zlib.error, EOFError) as exc:
        with contextlib.suppress(OSError):
            os.remove(part)
        raise ValueError(f"{source} is not a valid {'xz' if xz else 'gzip'} file: {exc}") from exc
    except ValueError:
        with contextlib.suppress(OSError):
            os.remove(part)
        raise
    os.replace(part, target)
    return hasher.hexdigest()
