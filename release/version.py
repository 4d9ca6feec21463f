"""Pure version arithmetic: PEP 440 (the truth for Python packages) and semver syntax.

Nothing here touches the disk.  Every function either returns a version that is
greater than the one it started from, or raises :class:`VersionError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from packaging.version import InvalidVersion, Version

from release.errors import VersionError

Level = Literal["major", "minor", "patch"]
Pre = Literal["alpha", "beta", "rc"]
Scheme = Literal["pep440", "semver"]

LEVELS: tuple[Level, ...] = ("major", "minor", "patch")
PRE_KINDS: tuple[Pre, ...] = ("alpha", "beta", "rc")
_PRE_LETTER: dict[str, str] = {"alpha": "a", "beta": "b", "rc": "rc"}
_LETTER_PRE: dict[str, Pre] = {"a": "alpha", "b": "beta", "rc": "rc"}


def parse(text: str, *, where: str = "") -> Version:
    """Parse a PEP 440 version, naming ``where`` it came from when it is malformed."""
    try:
        return Version(text.strip())
    except InvalidVersion:
        origin = f" in {where}" if where else ""
        raise VersionError(
            f"{text.strip()!r}{origin} is not a valid PEP 440 version.",
            "Use a version such as 1.2.0, 1.2.0rc1, 1.2.0.post1 or 1.2.0.dev0 "
            "(see https://packaging.python.org/en/latest/specifications/version-specifiers/).",
        ) from None


def higher_level(a: Level | None, b: Level | None) -> Level | None:
    """The more significant of two bump levels (``None`` means no bump)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if LEVELS.index(a) <= LEVELS.index(b) else b


def zero_major(level: Level | None, current: Version, *, major_on_zero: bool) -> Level | None:
    """In 0.x a breaking change bumps the minor, unless the project opts out."""
    if level == "major" and current.major == 0 and not major_on_zero:
        return "minor"
    return level


def _release3(v: Version) -> tuple[int, int, int]:
    parts = (*v.release, 0, 0)[:3]
    return parts[0], parts[1], parts[2]


def _compose(
    epoch: int,
    release: tuple[int, ...],
    pre: tuple[str, int] | None = None,
    post: int | None = None,
    dev: int | None = None,
) -> Version:
    text = ".".join(str(p) for p in release)
    if epoch:
        text = f"{epoch}!{text}"
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return Version(text)


def _bumped(release: tuple[int, int, int], level: Level) -> tuple[int, int, int]:
    major, minor, patch = release
    if level == "major":
        return (major + 1, 0, 0)
    if level == "minor":
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def in_cycle(v: Version) -> bool:
    """True for a pre-release or development version of a release not yet made.

    ``1.2.0rc1.post1`` is still in the cycle of ``1.2.0``; ``1.2.0.post1.dev0`` is
    not (it develops a post-release of the released ``1.2.0``).
    """
    return v.pre is not None or (v.dev is not None and v.post is None)


def next_version(
    current: Version,
    level: Level | None,
    *,
    pre: Pre | None = None,
    final: bool = False,
) -> Version:
    """The next version after ``current``.

    ``current`` may be a pre-release or development version (``1.2.0rc1``,
    ``1.3.1.dev0``): those belong to the cycle of their release, so a bump that
    the cycle already contains stays inside it (``1.3.0rc1`` + minor -> ``1.3.0``).
    Without ``pre`` such a version is finalised, also when no level is given.
    """
    if pre is not None and final:
        raise VersionError(
            "--pre and --final contradict each other.", "Pass one of them, not both."
        )
    if level is None and pre is None and not final and not in_cycle(current):
        raise VersionError(
            f"Nothing decides the version after {current}.",
            "Name a version or a level (major, minor, patch), or add changelog "
            "fragments whose types bump the version.",
        )
    base = _release3(current)
    cycle = in_cycle(current)
    if cycle:
        # The cycle's release contains the bump when every number after the
        # bumped one is zero (1.3.0 contains a minor bump; 1.2.0.4 does not).
        keep = level is None or not any(current.release[LEVELS.index(level) + 1 :])
    else:
        if level is None and final:
            raise VersionError(
                f"{current} is already a final release; --final has nothing to finish.",
                "Name a level (major, minor, patch) or a version.",
            )
        keep = False
        level = level or "patch"

    if keep:
        # Finishing a cycle keeps the release as written: 26.3.dev0 -> 26.3 (pip's spelling).
        release: tuple[int, ...] = current.release
    else:
        assert level is not None
        # As many numbers as the current version has, and as the level needs (at most
        # three): 26.2 + minor -> 26.3, 26.2 + patch -> 26.2.1, 1.2.0 + minor -> 1.3.0.
        size = min(3, max(len(current.release), LEVELS.index(level) + 1))
        release = _bumped(base, level)[:size]

    if pre is None:
        return _compose(current.epoch, release)

    letter = _PRE_LETTER[pre]
    if keep and current.pre is not None:
        cur_letter, cur_n = current.pre
        cur_kind = _LETTER_PRE[cur_letter]
        if cur_kind == pre:
            # 1.2.0rc1.dev0 -> 1.2.0rc1; 1.2.0rc1 -> 1.2.0rc2
            n = cur_n if current.dev is not None and current.post is None else cur_n + 1
            return _compose(current.epoch, release, (letter, n))
        if PRE_KINDS.index(pre) < PRE_KINDS.index(cur_kind):
            article = "an" if pre == "alpha" else "a"
            raise VersionError(
                f"Cannot go from {current} back to {article} {pre} release: it would be "
                "lower than the current version.",
                f"Use --pre {cur_kind} (or a later kind), or --final.",
            )
    return _compose(current.epoch, release, (letter, 1))


