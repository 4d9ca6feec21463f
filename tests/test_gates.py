"""Release gates (``gates``) on real repositories with a real ``noxfile.py`` run by the real
nox: a failing session stops ``release run`` before anything changes, with its output;
passing gates are journaled with the tree they checked and not run again on resume; a
command gate; ``release check --gates`` reports every failing gate at once; ``release
preview`` lists them without running them (and ``--markdown`` renders the checklist).

The noxfile's sessions use ``python=False``, so nox makes no virtual environment; each
appends its name to the file ``$GATE_LOG`` (outside the repository) when it runs, and fails
when ``$GATE_FAIL`` names it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    Result,
    check_golden,
    commit_all,
    git,
    normalise,
    read_journal,
    release_command,
    remote_of,
    set_release_config,
    step_shown,
    tree_state,
)

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]

BIN = Path(sys.executable).parent

NOXFILE = """\
import os

import nox


def ran(session):
    with open(os.environ["GATE_LOG"], "a", encoding="utf-8") as log:
        log.write(session.name + "\\n")
    print(f"{session.name}: checking 3 things", flush=True)
    if session.name in os.environ.get("GATE_FAIL", "").split(","):
        print(f"{session.name}: FAILED test_one, test_two", flush=True)
        session.error(f"{session.name} found 2 failures")


@nox.session(python=False)
def lint(session):
    ran(session)


@nox.session(python=False)
def tests(session):
    ran(session)
"""

#: A command gate: fails while the file its argument names exists.
COMMAND = [sys.executable, "-c",
           "import os, sys; print('docs: building'); "
           "sys.exit(1 if os.path.exists(sys.argv[1]) else 0)"]


@pytest.fixture
def gated(sample_copy: Callable[..., Path], tmp_path: Path) -> Path:
    """The sample project (1.2.0, two fragments) with the noxfile and ``gates = ["lint",
    "tests"]``, committed and pushed."""
    project = sample_copy(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix."})
    (project / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    (project / ".gitignore").write_text(".nox/\n", encoding="utf-8")
    set_release_config(project, 'gates = ["lint", "tests"]', commit=False)
    commit_all(project, "Gate the release on the nox sessions")
    git(project, "push", "--quiet", "origin", "main")
    return project


def env_for(tmp_path: Path, fail: str = "") -> dict[str, str]:
    """nox on PATH (this environment's), the log of gate runs, and which sessions fail."""
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GATE_LOG": str(tmp_path / "gate-runs.log"),
        "GATE_FAIL": fail,
    }


def gate_runs(tmp_path: Path) -> list[str]:
    log = tmp_path / "gate-runs.log"
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def release(project: Path, tmp_path: Path, *args: str, fail: str = "",
            extra: dict[str, str] | None = None) -> Result:
    return release_command(*args, cwd=project, env={**env_for(tmp_path, fail), **(extra or {})})


def tree_hash(project: Path) -> str:
    return git(project, "rev-parse", "HEAD^{tree}").strip()


def test_a_failing_tests_session_stops_the_release_before_any_change(
    gated: Path, tmp_path: Path
) -> None:
    before = tree_state(gated, remote_of(gated))
    head = git(gated, "rev-parse", "HEAD")
    result = release(gated, tmp_path, "run", "--yes", fail="tests")
    assert result.code == 1, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]
    # The gate's own output, its status, and the command to run it by hand.
    assert "Step check.gate:tests failed: The gate 'tests' failed: `nox --non-interactive -r " \
        "--session tests` exited with status 1; its output:" in result.stderr
    assert "tests: FAILED test_one, test_two" in result.stderr
    assert "tests found 2 failures" in result.stderr
    assert "Run it by hand to see why: `nox --non-interactive -r --session tests`." \
        in result.stderr
    assert "Nothing has been pushed" in result.stderr
    assert step_shown(result.stdout, "done", "check", "gate nox session lint")
    # Nothing changed: files, refs, remote; only the journal records the stop.
    after = tree_state(gated, remote_of(gated))
    assert {k: v for k, v in after.items() if k != "<release state>"} == \
        {k: v for k, v in before.items() if k != "<release state>"}
    assert git(gated, "rev-parse", "HEAD") == head
    journal = read_journal(gated)
    assert journal["steps"]["check.gate:lint"] == "done"
    assert journal["steps"]["check.gate:tests"] == "failed"
    assert journal["steps"]["prepare.commit"] == "pending"
    assert journal["gates"]["lint"]["result"] == "passed"
    assert journal["gates"]["tests"]["result"] == "failed"
    assert journal["gates"]["tests"]["tree"] == tree_hash(gated)
    assert "tests found 2 failures" in journal["error"]


