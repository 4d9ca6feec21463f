"""Read and rewrite the version held in a file, keeping everything else as it was.

Pure functions over file text; the caller reads and writes the files.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from release.config import Location
from release.errors import ConfigError

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


def read_version(loc: Location, text: str) -> str:
    """The version string written at ``loc`` in ``text``."""
    if loc.kind == "toml":
        try:
            data = tomllib.loads(text)
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
    raise AssertionError(loc.kind)


def write_version(loc: Location, text: str, new: str) -> str:
    """``text`` with the version at ``loc`` replaced by ``new``; nothing else changes."""
    read_version(loc, text)  # the same errors as reading
    if loc.kind == "toml":
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
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return text[:start] + new + text[end:]
