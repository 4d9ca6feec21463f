"""The plan as a pure function of facts built in memory (tests/factsmaker.py): no disk, no git."""

from __future__ import annotations

from typing import Any

import pytest
from factsmaker import INIT, init_text, make_facts, pyproject_text
from packaging.version import Version

from release import changelog, config, plan, render
from release.errors import ConfigError, NothingToRelease, ReleaseError, VersionError
from release.plan import Request

TYPES = [
    {"directory": "enhancement", "name": "Enhancements", "showcontent": True},
    {"directory": "breaking-change", "name": "Breaking", "showcontent": True},
    {"directory": "chore", "name": "Chores", "showcontent": True},
    {"directory": "tweak", "name": "Tweaks", "showcontent": True},
    {"directory": "feature", "name": "Features", "showcontent": True},
]
CUSTOM = {"directory": "changelog.d", "filename": "CHANGELOG.md", "type": TYPES}


NO_REQUEST = Request()  # let the fragments decide


def build(request: Request = NO_REQUEST, **facts: Any) -> plan.Plan:
    return plan.build(make_facts(**facts), request)


# --- the next version -------------------------------------------------------------------

NEXT_VERSION = [
    # (id, facts, request, version, bump, decided_by)
    ("feature", {"fragments": {"12.feature.md": "A."}}, Request(), "1.3.0", "minor", "fragments"),
    ("bugfix", {"fragments": {"12.bugfix.md": "A."}}, Request(), "1.2.1", "patch", "fragments"),
    (
        "highest-wins",
        {"fragments": {"1.bugfix.md": "A.", "2.removal.md": "B.", "3.feature.md": "C."}},
        Request(), "2.0.0", "major", "fragments",
    ),
    (
        "doc-beside-a-fix",
        {"fragments": {"1.doc.md": "A.", "2.bugfix.md": "B."}},
        Request(), "1.2.1", "patch", "fragments",
    ),
    (
        "fragment-bumps-overrides",
        {"fragments": {"12.feature.md": "A."}, "release": {"fragment-bumps": {"feature": "patch"}}},
        Request(), "1.2.1", "patch", "fragments",
    ),
    (
        "doc-made-a-patch",
        {"fragments": {"12.doc.md": "A."}, "release": {"fragment-bumps": {"doc": "patch"}}},
        Request(), "1.2.1", "patch", "fragments",
    ),
    ("name-rule-minor", {"towncrier": CUSTOM, "fragments": {"1.enhancement.md": "A."}},
     Request(), "1.3.0", "minor", "fragments"),
    ("name-rule-major", {"towncrier": CUSTOM, "fragments": {"1.breaking-change.md": "A."}},
     Request(), "2.0.0", "major", "fragments"),
    ("name-rule-patch", {"towncrier": CUSTOM, "fragments": {"1.tweak.md": "A."}},
     Request(), "1.2.1", "patch", "fragments"),
    ("explicit", {}, Request("3.0.0"), "3.0.0", None, "request"),
    ("explicit-pre", {}, Request("1.3.0rc1"), "1.3.0rc1", None, "request"),
    ("level", {}, Request("minor"), "1.3.0", "minor", "request"),
    ("level-over-fragments", {"fragments": {"1.removal.md": "A."}}, Request("patch"),
     "1.2.1", "patch", "request"),
    ("level-pre", {}, Request("major", pre="rc"), "2.0.0rc1", "major", "request"),
    ("fragments-pre", {"fragments": {"1.feature.md": "A."}}, Request(pre="beta"),
     "1.3.0b1", "minor", "fragments"),
    ("pre-next", {"version": "1.3.0rc1", "fragments": {"1.bugfix.md": "A."}},
     Request(pre="rc"), "1.3.0rc2", "patch", "fragments"),
    ("pre-alpha-to-beta", {"version": "1.3.0a2"}, Request(pre="beta"), "1.3.0b1", None,
     "fragments"),
    ("pre-finished", {"version": "1.3.0rc2"}, Request(), "1.3.0", None, "fragments"),
    ("pre-final", {"version": "1.3.0rc2", "fragments": {"1.bugfix.md": "A."}},
     Request(final=True), "1.3.0", "patch", "fragments"),
    ("post", {}, Request("post"), "1.2.0.post1", "post", "request"),
    ("post-again", {"version": "1.2.0.post1", "tags": ("v1.2.0", "v1.2.0.post1")},
     Request("post"), "1.2.0.post2", "post", "request"),
    ("zero-breaking-is-minor", {"version": "0.4.1", "tags": ("v0.4.1",),
                                "fragments": {"1.removal.md": "A."}},
     Request(), "0.5.0", "minor", "fragments"),
    ("zero-major-on-zero", {"version": "0.4.1", "tags": ("v0.4.1",),
                            "fragments": {"1.removal.md": "A."},
                            "release": {"major-on-zero": True}},
     Request(), "1.0.0", "major", "fragments"),
    ("zero-feature", {"version": "0.4.1", "tags": ("v0.4.1",), "fragments": {"1.feature.md": "A."}},
     Request(), "0.5.0", "minor", "fragments"),
    (
        "commits",
        {"release": {"version-source": "commits"}, "towncrier": None,
         "commits": [("c" * 40, "fix: a bug"), ("d" * 40, "feat: a thing")]},
        Request(), "1.3.0", "minor", "commits",
    ),
    (
        "commits-breaking",
        {"release": {"version-source": "commits"}, "towncrier": None,
         "commits": [("c" * 40, "feat!: drop the old API")]},
        Request(), "2.0.0", "major", "commits",
    ),
]


