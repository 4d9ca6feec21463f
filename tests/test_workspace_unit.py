"""The release of several packages composed in memory (release.workspace): one commit, one
push, every package's steps under its name, the wait before a dependent's upload, pin
rewrites joined to a dependent's own edits, selection, and the journal round trip."""

from __future__ import annotations

from typing import Any

import pytest
from factsmaker import make_facts, pyproject_text

from release.errors import UsageError
from release.packages import Package
from release.plan import FileEdit, Plan, Request, build
from release.workspace import (
    Member,
    Selection,
    WorkspacePlan,
    _replay,
    compose,
    fold_pins,
    select,
)

PUBLISH = {
    "publish": [
        {"name": "idx", "repository-url": "https://idx.example/legacy/",
         "index-url": "https://idx.example/simple/"},
    ],
}


def plan_of(release: dict[str, Any] | None = None, **facts: Any) -> Plan:
    made = make_facts(fragments={"1.feature.md": "A feature."}, release=release, **facts)
    return build(made, Request())


def members(release: dict[str, Any] | None = None) -> list[Member]:
    return [
        Member("core", "packages/core", plan_of(release)),
        Member("app", "packages/app", plan_of(release), requires=("core",)),
    ]


def test_one_commit_and_one_push_around_every_packages_own_steps() -> None:
    made = compose(members(PUBLISH))
    ids = [s.id for s in made.steps]
    assert ids.count("prepare.commit") == 1
    assert ids.count("push.push") == 1
    assert "core/prepare.changelog" in ids
    assert "app/prepare.changelog" in ids
    assert "core/prepare.commit" not in ids
    assert "app/push.push" not in ids
    # Every package's prepare steps come before the one commit; tags after it.
    assert max(ids.index("core/prepare.changelog"), ids.index("app/prepare.changelog")) < ids.index(
        "prepare.commit"
    ) < ids.index("core/tag.tag")
    # The dependent waits for its dependency to be served before its upload.
    assert ids.index("core/publish.upload:idx") < ids.index("publish.wait-for:core") < ids.index(
        "app/publish.upload:idx"
    )
    commit = next(s for s in made.steps if s.id == "prepare.commit")
    paths = commit.command[commit.command.index("--") + 1 :]
    assert "packages/core/pyproject.toml" in paths
    assert "packages/app/CHANGELOG.md" in paths
    assert "packages/app/changelog.d/1.feature.md" in paths
    assert made.shared.commit_message == "Release core 1.3.0, app 1.3.0"
    assert made.tags == ("v1.3.0", "v1.3.0")


def test_no_wait_without_a_dependency_in_the_release() -> None:
    alone = [m._replace(requires=()) for m in members(PUBLISH)]
    assert not any(s.name == "wait-for" for s in compose(alone).steps)


def test_development_versions_make_one_commit_of_them_all() -> None:
    made = compose(members({"next-dev": True}))
    post = [s.id for s in made.steps if s.stage == "post"]
    assert post.count("post.commit") == 1
    assert post.count("post.push") == 1
    assert "core/post.edit-version:pyproject.toml" in post
    assert "packages/app/pyproject.toml" in {e.path for e in made.shared.dev_edits}


def test_a_pin_rewrite_joins_the_dependents_version_edit_and_its_development_edit() -> None:
    app = members({"next-dev": True})[1]
    before = pyproject_text("1.2.0") + 'dependencies = ["core>=1,<2"]\n'
    pinned = before.replace("core>=1,<2", "core>=2.0.0,<3")
    edits = tuple(
        e._replace(before=before, after=e.after + 'dependencies = ["core>=1,<2"]\n')
        if e.path == "pyproject.toml"
        else e
        for e in app.plan.edits
    )
    dev = tuple(
        e._replace(
            before=(e.before or "") + 'dependencies = ["core>=1,<2"]\n',
            after=e.after + 'dependencies = ["core>=1,<2"]\n',
        )
        if e.path == "pyproject.toml"
        else e
        for e in app.plan.dev_edits
    )
    app = app._replace(plan=app.plan._replace(edits=edits, dev_edits=dev))
    other = "packages/lib/pyproject.toml"
    joined, left = fold_pins(
        [app], {"packages/app/pyproject.toml": (before, pinned), other: ("x", "y")}
    )
    edit = joined[0].plan.edit_for("pyproject.toml")
    assert 'version = "1.3.0"' in edit.after
    assert "core>=2.0.0,<3" in edit.after
    dev_edit = joined[0].plan.edit_for("pyproject.toml", dev=True)
    assert "core>=2.0.0,<3" in (dev_edit.before or "")
    assert "core>=2.0.0,<3" in dev_edit.after
    assert left == [FileEdit(other, "x", "y")]


def test_replay_moves_only_the_changed_lines() -> None:
    before = "a\nversion = 1\ndeps = old\nz\n"
    after = "a\nversion = 1\ndeps = new\nz\n"
    text = "a\nversion = 2\ndeps = old\nz\n"
    assert _replay(before, after, text) == "a\nversion = 2\ndeps = new\nz\n"


def test_selection_by_default_by_name_and_all() -> None:
    packages = [Package("core", "packages/core", ()), Package("app", "packages/app", ())]
    facts = {
        "core": make_facts(fragments={"1.feature.md": "A."}),
        "app": make_facts(fragments={}),
    }
    assert select(packages, facts, Selection()) == (
        ["core"],
        [("app", "no unreleased changelog fragment")],
    )
    assert select(packages, facts, Selection(("app",)))[0] == ["app"]
    assert select(packages, facts, Selection(every=True))[0] == ["core", "app"]
    with pytest.raises(UsageError, match="--package nope"):
        select(packages, facts, Selection(("nope",)))


def test_the_journal_holds_the_whole_release() -> None:
    made = compose(members(PUBLISH), held_back=[("lib", "why")], needs_release=["lib"])
    again = WorkspacePlan.from_journal(made.to_journal())
    assert again == made
    assert made.to_json()["fingerprint"] == again.to_json()["fingerprint"]
