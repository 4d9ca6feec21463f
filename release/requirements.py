"""What a requirement string says, as packaging reads it, read once.

A workspace's packages name one another in their requirements; ordering them, checking
their pins and finding who needs whom read the same strings again and again. Each string
is read by packaging once per process, and the reads of a workspace's strings are kept in
the cache (:mod:`release.memo`) under those strings and the installed packaging: while
they are unchanged, a preview does not even import packaging's requirement parser, which
costs more than everything else discovery does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

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
    asked = sorted(set(texts) - _READ.keys())
    found = _recalled(
        memo,
        "requirements",
        asked,
        lambda stored: (
            isinstance(stored, list)
            and len(stored) == 2
            and all(isinstance(part, str) for part in stored)
        ),
        lambda text: list(read(text)),
    )
    if found:
        _READ.update((text, Read(*parts)) for text, parts in zip(asked, found, strict=True))


def _recalled(
    memo: Memo | None,
    kind: str,
    asked: Sequence[Hashable],
    valid: Callable[[Any], bool],
    answer: Callable[[Any], Any],
) -> list[Any]:
    """The answers to ``asked`` (sorted, each a string or tuple of strings) kept under
    ``kind`` by an earlier run, when each is ``valid``; else each ``answer``ed now and kept.
    None of them when the cache is off or one cannot be answered (an invalid requirement,
    which the caller reports where its file is known)."""
    if not asked or memo is None or memo.directory is None:
        return []
    parts = [part for item in asked for part in (item if isinstance(item, tuple) else (item,))]
    key = digest(installed("packaging"), *parts)
    stored = memo.get(kind, key)
    if isinstance(stored, list) and len(stored) == len(asked) and all(map(valid, stored)):
        return stored
    try:
        answers = [answer(item) for item in asked]
    except ValueError:  # packaging's InvalidRequirement
        return []
    memo.put(kind, key, answers)
    return answers


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
    found = _recalled(
        memo,
        "requirement-admits",
        pairs,
        lambda stored: isinstance(stored, bool),
        lambda pair: admits(pair[0], Version(pair[1])),
    )
    if found:
        _ADMITS.update(zip(pairs, found, strict=True))
