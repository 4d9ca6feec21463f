"""The release of several packages as a plan: its packages, the frame of the steps of
them all, its steps and release commits; as ``release preview --json`` shows it and as its
journal keeps it."""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping
from typing import Any, NamedTuple

from release.plan import FileEdit, Plan, Step
from release.workspace.commits import Commit, commit_frame

SCHEMA_VERSION = 1


class Member(NamedTuple):
    """A package released in this run: its place, its plan (paths relative to ``path``)."""

    name: str
    path: str  # relative to the repository's root
    plan: Plan
    requires: tuple[str, ...] = ()  # the packages of this release it depends on

    def rebased(self, path: str) -> str:
        """A path of the package's plan, relative to the repository's root."""
        return posixpath.normpath(posixpath.join(self.path, path))

    def own(self, step: Step) -> Step:
        """A step of the package's plan as a step of the release: run in its frame."""
        return step._replace(package=self.name)


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
        return commit_frame(self.shared, self.member(name), commit)

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


def is_workspace_journal(plan: Mapping[str, Any]) -> bool:
    return bool(plan.get("workspace"))
