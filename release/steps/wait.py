"""In a release of several packages: before a dependent is uploaded, wait until every
target serves the new files of a package it depends on, so that installing the
dependent from the index never fails for want of its dependency (docs/monorepo.md)."""

from __future__ import annotations

from dataclasses import dataclass

from release.ops import PRESENT
from release.plan import Step
from release.steps import Context, never_undone
from release.targets import Target, TargetError, connect


@dataclass
class WaitForDependency:
    step: Step

    def _targets(self, ctx: Context) -> tuple[dict[str, str], list[Target]]:
        assert ctx.workspace is not None, "a step of a release of several packages"
        member = ctx.workspace.member(self.step.path)
        files = ctx.journal.of_package(member.name).artifacts
        targets = [
            connect(t, member.plan.project, ctx.environ, ctx.runner.secrets, ctx.log)
            for t in member.plan.targets
        ]
        return files, targets

    def is_done(self, ctx: Context) -> bool:
        files, targets = self._targets(ctx)
        try:
            return all(all(s == PRESENT for s in t.probe(files).values()) for t in targets)
        except TargetError:
            return False

    def run(self, ctx: Context) -> None:
        files, targets = self._targets(ctx)
        for target in targets:
            # confirm() reads the simple page afresh, with growing waits, for a while.
            states = target.confirm(files)
            missing = sorted(name for name, state in states.items() if state != PRESENT)
            if missing:
                raise TargetError(
                    f"{target.name} does not serve {self.step.path}'s {', '.join(missing)} yet, "
                    "so its dependents are not uploaded.",
                    "Check the index, then run release resume: it waits again.",
                )

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, "it follows the push, which is public.")
