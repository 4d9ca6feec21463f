"""Steps the project declares (``[[tool.release.steps]]``) on real repositories: validated
like every table, previewed, run in their stage's place, journaled, resumed after a failure,
undone by abort, skipped by ``done-if``, refused when they change a file outside their
``paths``, and masked like every command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import (
    assert_exit,
    assert_no_release_left,
    bare_refs,
    both,
    commit_all,
    git,
    read_journal,
    remote_of,
    rev,
    run_release,
    snapshot,
    step_shown,
)

from release import config
from release.errors import ConfigError

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

PY = sys.executable


def python(code: str) -> list[str]:
    """The argv of a user step running ``code`` with this interpreter."""
    return [PY, "-c", code]


def declare(project: Path, *steps: dict[str, object], commit: bool = True) -> None:
    """Append ``[[tool.release.steps]]`` tables to the project's pyproject.toml."""
    lines: list[str] = []
    for step in steps:
        lines.append("\n[[tool.release.steps]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in step.items()]
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")
    if commit:
        commit_all(project, "Declare release steps")


# --- configuration ------------------------------------------------------------------------


def load(tmp_path: Path, *steps: dict[str, object]) -> config.Config:
    tables = "".join(
        "\n[[tool.release.steps]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in s.items())
        for s in steps
    )
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nversion = "1.0"\n{tables}', encoding="utf-8"
    )
    return config.load(tmp_path, environ={})


def test_a_declared_step_is_read_with_its_defaults(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        {"name": "lock", "stage": "prepare", "run": ["uv", "lock"], "paths": ["uv.lock"]},
        {"name": "notify", "stage": "post", "run": "echo released | wall", "shell": True},
    )
    lock, notify = cfg.user_steps
    assert lock == config.UserStep("lock", "prepare", ("uv", "lock"), False, (), ("uv.lock",))
    assert notify.argv(notify.run) == ("sh", "-c", "echo released | wall")
    assert config.show_value(lock) == (
        '{ name = "lock", stage = "prepare", run = ["uv", "lock"], paths = ["uv.lock"] }'
    )
    assert config.UserStep.from_dict(notify.as_dict("_")) == notify


@pytest.mark.parametrize(
    ("step", "says"),
    [
        ({"name": "a", "stage": "prepare", "run": ["x"], "done_if": ["y"]},
         "unknown key `done_if`. Did you mean 'done-if'?"),
        ({"name": "a", "stage": "prepar", "run": ["x"]}, "Did you mean 'prepare'?"),
        ({"name": "a", "stage": "prepare"}, "a step needs `run`"),
        ({"name": "a b", "stage": "prepare", "run": ["x"]}, "is not a usable id"),
        ({"name": "a", "stage": "prepare", "run": "uv lock"}, "a non-empty list of arguments"),
        ({"name": "a", "stage": "prepare", "run": []}, "a non-empty list of arguments"),
        ({"name": "a", "stage": "prepare", "run": ["x"], "shell": True}, "a shell command line"),
        ({"name": "a", "stage": "prepare", "run": ["x"], "paths": ["../x"]},
         "not a path inside the project"),
        ({"name": "a", "stage": "prepare", "run": ["x"], "paths": "x"}, "a list of strings"),
    ],
)
def test_a_wrong_step_is_refused_naming_the_key(
    tmp_path: Path, step: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, step)
    assert says in str(caught.value)


def test_two_steps_with_one_name_are_refused(tmp_path: Path) -> None:
    step = {"name": "a", "stage": "check", "run": ["x"]}
    with pytest.raises(ConfigError, match="two steps are named 'a'"):
        load(tmp_path, step, step)


# --- preview ------------------------------------------------------------------------------


def test_preview_shows_the_steps_in_their_stages(project: Path) -> None:
    declare(
        project,
        {"name": "lint", "stage": "check", "run": ["nox", "-s", "lint"]},
        {"name": "lock", "stage": "prepare", "run": ["uv", "lock"], "paths": ["uv.lock"]},
        {"name": "notes", "stage": "build", "run": "echo $VERSION > notes", "shell": True,
         "done-if": "test -f notes"},
    )
    before = git(project, "status", "--porcelain")
    result = run_release(project, "preview")
    text = assert_exit(result, 0)
    steps = [line.split(". ", 1)[1] for line in result.stdout.splitlines()
             if line[:5].strip().rstrip(".").isdigit()]
    assert steps[:2] == ["check    check every release gate", "check    lint: nox -s lint"]
    assert "prepare  lock: uv lock (may change uv.lock)" in steps
    # After the edits and the changelog, before the release commit.
    assert steps.index("prepare  lock: uv lock (may change uv.lock)") == steps.index(
        next(s for s in steps if s.startswith("prepare  commit:"))) - 1
    assert steps[steps.index("build    build the sdist and wheel of v1.3.0 into dist/") + 1] == (
        "build    notes: echo $VERSION > notes")
    assert git(project, "status", "--porcelain") == before, text

    plan = json.loads(run_release(project, "preview", "--json").stdout)["plan"]
    by_id = {s["id"]: s for s in plan["steps"]}
    assert by_id["prepare.user:lock"]["command"] == ["uv", "lock"]
    assert by_id["build.user:notes"]["command"] == ["sh", "-c", "echo $VERSION > notes"]
    assert "uv.lock" in by_id["prepare.commit"]["command"]
    assert plan["user_steps"][2] == {"name": "notes", "stage": "build",
                                     "run": "echo $VERSION > notes", "shell": True,
                                     "done_if": "test -f notes", "paths": []}


