"""Several packages in one repository: discovery, dependency order, pin checks and rewrites."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version
from strategies import built_versions

from release.errors import ConfigError
from release.packages import (
    Package,
    PinConflict,
    dependency_order,
    dependents,
    discover,
    pin_conflicts,
    update_pins,
    update_requirement,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAST = settings(max_examples=100, deadline=None)


def V(text: str) -> Version:
    return Version(text)


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")


def project(name: str, *deps: str, extras: dict[str, list[str]] | None = None) -> str:
    text = f'[project]\nname = "{name}"\nversion = "1.0"\ndependencies = {json.dumps(deps)}\n'
    if extras:
        text += "[project.optional-dependencies]\n"
        text += "".join(f"{extra} = {json.dumps(items)}\n" for extra, items in extras.items())
    return text


def error(root: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        discover(root)
    assert info.value.hint, "every error says how to fix it"
    return info.value


# --- discovery: uv workspaces ---------------------------------------------------------


def test_a_single_project_declares_no_packages(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", project("solo"))
    write(tmp_path, "sub/pyproject.toml", project("not-a-member"))
    assert discover(tmp_path) == ()


def test_uv_members_by_glob_minus_exclude_with_a_virtual_root(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """\
        [tool.uv.workspace]
        members = ["packages/*", "./tools/cli", "libs/**/"]
        exclude = ["packages/seeds", "libs/*/fixtures"]
        """,
    )
    write(tmp_path, "packages/core/pyproject.toml", project("Pkg_Core"))
    write(tmp_path, "packages/web/pyproject.toml", project("pkg-web", "pkg-core>=1.0"))
    write(tmp_path, "packages/seeds/README", "excluded, and has no pyproject.toml\n")
    write(tmp_path, "packages/.cache/stuff", "a hidden directory without a project\n")
    write(tmp_path, "packages/notes.txt", "a file the glob matches\n")
    write(tmp_path, "tools/cli/pyproject.toml", project("cli", "pkg-web", "requests"))
    write(tmp_path, "tools/other/pyproject.toml", project("other"))  # matched by no glob
    write(tmp_path, "libs/pyproject.toml", project("libs"))
    write(tmp_path, "libs/x/pyproject.toml", project("lib-x"))
    write(tmp_path, "libs/x/fixtures/pyproject.toml", project("fixture"))

    assert discover(tmp_path) == (
        Package("libs", "libs", ()),
        Package("lib-x", "libs/x", ()),
        Package("Pkg_Core", "packages/core", ()),
        Package("pkg-web", "packages/web", ("pkg-core>=1.0",)),
        Package("cli", "tools/cli", ("pkg-web",)),
    )


def test_the_root_project_is_a_member_and_sorts_first(tmp_path: Path) -> None:
    root = project("app", "zlib-tool>=2; python_version >= '3.10'", "pkg-a")
    write(tmp_path, "pyproject.toml", root + '[tool.uv.workspace]\nmembers = ["pkgs/*"]\n')
    write(tmp_path, "pkgs/a/pyproject.toml", project("pkg-a"))
    write(tmp_path, "pkgs/z/pyproject.toml", project("zlib-tool"))

    assert discover(tmp_path) == (
        Package("app", ".", ("zlib-tool>=2; python_version >= '3.10'", "pkg-a")),
        Package("pkg-a", "pkgs/a", ()),
        Package("zlib-tool", "pkgs/z", ()),
    )


def test_the_root_pyproject_given_is_used_instead_of_the_file(tmp_path: Path) -> None:
    write(tmp_path, "pkgs/a/pyproject.toml", project("pkg-a"))
    workspace = {"workspace": {"members": ["pkgs/a"]}}
    given_root = {"project": {"name": "app"}, "tool": {"uv": workspace}}
    assert [p.name for p in discover(tmp_path, given_root)] == ["app", "pkg-a"]


def test_requires_keeps_workspace_requirements_from_dependencies_and_extras(
    tmp_path: Path,
) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/a/pyproject.toml", project("pkg-a", extras={"all": ["pkg-a[web]"]}))
    write(
        tmp_path,
        "p/b/pyproject.toml",
        project(
            "pkg-b",
            "PKG.A >= 1",
            "requests",
            extras={"web": ["pkg_a[web]<3", "flask"], "dup": ["PKG.A >= 1"]},
        ),
    )
    a, b = discover(tmp_path)
    assert a.requires == ()  # a requirement on itself is no dependency
    assert b.requires == ("PKG.A >= 1", "pkg_a[web]<3")
    assert b.pyproject == "p/b/pyproject.toml"
    assert a.key == "pkg-a"


def test_a_member_marked_unmanaged_for_uv_is_left_out(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/a/pyproject.toml", project("pkg-a"))
    write(tmp_path, "p/b/pyproject.toml", project("pkg-b") + "[tool.uv]\nmanaged = false\n")
    assert [p.name for p in discover(tmp_path)] == ["pkg-a"]


def test_a_hidden_member_with_a_project_is_a_member(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/.hidden/pyproject.toml", project("hidden"))
    assert discover(tmp_path) == (Package("hidden", "p/.hidden", ()),)


def test_a_member_without_pyproject_is_an_error_naming_it_and_the_glob(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(tmp_path, "packages/a/pyproject.toml", project("pkg-a"))
    (tmp_path / "packages/docs").mkdir()
    err = error(tmp_path)
    assert err.message == (
        "pyproject.toml [tool.uv.workspace]: the member 'packages/docs' (matched by "
        "'packages/*' in `members`) has no pyproject.toml."
    )
    assert 'exclude = ["packages/docs"]' in err.hint


def test_a_member_without_a_project_table_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(tmp_path, "packages/a/pyproject.toml", "[tool.ruff]\nline-length = 99\n")
    err = error(tmp_path)
    assert err.message.startswith("packages/a/pyproject.toml: ")
    assert "has no [project] table" in err.message
    assert "exclude" in err.hint


def test_a_member_without_a_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(tmp_path, "packages/a/pyproject.toml", '[project]\nversion = "1.0"\n')
    err = error(tmp_path)
    assert err.message == (
        "packages/a/pyproject.toml: the package at 'packages/a' has no `name` in its "
        "[project] table."
    )
    assert 'name = "..."' in err.hint


def test_the_root_project_without_a_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nversion = "1"\n[tool.uv.workspace]\n')
    assert error(tmp_path).message.startswith("pyproject.toml: the package at '.' has no `name`")


def test_two_members_with_one_normalised_name_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/a/pyproject.toml", project("My.Package"))
    write(tmp_path, "p/b/pyproject.toml", project("my_package"))
    err = error(tmp_path)
    assert err.message == (
        "p/a/pyproject.toml and p/b/pyproject.toml: two packages are named 'My.Package' "
        "and 'my_package', which are one name on an index (PEP 503)."
    )


@pytest.mark.parametrize("pattern", ["../elsewhere/*", "/abs/*", "p/../../x", ""])
def test_a_member_glob_outside_the_root_is_an_error(tmp_path: Path, pattern: str) -> None:
    write(tmp_path, "pyproject.toml", f'[tool.uv.workspace]\nmembers = ["{pattern}"]\n')
    err = error(tmp_path)
    assert err.message == (
        f"pyproject.toml [tool.uv.workspace]: `members`: {pattern!r} is not a path inside "
        "the repository."
    )
    assert "without '..'" in err.hint


def test_a_member_linked_from_outside_the_root_is_an_error(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "pyproject.toml", project("stranger"))
    root = tmp_path / "repo"
    write(root, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    (root / "p").mkdir()
    (root / "p/link").symlink_to(outside, target_is_directory=True)
    err = error(root)
    assert "'p/link' is not a path inside the repository" in err.message


@pytest.mark.parametrize(
    ("workspace", "expected"),
    [
        ('workspace = "packages/*"', "[tool.uv]: key `workspace` must be a table, not str"),
        ('workspace = { members = "p/*" }', "key `members` must be an array of strings, not str"),
        ("workspace = { exclude = [1] }", "key `exclude` must be an array of strings, not list"),
        ('workspace = { members = ["p/**x"] }', "`members` pattern 'p/**x' is not a valid glob"),
    ],
)
def test_a_badly_shaped_workspace_is_an_error(
    tmp_path: Path, workspace: str, expected: str
) -> None:
    write(tmp_path, "pyproject.toml", f"[tool.uv]\n{workspace}\n")
    (tmp_path / "p").mkdir()
    assert expected in error(tmp_path).message


def test_a_nested_workspace_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/a/pyproject.toml", project("a") + "[tool.uv.workspace]\nmembers = []\n")
    err = error(tmp_path)
    assert err.message.startswith("p/a/pyproject.toml: the workspace member 'p/a' declares")
    assert 'exclude = ["p/a"]' in err.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nname = "a"\ndependencies = "b"', "`[project] dependencies` must be an array"),
        ('[project]\nname = "a"\noptional-dependencies = ["b"]', "must be a table, not list"),
        ('[project]\nname = "a"\ndependencies = ["b >= >= 1"]', "entry 'b >= >= 1' is not a valid"),
        ('[project]\nname = "a b"', "`[project] name` 'a b' is not a valid package name"),
        ("[project]\nname = 3", "`[project] name` must be a string, not int 3"),
        ("[project\n", "p/a/pyproject.toml is not valid TOML"),
    ],
)
def test_a_broken_member_pyproject_is_an_error_naming_it(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path, "pyproject.toml", '[tool.uv.workspace]\nmembers = ["p/*"]\n')
    write(tmp_path, "p/a/pyproject.toml", text + "\n")
    err = error(tmp_path)
    assert err.message.startswith("p/a/pyproject.toml")
    assert expected in err.message


# --- discovery: [[tool.release.packages]] ---------------------------------------------


def test_declared_packages_are_the_whole_list_and_win_over_uv(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """\
        [tool.uv.workspace]
        members = ["packages/*"]

        [[tool.release.packages]]
        path = "packages/web/"

        [[tool.release.packages]]
        path = "./packages/core"
        name = "pkg.core"

        [[tool.release.packages]]
        path = "legacy"
        name = "legacy-tool"
        """,
    )
    write(tmp_path, "packages/core/pyproject.toml", project("pkg-core"))
    write(tmp_path, "packages/web/pyproject.toml", project("pkg-web", "pkg-core>=1", "legacy-tool"))
    write(tmp_path, "packages/extra/pyproject.toml", project("not-declared"))
    # A setup.py project: no [project] table, so its name comes from the declaration.
    write(tmp_path, "legacy/pyproject.toml", "[build-system]\nrequires = ['setuptools']\n")

    assert discover(tmp_path) == (
        Package("legacy-tool", "legacy", ()),
        Package("pkg-core", "packages/core", ()),
        Package("pkg-web", "packages/web", ("pkg-core>=1", "legacy-tool")),
    )


def test_an_empty_declaration_turns_workspace_discovery_off(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.release]\npackages = []\n[tool.uv.workspace]\n")
    assert discover(tmp_path) == ()


def test_the_root_is_a_package_only_when_declared(tmp_path: Path) -> None:
    root = project("app", "lib")
    declared = '[[tool.release.packages]]\npath = "."\n[[tool.release.packages]]\npath = "lib"\n'
    write(tmp_path, "pyproject.toml", root + declared)
    write(tmp_path, "lib/pyproject.toml", project("lib"))
    assert discover(tmp_path) == (Package("app", ".", ("lib",)), Package("lib", "lib", ()))

    write(tmp_path, "pyproject.toml", root + '[[tool.release.packages]]\npath = "lib"\n')
    assert discover(tmp_path) == (Package("lib", "lib", ()),)


def test_other_keys_of_a_declaration_are_allowed_when_named(tmp_path: Path) -> None:
    entry = '[[tool.release.packages]]\npath = "lib"\ntag-format = "lib-v{version}"\n'
    write(tmp_path, "pyproject.toml", entry)
    write(tmp_path, "lib/pyproject.toml", project("lib"))
    assert discover(tmp_path, other_keys=["tag-format"]) == (Package("lib", "lib", ()),)
    err = error(tmp_path)
    assert err.message == "pyproject.toml [[tool.release.packages]] #1: unknown key `tag-format`."
    assert err.hint == "Allowed keys: name, path."


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            'packages = "lib"',
            "pyproject.toml [tool.release]: key `packages` must be an array of tables "
            "([[tool.release.packages]]), not str 'lib'.",
        ),
        (
            'packages = [{ name = "lib" }]',
            "pyproject.toml [[tool.release.packages]] #1: the package has no `path`.",
        ),
        (
            'packages = [{ path = "lib", nmae = "lib" }]',
            "pyproject.toml [[tool.release.packages]] #1: unknown key `nmae`. Did you mean 'name'?",
        ),
        (
            'packages = [{ path = ["lib"] }]',
            "pyproject.toml [[tool.release.packages]] #1: `path` must be a string, "
            "not list ['lib'].",
        ),
        (
            'packages = [{ path = "lib", name = "" }]',
            "pyproject.toml [[tool.release.packages]] #1: key `name` must be a non-empty "
            "string, not str ''.",
        ),
        (
            'packages = [{ path = "../lib" }]',
            "pyproject.toml [[tool.release.packages]] #1: `path`: '../lib' is not a path "
            "inside the repository.",
        ),
        (
            'packages = [{ path = ".git/hooks" }]',
            "pyproject.toml [[tool.release.packages]] #1: `path`: '.git/hooks' is not a path "
            "inside the repository.",
        ),
        (
            'packages = [{ path = "lib" }, { path = "lib/" }]',
            "pyproject.toml [[tool.release.packages]] #2: `path` 'lib' is already declared "
            "by entry #1.",
        ),
        (
            'packages = [{ path = "nowhere" }]',
            "pyproject.toml [[tool.release.packages]] #1: `path` 'nowhere' is not a directory "
            "of the repository.",
        ),
        (
            'packages = [{ path = "empty" }]',
            "pyproject.toml [[tool.release.packages]] #1: the package at 'empty' has no "
            "pyproject.toml.",
        ),
        (
            'packages = [{ path = "lib", name = "library" }]',
            "pyproject.toml [[tool.release.packages]] #1: `name` = 'library' differs from the "
            "[project] name 'lib' in lib/pyproject.toml.",
        ),
        (
            'packages = [{ path = "noname" }]',
            "noname/pyproject.toml: the package at 'noname' has no `name` in its [project] table.",
        ),
        (
            'packages = [{ path = "lib" }, { path = "copy" }]',
            "lib/pyproject.toml and copy/pyproject.toml: two packages are named 'lib' and "
            "'Lib', which are one name on an index (PEP 503).",
        ),
    ],
)
def test_a_bad_declaration_is_an_error_naming_the_entry(
    tmp_path: Path, entries: str, expected: str
) -> None:
    write(tmp_path, "pyproject.toml", f"[tool.release]\n{entries}\n")
    write(tmp_path, "lib/pyproject.toml", project("lib"))
    write(tmp_path, "copy/pyproject.toml", project("Lib"))
    write(tmp_path, "noname/pyproject.toml", "[project]\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / ".git/hooks").mkdir(parents=True)
    assert str(error(tmp_path).message) == expected


def test_a_declared_name_may_differ_in_spelling_only(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[[tool.release.packages]]\npath = "lib"\nname = "My_Lib"\n')
    write(tmp_path, "lib/pyproject.toml", project("my.lib"))
    assert discover(tmp_path) == (Package("my.lib", "lib", ()),)


def test_a_missing_root_pyproject_is_an_error(tmp_path: Path) -> None:
    assert error(tmp_path).message == f"No pyproject.toml in {tmp_path}."


# --- order and dependents -------------------------------------------------------------


def pkg(name: str, *requires: str) -> Package:
    return Package(name, f"packages/{name}", requires)


def names(packages: tuple[Package, ...]) -> list[str]:
    return [p.name for p in packages]


def test_a_chain_is_released_from_its_end() -> None:
    chain = [pkg("a", "b>=1"), pkg("b", "c"), pkg("c")]
    assert names(dependency_order(chain)) == ["c", "b", "a"]


def test_a_diamond_puts_the_shared_dependency_first_and_breaks_ties_by_name() -> None:
    diamond = [pkg("top", "right", "left"), pkg("right", "base"), pkg("left", "base"), pkg("base")]
    assert names(dependency_order(diamond)) == ["base", "left", "right", "top"]


def test_independent_packages_are_ordered_by_name_and_outside_names_are_ignored() -> None:
    loose = [pkg("zeta", "requests"), pkg("Alpha"), pkg("mid", "not-in-this-list")]
    assert names(dependency_order(loose)) == ["Alpha", "mid", "zeta"]
    assert dependency_order([]) == ()


def test_requirements_match_names_normalised() -> None:
    assert names(dependency_order([pkg("b", "Pkg_A[x]>=1"), pkg("pkg.a")])) == ["pkg.a", "b"]


def test_a_cycle_is_an_error_naming_it_and_its_requirements() -> None:
    cycle = [pkg("a", "b>=1"), pkg("b", "c"), pkg("c", "a<2"), pkg("d"), pkg("e", "a")]
    with pytest.raises(ConfigError) as info:
        dependency_order(cycle)
    assert info.value.message == (
        "The packages require each other in a cycle: a -> b -> c -> a, so none of them can "
        "be released before the others."
    )
    assert info.value.hint == (
        "Remove one of these requirements: a requires `b>=1` in packages/a/pyproject.toml; "
        "b requires `c` in packages/b/pyproject.toml; c requires `a<2` in "
        "packages/c/pyproject.toml."
    )


def test_a_two_package_cycle_reached_from_outside_names_only_the_cycle() -> None:
    with pytest.raises(ConfigError, match=r"cycle: b -> c -> b, so"):
        dependency_order([pkg("a", "b"), pkg("b", "c"), pkg("c", "b")])


def test_dependents_are_the_direct_ones_in_the_order_given() -> None:
    packages = [pkg("web", "core"), pkg("core"), pkg("cli", "web", "Core>=2"), pkg("docs")]
    assert names(dependents(packages, "core")) == ["web", "cli"]
    assert names(dependents(packages, "WEB")) == ["cli"]
    assert dependents(packages, "docs") == ()


# --- pin conflicts --------------------------------------------------------------------


def test_pin_conflicts_name_each_requirement_that_excludes_a_new_version() -> None:
    packages = [
        pkg("pkg-a"),
        pkg("pkg-b", "pkg-a>=1.2,<2", "pkg-c"),
        pkg("pkg-c", "Pkg_A~=1.2; python_version >= '3.10'"),
        pkg("pkg-d", "pkg-a>=1"),
        pkg("pkg-e", "pkg-c==0.9"),
    ]
    conflicts = pin_conflicts(packages, {"PKG_A": V("2.0.0"), "pkg-c": V("0.9")})
    assert conflicts == (
        PinConflict("pkg-b", "pkg-a", "pkg-a>=1.2,<2", "2.0.0"),
        PinConflict("pkg-c", "pkg-a", "Pkg_A~=1.2; python_version >= '3.10'", "2.0.0"),
    )
    assert conflicts[0].describe() == (
        "pkg-b requires `pkg-a>=1.2,<2`, which does not admit pkg-a 2.0.0, the version "
        "being released."
    )


@pytest.mark.parametrize(
    ("requirement", "version", "admitted"),
    [
        ("a>=1.0", "2.0.0rc1", True),  # inside the range: a pre-release counts
        ("a<2", "2.0.0rc1", False),  # PEP 440: <2 keeps the pre-releases of 2 out
        ("a<2", "2.0.0.dev0", False),
        ("a<2", "1.9.0b1", True),
        ("a==1.*", "1.5.0a1", True),
        ("a>1.0", "1.0.post1", False),  # PEP 440: >1.0 keeps the post-releases of 1.0 out
    ],
)
def test_pin_conflicts_judge_pre_releases_by_the_range(
    requirement: str, version: str, admitted: bool
) -> None:
    conflicts = pin_conflicts([pkg("a"), pkg("b", requirement)], {"a": V(version)})
    assert (conflicts == ()) is admitted


# --- update_requirement ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "version", "expected"),
    [
        # lower bounds become >=NEW, upper bounds move to the same position of NEW
        ("pkg-a>=1.2,<2", "2.0.0", "pkg-a>=2.0.0,<3"),
        ("pkg-a<1.5", "1.5.0", "pkg-a<1.6"),
        ("pkg-a<2.0", "2.1.0", "pkg-a<2.2"),
        ("pkg-a<1.5.0", "1.5", "pkg-a<1.5.1"),
        ("pkg-a<2", "2.0.0rc1", "pkg-a<3"),
        ("pkg-a<2", "1!2.0.0", "pkg-a<1!3"),
        ("pkg-a>1.0", "1.0.post1", "pkg-a>=1.0.post1"),
        ("pkg-a>=3", "2.0.0", "pkg-a>=2.0.0"),
        ("pkg-a<=1.5", "1.6.0", "pkg-a<=1.6.0"),
        ("pkg-a>=1,<=1.5", "1.6.0", "pkg-a>=1.6.0,<=1.6.0"),
        # == and ~= follow NEW, ~= keeping its number of components
        ("pkg-a==1.0", "2.0.0", "pkg-a==2.0.0"),
        ("pkg-a==1.*", "2.0.0", "pkg-a==2.*"),
        ("pkg-a==1.2.*", "2.0.0rc1", "pkg-a==2.0.*"),
        ("pkg-a===1.0", "2.0", "pkg-a===2.0"),
        ("pkg-a~=1.2", "2.0.0", "pkg-a~=2.0"),
        ("pkg-a~=1.2.3", "2.0", "pkg-a~=2.0.0"),
        ("pkg-a~=1.4", "1.4.0rc1", "pkg-a~=1.4rc1"),
        ("pkg-a~=1.5", "1.4.2", "pkg-a~=1.4"),
        # != NEW is dropped; the others stay
        ("pkg-a!=2.0.0", "2.0.0", "pkg-a"),
        ("pkg-a>=1,!=2.0.0", "2.0.0", "pkg-a>=2.0.0"),
        ("pkg-a!=2.0.0,<3", "2.0.0", "pkg-a<3"),
        ("pkg-a!=1.5,!=2.*,<3", "2.0.0", "pkg-a!=1.5,<3"),
        ("pkg-a (!=2.0.0)", "2.0.0", "pkg-a"),
        # name, extras, marker and spacing are kept
        ("Pkg_A [x, y] >= 1.0, < 2", "2.0.0", "Pkg_A [x, y] >= 2.0.0, < 3"),
        ("pkg-a (>=1.0, <2)", "2.0.0", "pkg-a (>=2.0.0, <3)"),
        (
            "pkg-a >=1.0,<2 ; python_version >= '3.10'",
            "2.0.0",
            "pkg-a >=2.0.0,<3 ; python_version >= '3.10'",
        ),
        ("pkg-a != 2.0.0 ; os_name == 'nt'", "2.0.0", "pkg-a ; os_name == 'nt'"),
        ("pkg-a != 2.0.0, >= 1", "2.0.0", "pkg-a >= 2.0.0"),
        # already admitted, or no version at all: unchanged
        ("pkg-a>=1.2", "2.0.0", "pkg-a>=1.2"),
        ("pkg-a", "2.0.0", "pkg-a"),
        ("pkg-a @ https://example.org/a.whl", "2.0.0", "pkg-a @ https://example.org/a.whl"),
    ],
)
def test_update_requirement(requirement: str, version: str, expected: str) -> None:
    new = update_requirement(requirement, V(version))
    assert new == expected
    assert Requirement(new).specifier.contains(V(version), prereleases=True)


_NUMBERS = st.lists(st.integers(0, 12), min_size=1, max_size=3)


@st.composite
def clauses(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "~=", "===", "==*", "!=*"]))
    space = draw(st.sampled_from(["", " "]))
    if op in ("==*", "!=*"):
        return f"{op[:2]}{space}{'.'.join(map(str, draw(_NUMBERS)))}.*"
    version = draw(built_versions(parts=(2 if op == "~=" else 1, 3), top=12, small=2))
    return f"{op}{space}{version}"


@st.composite
def requirements(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["pkg-a", "Pkg_A", "pkg.a"]))
    extras = draw(st.sampled_from(["", "[web]", " [web, cli]"]))
    spaces = draw(st.sampled_from(["", " "]))
    specs = ("," + spaces).join(draw(st.lists(clauses(), max_size=4)))
    if specs and draw(st.booleans()):
        specs = f"({spaces}{specs}{spaces})"
    marker = draw(st.sampled_from(["", "; python_version >= '3.10'", ' ; os_name == "nt"']))
    return f"{name}{extras}{spaces}{specs}{marker}"


@FAST
@given(requirement=requirements(), version=built_versions(parts=(1, 4), top=12, small=2))
def test_update_requirement_admits_the_version_and_keeps_the_rest(
    requirement: str, version: Version
) -> None:
    before = Requirement(requirement)
    new = update_requirement(requirement, version)
    after = Requirement(new)
    assert after.specifier.contains(version, prereleases=True)
    assert after.name == before.name
    assert after.extras == before.extras
    assert str(after.marker) == str(before.marker)
    assert new.startswith(requirement[: len(before.name)])
    if before.marker:
        assert new.endswith(requirement[requirement.index(";") :])
    if before.specifier.contains(version, prereleases=True):
        assert new == requirement
    assert update_requirement(new, version) == new
    # Nothing is added: every specifier of the result was one of the requirement's.
    assert len(after.specifier) <= len(before.specifier)


# --- update_pins ----------------------------------------------------------------------

PYPROJECT = """\
# The web front end.
[project]
name = "pkg-web"
version = "1.4.0"
dependencies = [
    # the core, whose 2.0 we follow
    "pkg-core>=1.2,<2",  # keep in step
    'requests >= 2 ; python_version >= "3.10"',
    'Pkg_Core [fast] < 2 ; python_version >= "3.10"',
]