@pytest.mark.parametrize(
    ("facts", "request_", "version", "bump", "decided_by"),
    [pytest.param(*row[1:], id=row[0]) for row in NEXT_VERSION],
)
def test_next_version(
    facts: dict[str, Any], request_: Request, version: str, bump: str | None, decided_by: str
) -> None:
    made = build(request_, **facts)
    assert (str(made.version), made.level, made.decided_by) == (version, bump, decided_by)


REASONS = [
    ("fragment-bumps", {"fragments": {"12.feature.md": "A.", "13.bugfix.md": "B."}},
     ("changelog.d/12.feature.md (feature): minor",)),
    ("name-rule", {"towncrier": CUSTOM, "fragments": {"1.enhancement.md": "A."}},
     ("changelog.d/1.enhancement.md (enhancement, by its name): minor",)),
    ("zero", {"version": "0.4.1", "tags": ("v0.4.1",), "fragments": {"1.removal.md": "A."}},
     ("changelog.d/1.removal.md (removal): major",
      "0.x: a breaking change bumps the minor (major-on-zero = false)")),
    ("finishing", {"version": "1.3.0rc2"}, ("finishing the pre-release cycle",)),
]


@pytest.mark.parametrize(
    ("facts", "reasons"), [pytest.param(*row[1:], id=row[0]) for row in REASONS]
)
def test_reasons_say_why(facts: dict[str, Any], reasons: tuple[str, ...]) -> None:
    assert build(**facts).reasons == reasons


NOTHING = [
    ("no-fragments", {}, "no changelog fragment calls for a version bump"),
    ("only-doc-and-misc", {"fragments": {"1.doc.md": "A.", "2.misc.md": ""}},
     "no changelog fragment calls for a version bump"),
    ("name-rule-none", {"towncrier": CUSTOM, "fragments": {"1.chore.md": "A."}},
     "no changelog fragment calls for a version bump"),
    ("doc-made-none", {"fragments": {"1.bugfix.md": "A."},
                       "release": {"fragment-bumps": {"bugfix": "none"}}},
     "no changelog fragment calls for a version bump"),
    ("no-commits", {"release": {"version-source": "commits"}, "towncrier": None,
                    "commits": [("c" * 40, "docs: typo"), ("d" * 40, "chore: bump")]},
     "no conventional commit since the last release calls for a release"),
]


@pytest.mark.parametrize(("facts", "said"), [pytest.param(*row[1:], id=row[0]) for row in NOTHING])
def test_nothing_to_release(facts: dict[str, Any], said: str) -> None:
    with pytest.raises(NothingToRelease) as caught:
        build(**facts)
    assert caught.value.message == f"Nothing to release: {said} (current version 1.2.0)."
    assert caught.value.exit_code == NothingToRelease.exit_code


REFUSED = [
    # (id, facts, request, error type, words in the message)
    ("explicit-not-above-current", {}, Request("1.2.0"), VersionError, "not greater than"),
    ("explicit-below-current", {}, Request("1.1.0"), VersionError, "1.1.0"),
    ("explicit-and-pre", {}, Request("2.0.0", pre="rc"), VersionError, "cannot be combined"),
    ("post-and-pre", {}, Request("post", pre="rc"), VersionError, "post cannot be combined"),
    ("post-of-a-pre", {"version": "1.3.0rc1"}, Request("post"), VersionError, "not released yet"),
    ("pre-backwards", {"version": "1.3.0rc1"}, Request(pre="alpha"), VersionError,
     "back to an alpha"),
    ("local-label", {}, Request("1.3.0+local"), VersionError, "local"),
]


