"""``release init``: adopting existing projects of every layout.

Each test builds a small project in a temporary git repository (with a bare remote
where the test needs one), runs ``release init`` and checks what it decided, what it
wrote - and that it wrote nothing else - and that ``release preview`` then works.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI, Result, commit_all, git, tree_state

from release.demo import LAYOUTS, Layout

pytestmark = pytest.mark.cached_samples

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


MARKER_MD = "<!-- towncrier release notes start -->"
MARKER_RST = ".. towncrier release notes start"

HATCHLING = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
SETUPTOOLS = (
    '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
)
FLIT = '[build-system]\nrequires = ["flit_core>=3.9,<4"]\nbuild-backend = "flit_core.buildapi"\n'
TOWNCRIER = '\n[tool.towncrier]\ndirectory = "changelog.d"\nfilename = "CHANGELOG.md"\n'
CHANGELOG = "# Changelog\n\nAll changes.\n\n## 0.4.1\n\n- First release.\n"


def make_project(
    root: Path,
    files: Mapping[str, str],
    *,
    tags: Sequence[str] = (),
    branch: str = "main",
    remote: bool = True,
) -> Path:
    """A git repository ``root/proj`` holding ``files`` (written byte for byte) in one commit,
    with annotated ``tags`` on it and, with ``remote``, a bare ``origin`` it is pushed to
    (without an ``origin/HEAD``, as after a push to a new remote)."""
    project = root / "proj"
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    project.mkdir(exist_ok=True)
    git(project, "init", "--quiet", f"--initial-branch={branch}")
    commit_all(project, "Initial commit")
    for tag in tags:
        git(project, "tag", "--annotate", "-m", f"Release {tag}", tag)
    if remote:
        bare = root / "proj.git"
        git(root, "init", "--quiet", "--bare", f"--initial-branch={branch}", str(bare))
        git(project, "remote", "add", "origin", str(bare))
        git(project, "push", "--quiet", "--follow-tags", "origin", branch)
        git(project, "branch", "--quiet", f"--set-upstream-to=origin/{branch}")
    return project


def decisions(stdout: str) -> dict[str, str]:
    """The printed decisions: what each is about (``version-locations``, ``towncrier``,
    ``CHANGELOG.md``...) -> the rest of its line."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith("  - "):
            subject = re.split(r"[ :]", line[4:], maxsplit=1)[0]
            out[subject] = line[4:]
    return out


def release_table(project: Path) -> dict[str, Any]:
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data["tool"]["release"])


