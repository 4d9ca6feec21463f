"""The release of several packages composed in memory (release.workspace): one commit, or
one per package (consolidate-commits = false), one push, every package's steps under its
name, the wait before a dependent's upload, pin rewrites joined to a dependent's own edits
or to the commit of the package they are for, uv.lock moved one package at a time,
selection, the journal round trip and each package's part of the journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factsmaker import make_facts, pyproject_text

from release import render
from release.config import Inherited, load, root_setting
from release.errors import ConfigError, UsageError
from release.journal import Journal
from release.packages import Package
from release.plan import FileEdit, Plan, Request, build
from release.workspace.commits import Commit
from release.workspace.compose import compose
from release.workspace.lockfile import lock_edits_each
from release.workspace.pins import PinRewrite, _replay, fold_pins, split_pins
from release.workspace.plan import Member, WorkspacePlan
from release.workspace.selection import Selection, select

PUBLISH = {
    "publish": [
        {
            "name": "idx",
            "repository-url": "https://idx.example/legacy/",
            "index-url": "https://idx.example/simple/",
        },
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
    assert (
        max(ids.index("core/prepare.changelog"), ids.index("app/prepare.changelog"))
        < ids.index("prepare.commit")
        < ids.index("core/tag.tag")
    )
    # The dependent waits for its dependency to be served before its upload.
    assert (
        ids.index("core/publish.upload:idx")
        < ids.index("publish.wait-for:core")
        < ids.index("app/publish.upload:idx")
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


# -- one release commit per package (consolidate-commits = false) ---------------------------


def commit_paths(step_command: tuple[str, ...]) -> list[str]:
    return list(step_command[step_command.index("--") + 1 :])


def test_one_commit_per_package_takes_that_packages_changes_and_its_edits_of_the_whole() -> None:
    core, app = members(PUBLISH)
    lock = ["l0\n", "l1\n", "l2\n"]
    shares = {
        "core": [
            FileEdit("uv.lock", lock[0], lock[1]),
            FileEdit("packages/lib/pyproject.toml", "p0\n", "p1\n"),
        ],
        "app": [FileEdit("uv.lock", lock[1], lock[2])],
    }
    made = compose([core, app], commit_edits=shares)
    assert made.split
    assert made.commits == (
        Commit("Release core 1.3.0", ("core",), tuple(shares["core"])),
        Commit("Release app 1.3.0", ("app",), tuple(shares["app"])),
    )
    own = {
        m.name: [f"{m.name}/{s.id}" for s in m.plan.steps if s.stage == "prepare"]
        for m in (core, app)
    }
    assert own["core"][-1] == "core/prepare.commit"
    prepare = [s.id for s in made.steps if s.stage == "prepare"]
    # Each package in turn: its own steps, the edits of the whole for it, its commit.
    assert prepare == [
        *own["core"][:-1],
        "prepare.edit-shared:core",
        "prepare.commit:core",
        *own["app"][:-1],
        "prepare.edit-shared:app",
        "prepare.commit:app",
    ]
    commits = {s.path: s for s in made.steps if s.id.startswith("prepare.commit:")}
    core_paths = commit_paths(commits["core"].command)
    assert set(core_paths) == {
        "packages/core/pyproject.toml",
        "packages/core/src/sample_project/__init__.py",
        "packages/core/CHANGELOG.md",
        "packages/core/changelog.d/1.feature.md",
        "uv.lock",
        "packages/lib/pyproject.toml",
    }
    assert "Release core 1.3.0" in commits["core"].command
    app_paths = commit_paths(commits["app"].command)
    assert "uv.lock" in app_paths
    assert not [p for p in app_paths if p.startswith(("packages/core/", "packages/lib/"))]
    # The frames the steps of the whole run in: each commit's plan, made on the one before.
    assert made.follows("core") == ""
    assert made.follows("app") == "core"
    assert made.commit_of(commits["app"]) == made.commits[1]
    frame = made.commit_plan("core")
    assert frame.commit_message == "Release core 1.3.0"
    assert frame.edits == tuple(shares["core"])
    assert set(frame.committed_paths) == set(core_paths)
    # Still one atomic push of the branch and every tag, and the tags stay each package's.
    assert [s.id for s in made.steps].count("push.push") == 1
    assert "core/tag.tag" in [s.id for s in made.steps]


def test_one_commit_of_them_all_by_default() -> None:
    made = compose(members(PUBLISH), shared_edits=[FileEdit("uv.lock", "a\n", "b\n")])
    assert not made.split
    assert made.commits == (
        Commit(
            "Release core 1.3.0, app 1.3.0", ("core", "app"), (FileEdit("uv.lock", "a\n", "b\n"),)
        ),
    )
    assert made.commit_of(next(s for s in made.steps if s.id == "prepare.commit")) is None
    data = made.to_json()
    assert data["commit_message"] == "Release core 1.3.0, app 1.3.0"
    assert [c["packages"] for c in data["commits"]] == [["core", "app"]]


def test_the_preview_and_the_json_plan_show_every_commit() -> None:
    core, app = members(PUBLISH)
    made = compose([core, app], commit_edits={"core": [FileEdit("uv.lock", "v1\n", "v2\n")]})
    data = made.to_json()
    assert data["commit_message"] is None
    assert [(c["message"], c["packages"], c["tags"]) for c in data["commits"]] == [
        ("Release core 1.3.0", ["core"], ["v1.3.0"]),
        ("Release app 1.3.0", ["app"], ["v1.3.0"]),
    ]
    assert data["commits"][0]["paths"][-1] == "uv.lock"
    assert "uv.lock" not in data["commits"][1]["paths"]
    text = render.workspace_text(made)
    assert "Commits (2, one per package: consolidate-commits = false):" in text
    assert "  1. Release core 1.3.0 (tag v1.3.0): packages/core/pyproject.toml" in text
    assert "  2. Release app 1.3.0 (tag v1.3.0): packages/app/pyproject.toml" in text
    assert "File changes of the commit 'Release core 1.3.0'" in text
    assert "Commit message:" not in text


def test_the_journal_holds_every_commit() -> None:
    core, app = members({"next-dev": True})
    made = compose([core, app], commit_edits={"app": [FileEdit("uv.lock", "a\n", "b\n")]})
    again = WorkspacePlan.from_journal(made.to_journal())
    assert again == made
    assert again.split
    # A journal written before commits were listed: one commit of them all.
    older = made.to_journal()
    del older["commits"]
    assert WorkspacePlan.from_journal(older).commits == (
        Commit(made.shared.commit_message, ("core", "app")),
    )
    # One development commit for every package, after the last release commit.
    assert [s.id for s in made.steps if s.stage == "post"].count("post.commit") == 1


def test_a_pin_rewrite_goes_to_the_commit_of_the_package_it_is_for() -> None:
    core, app = members()
    before = pyproject_text("1.2.0") + 'dependencies = ["core>=1,<2"]\n'
    pinned = before.replace("core>=1,<2", "core>=2.0.0,<3")
    edits = tuple(
        e._replace(before=before, after=e.after + 'dependencies = ["core>=1,<2"]\n')
        if e.path == "pyproject.toml"
        else e
        for e in app.plan.edits
    )
    app = app._replace(plan=app.plan._replace(edits=edits))
    rewrites = [
        PinRewrite("core", "packages/app/pyproject.toml", before, pinned),
        PinRewrite("core", "packages/lib/pyproject.toml", "x\n", "y\n"),
    ]
    joined, shares = split_pins([core, app], rewrites)
    assert shares == {
        "core": [
            FileEdit("packages/app/pyproject.toml", before, pinned),
            FileEdit("packages/lib/pyproject.toml", "x\n", "y\n"),
        ]
    }
    # The dependent's own version edit is made on the file as core's commit left it.
    edit = joined[1].plan.edit_for("pyproject.toml")
    assert edit.before == pinned
    assert 'version = "1.3.0"' in edit.after
    assert "core>=2.0.0,<3" in edit.after
    assert joined[0] == core


LOCK = """\
version = 1

