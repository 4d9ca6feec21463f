"""The pure version engine: PEP 440 arithmetic, pre-release cycles and semver syntax."""

from __future__ import annotations

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from strategies import built_versions

from release import version as versions
from release.errors import VersionError
from release.version import Level, Pre

FAST = settings(max_examples=100, deadline=None)
WIDE = settings(max_examples=250, deadline=None)


def V(text: str) -> Version:
    return Version(text)


# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.0", "1.2.0"),
        (" 1.2.0\n", "1.2.0"),
        ("1.2", "1.2"),
        ("1.2.0-rc1", "1.2.0rc1"),
        ("1.2.0.RC1", "1.2.0rc1"),
        ("1.2.0alpha2", "1.2.0a2"),
        ("1.2.0.post1.dev3", "1.2.0.post1.dev3"),
        ("1!2.0", "1!2.0"),
        ("1.0+abc", "1.0+abc"),
    ],
)
def test_parse_normalises(text: str, expected: str) -> None:
    assert str(versions.parse(text)) == expected


@pytest.mark.parametrize(
    "text", ["1..0", "1.0.0-SNAPSHOT", "", "latest", "1.0.0.", "1.2.0-rc.1.x", "1.0 .1"]
)
def test_parse_rejects_malformed_versions_naming_them(text: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.parse(text)
    assert repr(text.strip()) in info.value.message
    assert "not a valid PEP 440 version" in info.value.message
    assert info.value.hint


def test_parse_names_where_the_value_came_from() -> None:
    with pytest.raises(VersionError) as info:
        versions.parse("1..0", where="pyproject.toml")
    assert info.value.message == "'1..0' in pyproject.toml is not a valid PEP 440 version."


# --------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, None, None),
        (None, "patch", "patch"),
        ("minor", None, "minor"),
        ("patch", "minor", "minor"),
        ("minor", "patch", "minor"),
        ("major", "patch", "major"),
        ("minor", "major", "major"),
        ("patch", "patch", "patch"),
    ],
)
def test_higher_level(a: Level | None, b: Level | None, expected: Level | None) -> None:
    assert versions.higher_level(a, b) == expected


@pytest.mark.parametrize(
    ("level", "current", "major_on_zero", "expected"),
    [
        ("major", "0.3.1", False, "minor"),
        ("major", "0.3.1", True, "major"),
        ("major", "0.0.1", False, "minor"),
        ("major", "0.4.0rc1", False, "minor"),
        ("major", "1.3.1", False, "major"),
        ("major", "1.3.1", True, "major"),
        ("minor", "0.3.1", False, "minor"),
        ("patch", "0.3.1", False, "patch"),
        (None, "0.3.1", False, None),
    ],
)
def test_zero_major(
    level: Level | None, current: str, major_on_zero: bool, expected: Level | None
) -> None:
    assert versions.zero_major(level, V(current), major_on_zero=major_on_zero) == expected


@pytest.mark.parametrize(
    ("level", "expected"), [("major", "0.4.0"), ("minor", "0.4.0"), ("patch", "0.3.2")]
)
def test_zero_major_then_next_version_stays_below_one(level: Level, expected: str) -> None:
    current = V("0.3.1")
    adjusted = versions.zero_major(level, current, major_on_zero=False)
    assert str(versions.next_version(current, adjusted)) == expected


# --------------------------------------------------------------------------- in_cycle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.0", False),
        ("1.2.0.post1", False),
        ("1.2.0.post1.dev0", False),
        ("1.2.0a1", True),
        ("1.2.0rc1", True),
        ("1.2.0rc1.dev0", True),
        ("1.2.0.dev0", True),
        ("1.2.0rc1.post1", True),
        ("1.2.0rc1.post1.dev0", True),
    ],
)
def test_in_cycle(text: str, expected: bool) -> None:
    assert versions.in_cycle(V(text)) is expected


# --------------------------------------------------------------------------- next_version

