"""Git questions the steps, ``release run``/``resume``/``abort`` and ``release status`` ask.

Each takes the :class:`~release.runner.Runner` of the project, never a step context,
so any caller can ask them.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from release.runner import Runner

ROOT_PROJECT = "."  # the project at the repository's root


def find_git_dir(runner: Runner) -> Path:
    """The repository's git directory, absolute."""
    return Path(runner.git("rev-parse", "--absolute-git-dir").stdout.strip())


def locate(runner: Runner) -> tuple[Path, str]:
    """The repository's git directory (absolute) and the project's path inside the
    repository: the runner's directory, ``"."`` at the root, else e.g. ``"packages/a"``."""
    git_dir, prefix = runner.git("rev-parse", "--absolute-git-dir", "--show-prefix").stdout.split(
        "\n"
    )[:2]
    return Path(git_dir), project_path(prefix)


def project_path(prefix: str) -> str:
    """The project's path inside the repository from ``git rev-parse --show-prefix``."""
    return prefix.rstrip("/") or ROOT_PROJECT


def project_relative(path: str, project: str) -> str:
    """A repository-relative path, as ``git status --porcelain`` writes every path whatever
    the directory it runs in, made relative to ``project`` (its path inside the
    repository), the frame of every path in the plan, the journal and the checks. A path
    outside the project starts with ``../``; a directory keeps its trailing ``/``."""
    if project == ROOT_PROJECT:
        return path
    relative = posixpath.relpath(path, project)
    return relative + "/" if path.endswith("/") and relative != "." else relative


def rev(runner: Runner, name: str) -> str | None:
    """The commit ``name`` names, or None when it names none."""
    done = runner.git("rev-parse", "--quiet", "--verify", f"{name}^{{commit}}", check=False)
    return done.stdout.strip() or None


def is_ancestor(runner: Runner, older: str, newer: str) -> bool:
    return runner.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def head_commit_is(
    runner: Runner, message: str, parent: str | None, commit: str = "HEAD"
) -> str | None:
    """HEAD's sha (or ``commit``'s) when it is a commit with ``message`` on top of
    ``parent`` (any parent when ``parent`` is None)."""
    out = runner.git("log", "-1", "--format=%H%x00%P%x00%B", commit, "--", check=False).stdout
    if not out:
        return None
    sha, parents, body = out.split("\0", 2)
    if body.strip() == message.strip() and (parent is None or parents.split() == [parent]):
        return sha
    return None


def remote_refs(runner: Runner, remote: str, *refs: str) -> dict[str, str]:
    """ref -> object id of each of ``refs`` on ``remote`` (absent refs are left out); a
    remote that cannot be read raises :class:`~release.errors.CommandError`."""
    done = runner.git("ls-remote", "--", remote, *refs)
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        sha, ref = line.split("\t", 1)
        found[ref] = sha
    return found
