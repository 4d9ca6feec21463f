"""Shared fixtures: an isolated git identity, sample projects with a bare remote, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from release.demo import GIT_ENV, Layout, create_sample_project
from release.testhooks import FAILPOINT_ENV as FAILPOINT  # noqa: F401 - for the tests

if TYPE_CHECKING:  # imported by pytest_plugins below, so that its asserts are rewritten
    from indexes import PypiServer


def run_shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A directory every xdist worker of this run sees (the parent of the workers' own
    temporary directories), or the session's own without xdist."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / name
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git configuration leaks into a test; a fixed identity is used."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01, for stable dates
    for key in list(os.environ):
        if key.startswith("RELEASE_PIPELINE_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)  # answers cached under this HOME only
    # A repository that happens to exist above the temporary directories (a stray
    # `git init` in /tmp) must not become the repository of a test that has none.
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", os.pathsep.join(map(str, base.parents)))


@pytest.fixture(scope="session")
def _bytecode_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_shared_dir(tmp_path_factory, "pycache")


@pytest.fixture(autouse=True)
def cached_bytecode(_bytecode_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pythons a test starts (``release``, towncrier, the build backends' hooks) keep
    their bytecode, as on a developer's machine, in one directory of the run.

    With ``PYTHONDONTWRITEBYTECODE`` set (container images often set it) and no
    ``__pycache__`` beside the sources under test, every ``release`` subprocess would compile
    all of release/ again, and each of a build's four hook processes all of its backend (a
    fresh environment each build). The directory is outside every source tree, so no
    ``__pycache__`` appears in a test's project (towncrier imports some projects' packages)."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(_bytecode_dir))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cached_samples: `sample` and `project` in this module are the cached "
        "copies (`sample_copy`, `project_copy`); see the note at `sample`.",
    )


@pytest.fixture
def sample(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Path]:
    """Create a sample project (see release.demo.create_sample_project) under tmp_path.

    In a module marked ``pytest.mark.cached_samples`` this is ``sample_copy``: each distinct
    project is built once per session and copied. That is not the default, because a copy
    carries the commits and dates of the test that built it. Tests that depend on the dates
    pin them (``pinned_dates``, as test_kill_matrix does before it makes a sample, to compare
    a resumed release with an uninterrupted one byte for byte): the pinned dates are part
    of the cache's key, so such a copy is the very project a fresh one would be, commit ids
    included. Mark the modules whose tests either pin the dates or do not depend on them
    (the release tests that only compare a project with itself before and after, as most
    do).
    """
    if request.node.get_closest_marker("cached_samples") is not None:
        cached: Callable[..., Path] = request.getfixturevalue("sample_copy")
        return cached

    def make(layout: Layout = "hatchling", **kwargs: object) -> Path:
        return create_sample_project(tmp_path, layout=layout, **kwargs)  # type: ignore[arg-type]

    return make


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


CLI = Callable[..., Result]  # the `cli` and `run_inprocess` fixtures


def both(result: Result) -> str:
    return result.stdout + result.stderr


def release_command(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Result:
    """``release ARGS`` in a subprocess, as a user would run it (this interpreter's
    ``-m release``, so the tree under test), with no terminal on stdin and the test's
    environment plus ``env``. The ``cli`` fixture and ``run_release`` are this."""
    done = subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli() -> CLI:
    """Run the real ``release`` command in a subprocess, as a user would."""
    return release_command


#: The changelog fragments of ``project``: the next release of the sample is 1.3.0.
FRAGMENTS = {"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."}


@pytest.fixture
def project(sample: Callable[..., Path]) -> Path:
    """The default sample project with a feature and a bugfix fragment (the cached copy in a
    module marked ``cached_samples``)."""
    return sample(fragments=FRAGMENTS)


@pytest.fixture
def bare(sample: Callable[..., Path]) -> Path:
    """The sample project released at 1.2.0 (tag ``v1.2.0``), with no fragments yet (the
    cached copy in a module marked ``cached_samples``)."""
    return sample()


# --- Helpers and fixtures for the integration tests on real repositories -------------------
# (test_preview, test_check, test_config, test_fragments, test_changelog)

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates derived from SOURCE_DATE_EPOCH are local dates; pin the zone so they are stable."""
    monkeypatch.setenv("TZ", "UTC")


