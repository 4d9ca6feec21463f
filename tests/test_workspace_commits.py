"""A release of several packages in a real uv workspace (rpws-a -> rpws-b -> rpws-c) with
one release commit per package (consolidate-commits = false): killed between the commits
and resumed, a commit made but not journaled found by its message and parent, and aborted;
and the locks a release of several packages holds beside each package's own
(docs/monorepo.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from conftest import (
    FAILPOINT,
    assert_exit,
    commit_all,
    git,
    read_journal,
    run_release,
    state_dir_of,
)
from workspace_fixture import add_fragment, make_workspace, package_dir

from release.errors import UsageError
from release.plan import Request

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")


def configure(root: Path, release: str, *fragments: tuple[str, str]) -> None:
    """Root ``[tool.release]`` lines and a fragment of type ``kind`` in each named package,
    committed and pushed."""
    path = root / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + release, encoding="utf-8")
    for n, (name, kind) in enumerate(fragments, 1):
        add_fragment(root, name, str(n), kind, f"A {kind} of {name}.")
    commit_all(root, "Changes")
    git(root, "push", "--quiet", "origin", "main")


def changed(root: Path, commit: str) -> set[str]:
    return set(git(root, "show", "--name-only", "--format=", commit).split())


def at(root: Path, commit: str, path: str) -> str:
    return git(root, "show", f"{commit}:{path}")


def locked(root: Path, commit: str) -> dict[str, str]:
    lock = tomllib.loads(at(root, commit, "uv.lock"))
    return {p["name"]: p["version"] for p in lock["package"]}


def assert_a_package_run_waits_for_the_root(ws: Path) -> None:
    """The root's release is unfinished (its locks are stale): a package's own release of
    rpws-b, which it takes too, is refused until it is resumed or aborted."""
    text = assert_exit(run_release(ws, "-C", "packages/b", "run", "--yes"), 2)
    assert "is unfinished and releases this package too" in text
    assert "release resume" in text


def assert_ci_refuses_the_last_commit_alone(ws: Path) -> None:
    """CI at the last package's commit would release rpws-b alone, before rpws-c which it
    requires: it refuses, naming the tag below."""
    text = assert_exit(run_release(ws, "ci", "--build-only"), 2)
    assert "consolidate-commits = false" in text
    assert "rpws-c-v2.0.0" in text
    assert "release ci --tag NAME" in text


def test_one_commit_per_package_killed_between_them_resumes_and_aborts(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    # rpws-c 2.0.0 is outside rpws-b's `<2`: its commit rewrites that pin too.
    configure(
        ws,
        "consolidate-commits = false\nupdate-dependents = true\n",
        ("rpws-b", "bugfix"),
        ("rpws-c", "removal"),
    )
    start = git(ws, "rev-parse", "HEAD").strip()
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file() and ".git" not in p.parts}

    kill = {FAILPOINT: "prepare.commit:rpws-c:after:kill"}
    result = run_release(ws, "run", "--yes", "--until", "tag", env=kill)
    assert result.code != 0
    assert "Commits (2, one per package: consolidate-commits = false):" in result.stdout
    steps = read_journal(ws)["steps"]
    assert steps["prepare.commit:rpws-c"] == "done"
    assert steps["rpws-b/prepare.edit-version:pyproject.toml"] == "pending"
    assert git(ws, "log", "-1", "--format=%s").strip() == "Release rpws-c 2.0.0"

    # Killed once rpws-b's commit is made, before the journal says so: its step still finds
    # it done, by its message on top of rpws-c's commit.
    kill = {FAILPOINT: "prepare.commit:rpws-b:after:kill"}
    result = run_release(ws, "resume", "--until", "tag", env=kill)
    assert result.code != 0
    assert "stale lock of package rpws-b" in result.stdout
    path = state_dir_of(ws) / "journal.json"
    journal = json.loads(path.read_text(encoding="utf-8"))
    first = journal["packages"]["rpws-c"]["release_commit"]
    assert journal["packages"]["rpws-b"]["release_commit"] == git(ws, "rev-parse", "HEAD").strip()
    journal["steps"]["prepare.commit:rpws-b"] = "pending"
    journal["packages"]["rpws-b"]["release_commit"] = None
    journal["release_commit"] = first
    path.write_text(json.dumps(journal), encoding="utf-8")

    assert_a_package_run_waits_for_the_root(ws)
    text = assert_exit(run_release(ws, "resume", "--until", "tag"), 0)
    assert "already done prepare  commit the release of rpws-b 1.0.1" in text
    subjects = git(ws, "log", "--format=%s", f"{start}..HEAD").splitlines()
    assert subjects == ["Release rpws-b 1.0.1", "Release rpws-c 2.0.0"]
    assert git(ws, "rev-parse", "rpws-c-v2.0.0^{commit}").strip() == first
    assert (
        git(ws, "rev-parse", "rpws-b-v1.0.1^{commit}").strip()
        == git(ws, "rev-parse", "HEAD").strip()
    )
    # Each commit holds its package's changes, the lock moved for it alone, and the pin
    # rewrite in the commit of the package it is for: every tag sees a consistent tree.
    assert changed(ws, first) == {
        "packages/c/pyproject.toml",
        "packages/c/CHANGELOG.md",
        "packages/c/changelog.d/2.removal.md",
        "packages/b/pyproject.toml",
        "uv.lock",
    }
    assert changed(ws, "HEAD") == {
        "packages/b/pyproject.toml",
        "packages/b/CHANGELOG.md",
        "packages/b/changelog.d/1.bugfix.md",
        "uv.lock",
    }
    assert locked(ws, first) == {"rpws-a": "1.0.0", "rpws-b": "1.0.0", "rpws-c": "2.0.0"}
    assert locked(ws, "HEAD") == {"rpws-a": "1.0.0", "rpws-b": "1.0.1", "rpws-c": "2.0.0"}
    pinned = at(ws, first, "packages/b/pyproject.toml")
    assert 'dependencies = ["rpws-c>=2.0.0,<3"]' in pinned
    assert 'version = "1.0.0"' in pinned
    assert 'version = "1.0.1"' in at(ws, "HEAD", "packages/b/pyproject.toml")

    assert_ci_refuses_the_last_commit_alone(ws)

    text = assert_exit(run_release(ws, "abort", "--yes"), 0)
    assert "prepare.commit:rpws-b: reset main to" in text
    assert "prepare.commit:rpws-c: reset main to" in text
    assert git(ws, "rev-parse", "HEAD").strip() == start
    assert "rpws-c-v2.0.0" not in git(ws, "tag").split()
    assert "rpws-b-v1.0.1" not in git(ws, "tag").split()
    after = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before


def lock_file(root: Path, package: str) -> Path:
    return state_dir_of(root) / "projects" / package.replace("/", "%2F") / "lock"


def test_a_workspace_run_and_a_package_run_refuse_each_other(tmp_path: Path) -> None:
    from release import flow  # in-process: its confirmation runs while it holds the locks

    ws = make_workspace(tmp_path, lock=False)
    configure(ws, "", ("rpws-c", "feature"))
    # rpws-c's own release runs (a live process holds its lock): the workspace run waits.
    held = lock_file(ws, "packages/c")
    held.parent.mkdir(parents=True)
    held.write_text(f"{os.getpid()}\n", encoding="utf-8")
    text = assert_exit(run_release(ws, "run", "--yes"), 2)
    assert (
        "Package rpws-c (packages/c): Another release is running for this project "
        f"(process {os.getpid()}; lock file"
    ) in text
    assert not (state_dir_of(ws) / "journal.json").exists()
    held.unlink()

    # The workspace run holds every package's lock while it runs: rpws-c's own is refused.
    refused: list[subprocess.CompletedProcess[str]] = []

    def confirm(_plan: object) -> bool:
        refused.append(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "release",
                    "-C",
                    str(package_dir(ws, "rpws-c")),
                    "run",
                    "--yes",
                ],
                capture_output=True,
                text=True,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        )
        return False

    with pytest.raises(UsageError, match="Release cancelled"):
        flow.run(
            ws,
            request=Request(),
            environ=dict(os.environ),
            overrides=(),
            until=None,
            show=lambda _plan, _problems: None,
            confirm=confirm,
            on_step=lambda _outcome: None,
        )
    (done,) = refused
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"Another release is running for this project (process {os.getpid()}, the release of "
        "several packages at the repository's root; lock file"
    ) in done.stderr
    # Released on the way out, failure or not.
    assert not held.exists()
    assert not (state_dir_of(ws) / "lock").exists()


def test_rebased_release_commits_are_found_by_their_messages_in_order(tmp_path: Path) -> None:
    from release.flow import rebased_copies
    from release.runner import Runner

    git(tmp_path, "init", "--quiet")
    for message in ("Base", "Release core 2.0.0", "Release app 1.0.1"):
        git(tmp_path, "commit", "--quiet", "--allow-empty", "-m", message)
    shas = git(tmp_path, "log", "--format=%H", "-2").split()[::-1]
    runner = Runner(tmp_path)
    assert rebased_copies(runner, ["Release core 2.0.0", "Release app 1.0.1"]) == shas
    assert rebased_copies(runner, ["Release app 1.0.1", "Release core 2.0.0"]) is None
    assert rebased_copies(runner, ["Base", "Release core 2.0.0", "Release app 1.0.1"]) is not None
    assert rebased_copies(runner, ["x", "Base", "Release core 2.0.0", "Release app 1.0.1"]) is None
