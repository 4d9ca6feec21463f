"""Contract tests for tests/gitea_standin.py, with nothing but ``urllib.request`` as client.

They pin the documented Gitea/Forgejo behaviour the stand-in claims (see its module
docstring), so that the tests of the Gitea forge can trust it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
from gitea_standin import (
    FORBIDDEN_TYPE,
    INVALID_TOKEN,
    NO_WRITE,
    NOT_FOUND,
    TOKEN_REQUIRED,
    GiteaStandIn,
)

RELEASE_FIELDS: dict[str, type] = {
    # modules/structs/release.go: Release
    "id": int, "tag_name": str, "target_commitish": str, "name": str, "body": str, "url": str,
    "html_url": str, "tarball_url": str, "zipball_url": str, "upload_url": str, "draft": bool,
    "prerelease": bool, "created_at": str, "published_at": str, "author": dict, "assets": list,
}
ATTACHMENT_FIELDS: dict[str, type] = {
    # modules/structs/attachment.go: Attachment (no digest)
    "id": int, "name": str, "size": int, "download_count": int, "created_at": str, "uuid": str,
    "browser_download_url": str,
}


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(url: str, method: str = "GET", *, token: str | None = None, data: bytes | None = None,
         body: Any = None, headers: dict[str, str] | None = None, follow: bool = True,
         scheme: str = "token") -> Reply:
    """One request; HTTP errors are returned, not raised."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"{scheme} {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    opener = urllib.request.build_opener(*([] if follow else [_NoRedirect()]))
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with opener.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def form(field: str, filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body written out by hand (not by the code under test)."""
    boundary = "contract-test-boundary-7d1f"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def gt() -> Iterator[GiteaStandIn]:
    with GiteaStandIn() as standin:
        yield standin


def repo_url(gt: GiteaStandIn, suffix: str = "") -> str:
    return f"{gt.api_url}/repos/{gt.full_name}{suffix}"


def create(gt: GiteaStandIn, token: str | None = None, **fields: Any) -> Reply:
    return call(repo_url(gt, "/releases"), "POST", token=token or gt.token, body=fields)


def upload(gt: GiteaStandIn, release: dict[str, Any], filename: str, data: bytes, *,
           name: str = "", token: str | None = None) -> Reply:
    body, headers = form("attachment", filename, data)
    query = f"?name={name}" if name else ""
    return call(repo_url(gt, f"/releases/{release['id']}/assets{query}"), "POST",
                token=token or gt.token, data=body, headers=headers)


def assert_fields(obj: dict[str, Any], fields: dict[str, type]) -> None:
    for key, kind in fields.items():
        assert key in obj, f"{key} missing from {sorted(obj)}"
        assert isinstance(obj[key], kind), f"{key}={obj[key]!r} is not {kind}"


def assert_error(reply: Reply, status: int, message: str) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    payload: dict[str, Any] = reply.json()
    assert payload["message"] == message
    assert payload["url"].endswith("/api/swagger")
    return payload


def assert_not_found(reply: Reply, message: str = NOT_FOUND) -> None:
    payload = assert_error(reply, 404, message)
    assert payload["errors"] is None


# --- releases ---------------------------------------------------------------------------------

def test_create_release_returns_201_and_the_release_schema(gt: GiteaStandIn) -> None:
    reply = create(gt, tag_name="v1.2.0", name="v1.2.0", body="## Features\n\n- a thing",
                   draft=True, prerelease=False)

    assert reply.status == 201
    release = reply.json()
    assert_fields(release, RELEASE_FIELDS)
    assert (release["tag_name"], release["name"], release["body"]) == (
        "v1.2.0", "v1.2.0", "## Features\n\n- a thing")
    assert release["draft"] is True
    assert release["target_commitish"] == "main"  # "If target is not provided use default branch"
    assert release["url"] == repo_url(gt, f"/releases/{release['id']}")
    assert release["upload_url"] == release["url"] + "/assets"
    assert release["html_url"] == f"{gt.base_url}/{gt.full_name}/releases/tag/v1.2.0"
    assert release["published_at"] == release["created_at"]
    assert time.strptime(release["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert release["author"]["login"] == "release-bot"
    assert release["assets"] == []


def test_get_release_by_tag_finds_drafts_for_writers_only(gt: GiteaStandIn) -> None:
    draft = create(gt, tag_name="v2.0.0", draft=True).json()

    mine = call(repo_url(gt, "/releases/tags/v2.0.0"), token=gt.token)
    case = call(repo_url(gt, "/releases/tags/V2.0.0"), token=gt.token)
    reader = call(repo_url(gt, "/releases/tags/v2.0.0"), token=gt.read_only_token)

    assert mine.status == 200
    assert mine.json() == draft
    assert case.json()["id"] == draft["id"]  # lower_tag_name
    assert_not_found(reader)  # go-gitea/gitea#36659


def test_published_releases_are_found_by_tag_by_readers(gt: GiteaStandIn) -> None:
    create(gt, tag_name="v2.0.0")

    assert call(repo_url(gt, "/releases/tags/v2.0.0"), token=gt.read_only_token).status == 200
    assert_not_found(call(repo_url(gt, "/releases/tags/v9.9.9"), token=gt.token))


def test_a_tag_holds_one_release_even_as_a_draft(gt: GiteaStandIn) -> None:
    assert create(gt, tag_name="v1.0.0", draft=True).status == 201

    assert_error(create(gt, tag_name="v1.0.0"), 409, "Release is has no Tag")
    assert_error(create(gt, tag_name="V1.0.0", draft=True), 409, "Release is has no Tag")
    assert len(gt.releases()) == 1


def test_forgejo_words_the_conflict_its_own_way() -> None:
    with GiteaStandIn(flavor="forgejo") as forgejo:
        create(forgejo, tag_name="v1.0.0")
        assert_error(create(forgejo, tag_name="v1.0.0"), 409, "Release has no Tag")


def test_missing_tag_name_is_422(gt: GiteaStandIn) -> None:
    assert_error(create(gt, name="no tag"), 422, "[TagName]: Required")
    reply = call(repo_url(gt, "/releases"), "POST", token=gt.token, data=b'{"tag_name": ',
                 headers={"Content-Type": "application/json"})
    assert reply.status == 422
    assert gt.releases() == []


def test_edit_changes_the_given_fields_and_skips_empty_strings(gt: GiteaStandIn) -> None:
    draft = create(gt, tag_name="v1.0.0", name="v1.0.0", body="old", draft=True).json()

    reply = call(draft["url"], "PATCH", token=gt.token,
                 body={"name": "", "body": "new notes", "draft": False})

    assert reply.status == 200
    edited = reply.json()
    assert_fields(edited, RELEASE_FIELDS)
    assert (edited["name"], edited["body"], edited["draft"]) == ("v1.0.0", "new notes", False)
    assert edited["prerelease"] is False
    assert call(repo_url(gt, "/releases/tags/v1.0.0"), token=gt.token).json() == edited


def test_edit_of_an_unknown_release_is_404(gt: GiteaStandIn) -> None:
    assert_not_found(call(repo_url(gt, "/releases/424242"), "PATCH", token=gt.token,
                          body={"name": "x"}))


# --- attachments ------------------------------------------------------------------------------

def test_upload_is_multipart_and_returns_201_and_the_attachment_schema(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0", draft=True).json()

    data = b"\x1f\x8b sdist bytes\r\n--contract-test"  # a delimiter-like line, not the boundary

    reply = upload(gt, release, "pkg-1.0.tar.gz", data)

    assert reply.status == 201
    attachment = reply.json()
    assert_fields(attachment, ATTACHMENT_FIELDS)
    assert "digest" not in attachment
    assert (attachment["name"], attachment["size"]) == ("pkg-1.0.tar.gz", len(data))
    assert attachment["browser_download_url"] == (
        f"{gt.base_url}/{gt.full_name}/releases/download/v1.0.0/pkg-1.0.tar.gz")
    assert gt.attachment_bytes(attachment["id"]) == data
    listed = call(repo_url(gt, f"/releases/{release['id']}/assets"), token=gt.token).json()
    assert listed == [attachment]
    by_tag = call(repo_url(gt, "/releases/tags/v1.0.0"), token=gt.token).json()
    assert by_tag["assets"] == [attachment]


def test_the_name_query_overrides_the_part_filename(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()

    reply = upload(gt, release, "upload.bin", b"x", name="pkg.whl")

    assert reply.json()["name"] == "pkg.whl"


def test_a_raw_body_with_a_name_is_an_upload_too(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    url = repo_url(gt, f"/releases/{release['id']}/assets")

    named = call(url + "?name=a.whl", "POST", token=gt.token, data=b"raw",
                 headers={"Content-Type": "application/octet-stream"})
    unnamed = call(url, "POST", token=gt.token, data=b"raw",
                   headers={"Content-Type": "application/octet-stream"})

    assert (named.status, named.json()["size"]) == (201, 3)
    assert_error(unnamed, 400, "Could not determine name of attachment.")


def test_a_form_without_the_attachment_part(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    body, headers = form("file", "a.whl", b"x")
    url = repo_url(gt, f"/releases/{release['id']}/assets")

    assert_error(call(url, "POST", token=gt.token, data=body, headers=headers), 500, "")


def test_one_name_may_be_attached_twice_and_deleted_once(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    first = upload(gt, release, "a.whl", b"one").json()
    second = upload(gt, release, "a.whl", b"two").json()
    assert first["id"] != second["id"]
    url = repo_url(gt, f"/releases/{release['id']}/assets/{first['id']}")

    assert call(url, "DELETE", token=gt.token).status == 204
    assert_not_found(call(url, "DELETE", token=gt.token))
    assert [a["id"] for a in gt.attachments(release["id"])] == [second["id"]]


def test_attachments_of_an_unknown_release_are_404(gt: GiteaStandIn) -> None:
    assert_not_found(call(repo_url(gt, "/releases/424242/assets"), token=gt.token))
    assert_not_found(upload(gt, {"id": 424242}, "a.whl", b"x"))


def test_a_drafts_attachments_are_listed_for_writers_only(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0", draft=True).json()

    assert call(repo_url(gt, f"/releases/{release['id']}/assets"), token=gt.token).status == 200
    assert_not_found(call(repo_url(gt, f"/releases/{release['id']}/assets"),
                          token=gt.read_only_token))


def test_upload_refusals(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()

    gt.allowed_types = ".zip,image/*"
    assert_error(upload(gt, release, "a.whl", b"x"), 400, FORBIDDEN_TYPE)
    assert upload(gt, release, "a.zip", b"x").status == 201
    gt.allowed_types = ""

    gt.max_file_size = 4
    assert_error(upload(gt, release, "a.whl", b"12345"), 413, "attachment size 5 exceeds limit 4")
    assert upload(gt, release, "a.whl", b"1234").status == 201
    gt.max_file_size = None

    gt.attachments_enabled = False
    assert_not_found(upload(gt, release, "b.whl", b"x"), "Attachment is not enabled")


def test_forgejo_quota_is_413_quota_exceeded() -> None:
    with GiteaStandIn(flavor="forgejo") as forgejo:
        forgejo.quota_bytes = 3
        release = create(forgejo, tag_name="v1.0.0").json()
        assert upload(forgejo, release, "a.whl", b"abc").status == 201

        reply = upload(forgejo, release, "b.whl", b"d")

        assert reply.status == 413
        assert reply.json() == {"message": "quota exceeded", "user_id": 3,
                                "username": "octo-org"}
        assert forgejo.attachments(release["id"])[0]["type"] == "attachment"


def test_a_proxy_in_front_answers_413_with_a_page(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    gt.proxy_body_limit = 100

    reply = upload(gt, release, "a.whl", b"x" * 200)

    assert reply.status == 413
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"413 Request Entity Too Large" in reply.body
    assert gt.attachments(release["id"]) == []


# --- downloads --------------------------------------------------------------------------------

def test_downloads_by_tag_and_by_uuid_need_the_token_on_a_private_repo(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    attachment = upload(gt, release, "a.whl", b"wheel").json()
    by_uuid = f"{gt.base_url}/attachments/{attachment['uuid']}"

    for url in (attachment["browser_download_url"], by_uuid):
        assert call(url, token=gt.token).body == b"wheel"
        assert call(url, token=gt.token, scheme="Bearer").body == b"wheel"
        assert call(url).status == 404
    assert gt.attachments(release["id"])[0]["download_count"] == 4


def test_a_drafts_files_are_served_to_writers(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0", draft=True).json()
    attachment = upload(gt, release, "a.whl", b"wheel").json()
    by_uuid = f"{gt.base_url}/attachments/{attachment['uuid']}"

    assert call(attachment["browser_download_url"], token=gt.token).body == b"wheel"
    assert call(attachment["browser_download_url"], token=gt.read_only_token).status == 404
    gt.draft_downloads_by_tag = False  # Gitea before go-gitea/gitea#31369
    assert call(attachment["browser_download_url"], token=gt.token).status == 404
    assert call(by_uuid, token=gt.token).body == b"wheel"


def test_downloads_may_redirect(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    attachment = upload(gt, release, "a.whl", b"wheel").json()
    url = attachment["browser_download_url"]

    gt.download_mode = "attachments"
    moved = call(url, token=gt.token, follow=False)
    assert (moved.status, moved.headers["Location"]) == (
        302, f"{gt.base_url}/attachments/{attachment['uuid']}")
    assert call(url, token=gt.token).body == b"wheel"

    gt.download_mode = "object"
    moved = call(url, token=gt.token, follow=False)
    assert moved.status == 302
    assert moved.headers["Location"].startswith(gt.objects_url + "/attachments/")
    assert urllib.request.urlopen(moved.headers["Location"], timeout=10).read() == b"wheel"
    assert gt.object_requests[-1][1] is False  # pre-signed: no token needed
    assert call(moved.headers["Location"].split("?")[0]).status == 403


def test_root_url_decides_the_urls_gitea_writes(gt: GiteaStandIn) -> None:
    gt.root_url = "https://git.example.org/"
    release = create(gt, tag_name="v1.0.0").json()

    assert release["url"].startswith("https://git.example.org/api/v1/repos/")
    attachment = upload(gt, release, "a.whl", b"x").json()
    assert attachment["browser_download_url"].startswith("https://git.example.org/octo-org/")
    conflict = assert_error(create(gt, tag_name="v1.0.0"), 409, "Release is has no Tag")
    assert conflict["url"] == "https://git.example.org/api/swagger"


# --- authentication and permissions -----------------------------------------------------------

def test_a_wrong_token_is_401(gt: GiteaStandIn) -> None:
    assert_error(call(repo_url(gt, "/releases/tags/v1"), token="0" * 40), 401, INVALID_TOKEN)


def test_token_and_bearer_both_carry_the_token(gt: GiteaStandIn) -> None:
    gt.seed_release("v1.0.0")

    for scheme in ("token", "Bearer"):
        reply = call(repo_url(gt, "/releases/tags/v1.0.0"), token=gt.token, scheme=scheme)
        assert reply.status == 200, scheme


def test_a_private_repo_without_token_is_404_like_a_missing_one(gt: GiteaStandIn) -> None:
    gt.seed_release("v1.0.0")

    hidden = call(repo_url(gt, "/releases/tags/v1.0.0"))
    missing = call(f"{gt.api_url}/repos/octo-org/nothing/releases/tags/v1.0.0", token=gt.token)

    assert_not_found(hidden)
    assert hidden.body == missing.body


def test_a_public_repo_reads_anonymously_but_writes_need_a_token(gt: GiteaStandIn) -> None:
    gt.get_repo().private = False
    gt.seed_release("v1.0.0")
    gt.seed_release("v1.1.0", draft=True)

    assert call(repo_url(gt, "/releases/tags/v1.0.0")).status == 200
    assert_not_found(call(repo_url(gt, "/releases/tags/v1.1.0")))
    assert_error(call(repo_url(gt, "/releases"), "POST", body={"tag_name": "v2"}), 401,
                 TOKEN_REQUIRED)


def test_an_account_that_may_only_read_cannot_write(gt: GiteaStandIn) -> None:
    assert_error(create(gt, token=gt.read_only_token, tag_name="v1.0.0"), 403, NO_WRITE)


def test_a_token_without_the_write_scope_is_403_before_the_repo_is_looked_up(
        gt: GiteaStandIn) -> None:
    gt.seed_release("v1.0.0")
    scope = "token does not have at least one of required scope(s): [write:repository]"

    assert call(repo_url(gt, "/releases/tags/v1.0.0"), token=gt.read_scope_token).status == 200
    assert_error(create(gt, token=gt.read_scope_token, tag_name="v2.0.0"), 403, scope)
    assert_error(call(f"{gt.api_url}/repos/nobody/nothing/releases", "POST",
                      token=gt.read_scope_token, body={"tag_name": "v2"}), 403, scope)


def test_requests_are_recorded_without_the_token(gt: GiteaStandIn) -> None:
    release = create(gt, tag_name="v1.0.0").json()
    upload(gt, release, "a.whl", b"x", name="a.whl")
    call(repo_url(gt, "/releases/tags/v1.0.0"), token="wrong")
    call(repo_url(gt, "/releases/tags/v1.0.0"))

    seen = [(r.host, r.method, r.status, r.auth) for r in gt.requests]

    assert seen == [("forge", "POST", 201, "release-bot"), ("forge", "POST", 201, "release-bot"),
                    ("forge", "GET", 401, "invalid"), ("forge", "GET", 404, "none")]
    assert gt.requests[1].query == "name=a.whl"
    assert gt.token not in repr(gt.requests)


# --- failure injection ------------------------------------------------------------------------

def test_injected_failures_are_bounded_and_hide_the_message(gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "/api/v1/repos/*/releases", 500, count=2)

    replies = [create(gt, tag_name="v1.0.0") for _ in range(3)]

    assert [r.status for r in replies] == [500, 500, 201]
    assert_error(replies[0], 500, "")
    assert len(gt.releases()) == 1


def test_injected_failure_after_effect_keeps_the_state_change(gt: GiteaStandIn) -> None:
    gt.fail_next("POST", "*/releases", 502, after_effect=True)

    lost = create(gt, tag_name="v1.0.0", draft=True)
    again = create(gt, tag_name="v1.0.0", draft=True)

    assert lost.status == 502
    assert again.status == 409  # the first attempt did create it
    assert [r["tag_name"] for r in gt.releases()] == ["v1.0.0"]


def test_dropped_connection(gt: GiteaStandIn) -> None:
    gt.fail_next("GET", "*", 0)

    with pytest.raises((urllib.error.URLError, ConnectionError)):
        call(repo_url(gt, "/releases/tags/v1"), token=gt.token)
    assert gt.requests[-1].status == 0
    assert call(repo_url(gt, "/releases/tags/v1"), token=gt.token).status == 404


# --- pull requests and their (issue) comments -----------------------------------------------------

PULL_FIELDS: dict[str, type] = {
    # modules/structs/pull.go: PullRequest (the fields the client reads, and a few more)
    "id": int, "number": int, "title": str, "body": str, "state": str, "html_url": str,
    "head": dict, "base": dict, "merged": bool, "user": dict, "created_at": str,
}


def open_pull(gt: GiteaStandIn, token: str | None = None, **fields: Any) -> Reply:
    return call(repo_url(gt, "/pulls"), "POST", token=token or gt.token, body=fields)


def pull_fields(**more: str) -> dict[str, str]:
    return {"head": "release/v1.3.0", "base": "main", "title": "Release 1.3.0", **more}


def test_create_pull_returns_201_and_the_pull_request_schema(gt: GiteaStandIn) -> None:
    reply = open_pull(gt, **pull_fields(body="notes"))
    assert reply.status == 201, reply.body
    pull = reply.json()
    assert_fields(pull, PULL_FIELDS)
    assert (pull["number"], pull["state"], pull["body"]) == (1, "open", "notes")
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("release/v1.3.0", "main")
    assert pull["html_url"] == f"{gt.app_url}{gt.full_name}/pulls/1"


def test_a_second_pull_for_the_same_head_and_base_is_409(gt: GiteaStandIn) -> None:
    assert open_pull(gt, **pull_fields()).status == 201
    payload = assert_error(open_pull(gt, **pull_fields(title="again")), 409,
                           "pull request already exists for these targets [id: 701, "
                           "issue_id: 1, head_repo_id: 1, base_repo_id: 1, head_branch: "
                           "release/v1.3.0, base_branch: main]")
    assert "errors" not in payload
    assert open_pull(gt, **pull_fields(base="maint")).status == 201, "another base"
    call(repo_url(gt, "/pulls/1"), "PATCH", token=gt.token, body={"state": "closed"})
    assert open_pull(gt, **pull_fields()).json()["number"] == 3, "a closed one does not count"


def test_create_pull_refusals(gt: GiteaStandIn) -> None:
    assert_error(open_pull(gt, head="a", base="main"), 422, "[Title]: Required")
    assert_error(open_pull(gt, **pull_fields(head="main")), 422,
                 "Invalid PullRequest: There are no changes between the head and the base")
    gt.get_repo().branches = {"main"}
    assert_not_found(open_pull(gt, **pull_fields()))
    assert gt.pulls() == []


def test_list_pulls_by_state_paginated(gt: GiteaStandIn) -> None:
    for index in range(3):
        open_pull(gt, **pull_fields(head=f"b{index}"))
    call(repo_url(gt, "/pulls/2"), "PATCH", token=gt.token, body={"state": "closed"})

    def listed(query: str) -> list[int]:
        reply = call(repo_url(gt, f"/pulls?{query}"), token=gt.token)
        assert reply.status == 200
        return [p["number"] for p in reply.json()]

    assert listed("") == [3, 1], "open by default, newest first"
    assert listed("state=closed") == [2]
    assert listed("state=all") == [3, 2, 1]
    assert listed("state=all&limit=2&page=2") == [1]
    reply = call(repo_url(gt, "/pulls?state=all&limit=2"), token=gt.token)
    assert reply.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in reply.headers["Link"]


def test_edit_pull_answers_201_and_closes(gt: GiteaStandIn) -> None:
    open_pull(gt, **pull_fields(body="x"))
    url = repo_url(gt, "/pulls/1")
    reply = call(url, "PATCH", token=gt.token, body={"title": "Release 2.0.0", "body": "y"})
    assert reply.status == 201, "Gitea answers 201 to an edit"
    assert (reply.json()["title"], reply.json()["body"]) == ("Release 2.0.0", "y")
    assert call(url, "PATCH", token=gt.token, body={"title": ""}).json()["title"] == \
        "Release 2.0.0", "an empty title is left alone"
    closed = call(url, "PATCH", token=gt.token, body={"state": "closed"}).json()
    assert (closed["state"], closed["closed_at"] is not None) == ("closed", True)
    assert call(url, token=gt.token).json()["state"] == "closed"
    assert_not_found(call(repo_url(gt, "/pulls/9"), "PATCH", token=gt.token,
                          body={"title": "t"}))
    open_pull(gt, **pull_fields(head="other"))
    gt.mark_merged(2)
    assert_error(call(repo_url(gt, "/pulls/2"), "PATCH", token=gt.token,
                      body={"state": "closed"}), 412,
                 "cannot change state of this pull request, it was already merged")


def test_comments_on_a_pull_are_issue_comments(gt: GiteaStandIn) -> None:
    open_pull(gt, **pull_fields())
    url = repo_url(gt, "/issues/1/comments")
    reply = call(url, "POST", token=gt.token, body={"body": "Closed: nothing to release."})
    assert reply.status == 201
    assert reply.json()["body"] == "Closed: nothing to release."
    assert [c["body"] for c in call(url, token=gt.token).json()] == [
        "Closed: nothing to release."]
    assert_error(call(url, "POST", token=gt.token, body={}), 422, "[Body]: Required")
    assert_not_found(call(repo_url(gt, "/issues/9/comments"), "POST", token=gt.token,
                          body={"body": "x"}))
    assert gt.pull_comments(1) == ["Closed: nothing to release."]


def test_pulls_need_the_repository_scope_and_comments_the_issue_scope(gt: GiteaStandIn) -> None:
    assert open_pull(gt, token=gt.repo_scope_token, **pull_fields()).status == 201
    refused = call(repo_url(gt, "/issues/1/comments"), "POST", token=gt.repo_scope_token,
                   body={"body": "x"})
    assert_error(refused, 403,
                 "token does not have at least one of required scope(s): [write:issue]")
    assert_error(open_pull(gt, token=gt.read_scope_token, **pull_fields(head="x")), 403,
                 "token does not have at least one of required scope(s): [write:repository]")
    assert_error(open_pull(gt, token=gt.read_only_token, **pull_fields(head="y")), 403,
                 NO_WRITE)
    assert call(repo_url(gt, "/issues/1/comments"), "POST", token=gt.read_only_token,
                body={"body": "a reader may comment"}).status == 201
    assert_error(call(repo_url(gt, "/pulls"), "POST", body=pull_fields(head="z")), 404,
                 NOT_FOUND)
    assert len(gt.pulls()) == 1
