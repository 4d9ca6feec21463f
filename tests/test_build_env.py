"""The build stage's environment: filled by uv while build loads, or build's own, alike."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import commit_all, git

from release.ops import build as build_step
from release.ops import buildenv
from release.ops.build import BuildFailed, build_artifacts, declared_requires
from release.ops.hashing import sha256
from release.runner import Runner
from release.steps.install import VerifyInstall

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[build-system]\nrequires = ["hatchling", "hatch-vcs>=0.4"]\n',
         ["hatchling", "hatch-vcs>=0.4"]),
        ('[build-system]\nrequires = []\n', []),
        ('[project]\nname = "x"\n', None),  # build works out the default (setuptools)
        ('[build-system]\nrequires = "hatchling"\n', None),
        ("[build-system]\nrequires = [1]\n", None),
        ("build-system = 3\n", None),
        ("not toml [", None),
        ("", None),
    ],
)
def test_declared_requires(text: str, expected: list[str] | None) -> None:
    assert declared_requires(text) == expected


def build(project: Path, into: Path) -> dict[str, str]:
    runner = Runner(project)
    head = git(project, "rev-parse", "HEAD").strip()
    return {p.name: sha256(p) for p in build_artifacts(runner, head, into)}


def test_the_early_uv_environment_builds_what_builds_own_environment_builds(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[frozenset[str]] = []
    original = build_step.UvEnv.start_install

    def recording(self: build_step.UvEnv, requirements: list[str]) -> None:
        original(self, requirements)
        started.append(self.started)

    monkeypatch.setattr(build_step.UvEnv, "start_install", recording)
    early = build(project_copy, tmp_path / "early")
    assert started == [frozenset({"hatchling"})]

    monkeypatch.setattr(buildenv, "uv_bin", lambda: None)  # build's DefaultIsolatedEnv
    own = build(project_copy, tmp_path / "own")
    assert len(started) == 1
    assert early == own
    assert len(early) == 2


def test_requirements_that_differ_from_the_early_install_are_installed_by_build(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the commit declares is read before build loads; build's own reading decides.
    monkeypatch.setattr(build_step, "declared_requires", lambda _text: ["packaging"])
    installed: list[list[str]] = []
    original = build_step.UvEnv.install

    def recording(self: build_step.UvEnv, requirements: list[str]) -> None:
        installed.append(sorted(requirements))
        original(self, requirements)

    monkeypatch.setattr(build_step.UvEnv, "install", recording)
    built = build(project_copy, tmp_path / "out")
    assert ["hatchling"] in installed
    assert len(built) == 2


def test_a_build_requirement_that_cannot_be_installed_is_a_build_failure(
    project_copy: Path, tmp_path: Path
) -> None:
    pyproject = project_copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            'requires = ["hatchling"]', 'requires = ["hatchling", "no-such-project-exists-9f3a"]'
        ),
        encoding="utf-8",
    )
    commit_all(project_copy, "Require what does not exist")
    with pytest.raises(BuildFailed) as caught:
        build(project_copy, tmp_path / "out")
    assert "Installing the build requirements failed" in caught.value.message
    assert "no-such-project-exists-9f3a" in caught.value.message
    assert not (tmp_path / "out").exists()
    assert git(project_copy, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_uv_named_by_the_uv_variable_makes_every_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the uv package not installed and no uv on PATH, ``$UV`` names uv for the build
    stage's environment and for the environment verify-install installs the release into."""
    fake = tmp_path / "x" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` fails
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("UV", str(fake))

    assert buildenv.uv_bin() == str(fake)
    assert buildenv.installer() == "uv"
    ran: list[str] = []
    ctx = SimpleNamespace(runner=Runner(tmp_path, log=ran.append))
    python = VerifyInstall(None)._install(  # type: ignore[arg-type]
        ctx, tmp_path / "venv", "http://127.0.0.1:9/simple/", "sample-project==1.3.0"
    )
    assert python == str(tmp_path / "venv" / "bin" / "python")
    assert [line.split()[:3] for line in ran] == [
        [str(fake), "venv", "--quiet"],
        [str(fake), "pip", "install"],
        [str(fake), "pip", "install"],
        [str(fake), "pip", "check"],
    ]