def test_passing_gates_are_journaled_and_not_run_again_on_resume(
    gated: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "docs-broken"
    marker.write_text("", encoding="utf-8")
    docs = json.dumps([*COMMAND, str(marker)])
    set_release_config(gated, f'gates = ["lint", "tests", {{ name = "docs", run = {docs} }}]')
    git(gated, "push", "--quiet", "origin", "main")
    tree = tree_hash(gated)
    result = release(gated, tmp_path, "run", "--yes", "--until", "tag")
    # The command gate failed, after both sessions passed.
    assert result.code == 1, result.stdout + result.stderr
    assert "The gate 'docs' failed:" in result.stderr
    assert "docs: building" in result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]
    journal = read_journal(gated)
    assert {n: g["result"] for n, g in journal["gates"].items()} == \
        {"lint": "passed", "tests": "passed", "docs": "failed"}
    assert all(g["tree"] == tree for g in journal["gates"].values())
    # Fixed outside the repository: resume runs only the gate that failed.
    marker.unlink()
    result = release(gated, tmp_path, "resume", "--until", "tag")
    assert result.code == 0, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]  # not run again
    assert step_shown(result.stdout, "already done", "check", "gate nox session lint")
    assert step_shown(result.stdout, "already done", "check", "gate nox session tests")
    assert step_shown(result.stdout, "done", "check", "gate docs")
    journal = read_journal(gated)
    assert {n: g["result"] for n, g in journal["gates"].items()} == \
        {"lint": "passed", "tests": "passed", "docs": "passed"}
    assert git(gated, "tag", "--points-at", "HEAD").split() == ["v1.3.0"]
    # Resumed once more after the release commit: the gates vouch for the tree the
    # release started from, so they are still done.
    result = release(gated, tmp_path, "resume", "--until", "verify")
    assert result.code == 0, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]
    assert not step_shown(result.stdout, "done", "check", "gate docs")


def test_check_gates_lists_every_failing_gate_at_once(gated: Path, tmp_path: Path) -> None:
    before = tree_state(gated, remote_of(gated))
    result = release(gated, tmp_path, "check", "--gates", fail="lint,tests")
    assert result.code == 1, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]  # the second ran after the first failed
    assert result.stdout.startswith("Checks: 2 problem(s):")
    assert "x [gate] The gate 'lint' failed:" in result.stdout
    assert "x [gate] The gate 'tests' failed:" in result.stdout
    assert "lint: FAILED test_one, test_two" in result.stdout
    assert "gate lint: FAILED" in result.stderr
    # The same problems for machines.
    result = release(gated, tmp_path, "check", "--gates", "--json", fail="tests")
    assert result.code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p["code"] for p in problems] == ["gate"]
    assert "tests: FAILED" in problems[0]["message"]
    assert tree_state(gated, remote_of(gated)) == before
    # Without --gates, check does not run them.
    result = release(gated, tmp_path, "check", fail="lint,tests")
    assert result.code == 0, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"] * 2


def test_a_gate_that_cannot_start_is_a_problem(gated: Path, tmp_path: Path) -> None:
    set_release_config(gated, 'gates = [{ name = "docs", run = ["no-such-program-xyz"] }]')
    result = release(gated, tmp_path, "check", "--gates")
    assert result.code == 1
    assert "x [gate] The gate 'docs' failed: could not run `no-such-program-xyz`" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_preview_lists_the_gates_without_running_them(gated: Path, tmp_path: Path) -> None:
    before = tree_state(gated, remote_of(gated))
    result = release(gated, tmp_path, "preview", fail="lint,tests")
    assert result.code == 0, result.stdout + result.stderr
    assert gate_runs(tmp_path) == []
    assert " 2. check    gate nox session lint: nox --non-interactive -r --session lint\n" \
        in result.stdout
    assert " 3. check    gate nox session tests: nox --non-interactive -r --session tests\n" \
        in result.stdout
    plan = json.loads(release(gated, tmp_path, "preview", "--json").stdout)["plan"]
    assert plan["gates"] == [{"name": "lint", "run": []}, {"name": "tests", "run": []}]
    assert [s["command"] for s in plan["steps"] if s["name"] == "gate"] == [
        ["nox", "--non-interactive", "-r", "--session", "lint"],
        ["nox", "--non-interactive", "-r", "--session", "tests"],
    ]
    result = release(gated, tmp_path, "preview", "--markdown")
    assert result.code == 0, result.stderr
    check_golden("preview-checklist.md", normalise(result.stdout, tmp_path))
    assert gate_runs(tmp_path) == []
    assert tree_state(gated, remote_of(gated)) == before


