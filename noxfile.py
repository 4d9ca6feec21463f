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
    session.run("pytest", *session.posargs)


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
    """Time `release preview` on generated repositories against the targets (bench/README.md)."""
    session.install("-e", ".")
    session.run("python", "bench/bench_preview.py", *session.posargs)
