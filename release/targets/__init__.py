"""The Target seam: where the publish stage puts the verified artifacts.

A target is reached only through :func:`connect`, which looks its kind up in
:data:`TARGETS`; the publish step and ``release status`` know the :class:`Target`
protocol, never a target's own client.  Adding a target kind is one module here and
one line in :data:`TARGETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from release.errors import ReleaseError

if TYPE_CHECKING:
    from packaging.version import Version

    from release.config import Target as TargetConfig

UPLOADED = "uploaded"  # how a file got there when this run sent it (else: ops.PRESENT)


class TargetError(ReleaseError):
    """Publishing to a target failed, or the target could not be read."""

    exit_code = 1


class TargetFacts(NamedTuple):
    """What a publish target says about the planned version, before the release (read-only):
    the preflight's facts, from :meth:`Target.survey`."""

    name: str
    credential_source: str | None  # None: no credentials found
    files_of_version: tuple[str, ...]  # files of the version already there
    error: str  # why the target cannot be read ("" when it can)
    credentials_hint: str = ""  # how to give it credentials
    error_hint: str = ""


class Target(Protocol):
    @property
    def name(self) -> str:
        """The target's name in the configuration (and in messages and the journal)."""

    def probe(self, files: Mapping[str, str]) -> dict[str, str]:
        """Each of ``files`` (name -> sha256) on the target, by content: present, missing or
        conflicting (release.ops); :class:`TargetError` when it cannot be read."""

    def upload(self, name: str, path: Path, digest: str) -> str:
        """Make ``name`` (the file ``path`` with sha256 ``digest``) present on the target,
        never overwriting another file of that name; ops.PRESENT when it was there
        already, :data:`UPLOADED` when this call sent it; :class:`TargetError` else."""

    def confirm(self, files: Mapping[str, str]) -> dict[str, str]:
        """After the uploads: each of ``files`` as the target serves it (no caches);
        :class:`TargetError` when it cannot be read."""

    def survey(self, version: Version) -> TargetFacts:
        """For the preflight: where its credentials come from, and the files of ``version``
        it has already, or why it cannot be read.  Never raises."""

    def state(self, files: Mapping[str, str]) -> dict[str, str]:
        """For ``release status``: :meth:`probe`, with "unknown: ..." for each file when the
        target cannot be read.  Never raises."""


# (configuration, project name, environment, secrets, log) -> the target.  With a
# secrets list (a step) its credentials are required and added to it; with None
# (`release status`) the target reads what it can without them.
Factory = Callable[
    ["TargetConfig", str, Mapping[str, str], "list[str] | None", Callable[[str], None]], Target
]


def _index(
    config: TargetConfig,
    project: str,
    environ: Mapping[str, str],
    secrets: list[str] | None,
    log: Callable[[str], None],
) -> Target:
    from release.targets.index import IndexTarget

    return IndexTarget.connect(config, project, environ, secrets, log)


# The target kinds: the only place they are named.
TARGETS: dict[str, Factory] = {
    "index": _index,
}


def connect(
    config: TargetConfig,
    project: str,
    environ: Mapping[str, str],
    secrets: list[str] | None = None,
    log: Callable[[str], None] = lambda _text: None,
) -> Target:
    """The target ``config`` describes (``config.kind``, looked up in :data:`TARGETS`)."""
    return TARGETS[config.kind](config, project, environ, secrets, log)
