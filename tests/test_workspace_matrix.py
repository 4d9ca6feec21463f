"""The wheel matrices of a repository of several packages (docs/monorepo.md): what ``release
init --ci`` writes at the root when packages have compiled extensions (each one's wheel jobs,
run only when it is tagged on the commit; the publish job needing them all), checked by the
linters and the CI systems' schemas; and the two ``release ci`` options those pipelines run,
``--list-tagged`` and ``--sdist-only``, on the real uv workspace of tests/workspace_fixture.py,
down to a publish from the directories the workflow downloads the artifacts to."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CLI,
    PublishTo,
    assert_exit,
    commit_all,
    publish_env,
    release_command,
    run_release,
)
from indexes import IndexTarget, listed_files
from test_workflow import actionlint, check_jsonschema, load_yaml, zizmor  # noqa: F401
from workspace_fixture import NAMES, copy_workspace, make_workspace, package_dir

from release.ciworkspace import artifact_dir
from release.wheels import LINUX, PLATFORMS

#: rpws-c stays pure Python; rpws-b's wheels are cibuildwheel's, rpws-a's maturin's.
CIBUILDWHEEL = '\n[tool.cibuildwheel]\nbuild = "cp312-*"\n'


def make_compiled(root: Path, name: str) -> None:
    """Give the package ``name`` what release.extensions recognises as cibuildwheel's."""
    path = package_dir(root, name) / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + CIBUILDWHEEL, encoding="utf-8")


def make_maturin(root: Path, name: str) -> None:
    path = package_dir(root, name) / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('requires = ["hatchling"]', 'requires = ["maturin>=1,<2"]')
    path.write_text(text.replace('"hatchling.build"', '"maturin"'), encoding="utf-8")


def init(root: Path, kind: str) -> str:
    done = release_command("init", "--ci", kind, cwd=root)
    assert done.code == 0, done.stdout + done.stderr
    return done.stdout


# The tests of `matrices` on one xdist worker (tests/scheduling.py), which makes it once.
ON_THE_WORKER_OF_MATRICES = pytest.mark.xdist_group("workspace-matrices")


