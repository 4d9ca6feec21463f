"""Release tags: rendering a version into tag-format, and recognising release tags."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from strategies import built_versions

from release import tags
from release.errors import VersionError
from release.memo import Memo
from release.version import Scheme

FORMATS = ["v{version}", "release-{version}", "{version}", "pkg/v{version}", "v{version}-final"]


def git_accepts(name: str) -> bool:
    done = subprocess.run(
        ["git", "check-ref-format", f"refs/tags/{name}"], capture_output=True, check=False
    )
    return done.returncode == 0


# --------------------------------------------------------------------------- render


@pytest.mark.parametrize(
    ("fmt", "version", "scheme", "expected"),
    [
        ("v{version}", "1.2.0", "pep440", "v1.2.0"),
        ("v{version}", "1.2.0rc1", "pep440", "v1.2.0rc1"),
        ("v{version}", "1.2.0rc1", "semver", "v1.2.0-rc.1"),
        ("v{version}", "1.2.0.dev0", "semver", "v1.2.0-dev.0"),
        ("v{version}", "1.2", "semver", "v1.2.0"),
        ("v{version}", "1.2.0.post1", "pep440", "v1.2.0.post1"),
        ("release-{version}", "2.0.0b3", "pep440", "release-2.0.0b3"),
        ("{version}", "0.1.0", "pep440", "0.1.0"),
        ("pkg/v{version}", "1.0.0", "semver", "pkg/v1.0.0"),
        ("v{version}-final", "1.0.0", "pep440", "v1.0.0-final"),
        ("v{version}", "1.0+abc", "pep440", "v1.0+abc"),
    ],
)
def test_render(fmt: str, version: str, scheme: Scheme, expected: str) -> None:
    name = tags.render(fmt, Version(version), scheme)
    assert name == expected
    assert git_accepts(name)


@pytest.mark.parametrize(
    ("fmt", "name", "fragment"),
    [
        ("v {version}", "v 1.2.0", "' '"),
        ("v{version};rm", "v1.2.0;rm", "';'"),
        ("$(x){version}", "$(x)1.2.0", "'$'"),
        ("`x`{version}", "`x`1.2.0", "'`'"),
        ("v{version}'", "v1.2.0'", '"\'"'),
        ('v{version}"', 'v1.2.0"', "'\"'"),
        ("v({version})", "v(1.2.0)", "'('"),
        ("-{version}", "-1.2.0", "starts with '-'"),
        ("v{version}~1", "v1.2.0~1", "'~'"),
        ("v{version}^", "v1.2.0^", "'^'"),
        ("v:{version}", "v:1.2.0", "':'"),
        ("v{version}?", "v1.2.0?", "'?'"),
        ("v{version}*", "v1.2.0*", "'*'"),
        ("v[{version}]", "v[1.2.0]", "'['"),
        ("v\\{version}", "v\\1.2.0", "'\\\\'"),
        ("v{version}.", "v1.2.0.", "'.'"),
        ("v{version}.lock", "v1.2.0.lock", "'.lock'"),
        ("v{version}.lock/x", "v1.2.0.lock/x", "'.lock'"),
        (".v{version}", ".v1.2.0", "'.'"),
        ("x/.v{version}", "x/.v1.2.0", "'/.'"),
        ("/v{version}", "/v1.2.0", "'/'"),
        ("v{version}/", "v1.2.0/", "'/'"),
        ("x//v{version}", "x//v1.2.0", "'//'"),
        ("v..{version}", "v..1.2.0", "'..'"),
        ("v@{{{version}", "v@{1.2.0", "'@{'"),
        ("v\t{version}", "v\t1.2.0", "control characters"),
        ("v\x7f{version}", "v\x7f1.2.0", "control characters"),
    ],
)
def test_render_rejects_unsafe_tag_names(fmt: str, name: str, fragment: str) -> None:
    with pytest.raises(VersionError) as info:
        tags.render(fmt, Version("1.2.0"), "pep440")
    assert info.value.message.startswith(f"tag-format {fmt!r} gives the tag name {name!r}, which")
    assert fragment in info.value.message


@pytest.mark.parametrize("fmt", ["{name}-{version}", "v{version", "{0}{version}", "{version.x}"])
def test_render_rejects_invalid_templates(fmt: str) -> None:
    with pytest.raises(VersionError) as info:
        tags.render(fmt, Version("1.2.0"), "pep440")
    assert info.value.message.startswith(f"tag-format {fmt!r} is not a valid template")


@pytest.mark.parametrize(
    "fmt", ["release", "v{version}-{version}", "v{version:.3}", "v{version[0]}{version}"]
)
def test_render_rejects_formats_that_would_not_read_back(fmt: str) -> None:
    with pytest.raises(VersionError) as info:
        tags.render(fmt, Version("1.2.0"), "pep440")
    assert "would not be recognised as the release 1.2.0" in info.value.message
    assert fmt in info.value.message


def test_render_rejects_epochs_because_of_the_bang() -> None:
    with pytest.raises(VersionError) as info:
        tags.render("v{version}", Version("1!1.0"), "pep440")
    assert info.value.message == (
        "tag-format 'v{version}' gives the tag name 'v1!1.0', which contains '!', "
        "which is not allowed in a tag name."
    )


def test_render_semver_rejects_versions_semver_cannot_say() -> None:
    with pytest.raises(VersionError) as info:
        tags.render("v{version}", Version("1.2.0.post1"), "semver")
    assert "1.2.0.post1 cannot be written as a semantic version" in info.value.message


# --------------------------------------------------------------------------- tag_name_problem


@pytest.mark.parametrize(
    "name", ["v1.2.0", "release/1.2.0", "v1.0+abc", "1.2.0-rc.1", "@", "a@b", "v1_2", "é1"]
)
def test_safe_tag_names(name: str) -> None:
    assert tags.tag_name_problem(name) is None
    assert git_accepts(name)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "is empty"),
        ("-v1", "starts with '-', which commands would read as an option"),
        ("v1\x00", "contains control characters"),
        ("v1\n", "contains control characters"),
        ("v 1", "contains ' ', which is not allowed in a tag name"),
        ("v1\u00a0", "contains '\\xa0', which is not allowed in a tag name"),
        ("v1&", "contains '&', which is not allowed in a tag name"),
        ("v1|x", "contains '|', which is not allowed in a tag name"),
        ("v1>x", "contains '>', which is not allowed in a tag name"),
        ("v1!", "contains '!', which is not allowed in a tag name"),
        ("v1#", "contains '#', which is not allowed in a tag name"),
        ("v1%", "contains '%', which is not allowed in a tag name"),
        ("v1{", "contains '{', which is not allowed in a tag name"),
        (".v1", "contains '.', which is not allowed in a tag name"),
        ("a.lock/b", "contains '.lock', which is not allowed in a tag name"),
        ("a/b.lock", "contains '.lock', which is not allowed in a tag name"),
    ],
)
def test_unsafe_tag_names(name: str, problem: str) -> None:
    assert tags.tag_name_problem(name) == problem


def test_lock_inside_a_component_is_fine() -> None:
    assert tags.tag_name_problem("v1.locked") is None
    assert git_accepts("v1.locked")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="av01.-/_+@{}:~^ \\;é", min_size=1, max_size=10))
def test_every_name_we_allow_git_allows(name: str) -> None:
    if tags.tag_name_problem(name) is None:
        assert git_accepts(name), name


# --------------------------------------------------------------------------- release_tags


def test_release_tags_keeps_matching_tags_sorted_by_version() -> None:
    found = tags.release_tags(
        [
            "v1.10.0",
            "v1.9.0",
            "v1.10.0rc1",
            "v2.0.0.dev0",
            "v1.9.0.post1",
            "docs-1.0",
            "v1.0.0-SNAPSHOT",
            "vnext",
            "v1.0+local",
            "vv1.0.0",
            "V1.0.0",
            "release-3.0.0",
            "1.5.0",
        ],
        "v{version}",
        "pep440",
    )
    assert [(t.name, t.version) for t in found] == [
        ("v1.9.0", Version("1.9.0")),
        ("v1.9.0.post1", Version("1.9.0.post1")),
        ("v1.10.0rc1", Version("1.10.0rc1")),
        ("v1.10.0", Version("1.10.0")),
        ("v2.0.0.dev0", Version("2.0.0.dev0")),
    ]


def test_release_tags_with_a_bare_format_ignores_prefixed_tags() -> None:
    found = tags.release_tags(
        ["1.2.0", "v1.3.0", "release-1.4.0", "1.1.0"],
        "{version}",
        "pep440",
    )
    assert [(t.name, str(t.version)) for t in found] == [("1.1.0", "1.1.0"), ("1.2.0", "1.2.0")]


def test_release_tags_semver_scheme() -> None:
    found = tags.release_tags(
        [
            "v1.2.0-rc.1",
            "v1.2.0",
            "v1.2.0rc2",  # PEP 440 syntax is not a semver tag
            "v1.2.0-SNAPSHOT",  # valid semver, no PEP 440 meaning
            "v1.2",
            "v1.1.0-beta.2",
            "v1.3.0+build.1",
        ],
        "v{version}",
        "semver",
    )
    assert [(t.name, str(t.version)) for t in found] == [
        ("v1.1.0-beta.2", "1.1.0b2"),
        ("v1.2.0-rc.1", "1.2.0rc1"),
        ("v1.2.0", "1.2.0"),
    ]


def test_release_tags_with_suffix_and_literal_braces_in_format() -> None:
    found = tags.release_tags(
        ["v1.0.0-final", "v1.0.0", "v2.0.0-final-x"],
        "v{version}-final",
        "pep440",
    )
    assert [t.name for t in found] == ["v1.0.0-final"]
    match = tags.pattern("{{x}}{version}").match("{x}1.0")
    assert match is not None
    assert match["version"] == "1.0"


def test_release_tags_of_nothing() -> None:
    found = tags.release_tags([], "v{version}", "pep440")
    assert len(found) == 0
    assert list(found) == []


# --------------------------------------------------------------------------- properties


pep440_versions = built_versions(parts=(1, 3), top=30, small=5)
semver_versions = built_versions(parts=(3, 3), top=30, small=5, post=False)


def _round_trip(fmt: str, v: Version, scheme: Scheme) -> None:
    name = tags.render(fmt, v, scheme)
    others = ["unrelated", "v", "release-", "nightly-" + name]
    found = tags.release_tags([*others, name], fmt, scheme)
    assert [(t.name, t.version) for t in found] == [(name, v)]
    assert str(found[0].version) == str(v)


@settings(max_examples=100, deadline=None)
@given(fmt=st.sampled_from(FORMATS), v=pep440_versions)
def test_render_then_release_tags_round_trips_pep440(fmt: str, v: Version) -> None:
    _round_trip(fmt, v, "pep440")


@settings(max_examples=100, deadline=None)
@given(fmt=st.sampled_from(FORMATS), v=semver_versions)
def test_render_then_release_tags_round_trips_semver(fmt: str, v: Version) -> None:
    _round_trip(fmt, v, "semver")


@settings(max_examples=50, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS),
    scheme=st.sampled_from(["pep440", "semver"]),
    vs=st.lists(semver_versions, max_size=8, unique_by=str),
    seed=st.randoms(use_true_random=False),
)
def test_release_tags_sorts_ascending(
    fmt: str, scheme: Scheme, vs: list[Version], seed: random.Random
) -> None:
    named = [tags.render(fmt, v, scheme) for v in vs]
    seed.shuffle(named)
    found = tags.release_tags(named, fmt, scheme)
    assert [t.version for t in found] == sorted(vs)
    assert {t.name for t in found} == set(named)


@given(st.lists(st.builds(
    lambda rel, pre, post, dev: Version(
        ".".join(map(str, rel))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
    ),
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 5)),
    st.none() | st.integers(0, 3),
    st.none() | st.integers(0, 3),
), min_size=2, max_size=12))
@settings(max_examples=300, deadline=None)
def test_version_key_orders_exactly_like_packaging(vs: list[Version]) -> None:
    """The fast sort key of release tags agrees with packaging's order on every pair."""
    for a in vs:
        for b in vs:
            assert (tags.version_key(a) < tags.version_key(b)) == (a < b), (a, b)
            assert (tags.version_key(a) == tags.version_key(b)) == (a == b), (a, b)