def init(project: Path, run: CLI, *args: str) -> dict[str, str]:
    """``release init ARGS``, which must succeed; returns the printed decisions."""
    result = run("init", *args, cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Decisions:\n"), result.stdout
    return decisions(result.stdout)


def assert_preview_works(project: Path, run: CLI, current: str, following: str) -> Result:
    """Commit the adoption, add a feature fragment with ``release fragment``, push, and
    require a passing ``release preview`` from ``current`` to ``following``."""
    commit_all(project, "Adopt release-pipeline")
    made = run("fragment", "1", "feature", "A new thing.", cwd=project)
    assert made.code == 0, made.stdout + made.stderr
    commit_all(project, "Add a fragment")
    if git(project, "remote").strip():
        git(project, "push", "--quiet", "origin", "HEAD")
    result = run("preview", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert f" {current} -> {following} " in first, result.stdout
    assert result.stdout.rstrip().endswith("Checks: all passed."), result.stdout
    return result


def pkg_init(version: str, *, name: str = "__version__") -> str:
    return f'"""My package."""\n\n{name} = "{version}"\n'


# --- version sources ------------------------------------------------------------------------


def test_static_project_version(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n'
        + TOWNCRIER,
        "src/mypkg/__init__.py": '"""My package, without a version of its own."""\n',
    }, tags=["v0.4.1"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["pyproject.toml"]
    assert "project.version is static in pyproject.toml" in found["version-locations"]
    assert "__version__" not in found["version-locations"]
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")


def test_static_version_repeated_in_the_package(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "my-pkg"\nversion = "0.4.1"\n'
        + TOWNCRIER,
        "src/my_pkg/__init__.py": pkg_init("0.4.1"),
    }, tags=["v0.4.1"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == [
        "pyproject.toml", "src/my_pkg/__init__.py"]
    assert "src/my_pkg/__init__.py repeats it in __version__" in found["version-locations"]
    result = assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")
    assert "+++ b/src/my_pkg/__init__.py" in result.stdout


def test_a_computed___version___is_not_a_version_location(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    """A ``__version__`` read from the installed metadata does not repeat the version: it
    has no literal to keep in step, so adopting it would make a configuration that
    ``release preview`` rejects."""
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n'
        + TOWNCRIER,
        "src/mypkg/__init__.py": 'from importlib.metadata import version\n\n'
        '__version__ = version("mypkg")\n',
    }, tags=["v0.4.1"])
    init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["pyproject.toml"]
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")


@pytest.mark.parametrize("module_table", [False, True], ids=["module-from-name", "flit-module"])
def test_flit_dynamic_version(tmp_path: Path, run_inprocess: CLI, module_table: bool) -> None:
    name = "flit-sample" if module_table else "mypkg"
    pyproject = (FLIT + f'\n[project]\nname = "{name}"\ndynamic = ["version", "description"]\n'
                 + ('\n[tool.flit.module]\nname = "mypkg"\n' if module_table else "")
                 + TOWNCRIER)
    project = make_project(tmp_path, {
        "pyproject.toml": pyproject,
        "mypkg/__init__.py": pkg_init("2.0.0"),  # flat layout: no src/
    }, tags=["v2.0.0"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["mypkg/__init__.py"]
    assert "flit reads __version__ from mypkg/__init__.py" in found["version-locations"]
    assert_preview_works(project, run_inprocess, "2.0.0", "2.1.0")


def test_setuptools_attr(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": SETUPTOOLS + '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n'
        '\n[tool.setuptools.dynamic]\nversion = { attr = "mypkg.__version__" }\n' + TOWNCRIER,
        "src/mypkg/__init__.py": pkg_init("1.4.0"),
    }, tags=["v1.4.0"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["src/mypkg/__init__.py"]
    assert "attr: mypkg.__version__" in found["version-locations"]
    assert_preview_works(project, run_inprocess, "1.4.0", "1.5.0")


def test_setuptools_attr_in_a_version_module_with_another_name(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": SETUPTOOLS + '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n'
        '\n[tool.setuptools.dynamic]\nversion = {attr = "mypkg._version.VERSION"}\n'
        + TOWNCRIER,
        "src/mypkg/__init__.py": "from mypkg._version import VERSION as __version__\n",
        "src/mypkg/_version.py": 'VERSION = "1.4.0"\n',
    }, tags=["v1.4.0"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == [
        {"path": "src/mypkg/_version.py", "key": "VERSION"}]
    assert "attr: mypkg._version.VERSION" in found["version-locations"]
    result = assert_preview_works(project, run_inprocess, "1.4.0", "1.5.0")
    assert '+VERSION = "1.5.0"' in result.stdout


def test_hatch_version_path(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n'
        '\n[tool.hatch.version]\npath = "src/mypkg/__about__.py"\n' + TOWNCRIER,
        "src/mypkg/__init__.py": "",
        "src/mypkg/__about__.py": pkg_init("3.1.0"),
    }, tags=["v3.1.0"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["src/mypkg/__about__.py"]
    assert "hatch reads the version from src/mypkg/__about__.py" in found["version-locations"]
    assert_preview_works(project, run_inprocess, "3.1.0", "3.2.0")


def test_hatch_version_path_with_a_VERSION_variable(tmp_path: Path, run_inprocess: CLI) -> None:
    """hatch's regex version source reads ``__version__`` or ``VERSION``; both must work."""
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n'
        '\n[tool.hatch.version]\npath = "src/mypkg/about.py"\n' + TOWNCRIER,
        "src/mypkg/__init__.py": "",
        "src/mypkg/about.py": 'VERSION = "3.1.0"\n',
    }, tags=["v3.1.0"])
    init(project, run_inprocess)
    assert_preview_works(project, run_inprocess, "3.1.0", "3.2.0")


@pytest.mark.parametrize(
    ("requires", "tables"),
    [
        ('["hatchling", "hatch-vcs"]', '\n[tool.hatch.version]\nsource = "vcs"\n'),
        ('["setuptools>=64", "setuptools-scm>=8"]', "\n[tool.setuptools_scm]\n"),
        ('["setuptools>=64", "setuptools_scm[toml]>=6.2"]', ""),
    ],
    ids=["hatch-vcs", "setuptools-scm", "setuptools-scm-requires-only"],
)
def test_version_from_scm(
    tmp_path: Path, run_inprocess: CLI, requires: str, tables: str
) -> None:
    backend = "hatchling.build" if "hatch" in requires else "setuptools.build_meta"
    project = make_project(tmp_path, {
        "pyproject.toml": f'[build-system]\nrequires = {requires}\nbuild-backend = "{backend}"\n'
        '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n' + tables + TOWNCRIER,
        "src/mypkg/__init__.py": "",
    }, tags=["v0.9.0", "v1.0.0"])
    found = init(project, run_inprocess)
    assert release_table(project)["version-locations"] == ["scm"]
    assert "the version comes from git tags" in found["version-locations"]
    version = run_inprocess("version", cwd=project)
    assert (version.code, version.stdout) == (0, "1.0.0\n")
    result = assert_preview_works(project, run_inprocess, "1.0.0", "1.1.0")
    assert "+++ b/" not in result.stdout  # no file to edit: the tag is the version


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_demo_layouts_adopt_to_a_working_configuration(
    sample_copy: Callable[..., Path], run_inprocess: CLI, layout: Layout
) -> None:
    """The sample projects of release.demo, without their [tool.release]."""
    project = sample_copy(layout)
    path = project / "pyproject.toml"
    text = re.sub(r"\n\[tool\.release\]\n(?:[^\n]+\n)*", "\n", path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    assert "tool.release" not in text
    expected = {
        "hatchling": ["pyproject.toml", "src/sample_project/__init__.py"],
        "setuptools": ["pyproject.toml", "src/sample_project/__init__.py"],
        "flit": ["src/sample_project/__init__.py"],
        "hatch-vcs": ["scm"],
    }[layout]
    init(project, run_inprocess)
    assert release_table(project) == {
        "version-locations": expected, "tag-format": "v{version}", "branches": ["main"]}
    assert_preview_works(project, run_inprocess, "1.2.0", "1.3.0")


# --- tag format and release branch ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "fmt", "why"),
    [
        (["v0.9.0", "v1.0.0"], "v{version}",
         "v1.0.0, the tag of the current version 1.0.0, is written 'v{version}'"),
        (["0.9.0", "1.0.0", "v0.1"], "{version}",
         "1.0.0, the tag of the current version 1.0.0, is written '{version}' "
         "(2 of 3 version tags; other prefixes: v: 1)"),
        ([], "v{version}", "no tag names a version yet, so the common v{version}"),
    ],
    ids=["v-prefixed", "bare", "no-tags"],
)
def test_tag_format_from_existing_tags(
    tmp_path: Path, run_inprocess: CLI, tags: list[str], fmt: str, why: str
) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "1.0.0"\n'
        + TOWNCRIER,
    }, tags=tags)
    found = init(project, run_inprocess)
    assert release_table(project)["tag-format"] == fmt
    assert found["tag-format"] == f"tag-format = {fmt!r}: {why}."
    following = assert_preview_works(project, run_inprocess, "1.0.0", "1.1.0")
    assert f"Tag: {fmt.format(version='1.1.0')} " in following.stdout


def test_release_branch_from_the_remotes_default_branch(tmp_path: Path, run_inprocess: CLI) -> None:
    origin = make_project(tmp_path / "o", {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "1.0.0"\n'
        + TOWNCRIER,
    }, tags=["v1.0.0"], branch="trunk")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(origin.parent / "proj.git"), str(clone))
    git(clone, "remote", "set-head", "origin", "trunk")
    git(clone, "switch", "--quiet", "--create", "topic")
    found = init(clone, run_inprocess)
    assert release_table(clone)["branches"] == ["trunk"]
    assert found["branches"] == "branches = ['trunk']: origin/HEAD points to origin/trunk."


def test_release_branch_without_a_remote_default_is_the_current_one(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "1.0.0"\n'
        + TOWNCRIER,
    }, tags=["v1.0.0"], branch="trunk")
    assert git(project, "for-each-ref", "refs/remotes/origin/HEAD") == ""
    git(project, "switch", "--quiet", "--create", "develop")
    found = init(project, run_inprocess)
    assert release_table(project)["branches"] == ["develop"]
    assert found["branches"] == (
        "branches = ['develop']: the remote names no default branch; the current branch is "
        "develop.")


# --- the forge, from the origin remote ------------------------------------------------------

FORGE_PYPROJECT = HATCHLING + '\n[project]\nname = "mypkg"\nversion = "1.0.0"\n' + TOWNCRIER


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("https://github.com/octo-org/hello.git", ("github.com", "octo-org/hello")),
        ("https://github.com/octo-org/hello", ("github.com", "octo-org/hello")),
        ("https://user@GitHub.com/octo-org/hello.git/", ("github.com", "octo-org/hello")),
        ("git@github.com:octo-org/hello.git", ("github.com", "octo-org/hello")),
        ("ssh://git@github.com/octo-org/hello.git", ("github.com", "octo-org/hello")),
        ("https://gitlab.com/group/sub/name.git", ("gitlab.com", "group/sub/name")),
        ("git@gitlab.com:group/sub/name.git", ("gitlab.com", "group/sub/name")),
        ("ssh://git@gitlab.example.com:2222/g/n.git", ("gitlab.example.com", "g/n")),
        ("gitlab.com:group/name", ("gitlab.com", "group/name")),
        ("git://codeberg.org/owner/name.git", ("codeberg.org", "owner/name")),
        ("/srv/git/name.git", None),
        ("../name.git", None),
        ("file:///srv/git/name.git", None),
        ("C:/repos/name.git", None),
        ("https://github.com/", None),
    ],
)
def test_the_remote_url_forms(url: str, where: tuple[str, str] | None) -> None:
    from release.adopt import remote_location

    assert remote_location(url) == where


