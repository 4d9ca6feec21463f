"""Publish the verified artifacts to one target, idempotent by content.

Before each upload the target's simple index is read: the same filename with the
same sha256 counts as done; the same filename with another sha256 is a hard error
(never overwritten, never skipped).  Connection errors and 5xx answers are
retried a bounded number of times, re-reading the index first, because the file
may have been stored before the connection broke.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path

from release.config import Target
from release.credentials import Resolved, missing_hint, require
from release.errors import ReleaseError
from release.ops import CONFLICTING, MISSING, PRESENT
from release.ops.hashing import matches
from release.ops.index import IndexError_, file_sha256, file_states, read_files
from release.plan import Step
from release.runner import mask
from release.steps import Context

RETRIES = 3  # failed attempts retried per file (connection errors, 5xx)
BACKOFF_SECONDS = 0.5

UPLOADED = "uploaded"  # how a file got there when this run sent it (else: PRESENT)


class PublishFailed(ReleaseError):
    exit_code = 1


def _states(ctx: Context, target: Target, resolved: Resolved) -> dict[str, str]:
    """Each artifact's state on the target: present, missing or conflicting."""
    return file_states(
        target.index_url, ctx.plan.project, ctx.journal.artifacts, resolved.credentials
    )


def _upload(ctx: Context, resolved: Resolved, target: Target, path: Path) -> tuple[int, str]:
    """Upload one file with twine's API; (HTTP status, text). 0 for a connection failure."""
    import requests
    from twine import exceptions as twine_exceptions
    from twine.commands.upload import upload
    from twine.settings import Settings

    creds = resolved.credentials
    settings = Settings(
        repository_url=resolved.repository_url or None,
        repository_name=target.repository or "pypi",
        username=None if creds is None else creds.username,
        password=None if creds is None else creds.password,
        non_interactive=True,
        disable_progress_bar=True,
    )
    from release.ops.dists import twine_output

    captured = io.StringIO()
    try:
        with twine_output() as captured:
            upload(settings, [str(path)])
        return 200, ""
    except requests.HTTPError as exc:
        response = exc.response
        status = response.status_code if response is not None else 0
        text = response.text if response is not None else str(exc)
        return status, mask(
            f"{response.reason if response is not None else ''} {text}", ctx.runner.secrets
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        return 0, mask(str(exc), ctx.runner.secrets)
    except twine_exceptions.TwineException as exc:
        raise PublishFailed(
            f"twine refused to upload {path.name} to {target.name}: "
            f"{mask(str(exc), ctx.runner.secrets)}",
            "Fix the target's configuration.",
        ) from None
    finally:
        ctx.log(mask(captured.getvalue(), ctx.runner.secrets))


def publish_file(ctx: Context, target: Target, resolved: Resolved, name: str) -> str:
    """Make ``name`` present on ``target`` with its verified sha256; return how."""
    digest = ctx.journal.artifacts[name]
    path = ctx.project_dir / ctx.plan.dist_dir / name
    uploaded = False
    failures = 0
    last_error = ""
    while True:
        try:
            state = _states(ctx, target, resolved).get(name, MISSING)
        except IndexError_ as exc:
            if not exc.retryable or failures >= RETRIES:
                raise
            failures, last_error = failures + 1, exc.message
            time.sleep(BACKOFF_SECONDS * 2 ** (failures - 1))
            continue
        if state == PRESENT:
            return UPLOADED if uploaded or failures else PRESENT
        if state == CONFLICTING:
            listed = read_files(target.index_url, ctx.plan.project, resolved.credentials)
            theirs = file_sha256(listed[name], resolved.credentials) if name in listed else "?"
            raise PublishFailed(
                f"{target.name} already has a different {name} (sha256 {theirs} on the index, "
                f"{digest} in this release). It is never overwritten.",
                "Release a new version (or a .post release); that filename is taken.",
            )
        if uploaded or failures > RETRIES:
            raise PublishFailed(
                f"{name} is not on {target.name} after "
                + (
                    "an upload that was accepted."
                    if uploaded and not last_error
                    else f"{failures} failed attempt(s); last: {last_error}."
                ),
                "Run release resume when the index works again; files already there are kept.",
            )
        if not matches(path, digest):
            raise PublishFailed(
                f"{path} no longer has the verified sha256 {digest}.",
                "Run release resume to rebuild and verify it.",
            )
        status, text = _upload(ctx, resolved, target, path)
        if status == 200:
            uploaded = True
            continue  # confirmed through the index on the next pass
        if status in (401, 403):
            raise PublishFailed(
                f"{target.name} refused the credentials from {resolved.source} (HTTP {status}).",
                missing_hint(target),
            )
        if status == 0 or status >= 500:
            failures += 1
            last_error = f"HTTP {status or 'connection failure'}: {text.strip()[:300]}"
            if failures <= RETRIES:
                time.sleep(BACKOFF_SECONDS * 2 ** (failures - 1))
            continue
        if status in (400, 409):
            states = _states(ctx, target, resolved)
            if states.get(name) == PRESENT:
                return UPLOADED
            if states.get(name) == CONFLICTING:
                continue  # reported as a conflict on the next pass
            raise PublishFailed(
                f"{target.name} rejected {name} (HTTP {status}: {text.strip()[:300]}), and the "
                "file is not on the index: that filename was probably used before and deleted, "
                "and an index never accepts a filename twice.",
                "Release a .post version or the next version.",
            )
        raise PublishFailed(
            f"{target.name} rejected {name} (HTTP {status}): {text.strip()[:300]}",
            "Fix the cause and run release resume.",
        )


def status_table(rows: list[tuple[str, str, str]]) -> str:
    width = max((len(f) for _, f, _ in rows), default=4)
    lines = [f"  {'target':<12} {'file':<{width}}  state"]
    lines += [f"  {t:<12} {f:<{width}}  {s}" for t, f, s in rows]
    return "\n".join(lines)


@dataclass
class Publish:
    step: Step

    def is_done(self, ctx: Context) -> bool:
        target = ctx.target(self.step.path)
        resolved = require(target, ctx.environ, ctx.runner.secrets)
        try:
            states = _states(ctx, target, resolved)
        except IndexError_:
            return False  # run() reports it, with the table
        if CONFLICTING in states.values():
            return False  # run() reports it
        return all(s == PRESENT for s in states.values())

    def run(self, ctx: Context) -> None:
        target = ctx.target(self.step.path)
        resolved = require(target, ctx.environ, ctx.runner.secrets)
        done: dict[str, str] = {}
        try:
            for name in sorted(ctx.journal.artifacts, key=lambda n: not n.endswith(".tar.gz")):
                done[name] = publish_file(ctx, target, resolved, name)
                ctx.journal.uploads.setdefault(target.name, {})[name] = done[name]
                ctx.journal.save()
        except (PublishFailed, IndexError_) as exc:
            message = exc.message
            if isinstance(exc, IndexError_) and exc.refused_credentials:
                message += f" (credentials from {resolved.source})"
            earlier: list[tuple[str, str, str]] = []
            for other in ctx.plan.targets:
                if other.name == target.name:
                    break
                for fname, how in sorted(ctx.journal.uploads.get(other.name, {}).items()):
                    earlier.append((other.name, fname, how))
            table = status_table(earlier + _rows(ctx, target, resolved, done))
            raise PublishFailed(f"{message}\n{table}", exc.hint) from None
        final = _states(ctx, target, resolved)
        if any(s != PRESENT for s in final.values()):
            raise PublishFailed(
                f"After uploading, {target.name}'s index does not list every file with the "
                "right sha256:\n" + status_table(_rows(ctx, target, resolved, done)),
                "Run release resume to upload what is missing.",
            )


def _rows(
    ctx: Context, target: Target, resolved: Resolved, done: dict[str, str]
) -> list[tuple[str, str, str]]:
    try:
        states = _states(ctx, target, resolved)
    except IndexError_:
        states = {}
    rows = []
    for name in sorted(ctx.journal.artifacts):
        state = states.get(name, "unknown (index unreadable)")
        if state == PRESENT and done.get(name) == UPLOADED:
            state = UPLOADED
        rows.append((target.name, name, state))
    return rows
