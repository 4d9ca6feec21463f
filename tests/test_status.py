"""``release status [VERSION]``: is a release complete everywhere (the tag on the remote, each
file of the manifest on each target with its sha256)? Text and JSON, exit 0 or 1, read-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    PublishTo,
    Result,
    assert_exit,
    configure_publish,
    git,
    publish_env,
    read_manifest,
    remote_of,
    run_release,
)
from indexes import FaultProxy, IndexTarget, PypiserverIndex

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"


def text_rows(result: Result) -> dict[tuple[str, str], str]:
    """(where, item) -> state from the text table."""
    rows: dict[tuple[str, str], str] = {}
    for line in result.stdout.splitlines()[1:]:
        found = re.match(r"^  (\S+)\s+(\S+)\s{2,}(\S.*?)\s*$", line)
        assert found, line
        rows[(found.group(1), found.group(2))] = found.group(3)
    return rows


def json_status(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["schema"] == "release-pipeline/status"
    assert data["project"] == "sample-project"
    assert data["version"] == "1.3.0"
    return data


def json_rows(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(i["where"], i["item"]): i["state"] for i in data["items"]}


def test_status_follows_the_state_of_the_remote_and_the_index(
    project: Path, pypiserver: PypiserverIndex,
    fault_proxy: Callable[[IndexTarget], FaultProxy],
) -> None:
    proxy = fault_proxy(pypiserver)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    env = publish_env(target)
    assert_exit(run_release(project, "run", "--yes", env=env), 0)
    files = read_manifest(project, "1.3.0")["files"]
    assert sorted(files) == sorted([SDIST, WHEEL])
    head, refs = git(project, "rev-parse", "HEAD"), git(project, "for-each-ref")
    posts = len([r for r in proxy.seen if r.method != "GET"])

    def status(*args: str, code: int) -> Result:
        result = run_release(project, "status", *args, env=env)
        assert_exit(result, code)
        return result

    # Complete: the tag on the remote, each file with the manifest's sha256.
    complete = {("origin", "v1.3.0"): "present", ("local", SDIST): "present",
                ("local", WHEEL): "present"}
    for args in ((), ("1.3.0",)):
        text = status(*args, code=0)
        assert text.stdout.splitlines()[0] == "sample-project 1.3.0: complete everywhere."
        assert text_rows(text) == complete
        data = json_status(status(*args, "--json", code=0))
        assert data["complete"] is True
        assert json_rows(data) == complete

    # A file deleted from the index: incomplete, exit 1, the file named as missing.
    wheel = pypiserver.packages_dir / WHEEL
    kept = wheel.read_bytes()
    wheel.unlink()
    text = status(code=1)
    assert text.stdout.splitlines()[0] == "sample-project 1.3.0: INCOMPLETE."
    assert text_rows(text) == {**complete, ("local", WHEEL): "missing"}
    data = json_status(status("--json", code=1))
    assert data["complete"] is False
    assert json_rows(data) == {**complete, ("local", WHEEL): "missing"}

    # Other bytes under the same filename: conflicting.
    wheel.write_bytes(kept + b"\0")
    assert json_rows(json_status(status("1.3.0", "--json", code=1)))[("local", WHEEL)] == (
        "conflicting")
    wheel.write_bytes(kept)
    status(code=0)

    # The tag gone from the remote: missing.
    git(remote_of(project), "tag", "--delete", "v1.3.0")
    assert text_rows(status(code=1))[("origin", "v1.3.0")] == "missing"
    git(project, "push", "--quiet", "origin", "refs/tags/v1.3.0")
    status(code=0)

    # The index unreachable: unknown, not complete.
    proxy.stop()
    rows = json_rows(json_status(status("--json", code=1)))
    assert rows[("origin", "v1.3.0")] == "present"
    assert rows[("local", SDIST)].startswith("unknown")
    assert rows[("local", WHEEL)].startswith("unknown")

    # Read-only throughout.
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "for-each-ref") == refs
    assert len([r for r in proxy.seen if r.method != "GET"]) == posts


def test_status_without_a_manifest_or_with_a_bad_version_is_a_usage_error(
    project: Path, pypiserver: PypiserverIndex
) -> None:
    target = PublishTo("local", pypiserver)
    configure_publish(project, target)
    env = publish_env(target)
    # 1.2.0 was tagged before this tool: no manifest answers for it; stray files are ignored.
    manifests = project / ".git" / "release-pipeline" / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "notes.json").write_text("{}", encoding="utf-8")
    for args in ((), ("1.2.0",), ("1.2.0", "--json")):
        text = assert_exit(run_release(project, "status", *args, env=env), 2)
        assert "No verified release manifest" in text
        assert "1.2.0" in text or not args
    text = assert_exit(run_release(project, "status", "not.a.version", env=env), 2)
    assert "not.a.version" in text
