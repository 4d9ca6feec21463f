"""The local index fixtures behave like the real servers, proven with the real twine and pip.

See the docstring of tests/indexes.py for the behaviour these tests pin down.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from indexes import (
    PEP691_JSON,
    DevpiIndex,
    DevpiServer,
    FaultProxy,
    IndexTarget,
    PypiServer,
    PypiserverIndex,
    ServerProcess,
    ServerStartError,
    TinyDists,
    free_port,
    http_request,
    listed_files,
    multipart_upload_body,
    pip_download,
    sha256_of,
    simple_page,
    twine_upload,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Expected:
    """What each server answers (twine's User-Agent); ``None``: accepted."""

    bad_password: int
    reupload_identical: int | None
    reupload_different: int
    pep691: bool


EXPECTED = {
    "pypiserver": Expected(bad_password=403, reupload_identical=400, reupload_different=400,
                           pep691=False),
    "devpi": Expected(bad_password=401, reupload_identical=None, reupload_different=409,
                      pep691=True),
}


# The devpi tests run on the worker of every other devpi test (tests/scheduling.py): a
# fixture asked for by name here is not among the test's fixtures where that is decided.
@pytest.fixture(
    params=["pypiserver", pytest.param("devpi", marks=pytest.mark.xdist_group("devpi"))]
)
def index(request: pytest.FixtureRequest) -> IndexTarget:
    """Each test with this fixture runs against a fresh index of each server."""
    target = request.getfixturevalue(request.param)
    assert isinstance(target, IndexTarget)
    return target


def output(result: subprocess.CompletedProcess[str]) -> str:
    return ANSI.sub("", result.stdout + result.stderr)


def assert_http_error(result: subprocess.CompletedProcess[str], status: int) -> None:
    text = output(result)
    assert result.returncode != 0, text
    assert re.search(rf"HTTPError: {status}\b", text), text


def assert_lists_exactly(target: IndexTarget, name: str, *files: Path) -> None:
    """The index lists exactly ``files``, each with its true sha256."""
    listed = listed_files(target, name)
    assert {entry.filename: entry.sha256 for entry in listed.values()} == {
        path.name: sha256_of(path) for path in files
    }


# --- upload, listing, download ---------------------------------------------------------------


def test_upload_list_and_download(index: IndexTarget, tiny_dists: TinyDists,
                                   tmp_path: Path) -> None:
    """twine uploads; the simple page lists each file with its true sha256 (PEP 691 JSON
    where the server offers it, PEP 503 HTML with #sha256= everywhere); pip downloads the
    identical bytes."""
    result = twine_upload(index, *tiny_dists.files)
    assert result.returncode == 0, output(result)
    assert_lists_exactly(index, tiny_dists.name, *tiny_dists.files)

    asked_json = simple_page(index, tiny_dists.name, json_first=True)
    offers_json = asked_json.headers["content-type"].startswith(PEP691_JSON)
    assert offers_json is EXPECTED[index.kind].pep691
    html = simple_page(index, tiny_dists.name, json_first=False)
    assert html.headers["content-type"].startswith("text/html")
    for path in tiny_dists.files:
        assert f"#sha256={sha256_of(path)}".encode() in html.body
    from_html = listed_files(index, tiny_dists.name, json_first=False)
    assert from_html == listed_files(index, tiny_dists.name, json_first=True)

    result = pip_download(index.simple_url, f"{tiny_dists.name}=={tiny_dists.version}",
                          tmp_path, "--only-binary", ":all:")
    assert result.returncode == 0, output(result)
    assert (tmp_path / tiny_dists.wheel.name).read_bytes() == tiny_dists.wheel.read_bytes()
    # pip would build the sdist to read its metadata; fetch it from its listed link instead
    sdist = from_html[tiny_dists.sdist.name]
    assert http_request("GET", sdist.url).body == tiny_dists.sdist.read_bytes()


def test_unknown_project_is_404(index: IndexTarget) -> None:
    assert simple_page(index, "not-uploaded").status == 404
    assert listed_files(index, "not-uploaded") == {}


def test_wrong_password_is_refused(index: IndexTarget, tiny_dists: TinyDists) -> None:
    result = twine_upload(index, tiny_dists.wheel, password="not-the-password")
    assert_http_error(result, EXPECTED[index.kind].bad_password)
    assert listed_files(index, tiny_dists.name) == {}


# --- re-uploads ------------------------------------------------------------------------------


def test_pypiserver_refuses_any_reupload(pypiserver: PypiserverIndex,
                                         tiny_dists: TinyDists) -> None:
    assert twine_upload(pypiserver, tiny_dists.wheel).returncode == 0
    assert_http_error(twine_upload(pypiserver, tiny_dists.wheel), 400)
    assert_http_error(twine_upload(pypiserver, tiny_dists.changed_wheel), 400)
    assert_lists_exactly(pypiserver, tiny_dists.name, tiny_dists.wheel)
    assert (pypiserver.packages_dir / tiny_dists.wheel.name).read_bytes() == (
        tiny_dists.wheel.read_bytes())


def test_pypiserver_status_depends_on_the_client(pypiserver: PypiserverIndex,
                                                 tiny_dists: TinyDists) -> None:
    """400 for twine's User-Agent (as PyPI), 409 for other clients; 401 without credentials."""
    body, content_type = multipart_upload_body(
        tiny_dists.wheel, {":action": "file_upload", "protocol_version": "1",
                           "name": tiny_dists.name, "version": tiny_dists.version})

    def post(user_agent: str, auth: tuple[str, str] | None) -> int:
        return http_request("POST", pypiserver.upload_url, body=body, auth=auth,
                            headers={"Content-Type": content_type,
                                     "User-Agent": user_agent}).status

    assert post("release-pipeline-tests", None) == 401
    assert post("release-pipeline-tests", (pypiserver.username, "wrong")) == 403
    assert post("release-pipeline-tests", pypiserver.auth) == 200
    assert post("release-pipeline-tests", pypiserver.auth) == 409
    assert post("twine/7.0.0 CPython/3.11", pypiserver.auth) == 400


def test_devpi_accepts_identical_and_refuses_different_bytes(devpi: DevpiIndex,
                                                             tiny_dists: TinyDists) -> None:
    assert twine_upload(devpi, *tiny_dists.files).returncode == 0
    again = twine_upload(devpi, *tiny_dists.files)
    assert again.returncode == 0, output(again)
    result = twine_upload(devpi, tiny_dists.changed_wheel)
    assert_http_error(result, 409)
    assert "already exists in non-volatile index" in output(result)
    assert_lists_exactly(devpi, tiny_dists.name, *tiny_dists.files)


# --- server set-up ---------------------------------------------------------------------------


def test_devpi_index_is_offline_and_non_volatile(devpi: DevpiIndex) -> None:
    config = http_request("GET", devpi.upload_url, headers={"Accept": "application/json"})
    assert config.status == 200
    result = config.json()["result"]  # type: ignore[index]
    assert result["bases"] == []
    assert result["volatile"] is False
    assert result["type"] == "stage"
    root_pypi = http_request("GET", devpi.origin + "/root/pypi/+simple/",
                             headers={"Accept": "application/json"})
    assert root_pypi.status == 404


def test_each_devpi_fixture_is_a_new_index(devpi: DevpiIndex, devpi_session: DevpiServer,
                                           tiny_dists: TinyDists) -> None:
    assert twine_upload(devpi, tiny_dists.wheel).returncode == 0
    other = devpi_session.new_index()
    assert other.index != devpi.index
    assert listed_files(other, tiny_dists.name) == {}


def test_private_pypiserver_wants_the_password_to_read(pypiserver_private: PypiserverIndex,
                                                       tiny_dists: TinyDists,
                                                       tmp_path: Path) -> None:
    assert twine_upload(pypiserver_private, tiny_dists.wheel).returncode == 0
    assert simple_page(pypiserver_private, tiny_dists.name).status == 401
    listed = listed_files(pypiserver_private, tiny_dists.name, auth=True)
    assert listed[tiny_dists.wheel.name].sha256 == sha256_of(tiny_dists.wheel)
    wheel_url = listed[tiny_dists.wheel.name].url
    assert http_request("GET", wheel_url).status == 401
    user, password = pypiserver_private.auth
    with_credentials = pypiserver_private.simple_url.replace("http://",
                                                             f"http://{user}:{password}@")
    result = pip_download(with_credentials, f"{tiny_dists.name}=={tiny_dists.version}",
                          tmp_path)
    assert result.returncode == 0, output(result)
    assert (tmp_path / tiny_dists.wheel.name).read_bytes() == tiny_dists.wheel.read_bytes()


def test_server_is_stopped_by_pid(tmp_path: Path) -> None:
    server = PypiServer(tmp_path).start()
    try:
        pid = server.pid
        assert pid is not None
        assert http_request("GET", f"{server.origin}/health").status == 200
    finally:
        server.stop()
    assert server.pid is None
    with pytest.raises(OSError, match="refused"):  # nothing listens on the port any more
        http_request("GET", f"{server.origin}/health", timeout=2)


def test_a_server_that_dies_at_start_shows_its_output(tmp_path: Path) -> None:
    process = ServerProcess(
        "broken", [sys.executable, "-c", "import sys; sys.stderr.write('boom: bad option\\n');"
                   " sys.exit(3)"],
        tmp_path / "log", f"http://127.0.0.1:{free_port()}/",
    )
    with pytest.raises(ServerStartError, match=r"(?s)exited with code 3.*boom: bad option"):
        process.start()


def test_a_server_that_never_answers_is_stopped(tmp_path: Path) -> None:
    process = ServerProcess(
        "silent", [sys.executable, "-c", "print('waiting', flush=True); import time; "
                   "time.sleep(60)"],
        tmp_path / "log", f"http://127.0.0.1:{free_port()}/",
    )
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=r"(?s)did not answer.*waiting"):
        process.start(timeout=1.0)
    assert time.monotonic() - started < 15
    assert process.proc is None  # stopped and reaped


