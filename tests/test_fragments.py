"""Changelog fragments: strict validation (exit 2, naming the file) and the bump they imply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    CLI,
    assert_usage_error,
    commit_all,
    git,
    problem_codes,
    set_release_config,
    set_towncrier_config,
    write_fragments,
)

pytestmark = pytest.mark.cached_samples


ESC = "\x1b"


# --- strictness -----------------------------------------------------------------------------


def test_unknown_fragment_type(bare: Path, cli: CLI) -> None:
    write_fragments(bare, {"12.feeture.md": "Typo in the type.", "13.feature.md": "Fine."})
    both = assert_usage_error(cli("preview", cwd=bare), "changelog.d/12.feeture.md")
    assert "feature" in both  # the known types are listed
    assert "[fragment]" in both


@pytest.mark.parametrize(
    "names",
    [("12.feature.md", "012.feature.md"), ("12.feature", "12.feature.md")],
    ids=" + ".join,
)
def test_duplicate_fragments(bare: Path, cli: CLI, names: tuple[str, str]) -> None:
    write_fragments(bare, {names[0]: "One.", names[1]: "Two."})
    assert_usage_error(cli("preview", cwd=bare), *(f"changelog.d/{n}" for n in names))


def test_numbered_fragments_for_one_issue_are_not_duplicates(
    bare: Path, run_inprocess: CLI
) -> None:
    write_fragments(bare, {"12.feature.1.md": "One.", "12.feature.2.md": "Two."})
    result = run_inprocess("preview", "--json", cwd=bare)
    assert result.code == 0, result.stdout
    assert "One." in json.loads(result.stdout)["plan"]["changelog"]["section"]


@pytest.mark.parametrize("target", ["inside-project", "outside-project"])
def test_symlink_leading_outside_the_fragment_dir(
    bare: Path, cli: CLI, tmp_path: Path, target: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n", encoding="utf-8")
    link = bare / "changelog.d" / "12.feature.md"
    link.symlink_to("../README.md" if target == "inside-project" else secret)
    commit_all(bare, "Add a symlinked fragment")
    both = assert_usage_error(cli("preview", cwd=bare), "changelog.d/12.feature.md")
    assert "symbolic link" in both
    assert "TOP SECRET" not in both
    changelog = cli("changelog", cwd=bare)
    assert_usage_error(changelog, "changelog.d/12.feature.md")
    assert "TOP SECRET" not in changelog.stdout


def test_symlink_inside_the_fragment_dir_is_allowed(bare: Path, run_inprocess: CLI) -> None:
    # README.md is not a fragment (towncrier ignores it), but a fragment may link to it.
    (bare / "changelog.d" / "README.md").write_text("Shared text.", encoding="utf-8")
    (bare / "changelog.d" / "12.feature.md").symlink_to("README.md")
    commit_all(bare, "Add a symlinked fragment")
    result = run_inprocess("changelog", cwd=bare)
    assert result.code == 0, result.stderr
    assert "Shared text." in result.stdout


def test_non_utf8_fragment(bare: Path, cli: CLI) -> None:
    write_fragments(bare, {"12.feature.md": b"caf\xe9 cr\xe8me\n"})
    both = assert_usage_error(cli("preview", cwd=bare), "changelog.d/12.feature.md", "UTF-8")
    assert "\ufffd" not in both  # nothing was decoded with errors="replace"


@pytest.mark.parametrize(
    "content",
    ["Red \x1b[31mALERT\x1b[0m text.\n", "Clear\x1b[2J the screen.\n", "Bell\x07 and \x08.\n"],
    ids=["colour", "clear-screen", "bell-backspace"],
)
def test_control_characters_in_fragment_content(bare: Path, cli: CLI, content: str) -> None:
    write_fragments(bare, {"12.feature.md": content})
    result = cli("preview", cwd=bare)
    assert_usage_error(result, "changelog.d/12.feature.md", "control characters")
    for stream in (result.stdout, result.stderr):
        assert ESC not in stream
        assert "\x07" not in stream


def test_control_characters_never_reach_any_output(bare: Path, cli: CLI) -> None:
    write_fragments(bare, {"12.feature.md": "Red \x1b[31mALERT\x1b[0m text.\n"})
    for command in (["preview", "--json"], ["changelog"]):
        result = cli(*command, cwd=bare)
        assert_usage_error(result, "changelog.d/12.feature.md")
        for stream in (result.stdout, result.stderr):
            assert ESC not in stream


def test_control_characters_in_a_fragment_name(bare: Path, cli: CLI) -> None:
    """A name can carry an escape sequence too; it must never reach the terminal raw."""
    write_fragments(bare, {"12\x1b[31m.feature.md": "Looks harmless.\n"})
    commands = (["preview"], ["changelog"], ["version", "--next"])
    results = [cli(*command, cwd=bare) for command in commands]
    for command, result in zip(commands, results, strict=True):
        for stream in (result.stdout, result.stderr):
            assert ESC not in stream, f"raw ESC in the output of `release {' '.join(command)}`"
    for result in results:
        assert_usage_error(result, "changelog.d/12\\x1b[31m.feature.md")


def test_an_empty_fragment_is_valid(bare: Path, run_inprocess: CLI) -> None:
    write_fragments(bare, {"12.feature.md": ""})
    result = run_inprocess("version", "--next", cwd=bare)
    assert (result.code, result.stdout) == (0, "1.3.0\n")


def test_every_fragment_problem_is_reported_at_once(bare: Path, cli: CLI) -> None:
    write_fragments(bare, {
        "1.feeture.md": "Unknown type.",
        "2.feature.md": b"\xff\xfe",
        "3.bugfix.md": "Escape \x1b[1m.",
        "4.bugfix.md": "Fine.",
    })
    result = cli("preview", cwd=bare)
    both = assert_usage_error(
        result, "changelog.d/1.feeture.md", "changelog.d/2.feature.md", "changelog.d/3.bugfix.md"
    )
    assert problem_codes(result.stdout).count("fragment") == 3, both


# --- the bump each fragment type implies ------------------------------------------------------


@pytest.mark.parametrize(
    ("fragments", "expected"),
    [
        ({"1.removal.md": "Drop Python 3.9."}, "2.0.0"),
        ({"1.feature.md": "Add."}, "1.3.0"),
        ({"1.bugfix.md": "Fix."}, "1.2.1"),
        ({"1.bugfix.md": "Fix.", "2.feature.md": "Add.", "3.doc.md": "Doc."}, "1.3.0"),
        ({"1.bugfix.md": "Fix.", "2.removal.md": "Drop."}, "2.0.0"),
        ({"1.doc.md": "Doc.", "2.bugfix.md": "Fix."}, "1.2.1"),
    ],
    ids=["removal", "feature", "bugfix", "highest-wins-minor", "highest-wins-major",
         "doc-with-bugfix"],
)
def test_fragment_types_decide_the_bump(
    bare: Path, run_inprocess: CLI, fragments: dict[str, str], expected: str
) -> None:
    write_fragments(bare, fragments)
    result = run_inprocess("version", "--next", cwd=bare)
    assert (result.code, result.stdout, result.stderr) == (0, f"{expected}\n", "")


@pytest.mark.parametrize(
    "fragments",
    [{"1.doc.md": "Doc."}, {"1.misc.md": ""}, {"1.doc.md": "Doc.", "2.misc.md": ""}],
    ids=["doc", "misc", "doc+misc"],
)
def test_doc_and_misc_alone_are_nothing_to_release(
    bare: Path, cli: CLI, run_inprocess: CLI, fragments: dict[str, str]
) -> None:
    write_fragments(bare, fragments)
    result = cli("preview", cwd=bare)
    assert result.code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Nothing to release" in result.stdout
    assert "release preview minor" in result.stdout  # how to release anyway
    # A level still works.
    forced = run_inprocess("version", "--next", "patch", cwd=bare)
    assert (forced.code, forced.stdout) == (0, "1.2.1\n")


_CUSTOM_TYPES = """
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"

