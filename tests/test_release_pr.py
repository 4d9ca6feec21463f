"""Release pull requests end to end: ``release pr`` opens, updates and closes the pull
request (the merge request) on every forge's stand-in from a real repository with a bare
remote, and ``release ci`` on the push that merges it tags, publishes to pypiserver and
announces on the GitHub stand-in, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import (
    FAILPOINT,
    bare_refs,
    both,
    commit_all,
    configure_targets,
    git,
    remote_of,
    run_release,
    target_env,
    write_fragments,
)
from forge_standins import STANDINS, ForgeWorld
from github_standin import GitHubStandIn
from indexes import PypiserverIndex, listed_files

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

FRAGMENTS = {"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."}


@pytest.fixture
def project(sample_copy: Callable[..., Path], github_standin: GitHubStandIn,
            pypiserver: PypiserverIndex) -> Path:
    project = sample_copy(fragments=FRAGMENTS)
    configure_targets(project, github=github_standin, index=pypiserver)
    github_standin.git_remote = remote_of(project)  # a pull request's branches must exist
    return project


def env_for(github: GitHubStandIn, index: PypiserverIndex, **more: str) -> dict[str, str]:
    return {**target_env(github=github, index=index), **more}


def open_pulls(github: GitHubStandIn) -> list[dict[str, object]]:
    return [p for p in github.pulls() if p["state"] == "open"]


def squash_merge(project: Path, branch: str) -> None:
    """What a squash merge makes: one commit on main whose message holds the squashed
    commits' messages (git's own SQUASH_MSG)."""
    git(project, "fetch", "--quiet", "origin")
    git(project, "merge", "--quiet", "--squash", f"origin/{branch}")
    git(project, "commit", "--quiet", "--no-edit")
    git(project, "push", "--quiet", "origin", "main")


def test_release_pr_opens_updates_and_the_merge_releases_once(
    project: Path, github_standin: GitHubStandIn, pypiserver: PypiserverIndex
) -> None:
    env = env_for(github_standin, pypiserver)
    remote = remote_of(project)
    first = run_release(project, "pr", env=env)
    assert first.code == 0, both(first)
    assert "Opened the release pull request #1" in first.stdout
    assert "force-pushing release/v1.3.0" in first.stdout
    pulls = open_pulls(github_standin)
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["title"] == "Release 1.3.0"
    assert pull["head"]["ref"] == "release/v1.3.0"  # type: ignore[index]
    assert "- Add a thing." in str(pull["body"])
    assert "## 1.3.0 (" in str(pull["body"])
    message = git(remote, "log", "-1", "--format=%B", "refs/heads/release/v1.3.0")
    assert "Release-Version: 1.3.0" in message
    assert not any(ref.startswith("refs/tags/v1.3") for ref in bare_refs(remote)), "no tag"
    assert git(project, "branch", "--show-current").strip() == "main"
    assert git(project, "status", "--porcelain").strip() == ""
    assert (project / "changelog.d" / "12.feature.md").exists(), "main keeps its fragments"

    # A new fragment that changes the version: the same pull request is updated.
    write_fragments(project, {"14.removal.md": "Remove the old thing."})
    commit_all(project, "Remove the old thing")
    git(project, "push", "--quiet", "origin", "main")
    second = run_release(project, "pr", env=env)
    assert second.code == 0, both(second)
    assert "Updated the release pull request #1" in second.stdout
    pulls = open_pulls(github_standin)
    assert [p["number"] for p in pulls] == [1], "no second pull request"
    assert pulls[0]["title"] == "Release 2.0.0"
    assert "- Remove the old thing." in str(pulls[0]["body"])
    message = git(remote, "log", "-1", "--format=%B", "refs/heads/release/v1.3.0")
    assert "Release-Version: 2.0.0" in message

    squash_merge(project, "release/v1.3.0")
    github_standin.mark_merged(1)
    head = git(project, "rev-parse", "HEAD").strip()
    ci = run_release(project, "ci", env={**env, "GITHUB_REF": "refs/heads/main"})
    assert ci.code == 0, both(ci)
    assert bare_refs(remote).get("refs/tags/v2.0.0") is not None
    assert git(remote, "rev-parse", "v2.0.0^{commit}").strip() == head
    served = set(listed_files(pypiserver, "sample-project"))
    assert served == {"sample_project-2.0.0.tar.gz", "sample_project-2.0.0-py3-none-any.whl"}
    releases = [r for r in github_standin.releases() if r["tag_name"] == "v2.0.0"]
    assert len(releases) == 1
    assert not releases[0]["draft"]

    again = run_release(project, "ci", env={**env, "GITHUB_REF": "refs/heads/main"})
    assert again.code == 0, both(again)
    assert len([r for r in github_standin.releases() if r["tag_name"] == "v2.0.0"]) == 1
    for text in (first.stdout, first.stderr, second.stdout, ci.stdout, ci.stderr):
        assert github_standin.token not in text

    # Nothing left: no pull request to close, "nothing to release" (exit 3).
    nothing = run_release(project, "pr", env=env)
    assert nothing.code == 3, both(nothing)
    assert "Nothing to release" in nothing.stderr


def test_a_release_pr_no_longer_needed_is_closed_with_a_comment(
    project: Path, github_standin: GitHubStandIn, pypiserver: PypiserverIndex
) -> None:
    env = env_for(github_standin, pypiserver)
    opened = run_release(project, "pr", env=env)
    assert opened.code == 0, both(opened)
    git(project, "rm", "--quiet", "changelog.d/12.feature.md", "changelog.d/13.bugfix.md")
    git(project, "commit", "--quiet", "-m", "Revert the changes")
    git(project, "push", "--quiet", "origin", "main")
    closed = run_release(project, "pr", env=env)
    assert closed.code == 0, both(closed)
    assert "closed the release pull request #1" in closed.stdout
    assert open_pulls(github_standin) == []
    comments = github_standin.pull_comments(1)
    assert len(comments) == 1
    assert "nothing is left to release" in comments[0]
    assert "refs/heads/release/v1.3.0" not in bare_refs(remote_of(project))


def test_ci_on_a_branch_push_without_a_release_commit_is_nothing_to_release(
    project: Path, github_standin: GitHubStandIn, pypiserver: PypiserverIndex
) -> None:
    env = env_for(github_standin, pypiserver, GITHUB_REF="refs/heads/main")
    result = run_release(project, "ci", env=env)
    assert result.code == 3, both(result)
    assert "Nothing to release" in result.stderr
    assert "Release-Version" in result.stderr


# --- every forge: a pull request (merge request) opened, updated, closed, merged -------------


@pytest.fixture(params=sorted(STANDINS))
def forge(request: pytest.FixtureRequest) -> Iterator[ForgeWorld]:
    with STANDINS[request.param]() as world:
        yield world


@pytest.fixture
def forge_project(sample_copy: Callable[..., Path], forge: ForgeWorld,
                  pypiserver: PypiserverIndex) -> Path:
    project = sample_copy(fragments=FRAGMENTS)
    text = (f"\n{forge.table()}\n[[tool.release.publish]]\nname = \"local\"\n"
            f'repository-url = "{pypiserver.upload_url}"\n'
            f'index-url = "{pypiserver.simple_url}"\n')
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(project, "Configure publishing and the forge")
    git(project, "push", "--quiet", "origin", "main")
    forge.use_remote(remote_of(project))
    return project


def forge_env(forge: ForgeWorld, index: PypiserverIndex) -> dict[str, str]:
    return {**target_env(index=index), **forge.env()}


def trailer_on(remote: Path, branch: str) -> str:
    message = git(remote, "log", "-1", "--format=%B", f"refs/heads/{branch}")
    return next(line for line in message.splitlines() if line.startswith("Release-Version: "))


def test_release_pr_opens_updates_and_closes_on_every_forge(
    forge: ForgeWorld, forge_project: Path, pypiserver: PypiserverIndex
) -> None:
    project, env, remote = forge_project, forge_env(forge, pypiserver), remote_of(forge_project)
    first = run_release(project, "pr", env=env)
    assert first.code == 0, both(first)
    [change] = forge.changes()
    assert (change.state, change.title, change.head, change.base) == (
        "open", "Release 1.3.0", "release/v1.3.0", "main")
    assert f"Opened the release pull request {change.ref} (" in first.stdout
    assert "## 1.3.0 (" in change.body
    assert "- Add a thing." in change.body
    assert trailer_on(remote, "release/v1.3.0") == "Release-Version: 1.3.0"
    assert git(project, "branch", "--show-current").strip() == "main"
    assert git(project, "status", "--porcelain").strip() == ""

    write_fragments(project, {"14.removal.md": "Remove the old thing."})
    commit_all(project, "Remove the old thing")
    git(project, "push", "--quiet", "origin", "main")
    second = run_release(project, "pr", env=env)
    assert second.code == 0, both(second)
    assert f"Updated the release pull request {change.ref} (" in second.stdout
    [updated] = forge.changes()
    assert (updated.number, updated.state, updated.title, updated.head) == (
        change.number, "open", "Release 2.0.0", "release/v1.3.0")
    assert "- Remove the old thing." in updated.body
    assert trailer_on(remote, "release/v1.3.0") == "Release-Version: 2.0.0"

    git(project, "rm", "--quiet", "changelog.d/12.feature.md", "changelog.d/13.bugfix.md",
        "changelog.d/14.removal.md")
    commit_all(project, "Revert the changes")
    git(project, "push", "--quiet", "origin", "main")
    closed = run_release(project, "pr", env=env)
    assert closed.code == 0, both(closed)
    assert f"closed the release pull request {change.ref} (" in closed.stdout
    [gone] = forge.changes()
    assert gone.state == "closed"
    [comment] = forge.change_comments(gone.number)
    assert "nothing is left to release" in comment
    assert "refs/heads/release/v1.3.0" not in bare_refs(remote)

    nothing = run_release(project, "pr", env=env)
    assert nothing.code == 3, both(nothing)
    assert len(forge.changes()) == 1
    assert len(forge.change_comments(gone.number)) == 1, "no second comment"
    for result in (first, second, closed, nothing):
        assert forge.token not in result.stdout + result.stderr


def test_a_merged_release_pr_is_left_alone_on_every_forge(
    forge: ForgeWorld, forge_project: Path, pypiserver: PypiserverIndex
) -> None:
    project, env = forge_project, forge_env(forge, pypiserver)
    opened = run_release(project, "pr", env=env)
    assert opened.code == 0, both(opened)
    [change] = forge.changes()
    squash_merge(project, "release/v1.3.0")
    forge.mark_merged(change.number)
    after = run_release(project, "pr", env=env)
    assert after.code == 3, both(after)
    assert "Nothing to release" in after.stderr
    [merged] = forge.changes()
    assert merged.state == "merged"
    assert forge.change_comments(merged.number) == []


# --- merged three ways: the release commit is found by its trailer --------------------------


def _repo_with_release_branch(tmp_path: Path) -> tuple[Path, Path]:
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(tmp_path, "init", "--quiet", "--initial-branch", "main", str(work))
    (work / "a.txt").write_text("a\n", encoding="utf-8")
    git(work, "add", "a.txt")
    git(work, "commit", "--quiet", "-m", "Start")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "--quiet", "origin", "main")
    git(work, "switch", "--quiet", "-c", "release/v1.3.0")
    (work / "a.txt").write_text("a 1.3.0\n", encoding="utf-8")
    git(work, "commit", "--quiet", "-am", "Release 1.3.0\n\nRelease-Version: 1.3.0")
    git(work, "switch", "--quiet", "main")
    (work / "b.txt").write_text("b\n", encoding="utf-8")  # main went on meanwhile
    git(work, "add", "b.txt")
    git(work, "commit", "--quiet", "-m", "Other work")
    return work, remote


@pytest.mark.parametrize("how", ["squash", "merge-commit", "rebase"])
def test_the_merged_release_commit_is_found_and_tagged_however_it_was_merged(
    tmp_path: Path, how: str
) -> None:
    from release.ci import merged_release, release_version
    from release.config import load
    from release.runner import Runner

    work, remote = _repo_with_release_branch(tmp_path)
    runner = Runner(work)
    assert release_version(runner) is None, "a push without a release commit"
    if how == "squash":
        git(work, "merge", "--quiet", "--squash", "release/v1.3.0")
        git(work, "commit", "--quiet", "--no-edit")
    elif how == "merge-commit":
        git(work, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #1", "release/v1.3.0")
    else:
        git(work, "cherry-pick", "release/v1.3.0")  # what a rebase merge puts on main
    assert release_version(runner) == "1.3.0"
    (work / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1.3.0"\n', encoding="utf-8")
    cfg = load(work, environ={})
    head = git(work, "rev-parse", "HEAD").strip()
    assert merged_release(runner, cfg) == "v1.3.0"
    assert git(remote, "rev-parse", "v1.3.0^{commit}").strip() == head
    assert merged_release(runner, cfg) == "v1.3.0", "again: the tag is there, nothing new"


# --- a merge release killed at every step boundary ---------------------------------------------

MERGE_POINTS = ("merge.tag:before", "merge.push-tag:before", "merge.push-tag:after")
CI_STEPS = ("build.build", "verify.verify", "publish.upload:local", "announce.draft",
            "announce.attach", "announce.publish")
KILL_POINTS = (*MERGE_POINTS, *(f"{s}:before" for s in CI_STEPS), f"{CI_STEPS[-1]}:after")


def test_a_merge_release_killed_at_every_boundary_resumes_to_one_of_everything(
    project: Path, github_standin: GitHubStandIn, pypiserver: PypiserverIndex
) -> None:
    env = env_for(github_standin, pypiserver)
    opened = run_release(project, "pr", env=env)
    assert opened.code == 0, both(opened)
    squash_merge(project, "release/v1.3.0")
    ci_env = {**env, "GITHUB_REF": "refs/heads/main"}
    outputs = []
    for point in KILL_POINTS:
        killed = run_release(project, "ci", env={**ci_env, FAILPOINT: f"{point}:kill"})
        assert killed.code == -9, (point, both(killed))
        outputs += [killed.stdout, killed.stderr]
    finished = run_release(project, "ci", env=ci_env)
    assert finished.code == 0, both(finished)
    remote = remote_of(project)
    tags = [ref for ref in bare_refs(remote) if ref.startswith("refs/tags/v1.3")]
    assert tags == ["refs/tags/v1.3.0"]
    head = git(project, "rev-parse", "HEAD").strip()
    assert git(remote, "rev-parse", "v1.3.0^{commit}").strip() == head
    served = listed_files(pypiserver, "sample-project")
    assert sorted(served) == ["sample_project-1.3.0-py3-none-any.whl",
                              "sample_project-1.3.0.tar.gz"]
    releases = [r for r in github_standin.releases() if r["tag_name"] == "v1.3.0"]
    assert len(releases) == 1
    assert not releases[0]["draft"]
    assets = github_standin.assets(int(releases[0]["id"]))
    assert sorted(a["name"] for a in assets) == sorted(served)
    creates = [r for r in github_standin.requests
               if r.method == "POST" and r.host == "api" and r.path.endswith("/releases")
               and r.status == 201]
    assert len(creates) == 1
    for text in outputs:
        assert github_standin.token not in text


def test_tag_only_pushes_the_merged_release_tag_and_builds_nothing(
    project: Path, github_standin: GitHubStandIn, pypiserver: PypiserverIndex, tmp_path: Path
) -> None:
    env = env_for(github_standin, pypiserver)
    assert run_release(project, "pr", env=env).code == 0
    squash_merge(project, "release/v1.3.0")
    outputs = tmp_path / "github-output"
    ci_env = {**env, "GITHUB_REF": "refs/heads/main", "GITHUB_ACTIONS": "true",
              "GITHUB_OUTPUT": str(outputs)}
    for _ in range(2):  # a re-run finds the tag there and changes nothing
        tagged = run_release(project, "ci", "--tag-only", env=ci_env)
        assert tagged.code == 0, both(tagged)
        assert "v1.3.0" in tagged.stdout
    head = git(project, "rev-parse", "HEAD").strip()
    assert git(remote_of(project), "rev-parse", "v1.3.0^{commit}").strip() == head
    assert "tag=v1.3.0" in outputs.read_text(encoding="utf-8")
    assert not (project / "dist").exists()
    assert listed_files(pypiserver, "sample-project") == {}
    assert github_standin.releases() == []
    # A push that merged no release pull request: nothing to release.
    (project / "README.md").write_text("More.\n", encoding="utf-8")
    git(project, "commit", "--quiet", "-am", "Docs")
    assert run_release(project, "ci", "--tag-only", env=ci_env).code == 3
