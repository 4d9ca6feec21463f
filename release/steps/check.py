"""The check stage: every gate, evaluated again just before anything changes."""

from __future__ import annotations

from dataclasses import dataclass

from release.errors import EXIT_CHECK_FAILED, ReleaseError
from release.plan import Step
from release.stages import reaches
from release.steps import Context


class ChecksFailed(ReleaseError):
    exit_code = EXIT_CHECK_FAILED


@dataclass
class Preflight:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        # A gate cannot be probed afterwards: the journal is the only witness.
        return ctx.journal.steps.get(self.step.id) == "done"

    def run(self, ctx: Context) -> None:
        from release.checks import input_problems, state_problems
        from release.facts import gather, read_remote, read_targets

        facts = gather(
            ctx.project_dir, environ=ctx.environ, overrides=ctx.overrides, runner=ctx.runner
        )
        problems = input_problems(facts)
        plan = ctx.plan
        targets = (
            read_targets(plan.targets, plan.project, plan.version, ctx.environ)
            if reaches("publish", ctx.until)
            else ()
        )
        problems += state_problems(
            facts,
            plan,
            read_remote(ctx.runner, facts, plan.tag),
            targets,
            environ=ctx.environ,
            until=ctx.until,
        )
        if problems:
            raise ChecksFailed(
                "The release checks failed:\n"
                + "\n".join(f"  - [{p.code}] {p.message} {p.hint}".rstrip() for p in problems),
                "Fix every problem listed, then run release again.",
            )
