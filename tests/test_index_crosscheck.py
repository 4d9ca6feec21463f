"""The index's JSON API as the cross-check of an upload while its simple page lags.

A real devpi-server (its JSON view of a version, ``/USER/INDEX/NAME/VERSION``) behind the
fault proxy, which serves the project's simple page as it was before the last accepted
upload (a CDN behind the index) for longer than the upload waits for it. Then the JSON
API tells the three cases apart: the index has the file (devpi's own answer to an
identical re-upload, or the 400 pypiserver and PyPI give one) and it counts as uploaded;
the name holds another file (devpi's 409) and that is a conflict, named as one; the name
is not there and the refusal is the used-and-deleted one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from indexes import DevpiIndex, FaultProxy, IndexTarget, TinyDists, sha256_of, twine_upload

from release.config import Target as TargetConfig
from release.ops import MISSING, PRESENT
from release.ops.index import json_api_files, read_files
from release.targets import UPLOADED, TargetError
from release.targets import index as index_target

pytestmark = pytest.mark.usefixtures("no_ambient_credentials")

PROJECT = "rp-tiny"
#: How long the proxy serves the page from before an accepted upload: far longer than the
#: upload's wait for it (VISIBLE_SECONDS, made short here).
LAG_SECONDS = 60.0


def connect(index: IndexTarget) -> index_target.IndexTarget:
    config = TargetConfig(name="devpi", repository_url=index.upload_url,
                          index_url=index.simple_url, username_env="DEVPI_USERNAME",
                          password_env="DEVPI_PASSWORD")
    environ = {"DEVPI_USERNAME": index.username, "DEVPI_PASSWORD": index.password}
    return index_target.IndexTarget.connect(config, PROJECT, environ, [], lambda _text: None)


@pytest.fixture
def lagging(devpi: DevpiIndex, fault_proxy: Callable[[IndexTarget], FaultProxy],
            tiny_dists: TinyDists, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    """devpi with the sdist, and the wheel uploaded through a proxy whose simple page of
    the project lags behind: it lists the sdist alone for LAG_SECONDS."""
    assert twine_upload(devpi, tiny_dists.sdist).returncode == 0
    proxy = fault_proxy(devpi)
    assert list(read_files(proxy.target.simple_url, PROJECT)) == [tiny_dists.sdist.name]
    proxy.serve_stale_pages(LAG_SECONDS)
    done = twine_upload(proxy.target, tiny_dists.wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    monkeypatch.setattr(index_target, "VISIBLE_SECONDS", 1.0)
    monkeypatch.setattr(index_target, "POLL_SECONDS", (0.1, 0.5))
    return proxy


def stale_reads(proxy: FaultProxy) -> list[str]:
    return [r.path for r in proxy.seen if r.fault == "stale"]


def json_reads(proxy: FaultProxy, version: str) -> list[str]:
    return [r.path for r in proxy.seen
            if r.method == "GET" and r.path.rstrip("/").endswith(f"/{PROJECT}/{version}")]


def test_devpis_json_view_lists_a_versions_files_with_their_sha256(
        devpi: DevpiIndex, tiny_dists: TinyDists) -> None:
    assert json_api_files(devpi.simple_url, PROJECT, tiny_dists.version) is None  # no such version
    assert twine_upload(devpi, *tiny_dists.files).returncode == 0
    assert json_api_files(devpi.simple_url, PROJECT, tiny_dists.version) == {
        path.name: sha256_of(path) for path in tiny_dists.files}
    # a URL that is neither PyPI's nor devpi's simple root: no JSON API is assumed
    assert json_api_files(devpi.upload_url, PROJECT, tiny_dists.version) is None


@pytest.mark.parametrize("answer", [None, 400], ids=["devpi-accepts-it-again", "answered-400"])
def test_a_file_the_index_has_is_uploaded_though_its_page_lags(
        lagging: FaultProxy, tiny_dists: TinyDists, answer: int | None) -> None:
    wheel, digest = tiny_dists.wheel, sha256_of(tiny_dists.wheel)
    if answer is not None:  # what pypiserver and PyPI answer to a file name they have
        lagging.fail_upload_with_status(lagging.upload_count + 1, answer)
    target = connect(lagging.target)
    assert target.upload(wheel.name, wheel, digest) == UPLOADED
    assert stale_reads(lagging), "the page never lagged: the test tests nothing"
    assert json_reads(lagging, tiny_dists.version), "the JSON API was not asked"
    # the publish step's confirmation is the page's: it lists the file once it catches up
    assert target.confirm({wheel.name: digest}) == {wheel.name: MISSING}
    lagging.clear_faults()
    assert target.confirm({wheel.name: digest}) == {wheel.name: PRESENT}


def test_another_file_under_the_name_is_a_conflict_not_a_deleted_name(
        lagging: FaultProxy, tiny_dists: TinyDists) -> None:
    changed = tiny_dists.changed_wheel
    target = connect(lagging.target)
    with pytest.raises(TargetError) as raised:
        target.upload(changed.name, changed, sha256_of(changed))
    message = raised.value.message
    assert (f"devpi already has a different {changed.name} (sha256 "
            f"{sha256_of(tiny_dists.wheel)} by its JSON API, {sha256_of(changed)} in this "
            "release)") in message
    assert "deleted" not in message
    assert [r.upstream_status for r in lagging.uploads][-1] == 409  # devpi's own answer
    assert json_reads(lagging, tiny_dists.version)


def test_a_refused_name_the_index_does_not_have_is_the_used_and_deleted_case(
        devpi: DevpiIndex, fault_proxy: Callable[[IndexTarget], FaultProxy],
        tiny_dists: TinyDists, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_target, "VISIBLE_SECONDS", 1.0)
    assert twine_upload(devpi, tiny_dists.sdist).returncode == 0
    proxy = fault_proxy(devpi)
    proxy.fail_upload_with_status(1, 400)
    wheel: Path = tiny_dists.wheel
    with pytest.raises(TargetError, match="probably used before and deleted"):
        connect(proxy.target).upload(wheel.name, wheel, sha256_of(wheel))
    assert json_reads(proxy, tiny_dists.version), "the JSON API was not asked"
