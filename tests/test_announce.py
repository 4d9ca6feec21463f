"""The announce stage, end to end: `release run` makes a GitHub release on the stand-in.

Real sample projects with a real bare remote, real builds, a real local index (pypiserver
behind a fault proxy that counts uploads) and the GitHub REST API stand-in
(tests/github_standin.py). Every test reads the result back: the release's fields, the
attached assets' bytes against dist/, the requests GitHub saw, the uploads the index saw.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, both, changelog_section, configure_targets, run_release, target_env
from github_standin import GitHubStandIn
from indexes import FaultProxy, IndexTarget, PypiserverIndex, http_request, listed_files

from release.steps.announce import UPLOAD_ATTEMPTS

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

PROJECT = "sample-project"


def dist_names(version: str) -> tuple[str, str]:
    """(sdist, wheel) file names of the sample project at ``version``."""
    return f"sample_project-{version}.tar.gz", f"sample_project-{version}-py3-none-any.whl"


def same_text(body: str | None, section: str) -> bool:
    """The release notes are the section (a trailing blank line more or less aside)."""
    return body is not None and body.rstrip("\n") == section.rstrip("\n")


def asset_uploads(github: GitHubStandIn) -> list[str]:
    """Names of the assets GitHub accepted (201) through the uploads host, in order."""
    return [
        dict(pair.split("=", 1) for pair in r.query.split("&"))["name"]
        for r in github.requests
        if r.host == "uploads" and r.method == "POST" and r.status == 201
    ]


def check_assets(github: GitHubStandIn, release: dict[str, Any], dist: Path,
                 names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The release carries exactly ``names``, each once, uploaded, byte-identical to dist/."""
    assets = github.assets(int(release["id"]))
    assert sorted(a["name"] for a in assets) == sorted(names)
    for asset in assets:
        assert asset["state"] == "uploaded", asset
        assert github.asset_bytes(int(asset["id"])) == (dist / asset["name"]).read_bytes(), (
            f"{asset['name']} on GitHub differs from dist/"
        )
    return assets


def check_index(index: IndexTarget, dist: Path, names: tuple[str, ...]) -> None:
    from indexes import sha256_of

    listed = listed_files(index, PROJECT)
    assert sorted(listed) == sorted(names)
    for name in names:
        assert listed[name].sha256 == sha256_of(dist / name), name


def assert_secret_hidden(secret: str, project: Path, *results: Result) -> None:
    """``secret`` is in no output and in no file of the release's state directory."""
    for result in results:
        assert secret not in result.stdout, "the secret is in stdout"
        assert secret not in result.stderr, "the secret is in stderr"
    state = project / ".git" / "release-pipeline"
    assert state.is_dir()
    for path in state.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"the secret is in {path}"


def only_release(github: GitHubStandIn) -> dict[str, Any]:
    releases = github.releases()
    assert len(releases) == 1, [r["tag_name"] for r in releases]
    return releases[0]


@dataclass
class Setup:
    project: Path
    github: GitHubStandIn
    index: IndexTarget  # the index reached through the proxy (what the project uses)
    upstream: PypiserverIndex
    proxy: FaultProxy

    @property
    def env(self) -> dict[str, str]:
        return target_env(github=self.github, index=self.index)

    @property
    def dist(self) -> Path:
        return self.project / "dist"

    def release(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return run_release(self.project, *args, env={**self.env, **(env or {})})


@pytest.fixture
def setup(sample_copy: Callable[..., Path], github_standin: GitHubStandIn,
          pypiserver: PypiserverIndex,
          fault_proxy: Callable[[IndexTarget], FaultProxy]) -> Callable[..., Setup]:
    """A sample project (a feature and a bugfix fragment: next version 1.3.0) configured to
    publish to pypiserver through a fault proxy and to announce on the stand-in."""

    def make(*, draft: bool = False) -> Setup:
        project = sample_copy(fragments={"12.feature.md": "Add a thing.",
                                         "13.bugfix.md": "Fix a bug."})
        proxy = fault_proxy(pypiserver)
        configure_targets(project, github=github_standin, index=proxy.target, draft=draft)
        return Setup(project, github_standin, proxy.target, pypiserver, proxy)

    return make


# --- 1. a release announces itself ---------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "version", "draft"),
    [((), "1.3.0", False), (("--pre", "rc"), "1.3.0rc1", True)],
    ids=["final", "rc-draft"],
)
def test_release_run_makes_the_github_release(setup: Callable[..., Setup], args: tuple[str, ...],
                                              version: str, draft: bool) -> None:
    s = setup(draft=draft)
    result = s.release("run", "--yes", *args)
    assert result.code == 0, both(result)
    tag = f"v{version}"
    names = dist_names(version)

    release = only_release(s.github)
    assert release["tag_name"] == tag
    assert release["name"] == tag
    assert release["draft"] is draft
    assert release["prerelease"] is (version != "1.3.0")
    section = changelog_section(s.project, version)
    assert "Add a thing." in section
    assert "Fix a bug." in section
    assert same_text(release["body"], section), (release["body"], section)
    if not draft:
        assert s.github.release_by_tag(tag) is not None
    check_assets(s.github, release, s.dist, names)
    assert sorted(asset_uploads(s.github)) == sorted(names)
    check_index(s.upstream, s.dist, names)
    assert s.proxy.upload_count == 2
    # Every GitHub request carried the token; nothing failed but the look-up by tag.
    assert s.github.requests
    assert {r.auth for r in s.github.requests if r.host != "web"} == {"valid"}
    refused = [(r.method, r.path, r.status) for r in s.github.requests if r.status >= 400]
    assert all(m == "GET" and "/releases/tags/" in p and st == 404 for m, p, st in refused), (
        refused
    )
    assert_secret_hidden(s.github.token, s.project, result)
    assert_secret_hidden(s.index.password, s.project, result)


