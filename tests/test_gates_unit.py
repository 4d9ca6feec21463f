"""Release gates in the pure core, on facts built in memory: the configuration, where the
plan puts the gate steps and with which command (also in ``release ci``'s jobs), the
problems failing gates make, and the Markdown checklist. No disk, no subprocess."""

from __future__ import annotations

from typing import Any

import pytest
from factsmaker import make_facts
from packaging.version import Version

from release import checks, markdown
from release.config import Gate, show_value
from release.errors import ConfigError
from release.ops.gates import GateResult
from release.plan import Plan, Request, Tagged, build

FRAGMENTS = {"12.feature.md": "Add a thing."}
GATES = ["lint", {"name": "docs", "run": ["mkdocs", "build", "--strict"]}]


def planned(request: Request | None = None, **release: Any) -> Plan:
    facts = make_facts(release={"gates": GATES, **release}, fragments=FRAGMENTS)
    return build(facts, request or Request())


def test_gates_are_read_in_order() -> None:
    facts = make_facts(release={"gates": GATES})
    assert facts.config.gates == (Gate("lint"), Gate("docs", ("mkdocs", "build", "--strict")))
    assert facts.config["ci-gates"] is True
    assert show_value(facts.config.gates) == (
        '["lint", { name = "docs", run = ["mkdocs", "build", "--strict"] }]'
    )


@pytest.mark.parametrize(
    ("gates", "said"),
    [
        ("lint", "key `gates` must be a list of nox session names and {name, run} tables"),
        ([3], "key `gates` must be a list"),
        ([{"name": "docs"}], "each table in `gates` needs a string `name` and `run`"),
        ([{"name": "docs", "run": []}], "needs a string `name` and `run`"),
        ([{"name": "docs", "run": ["x"], "shell": True}], "unknown key `shell`"),
        (["lint", "lint"], "names the gate 'lint' twice"),
        (["-x"], "'-x' is not a usable gate name"),
    ],
)
def test_bad_gates_are_refused_naming_the_key(gates: object, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_facts(release={"gates": gates})
    assert said in caught.value.message
    assert "pyproject.toml [tool.release]" in caught.value.message


def test_the_gates_run_right_after_the_preflight_with_their_commands() -> None:
    plan = planned()
    assert [s.id for s in plan.steps[:4]] == [
        "check.preflight",
        "check.gate:lint",
        "check.gate:docs",
        "prepare.edit-version:pyproject.toml",
    ]
    lint, docs = plan.steps[1:3]
    assert lint.command == ("nox", "--non-interactive", "-r", "--session", "lint")
    assert lint.summary == "gate nox session lint: nox --non-interactive -r --session lint"
    assert docs.command == ("mkdocs", "build", "--strict")
    assert docs.summary == "gate docs: mkdocs build --strict"
    assert plan.to_json()["gates"] == [
        {"name": "lint", "run": []},
        {"name": "docs", "run": ["mkdocs", "build", "--strict"]},
    ]
    assert Plan.from_journal(plan.to_journal()) == plan


def test_no_gates_no_gate_steps() -> None:
    plan = build(make_facts(fragments=FRAGMENTS), Request())
    assert [s.id for s in plan.steps if s.stage == "check"] == ["check.preflight"]


def tagged(job: str | None) -> Request:
    return Request(tagged=Tagged("v1.2.0", Version("1.2.0"), "", job))


@pytest.mark.parametrize(
    ("job", "ci_gates", "gated"),
    [
        ("build", True, True),
        (None, True, True),  # a plain `release ci` runs the build job's stages too
        ("publish", True, False),
        ("build", False, False),
    ],
)
def test_release_ci_runs_the_gates_in_the_build_job(
    job: str | None, ci_gates: bool, gated: bool
) -> None:
    plan = planned(tagged(job), **{"ci-gates": ci_gates})
    gate_ids = [s.id for s in plan.steps if s.name == "gate"]
    assert gate_ids == (["check.gate:lint", "check.gate:docs"] if gated else [])
    assert "check.preflight" not in [s.id for s in plan.steps]
    if gated:
        assert plan.steps[0].id == "check.gate:lint"


def result(name: str, code: int, output: str = "", *, started: bool = True) -> GateResult:
    return GateResult(name, ("nox", "--session", name), code, output, 1.0, started)


def test_every_failing_gate_is_a_problem_with_the_end_of_its_output() -> None:
    output = "".join(f"line {n}\n" for n in range(1, 31))
    problems = checks.gate_problems(
        [result("lint", 0, "ok\n"), result("tests", 1, output), result("docs", 2)]
    )
    assert [p.code for p in problems] == ["gate", "gate"]
    tests, docs = problems
    assert tests.message.startswith(
        "The gate 'tests' failed: `nox --session tests` exited with status 1; its output "
        "(the last 20 of 30 lines):\nline 11\n"
    )
    assert tests.message.endswith("line 30")
    assert "line 10\n" not in tests.message
    assert tests.hint == "Run it by hand to see why: `nox --session tests`."
    assert tests.exit_code == 1
    assert docs.message == (
        "The gate 'docs' failed: `nox --session docs` exited with status 2, printing nothing."
    )
    assert checks.exit_code(problems) == 1


def test_a_gate_that_cannot_start_says_what_to_install() -> None:
    (problem,) = checks.gate_problems([result("docs", 127, "nox: not found", started=False)])
    assert problem.message == "The gate 'docs' failed: could not run `nox --session docs`: " \
        "nox: not found."
    assert problem.hint.startswith("Install nox")


def test_the_checklist_marks_each_gate_by_its_outcome() -> None:
    plan = planned()
    failing = checks.gate_problems([result("docs", 1, "broken link\n")])
    text = markdown.plan_markdown(
        plan, failing, {"check.preflight": "done", "check.gate:lint": "done",
                        "check.gate:docs": "failed"}
    )
    assert "- [x] preflight checks:" in text  # a gate problem is not a preflight one
    assert "- [x] gate `lint`: `nox --non-interactive -r --session lint`: passed" in text
    assert "- [ ] gate `docs`: `mkdocs build --strict`: **failing**" in text
    assert "- [ ] **failing** `gate`: The gate 'docs' failed:" in text
    assert "  ```text\n  broken link\n  ```" in text
    assert "- [x] check: check every release gate" in text
    assert "- [ ] prepare: commit: Release 1.3.0" in text


def test_the_checklist_of_a_preview_has_pending_gates_and_failing_checks() -> None:
    facts = make_facts(release={"gates": ["lint"]}, dirty=("stray.txt",), fragments=FRAGMENTS)
    plan = build(facts, Request())
    problems = [checks.Problem("dirty-tree", "The work tree has changes: stray.txt.", "Commit.")]
    text = markdown.plan_markdown(plan, problems)
    assert text.startswith("# sample-project 1.3.0\n")
    assert "- [ ] **failing** `dirty-tree`: The work tree has changes: stray.txt.\n  Commit." \
        in text
    assert "- [ ] gate `lint`: `nox --non-interactive -r --session lint`: pending" in text
    assert "## Changelog (`CHANGELOG.md`)" in text


def test_status_checklist() -> None:
    text = markdown.status_markdown(
        "sample-project", "1.3.0",
        [("origin", "v1.3.0", "present", True), ("pypi", "x-1.3.0.tar.gz", "missing", False)],
    )
    assert text == (
        "# sample-project 1.3.0: incomplete\n\n"
        "- [x] origin: `v1.3.0` — present\n"
        "- [ ] pypi: `x-1.3.0.tar.gz` — missing\n"
    )
