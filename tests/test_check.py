"""`release check`: every preflight gate on real repositories with a real bare remote.

Exit 1 when a gate fails (the problems are all listed), 2 for bad input, never a traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    CLI,
    Result,
    assert_usage_error,
    commit_all,
    git,
    problem_codes,
    remote_of,
    set_release_config,
)

pytestmark = pytest.mark.cached_samples


def check_fails(result: Result, *codes: str) -> str:
    """Exit 1, no traceback, and each problem code listed; returns stdout."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code == 1, f"exit {result.code}\n{result.stdout}{result.stderr}"
    listed = problem_codes(result.stdout)
    for code in codes:
        assert code in listed, f"[{code}] is not reported:\n{result.stdout}"
    return result.stdout


def push_from_second_clone(project: Path, tmp_path: Path) -> str:
    """Someone else pushes a commit to the remote's main; returns its sha."""
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "--quiet", str(remote_of(project)), str(other))
    (other / "CONTRIBUTING.md").write_text("Be kind.\n", encoding="utf-8")
    commit_all(other, "Add CONTRIBUTING.md")
    git(other, "push", "--quiet", "origin", "main")
    return git(other, "rev-parse", "HEAD").strip()


def test_clean_project_passes_every_check(project: Path, cli: CLI) -> None:
    result = cli("check", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert "Checks: all passed." in result.stdout
    assert result.stderr == ""


def test_dirty_tree_lists_the_files(project: Path, cli: CLI) -> None:
    (project / "README.md").write_text("# changed\n", encoding="utf-8")
    (project / "notes with space.txt").write_text("x\n", encoding="utf-8")
    git(project, "rm", "--quiet", "--cached", "changelog.d/13.bugfix.md")  # staged deletion
    out = check_fails(cli("check", cwd=project), "dirty-tree")
    line = next(ln for ln in out.splitlines() if "[dirty-tree]" in ln)
    for name in ("README.md", "notes with space.txt", "changelog.d/13.bugfix.md"):
        assert name in line, line


def test_ignored_files_do_not_make_the_tree_dirty(project: Path, cli: CLI) -> None:
    (project / ".gitignore").write_text("build/\n", encoding="utf-8")
    commit_all(project, "Ignore build/")
    (project / "build").mkdir()
    (project / "build" / "artifact.whl").write_bytes(b"\0")
    result = cli("check", cwd=project)
    assert result.code == 0, result.stdout


def test_detached_head(project: Path, cli: CLI) -> None:
    git(project, "checkout", "--quiet", "--detach")
    out = check_fails(cli("check", cwd=project), "detached-head")
    assert "main, master" in out  # how to fix: the allowed branches


def test_non_release_branch_names_the_allowed_branches(project: Path, cli: CLI) -> None:
    git(project, "checkout", "--quiet", "-b", "topic/x")
    out = check_fails(cli("check", cwd=project), "branch")
    assert "'topic/x'" in out
    assert "main, master" in out


def test_branch_patterns_allow_a_release_branch(project: Path, cli: CLI) -> None:
    set_release_config(project, 'branches = ["release/*"]')
    git(project, "checkout", "--quiet", "-b", "release/1.x")
    git(project, "push", "--quiet", "--set-upstream", "origin", "release/1.x")
    result = cli("check", cwd=project)
    assert result.code == 0, result.stdout + result.stderr


def test_behind_the_upstream_after_a_fetch(project: Path, cli: CLI, tmp_path: Path) -> None:
    push_from_second_clone(project, tmp_path)
    git(project, "fetch", "--quiet")
    out = check_fails(cli("check", cwd=project), "behind")
    assert "1 commit(s) behind origin/main" in out


def test_remote_ahead_without_a_fetch_is_seen_through_ls_remote(
    project: Path, cli: CLI, tmp_path: Path
) -> None:
    push_from_second_clone(project, tmp_path)
    # No fetch: the local view of origin/main is stale, so only ls-remote can tell.
    assert "behind" not in git(project, "status", "--branch", "--porcelain")
    out = check_fails(cli("check", cwd=project), "behind-remote")
    assert "origin/main" in out
    # ...and the check fetched nothing.
    assert git(project, "rev-parse", "origin/main") == git(project, "rev-parse", "HEAD")


def test_local_commits_not_yet_pushed_are_fine(project: Path, cli: CLI) -> None:
    commit_all(project, "A local commit")
    result = cli("check", cwd=project)
    assert result.code == 0, result.stdout


def test_tag_already_present_locally(project: Path, cli: CLI) -> None:
    git(project, "tag", "-a", "-m", "stale", "v1.3.0")
    out = check_fails(cli("check", cwd=project), "tag-exists")
    assert "v1.3.0" in out
    assert "git tag -d v1.3.0" in out  # how to fix it


def test_tag_present_on_the_remote_only(project: Path, cli: CLI) -> None:
    git(remote_of(project), "tag", "v1.3.0", "main")
    out = check_fails(cli("check", cwd=project), "tag-exists-remote")
    assert "v1.3.0" in out
    assert "origin" in out
    assert "tag-exists" not in problem_codes(out)  # it is not local
    assert git(project, "tag", "--list", "v1.3.0") == ""  # and it was not fetched


def test_no_fragments(sample: Callable[..., Path], cli: CLI) -> None:
    project = sample()
    out = check_fails(cli("check", "minor", cwd=project), "no-fragments")
    assert "allow-no-fragments" in out  # how to fix it


def test_allow_no_fragments_silences_the_check(sample: Callable[..., Path], cli: CLI) -> None:
    project = sample()
    set_release_config(project, "allow-no-fragments = true")
    result = cli("check", "minor", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    assert "no-fragments" not in result.stdout


def test_version_locations_disagree(project: Path, cli: CLI) -> None:
    """pyproject.toml 1.2.0, __init__.py 1.1.0, VERSION 1.2.0: exit 2 listing each one."""
    init = project / "src" / "sample_project" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace("1.2.0", "1.1.0"), encoding="utf-8")
    (project / "VERSION").write_text("1.2.0\n", encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        '"src/sample_project/__init__.py"]', '"src/sample_project/__init__.py", "VERSION"]'),
        encoding="utf-8")
    commit_all(project, "Let the versions disagree")
    for command in ("check", "version"):
        both = assert_usage_error(cli(command, cwd=project))
        line = next(ln for ln in both.splitlines() if "disagree" in ln)
        assert "pyproject.toml [project.version] = 1.2.0" in line
        assert "src/sample_project/__init__.py (__version__ = ...) = 1.1.0" in line
        assert "VERSION = 1.2.0" in line


