"""Real paths (symbolic links resolved), each directory asked once per command.

A workspace's preview resolves the paths of every package several times (its directory,
its fragment directories, the repository's top), and ``Path.resolve()`` asks the system
about every component of a path each time; here each directory is asked once, and a path
is its parent's real path joined with its name unless that name is a link.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def real(path: Path) -> Path:
    """``path.resolve()`` (not strict: a missing tail is kept as it is)."""
    text = os.fspath(path)
    return Path(_real(text if os.path.isabs(text) else os.path.join(os.getcwd(), text)))


def forget() -> None:
    """Ask again from now on: a command may run after the files changed (tests run many in
    one process)."""
    _real.cache_clear()


@functools.lru_cache(maxsize=4096)
def _real(path: str) -> str:
    head, tail = os.path.split(path)
    if not tail or head == path:
        return os.path.realpath(path)
    joined = os.path.join(_real(head), tail)
    if tail in (os.curdir, os.pardir) or os.path.islink(joined):
        return os.path.realpath(joined)
    return joined
