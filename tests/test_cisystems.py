"""The CI systems (``release/cisystems.py``) and what credentials make of them, in process.

Which system a job runs in, the tag it names, where its outputs go; PyPI trusted
publishing from GitLab CI (an ``id_tokens`` entry whose variable the ``id`` package, and so
twine, reads) next to GitHub Actions; the ID token joins the masked secrets; the hint for
missing credentials says what each CI system's job needs. ``release ci`` in a GitLab job,
end to end, is in test_ci.py; the token never shown, in test_secrets.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release import cisystems, credentials
from release.config import Target

PYPI = Target(name="pypi", repository="pypi")
TESTPYPI = Target(name="testpypi", repository_url="https://test.pypi.org/legacy/")
PRIVATE = Target(name="private", repository_url="https://pypi.example/legacy/",
                 index_url="https://pypi.example/simple/")
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJweXBpIn0.c2lnbmF0dXJl"
GITLAB = {"GITLAB_CI": "true", "CI_COMMIT_TAG": "v1.3.0", "CI_PROJECT_PATH": "group/sub/proj"}
ACTIONS = {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x.invalid/t",
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"}


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty home (no .pypirc) and no keyring: only what a test passes counts."""
    return {"HOME": str(tmp_path), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


# --- which system, which tag, which project ---------------------------------------------


@pytest.mark.parametrize(
    ("environ", "name", "tag", "project"),
    [
        ({}, "no CI system", None, None),
        ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1.0",
          "GITHUB_REPOSITORY": "o/n"}, "GitHub Actions", "v1.0", "o/n"),
        ({"GITHUB_REF": "refs/tags/v1.0"}, "GitHub Actions", "v1.0", None),  # by hand
        ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main"}, "GitHub Actions", None,
         None),
        (GITLAB, "GitLab CI", "v1.3.0", "group/sub/proj"),
        ({"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "main"}, "GitLab CI", None, None),
        ({"GITLAB_CI": "", "CI_COMMIT_TAG": "v1.0"}, "no CI system", None, None),
    ],
    ids=["none", "github", "github-ref-by-hand", "github-branch", "gitlab", "gitlab-branch",
         "gitlab-ci-empty"],
)
def test_the_system_its_tag_and_project(
    environ: dict[str, str], name: str, tag: str | None, project: str | None
) -> None:
    system = cisystems.detect(environ)
    assert system.name == name
    assert system.tag(environ) == tag
    assert system.project(environ) == project


def test_the_job_token_is_gitlabs_alone() -> None:
    assert cisystems.detect({**GITLAB, "CI_JOB_TOKEN": "jt"}).job_token(
        {**GITLAB, "CI_JOB_TOKEN": "jt"}) == "jt"
    assert cisystems.detect({"CI_JOB_TOKEN": "jt"}).job_token({"CI_JOB_TOKEN": "jt"}) == ""
    assert cisystems.detect(ACTIONS).job_token({**ACTIONS, "GITHUB_TOKEN": "t"}) == ""


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({}, "GITHUB_REF and CI_COMMIT_TAG are unset"),
        ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main"},
         "GITHUB_REF is refs/heads/main"),
        ({"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "main"},
         "CI_COMMIT_TAG is unset in a pipeline for main"),
    ],
)
def test_a_run_not_for_a_tag_says_what_it_is_for(environ: dict[str, str], said: str) -> None:
    assert cisystems.detect(environ).ref_described(environ) == said


# --- job outputs ------------------------------------------------------------------------

OUTPUTS = {"version": "1.3.0rc1", "tag": "v1.3.0rc1", "is-prerelease": "true",
           "released": "false"}


def test_gitlab_outputs_are_a_dotenv_report_in_the_project_dir(tmp_path: Path) -> None:
    environ = {**GITLAB, "CI_PROJECT_DIR": str(tmp_path)}
    (tmp_path / "release.env").write_text("STALE=1\n", encoding="utf-8")
    path = cisystems.detect(environ).write_outputs(environ, OUTPUTS, "## summary\n")
    assert path == tmp_path / cisystems.GITLAB_DOTENV
    text = path.read_text(encoding="utf-8")
    assert text == ("RELEASE_VERSION=1.3.0rc1\nRELEASE_TAG=v1.3.0rc1\n"
                    "RELEASE_IS_PRERELEASE=true\nRELEASE_RELEASED=false\n")
    # What GitLab accepts: KEY=VALUE lines, nothing else (no comment, no blank line), keys of
    # ASCII letters, digits and _, no quotes.
    for line in text.splitlines():
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=[^\"'\n]*", line), line
    assert not (tmp_path / "summary").exists()
    # The summary (the release checklist) is an artifact file beside the report.
    assert (tmp_path / cisystems.GITLAB_SUMMARY).read_text(encoding="utf-8") == "## summary\n"


