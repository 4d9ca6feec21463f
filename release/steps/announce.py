"""The announce stage: a GitHub release for the tag, notes from the changelog section,
artifacts attached.  Idempotent: an existing release is completed, never duplicated."""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass
from typing import Any

from release.config import Forge
from release.errors import ReleaseError
from release.forge import ForgeError, GitHub
from release.ops import CONFLICTING, PRESENT
from release.plan import Step
from release.steps import Context

UPLOAD_ATTEMPTS = 4


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
        # The same notes whether rendered now (release run) or read back (release ci).
        "body": plan.changelog.rstrip("\n") + "\n",
        "draft": forge.draft,
        "prerelease": plan.version.is_prerelease,
    }


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
        states = gh.asset_states(release, ctx.journal.artifacts) if forge.attach_artifacts else {}
        return same and all(state == PRESENT for state, _asset in states.values())

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
        self._attach(ctx, gh, release)

    def _attach(self, ctx: Context, gh: GitHub, release: dict[str, Any]) -> None:
        """Upload what is missing; whether an upload happened is read back, never guessed
        from an error (an answer can be lost after GitHub stored the file)."""
        dist = ctx.project_dir / ctx.plan.dist_dir
        last: ForgeError | None = None
        for attempt in range(UPLOAD_ATTEMPTS):
            states = gh.asset_states(release, ctx.journal.artifacts)
            conflicts = sorted(n for n, (s, _) in states.items() if s == CONFLICTING)
            if conflicts:
                raise ReleaseError(
                    f"The GitHub release {ctx.plan.tag} already has {', '.join(conflicts)} with "
                    "different content than this release's verified artifacts.",
                    "Delete those assets on GitHub if they are wrong, then run release resume.",
                )
            todo = sorted((n, a) for n, (s, a) in states.items() if s != PRESENT)
            if not todo:
                return
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            for name, broken in todo:
                if broken is not None:
                    gh.delete_asset(int(broken["id"]))
                kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                if name.endswith(".whl"):
                    kind = "application/zip"
                try:
                    gh.upload_asset(release, name, (dist / name).read_bytes(), kind)
                except ForgeError as exc:
                    if not (exc.uncertain or exc.status == 422):
                        raise
                    last = exc
        assert last is not None
        raise ForgeError(
            f"Attaching the artifacts to the GitHub release {ctx.plan.tag} failed "
            f"{UPLOAD_ATTEMPTS} times; last: {last.message}",
            "Run release resume later; what is attached already is kept.",
        )
