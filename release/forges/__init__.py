"""The Forge seam: where the announce stage makes a release for the tag.

A forge is reached only through :func:`connect`, which looks its kind up in
:data:`FORGES`; the announce step and ``release status`` know the :class:`Forge`
protocol, never a forge's own client.  Adding a forge is one module here and one
line in :data:`FORGES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from release.errors import ReleaseError
from release.ops import MISSING, PRESENT

if TYPE_CHECKING:
    from release.config import Forge as ForgeConfig

ForgeRelease = Mapping[str, Any]  # a forge's own record of a release; opaque to callers
Asset = Mapping[str, Any]  # a forge's own record of an attached file; opaque to callers


class ForgeError(ReleaseError):
    exit_code = 1

    def __init__(self, message: str, hint: str = "", *, status: int = 0) -> None:
        super().__init__(message, hint)
        self.status = status  # 0: no answer at all

    @property
    def uncertain(self) -> bool:
        """The request may or may not have taken effect (5xx or no answer)."""
        return self.status == 0 or self.status >= 500


@dataclass(frozen=True)
class Announcement:
    """What the release on the forge should be: the same whether rendered now
    (release run) or read back (release ci)."""

    tag: str
    title: str
    notes: str
    draft: bool
    prerelease: bool


class Forge(Protocol):
    @property
    def title(self) -> str:
        """How messages name it: "GitHub"."""

    @property
    def where(self) -> str:
        """How ``release status`` names it: "github owner/name"."""

    def find(self, tag: str) -> ForgeRelease | None:
        """The release for ``tag`` (drafts included), or None."""

    def matches(self, release: ForgeRelease, want: Announcement) -> bool:
        """Whether ``release`` already says what ``want`` says."""

    def create(self, want: Announcement) -> ForgeRelease:
        """Create the release (a draft when ``want.draft``); if the answer was lost,
        return the one that may have been made."""

    def update(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        """Make ``release`` say what ``want`` says."""

    def publish(self, release: ForgeRelease) -> ForgeRelease:
        """Turn a draft into a published release."""

    def set_latest(self, release: ForgeRelease) -> ForgeRelease:
        """Mark ``release`` as the repository's latest."""

    def file_states(
        self, release: ForgeRelease, files: Mapping[str, str]
    ) -> dict[str, tuple[str, Asset | None]]:
        """Each of ``files`` (name -> sha256) on ``release``: present, missing, broken (an
        upload that never completed) or conflicting, with the attached file when there is one."""

    def attach(self, release: ForgeRelease, path: Path) -> None:
        """Upload ``path`` to ``release``; :class:`ForgeError` with ``uncertain`` when it may
        have been stored anyway (callers read the state back)."""

    def detach(self, asset: Asset) -> None:
        """Remove an attached file (a broken upload)."""


# (configuration, environment) -> the forge; ForgeError when its token is not set.
Factory = Callable[["ForgeConfig", Mapping[str, str]], Forge]


def _github(config: ForgeConfig, environ: Mapping[str, str]) -> Forge:
    from release.forges.github import GitHub

    return GitHub.connect(config, environ)


# The forge kinds: the only place they are named.
FORGES: dict[str, Factory] = {
    "github": _github,
}


def connect(
    config: ForgeConfig, environ: Mapping[str, str], secrets: list[str] | None = None
) -> Forge:
    """The forge ``config`` names (``config.kind``, looked up in :data:`FORGES`), with its
    token from ``environ``, which is added to ``secrets`` (masked in output)."""
    forge = FORGES[config.kind](config, environ)
    token = environ.get(config.token_env, "")
    if secrets is not None and token and token not in secrets:
        secrets.append(token)
    return forge


def state(forge: Forge, tag: str, files: Mapping[str, str], attach: bool) -> list[tuple[str, str]]:
    """(item, state) for ``release status``: the release of ``tag`` and, when artifacts are
    attached, each of ``files``: read through the probes the announce step decides by."""
    release = forge.find(tag)
    if release is None:
        return [(f"release {tag}", MISSING)]
    rows = [(f"release {tag}", PRESENT)]
    if attach:
        states = forge.file_states(release, files)
        rows += [(name, s) for name, (s, _asset) in states.items()]
    return rows