# --- 2. idempotent: an existing release is completed, never duplicated ----------------------

def test_an_existing_release_is_completed_not_duplicated(setup: Callable[..., Setup]) -> None:
    s = setup()
    sdist, wheel = dist_names("1.3.0")
    first = s.release("run", "--yes", "--until", "publish")
    assert first.code == 0, both(first)
    assert s.github.requests == [], "the announce stage ran before it was asked to"
    # Someone (or an earlier, interrupted run) made the release with stale notes and the sdist.
    seeded = s.github.seed_release("v1.3.0", name="v1.3.0 (work in progress)",
                                   body="Notes to be written.")
    kept = s.github.seed_asset(int(seeded["id"]), sdist, (s.dist / sdist).read_bytes(),
                               content_type="application/gzip")

    resumed = s.release("resume")
    assert resumed.code == 0, both(resumed)
    release = only_release(s.github)
    assert release["id"] == seeded["id"]
    assert release["name"] == "v1.3.0"
    assert same_text(release["body"], changelog_section(s.project, "1.3.0"))
    assert release["draft"] is False
    assert release["prerelease"] is False
    assets = check_assets(s.github, release, s.dist, (sdist, wheel))
    assert {a["name"]: a["id"] for a in assets}[sdist] == kept["id"], "the sdist was replaced"
    assert asset_uploads(s.github) == [wheel]
    assert not [r for r in s.github.requests if r.method == "DELETE"]
    assert not [r for r in s.github.requests if r.method == "POST" and r.host == "api"], (
        "a second release was created"
    )
    assert s.proxy.upload_count == 2, "the index saw uploads again"


def test_an_asset_with_other_content_is_an_error_and_nothing_is_deleted(
        setup: Callable[..., Setup]) -> None:
    s = setup()
    sdist, wheel = dist_names("1.3.0")
    first = s.release("run", "--yes", "--until", "publish")
    assert first.code == 0, both(first)
    seeded = s.github.seed_release("v1.3.0", name="v1.3.0", body="Old notes.")
    wrong = s.github.seed_asset(int(seeded["id"]), sdist, b"not the verified sdist",
                                content_type="application/gzip")

    failed = s.release("resume")
    text = both(failed)
    assert failed.code == 1, text
    assert "Traceback" not in failed.stderr
    assert sdist in text
    assert "release resume" in text
    assets = s.github.assets(int(seeded["id"]))
    assert wrong["id"] in [a["id"] for a in assets]
    assert s.github.asset_bytes(int(wrong["id"])) == b"not the verified sdist"
    assert not [r for r in s.github.requests if r.method == "DELETE"]
    assert len(s.github.releases()) == 1

    # As the message says: delete the wrong asset on GitHub, then resume.
    deleted = http_request(
        "DELETE",
        f"{s.github.api_url}/repos/{s.github.full_name}/releases/assets/{wrong['id']}",
        headers={"Authorization": f"Bearer {s.github.token}", "User-Agent": "a-maintainer"},
    )
    assert deleted.status == 204
    resumed = s.release("resume")
    assert resumed.code == 0, both(resumed)
    release = only_release(s.github)
    assert same_text(release["body"], changelog_section(s.project, "1.3.0"))
    check_assets(s.github, release, s.dist, (sdist, wheel))
    assert s.proxy.upload_count == 2


