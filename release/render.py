"""Text and JSON renderings of plans and problems.

Plain text is built here without rich; rich is imported only when the output is a
terminal, to colour what a person reads.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # annotations only: `release build` prints without loading the planner
    from release.checks import Problem
    from release.facts import Facts
    from release.plan import Plan, Step, VersionSource
    from release.workspace.plan import WorkspacePlan

PREVIEW_SCHEMA_VERSION = 1
MAX_REASONS = 10


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Escape control characters (ANSI sequences included) so they are never sent raw."""
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)


def problems_text(problems: Sequence[Problem]) -> str:
    if not problems:
        return "Checks: all passed.\n"
    lines = [f"Checks: {len(problems)} problem(s):"]
    for p in problems:
        # A message of several lines (a gate's output) is indented under its first.
        lines.append(f"  x [{p.code}] " + p.message.replace("\n", "\n      | "))
        if p.hint:
            lines.append(f"      {p.hint}")
    return "\n".join(lines) + "\n"


def version_explanation(facts: Facts, sources: Sequence[VersionSource]) -> str:
    """Where ``release version`` read the version, and what it passed over (``--explain``)."""
    cfg = facts.config
    lines = ["Read from:"]
    for source in sources:
        lines.append(f"  {source.location} = {source.value}")
        lines.append(f"      {source.why}")
    lines.append(f"Tag format: {cfg.tag_format} ({cfg.sources['tag-format']})")
    if facts.history.format_reason:
        lines.append(f"      {facts.history.format_reason}")
    releases = facts.release_tags
    lines.append(
        f"Release tags: {len(releases)}"
        + (f", the highest {releases[-1].name}" if releases else "")
    )
    skipped = facts.history.skipped
    if skipped:
        lines.append(f"Tags passed over: {len(skipped)}")
        lines += [f"  {safe(name)}: {why}" for name, why in skipped[:20]]
        if len(skipped) > 20:
            lines.append(f"  ... and {len(skipped) - 20} more")
    return "\n".join(lines) + "\n"


def plan_text(plan: Plan, *, whole: bool = True) -> str:
    """The preview of ``plan``; not ``whole``: of one package of a release of several,
    without what the release as a whole does (its commit and steps)."""
    out: list[str] = []
    why = f"{plan.level}, " if plan.level else ""
    out.append(
        f"{plan.project} {plan.current} -> {plan.version} ({why}decided by {plan.decided_by})"
    )
    for reason in plan.reasons[:MAX_REASONS]:
        out.append(f"  {reason}")
    if len(plan.reasons) > MAX_REASONS:
        out.append(f"  ... and {len(plan.reasons) - MAX_REASONS} more (--json lists all)")
    out.append("")
    out.append("Version sources:")
    out += [f"  {s.location} = {s.value}" for s in plan.sources]
    # A line of its own (a series, a channel) decides the version: say which.
    lined = plan.line is not None and bool(plan.line.series or plan.line.channel)
    if plan.line is not None and lined:
        out.append(f"Line: {plan.branch} matches {plan.line.describe()}")
    out.append(
        f"Tag: {plan.tag}"
        + (
            f" (previous release: {plan.previous_tag})"
            if plan.previous_tag
            else " (first release tag)"
        )
    )
    if plan.previous_tag_why and lined:
        out.append(f"  {plan.previous_tag_why}")
    if whole:
        out.append(f"Commit message: {plan.commit_message}")
        out.append(
            "Commit hooks: run"
            if plan.commit_hooks
            else "Commit hooks: skipped (commit-hooks = false)"
        )
    if plan.next_dev is not None:
        out.append(f"Next development version: {plan.next_dev}")
    out.append("")
    out.append("File changes:")
    for edit in plan.edits:
        if edit.path == plan.changelog_file:
            continue
        out.append(edit.diff().rstrip("\n"))
    if plan.dev_edits:
        out.append(f"After the release (post, {plan.next_dev}):")
        out += [edit.diff().rstrip("\n") for edit in plan.dev_edits]
    if plan.consumed_fragments:
        out.append(
            f"Fragments consumed ({len(plan.consumed_fragments)}): "
            + ", ".join(plan.consumed_fragments[:MAX_REASONS])
            + (" ..." if len(plan.consumed_fragments) > MAX_REASONS else "")
        )
    out.append("")
    if plan.changelog_file is not None:
        gathers = ""
        if plan.changelog_gathers:
            gathers = (
                f", gathering the entries of {', '.join(plan.changelog_gathers)}, whose "
                "sections it replaces"
            )
        out.append(f"Changelog section ({plan.changelog_file}{gathers}):")
        out.append(plan.changelog.rstrip("\n"))
        out.append("")
    if whole:
        out += _steps_text(plan.steps)
    return "\n".join(out) + "\n"