NEXT = [
    # A final release: bump, optionally into a pre-release cycle.
    ("1.2.3", "major", None, False, "2.0.0"),
    ("1.2.3", "minor", None, False, "1.3.0"),
    ("1.2.3", "patch", None, False, "1.2.4"),
    ("1.2.3", "patch", None, True, "1.2.4"),
    ("1.2", "minor", None, False, "1.3"),  # as many numbers as the project writes
    ("1.2", "patch", None, False, "1.2.1"),
    ("1", "patch", None, False, "1.0.1"),
    ("1.2.3.4", "patch", None, False, "1.2.4"),
    ("1.2.3.4", "minor", None, False, "1.3.0"),
    ("0.3.1", "major", None, False, "1.0.0"),
    ("1.2.0.post1", "patch", None, False, "1.2.1"),
    ("1.2.0.post1.dev0", "patch", None, False, "1.2.1"),
    ("1!1.2.3", "patch", None, False, "1!1.2.4"),
    ("1.1.0", "minor", "rc", False, "1.2.0rc1"),
    ("1.1.0", "major", "beta", False, "2.0.0b1"),
    ("1.1.0", "patch", "alpha", False, "1.1.1a1"),
    ("1.1.0", None, "alpha", False, "1.1.1a1"),
    # The pre-release cycle 1.2.0a1 -> a2 -> b1 -> rc1 -> rc2 -> 1.2.0.
    ("1.2.0a1", None, "alpha", False, "1.2.0a2"),
    ("1.2.0a2", None, "beta", False, "1.2.0b1"),
    ("1.2.0b1", None, "rc", False, "1.2.0rc1"),
    ("1.2.0rc1", None, "rc", False, "1.2.0rc2"),
    ("1.2.0rc2", None, None, True, "1.2.0"),
    ("1.2.0a1", None, "rc", False, "1.2.0rc1"),
    ("1.2.0a3", "minor", None, False, "1.2.0"),
    # Nothing but the cycle itself: finish it (what plan.py relies on).
    ("1.2.0rc1", None, None, False, "1.2.0"),
    ("1.3.1.dev0", None, None, False, "1.3.1"),
    # A bump the cycle already contains stays inside it; a bigger one leaves it.
    ("1.3.0rc1", "minor", None, False, "1.3.0"),
    ("1.3.0rc1", "patch", None, False, "1.3.0"),
    ("1.3.0rc1", "major", None, False, "2.0.0"),
    ("1.3.0rc1", "minor", "rc", False, "1.3.0rc2"),
    ("1.3.0rc1", "minor", None, True, "1.3.0"),
    ("1.3.0rc1", "major", "rc", False, "2.0.0rc1"),
    ("1.3.0rc1", "major", "alpha", False, "2.0.0a1"),
    ("2.0.0rc1", "major", None, False, "2.0.0"),
    ("2.0.0b1", "major", "rc", False, "2.0.0rc1"),
    ("0.3.0rc1", "patch", None, False, "0.3.0"),
    ("1.3rc1", "minor", None, False, "1.3"),
    ("1rc1", "major", None, False, "1"),
    ("26.3.dev0", "patch", None, False, "26.3"),  # pip's two-number calendar versions
    # Development versions.
    ("1.3.1.dev0", "patch", None, False, "1.3.1"),
    ("1.3.1.dev0", "minor", None, False, "1.4.0"),
    ("1.3.1.dev0", "major", None, False, "2.0.0"),
    ("1.3.0.dev0", "minor", None, False, "1.3.0"),
    ("1.3.0.dev0", "major", None, False, "2.0.0"),
    ("1.3.1.dev0", None, None, True, "1.3.1"),
    ("1.3.1.dev0", None, "alpha", False, "1.3.1a1"),
    ("1.3.1.dev0", "patch", "rc", False, "1.3.1rc1"),
    ("1.3.1.dev0", "minor", "rc", False, "1.4.0rc1"),
    ("1.2.0rc1.dev0", None, "rc", False, "1.2.0rc1"),
    ("1.2.0rc1.dev0", None, None, True, "1.2.0"),
    ("1.2.0b2.dev1", None, "rc", False, "1.2.0rc1"),
    ("1.2.0a1.dev0", None, "alpha", False, "1.2.0a1"),
    # A post-release of a pre-release is still in the cycle of its release.
    ("1.2.0rc1.post1", None, "rc", False, "1.2.0rc2"),
    ("1.2.0rc1.post1", None, None, True, "1.2.0"),
    ("1.2.0rc1.post1.dev0", None, "rc", False, "1.2.0rc2"),
    # More than three release numbers.
    ("1.2.0.4rc1", "minor", None, False, "1.3.0"),
    ("1.2.0.4rc1", "patch", None, False, "1.2.1"),
    ("1.2.0.4rc1", None, None, True, "1.2.0.4"),
    ("1.2.3.4rc1", "patch", None, False, "1.2.4"),
    ("1.2.3.0rc1", "patch", None, False, "1.2.3.0"),
    # Epochs are kept.
    ("1!2.0.0rc1", None, None, True, "1!2.0.0"),
    ("1!2.0.0rc1", None, "rc", False, "1!2.0.0rc2"),
]


