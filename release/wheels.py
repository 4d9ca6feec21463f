"""Which wheels a release of a project with compiled extensions must have.

The expected set is a list of *wheel patterns* (``[tool.release] wheels``), or is derived
from ``[tool.cibuildwheel]`` when, read per platform as cibuildwheel reads it (the
``[tool.cibuildwheel.linux]``, ``.macos``, ... table over the top-level one), its ``build``
names every wheel outright.  A pattern is
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


#: The platforms of cibuildwheel and the prefixes of their identifiers' platform parts.
_CIBW_PLATFORMS: dict[str, tuple[str, ...]] = {
    "linux": ("manylinux", "musllinux"),
    "macos": ("macosx",),
    "windows": ("win",),
    "ios": ("ios",),
    "android": ("android",),
    "pyodide": ("pyodide",),
}
#: Every platform part of each platform's identifiers: which platforms a wildcard can touch.
_LINUX_ARCHS = ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64")
_PLATFORM_PARTS: dict[str, tuple[str, ...]] = {
    "linux": tuple(f"{f}_{a}" for f in ("manylinux", "musllinux") for a in _LINUX_ARCHS),
    "macos": ("macosx_x86_64", "macosx_arm64", "macosx_universal2"),
    "windows": ("win_amd64", "win32", "win_arm64"),
    "ios": ("ios_arm64_iphoneos", "ios_arm64_iphonesimulator", "ios_x86_64_iphonesimulator"),
    "android": ("android_arm64_v8a", "android_x86_64"),
    "pyodide": ("pyodide_wasm32",),
}
#: The platforms cibuildwheel builds for on a runner of that system without being asked
#: (``--platform auto``); the others only with ``--platform``.
_AUTO_PLATFORMS = frozenset({"linux", "macos", "windows"})
_LABELS = {
    "linux": "Linux",
    "macos": "macOS",
    "windows": "Windows",
    "ios": "iOS",
    "android": "Android",
    "pyodide": "Pyodide",
}
#: ``archs`` values whose architectures are those of the machine cibuildwheel runs on.
_RUNNER_ARCHS = frozenset({"auto", "auto64", "auto32", "native"})
#: Platform-part families whose wheel tags carry a version (``manylinux_2_17_x86_64``).
_VERSIONED = ("manylinux", "musllinux", "macosx", "ios", "android", "pyodide")
#: The options that choose which wheels cibuildwheel builds and that an environment variable
#: of the same name overrides (cibuildwheel's precedence: defaults, ``[tool.cibuildwheel]``,
#: ``[tool.cibuildwheel.PLATFORM]``, then the environment).
_SELECTING_ENV = (
    "CIBW_BUILD",
    "CIBW_SKIP",
    "CIBW_ARCHS",
    "CIBW_PROJECT_REQUIRES_PYTHON",
    *(f"CIBW_ARCHS_{p.upper()}" for p in _CIBW_PLATFORMS),
)
_SELECTING_KEYS = ("build", "skip", "archs")


def _selectors(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [word for item in value if isinstance(item, str) for word in item.split()]
    return []


def _arch_words(value: Any) -> list[str]:
    return [w for s in _selectors(value) for w in s.split(",") if w]


def _cibw_platform(identifier: str) -> str:
    platform = identifier.partition("-")[2]
    for name, prefixes in _CIBW_PLATFORMS.items():
        if platform.startswith(prefixes):
            return name
    return ""


def _cibw_arch(identifier: str) -> str:
    platform = identifier.split("-", 1)[1]
    if platform == "win32":
        return "x86"
    return platform.split("_", 1)[1] if "_" in platform else platform


def _touches(selector: str, platform: str) -> bool:
    """Whether a build or skip selector can match an identifier of ``platform``."""
    if "-" not in selector:
        return True
    part = selector.split("-", 1)[1]
    return any(fnmatchcase(known, part) for known in _PLATFORM_PARTS[platform])


def _skips_all(skip: Sequence[str], platform: str) -> bool:
    """Whether ``skip`` leaves nothing of ``platform`` to build (``*``, ``*-win*``, ...)."""
    for selector in skip:
        python, dash, part = selector.partition("-")
        if python == "*" and (
            not dash or all(fnmatchcase(known, part) for known in _PLATFORM_PARTS[platform])
        ):
            return True
    return False


def _python_version(identifier: str) -> str | None:
    found = re.match(r"[a-z]+(\d)(\d+)", identifier)
    return f"{found[1]}.{found[2]}.99" if found else None  # as cibuildwheel compares it


def identifier_pattern(identifier: str) -> str:
    """The wheel pattern of one cibuildwheel build identifier (``cp312-manylinux_x86_64`` ->
    ``cp312-manylinux_*_x86_64``; ``cp313t-...`` is the free-threaded ABI)."""
    python, platform = identifier.split("-", 1)
    prefix = f"{python[:-1]}-{python}" if python.endswith("t") else python
    for family in _VERSIONED:
        if platform.startswith(family + "_"):
            return f"{prefix}-{family}_*_{platform[len(family) + 1 :]}"
    return f"{prefix}-{platform}"


class _Ambiguous(Exception):
    """Why the wheels a cibuildwheel configuration builds cannot be derived from it."""


@dataclass
class _Setting:
    """One selecting option as cibuildwheel reads it for one platform: the platform's table
    wins over the top-level one."""

    key: str
    value: Any
    where: str  # the table it comes from, or "" when neither sets it

    @classmethod
    def read(cls, table: Mapping[str, Any], platform: str, key: str) -> _Setting:
        sub = table.get(platform)
        if isinstance(sub, dict) and key in sub:
            return cls(key, sub[key], f"[tool.cibuildwheel.{platform}]")
        if key in table:
            return cls(key, table[key], "[tool.cibuildwheel]")
        return cls(key, None, "")

    @property
    def label(self) -> str:
        """``build`` for the top-level option, ``linux.build`` for a platform's."""
        platform = self.where[len("[tool.cibuildwheel") : -1].lstrip(".")
        return f"{platform}.{self.key}" if platform else self.key

    def shown(self) -> str:
        return f"{self.where} {self.key} = {' '.join(_selectors(self.value))!r}"


