"""Which wheels a release of a project with compiled extensions must have.

The expected set is a list of *wheel patterns* (``[tool.release] wheels``), or is derived
from ``[tool.cibuildwheel]`` when its ``build`` names every wheel outright.  A pattern is
``PYTHON-PLATFORM`` or ``PYTHON-ABI-PLATFORM``, each part a shell-style pattern (``*``,
``?``, ``[...]``) matched against the tags a wheel's file name carries; braces expand
first (``cp3{10..14}`` is five patterns, ``{manylinux,musllinux}_*`` two).  Each expanded
pattern must be matched by at least one wheel; a wheel that matches none is an extra.

Also here: the platforms of the CI matrix ``release init --ci`` writes (:data:`PLATFORMS`)
and which wheel patterns they cover.  Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from release.errors import ConfigError

_BRACE = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
_GLOB = re.compile(r"[*?\[]")
MAX_EXPANSION = 1000  # patterns one entry may expand to


def expand(pattern: str) -> list[str]:
    """``pattern`` with its braces expanded, in order: ``{10..12}`` is 10, 11, 12 and
    ``{a,b}`` is a, b. ValueError names what is wrong."""
    found = _BRACE.search(pattern)
    if found is None:
        if "{" in pattern or "}" in pattern:
            raise ValueError(f"unbalanced or nested braces in {pattern!r}")
        return [pattern]
    inner = found[1]
    ranged = _RANGE.match(inner)
    if ranged:
        low, high = int(ranged[1]), int(ranged[2])
        step = 1 if high >= low else -1
        choices = [str(n) for n in range(low, high + step, step)]
    elif "," in inner:
        choices = inner.split(",")
    else:
        raise ValueError(f"{{{inner}}} in {pattern!r} is neither a range (10..14) nor a list (a,b)")
    out: list[str] = []
    for choice in choices:
        out += expand(pattern[: found.start()] + choice + pattern[found.end() :])
        if len(out) > MAX_EXPANSION:
            raise ValueError(f"{pattern!r} expands to more than {MAX_EXPANSION} patterns")
    return out


def check_pattern(pattern: str) -> list[str]:
    """The expansion of one entry of ``wheels``; ValueError when it is not a wheel pattern."""
    expanded = expand(pattern)
    for one in expanded:
        parts = one.split("-")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(
                f"{one!r} is not PYTHON-PLATFORM or PYTHON-ABI-PLATFORM (e.g. "
                "cp312-manylinux_*_x86_64, *-win_amd64, cp313-cp313t-macosx_*_arm64)"
            )
    return expanded


def validate(key: str, value: Any, where: str) -> tuple[str, ...]:
    """The config validator of ``wheels``: a list of wheel patterns."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{where}: key `{key}` must be a list of strings, not {type(value).__name__} "
            f"{value!r}.",
            f'Give `{key}` a list of wheel patterns, e.g. ["cp3{{10..14}}-manylinux_*_x86_64"].',
        )
    for item in value:
        try:
            check_pattern(item)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: `{key}` entry {item!r}: {exc}.",
                "Write each entry as PYTHON-PLATFORM, shell-style patterns with optional "
                "braces (see docs/configuration.md, `wheels`).",
            ) from None
    return tuple(value)


