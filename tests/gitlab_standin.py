"""A local stand-in for the part of GitLab's REST API (v4) that a release "announce" stage uses.

One HTTP server on 127.0.0.1 (a free port, a background thread, in-memory state) that plays
``https://gitlab.example.com``: ``api_url`` is its ``.../api/v4``, ``web_url`` its web root.

Fixture: ``gitlab_standin`` (exposed in conftest.py) yields a started :class:`GitLabStandIn`
with one private project ``release-group/tools/hello-release`` (a subgroup), a personal
access token with the ``api`` scope (``token``), one with ``read_api`` only
(``read_only_token``) and a running CI job's token (``job_token``).

Documented behaviour followed (read through the stored copies of GitLab's documentation,
gitlab-org/gitlab ``doc/``, and, for status codes and bodies the pages leave out, the
endpoint definitions they document, ``lib/api/*.rb``; no text or code is copied):

- "Project release API" (doc/api/releases/_index.md, docs.gitlab.com/api/releases/):
  authentication by ``PRIVATE-TOKEN`` or ``JOB-TOKEN``;
  * ``GET /projects/:id/releases`` (paginated, newest ``released_at`` first) -> 200
  * ``GET /projects/:id/releases/:tag_name`` -> 200 / 404 ``{"message": "404 Not Found"}``
  * ``POST /projects/:id/releases`` (``tag_name`` required; ``name``, ``description``,
    ``ref``, ``assets:links`` with ``name``, ``url``, ``direct_asset_path``, ``link_type``
    one of ``other runbook image package``, ``released_at``) -> 201 / 409 ``{"message":
    "Release already exists"}`` / 422 ``{"message": "Ref is not specified"}`` for a tag that
    does not exist without ``ref`` / 400 ``{"error": "tag_name is missing"}``
  * ``PUT /projects/:id/releases/:tag_name`` (``name``, ``description``, ``released_at``)
    -> 200 / 400 ``{"message": "params is empty"}``
  * ``upcoming_release`` (``released_at`` in the future) and ``historical_release``
    (``released_at`` in the past) in every release;
  * ``GET /projects/:id/releases/permalink/latest`` redirects (302) to the release with
    the most recent ``released_at`` ("Sorting preferences").
- "Release links API" (doc/api/releases/links.md): ``GET/POST .../releases/:tag_name/
  assets/links``, ``DELETE .../assets/links/:link_id`` (200 with the link); names and URLs
  unique within a release (400 ``{"message": ["Name has already been taken"]}``, the
  validation messages as a list); http, https and ftp URLs only; a missing release is
  404 ``{"message": "404 Not found"}``; the link JSON has ``id``, ``name``, ``url``,
  ``direct_asset_url`` (``WEB/PROJECT/-/releases/TAG/downloads/PATH``), ``link_type``.
- "GitLab generic packages repository" (doc/user/packages/generic_packages/):
  ``PUT /projects/:id/packages/generic/:package_name/:package_version/:file_name`` (raw
  bytes; ``status`` ``default`` or ``hidden``; ``select=package_file`` answers the package
  file record, else ``{"message": "201 Created"}``) -> 201; the name, version and file name
  rules ("Valid package filename format"; the version regular expression
  ``\\A(\\.?[\\w\\+-]+\\.?)+\\z``), a violation 400 ``{"error": "package_version is
  invalid"}``; "the new files are added to the existing package" by default; with
  "Allow duplicates" turned off the upload is refused, documented (application security
  troubleshooting) as ``400 Bad request - Duplicate package is not allowed``;
  ``GET`` of the same path serves the most recent file of that name
  (``application/octet-stream``, ``X-Checksum-SHA256``); 403 when the package registry is
  disabled.
- "Packages API" (doc/api/packages.md): ``GET /projects/:id/packages`` (``package_type``,
  ``package_name`` a fuzzy search, ``package_version``, ``status``; hidden packages are
  not listed), ``GET /projects/:id/packages/:package_id/package_files`` (``file_sha256``,
  ``file_md5``, ``file_sha1``, ``size``), ``DELETE /projects/:id/packages/:package_id/
  package_files/:package_file_id`` -> 204 / 403 / 404.
- "REST API" (doc/api/rest/): ``:id`` is the numeric ID or the URL-encoded path
  (``group%2Fsub%2Fproject``); pagination by ``page`` / ``per_page`` (default 20, at most
  100) with ``X-Page``, ``X-Per-Page``, ``X-Next-Page``, ``X-Prev-Page``, ``X-Total``,
  ``X-Total-Pages`` and ``Link``; POST answers 201, GET/PUT 200, DELETE 204 or 200.
  "REST API authentication": a missing or invalid token is 401 ``{"message": "401
  Unauthorized"}``; ``PRIVATE-TOKEN`` or ``Authorization: Bearer`` for access tokens,
  ``JOB-TOKEN`` for a CI/CD job token (valid only while its job runs); a token without
  the needed scope answers 403 ``{"error": "insufficient_scope", "error_description":
  ..., "scope": "api"}`` (``read_api`` allows GET and HEAD only). "REST API
  troubleshooting": 400 bodies are ``{"message": ...}`` with a string or field -> list.
  An unknown route answers 404 ``{"error": "404 Not Found"}``, an unknown project 404
  ``{"message": "404 Project Not Found"}``.
- "CI/CD job token": the job token reaches the Releases, Release links and Packages APIs
  and the package registry of its own project.
- "Merge requests API" (doc/api/merge_requests.md), for what ``release pr`` does:
  * ``GET /projects/:id/merge_requests`` (``state`` opened, closed, locked, merged or all;
    ``source_branch``; ``target_branch``; paginated, newest first) -> 200
  * ``POST /projects/:id/merge_requests`` (``source_branch``, ``target_branch``, ``title``
    required; ``description``) -> 201 / 400 ``{"error": "title is missing"}`` (Grape's
    validation) / 409 with the ``validate_branches`` messages as a list (``handle_merge_
    request_errors!`` in lib/api/merge_requests.rb answers them with ``conflict!``):
    ``{"message": ["Another open merge request already exists for this source branch:
    !IID"]}``, ``{"message": ["You can't use same project/branch for source and target"]}``
  * ``GET|PUT /projects/:id/merge_requests/:merge_request_iid`` (``title``,
    ``description``, ``state_event`` close or reopen; at least one parameter) -> 200 / 404
    ``{"message": "404 Not found"}`` / 400
  * the merge request JSON: ``id``, ``iid``, ``project_id``, ``title``, ``description``,
    ``state``, ``created_at``, ``updated_at``, ``closed_at``, ``merged_at``,
    ``source_branch``, ``target_branch``, ``author``, ``draft``, ``web_url``
    (``WEB/PROJECT/-/merge_requests/IID``), ``references``, ``detailed_merge_status``.
- "Notes API" (doc/api/notes.md): ``GET|POST /projects/:id/merge_requests/
  :merge_request_iid/notes`` (``body`` required) -> 200 / 201 with the note (``id``,
  ``body``, ``author``, ``system``, ``noteable_type`` ``MergeRequest``, ``noteable_iid``) /
  404 / 400 ``{"error": "body is missing"}``.
- "User and IP rate limits": every response carries ``RateLimit-Name``,
  ``RateLimit-Limit``, ``RateLimit-Observed``, ``RateLimit-Remaining``,
  ``RateLimit-Reset``; a throttled request answers 429 with the plain-text body ``Retry
  later`` and ``RateLimit-ResetTime`` and ``Retry-After``.

Stand-in choices where the docs are silent: a private project is 404 "404 Project Not Found"
without a token (reads and writes), a public one answers reads without a token and 401 to
writes; the CI/CD job token page lists no merge request or notes endpoints, so there the
job token counts as no token; a source or target branch the project lacks (only when
:attr:`Project.branches` lists them) is 400 ``{"message": {"source_branch": ["does not
exist"]}}``, as observed through glab (the docs do not say); closing or reopening a merged
merge request changes nothing; notes list oldest first;
a PUT to a release that does not exist answers 404 ``{"message": "404 Not Found"}``;
every tag exists unless :attr:`Project.tags` lists them; a link's ``direct_asset_path``
must start with ``/``; ``duplicate_status = 409`` makes the refused duplicate answer 409
``{"message": "Duplicate package is not allowed"}`` (as issue 14 describes it) instead of
the documented 400; an injected ``after_effect`` failure is consumed even if the request
then fails for another reason.

Deliberately not implemented: every other endpoint (404), merging (:meth:`GitLabStandIn.
mark_merged` stands in for it), forks, drafts, the many other merge request filters and
fields, editing or deleting notes, group releases, milestones,
evidence, release deletion, the ``permalink/latest`` suffixes, ``private_token`` /
``job_token`` query parameters, HTTP Basic and deploy tokens, package file paths with
``/``, Workhorse's authorize step, object storage redirects, ETags, GraphQL, HTTPS. The
server never retries anything itself.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

AuthState = Literal["none", "invalid", "private", "read-only", "job", "job-finished"]
JSON = dict[str, Any]

LINK_TYPES = ("other", "runbook", "image", "package")
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9._-]+")
_PACKAGE_VERSION = re.compile(r"(\.?[A-Za-z0-9_+-]+\.?)+")
_FILE_NAME = re.compile(r"(?![~@])[A-Za-z0-9._+~@-]+(?<![~@])")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- state -----------------------------------------------------------------------------------

@dataclass
class Link:
    id: int
    name: str
    url: str
    filepath: str | None  # direct_asset_path
    link_type: str


@dataclass
class Release:
    tag_name: str
    name: str
    description: str
    created_at: datetime
    released_at: datetime
    links: list[Link] = field(default_factory=list)


@dataclass
class PackageFile:
    id: int
    package_id: int
    file_name: str
    data: bytes
    created_at: datetime = field(default_factory=_now)


@dataclass
class Package:
    id: int
    name: str
    version: str
    status: str = "default"  # default | hidden
    package_type: str = "generic"
    created_at: datetime = field(default_factory=_now)
    files: list[PackageFile] = field(default_factory=list)


@dataclass
class Note:
    id: int
    body: str
    created_at: datetime = field(default_factory=_now)


@dataclass
class MergeRequest:
    id: int
    iid: int
    title: str
    description: str
    source_branch: str
    target_branch: str
    state: str = "opened"  # opened | closed | merged
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    notes: list[Note] = field(default_factory=list)


@dataclass
class Project:
    id: int
    path: str  # full path: group/subgroup/name
    private: bool = True
    default_branch: str = "main"
    tags: set[str] | None = None  # None: every tag exists
    releases: dict[str, Release] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)
    package_registry: bool = True
    duplicates_allowed: bool = True  # the group's "Allow duplicates" for generic packages
    duplicate_status: Literal[400, 409] = 400  # how a refused duplicate answers
    branches: set[str] | None = None  # None: every branch exists
    merge_requests: dict[int, MergeRequest] = field(default_factory=dict)  # by iid


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it. The token is never stored: ``auth`` only says
    which kind of credential came (none, invalid, an access token, a read-only one, the
    running job's token, a finished job's token)."""

    method: str
    path: str  # as sent (the project path still URL-encoded)
    query: str
    status: int  # 0: the connection was dropped (failure injection)
    auth: AuthState
    content_type: str | None


