"""``release status [VERSION]``: is a release complete everywhere?

Tag on the remote, each file of the manifest on each target with the manifest's
sha256, and the forge's release with its assets: asked through the same probes the
publish and announce steps decide by, so the states are theirs. Read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.errors import CommandError, UsageError
from release.ops import CONFLICTING, MISSING, PRESENT
from release.runner import Runner


@dataclass(frozen=True)
class Row:
    where: str
    item: str
    state: str  # a probe's state (release.ops: present, missing, ...) or "unknown: ..."

    @property
    def ok(self) -> bool:
        return self.state == PRESENT


def status(project_dir: Path, version: str | None) -> tuple[dict[str, Any], list[Row]]:
    from release import manifest
    from release.journal import project_state_dir

    runner = Runner(project_dir)
    data = manifest.load(project_state_dir(runner), version)
    if data is None:
        which = version or "any version"
        raise UsageError(
            f"No verified release manifest for {which} of this project.",
            "release status knows the versions this repository released with "
            "release run (or release ci).",
        )
    rows = [_tag_row(runner, data)]
    rows += _target_rows(data)
    rows += _wheel_rows(project_dir, data)
    rows += _forge_rows(data)
    return data, rows


def _tag_row(runner: Runner, data: dict[str, Any]) -> Row:
    """The tag on the remote: present when it is the local tag object."""
    from release.ops.git import remote_refs

    tag_ref = f"refs/tags/{data['tag']}"
    try:
        remote_sha = remote_refs(runner, data["remote"], tag_ref).get(tag_ref)
    except CommandError:
        return Row(data["remote"], data["tag"], "unknown: remote unreadable")
    local = runner.git("rev-parse", "--verify", "--quiet", tag_ref, check=False).stdout.strip()
    if remote_sha is None:
        return Row(data["remote"], data["tag"], MISSING)
    return Row(data["remote"], data["tag"], PRESENT if remote_sha == local else CONFLICTING)


def _target_rows(data: dict[str, Any]) -> list[Row]:
    """Each file on each publish target, read through the Target protocol
    (release.targets) like the publish step."""
    from release.config import Target
    from release.targets import connect

    rows = []
    for t in data["publish"]:
        target = connect(Target.from_dict(t), data["project"], os.environ)
        rows += [
            Row(target.name, name, state) for name, state in target.state(data["files"]).items()
        ]
    return rows


def _wheel_rows(project_dir: Path, data: dict[str, Any]) -> list[Row]:
    """Each expected wheel (``wheels``, or derived from ``[tool.cibuildwheel]``) on each
    publish target: present when a file of the version there matches its pattern."""
    from packaging.version import Version

    from release.ci import expected_wheels
    from release.config import Target
    from release.errors import ReleaseError
    from release.targets import connect
    from release.wheels import compare

    try:
        patterns = expected_wheels(project_dir, os.environ).patterns
    except ReleaseError:
        return []  # the configuration's own error is for the commands that use it
    rows = []
    for t in data["publish"] if patterns else []:
        target = connect(Target.from_dict(t), data["project"], os.environ)
        seen = target.survey(Version(data["version"]))
        found = compare(seen.files_of_version, patterns)
        for pattern, names in found.matched.items():
            state = f"unknown: {seen.error}" if seen.error else PRESENT if names else MISSING
            rows.append(Row(target.name, f"wheel {pattern}", state))
    return rows


def _forge_rows(data: dict[str, Any]) -> list[Row]:
    """The forge's release of the tag, and each file attached to it, read through the
    Forge protocol (release.forges) like the announce step."""
    found = data.get("forge")
    if not found:
        return []
    from release.config import Forge as ForgeConfig
    from release.forges import ForgeError, connect, state, token

    config = ForgeConfig.from_dict(found)
    item = f"release {data['tag']}"
    if not token(config, os.environ):
        return [
            Row(
                f"{config.kind} {config.repository}",
                item,
                f"unknown: {config.token_env} is not set",
            )
        ]
    try:
        forge = connect(config, os.environ)
    except ForgeError as exc:
        return [Row(f"{config.kind} {config.repository}", item, f"unknown: {exc.message}")]
    try:
        rows = state(forge, data["tag"], data["files"], config)
    except ForgeError as exc:
        return [Row(forge.where, item, f"unknown: {exc.message}")]
    return [Row(forge.where, name, s) for name, s in rows]
