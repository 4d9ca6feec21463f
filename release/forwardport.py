"""``release pr --forward-port BRANCH``: a release's changelog section, proposed as a pull
request for another branch's changelog.

towncrier writes a release's section only into the changelog of the branch that released
it: 1.4.1 made on ``release/1.4.x`` is missing from ``main``'s changelog, and maintainers
copy it by hand.  This takes the section as the release commit wrote it (the news file of
the tagged commit), adds it to the target branch's news file in version order
(:func:`release.changelog.with_section`), commits that on the tool's own branch
(:data:`BRANCH`) on top of the target's tip, force-pushes it and opens the pull request,
or updates the one that is open.  Everything is made with git's plumbing (a temporary
index, ``commit-tree``): the user's checkout is never switched, its files and index are
never touched.  When the target's changelog has the section already (the pull request was
merged, or it was copied by hand), nothing is made and an open forward-port pull request is
closed with a comment.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from release import newlines
from release.errors import ReleaseError, UsageError
from release.pr import PrResult

if TYPE_CHECKING:
    from packaging.version import Version

    from release.facts import Facts
    from release.forges import Forge
    from release.fragments import Towncrier
    from release.runner import Runner

#: The forward-port pull request's branch: release-pipeline's own, force-pushed on every run.
#: Outside ``release/``, so that no release line (``release/*``) takes it for a release branch.
BRANCH = "forward-port/{tag}-to-{target}"

ALREADY_THERE = (
    "Closed by release pr --forward-port: the changelog of {target} already has the section "
    "of {version}, so this pull request is no longer needed."
)


def forward_port(
    project_dir: Path,
    *,
    target: str,
    version: str | None,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    note: Callable[[str], None] = lambda _t: None,
    secrets: list[str] | None = None,
) -> PrResult:
    """Open or update the pull request that adds the changelog section of the release
    ``version`` (by default the latest release ``HEAD`` contains on its line) to the
    changelog of the branch ``target`` on the remote.  Its action is ``opened``,
    ``updated``, or ``present`` when ``target`` has the section already (``change`` then
    names the pull request it closed, if one was open)."""
    from release.changelog import with_section
    from release.facts import gather
    from release.pr import connect_forge
    from release.runner import Runner

    secrets = [] if secrets is None else secrets
    runner = Runner(project_dir, secrets)
    facts = gather(project_dir, environ=environ, overrides=overrides, runner=runner)
    cfg = facts.config
    forge = connect_forge(cfg, environ, secrets)
    tc = _towncrier(facts)
    tag, released = _release(facts, version)
    shown = str(released)
    section = _released_section(runner, tc, tag, shown)
    remote = str(cfg["remote"])
    branch = BRANCH.format(tag=tag, target=target)
    heads = _fetch(runner, remote, target, branch)
    base = heads[target]
    news = _news_at(runner, tc, base, target, remote)
    added = with_section(tc, newlines.plain(news), section, shown)
    # The target's news file keeps its own line endings (and byte order mark).
    text = None if added is None else newlines.edit_in_style(news, lambda _plain: added)
    if text is None:
        closed = _close_obsolete(runner, forge, (remote, branch, target), shown, note)
        return PrResult("present", shown, branch, closed)
    if not facts.git.identity:
        raise UsageError(
            "git does not know who is committing, so the forward-port commit cannot be made.",
            'Set it: git config user.name "Your Name" && git config user.email '
            "you@example.com (or GIT_AUTHOR_NAME/EMAIL and GIT_COMMITTER_NAME/EMAIL in CI).",
        )
    source = facts.git.branch or "HEAD"
    title = f"Forward-port the changelog of {shown} to {target}"
    message = (
        f"{title}\n\nThe section of {tag}, as its release commit on {source} wrote it, added "
        f"to {tc.news_file} in version order (release pr --forward-port).\n"
    )
    tree = _tree_with(runner, facts.git.toplevel, base, _in_repository(runner, tc), text)
    pushed = heads.get(branch)
    if pushed is not None and _same_change(runner, pushed, base, tree):
        note(f"{branch} on {remote} already holds this change; not pushed again")
    else:
        commit = runner.run(
            ["git", "commit-tree", tree, "-p", base], input_text=message
        ).stdout.strip()
        note(f"force-pushing {branch} to {remote} (release-pipeline's own branch)")
        runner.git("push", "--force", "--porcelain", "--", remote, f"{commit}:refs/heads/{branch}")
    body = _body(section, tag, source, target, branch)
    found = forge.find_change(branch, target)
    if found is None:
        change, action = forge.open_change(title, body, branch, target), "opened"
    else:
        change, action = forge.update_change(found, title, body), "updated"
    return PrResult(action, shown, branch, forge.change_ref(change))


def _close_obsolete(
    runner: Runner,
    forge: Forge,
    where: tuple[str, str, str],  # remote, the forward-port branch, the target branch
    version: str,
    note: Callable[[str], None],
) -> str:
    """Close the open forward-port pull request (the target has the section without it) and
    delete its branch; how the forge names it, or "" when none was open."""
    remote, branch, target = where
    change = forge.find_change(branch, target)
    if change is None:
        return ""
    forge.close_change(change, ALREADY_THERE.format(target=target, version=version))
    runner.git("push", "--porcelain", "--delete", "--", remote, branch, check=False)
    closed = forge.change_ref(change)
    note(f"closed {closed} and deleted {branch}: {target} has the section already")
    return closed


def _towncrier(facts: Facts) -> Towncrier:
    tc = facts.towncrier
    if tc is None:
        raise UsageError(
            "release pr --forward-port copies a release's changelog section, but towncrier is "
            "not configured here (no [tool.towncrier] in pyproject.toml, no towncrier.toml).",
            "Configure towncrier (docs/configuration.md), or copy the notes by hand.",
        )
    if not tc.config.single_file:
        raise UsageError(
            f"release pr --forward-port adds a section to one news file, but towncrier writes "
            f"a file per version here (single_file = false in {tc.config_file}).",
            "Copy the release's news file to the other branch by hand.",
        )
    return tc


def _release(facts: Facts, version: str | None) -> tuple[str, Version]:
    """The release tag to forward-port and its version: the one ``version`` names, else the
    latest release ``HEAD`` contains on its line (within the branch's series, if it has
    one)."""
    from release import tags as tags_mod
    from release import version as versions

    cfg = facts.config
    if version in ("major", "minor", "patch", "post"):
        raise UsageError(
            f"release pr --forward-port takes the version of a release, not {version!r}.",
            "Name the release (release pr --forward-port main 1.4.1), or give none for the "
            "latest release on this branch.",
        )
    if version is not None:
        wanted = versions.read(version, cfg.tag_scheme, where="the command line")
        tag = tags_mod.render(cfg.tag_format, wanted, cfg.tag_scheme)
        if tag not in facts.git.tags:
            raise UsageError(
                f"There is no release tag {tag} (of {wanted}) in this clone, so there is no "
                "release section to forward-port.",
                "Fetch the tags (git fetch --tags), or name a version that was released.",
            )
        return tag, wanted
    branch = facts.git.branch
    line = cfg.line_of(branch) if branch is not None else None
    series = line.numbers if line is not None else ()
    name = facts.history.series_top if series else facts.history.reachable_top
    found = facts.release_tags.find(name) if name is not None else None
    if found is None:
        where = f"the branch {branch}" if branch else "HEAD"
        within = f" within its series {'.'.join(map(str, series))}" if series else ""
        raise UsageError(
            f"No release to forward-port: {where} contains no release tag{within} (of the "
            f"form {cfg.tag_format!r}).",
            "Run it on the maintenance branch after its release, or name the release "
            "(release pr --forward-port main 1.4.1).",
        )
    return found.name, found.version


def _released_section(runner: Runner, tc: Towncrier, tag: str, version: str) -> str:
    """The section of ``version`` in the news file of the commit ``tag`` names."""
    from release.changelog import extract_section

    done = runner.git(
        "cat-file", "blob", f"refs/tags/{tag}^{{commit}}:./{tc.news_file}", check=False
    )
    if done.returncode != 0:
        problem = f"has no {tc.news_file}"
    else:
        section = extract_section(tc._replace(news_text=done.stdout), version)
        if section is not None:
            return section
        problem = f"has no section titled with {version} in {tc.news_file}"
    raise UsageError(
        f"The commit tagged {tag} {problem}, so there is no release section to forward-port.",
        "Forward-port a release whose changelog towncrier built (release run and release pr "
        "do), or copy the notes by hand.",
    )


def _fetch(runner: Runner, remote: str, target: str, branch: str) -> dict[str, str]:
    """Branch name -> commit of ``target`` and (when it exists) ``branch`` on ``remote``,
    fetched (into the remote-tracking refs, as ``git fetch`` would)."""
    from release.ops.git import remote_refs

    refs = {name: f"refs/heads/{name}" for name in (target, branch)}
    try:
        listed = remote_refs(runner, remote, *refs.values())
    except ReleaseError as exc:
        raise UsageError(
            f"Cannot read the branches of the remote {remote!r}: {exc.message}",
            "Check `remote` in [tool.release] and that the remote can be reached.",
        ) from None
    if refs[target] not in listed:
        raise UsageError(
            f"The remote {remote!r} has no branch {target!r} to forward-port the notes to.",
            f"Name a branch the remote has (git ls-remote --heads {remote}).",
        )
    present = {name: ref for name, ref in refs.items() if ref in listed}
    runner.git(
        "fetch",
        "--quiet",
        "--no-tags",
        "--",
        remote,
        *(f"+{ref}:refs/remotes/{remote}/{name}" for name, ref in present.items()),
    )
    return {name: listed[ref] for name, ref in present.items()}


def _news_at(runner: Runner, tc: Towncrier, commit: str, target: str, remote: str) -> str:
    done = runner.run(
        ["git", "cat-file", "blob", f"{commit}:./{tc.news_file}"], check=False, exact=True
    )
    if done.returncode != 0:
        raise UsageError(
            f"The branch {target} on {remote!r} has no {tc.news_file} (the news file "
            f"towncrier's `filename` names), so there is no changelog to add the section to.",
            f"Add {tc.news_file} to {target} first, or copy the notes by hand.",
        )
    return done.stdout


def _in_repository(runner: Runner, tc: Towncrier) -> str:
    """The news file's path inside the repository."""
    from release.ops.git import ROOT_PROJECT, locate

    project = locate(runner)[1]
    return tc.news_file if project == ROOT_PROJECT else posixpath.join(project, tc.news_file)


