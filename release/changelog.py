"""Render the changelog section with towncrier's renderer, without touching the disk.

The section is byte-identical to what ``towncrier build --draft --version X``
prints (less the newline ``click.echo`` adds), and :func:`updated_news_file`
places it in the news file the way ``towncrier build`` does, except that a news file
with CRLF line endings keeps them (towncrier writes it back with LF).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from release import newlines
from release.fragments import FragmentContents, Towncrier
from release.memo import Memo

if TYPE_CHECKING:
    from packaging.version import Version

#: Renders a changelog section: (towncrier, fragment contents, version, date) -> the text.
SectionRenderer = Callable[[Towncrier, FragmentContents, str, str], str]


def remembering(memo: Memo) -> SectionRenderer:
    """:func:`render_section`, its answers remembered in ``memo`` (the user's cache).

    The facts edge (``facts.gather``) hands this to the plan, so the plan itself does no
    I/O and a warm cache spares the import of towncrier and jinja2.
    """

    def render(tc: Towncrier, contents: FragmentContents, version: str, date: str) -> str:
        import json

        from release.memo import digest, installed

        inputs = json.dumps(
            [
                tc.config._asdict(),
                tc.project_name,
                tc.template_extension,
                version,
                date,
                [
                    [name, [[*key, text] for key, text in by_key.items()]]
                    for name, by_key in contents.items()
                ],
            ],
            separators=(",", ":"),
        )
        key = digest(
            installed("towncrier", "jinja2", "release.changelog"), tc.template_text, inputs
        )
        stored = memo.get("changelog-section", key)
        if isinstance(stored, str):
            return stored
        section = render_section(tc, contents, version, date)
        memo.put("changelog-section", key, section)
        return section

    return render


def render_section(tc: Towncrier, contents: FragmentContents, version: str, date: str) -> str:
    """The section for ``version``, rendered by towncrier (pure: no file is read or written)."""
    from towncrier._builder import render_fragments, split_fragments

    config = tc.config
    is_markdown = tc.template_extension.lower() == ".md"
    fragments = split_fragments(contents, config.types, all_bullets=config.all_bullets)
    render_title = config.title_format == ""
    md_header_level = 1
    if is_markdown:
        if config.title_format:
            match = re.search(r"^#+(?=\s)", config.title_format, re.MULTILINE)
            md_header_level = len(match[0]) if match else 0
        else:
            md_header_level = 1 if render_title else 0
    rendered: str = render_fragments(
        tc.template_text,
        config.issue_format,
        fragments,
        config.types,
        config.underlines[1:],
        config.wrap,
        {"name": tc.project_name, "version": version, "date": date},
        top_underline=config.underlines[0],
        all_bullets=config.all_bullets,
        render_title=render_title,
        md_header_level=md_header_level,
    )
    top = title(tc, version, date)
    if not top:
        return rendered
    parts = [top] if is_markdown else [top, config.underlines[0] * len(top)]
    return "\n".join([*parts, rendered])


def title(tc: Towncrier, version: str, date: str) -> str:
    if not tc.config.title_format:
        return ""
    text: str = tc.config.title_format.format(
        name=tc.project_name, version=version, project_date=date
    )
    return text


def news_file_name(tc: Towncrier, version: str, date: str) -> str:
    if tc.config.single_file:
        return tc.news_file
    return tc.news_file.format(name=tc.project_name, version=version, project_date=date)


def updated_news_file(
    tc: Towncrier, section: str, top_line: str, news_text: str | None = None
) -> str:
    """The news file's new text: ``section`` inserted after towncrier's start string (in
    ``news_text``, by default the file's text as it is), in the file's style (CRLF, a byte
    order mark: :mod:`release.newlines`)."""
    existing = (
        (news_text if news_text is not None else tc.news_text) if tc.config.single_file else None
    )
    if existing is None:
        return _inserted(tc, section, top_line, None)
    return newlines.edit_in_style(existing, lambda text: _inserted(tc, section, top_line, text))


def _inserted(tc: Towncrier, section: str, top_line: str, existing: str | None) -> str:
    header, body = "", ""
    if existing is not None:
        before, sep, after = existing.partition(tc.config.start_string)
        if sep:
            header, body = f"{before.rstrip()}\n\n{tc.config.start_string}\n", after.lstrip()
        else:
            body = existing.lstrip()
    if top_line and top_line in body:
        from release.errors import FragmentError

        raise FragmentError(
            f"{tc.news_file} already has a section titled {top_line!r}.",
            "That version's changelog was already built; choose another version or remove "
            "the section.",
        )
    return header + (section + body if body else section.rstrip() + "\n")


def extract_section(tc: Towncrier, version: str) -> str | None:
    """The already-written section of ``version`` in the news file, or None.

    Used when the release commit exists (``release ci`` on a tag): the fragments are
    consumed by then, so the notes are read back from the news file.
    """
    if tc.news_text is None:
        return None
    news_text = newlines.plain(tc.news_text)
    body = news_text.partition(tc.config.start_string)[2] or news_text
    lines = body.splitlines(keepends=True)
    span = _section_span(tc, lines, version)
    if span is None:
        return None
    return "".join(lines[span[0] : span[1]]).rstrip("\n") + "\n"


def without_sections(tc: Towncrier, news_text: str, versions: Sequence[str]) -> str:
    """``news_text`` without the sections of ``versions`` (those it has): the final release
    takes the place of its pre-releases' sections (docs/release-lines.md)."""

    def without(text: str) -> str:
        head, start, body = text.partition(tc.config.start_string)
        if not start:
            head, body = "", text
        lines = body.splitlines(keepends=True)
        for version in versions:
            span = _section_span(tc, lines, version)
            if span is not None:
                del lines[span[0] : span[1]]
        return head + start + "".join(lines)

    return newlines.edit_in_style(news_text, without)


def with_section(tc: Towncrier, news_text: str, section: str, version: str) -> str | None:
    """``news_text`` with ``section`` (the whole section of ``version``, title first) added
    among its sections in version order, or None when it already has a section of
    ``version``: what forward-porting a release's notes to another branch writes.

    The sections are those titled at the level of ``section``'s title, after towncrier's
    start string; a title's version is read by ``title_format`` where it fits, else it is
    the first PEP 440 version the title holds (titles with none are passed over).  The
    section goes right above the first section of a lower version, so 1.4.1 lands below
    2.0.0 and above 1.4.0; with no lower version, below the last section; with no section
    at all, where towncrier puts a new one.  Comparisons are PEP 440's: 1.4.1 is above
    1.4.1rc1 and below 1.4.1.post1.
    """
    from packaging.version import Version

    head, start, body = news_text.partition(tc.config.start_string)
    if not start:
        head, body = "", news_text
    lines = body.splitlines(keepends=True)
    if _section_span(tc, lines, version) is not None:
        return None
    own = section.splitlines(keepends=True)
    level = _title_level(tc, own, 0) if own else None
    if level is None:
        raise ValueError(f"the section of {version} does not start with its title")
    ported = Version(version)
    titled = [
        (i, _title_version(tc, lines[i]))
        for i in range(len(lines))
        if _title_level(tc, lines, i) == level
    ]
    if any(found == ported for _, found in titled):
        return None
    text = section.rstrip("\n") + "\n"
    # The news file's own spacing between sections, which the added one keeps.
    spacing = _blank_before(lines, titled[1][0]) if len(titled) > 1 else 1
    below = next((i for i, found in titled if found is not None and found < ported), None)
    if below is not None:
        lines.insert(below, text + "\n" * spacing)
        return head + start + "".join(lines)
    if any(found is not None for _, found in titled):
        return head + start + body.rstrip("\n") + "\n" * (1 + spacing) + text
    rest = "\n" + body.lstrip() if body.strip() else ""
    if start:
        return f"{head.rstrip()}\n\n{start}\n" + text + rest
    return text + rest


def _blank_before(lines: Sequence[str], i: int) -> int:
    """How many blank lines are right above line ``i``."""
    j = i
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    return i - j


_VERSION_WORD = re.compile(r"(?<![\w.+-])v?(\d+(?:\.\d+)+[\w.+-]*)")


def _title_version(tc: Towncrier, line: str) -> Version | None:
    """The version a section's title names: by ``title_format`` where it fits the title,
    else the first word of it that is a PEP 440 version; None when it names none."""
    from packaging.version import InvalidVersion, Version

    title = line.strip()
    candidates = []
    fmt = tc.config.title_format
    if fmt:
        matched = _title_pattern(fmt).fullmatch(title)
        if matched is not None:
            candidates.append(matched["version"])
    candidates += [m[1].rstrip(".,:;") for m in _VERSION_WORD.finditer(title)]
    for text in candidates:
        try:
            return Version(text)
        except InvalidVersion:
            continue
    return None


def _title_pattern(fmt: str) -> re.Pattern[str]:
    """``title_format`` as a regular expression: its ``{version}`` captured, every other
    field any text."""
    import string

    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(fmt.strip()):
        parts.append(re.escape(literal).replace("\\ ", r"\s+"))
        if field is not None:
            parts.append(r"(?P<version>\S+?)" if field == "version" else ".*?")
    return re.compile("".join(parts))


def _title_level(tc: Towncrier, lines: Sequence[str], i: int) -> int | None:
    """The level of the title at line ``i`` of a news file (the number of ``#`` in
    Markdown, 1 for a reStructuredText title underlined with towncrier's first
    underline), or None when the line is no title."""
    line = lines[i]
    if tc.template_extension.lower() == ".md":
        hashes = len(line) - len(line.lstrip("#"))
        return hashes if hashes and line[hashes : hashes + 1] == " " else None
    below = lines[i + 1].strip() if i + 1 < len(lines) else ""
    return 1 if line.strip() and below and set(below) == {tc.config.underlines[0]} else None


def _section_span(tc: Towncrier, lines: list[str], version: str) -> tuple[int, int] | None:
    """The lines [start, end) of the section titled with ``version``: from its title to the
    next title of the same level."""
    wanted = re.compile(rf"(?<![\w.]){re.escape(version)}(?![\w.])")
    for start, line in enumerate(lines):
        level = _title_level(tc, lines, start)
        if level is None or not wanted.search(line):
            continue
        end = next(
            (j for j in range(start + 1, len(lines)) if _title_level(tc, lines, j) == level),
            len(lines),
        )
        return start, end
    return None
