"""Sessions for developing release-pipeline: tests, lint, typecheck, demo, bench."""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# The noxfile uses this project's own nox helper (it imports only the standard library).
sys.path.insert(0, str(Path(__file__).parent))
from release.nox import register

nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")

# Dogfooding: this project is released with its own sessions (`nox -s release`).
register(install=("-e", "."))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (real git repositories, real towncrier)."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"))
    # Four workers on two cores: most of the time goes to waiting on git, builds and servers.
    session.run("pytest", "-n", "4", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the whole project."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "release")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on release/."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    session.run("mypy", "--strict", "release")


@nox.session
def demo(session: nox.Session) -> None:
    """A real staged release of a sample project to a local index and GitHub stand-in."""
    session.install("-e", ".", "pypiserver>=2.4.2,<3", "passlib>=1.7.4", "pytest>=8", "uv>=0.5")
    session.run("python", "demo/run_demo.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Time release against the tools users would pick instead, in one run (bench/README.md)."""
    # uv at the version the compared tools use: `release build` makes its build
    # environments with it, as `uv build` does.
    lock = Path("bench/tools-requirements.txt").read_text(encoding="utf-8").splitlines()
    uv = next(line.split(";")[0].strip() for line in lock if line.startswith("uv=="))
    session.install("-e", ".", uv)
    # The other tools, pinned, in their own environment (bench/.cache/tools-venv).
    session.run("python", "bench/tools_venv.py", "--versions")
    session.run("python", "bench/run_bench.py", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """Compare release with towncrier and the build backend on full clones of real projects
    (not part of CI): `nox -s conformance -- [--install] [--diff] DIR [DIR ...]`."""
    dirs = [
        str(Path(session.invoked_from, arg).resolve())
        for arg in session.posargs
        if not arg.startswith("-")
    ]
    options = [arg for arg in session.posargs if arg.startswith("-")]
    if not dirs:
        session.error("Give the clones: nox -s conformance -- [--install] [--diff] DIR [DIR ...]")
    session.install("-e", ".")
    if "--install" in options:
        # For projects whose towncrier configuration has a `package` but no [project] name:
        # towncrier imports the package to name the project, so it must be importable, as
        # in the project's own development environment.
        options.remove("--install")
        for directory in dirs:
            session.install(directory)
    session.run("python", "tests/conformance/harness.py", *options, *dirs)
