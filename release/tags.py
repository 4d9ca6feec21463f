"""Release tags: render a version into the configured format, and recognise release tags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from release import version as versions
from release.errors import VersionError

# Characters a tag may not contain: whitespace, shell metacharacters and what git forbids.
_FORBIDDEN = re.compile(
    r"[\s;&|$`'\"\\<>(){}\[\]*?!~^:#%]|\.\.|@\{|//|\.lock(?=/|$)|/$|\.$|^/|^\.|/\."
)


@dataclass(frozen=True)
class ReleaseTag:
    name: str
    version: Version
    commit: str


def render(fmt: str, v: Version, scheme: versions.Scheme) -> str:
    """The tag name of ``v``; it must be safe and must read back as ``v``."""
    text = versions.render(v, scheme)
    hint = "Change `tag-format` in [tool.release] to something like 'v{version}'."
    try:
        name = fmt.format(version=text)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise VersionError(f"tag-format {fmt!r} is not a valid template ({exc}).", hint) from None
    problem = tag_name_problem(name)
    if problem:
        raise VersionError(
            f"tag-format {fmt!r} gives the tag name {name!r}, which {problem}.", hint
        )
    match = pattern(fmt).match(name)
    if match is None or match["version"] != text:
        raise VersionError(
            f"tag-format {fmt!r} gives the tag name {name!r}, which would not be "
            f"recognised as the release {text}.",
            "Use {version} exactly once. " + hint,
        )
    return name


def tag_name_problem(name: str) -> str | None:
    """Why ``name`` is not a safe tag name, or ``None``.

    Stricter than ``git check-ref-format``: no whitespace, no shell
    metacharacters and no leading ``-`` (which a command would read as an option).
    """
    if not name:
        return "is empty"
    if name.startswith("-"):
        return "starts with '-', which commands would read as an option"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains control characters"
    match = _FORBIDDEN.search(name)
    if match:
        return f"contains {match.group()!r}, which is not allowed in a tag name"
    return None


def pattern(fmt: str) -> re.Pattern[str]:
    prefix, _, suffix = fmt.partition("{version}")
    prefix = prefix.replace("{{", "{").replace("}}", "}")
    suffix = suffix.replace("{{", "{").replace("}}", "}")
    return re.compile(re.escape(prefix) + r"(?P<version>.+)" + re.escape(suffix) + r"\Z")


def release_tags(
    tags: Iterable[tuple[str, str]], fmt: str, scheme: versions.Scheme
) -> list[ReleaseTag]:
    """The tags that name a release in ``fmt``, lowest version first; others are ignored."""
    regex = pattern(fmt)
    found: list[ReleaseTag] = []
    for name, commit in tags:
        match = regex.match(name)
        # packaging reads "v1.2.0" as 1.2.0: the format, not the parser, owns a 'v'.
        if not match or match["version"][:1] in ("v", "V"):
            continue
        try:
            v = versions.read(match["version"], scheme)
        except VersionError:
            continue
        if v.local is not None:
            continue
        found.append(ReleaseTag(name, v, commit))
    found.sort(key=lambda t: t.version)
    return found