def _tree_with(runner: Runner, toplevel: Path, base: str, path: str, text: str) -> str:
    """The tree of ``base`` with ``path`` (inside the repository) holding ``text``, made in
    a temporary index: the work tree and the user's index are not touched."""
    import tempfile

    blob = runner.run(
        ["git", "hash-object", "-w", "--stdin"], input_text=text, exact=True
    ).stdout.strip()
    mode = runner.run(["git", "ls-tree", base, "--", path], cwd=toplevel).stdout.split(" ", 1)[0]
    with tempfile.TemporaryDirectory(prefix="release-forward-port-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        runner.run(["git", "read-tree", base], cwd=toplevel, env=env)
        runner.run(
            ["git", "update-index", "--cacheinfo", f"{mode or '100644'},{blob},{path}"],
            cwd=toplevel,
            env=env,
        )
        return runner.run(["git", "write-tree"], cwd=toplevel, env=env).stdout.strip()


def _same_change(runner: Runner, pushed: str, base: str, tree: str) -> bool:
    """Whether the commit ``pushed`` is the change made now: ``tree`` on top of ``base``."""
    done = runner.git("log", "-1", "--format=%T %P", pushed, check=False)
    return done.returncode == 0 and done.stdout.split() == [tree, base]


def _body(section: str, tag: str, source: str, target: str, branch: str) -> str:
    return (
        f"{section.rstrip()}\n\n---\n\n"
        f"The changelog section of {tag}, released from {source}, added to {target}'s "
        "changelog in version order: towncrier writes a release's notes only on the branch "
        "that made it. Merging this changes nothing but the changelog.\n\n"
        f"`{branch}` is release-pipeline's own branch: `release pr --forward-port` "
        "force-pushes it on every run, so commits added to it by hand are replaced.\n"
    )