@pytest.mark.parametrize(
    ("facts", "request_", "error", "words"), [pytest.param(*row[1:], id=row[0]) for row in REFUSED]
)
def test_requests_that_cannot_be_planned(
    facts: dict[str, Any], request_: Request, error: type[ReleaseError], words: str
) -> None:
    with pytest.raises(error) as caught:
        build(request_, **facts)
    assert words in caught.value.message


def test_disagreeing_locations_name_each_value() -> None:
    files = {"pyproject.toml": pyproject_text("1.2.0"), INIT: init_text("1.1.0")}
    with pytest.raises(VersionError) as caught:
        build(Request("minor"), files=files)
    assert caught.value.message == (
        "The version locations disagree: pyproject.toml [project.version] = 1.2.0; "
        f"{INIT} (__version__ = ...) = 1.1.0."
    )


def test_disagreeing_locations_both_below_the_last_release_say_so() -> None:
    files = {"pyproject.toml": pyproject_text("1.0.0"), INIT: init_text("1.1.0")}
    with pytest.raises(VersionError) as caught:
        build(Request("minor"), files=files)
    assert "and the last release tag v1.2.0 is above all of them" in caught.value.message
    assert "1.2.0 (the last release) or later" in caught.value.hint


def test_version_sources_list_every_location() -> None:
    made = build(Request("patch"))
    assert [(s.location, s.value) for s in made.sources] == [
        ("pyproject.toml [project.version]", "1.2.0"),
        (f"{INIT} (__version__ = ...)", "1.2.0"),
    ]


# --- tags -------------------------------------------------------------------------------

TAGS = [
    # (id, facts, previous tag, tag)
    ("the-release", {}, "v1.2.0", "v1.3.0"),
    ("first-release", {"tags": ()}, None, "v1.3.0"),
    ("highest-reachable", {"tags": ("v1.0.0", "v1.1.0", "v1.2.0")}, "v1.2.0", "v1.3.0"),
    (
        "a-release-on-another-branch-is-not-previous",
        {"tags": ("v1.2.0", "v2.0.0"), "reachable": ("v1.2.0",)},
        "v1.2.0",
        "v1.3.0",
    ),
    ("other-tags-ignored", {"tags": ("v1.2.0", "nightly", "docs-v9")}, "v1.2.0", "v1.3.0"),
    ("tag-format", {"release": {"tag-format": "release-{version}"},
                    "tags": ("release-1.2.0", "v9.0.0")}, "release-1.2.0", "release-1.3.0"),
]


@pytest.mark.parametrize(
    ("facts", "previous", "tag"), [pytest.param(*row[1:], id=row[0]) for row in TAGS]
)
def test_tags(facts: dict[str, Any], previous: str | None, tag: str) -> None:
    made = build(Request("minor"), **facts)
    assert (made.previous_tag, made.tag) == (previous, tag)


def test_semver_tags_write_pre_releases_the_semver_way() -> None:
    made = build(Request("minor", pre="rc"), release={"tag-scheme": "semver"})
    assert (str(made.version), made.tag) == ("1.3.0rc1", "v1.3.0-rc.1")


def test_messages_are_filled_in() -> None:
    made = build(
        Request("minor"),
        release={
            "tag-message": "{tag}: {previous} to {version}",
            "commit-message": "Bump {version}",
        },
    )
    assert (made.tag_message, made.commit_message) == ("v1.3.0: 1.2.0 to 1.3.0", "Bump 1.3.0")


def test_latest_release_is_the_highest_tag_on_any_branch() -> None:
    made = build(Request("patch"), tags=("v1.2.0", "v2.0.0"), reachable=("v1.2.0",))
    assert str(made.latest_release) == "2.0.0"


# --- edits ------------------------------------------------------------------------------


def test_edits_are_diffs_of_each_location_and_the_changelog() -> None:
    made = build(fragments={"12.feature.md": "Add a thing."})
    assert [e.path for e in made.edits] == ["pyproject.toml", INIT, "CHANGELOG.md"]
    assert made.edit_for(INIT).diff() == (
        f"--- a/{INIT}\n+++ b/{INIT}\n@@ -1,3 +1,3 @@\n"
        ' """A sample project."""\n \n-__version__ = "1.2.0"\n+__version__ = "1.3.0"\n'
    )
    assert made.edit_for("pyproject.toml").after == pyproject_text("1.3.0")
    news = made.edit_for("CHANGELOG.md").after
    start, new, old = "<!-- towncrier release notes start -->", "## 1.3.0 (2026", "## 1.2.0 (2026"
    assert news.index(start) < news.index(new) < news.index(old)


