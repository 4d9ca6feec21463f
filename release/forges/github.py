"""The GitHub forge: a client for the part of GitHub's REST API (2022-11-28) releases use.

Endpoints: get a release by tag name, list releases (drafts are not found by tag),
create and update a release, list release assets, upload an asset on the uploads
host (the release's ``upload_url`` template), delete an asset, download an asset.
The token is sent as a Bearer header and never appears in messages.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from release.forges import (
    Announcement,
    Asset,
    ChangeRequest,
    ForgeError,
    ForgeRelease,
    http,
    records,
)
from release.ops import BROKEN, CONFLICTING, MISSING, PRESENT

API_VERSION = "2022-11-28"
RETRIES = 3


@dataclass
class GitHub:
    api_url: str
    repository: str  # owner/name
    token: str
    timeout: float = 60

    @property
    def title(self) -> str:
        return "GitHub"

    @property
    def where(self) -> str:
        return f"github {self.repository}"

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        accept: str = "application/vnd.github+json",
    ) -> tuple[int, bytes]:
        headers = {
            "Accept": accept,
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "release-pipeline",
        }
        if body is not None:
            headers["Content-Type"] = content_type
        answer = http.exchange(
            lambda: urllib.request.Request(url, data=body, method=method, headers=headers),
            retry=method != "POST",
            timeout=self.timeout,
            refused=lambda status, payload, answer: self._error(
                method, url, status, payload, answer
            ),
            unreachable=lambda reason: ForgeError(
                f"GitHub at {self.api_url} cannot be reached ({reason}).",
                "Check `api-url` and the network, then run release resume.",
                status=0,
            ),
        )
        return answer.status, answer.body

    def _error(
        self, method: str, url: str, status: int, payload: bytes, headers: Any
    ) -> ForgeError:
        try:
            message = str(json.loads(payload).get("message", ""))
        except (ValueError, AttributeError):
            message = payload[:200].decode("utf-8", errors="replace")
        message = message.replace(self.token, "***") if self.token else message
        where = f"{method} {url.split('?', maxsplit=1)[0]}"
        if status == 401:
            return ForgeError(
                f"GitHub rejected the token ({where}: {message}).",
                "Check the token in the configured environment variable.",
                status=status,
            )
        if status in (403, 429) and (
            headers.get("X-RateLimit-Remaining") == "0" or headers.get("Retry-After")
        ):
            reset = headers.get("X-RateLimit-Reset") or ""
            when = (
                time.strftime("%H:%M:%S UTC", time.gmtime(int(reset)))
                if reset.isdigit()
                else f"in {headers.get('Retry-After')} s"
            )
            return ForgeError(
                f"GitHub's API rate limit is exhausted ({where}).",
                f"It resets at {when}; then run release resume.",
                status=status,
            )
        hint = (
            "GitHub had a problem; run release resume later."
            if status >= 500
            else "Check the repository name and the token's permissions (contents: write)."
        )
        return ForgeError(f"GitHub answered {status} to {where}: {message}", hint, status=status)

    def _json(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        _status, raw = self._request(method, f"{self.api_url.rstrip('/')}{path}", body)
        return json.loads(raw) if raw else None

    def release_by_tag(self, tag: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._json(
                "GET", f"/repos/{self.repository}/releases/tags/{quote(tag, safe='')}"
            )
            return found
        except ForgeError as exc:
            if exc.status != 404:
                raise
        # Drafts are not found by tag name; look through the first page of releases.
        for release in self._json("GET", f"/repos/{self.repository}/releases?per_page=100"):
            if release.get("tag_name") == tag:
                return dict(release)
        return None

    def create_release(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create the release; if the answer was lost, find the one that may have been made."""
        return http.made_or_found(
            lambda: self._json("POST", f"/repos/{self.repository}/releases", fields),
            lambda: self.release_by_tag(str(fields["tag_name"])),
            exists=422,
        )

    def update_release(self, release_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        updated: dict[str, Any] = self._json(
            "PATCH", f"/repos/{self.repository}/releases/{release_id}", fields
        )
        return updated

    def assets(self, release_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._json(
            "GET", f"/repos/{self.repository}/releases/{release_id}/assets?per_page=100"
        )
        return found

    def upload_asset(
        self, release: dict[str, Any], name: str, data: bytes, content_type: str
    ) -> dict[str, Any]:
        template = str(release["upload_url"])
        base = template.split("{", 1)[0]
        url = f"{base}?{urlencode({'name': name})}"
        _status, raw = self._request("POST", url, data, content_type=content_type)
        uploaded: dict[str, Any] = json.loads(raw)
        return uploaded

    def delete_asset(self, asset_id: int) -> None:
        self._request(
            "DELETE",
            f"{self.api_url.rstrip('/')}/repos/{self.repository}/releases/assets/{asset_id}",
        )

    def asset_states(
        self, release: dict[str, Any], files: Mapping[str, str]
    ) -> dict[str, tuple[str, dict[str, Any] | None]]:
        """Each of ``files`` (name -> sha256) on ``release``: present, missing, broken (an
        upload that never completed, GitHub's "starter" state) or conflicting, with the
        asset when there is one."""
        by_name = {a["name"]: a for a in self.assets(int(release["id"]))}
        states: dict[str, tuple[str, dict[str, Any] | None]] = {}
        for name, digest in files.items():
            asset = by_name.get(name)
            if asset is None:
                states[name] = (MISSING, None)
            elif asset.get("state") not in (None, "uploaded"):
                states[name] = (BROKEN, asset)
            else:
                same = self.asset_sha256(asset) == digest
                states[name] = (PRESENT if same else CONFLICTING, asset)
        return states

    def asset_sha256(self, asset: dict[str, Any]) -> str:
        """An asset's sha256: GitHub's stated digest, else the downloaded bytes' digest."""
        stated = str(asset.get("digest") or "")
        if stated.startswith("sha256:"):
            return stated.split(":", 1)[1]
        return hashlib.sha256(self.download_asset(asset)).hexdigest()

    def download_asset(self, asset: dict[str, Any]) -> bytes:
        _status, raw = self._request("GET", str(asset["url"]), accept="application/octet-stream")
        return raw

    # The Forge protocol (release.forges.Forge) over the endpoints above.

    def find(self, tag: str) -> ForgeRelease | None:
        return self.release_by_tag(tag)

    def is_published(self, release: ForgeRelease) -> bool:
        return records.is_published(release)

    def is_sealed(self, release: ForgeRelease) -> bool:
        return bool(release.get("immutable")) and not release.get("draft")

    def matches(self, release: ForgeRelease, want: Announcement) -> bool:
        return records.says(release, want)

    def create_draft(self, want: Announcement) -> ForgeRelease:
        return self.create_release({**records.fields(want), "draft": True})

    def update(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        if self.matches(release, want):
            return release
        fields = {k: v for k, v in records.fields(want).items() if k in ("name", "body")}
        if not self.is_sealed(release):
            fields["prerelease"] = want.prerelease
        return self.update_release(int(release["id"]), fields)

    def publish(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        # make_latest explicitly: GitHub's default would mark a maintenance release latest.
        latest = "true" if want.latest and not want.prerelease else "false"
        return self.update_release(int(release["id"]), {"draft": False, "make_latest": latest})

    def file_states(
        self, release: ForgeRelease, files: Mapping[str, str]
    ) -> dict[str, tuple[str, Asset | None]]:
        return dict(self.asset_states(dict(release), files))

    def attach(self, release: ForgeRelease, path: Path) -> None:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.name.endswith(".whl"):
            kind = "application/zip"
        self.upload_asset(dict(release), path.name, path.read_bytes(), kind)

    def detach(self, asset: Asset) -> None:
        self.delete_asset(int(asset["id"]))

    # Change requests: pull requests, closed with an issue comment.

    def find_change(self, head: str, base: str) -> ChangeRequest | None:
        owner = self.repository.split("/", 1)[0]
        query = urlencode({"state": "open", "head": f"{owner}:{head}", "base": base})
        found = self._json("GET", f"/repos/{self.repository}/pulls?{query}")
        return dict(found[0]) if found else None

    def open_change(self, title: str, body: str, head: str, base: str) -> ChangeRequest:
        fields = {"title": title, "body": body, "head": head, "base": base}
        # The answer may have been lost after the pull request was made (or a run beside
        # this one made it, 422): take the one that is there.
        return http.made_or_found(
            lambda: self._json("POST", f"/repos/{self.repository}/pulls", fields),
            lambda: self.find_change(head, base),
            exists=422,
            attempts=1,
        )

    def update_change(self, change: ChangeRequest, title: str, body: str) -> ChangeRequest:
        if change.get("title") == title and (change.get("body") or "") == body:
            return change
        updated: dict[str, Any] = self._json(
            "PATCH",
            f"/repos/{self.repository}/pulls/{int(change['number'])}",
            {"title": title, "body": body},
        )
        return updated

    def close_change(self, change: ChangeRequest, comment: str) -> None:
        number = int(change["number"])
        self._json("POST", f"/repos/{self.repository}/issues/{number}/comments", {"body": comment})
        self._json("PATCH", f"/repos/{self.repository}/pulls/{number}", {"state": "closed"})

    def change_ref(self, change: ChangeRequest) -> str:
        return f"#{change['number']} ({change.get('html_url', '')})"
