"""Read and rewrite the version held in a file, keeping everything else as it was.

Pure functions over file text, as the file holds it (CRLF and a byte order mark included:
:mod:`release.newlines`); the caller reads and writes the files.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

from release import newlines, uvlock
from release.config import Location
from release.errors import ConfigError
from release.tomlfiles import edit_needs_no_proof, parse_toml, plain_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _python_pattern(variable: str) -> re.Pattern[str]:
    return re.compile(
        rf"^(?P<lead>[ \t]*{re.escape(variable)}[ \t]*(?::[^=\n]*)?=[ \t]*)"
        r"(?P<quote>['\"])(?P<version>[^'\"\n]*)(?P=quote)",
        re.MULTILINE,
    )


def _toml_lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _parsed(text: str) -> dict[str, Any]:
    """``text`` parsed as TOML, once (see :func:`release.tomlfiles.parse_toml`)."""
    return parse_toml(text)


def read_version(loc: Location, text: str) -> str:
    """The version string written at ``loc`` in ``text``."""
    text = newlines.plain(text)
    if loc.kind == "toml":
        try:
            data = _parsed(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{loc.path} is not valid TOML: {exc}.", "Fix its syntax.") from None
        value = _toml_lookup(data, loc.key)
        if not isinstance(value, str):
            raise ConfigError(
                f"{loc.path} has no string `{loc.key}`, so no version can be read there.",
                f"Add `{loc.key}`, or change `version-locations` in [tool.release].",
            )
        return value
    if loc.kind == "python":
        matches = list(_python_pattern(loc.key).finditer(text))
        if len(matches) != 1:
            found = "no" if not matches else f"{len(matches)}"
            raise ConfigError(
                f'{loc.path}: found {found} assignments of the form {loc.key} = "X.Y.Z"; '
                "exactly one is needed to read and update the version.",
                f'Keep a single `{loc.key} = "..."` line, or set `key` for this location '
                "in `version-locations`.",
            )
        return matches[0]["version"]
    if loc.kind == "text":
        value = text.strip()
        if not value or "\n" in value:
            raise ConfigError(
                f"{loc.path} should hold only the version on one line, but holds "
                f"{len(value.splitlines())} lines.",
                "Leave just the version in it, or point `version-locations` elsewhere.",
            )
        return value
    if loc.kind == "pattern":
        return _pattern_match(loc, text)["version"]
    if loc.kind == "incremental":
        return _incremental_read(loc, text)[0]
    if loc.kind == "uv-lock":
        return uvlock.read(text, loc.key, loc.path)
    raise AssertionError(loc.kind)


def _pattern_match(loc: Location, text: str) -> re.Match[str]:
    match = re.compile(loc.key, re.MULTILINE).search(text)
    if match is None or match["version"] is None:
        raise ConfigError(
            f"{loc.path}: the pattern {loc.key!r} finds no version.",
            "Fix the `pattern` of this entry of `version-locations` (it needs a group "
            "(?P<version>...)), or the file.",
        )
    return match


# incremental's _version.py: __version__ = Version("Name", 24, 7, 0, release_candidate=1, ...)
_INCREMENTAL = re.compile(
    r"(?P<lead>^__version__[ \t]*=[ \t]*Version\([ \t]*)(?P<args>[^)]*)\)", re.MULTILINE
)
_INCREMENTAL_ARGS = re.compile(
    r"\A(?P<q>['\"])(?P<name>[^'\"]*)(?P=q)\s*,\s*(?P<major>\d+)\s*,\s*(?P<minor>\d+)\s*,"
    r"\s*(?P<micro>\d+)(?P<keywords>(?:\s*,\s*\w+\s*=\s*\d+)*)\s*,?\s*\Z"
)
_INCREMENTAL_KEYWORDS = {
    "release_candidate": "rc",
    "prerelease": "rc",
    "post": ".post",
    "dev": ".dev",
}


def _incremental_read(loc: Location, text: str) -> tuple[str, re.Match[str], re.Match[str]]:
    call = _INCREMENTAL.search(text)
    args = _INCREMENTAL_ARGS.match(call["args"]) if call else None
    if call is None or args is None:
        raise ConfigError(
            f'{loc.path}: no `__version__ = Version("Name", MAJOR, MINOR, MICRO, ...)` with '
            "plain numbers was found (incremental's form).",
            "Restore the line incremental writes (e.g. with `incremental update NAME`), or "
            "point `version-locations` elsewhere.",
        )
    version = f"{args['major']}.{args['minor']}.{args['micro']}"
    keywords = dict(
        (part.split("=")[0].strip(), int(part.split("=")[1]))
        for part in args["keywords"].split(",")
        if part.strip()
    )
    unknown = set(keywords) - set(_INCREMENTAL_KEYWORDS)
    if unknown:
        raise ConfigError(
            f"{loc.path}: Version(...) has the argument(s) {', '.join(sorted(unknown))}, "
            "which incremental does not define.",
            "Use only release_candidate, post and dev.",
        )
    for name in ("release_candidate", "prerelease", "post", "dev"):
        if name in keywords:
            version += f"{_INCREMENTAL_KEYWORDS[name]}{keywords[name]}"
    return version, call, args


def _incremental_write(loc: Location, text: str, new: str) -> str:
    from packaging.version import Version

    _, call, args = _incremental_read(loc, text)
    v = Version(new)
    if v.epoch or len(v.release) > 3 or (v.pre is not None and v.pre[0] != "rc") or v.local:
        raise ConfigError(
            f"{loc.path}: incremental's Version(...) cannot hold {new} (it has three numbers, "
            "and release candidates as its only pre-releases).",
            "Choose a version such as 24.8.0, 24.8.0rc1, 24.8.0.post1 or 24.8.0.dev0.",
        )
    major, minor, micro = (*v.release, 0, 0)[:3]
    rc_name = (
        "prerelease" if re.search(r"\bprerelease\s*=", args["keywords"]) else ("release_candidate")
    )
    parts = [f"{args['q']}{args['name']}{args['q']}", str(major), str(minor), str(micro)]
    if v.pre is not None:
        parts.append(f"{rc_name}={v.pre[1]}")
    if v.post is not None:
        parts.append(f"post={v.post}")
    if v.dev is not None:
        parts.append(f"dev={v.dev}")
    start, end = call.span("args")
    return text[:start] + ", ".join(parts) + text[end:]


_NEXT_TABLE = re.compile(r"^\s*\[", re.MULTILINE)


@functools.lru_cache(maxsize=32)
def _toml_patterns(key: str) -> tuple[re.Pattern[str] | None, re.Pattern[str]]:
    """The header of the table holding the dotted ``key`` (None at the top level) and its
    string assignment, compiled once per key."""
    *tables, leaf = key.split(".")
    header = None
    if tables:
        header = re.compile(
            r"^\[\s*" + r"\s*\.\s*".join(map(re.escape, tables)) + r"\s*\]\s*(#.*)?$",
            re.MULTILINE,
        )
    assignment = re.compile(
        r"^(?P<lead>[ \t]*" + re.escape(leaf) + r"[ \t]*=[ \t]*)(?P<q>\"|')"
        r"(?P<value>[^\"'\n]*)(?P=q)",
        re.MULTILINE,
    )
    return header, assignment


def _toml_quick_edit(loc: Location, text: str, old: str, new: str) -> str | None:
    """Replace the one ``key = "old"`` string of the key's table, proven right.

    The common case needs no TOML writer (tomlkit costs ~35 ms of start-up on every
    preview). The result is accepted when :func:`release.tomlfiles.edit_needs_no_proof`
    says so, else only if parsing it gives exactly the old document with the new version;
    otherwise tomlkit does the edit.
    """
    header, assignment = _toml_patterns(loc.key)
    match = header.search(text) if header else None
    if header and match is None:
        return None
    start = match.end() if match else 0
    following = _NEXT_TABLE.search(text, start)
    end = following.start() if following else len(text)
    found = [m for m in assignment.finditer(text, start, end) if m["value"] == old]
    if len(found) != 1:
        return None
    m = found[0]
    before, after = text[: m.start("value")], text[m.end("value") :]
    edited = before + new + after
    if edit_needs_no_proof(text, old, new):
        return edited
    plain = plain_value(old) and plain_value(new)
    # The proof holds for any other plain value in the same place: a release's edit and
    # then its development version's are proven by one parse.
    shape = (loc.key, before, after)
    if plain and shape in _PROVEN:
        return edited
    try:
        if tomllib.loads(edited) != _with_value(_parsed(text), loc.key, new):
            return None
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    if plain:
        if len(_PROVEN) >= 256:
            _PROVEN.clear()
        _PROVEN.add(shape)
    return edited


#: (key, text before the value, text after it) of quick edits proven by a parse.
_PROVEN: set[tuple[str, str, str]] = set()


def _with_value(data: Any, dotted: str, value: str) -> Any:
    """``data`` with ``value`` at the dotted key: the tables on the way are copied, the
    rest is shared (``data`` is a cached parse, never changed)."""
    head, _, rest = dotted.partition(".")
    if not isinstance(data, dict):
        raise TypeError(dotted)
    return {**data, head: _with_value(data[head], rest, value) if rest else value}


def write_version(loc: Location, text: str, new: str) -> str:
    """``text`` with the version at ``loc`` replaced by ``new``; nothing else changes."""
    return newlines.edit_in_style(text, lambda plain: _written(loc, plain, new))


def _written(loc: Location, text: str, new: str) -> str:
    if loc.kind == "uv-lock":
        return uvlock.write(text, loc.key, new, loc.path)
    old = read_version(loc, text)  # the same errors as reading
    if loc.kind == "toml":
        quick = _toml_quick_edit(loc, text, old, new)
        if quick is not None:
            return quick
        import tomlkit

        doc = tomlkit.parse(text)
        parts = loc.key.split(".")
        table: Any = doc
        for part in parts[:-1]:
            table = table[part]
        table[parts[-1]] = new
        return tomlkit.dumps(doc)
    if loc.kind == "python":
        return _python_pattern(loc.key).sub(
            lambda m: f"{m['lead']}{m['quote']}{new}{m['quote']}", text, count=1
        )
    if loc.kind == "pattern":
        match = _pattern_match(loc, text)
        return text[: match.start("version")] + new + text[match.end("version") :]
    if loc.kind == "incremental":
        return _incremental_write(loc, text, new)
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return text[:start] + new + text[end:]
