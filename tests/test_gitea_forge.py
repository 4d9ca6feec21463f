"""The Gitea/Forgejo forge (release/forges/gitea.py) against the Gitea stand-in
(tests/gitea_standin.py): its configuration, each part of the Forge protocol, what it does
when an answer is lost or refused, where its token may go, and that the token never leaves
the process in any form.

The full release and the kill at every announce boundary run against Gitea in
tests/test_forge_matrix.py.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import (
    all_git_objects,
    assert_no_crash,
    commit_all,
    git,
    read_journal,
    run_release,
    target_env,
    written_files,
)
from gitea_standin import GiteaStandIn, Pull
from indexes import PypiserverIndex

from release import forges
from release.config import Forge as ForgeConfig
from release.errors import ConfigError
from release.forges import Announcement, Forge, ForgeError
from release.ops import CONFLICTING, MISSING, PRESENT

pytestmark = pytest.mark.cached_samples

WANT = Announcement("v1.3.0", "v1.3.0", "## 1.3.0 (2025-01-01)\n\n- Add a thing.\n",
                    draft=False, prerelease=False, latest=True)
WHEEL = "sample_project-1.3.0-py3-none-any.whl"
SDIST = "sample_project-1.3.0.tar.gz"


@pytest.fixture
def gt() -> Iterator[GiteaStandIn]:
    with GiteaStandIn() as standin:
        yield standin


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's back-off between retries, without the waiting."""
    monkeypatch.setattr("release.forges.http.time.sleep", lambda _seconds: None)


def config(standin: GiteaStandIn, repository: str | None = None) -> ForgeConfig:
    return ForgeConfig(repository or standin.full_name, "gitea", standin.base_url,
                       standin.api_url, "GITEA_TOKEN")


def connect(standin: GiteaStandIn, token: str | None = None,
            repository: str | None = None) -> Forge:
    secrets: list[str] = []
    forge = forges.connect(config(standin, repository),
                           {"GITEA_TOKEN": standin.token if token is None else token}, secrets)
    assert secrets == [standin.token if token is None else token]
    return forge


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / WHEEL).write_bytes(b"PK\x03\x04 a wheel\r\n--not a boundary")
    (tmp_path / SDIST).write_bytes(b"\x1f\x8b an sdist")
    return tmp_path


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def posts(standin: GiteaStandIn, suffix: str) -> int:
    return len([r for r in standin.requests if r.method == "POST" and r.path.endswith(suffix)])


def downloads(standin: GiteaStandIn) -> list[str]:
    return [r.path for r in standin.requests
            if r.method == "GET" and not r.path.startswith("/api/")]


# --- configuration ----------------------------------------------------------------------------

def _forge_table(table: dict[str, object]) -> ForgeConfig:
    from release import config as config_module

    found = config_module.load(Path("/nowhere"), environ={}, pyproject={
        "project": {"name": "x", "version": "1.0"},
        "tool": {"release": {"version-locations": ["pyproject.toml"], "forge": table}},
    }, is_file=lambda _path: True).forge
    assert found is not None
    return found


@pytest.mark.parametrize(("table", "expected"), [
    ({"kind": "gitea", "repository": "o/n", "url": "https://codeberg.org"},
     ("https://codeberg.org", "https://codeberg.org/api/v1", "GITEA_TOKEN")),
    ({"kind": "gitea", "repository": "o/n", "url": "https://example.org/git/"},
     ("https://example.org/git", "https://example.org/git/api/v1", "GITEA_TOKEN")),
    ({"kind": "gitea", "repository": "o/n", "url": "https://git.example.org",
      "api-url": "http://127.0.0.1:9/api/v1/", "token-env": "FORGEJO_TOKEN"},
     ("https://git.example.org", "http://127.0.0.1:9/api/v1", "FORGEJO_TOKEN")),
])
def test_url_derives_the_api_url_and_the_token_is_gitea_token(
        table: dict[str, object], expected: tuple[str, str, str]) -> None:
    forge = _forge_table(table)

    assert (forge.url, forge.api_url, forge.token_env) == expected
    assert (forge.kind, forge.repository, forge.draft, forge.attach_artifacts) == (
        "gitea", "o/n", False, True)


