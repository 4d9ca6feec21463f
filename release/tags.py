"""Release tags: render a version into the configured format, and recognise release tags."""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.version import Version

from release import version as versions
from release.errors import VersionError

# Characters a tag may not contain: whitespace, shell metacharacters and what git forbids.
_FORBIDDEN = re.compile(
    r"[\s;&|$`'\"\\<>(){}\[\]*?!~^:#%]|\.\.|@\{|//|\.lock(?=/|$)|/$|\.$|^/|^\.|/\."
)


#: A total order on PEP 440 versions (without local labels) made of plain tuples, so a
#: plain ``X.Y.Z`` tag is ordered without building a packaging ``Version`` at all.
SortKey = tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]
_PLAIN = {
    "pep440": re.compile(r"\d+(?:\.\d+)*\Z"),
    "semver": re.compile(r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\Z"),
}
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}


def _strip_zeros(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def version_key(v: Version) -> SortKey:
    """The same order as comparing ``Version`` objects (local labels aside)."""
    if v.pre is None and v.post is None and v.dev is not None:
        pre: tuple[int, ...] = (0,)  # 1.0.dev0 comes before 1.0a1
    elif v.pre is None:
        pre = (2,)
    else:
        pre = (1, _PRE_RANK[v.pre[0]], v.pre[1])
    post = (0,) if v.post is None else (1, v.post)
    dev = (1,) if v.dev is None else (0, v.dev)
    return (v.epoch, _strip_zeros(v.release), pre, post, dev)


class ReleaseTag:
    """A tag that names a release. Plain (slotted) because repositories have thousands."""

    __slots__ = ("_version", "commit", "key", "name", "scheme", "text")

    def __init__(
        self, name: str, text: str, commit: str, key: SortKey, scheme: versions.Scheme = "pep440"
    ) -> None:
        self.name = name
        self.text = text  # the version as written in the tag
        self.commit = commit
        self.key = key
        self.scheme = scheme
        self._version: Version | None = None

    @property
    def version(self) -> Version:
        if self._version is None:
            self._version = versions.read(self.text, self.scheme)
        return self._version

    def __repr__(self) -> str:
        return f"ReleaseTag({self.name!r}, {self.text!r}, {self.commit!r})"


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
    """The tags that name a release in ``fmt``, lowest version first; others are ignored.

    Thousands of tags are common; a plain ``X.Y.Z`` is ordered by its numbers alone and
    its ``Version`` is only built if someone asks for it.
    """
    regex = pattern(fmt)
    plain = _PLAIN[scheme]
    found: list[ReleaseTag] = []
    for name, commit in tags:
        match = regex.match(name)
        if not match:
            continue
        text = match["version"]
        if plain.match(text):
            release = tuple(map(int, text.split(".")))
            if release[-1] == 0:
                release = _strip_zeros(release)
            found.append(ReleaseTag(name, text, commit, (0, release, (2,), (0,), (1,)), scheme))
            continue
        # packaging reads "v1.2.0" as 1.2.0: the format, not the parser, owns a 'v'.
        if text[:1] in ("v", "V"):
            continue
        try:
            v = versions.read(text, scheme)
        except VersionError:
            continue
        if v.local is not None:
            continue
        found.append(ReleaseTag(name, text, commit, version_key(v), scheme))
    found.sort(key=lambda t: t.key)
    return found