def assert_valid_forge(project: Path, table: dict[str, str]) -> None:
    """The written table is one the configuration takes, meaning what it says."""
    from release import config

    forge = config.load(project, environ={}).forge
    assert forge is not None
    assert (forge.kind, forge.repository) == (table["kind"], table["repository"])
    if "url" in table:
        assert forge.url == table["url"]


def forge_project(tmp_path: Path, url: str | None) -> Path:
    project = make_project(tmp_path, {"pyproject.toml": FORGE_PYPROJECT}, tags=["v1.0.0"],
                           remote=False)
    if url is not None:
        git(project, "remote", "add", "origin", url)  # only read, never fetched
    return project


def forge_table(project: Path) -> dict[str, Any] | None:
    table = release_table(project).get("forge")
    return None if table is None else dict(table)


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("https://github.com/octo-org/hello.git",
         {"kind": "github", "repository": "octo-org/hello"}),
        ("git@github.com:octo-org/hello.git", {"kind": "github", "repository": "octo-org/hello"}),
        ("https://gitlab.com/group/sub/name.git",
         {"kind": "gitlab", "repository": "group/sub/name"}),
        ("git@gitlab.com:group/sub/name.git",
         {"kind": "gitlab", "repository": "group/sub/name"}),
        ("https://codeberg.org/owner/name.git",
         {"kind": "gitea", "repository": "owner/name", "url": "https://codeberg.org"}),
        ("git@codeberg.org:owner/name.git",
         {"kind": "gitea", "repository": "owner/name", "url": "https://codeberg.org"}),
    ],
)
def test_the_forge_of_a_known_host(
    tmp_path: Path, run_inprocess: CLI, url: str, table: dict[str, str]
) -> None:
    project = forge_project(tmp_path, url)
    found = init(project, run_inprocess)
    assert forge_table(project) == table
    assert_valid_forge(project, table)
    shown = ", ".join(f"{k} = {v!r}" for k, v in table.items())
    host = "github.com" if "github" in url else "gitlab.com" if "gitlab" in url else "codeberg.org"
    assert found["forge"] == f"forge: {shown}: origin ({url}) is on {host}."
    # The table as written: under [tool.release], in the order shown.
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    lines = "".join(f'{k} = "{v}"\n' for k, v in table.items())
    assert f"\n[tool.release.forge]\n{lines}" in text, text


