"""Write the planned changelog section and consume the fragments through git (git rm)."""

from __future__ import annotations

from dataclasses import dataclass

from release.ops.files import apply_edit, read_exact
from release.plan import Step
from release.steps import Context


@dataclass
class WriteChangelog:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        plan = ctx.plan
        if ctx.journal.release_commit is not None:
            return True
        assert plan.changelog_file is not None
        edit = plan.edit_for(plan.changelog_file)
        written = read_exact(ctx.project_dir / edit.path) == edit.after
        return written and not any((ctx.project_dir / f).exists() for f in plan.consumed_fragments)

    def run(self, ctx: Context) -> None:
        plan = ctx.plan
        assert plan.changelog_file is not None
        edit = plan.edit_for(plan.changelog_file)
        apply_edit(ctx.project_dir, edit.path, edit.before, edit.after)
        present = [f for f in plan.consumed_fragments if (ctx.project_dir / f).exists()]
        if present:
            ctx.runner.git("rm", "--quiet", "--", *present)
