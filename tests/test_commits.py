"""Conventional commits: the bump each commit message asks for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.commits import Commit, commit_level, deciding_commits
from release.version import Level

BUMPS = {"feat": "minor", "fix": "patch", "perf": "patch", "docs": "none"}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("feat: add a thing", "minor"),
        ("feat(api): add a thing", "minor"),
        ("feat(api/v2-x): add a thing", "minor"),
        ("fix: repair it", "patch"),
        ("perf(core): faster", "patch"),
        ("Feat: capitalised type", "minor"),
        ("FIX: shouting", "patch"),
        ("feat: subject\n\nA body.\n\nRefs: #12", "minor"),
        # Types that do not bump, or that the table does not know.
        ("docs: explain", None),
        ("chore: tidy", None),
        ("refactor(core): move", None),
        # A breaking change is always major, whatever the type.
        ("feat!: drop the old API", "major"),
        ("feat(api)!: drop the old API", "major"),
        ("chore!: drop Python 3.9", "major"),
        ("docs!: rewrite", "major"),
        ("fix: subject\n\nBREAKING CHANGE: the option is gone", "major"),
        ("fix: subject\n\nA body.\n\nBREAKING-CHANGE: the option is gone", "major"),
        ("docs: subject\n\nBREAKING CHANGE: gone", "major"),
        ("chore: subject\r\n\r\nBREAKING CHANGE: gone\r\n", "major"),
        # Not a breaking-change footer.
        ("fix: subject\n\nbreaking change: lower case", "patch"),
        ("fix: subject\n\nThis is a BREAKING CHANGE: mid-line", "patch"),
        ("fix: subject\n\n  BREAKING CHANGE: indented", "patch"),
        ("fix: subject\n\nBREAKING CHANGES: plural", "patch"),
        # Not conventional at all.
        ("Add a thing", None),
        ("Merge branch 'main' into feature", None),
        ("feat add a thing", None),
        ("feat:add a thing", None),
        ("feat: ", None),
        ("feat:", None),
        ("", None),
        (" feat: leading space", None),
        ("feat (api): space before scope", None),
        ("feat(api: unclosed scope", None),
        ("feat(a\nb): scope across lines", None),
        ("feat2: digits", None),
        ("fixup! fix: squash me", None),
        ("BREAKING CHANGE: only a footer", None),
        ("Update things\n\nBREAKING CHANGE: gone", None),
    ],
)
def test_commit_level(message: str, expected: Level | None) -> None:
    assert commit_level(message, BUMPS) == expected


@pytest.mark.parametrize(
    ("message", "bumps", "expected"),
    [
        ("chore: x", {"chore": "patch"}, "patch"),
        ("feat: x", {"feat": "major"}, "major"),
        ("feat: x", {"feat": "none"}, None),
        ("feat: x", {}, None),
        ("feat!: x", {}, "major"),
        ("fix: x", {"feat": "minor"}, None),
    ],
)
def test_commit_level_uses_the_configured_table(
    message: str, bumps: dict[str, str], expected: Level | None
) -> None:
    assert commit_level(message, bumps) == expected


@pytest.mark.parametrize(
    ("message", "subject"),
    [("feat: a\n\nbody", "feat: a"), ("feat: a", "feat: a"), ("", ""), ("a\r\nb", "a\r")],
)
def test_subject(message: str, subject: str) -> None:
    assert Commit("0" * 40, message).subject == subject


def test_deciding_commits_keeps_order_and_drops_non_deciding() -> None:
    commits = [
        Commit("a1", "docs: explain"),
        Commit("b2", "fix: repair"),
        Commit("c3", "Merge branch 'x'"),
        Commit("d4", "feat(api)!: replace"),
        Commit("e5", "feat: add"),
    ]
    assert deciding_commits(commits, BUMPS) == [
        (commits[1], "patch"),
        (commits[3], "major"),
        (commits[4], "minor"),
    ]
    assert deciding_commits([], BUMPS) == []


types = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=8)
scopes = st.none() | st.text(alphabet="abc-/_ 1", max_size=6)
descriptions = st.text(alphabet="abc xyz:!()", min_size=1, max_size=15).filter(
    lambda d: not d[0].isspace()
)


@settings(max_examples=100, deadline=None)
@given(kind=types, scope=scopes, bang=st.booleans(), description=descriptions)
def test_conventional_headers(
    kind: str, scope: str | None, bang: bool, description: str
) -> None:
    header = kind + ("" if scope is None else f"({scope})") + ("!" if bang else "") + ": "
    message = header + description
    level = BUMPS.get(kind.lower(), "none")
    expected = "major" if bang else (None if level == "none" else level)
    assert commit_level(message, BUMPS) == expected
    assert commit_level(message + "\n\nBREAKING CHANGE: gone", BUMPS) == "major"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gives_a_level_or_none(message: str) -> None:
    assert commit_level(message, BUMPS) in (None, "major", "minor", "patch")
