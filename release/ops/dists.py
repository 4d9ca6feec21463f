"""Built distributions (sdists and wheels): the metadata they carry, twine's check of
them, and twine's output kept off the terminal."""

from __future__ import annotations

import contextlib
import io
import logging
import tarfile
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

from release.errors import ReleaseError


class DistError(ReleaseError):
    """A built file cannot be read as a distribution."""

    exit_code = 1


def read_metadata(path: Path) -> tuple[str, str]:
    """(Name, Version) from a wheel's METADATA or an sdist's PKG-INFO."""
    raw: bytes | None = None
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            names = [
                n
                for n in wheel.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            raw = wheel.read(names[0]) if names else None
    elif path.name.endswith(".tar.gz"):
        with tarfile.open(path) as sdist:
            for member in sdist.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    handle = sdist.extractfile(member)
                    raw = handle.read() if handle else None
                    break
    if raw is None:
        raise DistError(f"{path.name} has no metadata file.", "Rebuild it.")
    headers = HeaderParser().parsestr(raw.decode("utf-8"))
    return headers.get("Name", ""), headers.get("Version", "")


@contextlib.contextmanager
def twine_output() -> Iterator[io.StringIO]:
    """Collect what twine prints and logs, instead of letting it reach the terminal."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("twine")
    logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield out
    finally:
        logger.removeHandler(handler)


def twine_check(paths: list[Path]) -> str | None:
    """Run twine's check; return its report when it fails."""
    from twine.commands.check import check

    with twine_output() as out:
        failed = check([str(p) for p in paths], strict=True)
    return out.getvalue() if failed else None
