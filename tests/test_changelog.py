"""`release changelog` prints exactly what `towncrier build --draft --version X` prints.

Both are run as real processes on the same project and their stdout compared byte for byte.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CLI, git, set_release_config, set_towncrier_config, write_fragments

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]


@dataclass
class Case:
    towncrier: str  # the [tool.towncrier] tables
    fragments: dict[str, str]  # path under changelog.d -> text
    version: str  # the next version the fragments call for
    release: str = ""  # [tool.release] lines
    files: dict[str, str] = field(default_factory=dict)  # other files to write


LONG = ("A fragment long enough to need wrapping when `wrap = true`, because it keeps going "
        "well past the seventy-nine columns towncrier wraps at, with non-ASCII: café, naïve, "
        "— and “quotes”.")

CASES = {
    "rst-default-template-NEWS.rst": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "NEWS.rst"
""",
        files={"NEWS.rst": "News\n====\n\n.. towncrier release notes start\n\nOld.\n"},
        fragments={
            "12.feature.rst": LONG,
            "13.bugfix.rst": "Fix a crash.\n\nWith a second paragraph.",
            "14.bugfix.rst": "Fix another crash.",
            "15.doc.rst": "Document it.",
            "16.removal.rst": "Remove the old API.",
            "17.misc.rst": "",
            "18.misc.rst": "",
        },
        version="2.0.0",
    ),
    "rst-wrap-and-underlines": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "NEWS.rst"
wrap = true
underlines = ["-", "~", "^"]
name = "Sample"
""",
        fragments={"12.feature.rst": LONG, "13.bugfix.rst": "Short."},
        version="1.3.0",
    ),
    "markdown-title-format": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"
issue_format = "[#{issue}](https://example.invalid/issues/{issue})"
""",
        fragments={
            "101.feature.md": "Add `sample --json`, which prints results for machines.",
            "102.bugfix.md": "Fix a crash when the input file is *empty*.",
            "103.doc.md": LONG,
            "104.misc.md": "",
        },
        version="1.3.0",
    ),
    "markdown-title-with-name": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "# {name} {version} — {project_date}"
""",
        fragments={"7.bugfix.md": "Fix it.", "8.bugfix.md": "Fix that."},
        version="1.2.1",
    ),
    "custom-types-showcontent-false": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"

[[tool.towncrier.type]]
directory = "api"
name = "API changes"
showcontent = true

[[tool.towncrier.type]]
directory = "fix"
name = "Fixes"
showcontent = true

[[tool.towncrier.type]]
directory = "internal"
name = "Internal changes"
showcontent = false
""",
        release='fragment-bumps = { api = "major", fix = "patch", internal = "none" }',
        fragments={
            "1.api.md": "Rename `load` to `read`.",
            "2.fix.md": "Fix the parser.",
            "3.internal.md": "This text is not shown.",
            "4.internal.md": "Nor is this one.",
        },
        version="2.0.0",
    ),
    "sections-with-own-paths": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"

[[tool.towncrier.section]]
name = "Core"
path = "core"

[[tool.towncrier.section]]
name = "Command line"
path = "cli"

[[tool.towncrier.section]]
name = "Library"
path = "lib"
""",
        fragments={
            "core/1.feature.md": "Core feature.",
            "core/2.bugfix.md": "Core fix.",
            "cli/3.bugfix.md": "CLI fix.",
            "lib/4.removal.md": "Library removal.",
            "lib/+orphan.bugfix.md": "Library orphan fix.",
        },
        version="2.0.0",
    ),
    "sections-with-a-root-section": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.rst"

[[tool.towncrier.section]]
name = ""
path = ""

[[tool.towncrier.section]]
name = "Command line"
path = "cli"

[[tool.towncrier.section]]
name = "Library"
path = "lib"
""",
        fragments={
            "1.feature.rst": "Core feature.",
            "cli/2.bugfix.rst": "CLI fix.",
            "lib/3.bugfix.rst": "Library fix.",
        },
        version="1.3.0",
    ),
    "orphan-fragments": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"
issue_format = "#{issue}"
""",
        fragments={
            "+tidy-up.feature.md": "An orphan feature.",
            "+another.feature.md": "Another orphan feature.",
            "+.bugfix.md": "An orphan fix with an empty name.",
            "20.feature.md": "A feature with an issue.",
            "20.feature.1.md": "A second one for the same issue.",
        },
        version="1.3.0",
    ),
    "issue-format-rst": Case(
        towncrier="""
