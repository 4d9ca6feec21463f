"""The kill matrix: a release killed at every step boundary, then resumed, ends exactly as an
uninterrupted release does.

The process is stopped through the failpoint ``RELEASE_PIPELINE_TEST_FAILPOINT=
"<step id>:<before|after>:<kill|sigint|raise>"``.  ``X:after`` and ``Y:before`` for
consecutive steps X, Y are the same boundary (the journal is saved before ``after`` fires),
so the matrix kills before every step and after the last one.

Commit and tagger dates are pinned, so the reference release (made once, from an identical
sample) and every resumed release should agree on everything: trees, messages, commit and
tag objects, the remote's refs, and -- because SOURCE_DATE_EPOCH comes from the commit
time -- the artifacts' sha256.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from conftest import (
    FAILPOINT,
    FRAGMENTS,
    LOCAL_STEPS,
    POST_STEPS,
    assert_stopped_at,
    bare_refs,
    both,
    git,
    read_journal,
    remote_of,
    rev,
    run_release,
)

from release.demo import create_sample_project

# On one xdist worker (tests/scheduling.py), which makes the reference release once.
pytestmark = [
    pytest.mark.usefixtures("utc", "shared_uv_cache", "pinned_dates"),
    pytest.mark.xdist_group("kill-matrix"),
    pytest.mark.cached_samples,  # pinned dates: each copy is the reference's sample, id for id
]

NEXT_DEV = ("-c", "next-dev=true")
STEPS = (*LOCAL_STEPS, "push.push", *POST_STEPS)
BOUNDARIES = (*(f"{step}:before" for step in STEPS), f"{STEPS[-1]}:after")


@dataclass(frozen=True)
class Outcome:
    """What a finished release leaves behind, in the order worth comparing (an object id is
    None where there is no such object)."""

    release_tree: str | None
    release_message: str
    tag_message: str
    dev_tree: str | None
    dev_message: str
    history: str
    release_commit: str | None
    tag_object: str | None
    head: str | None
    remote: tuple[tuple[str, str], ...]
    status: str
    artifact_names: tuple[str, ...]
    artifact_sha256: tuple[tuple[str, str], ...]
    journal_steps: tuple[tuple[str, str], ...]


def outcome(project: Path) -> Outcome:
    dist = project / "dist"
    names = tuple(sorted(p.name for p in dist.iterdir())) if dist.is_dir() else ()
    journal = read_journal(project)
    return Outcome(
        release_tree=rev(project, "v1.3.0^{tree}"),
        release_message=git(project, "log", "-1", "--format=%B", "v1.3.0^{commit}"),
        tag_message=git(project, "for-each-ref", "--format=%(contents)", "refs/tags/v1.3.0"),
        dev_tree=rev(project, "HEAD^{tree}"),
        dev_message=git(project, "log", "-1", "--format=%B", "HEAD"),
        history=git(project, "log", "--format=%T %s"),
        release_commit=rev(project, "v1.3.0^{commit}"),
        tag_object=rev(project, "refs/tags/v1.3.0"),
        head=rev(project, "HEAD"),
        remote=tuple(sorted(bare_refs(remote_of(project)).items())),
        status=git(project, "status", "--porcelain", "--untracked-files=all"),
        artifact_names=names,
        artifact_sha256=tuple(
            (n, hashlib.sha256((dist / n).read_bytes()).hexdigest()) for n in names
        ),
        journal_steps=tuple(journal["steps"].items()),
    )


def assert_same_as(reference: Outcome, project: Path) -> None:
    got = outcome(project)
    # The remote's refs point to the local tag and commit.
    remote = dict(got.remote)
    assert remote["refs/heads/main"] == got.head
    assert remote["refs/tags/v1.3.0"] == got.tag_object
    journal = read_journal(project)
    assert journal["finished"] is True
    assert journal["pushed"] is True
    assert not (project / ".git" / "release-pipeline" / "lock").exists()
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1
    for field in fields(Outcome):
        name = field.name
        assert getattr(got, name) == getattr(reference, name), (
            f"{name} differs from the uninterrupted release"
        )


def assert_stamped_with_commit_time(dist: Path) -> None:
    """SOURCE_DATE_EPOCH of the build is the release commit's time (the pinned date, an hour
    after the SOURCE_DATE_EPOCH of the test environment)."""
    with zipfile.ZipFile(dist / "sample_project-1.3.0-py3-none-any.whl") as wheel:
        assert {i.date_time for i in wheel.infolist()} == {(2026, 1, 1, 1, 0, 0)}
    with tarfile.open(dist / "sample_project-1.3.0.tar.gz") as sdist:
        assert {m.mtime for m in sdist.getmembers()} == {1767229200}


_REFERENCE: dict[str, Outcome] = {}


def make(sample: Callable[..., Path]) -> Path:
    return sample("hatchling", fragments=FRAGMENTS)


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """An uninterrupted release of an identical sample, made once per session."""
    if "outcome" not in _REFERENCE:
        project = create_sample_project(tmp_path_factory.mktemp("reference"), fragments=FRAGMENTS)
        result = run_release(project, *NEXT_DEV, "run", "--yes")
        assert result.code == 0, both(result)
        made = outcome(project)
        assert dict(made.remote)["refs/heads/main"] == made.head
        assert dict(made.remote)["refs/tags/v1.3.0"] == made.tag_object
        assert made.artifact_names == (
            "sample_project-1.3.0-py3-none-any.whl",
            "sample_project-1.3.0.tar.gz",
        )
        assert_stamped_with_commit_time(project / "dist")
        _REFERENCE["outcome"] = made
    return _REFERENCE["outcome"]


def test_the_matrix_covers_every_planned_step(sample: Callable[..., Path]) -> None:
    project = make(sample)
    result = run_release(project, *NEXT_DEV, "preview", "--json")
    assert result.code == 0, both(result)
    assert tuple(s["id"] for s in json.loads(result.stdout)["plan"]["steps"]) == STEPS


@pytest.mark.parametrize("point", BOUNDARIES)
def test_killed_then_resumed_equals_uninterrupted(
    sample: Callable[..., Path],
    reference: Outcome,
    point: str,
) -> None:
    project = make(sample)
    step, when = point.rsplit(":", 1)

    result = run_release(project, *NEXT_DEV, "run", "--yes", env={FAILPOINT: f"{point}:kill"})

    assert result.code == -9, both(result)
    assert_stopped_at(project, STEPS, step, done_through=when == "after")
    lock = project / ".git" / "release-pipeline" / "lock"
    assert lock.exists()  # the killed process could not remove it

    result = run_release(project, "resume")

    assert result.code == 0, both(result)
    assert "stale lock" in result.stdout
    assert_same_as(reference, project)


@pytest.mark.parametrize("point", ["prepare.changelog:before", "build.build:after"])
def test_sigint_stops_after_the_current_step_then_resume_finishes(
    sample: Callable[..., Path],
    reference: Outcome,
    point: str,
) -> None:
    project = make(sample)
    step, _ = point.rsplit(":", 1)

    result = run_release(project, *NEXT_DEV, "run", "--yes", env={FAILPOINT: f"{point}:sigint"})

    assert result.code == 130, both(result)
    assert "Traceback" not in result.stderr
    assert "release resume" in result.stderr
    assert "release abort" in result.stderr
    assert_stopped_at(project, STEPS, step, done_through=True)
    assert not (project / ".git" / "release-pipeline" / "lock").exists()

    result = run_release(project, "resume")

    assert result.code == 0, both(result)
    assert_same_as(reference, project)


@pytest.mark.parametrize("point", ["tag.tag:before", "verify.verify:after"])
def test_an_unexpected_error_stops_cleanly_then_resume_finishes(
    sample: Callable[..., Path],
    reference: Outcome,
    point: str,
) -> None:
    project = make(sample)

    failed = run_release(project, *NEXT_DEV, "run", "--yes", env={FAILPOINT: f"{point}:raise"})

    # A failed step exits 1; an internal error 70.
    assert failed.code in (1, 70), both(failed)
    assert "Traceback" not in failed.stderr, "an unexpected error escaped as a traceback"
    assert read_journal(project)["finished"] is False
    assert not (project / ".git" / "release-pipeline" / "lock").exists()

    result = run_release(project, "resume")

    assert result.code == 0, both(result)
    assert_same_as(reference, project)
    # Like any other stop, the error names the way on.
    assert "release resume" in failed.stderr, "the resume command is not named"
    assert "release abort" in failed.stderr, "the abort command is not named"


# The crash window no failpoint reaches: the side effect happened, the journal did not record
# it.  Simulated by killing before the step and doing its side effect by hand, as it would.
BY_HAND = {
    "prepare.commit": [
        ["add", "--", "pyproject.toml", "src/sample_project/__init__.py", "CHANGELOG.md"],
        ["commit", "--quiet", "-m", "Release 1.3.0"],
    ],
    "tag.tag": [["tag", "--annotate", "-m", "Release 1.3.0", "v1.3.0", "HEAD"]],
    "post.commit": [
        ["add", "--", "pyproject.toml", "src/sample_project/__init__.py"],
        ["commit", "--quiet", "-m", "Start 1.3.1.dev0 development"],
    ],
}


@pytest.mark.parametrize("step", sorted(BY_HAND))
def test_killed_after_the_side_effect_before_the_journal(
    sample: Callable[..., Path],
    reference: Outcome,
    step: str,
) -> None:
    project = make(sample)
    result = run_release(project, *NEXT_DEV, "run", "--yes", env={FAILPOINT: f"{step}:before:kill"})
    assert result.code == -9, both(result)
    for args in BY_HAND[step]:
        git(project, *args)

    result = run_release(project, "resume")

    assert result.code == 0, both(result)
    assert_same_as(reference, project)
