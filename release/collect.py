"""Gather a release's files from many artifact directories and check them as one release.

The build jobs of a CI matrix each leave a directory: ``release ci --build-only`` writes its
files with a ``release-manifest-*.json`` (their sha256), cibuildwheel and maturin write bare
wheels.  :func:`collect` (used by ``release ci --publish-from`` and ``release collect``)
takes every sdist and wheel under the directories, checks the files a manifest lists
against it, then checks them all against the tag before anything is uploaded: the file
names and the metadata name and version, the sdist's metadata against every wheel's,
``twine check``, and the wheel set against the expected one (:mod:`release.wheels`).  A
missing wheel stops the release; a wheel nobody expected is a warning.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from release.errors import EXIT_USAGE, ReleaseError, UsageError
from release.names import normalised
from release.wheels import Completeness, Expected, compare

MANIFEST_PREFIX = "release-manifest"
SDIST_SUFFIX = ".tar.gz"


class CollectError(ReleaseError):
    """The gathered files are not one complete, intact release of the tag."""

    exit_code = EXIT_USAGE


@dataclass
class Collected:
    files: dict[str, str]  # file name -> sha256, as copied into the destination
    expected: Expected
    completeness: Completeness | None  # None: no expected set to compare with
    warnings: list[str] = field(default_factory=list)


def _is_dist(path: Path) -> bool:
    return path.is_file() and (path.name.endswith(".whl") or path.name.endswith(SDIST_SUFFIX))


def _manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not a table")
        str(data["project"]), str(data["version"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CollectError(
            f"{path} is not a readable release manifest ({exc}).",
            "Use the manifests release ci --build-only wrote, unchanged.",
        ) from None
    return dict(data)


def _listed(
    source: Path, project: str, version: Version, found: dict[str, tuple[Path, str]]
) -> int:
    """Add the files every manifest under ``source`` lists, each checked against its sha256;
    how many manifests there were."""
    from release.ops.hashing import sha256

    manifests = sorted(source.rglob(f"{MANIFEST_PREFIX}*.json"))
    for manifest in manifests:
        data = _manifest(manifest)
        try:
            same_version = Version(data["version"]) == version
        except InvalidVersion:
            same_version = False
        if normalised(data["project"]) != normalised(project) or not same_version:
            raise CollectError(
                f"{manifest} is for {data['project']} {data['version']}, not {project} {version}.",
                "Gather only this release's artifacts.",
            )
        for name, digest in data["files"].items():
            paths = [p for p in manifest.parent.rglob(name) if p.is_file()] or [
                p for p in source.rglob(name) if p.is_file()
            ]
            if not paths:
                raise CollectError(
                    f"{name}, listed in {manifest}, is missing.",
                    "Download every build job's artifacts.",
                )
            actual = sha256(paths[0])
            if actual != digest:
                raise CollectError(
                    f"{paths[0]} has sha256 {actual}, but {manifest} says {digest}.",
                    "The artifact was altered or mixed up; rebuild it.",
                )
            _add(found, name, paths[0], digest)
    return len(manifests)


def _add(found: dict[str, tuple[Path, str]], name: str, path: Path, digest: str) -> None:
    if name in found and found[name][1] != digest:
        raise CollectError(
            f"Two artifacts are named {name} with different contents: {found[name][0]} "
            f"(sha256 {found[name][1]}) and {path} (sha256 {digest}).",
            "Each file must be built once: make the matrix jobs build different wheels, and "
            "only one job build the sdist.",
        )
    found.setdefault(name, (path, digest))


def gather(sources: Sequence[Path], project: str, version: Version) -> dict[str, tuple[Path, str]]:
    """Every sdist and wheel under ``sources`` (file name -> (path, sha256)), the files of
    each manifest checked against it."""
    from release.ops.hashing import sha256

    found: dict[str, tuple[Path, str]] = {}
    for source in sources:
        if not source.is_dir():
            raise UsageError(
                f"{source} is not a directory.",
                "Name the directories the build jobs' artifacts were downloaded to.",
            )
        _listed(source, project, version, found)
        for path in sorted(source.rglob("*")):
            if _is_dist(path) and found.get(path.name, (None, ""))[0] != path:
                _add(found, path.name, path, sha256(path))
    if not found:
        shown = ", ".join(str(s) for s in sources)
        raise UsageError(
            f"No sdist or wheel and no {MANIFEST_PREFIX}*.json in {shown}.",
            "Point it at the artifacts of the build jobs (release ci --build-only, "
            "cibuildwheel, maturin).",
        )
    return found


def _name_problems(name: str, project: str, version: Version) -> list[str]:
    from release.ops.dists import InvalidDistName, parse_name

    try:
        dist, found = parse_name(name)
    except InvalidDistName as exc:
        return [f"{name}: not a valid distribution file name ({exc})"]
    problems = []
    if dist != normalised(project):
        problems.append(f"{name}: the file name is for {dist}, not {project}")
    if found != version:
        problems.append(f"{name}: the file name says version {found}, the tag {version}")
    return problems


def check(files: dict[str, Path], project: str, version: Version) -> list[str]:
    """Every problem with ``files`` (name -> path) as a release of ``project`` ``version``:
    file names, metadata name and version, the sdist's metadata against each wheel's, and
    twine's check."""
    from release.ops.dists import (
        DistError,
        identity_problems,
        metadata_differences,
        read_headers,
        twine_check,
    )

    problems: list[str] = []
    sdists = sorted(n for n in files if n.endswith(SDIST_SUFFIX))
    if len(sdists) > 1:
        problems.append(f"more than one sdist: {', '.join(sdists)}")
    for name in sorted(files):
        problems += _name_problems(name, project, version)
        try:
            problems += identity_problems(files[name], project, version)
        except DistError as exc:
            problems.append(exc.message)
    if len(sdists) == 1 and not problems:
        sdist = read_headers(files[sdists[0]])
        for name in sorted(n for n in files if n.endswith(".whl")):
            for difference in metadata_differences(sdist, read_headers(files[name])):
                problems.append(f"{name}: its metadata differs from the sdist's: {difference}")
    if not problems:
        report = twine_check([files[n] for n in sorted(files)])
        if report:
            problems.append(f"twine check failed:\n{report.strip()}")
    return problems


