"""TOML files read once per process, and a workspace's pyproject files kept in the cache.

A pyproject.toml is read as configuration, then as a version location, then edited (in a
repository of several packages, each one's), so each text is parsed once per process. At
the root of a workspace every package's file is parsed on every preview: tomllib takes
about a third of a millisecond for each, the JSON of them all about one millisecond, so
the files read together are also kept as one answer of the on-disk cache
(:mod:`release.memo`), keyed by their bytes and the installed tomllib.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from release.memo import Memo

#: (path, mtime, size) -> the parsed file; and text -> the parsed text.
_FILES: dict[tuple[Path, int, int], dict[str, Any]] = {}
_TEXTS: dict[str, dict[str, Any]] = {}
#: Texts kept; a workspace holds a few per package.
_KEEP_TEXTS = 4096


def read_toml(path: Path, *, missing: tuple[str, str], shown: str | None = None) -> dict[str, Any]:
    """The TOML file at ``path``, parsed once per process as long as it is unchanged (the
    packages of a repository are read by discovery, then by their configuration);
    ``missing`` is the message and hint when it does not exist. Callers must not change
    what it returns."""
    name = shown or str(path)
    try:
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key in _FILES:
            return _FILES[key]
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(*missing) from None
    try:
        data = parse_toml(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{name} is not valid UTF-8 ({exc.reason} at byte {exc.start}).",
            "Save it as UTF-8.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ConfigError(
                f"{name} starts with a byte order mark (BOM), which TOML does not allow: "
                "tomllib, and so pip and build, cannot read it.",
                "Save it as UTF-8 without a BOM.",
            ) from None
        raise ConfigError(f"{name} is not valid TOML: {exc}.", "Fix the syntax there.") from None
    _FILES[key] = data
    return data


def parse_toml(text: str) -> dict[str, Any]:
    """``text`` parsed as TOML, once per process. Callers must not change what it
    returns."""
    found = _TEXTS.get(text)
    if found is None:
        found = tomllib.loads(text)
        _keep(text, found)
    return found


def _keep(text: str, data: dict[str, Any]) -> None:
    if len(_TEXTS) >= _KEEP_TEXTS:
        _TEXTS.clear()
    _TEXTS[text] = data


def recall(paths: Sequence[Path], memo: Memo | None) -> None:
    """Have the TOML files at ``paths`` parsed from the cache when it holds them all as one
    answer, else parse them and keep them there. Never an error: a file that cannot be
    read or parsed here is read again, and reported, by :func:`read_toml`."""
    if memo is None or memo.directory is None:
        return
    read: list[tuple[tuple[Path, int, int], str]] = []
    for path in paths:
        try:
            stat = path.stat()
            key = (path, stat.st_mtime_ns, stat.st_size)
            if key not in _FILES:
                read.append((key, path.read_bytes().decode("utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    if not read:
        return
    from release.memo import digest, installed

    answer = digest(installed("tomllib"), *(text for _, text in read))
    docs = memo.get("toml-files", answer)
    if not (
        isinstance(docs, list) and len(docs) == len(read) and all(isinstance(d, dict) for d in docs)
    ):
        try:
            docs = [parse_toml(text) for _, text in read]
        except tomllib.TOMLDecodeError:
            return
        # A file holding dates or times is not JSON: then nothing is stored.
        memo.put("toml-files", answer, docs)
    for (key, text), data in zip(read, docs, strict=True):
        _FILES[key] = data
        _keep(text, data)


#: A value that means the same in any TOML string (no escape, quote or control character).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9.+!_-]*")


def plain_value(value: str) -> bool:
    return _PLAIN_VALUE.fullmatch(value) is not None


def edit_needs_no_proof(text: str, old: str, new: str) -> bool:
    """Whether replacing the plain value ``old`` of a line ``key = "old"`` of the valid
    TOML ``text`` (the one such line under its table's header, before the next line that
    starts with ``[``) by ``new`` is right without parsing the result: when both values
    are plain and the text has no multi-line string (no triple quote at all).

    Then every line is blank, a comment, a table header, the start of a ``key = value``,
    or the rest of a multi-line array (values, never ``key =``; an inline table is one
    line), so that line does assign that key of that table.
    """
    return plain_value(old) and plain_value(new) and '"""' not in text and "'''" not in text