@pytest.fixture(scope="module")
def matrices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The GitHub workflow of the workspace with rpws-b on cibuildwheel and rpws-a on
    maturin; its GitLab pipeline with rpws-b alone compiled (GitLab has no maturin jobs)."""
    github_root = make_workspace(tmp_path_factory.mktemp("matrix-github"), lock=False)
    make_compiled(github_root, "rpws-b")
    make_maturin(github_root, "rpws-a")
    github = init(github_root, "github")
    gitlab_root = make_workspace(tmp_path_factory.mktemp("matrix-gitlab"), lock=False)
    make_compiled(gitlab_root, "rpws-b")
    gitlab = init(gitlab_root, "gitlab")
    return {
        "github": github_root / ".github/workflows/release.yml",
        "github-message": github,
        "gitlab": gitlab_root / ".gitlab-ci.yml",
        "gitlab-message": gitlab,
    }


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]


@ON_THE_WORKER_OF_MATRICES
def test_the_workflow_passes_actionlint_zizmor_and_the_schema(
    matrices: dict[str, Any],
    actionlint: Any,  # noqa: F811 - the fixture of test_workflow
) -> None:
    path = matrices["github"]
    assert actionlint(path) == []
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
    schema = check_jsonschema(path, "vendor.github-workflows")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert (
        "; the wheels of rpws-b (cibuildwheel), rpws-a (maturin) in a matrix of jobs per "
        "platform, a package's only when it is tagged on the commit." in matrices["github-message"]
    )


@ON_THE_WORKER_OF_MATRICES
def test_each_compiled_package_has_its_matrix_run_only_when_it_is_tagged(
    matrices: dict[str, Any],
) -> None:
    jobs = load_yaml(matrices["github"])["jobs"]
    assert set(jobs) == {"tagged", "build", "wheels-rpws-b", "wheels-rpws-a", "publish"}
    # The first job lists the packages tagged on the commit, as a JSON list.
    assert runs(jobs["tagged"])[-1] == "release ci --list-tagged"
    assert jobs["tagged"]["outputs"] == {"packages": "${{ steps.tagged.outputs.packages }}"}
    assert jobs["tagged"]["permissions"] == {"contents": "read"}
    # The build job: every tagged package's files, but only the sdists of the compiled ones.
    assert "release ci --build-only --outdir dist --sdist-only rpws-b --sdist-only rpws-a" in runs(
        jobs["build"]
    )
    for key, directory, action in (
        ("rpws-b", "packages/b", "pypa/cibuildwheel"),
        ("rpws-a", "packages/a", "PyO3/maturin-action"),
    ):
        job = jobs[f"wheels-{key}"]
        assert job["needs"] == "tagged"
        assert job["if"] == f"contains(fromJSON(needs.tagged.outputs.packages), '{key}')"
        assert job["permissions"] == {"contents": "read"}
        assert job["strategy"]["fail-fast"] is False
        names = [entry["name"] for entry in job["strategy"]["matrix"]["include"]]
        assert names == [p.name for p in PLATFORMS]
        (build,) = uses(job, action)
        upload = uses(job, "actions/upload-artifact")[0]["with"]
        assert upload["name"] == f"wheels-{key}_${{{{ matrix.name }}}}"
        if action == "pypa/cibuildwheel":
            assert build["with"]["package-dir"] == directory
            assert upload["path"] == "wheelhouse/*.whl"
        else:  # maturin writes --out in its working directory
            assert build["with"]["working-directory"] == directory
            assert upload["path"] == f"{directory}/wheelhouse/*.whl"
    assert not uses(jobs["wheels-rpws-b"], "PyO3/maturin-action")


@ON_THE_WORKER_OF_MATRICES
def test_publish_needs_every_job_and_downloads_each_packages_wheels_to_its_directory(
    matrices: dict[str, Any],
) -> None:
    jobs = load_yaml(matrices["github"])["jobs"]
    publish = jobs["publish"]
    assert sorted(publish["needs"]) == sorted(["tagged", "build", "wheels-rpws-b", "wheels-rpws-a"])
    # A skipped matrix (its package not tagged) stops nothing; a failed or cancelled job does.
    condition = publish["if"]
    assert condition.startswith("!cancelled() && needs.build.outputs.tags != ''")
    assert "!contains(needs.*.result, 'failure')" in condition
    assert "!contains(needs.*.result, 'cancelled')" in condition
    downloads = [s["with"] for s in uses(publish, "actions/download-artifact")]
    assert downloads[0] == {"name": "dist", "path": "artifacts/"}
    assert downloads[1:] == [
        {"pattern": "wheels-rpws-b_*", "path": "artifacts/rpws-b/"},
        {"pattern": "wheels-rpws-a_*", "path": "artifacts/rpws-a/"},
    ]
    # Where --publish-from artifacts looks for each package's files.
    for key in ("rpws-b", "rpws-a"):
        assert Path(f"artifacts/{key}/") == artifact_dir(Path("artifacts"), key)
    # One package's pattern never takes another's wheels, whatever their names.
    assert not fnmatchcase("wheels-rpws-b-ext_linux-x86_64", "wheels-rpws-b_*")
    assert runs(publish)[-1] == "release ci --publish-from artifacts"
    assert publish["permissions"] == {"id-token": "write", "contents": "write"}


def evaluate_tagged(condition: str, output: str) -> bool:
    """The workflow's condition ``contains(fromJSON(needs.tagged.outputs.packages), 'X')``
    for the job output ``packages`` (a JSON list), as GitHub evaluates it."""
    found = re.fullmatch(
        r"contains\(fromJSON\(needs\.tagged\.outputs\.packages\), '([^']+)'\)", condition
    )
    assert found, condition
    return found[1] in json.loads(output)


def output_of(path: Path, name: str) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(line.split("=", 1)[1] for line in reversed(lines) if line.startswith(name + "="))


def simulate_download(step: dict[str, Any], artifacts: dict[str, Path], root: Path) -> None:
    """What actions/download-artifact does with ``artifacts`` (name -> the directory a job
    uploaded) for one step: the one ``name`` into ``path``, or each artifact the ``pattern``
    matches into ``path/<artifact>/``."""
    import shutil

    into = root / step["path"]
    if "name" in step:
        shutil.copytree(artifacts[step["name"]], into, dirs_exist_ok=True)
        return
    for name, directory in artifacts.items():
        if fnmatchcase(name, step["pattern"]):
            shutil.copytree(directory, into / name, dirs_exist_ok=True)


@ON_THE_WORKER_OF_MATRICES
@pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")
def test_the_workflows_commands_publish_the_matrix_wheels_from_the_package_directories(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    pypiserver: IndexTarget,
    matrices: dict[str, Any],
) -> None:
    """The generated workflow's commands at the root of a workspace tagged rpws-{a,b,c}-v1.0.0,
    as its jobs run them: `tagged` lists the three, the build job writes only the sdists of
    the compiled rpws-b and rpws-a, their wheels (one bare wheel per matrix job, as
    cibuildwheel and maturin leave them) reach the publish job where its download steps put
    them, and --publish-from publishes every package's sdist and wheel."""
    import shutil

    jobs = load_yaml(matrices["github"])["jobs"]
    root = copy_workspace(tmp_path_factory, tmp_path, lock=False)
    target = PublishTo("local", pypiserver)
    index = (
        f'publish=[{{name = "local", repository-url = "{pypiserver.upload_url}", '
        f'index-url = "{pypiserver.simple_url}"}}]'
    )
    env = {**publish_env(target), "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main"}

    def job_run(job: str, command: str, *options: str) -> str:
        """Run the job's ``release ...`` command (the last one of its steps that has it)."""
        line = next(r for r in reversed(runs(jobs[job])) if r.startswith(command))
        output = tmp_path / f"{job}-output"
        done = run_release(
            root, *options, *shlex.split(line)[1:], env={**env, "GITHUB_OUTPUT": str(output)}
        )
        assert_exit(done, 0)
        return done.stdout

    listed = job_run("tagged", "release ci --list-tagged")
    assert listed == '["rpws-c","rpws-b","rpws-a"]\n'
    packages = output_of(tmp_path / "tagged-output", "packages")
    for key in ("rpws-b", "rpws-a"):
        assert evaluate_tagged(jobs[f"wheels-{key}"]["if"], packages)
    assert not evaluate_tagged(jobs["wheels-rpws-b"]["if"], "[]")

    job_run("build", "release ci --build-only")
    upload = uses(jobs["build"], "actions/upload-artifact")[0]["with"]
    uploaded = {upload["name"]: (root / upload["path"]).rename(tmp_path / "uploaded-dist")}
    for name in NAMES:
        files = sorted(p.name for p in artifact_dir(uploaded["dist"], name).iterdir())
        dist = name.replace("-", "_")
        written = [f for f in files if not f.startswith("release-manifest-")]
        compiled = name in ("rpws-a", "rpws-b")
        assert written == ([] if compiled else [f"{dist}-1.0.0-py3-none-any.whl"]) + [
            f"{dist}-1.0.0.tar.gz"
        ]
        (manifest,) = [f for f in files if f.startswith("release-manifest-")]
        manifested = json.loads((uploaded["dist"] / name / manifest).read_text())["files"]
        assert sorted(manifested) == written
    # Each matrix job's bare wheel (here the one the build job made, which it did not write).
    for key in ("rpws-b", "rpws-a"):
        name = uses(jobs[f"wheels-{key}"], "actions/upload-artifact")[0]["with"]["name"]
        artifact = name.replace("${{ matrix.name }}", LINUX[0].name)
        (wheel,) = (package_dir(root, key) / "dist").glob("*.whl")
        (tmp_path / artifact).mkdir()
        shutil.copy2(wheel, tmp_path / artifact / wheel.name)
        uploaded[artifact] = tmp_path / artifact
    # The publish job's fresh checkout: no build output but what it downloads.
    for name in NAMES:
        shutil.rmtree(package_dir(root, name) / "dist")
    for step in uses(jobs["publish"], "actions/download-artifact"):
        simulate_download(step["with"], uploaded, root)

    text = job_run("publish", "release ci --publish-from", "-c", index)
    order = [text.index(f"[{n}] upload to local") for n in ("rpws-c", "rpws-b", "rpws-a")]
    assert order == sorted(order)
    for name in NAMES:
        dist = name.replace("-", "_")
        assert sorted(listed_files(pypiserver, name)) == [
            f"{dist}-1.0.0-py3-none-any.whl",
            f"{dist}-1.0.0.tar.gz",
        ]