def test_an_unknown_host_writes_no_forge_and_asks_for_its_kind(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    url = "git@git.example.org:team/name.git"
    project = forge_project(tmp_path, url)
    found = init(project, run_inprocess)
    assert forge_table(project) is None
    assert "[tool.release.forge]" not in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert found["forge"] == (
        f"forge: none written: origin ({url}) is on git.example.org, a host release init does "
        "not know. Add [tool.release.forge] with kind = 'github' | 'gitlab' | 'gitea' and "
        'url = "https://git.example.org", or run release init --forge KIND.')


@pytest.mark.parametrize(
    ("url", "kind_host", "table"),
    [
        ("git@git.example.org:team/name.git", ("gitea", "git.example.org"),
         {"kind": "gitea", "repository": "team/name", "url": "https://git.example.org"}),
        ("ssh://git@gitlab.example.com:2222/g/sub/n.git", ("gitlab", "gitlab.example.com"),
         {"kind": "gitlab", "repository": "g/sub/n", "url": "https://gitlab.example.com"}),
        ("https://github.example.com/o/n", ("github", "github.example.com"),
         {"kind": "github", "repository": "o/n", "url": "https://github.example.com"}),
        ("https://github.com/o/n", ("github", "github.com"),
         {"kind": "github", "repository": "o/n"}),
    ],
)
def test_forge_settles_the_kind(
    tmp_path: Path, run_inprocess: CLI, url: str, kind_host: tuple[str, str],
    table: dict[str, str]
) -> None:
    kind, host = kind_host
    project = forge_project(tmp_path, url)
    found = init(project, run_inprocess, "--forge", kind)
    assert forge_table(project) == table
    assert_valid_forge(project, table)
    shown = ", ".join(f"{k} = {v!r}" for k, v in table.items())
    assert found["forge"] == f"forge: {shown}: --forge {kind}, and origin ({url}) is on {host}."


def test_a_path_that_is_not_a_repository_of_the_kind(tmp_path: Path, run_inprocess: CLI) -> None:
    url = "https://github.com/octo-org/team/hello.git"
    project = forge_project(tmp_path, url)
    found = init(project, run_inprocess)
    assert forge_table(project) is None
    assert found["forge"] == (
        f"forge: none written: origin ({url}) names 'octo-org/team/hello', which is not a "
        "GitHub repository (OWNER/NAME).")


def test_no_origin_no_forge_and_nothing_said(tmp_path: Path, run_inprocess: CLI) -> None:
    project = forge_project(tmp_path, None)
    found = init(project, run_inprocess)
    assert forge_table(project) is None
    assert "forge" not in found


@pytest.mark.parametrize(
    ("url", "args", "said"),
    [
        (None, ("--forge", "github"), "needs an `origin` remote on the forge (there is none)"),
        ("/srv/git/name.git", ("--forge", "github"),
         "(origin is /srv/git/name.git, a local repository)"),
        ("https://github.com/o/n", ("--forge", "bitbucket"), "there is no forge kind 'bitbucket'"),
        ("https://github.com/o/n", ("--forge", "github", "--ci", "github"),
         "--forge does not go with --ci"),
    ],
)
def test_forge_refusals(
    tmp_path: Path, cli: CLI, url: str | None, args: tuple[str, ...], said: str
) -> None:
    project = forge_project(tmp_path, url)
    before = (project / "pyproject.toml").read_text(encoding="utf-8")
    result = cli("init", *args, cwd=project)
    assert result.code == 2, result.stdout + result.stderr
    assert said in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == before
    assert not (project / ".github").exists()


# --- towncrier ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["pyproject.toml", "towncrier.toml"])
def test_an_existing_towncrier_configuration_is_kept(
    tmp_path: Path, run_inprocess: CLI, where: str
) -> None:
    towncrier = ('[tool.towncrier]\ndirectory = "news"  # our own name\nfilename = "NEWS.md"\n'
                 'title_format = "## {version}"\n')
    files = {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "1.0.0"\n'
        + ("\n" + towncrier if where == "pyproject.toml" else ""),
        "NEWS.md": "# News\n\n## 1.0.0\n\n- First.\n",
    }
    if where == "towncrier.toml":
        files["towncrier.toml"] = towncrier
    project = make_project(tmp_path, files, tags=["v1.0.0"])
    found = init(project, run_inprocess)
    assert found["towncrier"] == (
        "towncrier is already configured; its settings are used as they are.")
    assert "NEWS.md" not in found  # no marker inserted
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    if where == "pyproject.toml":
        assert data["tool"]["towncrier"] == {
            "directory": "news", "filename": "NEWS.md", "title_format": "## {version}"}
        assert towncrier in (project / "pyproject.toml").read_text(encoding="utf-8")
    else:
        assert "towncrier" not in data["tool"]
        assert (project / "towncrier.toml").read_text(encoding="utf-8") == towncrier
    assert (project / "NEWS.md").read_text(encoding="utf-8") == files["NEWS.md"]
    assert not (project / "changelog.d").exists()
    assert not (project / "news").exists()


@pytest.mark.usefixtures("utc")
def test_a_minimal_towncrier_configuration_is_created(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n',
        "CHANGELOG.md": CHANGELOG,
    }, tags=["v0.4.1"])
    found = init(project, run_inprocess)
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["tool"]["towncrier"] == {
        "directory": "changelog.d", "filename": "CHANGELOG.md",
        "title_format": "## {version} ({project_date})"}
    assert found["towncrier"] == (
        "towncrier: new configuration writing CHANGELOG.md from fragments in changelog.d/.")
    assert found["CHANGELOG.md"] == (
        "CHANGELOG.md: towncrier's start marker inserted after its title, so new sections go "
        "above the old ones.")
    assert sorted(p.name for p in (project / "changelog.d").iterdir()) == [".gitkeep"]
    news = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    # The marker follows the title and a blank line; everything after the title is kept.
    title = "# Changelog\n"
    assert news == f"{title}\n{MARKER_MD}\n\n" + CHANGELOG[len(title):], news

    # The marker is where towncrier writes: the release's section goes between it and the
    # sections that were there before.
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")
    result = run_inprocess("run", "--yes", "--until", "prepare", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    news = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert news.startswith(f"# Changelog\n\n{MARKER_MD}\n"), news
    assert news.index(MARKER_MD) < news.index("## 0.5.0 (2026-01-01)") < news.index("## 0.4.1")
    assert "- A new thing. (#1)" in news


def test_the_marker_goes_below_an_underlined_rst_title(tmp_path: Path, run_inprocess: CLI) -> None:
    text = "Changes\n=======\n\n0.4.1\n-----\n\n- First release.\n"
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n',
        "CHANGES.rst": text,
    }, tags=["v0.4.1"])
    found = init(project, run_inprocess)
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["tool"]["towncrier"] == {"directory": "changelog.d", "filename": "CHANGES.rst"}
    assert "CHANGES.rst" in found
    title = "Changes\n=======\n"
    assert (project / "CHANGES.rst").read_text(encoding="utf-8") == (
        f"{title}\n{MARKER_RST}\n\n" + text[len(title):])
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")


