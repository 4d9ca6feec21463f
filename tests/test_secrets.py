"""No form of a secret ever leaves the process: every command, successful and failing.

The index password (TWINE_PASSWORD) and the GitHub token (GITHUB_TOKEN) are distinctive
values full of URL-special characters; a wrong password and a wrong token are secrets too.
The index (pypiserver) wants the password for uploads, listings and downloads, and the
publish target installs the published version (``verify-install``: the one place where the
password goes into a URL), and the release announces on the GitHub stand-in. Every command
of the CLI runs, with RELEASE_PIPELINE_DEBUG unset: ``preview`` (text and JSON), ``check``,
``config`` (text and JSON), ``version``, ``changelog``, ``init --dry-run``, ``run`` refused by
the index, ``run`` failing in the announce stage, ``status`` (text and JSON) incomplete and
complete, ``abort`` refused, ``resume`` failing and finishing, ``ci`` with the wrong
password, and ``build``.

None of the raw secret, ``quote(secret, safe='')``, ``quote(secret)``, and base64 of
``user:password`` (the Basic authorization header) may appear in any stdout or stderr, in
any file under the project (work tree, dist/, .git/release-pipeline/: journal, manifest,
ci journal; and the rest of .git), in any git object (commits, tags, trees, blobs), or in
the files a CI job writes ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY).

test_publish.py covers the password alone without a GitHub release; test_announce.py the
token in the runs it makes. Here both at once, through every command.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import (
    FRAGMENTS,
    PRIVATE_PASSWORD,
    Result,
    all_git_objects,
    assert_no_crash,
    commit_all,
    configure_targets,
    git,
    read_journal,
    run_release,
    secret_forms,
    written_files,
)
from github_standin import GitHubStandIn
from indexes import IndexTarget, PypiServer, listed_files

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")

WRONG_PASSWORD = "wr&ng/p:w@%2F?#q+"
TOKEN = "ghp_T0k/en+x@y:z%3D?a&b=c#d~!"
WRONG_TOKEN = "ghp_Wr0ng/t+k@n:%25?x&y=z#"


@pytest.fixture
def github(github_standin: GitHubStandIn) -> GitHubStandIn:
    github_standin.token = TOKEN
    return github_standin


@dataclass
class Secrets:
    """The project, its CI files, and every command's result so far."""

    project: Path
    index: IndexTarget
    ci_files: Path
    outputs: list[tuple[str, Result]] = field(default_factory=list)

    @property
    def right(self) -> dict[str, str]:
        return {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "TWINE_USERNAME": self.index.username, "TWINE_PASSWORD": PRIVATE_PASSWORD,
                "GITHUB_TOKEN": TOKEN}

    @property
    def wrong_password(self) -> dict[str, str]:
        return {**self.right, "TWINE_PASSWORD": WRONG_PASSWORD}

    @property
    def wrong_token(self) -> dict[str, str]:
        return {**self.right, "GITHUB_TOKEN": WRONG_TOKEN}

    @property
    def ci(self) -> dict[str, str]:
        """A tag-triggered CI job's environment, with the wrong password."""
        return {**self.wrong_password, "CI": "true", "GITHUB_ACTIONS": "true",
                "GITHUB_REF": "refs/tags/v1.3.0",
                "GITHUB_OUTPUT": str(self.ci_files / "output"),
                "GITHUB_STEP_SUMMARY": str(self.ci_files / "summary.md")}

    def release(self, *args: str, env: dict[str, str], code: int) -> Result:
        result = run_release(self.project, *args, env=env)
        shown = f"release {' '.join(args)}: exit {result.code}\n{result.stdout}{result.stderr}"
        assert result.code == code, shown
        assert_no_crash(result)
        self.outputs.append((" ".join(args), result))
        return result


@pytest.fixture
def secrets(sample_copy: Callable[..., Path], private_index: PypiServer, github: GitHubStandIn,
            tmp_path: Path) -> Secrets:
    """A sample project (next version 1.3.0) publishing to the private index, with
    verify-install, and announcing on the stand-in; committed and pushed."""
    assert "RELEASE_PIPELINE_DEBUG" not in os.environ  # no traceback on request
    project = sample_copy(fragments=FRAGMENTS)
    index = private_index.target
    configure_targets(project, github=github, index=index, name="private", verify_install=True)
    ci_files = tmp_path / "ci"
    ci_files.mkdir()
    return Secrets(project, index, ci_files)