def test_current_version_lower_than_a_release_tag(project: Path, cli: CLI) -> None:
    git(project, "tag", "-a", "-m", "Release 1.4.0", "v1.4.0")
    out = check_fails(cli("check", cwd=project), "version-below-release")
    line = next(ln for ln in out.splitlines() if "[version-below-release]" in ln)
    assert "1.2.0" in line
    assert "1.4.0" in line


def test_next_version_not_above_a_release_tag(project: Path, cli: CLI) -> None:
    git(project, "tag", "-a", "-m", "Release 1.3.5", "v1.3.5")
    out = check_fails(cli("check", cwd=project), "version-not-new")
    line = next(ln for ln in out.splitlines() if "[version-not-new]" in ln)
    assert "1.3.0" in line
    assert "1.3.5" in line


def test_shallow_clone(project: Path, cli: CLI, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1",
        remote_of(project).as_uri(), str(shallow))
    out = check_fails(cli("check", cwd=shallow), "shallow")
    assert "git fetch --unshallow" in out


@pytest.mark.parametrize("how", ["removed", "misnamed", "unreachable"])
def test_missing_remote(project: Path, cli: CLI, tmp_path: Path, how: str) -> None:
    name = "origin"
    env: dict[str, str] = {}
    if how == "removed":
        git(project, "remote", "remove", "origin")
    elif how == "misnamed":
        name = "upstream"
        env["RELEASE_PIPELINE_REMOTE"] = "upstream"
    else:
        git(project, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    out = check_fails(cli("check", cwd=project, env=env), "remote")
    line = next(ln for ln in out.splitlines() if "[remote]" in ln)
    assert f"'{name}'" in line


def test_every_problem_is_reported_at_once(
    sample: Callable[..., Path], cli: CLI
) -> None:
    project = sample()  # no fragments
    git(project, "checkout", "--quiet", "-b", "topic")
    (project / "README.md").write_text("# changed\n", encoding="utf-8")
    git(project, "tag", "-a", "-m", "stale", "v1.3.0")
    git(remote_of(project), "tag", "v1.3.0", "main")
    result = cli("check", "minor", cwd=project)
    expected = {"dirty-tree", "branch", "no-fragments", "tag-exists", "tag-exists-remote",
                "version-not-new", "version-below-release"}
    out = check_fails(result, *expected)
    assert f"Checks: {len(problem_codes(out))} problem(s):" in out
    as_json = cli("check", "minor", "--json", cwd=project)
    assert as_json.code == 1
    data = json.loads(as_json.stdout)
    assert {p["code"] for p in data["problems"]} == set(problem_codes(out))
    assert expected <= {p["code"] for p in data["problems"]}


def test_input_and_state_problems_together_exit_2(project: Path, cli: CLI) -> None:
    (project / "changelog.d" / "14.feeture.md").write_text("typo\n", encoding="utf-8")
    git(project, "checkout", "--quiet", "-b", "topic")
    result = cli("check", cwd=project)
    assert_usage_error(result, "14.feeture.md")
    codes = problem_codes(result.stdout)
    assert {"fragment", "dirty-tree", "branch"} <= set(codes), result.stdout


def test_check_outside_a_git_repository(tmp_path: Path, cli: CLI, project: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(project, plain, ignore=shutil.ignore_patterns(".git"))
    both = assert_usage_error(cli("check", cwd=plain), "not inside a git repository")
    assert str(plain) in both