def test_without_a_news_file_none_is_created(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n',
    }, tags=["v0.4.1"])
    found = init(project, run_inprocess)
    assert "CHANGELOG.md" not in found
    assert not (project / "CHANGELOG.md").exists()
    assert (project / "changelog.d" / ".gitkeep").is_file()
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")


# --- what is written, and what is not -------------------------------------------------------

STYLED = """\
# Hand-written: keep these comments.
[build-system]
requires = ["setuptools>=68", "wheel"]   # build dependencies
build-backend = "setuptools.build_meta"

[project]
name    = "mypkg"          # aligned on purpose
version = '0.4.1'
description = 'Single quotes stay single.'
dependencies = [
    "requests >= 2",   # HTTP
    "attrs",
]

[tool.ruff]
line-length = 99

[project.scripts]
mypkg = "mypkg.cli:main"

[tool.mypy]
strict = true

[[tool.mypy.overrides]]
module = ["x.*"]
ignore_missing_imports = true
# the end
"""


def assert_only_tables_added(original: str, written: str, tables: set[str]) -> None:
    """``written`` is ``original`` with lines inserted and nothing else changed, and the
    inserted lines are exactly the TOML tables ``tool.<name>`` for each name in ``tables``."""
    before, after = original.splitlines(keepends=True), written.splitlines(keepends=True)
    inserted: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after,
                                                      autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), (
            f"{op}: {before[i1:i2]!r} -> {after[j1:j2]!r}\n--- written:\n{written}")
        if op == "insert":
            inserted += after[j1:j2]
    added = tomllib.loads("".join(inserted))
    assert set(added) == {"tool"}, added
    assert set(added["tool"]) == tables, added


