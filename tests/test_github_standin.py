"""Contract tests for tests/github_standin.py, with nothing but ``urllib.request`` as client.

They pin the documented GitHub behaviour the stand-in claims (see its module docstring), so
that tests of the announce stage can trust it.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
from github_standin import GitHubStandIn

Headers = dict[str, str]

RELEASE_FIELDS: dict[str, type | tuple[type, ...]] = {
    # the required properties of the "release" schema and their types
    "url": str, "html_url": str, "assets_url": str, "upload_url": str,
    "tarball_url": (str, type(None)), "zipball_url": (str, type(None)), "id": int,
    "node_id": str, "tag_name": str, "target_commitish": str, "name": (str, type(None)),
    "draft": bool, "prerelease": bool, "created_at": str, "published_at": (str, type(None)),
    "author": dict, "assets": list,
}
ASSET_FIELDS: dict[str, type | tuple[type, ...]] = {
    # the required properties of the "release-asset" schema and their types
    "id": int, "name": str, "content_type": str, "size": int, "digest": (str, type(None)),
    "state": str, "url": str, "node_id": str, "download_count": int,
    "label": (str, type(None)), "uploader": (dict, type(None)), "browser_download_url": str,
    "created_at": str, "updated_at": str,
}
USER_FIELDS = ("login", "id", "node_id", "avatar_url", "url", "html_url", "type", "site_admin")


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
         body: Any = None, headers: Headers | None = None, follow: bool = True,
         scheme: str = "Bearer", user_agent: bool = True) -> Reply:
    """One request; HTTP errors are returned, not raised."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"{scheme} {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    handlers: list[urllib.request.BaseHandler] = [] if follow else [_NoRedirect()]
    opener = urllib.request.build_opener(*handlers)
    if not user_agent:
        opener.addheaders = []
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with opener.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


@pytest.fixture
def gh(github_standin: GitHubStandIn) -> GitHubStandIn:
    return github_standin


def repo_url(gh: GitHubStandIn, suffix: str = "") -> str:
    return f"{gh.api_url}/repos/{gh.full_name}{suffix}"


def create(gh: GitHubStandIn, **fields: Any) -> Reply:
    return call(repo_url(gh, "/releases"), "POST", token=gh.token, body=fields)


def upload_target(release: dict[str, Any], query: str) -> str:
    """Expand the RFC 6570 ``{?name,label}`` template the simple way: drop it, add a query."""
    template: str = release["upload_url"]
    assert template.endswith("{?name,label}")
    return template[: -len("{?name,label}")] + query


def upload(gh: GitHubStandIn, release: dict[str, Any], name: str, data: bytes, *,
           content_type: str = "application/octet-stream", label: str = "") -> Reply:
    query = f"?name={name}" + (f"&label={label}" if label else "")
    return call(upload_target(release, query), "POST", token=gh.token, data=data,
                headers={"Content-Type": content_type})


def assert_fields(obj: dict[str, Any], fields: dict[str, type | tuple[type, ...]]) -> None:
    for key, kind in fields.items():
        assert key in obj, f"{key} missing from {sorted(obj)}"
        assert isinstance(obj[key], kind), f"{key}={obj[key]!r} is not {kind}"


def assert_error(reply: Reply, status: int, message: str) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    payload: dict[str, Any] = reply.json()
    assert payload["message"] == message
    assert isinstance(payload["documentation_url"], str)
    assert payload["documentation_url"].startswith("https://docs.github.com/rest")
    return payload


def assert_timestamp(value: str) -> None:
    assert time.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


# --- releases ---------------------------------------------------------------------------------

def test_create_release_returns_201_the_documented_shape_and_a_location(
        gh: GitHubStandIn) -> None:
    reply = create(gh, tag_name="v1.2.0", target_commitish="main", name="1.2.0",
                   body="## Features\n\n- a thing", draft=False, prerelease=False)

    assert reply.status == 201
    release = reply.json()
    assert_fields(release, RELEASE_FIELDS)
    assert reply.headers["Location"] == release["url"]
    assert release["url"] == repo_url(gh, f"/releases/{release['id']}")
    assert release["assets_url"] == repo_url(gh, f"/releases/{release['id']}/assets")
    assert (release["tag_name"], release["name"], release["body"]) == (
        "v1.2.0", "1.2.0", "## Features\n\n- a thing")
    assert release["draft"] is False
    assert release["prerelease"] is False
    assert release["assets"] == []
    assert_timestamp(release["created_at"])
    assert_timestamp(release["published_at"])
    for key in USER_FIELDS:
        assert key in release["author"]


def test_upload_url_is_the_rfc6570_template_on_the_uploads_host(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()

    assert gh.uploads_url != gh.api_url
    assert release["upload_url"] == (
        f"{gh.uploads_url}/repos/{gh.full_name}/releases/{release['id']}/assets{{?name,label}}")


def test_create_defaults_target_commitish_to_the_default_branch_and_nulls_blanks(
        gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()

    assert release["target_commitish"] == "main"
    assert release["name"] is None
    assert release["body"] is None


def test_get_release_by_tag_returns_the_release(gh: GitHubStandIn) -> None:
    created = create(gh, tag_name="v2.0.0", body="notes").json()

    reply = call(repo_url(gh, "/releases/tags/v2.0.0"), token=gh.token)

    assert reply.status == 200
    assert reply.json() == created


def test_get_release_by_tag_404_has_the_basic_error_shape(gh: GitHubStandIn) -> None:
    reply = call(repo_url(gh, "/releases/tags/v9.9.9"), token=gh.token)

    payload = assert_error(reply, 404, "Not Found")
    assert payload["documentation_url"].endswith("#get-a-release-by-tag-name")


def test_get_release_by_tag_only_finds_published_releases(gh: GitHubStandIn) -> None:
    draft = create(gh, tag_name="v3.0.0", draft=True).json()

    assert call(repo_url(gh, "/releases/tags/v3.0.0"), token=gh.token).status == 404
    assert draft["published_at"] is None
    assert draft["tarball_url"] is None
    listed = call(repo_url(gh, "/releases"), token=gh.token).json()
    assert [r["id"] for r in listed] == [draft["id"]]


def test_tags_with_slashes_are_found_encoded_or_not(gh: GitHubStandIn) -> None:
    created = create(gh, tag_name="release/v1.0").json()

    for path in ("/releases/tags/release/v1.0", "/releases/tags/release%2Fv1.0"):
        reply = call(repo_url(gh, path), token=gh.token)
        assert reply.status == 200, path
        assert reply.json()["id"] == created["id"]


def test_get_release_by_id(gh: GitHubStandIn) -> None:
    created = create(gh, tag_name="v1.0.0").json()

    assert call(created["url"], token=gh.token).json() == created
    assert call(repo_url(gh, "/releases/1"), token=gh.token).status == 404


def test_duplicate_release_is_422_already_exists(gh: GitHubStandIn) -> None:
    assert create(gh, tag_name="v1.0.0").status == 201

    reply = create(gh, tag_name="v1.0.0", name="again")

    payload = assert_error(reply, 422, "Validation Failed")
    assert payload["errors"] == [
        {"resource": "Release", "code": "already_exists", "field": "tag_name"}]
    assert len(gh.releases()) == 1


def test_missing_tag_name_is_422_invalid_request(gh: GitHubStandIn) -> None:
    reply = create(gh, name="no tag")

    assert_error(reply, 422, 'Invalid request.\n\n"tag_name" wasn\'t supplied.')
    assert gh.releases() == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"tag_name": "v1", "draft": "yes"},
     "Invalid request.\n\nFor 'properties/draft', \"yes\" is not a boolean."),
    ({"tag_name": "v1", "body": None},
     "Invalid request.\n\nFor 'properties/body', nil is not a string."),
    ({"tag_name": 1}, "Invalid request.\n\nFor 'properties/tag_name', 1 is not a string."),
])
def test_wrongly_typed_fields_are_422(gh: GitHubStandIn, fields: dict[str, Any],
                                      message: str) -> None:
    assert_error(create(gh, **fields), 422, message)
    assert gh.releases() == []


