"""Changelog fragments, found with towncrier's own code and checked strictly.

towncrier skips fragments of unknown types, reads with ``errors="replace"`` and
raises a bare ``ValueError`` on duplicates; here each of those is a
:class:`FragmentError` naming the file.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from release.errors import ConfigError, FragmentError
from release.memo import Memo, digest, installed
from release.ops.files import read_exact
from release.paths import real

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
    key = digest(
        installed("towncrier", "release.fragments"), str(project_dir), config_file, config_bytes
    )
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
        name = _project_name(project_dir, settings, key, memo)
    news_file = settings.filename
    news_path = project_dir / news_file
    news_text = read_exact(news_path) if news_path.is_file() else None
    return Towncrier(
        settings, config_file, template_text, extension, name, news_file, news_text, dirs, memo, key
    )


def _project_name(project_dir: Path, settings: TowncrierSettings, key: str, memo: Memo) -> str:
    """towncrier's name for a project configured by `package` alone, remembered.

    towncrier imports the package for it (its ``__version__.package``, else the package
    name titled), which costs more than the rest of a preview; the answer depends on
    the files that import reads, so they key it.
    """
    package = project_dir / settings.package_dir / settings.package.replace(".", "/")
    read = []
    for candidate in (package / "__init__.py", package / "_version.py", package.with_suffix(".py")):
        try:
            read.append(candidate.read_bytes())
        except OSError:
            read.append(b"")
    name_key = digest(key, settings.package_dir, settings.package, *read)
    stored = memo.get("towncrier-name", name_key)
    if isinstance(stored, str):
        return stored
    from towncrier._project import get_project_name

    name: str = get_project_name(str(project_dir / settings.package_dir), settings.package)
    memo.put("towncrier-name", name_key, name)
    return name


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


def scan(project_dir: Path, tc: Towncrier) -> FragmentSet:
    """Find every fragment as towncrier's own ``find_fragments`` does, then check each strictly.

    Which files are fragments, and their issue, type and counter, is towncrier's answer
    (remembered under the directory listing, so an unchanged project does not import
    towncrier). On top of it every problem is collected instead of stopping at the first:
    a file towncrier passes over although it is not on its ignore list, a name with
    control characters, a link out of the directory, text that is not UTF-8.
    """
    problems: list[FragmentError] = []
    listings: list[tuple[str, Path, list[os.DirEntry[str]]]] = []
    for section, directory in tc.section_dirs.items():
        problem = _outside_problem(project_dir, directory)
        if problem is not None:
            return FragmentSet((), {name: {} for name in tc.section_dirs}, (problem,))
        try:
            # Directory order, as towncrier's find_fragments reads it: the order of entries
            # of one issue follows it, and the section must be byte-identical to towncrier's.
            listings.append((section, directory, list(os.scandir(directory))))
        except FileNotFoundError:
            listings.append((section, directory, []))
    found = discover(project_dir, tc, listings)
    if found.error:
        problems.append(found.error_problem())
    fragments: list[Fragment] = []
    contents: dict[str, dict[tuple[str, str, int], str]] = {name: {} for name in tc.section_dirs}
    for (section, directory, entries), discovered, invalid in zip(
        listings, found.sections, found.invalid, strict=True
    ):
        by_name = {entry.name: entry for entry in entries}
        rel_dir = os.path.relpath(directory, project_dir).replace(os.sep, "/")
        real_dir = real(directory)
        for name in invalid:
            shown = _printable(_join(rel_dir, name))
            known = ", ".join(sorted(tc.config.types))
            problems.append(
                FragmentError(
                    f"Fragment {shown} has no known type, so towncrier would silently skip it.",
                    f"Name it ISSUE.TYPE with TYPE one of: {known}; or list it in towncrier's "
                    "`ignore` if it is not a fragment.",
                )
            )
        for name, issue, ftype, counter in discovered:
            rel = _join(rel_dir, name)
            shown = _printable(rel)
            entry = by_name[name]
            if shown != rel:
                problems.append(
                    FragmentError(
                        f"Fragment {shown} has control characters in its name (they would "
                        "reach the changelog and terminals).",
                        "Rename it to ISSUE.TYPE with plain characters.",
                    )
                )
            problem = _file_problem(entry, real_dir, shown)
            text: str | FragmentError = problem if problem else _read_fragment(entry, shown)
            if isinstance(text, FragmentError):
                # Left out of the preview: it may lead outside the project or hold escapes.
                problems.append(text)
                continue
            contents[section][(issue, ftype, counter)] = text
            fragments.append(Fragment(rel, section, issue, ftype, counter))
    fragments.sort(key=lambda f: f.path)  # contents keep towncrier's order
    return FragmentSet(tuple(fragments), contents, tuple(problems))


def fragment_key(tc: Towncrier, name: str) -> tuple[str, str, int] | None:
    """The (issue, type, counter) towncrier's ``find_fragments`` gives the file ``name``, an
    orphan's issue empty (towncrier then numbers them in the order it finds them); None for
    a file it passes over (its ignore rules, or no known type)."""
    from fnmatch import fnmatch

    from towncrier._builder import parse_newfragment_basename

    ignored = [".gitignore", ".gitkeep", ".keep", "readme", "readme.md", "readme.rst"]
    if isinstance(tc.config.template, str):
        ignored.append(os.path.basename(tc.config.template))
    ignored += [pattern.lower() for pattern in tc.config.ignore or ()]
    if any(fnmatch(name.lower(), pattern) for pattern in ignored):
        return None
    issue, ftype, counter = parse_newfragment_basename(name, tc.config.types)
    if issue is None or ftype is None or counter is None:
        return None
    if tc.config.orphan_prefix and issue.startswith(tc.config.orphan_prefix):
        return "", ftype, 0
    return issue, ftype, counter


def merge_contents(*parts: FragmentContents) -> dict[str, dict[tuple[str, str, int], str]]:
    """The fragments of ``parts`` together, as if they were in the directories at once: an
    entry whose (issue, type, counter) an earlier part took gets the next free counter, as a
    numbered fragment (12.feature.1.md) would have."""
    merged: dict[str, dict[tuple[str, str, int], str]] = {}
    for part in parts:
        for section, entries in part.items():
            into = merged.setdefault(section, {})
            for (issue, ftype, given), text in entries.items():
                counter = given
                while (issue, ftype, counter) in into:
                    counter += 1
                into[(issue, ftype, counter)] = text
    return merged


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir != "." else name


def _outside_problem(project_dir: Path, directory: Path) -> FragmentError | None:
    if real(directory).is_relative_to(real(project_dir)):
        return None
    return FragmentError(
        f"The fragment directory {directory} is outside the project {project_dir}.",
        "Point towncrier's `directory` (or section `path`) inside the project.",
    )


#: One fragment as towncrier found it: (file name, issue, type, counter).
Found = tuple[str, str, str, int]


class Discovery(NamedTuple):
    """towncrier's answer for each section (in its order), and the names it rejects."""

    sections: tuple[tuple[Found, ...], ...]
    invalid: tuple[tuple[str, ...], ...]  # names towncrier skips but would reject if strict
    error: str = ""  # towncrier stopped (duplicate fragments, an issue not matching the pattern)

    def error_problem(self) -> FragmentError:
        return FragmentError(
            f"towncrier stops on the fragments: {self.error}",
            "Merge fragments for the same issue and type into one file or number them "
            "(12.feature.1, 12.feature.2), and name fragments after issues that match "
            "towncrier's `issue_pattern`.",
        )


def discover(
    project_dir: Path, tc: Towncrier, listings: list[tuple[str, Path, list[os.DirEntry[str]]]]
) -> Discovery:
    """towncrier's ``find_fragments`` answer, remembered under the names it was given."""
    names = [
        "\0".join(f"{entry.name}{'/' if entry.is_dir() else ''}" for entry in entries)
        for _, _, entries in listings
    ]
    key = digest(tc.key, "\n".join(names)) if tc.key else ""
    stored = tc.memo.get("fragment-discovery", key) if key else None
    remembered = _remembered_discovery(stored, len(listings))
    if remembered is not None:
        return remembered
    found = _discover_with_towncrier(project_dir, tc, listings)
    if key:
        tc.memo.put("fragment-discovery", key, found._asdict())
    return found


def _remembered_discovery(stored: Any, count: int) -> Discovery | None:
    try:
        sections = tuple(
            tuple((str(n), str(i), str(t), int(c)) for n, i, t, c in section)
            for section in stored["sections"]
        )
        invalid = tuple(tuple(str(n) for n in section) for section in stored["invalid"])
        error = str(stored["error"])
    except (TypeError, KeyError, ValueError):
        return None
    if len(sections) != count or len(invalid) != count:
        return None
    return Discovery(sections, invalid, error)


def _towncrier_config(settings: TowncrierSettings, **changes: Any) -> Any:
    from towncrier._settings.load import Config

    values = settings._asdict()
    values["ignore"] = None if settings.ignore is None else list(settings.ignore)
    values.update(changes)
    return Config(**values)


