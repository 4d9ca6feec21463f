"""The publish stage against real local indexes (pypiserver: PEP 503 HTML; devpi: PEP 691 JSON).

Every release here is a real ``release run`` of a sample project: the artifacts the
release verified (sha256 in the journal and the manifest) are the bytes a client
downloads from the index; targets are used in order; the preflight sees a taken version
and missing credentials without uploading; a file already on the index with other bytes
is never overwritten; the published version installs and imports (and when it does not,
the step fails); and no form of the password is ever shown or written anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    PRIVATE_PASSWORD,
    PublishTo,
    Result,
    assert_exit,
    assert_no_crash,
    both,
    configure_publish,
    forwarded_uploads,
    git,
    problem_codes,
    publish_env,
    read_journal,
    read_manifest,
    run_release,
    secret_forms,
    state_dir_of,
    step_shown,
)
from indexes import (
    FaultProxy,
    IndexTarget,
    PypiServer,
    SeenRequest,
    _ProxyHandler,
    http_request,
    listed_files,
    pip_download,
    sha256_of,
    twine_upload,
)

pytestmark = [
    pytest.mark.cached_samples,
    pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials"),
]

PROJECT = "sample-project"
VERSION = "1.3.0"
SDIST = "sample_project-1.3.0.tar.gz"
WHEEL = "sample_project-1.3.0-py3-none-any.whl"
FILES = sorted([SDIST, WHEEL])


def assert_ok(result: Result) -> None:
    assert_exit(result, 0)


def assert_failed(result: Result) -> str:
    return assert_exit(result, 1)


def verified_hashes(project: Path) -> dict[str, str]:
    """The sha256 of each artifact as the release verified it; journal and manifest agree."""
    journal = read_journal(project)["artifacts"]
    manifest = read_manifest(project, VERSION)["files"]
    assert journal == manifest
    assert sorted(journal) == FILES
    for name, digest in journal.items():
        assert sha256_of(project / "dist" / name) == digest, name
    return dict(journal)


def downloaded_hashes(index: IndexTarget, dest: Path) -> dict[str, str]:
    """filename -> sha256 of the bytes a client gets from the index: the wheel through
    ``pip download --no-deps`` (which also checks the index's hash), the sdist by its
    listed URL (pip would build it to read its metadata)."""
    done = pip_download(index.simple_url, f"{PROJECT}=={VERSION}", dest)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = dest.iterdir()
    found = {wheel.name: sha256_of(wheel)}
    response = http_request("GET", listed_files(index, PROJECT)[SDIST].url)
    assert response.status == 200
    found[SDIST] = hashlib.sha256(response.body).hexdigest()
    return found


# --- a full release to one index -----------------------------------------------------------

def test_release_to_pypiserver_publishes_the_verified_bytes_and_installs_them(
    project: Path, pypiserver: IndexTarget, tmp_path: Path
) -> None:
    target = PublishTo("local", pypiserver, verify_install=True)
    configure_publish(project, target)

    result = run_release(project, "run", "--yes", env=publish_env(target))

    assert_ok(result)
    digests = verified_hashes(project)
    assert downloaded_hashes(pypiserver, tmp_path / "download") == digests
    listed = listed_files(pypiserver, PROJECT)
    assert sorted(listed) == FILES
    assert {name: f.sha256 for name, f in listed.items()} == digests
    assert step_shown(result.stdout, "done", "publish", "upload to local")
    assert step_shown(result.stdout, "done", "publish", f"install {PROJECT}=={VERSION} from local")
    assert read_journal(project)["uploads"] == {"local": dict.fromkeys(FILES, "uploaded")}
    status = run_release(project, "status", env=publish_env(target))
    assert status.code == 0, both(status)


# --- two targets, in order ----------------------------------------------------------------

class TimedProxy(FaultProxy):
    """A fault proxy that also notes when each request was answered (one clock for every
    proxy of the test process)."""

    def __init__(self, upstream: IndexTarget) -> None:
        super().__init__(upstream)
        self.answered: list[tuple[int, SeenRequest]] = []

    def __enter__(self) -> TimedProxy:
        self.start()
        return self

    def _record(self, request: SeenRequest) -> None:
        super()._record(request)
        self.answered.append((time.monotonic_ns(), request))


def test_two_targets_get_every_file_the_second_only_after_the_first_is_confirmed(
    project: Path, devpi: IndexTarget, pypiserver: IndexTarget, tmp_path: Path
) -> None:
    """devpi first (its PEP 691 JSON hashes are read), then pypiserver (PEP 503 HTML)."""
    with TimedProxy(devpi) as first_proxy, TimedProxy(pypiserver) as second_proxy:
        first = PublishTo("devpi", first_proxy.target, username_env="DEVPI_USER",
                          password_env="DEVPI_PASSWORD")
        second = PublishTo("pypiserver", second_proxy.target)
        configure_publish(project, first, second)

        result = run_release(project, "run", "--yes", env=publish_env(first, second))

        assert_ok(result)
        digests = verified_hashes(project)
        for index in (devpi, pypiserver):
            assert {n: f.sha256 for n, f in listed_files(index, PROJECT).items()} == digests
            assert downloaded_hashes(index, tmp_path / index.kind) == digests
        assert step_shown(result.stdout, "done", "publish", "upload to devpi")
        assert step_shown(result.stdout, "done", "publish", "upload to pypiserver")
        assert forwarded_uploads(first_proxy) == dict.fromkeys(FILES, 1)
        assert forwarded_uploads(second_proxy) == dict.fromkeys(FILES, 1)
        # The second index sees its first upload only after the first index's listing was
        # read back (confirmed) after the first index's last upload.
        page = devpi.project_url(PROJECT)[len(devpi.origin):]
        first_uploads = [t for t, r in first_proxy.answered if r.upload is not None]
        confirmations = [t for t, r in first_proxy.answered
                         if r.method == "GET" and r.path.startswith(page)
                         and t > max(first_uploads)]
        second_uploads = [t for t, r in second_proxy.answered if r.upload is not None]
        assert confirmations, "the first index was not read after its last upload"
        assert min(second_uploads) > min(confirmations) > max(first_uploads)
        order = result.stdout.index("upload to devpi"), result.stdout.index("upload to pypiserver")
        assert order[0] < order[1]


# --- a different file under the release's filename is never overwritten ------------------

def tampered_copy(path: Path, dest: Path) -> Path:
    """``path`` rebuilt with one more member: same filename and metadata, other bytes."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / path.name
    if path.suffix == ".whl":
        shutil.copyfile(path, out)
        with zipfile.ZipFile(out, "a") as wheel:
            wheel.writestr("sample_project/_tampered.py", "TAMPERED = True\n")
    else:
        with tarfile.open(path) as source, tarfile.open(out, "w:gz") as copy:
            for member in source.getmembers():
                copy.addfile(member, source.extractfile(member) if member.isfile() else None)
            extra = tarfile.TarInfo("sample_project-1.3.0/TAMPERED.txt")
            data = b"tampered\n"
            extra.size = len(data)
            copy.addfile(extra, io.BytesIO(data))
    assert sha256_of(out) != sha256_of(path)
    return out


def test_a_different_file_already_on_the_index_is_a_hard_error_and_never_overwritten(
    project: Path, pypiserver: IndexTarget,
    fault_proxy: Callable[[IndexTarget], FaultProxy], tmp_path: Path,
) -> None:
    index = pypiserver
    proxy = fault_proxy(index)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    env = publish_env(target)
    assert_ok(run_release(project, "run", "--yes", "--until", "push", env=env))
    digests = verified_hashes(project)
    # Someone else's wheel under the release's filename reaches the index first.
    other = tampered_copy(project / "dist" / WHEEL, tmp_path / "other")
    uploaded = twine_upload(index, other)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    other_digest = sha256_of(other)

    result = run_release(project, "resume", "--yes", env=env)

    text = assert_failed(result)
    assert WHEEL in text
    assert "never overwritten" in text
    assert digests[WHEEL] in text, "the release's sha256 is not named"
    assert other_digest in text, "the index's sha256 is not named"
    listed = listed_files(index, PROJECT)
    assert listed[WHEEL].sha256 == other_digest  # not overwritten
    assert WHEEL not in forwarded_uploads(proxy)  # not even tried
    assert read_journal(project)["steps"]["publish.upload:local"] == "failed"
    status = run_release(project, "status", "--json", env=env)
    assert status.code == 1, both(status)
    states = {i["item"]: i["state"] for i in json.loads(status.stdout)["items"]}
    assert states[WHEEL] == "conflicting"


# --- preflight: a taken version and missing credentials, found without uploading ----------

def test_preflight_finds_the_version_already_on_a_target_without_uploading(
    project: Path, pypiserver: IndexTarget, fault_proxy: Callable[[IndexTarget], FaultProxy],
    tmp_path: Path,
) -> None:
    proxy = fault_proxy(pypiserver)
    target = PublishTo("local", proxy.target)
    configure_publish(project, target)
    # An sdist of the planned version is already on the index (uploaded by someone else).
    taken = tmp_path / SDIST
    with tarfile.open(taken, "w:gz") as sdist:
        top = tarfile.TarInfo("sample_project-1.3.0")
        top.type = tarfile.DIRTYPE
        sdist.addfile(top)
        info = tarfile.TarInfo("sample_project-1.3.0/PKG-INFO")
        data = b"Metadata-Version: 2.1\nName: sample-project\nVersion: 1.3.0\n"
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    assert twine_upload(pypiserver, taken).returncode == 0
    head = git(project, "rev-parse", "HEAD")

    for command in ("check", "preview"):
        result = run_release(project, command, env=publish_env(target))
        text = assert_failed(result)
        assert problem_codes(result.stdout) == ["version-on-index"], text
        assert SDIST in text
        assert "'local'" in text

    run = run_release(project, "run", "--yes", env=publish_env(target))
    assert_failed(run)
    assert "version-on-index" in both(run)
    assert [r for r in proxy.seen if r.method != "GET"] == []
    assert proxy.seen, "the preflight did not read the index"
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / "dist").exists()


