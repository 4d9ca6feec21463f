"""The conformance comparison: what ``release`` reads from a project against what the
project's own tools say, and the fixture format that reduces a real project to a test.

One module for both users of the comparison:

- ``tests/test_conformance.py`` materialises each fixture under ``fixtures/`` as a git
  repository (:func:`materialise`) and checks the observations against the fixture's
  ``[expect]`` table (``bench/run_bench.py`` times ``release preview`` against towncrier's
  draft on the same repositories);
- ``nox -s conformance -- DIR...`` runs :func:`main` over full clones of real projects and
  prints a table (project, version found, changelog identical, problems).

The reference for each answer is the project's own tool: ``towncrier build --draft
--version 99.0.0`` for the changelog section (byte for byte), the build backend for the
version. Only the standard library and ``packaging`` are imported here; ``release`` and
``towncrier`` run as subprocesses of the given Python, as a user would run them. The
fixture format is described in ``README.md`` beside this file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES_DIR = Path(__file__).parent / "fixtures"
# The version given to both towncrier and `release preview`: far above any real one, so the
# plan is possible whatever the project's history, and the same in every section title.
DRAFT_VERSION = "99.0.0"
TIMEOUT = 300


class FixtureError(ValueError):
    """A fixture.toml that does not follow the format (README.md)."""


# --- the fixture format ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One step of the tag history: a new commit on ``branch`` (a merge commit of ``merge``
    when given), tagged ``tag``; or, with ``at``, no new commit: ``tag`` goes on the commit
    the tag ``at`` names."""

    tag: str | None = None
    branch: str = "main"
    start: str | None = None  # `from`: where a new branch starts; default: the default branch
    merge: str | None = None
    at: str | None = None
    annotated: bool = True


@dataclass(frozen=True)
class Expect:
    """What the project's own tools say about the materialised fixture."""

    distribution: str  # the name on the index (as the build backend writes it)
    current: str  # the current version, as release should read it (compared as PEP 440)
    next_patch: str  # what `release run patch` releases (compared as PEP 440)
    tag: str  # the tag that release creates (compared as text)
    backend_version: str  # fnmatch pattern: what the build backend reports for HEAD
    problems: tuple[str, ...] = ()  # problem codes `release preview 99.0.0` must list, no others
    refused: tuple[str, ...] = ()  # `release run patch` must refuse, listing these codes

    def draft_tag(self, version: str = DRAFT_VERSION) -> str:
        """The tag of a release of ``version``: ``tag`` with the next version replaced."""
        if self.next_patch not in self.tag:
            raise FixtureError(f"tag {self.tag!r} does not contain {self.next_patch!r}")
        return self.tag.replace(self.next_patch, version)


@dataclass(frozen=True)
class Fixture:
    name: str
    path: Path
    repository: str
    commit: str
    layout: str
    subdir: str
    branch: str  # the default branch, where the fragments are and releases are made
    files: Mapping[str, str]
    symlinks: Mapping[str, str]
    fragments: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    expect: Expect


_KEYS: dict[str, set[str]] = {
    "": {"source", "project", "files", "symlinks", "fragments", "history", "expect"},
    "source": {"repository", "commit", "date", "layout", "notes"},
    "project": {"subdir", "branch"},
    "fragments": {"names"},
    "history": {"tag", "branch", "from", "merge", "at", "annotated"},
    "expect": {
        "distribution",
        "current",
        "next-patch",
        "tag",
        "backend-version",
        "problems",
        "refused",
    },
}


def _check_keys(table: Mapping[str, Any], where: str, path: Path) -> None:
    unknown = set(table) - _KEYS[where]
    if unknown:
        raise FixtureError(
            f"{path}: unknown key(s) in [{where or 'top level'}]: {', '.join(sorted(unknown))}"
        )


def load_fixture(directory: Path) -> Fixture:
    """Read ``directory/fixture.toml`` strictly: an unknown key or a missing one is an error."""
    path = directory / "fixture.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    _check_keys(data, "", path)
    for table in ("source", "project", "fragments", "expect"):
        _check_keys(data.get(table, {}), table, path)
    source, expect = data["source"], data["expect"]
    branch = data.get("project", {}).get("branch", "main")
    history = []
    for entry in data.get("history", []):
        _check_keys(entry, "history", path)
        history.append(
            HistoryEntry(
                tag=entry.get("tag"),
                branch=entry.get("branch", branch),
                start=entry.get("from"),
                merge=entry.get("merge"),
                at=entry.get("at"),
                annotated=entry.get("annotated", True),
            )
        )
    fixture = Fixture(
        name=directory.name,
        path=directory,
        repository=source["repository"],
        commit=source["commit"],
        layout=source["layout"],
        subdir=data.get("project", {}).get("subdir", ""),
        branch=branch,
        files=dict(data.get("files", {})),
        symlinks=dict(data.get("symlinks", {})),
        fragments=tuple(data.get("fragments", {}).get("names", ())),
        history=tuple(history),
        expect=Expect(
            distribution=expect["distribution"],
            current=expect["current"],
            next_patch=expect["next-patch"],
            tag=expect["tag"],
            backend_version=expect["backend-version"],
            problems=tuple(expect.get("problems", ())),
            refused=tuple(expect.get("refused", ())),
        ),
    )
    _validate(fixture, path)
    return fixture


