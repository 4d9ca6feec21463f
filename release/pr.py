"""``release pr``: the release as a pull request (a GitLab merge request), for branches
nobody may push to directly.

It checks the release as ``release run`` would, makes the prepare stage (version edits,
changelog, the release commit, which carries the trailer ``Release-Version: X``) on the
tool's own branch (``pr-branch``, ``release/v{version}`` by default), force-pushes that
branch and opens the change request, or updates the one that is open.  Nothing is tagged:
``release ci`` on the push that merges it tags, builds, publishes and announces
(:func:`release.ci.merged_release`).  With nothing left to release, an open release pull
request is closed with a comment saying why.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import NothingToRelease, ReleaseError, UsageError
from release.plan import Plan, Request

if TYPE_CHECKING:
    from release.config import Config
    from release.config import Forge as ForgeConfig
    from release.executor import Outcome
    from release.forges import ChangeRequest, Forge
    from release.runner import Runner

NOTHING_LEFT = (
    "Closed by release pr: nothing is left to release on {base} (no changelog fragment calls "
    "for a release), so this release pull request is no longer needed."
)


@dataclass(frozen=True)
class PrResult:
    action: str  # opened, updated, closed, nothing
    version: str = ""
    branch: str = ""
    change: str = ""  # how the forge names the change request: "#12 (https://...)"


def branch_name(template: str, plan: Plan) -> str:
    previous = str(plan.current) if plan.current is not None else ""
    return template.format(version=str(plan.version), previous=previous, tag=plan.tag)


def branch_glob(template: str) -> str:
    """The branches ``template`` makes, as a glob: every release pull request's branch."""
    return template.format(version="*", previous="*", tag="*")


def title_of(plan: Plan) -> str:
    return (plan.commit_message.splitlines() or [f"Release {plan.version}"])[0]


def body_of(plan: Plan, branch: str) -> str:
    """The changelog section, and what merging does."""
    return (
        f"{plan.changelog.rstrip()}\n\n---\n\n"
        f"Merging this releases {plan.project} {plan.version}: `release ci` on the push to "
        f"{plan.branch} tags the merged commit {plan.tag}, then builds, publishes and "
        "announces it.\n\n"
        f"`{branch}` is release-pipeline's own branch: `release pr` force-pushes it on every "
        "run, so commits added to it by hand are replaced.\n"
    )


def release_pr(
    project_dir: Path,
    *,
    request: Request,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    on_step: Callable[[Outcome], None] = lambda _o: None,
    note: Callable[[str], None] = lambda _t: None,
    secrets: list[str] | None = None,
) -> PrResult:
    from release.checks import evaluate, refusal
    from release.facts import gather
    from release.plan import build
    from release.runner import Runner

    runner = Runner(project_dir)
    facts = gather(project_dir, environ=environ, overrides=overrides, runner=runner)
    cfg = facts.config
    forge_config(cfg)
    base = facts.git.branch
    if base is None:
        raise UsageError(
            "release pr needs a branch to open the pull request into; HEAD is detached.",
            "Check out the branch to release from (e.g. git switch main).",
        )
    forge = connect_forge(cfg, environ, secrets)
    template = str(cfg["pr-branch"])
    request = request._replace(trailer=True)
    try:
        build(facts, request)
    except NothingToRelease as exc:
        return _close_open(runner, forge, (cfg["remote"], template, base), exc, note)
    except ReleaseError:
        pass  # reported with every other problem below
    plan, problems = evaluate(facts, request, environ, "prepare", runner=runner)
    if plan is None:
        raise refusal(problems, "No release can be planned")
    if problems:
        raise refusal(problems, "The release checks failed; nothing was changed")
    open_changes = _open_changes(runner, forge, cfg["remote"], template, base)
    change = open_changes[0][1] if open_changes else None
    # A pull request's branch cannot change: an open one keeps its branch (and number),
    # whichever version it now releases.
    branch = open_changes[0][0] if open_changes else branch_name(template, plan)
    _prepare_on(project_dir, runner, plan, (branch, base), on_step)
    note(f"force-pushing {branch} to {plan.remote} (release-pipeline's own branch)")
    runner.git(
        "push",
        "--force",
        "--porcelain",
        "--",
        plan.remote,
        f"refs/heads/{branch}:refs/heads/{branch}",
    )
    title, body = title_of(plan), body_of(plan, branch)
    if change is None:
        change = forge.open_change(title, body, branch, base)
        action = "opened"
    else:
        change = forge.update_change(change, title, body)
        action = "updated"
    return PrResult(action, str(plan.version), branch, forge.change_ref(change))