def test_plain_and_parsed_tags_sort_together() -> None:
    found = tags.release_tags(
        ["v1.10.0", "v1.2.0", "v1.10.0rc1", "v1.2",
         "v1.10.0.post1", "v2.0.0.dev0"],
        "v{version}", "pep440",
    )
    assert [t.name for t in found][:2] in (["v1.2.0", "v1.2"], ["v1.2", "v1.2.0"])
    assert [t.name for t in found][2:] == ["v1.10.0rc1", "v1.10.0", "v1.10.0.post1",
                                           "v2.0.0.dev0"]
    assert found[-1].version == Version("2.0.0.dev0")


def test_release_tags_behave_as_a_sequence_made_on_demand() -> None:
    found = tags.release_tags(["v1.0.0", "v0.9.0", "v2.0.0rc1", "other"], "v{version}", "pep440")
    assert len(found) == 3
    assert [t.name for t in found] == ["v0.9.0", "v1.0.0", "v2.0.0rc1"]
    assert found[-1] is found[2]  # made once, then the same object
    assert found[-1].version == Version("2.0.0rc1")
    assert [t.name for t in found[:2]] == ["v0.9.0", "v1.0.0"]
    with pytest.raises(IndexError):
        found[3]
    with pytest.raises(IndexError):
        found[-4]


