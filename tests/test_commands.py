"""The commands the plan shows are the commands the steps run.

A whole release (with the development commit) runs in this process through a runner
that records every command; each step with a planned command must have run exactly that
command, with the commits the run made in place of the plan's placeholders, and no other
command that changes the repository or the remote.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from conftest import read_journal

from release import flow
from release.checks import Problem
from release.commands import DEV_COMMIT, RELEASE_COMMIT
from release.executor import Outcome
from release.plan import Plan, Request
from release.runner import Completed, Pending, Runner

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

# A step the project declares, in the prepare stage.
STAMP = (
    '{ name = "stamp", stage = "prepare", paths = ["stamp.txt"], '
    f"run = [{json.dumps(sys.executable)}, \"-c\", "
    "\"import pathlib; pathlib.Path('stamp.txt').write_text('1')\"] }"
)

# What the steps with a command ask git besides running it (their probes).
READS = {"rev-parse", "merge-base", "log", "ls-remote", "ls-files"}


class RecordingRunner(Runner):
    """A runner that records the argument list of every command it runs or starts."""

    def __init__(self, cwd: Path) -> None:
        super().__init__(cwd)
        self.ran: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kwargs: object) -> Completed:  # type: ignore[override]
        self.ran.append(tuple(str(a) for a in argv))
        return super().run(argv, **kwargs)  # type: ignore[arg-type]

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> Pending:
        self.ran.append(tuple(str(a) for a in argv))
        return super().spawn(argv, env=env)


def test_every_step_runs_the_command_its_plan_shows(sample: Callable[..., Path]) -> None:
    project = sample(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."})
    runner = RecordingRunner(project.resolve())
    planned: list[Plan] = []
    boundaries: list[tuple[str, int]] = []  # (step id, commands recorded when it ended)

    def show(plan: Plan, problems: list[Problem]) -> None:
        assert not problems, problems
        planned.append(plan)

    def on_step(outcome: Outcome) -> None:
        assert outcome.status == "done", outcome
        boundaries.append((outcome.step.id, len(runner.ran)))

    flow.run(
        project,
        request=Request(),
        environ=os.environ,
        overrides=["next-dev=true", f"steps=[{STAMP}]"],
        until=None,
        show=show,
        confirm=lambda _plan: True,
        on_step=on_step,
        runner=runner,
    )

    (plan,) = planned
    ran_by_step: dict[str, list[tuple[str, ...]]] = {}
    start = 0
    for step_id, end in boundaries:
        ran_by_step[step_id] = runner.ran[start:end]
        start = end
    assert list(ran_by_step) == [s.id for s in plan.steps]
    journal = read_journal(project)
    commits = {RELEASE_COMMIT: journal["release_commit"], DEV_COMMIT: journal["dev_commit"]}

    with_command = [s for s in plan.steps if s.command]
    assert [s.id for s in with_command] == [
        "prepare.changelog",
        "prepare.user:stamp",
        "prepare.commit",
        "tag.tag",
        "push.push",
        "post.commit",
        "post.push",
    ]
    for step in with_command:
        if step.name == "user":  # the user's own command, then what it changed staged
            assert ran_by_step[step.id].count(step.command) == 1, ran_by_step[step.id]
            assert ("git", "add", "--all", "--", "stamp.txt") in ran_by_step[step.id]
            continue
        filled = tuple(_fill(arg, commits) for arg in step.command)
        changing = [
            argv
            for argv in ran_by_step[step.id]
            if argv[:1] == ("git",) and argv[1] not in READS
        ]
        assert changing == [filled], step.id


def _fill(arg: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        arg = arg.replace(placeholder, value)
    return arg
