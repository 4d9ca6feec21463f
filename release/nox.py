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

With ``gates=True`` (the default), ``nox -s release`` first runs the release gates that name
sessions of this noxfile (``[tool.release] gates``) through nox's own session machinery, in
this nox process: each in its own environment, reused or not as nox decides (``-r``,
``nox.options.reuse_venv``), its output shown as nox shows any session's. A failing gate
stops the session before ``release run`` starts, so nothing changes. ``release run`` is
then told which sessions passed, for which tree (``RELEASE_PIPELINE_NOX_GATES``), and
journals them as passed instead of starting nox again; the gates that are commands it runs
itself. Outside nox (``release run``), and when this nox has no session runner to reuse
(an older or newer nox whose internals differ), the gates run as ``nox --session NAME``
subprocesses instead. A preview (``-- --dry-run``) runs no gate.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

#: What ``release run`` reads to learn which gate sessions nox ran (release/steps/gate.py).
NOX_GATES = "RELEASE_PIPELINE_NOX_GATES"


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
    gates: bool = True,
) -> None:
    """Add the release and build sessions to the noxfile that calls this; with ``gates``,
    the release session runs the gate sessions through nox itself (see the module)."""
    import nox

    def prepare(session: nox.Session) -> None:
        if python is not False:
            session.install(*install)

    @nox.session(name=release_session, python=python)
    def release(session: nox.Session) -> None:
        """Release the project (release run); `-- --dry-run` previews it."""
        prepare(session)
        args = release_args(session.posargs)
        env: dict[str, str] = {}
        if gates and args[0] == "run":
            passed = run_gate_sessions(session)
            if passed is not None:
                env[NOX_GATES] = json.dumps(passed)
        session.run("release", *args, external=python is False, env=env)

    @nox.session(name=build_session, python=python)
    def build(session: nox.Session) -> None:
        """Build and verify HEAD's sdist and wheel into dist/."""
        prepare(session)
        session.run("release", "build", *session.posargs, external=python is False)


def gate_sessions(pyproject: dict[str, Any]) -> list[str]:
    """The gates of ``[tool.release]`` that name nox sessions (the commands are left to
    ``release run``)."""
    table = pyproject.get("tool", {}).get("release", {})
    found = table.get("gates", []) if isinstance(table, dict) else []
    return [g for g in found if isinstance(g, str)] if isinstance(found, list) else []


def _read_pyproject() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        with open("pyproject.toml", "rb") as handle:
            return tomllib.load(handle)
    import nox

    return dict(nox.project.load_toml("pyproject.toml"))


def run_gate_sessions(session: Any) -> dict[str, Any] | None:
    """Run the gate sessions in order through this nox process's own session runners;
    stop the session at the first that fails. What passed, and for which tree (``{"tree":
    HASH, "sessions": [NAME, ...]}``); None when there is nothing to run here (no gate
    session, gates set in the environment, or no nox session machinery to reuse)."""
    import os

    if os.environ.get("RELEASE_PIPELINE_GATES"):
        return None  # gates overridden from the environment: release run runs those
    names = gate_sessions(_read_pyproject())
    if not names:
        return None
    try:
        manifest = session._runner.manifest
        runners = list(manifest.list_all_sessions())
    except AttributeError:
        session.log(
            "release: this nox has no session runner to reuse; release run runs "
            "the gates as nox subprocesses"
        )
        return None
    tree = str(session.run("git", "rev-parse", "HEAD^{tree}", silent=True, external=True)).strip()
    for name in names:
        matching = [r for r, _selected in runners if name == r.name or name in r.signatures]
        if not matching:
            session.error(
                f"The release gate {name!r} ([tool.release] gates in pyproject.toml) names no "
                "session of this noxfile. Fix `gates` (nox --list shows the sessions)."
            )
        for runner in matching:
            runner.posargs = []  # the release's arguments are not the gate's
            result = runner.execute()
            if getattr(result.status, "name", "") != "SUCCESS":
                why = f": {result.reason}" if result.reason else ""
                session.error(
                    f"The release gate {name!r} (session {runner.friendly_name}) did not pass "
                    f"({result.status.name.lower()}{why}); nothing has changed. Run it by "
                    f"hand: nox --session {runner.friendly_name}"
                )
    return {"tree": tree, "sessions": names}
