"""The sha256 manifest of a verified release, kept in the project's state directory
(``.git/release-pipeline/manifests/`` for the project at the repository's root; see
:func:`release.journal.state_dir`), so each project of a repository has its own.

It outlives the journal, so ``release status`` can tell later whether a version is
complete everywhere.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from release.journal import write_atomic
from release.plan import Plan


def manifest_dir(state: Path) -> Path:
    """The manifests of the project whose state directory is ``state``."""
    return state / "manifests"


def write(state: Path, plan: Plan, artifacts: dict[str, str]) -> Path:
    data = {
        "schema": "release-pipeline/manifest",
        "schema_version": 1,
        "project": plan.project,
        "version": str(plan.version),
        "tag": plan.tag,
        "remote": plan.remote,
        "files": dict(sorted(artifacts.items())),
        "publish": plan.to_json()["publish"],
        "forge": plan.to_json()["forge"],
    }
    path = manifest_dir(state) / f"{plan.version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=1) + "\n")
    return path


def remove(state: Path, plan: Plan, artifacts: dict[str, str]) -> bool:
    """Remove the manifest of ``plan``'s version when it lists exactly ``artifacts`` (the
    files this release verified; another release's manifest is kept). Whether it did."""
    path = manifest_dir(state) / f"{plan.version}.json"
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return False
    if not artifacts or files != artifacts:
        return False
    path.unlink()
    with contextlib.suppress(OSError):  # the folder, when that was its only manifest
        path.parent.rmdir()
    return True


def load(state: Path, version: str | None) -> dict[str, Any] | None:
    folder = manifest_dir(state)
    if version is None:
        found = []
        for path in folder.glob("*.json"):
            try:
                found.append((Version(path.stem), path))
            except InvalidVersion:
                continue
        if not found:
            return None
        path = max(found)[1]
    else:
        try:
            path = folder / f"{Version(version)}.json"
        except InvalidVersion:
            from release.errors import UsageError

            raise UsageError(
                f"{version!r} is not a version (PEP 440).", "Give a version, e.g. 1.2.0."
            ) from None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data
