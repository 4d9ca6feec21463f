"""Shared fixtures: an isolated git identity, sample projects with a bare remote, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from release.demo import GIT_ENV, Layout, create_sample_project


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration leaks into a test; a fixed identity is used."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01, for stable dates
    for key in list(os.environ):
        if key.startswith("RELEASE_PIPELINE_"):
            monkeypatch.delenv(key)


@pytest.fixture
def sample(tmp_path: Path) -> Callable[..., Path]:
    """Create a sample project (see release.demo.create_sample_project) under tmp_path."""

    def make(layout: Layout = "hatchling", **kwargs: object) -> Path:
        return create_sample_project(tmp_path, layout=layout, **kwargs)  # type: ignore[arg-type]

    return make


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the real ``release`` command in a subprocess, as a user would."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "release", *args], cwd=cwd, capture_output=True, text=True,
            env={**os.environ, **(env or {})},
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def project(sample: Callable[..., Path]) -> Iterator[Path]:
    """The default sample project with a feature and a bugfix fragment."""
    yield sample(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."})
