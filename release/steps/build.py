"""Build the sdist and wheel from a clean checkout of the tagged commit, never the work tree.

The wheel is built from the sdist (as ``python -m build`` does), both in one fresh
isolated environment (made and filled by uv when available, else pip), with
``SOURCE_DATE_EPOCH`` set from the commit time.  Output lands in a temporary
directory and moves into ``dist/`` only when complete.

The git commands that export the commit run while ``build`` is imported, and the
export is removed while the wheel builds (the wheel is built from the sdist, not
from the export); every PEP 517 hook still runs in its own process.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import CommandError, ReleaseError
from release.runner import Pending, Runner

if TYPE_CHECKING:
    from release.plan import Step
    from release.steps import Context


class BuildFailed(ReleaseError):
    exit_code = 1


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installer() -> str:
    try:
        import uv  # noqa: F401
    except ImportError:
        return "uv" if shutil.which("uv") else "pip"
    return "uv"


def _hook_runner(runner: Runner, epoch: str) -> object:
    def run(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {**(extra_environ or {}), "SOURCE_DATE_EPOCH": epoch}
        runner.run(list(cmd), cwd=Path(cwd) if cwd else None, env=env)

    return run


def _build_pair(
    runner: Runner,
    source: Path,
    work: Path,
    epoch: str,
    sdist_built: Callable[[], None] = lambda: None,
) -> tuple[Path, Path]:
    """The sdist of ``source``, then the wheel built from that sdist (as ``python -m build``
    does), in one isolated environment: the build requirements are installed once.

    ``sdist_built`` is called once ``source`` is no longer needed."""
    from build import BuildBackendException, BuildException, ProjectBuilder
    from build.env import DefaultIsolatedEnv

    out = work / "out"
    kind = "sdist"
    try:
        with DefaultIsolatedEnv(installer=installer()) as env:  # type: ignore[arg-type]
            hooks = _hook_runner(runner, epoch)
            builder = ProjectBuilder.from_isolated_env(env, source, runner=hooks)  # type: ignore[arg-type]
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
    # The two reads and the export run at once, while build's modules are imported.
    epoch_read = runner.spawn(["git", "log", "-1", "--format=%ct", commit])
    top_read = runner.spawn(["git", "rev-parse", "--show-toplevel"])
    export = runner.spawn(["git", "worktree", "add", "--detach", "--quiet", str(checkout), commit])
    removal: list[Pending] = []

    def remove_export() -> None:  # the wheel is built from the sdist: the export can go
        removal.append(runner.spawn(["git", "worktree", "remove", "--force", str(checkout)]))

    try:
        import build.env  # noqa: F401 - the slow import, while git works

        epoch = epoch_read.result().stdout.strip()
        top = Path(top_read.result().stdout.strip())
        export.result()
        subdir = runner.cwd.resolve().relative_to(top.resolve())
        sdist, wheel = _build_pair(runner, checkout / subdir, work, epoch, remove_export)
        into.mkdir(parents=True, exist_ok=True)
        moved = []
        for built in (sdist, wheel):
            shutil.move(str(built), into / built.name)
            moved.append(into / built.name)
        return moved
    finally:
        for pending in (epoch_read, top_read, export):
            pending.result(check=False)  # never leave a git command running
        if not removal or removal[0].result(check=False).returncode != 0:
            runner.git("worktree", "remove", "--force", str(checkout), check=False)
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Build:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        dist = ctx.project_dir / ctx.plan.dist_dir
        arts = ctx.journal.artifacts
        return bool(arts) and all(
            (dist / name).is_file() and sha256(dist / name) == digest
            for name, digest in arts.items()
        )

    def run(self, ctx: Context) -> None:
        staging = ctx.git_dir / "release-pipeline" / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        assert ctx.journal.release_commit is not None
        built = build_artifacts(ctx.runner, ctx.journal.release_commit, staging)
        from release.executor import failpoint

        failpoint(self.step.id, "during")  # tests: e.g. the disk fills before dist/ is touched
        dist = ctx.project_dir / ctx.plan.dist_dir
        dist.mkdir(parents=True, exist_ok=True)
        artifacts = {}
        for path in built:
            artifacts[path.name] = sha256(path)
            shutil.move(str(path), dist / path.name)  # same file system: a rename
        shutil.rmtree(staging, ignore_errors=True)
        ctx.journal.artifacts = artifacts
