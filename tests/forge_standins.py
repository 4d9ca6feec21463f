"""The forge stand-ins as the end-to-end tests see them: one adapter per forge kind, so a
test written once runs against every forge (tests/test_forge_matrix.py).

An adapter starts its kind's HTTP stand-in (tests/github_standin.py, ...) and answers, in
the forge's own terms read back from the stand-in's state: the ``[tool.release.forge]``
table that points a project at it, the environment with its token, and what the release of
a tag is now (:class:`Seen`).  Adding a forge kind to the tests is one adapter here and one
entry in :data:`STANDINS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gitea_standin import GiteaStandIn
from github_standin import GitHubStandIn
from gitlab_standin import GitLabStandIn

from release.forges.gitlab import PRERELEASE_NOTE, generic_package


@dataclass(frozen=True)
class Seen:
    """A forge release as the stand-in holds it."""

    title: str
    notes: str
    published: bool
    prerelease: bool
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256 of the stored bytes
    releases_for_tag: int = 1  # how many releases the forge holds for the tag (1: no duplicate)


@dataclass(frozen=True)
class Change:
    """A change request (pull request, merge request) as the stand-in holds it."""

    number: int  # GitHub's and Gitea's number, GitLab's iid
    ref: str  # how release pr names it: "#1", "!1"
    title: str
    body: str
    head: str
    base: str
    state: str  # open, closed or merged


class ForgeWorld(Protocol):
    kind: str
    token: str

    def table(self) -> str:
        """The ``[tool.release.forge]`` TOML text for this stand-in."""

    def env(self) -> dict[str, str]:
        """The environment variables the release needs to reach it (the token)."""

    def seen(self, tag: str) -> Seen | None:
        """The release of ``tag``, or None."""

    def create_requests(self) -> int:
        """How many requests made a release (to prove no duplicate was made)."""

    def use_remote(self, bare: Path) -> None:
        """Let the forge see the branches of the repository ``bare`` (a pull request's
        branches must exist where the stand-in checks them)."""

    def changes(self) -> list[Change]:
        """Every change request (any state), newest first."""

    def change_comments(self, number: int) -> list[str]:
        """The comments (notes) on the change request ``number``, oldest first."""

    def mark_merged(self, number: int) -> None:
        """What merging does to the change request (the test merges the branch with git)."""


@dataclass
class GitHubWorld:
    standin: GitHubStandIn
    kind: str = "github"

    @property
    def token(self) -> str:
        return self.standin.token

    def table(self) -> str:
        return (f'[tool.release.forge]\nkind = "github"\nrepository = "{self.standin.full_name}"\n'
                f'api-url = "{self.standin.api_url}"\ntoken-env = "GITHUB_TOKEN"\n')

    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": self.standin.token}

    def seen(self, tag: str) -> Seen | None:
        found = [r for r in self.standin.releases() if r["tag_name"] == tag]
        if not found:
            return None
        release = found[0]
        files = {
            a["name"]: hashlib.sha256(self.standin.asset_bytes(int(a["id"]))).hexdigest()
            for a in self.standin.assets(int(release["id"]))
            if a["state"] == "uploaded"
        }
        return Seen(str(release["name"]), str(release["body"] or ""), not release["draft"],
                    bool(release["prerelease"]), files, len(found))

    def create_requests(self) -> int:
        return len([r for r in self.standin.requests
                    if r.method == "POST" and r.host == "api" and r.status == 201])

    def use_remote(self, bare: Path) -> None:
        self.standin.git_remote = bare

    def changes(self) -> list[Change]:
        return [_pull(p) for p in self.standin.pulls()]

    def change_comments(self, number: int) -> list[str]:
        return self.standin.pull_comments(number)

    def mark_merged(self, number: int) -> None:
        self.standin.mark_merged(number)


def _pull(pull: dict[str, Any]) -> Change:
    """A GitHub or Gitea pull request."""
    state = "merged" if pull.get("merged") or pull.get("merged_at") else str(pull["state"])
    return Change(int(pull["number"]), f"#{pull['number']}", str(pull["title"]),
                  str(pull["body"] or ""), str(pull["head"]["ref"]), str(pull["base"]["ref"]),
                  state)


@contextmanager
def github_world() -> Iterator[GitHubWorld]:
    with GitHubStandIn() as standin:
        yield GitHubWorld(standin)


@dataclass
class GitLabWorld:
    """GitLab has no drafts: before the release exists, what the announce stage made is the
    files of the tag's generic package (an unpublished :class:`Seen` without title or
    notes); the release's files are the package files its links point at."""

    standin: GitLabStandIn
    kind: str = "gitlab"

    @property
    def token(self) -> str:
        return self.standin.token

    def table(self) -> str:
        return (f'[tool.release.forge]\nkind = "gitlab"\nrepository = "{self.standin.path}"\n'
                f'url = "{self.standin.web_url}"\n')  # api-url derived: URL/api/v4

    def env(self) -> dict[str, str]:
        return {"GITLAB_TOKEN": self.standin.token}

    def seen(self, tag: str) -> Seen | None:
        release = self.standin.release(tag)
        if release is None:
            package = self.standin.package_files(*generic_package(self.standin.path, tag))
            if not package:
                return None
            files = {f["file_name"]: f["file_sha256"] for f in package}  # the latest of a name
            return Seen("", "", published=False, prerelease=False, files=files)
        files = {}
        for link in release["assets"]["links"]:
            data = self.standin.resolve(link["url"])
            if data is not None:
                files[link["name"]] = hashlib.sha256(data).hexdigest()
        notes = str(release["description"])
        pre = notes.startswith(PRERELEASE_NOTE)
        return Seen(str(release["name"]), notes.removeprefix(PRERELEASE_NOTE), True, pre, files)

    def create_requests(self) -> int:
        return len([r for r in self.standin.requests
                    if r.method == "POST" and r.path.endswith("/releases") and r.status == 201])

    def use_remote(self, bare: Path) -> None:
        pass  # every branch exists for the stand-in

    def changes(self) -> list[Change]:
        states = {"opened": "open", "closed": "closed", "merged": "merged"}
        return [Change(int(m["iid"]), f"!{m['iid']}", str(m["title"]), str(m["description"]),
                       str(m["source_branch"]), str(m["target_branch"]), states[m["state"]])
                for m in self.standin.merge_requests()]

    def change_comments(self, number: int) -> list[str]:
        return self.standin.mr_notes(number)

    def mark_merged(self, number: int) -> None:
        self.standin.mark_merged(number)


