"""Forward-porting a release's notes (``release pr --forward-port BRANCH``): the rule of
where the section goes, in memory (:func:`release.changelog.with_section`), and the pull
request made from a real maintenance branch with a bare remote and the GitHub stand-in:
1.4.1 released on ``release/1.4.x`` while ``main`` is at 2.0.0 (docs/release-lines.md)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    Result,
    assert_usage_error,
    bare_refs,
    both,
    commit_all,
    configure_targets,
    git,
    remote_of,
    run_release,
    set_release_config,
    snapshot,
    target_env,
    write_fragments,
)
from factsmaker import TOWNCRIER, make_towncrier
from github_standin import GitHubStandIn
from test_release_lines import LINES, release, set_version

from release.changelog import with_section
from release.fragments import Towncrier

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]

START = "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
V200 = "## 2.0.0 (2026-02-01)\n\n### Deprecations and Removals\n\n- Remove the old thing.\n"
V140 = "## 1.4.0 (2026-01-01)\n\n### Features\n\n- First release.\n"
V141 = "## 1.4.1 (2026-01-15)\n\n### Bugfixes\n\n- Fix a crash.\n"
MAIN = START + V200 + "\n" + V140


# --- where the section goes (in memory) -------------------------------------------------------


@pytest.fixture(scope="module")
def md() -> Towncrier:
    return make_towncrier(TOWNCRIER)


def section(version: str, entry: str = "- Fix a crash.") -> str:
    return f"## {version} (2026-01-15)\n\n### Bugfixes\n\n{entry}\n"


def test_a_maintenance_section_goes_below_the_higher_and_above_the_lower_release(
    md: Towncrier,
) -> None:
    assert with_section(md, MAIN, V141, "1.4.1") == START + V200 + "\n" + V141 + "\n" + V140


def test_a_section_already_there_is_not_added_again(md: Towncrier) -> None:
    ported = with_section(md, MAIN, V141, "1.4.1")
    assert ported is not None
    assert with_section(md, ported, V141, "1.4.1") is None
    # Also when it was copied by hand with other words or another date.
    edited = ported.replace("## 1.4.1 (2026-01-15)", "## 1.4.1 (2026-01-16)")
    assert with_section(md, edited, V141, "1.4.1") is None


def test_the_highest_version_goes_on_top_and_the_lowest_at_the_end(md: Towncrier) -> None:
    top = with_section(md, MAIN, section("2.1.0"), "2.1.0")
    assert top == START + section("2.1.0") + "\n" + V200 + "\n" + V140
    bottom = with_section(md, MAIN, section("1.3.5"), "1.3.5")
    assert bottom == START + V200 + "\n" + V140 + "\n" + section("1.3.5")


def test_versions_are_compared_as_pep_440_versions(md: Towncrier) -> None:
    news = START + section("1.10.0") + "\n" + section("1.4.1rc1") + "\n" + V140
    ported = with_section(md, news, V141, "1.4.1")
    assert ported is not None
    titles = [line for line in ported.splitlines() if line.startswith("## ")]
    assert [t.split()[1] for t in titles] == ["1.10.0", "1.4.1", "1.4.1rc1", "1.4.0"]
    post = with_section(md, ported, section("1.4.1.post1"), "1.4.1.post1")
    assert post is not None
    titles = [line.split()[1] for line in post.splitlines() if line.startswith("## ")]
    assert titles == ["1.10.0", "1.4.1.post1", "1.4.1", "1.4.1rc1", "1.4.0"]


def test_titles_without_a_version_are_passed_over_and_other_title_forms_read(
    md: Towncrier,
) -> None:
    news = START + "## Unreleased\n\n- Soon.\n\n## Version 2.0.0, February\n\n- Big.\n\n" + V140
    assert with_section(md, news, V141, "1.4.1") == news.replace(V140, V141 + "\n" + V140)


def test_the_added_section_keeps_the_spacing_of_the_news_file(md: Towncrier) -> None:
    # towncrier's Markdown template leaves two blank lines between sections.
    news = START + V200 + "\n\n" + V140
    assert with_section(md, news, V141, "1.4.1") == START + V200 + "\n\n" + V141 + "\n\n" + V140
    assert with_section(md, news, section("2.1.0"), "2.1.0") == (
        START + section("2.1.0") + "\n\n" + V200 + "\n\n" + V140
    )
    assert with_section(md, news, section("1.0.0"), "1.0.0") == (
        START + V200 + "\n\n" + V140 + "\n\n" + section("1.0.0")
    )


def test_a_changelog_without_sections_gets_it_where_towncrier_puts_one(md: Towncrier) -> None:
    assert with_section(md, START, V141, "1.4.1") == START + V141
    assert with_section(md, "Notes.\n", V141, "1.4.1") == V141 + "\nNotes.\n"


def test_restructuredtext_titles_are_found_by_their_underline() -> None:
    rst = make_towncrier(
        {
            "directory": "changelog.d",
            "filename": "NEWS.rst",
            "title_format": "{version} ({project_date})",
        }
    )
    start = ".. towncrier release notes start\n\n"

    def rst_section(version: str, entry: str) -> str:
        title = f"{version} (2026-01-01)"
        return f"{title}\n{'=' * len(title)}\n\nBugfixes\n--------\n\n- {entry}\n"

    news = start + rst_section("2.0.0", "Big.") + "\n" + rst_section("1.4.0", "First.")
    ported = with_section(rst, news, rst_section("1.4.1", "Fix."), "1.4.1")
    assert ported == (
        start
        + rst_section("2.0.0", "Big.")
        + "\n"
        + rst_section("1.4.1", "Fix.")
        + "\n"
        + rst_section("1.4.0", "First.")
    )


# --- the pull request, from a real maintenance branch ----------------------------------------

BRANCH = "forward-port/v1.4.1-to-main"


def maintenance_lines(project: Path, github: GitHubStandIn, *, release_141: bool) -> Path:
    """main at 2.0.0 (its changelog: 2.0.0 above 1.4.0, spaced as towncrier spaces them);
    release/1.4.x made from 1.4.0, checked out, with the forge configured; with
    ``release_141``, 1.4.1 released from it first."""
    set_release_config(project, LINES)
    git(project, "push", "--quiet", "origin", "main")
    git(project, "branch", "--quiet", "release/1.4.x")
    set_version(project, "1.4.0", "2.0.0")
    news = project / "CHANGELOG.md"
    news.write_text(
        news.read_text(encoding="utf-8").replace("## 1.4.0 (", V200 + "\n\n## 1.4.0 ("),
        encoding="utf-8",
    )
    commit_all(project, "Release 2.0.0")
    git(project, "tag", "--annotate", "-m", "Release 2.0.0", "v2.0.0")
    git(project, "push", "--quiet", "origin", "main", "v2.0.0")
    git(project, "checkout", "--quiet", "release/1.4.x")
    git(project, "push", "--quiet", "--set-upstream", "origin", "release/1.4.x")
    if release_141:
        write_fragments(project, {"20.bugfix.md": "Fix a crash."})
        git(project, "push", "--quiet")
        release(project)
    configure_targets(project, github=github, push=False)
    git(project, "push", "--quiet")
    github.git_remote = remote_of(project)
    return project


@pytest.fixture
def maintenance(sample_copy: Callable[..., Path], github_standin: GitHubStandIn) -> Path:
    """1.4.1 released from release/1.4.x, beside main at 2.0.0."""
    return maintenance_lines(sample_copy(version="1.4.0"), github_standin, release_141=True)


def news_on(repo: Path, ref: str) -> str:
    return git(repo, "show", f"{ref}:CHANGELOG.md")


def port(project: Path, github: GitHubStandIn, *args: str) -> str:
    """``release pr --forward-port main ARGS``, which must succeed; its output."""
    result = run_release(
        project, "pr", "--forward-port", "main", *args, env=target_env(github=github)
    )
    assert result.code == 0, both(result)
    assert github.token not in both(result)
    return result.stdout


def on_main(project: Path, change: Callable[[], object], message: str) -> None:
    """A commit on main, pushed, made from the remote's main; back to release/1.4.x."""
    git(project, "switch", "--quiet", "main")
    git(project, "pull", "--quiet", "--ff-only", "origin", "main")
    change()
    commit_all(project, message)
    git(project, "push", "--quiet", "origin", "main")
    git(project, "switch", "--quiet", "release/1.4.x")