@ON_THE_WORKER_OF_MATRICES
def test_the_gitlab_pipeline_has_linux_wheel_jobs_for_the_compiled_package(
    matrices: dict[str, Any],
) -> None:
    path = matrices["gitlab"]
    done = check_jsonschema(path, "vendor.gitlab-ci")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "; the wheels of rpws-b (cibuildwheel) in a matrix" in matrices["gitlab-message"]
    pipeline = load_yaml(path)
    rules = pipeline["release-build"]["rules"]
    tagged = pipeline["release-tagged"]
    assert tagged["script"][-1] == "release ci --list-tagged"
    assert tagged["artifacts"] == {"reports": {"dotenv": "release.env"}}
    assert tagged["rules"] == rules
    assert pipeline["release-build"]["script"][-1] == (
        "release ci --build-only --outdir dist --sdist-only rpws-b"
    )
    wheel_jobs = [k for k in pipeline if k.startswith("release-wheels-")]
    assert wheel_jobs == [f"release-wheels-rpws-b-{p.name}" for p in LINUX]
    for name in wheel_jobs:
        job = pipeline[name]
        assert job["rules"] == rules
        assert job["needs"] == [{"job": "release-tagged", "artifacts": True}]
        assert job["script"][-1] == "cibuildwheel --output-dir dist/rpws-b/wheels packages/b"
        assert job["artifacts"] == {"paths": ["dist/rpws-b/wheels/"]}
        # Inside the directory where --publish-from dist looks for rpws-b's files.
        assert artifact_dir(Path("dist"), "rpws-b") in Path("dist/rpws-b/wheels").parents
    publish = pipeline["release-publish"]
    assert publish["needs"] == [
        {"job": job, "artifacts": True} for job in ["release-build", *wheel_jobs]
    ]
    assert publish["script"][-1] == "release ci --publish-from dist"