def test_malformed_tag_name_is_422_validation_failed(gh: GitHubStandIn) -> None:
    payload = assert_error(create(gh, tag_name="bad tag"), 422, "Validation Failed")

    assert payload["errors"][0]["field"] == "tag_name"
    assert payload["errors"][0]["code"] == "custom"


def test_unknown_fields_are_ignored(gh: GitHubStandIn) -> None:
    reply = create(gh, tag_name="v1.0.0", owner="someone", flavour="vanilla")

    assert reply.status == 201
    assert "flavour" not in reply.json()


@pytest.mark.parametrize(("data", "message"), [
    (b'{"tag_name": "v1.0.0",', "Problems parsing JSON"),
    (b'["v1.0.0"]', "Body should be a JSON object"),
])
def test_bodies_that_are_not_json_objects_are_400(gh: GitHubStandIn, data: bytes,
                                                  message: str) -> None:
    reply = call(repo_url(gh, "/releases"), "POST", token=gh.token, data=data,
                 headers={"Content-Type": "application/json"})

    assert_error(reply, 400, message)


def test_update_release_changes_the_given_fields_only(gh: GitHubStandIn) -> None:
    created = create(gh, tag_name="v1.0.0", name="draft name", body="old", draft=True).json()

    reply = call(created["url"], "PATCH", token=gh.token,
                 body={"name": "1.0.0", "body": "new notes", "draft": False, "extra": 1})

    assert reply.status == 200
    updated = reply.json()
    assert_fields(updated, RELEASE_FIELDS)
    assert (updated["name"], updated["body"], updated["draft"]) == ("1.0.0", "new notes", False)
    assert updated["tag_name"] == "v1.0.0"
    assert updated["prerelease"] is False
    assert_timestamp(updated["published_at"])
    assert call(repo_url(gh, "/releases/tags/v1.0.0"), token=gh.token).json() == updated


