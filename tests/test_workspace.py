"""Several packages in one repository: a real uv workspace (rpws-a -> rpws-b -> rpws-c)
previewed, refused, released to a real pypiserver with one command, killed at package
boundaries and resumed, and aborted (docs/monorepo.md)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib
from conftest import (
    FAILPOINT,
    PublishTo,
    accepted_uploads,
    assert_exit,
    bare_refs,
    both,
    commit_all,
    forwarded_uploads,
    git,
    publish_env,
    read_journal,
    run_release,
)
from indexes import FaultProxy, IndexTarget, listed_files
from workspace_fixture import NAMES, add_fragment, copy_workspace, package_dir, uv_command

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return copy_workspace(tmp_path_factory, tmp_path)


def fragments(root: Path, *which: tuple[str, str]) -> None:
    """A fragment of type ``kind`` in each named package, committed and pushed."""
    for n, (name, kind) in enumerate(which, 1):
        add_fragment(root, name, str(n), kind, f"A {kind} of {name}.")
    commit_all(root, "Changes")
    git(root, "push", "--quiet", "origin", "main")


def set_root_release(root: Path, text: str) -> None:
    path = root / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(root, "Configure the release")
    git(root, "push", "--quiet", "origin", "main")


def preview_json(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = run_release(root, "preview", "--json", *args)
    data = json.loads(result.stdout)
    return result.code, data


def lock_versions(root: Path) -> dict[str, str]:
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in lock["package"]}


# -- preview and checks (no build) ------------------------------------------------------------


def test_preview_shows_a_section_per_package_in_dependency_order(ws: Path) -> None:
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-c", "feature"))
    result = run_release(ws, "preview")
    text = assert_exit(result, 0)
    assert "in dependency order: rpws-c 1.1.0, rpws-a 1.0.1" in text
    assert "not released: rpws-b (no unreleased changelog fragment)" in text
    assert text.index("=== rpws-c (packages/c) ===") < text.index("=== rpws-a (packages/a")
    # Tags per package in the default format; the root's uv.lock follows the versions.
    assert "Tags: rpws-c-v1.1.0, rpws-a-v1.0.1" in text
    assert '-version = "1.0.0"\n+version = "1.1.0"' in text
    assert "b/uv.lock" in text
    code, data = preview_json(ws)
    assert code == 0
    plan = data["plan"]
    assert isinstance(plan, dict)
    assert plan["schema"] == "release-pipeline/workspace-plan"
    assert plan["order"] == ["rpws-c", "rpws-a"]
    assert plan["tags"] == ["rpws-c-v1.1.0", "rpws-a-v1.0.1"]
    ids = [s["id"] for s in plan["steps"]]
    assert ids.index("rpws-c/prepare.changelog") < ids.index("prepare.commit")
    assert ids.count("prepare.commit") == 1
    assert ids.count("push.push") == 1


def test_package_selection_and_an_unknown_name(ws: Path) -> None:
    fragments(ws, ("rpws-c", "feature"))
    code, data = preview_json(ws, "--package", "rpws-b", "--package", "rpws-c")
    plan = data["plan"]
    assert isinstance(plan, dict)
    # rpws-b has nothing to release: asked for, it is a problem named after it.
    assert plan["order"] == ["rpws-c"]
    assert any(
        str(p["message"]).startswith("rpws-b: Nothing to release")
        for p in data["problems"]  # type: ignore[union-attr]
    )
    assert code == 1
    result = run_release(ws, "preview", "--package", "rpws-x")
    text = assert_exit(result, 2)
    assert "--package rpws-x" in text
    assert "rpws-a, rpws-b, rpws-c" in text


def test_a_pin_that_excludes_the_new_version_is_refused_naming_both(ws: Path) -> None:
    fragments(ws, ("rpws-c", "removal"))  # 2.0.0, which rpws-b's <2 excludes
    result = run_release(ws, "check")
    text = assert_exit(result, 1)
    assert "[dependency-pin]" in text
    assert "rpws-b" in text
    assert "rpws-c" in text
    assert "2.0.0" in text
    assert "update-dependents" in text


def test_update_dependents_rewrites_the_pin_and_lists_the_dependent(ws: Path) -> None:
    set_root_release(ws, "update-dependents = true\n")
    fragments(ws, ("rpws-c", "removal"))
    result = run_release(ws, "preview")
    text = assert_exit(result, 0)
    assert "rpws-b needs a release too" in text
    assert "b/packages/b/pyproject.toml" in text
    assert '+dependencies = ["rpws-c>=2.0.0,<3"]' in text
    # Released together, the dependent's pin rewrite joins its own version edit.
    add_fragment(ws, "rpws-b", "7", "bugfix", "B follows C.")
    commit_all(ws, "A fix of B")
    git(ws, "push", "--quiet", "origin", "main")
    text = assert_exit(run_release(ws, "preview"), 0)
    assert "rpws-b needs a release too" not in text
    section = text[text.index("=== rpws-b") : text.index("=== the release as a whole")]
    assert '+dependencies = ["rpws-c>=2.0.0,<3"]' in section
    assert '+version = "1.0.1"' in section


def test_a_version_can_be_asked_for_one_package_only(ws: Path) -> None:
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-c", "feature"))
    text = assert_exit(run_release(ws, "preview", "3.0.0"), 2)
    assert "--package" in text
    _code, data = preview_json(ws, "3.0.0", "--package", "rpws-a")
    plan = data["plan"]
    assert isinstance(plan, dict)
    assert plan["tags"] == ["rpws-a-v3.0.0"]


def test_a_package_inherits_the_root_settings_and_keeps_its_own(ws: Path) -> None:
    set_root_release(ws, 'tag-message = "Ship {name} {version}"\n')
    pyproject = package_dir(ws, "rpws-c") / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + '\n[tool.release]\ntag-format = "c@{version}"\n',
        encoding="utf-8",
    )
    git(ws, "tag", "c@1.0.0", "rpws-c-v1.0.0")
    fragments(ws, ("rpws-c", "feature"))
    _code, data = preview_json(ws)
    plan = data["plan"]
    assert isinstance(plan, dict)
    member = plan["packages"]["rpws-c"]["plan"]
    assert member["tag"] == "c@1.1.0"
    assert member["tag_message"] == "Ship rpws-c 1.1.0"


def test_nothing_to_release_names_every_package(ws: Path) -> None:
    text = assert_exit(run_release(ws, "check"), 1)
    assert "No package has anything to release" in text
    for name in NAMES:
        assert name in text


def test_abort_before_the_push_undoes_every_package(ws: Path) -> None:
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-c", "feature"))
    start = git(ws, "rev-parse", "HEAD").strip()
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert_exit(run_release(ws, "run", "--yes", "--until", "tag"), 0)
    assert git(ws, "tag", "--list", "rpws-*-v1.*").split() == [
        "rpws-a-v1.0.0",
        "rpws-a-v1.0.1",
        "rpws-b-v1.0.0",
        "rpws-c-v1.0.0",
        "rpws-c-v1.1.0",
    ]
    journal = read_journal(ws)
    assert journal["steps"]["prepare.commit"] == "done"
    text = assert_exit(run_release(ws, "abort", "--yes"), 0)
    assert "deleted the local tag rpws-c-v1.1.0" in text
    assert git(ws, "rev-parse", "HEAD").strip() == start
    assert "rpws-c-v1.1.0" not in git(ws, "tag").split()
    after = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before


# -- released to a real index ------------------------------------------------------------------


def publish_to(root: Path, index: IndexTarget) -> PublishTo:
    target = PublishTo("local", index)
    set_root_release(root, target.toml())
    return target


def pip_install(index: IndexTarget, requirement: str, where: Path) -> dict[str, str]:
    """Install ``requirement`` from the index alone into a new venv; name -> version."""
    subprocess.run(uv_command("venv", "--quiet", str(where)), check=True)
    python = where / "bin" / "python"
    done = subprocess.run(
        uv_command(
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "--index-url",
            index.simple_url,
            "--no-cache",
            requirement,
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run(
        uv_command("pip", "list", "--python", str(python), "--format", "json"),
        capture_output=True,
        text=True,
        check=True,
    )
    return {p["name"]: p["version"] for p in json.loads(listed.stdout)}


def test_a_workspace_is_released_to_the_index_with_one_command(
    ws: Path, pypiserver: IndexTarget, tmp_path: Path
) -> None:
    target = publish_to(ws, pypiserver)
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-b", "feature"), ("rpws-c", "feature"))
    result = run_release(ws, "run", "--yes", env=publish_env(target))
    text = assert_exit(result, 0)
    # Published in dependency order, each dependent after a wait for what it needs.
    order = [text.index(f"[{n}] upload to local") for n in ("rpws-c", "rpws-b", "rpws-a")]
    assert order == sorted(order)
    assert text.index("wait until every target serves rpws-c") < order[1]
    for name, version in (("rpws-a", "1.0.1"), ("rpws-b", "1.1.0"), ("rpws-c", "1.1.0")):
        dist = name.replace("-", "_")
        assert sorted(listed_files(pypiserver, name)) == sorted(
            [f"{dist}-{version}.tar.gz", f"{dist}-{version}-py3-none-any.whl"]
        )
        changelog = (package_dir(ws, name) / "CHANGELOG.md").read_text(encoding="utf-8")
        assert f"## {version} (" in changelog
        assert f"{name}-v{version}" in git(ws, "tag").split()
    # One commit for them all, every tag on it and on the remote.
    assert git(ws, "log", "-1", "--format=%s").strip() == (
        "Release rpws-c 1.1.0, rpws-b 1.1.0, rpws-a 1.0.1"
    )
    refs = bare_refs(ws.parent / "ws.git")
    assert {"refs/tags/rpws-a-v1.0.1", "refs/tags/rpws-b-v1.1.0", "refs/tags/rpws-c-v1.1.0"} <= set(
        refs
    )
    assert lock_versions(ws) == {"rpws-a": "1.0.1", "rpws-b": "1.1.0", "rpws-c": "1.1.0"}
    locked = subprocess.run(
        uv_command("lock", "--check", "--offline"), cwd=ws, capture_output=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    installed = pip_install(pypiserver, "rpws-a", tmp_path / "venv")
    assert installed["rpws-a"] == "1.0.1"
    assert installed["rpws-b"] == "1.1.0"
    assert installed["rpws-c"] == "1.1.0"


def test_kills_at_package_boundaries_and_the_wait_resume_to_one_upload_each(
    ws: Path, pypiserver: IndexTarget, fault_proxy: Callable[[IndexTarget], FaultProxy]
) -> None:
    proxy = fault_proxy(pypiserver)
    target = publish_to(ws, proxy.target)
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-b", "feature"), ("rpws-c", "feature"))
    env = publish_env(target)
    kills = [
        "rpws-c/build.build:after",  # between two packages' builds
        "rpws-c/publish.upload:local:after",  # the first package published, not the rest
        "publish.wait-for:rpws-c:before",  # at the dependency wait
        "publish.wait-for:rpws-b:after",
        "rpws-b/publish.upload:local:after",
    ]
    result = run_release(ws, "run", "--yes", env={**env, FAILPOINT: f"{kills[0]}:kill"})
    assert result.code != 0, both(result)
    for point in kills[1:]:
        result = run_release(ws, "resume", env={**env, FAILPOINT: f"{point}:kill"})
        assert result.code != 0, both(result)
        step = point.rsplit(":", 1)[0]
        state = read_journal(ws)["steps"][step]
        assert state == ("done" if point.endswith(":after") else "pending"), point
    assert_exit(run_release(ws, "resume", env=env), 0)
    assert read_journal(ws)["finished"] is True
    uploads = forwarded_uploads(proxy)
    assert len(uploads) == 6, uploads
    assert set(uploads.values()) == {1}, uploads
    assert set(accepted_uploads(proxy).values()) == {1}
    assert sorted(git(ws, "tag", "--points-at", "HEAD").split()) == [
        "rpws-a-v1.0.1",
        "rpws-b-v1.1.0",
        "rpws-c-v1.1.0",
    ]
    subjects = git(ws, "log", "--format=%s").splitlines()
    assert subjects[0] == "Release rpws-c 1.1.0, rpws-b 1.1.0, rpws-a 1.0.1"
    assert sum(s.startswith("Release ") for s in subjects) == 1


def test_a_package_run_in_its_own_directory_inherits_the_root(ws: Path) -> None:
    set_root_release(ws, 'tag-message = "Ship {name} {version}"\n')
    fragments(ws, ("rpws-c", "feature"))
    result = run_release(package_dir(ws, "rpws-c"), "preview", "--json")
    plan = json.loads(result.stdout)["plan"]
    assert plan["tag"] == "rpws-c-v1.1.0"
    assert plan["tag_message"] == "Ship rpws-c 1.1.0"
    assert plan["previous_tag"] == "rpws-c-v1.0.0"


def test_release_ci_at_the_root_releases_every_package_tagged_on_head(ws: Path) -> None:
    fragments(ws, ("rpws-a", "bugfix"), ("rpws-c", "feature"))
    assert_exit(run_release(ws, "run", "--yes", "--until", "tag"), 0)
    # --tag names one package's tag: that package alone.
    text = assert_exit(run_release(ws, "ci", "--build-only", "--tag", "rpws-a-v1.0.1"), 0)
    assert "[rpws-c]" not in text
    assert sorted(p.name for p in (package_dir(ws, "rpws-a") / "dist").glob("*.whl")) == [
        "rpws_a-1.0.1-py3-none-any.whl"
    ]
    assert not (package_dir(ws, "rpws-c") / "dist").exists()
    # Without --tag: every package tag on HEAD, dependencies first, whichever tag or branch
    # the CI system says the run is for (asked in-process: what each then builds is the
    # same as above).
    from release.ciworkspace import tagged_packages

    for ref in ("refs/tags/rpws-a-v1.0.1", "refs/heads/main", ""):
        chosen = tagged_packages(ws, {"GITHUB_REF": ref}, (), None)
        assert [(p.package.name, p.tag) for p in chosen] == [
            ("rpws-c", "rpws-c-v1.1.0"),
            ("rpws-a", "rpws-a-v1.0.1"),
        ]
    text = assert_exit(run_release(ws, "ci", "--build-only", "--tag", "rpws-b-v9.9.9"), 2)
    assert "rpws-b-v9.9.9 does not exist" in text
    text = assert_exit(run_release(ws, "ci", "--tag", "v9.9.9"), 3)
    assert "no release tag of a package of this repository" in text