# --- the fault-injection proxy ---------------------------------------------------------------


def test_proxy_forwards_uploads_with_authorization(index: IndexTarget, tiny_dists: TinyDists,
                                                   fault_proxy: Callable[[IndexTarget],
                                                                         FaultProxy]) -> None:
    proxy = fault_proxy(index)
    assert proxy.target.upload_url != index.upload_url
    refused = twine_upload(proxy.target, tiny_dists.wheel, password="not-the-password")
    assert_http_error(refused, EXPECTED[index.kind].bad_password)
    result = twine_upload(proxy.target, *tiny_dists.files)
    assert result.returncode == 0, output(result)
    assert_lists_exactly(index, tiny_dists.name, *tiny_dists.files)
    # reading through the proxy gives the same listing
    assert listed_files(proxy.target, tiny_dists.name).keys() == listed_files(
        index, tiny_dists.name).keys()
    uploads = proxy.uploads
    assert [(u.upload, u.filename, u.status, u.authorization, u.forwarded) for u in uploads] == [
        (1, tiny_dists.wheel.name, EXPECTED[index.kind].bad_password, "present", True),
        (2, tiny_dists.wheel.name, 200, "present", True),
        (3, tiny_dists.sdist.name, 200, "present", True),
    ]
    assert proxy.seen[-1].authorization == "absent"  # the anonymous listing
    assert index.password not in repr(proxy.seen)
    assert "not-the-password" not in repr(proxy.seen)