@dataclass
class FailureRule:
    """Answer the next ``remaining`` requests matching ``method`` / ``path`` (a glob on the
    URL path as sent, without the query) with ``status``. ``status=0`` drops the connection
    without a response. With ``after_effect`` the request is carried out first (state
    changes happen) and only the response is replaced."""

    method: str
    path: str
    status: int
    remaining: int = 1
    after_effect: bool = False
    body: JSON | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a plain-text body instead of JSON

    def matches(self, method: str, path: str) -> bool:
        return (self.remaining > 0 and self.method.upper() in ("*", method)
                and fnmatch.fnmatchcase(path, self.path))


@dataclass
class _Request:
    method: str
    target: str
    headers: Message
    body: bytes
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    raw_query: str = ""
    auth: AuthState = "none"
    after_rule: FailureRule | None = None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Response:
        return cls(status, json.dumps(payload).encode(),
                   {"Content-Type": "application/json", **(headers or {})})


def _message(status: int, message: Any) -> _Response:
    return _Response.json(status, {"message": message})


def _error(status: int, error: str) -> _Response:
    """Grape's own errors (parameter validation, unknown routes): ``{"error": ...}``."""
    return _Response.json(status, {"error": error})


# --- routes ----------------------------------------------------------------------------------

_SEG = r"[^/]+"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), n) for m, p, n in [
        ("GET", r"/releases/permalink/latest", "latest_release"),
        ("GET", r"/releases", "list_releases"),
        ("POST", r"/releases", "create_release"),
        ("GET", rf"/releases/(?P<tag>{_SEG})", "get_release"),
        ("PUT", rf"/releases/(?P<tag>{_SEG})", "update_release"),
        ("GET", rf"/releases/(?P<tag>{_SEG})/assets/links", "list_links"),
        ("POST", rf"/releases/(?P<tag>{_SEG})/assets/links", "create_link"),
        ("DELETE", rf"/releases/(?P<tag>{_SEG})/assets/links/(?P<link_id>\d+)", "delete_link"),
        ("PUT", rf"/packages/generic/(?P<name>{_SEG})/(?P<version>{_SEG})/(?P<file>{_SEG})",
         "upload_file"),
        ("GET", rf"/packages/generic/(?P<name>{_SEG})/(?P<version>{_SEG})/(?P<file>{_SEG})",
         "download_file"),
        ("GET", r"/packages", "list_packages"),
        ("GET", r"/packages/(?P<package_id>\d+)/package_files", "list_package_files"),
        ("DELETE", r"/packages/(?P<package_id>\d+)/package_files/(?P<file_id>\d+)",
         "delete_package_file"),
        ("GET", r"/merge_requests", "list_merge_requests"),
        ("POST", r"/merge_requests", "create_merge_request"),
        ("GET", r"/merge_requests/(?P<iid>\d+)", "get_merge_request"),
        ("PUT", r"/merge_requests/(?P<iid>\d+)", "update_merge_request"),
        ("GET", r"/merge_requests/(?P<iid>\d+)/notes", "list_notes"),
        ("POST", r"/merge_requests/(?P<iid>\d+)/notes", "create_note"),
    ]
]
# Endpoints a CI/CD job token does not reach: there it counts as no token.
_NO_JOB_TOKEN = frozenset(("list_merge_requests", "create_merge_request", "get_merge_request",
                           "update_merge_request", "list_notes", "create_note"))
