"""Run a plan's steps in order, journaling after each one.

A step already done (as probed in reality) is skipped, so running again is
idempotent.  A failure or Ctrl-C stops the run with the journal saved and the
exact commands to resume or abort.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from release.errors import EXIT_CHECK_FAILED, ReleaseError
from release.journal import DONE, FAILED, SKIPPED
from release.plan import Step
from release.runner import mask
from release.stages import reaches
from release.steps import Context, implementation
from release.testhooks import failpoint


class Interrupted(ReleaseError):
    exit_code = 130


class StepFailed(ReleaseError):
    exit_code = EXIT_CHECK_FAILED


@dataclass
class Outcome:
    step: Step
    status: str  # "done", "already done", "failed", "not run"
    seconds: float = 0.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)


def selected(steps: tuple[Step, ...], until: str | None) -> list[Step]:
    return [s for s in steps if reaches(s.stage, until)]


def execute(
    ctx: Context,
    *,
    until: str | None = None,
    on_step: Callable[[Outcome], None] = lambda _o: None,
) -> Report:
    report = Report()
    interrupted = False

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for step in selected(ctx.steps, until):
            if interrupted:
                raise Interrupted(
                    f"Interrupted: stopped before {step.id}; the steps before it are done and "
                    "journaled.",
                    "",
                )
            start = time.monotonic()
            if ctx.journal.steps.get(step.id) == SKIPPED:
                outcome = Outcome(step, "skipped", 0.0)
                report.outcomes.append(outcome)
                on_step(outcome)
                continue
            try:
                status = _run_step(ctx.for_step(step), step)
            except StepFailed as exc:
                outcome = Outcome(step, "failed", time.monotonic() - start)
                report.outcomes.append(outcome)
                on_step(outcome)
                if interrupted:  # Ctrl-C also reached the step's own subprocesses
                    raise Interrupted(
                        f"Interrupted during {step.id}: {exc.message}", exc.hint
                    ) from None
                raise
            ctx.journal.steps[step.id] = DONE
            ctx.journal.error = ""
            ctx.journal.save()
            outcome = Outcome(step, status, time.monotonic() - start)
            report.outcomes.append(outcome)
            on_step(outcome)
            failpoint(step.id, "after")
        if interrupted:
            raise Interrupted("Interrupted after the last step; everything is done.", "")
    finally:
        signal.signal(signal.SIGINT, previous)
    return report


def _run_step(ctx: Context, step: Step) -> str:
    """Probe and, if needed, do one step; every failure becomes a journaled StepFailed."""
    impl = implementation(step)
    try:
        failpoint(step.id, "before")
        if impl.is_done(ctx):
            return "already done"
        impl.run(ctx)
        return "done"
    except ReleaseError as exc:
        _fail(ctx, step, exc.message)
        raise StepFailed(f"Step {step.id} failed: {exc.message}", exc.hint) from None
    except OSError as exc:  # the disk, permissions: the user's to fix, then resume
        _fail(ctx, step, f"{exc.strerror or exc}")
        where = f" ({exc.filename})" if exc.filename else ""
        raise StepFailed(
            f"Step {step.id} failed: {exc.strerror or exc}{where}.",
            "Fix the cause (free disk space, permissions), then run release resume.",
        ) from None
    except Exception as exc:  # an unexpected failure still leaves a usable journal
        _fail(ctx, step, f"{type(exc).__name__}: {exc}")
        raise StepFailed(
            f"Step {step.id} failed unexpectedly: {type(exc).__name__}: {exc}",
            "This is a bug in release-pipeline; please report it.",
        ) from exc


def _fail(ctx: Context, step: Step, message: str) -> None:
    ctx.journal.steps[step.id] = FAILED
    ctx.journal.error = mask(message, ctx.runner.secrets)
    ctx.journal.save()