def test_forward_port_opens_one_pull_request_that_adds_the_section_to_main(
    maintenance: Path, github_standin: GitHubStandIn
) -> None:
    project, remote = maintenance, remote_of(maintenance)
    released = news_on(project, "v1.4.1")
    section_141 = released[released.index("## 1.4.1 (") : released.index("## 1.4.0 (")]
    assert "- Fix a crash." in section_141
    main_before = news_on(remote, "refs/heads/main")
    refs_before = bare_refs(remote)
    checkout = snapshot(project)

    assert "Opened the forward-port pull request #1" in port(project, github_standin)
    [pull] = github_standin.pulls()
    assert (pull["state"], pull["head"]["ref"], pull["base"]["ref"]) == ("open", BRANCH, "main")
    assert pull["title"] == "Forward-port the changelog of 1.4.1 to main"
    assert section_141.rstrip() in str(pull["body"])
    ported = news_on(remote, f"refs/heads/{BRANCH}")
    assert ported == main_before.replace("## 1.4.0 (", section_141 + "## 1.4.0 (")
    assert ported.index("## 2.0.0 (") < ported.index("## 1.4.1 (") < ported.index("## 1.4.0 (")
    tip = bare_refs(remote)[f"refs/heads/{BRANCH}"]
    assert git(remote, "rev-parse", f"{tip}^").strip() == refs_before["refs/heads/main"]
    assert git(remote, "diff", "--name-only", "refs/heads/main", tip).split() == ["CHANGELOG.md"]
    assert "Release-Version" not in git(remote, "log", "-1", "--format=%B", tip), (
        "merging it must not look like a release to release ci"
    )
    after = bare_refs(remote)
    assert {r: s for r, s in after.items() if r != f"refs/heads/{BRANCH}"} == refs_before
    now = snapshot(project)
    assert (now.head, now.branch, now.status, now.index, now.files) == (
        checkout.head,
        checkout.branch,
        checkout.status,
        checkout.index,
        checkout.files,
    )

    again = port(project, github_standin)
    assert "Updated the forward-port pull request #1" in again
    assert "already holds this change; not pushed again" in again
    assert len(github_standin.pulls()) == 1
    assert bare_refs(remote)[f"refs/heads/{BRANCH}"] == tip


