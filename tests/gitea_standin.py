"""A local stand-in for the part of Gitea's (and Forgejo's) REST API that the Gitea forge
(release/forges/gitea.py) uses: releases and their attachments.

Two HTTP servers on 127.0.0.1 (free ports, background threads, in-memory state):

- ``base_url`` plays the forge (Gitea's ``ROOT_URL``): the API under ``/api/v1`` and the web
  routes that serve attachments;
- ``objects_url`` plays object storage (MinIO/S3 with ``SERVE_DIRECT``), which downloads
  redirect to in ``download_mode = "object"``; it records whether a request carried an
  ``Authorization`` header, and never needs one.

Fixture: ``gitea_standin`` yields a started :class:`GiteaStandIn` with one private repository
``octo-org/hello-release`` and random tokens.

Documented behaviour followed (read in the stored copies of Gitea's and Forgejo's sources,
whose ``swagger:operation`` comments are the swagger, ``templates/swagger/v1_json.tmpl``):

- ``routers/api/v1/repo/release_tags.go``: ``GET /repos/{owner}/{repo}/releases/tags/{tag}``
  (repoGetReleaseByTag) -> 200 ``Release`` / 404. The tag is looked up case-insensitively
  (``repo_model.GetRelease``, ``lower_tag_name``) with no draft filter; since "Fix get release
  draft permission check" (go-gitea/gitea#36659) a draft needs write access to the releases.
- ``routers/api/v1/repo/release.go``: ``POST /repos/{owner}/{repo}/releases``
  (repoCreateRelease, ``CreateReleaseOption``: ``tag_name`` required, ``target_commitish``,
  ``name``, ``body``, ``draft``, ``prerelease``) -> 201 / 409 when the tag has a release
  (``ctx.Error(409, "GetRelease", "Release is has no Tag")``; Forgejo: "Release has no Tag")
  / 422; ``PATCH /repos/{owner}/{repo}/releases/{id}`` (repoEditRelease,
  ``EditReleaseOption``; empty strings leave a field unchanged, ``draft``/``prerelease`` are
  pointers) -> 200 / 404.
- ``routers/api/v1/repo/release_attachment.go``: ``GET .../releases/{id}/assets``
  (repoListReleaseAttachments) -> 200 ``[Attachment]`` / 404 (Forgejo: a draft's list needs
  write access); ``POST .../releases/{id}/assets`` (repoCreateReleaseAttachment; consumes
  ``multipart/form-data`` with the file in ``attachment``, or ``application/octet-stream``;
  query ``name`` overrides the part's filename) -> 201 ``Attachment`` / 400 (no name:
  "Could not determine name of attachment."; Forgejo "Missing 'name' parameter"; forbidden
  type, ``services/context/upload``: "This file cannot be uploaded or modified due to a
  forbidden file extension or type.") / 404 ("Attachment is not enabled" when
  ``[attachment] ENABLED = false``) / 413 (Gitea, since go-gitea/gitea#35519: "attachment
  size N exceeds limit M"; Forgejo's ``quotaExceeded``: ``{"message": "quota exceeded",
  "user_id", "username"}``); ``DELETE .../releases/{id}/assets/{attachment_id}``
  (repoDeleteReleaseAttachment) -> 204 / 404.
- ``modules/structs/release.go`` and ``attachment.go``, ``services/convert``: the ``Release``
  (``id``, ``tag_name``, ``target_commitish``, ``name``, ``body``, ``url``, ``html_url``,
  ``tarball_url``, ``zipball_url``, ``upload_url``, ``draft``, ``prerelease``, ``created_at``,
  ``published_at`` (= ``created_at``), ``author``, ``assets``) and ``Attachment`` (``id``,
  ``name``, ``size``, ``download_count``, ``created_at``, ``uuid``, ``browser_download_url``:
  ``{ROOT_URL}{owner}/{repo}/releases/download/{tag}/{name}``; Forgejo adds ``type``) shapes.
  No digest.
- ``services/context/api.go``: error bodies ``{"message": ..., "url": ROOT_URL + "api/swagger"}``
  (``APIError``); a 404 is ``{"errors": null, "message": "The target couldn't be found.",
  "url": ...}`` unless given a message; a 500 hides its message in production (``""``).
- ``routers/api/v1/api.go`` and observed answers (issue threads, client tests): a token that
  is not a token -> 401 "user does not exist [uid: 0, name: ]"; a write without a token ->
  401 "token is required"; a token without the scope -> 403 "token does not have at least
  one of required scope(s): [write:repository]" (checked before the repository is looked
  up); an account without write access -> 403 "user should have a permission to write to a
  repo"; a private repository without access -> 404, the same body as a missing one.
  ``Authorization: token TOKEN`` and ``Authorization: Bearer TOKEN`` are both accepted.
- Downloads (web routes): ``/{owner}/{repo}/releases/download/{tag}/{name}`` and
  ``/attachments/{uuid}`` take the API token since go-gitea/gitea#26430; drafts' files are
  served by tag since go-gitea/gitea#31369 (``draft_downloads_by_tag``), to accounts that may
  write releases (#36659). Served directly, or redirected to object storage
  (``SERVE_DIRECT``), or (older Gitea) from the tag route to ``/attachments/{uuid}``.
- ``routers/api/v1/repo/pull.go`` and ``issue_comment.go``, for what ``release pr`` does:
  ``GET /repos/{owner}/{repo}/pulls`` (repoListPullRequests: ``state`` open (default),
  closed or all; ``page``, ``limit``; no head filter) -> 200 with ``X-Total-Count`` and
  ``Link``; ``POST /repos/{owner}/{repo}/pulls`` (repoCreatePullRequest,
  ``CreatePullRequestOption``: ``head``, ``base``, ``title`` (``binding:"Required"``),
  ``body``) -> 201 / 422 "Invalid PullRequest: There are no changes between the head and
  the base" when head and base are the same / 404 for a branch that does not exist
  (``parseCompareInfo``) / 409 when an unmerged pull request has the same head and base
  (``ErrPullRequestAlreadyExists``: "pull request already exists for these targets [id:
  .., issue_id: .., head_repo_id: .., base_repo_id: .., head_branch: .., base_branch:
  ..]"); ``GET /repos/{owner}/{repo}/pulls/{index}``; ``PATCH /repos/{owner}/{repo}/pulls/
  {index}`` (repoEditPullRequest, ``EditPullRequestOption``: an empty ``title`` is left
  alone, ``body`` and ``state`` are pointers) -> 201 (sic, "TODO this should be 200") /
  404 / 412 "cannot change state of this pull request, it was already merged";
  ``GET|POST /repos/{owner}/{repo}/issues/{index}/comments`` (issueCreateComment,
  ``CreateIssueCommentOption``: ``body`` required; a pull request is an issue) -> 201
  ``Comment`` / 404. ``routers/api/v1/api.go``: pull requests are in the repository
  scope category, issue comments in the issue category (``write:issue``). Pull requests
  and issues share one numbering. Lists default to 30 items a page, at most 50
  (``[api] DEFAULT_PAGING_NUM``, ``MAX_RESPONSE_ITEMS``).
- A reverse proxy's body limit (nginx ``client_max_body_size``, go-gitea/gitea#5805) answers
  413 with an HTML page before Gitea sees the request (``proxy_body_limit``).

Stand-in choices where the sources are silent: a malformed JSON body is 422 with a
``[]: ...`` binding message; a multipart body without the ``attachment`` part is 500 with an
empty message on Gitea (``APIErrorInternal``) and 400 "One of 'attachment' or 'external_url'
is required" on Forgejo; Forgejo's quota refuses an upload once the owner's stored release
attachments reach ``quota_bytes``; the web routes answer 404 with a small HTML page; a wrong
token on a web route is treated as no token; pull requests are written only by accounts
that may write the repository (Gitea lets a reader open one, which is not modelled), while
commenting needs read access and the ``write:issue`` scope; any ``state`` other than
``closed`` reopens (Gitea's ``closeOrReopenIssue``) and reopening is not checked for a
duplicate; pull requests list newest first; branches all exist unless
:attr:`Repo.branches` lists them; an injected ``after_effect`` failure is
consumed even if the request then fails for another reason.

Deliberately not implemented: every other endpoint (they answer 404), git tags (any tag name
is accepted, publishing creates no tag), pagination of anything but pull requests, merging
(:meth:`GiteaStandIn.mark_merged` stands in for it), forks, labels, milestones, assignees,
Basic and query-string authentication,
external attachments (Forgejo's ``external_url``), ``hide_archive_links``, rate limits, HTTPS.
The servers never retry anything themselves.
"""

