"""What a requirement string says, as packaging reads it, read once.

A workspace's packages name one another in their requirements; ordering them, checking
their pins and finding who needs whom read the same strings again and again. Each string
is read by packaging once per process, and the reads of a workspace's strings are kept in
the cache (:mod:`release.memo`) under those strings and the installed packaging: while
they are unchanged, a preview does not even import packaging's requirement parser, which
costs more than everything else discovery does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from packaging.version import Version

from release.memo import Memo, digest, installed
from release.names import normalised


class Read(NamedTuple):
    """A requirement's project (PEP 503-normalised) and version specifier ("" for none)."""

    key: str
    specifier: str


_READ: dict[str, Read] = {}


def read(text: str) -> Read:
    """``text`` read by packaging; packaging's ``InvalidRequirement`` (a ValueError) when
    it is no requirement."""
    found = _READ.get(text)
    if found is None:
        from packaging.requirements import Requirement

        parsed = Requirement(text)
        found = _READ[text] = Read(normalised(parsed.name), str(parsed.specifier))
    return found


def recall(texts: Sequence[str], memo: Memo | None) -> None:
    """Make :func:`read` answer ``texts`` from the cache, where an earlier run kept them;
    else read them now and keep them (only when every one is valid: an invalid one is
    reported by :func:`read`, where its file is known)."""
    texts = sorted(set(texts) - _READ.keys())
    if not texts or memo is None or memo.directory is None:
        return
    key = digest(installed("packaging"), *texts)
    stored = memo.get("requirements", key)
    if (
        isinstance(stored, list)
        and len(stored) == len(texts)
        and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(p, str) for p in s)
            for s in stored
        )
    ):
        _READ.update(zip(texts, (Read(*s) for s in stored), strict=True))
        return
    try:
        reads = [read(text) for text in texts]
    except ValueError:  # packaging's InvalidRequirement
        return
    memo.put("requirements", key, [list(r) for r in reads])


_ADMITS: dict[tuple[str, str], bool] = {}


def admits(text: str, version: Version) -> bool:
    """Whether requirement ``text`` admits ``version``, a pre-release too when it lies in
    the range (``pkg-a>=1`` admits 2.0.0rc1; ``pkg-a<2`` does not)."""
    asked = (text, str(version))
    found = _ADMITS.get(asked)
    if found is None:
        from packaging.specifiers import SpecifierSet

        found = SpecifierSet(read(text).specifier).contains(version, prereleases=True)
        _ADMITS[asked] = found
    return found


def recall_admits(asked: Sequence[tuple[str, Version]], memo: Memo | None) -> None:
    """Make :func:`admits` answer each (requirement, version) of ``asked`` from the cache,
    where an earlier run kept the answers (packaging's specifiers are then not imported);
    else answer them now and keep them."""
    pairs = sorted({(text, str(version)) for text, version in asked} - _ADMITS.keys())
    if not pairs or memo is None or memo.directory is None:
        return
    key = digest(installed("packaging"), *(part for pair in pairs for part in pair))
    stored = memo.get("requirement-admits", key)
    if (
        isinstance(stored, list)
        and len(stored) == len(pairs)
        and all(isinstance(answer, bool) for answer in stored)
    ):
        _ADMITS.update(zip(pairs, stored, strict=True))
        return
    try:
        answers = [admits(text, Version(version)) for text, version in pairs]
    except ValueError:  # an invalid requirement: reported where its file is known
        return
    memo.put("requirement-admits", key, answers)
