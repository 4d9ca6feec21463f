"""The release commits of a release of several packages: one for every package released
(the default), or one per package in dependency order (``consolidate-commits = false``),
each with the edits of the whole it takes and the steps that make it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from release import commands
from release.plan import FileEdit, Plan, Step

if TYPE_CHECKING:
    from release.workspace.plan import Member


class Commit(NamedTuple):
    """A release commit: one for every package released (the default), or one per package
    (``consolidate-commits = false``)."""

    message: str
    packages: tuple[str, ...]  # the packages it releases, each tagged on it
    # The edits of the whole it takes, paths from the root: the root uv.lock, the
    # requirement rewrites of dependents (update-dependents).
    edits: tuple[FileEdit, ...] = ()


def commit_frame(shared: Plan, member: Member, commit: Commit) -> Plan:
    """The plan of the steps of the whole that make ``member``'s own release commit: the
    edits of the whole it takes (``edit-shared``), and every path it commits, the
    package's own changes included (paths from the root)."""
    shared_paths = {e.path for e in commit.edits}
    own = [member.rebased(p) for p in member.plan.committed_paths]
    return shared._replace(
        project=member.name,
        edits=commit.edits,
        consumed_fragments=tuple(dict.fromkeys(p for p in own if p not in shared_paths)),
        commit_message=commit.message,
    )


def commit_steps(members: Sequence[Member], shared: Plan, commits: Sequence[Commit]) -> list[Step]:
    """The prepare stage with one release commit per package: for each package in turn, its
    own prepare steps, the edits of the whole its commit takes, then its commit."""
    steps: list[Step] = []
    for member, commit in zip(members, commits, strict=True):
        mine = [s for s in member.plan.steps if s.stage == "prepare"]
        steps += [member.own(s) for s in mine if s.name != "commit"]
        if commit.edits:
            steps.append(
                Step(
                    "prepare",
                    "edit-shared",
                    f"write {', '.join(e.path for e in commit.edits)} for the release commit "
                    f"of {member.name}",
                    path=member.name,
                )
            )
        if any(s.name == "commit" for s in mine):
            frame = commit_frame(shared, member, commit)
            steps.append(
                Step(
                    "prepare",
                    "commit",
                    f"commit the release of {member.name} {member.plan.version}",
                    commands.release_commit(frame),
                    path=member.name,
                )
            )
    return steps
