"""The matrix pipelines `release init --ci` writes for a project with compiled extensions:
detection, actionlint, zizmor and the CI systems' schemas, and a matrix that covers the
platforms the project declares in `wheels`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import test_workflow
from conftest import CLI, both
from test_workflow import check_jsonschema, load_yaml, zizmor

from release.wheels import LINUX, PLATFORMS, uncovered

pytestmark = pytest.mark.cached_samples

actionlint = test_workflow.actionlint  # the fixture

SETUP_PY = """\
from setuptools import Extension, setup

setup(ext_modules=[Extension("spam._speedups", ["src/spam/_speedups.c"])])
"""

DECLARED = ["cp3{10..13}-manylinux_*_x86_64", "cp3{10..13}-manylinux_*_aarch64",
            "*-macosx_*_arm64", "*-macosx_*_x86_64", "*-win_amd64"]


def write_project(root: Path, pyproject: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


SETUPTOOLS = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "spam"
version = "1.0.0"

[tool.release]
wheels = {wheels}
"""

MATURIN = """\
[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "eggs"
version = "1.0.0"

[tool.release]
wheels = ["cp312-manylinux_*_x86_64"]
"""


@pytest.fixture
def extension_project(tmp_path: Path) -> Path:
    wheels = "[" + ", ".join(f'"{p}"' for p in DECLARED) + "]"
    return write_project(tmp_path / "spam", SETUPTOOLS.format(wheels=wheels),
                         {"setup.py": SETUP_PY})


def init(project: Path, cli: CLI, kind: str) -> tuple[Path, str]:
    result = cli("init", "--ci", kind, cwd=project)
    assert result.code == 0, both(result)
    path = project / (".github/workflows/release.yml" if kind == "github" else ".gitlab-ci.yml")
    return path, result.stdout


def matrix_platforms(workflow: dict[str, Any]) -> list[str]:
    """The platform tags the wheel jobs of a generated workflow make, from its matrix (each
    entry's runner and arch, looked up in the known platforms)."""
    made = []
    for entry in workflow["jobs"]["wheels"]["strategy"]["matrix"]["include"]:
        for p in PLATFORMS:
            if entry["runner"] == p.runner and entry.get("archs", entry.get("target")) in (
                    p.cibw_archs, p.maturin_target):
                made += p.examples
    return made


def test_the_matrix_workflow_covers_the_declared_platforms_and_passes_the_linters(
        extension_project: Path, cli: CLI, actionlint: Callable[[Path], list[dict[str, object]]],
) -> None:
    path, message = init(extension_project, cli, "github")
    assert "wheel matrix (cibuildwheel)" in message
    assert actionlint(path) == []
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr
    schema = check_jsonschema(path, "vendor.github-workflows")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    workflow = load_yaml(path)
    jobs = workflow["jobs"]
    assert set(jobs) == {"sdist", "wheels", "publish"}
    assert sorted(jobs["publish"]["needs"]) == ["sdist", "wheels"]
    assert "if" not in jobs["publish"], "publish must run only when every job succeeded"
    assert jobs["wheels"]["strategy"]["fail-fast"] is False
    # Every declared pattern's platform is made by some job of the matrix.
    made = matrix_platforms(workflow)
    from fnmatch import fnmatchcase

    from release.wheels import check_pattern
    for entry in DECLARED:
        for pattern in check_pattern(entry):
            assert any(fnmatchcase(tag, pattern.split("-")[-1]) for tag in made), pattern
    assert uncovered(DECLARED) == []
    steps = jobs["wheels"]["steps"]
    assert any(str(s.get("uses", "")).startswith("pypa/cibuildwheel@") for s in steps)
    sdist_run = [s["run"] for s in jobs["sdist"]["steps"] if "run" in s]
    assert "release ci --build-only --dist sdist --outdir dist" in sdist_run
    publish_run = [s["run"] for s in jobs["publish"]["steps"] if "run" in s]
    assert "release ci --publish-from artifacts" in publish_run
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():  # every action pinned by SHA with its tag in a comment
        if "uses:" in line:
            assert "  # v" in line, line
            assert len(line.split("@")[1].split()[0]) == 40, line


def test_a_platform_the_matrix_does_not_build_is_not_covered() -> None:
    assert uncovered(["*-musllinux_*_x86_64", "*-win_arm64", "cp312-ios_*"]) == [
        "*-win_arm64", "cp312-ios_*"]
    assert uncovered(["*-macosx_*_arm64"], LINUX) == ["*-macosx_*_arm64"]


