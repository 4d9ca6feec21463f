"""One read-only snapshot of the world: configuration, files, git, fragments.

Git state is read with a few plain ``git`` commands through the runner, started
together before the rest of the program is imported, so the read-only commands
start fast and cost what the commits since the last release cost.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from packaging.version import Version

from release import changelog
from release import config as config_mod
from release import tags as tags_mod
from release import version as versions
from release.commits import Commit
from release.config import Config, Target
from release.detect import describe_argv, first_version
from release.errors import CommandError, GitError
from release.fragments import FragmentContents, FragmentSet, Towncrier
from release.gitreads import GitReads
from release.memo import Memo
from release.ops.git import ROOT_PROJECT, project_path, project_relative
from release.paths import real
from release.runner import Pending, Runner

if TYPE_CHECKING:
    from release.targets import TargetFacts


class GitFacts(NamedTuple):
    toplevel: Path
    git_dir: Path
    head: str | None
    branch: str | None
    upstream: str | None
    ahead: int
    behind: int
    dirty: tuple[str, ...]  # relative to the project directory, like every path of the plan
    shallow: bool
    tags: tuple[str, ...]  # every tag's name
    remotes: tuple[str, ...]
    identity: bool = True  # git knows who commits (user.name / user.email or GIT_*)
    project: str = ROOT_PROJECT  # the project's path inside the repository


class TagHistory(NamedTuple):
    """How the release tags were found: the format (and why), the tags passed over, and
    for a version kept in tags, the release tag nearest to HEAD (what setuptools-scm,
    hatch-vcs and the like describe)."""

    format_reason: str
    skipped: tuple[tuple[str, str], ...]
    nearest: str | None = None
    nearest_reason: str = ""
    # The highest release tag reachable from HEAD: what a new version must exceed. A
    # higher one on another branch (2.0 while 1.4.1 is made on release/1.4.x) is not.
    reachable_top: str | None = None
    # On a branch whose line has a series (`branches`), the highest release tag reachable
    # from HEAD within it (v1.4.0 on release/1.4.x, even if 1.5.0 were reachable too).
    series_top: str | None = None


class PreRelease(NamedTuple):
    """A pre-release of the cycle HEAD is in (2.0.0rc1 before 2.0.0), and the fragments its
    release commit consumed, as towncrier reads them: the final release gathers them."""

    tag: str
    version: Version
    fragments: FragmentContents


class Facts(NamedTuple):
    project_dir: Path
    config: Config
    files: Mapping[str, str]
    git: GitFacts
    release_tags: tags_mod.ReleaseTags
    towncrier: Towncrier | None
    fragments: FragmentSet
    commits: tuple[Commit, ...] | None
    date: str
    # The remote's heads and tags, asked for at the start so the answer overlaps the rest.
    remote_listing: Pending | None = None
    history: TagHistory = TagHistory("", ())
    # How the plan renders the changelog section: towncrier's renderer, pure; gather() gives
    # it the user's cache (the cache is read and written here, at the edge, not by the plan).
    render_changelog: changelog.SectionRenderer = changelog.render_section
    # The pre-releases of the open cycle reachable from HEAD, lowest first (empty when the
    # highest release HEAD contains, within its series, is a final release).
    prereleases: tuple[PreRelease, ...] = ()


class RemoteFacts(NamedTuple):
    """What the remote says about the planned release (read with ``git ls-remote``)."""

    reachable: bool
    error: str
    branch_head: str | None
    tag_commit: str | None
    head_contains_remote: bool
    tag_name_valid: bool


def read_git(runner: Runner, started: GitReads | None = None) -> GitFacts:
    reads = started or GitReads(runner)
    pending_top, pending_status, pending_tags = reads.top, reads.status, reads.tags
    pending_remotes, pending_identity = reads.remotes, reads.identity
    try:
        top = pending_top.result()
    except CommandError as exc:
        if exc.returncode == 127:
            raise GitError("git is not installed or not on PATH.", "Install git.") from None
        raise GitError(
            f"{runner.cwd} is not inside a git repository.",
            "Run release inside the project's git checkout (git init, or clone it).",
        ) from None
    toplevel, git_dir, shallow, prefix = top.stdout.split("\n")[:4]
    project = project_path(prefix)
    if runner is not reads.runner:  # reads shared by the packages of one repository
        inside = os.path.relpath(real(runner.cwd), real(Path(toplevel)))
        project = project_path(inside.replace(os.sep, "/") if inside != "." else "")
    head, branch, upstream, ahead, behind, dirty = _parse_status(pending_status.result().stdout)
    # git status writes repository-relative paths; the plan and the checks use the project's.
    dirty = [project_relative(path, project) for path in dirty]
    pending_tags.result()  # a failure is raised here
    tag_names = reads.tag_names()  # sorted by git
    remotes = tuple(pending_remotes.result().stdout.split())
    return GitFacts(
        Path(toplevel),
        Path(git_dir),
        head,
        branch,
        upstream,
        ahead,
        behind,
        tuple(dirty),
        shallow.strip() == "true",
        tag_names,
        remotes,
        pending_identity.result(check=False).returncode == 0,
        project,
    )


def _parse_status(status: str) -> tuple[str | None, str | None, str | None, int, int, list[str]]:
    """Branch, upstream, ahead/behind and dirty paths from ``git status --porcelain=v2 -z``."""
    head: str | None = None
    branch: str | None = None
    upstream: str | None = None
    ahead = behind = 0
    dirty: list[str] = []
    entries = status.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if entry.startswith("# branch.oid "):
            oid = entry.split()[-1]
            head = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            name = entry[len("# branch.head ") :]
            branch = None if name == "(detached)" else name
        elif entry.startswith("# branch.upstream "):
            upstream = entry[len("# branch.upstream ") :]
        elif entry.startswith("# branch.ab "):
            plus, minus = entry.split()[2:4]
            ahead, behind = int(plus), -int(minus)
        elif entry[:2] in ("1 ", "u "):
            dirty.append(entry.split(" ", 8 if entry[0] == "1" else 10)[-1])
        elif entry.startswith("2 "):
            dirty.append(entry.split(" ", 9)[-1])
            i += 1  # the original path follows
        elif entry.startswith("? "):
            dirty.append(entry[2:])
    return head, branch, upstream, ahead, behind, dirty


def read_commits(runner: Runner, since: str | None, *, own: bool = False) -> tuple[Commit, ...]:
    """The commits since ``since``; ``own``: only those touching the project's directory (a
    package of a repository of several)."""
    rev = f"{since}..HEAD" if since else "HEAD"
    out = runner.git("log", "-z", "--format=%H%n%B", rev, "--", *(["."] if own else [])).stdout
    commits = []
    for record in out.split("\0"):
        if record.strip():
            sha, _, message = record.partition("\n")
            commits.append(Commit(sha, message.strip()))
    return tuple(commits)


def gather(
    project_dir: Path,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    runner: Runner | None = None,
    started: GitReads | None = None,
    workspace: config_mod.Inherited | None = None,
    config: Config | None = None,
    reachable: frozenset[str] | None = None,
    fragments: tuple[Towncrier | None, FragmentSet] | None = None,
) -> Facts:
    """Read everything a plan needs; git works while the files are read.

    ``workspace``: the project is a package of a repository of several (its root settings);
    ``started`` may then be the reads of the repository's root, shared by every package,
    with ``runner`` the package's own, ``config`` its configuration read already, and
    ``reachable`` tags known to be reachable from HEAD (each package's highest, asked for
    them all at once): a tag not in it is looked for as usual; ``fragments`` what
    :func:`read_fragments` found already."""
    from release import fragments as fragments_mod

    project_dir = real(project_dir)
    if started is None:
        started = GitReads(runner or Runner(project_dir))
    runner = runner if runner is not None else started.runner
    if config is None:
        # A package of a repository of several, run in its own directory, inherits too.
        workspace = workspace or _package_of(project_dir, started, runner)
        config = config_mod.load(
            project_dir, environ=environ, overrides=overrides, workspace=workspace
        )
    listing = started.remote_listing(config["remote"])
    memo = Memo.from_environ(environ)
    scm = any(loc.kind == "scm" for loc in config.locations)
    guess_format = config.sources["tag-format"] == "default"
    # The tag a tag-versioned build describes: the nearest reachable one (of any format
    # while the format is still to be found from the tags).
    describe = None
    if scm:
        prefix, suffix = tags_mod.affixes(config.tag_format)
        pattern = "*[0-9]*" if guess_format else f"{prefix}[0-9]*{suffix}"
        describe = runner.spawn(describe_argv(pattern))
    remote_head = None
    if config.sources["branches"] == "default":
        remote_head = runner.spawn(
            ["git", "symbolic-ref", "--quiet", "--short", f"refs/remotes/{config['remote']}/HEAD"]
        )

    files: dict[str, str] = {}
    for loc in config.locations:
        if loc.kind != "scm":
            files[loc.path] = _read_text(project_dir / loc.path, loc.path)

    names = started.tag_names()
    if guess_format:
        nearest = describe.result(check=False).stdout.strip() or None if describe else None
        current = first_version(config.locations, files)
        config, history = _tag_format(config, names, memo, current, nearest)
    else:
        history = TagHistory(f"set in {config.sources['tag-format']}", ())
    releases = tags_mod.release_tags(names, config.tag_format, config.tag_scheme, memo)
    top_is_reachable = _top_question(runner, releases, reachable)

    towncrier, fragment_set = fragments or read_fragments(project_dir, config, memo)

    git = read_git(runner, started)
    if remote_head is not None:
        config = _release_branch(config, remote_head)
    series = _series(config, git.branch)
    history = _reachable(
        runner,
        history,
        releases,
        series,
        top_is_reachable=top_is_reachable,
        describe=describe,
    )
    # What HEAD's releases count from: the highest release it contains, within its series.
    base = history.series_top if series else history.reachable_top
    prereleases: tuple[PreRelease, ...] = ()
    if towncrier is not None and base is not None:
        prereleases = read_prereleases(runner, project_dir, towncrier, releases, base)
    commits = None
    if config["version-source"] == "commits" and git.head is not None:
        commits = read_commits(runner, base, own=workspace is not None)

    return Facts(
        project_dir,
        config,
        files,
        git,
        releases,
        towncrier,
        fragment_set,
        commits,
        fragments_mod.release_date(environ),
        listing,
        history,
        changelog.remembering(memo),
        prereleases,
    )


def read_fragments(
    project_dir: Path, config: Config, memo: Memo
) -> tuple[Towncrier | None, FragmentSet]:
    """towncrier's settings and the unreleased fragments, when the project uses towncrier."""
    from release import fragments as fragments_mod

    if not fragments_mod.towncrier_configured(project_dir, config.pyproject):
        return None, FragmentSet((), {}, ())
    towncrier = fragments_mod.load_towncrier(project_dir, config.pyproject, memo)
    return towncrier, fragments_mod.scan(project_dir, towncrier)