# --- 3. a failure in announce stops the release; resume completes it -----------------------

def _reset_shown(text: str) -> time.struct_time:
    found = re.search(r"resets at (\d\d:\d\d:\d\d) UTC", text)
    assert found, f"the reset time is not named:\n{text}"
    return time.strptime(found.group(1), "%H:%M:%S")


@pytest.mark.parametrize("failure", ["asset-upload-draft", "bad-token", "rate-limit"])
def test_announce_failure_then_resume_completes(setup: Callable[..., Setup],
                                                failure: str) -> None:
    # The draft variant also proves that resume finds the draft (GitHub does not find drafts
    # by tag name) instead of making a second one.
    draft = failure.endswith("-draft")
    s = setup(draft=draft)
    names = dist_names("1.3.0")
    env: dict[str, str] = {}
    wrong_token = "ghp_" + "0" * 36
    reset_at = 0
    if failure == "asset-upload-draft":
        # Every attempt of the run fails: it re-reads the assets and retries both files a
        # bounded number of times (UPLOAD_ATTEMPTS); resume then meets a working GitHub.
        s.github.fail_next("POST", f"/repos/{s.github.full_name}/releases/*/assets", 503,
                           count=UPLOAD_ATTEMPTS * 2, host="uploads")
    elif failure == "bad-token":
        env["GITHUB_TOKEN"] = wrong_token
    else:
        s.github.set_rate_limit(0, reset_in=1800)
        reset_at = int(time.time()) + 1800

    failed = s.release("run", "--yes", env=env)
    text = both(failed)
    assert failed.code == 1, text
    assert "Traceback" not in failed.stderr
    # An upload fails in the attach step, the others in the first step, which makes the draft.
    failed_step = "announce.attach" if failure == "asset-upload-draft" else "announce.draft"
    assert failed_step in text
    assert "release resume" in text
    if failure == "asset-upload-draft":
        assert "503" in text
        assert "POST" in text
    elif failure == "bad-token":
        assert "rejected the token" in text
        assert_secret_hidden(wrong_token, s.project, failed)
    else:
        assert "rate limit" in text
        shown = _reset_shown(text)
        expected = {time.gmtime(reset_at + d)[3:6] for d in (-2, -1, 0, 1, 2)}
        assert shown[3:6] in expected, (shown, reset_at)
    # Publishing was done before the announce stage failed.
    check_index(s.upstream, s.dist, names)
    assert s.proxy.upload_count == 2

    if failure == "rate-limit":
        s.github.set_rate_limit(5000)
    resumed = s.release("resume")
    assert resumed.code == 0, both(resumed)
    release = only_release(s.github)
    assert same_text(release["body"], changelog_section(s.project, "1.3.0"))
    assert release["prerelease"] is False
    assert release["draft"] is draft
    check_assets(s.github, release, s.dist, names)
    assert sorted(asset_uploads(s.github)) == sorted(names), "an asset was uploaded twice"
    assert s.proxy.upload_count == 2, "the index saw uploads again"
    check_index(s.upstream, s.dist, names)
    assert_secret_hidden(s.github.token, s.project, failed, resumed)


@pytest.mark.parametrize("fault", ["502-leaves-starter-asset", "dropped-after-storing"])
def test_an_upload_failure_after_github_acted_is_repaired(setup: Callable[..., Setup],
                                                          fault: str) -> None:
    """The upload reached GitHub, but its answer is an error.

    - 502: "When an upstream failure occurs, you will receive a 502 Bad Gateway status. This
      may leave an empty asset with a state of starter" (GitHub's docs); that asset's name
      then blocks every new upload of the file (422 already_exists) until it is deleted.
    - The connection drops after the asset was stored complete.

    Either way the release must end up complete - in the run, or after `release resume` -
    with each asset once and byte-identical to dist/.
    """
    s = setup()
    names = dist_names("1.3.0")
    s.github.fail_next("POST", f"/repos/{s.github.full_name}/releases/*/assets",
                       502 if fault.startswith("502") else 0, after_effect=True,
                       host="uploads")
    first = s.release("run", "--yes")
    if first.code != 0:
        assert first.code == 1, both(first)
        assert "Traceback" not in first.stderr
        resumed = s.release("resume")
        assert resumed.code == 0, both(first) + "\n--- release resume:\n" + both(resumed)
    release = only_release(s.github)
    check_assets(s.github, release, s.dist, names)
    assert s.proxy.upload_count == 2


