"""A release of several packages of one repository (docs/monorepo.md).

Each selected package gets its own plan, made from its own facts exactly as a project of
its own would; this module composes them into one release: every package's steps, each
run in its package's frame, around the steps of them all (one release commit, one
atomic push of the branch and every tag, the development commit), in dependency order,
with a wait before a dependent is published until the index serves its dependencies.
Composing is pure; :func:`gather` reads the world.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from packaging.version import Version

from release import commands
from release.errors import ReleaseError, UsageError
from release.memo import Memo
from release.paths import real
from release.plan import FileEdit, Plan, Request, Step
from release.runner import Completed, Runner
from release.stages import STAGES

if TYPE_CHECKING:
    from release.checks import Problem
    from release.config import Inherited
    from release.facts import Facts
    from release.gitreads import GitReads
    from release.packages import Package

SCHEMA_VERSION = 1


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


class Member(NamedTuple):
    """A package released in this run: its place, its plan (paths relative to ``path``)."""

    name: str
    path: str  # relative to the repository's root
    plan: Plan
    requires: tuple[str, ...] = ()  # the packages of this release it depends on

    def rebased(self, path: str) -> str:
        """A path of the package's plan, relative to the repository's root."""
        return posixpath.normpath(posixpath.join(self.path, path))


class Commit(NamedTuple):
    """A release commit: one for every package released (the default), or one per package
    (``consolidate-commits = false``)."""

    message: str
    packages: tuple[str, ...]  # the packages it releases, each tagged on it
    # The edits of the whole it takes, paths from the root: the root uv.lock, the
    # requirement rewrites of dependents (update-dependents).
    edits: tuple[FileEdit, ...] = ()


class WorkspacePlan(NamedTuple):
    members: tuple[Member, ...]  # in dependency order: dependencies first
    shared: Plan  # the frame of the steps of all packages (paths from the root)
    steps: tuple[Step, ...]
    held_back: tuple[tuple[str, str], ...] = ()  # (package, why it is not released)
    pin_edits: tuple[FileEdit, ...] = ()  # requirement rewrites of packages not released
    needs_release: tuple[str, ...] = ()  # packages whose requirements were rewritten
    commits: tuple[Commit, ...] = ()  # the release commits, in the order they are made

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(name)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(m.plan.tag for m in self.members)

    @property
    def split(self) -> bool:
        """Whether each package has a release commit of its own."""
        return len(self.commits) > 1

    def follows(self, name: str) -> str:
        """With one commit per package: the package whose release commit the release
        commit of ``name`` is made on ("" for the first: on the release's start)."""
        names = [m.name for m in self.members]
        at = names.index(name)
        return names[at - 1] if at else ""

    def commit_of(self, step: Step) -> Commit | None:
        """With one commit per package: the commit a step of the whole prepares (its
        ``edit-shared`` and ``commit`` steps, named after the package); else None."""
        if not self.split or step.package or step.stage != "prepare":
            return None
        if step.name not in ("commit", "edit-shared"):
            return None
        return next((c for c in self.commits if c.packages == (step.path,)), None)

    def commit_plan(self, name: str) -> Plan:
        """The frame of the steps that make package ``name``'s own release commit."""
        commit = next(c for c in self.commits if c.packages == (name,))
        return _commit_frame(self.shared, self.member(name), commit)

    def commit_paths(self, commit: Commit) -> tuple[str, ...]:
        """Every path ``commit`` takes, from the root."""
        if not self.split:
            return self.shared.committed_paths
        frame = self.commit_plan(commit.packages[0])
        # The package's own first, then those of the whole.
        return (*frame.consumed_fragments, *(e.path for e in frame.edits))

    @property
    def summary(self) -> str:
        return ", ".join(f"{m.name} {m.plan.version}" for m in self.members)

    def to_json(self) -> dict[str, Any]:
        """``release preview --json`` of a release of several packages (docs/plan-json.md)."""
        data: dict[str, Any] = {
            "schema": "release-pipeline/workspace-plan",
            "schema_version": SCHEMA_VERSION,
            "order": [m.name for m in self.members],
            "packages": {
                m.name: {"path": m.path, "requires": list(m.requires), "plan": m.plan.to_json()}
                for m in self.members
            },
            "held_back": [{"package": n, "why": why} for n, why in self.held_back],
            "needs_release": list(self.needs_release),
            "pin_edits": [{"path": e.path, "diff": e.diff()} for e in self.pin_edits],
            "commit_message": None if self.split else self.shared.commit_message,
            "commits": [
                {
                    "message": c.message,
                    "packages": list(c.packages),
                    "tags": [self.member(n).plan.tag for n in c.packages],
                    "paths": list(self.commit_paths(c)),
                }
                for c in self.commits
            ],
            "tags": list(self.tags),
            "steps": [
                {"id": s.id, "package": s.package, "stage": s.stage, "summary": s.summary}
                for s in self.steps
            ],
        }
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        data["fingerprint"] = digest
        return data

    def to_journal(self) -> dict[str, Any]:
        public = self.to_json()
        # What Journal.save shows of any plan, and how a reader tells the two apart.
        public["version"] = self.summary
        public["tag"] = " ".join(self.tags)
        return {
            "workspace": True,
            "public": public,
            "members": [
                {
                    "name": m.name,
                    "path": m.path,
                    "requires": list(m.requires),
                    "plan": m.plan.to_journal(),
                }
                for m in self.members
            ],
            "shared": self.shared.to_journal(),
            "steps": [
                [s.stage, s.name, s.summary, list(s.command), s.path, s.package] for s in self.steps
            ],
            "held_back": [list(item) for item in self.held_back],
            "pin_edits": [[e.path, e.before, e.after] for e in self.pin_edits],
            "needs_release": list(self.needs_release),
            "commits": [
                [c.message, list(c.packages), [[e.path, e.before, e.after] for e in c.edits]]
                for c in self.commits
            ],
        }

    @classmethod
    def from_journal(cls, data: Mapping[str, Any]) -> WorkspacePlan:
        members = tuple(
            Member(m["name"], m["path"], Plan.from_journal(m["plan"]), tuple(m["requires"]))
            for m in data["members"]
        )
        shared = Plan.from_journal(data["shared"])
        commits = tuple(
            Commit(message, tuple(names), tuple(FileEdit(*e) for e in edits))
            for message, names, edits in data.get("commits", ())
        ) or (Commit(shared.commit_message, tuple(m.name for m in members)),)
        return cls(
            members,
            shared,
            tuple(Step(st, n, su, tuple(c), p, pk) for st, n, su, c, p, pk in data["steps"]),
            tuple((n, why) for n, why in data["held_back"]),
            tuple(FileEdit(*e) for e in data["pin_edits"]),
            tuple(data["needs_release"]),
            commits,
        )


def workspace_packages(
    project_dir: Path, project: str, environ: Mapping[str, str] | None = None
) -> tuple[Package, ...]:
    """The packages of the repository when ``project_dir`` is the root of one that holds
    several (docs/monorepo.md); none otherwise. With ``environ``, the cache it names keeps
    packaging's reading of their requirements."""
    from release.ops.git import ROOT_PROJECT

    if project != ROOT_PROJECT or not declares_packages(project_dir):
        return ()
    from release.packages import discover

    memo = Memo.from_environ(environ) if environ is not None else None
    found = discover(project_dir, memo=memo)
    # A workspace of the root alone is a single project.
    return found if any(p.path != ROOT_PROJECT for p in found) else ()


def declares_packages(root: Path) -> bool:
    """Whether the root pyproject.toml declares packages (a uv workspace or
    `[[tool.release.packages]]`): read without the package machinery, which a single
    project's preview never loads."""
    from release.config import read_pyproject
    from release.errors import ConfigError

    if not (root / "pyproject.toml").is_file():
        return False
    try:
        tool = read_pyproject(root).get("tool", {})
    except ConfigError:
        return False  # the project's own reading of it says what is wrong
    if not isinstance(tool, dict):
        return False
    uv, table = tool.get("uv", {}), tool.get("release", {})
    return (isinstance(uv, dict) and "workspace" in uv) or (
        isinstance(table, dict) and "packages" in table
    )


def inherited_by(root: Path, project: str) -> Inherited | None:
    """The root settings the package at ``project`` (its path in the repository at
    ``root``) inherits, when the root declares it one of several packages; else None."""
    from release.config import inherited_from_root
    from release.ops.git import ROOT_PROJECT

    if not declares_packages(root):
        return None
    if not any(p.path == project for p in workspace_packages(root, ROOT_PROJECT)):
        return None
    return inherited_from_root(root, project)


def is_workspace_journal(plan: Mapping[str, Any]) -> bool:
    return bool(plan.get("workspace"))


# -- composing (pure) ----------------------------------------------------------------


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


def _commit_frame(shared: Plan, member: Member, commit: Commit) -> Plan:
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


def _edited(plan: Plan) -> set[str]:
    return {e.path for e in plan.edits}


def _own(member: Member, step: Step) -> Step:
    return step._replace(package=member.name)


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
            steps += _commit_each(members, shared, commits)
        elif stage == "prepare":
            steps += [_own(m, s) for m, s in own if s.name != "commit"]
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
                steps += [_own(member, s) for s in mine]
        elif stage == "post":
            steps += [_own(m, s) for m, s in own if s.name in {"edit-version", "user"}]
            steps += [
                Step("post", "edit-version", f"write {e.path}", path=e.path)
                for e in shared_dev_edits
            ]
            if any(s.name == "commit" for _, s in own):
                steps.append(Step("post", "commit", shared.dev_commit_message))
            if any(s.name == "push" for _, s in own):
                steps.append(Step("post", "push", f"push {shared.branch} to {shared.remote}"))
        else:
            steps += [_own(m, s) for m, s in own]
    return tuple(steps)


def _commit_each(members: Sequence[Member], shared: Plan, commits: Sequence[Commit]) -> list[Step]:
    """The prepare stage with one release commit per package: for each package in turn, its
    own prepare steps, the edits of the whole its commit takes, then its commit."""
    steps: list[Step] = []
    for member, commit in zip(members, commits, strict=True):
        mine = [s for s in member.plan.steps if s.stage == "prepare"]
        steps += [_own(member, s) for s in mine if s.name != "commit"]
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
            frame = _commit_frame(shared, member, commit)
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


def _wait_step(dependency: str) -> Step:
    return Step(
        "publish",
        "wait-for",
        f"wait until every target serves {dependency}'s new files before its dependents "
        "are uploaded",
        path=dependency,
    )


# -- choosing and checking -------------------------------------------------------------


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


# -- reading the world -----------------------------------------------------------------


class Gathered(NamedTuple):
    packages: tuple[Package, ...]  # every package, in dependency order
    facts: dict[str, Facts]
    consolidate: bool = True  # the root's consolidate-commits: one release commit for all


def gather(
    root: Path,
    packages: Sequence[Package],
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    started: GitReads,
) -> Gathered:
    """Every package's facts, read as a project of its own would be, with the root's
    settings inherited and the repository's git reads shared: first every package's
    configuration, then one question to git for all their highest tags, answered while
    their fragments are read, then the rest."""
    from release import tags as tags_mod
    from release.config import inherited_from_root, load, root_setting
    from release.facts import gather as gather_one
    from release.facts import read_fragments
    from release.packages import dependency_order
    from release.runner import Runner

    memo = Memo.from_environ(environ)
    configs = {}
    tops: list[str] = []
    for package in packages:
        inherited = inherited_from_root(root, package.path)
        with about_package(package):
            cfg = load(
                root / package.path, environ=environ, overrides=overrides, workspace=inherited
            )
        configs[package.name] = (cfg, inherited)
        releases = tags_mod.release_tags(started.tag_names(), cfg.tag_format, cfg.tag_scheme, memo)
        if releases:
            tops.append(releases[-1].name)
    answer = started.reachable(tops)
    fragments = {}
    for package in packages:
        cfg, _ = configs[package.name]
        with about_package(package):
            fragments[package.name] = read_fragments(real(root / package.path), cfg, memo)
    reachable = answer()
    found: dict[str, Facts] = {}
    for package in packages:
        directory = real(root / package.path)
        cfg, inherited = configs[package.name]
        with about_package(package):
            found[package.name] = gather_one(
                directory,
                environ=environ,
                overrides=overrides,
                runner=Runner(directory),
                started=started,
                workspace=inherited,
                config=cfg,
                reachable=reachable,
                fragments=fragments[package.name],
            )
    consolidate = root_setting(root, "consolidate-commits", environ=environ, overrides=overrides)
    return Gathered(dependency_order(packages), found, consolidate)


@contextlib.contextmanager
def about_package(package: Package) -> Iterator[None]:
    """An error reading ``package`` says which package it is."""
    try:
        yield
    except ReleaseError as exc:
        # The error itself, told which package: not a new one of its type, whose
        # constructor may take other arguments (CommandError's are the command's).
        exc.message = f"Package {package.name} ({package.path}): {exc.message}"
        exc.args = (exc.message,)
        raise


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
        shared_edits, shared_dev = _lock_edits(members, lock_text)
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
    for name, edit in _lock_edits_each(members, lock_text):
        shares.setdefault(name, []).append(edit)
    _, shared_dev = _lock_edits(members, lock_text)
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


def _lock_edits(
    members: Sequence[Member], lock_text: str | None
) -> tuple[list[FileEdit], list[FileEdit]]:
    """The root uv.lock with each released package's own version entry moved on (and, with
    development versions, again after the release)."""
    if lock_text is None:
        return [], []
    after = _locked(lock_text, {m.name: m.plan.version for m in members})
    edits = [FileEdit("uv.lock", lock_text, after)] if after != lock_text else []
    dev_after = _locked(after, {m.name: m.plan.next_dev for m in members if m.plan.next_dev})
    dev = [FileEdit("uv.lock", after, dev_after)] if dev_after != after else []
    return edits, dev


def _lock_edits_each(
    members: Sequence[Member], lock_text: str | None
) -> list[tuple[str, FileEdit]]:
    """With one release commit per package: the root uv.lock moved one package at a time,
    in the order of the commits, so that it is right at every tag (package name, edit)."""
    if lock_text is None:
        return []
    found: list[tuple[str, FileEdit]] = []
    text = lock_text
    for member in members:
        after = _locked(text, {member.name: member.plan.version})
        if after != text:
            found.append((member.name, FileEdit("uv.lock", text, after)))
        text = after
    return found


def _locked(text: str, versions: Mapping[str, Version]) -> str:
    """uv.lock ``text`` with the entries of the packages named moved to their versions;
    a package uv locks without a version (a dynamic one) is left as it is."""
    from release.uvlock import moved

    return moved(text, {name: str(version) for name, version in versions.items()})


def read_lock(root: Path) -> str | None:
    """The text of the repository's uv.lock, if it has one: a release moves the versions of
    the packages it releases there too."""
    from release.ops.files import read_exact

    return read_exact(root / "uv.lock")
