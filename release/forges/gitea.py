"""The Gitea forge (Gitea and Forgejo, which Codeberg runs): a client for the part of the
``/api/v1`` REST API that releases use, as Gitea's swagger (``templates/swagger/v1_json.tmpl``,
from the ``swagger:operation`` comments in ``routers/api/v1/repo/release*.go``) and
Forgejo's, which is the same for these operations, describe them:

- ``GET /repos/{owner}/{repo}/releases/tags/{tag}`` (repoGetReleaseByTag): drafts
  included. Gitea looks the tag up with no draft filter (``repo_model.GetRelease``); since
  Gitea's fix "Fix get release draft permission check" (#36659) a draft is found only by
  an account that may write releases, which the token needs anyway. So drafts need no list.
- ``POST /repos/{owner}/{repo}/releases`` (repoCreateRelease, ``CreateReleaseOption``):
  201, or 409 when the tag already has a release (drafts included: "Release is has no
  Tag" on Gitea, "Release has no Tag" on Forgejo). Gitea never holds two releases for one
  tag, and a POST is never repeated blindly: after a lost answer (or a 409) the release is
  looked up by its tag first.
- ``PATCH /repos/{owner}/{repo}/releases/{id}`` (repoEditRelease, ``EditReleaseOption``):
  an empty ``name`` or ``body`` leaves the old one (Gitea skips empty strings).
- ``GET /repos/{owner}/{repo}/releases/{id}/assets`` (repoListReleaseAttachments).
- ``POST /repos/{owner}/{repo}/releases/{id}/assets?name=`` (repoCreateReleaseAttachment):
  ``multipart/form-data`` with the file in the field ``attachment``; 201 with the
  ``Attachment``; 400 for a file type the forge does not allow, 404 "Attachment is not
  enabled" where attachments are off, 413 when it is too large (Gitea's size limit) or
  over the owner's quota (Forgejo's ``quotaExceeded``), or from a proxy in front.
- ``DELETE /repos/{owner}/{repo}/releases/{id}/assets/{attachment_id}``
  (repoDeleteReleaseAttachment): 204.
- the attachment's ``browser_download_url`` (the web route
  ``/{owner}/{repo}/releases/download/{tag}/{name}``), which takes the API token since
  Gitea 1.21 (#26430). Where that URL is on another host than the configured ``url`` or
  ``api-url`` (a forge whose ``ROOT_URL`` is not the address used here), the token is not
  sent there: ``{url}/attachments/{uuid}`` is read instead, as it is when the first answers
  404 (Gitea before 1.22 served a draft's files only there, go-gitea/gitea#31369). A
  redirect keeps the token only to those two hosts (object storage gets a pre-signed URL
  and no token). A name attached twice is read by uuid: the link by name serves only one.

The token is sent as ``Authorization: token ...`` and never appears in messages. Errors
answer ``{"message": ..., "url": ...}`` (``APIError``; a 404 adds ``errors``).

No digests: an ``Attachment`` has ``id``, ``name``, ``size``, ``uuid``,
``browser_download_url`` and no checksum, so every attached file is read back by
downloading it and hashing the bytes; a download shorter or longer than ``size`` is
retried, and a size that cannot match (an empty attachment for a file that is not empty,
or a size other than that of the file this process just uploaded) needs no download.
Gitea keeps an attachment only once its bytes are stored, so an upload is either there
whole or not at all (no "broken" state); one name may be attached twice, and two that
differ are reported as conflicting.

No ``make_latest``: Gitea has no way to say which release is the latest.
``GET /repos/{owner}/{repo}/releases/latest`` and the ``releases/download/latest/FILE``
links answer the most recently created release that is neither a draft nor a
pre-release (``GetLatestReleaseByRepoID`` orders by ``created_unix``), whatever its
version. So a maintenance release (1.4.1 made after 2.0.0) becomes Gitea's "latest"; the
plan's ``latest`` cannot be honoured here, and is not sent.

No immutable releases: neither Gitea nor Forgejo can seal a published release (Gitea's
proposal #37102 is open), so :meth:`Gitea.is_sealed` is always False and a published
release can still get its missing files.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from release.forges import (
    Announcement,
    Asset,
    ChangeRequest,
    ForgeError,
    ForgeRelease,
    http,
    records,
)
from release.ops import CONFLICTING, MISSING, PRESENT
from release.runner import mask

PAGE = 50  # items per page of a list
RETRIES = 3
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SAFE = frozenset(("GET", "PATCH", "DELETE"))  # may be repeated: the same request, the same end


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _TokenRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, keeping the token only on the forge's own hosts."""

    def __init__(self, trusted: set[tuple[str, str, int | None]], header: str) -> None:
        self.trusted = trusted
        self.header = header

    def redirect_request(  # noqa: PLR0917 (urllib's signature)
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) in self.trusted:
            new.add_unredirected_header("Authorization", self.header)
        return new