@pytest.mark.parametrize(("current", "level", "pre", "final", "expected"), NEXT)
def test_next_version(
    current: str, level: Level | None, pre: Pre | None, final: bool, expected: str
) -> None:
    result = versions.next_version(V(current), level, pre=pre, final=final)
    assert str(result) == expected
    assert result > V(current)


@pytest.mark.parametrize(
    ("current", "level", "pre", "final", "fragment"),
    [
        ("1.2.0", None, None, False, "Nothing decides the version after 1.2.0."),
        ("1.2.0.post1", None, None, True, "1.2.0.post1 is already a final release"),
        ("1.2.0", None, None, True, "1.2.0 is already a final release"),
        ("1.2.0rc1", None, "alpha", False, "Cannot go from 1.2.0rc1 back to an alpha"),
        ("1.2.0rc1", None, "beta", False, "Cannot go from 1.2.0rc1 back to a beta"),
        ("1.2.0b1", "minor", "alpha", False, "Cannot go from 1.2.0b1 back to an alpha"),
        ("1.2.0rc1.dev0", None, "beta", False, "Cannot go from 1.2.0rc1.dev0 back"),
        ("1.2.0rc2.post1", "patch", "alpha", False, "Cannot go from 1.2.0rc2.post1 back"),
    ],
)
def test_next_version_errors_name_the_version(
    current: str, level: Level | None, pre: Pre | None, final: bool, fragment: str
) -> None:
    with pytest.raises(VersionError) as info:
        versions.next_version(V(current), level, pre=pre, final=final)
    assert fragment in info.value.message
    assert info.value.hint


@pytest.mark.parametrize("current", ["1.2.0", "1.2.0rc1"])
def test_pre_and_final_contradict(current: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.next_version(V(current), "minor", pre="rc", final=True)
    assert info.value.message == "--pre and --final contradict each other."


# --------------------------------------------------------------------------- post / dev


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("1.2.0", "1.2.0.post1"),
        ("1.2", "1.2.post1"),
        ("1.2.0.post1", "1.2.0.post2"),
        ("1.2.0.post1.dev0", "1.2.0.post1"),
        ("1!1.0", "1!1.0.post1"),
        ("1.2.0rc1.post1", "1.2.0rc1.post2"),
    ],
)
def test_next_post(current: str, expected: str) -> None:
    assert str(versions.next_post(V(current))) == expected