def test_gitea_has_no_default_host() -> None:
    with pytest.raises(ConfigError) as raised:
        _forge_table({"kind": "gitea", "repository": "o/n"})

    text = f"{raised.value.message} {raised.value.hint}"
    assert "`forge.url` is missing: a Gitea forge has no default host" in text
    assert 'url = "https://codeberg.org"' in text


def test_the_repository_is_owner_slash_name() -> None:
    with pytest.raises(ConfigError, match=r"'group/sub/name' is not of the form OWNER/NAME"):
        _forge_table({"kind": "gitea", "repository": "group/sub/name",
                      "url": "https://codeberg.org"})


@pytest.mark.parametrize("remote", ["git@codeberg.org:octo/hello.git",
                                    "https://codeberg.org/octo/hello.git",
                                    "ssh://git@Codeberg.org/octo/hello"])
def test_a_codeberg_origin_is_a_gitea_forge(remote: str) -> None:
    assert forges.kind_from_url(remote) == "gitea"


def test_without_a_token_connect_says_which_variable(gt: GiteaStandIn) -> None:
    with pytest.raises(ForgeError) as raised:
        forges.connect(config(gt), {"GITHUB_TOKEN": "x"})

    assert raised.value.message == "No Gitea token: the environment variable GITEA_TOKEN is empty."
    assert "write:repository" in raised.value.hint


# --- releases ---------------------------------------------------------------------------------

