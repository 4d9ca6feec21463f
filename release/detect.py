"""Where a project keeps its version and how it writes its tags.

One detector, used when ``[tool.release]`` does not say (the facts of every command)
and by ``release init`` (which writes down what it found). It reads the build
backend's own version configuration, the way the backend does, and never guesses
between two answers: an ambiguous layout is one error listing the candidates.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from release.config import Location, project_name
from release.errors import ConfigError, VersionError

# An assignment of a string literal (not a computed value such as version("pkg")).
_LITERAL = r"^{name}\s*(?::\s*str\s*)?=\s*[\"']"
# Build requirements and tool tables that mean "the version comes from git tags".
_SCM_REQUIRES = re.compile(
    r"(?i)\b(setuptools[-_]scm|hatch[-_]vcs|versioningit|setuptools[-_]git[-_]versioning|"
    r"flit[-_]scm|poetry[-_]dynamic[-_]versioning|pdm[-_]backend\[scm\]|uv[-_]dynamic[-_]versioning)\b"
)
_SCM_TOOLS = (
    "setuptools_scm",
    "setuptools-scm",
    "versioningit",
    "setuptools-git-versioning",
    "uv-dynamic-versioning",
)


_INCREMENTAL_CALL = re.compile(r"^__version__\s*=\s*Version\(", re.MULTILINE)


class Detected(NamedTuple):
    """Where the version is kept, as ``version-locations`` entries, and why."""

    locations: tuple[Location, ...]
    reason: str


def _table(data: Any, *path: str) -> dict[str, Any]:
    for part in path:
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data if isinstance(data, dict) else {}


def module_file(project_dir: Path, module: str) -> str | None:
    """The file of ``module`` in a src/ or flat layout, relative to the project."""
    parts = module.split(".")
    directory = os.fspath(project_dir)
    for root in ("src", ""):
        package = "/".join(filter(None, (root, *parts)))
        for candidate in (f"{package}/__init__.py", f"{package}.py"):
            if os.path.isfile(os.path.join(directory, candidate)):
                return candidate
    return None


def _has_literal(project_dir: Path, path: str, variable: str) -> bool:
    try:
        text = (project_dir / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(_LITERAL.format(name=re.escape(variable)), text, re.MULTILINE) is not None


def _python_location(path: str, variable: str) -> Location:
    return Location("python", path, variable)


def _static(project_dir: Path, name: str, key: str, reason: str) -> Detected:
    """A version held at ``key`` in pyproject.toml, plus the package's ``__version__``
    literal when it repeats it (both are kept in step)."""
    found = [Location("toml", "pyproject.toml", key)]
    module = name.replace("-", "_").replace(".", "_").lower()
    path = module_file(project_dir, module) if module else None
    if path and _has_literal(project_dir, path, "__version__"):
        found.append(_python_location(path, "__version__"))
        reason += f", and {path} repeats it in __version__ (both are kept in step)"
    return Detected(tuple(found), reason)


def _requires(pyproject: Mapping[str, Any]) -> str:
    requires = _table(pyproject, "build-system").get("requires", [])
    return " ".join(str(r) for r in requires) if isinstance(requires, list) else ""


def _hatch_version_table(project_dir: Path, tool: Mapping[str, Any]) -> dict[str, Any]:
    """hatch's ``version`` table: from ``hatch.toml`` when it has one (hatch reads it
    before ``[tool.hatch]``), else from pyproject.toml."""
    if (project_dir / "hatch.toml").is_file():
        import sys

        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads((project_dir / "hatch.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"hatch.toml cannot be read ({exc}), so the version hatch reads is unknown.",
                "Fix hatch.toml, or set version-locations in [tool.release].",
            ) from None
        if "version" in data:
            return _table(data, "version")
    return _table(tool, "hatch", "version")


def _scm_reason(pyproject: Mapping[str, Any], hatch_version: Mapping[str, Any]) -> str | None:
    """Which tool takes the version from git tags, or None."""
    tool = _table(pyproject, "tool")
    if hatch_version.get("source") == "vcs":
        return 'hatch-vcs ([tool.hatch.version] source = "vcs")'
    if _table(tool, "pdm", "version").get("source") == "scm":
        return 'pdm-backend ([tool.pdm.version] source = "scm")'
    for name in _SCM_TOOLS:
        if name in tool:
            return f"{name} ([tool.{name}])"
    dynamic_versioning = _table(tool, "poetry-dynamic-versioning")
    if dynamic_versioning.get("enable") is True:
        return "poetry-dynamic-versioning"
    match = _SCM_REQUIRES.search(_requires(pyproject))
    if match:
        return f"{match.group(1)} (in build-system.requires)"
    return None


def _incremental(
    project_dir: Path, pyproject: Mapping[str, Any], hatch_version: Mapping[str, Any]
) -> Detected | None:
    tool = _table(pyproject, "tool")
    uses = (
        "incremental" in tool
        or hatch_version.get("source") == "incremental"
        or re.search(r"(?i)\bincremental\b", _requires(pyproject)) is not None
    )
    if not uses:
        return None
    name = _table(tool, "incremental").get("name") or _table(pyproject, "project").get("name")
    if not isinstance(name, str) or not name:
        # setup.py projects (use_incremental=True) name the package only in setup.py: the
        # one _version.py in incremental's places that holds Version(...) is the answer.
        found = [
            path.relative_to(project_dir).as_posix()
            for pattern in ("src/*/_version.py", "*/_version.py")
            for path in sorted(project_dir.glob(pattern))
            if _INCREMENTAL_CALL.search(path.read_text(encoding="utf-8", errors="replace"))
        ]
        if len(found) == 1:
            return Detected(
                (Location("incremental", found[0]),),
                f"incremental keeps the version in {found[0]} as Version(...)",
            )
        raise ConfigError(
            "pyproject.toml: the version is kept by incremental, but neither "
            "[tool.incremental] name nor [project] name says which package it is.",
            'Add [project] name = "..." (incremental looks for src/NAME/_version.py).',
        )
    for root in (f"src/{name.lower()}", name.lower()):
        path = f"{root}/_version.py"
        if (project_dir / path).is_file():
            return Detected(
                (Location("incremental", path),),
                f"incremental keeps the version in {path} as Version(...)",
            )
    raise ConfigError(
        f"pyproject.toml: the version is kept by incremental, but neither "
        f"src/{name.lower()}/_version.py nor {name.lower()}/_version.py exists.",
        "Create it with `incremental update NAME --create`, or set version-locations = "
        '[{ path = "...", format = "incremental" }].',
    )


def _hatch_path(project_dir: Path, version_table: Mapping[str, Any]) -> Detected | None:
    path = version_table.get("path")
    if not isinstance(path, str) or version_table.get("source", "regex") != "regex":
        return None
    pattern = version_table.get("pattern")
    if isinstance(pattern, str) and pattern not in ("", "true"):
        return Detected(
            (Location("pattern", path, pattern),),
            f"hatch reads the version from {path} with its `pattern`",
        )
    for variable in ("__version__", "VERSION"):  # what hatch's default pattern looks for
        if _has_literal(project_dir, path, variable):
            return Detected(
                (_python_location(path, variable),),
                f"hatch reads the version from {path} ({variable})",
            )
    raise ConfigError(
        f"pyproject.toml [tool.hatch.version] path: {path} has no `__version__` or `VERSION` "
        "string assignment, which is what hatch reads without a `pattern`.",
        f'Set version-locations = [{{ path = "{path}", key = "NAME" }}] in [tool.release].',
    )


def _setuptools_attr(project_dir: Path, attr: str, where: str) -> Detected:
    module, _, variable = attr.strip().rpartition(".")
    path = module_file(project_dir, module) if module else None
    if path is None:
        raise ConfigError(
            f"{where}: setuptools reads the version from attr {attr!r}, but no file for the "
            f"module {module!r} was found under src/ or the project directory.",
            'Set version-locations = ["path/to/module.py"] in [tool.release].',
        )
    if not _has_literal(project_dir, path, variable):
        raise ConfigError(
            f"{where}: setuptools reads the version from attr {attr!r}, but {path} has no "
            f'`{variable} = "..."` string assignment (a computed or imported value cannot be '
            "rewritten).",
            f"Point version-locations at the file that writes the version literally, or keep "
            f'`{variable} = "X.Y.Z"` in {path}.',
        )
    return Detected(
        (_python_location(path, variable),), f"setuptools reads the version from attr: {attr}"
    )


def _setuptools_file(project_dir: Path, files: Any, where: str) -> Detected:
    names = [files] if isinstance(files, str) else files
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        raise ConfigError(
            f"{where}: setuptools reads the version from the files {files!r}; only one file "
            "can be rewritten.",
            'Set version-locations = ["VERSION"] in [tool.release] by hand.',
        )
    path = names[0].strip()
    if not (project_dir / path).is_file():
        raise ConfigError(
            f"{where}: setuptools reads the version from the file {path}, which does not exist.",
            "Create it with the version on one line.",
        )
    return Detected((Location("text", path),), f"setuptools reads the version from file: {path}")


def _setup_cfg(project_dir: Path) -> Detected | None:
    path = project_dir / "setup.cfg"
    if not path.is_file():
        return None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    value = parser.get("metadata", "version", fallback="").strip()
    if value.startswith("attr:"):
        return _setuptools_attr(project_dir, value[5:].strip(), "setup.cfg [metadata] version")
    if value.startswith("file:"):
        files = [f.strip() for f in value[5:].split(",") if f.strip()]
        return _setuptools_file(project_dir, files, "setup.cfg [metadata] version")
    return None


def _candidates(project_dir: Path, name: str) -> list[str]:
    """Files that look as if they hold the version, to name in an ambiguity error."""
    module = name.replace("-", "_").replace(".", "_").lower()
    found = []
    for root in ("src", "."):
        for rel in (f"{module}/__init__.py", f"{module}/_version.py", f"{module}/version.py"):
            path = (Path(root) / rel).as_posix().removeprefix("./")
            if _has_literal(project_dir, path, "__version__"):
                found.append(path)
    found += [n for n in ("VERSION", "VERSION.txt") if (project_dir / n).is_file()]
    return found


def version_locations(project_dir: Path, pyproject: Mapping[str, Any]) -> Detected:
    """Where this project's build backend reads its version, plus the project's entry in
    ``uv.lock`` when that holds the version too; or a :class:`ConfigError`."""
    return _with_uv_lock(project_dir, pyproject, _build_backend(project_dir, pyproject))


def _with_uv_lock(project_dir: Path, pyproject: Mapping[str, Any], found: Detected) -> Detected:
    """``found``, and the project's entry in ``uv.lock`` when it has one with a version
    (uv writes none for a dynamic version). A version kept in tags is never in a file."""
    from release import names, uvlock

    name = project_name(pyproject)
    if any(loc.kind == "scm" for loc in found.locations) or not name:
        return found
    try:
        text = (project_dir / "uv.lock").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return found
    version = uvlock.locked_version(text, name)
    if version is None or not names.is_project_name(name):
        return found
    package = names.normalised(name)
    return Detected(
        (*found.locations, Location("uv-lock", "uv.lock", package)),
        f"{found.reason}; uv.lock locks {package} at {version}, so its entry is kept in step too",
    )


def _build_backend(project_dir: Path, pyproject: Mapping[str, Any]) -> Detected:
    project = _table(pyproject, "project")
    tool = _table(pyproject, "tool")
    name = str(project.get("name", ""))
    dynamic = project.get("dynamic", [])
    dynamic = dynamic if isinstance(dynamic, list) else []
    if isinstance(project.get("version"), str) and "version" not in dynamic:
        reason = "project.version is static in pyproject.toml"
        return _static(project_dir, name, "project.version", reason)
    hatch_version = _hatch_version_table(project_dir, tool)
    poetry = _table(tool, "poetry")
    if "version" not in project and isinstance(poetry.get("version"), str):
        scm = _scm_reason(pyproject, hatch_version)
        if scm is not None:
            return Detected((Location("scm"),), f"the version comes from git tags ({scm})")
        name = str(poetry.get("name", name))
        reason = "poetry keeps the version in [tool.poetry] version"
        return _static(project_dir, name, "tool.poetry.version", reason)
    incremental = _incremental(project_dir, pyproject, hatch_version)
    if incremental is not None:
        return incremental
    scm = _scm_reason(pyproject, hatch_version)
    if scm is not None:
        return Detected((Location("scm"),), f"the version comes from git tags ({scm})")
    hatch = _hatch_path(project_dir, hatch_version)
    if hatch is not None:
        return hatch
    pdm_version = _table(tool, "pdm", "version")
    if pdm_version.get("source") == "file" and isinstance(pdm_version.get("path"), str):
        path = pdm_version["path"]
        if _has_literal(project_dir, path, "__version__"):
            return Detected(
                (_python_location(path, "__version__"),),
                f"pdm-backend reads the version from {path} (__version__)",
            )
    dynamic_version = _table(tool, "setuptools", "dynamic", "version")
    if "attr" in dynamic_version:
        return _setuptools_attr(
            project_dir, str(dynamic_version["attr"]), "pyproject.toml [tool.setuptools.dynamic]"
        )
    if "file" in dynamic_version:
        return _setuptools_file(
            project_dir, dynamic_version["file"], "pyproject.toml [tool.setuptools.dynamic]"
        )
    from_cfg = _setup_cfg(project_dir)
    if from_cfg is not None:
        return from_cfg
    backend = str(_table(pyproject, "build-system").get("build-backend", ""))
    if backend.startswith("flit") or "flit" in tool:
        module = str(_table(tool, "flit", "module").get("name") or name.replace("-", "_"))
        path = module_file(project_dir, module)
        if path and _has_literal(project_dir, path, "__version__"):
            return Detected(
                (_python_location(path, "__version__"),), f"flit reads __version__ from {path}"
            )
    candidates = _candidates(project_dir, name)
    listed = (
        "; files that look like it: " + ", ".join(candidates)
        if candidates
        else "; no file with a `__version__` literal was found either"
    )
    example = candidates[0] if candidates else "src/pkg/__init__.py"
    raise ConfigError(
        "pyproject.toml: cannot tell where the version is kept: `project.version` is not "
        "static, and no build backend configuration names a version file or git tags "
        f"(setuptools attr/file, hatch path or vcs, flit module, pdm, poetry, setuptools-scm, "
        f"versioningit, incremental){listed}.",
        f'Set version-locations in [tool.release], e.g. version-locations = ["{example}"].',
    )


class TagFormat(NamedTuple):
    """The tag format a history uses, why, and the tags it passed over (with the reason)."""

    format: str
    reason: str
    skipped: tuple[tuple[str, str], ...]


_DIGIT = re.compile(r"\d")
_PLAIN_TAG = re.compile(r"(\D*)(\d+(?:\.\d+)*)\Z", re.ASCII)


def split_tag(name: str) -> tuple[str, str] | None:
    """``(prefix, version)`` when ``name`` is a version after a prefix, else None."""
    from packaging.version import InvalidVersion, Version

    for match in _DIGIT.finditer(name):
        prefix, text = name[: match.start()], name[match.start() :]
        if prefix[-1:].isdigit() or prefix[-1:] == ".":
            continue
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version.local is None:
            return prefix, text
    return None


def tag_format(
    names: Iterable[str], *, current: str | None = None, nearest: str | None = None
) -> TagFormat:
    """The format the project writes its release tags in.

    Projects change prefixes over time (``release-1.0``, ``v2.0``, ``3.0``) and collect
    tags that are no releases of theirs (``99.99.99``, another component's
    ``tool-v2.0``), so the tag that decides is the one that belongs to the version at
    hand: for a version kept in tags, the ``nearest`` tag reachable from HEAD (what
    setuptools-scm describes); for a version kept in files, the tag of the ``current``
    version or the highest one below it; without either, the highest version's tag.
    Where two prefixes write the same version, the one with more tags wins.
    """
    from release.tags import _plain_key, version_key
    from release.version import parse

    by_prefix: dict[str, list[str]] = {}
    skipped: list[tuple[str, str]] = []
    rows: list[tuple[Any, str, str]] = []  # (key, prefix, name)
    for name in names:
        plain = _PLAIN_TAG.match(name)  # most tags: thousands are common, parse none of them
        if plain is not None and not plain[1].endswith("."):
            prefix, text = plain[1], plain[2]
            key = _plain_key(text)
        else:
            split = split_tag(name)
            if split is None:
                skipped.append((name, "not a version"))
                continue
            prefix, text = split
            key = version_key(parse(text))
        by_prefix.setdefault(prefix, []).append(name)
        rows.append((key, prefix, name))
    if not rows:
        reason = "no tag names a version yet, so the common v{version}"
        return TagFormat("v{version}", reason, tuple(skipped))
    chosen: tuple[Any, str, str] | None = None
    why = ""
    if nearest is not None:
        chosen = next((row for row in rows if row[2] == nearest), None)
        why = f"{nearest}, the nearest tag reachable from HEAD,"
    if chosen is None and current is not None:
        try:
            ceiling = version_key(parse(current))
        except VersionError:  # an unreadable version is reported by the plan
            ceiling = None
        below = [row for row in rows if ceiling is not None and row[0] <= ceiling]
        if below:
            top = max(row[0] for row in below)
            same = [row for row in below if row[0] == top]
            chosen = max(same, key=lambda row: len(by_prefix[row[1]]))
            which = "the tag of the current version" if top == ceiling else "the last tag below"
            why = f"{chosen[2]}, {which} {current},"
    if chosen is None:
        chosen = max(rows, key=lambda row: row[0])
        why = f"{chosen[2]}, the highest version's tag,"
    prefix = chosen[1]
    fmt = prefix.replace("{", "{{").replace("}", "}}") + "{version}"
    reason = f"{why} is written {fmt!r}"
    total = len(rows)
    others = [p for p in by_prefix if p != prefix]
    if others:
        shown = ", ".join(f"{p or '(no prefix)'!s}: {len(by_prefix[p])}" for p in others)
        reason += f" ({len(by_prefix[prefix])} of {total} version tags; other prefixes: {shown})"
        for other in others:
            skipped += [(n, f"written with another prefix, {other!r}") for n in by_prefix[other]]
    return TagFormat(fmt, reason, tuple(skipped))


def describe_argv(pattern: str = "*[0-9]*") -> list[str]:
    """The nearest tag matching ``pattern`` reachable from HEAD, as setuptools-scm asks git
    (any tag with a digit while the tag format is still to be found)."""
    return ["git", "describe", "--tags", "--abbrev=0", "--match", pattern]


def first_version(locations: Iterable[Location], files: Mapping[str, str]) -> str | None:
    """The version the first file location holds (``files``: path -> text), when it can be
    read: the version whose tag decides the tag format."""
    from release.errors import ReleaseError
    from release.locations import read_version

    for loc in locations:
        if loc.kind != "scm":
            try:
                return read_version(loc, files[loc.path])
            except (ReleaseError, KeyError):
                return None
    return None


def shown_skipped(skipped: Sequence[tuple[str, str]], limit: int = 5) -> str:
    """A short list of skipped tags and why, for explanations."""
    items = [f"{name} ({why})" for name, why in skipped[:limit]]
    if len(skipped) > limit:
        items.append(f"and {len(skipped) - limit} more")
    return ", ".join(items)


def release_branch(remote_head: str, current: str | None) -> tuple[str, str]:
    """The branch releases are made from: the remote's default branch (``remote_head`` is
    ``git symbolic-ref --short refs/remotes/REMOTE/HEAD``, empty when unknown), else the
    current branch."""
    if "/" in remote_head:
        return remote_head.split("/", 1)[
            1
        ], f"{remote_head.split('/', 1)[0]}/HEAD points to {remote_head}"
    if current:
        return current, f"the remote names no default branch; the current branch is {current}"
    return "main", "no branch could be detected"