def _validate(fixture: Fixture, path: Path) -> None:
    for text in (fixture.expect.current, fixture.expect.next_patch):
        try:
            Version(text)
        except InvalidVersion as error:
            raise FixtureError(f"{path}: {error}") from None
    fixture.expect.draft_tag()
    if len([entry for entry in fixture.history if entry.tag]) > 30:
        raise FixtureError(f"{path}: more than 30 tags; keep fixtures small")
    overlap = set(fixture.fragments) & (set(fixture.files) | set(fixture.symlinks))
    if overlap:
        raise FixtureError(f"{path}: fragments also listed as files: {sorted(overlap)}")


def load_fixtures(root: Path = FIXTURES_DIR) -> list[Fixture]:
    return [load_fixture(d) for d in sorted(root.iterdir()) if (d / "fixture.toml").is_file()]


def fragment_text(name: str) -> str:
    """The text the harness writes into the fragment ``name`` (a path): its own sentence, so
    no two fragments are merged by towncrier unless they are one file (a symlink)."""
    return f"Change recorded in {name.rsplit('/', 1)[-1]}.\n"


def write_tree(fixture: Fixture, root: Path) -> None:
    """Write the fixture's files (byte for byte) and symlinks under ``root`` (the project
    directory), without the fragments."""
    for rel, text in fixture.files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    for rel, link in fixture.symlinks.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(link)


def write_fragments(fixture: Fixture, root: Path) -> None:
    for rel in fixture.fragments:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fragment_text(rel), encoding="utf-8")


# --- materialising a fixture --------------------------------------------------------------------

# The history's commits get one fixed date each, an hour apart, so that tag dates (and
# with them "the latest tag") are the same on every run and in the order written.
EPOCH = 1_600_000_000


def _git(cwd: Path, env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env), check=True, capture_output=True, text=True
    )
    return done.stdout


def materialise(fixture: Fixture, root: Path, env: Mapping[str, str] | None = None) -> Path:
    """The fixture as a repository ``root/NAME`` (the project in its ``subdir``) with a bare
    remote ``root/NAME.git``: one commit with the files, the tag history, then one commit
    adding the fragments; every branch and tag pushed, the default branch checked out and
    tracking its remote branch. Returns the repository.

    git runs with ``env`` (default: this process's environment), which must give it an
    identity; tests/test_conformance.py and bench/run_bench.py both materialise with this."""
    base = dict(os.environ if env is None else env)
    dated = dict(base)
    repo = root / fixture.name
    project = repo / fixture.subdir
    project.mkdir(parents=True)
    main = fixture.branch
    tick = iter(range(10_000))

    def git(cwd: Path, *args: str) -> str:
        return _git(cwd, dated, *args)

    def stamp() -> None:
        date = f"@{EPOCH + 3600 * next(tick)} +0000"
        dated["GIT_AUTHOR_DATE"] = dated["GIT_COMMITTER_DATE"] = date

    def commit_all(message: str) -> None:
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", message)

    git(repo, "init", "--quiet", f"--initial-branch={main}")
    write_tree(fixture, project)
    stamp()
    commit_all("Start the project")
    branches = {main}
    for number, entry in enumerate(fixture.history, 1):
        stamp()
        if entry.at is not None:
            target = git(repo, "rev-list", "-n", "1", entry.at).strip()
        else:
            if entry.branch not in branches:
                git(repo, "branch", entry.branch, entry.start or main)
                branches.add(entry.branch)
            git(repo, "checkout", "--quiet", entry.branch)
            if entry.merge is not None:
                git(
                    repo,
                    "merge",
                    "--quiet",
                    "--no-ff",
                    "-m",
                    f"Merge branch '{entry.merge}'",
                    entry.merge,
                )
            else:
                git(repo, "commit", "--quiet", "--allow-empty", "-m", f"Change {number}")
            target = git(repo, "rev-parse", "HEAD").strip()
        if entry.tag is not None:
            if entry.annotated:
                git(repo, "tag", "--annotate", "-m", f"Release {entry.tag}", entry.tag, target)
            else:
                git(repo, "tag", entry.tag, target)
    git(repo, "checkout", "--quiet", main)
    stamp()
    write_fragments(fixture, project)
    commit_all("Add changelog fragments")
    dated = base
    bare = root / f"{fixture.name}.git"
    git(root, "init", "--quiet", "--bare", f"--initial-branch={main}", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "--quiet", "origin", *sorted(branches))
    git(repo, "push", "--quiet", "--tags", "origin")
    git(repo, "branch", "--quiet", f"--set-upstream-to=origin/{main}")
    git(repo, "remote", "set-head", "origin", main)  # as `git clone` leaves it
    return repo


