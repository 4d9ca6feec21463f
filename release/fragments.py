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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from release.errors import ConfigError, FragmentError
from release.memo import Memo, digest, installed

if TYPE_CHECKING:
    from towncrier._settings.load import Config as TowncrierConfig

#: Content as towncrier's ``find_fragments`` returns it: section -> (issue, type, counter) -> text.
FragmentContents = Mapping[str, Mapping[tuple[str, str, int], str]]

MAX_FRAGMENT_BYTES = 64 * 1024
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # no newline translation on Windows
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all C0 controls but tab and newline


class Fragment(NamedTuple):
    path: str  # relative to the project directory, with forward slashes
    section: str
    issue: str
    type: str
    counter: int


class TowncrierSettings(NamedTuple):
    """towncrier's own ``Config``, field for field, as plain data that can be stored."""

    sections: dict[str, str]
    types: dict[str, dict[str, Any]]
    template: str | tuple[str, str]
    start_string: str
    package: str
    package_dir: str
    single_file: bool
    filename: str
    directory: str | None
    name: str
    title_format: str | Literal[False]
    issue_format: str | None
    underlines: tuple[str, ...]
    wrap: bool | int
    all_bullets: bool
    orphan_prefix: str
    create_eof_newline: bool
    create_add_extension: bool
    ignore: tuple[str, ...] | None
    issue_pattern: str

    @classmethod
    def from_towncrier(cls, config: TowncrierConfig) -> TowncrierSettings:
        values = {name: getattr(config, name) for name in cls._fields}
        values["sections"] = dict(config.sections)
        values["types"] = {name: dict(spec) for name, spec in config.types.items()}
        values["underlines"] = tuple(config.underlines)
        values["ignore"] = None if config.ignore is None else tuple(config.ignore)
        return cls(**values)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TowncrierSettings:
        values = dict(data)
        if isinstance(values["template"], list):
            values["template"] = tuple(values["template"])
        values["underlines"] = tuple(values["underlines"])
        if values["ignore"] is not None:
            values["ignore"] = tuple(values["ignore"])
        return cls(**values)


class Towncrier(NamedTuple):
    """towncrier's configuration plus what rendering needs from the disk."""

    config: TowncrierSettings
    config_file: str
    template_text: str
    template_extension: str
    project_name: str
    news_file: str
    news_text: str | None
    section_dirs: Mapping[str, Path]  # section name -> its fragment directory
    memo: Memo = Memo(None)
    key: str = ""  # the digest of the configuration, for answers that depend on it


class FragmentSet(NamedTuple):
    fragments: tuple[Fragment, ...]
    contents: FragmentContents
    problems: tuple[FragmentError, ...]


def towncrier_configured(project_dir: Path, pyproject: Mapping[str, Any]) -> bool:
    return (project_dir / "towncrier.toml").is_file() or "towncrier" in pyproject.get("tool", {})


def load_towncrier(
    project_dir: Path, pyproject: Mapping[str, Any], memo: Memo | None = None
) -> Towncrier:
    """Load ``[tool.towncrier]`` (or ``towncrier.toml``) the way towncrier does.

    towncrier's answer (its settings, the fragment directories, a packaged template)
    is kept in ``memo`` under the digest of the configuration file and the installed
    towncrier, so that an unchanged project does not import towncrier (and click) at all.
    """
    memo = memo or Memo(None)
    config_file = (
        "towncrier.toml" if (project_dir / "towncrier.toml").is_file() else "pyproject.toml"
    )
    try:
        config_bytes = (project_dir / config_file).read_bytes()
    except OSError:
        config_bytes = b""
    key = digest(installed("towncrier"), str(project_dir), config_file, config_bytes)
    remembered = _remembered_settings(memo.get("towncrier-settings", key))
    if remembered is not None:
        settings, dirs, packaged_template = remembered
    else:
        settings, dirs, packaged_template = _load_with_towncrier(project_dir, config_file)
        memo.put(
            "towncrier-settings",
            key,
            {
                "settings": settings._asdict(),
                "section_dirs": {name: str(path) for name, path in dirs.items()},
                "packaged_template": packaged_template,
            },
        )
    if isinstance(settings.template, tuple):
        assert packaged_template is not None
        template_text = packaged_template
        extension = os.path.splitext(settings.template[1])[1]
    else:
        template_text = _read_template(settings.template, config_file)
        extension = os.path.splitext(settings.template)[1]

    name = settings.name
    if not name and settings.package:
        from towncrier._project import get_project_name

        name = get_project_name(str(project_dir / settings.package_dir), settings.package)
    news_file = settings.filename
    news_path = project_dir / news_file
    news_text = news_path.read_text(encoding="utf-8") if news_path.is_file() else None
    return Towncrier(
        settings, config_file, template_text, extension, name, news_file, news_text, dirs, memo, key
    )


def _remembered_settings(
    stored: Any,
) -> tuple[TowncrierSettings, dict[str, Path], str | None] | None:
    """A stored answer of :func:`_load_with_towncrier`, or None when it is not one."""
    try:
        settings = TowncrierSettings.from_json(stored["settings"])
        dirs = {name: Path(path) for name, path in stored["section_dirs"].items()}
        packaged_template = stored["packaged_template"]
    except (AttributeError, TypeError, KeyError, ValueError):
        return None
    if isinstance(settings.template, tuple) != isinstance(packaged_template, str):
        return None  # a packaged template comes with its text, a file template without
    return settings, dirs, packaged_template


