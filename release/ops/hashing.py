"""sha256 of files, and whether files on disk are the ones a release recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def matches(path: Path, digest: str) -> bool:
    """Whether ``path`` is a file whose sha256 is ``digest``."""
    return path.is_file() and sha256(path) == digest


def all_match(folder: Path, digests: Mapping[str, str]) -> bool:
    """Whether ``digests`` (file name -> sha256) names at least one file and each of them
    is in ``folder`` with its sha256."""
    return bool(digests) and all(matches(folder / name, d) for name, d in digests.items())
