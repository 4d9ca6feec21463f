"""The Forge seam: where the announce stage makes a release for the tag.

A forge is reached only through :func:`connect`, which looks its kind up in
:data:`FORGES`; the announce steps and ``release status`` know the :class:`Forge`
protocol, never a forge's own client.  Adding a forge is one module here and one
entry in :data:`FORGES` (its :class:`ForgeKind`: the defaults and rules that the
configuration checks ``[tool.release.forge]`` against, and the factory).

The announce stage is three steps, each one probe and one side effect: make the
release as a draft (or what the forge has instead), attach the files, publish it.
A release is never published before its files are attached, so a forge that seals
published releases (GitHub's immutable releases) never holds a release without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from release.errors import ReleaseError
from release.ops import DRAFT, MISSING, PRESENT

if TYPE_CHECKING:
    from release.config import Forge as ForgeConfig

ForgeRelease = Mapping[str, Any]  # a forge's own record of a release; opaque to callers
Asset = Mapping[str, Any]  # a forge's own record of an attached file; opaque to callers
ChangeRequest = Mapping[str, Any]  # a forge's own record of a PR / MR; opaque to callers


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
    draft: bool  # the release stays a draft (``draft = true``): it is never published
    prerelease: bool
    latest: bool  # the forge marks it as the repository's latest release, where it can


class Forge(Protocol):
    @property
    def title(self) -> str:
        """How messages name it: "GitHub"."""

    @property
    def where(self) -> str:
        """How ``release status`` names it: "github owner/name"."""

    def find(self, tag: str) -> ForgeRelease | None:
        """The release for ``tag`` (drafts included), or None."""

    def is_published(self, release: ForgeRelease) -> bool:
        """Whether ``release`` is public (not a draft)."""

    def is_sealed(self, release: ForgeRelease) -> bool:
        """Whether the files of ``release`` can no longer change (an immutable release)."""

    def matches(self, release: ForgeRelease, want: Announcement) -> bool:
        """Whether ``release`` already has the title, notes and pre-release flag of ``want``."""

    def create_draft(self, want: Announcement) -> ForgeRelease:
        """Make the release unpublished (a draft, or what the forge has instead); if the
        answer was lost, return the one that may have been made."""

    def update(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        """Make ``release`` say what ``want`` says (its publication state unchanged)."""

    def publish(self, release: ForgeRelease, want: Announcement) -> ForgeRelease:
        """Make ``release`` public, marked latest only when ``want.latest``."""

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

    # Change requests (GitHub and Gitea pull requests, GitLab merge requests): what
    # ``release pr`` opens, updates and closes.

    def find_change(self, head: str, base: str) -> ChangeRequest | None:
        """The open change request from the branch ``head`` into ``base``, or None."""

    def open_change(self, title: str, body: str, head: str, base: str) -> ChangeRequest:
        """Open a change request from ``head`` into ``base``."""

    def update_change(self, change: ChangeRequest, title: str, body: str) -> ChangeRequest:
        """Give ``change`` this title and body (nothing is sent when it has them)."""

    def close_change(self, change: ChangeRequest, comment: str) -> None:
        """Comment on ``change``, then close it."""

    def change_ref(self, change: ChangeRequest) -> str:
        """How messages name it: "#12 (https://...)" or "!12 (https://...)"."""


# (configuration, token) -> the forge.
Factory = Callable[["ForgeConfig", str], Forge]


@dataclass(frozen=True)
class ForgeKind:
    """What ``[tool.release.forge]`` means for one kind of forge."""

    title: str  # "GitHub"
    factory: Factory
    token_env: str  # the default `token-env`
    token_hint: str  # what the token needs: "contents: write"
    url: str | None  # the default `url` (the public service); None: `url` is required
    api_path: str  # the API below `url`, for a self-hosted forge
    repository: str  # a regular expression for `repository`
    repository_form: str  # how messages describe it
    hosts: tuple[str, ...] = ()  # public hosts `release init` recognises in an origin URL
    drafts: bool = True  # False: no draft releases; the publish step creates the release
    sets_latest: bool = True  # False: the forge shows its newest release as latest, always
    api_urls: Mapping[str, str] | None = None  # `url` -> API URL where it is not url+api_path

    def api_url(self, url: str) -> str:
        """The API URL of the forge at ``url``."""
        known = (self.api_urls or {}).get(url.rstrip("/"))
        return known or url.rstrip("/") + self.api_path

    def repository_ok(self, value: str) -> bool:
        return re.fullmatch(self.repository, value) is not None

    def ambient_token(self, environ: Mapping[str, str]) -> str:
        """A token the CI system provides when ``token-env`` is not set (none by default)."""
        return ""

    def client(self, config: ForgeConfig, token: str, environ: Mapping[str, str]) -> Forge:
        """The forge for ``config`` with ``token``: the factory's, unless the kind's client
        depends on which token it is (``environ`` tells)."""
        return self.factory(config, token)


@dataclass(frozen=True)
class GitLabKind(ForgeKind):
    def ambient_token(self, environ: Mapping[str, str]) -> str:
        # A GitLab CI job's own token, for the project the job runs in.
        from release.cisystems import detect

        return detect(environ).job_token(environ)

    def client(self, config: ForgeConfig, token: str, environ: Mapping[str, str]) -> Forge:
        # The job's own token (also when `token-env` holds a copy of it) goes in JOB-TOKEN,
        # any other token in PRIVATE-TOKEN.
        from release.forges.gitlab import GitLab

        job = token == self.ambient_token(environ)
        return GitLab(config.api_url, config.repository, token, job_token=job)


def _github(config: ForgeConfig, token: str) -> Forge:
    from release.forges.github import GitHub

    return GitHub(config.api_url, config.repository, token)


def _gitlab(config: ForgeConfig, token: str) -> Forge:
    from release.forges.gitlab import GitLab

    return GitLab(config.api_url, config.repository, token)


def _gitea(config: ForgeConfig, token: str) -> Forge:
    from release.forges.gitea import Gitea

    return Gitea(config.api_url, config.repository, token, config.url, config.token_env)


_NAME = r"[A-Za-z0-9_.-]+"

# The forge kinds: the only place they are named.
FORGES: dict[str, ForgeKind] = {
    "github": ForgeKind(
        title="GitHub",
        factory=_github,
        token_env="GITHUB_TOKEN",
        token_hint="a token that may write releases (contents: write)",
        url="https://github.com",
        api_path="/api/v3",  # GitHub Enterprise Server
        api_urls={"https://github.com": "https://api.github.com"},
        repository=rf"{_NAME}/{_NAME}",
        repository_form="OWNER/NAME",
        hosts=("github.com",),
    ),
    "gitlab": GitLabKind(
        title="GitLab",
        factory=_gitlab,
        token_env="GITLAB_TOKEN",
        token_hint="an access token (api scope, Developer role)",
        url="https://gitlab.com",
        api_path="/api/v4",
        repository=rf"{_NAME}(?:/{_NAME})+",  # group/project, group/subgroup/.../project
        repository_form="GROUP/PROJECT (subgroups allowed)",
        hosts=("gitlab.com",),
        drafts=False,
        sets_latest=False,  # the latest release is the one most recently released
    ),
    "gitea": ForgeKind(  # Gitea and Forgejo (Codeberg)
        title="Gitea",
        factory=_gitea,
        token_env="GITEA_TOKEN",
        token_hint="a token that may write releases (scope write:repository; release pr also "
        "needs write:issue)",
        url=None,
        api_path="/api/v1",
        repository=rf"{_NAME}/{_NAME}",
        repository_form="OWNER/NAME",
        hosts=("codeberg.org",),
        drafts=True,
        sets_latest=False,  # the latest release is the newest published final one
    ),
}


def kind_of(config: ForgeConfig) -> ForgeKind:
    return FORGES[config.kind]


def token(config: ForgeConfig, environ: Mapping[str, str]) -> str:
    """The forge's token: from ``token-env``, else the one the CI job provides."""
    return environ.get(config.token_env, "") or kind_of(config).ambient_token(environ)


