"""What the work tree holds beyond HEAD: every changed, removed or new file, with its content,
so that what one command changed can be told from what was changed before it."""

from __future__ import annotations

import os

from release.ops.hashing import sha256
from release.runner import Runner

#: The content of a listed path that is gone (deleted, or removed after being listed).
MISSING = "missing"


def changes(runner: Runner) -> dict[str, str]:
    """Every path ``git status`` lists (untracked files included, ignored ones not),
    relative to the runner's directory (the project; ``../`` for the rest of the
    repository), with the sha256 of its content or :data:`MISSING`."""
    prefix = runner.git("rev-parse", "--show-prefix").stdout.strip()
    listed = runner.git("status", "--porcelain", "-z", "--untracked-files=all").stdout
    entries = listed.split("\0")
    found: dict[str, str] = {}
    skip = False
    for entry in entries:
        if skip or not entry:
            skip = False
            continue
        code, path = entry[:2], entry[3:]
        skip = code[0] in "RC"  # a rename or copy: the next entry is its source
        relative = os.path.relpath(path, prefix) if prefix else path
        file = runner.cwd / relative
        found[relative] = sha256(file) if file.is_file() else MISSING
    return found


def changed_between(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths whose content differs between two :func:`changes` (a path neither lists
    is as HEAD has it), sorted."""
    clean = "as in HEAD"
    return sorted(p for p in {*before, *after} if before.get(p, clean) != after.get(p, clean))