def test_proxy_503_on_every_attempt_fails_twine(pypiserver: PypiserverIndex,
                                                tiny_dists: TinyDists,
                                                fault_proxy: Callable[[IndexTarget],
                                                                      FaultProxy]) -> None:
    index = pypiserver  # the faults are the proxy's own: any index will do
    proxy = fault_proxy(index)
    proxy.fail_upload_with_status(1, 503, times=5)
    result = twine_upload(proxy.target, tiny_dists.wheel)
    assert_http_error(result, 503)
    # twine retried at once, 5 attempts in all; none reached the index
    assert [(u.status, u.forwarded, u.fault) for u in proxy.uploads] == [
        (503, False, "status")] * 5
    assert listed_files(index, tiny_dists.name) == {}


def test_twine_retries_a_single_503(pypiserver: PypiserverIndex, tiny_dists: TinyDists,
                                    fault_proxy: Callable[[IndexTarget], FaultProxy]) -> None:
    index = pypiserver
    proxy = fault_proxy(index)
    proxy.fail_upload_with_status(1, 503)
    result = twine_upload(proxy.target, tiny_dists.wheel)
    assert result.returncode == 0, output(result)
    assert "Retry 1 of 5" in output(result)
    assert [(u.status, u.forwarded) for u in proxy.uploads] == [(503, False), (200, True)]
    assert_lists_exactly(index, tiny_dists.name, tiny_dists.wheel)


def test_proxy_reset_after_forwarding(index: IndexTarget, tiny_dists: TinyDists,
                                      fault_proxy: Callable[[IndexTarget], FaultProxy]) -> None:
    proxy = fault_proxy(index)
    proxy.reset_after_forwarding(1)
    result = twine_upload(proxy.target, *tiny_dists.files)
    assert result.returncode != 0
    assert "ConnectionError" in output(result) or "Connection reset" in output(result)
    # the index stored the file although twine saw no answer; twine stopped there
    assert_lists_exactly(index, tiny_dists.name, tiny_dists.wheel)
    (upload,) = proxy.uploads
    assert (upload.status, upload.upstream_status, upload.forwarded, upload.fault) == (
        None, 200, True, "reset")


def test_proxy_delay(pypiserver: PypiserverIndex,
                     fault_proxy: Callable[[IndexTarget], FaultProxy]) -> None:
    proxy = fault_proxy(pypiserver)
    proxy.delay(0.5)
    started = time.monotonic()
    assert simple_page(proxy.target, "nothing").status == 404
    assert time.monotonic() - started >= 0.5
    proxy.delay(0)
    started = time.monotonic()
    assert simple_page(proxy.target, "nothing").status == 404
    assert time.monotonic() - started < 0.5
    assert [(r.method, r.path, r.status) for r in proxy.seen] == [
        ("GET", "/simple/nothing/", 404)] * 2


def test_proxy_forwards_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="forwards only"):
        FaultProxy("http://example.invalid/")
