"""The index target: a twine upload to a PEP 503/691 package index, idempotent by content.

Before each upload the index's simple page is read: the same filename with the same
sha256 counts as done; the same filename with another sha256 is a hard error (never
overwritten, never skipped).  Connection errors and 5xx answers are retried a bounded
number of times, re-reading the index first, because the file may have been stored
before the connection broke.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.credentials import Resolved, missing_hint, require, resolve
from release.ops import CONFLICTING, MISSING, PRESENT
from release.ops.hashing import matches
from release.ops.index import (
    Credentials,
    IndexError_,
    file_sha256,
    file_states,
    json_api_files,
    read_files,
)
from release.runner import mask
from release.targets import UPLOADED, TargetError, TargetFacts

if TYPE_CHECKING:
    from packaging.version import Version

    from release.config import Target as TargetConfig

RETRIES = 3  # failed attempts retried per file (connection errors, 5xx)
BACKOFF_SECONDS = 0.5
#: How long a file the index accepted may take to appear on its simple page (a CDN or a
#: mirror in front of it may serve an older page for a while), polled with backoff.
VISIBLE_SECONDS = 30.0
POLL_SECONDS = (0.25, 4.0)  # the first wait between reads, and the longest


@dataclass
class IndexTarget:
    config: TargetConfig
    project: str
    resolved: Resolved | None  # None: no credentials found (read-only use)
    secrets: list[str]
    log: Callable[[str], None]

    @classmethod
    def connect(
        cls,
        config: TargetConfig,
        project: str,
        environ: Mapping[str, str],
        secrets: list[str] | None,
        log: Callable[[str], None],
    ) -> IndexTarget:
        if secrets is None:
            return cls(config, project, resolve(config, environ), [], log)
        return cls(config, project, require(config, environ, secrets), secrets, log)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def _credentials(self) -> Credentials | None:
        return self.resolved.credentials if self.resolved else None

    def _states(self, files: Mapping[str, str]) -> dict[str, str]:
        return file_states(self.config.index_url, self.project, files, self._credentials)

    def _error(self, exc: IndexError_) -> TargetError:
        message = exc.message
        if exc.refused_credentials and self.resolved is not None:
            message += f" (credentials from {self.resolved.source})"
        return TargetError(message, exc.hint)

    def probe(self, files: Mapping[str, str]) -> dict[str, str]:
        try:
            return self._states(files)
        except IndexError_ as exc:
            raise self._error(exc) from None

    def confirm(self, files: Mapping[str, str]) -> dict[str, str]:
        try:
            return self._served(files)
        except IndexError_ as exc:
            raise TargetError(exc.message, exc.hint) from None

    def _served(self, files: Mapping[str, str]) -> dict[str, str]:
        """The states of ``files`` once the index serves every one of them, or when one
        conflicts, or after :data:`VISIBLE_SECONDS`: the simple page is read again (no
        caches) with growing waits, as long as a file is missing."""
        deadline = time.monotonic() + VISIBLE_SECONDS
        wait, longest = POLL_SECONDS
        while True:
            try:
                states = self._states(files)
            except IndexError_ as exc:
                if not exc.retryable or time.monotonic() >= deadline:
                    raise
                states = {}
            if states and (
                all(s == PRESENT for s in states.values()) or CONFLICTING in states.values()
            ):
                return states
            left = deadline - time.monotonic()
            if left <= 0:
                return states
            time.sleep(min(wait, left))
            wait = min(wait * 2, longest)

    def state(self, files: Mapping[str, str]) -> dict[str, str]:
        try:
            return self._states(files)
        except IndexError_ as exc:
            return {name: f"unknown: {exc.message}" for name in files}

    def survey(self, version: Version) -> TargetFacts:
        from release.ops.dists import InvalidDistName, parse_name

        source = self.resolved.source if self.resolved else None
        hints = {
            "credentials_hint": missing_hint(self.config),
            "error_hint": "Check `index-url` and the network.",
        }
        try:
            listed = read_files(self.config.index_url, self.project, self._credentials)
        except IndexError_ as exc:
            return TargetFacts(self.name, source, (), exc.message, **hints)
        same = []
        for name in listed:
            try:
                parsed = parse_name(name)[1]
            except InvalidDistName:
                continue
            if parsed == version:
                same.append(name)
        return TargetFacts(self.name, source, tuple(same), "", **hints)

    def _json_sha256(self, name: str) -> str | None:
        """The sha256 of ``name`` by the index's JSON API; None when it does not list the
        file or has no JSON API (:func:`release.ops.index.json_api_files`)."""
        version = _version_of(name)
        if version is None:
            return None
        found = json_api_files(self.config.index_url, self.project, version, self._credentials)
        return (found or {}).get(name) or None

    def upload(self, name: str, path: Path, digest: str) -> str:
        try:
            return self._publish_file(name, path, digest)
        except IndexError_ as exc:
            raise self._error(exc) from None

    def _twine(self, path: Path) -> tuple[int, str]:
        """Upload one file with twine's API; (HTTP status, text). 0 for a connection failure."""
        import requests
        from twine import exceptions as twine_exceptions
        from twine.commands.upload import upload
        from twine.settings import Settings

        from release.ops.dists import twine_output

        assert self.resolved is not None  # connected with required credentials
        creds = self.resolved.credentials
        settings = Settings(
            repository_url=self.resolved.repository_url or None,
            repository_name=self.config.repository or "pypi",
            username=None if creds is None else creds.username,
            password=None if creds is None else creds.password,
            non_interactive=True,
            disable_progress_bar=True,
        )
        captured = io.StringIO()
        try:
            with twine_output() as captured:
                upload(settings, [str(path)])
            return 200, ""
        except requests.HTTPError as exc:
            response = exc.response
            status = response.status_code if response is not None else 0
            text = response.text if response is not None else str(exc)
            return status, mask(
                f"{response.reason if response is not None else ''} {text}", self.secrets
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            return 0, mask(str(exc), self.secrets)
        except twine_exceptions.TwineException as exc:
            raise TargetError(
                f"twine refused to upload {path.name} to {self.name}: "
                f"{mask(str(exc), self.secrets)}",
                "Fix the target's configuration.",
            ) from None
        finally:
            self.log(mask(captured.getvalue(), self.secrets))

    def _publish_file(self, name: str, path: Path, digest: str) -> str:
        """Make ``name`` present with its verified sha256; return how."""
        files = {name: digest}
        assert self.resolved is not None  # connected with required credentials
        uploaded = False
        failures = 0
        last_error = ""
        while True:
            try:
                state = self._states(files).get(name, MISSING)
            except IndexError_ as exc:
                if not exc.retryable or failures >= RETRIES:
                    raise
                failures, last_error = failures + 1, exc.message
                time.sleep(BACKOFF_SECONDS * 2 ** (failures - 1))
                continue
            if state == PRESENT:
                return UPLOADED if uploaded or failures else PRESENT
            if state == CONFLICTING:
                listed = read_files(self.config.index_url, self.project, self._credentials)
                theirs = file_sha256(listed[name], self._credentials) if name in listed else "?"
                raise _taken(self.name, name, theirs, digest, "on the index")
            if uploaded and self._json_sha256(name) == digest:
                return UPLOADED  # stored; the simple page is late, and confirm() waits again
            if uploaded or failures > RETRIES:
                raise TargetError(
                    f"{name} is not on {self.name} after "
                    + (
                        "an upload that was accepted."
                        if uploaded and not last_error
                        else f"{failures} failed attempt(s); last: {last_error}."
                    ),
                    "Run release resume when the index works again; files already there are kept.",
                )
            if not matches(path, digest):
                raise TargetError(
                    f"{path} no longer has the verified sha256 {digest}.",
                    "Run release resume to rebuild and verify it.",
                )
            status, text = self._twine(path)
            if status == 200:
                uploaded = True
                self._served(files)  # an index may list a file a while after accepting it
                continue  # confirmed through the index on the next pass
            if status in (401, 403):
                raise TargetError(
                    f"{self.name} refused the credentials from {self.resolved.source} "
                    f"(HTTP {status}).",
                    missing_hint(self.config),
                )
            if status == 0 or status >= 500:
                failures += 1
                last_error = f"HTTP {status or 'connection failure'}: {text.strip()[:300]}"
                if failures <= RETRIES:
                    time.sleep(BACKOFF_SECONDS * 2 ** (failures - 1))
                continue
            if status in (400, 409):
                # Not decided by the error's text: the file may be there, on a page served late.
                states = self._served(files)
                if states.get(name) == PRESENT:
                    return UPLOADED
                if states.get(name) == CONFLICTING:
                    continue  # reported as a conflict on the next pass
                # The page may be later still: the index's JSON API, where it has one,
                # tells a file it has (an answer to a re-upload) from a name it refuses.
                by_json = self._json_sha256(name)
                if by_json == digest:
                    return UPLOADED  # already there; confirm() waits for the page again
                if by_json:
                    raise _taken(self.name, name, by_json, digest, "by its JSON API")
                raise TargetError(
                    f"{self.name} rejected {name} (HTTP {status}: {text.strip()[:300]}), and "
                    "the file is not on the index: that filename was probably used before and "
                    "deleted, and an index never accepts a filename twice.",
                    "Release a .post version or the next version.",
                )
            raise TargetError(
                f"{self.name} rejected {name} (HTTP {status}): {text.strip()[:300]}",
                "Fix the cause and run release resume.",
            )


def _taken(target: str, name: str, theirs: str, digest: str, where: str) -> TargetError:
    return TargetError(
        f"{target} already has a different {name} (sha256 {theirs} {where}, {digest} in "
        "this release). It is never overwritten.",
        "Release a new version (or a .post release); that filename is taken.",
    )


def _version_of(name: str) -> str | None:
    from release.ops.dists import InvalidDistName, parse_name

    try:
        return str(parse_name(name)[1])
    except InvalidDistName:
        return None