@dataclass
class Gitea:
    api_url: str  # https://codeberg.org/api/v1
    repository: str  # owner/name
    token: str
    web_url: str = ""  # https://codeberg.org; "": api_url without /api/v1
    token_env: str = "GITEA_TOKEN"
    timeout: float = 60
    # name -> bytes uploaded by this client: a size that differs needs no download
    _sizes: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __repr__(self) -> str:
        return f"Gitea({self.api_url!r}, {self.repository!r})"  # never the token

    @property
    def title(self) -> str:
        return "Gitea"

    @property
    def where(self) -> str:
        return f"gitea {self.repository}"

    # -- HTTP ------------------------------------------------------------------------------

    def _base(self) -> str:
        """The forge's web address (``url``)."""
        return (self.web_url or self.api_url.rstrip("/").removesuffix("/api/v1")).rstrip("/")

    def _repo_api(self) -> str:
        return f"{self.api_url.rstrip('/')}/repos/{self.repository}"

    def _opener(self) -> urllib.request.OpenerDirector:
        trusted = {_origin(self.api_url), _origin(self._base())}
        return urllib.request.build_opener(_TokenRedirects(trusted, f"token {self.token}"))

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        *,
        accept: str = "application/json",
        what: str = "",
    ) -> tuple[int, bytes]:
        headers = {"Accept": accept, "User-Agent": "release-pipeline"}
        if body is not None:
            headers["Content-Type"] = content_type

        # A POST is never repeated blindly: it may have taken effect before the answer was
        # lost. Callers look at the state and decide.
        def request() -> urllib.request.Request:
            made = urllib.request.Request(url, data=body, method=method, headers=headers)
            # Unredirected: a redirect carries it only to the forge's own hosts.
            made.add_unredirected_header("Authorization", f"token {self.token}")
            return made

        answer = http.exchange(
            request,
            retry=method in _SAFE,
            timeout=self.timeout,
            refused=lambda status, payload, _headers: self._error(
                method, url, status, payload, what
            ),
            unreachable=lambda reason: ForgeError(
                f"Gitea at {self._base()} cannot be reached ({self._mask(reason)}).",
                "Check `url` (or `api-url`) and the network, then run release resume.",
                status=0,
            ),
            opener=self._opener(),
        )
        return answer.status, answer.body

    def _mask(self, text: str) -> str:
        return mask(text, [self.token]) if self.token else text

    def _error(self, method: str, url: str, status: int, payload: bytes, what: str) -> ForgeError:
        """One paragraph with a hint for an answer that is not a success."""
        try:
            found = json.loads(payload)
            message = str(found.get("message", "")) if isinstance(found, dict) else ""
        except (ValueError, UnicodeDecodeError):
            # Not Gitea's JSON: a proxy's page (e.g. nginx's 413), shown as its text.
            text = re.sub(r"<[^>]*>", " ", payload.decode("utf-8", errors="replace"))
            message = " ".join(text.split())[:200]
        message = self._mask(message) or "no message"
        where = self._mask(f"{method} {url.split('?', maxsplit=1)[0]}")
        doing = f" ({what})" if what else ""
        said = f"Gitea answered {status} to {where}{doing}: {message}"
        repo = self.repository
        if status == 401:
            return ForgeError(
                f"Gitea rejected the token ({where}{doing}: {message}).",
                f"Check the token in {self.token_env}: it must be a valid access token of "
                "this forge (Settings > Applications), not expired or revoked.",
                status=status,
            )
        hints = {
            400: "Gitea refused the request as malformed; for an attachment, the forge's "
            "[repository.release] ALLOWED_TYPES must allow .whl and .tar.gz files.",
            403: f"The token needs the write:repository scope, and its account write access "
            f"to the releases of {repo}.",
            404: f"Check `repository` ({repo}) and `url`: a repository the token cannot see "
            "answers 404 too. For an attachment, the release may have been deleted, or the "
            "forge has attachments turned off ([attachment] ENABLED).",
            409: f"The tag already has a release on Gitea; look at the releases of {repo}.",
            413: "The file is larger than the forge allows (Gitea's attachment size limit, "
            "Forgejo's quota, or a proxy's body size limit); raise the limit, or set "
            "attach-artifacts = false and attach the files by hand.",
            422: "Gitea refused the request as invalid (for example a protected tag); fix "
            "what its message names, then run release resume.",
            429: "Gitea is rate limiting this token; run release resume later.",
        }
        if status >= 500:
            hint = "Gitea had a problem; run release resume later."
        else:
            hint = hints.get(status, "Check the repository name and the token's scopes.")
        return ForgeError(said, hint, status=status)

    def _json(
        self, method: str, path: str, data: dict[str, Any] | None = None, *, what: str = ""
    ) -> Any:
        body = None if data is None else json.dumps(data).encode()
        _status, raw = self._request(method, f"{self._repo_api()}{path}", body, what=what)
        return json.loads(raw) if raw else None

    # -- releases --------------------------------------------------------------------------

    def release_by_tag(self, tag: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._json(
                "GET", f"/releases/tags/{quote(tag, safe='')}", what=f"the release of {tag}"
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def create_release(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create the release; if the answer was lost (or the tag has one already), the one
        that may have been made is looked up by its tag before anything is sent again."""
        tag = str(fields["tag_name"])

        def hidden(exc: ForgeError) -> ForgeError | None:
            if exc.status != 409:
                return None
            return ForgeError(
                f"Gitea says the tag {tag} has a release already, but the token cannot find "
                f"it in {self.repository} ({exc.message}).",
                "A draft is visible only to accounts that may write releases: give the "
                "token's account write access, or delete that release, then run release "
                "resume.",
                status=409,
            )

        return http.made_or_found(
            lambda: self._json("POST", "/releases", fields, what=f"create the release of {tag}"),
            lambda: self.release_by_tag(tag),
            exists=409,
            unfound=hidden,
        )

    def edit_release(self, release_id: int, fields: dict[str, Any], what: str) -> dict[str, Any]:
        edited: dict[str, Any] = self._json("PATCH", f"/releases/{release_id}", fields, what=what)
        return edited

    # -- attachments -----------------------------------------------------------------------

    def attachments(self, release_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json(
            "GET", f"/releases/{release_id}/assets", what="list the attached files"
        )
        return found

    def upload(self, release_id: int, name: str, data: bytes) -> dict[str, Any]:
        body, content_type = multipart("attachment", name, data)
        url = f"{self._repo_api()}/releases/{release_id}/assets?{urlencode({'name': name})}"
        self._sizes[name] = len(data)
        _status, raw = self._request("POST", url, body, content_type, what=f"upload {name}")
        uploaded: dict[str, Any] = json.loads(raw)
        return uploaded

    def delete_attachment(self, release_id: int, attachment_id: int, name: str) -> None:
        try:
            self._request(
                "DELETE",
                f"{self._repo_api()}/releases/{release_id}/assets/{attachment_id}",
                what=f"delete {name}",
            )
        except ForgeError as exc:
            if exc.status != 404:  # gone already (a repeated DELETE whose answer was lost)
                raise

    def download(self, attachment: Mapping[str, Any], *, unique: bool = True) -> bytes:
        """The attachment's bytes, read back whole (its ``size``), with the token only on
        the forge's own hosts. ``unique``: no other attachment of the release has its name
        (else the by-name link may serve the other one, and the uuid is read)."""
        name = str(attachment.get("name", ""))
        size = int(attachment.get("size", -1))
        url = str(attachment.get("browser_download_url") or "")
        trusted = {_origin(self.api_url), _origin(self._base())}
        uuid = str(attachment.get("uuid") or "")
        by_uuid = f"{self._base()}/attachments/{quote(uuid, safe='')}" if uuid else ""
        if by_uuid and (not url or not unique or _origin(url) not in trusted):
            url = by_uuid
        data = b""
        for attempt in range(RETRIES + 1):
            try:
                _status, data = self._request(
                    "GET", url, accept="application/octet-stream", what=f"download {name}"
                )
            except ForgeError as exc:
                if exc.status != 404:
                    raise
                if not by_uuid or url == by_uuid:
                    raise ForgeError(
                        exc.message,
                        f"{name} is attached but cannot be downloaded with the token: Gitea "
                        "accepts a token on downloads from a private repository since 1.21; "
                        "check the forge's version and that the token's account can read it.",
                        status=404,
                    ) from None
                # Gitea before 1.22 did not serve a draft's files by tag (go-gitea/gitea#31369);
                # /attachments/{uuid} serves them.
                url = by_uuid
                continue
            if size < 0 or len(data) == size:
                return data
            if attempt < RETRIES:
                time.sleep(0.5 * 2**attempt)
        raise ForgeError(
            f"The download of {name} from Gitea read {len(data)} bytes, but the attachment "
            f"has {size}.",
            "The connection or a proxy cut it short; run release resume.",
            status=0,
        )

    def attachment_state(self, found: list[dict[str, Any]], digest: str) -> tuple[str, Asset]:
        """PRESENT when every attachment of one name holds the expected bytes, else
        CONFLICTING with the first that does not."""
        for attachment in found:
            name, size = str(attachment["name"]), int(attachment.get("size", -1))
            expected = self._sizes.get(name)
            impossible = (size == 0 and digest != EMPTY_SHA256) or (
                expected is not None and size >= 0 and size != expected
            )
            if impossible:
                return CONFLICTING, attachment
            data = self.download(attachment, unique=len(found) == 1)
            if hashlib.sha256(data).hexdigest() != digest:
                return CONFLICTING, attachment
        return PRESENT, found[0]

    # -- the Forge protocol (release.forges.Forge) over the endpoints above ------------------

    def find(self, tag: str) -> ForgeRelease | None:
        return self.release_by_tag(tag)

    def is_published(self, release: ForgeRelease) -> bool:
        return records.is_published(release)

    def is_sealed(self, release: ForgeRelease) -> bool:
        return False  # Gitea and Forgejo have no immutable releases

    def matches(self, release: ForgeRelease, want: Announcement) -> bool:
        return records.says(release, want)

    def create_draft(self, want: Announcement) -> ForgeRelease:
        return self.create_release({**records.fields(want), "draft": True})

    def update(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        if self.matches(release, want):
            return release
        fields = {k: v for k, v in records.fields(want).items() if k != "tag_name"}
        return self.edit_release(int(release["id"]), fields, f"update the release of {want.tag}")

    def publish(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        # No make_latest on Gitea: the module docstring says what decides "latest".
        return self.edit_release(
            int(release["id"]), {"draft": False}, f"publish the release of {want.tag}"
        )

    def file_states(
        self, release: ForgeRelease, files: Mapping[str, str]
    ) -> dict[str, tuple[str, Asset | None]]:
        release_id = int(release["id"])
        by_name: dict[str, list[dict[str, Any]]] = {}
        for attachment in self.attachments(release_id):
            by_name.setdefault(str(attachment["name"]), []).append(
                {**attachment, "release_id": release_id}
            )
        states: dict[str, tuple[str, Asset | None]] = {}
        for name, digest in files.items():
            found = by_name.get(name)
            states[name] = (MISSING, None) if not found else self.attachment_state(found, digest)
        return states

    def attach(self, release: ForgeRelease, path: Path) -> None:
        self.upload(int(release["id"]), path.name, path.read_bytes())

    def detach(self, asset: Asset) -> None:
        self.delete_attachment(int(asset["release_id"]), int(asset["id"]), str(asset["name"]))

    # -- change requests: pull requests, closed with an issue comment ------------------------
    #
    # repoListPullRequests (no head filter: the open ones are looked through),
    # repoCreatePullRequest (409 ``pull request already exists for these targets``: the open
    # one is taken), repoEditPullRequest (answers 201) and issueCreateComment, which is in
    # the issue scope category: closing with a comment needs ``write:issue`` as well.

    def find_change(self, head: str, base: str) -> ChangeRequest | None:
        page = 1
        with self._change_errors():
            while True:
                found = self._json(
                    "GET", f"/pulls?state=open&limit={PAGE}&page={page}", what="pull requests"
                )
                for pull in found or []:
                    if pull["head"]["ref"] == head and pull["base"]["ref"] == base:
                        return dict(pull)
                if not found or len(found) < PAGE:
                    return None
                page += 1

    def open_change(self, title: str, body: str, head: str, base: str) -> ChangeRequest:
        fields = {"head": head, "base": base, "title": title, "body": body}
        # 409: a pull request for these branches exists already: take it.
        with self._change_errors():
            made: ChangeRequest = http.made_or_found(
                lambda: self._json(
                    "POST", "/pulls", fields, what=f"open a pull request from {head}"
                ),
                lambda: self.find_change(head, base),
                exists=409,
                attempts=1,
            )
        return made

    def update_change(self, change: ChangeRequest, title: str, body: str) -> ChangeRequest:
        if change.get("title") == title and (change.get("body") or "") == body:
            return change
        number = int(change["number"])
        with self._change_errors():
            edited: dict[str, Any] = self._json(
                "PATCH",
                f"/pulls/{number}",
                {"title": title, "body": body},
                what=f"update pull request #{number}",
            )
        return edited

    def close_change(self, change: ChangeRequest, comment: str) -> None:
        """The comment, then the close; a comment already there (a run stopped between the
        two) is not written twice."""
        number = int(change["number"])
        with self._change_errors(comment=True):
            said = self._json("GET", f"/issues/{number}/comments", what="read the comments")
            if not any(c.get("body") == comment for c in said or []):
                self._json(
                    "POST",
                    f"/issues/{number}/comments",
                    {"body": comment},
                    what=f"comment on pull request #{number}",
                )
        with self._change_errors():
            self._json(
                "PATCH",
                f"/pulls/{number}",
                {"state": "closed"},
                what=f"close pull request #{number}",
            )

    def change_ref(self, change: ChangeRequest) -> str:
        return f"#{change['number']} ({change.get('html_url', '')})"

    @contextmanager
    def _change_errors(self, *, comment: bool = False) -> Iterator[None]:
        """The releases' hints do not fit pull requests: this says what the token needs for
        them, and to run release pr again."""
        try:
            yield
        except ForgeError as exc:
            raise ForgeError(
                exc.message, self._change_hint(exc.status, comment, exc.hint), status=exc.status
            ) from None

    def _change_hint(self, status: int, comment: bool, hint: str) -> str:
        repo = self.repository
        if status == 403 and comment:
            return (
                f"release pr closes a pull request with a comment, which needs the token in "
                f"{self.token_env} to have the write:issue scope as well as write:repository."
            )
        hints = {
            403: f"The token needs the write:repository scope, and its account write access "
            f"to {repo}, to open, update and close pull requests.",
            404: f"Check `repository` ({repo}) and `url`; opening a pull request also answers "
            "404 when its branch is not on the forge (it must be pushed first).",
            409: f"Gitea has an open pull request for these branches that the token cannot "
            f"find; look at the pull requests of {repo}.",
            412: "The pull request was merged meanwhile; run release pr again.",
            422: "Gitea refused the pull request (the same branch as head and base, or no "
            "title); check `pr-branch`, then run release pr again.",
        }
        return hints.get(status) or hint.replace("run release resume", "run release pr again")


def multipart(field_name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (RFC 7578) with one file part, and its content type."""
    boundary = secrets.token_hex(16)
    while boundary.encode() in data:
        boundary = secrets.token_hex(16)
    # Quotes and line breaks in a filename are percent-encoded, as browsers do (WHATWG).
    shown = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{shown}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