def test_github_outputs_and_summary_are_appended(tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    output.write_text("earlier=1\n", encoding="utf-8")
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": str(summary)}
    assert cisystems.detect(environ).write_outputs(environ, OUTPUTS, "## s\n") == output
    assert output.read_text(encoding="utf-8") == (
        "earlier=1\nversion=1.3.0rc1\ntag=v1.3.0rc1\nis-prerelease=true\nreleased=false\n")
    assert summary.read_text(encoding="utf-8") == "## s\n"
    assert not (tmp_path / "release.env").exists()


def test_an_unwritable_output_is_an_error_naming_the_file(tmp_path: Path) -> None:
    from release.errors import UsageError

    environ = {**GITLAB, "CI_PROJECT_DIR": str(tmp_path / "missing")}
    with pytest.raises(UsageError) as caught:
        cisystems.detect(environ).write_outputs(environ, OUTPUTS, "")
    assert str(tmp_path / "missing" / "release.env") in caught.value.message
    assert caught.value.exit_code == 2


# --- trusted publishing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "environ", "source"),
    [
        (PYPI, {**GITLAB, "PYPI_ID_TOKEN": ID_TOKEN},
         "trusted publishing (GitLab CI OIDC, through twine)"),
        (TESTPYPI, {**GITLAB, "TESTPYPI_ID_TOKEN": ID_TOKEN},
         "trusted publishing (GitLab CI OIDC, through twine)"),
        (PYPI, ACTIONS, "trusted publishing (GitHub Actions OIDC, through twine)"),
        (PYPI, {**GITLAB, "PYPI_ID_TOKEN": ID_TOKEN, "TWINE_PASSWORD": "pw"},
         "environment (TWINE_PASSWORD)"),  # credentials of one's own come first
        (PYPI, GITLAB, None),  # no id_tokens entry
        (PYPI, {"PYPI_ID_TOKEN": ID_TOKEN}, None),  # not in GitLab CI
        (PYPI, {**GITLAB, "TESTPYPI_ID_TOKEN": ID_TOKEN}, None),  # the other audience
        (TESTPYPI, {**GITLAB, "PYPI_ID_TOKEN": ID_TOKEN}, None),
        (PRIVATE, {**GITLAB, "PYPI_ID_TOKEN": ID_TOKEN}, None),  # PyPI's alone
        (PRIVATE, ACTIONS, None),
    ],
    ids=["gitlab-pypi", "gitlab-testpypi", "github-pypi", "password-first", "gitlab-no-token",
         "token-outside-gitlab", "gitlab-wrong-audience", "gitlab-testpypi-wrong-audience",
         "gitlab-private-index", "github-private-index"],
)
def test_trusted_publishing_is_found_where_twine_can_do_it(
    home: dict[str, str], target: Target, environ: dict[str, str], source: str | None
) -> None:
    found = credentials.resolve(target, {**home, **environ})
    assert (found.source if found else None) == source
    if source and source.startswith("trusted publishing"):
        assert found is not None
        assert found.credentials is None  # twine asks the CI system itself
        assert credentials.trusted_publishing_available(found.repository_url, environ)


def test_the_id_token_variable_is_the_one_the_id_package_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Our name for each audience's variable against the ``id`` package's own GitLab detector,
    which twine's trusted publishing calls."""
    from id._internal.oidc.ambient import detect_gitlab

    monkeypatch.setenv("GITLAB_CI", "true")
    for audience in ("pypi", "testpypi", "http://test.audience", "1st"):
        name = cisystems.id_token_variable(audience)
        monkeypatch.setenv(name, f"token-for-{audience}")
        assert detect_gitlab(audience) == f"token-for-{audience}", name
        monkeypatch.delenv(name)
    assert cisystems.id_token_variable("pypi") == "PYPI_ID_TOKEN"
    assert cisystems.id_token_variable("testpypi") == "TESTPYPI_ID_TOKEN"


def test_the_id_token_joins_the_masked_secrets(home: dict[str, str]) -> None:
    environ = {**home, **GITLAB, "PYPI_ID_TOKEN": ID_TOKEN}
    secrets: list[str] = []
    found = credentials.require(PYPI, environ, secrets)
    assert found.source == "trusted publishing (GitLab CI OIDC, through twine)"
    assert secrets == [ID_TOKEN]
    # And before any step needs it: what a user's command prints is masked too.
    assert ID_TOKEN in credentials.environment_secrets((), None, environ)
    assert "request-token" in credentials.environment_secrets((), None, ACTIONS)


def test_no_credentials_says_what_each_ci_job_needs(home: dict[str, str]) -> None:
    with pytest.raises(credentials.NoCredentials) as caught:
        credentials.require(PYPI, {**home, **GITLAB}, [])
    hint = caught.value.hint
    assert "in GitHub Actions, PyPI trusted publishing needs `id-token: write`" in hint
    assert "in GitLab CI, the job needs the ID token `id_tokens: PYPI_ID_TOKEN: aud: pypi`" in hint
    testpypi = credentials.missing_hint(TESTPYPI)
    assert "`id_tokens: TESTPYPI_ID_TOKEN: aud: testpypi`" in testpypi
    # An index without trusted publishing is not sent looking for it.
    private = credentials.missing_hint(PRIVATE)
    assert "id_tokens" not in private
    assert "id-token" not in private
    assert private.endswith("for https://pypi.example/legacy/.")


def test_ci_variables_are_read_only_in_cisystems() -> None:
    """The CI-system differences live in one module: no other module of release/ has a CI
    system's variable as a string of its own (a key it reads); texts may name them. The
    pipeline templates in release/workflows/ are written for those systems."""
    import ast

    root = Path(__file__).resolve().parent.parent / "release"
    variables = re.compile(
        r"GITHUB_(REF|OUTPUT|STEP_SUMMARY|ACTIONS|REPOSITORY)|ACTIONS_ID_TOKEN_\w+|GITLAB_CI"
        r"|CI_COMMIT_\w+|CI_PROJECT_\w+|CI_JOB_\w+|\w*_ID_TOKEN")
    checked, found = 0, set()
    for path in root.rglob("*.py"):
        if path.name == "cisystems.py" or path.parent.name == "workflows":
            continue
        checked += 1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and variables.fullmatch(value):
                found.add((path.relative_to(root).as_posix(), value))
    assert not found, sorted(found)
    assert checked > 40
    # The rule is live: cisystems.py itself is full of them.
    tree = ast.parse((root / "cisystems.py").read_text(encoding="utf-8"))
    assert any(isinstance(n, ast.Constant) and n.value == "CI_COMMIT_TAG" for n in ast.walk(tree))
