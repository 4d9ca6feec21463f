"""Whether a directory is the root of a repository of several packages, which packages it
holds, and what a package inherits from the root: cheap reads, on the path of every
command (a single project's preview too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from release.memo import Memo

if TYPE_CHECKING:
    from release.config import Inherited
    from release.packages import Package


def workspace_packages(
    project_dir: Path, project: str, environ: Mapping[str, str] | None = None
) -> tuple[Package, ...]:
    """The packages of the repository when ``project_dir`` is the root of one that holds
    several (docs/monorepo.md); none otherwise. With ``environ``, the cache it names keeps
    packaging's reading of their requirements."""
    from release.ops.git import ROOT_PROJECT

    if project != ROOT_PROJECT or not declares_packages(project_dir):
        return ()
    from release.packages import discover

    memo = Memo.from_environ(environ) if environ is not None else None
    found = discover(project_dir, memo=memo)
    # A workspace of the root alone is a single project.
    return found if any(p.path != ROOT_PROJECT for p in found) else ()


def declares_packages(root: Path) -> bool:
    """Whether the root pyproject.toml declares packages (a uv workspace or
    `[[tool.release.packages]]`): read without the package machinery, which a single
    project's preview never loads."""
    from release.config import read_pyproject
    from release.errors import ConfigError

    if not (root / "pyproject.toml").is_file():
        return False
    try:
        tool = read_pyproject(root).get("tool", {})
    except ConfigError:
        return False  # the project's own reading of it says what is wrong
    if not isinstance(tool, dict):
        return False
    uv, table = tool.get("uv", {}), tool.get("release", {})
    return (isinstance(uv, dict) and "workspace" in uv) or (
        isinstance(table, dict) and "packages" in table
    )


def inherited_by(root: Path, project: str) -> Inherited | None:
    """The root settings the package at ``project`` (its path in the repository at
    ``root``) inherits, when the root declares it one of several packages; else None."""
    from release.config import inherited_from_root
    from release.ops.git import ROOT_PROJECT

    if not declares_packages(root):
        return None
    if not any(p.path == project for p in workspace_packages(root, ROOT_PROJECT)):
        return None
    return inherited_from_root(root, project)
