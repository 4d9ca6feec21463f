"""``release run``, ``resume`` and ``abort``: the journal's life cycle around the executor."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from release.checks import Problem
from release.errors import EXIT_CHECK_FAILED, ReleaseError, UsageError
from release.executor import Outcome, Report, execute
from release.journal import DONE, PENDING, SKIPPED, Journal, Lock, state_dir, unclaimed_journal
from release.ops.git import (
    ROOT_PROJECT,
    head_commit_is,
    is_ancestor,
    locate,
    project_relative,
    remote_refs,
    rev,
)
from release.plan import Plan, Request, Step
from release.workspace.discovery import workspace_packages
from release.workspace.selection import Selection

if TYPE_CHECKING:
    from release.config import UserStep
    from release.packages import Package
    from release.workspace.gather import Gathered
    from release.workspace.plan import WorkspacePlan
from release.runner import Runner
from release.stages import STAGES, after, public
from release.steps import Context, implementation


class AbortRefused(ReleaseError):
    exit_code = EXIT_CHECK_FAILED


def _commands(project_dir: Path, *, pushed: bool = False) -> str:
    where = "" if project_dir == Path.cwd() else f" -C {project_dir}"
    if pushed:
        return f"Run `release{where} resume` to finish it (abort refuses once pushed)."
    return f"Run `release{where} resume` to finish it, or `release{where} abort` to undo it."


def run(
    project_dir: Path,
    *,
    request: Request,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    until: str | None,
    show: Callable[[Plan | WorkspacePlan, list[Problem]], None],
    confirm: Callable[[Plan | WorkspacePlan], bool],
    on_step: Callable[[Outcome], None],
    note: Callable[[str], None] = lambda _text: None,
    runner: Runner | None = None,
    selection: Selection | None = None,
) -> Report:
    """Plan, check and run a new release; ``runner`` runs every command (tests pass one that
    records them). At the root of a repository of several packages, the release of the
    packages ``selection`` picks."""
    from release.checks import evaluate, refusal
    from release.facts import gather

    runner = runner or Runner(project_dir)
    git_dir, project = locate(runner)
    state = state_dir(git_dir, project)
    with Lock(state) as lock:
        _note_stale(lock, note)
        existing = Journal.load(state)
        if existing is None:
            _refuse_unclaimed(git_dir, project, state)
        if existing is not None and not existing.finished:
            raise UsageError(
                f"A release of {existing.plan['public']['version']} is already in progress "
                f"(journal {existing.path}).",
                _commands(project_dir),
            )
        packages = workspace_packages(project_dir, project, environ)
        if packages:
            return _run_workspace(
                project_dir,
                git_dir,
                runner,
                packages,
                request=request,
                selection=selection or Selection(),
                environ=environ,
                overrides=overrides,
                until=until,
                show=show,
                confirm=confirm,
                on_step=on_step,
                note=note,
            )
        (selection or Selection()).refuse_for_one_project()
        _refuse_inside_unfinished_workspace_release(git_dir, project)
        facts = gather(project_dir, environ=environ, overrides=overrides, runner=runner)
        plan, problems = evaluate(facts, request, environ, until, runner=runner)
        if plan is None:
            raise refusal(problems, "No release can be planned")
        show(plan, problems)
        if problems:
            raise refusal(problems, "The release checks failed; nothing was changed", listed=False)
        if not confirm(plan):
            raise UsageError("Release cancelled; nothing was changed.", "")
        assert facts.git.head is not None
        assert facts.git.branch is not None
        journal = Journal(
            path=state / "journal.json",
            plan=plan.to_journal(),
            start_head=facts.git.head,
            start_branch=facts.git.branch,
            steps={s.id: PENDING for s in plan.steps},
            dist_existed=(project_dir / plan.dist_dir).exists(),
            project=project,
        )
        journal.save()
        ctx = Context(project_dir, state, runner, plan, journal, environ, tuple(overrides), until)
        return _execute(ctx, until, on_step)


def _refuse_inside_unfinished_workspace_release(git_dir: Path, project: str) -> None:
    """A package's own release while a release of several packages at the root, which
    takes this package, is unfinished (killed, not resumed) would release it twice, or
    tag and publish it under the other's feet: refused."""
    from release.workspace.plan import is_workspace_journal

    if project == ROOT_PROJECT:
        return
    root = Journal.load(state_dir(git_dir, ROOT_PROJECT))
    if root is None or root.finished or not is_workspace_journal(root.plan):
        return
    if not any(member.get("path") == project for member in root.plan.get("members", [])):
        return
    releases = root.plan["public"]["version"]
    raise UsageError(
        f"The release of several packages at the repository's root ({releases}) is "
        f"unfinished and releases this package too (journal {root.path}).",
        "Run `release resume` at the repository's root to finish it, or `release abort` "
        "there to undo it, then release this package.",
    )


