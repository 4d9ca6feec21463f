"""Publish the verified artifacts to one target, idempotent by content.

The target is reached through the Target protocol (release.targets): it probes which
files are there by sha256, uploads one file (never overwriting another of that
name), and confirms what it serves.  This step orders the files (`upload-order`: the
wheels, then the sdist, by default),
journals each one, and reports a table of every file's state when it fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from release.ops import CONFLICTING, PRESENT
from release.plan import Step
from release.steps import Context, never_undone
from release.targets import UPLOADED, Target, TargetError, connect

PublishFailed = TargetError  # the error of a failed publish step


def status_table(rows: list[tuple[str, str, str]]) -> str:
    width = max((len(f) for _, f, _ in rows), default=4)
    lines = [f"  {'target':<12} {'file':<{width}}  state"]
    lines += [f"  {t:<12} {f:<{width}}  {s}" for t, f, s in rows]
    return "\n".join(lines)


def upload_order(names: Iterable[str], *, sdist_last: bool) -> list[str]:
    """The files in the order they are uploaded: the wheels by name, the sdist after them
    (``upload-order = "wheels-first"``) or before them."""
    return sorted(names, key=lambda n: (n.endswith(".tar.gz") == sdist_last, n))


@dataclass
class Publish:
    step: Step

    def _target(self, ctx: Context) -> Target:
        return connect(
            ctx.target(self.step.path), ctx.plan.project, ctx.environ, ctx.runner.secrets, ctx.log
        )

    def is_done(self, ctx: Context) -> bool:
        target = self._target(ctx)
        try:
            states = target.probe(ctx.journal.artifacts)
        except TargetError:
            return False  # run() reports it, with the table
        if CONFLICTING in states.values():
            return False  # run() reports it
        return all(s == PRESENT for s in states.values())

    def run(self, ctx: Context) -> None:
        target = self._target(ctx)
        dist = ctx.project_dir / ctx.plan.dist_dir
        done: dict[str, str] = {}
        try:
            for name in upload_order(ctx.journal.artifacts, sdist_last=ctx.plan.sdist_last):
                done[name] = target.upload(name, dist / name, ctx.journal.artifacts[name])
                ctx.journal.uploads.setdefault(target.name, {})[name] = done[name]
                ctx.journal.save()
        except TargetError as exc:
            earlier: list[tuple[str, str, str]] = []
            for other in ctx.plan.targets:
                if other.name == target.name:
                    break
                for fname, how in sorted(ctx.journal.uploads.get(other.name, {}).items()):
                    earlier.append((other.name, fname, how))
            table = status_table(earlier + _rows(ctx, target, done))
            raise PublishFailed(f"{exc.message}\n{table}", exc.hint) from None
        final = target.confirm(ctx.journal.artifacts)
        if any(s != PRESENT for s in final.values()):
            raise PublishFailed(
                f"After uploading, {target.name}'s index does not list every file with the "
                "right sha256:\n" + status_table(_rows(ctx, target, done)),
                "Run release resume to upload what is missing.",
            )

    def undo(self, ctx: Context) -> None:
        raise never_undone(
            self.step, "a file on an index is public, and its name can never be used again."
        )


def _rows(ctx: Context, target: Target, done: dict[str, str]) -> list[tuple[str, str, str]]:
    try:
        states = target.probe(ctx.journal.artifacts)
    except TargetError:
        states = {}
    rows = []
    for name in sorted(ctx.journal.artifacts):
        state = states.get(name, "unknown (index unreadable)")
        if state == PRESENT and done.get(name) == UPLOADED:
            state = UPLOADED
        rows.append((target.name, name, state))
    return rows
