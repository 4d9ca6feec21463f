"""Reading the world for a release of several packages: every package's facts, read as a
project of its own would be, with the repository's git reads shared."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from release.errors import ReleaseError
from release.memo import Memo
from release.paths import real

if TYPE_CHECKING:
    from release.facts import Facts
    from release.gitreads import GitReads
    from release.packages import Package


class Gathered(NamedTuple):
    packages: tuple[Package, ...]  # every package, in dependency order
    facts: dict[str, Facts]
    consolidate: bool = True  # the root's consolidate-commits: one release commit for all


def gather(
    root: Path,
    packages: Sequence[Package],
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    started: GitReads,
) -> Gathered:
    """Every package's facts, read as a project of its own would be, with the root's
    settings inherited and the repository's git reads shared: first every package's
    configuration, then one question to git for all their highest tags, answered while
    their fragments are read, then the rest."""
    from release import tags as tags_mod
    from release.config import inherited_from_root, load, root_setting
    from release.facts import gather as gather_one
    from release.facts import read_fragments
    from release.packages import dependency_order
    from release.runner import Runner

    memo = Memo.from_environ(environ)
    configs = {}
    tops: list[str] = []
    for package in packages:
        inherited = inherited_from_root(root, package.path)
        with about_package(package):
            cfg = load(
                root / package.path, environ=environ, overrides=overrides, workspace=inherited
            )
        configs[package.name] = (cfg, inherited)
        releases = tags_mod.release_tags(started.tag_names(), cfg.tag_format, cfg.tag_scheme, memo)
        if releases:
            tops.append(releases[-1].name)
    answer = started.reachable(tops)
    fragments = {}
    for package in packages:
        cfg, _ = configs[package.name]
        with about_package(package):
            fragments[package.name] = read_fragments(real(root / package.path), cfg, memo)
    reachable = answer()
    found: dict[str, Facts] = {}
    for package in packages:
        directory = real(root / package.path)
        cfg, inherited = configs[package.name]
        with about_package(package):
            found[package.name] = gather_one(
                directory,
                environ=environ,
                overrides=overrides,
                runner=Runner(directory),
                started=started,
                workspace=inherited,
                config=cfg,
                reachable=reachable,
                fragments=fragments[package.name],
            )
    consolidate = root_setting(root, "consolidate-commits", environ=environ, overrides=overrides)
    return Gathered(dependency_order(packages), found, consolidate)


@contextlib.contextmanager
def about_package(package: Package) -> Iterator[None]:
    """An error reading ``package`` says which package it is."""
    try:
        yield
    except ReleaseError as exc:
        # The error itself, told which package: not a new one of its type, whose
        # constructor may take other arguments (CommandError's are the command's).
        exc.message = f"Package {package.name} ({package.path}): {exc.message}"
        exc.args = (exc.message,)
        raise
