"""`release run --until`, `release resume` and `release abort` on real repositories.

A release stopped after any local stage (by `--until` or by a SIGKILL failpoint) can be
finished with `release resume`, or undone with `release abort`, which must restore the
repository byte for byte.  Once the release is public, abort refuses.  A remote that moves
between prepare and push makes the atomic push fail cleanly, and resume adopts the rebased
release commit.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from conftest import (
    FAILPOINT,
    FRAGMENTS,
    LOCAL_STEPS,
    SAMPLE_INIT,
    Result,
    Snapshot,
    assert_no_release_left,
    bare_refs,
    both,
    commit_all,
    git,
    read_journal,
    remote_of,
    rev,
    run_release,
    snapshot,
    state_dir_of,
    wheel_version,
)
from indexes import sha256_of

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"
STAGE_OF = {step: step.split(".", 1)[0] for step in LOCAL_STEPS}
LOCAL_STAGES = ("check", "prepare", "tag", "build", "verify")


def sdist_names(path: Path) -> set[str]:
    with tarfile.open(path) as sdist:
        return {m.name.split("/", 1)[-1] for m in sdist.getmembers()}


def assert_released(project: Path, start: str, *, next_dev: bool = False) -> None:
    """The state an uninterrupted release leaves: commit, tag, remote, artifacts, journal."""
    release = rev(project, "v1.3.0^{commit}")
    assert release is not None, "no tag v1.3.0"
    assert git(project, "cat-file", "-t", "v1.3.0").strip() == "tag"
    assert git(project, "log", "-1", "--format=%B", release).strip() == "Release 1.3.0"
    assert rev(project, f"{release}^") == start
    head = rev(project, "HEAD")
    if next_dev:
        assert rev(project, "HEAD^") == release
        assert git(project, "log", "-1", "--format=%B").strip() == "Start 1.3.1.dev0 development"
    else:
        assert head == release
    refs = bare_refs(remote_of(project))
    assert refs["refs/heads/main"] == head
    assert refs["refs/tags/v1.3.0"] == rev(project, "refs/tags/v1.3.0")
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted([SDIST, WHEEL])
    assert wheel_version(dist / WHEEL) == "1.3.0"
    journal = read_journal(project)
    assert journal["finished"] is True
    assert journal["pushed"] is True
    assert set(journal["steps"].values()) == {"done"}
    assert journal["artifacts"] == {n: sha256_of(dist / n) for n in (SDIST, WHEEL)}
    assert not (state_dir_of(project) / "lock").exists()


def assert_stopped_after(
    project: Path,
    start: str,
    stage: str,
    remote_before: dict[str, str],
) -> None:
    """What a release stopped right after ``stage`` has (and has not) done."""
    stages = ("check", "prepare", "tag", "build", "verify", "push", "post")
    reached = stages.index(stage)
    journal = read_journal(project)
    assert journal["finished"] is False
    for step, state in journal["steps"].items():
        want = "done" if stages.index(step.split(".", 1)[0]) <= reached else "pending"
        assert state == want, (step, journal["steps"])
    head_subject = git(project, "log", "-1", "--format=%s").strip()
    if reached < stages.index("prepare"):
        assert rev(project, "HEAD") == start
        assert git(project, "status", "--porcelain").strip() == ""
    else:
        assert head_subject == "Release 1.3.0"
        assert rev(project, "HEAD^") == start
    assert (rev(project, "refs/tags/v1.3.0") is not None) == (reached >= stages.index("tag"))
    assert (project / "dist").exists() == (reached >= stages.index("build"))
    if reached < stages.index("push"):
        assert bare_refs(remote_of(project)) == remote_before
        assert journal["pushed"] is False
    else:
        assert bare_refs(remote_of(project))["refs/heads/main"] == rev(project, "HEAD")
        assert journal["pushed"] is True


# --- --until, then resume ---------------------------------------------------------------


def test_resume_until_walks_the_stages_one_by_one(project: Path) -> None:
    """A stop after every stage (``run --until check``, then ``resume --until`` each next
    one), each what that stage leaves, and a resume from each that goes on from there; the
    last one finishes the release. ``run --until`` for the other stages is in
    test_abort_after_until_restores_everything (the local ones) and
    test_abort_refuses_after_the_push (push)."""
    start = rev(project, "HEAD")
    assert start is not None
    remote_before = bare_refs(remote_of(project))
    result = run_release(project, "-c", "next-dev=true", "run", "--yes", "--until", "check")
    assert result.code == 0, both(result)
    assert "Stopped after check" in result.stdout
    assert_stopped_after(project, start, "check", remote_before)
    for stage in ("prepare", "tag", "build", "verify", "push"):
        result = run_release(project, "resume", "--until", stage)
        assert result.code == 0, f"--until {stage}\n{both(result)}"
        assert f"Release resumed up to {stage}." in result.stdout
        assert_stopped_after(project, start, stage, remote_before)
    result = run_release(project, "resume")
    assert result.code == 0, both(result)
    assert "Release resumed and finished." in result.stdout
    assert_released(project, start, next_dev=True)


def test_resume_without_a_release_in_progress_is_a_usage_error(project: Path) -> None:
    result = run_release(project, "resume")
    assert result.code == 2, both(result)
    assert "No release is in progress" in result.stderr
    assert not (state_dir_of(project) / "journal.json").exists()


# --- abort restores the repository, byte for byte -----------------------------------------


def _assert_aborted(project: Path, before: Snapshot, remote_before: dict[str, str]) -> Result:
    result = run_release(project, "abort", "--yes")
    assert result.code == 0, both(result)
    assert "Traceback" not in result.stderr
    after = snapshot(project)
    for field in ("head", "branch", "refs", "status", "index"):
        assert getattr(after, field) == getattr(before, field), field
    assert dict(after.files) == dict(before.files)
    for name, text in FRAGMENTS.items():
        assert (project / "changelog.d" / name).read_text(encoding="utf-8") == text
    assert not (project / "dist").exists()
    assert bare_refs(remote_of(project)) == remote_before
    assert_no_release_left(project)
    return result


@pytest.mark.parametrize("stage", LOCAL_STAGES)
def test_abort_after_until_restores_everything(project: Path, stage: str) -> None:
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))
    result = run_release(project, "run", "--yes", "--until", stage)
    assert result.code == 0, both(result)
    assert f"Stopped after {stage}" in result.stdout
    assert_stopped_after(project, before.head.strip(), stage, remote_before)

    _assert_aborted(project, before, remote_before)


@pytest.mark.parametrize("step", LOCAL_STEPS)
def test_abort_after_a_kill_restores_everything(project: Path, step: str) -> None:
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))
    result = run_release(project, "run", "--yes", env={FAILPOINT: f"{step}:after:kill"})
    assert result.code == -9, both(result)
    journal = read_journal(project)
    assert journal["steps"][step] == "done"
    assert journal["finished"] is False

    _assert_aborted(project, before, remote_before)


# --- each step undoes its own side effect, and abort says what each undid ------------------


def notes(result: Result) -> list[str]:
    """What abort noted, one line per step that undid something (and one for the rest)."""
    lines = result.stdout.splitlines()
    return [line.removeprefix("note: ") for line in lines if line.startswith("note: ")]


def reset_note(start: str) -> str:
    return (
        f"prepare.commit: reset main to {start[:12]}, where the release started; the version "
        "files, changelog and fragments are as they were."
    )


PREPARE_UNDONE_BY_THE_RESET = (
    f"Nothing left to undo for prepare.changelog, prepare.edit-version:{SAMPLE_INIT}, "
    "prepare.edit-version:pyproject.toml, check.preflight."
)


@pytest.mark.parametrize("until", ["build", "prepare"])
def test_abort_after_until_names_what_each_step_undid(project: Path, until: str) -> None:
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))
    result = run_release(project, "run", "--yes", "--until", until)
    assert result.code == 0, both(result)

    result = _assert_aborted(project, before, remote_before)

    built = [
        f"build.build: removed dist/{WHEEL}, dist/{SDIST} and dist/, which the release made.",
        "tag.tag: deleted the local tag v1.3.0.",
    ]
    assert notes(result) == [
        *(built if until == "build" else []),
        reset_note(before.head),
        PREPARE_UNDONE_BY_THE_RESET,
    ]


@pytest.mark.parametrize(
    ("failing", "undone"),
    [
        # The version edits made and the changelog step failed: only the edits to undo.
        (
            "prepare.changelog:before:raise",
            [
                f"prepare.edit-version:{SAMPLE_INIT}: put back as they were: {SAMPLE_INIT}.",
                "prepare.edit-version:pyproject.toml: put back as they were: pyproject.toml.",
                "Nothing left to undo for prepare.changelog, check.preflight.",
            ],
        ),
        # Everything but the commit: the fragments removed and staged, the changelog staged.
        (
            "prepare.commit:before:raise",
            [
                "prepare.changelog: put back as they were: CHANGELOG.md, "
                "changelog.d/12.feature.md, changelog.d/13.bugfix.md.",
                f"prepare.edit-version:{SAMPLE_INIT}: put back as they were: {SAMPLE_INIT}.",
                "prepare.edit-version:pyproject.toml: put back as they were: pyproject.toml.",
                "Nothing left to undo for prepare.commit, check.preflight.",
            ],
        ),
    ],
)
def test_abort_after_a_failure_in_prepare_puts_back_each_file(
    project: Path, failing: str, undone: list[str]
) -> None:
    """No release commit to reset: each prepare step puts back its own files, in the index
    too, and the fragments are where they were."""
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))
    result = run_release(project, "run", "--yes", env={FAILPOINT: failing})
    assert result.code == 1, both(result)
    assert rev(project, "HEAD") == before.head.strip()
    assert git(project, "status", "--porcelain") != ""

    result = _assert_aborted(project, before, remote_before)

    assert notes(result) == undone


def test_abort_keeps_a_dist_directory_that_existed(project: Path) -> None:
    """An ignored dist/ with older artifacts survives abort untouched; only the release's own
    artifacts go."""
    (project / ".gitignore").write_text("dist/\n", encoding="utf-8")
    commit_all(project, "Ignore dist/")
    git(project, "push", "--quiet", "origin", "main")
    old = project / "dist" / "sample_project-1.2.0-py3-none-any.whl"
    old.parent.mkdir()
    old.write_bytes(b"an older wheel")
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))

    result = run_release(project, "run", "--yes", "--until", "verify")
    assert result.code == 0, both(result)
    assert sorted(p.name for p in old.parent.iterdir()) == sorted([old.name, SDIST, WHEEL])

    result = run_release(project, "abort", "--yes")
    assert result.code == 0, both(result)
    assert snapshot(project) == before
    assert old.read_bytes() == b"an older wheel"
    assert bare_refs(remote_of(project)) == remote_before
    assert_no_release_left(project)


def test_preview_is_identical_before_and_after_an_aborted_release(project: Path) -> None:
    text_before = run_release(project, "preview")
    json_before = run_release(project, "preview", "--json")
    assert text_before.code == 0, both(text_before)

    result = run_release(project, "run", "--yes", "--until", "tag")
    assert result.code == 0, both(result)
    assert run_release(project, "preview").stdout != text_before.stdout  # the release shows
    result = run_release(project, "abort", "--yes")
    assert result.code == 0, both(result)

    assert run_release(project, "preview") == text_before
    assert run_release(project, "preview", "--json") == json_before


# --- abort refuses once the release is public -------------------------------------------


@pytest.mark.parametrize("how", ["until-push", "killed-after-push"])
def test_abort_refuses_after_the_push(project: Path, how: str) -> None:
    start = rev(project, "HEAD")
    assert start is not None
    if how == "until-push":
        remote_at_start = bare_refs(remote_of(project))
        result = run_release(project, "-c", "next-dev=true", "run", "--yes", "--until", "push")
        assert result.code == 0, both(result)
        assert "Stopped after push" in result.stdout
        assert_stopped_after(project, start, "push", remote_at_start)
    else:
        result = run_release(project, "run", "--yes", env={FAILPOINT: "push.push:after:kill"})
        assert result.code == -9, both(result)
    assert read_journal(project)["pushed"] is True
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))

    result = run_release(project, "abort", "--yes")

    assert result.code == 1, both(result)
    assert "Traceback" not in result.stderr
    assert "public" in result.stderr
    assert "release resume" in result.stderr
    assert snapshot(project) == before
    assert bare_refs(remote_of(project)) == remote_before
    assert (state_dir_of(project) / "journal.json").exists()

    result = run_release(project, "resume")
    assert result.code == 0, both(result)
    assert "Release resumed and finished." in result.stdout
    assert_released(project, start, next_dev=how == "until-push")


def test_abort_refuses_when_the_remote_has_the_tag_the_journal_missed(project: Path) -> None:
    """Killed after the remote accepted the push but before the journal said so: the
    remote, not the journal, decides that the release is public."""
    start = rev(project, "HEAD")
    assert start is not None
    result = run_release(project, "run", "--yes", "--until", "verify")
    assert result.code == 0, both(result)
    git(
        project,
        "push",
        "--quiet",
        "--atomic",
        "origin",
        "HEAD:refs/heads/main",
        "refs/tags/v1.3.0:refs/tags/v1.3.0",
    )
    assert read_journal(project)["pushed"] is False
    before = snapshot(project)

    result = run_release(project, "abort", "--yes")

    assert result.code == 1, both(result)
    assert "public" in result.stderr
    assert snapshot(project) == before

    result = run_release(project, "resume")
    assert result.code == 0, both(result)
    assert_released(project, start)


# --- the remote moves between prepare and push ------------------------------------------


def push_from_elsewhere(remote: Path, clone: Path) -> str:
    """Someone else pushes a commit (adding NEW.txt) to main; its sha."""
    git(clone.parent, "clone", "--quiet", str(remote), str(clone))
    (clone / "NEW.txt").write_text("work from elsewhere\n", encoding="utf-8")
    commit_all(clone, "Work from elsewhere")
    git(clone, "push", "--quiet", "origin", "main")
    upstream = rev(clone, "HEAD")
    assert upstream is not None
    return upstream


@pytest.mark.parametrize("until", ["build", "verify"])
def test_remote_moves_before_the_push(project: Path, tmp_path: Path, until: str) -> None:
    remote = remote_of(project)
    start = rev(project, "HEAD")
    result = run_release(project, "run", "--yes", "--until", until)
    assert result.code == 0, both(result)
    first_release = rev(project, "HEAD")
    first_artifacts = dict(read_journal(project)["artifacts"])
    assert set(first_artifacts) == {SDIST, WHEEL}

    upstream = push_from_elsewhere(remote, tmp_path / "other")  # meanwhile
    remote_moved = bare_refs(remote)

    result = run_release(project, "resume")

    assert result.code == 1, both(result)
    assert "Traceback" not in result.stderr
    assert "git pull --rebase" in result.stderr
    assert "release resume" in result.stderr
    # Atomic: neither the branch update nor the tag reached the remote.
    assert bare_refs(remote) == remote_moved
    assert bare_refs(remote)["refs/heads/main"] == upstream
    assert "refs/tags/v1.3.0" not in bare_refs(remote)
    journal = read_journal(project)
    assert journal["steps"]["push.push"] == "failed"
    assert journal["pushed"] is False
    assert journal["finished"] is False

    git(project, "pull", "--quiet", "--rebase", "origin", "main")
    result = run_release(project, "resume")

    assert result.code == 0, both(result)
    release = rev(project, "HEAD")
    assert release not in (None, first_release)
    assert rev(project, "HEAD^") == upstream
    assert rev(project, f"{upstream}^") == start
    assert git(project, "log", "-1", "--format=%B").strip() == "Release 1.3.0"
    # The remote has the rebased release commit, and the tag points at it.
    refs = bare_refs(remote)
    assert refs["refs/heads/main"] == release
    assert refs["refs/tags/v1.3.0"] == rev(project, "refs/tags/v1.3.0")
    assert git(remote, "rev-parse", "v1.3.0^{commit}").strip() == release
    assert rev(project, "v1.3.0^{commit}") == release
    # The artifacts were rebuilt from the rebased commit (it has NEW.txt).
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted([SDIST, WHEEL])
    assert "NEW.txt" in sdist_names(dist / SDIST)
    assert wheel_version(dist / WHEEL) == "1.3.0"
    journal = read_journal(project)
    assert journal["finished"] is True
    assert journal["pushed"] is True
    assert journal["release_commit"] == release
    assert journal["artifacts"] == {n: sha256_of(dist / n) for n in (SDIST, WHEEL)}
    assert journal["artifacts"][SDIST] != first_artifacts[SDIST]


def test_abort_after_a_rebased_release_returns_to_the_new_upstream(
    project: Path, tmp_path: Path
) -> None:
    """A release commit rebased onto new upstream work starts from that work: abort (before
    the push) returns there, with the fragments back, not to the rebased release commit."""
    remote = remote_of(project)
    fragments = sorted(p.name for p in (project / "changelog.d").iterdir())
    result = run_release(project, "run", "--yes", "--until", "build")
    assert result.code == 0, both(result)
    upstream = push_from_elsewhere(remote, tmp_path / "other")
    git(project, "pull", "--quiet", "--rebase", "origin", "main")
    resumed = run_release(project, "resume", "--until", "verify")
    assert resumed.code == 0, both(resumed)

    aborted = run_release(project, "abort", "--yes")

    assert aborted.code == 0, both(aborted)
    assert rev(project, "HEAD") == upstream
    assert rev(project, "refs/tags/v1.3.0") is None
    assert sorted(p.name for p in (project / "changelog.d").iterdir()) == fragments
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


# --- commit hooks run, as for any commit; a hook that refuses stops the release ----------

REFUSING_HOOK = """#!/bin/sh
echo "pre-commit: refused, CHANGELOG.md needs a second look" >&2
exit 1
"""


def install_pre_commit_hook(project: Path) -> Path:
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(REFUSING_HOOK, encoding="utf-8")
    hook.chmod(0o755)
    return hook


def assert_stopped_by_the_hook(project: Path, start: str, remote_before: dict[str, str]) -> None:
    result = run_release(project, "run", "--yes")
    assert result.code == 1, both(result)
    assert "Traceback" not in result.stderr
    assert "pre-commit: refused, CHANGELOG.md needs a second look" in result.stderr
    assert "release resume" in result.stderr
    assert "release abort" in result.stderr
    journal = read_journal(project)
    assert journal["steps"]["prepare.changelog"] == "done"
    assert journal["steps"]["prepare.commit"] == "failed"
    assert journal["finished"] is False
    assert rev(project, "HEAD") == start
    assert rev(project, "refs/tags/v1.3.0") is None
    assert bare_refs(remote_of(project)) == remote_before


def test_a_commit_hook_that_refuses_stops_the_release_and_resume_finishes_it(
    project: Path,
) -> None:
    start = rev(project, "HEAD")
    assert start is not None
    hook = install_pre_commit_hook(project)
    assert_stopped_by_the_hook(project, start, bare_refs(remote_of(project)))

    hook.unlink()  # the maintainer satisfies the hook
    result = run_release(project, "resume")
    assert result.code == 0, both(result)
    assert_released(project, start)


def test_a_release_a_commit_hook_stopped_is_undone_by_abort(project: Path) -> None:
    before = snapshot(project)
    remote_before = bare_refs(remote_of(project))
    install_pre_commit_hook(project)
    assert_stopped_by_the_hook(project, before.head.strip(), remote_before)

    _assert_aborted(project, before, remote_before)


def test_commit_hooks_false_skips_the_hook_and_the_plan_says_so(project: Path) -> None:
    import json

    start = rev(project, "HEAD")
    assert start is not None
    install_pre_commit_hook(project)

    def commit_command(*config: str) -> list[str]:
        result = run_release(project, *config, "preview", "--json")
        assert result.code == 0, both(result)
        steps = json.loads(result.stdout)["plan"]["steps"]
        (command,) = [s["command"] for s in steps if s["id"] == "prepare.commit"]
        return list(command)

    assert "--no-verify" not in commit_command()
    assert "Commit hooks: run\n" in run_release(project, "preview").stdout
    skipping = ("-c", "commit-hooks=false")
    assert commit_command(*skipping)[:4] == ["git", "commit", "--quiet", "--no-verify"]
    text = run_release(project, *skipping, "preview").stdout
    assert "Commit hooks: skipped (commit-hooks = false)\n" in text

    result = run_release(project, *skipping, "run", "--yes")
    assert result.code == 0, both(result)
    assert_released(project, start)
