"""Fuzzing the planner with hypothesis: arbitrary ``[tool.release]`` tables and arbitrary
fragment file names never cause a traceback -- either a plan (exit 0, or 1 when a check
fails) or a clear error (exit 2, or 1 for a failing check), and never an internal error
(exit 70) nor a raw control character on the terminal.

Each test reuses one sample repository and rewrites pyproject.toml (or the fragment
directory) between examples; ``release preview --json`` runs in this process
(``release.cli.main``), so an example costs the git reads, not an interpreter start.

Nothing leaves the machine: generated URLs point at a closed port on 127.0.0.1, every other
HTTP(S) request goes to a proxy on that closed port, and git may use only the ``file``
transport (``GIT_ALLOW_PROTOCOL``), so a generated ``remote`` such as ``host:path`` cannot
start ssh.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from release.config import FORGE_KEYS, SCHEMA, TARGET_KEYS, USER_STEP_KEYS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure is reproducible
)


@pytest.fixture
def contained(monkeypatch: pytest.MonkeyPatch) -> None:
    """No generated value can reach the network or run a program through git."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")
    monkeypatch.setenv("GIT_SSH_COMMAND", "false")
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, CLOSED)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    for key in list(os.environ):
        if key.startswith("TWINE_"):
            monkeypatch.delenv(key)


@pytest.fixture
def template_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """towncrier compiles its jinja2 template again on every render (about 30 ms, a third
    of an example whose fragments render): the examples of one test all render the
    sample's template, so it is compiled once and rendered every time."""
    import functools

    import jinja2
    import towncrier._builder

    compiled = functools.lru_cache(maxsize=8)(jinja2.Template)
    monkeypatch.setattr(towncrier._builder, "Template", compiled)


def run_preview(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from release.cli import main

    capsys.readouterr()
    code = main(["-C", str(project), "preview", "--json"])
    out, err = capsys.readouterr()
    return code, out, err


def assert_plan_or_clear_error(code: int, out: str, err: str) -> None:
    shown = f"exit {code}\n--- stdout:\n{out[:3000]}\n--- stderr:\n{err[:3000]}"
    assert code != 70, shown
    assert "internal error" not in err, shown
    assert "Traceback" not in err, shown
    assert code in (0, 1, 2), shown
    assert "\x1b" not in out + err, "a raw escape character reached the output\n" + shown
    if out.strip():
        data = json.loads(out)
        assert data["schema"] == "release-pipeline/preview", shown
        problems = data["problems"]
        if code == 0:
            assert data["ok"] is True, shown
            assert data["plan"] is not None, shown
            assert problems == [], shown
        else:
            assert problems, shown
            assert max(p["exit_code"] for p in problems) == code, shown
            for problem in problems:
                assert problem["message"].strip(), shown
        assert err == "", shown
    else:
        assert code in (1, 2), shown
        assert err.startswith("error: "), shown
        assert len(err.strip().splitlines()[0]) > len("error: "), shown


# --- strategies: TOML values ---------------------------------------------------------------------

INTERESTING_TEXT = [
    "", " ", "{", "}", "{}", "{{", "}}", "{0}", "{version}", "v{version}", "{version!r}",
    "{version:>9}", "{version.major}", "{version[0]}", "{previous}", "{tag}", "{name}",
    "v{version};id", "v{version}$(id)", "v{version}`id`", "-{version}", "v{version}/x",
    "v{version}..", "v{version}.lock", "v{version}@{", "a b{version}", "v{version}\x1b[31m",
    "release-{version}-final", "{version}{{literal}}", "scm", "pyproject.toml",
    "src/sample_project/__init__.py", "README.md", "VERSION", "missing.txt", "../outside",
    "/etc/hostname", ".git/config", "dist", "main", "master", "release/*", "*", "[",
    "origin", "upstream", "-origin", "octo/repo", "not-a-repo", f"{CLOSED}/",
    f"{CLOSED}/simple/", "ftp://127.0.0.1/", "https://user:pass@127.0.0.1:9/", "GITHUB_TOKEN",
    "major", "minor", "patch", "none", "huge", "fragments", "commits", "pep440", "semver",
    "gpg", "ssh", "\x00", "\x07", "\u202e", "\ufeff", "é", "🚀", "\t\n",
]
texts = st.one_of(st.sampled_from(INTERESTING_TEXT), st.text(max_size=20))
scalars = st.one_of(
    texts,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
table_keys = st.one_of(st.sampled_from(["path", "key", "name", "feature", "x"]),
                       st.text(min_size=1, max_size=10))
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(table_keys, inner, max_size=4),
    ),
    max_leaves=12,
)


