"""The check stage: every gate, evaluated again just before anything changes."""

from __future__ import annotations

from dataclasses import dataclass

from release.plan import Step
from release.steps import Context


@dataclass
class Preflight:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        # A gate cannot be probed afterwards: the journal is the only witness.
        return ctx.journal.steps.get(self.step.id) == "done"

    def run(self, ctx: Context) -> None:
        from release.checks import evaluate, refusal
        from release.facts import gather

        facts = gather(
            ctx.project_dir,
            environ=ctx.environ,
            overrides=ctx.overrides,
            runner=ctx.runner,
            workspace=ctx.inherited,
        )
        _plan, problems = evaluate(facts, ctx.plan, ctx.environ, ctx.until, runner=ctx.runner)
        if problems:
            raise refusal(problems, "The release checks failed")

    def undo(self, ctx: Context) -> None:
        """A check changes nothing."""
