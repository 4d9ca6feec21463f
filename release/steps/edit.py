"""Write a planned file edit (the plan holds the exact text before and after)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from release.errors import ReleaseError
from release.journal import write_atomic
from release.plan import FileEdit, Step
from release.steps import Context


def _current(ctx: Context, path: str) -> str | None:
    try:
        with open(ctx.project_dir / path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def apply_edit(ctx: Context, edit: FileEdit) -> None:
    current = _current(ctx, edit.path)
    if current == edit.after:
        return
    if current != edit.before:
        raise ReleaseError(
            f"{edit.path} changed since the release was planned, so the planned edit cannot "
            "be applied safely.",
            "Undo that change (or run release abort), then run release again.",
        )
    target = ctx.project_dir / edit.path
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode if target.exists() else None
    write_atomic(target, edit.after)
    if mode is not None:
        os.chmod(target, mode)


@dataclass
class EditVersion:
    step: Step
    dev: bool = False

    def _edit(self, ctx: Context) -> FileEdit:
        return ctx.plan.edit_for(self.step.path, dev=self.dev)

    def is_done(self, ctx: Context) -> bool:
        # Once the step's commit exists, the file may legitimately have moved on.
        commit = ctx.journal.dev_commit if self.dev else ctx.journal.release_commit
        return commit is not None or _current(ctx, self.step.path) == self._edit(ctx).after

    def run(self, ctx: Context) -> None:
        apply_edit(ctx, self._edit(ctx))


def EditDevVersion(step: Step) -> EditVersion:
    return EditVersion(step, dev=True)
