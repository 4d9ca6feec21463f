"""Hypothesis strategies shared by the property tests (test_version, test_tags)."""

from __future__ import annotations

from hypothesis import strategies as st
from packaging.version import Version


def _join(
    release: list[int], pre: tuple[str, int] | None, post: int | None, dev: int | None
) -> Version:
    text = ".".join(map(str, release))
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return Version(text)


def built_versions(
    *, parts: tuple[int, int], top: int, small: int, post: bool = True
) -> st.SearchStrategy[Version]:
    """Versions of epoch 0: ``parts`` (least, most) release numbers from 0 to ``top``, then
    an optional pre-release (a, b or rc), post-release (unless ``post`` is false) and
    dev-release, each numbered from 0 to ``small``."""
    number = st.integers(0, small)
    pre = st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), number)
    optional = st.none() | number
    release = st.lists(st.integers(0, top), min_size=parts[0], max_size=parts[1])
    return st.builds(_join, release, pre, optional if post else st.none(), optional)