# --- the comparison ------------------------------------------------------------------------------


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


@dataclass
class Run:
    """One finished command: its argument list (for messages) and what it said."""

    argv: list[str]
    code: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    def describe(self) -> str:
        tail = (self.err.strip() or self.out.strip())[-1500:]
        return f"`{' '.join(self.argv)}` exited {self.code}: {tail}"


def _run(python: str, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> Run:
    argv = [python, "-m", *args]
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ if env is None else env),
        timeout=TIMEOUT,
        check=False,
    )
    return Run(list(args), done.returncode, done.stdout, done.stderr)


@dataclass
class Observation:
    """What towncrier and release said about one project directory."""

    directory: Path
    draft: Run  # towncrier build --draft --version 99.0.0
    preview: Run  # release preview 99.0.0 --json
    version: Run  # release version
    next_patch: Run  # release version --next patch
    report: dict[str, Any] | None = field(default=None)  # the preview's JSON

    @property
    def plan(self) -> dict[str, Any] | None:
        return None if self.report is None else self.report.get("plan")

    @property
    def section(self) -> str | None:
        plan = self.plan
        return None if plan is None else str(plan["changelog"]["section"])

    @property
    def changelog_identical(self) -> bool:
        """`release changelog` prints the section and a newline, as towncrier's draft ends
        with one (tests/test_changelog.py): the plan's section plus a newline must be the
        draft's standard output, byte for byte."""
        section = self.section
        return (
            self.draft.code == 0
            and section is not None
            and (section + "\n").encode("utf-8") == self.draft.stdout
        )

    @property
    def problems(self) -> list[dict[str, Any]]:
        return [] if self.report is None else list(self.report.get("problems", []))

    @property
    def problem_codes(self) -> list[str]:
        return [str(p.get("code")) for p in self.problems]

    @property
    def version_found(self) -> str | None:
        return self.version.out.strip() if self.version.code == 0 else None

    def changelog_diff(self, limit: int = 60) -> str:
        ours = (self.section or "") + "\n"
        theirs = self.draft.out
        lines = list(
            difflib.unified_diff(
                theirs.splitlines(keepends=True),
                ours.splitlines(keepends=True),
                fromfile="towncrier build --draft",
                tofile="release preview (plan.changelog)",
            )
        )
        shown = "".join(lines[:limit])
        return shown + (
            f"... ({len(lines) - limit} more diff lines)\n" if len(lines) > limit else ""
        )

    def mismatches(self, expect: Expect | None = None) -> list[str]:
        """Every way release disagrees with the project's own tools (and, with ``expect``,
        with the fixture's expectations), one paragraph each; empty when all agree."""
        found: list[str] = []
        if self.draft.code != 0:
            found.append(
                f"towncrier itself failed (harness or fixture problem): {self.draft.describe()}"
            )
        if self.report is None:
            found.append(f"no JSON from the preview: {self.preview.describe()}")
        elif self.plan is None:
            listed = "; ".join(f"[{p.get('code')}] {p.get('message')}" for p in self.problems)
            found.append(f'the preview withheld the plan ("plan": null); problems: {listed}')
        elif self.draft.code == 0 and not self.changelog_identical:
            found.append(
                "the changelog section differs from towncrier's draft:\n" + self.changelog_diff()
            )
        if expect is None:
            return found
        if self.version.code != 0:
            found.append(f"`release version` failed: {self.version.describe()}")
        elif not _same_version(self.version.out.strip(), expect.current):
            found.append(
                f"`release version` printed {self.version.out.strip()!r}, "
                f"expected {expect.current!r}"
            )
        plan = self.plan
        if plan is not None:
            if not _same_version(str(plan.get("current_version")), expect.current):
                sources = ", ".join(
                    f"{s.get('location')} = {s.get('value')}"
                    for s in plan.get("version_sources", [])
                )
                found.append(
                    f"the plan's current_version is {plan.get('current_version')!r} "
                    f"(from {sources or 'no source'}), expected {expect.current!r}"
                )
            if plan.get("tag") != expect.draft_tag():
                found.append(
                    f"the plan's tag for {DRAFT_VERSION} is {plan.get('tag')!r}, "
                    f"expected {expect.draft_tag()!r} (the project's tag format)"
                )
        if self.next_patch.code != 0:
            found.append(f"`release version --next patch` failed: {self.next_patch.describe()}")
        elif not _same_version(self.next_patch.out.strip(), expect.next_patch):
            found.append(
                f"`release version --next patch` printed "
                f"{self.next_patch.out.strip()!r}, expected {expect.next_patch!r}"
            )
        if self.report is not None:
            codes = self.problem_codes
            unexpected = [p for p in self.problems if p.get("code") not in expect.problems]
            missing = [c for c in expect.problems if c not in codes]
            for problem in unexpected:
                found.append(
                    f"unexpected problem [{problem.get('code')}] "
                    f"{problem.get('message')} (hint: {problem.get('hint')})"
                )
            for code in missing:
                found.append(f"expected problem [{code}] was not reported")
        return found


