"""Build the sdist and wheel from a clean checkout of the tagged commit, never the work tree.

The wheel is built from the sdist (as ``python -m build`` does), both in one fresh
isolated environment (made and filled by uv when available, else pip), with
``SOURCE_DATE_EPOCH`` set from the commit time.  Output lands in a temporary
directory and moves to its destination only when complete.

The git commands that export the commit, and uv installing the build requirements
the commit declares, run while ``build`` is imported; the export is removed while
the wheel builds (the wheel is built from the sdist, not from the export). Every
PEP 517 hook still runs in its own process, through ``build``'s ``ProjectBuilder``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace

from release.errors import CommandError, ReleaseError
from release.ops import buildenv
from release.runner import Completed, Pending, Runner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class BuildFailed(ReleaseError):
    exit_code = 1


def _hook_runner(runner: Runner, epoch: str) -> object:
    def run(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**(extra_environ or {}), "SOURCE_DATE_EPOCH": epoch}
        runner.run(list(cmd), cwd=Path(cwd) if cwd else None, env=env)

    return run


class UvEnv:
    """An isolated build environment that uv starts filling before ``build`` is imported.

    It is made as build's own uv environment is (a ``venv`` without pip, then ``uv pip
    install --python``) and has what build's ``IsolatedEnv`` protocol asks for
    (``python_executable``, ``make_extra_environ``), so ``ProjectBuilder`` uses it as it
    would use ``DefaultIsolatedEnv``; only the first install runs while Python loads
    ``build`` (about a tenth of the build stage) instead of after it.
    """

    def __init__(self, runner: Runner, path: Path, uv: str) -> None:
        import venv

        made: list[SimpleNamespace] = []

        class _Maker(venv.EnvBuilder):
            def post_setup(self, context: SimpleNamespace) -> None:
                made.append(context)

        _Maker(symlinks=os.name != "nt", with_pip=False).create(path)
        self._runner = runner
        self._uv = uv
        self._path = path
        self.python_executable: str = made[0].env_exe
        self._scripts: str = made[0].bin_path
        self.started: frozenset[str] = frozenset()
        self._pending: Pending | None = None

    def make_extra_environ(self) -> dict[str, str]:
        path = os.environ.get("PATH")
        return {"PATH": os.pathsep.join([self._scripts, path]) if path else self._scripts}

    def start_install(self, requirements: Collection[str]) -> None:
        """Start installing ``requirements``; :meth:`install` and :meth:`wait` wait for it."""
        self.wait()
        if requirements:
            self._pending = self._runner.spawn(self._argv(requirements), env=self._env())
            self.started = frozenset(requirements)

    def install(self, requirements: Collection[str]) -> None:
        self.wait()
        if requirements:
            done = self._runner.run(self._argv(requirements), env=self._env(), check=False)
            _check_install(done)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            _check_install(pending.result(check=False))

    def _argv(self, requirements: Collection[str]) -> list[str]:
        return [self._uv, "pip", "install", *requirements, "--python", self.python_executable]

    def _env(self) -> dict[str, str]:
        # As build's uv backend: the environment's own Python, no PYTHONPATH leaking in.
        return {"VIRTUAL_ENV": str(self._path), "PYTHONPATH": ""}


def _check_install(done: Completed) -> None:
    if done.returncode != 0:
        raise BuildFailed(
            f"Installing the build requirements failed (exit status {done.returncode}).\n"
            f"{(done.stdout + done.stderr).strip()}",
            "Fix the [build-system] requirements (or the network), then run release resume; "
            "release abort undoes the release while nothing is pushed.",
        )


def declared_requires(pyproject: str) -> list[str] | None:
    """``[build-system] requires`` as written, or None when it is not a list of strings
    (then build works out the requirements, defaults included, after it is imported)."""
    try:
        data = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError:
        return None
    table = data.get("build-system")
    requires = table.get("requires") if isinstance(table, dict) else None
    if isinstance(requires, list) and all(isinstance(r, str) for r in requires):
        return requires
    return None


def _build_pair(
    runner: Runner,
    source: Path,
    work: Path,
    epoch: str,
    *,
    sdist_built: Callable[[], None] = lambda: None,
    early: UvEnv | None = None,
) -> tuple[Path, Path]:
    """The sdist of ``source``, then the wheel built from that sdist (as ``python -m build``
    does), in one isolated environment: the build requirements are installed once.

    ``early`` is an environment made early with uv (see :class:`UvEnv`); without it
    build's ``DefaultIsolatedEnv`` is made here (with pip when uv is not installed).
    ``sdist_built`` is called once ``source`` is no longer needed."""
    from build import BuildBackendException, BuildException, ProjectBuilder
    from build.env import DefaultIsolatedEnv

    out = work / "out"
    kind = "sdist"
    try:
        with contextlib.ExitStack() as stack:
            env: UvEnv | DefaultIsolatedEnv = early or stack.enter_context(
                DefaultIsolatedEnv(installer=buildenv.installer())  # type: ignore[arg-type]
            )
            hooks = _hook_runner(runner, epoch)
            builder = ProjectBuilder.from_isolated_env(env, source, runner=hooks)  # type: ignore[arg-type]
            if isinstance(env, UvEnv) and env.started == builder.build_system_requires:
                env.wait()
            else:
                env.install(builder.build_system_requires)
            env.install(builder.get_requires_for_build("sdist"))
            sdist = Path(builder.build("sdist", out))
            sdist_built()
            kind = "wheel"
            unpacked = _unpack(sdist, work / "sdist")
            builder = ProjectBuilder.from_isolated_env(env, unpacked, runner=hooks)  # type: ignore[arg-type]
            # The sdist's build-system is the source's: its requirements are installed.
            env.install(builder.get_requires_for_build("wheel"))
            return sdist, Path(builder.build("wheel", out))
    except BuildBackendException as exc:
        cause = exc.exception
        detail = cause.output if isinstance(cause, CommandError) else str(cause)
        raise BuildFailed(
            f"Building the {kind} failed: {exc}.\n{detail.strip()}",
            "Fix the build, then run release resume.",
        ) from None
    except BuildException as exc:
        raise BuildFailed(
            f"Building the {kind} failed: {exc}.", "Fix the build, then run release resume."
        ) from None
    except CommandError as exc:
        raise BuildFailed(
            f"Setting up the build environment failed: {exc.message}\n{exc.output.strip()}",
            "Fix it, then run release resume.",
        ) from None
    except subprocess.CalledProcessError as exc:  # build's own pip/uv install of requirements
        output = (
            exc.output.decode(errors="replace")
            if isinstance(exc.output, bytes)
            else (exc.output or "")
        )
        raise BuildFailed(
            f"Installing the build requirements failed (exit status {exc.returncode}).\n"
            f"{output.strip()}",
            "Fix the [build-system] requirements (or the network), then run release resume; "
            "release abort undoes the release while nothing is pushed.",
        ) from None


def _unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, filter="data")
        else:  # pragma: no cover - Python < 3.10.12
            archive.extractall(into)
    (source,) = [p for p in into.iterdir() if p.is_dir()]
    return source


def build_artifacts(runner: Runner, commit: str, into: Path) -> list[Path]:
    """Build sdist and wheel of ``commit`` into ``into``; return their paths.

    The project is ``runner.cwd``; it may sit in a subdirectory of the repository.
    """
    work = Path(tempfile.mkdtemp(prefix="release-build-"))
    checkout = work / "checkout"
    # The reads and the export run at once, and uv installs the build requirements the
    # commit declares, while build's modules are imported.
    epoch_read = runner.spawn(["git", "log", "-1", "--format=%ct", commit])
    top_read = runner.spawn(["git", "rev-parse", "--show-toplevel"])
    pyproject_read = runner.spawn(["git", "show", f"{commit}:./pyproject.toml"])
    export = runner.spawn(["git", "worktree", "add", "--detach", "--quiet", str(checkout), commit])
    removal: list[Pending] = []
    env: UvEnv | None = None

    def remove_export() -> None:  # the wheel is built from the sdist: the export can go
        removal.append(runner.spawn(["git", "worktree", "remove", "--force", str(checkout)]))

    try:
        uv = buildenv.uv_bin()
        requires = declared_requires(pyproject_read.result(check=False).stdout)
        if uv is not None and requires is not None:
            env = UvEnv(runner, work / "env", uv)
            env.start_install(requires)
        import build.env  # noqa: F401 - the slow import, while git and uv work

        epoch = epoch_read.result().stdout.strip()
        top = Path(top_read.result().stdout.strip())
        export.result()
        subdir = runner.cwd.resolve().relative_to(top.resolve())
        sdist, wheel = _build_pair(
            runner, checkout / subdir, work, epoch, sdist_built=remove_export, early=env
        )
        into.mkdir(parents=True, exist_ok=True)
        moved = []
        for built in (sdist, wheel):
            shutil.move(str(built), into / built.name)
            moved.append(into / built.name)
        return moved
    finally:
        if env is not None:
            with contextlib.suppress(BuildFailed):
                env.wait()  # never leave uv running (its failure, if any, was raised)
        for pending in (epoch_read, top_read, pyproject_read, export):
            pending.result(check=False)  # never leave a git command running
        if not removal or removal[0].result(check=False).returncode != 0:
            runner.git("worktree", "remove", "--force", str(checkout), check=False)
        shutil.rmtree(work, ignore_errors=True)
