"""Contract tests for tests/gitlab_standin.py, with nothing but ``urllib.request`` as client.

They pin the documented GitLab behaviour the stand-in claims (see its module docstring), so
that tests of the announce stage on GitLab can trust it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from typing import Any
from urllib.parse import quote

import pytest
from gitlab_standin import GitLabStandIn

RELEASE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "tag_name": str, "description": str, "created_at": str, "released_at": str,
    "upcoming_release": bool, "author": dict, "commit_path": str, "tag_path": str,
    "assets": dict, "evidences": list, "_links": dict,
}
LINK_FIELDS = {"id": int, "name": str, "url": str, "direct_asset_url": str, "link_type": str}
FILE_FIELDS = {"id": int, "package_id": int, "created_at": str, "file_name": str, "size": int,
               "file_md5": str, "file_sha1": str, "file_sha256": str}
PACKAGE_FIELDS = {"id": int, "name": str, "version": str, "package_type": str, "status": str,
                  "_links": dict, "created_at": str}


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


def call(url: str, method: str = "GET", *, token: str | None = None, job: str | None = None,
         body: Any = None, data: bytes | None = None, headers: dict[str, str] | None = None,
         follow: bool = True) -> Reply:
    """One request; HTTP errors are returned, not raised."""
    sent = dict(headers or {})
    if token is not None:
        sent["PRIVATE-TOKEN"] = token
    if job is not None:
        sent["JOB-TOKEN"] = job
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    opener = urllib.request.build_opener(*([] if follow else [_NoRedirect()]))
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with opener.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


@pytest.fixture
def gl(gitlab_standin: GitLabStandIn) -> GitLabStandIn:
    return gitlab_standin


def project_url(gl: GitLabStandIn, suffix: str = "") -> str:
    return f"{gl.api_url}/projects/{quote(gl.path, safe='')}{suffix}"


def create(gl: GitLabStandIn, **fields: Any) -> Reply:
    return call(project_url(gl, "/releases"), "POST", token=gl.token, body=fields)


def generic(gl: GitLabStandIn, name: str = "hello", version: str = "v1.0",
            file: str = "a.whl", query: str = "") -> str:
    return project_url(gl, f"/packages/generic/{name}/{version}/{file}{query}")


def upload(gl: GitLabStandIn, data: bytes, **where: str) -> Reply:
    return call(generic(gl, **where), "PUT", token=gl.token, data=data,
                headers={"Content-Type": "application/octet-stream"})


def assert_fields(obj: dict[str, Any], fields: dict[str, type | tuple[type, ...]]) -> None:
    for key, kind in fields.items():
        assert key in obj, f"{key} missing from {sorted(obj)}"
        assert isinstance(obj[key], kind), f"{key}={obj[key]!r} is not {kind}"


def assert_message(reply: Reply, status: int, message: Any) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"message": message}


def assert_error(reply: Reply, status: int, error: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.json() == {"error": error}


# --- releases ------------------------------------------------------------------------------

def test_create_release_answers_201_with_the_documented_shape(gl: GitLabStandIn) -> None:
    reply = create(gl, tag_name="v1.0", name="Hello 1.0", description="Notes.")
    assert reply.status == 201
    release = reply.json()
    assert_fields(release, RELEASE_FIELDS)
    assert (release["tag_name"], release["name"], release["description"]) == (
        "v1.0", "Hello 1.0", "Notes.")
    assert not release["upcoming_release"]
    assert release["assets"]["links"] == []
    assert {s["format"] for s in release["assets"]["sources"]} == {"zip", "tar.gz", "tar.bz2",
                                                                   "tar"}
    assert release["_links"]["self"] == f"{gl.web_url}/{gl.path}/-/releases/v1.0"


def test_get_release_by_tag_and_404_for_a_missing_one(gl: GitLabStandIn) -> None:
    create(gl, tag_name="v1.0")
    reply = call(project_url(gl, "/releases/v1.0"), token=gl.token)
    assert reply.status == 200
    assert reply.json()["name"] == "v1.0"  # the name defaults to the tag
    assert_message(call(project_url(gl, "/releases/v9.9"), token=gl.token), 404,
                   "404 Not Found")


def test_a_tag_with_a_slash_is_url_encoded(gl: GitLabStandIn) -> None:
    assert create(gl, tag_name="pkg/v1.0").status == 201
    assert call(project_url(gl, "/releases/pkg%2Fv1.0"), token=gl.token).status == 200
    assert_error(call(project_url(gl, "/releases/pkg/v1.0"), token=gl.token), 404,
                 "404 Not Found")


def test_a_second_release_for_a_tag_is_409(gl: GitLabStandIn) -> None:
    assert create(gl, tag_name="v1.0").status == 201
    assert_message(create(gl, tag_name="v1.0", name="again"), 409, "Release already exists")
    assert gl.release("v1.0")["name"] == "v1.0"  # type: ignore[index]


def test_a_missing_tag_name_is_grapes_400(gl: GitLabStandIn) -> None:
    assert_error(create(gl, name="no tag"), 400, "tag_name is missing")


def test_a_tag_that_does_not_exist_needs_a_ref(gl: GitLabStandIn) -> None:
    gl.project.tags = {"v1.0"}
    assert_message(create(gl, tag_name="v2.0"), 422, "Ref is not specified")
    assert create(gl, tag_name="v2.0", ref="main").status == 201
    assert "v2.0" in gl.project.tags


def test_create_with_asset_links(gl: GitLabStandIn) -> None:
    url = generic(gl)
    reply = create(gl, tag_name="v1.0", assets={"links": [
        {"name": "a.whl", "url": url, "direct_asset_path": "/a.whl", "link_type": "package"}]})
    assert reply.status == 201
    (link,) = reply.json()["assets"]["links"]
    assert_fields(link, LINK_FIELDS)
    assert link["url"] == url
    assert link["link_type"] == "package"
    assert link["direct_asset_url"] == f"{gl.web_url}/{gl.path}/-/releases/v1.0/downloads/a.whl"


@pytest.mark.parametrize(("links", "answer"), [
    ([{"url": "https://x.example/a"}], ("error", "assets[links][0][name] is missing")),
    ([{"name": "a", "url": "https://x.example/a", "link_type": "binary"}],
     ("error", "assets[links][0][link_type] does not have a valid value")),
    ([{"name": "a", "url": "https://x.example/a"}, {"name": "a", "url": "https://x.example/b"}],
     ("message", ["Name has already been taken"])),
    ([{"name": "a", "url": "file:///etc/passwd"}],
     ("message", ["Url is blocked: Only allowed schemes are http, https, ftp"])),
])
def test_invalid_links_are_400_and_make_no_release(gl: GitLabStandIn, links: list[Any],
                                                   answer: tuple[str, Any]) -> None:
    reply = create(gl, tag_name="v1.0", assets={"links": links})
    assert reply.status == 400
    assert reply.json() == {answer[0]: answer[1]}
    assert gl.release("v1.0") is None


def test_update_release_changes_the_given_fields(gl: GitLabStandIn) -> None:
    create(gl, tag_name="v1.0", name="Old", description="Old notes.")
    reply = call(project_url(gl, "/releases/v1.0"), "PUT", token=gl.token,
                 body={"description": "New notes."})
    assert reply.status == 200
    assert (reply.json()["name"], reply.json()["description"]) == ("Old", "New notes.")
    assert_message(call(project_url(gl, "/releases/v1.0"), "PUT", token=gl.token, body={}),
                   400, "params is empty")
    assert_message(call(project_url(gl, "/releases/v9"), "PUT", token=gl.token,
                        body={"name": "x"}), 404, "404 Not Found")


def test_released_at_makes_upcoming_releases_and_decides_the_latest(gl: GitLabStandIn) -> None:
    future = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    past = "2020-01-01T00:00:00Z"
    create(gl, tag_name="v2.0")
    assert create(gl, tag_name="v3.0", released_at=future).json()["upcoming_release"] is True
    old = create(gl, tag_name="v1.0", released_at=past).json()
    assert old["historical_release"] is True
    listed = call(project_url(gl, "/releases"), token=gl.token).json()
    assert [r["tag_name"] for r in listed] == ["v3.0", "v2.0", "v1.0"]  # newest released_at
    latest = call(project_url(gl, "/releases/permalink/latest"), token=gl.token, follow=False)
    assert latest.status == 302
    assert latest.headers["Location"].endswith("/releases/v3.0")


# --- release links -------------------------------------------------------------------------

def test_links_are_created_listed_and_deleted(gl: GitLabStandIn) -> None:
    create(gl, tag_name="v1.0")
    links = project_url(gl, "/releases/v1.0/assets/links")
    made = call(links, "POST", token=gl.token, body={
        "name": "a.whl", "url": generic(gl), "direct_asset_path": "/a.whl",
        "link_type": "package"})
    assert made.status == 201
    assert_fields(made.json(), LINK_FIELDS)
    listed = call(links, token=gl.token)
    assert [link["name"] for link in listed.json()] == ["a.whl"]
    assert listed.headers["X-Total"] == "1"
    gone = call(f"{links}/{made.json()['id']}", "DELETE", token=gl.token)
    assert gone.status == 200
    assert gone.json()["name"] == "a.whl"
    assert call(links, token=gl.token).json() == []
    assert_message(call(f"{links}/{made.json()['id']}", "DELETE", token=gl.token), 404,
                   "404 Not found")


def test_link_names_and_urls_are_unique_in_a_release(gl: GitLabStandIn) -> None:
    create(gl, tag_name="v1.0")
    links = project_url(gl, "/releases/v1.0/assets/links")
    assert call(links, "POST", token=gl.token,
                body={"name": "a", "url": "https://x.example/a"}).status == 201
    assert_message(call(links, "POST", token=gl.token,
                        body={"name": "a", "url": "https://x.example/b"}), 400,
                   ["Name has already been taken"])
    assert_message(call(links, "POST", token=gl.token,
                        body={"name": "b", "url": "https://x.example/a"}), 400,
                   ["Url has already been taken"])
    assert_error(call(links, "POST", token=gl.token, body={"name": "c"}), 400,
                 "url is missing")


def test_links_of_a_missing_release_are_404(gl: GitLabStandIn) -> None:
    links = project_url(gl, "/releases/v9/assets/links")
    assert_message(call(links, token=gl.token), 404, "404 Not found")
    assert_message(call(links, "POST", token=gl.token,
                        body={"name": "a", "url": "https://x.example/a"}), 404, "404 Not found")


# --- generic packages ---------------------------------------------------------------------------

def test_upload_answers_201_created_and_download_serves_the_bytes(gl: GitLabStandIn) -> None:
    assert_message(upload(gl, b"wheel bytes"), 201, "201 Created")
    reply = call(generic(gl), token=gl.token)
    assert reply.status == 200
    assert reply.body == b"wheel bytes"
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["X-Checksum-SHA256"] == hashlib.sha256(b"wheel bytes").hexdigest()


def test_select_package_file_answers_the_file_record(gl: GitLabStandIn) -> None:
    reply = call(generic(gl, query="?select=package_file"), "PUT", token=gl.token, data=b"xyz")
    assert reply.status == 201
    assert_fields(reply.json(), FILE_FIELDS)
    assert reply.json()["file_sha256"] == hashlib.sha256(b"xyz").hexdigest()
    assert reply.json()["size"] == 3


def test_duplicates_are_added_by_default_and_the_latest_is_served(gl: GitLabStandIn) -> None:
    upload(gl, b"first")
    assert upload(gl, b"second").status == 201
    assert [f["file_name"] for f in gl.package_files("hello", "v1.0")] == ["a.whl", "a.whl"]
    assert call(generic(gl), token=gl.token).body == b"second"


def test_with_duplicates_not_allowed_the_upload_is_refused_as_documented(
    gl: GitLabStandIn,
) -> None:
    gl.project.duplicates_allowed = False
    upload(gl, b"first")
    assert_message(upload(gl, b"first"), 400,
                   "400 Bad request - Duplicate package is not allowed")
    gl.project.duplicate_status = 409
    assert_message(upload(gl, b"other"), 409, "Duplicate package is not allowed")
    assert len(gl.package_files("hello", "v1.0")) == 1
    assert upload(gl, b"other", file="b.whl").status == 201  # another name is no duplicate


@pytest.mark.parametrize(("where", "error"), [
    ({"version": "1.0%2Fx"}, "package_version is invalid"),
    ({"name": "he%20llo"}, "package_name is invalid"),
    ({"file": "%40a.whl"}, "file_name is invalid"),
])
def test_invalid_names_are_400(gl: GitLabStandIn, where: dict[str, str], error: str) -> None:
    assert_error(upload(gl, b"x", **where), 400, error)


def test_a_version_may_hold_pre_release_and_local_parts(gl: GitLabStandIn) -> None:
    assert upload(gl, b"x", version="v1.0.0rc1+local.2", file="a-1.0.0rc1+local.2.whl"
                  ).status == 201


def test_a_disabled_package_registry_is_403(gl: GitLabStandIn) -> None:
    gl.project.package_registry = False
    assert_message(upload(gl, b"x"), 403, "403 Forbidden")
    assert_message(call(project_url(gl, "/packages"), token=gl.token), 403, "403 Forbidden")


def test_download_of_a_missing_file_is_404(gl: GitLabStandIn) -> None:
    assert_message(call(generic(gl, file="nope.whl"), token=gl.token), 404, "404 Not found")


# --- packages API ------------------------------------------------------------------------------

def test_packages_are_listed_by_type_fuzzy_name_and_version(gl: GitLabStandIn) -> None:
    upload(gl, b"1", name="hello", version="v1.0")
    upload(gl, b"2", name="hello", version="v2.0")
    upload(gl, b"3", name="hello-extra", version="v1.0")
    call(generic(gl, name="secret", query="?status=hidden"), "PUT", token=gl.token, data=b"4")
    packages = project_url(gl, "/packages")
    every = call(packages, token=gl.token).json()
    for package in every:
        assert_fields(package, PACKAGE_FIELDS)
    assert {(p["name"], p["version"]) for p in every} == {
        ("hello", "v1.0"), ("hello", "v2.0"), ("hello-extra", "v1.0")}  # hidden: not listed
    fuzzy = call(f"{packages}?package_type=generic&package_name=hello&package_version=v1.0",
                 token=gl.token).json()
    assert {p["name"] for p in fuzzy} == {"hello", "hello-extra"}
    assert call(f"{packages}?package_type=pypi", token=gl.token).json() == []


def test_package_files_state_their_checksums_and_can_be_deleted(gl: GitLabStandIn) -> None:
    upload(gl, b"wheel")
    (package,) = call(project_url(gl, "/packages"), token=gl.token).json()
    files_url = project_url(gl, f"/packages/{package['id']}/package_files")
    (stored,) = call(files_url, token=gl.token).json()
    assert_fields(stored, FILE_FIELDS)
    assert stored["file_sha256"] == hashlib.sha256(b"wheel").hexdigest()
    assert stored["package_id"] == package["id"]
    gone = call(f"{files_url}/{stored['id']}", "DELETE", token=gl.token)
    assert (gone.status, gone.body) == (204, b"")
    assert_message(call(f"{files_url}/{stored['id']}", "DELETE", token=gl.token), 404,
                   "404 Not found")
    assert_message(call(project_url(gl, "/packages/1/package_files"), token=gl.token), 404,
                   "404 Not found")


def test_lists_are_paginated_with_gitlabs_headers(gl: GitLabStandIn) -> None:
    for number in range(5):
        upload(gl, b"x", file=f"f{number}.whl")
    (package,) = call(project_url(gl, "/packages"), token=gl.token).json()
    files_url = project_url(gl, f"/packages/{package['id']}/package_files")
    first = call(f"{files_url}?per_page=2", token=gl.token)
    assert len(first.json()) == 2
    assert (first.headers["X-Page"], first.headers["X-Next-Page"], first.headers["X-Total"],
            first.headers["X-Total-Pages"]) == ("1", "2", "5", "3")
    assert 'rel="next"' in first.headers["Link"]
    last = call(f"{files_url}?per_page=2&page=3", token=gl.token)
    assert [f["file_name"] for f in last.json()] == ["f4.whl"]
    assert last.headers["X-Next-Page"] == ""
    default = call(files_url, token=gl.token)
    assert default.headers["X-Per-Page"] == "20"


# --- authentication, projects, routes ----------------------------------------------------------

def test_a_wrong_token_is_401_unauthorized(gl: GitLabStandIn) -> None:
    assert_message(call(project_url(gl, "/releases"), token="glpat-wrong"), 401,
                   "401 Unauthorized")
    assert_message(call(project_url(gl, "/releases"), job="wrong"), 401, "401 Unauthorized")


def test_a_private_project_without_a_token_is_404_project_not_found(gl: GitLabStandIn) -> None:
    assert_message(call(project_url(gl, "/releases")), 404, "404 Project Not Found")
    assert_message(call(project_url(gl, "/releases"), "POST", body={"tag_name": "v1.0"}), 404,
                   "404 Project Not Found")


def test_an_unknown_project_is_404_project_not_found(gl: GitLabStandIn) -> None:
    assert_message(call(f"{gl.api_url}/projects/nobody%2Fnothing/releases", token=gl.token),
                   404, "404 Project Not Found")


def test_the_project_is_its_id_or_its_url_encoded_path(gl: GitLabStandIn) -> None:
    create(gl, tag_name="v1.0")
    by_id = call(f"{gl.api_url}/projects/{gl.project.id}/releases/v1.0", token=gl.token)
    upper = call(f"{gl.api_url}/projects/{quote(gl.path.upper(), safe='')}/releases/v1.0",
                 token=gl.token)
    assert by_id.status == upper.status == 200
    assert_error(call(f"{gl.api_url}/projects/{gl.path}/releases/v1.0", token=gl.token), 404,
                 "404 Not Found")  # an unencoded path does not route


def test_a_public_project_reads_anonymously_but_writes_need_a_token(gl: GitLabStandIn) -> None:
    gl.project.private = False
    assert call(project_url(gl, "/releases")).status == 200
    assert_message(call(project_url(gl, "/releases"), "POST", body={"tag_name": "v1"}), 401,
                   "401 Unauthorized")


def test_a_read_api_token_reads_but_cannot_write(gl: GitLabStandIn) -> None:
    assert call(project_url(gl, "/releases"), token=gl.read_only_token).status == 200
    reply = call(project_url(gl, "/releases"), "POST", token=gl.read_only_token,
                 body={"tag_name": "v1.0"})
    assert reply.status == 403
    assert reply.json()["error"] == "insufficient_scope"
    assert reply.json()["scope"] == "api"
    assert "error_description" in reply.json()


def test_the_job_token_works_while_its_job_runs(gl: GitLabStandIn) -> None:
    reply = call(project_url(gl, "/releases"), "POST", job=gl.job_token,
                 body={"tag_name": "v1.0"})
    assert reply.status == 201
    assert call(generic(gl), "PUT", job=gl.job_token, data=b"x").status == 201
    gl.job_running = False
    assert_message(call(project_url(gl, "/releases"), job=gl.job_token), 401,
                   "401 Unauthorized")


def test_an_access_token_also_works_as_a_bearer_token(gl: GitLabStandIn) -> None:
    reply = call(project_url(gl, "/releases"), headers={"Authorization": f"Bearer {gl.token}"})
    assert reply.status == 200


def test_unknown_routes_and_methods(gl: GitLabStandIn) -> None:
    assert_error(call(f"{gl.api_url}/version", token=gl.token), 404, "404 Not Found")
    assert_error(call(project_url(gl, "/releases/v1.0/evidence"), "POST", token=gl.token), 404,
                 "404 Not Found")
    assert_error(call(project_url(gl, "/releases/v1.0"), "DELETE", token=gl.token), 405,
                 "405 Not Allowed")


# --- rate limits, recording, failure injection ---------------------------------------------------

def test_rate_limit_headers_on_every_response(gl: GitLabStandIn) -> None:
    first = call(project_url(gl, "/releases"), token=gl.token)
    second = call(project_url(gl, "/releases"), token=gl.token)
    for name in ("RateLimit-Name", "RateLimit-Limit", "RateLimit-Observed",
                 "RateLimit-Remaining", "RateLimit-Reset"):
        assert name in first.headers
    assert int(second.headers["RateLimit-Remaining"]) == int(
        first.headers["RateLimit-Remaining"]) - 1


def test_a_throttled_request_is_429_retry_later(gl: GitLabStandIn) -> None:
    gl.throttle("GET", "*/releases", retry_after=42)
    reply = call(project_url(gl, "/releases"), token=gl.token)
    assert reply.status == 429
    assert reply.body == b"Retry later\n"
    assert reply.headers["Content-Type"] == "text/plain"
    assert reply.headers["Retry-After"] == "42"
    assert reply.headers["RateLimit-ResetTime"].endswith("GMT")
    assert call(project_url(gl, "/releases"), token=gl.token).status == 200


def test_requests_are_recorded_without_the_token(gl: GitLabStandIn) -> None:
    call(project_url(gl, "/releases"), token=gl.token)
    call(project_url(gl, "/releases"), job=gl.job_token)
    call(project_url(gl, "/releases"), token="wrong")
    seen = gl.requests
    assert [r.auth for r in seen] == ["private", "job", "invalid"]
    assert seen[0].path == f"/api/v4/projects/{quote(gl.path, safe='')}/releases"
    for secret in (gl.token, gl.job_token):
        assert secret not in repr(seen)


def test_injected_failures_are_bounded_and_use_gitlabs_body(gl: GitLabStandIn) -> None:
    gl.fail_next("GET", "*/releases", 503, count=2)
    for _ in range(2):
        assert_message(call(project_url(gl, "/releases"), token=gl.token), 503,
                       "503 Service Unavailable")
    assert call(project_url(gl, "/releases"), token=gl.token).status == 200


def test_an_after_effect_failure_keeps_the_state_change(gl: GitLabStandIn) -> None:
    gl.fail_next("POST", "*/releases", 502, after_effect=True)
    assert create(gl, tag_name="v1.0").status == 502
    assert gl.release("v1.0") is not None
    assert_message(create(gl, tag_name="v1.0"), 409, "Release already exists")


def test_a_dropped_connection(gl: GitLabStandIn) -> None:
    gl.fail_next("PUT", "*/packages/generic/*", 0, after_effect=True)
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        urllib.request.urlopen(urllib.request.Request(
            generic(gl), data=b"x", method="PUT", headers={"PRIVATE-TOKEN": gl.token}),
            timeout=10)
    assert gl.file_bytes("hello", "v1.0", "a.whl") == b"x"
    assert gl.requests[-1].status == 0


def test_seeded_state_and_link_resolution(gl: GitLabStandIn) -> None:
    gl.seed_file("hello", "v1.0", "a.whl", b"seeded")
    url = generic(gl)
    gl.seed_release("v1.0", description="Seeded.", links=[{"name": "a.whl", "url": url}])
    reply = call(project_url(gl, "/releases/v1.0"), token=gl.token).json()
    assert reply["description"] == "Seeded."
    assert gl.resolve(reply["assets"]["links"][0]["url"]) == b"seeded"
    assert gl.resolve("https://elsewhere.example/a.whl") is None


# --- merge requests and their notes ------------------------------------------------------------

MR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": int, "iid": int, "project_id": int, "title": str, "description": str, "state": str,
    "created_at": str, "updated_at": str, "source_branch": str, "target_branch": str,
    "author": dict, "draft": bool, "web_url": str, "references": dict,
}


def open_mr(gl: GitLabStandIn, **fields: Any) -> Reply:
    return call(project_url(gl, "/merge_requests"), "POST", token=gl.token, body=fields)


def mr_fields(**more: str) -> dict[str, str]:
    return {"source_branch": "release/v1.3.0", "target_branch": "main",
            "title": "Release 1.3.0", **more}


def test_create_merge_request_answers_201_with_the_documented_shape(gl: GitLabStandIn) -> None:
    reply = open_mr(gl, **mr_fields(description="notes"))
    assert reply.status == 201, reply.body
    mr = reply.json()
    assert_fields(mr, MR_FIELDS)
    assert (mr["iid"], mr["state"], mr["description"]) == (1, "opened", "notes")
    assert mr["web_url"] == f"{gl.web_url}/{gl.path}/-/merge_requests/1"
    assert mr["references"]["short"] == "!1"
    assert open_mr(gl, **mr_fields(source_branch="other")).json()["iid"] == 2


def test_a_second_open_merge_request_for_the_branches_is_409(gl: GitLabStandIn) -> None:
    assert open_mr(gl, **mr_fields()).status == 201
    assert_message(open_mr(gl, **mr_fields(title="again")), 409,
                   ["Another open merge request already exists for this source branch: !1"])
    assert open_mr(gl, **mr_fields(target_branch="maint")).status == 201, "another target"
    call(project_url(gl, "/merge_requests/1"), "PUT", token=gl.token,
         body={"state_event": "close"})
    assert open_mr(gl, **mr_fields()).json()["iid"] == 3, "a closed one does not count"
    assert_message(open_mr(gl, **mr_fields(target_branch="release/v1.3.0")), 409,
                   ["You can't use same project/branch for source and target"])


def test_create_merge_request_needs_branches_and_title(gl: GitLabStandIn) -> None:
    assert_error(open_mr(gl, source_branch="a", target_branch="main"), 400, "title is missing")
    assert_error(open_mr(gl, title="t"), 400,
                 "source_branch is missing, target_branch is missing")
    gl.project.branches = {"main"}
    reply = open_mr(gl, **mr_fields())
    assert_message(reply, 400, {"source_branch": ["does not exist"]})
    assert gl.merge_requests() == []


def test_merge_requests_are_listed_by_state_and_branches(gl: GitLabStandIn) -> None:
    open_mr(gl, **mr_fields())
    open_mr(gl, **mr_fields(source_branch="other"))
    call(project_url(gl, "/merge_requests/2"), "PUT", token=gl.token,
         body={"state_event": "close"})

    def listed(query: str) -> list[int]:
        reply = call(project_url(gl, f"/merge_requests?{query}"), token=gl.token)
        assert reply.status == 200
        return [m["iid"] for m in reply.json()]

    assert listed("") == [2, 1], "every state by default, newest first"
    assert listed("state=opened") == [1]
    assert listed("state=closed") == [2]
    assert listed("state=opened&source_branch=other") == []
    assert listed("source_branch=release/v1.3.0&target_branch=main") == [1]
    assert listed("target_branch=maint") == []
    gl.mark_merged(1)
    assert listed("state=merged") == [1]
    assert call(project_url(gl, "/merge_requests?state=shut"), token=gl.token).status == 400


def test_update_merge_request_changes_fields_and_closes(gl: GitLabStandIn) -> None:
    open_mr(gl, **mr_fields(description="x"))
    url = project_url(gl, "/merge_requests/1")
    reply = call(url, "PUT", token=gl.token, body={"title": "Release 2.0.0", "description": "y"})
    assert reply.status == 200
    assert (reply.json()["title"], reply.json()["description"]) == ("Release 2.0.0", "y")
    closed = call(url, "PUT", token=gl.token, body={"state_event": "close"}).json()
    assert closed["state"] == "closed"
    assert closed["closed_at"] is not None
    assert call(url, token=gl.token).json()["state"] == "closed"
    assert call(url, "PUT", token=gl.token, body={}).status == 400
    assert_error(call(url, "PUT", token=gl.token, body={"state_event": "shut"}), 400,
                 "state_event does not have a valid value")
    assert_message(call(project_url(gl, "/merge_requests/9"), "PUT", token=gl.token,
                        body={"title": "t"}), 404, "404 Not found")
    open_mr(gl, **mr_fields())
    assert call(url, "PUT", token=gl.token, body={"state_event": "reopen"}).status == 409, \
        "reopening meets the open one for the same branches"


def test_notes_on_a_merge_request(gl: GitLabStandIn) -> None:
    open_mr(gl, **mr_fields())
    url = project_url(gl, "/merge_requests/1/notes")
    reply = call(url, "POST", token=gl.token, body={"body": "Closed: nothing to release."})
    assert reply.status == 201
    note = reply.json()
    assert (note["body"], note["noteable_type"], note["noteable_iid"]) == (
        "Closed: nothing to release.", "MergeRequest", 1)
    assert not note["system"]
    assert [n["body"] for n in call(url, token=gl.token).json()] == [
        "Closed: nothing to release."]
    assert_error(call(url, "POST", token=gl.token, body={}), 400, "body is missing")
    assert_message(call(project_url(gl, "/merge_requests/9/notes"), "POST", token=gl.token,
                        body={"body": "x"}), 404, "404 Not found")
    assert gl.mr_notes(1) == ["Closed: nothing to release."]


def test_merge_requests_need_an_access_token_not_the_job_token(gl: GitLabStandIn) -> None:
    assert_message(call(project_url(gl, "/merge_requests"), job=gl.job_token), 404,
                   "404 Project Not Found")
    reply = call(project_url(gl, "/merge_requests"), "POST", job=gl.job_token, body=mr_fields())
    assert_message(reply, 404, "404 Project Not Found")
    ro = call(project_url(gl, "/merge_requests"), "POST", token=gl.read_only_token,
              body=mr_fields())
    assert ro.status == 403
    assert call(project_url(gl, "/merge_requests"), token=gl.read_only_token).status == 200
    assert gl.merge_requests() == []
