"""Sample projects: a git repository with a bare remote, a release tag and fragments.

The demo (demo/run_demo.py, ``nox -s demo``) and the test suite release these, so
every layout they can create (hatchling, setuptools, flit-core, hatch-vcs) is
exercised by the tests.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Literal

Layout = Literal["hatchling", "setuptools", "flit", "hatch-vcs"]
LAYOUTS: tuple[Layout, ...] = ("hatchling", "setuptools", "flit", "hatch-vcs")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.invalid",
    "GIT_COMMITTER_NAME": "Demo Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

_TOWNCRIER = """
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {version} ({project_date})"
issue_format = "[#{issue}](https://example.invalid/issues/{issue})"
"""

_BUILD = {
    "hatchling": ('requires = ["hatchling"]', "hatchling.build"),
    "setuptools": ('requires = ["setuptools>=68"]', "setuptools.build_meta"),
    "flit": ('requires = ["flit_core>=3.9,<4"]', "flit_core.buildapi"),
    "hatch-vcs": ('requires = ["hatchling", "hatch-vcs"]', "hatchling.build"),
}


def _pyproject(name: str, layout: Layout, version: str) -> str:
    requires, backend = _BUILD[layout]
    head = (
        f'[build-system]\n{requires}\nbuild-backend = "{backend}"\n\n[project]\nname = "{name}"\n'
    )
    pkg = name.replace("-", "_")
    if layout == "flit":
        body = 'dynamic = ["version", "description"]\n'
        release = f'\n[tool.release]\nversion-locations = ["src/{pkg}/__init__.py"]\n'
        extra = f'\n[tool.flit.module]\nname = "{pkg}"\n'
    elif layout == "hatch-vcs":
        body = 'dynamic = ["version"]\ndescription = "A sample project."\n'
        release = ""
        extra = '\n[tool.hatch.version]\nsource = "vcs"\n'
    else:
        body = (
            f'version = "{version}"  # kept by release-pipeline\n'
            'description = "A sample project."\n'
        )
        release = (
            f'\n[tool.release]\nversion-locations = ["pyproject.toml", "src/{pkg}/__init__.py"]\n'
        )
        extra = ""
    return (
        head
        + body
        + 'readme = "README.md"\nrequires-python = ">=3.10"\n'
        + extra
        + release
        + _TOWNCRIER
    )


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def create_sample_project(
    root: Path,
    *,
    name: str = "sample-project",
    layout: Layout = "hatchling",
    version: str = "1.2.0",
    fragments: dict[str, str] | None = None,
) -> Path:
    """A git repository at ``root/name`` with a bare remote ``root/name.git`` and a release tag.

    The project is released at ``version`` (tagged ``v{version}``) and has the given
    fragments (file name -> text) committed on top, ready for its next release.
    """
    root = root.resolve()
    project = root / name
    remote = root / f"{name}.git"
    pkg = name.replace("-", "_")
    (project / "src" / pkg).mkdir(parents=True)
    (project / "changelog.d").mkdir()
    (project / "pyproject.toml").write_text(_pyproject(name, layout, version), encoding="utf-8")
    init = f'"""A sample project."""\n\n__version__ = "{version}"\n'
    if layout == "hatch-vcs":
        init = '"""A sample project."""\n'
    (project / "src" / pkg / "__init__.py").write_text(init, encoding="utf-8")
    (project / "README.md").write_text(f"# {name}\n", encoding="utf-8")
    (project / "CHANGELOG.md").write_text(
        "# Changelog\n\n<!-- towncrier release notes start -->\n\n"
        f"## {version} (2026-01-01)\n\n### Features\n\n- First release.\n",
        encoding="utf-8",
    )
    (project / "changelog.d" / ".gitkeep").write_text("", encoding="utf-8")
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "remote", "add", "origin", str(remote))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", f"Release {version}")
    git(project, "tag", "--annotate", "-m", f"Release {version}", f"v{version}")
    for filename, text in (fragments or {}).items():
        (project / "changelog.d" / filename).write_text(text, encoding="utf-8")
    if fragments:
        git(project, "add", "--all")
        git(project, "commit", "--quiet", "-m", "Add changes for the next release")
    git(project, "push", "--quiet", "--atomic", "origin", "main", f"v{version}")
    git(project, "branch", "--quiet", "--set-upstream-to=origin/main")
    return project


DEMO_FRAGMENTS = {
    "101.feature.md": "Add `sample --json`, which prints results for machines.",
    "102.bugfix.md": "Fix a crash when the input file is empty.",
    "103.doc.md": "Document the configuration file.",
    "104.misc.md": "",
}