def _platform_identifiers(
    table: Mapping[str, Any], platform: str, used: dict[str, None]
) -> list[str]:
    """The identifiers of ``platform`` that ``table`` has cibuildwheel build, by its
    ``build``, ``skip`` and ``archs`` for that platform; :class:`_Ambiguous` when they depend
    on more than the table says."""
    build = _Setting.read(table, platform, "build")
    skip = _Setting.read(table, platform, "skip")
    try:
        selected = [one for sel in _selectors(build.value) for one in expand(sel)]
        skipped = [one for sel in _selectors(skip.value) for one in expand(sel)]
    except ValueError as exc:
        raise _Ambiguous(f"{build.where or skip.where}: {exc}") from None
    if not selected:
        if platform not in _AUTO_PLATFORMS or _skips_all(skipped, platform):
            return []
        raise _Ambiguous(
            f"no `build` for {_LABELS[platform]} (neither [tool.cibuildwheel.{platform}] nor "
            f"[tool.cibuildwheel] has one): the {_LABELS[platform]} wheels it makes depend on "
            "cibuildwheel's version and defaults"
        )
    vague = [s for s in selected if _GLOB.search(s) and _touches(s, platform)]
    if vague:
        own = build.where.endswith(f".{platform}]")
        scope = f"the {_LABELS[platform]} wheels" if own else "the wheels"
        raise _Ambiguous(
            f"{build.shown()} uses wildcards ({', '.join(vague)}): {scope} it makes depend on "
            "cibuildwheel's version"
        )
    mine = [s for s in selected if not _GLOB.search(s) and _cibw_platform(s) == platform]
    if not mine:
        return []
    used[build.label] = None
    kept = [i for i in mine if not any(fnmatchcase(i, s) for s in skipped)]
    if skipped and kept != mine:
        used[skip.label] = None
    archs = _Setting.read(table, platform, "archs")
    words = _arch_words(archs.value)
    if kept and words and platform != "pyodide" and "all" not in words:
        if _RUNNER_ARCHS.intersection(words):
            raise _Ambiguous(
                f"{archs.shown()} leaves the {_LABELS[platform]} architectures to the machine "
                "cibuildwheel runs on (auto, auto64, auto32 and native depend on the runner)"
            )
        wanted = {w.lower() for w in words}
        narrowed = [i for i in kept if _cibw_arch(i).lower() in wanted]
        if narrowed != kept:
            used[archs.label] = None
        kept = narrowed
    return kept