def _or_random(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value of the right shape; sometimes any TOML value."""
    return st.one_of(plausible, plausible, toml_values)


_LOCATION_ITEMS = st.one_of(
    st.sampled_from(["pyproject.toml", "src/sample_project/__init__.py", "scm", "README.md",
                     "missing.txt", "../outside", "/etc/hostname", ".git/HEAD", ""]),
    st.fixed_dictionaries({"path": texts}, optional={"key": st.one_of(texts, toml_values)}),
)
_TARGET = st.fixed_dictionaries({}, optional={
    "name": _or_random(st.sampled_from(["local", "pypi-mirror", "", "local"])),
    "repository-url": _or_random(st.sampled_from([f"{CLOSED}/", "ftp://127.0.0.1/",
                                                  "https://user:pw@127.0.0.1:9/", ""])),
    "repository": _or_random(st.sampled_from(["custom-section", ""])),
    "index-url": _or_random(st.sampled_from([f"{CLOSED}/simple/", "", "not a url"])),
    "verify-install": _or_random(st.booleans()),
    "username-env": _or_random(st.sampled_from(["USER_VAR", ""])),
    "password-env": _or_random(st.sampled_from(["PASSWORD_VAR", ""])),
})
_USER_STEP = st.fixed_dictionaries({}, optional={
    "name": _or_random(st.sampled_from(["lock", "a b", "", "-x", "lock"])),
    "stage": _or_random(st.sampled_from(["check", "prepare", "post", "prepar", ""])),
    "run": _or_random(st.sampled_from([["true"], [], "true", [""], ["uv", "lock"]])),
    "shell": _or_random(st.booleans()),
    "done-if": _or_random(st.sampled_from([["true"], "test -f x", []])),
    "paths": _or_random(st.sampled_from([["uv.lock"], ["../x"], ["/abs"], [".git/x"], "x"])),
})
_FORGE = st.fixed_dictionaries({}, optional={
    "kind": _or_random(st.sampled_from(["github", "gitlab", "gitea", "GitHub", ""])),
    "url": _or_random(st.sampled_from([CLOSED, "https://codeberg.org", "git.example", ""])),
    "repository": _or_random(st.sampled_from(["octo/repo", "bad", "", "a/b/c"])),
    "api-url": _or_random(st.sampled_from([CLOSED, "ftp://x", ""])),
    "token-env": _or_random(st.sampled_from(["GITHUB_TOKEN", "OTHER", ""])),
    "draft": _or_random(st.booleans()),
    "attach-artifacts": _or_random(st.booleans()),
})
_LEVELS = st.dictionaries(
    st.one_of(st.sampled_from(["feature", "bugfix", "doc", "misc", "removal", "feat", "fix"]),
              st.text(min_size=1, max_size=8)),
    st.one_of(st.sampled_from(["major", "minor", "patch", "none", "huge"]), toml_values),
    max_size=4,
)
_TEMPLATES = st.one_of(st.sampled_from([t for t in INTERESTING_TEXT if "{" in t]), texts)

PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "version-locations": st.lists(_LOCATION_ITEMS, max_size=3),
    "version-source": st.sampled_from(["fragments", "commits", "comits", ""]),
    "tag-format": _TEMPLATES,
    "tag-scheme": st.sampled_from(["pep440", "semver", "SemVer"]),
    "tag-message": _TEMPLATES,
    "commit-message": _TEMPLATES,
    "pr-branch": _TEMPLATES,
    "commit-hooks": st.booleans(),
    "branches": st.lists(st.sampled_from(["main", "master", "release/*", "*", "[", ""]),
                         max_size=3),
    "remote": st.sampled_from(["origin", "upstream", "", " ", "-x", "origin/main", "a:b"]),
    "allow-no-fragments": st.booleans(),
    "major-on-zero": st.booleans(),
    "fragment-bumps": _LEVELS,
    "commit-bumps": _LEVELS,
    "next-dev": st.booleans(),
    "dev-commit-message": _TEMPLATES,
    "sign": st.sampled_from(["none", "gpg", "ssh", "x509"]),
    "reproducible": st.booleans(),
    "publish": st.lists(_TARGET, max_size=2),
    "steps": st.lists(_USER_STEP, max_size=2),
    "gates": st.lists(
        st.one_of(
            st.sampled_from(["lint", "tests", "-x", "", "lint"]),
            st.fixed_dictionaries(
                {"name": st.sampled_from(["docs", "", "tests"]),
                 "run": st.sampled_from([["mkdocs", "build"], [], "make docs", [""]])}
            ),
        ),
        max_size=3,
    ),
    "ci-gates": st.sampled_from([True, False, "false", 0]),
    "fragment-exempt-paths": st.lists(texts, max_size=3),
    "fragment-exempt-marker": texts,
    "forge": _FORGE,
    "dist-dir": st.sampled_from(["dist", "out/dist", "../dist", "/tmp/dist", ".git", "", "."]),
    "wheels": st.lists(st.one_of(
        st.sampled_from(["cp3{10..14}-manylinux_*_x86_64", "*-win_amd64", "cp313-cp313t-*",
                         "*-{manylinux,musllinux}_*_aarch64", "cp3{1}-x", "x", "a{b-c", "-",
                         "cp3{0..2000}-x"]), texts), max_size=3),
    "upload-order": st.sampled_from(["wheels-first", "sdist-first", "sdist-last", ""]),
    "packages": st.sampled_from([
        [], [{"path": "packages/a"}], [{"name": "a", "path": "."}], [{"path": "../x"}],
        [{"name": 1, "path": "a"}], [{"path": "a", "extra": True}], "packages/*",
    ]),
    "update-dependents": st.sampled_from([True, False, "true", 1]),
    "consolidate-commits": st.sampled_from([True, False, "no", 0]),
}

_UNKNOWN = st.dictionaries(
    st.one_of(st.sampled_from(["tag-fromat", "versions", "Remote", "github.token"]),
              st.text(min_size=1, max_size=12)),
    toml_values, min_size=1, max_size=2)


@st.composite
def release_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A few known keys (mostly plausible values, sometimes any TOML value), and now and
    then an unknown key."""
    keys = draw(st.lists(st.sampled_from(sorted(PLAUSIBLE)), max_size=5, unique=True))
    table = {key: draw(_or_random(PLAUSIBLE[key])) for key in keys}
    if draw(st.integers(min_value=0, max_value=5)) == 5:
        table.update(draw(_UNKNOWN))
    for key, sub in (("github", "asset"), ("publish", "unknown-key"), ("steps", "when")):
        if key in table and draw(st.integers(min_value=0, max_value=5)) == 5:
            value = table[key]
            target = value[0] if isinstance(value, list) and value else value
            if isinstance(target, dict):
                target[sub] = draw(toml_values)  # an unknown key inside a sub-table
    return table


# --- 1. arbitrary [tool.release] tables -----------------------------------------------------


def test_the_generator_knows_every_key() -> None:
    """A new [tool.release] key (or sub-table key) must get plausible values here too."""
    assert set(PLAUSIBLE) == {key.name for key in SCHEMA}
    forge_keys = set(FORGE_KEYS)
    target_keys = set(TARGET_KEYS)
    assert forge_keys == {"kind", "repository", "url", "api-url", "token-env", "draft",
                          "attach-artifacts"}
    assert target_keys == {"name", "repository-url", "repository", "index-url", "verify-install",
                           "username-env", "password-env"}
    assert set(USER_STEP_KEYS) == {"name", "stage", "run", "shell", "done-if", "paths"}


def _without_release_table(text: str) -> str:
    import tomlkit

    doc = tomlkit.parse(text)
    doc["tool"].pop("release", None)
    return tomlkit.dumps(doc)


def _with_table(base: str, table: dict[str, Any]) -> str | None:
    """pyproject.toml text with ``table`` as [tool.release]; None if TOML cannot say it."""
    import tomlkit

    doc = tomlkit.parse(base)
    try:
        doc["tool"]["release"] = table
        text = tomlkit.dumps(doc)
        parsed = tomllib.loads(text)
    except Exception:  # a value tomlkit cannot write is not a test case
        return None
    if json.dumps(parsed["tool"]["release"], sort_keys=True, default=str) != json.dumps(
        table, sort_keys=True, default=str
    ):
        return None  # tomlkit wrote something else; not the table we meant to test
    return text


@pytest.mark.usefixtures("utc", "contained")
def test_arbitrary_release_tables_give_a_plan_or_a_clear_error(
    project_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = project_copy / "pyproject.toml"
    base = _without_release_table(pyproject.read_text(encoding="utf-8"))
    seen: dict[int, int] = {}

    @SETTINGS
    @given(table=release_tables())
    def check(table: dict[str, Any]) -> None:
        text = _with_table(base, table)
        assume(text is not None)
        assert text is not None
        pyproject.write_text(text, encoding="utf-8")
        code, out, err = run_preview(project_copy, capsys)
        seen[code] = seen.get(code, 0) + 1
        assert_plan_or_clear_error(code, out, err)

    check()
    # The generator reaches both sides: valid plans and refusals.
    assert seen.get(2, 0) > 0, seen
    assert seen.get(0, 0) + seen.get(1, 0) > 0, seen


# --- 2. arbitrary fragment file names -------------------------------------------------------

_NAME_CHARS = st.characters(codec="utf-8", exclude_characters="/\x00")  # no surrogates
_ISSUES = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["12", "+", "+orphan", "-1", ".", "..", "007", "٣", "x", "", "1.2", "a b"]),
    st.text(_NAME_CHARS, max_size=6),
)
_TYPES = st.one_of(
    st.sampled_from(["feature", "bugfix", "doc", "misc", "removal", "deprecation"]),
    st.sampled_from(["feeture", "FEATURE", "", "md", "feature.md", "feature.1"]),
)
_SUFFIXES = st.sampled_from(["", ".md", ".md", ".rst", ".txt", ".1", ".2.md", ".", "~",
                             ".md.orig"])