@contextmanager
def gitlab_world() -> Iterator[GitLabWorld]:
    with GitLabStandIn() as standin:
        yield GitLabWorld(standin)


@dataclass
class GiteaWorld:
    standin: GiteaStandIn
    kind: str = "gitea"

    @property
    def token(self) -> str:
        return self.standin.token

    def table(self) -> str:
        # `url` alone: the API URL (url + /api/v1) and GITEA_TOKEN are derived from the kind.
        return (f'[tool.release.forge]\nkind = "gitea"\nrepository = "{self.standin.full_name}"\n'
                f'url = "{self.standin.base_url}"\n')

    def env(self) -> dict[str, str]:
        return {"GITEA_TOKEN": self.standin.token}

    def seen(self, tag: str) -> Seen | None:
        found = [r for r in self.standin.releases() if r["tag_name"] == tag]
        if not found:
            return None
        release = found[0]
        files = {
            a["name"]: hashlib.sha256(self.standin.attachment_bytes(int(a["id"]))).hexdigest()
            for a in self.standin.attachments(int(release["id"]))
        }
        attached = len(self.standin.attachments(int(release["id"])))
        assert attached == len(files), f"a file is attached twice: {release['assets']}"
        return Seen(str(release["name"]), str(release["body"]), not release["draft"],
                    bool(release["prerelease"]), files, len(found))

    def create_requests(self) -> int:
        return len([r for r in self.standin.requests
                    if r.method == "POST" and r.path.endswith("/releases") and r.status == 201])

    def use_remote(self, bare: Path) -> None:
        pass  # every branch exists for the stand-in

    def changes(self) -> list[Change]:
        return [_pull(p) for p in self.standin.pulls()]

    def change_comments(self, number: int) -> list[str]:
        return self.standin.pull_comments(number)

    def mark_merged(self, number: int) -> None:
        self.standin.mark_merged(number)


@contextmanager
def gitea_world() -> Iterator[GiteaWorld]:
    with GiteaStandIn() as standin:
        yield GiteaWorld(standin)


# The forge kinds the end-to-end tests run against: one entry each.
STANDINS: dict[str, Callable[[], AbstractContextManager[ForgeWorld]]] = {
    "github": github_world,
    "gitea": gitea_world,
    "gitlab": gitlab_world,
}
