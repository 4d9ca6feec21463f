"""Hostile or careless input the other test modules do not cover yet.

Each case asserts the exit status (2 for bad input), a message that names the file, key or
value and says how to fix it, and that nothing changed: HEAD, every ref, the status, the
bytes of every file in the work tree, the remote's refs, and no release state left in
``.git/release-pipeline``. Covered elsewhere and not repeated here: configuration typos and
wrong types, unsafe ``tag-format`` values through ``preview``/``check`` (test_config.py);
fragments of an unknown type, duplicates, symlinks, non-UTF-8 and control characters
(test_fragments.py); ``check`` on a detached HEAD, a shallow clone and a missing remote, and
locations that disagree among files (test_check.py); malformed and local explicit versions
through ``preview`` (test_preview.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    CLI,
    FRAGMENTS,
    assert_usage_error,
    commit_all,
    git,
    problem_codes,
    remote_of,
    set_release_config,
    set_towncrier_config,
    tree_state,
    write_fragments,
)

pytestmark = pytest.mark.cached_samples

INIT = "src/sample_project/__init__.py"
READ_ONLY = (("preview",), ("preview", "--json"), ("check",), ("version",), ("changelog",))


# --- "nothing changed": conftest.tree_state; a refusal: conftest.assert_usage_error -------------


def set_version(project: Path, path: str, value: str) -> None:
    """Write ``value`` as the version of ``path`` (pyproject.toml or __init__.py) and commit."""
    file = project / path
    text = file.read_text(encoding="utf-8")
    if path == "pyproject.toml":
        new = text.replace('version = "1.2.0"', f'version = "{value}"', 1)
    else:
        new = text.replace('__version__ = "1.2.0"', f'__version__ = "{value}"', 1)
    assert new != text
    file.write_text(new, encoding="utf-8")
    commit_all(project, f"Set {path} to {value}")


# --- malformed versions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        ("pyproject.toml", "1..0", "pyproject.toml [project.version]"),
        ("pyproject.toml", "1.0.0-SNAPSHOT", "pyproject.toml [project.version]"),
        (INIT, "1..0", f"{INIT} (__version__ = ...)"),
        (INIT, "1.0.0-SNAPSHOT", f"{INIT} (__version__ = ...)"),
    ],
)
def test_a_malformed_version_in_a_version_file(
    project: Path, run_inprocess: CLI, path: str, value: str, shown: str
) -> None:
    set_version(project, path, value)
    before = tree_state(project, remote_of(project))
    for command in READ_ONLY:
        result = run_inprocess(*command, cwd=project)
        text = assert_usage_error(result, f"'{value}'", shown, "PEP 440")
        assert "Use a version such as 1.2.0" in text  # how to fix it
        if command[-1] == "--json":
            data = json.loads(result.stdout)
            assert data["plan"] is None
            assert [p["exit_code"] for p in data["problems"]] == [2]
    assert tree_state(project, remote_of(project)) == before


@pytest.mark.parametrize("value", ["1..0", "1.0.0-SNAPSHOT", "1.3.0 ; id", "latest"])
def test_a_malformed_requested_version(project: Path, run_inprocess: CLI, value: str) -> None:
    before = tree_state(project, remote_of(project))
    for command in (("preview", value), ("check", value), ("version", "--next", value),
                    ("changelog", value)):
        text = assert_usage_error(run_inprocess(*command, cwd=project), f"'{value.strip()}'",
                                  "the command line")
        assert "not a valid PEP 440 version" in text
    assert tree_state(project, remote_of(project)) == before


def test_a_local_version_requested_for_an_index_is_refused(
    sample_copy: Callable[..., Path], run_inprocess: CLI
) -> None:
    project = sample_copy(version="0.9.0", fragments=FRAGMENTS)
    before = tree_state(project, remote_of(project))
    for command in (("preview", "1.0+abc"), ("check", "1.0+abc"), ("version", "--next", "1.0+abc"),
                    ("changelog", "1.0+abc")):
        result = run_inprocess(*command, cwd=project)
        text = assert_usage_error(result, "1.0+abc", "+abc", "local version")
        assert "Drop the part after '+'" in text or "without a local label" in text
    assert tree_state(project, remote_of(project)) == before


@pytest.mark.parametrize(("request_args", "planned"), [((), "1.3.0"), (("post",), "1.2.0.post1"),
                                                       (("--pre", "rc"), "1.3.0rc1")])
def test_a_local_version_in_the_files_never_heads_for_an_index(
    project: Path, run_inprocess: CLI, request_args: tuple[str, ...], planned: str
) -> None:
    """A version file holding a local version (1.2.0+abc) is the current version; the version
    the release writes, tags and publishes never carries the label."""
    for path in ("pyproject.toml", INIT):
        set_version(project, path, "1.2.0+abc")
    result = run_inprocess("preview", "--json", *request_args, cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["current_version"] == "1.2.0+abc"
    assert plan["version"] == planned
    assert plan["tag"] == f"v{planned}"
    for edit in plan["edits"]:
        if edit["path"] in ("pyproject.toml", INIT):
            added = [ln for ln in edit["diff"].splitlines()
                     if ln.startswith("+") and not ln.startswith("+++")]
            assert added, edit
            assert all("+abc" not in ln[1:] for ln in added), added


# --- version locations that disagree, and a higher release tag ---------------------------------


@pytest.fixture
def three_ways(project: Path) -> Path:
    """pyproject.toml 1.2.0, __init__.py 1.1.0, and the last release tag v1.3.0."""
    set_version(project, INIT, "1.1.0")
    git(project, "tag", "--annotate", "-m", "Release 1.3.0", "v1.3.0")
    return project


def test_disagreeing_locations_with_a_higher_tag_are_refused(three_ways: Path,
                                                            run_inprocess: CLI) -> None:
    before = tree_state(three_ways, remote_of(three_ways))
    for command in (*READ_ONLY, ("version", "--next")):
        text = assert_usage_error(run_inprocess(*command, cwd=three_ways))
        line = next(ln for ln in text.splitlines() if "disagree" in ln)
        assert "pyproject.toml [project.version] = 1.2.0" in line
        assert f"{INIT} (__version__ = ...) = 1.1.0" in line
        assert "Make them hold the same version" in text
    assert tree_state(three_ways, remote_of(three_ways)) == before


def test_disagreeing_locations_also_name_the_higher_release_tag(three_ways: Path,
                                                               run_inprocess: CLI) -> None:
    """Every problem at once (the design's preflight rule): making the files agree on 1.2.0
    would only lead to the next refusal (below the release v1.3.0), so the first answer
    should already name the tag."""
    for command in (("check",), ("preview",)):
        text = assert_usage_error(run_inprocess(*command, cwd=three_ways))
        assert "1.3.0" in text, (
            f"`release {' '.join(command)}` does not mention the release tag v1.3.0, which is "
            f"above every version location:\n{text}"
        )


# --- release run refuses bad input like the read-only commands: exit 2, nothing changed -------


def _malformed_file(project: Path) -> tuple[str, ...]:
    set_version(project, "pyproject.toml", "1..0")
    return ("'1..0'", "pyproject.toml")


def _disagree(project: Path) -> tuple[str, ...]:
    set_version(project, INIT, "1.1.0")
    git(project, "tag", "--annotate", "-m", "Release 1.3.0", "v1.3.0")
    return ("disagree", "1.1.0")


def _huge_fragment(project: Path) -> tuple[str, ...]:
    write_fragments(project, {"14.feature.md": "x" * (1 << 20)})
    return ("changelog.d/14.feature.md",)


PREPARED: dict[str, Callable[[Path], tuple[str, ...]]] = {
    "malformed-version-file": _malformed_file,
    "disagreeing-locations": _disagree,
    "huge-fragment": _huge_fragment,
}


@pytest.mark.parametrize("case", sorted(PREPARED))
def test_release_run_refuses_bad_input_with_exit_2(project: Path, cli: CLI, case: str) -> None:
    names = PREPARED[case](project)
    before = tree_state(project, remote_of(project))
    result = cli("run", "--yes", cwd=project)
    assert tree_state(project, remote_of(project)) == before
    assert_usage_error(result, *names)


@pytest.mark.parametrize("value", ["1..0", "1.0.0-SNAPSHOT", "1.3.0+abc"])
def test_release_run_refuses_a_bad_requested_version(project: Path, cli: CLI, value: str) -> None:
    before = tree_state(project, remote_of(project))
    result = cli("run", "--yes", value, cwd=project)
    assert tree_state(project, remote_of(project)) == before
    assert_usage_error(result, value)


# --- fragments: 1 MB of text, 10,000 files, a directory outside the project --------------------


def test_a_fragment_of_one_megabyte(project: Path, run_inprocess: CLI) -> None:
    text = "All work and no play. " * ((1 << 20) // 22 + 1)
    write_fragments(project, {"14.feature.md": text})
    before = tree_state(project, remote_of(project))
    for command in (("preview",), ("preview", "--json"), ("check",), ("changelog",)):
        result = run_inprocess(*command, cwd=project)
        shown = assert_usage_error(result, "changelog.d/14.feature.md", "bytes", "65536")
        assert "Shorten it" in shown  # the fix
        assert len(shown) < 10_000, "the fragment's text was echoed"
        assert "All work and no play" not in shown
    assert tree_state(project, remote_of(project)) == before


def test_ten_thousand_fragments(sample_copy: Callable[..., Path], cli: CLI,
                                record_property: Callable[[str, object], None]) -> None:
    """10,000 fragments: preview finishes, lists each entry once in the changelog section and
    keeps everything else short. The time is recorded (junit property ``preview_seconds``)
    and printed, not asserted: the benchmark (bench/) owns the budget."""
    project = sample_copy()
    git(project, "config", "gc.auto", "0")  # no background gc while the test reads files
    types = ("feature", "bugfix", "doc", "misc")
    count = 10_000
    directory = project / "changelog.d"
    for i in range(count):
        (directory / f"{1000 + i}.{types[i % 4]}.md").write_text(f"Change {i}.\n",
                                                                encoding="utf-8")
    commit_all(project, "Add 10,000 fragments")
    before = tree_state(project, remote_of(project))

    start = time.perf_counter()
    result = cli("preview", cwd=project)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    as_json = cli("preview", "--json", cwd=project)
    json_seconds = time.perf_counter() - start
    record_property("preview_seconds", round(seconds, 3))
    record_property("preview_json_seconds", round(json_seconds, 3))
    print(f"\n10,000 fragments: preview {seconds:.2f} s, preview --json {json_seconds:.2f} s")

    assert result.code == 0, result.stdout[-2000:] + result.stderr
    assert as_json.code == 0, as_json.stderr
    lines = result.stdout.splitlines()
    # The changelog section names each non-misc entry once (misc entries are listed by issue
    # only); everything around it stays short.
    section_start = next(i for i, ln in enumerate(lines) if ln.startswith("Changelog section"))
    section_end = next(i for i, ln in enumerate(lines) if ln == "Steps:")
    around = lines[:section_start] + lines[section_end:]
    assert len(around) < 100, "\n".join(around[:200])
    assert any(re.fullmatch(r"  \.\.\. and 2490 more \(--json lists all\)", ln) for ln in around)
    assert any(ln.startswith("Fragments consumed (10000):") and ln.endswith(" ...")
               for ln in around)
    section = "\n".join(lines[section_start:section_end])
    for i in (0, 1, 2, 4_997, 9_998):
        assert section.count(f"Change {i}.") == 1, i
    assert len(lines) < count + 200
    plan = json.loads(as_json.stdout)["plan"]
    assert len(plan["consumed_fragments"]) == count
    assert plan["version"] == "1.3.0"
    assert tree_state(project, remote_of(project)) == before


def test_a_fragment_directory_outside_the_project(project: Path, cli: CLI,
                                                  run_inprocess: CLI) -> None:
    outside = project.parent / "elsewhere"
    outside.mkdir()
    (outside / "14.feature.md").write_text("From outside.\n", encoding="utf-8")
    set_towncrier_config(project, """
[tool.towncrier]
directory = "../elsewhere"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"
""")
    before = tree_state(project, remote_of(project))
    for command in (("preview",), ("check",), ("changelog",), ("run", "--yes")):
        result = (cli if command[0] == "run" else run_inprocess)(*command, cwd=project)
        if command[0] == "run":
            assert result.code in (1, 2), result.stderr  # see test_release_run_refuses_...
            assert "outside the project" in result.stderr
            continue
        text = assert_usage_error(result, str(outside), "outside the project")
        assert "directory" in text
        assert "From outside." not in text
    assert tree_state(project, remote_of(project)) == before


# --- repository states, through release run ------------------------------------------------------


@pytest.mark.parametrize("state", ["detached-head", "shallow-clone", "missing-remote"])
def test_release_run_in_a_bad_repository_state_changes_nothing(
    project: Path, cli: CLI, tmp_path: Path, state: str
) -> None:
    """test_check.py covers what `release check` says; `release run` must refuse the same
    way (a failed check: exit 1, the problem listed) before touching anything."""
    where, remote, code = project, remote_of(project), "detached-head"
    if state == "detached-head":
        git(project, "checkout", "--quiet", "--detach")
    elif state == "shallow-clone":
        where = tmp_path / "shallow"
        git(tmp_path, "clone", "--quiet", "--depth", "1", remote.as_uri(), str(where))
        code = "shallow"
    else:
        git(project, "remote", "remove", "origin")
        code = "remote"
    before = tree_state(where, remote)
    result = cli("run", "--yes", cwd=where)
    text = result.stdout + result.stderr
    assert result.code == 1, text
    assert "Traceback" not in text
    assert f"[{code}]" in text
    assert "nothing was changed" in text
    assert tree_state(where, remote) == before


# --- unsafe values that reach git: never a command, never an option ------------------------------


@pytest.mark.parametrize(
    "template",
    ["v{version};touch {marker}", "v{version}$(touch {marker})", "v{version}`touch {marker}`",
     "-{version}", "--upload-pack=touch {marker} {version}"],
    ids=["semicolon", "dollar-paren", "backtick", "leading-dash", "option"],
)
@pytest.mark.parametrize("source", ["environment", "command-line"])
def test_unsafe_tag_format_through_release_run_runs_nothing(
    project: Path, cli: CLI, tmp_path: Path, template: str, source: str
) -> None:
    """test_config.py proves preview and check refuse these; the release itself must too."""
    marker = tmp_path / "INJECTED"
    value = template.replace("{marker}", str(marker))
    before = tree_state(project, remote_of(project))
    if source == "environment":
        result = cli("run", "--yes", cwd=project, env={"RELEASE_PIPELINE_TAG_FORMAT": value})
        named = "RELEASE_PIPELINE_TAG_FORMAT"
    else:
        result = cli("-c", f"tag-format={value}", "run", "--yes", cwd=project)
        named = "command line"
    assert_usage_error(result, "tag-format", named)
    assert not marker.exists(), "a command in tag-format was run"
    assert tree_state(project, remote_of(project)) == before


@pytest.mark.parametrize(
    ("key", "value"),
    [("remote", "--upload-pack=touch {marker}"), ("remote", "-oProxyCommand=touch {marker}"),
     ("dist-dir", "../outside"), ("dist-dir", "/tmp/absolute"), ("dist-dir", ".git/objects")],
)
def test_unsafe_remote_and_dist_dir_are_refused(
    project: Path, cli: CLI, tmp_path: Path, key: str, value: str
) -> None:
    marker = tmp_path / "INJECTED"
    value = value.replace("{marker}", str(marker))
    set_release_config(project, f"{key} = {json.dumps(value)}")
    before = tree_state(project, remote_of(project))
    for command in (("check",), ("run", "--yes")):
        text = assert_usage_error(cli(*command, cwd=project), f"`{key}`", repr(value),
                                  "pyproject.toml")
        assert "hint:" in text
    assert not marker.exists()
    assert tree_state(project, remote_of(project)) == before


@pytest.mark.parametrize("where", ["parent", "absolute"])
def test_a_version_location_outside_the_project_is_refused(
    project: Path, cli: CLI, tmp_path: Path, where: str
) -> None:
    """A release edits and commits its version locations; a file outside the repository can
    be neither committed nor restored by abort, so it must be refused like `dist-dir`."""
    outside = project.parent / "VERSION" if where == "parent" else tmp_path / "elsewhere.txt"
    outside.write_text("1.2.0\n", encoding="utf-8")
    value = "../VERSION" if where == "parent" else str(outside)
    set_release_config(project, f'version-locations = ["pyproject.toml", {json.dumps(value)}]')
    before = tree_state(project, remote_of(project))
    for command in (("check",), ("preview",), ("run", "--yes")):
        result = cli(*command, cwd=project)
        assert outside.read_text(encoding="utf-8") == "1.2.0\n", (
            f"`release {' '.join(command)}` rewrote {outside}, outside the project")
        assert tree_state(project, remote_of(project)) == before
        assert_usage_error(result, "version-locations", value)


def test_shell_syntax_in_messages_is_only_text(project: Path, cli: CLI, tmp_path: Path) -> None:
    """Commit and tag messages may say anything; they are arguments, never shell."""
    marker = tmp_path / "INJECTED"
    message = f"Release {{version}} $(touch {marker}) `touch {marker}`; touch {marker}"
    set_release_config(project, f"commit-message = {json.dumps(message)}\n"
                                f"tag-message = {json.dumps('-' + message)}")
    result = cli("run", "--yes", "--until", "tag", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert not marker.exists(), "a command in a message was run"
    expected = message.format(version="1.3.0")
    assert git(project, "log", "-1", "--format=%B").strip() == expected
    tag = git(project, "for-each-ref", "--format=%(contents)", "refs/tags/v1.3.0").strip()
    assert tag == "-" + expected
    assert problem_codes(result.stdout) == []