def read_only_commands(s: Secrets) -> None:
    s.release("preview", env=s.right, code=0)
    s.release("preview", "--json", env=s.right, code=0)
    s.release("check", env=s.right, code=0)
    s.release("config", env=s.right, code=0)
    s.release("config", "--json", env=s.right, code=0)
    s.release("version", env=s.right, code=0)
    s.release("version", "--next", env=s.right, code=0)
    s.release("changelog", env=s.right, code=0)
    s.release("init", "--dry-run", env=s.right, code=2)  # already adopted: refused, says why
    refused = s.release("preview", env=s.wrong_password, code=1)
    assert "refused the credentials" in refused.stdout


def release_commands(s: Secrets) -> None:
    # The index refuses the wrong password in the preflight: nothing is done.
    failed = s.release("run", "--yes", env=s.wrong_password, code=1)
    assert "refused the credentials" in failed.stdout + failed.stderr
    assert not (s.project / ".git" / "release-pipeline" / "journal.json").exists()
    # Published (and installed from the index), then the announce stage meets a wrong token.
    failed = s.release("run", "--yes", env=s.wrong_token, code=1)
    assert "announce.draft" in failed.stderr
    assert "rejected the token" in failed.stderr
    assert sorted(listed_files(s.index, "sample-project", auth=True)) == [
        "sample_project-1.3.0-py3-none-any.whl", "sample_project-1.3.0.tar.gz"]
    s.release("status", env=s.wrong_token, code=1)
    s.release("status", "--json", env=s.wrong_password, code=1)
    s.release("abort", "--yes", env=s.right, code=1)  # public: refused
    s.release("resume", env=s.wrong_token, code=1)
    s.release("resume", env=s.right, code=0)
    assert read_journal(s.project)["finished"] is True
    s.release("status", env=s.right, code=0)
    s.release("status", "--json", env=s.right, code=0)


def later_commands(s: Secrets) -> None:
    # The CI job on the tag, with the wrong password: it builds, then the index refuses.
    failed = s.release("ci", env=s.ci, code=1)
    assert "publish.upload:private" in failed.stdout + failed.stderr
    s.release("build", env=s.right, code=0)
    s.release("check", env=s.right, code=1)  # the next release has no fragments yet
    s.release("preview", "--json", env=s.wrong_token, code=1)


def assert_nothing_leaked(s: Secrets) -> None:
    forms = secret_forms(s.index.username, [PRIVATE_PASSWORD, WRONG_PASSWORD],
                         [TOKEN, WRONG_TOKEN])
    for args, result in s.outputs:
        for form in forms:
            assert form not in result.stdout, f"a secret ({form!r}) in the stdout of {args}"
            assert form not in result.stderr, f"a secret ({form!r}) in the stderr of {args}"
    files = written_files(s.project, s.ci_files)
    state = s.project / ".git" / "release-pipeline"
    assert state / "journal.json" in files
    assert state / "manifests" / "1.3.0.json" in files
    assert state / "ci-journal.json" in files
    assert s.project / "dist" / "sample_project-1.3.0.tar.gz" in files
    assert s.ci_files / "output" in files
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"a secret ({form!r}) in {path}"
    objects = all_git_objects(s.project)
    for form in forms:
        assert form.encode() not in objects, f"a secret ({form!r}) in a git object"


def test_no_secret_in_any_output_or_written_file(secrets: Secrets) -> None:
    read_only_commands(secrets)
    release_commands(secrets)
    later_commands(secrets)
    assert_nothing_leaked(secrets)


# --- GitLab CI: the job's OIDC ID token ------------------------------------------------------

