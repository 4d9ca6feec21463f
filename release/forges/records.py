"""The release record GitHub and Gitea/Forgejo share (``tag_name``, ``name``, ``body``,
``draft``, ``prerelease``): what an announcement writes into it, and when a record says
what an announcement says."""

from __future__ import annotations

from typing import Any

from release.forges import Announcement, ForgeRelease

#: The members of a record that carry what an announcement says (besides its tag).
SAID = ("name", "body", "prerelease")


def fields(want: Announcement) -> dict[str, Any]:
    """The record's members for ``want``."""
    return {
        "tag_name": want.tag,
        "name": want.title,
        "body": want.notes,
        "prerelease": want.prerelease,
    }


def says(release: ForgeRelease, want: Announcement) -> bool:
    """Whether ``release`` has the title, notes and pre-release flag of ``want``."""
    made = fields(want)
    return all(release.get(k) == made[k] for k in SAID)


def is_published(release: ForgeRelease) -> bool:
    return not release.get("draft")
