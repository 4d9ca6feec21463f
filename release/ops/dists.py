"""Built distributions (sdists and wheels): the metadata they carry, twine's check of
them, and twine's output kept off the terminal."""

from __future__ import annotations

import contextlib
import io
import logging
import tarfile
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import ReleaseError

if TYPE_CHECKING:
    from packaging.version import Version


class InvalidDistName(ValueError):
    """A file name that is no wheel or sdist name (packaging's reason as the message)."""


def parse_name(name: str) -> tuple[str, Version]:
    """The normalized project name and the version a wheel or sdist file name states."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if name.endswith(".whl"):
            project, version = parse_wheel_filename(name)[:2]
        else:
            project, version = parse_sdist_filename(name)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise InvalidDistName(str(exc)) from None
    return str(project), version


class DistError(ReleaseError):
    """A built file cannot be read as a distribution."""

    exit_code = 1


def read_headers(path: Path) -> Message:
    """The core metadata of a wheel (its METADATA) or an sdist (its PKG-INFO)."""
    raw: bytes | None = None
    try:
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
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise DistError(
            f"{path.name} cannot be read as a distribution: {exc}.", "Rebuild it."
        ) from None
    if raw is None:
        raise DistError(f"{path.name} has no metadata file.", "Rebuild it.")
    return HeaderParser().parsestr(raw.decode("utf-8", errors="replace"))


def read_metadata(path: Path) -> tuple[str, str]:
    """(Name, Version) from a wheel's METADATA or an sdist's PKG-INFO."""
    headers = read_headers(path)
    return headers.get("Name", ""), headers.get("Version", "")


def identity_problems(path: Path, project: str, version: Version) -> list[str]:
    """What in ``path``'s metadata is not ``project`` ``version`` (names compared
    canonicalized, versions by PEP 440)."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion
    from packaging.version import Version as Parsed

    name, found = read_metadata(path)
    problems: list[str] = []
    if canonicalize_name(name) != canonicalize_name(project):
        problems.append(f"{path.name}: metadata Name is {name!r}, the plan says {project!r}")
    try:
        ok = Parsed(found) == version
    except InvalidVersion:
        ok = False
    if not ok:
        problems.append(f"{path.name}: metadata Version is {found!r}, the plan says {version}")
    return problems


#: Core metadata fields an sdist and every wheel built from it must agree on (unless the
#: sdist marks the field ``Dynamic``: then the wheel's build decides it).
SHARED_FIELDS = ("Name", "Version", "Summary", "Requires-Python", "Requires-Dist", "Provides-Extra")


def metadata_differences(sdist: Message, wheel: Message) -> list[str]:
    """The fields of :data:`SHARED_FIELDS` on which a wheel's metadata differs from its
    sdist's (names canonicalized for Name), as "Field: sdist ... wheel ..."."""
    from packaging.utils import canonicalize_name

    dynamic = {d.strip().lower() for d in sdist.get_all("Dynamic") or []}
    out = []
    for key in SHARED_FIELDS:
        if key.lower() in dynamic:
            continue
        ours = sorted(v.strip() for v in sdist.get_all(key) or [])
        theirs = sorted(v.strip() for v in wheel.get_all(key) or [])
        if key == "Name":
            ours = [canonicalize_name(v) for v in ours]
            theirs = [canonicalize_name(v) for v in theirs]
        if ours != theirs:
            out.append(f"{key}: sdist {ours or 'none'}, wheel {theirs or 'none'}")
    return out


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
    from twine.exceptions import TwineException

    with twine_output() as out:
        try:
            failed = check([str(p) for p in paths], strict=True)
        except TwineException as exc:  # a file twine cannot read at all
            return f"{out.getvalue()}{exc}\n"
    return out.getvalue() if failed else None
