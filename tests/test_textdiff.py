"""Unified diffs of long files with the shared start and end left out (release/textdiff.py)."""

from __future__ import annotations

import difflib
import re

from hypothesis import given
from hypothesis import strategies as st

from release.textdiff import unified

HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply(before: list[str], diff: list[str]) -> list[str]:
    """The lines a unified diff of ``before`` gives, read by its hunk headers."""
    out: list[str] = []
    at = 0
    for line in diff[2:]:
        m = HEADER.match(line)
        if m:
            start, length = int(m[1]), 1 if m[2] is None else int(m[2])
            begin = start - 1 if length else start
            out += before[at:begin]
            at = begin
        elif line.startswith(" "):
            assert before[at] == line[1:]
            out.append(line[1:])
            at += 1
        elif line.startswith("-"):
            assert before[at] == line[1:]
            at += 1
        else:
            out.append(line[1:])
    return out + before[at:]


def test_a_change_deep_in_a_long_file_is_numbered_as_in_the_whole_file() -> None:
    before = [f"line {i}\n" for i in range(1, 2001)]
    changed = ["inserted\n", "line 1500 changed\n"]
    after = [*before[:1499], *changed, *before[1500:1800], *before[1801:]]
    got = unified(before, after, "a/f", "b/f")
    assert got == list(difflib.unified_diff(before, after, "a/f", "b/f"))
    assert [line for line in got if line.startswith("@@")] == [
        "@@ -1497,7 +1497,8 @@\n",
        "@@ -1798,7 +1799,6 @@\n",
    ]


def test_lines_inserted_at_the_end_and_a_new_file() -> None:
    before = [f"{i}\n" for i in range(50)]
    assert unified(before, [*before, "x\n"], "a", "b")[2] == "@@ -48,3 +48,4 @@\n"
    assert unified([], ["x\n"], "/dev/null", "b")[2] == "@@ -0,0 +1 @@\n"
    assert unified(before, before, "a", "b") == []


lines = st.lists(st.sampled_from(["a\n", "b\n", "\n", "## 1.0\n", "- x\n", "end"]), max_size=40)


@given(lines, lines, lines)
def test_the_diff_applied_gives_the_new_text(
    head: list[str], old: list[str], new: list[str]
) -> None:
    before, after = head + old + head, head + new + head
    assert apply(before, unified(before, after, "a", "b")) == after
