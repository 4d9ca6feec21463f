"""Local proof of a matrix release without a cloud: a project with a real C extension
(setuptools, compiled by this machine's C compiler), tagged and pushed to a bare remote;
`release ci --build-only` in two separate job clones (the sdist job, and the wheel job of
this platform); the completeness gate against a declared set that this platform satisfies,
and one with a platform not built (refused, nothing uploaded); `release ci --publish-from`
to pypiserver; the compiled module installed from the index and imported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import both, git, run_release, target_env
from indexes import FaultProxy, IndexTarget, PypiserverIndex, listed_files, sha256_of

pytestmark = pytest.mark.usefixtures("utc", "shared_uv_cache")

PROJECT = "rp-cext"
VERSION = "1.0.0"
SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""
PYPROJECT = f"""\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{PROJECT}"
version = "{VERSION}"
description = "A C extension released by a matrix"
requires-python = ">=3.8"
readme = "README.md"

[tool.setuptools]
packages = ["rp_cext"]
package-dir = {{"" = "src"}}

[tool.release]
version-locations = ["pyproject.toml"]
wheels = ["{{wheel}}"]

[[tool.release.publish]]
name = "local"
repository-url = "{{upload}}"
index-url = "{{simple}}"
"""
SETUP_PY = """\
from setuptools import Extension, setup

setup(ext_modules=[Extension("rp_cext._speed", ["src/rp_cext/_speed.c"])])
"""


def this_platform() -> str:
    """The wheel pattern of the wheel this machine builds, e.g. cp311-linux_x86_64."""
    python = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    return f"{python}-{sysconfig.get_platform().replace('-', '_').replace('.', '_')}"


def ci_env(root: Path, job: str, index: IndexTarget | None) -> dict[str, str]:
    return {
        "CI": "true", "GITHUB_ACTIONS": "true", "GITLAB_CI": "",
        "GITHUB_REF": f"refs/tags/v{VERSION}",
        "GITHUB_OUTPUT": str(root / f"{job}.output"),
        "GITHUB_STEP_SUMMARY": str(root / f"{job}.summary.md"),
        **target_env(index=index),
        **({} if index else {"TWINE_USERNAME": "", "TWINE_PASSWORD": ""}),
    }


@pytest.fixture
def cext(tmp_path: Path, pypiserver: PypiserverIndex, fault_proxy) -> tuple[Path, FaultProxy]:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.fail("a C compiler (cc or gcc) is needed: .ci/run checks for one")
    proxy: FaultProxy = fault_proxy(pypiserver)
    work = tmp_path / "work"
    (work / "src" / "rp_cext").mkdir(parents=True)
    (work / "src" / "rp_cext" / "__init__.py").write_text("", encoding="utf-8")
    (work / "src" / "rp_cext" / "_speed.c").write_text(SOURCE, encoding="utf-8")
    (work / "setup.py").write_text(SETUP_PY, encoding="utf-8")
    (work / "README.md").write_text("rp-cext\n", encoding="utf-8")
    index = proxy.target
    (work / "pyproject.toml").write_text(PYPROJECT.replace("{wheel}", this_platform()).replace(
        "{upload}", index.upload_url).replace("{simple}", index.simple_url), encoding="utf-8")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch", "main", str(remote))
    git(work.parent, "init", "--quiet", "--initial-branch", "main", str(work))
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "A C extension")
    git(work, "tag", "--annotate", "-m", f"Release {VERSION}", f"v{VERSION}")
    git(work, "remote", "add", "origin", f"file://{remote}")
    git(work, "push", "--quiet", "--atomic", "origin", "main", f"v{VERSION}")
    return remote, proxy


def test_a_c_extension_is_built_in_two_jobs_gated_published_and_imported(
        cext: tuple[Path, FaultProxy], tmp_path: Path) -> None:
    remote, proxy = cext
    root = tmp_path / "ci"
    root.mkdir()

    def clone(name: str) -> Path:
        dest = root / name
        git(root, "clone", "--quiet", "--branch", f"v{VERSION}", f"file://{remote}", str(dest))
        return dest

    artifacts = root / "artifacts"
    for job, dist in (("sdist", "sdist"), ("wheel-here", "wheel")):
        built = run_release(clone(job), "ci", "--build-only", "--dist", dist, "--outdir",
                            str(artifacts / job), env=ci_env(root, job, None))
        assert built.code == 0, both(built)
    sdist = f"rp_cext-{VERSION}.tar.gz"
    assert sorted(p.name for p in (artifacts / "sdist").iterdir() if p.suffix != ".json") == [
        sdist]
    (wheel,) = [p.name for p in (artifacts / "wheel-here").glob("*.whl")]
    assert wheel.endswith(f"-{this_platform().split('-')[1]}.whl"), wheel
    assert not list((artifacts / "wheel-here").glob("*.tar.gz"))
    uploads_before = proxy.upload_count

    publisher = clone("publish")
    env = ci_env(root, "publish", proxy.target)
    # The gate, against a set that adds a platform not built: refused before any upload.
    missing = run_release(publisher, "-c", f'wheels=["{this_platform()}", "*-win_amd64"]',
                          "ci", "--publish-from", str(artifacts), env=env)
    assert missing.code == 2, both(missing)
    assert "*-win_amd64" in missing.stderr
    assert "nothing was uploaded" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert proxy.upload_count == uploads_before
    assert listed_files(proxy.target, PROJECT) == {}

    # release collect, locally, against the declared set (this platform): it passes.
    merged = root / "merged"
    collected = run_release(publisher, "collect", str(artifacts / "sdist"),
                            str(artifacts / "wheel-here"), "--outdir", str(merged), env=env)
    assert collected.code == 0, both(collected)
    assert sorted(p.name for p in merged.iterdir()) == sorted([sdist, wheel])
    assert f"{this_platform()}: {wheel}" in collected.stdout

    published = run_release(publisher, "ci", "--publish-from", str(artifacts), env=env)
    assert published.code == 0, both(published)
    listed = listed_files(proxy.target, PROJECT)
    assert sorted(listed) == sorted([sdist, wheel])
    assert listed[wheel].sha256 == sha256_of(artifacts / "wheel-here" / wheel)
    order = [r.filename for r in proxy.uploads if r.upstream_status == 200]
    assert order == [wheel, sdist], "the wheels first, the sdist last"

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--only-binary", ":all:", "--index-url", proxy.target.simple_url,
         f"{PROJECT}=={VERSION}"],
        capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "NO_PROXY": "127.0.0.1", "PIP_CONFIG_FILE": "/dev/null"})
    assert installed.returncode == 0, installed.stdout + installed.stderr
    done = subprocess.run([str(python), "-c", "from rp_cext import _speed; print(_speed.add(2, 3),"
                           " _speed.__file__)"], capture_output=True, text=True, check=True)
    value, path = done.stdout.split()
    assert value == "5"
    assert path.endswith(".so") or path.endswith(".pyd"), path
    outputs = (root / "publish.output").read_text(encoding="utf-8")
    assert "released=true" in outputs
    assert json.loads  # the manifests were checked: see test_collect for tampering
