"""The root uv.lock in a release of several packages: each released package's own version
entry moved on, in the release commit (or one package at a time, in each package's), and
again for the development versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from release.plan import FileEdit

if TYPE_CHECKING:
    from packaging.version import Version

    from release.workspace.plan import Member


def lock_edits(
    members: Sequence[Member], lock_text: str | None
) -> tuple[list[FileEdit], list[FileEdit]]:
    """The root uv.lock with each released package's own version entry moved on (and, with
    development versions, again after the release)."""
    if lock_text is None:
        return [], []
    after = _locked(lock_text, {m.name: m.plan.version for m in members})
    edits = [FileEdit("uv.lock", lock_text, after)] if after != lock_text else []
    dev_after = _locked(after, {m.name: m.plan.next_dev for m in members if m.plan.next_dev})
    dev = [FileEdit("uv.lock", after, dev_after)] if dev_after != after else []
    return edits, dev


def lock_edits_each(members: Sequence[Member], lock_text: str | None) -> list[tuple[str, FileEdit]]:
    """With one release commit per package: the root uv.lock moved one package at a time,
    in the order of the commits, so that it is right at every tag (package name, edit)."""
    if lock_text is None:
        return []
    found: list[tuple[str, FileEdit]] = []
    text = lock_text
    for member in members:
        after = _locked(text, {member.name: member.plan.version})
        if after != text:
            found.append((member.name, FileEdit("uv.lock", text, after)))
        text = after
    return found


def _locked(text: str, versions: Mapping[str, Version]) -> str:
    """uv.lock ``text`` with the entries of the packages named moved to their versions;
    a package uv locks without a version (a dynamic one) is left as it is."""
    from release.uvlock import moved

    return moved(text, {name: str(version) for name, version in versions.items()})


def read_lock(root: Path) -> str | None:
    """The text of the repository's uv.lock, if it has one: a release moves the versions of
    the packages it releases there too."""
    from release.ops.files import read_exact

    return read_exact(root / "uv.lock")
