"""The ``release`` command: argument parsing, exit codes, text or JSON output.

Exit status: 0 ok; 1 a check failed (the plan is still shown); 2 bad usage,
configuration or input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import (
    EXIT_NOTHING_TO_RELEASE,
    EXIT_OK,
    EXIT_USAGE,
    NothingToRelease,
    ReleaseError,
    UsageError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from release.checks import Problem
    from release.facts import Facts
    from release.gitreads import GitReads
    from release.packages import Package
    from release.plan import Plan, Request
    from release.status import Row as StatusRow
    from release.workspace.plan import WorkspacePlan

PRE_CHOICES = ("alpha", "beta", "rc")
EXIT_INTERNAL = 70  # EX_SOFTWARE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}.", f"See `{self.prog} --help`.")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every argument added, and its default asks
        # shutil for the terminal's width: importing shutil (and the compression modules
        # it imports) on every run. The same width, asked as shutil asks.
        make: Callable[..., argparse.HelpFormatter] = self.formatter_class
        return make(prog=self.prog, width=_columns() - 2)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it (80 if unknown)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def _add_request_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        nargs="?",
        metavar="VERSION|major|minor|patch|post",
        help="an explicit version or a bump level (default: decided by fragments or commits)",
    )
    p.add_argument("--pre", choices=PRE_CHOICES, help="make (or continue) a pre-release")
    p.add_argument("--final", action="store_true", help="finish a pre-release cycle")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    from release.stages import STAGES

    p.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (required without a terminal)",
    )
    p.add_argument(
        "--until",
        choices=STAGES,
        metavar="STAGE",
        help=f"stop after this stage ({', '.join(STAGES)})",
    )


def build_parser(command: str | None = None, *, arguments: bool = True) -> argparse.ArgumentParser:
    """The parser of ``release``: with ``command``, only that subcommand's (faster); without
    ``arguments``, the subcommands without their arguments (all that ``release --help`` shows)."""
    parser = _Parser(
        prog="release",
        description="Preview and cut releases of a Python project, as declared in "
        "[tool.release] in pyproject.toml.",
        epilog="Exit status: 0 ok, 1 a check or step failed, 2 bad usage, configuration or "
        "input, 3 nothing to release (release ci), 70 internal error, 130 interrupted.",
    )
    parser.add_argument(
        "-C",
        dest="directory",
        default=".",
        metavar="DIR",
        help="the project directory (default: the current directory)",
    )
    parser.add_argument(
        "-c",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a [tool.release] key (repeatable)",
    )
    parser.add_argument("--version", action="version", version=_own_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, add_arguments) in _SUBCOMMANDS.items():
        if command is None or name == command:
            p = sub.add_parser(name, help=help_text)
            if arguments:
                add_arguments(p)
    return parser


def _add_package_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="NAME",
        help="in a repository of several packages: release this one (repeatable; default: "
        "those with unreleased changes)",
    )
    p.add_argument(
        "--all", action="store_true", dest="every", help="release every package of the repository"
    )


def _preview_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)
    _add_package_args(p)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the plan as JSON")
    shown.add_argument(
        "--markdown",
        action="store_true",
        help="print the plan as a Markdown checklist (for a pull request or tracking issue)",
    )


def _check_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)
    _add_package_args(p)
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument(
        "--gates",
        action="store_true",
        help="also run every release gate (`gates`) and report each one that fails",
    )
    p.add_argument(
        "--fragments",
        action="store_true",
        help="instead: fail when the change since --base adds no fragment (a PR gate)",
    )
    p.add_argument(
        "--base", metavar="REF", help="with --fragments: the branch point, e.g. origin/main"
    )


def _init_arguments(p: argparse.ArgumentParser) -> None:
    from release.workflows import WRITERS

    p.add_argument("--dry-run", action="store_true", help="print the decisions, write nothing")
    p.add_argument(
        "--ci",
        choices=tuple(WRITERS),
        help="instead: write the CI release pipeline (github: .github/workflows/release.yml, "
        "gitlab: .gitlab-ci.yml)",
    )
    p.add_argument(
        "--forge",
        metavar="KIND",
        help="the forge (github, gitlab or gitea) of the origin remote's host, for a host "
        "release init does not know (writes [tool.release.forge] with url = https://HOST)",
    )
    p.add_argument(
        "--install",
        metavar="PIP_ARGS",
        help="with --ci: what the workflow pip-installs to get release-pipeline "
        "(default: this version from PyPI)",
    )
    p.add_argument(
        "--release-pr",
        action="store_true",
        help="with --ci github: instead write the release pull request flow's two workflows "
        "(release pr on every push to a release branch; the release on the push that merges "
        "the release pull request)",
    )


def _fragment_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("issue", help="issue number or name (+name for no issue)")
    p.add_argument("type", help="fragment type, as configured for towncrier")
    p.add_argument("text", help="the change, in a sentence or two, for users")
    p.add_argument("--section", default="", help="changelog section (default: the main one)")


def _version_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)
    p.add_argument("--next", action="store_true", help="print the next version instead")
    p.add_argument(
        "--explain",
        action="store_true",
        help="say which files or tags the version was read from, which tags were passed "
        "over, and why",
    )


def _changelog_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)


def _run_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)
    _add_package_args(p)
    _add_run_args(p)


def _resume_arguments(p: argparse.ArgumentParser) -> None:
    _add_run_args(p)
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="STEP",
        help="mark STEP (an id such as announce.attach) as skipped: done by hand, or "
        "accepted as undone; repeatable",
    )


def _pr_arguments(p: argparse.ArgumentParser) -> None:
    _add_request_args(p)
    p.add_argument(
        "--forward-port",
        metavar="BRANCH",
        help="instead: open or update the pull request that adds a release's changelog "
        "section to BRANCH's changelog (the release VERSION names, by default the latest "
        "one on this branch)",
    )


def _abort_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _ci_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tag",
        help="the release tag (default: from GITHUB_REF or CI_COMMIT_TAG, else HEAD's tag)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--tag-only",
        action="store_true",
        help="on the push that merges a release pull request: make and push the release tag, "
        "check it, and stop (a job of its own, the only one that can push)",
    )
    mode.add_argument(
        "--build-only",
        action="store_true",
        help="build and verify, then write the artifacts and a manifest",
    )
    mode.add_argument(
        "--publish-from",
        metavar="DIR",
        type=Path,
        help="verify the artifacts gathered in DIR, then publish and announce",
    )
    mode.add_argument(
        "--list-tagged",
        action="store_true",
        help="at the root of a repository of several packages: print the names of the "
        "packages whose release tags are on HEAD as a JSON list, and write it to the job "
        "output `packages` (for the conditions of their wheel jobs); builds nothing",
    )
    p.add_argument(
        "--outdir",
        type=Path,
        metavar="DIR",
        help="with --build-only: where to write artifacts and manifest (default: dist-dir)",
    )
    p.add_argument(
        "--dist",
        choices=("sdist", "wheel"),
        help="with --build-only: write only the sdist (the sdist job) or only the wheel (a "
        "wheel job); both are still built and verified",
    )
    p.add_argument(
        "--sdist-only",
        action="append",
        default=[],
        metavar="NAME",
        help="with --build-only at the root of a repository of several packages: write only "
        "the sdist of the package NAME, whose wheels its own wheel jobs build (repeat it for "
        "each such package); its wheel is still built and verified",
    )


def _collect_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dirs", nargs="+", type=Path, metavar="DIR", help="a build job's artifact directory"
    )
    p.add_argument("--tag", help="the release tag (default: HEAD's tag)")
    p.add_argument(
        "--outdir",
        type=Path,
        metavar="DIR",
        help="where to copy the checked files (default: dist-dir)",
    )


def _build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="only build (the release's build stage): no twine check, no metadata check",
    )


def _status_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "version",
        nargs="?",
        help="the version (default: the latest released here); in a repository of several "
        "packages: the package's name, then its version",
    )
    p.add_argument("package_version", nargs="?", metavar="VERSION", help=argparse.SUPPRESS)
    p.add_argument(
        "--all",
        action="store_true",
        dest="every",
        help="in a repository of several packages: every package's latest release",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print it as JSON")
    shown.add_argument("--markdown", action="store_true", help="print it as a Markdown checklist")


def _config_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print it as JSON")


#: Each subcommand: its one-line help, and what adds its arguments.
_SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "preview": ("show exactly what the next release would do", _preview_arguments),
    "check": ("run every preflight gate and report all problems", _check_arguments),
    "init": ("adopt this project: detect its setup, write [tool.release]", _init_arguments),
    "fragment": ("create a changelog fragment", _fragment_arguments),
    "version": ("print the current (or next) version", _version_arguments),
    "changelog": ("print the next release's changelog section", _changelog_arguments),
    "run": ("make the release: check, prepare, tag, build, verify, push, post", _run_arguments),
    "resume": ("finish a release that stopped (failure or Ctrl-C)", _resume_arguments),
    "abort": ("undo a release that has not been pushed", _abort_arguments),
    "pr": (
        "open or update the release pull request (check, prepare on pr-branch, force-push)",
        _pr_arguments,
    ),
    "ci": ("the release job of a CI run on a tag: build, verify, publish, announce", _ci_arguments),
    "collect": (
        "gather the artifacts of many build jobs and check them complete against the tag",
        _collect_arguments,
    ),
    "build": (
        "build and verify the sdist and wheel of HEAD into dist/ (no release)",
        _build_arguments,
    ),
    "status": (
        "is a release complete everywhere (remote tag, every file on every target)?",
        _status_arguments,
    ),
    "config": ("print the effective configuration and its sources", _config_arguments),
}


def _own_version() -> str:
    from release import __version__

    return f"release-pipeline {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from release import paths

    paths.forget()  # a command sees the files as they are when it starts
    try:
        return _main(args)
    except ReleaseError as exc:
        _error(exc)
        return exit_status(exc, _command_of(args))
    except KeyboardInterrupt:
        print("release: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `release preview | head`): not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("RELEASE_PIPELINE_DEBUG"):
            raise
        from release.render import safe

        print(
            safe(
                f"internal error: {type(exc).__name__}: {exc}\n  This is a bug in "
                "release-pipeline; please report it. Set RELEASE_PIPELINE_DEBUG=1 to see "
                "the traceback."
            ),
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def exit_status(error: ReleaseError, command: str | None) -> int:
    """The exit status of ``command`` stopped by ``error``: the error type's own, except
    that ``release ci`` says "nothing to release" with a status of its own, so a workflow
    that also runs on other pushes can tell "not a release" from a failure; so does
    ``release pr`` with no release pull request to close."""
    if command in ("ci", "pr") and isinstance(error, NothingToRelease):
        return EXIT_NOTHING_TO_RELEASE
    return error.exit_code


def _error(exc: ReleaseError) -> None:
    from release.render import safe

    text = f"error: {exc.message}"
    if exc.hint:
        text += f"\n  hint: {exc.hint}"
    print(safe(text), file=sys.stderr)


def _command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` plainly names, or None (then the whole parser is built)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-C", "-c"):
            i += 2
        elif arg[:2] in ("-C", "-c"):
            i += 1
        elif arg.startswith("-"):
            return None  # --help, --version, or a mistake: argparse explains
        else:
            return arg if arg in _SUBCOMMANDS else None
    return None


def _main(argv: list[str]) -> int:
    # Only the subcommand at hand: argparse looks up translations for every parser.
    command = _command_of(argv)
    help_only = command is None and argv in ([], ["-h"], ["--help"])
    parser = build_parser(command, arguments=not help_only)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    project = Path(args.directory)
    _refuse_workspace_root(project.resolve(), args.command)
    if args.command == "config":
        return _config(project, args)
    if args.command == "init":
        from release import init_cli

        return init_cli.init(project.resolve(), args)
    if args.command == "fragment":
        from release.contributors import create_fragment

        path = create_fragment(project.resolve(), args.issue, args.type, args.text, args.section)
        print(f"Created {path}")
        return EXIT_OK
    if args.command == "check" and args.fragments:
        return _fragment_gate(project.resolve(), args)
    if args.command == "build":
        return _build(project.resolve(), args)
    if args.command == "ci":
        from release import run_cli

        return run_cli.ci(project.resolve(), args)
    if args.command == "status":
        return _status(project.resolve(), args)
    if args.command == "pr":
        from release import run_cli

        return run_cli.pr(project.resolve(), args)
    if args.command == "collect":
        from release import run_cli

        return run_cli.collect(project.resolve(), args)
    if args.command in ("run", "resume", "abort"):
        from release import run_cli

        return run_cli.dispatch(project.resolve(), args)
    # git starts reading now and works while the rest of the program is imported.
    from release.gitreads import GitReads
    from release.runner import Runner

    started = GitReads(Runner(project.resolve()))
    request = _request(args)
    shown = _workspace_preview(project.resolve(), args, started)
    if shown is not None:
        return shown
    facts = _gather(project, args.overrides, started)
    if args.command == "version":
        return _version(facts, request, args.next, explain=args.explain)
    if args.command == "changelog":
        sys.stdout.write(_plan_or_raise(facts, request).changelog + "\n")
        return EXIT_OK
    from release.checks import evaluate

    plan, problems = evaluate(facts, request, os.environ)
    from release import render
    from release.checks import exit_code

    if args.command == "check" and args.gates:
        problems += _run_gates(facts, args.json)
    if args.command == "preview" and args.markdown:
        from release.markdown import plan_markdown

        sys.stdout.write(render.safe(plan_markdown(plan, problems)))
        return exit_code(problems)
    return _show(args, plan, problems)


#: The commands that work on one package, never on all the packages of a repository.
_ONE_PACKAGE = frozenset({"version", "changelog", "build", "pr", "config", "collect", "fragment"})


def _refuse_workspace_root(project: Path, command: str) -> None:
    """At the root of a repository of several packages (not a package itself), a command of
    one package says which to choose instead of failing to find a version."""
    if command not in _ONE_PACKAGE:
        return
    if not (project / "pyproject.toml").is_file() or not (project / ".git").exists():
        return  # not a repository's root: the command reports what it must
    from release.ops.git import ROOT_PROJECT
    from release.workspace.discovery import workspace_packages

    packages = workspace_packages(project, ROOT_PROJECT, os.environ)
    if not packages or any(p.path == ROOT_PROJECT for p in packages):
        return
    example = packages[0].path
    raise UsageError(
        f"{project} is the root of a repository of several packages "
        f"({', '.join(p.name for p in packages)}); `release {command}` works on one package.",
        f"Run it in a package's directory: release -C {example} {command} (docs/monorepo.md).",
    )


def _workspace_packages(project: Path, started: GitReads) -> tuple[Package, ...]:
    """The packages when ``project`` is the root of a repository of several."""
    from release.ops.git import ROOT_PROJECT, project_path
    from release.workspace.discovery import workspace_packages

    top = started.top.result(check=False)
    if top.returncode != 0:
        return ()  # not in a repository: the single-project path says so
    prefix = top.stdout.split("\n")[3] if top.stdout.count("\n") >= 3 else ""
    if project_path(prefix) != ROOT_PROJECT:
        return ()
    return workspace_packages(project, ROOT_PROJECT, os.environ)


def _refuse_selection(args: argparse.Namespace) -> None:
    from release.workspace.selection import Selection

    Selection(tuple(args.package), args.every).refuse_for_one_project()


def _workspace_preview(project: Path, args: argparse.Namespace, started: GitReads) -> int | None:
    """``release preview`` / ``check`` at the root of a repository of several packages;
    None when ``project`` is no such root."""
    if args.command not in ("preview", "check"):
        return None
    packages = _workspace_packages(project, started)
    if not packages:
        _refuse_selection(args)
        return None

    if args.command == "check" and args.gates:
        raise UsageError(
            "release check --gates runs one project's gates; at the root of a repository of "
            "several packages, run it in a package's directory (release -C PATH check --gates).",
            "",
        )
    if args.command == "preview" and args.markdown:
        raise UsageError(
            "release preview --markdown shows one project's plan; for a repository of several "
            "packages use the text or --json preview.",
            "",
        )
    from release.workspace import planning
    from release.workspace.gather import gather
    from release.workspace.lockfile import read_lock
    from release.workspace.selection import Selection

    gathered = gather(
        project, packages, environ=os.environ, overrides=args.overrides, started=started
    )
    plan, problems = planning.plan(
        gathered,
        Selection(tuple(args.package), args.every),
        _request(args),
        os.environ,
        lock_text=read_lock(project),
    )
    return _show(args, plan, problems)


def _show(
    args: argparse.Namespace, plan: Plan | WorkspacePlan | None, problems: list[Problem]
) -> int:
    """What ``release preview`` / ``check`` print, as text or JSON; their exit status."""
    from release import render
    from release.checks import exit_code
    from release.plan import Plan

    if args.json:
        data = render.preview_json(plan if args.command == "preview" else None, problems)
        sys.stdout.write(render.json_text(data))
        return exit_code(problems)
    if args.command == "preview" and plan is not None:
        text = render.plan_text(plan) if isinstance(plan, Plan) else render.workspace_text(plan)
        render.write(text + "\n")
    render.write(render.problems_text(problems))
    return exit_code(problems)


def _run_gates(facts: Facts, quiet: bool) -> list[Problem]:
    """``release check --gates``: run every gate, in order, each to its end; a problem for
    each one that fails. Progress goes to stderr (stdout may be JSON)."""
    from release import commands
    from release.checks import gate_problems
    from release.credentials import environment_secrets
    from release.ops import gates
    from release.render import safe
    from release.runner import Runner

    runner = Runner(facts.project_dir)
    cfg = facts.config
    runner.secrets += environment_secrets(cfg.targets, cfg.forge, os.environ)
    results = []
    for gate in cfg.gates:
        result = gates.run(runner, gate, commands.gate(gate), os.environ)
        results.append(result)
        if not quiet:
            said = "passed" if result.passed else "FAILED"
            print(safe(f"gate {gate.name}: {said} ({result.seconds:.1f}s)"), file=sys.stderr)
    return gate_problems(results)


def _request(args: argparse.Namespace) -> Request:
    from release.plan import Request

    return Request(target=args.target, pre=args.pre, final=args.final)


def _gather(project: Path, overrides: list[str], started: GitReads) -> Facts:
    from release.facts import gather

    return gather(project, environ=os.environ, overrides=overrides, started=started)


def _plan_or_raise(facts: Facts, request: Request) -> Plan:
    from release.checks import input_problems, refusal
    from release.plan import build

    problems = input_problems(facts)
    if problems:
        raise refusal(problems)
    return build(facts, request)


def _version(facts: Facts, request: Request, want_next: bool, *, explain: bool = False) -> int:
    from release.plan import current_version

    if want_next:
        plan = _plan_or_raise(facts, request)
        print(plan.version)
        if explain:
            print("\n".join(f"  {reason}" for reason in plan.reasons))
        return EXIT_OK
    current, sources = current_version(facts)
    if current is None:
        _plan_or_raise(facts, request)  # raises the disagreement error
    print(current)
    if explain:
        from release import render

        render.write(render.version_explanation(facts, sources))
    return EXIT_OK


def _config(project: Path, args: argparse.Namespace) -> int:
    from release import config as config_mod
    from release.render import json_text

    cfg = config_mod.load(project.resolve(), environ=os.environ, overrides=args.overrides)
    if args.json:
        data = {
            key.name: {
                "value": _jsonable(cfg.values[key.name]),
                "source": cfg.sources[key.name],
            }
            for key in config_mod.SCHEMA
        }
        sys.stdout.write(json_text(data))
        return EXIT_OK
    from release.render import write

    width = max(len(k.name) for k in config_mod.SCHEMA)
    lines = [f"# [tool.release] of {cfg.project_dir / 'pyproject.toml'}"]
    for key in config_mod.SCHEMA:
        value = config_mod.show_value(cfg.values[key.name])
        lines.append(f"{key.name:<{width}} = {value}    # {cfg.sources[key.name]}")
    write("\n".join(lines) + "\n")
    return EXIT_OK


def _fragment_gate(project: Path, args: argparse.Namespace) -> int:
    from release import config as config_mod
    from release.contributors import fragment_gate

    if not args.base:
        raise UsageError(
            "release check --fragments needs --base REF.",
            "Pass the branch point, e.g. --base origin/main.",
        )
    cfg = config_mod.load(project, environ=os.environ, overrides=args.overrides)
    result = fragment_gate(
        project, args.base, cfg["fragment-exempt-paths"], cfg["fragment-exempt-marker"]
    )
    if result.added:
        print("Fragments added: " + ", ".join(result.added))
    else:
        print(f"No fragment needed: {result.exempt_reason}.")
    return EXIT_OK


def _build(project: Path, args: argparse.Namespace) -> int:
    from release import config as config_mod
    from release.build_head import build_head
    from release.render import write

    cfg = config_mod.load(project, environ=os.environ, overrides=args.overrides)
    name = str(cfg.pyproject.get("project", {}).get("name") or project.name)
    built = build_head(project, cfg["dist-dir"], name, verify=not args.no_verify)
    write("".join(f"{path}  sha256 {digest}\n" for path, digest in built))
    return EXIT_OK


def _status(project: Path, args: argparse.Namespace) -> int:
    from release.errors import EXIT_CHECK_FAILED
    from release.render import json_text

    reports = _status_reports(project, args)
    complete = all(r.ok for _data, rows in reports for r in rows)
    if args.json:
        found = [
            {
                "schema": "release-pipeline/status",
                "schema_version": 1,
                "project": data["project"],
                "version": data["version"],
                "complete": all(r.ok for r in rows),
                "items": [{"where": r.where, "item": r.item, "state": r.state} for r in rows],
            }
            for data, rows in reports
        ]
        sys.stdout.write(json_text(found[0] if len(found) == 1 else found))
        return EXIT_OK if complete else EXIT_CHECK_FAILED
    for data, rows in reports:
        _show_status(data, rows, markdown=args.markdown)
    return EXIT_OK if complete else EXIT_CHECK_FAILED


def _status_reports(
    project: Path, args: argparse.Namespace
) -> list[tuple[dict[str, Any], list[StatusRow]]]:
    """The status of the release asked for; at the root of a repository of several
    packages, of the package named (``NAME [VERSION]``) or of every package (``--all``)."""
    from release.ops.git import ROOT_PROJECT
    from release.status import status
    from release.workspace.discovery import workspace_packages

    root = (project / ".git").exists()
    packages = workspace_packages(project, ROOT_PROJECT, os.environ) if root else ()
    if not packages:
        if args.every or args.package_version:
            raise UsageError(
                "release status NAME VERSION and --all are for a repository of several "
                "packages; this project is one.",
                "Run release status [VERSION].",
            )
        return [status(project, args.version)]
    if args.every:
        return [status(project / p.path, None) for p in packages]
    named = [p for p in packages if p.name == args.version]
    if not named:
        raise UsageError(
            f"At the root of a repository of several packages, release status needs a "
            f"package's name{f' ({args.version!r} is none)' if args.version else ''}, or --all.",
            f"Its packages: {', '.join(p.name for p in packages)}.",
        )
    return [status(project / named[0].path, args.package_version)]


def _show_status(data: dict[str, Any], rows: list[StatusRow], *, markdown: bool) -> None:
    from release.render import safe, write

    complete = all(r.ok for r in rows)
    if markdown:
        from release.markdown import status_markdown

        table = [(r.where, r.item, r.state, r.ok) for r in rows]
        sys.stdout.write(safe(status_markdown(str(data["project"]), str(data["version"]), table)))
        return
    width = max(len(r.item) for r in rows)
    lines = [
        f"{data['project']} {data['version']}: "
        + ("complete everywhere." if complete else "INCOMPLETE.")
    ]
    lines += [f"  {r.where:<14} {r.item:<{width}}  {r.state}" for r in rows]
    write("\n".join(lines) + "\n")


def _jsonable(value: object) -> object:
    """A configuration value as JSON data (tables as objects, not as the tuples they are)."""
    from release.config import Forge, Gate, Location, Target, UserStep

    if isinstance(value, Gate):
        return value.as_toml()
    if isinstance(value, Location):
        return {"kind": value.kind, "path": value.path, "key": value.key}
    if isinstance(value, (Forge, Target, UserStep)):
        return value.as_dict()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value
