"""Does a project compile extensions, so that its wheels must be built per platform?

Read-only: ``[build-system]``, the build backends' own tables, ``setup.py`` and a hatch
build hook's script.  ``release init`` reports what it found and, for ``--ci``, writes the
matrix pipeline: cibuildwheel for setuptools, scikit-build-core, meson-python and compiling
hatch hooks; maturin's action for maturin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

Builder = Literal["cibuildwheel", "maturin"]

#: Hatch build hook plugins that compile (the hook's name in
#: ``[tool.hatch.build(.targets.wheel).hooks.NAME]``).
COMPILING_HATCH_HOOKS = frozenset({"mypyc", "cython", "scikit-build", "cmake", "zig"})
_COMPILING_SOURCE = re.compile(
    r"\b(?:Extension|build_ext|cythonize|mypycify|ext_modules|CMake|subprocess\.run\(\s*\[\s*"
    r"[\"'](?:cc|gcc|clang|cmake|cargo))\b"
)
_SETUP_PY = re.compile(r"\bext_modules\b|\bExtension\s*\(|\bcythonize\s*\(|\bmypycify\s*\(")


class Extensions(NamedTuple):
    found: tuple[str, ...]  # what shows the project compiles, one reason each
    builder: Builder | None  # what builds its wheels in the matrix; None: a pure-Python project


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _hatch_hooks(tool: Mapping[str, Any]) -> dict[str, Any]:
    build = tool.get("hatch", {}).get("build", {})
    hooks: dict[str, Any] = {}
    if isinstance(build, dict):
        for table in (build.get("hooks"), build.get("targets", {}).get("wheel", {}).get("hooks")):
            if isinstance(table, dict):
                hooks.update(table)
    return hooks


def detect(project_dir: Path, pyproject: Mapping[str, Any]) -> Extensions:
    """What in ``project_dir`` (with its parsed ``pyproject``) builds compiled extensions."""
    system = pyproject.get("build-system", {})
    backend = str(system.get("build-backend", "")) if isinstance(system, dict) else ""
    requires = system.get("requires", []) if isinstance(system, dict) else []
    requires = [str(r).lower() for r in requires] if isinstance(requires, list) else []
    tool = pyproject.get("tool", {})
    tool = tool if isinstance(tool, dict) else {}
    found: list[str] = []
    maturin = backend == "maturin" or "maturin" in tool
    if maturin:
        found.append(f"maturin builds it (build-backend = {backend!r}): Rust extensions")
    if backend.startswith("scikit_build_core"):
        found.append(f"build-backend = {backend!r} (scikit-build-core: CMake extensions)")
    if backend == "mesonpy":
        found.append("build-backend = 'mesonpy' (meson-python: compiled with Meson)")
    setup_py = _read(project_dir / "setup.py")
    if _SETUP_PY.search(setup_py):
        found.append("setup.py declares compiled extensions (ext_modules / Extension)")
    if tool.get("setuptools", {}).get("ext-modules"):
        found.append("[tool.setuptools] ext-modules declares compiled extensions")
    for name, hook in sorted(_hatch_hooks(tool).items()):
        if name in COMPILING_HATCH_HOOKS:
            found.append(f"the hatch build hook {name!r} compiles")
        elif name == "custom":
            script = hook.get("path", "hatch_build.py") if isinstance(hook, dict) else ""
            if _COMPILING_SOURCE.search(_read(project_dir / str(script))):
                found.append(f"the custom hatch build hook in {script} compiles")
    if "cibuildwheel" in tool:
        found.append("[tool.cibuildwheel] is configured")
    if not found and any(r.startswith(("cython", "pybind11", "nanobind")) for r in requires):
        found.append(
            "[build-system] requires a compiler binding ("
            + ", ".join(r for r in requires if r.startswith(("cython", "pybind11", "nanobind")))
            + ")"
        )
    if not found:
        return Extensions((), None)
    return Extensions(tuple(found), "maturin" if maturin else "cibuildwheel")


def reason(ext: Extensions) -> str:
    """The decision ``release init`` reports."""
    if ext.builder is None:
        return "wheels: pure Python (no compiled extensions found): one wheel for every platform."
    how = (
        "maturin's action builds the wheels"
        if ext.builder == "maturin"
        else "cibuildwheel builds the wheels"
    )
    return (
        "wheels: compiled extensions (" + "; ".join(ext.found) + "), so the wheels are built "
        f"per platform: release init --ci writes a matrix pipeline ({how}); declare the "
        "expected set in `wheels` to make a missing one stop the release."
    )
