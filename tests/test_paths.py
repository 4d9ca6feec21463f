"""Real paths asked once per directory: the same answers as Path.resolve()."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from release import paths


@pytest.fixture(autouse=True)
def fresh() -> None:
    paths.forget()


def test_real_paths_are_what_resolve_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "elsewhere" / "c").mkdir(parents=True)
    (tmp_path / "a" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "a" / "relative").symlink_to(Path("..") / "elsewhere" / "c")
    monkeypatch.chdir(tmp_path / "a")
    for path in [
        tmp_path / "a" / "b",
        tmp_path / "a" / "link" / "c",
        tmp_path / "a" / "link" / ".." / "a",  # .. after a link: the link's parent
        tmp_path / "a" / "relative" / "missing" / "tail",
        tmp_path / "a" / "." / "b" / "..",
        Path("link") / "c",
        Path("b"),
        Path("/"),
    ]:
        assert paths.real(path) == path.resolve(), path


def test_forget_sees_a_directory_replaced_by_a_link(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "target").mkdir()
    assert paths.real(tmp_path / "d" / "x") == tmp_path.resolve() / "d" / "x"
    os.rmdir(tmp_path / "d")
    (tmp_path / "d").symlink_to(tmp_path / "target")
    paths.forget()
    assert paths.real(tmp_path / "d" / "x") == tmp_path.resolve() / "target" / "x"