def _discover_with_towncrier(
    project_dir: Path, tc: Towncrier, listings: list[tuple[str, Path, list[os.DirEntry[str]]]]
) -> Discovery:
    from click import ClickException
    from towncrier._builder import find_fragments, parse_newfragment_basename

    config = _towncrier_config(tc.config)
    empty = tuple(() for _ in listings)
    try:
        contents, files = find_fragments(str(project_dir), config, strict=False)
    except ClickException as exc:
        return Discovery(empty, empty, exc.format_message())
    except ValueError as exc:
        return Discovery(empty, empty, _duplicates(project_dir, config, listings) or str(exc))
    except OSError as exc:
        return Discovery(empty, empty, str(exc))
    sections: list[tuple[Found, ...]] = []
    invalid: list[tuple[str, ...]] = []
    position = 0
    template = os.path.realpath(tc.config.template) if isinstance(tc.config.template, str) else None
    for section, _directory, entries in listings:
        # find_fragments lists each section's files in the order of its contents.
        keys = list(contents.get(section, {}))
        paths = [path for path, _ in files[position : position + len(keys)]]
        position += len(keys)
        taken = [
            (os.path.basename(path), issue, ftype, counter)
            for path, (issue, ftype, counter) in zip(paths, keys, strict=True)
        ]
        sections.append(tuple(taken))
        taken_names = {name for name, *_ in taken}
        candidates = [
            entry.name
            for entry in entries
            if entry.name not in taken_names
            and not entry.is_dir()
            and os.path.realpath(entry.path) != template
            and parse_newfragment_basename(entry.name, config.types)[1] is None
        ]
        # Everything but the fragments and the name asked about is put on the ignore list.
        untaken = [entry.name for entry in entries if entry.name not in taken_names]
        invalid.append(
            tuple(
                name
                for name in candidates
                if _looks_like_a_fragment(name, tc.config.orphan_prefix)
                and _rejected_by_towncrier(project_dir, tc, section, name, untaken)
            )
        )
    return Discovery(tuple(sections), tuple(invalid))


def _duplicates(
    project_dir: Path, config: Any, listings: list[tuple[str, Path, list[os.DirEntry[str]]]]
) -> str:
    """The files towncrier takes for the same issue, type and counter, named."""
    from towncrier._builder import parse_newfragment_basename

    clashes = []
    for _, directory, entries in listings:
        rel_dir = os.path.relpath(directory, project_dir).replace(os.sep, "/")
        seen: dict[tuple[str | None, str | None, int | None], list[str]] = {}
        for entry in entries:
            issue, ftype, counter = parse_newfragment_basename(entry.name, config.types)
            if ftype is not None and not (
                config.orphan_prefix and issue.startswith(config.orphan_prefix)
            ):
                seen.setdefault((issue, ftype, counter), []).append(_join(rel_dir, entry.name))
        for (issue, ftype, _), paths in seen.items():
            if len(paths) > 1:
                shown = " and ".join(_printable(p) for p in sorted(paths))
                clashes.append(f"{shown} are both for issue {issue!r} of type {ftype!r}")
    return "; ".join(clashes)


def _looks_like_a_fragment(name: str, orphan_prefix: str) -> bool:
    """Whether a file towncrier passes over is probably a fragment with a wrong type.

    Fragment directories hold other files too (templates, notes, examples), which
    towncrier silently skips and so do we: a hidden file, or a plain ``NAME.EXT``.
    ``12.feeture``, ``12.feeture.md`` and ``CVE-1.fix.rst`` are reported.
    """
    if name.startswith("."):
        return False
    parts = name.split(".")
    if len(parts) >= 3:
        return True
    first = parts[0]
    return len(parts) == 2 and (
        any(c.isdigit() for c in first) or bool(orphan_prefix and first.startswith(orphan_prefix))
    )


def _rejected_by_towncrier(
    project_dir: Path, tc: Towncrier, section: str, name: str, untaken: list[str]
) -> bool:
    """Whether towncrier's strict mode (``towncrier check``) rejects ``name``.

    The other names it did not take are put on the ignore list, so only ``name`` can be
    rejected; towncrier's own ignore rules decide (its defaults, the configured list).
    """
    import glob

    from click import ClickException
    from towncrier._builder import find_fragments

    others = [glob.escape(other).lower() for other in untaken if other != name]
    config = _towncrier_config(
        tc.config,
        sections={section: tc.config.sections[section]},
        ignore=[*(tc.config.ignore or ()), *others],
    )
    try:
        find_fragments(str(project_dir), config, strict=True)
    except ClickException:
        return True
    except (ValueError, OSError):
        return False
    return False


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
