"""``release init``: adopt an existing project by detecting how it already works.

Detects the version source, the towncrier configuration (or creates one), the tag
format from existing tags, the default branch from the remote and the forge from the
``origin`` remote's URL, then writes ``[tool.release]`` with tomlkit so the rest of
pyproject.toml keeps its style.  Every decision is reported with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.config import Location, location_as_toml, project_name, read_pyproject
from release.detect import version_locations
from release.errors import UsageError
from release.runner import Runner

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
    from release.detect import describe_argv, first_version, tag_format

    names = runner.git("for-each-ref", "--format=%(refname:lstrip=2)", "refs/tags").stdout
    nearest = None
    if any(loc.kind == "scm" for loc in locations):
        nearest = runner.run(describe_argv(), check=False).stdout.strip() or None
    files = {}
    for loc in locations:
        if loc.kind != "scm":
            try:
                files[loc.path] = (project_dir / loc.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                break
    current = first_version(locations, files)
    found = tag_format(names.splitlines(), current=current, nearest=nearest)
    return found.format, found.reason


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
    branch, why = detect_branch(runner)
    out.table["branches"] = [branch]
    out.reasons.append(f"branches = [{branch!r}]: {why}.")
    table, why_forge = detect_forge(runner, forge)
    if table is not None:
        out.table["forge"] = table
    if why_forge is not None:
        out.reasons.append(why_forge)
    out.reasons += _extensions(project_dir, pyproject)
    from release.fragments import load_towncrier, towncrier_configured

    if towncrier_configured(project_dir, pyproject):
        out.reasons.append("towncrier is already configured; its settings are used as they are.")
        if "fragment-bumps" not in out.table:
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
        return out
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
    return out


def _extensions(project_dir: Path, pyproject: Mapping[str, Any]) -> list[str]:
    """The decision about compiled extensions (release.extensions); none for a pure-Python
    project, whose decisions are as they were."""
    from release.extensions import detect, reason

    compiled = detect(project_dir, pyproject)
    return [reason(compiled)] if compiled.builder is not None else []


def apply(project_dir: Path, decisions: Decisions) -> None:
    import tomlkit

    path = project_dir / "pyproject.toml"
    original = _read(path)
    doc = tomlkit.parse(original)
    tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
    table = tomlkit.table()
    for key, value in decisions.table.items():
        table[key] = value
    tool["release"] = table
    if decisions.towncrier is not None:
        towncrier = tomlkit.table()
        for key, value in decisions.towncrier.items():
            towncrier[key] = value
        tool["towncrier"] = towncrier
        (project_dir / "changelog.d").mkdir(exist_ok=True)
        keep = project_dir / "changelog.d" / ".gitkeep"
        if not any((project_dir / "changelog.d").iterdir()):
            keep.write_text("", encoding="utf-8")
    _write(path, tomlkit.dumps(doc), like=original)
    if decisions.news_file_insert is not None:
        name, text = decisions.news_file_insert
        _write(project_dir / name, text, like=_read(project_dir / name))


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
