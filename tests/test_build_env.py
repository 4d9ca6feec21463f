"""The build stage's environment: filled by uv while build loads, or build's own, alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commit_all, git

from release.ops.hashing import sha256
from release.runner import Runner
from release.steps import build as build_step
from release.steps.build import BuildFailed, build_artifacts, declared_requires

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

    monkeypatch.setattr(build_step, "_uv_bin", lambda: None)  # build's DefaultIsolatedEnv
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