def test_preflight_reports_missing_credentials_for_each_target_without_uploading(
    project: Path, pypiserver: IndexTarget, devpi: IndexTarget,
    fault_proxy: Callable[[IndexTarget], FaultProxy],
) -> None:
    proxies = fault_proxy(devpi), fault_proxy(pypiserver)
    first = PublishTo("devpi", proxies[0].target, password_env="DEVPI_PASSWORD")
    second = PublishTo("pypiserver", proxies[1].target)
    configure_publish(project, first, second)

    check = run_release(project, "check")  # no credentials anywhere
    text = assert_failed(check)
    assert problem_codes(check.stdout) == ["credentials", "credentials"], text
    assert "'devpi'" in text
    assert "'pypiserver'" in text
    assert "DEVPI_PASSWORD" in text
    assert "TWINE_PASSWORD" in text

    only_second = run_release(project, "check", env=first.env())
    text = assert_failed(only_second)
    assert problem_codes(only_second.stdout) == ["credentials"], text
    assert "'pypiserver'" in text
    assert "'devpi'" not in text

    preview = run_release(project, "preview", "--json")
    assert preview.code == 1, both(preview)
    codes = [p["code"] for p in json.loads(preview.stdout)["problems"]]
    assert codes == ["credentials", "credentials"]

    run = run_release(project, "run", "--yes")
    assert_failed(run)
    assert not (project / "dist").exists()
    for proxy in proxies:
        assert [r for r in proxy.seen if r.method != "GET"] == []