[tool.towncrier]
directory = "changelog.d"
filename = "NEWS.rst"
issue_format = "`#{issue} <https://example.invalid/issues/{issue}>`_"
""",
        fragments={
            "007.bugfix.rst": "Leading zeros are dropped from the issue number.",
            "gh-12.bugfix.rst": "A non-numeric issue name.",
            "12.bugfix.rst": "Two issues, one text.",
            "13.bugfix.rst": "Two issues, one text.",
        },
        version="1.2.1",
    ),
    "towncrier.toml": Case(
        towncrier="",
        files={"towncrier.toml": """
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGES.md"
title_format = "## Release {version}"
"""},
        fragments={"5.feature.md": "Configured in towncrier.toml."},
        version="1.3.0",
    ),
}


def run_bytes(project: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=project, capture_output=True,
                          check=False)


@pytest.mark.parametrize("name", list(CASES))
def test_changelog_is_byte_identical_to_towncrier_draft(
    sample: Callable[..., Path], name: str
) -> None:
    case = CASES[name]
    project = sample()
    for path, text in case.files.items():
        (project / path).write_text(text.lstrip(), encoding="utf-8")
    if case.towncrier:
        set_towncrier_config(project, case.towncrier, commit=False)
    else:
        set_towncrier_config(project, "", commit=False)
    if case.release:
        set_release_config(project, case.release, commit=False)
    write_fragments(project, case.fragments)  # commits everything

    ours = run_bytes(project, "release", "changelog")
    theirs = run_bytes(project, "towncrier", "build", "--draft", "--version", case.version)
    assert theirs.returncode == 0, theirs.stderr.decode()
    assert b"Traceback" not in ours.stderr, ours.stderr.decode()
    assert ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout == theirs.stdout
    # Sanity: the section is really there, and towncrier changed nothing (it was a draft).
    assert case.version.encode() in ours.stdout
    for text in case.fragments.values():
        if text and "not shown" not in text and "Nor is" not in text:
            assert text.split()[0].encode() in ours.stdout


def test_changelog_for_an_explicit_version(project: Path) -> None:
    ours = run_bytes(project, "release", "changelog", "4.0.0")
    theirs = run_bytes(project, "towncrier", "build", "--draft", "--version", "4.0.0")
    assert ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout == theirs.stdout
    assert b"## 4.0.0 (2026-01-01)" in ours.stdout


def test_changelog_is_in_the_preview(project: Path, run_inprocess: CLI) -> None:
    section = run_inprocess("changelog", cwd=project).stdout
    preview = run_inprocess("preview", cwd=project).stdout
    assert section.strip() in preview
    assert "Changelog section (CHANGELOG.md):" in preview


def test_changelog_without_towncrier_configuration(sample: Callable[..., Path], cli: CLI) -> None:
    project = sample()
    set_towncrier_config(project, "")
    result = cli("changelog", "minor", cwd=project)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "[tool.towncrier]" in result.stderr
    assert 'version-source = "commits"' in result.stderr  # or how to do without it


@pytest.mark.parametrize(
    "name", ["rst-default-template-NEWS.rst", "markdown-title-format", "towncrier.toml"]
)
def test_news_file_edit_is_what_towncrier_build_writes(
    sample: Callable[..., Path], run_inprocess: CLI, name: str
) -> None:
    """The plan's edit of the news file equals the change a real `towncrier build` makes."""
    import json

    from release.textdiff import unified

    case = CASES[name]
    project = sample()
    for path, text in case.files.items():
        (project / path).write_text(text.lstrip(), encoding="utf-8")
    set_towncrier_config(project, case.towncrier, commit=False)
    if case.release:
        set_release_config(project, case.release, commit=False)
    write_fragments(project, case.fragments)

    plan = json.loads(run_inprocess("preview", "--json", cwd=project).stdout)["plan"]
    news = plan["changelog"]["file"]
    [planned] = [edit["diff"] for edit in plan["edits"] if edit["path"] == news]

    news_path = project / news
    before = news_path.read_text(encoding="utf-8") if news_path.exists() else None
    built = run_bytes(project, "towncrier", "build", "--yes", "--version", case.version)
    assert built.returncode == 0, built.stderr.decode()
    after = news_path.read_text(encoding="utf-8")
    expected = "".join(unified(
        (before or "").splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile="/dev/null" if before is None else f"a/{news}", tofile=f"b/{news}",
    ))
    assert planned == expected
    # towncrier removed exactly the fragments the plan says it consumes.
    removed = git(project, "diff", "--cached", "--name-only", "--diff-filter=D").split()
    assert sorted(removed) == sorted(plan["consumed_fragments"])
