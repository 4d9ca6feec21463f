"""Real local package indexes for the tests, and an HTTP fault-injection proxy.

Everything listens on 127.0.0.1 only; servers run as child processes, are stopped by PID
(terminate, then kill after a timeout) and never contact another host.

Fixtures (registered in conftest.py through ``pytest_plugins``):

- ``pypiserver``: a fresh, empty :class:`PypiserverIndex` for the test, served by one
  pypiserver process per session (uploads need the password, downloads are anonymous).
- ``pypiserver_private``: the same, from a second server that also wants the password for
  listing and downloading (``-a update,download,list``).
- ``devpi``: a fresh, empty, non-volatile :class:`DevpiIndex` (``USER/idxN``, no bases) for
  the test, on one offline devpi-server per session.
- ``fault_proxy``: a factory, ``fault_proxy(target) -> FaultProxy``, stopped with the test.
- ``tiny_dists``: :class:`TinyDists`, a wheel and sdist of a tiny project built once per
  run, plus a rebuild with different content under the same name and version.

Observed behaviour (pypiserver 2.4.2, devpi-server 6.20.3, twine 7.0.0; proven by
tests/test_indexes.py):

pypiserver
  - Upload URL ``http://127.0.0.1:PORT/`` (POST, ``:action=file_upload``).
  - No credentials: 401 with ``WWW-Authenticate``; a wrong password: 403.
  - Any re-upload of an existing filename, identical bytes or not, is rejected. The status
    depends on the client: 400 when the User-Agent contains "twine" (twine's
    compatibility with PyPI), 409 for any other client. Nothing is replaced.
  - ``/simple/<project>/`` is PEP 503 HTML only: the ``Accept`` header is ignored, there
    is no PEP 691 JSON. Each link is ``/packages/<file>#sha256=<hex>`` (``--hash-algo``
    defaults to sha256). ``/<project>/json`` exists but gives only URLs, no hashes.
  - Served with ``--backend simple-dir``: the directory is listed on each request, so
    emptying it between tests gives a fresh index without a restart.

devpi-server (``--offline-mode``, ``devpi-init --no-root-pypi``, index ``bases=[]``)
  - Upload URL ``http://127.0.0.1:PORT/USER/INDEX/``; simple URL ``.../USER/INDEX/+simple/``.
  - A wrong password on upload: 401 (a wrong password on the JSON API, e.g. creating an
    index: 403).
  - Non-volatile index: an identical re-upload is accepted (200, twine exits 0); different
    bytes under the same filename: 409 "already exists in non-volatile index".
  - ``/+simple/<project>/`` offers PEP 691 JSON (``Accept:
    application/vnd.pypi.simple.v1+json`` -> ``files[].hashes.sha256``) and PEP 503 HTML
    with ``#sha256=`` fragments otherwise.
  - Start-up: devpi derives its token key with argon2 using 512 MiB and 16 passes by
    default (~30 s on 2 cores); the hidden ``--argon2-*`` options lower it for the tests.

FaultProxy
  - Forwards method, path, headers (Authorization included) and body to the upstream
    origin, keeping the client's ``Host`` header (like a reverse proxy that preserves it).
  - An "upload" is a POST with a multipart/form-data body; uploads are counted from 1.
  - twine 7 retries an upload that gets a 5xx, up to 5 attempts in all; a reset
    connection is one failed attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import html.parser
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

import pytest
from packaging.utils import canonicalize_name

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 180.0


class ServerStartError(RuntimeError):
    """A server did not answer in time or exited during start-up; carries its log."""


# --- small helpers ---------------------------------------------------------------------------


def _password() -> str:
    """A random password that never starts with '-' (a command line would read an option)."""
    return "pw" + secrets.token_urlsafe(12)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for twine, pip and build: no user index settings, no proxies."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "TWINE_", "UV_INDEX", "UV_EXTRA_INDEX", "UV_FIND_LINKS"))
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy", "force_color"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull  # no pip.conf at all (find-links, extra indexes)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = f"{HOST},localhost"
    env.update(extra)
    return env


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> HttpResponse:
    """One HTTP request with urllib (never through an environment proxy); no raise on 4xx."""
    all_headers = dict(headers or {})
    if auth is not None:
        all_headers["Authorization"] = basic_auth(*auth)
    request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpResponse(response.status, _lower(response.headers.items()),
                                response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpResponse(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {key.lower(): value for key, value in items}


def basic_auth(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _log_tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-limit:]


# --- child processes -------------------------------------------------------------------------


class ServerProcess:
    """A server child process with its output in a log file; stopped by PID."""

    def __init__(self, name: str, argv: list[str], log_path: Path, ready_url: str) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.ready_url = ready_url
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=clean_env(), preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {code} during start-up "
                    f"({' '.join(self.argv)}); its output:\n{_log_tail(self.log_path)}"
                )
            try:
                status = http_request("GET", self.ready_url, timeout=1.0).status
            except OSError:
                status = None
            if status is not None and status < 500:
                return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{self.name} did not answer {self.ready_url} within {timeout:.0f} s "
                    f"({' '.join(self.argv)}); its output:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _die_with_parent() -> None:
    """In the child: on Linux, get SIGTERM when the test process dies, even by SIGKILL."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _start_on_free_port(make: Callable[[int], ServerProcess], attempts: int = 3) -> int:
    """Start ``make(port)`` on a free port; retry when another process took the port."""
    for attempt in range(attempts):
        port = free_port()
        process = make(port)
        try:
            process.start()
        except ServerStartError as error:
            in_use = "in use" in str(error).lower()
            if not in_use or attempt == attempts - 1:
                raise
            continue
        return port
    raise AssertionError("unreachable")