def run_check(script: str, packages: str) -> subprocess.CompletedProcess[str]:
    """A wheel job's first script entry in sh, with the dotenv variable of release-tagged,
    then a marker for the build that follows it."""
    return subprocess.run(
        ["sh", "-c", script + "echo BUILD\n"],
        env={"RELEASE_PACKAGES": packages, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@ON_THE_WORKER_OF_MATRICES
def test_a_gitlab_wheel_job_ends_at_once_unless_release_tagged_lists_its_package(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, matrices: dict[str, Any]
) -> None:
    """release-tagged writes RELEASE_PACKAGES to its dotenv report; a wheel job of rpws-b
    builds when the list names rpws-b, and otherwise ends at once, successfully."""
    check = load_yaml(matrices["gitlab"])["release-wheels-rpws-b-linux-x86_64"]["script"][0]
    root = copy_workspace(tmp_path_factory, tmp_path, lock=False)
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path), "CI_COMMIT_BRANCH": "main"}

    def dotenv() -> str:
        done = run_release(root, "ci", "--list-tagged", env=env)
        assert_exit(done, 0)
        report = (tmp_path / "release.env").read_text(encoding="utf-8")
        assert report == f"RELEASE_PACKAGES={done.stdout}"
        return report.strip().split("=", 1)[1]

    tagged = dotenv()
    assert tagged == '["rpws-c","rpws-b","rpws-a"]'
    built = run_check(check, tagged)
    assert (built.returncode, built.stdout) == (0, "BUILD\n")
    for other in ('["rpws-b-ext"]', '["rpws-c"]'):
        skipped = run_check(check, other)
        assert skipped.returncode == 0, skipped.stderr
        assert skipped.stdout == "No release tag of rpws-b on this commit: no wheels to build.\n"

    commit_all(root, "Start the next version")  # a commit without a release tag
    assert dotenv() == "[]"
    assert run_check(check, "[]").stdout.endswith("no wheels to build.\n")


