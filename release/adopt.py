"""``release init``: adopt an existing project by detecting how it already works.

Detects the version source, the towncrier configuration (or creates one), the tag
format from existing tags, the default branch from the remote and the forge from the
``origin`` remote's URL, then writes ``[tool.release]`` with tomlkit so the rest of
pyproject.toml keeps its style.  Every decision is reported with its reason.

At the root of a repository of several packages (:func:`decide_workspace`) the same
decisions are made for every package in its own directory; what they share goes once into
the root's table, and a package's own file gets only what differs from what it inherits
and its defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from release.config import (
    Location,
    inherited_from_root,
    location_as_toml,
    project_name,
    read_pyproject,
)
from release.detect import version_locations
from release.errors import ReleaseError, UsageError
from release.ops.git import ROOT_PROJECT as ROOT
from release.runner import Runner

if TYPE_CHECKING:
    from release.packages import Package

START = {
    ".md": "<!-- towncrier release notes start -->\n",
    ".rst": ".. towncrier release notes start\n",
}
NEWS_CANDIDATES = (
    "CHANGELOG.md",
    "CHANGES.md",
    "NEWS.md",
    "HISTORY.md",
    "CHANGELOG.rst",
    "CHANGES.rst",
    "NEWS.rst",
    "HISTORY.rst",
)


_SCP_LIKE = re.compile(r"(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)(?P<path>.+)")


@dataclass
class Decisions:
    table: dict[str, Any] = field(default_factory=dict)
    towncrier: dict[str, Any] | None = None
    news_file_insert: tuple[str, str] | None = None  # (path, new text)
    reasons: list[str] = field(default_factory=list)


def detect_tag_format(
    runner: Runner, project_dir: Path, locations: Sequence[Location]
) -> tuple[str, str]:
    """The tag format, decided from the same inputs as for an unconfigured project
    (:func:`detect.tag_format`): the nearest tag for a version kept in tags, else the tag
    of the current version."""
    from release.detect import describe_argv, tag_format

    names = runner.git("for-each-ref", "--format=%(refname:lstrip=2)", "refs/tags").stdout
    nearest = None
    if any(loc.kind == "scm" for loc in locations):
        nearest = runner.run(describe_argv(), check=False).stdout.strip() or None
    current = _current_version(project_dir, locations)
    found = tag_format(names.splitlines(), current=current, nearest=nearest)
    return found.format, found.reason


def _current_version(project_dir: Path, locations: Sequence[Location]) -> str | None:
    """The version the first version file holds, when it can be read."""
    from release.detect import first_version

    files = {}
    for loc in locations:
        if loc.kind != "scm":
            try:
                files[loc.path] = (project_dir / loc.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                break
    return first_version(locations, files)


def fragment_bumps(types: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """A bump level for every towncrier type: the built-in one, else by the name rule.

    Only the levels of types without a built-in one are written (the others are
    the defaults already); every decision is shown.
    """
    from release.config import DEFAULT_FRAGMENT_BUMPS, level_by_name

    bumps: dict[str, str] = {}
    shown: list[str] = []
    for name in types:
        if name in DEFAULT_FRAGMENT_BUMPS:
            shown.append(f"{name} = {DEFAULT_FRAGMENT_BUMPS[name]} (built in)")
        else:
            bumps[name] = level_by_name(name)
            shown.append(f"{name} = {bumps[name]} (by its name)")
    return bumps, shown


def detect_branch(runner: Runner) -> tuple[str, str]:
    from release.detect import release_branch

    head = runner.git(
        "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
    ).stdout.strip()
    current = runner.git("branch", "--show-current", check=False).stdout.strip()
    return release_branch(head, current or None)


def remote_location(url: str) -> tuple[str, str] | None:
    """(host, project path) of a remote URL: ``https://host/group/sub/name.git``,
    ``ssh://user@host:port/group/name``, ``git@host:group/sub/name.git``, ``git://...``;
    the host in lower case without a port, the path without slashes around it or ``.git``.
    None for a local repository (a path, ``file://``)."""
    from urllib.parse import urlsplit

    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    else:
        found = _SCP_LIKE.fullmatch(url)
        if found is None or len(found["host"]) == 1:
            return None  # a path on this machine (C:/... is a drive, as git on Windows says)
        host, path = found["host"], found["path"]
    path = path.strip("/").removesuffix(".git").strip("/")
    return (host.lower(), path) if path else None


def detect_forge(runner: Runner, kind: str | None) -> tuple[dict[str, str] | None, str | None]:
    """``[tool.release.forge]`` from the ``origin`` remote's URL (or None), and the reason
    (None when there is nothing to say: no origin, or a local one). The kinds, the public
    hosts that name one, and each kind's default ``url`` are those of the forge registry
    (``release.forges.FORGES``); ``kind`` (``--forge``) settles it for another host."""
    from urllib.parse import urlsplit

    from release.forges import FORGES, kind_from_url

    kinds = " | ".join(repr(name) for name in FORGES)
    if kind is not None and kind not in FORGES:
        raise UsageError(
            f"release init --forge {kind}: there is no forge kind {kind!r}.",
            f"Use one of {', '.join(FORGES)}.",
        )
    url = runner.git("remote", "get-url", "origin", check=False).stdout.strip()
    location = remote_location(url) if url else None
    if location is None:
        if kind is not None:
            raise UsageError(
                f"release init --forge {kind} needs an `origin` remote on the forge "
                + (f"(origin is {url}, a local repository)." if url else "(there is none)."),
                "Add it (git remote add origin URL), or leave out --forge.",
            )
        return None, None
    host, path = location
    chosen = kind or kind_from_url(url)
    if chosen is None:
        return None, (
            f"forge: none written: origin ({url}) is on {host}, a host release init does not "
            f'know. Add [tool.release.forge] with kind = {kinds} and url = "https://{host}", '
            "or run release init --forge KIND."
        )
    known = FORGES[chosen]
    if not known.repository_ok(path):
        return None, (
            f"forge: none written: origin ({url}) names {path!r}, which is not a "
            f"{known.title} repository ({known.repository_form})."
        )
    table = {"kind": chosen, "repository": path}
    if known.url is None or urlsplit(known.url).hostname != host:
        table["url"] = f"https://{host}"
    why = (
        f"--forge {kind}, and origin ({url}) is on {host}"
        if kind
        else (f"origin ({url}) is on {host}")
    )
    shown = ", ".join(f"{key} = {value!r}" for key, value in table.items())
    return table, f"forge: {shown}: {why}."


def decide(project_dir: Path, forge: str | None = None) -> Decisions:
    pyproject = read_pyproject(project_dir)
    if "release" in pyproject.get("tool", {}):
        raise UsageError(
            "pyproject.toml already has [tool.release].",
            "Edit it by hand; release config shows the effective values.",
        )
    runner = Runner(project_dir)
    out = Decisions()
    found = version_locations(project_dir, pyproject)
    locations = [location_as_toml(loc, project_name(pyproject)) for loc in found.locations]
    out.table["version-locations"] = locations
    out.reasons.append(f"version-locations = {locations}: {found.reason}.")
    fmt, why = detect_tag_format(runner, project_dir, found.locations)
    out.table["tag-format"] = fmt
    out.reasons.append(f"tag-format = {fmt!r}: {why}.")
    _repository_decisions(runner, forge, out, {})
    out.reasons += _extensions(project_dir, pyproject)
    _towncrier_decisions(project_dir, pyproject, out, bumps_set=False)
    return out


def _repository_decisions(
    runner: Runner, forge: str | None, out: Decisions, existing: Mapping[str, Any]
) -> None:
    """What the repository decides for all of it: the release branch and the forge; a key
    ``existing`` (the [tool.release] table already there) sets is kept as it is."""
    if "branches" in existing:
        out.reasons.append(f"branches = {existing['branches']!r}: already set; kept.")
    else:
        branch, why = detect_branch(runner)
        out.table["branches"] = [branch]
        out.reasons.append(f"branches = [{branch!r}]: {why}.")
    if "forge" in existing:
        out.reasons.append("forge: [tool.release.forge] is already set; kept.")
        return
    table, why_forge = detect_forge(runner, forge)
    if table is not None:
        out.table["forge"] = table
    if why_forge is not None:
        out.reasons.append(why_forge)


def _towncrier_decisions(
    project_dir: Path, pyproject: Mapping[str, Any], out: Decisions, *, bumps_set: bool
) -> None:
    """towncrier's configuration: the levels of its fragment types when it has one (unless
    ``bumps_set``: `fragment-bumps` is already configured), else a new one, with the start
    marker inserted in an existing news file."""
    from release.fragments import load_towncrier, towncrier_configured

    if towncrier_configured(project_dir, pyproject):
        out.reasons.append("towncrier is already configured; its settings are used as they are.")
        if bumps_set:
            out.reasons.append("fragment-bumps: already set; kept.")
        elif "fragment-bumps" not in out.table:
            types = load_towncrier(project_dir, pyproject).config.types
            bumps, shown = fragment_bumps(types)
            if bumps:
                out.table["fragment-bumps"] = bumps
            out.reasons.append(
                "fragment-bumps: a level for each of towncrier's fragment types ("
                + "; ".join(shown)
                + "). Breaking/removal types are major (minor below 1.0), new features, "
                "improvements and deprecations minor, documentation and internal ones none, "
                "anything else a patch."
            )
        return
    news = next((n for n in NEWS_CANDIDATES if (project_dir / n).is_file()), "CHANGELOG.md")
    ext = Path(news).suffix
    out.towncrier = {"directory": "changelog.d", "filename": news}
    if ext == ".md":
        out.towncrier["title_format"] = "## {version} ({project_date})"
    out.reasons.append(
        f"towncrier: new configuration writing {news} from fragments in changelog.d/."
    )
    path = project_dir / news
    if path.is_file():
        text = _read(path)
        marker = START[ext]
        if marker.strip() not in text:
            lines = text.splitlines(keepends=True)
            at = 1 if lines and (lines[0].startswith("#") or ext == ".rst") else 0
            if ext == ".rst" and len(lines) > 1 and set(lines[1].strip()) <= set("=-~"):
                at = 2
            new = "".join(lines[:at]) + ("\n" if at else "") + marker + "\n" + "".join(lines[at:])
            out.news_file_insert = (news, new)
            out.reasons.append(
                f"{news}: towncrier's start marker inserted after its title, so "
                "new sections go above the old ones."
            )


def _extensions(project_dir: Path, pyproject: Mapping[str, Any]) -> list[str]:
    """The decision about compiled extensions (release.extensions); none for a pure-Python
    project, whose decisions are as they were."""
    from release.extensions import detect, reason

    compiled = detect(project_dir, pyproject)
    return [reason(compiled)] if compiled.builder is not None else []


def apply(project_dir: Path, decisions: Decisions) -> list[Path]:
    """Write ``decisions`` into the project's files: its keys added to [tool.release] (made
    when there is none), towncrier's new table, the news file's start marker; the files
    written (none when there is nothing to write)."""
    import tomlkit

    if not (decisions.table or decisions.towncrier or decisions.news_file_insert):
        return []
    path = project_dir / "pyproject.toml"
    original = _read(path)
    doc = tomlkit.parse(original)
    tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
    existing = tool.get("release")
    if existing is None and decisions.table:
        table = tomlkit.table()
        for key, value in decisions.table.items():
            table[key] = value
        tool["release"] = table
    elif decisions.table:
        for key, value in decisions.table.items():
            existing[key] = _added(value)
    written = [path]
    if decisions.towncrier is not None:
        towncrier = tomlkit.table()
        for key, value in decisions.towncrier.items():
            towncrier[key] = value
        tool["towncrier"] = towncrier
        (project_dir / "changelog.d").mkdir(exist_ok=True)
        keep = project_dir / "changelog.d" / ".gitkeep"
        if not any((project_dir / "changelog.d").iterdir()):
            keep.write_text("", encoding="utf-8")
            written.append(keep)
    text = tomlkit.dumps(doc)
    if existing is not None and text.endswith("\n\n") and not original.endswith("\n\n"):
        text = text.rstrip("\r\n") + "\n"  # the blank line _added ends a last table with
    _write(path, text, like=original)
    if decisions.news_file_insert is not None:
        name, news = decisions.news_file_insert
        _write(project_dir / name, news, like=_read(project_dir / name))
        written.append(project_dir / name)
    return written


def _added(value: Any) -> Any:
    """A value added to an existing table: a table as a [section] followed by a blank line,
    so whatever section comes after it stays apart."""
    import tomlkit

    if not isinstance(value, dict):
        return value
    table = tomlkit.table()
    for key, item in value.items():
        table[key] = item
    table.add(tomlkit.nl())
    return table


# --- a repository of several packages (docs/monorepo.md) -------------------------------------

#: How a package's tags may end their prefix after its name: ``name-v1.0``, ``name@1.0``,
#: ``name/v1.0``, ``name_1.0``, ``namev1.0``.
_NAME_ENDS = ("-v", "_v", ".v", "@v", "/v", "-", "_", ".", "@", "/", "v", "")


@dataclass
class Adoption:
    """What release init decides for one pyproject.toml of a repository of several
    packages: the root's (what every package inherits) or a package's own."""

    title: str  # how the output names it
    path: str  # its directory, relative to the root
    decisions: Decisions


class PackageCi(NamedTuple):
    """What the CI pipeline of a repository of several packages needs to know of one."""

    name: str
    tag_format: str  # as its release tags are written (its name filled in)
    nox: bool  # its CI gates run nox sessions
    builder: str | None  # what builds its compiled extensions' wheels (release.extensions)
    branches: tuple[str, ...] = ()  # the patterns of its release branches (`branches`)


def decide_workspace(
    root: Path, packages: Sequence[Package], forge: str | None = None
) -> list[Adoption]:
    """``release init`` at the root of a repository of several packages: the root's
    decisions (the release branch, the forge: what every package inherits), then each
    package's own, in dependency order, decided in its directory as for a project of its own
    but written only where they differ from what it inherits or its defaults (a tag format
    other than ``NAME-v{version}``, towncrier's configuration when it has none...). A key
    already set is kept, so running it again decides nothing new."""
    from release.packages import dependency_order
    from release.workspace.gather import about_package

    shared = _release_table(read_pyproject(root))
    runner = Runner(root)
    top = Decisions()
    _repository_decisions(runner, forge, top, shared)
    found = [Adoption("the root (pyproject.toml, what every package inherits)", ".", top)]
    tags = _tag_names(runner)
    for package in dependency_order(packages):
        with about_package(package):
            decided = _decide_package(root, package, tags)
        where = "the root" if package.path == ROOT else package.path
        found.append(Adoption(f"{package.name} ({where})", package.path, decided))
    return found


def apply_workspace(root: Path, adoptions: Sequence[Adoption]) -> list[str]:
    """Write every adoption's decisions; the files written, relative to the root."""
    written: list[str] = []
    for adoption in adoptions:
        for path in apply(root / adoption.path, adoption.decisions):
            shown = path.relative_to(root).as_posix()
            if shown not in written:
                written.append(shown)
    return written


def _decide_package(root: Path, package: Package, tags: Sequence[str]) -> Decisions:
    from release.config import WORKSPACE_DEFAULT, load

    directory = root / package.path
    pyproject = read_pyproject(directory)
    cfg = load(
        directory,
        environ={},
        pyproject=pyproject,
        workspace=inherited_from_root(root, package.path),
    )
    out = Decisions()
    locations = [location_as_toml(loc, project_name(pyproject)) for loc in cfg.locations]
    if cfg.sources["version-locations"] == "pyproject.toml":
        out.reasons.append(f"version-locations = {locations}: already set; kept.")
    else:
        why = version_locations(directory, pyproject).reason
        out.reasons.append(
            f"version-locations = {locations}: {why}; found so by default, so not written."
        )
    source = cfg.sources["tag-format"]
    if source != WORKSPACE_DEFAULT:
        where = "its [tool.release]" if source == "pyproject.toml" else "the root's [tool.release]"
        out.reasons.append(f"tag-format = {cfg.tag_format!r}: set in {where}; kept.")
    else:
        current = _current_version(directory, cfg.locations)
        fmt, why = package_tag_format(tags, package.name, current)
        if fmt is None:
            out.reasons.append(
                f"tag-format = {cfg.tag_format!r}: {why}; the default of a package of a "
                "repository of several ('{name}-v{version}'), so not written."
            )
        elif package.path == ROOT:
            out.reasons.append(
                f"tag-format: {why}, but it is not written: the root's [tool.release] is "
                f"every package's too. This package's tags will be {cfg.tag_format!r}; to keep "
                f"{fmt!r}, set it there and give every other package a tag-format of its own."
            )
        else:
            out.table["tag-format"] = fmt
            out.reasons.append(f"tag-format = {fmt!r}: {why}.")
    out.reasons += _extensions(directory, pyproject)
    bumps_set = cfg.sources["fragment-bumps"] != "default"
    _towncrier_decisions(directory, pyproject, out, bumps_set=bumps_set)
    return out


def package_tag_format(
    tags: Iterable[str], name: str, current: str | None
) -> tuple[str | None, str]:
    """The tag format of the package ``name`` as its tags are written, and why: decided from
    the tags (``tags``: all of the repository's) whose prefix names the package, as for a
    project of its own (:func:`release.detect.tag_format`); None when that is the default
    of a repository of several packages, ``NAME-v{version}``, or no tag names it."""
    from release.detect import tag_format

    mine = [tag for tag in tags if names_package(tag, name)]
    if not mine:
        return None, f"no tag names {name} yet"
    found = tag_format(mine, current=current)
    if found.format == f"{name}-v{{version}}":
        return None, found.reason
    return found.format, found.reason


def names_package(tag: str, name: str) -> bool:
    """Whether ``tag`` is a version after a prefix that is the package's name and a
    separator (``name-v1.0``, ``name@1.0``...), the name in any spelling PEP 503 takes for
    the same (``Name_v1.0`` for ``name``)."""
    from release.detect import split_tag
    from release.names import normalised

    split = split_tag(tag)
    if split is None:
        return False
    prefix, key = split[0], normalised(name)
    return any(
        prefix.endswith(end)
        and len(prefix) > len(end)
        and normalised(prefix[: len(prefix) - len(end)]) == key
        for end in _NAME_ENDS
    )


def ci_packages(
    root: Path,
    packages: Sequence[Package],
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
) -> list[PackageCi]:
    """What ``release init --ci`` writes the pipeline of a repository of several packages
    from, package by package in dependency order: its tag format (as configured, else as its
    tags are written, as release init finds it), whether its CI gates need nox, the
    builder of its wheels when it has compiled extensions, and its release branches."""
    from release.config import WORKSPACE_DEFAULT, load
    from release.extensions import detect
    from release.packages import dependency_order
    from release.workspace.gather import about_package

    tags: list[str] | None = None
    found = []
    for package in dependency_order(packages):
        directory = root / package.path
        with about_package(package):
            cfg = load(
                directory,
                environ=environ,
                overrides=overrides,
                workspace=inherited_from_root(root, package.path),
            )
        fmt = cfg.tag_format
        if cfg.sources["tag-format"] == WORKSPACE_DEFAULT and package.path != ROOT:
            tags = _tag_names(Runner(root)) if tags is None else tags
            current = _current_version(directory, cfg.locations)
            fmt = package_tag_format(tags, package.name, current)[0] or fmt
        nox = bool(cfg["ci-gates"]) and any(gate.is_session for gate in cfg.gates)
        builder = detect(directory, cfg.pyproject).builder
        branches = tuple(line.pattern for line in cfg.lines)
        found.append(PackageCi(package.name, fmt, nox, builder, branches))
    return found


def enclosing_package(project_dir: Path) -> tuple[Path, Package] | None:
    """The repository's root and the package, when ``project_dir`` is a package of a
    repository of several below its root (whose adoption is the root's: release init there
    decides what the packages share); None otherwise."""
    from release.ops.git import locate
    from release.packages import discover

    runner = Runner(project_dir)
    try:
        path = locate(runner)[1]
    except ReleaseError:
        return None  # not in a git repository: a project of its own
    if path == ROOT:
        return None
    top = Path(runner.git("rev-parse", "--show-toplevel").stdout.strip())
    if not (top / "pyproject.toml").is_file():
        return None
    try:
        packages = discover(top)
    except ReleaseError:
        return None  # the root declares its packages wrongly: release says so at the root
    found = next((p for p in packages if p.path == path), None)
    return (top, found) if found is not None else None


def _release_table(pyproject: Mapping[str, Any]) -> dict[str, Any]:
    table = pyproject.get("tool", {}).get("release", {})
    return table if isinstance(table, dict) else {}


def _tag_names(runner: Runner) -> list[str]:
    shown = runner.git("for-each-ref", "--format=%(refname:lstrip=2)", "refs/tags").stdout
    return shown.splitlines()


def _read(path: Path) -> str:
    """The file's text with its line endings as they are (CRLF stays CRLF)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _write(path: Path, text: str, *, like: str | None = None) -> None:
    """Write ``text``; when the file had CRLF line endings (``like``), so do the new lines."""
    if like is not None and "\r\n" in like and "\n" not in like.replace("\r\n", ""):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
