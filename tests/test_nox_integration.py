"""``release.nox.register()`` in a real noxfile, run by the real ``nox``.

The sample projects register the sessions with ``python=False``, so nox runs them in
the environment it runs in (this one, where release-pipeline is installed) and builds
no virtual environment. Dogfooding - this project's own noxfile, which installs the
checkout into a session environment - is tested in a clone of this repository.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result, commit_all, git, remote_of, tree_state

from release.demo import DEMO_FRAGMENTS
from release.render import MAX_REASONS

pytestmark = pytest.mark.cached_samples

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Taken before the tests' isolated HOME applies: the uv cache that already holds the
# packages, so that session environments and builds are made without downloading them.
UV_CACHE = Path(os.environ.get("UV_CACHE_DIR") or Path.home() / ".cache" / "uv")
HAS_UV = importlib.util.find_spec("uv") is not None

NOXFILE = f"""\
from release.nox import register

register(install=({str(ROOT)!r},), python=False)
"""


def nox(project: Path, *args: str, uv_cache: Path | None = None) -> Result:
    """``nox ARGS`` in ``project``, with this environment's scripts (``release``) on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("NOX_DEFAULT_VENV_BACKEND", None)
    if uv_cache is not None:
        env["UV_CACHE_DIR"] = str(uv_cache)
    done = subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=project, env=env, capture_output=True,
        text=True, stdin=subprocess.DEVNULL, timeout=600, check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def uv_cache(fallback: Path) -> Path:
    return UV_CACHE if UV_CACHE.is_dir() else fallback