def test_update_release_can_retag_and_refuses_a_taken_tag(gh: GitHubStandIn) -> None:
    create(gh, tag_name="v1.0.0")
    second = create(gh, tag_name="v1.1.0rc1", prerelease=True).json()

    retagged = call(second["url"], "PATCH", token=gh.token,
                    body={"tag_name": "v1.1.0", "prerelease": False})
    clash = call(second["url"], "PATCH", token=gh.token, body={"tag_name": "v1.0.0"})

    assert retagged.status == 200
    assert (retagged.json()["tag_name"], retagged.json()["prerelease"]) == ("v1.1.0", False)
    assert assert_error(clash, 422, "Validation Failed")["errors"][0]["code"] == "already_exists"


def test_update_unknown_release_is_404(gh: GitHubStandIn) -> None:
    reply = call(repo_url(gh, "/releases/424242"), "PATCH", token=gh.token, body={"name": "x"})

    assert_error(reply, 404, "Not Found")


def test_list_releases_is_newest_first_and_paginated_with_link_headers(
        gh: GitHubStandIn) -> None:
    for n in range(5):
        gh.seed_release(f"v1.{n}.0")

    first = call(repo_url(gh, "/releases?per_page=2"), token=gh.token)
    last = call(repo_url(gh, "/releases?per_page=2&page=3"), token=gh.token)
    everything = call(repo_url(gh, "/releases"), token=gh.token)

    assert [r["tag_name"] for r in first.json()] == ["v1.4.0", "v1.3.0"]
    assert 'rel="next"' in first.headers["Link"]
    assert "page=3" in first.headers["Link"]
    assert [r["tag_name"] for r in last.json()] == ["v1.0.0"]
    assert 'rel="next"' not in last.headers["Link"]
    assert len(everything.json()) == 5
    assert everything.headers["Link"] is None
    for release in everything.json():
        assert_fields(release, RELEASE_FIELDS)


def test_delete_release(gh: GitHubStandIn) -> None:
    created = create(gh, tag_name="v1.0.0").json()

    assert call(created["url"], "DELETE", token=gh.token).status == 204
    assert call(created["url"], token=gh.token).status == 404


# --- assets -----------------------------------------------------------------------------------