_PROJECT = re.compile(r"/api/v4/projects/(?P<id>[^/]+)(?P<rest>/.*)?")
_WRITE = ("POST", "PUT", "DELETE", "PATCH")


class GitLabStandIn:
    """In-memory GitLab releases, release links and generic packages API; see the module
    docstring."""

    def __init__(self, path: str = "release-group/tools/hello-release", *,
                 private: bool = True, rate_limit: int = 2000) -> None:
        self.token = "glpat-" + secrets.token_urlsafe(15)
        self.read_only_token = "glpat-" + secrets.token_urlsafe(15)
        self.job_token = "glcbt-" + secrets.token_urlsafe(15)
        self.job_running = True  # False: the job finished; its token is refused
        self.username = "release-bot"
        self._lock = threading.RLock()
        self._projects: dict[int, Project] = {}
        self._next_project_id = 4201
        self._next_id = 9001
        self._requests: list[RecordedRequest] = []
        self._rules: list[FailureRule] = []
        self._rate_limit = rate_limit
        self._observed = 0
        self._reset = int(time.time()) + 60
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.project = self.add_project(path, private=private)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> GitLabStandIn:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.02},
                                        name="gitlab-standin", daemon=True)
        self._thread.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        stopper = threading.Thread(target=self._server.shutdown)
        stopper.start()
        stopper.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server = None

    def __enter__(self) -> GitLabStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def web_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.web_url}/api/v4"

    @property
    def path(self) -> str:
        return self.project.path

    # -- seeding and inspection ----------------------------------------------------------------

    def add_project(self, path: str, *, private: bool = True) -> Project:
        with self._lock:
            project = Project(self._next_project_id, path, private)
            self._next_project_id += 1
            self._projects[project.id] = project
            return project

    def seed_release(self, tag: str, *, name: str | None = None, description: str = "",
                     links: list[JSON] | None = None,
                     released_at: datetime | None = None) -> JSON:
        """A release made directly (no request); ``links`` as the create endpoint takes
        them. Returns its JSON."""
        with self._lock:
            now = _now()
            release = Release(tag, name or tag, description, now, released_at or now)
            for item in links or []:
                release.links.append(Link(self._take_id(), item["name"], item["url"],
                                          item.get("direct_asset_path"),
                                          item.get("link_type", "other")))
            self.project.releases[tag] = release
            return self._release_json(self.project, release)

    def seed_file(self, package: str, version: str, file_name: str, data: bytes) -> JSON:
        """A generic package file stored directly (no request, no duplicate check)."""
        with self._lock:
            stored = self._store(self.project, package, version, file_name, data, status="default")
            return self._file_json(stored)

    def release(self, tag: str) -> JSON | None:
        with self._lock:
            found = self.project.releases.get(tag)
            return None if found is None else self._release_json(self.project, found)

    def releases(self) -> list[JSON]:
        with self._lock:
            return [self._release_json(self.project, r) for r in self._ordered(self.project)]

    def package_files(self, package: str, version: str) -> list[JSON]:
        """Every file of the package (duplicates included), oldest first."""
        with self._lock:
            found = self._package(self.project, package, version)
            return [] if found is None else [self._file_json(f) for f in found.files]

    def file_bytes(self, package: str, version: str, file_name: str) -> bytes | None:
        """What a download of the file serves (the most recent of that name), or None."""
        with self._lock:
            latest = self._latest(self.project, package, version, file_name)
            return None if latest is None else latest.data

    def resolve(self, url: str) -> bytes | None:
        """The bytes a release link's URL serves when it points at a generic package file
        of this stand-in's project, else None."""
        prefix = f"{self.api_url}/projects/"
        if not url.startswith(prefix):
            return None
        ident, _, rest = url[len(prefix):].partition("/")
        match = re.fullmatch(rf"packages/generic/({_SEG})/({_SEG})/({_SEG})", rest)
        with self._lock:
            project = self._lookup(ident)
            if match is None or project is not self.project:
                return None
            return self.file_bytes(*(unquote(g) for g in match.groups()))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def merge_requests(self) -> list[JSON]:
        """Every merge request of the project (any state), newest first."""
        with self._lock:
            found = sorted(self.project.merge_requests.values(), key=lambda m: -m.iid)
            return [self._mr_json(self.project, m) for m in found]

    def mr_notes(self, iid: int) -> list[str]:
        """The bodies of the notes on the merge request ``iid``, oldest first."""
        with self._lock:
            return [n.body for n in self.project.merge_requests[iid].notes]

    def mark_merged(self, iid: int) -> None:
        """What merging does to the merge request (the test merges the branch with git)."""
        with self._lock:
            found = self.project.merge_requests[iid]
            found.state, found.merged_at = "merged", _now()

    # -- knobs ---------------------------------------------------------------------------------

    def fail_next(self, method: str, path: str, status: int, *, count: int = 1,
                  after_effect: bool = False, body: JSON | None = None,
                  headers: dict[str, str] | None = None) -> FailureRule:
        """Inject a failure (see :class:`FailureRule`); rules are tried in the order added.
        Without ``body`` the answer is GitLab's ``{"message": "<status> <phrase>"}``."""
        if count < 1:
            raise ValueError("count must be at least 1")
        rule = FailureRule(method.upper(), path, status, count, after_effect, body,
                           dict(headers or {}))
        with self._lock:
            self._rules.append(rule)
        return rule

    def throttle(self, method: str = "*", path: str = "*", *, count: int = 1,
                 retry_after: int = 30) -> FailureRule:
        """The next ``count`` matching requests exceed the rate limit: 429, ``Retry later``."""
        reset = int(time.time()) + retry_after
        rule = self.fail_next(method, path, 429, count=count, headers={
            "Retry-After": str(retry_after),
            "RateLimit-ResetTime": formatdate(reset, usegmt=True),
            "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
        rule.text = "Retry later\n"
        return rule

    # -- request handling (called by the handler threads) ----------------------------------------

    def _handle(self, req: _Request) -> _Response | None:
        with self._lock:
            response = self._process(req)
            self._requests.append(RecordedRequest(
                req.method, req.path, req.raw_query, 0 if response is None else response.status,
                req.auth, req.headers.get("Content-Type")))
            return response

    def _process(self, req: _Request) -> _Response | None:
        split = urlsplit(req.target)
        req.path, req.raw_query = split.path, split.query
        req.query = parse_qs(split.query, keep_blank_values=True)
        req.auth = self._auth_state(req.headers)
        rule = self._take_rule(req, after_effect=False)
        if rule is not None:
            return None if rule.status == 0 else self._decorate(self._injected(rule))
        response: _Response | None = self._checked(req)
        rule = req.after_rule
        if rule is not None:
            response = None if rule.status == 0 else self._injected(rule)
        return None if response is None else self._decorate(response)

    def _checked(self, req: _Request) -> _Response:
        if req.auth in ("invalid", "job-finished"):
            return _message(401, "401 Unauthorized")
        match = _PROJECT.fullmatch(req.path)
        if match is None:
            return _error(404, "404 Not Found")
        rest = match["rest"] or ""
        known = [(m, p, n) for m, p, n in _ROUTES if p.fullmatch(rest)]
        if not known:
            return _error(404, "404 Not Found")
        project = self._lookup(match["id"])
        if project is None or (project.private and req.auth == "none"):
            return _message(404, "404 Project Not Found")
        route = next(((p, n) for m, p, n in known if m == req.method), None)
        if route is None:
            return _error(405, "405 Not Allowed")
        if route[1] in _NO_JOB_TOKEN and req.auth == "job":
            req.auth = "none"
            if project.private:
                return _message(404, "404 Project Not Found")
        if req.method in _WRITE:
            if req.auth == "none":
                return _message(401, "401 Unauthorized")
            if req.auth == "read-only":
                return _Response.json(403, {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than "
                                         "provided by the access token.",
                    "scope": "api"})
        req.after_rule = self._take_rule(req, after_effect=True)
        pattern, name = route
        found = pattern.fullmatch(rest)
        assert found is not None
        params = {k: unquote(v) for k, v in found.groupdict().items()}
        handler: Callable[[_Request, Project, dict[str, str]], _Response] = getattr(
            self, "_" + name)
        return handler(req, project, params)

    # -- helpers -------------------------------------------------------------------------------

    def _auth_state(self, headers: Message) -> AuthState:
        private = headers.get("PRIVATE-TOKEN")
        job = headers.get("JOB-TOKEN")
        bearer = headers.get("Authorization")
        if job is not None:
            if secrets.compare_digest(job.strip().encode(), self.job_token.encode()):
                return "job" if self.job_running else "job-finished"
            return "invalid"
        if private is None and bearer is not None:
            scheme, _, private = bearer.strip().partition(" ")
            if scheme.lower() != "bearer":
                return "invalid"
        if private is None:
            return "none"
        credential = private.strip().encode()
        if secrets.compare_digest(credential, self.token.encode()):
            return "private"
        if secrets.compare_digest(credential, self.read_only_token.encode()):
            return "read-only"
        return "invalid"

    def _lookup(self, ident: str) -> Project | None:
        if ident.isdigit():
            return self._projects.get(int(ident))
        path = unquote(ident).lower()
        return next((p for p in self._projects.values() if p.path.lower() == path), None)

    def _take_rule(self, req: _Request, *, after_effect: bool) -> FailureRule | None:
        for rule in self._rules:
            if rule.after_effect == after_effect and rule.matches(req.method, req.path):
                rule.remaining -= 1
                return rule
        return None

    def _injected(self, rule: FailureRule) -> _Response:
        if rule.text is not None:
            return _Response(rule.status, rule.text.encode(),
                             {"Content-Type": "text/plain", **rule.headers})
        body = rule.body
        if body is None:
            try:
                phrase = HTTPStatus(rule.status).phrase
            except ValueError:
                phrase = "Error"
            body = {"message": f"{rule.status} {phrase}"}
        return _Response.json(rule.status, body, rule.headers)

    def _decorate(self, response: _Response) -> _Response:
        now = int(time.time())
        if now >= self._reset:
            self._observed, self._reset = 0, now + 60
        self._observed += 1
        defaults = {
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Limit": str(self._rate_limit),
            "RateLimit-Observed": str(self._observed),
            "RateLimit-Remaining": str(max(self._rate_limit - self._observed, 0)),
            "RateLimit-Reset": str(self._reset),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
        }
        for key, value in defaults.items():
            response.headers.setdefault(key, value)
        return response

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _ordered(self, project: Project) -> list[Release]:
        return sorted(project.releases.values(), key=lambda r: (r.released_at, r.created_at),
                      reverse=True)

    def _package(self, project: Project, name: str, version: str) -> Package | None:
        return next((p for p in project.packages if p.package_type == "generic"
                     and p.name == name and p.version == version), None)

    def _latest(self, project: Project, name: str, version: str,
                file_name: str) -> PackageFile | None:
        package = self._package(project, name, version)
        files = [f for f in package.files if f.file_name == file_name] if package else []
        return max(files, key=lambda f: f.id) if files else None

    def _store(self, project: Project, name: str, version: str, file_name: str, data: bytes,
               *, status: str) -> PackageFile:
        package = self._package(project, name, version)
        if package is None:
            package = Package(self._take_id(), name, version, status)
            project.packages.append(package)
        stored = PackageFile(self._take_id(), package.id, file_name, data)
        package.files.append(stored)
        return stored

    def _json_body(self, req: _Request) -> JSON | _Response:
        """A JSON object, or form fields (both are accepted by the API)."""
        kind = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not req.body.strip():
            return {}
        if kind == "application/x-www-form-urlencoded":
            return {k: v[-1] for k, v in parse_qs(req.body.decode(), keep_blank_values=True)
                    .items()}
        try:
            payload = json.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "The provided content-type 'application/json' is not "
                               "supported or the body is not valid JSON")
        if not isinstance(payload, dict):
            return _error(400, "The request body must be a JSON object")
        return payload

    def _paged(self, req: _Request, items: list[JSON]) -> _Response:
        def number(key: str, default: int) -> int:
            try:
                value = int(req.param(key) or default)
            except ValueError:
                return default
            return value if value >= 1 else default

        per_page = min(number("per_page", 20), 100)
        page = number("page", 1)
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        base = f"{self.web_url}{req.path}"
        others = {k: v[-1] for k, v in req.query.items() if k not in ("page", "per_page")}

        def link(to: int, rel: str) -> str:
            return f'<{base}?{urlencode({**others, "page": to, "per_page": per_page})}>; ' \
                   f'rel="{rel}"'

        links = [link(page - 1, "prev")] if 1 < page <= pages else []
        links += [link(page + 1, "next")] if page < pages else []
        links += [link(1, "first"), link(pages, "last")]
        return _Response.json(200, chunk, {
            "X-Page": str(page), "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if 1 < page <= pages else "",
            "X-Total": str(len(items)), "X-Total-Pages": str(pages),
            "Link": ", ".join(links)})

    def _web(self, project: Project) -> str:
        return f"{self.web_url}/{project.path}"

    def _link_json(self, project: Project, release: Release, link: Link) -> JSON:
        direct = (f"{self._web(project)}/-/releases/{quote(release.tag_name, safe='')}"
                  f"/downloads{link.filepath}" if link.filepath else link.url)
        return {"id": link.id, "name": link.name, "url": link.url,
                "direct_asset_url": direct, "link_type": link.link_type}

    def _release_json(self, project: Project, release: Release) -> JSON:
        web = self._web(project)
        tag = quote(release.tag_name, safe="")
        now = _now()
        sources = [{"format": f, "url": f"{web}/-/archive/{tag}/{project.path.rsplit('/', 1)[-1]}"
                                        f"-{tag}.{f}"} for f in ("zip", "tar.gz", "tar.bz2", "tar")]
        links = [self._link_json(project, release, link) for link in release.links]
        return {
            "name": release.name,
            "tag_name": release.tag_name,
            "description": release.description,
            "created_at": _iso(release.created_at),
            "released_at": _iso(release.released_at),
            "upcoming_release": release.released_at > now,
            "historical_release": release.released_at < release.created_at - timedelta(
                seconds=1),
            "author": {"id": 17, "username": self.username, "name": "Release Bot",
                       "state": "active", "web_url": f"{self.web_url}/{self.username}"},
            "commit_path": f"/{project.path}/-/commit/{hashlib.sha1(tag.encode()).hexdigest()}",
            "tag_path": f"/{project.path}/-/tags/{tag}",
            "assets": {"count": len(sources) + len(links), "sources": sources,
                       "links": links},
            "evidences": [],
            "_links": {"self": f"{web}/-/releases/{tag}",
                       "edit_url": f"{web}/-/releases/{tag}/edit"},
        }

    def _package_json(self, project: Project, package: Package) -> JSON:
        return {
            "id": package.id, "name": package.name, "version": package.version,
            "package_type": package.package_type, "status": package.status,
            "_links": {"web_path": f"/{project.path}/-/packages/{package.id}",
                       "delete_api_path": f"{self.api_url}/projects/{project.id}/packages/"
                                          f"{package.id}"},
            "created_at": _iso(package.created_at), "last_downloaded_at": None,
            "pipelines": [], "tags": [],
        }

    def _file_json(self, stored: PackageFile) -> JSON:
        return {
            "id": stored.id, "package_id": stored.package_id,
            "created_at": _iso(stored.created_at), "file_name": stored.file_name,
            "size": len(stored.data),
            "file_md5": hashlib.md5(stored.data, usedforsecurity=False).hexdigest(),
            "file_sha1": hashlib.sha1(stored.data, usedforsecurity=False).hexdigest(),
            "file_sha256": hashlib.sha256(stored.data).hexdigest(),
            "pipelines": [],
        }

    def _tag_exists(self, project: Project, tag: str) -> bool:
        return project.tags is None or tag in project.tags

    def _new_links(self, project: Project, release: Release, items: Any,
                   where: str) -> list[Link] | _Response:
        """Links from create parameters, validated as the API does: required name and url,
        a known link_type, http(s)/ftp URLs, names/URLs/paths unique in the release."""
        if not isinstance(items, list):
            return _error(400, f"{where} is invalid")
        made: list[Link] = []
        for index, item in enumerate(items):
            at = f"{where}[{index}]"
            if not isinstance(item, dict):
                return _error(400, f"{at} is invalid")
            for key in ("name", "url"):
                if not isinstance(item.get(key), str) or not item[key]:
                    return _error(400, f"{at}[{key}] is missing")
            kind = item.get("link_type", "other")
            if kind not in LINK_TYPES:
                return _error(400, f"{at}[link_type] does not have a valid value")
            path = item.get("direct_asset_path", item.get("filepath"))
            made.append(Link(0, item["name"], item["url"], path, kind))
        problems: list[str] = []
        every = release.links + made
        for link in made:
            if urlsplit(link.url).scheme not in ("http", "https", "ftp"):
                problems.append("Url is blocked: Only allowed schemes are http, https, ftp")
            if link.filepath is not None and not link.filepath.startswith("/"):
                problems.append("Filepath is in an invalid format")
            for key, label in (("name", "Name"), ("url", "Url"), ("filepath", "Filepath")):
                value = getattr(link, key)
                if value is not None and sum(getattr(o, key) == value for o in every) > 1:
                    problems.append(f"{label} has already been taken")
        if problems:
            return _message(400, sorted(set(problems)))
        for link in made:
            link.id = self._take_id()
        return made

    # -- endpoints -------------------------------------------------------------------------------

    def _list_releases(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        releases = self._ordered(project)
        if req.param("order_by") == "created_at":
            releases.sort(key=lambda r: r.created_at, reverse=True)
        if req.param("sort") == "asc":
            releases.reverse()
        return self._paged(req, [self._release_json(project, r) for r in releases])

    def _latest_release(self, req: _Request, project: Project,
                        params: dict[str, str]) -> _Response:
        ordered = self._ordered(project)
        if not ordered:
            return _message(404, "404 Not Found")
        location = (f"{self.api_url}/projects/{project.id}/releases/"
                    f"{quote(ordered[0].tag_name, safe='')}")
        return _Response(302, b"", {"Location": location})

    def _get_release(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        release = project.releases.get(params["tag"])
        if release is None:
            return _message(404, "404 Not Found")
        return _Response.json(200, self._release_json(project, release))

    def _create_release(self, req: _Request, project: Project,
                        params: dict[str, str]) -> _Response:
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        tag = payload.get("tag_name")
        if not isinstance(tag, str) or not tag:
            return _error(400, "tag_name is missing")
        for key in ("name", "description", "ref", "tag_message", "released_at"):
            if key in payload and not isinstance(payload[key], str):
                return _error(400, f"{key} is invalid")
        if tag in project.releases:
            return _message(409, "Release already exists")
        if not self._tag_exists(project, tag):
            if not payload.get("ref"):
                return _message(422, "Ref is not specified")
            assert project.tags is not None
            project.tags.add(tag)
        now = _now()
        released_at = now
        if "released_at" in payload:
            parsed = _parse_time(payload["released_at"])
            if parsed is None:
                return _error(400, "released_at is invalid")
            released_at = parsed
        release = Release(tag, payload.get("name") or tag, payload.get("description") or "",
                          now, released_at)
        assets = payload.get("assets") or {}
        if not isinstance(assets, dict):
            return _error(400, "assets is invalid")
        links = self._new_links(project, release, assets.get("links", []), "assets[links]")
        if isinstance(links, _Response):
            return links
        release.links = links
        project.releases[tag] = release
        return _Response.json(201, self._release_json(project, release))

    def _update_release(self, req: _Request, project: Project,
                        params: dict[str, str]) -> _Response:
        release = project.releases.get(params["tag"])
        if release is None:
            return _message(404, "404 Not Found")
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        fields = {k: v for k, v in payload.items()
                  if k in ("name", "description", "released_at", "milestones")}
        if not fields:
            return _message(400, "params is empty")
        for key in ("name", "description", "released_at"):
            if key in fields and not isinstance(fields[key], str):
                return _error(400, f"{key} is invalid")
        if "released_at" in fields:
            parsed = _parse_time(fields["released_at"])
            if parsed is None:
                return _error(400, "released_at is invalid")
            release.released_at = parsed
        release.name = fields.get("name", release.name)
        release.description = fields.get("description", release.description)
        return _Response.json(200, self._release_json(project, release))

    def _list_links(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        release = project.releases.get(params["tag"])
        if release is None:
            return _message(404, "404 Not found")
        ordered = sorted(release.links, key=lambda link: link.id, reverse=True)
        return self._paged(req, [self._link_json(project, release, link) for link in ordered])

    def _create_link(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        release = project.releases.get(params["tag"])
        if release is None:
            return _message(404, "404 Not found")
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        for key in ("name", "url"):
            if not isinstance(payload.get(key), str) or not payload[key]:
                return _error(400, f"{key} is missing")
        made = self._new_links(project, release, [payload], "link")
        if isinstance(made, _Response):
            return made
        release.links += made
        return _Response.json(201, self._link_json(project, release, made[0]))

    def _delete_link(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        release = project.releases.get(params["tag"])
        link = next((k for k in release.links if k.id == int(params["link_id"])),
                    None) if release else None
        if release is None or link is None:
            return _message(404, "404 Not found")
        release.links.remove(link)
        return _Response.json(200, self._link_json(project, release, link))

    def _upload_file(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        if not project.package_registry:
            return _message(403, "403 Forbidden")
        for key, pattern in (("package_name", _PACKAGE_NAME), ("package_version",
                                                                _PACKAGE_VERSION),
                             ("file_name", _FILE_NAME)):
            value = params[{"package_name": "name", "package_version": "version",
                            "file_name": "file"}[key]]
            if not pattern.fullmatch(value):
                return _error(400, f"{key} is invalid")
        status = req.param("status") or "default"
        if status not in ("default", "hidden"):
            return _error(400, "status does not have a valid value")
        select = req.param("select")
        if select not in (None, "package_file"):
            return _error(400, "select does not have a valid value")
        name, version, file_name = params["name"], params["version"], params["file"]
        if not project.duplicates_allowed and self._latest(project, name, version,
                                                           file_name) is not None:
            if project.duplicate_status == 409:
                return _message(409, "Duplicate package is not allowed")
            return _message(400, "400 Bad request - Duplicate package is not allowed")
        stored = self._store(project, name, version, file_name, req.body, status=status)
        if select == "package_file":
            return _Response.json(201, self._file_json(stored))
        return _message(201, "201 Created")

    def _download_file(self, req: _Request, project: Project,
                       params: dict[str, str]) -> _Response:
        latest = self._latest(project, params["name"], params["version"], params["file"])
        if latest is None:
            return _message(404, "404 Not found")
        return _Response(200, latest.data, {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{latest.file_name}"',
            "X-Checksum-SHA256": hashlib.sha256(latest.data).hexdigest()})

    def _list_packages(self, req: _Request, project: Project,
                       params: dict[str, str]) -> _Response:
        if not project.package_registry:
            return _message(403, "403 Forbidden")
        kind, name = req.param("package_type"), req.param("package_name")
        version, status = req.param("package_version"), req.param("status") or "default"
        found = [p for p in project.packages
                 if (kind is None or p.package_type == kind)
                 and (name is None or name.lower() in p.name.lower())
                 and (version is None or p.version == version)
                 and p.status == status]
        found.sort(key=lambda p: p.created_at, reverse=req.param("sort") == "desc")
        return self._paged(req, [self._package_json(project, p) for p in found])

    def _list_package_files(self, req: _Request, project: Project,
                            params: dict[str, str]) -> _Response:
        package = next((p for p in project.packages if p.id == int(params["package_id"])),
                       None)
        if package is None:
            return _message(404, "404 Not found")
        return self._paged(req, [self._file_json(f) for f in package.files])

    def _delete_package_file(self, req: _Request, project: Project,
                             params: dict[str, str]) -> _Response:
        package = next((p for p in project.packages if p.id == int(params["package_id"])),
                       None)
        stored = next((f for f in package.files if f.id == int(params["file_id"])),
                      None) if package else None
        if package is None or stored is None:
            return _message(404, "404 Not found")
        package.files.remove(stored)
        return _Response(204)

    # -- merge requests and their notes ----------------------------------------------------------

    def _mr_json(self, project: Project, mr: MergeRequest) -> JSON:
        web = self._web(project)
        author = {"id": 17, "username": self.username, "name": "Release Bot", "state": "active",
                  "web_url": f"{self.web_url}/{self.username}"}
        return {
            "id": mr.id, "iid": mr.iid, "project_id": project.id,
            "title": mr.title, "description": mr.description, "state": mr.state,
            "created_at": _iso(mr.created_at), "updated_at": _iso(mr.updated_at),
            "closed_at": _iso(mr.closed_at) if mr.closed_at else None,
            "closed_by": author if mr.closed_at else None,
            "merged_at": _iso(mr.merged_at) if mr.merged_at else None,
            "target_branch": mr.target_branch, "source_branch": mr.source_branch,
            "source_project_id": project.id, "target_project_id": project.id,
            "author": author, "draft": False, "work_in_progress": False,
            "labels": [], "merge_when_pipeline_succeeds": False,
            "detailed_merge_status": "mergeable" if mr.state == "opened" else "not_open",
            "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}",
                           "full": f"{project.path}!{mr.iid}"},
            "web_url": f"{web}/-/merge_requests/{mr.iid}",
        }

    def _note_json(self, mr: MergeRequest, note: Note) -> JSON:
        return {
            "id": note.id, "type": None, "body": note.body, "attachment": None,
            "author": {"id": 17, "username": self.username, "name": "Release Bot",
                       "state": "active", "web_url": f"{self.web_url}/{self.username}"},
            "created_at": _iso(note.created_at), "updated_at": _iso(note.created_at),
            "system": False, "noteable_id": mr.id, "noteable_type": "MergeRequest",
            "noteable_iid": mr.iid, "resolvable": False, "confidential": False,
            "internal": False,
        }

    def _branch_conflict(self, project: Project, mr: MergeRequest) -> _Response | None:
        """GitLab's ``validate_branches`` for an open merge request: 409 with the list."""
        if mr.source_branch == mr.target_branch:
            return _message(409, ["You can't use same project/branch for source and target"])
        for other in project.merge_requests.values():
            if (other is not mr and other.state == "opened"
                    and other.source_branch == mr.source_branch
                    and other.target_branch == mr.target_branch):
                return _message(409, ["Another open merge request already exists for this "
                                      f"source branch: !{other.iid}"])
        return None

    def _list_merge_requests(self, req: _Request, project: Project,
                             params: dict[str, str]) -> _Response:
        state = req.param("state") or "all"
        if state not in ("opened", "closed", "locked", "merged", "all"):
            return _error(400, "state does not have a valid value")
        source, target = req.param("source_branch"), req.param("target_branch")
        found = [m for m in sorted(project.merge_requests.values(), key=lambda m: -m.iid)
                 if state in ("all", m.state)
                 and source in (None, m.source_branch) and target in (None, m.target_branch)]
        return self._paged(req, [self._mr_json(project, m) for m in found])

    def _create_merge_request(self, req: _Request, project: Project,
                              params: dict[str, str]) -> _Response:
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        missing = [k for k in ("source_branch", "target_branch", "title") if not payload.get(k)]
        if missing:
            return _error(400, ", ".join(f"{k} is missing" for k in missing))
        for key in ("source_branch", "target_branch", "title", "description"):
            if key in payload and not isinstance(payload[key], str):
                return _error(400, f"{key} is invalid")
        mr = MergeRequest(self._take_id(), max(project.merge_requests, default=0) + 1,
                          payload["title"], payload.get("description") or "",
                          payload["source_branch"], payload["target_branch"])
        conflict = self._branch_conflict(project, mr)
        if conflict is not None:
            return conflict
        if project.branches is not None:
            absent = {k: ["does not exist"] for k in ("source_branch", "target_branch")
                      if getattr(mr, k) not in project.branches}
            if absent:
                return _message(400, absent)
        project.merge_requests[mr.iid] = mr
        return _Response.json(201, self._mr_json(project, mr))

    def _get_merge_request(self, req: _Request, project: Project,
                           params: dict[str, str]) -> _Response:
        mr = project.merge_requests.get(int(params["iid"]))
        if mr is None:
            return _message(404, "404 Not found")
        return _Response.json(200, self._mr_json(project, mr))

    def _update_merge_request(self, req: _Request, project: Project,
                              params: dict[str, str]) -> _Response:
        mr = project.merge_requests.get(int(params["iid"]))
        if mr is None:
            return _message(404, "404 Not found")
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        known = ("title", "description", "state_event", "target_branch")
        if not any(k in payload for k in known):
            return _error(400, f"{', '.join(known)} are missing, at least one parameter must "
                               "be provided")
        for key in known:
            if key in payload and not isinstance(payload[key], str):
                return _error(400, f"{key} is invalid")
        event = payload.get("state_event")
        if event is not None and event not in ("close", "reopen"):
            return _error(400, "state_event does not have a valid value")
        if event == "reopen" and mr.state == "closed":
            reopened = MergeRequest(mr.id, mr.iid, mr.title, mr.description, mr.source_branch,
                                    payload.get("target_branch", mr.target_branch))
            conflict = self._branch_conflict(project, reopened)
            if conflict is not None:
                return conflict
            mr.state, mr.closed_at = "opened", None
        elif event == "close" and mr.state == "opened":
            mr.state, mr.closed_at = "closed", _now()
        mr.title = payload.get("title", mr.title)
        mr.description = payload.get("description", mr.description)
        mr.target_branch = payload.get("target_branch", mr.target_branch)
        mr.updated_at = _now()
        return _Response.json(200, self._mr_json(project, mr))

    def _list_notes(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        mr = project.merge_requests.get(int(params["iid"]))
        if mr is None:
            return _message(404, "404 Not found")
        return self._paged(req, [self._note_json(mr, n) for n in mr.notes])

    def _create_note(self, req: _Request, project: Project, params: dict[str, str]) -> _Response:
        mr = project.merge_requests.get(int(params["iid"]))
        if mr is None:
            return _message(404, "404 Not found")
        payload = self._json_body(req)
        if isinstance(payload, _Response):
            return payload
        body = payload.get("body")
        if not isinstance(body, str) or not body:
            return _error(400, "body is missing")
        note = Note(self._take_id(), body)
        mr.notes.append(note)
        return _Response.json(201, self._note_json(mr, note))


# --- HTTP plumbing ---------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: GitLabStandIn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-in records requests itself."""

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        body = b""
        if length is not None and length.strip().isdigit():
            body = self.rfile.read(int(length))
        elif self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # chunked uploads are not supported here
        request = _Request(self.command, self.path, self.headers, body)
        response = self.server.standin._handle(request)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


@pytest.fixture
def gitlab_standin() -> Iterator[GitLabStandIn]:
    """A started :class:`GitLabStandIn` (private project ``release-group/tools/hello-release``),
    stopped after the test."""
    with GitLabStandIn() as standin:
        yield standin
