"""The GitLab forge: a client for the part of GitLab's REST API (v4) a release uses.

GitLab has no draft releases: a release exists once it is made, and it is public then.
So the announce stage works like this on GitLab:

- ``announce.draft`` makes nothing: :meth:`GitLab.find` answers the real release of the tag
  or, when there is none, a local record of the release to be (not published), and
  :meth:`GitLab.create_draft` returns such a record;
- ``announce.attach`` uploads every file to the project's generic package registry, as the
  package ``NAME/VERSION`` of :func:`generic_package` (the project's name and the tag), and
  reads each back by name and sha256 (the package files API states ``file_sha256``; the
  bytes are downloaded where it does not); on a release that already exists each file is
  also linked to it as a release asset (``link_type`` ``package``, ``direct_asset_path``
  ``/NAME``);
- ``announce.publish`` makes the release (name, tag, the notes as description, a link to
  every file of the package), or brings an existing one up to date.

Pre-releases: GitLab has no pre-release flag (``upcoming_release`` is about a
``released_at`` in the future, not about the version), so a pre-release's description
starts with :data:`PRERELEASE_NOTE`, and :meth:`GitLab.matches` expects it there.

"Latest": GitLab's latest release (``/releases/permalink/latest``) is the one with the most
recent ``released_at``, and there is no flag to keep it elsewhere. Moving ``released_at``
into the past would misdate the release (and label it "historical"), so it is left at the
time of publishing: on GitLab a maintenance release or a pre-release published after a
higher release becomes the permalink's target. ``Announcement.latest`` is not used.

Duplicates: by default GitLab adds a second file of the same name to a package; the most
recent one is served. With "Allow duplicates" turned off for generic packages the upload
is refused (documented: ``400 Bad request - Duplicate package is not allowed``). Either
way the file's state is read back, never guessed from the answer: a file already there
with the same sha256 is done, one with other content is a conflict.

Tokens: an access token (``api`` scope) is sent as ``PRIVATE-TOKEN``, the CI job's own
token (``CI_JOB_TOKEN``) as ``JOB-TOKEN``; neither appears in a message.

Endpoints (docs.gitlab.com): Releases API (``GET/POST /projects/:id/releases``,
``GET/PUT /projects/:id/releases/:tag_name``), Release links API
(``GET/POST /projects/:id/releases/:tag_name/assets/links``, ``DELETE .../links/:link_id``),
generic packages (``PUT/GET /projects/:id/packages/generic/:package_name/:package_version/
:file_name``), Packages API (``GET /projects/:id/packages``,
``GET /projects/:id/packages/:package_id/package_files``,
``DELETE /projects/:id/packages/:package_id/package_files/:package_file_id``). ``:id`` is
the URL-encoded project path (subgroups included).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from release.forges import Announcement, Asset, ChangeRequest, ForgeError, ForgeRelease, http
from release.ops import BROKEN, CONFLICTING, MISSING, PRESENT

RETRIES = 3
PER_PAGE = 100
#: The first line of a pre-release's description (GitLab has no pre-release flag).
PRERELEASE_NOTE = "**Pre-release**\n\n"
_PLANNED = "release-pipeline:planned"  # marks the local record of a release not made yet
_LINK, _FILE = "link", "package_file"


def generic_package(project: str, tag: str) -> tuple[str, str]:
    """The generic package (name, version) that holds the files of ``tag``'s release: the
    project's own name (the last part of its path) and the tag, each character GitLab does
    not allow there replaced by ``-`` (a tag ``pkg/v1.0`` is the version ``pkg-v1.0``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", project.rsplit("/", 1)[-1])
    version = re.sub(r"[^A-Za-z0-9_.+-]", "-", tag)
    return name, version


@dataclass
class GitLab:
    api_url: str  # https://gitlab.com/api/v4
    project: str  # group/subgroup/name
    token: str
    job_token: bool = False  # the token is the CI job's own: sent as JOB-TOKEN
    timeout: float = 60

    @property
    def title(self) -> str:
        return "GitLab"

    @property
    def where(self) -> str:
        return f"gitlab {self.project}"

    # -- HTTP ------------------------------------------------------------------------------

    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        base = f"{self.api_url.rstrip('/')}/projects/{quote(self.project, safe='')}{path}"
        return f"{base}?{urlencode(dict(query))}" if query else base

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        *,
        retry: bool,
    ) -> tuple[int, Message, bytes]:
        """One request; a 5xx or lost answer is repeated only when ``retry`` (the request
        changes nothing, or changes it to the same end): a POST or an upload may have taken
        effect before its answer was lost, so its caller reads the state and decides."""
        headers = {
            "JOB-TOKEN" if self.job_token else "PRIVATE-TOKEN": self.token,
            "Accept": "application/json",
            "User-Agent": "release-pipeline",
        }
        if body is not None:
            headers["Content-Type"] = content_type
        return http.exchange(
            lambda: urllib.request.Request(url, data=body, method=method, headers=headers),
            retry=retry,
            timeout=self.timeout,
            refused=lambda status, payload, answer: self._error(
                method, url, status, payload, answer
            ),
            unreachable=lambda reason: ForgeError(
                f"GitLab at {self.api_url} cannot be reached ({self._masked(reason)}).",
                "Check `url` (or `api-url`) and the network, then run release resume.",
                status=0,
            ),
        )

    def _masked(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def _error(
        self, method: str, url: str, status: int, payload: bytes, headers: Message
    ) -> ForgeError:
        message = self._masked(_message(payload))
        where = f"{method} {url.split('?', maxsplit=1)[0]}"
        token = "CI job token (JOB-TOKEN)" if self.job_token else "token"
        if status == 401:
            hint = (
                "A CI job token is valid only while its job runs: run release resume in a "
                "running job, or set `token-env` to an access token with the api scope."
                if self.job_token
                else "Check the token in the environment variable `token-env` names: an "
                "access token with the api scope."
            )
            return ForgeError(
                f"GitLab rejected the {token} ({where}: {message}).", hint, status=401
            )
        if status == 429:
            wait = headers.get("Retry-After") or ""
            when = headers.get("RateLimit-ResetTime") or (f"in {wait} s" if wait else "later")
            return ForgeError(
                f"GitLab's rate limit is exhausted ({where}: {message}).",
                f"It resets {when}; then run release resume.",
                status=429,
            )
        hints = {
            403: "The token needs the api scope and at least the Developer role in the project "
            "(a CI job token: a job of this project), and the project's package registry must "
            "be enabled.",
            404: "Check `repository` (the project path with its groups, e.g. group/sub/name) "
            "and that the token can see the project.",
            409: "GitLab already has it: run release resume, which completes what is there.",
            422: "A release needs its tag on GitLab: check that the tag was pushed, then run "
            "release resume.",
        }
        hint = hints.get(status) or (
            "GitLab had a problem; run release resume later."
            if status >= 500
            else "Fix the cause, then run release resume; release status shows what GitLab has."
        )
        return ForgeError(f"GitLab answered {status} to {where}: {message}", hint, status=status)

    def _json(
        self, method: str, path: str, data: Any = None, query: Mapping[str, str] | None = None
    ) -> Any:
        body = None if data is None else json.dumps(data).encode()
        retry = method in ("GET", "PUT", "DELETE")  # a release's PUT sets fields: idempotent
        _status, _headers, raw = self._request(method, self._url(path, query), body, retry=retry)
        return json.loads(raw) if raw.strip() else None

    def _pages(self, path: str, query: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list (``X-Next-Page``)."""
        items: list[dict[str, Any]] = []
        page = "1"
        while page:
            url = self._url(path, {**(query or {}), "per_page": str(PER_PAGE), "page": page})
            _status, headers, raw = self._request("GET", url, retry=True)
            items += json.loads(raw)
            page = (headers.get("X-Next-Page") or "").strip()
        return items

    # -- releases ----------------------------------------------------------------------------

    def release(self, tag: str) -> dict[str, Any] | None:
        """The release of ``tag``, or None; :class:`ForgeError` (404) when the project
        itself cannot be seen, so that a wrong `repository` is never "no release yet"."""
        try:
            found: dict[str, Any] = self._json("GET", f"/releases/{quote(tag, safe='')}")
            return found
        except ForgeError as exc:
            if exc.status != 404:
                raise
        self._json("GET", "/releases", query={"per_page": "1"})  # the project is there
        return None

    def create_release(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Make the release; if the answer was lost (or another run made it meanwhile, 409),
        the one that is there. A POST is repeated only after reading that none was made."""
        tag = str(fields["tag_name"])
        return http.made_or_found(
            lambda: self._json("POST", "/releases", fields),
            lambda: self.release(tag),
            exists=409,
        )

    def update_release(self, tag: str, fields: dict[str, Any]) -> dict[str, Any]:
        updated: dict[str, Any] = self._json("PUT", f"/releases/{quote(tag, safe='')}", fields)
        return updated

    def links(self, tag: str) -> list[dict[str, Any]]:
        return self._pages(f"/releases/{quote(tag, safe='')}/assets/links")

    def link_fields(self, tag: str, name: str) -> dict[str, str]:
        """The release link of one package file: its download URL in the package registry,
        and ``/NAME`` as its permanent path below the release."""
        return {
            "name": name,
            "url": self.file_url(tag, name),
            "direct_asset_path": f"/{name}",
            "link_type": "package",
        }

    def add_link(self, tag: str, name: str) -> None:
        """Link the package file ``name`` to the release; whether it got there is read
        back, never guessed from an error (the answer may have been lost)."""
        try:
            self._json(
                "POST", f"/releases/{quote(tag, safe='')}/assets/links", self.link_fields(tag, name)
            )
        except ForgeError as exc:
            if not (exc.uncertain or exc.status == 400):
                raise
            if not any(self._link_ok(link, tag, name) for link in self.links(tag)):
                raise
            return

    def delete_link(self, tag: str, link_id: int) -> None:
        try:
            self._json("DELETE", f"/releases/{quote(tag, safe='')}/assets/links/{link_id}")
        except ForgeError as exc:
            if exc.status != 404:  # already gone (a repeated DELETE)
                raise

    def _link_ok(self, link: Mapping[str, Any], tag: str, name: str) -> bool:
        direct = unquote(str(link.get("direct_asset_url") or ""))
        return (
            link.get("name") == name
            and link.get("url") == self.file_url(tag, name)
            and link.get("link_type") == "package"
            and direct.endswith(f"/downloads/{name}")
        )

    # -- the generic package registry -----------------------------------------------------------

    def _generic_path(self, tag: str, name: str = "") -> str:
        package, version = generic_package(self.project, tag)
        path = f"/packages/generic/{quote(package, safe='')}/{quote(version, safe='')}"
        return f"{path}/{quote(name, safe='')}" if name else path

    def file_url(self, tag: str, name: str) -> str:
        return self._url(self._generic_path(tag, name))

    def package_files(self, tag: str) -> dict[str, dict[str, Any]]:
        """The files of ``tag``'s generic package by name: of several with one name (GitLab
        allows duplicates by default), the most recent, which is the one GitLab serves."""
        package, version = generic_package(self.project, tag)
        query = {"package_type": "generic", "package_name": package, "package_version": version}
        found: dict[str, dict[str, Any]] = {}
        for item in self._pages("/packages", query):
            if item.get("name") != package or item.get("version") != version:
                continue  # package_name is a fuzzy search
            for stored in self._pages(f"/packages/{int(item['id'])}/package_files"):
                name = str(stored["file_name"])
                if name not in found or int(stored["id"]) > int(found[name]["id"]):
                    found[name] = {**stored, "package_id": int(item["id"])}
        return found

    def file_sha256(self, tag: str, stored: Mapping[str, Any]) -> str:
        """A package file's sha256: as GitLab states it, else of the downloaded bytes."""
        stated = str(stored.get("file_sha256") or "")
        if re.fullmatch(r"[0-9a-f]{64}", stated):
            return stated
        url = self._url(self._generic_path(tag, str(stored["file_name"])))
        _status, _headers, raw = self._request("GET", url, retry=True)
        return hashlib.sha256(raw).hexdigest()

    def upload(self, tag: str, path: Path) -> None:
        """Publish ``path`` as a file of ``tag``'s generic package; if GitLab refuses it as
        a duplicate, or the answer is lost, what is stored is read back."""
        data = path.read_bytes()
        url = self._url(self._generic_path(tag, path.name), {"select": "package_file"})
        try:
            self._request("PUT", url, data, "application/octet-stream", retry=False)
        except ForgeError as exc:
            if exc.uncertain or exc.status not in (400, 409):
                raise
            stored = self.package_files(tag).get(path.name)
            if stored is None or self.file_sha256(tag, stored) != _sha256(data):
                raise
            return

    def delete_package_file(self, package_id: int, file_id: int) -> None:
        try:
            self._json("DELETE", f"/packages/{package_id}/package_files/{file_id}")
        except ForgeError as exc:
            if exc.status != 404:  # already gone (a repeated DELETE)
                raise

    # -- the Forge protocol (release.forges.Forge) ---------------------------------------------

    @staticmethod
    def description(want: Announcement) -> str:
        return (PRERELEASE_NOTE if want.prerelease else "") + want.notes

    @staticmethod
    def _planned(tag: str) -> dict[str, Any]:
        return {"tag_name": tag, _PLANNED: True}

    def find(self, tag: str) -> ForgeRelease | None:
        found = self.release(tag)
        return self._planned(tag) if found is None else found

    def is_published(self, release: ForgeRelease) -> bool:
        return not release.get(_PLANNED)

    def is_sealed(self, release: ForgeRelease) -> bool:
        return False  # a GitLab release's links can always change

    def matches(self, release: ForgeRelease, want: Announcement) -> bool:
        if release.get(_PLANNED):
            return True  # nothing on GitLab yet: the publish step writes what ``want`` says
        same_title = release.get("name") == want.title
        return same_title and release.get("description") == self.description(want)

    def create_draft(self, want: Announcement) -> ForgeRelease:
        return self._planned(want.tag)

    def update(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        if self.matches(release, want):
            return release
        fields = {"name": want.title, "description": self.description(want)}
        return self.update_release(str(release["tag_name"]), fields)

    def publish(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        """Make the release with a link to every file of its package, or complete the one
        that is there. ``want.latest`` cannot be honoured (see the module docstring)."""
        try:
            names = sorted(self.package_files(want.tag))
        except ForgeError as exc:
            if exc.status != 403:
                raise
            names = []  # the package registry is off: nothing was attached to link
        made: ForgeRelease = release
        if release.get(_PLANNED):
            made = self.create_release(
                {
                    "tag_name": want.tag,
                    "name": want.title,
                    "description": self.description(want),
                    "assets": {"links": [self.link_fields(want.tag, n) for n in names]},
                }
            )
        made = self.update(made, want)
        linked = {str(link.get("name")) for link in self.links(want.tag)}
        for name in names:
            if name not in linked:
                self.add_link(want.tag, name)
        return made

    def file_states(
        self, release: ForgeRelease, files: Mapping[str, str]
    ) -> dict[str, tuple[str, Asset | None]]:
        """Each file by name and sha256 in the package registry; on a release that exists,
        also its link: missing, present, broken (a link of ours with the wrong name, type or
        path: removed and made again) or conflicting (its name taken by other content)."""
        tag = str(release["tag_name"])
        stored = self.package_files(tag)
        links = [] if release.get(_PLANNED) else self.links(tag)
        states: dict[str, tuple[str, Asset | None]] = {}
        for name, digest in files.items():
            states[name] = self._state(
                tag, name, digest, stored=stored.get(name), links=links, release=release
            )
        return states

    def _state(
        self,
        tag: str,
        name: str,
        digest: str,
        *,
        stored: dict[str, Any] | None,
        links: list[dict[str, Any]],
        release: ForgeRelease,
    ) -> tuple[str, Asset | None]:
        url = self.file_url(tag, name)
        named = next((link for link in links if link.get("name") == name), None)
        if named is not None and named.get("url") != url:
            return CONFLICTING, _link_asset(tag, named)  # the name links to something else
        if stored is not None and self.file_sha256(tag, stored) != digest:
            return CONFLICTING, _file_asset(stored)
        if not release.get(_PLANNED):
            ours = named or next((link for link in links if link.get("url") == url), None)
            if ours is not None and not self._link_ok(ours, tag, name):
                return BROKEN, _link_asset(tag, ours)  # removed, then linked again
            if ours is None:
                return MISSING, None
        return (MISSING, None) if stored is None else (PRESENT, _file_asset(stored))

    def attach(self, release: ForgeRelease, path: Path) -> None:
        """Upload ``path`` unless the package has it already, then, on a release that
        exists, link it."""
        tag = str(release["tag_name"])
        stored = self.package_files(tag).get(path.name)
        if stored is None:
            self.upload(tag, path)
        elif self.file_sha256(tag, stored) != _sha256(path.read_bytes()):
            raise ForgeError(
                f"GitLab's package registry has another {path.name} for {tag}.",
                "Delete that package file on GitLab if it is wrong, then run release resume.",
                status=409,
            )
        if self.is_published(release) and not any(
            self._link_ok(link, tag, path.name) for link in self.links(tag)
        ):
            self.add_link(tag, path.name)

    def detach(self, asset: Asset) -> None:
        if asset["kind"] == _LINK:
            self.delete_link(str(asset["tag"]), int(asset["id"]))
        else:
            self.delete_package_file(int(asset["package_id"]), int(asset["id"]))

    # -- change requests: merge requests, closed with a note --------------------------------
    #
    # Merge requests API (``GET/POST /projects/:id/merge_requests``, ``PUT .../:iid`` with
    # ``state_event=close``) and Notes API (``GET/POST .../merge_requests/:iid/notes``).
    # GitLab answers 409 ``{"message": ["Another open merge request already exists for this
    # source branch: !IID"]}`` for a second one: the open one is taken instead. A CI job
    # token does not reach these endpoints (the job token page lists none of them).

    def find_change(self, head: str, base: str) -> ChangeRequest | None:
        query = {"state": "opened", "source_branch": head, "target_branch": base}
        with self._change_errors():
            found = self._pages("/merge_requests", query)
        return found[0] if found else None

    def open_change(self, title: str, body: str, head: str, base: str) -> ChangeRequest:
        fields = {"source_branch": head, "target_branch": base, "title": title, "description": body}
        # 409: an open merge request for the branch exists (made by a run whose answer was
        # lost, or one beside this one): take it.
        with self._change_errors():
            made: ChangeRequest = http.made_or_found(
                lambda: self._json("POST", "/merge_requests", fields),
                lambda: self.find_change(head, base),
                exists=409,
                attempts=1,
            )
        return made

    def update_change(self, change: ChangeRequest, title: str, body: str) -> ChangeRequest:
        if change.get("title") == title and (change.get("description") or "") == body:
            return change
        with self._change_errors():
            updated: dict[str, Any] = self._json(
                "PUT",
                f"/merge_requests/{int(change['iid'])}",
                {"title": title, "description": body},
            )
        return updated

    def close_change(self, change: ChangeRequest, comment: str) -> None:
        """The note, then the close; a note already there (a run stopped between the two)
        is not written twice."""
        iid = int(change["iid"])
        with self._change_errors():
            notes = self._pages(f"/merge_requests/{iid}/notes", {"sort": "asc"})
            if not any(n.get("body") == comment and not n.get("system") for n in notes):
                self._json("POST", f"/merge_requests/{iid}/notes", {"body": comment})
            self._json("PUT", f"/merge_requests/{iid}", {"state_event": "close"})

    def change_ref(self, change: ChangeRequest) -> str:
        return f"!{change['iid']} ({change.get('web_url', '')})"

    @contextmanager
    def _change_errors(self) -> Iterator[None]:
        """The releases' hints do not fit merge requests: this says what the token needs
        for them, and to run release pr again."""
        try:
            yield
        except ForgeError as exc:
            raise ForgeError(exc.message, self._change_hint(exc), status=exc.status) from None

    def _change_hint(self, exc: ForgeError) -> str:
        if self.job_token and exc.status in (401, 403, 404):
            return (
                "A CI job token cannot reach GitLab's merge requests API: set `token-env` to "
                "a project or personal access token with the api scope (Developer role), "
                "then run release pr again."
            )
        hints = {
            403: "Opening, updating and closing merge requests needs a token with the api "
            "scope and at least the Developer role in the project.",
            409: "GitLab refused the merge request for these branches (one is open already, "
            "or source and target are the same branch): check `pr-branch` and the open merge "
            "requests of the project.",
            400: "Fix what GitLab's message names (a branch must be pushed before a merge "
            "request can use it), then run release pr again.",
        }
        return hints.get(exc.status) or exc.hint.replace(
            "run release resume", "run release pr again"
        )


def _link_asset(tag: str, link: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": _LINK, "tag": tag, "id": int(link["id"]), "name": link.get("name")}


def _file_asset(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": _FILE,
        "package_id": int(stored["package_id"]),
        "id": int(stored["id"]),
        "name": stored.get("file_name"),
        "size": stored.get("size"),
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _message(payload: bytes) -> str:
    """GitLab's error text: ``{"message": ...}`` (a string, a list, or field -> messages),
    or ``{"error": ..., "error_description": ...}``; else the start of the body."""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload[:200].decode("utf-8", errors="replace").strip()
    if not isinstance(body, dict):
        return str(body)[:200]
    if "message" in body:
        return _flat(body["message"])
    error = _flat(body.get("error", ""))
    described = str(body.get("error_description") or "")
    return f"{error}: {described}" if described else error


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key} {_flat(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "; ".join(_flat(item) for item in value)
    return str(value)
