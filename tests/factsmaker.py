"""Facts built in memory, for unit tests of the plan and the checks: no disk, no git.

``make_facts()`` is the sample project of ``release.demo`` as ``facts.gather`` would read
it (version 1.2.0 in ``pyproject.toml`` and ``src/sample_project/__init__.py``, tagged
``v1.2.0``, on ``main``, clean, towncrier with ``changelog.d/`` and ``CHANGELOG.md``); each
keyword changes one part of that world:

    make_facts(fragments={"12.feature.md": "Add a thing."})
    make_facts(release={"commit-hooks": False}, dirty=("stray.txt",), branch=None)
    make_facts(tags=("v1.2.0", "v2.0.0"), reachable=("v1.2.0",))
    make_facts(version="2.0.0rc1", tags=("v1.2.0", "v2.0.0rc1"),
               prereleases={"v2.0.0rc1": {"1.feature.md": "A."}})

The configuration goes through ``release.config.load`` (validated as a user's would be)
and the tags through ``release.tags.release_tags``; the changelog is rendered by
towncrier's own renderer, as the real plan does (each distinct section once per session,
in memory: ``render_once``). ``checks.evaluate`` asks the remote through its runner: pass
it a ``FakeRunner``; ``facts.remote_listing`` is what ``remote_refs`` lists.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from release import changelog
from release import config as config_mod
from release import tags as tags_mod
from release.commits import Commit
from release.errors import ConfigError, FragmentError
from release.facts import Facts, GitFacts, PreRelease, TagHistory
from release.fragments import (
    Fragment,
    FragmentContents,
    FragmentSet,
    Towncrier,
    TowncrierSettings,
)
from release.runner import Completed

PROJECT_DIR = Path("/nonexistent/sample-project")
HEAD = "a" * 40
DATE = "2026-01-02"
NAME = "sample-project"
INIT = "src/sample_project/__init__.py"
NEWS = (
    "# Changelog\n\n"
    "<!-- towncrier release notes start -->\n\n## 1.2.0 (2026-01-01)\n\n- First.\n"
)
TOWNCRIER = {
    "directory": "changelog.d",
    "filename": "CHANGELOG.md",
    "title_format": "## {version} ({project_date})",
    "issue_format": "[#{issue}](https://example.invalid/issues/{issue})",
}


def pyproject_text(version: str) -> str:
    return f'[project]\nname = "{NAME}"\nversion = "{version}"\n'


def init_text(version: str) -> str:
    return f'"""A sample project."""\n\n__version__ = "{version}"\n'


@functools.cache
def _packaged_template(package: str, resource: str) -> str:
    from importlib import resources

    return resources.files(package).joinpath(resource).read_text(encoding="utf-8")


_SECTIONS: dict[str, str] = {}


def render_once(tc: Towncrier, contents: FragmentContents, version: str, date: str) -> str:
    """towncrier's rendering (``changelog.render_section``), each distinct section once per
    test session: compiling towncrier's template is most of what a plan costs."""
    key = repr((tc.config, tc.template_text, tc.project_name, tc.template_extension,
                version, date, contents))
    if key not in _SECTIONS:
        _SECTIONS[key] = changelog.render_section(tc, contents, version, date)
    return _SECTIONS[key]


def make_towncrier(table: Mapping[str, Any], news_text: str | None = NEWS) -> Towncrier:
    """towncrier's settings for ``[tool.towncrier]`` = ``table``, parsed by towncrier itself."""
    from towncrier._settings.load import parse_toml

    parsed = parse_toml(str(PROJECT_DIR), {"tool": {"towncrier": dict(table)}})
    settings = TowncrierSettings.from_towncrier(parsed)
    # towncrier's load_config takes both from [project.name] when the table has neither.
    settings = settings._replace(name=settings.name or NAME, package=settings.package or NAME)
    assert isinstance(settings.template, tuple), "a file template needs the disk"
    template = _packaged_template(*settings.template)
    extension = Path(settings.template[1]).suffix
    dirs = {
        section: PROJECT_DIR / (settings.directory or "newsfragments") / sub
        for section, sub in settings.sections.items()
    }
    return Towncrier(
        settings, "pyproject.toml", template, extension, NAME, settings.filename, news_text, dirs
    )


def make_fragments(
    tc: Towncrier, named: Mapping[str, str], problems: Iterable[FragmentError] = ()
) -> FragmentSet:
    """Fragments as ``fragments.scan`` finds them: ``{"12.feature.md": "text", ...}`` in
    the (only) section's directory; a name is ISSUE.TYPE[.COUNTER][.ext]."""
    directory = tc.config.directory or "newsfragments"
    found: list[Fragment] = []
    contents: dict[tuple[str, str, int], str] = {}
    for name, text in named.items():
        parts = name.split(".")
        if parts[-1] in ("md", "rst", "txt"):
            parts = parts[:-1]
        issue, ftype = parts[0], parts[1]
        counter = int(parts[2]) if len(parts) > 2 else 0
        found.append(Fragment(f"{directory}/{name}", "", issue, ftype, counter))
        contents[(issue, ftype, counter)] = text
    found.sort(key=lambda f: f.path)
    return FragmentSet(tuple(found), {"": contents}, tuple(problems))


class FakePending:
    """A finished command, as ``Runner.spawn`` gives it: ``facts.remote_listing``."""

    def __init__(self, stdout: str, returncode: int = 0, stderr: str = "") -> None:
        self.done = Completed(("git", "ls-remote"), returncode, stdout, stderr)

    def result(self, *, check: bool = True) -> Completed:
        assert not check or self.done.returncode == 0
        return self.done


