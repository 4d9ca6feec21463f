"""The command each step runs, built in one place from the plan.

The plan's ``Step.command`` is the command built here with placeholders for what only
the run knows (the commits it makes); the step runs the same command with those filled
in. So what the preview shows is what runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from release.config import Gate, UserStep
    from release.plan import Plan

RELEASE_COMMIT = "<release commit>"
DEV_COMMIT = "<development commit>"
BRANCH = "<branch>"  # a detached HEAD has none; the check stage refuses to release it

Argv = tuple[str, ...]


def stage_changelog(plan: Plan) -> Argv:
    """Stage the written news file and the removed fragments (``prepare.changelog``)."""
    assert plan.changelog_file is not None
    return ("git", "add", "--all", "--", plan.changelog_file, *plan.consumed_fragments)


def release_commit(plan: Plan) -> Argv:
    """The release commit: the version edits, the changelog and the removed fragments."""
    return _commit(plan, plan.commit_message, list(plan.committed_paths))


def user_step(step: UserStep) -> Argv:
    """A step the user declares (``[[tool.release.steps]]``): its ``run``, through
    ``sh -c`` with ``shell = true``."""
    return step.argv(step.run)


def gate(gate: Gate) -> Argv:
    """A release gate (``check.gate:NAME``): its ``run``, or for a session of the project's
    noxfile, nox itself: reusing the session's environment if there is one (``-r``, which
    still runs the session's installs, so an environment never passes on stale
    dependencies), never asking questions (``--non-interactive``)."""
    if gate.run:
        return gate.run
    return ("nox", "--non-interactive", "-r", "--session", gate.name)


def stage_user_paths(paths: list[str]) -> Argv:
    """Stage what a prepare user step changed in its ``paths``, so that the release commit
    (which names them) takes new files too."""
    return ("git", "add", "--all", "--", *paths)


def tag(plan: Plan, commit: str = RELEASE_COMMIT) -> Argv:
    """The annotated (or signed) release tag on the release commit."""
    return tag_of(plan.sign, plan.tag_message, plan.tag, commit)


def tag_of(sign: str, message: str, name: str, commit: str) -> Argv:
    """The annotated (or signed) tag ``name`` on ``commit``: the release tag, also as
    ``release ci`` makes it on a merged release pull request."""
    prefix = ("-c", "gpg.format=ssh") if sign == "ssh" else ()
    flags = ("--annotate",) if sign == "none" else ("--sign",)
    return ("git", *prefix, "tag", *flags, "-m", message, "--", name, commit)


def push_tag(remote: str, name: str) -> Argv:
    """The tag alone to the remote (a merged release: the branch is there already)."""
    ref = f"refs/tags/{name}"
    return ("git", "push", "--porcelain", "--", remote, f"{ref}:{ref}")


def push(plan: Plan, commit: str = RELEASE_COMMIT, tags: tuple[str, ...] = ()) -> Argv:
    """The release commit to the branch and the tag (or ``tags``: every package's, in a
    release of several), atomically: all or none."""
    refs = [f"refs/tags/{name}" for name in tags or (plan.tag,)]
    return (
        "git",
        "push",
        "--atomic",
        "--porcelain",
        "--",
        plan.remote,
        f"{commit}:refs/heads/{plan.branch or BRANCH}",
        *(f"{ref}:{ref}" for ref in refs),
    )


def dev_commit(plan: Plan) -> Argv:
    """The commit of the next development version (``post``)."""
    return _commit(plan, plan.dev_commit_message, [e.path for e in plan.dev_edits])


def push_dev(plan: Plan, commit: str = DEV_COMMIT) -> Argv:
    """The development commit to the branch."""
    branch = f"refs/heads/{plan.branch or BRANCH}"
    return ("git", "push", "--porcelain", "--", plan.remote, f"{commit}:{branch}")


def _commit(plan: Plan, message: str, paths: list[str]) -> Argv:
    # Only the paths the plan names are committed (never commit -a); --no-verify skips the
    # pre-commit and commit-msg hooks, only when the project says so (commit-hooks = false).
    hooks = () if plan.commit_hooks else ("--no-verify",)
    return ("git", "commit", "--quiet", *hooks, "-m", message, "--", *paths)