def _run_workspace(
    project_dir: Path,
    git_dir: Path,
    runner: Runner,
    packages: Sequence[Package],
    *,
    request: Request,
    selection: Selection,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    until: str | None,
    show: Callable[[Plan | WorkspacePlan, list[Problem]], None],
    confirm: Callable[[Plan | WorkspacePlan], bool],
    on_step: Callable[[Outcome], None],
    note: Callable[[str], None],
) -> Report:
    """The release of several packages, holding the lock of each one released as well as
    the root's (which the caller holds)."""
    from release.checks import refusal
    from release.gitreads import GitReads
    from release.workspace import planning
    from release.workspace.gather import gather
    from release.workspace.lockfile import read_lock

    gathered = gather(
        project_dir, packages, environ=environ, overrides=overrides, started=GitReads(runner)
    )
    made, problems = planning.plan(
        gathered, selection, request, environ, until, lock_text=read_lock(project_dir)
    )
    if made is None:
        raise refusal(problems, "No release can be planned")
    with contextlib.ExitStack() as locks:
        _hold_package_locks(locks, git_dir, made, note)
        return _start_workspace(
            project_dir,
            git_dir,
            runner,
            made=made,
            gathered=gathered,
            problems=problems,
            environ=environ,
            overrides=overrides,
            until=until,
            show=show,
            confirm=confirm,
            on_step=on_step,
        )


def _start_workspace(
    project_dir: Path,
    git_dir: Path,
    runner: Runner,
    *,
    made: WorkspacePlan,
    gathered: Gathered,
    problems: list[Problem],
    environ: Mapping[str, str],
    overrides: Sequence[str],
    until: str | None,
    show: Callable[[Plan | WorkspacePlan, list[Problem]], None],
    confirm: Callable[[Plan | WorkspacePlan], bool],
    on_step: Callable[[Outcome], None],
) -> Report:
    from release.checks import refusal

    state = state_dir(git_dir, ROOT_PROJECT)
    show(made, problems)
    if problems:
        raise refusal(problems, "The release checks failed; nothing was changed", listed=False)
    if not confirm(made):
        raise UsageError("Release cancelled; nothing was changed.", "")
    git = gathered.facts[made.members[0].name].git
    assert git.head is not None
    assert git.branch is not None
    journal = Journal(
        path=state / "journal.json",
        plan=made.to_journal(),
        start_head=git.head,
        start_branch=git.branch,
        steps={s.id: PENDING for s in made.steps},
        project=ROOT_PROJECT,
    )
    for member in made.members:
        journal.of_package(member.name).dist_existed = (
            project_dir / member.path / member.plan.dist_dir
        ).exists()
    journal.save()
    ctx = Context(
        project_dir,
        state,
        runner,
        made.shared,
        journal,
        environ,
        tuple(overrides),
        until,
        workspace=made,
    )
    return _execute(ctx, until, on_step)


def _context(
    project_dir: Path,
    state: Path,
    runner: Runner,
    *,
    journal: Journal,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
) -> Context:
    """The context of the journaled release: its plan, or the plans of its packages."""
    found = _plan_of(journal)
    if isinstance(found, Plan):
        return Context(project_dir, state, runner, found, journal, environ, tuple(overrides))
    return Context(
        project_dir,
        state,
        runner,
        found.shared,
        journal,
        environ,
        tuple(overrides),
        workspace=found,
    )


