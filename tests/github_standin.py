"""A local stand-in for the part of GitHub's REST API that a release "announce" stage uses.

Two HTTP servers on 127.0.0.1 (free ports, background threads, in-memory state):

- ``api_url`` plays ``https://api.github.com`` (and, for downloads, the ``github.com`` web host
  and the pre-signed object host that asset downloads redirect to);
- ``uploads_url`` plays ``https://uploads.github.com``; release ``upload_url`` values point
  there, as the RFC 6570 template
  ``{uploads_url}/repos/OWNER/REPO/releases/ID/assets{?name,label}``.

Fixture: ``github_standin`` (exposed in conftest.py) yields a started :class:`GitHubStandIn`
with one private repository ``octo-org/hello-release`` and a random token.

Documented behaviour followed (read through the stored copies of GitHub's docs):

- REST reference, "REST API endpoints for releases" (docs.github.com/rest/releases/releases)
  and "REST API endpoints for release assets" (docs.github.com/rest/releases/assets), as
  published in github/rest-api-description (descriptions/api.github.com/
  api.github.com.2022-11-28.yaml: paths ``/repos/{owner}/{repo}/releases...``, schemas
  ``release``, ``release-asset``, ``basic-error``, ``validation-error``, responses
  ``not_found``, ``validation_failed``) and github/docs src/rest/data/fpt-2022-11-28/
  releases.json (status codes, example bodies, required fields, the ``digest`` field):

  * ``GET /repos/{owner}/{repo}/releases`` (List releases; ``per_page`` default 30, max 100,
    ``page``; ``Link`` header; drafts only for users with push access) -> 200 / 404
  * ``POST /repos/{owner}/{repo}/releases`` (Create a release; ``tag_name`` required) ->
    201 with ``Location`` / 404 (unknown ``discussion_category_name``) / 422
  * ``GET /repos/{owner}/{repo}/releases/tags/{tag}`` (Get a release by tag name: "Get a
    *published* release with the specified tag"; ``tag`` may span segments) -> 200 / 404
  * ``GET|PATCH|DELETE /repos/{owner}/{repo}/releases/{release_id}`` (Get / Update /
    Delete a release) -> 200 / 200 / 204, 404
  * ``GET /repos/{owner}/{repo}/releases/{release_id}/assets`` (List release assets) -> 200
  * ``POST {uploads}/repos/{owner}/{repo}/releases/{release_id}/assets?name=&label=``
    (Upload a release asset: raw bytes, required ``Content-Type``, required ``name``;
    "If you upload an asset with the same filename as another uploaded asset, you'll
    receive an error" -> 422; "When an upstream failure occurs, you will receive a 502 Bad
    Gateway status. This may leave an empty asset with a state of ``starter``") -> 201
  * ``GET /repos/{owner}/{repo}/releases/assets/{asset_id}`` (Get a release asset; with
    ``Accept: application/octet-stream`` "the API will either redirect the client to the
    location, or stream it directly": both are offered, see ``download_mode``) -> 200 / 302
  * ``DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}`` -> 204 / 404
- "REST API endpoints for pull requests" (docs.github.com/rest/pulls/pulls) and "REST API
  endpoints for issue comments" (docs.github.com/rest/issues/comments):

  * ``GET /repos/{owner}/{repo}/pulls`` (List pull requests; ``state`` open (default),
    closed or all; ``head`` as ``user:ref-name`` or ``organization:ref-name``; ``base``)
    -> 200 / 422
  * ``POST /repos/{owner}/{repo}/pulls`` (Create a pull request; ``head`` and ``base``
    required, ``title`` required unless ``issue``) -> 201 with ``Location`` / 422
    Validation Failed (a head or base that does not exist: ``field`` and ``code:
    invalid``; an open pull request for the same head and base, or no commits between
    them: ``code: custom`` with a ``message``)
  * ``GET|PATCH /repos/{owner}/{repo}/pulls/{pull_number}`` (Get / Update a pull request:
    ``title``, ``body``, ``state`` open or closed, ``base``) -> 200 / 404 / 422
  * ``GET|POST /repos/{owner}/{repo}/issues/{issue_number}/comments`` (a pull request is an
    issue: its conversation comments; ``body`` required) -> 200 / 201 with ``Location``
- "Troubleshooting the REST API": 400 "Problems parsing JSON", 400 "Body should be a JSON
  object", 422 "Invalid request" for a missing/wrongly typed parameter, 422 "Validation
  Failed" with ``errors[].code`` (``already_exists``, ``custom``...), 400 for an
  ``X-GitHub-Api-Version`` that does not exist, 404 (not 403) for a private resource without
  proper authentication, a trailing slash is a 404, path parameters are URL-encoded.
- "Rate limits for the REST API": ``x-ratelimit-limit/-remaining/-used/-reset/-resource``
  on every response; over the primary limit: 403 (or 429) with ``x-ratelimit-remaining: 0``;
  a secondary limit: 403 or 429 with ``retry-after``.
- "API Versions": ``X-GitHub-Api-Version``; requests without it use 2022-11-28; the
  versions in the stored description are 2022-11-28 and 2026-03-10.
- "Getting started with the REST API": ``Authorization: Bearer TOKEN`` or ``token TOKEN``;
  a missing ``User-Agent`` is rejected with 403; response headers ``x-github-media-type:
  github.v3; format=json`` and ``x-github-request-id``; ``*_url`` fields are RFC 6570
  templates; timestamps are UTC ``YYYY-MM-DDTHH:MM:SSZ``; blank fields are ``null``.

Taken from observed responses (GitHub issue threads), not from reference pages: the exact
texts "Bad credentials", "Requires authentication", "API rate limit exceeded for user ID N.",
'Invalid request.\\n\\n"tag_name" wasn\'t supplied.', "Invalid Content-Type: ''", "Invalid
name for request", "Bad Content-Length: ", the unsupported-version message, the
``{"resource": "Release"|"ReleaseAsset", "code": "already_exists", "field": "tag_name"|"name"}``
errors and the uploads host's error bodies (``message`` + ``request_id``).

Immutable releases (the repository setting, ``Repo.immutable_releases``; GitHub's docs
"Immutable releases" and observed responses): publishing a release seals it (``"immutable":
true``); an upload to it answers 422 "Cannot upload assets to an immutable release."; only its
title and notes can still change; its tag can never carry another release ("tag_name was used
by an immutable release", also after the release is deleted). ``make_latest`` ("true",
"false", "legacy"; "Defaults to true for newly published releases"; drafts and pre-releases
cannot be latest) decides what ``GET /repos/{owner}/{repo}/releases/latest`` answers.

Stand-in choices where the docs are silent: repositories are private by default; a wrong
token is 401 everywhere; no token is 404 on a private repository (reads and writes) and 401
"Requires authentication" for a write to a public one; ``read_only_token`` gets 403 "Resource
not accessible by personal access token" on writes; anonymous callers never see drafts; a
draft does not hold its tag (two drafts may share one, and publishing checks the tag again);
``browser_download_url`` (served by the API server, like github.com) needs the token for a
private repository; downloads redirect (302) to ``/_objects/...``, a pre-signed-style URL that
needs no token and does not mind one; the web and object paths send no API headers and do not
spend the rate limit; a request with a wrong token does not spend it either; an injected
``after_effect`` failure is consumed even if the request then fails for another reason.

Stand-in choices for immutable releases: deleting an asset of one answers 422 "Cannot delete
assets of an immutable release."; a change to its ``draft``, ``prerelease``, ``tag_name`` or
``target_commitish`` answers 422 "Validation Failed" (``code: custom``); "legacy" picks the
newest published final release by creation time.

Deliberately not implemented: every other endpoint (generate-notes, update
an asset, reactions, tags, ...: they answer 404), git refs (any ``tag_name`` /
``target_commitish`` is accepted and no tag is created; "Published releases must have a
valid tag" is never raised), release-notes generation (``generate_release_notes`` is
accepted and ignored), discussions (any
``discussion_category_name`` is unknown -> 404 unless added to ``Repo.discussion_categories``),
ETags / conditional requests, JSON-P, CORS, GraphQL, Basic authentication, fine-grained
permission headers, rate-limit reset over time (the window only refills when
``X-RateLimit-Reset`` has passed), exact asset renaming rules (an approximation, see
:func:`github_asset_name`), HTTPS/SNI. The servers never retry anything themselves.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

SUPPORTED_API_VERSIONS = ("2026-03-10", "2022-11-28")  # most recent first
DEFAULT_API_VERSION = "2022-11-28"
MEDIA_TYPE = "github.v3; format=json"

DOCS = "https://docs.github.com/rest"
_RELEASES_DOC = "https://docs.github.com/rest/releases/releases"
_ASSETS_DOC = "https://docs.github.com/rest/releases/assets"
_PULLS_DOC = "https://docs.github.com/rest/pulls/pulls"
_COMMENTS_DOC = "https://docs.github.com/rest/issues/comments"
DOC = {
    "list_releases": f"{_RELEASES_DOC}#list-releases",
    "create_release": f"{_RELEASES_DOC}#create-a-release",
    "get_release_by_tag": f"{_RELEASES_DOC}#get-a-release-by-tag-name",
    "get_release": f"{_RELEASES_DOC}#get-a-release",
    "get_latest_release": f"{_RELEASES_DOC}#get-the-latest-release",
    "update_release": f"{_RELEASES_DOC}#update-a-release",
    "delete_release": f"{_RELEASES_DOC}#delete-a-release",
    "list_assets": f"{_ASSETS_DOC}#list-release-assets",
    "upload_asset": f"{_ASSETS_DOC}#upload-a-release-asset",
    "get_asset": f"{_ASSETS_DOC}#get-a-release-asset",
    "delete_asset": f"{_ASSETS_DOC}#delete-a-release-asset",
    "list_pulls": f"{_PULLS_DOC}#list-pull-requests",
    "create_pull": f"{_PULLS_DOC}#create-a-pull-request",
    "get_pull": f"{_PULLS_DOC}#get-a-pull-request",
    "update_pull": f"{_PULLS_DOC}#update-a-pull-request",
    "list_comments": f"{_COMMENTS_DOC}#list-issue-comments",
    "create_comment": f"{_COMMENTS_DOC}#create-an-issue-comment",
    "rate_limit": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    "api_versions": "https://docs.github.com/rest/about-the-rest-api/api-versions",
}

Host = Literal["api", "uploads", "web"]
AuthState = Literal["none", "invalid", "valid", "read-only"]
JSON = dict[str, Any]

_STRING_FIELDS = ("tag_name", "target_commitish", "name", "body", "discussion_category_name",
                  "make_latest")
_BOOL_FIELDS = ("draft", "prerelease", "generate_release_notes")
_MAKE_LATEST = ("true", "false", "legacy")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(prefix: str, number: int) -> str:
    return prefix + base64.b64encode(f"{prefix}{number}".encode()).decode().rstrip("=")


def github_asset_name(name: str) -> str:
    """The stored name of an uploaded asset. GitHub documents that it "renames asset filenames
    that have special characters, non-alphanumeric characters, and leading or trailing periods"
    without giving the rule; this approximation keeps ``[A-Za-z0-9._-]``, turns any other
    character into ``.`` and strips leading and trailing periods."""
    return re.sub(r"[^A-Za-z0-9._-]", ".", name).strip(".")


def _bad_tag_name(tag: str) -> bool:
    """git check-ref-format's rules, enough to reject obviously malformed tag names."""
    return (not tag or tag.startswith(("/", "-")) or tag.endswith(("/", ".", ".lock"))
            or ".." in tag or "//" in tag or "@{" in tag
            or any(c in tag for c in " ~^:?*[\\") or any(ord(c) < 32 or ord(c) == 127
                                                       for c in tag))