def _load_with_towncrier(
    project_dir: Path, config_file: str
) -> tuple[TowncrierSettings, dict[str, Path], str | None]:
    from click import ClickException
    from towncrier._builder import FragmentsPath
    from towncrier._settings.load import load_config

    try:
        config = load_config(str(project_dir))
    except (ClickException, KeyError, TypeError, ValueError) as exc:
        message = exc.format_message() if isinstance(exc, ClickException) else str(exc)
        raise ConfigError(
            f"{config_file} [tool.towncrier]: {message}",
            "Fix the towncrier configuration (see towncrier's configuration reference).",
        ) from None
    assert config is not None  # pyproject.toml exists
    path_of = FragmentsPath(str(project_dir), config)
    dirs = {name: Path(path_of(sub)) for name, sub in config.sections.items()}
    packaged = None
    if isinstance(config.template, tuple):
        from importlib import resources

        package, resource = config.template
        packaged = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    return TowncrierSettings.from_towncrier(config), dirs, packaged


def _read_template(path: str, config_file: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{config_file} [tool.towncrier]: the template {path} cannot be read ({exc}).",
            "Point `template` at a readable UTF-8 file.",
        ) from None


def ignored_names(config: TowncrierSettings) -> set[str]:
    # The same names towncrier's find_fragments passes over.
    names = {".gitignore", ".gitkeep", ".keep", "readme", "readme.md", "readme.rst"}
    if isinstance(config.template, str):
        names.add(os.path.basename(config.template))
    names.update(n.lower() for n in (config.ignore or []))
    return names


def scan(project_dir: Path, tc: Towncrier) -> FragmentSet:
    """Find every fragment, collecting every problem instead of stopping at the first.

    Names are parsed with towncrier's own parser and the contents are shaped as
    towncrier's ``find_fragments`` returns them, in one pass that reads each file
    once, strictly (towncrier would read it again, with ``errors="replace"``).
    """
    problems: list[FragmentError] = []
    fragments: list[Fragment] = []
    contents: dict[str, dict[tuple[str, str, int], str]] = {}
    listings: list[tuple[str, Path, list[os.DirEntry[str]] | None]] = []
    for section, directory in tc.section_dirs.items():
        try:
            # Directory order, as towncrier's find_fragments reads it: the order of entries
            # of one issue follows it, and the section must be byte-identical to towncrier's.
            listings.append((section, directory, list(os.scandir(directory))))
        except FileNotFoundError:
            listings.append((section, directory, None))
    parsed = parse_names(tc, {e.name for _, _, entries in listings for e in entries or ()})
    for section, directory, entries in listings:
        found, texts, trouble = (
            _scan_directory(project_dir, section, directory, entries, tc.config, parsed=parsed)
            if entries is not None
            else ([], {}, [])
        )
        fragments += found
        contents[section] = texts
        problems += trouble
    fragments.sort(key=lambda f: f.path)  # listings are sorted; contents keep towncrier's order
    if problems:
        return FragmentSet(tuple(fragments), {}, tuple(problems))
    return FragmentSet(tuple(fragments), contents, ())


ParsedName = tuple[str | None, str | None, int | None]


def parse_names(tc: Towncrier, names: set[str]) -> dict[str, ParsedName]:
    """towncrier's ``parse_newfragment_basename`` of each name, remembered between runs."""
    stored = tc.memo.get("fragment-names", tc.key) if tc.key else None
    known: dict[str, ParsedName] = {}
    if isinstance(stored, dict):
        for name, value in stored.items():
            if isinstance(value, list) and len(value) == 3:
                known[name] = (value[0], value[1], value[2])
    missing = names - known.keys()
    if missing:
        from towncrier._builder import parse_newfragment_basename

        for name in missing:
            known[name] = parse_newfragment_basename(name, tc.config.types)
        if tc.key:
            tc.memo.put("fragment-names", tc.key, {name: known[name] for name in names})
    return {name: known[name] for name in names}


def _scan_directory(
    project_dir: Path,
    section: str,
    directory: Path,
    entries: list[os.DirEntry[str]],
    config: TowncrierSettings,
    *,
    parsed: Mapping[str, ParsedName],
) -> tuple[list[Fragment], dict[tuple[str, str, int], str], list[FragmentError]]:
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
        issue, ftype, counter = parsed[name]
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
        assert issue is not None  # towncrier parsed a type, so an issue and a counter too
        assert counter is not None
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
    # os.read, not open(): a thousand fragments are read on every preview.
    fd = os.open(entry.path, _READ_FLAGS)
    try:
        raw = b""
        while len(raw) <= MAX_FRAGMENT_BYTES:
            wanted = MAX_FRAGMENT_BYTES + 1 - len(raw)
            chunk = os.read(fd, wanted)
            raw += chunk
            if len(chunk) < wanted:
                break  # a regular file's short read is its end: no read just to see b""
    finally:
        os.close(fd)
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
