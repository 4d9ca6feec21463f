"""The release journal and lock, kept inside ``.git/`` so the work tree stays clean.

Each project (its path inside the repository) has its own: a repository may hold
several projects, each releasing on its own. The journal is rewritten atomically
(temporary file, fsync, rename) after every step, so a release killed at any moment
leaves a journal that ``release resume`` and ``release abort`` can trust.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.errors import ReleaseError
from release.ops.git import ROOT_PROJECT, locate
from release.runner import Runner

JOURNAL_SCHEMA_VERSION = 2  # 2: plans carry publish targets and the forge
PENDING, DONE, FAILED = "pending", "done", "failed"
SKIPPED = "skipped"  # release resume --skip: the user did it by hand, or accepts it undone


class LockedError(ReleaseError):
    """Another release of the same project is running."""


def state_dir(git_dir: Path, project: str) -> Path:
    """The state (journal, lock, manifests, build staging) of the project at ``project``,
    its path inside the repository: ``.git/release-pipeline/`` for the project at the
    root (where releases have always kept it, so a journal from before projects were told
    apart is still read), ``.git/release-pipeline/projects/<path, quoted>/`` for one in a
    subdirectory (one directory each, so no project's path can name another's files)."""
    base = git_dir / "release-pipeline"
    if project == ROOT_PROJECT:
        return base
    from urllib.parse import quote  # here only: it imports ipaddress, costly at start-up

    return base / "projects" / quote(project, safe="")


def project_state_dir(runner: Runner) -> Path:
    """The state directory of the project the runner works in."""
    return state_dir(*locate(runner))


@dataclass
class Journal:
    path: Path
    plan: dict[str, Any]
    start_head: str
    start_branch: str
    steps: dict[str, str]
    release_commit: str | None = None
    dev_commit: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, dict[str, str]] = field(default_factory=dict)
    pushed: bool = False
    finished: bool = False
    error: str = ""
    dist_existed: bool = True
    # The project's path inside the repository; None in a journal written before
    # projects were told apart (one journal per repository, at the root's place).
    project: str | None = ROOT_PROJECT
    # Each release gate that ran: {"result": "passed"|"failed", "tree": the tree hash it
    # checked, "seconds": how long it took, "by": "release" or "nox"} (steps/gate.py).
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A release of several packages: each package's own part ("artifacts", "uploads",
    # "dist_existed", "gates"), by package name; see :meth:`of_package`.
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_package(self, name: str, *, own_commit: bool = False, after: str = "") -> Journal:
        """This journal as one package's steps see it: their own artifacts, uploads and
        gates, everything else (steps, commits, pushed) shared, each change saved here.

        ``own_commit``: the package has a release commit of its own (one commit per
        package): ``release_commit`` is that one, made on the release commit of the package
        ``after`` (none: on the commit the release started from); setting it also makes it
        the journal's ``release_commit``, the last one made."""
        own = self.packages.setdefault(name, {})
        own.setdefault("artifacts", {})
        own.setdefault("uploads", {})
        own.setdefault("gates", {})
        own.setdefault("dist_existed", True)
        if own_commit:
            own.setdefault("release_commit", None)
        # A view, not a copy: the steps assign to these attributes and call save().
        return _PackageView(self, own, after if own_commit else None)  # type: ignore[return-value]

    @property
    def commit_parent(self) -> str:
        """The commit the release commit is made on (see :meth:`of_package`)."""
        return self.start_head

    @property
    def committed(self) -> bool:
        """Whether a release commit is made (with one per package: any of them)."""
        return self.release_commit is not None

    def package_commits(self) -> dict[str, str]:
        """Package name -> its own release commit, for each package that has one made."""
        return {
            name: own["release_commit"]
            for name, own in self.packages.items()
            if own.get("release_commit")
        }

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the journaled plan (computed once, when the plan was stored)."""
        return str(self.plan["public"]["fingerprint"])

    @classmethod
    def load(cls, state: Path) -> Journal | None:
        """The journal in the project state directory ``state`` (see :func:`state_dir`)."""
        path = state / "journal.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ReleaseError(
                f"The release journal {path} cannot be read ({exc}).",
                "If no release is in progress, delete it.",
            ) from None
        if data.get("schema_version") != JOURNAL_SCHEMA_VERSION:
            raise ReleaseError(
                f"The release journal {path} was written by another version of release-pipeline.",
                "Finish that release with the version that started it, or delete the journal.",
            )
        return cls(
            path=path,
            plan=data["plan"],
            start_head=data["start_head"],
            start_branch=data["start_branch"],
            steps=data["steps"],
            release_commit=data.get("release_commit"),
            dev_commit=data.get("dev_commit"),
            artifacts=data.get("artifacts", {}),
            pushed=data.get("pushed", False),
            finished=data.get("finished", False),
            error=data.get("error", ""),
            dist_existed=data.get("dist_existed", True),
            uploads=data.get("uploads", {}),
            project=data.get("project_path"),
            gates=data.get("gates", {}),
            packages=data.get("packages", {}),
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "schema": "release-pipeline/journal",
            "schema_version": JOURNAL_SCHEMA_VERSION,
            "project_path": self.project,
            "fingerprint": self.fingerprint,
            "version": self.plan["public"]["version"],
            "tag": self.plan["public"]["tag"],
            "start_head": self.start_head,
            "start_branch": self.start_branch,
            "steps": self.steps,
            "release_commit": self.release_commit,
            "dev_commit": self.dev_commit,
            "artifacts": self.artifacts,
            "uploads": self.uploads,
            "pushed": self.pushed,
            "finished": self.finished,
            "error": self.error,
            "dist_existed": self.dist_existed,
            "gates": self.gates,
            "packages": self.packages,
            "plan": self.plan,
        }
        write_atomic(self.path, json.dumps(data, indent=1) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class _PackageView:
    """:meth:`Journal.of_package`: a package's own fields kept in its part of the journal."""

    _OWN = frozenset({"artifacts", "uploads", "gates", "dist_existed"})

    def __init__(self, journal: Journal, own: dict[str, Any], after: str | None) -> None:
        object.__setattr__(self, "_journal", journal)
        object.__setattr__(self, "_own", own)
        object.__setattr__(self, "_after", after)  # None: the release commit is shared

    def __getattr__(self, name: str) -> Any:
        if name in self._OWN:
            return self._own[name]
        if self._after is not None:
            if name == "release_commit":
                return self._own["release_commit"]
            if name == "commit_parent":
                before = self._journal.packages.get(self._after, {}) if self._after else {}
                return before.get("release_commit") or self._journal.start_head
        return getattr(self._journal, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._OWN:
            self._own[name] = value
        elif name == "release_commit" and self._after is not None:
            self._own[name] = value
            if value is not None:
                self._journal.release_commit = value
        else:
            setattr(self._journal, name, value)


def unclaimed_journal(git_dir: Path, project: str) -> Path | None:
    """For a project in a subdirectory with no journal of its own: the journal at the
    root's place written before journals named their project, which may be this
    project's release (earlier versions kept one journal per repository)."""
    if project == ROOT_PROJECT:
        return None
    path = state_dir(git_dir, ROOT_PROJECT) / "journal.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "project_path" in data or data.get("finished"):
        return None
    return path


def write_atomic(path: Path, text: str) -> None:
    """``text`` written to ``path`` whole or not at all (a temporary file beside it, synced,
    then renamed over it). Its writer holds the project's lock, so the process id makes the
    temporary name unique (tempfile costs every command ~10 ms of imports)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Lock:
    """An exclusive lock file holding the owner's PID (and, on a second line, what holds it
    when that is not the project's own release); a stale one is detected and reported."""

    def __init__(self, state: Path, holder: str = "") -> None:
        self.path = state / "lock"
        self.holder = holder
        self.stale_pid: int | None = None

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _read_pid(self.path)
                if pid is not None and _alive(pid):
                    held = _read_holder(self.path)
                    raise LockedError(
                        f"Another release is running for this project (process {pid}"
                        + (f", {held}" if held else "")
                        + f"; lock file {self.path}).",
                        "Wait for it to finish. If that process is not a release, delete the "
                        "lock file.",
                    ) from None
                self.stale_pid = pid
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n" + (f"{self.holder}\n" if self.holder else ""))
            return self
        raise LockedError(f"Could not take the lock {self.path}.", "Try again.")

    def __exit__(self, *exc: object) -> None:
        if _read_pid(self.path) == os.getpid():
            self.path.unlink(missing_ok=True)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().split("\n", 1)[1].strip()
    except (OSError, IndexError):
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
