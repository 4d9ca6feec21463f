"""For contributors: ``release fragment`` and the pull-request gate
``release check --fragments --base REF``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    CLI,
    Result,
    assert_usage_error,
    commit_all,
    git,
    set_release_config,
    set_towncrier_config,
    tree_state,
)

pytestmark = pytest.mark.cached_samples

TYPES = "feature, bugfix, doc, removal, misc"


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def towncrier_draft(project: Path, version: str) -> str:
    """What ``towncrier build --draft`` prints for ``version`` (dated 2026-01-01, as the
    tests' SOURCE_DATE_EPOCH)."""
    done = subprocess.run(
        [sys.executable, "-m", "towncrier", "build", "--draft", "--version", version,
         "--date", "2026-01-01"],
        cwd=project, capture_output=True, text=True, check=True,
    )
    return done.stdout


# --- release fragment -----------------------------------------------------------------------


def test_fragment_is_created(bare: Path, cli: CLI) -> None:
    result = cli("fragment", "12", "feature", "  Add `sample --json`.  ", cwd=bare)
    path = bare / "changelog.d" / "12.feature.md"
    assert (result.code, result.stdout, result.stderr) == (0, f"Created {path}\n", "")
    # Stripped, and ended with a newline (towncrier's create_eof_newline, true by default).
    assert path.read_bytes() == b"Add `sample --json`.\n"


def test_no_newline_is_added_when_towncrier_says_so(bare: Path, run_inprocess: CLI) -> None:
    set_towncrier_config(bare, '[tool.towncrier]\ndirectory = "changelog.d"\n'
                               'filename = "CHANGELOG.md"\ncreate_eof_newline = false\n')
    assert run_inprocess("fragment", "12", "bugfix", "Fix it.", cwd=bare).code == 0
    assert (bare / "changelog.d" / "12.bugfix.md").read_bytes() == b"Fix it."


def test_the_extension_follows_the_template(bare: Path, run_inprocess: CLI) -> None:
    set_towncrier_config(bare, '[tool.towncrier]\ndirectory = "changelog.d"\n'
                               'filename = "CHANGELOG.rst"\n')
    assert run_inprocess("fragment", "12", "bugfix", "Fix it.", cwd=bare).code == 0
    assert (bare / "changelog.d" / "12.bugfix.rst").read_text(encoding="utf-8") == "Fix it.\n"


def test_a_second_fragment_for_the_same_issue_and_type_is_numbered(
    bare: Path, run_inprocess: CLI
) -> None:
    for text in ("One.", "Two.", "Three."):
        assert run_inprocess("fragment", "12", "feature", text, cwd=bare).code == 0
    assert run_inprocess("fragment", "12", "bugfix", "Other type.", cwd=bare).code == 0
    directory = bare / "changelog.d"
    assert {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()} == {
        ".gitkeep": "",
        "12.feature.md": "One.\n",
        "12.feature.1.md": "Two.\n",
        "12.feature.2.md": "Three.\n",
        "12.bugfix.md": "Other type.\n",
    }


def test_an_unknown_type_is_refused(bare: Path, cli: CLI) -> None:
    before = files_under(bare.parent)
    result = cli("fragment", "12", "feeture", "Add a thing.", cwd=bare)
    both = assert_usage_error(result, "'feeture' is not a fragment type of this project.")
    assert f"Use one of: {TYPES}." in both
    assert files_under(bare.parent) == before


def test_the_types_are_towncriers(bare: Path, run_inprocess: CLI) -> None:
    set_towncrier_config(bare, '[tool.towncrier]\ndirectory = "changelog.d"\n'
                               'filename = "CHANGELOG.md"\n'
                               '[[tool.towncrier.type]]\ndirectory = "added"\nname = "Added"\n'
                               'showcontent = true\n')
    result = run_inprocess("fragment", "12", "feature", "Add a thing.", cwd=bare)
    assert result.code == 2
    assert "Use one of: added." in result.stderr
    assert run_inprocess("fragment", "12", "added", "Add a thing.", cwd=bare).code == 0
    assert (bare / "changelog.d" / "12.added.md").is_file()


@pytest.mark.parametrize(
    "issue",
    ["../x", "../../x", ".hidden", "-x", "a/b", "/tmp/x", "a\\b", "..", "+", "+../x", "1 2",
     "1\x1b[31m", "12\n", "1\t", "", "1.2"],
)
def test_an_unsafe_issue_name_is_refused_and_nothing_is_written(
    bare: Path, run_inprocess: CLI, issue: str
) -> None:
    before = files_under(bare.parent)
    outside = Path("/tmp/x").exists()
    result = run_inprocess("fragment", "--", issue, "feature", "Text.", cwd=bare)
    assert_usage_error(result, "is not a safe issue name for a fragment file.")
    assert "\x1b" not in result.stdout + result.stderr  # control characters are escaped
    assert files_under(bare.parent) == before
    assert Path("/tmp/x").exists() == outside


@pytest.mark.parametrize("text", ["", "   \n ", "red \x1b[31m text"])
def test_empty_or_control_character_text_is_refused(
    bare: Path, run_inprocess: CLI, text: str
) -> None:
    before = files_under(bare.parent)
    result = run_inprocess("fragment", "12", "feature", text, cwd=bare)
    assert result.code == 2, result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert files_under(bare.parent) == before


def test_orphan_fragments(bare: Path, run_inprocess: CLI) -> None:
    assert run_inprocess("fragment", "+orphan", "bugfix", "Fix a typo.", cwd=bare).code == 0
    assert run_inprocess("fragment", "+orphan", "bugfix", "Fix another.", cwd=bare).code == 0
    assert run_inprocess("fragment", "+tidy_up-2", "misc", "Tidy.", cwd=bare).code == 0
    names = {p.name for p in (bare / "changelog.d").iterdir()}
    assert names == {".gitkeep", "+orphan.bugfix.md", "+orphan.bugfix.1.md",
                     "+tidy_up-2.misc.md"}
    commit_all(bare, "Add orphan fragments")
    section = run_inprocess("changelog", cwd=bare).stdout
    assert "- Fix a typo.\n- Fix another.\n" in section  # no issue link for orphans
    assert "(#" not in section
    assert "issues/" not in section


def test_sections(bare: Path, run_inprocess: CLI) -> None:
    set_towncrier_config(bare, '[tool.towncrier]\ndirectory = "changelog.d"\n'
                               'filename = "CHANGELOG.md"\ntitle_format = "## {version}"\n'
                               '[[tool.towncrier.section]]\nname = ""\npath = ""\n'
                               '[[tool.towncrier.section]]\nname = "Command line"\npath = "cli"\n')
    assert run_inprocess("fragment", "5", "feature", "Core thing.", cwd=bare).code == 0
    made = run_inprocess("fragment", "--section", "Command line", "6", "feature",
                         "A new option.", cwd=bare)
    assert made.code == 0, made.stderr
    assert made.stdout == f"Created {bare / 'changelog.d' / 'cli' / '6.feature.md'}\n"
    assert (bare / "changelog.d" / "5.feature.md").read_text(encoding="utf-8") == "Core thing.\n"

    before = files_under(bare)
    wrong = run_inprocess("fragment", "--section", "CLI", "7", "feature", "Nope.", cwd=bare)
    both = assert_usage_error(wrong, "'CLI' is not a changelog section of this project.")
    assert "Use one of: (default), Command line." in both
    assert files_under(bare) == before

    commit_all(bare, "Add fragments")
    result = run_inprocess("preview", cwd=bare)
    assert result.code == 0, result.stdout
    assert "changelog.d/5.feature.md, changelog.d/cli/6.feature.md" in result.stdout
    section = run_inprocess("changelog", cwd=bare).stdout
    assert section.index("Core thing.") < section.index("### Command line") < section.index(
        "A new option.")


@pytest.mark.usefixtures("utc")
def test_created_fragments_are_consumed_by_the_release(bare: Path, run_inprocess: CLI) -> None:
    for args in (("21", "feature", "Add `--json`."), ("22", "bugfix", "Fix the empty case."),
                 ("+typo", "doc", "Fix a typo in the guide."), ("23", "misc", "Refactor.")):
        assert run_inprocess("fragment", *args, cwd=bare).code == 0
    commit_all(bare, "Add fragments")
    git(bare, "push", "--quiet", "origin", "main")
    result = run_inprocess("preview", cwd=bare)
    assert result.code == 0, result.stdout
    assert result.stdout.startswith(
        "sample-project 1.2.0 -> 1.3.0 (minor, decided by fragments)\n"
        "  changelog.d/21.feature.md (feature): minor\n")
    assert ("Fragments consumed (4): changelog.d/+typo.doc.md, changelog.d/21.feature.md, "
            "changelog.d/22.bugfix.md, changelog.d/23.misc.md") in result.stdout
    assert result.stdout.rstrip().endswith("Checks: all passed.")
    # The section is what towncrier itself would write from these files.
    section = run_inprocess("changelog", cwd=bare).stdout
    assert section == towncrier_draft(bare, "1.3.0")
    for text in ("Add `--json`.", "Fix the empty case.", "Fix a typo in the guide."):
        assert text in section
    assert "Refactor." not in section  # misc: listed without its text


def test_fragment_without_towncrier(sample_copy: Callable[..., Path], run_inprocess: CLI) -> None:
    project = sample_copy()
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[tool.towncrier]")], encoding="utf-8")
    before = files_under(project)
    both = assert_usage_error(run_inprocess("fragment", "1", "feature", "x", cwd=project),
                              "no towncrier configuration")
    assert "[tool.towncrier]" in both
    assert files_under(project) == before


# --- release check --fragments --base REF ---------------------------------------------------


@pytest.fixture
def topic(bare: Path) -> Path:
    """The sample project on a branch ``topic`` made from main, with one commit that changes
    a source file."""
    git(bare, "switch", "--quiet", "--create", "topic")
    init = bare / "src" / "sample_project" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + "ANSWER = 42\n", encoding="utf-8")
    commit_all(bare, "Add the answer")
    return bare


