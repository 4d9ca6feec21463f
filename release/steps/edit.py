"""Write a planned file edit (the plan holds the exact text before and after); undone by
putting the file back as the commit the release started from has it."""

from __future__ import annotations

from dataclasses import dataclass

from release.ops.files import apply_edit, read_exact
from release.plan import FileEdit, Step
from release.steps import Context, never_undone, undo_uncommitted


@dataclass
class EditVersion:
    step: Step
    dev: bool = False

    def _edit(self, ctx: Context) -> FileEdit:
        return ctx.plan.edit_for(self.step.path, dev=self.dev)

    def is_done(self, ctx: Context) -> bool:
        # Once the step's commit exists, the file may legitimately have moved on.
        commit = ctx.journal.dev_commit if self.dev else ctx.journal.release_commit
        if commit is not None:
            return True
        return read_exact(ctx.project_dir / self.step.path) == self._edit(ctx).after

    def run(self, ctx: Context) -> None:
        edit = self._edit(ctx)
        apply_edit(ctx.project_dir, edit.path, edit.before, edit.after)

    def undo(self, ctx: Context) -> None:
        if self.dev:
            raise never_undone(self.step, "it follows the release, which is public.")
        undo_uncommitted(ctx, [self.step.path])


def EditDevVersion(step: Step) -> EditVersion:
    return EditVersion(step, dev=True)


@dataclass
class EditShared:
    """With one release commit per package: the files outside the package that its commit
    takes (its entry in the root uv.lock, its dependents' requirements rewritten), each
    written as planned (paths from the root)."""

    step: Step

    def is_done(self, ctx: Context) -> bool:
        if ctx.journal.release_commit is not None:
            return True
        return all(read_exact(ctx.project_dir / e.path) == e.after for e in ctx.plan.edits)

    def run(self, ctx: Context) -> None:
        for edit in ctx.plan.edits:
            apply_edit(ctx.project_dir, edit.path, edit.before, edit.after)

    def undo(self, ctx: Context) -> None:
        undo_uncommitted(ctx, [e.path for e in ctx.plan.edits])
