"""The packages of a repository that holds several, and the pins between them.

A repository declares its packages in one of two ways (docs/monorepo.md):

* ``[[tool.release.packages]]`` tables (``path``, optional ``name``) in the root
  ``pyproject.toml``: when the key is present, it is the whole list;
* otherwise a uv workspace, ``[tool.uv.workspace] members`` and ``exclude``, read the
  way uv reads it.

A package depends on another when its ``[project] dependencies`` or
``[project.optional-dependencies]`` name it (names compared PEP 503-normalised). This
module finds the packages, orders them, and checks and rewrites the pins between them.
Everything here is pure except :func:`discover`, which only reads ``pyproject.toml`` files.
"""

from __future__ import annotations

import difflib
import fnmatch
import heapq
import itertools
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from packaging.version import Version

from release import requirements, tomlfiles
from release.errors import ConfigError
from release.names import is_project_name, normalised
from release.paths import real

if TYPE_CHECKING:
    from tomlkit.items import StringType

    from release.memo import Memo

#: The keys of one ``[[tool.release.packages]]`` table that this module reads.
PACKAGE_KEYS = ("name", "path")
_ROOT_FILE = "pyproject.toml"


class Package(NamedTuple):
    """One package of the repository."""

    name: str  # the [project] name as written (or the [[tool.release.packages]] name)
    path: str  # posix path relative to the repository root; "." for the root
    requires: tuple[str, ...]  # requirement strings, as written, on OTHER packages only

    @property
    def key(self) -> str:
        """The name PEP 503-normalised: what two spellings of one name share."""
        return normalised(self.name)

    @property
    def pyproject(self) -> str:
        """Its ``pyproject.toml``, relative to the repository root."""
        return _pyproject_of(self.path)


class PinConflict(NamedTuple):
    """A dependent's requirement that does not admit the new version of its dependency."""

    dependent: str  # package name
    dependency: str  # package name
    requirement: str  # as written, e.g. "pkg-a>=1.2,<2"
    version: str  # the dependency's new version

    def describe(self) -> str:
        return (
            f"{self.dependent} requires `{self.requirement}`, which does not admit "
            f"{self.dependency} {self.version}, the version being released."
        )


# --- discovery ------------------------------------------------------------------------


class _Found(NamedTuple):
    name: str
    path: str
    project: Mapping[str, Any]  # its [project] table ({} when it has none)


def discover(
    root: Path,
    pyproject: Mapping[str, Any] | None = None,
    *,
    other_keys: Collection[str] = (),
    memo: Memo | None = None,
) -> tuple[Package, ...]:
    """The packages the repository at ``root`` declares, sorted by path.

    ``pyproject`` is the root ``pyproject.toml`` already read (else it is read here).
    ``()`` when the root declares neither ``[[tool.release.packages]]`` nor a uv
    workspace: the repository is a single project. ``other_keys`` are further keys of a
    ``[[tool.release.packages]]`` table that another part validates (they are allowed
    here, not read). ``memo`` keeps packaging's reading of the requirements and the parsed
    pyproject files.
    """
    data = dict(pyproject) if pyproject is not None else _read_toml(root, _ROOT_FILE)
    tool = _table(data, "tool", _ROOT_FILE)
    release = _table(tool, "release", f"{_ROOT_FILE} [tool]")
    uv = _table(tool, "uv", f"{_ROOT_FILE} [tool]")
    if "packages" in release:
        found = _declared(root, data, release["packages"], (*PACKAGE_KEYS, *other_keys), memo)
    elif "workspace" in uv:
        found = _uv_members(root, data, uv["workspace"], memo)
    else:
        return ()
    by_key: dict[str, _Found] = {}
    for item in found:
        key = normalised(item.name)
        if key in by_key:
            first = by_key[key]
            raise ConfigError(
                f"{_pyproject_of(first.path)} and {_pyproject_of(item.path)}: two packages are "
                f"named {first.name!r} and {item.name!r}, which are one name on an index "
                "(PEP 503).",
                "Rename one of them in its [project] table, or leave one out of the packages "
                "(`exclude` in [tool.uv.workspace], or its [[tool.release.packages]] entry).",
            )
        by_key[key] = item
    listed = {item.path: list(_requirements(item.project, item.path)) for item in found}
    requirements.recall([text for texts in listed.values() for text, _ in texts], memo)
    packages = [
        Package(item.name, item.path, _workspace_requires(item, listed[item.path], set(by_key)))
        for item in found
    ]
    return tuple(sorted(packages, key=lambda p: (p.path != ".", p.path)))


