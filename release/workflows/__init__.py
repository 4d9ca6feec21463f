"""The CI release pipelines ``release init --ci KIND`` writes: one module per CI system
(``github.py``, ``gitlab.py``), chosen from :data:`WRITERS`.

A writer says where its file goes, renders it for a tag format and an install command, and
what the project must set up on the CI system and on PyPI.  Writing, and what happens to a
file that is already there, is decided here, once.  Adding a CI system is one module and
one line in :data:`WRITERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from release.errors import UsageError

#: The first line of every file a writer renders, with the kind in it: how a file that
#: release init wrote is told from one the project wrote.
HEADER = "# Written by `release init --ci {kind}` (release-pipeline)."


class WheelPackage(NamedTuple):
    """A package of a repository of several whose wheels a matrix of jobs builds, one job
    per platform (it has compiled extensions: release.extensions)."""

    key: str  # its name PEP 503-normalised: what its jobs, artifacts and directories are named
    path: str  # its directory, relative to the root (POSIX)
    builder: str  # cibuildwheel or maturin


class Writer(NamedTuple):
    kind: str
    path: str  # relative to the project
    render: Callable[[str, str], str]  # (tag format, pip install arguments) -> the file
    #: (tag format, pip install arguments, wheel builder) -> the matrix variant, for a
    #: project with compiled extensions (release.extensions)
    matrix: Callable[[str, str, str], str]
    what: str  # what the file holds, for the message after writing it
    setup: str  # what to set up on the CI system and on PyPI, after writing it
    #: The file may hold more than the release (GitLab's one top-level pipeline file): one
    #: that release init did not write is never replaced.
    shared: bool
    #: (branch filters, pip install arguments) -> the release pull request flow's files by
    #: path (``--release-pr``), or None when the CI system has none
    release_pr: Callable[[tuple[str, ...], str], dict[str, str]] | None = None
    #: what to set up for the release pull request flow, after writing it
    release_pr_setup: str = ""
    #: (each package's name and tag format, the release branches' patterns, pip install
    #: arguments, the packages whose wheels a matrix builds) -> the file of a repository of
    #: several packages (docs/monorepo.md), or None when there is none
    workspace: (
        Callable[[Sequence[tuple[str, str]], Sequence[str], str, Sequence[WheelPackage]], str]
        | None
    ) = None
    #: what the workspace file holds, and what to set up for it (``{packages}``: their names)
    workspace_what: str = ""
    workspace_setup: str = ""


def _github() -> Writer:
    from release.workflows import github

    return Writer(
        kind="github",
        path=github.PATH,
        render=lambda fmt, install: github.render(fmt, install=install),
        matrix=lambda fmt, install, builder: github.render_matrix(
            fmt, install=install, builder=builder
        ),
        what="a build job and a publish job (environment 'pypi', trusted publishing)",
        setup="On PyPI, add a trusted publisher for this repository, workflow release.yml, "
        "environment pypi.",
        shared=False,
        release_pr=lambda branches, install: github.render_release_pr(branches, install=install),
        release_pr_setup="On PyPI, add a trusted publisher for this repository, workflow "
        "release-merge.yml, environment pypi. In the repository's Actions settings, allow "
        "GitHub Actions to create pull requests (release pr opens them with GITHUB_TOKEN).",
        workspace=lambda packages, branches, install, compiled: github.render_workspace(
            packages, branches, install=install, compiled=compiled
        ),
        workspace_what="on a push to a release branch or of a package's release tag, or run "
        "by hand, a build job and a publish job for every package tagged on the commit, in "
        "dependency order (environment 'pypi', trusted publishing)",
        workspace_setup="On PyPI, add a trusted publisher for this repository, workflow "
        "release.yml, environment pypi, to each package: {packages}.",
    )


def _gitlab() -> Writer:
    from release.workflows import gitlab

    return Writer(
        kind="gitlab",
        path=gitlab.PATH,
        render=lambda fmt, install: gitlab.render(fmt, install=install),
        matrix=lambda fmt, install, builder: gitlab.render_matrix(
            fmt, install=install, builder=builder
        ),
        what="a build job and a publish job on release tags (environment 'pypi', trusted "
        "publishing, outputs in the dotenv report release.env)",
        setup="On PyPI, add a GitLab trusted publisher for this project's namespace and name, "
        f"top-level pipeline file path {gitlab.PATH}, environment pypi; in GitLab, protect the "
        "environment pypi and the release tags.",
        shared=True,
        workspace=lambda packages, branches, install, compiled: gitlab.render_workspace(
            packages, branches, install=install, compiled=compiled
        ),
        workspace_what="in a pipeline for a release branch or a package's release tag, or "
        "run by hand, a build job and a publish job for every package tagged on the commit, "
        "in dependency order (environment 'pypi', trusted publishing, outputs in the dotenv "
        "report release.env)",
        workspace_setup="On PyPI, add a GitLab trusted publisher for this project's namespace "
        f"and name, top-level pipeline file path {gitlab.PATH}, environment pypi, to each "
        "package: {packages}; in GitLab, protect the environment pypi and the release tags.",
    )


# The CI systems release init writes a release pipeline for: the only place they are named.
WRITERS: dict[str, Callable[[], Writer]] = {
    "github": _github,
    "gitlab": _gitlab,
}


_PLAIN_PATH = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/-]*")


class Written(NamedTuple):
    path: Path
    text: str
    message: str  # what was done, and what to set up next


def write(
    project: Path,
    kind: str,
    tag_format: str,
    install: str,
    *,
    dry_run: bool,
    builder: str | None = None,
) -> Written:
    """Render the release pipeline of ``kind`` for ``project`` and, unless ``dry_run``, write
    it: the matrix variant when ``builder`` (cibuildwheel or maturin) builds its wheels. An
    existing file is replaced when the writer's file holds only the release or when
    release init wrote it; otherwise it is left as it is (:class:`UsageError`)."""
    writer = WRITERS[kind]()
    if builder is None:
        text = writer.render(tag_format, install)
    else:
        text = writer.matrix(tag_format, install, builder)
        writer = writer._replace(
            what=f"an sdist job, a wheel matrix ({builder}) and a publish job that needs them "
            "all (environment 'pypi', trusted publishing)"
        )
    return _put(project, writer, text, dry_run=dry_run)


def write_workspace(
    project: Path,
    kind: str,
    packages: Sequence[tuple[str, str]],
    branches: Sequence[str],
    install: str,
    *,
    dry_run: bool,
    compiled: Sequence[WheelPackage] = (),
) -> Written:
    """Render the release pipeline of ``kind`` for the repository of several packages at
    ``project`` (``packages``: each one's name and tag format; ``branches``: the release
    branches' patterns) and, unless ``dry_run``, write it as :func:`write` does: one
    pipeline for every package, releasing every package tagged on the commit it runs for,
    the wheels of each of the ``compiled`` packages built in a matrix of jobs of its own."""
    writer = WRITERS[kind]()
    render = writer.workspace
    if render is None:
        raise UsageError(
            f"release init --ci {kind}: there is no pipeline for a repository of several "
            f"packages on {kind} yet.",
            f"Use {' or '.join(k for k in WRITERS if WRITERS[k]().workspace)}, or write it by "
            "hand (docs/monorepo.md).",
        )
    for package in compiled:
        _refuse_unquoted(kind, package)
    names = ", ".join(name for name, _tag_format in packages)
    what = writer.workspace_what
    if compiled:
        matrices = ", ".join(f"{p.key} ({p.builder})" for p in compiled)
        what += (
            f"; the wheels of {matrices} in a matrix of jobs per platform, a package's only "
            "when it is tagged on the commit"
        )
    writer = writer._replace(what=what, setup=writer.workspace_setup.format(packages=names))
    return _put(project, writer, render(packages, branches, install, compiled), dry_run=dry_run)


def _refuse_unquoted(kind: str, package: WheelPackage) -> None:
    """The directory of a package whose wheel jobs are written goes into the pipeline as it
    is (an action's input, a shell word): only characters that need no quoting there."""
    if not _PLAIN_PATH.fullmatch(package.path):
        raise UsageError(
            f"release init --ci {kind}: the directory of {package.key}, {package.path!r}, "
            "goes into its wheel jobs as it is, and may hold only letters, digits and "
            "'.', '_', '-', '/'.",
            "Rename the directory (and its entry in the workspace's members), or write the "
            "wheel jobs of this package by hand (docs/monorepo.md).",
        )


def _put(project: Path, writer: Writer, text: str, *, dry_run: bool) -> Written:
    """Write ``text`` to the writer's file, unless ``dry_run`` (see :func:`write`)."""
    kind = writer.kind
    path = project / writer.path
    if dry_run:
        return Written(path, text, "")
    existing = _read(path)
    if existing is not None and writer.shared and not _ours(existing, kind):
        raise UsageError(
            f"{path} already exists and was not written by `release init --ci {kind}`; it "
            "holds the project's pipeline, so it was left as it is and nothing was written.",
            f"Copy the jobs that `release init --ci {kind} --dry-run` prints into it (keep "
            f"the file where it is: PyPI's trusted publisher names it), or move it away and "
            f"run `release init --ci {kind}` again.",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"Cannot write {path}: {exc.strerror or exc}.",
            "Make its directory writable, and run release init again.",
        ) from None
    done = "Replaced" if existing is not None else "Wrote"
    return Written(path, text, f"{done} {path}: {writer.what}. {writer.setup}")


def write_release_pr(
    project: Path, kind: str, branches: tuple[str, ...], install: str, *, dry_run: bool
) -> list[Written]:
    """Render the release pull request flow's workflows of ``kind`` for ``project`` (``release
    pr`` on a push to ``branches``; the release on the push that merges the release pull
    request) and, unless ``dry_run``, write them: one :class:`Written` per file, the last
    one's message saying what to set up."""
    writer = WRITERS[kind]()
    if writer.release_pr is None:
        raise UsageError(
            f"release init --ci {kind} --release-pr: the release pull request workflows are "
            f"written for GitHub Actions only.",
            f"Run release init --ci {kind} without --release-pr for the tag pipeline, and run "
            "release pr in a job of your own on pushes to the release branch.",
        )
    files = writer.release_pr(branches, install)
    done: list[Written] = []
    for relative, text in files.items():
        path = project / relative
        if dry_run:
            done.append(Written(path, text, ""))
            continue
        existing = _read(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"Cannot write {path}: {exc.strerror or exc}.",
                "Make its directory writable, and run release init again.",
            ) from None
        verb = "Replaced" if existing is not None else "Wrote"
        done.append(Written(path, text, f"{verb} {path}."))
    if not dry_run:
        last = done[-1]
        done[-1] = last._replace(message=f"{last.message} {writer.release_pr_setup}")
    return done


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"Cannot read the existing {path}: {exc}.",
            "Make it readable UTF-8 text, or move it away, and run release init again.",
        ) from None


def _ours(text: str, kind: str) -> bool:
    return text.startswith(HEADER.format(kind=kind))


def default_install() -> str:
    """What a pipeline pip-installs to get release-pipeline: this version, pinned, or the
    latest for a development version (which is not on PyPI)."""
    from packaging.version import Version

    from release import __version__

    version = Version(__version__)
    if version.is_devrelease or version.is_prerelease or version.local:
        return "release-pipeline"
    return f'"release-pipeline=={version}"'