[[tool.towncrier.type]]
directory = "custom"
name = "Custom things"
showcontent = true

[[tool.towncrier.type]]
directory = "bugfix"
name = "Bugfixes"
showcontent = true
"""


def test_custom_type_without_a_bump_level_gets_one_by_its_name(
    bare: Path, run_inprocess: CLI
) -> None:
    """A type fragment-bumps does not list is no longer a problem: its name decides."""
    set_towncrier_config(bare, _CUSTOM_TYPES)
    write_fragments(bare, {"1.custom.md": "Custom.", "2.bugfix.md": "Fix."})
    result = run_inprocess("preview", "--json", cwd=bare)
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    # "custom" says neither breaking, new nor internal: a patch, and the reason says why.
    assert (plan["bump"], plan["version"]) == ("patch", "1.2.1")
    assert plan["reasons"] == [
        "changelog.d/1.custom.md (custom, by its name): patch",
        "changelog.d/2.bugfix.md (bugfix): patch",
    ]


def test_custom_type_with_a_bump_level(bare: Path, run_inprocess: CLI) -> None:
    set_towncrier_config(bare, _CUSTOM_TYPES)
    set_release_config(bare, 'fragment-bumps = { custom = "minor" }')
    write_fragments(bare, {"1.custom.md": "Custom.", "2.bugfix.md": "Fix."})
    result = run_inprocess("version", "--next", cwd=bare)
    assert (result.code, result.stdout) == (0, "1.3.0\n"), result.stderr


def test_fragment_bumps_override_a_default(bare: Path, run_inprocess: CLI) -> None:
    set_release_config(bare, 'fragment-bumps = { doc = "patch" }')
    write_fragments(bare, {"1.doc.md": "Doc."})
    result = run_inprocess("version", "--next", cwd=bare)
    assert (result.code, result.stdout) == (0, "1.2.1\n"), result.stderr


@pytest.mark.parametrize(
    ("major_on_zero", "expected"), [(None, "0.5.0"), (False, "0.5.0"), (True, "1.0.0")]
)
def test_removal_on_zero_x(
    sample: Callable[..., Path], run_inprocess: CLI, major_on_zero: bool | None, expected: str
) -> None:
    project = sample(version="0.4.2", fragments={"1.removal.md": "Drop the old API."})
    if major_on_zero is not None:
        set_release_config(project, f"major-on-zero = {str(major_on_zero).lower()}")
    result = run_inprocess("preview", "--json", cwd=project)
    assert result.code == 0, result.stdout
    plan = json.loads(result.stdout)["plan"]
    assert plan["version"] == expected
    if expected == "0.5.0":
        assert any("0.x" in reason for reason in plan["reasons"]), plan["reasons"]


# --- conventional commits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (["fix: handle empty input"], "1.2.1"),
        (["feat(cli): add --json"], "1.3.0"),
        (["feat!: drop the v1 API"], "2.0.0"),
        (["fix(api)!: rename a field"], "2.0.0"),
        (["fix: a\n\nBREAKING CHANGE: the config format changed"], "2.0.0"),
        (["fix: a", "feat: b", "docs: c"], "1.3.0"),
        (["perf: faster"], "1.2.1"),
    ],
    ids=["fix", "feat", "feat!", "fix!", "breaking-footer", "mixed", "perf"],
)
def test_conventional_commits_decide_the_bump(
    sample: Callable[..., Path], run_inprocess: CLI, messages: list[str], expected: str
) -> None:
    project = sample()
    set_release_config(project, 'version-source = "commits"')
    for message in messages:
        git(project, "commit", "--quiet", "--allow-empty", "-m", message)
    result = run_inprocess("preview", "--json", cwd=project)
    plan = json.loads(result.stdout)["plan"]
    assert plan["version"] == expected, result.stdout
    assert plan["decided_by"] == "commits"


def test_commits_before_the_last_release_tag_do_not_count(
    sample: Callable[..., Path], cli: CLI
) -> None:
    project = sample()
    set_release_config(project, 'version-source = "commits"')
    git(project, "commit", "--quiet", "--allow-empty", "-m", "feat!: released already")
    git(project, "tag", "-a", "-m", "Release 2.0.0", "v2.0.0")
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text(encoding="utf-8").replace('"1.2.0"', '"2.0.0"'),
        encoding="utf-8")
    init = project / "src" / "sample_project" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace("1.2.0", "2.0.0"), encoding="utf-8")
    commit_all(project, "chore: set the version")
    git(project, "commit", "--quiet", "--allow-empty", "-m", "fix: after the release")
    result = cli("version", "--next", cwd=project)
    assert (result.code, result.stdout) == (0, "2.0.1\n"), result.stderr


def test_no_conventional_commit_is_nothing_to_release(
    sample: Callable[..., Path], cli: CLI
) -> None:
    project = sample()
    set_release_config(project, 'version-source = "commits"')
    git(project, "commit", "--quiet", "--allow-empty", "-m", "chore: tidy up")
    git(project, "commit", "--quiet", "--allow-empty", "-m", "Update README")
    result = cli("version", "--next", cwd=project)
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "Nothing to release" in result.stderr
