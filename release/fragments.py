"""Changelog fragments, found with towncrier's own code and checked strictly.

towncrier skips fragments of unknown types, reads with ``errors="replace"`` and
raises a bare ``ValueError`` on duplicates; here each of those is a
:class:`FragmentError` naming the file.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import ConfigError, FragmentError

if TYPE_CHECKING:
    from towncrier._settings.load import Config as TowncrierConfig

#: Content as towncrier's ``find_fragments`` returns it: section -> (issue, type, counter) -> text.
FragmentContents = Mapping[str, Mapping[tuple[str, str, int], str]]

MAX_FRAGMENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fragment:
    path: str  # relative to the project directory, with forward slashes
    section: str
    issue: str
    type: str
    counter: int


@dataclass(frozen=True)
class Towncrier:
    """towncrier's configuration plus what rendering needs from the disk."""

    config: TowncrierConfig
    config_file: str
    template_text: str
    template_extension: str
    project_name: str
    news_file: str
    news_text: str | None


@dataclass(frozen=True)
class FragmentSet:
    fragments: tuple[Fragment, ...]
    contents: FragmentContents
    problems: tuple[FragmentError, ...]


def towncrier_configured(project_dir: Path, pyproject: Mapping[str, Any]) -> bool:
    return (project_dir / "towncrier.toml").is_file() or "towncrier" in pyproject.get("tool", {})


def load_towncrier(project_dir: Path, pyproject: Mapping[str, Any]) -> Towncrier:
    """Load ``[tool.towncrier]`` (or ``towncrier.toml``) the way towncrier does."""
    from click import ClickException
    from towncrier._settings.load import load_config

    config_file = (
        "towncrier.toml" if (project_dir / "towncrier.toml").is_file() else ("pyproject.toml")
    )
    try:
        config = load_config(str(project_dir))
    except (ClickException, KeyError, TypeError, ValueError) as exc:
        message = exc.format_message() if isinstance(exc, ClickException) else str(exc)
        raise ConfigError(
            f"{config_file} [tool.towncrier]: {message}",
            "Fix the towncrier configuration (see towncrier's configuration reference).",
        ) from None
    assert config is not None  # pyproject.toml exists
    if isinstance(config.template, tuple):
        from importlib import resources

        package, resource = config.template
        template_text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
        extension = os.path.splitext(resource)[1]
    else:
        template_text = Path(config.template).read_text(encoding="utf-8")
        extension = os.path.splitext(config.template)[1]

    name = config.name
    if not name and config.package:
        from towncrier._project import get_project_name

        name = get_project_name(str(project_dir / config.package_dir), config.package)
    news_file = config.filename
    news_path = project_dir / news_file
    news_text = news_path.read_text(encoding="utf-8") if news_path.is_file() else None
    return Towncrier(config, config_file, template_text, extension, name, news_file, news_text)


def _ignored(config: TowncrierConfig) -> set[str]:
    # The same names towncrier's find_fragments passes over.
    names = {".gitignore", ".gitkeep", ".keep", "readme", "readme.md", "readme.rst"}
    if isinstance(config.template, str):
        names.add(os.path.basename(config.template))
    names.update(n.lower() for n in (config.ignore or []))
    return names


def section_dirs(project_dir: Path, config: TowncrierConfig) -> dict[str, Path]:
    from towncrier._builder import FragmentsPath

    path_of = FragmentsPath(str(project_dir), config)
    return {name: Path(path_of(sub)) for name, sub in config.sections.items()}


def scan(project_dir: Path, config: TowncrierConfig) -> FragmentSet:
    """Find every fragment, collecting every problem instead of stopping at the first."""
    from click import ClickException
    from towncrier._builder import find_fragments

    problems: list[FragmentError] = []
    fragments: list[Fragment] = []
    for section, directory in section_dirs(project_dir, config).items():
        found, trouble = _scan_directory(project_dir, section, directory, config)
        fragments += found
        problems += trouble
    if problems:
        return FragmentSet(tuple(fragments), {}, tuple(problems))
    try:
        contents, _files = find_fragments(str(project_dir), config, strict=False)
    except (ClickException, ValueError) as exc:
        message = exc.format_message() if isinstance(exc, ClickException) else str(exc)
        return FragmentSet(
            tuple(fragments),
            {},
            (
                FragmentError(
                    f"towncrier could not read the fragments: {_printable(message)}",
                    "Fix the fragment it names.",
                ),
            ),
        )
    return FragmentSet(tuple(fragments), contents, ())