def _declared(
    root: Path,
    data: Mapping[str, Any],
    entries: Any,
    allowed: Sequence[str],
    memo: Memo | None,
) -> list[_Found]:
    where = f"{_ROOT_FILE} [tool.release]"
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(
            f"{where}: key `packages` must be an array of tables ([[tool.release.packages]]), "
            f"not {type(entries).__name__} {entries!r}.",
            'Write one table per package: [[tool.release.packages]] with path = "packages/a".',
        )
    checked: list[tuple[str, Mapping[str, Any], str]] = []  # (label, entry, path)
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        label = f"{_ROOT_FILE} [[tool.release.packages]] #{number}"
        for name in entry:
            if name not in allowed:
                close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
                raise ConfigError(
                    f"{label}: unknown key `{name}`."
                    + (f" Did you mean {close[0]!r}?" if close else ""),
                    f"Allowed keys: {', '.join(allowed)}.",
                )
        if "path" not in entry:
            raise ConfigError(
                f"{label}: the package has no `path`.",
                'Add the directory of its pyproject.toml, e.g. path = "packages/a" '
                '(path = "." for the root).',
            )
        path = _inside(root, entry["path"], f"{label}: `path`")
        if path in seen:
            raise ConfigError(
                f"{label}: `path` {path!r} is already declared by entry #{seen[path]}.",
                "Declare each package once.",
            )
        seen[path] = number
        directory = root / path
        if not directory.is_dir():
            raise ConfigError(
                f"{label}: `path` {path!r} is not a directory of the repository.",
                "Fix the path (it is relative to the directory of the root pyproject.toml).",
            )
        if not (directory / _ROOT_FILE).is_file():
            raise ConfigError(
                f"{label}: the package at {path!r} has no pyproject.toml.",
                "Point `path` at the directory that holds the package's pyproject.toml.",
            )
        checked.append((label, entry, path))
    found: list[_Found] = []
    tomlfiles.recall([root / _pyproject_of(path) for _, _, path in checked if path != "."], memo)
    for label, entry, path in checked:
        member = data if path == "." else _read_toml(root, _pyproject_of(path))
        project = _project(member, path)
        declared = entry.get("name")
        if declared is not None and (not isinstance(declared, str) or not declared.strip()):
            raise ConfigError(
                f"{label}: key `name` must be a non-empty string, not "
                f"{type(declared).__name__} {declared!r}.",
                'Write the name the package has on the index, e.g. name = "pkg-a".',
            )
        written = _project_name(project, path, required=declared is None)
        if (
            declared is not None
            and written is not None
            and (_key(declared, f"{label}: `name`") != normalised(written))
        ):
            raise ConfigError(
                f"{label}: `name` = {declared!r} differs from the [project] name "
                f"{written!r} in {_pyproject_of(path)}.",
                "Make them agree (the [project] name is the one the index knows), or leave "
                "`name` out of the entry.",
            )
        name = written if written is not None else str(declared)
        found.append(_Found(name, path, project))
    return found


