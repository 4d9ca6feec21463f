"""Unified diffs of whole files, for a person to read in a preview.

A release's edits change a few lines of long files (a version line, a changelog section
inserted near the top); difflib's matcher costs grow with every line it is given, so the
lines both sides share at the start and at the end are left out but for the hunks'
context, and the hunks' line numbers are moved back to the whole file's.
"""

from __future__ import annotations

import difflib
import re

CONTEXT = 3

_HUNK = re.compile(r"@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified(before: list[str], after: list[str], fromfile: str, tofile: str) -> list[str]:
    """``difflib.unified_diff`` of two files' lines (kept line ends) with three lines of
    context."""
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    skipped = max(0, start - CONTEXT)
    tail = max(0, end - CONTEXT)
    lines = list(
        difflib.unified_diff(
            before[skipped : len(before) - tail],
            after[skipped : len(after) - tail],
            fromfile=fromfile,
            tofile=tofile,
            n=CONTEXT,
        )
    )
    if not skipped:
        return lines
    return [_moved(line, skipped) if line.startswith("@@ ") else line for line in lines]


def _moved(header: str, by: int) -> str:
    """A hunk header of the trimmed lines, numbered as in the whole file (difflib numbers
    an empty range by the line before it, so adding ``by`` holds for every range)."""
    m = _HUNK.match(header)
    assert m is not None, header
    old = f"-{int(m[1]) + by}{m[2] or ''}"
    new = f"+{int(m[3]) + by}{m[4] or ''}"
    return f"@@ {old} {new} @@{header[m.end() :]}"
