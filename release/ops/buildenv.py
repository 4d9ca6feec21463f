"""Python environments made here: uv finds and fills them when it is installed, else
venv and pip.

:func:`uv_bin` is the one place that looks for uv, so every environment (the build's,
the install check's) honours ``$UV`` alike.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from release.runner import Runner


def uv_bin() -> str | None:
    """uv's executable, found as build finds it (the uv package, else $UV or uv on PATH)."""
    try:
        import uv
    except ImportError:
        return shutil.which(os.environ.get("UV") or "uv")
    try:
        return str(uv.find_uv_bin())
    except FileNotFoundError:
        return shutil.which(os.environ.get("UV") or "uv")


def installer() -> str:
    """What makes isolated environments here: uv when it is installed, else pip."""
    return "pip" if uv_bin() is None else "uv"


@dataclass(frozen=True)
class InstallEnv:
    """A fresh virtual environment to install a published release into."""

    python: str
    install: tuple[str, ...]  # the install command; requirements and options follow
    check: tuple[str, ...] | None  # run after installing, when the installer needs it


def fresh_env(runner: Runner, path: Path) -> InstallEnv:
    """Make a new virtual environment at ``path`` (with uv when it is installed, else venv
    and pip) and say how to install into it."""
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    python = str(path / bindir / "python")
    uv = uv_bin()
    if uv is not None:
        runner.run([uv, "venv", "--quiet", "--python", sys.executable, str(path)])
        return InstallEnv(
            python,
            (uv, "pip", "install", "--quiet", "--no-cache", "--python", python),
            # uv's --no-deps install skips the Requires-Python check
            (uv, "pip", "check", "--python", python),
        )
    runner.run([sys.executable, "-m", "venv", str(path)])
    pip = ("-m", "pip", "install", "--quiet", "--no-cache-dir", "--disable-pip-version-check")
    return InstallEnv(python, (python, *pip), None)