def _execute(ctx: Context, until: str | None, on_step: Callable[[Outcome], None]) -> Report:
    from release.executor import Interrupted, StepFailed

    try:
        try:
            report = execute(ctx, until=until, on_step=on_step)
        except (StepFailed, Interrupted):
            raise
        except Exception as exc:  # e.g. between two steps: the way on is the same
            raise StepFailed(
                f"The release stopped unexpectedly: {type(exc).__name__}: {exc}",
                "This is a bug in release-pipeline; please report it.",
            ) from exc
    except (StepFailed, Interrupted) as exc:
        done = [s for s, state in ctx.journal.steps.items() if state == "done"]
        pending = [s for s, state in ctx.journal.steps.items() if state != "done"]
        public = (
            "Branch and tag are pushed: the release is public."
            if ctx.journal.pushed
            else ("Nothing has been pushed: everything can still be undone.")
        )
        exc.hint = "\n".join(
            filter(
                None,
                [
                    exc.hint,
                    f"Done: {', '.join(done) or 'nothing'}.",
                    f"Not done: {', '.join(pending) or 'nothing'}.",
                    public,
                    _commands(ctx.project_dir, pushed=ctx.journal.pushed),
                ],
            )
        )
        raise
    if until is None or all(state == "done" for state in ctx.journal.steps.values()):
        ctx.journal.finished = True
    ctx.journal.save()
    return report


#: What a package's lock file says holds it while a release of several packages runs.
WORKSPACE_HOLDER = "the release of several packages at the repository's root"


def _hold_package_locks(
    locks: contextlib.ExitStack[bool | None],
    git_dir: Path,
    workspace: WorkspacePlan,
    note: Callable[[str], None],
) -> None:
    """Take the lock of every package of ``workspace``, the one a release of that package
    alone (``release -C PATH run``) takes, into ``locks``: neither runs beside the other."""
    from release.journal import LockedError

    for member in workspace.members:
        if member.path == ROOT_PROJECT:
            continue  # the root package's lock is the release's own, held already
        try:
            lock = locks.enter_context(Lock(state_dir(git_dir, member.path), WORKSPACE_HOLDER))
        except LockedError as exc:
            raise LockedError(
                f"Package {member.name} ({member.path}): {exc.message}", exc.hint
            ) from None
        _note_stale(lock, note, f" of package {member.name}")


def _note_stale(lock: Lock, note: Callable[[str], None], of: str = "") -> None:
    if lock.stale_pid is not None:
        note(
            f"A stale lock{of} of release process {lock.stale_pid}, which is no longer "
            "running, was found and removed."
        )


def _refuse_unclaimed(git_dir: Path, project: str, state: Path) -> None:
    """Refuse to go on beside a journal an earlier version wrote for the whole repository:
    it may be this project's release, which must be finished or undone first."""
    legacy = unclaimed_journal(git_dir, project)
    if legacy is not None:
        raise UsageError(
            f"A release journal written by an earlier version of release-pipeline, which kept "
            f"one journal per repository, is in {legacy}; it may be a release of this project "
            f"({project}).",
            f"If it is this project's release, move it to {state / 'journal.json'} and run "
            "release resume or release abort here; if it is the release of the project at "
            "the repository's root, finish or abort it there first.",
        )


def _load(git_dir: Path, project: str, *, finished_is_public: bool = False) -> Journal:
    state = state_dir(git_dir, project)
    journal = Journal.load(state)
    if journal is None:
        _refuse_unclaimed(git_dir, project, state)
    if journal is not None and journal.finished and finished_is_public and journal.pushed:
        version = journal.plan["public"]["version"]
        raise AbortRefused(
            f"The last release ({version}) is finished and public; there is nothing to abort.",
            "To withdraw it, release a new version (indexes never take a filename twice).",
        )
    if journal is None or journal.finished:
        raise UsageError(
            "No release is in progress for this project.", "Start one with release run."
        )
    if journal.project is None:  # written before projects were told apart, found at its place
        journal.project = project
    return journal


def _plan_of(journal: Journal) -> Plan | WorkspacePlan:
    from release.workspace.plan import WorkspacePlan, is_workspace_journal

    try:
        if is_workspace_journal(journal.plan):
            return WorkspacePlan.from_journal(journal.plan)
        return Plan.from_journal(journal.plan)
    except (KeyError, TypeError, ValueError):
        raise ReleaseError(
            f"The release journal {journal.path} does not hold a plan this version of "
            "release-pipeline can read.",
            "Finish the release with the version that started it, or delete the journal "
            "and check the repository by hand.",
        ) from None


def resume(
    project_dir: Path,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    until: str | None,
    on_step: Callable[[Outcome], None],
    note: Callable[[str], None],
    skip: Sequence[str] = (),
) -> Report:
    runner = Runner(project_dir)
    git_dir, project = locate(runner)
    state = state_dir(git_dir, project)
    with Lock(state) as lock:
        _note_stale(lock, note)
        journal = _load(git_dir, project)
        ctx = _context(
            project_dir, state, runner, journal=journal, environ=environ, overrides=overrides
        )
        with contextlib.ExitStack() as locks:
            if ctx.workspace is not None:
                _hold_package_locks(locks, git_dir, ctx.workspace, note)
            _reconcile(ctx, note)
            _skip(journal, ctx.steps, skip, note)
            journal.save()
            return _execute(ctx, until, on_step)


