"""Write the planned changelog section, remove the consumed fragments, and stage both
with git (the planned ``git add --all``), so the release commit takes them.  Undone by
putting the news file and the fragments back as the start commit has them."""

from __future__ import annotations

from dataclasses import dataclass

from release import commands
from release.ops.files import apply_edit, read_exact
from release.plan import Step
from release.steps import Context, undo_uncommitted


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
        if not written or any((ctx.project_dir / f).exists() for f in plan.consumed_fragments):
            return False
        # Staged: the index holds the news file and none of the fragments.
        listed = ctx.runner.git("ls-files", "-z", "--", edit.path, *plan.consumed_fragments)
        return set(filter(None, listed.stdout.split("\0"))) == {edit.path}

    def run(self, ctx: Context) -> None:
        plan = ctx.plan
        assert plan.changelog_file is not None
        edit = plan.edit_for(plan.changelog_file)
        apply_edit(ctx.project_dir, edit.path, edit.before, edit.after)
        for fragment in plan.consumed_fragments:
            (ctx.project_dir / fragment).unlink(missing_ok=True)
        ctx.runner.run(commands.stage_changelog(plan))

    def undo(self, ctx: Context) -> None:
        assert ctx.plan.changelog_file is not None
        undo_uncommitted(ctx, [ctx.plan.changelog_file, *ctx.plan.consumed_fragments])