def _package_of(
    project_dir: Path, started: GitReads, runner: Runner
) -> config_mod.Inherited | None:
    """When the project is a package of a repository of several (in a subdirectory, which
    the repository's root declares), the root settings it inherits: `release -C PATH`
    plans it as the release of the root would."""
    if runner is not started.runner or (project_dir / ".git").exists():
        return None  # the root of a repository (or of a worktree): asked without git
    done = started.top.result(check=False)
    if done.returncode != 0:
        return None  # read_git says why
    toplevel, _git_dir, _shallow, prefix = done.stdout.split("\n")[:4]
    project = project_path(prefix)
    if project == ROOT_PROJECT:
        return None
    from release.workspace.discovery import inherited_by

    return inherited_by(Path(toplevel), project)


def _top_question(
    runner: Runner, releases: tags_mod.ReleaseTags, reachable: frozenset[str] | None
) -> Pending | bool | None:
    """Whether HEAD contains the highest release tag: known already (``reachable``, asked
    for every package of a repository at once), or asked now; None without releases."""
    if not releases:
        return None
    if reachable is not None:
        return releases[-1].name in reachable
    return runner.spawn(
        ["git", "merge-base", "--is-ancestor", f"refs/tags/{releases[-1].name}", "HEAD"]
    )


def _series(config: Config, branch: str | None) -> tuple[int, ...]:
    """The series of the branch's line; empty without one (and when the series cannot be
    read from the branch's name: the plan reports that)."""
    from release.errors import ConfigError

    try:
        line = config.line_of(branch) if branch is not None else None
    except ConfigError:
        return ()
    return line.numbers if line is not None else ()