def gate(run: CLI, project: Path, *extra: str, base: str = "main") -> Result:
    return run(*extra, "check", "--fragments", "--base", base, cwd=project)


def test_a_change_without_a_fragment_fails(topic: Path, cli: CLI) -> None:
    before = tree_state(topic)
    result = gate(cli, topic)
    assert result.code == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "error: The change since main adds no changelog fragment (looked in changelog.d/).\n"
        "  hint: Add one: release fragment ISSUE TYPE \"what changed, for users\". If the "
        "change needs none, put '[no fragment]' in a commit message.\n"
    )
    assert tree_state(topic) == before


def test_a_change_with_a_fragment_passes(topic: Path, run_inprocess: CLI) -> None:
    assert run_inprocess("fragment", "7", "bugfix", "Fix the answer.", cwd=topic).code == 0
    commit_all(topic, "Add a fragment")
    before = tree_state(topic)
    result = gate(run_inprocess, topic)
    assert (result.code, result.stdout) == (0, "Fragments added: changelog.d/7.bugfix.md\n")
    assert tree_state(topic) == before
    # A remote-tracking branch is a base as good as a local one.
    assert gate(run_inprocess, topic, base="origin/main").code == 0


def test_a_fragment_added_before_the_base_does_not_count(topic: Path, run_inprocess: CLI) -> None:
    git(topic, "switch", "--quiet", "main")
    assert run_inprocess("fragment", "1", "feature", "Old.", cwd=topic).code == 0
    commit_all(topic, "A fragment on main")
    git(topic, "switch", "--quiet", "topic")
    git(topic, "rebase", "--quiet", "main")
    result = gate(run_inprocess, topic)
    assert result.code == 1, result.stdout + result.stderr


