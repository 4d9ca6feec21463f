"""Changelog fragments, found with towncrier's own code and checked strictly.

towncrier skips fragments of unknown types, reads with ``errors="replace"`` and
raises a bare ``ValueError`` on duplicates; here each of those is a
:class:`FragmentError` naming the file.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import ConfigError, FragmentError

if TYPE_CHECKING:
    from towncrier._settings.load import Config as TowncrierConfig

#: Content as towncrier's ``find_fragments`` returns it: section -> (issue, type, counter) -> text.
FragmentContents = Mapping[str, Mapping[tuple[str, str, int], str]]

MAX_FRAGMENT_BYTES = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all C0 controls but tab and newline


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


def ignored_names(config: TowncrierConfig) -> set[str]:
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
    """Find every fragment, collecting every problem instead of stopping at the first.

    Names are parsed with towncrier's own parser and the contents are shaped as
    towncrier's ``find_fragments`` returns them, in one pass that reads each file
    once, strictly (towncrier would read it again, with ``errors="replace"``).
    """
    problems: list[FragmentError] = []
    fragments: list[Fragment] = []
    contents: dict[str, dict[tuple[str, str, int], str]] = {}
    for section, directory in section_dirs(project_dir, config).items():
        found, texts, trouble = _scan_directory(project_dir, section, directory, config)
        fragments += found
        contents[section] = texts
        problems += trouble
    fragments.sort(key=lambda f: f.path)  # listings are sorted; contents keep towncrier's order
    if problems:
        return FragmentSet(tuple(fragments), {}, tuple(problems))
    return FragmentSet(tuple(fragments), contents, ())


def _scan_directory(
    project_dir: Path, section: str, directory: Path, config: TowncrierConfig
) -> tuple[list[Fragment], dict[tuple[str, str, int], str], list[FragmentError]]:
    from towncrier._builder import parse_newfragment_basename

    try:
        # Directory order, as towncrier's find_fragments reads it: the order of entries of
        # one issue follows it, and the section must be byte-identical to towncrier's.
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return [], {}, []
    real_dir = directory.resolve()
    if not real_dir.is_relative_to(project_dir.resolve()):
        return (
            [],
            {},
            [
                FragmentError(
                    f"The fragment directory {directory} is outside the project {project_dir}.",
                    "Point towncrier's `directory` (or section `path`) inside the project.",
                )
            ],
        )
    ignored = re.compile("|".join(fnmatch.translate(p) for p in ignored_names(config)))
    problems: list[FragmentError] = []
    fragments: list[Fragment] = []
    texts: dict[tuple[str, str, int], str] = {}
    seen: dict[tuple[str, str, int], str] = {}
    orphans: dict[str, int] = {}
    rel_dir = os.path.relpath(directory, project_dir).replace(os.sep, "/")
    for entry in entries:
        name = entry.name
        if ignored.match(name.lower()):
            continue
        rel = f"{rel_dir}/{name}" if rel_dir != "." else name
        shown = _printable(rel)
        if shown != rel:
            problems.append(
                FragmentError(
                    f"Fragment {shown} has control characters in its name (they would reach "
                    "the changelog and terminals).",
                    "Rename it to ISSUE.TYPE with plain characters.",
                )
            )
            continue
        issue, ftype, counter = parse_newfragment_basename(name, config.types)
        if ftype is None and entry.is_dir():
            continue  # e.g. another section's directory; towncrier passes over it too
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
        problem = _file_problem(entry, real_dir, shown)
        if problem is not None:
            problems.append(problem)
            continue
        if config.orphan_prefix and issue.startswith(config.orphan_prefix):
            # towncrier numbers orphans per type, so they never collide.
            key = ("", ftype, orphans.get(ftype, 0))
            orphans[ftype] = key[2] + 1
        else:
            key = (issue, ftype, counter)
            if config.issue_pattern and not re.fullmatch(config.issue_pattern, issue):
                problems.append(
                    FragmentError(
                        f"Fragment {shown}: the issue {_printable(issue)!r} does not match "
                        f"towncrier's issue_pattern {config.issue_pattern!r}.",
                        "Rename the fragment after a valid issue.",
                    )
                )
                continue
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
        text_or_problem = _read_fragment(entry, shown)
        if isinstance(text_or_problem, FragmentError):
            problems.append(text_or_problem)
            continue
        texts[key] = text_or_problem
        fragments.append(Fragment(rel, section, issue, ftype, counter))
    return fragments, texts, problems


def _file_problem(entry: os.DirEntry[str], real_dir: Path, shown: str) -> FragmentError | None:
    if entry.is_symlink():
        target = Path(entry.path).resolve()
        if not target.is_relative_to(real_dir):
            return FragmentError(
                f"Fragment {shown} is a symbolic link that leads outside {real_dir.name}/ "
                f"(to {_printable(str(target))}).",
                "Replace the link with a regular file inside the fragment directory.",
            )
    if not entry.is_file():
        return FragmentError(
            f"Fragment {shown} is not a regular file.",
            "Remove it or replace it with a text file.",
        )
    return None


def _read_fragment(entry: os.DirEntry[str], shown: str) -> str | FragmentError:
    """The fragment's text with universal newlines (as towncrier reads it), or the problem."""
    with open(entry.path, "rb") as handle:
        raw = handle.read(MAX_FRAGMENT_BYTES + 1)
    if len(raw) > MAX_FRAGMENT_BYTES:
        size = entry.stat().st_size
        return FragmentError(
            f"Fragment {shown} is {size} bytes; more than {MAX_FRAGMENT_BYTES} is not a "
            "changelog entry.",
            "Shorten it to a few sentences and link to documentation for the rest.",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FragmentError(
            f"Fragment {shown} is not valid UTF-8 (byte {exc.start}: "
            f"{raw[exc.start : exc.start + 1]!r}).",
            "Save it as UTF-8.",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL.findall(text)
    if bad:
        return FragmentError(
            f"Fragment {shown} contains control characters ({_printable(''.join(bad[:3]))}), "
            "such as terminal escape sequences.",
            "Remove them; fragments are plain text.",
        )
    return text


def _printable(text: str) -> str:
    """Make text safe to show on a terminal: control characters become escapes."""
    if text.isprintable():
        return text
    return "".join(c if (c.isprintable() or c == " ") else repr(c)[1:-1] for c in text)


def release_date(environ: Mapping[str, str]) -> str:
    """Today's date as towncrier computes it (honouring ``SOURCE_DATE_EPOCH``)."""
    import time

    stamp = int(environ.get("SOURCE_DATE_EPOCH", time.time()))
    return datetime.date.fromtimestamp(stamp).strftime("%Y-%m-%d")