def _reachable(
    runner: Runner,
    history: TagHistory,
    releases: tags_mod.ReleaseTags,
    series: tuple[int, ...],
    *,
    top_is_reachable: Pending | bool | None,
    describe: Pending | None,
) -> TagHistory:
    """``history`` with the release tags HEAD contains: the highest, the highest in the
    branch's series, and (for a version kept in tags) the nearest."""
    if top_is_reachable is not None:
        top, series_top = _reachable_tops(runner, top_is_reachable, releases, series)
        history = history._replace(reachable_top=top, series_top=series_top)
    if describe is not None:
        history = _nearest_release(runner, history, describe, releases)
    return history


def _reachable_tops(
    runner: Runner,
    top_is_reachable: Pending | bool,
    releases: tags_mod.ReleaseTags,
    series: tuple[int, ...],
) -> tuple[str | None, str | None]:
    """The highest release tag that HEAD contains, and the highest within ``series`` (None
    without a series). Usually the highest of all is reachable and in the series: one check."""
    highest = releases[-1]
    if isinstance(top_is_reachable, bool):
        reachable = top_is_reachable
    else:
        reachable = top_is_reachable.result(check=False).returncode == 0
    if reachable:
        if not series:
            return highest.name, None
        if versions.in_series(highest.version, series):
            return highest.name, highest.name
    merged = runner.git(
        "for-each-ref", "--merged", "HEAD", "--format=%(refname:lstrip=2)", "refs/tags", check=False
    ).stdout.split()
    top = tags_mod.highest(releases, merged)
    in_series = tags_mod.highest(releases, merged, series) if series else None
    return (top.name if top else None), (in_series.name if in_series else None)


