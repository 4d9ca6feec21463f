"""A version edit of a TOML file is proven by parsing the result; one proof serves every
plain value in the same place (a release's version, then its development version)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from release import locations
from release.config import Location

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PARSE = tomllib.loads  # the real one: the fixture counts locations' calls
LOC = Location("toml", "pyproject.toml", "project.version")
TEXT = '[project]\nname = "pkg"\nversion = "1.0.3"  # kept\n\n[tool.x]\nversion = "9"\n'


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts locations parses to prove an edit (its configuration cache aside)."""
    monkeypatch.setattr(locations, "_PROVEN", set())
    seen: list[str] = []

    def loads(text: str) -> dict[str, Any]:
        seen.append(text)
        return PARSE(text)

    monkeypatch.setattr(locations.tomllib, "loads", loads)
    return seen


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