# --- state -----------------------------------------------------------------------------------

@dataclass
class Asset:
    id: int
    name: str
    label: str | None
    content_type: str
    data: bytes
    state: str = "uploaded"
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    download_count: int = 0
    object_key: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    created_at: str = field(default_factory=_now)
    published_at: str | None = None
    updated_at: str | None = None
    assets: list[Asset] = field(default_factory=list)
    immutable: bool = False  # published while the repository had immutable releases on
    untagged: str = field(default_factory=lambda: "untagged-" + secrets.token_hex(10))

    @property
    def url_tag(self) -> str:
        """The tag used in html/download URLs: drafts have no tag yet."""
        return self.untagged if self.draft else self.tag_name


@dataclass
class Pull:
    """A pull request; its number is an issue number (pull requests are issues)."""

    number: int
    title: str
    body: str | None
    head: str  # the branch name (a head in this repository)
    base: str
    state: str = "open"  # open | closed
    merged: bool = False
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    comments: list[JSON] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    private: bool = True
    default_branch: str = "main"
    releases: dict[int, Release] = field(default_factory=dict)
    discussion_categories: set[str] = field(default_factory=set)
    immutable_releases: bool = False  # the repository setting "Enable release immutability"
    latest_id: int | None = None  # the release GitHub shows as "Latest"
    sealed_tags: set[str] = field(default_factory=set)  # tags of deleted immutable releases
    pulls: dict[int, Pull] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it. The token is never stored: ``auth`` only says
    whether an ``Authorization`` header was absent, wrong, valid or a read-only token."""

    host: Host
    method: str
    path: str
    query: str
    status: int  # 0: the connection was dropped (failure injection)
    auth: AuthState
    api_version: str | None
    content_type: str | None


@dataclass
class FailureRule:
    """Answer the next ``remaining`` requests matching ``method`` / ``path`` (a glob on the
    URL path, without the query) on ``host`` with ``status``. ``status=0`` drops the
    connection without a response. With ``after_effect`` the request is carried out first
    (state changes happen, the rate limit is spent) and only the response is replaced."""

    method: str
    path: str
    status: int
    remaining: int = 1
    host: Host | Literal["any"] = "any"
    after_effect: bool = False
    body: JSON | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, host: Host, method: str, path: str) -> bool:
        return (self.remaining > 0 and self.host in ("any", host)
                and self.method.upper() in ("*", method)
                and fnmatch.fnmatchcase(path, self.path))


@dataclass
class _Bucket:
    limit: int
    remaining: int
    used: int
    reset: int
    status: int = 403


@dataclass
class _Request:
    host: Host
    method: str
    target: str
    headers: Message
    body: bytes | None  # None: no usable Content-Length
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    raw_query: str = ""
    request_id: str = ""
    auth: AuthState = "none"
    api_version: str = DEFAULT_API_VERSION
    after_rule: FailureRule | None = None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Response:
        return cls(status, json.dumps(payload, indent=2).encode(),
                   {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


# --- the stand-in ----------------------------------------------------------------------------

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_API_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_REPO + r"/releases"), "list_releases"),
    ("POST", re.compile(_REPO + r"/releases"), "create_release"),
    ("GET", re.compile(_REPO + r"/releases/tags/(?P<tag>.+)"), "get_release_by_tag"),
    ("GET", re.compile(_REPO + r"/releases/latest"), "get_latest_release"),
    ("GET", re.compile(_REPO + r"/releases/assets/(?P<asset_id>\d+)"), "get_asset"),
    ("DELETE", re.compile(_REPO + r"/releases/assets/(?P<asset_id>\d+)"), "delete_asset"),
    ("GET", re.compile(_REPO + r"/releases/(?P<release_id>\d+)"), "get_release"),
    ("PATCH", re.compile(_REPO + r"/releases/(?P<release_id>\d+)"), "update_release"),
    ("DELETE", re.compile(_REPO + r"/releases/(?P<release_id>\d+)"), "delete_release"),
    ("GET", re.compile(_REPO + r"/releases/(?P<release_id>\d+)/assets"), "list_assets"),
    ("GET", re.compile(_REPO + r"/pulls"), "list_pulls"),
    ("POST", re.compile(_REPO + r"/pulls"), "create_pull"),
    ("GET", re.compile(_REPO + r"/pulls/(?P<number>\d+)"), "get_pull"),
    ("PATCH", re.compile(_REPO + r"/pulls/(?P<number>\d+)"), "update_pull"),
    ("GET", re.compile(_REPO + r"/issues/(?P<number>\d+)/comments"), "list_comments"),
    ("POST", re.compile(_REPO + r"/issues/(?P<number>\d+)/comments"), "create_comment"),
]
_UPLOAD_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_REPO + r"/releases/(?P<release_id>\d+)/assets"), "upload_asset"),
]
_WEB_DOWNLOAD = re.compile(
    r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/(?P<tag>.+)/(?P<name>[^/]+)")
_OBJECT = re.compile(r"/_objects/(?P<asset_id>\d+)/(?P<key>[0-9a-f]+)/[^/]+")


class GitHubStandIn:
    """In-memory GitHub releases API on two local servers; see the module docstring."""

    def __init__(self, owner: str = "octo-org", repo: str = "hello-release", *,
                 private: bool = True, user_login: str = "release-bot", user_id: int = 583231,
                 rate_limit: int = 5000) -> None:
        self.owner = owner
        self.repo = repo
        self.token = "ghp_" + secrets.token_hex(18)
        self.read_only_token = "ghp_" + secrets.token_hex(18)
        self.user_login = user_login
        self.user_id = user_id
        self.download_mode: Literal["redirect", "stream"] = "redirect"
        self._lock = threading.RLock()
        self._repos: dict[str, Repo] = {}
        self._next_release_id = 100_001
        self._next_asset_id = 700_001
        self._next_issue_number = 0
        self._next_comment_id = 1_200_000
        self.git_remote: Path | None = None  # a bare repository: heads of pull requests exist
        self._requests: list[RecordedRequest] = []
        self._rules: list[FailureRule] = []
        reset = int(time.time()) + 3600
        self._auth_bucket = _Bucket(rate_limit, rate_limit, 0, reset)
        self._anon_bucket = _Bucket(60, 60, 0, reset)
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.add_repo(owner, repo, private=private)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        hosts: tuple[Host, ...] = ("api", "uploads")
        for host in hosts:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.standin, server.kind = self, host
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                      name=f"github-standin-{host}", daemon=True)
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper, thread in zip(stoppers, self._threads, strict=True):
            stopper.join(timeout=5)
            thread.join(timeout=5)
        for server in self._servers:
            server.server_close()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def uploads_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    # -- seeding and inspection ----------------------------------------------------------------

    def add_repo(self, owner: str, name: str, *, private: bool = True,
                 default_branch: str = "main") -> Repo:
        with self._lock:
            repo = Repo(owner, name, private, default_branch)
            self._repos[f"{owner}/{name}".lower()] = repo
            return repo

    def get_repo(self, full_name: str | None = None) -> Repo:
        with self._lock:
            return self._repos[(full_name or self.full_name).lower()]

    def pulls(self, repo: str | None = None) -> list[JSON]:
        """Every pull request of the repository, newest first, as the API shows it."""
        with self._lock:
            target = self.get_repo(repo)
            return [self._pull_json(target, p)
                    for p in sorted(target.pulls.values(), key=lambda p: -p.number)]

    def pull_comments(self, number: int, repo: str | None = None) -> list[str]:
        with self._lock:
            return [str(c["body"]) for c in self.get_repo(repo).pulls[number].comments]

    def mark_merged(self, number: int, repo: str | None = None) -> None:
        """What merging does to the pull request (the test merges the branch with git)."""
        with self._lock:
            pull = self.get_repo(repo).pulls[number]
            pull.state, pull.merged, pull.closed_at = "closed", True, _now()

    def seed_release(self, tag_name: str, *, repo: str | None = None, name: str | None = None,
                     body: str | None = None, draft: bool = False, prerelease: bool = False,
                     target_commitish: str | None = None) -> JSON:
        """Create a release directly (no request, no rate limit); returns its JSON."""
        with self._lock:
            target = self.get_repo(repo)
            release = self._new_release(target, tag_name, target_commitish=target_commitish,
                                        name=name, body=body, draft=draft,
                                        prerelease=prerelease)
            if not draft:
                self._on_publish(target, release, "true")
            return self._release_json(target, release)

    def seed_asset(self, release_id: int, name: str, data: bytes, *, repo: str | None = None,
                   content_type: str = "application/octet-stream",
                   label: str | None = None) -> JSON:
        with self._lock:
            target = self.get_repo(repo)
            release = target.releases[release_id]
            assert not release.immutable, "GitHub refuses assets on an immutable release"
            asset = Asset(self._take_asset_id(), github_asset_name(name), label, content_type,
                          data)
            release.assets.append(asset)
            return self._asset_json(target, release, asset)

    def releases(self, repo: str | None = None) -> list[JSON]:
        """Every release (drafts included), newest first, as the API would show them."""
        with self._lock:
            target = self.get_repo(repo)
            return [self._release_json(target, r) for r in self._ordered(target)]

    def release_by_tag(self, tag: str, repo: str | None = None) -> JSON | None:
        with self._lock:
            target = self.get_repo(repo)
            found = self._published_by_tag(target, tag)
            return None if found is None else self._release_json(target, found)

    def assets(self, release_id: int, repo: str | None = None) -> list[JSON]:
        with self._lock:
            target = self.get_repo(repo)
            release = target.releases[release_id]
            return [self._asset_json(target, release, a) for a in release.assets]

    def asset_bytes(self, asset_id: int, repo: str | None = None) -> bytes:
        with self._lock:
            found = self._find_asset(self.get_repo(repo), asset_id)
            if found is None:
                raise KeyError(asset_id)
            return found[1].data

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- knobs ---------------------------------------------------------------------------------

    def set_rate_limit(self, remaining: int, *, limit: int | None = None, reset_in: int = 3600,
                       status: Literal[403, 429] = 403, anonymous: bool = False) -> None:
        """Set the primary rate limit of authenticated (or anonymous) requests: ``remaining``
        requests until the window resets ``reset_in`` seconds from now; once it is spent,
        requests answer ``status`` (the docs allow 403 or 429)."""
        with self._lock:
            bucket = self._anon_bucket if anonymous else self._auth_bucket
            bucket.limit = bucket.limit if limit is None else limit
            bucket.remaining = remaining
            bucket.used = max(0, bucket.limit - remaining)
            bucket.reset = int(time.time()) + reset_in
            bucket.status = status

    def fail_next(self, method: str, path: str, status: int, *, count: int = 1,
                  host: Host | Literal["any"] = "any", after_effect: bool = False,
                  body: JSON | None = None, headers: dict[str, str] | None = None
                  ) -> FailureRule:
        """Inject a failure (see :class:`FailureRule`); rules are tried in the order added."""
        if count < 1:
            raise ValueError("count must be at least 1")
        rule = FailureRule(method.upper(), path, status, count, host, after_effect, body,
                           dict(headers or {}))
        with self._lock:
            self._rules.append(rule)
        return rule

    def secondary_rate_limit(self, method: str = "*", path: str = "*", *, count: int = 1,
                             retry_after: int = 60, status: Literal[403, 429] = 403
                             ) -> FailureRule:
        """The next ``count`` matching requests hit a secondary rate limit (``Retry-After``)."""
        body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again.",
                "documentation_url": DOC["rate_limit"] + "#about-secondary-rate-limits",
                "status": str(status)}
        return self.fail_next(method, path, status, count=count, body=body,
                              headers={"Retry-After": str(retry_after)})

    # -- request handling (called by the handler threads) ----------------------------------------

    def _handle(self, req: _Request) -> _Response | None:
        with self._lock:
            response = self._process(req)
            self._requests.append(RecordedRequest(
                req.host, req.method, req.path, req.raw_query,
                0 if response is None else response.status, req.auth,
                req.headers.get("X-GitHub-Api-Version"), req.headers.get("Content-Type")))
            return response

    def _process(self, req: _Request) -> _Response | None:
        split = urlsplit(req.target)
        req.path, req.raw_query = split.path, split.query
        req.query = parse_qs(split.query, keep_blank_values=True)
        req.request_id = ":".join(secrets.token_hex(n).upper() for n in (2, 2, 3, 4, 4))
        req.auth = self._auth_state(req.headers.get("Authorization"))
        if req.host == "api" and req.method == "GET":
            web = self._web(req)
            if web is not None:
                req.host = "web"
                return web
        rule = self._take_rule(req, after_effect=False)
        if rule is not None:
            return None if rule.status == 0 else self._decorate(req, self._injected(req, rule))
        response: _Response | None = self._checked(req)
        rule = req.after_rule
        if rule is not None:
            response = None if rule.status == 0 else self._injected(req, rule)
        return None if response is None else self._decorate(req, response)

    def _checked(self, req: _Request) -> _Response:
        version = req.headers.get("X-GitHub-Api-Version")
        if version is not None:
            if version not in SUPPORTED_API_VERSIONS:
                listed = ", ".join(f'"{v}"' + (" (most recent)" if i == 0 else "")
                                   for i, v in enumerate(SUPPORTED_API_VERSIONS))
                return self._error(req, 400, f'The version you specified in the '
                                   f'"X-GitHub-Api-Version" request header, "{version}", is not '
                                   f'a supported version. The following versions are currently '
                                   f'supported: {listed}.', DOC["api_versions"])
            req.api_version = version
        if not req.headers.get("User-Agent"):
            return self._error(req, 403, "Request forbidden by administrative rules. Please make "
                               "sure your request has a User-Agent header "
                               "(https://docs.github.com/rest/overview/resources-in-the-rest-api"
                               "#user-agent-required). Check https://developer.github.com for "
                               "other possible causes.")
        if req.auth == "invalid":
            return self._error(req, 401, "Bad credentials")
        bucket = self._bucket(req)
        if bucket.remaining <= 0:
            who = (f"user ID {self.user_id}." if req.auth != "none" else
                   "127.0.0.1. (But here's the good news: Authenticated requests get a higher "
                   "rate limit. Check out the documentation for more details.)")
            return self._error(req, bucket.status, f"API rate limit exceeded for {who}",
                               DOC["rate_limit"])
        bucket.remaining -= 1
        bucket.used += 1
        req.after_rule = self._take_rule(req, after_effect=True)
        routes = _API_ROUTES if req.host == "api" else _UPLOAD_ROUTES
        for method, pattern, name in routes:
            match = pattern.fullmatch(req.path)
            if match is not None and method == req.method:
                handler: Callable[[_Request, dict[str, str]], _Response] = getattr(
                    self, "_" + name)
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(req, params)
        return self._error(req, 404, "Not Found")

    # -- helpers -------------------------------------------------------------------------------

    def _auth_state(self, header: str | None) -> AuthState:
        if header is None:
            return "none"
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("bearer", "token") or not credential:
            return "invalid"
        if secrets.compare_digest(credential.encode(), self.token.encode()):
            return "valid"
        if secrets.compare_digest(credential.encode(), self.read_only_token.encode()):
            return "read-only"
        return "invalid"

    def _bucket(self, req: _Request) -> _Bucket:
        bucket = self._anon_bucket if req.auth == "none" else self._auth_bucket
        now = int(time.time())
        if now >= bucket.reset:
            bucket.remaining, bucket.used, bucket.reset = bucket.limit, 0, now + 3600
        return bucket

    def _take_rule(self, req: _Request, *, after_effect: bool) -> FailureRule | None:
        for rule in self._rules:
            if rule.after_effect == after_effect and rule.matches(req.host, req.method, req.path):
                rule.remaining -= 1
                return rule
        return None

    def _injected(self, req: _Request, rule: FailureRule) -> _Response:
        body = rule.body
        if body is None:
            try:
                phrase = HTTPStatus(rule.status).phrase
            except ValueError:
                phrase = "Error"
            body = {"message": "Server Error" if rule.status >= 500 else phrase,
                    "documentation_url": DOCS, "status": str(rule.status)}
        return _Response.json(rule.status, body, rule.headers)

    def _decorate(self, req: _Request, response: _Response) -> _Response:
        bucket = self._bucket(req)
        response.headers.setdefault("X-GitHub-Media-Type", MEDIA_TYPE)
        response.headers["X-GitHub-Request-Id"] = req.request_id
        response.headers["X-GitHub-Api-Version-Selected"] = req.api_version
        response.headers["X-RateLimit-Limit"] = str(bucket.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(bucket.remaining, 0))
        response.headers["X-RateLimit-Used"] = str(bucket.used)
        response.headers["X-RateLimit-Reset"] = str(bucket.reset)
        response.headers["X-RateLimit-Resource"] = "core"
        return response

    def _error(self, req: _Request, status: int, message: str, doc: str = DOCS,
               errors: list[JSON] | None = None) -> _Response:
        payload: JSON = {"message": message}
        if errors is not None:
            payload["errors"] = errors
        payload["documentation_url"] = doc
        payload["status"] = str(status)
        return _Response.json(status, payload)

    def _upload_error(self, req: _Request, status: int, message: str,
                      errors: list[JSON] | None = None) -> _Response:
        """The uploads host answers with ``message`` and ``request_id`` (observed)."""
        payload: JSON = {"message": message, "request_id": req.request_id}
        if errors is not None:
            payload["documentation_url"] = DOC["upload_asset"]
            payload["errors"] = errors
        return _Response.json(status, payload)

    def _not_found(self, req: _Request, endpoint: str) -> _Response:
        return self._error(req, 404, "Not Found", DOC[endpoint])

    def _repo_for(self, req: _Request, params: dict[str, str], endpoint: str, *,
                  write: bool) -> Repo | _Response:
        repo = self._repos.get(f"{params['owner']}/{params['repo']}".lower())
        if repo is None or (repo.private and req.auth == "none"):
            return self._not_found(req, endpoint)
        if write and req.auth == "none":
            return self._error(req, 401, "Requires authentication", DOC[endpoint])
        if write and req.auth == "read-only":
            return self._error(req, 403, "Resource not accessible by personal access token",
                               DOC[endpoint])
        return repo

    def _release_for(self, req: _Request, params: dict[str, str], endpoint: str, *,
                     write: bool) -> tuple[Repo, Release] | _Response:
        repo = self._repo_for(req, params, endpoint, write=write)
        if isinstance(repo, _Response):
            return repo
        release = repo.releases.get(int(params["release_id"]))
        if release is None or (release.draft and req.auth == "none"):
            return self._not_found(req, endpoint)
        return repo, release

    def _find_asset(self, repo: Repo, asset_id: int) -> tuple[Release, Asset] | None:
        for release in repo.releases.values():
            for asset in release.assets:
                if asset.id == asset_id:
                    return release, asset
        return None

    def _ordered(self, repo: Repo) -> list[Release]:
        return sorted(repo.releases.values(), key=lambda r: r.id, reverse=True)

    def _published_by_tag(self, repo: Repo, tag: str) -> Release | None:
        return next((r for r in self._ordered(repo) if not r.draft and r.tag_name == tag), None)

    def _take_asset_id(self) -> int:
        self._next_asset_id += 1
        return self._next_asset_id - 1

    def _new_release(self, repo: Repo, tag_name: str, *, target_commitish: str | None,
                     name: str | None, body: str | None, draft: bool,
                     prerelease: bool) -> Release:
        release = Release(self._next_release_id, tag_name,
                          target_commitish or repo.default_branch, name, body, draft, prerelease)
        self._next_release_id += 1
        if not draft:
            release.published_at = release.created_at
        release.updated_at = release.created_at
        repo.releases[release.id] = release
        return release

    def _user_json(self) -> JSON:
        login, api = self.user_login, self.api_url
        return {
            "login": login, "id": self.user_id, "node_id": _node_id("U_", self.user_id),
            "avatar_url": f"{api}/avatars/{login}", "gravatar_id": "",
            "url": f"{api}/users/{login}", "html_url": f"{api}/{login}",
            "followers_url": f"{api}/users/{login}/followers",
            "following_url": f"{api}/users/{login}/following{{/other_user}}",
            "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/users/{login}/subscriptions",
            "organizations_url": f"{api}/users/{login}/orgs",
            "repos_url": f"{api}/users/{login}/repos",
            "events_url": f"{api}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{api}/users/{login}/received_events",
            "type": "User", "user_view_type": "public", "site_admin": False,
        }

    def _asset_json(self, repo: Repo, release: Release, asset: Asset) -> JSON:
        base = f"{self.api_url}/repos/{repo.full_name}"
        return {
            "url": f"{base}/releases/assets/{asset.id}",
            "browser_download_url": (f"{self.api_url}/{repo.full_name}/releases/download/"
                                     f"{quote(release.url_tag)}/{quote(asset.name)}"),
            "id": asset.id,
            "node_id": _node_id("RA_", asset.id),
            "name": asset.name,
            "label": asset.label,
            "state": asset.state,
            "content_type": asset.content_type,
            "size": len(asset.data),
            "digest": "sha256:" + hashlib.sha256(asset.data).hexdigest(),
            "download_count": asset.download_count,
            "created_at": asset.created_at,
            "updated_at": asset.updated_at,
            "uploader": self._user_json(),
        }

    def _release_json(self, repo: Repo, release: Release) -> JSON:
        base = f"{self.api_url}/repos/{repo.full_name}"
        tag = quote(release.tag_name, safe="")
        return {
            "url": f"{base}/releases/{release.id}",
            "html_url": f"{self.api_url}/{repo.full_name}/releases/tag/{quote(release.url_tag)}",
            "assets_url": f"{base}/releases/{release.id}/assets",
            "upload_url": (f"{self.uploads_url}/repos/{repo.full_name}/releases/{release.id}"
                           "/assets{?name,label}"),
            "tarball_url": None if release.draft else f"{base}/tarball/{tag}",
            "zipball_url": None if release.draft else f"{base}/zipball/{tag}",
            "id": release.id,
            "author": self._user_json(),
            "node_id": _node_id("RE_", release.id),
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "draft": release.draft,
            "immutable": release.immutable,
            "prerelease": release.prerelease,
            "created_at": release.created_at,
            "updated_at": release.updated_at,
            "published_at": release.published_at,
            "assets": [self._asset_json(repo, release, a) for a in release.assets],
            "body": release.body,
        }

    def _json_body(self, req: _Request, doc: str) -> JSON | _Response:
        raw = req.body or b""
        if not raw.strip():
            return {}
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self._error(req, 400, "Problems parsing JSON", doc)
        if not isinstance(payload, dict):
            return self._error(req, 400, "Body should be a JSON object", doc)
        return payload

    def _invalid_fields(self, req: _Request, payload: JSON, doc: str) -> _Response | None:
        """Type errors answer 422 "Invalid request" (unknown fields are ignored)."""
        for name in _STRING_FIELDS + _BOOL_FIELDS:
            if name not in payload:
                continue
            value = payload[name]
            wanted = "string" if name in _STRING_FIELDS else "boolean"
            if not isinstance(value, str if wanted == "string" else bool):
                shown = "nil" if value is None else json.dumps(value)
                return self._error(req, 422, f"Invalid request.\n\nFor 'properties/{name}', "
                                   f"{shown} is not a {wanted}.", doc)
        latest = payload.get("make_latest")
        if latest is not None and latest not in _MAKE_LATEST:
            allowed = ", ".join(f'"{v}"' for v in _MAKE_LATEST)
            return self._error(req, 422, f"Invalid request.\n\nFor 'properties/make_latest', "
                               f'"{latest}" is not a member of [{allowed}].', doc)
        return None

    def _release_conflict(self, req: _Request, repo: Repo, release: Release | None, tag: str,
                          doc: str) -> _Response | None:
        if _bad_tag_name(tag):
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "Release", "code": "custom", "field": "tag_name",
                 "message": "tag_name is not well-formed"}])
        if tag in repo.sealed_tags:
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "Release", "code": "custom", "field": "tag_name",
                 "message": "tag_name was used by an immutable release"}])
        other = self._published_by_tag(repo, tag)
        if other is not None and other is not release:
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "Release", "code": "already_exists", "field": "tag_name"}])
        return None

    def _paged(self, req: _Request, items: list[JSON]) -> _Response:
        def number(key: str, default: int) -> int:
            try:
                value = int(req.query.get(key, [str(default)])[-1])
            except ValueError:
                return default
            return value if value >= 1 else default

        per_page = min(number("per_page", 30), 100)
        page = number("page", 1)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []
        base = self.api_url if req.host == "api" else self.uploads_url

        def link(to: int, rel: str) -> str:
            return f'<{base}{req.path}?{urlencode({"per_page": per_page, "page": to})}>; ' \
                   f'rel="{rel}"'

        if page > 1:
            links += [link(min(page - 1, last), "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        headers = {"Link": ", ".join(links)} if links else {}
        return _Response.json(200, chunk, headers)

    # -- endpoints -------------------------------------------------------------------------------

    def _list_releases(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "list_releases", write=False)
        if isinstance(repo, _Response):
            return repo
        visible = [r for r in self._ordered(repo) if req.auth != "none" or not r.draft]
        return self._paged(req, [self._release_json(repo, r) for r in visible])

    def _create_release(self, req: _Request, params: dict[str, str]) -> _Response:
        doc = DOC["create_release"]
        repo = self._repo_for(req, params, "create_release", write=True)
        if isinstance(repo, _Response):
            return repo
        payload = self._json_body(req, doc)
        if isinstance(payload, _Response):
            return payload
        if "tag_name" not in payload:
            return self._error(req, 422, "Invalid request.\n\n\"tag_name\" wasn't supplied.",
                               doc)
        invalid = self._invalid_fields(req, payload, doc)
        if invalid is not None:
            return invalid
        draft = bool(payload.get("draft", False))
        category = payload.get("discussion_category_name")
        if category is not None and category not in repo.discussion_categories:
            return self._error(req, 404, "Not Found", doc)
        if not draft:
            conflict = self._release_conflict(req, repo, None, payload["tag_name"], doc)
            if conflict is not None:
                return conflict
        release = self._new_release(repo, payload["tag_name"],
                                    target_commitish=payload.get("target_commitish"),
                                    name=payload.get("name"), body=payload.get("body"),
                                    draft=draft, prerelease=bool(payload.get("prerelease", False)))
        if not draft:
            self._on_publish(repo, release, payload.get("make_latest", "true"))
        body = self._release_json(repo, release)
        return _Response.json(201, body, {"Location": body["url"]})

    def _get_release_by_tag(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "get_release_by_tag", write=False)
        if isinstance(repo, _Response):
            return repo
        release = self._published_by_tag(repo, params["tag"])
        if release is None:
            return self._not_found(req, "get_release_by_tag")
        return _Response.json(200, self._release_json(repo, release))

    def _get_release(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._release_for(req, params, "get_release", write=False)
        if isinstance(found, _Response):
            return found
        return _Response.json(200, self._release_json(*found))

    def _update_release(self, req: _Request, params: dict[str, str]) -> _Response:
        doc = DOC["update_release"]
        found = self._release_for(req, params, "update_release", write=True)
        if isinstance(found, _Response):
            return found
        repo, release = found
        payload = self._json_body(req, doc)
        if isinstance(payload, _Response):
            return payload
        invalid = self._invalid_fields(req, payload, doc)
        if invalid is not None:
            return invalid
        category = payload.get("discussion_category_name")
        if category is not None and category not in repo.discussion_categories:
            return self._error(req, 404, "Not Found", doc)
        draft = payload.get("draft", release.draft)
        tag = payload.get("tag_name", release.tag_name)
        if release.immutable:
            frozen = {"draft": release.draft, "tag_name": release.tag_name,
                      "prerelease": release.prerelease,
                      "target_commitish": release.target_commitish}
            changed = sorted(k for k, v in frozen.items() if k in payload and payload[k] != v)
            if changed:
                return self._error(req, 422, "Validation Failed", doc, [
                    {"resource": "Release", "code": "custom", "field": changed[0],
                     "message": "Only the title and notes of an immutable release can be "
                                "modified"}])
        if not draft:
            conflict = self._release_conflict(req, repo, release, tag, doc)
            if conflict is not None:
                return conflict
        now = _now()
        publishing = release.draft and not draft
        if publishing:
            release.published_at = now
        elif draft:
            release.published_at = None
        release.tag_name, release.draft = tag, draft
        release.target_commitish = payload.get("target_commitish", release.target_commitish)
        release.name = payload.get("name", release.name)
        release.body = payload.get("body", release.body)
        release.prerelease = payload.get("prerelease", release.prerelease)
        release.updated_at = now
        if publishing:
            self._on_publish(repo, release, payload.get("make_latest", "true"))
        elif not draft and "make_latest" in payload:
            self._mark_latest(repo, release, payload["make_latest"])
        return _Response.json(200, self._release_json(repo, release))

    def _on_publish(self, repo: Repo, release: Release, make_latest: str) -> None:
        """Publishing seals the release when the repository has immutable releases on, and
        makes it "Latest" as ``make_latest`` says ("Defaults to true for newly published
        releases"; drafts and pre-releases cannot be latest)."""
        release.immutable = repo.immutable_releases
        self._mark_latest(repo, release, make_latest)

    def _mark_latest(self, repo: Repo, release: Release, make_latest: str) -> None:
        if release.draft or release.prerelease:
            return
        if make_latest == "true":
            repo.latest_id = release.id
        elif make_latest == "legacy":
            final = [r for r in repo.releases.values() if not r.draft and not r.prerelease]
            repo.latest_id = max(final, key=lambda r: (r.created_at, r.id)).id

    def _get_latest_release(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "get_latest_release", write=False)
        if isinstance(repo, _Response):
            return repo
        release = repo.releases.get(repo.latest_id) if repo.latest_id is not None else None
        if release is None:
            return self._not_found(req, "get_latest_release")
        return _Response.json(200, self._release_json(repo, release))

    def _delete_release(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._release_for(req, params, "delete_release", write=True)
        if isinstance(found, _Response):
            return found
        repo, release = found
        del repo.releases[release.id]
        if release.immutable:
            repo.sealed_tags.add(release.tag_name)
        if repo.latest_id == release.id:
            repo.latest_id = None
        return _Response(204)

    def _list_assets(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._release_for(req, params, "list_assets", write=False)
        if isinstance(found, _Response):
            return found
        repo, release = found
        return self._paged(req, [self._asset_json(repo, release, a) for a in release.assets])

    def _upload_asset(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._release_for(req, params, "upload_asset", write=True)
        if isinstance(found, _Response):
            return found
        repo, release = found
        content_type = (req.headers.get("Content-Type") or "").strip()
        if not content_type:
            return self._upload_error(req, 400, "Invalid Content-Type: ''")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            return self._upload_error(req, 422, "Validation Failed", [
                {"resource": "ReleaseAsset", "code": "invalid", "field": "content_type"}])
        if req.body is None:
            return self._upload_error(req, 400, "Bad Content-Length: ")
        raw_name = (req.query.get("name") or [""])[-1]
        name = github_asset_name(raw_name)
        if not name:
            return self._upload_error(req, 400, "Invalid name for request")
        if release.immutable:
            return self._upload_error(req, 422, "Cannot upload assets to an immutable release.")
        if any(a.name == name for a in release.assets):
            return self._upload_error(req, 422, "Validation Failed", [
                {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}])
        label = (req.query.get("label") or [""])[-1] or None
        asset = Asset(self._take_asset_id(), name, label, content_type, req.body)
        rule = req.after_rule
        if rule is not None and rule.status == 502:
            asset.state, asset.data = "starter", b""  # "may leave an empty asset" (docs)
        release.assets.append(asset)
        return _Response.json(201, self._asset_json(repo, release, asset))

    def _get_asset(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "get_asset", write=False)
        if isinstance(repo, _Response):
            return repo
        found = self._find_asset(repo, int(params["asset_id"]))
        if found is None or (found[0].draft and req.auth == "none"):
            return self._not_found(req, "get_asset")
        release, asset = found
        if "application/octet-stream" not in (req.headers.get("Accept") or ""):
            return _Response.json(200, self._asset_json(repo, release, asset))
        asset.download_count += 1
        if self.download_mode == "redirect":
            return _Response(302, b"", {"Location": self._object_url(asset)})
        return self._asset_payload(asset)

    def _delete_asset(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "delete_asset", write=True)
        if isinstance(repo, _Response):
            return repo
        found = self._find_asset(repo, int(params["asset_id"]))
        if found is None:
            return self._not_found(req, "delete_asset")
        if found[0].immutable:
            return self._error(req, 422, "Cannot delete assets of an immutable release.",
                               DOC["delete_asset"])
        found[0].assets.remove(found[1])
        return _Response(204)

    # -- pull requests and their (issue) comments ------------------------------------------------

    def _branch_exists(self, name: str) -> bool:
        """Whether the repository has the branch ``name``: asked of ``git_remote`` (the bare
        repository the test pushes to) when there is one, else every branch exists."""
        if self.git_remote is None:
            return True
        found = subprocess.run(
            ["git", "--git-dir", str(self.git_remote), "rev-parse", "--verify", "--quiet",
             f"refs/heads/{name}"], capture_output=True, check=False)
        return found.returncode == 0

    def _pull_json(self, repo: Repo, pull: Pull) -> JSON:
        url = f"{self.api_url}/repos/{repo.full_name}/pulls/{pull.number}"
        return {
            "url": url,
            "id": 9_000_000 + pull.number,
            "node_id": _node_id("PR_", pull.number),
            "html_url": f"https://github.com/{repo.full_name}/pull/{pull.number}",
            "issue_url": f"{self.api_url}/repos/{repo.full_name}/issues/{pull.number}",
            "comments_url": f"{self.api_url}/repos/{repo.full_name}/issues/{pull.number}"
                            "/comments",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user_json(),
            "body": pull.body or None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": pull.closed_at if pull.merged else None,
            "draft": False,
            "head": {"label": f"{repo.owner}:{pull.head}", "ref": pull.head,
                     "user": self._user_json()},
            "base": {"label": f"{repo.owner}:{pull.base}", "ref": pull.base,
                     "user": self._user_json()},
        }

    def _pull_for(self, req: _Request, params: dict[str, str], endpoint: str, *,
                  write: bool) -> tuple[Repo, Pull] | _Response:
        repo = self._repo_for(req, params, endpoint, write=write)
        if isinstance(repo, _Response):
            return repo
        pull = repo.pulls.get(int(params["number"]))
        if pull is None:
            return self._not_found(req, endpoint)
        return repo, pull

    def _list_pulls(self, req: _Request, params: dict[str, str]) -> _Response:
        repo = self._repo_for(req, params, "list_pulls", write=False)
        if isinstance(repo, _Response):
            return repo
        state = req.query.get("state", ["open"])[-1]
        if state not in ("open", "closed", "all"):
            return self._error(req, 422, "Validation Failed", DOC["list_pulls"], [
                {"resource": "Issue", "field": "state", "code": "invalid"}])
        head = req.query.get("head", [""])[-1]
        base = req.query.get("base", [""])[-1]
        found = []
        for pull in sorted(repo.pulls.values(), key=lambda p: -p.number):  # newest first
            if state not in ("all", pull.state):
                continue
            # `head` is "user:ref-name" or "organization:ref-name"
            if head and head != f"{repo.owner}:{pull.head}":
                continue
            if base and base != pull.base:
                continue
            found.append(self._pull_json(repo, pull))
        return self._paged(req, found)

    def _create_pull(self, req: _Request, params: dict[str, str]) -> _Response:
        doc = DOC["create_pull"]
        repo = self._repo_for(req, params, "create_pull", write=True)
        if isinstance(repo, _Response):
            return repo
        payload = self._json_body(req, doc)
        if isinstance(payload, _Response):
            return payload
        for name in ("head", "base"):
            if name not in payload:
                return self._error(req, 422, f"Invalid request.\n\n\"{name}\" wasn't supplied.",
                                   doc)
        for name in ("title", "body", "head", "base"):
            if name in payload and not isinstance(payload[name], str):
                shown = "nil" if payload[name] is None else json.dumps(payload[name])
                return self._error(req, 422, f"Invalid request.\n\nFor 'properties/{name}', "
                                   f"{shown} is not a string.", doc)
        head = str(payload["head"]).removeprefix(f"{repo.owner}:")
        base = str(payload["base"])
        if not payload.get("title"):
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "PullRequest", "code": "missing_field", "field": "title"}])
        for name, branch in (("head", head), ("base", base)):
            if not self._branch_exists(branch):
                return self._error(req, 422, "Validation Failed", doc, [
                    {"resource": "PullRequest", "field": name, "code": "invalid"}])
        if head == base:
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"No commits between {base} and {head}"}])
        for other in repo.pulls.values():
            if other.state == "open" and other.head == head and other.base == base:
                return self._error(req, 422, "Validation Failed", doc, [
                    {"resource": "PullRequest", "code": "custom",
                     "message": f"A pull request already exists for {repo.owner}:{head}."}])
        number = self._take_issue_number()
        pull = Pull(number, str(payload["title"]), payload.get("body"), head, base)
        repo.pulls[number] = pull
        body = self._pull_json(repo, pull)
        return _Response.json(201, body, {"Location": body["url"]})

    def _get_pull(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._pull_for(req, params, "get_pull", write=False)
        if isinstance(found, _Response):
            return found
        return _Response.json(200, self._pull_json(*found))

    def _update_pull(self, req: _Request, params: dict[str, str]) -> _Response:
        doc = DOC["update_pull"]
        found = self._pull_for(req, params, "update_pull", write=True)
        if isinstance(found, _Response):
            return found
        repo, pull = found
        payload = self._json_body(req, doc)
        if isinstance(payload, _Response):
            return payload
        for name in ("title", "body", "state", "base"):
            if name in payload and not isinstance(payload[name], str):
                shown = "nil" if payload[name] is None else json.dumps(payload[name])
                return self._error(req, 422, f"Invalid request.\n\nFor 'properties/{name}', "
                                   f"{shown} is not a string.", doc)
        state = payload.get("state")
        if state is not None and state not in ("open", "closed"):
            return self._error(req, 422, f"Invalid request.\n\nFor 'properties/state', "
                               f'"{state}" is not a member of ["open", "closed"].', doc)
        if pull.merged and state == "open":
            return self._error(req, 422, "Validation Failed", doc, [
                {"resource": "PullRequest", "code": "custom",
                 "message": "state cannot be changed. The pull request has been merged."}])
        if "title" in payload:
            pull.title = payload["title"]
        if "body" in payload:
            pull.body = payload["body"]
        if "base" in payload:
            pull.base = payload["base"]
        if state is not None and state != pull.state:
            pull.state = state
            pull.closed_at = _now() if state == "closed" else None
        pull.updated_at = _now()
        return _Response.json(200, self._pull_json(repo, pull))

    def _comment_json(self, repo: Repo, number: int, comment: JSON) -> JSON:
        return {
            "id": comment["id"],
            "node_id": _node_id("IC_", int(comment["id"])),
            "url": f"{self.api_url}/repos/{repo.full_name}/issues/comments/{comment['id']}",
            "html_url": f"https://github.com/{repo.full_name}/pull/{number}"
                        f"#issuecomment-{comment['id']}",
            "body": comment["body"],
            "user": self._user_json(),
            "created_at": comment["created_at"],
            "updated_at": comment["created_at"],
        }

    def _list_comments(self, req: _Request, params: dict[str, str]) -> _Response:
        found = self._pull_for(req, params, "list_comments", write=False)
        if isinstance(found, _Response):
            return found
        repo, pull = found
        return self._paged(req, [self._comment_json(repo, pull.number, c)
                                 for c in pull.comments])

    def _create_comment(self, req: _Request, params: dict[str, str]) -> _Response:
        doc = DOC["create_comment"]
        found = self._pull_for(req, params, "create_comment", write=True)
        if isinstance(found, _Response):
            return found
        repo, pull = found
        payload = self._json_body(req, doc)
        if isinstance(payload, _Response):
            return payload
        if "body" not in payload:
            return self._error(req, 422, "Invalid request.\n\n\"body\" wasn't supplied.", doc)
        if not isinstance(payload["body"], str):
            shown = "nil" if payload["body"] is None else json.dumps(payload["body"])
            return self._error(req, 422, f"Invalid request.\n\nFor 'properties/body', {shown} "
                               "is not a string.", doc)
        self._next_comment_id += 1
        comment: JSON = {"id": self._next_comment_id, "body": payload["body"],
                         "created_at": _now()}
        pull.comments.append(comment)
        body = self._comment_json(repo, pull.number, comment)
        return _Response.json(201, body, {"Location": body["url"]})

    def _take_issue_number(self) -> int:
        self._next_issue_number += 1
        return self._next_issue_number

    # -- downloads (web host and pre-signed objects; no API headers, no rate limit) -------------

    def _object_url(self, asset: Asset) -> str:
        return f"{self.api_url}/_objects/{asset.id}/{asset.object_key}/{quote(asset.name)}"

    def _asset_payload(self, asset: Asset) -> _Response:
        return _Response(200, asset.data, {
            "Content-Type": asset.content_type,
            "Content-Disposition": f"attachment; filename={asset.name}"})

    def _web(self, req: _Request) -> _Response | None:
        match = _OBJECT.fullmatch(req.path)
        if match is not None:
            for repo in self._repos.values():
                found = self._find_asset(repo, int(match["asset_id"]))
                if found is not None and secrets.compare_digest(found[1].object_key,
                                                                match["key"]):
                    return self._asset_payload(found[1])
            return _Response(404, b"Not Found", {"Content-Type": "text/plain"})
        match = _WEB_DOWNLOAD.fullmatch(req.path)
        if match is None or any(p.fullmatch(req.path) for _, p, _ in _API_ROUTES):
            return None
        target = self._repos.get(f"{unquote(match['owner'])}/{unquote(match['repo'])}".lower())
        tag, name = unquote(match["tag"]), unquote(match["name"])
        if target is not None and (not target.private or req.auth in ("valid", "read-only")):
            for release in target.releases.values():
                if release.url_tag != tag or (release.draft and req.auth == "none"):
                    continue
                for asset in release.assets:
                    if asset.name == name:
                        asset.download_count += 1
                        return _Response(302, b"", {"Location": self._object_url(asset)})
        return _Response(404, b"Not Found", {"Content-Type": "text/plain"})


# --- HTTP plumbing ---------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: GitHubStandIn
    kind: Host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-in records requests itself."""

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        body: bytes | None
        if length is not None and length.strip().isdigit():
            body = self.rfile.read(int(length))
        elif self.headers.get("Transfer-Encoding"):
            body = None  # chunked: GitHub wants a Content-Length; do not try to reuse the socket
            self.close_connection = True
        else:
            body = b"" if self.command in ("GET", "DELETE") else None
        request = _Request(self.server.kind, self.command, self.path, self.headers, body)
        response = self.server.standin._handle(request)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _dispatch


@pytest.fixture
def github_standin() -> Iterator[GitHubStandIn]:
    """A started :class:`GitHubStandIn` (private repo ``octo-org/hello-release``), stopped after
    the test."""
    with GitHubStandIn() as standin:
        yield standin
