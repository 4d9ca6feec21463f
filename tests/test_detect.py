"""The one detector of where a project keeps its version and how it writes tags.

In-process and table-driven: each case is a pyproject (and the files it names) in a
temporary directory; no git, no subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from packaging.version import Version

from release import locations
from release.config import Location, level_by_name, location_as_toml
from release.detect import split_tag, tag_format, version_locations
from release.errors import ConfigError

SETUPTOOLS = {"requires": ["setuptools>=61"], "build-backend": "setuptools.build_meta"}
HATCH = {"requires": ["hatchling"], "build-backend": "hatchling.build"}


def _project(tmp_path: Path, pyproject: dict[str, object], files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(tomlkit.dumps(pyproject), encoding="utf-8")
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


LAYOUTS: dict[str, tuple[dict[str, object], dict[str, str], list[object]]] = {
    "static": (
        {"project": {"name": "pkg", "version": "1.0"}},
        {},
        ["pyproject.toml"],
    ),
    "static repeated in the package": (
        {"project": {"name": "my-pkg", "version": "1.0"}},
        {"src/my_pkg/__init__.py": '__version__ = "1.0"\n'},
        ["pyproject.toml", "src/my_pkg/__init__.py"],
    ),
    "setuptools attr": (
        {"build-system": SETUPTOOLS, "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"setuptools": {"dynamic": {"version": {"attr": "pkg.__version__"}}}}},
        {"pkg/__init__.py": '__version__ = "2.1.0.dev0"\n'},
        ["pkg/__init__.py"],
    ),
    "setuptools attr, another variable in a version module": (
        {"build-system": SETUPTOOLS, "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"setuptools": {"dynamic": {"version": {"attr": "pkg._version.VERSION"}}}}},
        {"src/pkg/_version.py": 'VERSION = "2.1.0"\n'},
        [{"path": "src/pkg/_version.py", "key": "VERSION"}],
    ),
    "setuptools file": (
        {"build-system": SETUPTOOLS, "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"setuptools": {"dynamic": {"version": {"file": "VERSION.txt"}}}}},
        {"VERSION.txt": "3.0.1\n"},
        ["VERSION.txt"],
    ),
    "setup.cfg attr": (
        {"build-system": SETUPTOOLS},
        {"setup.cfg": "[metadata]\nname = pkg\nversion = attr: pkg.__version__\n",
         "src/pkg/__init__.py": '__version__ = "0.9"\n'},
        ["src/pkg/__init__.py"],
    ),
    "hatch path": (
        {"build-system": HATCH, "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"hatch": {"version": {"path": "src/pkg/__about__.py"}}}},
        {"src/pkg/__about__.py": '__version__ = "1.4.0"\n'},
        ["src/pkg/__about__.py"],
    ),
    "hatch path with a pattern": (
        {"build-system": HATCH, "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"hatch": {"version": {"path": "pkg/v.py",
                                        "pattern": r"^V = '(?P<version>[^']+)'"}}}},
        {"pkg/v.py": "V = '1.4.0'\n"},
        [{"path": "pkg/v.py", "pattern": r"^V = '(?P<version>[^']+)'"}],
    ),
    "hatch-vcs": (
        {"build-system": {"requires": ["hatchling", "hatch-vcs"]},
         "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"hatch": {"version": {"source": "vcs"}}}},
        {},
        ["scm"],
    ),
    "setuptools-scm in requires": (
        {"build-system": {"requires": ["setuptools>=64", "setuptools_scm[toml]>=8"]},
         "project": {"name": "pkg", "dynamic": ["version"]}},
        {},
        ["scm"],
    ),
    "versioningit": (
        {"build-system": {"requires": ["setuptools", "versioningit"]},
         "project": {"name": "pkg", "dynamic": ["version"]}, "tool": {"versioningit": {}}},
        {},
        ["scm"],
    ),
    "pdm scm": (
        {"build-system": {"requires": ["pdm-backend"]},
         "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"pdm": {"version": {"source": "scm"}}}},
        {},
        ["scm"],
    ),
    "pdm file": (
        {"build-system": {"requires": ["pdm-backend"]},
         "project": {"name": "pkg", "dynamic": ["version"]},
         "tool": {"pdm": {"version": {"source": "file", "path": "src/pkg/__init__.py"}}}},
        {"src/pkg/__init__.py": '__version__ = "0.3.0"\n'},
        ["src/pkg/__init__.py"],
    ),
    "flit module": (
        {"build-system": {"requires": ["flit_core"], "build-backend": "flit_core.buildapi"},
         "project": {"name": "my-pkg", "dynamic": ["version"]}},
        {"my_pkg/__init__.py": '"""Doc."""\n__version__ = "0.1"\n'},
        ["my_pkg/__init__.py"],
    ),
    "poetry": (
        {"build-system": {"requires": ["poetry-core"]},
         "tool": {"poetry": {"name": "pkg", "version": "1.2.3"}}},
        {},
        [{"path": "pyproject.toml", "key": "tool.poetry.version"}],
    ),
    "poetry-dynamic-versioning": (
        {"build-system": {"requires": ["poetry-core", "poetry-dynamic-versioning"]},
         "tool": {"poetry": {"name": "pkg", "version": "0.0.0"},
                  "poetry-dynamic-versioning": {"enable": True}}},
        {},
        ["scm"],
    ),
    "incremental under src": (
        {"build-system": {"requires": ["hatchling", "incremental>=24.7"]},
         "project": {"name": "Twisted", "dynamic": ["version"]},
         "tool": {"hatch": {"version": {"source": "incremental"}}}},
        {"src/twisted/_version.py": 'from incremental import Version\n\n'
         '__version__ = Version("Twisted", 24, 7, 0)\n'},
        [{"path": "src/twisted/_version.py", "format": "incremental"}],
    ),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_layout_is_detected(tmp_path: Path, name: str) -> None:
    pyproject, files, expected = LAYOUTS[name]
    project = _project(tmp_path, pyproject, files)
    found = version_locations(project, pyproject)
    assert [location_as_toml(loc) for loc in found.locations] == expected
    assert found.reason  # every decision says why
    for loc in found.locations:  # and every detected file location reads a version
        if loc.kind != "scm":
            text = (project / loc.path).read_text(encoding="utf-8")
            assert locations.read_version(loc, text)


def test_an_unknown_layout_names_the_candidates_and_the_key(tmp_path: Path) -> None:
    pyproject = {"project": {"name": "pkg", "dynamic": ["version"]}}
    project = _project(tmp_path, pyproject, {"src/pkg/__init__.py": '__version__ = "1.0"\n'})
    with pytest.raises(ConfigError) as caught:
        version_locations(project, pyproject)
    assert "src/pkg/__init__.py" in caught.value.message
    assert "version-locations" in caught.value.hint


def test_a_computed_attr_is_refused_with_the_file_named(tmp_path: Path) -> None:
    pyproject = {"build-system": SETUPTOOLS, "project": {"name": "pkg", "dynamic": ["version"]},
                 "tool": {"setuptools": {"dynamic": {"version": {"attr": "pkg.__version__"}}}}}
    files = {"pkg/__init__.py": 'from importlib.metadata import version\n'
             '__version__ = version("pkg")\n'}
    with pytest.raises(ConfigError) as caught:
        version_locations(_project(tmp_path, pyproject, files), pyproject)
    assert "pkg/__init__.py" in caught.value.message


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], "v{version}"),
        (["v1.0.0", "v1.1.0"], "v{version}"),
        (["24.1.0", "25.4.0", "nightly"], "{version}"),
        # Prefixes changed over time: the highest version's decides.
        (["release-1.0", "release-1.1", "v2.0", "v2.1", "3.0", "3.1"], "{version}"),
        (["3.0", "3.1", "v4.0.0"], "v{version}"),
        (["twisted-24.3.0", "twisted-24.7.0rc1", "twisted-24.7.0"], "twisted-{version}"),
        # A development tag starting a cycle is a version tag like the others.
        (["9.1.1", "9.2.0.dev0"], "{version}"),
        (["pkg-v1.0.0", "not-a-version", "v-next"], "pkg-v{version}"),
    ],
)
def test_tag_format_from_the_history(tags: list[str], expected: str) -> None:
    assert tag_format(tags).format == expected


def test_tags_passed_over_are_named_with_the_reason() -> None:
    found = tag_format(["v1.0", "2.0", "latest"])
    assert dict(found.skipped) == {
        "latest": "not a version",
        "v1.0": "written with another prefix, 'v'",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [("v1.2.3", ("v", "1.2.3")), ("py3-1.0", ("py3-", "1.0")), ("1.0.post1", ("", "1.0.post1")),
     ("nightly", None), ("v1.0+local", None)],
)
def test_split_tag(name: str, expected: tuple[str, str] | None) -> None:
    assert split_tag(name) == expected


@pytest.mark.parametrize(
    ("fragment_type", "level"),
    [("removal", "major"), ("breaking", "major"), ("feature", "minor"),
     ("improvement", "minor"), ("deprecation", "minor"), ("bugfix", "patch"),
     ("vendor", "patch"), ("packaging", "patch"), ("security", "patch"), ("change", "patch"),
     ("doc", "none"), ("misc", "none"), ("trivial", "none"), ("contrib", "none"),
     ("process", "none"), ("docker", "patch")],
)
def test_level_by_name(fragment_type: str, level: str) -> None:
    assert level_by_name(fragment_type) == level


INCREMENTAL = 'from incremental import Version\n\n__version__ = Version("Twisted", 24, 7, 0{})\n'


@pytest.mark.parametrize(
    ("args", "version"),
    [("", "24.7.0"), (", release_candidate=2", "24.7.0rc2"), (", dev=0", "24.7.0.dev0"),
     (", post=1", "24.7.0.post1"), (", release_candidate=1, dev=3", "24.7.0rc1.dev3")],
)
def test_incremental_reads(args: str, version: str) -> None:
    loc = Location("incremental", "_version.py")
    assert locations.read_version(loc, INCREMENTAL.format(args)) == version


@pytest.mark.parametrize(
    ("new", "args"),
    [("24.8.0", ""), ("25.1.0rc1", ", release_candidate=1"), ("24.7.1.dev0", ", dev=0"),
     ("25.1", "")],
)
def test_incremental_writes_in_its_own_form(new: str, args: str) -> None:
    loc = Location("incremental", "_version.py")
    written = locations.write_version(loc, INCREMENTAL.format(", dev=0"), new)
    major, minor, micro = (*Version(new).release, 0, 0)[:3]
    assert written == INCREMENTAL.replace("24, 7, 0", f"{major}, {minor}, {micro}").format(args)


def test_incremental_refuses_a_version_it_cannot_hold() -> None:
    loc = Location("incremental", "_version.py")
    with pytest.raises(ConfigError) as caught:
        locations.write_version(loc, INCREMENTAL.format(""), "25.0.0b1")
    assert "_version.py" in caught.value.message


def test_a_pattern_location_rewrites_only_its_group() -> None:
    loc = Location("pattern", "v.py", r"^VERSION = \('(?P<version>[^']+)',")
    text = "VERSION = ('1.0.0', 'final')\nOTHER = '1.0.0'\n"
    assert locations.read_version(loc, text) == "1.0.0"
    assert locations.write_version(loc, text, "1.1.0") == (
        "VERSION = ('1.1.0', 'final')\nOTHER = '1.0.0'\n"
    )


@pytest.mark.parametrize(
    ("tags", "current", "nearest", "expected"),
    [
        # A stray version tag above every release does not decide; the current version's does.
        (["0.2.0", "v0.2.1", "99.99.99", "release-23.10.0", "release-23.11.0"], "23.11.0", None,
         "release-{version}"),
        # The last tag below the current development version.
        (["release-23.10.0", "99.99.99"], "23.11.0.dev0", None, "release-{version}"),
        # Another component's tags in a monorepo: the nearest tag (version kept in tags).
        (["tool-v2.0.0", "lib-v1.0.0b8"], None, "lib-v1.0.0b8", "lib-v{version}"),
        # Two prefixes on one version: the one with more tags.
        (["v1.0.0", "v1.1.0", "1.1.0"], "1.1.0", None, "v{version}"),
    ],
)
def test_tag_format_follows_the_current_version(
    tags: list[str], current: str | None, nearest: str | None, expected: str
) -> None:
    assert tag_format(tags, current=current, nearest=nearest).format == expected