class FakeRunner:
    """The runner ``checks.evaluate`` asks the remote's questions through, answered in memory:
    ``git merge-base --is-ancestor`` by ``contains_remote``; every other command fails the
    test. ``calls`` records them."""

    def __init__(self, *, contains_remote: bool = True) -> None:
        self.cwd = PROJECT_DIR
        self.answers = {"merge-base": contains_remote}
        self.calls: list[tuple[str, ...]] = []

    def git(self, *args: str, check: bool = True) -> Completed:
        self.calls.append(args)
        assert args[0] in self.answers, f"unexpected git command: {args}"
        return Completed(("git", *args), 0 if self.answers[args[0]] else 1, "", "")


def listing(refs: Mapping[str, str]) -> FakePending:
    """``git ls-remote`` of a remote with ``refs`` (name -> object)."""
    return FakePending("".join(f"{obj}\t{ref}\n" for ref, obj in refs.items()))


#: The remote of the sample: main at HEAD, the release tag of 1.2.0.
REMOTE_REFS = {"refs/heads/main": HEAD, "refs/tags/v1.2.0": "b" * 40}


def make_facts(
    *,
    version: str = "1.2.0",
    release: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    towncrier: Mapping[str, Any] | None = TOWNCRIER,
    news_text: str | None = NEWS,
    fragments: Mapping[str, str] | None = None,
    fragment_problems: Iterable[FragmentError] = (),
    files: Mapping[str, str] | None = None,
    tags: Sequence[str] = ("v1.2.0",),
    reachable: Sequence[str] | None = None,
    commits: Sequence[tuple[str, str]] | None = None,
    remote_refs: Mapping[str, str] | None = REMOTE_REFS,
    prereleases: Mapping[str, Mapping[str, str]] | None = None,
    **git: Any,
) -> Facts:
    """The facts of the sample project at ``version`` (see the module's docstring).

    ``release`` is the ``[tool.release]`` table (``version-locations`` defaults to both
    files), ``towncrier=None`` means no towncrier, ``files`` replaces the file texts,
    ``tags`` are every tag's name and ``reachable`` those HEAD contains (default: all),
    ``commits`` are ``(sha, message)`` pairs since the last release, ``remote_refs`` what
    ``git ls-remote`` lists (None: it fails), ``prereleases`` the pre-releases of the open
    cycle (tag -> the fragments its release commit consumed, named as in ``fragments``;
    each must be one of ``tags``), and every other
    keyword is a ``GitFacts`` field (``branch=None`` is a detached HEAD).
    """
    table = {"version-locations": ["pyproject.toml", INIT], **(release or {})}
    pyproject: dict[str, Any] = {
        "project": {"name": NAME, "version": version},
        "tool": {"release": table},
    }
    if towncrier is not None:
        pyproject["tool"]["towncrier"] = dict(towncrier)
    texts = (
        dict(files)
        if files is not None
        else {"pyproject.toml": pyproject_text(version), INIT: init_text(version)}
    )
    config = config_mod.load(
        PROJECT_DIR,
        environ={},
        overrides=overrides,
        pyproject=pyproject,
        is_file=lambda path: path in texts,
    )
    file_texts = {loc.path: texts[loc.path] for loc in config.locations if loc.kind != "scm"}

    releases = tags_mod.release_tags(list(tags), config.tag_format, config.tag_scheme)
    seen = list(tags if reachable is None else reachable)
    top = tags_mod.highest(releases, seen)
    branch = git.get("branch", "main")
    try:  # as facts.gather: the plan reports a series the branch's name does not hold
        line = config.line_of(branch) if branch is not None else None
    except ConfigError:
        line = None
    series_top = tags_mod.highest(releases, seen, line.numbers) if line and line.series else None
    history = TagHistory(
        "set in default",
        (),
        nearest=top.name if top else None,
        nearest_reason=f"{top.name} is the nearest release tag reachable from HEAD" if top else "",
        reachable_top=top.name if top else None,
        series_top=series_top.name if series_top else None,
    )

    tc = make_towncrier(towncrier, news_text) if towncrier is not None else None
    fragment_set = FragmentSet((), {}, tuple(fragment_problems))
    cycle: list[PreRelease] = []
    if tc is not None:
        fragment_set = make_fragments(tc, fragments or {}, fragment_problems)
        for name, consumed in (prereleases or {}).items():
            tag = releases.find(name)
            assert tag is not None, f"{name} is not one of the release tags {tags}"
            cycle.append(PreRelease(name, tag.version, make_fragments(tc, consumed).contents))

    git_facts = GitFacts(
        **{
            "toplevel": PROJECT_DIR,
            "git_dir": PROJECT_DIR / ".git",
            "head": HEAD,
            "branch": "main",
            "upstream": "origin/main",
            "ahead": 0,
            "behind": 0,
            "dirty": (),
            "shallow": False,
            "tags": tuple(tags),
            "remotes": ("origin",),
            "identity": True,
            **git,
        }
    )
    return Facts(
        project_dir=PROJECT_DIR,
        config=config,
        files=file_texts,
        git=git_facts,
        release_tags=releases,
        towncrier=tc,
        fragments=fragment_set,
        commits=None if commits is None else tuple(Commit(s, m) for s, m in commits),
        date=DATE,
        remote_listing=listing(remote_refs)  # type: ignore[arg-type]
        if remote_refs is not None
        else FakePending("", 128, "fatal: could not read from remote repository"),
        history=history,
        render_changelog=render_once,
        prereleases=tuple(cycle),
    )
