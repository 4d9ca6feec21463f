"""A version edit of a TOML file is proven right: by the shape of a text without multi-line
strings, else by parsing the result; one proof serves every plain value in the same place
(a release's version, then its development version)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release import locations
from release.config import Location
from release.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PARSE = tomllib.loads  # the real one: the fixture counts locations' calls
LOC = Location("toml", "pyproject.toml", "project.version")
# With a multi-line string, so that the edits need a parse to be proven.
TEXT = (
    '[project]\nname = "pkg"\nversion = "1.0.3"  # kept\n\n[tool.x]\nversion = "9"\n'
    'notes = """\n[project]\n"""\n'
)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch, toml_parses: list[str]) -> list[str]:
    """The texts locations parses to prove an edit (its configuration cache aside)."""
    monkeypatch.setattr(locations, "_PROVEN", set())
    return toml_parses


def test_the_development_version_is_proven_by_the_releases_proof(parses: list[str]) -> None:
    released = locations.write_version(LOC, TEXT, "1.1.0")
    assert released == TEXT.replace('"1.0.3"', '"1.1.0"')
    assert released in parses
    dev = locations.write_version(LOC, released, "1.2.0.dev0")
    assert dev == TEXT.replace('"1.0.3"', '"1.2.0.dev0"')
    assert dev not in parses, "same place, plain values: proven by the release's parse"
    # Elsewhere in the file (another shape), the proof is made again.
    moved = locations.write_version(LOC, "\n" + released, "2.0.0")
    assert moved == "\n" + TEXT.replace('"1.0.3"', '"2.0.0"')
    assert moved in parses


def test_a_value_with_an_escape_is_always_parsed(parses: list[str]) -> None:
    text = TEXT.replace('"1.0.3"', '"1.0.\\u0033"')
    assert locations.read_version(LOC, text) == "1.0.3"
    for _ in range(2):
        edited = locations.write_version(LOC, text, "1.1.0")
        assert PARSE(edited)["project"]["version"] == "1.1.0"
    assert not locations._PROVEN


def test_a_failed_proof_is_never_remembered(parses: list[str]) -> None:
    # The first "[project]" the pattern finds is inside a string: the quick edit changes
    # the string, its proof fails, and tomlkit edits the real version instead.
    text = 'notes = """\n[project]\nversion = "1.0.3"\n"""\n[project]\nversion = "1.0.3"\n'
    wrong = text.replace('"1.0.3"', '"1.1.0"', 1)
    for _ in range(2):
        edited = locations.write_version(LOC, text, "1.1.0")
        data = PARSE(edited)
        assert data["project"]["version"] == "1.1.0"
        assert data["notes"] == '[project]\nversion = "1.0.3"\n'
    assert parses.count(wrong) == 2, "each attempt was proven, and failed"
    assert not locations._PROVEN


def test_a_text_without_multi_line_strings_needs_no_parse(parses: list[str]) -> None:
    text = TEXT[: TEXT.index("notes")]
    released = locations.write_version(LOC, text, "1.1.0")
    assert released == text.replace('"1.0.3"', '"1.1.0"')
    assert parses == [text], "the text was read; its edit is proven by its shape"
    dev = locations.write_version(LOC, released, "1.2.0.dev0")
    assert dev == text.replace('"1.0.3"', '"1.2.0.dev0"')
    assert dev not in parses
    # An escape in the new value still needs the parse (or tomlkit).
    escaped = locations.write_version(LOC, text, "1.1.0+a\\b")
    assert PARSE(escaped)["project"]["version"] == "1.1.0+a\\b"


# Pieces of a pyproject.toml, among them those that could fool a line-based edit: headers
# and assignments inside multi-line strings and arrays, comments, literal strings, dotted
# keys and inline tables.
PIECES = (
    "[project]",
    "[tool.x]",
    "[[tool.y]]",
    "[ project ]  # the table",
    'version = "1.0.3"',
    "version = '1.0.3'",
    'version = "2.0"',
    '# version = "1.0.3"',
    'name = "pkg"',
    'notes = """\n[project]\nversion = "1.0.3"\n"""',
    "notes = '''\nversion = '1.0.3'\n'''",
    'notes = """version = "1.0.3"\n"""',
    'notes = """\n"""',
    'deps = [\n  [1, 2],\n  "version = 1.0.3",\n]',
    'deps = [\n  { version = "1.0.3" },\n]',
    'inline = { version = "1.0.3" }',
    'tool.version = "1.0.3"',
    'x.y = "1.0.3"',
    "",
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=6),
    st.lists(st.sampled_from(PIECES), max_size=6),
    st.sampled_from(["1.1.0", "2.0.0rc1"]),
)
def test_an_edit_proven_by_its_shape_is_the_edit_a_parse_proves(
    before: list[str], after: list[str], new: str
) -> None:
    lines = [*before, "[project]", 'version = "1.0.3"', *after]
    text = "\n".join(lines) + "\n"
    try:
        data = PARSE(text)
        old = locations.read_version(LOC, text)
    except (tomllib.TOMLDecodeError, ConfigError):
        return  # not a valid pyproject with a version: nothing to edit
    assert isinstance(data, dict)
    edited = locations.write_version(LOC, text, new)
    expected = {**data, "project": {**data["project"], "version": new}}
    assert PARSE(edited) == expected, (text, old)
