"""A project in a subdirectory of its repository (`release -C packages/a`).

Its state (journal, lock, manifests) is its own, keyed by its path inside the repository,
and every path is compared in one frame, the project's: its own dist/ is not a dirty tree,
abort knows the artifacts it built, and a second project of the same repository neither
sees nor disturbs the first one's release.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAILPOINT,
    FRAGMENTS,
    PublishTo,
    bare_refs,
    both,
    commit_all,
    configure_publish,
    git,
    problem_codes,
    publish_env,
    remote_of,
    run_release,
)

from release.journal import state_dir
from release.ops.git import project_relative

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

FILES = ["sample_project-1.3.0-py3-none-any.whl", "sample_project-1.3.0.tar.gz"]
MOVED = ("pyproject.toml", "src", "changelog.d", "CHANGELOG.md", "README.md")


@pytest.fixture
def repo(sample: Callable[..., Path]) -> Path:
    """A repository whose project is in ``packages/a/`` (the sample project, released at 1.2.0
    as ``v1.2.0`` before it moved), in sync with its bare remote."""
    root = sample(fragments=FRAGMENTS)
    (root / "packages" / "a").mkdir(parents=True)
    for name in MOVED:
        git(root, "mv", name, f"packages/a/{name}")
    commit_all(root, "Move the project into packages/a")
    git(root, "push", "--quiet", "origin", "main")
    return root


def add_second_project(root: Path) -> None:
    """``packages/b/``: a copy of ``packages/a`` with its own tag format (``b-v{version}``);
    build output is ignored, as in most repositories (one project's dist/ is not another's
    to judge)."""
    (root / ".gitignore").write_text("dist/\n", encoding="utf-8")
    shutil.copytree(root / "packages" / "a", root / "packages" / "b")
    pyproject = root / "packages" / "b" / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.release]\n", '[tool.release]\ntag-format = "b-v{version}"\n', 1),
        encoding="utf-8",
    )
    commit_all(root, "Add packages/b")
    git(root, "push", "--quiet", "origin", "main")


def release_in(root: Path, project: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_release(root, "-C", project, *args, env=env)


def state_of(root: Path, project: str) -> Path:
    return state_dir(root / ".git", project)


def journal_of(root: Path, project: str) -> dict[str, Any]:
    return dict(json.loads((state_of(root, project) / "journal.json").read_text("utf-8")))


def tags(root: Path) -> list[str]:
    return git(root, "tag", "--list").split()


# --- the path frame ------------------------------------------------------------------------

def test_paths_from_git_status_are_made_relative_to_the_project() -> None:
    assert project_relative("packages/a/dist/", "packages/a") == "dist/"
    assert project_relative("packages/a/CHANGELOG.md", "packages/a") == "CHANGELOG.md"
    assert project_relative("stray.txt", "packages/a") == "../../stray.txt"
    assert project_relative("packages/b/x.py", "packages/a") == "../b/x.py"
    assert project_relative("dist/x.whl", ".") == "dist/x.whl"


def test_each_project_has_its_own_state_directory(tmp_path: Path) -> None:
    """The root keeps the place journals always had; projects never share a directory."""
    git_dir = tmp_path / ".git"
    assert state_dir(git_dir, ".") == git_dir / "release-pipeline"
    dirs = {state_dir(git_dir, p) for p in (".", "packages/a", "packages/a/manifests", "a")}
    assert len(dirs) == 4
    assert all(d.parent == git_dir / "release-pipeline" / "projects" for d in dirs - {
        git_dir / "release-pipeline"})


# --- check, run, abort, resume in packages/a ---------------------------------------------

def test_check_passes_with_the_projects_own_dist_present(repo: Path) -> None:
    dist = repo / "packages" / "a" / "dist"
    dist.mkdir()
    (dist / "sample_project-1.2.0.tar.gz").write_bytes(b"an older build")

    result = release_in(repo, "packages/a", "check")

    assert result.code == 0, both(result)
    assert "Checks: all passed." in result.stdout


def test_check_names_a_change_outside_the_project_relative_to_it(repo: Path) -> None:
    (repo / "stray.txt").write_text("not committed\n", encoding="utf-8")

    result = release_in(repo, "packages/a", "check")

    assert result.code == 1, both(result)
    assert problem_codes(result.stdout) == ["dirty-tree"]
    assert "../../stray.txt" in result.stdout


def test_run_until_build_then_abort_restores_everything(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    remote_before = bare_refs(remote_of(repo))

    result = release_in(repo, "packages/a", "run", "--yes", "--until", "build")
    assert result.code == 0, both(result)
    dist = repo / "packages" / "a" / "dist"
    assert sorted(p.name for p in dist.iterdir()) == FILES
    assert journal_of(repo, "packages/a")["project_path"] == "packages/a"
    assert not (state_of(repo, ".") / "journal.json").exists()

    result = release_in(repo, "packages/a", "abort", "--yes")

    assert result.code == 0, both(result)
    assert "did not make" not in both(result)
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not dist.exists()
    assert tags(repo) == ["v1.2.0"]
    assert sorted((repo / "packages" / "a" / "changelog.d").iterdir()) == sorted(
        repo / "packages" / "a" / "changelog.d" / n for n in [".gitkeep", *FRAGMENTS]
    )
    assert not (state_of(repo, "packages/a") / "journal.json").exists()
    assert bare_refs(remote_of(repo)) == remote_before


def test_a_failed_step_then_resume_finishes(repo: Path) -> None:
    result = release_in(
        repo, "packages/a", "run", "--yes", env={FAILPOINT: "verify.verify:before:raise"}
    )
    assert result.code == 1, both(result)
    assert f"release -C {repo / 'packages' / 'a'} resume" in result.stderr
    assert journal_of(repo, "packages/a")["steps"]["verify.verify"] == "failed"

    result = release_in(repo, "packages/a", "resume")

    assert result.code == 0, both(result)
    journal = journal_of(repo, "packages/a")
    assert journal["finished"] is True
    assert set(journal["steps"].values()) == {"done"}
    refs = bare_refs(remote_of(repo))
    assert refs["refs/tags/v1.3.0"] == git(repo, "rev-parse", "v1.3.0").strip()
    assert git(repo, "status", "--porcelain") == "?? packages/a/dist/\n"
    manifest = state_of(repo, "packages/a") / "manifests" / "1.3.0.json"
    assert sorted(json.loads(manifest.read_text("utf-8"))["files"]) == FILES


@pytest.mark.usefixtures("no_ambient_credentials")
def test_a_full_run_publishes_and_status_reads_the_projects_manifest(
    repo: Path, pypiserver: Any
) -> None:
    target = PublishTo("local", pypiserver)
    configure_publish(repo / "packages" / "a", target)

    result = release_in(repo, "packages/a", "run", "--yes", env=publish_env(target))

    assert result.code == 0, both(result)
    journal = journal_of(repo, "packages/a")
    assert journal["finished"] is True
    assert journal["uploads"] == {"local": dict.fromkeys(FILES, "uploaded")}
    assert "refs/tags/v1.3.0" in bare_refs(remote_of(repo))
    assert (state_of(repo, "packages/a") / "manifests" / "1.3.0.json").exists()
    status = release_in(repo, "packages/a", "status", env=publish_env(target))
    assert status.code == 0, both(status)
    at_root = run_release(repo, "status")  # the root is another project, with no release
    assert at_root.code == 2, both(at_root)


# --- two projects in one repository ---------------------------------------------------------

def test_a_second_projects_state_does_not_collide(repo: Path) -> None:
    add_second_project(repo)
    result = release_in(repo, "packages/a", "run", "--yes", "--until", "build")
    assert result.code == 0, both(result)
    journal_a = journal_of(repo, "packages/a")

    # While packages/a is half way, packages/b previews and checks, and has no release.
    preview = release_in(repo, "packages/b", "preview")
    assert preview.code == 0, both(preview)
    assert "Tag: b-v1.3.0" in preview.stdout
    check = release_in(repo, "packages/b", "check")
    assert "in progress" not in both(check)
    for command in ("resume", "abort"):
        other = release_in(repo, "packages/b", command, "--yes")
        assert other.code == 2, both(other)
        assert "No release is in progress for this project" in other.stderr
    assert journal_of(repo, "packages/a") == journal_a

    # packages/a finishes; then packages/b releases its own 1.3.0 beside it.
    result = release_in(repo, "packages/a", "resume")
    assert result.code == 0, both(result)
    result = release_in(repo, "packages/b", "run", "--yes")
    assert result.code == 0, both(result)

    assert {"v1.3.0", "b-v1.3.0"} <= set(tags(repo))
    for project, tag in (("packages/a", "v1.3.0"), ("packages/b", "b-v1.3.0")):
        assert journal_of(repo, project)["finished"] is True
        assert journal_of(repo, project)["tag"] == tag
        manifest = state_of(repo, project) / "manifests" / "1.3.0.json"
        assert json.loads(manifest.read_text("utf-8"))["tag"] == tag


def test_a_journal_from_before_projects_is_not_taken_for_another_projects(repo: Path) -> None:
    """A journal an earlier version kept per repository may be this project's release: run
    and resume in the subdirectory refuse with a way to claim it, and change nothing."""
    legacy = state_of(repo, ".") / "journal.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(
        json.dumps({"schema": "release-pipeline/journal", "schema_version": 2,
                    "finished": False, "plan": {}}),
        encoding="utf-8",
    )
    head = git(repo, "rev-parse", "HEAD")

    for args in (("run", "--yes"), ("resume",)):
        result = release_in(repo, "packages/a", *args)
        assert result.code == 2, both(result)
        assert "earlier version of release-pipeline" in result.stderr
        assert str(state_of(repo, "packages/a") / "journal.json") in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