def test_the_changelog_section_is_towncriers() -> None:
    made = build(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."})
    assert made.changelog == (
        "## 1.3.0 (2026-01-02)\n\n### Features\n\n"
        "- Add a thing. ([#12](https://example.invalid/issues/12))\n\n"
        "### Bugfixes\n\n- Fix a bug. ([#13](https://example.invalid/issues/13))\n\n\n"
    )
    assert made.changelog_file == "CHANGELOG.md"
    assert made.consumed_fragments == ("changelog.d/12.feature.md", "changelog.d/13.bugfix.md")


def test_a_new_news_file_is_created() -> None:
    made = build(fragments={"12.feature.md": "Add a thing."}, news_text=None)
    edit = made.edit_for("CHANGELOG.md")
    assert edit.before is None
    assert edit.diff().startswith("--- /dev/null\n+++ b/CHANGELOG.md\n")


def test_a_section_already_in_the_news_file_is_refused() -> None:
    news = "<!-- towncrier release notes start -->\n\n## 1.3.0 (2026-01-02)\n\n- Old.\n"
    with pytest.raises(ReleaseError) as caught:
        build(fragments={"12.feature.md": "A."}, news_text=news)
    assert "already has a section titled '## 1.3.0 (2026-01-02)'" in caught.value.message


def test_without_towncrier_there_is_no_changelog_edit() -> None:
    made = build(Request("patch"), towncrier=None)
    assert (made.changelog, made.changelog_file) == ("", None)
    assert [e.path for e in made.edits] == ["pyproject.toml", INIT]
    assert "prepare.changelog" not in [s.id for s in made.steps]


def test_the_plan_renders_through_the_facts_renderer() -> None:
    """The renderer comes with the facts (the cache lives at that edge): the plan calls it."""
    asked: list[tuple[str, str]] = []

    def render(tc: Any, contents: Any, version: str, date: str) -> str:
        asked.append((version, date))
        return f"## {version}\n\n- rendered\n"

    facts = make_facts(fragments={"12.feature.md": "A."})._replace(render_changelog=render)
    made = plan.build(facts, Request())
    assert asked == [("1.3.0", "2026-01-02")]
    assert made.changelog == "## 1.3.0\n\n- rendered\n"


# --- steps ------------------------------------------------------------------------------

SAMPLE_STEPS = [
    "check.preflight",
    "prepare.edit-version:pyproject.toml",
    f"prepare.edit-version:{INIT}",
    "prepare.changelog",
    "prepare.commit",
    "tag.tag",
    "build.build",
    "verify.verify",
    "push.push",
]


def test_steps_in_stage_order() -> None:
    assert [s.id for s in build(fragments={"1.feature.md": "A."}).steps] == SAMPLE_STEPS


def test_commands_are_the_ones_run() -> None:
    made = build(fragments={"12.feature.md": "A."})
    commands = {s.id: s.command for s in made.steps}
    touched = ("pyproject.toml", INIT, "CHANGELOG.md", "changelog.d/12.feature.md")
    assert commands["prepare.changelog"] == (
        "git", "add", "--all", "--", "CHANGELOG.md", "changelog.d/12.feature.md"
    )
    assert commands["prepare.commit"] == (
        "git", "commit", "--quiet", "-m", "Release 1.3.0", "--", *touched
    )
    assert commands["tag.tag"] == (
        "git", "tag", "--annotate", "-m", "Release 1.3.0", "--", "v1.3.0", "<release commit>"
    )
    assert commands["push.push"] == (
        "git", "push", "--atomic", "--porcelain", "--", "origin",
        "<release commit>:refs/heads/main", "refs/tags/v1.3.0:refs/tags/v1.3.0",
    )


@pytest.mark.parametrize(("hooks", "no_verify"), [(True, False), (False, True)])
def test_commit_hooks(hooks: bool, no_verify: bool) -> None:
    made = build(Request("patch"), release={"commit-hooks": hooks})
    commit = next(s for s in made.steps if s.id == "prepare.commit")
    assert made.commit_hooks is hooks
    assert made.to_json()["commit_hooks"] is hooks
    assert ("--no-verify" in commit.command) is no_verify


@pytest.mark.parametrize(
    ("sign", "summary"),
    [("none", "annotated"), ("gpg", "gpg-signed"), ("ssh", "ssh-signed")],
)
def test_tag_step_says_how_it_signs(sign: str, summary: str) -> None:
    made = build(Request("patch"), release={"sign": sign})
    tag = next(s for s in made.steps if s.id == "tag.tag")
    assert tag.summary == f"create the {summary} tag v1.2.1 on the release commit"


def test_a_detached_head_pushes_head() -> None:
    made = build(Request("patch"), branch=None)
    push = next(s for s in made.steps if s.id == "push.push")
    assert push.summary == "push HEAD and v1.2.1 to origin atomically"


def test_publish_and_announce_steps_follow_the_configuration() -> None:
    made = build(
        Request("patch"),
        release={
            "publish": [
                {"name": "test", "repository-url": "https://test.example/legacy/",
                 "index-url": "https://test.example/simple/", "verify-install": True},
                {"name": "pypi", "repository-url": "https://upload.pypi.org/legacy/"},
            ],
            "forge": {"kind": "github", "repository": "org/sample"},
        },
    )
    ids = [s.id for s in made.steps]
    assert ids[ids.index("push.push") + 1 :] == [
        "publish.upload:test",
        "publish.verify-install:test",
        "publish.upload:pypi",
        "announce.draft",
        "announce.attach",
        "announce.publish",
    ]


FORGE = {"kind": "github", "repository": "org/sample"}


@pytest.mark.parametrize(
    ("forge", "ids"),
    [
        ({"draft": True}, ["announce.draft", "announce.attach"]),
        ({"attach-artifacts": False}, ["announce.draft", "announce.publish"]),
        ({"draft": True, "attach-artifacts": False}, ["announce.draft"]),
    ],
)
def test_the_announce_steps_follow_the_forge_table(forge: dict[str, Any], ids: list[str]) -> None:
    made = build(Request("patch"), release={"forge": {**FORGE, **forge}})
    assert [s.id for s in made.steps if s.stage == "announce"] == ids


# (the versions of the release tags, the request) -> whether the forge marks it latest
LATEST = [
    ((), Request("patch"), True),  # the first release
    (("1.2.0",), Request("patch"), True),
    (("1.2.0", "2.0.0"), Request("patch"), False),  # a maintenance release below 2.0.0
    (("1.2.0", "2.0.0rc1"), Request("patch"), True),  # pre-releases are never "latest"
    (("1.2.0",), Request("minor", pre="rc"), False),  # a pre-release is never marked
]


@pytest.mark.parametrize(("tags", "request_", "latest"), LATEST)
def test_only_a_final_release_at_the_top_is_marked_latest(
    tags: tuple[str, ...], request_: Request, latest: bool
) -> None:
    made = build(
        request_, tags=[f"v{t}" for t in tags], reachable=("v1.2.0",), release={"forge": FORGE}
    )
    assert made.marks_latest is latest
    publish = next(s for s in made.steps if s.id == "announce.publish")
    assert ("(marked latest)" if latest else "(not marked latest)") in publish.summary
    assert made.to_json()["marks_latest"] is latest


# --- the next development version -------------------------------------------------------

NEXT_DEV = [
    ("final", Request("minor"), "1.3.1.dev0"),
    ("pre", Request("minor", pre="rc"), "1.3.0rc2.dev0"),
]


@pytest.mark.parametrize(
    ("request_", "dev"), [pytest.param(*row[1:], id=row[0]) for row in NEXT_DEV]
)
def test_next_dev(request_: Request, dev: str) -> None:
    made = build(request_, release={"next-dev": True})
    assert str(made.next_dev) == dev
    assert made.dev_commit_message == f"Start {dev} development"
    assert [e.path for e in made.dev_edits] == ["pyproject.toml", INIT]
    assert made.edit_for(INIT, dev=True).before == made.edit_for(INIT).after
    assert made.edit_for(INIT, dev=True).after == init_text(dev)
    post = [s.id for s in made.steps if s.stage == "post"]
    assert post == [
        "post.edit-version:pyproject.toml", f"post.edit-version:{INIT}", "post.commit", "post.push"
    ]


def test_no_next_dev_by_default_or_with_the_version_in_tags() -> None:
    assert build(Request("minor")).next_dev is None
    made = build(Request("minor"), release={"next-dev": True, "version-locations": ["scm"]})
    assert made.next_dev is None
    assert not [s for s in made.steps if s.stage == "post"]


def test_version_in_tags_is_read_from_the_nearest_release() -> None:
    made = build(Request("minor"), release={"version-locations": ["scm"]},
                 tags=("v1.2.0", "v1.1.0"))
    assert (str(made.current), str(made.version), made.previous_tag) == ("1.2.0", "1.3.0", "v1.2.0")
    assert [e.path for e in made.edits] == ["CHANGELOG.md"]  # no file holds the version


def test_the_plan_round_trips_through_the_journal() -> None:
    made = build(fragments={"12.feature.md": "A."}, release={"next-dev": True})
    assert plan.Plan.from_journal(made.to_journal()) == made


@pytest.mark.parametrize(
    ("forge", "said"),
    [
        (FORGE, "(not marked latest)"),
        ({"kind": "gitea", "repository": "o/n", "url": "https://codeberg.org"},
         "(below an earlier release, yet Gitea shows its newest release as latest)"),
        ({"kind": "gitlab", "repository": "g/n"},
         "(below an earlier release, yet GitLab shows its newest release as latest)"),
    ],
)
def test_a_maintenance_release_says_what_each_forge_does_with_latest(
    forge: dict[str, Any], said: str
) -> None:
    made = build(Request("patch"), tags=["v1.2.0", "v2.0.0"], reachable=("v1.2.0",),
                 release={"forge": forge})
    assert made.marks_latest is False
    publish = next(s for s in made.steps if s.id == "announce.publish")
    assert publish.summary.endswith(said)


# --- release lines: a branch's series and channel (`branches` tables) ---------------------

LINES = {
    "branches": [
        "main",
        {"pattern": "release/*.x", "series": "from-branch"},
        {"pattern": "maint", "series": "1.2"},
        {"pattern": "next", "channel": "rc"},
        {"pattern": "beta", "channel": "b"},
    ]
}
# release/1.4.x beside main at 2.0.0: HEAD holds the 1.4 releases only.
MAINTENANCE = {
    "version": "1.4.0", "release": LINES, "branch": "release/1.4.x",
    "tags": ("v1.2.0", "v1.4.0", "v2.0.0"), "reachable": ("v1.2.0", "v1.4.0"),
}

SERIES = [
    # (id, facts, request, version, previous tag)
    ("patch-in-series", {**MAINTENANCE, "fragments": {"1.bugfix.md": "A."}}, Request(),
     "1.4.1", "v1.4.0"),
    ("series-top-not-global-top", {**MAINTENANCE, "version": "1.4.1",
                                   "tags": ("v1.4.0", "v1.4.1", "v2.0.0"),
                                   "reachable": ("v1.4.0", "v1.4.1"),
                                   "fragments": {"1.bugfix.md": "A."}},
     Request(), "1.4.2", "v1.4.1"),
    # A tag of another series that HEAD contains (1.5.0 merged in) is not this line's base.
    ("reachable-tag-outside-series", {**MAINTENANCE, "reachable": ("v1.4.0", "v1.5.0"),
                                      "tags": ("v1.4.0", "v1.5.0", "v2.0.0"),
                                      "fragments": {"1.bugfix.md": "A."}},
     Request(), "1.4.1", "v1.4.0"),
    ("explicit-series", {**MAINTENANCE, "branch": "maint", "version": "1.2.0",
                         "fragments": {"1.bugfix.md": "A."}}, Request(), "1.2.1", "v1.2.0"),
    ("one-number-series-takes-minor", {**MAINTENANCE, "branch": "release/1.x",
                                       "fragments": {"1.feature.md": "A."}},
     Request(), "1.5.0", "v1.4.0"),
    ("post-in-series", MAINTENANCE, Request("post"), "1.4.0.post1", "v1.4.0"),
    ("no-series-on-main", {"release": LINES, "tags": ("v1.2.0", "v2.0.0"),
                           "reachable": ("v1.2.0",), "fragments": {"1.bugfix.md": "A."}},
     Request(), "1.2.1", "v1.2.0"),
    ("scm-in-series", {**MAINTENANCE, "release": {**LINES, "version-locations": ["scm"]},
                       "fragments": {"1.bugfix.md": "A."}}, Request(), "1.4.1", "v1.4.0"),
]


@pytest.mark.parametrize(
    ("facts", "request_", "version", "previous"),
    [pytest.param(*row[1:], id=row[0]) for row in SERIES],
)
def test_a_series_branch_counts_from_its_series(
    facts: dict[str, Any], request_: Request, version: str, previous: str
) -> None:
    made = build(request_, **facts)
    assert (str(made.version), made.previous_tag) == (version, previous)


def test_a_series_line_is_in_the_plan_and_says_why_its_previous_tag() -> None:
    made = build(**MAINTENANCE, fragments={"1.bugfix.md": "A."})
    assert made.line == config.Line("release/*.x", "1.4")
    assert made.previous_tag_why == (
        "the highest release tag reachable from HEAD in the series 1.4 "
        "(the highest of all, v2.0.0, is outside it)"
    )
    shown = made.to_json()
    assert shown["line"] == {"pattern": "release/*.x", "series": "1.4", "channel": None}
    assert shown["previous_tag_why"] == made.previous_tag_why
    assert shown["schema_version"] == 2
    assert plan.Plan.from_journal(made.to_journal()) == made
    text = render.plan_text(made)
    assert "Line: release/1.4.x matches release/*.x: series 1.4, final releases\n" in text
    assert "Tag: v1.4.1 (previous release: v1.4.0)\n  the highest release tag" in text


def test_a_plain_line_shows_no_line_in_the_text() -> None:
    made = build(fragments={"1.bugfix.md": "A."})
    assert made.line == config.Line("main")
    assert made.to_json()["line"] == {"pattern": "main", "series": None, "channel": None}
    assert made.previous_tag_why == "the highest release tag reachable from HEAD"
    assert "Line:" not in render.plan_text(made)


def test_a_maintenance_release_beside_a_higher_one_is_not_latest() -> None:
    facts = {**MAINTENANCE, "release": {**LINES, "forge": FORGE}}
    made = build(**facts, fragments={"1.bugfix.md": "A."})
    assert (str(made.version), made.latest_release, made.marks_latest) == (
        "1.4.1", Version("2.0.0"), False
    )


def test_a_branch_name_without_a_series_is_an_error_naming_the_entry() -> None:
    with pytest.raises(ConfigError) as caught:
        build(**{**MAINTENANCE, "branch": "release/foo.x"})
    assert caught.value.exit_code == 2
    message = str(caught.value)
    for named in ('{ pattern = "release/*.x", series = "from-branch" }', '"release/foo.x"',
                  'series = "1.4"'):
        assert named in message


CHANNEL = [
    # (id, facts, request, version)
    ("first-rc", {"release": LINES, "branch": "next", "fragments": {"1.feature.md": "A."}},
     Request(), "1.3.0rc1"),
    ("next-rc", {"release": LINES, "branch": "next", "version": "1.3.0rc1",
                 "tags": ("v1.2.0", "v1.3.0rc1"), "fragments": {"1.bugfix.md": "A."}},
     Request(), "1.3.0rc2"),
    ("next-rc-after-dev", {"release": LINES, "branch": "next", "version": "1.3.0rc2.dev0",
                           "tags": ("v1.2.0", "v1.3.0rc1"), "fragments": {"1.bugfix.md": "A."}},
     Request(), "1.3.0rc2"),
    ("a-major-fragment-starts-a-new-cycle", {"release": LINES, "branch": "next",
                                             "version": "1.3.0rc1", "tags": ("v1.3.0rc1",),
                                             "fragments": {"1.removal.md": "A."}},
     Request(), "2.0.0rc1"),
    ("beta-channel", {"release": LINES, "branch": "beta", "fragments": {"1.feature.md": "A."}},
     Request(), "1.3.0b1"),
    ("level-on-a-channel", {"release": LINES, "branch": "next"}, Request("major"), "2.0.0rc1"),
    ("pre-overrides-the-channel", {"release": LINES, "branch": "next",
                                   "fragments": {"1.feature.md": "A."}},
     Request(pre="alpha"), "1.3.0a1"),
    ("final-promotes", {"release": LINES, "branch": "next", "version": "1.3.0rc2",
                        "tags": ("v1.2.0", "v1.3.0rc1", "v1.3.0rc2")},
     Request(final=True), "1.3.0"),
    ("explicit-version-ignores-the-channel", {"release": LINES, "branch": "next"},
     Request("1.5.0"), "1.5.0"),
    ("channel-less-branch-finishes-the-cycle", {"release": LINES, "version": "1.3.0rc2",
                                                "tags": ("v1.2.0", "v1.3.0rc2")},
     Request(), "1.3.0"),
]


@pytest.mark.parametrize(
    ("facts", "request_", "version"), [pytest.param(*row[1:], id=row[0]) for row in CHANNEL]
)
def test_a_channel_branch_makes_its_pre_releases(
    facts: dict[str, Any], request_: Request, version: str
) -> None:
    assert str(build(request_, **facts).version) == version


def test_the_channel_is_a_reason_of_the_version() -> None:
    made = build(release=LINES, branch="next", fragments={"1.feature.md": "A."})
    assert made.reasons == (
        "changelog.d/1.feature.md (feature): minor",
        'the branch next makes rc pre-releases (`branches`: next, channel = "rc"); --final '
        "makes the final release",
    )
    assert "Line: next matches next: any series, channel rc\n" in render.plan_text(made)


def test_a_channel_with_nothing_new_releases_nothing() -> None:
    """rc2 without a change since rc1 is no release; --final still is."""
    facts = {"release": LINES, "branch": "next", "version": "1.3.0rc2.dev0",
             "tags": ("v1.2.0", "v1.3.0rc1")}
    with pytest.raises(NothingToRelease):
        build(**facts)
    assert str(build(Request(final=True), **facts).version) == "1.3.0"


# The news file after rc1 and rc2 of 2.0.0 (what the release commits of both wrote).
CYCLE_NEWS = (
    "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
    "## 2.0.0rc2 (2026-01-02)\n\n### Bugfixes\n\n- Fix it. ([#3](https://example.invalid/issues/3))\n\n\n"
    "## 2.0.0rc1 (2026-01-01)\n\n### Features\n\n- Add it. ([#2](https://example.invalid/issues/2))\n\n\n"
    "## 1.2.0 (2026-01-01)\n\n- First.\n"
)
CYCLE = {
    "release": LINES, "branch": "next", "version": "2.0.0rc3.dev0", "news_text": CYCLE_NEWS,
    "tags": ("v1.2.0", "v2.0.0rc1", "v2.0.0rc2"),
    "prereleases": {
        "v2.0.0rc1": {"1.removal.md": "Drop it.", "2.feature.md": "Add it."},
        "v2.0.0rc2": {"3.bugfix.md": "Fix it.", "2.feature.md": "Add more."},
    },
}


def test_the_final_release_gathers_the_pre_releases_entries() -> None:
    made = build(Request(final=True), **CYCLE, fragments={"4.bugfix.md": "Fix again."})
    assert str(made.version) == "2.0.0"
    assert made.changelog_gathers == ("v2.0.0rc1", "v2.0.0rc2")
    # towncrier's own rendering of every fragment the cycle had, the current one included.
    tc = make_facts().towncrier
    assert tc is not None
    contents = {"": {("1", "removal", 0): "Drop it.", ("2", "feature", 0): "Add it.",
                     ("3", "bugfix", 0): "Fix it.", ("2", "feature", 1): "Add more.",
                     ("4", "bugfix", 0): "Fix again."}}
    assert made.changelog == changelog.render_section(tc, contents, "2.0.0", "2026-01-02")
    for entry in ("- Drop it.", "- Add it.", "- Add more.", "- Fix it.", "- Fix again."):
        assert entry in made.changelog
    news = made.edit_for("CHANGELOG.md").after
    # The final section takes the place of the pre-releases' sections.
    assert "2.0.0rc" not in news
    assert news.index("## 2.0.0 (2026-01-02)") < news.index("## 1.2.0 (2026-01-01)")
    assert news.endswith("## 1.2.0 (2026-01-01)\n\n- First.\n")
    assert made.to_json()["changelog_gathers"] == ["v2.0.0rc1", "v2.0.0rc2"]
    assert plan.Plan.from_journal(made.to_journal()) == made
    assert "gathering the entries of v2.0.0rc1, v2.0.0rc2" in render.plan_text(made)
    step = next(s for s in made.steps if s.id == "prepare.changelog")
    assert step.summary == (
        "write the 2.0.0 section to CHANGELOG.md in place of those of v2.0.0rc1, v2.0.0rc2 "
        "and remove 1 fragment(s)"
    )


def test_a_pre_release_gathers_nothing() -> None:
    made = build(**CYCLE, fragments={"4.bugfix.md": "Fix again."})
    assert str(made.version) == "2.0.0rc3"
    assert made.changelog_gathers == ()
    assert "Drop it." not in made.changelog
    assert "## 2.0.0rc2" in made.edit_for("CHANGELOG.md").after


def test_a_final_release_of_another_version_gathers_nothing() -> None:
    made = build(Request("3.0.0"), **CYCLE)
    assert made.changelog_gathers == ()
    assert "## 2.0.0rc1" in made.edit_for("CHANGELOG.md").after
