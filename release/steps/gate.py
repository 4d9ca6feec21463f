"""A release gate (``check.gate:NAME``): a session of the project's noxfile or a command,
run in the check stage before anything changes.

It checks the commit the release starts from. A pass is journaled with the tree hash of
that commit (``git rev-parse COMMIT^{tree}``), so ``release resume`` does not run it again
for the same tree; a failure stops the release with the last lines of the gate's output
and the command to run it by hand. When ``nox -s release`` ran the gate through nox's own
session machinery just before (``release.nox``), the step takes that pass for the same
tree instead of starting nox again. Undone: nothing (a gate changes nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from release.config import Gate as Declared
from release.errors import EXIT_CHECK_FAILED, ReleaseError
from release.nox import NOX_GATES
from release.ops import gates
from release.ops.git import rev
from release.plan import Step
from release.steps import Context


class GateFailed(ReleaseError):
    exit_code = EXIT_CHECK_FAILED


@dataclass
class Gate:
    step: Step

    def _declared(self, ctx: Context) -> Declared:
        for gate in ctx.plan.gates:
            if gate.name == self.step.path:
                return gate
        raise KeyError(self.step.path)

    def is_done(self, ctx: Context) -> bool:
        checked = _checked_tree(ctx)
        record = ctx.journal.gates.get(self.step.path, {})
        if record.get("result") == gates.PASSED and record.get("tree") == checked:
            return True
        if self._declared(ctx).is_session and _nox_passed(ctx, self.step.path, checked):
            ctx.journal.gates[self.step.path] = {
                "result": gates.PASSED,
                "tree": checked,
                "seconds": 0.0,
                "by": "nox",
            }
            return True
        return False

    def run(self, ctx: Context) -> None:
        from release.checks import gate_problems

        checked = _checked_tree(ctx)
        _refuse_changes(ctx)
        _learn_secrets(ctx)
        result = gates.run(ctx.runner, self._declared(ctx), self.step.command, ctx.environ)
        if result.output.strip():
            ctx.log(result.output)
        ctx.journal.gates[self.step.path] = {
            "result": gates.PASSED if result.passed else gates.FAILED,
            "tree": checked,
            "seconds": round(result.seconds, 3),
            "by": "release",
        }
        ctx.journal.save()
        for problem in gate_problems([result]):
            raise GateFailed(
                problem.message,
                f"{problem.hint} Nothing has changed: fix the cause, then run release "
                "resume, which runs this gate again (a fix committed to the code is a new "
                "release: release abort, commit it, release run).",
            )

    def undo(self, ctx: Context) -> None:
        """A gate changes nothing."""


def _checked_tree(ctx: Context) -> str:
    """The tree the gates check: HEAD's, which is the commit the release starts from until
    the release commit is made (any of them, with one per package); after it, the start
    commit's (the release commits add only the release's own edits to it)."""
    committed = ctx.journal.committed
    commit = "HEAD" if not committed else ctx.journal.start_head
    if not committed and ctx.journal.start_head:
        head = rev(ctx.runner, "HEAD")
        if head != ctx.journal.start_head:
            raise GateFailed(
                f"HEAD ({str(head)[:12]}) is no longer the commit the release started from "
                f"({ctx.journal.start_head[:12]}), and the gates check that commit.",
                "Return to it (git reset --keep), then run release resume; or run release "
                "abort and release the new commit with release run.",
            )
    return gates.tree(ctx.runner, commit)


def _refuse_changes(ctx: Context) -> None:
    """A gate checks the commit, so the tracked files must be as the commit has them."""
    if ctx.journal.committed:
        return  # the release's own steps have run; the committed tree is what was checked
    changed = ctx.runner.git("status", "--porcelain", "--untracked-files=no").stdout
    paths = [line[3:] for line in changed.splitlines() if line.strip()]
    if paths:
        raise GateFailed(
            "The gates check the commit to be released, but tracked files differ from it: "
            f"{', '.join(paths[:20])}.",
            "Put them back (git restore, or git stash), then run release resume; a change "
            "to keep is a new release: release abort, commit it, release run.",
        )


def _nox_passed(ctx: Context, name: str, tree: str) -> bool:
    """Whether ``nox -s release`` ran the session ``name`` for ``tree`` just before."""
    raw = ctx.environ.get(NOX_GATES, "")
    if not raw:
        return False
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    return (
        isinstance(data, dict) and data.get("tree") == tree and name in (data.get("sessions") or [])
    )


def _learn_secrets(ctx: Context) -> None:
    """The release's tokens and passwords are masked in what a gate prints."""
    from release.credentials import environment_secrets

    for secret in environment_secrets(ctx.plan.targets, ctx.plan.forge, ctx.environ):
        if secret not in ctx.runner.secrets:
            ctx.runner.secrets.append(secret)