from __future__ import annotations

import fnmatch
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

Host = Literal["forge", "objects"]
Flavor = Literal["gitea", "forgejo"]
DownloadMode = Literal["direct", "attachments", "object"]
JSON = dict[str, Any]

NOT_FOUND = "The target couldn't be found."
INVALID_TOKEN = "user does not exist [uid: 0, name: ]"
TOKEN_REQUIRED = "token is required"
NO_WRITE = "user should have a permission to write to a repo"
FORBIDDEN_TYPE = ("This file cannot be uploaded or modified due to a forbidden file extension "
                  "or type.")
CONFLICT = {"gitea": "Release is has no Tag", "forgejo": "Release has no Tag"}
NO_NAME = {"gitea": "Could not determine name of attachment.",
           "forgejo": "Missing 'name' parameter"}
SCOPES = ("read:repository", "write:repository")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- state -----------------------------------------------------------------------------------

@dataclass
class User:
    id: int
    login: str


@dataclass
class Token:
    """An access token: whose, with which scopes, and whether the account may write."""

    user: User
    scopes: tuple[str, ...]
    writer: bool


@dataclass
class Attachment:
    id: int
    name: str
    data: bytes
    uploader: User
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=_now)
    download_count: int = 0
    object_key: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    author: User
    created_at: str = field(default_factory=_now)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    poster: User
    state: str = "open"  # open | closed
    merged: bool = False
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    comments: list[tuple[int, str, str]] = field(default_factory=list)  # (id, body, created)


