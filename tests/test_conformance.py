"""Conformance with real projects: release against each project's own tools.

Each fixture under tests/conformance/fixtures/ reduces a real open-source project that uses
towncrier to its facts (build and towncrier configuration, fragment file names, tag
history; see tests/conformance/README.md). Here each is materialised as a git repository
with a bare remote, and release must agree with the project's own tools:

- towncrier's ``build --draft --version 99.0.0``, byte for byte, and the version the build
  backend reports, with no ``[tool.release]`` at all and again after ``release init``;
- ``release run patch --yes`` after ``release init`` reaches a local pypiserver and the bare
  remote, unless the fixture names the real problems it must be refused for.

Two checks keep the harness honest: towncrier's own draft and the build backend's own
build work on every fixture. The comparison itself is tests/conformance/harness.py, which
``nox -s conformance`` runs over full clones.
"""

from __future__ import annotations

import fcntl
import fnmatch
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from email.parser import HeaderParser
from pathlib import Path

import pytest
from conftest import (
    PublishTo,
    bare_refs,
    both,
    commit_all,
    configure_publish,
    git,
    problem_codes,
    publish_env,
    run_release,
    run_shared_dir,
    tree_state,
)
from indexes import IndexTarget, clean_env, listed_files
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import harness

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")

FIXTURES = harness.load_fixtures()
BY_NAME = {fixture.name: fixture for fixture in FIXTURES}
NAMES = list(BY_NAME)


@pytest.fixture(scope="session")
def _materialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_shared_dir(tmp_path_factory, "conformance-repos")


@pytest.fixture
def checkout(_materialised: Path, tmp_path: Path) -> Callable[[harness.Fixture], Checkout]:
    """``checkout(fixture)``: a fresh copy of the fixture's repository and bare remote.
    Each fixture is materialised once per run, by the first test of any worker that asks
    (under a lock), and copied for every test."""

    def make(fixture: harness.Fixture) -> Checkout:
        root = _materialised / fixture.name
        with (_materialised / f"{fixture.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / "done").exists():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
                harness.materialise(fixture, root)
                (root / "done").touch()
        repo = tmp_path / fixture.name
        remote = tmp_path / f"{fixture.name}.git"
        shutil.copytree(root / fixture.name, repo, symlinks=True)
        shutil.copytree(root / f"{fixture.name}.git", remote, symlinks=True)
        git(repo, "remote", "set-url", "origin", str(remote))
        return Checkout(repo, repo / fixture.subdir, remote)

    return make


class Checkout:
    """A materialised fixture: the repository, the project inside it, the bare remote."""

    def __init__(self, repo: Path, project: Path, remote: Path) -> None:
        self.repo, self.project, self.remote = repo, project, remote


def fixture_params() -> list[object]:
    return [pytest.param(BY_NAME[name], id=name) for name in NAMES]


def report(fixture: harness.Fixture, phase: str, mismatches: list[str]) -> str:
    return (
        f"{fixture.name} ({fixture.repository}@{fixture.commit[:10]}; {fixture.layout}), "
        f"{phase}: {len(mismatches)} mismatch(es):\n- " + "\n- ".join(mismatches)
    )


def adopt(checkout: Checkout) -> str:
    """``release init``, which must succeed; its changes committed and pushed, as the docs
    tell a user to. Returns what it printed."""
    result = run_release(checkout.project, "init")
    assert result.code == 0, f"`release init` exited {result.code}:\n{result.stdout}{result.stderr}"
    commit_all(checkout.repo, "Adopt release-pipeline")
    git(checkout.repo, "push", "--quiet", "origin", "HEAD")
    return result.stdout


# --- the harness itself: the project's own tools work on every fixture ----------------------


def assert_towncrier_renders(fixture: harness.Fixture, draft: harness.Run) -> None:
    """towncrier, the reference, renders the fixture: a failure here is the fixture's (or the
    harness's), not release's."""
    where = f"harness: towncrier's draft of {fixture.name}"
    assert draft.code == 0, f"{where}: {draft.describe()}"
    assert harness.DRAFT_VERSION in draft.out, f"{where}:\n{draft.out}"
    assert "ERROR" not in draft.out, f"{where}:\n{draft.out}"
    # Fragments were found: their texts, or their issues for types without content.
    issues = [name.rsplit("/", 1)[-1].split(".")[0].lstrip("+") for name in fixture.fragments]
    assert "Change recorded in" in draft.out or any(i and i in draft.out for i in issues), (
        f"{where} shows no fragment:\n{draft.out}"
    )


@pytest.mark.parametrize("fixture", fixture_params())
def test_fixture_builds_with_its_own_backend(
    fixture: harness.Fixture, checkout: Callable[[harness.Fixture], Checkout], tmp_path: Path
) -> None:
    """``python -m build --wheel`` (isolated, requirements from PyPI) builds the fixture's
    HEAD, and the backend reports the version the fixture expects. (The sdist is built by
    the release itself, below.)"""
    project = checkout(fixture).project
    out = tmp_path / "dist"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--installer",
            "uv",
            "--outdir",
            str(out),
            str(project),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(meta).decode("utf-8"))
    assert fnmatch.fnmatchcase(headers["Version"], fixture.expect.backend_version), (
        f"the backend built {headers['Version']}, the fixture expects "
        f"{fixture.expect.backend_version}"
    )
    assert headers["Name"] == fixture.expect.distribution


