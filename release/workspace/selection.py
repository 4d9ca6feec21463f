"""Which packages of the repository a release takes: those named, all, or by default those
with something to release; and why each of the others is held back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from release.errors import UsageError

if TYPE_CHECKING:
    from release.facts import Facts
    from release.packages import Package


class Selection(NamedTuple):
    """Which packages to release: those named (``--package``), all (``--all``), or by
    default those with something to release (unreleased fragments; in commits mode,
    commits touching their directory since their last tag)."""

    names: tuple[str, ...] = ()
    every: bool = False

    def refuse_for_one_project(self) -> None:
        """A single project takes no selection: refused, rather than silently ignored."""
        if self != Selection():
            raise UsageError(
                "--package and --all choose among the packages of a repository of several; "
                "this project is a single package.",
                "Leave them out, or run at the root of the repository (docs/monorepo.md).",
            )


def select(
    packages: Sequence[Package], facts: Mapping[str, Facts], selection: Selection
) -> tuple[list[str], list[tuple[str, str]]]:
    """The names of the packages to release (as declared) and, for the others, why not."""
    known = {p.name for p in packages}
    unknown = [n for n in selection.names if n not in known]
    if unknown:
        raise UsageError(
            f"--package {unknown[0]}: no package of this repository is named so.",
            f"Its packages: {', '.join(sorted(known))}.",
        )
    chosen: list[str] = []
    held: list[tuple[str, str]] = []
    for package in packages:
        if selection.every or package.name in selection.names:
            chosen.append(package.name)
            continue
        if selection.names:
            held.append((package.name, "not named with --package"))
            continue
        why = _nothing_to_release(facts[package.name])
        if why:
            held.append((package.name, why))
        else:
            chosen.append(package.name)
    return chosen, held


def _nothing_to_release(facts: Facts) -> str:
    """Why a package has nothing to release by default, or "" when it has something."""
    if facts.config["version-source"] == "commits":
        if facts.commits is not None and not facts.commits:
            return "no commit touches it since its last release"
        return ""
    if facts.fragments.fragments or facts.fragments.problems:
        return ""
    return "no unreleased changelog fragment"
