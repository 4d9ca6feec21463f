"""After a target confirms, install the published version from it into a fresh environment,
import it, and compare ``importlib.metadata.version`` with the plan."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from release.credentials import require
from release.errors import CommandError, ReleaseError
from release.ops.buildenv import fresh_env
from release.plan import Step
from release.steps import Context, never_undone


class InstallFailed(ReleaseError):
    exit_code = 1


def top_level_modules(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        declared = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        if declared:
            text = archive.read(declared[0]).decode("utf-8")
            return [line.strip() for line in text.splitlines() if line.strip()]
    found: list[str] = []
    for name in names:
        first = name.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")) or first in found:
            continue
        if "/" in name or first.endswith(".py"):
            module = first.removesuffix(".py")
            if module.isidentifier() and module not in found:
                found.append(module)
    return found


def _with_credentials(url: str, username: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class VerifyInstall:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        return ctx.journal.steps.get(self.step.id) == "done"

    def run(self, ctx: Context) -> None:
        target = ctx.target(self.step.path)
        resolved = require(target, ctx.environ, ctx.runner.secrets)
        index = target.index_url
        if resolved.credentials is not None:
            index = _with_credentials(
                index, resolved.credentials.username, resolved.credentials.password
            )
        wheels = [n for n in ctx.journal.artifacts if n.endswith(".whl")]
        modules = (
            top_level_modules(ctx.project_dir / ctx.plan.dist_dir / wheels[0])
            if wheels
            else [ctx.plan.project.replace("-", "_")]
        )
        requirement = f"{ctx.plan.project}=={ctx.plan.version}"
        work = Path(tempfile.mkdtemp(prefix="release-install-"))
        try:
            python = self._install(ctx, work / "venv", index, requirement)
            script = (
                "import importlib, importlib.metadata, sys\n"
                f"for name in {modules!r}: importlib.import_module(name)\n"
                f"print(importlib.metadata.version({ctx.plan.project!r}))\n"
            )
            out = ctx.runner.run([python, "-I", "-c", script], cwd=work).stdout.strip()
        except CommandError as exc:
            raise InstallFailed(
                f"Installing {requirement} from {target.name} into a fresh environment and "
                f"importing {', '.join(modules)} failed: {exc.message}\n{exc.output.strip()}",
                "The release is published but does not install cleanly; fix it in a new version.",
            ) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if out.splitlines()[-1:] != [str(ctx.plan.version)]:
            raise InstallFailed(
                f"{requirement} installed from {target.name} reports version {out!r}.",
                "Check the package's version metadata.",
            )

    def undo(self, ctx: Context) -> None:
        raise never_undone(self.step, "it checks a published release.")

    def _install(self, ctx: Context, venv: Path, index: str, requirement: str) -> str:
        """Install the release itself only from the target (never a same-named package from
        another index), then its dependencies from the default index."""
        env = fresh_env(ctx.runner, venv)
        ctx.runner.run([*env.install, "--no-deps", "--index-url", index, requirement])
        ctx.runner.run([*env.install, requirement])
        if env.check is not None:
            ctx.runner.run(list(env.check))
        return env.python
