"""Generate synthetic git repositories of a sample Python project, for benchmarks.

The whole history is written in one ``git fast-import`` stream (100,000 commits take
seconds), from a fixed random seed, so the same parameters always give the same
repository.  Each repository is a project that ``release preview`` accepts:

* ``pyproject.toml`` with a static ``[project] version`` equal to the last release
  tag's version, ``[tool.towncrier]`` (``changelog.d`` -> ``CHANGELOG.md``) and
  ``[tool.release] branches = ["main"]``;
* conventional-commit subjects (``feat:``, ``fix:``, ``docs:``, ``chore:``, some with
  ``!`` and a ``BREAKING CHANGE:`` footer), so commit-based tools can run on it too;
* annotated release tags ``vX.Y.Z`` on release commits spread over the history, the
  last one a handful of commits before ``HEAD``; each release commit sets the version
  and adds a section to ``CHANGELOG.md`` (older sections move to
  ``docs/changelog/`` in chunks, so the history stays linear in size);
* ``N`` towncrier fragments ``changelog.d/{i}.{type}.md`` committed after the last tag;
* a bare remote ``NAME.git`` next to the work tree, pushed, with ``main`` tracking
  ``origin/main``, and a clean work tree.

With ``--packages N`` (N > 1) the repository is a uv workspace instead (issue 16): a
root ``pyproject.toml`` with ``[tool.uv.workspace] members = ["packages/*"]`` and the
shared ``[tool.release]``, no ``[project]``; N packages ``packages/pkg-NN/``, each with
its own ``pyproject.toml`` (static version, hatchling, ``[tool.towncrier]``, its tag
format in ``[tool.release]``, requirements on lower-numbered packages with uv sources
in the workspace), ``CHANGELOG.md``, ``changelog.d/`` and tags ``pkg-NN-vX.Y.Z``;
``uv.lock`` as uv writes it.  The tags and fragments are totals, spread unevenly over
the packages (a few busy ones, a long tail, a quarter with no fragments), and commits
touch the packages in the same proportions.

Usage::

    python bench/gen_repo.py small            # cached under bench/.cache/, prints the path
    python bench/gen_repo.py --commits 5000 --tags 100 --fragments 20 --out /tmp/r
    python bench/gen_repo.py workspace        # 50 packages, 100,000 commits, 5,000 tags
    python bench/gen_repo.py --packages 5 --commits 2000 --tags 100 --fragments 50 --out /tmp/w
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: Bump this when the generated repositories change, so cached ones are rebuilt.
GENERATOR_VERSION = 2
#: The same for the workspace mode only (in the cache key of workspaces alone, so that
#: a change to it leaves the single-package repositories cached).
WORKSPACE_VERSION = 1
DEFAULT_SEED = 20240917
DEFAULT_TAIL = 5  # commits after the last release tag (the last of them adds the fragments)
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
PROJECT = "bench-project"
PACKAGE = "bench_project"
WORKSPACE = "bench-workspace"  # the work tree of a multi-package repository
ROOT_SHARE = 0.1  # of a workspace's regular commits, those outside every package
CROSS_PACKAGE = 0.05  # of the commits in a package, those that also touch another one
UV_LOCK_REVISION = 5  # what uv 0.13.9 (bench/tools-requirements.txt) writes
START_EPOCH = 1_420_070_400  # 2015-01-01T00:00:00Z
HISTORY_SECONDS = 10 * 365 * 86_400  # every history spans about ten years
CHANGELOG_KEEP = 50  # sections kept in CHANGELOG.md; older ones are archived in chunks
START_STRING = "<!-- towncrier release notes start -->"
AUTHORS = (
    ("Ada Maintainer", "ada@example.invalid"),
    ("Bo Contributor", "bo@example.invalid"),
    ("Cy Reviewer", "cy@example.invalid"),
    ("Di Helper", "di@example.invalid"),
)
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": AUTHORS[0][0],
    "GIT_AUTHOR_EMAIL": AUTHORS[0][1],
    "GIT_COMMITTER_NAME": AUTHORS[0][0],
    "GIT_COMMITTER_EMAIL": AUTHORS[0][1],
    "GIT_TERMINAL_PROMPT": "0",
}

# Commit types and how often they occur; each touches a different part of the tree.
COMMIT_TYPES = (
    ("feat", 30),
    ("fix", 30),
    ("docs", 12),
    ("chore", 10),
    ("refactor", 6),
    ("test", 6),
    ("perf", 3),
    ("ci", 3),
)
SCOPES = ("", "", "", "cli", "config", "parser", "api", "io", "core", "docs", "deps")
VERBS = (
    "add",
    "support",
    "handle",
    "improve",
    "rework",
    "simplify",
    "document",
    "cache",
    "validate",
    "speed up",
    "clean up",
    "expose",
    "deprecate",
    "remove",
    "tidy",
)
NOUNS = (
    "widget",
    "config loader",
    "plugin hooks",
    "CLI output",
    "parser",
    "retry logic",
    "log format",
    "error messages",
    "unicode paths",
    "lock file",
    "cache keys",
    "HTTP client",
    "progress bar",
    "JSON schema",
    "Windows paths",
    "timezone handling",
)
FRAGMENT_TYPES = ("feature", "bugfix", "doc", "misc")
SECTION_TITLES = {"feat": "Features", "fix": "Bugfixes", "docs": "Improved Documentation"}

Version = tuple[int, int, int]
Pending = tuple[str, str, int]  # an unreleased change: (commit type, description, issue)


@dataclass(frozen=True)
class Params:
    """What to generate; two equal ``Params`` give byte-identical histories."""

    commits: int
    tags: int
    fragments: int
    seed: int = DEFAULT_SEED
    tail: int = DEFAULT_TAIL
    packages: int = 1  # > 1: a uv workspace of that many member packages

    @property
    def workspace(self) -> bool:
        return self.packages > 1

    @property
    def project(self) -> str:
        """The name of the work tree (and, with ``.git``, of its bare remote)."""
        return WORKSPACE if self.workspace else PROJECT

    def key(self) -> str:
        key = (
            f"c{self.commits}-t{self.tags}-f{self.fragments}-s{self.seed}-"
            f"h{self.tail}-g{GENERATOR_VERSION}"
        )
        # Only for workspaces, so the single-package repositories keep their keys.
        return f"{key}-p{self.packages}-w{WORKSPACE_VERSION}" if self.workspace else key

    def validate(self) -> None:
        if self.tags < 0 or self.fragments < 0 or self.tail < 1:
            raise ValueError("tags and fragments must be >= 0 and tail >= 1")
        if self.packages < 1:
            raise ValueError("packages must be >= 1")
        if self.workspace and self.tags < self.packages:
            raise ValueError(
                f"{self.tags} release tags cannot release each of {self.packages} packages once"
            )
        if self.commits < self.tags + self.tail + 1:
            raise ValueError(
                f"{self.commits} commits cannot hold {self.tags} release commits, "
                f"an initial commit and {self.tail} commits after the last tag"
            )


SIZES: dict[str, Params] = {
    "small": Params(commits=1_000, tags=50, fragments=10),
    "medium": Params(commits=20_000, tags=1_000, fragments=1_000),
    "large": Params(commits=100_000, tags=5_000, fragments=1_000),
    # The small history with the large repository's 1,000 unreleased fragments: against
    # "large" only the history differs (the commits and tags before the last release).
    "small-1k-fragments": Params(commits=1_000, tags=50, fragments=1_000),
    # The medium history (the same commits but the last) with ten times the fragments.
    "many-fragments": Params(commits=20_000, tags=1_000, fragments=10_000),
    # A uv workspace of 50 packages with the large repository's history, tags and
    # fragments in total (issue 16), and a small one to try things on.
    "workspace": Params(commits=100_000, tags=5_000, fragments=1_000, packages=50),
    "workspace-small": Params(commits=2_000, tags=100, fragments=50, packages=5),
}


@dataclass
class _History:
    """The state of the generated project as the stream is written."""

    rng: random.Random
    params: Params
    epoch: int = START_EPOCH
    version: Version = (0, 0, 0)
    sections: list[str] = field(default_factory=list)
    archives: int = 0
    pending: list[Pending] = field(default_factory=list)
    issue: int = 0
    n_modules: int = 0
    n_pages: int = 0


class _Stream:
    """Writes the fast-import commands; all text is ASCII."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._buf: list[bytes] = []
        self._size = 0

    def line(self, text: str) -> None:
        self._put(text.encode("ascii") + b"\n")

    def data(self, text: str) -> None:
        raw = text.encode("ascii")
        self._put(b"data %d\n" % len(raw) + raw + b"\n")

    def file(self, path: str, text: str) -> None:
        self.line(f"M 100644 inline {path}")
        self.data(text)

    def _put(self, chunk: bytes) -> None:
        self._buf.append(chunk)
        self._size += len(chunk)
        if self._size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        self._out.write(b"".join(self._buf))
        self._buf.clear()
        self._size = 0


