"""`release run` end to end: real sample projects, a real bare remote, real builds.

Each layout the demo makes (hatchling, setuptools, flit-core, hatch-vcs) is released for
real, and everything the release leaves behind is read back: the bare remote's refs, the
release commit's files, the tag, the changelog, the artifacts and their metadata.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import time
from collections.abc import Callable
from email.parser import HeaderParser
from pathlib import Path

import pytest
from conftest import (
    FRAGMENTS,
    bare_refs,
    both,
    git,
    read_journal,
    remote_of,
    run_release,
    set_release_config,
    wheel_metadata,
)

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

INIT = "src/sample_project/__init__.py"
VERSION_FILES = {
    "hatchling": ("pyproject.toml", INIT),
    "setuptools": ("pyproject.toml", INIT),
    "flit": (INIT,),
    "hatch-vcs": (),
}
SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"


def version_in(path: str, text: str) -> str:
    pattern = r'^version = "([^"]*)"' if path == "pyproject.toml" else r'^__version__ = "([^"]*)"$'
    found = re.search(pattern, text, re.MULTILINE)
    assert found, text
    return found.group(1)


def sdist_metadata(path: Path) -> dict[str, str]:
    with tarfile.open(path) as sdist:
        (member,) = [
            m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        ]
        handle = sdist.extractfile(member)
        assert handle is not None
        headers = HeaderParser().parsestr(handle.read().decode())
    return dict(headers.items())


def name_status(project: Path, rev: str) -> set[tuple[str, str]]:
    out = git(project, "show", "--no-renames", "--name-status", "--format=", rev)
    return {tuple(line.split("\t", 1)) for line in out.splitlines() if line}  # type: ignore[misc]


def work_tree_state(project: Path) -> tuple[str, str, str, str]:
    return (
        git(project, "rev-parse", "HEAD"),
        git(project, "for-each-ref"),
        git(project, "status", "--porcelain", "--untracked-files=all"),
        git(project, "ls-files", "--stage"),
    )


# --- a full local release of every layout ----------------------------------------------


def check_release_commit(project: Path, layout: str, start: str) -> str:
    """The release commit: on top of ``start``, with only the files the release changed."""
    release = git(project, "rev-parse", "v1.3.0^{commit}").strip()
    assert git(project, "rev-parse", f"{release}^").strip() == start
    assert git(project, "log", "-1", "--format=%B", release).strip() == "Release 1.3.0"
    expected = {("M", path) for path in VERSION_FILES[layout]} | {("M", "CHANGELOG.md")}
    expected |= {("D", f"changelog.d/{name}") for name in FRAGMENTS}
    assert name_status(project, release) == expected
    # Version files of the release commit hold the new version.
    for path in VERSION_FILES[layout]:
        assert version_in(path, git(project, "show", f"{release}:{path}")) == "1.3.0", path
    # Fragments consumed: gone from the release commit and from the work tree.
    in_commit = git(project, "ls-tree", "-r", "--name-only", release, "changelog.d/").split()
    assert in_commit == ["changelog.d/.gitkeep"]
    assert sorted(p.name for p in (project / "changelog.d").iterdir()) == [".gitkeep"]
    # The changelog section is in CHANGELOG.md, above the previous release.
    changelog = git(project, "show", f"{release}:CHANGELOG.md")
    assert "## 1.3.0 (2026-01-01)" in changelog
    assert "Add a thing." in changelog
    assert "Fix a bug." in changelog
    assert changelog.index("## 1.3.0 (2026-01-01)") < changelog.index("## 1.2.0 (2026-01-01)")
    assert (project / "CHANGELOG.md").read_text(encoding="utf-8") == changelog
    return release


def check_artifacts(project: Path) -> None:
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted([SDIST, WHEEL])
    meta = wheel_metadata(dist / WHEEL)
    assert (meta["Name"], meta["Version"]) == ("sample-project", "1.3.0")
    assert sdist_metadata(dist / SDIST)["Version"] == "1.3.0"


def check_head(project: Path, layout: str, release: str, *, next_dev: bool) -> str:
    """HEAD is the release commit, or the development commit right on top of it."""
    head = git(project, "rev-parse", "HEAD").strip()
    want = "1.3.1.dev0" if next_dev else "1.3.0"
    if next_dev:
        assert git(project, "rev-parse", "HEAD^").strip() == release
        assert git(project, "log", "-1", "--format=%B").strip() == "Start 1.3.1.dev0 development"
        assert name_status(project, "HEAD") == {("M", p) for p in VERSION_FILES[layout]}
    else:
        assert head == release
    for path in VERSION_FILES[layout]:
        assert version_in(path, (project / path).read_text(encoding="utf-8")) == want, path
    return head


def check_nothing_left_behind(project: Path) -> None:
    """Only dist/ is new in the work tree; the journal is finished; no lock, no worktree."""
    status = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert sorted(status) == sorted([f"?? dist/{SDIST}", f"?? dist/{WHEEL}"])
    journal = read_journal(project)
    assert journal["finished"] is True
    assert journal["pushed"] is True
    assert set(journal["steps"].values()) == {"done"}
    assert not (project / ".git" / "release-pipeline" / "lock").exists()
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.parametrize(
    ("layout", "next_dev"),
    [("hatchling", True), ("setuptools", False), ("flit", True), ("hatch-vcs", False)],
)
def test_full_release(sample: Callable[..., Path], layout: str, next_dev: bool) -> None:
    project = sample(layout, fragments=FRAGMENTS)
    remote = remote_of(project)
    set_release_config(project, 'tag-message = "Sample {version}: the {tag} release"')
    git(project, "push", "--quiet", "origin", "main")
    start = git(project, "rev-parse", "HEAD").strip()

    args = ["-c", "next-dev=true"] if next_dev else []
    result = run_release(project, *args, "run", "--yes")
    assert result.code == 0, both(result)
    assert "Traceback" not in result.stderr
    assert "Released." in result.stdout

    release = check_release_commit(project, layout, start)
    # The tag is annotated, with the configured message.
    assert git(project, "cat-file", "-t", "v1.3.0").strip() == "tag"
    message = git(project, "for-each-ref", "--format=%(contents)", "refs/tags/v1.3.0")
    assert message.strip() == "Sample 1.3.0: the v1.3.0 release"
    check_artifacts(project)
    head = check_head(project, layout, release, next_dev=next_dev)
    # The remote has the branch (with the release commit) and the tag, as made locally.
    refs = bare_refs(remote)
    assert refs["refs/heads/main"] == head
    assert refs["refs/tags/v1.3.0"] == git(project, "rev-parse", "refs/tags/v1.3.0").strip()
    assert git(remote, "rev-parse", "v1.3.0^{commit}").strip() == release
    git(remote, "merge-base", "--is-ancestor", release, "refs/heads/main")
    check_nothing_left_behind(project)


def test_hatch_vcs_build_gets_the_tag_version_not_a_dev_version(
    sample: Callable[..., Path],
) -> None:
    """The build is a clean export of the tagged commit: hatch-vcs must see exactly v1.3.0,
    even though the work tree has an untracked file and another commit follows."""
    project = sample("hatch-vcs", fragments=FRAGMENTS)
    result = run_release(project, "run", "--yes", "--until", "tag")
    assert result.code == 0, both(result)
    # Work that would make a work-tree build a dev version: a later commit, a dirty file.
    (project / "NOTES.txt").write_text("later work\n", encoding="utf-8")
    git(project, "add", "NOTES.txt")
    git(project, "commit", "--quiet", "-m", "Later work")
    (project / "scratch.txt").write_text("dirty\n", encoding="utf-8")
    result = run_release(project, "resume", "--until", "verify")
    assert result.code == 0, both(result)
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted([SDIST, WHEEL])
    assert wheel_metadata(dist / WHEEL)["Version"] == "1.3.0"
    with tarfile.open(dist / SDIST) as sdist:
        names = {m.name.split("/", 1)[-1] for m in sdist.getmembers()}
    assert "NOTES.txt" not in names
    assert "scratch.txt" not in names


def test_next_dev_with_version_from_scm_does_not_fail_after_the_push(
    sample: Callable[..., Path],
) -> None:
    """hatch-vcs has no version file to bump.  With next-dev on, either the release finishes
    (no empty development commit) or it is refused up front; never a failure after the
    release went public."""
    project = sample("hatch-vcs", fragments=FRAGMENTS)
    remote = remote_of(project)
    before = work_tree_state(project)
    remote_before = bare_refs(remote)
    result = run_release(project, "-c", "next-dev=true", "run", "--yes")
    if result.code == 0:
        journal = read_journal(project)
        assert journal["finished"] is True, journal
        assert bare_refs(remote)["refs/heads/main"] == git(project, "rev-parse", "HEAD").strip()
        assert name_status(project, "HEAD"), "an empty development commit was made"
    else:
        assert result.code == 2, both(result)
        assert work_tree_state(project) == before
        assert bare_refs(remote) == remote_before


# --- confirmation ----------------------------------------------------------------------


def test_run_without_terminal_and_without_yes_changes_nothing(project: Path) -> None:
    remote = remote_of(project)
    before = work_tree_state(project)
    files_before = {
        p: p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }
    remote_before = bare_refs(remote)

    result = run_release(project, "run")

    assert result.code == 2, both(result)
    assert "--yes" in result.stderr
    assert "Traceback" not in result.stderr
    assert work_tree_state(project) == before
    assert {
        p: p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    } == files_before
    assert bare_refs(remote) == remote_before
    state = project / ".git" / "release-pipeline"
    assert not state.exists() or list(state.iterdir()) == []


# --- two releases at once ---------------------------------------------------------------


def _lock(project: Path) -> Path:
    path = project / ".git" / "release-pipeline" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_run_refuses_while_another_release_holds_the_lock(project: Path) -> None:
    remote = remote_of(project)
    before = work_tree_state(project)
    remote_before = bare_refs(remote)
    holder = subprocess.Popen(["sleep", "30"])
    try:
        lock = _lock(project)
        lock.write_text(f"{holder.pid}\n", encoding="utf-8")
        result = run_release(project, "run", "--yes")
        assert result.code == 2, both(result)
        assert "Traceback" not in result.stderr
        assert str(lock) in result.stderr or ".git/release-pipeline/lock" in result.stderr
        assert str(holder.pid) in result.stderr
        # The other release's lock is left alone, and nothing was changed.
        assert lock.read_text(encoding="utf-8").strip() == str(holder.pid)
        assert work_tree_state(project) == before
        assert bare_refs(remote) == remote_before
        assert not (lock.parent / "journal.json").exists()
    finally:
        holder.kill()
        holder.wait()


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    time.sleep(0.05)
    return gone.pid


def test_run_with_a_stale_lock_reports_it_and_proceeds(project: Path) -> None:
    lock = _lock(project)
    pid = _dead_pid()
    lock.write_text(f"{pid}\n", encoding="utf-8")

    result = run_release(project, "run", "--yes", "--until", "prepare")

    assert result.code == 0, both(result)
    assert git(project, "log", "-1", "--format=%s").strip() == "Release 1.3.0"
    assert not lock.exists()
    assert str(pid) in both(result), "release run removed a stale lock without saying so"
    assert "stale" in both(result).lower()


def test_resume_with_a_stale_lock_reports_it_and_proceeds(project: Path) -> None:
    result = run_release(project, "run", "--yes", "--until", "check")
    assert result.code == 0, both(result)
    lock = _lock(project)
    pid = _dead_pid()
    lock.write_text(f"{pid}\n", encoding="utf-8")

    result = run_release(project, "resume", "--until", "prepare")

    assert result.code == 0, both(result)
    assert "stale" in result.stdout.lower()
    assert str(pid) in result.stdout
    assert git(project, "log", "-1", "--format=%s").strip() == "Release 1.3.0"
    assert not lock.exists()


def test_run_refuses_while_a_release_is_in_progress(project: Path) -> None:
    result = run_release(project, "run", "--yes", "--until", "prepare")
    assert result.code == 0, both(result)
    before = work_tree_state(project)

    again = run_release(project, "run", "--yes")

    assert again.code == 2, both(again)
    assert "in progress" in again.stderr
    assert "release resume" in again.stderr
    assert "release abort" in again.stderr
    assert work_tree_state(project) == before
