"""Project files as a plan saw them: read exactly, and replaced only when unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from release.errors import ReleaseError


def read_exact(path: Path) -> str | None:
    """The text of ``path`` with its line endings as they are; None when it does not exist."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def apply_edit(root: Path, path: str, before: str | None, after: str) -> None:
    """Make ``root/path`` hold ``after`` when it holds ``before`` (None: it does not exist),
    atomically and keeping its mode; nothing to do when it holds ``after`` already."""
    from release.journal import write_atomic  # read_exact, on the read-only path, needs none

    current = read_exact(root / path)
    if current == after:
        return
    if current != before:
        raise ReleaseError(
            f"{path} changed since the release was planned, so the planned edit cannot "
            "be applied safely.",
            "Undo that change (or run release abort), then run release again.",
        )
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode if target.exists() else None
    write_atomic(target, after)
    if mode is not None:
        os.chmod(target, mode)
