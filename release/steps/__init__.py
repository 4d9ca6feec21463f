"""One module per side effect.  Each step can describe itself, tell whether it is
already done (by probing reality), and do it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `release build` runs a step without the planner
    from release.config import Target
    from release.journal import Journal
    from release.plan import Plan, Step
    from release.runner import Runner


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

    def target(self, name: str) -> Target:
        """The plan's publish target ``name``."""
        for target in self.plan.targets:
            if target.name == name:
                return target
        raise KeyError(name)


class StepImpl(Protocol):
    step: Step

    def is_done(self, ctx: Context) -> bool: ...

    def run(self, ctx: Context) -> None: ...


def implementation(step: Step) -> StepImpl:
    from release.stages import STAGES
    from release.steps import (
        announce,
        build,
        changelog,
        check,
        edit,
        git,
        install,
        publish,
        user,
        verify,
    )

    factories: dict[tuple[str, str], Callable[[Step], StepImpl]] = {
        ("check", "preflight"): check.Preflight,
        ("prepare", "edit-version"): edit.EditVersion,
        ("prepare", "changelog"): changelog.WriteChangelog,
        ("prepare", "commit"): git.ReleaseCommit,
        ("tag", "tag"): git.Tag,
        ("build", "build"): build.Build,
        ("verify", "verify"): verify.Verify,
        ("push", "push"): git.Push,
        ("publish", "upload"): publish.Publish,
        ("publish", "verify-install"): install.VerifyInstall,
        ("announce", "draft"): announce.DraftRelease,
        ("announce", "attach"): announce.AttachFiles,
        ("announce", "publish"): announce.PublishRelease,
        ("announce", "github-release"): announce.EarlierAnnounce,
        ("post", "edit-version"): edit.EditDevVersion,
        ("post", "commit"): git.DevCommit,
        ("post", "push"): git.PushDev,
        **{(stage, "user"): user.UserStep for stage in STAGES},
    }
    return factories[(step.stage, step.name)](step)