@pytest.mark.parametrize("current", ["1.2.0.dev0", "1.2.0rc1", "1.2.0rc1.dev0", "1.2.0a1"])
def test_next_post_of_an_unreleased_version_is_an_error(current: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.next_post(V(current))
    assert info.value.message == (
        f"{current} is not released yet, so it cannot have a post-release."
    )


@pytest.mark.parametrize(
    ("released", "expected"),
    [
        ("1.3.0", "1.3.1.dev0"),
        ("1.3", "1.3.1.dev0"),
        ("0.1.0", "0.1.1.dev0"),
        ("1.2.3.4", "1.2.4.dev0"),
        ("1.2.0.post1", "1.2.1.dev0"),
        ("1.2.0rc1", "1.2.0rc2.dev0"),
        ("1.2.0a1", "1.2.0a2.dev0"),
        ("1.2.0rc1.post1", "1.2.0rc2.dev0"),
        ("1!1.0.0", "1!1.0.1.dev0"),
    ],
)
def test_next_dev(released: str, expected: str) -> None:
    result = versions.next_dev(V(released))
    assert str(result) == expected
    assert result > V(released)


# --------------------------------------------------------------------------- explicit


@pytest.mark.parametrize(
    ("requested", "current", "released"),
    [
        ("2.0.0", "1.0.0", ["1.0.0", "0.9.0"]),
        ("1.0.0", None, []),
        ("1.2.0", "1.2.0rc1", ["1.2.0rc1", "1.1.0"]),
        ("1.2.0.post1", "1.2.0", ["1.2.0"]),
        ("1.0.1", "1.0.0", []),
    ],
)
def test_check_explicit_accepts_a_greater_version(
    requested: str, current: str | None, released: list[str]
) -> None:
    cur = None if current is None else V(current)
    versions.check_explicit(V(requested), cur, [V(r) for r in released])  # does not raise


@pytest.mark.parametrize(
    ("requested", "current", "released", "message"),
    [
        ("1.0.0", "1.0.0", [],
         "The requested version 1.0.0 is not greater than the current version 1.0.0."),
        ("0.9.0", "1.0.0", [],
         "The requested version 0.9.0 is not greater than the current version 1.0.0."),
        ("1.2.0rc1", "1.2.0", ["1.1.0"],
         "The requested version 1.2.0rc1 is not greater than the current version 1.2.0."),
        ("1.5.0", "1.0.0", ["1.4.0", "1.6.0", "1.5.0"],
         "The requested version 1.5.0 is not greater than the release 1.6.0, which is "
         "already tagged."),
        ("1.5.0", None, ["1.5.0"],
         "The requested version 1.5.0 is not greater than the release 1.5.0, which is "
         "already tagged."),
    ],
)
def test_check_explicit_rejects(
    requested: str, current: str | None, released: list[str], message: str
) -> None:
    cur = None if current is None else V(current)
    with pytest.raises(VersionError) as info:
        versions.check_explicit(V(requested), cur, [V(r) for r in released])
    assert info.value.message == message


# --------------------------------------------------------------------------- publishable


@pytest.mark.parametrize("text", ["1.0", "1.0.0rc1", "1.0.post1.dev0", "1!1.0"])
def test_publishable(text: str) -> None:
    assert versions.publishable_problem(V(text)) is None


@pytest.mark.parametrize(("text", "label"), [("1.0+abc", "abc"), ("1.2.0rc1+g1234.dirty",
                                                                  "g1234.dirty")])
def test_local_versions_are_not_publishable(text: str, label: str) -> None:
    problem = versions.publishable_problem(V(text))
    assert problem is not None
    assert problem.startswith(f"{text} has a local version label (+{label})")


# --------------------------------------------------------------------------- semver

SEMVER_PAIRS = [
    ("1.2.0", "1.2.0"),
    ("0.0.0", "0.0.0"),
    ("1.2.0a1", "1.2.0-alpha.1"),
    ("1.2.0b2", "1.2.0-beta.2"),
    ("1.2.0rc1", "1.2.0-rc.1"),
    ("1.2.0rc0", "1.2.0-rc.0"),
    ("1.2.0.dev3", "1.2.0-dev.3"),
    ("1.2.0rc1.dev0", "1.2.0-rc.1.dev.0"),
    ("10.20.30b4.dev5", "10.20.30-beta.4.dev.5"),
]


@pytest.mark.parametrize(("pep440", "sv"), SEMVER_PAIRS)
def test_semver_conversion(pep440: str, sv: str) -> None:
    assert versions.to_semver(V(pep440)) == sv
    assert str(versions.from_semver(sv)) == pep440
    assert versions.render(V(pep440), "semver") == sv
    assert str(versions.read(sv, "semver")) == pep440


@pytest.mark.parametrize(
    ("pep440", "sv"), [("1.2", "1.2.0"), ("1", "1.0.0"), ("1.2rc1", "1.2.0-rc.1")]
)
def test_to_semver_pads_the_release(pep440: str, sv: str) -> None:
    assert versions.to_semver(V(pep440)) == sv


@pytest.mark.parametrize("text", ["1!1.0.0", "1.0.0.post1", "1.0.0+abc", "1.2.3.4", "1.0rc1.post1"])
def test_to_semver_rejects_what_semver_cannot_say(text: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.to_semver(V(text))
    assert info.value.message.startswith(f"{V(text)} cannot be written as a semantic version")


@pytest.mark.parametrize("text", ["1.2", "v1.2.0", "1..0", "1.2.0-rc.01", "01.2.0", " 1.2.0", ""])
def test_from_semver_rejects_invalid_semver(text: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.from_semver(text, where="the tag")
    assert info.value.message == f"{text!r} in the tag is not a valid semantic version."


@pytest.mark.parametrize(
    "text",
    [
        "1.0.0-SNAPSHOT",
        "1.2.0-rc",
        "1.2.0-rc.x",
        "1.2.0-a.1",
        "1.2.0-rc.1+build.5",
        "1.2.0+build",
        "1.2.0-rc.1.dev",
        "1.2.0-rc.1.dev.0.x",
        "1.2.0-dev.0.rc.1",
        "1.2.0-rc.1.beta.2",
    ],
)
def test_from_semver_rejects_what_pep440_cannot_say(text: str) -> None:
    with pytest.raises(VersionError) as info:
        versions.from_semver(text)
    assert info.value.message == f"{text!r} has no PEP 440 equivalent."


@pytest.mark.parametrize(
    ("text", "expected"), [("1.2.0rc1", "1.2.0rc1"), ("1.2.0-rc.1", "1.2.0rc1")]
)
def test_read_pep440(text: str, expected: str) -> None:
    assert str(versions.read(text, "pep440")) == expected


def test_read_pep440_names_the_origin() -> None:
    with pytest.raises(VersionError) as info:
        versions.read("1.0.0-SNAPSHOT", "pep440", where="the tag v1.0.0-SNAPSHOT")
    assert "'1.0.0-SNAPSHOT' in the tag v1.0.0-SNAPSHOT" in info.value.message


# --------------------------------------------------------------------------- properties


#: Epoch 0, 1-3 release numbers, optional pre (a/b/rc), post and dev.
pep440_versions = built_versions(parts=(1, 3), top=12, small=4)
#: X.Y.Z[{a|b|rc}N][.devN]: what semver tags can express.
semver_subset = built_versions(parts=(3, 3), top=40, small=4, post=False)


levels = st.sampled_from([None, "major", "minor", "patch"])
pres = st.sampled_from([None, "alpha", "beta", "rc"])
_KIND = {"a": 0, "b": 1, "rc": 2}
_PRE_INDEX = {"alpha": 0, "beta": 1, "rc": 2}


def _expected_refusal(
    current: Version, level: Level | None, pre: Pre | None, final: bool
) -> bool:
    """The requests the rules forbid (see the next_version docstring)."""
    if pre is not None and final:
        return True
    cycle = current.pre is not None or (current.dev is not None and current.post is None)
    if not cycle:
        return level is None and (final or pre is None)
    bumped_index = None if level is None else ("major", "minor", "patch").index(level)
    stays = bumped_index is None or not any(current.release[bumped_index + 1 :])
    return (
        stays
        and pre is not None
        and current.pre is not None
        and _PRE_INDEX[pre] < _KIND[current.pre[0]]
    )


@WIDE
@given(current=pep440_versions, level=levels, pre=pres, final=st.booleans())
def test_next_version_is_greater_or_refused(
    current: Version, level: Level | None, pre: Pre | None, final: bool
) -> None:
    if _expected_refusal(current, level, pre, final):
        with pytest.raises(VersionError):
            versions.next_version(current, level, pre=pre, final=final)
        return
    result = versions.next_version(current, level, pre=pre, final=final)
    assert result > current
    assert result.post is None
    assert result.dev is None
    assert result.local is None
    if pre is None:
        assert result.pre is None
    else:
        assert result.pre is not None
        assert result.pre[0] == {"alpha": "a", "beta": "b", "rc": "rc"}[pre]


@FAST
@given(current=pep440_versions, level=st.sampled_from(["major", "minor", "patch"]))
def test_a_level_bump_reaches_the_bumped_release(current: Version, level: Level) -> None:
    """Whatever the cycle, a final bump lands on a release at least as big as the plain bump."""
    result = versions.next_version(current, level)
    padded = (*current.release, 0, 0)[:3]
    index = ("major", "minor", "patch").index(level)
    floor = (*padded[:index], padded[index] + (0 if versions.in_cycle(current) else 1))
    released = (*result.release, 0, 0)  # 1.3 is 1.3.0: the project's spelling is kept
    assert released[: index + 1] >= floor
    assert not any(released[index + 1 :])


@FAST
@given(current=pep440_versions)
def test_next_post_is_greater_or_refused(current: Version) -> None:
    if current.post is None and current.is_prerelease:  # not released yet
        with pytest.raises(VersionError):
            versions.next_post(current)
        return
    result = versions.next_post(current)
    assert result > current
    assert result.post is not None
    assert result.dev is None
    assert result.release == current.release


@FAST
@given(current=pep440_versions)
def test_next_dev_is_greater(current: Version) -> None:
    result = versions.next_dev(current)
    assert result > current
    assert result.dev == 0
    assert result.post is None


@FAST
@given(v=semver_subset)
def test_semver_round_trip(v: Version) -> None:
    text = versions.to_semver(v)
    semver.Version.parse(text)  # a real semantic version
    back = versions.from_semver(text)
    assert back == v
    assert str(back) == str(v)
    assert versions.to_semver(back) == text


@FAST
@given(
    core=st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
    pre=st.none() | st.tuples(st.sampled_from(["alpha", "beta", "rc"]), st.integers(0, 9)),
    dev=st.none() | st.integers(0, 9),
)
def test_from_semver_round_trip(
    core: tuple[int, int, int], pre: tuple[str, int] | None, dev: int | None
) -> None:
    ids = ([pre[0], str(pre[1])] if pre else []) + (["dev", str(dev)] if dev is not None else [])
    text = ".".join(map(str, core)) + (f"-{'.'.join(ids)}" if ids else "")
    assert versions.to_semver(versions.from_semver(text)) == text