[[package]]
name = "app"
version = "1.2.0"
source = { editable = "packages/app" }

[[package]]
name = "core"
version = "1.2.0"
source = { editable = "packages/core" }
"""


def test_uv_lock_moves_one_package_at_a_time() -> None:
    core, app = members()
    found = lock_edits_each([core, app], LOCK)
    assert [name for name, _edit in found] == ["core", "app"]
    (_, first), (_, second) = found
    assert first.before == LOCK
    assert first.after == LOCK.replace(
        'version = "1.2.0"\nsource = { editable = "packages/core"',
        'version = "1.3.0"\nsource = { editable = "packages/core"',
    )
    assert second.before == first.after
    assert second.after.count('version = "1.3.0"') == 2
    assert lock_edits_each([core, app], None) == []


def test_each_packages_part_of_the_journal_has_its_own_commit(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json", {}, "start", "main", {})
    core = journal.of_package("core", own_commit=True)
    app = journal.of_package("app", own_commit=True, after="core")
    assert not journal.committed
    assert core.commit_parent == "start"
    core.release_commit = "c1"
    assert journal.release_commit == "c1"  # the last one made
    assert app.release_commit is None
    assert app.commit_parent == "c1"
    assert app.committed  # the release has begun committing: the gates' question
    app.release_commit = "c2"
    assert journal.release_commit == "c2"
    assert core.release_commit == "c1"
    assert journal.package_commits() == {"core": "c1", "app": "c2"}
    # One commit of them all: the package's part shares it.
    shared = Journal(tmp_path / "j2.json", {}, "start", "main", {}).of_package("core")
    shared.release_commit = "c9"
    assert shared.commit_parent == "start"
    assert shared.release_commit == "c9"


# -- consolidate-commits: the root's own key ---------------------------------------------


def test_consolidate_commits_is_read_at_the_root_only(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.release]\nconsolidate-commits = false\n", encoding="utf-8"
    )
    assert root_setting(tmp_path, "consolidate-commits", environ={}, overrides=()) is False
    env = {"RELEASE_PIPELINE_CONSOLIDATE_COMMITS": "true"}
    assert root_setting(tmp_path, "consolidate-commits", environ=env, overrides=()) is True
    assert (
        root_setting(
            tmp_path, "consolidate-commits", environ=env, overrides=["consolidate-commits=false"]
        )
        is False
    )
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert root_setting(tmp_path, "consolidate-commits", environ={}, overrides=()) is True


def test_consolidate_commits_must_be_a_boolean(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.release]\nconsolidate-commits = "no"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        root_setting(tmp_path, "consolidate-commits", environ={}, overrides=())
    assert "pyproject.toml [tool.release]" in caught.value.message
    assert "`consolidate-commits` must be a boolean" in caught.value.message
    assert "'no'" in caught.value.message


def test_a_package_may_not_set_consolidate_commits(tmp_path: Path) -> None:
    pyproject = {
        "project": {"name": "app", "version": "1.0.0"},
        "tool": {"release": {"consolidate-commits": False}},
    }
    with pytest.raises(ConfigError) as caught:
        load(
            tmp_path / "packages" / "app",
            environ={},
            pyproject=pyproject,
            is_file=lambda _path: True,
            workspace=Inherited({}, "../../pyproject.toml"),
        )
    message = caught.value.message
    assert str(tmp_path / "packages" / "app" / "pyproject.toml") in message
    assert "`consolidate-commits` belongs in the root pyproject.toml" in message
    assert "../../pyproject.toml" in caught.value.hint
    # Not inherited either: the root's value is the root's alone.
    cfg = load(
        tmp_path,
        environ={},
        pyproject={"project": {"name": "app", "version": "1.0.0"}},
        is_file=lambda _path: True,
        workspace=Inherited({"consolidate-commits": False}, "../../pyproject.toml"),
    )
    assert cfg["consolidate-commits"] is True
