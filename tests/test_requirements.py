"""Requirement strings read by packaging once, and kept in the cache for a workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from release import requirements
from release.errors import ConfigError
from release.memo import Memo
from release.packages import discover, pin_conflicts


@pytest.mark.parametrize(
    "text",
    [
        "Pkg_A>=1.2,<2",
        "pkg.a[extra] ~= 1.4 ; python_version >= '3.10'",
        "pkg-a @ https://example.invalid/pkg_a-1.0.tar.gz",
        "pkg-a",
    ],
)
def test_a_read_says_what_packaging_says(text: str) -> None:
    parsed = Requirement(text)
    read = requirements.read(text)
    assert read.key == "pkg-a"
    assert read.specifier == str(parsed.specifier)
    for version in ("1.1", "1.5", "2.0rc1", "2.0"):
        assert requirements.admits(text, Version(version)) == parsed.specifier.contains(
            Version(version), prereleases=True
        )


def test_reads_are_kept_in_the_cache_and_an_invalid_one_is_not(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    requirements.recall(["kept-a>=1", "kept-b<2"], memo)
    (stored,) = (tmp_path / "requirements").glob("*.json")
    assert json.loads(stored.read_text()) == [["kept-a", ">=1"], ["kept-b", "<2"]]

    requirements.recall(["fine-c", "not a requirement ((("], memo)
    assert len(list((tmp_path / "requirements").glob("*.json"))) == 1


def test_a_corrupt_cache_entry_is_read_again(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    requirements.recall(["corrupt-a>=3"], memo)
    (stored,) = (tmp_path / "requirements").glob("*.json")
    stored.write_text('[["wrong"]]')
    requirements._READ.pop("corrupt-a>=3")
    requirements.recall(["corrupt-a>=3"], memo)
    assert requirements.read("corrupt-a>=3") == ("corrupt-a", ">=3")


def test_an_invalid_requirement_names_its_file_even_when_others_are_cached(
    tmp_path: Path,
) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(tmp_path, "packages/a/pyproject.toml", '[project]\nname = "a"\ndependencies = ["b>=1"]\n')
    write(
        tmp_path, "packages/b/pyproject.toml", '[project]\nname = "b"\ndependencies = ["b ((("]\n'
    )
    with pytest.raises(ConfigError) as info:
        discover(tmp_path, memo=Memo(tmp_path / "cache"))
    assert "packages/b/pyproject.toml" in info.value.message
    assert "b (((" in info.value.message


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")


_PROBE = """
import json, sys
from pathlib import Path
from packaging.version import Version
from release.memo import Memo
from release.packages import dependency_order, discover, pin_conflicts
memo = Memo(Path(sys.argv[2]))
found = dependency_order(discover(Path(sys.argv[1]), memo=memo))
conflicts = pin_conflicts(found, {"core": Version("2.0.0")}, memo)
print(json.dumps({
    "order": [p.name for p in found],
    "conflicts": [c.describe() for c in conflicts],
    "imported": sorted(m for m in ("packaging.requirements", "packaging.specifiers",
                                   "packaging.utils") if m in sys.modules),
}))
"""


def test_a_second_discovery_and_pin_check_answer_from_the_cache_without_packaging(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    write(root, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(root, "packages/core/pyproject.toml", '[project]\nname = "core"\n')
    write(
        root,
        "packages/app/pyproject.toml",
        '[project]\nname = "app"\ndependencies = ["Core>=1,<2", "other"]\n',
    )
    write(
        root,
        "packages/cli/pyproject.toml",
        '[project]\nname = "cli"\ndependencies = ["app", "core"]\n',
    )

    def probe() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(root), str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, object] = json.loads(done.stdout)
        return result

    first, second = probe(), probe()
    everything = ["packaging.requirements", "packaging.specifiers", "packaging.utils"]
    assert first["imported"] == everything
    assert second["imported"] == []
    assert second["order"] == first["order"] == ["core", "app", "cli"]
    assert (
        second["conflicts"]
        == first["conflicts"]
        == [
            "app requires `Core>=1,<2`, which does not admit core 2.0.0, "
            "the version being released."
        ]
    )

    # A changed requirement is a new key: read afresh, never answered stale.
    write(
        root, "packages/app/pyproject.toml", '[project]\nname = "app"\ndependencies = ["core>=1"]\n'
    )
    third = probe()
    assert third["imported"] == everything
    assert third["conflicts"] == []


def test_pin_conflicts_in_process_agree_with_packaging() -> None:
    from release.packages import Package

    packages = [Package("core", "packages/core", ()), Package("app", "packages/app", ("core<2",))]
    assert [c.dependent for c in pin_conflicts(packages, {"core": Version("2.0.0rc1")})] == ["app"]
    assert pin_conflicts(packages, {"core": Version("1.9")}) == ()


def test_pin_answers_are_kept_and_a_corrupt_entry_is_answered_again(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    asked = [("answer-a>=1,<2", Version("2.0")), ("answer-a>=1", Version("2.0rc1"))]
    requirements.recall_admits(asked, memo)
    (stored,) = (tmp_path / "requirement-admits").glob("*.json")
    assert json.loads(stored.read_text()) == [True, False]  # the pairs in sorted order

    stored.write_text('["no"]')
    requirements._ADMITS.clear()
    requirements.recall_admits(asked, memo)
    assert [requirements.admits(t, v) for t, v in asked] == [False, True]
    assert json.loads(stored.read_text()) == [True, False]