@dataclass
class Repo:
    owner: str
    name: str
    private: bool = True
    default_branch: str = "main"
    releases: dict[int, Release] = field(default_factory=dict)
    branches: set[str] | None = None  # None: every branch exists
    pulls: dict[int, Pull] = field(default_factory=dict)  # by number (issue index)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it. The token is never stored: ``auth`` says whether
    the ``Authorization`` header was absent, not a token, or whose token it was."""

    host: Host
    method: str
    path: str
    query: str
    status: int  # 0: the connection was dropped (failure injection)
    auth: str  # "none", "invalid", or the token's user login
    content_type: str | None


@dataclass
class FailureRule:
    """Answer the next ``remaining`` requests matching ``method`` and ``path`` (a glob on the
    URL path, without the query) on ``host`` with ``status``; ``status=0`` drops the
    connection. With ``after_effect`` the request is carried out first (state changes
    happen) and only the response is replaced."""

    method: str
    path: str
    status: int
    remaining: int = 1
    host: Host | Literal["any"] = "any"
    after_effect: bool = False
    body: JSON | None = None

    def matches(self, host: Host, method: str, path: str) -> bool:
        return (self.remaining > 0 and self.host in ("any", host)
                and self.method.upper() in ("*", method) and fnmatch.fnmatchcase(path, self.path))


@dataclass
class _Request:
    host: Host
    method: str
    target: str
    headers: Message
    body: bytes
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    raw_query: str = ""
    token: Token | None = None
    auth: str = "none"
    after_rule: FailureRule | None = None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> _Response:
        return cls(status, json.dumps(payload).encode(),
                   {"Content-Type": "application/json;charset=utf-8"})

    @classmethod
    def html(cls, status: int, text: str) -> _Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


_REPO = r"/api/v1/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str, bool]] = [  # method, path, handler, writes
    ("GET", re.compile(_REPO + r"/releases/tags/(?P<tag>[^/]+)"), "get_release_by_tag", False),
    ("POST", re.compile(_REPO + r"/releases"), "create_release", True),
    ("PATCH", re.compile(_REPO + r"/releases/(?P<id>\d+)"), "edit_release", True),
    ("GET", re.compile(_REPO + r"/releases/(?P<id>\d+)/assets"), "list_attachments", False),
    ("POST", re.compile(_REPO + r"/releases/(?P<id>\d+)/assets"), "create_attachment", True),
    ("DELETE", re.compile(_REPO + r"/releases/(?P<id>\d+)/assets/(?P<attachment_id>\d+)"),
     "delete_attachment", True),
    ("GET", re.compile(_REPO + r"/pulls"), "list_pulls", False),
    ("POST", re.compile(_REPO + r"/pulls"), "create_pull", True),
    ("GET", re.compile(_REPO + r"/pulls/(?P<index>\d+)"), "get_pull", False),
    ("PATCH", re.compile(_REPO + r"/pulls/(?P<index>\d+)"), "edit_pull", True),
    ("GET", re.compile(_REPO + r"/issues/(?P<index>\d+)/comments"), "list_comments", False),
    ("POST", re.compile(_REPO + r"/issues/(?P<index>\d+)/comments"), "create_comment", True),
]
_ISSUE_SCOPE = frozenset(("list_comments", "create_comment"))  # the rest: repository
_TAG_DOWNLOAD = re.compile(r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/"
                           r"(?P<tag>[^/]+)/(?P<name>[^/]+)")
_UUID_DOWNLOAD = re.compile(r"/attachments/(?P<uuid>[0-9a-f-]+)")
_OBJECT = re.compile(r"/attachments/(?P<key>[0-9a-f]+)/(?P<uuid>[0-9a-f-]+)")


class GiteaStandIn:
    """In-memory Gitea releases API on a local server; see the module docstring."""

    def __init__(self, owner: str = "octo-org", repo: str = "hello-release", *,
                 private: bool = True, flavor: Flavor = "gitea") -> None:
        self.owner, self.repo, self.flavor = owner, repo, flavor
        self.bot = User(1, "release-bot")
        self.reader = User(2, "reader")
        # Gitea's tokens are 40 hex digits; a test may set any string.
        self.token = secrets.token_hex(20)
        self.read_only_token = secrets.token_hex(20)  # an account that may only read
        self.read_scope_token = secrets.token_hex(20)  # the writer's token, read:repository
        self.repo_scope_token = secrets.token_hex(20)  # the writer's, write:repository only
        self.attachments_enabled = True  # [attachment] ENABLED
        self.allowed_types = ""  # [repository.release] ALLOWED_TYPES ("": everything)
        self.max_file_size: int | None = None  # Gitea's release attachment size limit
        self.quota_bytes: int | None = None  # Forgejo's quota on release attachments
        self.proxy_body_limit: int | None = None  # a reverse proxy's client_max_body_size
        self.download_mode: DownloadMode = "direct"
        self.draft_downloads_by_tag = True  # go-gitea/gitea#31369
        self.root_url: str | None = None  # ROOT_URL when it is not where the server listens
        self._lock = threading.RLock()
        self._repos: dict[str, Repo] = {}
        self._next_id = {"release": 11, "attachment": 501, "comment": 9001}
        self._requests: list[RecordedRequest] = []
        self._rules: list[FailureRule] = []
        self.object_requests: list[tuple[str, bool]] = []  # (path, had Authorization)
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.add_repo(owner, repo, private=private)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> GiteaStandIn:
        hosts: tuple[Host, ...] = ("forge", "objects")
        for host in hosts:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.standin, server.kind = self, host
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                      name=f"gitea-standin-{host}", daemon=True)
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

    def __enter__(self) -> GiteaStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where the forge listens (what ``url`` in ``[tool.release.forge]`` names)."""
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def objects_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    @property
    def app_url(self) -> str:
        """Gitea's ``ROOT_URL``, with its trailing slash: the base of every URL it writes."""
        return (self.root_url or self.base_url).rstrip("/") + "/"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    # -- seeding and inspection ----------------------------------------------------------------

    def add_repo(self, owner: str, name: str, *, private: bool = True) -> Repo:
        with self._lock:
            repo = Repo(owner, name, private)
            self._repos[f"{owner}/{name}".lower()] = repo
            return repo

    def get_repo(self, full_name: str | None = None) -> Repo:
        with self._lock:
            return self._repos[(full_name or self.full_name).lower()]

    def seed_release(self, tag_name: str, *, name: str = "", body: str = "", draft: bool = False,
                     prerelease: bool = False) -> JSON:
        """Create a release directly (no request); returns its JSON."""
        with self._lock:
            repo = self.get_repo()
            release = self._new_release(repo, tag_name, "", name, body, draft=draft,
                                        prerelease=prerelease)
            return self._release_json(repo, release)

    def seed_attachment(self, release_id: int, name: str, data: bytes) -> JSON:
        with self._lock:
            repo = self.get_repo()
            release = repo.releases[release_id]
            attachment = Attachment(self._take("attachment"), name, data, self.bot)
            release.attachments.append(attachment)
            return self._attachment_json(repo, release, attachment)

    def pulls(self) -> list[JSON]:
        """Every pull request of the repository (any state), newest first."""
        with self._lock:
            repo = self.get_repo()
            return [self._pull_json(repo, p) for p in sorted(repo.pulls.values(),
                                                              key=lambda p: -p.number)]

    def pull_comments(self, number: int) -> list[str]:
        with self._lock:
            return [body for _id, body, _at in self.get_repo().pulls[number].comments]

    def mark_merged(self, number: int) -> None:
        """What merging does to the pull request (the test merges the branch with git)."""
        with self._lock:
            pull = self.get_repo().pulls[number]
            pull.state, pull.merged, pull.closed_at = "closed", True, _now()

    def releases(self) -> list[JSON]:
        """Every release (drafts included), newest first, as the API would show them."""
        with self._lock:
            repo = self.get_repo()
            return [self._release_json(repo, r) for r in self._ordered(repo)]

    def attachments(self, release_id: int) -> list[JSON]:
        with self._lock:
            repo = self.get_repo()
            release = repo.releases[release_id]
            return [self._attachment_json(repo, release, a) for a in release.attachments]

    def attachment_bytes(self, attachment_id: int) -> bytes:
        with self._lock:
            for release in self.get_repo().releases.values():
                for attachment in release.attachments:
                    if attachment.id == attachment_id:
                        return attachment.data
            raise KeyError(attachment_id)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def fail_next(self, method: str, path: str, status: int, *, count: int = 1,
                  host: Host | Literal["any"] = "any", after_effect: bool = False,
                  body: JSON | None = None) -> FailureRule:
        """Inject a failure (see :class:`FailureRule`); rules are tried in the order added."""
        if count < 1:
            raise ValueError("count must be at least 1")
        rule = FailureRule(method.upper(), path, status, count, host, after_effect, body)
        with self._lock:
            self._rules.append(rule)
        return rule

    # -- request handling (called by the handler threads) ----------------------------------------

    def _handle(self, req: _Request) -> _Response | None:
        with self._lock:
            response = self._process(req)
            self._requests.append(RecordedRequest(
                req.host, req.method, req.path, req.raw_query,
                0 if response is None else response.status, req.auth,
                req.headers.get("Content-Type")))
            return response

    def _process(self, req: _Request) -> _Response | None:
        split = urlsplit(req.target)
        req.path, req.raw_query = split.path, split.query
        req.query = parse_qs(split.query, keep_blank_values=True)
        req.token, req.auth = self._authenticate(req.headers.get("Authorization"))
        rule = self._take_rule(req, after_effect=False)
        if rule is not None:
            return None if rule.status == 0 else self._injected(rule)
        req.after_rule = self._take_rule(req, after_effect=True)
        response: _Response | None = self._route(req)
        rule = req.after_rule
        if rule is not None:
            response = None if rule.status == 0 else self._injected(rule)
        return response

    def _route(self, req: _Request) -> _Response:
        if req.host == "objects":
            return self._object(req)
        if self.proxy_body_limit is not None and len(req.body) > self.proxy_body_limit:
            return _Response.html(413, "<html>\r\n<head><title>413 Request Entity Too Large"
                                  "</title></head>\r\n<body>\r\n<center><h1>413 Request Entity "
                                  "Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
                                  "</body>\r\n</html>\r\n")
        if not req.path.startswith("/api/"):
            return self._web(req)
        if req.auth == "invalid":
            return self._error(401, INVALID_TOKEN)
        for method, pattern, name, writes in _ROUTES:
            match = pattern.fullmatch(req.path)
            if match is None or method != req.method:
                continue
            refused = self._permitted(req, match["owner"], match["repo"], writes=writes,
                                      issue=name in _ISSUE_SCOPE)
            if isinstance(refused, _Response):
                return refused
            handler: Callable[[_Request, Repo, dict[str, str]], _Response] = getattr(
                self, "_" + name)
            return handler(req, refused, {k: unquote(v) for k, v in match.groupdict().items()})
        return self._not_found()

    def _permitted(self, req: _Request, owner: str, name: str, *,
                   writes: bool, issue: bool = False) -> Repo | _Response:
        """Gitea's order: the token's scope, the repository, then the write permission (an
        issue comment needs read access only)."""
        token = req.token
        if token is not None:
            category = "issue" if issue else "repository"
            needed = f"{'write' if writes else 'read'}:{category}"
            allowed = (f"write:{category}",) if writes else (f"read:{category}",
                                                               f"write:{category}")
            if not set(token.scopes) & set(allowed):
                return self._error(403, "token does not have at least one of required "
                                        f"scope(s): [{needed}]")
        repo = self._repos.get(f"{unquote(owner)}/{unquote(name)}".lower())
        if repo is None or (repo.private and token is None):
            return self._not_found()
        if writes and token is None:
            return self._error(401, TOKEN_REQUIRED)
        if writes and not issue and not token.writer:  # type: ignore[union-attr]
            return self._error(403, NO_WRITE)
        return repo

    # -- endpoints -------------------------------------------------------------------------------

    def _get_release_by_tag(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        release = self._by_tag(repo, params["tag"])
        if release is None or (release.draft and not self._writer(req)):
            return self._not_found()
        return _Response.json(200, self._release_json(repo, release))

    def _create_release(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        tag = payload.get("tag_name") or ""
        if not tag:
            return self._error(422, "[TagName]: Required")
        if self._by_tag(repo, tag) is not None:
            return self._error(409, CONFLICT[self.flavor])
        release = self._new_release(
            repo, tag, payload.get("target_commitish") or "", payload.get("name") or "",
            payload.get("body") or "", draft=bool(payload.get("draft")),
            prerelease=bool(payload.get("prerelease")),
            author=req.token.user)  # type: ignore[union-attr]
        return _Response.json(201, self._release_json(repo, release))

    def _edit_release(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        release = repo.releases.get(int(params["id"]))
        if release is None:
            return self._not_found()
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        for key in ("tag_name", "target_commitish", "name", "body"):
            if payload.get(key):  # Gitea: `if len(form.X) > 0`
                setattr(release, key, payload[key])
        for key in ("draft", "prerelease"):
            if payload.get(key) is not None:
                setattr(release, key, bool(payload[key]))
        return _Response.json(200, self._release_json(repo, release))

    def _list_attachments(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        release = repo.releases.get(int(params["id"]))
        if release is None or (release.draft and not self._writer(req)):
            return self._not_found()
        return _Response.json(200, [self._attachment_json(repo, release, a)
                                    for a in release.attachments])

    def _create_attachment(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        quota = self.quota_bytes
        if quota is not None and self.flavor == "forgejo" and self._stored(repo) >= quota:
            # Forgejo's EnforceQuotaAPI middleware runs before the handler.
            return _Response.json(413, {"message": "quota exceeded", "user_id": 3,
                                        "username": repo.owner})
        if not self.attachments_enabled:
            return self._not_found("Attachment is not enabled")
        release = repo.releases.get(int(params["id"]))
        if release is None:
            return self._not_found()
        name = (req.query.get("name") or [""])[-1]
        content_type = (req.headers.get("Content-Type") or "").lower()
        if content_type.startswith("multipart/form-data"):
            part = _form_file(req.body, req.headers, "attachment")
            if part is None:
                if self.flavor == "forgejo":
                    return self._error(400, "One of 'attachment' or 'external_url' is required")
                return self._error(500, "")
            filename, data = part
            name = name or filename
        else:
            data = req.body
        if not name:
            return self._error(400, NO_NAME[self.flavor])
        if not _allowed(name, self.allowed_types):
            return self._error(400, FORBIDDEN_TYPE)
        limit = self.max_file_size
        if limit is not None and len(data) > limit:
            return self._error(413, f"attachment size {len(data)} exceeds limit {limit}")
        attachment = Attachment(self._take("attachment"), name, data,
                                req.token.user)  # type: ignore[union-attr]
        release.attachments.append(attachment)
        return _Response.json(201, self._attachment_json(repo, release, attachment))

    def _delete_attachment(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        release = repo.releases.get(int(params["id"]))
        if release is None:
            return self._not_found()
        for attachment in release.attachments:
            if attachment.id == int(params["attachment_id"]):
                release.attachments.remove(attachment)
                return _Response(204)
        return self._not_found()

    # -- pull requests and their (issue) comments ----------------------------------------------

    def _pull_json(self, repo: Repo, pull: Pull) -> JSON:
        html = f"{self.app_url}{repo.full_name}/pulls/{pull.number}"

        def branch(name: str) -> JSON:
            return {"label": name, "ref": name, "sha": "0" * 40, "repo_id": 1,
                    "repo": {"id": 1, "name": repo.name, "full_name": repo.full_name}}

        return {
            "id": 700 + pull.number, "url": html, "number": pull.number,
            "user": self._user_json(pull.poster), "title": pull.title, "body": pull.body,
            "labels": [], "milestone": None, "assignee": None, "assignees": None,
            "state": pull.state, "is_locked": False, "comments": len(pull.comments),
            "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "mergeable": pull.state == "open", "merged": pull.merged,
            "merged_at": pull.closed_at if pull.merged else None,
            "merge_commit_sha": None, "merged_by": None, "allow_maintainer_edit": False,
            "base": branch(pull.base), "head": branch(pull.head), "merge_base": "0" * 40,
            "due_date": None, "created_at": pull.created_at, "updated_at": pull.updated_at,
            "closed_at": pull.closed_at, "draft": False,
        }

    def _comment_json(self, repo: Repo, pull: Pull, comment: tuple[int, str, str],
                      user: User) -> JSON:
        comment_id, body, created = comment
        html = f"{self.app_url}{repo.full_name}/pulls/{pull.number}"
        return {
            "id": comment_id, "html_url": f"{html}#issuecomment-{comment_id}",
            "pull_request_url": html, "issue_url": "", "user": self._user_json(user),
            "original_author": "", "original_author_id": 0, "body": body, "assets": [],
            "created_at": created, "updated_at": created,
        }

    def _list_pulls(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        state = (req.query.get("state") or ["open"])[-1] or "open"
        found = [p for p in sorted(repo.pulls.values(), key=lambda p: -p.number)
                 if state in ("all", p.state)]
        try:
            page = max(int((req.query.get("page") or ["1"])[-1]), 1)
            limit = int((req.query.get("limit") or ["0"])[-1])
        except ValueError:
            page, limit = 1, 0
        limit = min(limit, 50) if limit > 0 else 30
        chunk = found[(page - 1) * limit: page * limit]
        response = _Response.json(200, [self._pull_json(repo, p) for p in chunk])
        response.headers["X-Total-Count"] = str(len(found))
        pages = max(1, -(-len(found) // limit))
        base = f"{self.app_url}api/v1/repos/{repo.full_name}/pulls?state={state}&limit={limit}"
        links = [f'<{base}&page={page + 1}>; rel="next"'] if page < pages else []
        links.append(f'<{base}&page={pages}>; rel="last"')
        response.headers["Link"] = ",".join(links)
        return response

    def _create_pull(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        if not payload.get("title"):  # the binding is checked before the handler runs
            return self._error(422, "[Title]: Required")
        head, base = str(payload.get("head") or ""), str(payload.get("base") or "")
        if head == base:
            return self._error(422, "Invalid PullRequest: There are no changes between the "
                                    "head and the base")
        if repo.branches is not None and not {head, base} <= repo.branches:
            return self._not_found()
        for other in repo.pulls.values():
            if not other.merged and other.state == "open" and (other.head, other.base) == (
                    head, base):
                return self._error(409, "pull request already exists for these targets "
                                        f"[id: {700 + other.number}, issue_id: {other.number}, "
                                        f"head_repo_id: 1, base_repo_id: 1, head_branch: {head}, "
                                        f"base_branch: {base}]")
        number = max(repo.pulls, default=0) + 1
        pull = Pull(number, str(payload["title"]), str(payload.get("body") or ""), head, base,
                    req.token.user)  # type: ignore[union-attr]
        repo.pulls[number] = pull
        return _Response.json(201, self._pull_json(repo, pull))

    def _get_pull(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        pull = repo.pulls.get(int(params["index"]))
        if pull is None:
            return self._not_found()
        return _Response.json(200, self._pull_json(repo, pull))

    def _edit_pull(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        pull = repo.pulls.get(int(params["index"]))
        if pull is None:
            return self._not_found()
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        if payload.get("title"):
            pull.title = str(payload["title"])
        if payload.get("body") is not None:
            pull.body = str(payload["body"])
        state = payload.get("state")
        if state is not None:
            if pull.merged:
                return self._error(412, "cannot change state of this pull request, it was "
                                        "already merged")
            closed = state == "closed"
            if closed != (pull.state == "closed"):
                pull.state = "closed" if closed else "open"
                pull.closed_at = _now() if closed else None
        pull.updated_at = _now()
        return _Response.json(201, self._pull_json(repo, pull))

    def _list_comments(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        pull = repo.pulls.get(int(params["index"]))
        if pull is None:
            return self._not_found()
        return _Response.json(200, [self._comment_json(repo, pull, c, self.bot)
                                    for c in pull.comments])

    def _create_comment(self, req: _Request, repo: Repo, params: dict[str, str]) -> _Response:
        pull = repo.pulls.get(int(params["index"]))
        if pull is None:
            return self._not_found()
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        if not payload.get("body"):
            return self._error(422, "[Body]: Required")
        comment = (self._take("comment"), str(payload["body"]), _now())
        pull.comments.append(comment)
        return _Response.json(201, self._comment_json(
            repo, pull, comment, req.token.user))  # type: ignore[union-attr]

    # -- downloads (web routes and object storage) ---------------------------------------------

    def _web(self, req: _Request) -> _Response:
        if req.method != "GET":
            return _Response.html(404, "<html><body>Not found.</body></html>")
        found = self._web_attachment(req)
        if found is None:
            return _Response.html(404, "<html><body>Not found.</body></html>")
        attachment = found[2]
        if self.download_mode == "attachments" and _TAG_DOWNLOAD.fullmatch(req.path):
            location = f"{self.app_url}attachments/{attachment.uuid}"
            return _Response(302, b"", {"Location": location})
        attachment.download_count += 1
        if self.download_mode == "object":
            location = (f"{self.objects_url}/attachments/{attachment.object_key}/"
                        f"{attachment.uuid}?X-Amz-Signature={secrets.token_hex(8)}")
            return _Response(302, b"", {"Location": location})
        return _payload(attachment)

    def _web_attachment(self, req: _Request) -> tuple[Repo, Release, Attachment] | None:
        match = _TAG_DOWNLOAD.fullmatch(req.path)
        if match is not None:
            repo = self._repos.get(f"{unquote(match['owner'])}/{unquote(match['repo'])}".lower())
            if repo is None or not self._can_read(req, repo):
                return None
            release = self._by_tag(repo, unquote(match["tag"]))
            if release is None or (release.draft and not (self.draft_downloads_by_tag
                                                          and self._writer(req))):
                return None
            name = unquote(match["name"])
            attachment = next((a for a in release.attachments if a.name == name), None)
            return None if attachment is None else (repo, release, attachment)
        match = _UUID_DOWNLOAD.fullmatch(req.path)
        if match is not None:
            for repo in self._repos.values():
                for release in repo.releases.values():
                    for attachment in release.attachments:
                        if attachment.uuid == match["uuid"]:
                            readable = self._can_read(req, repo) and (
                                not release.draft or self._writer(req))
                            return (repo, release, attachment) if readable else None
        return None

    def _object(self, req: _Request) -> _Response:
        self.object_requests.append((req.path, req.headers.get("Authorization") is not None))
        match = _OBJECT.fullmatch(req.path)
        if match is not None and req.query.get("X-Amz-Signature"):
            for repo in self._repos.values():
                for release in repo.releases.values():
                    for attachment in release.attachments:
                        if (attachment.uuid == match["uuid"]
                                and secrets.compare_digest(attachment.object_key, match["key"])):
                            return _payload(attachment)
        return _Response(403, b"<Error><Code>AccessDenied</Code></Error>",
                         {"Content-Type": "application/xml"})

    # -- helpers -------------------------------------------------------------------------------

    def _authenticate(self, header: str | None) -> tuple[Token | None, str]:
        if header is None:
            return None, "none"
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        tokens = {
            self.token: Token(self.bot, ("write:repository", "write:issue"), writer=True),
            self.read_only_token: Token(self.reader, ("write:repository", "write:issue"),
                                        writer=False),
            self.read_scope_token: Token(self.bot, ("read:repository",), writer=True),
            self.repo_scope_token: Token(self.bot, ("write:repository",), writer=True),
        }
        if scheme.lower() in ("token", "bearer") and credential:
            for known, token in tokens.items():
                if secrets.compare_digest(credential.encode(), known.encode()):
                    return token, token.user.login + ("" if token.writer else " (read)")
        return None, "invalid"

    def _writer(self, req: _Request) -> bool:
        return req.token is not None and req.token.writer

    def _can_read(self, req: _Request, repo: Repo) -> bool:
        return not repo.private or req.token is not None

    def _take_rule(self, req: _Request, *, after_effect: bool) -> FailureRule | None:
        for rule in self._rules:
            if rule.after_effect == after_effect and rule.matches(req.host, req.method, req.path):
                rule.remaining -= 1
                return rule
        return None

    def _injected(self, rule: FailureRule) -> _Response:
        # A 500 in production hides its message (services/context/api.go).
        body = rule.body if rule.body is not None else {"message": "", "url": self._swagger()}
        return _Response.json(rule.status, body)

    def _swagger(self) -> str:
        return f"{self.app_url}api/swagger"

    def _error(self, status: int, message: str) -> _Response:
        return _Response.json(status, {"message": message, "url": self._swagger()})

    def _not_found(self, message: str = NOT_FOUND) -> _Response:
        return _Response.json(404, {"errors": None, "message": message, "url": self._swagger()})

    def _json_body(self, req: _Request) -> JSON | _Response:
        try:
            payload = json.loads(req.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            return self._error(422, f"[]: {exc}")
        if not isinstance(payload, dict):
            return self._error(422, "[]: json: cannot unmarshal array into Go value")
        return payload

    def _by_tag(self, repo: Repo, tag: str) -> Release | None:
        return next((r for r in repo.releases.values() if r.tag_name.lower() == tag.lower()),
                    None)

    def _ordered(self, repo: Repo) -> list[Release]:
        return sorted(repo.releases.values(), key=lambda r: (r.created_at, r.id), reverse=True)

    def _stored(self, repo: Repo) -> int:
        return sum(len(a.data) for r in repo.releases.values() for a in r.attachments)

    def _take(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind] - 1

    def _new_release(self, repo: Repo, tag: str, target: str, name: str, body: str, *,
                     draft: bool, prerelease: bool, author: User | None = None) -> Release:
        release = Release(self._take("release"), tag, target or repo.default_branch, name, body,
                          draft, prerelease, author or self.bot)
        repo.releases[release.id] = release
        return release

    def _user_json(self, user: User) -> JSON:
        return {"id": user.id, "login": user.login, "login_name": "", "full_name": "",
                "email": f"{user.login}@noreply.localhost",
                "avatar_url": f"{self.app_url}avatars/{user.id}",
                "html_url": f"{self.app_url}{user.login}", "username": user.login}

    def _attachment_json(self, repo: Repo, release: Release, attachment: Attachment) -> JSON:
        data: JSON = {
            "id": attachment.id,
            "name": attachment.name,
            "size": len(attachment.data),
            "download_count": attachment.download_count,
            "created_at": attachment.created_at,
            "uuid": attachment.uuid,
            "browser_download_url": (f"{self.app_url}{repo.full_name}/releases/download/"
                                     f"{quote(release.tag_name)}/{quote(attachment.name)}"),
        }
        if self.flavor == "forgejo":
            data["type"] = "attachment"
        return data

    def _release_json(self, repo: Repo, release: Release) -> JSON:
        api = f"{self.app_url}api/v1/repos/{repo.full_name}/releases/{release.id}"
        html = f"{self.app_url}{repo.full_name}"
        tag = quote(release.tag_name)
        return {
            "id": release.id,
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "body": release.body,
            "url": api,
            "html_url": f"{html}/releases/tag/{tag}",
            "tarball_url": f"{html}/archive/{tag}.tar.gz",
            "zipball_url": f"{html}/archive/{tag}.zip",
            "upload_url": f"{api}/assets",
            "draft": release.draft,
            "prerelease": release.prerelease,
            "created_at": release.created_at,
            "published_at": release.created_at,
            "author": self._user_json(release.author),
            "assets": [self._attachment_json(repo, release, a) for a in release.attachments],
        }


def _payload(attachment: Attachment) -> _Response:
    return _Response(200, attachment.data, {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{attachment.name}"'})


def _allowed(name: str, allowed_types: str) -> bool:
    """``[repository.release] ALLOWED_TYPES`` by file extension (mime types are not sniffed)."""
    entries = [e.strip().lower() for e in allowed_types.replace("|", ",").split(",") if e.strip()]
    if not entries or "*/*" in entries:
        return True
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension in entries


def _form_file(body: bytes, headers: Message, field_name: str) -> tuple[str, bytes] | None:
    """The (filename, bytes) of the file part ``field_name`` of a multipart/form-data body,
    or None when it is missing or the body is malformed."""
    holder = Message()
    holder["Content-Type"] = headers.get("Content-Type", "")
    boundary = holder.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        return None
    delimiter = b"--" + boundary.encode()
    if not body.startswith(delimiter):
        return None
    position = len(delimiter)
    while body[position:position + 2] == b"\r\n":
        end = body.find(b"\r\n" + delimiter, position + 2)
        if end < 0:
            return None
        head, separator, content = body[position + 2:end].partition(b"\r\n\r\n")
        if not separator:
            return None
        part = Message()
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, _, value = line.partition(":")
            part[key.strip()] = value.strip()
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        if name == field_name and filename is not None:
            return filename, content
        position = end + 2 + len(delimiter)
    return None


# --- HTTP plumbing ---------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: GiteaStandIn
    kind: Host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-in records requests itself."""

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length and length.strip().isdigit() else b""
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
def gitea_standin() -> Iterator[GiteaStandIn]:
    """A started :class:`GiteaStandIn` (private repo ``octo-org/hello-release``), stopped after
    the test."""
    with GiteaStandIn() as standin:
        yield standin
