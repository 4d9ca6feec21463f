"""The release checklist in Markdown, for people reading it on a forge: a pull request or
tracking issue (``release preview --markdown``, ``release status --markdown``) and the CI
job's summary (``release ci``).

Fed by the same plan, problems and step outcomes as the terminal and JSON output; it
imports nothing heavy and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from release.checks import Problem
    from release.plan import Plan, Step

#: What a step's outcome (``release.executor.Outcome.status``) shows in a checklist.
_DONE = ("done", "already done")


def _escape(text: str) -> str:
    """``text`` inline in Markdown: characters that would start markup or HTML escaped."""
    out = text.replace("\\", "\\\\")
    for char in "`*_[]<>|":
        out = out.replace(char, "\\" + char)
    return out


def _code(text: str) -> str:
    """``text`` as inline code, with a fence longer than any run of backticks in it."""
    if "`" not in text:
        return f"`{text}`"
    longest = max(len(run) for run in text.replace("`", " ` ").split() if set(run) == {"`"})
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


def _block(text: str, indent: str = "  ") -> list[str]:
    """``text`` as a fenced block inside a list item."""
    fence = "````" if "```" in text else "```"
    return [
        f"{indent}{fence}text",
        *(f"{indent}{line}" for line in text.splitlines()),
        f"{indent}{fence}",
    ]


def _problem_item(problem: Problem) -> list[str]:
    first, _, rest = problem.message.partition("\n")
    lines = [f"- [ ] **failing** `{problem.code}`: {_escape(first)}"]
    if rest.strip():
        lines += _block(rest)
    if problem.hint:
        lines.append(f"  {_escape(problem.hint)}")
    return lines


def _gate_item(step: Step, status: str | None) -> str:
    what = f"gate {_code(step.path)}: {_code(' '.join(step.command))}"
    if status in _DONE:
        return f"- [x] {what}: passed"
    if status == "failed":
        return f"- [ ] {what}: **failing**"
    if status == "skipped":
        return f"- [ ] {what}: skipped (release resume --skip)"
    return (
        f"- [ ] {what}: pending (runs in the check stage, before anything changes; "
        "`release check --gates` runs it now)"
    )


def checklist(
    plan: Plan | None,
    problems: Sequence[Problem],
    outcomes: Mapping[str, str] | None = None,
) -> list[str]:
    """The checklist items: the preflight checks (each problem failing, or one item done),
    each gate (passed, failing or pending, by its step's outcome), then the gates' problems
    with the end of their output."""
    outcomes = outcomes or {}
    others = [p for p in problems if p.code != "gate"]
    lines: list[str] = []
    for problem in others:
        lines += _problem_item(problem)
    checked = plan is None or "check.preflight" in {s.id for s in plan.steps}
    if not others and checked:  # (release ci checks the tag instead)
        lines.append(
            "- [x] preflight checks: clean work tree, release branch, in sync with the "
            "remote, tag free, version new, fragments valid"
        )
    for step in plan.steps if plan is not None else ():
        if step.name == "gate":
            lines.append(_gate_item(step, outcomes.get(step.id)))
    for problem in problems:
        if problem.code == "gate":
            lines += _problem_item(problem)
    return lines


def plan_markdown(
    plan: Plan | None,
    problems: Sequence[Problem],
    outcomes: Mapping[str, str] | None = None,
) -> str:
    """The release as a Markdown checklist: the version and why, the checks and gates, the
    changelog section, and the steps (each done, failed or pending)."""
    outcomes = outcomes or {}
    lines: list[str] = []
    if plan is None:
        lines += ["# No release can be planned", ""]
    else:
        why = f"{plan.level}, " if plan.level else ""
        lines += [
            f"# {_escape(plan.project)} {plan.version}",
            "",
            f"{plan.current} → **{plan.version}** ({why}decided by {plan.decided_by}), "
            f"tag {_code(plan.tag)}"
            + (f", previous release {_code(plan.previous_tag)}" if plan.previous_tag else ""),
            "",
        ]
        lines += [f"- {_escape(reason)}" for reason in plan.reasons]
        lines.append("")
    lines += ["## Checklist", ""]
    lines += checklist(plan, problems, outcomes)
    lines.append("")
    if plan is None:
        return "\n".join(lines)
    if plan.changelog.strip():
        where = f" ({_code(plan.changelog_file)})" if plan.changelog_file else ""
        lines += [f"## Changelog{where}", "", plan.changelog.strip("\n"), ""]
    lines += ["## Steps", ""]
    for step in plan.steps:
        status = outcomes.get(step.id)
        mark = "x" if status in _DONE else " "
        said = f" — {status}" if status and status not in _DONE else ""
        lines.append(f"- [{mark}] {step.stage}: {_escape(step.summary)}{said}")
    lines.append("")
    return "\n".join(lines)


def status_markdown(project: str, version: str, rows: Sequence[tuple[str, str, str, bool]]) -> str:
    """``release status --markdown``: each place the release must be, checked off when it is
    there (rows of where, item, state, ok)."""
    complete = all(ok for *_, ok in rows)
    lines = [
        f"# {_escape(project)} {version}: " + ("complete everywhere" if complete else "incomplete"),
        "",
    ]
    for where, item, state, ok in rows:
        lines.append(f"- [{'x' if ok else ' '}] {_escape(where)}: {_code(item)} — {_escape(state)}")
    lines.append("")
    return "\n".join(lines)
