"""The virtual environment of the tools the benchmark compares with.

python-semantic-release, commitizen, bump-my-version, towncrier, uv, build and pip, at
the exact versions of ``bench/tools-requirements.txt`` (a lock compiled from
``bench/tools-requirements.in``), live in ``bench/.cache/tools-venv``: never in the
project's environment, so neither side's dependencies change the other's start-up.
The environment is rebuilt when the lock file or the Python changes.

Usage::

    python bench/tools_venv.py            # create or check it, print its path
    python bench/tools_venv.py --versions # and the versions installed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "tools-requirements.txt"
VENV = HERE / ".cache" / "tools-venv"
MARKER = ".bench-lock-sha256"
#: The distributions whose versions the report names.
TOOLS = (
    "python-semantic-release",
    "commitizen",
    "bump-my-version",
    "towncrier",
    "uv",
    "build",
    "pip",
)


class ToolsVenvError(RuntimeError):
    """The tools' environment could not be made (the message says why)."""


def bindir(venv: Path = VENV) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def python(venv: Path = VENV) -> Path:
    return bindir(venv) / ("python.exe" if os.name == "nt" else "python")


def script(name: str, venv: Path = VENV) -> Path:
    return bindir(venv) / (f"{name}.exe" if os.name == "nt" else name)


def _fingerprint(lock: Path) -> str:
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(f"\0{sys.version}\0{sys.base_prefix}".encode())
    return digest.hexdigest()


def _uv() -> str | None:
    """The uv of this environment (the benchmark's session installs it), else on PATH."""
    here = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    if here.is_file():
        return str(here)
    return shutil.which("uv")


def _run(argv: Sequence[str]) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ToolsVenvError(
            f"`{' '.join(argv)}` failed with status {done.returncode}:\n"
            f"{(done.stdout + done.stderr).strip()[-3000:]}"
        )


def ensure(venv: Path = VENV, lock: Path = LOCK, *, quiet: bool = False) -> Path:
    """The tools' virtual environment, created (or recreated) from ``lock`` if needed."""
    fingerprint = _fingerprint(lock)
    marker = venv / MARKER
    if marker.is_file() and marker.read_text(encoding="ascii").strip() == fingerprint:
        return venv
    if not quiet:
        print(f"creating the tools' environment {venv} from {lock.name}", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    if uv:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
        _run([uv, "pip", "install", "--quiet", "--python", str(python(venv)), "-r", str(lock)])
    else:
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(python(venv)), "-m", "pip", "install", "--quiet", "-r", str(lock)])
    missing = [
        name
        for name in ("semantic-release", "cz", "bump-my-version", "towncrier", "uv")
        if not script(name, venv).is_file()
    ]
    if missing:
        raise ToolsVenvError(f"the tools' environment has no {', '.join(missing)}")
    marker.write_text(fingerprint + "\n", encoding="ascii")
    return venv


def versions(venv: Path = VENV) -> dict[str, str | None]:
    """The installed version of each tool (``None`` where it is missing)."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try:\n"
        "        return m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n"
    )
    try:
        done = subprocess.run(
            [str(python(venv)), "-c", code, *TOOLS], capture_output=True, text=True, check=False
        )
    except OSError:
        return dict.fromkeys(TOOLS)
    if done.returncode != 0:
        return dict.fromkeys(TOOLS)
    found: dict[str, str | None] = json.loads(done.stdout)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--versions", action="store_true", help="print the tools' versions")
    args = parser.parse_args(argv)
    try:
        venv = ensure()
    except ToolsVenvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(venv)
    if args.versions:
        for name, version in versions(venv).items():
            print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