def _scan_directory(
    project_dir: Path, section: str, directory: Path, config: TowncrierConfig
) -> tuple[list[Fragment], list[FragmentError]]:
    from towncrier._builder import parse_newfragment_basename

    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return [], []
    real_dir = directory.resolve()
    if not real_dir.is_relative_to(project_dir.resolve()):
        return [], [
            FragmentError(
                f"The fragment directory {directory} is outside the project {project_dir}.",
                "Point towncrier's `directory` (or section `path`) inside the project.",
            )
        ]
    ignored = _ignored(config)
    problems: list[FragmentError] = []
    fragments: list[Fragment] = []
    seen: dict[tuple[str, str, int], str] = {}
    for name in names:
        if any(fnmatch(name.lower(), pattern) for pattern in ignored):
            continue
        path = directory / name
        rel = os.path.relpath(path, project_dir).replace(os.sep, "/")
        shown = _printable(rel)
        issue, ftype, counter = parse_newfragment_basename(name, config.types)
        if ftype is None:
            known = ", ".join(sorted(config.types))
            problems.append(
                FragmentError(
                    f"Fragment {shown} has no known type, so towncrier would silently skip it.",
                    f"Name it ISSUE.TYPE with TYPE one of: {known}; or list it in towncrier's "
                    "`ignore` if it is not a fragment.",
                )
            )
            continue
        problem = _file_problem(path, real_dir, shown)
        if problem is not None:
            problems.append(problem)
            continue
        if config.orphan_prefix and issue.startswith(config.orphan_prefix):
            key = ("", ftype, -1 - len(seen))  # orphans never collide
        else:
            key = (issue, ftype, counter)
        if key in seen:
            problems.append(
                FragmentError(
                    f"Fragments {seen[key]} and {shown} are both for issue {issue!r} of type "
                    f"{ftype!r}; towncrier would stop with an error.",
                    "Merge them into one file, or number them (e.g. 12.feature.1, 12.feature.2).",
                )
            )
            continue
        seen[key] = shown
        problem = _content_problem(path, shown)
        if problem is not None:
            problems.append(problem)
            continue
        fragments.append(Fragment(rel, section, issue, ftype, counter))
    return fragments, problems


def _file_problem(path: Path, real_dir: Path, shown: str) -> FragmentError | None:
    if path.is_symlink() and not path.resolve().is_relative_to(real_dir):
        return FragmentError(
            f"Fragment {shown} is a symbolic link that leads outside {real_dir.name}/ "
            f"(to {_printable(str(path.resolve()))}).",
            "Replace the link with a regular file inside the fragment directory.",
        )
    if not path.is_file():
        return FragmentError(
            f"Fragment {shown} is not a regular file.",
            "Remove it or replace it with a text file.",
        )
    return None


def _content_problem(path: Path, shown: str) -> FragmentError | None:
    size = path.stat().st_size
    if size > MAX_FRAGMENT_BYTES:
        return FragmentError(
            f"Fragment {shown} is {size} bytes; more than {MAX_FRAGMENT_BYTES} is not a "
            "changelog entry.",
            "Shorten it to a few sentences and link to documentation for the rest.",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FragmentError(
            f"Fragment {shown} is not valid UTF-8 (byte {exc.start}: "
            f"{raw[exc.start : exc.start + 1]!r}).",
            "Save it as UTF-8.",
        )
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t\r") or ord(c) == 127]
    if bad:
        return FragmentError(
            f"Fragment {shown} contains control characters ({_printable(''.join(bad[:3]))}), "
            "such as terminal escape sequences.",
            "Remove them; fragments are plain text.",
        )
    return None


def _printable(text: str) -> str:
    """Make text safe to show on a terminal: control characters become escapes."""
    return "".join(c if (c.isprintable() or c == " ") else repr(c)[1:-1] for c in text)


def release_date(environ: Mapping[str, str]) -> str:
    """Today's date as towncrier computes it (honouring ``SOURCE_DATE_EPOCH``)."""
    import time

    stamp = int(environ.get("SOURCE_DATE_EPOCH", time.time()))
    return datetime.date.fromtimestamp(stamp).strftime("%Y-%m-%d")