def test_a_draft_is_made_found_by_tag_updated_and_published(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    assert forge.find("v1.3.0") is None
    assert (forge.title, forge.where) == ("Gitea", "gitea octo-org/hello-release")

    draft = forge.create_draft(WANT)

    found = forge.find("v1.3.0")
    assert found is not None
    assert found["id"] == draft["id"]
    assert not forge.is_published(found)
    assert forge.matches(found, WANT)
    assert not forge.is_sealed(found)
    changed = Announcement(WANT.tag, WANT.title, "Other notes.\n", draft=False,
                           prerelease=True, latest=False)
    assert not forge.matches(found, changed)
    updated = forge.update(found, changed)
    assert (updated["body"], updated["prerelease"], updated["draft"]) == (
        "Other notes.\n", True, True)
    published = forge.publish(updated, changed)
    assert forge.is_published(published)
    assert not forge.is_sealed(published)  # Gitea and Forgejo have no immutable releases
    assert [r["tag_name"] for r in gt.releases()] == ["v1.3.0"]


def test_update_of_a_release_that_matches_sends_nothing(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    draft = forge.create_draft(WANT)
    gt.clear_requests()

    assert forge.update(draft, WANT) is draft
    assert gt.requests == []


def test_a_lost_create_answer_finds_the_release_instead_of_posting_again(
        gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "*/releases", 502, after_effect=True)

    draft = connect(gt).create_draft(WANT)

    assert draft["tag_name"] == "v1.3.0"
    assert posts(gt, "/releases") == 1
    assert len(gt.releases()) == 1


def test_a_create_that_never_arrived_is_sent_again_after_looking(gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "*/releases", 0)  # the connection drops before Gitea acts

    draft = connect(gt).create_draft(WANT)

    assert draft["draft"] is True
    methods = [(r.method, r.path.rsplit("/", 1)[-1]) for r in gt.requests]
    assert methods == [("POST", "releases"), ("GET", "v1.3.0"), ("POST", "releases")]
    assert len(gt.releases()) == 1


def test_a_409_is_answered_with_the_release_the_tag_has(gt: GiteaStandIn) -> None:
    existing = gt.seed_release("v1.3.0", draft=True, body="Old notes.")

    draft = connect(gt).create_draft(WANT)

    assert draft["id"] == existing["id"]
    assert len(gt.releases()) == 1


def test_a_409_for_a_release_the_token_cannot_see_says_so(gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "*/releases", 409, body={"message": "Release is has no Tag",
                                                  "url": f"{gt.base_url}/api/swagger"})

    with pytest.raises(ForgeError) as raised:
        connect(gt).create_draft(WANT)

    assert raised.value.status == 409
    assert "has a release already, but the token cannot find it" in raised.value.message
    assert "write access" in raised.value.hint
    assert gt.releases() == []


# --- attachments ------------------------------------------------------------------------------

def test_files_are_attached_and_read_back_by_download(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    files = {WHEEL: sha(dist / WHEEL), SDIST: sha(dist / SDIST), "other.zip": "0" * 64}

    assert {n: s for n, (s, _) in forge.file_states(release, files).items()} == {
        WHEEL: MISSING, SDIST: MISSING, "other.zip": MISSING}
    forge.attach(release, dist / WHEEL)
    forge.attach(release, dist / SDIST)
    fresh = connect(gt)  # another step, another process: nothing remembered
    states = fresh.file_states(release, files)

    assert {n: s for n, (s, _) in states.items()} == {
        WHEEL: PRESENT, SDIST: PRESENT, "other.zip": MISSING}
    assert sorted(downloads(gt)) == sorted(
        f"/octo-org/hello-release/releases/download/v1.3.0/{n}" for n in (WHEEL, SDIST))
    attached = {a["name"]: gt.attachment_bytes(a["id"]) for a in gt.attachments(release["id"])}
    assert attached == {WHEEL: (dist / WHEEL).read_bytes(), SDIST: (dist / SDIST).read_bytes()}
    assert posts(gt, "/assets") == 2


def test_other_bytes_under_the_name_are_conflicting(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    gt.seed_attachment(release["id"], WHEEL, b"someone else's wheel")

    state, asset = forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL]

    assert state == CONFLICTING
    assert asset is not None
    assert asset["name"] == WHEEL


def test_a_name_attached_twice_is_present_only_if_both_hold_the_file(
        gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    wanted = {WHEEL: sha(dist / WHEEL)}
    gt.seed_attachment(release["id"], WHEEL, (dist / WHEEL).read_bytes())
    gt.seed_attachment(release["id"], WHEEL, (dist / WHEEL).read_bytes())
    assert forge.file_states(release, wanted)[WHEEL][0] == PRESENT

    other = gt.seed_attachment(release["id"], WHEEL, b"different")
    state, asset = forge.file_states(release, wanted)[WHEEL]

    assert state == CONFLICTING
    assert asset is not None
    assert asset["id"] == other["id"]


def test_a_size_that_cannot_match_needs_no_download(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)  # this process knows the size it uploaded
    gt.seed_attachment(release["id"], WHEEL, b"a different size")
    gt.seed_attachment(release["id"], SDIST, b"")  # empty, for a file that is not
    gt.clear_requests()

    states = forge.file_states(release, {WHEEL: sha(dist / WHEEL), SDIST: sha(dist / SDIST)})

    assert {n: s for n, (s, _) in states.items()} == {WHEEL: CONFLICTING, SDIST: CONFLICTING}
    ours = gt.attachments(release["id"])[0]
    assert downloads(gt) == [f"/attachments/{ours['uuid']}"]  # a name twice: read by uuid


def test_detach_removes_the_attachment_and_a_repeat_is_harmless(
        gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    gt.seed_attachment(release["id"], WHEEL, b"broken")
    _state, asset = forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL]
    assert asset is not None

    forge.detach(asset)
    forge.detach(asset)  # its answer was lost: the DELETE is repeated, and finds nothing

    assert gt.attachments(release["id"]) == []


def test_a_lost_upload_answer_is_not_sent_again(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    gt.fail_next("POST", "*/assets", 502, after_effect=True)

    with pytest.raises(ForgeError) as raised:
        forge.attach(release, dist / WHEEL)

    assert raised.value.uncertain
    assert posts(gt, "/assets") == 1
    assert forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL][0] == PRESENT


# --- where the token goes ---------------------------------------------------------------------

def test_object_storage_redirects_get_no_token(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)
    gt.download_mode = "object"

    assert forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL][0] == PRESENT
    assert len(gt.object_requests) == 1
    assert gt.object_requests[0][1] is False, "the token went to object storage"


def test_a_redirect_on_the_forge_keeps_the_token(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)
    gt.download_mode = "attachments"  # tag route -> /attachments/{uuid}, private repository

    assert forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL][0] == PRESENT
    assert downloads(gt)[-1].startswith("/attachments/")


def test_a_download_url_on_another_host_is_not_sent_the_token(
        gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)
    gt.root_url = "http://127.0.0.1:9/"  # ROOT_URL is not the address the release uses

    assert forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL][0] == PRESENT
    assert downloads(gt) == [f"/attachments/{gt.attachments(release['id'])[0]['uuid']}"]


def test_a_drafts_files_are_read_back_on_gitea_before_1_22(gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)
    gt.draft_downloads_by_tag = False

    assert forge.file_states(release, {WHEEL: sha(dist / WHEEL)})[WHEEL][0] == PRESENT
    assert downloads(gt)[-2].endswith(f"/releases/download/v1.3.0/{WHEEL}")
    assert downloads(gt)[-1].startswith("/attachments/")


def test_an_attachment_that_cannot_be_downloaded_is_an_error_not_a_state(
        gt: GiteaStandIn, dist: Path) -> None:
    forge = connect(gt)
    release = forge.create_draft(WANT)
    forge.attach(release, dist / WHEEL)
    gt.fail_next("GET", "/octo-org/hello-release/releases/download/*", 404)
    gt.fail_next("GET", "/attachments/*", 404)

    with pytest.raises(ForgeError) as raised:
        forge.file_states(release, {WHEEL: sha(dist / WHEEL)})

    assert raised.value.status == 404
    assert "/attachments/" in raised.value.message
    assert f"{WHEEL} is attached but cannot be downloaded with the token" in raised.value.hint
    assert len(gt.attachments(release["id"])) == 1  # nothing was detached


# --- refusals and failures --------------------------------------------------------------------

def test_a_wrong_token_is_reported_without_it(gt: GiteaStandIn) -> None:
    wrong = "gt_wr0ng/t+k@n:%25?x"

    with pytest.raises(ForgeError) as raised:
        connect(gt, token=wrong).find("v1.3.0")

    error = raised.value
    assert error.status == 401
    assert error.message.startswith("Gitea rejected the token (GET ")
    assert "user does not exist" in error.message
    assert "GITEA_TOKEN" in error.hint
    for form in (wrong, quote(wrong, safe=""), quote(wrong)):
        assert form not in str(error)


def test_a_token_echoed_by_the_forge_is_masked(gt: GiteaStandIn) -> None:
    gt.fail_next("GET", "*", 400, body={"message": f"bad header: token {gt.token}"})

    with pytest.raises(ForgeError) as raised:
        connect(gt).find("v1.3.0")

    assert gt.token not in str(raised.value)
    assert "bad header: token ***" in raised.value.message


@pytest.mark.parametrize(("token", "status", "hint"), [
    ("read_only_token", 403, "write access to the releases of octo-org/hello-release"),
    ("read_scope_token", 403, "write:repository scope"),
])
def test_a_token_that_may_not_write_is_told_what_it_needs(
        gt: GiteaStandIn, token: str, status: int, hint: str) -> None:
    with pytest.raises(ForgeError) as raised:
        connect(gt, token=getattr(gt, token)).create_draft(WANT)

    assert raised.value.status == status
    assert hint in raised.value.hint


def test_an_unknown_repository_is_404_with_a_hint(gt: GiteaStandIn) -> None:
    forge = connect(gt, repository="octo-org/nothing")
    assert forge.find("v1.3.0") is None

    with pytest.raises(ForgeError) as raised:
        forge.create_draft(WANT)

    assert raised.value.status == 404
    assert "The target couldn't be found." in raised.value.message
    assert "Check `repository` (octo-org/nothing) and `url`" in raised.value.hint


REFUSALS = {  # stand-in setting: (its value, status, what the message says, what the hint says)
    "max_file_size": (8, 413, "exceeds limit 8", "larger than the forge"),
    "proxy_body_limit": (100, 413, "413 Request Entity Too Large nginx", "proxy"),
    "allowed_types": (".zip", 400, "forbidden file extension", "ALLOWED_TYPES"),
    "attachments_enabled": (False, 404, "Attachment is not enabled", "[attachment] ENABLED"),
}


@pytest.mark.parametrize("setting", sorted(REFUSALS))
def test_refused_uploads_say_why_and_what_to_change(
        gt: GiteaStandIn, dist: Path, setting: str) -> None:
    value, status, said, hint = REFUSALS[setting]
    forge = connect(gt)
    release = forge.create_draft(WANT)
    setattr(gt, setting, value)

    with pytest.raises(ForgeError) as raised:
        forge.attach(release, dist / WHEEL)

    error = raised.value
    assert (error.status, error.uncertain) == (status, False)
    assert said in error.message
    assert "<" not in error.message  # a proxy's page is shown as its text
    assert hint in error.hint
    assert gt.attachments(release["id"]) == []


def test_forgejo_quota_is_a_413_with_a_hint(dist: Path) -> None:
    with GiteaStandIn(flavor="forgejo") as forgejo:
        forgejo.quota_bytes = 0
        forge = connect(forgejo)
        release = forge.create_draft(WANT)

        with pytest.raises(ForgeError) as raised:
            forge.attach(release, dist / WHEEL)

    assert raised.value.status == 413
    assert "quota exceeded" in raised.value.message
    assert "quota" in raised.value.hint


def test_server_errors_on_reads_and_edits_are_retried(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    draft = forge.create_draft(WANT)
    gt.fail_next("GET", "*/releases/tags/*", 500, count=2)
    gt.fail_next("PATCH", "*/releases/*", 503, count=3)

    assert forge.find("v1.3.0") is not None
    assert forge.is_published(forge.publish(draft, WANT))


def test_a_server_that_keeps_failing_is_reported_after_the_retries(gt: GiteaStandIn) -> None:
    gt.fail_next("GET", "*", 500, count=4)

    with pytest.raises(ForgeError) as raised:
        connect(gt).find("v1.3.0")

    assert raised.value.uncertain
    assert "Gitea answered 500 to GET" in raised.value.message
    assert "run release resume later" in raised.value.hint
    assert len(gt.requests) == 4


def test_an_unreachable_forge_says_where(gt: GiteaStandIn) -> None:
    cfg = ForgeConfig(gt.full_name, "gitea", "http://127.0.0.1:9", "http://127.0.0.1:9/api/v1",
                      "GITEA_TOKEN")
    forge = forges.connect(cfg, {"GITEA_TOKEN": gt.token})

    with pytest.raises(ForgeError) as raised:
        forge.find("v1.3.0")

    assert raised.value.status == 0
    assert raised.value.message.startswith("Gitea at http://127.0.0.1:9 cannot be reached")


# --- the token never leaves the process -------------------------------------------------------

TOKEN = "gt_T0k/en+x@y:z%3D?a&b=c#d~!"
WRONG_TOKEN = "gt_Wr0ng/t+k@n:%25?x&y=z#"


def token_forms() -> list[str]:
    forms: list[str] = []
    for token in (TOKEN, WRONG_TOKEN):
        forms += [token, quote(token, safe=""), quote(token),
                  base64.b64encode(token.encode()).decode()]
    return forms


@pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")
def test_the_gitea_token_is_in_no_output_and_no_written_file(
        sample_copy: Callable[..., Path], pypiserver: PypiserverIndex, gt: GiteaStandIn) -> None:
    gt.token = TOKEN
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    text = (f'\n[tool.release.forge]\nkind = "gitea"\nrepository = "{gt.full_name}"\n'
            f'url = "{gt.base_url}"\n\n[[tool.release.publish]]\nname = "local"\n'
            f'repository-url = "{pypiserver.upload_url}"\nindex-url = "{pypiserver.simple_url}"\n')
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(project, "Configure publishing and the Gitea release")
    git(project, "push", "--quiet", "origin", "main")
    right = {**target_env(index=pypiserver), "GITEA_TOKEN": TOKEN}
    wrong = {**right, "GITEA_TOKEN": WRONG_TOKEN}

    outputs = []
    for args, env, code in [(("run", "--yes"), wrong, 1), (("status",), wrong, 1),
                            (("resume",), right, 0), (("status", "--json"), right, 0)]:
        result = run_release(project, *args, env=env)
        assert result.code == code, (args, result.stdout, result.stderr)
        assert_no_crash(result)
        outputs.append(result.stdout + result.stderr)
    assert re.search(r"Gitea rejected the token .*Check the token in GITEA_TOKEN", outputs[0],
                     re.S)
    assert read_journal(project)["finished"] is True
    assert len(gt.releases()) == 1

    files = written_files(project)
    assert project / ".git" / "release-pipeline" / "journal.json" in files
    objects = all_git_objects(project)
    for form in token_forms():
        for output in outputs:
            assert form not in output, f"a token ({form!r}) in the output"
        for path in files:
            assert form.encode() not in path.read_bytes(), f"a token ({form!r}) in {path}"
        assert form.encode() not in objects, f"a token ({form!r}) in a git object"


# --- change requests: pull requests, closed with an issue comment --------------------------------

HEAD, BASE = "release/v1.3.0", "main"


def test_a_pull_request_is_found_opened_updated_and_closed_with_a_comment(
    gt: GiteaStandIn,
) -> None:
    forge = connect(gt)
    assert forge.find_change(HEAD, BASE) is None
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert forge.change_ref(made) == f"#1 ({gt.app_url}{gt.full_name}/pulls/1)"
    found = forge.find_change(HEAD, BASE)
    assert found is not None
    assert found["number"] == made["number"]
    assert forge.find_change(HEAD, "maint") is None
    assert forge.find_change("release/v9", BASE) is None
    gt.clear_requests()
    assert forge.update_change(found, "Release 1.3.0", "notes") is found, "nothing to send"
    assert gt.requests == []
    updated = forge.update_change(found, "Release 2.0.0", "more notes")  # Gitea answers 201
    assert (updated["title"], updated["body"]) == ("Release 2.0.0", "more notes")
    forge.close_change(updated, "Closed: nothing to release.")
    assert gt.pull_comments(1) == ["Closed: nothing to release."]
    assert gt.pulls()[0]["state"] == "closed"
    assert forge.find_change(HEAD, BASE) is None
    assert len(gt.pulls()) == 1


def test_the_open_pull_request_is_found_beyond_the_first_page(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    for index in range(60):  # newer ones: the release pull request is on the second page
        gt.get_repo().pulls[index + 2] = Pull(index + 2, f"other {index}", "",
                                              f"feature/{index}", BASE, gt.bot)
    found = forge.find_change(HEAD, BASE)
    assert found is not None
    assert found["number"] == made["number"]
    assert len([r for r in gt.requests if r.path.endswith("/pulls") and r.method == "GET"]) >= 2


def test_an_open_pull_request_for_the_branches_is_taken_not_duplicated(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    first = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    again = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)  # 409: the open one
    assert again["number"] == first["number"]
    assert [r.status for r in gt.requests if r.method == "POST"] == [201, 409]
    assert len(gt.pulls()) == 1


def test_a_lost_answer_to_the_create_finds_the_pull_request_made(gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "*/pulls", 0, after_effect=True)
    made = connect(gt).open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert made["number"] == 1
    assert len(gt.pulls()) == 1


def test_a_close_that_stopped_after_its_comment_does_not_comment_twice(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    gt.fail_next("PATCH", "*/pulls/1", 403)
    with pytest.raises(ForgeError):
        forge.close_change(made, "Closed: nothing to release.")
    assert gt.pulls()[0]["state"] == "open"
    forge.close_change(made, "Closed: nothing to release.")
    assert gt.pull_comments(1) == ["Closed: nothing to release."]
    assert gt.pulls()[0]["state"] == "closed"


def test_a_token_without_write_issue_cannot_close_and_the_hint_says_so(gt: GiteaStandIn) -> None:
    forge = connect(gt, token=gt.repo_scope_token)
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)  # write:repository suffices
    with pytest.raises(ForgeError) as raised:
        forge.close_change(made, "Closed: nothing to release.")
    assert raised.value.status == 403
    assert ":issue]" in raised.value.message  # reading the comments needs the scope too
    assert "write:issue" in raised.value.hint
    assert gt.pulls()[0]["state"] == "open", "not closed without its comment"
    assert gt.repo_scope_token not in str(raised.value)


def test_pull_request_errors_carry_pull_request_hints(gt: GiteaStandIn) -> None:
    forge = connect(gt)
    with pytest.raises(ForgeError) as raised:
        forge.open_change("Release 1.3.0", "notes", BASE, BASE)
    assert raised.value.status == 422
    assert "`pr-branch`" in raised.value.hint
    gt.get_repo().branches = {BASE}
    with pytest.raises(ForgeError) as raised:
        forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert raised.value.status == 404
    assert "pushed" in raised.value.hint
    assert "attachment" not in raised.value.hint
    with pytest.raises(ForgeError) as raised:
        connect(gt, token=gt.read_only_token).open_change("Release 1.3.0", "n", HEAD, BASE)
    assert raised.value.status == 403
    assert "pull requests" in raised.value.hint
    assert gt.read_only_token not in str(raised.value)


def test_a_token_gitea_rejects_is_masked_on_pull_requests(gt: GiteaStandIn) -> None:
    secret = "0123456789abcdef0123456789abcdef01234567"
    gt.fail_next("GET", "*/pulls", 401, body={"message": f"token {secret} is invalid"})
    with pytest.raises(ForgeError) as raised:
        connect(gt, token=secret).find_change(HEAD, BASE)
    assert raised.value.status == 401
    assert secret not in str(raised.value)
