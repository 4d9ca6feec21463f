"""The one seam through which every subprocess runs.

Arguments are always lists, never shell strings.  Each call is recorded (secrets
masked) so tests and ``--verbose`` can show what ran.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple

from release.errors import CommandError


def mask(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret, raw or URL-encoded, with ``***``."""
    for secret in secrets:
        if len(secret) < 4:
            continue
        from urllib.parse import quote  # only with a secret to mask: ipaddress is costly

        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, "***")
    return text


class Completed(NamedTuple):
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Pending:
    """A command started by :meth:`Runner.spawn`; :meth:`result` waits for it.

    Its output goes to unnamed temporary files, not pipes: a command whose output
    outgrows a pipe's buffer would otherwise stop until ``result()`` reads it, and
    reader threads would take the interpreter lock from the work done meanwhile.
    """

    def __init__(
        self,
        runner: Runner,
        args: list[str],
        proc: subprocess.Popen[bytes] | None,
        outputs: tuple[IO[bytes], IO[bytes]] | None = None,
        error: str = "",
    ) -> None:
        self._runner = runner
        self._args = args
        self._proc = proc
        self._outputs = outputs
        self._error = error
        self._done: Completed | None = None

    def result(self, *, check: bool = True) -> Completed:
        if self._done is None:
            if self._proc is None or self._outputs is None:
                self._done = Completed(tuple(self._args), 127, "", self._error)
            else:
                returncode = self._proc.wait()
                out, err = (_read_back(handle) for handle in self._outputs)
                self._done = Completed(tuple(self._args), returncode, out, err)
        if check and self._done.returncode != 0:
            self._runner.fail(self._done)
        return self._done


def _scratch_file() -> IO[bytes]:
    """An unnamed temporary file: O_TMPFILE where the system has it (no tempfile import,
    which costs more than the file), else ``tempfile.TemporaryFile``."""
    if hasattr(os, "O_TMPFILE"):
        try:
            fd = os.open(os.environ.get("TMPDIR") or "/tmp", os.O_TMPFILE | os.O_RDWR, 0o600)
        except OSError:
            pass
        else:
            return os.fdopen(fd, "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def _read_back(handle: IO[bytes]) -> str:
    with handle:
        handle.seek(0)
        return handle.read().decode("utf-8", "replace")


class Runner:
    """Runs commands in ``cwd``; ``log`` receives each masked argument list.

    ``secrets`` grows as steps learn them (an index password, a token); every
    argument list, output and error is masked with them.
    """

    __slots__ = ("cwd", "env", "log", "secrets")

    def __init__(
        self,
        cwd: Path,
        secrets: list[str] | None = None,
        log: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.cwd = cwd
        self.secrets: list[str] = [] if secrets is None else secrets
        self.log = log
        self.env = env

    def __repr__(self) -> str:
        return f"Runner({self.cwd!r})"  # never the secrets

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = True,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        input_text: str | None = None,
        exact: bool = False,
    ) -> Completed:
        """Run ``argv``; its output read as UTF-8 text. With ``exact``, the input and the
        output keep their line endings (a file's text through ``git hash-object`` or
        ``git cat-file``), else they are read and written as text is by default."""
        args = [str(a) for a in argv]
        if self.log is not None:
            self.log(mask(" ".join(args), self.secrets))
        try:
            proc = subprocess.run(
                args,
                cwd=cwd or self.cwd,
                env=self._environ(env),
                input=input_text if not exact or input_text is None else input_text.encode(),
                capture_output=True,
                text=not exact,
                encoding=None if exact else "utf-8",
                errors=None if exact else "replace",
                check=False,
                # Children get their own session, so Ctrl-C reaches only us and the
                # executor can stop cleanly after the current step.
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise CommandError(
                [mask(a, self.secrets) for a in args], 127, f"{args[0]}: not found ({exc})"
            ) from None
        out, err = proc.stdout, proc.stderr
        if exact:
            out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        done = Completed(tuple(args), proc.returncode, out, err)
        if check and proc.returncode != 0:
            raise CommandError(
                [mask(a, self.secrets) for a in args],
                proc.returncode,
                mask(out + err, self.secrets),
            )
        return done

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> Pending:
        """Start a command now and collect it later, so commands overlap."""
        args = [str(a) for a in argv]
        if self.log is not None:
            self.log(mask(" ".join(args), self.secrets))
        outputs = (_scratch_file(), _scratch_file())  # closed by Pending.result()
        try:
            proc = subprocess.Popen(
                args,
                cwd=self.cwd,
                env=self._environ(env),
                stdin=subprocess.DEVNULL,
                stdout=outputs[0],
                stderr=outputs[1],
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            for handle in outputs:
                handle.close()
            return Pending(self, args, None, error=f"{args[0]}: not found ({exc})")
        return Pending(self, args, proc, outputs)

    def _environ(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        """The children's environment: ours, the runner's variables, then ``extra``."""
        if self.env is None and extra is None:
            return None
        return {**os.environ, **(self.env or {}), **(extra or {})}

    def fail(self, done: Completed) -> None:
        raise CommandError(
            [mask(a, self.secrets) for a in done.argv],
            done.returncode,
            mask(done.stdout + done.stderr, self.secrets),
        )

    def git(self, *args: str, check: bool = True) -> Completed:
        return self.run(["git", *args], check=check)
