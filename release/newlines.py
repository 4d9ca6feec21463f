"""A file's own style through a pure edit: its line endings and its byte order mark.

The edits of a release (a version, a changelog section) are written for text with LF
line endings and no byte order mark. A file kept with CRLF (a Windows checkout,
``* text eol=crlf``) or starting with a BOM is edited in that plain form and given its
style back, so that only the edited lines change.
"""

from __future__ import annotations

from collections.abc import Callable

BOM = "\ufeff"


def plain(text: str) -> str:
    """``text`` as the edits read it: LF line endings, no byte order mark."""
    return text.removeprefix(BOM).replace("\r\n", "\n") if _styled(text) else text


def _styled(text: str) -> bool:
    return "\r\n" in text or text.startswith(BOM)


def edit_in_style(text: str, edit: Callable[[str], str]) -> str:
    """``edit`` made to the plain form of ``text``, in ``text``'s style: a byte order mark
    stays first, the lines before and after the edited ones keep their bytes, an edited
    line ends as the line in its place did, and an added line as most lines of ``text``
    do (CRLF or LF)."""
    if not _styled(text):
        return edit(text)
    flat = plain(text)
    bom = BOM if text.startswith(BOM) else ""
    own, old, new = _lines(text[len(bom) :]), _lines(flat), _lines(edit(flat))
    head = _same(old, new)
    tail = _same(old[head:][::-1], new[head:][::-1])
    most = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    gone = own[head : len(own) - tail]
    written = []
    for k, line in enumerate(new[head : len(new) - tail]):
        ending = _ending(line)
        if ending:
            own_ending = _ending(gone[k]) if k < len(gone) else ""
            written.append(line[: len(line) - len(ending)] + (own_ending or most))
        else:
            written.append(line)
    return bom + "".join(own[:head] + written + own[len(own) - tail :])


def _same(a: list[str], b: list[str]) -> int:
    """How many lines ``a`` and ``b`` have the same from their start."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _ending(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""


def _lines(text: str) -> list[str]:
    """``text`` split after each LF (``str.splitlines`` also splits at other characters)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines
