"""Read a package index's simple API (PEP 691 JSON where offered, else PEP 503 HTML), and
its JSON API where it has one (PyPI's, devpi's) to cross-check a page that may be late.

"Is this file already on the index?" is decided here, by filename and sha256,
never by the text of an upload error: pypiserver answers 400 to any re-upload,
devpi 409 only to different bytes, PyPI 400 to a reused filename.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from release.errors import ReleaseError
from release.ops import CONFLICTING, MISSING, PRESENT

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


class IndexError_(ReleaseError):
    """The index could not be read; ``status`` is its HTTP answer (0: none at all)."""

    exit_code = 1

    def __init__(
        self, message: str, hint: str = "", *, status: int = 0, retryable: bool = False
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.retryable = retryable

    @property
    def refused_credentials(self) -> bool:
        return self.status in (401, 403)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


@dataclass(frozen=True)
class IndexFile:
    url: str
    sha256: str | None  # None when the index does not say


def parse_json(text: str, base: str) -> dict[str, IndexFile]:
    """filename -> file from a PEP 691 page."""
    data = json.loads(text)
    return {
        f["filename"]: IndexFile(urljoin(base, f["url"]), f.get("hashes", {}).get("sha256"))
        for f in data.get("files", [])
    }


def parse_html(text: str, base: str) -> dict[str, IndexFile]:
    """filename -> file from a PEP 503 page (hashes from ``#sha256=`` fragments)."""
    parser = _Anchors()
    parser.feed(text)
    files: dict[str, IndexFile] = {}
    for href, label in parser.links:
        url, fragment = urldefrag(href)
        name = label or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        algo, _, digest = fragment.partition("=")
        files[name] = IndexFile(
            urljoin(base, url), digest.lower() if algo == "sha256" and digest else None
        )
    return files


def project_url(index_url: str, project: str) -> str:
    from packaging.utils import canonicalize_name

    return urljoin(index_url.rstrip("/") + "/", f"{canonicalize_name(project)}/")


def _get(
    url: str, accept: str, credentials: Credentials | None, timeout: float
) -> tuple[bytes, str]:
    # No cache: a CDN or proxy in front of the index must ask the index itself, so that a
    # file just uploaded is seen as soon as the index serves it.
    request = urllib.request.Request(
        url, headers={"Accept": accept, "Cache-Control": "no-cache", "Pragma": "no-cache"}
    )
    if credentials is not None:
        request.add_header("Authorization", credentials.header())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read(), response.headers.get("Content-Type", "")


def file_sha256(entry: IndexFile, credentials: Credentials | None, timeout: float = 60) -> str:
    """The sha256 of a listed file: the index's word, else the downloaded bytes' digest."""
    if entry.sha256:
        return entry.sha256
    import hashlib

    try:
        body, _ = _get(entry.url, "*/*", credentials, timeout)
    except (urllib.error.URLError, OSError) as exc:
        raise IndexError_(
            f"{entry.url} cannot be downloaded ({exc}).", "Try again.", retryable=True
        ) from None
    return hashlib.sha256(body).hexdigest()


def read_files(
    index_url: str, project: str, credentials: Credentials | None = None, timeout: float = 30
) -> dict[str, IndexFile]:
    """Every file the index lists for ``project``; {} when the project is absent."""
    url = project_url(index_url, project)
    try:
        raw, content_type = _get(url, ACCEPT, credentials, timeout)
        body = raw.decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        if exc.code in (401, 403):
            raise IndexError_(
                f"{url} refused the credentials (HTTP {exc.code}).",
                "Check the user name and password or token for this target.",
                status=exc.code,
            ) from None
        raise IndexError_(
            f"{url} answered HTTP {exc.code}.",
            "Try again later.",
            status=exc.code,
            retryable=exc.code >= 500,
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndexError_(
            f"{url} cannot be reached ({reason}).",
            "Check the index URL and the network.",
            retryable=True,
        ) from None
    if JSON_TYPE in content_type:
        return parse_json(body, url)
    return parse_html(body, url)


def file_states(
    index_url: str, project: str, files: Mapping[str, str], credentials: Credentials | None
) -> dict[str, str]:
    """Each of ``files`` (name -> sha256) on the index: present (listed with that sha256),
    missing, or conflicting (listed with another); :class:`IndexError_` when unreadable."""
    listed = read_files(index_url, project, credentials)
    states: dict[str, str] = {}
    for name, digest in files.items():
        entry = listed.get(name)
        if entry is None:
            states[name] = MISSING
        elif file_sha256(entry, credentials) == digest:
            states[name] = PRESENT
        else:
            states[name] = CONFLICTING
    return states


def _pypi_json_files(data: Any) -> dict[str, str]:
    return {
        str(f["filename"]): str(f.get("digests", {}).get("sha256", ""))
        for f in data.get("urls", [])
    }


def _devpi_json_files(data: Any) -> dict[str, str]:
    files: dict[str, str] = {}
    for link in data["result"].get("+links", []):
        if link.get("rel") != "releasefile":
            continue
        algo, _, spec_digest = str(link.get("hash_spec", "")).partition("=")
        digest = link.get("hashes", {}).get("sha256") or (spec_digest if algo == "sha256" else "")
        files[unquote(str(link["href"]).rsplit("/", 1)[-1])] = str(digest)
    return files


def json_api_files(
    index_url: str,
    project: str,
    version: str,
    credentials: Credentials | None = None,
    timeout: float = 30,
) -> dict[str, str] | None:
    """filename -> sha256 of ``project`` ``version`` from the index's JSON API, where it has
    one: PyPI's ``/pypi/NAME/VERSION/json`` beside ``/simple/``, or devpi's JSON view of a
    version, ``/USER/INDEX/NAME/VERSION`` beside ``/USER/INDEX/+simple/``; None when the
    index has none or it cannot be read. A cross-check only: what pip sees is the simple
    page, which a CDN in front of the index may serve late; this asks the index itself."""
    from packaging.utils import canonicalize_name

    name = canonicalize_name(project)
    base = index_url.rstrip("/")
    parse: Callable[[Any], dict[str, str]]
    if base.endswith("/+simple"):
        url, parse = f"{base[: -len('+simple')]}{name}/{version}", _devpi_json_files
    elif base.endswith("/simple"):
        url, parse = f"{base[: -len('simple')]}pypi/{name}/{version}/json", _pypi_json_files
    else:
        return None
    try:
        raw, _type = _get(url, "application/json", credentials, timeout)
        return parse(json.loads(raw.decode("utf-8")))
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