def test_upload_asset_returns_201_the_documented_shape(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    data = b"PK\x03\x04 wheel bytes"

    reply = upload(gh, release, "pkg-1.0.0-py3-none-any.whl", data,
                   content_type="application/zip", label="Wheel")

    assert reply.status == 201
    asset = reply.json()
    assert_fields(asset, ASSET_FIELDS)
    assert (asset["name"], asset["label"], asset["content_type"]) == (
        "pkg-1.0.0-py3-none-any.whl", "Wheel", "application/zip")
    assert (asset["size"], asset["state"], asset["download_count"]) == (len(data), "uploaded", 0)
    assert asset["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert asset["url"] == repo_url(gh, f"/releases/assets/{asset['id']}")
    assert asset["browser_download_url"].endswith(
        "/releases/download/v1.0.0/pkg-1.0.0-py3-none-any.whl")
    listed = call(release["assets_url"], token=gh.token).json()
    assert listed == [asset]
    assert call(release["url"], token=gh.token).json()["assets"] == [asset]


def test_upload_requires_a_content_type(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    url = upload_target(release, "?name=a.tar.gz")

    empty = call(url, "POST", token=gh.token, data=b"x", headers={"Content-Type": ""})
    # urllib's default for a body without a Content-Type header
    form = call(url, "POST", token=gh.token, data=b"x")

    assert empty.status == 400
    assert empty.json()["message"] == "Invalid Content-Type: ''"
    assert form.status == 422
    assert gh.assets(release["id"]) == []


def test_upload_requires_a_name(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()

    for query in ("", "?label=only-a-label", "?name="):
        reply = call(upload_target(release, query), "POST", token=gh.token, data=b"x",
                     headers={"Content-Type": "application/gzip"})
        assert reply.status == 400, query
        assert reply.json()["message"] == "Invalid name for request"
    assert gh.assets(release["id"]) == []


def test_uploads_only_work_on_the_uploads_host(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()

    reply = call(repo_url(gh, f"/releases/{release['id']}/assets?name=a.txt"), "POST",
                 token=gh.token, data=b"x", headers={"Content-Type": "text/plain"})

    assert reply.status == 404
    assert gh.assets(release["id"]) == []


def test_upload_to_an_unknown_release_is_404(gh: GitHubStandIn) -> None:
    url = f"{gh.uploads_url}/repos/{gh.full_name}/releases/9999/assets?name=a.txt"

    assert call(url, "POST", token=gh.token, data=b"x",
                headers={"Content-Type": "text/plain"}).status == 404


def test_duplicate_asset_name_is_422_already_exists(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    assert upload(gh, release, "pkg-1.0.0.tar.gz", b"one").status == 201

    reply = upload(gh, release, "pkg-1.0.0.tar.gz", b"two")

    assert reply.status == 422
    payload = reply.json()
    assert payload["message"] == "Validation Failed"
    assert payload["errors"] == [
        {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]
    assert [a["size"] for a in gh.assets(release["id"])] == [3]
    assert gh.asset_bytes(gh.assets(release["id"])[0]["id"]) == b"one"


def test_asset_bytes_round_trip_through_every_download_path(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    data = bytes(range(256)) * 64
    asset = upload(gh, release, "pkg-1.0.0.tar.gz", data,
                   content_type="application/gzip").json()
    octet = {"Accept": "application/octet-stream"}

    redirect = call(asset["url"], token=gh.token, headers=octet, follow=False)
    followed = call(asset["url"], token=gh.token, headers=octet)
    gh.download_mode = "stream"
    streamed = call(asset["url"], token=gh.token, headers=octet)
    browser = call(asset["browser_download_url"], token=gh.token)
    as_json = call(asset["url"], token=gh.token)

    assert redirect.status == 302
    assert redirect.headers["Location"]
    for reply in (followed, streamed, browser):
        assert reply.status == 200
        assert reply.body == data
        assert reply.headers["Content-Type"] == "application/gzip"
    assert "sha256:" + hashlib.sha256(followed.body).hexdigest() == asset["digest"]
    assert as_json.json()["id"] == asset["id"]
    assert as_json.json()["download_count"] == 4


def test_private_downloads_need_the_token(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    asset = upload(gh, release, "a.txt", b"secret", content_type="text/plain").json()

    assert call(asset["browser_download_url"]).status == 404
    assert call(asset["url"], headers={"Accept": "application/octet-stream"}).status == 404


def test_delete_asset_then_list(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    kept = upload(gh, release, "keep.txt", b"k", content_type="text/plain").json()
    gone = upload(gh, release, "gone.txt", b"g", content_type="text/plain").json()

    deleted = call(gone["url"], "DELETE", token=gh.token)

    assert deleted.status == 204
    assert deleted.body == b""
    assert [a["id"] for a in call(release["assets_url"], token=gh.token).json()] == [kept["id"]]
    assert_error(call(gone["url"], "DELETE", token=gh.token), 404, "Not Found")
    assert upload(gh, release, "gone.txt", b"again", content_type="text/plain").status == 201


def test_seeded_state_is_served(gh: GitHubStandIn) -> None:
    seeded = gh.seed_release("v0.9.0", body="seeded")
    asset = gh.seed_asset(seeded["id"], "old.tar.gz", b"old bytes")

    served = call(repo_url(gh, "/releases/tags/v0.9.0"), token=gh.token).json()

    assert served["assets"] == [asset]
    assert served["body"] == "seeded"
    assert gh.release_by_tag("v0.9.0") == served


# --- authentication ---------------------------------------------------------------------------

def test_wrong_token_is_401_bad_credentials(gh: GitHubStandIn) -> None:
    for method, url in (("GET", repo_url(gh, "/releases")),
                        ("POST", repo_url(gh, "/releases"))):
        reply = call(url, method, token="ghp_wrong", body={"tag_name": "v1"})
        assert_error(reply, 401, "Bad credentials")
    assert gh.releases() == []


def test_both_documented_authorization_schemes_work(gh: GitHubStandIn) -> None:
    for scheme in ("Bearer", "token"):
        assert call(repo_url(gh, "/releases"), token=gh.token, scheme=scheme).status == 200


def test_private_repo_without_token_is_404_not_403(gh: GitHubStandIn) -> None:
    assert_error(call(repo_url(gh, "/releases")), 404, "Not Found")
    assert_error(call(repo_url(gh, "/releases"), "POST", body={"tag_name": "v1"}), 404,
                 "Not Found")


def test_public_repo_reads_anonymously_but_writes_need_a_token(gh: GitHubStandIn) -> None:
    gh.add_repo("octo-org", "public-thing", private=False)
    url = f"{gh.api_url}/repos/octo-org/public-thing/releases"
    gh.seed_release("v1.0.0", repo="octo-org/public-thing")
    gh.seed_release("v2.0.0", repo="octo-org/public-thing", draft=True)

    listed = call(url)
    write = call(url, "POST", body={"tag_name": "v3.0.0"})

    assert [r["tag_name"] for r in listed.json()] == ["v1.0.0"]  # no drafts for anonymous
    assert listed.headers["X-RateLimit-Limit"] == "60"
    assert_error(write, 401, "Requires authentication")


def test_read_only_token_cannot_write(gh: GitHubStandIn) -> None:
    assert call(repo_url(gh, "/releases"), token=gh.read_only_token).status == 200

    reply = call(repo_url(gh, "/releases"), "POST", token=gh.read_only_token,
                 body={"tag_name": "v1"})

    assert_error(reply, 403, "Resource not accessible by personal access token")


def test_owner_and_repo_are_case_insensitive_and_trailing_slash_is_404(
        gh: GitHubStandIn) -> None:
    upper = f"{gh.api_url}/repos/{gh.full_name.upper()}/releases"

    assert call(upper, token=gh.token).status == 200
    assert call(upper + "/", token=gh.token).status == 404


def test_missing_user_agent_is_403(gh: GitHubStandIn) -> None:
    reply = call(repo_url(gh, "/releases"), token=gh.token, user_agent=False)

    assert reply.status == 403
    assert "User-Agent" in reply.json()["message"]


# --- headers, versions, rate limits -----------------------------------------------------------

def test_standard_response_headers(gh: GitHubStandIn) -> None:
    one = call(repo_url(gh, "/releases"), token=gh.token)
    two = call(repo_url(gh, "/releases/tags/nope"), token=gh.token)

    for reply in (one, two):
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.headers["X-GitHub-Media-Type"] == "github.v3; format=json"
        assert reply.headers["X-GitHub-Request-Id"]
        assert reply.headers["X-RateLimit-Resource"] == "core"
    assert one.headers["X-GitHub-Request-Id"] != two.headers["X-GitHub-Request-Id"]


def test_rate_limit_headers_count_down(gh: GitHubStandIn) -> None:
    one = call(repo_url(gh, "/releases"), token=gh.token)
    two = call(repo_url(gh, "/releases"), token=gh.token)

    assert one.headers["X-RateLimit-Limit"] == "5000"
    assert int(one.headers["X-RateLimit-Remaining"]) - 1 == int(
        two.headers["X-RateLimit-Remaining"])
    assert int(one.headers["X-RateLimit-Used"]) + 1 == int(two.headers["X-RateLimit-Used"])
    assert int(one.headers["X-RateLimit-Reset"]) > time.time()


def test_primary_rate_limit_exceeded_is_403_with_remaining_zero(gh: GitHubStandIn) -> None:
    gh.set_rate_limit(1)
    assert create(gh, tag_name="v1.0.0").status == 201

    reply = create(gh, tag_name="v2.0.0")

    payload = assert_error(reply, 403, f"API rate limit exceeded for user ID {gh.user_id}.")
    assert "rate-limit" in payload["documentation_url"]
    assert reply.headers["X-RateLimit-Remaining"] == "0"
    assert int(reply.headers["X-RateLimit-Reset"]) > time.time()
    assert [r["tag_name"] for r in gh.releases()] == ["v1.0.0"]
    assert gh.requests[-1].status == 403


def test_primary_rate_limit_can_answer_429(gh: GitHubStandIn) -> None:
    gh.set_rate_limit(0, status=429)

    reply = call(repo_url(gh, "/releases"), token=gh.token)

    assert reply.status == 429
    assert reply.headers["X-RateLimit-Remaining"] == "0"


def test_secondary_rate_limit_sends_retry_after(gh: GitHubStandIn) -> None:
    gh.secondary_rate_limit("POST", "/repos/*/releases", retry_after=30)

    first = create(gh, tag_name="v1.0.0")
    second = create(gh, tag_name="v1.0.0")

    assert first.status == 403
    assert first.headers["Retry-After"] == "30"
    assert "secondary rate limit" in first.json()["message"]
    assert second.status == 201


def test_api_version_header(gh: GitHubStandIn) -> None:
    default = call(repo_url(gh, "/releases"), token=gh.token)
    pinned = call(repo_url(gh, "/releases"), token=gh.token,
                  headers={"X-GitHub-Api-Version": "2022-11-28"})
    bogus = call(repo_url(gh, "/releases"), token=gh.token,
                 headers={"X-GitHub-Api-Version": "v3"})

    assert default.headers["X-GitHub-Api-Version-Selected"] == "2022-11-28"
    assert pinned.status == 200
    assert bogus.status == 400
    assert '"v3", is not a supported version' in bogus.json()["message"]


# --- recording and failure injection ----------------------------------------------------------

def test_requests_are_recorded_without_the_token(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    upload(gh, release, "a.txt", b"x", content_type="text/plain")
    call(repo_url(gh, "/releases"), token="ghp_wrong")
    call(repo_url(gh, "/releases"))

    seen = [(r.host, r.method, r.status, r.auth) for r in gh.requests]

    assert seen == [("api", "POST", 201, "valid"), ("uploads", "POST", 201, "valid"),
                    ("api", "GET", 401, "invalid"), ("api", "GET", 404, "none")]
    assert gh.requests[1].query == "name=a.txt"
    assert gh.token not in repr(gh.requests)
    gh.clear_requests()
    assert gh.requests == []


def test_injected_failures_are_bounded(gh: GitHubStandIn) -> None:
    gh.fail_next("POST", "/repos/*/releases", 502, count=2)

    replies = [create(gh, tag_name="v1.0.0").status for _ in range(3)]

    assert replies == [502, 502, 201]
    assert len(gh.releases()) == 1


def test_injected_failure_after_effect_keeps_the_state_change(gh: GitHubStandIn) -> None:
    gh.fail_next("POST", "/repos/*/releases", 504, after_effect=True)

    lost = create(gh, tag_name="v1.0.0")
    retried = create(gh, tag_name="v1.0.0")

    assert lost.status == 504
    assert retried.status == 422  # the first attempt did create it
    assert [r["tag_name"] for r in gh.releases()] == ["v1.0.0"]


def test_upload_upstream_failure_leaves_an_empty_starter_asset(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    gh.fail_next("POST", "*/assets", 502, host="uploads", after_effect=True)

    failed = upload(gh, release, "pkg.tar.gz", b"data")
    retried = upload(gh, release, "pkg.tar.gz", b"data")

    assert failed.status == 502
    assert retried.status == 422
    [asset] = gh.assets(release["id"])
    assert (asset["state"], asset["size"]) == ("starter", 0)
    assert call(asset["url"], "DELETE", token=gh.token).status == 204
    assert upload(gh, release, "pkg.tar.gz", b"data").status == 201


def test_dropped_connection(gh: GitHubStandIn) -> None:
    gh.fail_next("GET", "*", 0)

    with pytest.raises((urllib.error.URLError, ConnectionError)):
        call(repo_url(gh, "/releases"), token=gh.token)
    assert gh.requests[-1].status == 0
    assert call(repo_url(gh, "/releases"), token=gh.token).status == 200


# --- immutable releases and "Latest" ----------------------------------------------------------

def patch(gh: GitHubStandIn, release: dict[str, Any], **fields: Any) -> Reply:
    return call(release["url"], "PATCH", token=gh.token, body=fields)


def latest_tag(gh: GitHubStandIn) -> str | None:
    reply = call(repo_url(gh, "/releases/latest"), token=gh.token)
    if reply.status == 404:
        assert_error(reply, 404, "Not Found")
        return None
    assert reply.status == 200
    return str(reply.json()["tag_name"])


def test_immutable_release_refuses_uploads_once_published(gh: GitHubStandIn) -> None:
    gh.get_repo().immutable_releases = True
    draft = create(gh, tag_name="v1.0.0", draft=True).json()
    assert draft["immutable"] is False
    assert upload(gh, draft, "a.whl", b"a").status == 201  # a draft takes files

    published = patch(gh, draft, draft=False).json()
    assert published["immutable"] is True
    reply = upload(gh, published, "b.whl", b"b")
    assert reply.status == 422
    assert reply.json()["message"] == "Cannot upload assets to an immutable release."
    asset = published["assets"][0]
    assert_error(call(asset["url"], "DELETE", token=gh.token), 422,
                 "Cannot delete assets of an immutable release.")
    # Only the title and the notes can change.
    assert patch(gh, published, name="1.0.0", body="New notes.").status == 200
    refused = patch(gh, published, prerelease=True)
    assert assert_error(refused, 422, "Validation Failed")["errors"][0]["field"] == "prerelease"


def test_the_tag_of_a_deleted_immutable_release_cannot_be_used_again(gh: GitHubStandIn) -> None:
    gh.get_repo().immutable_releases = True
    release = create(gh, tag_name="v1.0.0").json()
    assert release["immutable"] is True
    assert call(release["url"], "DELETE", token=gh.token).status == 204
    errors = assert_error(create(gh, tag_name="v1.0.0"), 422, "Validation Failed")["errors"]
    assert errors[0]["message"] == "tag_name was used by an immutable release"


def test_without_the_setting_published_releases_take_files(gh: GitHubStandIn) -> None:
    release = create(gh, tag_name="v1.0.0").json()
    assert release["immutable"] is False
    assert upload(gh, release, "a.whl", b"a").status == 201


def test_make_latest_decides_the_latest_release(gh: GitHubStandIn) -> None:
    assert latest_tag(gh) is None
    create(gh, tag_name="v2.0.0")  # "Defaults to true for newly published releases"
    assert latest_tag(gh) == "v2.0.0"
    create(gh, tag_name="v1.9.1", make_latest="false")
    assert latest_tag(gh) == "v2.0.0"
    create(gh, tag_name="v2.1.0rc1", prerelease=True, make_latest="true")
    assert latest_tag(gh) == "v2.0.0", "a pre-release cannot be latest"
    draft = create(gh, tag_name="v2.1.0", draft=True).json()
    assert latest_tag(gh) == "v2.0.0", "a draft cannot be latest"
    patch(gh, draft, draft=False, make_latest="true")
    assert latest_tag(gh) == "v2.1.0"
    create(gh, tag_name="v2.0.1", make_latest="legacy")
    assert latest_tag(gh) == "v2.0.1", "legacy: the newest published final release"
    bad = create(gh, tag_name="v3", make_latest="yes")
    assert assert_error(bad, 422, bad.json()["message"])["message"].startswith("Invalid request")


# --- pull requests and their comments ---------------------------------------------------------


def open_pull(gh: GitHubStandIn, **fields: Any) -> Reply:
    return call(repo_url(gh, "/pulls"), "POST", token=gh.token, body=fields)


def test_create_pull_returns_201_with_location_and_the_documented_shape(
    gh: GitHubStandIn,
) -> None:
    reply = open_pull(gh, title="Release 1.3.0", body="notes", head="release/v1.3.0", base="main")
    assert reply.status == 201, reply.body
    pull = reply.json()
    assert reply.headers["Location"] == pull["url"]
    assert_fields(pull, {"number": int, "state": str, "title": str, "html_url": str,
                         "head": dict, "base": dict})
    assert pull["state"] == "open"
    assert pull["head"]["ref"] == "release/v1.3.0"
    assert pull["head"]["label"] == f"{gh.owner}:release/v1.3.0"
    assert pull["base"]["ref"] == "main"


def test_list_pulls_filters_by_head_base_and_state(gh: GitHubStandIn) -> None:
    first = open_pull(gh, title="a", head="one", base="main").json()
    open_pull(gh, title="b", head="two", base="main")
    found = call(repo_url(gh, f"/pulls?head={gh.owner}:one&state=open"), token=gh.token).json()
    assert [p["number"] for p in found] == [first["number"]]
    assert call(repo_url(gh, "/pulls?head=one"), token=gh.token).json() == [], \
        "head is matched in the form user:ref-name"
    assert len(call(repo_url(gh, "/pulls"), token=gh.token).json()) == 2
    assert call(repo_url(gh, "/pulls?base=other"), token=gh.token).json() == []
    call(repo_url(gh, f"/pulls/{first['number']}"), "PATCH", token=gh.token,
         body={"state": "closed"})
    assert len(call(repo_url(gh, "/pulls"), token=gh.token).json()) == 1, "open by default"
    closed = call(repo_url(gh, "/pulls?state=closed"), token=gh.token).json()
    assert [p["number"] for p in closed] == [first["number"]]
    assert len(call(repo_url(gh, "/pulls?state=all"), token=gh.token).json()) == 2


def test_a_second_open_pull_for_the_same_head_is_422(gh: GitHubStandIn) -> None:
    assert open_pull(gh, title="a", head="one", base="main").status == 201
    payload = assert_error(open_pull(gh, title="b", head="one", base="main"), 422,
                           "Validation Failed")
    assert payload["errors"] == [{"resource": "PullRequest", "code": "custom",
                                  "message": f"A pull request already exists for {gh.owner}:one."}]


def test_create_pull_requires_head_base_and_title(gh: GitHubStandIn) -> None:
    assert_error(open_pull(gh, title="a", base="main"), 422,
                 "Invalid request.\n\n\"head\" wasn't supplied.")
    assert_error(open_pull(gh, title="a", head="x"), 422,
                 "Invalid request.\n\n\"base\" wasn't supplied.")
    payload = assert_error(open_pull(gh, head="x", base="main"), 422, "Validation Failed")
    assert payload["errors"][0]["field"] == "title"


def test_create_pull_refuses_a_head_the_repository_does_not_have(
    gh: GitHubStandIn, tmp_path: Any
) -> None:
    import subprocess

    subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path)], check=True)
    gh.git_remote = tmp_path
    payload = assert_error(open_pull(gh, title="a", head="nope", base="main"), 422,
                           "Validation Failed")
    assert payload["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]


def test_update_pull_changes_title_body_and_state(gh: GitHubStandIn) -> None:
    number = open_pull(gh, title="a", body="x", head="one", base="main").json()["number"]
    reply = call(repo_url(gh, f"/pulls/{number}"), "PATCH", token=gh.token,
                 body={"title": "b", "body": "y"})
    assert reply.status == 200
    updated = reply.json()
    assert (updated["title"], updated["body"], updated["state"]) == ("b", "y", "open")
    bad = call(repo_url(gh, f"/pulls/{number}"), "PATCH", token=gh.token, body={"state": "shut"})
    assert bad.status == 422
    closed = call(repo_url(gh, f"/pulls/{number}"), "PATCH", token=gh.token,
                  body={"state": "closed"}).json()
    assert closed["state"] == "closed"
    assert closed["closed_at"] is not None
    assert call(repo_url(gh, "/pulls/999"), "PATCH", token=gh.token,
                body={"title": "c"}).status == 404


def test_comments_on_a_pull_request_are_issue_comments(gh: GitHubStandIn) -> None:
    number = open_pull(gh, title="a", head="one", base="main").json()["number"]
    reply = call(repo_url(gh, f"/issues/{number}/comments"), "POST", token=gh.token,
                 body={"body": "Closed: nothing to release."})
    assert reply.status == 201
    assert reply.headers["Location"] == reply.json()["url"]
    listed = call(repo_url(gh, f"/issues/{number}/comments"), token=gh.token).json()
    assert [c["body"] for c in listed] == ["Closed: nothing to release."]
    assert_error(call(repo_url(gh, f"/issues/{number}/comments"), "POST", token=gh.token,
                      body={}), 422, "Invalid request.\n\n\"body\" wasn't supplied.")
    assert call(repo_url(gh, "/issues/999/comments"), "POST", token=gh.token,
                body={"body": "x"}).status == 404


def test_pulls_need_a_token_that_may_write(gh: GitHubStandIn) -> None:
    reply = call(repo_url(gh, "/pulls"), "POST", body={"title": "a", "head": "x", "base": "main"})
    assert reply.status in (401, 404)
    ro = call(repo_url(gh, "/pulls"), "POST", token=gh.read_only_token,
              body={"title": "a", "head": "x", "base": "main"})
    assert ro.status == 403