def collect(
    sources: Sequence[Path], project: str, version: Version, dest: Path, expected: Expected
) -> Collected:
    """Gather, check and compare (see the module); then copy every file into ``dest``.
    :class:`CollectError` lists every problem, and nothing is copied then."""
    found = gather(sources, project, version)
    problems = check({n: p for n, (p, _d) in found.items()}, project, version)
    warnings: list[str] = []
    completeness = None
    wheels = [n for n in found if n.endswith(".whl")]
    if expected.patterns:
        completeness = compare(wheels, expected.patterns)
        if completeness.missing:
            problems.append(
                f"missing wheels (expected by {expected.source}): no wheel matches "
                + ", ".join(completeness.missing)
            )
        if completeness.extra:
            warnings.append(
                f"unexpected wheels (not in {expected.source}): {', '.join(completeness.extra)}"
            )
    elif any(n.endswith(".whl") and not n.endswith("-none-any.whl") for n in wheels):
        warnings.append(
            f"platform wheels, but no expected set ({expected.source}): a missing wheel "
            "cannot be noticed; declare `wheels` in [tool.release]"
        )
    if not any(n.endswith(SDIST_SUFFIX) for n in found):
        warnings.append("no sdist among the files: users of other platforms cannot build it")
    if problems:
        raise CollectError(
            f"The gathered files are not a complete release of {project} {version}; nothing "
            "was uploaded:\n  - " + "\n  - ".join(problems),
            "Re-run the failed build jobs (or fix the expected set in `wheels`), then run this "
            "again.",
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name, (path, _digest) in sorted(found.items()):
        if path.resolve() != (dest / name).resolve():
            shutil.copy2(path, dest / name)
    return Collected(
        {n: d for n, (_p, d) in sorted(found.items())}, expected, completeness, warnings
    )
