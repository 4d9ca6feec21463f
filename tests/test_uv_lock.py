"""The ``uv-lock`` version location: the project's own entry in uv.lock.

The lock files are made by the real ``uv lock`` (offline: the projects depend only on a
local path), once per session; reading and writing them is tested in-process, the
configuration, detection and the plan with data in memory, and one release on a sample
repository shows the diff, makes the edit and leaves a lock ``uv lock --locked`` accepts.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI, FRAGMENTS, commit_all, git, run_release, set_release_config
from factsmaker import make_facts, pyproject_text

from release import config, locations, uvlock
from release.config import Location, location_as_toml, show_value
from release.detect import version_locations
from release.errors import ConfigError, VersionError
from release.ops.buildenv import uv_bin
from release.plan import Request, build

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

UV = uv_bin()
pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.skipif(UV is None, reason="uv is not installed"),
]

HATCHLING = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
# The project's name as its author wrote it; uv.lock holds it normalised, "my-pkg". It
# depends on a local package at the same version, so the lock holds two entries at 1.2.0
# and names the dependency again inside the project's entry.
PROJECT = (
    '[project]\nname = "My.Pkg"\nversion = "1.2.0"\nrequires-python = ">=3.10"\n'
    'dependencies = ["dep-a"]\n\n[project.optional-dependencies]\nextra = ["dep-a"]\n\n'
    '[tool.uv.sources]\ndep-a = { path = "dep-a" }\n\n' + HATCHLING
)
DEPENDENCY = '[project]\nname = "dep-a"\nversion = "1.2.0"\nrequires-python = ">=3.10"\n\n' + (
    HATCHLING
)
LOCK = Location("uv-lock", "uv.lock", "my-pkg")


def uv_lock(
    project: Path, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``uv lock --offline ARGS`` in ``project`` with this interpreter (no downloads)."""
    assert UV is not None
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    if home is not None:  # a session fixture runs before the test's own isolated HOME
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home), UV_CACHE_DIR=str(home / "uv"))
    return subprocess.run(
        [UV, "lock", "--offline", "--python", sys.executable, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the uv.lock ``uv lock`` wrote for it."""
    project = tmp_path_factory.mktemp("locked")
    (project / "dep-a").mkdir()
    (project / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    (project / "dep-a" / "pyproject.toml").write_text(DEPENDENCY, encoding="utf-8")
    done = uv_lock(project, home=tmp_path_factory.mktemp("home"))
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture
def lock_text(locked: Path) -> str:
    return (locked / "uv.lock").read_text(encoding="utf-8")


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def without_own_version(text: str) -> str:
    """The lock as uv (0.5.20 and later) writes it for a dynamic version: no `version`."""
    own = 'name = "my-pkg"\nversion = "1.2.0"\n'
    assert text.count(own) == 1
    return text.replace(own, 'name = "my-pkg"\n')


# --- reading and writing ------------------------------------------------------------------


def test_the_lock_is_as_uv_writes_it(lock_text: str) -> None:
    """What the tests below rely on: two entries at 1.2.0, the project's name normalised."""
    packages = tomllib.loads(lock_text)["package"]
    assert [(p["name"], p["version"]) for p in packages] == [
        ("dep-a", "1.2.0"),
        ("my-pkg", "1.2.0"),
    ]
    assert 'name = "My.Pkg"' not in lock_text


@pytest.mark.parametrize("package", ["my-pkg", "My.Pkg", "MY_PKG", "my--pkg"])
def test_the_version_is_read_from_the_packages_entry_by_its_normalised_name(
    lock_text: str, package: str
) -> None:
    assert uvlock.read(lock_text, package) == "1.2.0"
    assert locations.read_version(LOCK._replace(key=package), lock_text) == "1.2.0"


def test_only_the_version_line_of_the_packages_entry_changes(lock_text: str) -> None:
    written = locations.write_version(LOCK, lock_text, "1.3.0")
    assert changed_lines(lock_text, written) == ['-version = "1.2.0"', '+version = "1.3.0"']
    expected = tomllib.loads(lock_text)
    expected["package"][1]["version"] = "1.3.0"  # my-pkg; dep-a stays at 1.2.0
    assert tomllib.loads(written) == expected
    assert uvlock.read(written, "my-pkg") == "1.3.0"
    assert uvlock.read(written, "dep-a") == "1.2.0"


def test_another_package_is_found_by_its_own_entry_not_by_names_inside_others(
    lock_text: str,
) -> None:
    """my-pkg's entry names dep-a in its dependencies and metadata: only dep-a's own
    [[package]] entry is the one to change."""
    written = uvlock.write(lock_text, "dep-a", "2.0.0")
    expected = tomllib.loads(lock_text)
    expected["package"][0]["version"] = "2.0.0"
    assert tomllib.loads(written) == expected
    assert len(changed_lines(lock_text, written)) == 2


def test_a_version_line_inside_a_multi_line_string_is_not_taken_for_the_entrys() -> None:
    """The entry's own version is written with a quoted key; the only `version = "..."`
    line is inside a string. The edit is proven by a parse, which refuses it."""
    text = (
        '[[package]]\nname = "my-pkg"\nnotes = """\nversion = "1.2.0"\n"""\n'
        '"version" = "1.2.0"\nsource = { editable = "." }\n'
    )
    assert uvlock.read(text, "my-pkg") == "1.2.0"
    with pytest.raises(ConfigError, match="not written as uv writes it"):
        uvlock.write(text, "my-pkg", "1.3.0")


def test_crlf_line_endings_are_kept(lock_text: str) -> None:
    crlf = lock_text.replace("\n", "\r\n")
    written = uvlock.write(crlf, "my-pkg", "1.3.0")
    assert written == locations.write_version(LOCK, lock_text, "1.3.0").replace("\n", "\r\n")


def test_many_packages_stay_byte_for_byte(lock_text: str) -> None:
    """A large lock: the entry in the middle changes, nothing else (and nothing is parsed
    but that entry, which keeps this fast)."""
    start = lock_text.index('[[package]]\nname = "dep-a"')
    block = lock_text[start : lock_text.index("\n\n[[package]]", start)]
    others = "".join(
        "\n" + block.replace('"dep-a"', f'"dep-{n}"').replace('"1.2.0"', f'"0.{n}.0"') + "\n"
        for n in range(3000)
    )
    text = lock_text + others
    written = uvlock.write(text, "dep-1500", "9.0.0")
    assert changed_lines(text, written) == ['-version = "0.1500.0"', '+version = "9.0.0"']
    assert written.index('version = "9.0.0"') > written.index('name = "dep-1500"')


def test_moving_many_entries_at_once_is_moving_each_in_turn(lock_text: str) -> None:
    start = lock_text.index('[[package]]\nname = "dep-a"')
    block = lock_text[start : lock_text.index("\n\n[[package]]", start)]
    others = "".join(
        "\n" + block.replace('"dep-a"', f'"Dep_{n}"').replace('"1.2.0"', f'"0.{n}.0"') + "\n"
        for n in range(40)
    )
    twice = '\n[[package]]\nname = "dep-7"\nversion = "7"\n'
    text = without_own_version(lock_text) + others + twice
    versions = {"dep-3": "3.0.0", "DEP.12": "12.0.0", "dep-39": "39.1", "my-pkg": "9.9.9"}
    versions |= {"dep-7": "7.7.7", "not-locked": "1.0"}
    one_by_one = text
    for name in ("dep-3", "DEP.12", "dep-39"):
        one_by_one = uvlock.write(one_by_one, name, versions[name])
    assert uvlock.moved(text, versions) == one_by_one
    # The dynamic my-pkg, the twice-locked dep-7 and the unlocked package are left alone.
    assert sorted(changed_lines(text, one_by_one)) == [
        '+version = "12.0.0"', '+version = "3.0.0"', '+version = "39.1"',
        '-version = "0.12.0"', '-version = "0.3.0"', '-version = "0.39.0"',
    ]


def test_no_entry_of_the_package_is_an_error_naming_the_file_and_the_fix(lock_text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        locations.read_version(LOCK._replace(key="other-pkg"), lock_text)
    assert "uv.lock" in caught.value.message
    assert "'other-pkg'" in caught.value.message
    assert "uv lock" in caught.value.hint


def test_a_dynamic_version_has_no_version_in_the_lock_and_is_refused(lock_text: str) -> None:
    for attempt in (
        lambda text: locations.read_version(LOCK, text),
        lambda text: locations.write_version(LOCK, text, "1.3.0"),
    ):
        with pytest.raises(ConfigError) as caught:
            attempt(without_own_version(lock_text))
        assert "uv.lock" in caught.value.message
        assert "'my-pkg'" in caught.value.message
        assert "dynamic version" in caught.value.message
        assert caught.value.hint.startswith("Remove uv.lock from `version-locations`")


def test_a_version_not_written_as_uv_writes_it_is_not_rewritten(lock_text: str) -> None:
    """A version the line pattern cannot find as it reads (an escape in the string): the
    file is not rewritten by guesswork."""
    escaped = lock_text.replace(
        'name = "my-pkg"\nversion = "1.2.0"', 'name = "my-pkg"\nversion = "1.2.\\u0030"'
    )
    assert uvlock.read(escaped, "my-pkg") == "1.2.0"
    with pytest.raises(ConfigError) as caught:
        uvlock.write(escaped, "my-pkg", "1.3.0")
    assert "not written as uv writes it" in caught.value.message
    assert "uv lock" in caught.value.hint


def test_two_entries_of_the_package_are_an_error(lock_text: str) -> None:
    twice = lock_text + '\n[[package]]\nname = "My_Pkg"\nversion = "0.1.0"\n'
    with pytest.raises(ConfigError) as caught:
        uvlock.read(twice, "my-pkg")
    assert "2 [[package]] entries named 'my-pkg'" in caught.value.message


# --- configuration ------------------------------------------------------------------------


def load(locs: list[Any], project: dict[str, Any] | None = None) -> config.Config:
    pyproject = {
        "project": {"name": "My.Pkg", "version": "1.2.0"} if project is None else project,
        "tool": {"release": {"version-locations": locs}},
    }
    return config.load(Path("/nonexistent"), environ={}, pyproject=pyproject, is_file=bool)


@pytest.mark.parametrize(
    ("written", "location"),
    [
        ("uv.lock", LOCK),
        ({"path": "uv.lock", "format": "uv-lock"}, LOCK),
        (
            {"path": "sub/uv.lock", "format": "uv-lock"},
            Location("uv-lock", "sub/uv.lock", "my-pkg"),
        ),
        (
            {"path": "locks/py.lock", "format": "uv-lock"},
            Location("uv-lock", "locks/py.lock", "my-pkg"),
        ),
        (
            {"path": "uv.lock", "format": "uv-lock", "key": "Other_Pkg"},
            LOCK._replace(key="other-pkg"),
        ),
        ({"path": "uv.lock", "key": "other.pkg"}, LOCK._replace(key="other-pkg")),
    ],
)
def test_uv_lock_locations_are_configured_and_written_back(
    written: Any, location: Location
) -> None:
    cfg = load(["pyproject.toml", written])
    assert cfg.locations[1] == location
    # release init writes it back without the project's own name; release config shows
    # the name it resolved to; either one configures the same location.
    for again in (location_as_toml(location, "My.Pkg"), location_as_toml(location)):
        assert load(["pyproject.toml", again]).locations[1] == location
    shown = show_value(location)
    assert load(["pyproject.toml", tomllib.loads(f"v = {shown}")["v"]]).locations[1] == location


def test_release_init_writes_the_projects_own_lock_as_a_plain_path() -> None:
    assert location_as_toml(LOCK, "My.Pkg") == "uv.lock"
    assert location_as_toml(LOCK._replace(key="dep-a"), "My.Pkg") == {
        "path": "uv.lock",
        "key": "dep-a",
    }
    assert location_as_toml(LOCK._replace(path="x.lock"), "my_pkg") == {
        "path": "x.lock",
        "format": "uv-lock",
    }


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ({"path": "uv.lock", "format": "uvlock"}, ["'uvlock'", "Did you mean 'uv-lock'?"]),
        ({"path": "uv.lock", "format": "uv-lock", "key": 3}, ["`key`", "is a string"]),
        (
            {"path": "uv.lock", "format": "uv-lock", "key": "not a name!"},
            ["'not a name!'", "no package name"],
        ),
        ({"path": "uv.lock", "format": "uv-lock", "key": ""}, ["no package name"]),
        (
            {"path": "uv.lock", "format": "uv-lock", "pattern": "(?P<version>.*)"},
            ["one of `key`, `pattern`"],
        ),
        (
            {"path": "uv.lock", "format": "uv-lock", "key": "a", "pattern": "(?P<version>.*)"},
            ["one of `key`, `pattern`"],
        ),
        (
            {"path": "v.txt", "key": "my-pkg"},
            ["only applies to .toml and .py files and to uv.lock"],
        ),
        (
            {"path": "uv.lock", "format": "incremental", "key": "my-pkg"},
            ["one of `key`, `pattern`"],
        ),
    ],
)
def test_bad_uv_lock_tables_are_refused(written: Any, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load(["pyproject.toml", written])
    assert "version-locations" in caught.value.message
    for word in words:
        assert word in caught.value.message
    assert caught.value.hint


def test_the_projects_own_entry_needs_the_projects_name() -> None:
    with pytest.raises(ConfigError) as caught:
        load(["uv.lock"], project={"version": "1.2.0"})
    assert "[project] name" in caught.value.message
    assert "'uv.lock'" in caught.value.message
    assert 'key = "NAME"' in caught.value.hint
    # With the package named, no project name is needed.
    named = load([{"path": "uv.lock", "key": "pkg"}], project={"version": "1.2.0"})
    assert named.locations == (LOCK._replace(key="pkg"),)


# --- detection ----------------------------------------------------------------------------


def detected(tmp_path: Path, pyproject: str, lock: str | None) -> tuple[list[object], str]:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if lock is not None:
        (tmp_path / "uv.lock").write_text(lock, encoding="utf-8")
    data = tomllib.loads(pyproject)
    found = version_locations(tmp_path, data)
    written = [location_as_toml(loc, data["project"]["name"]) for loc in found.locations]
    # The configuration the detected default makes is the one release init writes down.
    default = config.load(tmp_path, environ={}, pyproject=data).locations
    assert default == found.locations
    return written, found.reason


def test_a_lock_holding_the_projects_version_is_detected(tmp_path: Path, lock_text: str) -> None:
    written, reason = detected(tmp_path, PROJECT, lock_text)
    assert written == ["pyproject.toml", "uv.lock"]
    assert "uv.lock locks my-pkg at 1.2.0" in reason


@pytest.mark.parametrize(
    "lock",
    [None, "not a lock\n", 'version = 1\n\n[[package]]\nname = "dep-a"\nversion = "1.0"\n'],
    ids=["no-lock", "not-a-lock", "another-package"],
)
def test_no_lock_entry_of_the_project_detects_nothing_more(
    tmp_path: Path, lock: str | None
) -> None:
    assert detected(tmp_path, PROJECT, lock)[0] == ["pyproject.toml"]


def test_a_dynamic_version_is_not_in_the_lock_and_not_detected(
    tmp_path: Path, lock_text: str
) -> None:
    (tmp_path / "src" / "my_pkg").mkdir(parents=True)
    (tmp_path / "src" / "my_pkg" / "__about__.py").write_text('__version__ = "1.2.0"\n')
    dynamic = PROJECT.replace('version = "1.2.0"', 'dynamic = ["version"]') + (
        '\n[tool.hatch.version]\npath = "src/my_pkg/__about__.py"\n'
    )
    assert detected(tmp_path, dynamic, without_own_version(lock_text))[0] == [
        "src/my_pkg/__about__.py"
    ]


def test_a_version_kept_in_tags_never_adds_the_lock(tmp_path: Path, lock_text: str) -> None:
    """uv before 0.5.20 wrote the build's version of a hatch-vcs project into the lock: it
    is no version location (the version is the tag)."""
    scm = (
        PROJECT.replace('version = "1.2.0"', 'dynamic = ["version"]').replace(
            'requires = ["hatchling"]', 'requires = ["hatchling", "hatch-vcs"]'
        )
        + '\n[tool.hatch.version]\nsource = "vcs"\n'
    )
    assert detected(tmp_path, scm, lock_text)[0] == ["scm"]


@pytest.mark.usefixtures("shared_uv_cache")
def test_release_init_shows_and_writes_the_lock(tmp_path: Path, run_inprocess: CLI) -> None:
    project = tmp_path / "proj"
    (project / "src" / "my_pkg").mkdir(parents=True)
    (project / "src" / "my_pkg" / "__init__.py").write_text('__version__ = "0.4.1"\n')
    (project / "pyproject.toml").write_text(
        HATCHLING + '\n[project]\nname = "my_pkg"\nversion = "0.4.1"\n', encoding="utf-8"
    )
    assert uv_lock(project).returncode == 0
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Lock")
    git(project, "tag", "--annotate", "-m", "Release 0.4.1", "v0.4.1")

    result = run_inprocess("init", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    decision = next(ln for ln in result.stdout.splitlines() if "version-locations" in ln)
    assert decision == (
        "  - version-locations = ['pyproject.toml', 'src/my_pkg/__init__.py', 'uv.lock']: "
        "project.version is static in pyproject.toml, and src/my_pkg/__init__.py repeats it "
        "in __version__ (both are kept in step); uv.lock locks my-pkg at 0.4.1, so its entry "
        "is kept in step too."
    )
    written = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert written["tool"]["release"]["version-locations"] == [
        "pyproject.toml",
        "src/my_pkg/__init__.py",
        "uv.lock",
    ]
    shown = run_inprocess("version", "--explain", cwd=project)
    assert "uv.lock (package my-pkg) = 0.4.1" in shown.stdout, shown.stdout


# --- the plan -----------------------------------------------------------------------------


def planned(lock_text: str, project_version: str = "1.2.0", **facts: Any) -> Any:
    files = {"pyproject.toml": pyproject_text(project_version), "uv.lock": lock_text}
    release = {
        "version-locations": ["pyproject.toml", {"path": "uv.lock", "key": "my-pkg"}],
        "next-dev": True,
    }
    return build(make_facts(release=release, files=files, **facts), Request("minor"))


def test_the_plan_edits_the_lock_for_the_release_and_the_next_development_version(
    lock_text: str,
) -> None:
    plan = planned(lock_text)
    assert [s.location for s in plan.sources] == [
        "pyproject.toml [project.version]",
        "uv.lock (package my-pkg)",
    ]
    release_edit = plan.edit_for("uv.lock")
    assert release_edit.before == lock_text
    assert changed_lines(lock_text, release_edit.after) == [
        '-version = "1.2.0"',
        '+version = "1.3.0"',
    ]
    assert "+++ b/uv.lock" in release_edit.diff()
    dev_edit = plan.edit_for("uv.lock", dev=True)
    assert uvlock.read(dev_edit.after, "my-pkg") == "1.3.1.dev0"
    assert "prepare.edit-version:uv.lock" in [s.id for s in plan.steps]


def test_a_stale_lock_disagrees_and_the_hint_says_uv_lock(lock_text: str) -> None:
    with pytest.raises(VersionError) as caught:
        planned(lock_text, project_version="1.2.1")
    assert "uv.lock (package my-pkg) = 1.2.0" in caught.value.message
    assert "`uv lock`" in caught.value.hint


# --- a release ------------------------------------------------------------------------------


@pytest.mark.usefixtures("shared_uv_cache")
def test_a_release_updates_the_lock_as_uv_would(sample: Callable[..., Path]) -> None:
    project = sample(fragments=FRAGMENTS)
    assert uv_lock(project).returncode == 0
    set_release_config(
        project,
        'version-locations = ["pyproject.toml", "src/sample_project/__init__.py", "uv.lock"]',
    )
    git(project, "push", "--quiet", "origin", "main")
    before = (project / "uv.lock").read_text(encoding="utf-8")

    preview = run_release(project, "preview")
    assert preview.code == 0, preview.stdout + preview.stderr
    assert "uv.lock (package sample-project) = 1.2.0" in preview.stdout
    shown = preview.stdout[preview.stdout.index("--- a/uv.lock") :]
    assert shown.startswith("--- a/uv.lock\n+++ b/uv.lock\n")
    assert '\n-version = "1.2.0"\n+version = "1.3.0"\n' in shown
    assert "set the version in uv.lock" in preview.stdout

    done = run_release(project, "run", "--until", "prepare", "--yes")
    assert done.code == 0, done.stdout + done.stderr
    committed = git(project, "show", "HEAD:uv.lock")
    assert changed_lines(before, committed) == ['-version = "1.2.0"', '+version = "1.3.0"']
    assert git(project, "status", "--porcelain") == ""
    locked = uv_lock(project, "--locked")
    assert locked.returncode == 0, locked.stderr
    assert (project / "uv.lock").read_text(encoding="utf-8") == committed