# --- run ------------------------------------------------------------------------------------


def test_run_runs_them_in_order_and_commits_the_prepare_changes(project: Path) -> None:
    declare(
        project,
        {"name": "gate", "stage": "check", "run": python("print('gate passed')")},
        {"name": "lock", "stage": "prepare",
         "run": python("import os, pathlib; pathlib.Path('uv.lock').write_text("
                       "'locked ' + os.environ['RELEASE_VERSION'] + ' ' + os.environ['RELEASE_TAG']"
                       " + ' after ' + os.environ['RELEASE_PREVIOUS_VERSION'])"),
         "paths": ["uv.lock", "README.md"]},
        {"name": "readme", "stage": "prepare",
         "run": python("import pathlib; p = pathlib.Path('README.md'); "
                       "p.write_text(p.read_text() + 'Released.\\n')"),
         "paths": ["README.md"]},
        {"name": "after-tag", "stage": "tag", "run": python("print('tagged')")},
    )
    result = run_release(project, "run", "--yes", "--until", "tag")
    text = assert_exit(result, 0)
    done = [line for line in result.stdout.splitlines() if line.startswith("  done")]
    shown = [n for line in done for n in ("gate", "lock", "readme", "after-tag")
             if f" {n}: " in line]
    assert shown == ["gate", "lock", "readme", "after-tag"], text
    ids = list(read_journal(project)["steps"])
    assert ids.index("check.user:gate") == 1
    assert ids.index("prepare.user:lock") < ids.index("prepare.user:readme") < ids.index(
        "prepare.commit") < ids.index("tag.tag") < ids.index("tag.user:after-tag")
    committed = git(project, "show", "--name-only", "--format=", "v1.3.0").split()
    assert {"uv.lock", "README.md", "pyproject.toml", "CHANGELOG.md"} <= set(committed)
    assert git(project, "show", "v1.3.0:README.md").endswith("Released.\n")
    assert git(project, "show", "v1.3.0:uv.lock") == "locked 1.3.0 v1.3.0 after 1.2.0"
    assert git(project, "status", "--porcelain") == ""


def test_done_if_skips_the_step(project: Path) -> None:
    declare(project, {"name": "once", "stage": "prepare", "run": python("raise SystemExit(5)"),
                      "done-if": python("raise SystemExit(0)")})
    result = run_release(project, "run", "--yes", "--until", "prepare")
    text = assert_exit(result, 0)
    assert step_shown(result.stdout, "already done", "prepare", "once:"), text


def test_a_change_outside_its_paths_stops_the_release_naming_the_file(project: Path) -> None:
    declare(project, {"name": "gen", "stage": "prepare",
                      "run": python("import os, pathlib; pathlib.Path('gen.txt').write_text('x'); "
                                    "os.environ.get('FIXED') or "
                                    "pathlib.Path('stray.txt').write_text('y')"),
                      "paths": ["gen.txt"]})
    result = run_release(project, "run", "--yes", "--until", "tag")
    text = assert_exit(result, 1)
    assert "Step prepare.user:gen failed" in text
    assert "changed files outside the step's `paths` (gen.txt): stray.txt" in text
    assert "left as they are" in text
    assert (project / "stray.txt").read_text() == "y"  # for the user to inspect
    assert read_journal(project)["steps"]["prepare.user:gen"] == "failed"
    assert git(project, "log", "-1", "--format=%s").strip() != "Release 1.3.0"

    (project / "stray.txt").unlink()
    result = run_release(project, "resume", "--until", "tag", env={"FIXED": "1"})
    assert_exit(result, 0)
    assert "gen.txt" in git(project, "show", "--name-only", "--format=", "v1.3.0").split()


def test_a_step_that_commits_is_refused(project: Path) -> None:
    declare(project, {"name": "sneaky", "stage": "prepare", "shell": True,
                      "run": "git commit --quiet --allow-empty -m sneaky"})
    start = rev(project, "HEAD")
    text = assert_exit(run_release(project, "run", "--yes", "--until", "prepare"), 1)
    assert "moved HEAD" in text
    assert f"git reset --soft {str(start)[:12]}" in text
    git(project, "reset", "--soft", str(start))
    # The commit is undone; the same command would commit again, so abort instead.
    assert_exit(run_release(project, "abort", "--yes"), 0)
    assert rev(project, "HEAD") == start
    assert_no_release_left(project)