def forge_config(cfg: Config) -> ForgeConfig:
    """``[tool.release.forge]``: :class:`UsageError` when there is none."""
    if cfg.forge is None:
        raise UsageError(
            "release pr opens a pull request on the forge, but no forge is configured.",
            "Add a [tool.release.forge] table (docs/configuration.md#forge).",
        )
    return cfg.forge


def connect_forge(cfg: Config, environ: Mapping[str, str], secrets: list[str] | None) -> Forge:
    """The configured forge, reached with its token (added to ``secrets``)."""
    from release import forges

    return forges.connect(forge_config(cfg), environ, secrets)


def _open_changes(
    runner: Runner, forge: Forge, remote: str, template: str, base: str
) -> list[tuple[str, ChangeRequest]]:
    """(branch, change request) of each open release pull request into ``base``: one per
    branch on ``remote`` that ``pr-branch`` makes (any version)."""
    listed = runner.git("ls-remote", "--heads", "--", remote).stdout.splitlines()
    pattern = "refs/heads/" + branch_glob(template)
    found = []
    for line in listed:
        ref = line.split("\t", 1)[1]
        if fnmatch.fnmatchcase(ref, pattern):
            branch = ref.removeprefix("refs/heads/")
            change = forge.find_change(branch, base)
            if change is not None:
                found.append((branch, change))
    return found


def _close_open(
    runner: Runner,
    forge: Forge,
    where: tuple[str, str, str],  # remote, pr-branch template, base
    why: NothingToRelease,
    note: Callable[[str], None],
) -> PrResult:
    remote, template, base = where
    closed = []
    for branch, change in _open_changes(runner, forge, remote, template, base):
        forge.close_change(change, NOTHING_LEFT.format(base=base))
        # The branch is the tool's own: with its pull request closed, it goes too.
        runner.git("push", "--porcelain", "--delete", "--", remote, branch, check=False)
        closed.append(forge.change_ref(change))
        note(f"closed {forge.change_ref(change)} and deleted {branch}: nothing to release")
    if not closed:
        raise why
    return PrResult("closed", change=", ".join(closed))


def _prepare_on(
    project_dir: Path,
    runner: Runner,
    plan: Plan,
    branches: tuple[str, str],  # the pull request's branch, and its base
    on_step: Callable[[Outcome], None],
) -> None:
    """Make the prepare stage of ``plan`` on ``branch``, started afresh at ``base``'s HEAD,
    then return to ``base``; on a failure, return to ``base`` as it was."""
    from release.executor import execute
    from release.journal import PENDING, Journal, Lock, state_dir
    from release.ops.git import locate, rev
    from release.steps import Context

    branch, base = branches
    git_dir, project = locate(runner)
    state = state_dir(git_dir, project)
    start = rev(runner, "HEAD")
    assert start is not None
    prepare = plan._replace(steps=tuple(s for s in plan.steps if s.stage == "prepare"))
    with Lock(state):
        runner.git("switch", "--quiet", "--force-create", branch)
        journal = Journal(
            path=state / "pr-journal.json",
            plan=prepare.to_journal(),
            start_head=start,
            start_branch=branch,
            steps={s.id: PENDING for s in prepare.steps},
            project=project,
        )
        journal.save()
        ctx = Context(project_dir, state, runner, prepare, journal, {}, ())
        try:
            execute(ctx, until="prepare", on_step=on_step)
        except BaseException:
            runner.git("switch", "--quiet", "--force", base, check=False)
            raise
        journal.finished = True
        journal.save()
        runner.git("switch", "--quiet", base)
