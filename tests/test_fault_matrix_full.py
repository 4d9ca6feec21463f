"""The fault matrix over the public half of a release: push, publish, announce and post.

tests/test_kill_matrix.py kills a release at every *local* step boundary. Here the release
also publishes to a real local index (pypiserver, reached through a counting proxy, with
``verify-install``) and announces on the GitHub stand-in, and next-dev adds the post stage.
The process is stopped at every boundary from the push on (SIGKILL; SIGINT and an error at a
few), ``release abort`` must refuse (the release is public), and ``release resume`` must end
exactly as an uninterrupted release: the remote's refs, HEAD and history, the version files
and the changelog, dist/, every file on the index once with the verified sha256, one GitHub
release with the same fields and each asset once (byte-identical), and a finished journal.

Building is the expensive part, so the release is started once per session module
(``release run --until verify``: check, prepare, tag, build, verify) and that repository,
with its bare remote, is copied for each case; the case then runs ``release resume`` with
the failpoint set, as the rest of ``release run`` would (both share the executor). The
stand-in and the proxy live for the whole module, so the URLs recorded in the plan stay
valid; each case starts with an empty index and no GitHub release. Commit and tagger dates
are pinned, so every case's development commit is the reference's, sha for sha.

Also here: the disk fills up during the build (``build.build:during:enospc``), from a real
``release run`` of a fresh, identically configured project, which after ``release resume``
must equal the reference too (so the shared start is no shortcut: a whole run, stopped and
resumed, ends where the copied start ends); and two real ``release run`` processes at once
(the first one held inside its release commit by a post-commit hook), where the second must
refuse.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAILPOINT,
    FRAGMENTS,
    LOCAL_STEPS,
    POST_STEPS,
    SAMPLE_INIT,
    Result,
    assert_stopped_at,
    bare_refs,
    both,
    configure_targets,
    git,
    publish_steps,
    read_journal,
    remote_of,
    run_release,
    set_release_config,
    target_env,
)
from github_standin import GitHubStandIn
from indexes import FaultProxy, IndexTarget, PypiServer, listed_files, sha256_of, twine_upload

from release.demo import create_sample_project

# On one xdist worker (tests/scheduling.py), which makes the shared start and the reference
# release once.
pytestmark = [
    pytest.mark.usefixtures("utc", "shared_uv_cache", "pinned_dates", "no_ambient_credentials"),
    pytest.mark.xdist_group("fault-matrix"),
]

PROJECT = "sample-project"
TARGET = "local"
SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"
FILES = (SDIST, WHEEL)
ANNOUNCE_STEPS = ("announce.draft", "announce.attach", "announce.publish")
PUBLIC_STEPS = ("push.push", *publish_steps(TARGET), *ANNOUNCE_STEPS, *POST_STEPS)
STEPS = LOCAL_STEPS + PUBLIC_STEPS
# ``X:after`` and ``Y:before`` of consecutive steps are the same boundary (the journal is
# saved before ``after`` fires), so: before every step after the push, and after the last.
# (push.push:before is test_kill_matrix's.)
KILL_POINTS = (*(f"{step}:before" for step in PUBLIC_STEPS[1:]), f"{PUBLIC_STEPS[-1]}:after")


# --- the module's index, proxy and GitHub --------------------------------------------------


@pytest.fixture(scope="module")
def standin() -> Iterator[GitHubStandIn]:
    with GitHubStandIn() as github:
        yield github


@pytest.fixture(scope="module")
def proxy(pypiserver_session: PypiServer) -> Iterator[FaultProxy]:
    with FaultProxy(pypiserver_session.target) as started:
        yield started


@dataclass
class World:
    """The index (through the proxy), the stand-in, and what each saw since ``reset``."""

    server: PypiServer
    proxy: FaultProxy
    github: GitHubStandIn
    first_upload: int = 0

    @property
    def index(self) -> IndexTarget:
        return self.proxy.target

    @property
    def env(self) -> dict[str, str]:
        return target_env(github=self.github, index=self.index)

    def reset(self) -> None:
        """An empty index, no GitHub release, no request seen."""
        self.server.reset()
        self.github.get_repo().releases.clear()
        self.github.clear_requests()
        self.github.set_rate_limit(5000)
        self.first_upload = len(self.proxy.uploads)

    def accepted(self) -> dict[str, int]:
        """filename -> uploads of it the index accepted (through the proxy) since ``reset``."""
        counts: dict[str, int] = {}
        for request in self.proxy.uploads[self.first_upload :]:
            if request.upstream_status == 200 and request.filename is not None:
                counts[request.filename] = counts.get(request.filename, 0) + 1
        return counts

    def github_calls(self, method: str, host: str, status: int) -> list[str]:
        return [
            f"{r.path}?{r.query}"
            for r in self.github.requests
            if (r.method, r.host, r.status) == (method, host, status)
        ]


@pytest.fixture
def world(pypiserver_session: PypiServer, proxy: FaultProxy,
          standin: GitHubStandIn) -> Iterator[World]:
    made = World(pypiserver_session, proxy, standin)
    made.reset()
    yield made
    made.reset()


# --- the shared start: a release stopped after verify ----------------------------------------


def configure(project: Path, world: World) -> None:
    """next-dev, one publish target with verify-install, the GitHub release; committed and
    pushed, so the tree is clean and in sync."""
    set_release_config(project, "next-dev = true", commit=False)
    configure_targets(project, github=world.github, index=world.index, name=TARGET,
                      verify_install=True)


def fresh_project(root: Path, world: World) -> Path:
    project: Path = create_sample_project(root, fragments=FRAGMENTS)
    configure(project, world)
    return project


_SNAPSHOT: dict[str, Path] = {}


def copy_project(source: Path, dest_root: Path) -> Path:
    """An independent copy of a sample project and its bare remote."""
    project = dest_root / source.name
    shutil.copytree(source, project, symlinks=True)
    shutil.copytree(remote_of(source), remote_of(project), symlinks=True)
    git(project, "remote", "set-url", "origin", str(remote_of(project)))
    return project


@pytest.fixture
def stopped_after_verify(world: World, tmp_path_factory: pytest.TempPathFactory,
                         tmp_path: Path) -> Callable[[], Path]:
    """``make()`` -> a copy of a release that ran `--until verify` (built once per module)."""

    def make() -> Path:
        if "project" not in _SNAPSHOT:
            project = fresh_project(tmp_path_factory.mktemp("matrix-start"), world)
            result = run_release(project, "run", "--yes", "--until", "verify", env=world.env)
            assert result.code == 0, both(result)
            assert tuple(read_journal(project)["steps"]) == STEPS
            assert world.accepted() == {}
            assert world.github.requests == []
            _SNAPSHOT["project"] = project
        root = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        root.mkdir()
        return copy_project(_SNAPSHOT["project"], root)

    return make


# --- what a finished release leaves behind -----------------------------------------------------


def _text(project: Path, path: str) -> str:
    return (project / path).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    remote: tuple[tuple[str, str], ...]
    head: str
    history: str
    status: str
    files: tuple[tuple[str, str], ...]
    dist: tuple[tuple[str, str], ...]
    index: tuple[tuple[str, str | None], ...]
    release: tuple[tuple[str, Any], ...]
    assets: tuple[tuple[str, str, str], ...]
    journal: tuple[tuple[str, Any], ...]


def outcome(project: Path, world: World) -> Outcome:
    dist = project / "dist"
    names = sorted(p.name for p in dist.iterdir()) if dist.is_dir() else []
    releases = world.github.releases()
    assert len(releases) == 1, [r["tag_name"] for r in releases]
    release = releases[0]
    assets = tuple(sorted(
        (a["name"], a["state"], hashlib.sha256(world.github.asset_bytes(int(a["id"]))).hexdigest())
        for a in world.github.assets(int(release["id"]))
    ))
    journal = read_journal(project)
    return Outcome(
        remote=tuple(sorted(bare_refs(remote_of(project)).items())),
        head=git(project, "rev-parse", "HEAD").strip(),
        history=git(project, "log", "--format=%H %T %s"),
        status=git(project, "status", "--porcelain", "--untracked-files=all"),
        files=tuple(
            (p, _text(project, p)) for p in ("pyproject.toml", SAMPLE_INIT, "CHANGELOG.md")
        ),
        dist=tuple((n, sha256_of(dist / n)) for n in names),
        index=tuple(sorted((n, f.sha256) for n, f in listed_files(world.server.target,
                                                                   PROJECT).items())),
        release=tuple((k, release[k]) for k in ("tag_name", "name", "body", "draft",
                                                 "prerelease")),
        assets=assets,
        journal=tuple((k, journal[k]) for k in ("steps", "finished", "pushed", "error",
                                                 "release_commit", "dev_commit", "artifacts")),
    )


_REFERENCE: dict[str, Outcome] = {}


@pytest.fixture
def reference(world: World, stopped_after_verify: Callable[[], Path]) -> Outcome:
    """The outcome of the same release resumed without a fault (made once per module)."""
    if "outcome" not in _REFERENCE:
        project = stopped_after_verify()
        result = run_release(project, "resume", env=world.env)
        assert result.code == 0, both(result)
        made = outcome(project, world)
        # Sanity of the reference itself.
        journal = dict(made.journal)
        assert set(journal["steps"].values()) == {"done"}
        assert journal["finished"] is True
        assert journal["pushed"] is True
        assert dict(made.remote)["refs/heads/main"] == made.head
        assert [n for n, _ in made.dist] == sorted(FILES)
        assert dict(made.index) == dict(made.dist) == journal["artifacts"]
        assert [(n, s) for n, s, _ in made.assets] == [(n, "uploaded") for n in sorted(FILES)]
        assert [(n, d) for n, _, d in made.assets] == list(made.dist)
        assert dict(made.release)["tag_name"] == "v1.3.0"
        assert "Add a thing." in str(dict(made.release)["body"])
        assert world.accepted() == dict.fromkeys(FILES, 1)
        _REFERENCE["outcome"] = made
        world.reset()
    return _REFERENCE["outcome"]


def assert_same_as_reference(reference: Outcome, project: Path, world: World, *,
                             accepted: dict[str, int] | None = None,
                             asset_uploads: tuple[str, ...] = FILES) -> None:
    got = outcome(project, world)
    for field in fields(Outcome):
        assert getattr(got, field.name) == getattr(reference, field.name), (
            f"{field.name} differs from the uninterrupted release"
        )
    # Nothing twice: each file accepted once by the index, one release made, each asset once.
    assert world.accepted() == (dict.fromkeys(FILES, 1) if accepted is None else accepted)
    created = world.github_calls("POST", "api", 201)
    assert len([c for c in created if c.endswith("/releases?")]) <= 1, created
    uploaded = sorted(c.split("name=", 1)[1] for c in world.github_calls("POST", "uploads", 201))
    assert uploaded == sorted(asset_uploads), "an asset was uploaded twice (or not at all)"
    assert not [r for r in world.github.requests if r.method == "DELETE"]
    # No lock, no build worktree, no staging directory left.
    state = project / ".git" / "release-pipeline"
    assert not (state / "lock").exists()
    assert not (state / "staging").exists()
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1


def assert_abort_refuses(project: Path, world: World) -> Result:
    """After the push, abort refuses and changes nothing (it never rewrites public history)."""
    before = (git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"),
              read_journal(project), bare_refs(remote_of(project)))
    refused = run_release(project, "abort", "--yes", env=world.env)
    assert refused.code == 1, both(refused)
    assert "Traceback" not in refused.stderr
    assert "public" in refused.stderr
    assert "release resume" in refused.stderr
    after = (git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"),
             read_journal(project), bare_refs(remote_of(project)))
    assert after == before
    return refused


# --- the matrix ------------------------------------------------------------------------------


def test_the_matrix_covers_every_step_after_the_push(
    stopped_after_verify: Callable[[], Path],
) -> None:
    journal = read_journal(stopped_after_verify())
    assert tuple(journal["steps"]) == STEPS
    assert {state for step, state in journal["steps"].items() if step in LOCAL_STEPS} == {"done"}
    assert {state for step, state in journal["steps"].items() if step in PUBLIC_STEPS} == {
        "pending"}
    assert len(KILL_POINTS) == len(PUBLIC_STEPS)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_then_resumed_equals_uninterrupted(
    stopped_after_verify: Callable[[], Path], reference: Outcome, world: World, point: str
) -> None:
    project = stopped_after_verify()
    step, when = point.rsplit(":", 1)

    killed = run_release(project, "resume", env={**world.env, FAILPOINT: f"{point}:kill"})

    assert killed.code == -9, both(killed)
    assert_stopped_at(project, STEPS, step, done_through=when == "after")
    assert (project / ".git" / "release-pipeline" / "lock").exists()
    refused = assert_abort_refuses(project, world)
    assert "stale" in refused.stdout  # the killed process's lock, reported and removed

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    assert_same_as_reference(reference, project, world)


@pytest.mark.parametrize(
    "point", [f"publish.upload:{TARGET}:before", "announce.attach:before"]
)
def test_sigint_finishes_the_step_stops_then_resume_finishes(
    stopped_after_verify: Callable[[], Path], reference: Outcome, world: World, point: str
) -> None:
    project = stopped_after_verify()
    step, _ = point.rsplit(":", 1)

    stopped = run_release(project, "resume", env={**world.env, FAILPOINT: f"{point}:sigint"})

    assert stopped.code == 130, both(stopped)
    assert "Traceback" not in stopped.stderr
    assert_stopped_at(project, STEPS, step, done_through=True)
    assert "release resume" in stopped.stderr
    assert "abort refuses once pushed" in stopped.stderr
    assert not (project / ".git" / "release-pipeline" / "lock").exists()

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    assert_same_as_reference(reference, project, world)


@pytest.mark.parametrize(
    ("point", "failed_step"),
    [
        ("announce.draft:before", "announce.draft"),
        (f"publish.upload:{TARGET}:after", None),  # between two steps: no step is to blame
    ],
)
def test_an_unexpected_error_stops_cleanly_then_resume_finishes(
    stopped_after_verify: Callable[[], Path], reference: Outcome, world: World, point: str,
    failed_step: str | None,
) -> None:
    project = stopped_after_verify()

    failed = run_release(project, "resume", env={**world.env, FAILPOINT: f"{point}:raise"})

    assert failed.code == 1, both(failed)
    assert "Traceback" not in failed.stderr
    assert "internal error" not in failed.stderr
    assert "release resume" in failed.stderr
    journal = read_journal(project)
    assert journal["finished"] is False
    if failed_step is not None:
        assert journal["steps"][failed_step] == "failed"
        assert f"failpoint {point}" in journal["error"]
    assert not (project / ".git" / "release-pipeline" / "lock").exists()

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    assert_same_as_reference(reference, project, world)


# The crash windows no failpoint reaches: the side effect happened, the journal did not record
# it. Simulated by killing before the step and doing part of its side effect by hand.


def test_killed_after_the_sdist_reached_the_index_before_the_journal(
    stopped_after_verify: Callable[[], Path], reference: Outcome, world: World
) -> None:
    project = stopped_after_verify()
    point = f"publish.upload:{TARGET}:before"
    killed = run_release(project, "resume", env={**world.env, FAILPOINT: f"{point}:kill"})
    assert killed.code == -9, both(killed)
    # The step uploads the sdist first; it reached the index (directly, not via the proxy).
    done = twine_upload(world.server.target, project / "dist" / SDIST)
    assert done.returncode == 0, done.stdout + done.stderr

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    assert_same_as_reference(reference, project, world, accepted={WHEEL: 1})
    uploads = [r for r in world.proxy.uploads[world.first_upload :] if r.filename == SDIST]
    assert uploads == [], "the sdist already on the index was uploaded again"


def test_killed_after_the_release_and_one_asset_were_made_before_the_journal(
    stopped_after_verify: Callable[[], Path], reference: Outcome, world: World
) -> None:
    project = stopped_after_verify()
    point = "announce.attach:before"
    killed = run_release(project, "resume", env={**world.env, FAILPOINT: f"{point}:kill"})
    assert killed.code == -9, both(killed)
    # The draft step made the draft; the attach step uploads the sdist first.
    (made,) = world.github.releases()
    assert made["draft"] is True
    kept = world.github.seed_asset(int(made["id"]), SDIST, (project / "dist" / SDIST).read_bytes(),
                                   content_type="application/gzip")

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    assert_same_as_reference(reference, project, world, asset_uploads=(WHEEL,))
    (release,) = world.github.releases()
    assert release["id"] == made["id"]
    assert kept["id"] in [a["id"] for a in world.github.assets(int(release["id"]))]
    made_by = world.github_calls("POST", "api", 201)
    assert len(made_by) == 1, f"a second release was created: {made_by}"  # the draft step's


# --- the disk fills up during the build ------------------------------------------------------


def tree_bytes(directory: Path) -> dict[str, bytes] | None:
    """Relative path -> content of every file under ``directory``; None if it is absent."""
    if not directory.exists():
        return None
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("dist_before", ["absent", "present"])
def test_disk_full_during_the_build_leaves_dist_untouched_and_uploads_nothing(
    world: World, reference: Outcome, tmp_path: Path, dist_before: str
) -> None:
    project = fresh_project(tmp_path / "enospc", world)
    dist = project / "dist"
    if dist_before == "present":
        dist.mkdir()
        (dist / "sample_project-1.1.0.tar.gz").write_bytes(b"an older build\n")
        (dist / "notes.txt").write_text("kept\n", encoding="utf-8")
    before = tree_bytes(dist)
    remote_before = bare_refs(remote_of(project))

    failed = run_release(project, "run", "--yes",
                         env={**world.env, FAILPOINT: "build.build:during:enospc"})

    text = both(failed)
    assert failed.code == 1, text
    assert "Traceback" not in failed.stderr
    assert "internal error" not in text
    assert "build.build" in text
    assert "No space left on device" in text
    assert "release resume" in text
    assert tree_bytes(dist) == before, "dist/ was touched by a build that failed"
    assert world.proxy.uploads[world.first_upload :] == [], "something was uploaded"
    assert listed_files(world.server.target, PROJECT) == {}
    assert world.github.requests == [], "GitHub was called"
    assert bare_refs(remote_of(project)) == remote_before, "something was pushed"
    journal = read_journal(project)
    assert journal["steps"]["build.build"] == "failed"
    assert journal["artifacts"] == {}
    assert not (project / ".git" / "release-pipeline" / "lock").exists()

    resumed = run_release(project, "resume", env=world.env)

    assert resumed.code == 0, both(resumed)
    if dist_before == "absent":
        # A fresh, identically configured project: the same release, sha for sha.
        assert_same_as_reference(reference, project, world)
    else:
        got = tree_bytes(dist)
        assert got is not None
        assert before is not None
        assert {k: v for k, v in got.items() if k in before} == before
        assert sorted(set(got) - set(before)) == sorted(FILES)
        assert outcome(project, world).index == reference.index
        assert world.accepted() == dict.fromkeys(FILES, 1)


# --- two releases at once ----------------------------------------------------------------------


HOOK = """#!/bin/sh
# Test hook: hold the release inside its release commit until the test lets it go.
touch "{ready}"
n=0
while [ ! -e "{go}" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
"""


def test_a_second_release_run_refuses_while_the_first_is_running(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """Two real processes: the first `release run` is held inside its release commit (a
    post-commit hook waits, which --no-verify does not skip); `run`, `resume` and `abort`
    meanwhile refuse, name the running process, and leave its lock and journal alone."""
    project = sample_copy(fragments=FRAGMENTS)
    ready, go = tmp_path / "ready", tmp_path / "go"
    hook = project / ".git" / "hooks" / "post-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(HOOK.format(ready=ready, go=go), encoding="utf-8")
    hook.chmod(0o755)
    start = git(project, "rev-parse", "HEAD").strip()
    lock = project / ".git" / "release-pipeline" / "lock"

    first = subprocess.Popen(
        [sys.executable, "-m", "release", "run", "--yes", "--until", "prepare"], cwd=project,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first release never reached its commit"
            time.sleep(0.05)
        assert lock.read_text(encoding="utf-8").strip() == str(first.pid)
        journal = read_journal(project)

        for args in (("run", "--yes"), ("resume",), ("abort", "--yes")):
            second = run_release(project, *args)
            assert second.code == 2, (args, both(second))
            assert "Traceback" not in second.stderr
            assert "Another release is running" in second.stderr, (args, second.stderr)
            assert str(first.pid) in second.stderr
            assert ".git/release-pipeline/lock" in second.stderr
            assert lock.read_text(encoding="utf-8").strip() == str(first.pid)
            assert read_journal(project) == journal

        go.touch()
        out, err = first.communicate(timeout=120)
    finally:
        go.touch()
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out + err
    # The first release went on as if alone: one release commit on the start.
    assert git(project, "log", "-1", "--format=%s").strip() == "Release 1.3.0"
    assert git(project, "rev-parse", "HEAD^").strip() == start
    assert not lock.exists()
    assert read_journal(project)["steps"]["prepare.commit"] == "done"