def test_list_tagged_names_the_packages_tagged_on_head(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, cli: CLI
) -> None:
    root = copy_workspace(tmp_path_factory, tmp_path, lock=False)
    output = tmp_path / "github_output"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)}
    one = run_release(root, "ci", "--list-tagged", "--tag", "rpws-b-v1.0.0", env=env)
    assert assert_exit(one, 0) == '["rpws-b"]\n'
    assert output.read_text(encoding="utf-8") == 'packages=["rpws-b"]\n'
    # An error about the tags is the build job's (exit 2), not an empty list.
    from conftest import git

    git(root, "tag", "-a", "-m", "again", "rpws-b-v1.0.1", "HEAD")
    twice = run_release(root, "ci", "--list-tagged", env=env)
    assert "several release tags of rpws-b" in assert_exit(twice, 2)


def test_what_the_options_of_the_matrix_refuse(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, project: Path, cli: CLI
) -> None:
    """--list-tagged and --sdist-only name packages of a repository of several; each misuse
    is one message and exit status 2, before anything is built."""
    root = copy_workspace(tmp_path_factory, tmp_path, lock=False)
    unknown = cli("ci", "--build-only", "--outdir", "dist", "--sdist-only", "rpws-x", cwd=root)
    text = assert_exit(unknown, 2)
    assert "no package of the repository" in text
    assert "'rpws-x' (its packages: rpws-a, rpws-b, rpws-c)" in text
    assert not (root / "dist").exists()
    alone = cli("ci", "--sdist-only", "rpws-b", cwd=root)
    assert "--sdist-only goes with --build-only" in assert_exit(alone, 2)
    both = cli("ci", "--build-only", "--dist", "sdist", "--sdist-only", "rpws-b", cwd=root)
    assert "--sdist-only and --dist sdist both choose" in assert_exit(both, 2)
    mixed = cli("ci", "--list-tagged", "--build-only", cwd=root)
    assert "not allowed with argument" in assert_exit(mixed, 2)
    inside = cli("-C", "packages/b", "ci", "--list-tagged", cwd=root)
    assert "is not the root of one" in assert_exit(inside, 2)
    single = cli("ci", "--build-only", "--sdist-only", "x", cwd=project)
    text = assert_exit(single, 2)
    assert "--sdist-only names packages of a repository of several" in text
    assert "use --dist sdist" in text
    listed = cli("ci", "--list-tagged", cwd=project)
    assert "--list-tagged lists the packages of a repository" in assert_exit(listed, 2)


def test_gitlab_refuses_a_maturin_package_naming_it(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, cli: CLI
) -> None:
    root = copy_workspace(tmp_path_factory, tmp_path, lock=False)
    make_compiled(root, "rpws-b")
    make_maturin(root, "rpws-a")
    refused = cli("init", "--ci", "gitlab", cwd=root)
    text = assert_exit(refused, 2)
    assert "the package rpws-a (packages/a) builds its wheels with maturin" in text
    assert "Use release init --ci github" in text
    assert not (root / ".gitlab-ci.yml").exists()


def test_a_package_directory_the_jobs_cannot_hold_as_it_is_is_refused(tmp_path: Path) -> None:
    from release.errors import UsageError
    from release.workflows import WheelPackage, write_workspace

    packages = [("spam", "spam-v{version}")]
    for kind in ("github", "gitlab"):
        with pytest.raises(UsageError) as refused:
            write_workspace(
                tmp_path,
                kind,
                packages,
                ["main"],
                "release-pipeline",
                dry_run=True,
                compiled=[WheelPackage("spam", "packages/my spam", "cibuildwheel")],
            )
        assert "the directory of spam, 'packages/my spam', goes into its wheel jobs" in str(
            refused.value.message
        )
        assert refused.value.exit_code == 2


def test_the_job_output_is_one_json_line_for_either_ci_system(tmp_path: Path) -> None:
    from release.ciworkspace import write_tagged_output

    github = tmp_path / "github_output"
    line = write_tagged_output({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(github)}, ["a"])
    assert line == '["a"]'
    assert github.read_text(encoding="utf-8") == 'packages=["a"]\n'
    write_tagged_output({"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path)}, [])
    assert (tmp_path / "release.env").read_text(encoding="utf-8") == "RELEASE_PACKAGES=[]\n"
    assert write_tagged_output({}, ["a", "b-c"]) == '["a","b-c"]'
