"""One read-only snapshot of the world: configuration, files, git, fragments.

Git state is read with a few plain ``git`` commands through the runner (GitPython
is kept for the steps that change the repository), so the read-only commands
start fast and cost what the commits since the last release cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from release import config as config_mod
from release import tags as tags_mod
from release.commits import Commit
from release.config import Config, Target
from release.errors import CommandError, FragmentError, GitError
from release.fragments import FragmentSet, Towncrier
from release.runner import Runner


@dataclass(frozen=True)
class GitFacts:
    toplevel: Path
    git_dir: Path
    head: str | None
    branch: str | None
    upstream: str | None
    ahead: int
    behind: int
    dirty: tuple[str, ...]
    shallow: bool
    tags: tuple[tuple[str, str], ...]  # (name, commit it points to)
    remotes: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    project_dir: Path
    config: Config
    files: Mapping[str, str]
    git: GitFacts
    release_tags: tuple[tags_mod.ReleaseTag, ...]
    towncrier: Towncrier | None
    fragments: FragmentSet
    commits: tuple[Commit, ...] | None
    date: str


@dataclass(frozen=True)
class RemoteFacts:
    """What the remote says about the planned release (read with ``git ls-remote``)."""

    reachable: bool
    error: str
    branch_head: str | None
    tag_commit: str | None
    head_contains_remote: bool
    tag_name_valid: bool


def read_git(runner: Runner) -> GitFacts:
    try:
        top = runner.git(
            "rev-parse", "--show-toplevel", "--absolute-git-dir", "--is-shallow-repository"
        )
    except CommandError as exc:
        if exc.returncode == 127:
            raise GitError("git is not installed or not on PATH.", "Install git.") from None
        raise GitError(
            f"{runner.cwd} is not inside a git repository.",
            "Run release inside the project's git checkout (git init, or clone it).",
        ) from None
    toplevel, git_dir, shallow = top.stdout.splitlines()[:3]
    status = runner.git("status", "--porcelain=v2", "--branch", "-z").stdout
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
    refs = runner.git(
        "for-each-ref",
        "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)",
        "refs/tags",
    ).stdout
    tag_list: list[tuple[str, str]] = []
    for line in refs.splitlines():
        name, obj, peeled = line.split("\0")
        tag_list.append((name, peeled or obj))
    remotes = tuple(runner.git("remote").stdout.split())
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
        tuple(tag_list),
        remotes,
    )


def read_commits(runner: Runner, since: str | None) -> tuple[Commit, ...]:
    rev = f"{since}..HEAD" if since else "HEAD"
    out = runner.git("log", "-z", "--format=%H%n%B", rev, "--").stdout
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
) -> Facts:
    from release import fragments as fragments_mod

    project_dir = project_dir.resolve()
    runner = runner or Runner(project_dir)
    config = config_mod.load(project_dir, environ=environ, overrides=overrides)
    git = read_git(runner)
    releases = tags_mod.release_tags(git.tags, config.tag_format, config.tag_scheme)

    files: dict[str, str] = {}
    for loc in config.locations:
        if loc.kind != "scm":
            files[loc.path] = _read_text(project_dir / loc.path, loc.path)

    towncrier = None
    fragment_set = FragmentSet((), {}, ())
    if fragments_mod.towncrier_configured(project_dir, config.pyproject):
        towncrier = fragments_mod.load_towncrier(project_dir, config.pyproject)
        fragment_set = fragments_mod.scan(project_dir, towncrier.config)

    commits = None
    if config["version-source"] == "commits" and git.head is not None:
        since = releases[-1].name if releases else None
        commits = read_commits(runner, since)

    return Facts(
        project_dir,
        config,
        files,
        git,
        tuple(releases),
        towncrier,
        fragment_set,
        commits,
        fragments_mod.release_date(environ),
    )


def read_remote(runner: Runner, facts: Facts, tag: str) -> RemoteFacts:
    """Ask the remote about the release branch and the planned tag (no fetch: nothing changes)."""
    valid = runner.git("check-ref-format", f"refs/tags/{tag}", check=False).returncode == 0
    remote = facts.config["remote"]
    if remote not in facts.git.remotes:
        return RemoteFacts(False, f"no remote named {remote!r}", None, None, True, valid)
    wanted = [f"refs/tags/{tag}"]
    if facts.git.branch:
        wanted.insert(0, f"refs/heads/{facts.git.branch}")
    done = runner.git("ls-remote", "--", remote, *wanted, check=False)
    if done.returncode != 0:
        return RemoteFacts(False, done.stderr.strip(), None, None, True, valid)
    branch_head = tag_commit = None
    for line in done.stdout.splitlines():
        sha, ref = line.split("\t", 1)
        if ref == f"refs/heads/{facts.git.branch}":
            branch_head = sha
        elif ref in (f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"):
            tag_commit = sha
    contains = True
    if branch_head and branch_head != facts.git.head:
        contains = (
            runner.git("merge-base", "--is-ancestor", branch_head, "HEAD", check=False).returncode
            == 0
        )
    return RemoteFacts(True, "", branch_head, tag_commit, contains, valid)


@dataclass(frozen=True)
class TargetFacts:
    """What a publish target says about the planned version (read-only)."""

    name: str
    credential_source: str | None
    files_of_version: tuple[str, ...]
    error: str


def read_targets(
    targets: Sequence[Target], project: str, version: Version, environ: Mapping[str, str]
) -> tuple[TargetFacts, ...]:
    if not targets:
        return ()  # and urllib, credentials and keyring stay unimported
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    from release.credentials import resolve
    from release.index import IndexError_, read_files

    found = []
    for target in targets:
        resolved = resolve(target, environ)
        source = resolved.source if resolved else None
        try:
            listed = read_files(
                target.index_url, project, resolved.credentials if resolved else None
            )
        except IndexError_ as exc:
            found.append(TargetFacts(target.name, source, (), exc.message))
            continue
        same = []
        for name in listed:
            try:
                parsed = (
                    parse_wheel_filename(name)[1]
                    if name.endswith(".whl")
                    else parse_sdist_filename(name)[1]
                )
            except (InvalidWheelFilename, InvalidSdistFilename):
                continue
            if parsed == version:
                same.append(name)
        found.append(TargetFacts(target.name, source, tuple(same), ""))
    return tuple(found)


def _read_text(path: Path, shown: str) -> str:
    from release.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown} is not valid UTF-8 ({exc.reason}).", "Save it as UTF-8."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{shown} cannot be read: {exc.strerror}.", "Check the path.") from None


__all__ = ["Facts", "FragmentError", "GitFacts", "RemoteFacts", "gather", "read_remote"]
