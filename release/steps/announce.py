"""The announce stage: a release on the configured forge for the tag, notes from the
changelog section, artifacts attached.  Idempotent: an existing release is completed,
never duplicated.  The forge is reached through the Forge protocol (release.forges)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from release.config import Forge as ForgeConfig
from release.errors import ReleaseError
from release.forges import Announcement, Forge, ForgeError, ForgeRelease, connect
from release.ops import CONFLICTING, PRESENT
from release.plan import Step
from release.steps import Context, never_undone

UPLOAD_ATTEMPTS = 4


def announcement(ctx: Context, config: ForgeConfig) -> Announcement:
    plan = ctx.plan
    return Announcement(
        tag=plan.tag,
        title=plan.tag,
        # The same notes whether rendered now (release run) or read back (release ci).
        notes=plan.changelog.rstrip("\n") + "\n",
        draft=config.draft,
        prerelease=plan.version.is_prerelease,
    )


@dataclass
class Announce:
    step: Step

    def _config(self, ctx: Context) -> ForgeConfig:
        assert ctx.plan.forge is not None
        return ctx.plan.forge

    def is_done(self, ctx: Context) -> bool:
        config = self._config(ctx)
        forge = connect(config, ctx.environ, ctx.runner.secrets)
        release = forge.find(ctx.plan.tag)
        if release is None:
            return False
        same = forge.matches(release, announcement(ctx, config))
        states = (
            forge.file_states(release, ctx.journal.artifacts) if config.attach_artifacts else {}
        )
        return same and all(state == PRESENT for state, _asset in states.values())

    def run(self, ctx: Context) -> None:
        config = self._config(ctx)
        forge = connect(config, ctx.environ, ctx.runner.secrets)
        want = announcement(ctx, config)
        release = forge.find(ctx.plan.tag)
        release = forge.create(want) if release is None else forge.update(release, want)
        if not config.attach_artifacts:
            return
        self._attach(ctx, forge, release)

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, "it announces a release that is already public.")

    def _attach(self, ctx: Context, forge: Forge, release: ForgeRelease) -> None:
        """Upload what is missing; whether an upload happened is read back, never guessed
        from an error (an answer can be lost after the forge stored the file)."""
        dist = ctx.project_dir / ctx.plan.dist_dir
        last: ForgeError | None = None
        for attempt in range(UPLOAD_ATTEMPTS):
            states = forge.file_states(release, ctx.journal.artifacts)
            conflicts = sorted(n for n, (s, _) in states.items() if s == CONFLICTING)
            if conflicts:
                raise ReleaseError(
                    f"The {forge.title} release {ctx.plan.tag} already has "
                    f"{', '.join(conflicts)} with different content than this release's "
                    "verified artifacts.",
                    f"Delete those assets on {forge.title} if they are wrong, then run "
                    "release resume.",
                )
            todo = sorted(
                ((n, a) for n, (s, a) in states.items() if s != PRESENT), key=lambda t: t[0]
            )
            if not todo:
                return
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            for name, broken in todo:
                if broken is not None:
                    forge.detach(broken)
                try:
                    forge.attach(release, dist / name)
                except ForgeError as exc:
                    if not (exc.uncertain or exc.status == 422):
                        raise
                    last = exc
        assert last is not None
        raise ForgeError(
            f"Attaching the artifacts to the {forge.title} release {ctx.plan.tag} failed "
            f"{UPLOAD_ATTEMPTS} times; last: {last.message}",
            "Run release resume later; what is attached already is kept.",
        )