def test_forward_port_follows_main_and_closes_when_main_has_the_section(
    maintenance: Path, github_standin: GitHubStandIn
) -> None:
    project, remote = maintenance, remote_of(maintenance)
    port(project, github_standin)
    # main goes on: the branch is made again on its new tip, in the same pull request.
    on_main(
        project,
        lambda: (project / "NOTES.txt").write_text("more\n", encoding="utf-8"),
        "More work on main",
    )
    assert "Updated the forward-port pull request #1" in port(project, github_standin)
    assert len(github_standin.pulls()) == 1
    tip = bare_refs(remote)[f"refs/heads/{BRANCH}"]
    assert git(remote, "rev-parse", f"{tip}^").strip() == bare_refs(remote)["refs/heads/main"]

    # The section copied to main by hand: the open pull request is closed with a comment and
    # its branch deleted; once main has the section, a run makes nothing.
    on_main(
        project,
        lambda: git(project, "checkout", f"origin/{BRANCH}", "--", "CHANGELOG.md"),
        "Copy the notes of 1.4.1",
    )
    closed = port(project, github_standin, "1.4.1")
    assert (
        "already has the section of 1.4.1: nothing to forward-port; closed the "
        "forward-port pull request #1"
    ) in closed
    [pull] = github_standin.pulls()
    assert pull["state"] == "closed"
    [comment] = github_standin.pull_comments(1)
    assert "already has the section of 1.4.1" in comment
    assert f"refs/heads/{BRANCH}" not in bare_refs(remote)
    done = port(project, github_standin)
    assert "already has the section of 1.4.1: nothing to forward-port.\n" in done
    assert len(github_standin.pulls()) == 1
    assert len(github_standin.pull_comments(1)) == 1, "no second comment"


