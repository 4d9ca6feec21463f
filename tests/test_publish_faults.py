"""The publish stage under faults, injected by a proxy in front of a real local index.

Whatever goes wrong (a 5xx that outlasts twine's own retries, a connection dropped
after the index stored the file, slow answers, a refused password, a target that stays
down), the end state is the same: each file on each index exactly once, with the
verified sha256, and ``release status`` says so. A failure names every file's state and
``release resume`` uploads only what is missing, without rebuilding.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    PublishTo,
    accepted_uploads,
    assert_exit,
    both,
    configure_publish,
    publish_env,
    read_journal,
    read_manifest,
    run_release,
    step_shown,
    upload_attempts,
)
from indexes import FaultProxy, IndexTarget, listed_files, sha256_of, twine_upload

from release.targets.index import RETRIES

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

PROJECT = "sample-project"
VERSION = "1.3.0"
SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"
FILES = sorted([SDIST, WHEEL])
TWINE_ATTEMPTS = 5  # twine itself sends an upload answered with a 5xx up to 5 times
FOREVER = 1000

ProxyFactory = Callable[[IndexTarget], FaultProxy]


def verified(project: Path) -> dict[str, str]:
    """filename -> sha256 as the release verified it (journal and manifest agree)."""
    artifacts = dict(read_journal(project)["artifacts"])
    assert artifacts == read_manifest(project, VERSION)["files"]
    assert sorted(artifacts) == FILES
    return artifacts


def assert_published_once(project: Path, proxy: FaultProxy, index: IndexTarget) -> None:
    """The index lists every file with the verified sha256, each accepted exactly once."""
    digests = verified(project)
    assert {n: f.sha256 for n, f in listed_files(index, PROJECT).items()} == digests
    assert accepted_uploads(proxy) == dict.fromkeys(FILES, 1)


def assert_status_complete(project: Path, env: dict[str, str]) -> None:
    text = run_release(project, "status", env=env)
    assert text.code == 0, both(text)
    assert "complete everywhere" in text.stdout
    data = run_release(project, "status", "--json", env=env)
    assert data.code == 0, both(data)
    parsed = json.loads(data.stdout)
    assert parsed["complete"] is True
    assert {i["state"] for i in parsed["items"]} == {"present"}


def file_states(output: str) -> dict[tuple[str, str], str]:
    """(target, file) -> state from the per-file table of a publish failure."""
    rows: dict[tuple[str, str], str] = {}
    for line in output.splitlines():
        found = re.match(r"^\s+(\S+)\s+(sample_project-\S+)\s{2,}(\S.*?)\s*$", line)
        if found:
            rows[(found.group(1), found.group(2))] = found.group(3)
    return rows


# --- one target, one fault -----------------------------------------------------------------

def test_a_5xx_that_outlasts_twine_is_retried_after_rereading_the_index(
    project: Path, pypiserver: IndexTarget, fault_proxy: ProxyFactory
) -> None:
    proxy = fault_proxy(pypiserver)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    # The second file (the sdist: the wheels go first), 5 times.
    proxy.fail_upload_with_status(2, 503, times=TWINE_ATTEMPTS)

    result = run_release(project, "run", "--yes", env=publish_env(target))

    assert_exit(result, 0)
    assert_published_once(project, proxy, pypiserver)
    assert upload_attempts(proxy) == {WHEEL: 1, SDIST: TWINE_ATTEMPTS + 1}
    seen = proxy.seen
    last_fault = max(i for i, r in enumerate(seen) if r.fault == "status")
    retry = next(i for i, r in enumerate(seen) if r.filename == SDIST and r.forwarded)
    page = pypiserver.project_url(PROJECT)[len(pypiserver.origin):]
    assert any(r.method == "GET" and r.path.startswith(page)
               for r in seen[last_fault + 1:retry]), "the index was not read before the retry"
    assert read_journal(project)["uploads"]["local"] == dict.fromkeys(FILES, "uploaded")
    assert_status_complete(project, publish_env(target))


def test_a_connection_dropped_after_the_index_stored_the_file_is_not_uploaded_again(
    project: Path, devpi: IndexTarget, fault_proxy: ProxyFactory
) -> None:
    proxy = fault_proxy(devpi)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    proxy.reset_after_forwarding(1)  # the first file: stored, then the connection breaks

    result = run_release(project, "run", "--yes", env=publish_env(target))

    assert_exit(result, 0)
    assert_published_once(project, proxy, devpi)
    assert upload_attempts(proxy) == dict.fromkeys(FILES, 1)  # seen on the index: no retry
    (reset,) = [r for r in proxy.uploads if r.fault == "reset"]
    assert reset.filename == WHEEL  # the wheels go first
    assert reset.upstream_status == 200
    assert_status_complete(project, publish_env(target))


def test_slow_answers_still_succeed(
    project: Path, pypiserver: IndexTarget, fault_proxy: ProxyFactory
) -> None:
    proxy = fault_proxy(pypiserver)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    proxy.delay(0.25)

    start = time.monotonic()
    result = run_release(project, "run", "--yes", env=publish_env(target))
    took = time.monotonic() - start

    assert_exit(result, 0)
    assert took >= 0.25 * len(proxy.seen)  # every answer was held
    assert_published_once(project, proxy, pypiserver)
    assert upload_attempts(proxy) == dict.fromkeys(FILES, 1)
    assert_status_complete(project, publish_env(target))


@pytest.mark.parametrize("kind", ["pypiserver", "pypiserver_private"])
def test_a_refused_password_fails_with_the_file_table_and_resume_finishes(
    project: Path, kind: str, request: pytest.FixtureRequest, fault_proxy: ProxyFactory
) -> None:
    """pypiserver wants the password to upload (refused at the upload, HTTP 403);
    pypiserver_private also to list (refused when the step first reads the index)."""
    index: IndexTarget = request.getfixturevalue(kind)
    proxy = fault_proxy(index)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    right = publish_env(target)
    wrong = {**right, "TWINE_PASSWORD": "not-the-password"}
    assert_exit(run_release(project, "run", "--yes", "--until", "push", env=right), 0)

    failed = run_release(project, "resume", "--yes", env=wrong)

    text = assert_exit(failed, 1)
    assert "refused the credentials" in text
    assert "TWINE_PASSWORD" in text, "the refused credentials' source is not named"
    assert step_shown(failed.stdout, "failed", "publish", "upload to local")
    rows = file_states(text)
    assert set(rows) == {("local", SDIST), ("local", WHEEL)}, f"no file table:\n{text}"
    assert "uploaded" not in rows.values()
    assert accepted_uploads(proxy) == {}
    assert [r.upstream_status for r in proxy.uploads] in ([], [403])  # a refusal: no retry
    assert listed_files(index, PROJECT, auth=True) == {}
    assert read_journal(project)["steps"]["publish.upload:local"] == "failed"
    status = run_release(project, "status", env=right)
    assert status.code == 1, both(status)

    resumed = run_release(project, "resume", "--yes", env=right)

    assert_exit(resumed, 0)
    assert step_shown(resumed.stdout, "already done", "build", "build the sdist")
    assert step_shown(resumed.stdout, "done", "publish", "upload to local")
    digests = verified(project)
    assert {n: f.sha256 for n, f in listed_files(index, PROJECT, auth=True).items()} == digests
    assert accepted_uploads(proxy) == dict.fromkeys(FILES, 1)
    assert_status_complete(project, right)


# --- two targets: a failure at either, then resume -----------------------------------------

def test_a_failing_first_target_stops_before_the_second_and_resume_skips_what_is_there(
    project: Path, pypiserver: IndexTarget, devpi: IndexTarget, fault_proxy: ProxyFactory
) -> None:
    first_proxy, second_proxy = fault_proxy(pypiserver), fault_proxy(devpi)
    first = PublishTo("first", first_proxy.target)
    second = PublishTo("second", second_proxy.target, username_env="SECOND_USER",
                       password_env="SECOND_PASSWORD")
    configure_publish(project, first, second)
    env = publish_env(first, second)
    first_proxy.fail_upload_with_status(2, 503, times=FOREVER)  # the sdist (last) never gets in

    failed = run_release(project, "run", "--yes", env=env)

    text = assert_exit(failed, 1)
    assert step_shown(failed.stdout, "failed", "publish", "upload to first")
    rows = file_states(text)
    assert rows[("first", WHEEL)] == "uploaded"
    assert rows[("first", SDIST)] == "missing"
    assert {s for (t, _), s in rows.items() if t == "second"} <= {"missing", "not started"}
    assert "503" in text
    # Bounded: our first attempt and RETRIES more, each of which twine sends 5 times.
    assert upload_attempts(first_proxy) == {WHEEL: 1,
                                            SDIST: (1 + RETRIES) * TWINE_ATTEMPTS}
    assert second_proxy.uploads == []  # the second target waits for the first
    steps = read_journal(project)["steps"]
    assert steps["publish.upload:first"] == "failed"
    assert steps["publish.upload:second"] == "pending"
    before = verified(project)

    first_proxy.clear_faults()
    resumed = run_release(project, "resume", "--yes", env=env)

    assert_exit(resumed, 0)
    assert verified(project) == before  # not rebuilt
    assert step_shown(resumed.stdout, "already done", "build", "build the sdist")
    assert_published_once(project, first_proxy, pypiserver)  # the wheel was not sent again
    assert upload_attempts(first_proxy)[WHEEL] == 1
    assert_published_once(project, second_proxy, devpi)
    assert_status_complete(project, env)


def test_partial_publication_names_each_file_and_resume_uploads_only_what_is_missing(
    project: Path, pypiserver: IndexTarget, devpi: IndexTarget, fault_proxy: ProxyFactory
) -> None:
    first_proxy, second_proxy = fault_proxy(devpi), fault_proxy(pypiserver)
    first = PublishTo("first", first_proxy.target, username_env="FIRST_USER",
                      password_env="FIRST_PASSWORD")
    second = PublishTo("second", second_proxy.target)
    configure_publish(project, first, second)
    env = publish_env(first, second)
    assert_exit(run_release(project, "run", "--yes", "--until", "push", env=env), 0)
    before = verified(project)
    dist_bytes = {n: sha256_of(project / "dist" / n) for n in FILES}
    # The release's own sdist reached the second index already (e.g. an earlier attempt).
    assert twine_upload(pypiserver, project / "dist" / SDIST).returncode == 0
    second_proxy.fail_upload_with_status(1, 503, times=FOREVER)  # the second stays down

    failed = run_release(project, "resume", "--yes", env=env)

    text = assert_exit(failed, 1)
    assert step_shown(failed.stdout, "done", "publish", "upload to first")
    assert step_shown(failed.stdout, "failed", "publish", "upload to second")
    rows = file_states(text)
    assert rows[("second", SDIST)] == "present"
    assert rows[("second", WHEEL)] == "missing"
    assert rows.get(("first", SDIST)) == "uploaded", f"no row for the first target:\n{text}"
    assert rows.get(("first", WHEEL)) == "uploaded", f"no row for the first target:\n{text}"
    assert "release resume" in text
    assert accepted_uploads(first_proxy) == dict.fromkeys(FILES, 1)
    assert upload_attempts(second_proxy) == {WHEEL: (1 + RETRIES) * TWINE_ATTEMPTS}
    status = run_release(project, "status", "--json", env=env)
    assert status.code == 1, both(status)
    states = {(i["where"], i["item"]): i["state"] for i in json.loads(status.stdout)["items"]}
    assert states[("second", WHEEL)] == "missing"
    assert states[("second", SDIST)] == "present"
    assert states[("first", WHEEL)] == "present"

    second_proxy.clear_faults()
    first_before = len(first_proxy.uploads)
    resumed = run_release(project, "resume", "--yes", env=env)

    assert_exit(resumed, 0)
    assert step_shown(resumed.stdout, "already done", "build", "build the sdist")
    assert step_shown(resumed.stdout, "already done", "publish", "upload to first")
    assert step_shown(resumed.stdout, "done", "publish", "upload to second")
    assert verified(project) == before
    assert {n: sha256_of(project / "dist" / n) for n in FILES} == dist_bytes
    assert len(first_proxy.uploads) == first_before  # nothing sent to the first again
    assert accepted_uploads(second_proxy) == {WHEEL: 1}  # only what was missing
    assert {n: f.sha256 for n, f in listed_files(pypiserver, PROJECT).items()} == before
    assert {n: f.sha256 for n, f in listed_files(devpi, PROJECT).items()} == before
    assert_status_complete(project, env)
