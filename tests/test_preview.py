"""`release preview` on real sample projects with a real bare remote.

Golden files live in tests/golden/; rerun with UPDATE_GOLDEN=1 to rewrite them after an
intended change, and review the diff.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    CLI,
    FRAGMENTS,
    assert_usage_error,
    check_golden,
    git,
    normalise,
    remote_of,
    write_fragments,
)
from packaging.version import Version

from release import render

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]


#: The stage names of DESIGN.md, in order (they are part of the interface).
STAGE_ORDER = ("check", "prepare", "tag", "build", "verify", "push", "publish", "announce", "post")


def _ids(value: object) -> str | None:
    return (" ".join(value) or "(none)") if isinstance(value, list) else None


# --- the next version for each project layout ------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "edited"),
    [
        ("hatchling", ["pyproject.toml", "src/sample_project/__init__.py", "CHANGELOG.md"]),
        ("setuptools", ["pyproject.toml", "src/sample_project/__init__.py", "CHANGELOG.md"]),
        ("flit", ["src/sample_project/__init__.py", "CHANGELOG.md"]),
    ],
)
def test_preview_plans_next_version_for_layout(
    sample: Callable[..., Path], run_inprocess: CLI, layout: str, edited: list[str]
) -> None:
    project = sample(layout, version="2.4.1", fragments=FRAGMENTS)
    result = run_inprocess("preview", "--json", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert (plan["current_version"], plan["version"], plan["tag"]) == ("2.4.1", "2.5.0", "v2.5.0")
    assert plan["previous_tag"] == "v2.4.1"
    assert [e["path"] for e in plan["edits"]] == edited
    for edit in plan["edits"]:
        if edit["path"] != "CHANGELOG.md":
            assert "-" in edit["diff"], edit["diff"]
            assert '2.5.0"' in edit["diff"], edit["diff"]


def test_preview_hatch_vcs_takes_current_version_from_the_last_release_tag(
    sample: Callable[..., Path], run_inprocess: CLI
) -> None:
    project = sample("hatch-vcs", version="2.0.1", fragments={"7.bugfix.md": "Fix it."})
    git(project, "tag", "v2.0.3")  # a later release, lightweight tag on HEAD
    git(project, "tag", "v1.9.9")  # an older one
    git(project, "tag", "nightly")  # not a release tag
    result = run_inprocess("preview", "--json", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["current_version"] == "2.0.3"
    assert plan["version_sources"] == [
        {
            "location": "scm (last release tag)",
            "value": "2.0.3",
            "why": "v2.0.3 is the nearest release tag reachable from HEAD",
        }
    ]
    assert (plan["version"], plan["previous_tag"]) == ("2.0.4", "v2.0.3")
    # The version lives in tags only: no file gets a version edit, only the changelog.
    assert [e["path"] for e in plan["edits"]] == ["CHANGELOG.md"]


# --- golden snapshots ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["hatchling", "setuptools", "flit"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_preview_matches_golden(
    sample: Callable[..., Path], cli: CLI, tmp_path: Path, layout: str, as_json: bool
) -> None:
    project = sample(
        layout,
        fragments={
            "101.feature.md": "Add `sample --json`, which prints results for machines.",
            "102.bugfix.md": "Fix a crash when the input file is empty.",
            "103.doc.md": "Document the configuration file.",
            "104.misc.md": "",
        },
    )
    result = cli("preview", *(["--json"] if as_json else []), cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    shown = result.stdout
    if as_json:  # one line into a pipe; the golden file holds it indented, to review
        assert shown.count("\n") == 1
        shown = json.dumps(json.loads(shown), indent=2) + "\n"
    suffix = "json" if as_json else "txt"
    check_golden(f"preview-{layout}.{suffix}", normalise(shown, tmp_path))


# --- preview changes nothing ---------------------------------------------------------------


def _hash_tree(root: Path, *, skip: Callable[[Path], bool] = lambda p: False) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if skip(path.relative_to(root)):
                continue
            if path.is_symlink():
                hashes[rel] = "link:" + os.readlink(path)
            else:
                hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def world_state(project: Path) -> dict[str, object]:
    """Everything preview must leave alone: HEAD, refs, status, files, the remote."""
    remote = remote_of(project)
    return {
        "HEAD": git(project, "rev-parse", "HEAD"),
        "HEAD ref": git(project, "symbolic-ref", "-q", "HEAD"),
        "refs": git(project, "for-each-ref", "--format=%(refname) %(objectname)"),
        "status": git(project, "status", "--porcelain", "--untracked-files=all", "--ignored"),
        "stash": git(project, "stash", "list"),
        "work tree": _hash_tree(project, skip=lambda rel: rel.parts[0] == ".git"),
        # .git/index is left out: `git status` (which we also run) may refresh its stat data.
        "git dir": _hash_tree(project / ".git", skip=lambda rel: rel.as_posix() == "index"),
        "remote refs": git(remote, "for-each-ref", "--format=%(refname) %(objectname)"),
        "remote files": _hash_tree(remote),
    }


@pytest.mark.parametrize(
    "command",
    [
        ["preview"],
        ["preview", "--json"],
        ["preview", "major", "--pre", "rc"],
        ["check"],
        ["changelog"],
        ["version", "--next"],
    ],
    ids=_ids,
)
def test_preview_changes_nothing(sample: Callable[..., Path], cli: CLI, command: list[str]) -> None:
    project = sample(fragments=FRAGMENTS)
    # An uncommitted fragment, as a user would have while writing it.
    write_fragments(project, {"14.feature.md": "Not committed yet."}, commit=False)
    before = world_state(project)
    result = cli(*command, cwd=project)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code in (0, 1), result.stdout + result.stderr  # 1: the dirty-tree check
    after = world_state(project)
    for key, value in before.items():
        assert after[key] == value, f"{' '.join(command)} changed {key}"


def test_preview_does_not_rewrite_the_git_index(project: Path, cli: CLI) -> None:
    """A read-only command takes no git locks (git --no-optional-locks / GIT_OPTIONAL_LOCKS=0),
    so it neither rewrites .git/index nor races with a git command the user runs meanwhile."""
    index = project / ".git" / "index"
    before = index.stat().st_mtime_ns, hashlib.sha256(index.read_bytes()).hexdigest()
    result = cli("preview", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert not (project / ".git" / "index.lock").exists()
    after = index.stat().st_mtime_ns, hashlib.sha256(index.read_bytes()).hexdigest()
    assert after == before, ".git/index was rewritten by `release preview`"


# --- requests: levels, post, explicit versions, pre-releases ----------------------------------


@pytest.mark.parametrize(
    ("args", "expected", "bump"),
    [
        (["major"], "2.0.0", "major"),
        (["minor"], "1.3.0", "minor"),
        (["patch"], "1.2.1", "patch"),
        (["post"], "1.2.0.post1", "post"),
        (["1.5.0"], "1.5.0", None),
        (["--pre", "rc"], "1.3.0rc1", "minor"),  # the level comes from the feature fragment
        (["major", "--pre", "beta"], "2.0.0b1", "major"),
    ],
    ids=_ids,
)
def test_preview_request(
    project: Path, run_inprocess: CLI, args: list[str], expected: str, bump: str | None
) -> None:
    result = run_inprocess("preview", "--json", *args, cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["version"] == expected
    assert plan["bump"] == bump
    assert plan["tag"] == f"v{expected}"
    assert plan["is_prerelease"] == Version(expected).is_prerelease


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--final"], "1.3.0"), (["--pre", "rc"], "1.3.0rc2"), (["--pre", "beta"], None)],
    ids=_ids,
)
def test_preview_on_a_prerelease(
    sample: Callable[..., Path], cli: CLI, args: list[str], expected: str | None
) -> None:
    project = sample(version="1.3.0rc1", fragments={"7.bugfix.md": "Fix the rc."})
    result = cli("preview", "--json", *args, cwd=project)
    if expected is None:  # going back from rc to beta would lower the version
        assert_usage_error(result, "1.3.0rc1", "beta")
        return
    assert result.code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert (plan["current_version"], plan["version"]) == ("1.3.0rc1", expected)
    assert plan["previous_tag"] == "v1.3.0rc1"


def test_explicit_version_lower_than_current_is_refused(project: Path, cli: CLI) -> None:
    result = cli("preview", "1.1.0", cwd=project)
    both = assert_usage_error(result, "1.1.0", "1.2.0")
    assert "not greater than the current version" in both


def test_explicit_version_equal_to_current_is_refused(project: Path, cli: CLI) -> None:
    result = cli("preview", "1.2.0", cwd=project)
    assert_usage_error(result, "1.2.0", "current version")


def test_explicit_version_lower_than_a_release_tag_is_refused(project: Path, cli: CLI) -> None:
    git(project, "tag", "-a", "-m", "Release 1.4.0", "v1.4.0")
    result = cli("preview", "1.3.0", cwd=project)
    both = assert_usage_error(result, "1.3.0", "1.4.0")
    assert "already tagged" in both


def test_explicit_version_with_a_local_label_is_refused(project: Path, cli: CLI) -> None:
    result = cli("preview", "1.3.0+local", cwd=project)
    assert_usage_error(result, "1.3.0+local", "local")


def test_malformed_explicit_version_is_refused(project: Path, cli: CLI) -> None:
    result = cli("preview", "one.two", cwd=project)
    assert_usage_error(result, "'one.two'", "PEP 440")


# --- JSON ----------------------------------------------------------------------------------


def test_preview_json_shape_and_stage_order(project: Path, cli: CLI) -> None:
    result = cli("-c", "next-dev=true", "preview", "--json", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1, "one line into a pipe"
    assert {"schema", "schema_version", "plan", "problems"} <= set(data)
    assert data["schema"] == "release-pipeline/preview"
    assert isinstance(data["schema_version"], int)
    assert data["problems"] == []
    plan = data["plan"]
    assert plan["version"] == "1.3.0"
    assert plan["next_dev_version"] == "1.3.1.dev0"
    stages = [step["stage"] for step in plan["steps"]]
    assert set(stages) <= set(STAGE_ORDER), stages
    assert stages == sorted(stages, key=STAGE_ORDER.index), stages
    assert stages[0] == "check"
    assert {"prepare", "tag", "build", "push", "post"} <= set(stages)
    for step in plan["steps"]:
        assert {"stage", "name", "summary", "command"} <= set(step)
        assert isinstance(step["command"], list)


def test_preview_json_lists_problems_with_exit_codes(project: Path, cli: CLI) -> None:
    (project / "untracked.txt").write_text("x", encoding="utf-8")
    result = cli("preview", "--json", cwd=project)
    assert result.code == 1
    data = json.loads(result.stdout)
    assert data["plan"]["version"] == "1.3.0"  # the plan is still shown
    [problem] = data["problems"]
    assert problem["code"] == "dirty-tree"
    assert "untracked.txt" in problem["message"]
    assert problem["exit_code"] == 1


def test_preview_into_a_closed_pipe_has_no_traceback(project: Path) -> None:
    """`release preview | head -1`: the reader goes away before the plan is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "release", "preview"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even started writing
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=30)
    assert "Traceback" not in stderr, stderr
    assert "BrokenPipeError" not in stderr, stderr


