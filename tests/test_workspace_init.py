"""``release init`` at the root of a repository of several packages (docs/monorepo.md): the
real uv workspace of tests/workspace_fixture.py adopted at once, what is shared written to
the root, what is a package's own to its pyproject.toml; and the one CI pipeline for all its
packages that ``release init --ci`` writes there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tomllib
from conftest import (
    CLI,
    PublishTo,
    assert_exit,
    commit_all,
    git,
    publish_env,
    release_command,
    run_release,
    tree_state,
)
from indexes import IndexTarget, listed_files
from test_workflow import actionlint, check_jsonschema, load_yaml, zizmor  # noqa: F401
from workspace_fixture import (
    NAMES,
    TOWNCRIER,
    add_fragment,
    copy_workspace,
    make_workspace,
    package_dir,
)

from release.adopt import names_package, package_tag_format

ROOT_WORKSPACE_ONLY = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'


def pyproject(directory: Path) -> dict[str, Any]:
    return tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))


def release_table(directory: Path) -> dict[str, Any] | None:
    table = pyproject(directory).get("tool", {}).get("release")
    return dict(table) if table is not None else None


def retag(root: Path, old: str, new: str) -> None:
    """Replace the tag ``old`` by ``new`` on the same commit, here and on the remote."""
    git(root, "tag", "-d", old)
    git(root, "push", "--quiet", "origin", f":refs/tags/{old}")
    git(root, "tag", "-a", "-m", f"Release {new}", new, "HEAD")
    git(root, "push", "--quiet", "origin", new)


def grouped(stdout: str) -> dict[str, list[str]]:
    """The printed decisions by heading (``rpws-c (packages/c)``, ``the root (...)``)."""
    groups: dict[str, list[str]] = {}
    heading = ""
    for line in stdout.splitlines()[1:]:
        if line.startswith("  - "):
            groups[heading].append(line[4:])
        elif line.endswith(":"):
            heading = line[:-1]
            groups[heading] = []
    return groups


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """The workspace of workspace_fixture, without a uv.lock."""
    return copy_workspace(tmp_path_factory, tmp_path, lock=False)


@pytest.fixture
def mixed(ws: Path) -> Path:
    """The workspace before adoption, each package in another state: the root without
    [tool.release]; rpws-b tagged the way another tool wrote it (``rpws-b@1.0.0``); rpws-c
    without towncrier's configuration; rpws-a as the fixture has it."""
    root = ws
    (root / "pyproject.toml").write_text(ROOT_WORKSPACE_ONLY, encoding="utf-8")
    c = package_dir(root, "rpws-c") / "pyproject.toml"
    c.write_text(c.read_text(encoding="utf-8").replace(TOWNCRIER, ""), encoding="utf-8")
    commit_all(root, "Before release-pipeline")
    git(root, "push", "--quiet", "origin", "main")
    retag(root, "rpws-b-v1.0.0", "rpws-b@1.0.0")
    return root


