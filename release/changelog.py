"""Render the changelog section with towncrier's renderer, without touching the disk.

The section is byte-identical to what ``towncrier build --draft --version X``
prints (less the newline ``click.echo`` adds), and :func:`updated_news_file`
places it in the news file the way ``towncrier build`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from release.fragments import FragmentContents, Towncrier
from release.memo import Memo

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
    ``news_text``, by default the file's text as it is)."""
    existing = (
        (news_text if news_text is not None else tc.news_text) if tc.config.single_file else None
    )
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
    body = tc.news_text.partition(tc.config.start_string)[2] or tc.news_text
    lines = body.splitlines(keepends=True)
    span = _section_span(tc, lines, version)
    if span is None:
        return None
    return "".join(lines[span[0] : span[1]]).rstrip("\n") + "\n"


def without_sections(tc: Towncrier, news_text: str, versions: Sequence[str]) -> str:
    """``news_text`` without the sections of ``versions`` (those it has): the final release
    takes the place of its pre-releases' sections (docs/release-lines.md)."""
    head, start, body = news_text.partition(tc.config.start_string)
    if not start:
        head, body = "", news_text
    lines = body.splitlines(keepends=True)
    for version in versions:
        span = _section_span(tc, lines, version)
        if span is not None:
            del lines[span[0] : span[1]]
    return head + start + "".join(lines)


def _section_span(tc: Towncrier, lines: list[str], version: str) -> tuple[int, int] | None:
    """The lines [start, end) of the section titled with ``version``: from its title to the
    next title of the same level."""
    markdown = tc.template_extension.lower() == ".md"
    underline = tc.config.underlines[0]

    def title_level(i: int) -> int | None:
        line = lines[i]
        if markdown:
            hashes = len(line) - len(line.lstrip("#"))
            return hashes if hashes and line[hashes : hashes + 1] == " " else None
        below = lines[i + 1].strip() if i + 1 < len(lines) else ""
        return 1 if line.strip() and below and set(below) == {underline} else None

    wanted = re.compile(rf"(?<![\w.]){re.escape(version)}(?![\w.])")
    for start, line in enumerate(lines):
        level = title_level(start)
        if level is None or not wanted.search(line):
            continue
        end = next((j for j in range(start + 1, len(lines)) if title_level(j) == level), len(lines))
        return start, end
    return None