# --- release version -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "version"),
    [("hatchling", "1.2.0"), ("setuptools", "3.1.4"), ("flit", "0.9.0"), ("hatch-vcs", "2.0.1")],
)
def test_version_prints_the_current_version(
    sample: Callable[..., Path], cli: CLI, layout: str, version: str
) -> None:
    project = sample(layout, version=version, fragments=FRAGMENTS)
    result = cli("version", cwd=project)
    assert (result.code, result.stdout, result.stderr) == (0, f"{version}\n", "")


def test_version_of_hatch_vcs_follows_new_tags(sample: Callable[..., Path], cli: CLI) -> None:
    project = sample("hatch-vcs", version="2.0.1")
    git(project, "tag", "-a", "-m", "Release 2.1.0", "v2.1.0")
    result = cli("version", cwd=project)
    assert (result.code, result.stdout) == (0, "2.1.0\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "1.3.0"),
        (["major"], "2.0.0"),
        (["--pre", "alpha"], "1.3.0a1"),
        (["2.0.0rc1"], "2.0.0rc1"),
    ],
    ids=_ids,
)
def test_version_next(project: Path, cli: CLI, args: list[str], expected: str) -> None:
    result = cli("version", "--next", *args, cwd=project)
    assert (result.code, result.stdout, result.stderr) == (0, f"{expected}\n", "")


def test_version_next_refuses_a_lower_version(project: Path, cli: CLI) -> None:
    result = cli("version", "--next", "1.0.0", cwd=project)
    assert result.stdout == ""
    assert_usage_error(result, "1.0.0", "1.2.0")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_is_indented_on_a_terminal_only() -> None:
    data = {"plan": {"version": "1.0", "steps": [1, 2]}, "ok": True}
    assert render.json_text(data, io.StringIO()) == json.dumps(data) + "\n"
    shown = render.json_text(data, _Terminal())
    assert shown.startswith('{\n  "plan": {\n    "version": "1.0",')
    assert json.loads(shown) == data