[project.optional-dependencies]
all = ["pkg-web[cli]", "pkg-core==1.*"]
cli = [
  '''pkg-core !=2.0.0''',   # a literal, multi-line string
  "other",
]
compat = ["pkg-core>=1"]

[dependency-groups]
dev = ["pkg-core<2"]  # not published metadata: left alone

[tool.release]
tag-format = "web-v{version}"
"""


def test_update_pins_rewrites_only_the_requirements_that_exclude_the_version() -> None:
    new = update_pins(PYPROJECT, "PKG.core", V("2.0.0"))
    expected = (
        PYPROJECT.replace('"pkg-core>=1.2,<2"', '"pkg-core>=2.0.0,<3"')
        .replace("'Pkg_Core [fast] < 2 ;", "'Pkg_Core [fast] < 3 ;")
        .replace('"pkg-core==1.*"', '"pkg-core==2.*"')
        .replace("'''pkg-core !=2.0.0'''", "'''pkg-core'''")
    )
    assert new == expected
    data = tomllib.loads(new)
    assert data["dependency-groups"] == {"dev": ["pkg-core<2"]}
    assert data["project"]["optional-dependencies"]["compat"] == ["pkg-core>=1"]


def test_update_pins_leaves_text_that_admits_the_version_alone() -> None:
    text = PYPROJECT.replace("\n", "\r\n")
    assert update_pins(text, "pkg-core", V("1.9")) is text
    assert update_pins(text, "pkg-unknown", V("9")) is text
    assert update_pins("[tool.x]\na = 1\n", "pkg-core", V("9")) == "[tool.x]\na = 1\n"


def test_update_pins_keeps_line_endings_escapes_and_dotted_keys() -> None:
    text = (
        'project.name = "b"\r\n'
        'project.dependencies = ["pkg-a<2; python_version >= \\"3.10\\"", "x"]\r\n'
        'project.optional-dependencies = { y = [ "pkg-a==1.0" ] }\r\n'
    )
    assert update_pins(text, "pkg-a", V("2.0")) == (
        'project.name = "b"\r\n'
        'project.dependencies = ["pkg-a<3; python_version >= \\"3.10\\"", "x"]\r\n'
        'project.optional-dependencies = { y = [ "pkg-a==2.0" ] }\r\n'
    )


def test_update_pins_names_the_file_of_a_bad_requirement_or_bad_toml() -> None:
    with pytest.raises(ConfigError, match=r"^p/b/pyproject.toml: `\[project\] dependencies` entry"):
        update_pins('[project]\ndependencies = ["a >="]\n', "a", V("1"), where="p/b/pyproject.toml")
    with pytest.raises(ConfigError, match=r"^p/b/pyproject.toml is not valid TOML"):
        update_pins("[project\n", "a", V("1"), where="p/b/pyproject.toml")
