"""The requirements of dependents on the packages released (``update-dependents``): a
problem for each that excludes a new version, or its rewrite, joined to the plans of the
packages released or made as an edit of the whole."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.version import Version

from release.errors import ReleaseError
from release.plan import FileEdit, Plan

if TYPE_CHECKING:
    from release.checks import Problem
    from release.facts import Facts
    from release.memo import Memo
    from release.packages import Package
    from release.workspace.plan import Member


class PinRewrite(NamedTuple):
    """A dependent's pyproject.toml with its requirements on one released package rewritten
    (update-dependents); the rewrites of one file are chained, in the order the packages
    are released."""

    dependency: str
    path: str  # from the root
    before: str
    after: str


def pin_problems_and_edits(
    packages: Sequence[Package],
    facts: Mapping[str, Facts],
    members: Sequence[Member],
    memo: Memo | None = None,
) -> tuple[list[Problem], list[PinRewrite], list[str]]:
    """The dependents whose requirements exclude a new version: a problem each, unless the
    dependent's `update-dependents` is on; then its pyproject.toml rewritten, one
    :class:`PinRewrite` per file and released package, and the dependents not in this
    release that now need one."""
    from release.checks import Problem
    from release.ops.files import read_exact
    from release.packages import pin_conflicts, update_pins

    versions = {m.name: m.plan.version for m in members}
    order = [m.name for m in members]
    where = {p.name: p for p in packages}
    problems: list[Problem] = []
    rewrites: list[PinRewrite] = []
    texts: dict[str, str] = {}
    latest: dict[str, int] = {}  # path -> the index of its last rewrite
    released = set(versions)
    needs: list[str] = []
    conflicts = sorted(
        pin_conflicts(packages, versions, memo), key=lambda c: order.index(c.dependency)
    )
    for conflict in conflicts:
        dependent = where[conflict.dependent]
        cfg = facts[dependent.name].config
        if not cfg["update-dependents"]:
            problems.append(
                Problem(
                    "dependency-pin",
                    conflict.describe(),
                    f"Widen the requirement in {posixpath.join(dependent.path, 'pyproject.toml')}, "
                    "or set update-dependents = true in [tool.release] to rewrite it as part of "
                    "the release.",
                )
            )
            continue
        path = posixpath.normpath(posixpath.join(dependent.path, "pyproject.toml"))
        if path not in texts:
            read = read_exact(Path(facts[dependent.name].project_dir) / "pyproject.toml")
            assert read is not None  # the package's configuration was read from it
            texts[path] = read
        before = texts[path]
        texts[path] = update_pins(before, conflict.dependency, Version(conflict.version))
        at = latest.get(path)
        if at is not None and rewrites[at].dependency == conflict.dependency:
            rewrites[at] = rewrites[at]._replace(after=texts[path])  # one edit per package
        elif texts[path] != before:
            latest[path] = len(rewrites)
            rewrites.append(PinRewrite(conflict.dependency, path, before, texts[path]))
        if dependent.name not in released and dependent.name not in needs:
            needs.append(dependent.name)
    return problems, rewrites, needs


def collapsed(rewrites: Sequence[PinRewrite]) -> dict[str, tuple[str, str]]:
    """Each rewritten file (path from the root) -> (its text before, after every rewrite)."""
    out: dict[str, tuple[str, str]] = {}
    for rewrite in rewrites:
        first = out.get(rewrite.path, (rewrite.before, ""))[0]
        out[rewrite.path] = (first, rewrite.after)
    return out


def fold_pins(
    members: Sequence[Member], rewritten: Mapping[str, tuple[str, str]]
) -> tuple[list[Member], list[FileEdit]]:
    """Requirement rewrites joined to the plans: a released dependent's pyproject.toml edit
    takes them (its development edit too); the rest become edits of the whole."""
    left = dict(rewritten)
    out: list[Member] = []
    for member in members:
        path = member.rebased("pyproject.toml")
        if path in left and any(e.path == "pyproject.toml" for e in member.plan.edits):
            before, after = left.pop(path)
            out.append(member._replace(plan=_joined(member.plan, before, after)))
        else:
            out.append(member)
    edits = [FileEdit(path, before, after) for path, (before, after) in left.items()]
    return out, edits


def split_pins(
    members: Sequence[Member], rewrites: Sequence[PinRewrite]
) -> tuple[list[Member], dict[str, list[FileEdit]]]:
    """With one release commit per package: each rewrite goes into the commit of the
    package it is for (so every tag sees its dependents admit it); a released dependent's
    own edits are made on its pyproject.toml as those commits, which come before its own,
    left it. The edits of the whole, by the package whose commit takes them."""
    shares: dict[str, list[FileEdit]] = {}
    for rewrite in rewrites:
        edit = FileEdit(rewrite.path, rewrite.before, rewrite.after)
        shares.setdefault(rewrite.dependency, []).append(edit)
    left = collapsed(rewrites)
    out: list[Member] = []
    for member in members:
        path = member.rebased("pyproject.toml")
        if path in left and any(e.path == "pyproject.toml" for e in member.plan.edits):
            before, after = left[path]
            out.append(member._replace(plan=_joined(member.plan, before, after, rebase=True)))
        else:
            out.append(member)
    return out, shares


def _joined(plan: Plan, before: str, pinned: str, *, rebase: bool = False) -> Plan:
    """``plan`` with the requirement rewrites of its pyproject.toml (``before`` ->
    ``pinned``) made in its version edit and its development edit; ``rebase``: made
    before the version edit (by other commits), which then starts from ``pinned``."""

    def carry(text: str) -> str:
        # The version edit changes only the version line; the rewrite only requirements:
        # replay the rewrite on the edited text, line by line.
        return _replay(before, pinned, text)

    edits = tuple(
        e._replace(before=pinned if rebase else e.before, after=carry(e.after))
        if e.path == "pyproject.toml"
        else e
        for e in plan.edits
    )
    dev = tuple(
        e._replace(before=carry(e.before or ""), after=carry(e.after))
        if e.path == "pyproject.toml"
        else e
        for e in plan.dev_edits
    )
    return plan._replace(edits=edits, dev_edits=dev)


def _replay(before: str, after: str, text: str) -> str:
    """``text`` (``before`` with other lines changed) with the lines that changed from
    ``before`` to ``after`` changed the same way."""
    import difflib

    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    mine = text.splitlines(keepends=True)
    if len(mine) != len(old):
        raise ReleaseError(
            "The version edit and the requirement rewrite of one pyproject.toml overlap.",
            "This is a bug in release-pipeline; please report it.",
        )
    out = list(mine)
    shift = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag == "equal":
            continue
        out[i1 + shift : i2 + shift] = new[j1:j2]
        shift += (j2 - j1) - (i2 - i1)
    return "".join(out)
