"""The release of the selected packages and every problem with it: each package's own plan
and checks, the dependents' pins, the root uv.lock, composed into one release."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import UsageError
from release.memo import Memo
from release.plan import FileEdit, Request
from release.runner import Completed, Runner
from release.workspace.compose import compose
from release.workspace.lockfile import lock_edits, lock_edits_each
from release.workspace.pins import collapsed, fold_pins, pin_problems_and_edits, split_pins
from release.workspace.plan import Member, WorkspacePlan
from release.workspace.selection import Selection, select

if TYPE_CHECKING:
    from release.checks import Problem
    from release.packages import Package
    from release.workspace.gather import Gathered


def plan(
    gathered: Gathered,
    selection: Selection,
    request: Request,
    environ: Mapping[str, str],
    until: str | None = None,
    *,
    lock_text: str | None = None,
) -> tuple[WorkspacePlan | None, list[Problem]]:
    """The release of the selected packages and every problem with it (each package's own,
    named, and the workspace's: dependency pins)."""
    from release.checks import Problem, evaluate

    names, held = select(gathered.packages, gathered.facts, selection)
    if request.target is not None and len(names) != 1:
        raise UsageError(
            f"A version ({request.target}) can only be given for one package; "
            f"{len(names)} are selected ({', '.join(names) or 'none'}).",
            "Name the package with --package NAME.",
        )
    problems: list[Problem] = []
    members: list[Member] = []
    chosen = set(names)
    asked = _OnceAsked(next(iter(gathered.facts.values())).git.toplevel)
    for package in gathered.packages:
        if package.name not in chosen:
            continue
        facts = gathered.facts[package.name]
        made, found = evaluate(facts, request, environ, until, runner=asked)
        problems += [p._replace(message=f"{package.name}: {p.message}") for p in found]
        if made is not None:
            requires = tuple(_names_required(package, chosen))
            members.append(Member(package.name, package.path, made, requires))
    if not members:
        if not names:
            problems.append(
                Problem(
                    "nothing-to-release",
                    "No package has anything to release: "
                    + "; ".join(f"{n}: {why}" for n, why in held)
                    + ".",
                    "Add a changelog fragment to a package, or name packages with --package "
                    "NAME or --all.",
                )
            )
        return None, problems
    pins, rewrites, needs = pin_problems_and_edits(
        gathered.packages, gathered.facts, members, Memo.from_environ(environ)
    )
    problems += pins
    if gathered.consolidate or len(members) == 1:
        members, pin_edits = fold_pins(members, collapsed(rewrites))
        shared_edits, shared_dev = lock_edits(members, lock_text)
        workspace = compose(
            members,
            held_back=held,
            pin_edits=pin_edits,
            needs_release=needs,
            shared_edits=shared_edits,
            shared_dev_edits=shared_dev,
        )
        return workspace, problems
    members, shares = split_pins(members, rewrites)
    for name, edit in lock_edits_each(members, lock_text):
        shares.setdefault(name, []).append(edit)
    _, shared_dev = lock_edits(members, lock_text)
    released = {m.rebased("pyproject.toml") for m in members}
    shown = [FileEdit(p, b, a) for p, (b, a) in collapsed(rewrites).items() if p not in released]
    workspace = compose(
        members,
        held_back=held,
        pin_edits=shown,
        needs_release=needs,
        shared_dev_edits=shared_dev,
        commit_edits=shares,
    )
    return workspace, problems


class _OnceAsked(Runner):
    """The runner of every package's checks: git's answers about commits (is one an
    ancestor of another) are the same for every package of the repository, so each is
    asked once."""

    __slots__ = ("_answers",)

    def __init__(self, cwd: Path) -> None:
        super().__init__(cwd)
        self._answers: dict[tuple[str, ...], Completed] = {}

    def git(self, *args: str, check: bool = True) -> Completed:
        if args[:2] != ("merge-base", "--is-ancestor"):
            return super().git(*args, check=check)
        if args not in self._answers:
            self._answers[args] = super().git(*args, check=False)
        done = self._answers[args]
        if check and done.returncode != 0:
            return super().git(*args, check=True)  # raises as the runner does
        return done


def _names_required(package: Package, chosen: set[str]) -> list[str]:
    from release.names import normalised
    from release.requirements import read

    by_key = {normalised(n): n for n in chosen}
    found: list[str] = []
    for text in package.requires:
        name = by_key.get(read(text).key)
        if name is not None and name not in found:
            found.append(name)
    return found


def requires_among(package: Package, names: Sequence[str]) -> tuple[str, ...]:
    """The packages among ``names`` that ``package`` requires, as ``names`` spells them."""
    return tuple(_names_required(package, set(names)))
