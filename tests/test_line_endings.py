"""A release edits files in their own style: CRLF stays CRLF, a byte order mark stays first,
a file without a final newline stays without one.

The pure edits (version locations, the changelog, the plan) are tested in memory; a real
repository whose files use CRLF is released through ``release run`` up to the tag, and a
workspace (whose root reads uv.lock and the dependents' requirements itself) is prepared.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FRAGMENTS, both, commit_all, git, run_release
from factsmaker import INIT, NEWS, TOWNCRIER, init_text, make_facts, make_towncrier, pyproject_text
from workspace_fixture import add_fragment, make_workspace

from release import changelog, locations, plan
from release.config import Location
from release.plan import Request

pytestmark = pytest.mark.cached_samples

BOM = "\ufeff"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# --- version locations --------------------------------------------------------------------

LOCK = (
    'version = 1\nrequires-python = ">=3.10"\n\n'
    '[[package]]\nname = "my-pkg"\nversion = "1.2.0"\nsource = { editable = "." }\n'
)
LOCATIONS = {
    "toml": (
        Location("toml", "pyproject.toml", "project.version"),
        '[project]\nname = "my-pkg"\nversion = "1.2.0"  # kept\n\n[tool.x]\nversion = "9"\n',
    ),
    # An inline table: the edit goes through tomlkit, not the quick path.
    "toml-tomlkit": (
        Location("toml", "pyproject.toml", "project.version"),
        'project = { name = "my-pkg", version = "1.2.0" }\n\n[tool.x]\na = 1\n',
    ),
    "python": (Location("python", INIT, "__version__"), init_text("1.2.0")),
    "text": (Location("text", "VERSION"), "1.2.0\n"),
    "pattern": (
        Location("pattern", "setup.cfg", r"^version = (?P<version>.*)$"),
        "[metadata]\nname = my-pkg\nversion = 1.2.0\nlicense = MIT\n",
    ),
    "incremental": (
        Location("incremental", "_version.py"),
        'from incremental import Version\n\n__version__ = Version("my-pkg", 1, 2, 0)\n',
    ),
    "uv-lock": (Location("uv-lock", "uv.lock", "my-pkg"), LOCK),
}


@pytest.mark.parametrize("kind", LOCATIONS)
def test_a_crlf_file_is_read_and_edited_in_crlf(kind: str) -> None:
    loc, text = LOCATIONS[kind]
    assert locations.read_version(loc, crlf(text)) == "1.2.0"
    written = locations.write_version(loc, crlf(text), "1.3.0")
    assert written == crlf(locations.write_version(loc, text, "1.3.0"))
    assert written != crlf(text)


@pytest.mark.parametrize("kind", [k for k in LOCATIONS if k == "text" or k[0] in "pi"])
def test_a_byte_order_mark_stays_first_and_does_not_hide_the_version(kind: str) -> None:
    """(TOML does not allow a byte order mark.)"""
    loc, text = LOCATIONS[kind]
    for style in (str, crlf):
        marked = BOM + style(text)
        assert locations.read_version(loc, marked) == "1.2.0"
        assert locations.write_version(loc, marked, "1.3.0") == BOM + style(
            locations.write_version(loc, text, "1.3.0")
        )


def test_a_version_on_the_first_line_after_a_byte_order_mark_is_found() -> None:
    loc = Location("python", "_version.py", "__version__")
    assert locations.read_version(loc, BOM + '__version__ = "1.2.0"\r\n') == "1.2.0"
    assert locations.write_version(loc, BOM + '__version__ = "1.2.0"\r\n', "1.3.0") == (
        BOM + '__version__ = "1.3.0"\r\n'
    )


@pytest.mark.parametrize("kind", LOCATIONS)
def test_a_file_without_a_final_newline_stays_without_one(kind: str) -> None:
    loc, text = LOCATIONS[kind]
    for style in (str, crlf):
        bare = style(text).rstrip("\r\n")
        written = locations.write_version(loc, bare, "1.3.0")
        assert written == style(locations.write_version(loc, text, "1.3.0")).rstrip("\r\n")


def test_in_a_file_of_mixed_line_endings_only_the_version_line_changes() -> None:
    loc, _ = LOCATIONS["python"]
    text = '"""A sample project."""\r\n\n__version__ = "1.2.0"\r\nX = 1\n'
    assert locations.write_version(loc, text, "1.3.0") == text.replace("1.2.0", "1.3.0")


# --- the changelog ------------------------------------------------------------------------

SECTION = "## 1.3.0 (2026-01-02)\n\n### Features\n\n- Add a thing.\n\n"
TOP = "## 1.3.0 (2026-01-02)"
TC = make_towncrier(TOWNCRIER)
NO_START = NEWS.replace("<!-- towncrier release notes start -->\n\n", "")
# The news file after rc1 of 1.3.0, whose section the final release replaces.
RC_NEWS = NEWS.replace(
    "\n\n## 1.2.0", "\n\n## 1.3.0rc1 (2026-01-01)\n\n### Features\n\n- Add a thing.\n\n## 1.2.0"
)


@pytest.mark.parametrize(
    "news", [NEWS, NEWS.rstrip("\n"), NO_START], ids=["news", "no-final-newline", "no-start"]
)
def test_the_section_goes_into_a_crlf_news_file_in_crlf(news: str) -> None:
    written = changelog.updated_news_file(TC, SECTION, TOP, crlf(news))
    assert written == crlf(changelog.updated_news_file(TC, SECTION, TOP, news))
    assert "\n" not in written.replace("\r\n", "")


@pytest.mark.parametrize("news", [NEWS, NO_START], ids=["news", "no-start"])
def test_a_byte_order_mark_stays_first_in_the_news_file(news: str) -> None:
    for style in (str, crlf):
        written = changelog.updated_news_file(TC, SECTION, TOP, BOM + style(news))
        assert written == BOM + style(changelog.updated_news_file(TC, SECTION, TOP, news))


def test_new_lines_take_the_style_most_lines_have_and_the_others_keep_theirs() -> None:
    news = crlf(NEWS).replace("# Changelog\r\n", "# Changelog\n")  # one LF line among CRLF
    written = changelog.updated_news_file(TC, SECTION, TOP, news)
    assert written.startswith("# Changelog\n\r\n")
    assert written.replace("# Changelog\n", "# Changelog\r\n") == crlf(
        changelog.updated_news_file(TC, SECTION, TOP, NEWS)
    )


def test_pre_release_sections_leave_a_crlf_news_file_in_crlf() -> None:
    gone = changelog.without_sections(TC, crlf(RC_NEWS), ["1.3.0rc1"])
    assert gone == crlf(changelog.without_sections(TC, RC_NEWS, ["1.3.0rc1"]))
    assert gone == crlf(NEWS)


def test_a_section_read_back_from_a_crlf_news_file_has_lf_line_endings() -> None:
    """The release notes (release ci reads them back from the news file) are text for a
    forge, not a file: one style, LF."""
    tc = TC._replace(news_text=BOM + crlf(RC_NEWS))
    assert (
        changelog.extract_section(tc, "1.2.0")
        == changelog.extract_section(TC._replace(news_text=RC_NEWS), "1.2.0")
        == "## 1.2.0 (2026-01-01)\n\n- First.\n"
    )


# --- the plan -----------------------------------------------------------------------------


def crlf_plan() -> tuple[plan.Plan, plan.Plan]:
    """The plan of the sample with CRLF files, and with LF files (with a development
    version, so that the edits after the release are planned too)."""
    made = []
    for style in (crlf, str):
        files = {"pyproject.toml": style(pyproject_text("1.2.0")), INIT: style(init_text("1.2.0"))}
        facts = make_facts(
            files=files,
            news_text=style(NEWS),
            fragments={"12.feature.md": "Add a thing."},
            release={"next-dev": True},
        )
        made.append(plan.build(facts, Request()))
    return made[0], made[1]


def test_the_plan_edits_crlf_files_from_their_exact_text_into_crlf() -> None:
    crlf_made, lf_made = crlf_plan()
    assert [e.path for e in crlf_made.edits] == ["pyproject.toml", INIT, "CHANGELOG.md"]
    pairs = zip(
        crlf_made.edits + crlf_made.dev_edits, lf_made.edits + lf_made.dev_edits, strict=True
    )
    for mine, lf in pairs:
        assert (mine.path, mine.before, mine.after) == (
            lf.path,
            crlf(lf.before or ""),
            crlf(lf.after),
        )


def test_the_diff_of_a_crlf_file_reads_as_that_of_an_lf_file() -> None:
    crlf_made, lf_made = crlf_plan()
    pairs = zip(
        crlf_made.edits + crlf_made.dev_edits, lf_made.edits + lf_made.dev_edits, strict=True
    )
    for mine, lf in pairs:
        assert "\r" not in mine.diff()
        assert mine.diff() == lf.diff()


# --- a real repository --------------------------------------------------------------------


def written_in_crlf(path: Path) -> bool:
    data = path.read_bytes()
    return data.count(b"\n") > 0 and data.count(b"\n") == data.count(b"\r\n")


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize("how", ["committed", "eol-attribute"])
def test_a_crlf_project_is_released_up_to_the_tag_in_crlf(
    sample: Callable[..., Path], how: str
) -> None:
    """Committed with CRLF (a Windows checkout without conversion), or checked out with
    CRLF by ``* text eol=crlf``; the news file also starts with a byte order mark."""
    project = sample(fragments=FRAGMENTS)
    files = ["pyproject.toml", INIT, "CHANGELOG.md"]
    if how == "eol-attribute":
        (project / ".gitattributes").write_bytes(b"* text eol=crlf\n")
    for name in files:
        path = project / name
        data = path.read_bytes().replace(b"\n", b"\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + data if name == "CHANGELOG.md" else data)
    commit_all(project, "Use CRLF")
    git(project, "push", "--quiet", "origin", "main")
    assert git(project, "status", "--porcelain") == ""

    result = run_release(project, "run", "--yes", "--until", "tag")

    assert result.code == 0, both(result)
    assert "\r" not in result.stdout, "the preview shows carriage returns"
    for name in files:
        assert written_in_crlf(project / name), name
    news = (project / "CHANGELOG.md").read_bytes()
    assert news.startswith(b"\xef\xbb\xbf# Changelog\r\n")
    assert news.index(b"## 1.3.0 (2026-01-01)\r\n") < news.index(b"## 1.2.0 (2026-01-01)\r\n")
    assert b'version = "1.3.0"' in (project / "pyproject.toml").read_bytes()
    assert b'__version__ = "1.3.0"\r\n' in (project / INIT).read_bytes()
    assert git(project, "status", "--porcelain") == ""
    assert [p.name for p in (project / "changelog.d").iterdir()] == [".gitkeep"]
    assert git(project, "rev-parse", "v1.3.0^{commit}") == git(project, "rev-parse", "HEAD")
    assert git(project, "log", "-1", "--format=%s").strip() == "Release 1.3.0"
    committed = subprocess.run(
        ["git", "show", "HEAD:CHANGELOG.md"], cwd=project, capture_output=True, check=True
    ).stdout
    assert (b"\r\n" in committed) == (how == "committed")


@pytest.mark.usefixtures("utc", "shared_uv_cache")
def test_a_crlf_workspace_is_prepared_in_crlf(tmp_path: Path) -> None:
    """The root's uv.lock and a dependent's rewritten requirement, read at the root rather
    than by each package's facts, are edited in CRLF too."""
    root = make_workspace(tmp_path)
    (root / "pyproject.toml").write_bytes(
        (root / "pyproject.toml").read_bytes() + b"update-dependents = true\n"
    )
    add_fragment(root, "rpws-c", "1", "removal", "C changes.")  # 2.0.0, which B's <2 excludes
    add_fragment(root, "rpws-b", "2", "bugfix", "B follows C.")
    edited = [
        "uv.lock",
        *(f"packages/{p}/{name}" for p in "bc" for name in ("pyproject.toml", "CHANGELOG.md")),
    ]
    for name in edited:
        (root / name).write_bytes((root / name).read_bytes().replace(b"\n", b"\r\n"))
    commit_all(root, "CRLF")
    git(root, "push", "--quiet", "origin", "main")

    result = run_release(root, "run", "--yes", "--until", "prepare")

    assert result.code == 0, both(result)
    assert git(root, "log", "-1", "--format=%s").startswith("Release")
    for name in edited:
        assert written_in_crlf(root / name), name
    b = (root / "packages/b/pyproject.toml").read_bytes()
    assert b'version = "1.0.1"\r\n' in b
    assert b'dependencies = ["rpws-c>=2.0.0,<3"]\r\n' in b
    assert b'version = "2.0.0"\r\n' in (root / "uv.lock").read_bytes()