def _uv_members(
    root: Path, data: Mapping[str, Any], workspace: Any, memo: Memo | None
) -> list[_Found]:
    where = f"{_ROOT_FILE} [tool.uv.workspace]"
    if not isinstance(workspace, dict):
        raise ConfigError(
            f"{_ROOT_FILE} [tool.uv]: key `workspace` must be a table, not "
            f"{type(workspace).__name__} {workspace!r}.",
            'Write it as a [tool.uv.workspace] section with members = ["packages/*"].',
        )
    members = _globs(workspace, "members", where)
    excludes = [
        _pattern(root, p, f"{where}: `exclude`") for p in _globs(workspace, "exclude", where)
    ]
    found: list[_Found] = []
    paths: list[str] = []  # of the members, checked
    if "project" in data:  # uv: the root is a member when it is a project
        found.append(_Found(_member_name(data, "."), ".", _project(data, ".")))
    seen = {"."}
    for raw in members:
        pattern = _pattern(root, raw, f"{where}: `members`")
        if pattern == ".":
            continue
        try:
            matches = sorted(root.glob(pattern))
        except ValueError as exc:
            raise ConfigError(
                f"{where}: `members` pattern {raw!r} is not a valid glob ({exc}).",
                'Use a directory or a pattern such as "packages/*".',
            ) from None
        for match in matches:
            path = match.relative_to(root).as_posix()
            if path in seen or not match.is_dir():
                continue
            seen.add(path)
            if any(fnmatch.fnmatchcase(path, exclude) for exclude in excludes):
                continue
            _inside(root, path, f"{where}: `members` pattern {raw!r} matches")
            if not (match / _ROOT_FILE).is_file():
                if match.name.startswith("."):  # as uv does: hidden directories are skipped
                    continue
                raise ConfigError(
                    f"{where}: the member {path!r} (matched by {raw!r} in `members`) has no "
                    "pyproject.toml.",
                    f"Add a pyproject.toml with a [project] table there, or leave the directory "
                    f'out with exclude = ["{path}"] in [tool.uv.workspace].',
                )
            paths.append(path)
    tomlfiles.recall([root / _pyproject_of(path) for path in paths], memo)
    for path in paths:
        member = _read_toml(root, _pyproject_of(path))
        uv = _table(_table(member, "tool", _pyproject_of(path)), "uv", _pyproject_of(path))
        if uv.get("managed") is False:  # uv leaves unmanaged projects out of the workspace
            continue
        if "workspace" in uv:
            raise ConfigError(
                f"{_pyproject_of(path)}: the workspace member {path!r} declares a workspace "
                "of its own ([tool.uv.workspace]); workspaces do not nest.",
                "Remove its [tool.uv.workspace] table, or leave it out of the root's "
                f'workspace with exclude = ["{path}"].',
            )
        found.append(_Found(_member_name(member, path), path, _project(member, path)))
    return found


def _member_name(pyproject: Mapping[str, Any], path: str) -> str:
    if "project" not in pyproject:
        raise ConfigError(
            f"{_pyproject_of(path)}: the workspace member {path!r} has no [project] table.",
            'Add a [project] table with its name (name = "...") and version, or leave the '
            "directory out of [tool.uv.workspace] `members` (or add it to `exclude`).",
        )
    name = _project_name(_project(pyproject, path), path, required=True)
    assert name is not None  # required=True raises instead
    return name


def _project(pyproject: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    return _table(pyproject, "project", _pyproject_of(path))


def _project_name(project: Mapping[str, Any], path: str, *, required: bool) -> str | None:
    file = _pyproject_of(path)
    name = project.get("name")
    if name is None:
        if not required:
            return None
        raise ConfigError(
            f"{file}: the package at {path!r} has no `name` in its [project] table.",
            'Add name = "..." to its [project] table (or give `name` in its '
            "[[tool.release.packages]] entry).",
        )
    if not isinstance(name, str):
        raise ConfigError(
            f"{file}: `[project] name` must be a string, not {type(name).__name__} {name!r}.",
            'Write it as name = "pkg-a".',
        )
    _key(name, f"{file}: `[project] name`")
    return name


def _key(name: str, where: str) -> str:
    if not is_project_name(name):
        raise ConfigError(
            f"{where} {name!r} is not a valid package name.",
            "Use letters, digits, '-', '_' and '.', starting and ending with a letter or digit.",
        )
    return normalised(name)


def _workspace_requires(
    item: _Found, listed: Sequence[tuple[str, str]], names: set[str]
) -> tuple[str, ...]:
    own = normalised(item.name)
    found: list[str] = []
    for text, where in listed:
        key = _read_requirement(text, where).key
        if key in names and key != own and text not in found:
            found.append(text)
    return tuple(found)


def _requirements(project: Mapping[str, Any], path: str) -> Iterable[tuple[str, str]]:
    """Every requirement of ``[project] dependencies`` and ``optional-dependencies`` of
    the package at ``path``, with where it is written."""
    file = _pyproject_of(path)
    groups: list[tuple[str, Any]] = [("dependencies", project.get("dependencies", []))]
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise ConfigError(
            f"{file}: `[project] optional-dependencies` must be a table, not "
            f"{type(optional).__name__} {optional!r}.",
            'Write it as [project.optional-dependencies] with lists such as extra = ["..."].',
        )
    groups += [(f"optional-dependencies.{extra}", items) for extra, items in optional.items()]
    for key, items in groups:
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(
                f"{file}: `[project] {key}` must be an array of strings, not {items!r}.",
                'Write each requirement as a string, e.g. ["pkg-a>=1.2"].',
            )
        for text in items:
            yield text, f"{file}: `[project] {key}`"


def _read_requirement(text: str, where: str) -> requirements.Read:
    try:
        return requirements.read(text)
    except ValueError as exc:  # packaging's InvalidRequirement
        raise ConfigError(
            f"{where} entry {text!r} is not a valid requirement ({exc}).",
            'Write it as a PEP 508 requirement, e.g. "pkg-a>=1.2,<2".',
        ) from None


def _globs(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"{where}: key `{key}` must be an array of strings, not "
            f"{type(value).__name__} {value!r}.",
            f'Write e.g. {key} = ["packages/*"].',
        )
    return value


def _pattern(root: Path, raw: str, where: str) -> str:
    """``raw`` (a path or glob relative to ``root``) normalised; outside ``root`` is an error."""
    text = posixpath.normpath(raw.strip().replace("\\", "/")) if raw.strip() else ""
    if not text or posixpath.isabs(text) or text == ".." or text.startswith("../"):
        raise ConfigError(
            f"{where}: {raw!r} is not a path inside the repository.",
            "Use a path relative to the directory of the root pyproject.toml, without '..'; "
            "a release covers the packages of its own repository only.",
        )
    return text


def _inside(root: Path, raw: Any, where: str) -> str:
    """``raw`` as a normalised posix path inside ``root`` (symbolic links followed)."""
    if not isinstance(raw, str):
        raise ConfigError(
            f"{where} must be a string, not {type(raw).__name__} {raw!r}.",
            'Write the directory of the package, e.g. path = "packages/a".',
        )
    path = _pattern(root, raw, where)
    if ".git" in path.split("/") or not real(root / path).is_relative_to(real(root)):
        raise ConfigError(
            f"{where}: {raw!r} is not a path inside the repository.",
            "Use a directory of the repository (not a link out of it, not inside .git).",
        )
    return path


def _read_toml(root: Path, relative: str) -> dict[str, Any]:
    from release.tomlfiles import read_toml

    return read_toml(
        root / relative,
        missing=(
            f"No {relative} in {root}.",
            "Run release from the repository's root directory, or pass -C DIR.",
        ),
        shown=relative,
    )


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: `{key}` must be a table, not {type(value).__name__} {value!r}.",
            f"Write it as a [{key}] section.",
        )
    return value


