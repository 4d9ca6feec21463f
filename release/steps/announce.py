"""The announce stage: a release on the configured forge for the tag, in three steps
(draft, attach, publish), each one probe and one side effect, so a release is never
public without its files.  Idempotent: an existing release is completed, never
duplicated.  The forge is reached through the Forge protocol (release.forges)."""

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


def announcement(ctx: Context) -> Announcement:
    plan = ctx.plan
    assert plan.forge is not None
    return Announcement(
        tag=plan.tag,
        title=plan.tag,
        # The same notes whether rendered now (release run) or read back (release ci).
        notes=plan.changelog.rstrip("\n") + "\n",
        draft=plan.forge.draft,
        prerelease=plan.version.is_prerelease,
        latest=plan.marks_latest,
    )


@dataclass
class _AnnounceStep:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        raise NotImplementedError

    def run(self, ctx: Context) -> None:
        raise NotImplementedError

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, "it announces a release that is already public.")

    def _config(self, ctx: Context) -> ForgeConfig:
        assert ctx.plan.forge is not None
        return ctx.plan.forge

    def _forge(self, ctx: Context) -> Forge:
        return connect(self._config(ctx), ctx.environ, ctx.runner.secrets)

    def _release(self, ctx: Context, forge: Forge) -> ForgeRelease:
        """The release the draft step made; an error when it was deleted since."""
        release = forge.find(ctx.plan.tag)
        if release is None:
            raise ReleaseError(
                f"The {forge.title} release {ctx.plan.tag} is gone (deleted after the draft "
                "step made it, before it was published).",
                "Run release resume: the draft step makes it again.",
            )
        return release


class DraftRelease(_AnnounceStep):
    """The release exists (as a draft until published) and says what the plan says."""

    def is_done(self, ctx: Context) -> bool:
        forge = self._forge(ctx)
        release = forge.find(ctx.plan.tag)
        return release is not None and forge.matches(release, announcement(ctx))

    def run(self, ctx: Context) -> None:
        forge = self._forge(ctx)
        want = announcement(ctx)
        release = forge.find(ctx.plan.tag)
        if release is None:
            forge.create_draft(want)
        else:
            forge.update(release, want)  # notes may change even on a sealed release


class AttachFiles(_AnnounceStep):
    """Every verified artifact is on the release, read back by digest."""

    def is_done(self, ctx: Context) -> bool:
        forge = self._forge(ctx)
        release = forge.find(ctx.plan.tag)
        if release is None:
            return False
        states = forge.file_states(release, ctx.journal.artifacts)
        return all(state == PRESENT for state, _asset in states.values())

    def run(self, ctx: Context) -> None:
        """Upload what is missing; whether an upload happened is read back, never guessed
        from an error (an answer can be lost after the forge stored the file)."""
        forge = self._forge(ctx)
        release = self._release(ctx, forge)
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
                    f"Delete those files on {forge.title} if they are wrong, then run "
                    "release resume.",
                )
            todo = sorted(
                ((n, a) for n, (s, a) in states.items() if s != PRESENT), key=lambda t: t[0]
            )
            if not todo:
                return
            if forge.is_sealed(release):
                raise _sealed(ctx, forge, [name for name, _asset in todo])
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            for name, broken in todo:
                if broken is not None:
                    forge.detach(broken)
                try:
                    forge.attach(release, dist / name)
                except ForgeError as exc:
                    if not (exc.uncertain or exc.status in (409, 422)):
                        raise
                    last = exc
            release = self._release(ctx, forge)  # sealed meanwhile?
        assert last is not None
        raise ForgeError(
            f"Attaching the artifacts to the {forge.title} release {ctx.plan.tag} failed "
            f"{UPLOAD_ATTEMPTS} times; last: {last.message}",
            "Run release resume later; what is attached already is kept.",
        )


def _sealed(ctx: Context, forge: Forge, missing: list[str]) -> ReleaseError:
    return ReleaseError(
        f"The {forge.title} release {ctx.plan.tag} is published and immutable, and lacks "
        f"{', '.join(missing)}: it was published before this release attached them (by hand "
        f"or by another tool), and {forge.title} refuses new files on an immutable release "
        "and another release for its tag, so it cannot be completed. The package index has "
        "every file.",
        "Say so in its notes (they can still be edited), then go on without the files: "
        "release resume --skip announce.attach.",
    )


class PublishRelease(_AnnounceStep):
    """The release is public, marked latest only when the plan says so."""

    def is_done(self, ctx: Context) -> bool:
        forge = self._forge(ctx)
        release = forge.find(ctx.plan.tag)
        return release is not None and forge.is_published(release)

    def run(self, ctx: Context) -> None:
        forge = self._forge(ctx)
        forge.publish(self._release(ctx, forge), announcement(ctx))


class EarlierAnnounce(_AnnounceStep):
    """The one announce step of journals written before the stage had three
    (``announce.github-release``): the three in order, so such a release resumes."""

    def _parts(self, ctx: Context) -> list[_AnnounceStep]:
        assert ctx.plan.forge is not None
        parts: list[_AnnounceStep] = [DraftRelease(self.step)]
        if ctx.plan.forge.attach_artifacts:
            parts.append(AttachFiles(self.step))
        if not ctx.plan.forge.draft:
            parts.append(PublishRelease(self.step))
        return parts

    def is_done(self, ctx: Context) -> bool:
        return all(part.is_done(ctx) for part in self._parts(ctx))

    def run(self, ctx: Context) -> None:
        for part in self._parts(ctx):
            if not part.is_done(ctx):
                part.run(ctx)
