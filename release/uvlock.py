"""A package's own entry in ``uv.lock``: read its version, and rewrite only that line.

A lock file can list thousands of packages, and a preview reads it and plans two edits of
it, so the whole file is never parsed: the ``[[package]]`` block of the package is found by
its ``name`` line (uv writes each block's ``name`` first, normalised), and only that block
is parsed with tomllib, to read the version and to prove that an edit changed nothing else.
Pure functions over the file's text; ``path`` only names the file in errors.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

from release.errors import ConfigError
from release.names import normalised
from release.tomlfiles import edit_needs_no_proof

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_HEADER = "[[package]]"
# What follows a block's header: its `name`, on the next line as uv writes it.
_NAME = re.compile(
    r"[ \t]*(?:#[^\n]*)?\r?\n[ \t]*name[ \t]*=[ \t]*(?P<q>[\"'])(?P<name>[^\"'\n]*)(?P=q)"
)
# A sub-table of the entry ([package.metadata], [[package.wheels]]...): the entry's own keys
# are above the first one.
_SUBTABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)


class _Entry(NamedTuple):
    start: int  # where the block's header starts
    body: int  # just after the header
    end: int  # where the next block starts, or the end of the text
    table: dict[str, Any]  # the entry, parsed


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of each ``[[package]]`` block that starts with a ``name``."""
    starts = []
    at = text.find(_HEADER)
    while at != -1:
        if at == 0 or text[at - 1] == "\n":
            starts.append(at)
        at = text.find(_HEADER, at + len(_HEADER))
    found = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        match = _NAME.match(text, start + len(_HEADER), end)
        if match is not None:
            found.append((start, end, match["name"]))
    return found


_VERSION_LINE = re.compile(
    r"^[ \t]*version[ \t]*=[ \t]*(?P<q>[\"'])(?P<version>[^\"'\n]*)(?P=q)", re.MULTILINE
)


def _fix(path: str) -> str:
    return (
        f"Run `uv lock` so that {path} locks the project as it is now; if the package is "
        f'locked under another name, name it: {{ path = "{path}", format = "uv-lock", '
        'key = "NAME" } in `version-locations`.'
    )


def _entry(text: str, package: str, path: str) -> _Entry:
    wanted = normalised(package)
    matching = [(s, e) for s, e, name in _blocks(text) if normalised(name) == wanted]
    if not matching:
        raise ConfigError(
            f"{path} has no [[package]] entry named {wanted!r}, so the version cannot be "
            "read or updated there.",
            _fix(path),
        )
    if len(matching) > 1:
        raise ConfigError(
            f"{path} has {len(matching)} [[package]] entries named {wanted!r}; a uv-lock "
            "location updates the one entry of a package built from this project.",
            _fix(path),
        )
    start, end = matching[0]
    try:
        data = tomllib.loads(text[start:end])
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: the [[package]] entry of {wanted!r} is not valid TOML ({exc}).",
            "Run `uv lock` to write the lock file again.",
        ) from None
    return _Entry(start, start + len(_HEADER), end, data["package"][0])


def _version(entry: _Entry, package: str, path: str) -> str:
    version = entry.table.get("version")
    if version is None:
        raise ConfigError(
            f"{path}: the [[package]] entry of {normalised(package)!r} has no `version`, as uv "
            "writes it for a project whose version is dynamic; a uv-lock location cannot hold "
            "a dynamic version (uv.lock does not change when such a version does).",
            f"Remove {path} from `version-locations` in [tool.release].",
        )
    if not isinstance(version, str):
        raise ConfigError(
            f"{path}: the `version` of the [[package]] entry of {normalised(package)!r} is "
            f"not a string ({version!r}).",
            "Run `uv lock` to write the lock file again.",
        )
    return version


def read(text: str, package: str, path: str = "uv.lock") -> str:
    """The version ``text`` (a uv.lock) locks ``package`` at; a ConfigError naming ``path``
    when it has no entry of that package, or one without a version."""
    return _version(_entry(text, package, path), package, path)


def write(text: str, package: str, new: str, path: str = "uv.lock") -> str:
    """``text`` with the version of ``package``'s entry made ``new``; every other byte is
    kept. The errors of :func:`read`, and one when the entry is not laid out as uv writes
    it (its ``version = "..."`` not on a line of its own above its sub-tables)."""
    return _write_entry(text, _entry(text, package, path), package, new, path)


def _write_entry(text: str, entry: _Entry, package: str, new: str, path: str) -> str:
    old = _version(entry, package, path)
    own = _SUBTABLE.search(text, entry.body, entry.end)
    found = [
        m
        for m in _VERSION_LINE.finditer(text, entry.body, own.start() if own else entry.end)
        if m["version"] == old
    ]
    if len(found) == 1:
        start, end = found[0].span("version")
        edited = text[:start] + new + text[end:]
        if edit_needs_no_proof(text[entry.start : entry.end], old, new):
            return edited
        # The rest of the file is the same bytes; the entry must parse as before but for
        # its version.
        block = edited[entry.start : entry.end + len(new) - len(old)]
        try:
            if tomllib.loads(block)["package"] == [{**entry.table, "version": new}]:
                return edited
        except tomllib.TOMLDecodeError:
            pass
    raise ConfigError(
        f"{path}: the `version` of the [[package]] entry of {normalised(package)!r} is not "
        'written as uv writes it (`version = "..."` on a line of its own), so it cannot be '
        "changed without rewriting the file.",
        "Run `uv lock` to write the lock file again.",
    )


def locked_version(text: str, package: str) -> str | None:
    """The version ``text`` (a uv.lock) locks ``package`` at, or None when it has no such
    entry, or one without a version (a dynamic one)."""
    try:
        return read(text, package)
    except ConfigError:
        return None


def moved(text: str, versions: Mapping[str, str], path: str = "uv.lock") -> str:
    """``text`` (a uv.lock) with the entry of each package of ``versions`` moved to its
    version, as :func:`write` moves one, in one pass over the file: a workspace's release
    moves many. A package without an entry, with several, or locked without a version (a
    dynamic one) is left as it is."""
    wanted = {normalised(name): new for name, new in versions.items()}
    blocks = [(start, end, normalised(name)) for start, end, name in _blocks(text)]
    counts = Counter(name for _, _, name in blocks)
    parts: list[str] = []
    at = 0
    for start, end, name in blocks:
        if name not in wanted or counts[name] != 1:
            continue
        block = text[start:end]
        entry = _entry(block, name, path)
        if entry.table.get("version") is None:
            continue
        parts += [text[at:start], _write_entry(block, entry, name, wanted[name], path)]
        at = end
    return "".join(parts) + text[at:]
