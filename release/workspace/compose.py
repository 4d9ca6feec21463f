"""Composing the plans of the packages released, each made on its own, into one release
(pure): every package's steps, each run in its package's frame, around the steps of them
all (the release commits, one atomic push of the branch and every tag, the development
commit), in dependency order, with a wait before a dependent is published until the index
serves its dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from release import commands
from release.errors import ReleaseError
from release.plan import FileEdit, Plan, Step
from release.stages import STAGES
from release.workspace.commits import Commit, commit_steps
from release.workspace.plan import Member, WorkspacePlan


def compose(
    members: Sequence[Member],
    *,
    held_back: Sequence[tuple[str, str]] = (),
    pin_edits: Sequence[FileEdit] = (),
    needs_release: Sequence[str] = (),
    shared_edits: Sequence[FileEdit] = (),
    shared_dev_edits: Sequence[FileEdit] = (),
    commit_edits: Mapping[str, Sequence[FileEdit]] | None = None,
) -> WorkspacePlan:
    """One release of ``members`` (in dependency order, each plan made on its own).

    By default one release commit takes them all: ``pin_edits`` (requirement rewrites in
    packages not released) and ``shared_edits`` (e.g. uv.lock) are made by steps of the
    whole, with paths from the root, before it. With ``commit_edits`` (``consolidate-commits
    = false``) each package has a release commit of its own, in dependency order, taking
    its own changes and its edits of the whole (``commit_edits[name]``, paths from the root,
    each made on the text the commits before it left); ``shared_edits`` is then empty and
    ``pin_edits`` (the rewrites of packages not released, from first to last) only shown.
    ``shared_dev_edits`` are made before the one development commit."""
    if not members:
        raise ReleaseError("No package to release.", "")
    if commit_edits is not None and shared_edits:
        raise ReleaseError(
            "Edits of the whole belong to one package's commit when each has its own.",
            "This is a bug in release-pipeline; please report it.",
        )
    first = members[0].plan
    all_edits = [
        FileEdit(m.rebased(e.path), e.before, e.after) for m in members for e in m.plan.edits
    ]
    if commit_edits is None:
        all_edits += [*pin_edits, *shared_edits]
    else:
        all_edits += [e for m in members for e in commit_edits.get(m.name, ())]
    committed = [
        m.rebased(p) for m in members for p in m.plan.committed_paths if p not in _edited(m.plan)
    ]
    dev_edits = [
        FileEdit(m.rebased(e.path), e.before, e.after) for m in members for e in m.plan.dev_edits
    ]
    dev_edits += shared_dev_edits
    listed = ", ".join(f"{m.name} {m.plan.version}" for m in members)
    shared = first._replace(
        project=", ".join(m.name for m in members),
        edits=tuple(all_edits),
        consumed_fragments=tuple(committed),
        user_steps=(),
        commit_message=f"Release {listed}",
        dev_edits=tuple(dev_edits),
        dev_commit_message="Start development of "
        + ", ".join(f"{m.name} {m.plan.next_dev}" for m in members if m.plan.next_dev),
        changelog_file=None,
        steps=(),
    )
    commits: tuple[Commit, ...]
    if commit_edits is None:
        commits = (
            Commit(
                shared.commit_message, tuple(m.name for m in members), (*pin_edits, *shared_edits)
            ),
        )
    else:
        commits = tuple(
            Commit(
                f"Release {m.name} {m.plan.version}", (m.name,), tuple(commit_edits.get(m.name, ()))
            )
            for m in members
        )
    steps = _steps(members, shared, commits, [*pin_edits, *shared_edits], shared_dev_edits)
    return WorkspacePlan(
        tuple(members),
        shared,
        steps,
        tuple(held_back),
        tuple(pin_edits),
        tuple(needs_release),
        commits,
    )


def _edited(plan: Plan) -> set[str]:
    return {e.path for e in plan.edits}


def _steps(
    members: Sequence[Member],
    shared: Plan,
    commits: Sequence[Commit],
    shared_edits: Sequence[FileEdit],
    shared_dev_edits: Sequence[FileEdit],
) -> tuple[Step, ...]:
    released = {m.name for m in members}
    steps: list[Step] = []
    for stage in STAGES:
        own = [(m, s) for m in members for s in m.plan.steps if s.stage == stage]
        if stage == "prepare" and len(commits) > 1:
            steps += commit_steps(members, shared, commits)
        elif stage == "prepare":
            steps += [m.own(s) for m, s in own if s.name != "commit"]
            steps += [
                Step("prepare", "edit-version", f"write {e.path}", path=e.path)
                for e in shared_edits
            ]
            if any(s.name == "commit" for _, s in own):
                steps.append(
                    Step(
                        "prepare",
                        "commit",
                        f"commit the release of {len(members)} package(s)",
                        commands.release_commit(shared),
                    )
                )
        elif stage == "push":
            if own:
                steps.append(
                    Step(
                        "push",
                        "push",
                        f"push {shared.branch} and {len(members)} tag(s) to {shared.remote}, "
                        "atomically",
                    )
                )
        elif stage == "publish":
            waited: set[str] = set()
            for member in members:
                mine = [s for m, s in own if m is member]
                if mine:
                    for dependency in member.requires:
                        if dependency in released and dependency not in waited:
                            waited.add(dependency)
                            steps.append(_wait_step(dependency))
                steps += [member.own(s) for s in mine]
        elif stage == "post":
            steps += [m.own(s) for m, s in own if s.name in {"edit-version", "user"}]
            steps += [
                Step("post", "edit-version", f"write {e.path}", path=e.path)
                for e in shared_dev_edits
            ]
            if any(s.name == "commit" for _, s in own):
                steps.append(Step("post", "commit", shared.dev_commit_message))
            if any(s.name == "push" for _, s in own):
                steps.append(Step("post", "push", f"push {shared.branch} to {shared.remote}"))
        else:
            steps += [m.own(s) for m, s in own]
    return tuple(steps)


def _wait_step(dependency: str) -> Step:
    return Step(
        "publish",
        "wait-for",
        f"wait until every target serves {dependency}'s new files before its dependents "
        "are uploaded",
        path=dependency,
    )