def test_the_rest_of_pyproject_toml_is_kept_byte_for_byte(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": STYLED, "src/mypkg/__init__.py": pkg_init("0.4.1"),
        "CHANGELOG.md": CHANGELOG,
    }, tags=["v0.4.1"])
    init(project, run_inprocess)
    written = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert_only_tables_added(STYLED, written, {"release", "towncrier"})
    assert release_table(project)["version-locations"] == [
        "pyproject.toml", "src/mypkg/__init__.py"]
    assert_preview_works(project, run_inprocess, "0.4.1", "0.5.0")


def test_a_towncrier_configuration_is_not_touched(tmp_path: Path, run_inprocess: CLI) -> None:
    original = STYLED + TOWNCRIER
    project = make_project(tmp_path, {"pyproject.toml": original}, tags=["v0.4.1"])
    init(project, run_inprocess)
    written = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert_only_tables_added(original, written, {"release"})


def test_crlf_line_endings_are_kept(tmp_path: Path, run_inprocess: CLI) -> None:
    original = (HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n'
                + TOWNCRIER).replace("\n", "\r\n")
    project = make_project(tmp_path, {"pyproject.toml": original}, tags=["v0.4.1"])
    init(project, run_inprocess)
    written = (project / "pyproject.toml").read_bytes().decode("utf-8")
    assert written.startswith(original), "the existing lines changed (CRLF became LF?)"
    assert "\n" not in written.replace("\r\n", ""), "the new lines do not use CRLF"