def remote_of(project: Path) -> Path:
    """The bare remote create_sample_project made next to ``project``."""
    return project.parent / f"{project.name}.git"


def commit_all(project: Path, message: str = "Update the project") -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)


def _is_header(line: str) -> bool:
    return line.startswith("[") and line.rstrip().endswith("]")


def set_release_config(project: Path, lines: str, *, commit: bool = True) -> None:
    """Set TOML ``lines`` (``key = value``, one a line) in ``[tool.release]`` of the project's
    pyproject.toml, replacing keys already there and creating the table if needed."""
    path = project / "pyproject.toml"
    new = [ln for ln in lines.strip().splitlines() if ln.strip()]
    keys = {ln.split("=", 1)[0].strip() for ln in new}
    out: list[str] = []
    table = ""
    placed = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _is_header(line):
            table = line.strip()
        elif table == "[tool.release]" and line.split("=", 1)[0].strip() in keys:
            continue  # replaced below
        out.append(line)
        if line.strip() == "[tool.release]":
            out += new
            placed = True
    if not placed:
        out += ["", "[tool.release]", *new]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    if commit:
        commit_all(project, "Configure the release")


def set_towncrier_config(project: Path, toml: str, *, commit: bool = True) -> None:
    """Replace every ``[tool.towncrier...]`` table of pyproject.toml with ``toml``."""
    path = project / "pyproject.toml"
    kept: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _is_header(line):
            inside = line.strip("[] ").startswith("tool.towncrier")
        if not inside:
            kept.append(line)
    path.write_text("\n".join(kept).rstrip("\n") + "\n\n" + toml.strip() + "\n", encoding="utf-8")
    if commit:
        commit_all(project, "Configure towncrier")


def write_fragments(
    project: Path, fragments: dict[str, str | bytes], *, commit: bool = True
) -> None:
    """Write fragments (path relative to changelog.d -> text or raw bytes)."""
    for name, content in fragments.items():
        path = project / "changelog.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if commit:
        commit_all(project, "Add changelog fragments")