# --- release against the project's own tools --------------------------------------------------


@pytest.mark.parametrize("fixture", fixture_params())
def test_without_configuration(
    fixture: harness.Fixture, checkout: Callable[[harness.Fixture], Checkout]
) -> None:
    """No ``[tool.release]``: release reads the layout as it is. The comparison's reference,
    towncrier's draft, is checked first (:func:`assert_towncrier_renders`)."""
    project = checkout(fixture).project
    observed = harness.observe(project)
    assert_towncrier_renders(fixture, observed.draft)
    mismatches = observed.mismatches(fixture.expect)
    assert not mismatches, report(fixture, "without [tool.release]", mismatches)


@pytest.mark.parametrize("fixture", fixture_params())
def test_after_release_init_and_release_patch(
    fixture: harness.Fixture,
    checkout: Callable[[harness.Fixture], Checkout],
    pypiserver: IndexTarget,
) -> None:
    """``release init``, committed: the same answers from the configuration it wrote. Then
    ``release run patch --yes`` to a local pypiserver and the bare remote: the tag reaches
    the remote and both files reach the index; or, for a fixture with a real problem, the
    release is refused with it listed and nothing changed."""
    made = checkout(fixture)
    adopt(made)
    observed = harness.observe(made.project)
    mismatches = observed.mismatches(fixture.expect)
    assert not mismatches, report(fixture, "after release init", mismatches)

    target = PublishTo("local", pypiserver)
    if fixture.branch == "main":
        configure_publish(made.project, target)
    else:  # configure_publish pushes `main`
        with (made.project / "pyproject.toml").open("a", encoding="utf-8") as file:
            file.write(target.toml())
        commit_all(made.repo, "Configure publishing")
        git(made.repo, "push", "--quiet", "origin", "HEAD")
    expect = fixture.expect
    before = tree_state(made.repo, made.remote)

    result = run_release(made.project, "run", "patch", "--yes", env=publish_env(target))

    output = both(result)
    assert "Traceback" not in output, output
    if expect.refused:
        assert result.code != 0, f"the release went through:\n{output}"
        listed = problem_codes(result.stdout)
        missing = [code for code in expect.refused if code not in listed]
        assert not missing, f"refused, but without {missing}:\n{output}"
        assert tree_state(made.repo, made.remote) == before, "a refused release changed things"
        assert not listed_files(pypiserver, expect.distribution)
        return
    assert result.code == 0, f"`release run patch --yes` exited {result.code}:\n{output}"
    refs = bare_refs(made.remote)
    assert f"refs/tags/{expect.tag}" in refs, (
        f"tag {expect.tag} is not on the remote; its tags: "
        f"{sorted(r for r in refs if r.startswith('refs/tags/'))}"
    )
    files = sorted(listed_files(pypiserver, expect.distribution))
    versions = set()
    kinds = set()
    for name in files:
        if name.endswith(".whl"):
            versions.add(parse_wheel_filename(name)[1])
            kinds.add("wheel")
        else:
            versions.add(parse_sdist_filename(name)[1])
            kinds.add("sdist")
    assert kinds == {"wheel", "sdist"}, f"files on the index: {files}"
    assert versions == {Version(expect.next_patch)}, f"files on the index: {files}"