@pytest.fixture
def project(sample_copy: Callable[..., Path]) -> Path:
    """The demo's sample project (1.2.0, four fragments) with the one-line noxfile,
    committed and pushed."""
    project = sample_copy(fragments=DEMO_FRAGMENTS)
    (project / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    commit_all(project, "Release with nox")
    git(project, "push", "--quiet", "origin", "main")
    return project


def test_the_sessions_are_registered(project: Path) -> None:
    result = nox(project, "--list")
    assert result.code == 0, result.stderr
    assert "* release -> Release the project (release run); `-- --dry-run` previews it." \
        in result.stdout
    assert "* build -> Build and verify HEAD's sdist and wheel into dist/." in result.stdout


@pytest.mark.usefixtures("utc")
def test_dry_run_prints_the_preview_and_changes_nothing(
    project: Path, cli: Callable[..., Result]
) -> None:
    before = tree_state(project, remote_of(project))
    result = nox(project, "-s", "release", "--", "--dry-run")
    assert result.code == 0, result.stdout + result.stderr
    assert "nox > release preview\n" in result.stderr
    # Exactly what `release preview` prints.
    assert result.stdout == cli("preview", cwd=project).stdout
    assert result.stdout.startswith("sample-project 1.2.0 -> 1.3.0 (minor, decided by fragments)")
    assert "Changelog section (CHANGELOG.md):\n## 1.3.0 (2026-01-01)" in result.stdout
    assert result.stdout.rstrip().endswith("Checks: all passed.")
    assert tree_state(project, remote_of(project)) == before
    # --yes means nothing to a preview, and a level still chooses the version.
    result = nox(project, "-s", "release", "--", "--dry-run", "--yes", "major")
    assert result.code == 0, result.stdout + result.stderr
    assert "nox > release preview major\n" in result.stderr
    assert result.stdout.startswith("sample-project 1.2.0 -> 2.0.0 (major, decided by request)")
    assert tree_state(project, remote_of(project)) == before


def test_release_until_tag(project: Path) -> None:
    remote_before = git(remote_of(project), "for-each-ref")
    result = nox(project, "-s", "release", "--", "--yes", "--until", "tag")
    assert result.code == 0, result.stdout + result.stderr
    assert "nox > release run --yes --until tag\n" in result.stderr
    assert re.search(r"^  done +tag +create the annotated tag v1\.3\.0", result.stdout, re.M)
    assert "Stopped after tag, as asked; release resume continues." in result.stdout
    assert git(project, "log", "-1", "--format=%s").strip() == "Release 1.3.0"
    assert git(project, "tag", "--points-at", "HEAD").split() == ["v1.3.0"]
    assert git(project, "cat-file", "-t", "v1.3.0").strip() == "tag"  # annotated
    assert 'version = "1.3.0"' in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert sorted(p.name for p in (project / "changelog.d").iterdir()) == [".gitkeep"]
    assert "## 1.3.0" in (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert git(project, "status", "--porcelain") == ""
    assert not (project / "dist").exists()  # the build stage did not run
    assert git(remote_of(project), "for-each-ref") == remote_before  # nothing pushed


def test_build(project: Path, uv_cache_dir: Path) -> None:
    before = git(project, "rev-parse", "HEAD")
    result = nox(project, "-s", "build", uv_cache=uv_cache(uv_cache_dir))
    assert result.code == 0, result.stdout + result.stderr
    assert "nox > release build\n" in result.stderr
    dist = project / "dist"
    names = sorted(p.name for p in dist.iterdir())
    assert names == ["sample_project-1.2.0-py3-none-any.whl", "sample_project-1.2.0.tar.gz"]
    # Each file is printed with its sha256, which is the file's.
    for name in names:
        digest = hashlib.sha256((dist / name).read_bytes()).hexdigest()
        assert f"{dist / name}  sha256 {digest}\n" in result.stdout
    assert git(project, "rev-parse", "HEAD") == before
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""


def test_dogfooding(tmp_path: Path, uv_cache_dir: Path) -> None:
    """This project's own ``nox -s release -- --dry-run`` previews its next release from its
    own changelog.d/, in a session environment where the checkout is installed."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    head = git(ROOT, "rev-parse", "HEAD").strip()
    remote = tmp_path / "release-pipeline.git"
    clone = tmp_path / "release-pipeline"
    git(tmp_path, "clone", "--quiet", "--bare", "--no-tags", str(ROOT), str(remote))
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    # On main at this checkout's HEAD, in sync with the remote, whatever ROOT has checked out.
    git(clone, "checkout", "--quiet", "-B", "main", head)
    git(clone, "push", "--quiet", "--force", "origin", "main")
    git(clone, "branch", "--quiet", "--set-upstream-to=origin/main")

    args = ["--force-venv-backend", "uv"] if HAS_UV else []
    result = nox(clone, *args, "-s", "release", "--", "--dry-run",
                 uv_cache=uv_cache(uv_cache_dir))
    assert result.code == 0, result.stdout + result.stderr
    assert re.search(r"^nox > (uv pip|python -m pip) install -e \.$", result.stderr, re.M), \
        result.stderr
    assert "nox > release preview\n" in result.stderr

    current = re.search(r'^version = "([^"]+)"', (clone / "pyproject.toml").read_text(
        encoding="utf-8"), re.M)
    assert current is not None
    assert result.stdout.startswith(f"release-pipeline {current[1]} -> "), result.stdout
    fragments = sorted(p.name for p in (clone / "changelog.d").iterdir()
                       if p.name != ".gitkeep")
    assert fragments, "this project has no changelog fragments to release"
    # The text lists the first ten (release.render.MAX_REASONS), then "...".
    consumed = ", ".join(f"changelog.d/{name}" for name in fragments[:MAX_REASONS])
    more = " ..." if len(fragments) > MAX_REASONS else ""
    assert f"Fragments consumed ({len(fragments)}): {consumed}{more}\n" in result.stdout
    assert "Changelog section (CHANGELOG.md):" in result.stdout
    assert result.stdout.rstrip().endswith("Checks: all passed.")
    assert git(clone, "status", "--porcelain") == ""
    assert git(clone, "rev-parse", "HEAD").strip() == head
