"""Register release sessions in a project's ``noxfile.py`` in one line.

    import nox
    from release.nox import register

    register()          # sessions "release" and "build"

``nox -s release`` runs ``release run`` with the session's arguments
(``nox -s release -- --dry-run`` previews instead); ``nox -s build`` builds and
verifies HEAD's sdist and wheel into dist/.  Each session installs
release-pipeline into its own environment (``install=`` changes what: our own
noxfile passes ``("-e", ".")``); with ``python=False`` the sessions run in the
environment nox itself runs in, where release-pipeline must already be installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def release_args(posargs: Sequence[str]) -> list[str]:
    """Translate the session's arguments: ``--dry-run`` means ``release preview``."""
    args = list(posargs)
    if "--dry-run" in args:
        args.remove("--dry-run")
        return ["preview", *[a for a in args if a not in ("--yes",)]]
    return ["run", *args]


def register(
    *,
    install: Sequence[str] = ("release-pipeline",),
    release_session: str = "release",
    build_session: str = "build",
    python: Any = None,
) -> None:
    """Add the release and build sessions to the noxfile that calls this."""
    import nox

    def prepare(session: nox.Session) -> None:
        if python is not False:
            session.install(*install)

    @nox.session(name=release_session, python=python)
    def release(session: nox.Session) -> None:
        """Release the project (release run); `-- --dry-run` previews it."""
        prepare(session)
        session.run("release", *release_args(session.posargs), external=python is False)

    @nox.session(name=build_session, python=python)
    def build(session: nox.Session) -> None:
        """Build and verify HEAD's sdist and wheel into dist/."""
        prepare(session)
        session.run("release", "build", *session.posargs, external=python is False)
