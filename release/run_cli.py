"""The command-line face of ``release run``, ``resume`` and ``abort``: confirmation, progress,
summary."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from release import flow, render
from release.checks import Problem
from release.errors import EXIT_OK, UsageError
from release.executor import Outcome, Report
from release.plan import Plan
from release.workspace.plan import WorkspacePlan

if TYPE_CHECKING:
    from release.ci import CiResult
    from release.ciworkspace import WorkspaceCiResult


def _confirm(yes: bool, question: str) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "Standard input is not a terminal, so the release cannot be confirmed "
            "interactively; nothing was changed.",
            "Pass --yes to confirm non-interactively.",
        )
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _progress(outcome: Outcome) -> None:
    step = outcome.step
    who = f"[{step.package}] " if step.package else ""
    render.write(
        f"  {outcome.status:<12} {step.stage:<8} {who}{step.summary} ({outcome.seconds:.1f}s)\n"
    )
    sys.stdout.flush()


def _note(text: str) -> None:
    render.write(f"note: {text}\n")


def _summary(report: Report, headline: str) -> None:
    per_stage: dict[str, list[Outcome]] = {}
    for outcome in report.outcomes:
        per_stage.setdefault(outcome.step.stage, []).append(outcome)
    lines = ["", headline, f"  {'stage':<9}{'result':<14}time"]
    for stage, outcomes in per_stage.items():
        statuses = {o.status for o in outcomes}
        result = (
            "failed"
            if "failed" in statuses
            else ("already done" if statuses == {"already done"} else "done")
        )
        lines.append(f"  {stage:<9}{result:<14}{sum(o.seconds for o in outcomes):.1f}s")
    render.write("\n".join(lines) + "\n")


def dispatch(project: Path, args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(project, args)
    if args.command == "resume":
        report = flow.resume(
            project,
            environ=os.environ,
            overrides=args.overrides,
            until=args.until,
            on_step=_progress,
            note=_note,
            skip=args.skip,
        )
        _summary(
            report,
            "Release resumed and finished."
            if args.until is None
            else f"Release resumed up to {args.until}.",
        )
        return EXIT_OK
    if not _confirm(args.yes, "Undo the unpushed release (local tag, release commit, artifacts)?"):
        raise UsageError("Abort cancelled; nothing was changed.", "")
    flow.abort(project, environ=os.environ, note=_note)
    render.write("Aborted: the repository is as it was before the release.\n")
    return EXIT_OK


def _run(project: Path, args: argparse.Namespace) -> int:
    from release.plan import Request
    from release.workspace.selection import Selection

    def show(plan: Plan | WorkspacePlan, problems: list[Problem]) -> None:
        if isinstance(plan, Plan):
            render.write(render.plan_text(plan) + "\n")
        else:
            render.write(render.workspace_text(plan) + "\n")
        if problems:
            render.write(render.problems_text(problems))

    def confirm(plan: Plan | WorkspacePlan) -> bool:
        if isinstance(plan, Plan):
            return _confirm(args.yes, f"Release {plan.project} {plan.version}?")
        return _confirm(args.yes, f"Release {plan.summary}?")

    report = flow.run(
        project,
        request=Request(args.target, args.pre, args.final),
        environ=os.environ,
        overrides=args.overrides,
        until=args.until,
        show=show,
        confirm=confirm,
        on_step=_progress,
        note=_note,
        selection=Selection(tuple(args.package), args.every),
    )
    _summary(
        report,
        "Released."
        if args.until is None
        else f"Stopped after {args.until}, as asked; release resume continues.",
    )
    return EXIT_OK


def ci(project: Path, args: argparse.Namespace) -> int:
    from release import ci as ci_mod
    from release.ops.git import locate
    from release.runner import Runner
    from release.workspace.discovery import workspace_packages

    if args.tag_only:
        return _tag_only(project, args)
    at_root = bool(workspace_packages(project, locate(Runner(project))[1]))
    _refuse_root_only_options(project, args, at_root)
    if args.list_tagged:
        return _list_tagged(project, args)
    if at_root:
        return _ci_workspace(project, args)

    def run(on_step: Callable[[Outcome], None], on_plan: Callable[[Plan], None]) -> CiResult:
        return ci_mod.run_ci(
            project,
            environ=os.environ,
            overrides=args.overrides,
            tag=args.tag,
            build_only=args.build_only,
            publish_from=args.publish_from,
            outdir=args.outdir,
            dist=args.dist,
            on_step=on_step,
            on_plan=on_plan,
        )

    def failed(plan: Plan | None, outcomes: list[Outcome]) -> None:
        # The version and tag are known as soon as the tag is checked, and the table shows
        # how far the job got.
        partial = None if plan is None else ci_mod.CiResult(plan, outcomes)
        ci_mod.write_job_outputs(os.environ, partial, False, plan)

    result = _tracked(run, failed)
    _warn(result.warnings)
    released = not args.build_only
    ci_mod.write_job_outputs(os.environ, result, released, result.plan)
    _summary(
        Report(outcomes=result.outcomes),
        f"{result.plan.project} {result.plan.version}: "
        + ("built and verified." if args.build_only else "released."),
    )
    return EXIT_OK


_P = TypeVar("_P")
_R = TypeVar("_R")


def _tracked(
    run: Callable[[Callable[[Outcome], None], Callable[[_P], None]], _R],
    on_failure: Callable[[_P | None, list[Outcome]], None],
) -> _R:
    """A ``release ci`` job run with its progress shown; when it fails, its job outputs and
    step summary are written (``on_failure``, with the plan and the steps so far) before
    the error that stopped it is raised, that error and not one writing the outputs."""
    from release.errors import ReleaseError

    planned: list[_P] = []
    outcomes: list[Outcome] = []

    def progress(outcome: Outcome) -> None:
        outcomes.append(outcome)
        _progress(outcome)

    try:
        return run(progress, planned.append)
    except ReleaseError:
        with contextlib.suppress(ReleaseError):
            on_failure(planned[-1] if planned else None, outcomes)
        raise


def _refuse_root_only_options(project: Path, args: argparse.Namespace, at_root: bool) -> None:
    """``--list-tagged`` and ``--sdist-only`` name packages: only at the root of a repository
    of several, and ``--sdist-only`` only with ``--build-only`` and without ``--dist``."""
    if args.list_tagged and not at_root:
        raise UsageError(
            "release ci --list-tagged lists the packages of a repository of several packages; "
            f"{project} is not the root of one.",
            "Run it at the root of the repository (docs/monorepo.md); a single project's "
            "release tag is the job output `tag` of release ci.",
        )
    if not args.sdist_only:
        return
    if not at_root:
        raise UsageError(
            "release ci --sdist-only names packages of a repository of several packages; "
            f"{project} is not the root of one.",
            "Run it at the root of the repository; for the sdist job of a single project's "
            "wheel matrix, use --dist sdist.",
        )
    if not args.build_only:
        raise UsageError(
            "release ci --sdist-only goes with --build-only: it chooses which files the build "
            "job writes.",
            "Run release ci --build-only --outdir DIR --sdist-only NAME, as release init --ci "
            "writes it.",
        )
    if args.dist:
        raise UsageError(
            f"release ci --sdist-only and --dist {args.dist} both choose which files the build "
            "job writes.",
            "Give one: --sdist-only NAME for the packages whose wheels a matrix builds, or "
            "--dist for every package.",
        )


def _list_tagged(root: Path, args: argparse.Namespace) -> int:
    """``release ci --list-tagged``: the packages whose release tags are on HEAD (or the one
    ``--tag`` names), as a JSON list on standard output and in the job output ``packages``."""
    from release import ciworkspace

    names = ciworkspace.tagged_names(root, os.environ, args.overrides, args.tag)
    render.write(ciworkspace.write_tagged_output(os.environ, names) + "\n")
    return EXIT_OK


def _ci_workspace(root: Path, args: argparse.Namespace) -> int:
    """``release ci`` at the root of a repository of several packages: every package's
    release tag on HEAD (or the one ``--tag`` names) released as one, in dependency order;
    a HEAD without one is nothing to do, said in one line (exit status 0)."""
    from release import ciworkspace

    def run(
        on_step: Callable[[Outcome], None], on_plan: Callable[[WorkspacePlan], None]
    ) -> WorkspaceCiResult | None:
        return ciworkspace.run(
            root,
            environ=os.environ,
            overrides=args.overrides,
            tag=args.tag,
            build_only=args.build_only,
            publish_from=args.publish_from,
            outdir=args.outdir,
            dist=args.dist,
            sdist_only=args.sdist_only,
            on_step=on_step,
            on_plan=on_plan,
        )

    def failed(made: WorkspacePlan | None, outcomes: list[Outcome]) -> None:
        ciworkspace.write_job_outputs(os.environ, made, outcomes, {}, released=False)

    result = _tracked(run, failed)
    if result is None:
        # Empty outputs: the jobs after this one see that there is nothing to release.
        ciworkspace.write_job_outputs(os.environ, None, [], {}, released=False)
        render.write(ciworkspace.nothing_tagged(root) + "\n")
        return EXIT_OK
    _warn(result.warnings)
    ciworkspace.write_job_outputs(
        os.environ, result.plan, result.outcomes, result.artifacts, released=not args.build_only
    )
    _summary(
        Report(outcomes=result.outcomes),
        f"{result.plan.summary}: " + ("built and verified." if args.build_only else "released."),
    )
    return EXIT_OK


def _tag_only(project: Path, args: argparse.Namespace) -> int:
    """``release ci --tag-only``: the tag of the run (made and pushed on the push that merges
    a release pull request), checked against the version files; its name in the job's
    outputs, for the jobs that build and publish it without the right to push."""
    from release import ci as ci_mod

    plan, *_ = ci_mod.prepare_plan(project, os.environ, args.overrides, args.tag, job="build")
    ci_mod.write_job_outputs(os.environ, None, False, plan)
    render.write(f"{plan.tag}: the release tag of {plan.project} {plan.version}, on the remote.\n")
    return EXIT_OK


def pr(project: Path, args: argparse.Namespace) -> int:
    from release.plan import Request
    from release.pr import release_pr

    if args.forward_port is not None:
        return _forward_port(project, args)

    result = release_pr(
        project,
        request=Request(args.target, args.pre, args.final),
        environ=os.environ,
        overrides=args.overrides,
        on_step=_progress,
        note=_note,
    )
    if result.action == "closed":
        render.write(f"Nothing to release: closed the release pull request {result.change}.\n")
    else:
        render.write(
            f"{result.action.capitalize()} the release pull request {result.change} for "
            f"{result.version} from {result.branch}.\n"
        )
    return EXIT_OK


def _forward_port(project: Path, args: argparse.Namespace) -> int:
    from release.forwardport import forward_port

    if args.pre or args.final:
        raise UsageError(
            "release pr --forward-port copies a release's changelog section; --pre and "
            "--final choose a new release, which it does not make.",
            "Leave them out: release pr --forward-port BRANCH [VERSION].",
        )
    result = forward_port(
        project,
        target=args.forward_port,
        version=args.target,
        environ=os.environ,
        overrides=args.overrides,
        note=_note,
    )
    if result.action == "present":
        closed = f"; closed the forward-port pull request {result.change}" if result.change else ""
        render.write(
            f"The changelog of {args.forward_port} already has the section of "
            f"{result.version}: nothing to forward-port{closed}.\n"
        )
    else:
        render.write(
            f"{result.action.capitalize()} the forward-port pull request {result.change}: the "
            f"changelog of {result.version} into {args.forward_port}, from {result.branch}.\n"
        )
    return EXIT_OK


def _warn(warnings: list[str]) -> None:
    for text in warnings:
        print(f"warning: {text}", file=sys.stderr)


def collect(project: Path, args: argparse.Namespace) -> int:
    """``release collect DIR...``: the files of many build jobs, checked as one release of the
    tag (see :mod:`release.collect`), copied to ``--outdir``."""
    from release import ci as ci_mod
    from release.collect import collect as gather

    plan, _runner, _git_dir, _project = ci_mod.prepare_plan(
        project, os.environ, args.overrides, args.tag, "publish"
    )
    expected = ci_mod.expected_wheels(project, os.environ, args.overrides)
    outdir = args.outdir or project / plan.dist_dir
    done = gather(args.dirs, plan.project, plan.version, outdir, expected)
    _warn(done.warnings)
    lines = [f"{plan.project} {plan.version}: {len(done.files)} file(s) checked, in {outdir}:"]
    lines += [f"  {name}  sha256 {digest}" for name, digest in done.files.items()]
    if done.completeness is not None:
        lines.append(f"Every expected wheel is there ({expected.source}):")
        lines += [
            f"  {pattern}: {', '.join(names)}"
            for pattern, names in done.completeness.matched.items()
        ]
    else:
        lines.append(f"No expected wheel set: {expected.source}.")
    render.write("\n".join(lines) + "\n")
    return EXIT_OK