def read_prereleases(
    runner: Runner,
    project_dir: Path,
    tc: Towncrier,
    releases: tags_mod.ReleaseTags,
    base: str,
) -> tuple[PreRelease, ...]:
    """When ``base`` (the highest release HEAD contains) is a pre-release, the pre-releases
    of its cycle that HEAD contains, each with the fragments its release commit (the tagged
    commit) removed from towncrier's directories, read back from its parent commit."""
    from release import fragments as fragments_mod

    top = releases.find(base)
    if top is None or not top.version.is_prerelease:
        return ()
    cycle = [
        tag
        for tag in releases
        if tag.key[:2] == top.key[:2] and tag.version.is_prerelease and tag.key <= top.key
    ]
    if len(cycle) > 1:
        refs = [f"refs/tags/{tag.name}" for tag in cycle]
        merged = set(
            runner.git(
                "for-each-ref",
                "--merged",
                "HEAD",
                "--format=%(refname:lstrip=2)",
                *refs,
                check=False,
            ).stdout.split()
        )
        cycle = [tag for tag in cycle if tag.name in merged or tag.name == base]
    dirs = {
        section: os.path.relpath(directory, project_dir).replace(os.sep, "/")
        for section, directory in tc.section_dirs.items()
    }
    found: list[PreRelease] = []
    for tag in cycle:
        commit = f"refs/tags/{tag.name}^{{commit}}"
        removed = runner.git(
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--relative",
            "--name-only",
            "--diff-filter=D",
            f"{commit}^",
            commit,
            "--",
            *dirs.values(),
            check=False,
        ).stdout.split("\0")
        reads = [
            (path, runner.spawn(["git", "cat-file", "blob", f"{commit}^:./{path}"]))
            for path in removed
            if path
        ]
        contents: dict[str, dict[tuple[str, str, int], str]] = {name: {} for name in dirs}
        orphans: dict[tuple[str, str], int] = {}
        for path, pending in reads:
            done = pending.result(check=False)
            section = next(
                (name for name, d in dirs.items() if os.path.dirname(path) == d.rstrip("/")), None
            )
            key = fragments_mod.fragment_key(tc, os.path.basename(path))
            if done.returncode != 0 or section is None or key is None:
                continue
            issue, ftype, counter = key
            if issue == "":  # towncrier numbers orphan fragments in the order it finds them
                counter = orphans.get((section, ftype), 0)
                orphans[(section, ftype)] = counter + 1
            text = done.stdout.replace("\r\n", "\n").replace("\r", "\n")
            contents[section][(issue, ftype, counter)] = text
        found.append(PreRelease(tag.name, tag.version, contents))
    return tuple(found)


def _release_branch(config: Config, remote_head: Pending) -> Config:
    """Without `branches`, the remote's default branch (``origin/HEAD``, as a clone sets
    it) is a release branch too: trunk and develop projects work unconfigured. Unlike
    `release init`, which shows its decision, the current branch is never taken silently."""
    from release.detect import release_branch

    head = remote_head.result(check=False).stdout.strip()
    if not head:
        return config
    branch, why = release_branch(head, None)
    if config.branch_allowed(branch):
        return config
    branches = (*config["branches"], branch)
    return config.detected("branches", branches, f"default (with {branch}: {why})")


