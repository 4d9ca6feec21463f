"""What the work tree holds beyond HEAD: every changed, removed or new file, with its content,
so that what one command changed can be told from what was changed before it; and putting
files back as HEAD has them."""

from __future__ import annotations

import os
from collections.abc import Sequence

from release.ops.hashing import sha256
from release.runner import Runner

#: The content of a listed path that is gone (deleted, or removed after being listed).
MISSING = "missing"


def _status(runner: Runner, *options: str) -> dict[str, str]:
    """Path (relative to the runner's directory) -> its two-letter ``git status`` code, for
    every path it lists (untracked files included); ``options`` end its command line."""
    prefix = runner.git("rev-parse", "--show-prefix").stdout.strip()
    listed = runner.git("status", "--porcelain", "-z", "--untracked-files=all", *options)
    found: dict[str, str] = {}
    skip = False
    for entry in listed.stdout.split("\0"):
        if skip or not entry:
            skip = False
            continue
        code, path = entry[:2], entry[3:]
        skip = code[0] in "RC"  # a rename or copy: the next entry is its source
        found[os.path.relpath(path, prefix) if prefix else path] = code
    return found


def changes(runner: Runner) -> dict[str, str]:
    """Every path ``git status`` lists (untracked files included, ignored ones not),
    relative to the runner's directory (the project; ``../`` for the rest of the
    repository), with the sha256 of its content or :data:`MISSING`."""
    found: dict[str, str] = {}
    for relative in _status(runner):
        file = runner.cwd / relative
        found[relative] = sha256(file) if file.is_file() else MISSING
    return found


def restore(runner: Runner, paths: Sequence[str]) -> list[str]:
    """Put ``paths`` (files or directories, relative to the runner's directory) back as
    HEAD has them, in the index and the work tree: changed and removed files restored,
    files HEAD does not have deleted (ignored files are left alone). The files that
    differed, relative to the runner's directory, sorted."""
    if not paths:
        return []
    # No rename detection: a removed fragment and a new file are each put back on its own.
    listed = _status(runner, "--no-renames", "--", *paths)
    if not listed:
        return []
    runner.git("reset", "--quiet", "--", *paths)  # the index as HEAD has it
    in_head = sorted(p for p, code in listed.items() if code[0] not in "A?")
    if in_head:
        runner.git("checkout", "--", *in_head)
    runner.git("clean", "--force", "--quiet", "--", *paths)  # what HEAD does not have
    return sorted(listed)


def changed_between(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths whose content differs between two :func:`changes` (a path neither lists
    is as HEAD has it), sorted."""
    clean = "as in HEAD"
    return sorted(p for p in {*before, *after} if before.get(p, clean) != after.get(p, clean))