def test_a_crlf_news_file_on_the_target_keeps_its_line_endings(
    maintenance: Path, github_standin: GitHubStandIn
) -> None:
    """main keeps CHANGELOG.md with CRLF line endings in the repository (committed as it
    is, no text conversion): the section is added with CRLF too, and nothing else of the
    file changes."""
    project, remote = maintenance, remote_of(maintenance)

    def crlf() -> None:
        (project / ".gitattributes").write_text("CHANGELOG.md -text\n", encoding="utf-8")
        news = project / "CHANGELOG.md"
        news.write_bytes(news.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    on_main(project, crlf, "CHANGELOG.md with CRLF line endings")

    def blob(ref: str) -> bytes:
        return subprocess.run(
            ["git", "cat-file", "blob", f"{ref}:CHANGELOG.md"],
            cwd=remote,
            capture_output=True,
            check=True,
        ).stdout

    before = blob("refs/heads/main")
    assert b"\r\n" in before
    port(project, github_standin)
    ported = blob(f"refs/heads/{BRANCH}")
    assert ported.count(b"\n") == ported.count(b"\r\n"), "every line ends with CRLF"
    released = news_on(project, "v1.4.1")
    section_141 = released[released.index("## 1.4.1 (") : released.index("## 1.4.0 (")]
    assert ported == before.replace(
        b"## 1.4.0 (", section_141.replace("\n", "\r\n").encode() + b"## 1.4.0 ("
    )


def test_forward_port_refusals_name_what_is_missing(
    sample_copy: Callable[..., Path],
    github_standin: GitHubStandIn,
    run_inprocess: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = maintenance_lines(sample_copy(version="1.4.0"), github_standin, release_141=False)
    remote = remote_of(project)
    for name, value in target_env(github=github_standin).items():
        monkeypatch.setenv(name, value)
    before = bare_refs(remote)

    def refused(*args: str) -> str:
        result = run_inprocess("pr", *args, cwd=project)
        text = assert_usage_error(result)
        assert len(result.stderr.strip().splitlines()) == 2, result.stderr  # error, hint
        return text

    assert "The remote 'origin' has no branch 'nope'" in refused("--forward-port", "nope")
    assert "no release tag v1.4.9 (of 1.4.9)" in refused("--forward-port", "main", "1.4.9")
    assert "not 'patch'" in refused("--forward-port", "main", "patch")
    assert "--pre and --final" in refused("--forward-port", "main", "--pre", "rc")

    git(project, "switch", "--quiet", "-c", "no-news", "main")
    git(project, "rm", "--quiet", "CHANGELOG.md")
    commit_all(project, "No changelog here")
    git(project, "push", "--quiet", "origin", "no-news")
    git(project, "switch", "--quiet", "release/1.4.x")
    assert "The branch no-news on 'origin' has no CHANGELOG.md" in refused(
        "--forward-port", "no-news"
    )

    git(project, "switch", "--quiet", "-c", "release/3.0.x")
    assert "the branch release/3.0.x contains no release tag within its series 3.0" in refused(
        "--forward-port", "main"
    )

    git(project, "switch", "--quiet", "release/1.4.x")
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text(encoding="utf-8").split("\n[tool.release.forge]")[0] + "\n", encoding="utf-8"
    )
    commit_all(project, "No forge")
    assert "no forge is configured" in refused("--forward-port", "main")
    assert not github_standin.pulls()
    assert {r: s for r, s in bare_refs(remote).items() if r != "refs/heads/no-news"} == before
