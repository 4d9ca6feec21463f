"""One module per side effect.  Each step can describe itself, tell whether it is
already done (by probing reality), do it, and undo it (``release abort``) while the
release is not public."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from release.errors import EXIT_CHECK_FAILED, ReleaseError

if TYPE_CHECKING:  # annotations only: `release build` runs a step without the planner
    from release.config import Inherited, Target
    from release.journal import Journal
    from release.plan import Plan, Step
    from release.runner import Runner
    from release.workspace.plan import WorkspacePlan


@dataclass
class Context:
    project_dir: Path
    state_dir: Path  # the project's own, see release.journal.state_dir
    runner: Runner
    plan: Plan
    journal: Journal
    environ: Mapping[str, str]
    overrides: tuple[str, ...] = ()
    until: str | None = None  # the last stage this run will reach
    log: Callable[[str], None] = field(default=lambda _text: None)
    # A release of several packages (release.workspace): each step runs in its package's
    # frame (for_step), the steps of them all in the frame of the whole.
    workspace: WorkspacePlan | None = None
    # A package's frame: the root settings it inherits (its facts are read with them).
    inherited: Inherited | None = None
    _frames: dict[tuple[str, str], Context] = field(default_factory=dict, repr=False)

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step of the release, in order."""
        return self.workspace.steps if self.workspace is not None else self.plan.steps

    def for_step(self, step: Step) -> Context:
        """The context ``step`` runs in: this one, or in a release of several packages, its
        package's (its directory, runner, plan, its own part of the journal), or for a step
        of the whole that makes one package's own release commit (one commit per package),
        that commit's (the frame of the whole with the commit's plan and the package's part
        of the journal)."""
        workspace = self.workspace
        if workspace is None:
            return self
        if not step.package:
            commit = workspace.commit_of(step)
            if commit is None:
                return self
            return self._frame(("commit", step.path), lambda: self._commit_frame(step.path))
        return self._frame(("package", step.package), lambda: self._package_frame(step.package))

    def _frame(self, key: tuple[str, str], make: Callable[[], Context]) -> Context:
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = make()
        return frame

    def _package_journal(self, name: str) -> Journal:
        """The package's part of the journal; with one release commit per package, with
        that commit its own."""
        assert self.workspace is not None
        split = self.workspace.split
        return self.journal.of_package(
            name, own_commit=split, after=self.workspace.follows(name) if split else ""
        )

    def _package_frame(self, name: str) -> Context:
        from dataclasses import replace

        from release.config import inherited_from_root
        from release.journal import state_dir
        from release.runner import Runner

        assert self.workspace is not None
        member = self.workspace.member(name)
        directory = self.project_dir / member.path
        runner = Runner(directory, self.runner.secrets, self.runner.log, self.runner.env)
        return replace(
            self,
            project_dir=directory,
            # The package's own state (its manifests: `release -C PATH status`).
            state_dir=state_dir(self.state_dir.parent, member.path),
            runner=runner,
            plan=member.plan,
            journal=self._package_journal(name),
            workspace=None,
            inherited=inherited_from_root(self.project_dir, member.path),
            _frames={},
        )

    def _commit_frame(self, name: str) -> Context:
        from dataclasses import replace

        assert self.workspace is not None
        return replace(
            self,
            plan=self.workspace.commit_plan(name),
            journal=self._package_journal(name),
            _frames={},
        )

    def target(self, name: str) -> Target:
        """The plan's publish target ``name``."""
        for target in self.plan.targets:
            if target.name == name:
                return target
        raise KeyError(name)


class UndoRefused(ReleaseError):
    """The undo of a step whose effect is public (the push and every step after it):
    public history is never rewritten."""

    exit_code = EXIT_CHECK_FAILED


def never_undone(step: Step, what: str) -> UndoRefused:
    """The refusal of ``step``'s undo; ``what`` says what of it is public."""
    return UndoRefused(
        f"Step {step.id} is never undone: {what}",
        "Finish the release with release resume (or release a fixed version after it).",
    )


def undo_uncommitted(ctx: Context, paths: list[str]) -> None:
    """The undo of a prepare step that changes ``paths`` for the release commit to take:
    before that commit (HEAD is still the commit it is to be made on: where the release
    started, or with one commit per package, the previous package's), put them back as
    HEAD has them, so a stopped run leaves the files and fragments as they were. Once the
    commit is made, they are in it, and the commit's undo (a reset to the commit before it)
    restores them all at once."""
    from release.ops.git import rev
    from release.ops.worktree import restore

    if rev(ctx.runner, "HEAD") != ctx.journal.commit_parent:
        return
    restored = restore(ctx.runner, paths)
    if restored:
        ctx.log(f"put back as they were: {', '.join(restored)}.")


class StepImpl(Protocol):
    step: Step

    def is_done(self, ctx: Context) -> bool: ...

    def run(self, ctx: Context) -> None: ...

    def undo(self, ctx: Context) -> None:
        """Undo what ``run`` did (or a run stopped half-way did), as far as it is still
        there, and say what through ``ctx.log``; nothing said: nothing was left to undo.
        Each undo restores only its own side effect: ``release abort`` calls those of the
        steps that ran, last first. A public step raises :class:`UndoRefused`."""
        ...


def registry() -> dict[tuple[str, str], Callable[[Step], StepImpl]]:
    """(stage, step name) -> the step's implementation: one line per kind of step."""
    from release.stages import STAGES
    from release.steps import (
        announce,
        build,
        changelog,
        check,
        edit,
        gate,
        git,
        install,
        publish,
        user,
        verify,
        wait,
    )

    factories: dict[tuple[str, str], Callable[[Step], StepImpl]] = {
        ("check", "preflight"): check.Preflight,
        ("check", "gate"): gate.Gate,
        ("prepare", "edit-version"): edit.EditVersion,
        ("prepare", "edit-shared"): edit.EditShared,
        ("prepare", "changelog"): changelog.WriteChangelog,
        ("prepare", "commit"): git.ReleaseCommit,
        ("tag", "tag"): git.Tag,
        ("build", "build"): build.Build,
        ("verify", "verify"): verify.Verify,
        ("push", "push"): git.Push,
        ("publish", "upload"): publish.Publish,
        ("publish", "verify-install"): install.VerifyInstall,
        ("publish", "wait-for"): wait.WaitForDependency,
        ("announce", "draft"): announce.DraftRelease,
        ("announce", "attach"): announce.AttachFiles,
        ("announce", "publish"): announce.PublishRelease,
        ("announce", "github-release"): announce.EarlierAnnounce,
        ("post", "edit-version"): edit.EditDevVersion,
        ("post", "commit"): git.DevCommit,
        ("post", "push"): git.PushDev,
        **{(stage, "user"): user.UserStep for stage in STAGES},
    }
    return factories


def implementation(step: Step) -> StepImpl:
    return registry()[(step.stage, step.name)](step)
