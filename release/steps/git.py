"""Git side effects: the release commit, the tag, the atomic push, and the post-release commit.

The local ones are undone (the commit by a reset to where the release started, the tag by
deleting it); the push, and what follows it, never."""

from __future__ import annotations

from dataclasses import dataclass

from release import commands
from release.errors import CommandError, ReleaseError
from release.ops.git import head_commit_is, is_ancestor, remote_refs, rev
from release.plan import Step
from release.steps import Context, never_undone


class PushRejected(ReleaseError):
    exit_code = 1


class CommitFailed(ReleaseError):
    exit_code = 1


def _commit(ctx: Context, argv: tuple[str, ...]) -> str:
    """Run the planned commit ``argv``; the commit's sha."""
    if argv[-1] == "--":
        # `git commit --` with no path would commit whatever happens to be staged.
        raise ReleaseError(
            "Nothing to commit: the plan names no file for this commit.",
            "This is a bug in release-pipeline; please report it.",
        )
    try:
        ctx.runner.run(argv)
    except CommandError as exc:
        raise CommitFailed(
            f"git commit failed (exit status {exc.returncode}); it said:\n{exc.output.strip()}",
            "A commit hook may have refused the commit: fix what it reports, then run release "
            "resume; or run release abort and release again with commit-hooks = false to skip "
            "the hooks."
            if ctx.plan.commit_hooks
            else "Fix the cause, then run release resume.",
        ) from None
    sha = rev(ctx.runner, "HEAD")
    assert sha is not None
    return sha


def _commit_made(ctx: Context, known: str | None, message: str, parent: str | None) -> str | None:
    """The commit a commit step made: the journaled one if HEAD contains it, else HEAD when
    HEAD is a commit with the step's message on top of ``parent`` (made, then killed before
    the journal was written)."""
    head = rev(ctx.runner, "HEAD")
    if known is not None and head is not None and is_ancestor(ctx.runner, known, head):
        return known
    return head_commit_is(ctx.runner, message, parent)


@dataclass
class ReleaseCommit:
    """The release commit; with one commit per package (consolidate-commits = false), one
    package's, made on the previous package's (its frame's journal says which)."""

    step: Step

    def is_done(self, ctx: Context) -> bool:
        found = _commit_made(
            ctx, ctx.journal.release_commit, ctx.plan.commit_message, ctx.journal.commit_parent
        )
        ctx.journal.release_commit = found or ctx.journal.release_commit
        return found is not None

    def run(self, ctx: Context) -> None:
        ctx.journal.release_commit = _commit(ctx, commands.release_commit(ctx.plan))

    def undo(self, ctx: Context) -> None:
        """Reset the branch to the commit this one was made on (where the release started,
        or the previous package's release commit), index and work tree too: that restores
        everything the commit took (the version edits, the changelog, the consumed
        fragments, the prepare steps' files) at once."""
        start = ctx.journal.commit_parent
        head = rev(ctx.runner, "HEAD")
        if head == start:
            return  # not made (or already undone)
        made = _commit_made(ctx, ctx.journal.release_commit, ctx.plan.commit_message, start)
        if made is None or made != head:
            raise ReleaseError(
                f"HEAD ({str(head)[:12]}) is not the release commit "
                f"{ctx.plan.commit_message!r}, so resetting it to {start[:12]} could lose "
                "other work.",
                f"Return to {start[:12]} or the release commit yourself, then run release "
                "abort again.",
            )
        ctx.runner.git("reset", "--quiet", "--hard", start)
        where = (
            "where the release started"
            if start == ctx.journal.start_head
            else "the release commit before it"
        )
        ctx.log(
            f"reset {ctx.journal.start_branch} to {start[:12]}, {where}; the version files, "
            "changelog and fragments are as they were."
        )


