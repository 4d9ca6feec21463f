"""The GitLab forge's decisions, in process against the stand-in (tests/gitlab_standin.py):
no drafts, files in the generic package registry read back by sha256, links, duplicates,
lost answers, pre-releases, which header carries which token, and GitLab's errors as
ForgeError with a hint and no token. The whole release runs in tests/test_forge_matrix.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from gitlab_standin import GitLabStandIn

from release import forges
from release.config import Forge as ForgeConfig
from release.forges import Announcement, ForgeError
from release.forges.gitlab import PRERELEASE_NOTE, GitLab, generic_package
from release.ops import BROKEN, CONFLICTING, DRAFT, MISSING, PRESENT

TAG = "v1.3.0"
WHEEL, SDIST = "hello_release-1.3.0-py3-none-any.whl", "hello_release-1.3.0.tar.gz"


@pytest.fixture
def gl(gitlab_standin: GitLabStandIn, monkeypatch: pytest.MonkeyPatch) -> GitLabStandIn:
    monkeypatch.setattr("release.forges.http.time.sleep", lambda _seconds: None)
    return gitlab_standin


@pytest.fixture
def dist(tmp_path: Path) -> dict[str, Path]:
    files = {WHEEL: b"wheel bytes", SDIST: b"sdist bytes"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


def client(gl: GitLabStandIn, **kwargs: object) -> GitLab:
    return GitLab(gl.api_url, gl.path, gl.token, **kwargs)  # type: ignore[arg-type]


def digests(paths: dict[str, Path]) -> dict[str, str]:
    return {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in paths.items()}


def want(*, prerelease: bool = False, notes: str = "## 1.3.0\n\n- A thing.\n") -> Announcement:
    return Announcement(TAG, TAG, notes, draft=False, prerelease=prerelease, latest=True)


def package() -> tuple[str, str]:
    return generic_package("release-group/tools/hello-release", TAG)


def writes(gl: GitLabStandIn) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in gl.requests if r.method != "GET"]


def test_the_package_is_the_projects_name_and_the_tag() -> None:
    assert package() == ("hello-release", "v1.3.0")
    assert generic_package("g/s/py.pkg", "pkg/v1.0+local") == ("py.pkg", "pkg-v1.0+local")


def test_no_draft_is_made_the_release_is_a_local_record_until_published(
    gl: GitLabStandIn,
) -> None:
    forge = client(gl)
    found = forge.find(TAG)
    assert found is not None
    assert not forge.is_published(found)
    assert forge.matches(found, want())  # the draft step has nothing to do
    assert not forge.is_published(forge.create_draft(want()))
    assert writes(gl) == []
    assert gl.releases() == []


def test_a_wrong_project_is_an_error_not_a_missing_release(gl: GitLabStandIn) -> None:
    forge = GitLab(gl.api_url, "release-group/typo", gl.token)
    with pytest.raises(ForgeError) as raised:
        forge.find(TAG)
    assert raised.value.status == 404
    assert "404 Project Not Found" in raised.value.message
    assert "`repository`" in raised.value.hint


def test_files_go_to_the_package_registry_and_are_read_back(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    forge = client(gl)
    record = forge.find(TAG)
    assert record is not None
    assert {s for s, _ in forge.file_states(record, digests(dist)).values()} == {MISSING}
    for path in dist.values():
        forge.attach(record, path)
    states = forge.file_states(record, digests(dist))
    assert {s for s, _ in states.values()} == {PRESENT}
    assert gl.file_bytes(*package(), WHEEL) == b"wheel bytes"
    assert gl.releases() == []  # still no release: GitLab has no drafts
    forge.attach(record, dist[WHEEL])  # already there: nothing is sent
    assert writes(gl).count(f"PUT {WHEEL}") == 1
    rows = forges.state(forge, TAG, digests(dist), ForgeConfig("g/p", kind="gitlab"))
    assert rows == [(f"release {TAG}", DRAFT), (WHEEL, PRESENT), (SDIST, PRESENT)]


def test_publish_makes_the_release_with_a_link_to_every_file(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    forge = client(gl)
    record = forge.find(TAG)
    assert record is not None
    for path in dist.values():
        forge.attach(record, path)
    made = forge.publish(record, want())
    assert forge.is_published(made)
    release = gl.release(TAG)
    assert release is not None
    assert (release["name"], release["description"]) == (TAG, want().notes)
    links = {link["name"]: link for link in release["assets"]["links"]}
    assert sorted(links) == sorted(dist)
    for name, link in links.items():
        assert link["link_type"] == "package"
        assert link["direct_asset_url"].endswith(f"/-/releases/{TAG}/downloads/{name}")
        assert gl.resolve(link["url"]) == dist[name].read_bytes()
    published = forge.find(TAG)
    assert published is not None
    assert forge.matches(published, want())
    assert {s for s, _ in forge.file_states(published, digests(dist)).values()} == {PRESENT}


def test_a_pre_release_says_so_in_its_first_line(gl: GitLabStandIn) -> None:
    forge = client(gl)
    record = forge.find(TAG)
    assert record is not None
    forge.publish(record, want(prerelease=True))
    release = gl.release(TAG)
    assert release is not None
    assert release["description"] == PRERELEASE_NOTE + want().notes
    published = forge.find(TAG)
    assert published is not None
    assert forge.matches(published, want(prerelease=True))
    assert not forge.matches(published, want(prerelease=False))
    assert release["upcoming_release"] is False  # released now, not in the future


def test_without_a_package_registry_a_release_without_files_is_still_made(
    gl: GitLabStandIn,
) -> None:
    gl.project.package_registry = False  # and attach-artifacts = false: no attach step
    forge = client(gl)
    forge.publish(forge.find(TAG) or {}, want())
    release = gl.release(TAG)
    assert release is not None
    assert release["assets"]["links"] == []


def test_a_file_name_with_a_local_version_links_cleanly(gl: GitLabStandIn,
                                                        tmp_path: Path) -> None:
    local = tmp_path / "hello_release-1.3.0+cpu-py3-none-any.whl"
    local.write_bytes(b"local")
    forge = client(gl)
    forge.attach(forge.find(TAG) or {}, local)
    forge.publish(forge.find(TAG) or {}, want())
    states = forge.file_states(forge.find(TAG) or {}, digests({local.name: local}))
    assert states[local.name][0] == PRESENT


def test_an_existing_release_is_updated_and_completed_not_duplicated(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    gl.seed_release(TAG, name="by hand", description="Old notes.")
    forge = client(gl)
    found = forge.find(TAG)
    assert found is not None
    assert forge.is_published(found)
    assert not forge.matches(found, want())
    forge.update(found, want())
    states = forge.file_states(forge.find(TAG) or {}, digests(dist))
    assert {s for s, _ in states.values()} == {MISSING}
    for path in dist.values():
        forge.attach(forge.find(TAG) or {}, path)  # uploads and links on a release that exists
    release = gl.release(TAG)
    assert release is not None
    assert (release["name"], release["description"]) == (TAG, want().notes)
    assert sorted(link["name"] for link in release["assets"]["links"]) == sorted(dist)
    assert "POST releases" not in writes(gl)


def test_a_file_with_other_content_is_conflicting(gl: GitLabStandIn,
                                                  dist: dict[str, Path]) -> None:
    gl.seed_file(*package(), WHEEL, b"something else")
    forge = client(gl)
    record = forge.find(TAG) or {}
    states = forge.file_states(record, digests(dist))
    assert states[WHEEL][0] == CONFLICTING
    assert states[SDIST][0] == MISSING
    with pytest.raises(ForgeError) as raised:
        forge.attach(record, dist[WHEEL])
    assert raised.value.status == 409
    assert gl.file_bytes(*package(), WHEEL) == b"something else"  # nothing overwritten


def test_of_duplicates_the_most_recent_counts(gl: GitLabStandIn, dist: dict[str, Path]) -> None:
    gl.seed_file(*package(), WHEEL, b"an older upload")
    gl.seed_file(*package(), WHEEL, b"wheel bytes")
    forge = client(gl)
    states = forge.file_states(forge.find(TAG) or {}, digests(dist))
    assert states[WHEEL][0] == PRESENT


@pytest.mark.parametrize("status", [400, 409])
def test_with_duplicates_refused_a_lost_upload_is_read_back(
    gl: GitLabStandIn, dist: dict[str, Path], status: int
) -> None:
    gl.project.duplicates_allowed = False
    gl.project.duplicate_status = status  # type: ignore[assignment]
    forge = client(gl)
    record = forge.find(TAG) or {}
    gl.fail_next("PUT", "*/packages/generic/*", 0, after_effect=True)  # stored, answer lost
    with pytest.raises(ForgeError) as lost:
        forge.attach(record, dist[WHEEL])
    assert lost.value.uncertain
    forge.upload(TAG, dist[WHEEL])  # refused as a duplicate, read back: it is ours
    assert [f["file_name"] for f in gl.package_files(*package())] == [WHEEL]
    other = dist[SDIST].with_name(WHEEL)
    other.write_bytes(b"other bytes")
    with pytest.raises(ForgeError) as refused:
        forge.upload(TAG, other)
    assert refused.value.status == status
    assert "Duplicate package is not allowed" in refused.value.message


def test_a_missing_link_is_added_without_uploading_again(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    gl.seed_file(*package(), WHEEL, b"wheel bytes")
    gl.seed_release(TAG, description=want().notes)
    forge = client(gl)
    release = forge.find(TAG) or {}
    assert forge.file_states(release, digests(dist))[WHEEL][0] == MISSING
    forge.attach(release, dist[WHEEL])
    assert forge.file_states(forge.find(TAG) or {}, digests(dist))[WHEEL][0] == PRESENT
    assert writes(gl) == ["POST links"]


def test_a_link_of_ours_with_the_wrong_type_is_broken_and_repaired(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    forge = client(gl)
    gl.seed_file(*package(), WHEEL, b"wheel bytes")
    gl.seed_release(TAG, links=[{"name": WHEEL, "url": forge.file_url(TAG, WHEEL)}])
    release = forge.find(TAG) or {}
    state, asset = forge.file_states(release, digests(dist))[WHEEL]
    assert state == BROKEN
    assert asset is not None
    forge.detach(asset)
    forge.attach(forge.find(TAG) or {}, dist[WHEEL])
    assert forge.file_states(forge.find(TAG) or {}, digests(dist))[WHEEL][0] == PRESENT


def test_a_link_name_taken_by_something_else_is_conflicting(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    gl.seed_file(*package(), WHEEL, b"wheel bytes")
    gl.seed_release(TAG, links=[{"name": WHEEL, "url": "https://mirror.example/a.whl"}])
    forge = client(gl)
    assert forge.file_states(forge.find(TAG) or {}, digests(dist))[WHEEL][0] == CONFLICTING


def test_a_broken_package_file_is_detached(gl: GitLabStandIn, dist: dict[str, Path]) -> None:
    gl.seed_file(*package(), WHEEL, b"truncated")
    forge = client(gl)
    _state, asset = forge.file_states(forge.find(TAG) or {}, digests(dist))[WHEEL]
    assert asset is not None
    forge.detach(asset)
    forge.detach(asset)  # already gone: fine
    assert gl.package_files(*package()) == []


def test_a_lost_create_answer_finds_the_release_and_never_posts_blindly(
    gl: GitLabStandIn, dist: dict[str, Path]
) -> None:
    forge = client(gl)
    record = forge.find(TAG) or {}
    forge.attach(record, dist[WHEEL])
    gl.fail_next("POST", "*/releases", 502, after_effect=True)
    made = forge.publish(record, want())
    assert forge.is_published(made)
    assert len(gl.releases()) == 1
    assert writes(gl).count("POST releases") == 1


def test_a_create_that_failed_before_acting_is_made_after_reading_none_was(
    gl: GitLabStandIn,
) -> None:
    forge = client(gl)
    gl.fail_next("POST", "*/releases", 503)
    forge.publish(forge.find(TAG) or {}, want())
    assert [r.status for r in gl.requests if r.method == "POST"] == [503, 201]
    assert len(gl.releases()) == 1


def test_reads_are_retried_on_5xx_uploads_are_not(gl: GitLabStandIn,
                                                  dist: dict[str, Path]) -> None:
    forge = client(gl)
    gl.fail_next("GET", "*/releases/*", 502, count=2)
    assert forge.find(TAG) is not None
    gl.fail_next("PUT", "*/packages/generic/*", 502)
    with pytest.raises(ForgeError) as raised:
        forge.upload(TAG, dist[WHEEL])
    assert raised.value.uncertain
    assert writes(gl).count(f"PUT {WHEEL}") == 1


def test_the_job_token_goes_in_job_token_others_in_private_token(gl: GitLabStandIn) -> None:
    config = ForgeConfig(gl.path, kind="gitlab", url=gl.web_url, api_url=gl.api_url,
                         token_env="GITLAB_TOKEN")
    ci = {"GITLAB_CI": "true", "CI_JOB_TOKEN": gl.job_token}
    for environ in (ci, {**ci, "GITLAB_TOKEN": gl.job_token}, {"GITLAB_TOKEN": gl.token}):
        secrets: list[str] = []
        forges.connect(config, environ, secrets).find(TAG)
        assert secrets == [environ.get("GITLAB_TOKEN") or gl.job_token]
    assert [r.auth for r in gl.requests if r.path.endswith(TAG)] == ["job", "job", "private"]


def test_a_rejected_token_is_a_forge_error_with_a_hint_and_no_token(gl: GitLabStandIn) -> None:
    wrong = "glpat-Wr0ng+t0ken/%3D"
    with pytest.raises(ForgeError) as raised:
        GitLab(gl.api_url, gl.path, wrong).find(TAG)
    assert raised.value.status == 401
    assert "rejected the token" in raised.value.message
    assert "401 Unauthorized" in raised.value.message
    assert "api scope" in raised.value.hint
    gl.job_running = False
    with pytest.raises(ForgeError) as job:
        GitLab(gl.api_url, gl.path, gl.job_token, job_token=True).find(TAG)
    assert "CI job token" in job.value.message
    assert "only while its job runs" in job.value.hint
    for error in (raised.value, job.value):
        for secret in (wrong, gl.job_token):
            assert secret not in str(error)


def test_a_token_echoed_by_the_server_is_masked(gl: GitLabStandIn) -> None:
    gl.fail_next("GET", "*", 400, body={"message": {"token": [f"{gl.token} is odd"]}})
    with pytest.raises(ForgeError) as raised:
        client(gl).find(TAG)
    assert gl.token not in str(raised.value)
    assert "token *** is odd" in raised.value.message


def test_a_read_only_token_names_the_missing_scope(gl: GitLabStandIn,
                                                   dist: dict[str, Path]) -> None:
    forge = GitLab(gl.api_url, gl.path, gl.read_only_token)
    with pytest.raises(ForgeError) as raised:
        forge.attach(forge.find(TAG) or {}, dist[WHEEL])
    assert raised.value.status == 403
    assert "insufficient_scope" in raised.value.message
    assert "api scope" in raised.value.hint


def test_the_rate_limit_says_when_to_resume(gl: GitLabStandIn) -> None:
    gl.throttle("GET", "*", retry_after=42)
    with pytest.raises(ForgeError) as raised:
        client(gl).find(TAG)
    assert raised.value.status == 429
    assert "Retry later" in raised.value.message
    assert "GMT" in raised.value.hint
    assert "release resume" in raised.value.hint


def test_an_unreachable_gitlab_is_uncertain(gl: GitLabStandIn) -> None:
    gl.fail_next("GET", "*", 0, count=10)
    with pytest.raises(ForgeError) as raised:
        client(gl).find(TAG)
    assert raised.value.uncertain
    assert "cannot be reached" in raised.value.message


# --- change requests: merge requests, closed with a note -----------------------------------------

HEAD, BASE = "release/v1.3.0", "main"


def test_a_merge_request_is_found_opened_updated_and_closed_with_a_note(gl: GitLabStandIn) -> None:
    forge = client(gl)
    assert forge.find_change(HEAD, BASE) is None
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert forge.change_ref(made) == f"!1 ({gl.web_url}/{gl.path}/-/merge_requests/1)"
    found = forge.find_change(HEAD, BASE)
    assert found is not None
    assert found["iid"] == made["iid"]
    assert forge.find_change(HEAD, "maint") is None
    assert forge.find_change("release/v9", BASE) is None
    gl.clear_requests()
    assert forge.update_change(found, "Release 1.3.0", "notes") is found, "nothing to send"
    assert gl.requests == []
    updated = forge.update_change(found, "Release 2.0.0", "more notes")
    assert (updated["title"], updated["description"]) == ("Release 2.0.0", "more notes")
    forge.close_change(updated, "Closed: nothing to release.")
    assert gl.mr_notes(1) == ["Closed: nothing to release."]
    assert gl.merge_requests()[0]["state"] == "closed"
    assert forge.find_change(HEAD, BASE) is None
    assert len(gl.merge_requests()) == 1


def test_an_open_merge_request_for_the_branches_is_taken_not_duplicated(
    gl: GitLabStandIn,
) -> None:
    forge = client(gl)
    first = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    again = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)  # 409: the open one
    assert again["iid"] == first["iid"]
    assert [r.status for r in gl.requests if r.method == "POST"] == [201, 409]
    assert len(gl.merge_requests()) == 1


def test_a_lost_answer_to_the_create_finds_the_merge_request_made(gl: GitLabStandIn) -> None:
    gl.fail_next("POST", "*/merge_requests", 502, after_effect=True)
    made = client(gl).open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert made["iid"] == 1
    assert len(gl.merge_requests()) == 1


def test_a_close_that_stopped_after_its_note_does_not_note_twice(gl: GitLabStandIn) -> None:
    forge = client(gl)
    made = forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    gl.fail_next("PUT", "*/merge_requests/1", 403)
    with pytest.raises(ForgeError):
        forge.close_change(made, "Closed: nothing to release.")
    assert gl.merge_requests()[0]["state"] == "opened"
    forge.close_change(made, "Closed: nothing to release.")
    assert gl.mr_notes(1) == ["Closed: nothing to release."]
    assert gl.merge_requests()[0]["state"] == "closed"


def test_the_same_branch_as_source_and_target_is_a_forge_error(gl: GitLabStandIn) -> None:
    with pytest.raises(ForgeError) as raised:
        client(gl).open_change("Release 1.3.0", "notes", BASE, BASE)
    assert raised.value.status == 409
    assert "You can't use same project/branch" in raised.value.message
    assert "`pr-branch`" in raised.value.hint
    assert gl.token not in str(raised.value)


def test_a_branch_gitlab_lacks_is_400_with_a_hint(gl: GitLabStandIn) -> None:
    gl.project.branches = {BASE}
    with pytest.raises(ForgeError) as raised:
        client(gl).open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert raised.value.status == 400
    assert "source_branch does not exist" in raised.value.message
    assert "pushed" in raised.value.hint


def test_the_job_token_cannot_reach_merge_requests_and_the_hint_says_so(
    gl: GitLabStandIn,
) -> None:
    forge = GitLab(gl.api_url, gl.path, gl.job_token, job_token=True)
    with pytest.raises(ForgeError) as raised:
        forge.find_change(HEAD, BASE)
    assert raised.value.status == 404
    assert "access token with the api scope" in raised.value.hint
    assert gl.job_token not in str(raised.value)


def test_a_read_api_token_is_403_with_what_the_token_needs(gl: GitLabStandIn) -> None:
    forge = GitLab(gl.api_url, gl.path, gl.read_only_token)
    assert forge.find_change(HEAD, BASE) is None
    with pytest.raises(ForgeError) as raised:
        forge.open_change("Release 1.3.0", "notes", HEAD, BASE)
    assert raised.value.status == 403
    assert "Developer role" in raised.value.hint
    assert "package registry" not in raised.value.hint
    assert gl.read_only_token not in str(raised.value)


def test_a_rejected_token_on_merge_requests_is_masked(gl: GitLabStandIn) -> None:
    secret = "glpat-not-a-real-token-123"
    gl.fail_next("GET", "*/merge_requests", 401, body={"message": f"401 Unauthorized {secret}"})
    with pytest.raises(ForgeError) as raised:
        GitLab(gl.api_url, gl.path, secret).find_change(HEAD, BASE)
    assert raised.value.status == 401
    assert secret not in str(raised.value)
    assert "release resume" not in raised.value.hint


def test_status_in_a_gitlab_job_reads_the_release_with_the_jobs_token(
    gl: GitLabStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`release status` finds the token by the rule the announce steps use: in GitLab CI
    without GITLAB_TOKEN, the job's own token."""
    from release import status

    config = ForgeConfig(gl.path, "gitlab", gl.web_url, gl.api_url, "GITLAB_TOKEN")
    data = {"forge": config.as_dict("_"), "tag": TAG, "files": {}}
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    monkeypatch.delenv("GITLAB_CI", raising=False)
    rows = status._forge_rows(data)
    assert [r.state for r in rows] == ["unknown: GITLAB_TOKEN is not set"]

    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_JOB_TOKEN", gl.job_token)
    rows = status._forge_rows(data)
    assert [(r.item, r.state) for r in rows] == [(f"release {TAG}", DRAFT)]  # not made yet