def assert_usage_error(result: Result, *names: str, code: int = 2) -> str:
    """A refusal: exit ``code`` (2, bad input, unless told) without a traceback or an internal
    error, naming each of ``names``, each error with a hint; returns stdout + stderr."""
    both = result.stdout + result.stderr
    assert result.code == code, f"exit {result.code}, expected {code}\n{both}"
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in both, both
    for name in names:
        assert name in both, f"{name!r} is not named in the output:\n{both}"
    # Every error says how to fix it: a hint after `error:`, an indented line after a problem.
    if "error:" in result.stderr:
        assert "hint:" in result.stderr, f"no hint in:\n{result.stderr}"
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  x ["):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            assert nxt.startswith("      "), f"no hint for: {line}"
            assert nxt.strip(), f"no hint for: {line}"
    return both


def problem_codes(stdout: str) -> list[str]:
    """The ``[code]`` of each problem listed by ``release check`` / ``preview``."""
    import re

    return re.findall(r"^  x \[([a-z0-9-]+)\]", stdout, re.MULTILINE)


def normalise(text: str, *roots: Path) -> str:
    """Replace temporary paths (as given and resolved) with ``<TMP>``."""
    for root in roots:
        for form in sorted({str(root), str(root.resolve())}, key=len, reverse=True):
            text = text.replace(form, "<TMP>")
    return text


def check_golden(name: str, actual: str) -> None:
    """Compare ``actual`` with tests/golden/``name``; UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing; run the tests with UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"output differs from {path}; if the change is intended, rerun with UPDATE_GOLDEN=1 "
        "and review the diff"
    )


@pytest.fixture
def run_inprocess(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Call ``release.cli.main`` in this process (no interpreter start-up) for tests that only
    look at the computed plan; exit codes and error output are tested through ``cli``."""

    def run(*args: str, cwd: Path) -> Result:
        from release.cli import main

        capsys.readouterr()
        code = main(["-C", str(cwd), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


# --- Helpers for the run / resume / abort tests (test_run, test_resume_abort, -------------
# test_kill_matrix, test_fault_matrix_full, test_user_steps): real releases of sample
# projects, builds included.


@pytest.fixture(scope="session")
def uv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for every xdist worker of the run (uv locks its cache, so workers can
    share it): build requirements (hatchling, setuptools, flit-core, ...) are downloaded and
    unpacked once per run, not once per worker."""
    return run_shared_dir(tmp_path_factory, "uv-cache")


PINNED_DATE = "1767229200 +0000"  # 2026-01-01 01:00 UTC, for author, committer and tagger


@pytest.fixture
def pinned_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits and tags made from here on (the sample's included) carry PINNED_DATE, so two
    releases of the same sample build byte-identical artifacts."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", PINNED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", PINNED_DATE)


#: uv's user configuration in a building test's HOME: PyPI's answers are kept for as long as
#: PyPI itself says (a simple page 10 minutes, a file for good), also behind a proxy or
#: mirror that drops those headers, where uv would fetch every build requirement again for
#: every build. Against PyPI itself it changes nothing. An index given to uv on its command
#: line (verify-install's ``--index-url``) still replaces this default one.
UV_USER_CONFIG = """\
[[index]]
url = "https://pypi.org/simple"
default = true
cache-control = { api = "max-age=600", files = "max-age=365000000, immutable" }
"""


@pytest.fixture
def shared_uv_cache(isolated_git: None, uv_cache_dir: Path, _bytecode_dir: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One uv cache for every build of the session (each test's fresh HOME would start cold),
    whose PyPI answers stay fresh as PyPI means them to (:data:`UV_USER_CONFIG`).

    Afterwards the bytecode of the build environments the test's builds made and removed is
    removed too (``cached_bytecode`` keeps it only while a build's hooks run)."""
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache_dir))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # uv reads HOME/.config: the test's
    config = Path.home() / ".config" / "uv" / "uv.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(UV_USER_CONFIG, encoding="utf-8")
    yield
    _drop_bytecode_of_removed_build_envs(_bytecode_dir)


def _drop_bytecode_of_removed_build_envs(bytecode_dir: Path) -> None:
    """The bytecode kept for build environments in the temporary directory (release's
    ``release-build-*``, build's ``build-env-*``) that are gone: a new environment has a
    new name, so it is never read again."""
    import shutil
    import tempfile

    temp = Path(tempfile.gettempdir())
    for source in {temp, temp.resolve()}:
        mirror = bytecode_dir / source.relative_to(source.anchor)
        for pattern in ("release-build-*", "build-env-*"):
            for kept in mirror.glob(pattern):
                if not (source / kept.name).exists():
                    shutil.rmtree(kept, ignore_errors=True)


# The ids of the sample project's release steps (hatchling layout), as the journal and the
# failpoints name them: the local stages, and the post stage of a release with next-dev.
SAMPLE_INIT = "src/sample_project/__init__.py"
LOCAL_STEPS = (
    "check.preflight",
    "prepare.edit-version:pyproject.toml",
    f"prepare.edit-version:{SAMPLE_INIT}",
    "prepare.changelog",
    "prepare.commit",
    "tag.tag",
    "build.build",
    "verify.verify",
)
POST_STEPS = (
    "post.edit-version:pyproject.toml",
    f"post.edit-version:{SAMPLE_INIT}",
    "post.commit",
    "post.push",
)


def publish_steps(target: str) -> tuple[str, str]:
    """The publish stage's steps for a target with ``verify-install = true``."""
    return f"publish.upload:{target}", f"publish.verify-install:{target}"


def run_release(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``release ARGS`` run in ``project`` (see :func:`release_command`)."""
    return release_command(*args, cwd=project, env=env)


def bare_refs(remote: Path) -> dict[str, str]:
    """ref -> object id of every ref of a (bare) repository."""
    out = git(remote, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in out.splitlines())


def state_dir_of(project: Path) -> Path:
    """Where release-pipeline keeps a release's state: journal, lock, staging, manifests."""
    return project / ".git" / "release-pipeline"


def read_journal(project: Path) -> dict[str, Any]:
    import json

    path = state_dir_of(project) / "journal.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def rev(repo: Path, name: str) -> str | None:
    """The object id ``name`` names in ``repo`` (``git rev-parse --verify``), or None when it
    names nothing."""
    done = subprocess.run(
        ["git", "rev-parse", "--quiet", "--verify", name],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def wheel_metadata(path: Path) -> dict[str, str]:
    """The headers of a wheel's ``.dist-info/METADATA`` (the last of a repeated one)."""
    import zipfile
    from email.parser import HeaderParser

    with zipfile.ZipFile(path) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(wheel.read(name).decode())
    return dict(headers.items())


def wheel_version(path: Path) -> str:
    """The ``Version`` a wheel's METADATA declares."""
    metadata = wheel_metadata(path)
    assert "Version" in metadata, f"no Version in the METADATA of {path.name}"
    return metadata["Version"]


@dataclass(frozen=True)
class Snapshot:
    head: str
    branch: str
    refs: str
    status: str
    index: str
    files: tuple[tuple[str, str], ...]


def outside_git_dir(project: Path) -> list[Path]:
    """Every path under ``project`` but its ``.git`` and what is in it, sorted (as
    ``sorted(project.rglob("*"))`` less those, without walking git's objects)."""
    found: list[Path] = []
    for top in project.iterdir():
        if top.name != ".git":
            found.append(top)
            if not top.is_symlink():  # rglob does not follow a link into a directory
                found.extend(top.rglob("*"))
    return sorted(found)


def snapshot(project: Path) -> Snapshot:
    """Everything abort must restore: HEAD, every ref, status, index, and every file's
    bytes and mode (directories included, so an empty dist/ left behind shows)."""
    import stat

    from indexes import sha256_of

    files: list[tuple[str, str]] = []
    for path in outside_git_dir(project):
        rel = path.relative_to(project)
        if path.is_dir():
            files.append((rel.as_posix() + "/", "dir"))
        else:
            mode = stat.S_IMODE(path.lstat().st_mode)
            files.append((rel.as_posix(), f"{mode:o} {sha256_of(path)}"))
    return Snapshot(
        head=git(project, "rev-parse", "HEAD"),
        branch=git(project, "symbolic-ref", "HEAD"),
        refs=git(project, "for-each-ref"),
        status=git(project, "status", "--porcelain", "--untracked-files=all"),
        index=git(project, "ls-files", "--stage"),
        files=tuple(files),
    )


def assert_stopped_at(
    project: Path, steps: Sequence[str], step: str, *, done_through: bool
) -> None:
    """The journal of a release stopped at ``step``: unfinished, every step before it (in the
    order of ``steps``, the planned ones) done, ``step`` done iff ``done_through``, and every
    later one pending."""
    journal = read_journal(project)
    assert journal["finished"] is False
    position = list(steps).index(step)
    for index, (step_id, state) in enumerate(journal["steps"].items()):
        done = index < position or (index == position and done_through)
        assert state == ("done" if done else "pending"), (step_id, journal["steps"])


def assert_no_release_left(project: Path) -> None:
    """No journal, lock or staging directory, and no build worktree."""
    assert not (state_dir_of(project) / "journal.json").exists()
    assert not (state_dir_of(project) / "lock").exists()
    assert not (state_dir_of(project) / "staging").exists()
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1


# --- Real local package indexes (pypiserver, devpi) and a fault proxy: see tests/indexes.py --
pytest_plugins = ["indexes", "scheduling"]


# --- The local GitHub REST API stand-in (releases, assets): see tests/github_standin.py ------
from github_standin import github_standin  # noqa: E402, F401, I001


# --- The local GitLab REST API stand-in (releases, links, generic packages): gitlab_standin.py
from gitlab_standin import gitlab_standin  # noqa: E402, F401


# --- Cached sample projects (integration tests of preview/check/config/fragments/changelog) ---
# Building a sample project runs about ten git commands; the tests build the same few dozens of
# times. Each distinct project is built once (by create_sample_project, inside the first test
# that asks for it, so with that test's isolated git environment) and then copied: the copy is
# an independent repository whose `origin` is its own copy of the bare remote.

_SAMPLE_CACHE: dict[tuple[object, ...], Path] = {}


@pytest.fixture(scope="session")
def _sample_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample-cache")


@pytest.fixture
def sample_copy(_sample_cache_dir: Path, tmp_path: Path) -> Callable[..., Path]:
    """Like ``sample``, but each distinct project is built once per session and copied."""
    import shutil

    def make(
        layout: Layout = "hatchling",
        *,
        name: str = "sample-project",
        version: str = "1.2.0",
        fragments: dict[str, str] | None = None,
    ) -> Path:
        # Pinned dates (``pinned_dates``) are part of the project: its commits' ids.
        dates = tuple(os.environ.get(v) for v in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"))
        key = (layout, name, version, tuple(sorted((fragments or {}).items())), dates)
        if key not in _SAMPLE_CACHE:
            root = _sample_cache_dir / f"s{len(_SAMPLE_CACHE)}"
            root.mkdir()
            create_sample_project(
                root, name=name, layout=layout, version=version, fragments=fragments
            )
            _SAMPLE_CACHE[key] = root
        cached = _SAMPLE_CACHE[key]
        project = tmp_path / name
        shutil.copytree(cached / name, project, symlinks=True)
        shutil.copytree(cached / f"{name}.git", tmp_path / f"{name}.git", symlinks=True)
        git(project, "remote", "set-url", "origin", str(tmp_path / f"{name}.git"))
        return project

    return make


@pytest.fixture
def project_copy(sample_copy: Callable[..., Path]) -> Path:
    """Like ``project`` (a feature and a bugfix fragment), from the cache."""
    return sample_copy(fragments=FRAGMENTS)


# --- Helpers for the announce and ci tests (test_announce, test_ci, test_secrets, -----------
# test_fault_matrix_full): a sample project that publishes to a local index and announces on
# the GitHub stand-in.


def configure_targets(
    project: Path,
    *,
    github: Any = None,
    index: Any = None,
    name: str = "local",
    verify_install: bool = False,
    draft: bool = False,
    push: bool = True,
) -> None:
    """Add ``[tool.release.forge]`` (a :class:`github_standin.GitHubStandIn`) and one
    ``[[tool.release.publish]]`` table named ``name`` (an :class:`indexes.IndexTarget`) to
    pyproject.toml, commit, and push the commit to the sample's bare remote."""
    text = ""
    if github is not None:
        text += (
            f'\n[tool.release.forge]\nkind = "github"\nrepository = "{github.full_name}"\n'
            f'api-url = "{github.api_url}"\ntoken-env = "GITHUB_TOKEN"\n'
        )
        text += "draft = true\n" if draft else ""
    if index is not None:
        text += (
            f'\n[[tool.release.publish]]\nname = "{name}"\n'
            f'repository-url = "{index.upload_url}"\nindex-url = "{index.simple_url}"\n'
        )
        text += "verify-install = true\n" if verify_install else ""
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(project, "Configure publishing and the GitHub release")
    if push:
        git(project, "push", "--quiet", "origin", "main")


def changelog_section(project: Path, version: str) -> str:
    """The ``## VERSION (...)`` section of CHANGELOG.md, up to the next release's title."""
    text = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    start = text.index(f"## {version} (")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start : end + 1]


def target_env(
    *, github: Any = None, index: Any = None, token: str | None = None
) -> dict[str, str]:
    """The environment a release with those targets needs: the GitHub token (``token``
    overrides the stand-in's) and the index credentials; no proxy for 127.0.0.1."""
    env = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    if github is not None:
        env["GITHUB_TOKEN"] = github.token if token is None else token
    if index is not None:
        env["TWINE_USERNAME"] = index.username
        env["TWINE_PASSWORD"] = index.password
    return env


# --- Helpers for the publish-stage tests (test_publish, test_publish_faults, test_status, --
# test_secrets): a sample project configured with [[tool.release.publish]] tables for local
# indexes.


@dataclass(frozen=True)
class PublishTo:
    """One ``[[tool.release.publish]]`` table: ``index`` is an :class:`indexes.IndexTarget`
    (possibly reached through a fault proxy); credentials come from TWINE_USERNAME /
    TWINE_PASSWORD unless ``password_env`` names the target's own variables."""

    name: str
    index: Any
    verify_install: bool = False
    username_env: str = ""
    password_env: str = ""

    def toml(self) -> str:
        text = (
            f'\n[[tool.release.publish]]\nname = "{self.name}"\n'
            f'repository-url = "{self.index.upload_url}"\n'
            f'index-url = "{self.index.simple_url}"\n'
        )
        if self.verify_install:
            text += "verify-install = true\n"
        if self.username_env:
            text += f'username-env = "{self.username_env}"\n'
        if self.password_env:
            text += f'password-env = "{self.password_env}"\n'
        return text

    def env(self, password: str | None = None) -> dict[str, str]:
        """This target's credentials (``password`` replaces the index's)."""
        secret = self.index.password if password is None else password
        if self.password_env:
            user = {self.username_env: self.index.username} if self.username_env else {}
            return {**user, self.password_env: secret}
        return {"TWINE_USERNAME": self.index.username, "TWINE_PASSWORD": secret}


def configure_publish(project: Path, *targets: PublishTo) -> None:
    """Append the targets' tables to pyproject.toml, commit, and push to the bare remote, so
    the tree is clean and in sync before the release."""
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8") + "".join(t.toml() for t in targets)
    path.write_text(text, encoding="utf-8")
    commit_all(project, "Configure publishing")
    git(project, "push", "--quiet", "origin", "main")


def publish_env(*targets: PublishTo) -> dict[str, str]:
    """Every target's credentials, and no proxy for 127.0.0.1."""
    env = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for target in targets:
        env.update(target.env())
    return env


@pytest.fixture
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TWINE_* variable and no keyring backend from the outside: credentials come only
    from what a test passes."""
    for key in list(os.environ):
        if key.startswith("TWINE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


#: The password of ``private_index``'s user: URL-special characters (``&/:@?#+=~!`` and a
#: percent escape), so that a raw, quoted or encoded form of it shows wherever it leaks.
PRIVATE_PASSWORD = "pw&S3c/r:et@%41?#+=~z!"


@pytest.fixture
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    """A pypiserver of the test's own whose one user (``uploader``) has PRIVATE_PASSWORD,
    wanted for uploads, listings and downloads."""
    from indexes import PypiServer

    with PypiServer(
        tmp_path_factory.mktemp("pypiserver-private-index"),
        authenticate=("update", "download", "list"),
        password=PRIVATE_PASSWORD,
    ) as server:
        yield server


def secret_forms(username: str, passwords: Iterable[str], tokens: Iterable[str] = ()) -> list[str]:
    """Every form in which a secret could leak: each password and token raw and URL-quoted
    (``/`` quoted or kept), and base64 of ``username:password`` (an HTTP Basic authorization
    header) and of each token."""
    import base64
    from urllib.parse import quote

    passwords, tokens = tuple(passwords), tuple(tokens)
    forms: set[str] = set()
    for secret in (*passwords, *tokens):
        forms |= {secret, quote(secret, safe=""), quote(secret)}
    forms |= {base64.b64encode(f"{username}:{pw}".encode()).decode() for pw in passwords}
    forms |= {base64.b64encode(token.encode()).decode() for token in tokens}
    return sorted(forms)


def read_manifest(project: Path, version: str) -> dict[str, Any]:
    import json

    path = state_dir_of(project) / "manifests" / f"{version}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def forwarded_uploads(proxy: Any) -> dict[str, int]:
    """filename -> how many uploads of it a :class:`indexes.FaultProxy` let reach the index."""
    counts: dict[str, int] = {}
    for request in proxy.uploads:
        if request.forwarded and request.filename is not None:
            counts[request.filename] = counts.get(request.filename, 0) + 1
    return counts


def accepted_uploads(proxy: Any) -> dict[str, int]:
    """filename -> how many uploads of it the index behind ``proxy`` accepted (HTTP 200)."""
    counts: dict[str, int] = {}
    for request in proxy.uploads:
        if request.upstream_status == 200 and request.filename is not None:
            counts[request.filename] = counts.get(request.filename, 0) + 1
    return counts


def upload_attempts(proxy: Any) -> dict[str, int]:
    """filename -> how many uploads of it reached ``proxy`` (answered, faulted or not)."""
    counts: dict[str, int] = {}
    for request in proxy.uploads:
        if request.filename is not None:
            counts[request.filename] = counts.get(request.filename, 0) + 1
    return counts


def assert_no_crash(result: Result) -> None:
    """No internal error and no traceback of release-pipeline itself (a failing child's,
    quoted in a message, is fine)."""
    import release

    text = result.stdout + result.stderr
    assert "internal error" not in text, text
    assert f'File "{Path(release.__file__).parent}' not in text, text


def assert_exit(result: Result, code: int) -> str:
    """Exit ``code`` without a crash; returns stdout + stderr."""
    text = result.stdout + result.stderr
    assert result.code == code, f"exit {result.code}, expected {code}\n{text}"
    assert_no_crash(result)
    return text


def step_shown(output: str, status: str, stage: str, summary_start: str) -> bool:
    """Whether the run's progress shows ``status`` ("done", "already done", "failed") for a
    step of ``stage`` whose summary starts with ``summary_start``."""
    import re

    pattern = re.compile(
        rf"^  {re.escape(status)} +{re.escape(stage)} +"
        rf"{re.escape(summary_start)}",
        re.MULTILINE,
    )
    return pattern.search(output) is not None


# --- Helpers for the adoption, contributor and nox tests (test_init, test_contributors, -----
# test_nox_integration, test_conformance, test_bad_inputs).


def tree_state(project: Path, *remotes: Path) -> dict[str, str]:
    """What a command that must change nothing has to leave as it was: every file under
    ``project`` outside ``.git`` (path -> sha256), ``git status``, every ref of the
    repository and of each bare repository in ``remotes``, and what is in the release state
    directory (``.git/release-pipeline``)."""
    import hashlib

    state = {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in outside_git_dir(project)
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }
    state["<status>"] = git(
        project, "status", "--porcelain=v2", "--branch", "--untracked-files=all", "--ignored"
    )
    for repo in (project, *remotes):
        state[f"<refs of {repo.name}>"] = git(
            repo, "for-each-ref", "--format=%(refname) %(objectname)"
        )
    release_state = state_dir_of(project)
    state["<release state>"] = "\n".join(
        sorted(p.relative_to(release_state).as_posix() for p in release_state.rglob("*"))
        if release_state.is_dir()
        else ()
    )
    return state


# --- Helpers for the secret tests (test_secrets, test_gitea_forge): where a secret could land --


def all_git_objects(project: Path) -> bytes:
    """Every object of the repository, decompressed (commits, tags, trees, blobs)."""
    return subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=project,
        capture_output=True,
        check=True,
    ).stdout


def written_files(*roots: Path) -> list[Path]:
    """Every file under ``roots`` except git's compressed objects (read through git)."""
    found: list[Path] = []
    for root in roots:
        for top, dirs, names in os.walk(root):
            if Path(top).name == ".git":
                dirs[:] = [d for d in dirs if d != "objects"]
            found += [Path(top, name) for name in names if Path(top, name).is_file()]
    return found


@pytest.fixture
def toml_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts tomllib parses from now on (the real parser does the work)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    parse = tomllib.loads
    seen: list[str] = []

    def loads(text: str) -> dict[str, Any]:
        seen.append(text)
        return parse(text)

    monkeypatch.setattr(tomllib, "loads", loads)
    return seen