def release_positions(params: Params, rng: random.Random) -> list[int]:
    """Commit indexes of the release commits: spread evenly with jitter, the last fixed."""
    last = params.commits - 1 - params.tail
    if params.tags == 0:
        return []
    spacing = last / params.tags
    jitter = max(0, (int(spacing) - 1) // 3)
    positions = []
    for k in range(1, params.tags + 1):
        pos = round(k * spacing)
        if k < params.tags and jitter:
            pos += rng.randint(-jitter, jitter)
        positions.append(pos)
    assert positions[-1] == last
    assert all(b > a for a, b in zip([0, *positions], positions, strict=False)), "overlap"
    return positions


def _ident(name: str, email: str, epoch: int) -> str:
    return f"{name} <{email}> {epoch} +0000"


def _date(epoch: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _pyproject(version: str) -> str:
    return f"""\
[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[project]
name = "{PROJECT}"
version = "{version}"
description = "A synthetic project for benchmarking release tools."
readme = "README.md"
requires-python = ">=3.10"
license = "MIT"

[tool.hatch.build.targets.wheel]
packages = ["src/{PACKAGE}"]

[tool.release]
branches = ["main"]

[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {{version}} ({{project_date}})"
issue_format = "#{{issue}}"

# The tools the benchmark compares with, each configured as a user of it would.
# python-semantic-release: no build_command and no changelog settings (its
# `version --print` stops before either would be used).
[tool.semantic_release]
version_toml = ["pyproject.toml:project.version"]
tag_format = "v{{version}}"
commit_parser = "conventional"

[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "pep621"
tag_format = "v$version"
update_changelog_on_bump = false

[tool.bumpversion]
current_version = "{version}"

[[tool.bumpversion.files]]
filename = "pyproject.toml"
regex = true
search = '(?m)^version = "{{current_version}}"'
replace = 'version = "{{new_version}}"'
"""


def _changelog(sections: Sequence[str], archives: int) -> str:
    head = "# Changelog\n\nAll notable changes to this project are listed here.\n"
    if archives:
        head += "Older releases are listed in docs/changelog/.\n"
    body = "".join(reversed(sections))
    return f"{head}\n{START_STRING}\n\n{body}"


def _subject(
    h: _History, scope: str | None = None, ctype: str | None = None
) -> tuple[str, str, bool]:
    """A conventional commit: (type, full message, breaking); ``scope`` and ``ctype``
    fix the scope (``""``: none) and the type instead of drawing them."""
    rng = h.rng
    if ctype is None:
        types, weights = zip(*COMMIT_TYPES, strict=True)
        ctype = rng.choices(types, weights)[0]
    if scope is None:
        scope = rng.choice(SCOPES)
    breaking = ctype in ("feat", "fix", "refactor") and rng.random() < 0.01
    desc = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
    head = f"{ctype}{f'({scope})' if scope else ''}{'!' if breaking else ''}: {desc}"
    body = ""
    if rng.random() < 0.3:
        body += f"\n\nThis changes how the {rng.choice(NOUNS)} works with the {rng.choice(NOUNS)}."
    if breaking:
        body += f"\n\nBREAKING CHANGE: the old {rng.choice(NOUNS)} behaviour is gone."
    if rng.random() < 0.2:
        h.issue += rng.randint(1, 3)
        body += f"\n\nRefs: #{h.issue}"
    return ctype, head + body + "\n", breaking


def _touched_file(h: _History, ctype: str, n: int) -> tuple[str, str]:
    """The one file a regular commit changes (small, so the history stays linear in size)."""
    rng = h.rng
    if ctype == "docs":
        k = rng.randrange(h.n_pages)
        return f"docs/page{k:03d}.md", f"# Page {k}\n\nRevision {n}.\n"
    if ctype in ("chore", "ci"):
        k = rng.randrange(8)
        return f"ci/job{k}.yml", f"name: job{k}\nrevision: {n}\nsteps:\n  - run: nox\n"
    k = rng.randrange(h.n_modules)
    pkg, mod = divmod(k, 50)
    if ctype == "test":
        return (
            f"tests/pkg{pkg:02d}/test_mod{mod:02d}.py",
            f"def test_value() -> None:\n    assert {n} >= 0\n",
        )
    return (
        f"src/{PACKAGE}/pkg{pkg:02d}/mod{mod:02d}.py",
        f'"""Module {pkg}.{mod}."""\n\nREVISION = {n}\n\n\n'
        f"def value() -> int:\n    return REVISION * {mod + 1}\n",
    )


def _next_version(rng: random.Random, version: Version) -> Version:
    major, minor, patch = version
    roll = rng.random()
    if version == (0, 0, 0):
        return (0, 1, 0)
    if roll < 0.02:
        return (major + 1, 0, 0)
    if roll < 0.25:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def _bump(h: _History) -> str:
    h.version = _next_version(h.rng, h.version)
    return ".".join(map(str, h.version))


def _section(h: _History, version: str, pending: Sequence[Pending] | None = None) -> str:
    """The changelog section of ``version`` from ``pending`` (default: the project's)."""
    by_title: dict[str, list[str]] = {}
    for ctype, text, issue in h.pending if pending is None else pending:
        title = SECTION_TITLES.get(ctype)
        if title and len(by_title.setdefault(title, [])) < 3:
            by_title[title].append(f"- {text[0].upper()}{text[1:]}. (#{issue})\n")
    if not by_title:
        by_title["Misc"] = [f"- #{h.issue}\n"]
    parts = [f"## {version} ({_date(h.epoch)})\n\n"]
    for title in ("Features", "Bugfixes", "Improved Documentation", "Misc"):
        if title in by_title:
            parts.append(f"### {title}\n\n{''.join(by_title[title])}\n")
    return "".join(parts)


def _commit(s: _Stream, h: _History, mark: int, message: str, author: tuple[str, str]) -> None:
    s.line("commit refs/heads/main")
    s.line(f"mark :{mark}")
    s.line(f"author {_ident(*author, h.epoch)}")
    s.line(f"committer {_ident(*AUTHORS[0], h.epoch)}")
    s.data(message)


def write_stream(params: Params, out: IO[bytes]) -> None:
    """Write the whole history as a fast-import stream to ``out``."""
    params.validate()
    rng = random.Random(params.seed)
    h = _History(
        rng,
        params,
        n_modules=min(2000, max(20, params.commits // 50)),
        n_pages=min(200, max(5, params.commits // 500)),
    )
    releases = set(release_positions(params, rng))
    s = _Stream(out)
    step = HISTORY_SECONDS // params.commits
    for n in range(params.commits):
        h.epoch += rng.randint(step // 5 + 1, step * 9 // 5 + 1)
        mark = n + 1
        if n == 0:
            _commit(s, h, mark, "chore: start the project\n", AUTHORS[0])
            s.file("pyproject.toml", _pyproject("0.0.0"))
            s.file("README.md", f"# {PROJECT}\n\nA synthetic project for benchmarks.\n")
            s.file("CHANGELOG.md", _changelog([], 0))
            s.file(f"src/{PACKAGE}/__init__.py", '"""A synthetic project."""\n')
            s.file("changelog.d/.gitkeep", "")
        elif n in releases:
            _release(s, h, mark)
        elif n == params.commits - 1 and params.fragments:
            _commit(
                s,
                h,
                mark,
                "docs: add changelog fragments for the next release\n",
                rng.choice(AUTHORS),
            )
            for path, text in fragment_files(params, rng):
                s.file(path, text)
        else:
            ctype, message, _breaking = _subject(h)
            if n == params.commits - params.tail:  # the first commit after the last tag
                ctype, message = "feat", f"feat: {rng.choice(VERBS)} {rng.choice(NOUNS)}\n"
            _commit(s, h, mark, message, rng.choice(AUTHORS))
            s.file(*_touched_file(h, ctype, n))
            h.issue += 1
            h.pending.append((ctype, message.split(": ", 1)[1].split("\n", 1)[0], h.issue))
    s.line("done")
    s.flush()


def _release(s: _Stream, h: _History, mark: int) -> None:
    version = _bump(h)
    if len(h.sections) == CHANGELOG_KEEP:
        h.archives += 1
    section = _section(h, version)
    h.pending.clear()
    _commit(s, h, mark, f"chore(release): {version}\n", AUTHORS[0])
    s.file("pyproject.toml", _pyproject(version))
    if len(h.sections) == CHANGELOG_KEEP:
        s.file(
            f"docs/changelog/releases-{h.archives:04d}.md",
            "# Older releases\n\n" + "".join(reversed(h.sections)),
        )
        h.sections.clear()
    h.sections.append(section)
    s.file("CHANGELOG.md", _changelog(h.sections, h.archives))
    _tag(s, h, mark, f"v{version}", f"Release {version}\n")


def _tag(s: _Stream, h: _History, mark: int, name: str, message: str) -> None:
    """An annotated tag on the commit ``mark``, a minute after it."""
    s.line(f"tag {name}")
    s.line(f"from :{mark}")
    s.line(f"tagger {_ident(*AUTHORS[0], h.epoch + 60)}")
    s.data(message)


def fragment_files(params: Params, rng: random.Random) -> Iterator[tuple[str, str]]:
    """``changelog.d/{i}.{type}.md`` with one sentence each; the first is a feature."""
    for i in range(1, params.fragments + 1):
        ftype = "feature" if i == 1 else rng.choice(FRAGMENT_TYPES)
        text = f"{rng.choice(VERBS).capitalize()} the {rng.choice(NOUNS)} ({ftype} {i}).\n"
        yield f"changelog.d/{i}.{ftype}.md", text


# --- the workspace mode ---------------------------------------------------------------


@dataclass
class _Member:
    """One package of a workspace, and its release line as the stream is written."""

    name: str  # "pkg-07"
    weight: float  # its share of the commits and release tags
    deps: tuple[int, ...]  # indexes of the members it depends on, all lower: a DAG
    tags: int  # its release tags over the history
    fragments: int  # its unreleased fragments at HEAD
    n_modules: int
    version: Version = (0, 0, 0)
    sections: list[str] = field(default_factory=list)
    archives: int = 0
    pending: list[Pending] = field(default_factory=list)
    pins: dict[int, Version] = field(default_factory=dict)  # deps' versions at its last release

    @property
    def path(self) -> str:
        return f"packages/{self.name}"

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")


def spread(total: int, weights: Sequence[float], floor: int = 0) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder first, ties to the
    lower index), every part at least ``floor``."""
    rest = total - floor * len(weights)
    whole = sum(weights)
    exact = [rest * w / whole if whole else 0.0 for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: rest - sum(counts)]:
        counts[i] += 1
    return [floor + c for c in counts]


def workspace_members(params: Params, rng: random.Random) -> list[_Member]:
    """The packages ``pkg-01`` ... of a workspace: how active each is, what it depends on.

    Activity follows Zipf's law over a shuffled ranking (a few packages take most of the
    commits and releases, every one is released at least once); a quarter of them, drawn
    at random, have no unreleased fragments; each depends on up to three lower-numbered
    packages.
    """
    n = params.packages
    width = max(2, len(str(n)))
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    weights = [1 / rank for rank in ranks]
    quiet = set(rng.sample(range(n), n // 4))
    tags = spread(params.tags, weights, 1)
    fragments = spread(params.fragments, [0 if i in quiet else w for i, w in enumerate(weights)])
    total = sum(weights)
    members = []
    for i in range(n):
        k = min(i, rng.choice((0, 0, 1, 1, 1, 2, 3)))
        share = params.commits * weights[i] / total
        members.append(
            _Member(
                name=f"pkg-{i + 1:0{width}d}",
                weight=weights[i],
                deps=tuple(sorted(rng.sample(range(i), k))),
                tags=tags[i],
                fragments=fragments[i],
                n_modules=max(5, min(200, round(share / 50))),
            )
        )
    return members


def _root_pyproject() -> str:
    return """\
# A uv workspace: every package is a directory of packages/ with its own
# pyproject.toml, changelog.d/, CHANGELOG.md and release tags NAME-vX.Y.Z.
[tool.uv.workspace]
members = ["packages/*"]

# Shared by every package; each package's own [tool.release] adds to it.
[tool.release]
branches = ["main"]
"""


def _member_pyproject(m: _Member, members: Sequence[_Member]) -> str:
    requirements = []
    for d in m.deps:
        pin = m.pins.get(d, (0, 0, 0))
        name = members[d].name
        requirements.append(name if pin == (0, 0, 0) else f"{name}>={pin[0]}.{pin[1]}")
    dependencies = "".join(f'\n    "{r}",' for r in requirements)
    if dependencies:
        dependencies += "\n"
    # uv takes a requirement on a member from the workspace only when its source says so.
    sources = "".join(f"\n{members[d].name} = {{ workspace = true }}" for d in m.deps)
    if sources:
        sources = f"\n[tool.uv.sources]{sources}\n"
    version = ".".join(map(str, m.version))
    return f"""\
[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[project]
name = "{m.name}"
version = "{version}"
description = "A package of a synthetic workspace for benchmarking release tools."
readme = "README.md"
requires-python = ">=3.10"
license = "MIT"
dependencies = [{dependencies}]
{sources}
[tool.hatch.build.targets.wheel]
packages = ["src/{m.module}"]

[tool.release]
tag-format = "{m.name}-v{{version}}"

[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"
title_format = "## {{version}} ({{project_date}})"
issue_format = "#{{issue}}"
"""


def _uv_lock(members: Sequence[_Member]) -> str:
    """``uv.lock`` as ``uv lock`` writes it for the workspace (its packages have no other
    requirements): one entry per package, its version and its requirements on the others."""
    names = "".join(f'    "{m.name}",\n' for m in members)
    parts = [
        f'version = 1\nrevision = {UV_LOCK_REVISION}\nrequires-python = ">=3.10"\n\n'
        f"[manifest]\nmembers = [\n{names}]\n"
    ]
    for m in members:
        entry = (
            f'\n[[package]]\nname = "{m.name}"\nversion = "{".".join(map(str, m.version))}"\n'
            f'source = {{ editable = "{m.path}" }}\n'
        )
        if m.deps:
            deps = [members[d] for d in m.deps]
            entry += "dependencies = [\n"
            entry += "".join(f'    {{ name = "{d.name}" }},\n' for d in deps)
            entry += "]\n\n[package.metadata]\n"
            requires = [f'{{ name = "{d.name}", editable = "{d.path}" }}' for d in deps]
            if len(requires) == 1:
                entry += f"requires-dist = [{requires[0]}]\n"
            else:
                entry += "requires-dist = [\n" + "".join(f"    {r},\n" for r in requires) + "]\n"
        parts.append(entry)
    return "".join(parts)


def _member_file(h: _History, m: _Member, ctype: str, n: int) -> tuple[str, str]:
    """The file of package ``m`` that a regular commit changes."""
    rng = h.rng
    if ctype == "docs":
        k = rng.randrange(5)
        return f"{m.path}/docs/page{k}.md", f"# {m.name}, page {k}\n\nRevision {n}.\n"
    if ctype in ("chore", "ci"):
        return f"{m.path}/noxfile.py", f'"""Sessions of {m.name}."""\n\nREVISION = {n}\n'
    k = rng.randrange(m.n_modules)
    if ctype == "test":
        return (
            f"{m.path}/tests/test_mod{k:03d}.py",
            f"def test_value() -> None:\n    assert {n} >= 0\n",
        )
    return (
        f"{m.path}/src/{m.module}/mod{k:03d}.py",
        f'"""{m.name}, module {k}."""\n\nREVISION = {n}\n\n\n'
        f"def value() -> int:\n    return REVISION * {k + 1}\n",
    )


def _workspace_commit(
    s: _Stream, h: _History, mark: int, n: int, *, members: Sequence[_Member], cum: Sequence[float]
) -> None:
    """A regular commit: in one package (a few also in a second one), or outside them all."""
    rng = h.rng
    target = rng.choices(range(len(cum)), cum_weights=cum)[0]
    if target == len(members):  # the last slot: the workspace's own files
        ctype, message, _breaking = _subject(h, ctype=rng.choice(("docs", "chore", "ci")))
        _commit(s, h, mark, message, rng.choice(AUTHORS))
        s.file(*_touched_file(h, ctype, n))
        return
    m = members[target]
    ctype, message, _breaking = _subject(h, scope=m.name if rng.random() < 0.8 else "")
    _commit(s, h, mark, message, rng.choice(AUTHORS))
    touched = [m]
    s.file(*_member_file(h, m, ctype, n))
    if rng.random() < CROSS_PACKAGE:
        other = rng.choice(members)
        if other is not m:
            touched.append(other)
            s.file(*_member_file(h, other, ctype, n))
    h.issue += 1
    text = message.split(": ", 1)[1].split("\n", 1)[0]
    for member in touched:
        member.pending.append((ctype, text, h.issue))


def _member_release(
    s: _Stream, h: _History, mark: int, m: _Member, members: Sequence[_Member]
) -> None:
    m.version = _next_version(h.rng, m.version)
    version = ".".join(map(str, m.version))
    if len(m.sections) == CHANGELOG_KEEP:
        m.archives += 1
    section = _section(h, version, m.pending)
    m.pending.clear()
    m.pins = {d: members[d].version for d in m.deps}
    _commit(s, h, mark, f"chore(release): {m.name} {version}\n", AUTHORS[0])
    s.file(f"{m.path}/pyproject.toml", _member_pyproject(m, members))
    s.file("uv.lock", _uv_lock(members))
    if len(m.sections) == CHANGELOG_KEEP:
        s.file(
            f"{m.path}/docs/changelog/releases-{m.archives:04d}.md",
            "# Older releases\n\n" + "".join(reversed(m.sections)),
        )
        m.sections.clear()
    m.sections.append(section)
    s.file(f"{m.path}/CHANGELOG.md", _changelog(m.sections, m.archives))
    _tag(s, h, mark, f"{m.name}-v{version}", f"Release {m.name} {version}\n")


def member_fragments(members: Sequence[_Member], rng: random.Random) -> Iterator[tuple[str, str]]:
    """Each package's fragments ``packages/NAME/changelog.d/{i}.{type}.md``, numbered
    across the workspace in a shuffled order; each package's first is a feature."""
    owners = [m for m in members for _ in range(m.fragments)]
    rng.shuffle(owners)
    seen: set[str] = set()
    for i, m in enumerate(owners, 1):
        ftype = "feature" if m.name not in seen else rng.choice(FRAGMENT_TYPES)
        seen.add(m.name)
        text = f"{rng.choice(VERBS).capitalize()} the {rng.choice(NOUNS)} ({ftype} {i}).\n"
        yield f"{m.path}/changelog.d/{i}.{ftype}.md", text


def write_workspace_stream(params: Params, out: IO[bytes]) -> None:
    """Write the history of a uv workspace of ``params.packages`` packages to ``out``.

    The release tags (``pkg-NN-vX.Y.Z``, each on a commit that sets that package's
    version and adds its changelog section) and the fragments are the totals of
    ``params``, spread over the packages by their activity.
    """
    params.validate()
    rng = random.Random(params.seed)
    members = workspace_members(params, rng)
    h = _History(rng, params, n_pages=min(200, max(5, params.commits // 500)))
    owners = [m for m in members for _ in range(m.tags)]
    rng.shuffle(owners)
    releases = dict(zip(release_positions(params, rng), owners, strict=True))
    total = sum(m.weight for m in members)
    # Cumulative weights of the commit's target: each package, then the root.
    cum = [*itertools.accumulate((1 - ROOT_SHARE) * m.weight / total for m in members), 1.0]
    s = _Stream(out)
    step = HISTORY_SECONDS // params.commits
    for n in range(params.commits):
        h.epoch += rng.randint(step // 5 + 1, step * 9 // 5 + 1)
        mark = n + 1
        if n == 0:
            _commit(s, h, mark, "chore: start the workspace\n", AUTHORS[0])
            s.file("pyproject.toml", _root_pyproject())
            s.file("README.md", f"# {WORKSPACE}\n\nA synthetic uv workspace for benchmarks.\n")
            s.file("uv.lock", _uv_lock(members))
            for m in members:
                s.file(f"{m.path}/pyproject.toml", _member_pyproject(m, members))
                s.file(f"{m.path}/README.md", f"# {m.name}\n\nA package of {WORKSPACE}.\n")
                s.file(f"{m.path}/CHANGELOG.md", _changelog([], 0))
                s.file(f"{m.path}/src/{m.module}/__init__.py", f'"""{m.name}."""\n')
                s.file(f"{m.path}/changelog.d/.gitkeep", "")
        elif n in releases:
            _member_release(s, h, mark, releases[n], members)
        elif n == params.commits - 1 and params.fragments:
            message = "docs: add changelog fragments for the next releases\n"
            _commit(s, h, mark, message, rng.choice(AUTHORS))
            for path, text in member_fragments(members, rng):
                s.file(path, text)
        else:
            _workspace_commit(s, h, mark, n, members=members, cum=cum)
    s.line("done")
    s.flush()


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def generate(params: Params, root: Path) -> Path:
    """Create ``root/bench-project`` (and its bare remote ``root/bench-project.git``), or
    for a workspace ``root/bench-workspace`` (and ``root/bench-workspace.git``)."""
    params.validate()
    project = root / params.project
    remote = root / f"{params.project}.git"
    project.mkdir(parents=True)
    _git(project, "init", "--quiet", "--initial-branch=main")
    # glibc would return freed memory to the kernel after each object (costing seconds
    # of system time over half a million objects); let fast-import keep it instead.
    env = {
        **os.environ,
        **GIT_ENV,
        "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
        "MALLOC_TOP_PAD_": str(64 << 20),
    }
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=project, env=env, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    try:
        (write_workspace_stream if params.workspace else write_stream)(params, proc.stdin)
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed with status {proc.returncode}")
    _git(project, "reset", "--quiet", "--hard")
    _git(project, "pack-refs", "--all")
    _git(project, "commit-graph", "write", "--reachable", "--no-progress")
    _git(root, "clone", "--quiet", "--bare", str(project), str(remote))
    _git(project, "remote", "add", "origin", str(remote))
    _git(project, "push", "--quiet", "--set-upstream", "origin", "main")
    # Files checked out in the same second as the index is written are "racily clean"
    # and would be re-read by every `git status`; refresh the index once they are not.
    time.sleep(1.1)
    _git(project, "update-index", "-q", "--really-refresh")
    status = _git(project, "status", "--porcelain", "--branch")
    if status.strip() != "## main...origin/main":
        raise RuntimeError(f"the generated repository is not clean and in sync:\n{status}")
    return project


def ensure(params: Params, cache_dir: Path = CACHE_DIR, *, quiet: bool = False) -> Path:
    """The cached repository for ``params``, generated first if needed."""
    root = cache_dir / params.key()
    project = root / params.project
    marker = root / "complete"
    if marker.is_file():
        return project
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    generate(params, root)
    elapsed = time.perf_counter() - start
    marker.write_text(f"{elapsed:.2f}\n", encoding="ascii")
    if not quiet:
        packages = f"{params.packages} packages, " if params.workspace else ""
        print(
            f"generated {packages}{params.commits} commits, {params.tags} tags, "
            f"{params.fragments} fragments in {elapsed:.1f} s: {project}",
            file=sys.stderr,
        )
    return project


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "size",
        nargs="?",
        choices=sorted(SIZES),
        help="a preset of commits/tags/fragments[/packages] ("
        + "; ".join(
            f"{name}: {p.commits:,}/{p.tags:,}/{p.fragments:,}"
            + (f"/{p.packages}" if p.workspace else "")
            for name, p in SIZES.items()
        )
        + ")",
    )
    parser.add_argument("--commits", type=int)
    parser.add_argument("--tags", type=int)
    parser.add_argument("--fragments", type=int)
    parser.add_argument(
        "--packages",
        type=int,
        help="more than 1: a uv workspace of that many packages; the tags and fragments "
        "are totals, spread over them",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--out", type=Path, help="generate into this (new) directory instead of the cache"
    )
    parser.add_argument("--force", action="store_true", help="regenerate a cached repository")
    args = parser.parse_args(argv)
    base = SIZES[args.size] if args.size else Params(1_000, 50, 10)
    params = Params(
        commits=base.commits if args.commits is None else args.commits,
        tags=base.tags if args.tags is None else args.tags,
        fragments=base.fragments if args.fragments is None else args.fragments,
        seed=args.seed,
        packages=base.packages if args.packages is None else args.packages,
    )
    try:
        params.validate()
    except ValueError as exc:
        parser.error(str(exc))
    if args.out is not None:
        if args.out.exists() and any(args.out.iterdir()):
            parser.error(f"{args.out} exists and is not empty")
        start = time.perf_counter()
        project = generate(params, args.out.resolve())
        print(f"generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    else:
        if args.force:
            shutil.rmtree(CACHE_DIR / params.key(), ignore_errors=True)
        project = ensure(params)
    print(project)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