def wheel_tags(filename: str) -> list[tuple[str, str, str]]:
    """Every (python, abi, platform) tag a wheel's file name carries, compressed tag sets
    expanded; [] for a name that is not a wheel's."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return []
    return sorted((t.interpreter, t.abi, t.platform) for t in tags)


def matches(pattern: str, tag: tuple[str, str, str]) -> bool:
    """Whether one expanded pattern matches one wheel tag."""
    parts = pattern.split("-")
    python, abi, platform = tag
    if len(parts) == 2:
        return fnmatchcase(python, parts[0]) and fnmatchcase(platform, parts[1])
    return (
        fnmatchcase(python, parts[0])
        and fnmatchcase(abi, parts[1])
        and fnmatchcase(platform, parts[2])
    )


@dataclass
class Completeness:
    """The wheels found against the expected patterns."""

    matched: dict[str, list[str]] = field(default_factory=dict)  # pattern -> wheels
    missing: list[str] = field(default_factory=list)  # expanded patterns no wheel matches
    extra: list[str] = field(default_factory=list)  # wheels no pattern matches


def compare(wheels: Iterable[str], patterns: Sequence[str]) -> Completeness:
    """Which of the (unexpanded) ``patterns`` the wheel file names satisfy."""
    names = sorted(set(wheels))
    tags = {name: wheel_tags(name) for name in names}
    result = Completeness()
    used: set[str] = set()
    for entry in patterns:
        for pattern in check_pattern(entry):
            hits = [n for n in names if any(matches(pattern, t) for t in tags[n])]
            result.matched[pattern] = hits
            used.update(hits)
            if not hits:
                result.missing.append(pattern)
    result.extra = [n for n in names if n not in used]
    return result


# --- the expected set -------------------------------------------------------------------------


class Expected(NamedTuple):
    patterns: tuple[str, ...]  # () when no set is known
    source: str  # where the set comes from, or why there is none


_ARCH_KEYWORDS = frozenset({"auto", "auto64", "auto32", "native", "all"})
_CIBW_PLATFORMS = {"linux": ("manylinux", "musllinux"), "macos": ("macosx",), "windows": ("win",)}


def _selectors(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [word for item in value if isinstance(item, str) for word in item.split()]
    return []


def _cibw_platform(identifier: str) -> str:
    platform = identifier.split("-", 1)[1]
    for name, prefixes in _CIBW_PLATFORMS.items():
        if platform.startswith(prefixes):
            return name
    return ""


def _cibw_arch(identifier: str) -> str:
    platform = identifier.split("-", 1)[1]
    if platform == "win32":
        return "x86"
    arch = platform.split("_", 1)[1] if "_" in platform else platform
    return (
        {"amd64": "AMD64", "arm64": "ARM64"}.get(arch, arch) if platform.startswith("win") else arch
    )


def identifier_pattern(identifier: str) -> str:
    """The wheel pattern of one cibuildwheel build identifier (``cp312-manylinux_x86_64`` ->
    ``cp312-manylinux_*_x86_64``; ``cp313t-...`` is the free-threaded ABI)."""
    python, platform = identifier.split("-", 1)
    prefix = f"{python[:-1]}-{python}" if python.endswith("t") else python
    for family in ("manylinux", "musllinux", "macosx"):
        if platform.startswith(family + "_"):
            return f"{prefix}-{family}_*_{platform[len(family) + 1 :]}"
    return f"{prefix}-{platform}"


def from_cibuildwheel(table: Mapping[str, Any]) -> Expected:
    """The expected set a ``[tool.cibuildwheel]`` table declares, when it is unambiguous:
    ``build`` names every identifier outright (braces allowed, no wildcards); ``skip`` and
    explicit ``archs`` (top-level or per platform) then remove some."""
    build = _selectors(table.get("build"))
    if not build:
        return Expected(
            (),
            "[tool.cibuildwheel] has no `build`: the wheels it makes depend on "
            "cibuildwheel's version and defaults",
        )
    try:
        identifiers = [one for sel in build for one in expand(sel)]
    except ValueError as exc:
        return Expected((), f"[tool.cibuildwheel] build: {exc}")
    vague = [i for i in identifiers if _GLOB.search(i) or "-" not in i]
    if vague:
        return Expected(
            (),
            f"[tool.cibuildwheel] build = {' '.join(build)!r} uses wildcards "
            f"({', '.join(vague)}): the wheels it makes depend on cibuildwheel's "
            "version",
        )
    skip = _selectors(table.get("skip"))
    kept = [i for i in identifiers if not any(fnmatchcase(i, s) for s in skip)]
    for platform in _CIBW_PLATFORMS:
        sub = table.get(platform)
        archs = (
            _selectors(sub.get("archs"))
            if isinstance(sub, dict) and "archs" in sub
            else (_selectors(table.get("archs")))
        )
        if archs and not _ARCH_KEYWORDS.intersection(archs):
            kept = [i for i in kept if _cibw_platform(i) != platform or _cibw_arch(i) in archs]
    source = "derived from [tool.cibuildwheel] (build" + (", skip" if skip else "") + ")"
    return Expected(tuple(dict.fromkeys(identifier_pattern(i) for i in kept)), source)


def expected(declared: Sequence[str] | None, pyproject: Mapping[str, Any]) -> Expected:
    """The expected wheels: ``[tool.release] wheels`` when set, else what
    ``[tool.cibuildwheel]`` declares unambiguously, else none."""
    if declared is not None:
        return Expected(tuple(declared), "[tool.release] wheels")
    table = pyproject.get("tool", {}).get("cibuildwheel")
    if isinstance(table, dict):
        return from_cibuildwheel(table)
    return Expected((), "no `wheels` in [tool.release] and no [tool.cibuildwheel]")


# --- the CI matrix ----------------------------------------------------------------------------


class Platform(NamedTuple):
    """One job of the wheel matrix ``release init --ci`` writes."""

    name: str  # the job's and the artifact's suffix
    runner: str  # GitHub Actions runner label
    cibw_archs: str  # CIBW_ARCHS for cibuildwheel
    maturin_target: str  # maturin-action's `target`
    examples: tuple[str, ...]  # platform tags of wheels this job makes


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "linux-x86_64",
        "ubuntu-latest",
        "x86_64",
        "x86_64",
        ("manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "musllinux_1_2_x86_64"),
    ),
    Platform(
        "linux-aarch64",
        "ubuntu-24.04-arm",
        "aarch64",
        "aarch64",
        ("manylinux_2_17_aarch64", "manylinux_2_28_aarch64", "musllinux_1_2_aarch64"),
    ),
    Platform("macos-arm64", "macos-14", "arm64", "aarch64", ("macosx_11_0_arm64",)),
    Platform("macos-x86_64", "macos-13", "x86_64", "x86_64", ("macosx_10_13_x86_64",)),
    Platform("windows-amd64", "windows-latest", "AMD64", "x64", ("win_amd64",)),
)

#: The platforms of the GitLab pipeline (Linux runners only).
LINUX = tuple(p for p in PLATFORMS if p.name.startswith("linux-"))


def uncovered(patterns: Sequence[str], platforms: Sequence[Platform] = PLATFORMS) -> list[str]:
    """The expanded ``patterns`` whose platform no job of ``platforms`` builds."""
    out = []
    for entry in patterns:
        for pattern in check_pattern(entry):
            wanted = pattern.split("-")[-1]
            if not any(fnmatchcase(ex, wanted) for p in platforms for ex in p.examples):
                out.append(pattern)
    return out