# --- verify-install ------------------------------------------------------------------------

class NoPackageDownloads(FaultProxy):
    """Forwards everything but the download of a package file, answered 404: the index
    lists the release, yet nothing can be installed from it."""

    def _handle(self, handler: _ProxyHandler) -> None:
        if handler.command == "GET" and "/packages/" in handler.path:
            handler.read_body()
            handler.reply(404, [("Content-Type", "text/plain")], b"injected: no downloads\n")
            self._record(SeenRequest("GET", handler.path, 404, "absent", fault="status",
                                     forwarded=False))
            return
        super()._handle(handler)


def test_verify_install_fails_when_the_published_version_does_not_import(
    project: Path, private_index: PypiServer
) -> None:
    init = project / "src" / "sample_project" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8")
                    + "\nimport sample_project_missing_dep  # noqa\n", encoding="utf-8")
    index = private_index.target
    target = PublishTo("local", index, verify_install=True)
    configure_publish(project, target)

    result = run_release(project, "run", "--yes", env=publish_env(target))

    text = assert_failed(result)
    assert step_shown(result.stdout, "done", "publish", "upload to local")
    assert step_shown(result.stdout, "failed", "publish", f"install {PROJECT}=={VERSION}")
    assert "sample_project_missing_dep" in text
    assert f"{PROJECT}=={VERSION}" in text
    assert sorted(listed_files(index, PROJECT, auth=True)) == FILES  # published anyway
    steps = read_journal(project)["steps"]
    assert steps["publish.upload:local"] == "done"
    assert steps["publish.verify-install:local"] == "failed"
    assert_no_secret([result], project, secret_forms(index.username, [PRIVATE_PASSWORD]))


