"""A step the project declares (``[[tool.release.steps]]``): its command, run through the
runner in the project directory with the release's environment, secrets masked.

It may change only its ``paths``: the work tree is compared before and after, and a change
to any other file stops the release (left as it is, for the user to look at). In the prepare
stage its changes are staged for the release commit, which names its ``paths``.

Undone (before the push) by putting its ``paths`` back as HEAD has them: new files there
deleted, changed ones restored (ignored files are left alone).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from release import commands
from release.config import UserStep as Declared
from release.errors import CommandError, ReleaseError
from release.ops.git import rev
from release.ops.worktree import changed_between, changes, restore
from release.plan import Step
from release.runner import mask
from release.stages import public
from release.steps import Context, never_undone, undo_uncommitted

#: How many of the last lines of a failing step's output its error shows.
TAIL_LINES = 20


class UserStepFailed(ReleaseError):
    exit_code = 1


@dataclass
class UserStep:
    step: Step

    def _declared(self, ctx: Context) -> Declared:
        return ctx.plan.user_step(self.step.path)

    def is_done(self, ctx: Context) -> bool:
        declared = self._declared(ctx)
        if declared.stage == "prepare" and ctx.journal.release_commit is not None:
            return True  # its changes are committed
        if not declared.done_if:
            # Nothing to probe: the journal is the only witness.
            return ctx.journal.steps.get(self.step.id) == "done"
        _learn_secrets(ctx)
        argv = declared.argv(declared.done_if)
        try:
            probe = ctx.runner.run(argv, check=False, env=_environment(ctx))
        except CommandError as exc:  # not found
            raise UserStepFailed(
                f"The done-if command of step {declared.name!r} could not run: "
                f"{exc.output.strip()}",
                "Fix `done-if` (a new release: release abort first), or install what it "
                "runs, then run release resume.",
            ) from None
        return probe.returncode == 0

    def run(self, ctx: Context) -> None:
        declared = self._declared(ctx)
        _learn_secrets(ctx)
        argv = commands.user_step(declared)
        shown = mask(shlex.join(argv), ctx.runner.secrets)
        head = rev(ctx.runner, "HEAD")
        before = changes(ctx.runner)
        try:
            done = ctx.runner.run(argv, check=False, env=_environment(ctx))
        except CommandError as exc:  # not found
            raise UserStepFailed(
                f"Step {declared.name!r} could not run `{shown}`: {exc.output.strip()}",
                "Install what it runs (or fix `run`: a new release, release abort first), "
                "then run release resume.",
            ) from None
        output = mask(done.stdout + done.stderr, ctx.runner.secrets)
        if output.strip():
            ctx.log(output)
        if done.returncode != 0:
            lines = output.rstrip("\n").splitlines()
            said = "printing nothing."
            if lines:
                cut = f" (the last {TAIL_LINES} of {len(lines)} lines)"
                said = f"its output{cut if len(lines) > TAIL_LINES else ''}:\n" + "\n".join(
                    lines[-TAIL_LINES:]
                )
            raise UserStepFailed(
                f"`{shown}` exited with status {done.returncode}; {said}",
                f"Fix the cause, then run release resume, which runs step {declared.name!r} again.",
            )
        moved = rev(ctx.runner, "HEAD")
        if moved != head:
            raise UserStepFailed(
                f"`{shown}` moved HEAD from {str(head)[:12]} to {str(moved)[:12]}: a step may "
                "change files in its `paths`, never commits (the release makes them).",
                f"Return HEAD to {str(head)[:12]} (git reset --soft {str(head)[:12]}), then run "
                "release resume; or run release abort.",
            )
        changed = changed_between(before, changes(ctx.runner))
        foreign = [p for p in changed if not declared.owns(p)]
        if foreign:
            allowed = ", ".join(declared.paths) or "nothing (no `paths`)"
            raise UserStepFailed(
                f"`{shown}` changed files outside the step's `paths` ({allowed}): "
                f"{', '.join(foreign)}. They are left as they are, for you to inspect.",
                "Undo those changes (git restore, or delete new files), then run release "
                "resume; or run release abort, add them to the step's `paths` and release "
                "again.",
            )
        if declared.stage == "prepare":
            # Every change in its paths, also those of an earlier, failed attempt.
            _stage(ctx, declared, sorted(p for p in changes(ctx.runner) if declared.owns(p)))

    def undo(self, ctx: Context) -> None:
        declared = self._declared(ctx)
        if public(declared.stage):
            raise never_undone(
                self.step, f"it runs in the {declared.stage} stage, after the release is public."
            )
        if declared.stage == "prepare":
            undo_uncommitted(ctx, list(declared.paths))
            return
        # Not committed: as HEAD has them is as the step found them (the tree was clean).
        restored = restore(ctx.runner, declared.paths)
        if restored:
            ctx.log(f"put back as they were: {', '.join(restored)}.")


def _stage(ctx: Context, declared: Declared, changed: list[str]) -> None:
    """Stage ``changed`` for the release commit, which names every one of the ``paths``:
    each must exist or be known to git."""
    if changed:
        ctx.runner.run(commands.stage_user_paths(changed))
    for path in declared.paths:
        known = ctx.runner.git("ls-files", "--", path).stdout.strip()
        if not known and not (ctx.project_dir / path).exists():
            raise UserStepFailed(
                f"Step {declared.name!r} declares {path!r} in `paths`, but it neither exists "
                "nor is in git, so the release commit could not name it.",
                "Make the step create it, or run release abort, remove it from `paths` and "
                "release again.",
            )


def _environment(ctx: Context) -> dict[str, str]:
    """The release's environment, and what the release is."""
    return {
        **ctx.environ,
        "RELEASE_VERSION": str(ctx.plan.version),
        "RELEASE_PREVIOUS_VERSION": str(ctx.plan.current),
        "RELEASE_TAG": ctx.plan.tag,
    }


def _learn_secrets(ctx: Context) -> None:
    """The tokens and passwords the release reads from its environment are masked in
    whatever the user's command prints, before it runs."""
    from release.credentials import environment_secrets

    for secret in environment_secrets(ctx.plan.targets, ctx.plan.forge, ctx.environ):
        if secret not in ctx.runner.secrets:
            ctx.runner.secrets.append(secret)