def test_init_at_the_root_adopts_every_package(mixed: Path, run_inprocess: CLI) -> None:
    root = mixed
    remote = root.parent / "ws.git"
    a_before = (package_dir(root, "rpws-a") / "pyproject.toml").read_bytes()
    before = tree_state(root, remote)

    shown = run_inprocess("init", "--dry-run", cwd=root)
    assert shown.code == 0, shown.stdout + shown.stderr
    assert tree_state(root, remote) == before
    assert shown.stdout.startswith("Decisions:\n")
    assert shown.stdout.endswith("Nothing written (--dry-run).\n")
    groups = grouped(shown.stdout)
    # The root's decisions, then every package's under its name, in dependency order.
    assert list(groups) == [
        "the root (pyproject.toml, what every package inherits)",
        "rpws-c (packages/c)",
        "rpws-b (packages/b)",
        "rpws-a (packages/a)",
    ]
    root_said = groups["the root (pyproject.toml, what every package inherits)"]
    assert [r.split(":")[0] for r in root_said] == ["branches = ['main']"]
    b_said = "\n".join(groups["rpws-b (packages/b)"])
    assert "tag-format = 'rpws-b@{version}': rpws-b@1.0.0, the tag of the current version" in b_said
    a_said = "\n".join(groups["rpws-a (packages/a)"])
    assert "tag-format = 'rpws-a-v{version}'" in a_said
    assert "so not written" in a_said
    assert "version-locations = ['pyproject.toml']" in a_said
    c_said = "\n".join(groups["rpws-c (packages/c)"])
    assert "towncrier: new configuration writing CHANGELOG.md" in c_said

    done = run_inprocess("init", cwd=root)
    assert done.code == 0, done.stdout + done.stderr
    assert grouped(done.stdout) == groups  # the dry run showed exactly what was done
    assert done.stdout.endswith(
        "Wrote pyproject.toml, packages/c/pyproject.toml, packages/b/pyproject.toml; "
        "check it with: release preview\n"
    )
    # Shared: once, at the root. Each package: only what is its own.
    assert release_table(root) == {"branches": ["main"]}
    assert pyproject(root)["tool"]["uv"] == {"workspace": {"members": ["packages/*"]}}
    assert release_table(package_dir(root, "rpws-b")) == {"tag-format": "rpws-b@{version}"}
    assert release_table(package_dir(root, "rpws-c")) is None
    assert pyproject(package_dir(root, "rpws-c"))["tool"]["towncrier"] == {
        "directory": "changelog.d",
        "filename": "CHANGELOG.md",
        "title_format": "## {version} ({project_date})",
    }
    assert (package_dir(root, "rpws-a") / "pyproject.toml").read_bytes() == a_before

    # Again: every decision is in place, nothing changes.
    adopted = tree_state(root, remote)
    again = run_inprocess("init", cwd=root)
    assert again.code == 0, again.stdout + again.stderr
    assert again.stdout.endswith(
        "Nothing to write: every decision is already in the pyproject.toml files.\n"
    )
    assert tree_state(root, remote) == adopted

    # The adopted workspace releases each package with the tags it writes.
    commit_all(root, "Adopt release-pipeline")
    for n, name in enumerate(NAMES, 1):
        add_fragment(root, name, str(n), "feature", f"A feature of {name}.")
    commit_all(root, "Changes")
    git(root, "push", "--quiet", "origin", "main")
    preview = run_inprocess("preview", "--json", cwd=root)
    assert preview.code == 0, preview.stdout + preview.stderr
    plan = json.loads(preview.stdout)["plan"]
    assert plan["tags"] == ["rpws-c-v1.1.0", "rpws-b@1.1.0", "rpws-a-v1.1.0"]
    assert plan["packages"]["rpws-b"]["plan"]["previous_tag"] == "rpws-b@1.0.0"


def without_fingerprints(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: without_fingerprints(v) for k, v in data.items() if k != "fingerprint"}
    if isinstance(data, list):
        return [without_fingerprints(v) for v in data]
    return data


def test_init_at_the_root_keeps_the_release_planned(ws: Path, run_inprocess: CLI) -> None:
    root = ws
    (root / "pyproject.toml").write_text(ROOT_WORKSPACE_ONLY, encoding="utf-8")
    add_fragment(root, "rpws-c", "1", "feature", "A feature.")
    add_fragment(root, "rpws-a", "2", "bugfix", "A fix.")
    commit_all(root, "Changes")
    git(root, "push", "--quiet", "origin", "main")
    before = run_inprocess("preview", "--json", cwd=root)
    assert before.code == 0, before.stdout + before.stderr

    done = run_inprocess("init", cwd=root)
    assert done.code == 0, done.stdout + done.stderr
    assert "Wrote pyproject.toml;" in done.stdout
    commit_all(root, "Adopt release-pipeline")
    git(root, "push", "--quiet", "origin", "main")
    after = run_inprocess("preview", "--json", cwd=root)
    assert after.code == 0, after.stdout + after.stderr
    assert without_fingerprints(json.loads(after.stdout)) == without_fingerprints(
        json.loads(before.stdout)
    )


def test_the_forge_goes_to_the_root_beside_its_settings(ws: Path, run_inprocess: CLI) -> None:
    root = ws
    git(root, "remote", "set-url", "origin", "git@github.com:acme/ws.git")
    original = (root / "pyproject.toml").read_text(encoding="utf-8")
    done = run_inprocess("init", cwd=root)
    assert done.code == 0, done.stdout + done.stderr
    said = grouped(done.stdout)["the root (pyproject.toml, what every package inherits)"]
    assert said[0] == "branches = ['main']: already set; kept."
    assert said[1].startswith("forge: kind = 'github', repository = 'acme/ws'")
    written = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert written.startswith(original)  # added below what was there, byte for byte
    assert release_table(root) == {
        "branches": ["main"],
        "forge": {"kind": "github", "repository": "acme/ws"},
    }
    for name in NAMES:
        assert release_table(package_dir(root, name)) is None


