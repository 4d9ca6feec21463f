"""The announce stage: a GitHub release for the tag, notes from the changelog section,
artifacts attached.  Idempotent: an existing release is completed, never duplicated."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from release.config import Forge
from release.errors import ReleaseError
from release.forge import ForgeError, GitHub
from release.plan import Step
from release.steps import Context


def client(ctx: Context, forge: Forge) -> GitHub:
    token = ctx.environ.get(forge.token_env, "")
    if not token:
        raise ForgeError(
            f"No GitHub token: the environment variable {forge.token_env} is empty.",
            f"Set {forge.token_env} to a token with contents: write.",
        )
    ctx.runner.secrets.append(token)
    return GitHub(forge.api_url, forge.repository, token)


def wanted_fields(ctx: Context, forge: Forge) -> dict[str, Any]:
    plan = ctx.plan
    return {
        "tag_name": plan.tag,
        "name": plan.tag,
        "body": plan.changelog,
        "draft": forge.draft,
        "prerelease": plan.version.is_prerelease,
    }


def asset_states(ctx: Context, gh: GitHub, release: dict[str, Any]) -> dict[str, str]:
    """Each artifact on the release: "present", "missing" or "conflicting"."""
    by_name = {a["name"]: a for a in gh.assets(int(release["id"]))}
    states = {}
    for name, digest in ctx.journal.artifacts.items():
        asset = by_name.get(name)
        if asset is None or asset.get("state") not in (None, "uploaded"):
            states[name] = "missing"
        else:
            states[name] = "present" if gh.asset_sha256(asset) == digest else "conflicting"
    return states


@dataclass
class Announce:
    step: Step

    def _forge(self, ctx: Context) -> Forge:
        assert ctx.plan.forge is not None
        return ctx.plan.forge

    def is_done(self, ctx: Context) -> bool:
        forge = self._forge(ctx)
        gh = client(ctx, forge)
        release = gh.release_by_tag(ctx.plan.tag)
        if release is None:
            return False
        want = wanted_fields(ctx, forge)
        same = all(release.get(k) == v for k, v in want.items() if k != "tag_name")
        states = asset_states(ctx, gh, release) if forge.attach_artifacts else {}
        return same and all(s == "present" for s in states.values())

    def run(self, ctx: Context) -> None:
        forge = self._forge(ctx)
        gh = client(ctx, forge)
        want = wanted_fields(ctx, forge)
        release = gh.release_by_tag(ctx.plan.tag)
        if release is None:
            release = gh.create_release(want)
        elif any(release.get(k) != v for k, v in want.items()):
            release = gh.update_release(
                int(release["id"]), {k: v for k, v in want.items() if k != "tag_name"}
            )
        if not forge.attach_artifacts:
            return
        states = asset_states(ctx, gh, release)
        conflicts = [n for n, s in states.items() if s == "conflicting"]
        if conflicts:
            raise ReleaseError(
                f"The GitHub release {ctx.plan.tag} already has {', '.join(conflicts)} with "
                "different content than this release's verified artifacts.",
                "Delete those assets on GitHub if they are wrong, then run release resume.",
            )
        dist = ctx.project_dir / ctx.plan.dist_dir
        for name, state in sorted(states.items()):
            if state == "missing":
                kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                if name.endswith(".whl"):
                    kind = "application/zip"
                gh.upload_asset(release, name, (dist / name).read_bytes(), kind)