def _pyproject_of(path: str) -> str:
    return _ROOT_FILE if path == "." else f"{path}/{_ROOT_FILE}"


# --- order ----------------------------------------------------------------------------


def _requirement_key(text: str) -> str:
    return requirements.read(text).key


def _edges(packages: Sequence[Package]) -> dict[str, list[str]]:
    """Each package's dependencies among ``packages`` (itself left out), by key."""
    keys = [p.key for p in packages]
    if len(set(keys)) != len(keys):
        raise ValueError(f"package names are not unique: {[p.name for p in packages]}")
    known = set(keys)
    return {
        p.key: sorted({k for r in p.requires if (k := _requirement_key(r)) in known} - {p.key})
        for p in packages
    }


def dependency_order(packages: Sequence[Package]) -> tuple[Package, ...]:
    """``packages`` with every dependency before its dependents, ties broken by name.

    A ConfigError naming the cycle (``a -> b -> a``, "->" read as "requires") when the
    packages require each other in a circle.
    """
    edges = _edges(packages)
    by_key = {p.key: p for p in packages}
    waiting = {key: len(deps) for key, deps in edges.items()}
    users: dict[str, list[str]] = {key: [] for key in edges}
    for key, deps in edges.items():
        for dep in deps:
            users[dep].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Package] = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for user in users[key]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(ordered) < len(packages):
        raise _cycle_error(by_key, edges, {k for k, count in waiting.items() if count})
    return tuple(ordered)


def _cycle_error(
    by_key: Mapping[str, Package],
    edges: Mapping[str, list[str]],
    left: set[str],
) -> ConfigError:
    # Every package left waits for one that is also left, so walking from the first by
    # name (to its first dependency left) must come back to a package already seen.
    walk = [min(left)]
    while True:
        step = min(dep for dep in edges[walk[-1]] if dep in left)
        if step in walk:
            cycle = [*walk[walk.index(step) :], step]
            break
        walk.append(step)
    links = []
    for key, dep in itertools.pairwise(cycle):
        package = by_key[key]
        text = next(r for r in package.requires if _requirement_key(r) == dep)
        links.append(f"{package.name} requires `{text}` in {package.pyproject}")
    return ConfigError(
        "The packages require each other in a cycle: "
        + " -> ".join(by_key[key].name for key in cycle)
        + ", so none of them can be released before the others.",
        "Remove one of these requirements: " + "; ".join(links) + ".",
    )


