"""``release status [VERSION]``: is a release complete everywhere?

Tag on the remote, each file of the manifest on each target with the manifest's
sha256.  Read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.errors import UsageError
from release.runner import Runner


@dataclass(frozen=True)
class Row:
    where: str
    item: str
    state: str  # "present", "missing", "conflicting", "unknown: ..."

    @property
    def ok(self) -> bool:
        return self.state == "present"


def status(project_dir: Path, version: str | None) -> tuple[dict[str, Any], list[Row]]:
    from release import manifest
    from release.config import Target
    from release.credentials import resolve
    from release.ops.git import find_git_dir
    from release.ops.index import IndexError_, file_sha256, read_files

    runner = Runner(project_dir)
    data = manifest.load(find_git_dir(runner), version)
    if data is None:
        which = version or "any version"
        raise UsageError(
            f"No verified release manifest for {which} in this repository.",
            "release status knows the versions this repository released with "
            "release run (or release ci).",
        )
    rows: list[Row] = []
    tag_ref = f"refs/tags/{data['tag']}"
    done = runner.git("ls-remote", "--", data["remote"], tag_ref, check=False)
    local = runner.git("rev-parse", "--verify", "--quiet", tag_ref, check=False).stdout.strip()
    if done.returncode != 0:
        rows.append(Row(data["remote"], data["tag"], "unknown: remote unreadable"))
    else:
        remote_sha = next(
            (
                line.split("\t")[0]
                for line in done.stdout.splitlines()
                if line.endswith("\t" + tag_ref)
            ),
            None,
        )
        state = (
            "missing"
            if remote_sha is None
            else ("present" if remote_sha == local else "conflicting")
        )
        rows.append(Row(data["remote"], data["tag"], state))
    for t in data["publish"]:
        target = Target.from_dict(t)
        resolved = resolve(target, os.environ)
        creds = resolved.credentials if resolved else None
        try:
            listed = read_files(target.index_url, data["project"], creds)
        except IndexError_ as exc:
            rows += [Row(target.name, name, f"unknown: {exc.message}") for name in data["files"]]
            continue
        for name, digest in data["files"].items():
            entry = listed.get(name)
            if entry is None:
                rows.append(Row(target.name, name, "missing"))
            else:
                same = file_sha256(entry, creds) == digest
                rows.append(Row(target.name, name, "present" if same else "conflicting"))
    rows += _forge_rows(data)
    return data, rows


def _forge_rows(data: dict[str, Any]) -> list[Row]:
    """The GitHub release of the tag, and each file attached to it."""
    forge = data.get("github")
    if not forge:
        return []
    from release.forge import ForgeError, GitHub

    where = f"github {forge['repository']}"
    token = os.environ.get(forge["token_env"], "")
    if not token:
        return [Row(where, f"release {data['tag']}", f"unknown: {forge['token_env']} is not set")]
    gh = GitHub(forge["api_url"], forge["repository"], token)
    try:
        release = gh.release_by_tag(data["tag"])
        if release is None:
            return [Row(where, f"release {data['tag']}", "missing")]
        rows = [Row(where, f"release {data['tag']}", "present")]
        if forge["attach_artifacts"]:
            assets = {a["name"]: a for a in gh.assets(int(release["id"]))}
            for name, digest in data["files"].items():
                asset = assets.get(name)
                if asset is None:
                    state = "missing"
                else:
                    same = gh.asset_sha256(asset) == digest
                    state = "present" if same else "conflicting"
                rows.append(Row(where, name, state))
        return rows
    except ForgeError as exc:
        return [Row(where, f"release {data['tag']}", f"unknown: {exc.message}")]