def test_verify_install_fails_when_the_published_files_cannot_be_downloaded(
    project: Path, private_index: PypiServer
) -> None:
    """The failing install command's line holds the index URL with the credentials: it is
    shown masked."""
    with NoPackageDownloads(private_index.target) as proxy:
        target = PublishTo("local", proxy.target, verify_install=True)
        configure_publish(project, target)

        result = run_release(project, "run", "--yes", env=publish_env(target))

        text = assert_failed(result)
        assert step_shown(result.stdout, "failed", "publish", f"install {PROJECT}=={VERSION}")
        assert f"{PROJECT}=={VERSION}" in text
        assert any(r.fault == "status" and "/packages/" in r.path for r in proxy.seen)
        assert "uploader:***@" in text  # the URL is shown, its password masked
    assert_no_secret([result], project, secret_forms(private_index.username, [PRIVATE_PASSWORD]))


def test_verify_install_fails_when_this_python_is_excluded_by_requires_python(
    project: Path, pypiserver: IndexTarget
) -> None:
    """pip refuses a distribution whose Requires-Python excludes the interpreter; the
    smoke test must not report such a release as installable here."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert 'requires-python = ">=3.10"' in text
    pyproject.write_text(text.replace('requires-python = ">=3.10"',
                                      'requires-python = ">=3.99"'), encoding="utf-8")
    target = PublishTo("local", pypiserver, verify_install=True)
    configure_publish(project, target)

    result = run_release(project, "run", "--yes", env=publish_env(target))

    text = assert_failed(result)
    assert step_shown(result.stdout, "done", "publish", "upload to local")
    assert step_shown(result.stdout, "failed", "publish", f"install {PROJECT}=={VERSION}")
    assert ">=3.99" in text


# --- secrets -------------------------------------------------------------------------------

WRONG = "wr0ng&p@ss?%41/Q"


def assert_no_secret(outputs: list[Result], project: Path, forms: list[str]) -> None:
    """No form of a secret in the outputs, nor in any file the release wrote (its state
    under .git/release-pipeline/: journal, manifests; and dist/)."""
    for result in outputs:
        for form in forms:
            assert form not in result.stdout, form
            assert form not in result.stderr, form
    written = [p for p in (*state_dir_of(project).rglob("*"), *(project / "dist").rglob("*"))
               if p.is_file()]
    assert any(p.name == "journal.json" for p in written)
    assert any(p.parent.name == "manifests" for p in written)
    assert any(p.suffix == ".whl" for p in written)
    for path in written:
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, (path, form)


def test_no_form_of_the_password_is_ever_shown_or_written(
    project: Path, private_index: PypiServer
) -> None:
    index = private_index.target
    assert index.password == PRIVATE_PASSWORD
    target = PublishTo("local", index, verify_install=True)
    configure_publish(project, target)
    right, wrong = publish_env(target), {**publish_env(target), "TWINE_PASSWORD": WRONG}
    outputs: list[Result] = []

    def release(*args: str, env: dict[str, str], code: int) -> Result:
        result = run_release(project, *args, env=env)
        assert result.code == code, both(result)
        assert_no_crash(result)
        outputs.append(result)
        return result

    release("preview", env=right, code=0)
    release("preview", "--json", env=wrong, code=1)
    # The preflight reads the private index with the wrong password: refused, nothing done.
    assert "refused the credentials" in both(release("run", "--yes", env=wrong, code=1))
    release("run", "--yes", "--until", "push", env=right, code=0)
    # The upload step meets the wrong password.
    failed = release("resume", "--yes", env=wrong, code=1)
    assert "credentials" in both(failed)
    assert "publish.upload:local" in both(failed)
    release("status", env=wrong, code=1)
    done = release("resume", "--yes", env=right, code=0)
    assert step_shown(done.stdout, "done", "publish", f"install {PROJECT}=={VERSION}")
    assert SDIST in release("status", env=right, code=0).stdout
    release("status", "--json", env=right, code=0)
    release("check", env=right, code=1)  # the next release has no fragments yet
    release("preview", env=right, code=1)

    assert_no_secret(outputs, project, secret_forms(index.username, [PRIVATE_PASSWORD, WRONG]))
