"""Hooks for tests, read from the environment; a leaf module (it imports nothing of
release-pipeline), so the executor and any step can call them without an import cycle.
"""

from __future__ import annotations

import errno
import os
import signal

FAILPOINT_ENV = "RELEASE_PIPELINE_TEST_FAILPOINT"


def failpoint(step_id: str, when: str) -> None:
    """Tests only: ``RELEASE_PIPELINE_TEST_FAILPOINT=<step id>:<before|after>:<action>``.

    The action is ``kill`` (SIGKILL), ``sigint`` (as Ctrl-C), ``raise`` (an error) or
    ``enospc`` (a write failing for lack of space). Steps may call ``during`` points too.
    """
    spec = os.environ.get(FAILPOINT_ENV)
    if not spec:
        return
    point, _, action = spec.rpartition(":")
    if point != f"{step_id}:{when}":
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
    elif action == "raise":
        raise RuntimeError(f"failpoint {point}")
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"failpoint {point}")
