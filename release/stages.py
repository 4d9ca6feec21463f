"""The stages of a release, in order, and which of them ``release ci`` runs: the one
definition every consumer asks (the executor, the checks, ``resume``, the plan, ``release
ci``, ``--until``).  Part of the interface; importable at no cost.
"""

from __future__ import annotations

STAGES = ("check", "prepare", "tag", "build", "verify", "push", "publish", "announce", "post")

#: The stages ``release ci`` runs on a tagged commit, and in which of its jobs: ``build``
#: (``--build-only``: each build job) or ``publish`` (``--publish-from``: the one publish
#: job). A plain ``release ci`` runs both jobs' stages. The others run only in
#: ``release run``: the tag and the push exist before CI starts, and CI commits nothing.
CI_JOBS: dict[str, str] = {
    "build": "build",
    "verify": "build",
    "publish": "publish",
    "announce": "publish",
}


def position(stage: str) -> int:
    """Where ``stage`` comes in a release (0 for ``check``); ValueError for no stage."""
    return STAGES.index(stage)


def reaches(stage: str, until: str | None) -> bool:
    """Whether a run that stops after ``until`` (None: the whole release) reaches ``stage``."""
    return until is None or position(stage) <= position(until)


def public(stage: str) -> bool:
    """Whether what ``stage`` does is public, so never undone: the push and every stage
    after it."""
    return position(stage) >= position("push")


def after(stage: str) -> tuple[str, ...]:
    """The stages that come after ``stage``."""
    return STAGES[position(stage) + 1 :]


def ci_stages(job: str | None = None) -> tuple[str, ...]:
    """The stages ``release ci`` runs, in order: those of ``job`` (``build`` or ``publish``),
    or of both jobs when ``job`` is None."""
    return tuple(s for s in STAGES if s in CI_JOBS and (job is None or CI_JOBS[s] == job))
