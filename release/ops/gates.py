"""Running a release gate (``gates``): its command in the project directory, its output
kept (masked) for the message when it fails, and the tree it checked.

Shared by the gate steps (``steps/gate.py``) and ``release check --gates``; what a result
means for a release is decided in ``release.checks`` (:func:`release.checks.gate_problems`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from release.errors import CommandError
from release.runner import mask

if TYPE_CHECKING:
    from release.config import Gate
    from release.runner import Runner

#: What the journal records of a gate that passed or failed.
PASSED, FAILED = "passed", "failed"


class GateResult(NamedTuple):
    """One run of a gate: the command, its exit status (127: it could not start), its
    output (stdout, then stderr, with every known secret masked) and how long it took."""

    name: str
    command: tuple[str, ...]
    returncode: int
    output: str
    seconds: float = 0.0
    started: bool = True  # False: the program was not found

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def run(runner: Runner, gate: Gate, argv: tuple[str, ...], env: Mapping[str, str]) -> GateResult:
    """Run ``gate``'s command ``argv`` (:func:`release.commands.gate`) in the runner's
    directory; never raises for the command's own failure."""
    start = time.monotonic()
    try:
        done = runner.run(argv, check=False, env=dict(env))
    except CommandError as exc:  # the program is not there
        return GateResult(gate.name, argv, 127, exc.output, time.monotonic() - start, False)
    output = mask(done.stdout + done.stderr, runner.secrets)
    return GateResult(gate.name, argv, done.returncode, output, time.monotonic() - start)


def tree(runner: Runner, commit: str = "HEAD") -> str:
    """The tree hash of ``commit``: what a gate that passed there vouches for."""
    return runner.git("rev-parse", f"{commit}^{{tree}}").stdout.strip()
