"""towncrier's answers kept on disk, keyed by everything they depend on.

Loading towncrier's settings imports click, parsing a fragment name imports
jinja2, and rendering compiles towncrier's template on every call: together about
half of what ``release preview`` costs.  Each of those answers is a function of
its inputs (the configuration files, the fragment names, the fragment texts, the
version and date, and the installed towncrier and jinja2), so it is stored under
the SHA-256 of those inputs in the user's cache directory, never in the project,
and read back while nothing changed.  A missing, unreadable or corrupt entry is
simply computed again; the cache can be turned off with ``RELEASE_PIPELINE_NO_CACHE=1``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NO_CACHE_ENV = "RELEASE_PIPELINE_NO_CACHE"
CACHE_DIR_ENV = "RELEASE_PIPELINE_CACHE_DIR"
#: Bump when the shape of a stored answer changes.
FORMAT = 1
#: Entries of one kind kept; the least recently written go first. A repository of several
#: packages keeps entries of each kind for every package, so a preview at its root must not
#: push out its own entries (with 64, a workspace of more packages missed on every run).
KEEP = 1024


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where answers are kept, or None when caching is off."""
    if environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return None
    if environ.get(CACHE_DIR_ENV):
        return Path(environ[CACHE_DIR_ENV])
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA")
        return Path(base, "release-pipeline", "Cache") if base else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "release-pipeline"
    xdg = environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else Path.home() / ".cache", "release-pipeline")


@functools.cache
def installed(*modules: str) -> str:
    """A stamp of the installed modules: a reinstall or upgrade changes it (looked up once
    per process: the packages of a repository of several ask for the same stamps)."""
    from importlib.util import find_spec

    parts = [f"{sys.version_info[0]}.{sys.version_info[1]}", str(FORMAT)]
    for name in modules:
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        try:
            stat = os.stat(origin) if origin else None
        except OSError:  # e.g. a module inside a zip file: then its path alone
            stat = None
        shown = f"{stat.st_mtime_ns}:{stat.st_size}" if stat else "?"
        parts.append(f"{name}:{origin}:{shown}")
    return "\n".join(parts)


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class Memo:
    """A directory of JSON answers; every failure to read or write is a miss, never an error."""

    __slots__ = ("directory",)

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"Memo({self.directory!r})"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Memo:
        return cls(cache_dir(environ))

    def _file(self, kind: str, key: str) -> str | None:
        # A plain string path: a workspace's preview reads hundreds of entries.
        return (
            None if self.directory is None else f"{self.directory}{os.sep}{kind}{os.sep}{key}.json"
        )

    def get(self, kind: str, key: str) -> Any:
        path = self._file(kind, key)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                return json.loads(handle.read())
        except (OSError, ValueError):
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._file(kind, key)
        if path is None:
            return
        kind_dir = os.path.dirname(path)
        tmp = os.path.join(kind_dir, f".{key}.json.{os.getpid()}.tmp")
        try:
            text = json.dumps(value, separators=(",", ":"))
            os.makedirs(kind_dir, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
            self._prune(kind_dir)
        except (OSError, TypeError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _prune(self, kind_dir: str) -> None:
        entries = [e for e in os.scandir(kind_dir) if e.name.endswith(".json")]
        if len(entries) <= KEEP:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - KEEP]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
