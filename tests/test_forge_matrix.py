"""Every forge kind, end to end: a sample project released to pypiserver and announced on
that forge's stand-in (tests/forge_standins.py), and a release killed at every boundary of
the announce stage, then resumed, ends exactly like one that was not."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FAILPOINT, both, commit_all, git, run_release, target_env
from forge_standins import STANDINS, ForgeWorld
from indexes import PypiserverIndex

from release.forges import FORGES

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

FRAGMENTS = {"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."}
TAG = "v1.3.0"
FILES = ("sample_project-1.3.0.tar.gz", "sample_project-1.3.0-py3-none-any.whl")
ANNOUNCE = ("announce.draft", "announce.attach", "announce.publish")
# Each boundary of the announce stage: before each step, and after the last.
BOUNDARIES = (*(f"{step}:before" for step in ANNOUNCE), f"{ANNOUNCE[-1]}:after")


@pytest.fixture(params=sorted(STANDINS))
def forge(request: pytest.FixtureRequest) -> Iterator[ForgeWorld]:
    with STANDINS[request.param]() as world:
        yield world


@pytest.fixture
def project(sample_copy: Callable[..., Path], forge: ForgeWorld,
            pypiserver: PypiserverIndex) -> Path:
    project = sample_copy(fragments=FRAGMENTS)
    index = pypiserver
    text = (f"\n{forge.table()}\n[[tool.release.publish]]\nname = \"local\"\n"
            f'repository-url = "{index.upload_url}"\nindex-url = "{index.simple_url}"\n')
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    commit_all(project, "Configure publishing and the forge release")
    git(project, "push", "--quiet", "origin", "main")
    return project


def environment(forge: ForgeWorld, index: PypiserverIndex) -> dict[str, str]:
    return {**target_env(index=index), **forge.env()}


def section(project: Path) -> str:
    text = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    start = text.index("## 1.3.0 (")
    end = text.find("\n## ", start + 1)
    return (text[start:] if end < 0 else text[start : end + 1]).rstrip("\n")


def assert_complete(forge: ForgeWorld, project: Path) -> None:
    seen = forge.seen(TAG)
    assert seen is not None, f"no {forge.kind} release for {TAG}"
    assert seen.releases_for_tag == 1, "a second release was made for the tag"
    assert seen.published
    assert not seen.prerelease
    assert seen.title == TAG
    assert seen.notes.rstrip("\n") == section(project)
    dist = project / "dist"
    assert seen.files == {n: hashlib.sha256((dist / n).read_bytes()).hexdigest() for n in FILES}


def assert_hidden(secret: str, project: Path, *outputs: str) -> None:
    for text in outputs:
        assert secret not in text
    for path in (project / ".git" / "release-pipeline").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_release_is_announced_complete(forge: ForgeWorld, project: Path,
                                         pypiserver: PypiserverIndex) -> None:
    result = run_release(project, "run", "--yes", env=environment(forge, pypiserver))
    assert result.code == 0, both(result)
    assert_complete(forge, project)
    assert forge.create_requests() == 1
    assert_hidden(forge.token, project, result.stdout, result.stderr)

    status = run_release(project, "status", "--json", env=environment(forge, pypiserver))
    assert status.code == 0, both(status)
    rows = {(i["item"], i["state"]) for i in json.loads(status.stdout)["items"]
            if i["where"].startswith(forge.kind)}
    assert rows == {(f"release {TAG}", "present"), *((n, "present") for n in FILES)}
    assert_hidden(forge.token, project, status.stdout, status.stderr)


def test_killed_at_every_announce_boundary_then_resumed(
    forge: ForgeWorld, project: Path, pypiserver: PypiserverIndex
) -> None:
    env = environment(forge, pypiserver)
    first = run_release(project, "run", "--yes", "--until", "publish", env=env)
    assert first.code == 0, both(first)
    assert forge.seen(TAG) is None
    outputs = [first.stdout, first.stderr]
    for point in BOUNDARIES:
        killed = run_release(project, "resume", env={**env, FAILPOINT: f"{point}:kill"})
        assert killed.code == -9, (point, both(killed))
        outputs += [killed.stdout, killed.stderr]
        seen = forge.seen(TAG)
        if point == "announce.attach:before" and not FORGES[forge.kind].drafts:
            assert seen is None, f"{forge.kind} has no drafts: nothing before the attach step"
        elif point == "announce.attach:before":
            assert seen is not None, "no draft before the attach step"
            assert not seen.published, seen
            assert not seen.files, seen
        if point == "announce.publish:before":
            assert seen is not None
            assert not seen.published, "published before the files"
            assert sorted(seen.files) == sorted(FILES)
    resumed = run_release(project, "resume", env=env)
    assert resumed.code == 0, both(resumed)
    assert_complete(forge, project)
    assert forge.create_requests() == 1
    assert_hidden(forge.token, project, *outputs, resumed.stdout, resumed.stderr)