def test_dry_run_writes_nothing(tmp_path: Path, run_inprocess: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n',
        "CHANGELOG.md": CHANGELOG,
    }, tags=["v0.4.1"])
    before = tree_state(project, tmp_path / "proj.git")
    result = run_inprocess("init", "--dry-run", cwd=project)
    assert result.code == 0, result.stderr
    assert tree_state(project, tmp_path / "proj.git") == before
    assert result.stdout.endswith("Nothing written (--dry-run).\n"), result.stdout
    # The same decisions as the real run, which then writes them.
    real = run_inprocess("init", cwd=project)
    assert decisions(result.stdout) == decisions(real.stdout)
    assert set(decisions(real.stdout)) == {
        "version-locations", "tag-format", "branches", "towncrier", "CHANGELOG.md"}
    assert tree_state(project, tmp_path / "proj.git") != before


def test_every_decision_is_printed_with_its_reason(tmp_path: Path, cli: CLI) -> None:
    project = make_project(tmp_path, {
        "pyproject.toml": HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n',
        "src/mypkg/__init__.py": pkg_init("0.4.1"),
        "CHANGELOG.md": CHANGELOG,
    }, tags=["v0.4.1"])
    result = cli("init", cwd=project)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        "Decisions:\n"
        "  - version-locations = ['pyproject.toml', 'src/mypkg/__init__.py']: project.version "
        "is static in pyproject.toml, and src/mypkg/__init__.py repeats it in __version__ (both "
        "are kept in step).\n"
        "  - tag-format = 'v{version}': v0.4.1, the tag of the current version 0.4.1, is "
        "written 'v{version}'.\n"
        "  - branches = ['main']: the remote names no default branch; the current branch is "
        "main.\n"
        "  - towncrier: new configuration writing CHANGELOG.md from fragments in changelog.d/.\n"
        "  - CHANGELOG.md: towncrier's start marker inserted after its title, so new sections "
        "go above the old ones.\n"
        "Wrote [tool.release] to pyproject.toml; check it with: release preview\n"
    )


def test_an_existing_release_table_is_refused(tmp_path: Path, cli: CLI) -> None:
    original = (HATCHLING + '\n[project]\nname = "mypkg"\nversion = "0.4.1"\n'
                '\n[tool.release]\nbranches = ["main"]\n')
    project = make_project(tmp_path, {"pyproject.toml": original})
    for args in (("init",), ("init", "--dry-run")):
        result = cli(*args, cwd=project)
        assert result.code == 2, result.stdout + result.stderr
        assert "error: pyproject.toml already has [tool.release]." in result.stderr
        assert "hint:" in result.stderr
        assert result.stdout == ""
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == original
    assert not (project / "changelog.d").exists()


def test_a_project_whose_version_cannot_be_found(tmp_path: Path, cli: CLI) -> None:
    original = HATCHLING + '\n[project]\nname = "mypkg"\ndynamic = ["version"]\n'
    project = make_project(tmp_path, {"pyproject.toml": original})
    result = cli("init", cwd=project)
    assert result.code == 2, result.stdout + result.stderr
    assert "cannot tell where the version is kept" in result.stderr
    assert "version-locations" in result.stderr
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == original