def test_a_maturin_project_gets_maturins_action(tmp_path: Path, cli: CLI, actionlint) -> None:
    project = write_project(tmp_path / "eggs", MATURIN)
    path, _message = init(project, cli, "github")
    assert actionlint(path) == []
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = load_yaml(path)["jobs"]["wheels"]["steps"]
    assert any(str(s.get("uses", "")).startswith("PyO3/maturin-action@") for s in steps)
    assert not any(str(s.get("uses", "")).startswith("pypa/cibuildwheel@") for s in steps)
    assert "cp312-manylinux" not in path.read_text(encoding="utf-8")
    refused = cli("init", "--ci", "gitlab", cwd=project)
    assert refused.code == 2, both(refused)
    assert "maturin" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_gitlab_matrix_has_linux_jobs_and_validates(extension_project: Path,
                                                        cli: CLI) -> None:
    path, _message = init(extension_project, cli, "gitlab")
    done = check_jsonschema(path, "vendor.gitlab-ci")
    assert done.returncode == 0, done.stdout + done.stderr
    pipeline = load_yaml(path)
    wheel_jobs = sorted(k for k in pipeline if k.startswith("release-wheels-"))
    assert wheel_jobs == sorted(f"release-wheels-{p.name}" for p in LINUX)
    needs = [n["job"] for n in pipeline["release-publish"]["needs"]]
    assert sorted(needs) == sorted(["release-sdist", *wheel_jobs])
    assert "macOS or Windows" in path.read_text(encoding="utf-8")


def test_a_pure_python_project_keeps_the_two_job_workflow(project: Path, cli: CLI) -> None:
    path, _message = init(project, cli, "github")
    assert set(load_yaml(path)["jobs"]) == {"build", "publish"}


@pytest.mark.parametrize(("pyproject", "files", "builder"), [
    ('[build-system]\nbuild-backend = "scikit_build_core.build"\n', {}, "cibuildwheel"),
    ('[build-system]\nbuild-backend = "mesonpy"\n', {}, "cibuildwheel"),
    ('[build-system]\nbuild-backend = "maturin"\n', {}, "maturin"),
    ("[tool.setuptools]\next-modules = [{name = 'a', sources = ['a.c']}]\n", {}, "cibuildwheel"),
    ("", {"setup.py": SETUP_PY}, "cibuildwheel"),
    ("[tool.hatch.build.targets.wheel.hooks.mypyc]\ndependencies = ['hatch-mypyc']\n", {},
     "cibuildwheel"),
    ('[tool.hatch.build.hooks.custom]\npath = "hb.py"\n',
     {"hb.py": "from setuptools import Extension\n"}, "cibuildwheel"),
    ('[tool.hatch.build.hooks.custom]\npath = "hb.py"\n', {"hb.py": "print('hi')\n"}, None),
    ('[tool.cibuildwheel]\nbuild = "cp312-*"\n', {}, "cibuildwheel"),
    ('[build-system]\nbuild-backend = "hatchling.build"\n', {"setup.py": "setup()\n"}, None),
], ids=["scikit-build-core", "meson-python", "maturin", "setuptools-table", "setup.py",
        "hatch-mypyc", "hatch-custom-compiling", "hatch-custom-pure", "cibuildwheel", "pure"])
def test_detection(tmp_path: Path, pyproject: str, files: dict[str, str],
                   builder: str | None) -> None:
    from release.config import read_pyproject
    from release.extensions import detect

    project = write_project(tmp_path / "p", pyproject, files)
    found = detect(project, read_pyproject(project))
    assert found.builder == builder, found
    assert bool(found.found) == (builder is not None)


def test_release_init_says_it_found_extensions(tmp_path: Path, cli: CLI) -> None:
    from conftest import git

    project = write_project(tmp_path / "spam", SETUPTOOLS.replace(
        "[tool.release]\nwheels = {wheels}\n", ""), {"setup.py": SETUP_PY})
    git(project, "init", "--quiet", "--initial-branch", "main")
    result = cli("init", "--dry-run", cwd=project)
    assert result.code == 0, both(result)
    assert "compiled extensions (setup.py declares compiled extensions" in result.stdout
    assert "cibuildwheel builds the wheels" in result.stdout
