"""Verify the artifacts: twine check, metadata name and version equal the plan, hashes; the
sha256 manifest of the verified files.  Undone by removing that manifest."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from release.errors import ReleaseError
from release.ops.build import build_artifacts
from release.ops.dists import identity_problems, twine_check
from release.ops.hashing import all_match, sha256
from release.plan import Plan, Step
from release.steps import Context


class VerifyFailed(ReleaseError):
    exit_code = 1


def metadata_problems(plan: Plan, path: Path) -> list[str]:
    return identity_problems(path, plan.project, plan.version)


@dataclass
class Verify:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        return ctx.journal.steps.get(self.step.id) == "done" and all_match(
            ctx.project_dir / ctx.plan.dist_dir, ctx.journal.artifacts
        )

    def run(self, ctx: Context) -> None:
        dist = ctx.project_dir / ctx.plan.dist_dir
        if not all_match(dist, ctx.journal.artifacts):
            raise VerifyFailed(
                f"The artifacts in {ctx.plan.dist_dir}/ are not the ones this release built "
                "(missing, or a different sha256).",
                "Run release resume to rebuild them.",
            )
        paths = [dist / name for name in sorted(ctx.journal.artifacts)]
        problems: list[str] = []
        report = twine_check(paths)
        if report:
            problems.append(f"twine check failed:\n{report.strip()}")
        for path in paths:
            problems += metadata_problems(ctx.plan, path)
        if ctx.plan.reproducible and not problems:
            problems += _reproduce(ctx)
        if problems:
            raise VerifyFailed(
                "Verifying the artifacts failed:\n  - " + "\n  - ".join(problems),
                "Fix the cause, then run release resume.",
            )
        from release import manifest

        manifest.write(ctx.state_dir, ctx.plan, ctx.journal.artifacts)

    def undo(self, ctx: Context) -> None:
        from release import manifest

        # What a reproducibility check stopped half-way leaves (as a build does).
        shutil.rmtree(ctx.state_dir / "rebuild", ignore_errors=True)
        ctx.runner.git("worktree", "prune")
        if manifest.remove(ctx.state_dir, ctx.plan, ctx.journal.artifacts):
            ctx.log(f"removed the sha256 manifest of {ctx.plan.version}.")


def _reproduce(ctx: Context) -> list[str]:
    again = ctx.state_dir / "rebuild"
    shutil.rmtree(again, ignore_errors=True)
    try:
        assert ctx.journal.release_commit is not None
        built = build_artifacts(ctx.runner, ctx.journal.release_commit, again)
        rebuilt = {p.name: sha256(p) for p in built}
    finally:
        shutil.rmtree(again, ignore_errors=True)
    differ = [
        f"{name}: first build {digest[:16]}..., second build {rebuilt.get(name, 'missing')[:16]}..."
        for name, digest in sorted(ctx.journal.artifacts.items())
        if rebuilt.get(name) != digest
    ]
    return [f"the build is not reproducible: {d}" for d in differ]
