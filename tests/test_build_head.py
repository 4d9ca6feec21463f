"""`release build`: the build of HEAD outside a release, with the verify checks or without
(`--no-verify`, the release's build stage alone)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import Result, commit_all, git, run_release

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

SDIST = "sample_project-1.2.0.tar.gz"
WHEEL = "sample_project-1.2.0-py3-none-any.whl"
INIT = "src/sample_project/__init__.py"


def printed(result: Result) -> dict[str, str]:
    """file name -> sha256, from the `PATH  sha256 DIGEST` lines of `release build`."""
    found = {}
    for line in result.stdout.splitlines():
        path, _, digest = line.partition("  sha256 ")
        if digest:
            found[Path(path).name] = digest
    return found


def assert_nothing_left(project: Path) -> None:
    """No build worktree is registered and no staging directory is left."""
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not (project / ".git" / "release-pipeline" / "build-head").exists()


def test_no_verify_builds_the_same_files_from_the_committed_head(
    project_copy: Path,
) -> None:
    project = project_copy
    init = project / INIT
    init.write_text(init.read_text(encoding="utf-8") + "UNCOMMITTED = True\n", encoding="utf-8")
    (project / "src" / "sample_project" / "untracked.py").write_text("", encoding="utf-8")

    verified = run_release(project, "build")
    assert verified.code == 0, verified.stderr
    assert sorted(printed(verified)) == sorted([SDIST, WHEEL])
    (project / "dist" / SDIST).unlink()
    (project / "dist" / WHEEL).unlink()

    # In a fresh interpreter, to see what `--no-verify` loads: twine is the verify stage's.
    code = (
        "import sys\nfrom release.cli import main\ncode = main(['build', '--no-verify'])\n"
        "print('twine loaded:', any(m.split('.')[0] == 'twine' for m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, env=dict(os.environ), timeout=600, check=False,
    )
    built = Result(done.returncode, done.stdout, done.stderr)
    assert built.code == 0, built.stderr
    assert "twine loaded: False" in built.stdout
    # The same artifacts, byte for byte, as the verified build.
    assert printed(built) == printed(verified)
    assert sorted(p.name for p in (project / "dist").iterdir()) == sorted([SDIST, WHEEL])
    with tarfile.open(project / "dist" / SDIST) as sdist:
        names = sdist.getnames()
        member = sdist.extractfile(f"sample_project-1.2.0/{INIT}")
        assert member is not None
        assert b"UNCOMMITTED" not in member.read()
    assert not any(n.endswith("untracked.py") for n in names)
    assert_nothing_left(project)
    assert git(project, "status", "--porcelain").splitlines() == [
        f" M {INIT}", "?? dist/", "?? src/sample_project/untracked.py"
    ]


def test_no_verify_skips_the_checks_that_fail_the_verified_build(project_copy: Path) -> None:
    project = project_copy
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('readme = "README.md"', 'readme = "README.rst"'),
                         encoding="utf-8")
    # Markup PyPI would not render: twine check --strict refuses it.
    (project / "README.rst").write_text(".. nosuchdirective:: x\n", encoding="utf-8")
    commit_all(project, "A README in reStructuredText")

    failed = run_release(project, "build")
    assert failed.code == 1
    assert "does not verify" in failed.stderr
    assert "twine check failed" in failed.stderr
    assert not (project / "dist").exists() or not any((project / "dist").iterdir())
    assert_nothing_left(project)

    built = run_release(project, "build", "--no-verify")
    assert built.code == 0, built.stderr
    assert sorted(printed(built)) == sorted([SDIST, WHEEL])
    assert sorted(p.name for p in (project / "dist").iterdir()) == sorted([SDIST, WHEEL])
    assert_nothing_left(project)


def test_build_of_a_project_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    package = repo / "packages" / "sample"
    (package / "src" / "sample").mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "sample"\nversion = "0.1.0"\n',
        encoding="utf-8",
    )
    (package / "src" / "sample" / "__init__.py").write_text("", encoding="utf-8")
    (repo / "elsewhere.txt").write_text("not part of the package\n", encoding="utf-8")
    git(tmp_path, "init", "--quiet", str(repo))
    commit_all(repo, "A package in a subdirectory")

    built = run_release(package, "build", "--no-verify")
    assert built.code == 0, built.stderr
    files = ["sample-0.1.0-py2.py3-none-any.whl", "sample-0.1.0.tar.gz"]
    assert sorted(printed(built)) == files
    assert sorted(p.name for p in (package / "dist").iterdir()) == files
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