def towncrier_draft(
    directory: Path, *, python: str = sys.executable, env: Mapping[str, str] | None = None
) -> Run:
    """``towncrier build --draft --version 99.0.0`` in ``directory``: the reference."""
    return _run(
        python, ["towncrier", "build", "--draft", "--version", DRAFT_VERSION], directory, env
    )


def observe(
    directory: Path, *, python: str = sys.executable, env: Mapping[str, str] | None = None
) -> Observation:
    """Run towncrier's draft and release's read-only commands in ``directory``."""
    draft = towncrier_draft(directory, python=python, env=env)
    preview = _run(python, ["release", "preview", DRAFT_VERSION, "--json"], directory, env)
    version = _run(python, ["release", "version"], directory, env)
    next_patch = _run(python, ["release", "version", "--next", "patch"], directory, env)
    report = None
    if preview.stdout.strip():
        try:
            report = json.loads(preview.stdout)
        except ValueError:
            report = None
    return Observation(directory, draft, preview, version, next_patch, report)


# --- the table for `nox -s conformance` --------------------------------------------------------


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _first_line(run: Run, *, last: bool = False) -> str:
    lines = [line.strip() for line in (run.err or run.out).strip().splitlines() if line.strip()]
    if not lines:
        return f"exit {run.code}"
    return lines[-1] if last else lines[0]


def table(rows: Sequence[tuple[str, Observation]]) -> str:
    """One line per project: the version release found, whether its changelog section is
    towncrier's draft byte for byte, and every problem (one line each, joined)."""
    header = ("project", "version found", "changelog identical", "problems")
    lines = [f"{header[0]:<24} {header[1]:<18} {header[2]:<20} {header[3]}"]
    for name, obs in rows:
        version = obs.version_found if obs.version_found is not None else "error"
        if obs.draft.code != 0:
            identical = "towncrier failed"
        elif obs.plan is None:
            identical = "no plan"
        else:
            identical = "yes" if obs.changelog_identical else "no"
        problems = [
            f"[{p.get('code')}] " + " ".join(str(p.get("message")).split()) for p in obs.problems
        ]
        if obs.draft.code != 0:
            problems.append("towncrier: " + _first_line(obs.draft, last=True))
        if obs.report is None:
            problems.append("release preview: " + _first_line(obs.preview))
        elif obs.version.code != 0:
            problems.append("release version: " + _first_line(obs.version))
        lines.append(
            f"{_cell(name, 24):<24} {_cell(version, 18):<18} {identical:<20} "
            f"{'; '.join(problems) or '-'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python tests/conformance/harness.py DIR...``: the comparison over full clones."""
    parser = argparse.ArgumentParser(
        description="Compare release's version and changelog with towncrier's draft and the "
        "project's own configuration, in each DIR (a full clone with its tags)."
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument(
        "--diff",
        action="store_true",
        help="also print each changelog difference and every mismatch",
    )
    args = parser.parse_args(argv)
    rows = []
    for directory in args.dirs:
        if not directory.is_dir():
            parser.error(f"{directory} is not a directory")
        rows.append((directory.resolve().name, observe(directory.resolve())))
    print(table(rows))
    if args.diff:
        for name, obs in rows:
            for mismatch in obs.mismatches():
                print(f"\n--- {name}: {mismatch}")
    ok = all(obs.changelog_identical and obs.version_found for _, obs in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
