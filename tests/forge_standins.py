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
from typing import Protocol

from github_standin import GitHubStandIn


@dataclass(frozen=True)
class Seen:
    """A forge release as the stand-in holds it."""

    title: str
    notes: str
    published: bool
    prerelease: bool
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256 of the stored bytes
    releases_for_tag: int = 1  # how many releases the forge holds for the tag (1: no duplicate)


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


@contextmanager
def github_world() -> Iterator[GitHubWorld]:
    with GitHubStandIn() as standin:
        yield GitHubWorld(standin)


# The forge kinds the end-to-end tests run against: one entry each.
STANDINS: dict[str, Callable[[], AbstractContextManager[ForgeWorld]]] = {
    "github": github_world,
}
