"""The read-only git commands of a snapshot, started together as early as possible.

``release preview`` starts them before it imports the rest of the program, so git
works on one core while Python imports and reads fragments on the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from release.runner import Pending, Runner


class GitReads:
    """Started ``git`` reads; :func:`release.facts.read_git` collects and parses them."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.top = runner.spawn(
            [
                "git",
                "rev-parse",
                "--show-toplevel",
                "--absolute-git-dir",
                "--is-shallow-repository",
                "--show-prefix",
            ]
        )
        # No optional locks: a read-only command must not refresh (rewrite) .git/index.
        self.status = runner.spawn(
            ["git", "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z"]
        )
        # Names only: a release is found by its tag's name, and thousands of tags are common.
        self.tags = runner.spawn(
            ["git", "for-each-ref", "--format=%(refname:lstrip=2)", "refs/tags"]
        )
        self.remotes = runner.spawn(["git", "remote"])
        self.identity = runner.spawn(["git", "var", "GIT_COMMITTER_IDENT"])
        self._listings: dict[str, Pending] = {}
        self._names: tuple[str, ...] | None = None

    def tag_names(self) -> tuple[str, ...]:
        """Every tag's name (sorted by git), read once for all who ask; the same tuple
        each time, so what is computed from it can be kept (:func:`release.tags.release_tags`)."""
        if self._names is None:
            self._names = tuple(self.tags.result(check=False).stdout.splitlines())
        return self._names

    def reachable(self, tags: Sequence[str]) -> Callable[[], frozenset[str]]:
        """Which of ``tags`` HEAD contains, in one question (with a commit-graph, git
        stops as soon as each is answered): each package's highest release tag, for all
        the packages of a repository at once. The question is started now; calling the
        answer waits for it, so the caller reads files meanwhile."""
        if not tags:
            return frozenset
        pending = self.runner.spawn(
            [
                "git",
                "for-each-ref",
                "--merged",
                "HEAD",
                "--format=%(refname:lstrip=2)",
                *(f"refs/tags/{name}" for name in tags),
            ]
        )
        return lambda: frozenset(pending.result(check=False).stdout.split())

    def remote_listing(self, remote: str) -> Pending | None:
        """``git ls-remote`` of ``remote``, started once, only for a configured remote name.

        A URL in `remote` must not make a preview call out, so only names that
        ``git remote`` lists are asked.
        """
        if remote not in self._listings:
            done = self.remotes.result(check=False)
            if done.returncode != 0 or remote not in done.stdout.split():
                return None
            self._listings[remote] = self.runner.spawn(
                ["git", "ls-remote", "--heads", "--tags", "--", remote]
            )
        return self._listings[remote]