def _skip(
    journal: Journal, steps: Sequence[Step], skip: Sequence[str], note: Callable[[str], None]
) -> None:
    """Mark the steps ``skip`` names as skipped: done by hand, or accepted as undone."""
    ids = [s.id for s in steps]
    for step_id in skip:
        if step_id not in ids:
            raise UsageError(
                f"--skip {step_id}: this release has no such step.",
                f"Its steps: {', '.join(ids)}.",
            )
        if journal.steps.get(step_id) == DONE:
            raise UsageError(f"--skip {step_id}: that step is done already.", "")
        journal.steps[step_id] = SKIPPED
        note(f"Skipping {step_id}, as asked: it is not done and will not be.")


def _reconcile(ctx: Context, note: Callable[[str], None]) -> None:
    """Check the journal against the world.

    Release commits rebased onto new upstream work (after a rejected push) are adopted.
    """
    journal = ctx.journal
    head = rev(ctx.runner, "HEAD")
    release = journal.release_commit
    if release is None or head is None or is_ancestor(ctx.runner, release, head):
        return
    if journal.pushed:
        raise ReleaseError(
            f"HEAD no longer contains the pushed release commit {release[:12]}.",
            "Check out the release branch as pushed, then run release resume.",
        )
    commits = ctx.workspace.commits if ctx.workspace is not None else ()
    messages = [c.message for c in commits] if len(commits) > 1 else [ctx.plan.commit_message]
    rebased = rebased_copies(ctx.runner, messages)
    if rebased is None:
        raise ReleaseError(
            f"HEAD ({head[:12]}) does not contain the release commit {release[:12]}, and is not "
            "a rebased copy of it.",
            "Check out the release branch, or run release abort.",
        )
    note(
        f"The release commit was rebased ({release[:12]} -> {rebased[-1][:12]}); the tag, "
        "artifacts and checks are redone for it."
        if len(rebased) == 1
        else f"The {len(rebased)} release commits were rebased ({release[:12]} -> "
        f"{rebased[-1][:12]}); the tags, artifacts and checks are redone for them."
    )
    redone = after("prepare")
    # Undone by the steps themselves: the tag on the old commit, the artifacts built from
    # it and their manifest (whatever the steps of those stages did), last first.
    _undo(ctx, _ran(ctx, redone), note)
    if len(rebased) > 1:
        assert ctx.workspace is not None
        for commit, sha in zip(ctx.workspace.commits, rebased, strict=True):
            journal.packages[commit.packages[0]]["release_commit"] = sha
    journal.release_commit = rebased[-1]
    # The release now starts from the commit it was rebased onto: abort returns there.
    journal.start_head = rev(ctx.runner, f"{rebased[0]}^") or rebased[0]
    for step in ctx.steps:
        if step.stage in redone:
            journal.steps[step.id] = PENDING


def rebased_copies(runner: Runner, messages: Sequence[str]) -> list[str] | None:
    """The commits at HEAD with ``messages`` (the release commits, in the order they were
    made, the last one HEAD), each on the one before; None unless HEAD ends so."""
    found: list[str] = []
    for back, message in enumerate(reversed(messages)):
        sha = head_commit_is(runner, message, None, f"HEAD~{back}")
        if sha is None:
            return None
        found.append(sha)
    return found[::-1]


def _ran(ctx: Context, stages: Collection[str]) -> list[Step]:
    """The steps of ``stages`` that may have changed something, in plan order: those the
    journal records as done or failed, and the one after the last of them, which a kill
    may have stopped half-way (the journal is saved only after each step). A step of a
    public stage counts only when done (and its undo refuses): the callers have made
    sure nothing is pushed, so one that failed or was stopped made nothing public."""
    steps = list(ctx.steps)
    states = [ctx.journal.steps.get(s.id, PENDING) for s in steps]
    last = max((i for i, state in enumerate(states) if state != PENDING), default=-1)
    return [
        step
        for i, step in enumerate(steps[: last + 2])
        if step.stage in stages and (states[i] == "done" or not public(step.stage))
    ]


