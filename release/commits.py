"""Conventional commits: which bump the commits since the last release call for."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from release.version import Level

_HEADER = re.compile(r"^(?P<type>[A-Za-z]+)(?:\([^)\n]*\))?(?P<bang>!)?: \S")
_BREAKING = re.compile(r"^BREAKING[ -]CHANGE: ", re.MULTILINE)


class Commit(NamedTuple):
    sha: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def commit_level(message: str, bumps: Mapping[str, str]) -> Level | None:
    """The bump one commit message asks for, or ``None``."""
    header = _HEADER.match(message)
    if header is None:
        return None
    if header["bang"] or _BREAKING.search(message):
        return "major"
    level = bumps.get(header["type"].lower(), "none")
    return None if level == "none" else level  # type: ignore[return-value]


def deciding_commits(
    commits: Sequence[Commit], bumps: Mapping[str, str]
) -> list[tuple[Commit, Level]]:
    return [(c, level) for c in commits if (level := commit_level(c.message, bumps)) is not None]
