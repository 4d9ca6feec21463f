"""The build stage: the sdist and wheel of the release commit, built into ``dist/``.

How they are built (a clean export of the commit, one isolated environment,
``SOURCE_DATE_EPOCH`` from the commit time) is :mod:`release.ops.build`; this step
builds into a staging directory, moves the files into ``dist/`` and journals their
sha256.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.ops.build import build_artifacts
from release.ops.hashing import all_match, sha256
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
