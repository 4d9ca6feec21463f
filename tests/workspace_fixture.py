"""A real uv workspace of three packages for the monorepo tests: ``rpws-a`` requires
``rpws-b``, which requires ``rpws-c``; each package has its own version, towncrier
configuration, fragments and changelog; the root holds the shared settings, a uv.lock made
by uv, and a bare remote. Released once: every package at 1.0.0, tagged
``{name}-v1.0.0``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

NAMES = ("rpws-a", "rpws-b", "rpws-c")
REQUIRES = {"rpws-a": ("rpws-b>=1.0,<2",), "rpws-b": ("rpws-c>=1.0,<2",), "rpws-c": ()}

ROOT = """\
[tool.uv.workspace]
members = ["packages/*"]

[tool.release]
branches = ["main"]
"""

TOWNCRIER = """
[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
start_string = "<!-- towncrier release notes start -->\\n"
title_format = "## {version} ({project_date})"
issue_format = "#{issue}"
"""


def package_pyproject(name: str, version: str, requires: tuple[str, ...]) -> str:
    deps = ", ".join(f'"{r}"' for r in requires)
    module = name.replace("-", "_")
    return (
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        f'name = "{name}"\n'
        f'version = "{version}"\n'
        f'description = "Package {name} of the workspace test"\n'
        'readme = "README.md"\n'
        'requires-python = ">=3.10"\n'
        f"dependencies = [{deps}]\n\n"
        + "".join(
            f"[tool.uv.sources]\n{r.split('>')[0]} = {{ workspace = true }}\n\n" for r in requires
        )
        + "[tool.hatch.build.targets.wheel]\n"
        f'packages = ["src/{module}"]\n' + TOWNCRIER
    )


def uv_command(*args: str) -> list[str]:
    """uv, a test dependency: on PATH, or the module of this interpreter's environment."""
    found = shutil.which("uv")
    return [found, *args] if found else [sys.executable, "-m", "uv", *args]


def package_dir(root: Path, name: str) -> Path:
    return root / "packages" / name.removeprefix("rpws-")


def make_workspace(base: Path, *, lock: bool = True) -> Path:
    """The workspace at ``base/ws`` (remote ``base/ws.git``), released at 1.0.0."""
    root = base / "ws"
    remote = base / "ws.git"
    root.mkdir()
    (root / "pyproject.toml").write_text(ROOT, encoding="utf-8")
    (root / ".gitignore").write_text("dist/\n.venv/\n", encoding="utf-8")
    for name in NAMES:
        where = package_dir(root, name)
        module = where / "src" / name.replace("-", "_")
        module.mkdir(parents=True)
        (module / "__init__.py").write_text(f'NAME = "{name}"\n', encoding="utf-8")
        (where / "pyproject.toml").write_text(
            package_pyproject(name, "1.0.0", REQUIRES[name]), encoding="utf-8"
        )
        (where / "README.md").write_text(f"# {name}\n\nA package of the test.\n")
        (where / "changelog.d").mkdir()
        (where / "changelog.d" / ".gitkeep").write_text("", encoding="utf-8")
        (where / "CHANGELOG.md").write_text(
            f"# Changelog of {name}\n\n<!-- towncrier release notes start -->\n\n"
            "## 1.0.0 (2026-01-01)\n\n- First release.\n",
            encoding="utf-8",
        )
    if lock:
        subprocess.run(uv_command("lock", "--offline", "--quiet"), cwd=root, check=True)
    git(base, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "The workspace")
    for name in NAMES:
        git(root, "tag", "-a", "-m", f"Release {name} 1.0.0", f"{name}-v1.0.0")
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "--quiet", "--follow-tags", "-u", "origin", "main")
    return root


_TEMPLATES: dict[bool, Path] = {}


def copy_workspace(tmp_path_factory: pytest.TempPathFactory, base: Path, *,
                   lock: bool = True) -> Path:
    """What ``make_workspace(base, lock=lock)`` makes, copied from a workspace the session
    makes once (in the first test that asks, so with that test's isolated git environment):
    the copy is an independent repository whose ``origin`` is its own copy of the bare
    remote. A workspace takes about ten git commands and a ``uv lock``; a copy, one."""
    if lock not in _TEMPLATES:
        template = tmp_path_factory.mktemp("workspace-template")
        make_workspace(template, lock=lock)
        _TEMPLATES[lock] = template
    template = _TEMPLATES[lock]
    shutil.copytree(template / "ws", base / "ws", symlinks=True)
    shutil.copytree(template / "ws.git", base / "ws.git", symlinks=True)
    git(base / "ws", "remote", "set-url", "origin", str(base / "ws.git"))
    return base / "ws"


def add_fragment(root: Path, name: str, issue: str, kind: str, text: str) -> None:
    path = package_dir(root, name) / "changelog.d" / f"{issue}.{kind}.md"
    path.write_text(text + "\n", encoding="utf-8")
