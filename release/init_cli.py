"""The command-line face of ``release init``: adopting a project, or every package of a
repository of several at its root, and writing its CI pipeline."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from release.packages import Package


def init(project: Path, args: argparse.Namespace) -> int:
    """``release init``: the decisions of adopting the project (every package's, at the root
    of a repository of several), written unless ``--dry-run``; with ``--ci``, its pipeline."""
    from release.adopt import apply, decide, enclosing_package
    from release.render import write

    inside = enclosing_package(project)
    if inside is not None:
        top, package = inside
        raise UsageError(
            f"{project} is the package {package.name} of the repository of several packages "
            f"at {top}; release init adopts them together at the root, which holds what they "
            "share (and where CI looks for its pipeline).",
            f"Run it there: release -C {top} init{' --ci ' + args.ci if args.ci else ''} "
            "(docs/monorepo.md).",
        )
    if args.ci:
        if args.forge:
            raise UsageError(
                "release init --forge does not go with --ci: --ci writes only the CI pipeline.",
                "Run release init --forge KIND first, then release init --ci KIND.",
            )
        return _init_ci(project, args)
    if args.release_pr:
        raise UsageError(
            "release init --release-pr goes with --ci: it writes CI workflows.",
            "Run release init --ci github --release-pr.",
        )
    packages = _root_packages(project)
    if packages:
        return _init_workspace(project, packages, args)
    decisions = decide(project, args.forge)
    lines = ["Decisions:"] + [f"  - {r}" for r in decisions.reasons]
    if args.dry_run:
        lines.append("Nothing written (--dry-run).")
    else:
        apply(project, decisions)
        lines.append("Wrote [tool.release] to pyproject.toml; check it with: release preview")
    write("\n".join(lines) + "\n")
    return EXIT_OK


def _root_packages(project: Path) -> tuple[Package, ...]:
    """The packages when ``project`` is the root of a repository of several (docs/monorepo.md)."""
    if not (project / "pyproject.toml").is_file() or not (project / ".git").exists():
        return ()
    from release.ops.git import ROOT_PROJECT
    from release.workspace.discovery import workspace_packages

    return workspace_packages(project, ROOT_PROJECT, os.environ)


def _init_workspace(project: Path, packages: tuple[Package, ...], args: argparse.Namespace) -> int:
    """``release init`` at the root of a repository of several packages: every package's
    decisions under its name, after the root's."""
    from release.adopt import apply_workspace, decide_workspace
    from release.render import write

    adoptions = decide_workspace(project, packages, args.forge)
    lines = ["Decisions:"]
    for adoption in adoptions:
        lines.append(f"{adoption.title}:")
        lines += [f"  - {r}" for r in adoption.decisions.reasons]
    if args.dry_run:
        lines.append("Nothing written (--dry-run).")
    else:
        written = apply_workspace(project, adoptions)
        lines.append(
            f"Wrote {', '.join(written)}; check it with: release preview"
            if written
            else "Nothing to write: every decision is already in the pyproject.toml files."
        )
    write("\n".join(lines) + "\n")
    return EXIT_OK


def _init_ci(project: Path, args: argparse.Namespace) -> int:
    from release import config as config_mod
    from release import workflows
    from release.render import write

    packages = _root_packages(project)
    if packages:
        return _init_ci_workspace(project, packages, args)
    pyproject = config_mod.read_pyproject(project)
    install = args.install or workflows.default_install()
    branches: tuple[str, ...] = ("main",)
    if "release" in pyproject.get("tool", {}):
        cfg = config_mod.load(project, environ=os.environ, overrides=args.overrides)
        tag_format = cfg.tag_format
        if cfg["ci-gates"] and any(g.is_session for g in cfg.gates):
            install += " nox"  # the build job runs the gate sessions
        branches = tuple(line.pattern for line in cfg.lines) or branches
    else:
        from release.adopt import decide

        tag_format = decide(project).table["tag-format"]
    if args.release_pr:
        files = workflows.write_release_pr(
            project, args.ci, branches, install, dry_run=args.dry_run
        )
        if args.dry_run:
            write("".join(f"# --- {w.path.relative_to(project)}\n{w.text}" for w in files))
        else:
            write("".join(w.message + "\n" for w in files))
        return EXIT_OK
    from release.extensions import detect

    written = workflows.write(
        project,
        args.ci,
        tag_format,
        install,
        dry_run=args.dry_run,
        builder=detect(project, pyproject).builder,
    )
    write(written.text if args.dry_run else written.message + "\n")
    return EXIT_OK


def _init_ci_workspace(
    project: Path, packages: tuple[Package, ...], args: argparse.Namespace
) -> int:
    """``release init --ci KIND`` at the root of a repository of several packages: one
    pipeline for them all, on a push to any package's release branches or release tags; the
    wheels of a package with compiled extensions in a matrix of jobs of its own."""
    from release import workflows
    from release.adopt import ci_packages
    from release.names import normalised
    from release.render import write

    if args.release_pr:
        raise UsageError(
            f"release init --ci {args.ci} --release-pr: the release pull request flow releases "
            "one project; at the root of a repository of several packages it is not available "
            "yet.",
            f"Run release init --ci {args.ci} (without --release-pr) for the pipeline on the "
            "packages' release tags (docs/monorepo.md).",
        )
    found = ci_packages(project, packages, os.environ, args.overrides)
    paths = {p.key: p.path for p in packages}
    compiled = [
        workflows.WheelPackage(normalised(p.name), paths[normalised(p.name)], p.builder)
        for p in found
        if p.builder is not None
    ]
    install = args.install or workflows.default_install()
    if any(p.nox for p in found):
        install += " nox"  # the build job runs the gate sessions
    branches = list(dict.fromkeys(b for p in found for b in p.branches))
    written = workflows.write_workspace(
        project,
        args.ci,
        tuple((p.name, p.tag_format) for p in found),
        branches,
        install,
        dry_run=args.dry_run,
        compiled=compiled,
    )
    write(written.text if args.dry_run else written.message + "\n")
    return EXIT_OK