def test_a_root_package_shares_its_table_so_its_own_tag_format_is_not_written(
    tmp_path: Path, run_inprocess: CLI
) -> None:
    """The root project is a package too: its [tool.release] is every package's, so a tag
    format of its own is reported and left out; the rest goes where it goes."""
    root = tmp_path / "app"
    (root / "libs" / "core").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0.0"\n\n[tool.uv.workspace]\nmembers = ["libs/*"]\n',
        encoding="utf-8",
    )
    (root / "libs" / "core" / "pyproject.toml").write_text(
        '[project]\nname = "core"\nversion = "0.3.0"\n', encoding="utf-8"
    )
    git(root, "init", "--quiet", "--initial-branch=main")
    commit_all(root, "The workspace")
    git(root, "tag", "app-1.0.0")
    git(root, "tag", "v0.3.0")
    done = run_inprocess("init", cwd=root)
    assert done.code == 0, done.stdout + done.stderr
    groups = grouped(done.stdout)
    assert list(groups) == [
        "the root (pyproject.toml, what every package inherits)",
        "app (the root)",  # no dependency between them: in alphabetical order
        "core (libs/core)",
    ]
    said = "\n".join(groups["app (the root)"])
    assert "is written 'app-{version}', but it is not written" in said
    assert "no tag names core yet" in "\n".join(groups["core (libs/core)"])
    assert release_table(root) == {"branches": ["main"]}
    assert release_table(root / "libs" / "core") is None
    for directory in (root, root / "libs" / "core"):
        assert pyproject(directory)["tool"]["towncrier"]["directory"] == "changelog.d"


def test_init_in_a_packages_directory_points_at_the_root(ws: Path, cli: CLI) -> None:
    """Adopted alone, a package would get the shared settings and `v{version}` tags: release
    init (and --ci, whose workflow GitHub reads only at the root) is refused there."""
    root = ws
    package = package_dir(root, "rpws-b")
    before = tree_state(root)
    for args in (("init",), ("init", "--dry-run"), ("init", "--ci", "github")):
        text = assert_exit(cli(*args, cwd=package), 2)
        assert f"is the package rpws-b of the repository of several packages at {root}" in text
        assert f"release -C {root} {' '.join(args).replace(' --dry-run', '')}" in text
    assert tree_state(root) == before


def test_a_package_tag_is_one_whose_prefix_names_it() -> None:
    assert names_package("rpws-c-v1.0.0", "rpws-c")
    assert names_package("rpws_c@1.0.0", "rpws-c")
    assert names_package("RPWS.C/v2.0rc1", "rpws-c")
    assert names_package("rpws-c1.0", "rpws-c")
    assert not names_package("rpws-c-v1.0.0", "rpws")
    assert not names_package("rpws-v1.0.0", "rpws-c")
    assert not names_package("v1.0.0", "rpws-c")
    assert not names_package("rpws-c-latest", "rpws-c")
    tags = ["v0.9", "rpws-a-v1.0.0", "rpws-b@0.9.0", "rpws-b@1.0.0", "rpws-b-v0.1"]
    found, why = package_tag_format(tags, "rpws-b", "1.0.0")
    assert found == "rpws-b@{version}"
    assert why.startswith("rpws-b@1.0.0, the tag of the current version 1.0.0,")
    assert package_tag_format(tags, "rpws-a", "1.0.0")[0] is None  # the default
    # Tags that name no package never give one a format, v{version} least of all.
    assert package_tag_format(tags, "rpws-c", "1.0.0") == (None, "no tag names rpws-c yet")


# --- the pipeline of every package (release init --ci) ----------------------------------------


def github_glob(glob: str) -> re.Pattern[str]:
    """A GitHub Actions tag filter as a regular expression: ``*`` is any run of characters
    but ``/``, ``[...]`` a character class, anything else itself."""
    out = ""
    for token in re.findall(r"\*\*|\*|\[[^\]]*\]|.", glob):
        out += {"**": ".*", "*": "[^/]*"}.get(token, token if token[0] == "[" else re.escape(token))
    return re.compile(out)


# The tests of `pipelines` on one xdist worker (tests/scheduling.py), which makes it once.
ON_THE_WORKER_OF_PIPELINES = pytest.mark.xdist_group("workspace-pipelines")


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The GitHub workflow and the GitLab pipeline written at the root of the workspace,
    rpws-b's tags written ``rpws-b@VERSION``."""
    base = tmp_path_factory.mktemp("pipelines")
    root = make_workspace(base, lock=False)
    path = package_dir(root, "rpws-b") / "pyproject.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[tool.release]\ntag-format = "rpws-b@{version}"\n',
        encoding="utf-8",
    )
    github = release_command("init", "--ci", "github", cwd=root)
    assert github.code == 0, github.stdout + github.stderr
    assert github.stdout == (
        f"Wrote {root / '.github/workflows/release.yml'}: on a push to a release branch or "
        "of a package's release tag, or run by hand, a build job and a publish job for every "
        "package tagged on the commit, in dependency order (environment 'pypi', trusted "
        "publishing). On PyPI, add a trusted publisher for this repository, workflow "
        "release.yml, environment pypi, to each package: rpws-c, rpws-b, rpws-a.\n"
    )
    gitlab = release_command("init", "--ci", "gitlab", cwd=root)
    assert gitlab.code == 0, gitlab.stdout + gitlab.stderr
    return {"github": root / ".github/workflows/release.yml", "gitlab": root / ".gitlab-ci.yml"}


RELEASE_TAGS = ["rpws-a-v1.1.0", "rpws-b@1.1.0", "rpws-c-v2.0.0rc1"]
OTHER_TAGS = ["v1.1.0", "rpws-b-1.1.0", "1.0", "nightly"]


@ON_THE_WORKER_OF_PIPELINES
def test_the_workspace_workflow_runs_for_any_event_of_the_release_commit(
    pipelines: dict[str, Path],
) -> None:
    """GitHub creates no event for the tags of a push of more than three: the workflow runs
    on the push to the release branch too (and by hand), every run releases whatever is
    tagged on its commit, and the runs of one commit wait for each other."""
    data = load_yaml(pipelines["github"])
    push = data["on"]["push"]
    assert push["branches"] == ["main"]
    globs = push["tags"]
    assert globs == ["*-v[0-9]*", "rpws-b@[0-9]*"]
    patterns = [github_glob(g) for g in globs]
    assert [t for t in RELEASE_TAGS if not any(p.fullmatch(t) for p in patterns)] == []
    assert [t for t in OTHER_TAGS if any(p.fullmatch(t) for p in patterns)] == []
    assert "workflow_dispatch" in data["on"]
    # One run per commit at a time, whichever event started it, never cancelled half way.
    assert data["concurrency"] == {
        "group": "release-${{ github.sha }}",
        "cancel-in-progress": False,
    }
    # Least privilege per job; `release ci` at the root, told no tag.
    assert data["permissions"] == {}
    build, publish = data["jobs"]["build"], data["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"id-token": "write", "contents": "write"}
    assert publish["environment"] == {"name": "pypi"}
    runs = [s.get("run") for job in (build, publish) for s in job["steps"] if "run" in s]
    assert "release ci --build-only --outdir dist" in runs
    assert "release ci --publish-from artifacts" in runs
    assert not [r for r in runs if "--tag" in r or "GITHUB_REF" in r]
    assert "working-directory" not in str(data)
    # Every checkout has the whole history and every tag.
    for job in (build, publish):
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
        assert checkout["with"]["fetch-depth"] == 0
    # A commit without a release tag: nothing uploaded, no publish job.
    assert build["outputs"] == {"tags": "${{ steps.build.outputs.tag }}"}
    upload = next(s for s in build["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "steps.build.outputs.tag != ''"
    assert publish["needs"] == "build"
    assert publish["if"] == "needs.build.outputs.tags != ''"


@ON_THE_WORKER_OF_PIPELINES
def test_the_workspace_workflow_passes_actionlint_and_zizmor(
    pipelines: dict[str, Path],
    actionlint: Any,  # noqa: F811 - the fixture of test_workflow
) -> None:
    assert actionlint(pipelines["github"]) == []
    done = zizmor(pipelines["github"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
    schema = check_jsonschema(pipelines["github"], "vendor.github-workflows")
    assert schema.returncode == 0, schema.stdout + schema.stderr


@ON_THE_WORKER_OF_PIPELINES
def test_the_workspace_gitlab_pipeline_runs_for_any_pipeline_of_the_release_commit(
    pipelines: dict[str, Path],
) -> None:
    """GitLab creates at most four branch and tag pipelines for one push: the jobs run in a
    pipeline for the release branch and one run by hand too, and the publish jobs of one
    commit wait for each other."""
    done = check_jsonschema(pipelines["gitlab"], "vendor.gitlab-ci")
    assert done.returncode == 0, done.stdout + done.stderr
    data = load_yaml(pipelines["gitlab"])
    for job in ("release-build", "release-publish"):
        rules = [r["if"] for r in data[job]["rules"]]
        assert rules == [
            '$CI_COMMIT_BRANCH == "main"',
            "$CI_COMMIT_TAG =~ /-v[0-9]/",
            "$CI_COMMIT_TAG =~ /^rpws\\-b\\@[0-9]/",
            '$CI_PIPELINE_SOURCE == "web"',
        ]
        patterns = [
            re.compile(r.removeprefix("$CI_COMMIT_TAG =~ /").removesuffix("/"))
            for r in rules
            if r.startswith("$CI_COMMIT_TAG")
        ]
        assert [t for t in RELEASE_TAGS if not any(p.search(t) for p in patterns)] == []
        assert [t for t in OTHER_TAGS if any(p.search(t) for p in patterns)] == []
        variables = data[job]["variables"]
        assert variables["GIT_DEPTH"] == "0"
        assert "--tags" in variables["GIT_FETCH_EXTRA_FLAGS"].split()
    assert data["release-build"]["script"][-1] == "release ci --build-only --outdir dist"
    publish = data["release-publish"]
    assert publish["script"][-1] == "release ci --publish-from dist"
    assert publish["resource_group"] == "release-$CI_COMMIT_SHA"
    assert publish["interruptible"] is False


def test_what_the_workspace_pipeline_does_not_write(ws: Path, cli: CLI) -> None:
    root = ws
    refused = cli("init", "--ci", "github", "--release-pr", cwd=root)
    assert "release pull request flow releases one project" in assert_exit(refused, 2)
    assert not (root / ".github").exists()


@pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")
def test_the_workflows_commands_release_every_package_of_the_commit_once(
    tmp_path: Path, pypiserver: IndexTarget
) -> None:
    """The build job's and the publish job's commands, as the workflow runs them at the root
    on the push to the release branch: every package tagged on the commit built into a
    directory of its own, then published in dependency order with the waits; a second run
    for the commit (started by a tag) finds it all done; a commit without a release tag is
    nothing to do."""
    root = make_workspace(tmp_path, lock=False)  # rpws-{a,b,c}-v1.0.0 on HEAD
    target = PublishTo("local", pypiserver)
    index = (
        f'publish=[{{name = "local", repository-url = "{pypiserver.upload_url}", '
        f'index-url = "{pypiserver.simple_url}"}}]'
    )
    outputs = tmp_path / "github_output"
    env = {
        **publish_env(target),
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_OUTPUT": str(outputs),
    }
    built = run_release(root, "ci", "--build-only", "--outdir", "dist", env=env)
    text = assert_exit(built, 0)
    assert "rpws-c 1.0.0, rpws-b 1.0.0, rpws-a 1.0.0: built and verified." in text
    for name in NAMES:
        files = sorted(p.name for p in (root / "dist" / name).iterdir())
        dist = name.replace("-", "_")
        assert [f for f in files if not f.startswith("release-manifest-")] == [
            f"{dist}-1.0.0-py3-none-any.whl",
            f"{dist}-1.0.0.tar.gz",
        ]
        assert len(files) == 3, files  # and its own manifest
    assert "tag=rpws-c-v1.0.0 rpws-b-v1.0.0 rpws-a-v1.0.0\n" in outputs.read_text()
    artifacts = tmp_path / "artifacts"  # as the publish job downloads them
    (root / "dist").rename(artifacts)

    published = run_release(root, "-c", index, "ci", "--publish-from", str(artifacts), env=env)
    text = assert_exit(published, 0)
    order = [text.index(f"[{n}] upload to local") for n in ("rpws-c", "rpws-b", "rpws-a")]
    assert order == sorted(order)
    assert order[0] < text.index("wait until every target serves rpws-c") < order[1]
    assert order[1] < text.index("wait until every target serves rpws-b") < order[2]
    for name in NAMES:
        dist = name.replace("-", "_")
        assert sorted(listed_files(pypiserver, name)) == [
            f"{dist}-1.0.0-py3-none-any.whl",
            f"{dist}-1.0.0.tar.gz",
        ]

    # The run a tag of the same push started, after the first: everything is done.
    again = run_release(
        root,
        "-c",
        index,
        "ci",
        "--publish-from",
        str(artifacts),
        env={**env, "GITHUB_REF": "refs/tags/rpws-a-v1.0.0"},
    )
    text = assert_exit(again, 0)
    assert text.count("already done publish  [") == 3, text
    assert "  done " not in text.replace("already done", "")

    # The next push to the branch: no release tag on its commit, nothing done.
    commit_all(root, "Start the next version")
    before = tree_state(root, root.parent / "ws.git")
    nothing = run_release(root, "ci", "--build-only", "--outdir", "dist", env=env)
    assert_exit(nothing, 0)
    assert nothing.stdout.startswith("Nothing to release: HEAD (")
    assert nothing.stdout.count("\n") == 1
    assert tree_state(root, root.parent / "ws.git") == before
