"""No GitLab token leaves the process: an access token (PRIVATE-TOKEN) and a GitLab CI job's
CI_JOB_TOKEN (JOB-TOKEN), right and wrong, through a real release on the stand-in.

A sample project is released to pypiserver and announced on GitLab from "inside a GitLab CI
job" (GITLAB_CI, CI_JOB_TOKEN, no GITLAB_TOKEN): first with a job token GitLab refuses (the
announce stage fails after the publish), then resumed with the right one; ``release status``
then reads the release with an access token from GITLAB_TOKEN, and with a wrong one. None of
the tokens, raw or URL-quoted, may appear in any output or in any file the release wrote
(the journal, the manifest, the work tree, .git outside its compressed objects).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import Result, assert_no_crash, both, commit_all, git, run_release, target_env
from gitlab_standin import GitLabStandIn
from indexes import PypiserverIndex

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

FRAGMENTS = {"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."}
TOKEN = "glpat-T0k/en+x@y:z%3D?a&b=c#d~!"
WRONG_TOKEN = "glpat-Wr0ng/t+k@n:%25?x&y=z#"
JOB_TOKEN = "glcbt-J0b/t+k@n:%2F?j&o=b#"
WRONG_JOB_TOKEN = "glcbt-Wr0ng/j+b@%40?q#"
SECRETS = (TOKEN, WRONG_TOKEN, JOB_TOKEN, WRONG_JOB_TOKEN)


@pytest.fixture
def gitlab(gitlab_standin: GitLabStandIn, monkeypatch: pytest.MonkeyPatch) -> GitLabStandIn:
    for name in ("GITLAB_CI", "CI_JOB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    gitlab_standin.token, gitlab_standin.job_token = TOKEN, JOB_TOKEN
    return gitlab_standin


@pytest.fixture
def project(sample_copy: Callable[..., Path], gitlab: GitLabStandIn,
            pypiserver: PypiserverIndex) -> Path:
    project = sample_copy(fragments=FRAGMENTS)
    text = (f'\n[tool.release.forge]\nkind = "gitlab"\nrepository = "{gitlab.path}"\n'
            f'url = "{gitlab.web_url}"\n'
            f'\n[[tool.release.publish]]\nname = "local"\n'
            f'repository-url = "{pypiserver.upload_url}"\nindex-url = "{pypiserver.simple_url}"\n')
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(project, "Configure publishing and the GitLab release")
    git(project, "push", "--quiet", "origin", "main")
    return project


def forms() -> list[str]:
    return sorted({f for s in SECRETS for f in (s, quote(s), quote(s, safe=""))})


def written(project: Path) -> list[Path]:
    found = []
    for top, dirs, names in os.walk(project):
        if Path(top).name == ".git":
            dirs[:] = [d for d in dirs if d != "objects"]
        found += [Path(top, name) for name in names]
    return found


def test_no_gitlab_token_in_any_output_or_written_file(
    project: Path, gitlab: GitLabStandIn, pypiserver: PypiserverIndex
) -> None:
    base = target_env(index=pypiserver)
    job = {**base, "GITLAB_CI": "true", "CI_JOB_TOKEN": JOB_TOKEN}
    outputs: list[Result] = []

    def release(*args: str, env: dict[str, str], code: int) -> Result:
        result = run_release(project, *args, env=env)
        assert result.code == code, both(result)
        assert_no_crash(result)
        outputs.append(result)
        return result

    failed = release("run", "--yes", env={**job, "CI_JOB_TOKEN": WRONG_JOB_TOKEN}, code=1)
    assert "announce.draft" in failed.stderr
    assert "rejected the CI job token" in failed.stderr
    release("status", env={**job, "CI_JOB_TOKEN": WRONG_JOB_TOKEN}, code=1)
    release("resume", env=job, code=0)
    assert gitlab.release("v1.3.0") is not None
    status = release("status", "--json", env={**base, "GITLAB_TOKEN": TOKEN}, code=0)
    rows = {i["item"]: i["state"] for i in json.loads(status.stdout)["items"]
            if i["where"].startswith("gitlab")}
    assert rows == {"release v1.3.0": "present", "sample_project-1.3.0.tar.gz": "present",
                    "sample_project-1.3.0-py3-none-any.whl": "present"}
    refused = release("status", env={**base, "GITLAB_TOKEN": WRONG_TOKEN}, code=1)
    assert "rejected the token" in both(refused)
    auth = {r.auth for r in gitlab.requests}
    assert {"job", "private", "invalid"} <= auth  # each token went in its own header

    for result in outputs:
        for form in forms():
            assert form not in result.stdout, form
            assert form not in result.stderr, form
    files = written(project)
    assert project / ".git" / "release-pipeline" / "journal.json" in files
    for path in files:
        data = path.read_bytes()
        for form in forms():
            assert form.encode() not in data, (form, path)
