"""Release tags: render a version into the configured format, and recognise release tags."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import overload

from packaging.version import Version

from release import version as versions
from release.errors import VersionError
from release.memo import Memo, digest, installed

# Characters a tag may not contain: whitespace, shell metacharacters and what git forbids.
_FORBIDDEN = re.compile(
    r"[\s;&|$`'\"\\<>(){}\[\]*?!~^:#%]|\.\.|@\{|//|\.lock(?=/|$)|/$|\.$|^/|^\.|/\."
)


#: A total order on PEP 440 versions (without local labels) made of plain tuples, so a
#: plain ``X.Y.Z`` tag is ordered without building a packaging ``Version`` at all.
SortKey = tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]
_PLAIN = {
    "pep440": r"\d+(?:\.\d+)*",
    "semver": r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)",
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

    __slots__ = ("_version", "key", "name", "scheme", "text")

    def __init__(
        self, name: str, text: str, key: SortKey, scheme: versions.Scheme = "pep440"
    ) -> None:
        self.name = name
        self.text = text  # the version as written in the tag
        self.key = key
        self.scheme = scheme
        self._version: Version | None = None

    @property
    def version(self) -> Version:
        if self._version is None:
            self._version = versions.read(self.text, self.scheme)
        return self._version

    def __repr__(self) -> str:
        return f"ReleaseTag({self.name!r}, {self.text!r})"


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
    # As pattern(fmt) reads it back, without compiling one per format (one per package).
    prefix, suffix = affixes(fmt)
    between = name[len(prefix) : len(name) - len(suffix)]
    if not (name.startswith(prefix) and name.endswith(suffix)) or between != text:
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


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def ref_format_problem(name: str) -> str | None:
    """Why ``refs/tags/<name>`` breaks git's rules for reference names (the rules of
    ``git check-ref-format``, applied here so that no process is started per tag), or
    ``None``."""
    if not name:
        return "it is empty"
    if name.startswith("/") or name.endswith(("/", ".")):
        return "it starts with '/' or ends with '/' or '.'"
    match = _REF_FORBIDDEN.search(name)
    if match:
        return f"it contains {match.group()!r}"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a part between slashes starts with '.' or ends with '.lock'"
    return None


def affixes(fmt: str) -> tuple[str, str]:
    """The literal text before and after ``{version}`` in a tag format."""
    prefix, _, suffix = fmt.partition("{version}")
    unescape = {"{{": "{", "}}": "}"}
    for escaped, char in unescape.items():
        prefix, suffix = prefix.replace(escaped, char), suffix.replace(escaped, char)
    return prefix, suffix


def pattern(fmt: str) -> re.Pattern[str]:
    prefix, suffix = affixes(fmt)
    return re.compile(re.escape(prefix) + r"(?P<version>.+)" + re.escape(suffix) + r"\Z")


#: Release tags found in this process, by everything they depend on: the packages of a
#: repository of several each ask twice, of the same tag names.
_found: dict[tuple[tuple[str, ...], str, str, str | None], ReleaseTags] = {}


def release_tags(
    names: Sequence[str], fmt: str, scheme: versions.Scheme, memo: Memo | None = None
) -> ReleaseTags:
    """The tags that name a release in ``fmt``, lowest version first; others are ignored.

    Thousands of tags are common: a plain ``X.Y.Z`` is recognised by one regular
    expression and ordered by its numbers alone, its ``Version`` is only built if
    someone asks for it, and the order is kept in ``memo`` under the digest of the
    tag names (a new tag is a new key), so an unchanged repository is not sorted again.
    """
    directory = None if memo is None or memo.directory is None else str(memo.directory)
    key = (tuple(names), fmt, scheme, directory)
    found = _found.get(key)
    if found is None:
        if len(_found) >= 256:
            _found.clear()
        found = _found[key] = _release_tags(key[0], fmt, scheme, memo)
    return found


@functools.lru_cache(maxsize=4)
def _names_digest(names: tuple[str, ...]) -> str:
    return digest("\n".join(names))


def _release_tags(
    names: tuple[str, ...], fmt: str, scheme: versions.Scheme, memo: Memo | None
) -> ReleaseTags:
    key = ""
    if memo is not None and memo.directory is not None:
        key = digest(installed("release.tags", "packaging"), fmt, scheme, _names_digest(names))
        stored = memo.get("release-tags", key)
        # Two texts of lines (a tag name holds no newline): read back without a check per tag.
        if isinstance(stored, dict) and all(
            isinstance(stored.get(part), str) for part in ("names", "versions")
        ):
            sorted_names = stored["names"].split("\n") if stored["names"] else []
            texts = stored["versions"].split("\n") if stored["versions"] else []
            if len(sorted_names) == len(texts):
                remembered = [
                    (None, name, text) for name, text in zip(sorted_names, texts, strict=True)
                ]
                return ReleaseTags(remembered, scheme)
    rows = _sorted_rows(names, fmt, scheme)
    if key and memo is not None:
        memo.put(
            "release-tags",
            key,
            {
                "names": "\n".join(name for _, name, _ in rows),
                "versions": "\n".join(text for _, _, text in rows),
            },
        )
    return ReleaseTags(rows, scheme)


def _sorted_rows(
    names: Iterable[str], fmt: str, scheme: versions.Scheme
) -> list[tuple[SortKey | None, str, str]]:
    regex = pattern(fmt)
    prefix, suffix = affixes(fmt)
    plain = re.compile(f"{re.escape(prefix)}({_PLAIN[scheme]}){re.escape(suffix)}\\Z", re.ASCII)
    rows: list[tuple[SortKey | None, str, str]] = []
    for name in names:
        match = plain.match(name)  # the common case, in one match: no version to parse
        if match is not None:
            rows.append((_plain_key(match[1]), name, match[1]))
            continue
        match = regex.match(name)
        key = None if match is None else _text_key(match["version"], scheme)
        if match is not None and key is not None:
            rows.append((key, name, match["version"]))
    rows.sort(key=itemgetter(0))
    return rows


def _plain_key(text: str) -> SortKey:
    release = tuple(map(int, text.split(".")))
    if release[-1] == 0:
        release = _strip_zeros(release)
    return (0, release, (2,), (0,), (1,))


def _text_key(text: str, scheme: versions.Scheme) -> SortKey | None:
    """The sort key of the version a release tag holds, or None when ``text`` is none."""
    if re.fullmatch(_PLAIN[scheme], text, re.ASCII):
        return _plain_key(text)
    # packaging reads "v1.2.0" as 1.2.0: the format, not the parser, owns a 'v'.
    if text[:1] in ("v", "V"):
        return None
    try:
        v = versions.read(text, scheme)
    except VersionError:
        return None
    return None if v.local is not None else version_key(v)


def highest(
    releases: ReleaseTags, names: Iterable[str], series: tuple[int, ...] = ()
) -> ReleaseTag | None:
    """The highest of the release tags called ``names`` whose version is in ``series``
    (every version when it is empty); None when there is none."""
    found = [
        tag
        for tag in map(releases.find, names)
        if tag is not None and versions.in_series(tag.version, series)
    ]
    return max(found, key=lambda tag: tag.key) if found else None


class ReleaseTags(Sequence[ReleaseTag]):
    """Release tags, lowest version first; each :class:`ReleaseTag` is made when asked for.

    A plan needs the latest release and rarely more, so thousands of tags stay rows
    (a row read back from the memo has no sort key until its tag is made).
    """

    __slots__ = ("_index", "_made", "_rows", "_scheme")

    def __init__(
        self, rows: Sequence[tuple[SortKey | None, str, str]], scheme: versions.Scheme
    ) -> None:
        self._rows = rows
        self._scheme = scheme
        self._made: dict[int, ReleaseTag] = {}
        self._index: dict[str, int] | None = None  # name -> position, made when first asked

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> ReleaseTag: ...
    @overload
    def __getitem__(self, index: slice) -> ReleaseTags: ...
    def __getitem__(self, index: int | slice) -> ReleaseTag | ReleaseTags:
        if isinstance(index, slice):
            return ReleaseTags(self._rows[index], self._scheme)
        position = range(len(self._rows))[index]  # IndexError as a list raises it
        made = self._made.get(position)
        if made is None:
            key, name, text = self._rows[position]
            if key is None:  # read back from the memo, which keeps release tags only
                key = _text_key(text, self._scheme)
                assert key is not None
            made = self._made[position] = ReleaseTag(name, text, key, self._scheme)
        return made

    def find(self, name: str) -> ReleaseTag | None:
        """The release tag called ``name``, or None when it is not a release tag."""
        if self._index is None:
            self._index = {row_name: n for n, (_, row_name, _) in enumerate(self._rows)}
        position = self._index.get(name)
        return None if position is None else self[position]

    def __repr__(self) -> str:
        return f"ReleaseTags({[name for _, name, _ in self._rows]!r})"