def test_a_changed_fragment_is_not_an_added_one(topic: Path, run_inprocess: CLI) -> None:
    git(topic, "switch", "--quiet", "main")
    assert run_inprocess("fragment", "1", "feature", "Old.", cwd=topic).code == 0
    commit_all(topic, "A fragment on main")
    git(topic, "switch", "--quiet", "topic")
    git(topic, "rebase", "--quiet", "main")
    (topic / "changelog.d" / "1.feature.md").write_text("Reworded.\n", encoding="utf-8")
    commit_all(topic, "Reword")
    assert gate(run_inprocess, topic).code == 1


@pytest.mark.parametrize("name", ["notes.txt", "README.md"])
def test_a_file_that_is_not_a_fragment_does_not_pass_the_gate(
    topic: Path, run_inprocess: CLI, name: str
) -> None:
    """The gate must not pass a change on a file that ``release check`` then rejects (or
    towncrier ignores)."""
    (topic / "changelog.d" / name).write_text("Not a fragment.\n", encoding="utf-8")
    commit_all(topic, "Add a file to changelog.d")
    result = gate(run_inprocess, topic)
    assert result.code == 1, result.stdout + result.stderr


def test_exempt_paths(bare: Path, run_inprocess: CLI) -> None:
    set_release_config(bare, 'fragment-exempt-paths = ["docs/*", ".github/*"]')
    git(bare, "switch", "--quiet", "--create", "topic")
    (bare / "docs").mkdir()
    (bare / "docs" / "guide.md").write_text("# Guide\n", encoding="utf-8")
    (bare / ".github" / "workflows").mkdir(parents=True)
    (bare / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    commit_all(bare, "Write a guide")
    result = gate(run_inprocess, bare)
    assert (result.code, result.stdout) == (
        0, "No fragment needed: every changed file matches fragment-exempt-paths.\n")

    (bare / "README.md").write_text("# Changed\n", encoding="utf-8")  # not exempt
    commit_all(bare, "Change the README")
    result = gate(run_inprocess, bare)
    assert result.code == 1, result.stdout + result.stderr
    assert "adds no changelog fragment" in result.stderr


def test_exempt_marker(topic: Path, run_inprocess: CLI) -> None:
    commit_all(topic, "Tidy up\n\nInternal only. [no fragment]")
    result = gate(run_inprocess, topic)
    assert (result.code, result.stdout) == (
        0, "No fragment needed: a commit message contains '[no fragment]'.\n")


def test_a_marker_before_the_base_does_not_count(topic: Path, run_inprocess: CLI) -> None:
    git(topic, "switch", "--quiet", "main")
    commit_all(topic, "Housekeeping [no fragment]")
    git(topic, "switch", "--quiet", "topic")
    git(topic, "rebase", "--quiet", "main")
    assert gate(run_inprocess, topic).code == 1


def test_a_configured_marker(topic: Path, run_inprocess: CLI) -> None:
    commit_all(topic, "Tidy up [skip news]")
    assert gate(run_inprocess, topic).code == 1  # not the default marker
    result = gate(run_inprocess, topic, "-c", "fragment-exempt-marker=[skip news]")
    assert (result.code, result.stdout) == (
        0, "No fragment needed: a commit message contains '[skip news]'.\n")


def test_an_empty_marker_turns_the_marker_off(topic: Path, run_inprocess: CLI) -> None:
    commit_all(topic, "Tidy up [no fragment]")
    result = gate(run_inprocess, topic, "-c", 'fragment-exempt-marker=""')
    assert result.code == 1, result.stdout + result.stderr
    assert "configure fragment-exempt-marker or fragment-exempt-paths" in result.stderr


def test_nothing_changed_needs_no_fragment(bare: Path, run_inprocess: CLI) -> None:
    result = gate(run_inprocess, bare)
    assert (result.code, result.stdout) == (0, "No fragment needed: nothing changed since main.\n")


@pytest.mark.parametrize("base", ["no-such-branch", "v9.9.9", "HEAD~99", "--all"])
def test_a_bad_base_is_a_usage_error(topic: Path, cli: CLI, base: str) -> None:
    result = cli("check", "--fragments", f"--base={base}", cwd=topic)
    both = assert_usage_error(result, f"--base {base!r} is not a commit in this repository.")
    assert "origin/main" in both  # the hint says how to get a base in CI


def test_no_base_is_a_usage_error(topic: Path, cli: CLI) -> None:
    assert_usage_error(cli("check", "--fragments", cwd=topic),
                       "release check --fragments needs --base REF.")


def test_the_gate_needs_towncrier(topic: Path, run_inprocess: CLI) -> None:
    path = topic / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[tool.towncrier]")], encoding="utf-8")
    commit_all(topic, "No towncrier")
    assert_usage_error(gate(run_inprocess, topic), "no towncrier configuration")