def dependents(packages: Sequence[Package], name: str) -> tuple[Package, ...]:
    """The packages (in the order given) that require ``name`` directly."""
    key = normalised(name)
    return tuple(
        p for p in packages if p.key != key and any(_requirement_key(r) == key for r in p.requires)
    )


# --- pins -----------------------------------------------------------------------------


def pin_conflicts(
    packages: Sequence[Package], new_versions: Mapping[str, Version], memo: Memo | None = None
) -> tuple[PinConflict, ...]:
    """Every requirement of a package on a released one that does not admit its new version.

    A pre-release counts as admitted when it lies inside the requirement's range
    (``SpecifierSet.contains(version, prereleases=True)``): ``pkg-a>=1`` admits
    ``2.0.0rc1``, while ``pkg-a<2`` does not (PEP 440 keeps pre-releases of 2 out of <2).
    ``memo`` keeps the answers (see :func:`release.requirements.recall_admits`).
    """
    released = {normalised(name): version for name, version in new_versions.items()}
    names = {normalised(name): name for name in new_versions}
    names.update({p.key: p.name for p in packages if p.key in released})
    asked: list[tuple[Package, str, str, Version]] = []
    for package in packages:
        for text in package.requires:
            key = _requirement_key(text)
            if key != package.key and key in released:
                asked.append((package, text, key, released[key]))
    requirements.recall_admits([(text, version) for _, text, _, version in asked], memo)
    return tuple(
        PinConflict(package.name, names[key], text, str(version))
        for package, text, key, version in asked
        if not requirements.admits(text, version)
    )


# The name (and extras) a requirement starts with, before its version specifiers.
_HEAD = re.compile(r"\s*[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\s*\[[^\]]*\])?")
_CLAUSE = re.compile(r"(?P<op>===|~=|==|!=|<=|>=|<|>)(?P<space>\s*)(?P<version>[^\s,;()]+)")
_PARENS = re.compile(r"(?P<open>\s*\(\s*)?(?P<body>.*?)(?P<close>\s*\)\s*)?", re.DOTALL)


def update_requirement(requirement: str, version: Version) -> str:
    """``requirement`` rewritten so that it admits ``version``, its name, extras, marker
    and spacing kept; unchanged when it already admits it. Each specifier:

    * ``>=X`` and ``>X`` become ``>=NEW`` (the dependent is released with NEW);
    * ``~=X`` becomes ``~=`` NEW's release cut (or padded) to X's number of components;
    * ``==X`` that excludes NEW becomes ``==NEW`` (``==1.*`` becomes ``==2.*``);
    * ``<X`` that excludes NEW becomes NEW's release cut to X's number of components with
      its last one raised by one (``<2`` -> ``<3`` for 2.0.0; ``<2.0`` -> ``<2.2`` for 2.1.0);
    * ``<=X`` that excludes NEW becomes ``<=NEW``; ``!=X`` that excludes it is dropped.

    Specifiers that admit NEW and are no lower bound stay as written.
    """
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    if parsed.url or parsed.specifier.contains(version, prereleases=True):
        return requirement
    head = _HEAD.match(requirement)
    assert head is not None  # a valid requirement starts with its name
    marker_at = requirement.find(";", head.end())
    end = marker_at if marker_at >= 0 else len(requirement)
    region = requirement[head.end() : end]
    return requirement[: head.end()] + _rewrite_region(region, version) + requirement[end:]


def _rewrite_region(region: str, version: Version) -> str:
    found = _PARENS.fullmatch(region)
    assert found is not None  # the pattern matches any text
    parts = found["body"].split(",")
    kept: list[tuple[int, str]] = []
    for index, part in enumerate(parts):
        clause = _CLAUSE.search(part)
        if clause is None:
            kept.append((index, part))
            continue
        rewritten = _rewrite_clause(clause["op"], clause["version"], version)
        if rewritten is None:
            continue
        op, text = rewritten
        before, after = part[: clause.start()], part[clause.end() :]
        kept.append((index, f"{before}{op}{clause['space']}{text}{after}"))
    if not kept:  # only exclusions of NEW were there: no specifier is left
        return _trailing(region)
    texts = [text for _, text in kept]
    if kept[0][0] != 0:  # the first one went: its successor takes its place and spacing
        texts[0] = _leading(parts[0]) + texts[0].lstrip()
    if kept[-1][0] != len(parts) - 1:
        texts[-1] = texts[-1].rstrip() + _trailing(parts[-1])
    return (found["open"] or "") + ",".join(texts) + (found["close"] or "")