def _steps_text(steps: Sequence[Step]) -> list[str]:
    out = ["Steps:"]
    width = max(len(s.stage) for s in steps)
    for n, step in enumerate(steps, 1):
        who = f"[{step.package}] " if step.package else ""
        out.append(f"  {n:2}. {step.stage:<{width}}  {who}{step.summary}")
    return out


def workspace_text(plan: WorkspacePlan) -> str:
    """The preview of a release of several packages: the order, one section per package,
    what the release as a whole changes, and every step."""
    out = [
        f"Release of {len(plan.members)} package(s), in dependency order: "
        + ", ".join(f"{m.name} {m.plan.version}" for m in plan.members)
    ]
    for name, why in plan.held_back:
        out.append(f"  not released: {name} ({why})")
    for name in plan.needs_release:
        out.append(
            f"  {name} needs a release too: its requirements are rewritten by this one "
            f"(release it with --package {name})"
        )
    out.append("")
    for member in plan.members:
        requires = f"; requires {', '.join(member.requires)}" if member.requires else ""
        out.append(f"=== {member.name} ({member.path}{requires}) ===")
        out.append(plan_text(member.plan, whole=False))
    out.append("=== the release as a whole ===")
    if plan.split:
        out += _commits_text(plan)
    else:
        out.append(f"Commit message: {plan.shared.commit_message}")
    out.append(
        "Commit hooks: run"
        if plan.shared.commit_hooks
        else "Commit hooks: skipped (commit-hooks = false)"
    )
    out.append(f"Tags: {', '.join(plan.tags)} (pushed with {plan.shared.branch}, atomically)")
    if plan.split:
        for commit in plan.commits:
            if commit.edits:
                out.append(f"File changes of the commit {commit.message!r} (paths from the root):")
                out += [edit.diff().rstrip("\n") for edit in commit.edits]
    else:
        own = {m.rebased(e.path) for m in plan.members for e in m.plan.edits}
        shared = [e for e in plan.shared.edits if e.path not in own]
        if shared:
            out.append("File changes of the whole (paths from the root):")
            out += [edit.diff().rstrip("\n") for edit in shared]
    out.append("")
    out += _steps_text(plan.steps)
    return "\n".join(out) + "\n"


def _commits_text(plan: WorkspacePlan) -> list[str]:
    """The release commits of a release of several packages with one commit each: in the
    order they are made, each with its tag and every path it takes."""
    out = [f"Commits ({len(plan.commits)}, one per package: consolidate-commits = false):"]
    for n, commit in enumerate(plan.commits, 1):
        tags = ", ".join(plan.member(name).plan.tag for name in commit.packages)
        paths = plan.commit_paths(commit)
        shown = ", ".join(paths[:MAX_REASONS]) + (" ..." if len(paths) > MAX_REASONS else "")
        out.append(f"  {n}. {commit.message} (tag {tags}): {shown}")
    return out


def preview_json(plan: Plan | WorkspacePlan | None, problems: Sequence[Problem]) -> dict[str, Any]:
    """What ``release preview --json`` and ``release check --json`` print."""
    return {
        "schema": "release-pipeline/preview",
        "schema_version": PREVIEW_SCHEMA_VERSION,
        "ok": not problems,
        "plan": None if plan is None else plan.to_json(),
        "problems": [p.to_json() for p in problems],
    }


def json_text(data: Any, stream: TextIO | None = None) -> str:
    """``data`` as JSON for ``stream`` (standard output by default): indented for a person
    on a terminal, on one line for a program reading a pipe or a file, as ``gh`` prints
    it. A workspace's plan is half a megabyte indented; on one line it is a quarter
    smaller and made by json's C encoder, several times faster."""
    if (stream or sys.stdout).isatty():
        return json.dumps(data, indent=2) + "\n"
    return json.dumps(data) + "\n"


def write(text: str, stream: TextIO | None = None) -> None:
    """Write text for a person: coloured through rich on a terminal, plain otherwise."""
    stream = stream or sys.stdout
    text = safe(text)
    if not stream.isatty():
        stream.write(text)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False)
    styled = Text()
    for line in text.splitlines(keepends=True):
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("  x "):
            style = "bold red"
        elif line.startswith("@@"):
            style = "cyan"
        elif line and not line[0].isspace() and line.rstrip().endswith(":"):
            style = "bold"
        styled.append(line, style=style)
    console.print(styled, end="")
