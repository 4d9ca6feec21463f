"""`release ci` end to end, as a tag-triggered CI job runs it.

A maintainer's sample project makes the release commit and tag (`release run --until tag`)
and pushes them to its bare remote; the CI job is a fresh clone of that remote checked out at
the tag (detached, or shallow), with GITHUB_REF, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and the
credentials in its environment. It publishes to a real local index (pypiserver behind a
fault proxy that counts uploads) and announces on the GitHub stand-in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FRAGMENTS,
    Result,
    assert_usage_error,
    both,
    changelog_section,
    configure_targets,
    git,
    remote_of,
    run_release,
    target_env,
    wheel_version,
)
from github_standin import GitHubStandIn
from indexes import FaultProxy, IndexTarget, PypiserverIndex, listed_files, sha256_of

from release.steps.announce import UPLOAD_ATTEMPTS

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc", "shared_uv_cache")]

PROJECT = "sample-project"
NAMES = ("sample_project-1.3.0.tar.gz", "sample_project-1.3.0-py3-none-any.whl")
WHEEL = NAMES[1]
UPLOADS_PATH = "/repos/octo-org/hello-release/releases/*/assets"


def read_outputs(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(k, v) for k, _, v in (line.partition("=") for line in lines)]


@dataclass
class Tagged:
    """A release tag (v1.3.0 or v1.3.0rc1), made and pushed to a bare remote, and the targets
    of its CI job."""

    work: Path  # the maintainer's clone that made the release commit and tag
    remote: Path
    github: GitHubStandIn
    index: IndexTarget  # through the proxy
    upstream: PypiserverIndex
    proxy: FaultProxy
    root: Path  # a directory for CI checkouts and files
    seen_at_setup: int  # requests the proxy saw while the release was made (index reads)
    version: str = "1.3.0"

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def names(self) -> tuple[str, str]:
        """(sdist, wheel) of the release."""
        return (f"sample_project-{self.version}.tar.gz",
                f"sample_project-{self.version}-py3-none-any.whl")

    def clone(self, name: str, *args: str) -> Path:
        dest = self.root / name
        git(self.root, "clone", "--quiet", *args, f"file://{self.remote}", str(dest))
        return dest

    def checkout(self, name: str) -> Path:
        """A full clone, detached at the tag (what actions/checkout with fetch-depth: 0 does)."""
        return self.clone(name, "--branch", self.tag)

    def ci_env(self, name: str, *, ref: str | None = None,
               secrets: bool = True) -> dict[str, str]:
        env = {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_REF": ref or f"refs/tags/{self.tag}",
            "GITHUB_OUTPUT": str(self.root / f"{name}.output"),
            "GITHUB_STEP_SUMMARY": str(self.root / f"{name}.summary.md"),
            "GITLAB_CI": "",  # should the suite itself run in GitLab CI
        }
        if secrets:
            env.update(target_env(github=self.github, index=self.index))
        else:
            env.update(target_env())
            env.update({"GITHUB_TOKEN": "", "TWINE_USERNAME": "", "TWINE_PASSWORD": ""})
        return env

    def ci(self, checkout: Path, *args: str, name: str = "job", **kwargs: Any) -> Result:
        return run_release(checkout, "ci", *args, env=self.ci_env(name, **kwargs))

    def gitlab_ci(self, checkout: Path, *args: str, tag: bool = True) -> Result:
        """``release ci ARGS`` as a GitLab CI job of a pipeline for the tag (or, without
        ``tag``, for the branch main) runs it in ``checkout``: its CI_PROJECT_DIR."""
        env = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PROJECT_DIR": str(checkout),
            "CI_PROJECT_PATH": "octo-group/sub/hello-release",
            "CI_COMMIT_REF_NAME": self.tag if tag else "main",
            "GITHUB_ACTIONS": "",  # should the suite itself run in GitHub Actions
            "GITHUB_REF": "",
            "GITHUB_OUTPUT": "",
            **target_env(github=self.github, index=self.index),
        }
        if tag:
            env["CI_COMMIT_TAG"] = self.tag
        return run_release(checkout, "ci", *args, env=env)

    def outputs(self, name: str = "job") -> list[tuple[str, str]]:
        return read_outputs(self.root / f"{name}.output")

    def summary(self, name: str = "job") -> str:
        return (self.root / f"{name}.summary.md").read_text(encoding="utf-8")

    def nothing_happened(self) -> None:
        """No upload and no request at all reached the index or GitHub since the setup."""
        assert self.proxy.seen[self.seen_at_setup :] == [], self.proxy.seen
        assert self.github.requests == [], self.github.requests
        assert listed_files(self.upstream, PROJECT) == {}


@pytest.fixture
def tagged(sample_copy: Callable[..., Path], github_standin: GitHubStandIn,
           pypiserver: PypiserverIndex, fault_proxy: Callable[[IndexTarget], FaultProxy],
           tmp_path: Path) -> Callable[..., Tagged]:
    """``tagged(layout, pre)``: a sample project (next version 1.3.0, or 1.3.0rc1 with
    ``pre``) configured to publish and announce, its release commit and tag made by
    ``release run --until tag`` and pushed."""

    def make(layout: str = "hatchling", *, pre: bool = False) -> Tagged:
        work = sample_copy(layout, fragments=FRAGMENTS)
        proxy = fault_proxy(pypiserver)
        configure_targets(work, github=github_standin, index=proxy.target)
        version = "1.3.0rc1" if pre else "1.3.0"
        made = run_release(work, "run", "--yes", "--until", "tag",
                           *(("--pre", "rc") if pre else ()),
                           env=target_env(github=github_standin, index=proxy.target))
        assert made.code == 0, both(made)
        git(work, "push", "--quiet", "--atomic", "origin", "main", f"v{version}")
        assert proxy.upload_count == 0
        root = tmp_path / "ci"
        root.mkdir()
        github_standin.clear_requests()
        return Tagged(work, remote_of(work), github_standin, proxy.target, pypiserver, proxy,
                      root, len(proxy.seen), version)

    return make


def uploads_to_github(github: GitHubStandIn) -> list[str]:
    """Names of the assets GitHub accepted (201), in order."""
    return [
        dict(pair.split("=", 1) for pair in r.query.split("&"))["name"]
        for r in github.requests
        if r.host == "uploads" and r.method == "POST" and r.status == 201
    ]


def check_released(t: Tagged, checkout: Path) -> None:
    """Both files are on the index and attached to the one GitHub release, each once, with the
    bytes of the checkout's dist/; the notes are the version's CHANGELOG.md section."""
    dist = checkout / "dist"
    wheel = t.names[1]
    assert sorted(p.name for p in dist.iterdir() if p.suffix != ".json") == sorted(t.names)
    assert wheel_version(dist / wheel) == t.version
    listed = listed_files(t.upstream, PROJECT)
    assert sorted(listed) == sorted(t.names)
    for name in t.names:
        assert listed[name].sha256 == sha256_of(dist / name), name
    releases = t.github.releases()
    assert len(releases) == 1, [r["tag_name"] for r in releases]
    release = releases[0]
    assert (release["tag_name"], release["name"]) == (t.tag, t.tag)
    assert release["draft"] is False
    assert release["prerelease"] is (t.version != "1.3.0")
    section = changelog_section(checkout, t.version)
    assert "Add a thing." in section
    assert release["body"] is not None
    assert release["body"].rstrip("\n") == section.rstrip("\n"), (release["body"], section)
    assets = t.github.assets(int(release["id"]))
    assert sorted(a["name"] for a in assets) == sorted(t.names)
    for asset in assets:
        assert asset["state"] == "uploaded"
        assert t.github.asset_bytes(int(asset["id"])) == (dist / asset["name"]).read_bytes()
    assert sorted(uploads_to_github(t.github)) == sorted(t.names), "an asset was uploaded twice"


# --- 4. release ci on a tag checkout --------------------------------------------------------

@pytest.mark.parametrize("pre", [False, True], ids=["final", "rc"])
def test_ci_on_a_tag_builds_verifies_publishes_and_announces(
        tagged: Callable[..., Tagged], pre: bool) -> None:
    t = tagged(pre=pre)
    checkout = t.checkout("job")
    assert git(checkout, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # detached
    result = t.ci(checkout)
    assert result.code == 0, both(result)
    check_released(t, checkout)
    assert t.proxy.upload_count == 2
    assert t.outputs() == [("version", t.version), ("tag", t.tag),
                           ("is-prerelease", str(pre).lower()), ("released", "true")]
    summary = t.summary()
    # The release checklist (release.markdown), then the times.
    assert summary.startswith(f"# sample-project {t.version}\n")
    assert f"- [x] build: build the sdist and wheel of {t.tag} into dist/" in summary
    assert "- [x] announce: " in summary
    assert "| stage | step | result | time |" in summary
    for stage in ("build", "verify", "publish", "announce"):
        assert f"| {stage} |" in summary, stage
    for name in t.names:
        assert f"| {name} | `{sha256_of(checkout / 'dist' / name)}` |" in summary
    for secret in (t.github.token, t.index.password):
        assert secret not in both(result)
        assert secret not in summary
        for path in (checkout / ".git" / "release-pipeline").rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_ci_rerun_after_an_announce_failure_completes_without_uploading_twice(
        tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    checkout = t.checkout("job")
    # Enough failures to outlast the announce step's bounded attempts (both files each time).
    t.github.fail_next("POST", UPLOADS_PATH, 503, count=UPLOAD_ATTEMPTS * 2, host="uploads")
    failed = t.ci(checkout, name="first")
    assert failed.code == 1, both(failed)
    assert "Traceback" not in failed.stderr
    assert "503" in both(failed)
    assert ("released", "false") in t.outputs("first")
    assert t.proxy.upload_count == 2
    assert sorted(listed_files(t.upstream, PROJECT)) == sorted(NAMES)

    rerun = t.ci(checkout, name="second")  # "Re-run failed jobs"
    assert rerun.code == 0, both(rerun)
    assert t.proxy.upload_count == 2, "the index saw uploads again"
    check_released(t, checkout)
    assert t.outputs("second") == [("version", "1.3.0"), ("tag", "v1.3.0"),
                                   ("is-prerelease", "false"), ("released", "true")]


# --- 5. build jobs, then one publish job ----------------------------------------------------

def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_build_only_jobs_then_publish_from_the_gathered_artifacts(
        tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    outdirs = []
    for job in ("a", "b"):
        checkout = t.checkout(f"build-{job}")
        outdir = t.root / f"out-{job}"
        built = t.ci(checkout, "--build-only", "--outdir", str(outdir), name=f"build-{job}",
                     secrets=False)
        assert built.code == 0, both(built)
        manifests = sorted(outdir.glob("release-manifest*.json"))
        assert len(manifests) == 1, sorted(p.name for p in outdir.iterdir())
        files = json.loads(manifests[0].read_text(encoding="utf-8"))["files"]
        assert sorted(files) == sorted(NAMES)
        for name, digest in files.items():
            assert sha256_of(outdir / name) == digest
        assert ("released", "false") in t.outputs(f"build-{job}")
        outdirs.append(outdir)
    t.nothing_happened()  # a build job needs no secrets and talks to nobody

    gathered = t.root / "gathered"
    for job, outdir in zip(("a", "b"), outdirs, strict=True):
        shutil.copytree(outdir, gathered / job)
    tampered = t.root / "tampered"
    shutil.copytree(gathered, tampered)
    bad = tampered / "b" / WHEEL
    flip_a_byte(bad)
    good_digest = sha256_of(gathered / "b" / WHEEL)
    bad_digest = hashlib.sha256(bad.read_bytes()).hexdigest()

    publisher = t.checkout("publish")
    refused = t.ci(publisher, "--publish-from", str(tampered), name="tampered")
    text = both(refused)
    assert refused.code == 2, text
    assert "Traceback" not in refused.stderr
    assert WHEEL in text
    assert good_digest in text
    assert bad_digest in text
    t.nothing_happened()
    assert ("released", "false") in t.outputs("tampered")

    published = t.ci(publisher, "--publish-from", str(gathered), name="publish")
    assert published.code == 0, both(published)
    check_released(t, publisher)
    assert t.proxy.upload_count == 2
    for name in NAMES:  # what was published is what the build jobs made
        assert sha256_of(publisher / "dist" / name) == sha256_of(gathered / "a" / name)
    assert ("released", "true") in t.outputs("publish")


# --- 6. refusals before anything happens ----------------------------------------------------

def test_a_tag_that_does_not_match_the_version_is_refused(tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    checkout = t.checkout("job")
    git(checkout, "tag", "--annotate", "-m", "Release 9.9.9", "v9.9.9")  # on the release commit
    result = t.ci(checkout, ref="refs/tags/v9.9.9")
    assert_usage_error(result, "v9.9.9", "1.3.0", "pyproject.toml", code=2)
    assert not (checkout / "dist").exists()
    t.nothing_happened()
    assert ("released", "false") in t.outputs()


def test_a_branch_push_is_nothing_to_release(tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    checkout = t.clone("job")  # on main
    git(checkout, "commit", "--quiet", "--allow-empty", "-m", "Work after the release")
    result = t.ci(checkout, ref="refs/heads/main")
    assert_usage_error(result, "Nothing to release", "refs/heads/main", code=3)
    t.nothing_happened()
    assert ("released", "false") in t.outputs()


def test_head_not_at_the_tag_is_refused(tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    checkout = t.clone("job")
    git(checkout, "commit", "--quiet", "--allow-empty", "-m", "Work after the release")
    head = git(checkout, "rev-parse", "HEAD").strip()
    result = t.ci(checkout)
    assert_usage_error(result, "v1.3.0", head[:12], code=2)
    assert not (checkout / "dist").exists()
    t.nothing_happened()
    assert ("released", "false") in t.outputs()


# --- 7. a shallow checkout ------------------------------------------------------------------

def test_ci_deepens_a_shallow_clone_and_the_version_comes_from_the_tag(
        tagged: Callable[..., Tagged]) -> None:
    t = tagged("hatch-vcs")
    checkout = t.clone("job", "--depth", "1", "--branch", "v1.3.0")
    assert git(checkout, "rev-parse", "--is-shallow-repository").strip() == "true"
    result = t.ci(checkout)
    assert result.code == 0, both(result)
    assert git(checkout, "rev-parse", "--is-shallow-repository").strip() == "false"
    check_released(t, checkout)
    assert t.proxy.upload_count == 2
    assert ("released", "true") in t.outputs()


# --- 8. GitLab CI -----------------------------------------------------------------------------

def dotenv(checkout: Path) -> str:
    return (checkout / "release.env").read_text(encoding="utf-8")


def test_gitlab_jobs_build_then_publish_with_dotenv_outputs(
        tagged: Callable[..., Tagged]) -> None:
    """The two jobs of the generated .gitlab-ci.yml: the build job on the tag (CI_COMMIT_TAG)
    keeps dist/ as its artifacts; the publish job gets them in its own checkout's dist/ and
    publishes. Each writes its outputs as the dotenv report release.env."""
    t = tagged(pre=True)
    builder = t.checkout("gitlab-build")
    built = t.gitlab_ci(builder, "--build-only", "--outdir", "dist")
    assert built.code == 0, both(built)
    assert dotenv(builder) == ("RELEASE_VERSION=1.3.0rc1\nRELEASE_TAG=v1.3.0rc1\n"
                               "RELEASE_IS_PRERELEASE=true\nRELEASE_RELEASED=false\n")
    # The checklist: the artifact release-summary.md (GitLab has no job summary).
    checklist = (builder / "release-summary.md").read_text(encoding="utf-8")
    assert checklist.startswith("# sample-project 1.3.0rc1\n")
    assert "- [x] verify: " in checklist
    t.nothing_happened()
    assert not list(t.root.glob("*.output")), "GitHub outputs written in GitLab CI"

    publisher = t.checkout("gitlab-publish")
    shutil.copytree(builder / "dist", publisher / "dist")  # needs: release-build, artifacts
    published = t.gitlab_ci(publisher, "--publish-from", "dist")
    assert published.code == 0, both(published)
    check_released(t, publisher)
    assert t.proxy.upload_count == 2
    assert dotenv(publisher).splitlines() == [
        "RELEASE_VERSION=1.3.0rc1", "RELEASE_TAG=v1.3.0rc1", "RELEASE_IS_PRERELEASE=true",
        "RELEASE_RELEASED=true"]


def test_a_gitlab_branch_pipeline_is_nothing_to_release(tagged: Callable[..., Tagged]) -> None:
    t = tagged()
    checkout = t.clone("gitlab-branch")  # on main
    git(checkout, "commit", "--quiet", "--allow-empty", "-m", "Work after the release")
    result = t.gitlab_ci(checkout, tag=False)
    assert_usage_error(result, "Nothing to release",
                       "CI_COMMIT_TAG is unset in a pipeline for main", code=3)
    t.nothing_happened()
    assert dotenv(checkout).splitlines() == [
        "RELEASE_VERSION=", "RELEASE_TAG=", "RELEASE_IS_PRERELEASE=false",
        "RELEASE_RELEASED=false"]


# --- 9. Release gates in the build job -------------------------------------------------------

def test_ci_runs_the_gates_in_the_build_job_unless_ci_gates_is_false(
        tagged: Callable[..., Tagged]) -> None:
    """A failing gate stops the build job before anything is built, and the job summary
    shows it failing; with ci-gates = false the job does not run it."""
    import sys

    t = tagged()
    marker = t.root / "gate-ran"
    fail = [sys.executable, "-c",
            f"open({str(marker)!r}, 'a').write('x'); print('smoke: 1 failure'); "
            "raise SystemExit(4)"]
    gates = f'[{{ name = "smoke", run = {json.dumps(fail)} }}]'
    checkout = t.checkout("gated")
    env = {**t.ci_env("gated"), "RELEASE_PIPELINE_GATES": gates}
    result = run_release(checkout, "ci", "--build-only", "--outdir", "dist", env=env)
    assert result.code == 1, both(result)
    assert "The gate 'smoke' failed:" in result.stderr
    assert "smoke: 1 failure" in result.stderr
    assert marker.read_text(encoding="utf-8") == "x"
    assert not (checkout / "dist").exists()  # nothing built
    summary = t.summary("gated")
    assert "- [ ] gate `smoke`: " in summary
    assert ": **failing**" in summary
    t.nothing_happened()
    # ci-gates = false: the project's CI ran them on that commit already.
    checkout = t.checkout("ungated")
    env = {**t.ci_env("ungated"), "RELEASE_PIPELINE_GATES": gates,
           "RELEASE_PIPELINE_CI_GATES": "false"}
    result = run_release(checkout, "ci", "--build-only", "--outdir", "dist", env=env)
    assert result.code == 0, both(result)
    assert marker.read_text(encoding="utf-8") == "x"  # not run again
    assert "gate" not in t.summary("ungated")