def test_status_shows_the_github_release_in_the_announce_steps_states(
    setup: Callable[..., Setup],
) -> None:
    """`release status` reads the GitHub release through the probe the announce step decides
    by: assets whose uploads GitHub left unfinished ("starter") are broken, as the step sees
    them, until `release resume` repairs them."""
    s = setup()
    names = dist_names("1.3.0")
    s.github.fail_next("POST", f"/repos/{s.github.full_name}/releases/*/assets", 502,
                       count=len(names) * UPLOAD_ATTEMPTS, after_effect=True, host="uploads")
    failed = s.release("run", "--yes")
    assert failed.code == 1, both(failed)
    where = f"github {s.github.full_name}"

    def states() -> tuple[int, dict[tuple[str, str], str]]:
        result = s.release("status", "--json")
        items = json.loads(result.stdout)["items"]
        return result.code, {(i["where"], i["item"]): i["state"] for i in items}

    code, found = states()
    assert code == 1, found
    assert found[(where, "release v1.3.0")] == "draft", "published before its files"
    assert [found[(where, name)] for name in names] == ["broken", "broken"]
    assert found[("local", names[0])] == "present"

    resumed = s.release("resume")
    assert resumed.code == 0, both(resumed)
    code, found = states()
    assert code == 0, found
    assert set(found.values()) == {"present"}
    assert {item for w, item in found if w == where} == {"release v1.3.0", *names}


# --- 4. immutable releases: files are attached to the draft, then it is published -----------

def test_with_immutable_releases_the_release_is_published_complete(
    setup: Callable[..., Setup],
) -> None:
    s = setup()
    s.github.get_repo().immutable_releases = True
    names = dist_names("1.3.0")
    result = s.release("run", "--yes")
    assert result.code == 0, both(result)
    release = only_release(s.github)
    assert release["draft"] is False
    assert release["immutable"] is True
    check_assets(s.github, release, s.dist, names)
    # Each file went to the draft; the release was published after the last one, once.
    writes = [(r.host, r.method) for r in s.github.requests if r.method in ("POST", "PATCH")]
    assert writes == [("api", "POST"), ("uploads", "POST"), ("uploads", "POST"),
                      ("api", "PATCH")], writes
    latest = http_request(
        "GET", f"{s.github.api_url}/repos/{s.github.full_name}/releases/latest",
        headers={"Authorization": f"Bearer {s.github.token}", "User-Agent": "a-maintainer"})
    assert json.loads(latest.body)["tag_name"] == "v1.3.0", "a final release at the top is latest"


def test_a_published_immutable_release_without_its_files_is_reported_with_the_fix(
    setup: Callable[..., Setup],
) -> None:
    s = setup()
    s.github.get_repo().immutable_releases = True
    first = s.release("run", "--yes", "--until", "publish")
    assert first.code == 0, both(first)
    # Someone published the release by hand before the files were attached: it is sealed.
    s.github.seed_release("v1.3.0", name="v1.3.0", body="Published by hand.")

    failed = s.release("resume")
    text = both(failed)
    assert failed.code == 1, text
    assert "Traceback" not in failed.stderr
    assert "immutable" in text
    for name in dist_names("1.3.0"):
        assert name in text
    assert "release resume --skip announce.attach" in text
    assert asset_uploads(s.github) == [], "an upload was tried on a sealed release"
    assert len(s.github.releases()) == 1

    wrong = s.release("resume", "--skip", "announce.nothing")
    assert wrong.code == 2, both(wrong)
    assert "no such step" in both(wrong)
    # As the hint says: go on without the files; the rest of the release is finished.
    finished = s.release("resume", "--skip", "announce.attach")
    assert finished.code == 0, both(finished)
    assert "Skipping announce.attach" in both(finished)
    journal = json.loads(next((s.project / ".git" / "release-pipeline").rglob("journal.json"))
                         .read_text(encoding="utf-8"))
    assert journal["steps"]["announce.attach"] == "skipped"
    assert journal["steps"]["announce.publish"] == "done"
    assert journal["finished"] is True