def _undo(ctx: Context, steps: list[Step], note: Callable[[str], None]) -> None:
    """Undo ``steps``, last first, each through its own undo, noting what each did."""
    untouched: list[str] = []
    for step in reversed(steps):
        said: list[str] = []
        implementation(step).undo(replace(ctx.for_step(step), log=said.append))
        for text in said:
            note(f"{step.id}: {text}")
        if not said and ctx.journal.steps.get(step.id, PENDING) != PENDING:
            untouched.append(step.id)
    if untouched:
        note(f"Nothing left to undo for {', '.join(untouched)}.")


def abort(project_dir: Path, *, environ: Mapping[str, str], note: Callable[[str], None]) -> None:
    runner = Runner(project_dir)
    git_dir, project = locate(runner)
    state = state_dir(git_dir, project)
    with Lock(state) as lock, contextlib.ExitStack() as locks:
        _note_stale(lock, note)
        journal = _load(git_dir, project, finished_is_public=True)
        ctx = _context(project_dir, state, runner, journal=journal, environ=environ)
        if ctx.workspace is not None:
            _hold_package_locks(locks, git_dir, ctx.workspace, note)
        plan = ctx.plan
        tags = ctx.workspace.tags if ctx.workspace is not None else (plan.tag,)
        pushed = journal.pushed
        if not pushed:
            try:
                found = remote_refs(runner, plan.remote, *(f"refs/tags/{t}" for t in tags))
                pushed = bool(found)
            except ReleaseError:
                pass
        if pushed:
            raise AbortRefused(
                f"{' '.join(tags)} and the release commit are already on {plan.remote}: the "
                "release is public, and abort never rewrites public history.",
                "Finish it with release resume (or release a fixed version after it).",
            )
        head = rev(runner, "HEAD")
        known = {journal.start_head, journal.dev_commit, *_release_commits(ctx)} - {None}
        if head not in known:
            raise AbortRefused(
                f"HEAD ({str(head)[:12]}) has moved since the release started (it is none of "
                "the commits the release made).",
                f"Return to {journal.start_head[:12]} or the release commit yourself, then "
                "run release abort again.",
            )
        # Compared in the plan's frame: paths relative to the project directory.
        touched = _touched(ctx)
        status = runner.git("status", "--porcelain", "-z", "--untracked-files=all").stdout.split(
            "\0"
        )
        changed = (project_relative(e[3:], project) for e in status if e)
        foreign = sorted(
            path
            for path in changed
            if path not in touched and not any(u.owns(path) for u in _user_steps(ctx))
        )
        if foreign:
            raise AbortRefused(
                f"The work tree has changes the release did not make: {', '.join(foreign)}.",
                "Commit or stash them first, so abort cannot lose them.",
            )
        # Each step undoes its own side effect, last first: the artifacts, the tag, the
        # release commit (a reset to the start restores all it took), then what the
        # prepare steps left uncommitted.
        _undo(ctx, _ran(ctx, STAGES), note)
        journal.remove()


def _release_commits(ctx: Context) -> list[str]:
    """Every release commit the release made: those journaled, and one made but stopped
    before the journal said so (each commit step asked, in order, whether it is done)."""
    for step in ctx.steps:
        if step.stage == "prepare" and step.name == "commit":
            implementation(step).is_done(ctx.for_step(step))
    found = [*ctx.journal.package_commits().values(), ctx.journal.release_commit]
    return [sha for sha in found if sha]


def _touched(ctx: Context) -> set[str]:
    """The paths the release may have changed, in the frame of ``ctx``'s project."""
    plan = ctx.plan
    touched = {e.path for e in plan.edits} | set(plan.consumed_fragments)
    touched |= {f"{plan.dist_dir}/{name}" for name in ctx.journal.artifacts}
    if ctx.workspace is not None:
        for member in ctx.workspace.members:
            own = ctx.journal.of_package(member.name).artifacts
            touched |= {member.rebased(f"{member.plan.dist_dir}/{name}") for name in own}
            touched |= {member.rebased(e.path) for e in member.plan.edits}
            touched |= {member.rebased(p) for p in member.plan.consumed_fragments}
    return touched


def _user_steps(ctx: Context) -> list[UserStep]:
    """The user's steps, each owning paths in the frame of ``ctx``'s project."""
    steps = list(ctx.plan.user_steps)
    if ctx.workspace is not None:
        for member in ctx.workspace.members:
            steps += [
                u._replace(paths=tuple(member.rebased(p) for p in u.paths))
                for u in member.plan.user_steps
            ]
    return steps