# The shape of a GitLab ID token (a JWT: base64url parts), made distinctive; the second is the
# TestPyPI audience's.
ID_TOKEN = "eyJraWQiOiJyZWxlYXNlIn0.eyJhdWQiOiJweXBpIn0.S3cr3t-ID_t0ken-pypi"
TESTPYPI_ID_TOKEN = "eyJraWQiOiJyZWxlYXNlIn0.eyJhdWQiOiJ0ZXN0cHlwaSJ9.S3cr3t-ID_t0ken-test"
LEAK = ('echo "id=$PYPI_ID_TOKEN test=$TESTPYPI_ID_TOKEN"; echo "$PYPI_ID_TOKEN" >&2; '
        'test -f "$FLAG" || exit 4')


def test_the_gitlab_id_token_is_never_shown(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    """A GitLab job holding PyPI's ID tokens (``id_tokens: PYPI_ID_TOKEN``, and
    TESTPYPI_ID_TOKEN) runs a project's verify step that prints them and fails, then
    passes: in ``release run`` on the maintainer's machine with the same variables, and in
    the build job's ``release ci``, failing and re-run. Neither token appears in any output,
    in the dotenv report, in any file under the project or the job's checkout, nor in any
    git object."""
    project = sample_copy(fragments=FRAGMENTS)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + f'\n[[tool.release.steps]]\nname = "leak"\nstage = "verify"\nshell = true\n'
        f"run = '{LEAK}'\n",  # a TOML literal string: the command as it is
        encoding="utf-8",
    )
    commit_all(project, "Declare a step that prints the ID tokens")
    git(project, "push", "--quiet", "origin", "main")
    flag = tmp_path / "passes"
    gitlab = {"GITLAB_CI": "true", "PYPI_ID_TOKEN": ID_TOKEN,
              "TESTPYPI_ID_TOKEN": TESTPYPI_ID_TOKEN, "FLAG": str(flag),
              "GITHUB_ACTIONS": "", "GITHUB_REF": "", "GITHUB_OUTPUT": ""}
    outputs: list[tuple[str, Result]] = []

    def release(cwd: Path, *args: str, code: int, **env: str) -> Result:
        result = run_release(cwd, *args, env={**gitlab, **env})
        assert result.code == code, f"release {' '.join(args)}: exit {result.code}\n" + (
            result.stdout + result.stderr)
        assert_no_crash(result)
        outputs.append((" ".join(args), result))
        return result

    failed = release(project, "run", "--yes", "--until", "verify", code=1)
    assert "verify.user:leak" in failed.stderr
    assert "id=*** test=***" in failed.stdout + failed.stderr
    flag.write_text("")
    release(project, "resume", "--until", "verify", code=0)
    git(project, "push", "--quiet", "--atomic", "origin", "main", "v1.3.0")

    job = tmp_path / "job"
    git(tmp_path, "clone", "--quiet", "--branch", "v1.3.0", f"file://{project}.git", str(job))
    ci_env = {"CI_COMMIT_TAG": "v1.3.0", "CI_PROJECT_DIR": str(job)}
    flag.unlink()
    failed = release(job, "ci", "--build-only", "--outdir", "dist", code=1, **ci_env)
    assert "id=*** test=***" in failed.stdout + failed.stderr
    assert (job / "release.env").read_text(encoding="utf-8").endswith("RELEASE_RELEASED=false\n")
    flag.write_text("")
    release(job, "ci", "--build-only", "--outdir", "dist", code=0, **ci_env)
    assert (job / "release.env").read_text(encoding="utf-8").startswith("RELEASE_VERSION=1.3.0\n")

    forms = [form for token in (ID_TOKEN, TESTPYPI_ID_TOKEN)
             for form in (token, quote(token, safe=""), token.split(".")[-1])]
    for args, result in outputs:
        for form in forms:
            assert form not in result.stdout + result.stderr, f"{form!r} shown by {args}"
    files = written_files(project, job)
    assert job / "release.env" in files
    assert job / ".git" / "release-pipeline" / "ci-journal.json" in files
    assert project / ".git" / "release-pipeline" / "journal.json" in files
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"{form!r} in {path}"
    for repository in (project, job):
        objects = all_git_objects(repository)
        for form in forms:
            assert form.encode() not in objects, f"{form!r} in a git object of {repository}"