structured_names = st.builds(
    lambda lead, issue, kind, suffix: f"{lead}{issue}.{kind}{suffix}",
    st.sampled_from(["", "", "", "", ".", "-", "--", " ", "\x1b[31m", "\u202e"]),
    _ISSUES, _TYPES, _SUFFIXES,
)
valid_names = st.builds(
    lambda issue, kind, suffix: f"{issue}.{kind}{suffix}",
    st.one_of(st.integers(min_value=0, max_value=10**6).map(str), st.just("+")),
    st.sampled_from(["feature", "bugfix", "doc", "misc", "removal"]),
    st.sampled_from(["", ".md", ".rst", ".1.md"]),
)
fragment_names = st.one_of(valid_names, valid_names, structured_names, structured_names,
                           st.text(_NAME_CHARS, min_size=1, max_size=24)).filter(
    lambda n: n not in (".", "..") and len(os.fsencode(n)) <= 255
)
fragment_sets = st.lists(
    st.tuples(fragment_names, st.one_of(st.just("A change."), st.text(max_size=40))),
    min_size=1, max_size=4, unique_by=lambda pair: pair[0].casefold(),
)


@pytest.mark.usefixtures("utc", "contained", "template_compiled_once")
def test_arbitrary_fragment_names_give_a_plan_or_a_clear_error(
    sample_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project = sample_copy()  # no fragments of its own
    directory = project / "changelog.d"
    keep = {".gitkeep"}
    seen: dict[int, int] = {}

    @settings(SETTINGS, max_examples=150)
    @given(fragments=fragment_sets)
    def check(fragments: list[tuple[str, str]]) -> None:
        for entry in os.scandir(directory):
            if entry.name not in keep:
                os.unlink(entry.path)
        for name, text in fragments:
            try:
                (directory / name).write_text(text, encoding="utf-8")
            except OSError:
                assume(False)  # a name this file system does not take
        code, out, err = run_preview(project, capsys)
        seen[code] = seen.get(code, 0) + 1
        assert_plan_or_clear_error(code, out, err)

    check()
    assert seen.get(2, 0) > 0, seen
    assert seen.get(0, 0) + seen.get(1, 0) > 0, seen