def test_release_tags_remembered_give_the_same_order_and_keys(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    names = ["v1.10.0", "v1.9.0", "v1.10.0rc1", "v2.0.0.dev0", "v1.9.0.post1", "docs-1.0"]
    computed = tags.release_tags(names, "v{version}", "pep440", memo)
    remembered = tags.release_tags(names, "v{version}", "pep440", memo)
    assert list((tmp_path / "release-tags").glob("*.json"))
    assert [t.name for t in remembered] == [t.name for t in computed]
    assert [t.key for t in remembered] == [t.key for t in computed]
    assert remembered[-1].version == Version("2.0.0.dev0")
    newer = tags.release_tags([*names, "v2.0.0"], "v{version}", "pep440", memo)
    assert newer[-1].name == "v2.0.0"
    assert len(tags.release_tags(names, "{version}", "pep440", memo)) == 0  # format in the key


@pytest.mark.parametrize(
    "name",
    [
        "v1.2.0", "pkg-a-v1.0.0", "pkg/a/1.0", "a.b", "1.0.0+local", "v1.0.0-rc.1", "",
        "@", "a@b", "a@{b", "..a", "a..b", "a/.b", ".a", "a.", "a/", "/a", "a//b",
        "a.lock", "a.lock/b", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b",
        "a\x01b", "a\x7fb", "a/b.lock", "-a", "a-", "@a", "a.lock.b",
    ],
)
def test_reference_name_rules_agree_with_git(name: str) -> None:
    done = subprocess.run(
        ["git", "check-ref-format", f"refs/tags/{name}"], capture_output=True, check=False
    )
    assert (tags.ref_format_problem(name) is None) == (done.returncode == 0), name