# --- index targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexTarget:
    """Where and how to upload and read: what a publish target needs."""

    kind: str  # "pypiserver" or "devpi"
    upload_url: str  # for twine --repository-url
    simple_url: str  # PEP 503 root, ends with "/"
    username: str
    password: str = field(repr=False)

    @property
    def origin(self) -> str:
        parts = urllib.parse.urlsplit(self.upload_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def project_url(self, project: str) -> str:
        """The simple page of ``project`` (normalised name, trailing slash)."""
        return f"{self.simple_url}{canonicalize_name(project)}/"

    def via(self, origin: str) -> IndexTarget:
        """The same index reached through another origin (e.g. a proxy)."""
        old = self.origin
        return replace(self, upload_url=origin + self.upload_url[len(old):],
                       simple_url=origin + self.simple_url[len(old):])


@dataclass(frozen=True)
class PypiserverIndex(IndexTarget):
    packages_dir: Path = Path()


@dataclass(frozen=True)
class DevpiIndex(IndexTarget):
    index: str = ""  # "USER/NAME"
    volatile: bool = False


# --- pypiserver ------------------------------------------------------------------------------


class PypiServer:
    """``pypiserver run`` with an htpasswd user, on 127.0.0.1 and a free port."""

    def __init__(self, root: Path, *, authenticate: Sequence[str] = ("update",),
                 username: str = "uploader", password: str | None = None) -> None:
        self.root = root
        self.authenticate = tuple(authenticate)
        self.username = username
        self.password = password or _password()
        self.packages_dir = root / "packages"
        self.htpasswd = root / "htpasswd"
        self.log_path = root / "pypiserver.log"
        self.port = 0
        self._process: ServerProcess | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def target(self) -> PypiserverIndex:
        return PypiserverIndex(
            kind="pypiserver", upload_url=f"{self.origin}/", simple_url=f"{self.origin}/simple/",
            username=self.username, password=self.password, packages_dir=self.packages_dir,
        )

    def write_htpasswd(self) -> None:
        import warnings

        with warnings.catch_warnings():  # passlib 1.7.4 imports the deprecated crypt module
            warnings.simplefilter("ignore", DeprecationWarning)
            from passlib.apache import HtpasswdFile
            from passlib.hash import sha256_crypt

        # sha256_crypt ("$5$"), which pypiserver's passlib context accepts; 5000 rounds
        # (the glibc default) keeps each authenticated request fast.
        htpasswd = HtpasswdFile(str(self.htpasswd), new=True)
        htpasswd.set_hash(self.username, sha256_crypt.using(rounds=5000).hash(self.password))
        htpasswd.save()

    def start(self) -> PypiServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.packages_dir.mkdir(exist_ok=True)
        self.write_htpasswd()

        def make(port: int) -> ServerProcess:
            self.port = port
            self._process = ServerProcess(
                "pypiserver",
                [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", HOST,
                 "-P", str(self.htpasswd), "-a", ",".join(self.authenticate),
                 "--disable-fallback", "--backend", "simple-dir", "--hash-algo", "sha256",
                 str(self.packages_dir)],
                self.log_path, f"http://{HOST}:{port}/health",
            )
            return self._process

        _start_on_free_port(make)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def reset(self) -> None:
        """Remove every stored file: the index is empty again."""
        for path in self.packages_dir.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def __enter__(self) -> PypiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- devpi-server ----------------------------------------------------------------------------

# devpi's own defaults (512 MiB, 16 passes) cost ~30 s at start-up; the key only signs
# login tokens of this throw-away server.
_DEVPI_FAST_ARGON2 = ["--argon2-memory-cost", "8", "--argon2-parallelism", "1",
                      "--argon2-time-cost", "1"]


class DevpiServer:
    """An offline devpi-server without root/pypi, with one uploading user."""

    def __init__(self, root: Path, *, username: str = "uploader",
                 password: str | None = None) -> None:
        self.root = root
        self.serverdir = root / "server"
        self.log_path = root / "devpi-server.log"
        self.root_password = _password()
        self.username = username
        self.password = password or _password()
        self.port = 0
        self._process: ServerProcess | None = None
        self._counter = 0
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> DevpiServer:
        self.root.mkdir(parents=True, exist_ok=True)
        init = subprocess.run(
            [sys.executable, "-c",
             "import sys; from devpi_server.init import init; sys.exit(init())",
             "--serverdir", str(self.serverdir), "--no-root-pypi",
             f"--root-passwd={self.root_password}"],
            capture_output=True, text=True, env=clean_env(), timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if init.returncode != 0:
            raise ServerStartError(f"devpi-init failed ({init.returncode}):\n"
                                   f"{init.stdout}{init.stderr}")

        def make(port: int) -> ServerProcess:
            self.port = port
            self._process = ServerProcess(
                "devpi-server",
                [sys.executable, "-m", "devpi_server", "--serverdir", str(self.serverdir),
                 "--host", HOST, "--port", str(port), "--offline-mode", "--threads", "8",
                 *_DEVPI_FAST_ARGON2],
                self.log_path, f"http://{HOST}:{port}/+api",
            )
            return self._process

        try:
            _start_on_free_port(make)
            self._create_user(self.username, self.password)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def _api(self, method: str, path: str, payload: dict[str, object],
             auth: tuple[str, str] | None = None) -> HttpResponse:
        return http_request(
            method, f"{self.origin}/{path}", body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            auth=auth,
        )

    def _create_user(self, username: str, password: str) -> None:
        response = self._api("PUT", username,
                             {"password": password, "email": f"{username}@example.invalid"})
        if response.status not in (200, 201):
            raise ServerStartError(f"devpi: creating user {username!r} answered "
                                   f"{response.status}: {response.body[:500]!r}")

    def new_index(self, *, volatile: bool = False, name: str | None = None) -> DevpiIndex:
        """A new empty stage index of the session user, with no bases (nothing mirrored)."""
        if name is None:
            with self._lock:
                self._counter += 1
                name = f"idx{self._counter}"
        response = self._api(
            "PUT", f"{self.username}/{name}",
            {"type": "stage", "bases": [], "volatile": volatile},
            auth=(self.username, self.password),
        )
        if response.status not in (200, 201):
            raise RuntimeError(f"devpi: creating index {name!r} answered {response.status}: "
                               f"{response.body[:500]!r}")
        base = f"{self.origin}/{self.username}/{name}/"
        return DevpiIndex(
            kind="devpi", upload_url=base, simple_url=f"{base}+simple/",
            username=self.username, password=self.password,
            index=f"{self.username}/{name}", volatile=volatile,
        )

    def __enter__(self) -> DevpiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- reading an index ------------------------------------------------------------------------

PEP691_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class ListedFile:
    filename: str
    url: str  # absolute, without the fragment
    sha256: str | None


class _LinkParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
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


def simple_page(target: IndexTarget, project: str, *, json_first: bool = True,
                auth: bool = False) -> HttpResponse:
    accept = f"{PEP691_JSON}, text/html;q=0.1" if json_first else "text/html"
    return http_request("GET", target.project_url(project), headers={"Accept": accept},
                        auth=target.auth if auth else None)


def listed_files(target: IndexTarget, project: str, *, json_first: bool = True,
                 auth: bool = False) -> dict[str, ListedFile]:
    """The files of ``project`` on the index (PEP 691 JSON if offered, else PEP 503 HTML).

    An unknown project gives ``{}``.
    """
    url = target.project_url(project)
    response = simple_page(target, project, json_first=json_first, auth=auth)
    if response.status == 404:
        return {}
    if response.status != 200:
        raise RuntimeError(f"GET {url} answered {response.status}")
    files: dict[str, ListedFile] = {}
    if response.headers.get("content-type", "").startswith(PEP691_JSON):
        data = response.json()
        assert isinstance(data, dict)
        for entry in data["files"]:
            files[entry["filename"]] = ListedFile(
                entry["filename"], urllib.parse.urljoin(url, entry["url"]),
                entry.get("hashes", {}).get("sha256"),
            )
        return files
    parser = _LinkParser()
    parser.feed(response.body.decode("utf-8"))
    for href, text in parser.links:
        absolute, _, fragment = urllib.parse.urljoin(url, href).partition("#")
        digest = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        filename = text or urllib.parse.unquote(absolute.rsplit("/", 1)[-1])
        files[filename] = ListedFile(filename, absolute, digest)
    return files


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- command-line clients --------------------------------------------------------------------


def twine_upload(target: IndexTarget, *files: Path, username: str | None = None,
                 password: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``twine upload`` command; the caller checks ``returncode`` and output.

    Output is plain (no colour) and wide (no wrapped lines), for matching.
    """
    return subprocess.run(
        [sys.executable, "-m", "twine", "upload", "--repository-url", target.upload_url,
         "-u", username if username is not None else target.username,
         f"--password={password if password is not None else target.password}",
         "--non-interactive", "--disable-progress-bar", *map(str, files)],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
        env=clean_env(NO_COLOR="1", TERM="dumb", COLUMNS="200"),
    )


def pip_download(simple_url: str, requirement: str, dest: Path,
                 *extra: str) -> subprocess.CompletedProcess[str]:
    """The real ``pip download --no-deps`` from one index only, without a cache."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
         "--index-url", simple_url, "-d", str(dest), *extra, requirement],
        capture_output=True, text=True, env=clean_env(), timeout=COMMAND_TIMEOUT, check=False,
    )


def multipart_upload_body(path: Path, fields: dict[str, str]) -> tuple[bytes, str]:
    """A ``file_upload`` form as twine sends it; returns (body, content type)."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + path.read_bytes() + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- a tiny project --------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyDists:
    name: str
    version: str
    wheel: Path
    sdist: Path
    changed_wheel: Path  # same name and version, different content
    changed_sdist: Path

    @property
    def files(self) -> tuple[Path, Path]:
        return (self.wheel, self.sdist)


def _write_tiny_project(directory: Path, name: str, version: str, value: str) -> None:
    module = name.replace("-", "_")
    (directory / module).mkdir(parents=True)
    (directory / module / "__init__.py").write_text(
        f'"""A tiny package for the index tests."""\n\nVALUE = {value!r}\n', encoding="utf-8")
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.9,<4"]\nbuild-backend = "flit_core.buildapi"\n'
        f'\n[project]\nname = "{name}"\nversion = "{version}"\n'
        'description = "A tiny package for the index tests."\n', encoding="utf-8")


def _build_command(project: Path, outdir: Path) -> list[str]:
    installer = ["--installer", "uv"] if _have_uv() else []
    return [sys.executable, "-m", "build", *installer, "--sdist", "--wheel",
            "--outdir", str(outdir), str(project)]


def _have_uv() -> bool:
    import importlib.util

    return shutil.which("uv") is not None or importlib.util.find_spec("uv") is not None


def build_tiny_dists(workdir: Path, *, name: str = "rp-tiny", version: str = "0.1.0") -> TinyDists:
    """Build the tiny project twice (different module content), in parallel."""
    builds: list[tuple[subprocess.Popen[str], Path, Path]] = []
    for variant, value in (("original", "one"), ("changed", "two")):
        project = workdir / variant / "project"
        outdir = workdir / variant / "dist"
        _write_tiny_project(project, name, version, value)
        log = workdir / f"build-{variant}.log"
        with log.open("w") as out:
            builds.append((subprocess.Popen(_build_command(project, outdir), stdout=out,
                                            stderr=subprocess.STDOUT, text=True,
                                            env=clean_env()), outdir, log))
    found: list[tuple[Path, Path]] = []
    for proc, outdir, log in builds:
        try:
            code = proc.wait(COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -1
        if code != 0:
            raise RuntimeError(f"building the tiny project failed:\n{_log_tail(log)}")
        wheels, sdists = sorted(outdir.glob("*.whl")), sorted(outdir.glob("*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            raise RuntimeError(f"expected one wheel and one sdist: {list(outdir.iterdir())}")
        found.append((wheels[0], sdists[0]))
    (wheel, sdist), (changed_wheel, changed_sdist) = found
    if (wheel.name, sdist.name) != (changed_wheel.name, changed_sdist.name):
        raise RuntimeError("the rebuild changed a filename")
    if sha256_of(wheel) == sha256_of(changed_wheel):
        raise RuntimeError("the rebuild with other content gave identical bytes")
    return TinyDists(name, version, wheel, sdist, changed_wheel, changed_sdist)


# --- the fault-injection proxy ---------------------------------------------------------------

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length",
})
_FILENAME = re.compile(rb'name="content"; filename="([^"\r\n]+)"')


@dataclass(frozen=True)
class SeenRequest:
    """One request the proxy handled; no secret is kept."""

    method: str
    path: str
    status: int | None  # what the client got; None when the connection was reset
    authorization: Literal["present", "absent"]
    upload: int | None = None  # 1-based ordinal among uploads (multipart POSTs)
    filename: str | None = None  # the uploaded file's name
    forwarded: bool = True  # the upstream index saw the request
    upstream_status: int | None = None
    fault: str | None = None  # "status", "reset", "stale" or None
    cache_control: str | None = None  # the request's Cache-Control header


@dataclass
class _Fault:
    kind: Literal["status", "reset"]
    status: int = 0


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the proxy keeps its own record

    def do_GET(self) -> None:
        self.server.proxy._handle(self)

    do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reset(self) -> None:
        """Close the client connection at once, with a TCP reset and no response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        self.connection.close()


class FaultProxy:
    """A forwarding HTTP proxy in front of one index, with programmable faults.

    Faults: ``fail_upload_with_status(n, status)`` answers the n-th upload itself without
    forwarding it; ``reset_after_forwarding(n)`` forwards the n-th upload (the index stores
    it) and then resets the client connection with no response; ``delay(seconds)`` holds
    every later response that long; ``serve_stale_pages(seconds)`` answers the reads of a
    page, for that long after each upload, with the copy it served before the upload (a CDN
    that lags behind the index, and ignores ``Cache-Control: no-cache``). The proxy never
    retries.
    """

    def __init__(self, upstream: str | IndexTarget, *, timeout: float = 30.0) -> None:
        self._index = upstream if isinstance(upstream, IndexTarget) else None
        if isinstance(upstream, IndexTarget):
            upstream = upstream.origin
        parts = urllib.parse.urlsplit(upstream)
        if parts.hostname not in (HOST, "localhost") or parts.scheme != "http":
            raise ValueError(f"the proxy forwards only to http://{HOST}, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_origin = f"http://{parts.netloc}"
        self.timeout = timeout
        self._faults: dict[int, _Fault] = {}
        self._delay = 0.0
        self._stale_for = 0.0
        self._stale_until = 0.0
        self._pages: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {}
        self._uploads = 0
        self._seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FaultProxy:
        server = _ProxyServer((HOST, 0), _ProxyHandler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._server is not None, "the proxy is not running"
        return f"http://{HOST}:{self._server.server_address[1]}"

    def url(self, upstream_url: str) -> str:
        """``upstream_url`` rewritten to go through the proxy."""
        if not upstream_url.startswith(self.upstream_origin):
            raise ValueError(f"{upstream_url!r} is not on {self.upstream_origin}")
        return self.origin + upstream_url[len(self.upstream_origin):]

    def proxied(self, target: IndexTarget) -> IndexTarget:
        """``target`` reached through the proxy."""
        return target.via(self.origin)

    @property
    def target(self) -> IndexTarget:
        """The index the proxy was made for, reached through the proxy."""
        if self._index is None:
            raise AttributeError("this proxy was made for an origin, not an index")
        return self.proxied(self._index)

    # faults
    def fail_upload_with_status(self, n: int, status: int = 503, *, times: int = 1) -> None:
        """Answer uploads n, n+1, ..., n+times-1 with ``status`` without forwarding them.

        twine retries an upload that got a 5xx, up to 5 attempts in all, at once: to make
        ``twine upload`` of one file fail with a 5xx, fail ``times=5`` uploads.
        """
        with self._lock:
            for ordinal in range(n, n + times):
                self._faults[ordinal] = _Fault("status", status)

    def reset_after_forwarding(self, n: int) -> None:
        with self._lock:
            self._faults[n] = _Fault("reset")

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = max(0.0, seconds)

    def serve_stale_pages(self, seconds: float) -> None:
        """For ``seconds`` after each upload the index accepted, answer every GET (but file
        downloads) with the page as the proxy served it before that upload."""
        with self._lock:
            self._stale_for = max(0.0, seconds)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delay = 0.0
            self._stale_for = 0.0
            self._stale_until = 0.0

    # record
    @property
    def seen(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._seen)

    @property
    def upload_count(self) -> int:
        """Uploads seen so far; fault ordinals count from the proxy's start."""
        with self._lock:
            return self._uploads

    @property
    def uploads(self) -> list[SeenRequest]:
        return [request for request in self.seen if request.upload is not None]

    # the work, on the server's threads
    def _handle(self, handler: _ProxyHandler) -> None:
        body = handler.read_body()
        is_upload = (handler.command == "POST" and handler.headers.get("Content-Type", "")
                     .lower().startswith("multipart/form-data"))
        with self._lock:
            ordinal: int | None = None
            fault: _Fault | None = None
            if is_upload:
                self._uploads += 1
                ordinal = self._uploads
                fault = self._faults.pop(ordinal, None)
            delay = self._delay
        match = _FILENAME.search(body) if is_upload else None
        base = SeenRequest(
            method=handler.command, path=handler.path, status=None,
            authorization="present" if handler.headers.get("Authorization") else "absent",
            upload=ordinal, filename=match.group(1).decode("utf-8", "replace") if match else None,
            cache_control=handler.headers.get("Cache-Control"),
        )
        page = handler.command == "GET" and "/packages/" not in handler.path
        with self._lock:
            stale = self._pages.get(handler.path) if time.monotonic() < self._stale_until else None
        if page and stale is not None:
            self._record(replace(base, status=stale[0], forwarded=False, fault="stale"))
            handler.reply(*stale)
            return
        if fault is not None and fault.kind == "status":
            self._wait(delay)
            message = f"injected fault: {fault.status}\n".encode()
            # Recorded before the answer: a client that got it must find it in `seen`.
            self._record(replace(base, status=fault.status, forwarded=False, fault="status"))
            handler.reply(fault.status, [("Content-Type", "text/plain")], message)
            return
        try:
            status, headers, payload = self._forward(handler, body)
        except OSError as error:
            self._record(replace(base, status=502, forwarded=False))
            handler.reply(502, [("Content-Type", "text/plain")],
                          f"proxy: upstream failed: {type(error).__name__}\n".encode())
            return
        if fault is not None:  # reset after forwarding
            self._record(replace(base, upstream_status=status, fault="reset"))
            handler.reset()
            return
        with self._lock:
            if page and status == 200:
                self._pages[handler.path] = (status, headers, payload)
            if is_upload and status == 200 and self._stale_for:
                self._stale_until = time.monotonic() + self._stale_for
        self._wait(delay)
        self._record(replace(base, status=status, upstream_status=status))
        handler.reply(status, headers, payload)

    def _forward(self, handler: _ProxyHandler,
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                          timeout=self.timeout)
        try:
            conn.putrequest(handler.command, handler.path, skip_host=True,
                            skip_accept_encoding=True)
            for key, value in handler.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    conn.putheader(key, value)
            if body or handler.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self._seen.append(request)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pypiserver_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    """One pypiserver for the session: uploads need the password, downloads are anonymous."""
    with PypiServer(tmp_path_factory.mktemp("pypiserver")) as server:
        yield server


@pytest.fixture
def pypiserver(pypiserver_session: PypiServer) -> Iterator[PypiserverIndex]:
    """An empty pypiserver index for this test (the session server, emptied)."""
    pypiserver_session.reset()
    yield pypiserver_session.target
    pypiserver_session.reset()


@pytest.fixture(scope="session")
def pypiserver_private_session(tmp_path_factory: pytest.TempPathFactory,
                               ) -> Iterator[PypiServer]:
    """A pypiserver that wants the password for uploads, listings and downloads."""
    with PypiServer(tmp_path_factory.mktemp("pypiserver-private"),
                    authenticate=("update", "download", "list")) as server:
        yield server


@pytest.fixture
def pypiserver_private(pypiserver_private_session: PypiServer) -> Iterator[PypiserverIndex]:
    pypiserver_private_session.reset()
    yield pypiserver_private_session.target
    pypiserver_private_session.reset()


@pytest.fixture(scope="session")
def devpi_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    """One offline devpi-server for the session, with an uploading user."""
    with DevpiServer(tmp_path_factory.mktemp("devpi")) as server:
        yield server


@pytest.fixture
def devpi(devpi_session: DevpiServer) -> DevpiIndex:
    """A new empty non-volatile devpi index (no bases) for this test."""
    return devpi_session.new_index()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[IndexTarget], FaultProxy]]:
    """``fault_proxy(target)`` starts a proxy in front of ``target``; ``proxy.target`` is
    the same index reached through it. Every proxy stops with the test."""
    started: list[FaultProxy] = []

    def make(target: IndexTarget) -> FaultProxy:
        proxy = FaultProxy(target).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="session")
def tiny_dists(tmp_path_factory: pytest.TempPathFactory) -> TinyDists:
    """A tiny project's wheel and sdist, and a rebuild with other content, same version:
    built once per run, by the first xdist worker that asks (the others wait for it and
    read the same files, which no test changes)."""
    import fcntl
    import tempfile

    from conftest import run_shared_dir

    root = run_shared_dir(tmp_path_factory, "tiny-dists")
    built = root / "built.json"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built.exists():
            fields = json.loads(built.read_text(encoding="utf-8"))
            return TinyDists(**{k: Path(v) if k not in ("name", "version") else v
                                for k, v in fields.items()})
        dists = build_tiny_dists(Path(tempfile.mkdtemp(dir=root)))
        built.write_text(json.dumps({k: str(v) for k, v in vars(dists).items()}),
                         encoding="utf-8")
        return dists