def _leading(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _trailing(text: str) -> str:
    return text[len(text.rstrip()) :]


def _rewrite_clause(op: str, written: str, new: Version) -> tuple[str, str] | None:
    """(operator, version) for one specifier, or None to drop it."""
    from packaging.specifiers import Specifier

    if op in (">=", ">"):
        return ">=", new.public
    if op == "~=":
        return "~=", _compatible(new, len(Version(written).release))
    if Specifier(f"{op}{written}").contains(new, prereleases=True):
        return op, written
    if op == "==" and written.endswith(".*"):
        return op, _epoch(new) + _release(new, len(Version(written[:-2]).release)) + ".*"
    if op in ("==", "==="):
        return op, str(new)
    if op == "<=":
        return op, new.public
    if op == "<":
        numbers = _numbers(new, len(Version(written).release))
        numbers[-1] += 1
        return op, _epoch(new) + ".".join(map(str, numbers))
    return None  # "!=" excluding NEW


def _compatible(new: Version, components: int) -> str:
    from packaging.specifiers import Specifier

    base = _epoch(new) + _release(new, components)
    if Specifier(f"~={base}").contains(new, prereleases=True):
        return base
    # 1.4.0rc1 cut to two components is 1.4, above it: keep its pre-release (~=1.4rc1).
    suffix = "".join(map(str, new.pre)) if new.pre else ""
    suffix += f".post{new.post}" if new.post is not None else ""
    suffix += f".dev{new.dev}" if new.dev is not None else ""
    return base + suffix


def _numbers(version: Version, components: int) -> list[int]:
    """The release numbers of ``version`` cut, or padded with zeros, to ``components``."""
    return [*version.release, *[0] * components][:components]


def _release(version: Version, components: int) -> str:
    return ".".join(map(str, _numbers(version, components)))


def _epoch(version: Version) -> str:
    return f"{version.epoch}!" if version.epoch else ""


def update_pins(
    pyproject_text: str, dependency: str, version: Version, *, where: str = _ROOT_FILE
) -> str:
    """``pyproject_text`` with each requirement on ``dependency`` in ``[project]
    dependencies`` and ``optional-dependencies`` that excludes ``version`` rewritten by
    :func:`update_requirement`; every other byte unchanged (comments, order, quoting).
    ``where`` names the file in errors."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    from tomlkit.items import Array, String

    try:
        doc = tomlkit.parse(pyproject_text)
    except TOMLKitError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}.", "Fix the syntax there.") from None
    project = doc.get("project")
    if not isinstance(project, Mapping):
        return pyproject_text
    arrays: list[tuple[str, Any]] = [("dependencies", project.get("dependencies"))]
    optional = project.get("optional-dependencies")
    if isinstance(optional, Mapping):
        arrays += [(f"optional-dependencies.{name}", items) for name, items in optional.items()]
    key = normalised(dependency)
    changed = False
    for label, items in arrays:
        if not isinstance(items, Array):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, String):
                continue
            text = str(item)
            if _read_requirement(text, f"{where}: `[project] {label}`").key != key:
                continue
            new = update_requirement(text, version)
            if new == text:
                continue
            items[index] = String(
                item.type, new, _raw_body(item.as_string(), item.type, text, new), item.trivia
            )
            changed = True
    return tomlkit.dumps(doc) if changed else pyproject_text


def _raw_body(raw: str, kind: StringType, old: str, new: str) -> str:
    """The TOML text between the quotes of string ``raw`` (of value ``old``) made to hold
    ``new``: the part after the change is kept as written (escapes in a marker survive)."""
    from tomlkit.items import String

    delimiter = kind.value
    body = raw[len(delimiter) : len(raw) - len(delimiter)]
    # A multi-line string may start with a newline that is not part of its value.
    lead = body[: len(body) - len(body.lstrip("\r\n"))] if len(delimiter) == 3 else ""
    body = body[len(lead) :]
    same = 0
    while same < min(len(old), len(new)) and old[-1 - same] == new[-1 - same]:
        same += 1
    if body.startswith(old[: len(old) - same]):
        return lead + new[: len(new) - same] + body[len(old) - same :]
    escaped = String.from_raw(new, kind).as_string()  # escapes before the change: write anew
    return lead + escaped[len(delimiter) : len(escaped) - len(delimiter)]