def test_gate_output_is_masked(gated: Path, tmp_path: Path) -> None:
    secret = "s3cr3t-index-password-9f2"
    show = [sys.executable, "-c", "import os, sys; print(os.environ['IDX_PASSWORD']); sys.exit(3)"]
    set_release_config(
        gated,
        f"gates = [{{ name = \"leaky\", run = {json.dumps(show)} }}]\n"
        'publish = [{ name = "idx", repository-url = "https://idx.invalid/legacy/", '
        'index-url = "https://idx.invalid/simple/", password-env = "IDX_PASSWORD" }]',
    )
    result = release(gated, tmp_path, "run", "--yes", "--until", "check",
                     extra={"IDX_PASSWORD": secret})
    assert result.code == 1, result.stdout + result.stderr
    assert "exited with status 3" in result.stderr
    assert "***" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert secret not in (gated / ".git" / "release-pipeline" / "journal.json").read_text()


# --- nox -s release: the gates through nox's own session machinery -------------------------

ROOT = Path(__file__).resolve().parent.parent


def nox(project: Path, tmp_path: Path, *args: str, fail: str = "") -> Result:
    import subprocess

    env = {**os.environ, **env_for(tmp_path, fail)}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=project, env=env, capture_output=True,
        text=True, stdin=subprocess.DEVNULL, timeout=600, check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def registered(gated: Path) -> Path:
    """``gated`` whose noxfile also registers the release sessions (gates=True)."""
    text = (gated / "noxfile.py").read_text(encoding="utf-8")
    register = f"from release.nox import register\n\nregister(install=({str(ROOT)!r},), " \
        "python=False)\n"
    (gated / "noxfile.py").write_text(text + "\n" + register, encoding="utf-8")
    commit_all(gated, "Release with nox")
    git(gated, "push", "--quiet", "origin", "main")
    return gated


def test_nox_release_runs_the_gates_as_nox_sessions(registered: Path, tmp_path: Path) -> None:
    result = nox(registered, tmp_path, "-s", "release", "--", "--yes", "--until", "tag")
    assert result.code == 0, result.stdout + result.stderr
    # Run by this nox process, each as a session of its own, before release run started...
    assert "nox > Running session lint\n" in result.stderr
    assert "nox > Running session tests\n" in result.stderr
    assert result.stderr.index("Running session tests") < result.stderr.index("release run")
    assert gate_runs(tmp_path) == ["lint", "tests"]
    # ...which took them as passed for this tree instead of starting nox again.
    assert step_shown(result.stdout, "already done", "check", "gate nox session lint")
    journal = read_journal(registered)
    assert {n: (g["result"], g["by"]) for n, g in journal["gates"].items()} == \
        {"lint": ("passed", "nox"), "tests": ("passed", "nox")}
    assert git(registered, "tag", "--points-at", "HEAD").split() == ["v1.3.0"]


def test_nox_release_stops_at_a_failing_gate_session(registered: Path, tmp_path: Path) -> None:
    before = tree_state(registered, remote_of(registered))
    result = nox(registered, tmp_path, "-s", "release", "--", "--yes", fail="tests")
    assert result.code != 0
    assert "tests: FAILED test_one, test_two" in result.stdout + result.stderr
    assert "The release gate 'tests' (session tests) did not pass (aborted: tests found 2 " \
        "failures); nothing has changed" in result.stderr
    assert "nox --session tests" in result.stderr
    assert "release run" not in result.stderr  # never started
    assert tree_state(registered, remote_of(registered)) == before
    # A preview runs no gate.
    result = nox(registered, tmp_path, "-s", "release", "--", "--dry-run", fail="tests")
    assert result.code == 0, result.stdout + result.stderr
    assert gate_runs(tmp_path) == ["lint", "tests"]


def test_the_generated_workflow_installs_nox_for_gate_sessions(gated: Path, tmp_path: Path) -> None:
    result = release(gated, tmp_path, "init", "--ci", "github", "--dry-run")
    assert result.code == 0, result.stderr
    assert result.stdout.count("run: python -m pip install release-pipeline") == 2
    assert "python -m pip install release-pipeline" in result.stdout
    assert " nox\n" in result.stdout
    result = release(gated, tmp_path, "-c", "ci-gates=false", "init", "--ci", "gitlab",
                     "--dry-run")
    assert result.code == 0, result.stderr
    assert " nox\n" not in result.stdout
