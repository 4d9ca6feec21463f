"""The build stage: the sdist and wheel of the release commit, built into ``dist/``.

How they are built (a clean export of the commit, one isolated environment,
``SOURCE_DATE_EPOCH`` from the commit time) is :mod:`release.ops.build`; this step
builds into a staging directory, moves the files into ``dist/`` and journals their
sha256.  Undone by removing those files (only while they still have that sha256), and
``dist/`` when the release made it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.ops.build import build_artifacts
from release.ops.hashing import all_match, matches, sha256
from release.testhooks import failpoint

if TYPE_CHECKING:
    from release.plan import Step
    from release.steps import Context


@dataclass
class Build:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        return all_match(ctx.project_dir / ctx.plan.dist_dir, ctx.journal.artifacts)

    def run(self, ctx: Context) -> None:
        staging = ctx.state_dir / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        assert ctx.journal.release_commit is not None
        built = build_artifacts(ctx.runner, ctx.journal.release_commit, staging)
        failpoint(self.step.id, "during")  # tests: e.g. the disk fills before dist/ is touched
        dist = ctx.project_dir / ctx.plan.dist_dir
        dist.mkdir(parents=True, exist_ok=True)
        artifacts = {}
        for path in built:
            artifacts[path.name] = sha256(path)
            shutil.move(str(path), dist / path.name)  # same file system: a rename
        shutil.rmtree(staging, ignore_errors=True)
        ctx.journal.artifacts = artifacts

    def undo(self, ctx: Context) -> None:
        dist = ctx.project_dir / ctx.plan.dist_dir
        removed, kept = [], []
        for name, digest in sorted(ctx.journal.artifacts.items()):
            path = dist / name
            if matches(path, digest):
                path.unlink()
                removed.append(f"{ctx.plan.dist_dir}/{name}")
            elif path.exists():
                kept.append(f"{ctx.plan.dist_dir}/{name}")
        ctx.journal.artifacts = {}
        made_dist = not ctx.journal.dist_existed and dist.is_dir() and not any(dist.iterdir())
        if made_dist:
            dist.rmdir()
        # What a build stopped half-way leaves: its staging directory, and the git worktree
        # of its export, once that is gone.
        shutil.rmtree(ctx.state_dir / "staging", ignore_errors=True)
        ctx.runner.git("worktree", "prune")
        if removed:
            also = f" and {ctx.plan.dist_dir}/, which the release made" if made_dist else ""
            ctx.log(f"removed {', '.join(removed)}{also}.")
        if kept:
            ctx.log(f"kept {', '.join(kept)}: not the file the release built (another sha256).")