@dataclass
class Tag:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        target = rev(ctx.runner, f"refs/tags/{ctx.plan.tag}")
        if target is None:
            return False
        if target != ctx.journal.release_commit:
            raise ReleaseError(
                f"The tag {ctx.plan.tag} exists but points to {target[:12]}, not to the release "
                f"commit {str(ctx.journal.release_commit)[:12]}.",
                f"If that tag is stale and unpublished, delete it (git tag -d {ctx.plan.tag}) "
                "and resume.",
            )
        return True

    def run(self, ctx: Context) -> None:
        assert ctx.journal.release_commit is not None
        ctx.runner.run(commands.tag(ctx.plan, ctx.journal.release_commit))

    def undo(self, ctx: Context) -> None:
        """Delete the local tag, only when it names the release commit (a tag of that name
        on another commit is not this release's)."""
        tag = ctx.plan.tag
        target = rev(ctx.runner, f"refs/tags/{tag}")
        if target is None:
            return
        if ctx.journal.release_commit is None or target != ctx.journal.release_commit:
            ctx.log(f"kept the tag {tag}: it points to {target[:12]}, not the release commit.")
            return
        ctx.runner.git("tag", "--delete", tag)
        ctx.log(f"deleted the local tag {tag}.")


@dataclass
class Push:
    step: Step

    def _tags(self, ctx: Context) -> tuple[str, ...]:
        """The tag, or in a release of several packages, every package's."""
        return ctx.workspace.tags if ctx.workspace is not None else (ctx.plan.tag,)

    def is_done(self, ctx: Context) -> bool:
        branch_ref = f"refs/heads/{ctx.plan.branch}"
        tag_refs = [f"refs/tags/{name}" for name in self._tags(ctx)]
        found = remote_refs(ctx.runner, ctx.plan.remote, branch_ref, *tag_refs)
        local = ctx.runner.git("rev-parse", *tag_refs).stdout.split()
        release = ctx.journal.release_commit
        assert release is not None
        done = (
            all(found.get(ref) == sha for ref, sha in zip(tag_refs, local, strict=True))
            and branch_ref in found
            and rev(ctx.runner, found[branch_ref]) is not None
            and is_ancestor(ctx.runner, release, found[branch_ref])
        )
        if done:
            ctx.journal.pushed = True
        return done

    def run(self, ctx: Context) -> None:
        release = ctx.journal.release_commit
        assert release is not None
        try:
            ctx.runner.run(commands.push(ctx.plan, release, self._tags(ctx)))
        except CommandError as exc:
            raise PushRejected(
                f"{ctx.plan.remote} rejected the atomic push of {ctx.plan.branch} and "
                f"{' '.join(self._tags(ctx))}; none was updated, so nothing is public yet. "
                f"Git said:\n{exc.output.strip()}",
                f"If {ctx.plan.remote} has new commits: git pull --rebase {ctx.plan.remote} "
                f"{ctx.plan.branch}, then release resume (the tag and artifacts are redone "
                "for the rebased commit); or release abort to undo the release.",
            ) from None
        if not self.is_done(ctx):
            raise ReleaseError(
                f"After pushing, {ctx.plan.remote} does not show {ctx.plan.branch} and "
                f"{' '.join(self._tags(ctx))} as pushed.",
                "Check the remote, then run release resume.",
            )

    def undo(self, ctx: Context) -> None:
        tags = " ".join(self._tags(ctx))
        raise never_undone(self.step, f"the branch and {tags} are on {ctx.plan.remote}.")


@dataclass
class DevCommit:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        found = _commit_made(
            ctx, ctx.journal.dev_commit, ctx.plan.dev_commit_message, ctx.journal.release_commit
        )
        ctx.journal.dev_commit = found or ctx.journal.dev_commit
        return found is not None

    def run(self, ctx: Context) -> None:
        ctx.journal.dev_commit = _commit(ctx, commands.dev_commit(ctx.plan))

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, "it follows the release, which is public.")


@dataclass
class PushDev:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        branch_ref = f"refs/heads/{ctx.plan.branch}"
        remote = remote_refs(ctx.runner, ctx.plan.remote, branch_ref).get(branch_ref)
        dev = ctx.journal.dev_commit
        return (
            remote is not None
            and dev is not None
            and rev(ctx.runner, remote) is not None
            and is_ancestor(ctx.runner, dev, remote)
        )

    def run(self, ctx: Context) -> None:
        assert ctx.journal.dev_commit is not None
        ctx.runner.run(commands.push_dev(ctx.plan, ctx.journal.dev_commit))

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, f"the development commit is on {ctx.plan.remote}.")