def in_series(v: Version, series: tuple[int, ...]) -> bool:
    """Whether ``v`` belongs to the series ``series`` (``(1, 4)``: 1.4, 1.4.1, 1.4.2rc1,
    1.4.1.post1; not 1.5.0 or 2.0). An empty series holds every version."""
    if not series:
        return True
    padded = (*v.release, *(0,) * len(series))
    return v.epoch == 0 and padded[: len(series)] == series


def next_post(current: Version) -> Version:
    """``1.2.0`` -> ``1.2.0.post1``; ``1.2.0.post1`` -> ``1.2.0.post2``."""
    if current.is_prerelease and current.post is None:
        raise VersionError(
            f"{current} is not released yet, so it cannot have a post-release.",
            "Release it first, or name an explicit version.",
        )
    post = 1 if current.post is None else current.post + (0 if current.dev is not None else 1)
    return _compose(current.epoch, current.release, current.pre, post)


def next_dev(released: Version) -> Version:
    """The development version that follows a release: ``1.3.0`` -> ``1.3.1.dev0``."""
    if released.pre is not None:
        letter, n = released.pre
        return _compose(released.epoch, released.release, (letter, n + 1), dev=0)
    return _compose(released.epoch, _bumped(_release3(released), "patch"), dev=0)


def check_explicit(
    requested: Version, current: Version | None, released: Iterable[Version]
) -> None:
    """An explicit version must be above the current one and every release."""
    if current is not None and requested <= current:
        raise VersionError(
            f"The requested version {requested} is not greater than the current version {current}.",
            f"Ask for a version above {current}, or a level (major, minor, patch).",
        )
    higher = [v for v in released if v >= requested]
    if higher:
        top = max(higher)
        raise VersionError(
            f"The requested version {requested} is not greater than the release {top}, "
            "which is already tagged.",
            f"Ask for a version above {top}.",
        )


def publishable_problem(v: Version) -> str | None:
    """Why ``v`` cannot go to a package index, or ``None``."""
    if v.local is not None:
        return (
            f"{v} has a local version label (+{v.local}); package indexes reject local "
            "versions. Drop the part after '+'."
        )
    return None


def to_semver(v: Version) -> str:
    """``1.2.0rc1`` -> ``1.2.0-rc.1``; only the subset semver can express."""
    if v.epoch or v.local is not None or v.post is not None or len(v.release) > 3:
        raise VersionError(
            f"{v} cannot be written as a semantic version (epochs, post-releases, local "
            "labels and more than three release numbers have no semver form).",
            'Use tag-scheme = "pep440", or a version of the form X.Y.Z[{a|b|rc}N][.devN].',
        )
    major, minor, patch = _release3(v)
    text = f"{major}.{minor}.{patch}"
    ids: list[str] = []
    if v.pre is not None:
        ids += [_LETTER_PRE[v.pre[0]], str(v.pre[1])]
    if v.dev is not None:
        ids += ["dev", str(v.dev)]
    return f"{text}-{'.'.join(ids)}" if ids else text


def from_semver(text: str, *, where: str = "") -> Version:
    """``1.2.0-rc.1`` -> ``1.2.0rc1``; the inverse of :func:`to_semver`."""
    import semver

    origin = f" in {where}" if where else ""
    try:
        sv = semver.Version.parse(text)
    except ValueError:
        raise VersionError(
            f"{text!r}{origin} is not a valid semantic version.",
            "Use MAJOR.MINOR.PATCH with an optional pre-release such as -rc.1.",
        ) from None
    unsupported = VersionError(
        f"{text!r}{origin} has no PEP 440 equivalent.",
        "Supported pre-releases are -alpha.N, -beta.N, -rc.N, optionally followed by "
        ".dev.N, or -dev.N alone; build metadata (+...) is not supported.",
    )
    if sv.build:
        raise unsupported
    pre: tuple[str, int] | None = None
    dev: int | None = None
    ids = sv.prerelease.split(".") if sv.prerelease else []
    if len(ids) >= 2 and ids[0] in _PRE_LETTER and ids[1].isdigit():
        pre = (_PRE_LETTER[ids[0]], int(ids[1]))
        ids = ids[2:]
    if len(ids) == 2 and ids[0] == "dev" and ids[1].isdigit():
        dev = int(ids[1])
        ids = []
    if ids:
        raise unsupported
    return _compose(0, (sv.major, sv.minor, sv.patch), pre, dev=dev)


def render(v: Version, scheme: Scheme) -> str:
    """Write ``v`` in the given scheme's syntax (PEP 440 is normalised)."""
    return to_semver(v) if scheme == "semver" else str(v)


def read(text: str, scheme: Scheme, *, where: str = "") -> Version:
    """Read a version written in the given scheme."""
    return from_semver(text, where=where) if scheme == "semver" else parse(text, where=where)
