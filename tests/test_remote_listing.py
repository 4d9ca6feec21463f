"""git ls-remote's listing read once into refs."""

from __future__ import annotations


def test_a_remote_listing_is_read_into_refs_as_git_writes_it() -> None:
    from release.facts import _listed

    listing = "a1\trefs/heads/main\nb2\trefs/tags/v1\nc3\trefs/tags/v1^{}\n"
    assert _listed(listing, "refs/heads/main") == "a1"
    assert _listed(listing, "refs/tags/v1^{}") == "c3"
    assert _listed(listing, "refs/tags/v2") is None
    assert _listed("", "refs/heads/main") is None  # a remote without refs
    # A line not as git writes it is passed over, the others still read.
    odd = "x1\trefs/heads/main\nwarning: something\ny2\trefs/tags/v1\n"
    assert _listed(odd, "refs/tags/v1") == "y2"
    assert _listed(odd, "refs/heads/main") == "x1"
