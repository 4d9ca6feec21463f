"""TOML files parsed once per process, and a workspace's pyproject files kept in the cache
as one answer (release/tomlfiles.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from release import tomlfiles
from release.errors import ConfigError
from release.memo import Memo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PARSE = tomllib.loads
MISSING = ("missing", "hint")


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch, toml_parses: list[str]) -> list[str]:
    """The texts tomllib parses; each test starts as a new process would."""
    new_process(monkeypatch)
    return toml_parses


def files(tmp_path: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = tmp_path / f"p{i}" / "pyproject.toml"
        path.parent.mkdir()
        path.write_text(f'[project]\nname = "p{i}"\nversion = "1.{i}"\n', encoding="utf-8")
        paths.append(path)
    return paths


def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tomlfiles, "_FILES", {})
    monkeypatch.setattr(tomlfiles, "_TEXTS", {})


def test_files_recalled_together_are_parsed_once_across_processes(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = Memo(tmp_path / "cache")
    paths = files(tmp_path, 3)
    tomlfiles.recall(paths, memo)
    assert len(parses) == 3
    first = [tomlfiles.read_toml(p, missing=MISSING) for p in paths]
    assert len(parses) == 3, "read from what recall parsed"

    new_process(monkeypatch)
    tomlfiles.recall(paths, memo)
    assert [tomlfiles.read_toml(p, missing=MISSING) for p in paths] == first
    assert len(parses) == 3, "the second process parsed nothing"

    # One file changed: all are parsed again, and the answer holds the new text.
    new_process(monkeypatch)
    paths[1].write_text('[project]\nname = "p1"\nversion = "2.0"\n', encoding="utf-8")
    tomlfiles.recall(paths, memo)
    assert len(parses) == 6
    assert tomlfiles.read_toml(paths[1], missing=MISSING)["project"]["version"] == "2.0"


def test_without_a_cache_or_with_dates_each_process_parses(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = files(tmp_path, 2)
    tomlfiles.recall(paths, Memo(None))
    assert parses == []
    dated = tmp_path / "p0" / "pyproject.toml"
    dated.write_text("[project]\nreleased = 2024-01-02\n", encoding="utf-8")
    memo = Memo(tmp_path / "cache")
    for _ in range(2):
        new_process(monkeypatch)
        tomlfiles.recall(paths, memo)
        data = tomlfiles.read_toml(dated, missing=MISSING)
        assert str(data["project"]["released"]) == "2024-01-02"
    assert len(parses) == 4, "a date is no JSON: nothing was stored, both runs parsed"


def test_a_broken_file_is_reported_by_the_read_not_by_recall(
    tmp_path: Path, parses: list[str]
) -> None:
    paths = files(tmp_path, 2)
    paths[0].write_text("[project\n", encoding="utf-8")
    tomlfiles.recall(paths, Memo(tmp_path / "cache"))
    with pytest.raises(ConfigError, match="is not valid TOML"):
        tomlfiles.read_toml(paths[0], missing=MISSING, shown="p0/pyproject.toml")
    assert tomlfiles.read_toml(paths[1], missing=MISSING)["project"]["name"] == "p1"


def test_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'\xef\xbb\xbf[project]\nname = "p"\n')
    with pytest.raises(ConfigError, match="byte order mark") as caught:
        tomlfiles.read_toml(path, missing=MISSING, shown="pyproject.toml")
    assert "pyproject.toml starts with" in str(caught.value)
