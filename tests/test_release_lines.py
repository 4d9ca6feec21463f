"""Release lines on real repositories: a maintenance branch beside a higher release, and a
pre-release channel promoted to its final release (docs/release-lines.md).

What only a real repository shows: which tags HEAD contains (read by git), the fragments
each pre-release's commit removed (read back from git), and the tags and changelog the runs
leave. The decisions themselves are unit-tested on facts built in memory
(test_plan_unit.py, test_checks_unit.py). No build: each release stops after its tag and
is finished by `release resume` with the build and verify steps skipped, which pushes it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CLI,
    assert_usage_error,
    bare_refs,
    both,
    commit_all,
    git,
    problem_codes,
    remote_of,
    run_release,
    set_release_config,
    write_fragments,
)

from release import config
from release.facts import gather

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]

INIT = "src/sample_project/__init__.py"
LINES = (
    'branches = ["main", { pattern = "release/*.x", series = "from-branch" }, '
    '{ pattern = "next", channel = "rc" }]'
)


def set_version(project: Path, old: str, new: str) -> None:
    for path in ("pyproject.toml", INIT):
        file = project / path
        file.write_text(file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def release(project: Path, *args: str) -> str:
    """A release that stops after its tag, finished (pushed) by resume without building."""
    made = run_release(project, "run", "--yes", "--until", "tag", *args)
    assert made.code == 0, both(made)
    pushed = run_release(project, "resume", "--yes", "--skip", "build.build", "--skip",
                         "verify.verify")
    assert pushed.code == 0, both(pushed)
    return both(made)


def preview(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """``release preview --json`` in this process (it only computes the plan)."""
    from release.cli import main

    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["-C", str(project), "preview", "--json", *args])
    return code, json.loads(out.getvalue())


# --- the `branches` table form (in memory) -------------------------------------------------


def load(branches: Any) -> config.Config:
    pyproject = {"project": {"name": "x", "version": "1.0"},
                 "tool": {"release": {"branches": branches}}}
    return config.load(Path("/nonexistent"), environ={}, pyproject=pyproject,
                       is_file=lambda path: True)


def test_branches_mix_patterns_and_lines() -> None:
    cfg = load(["main", {"pattern": "release/*.x", "series": "from-branch"},
                {"pattern": "maint/*", "series": "1.4"}, {"pattern": "next", "channel": "rc"}])
    assert cfg.line_of("main") == config.Line("main")
    assert cfg.line_of("release/1.4.x") == config.Line("release/*.x", "1.4")
    assert cfg.line_of("release/2.x") == config.Line("release/*.x", "2")
    assert cfg.line_of("maint/old") == config.Line("maint/*", "1.4")
    assert cfg.line_of("next") == config.Line("next", "", "rc")
    assert cfg.line_of("topic") is None
    assert not cfg.branch_allowed("topic")
    assert config.show_value(cfg["branches"]) == (
        '["main", { pattern = "release/*.x", series = "from-branch" }, '
        '{ pattern = "maint/*", series = "1.4" }, { pattern = "next", channel = "rc" }]'
    )


def test_the_first_matching_line_wins() -> None:
    cfg = load([{"pattern": "release/*", "channel": "b"},
                {"pattern": "release/*.x", "series": "from-branch"}])
    assert cfg.line_of("release/1.4.x") == config.Line("release/*", "", "b")


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"pattern": "next", "chanel": "rc"}, ["unknown key `chanel`", "Did you mean 'channel'?"]),
        ({"pattern": "next", "channel": "beta"}, ["channel = 'beta'", "Did you mean 'b'?"]),
        ({"pattern": "x", "series": 1.4}, ["`series` must be a string", 'series = "1.4"']),
        ({"pattern": "x", "series": "1.4.2"}, ["series = '1.4.2'", "from-branch"]),
        ({"series": "1.4"}, ["has no `pattern`"]),
        ({"pattern": ""}, ["has no `pattern`"]),
    ],
    ids=["unknown-key", "channel", "series-type", "series-value", "no-pattern", "empty-pattern"],
)
def test_a_bad_line_is_an_error_naming_the_entry(entry: dict[str, Any], named: list[str]) -> None:
    with pytest.raises(config.ConfigError) as caught:
        load(["main", entry])
    message = str(caught.value)
    assert message.startswith("pyproject.toml [tool.release]: `branches` entry {")
    for text in named:
        assert text in message


def test_a_bad_channel_stops_the_command_with_status_2(
    sample_copy: Callable[..., Path], cli: CLI
) -> None:
    project = sample_copy()
    set_release_config(project, 'branches = [{ pattern = "main", channel = "candidate" }]')
    assert_usage_error(cli("preview", cwd=project), "channel = 'candidate'", "Did you mean 'rc'?",
                       "pyproject.toml")


# --- a maintenance branch beside a higher release -------------------------------------------


@pytest.fixture
def maintenance(sample_copy: Callable[..., Path]) -> Path:
    """1.4.0 released; release/1.4.x made from it; main goes on to 2.0.0."""
    project = sample_copy(version="1.4.0")
    set_release_config(project, LINES)
    git(project, "push", "--quiet", "origin", "main")
    git(project, "branch", "--quiet", "release/1.4.x")
    set_version(project, "1.4.0", "2.0.0")
    commit_all(project, "Release 2.0.0")
    git(project, "tag", "--annotate", "-m", "Release 2.0.0", "v2.0.0")
    git(project, "push", "--quiet", "origin", "main", "v2.0.0")
    git(project, "checkout", "--quiet", "release/1.4.x")
    git(project, "push", "--quiet", "--set-upstream", "origin", "release/1.4.x")
    return project


def test_a_maintenance_branch_refuses_a_minor_bump_and_releases_a_patch(
    maintenance: Path,
) -> None:
    project = maintenance
    write_fragments(project, {"20.feature.md": "Add a thing."})
    git(project, "push", "--quiet")
    code, shown = preview(project)
    assert code == 1
    assert shown["plan"]["version"] == "1.5.0"
    [problem] = shown["problems"]
    assert problem["code"] == "outside-series"
    for named in ("1.5.0", "series 1.4", "release/1.4.x", "20.feature.md"):
        assert named in problem["message"]
    before = bare_refs(remote_of(project))
    refused = run_release(project, "run", "--yes")
    assert refused.code == 1
    assert problem_codes(refused.stdout) == ["outside-series"]
    assert "nothing was changed" in both(refused)
    assert bare_refs(remote_of(project)) == before
    assert "v1.5.0" not in git(project, "tag", "--list")

    git(project, "mv", "changelog.d/20.feature.md", "changelog.d/20.bugfix.md")
    commit_all(project, "A fix, not a feature")
    code, shown = preview(project)
    assert (code, shown["problems"]) == (0, [])
    public = shown["plan"]
    assert (public["version"], public["previous_tag"], public["marks_latest"]) == (
        "1.4.1", "v1.4.0", False
    )
    assert public["line"] == {"pattern": "release/*.x", "series": "1.4", "channel": None}
    assert "v2.0.0, is outside it" in public["previous_tag_why"]
    text = run_release(project, "preview").stdout
    assert "Line: release/1.4.x matches release/*.x: series 1.4, final releases\n" in text

    release(project)
    refs = bare_refs(remote_of(project))
    tagged = git(project, "rev-parse", "v1.4.1^{commit}").strip()
    assert refs["refs/heads/release/1.4.x"] == tagged
    assert refs["refs/tags/v1.4.1"] == git(project, "rev-parse", "v1.4.1").strip()
    assert git(project, "show", f"{tagged}:{INIT}").endswith('__version__ = "1.4.1"\n')
    assert git(project, "describe", "--tags", "--abbrev=0", "main").strip() == "v2.0.0"
    assert "## 1.4.1 (2026-01-01)" in (project / "CHANGELOG.md").read_text(encoding="utf-8")


# --- a pre-release channel, promoted --------------------------------------------------------


def test_a_channel_makes_rc1_then_rc2_and_final_gathers_them(
    sample_copy: Callable[..., Path],
) -> None:
    project = sample_copy()
    set_release_config(project, LINES)
    git(project, "push", "--quiet", "origin", "main")
    git(project, "checkout", "--quiet", "-b", "next")
    git(project, "push", "--quiet", "--set-upstream", "origin", "next")

    write_fragments(project, {"30.removal.md": "Drop the old API.",
                              "31.feature.md": "Add the new API.",
                              "+tidy.feature.md": "Tidy the help."})
    code, shown = preview(project)
    assert (code, shown["plan"]["version"], shown["plan"]["is_prerelease"]) == (
        0, "2.0.0rc1", True
    )
    assert shown["plan"]["line"] == {"pattern": "next", "series": None, "channel": "rc"}
    assert 'channel = "rc"' in shown["plan"]["reasons"][-1]
    release(project)

    write_fragments(project, {"32.bugfix.md": "Fix the new API."})
    release(project)
    assert {"v2.0.0rc1", "v2.0.0rc2"} <= set(git(project, "tag", "--list").split())
    news = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert news.index("## 2.0.0rc2") < news.index("## 2.0.0rc1") < news.index("## 1.2.0")

    # What each pre-release's commit consumed, read back from git as towncrier names it.
    cycle = gather(project, environ=dict(os.environ)).prereleases
    assert [(p.tag, dict(p.fragments[""])) for p in cycle] == [
        ("v2.0.0rc1", {("30", "removal", 0): "Drop the old API.",
                       ("31", "feature", 0): "Add the new API.",
                       ("", "feature", 0): "Tidy the help."}),
        ("v2.0.0rc2", {("32", "bugfix", 0): "Fix the new API."}),
    ]

    # Nothing new since rc2: no rc3, but the promotion (--final).
    nothing = run_release(project, "preview")
    assert nothing.code == 1
    assert problem_codes(nothing.stdout) == ["plan", "no-fragments"]
    assert "Nothing to release" in nothing.stdout
    code, shown = preview(project, "--final")
    assert (code, shown["problems"]) == (0, [])
    section = shown["plan"]["changelog"]
    assert shown["plan"]["changelog_gathers"] == ["v2.0.0rc1", "v2.0.0rc2"]
    release(project, "--final")

    assert bare_refs(remote_of(project))["refs/heads/next"] == git(
        project, "rev-parse", "v2.0.0^{commit}"
    ).strip()
    news = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "2.0.0rc" not in news
    final = news[news.index("## 2.0.0 (") : news.index("## 1.2.0")]
    assert final.rstrip("\n") + "\n" == section["section"].rstrip("\n") + "\n"
    for entry in ("Drop the old API.", "Add the new API.", "Fix the new API.", "Tidy the help."):
        assert entry in final
    # towncrier renders it as it would have with every fragment of the cycle at once.
    assert final.index("### Features") < final.index("### Bugfixes")