def connect(
    config: ForgeConfig, environ: Mapping[str, str], secrets: list[str] | None = None
) -> Forge:
    """The forge ``config`` names, with its token from ``environ``, which is added to
    ``secrets`` (masked in output).  :class:`ForgeError` when there is no token."""
    kind = kind_of(config)
    found = token(config, environ)
    if not found:
        raise ForgeError(
            f"No {kind.title} token: the environment variable {config.token_env} is empty.",
            f"Set {config.token_env} to {kind.token_hint}.",
        )
    if secrets is not None and found not in secrets:
        secrets.append(found)
    return kind.client(config, found, environ)


def kind_from_url(url: str) -> str | None:
    """The forge kind whose public host serves the git remote ``url`` (https, ssh or
    scp-like ``git@host:path``), or None."""
    host = _host(url)
    for name, kind in FORGES.items():
        if host in kind.hosts:
            return name
    return None


def _host(url: str) -> str:
    if "://" in url:
        return (urlsplit(url).hostname or "").lower()
    scp = re.fullmatch(r"(?:[^@/]+@)?([^:/]+):.*", url)
    return scp.group(1).lower() if scp else ""


def state(
    forge: Forge, tag: str, files: Mapping[str, str], config: ForgeConfig
) -> list[tuple[str, str]]:
    """(item, state) for ``release status``: the release of ``tag`` and, when artifacts are
    attached, each of ``files``: read through the probes the announce steps decide by.  A
    draft is present only when the configuration keeps releases drafts."""
    release = forge.find(tag)
    if release is None:
        return [(f"release {tag}", MISSING)]
    published = forge.is_published(release) or config.draft
    rows = [(f"release {tag}", PRESENT if published else DRAFT)]
    if config.attach_artifacts:
        states = forge.file_states(release, files)
        rows += [(name, s) for name, (s, _asset) in states.items()]
    return rows