# --- a failing step: resume, abort -----------------------------------------------------------


def failing_until(flag: Path) -> dict[str, object]:
    """A prepare step that writes gen.txt, prints 30 lines and fails until ``flag`` exists."""
    return {"name": "gen", "stage": "prepare", "shell": True, "paths": ["gen.txt"],
            "run": 'echo partial > gen.txt; test -f "$FLAG" && echo fixed > gen.txt && exit 0; '
                   'for i in $(seq 1 30); do echo "line $i"; done; exit 3'}


def test_a_failing_step_stops_with_its_last_lines_and_resume_finishes(
    project: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "fixed"
    declare(project, failing_until(flag))
    start = rev(project, "HEAD")
    remote = bare_refs(remote_of(project))
    result = run_release(project, "run", "--yes", env={"FLAG": str(flag)})
    text = assert_exit(result, 1)
    assert "Step prepare.user:gen failed" in text
    assert "exited with status 3" in text
    assert "(the last 20 of 30 lines)" in text
    assert "line 11\n" in text
    assert "line 30" in text
    assert "line 10\n" not in text
    assert "`sh -c 'echo partial > gen.txt; " in text  # the exact command
    assert "release resume" in text
    assert "release abort" in text
    journal = read_journal(project)
    assert journal["steps"]["prepare.user:gen"] == "failed"
    assert journal["steps"]["prepare.commit"] == "pending"
    assert rev(project, "HEAD") == start
    assert bare_refs(remote_of(project)) == remote

    flag.write_text("")
    result = run_release(project, "resume", env={"FLAG": str(flag)})
    assert_exit(result, 0)
    assert git(project, "show", "v1.3.0:gen.txt") == "fixed\n"
    assert set(read_journal(project)["steps"].values()) == {"done"}
    assert bare_refs(remote_of(project))["refs/tags/v1.3.0"] == rev(project, "refs/tags/v1.3.0")


def test_abort_undoes_what_a_failing_step_did(project: Path, tmp_path: Path) -> None:
    declare(project, failing_until(tmp_path / "never"),
            {"name": "readme", "stage": "prepare", "paths": ["README.md"],
             "run": python("import pathlib; pathlib.Path('README.md').write_text('changed')")})
    before = snapshot(project)
    # The readme step is after gen, so move it first: run until gen fails, then abort.
    result = run_release(project, "run", "--yes", env={"FLAG": str(tmp_path / "never")})
    assert_exit(result, 1)
    assert (project / "gen.txt").exists()
    result = run_release(project, "abort", "--yes")
    text = assert_exit(result, 0)
    assert "gen.txt" in text
    assert snapshot(project) == before
    assert_no_release_left(project)


def test_abort_after_the_release_commit_undoes_the_step_changes(project: Path) -> None:
    declare(project, {"name": "readme", "stage": "prepare", "paths": ["README.md", "new.txt"],
                      "run": python("import pathlib; pathlib.Path('README.md').write_text('x');"
                                    "pathlib.Path('new.txt').write_text('y')")})
    before = snapshot(project)
    assert_exit(run_release(project, "run", "--yes", "--until", "tag"), 0)
    assert {"README.md", "new.txt"} <= set(
        git(project, "show", "--name-only", "--format=", "HEAD").split())
    assert_exit(run_release(project, "abort", "--yes"), 0)
    assert snapshot(project) == before
    assert_no_release_left(project)


# --- secrets ---------------------------------------------------------------------------------


TOKEN = "ghp_T0k/en+x@y:z%3D?a&b=c#d~!"


def test_a_step_printing_a_token_is_masked(project: Path) -> None:
    """The GitHub token the announce stage reads, echoed by a check step that fails: masked
    in the output and in the journal's error, raw and URL-encoded."""
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text(encoding="utf-8")
        + '\n[tool.release.forge]\nkind = "github"\nrepository = "owner/sample"\n',
        encoding="utf-8")
    declare(project, {"name": "leak", "stage": "check", "shell": True,
                      "run": 'echo "token=$GITHUB_TOKEN"; echo "$GITHUB_TOKEN" >&2; exit 1'})
    result = run_release(project, "run", "--yes", "--until", "prepare",
                         env={"GITHUB_TOKEN": TOKEN})
    text = assert_exit(result, 1)
    assert "token=***" in text
    journal = (project / ".git" / "release-pipeline" / "journal.json").read_text()
    for form in (TOKEN, quote(TOKEN, safe=""), quote(TOKEN)):
        assert form not in text
        assert form not in journal
    assert "Step check.user:leak failed" in both(result)