def from_cibuildwheel(
    table: Mapping[str, Any],
    requires_python: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Expected:
    """The expected set a ``[tool.cibuildwheel]`` table declares, when it is unambiguous.

    For each platform, as cibuildwheel reads it there: ``build`` (of
    ``[tool.cibuildwheel.PLATFORM]``, else of the table) names every identifier outright
    (braces allowed, no wildcards), ``skip`` removes some, an explicit ``archs`` list keeps
    its architectures, and the project's ``requires_python`` its Python versions.  No set
    (and the reason) when the wheels depend on more: wildcards, a runner-dependent ``archs``
    (``auto``, ``native``, ...), an override that sets a selecting option, or a ``CIBW_*``
    variable of ``environ`` that overrides the table."""
    for name in _SELECTING_ENV:
        if environ is not None and name in environ:
            return Expected(
                (),
                f"the environment sets {name} (= {environ[name]!r}), which cibuildwheel takes "
                "over [tool.cibuildwheel]: the wheels depend on the wheel jobs' environment",
            )
    overrides = table.get("overrides")
    for override in overrides if isinstance(overrides, list) else []:
        keys = [k for k in _SELECTING_KEYS if isinstance(override, dict) and k in override]
        if keys:
            select = override.get("select") if isinstance(override, dict) else None
            return Expected(
                (),
                f"[[tool.cibuildwheel.overrides]] with select = {select!r} sets "
                f"`{'`, `'.join(keys)}`, which cibuildwheel does not take from an override "
                "(it ignores or refuses it, depending on its version)",
            )
    if not any(
        "build" in t
        for t in (table, *(table.get(p) for p in _CIBW_PLATFORMS))
        if isinstance(t, dict)
    ):
        return Expected(
            (),
            "[tool.cibuildwheel] has no `build`: the wheels it makes depend on "
            "cibuildwheel's version and defaults",
        )
    used: dict[str, None] = {}  # the options that chose the set, in order
    narrowed_by_python = ""
    identifiers: list[str] = []
    try:
        for platform in _CIBW_PLATFORMS:
            identifiers += _platform_identifiers(table, platform, used)
    except _Ambiguous as exc:
        return Expected((), str(exc))
    if requires_python is not None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            specifier: SpecifierSet | None = SpecifierSet(requires_python)
        except InvalidSpecifier:
            specifier = None
        if specifier is not None:
            inside = [i for i in identifiers if (v := _python_version(i)) is None or v in specifier]
            if inside != identifiers:
                narrowed_by_python = f" and requires-python = {requires_python!r}"
            identifiers = inside
    if not identifiers:
        return Expected(
            (), "[tool.cibuildwheel] selects no wheel (its `build` minus what the rest leaves out)"
        )
    source = f"derived from [tool.cibuildwheel] ({', '.join(used)}){narrowed_by_python}"
    return Expected(tuple(dict.fromkeys(identifier_pattern(i) for i in identifiers)), source)


def expected(
    declared: Sequence[str] | None,
    pyproject: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> Expected:
    """The expected wheels: ``[tool.release] wheels`` when set, else what
    ``[tool.cibuildwheel]`` declares unambiguously (read with the project's
    ``requires-python`` and the ``environ`` it runs in), else none."""
    if declared is not None:
        return Expected(tuple(declared), "[tool.release] wheels")
    table = pyproject.get("tool", {}).get("cibuildwheel")
    if isinstance(table, dict):
        project = pyproject.get("project")
        requires = project.get("requires-python") if isinstance(project, dict) else None
        return from_cibuildwheel(table, requires if isinstance(requires, str) else None, environ)
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
    # GitHub retired the macos-13 image; macos-15-intel is its x86_64 runner.
    Platform("macos-x86_64", "macos-15-intel", "x86_64", "x86_64", ("macosx_10_13_x86_64",)),
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