def _tag_format(
    config: Config, names: Sequence[str], memo: Memo, current: str | None, nearest: str | None
) -> tuple[Config, TagHistory]:
    """The tag format the existing tags use (remembered under their names)."""
    from release.detect import TagFormat, tag_format
    from release.memo import digest, installed

    key = ""
    if memo.directory:
        key = digest(installed("release.detect"), str(current), str(nearest), "\n".join(names))
    stored: Any = memo.get("tag-format", key) if key else None
    try:
        found = TagFormat(
            stored["format"], stored["reason"], tuple((n, w) for n, w in stored["skipped"])
        )
    except (TypeError, KeyError, ValueError):
        found = tag_format(names, current=current, nearest=nearest)
        if key:
            memo.put("tag-format", key, found._asdict())
    detected = config.detected("tag-format", found.format, "default (detected from the tags)")
    return detected, TagHistory(found.reason, found.skipped)


def _nearest_release(
    runner: Runner, history: TagHistory, describe: Pending, releases: tags_mod.ReleaseTags
) -> TagHistory:
    done = describe.result(check=False)
    name = done.stdout.strip()
    if done.returncode == 0 and name and releases.find(name) is not None:
        # Several tags on that commit: the highest release among them.
        together = runner.git(
            "tag", "--points-at", f"{name}^{{commit}}", check=False
        ).stdout.split()
        found = [tag for tag in map(releases.find, together) if tag is not None]
        best = max(found, key=lambda tag: tag.key).name if found else name
        return history._replace(
            nearest=best, nearest_reason=f"{best} is the nearest release tag reachable from HEAD"
        )
    top = history.reachable_top
    if top is not None:
        why = f"the nearest tag, {name}, is not a release tag" if name else "git describe failed"
        return history._replace(
            nearest=top,
            nearest_reason=f"{why}; the highest release tag reachable from HEAD, {top}, is used",
        )
    if releases:
        return history._replace(
            nearest=None, nearest_reason="no release tag is reachable from HEAD: 0.0.0"
        )
    return history._replace(nearest=None, nearest_reason="no release tag yet: 0.0.0")


def read_remote(runner: Runner, facts: Facts, tag: str) -> RemoteFacts:
    """Ask the remote about the release branch and the planned tag (no fetch: nothing changes)."""
    valid = tags_mod.ref_format_problem(tag) is None
    remote = facts.config["remote"]
    # gather() started the listing of the configured remote, if git knows it by that name.
    if remote not in facts.git.remotes or facts.remote_listing is None:
        return RemoteFacts(False, f"no remote named {remote!r}", None, None, True, valid)
    done = facts.remote_listing.result(check=False)
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        return RemoteFacts(
            False, said[0].strip() if said else "git ls-remote failed", None, None, True, valid
        )
    listed = done.stdout
    branch_head = _listed(listed, f"refs/heads/{facts.git.branch}")
    # An annotated tag's peeled line names its commit; a lightweight tag has only its own.
    tag_commit = _listed(listed, f"refs/tags/{tag}^{{}}") or _listed(listed, f"refs/tags/{tag}")
    contains = True
    if branch_head and branch_head != facts.git.head:
        done = runner.git("merge-base", "--is-ancestor", branch_head, "HEAD", check=False)
        contains = done.returncode == 0
    return RemoteFacts(True, "", branch_head, tag_commit, contains, valid)


def _listed(listing: str, ref: str) -> str | None:
    """The object ``git ls-remote`` lists for exactly ``ref``."""
    return _refs(listing).get(ref)


@functools.lru_cache(maxsize=2)
def _refs(listing: str) -> dict[str, str]:
    """``git ls-remote``'s listing as ref -> object, made once: the packages of a
    repository of several each look up their branch and tag in the same long listing."""
    lines = listing.splitlines()
    # One tab a line, as git writes it: split at once.
    if lines and listing.count("\t") == len(lines):
        fields = "\t".join(lines).split("\t")
        return dict(zip(fields[1::2], fields[0::2], strict=True))
    refs: dict[str, str] = {}
    for line in lines:
        obj, _, ref = line.partition("\t")
        refs.setdefault(ref, obj)
    return refs


def read_targets(
    targets: Sequence[Target], project: str, version: Version, environ: Mapping[str, str]
) -> tuple[TargetFacts, ...]:
    """What each publish target says about ``version``, through the Target seam."""
    if not targets:
        return ()  # and urllib, credentials and keyring stay unimported
    from release.targets import connect

    return tuple(connect(target, project, environ).survey(version) for target in targets)


def _read_text(path: Path, shown: str) -> str:
    from release.errors import ConfigError

    try:
        # Exactly, CRLF and all: the planned edit is applied only to this very text.
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown} is not valid UTF-8 ({exc.reason}).", "Save it as UTF-8."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{shown} cannot be read: {exc.strerror}.", "Check the path.") from None
