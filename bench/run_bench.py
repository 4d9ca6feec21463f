"""Benchmark ``release`` against the tools users would pick instead, in one run.

On generated repositories (``gen_repo.py``: small, medium, large and one with
10,000 fragments) it times ``release preview`` (and ``--json``) next to
python-semantic-release, commitizen, bump-my-version, towncrier and the floor
(``python -c pass`` + ``git describe`` + ``git log`` since the last tag); then
``release --help`` against ``python -c pass``, the build stage (``release build
--no-verify``; ``release build``, which adds the verify stage's checks, for
information) against ``uv build`` and ``python -m build`` on a sample project, and a
full local release
(``release run`` through ``post``, no publishing) against the same tools run by hand
in sequence, each on a fresh sample project; and on each conformance fixture
(``tests/conformance/fixtures``, materialised by the conformance harness) or real
clone, ``release preview 99.0.0`` against ``towncrier build --draft --version 99.0.0``
(issue 12); and ``release preview`` at the root of a uv workspace of 50 packages
(issue 16).  The other tools run from their own pinned environment
(``tools_venv.py``); towncrier's draft on the conformance projects runs from this
Python, as ``release`` does.

Each command first runs once, untimed, and must succeed (a tool that cannot run is
reported as such); then rounds run every command due in that round, in a shuffled
order, so that commands alternate and a slow spell of the machine hits them all
alike.  The slow tools run fewer times, spread over the rounds.  It prints tables of
minimum and median wall times with ratios, peak memory, one PASS/FAIL line per
target, and writes ``bench/results.json`` and ``docs/performance.md``.

Usage::

    python bench/run_bench.py [-n 15] [--slow-repeat 3] [--report-only]
    python bench/run_bench.py --only preview,startup --sizes small,large   # a quick look
    python bench/run_bench.py --only build,local-release                  # the build side
    python bench/run_bench.py --only conformance [--conformance-clones DIR...]
    python bench/run_bench.py --only workspace                            # issue 16's row
    python bench/run_bench.py --render bench/results.json                 # redo the docs
    nox -s bench -- --report-only
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import random
import re
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

# The other bench modules are sibling scripts, not package modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_repo
import report
import tools_venv
from measure import (
    ENV,
    Command,
    Sample,
    Validator,
    loadavg,
    machine,
    run_captured,
    run_once,
)

# The conformance harness (tests/conformance/harness.py): its fixtures and the one
# function that materialises them, shared with tests/test_conformance.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "conformance"))
import harness

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - release-pipeline depends on tomli there
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
PARTIAL_RESULTS = HERE / ".cache" / "results-partial.json"
DOCS = ROOT / "docs" / "performance.md"
BUILD_DIR = HERE / ".cache" / "build-sample"
LOCAL_RELEASE_DIR = HERE / ".cache" / "local-release"
CONFORMANCE_DIR = HERE / ".cache" / "conformance"

GROUPS = ("preview", "tools", "startup", "build", "local-release", "conformance", "workspace")
SIZES = ("small", "medium", "large", "many-fragments", "small-1k-fragments")
LARGEST, SMALLEST = "large", "small"
#: The small history with the largest repository's fragments: the issue's ratio target
#: ("cost follows the commits since the last release, never the whole history") compares
#: repositories that differ in history only. Only `release preview` is timed on it.
SAME_DELTA = "small-1k-fragments"
#: The generated uv workspace (group ``workspace``, issue 16): 50 packages sharing the
#: large repository's commits, tags and fragments.
WORKSPACE = "workspace"

# The targets (issue 7 and the foundation issue).
PREVIEW_OVER_PSR_MAX = 1 / 100
PREVIEW_OVER_CZ_MAX = 0.8
LARGE_OVER_SMALL_MAX = 1.3
PREVIEW_LARGE_MAX_S = 0.25
HELP_OVER_PYTHON_MAX = 4.0
BUILD_OVER_UV_MAX = 1.2
LOCAL_RELEASE_OVER_HAND_MAX = 1.0
PREVIEW_OVER_DRAFT_MAX = 0.8  # on every conformance fixture or clone (issue 12)
PREVIEW_RSS_MAX_BYTES = 60 * report.MB
PREVIEW_WORKSPACE_MAX_S = 0.5  # at the root of the 50-package workspace (issue 16)

PSR = "semantic-release --noop version --print"
CZ = "cz bump --dry-run --yes"
BMV = "bump-my-version show-bump"
TOWNCRIER = "towncrier build --draft"
CACHE_OFF = "release preview, cache off"
FLOOR = "floor: python -c pass + git describe + git log"
#: ``release preview`` lists problems beside the plan and then exits 1 (a fixture may have
#: real ones, as towncrier's has; a clone may be off its release branch): the plan is
#: computed all the same, which the check run verifies.
PREVIEW_WITH_PROBLEMS = frozenset({0, 1})
#: commitizen's documented exit codes for "nothing to bump" (NoCommitsFound, NoIncrement).
CZ_NO_RELEASE = frozenset({0, 3, 21})
#: The local release comparison: the sample project's fragments and the versions involved.
LOCAL_FRAGMENTS = {
    "101.feature.md": "Add `sample --json`, which prints results for machines.",
    "102.bugfix.md": "Fix a crash when the input file is empty.",
}
LOCAL_FROM, LOCAL_TO, LOCAL_DEV = "1.2.0", "1.3.0", "1.3.1.dev0"
#: The by-hand version edit: a plain string replacement in the two version files.
SET_VERSION = """\
import pathlib, sys
old, new = sys.argv[1:3]
for name in ("pyproject.toml", "src/sample_project/__init__.py"):
    path = pathlib.Path(name)
    text = path.read_text(encoding="utf-8")
    if f'"{old}"' not in text:
        sys.exit(f"{name}: no {old!r}")
    path.write_text(text.replace(f'"{old}"', f'"{new}"', 1), encoding="utf-8")
"""
_VERSION = re.compile(r"^\d+\.\d+\.\d+\S*$", re.MULTILINE)


class Reps(TypedDict):
    repeat: int  # timed runs
    warmup: int  # untimed runs before them


def release_argv() -> list[str]:
    """The ``release`` console script of this Python's environment, else ``-m release``."""
    bindir = Path(sys.executable).parent
    for name in ("release", "release.exe"):
        script = bindir / name
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "release"]


def release_build_installer() -> str:
    """What ``release build`` makes its isolated environment with (as its build step)."""
    if importlib.util.find_spec("uv") is not None or shutil.which("uv"):
        return "uv"
    return "pip"


# --- what each command's output must show -------------------------------------------


def _preview_json(code: int, out: str, err: str) -> str | None:
    try:
        data = json.loads(out)
    except ValueError:
        return f"--json printed no JSON: {out[:200]!r}"
    if not data.get("ok") or data.get("plan") is None:
        return f"--json says ok={data.get('ok')}: {data.get('problems')}"
    return None


def _nonempty(code: int, out: str, err: str) -> str | None:
    return None if out.strip() else "no output"


def _has_version(code: int, out: str, err: str) -> str | None:
    return None if _VERSION.search(out) else f"no version printed: {out[:200]!r}"


def _contains(text: str) -> Any:
    def check(code: int, out: str, err: str) -> str | None:
        if code != 0 or text in out:
            return None
        return f"{text!r} not in the output: {out[:200]!r}"

    return check


def _builds(outdir: Path) -> Any:
    def check(code: int, out: str, err: str) -> str | None:
        names = [p.name for p in outdir.glob("*")] if outdir.is_dir() else []
        if any(n.endswith(".whl") for n in names) and any(n.endswith(".tar.gz") for n in names):
            return None
        return f"no sdist and wheel in {outdir}: {names}"

    return check


def _rmtree(path: Path) -> Any:
    def clean() -> None:
        shutil.rmtree(path, ignore_errors=True)

    return clean


# --- the commands --------------------------------------------------------------------


def _project_version(repo: Path) -> str:
    with (repo / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def _last_tag(repo: Path) -> str:
    code, out, err = run_captured([["git", "describe", "--abbrev=0"]], repo)
    if code != 0:
        raise RuntimeError(f"git describe failed in {repo}: {err}")
    return out.strip()


def repo_commands(
    size: str, repo: Path, args: argparse.Namespace, groups: set[str], tools_problem: str | None
) -> list[Command]:
    release = release_argv()
    found: list[Command] = []
    fast: Reps = {"repeat": args.repeat, "warmup": args.warmup}
    if "preview" in groups:
        for flag, validate in (([], _nonempty), (["--json"], _preview_json)):
            tool = " ".join(["release preview", *flag])
            found.append(
                Command(
                    f"{tool} ({size})",
                    "preview",
                    tool,
                    [[*release, "preview", *flag]],
                    repo,
                    size,
                    validate=validate,
                    **fast,
                )
            )
        # For information (no target): every run computes towncrier's answers afresh,
        # as the first preview after a change of the fragments does.
        found.append(
            Command(
                f"{CACHE_OFF} ({size})",
                "preview",
                CACHE_OFF,
                [[*release, "preview"]],
                repo,
                size,
                validate=_nonempty,
                env={"RELEASE_PIPELINE_NO_CACHE": "1"},
                **fast,
            )
        )
    if "tools" not in groups or size == SAME_DELTA:
        return found
    version = _project_version(repo)
    major, minor, _patch = (int(x) for x in version.split(".")[:3])
    nxt = f"{major}.{minor + 1}.0"
    tag = _last_tag(repo)
    bin_ = tools_venv.bindir()
    tool_reps: Reps = {"repeat": args.tool_repeat, "warmup": args.tool_warmup}
    slow: Reps = {"repeat": args.slow_repeat, "warmup": args.slow_warmup}
    specs: list[tuple[str, list[str], Reps, frozenset[int], Any]] = [
        (
            PSR,
            [str(bin_ / "semantic-release"), "--noop", "version", "--print"],
            slow,
            frozenset({0}),
            _has_version,
        ),
        (
            CZ,
            [str(bin_ / "cz"), "bump", "--dry-run", "--yes"],
            tool_reps,
            CZ_NO_RELEASE,
            _contains("bump: version"),
        ),
        (
            BMV,
            [str(bin_ / "bump-my-version"), "show-bump"],
            tool_reps,
            frozenset({0}),
            _contains(version),
        ),
        (
            TOWNCRIER,
            [str(bin_ / "towncrier"), "build", "--draft", "--version", nxt],
            tool_reps,
            frozenset({0}),
            _contains(f"## {nxt}"),
        ),
    ]
    for tool, argv, reps, ok, validate in specs:
        found.append(
            Command(
                f"{tool} ({size})",
                "tools",
                tool,
                [argv],
                repo,
                size,
                ok_codes=ok,
                validate=validate,
                unavailable=None if tools_problem is None else tools_problem,
                **reps,
            )
        )
    found.append(
        Command(
            f"floor ({size})",
            "tools",
            FLOOR,
            [
                [sys.executable, "-c", "pass"],
                ["git", "describe", "--abbrev=0"],
                ["git", "log", f"{tag}..HEAD"],
            ],
            repo,
            size,
            **fast,
        )
    )
    return found


def startup_commands(args: argparse.Namespace) -> list[Command]:
    fast: Reps = {"repeat": args.repeat, "warmup": args.warmup}
    return [
        Command(
            "python -c pass", "startup", "python -c pass", [[sys.executable, "-c", "pass"]], **fast
        ),
        Command(
            "release --help", "startup", "release --help", [[*release_argv(), "--help"]], **fast
        ),
    ]


def build_commands(args: argparse.Namespace, tools_problem: str | None) -> list[Command]:
    from release.demo import DEMO_FRAGMENTS, create_sample_project

    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    BUILD_DIR.mkdir(parents=True)
    project = create_sample_project(BUILD_DIR, fragments=DEMO_FRAGMENTS)
    out = BUILD_DIR / "out"
    reps: Reps = {"repeat": args.build_repeat, "warmup": args.slow_warmup}
    tools_py = str(tools_venv.python())
    uv = str(tools_venv.script("uv"))
    return [
        # `release build` writes into the project's dist/ (dist-dir must be inside the
        # project); removed after each run so the others see a clean work tree.
        # The build stage alone (the target) ...
        Command(
            report.BUILD_STAGE,
            "build",
            report.BUILD_STAGE,
            [[*release_argv(), "build", "--no-verify"]],
            project,
            validate=_builds(project / "dist"),
            cleanup=_rmtree(project / "dist"),
            **reps,
        ),
        # ... and with the verify stage's checks (twine check, metadata), for information.
        Command(
            report.BUILD_VERIFY,
            "build",
            report.BUILD_VERIFY,
            [[*release_argv(), "build"]],
            project,
            validate=_builds(project / "dist"),
            cleanup=_rmtree(project / "dist"),
            **reps,
        ),
        Command(
            "uv build",
            "build",
            "uv build",
            [[uv, "build", "--python", sys.executable, "--out-dir", str(out / "uv")]],
            project,
            validate=_builds(out / "uv"),
            cleanup=_rmtree(out / "uv"),
            unavailable=tools_problem,
            **reps,
        ),
        Command(
            "python -m build",
            "build",
            "python -m build",
            [[tools_py, "-m", "build", "--outdir", str(out / "build")]],
            project,
            validate=_builds(out / "build"),
            cleanup=_rmtree(out / "build"),
            unavailable=tools_problem,
            **reps,
        ),
    ]


def _fresh_project(root: Path) -> Path:
    """A new sample project (hatchling, two fragments, a bare remote) under ``root``."""
    from release.demo import create_sample_project

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return create_sample_project(root, version=LOCAL_FROM, fragments=LOCAL_FRAGMENTS)


def _reset(root: Path) -> Any:
    def reset() -> None:
        _fresh_project(root)

    return reset


def _released(project: Path) -> Any:
    """The release is complete: bumped, changelog written, tagged, built, pushed, dev set."""

    def check(code: int, out: str, err: str) -> str | None:
        def git(*argv: str) -> str:
            _code, text, _err = run_captured([["git", *argv]], project)
            return text.strip()

        remote = project.parent / f"{project.name}.git"
        problems = []
        if _project_version(project) != LOCAL_DEV:
            problems.append(f"version is {_project_version(project)}, not {LOCAL_DEV}")
        if f"## {LOCAL_TO} " not in (project / "CHANGELOG.md").read_text(encoding="utf-8"):
            problems.append(f"no {LOCAL_TO} section in CHANGELOG.md")
        if any(p.name in LOCAL_FRAGMENTS for p in (project / "changelog.d").iterdir()):
            problems.append("fragments left in changelog.d")
        if problem := _builds(project / "dist")(code, out, err):
            problems.append(problem)
        tag = f"v{LOCAL_TO}"
        if git("--git-dir", str(remote), "tag", "--list", tag) != tag:
            problems.append(f"{tag} is not on the remote")
        head = git("--git-dir", str(remote), "log", "-1", "--format=%s", "main")
        if head != f"Start {LOCAL_DEV} development":
            problems.append(f"the remote's main is at {head!r}")
        return "; ".join(problems) or None

    return check


def local_release_commands(args: argparse.Namespace, tools_problem: str | None) -> list[Command]:
    """A full local release against the same work done by hand, each on a fresh project.

    Every run gets a new sample project: made once here, then again after each run by the
    command's cleanup, untimed.
    """
    reps: Reps = {"repeat": args.release_repeat, "warmup": args.slow_warmup}
    release_root = LOCAL_RELEASE_DIR / "release"
    hand_root = LOCAL_RELEASE_DIR / "by-hand"
    release_project = _fresh_project(release_root)
    hand_project = _fresh_project(hand_root)
    tag, py = f"v{LOCAL_TO}", sys.executable
    twine = Path(sys.executable).parent / "twine"
    dist = [
        f"dist/sample_project-{LOCAL_TO}.tar.gz",
        f"dist/sample_project-{LOCAL_TO}-py3-none-any.whl",
    ]
    by_hand = [
        [str(tools_venv.script("towncrier")), "build", "--yes", "--version", LOCAL_TO],
        [py, "-I", "-S", "-c", SET_VERSION, LOCAL_FROM, LOCAL_TO],
        ["git", "add", "-A"],
        ["git", "commit", "--quiet", "-m", f"Release {LOCAL_TO}"],
        ["git", "tag", "-a", tag, "-m", f"Release {LOCAL_TO}"],
        [str(tools_venv.python()), "-m", "build"],
        [str(twine), "check", *dist],
        ["git", "push", "--quiet", "--atomic", "origin", "main", tag],
        [py, "-I", "-S", "-c", SET_VERSION, LOCAL_TO, LOCAL_DEV],
        # -a: only the tracked files (dist/ is not ignored in the sample project).
        ["git", "commit", "--quiet", "-a", "-m", f"Start {LOCAL_DEV} development"],
        ["git", "push", "--quiet", "origin", "main"],
    ]
    hand_problem = tools_problem
    if hand_problem is None and not twine.is_file():
        hand_problem = f"no twine at {twine}"
    return [
        Command(
            report.LOCAL_RELEASE,
            "local-release",
            report.LOCAL_RELEASE,
            [[*release_argv(), "-c", "next-dev=true", "run", "--yes"]],
            release_project,
            validate=_released(release_project),
            cleanup=_reset(release_root),
            **reps,
        ),
        Command(
            report.BY_HAND,
            "local-release",
            report.BY_HAND,
            by_hand,
            hand_project,
            validate=_released(hand_project),
            cleanup=_reset(hand_root),
            unavailable=hand_problem,
            **reps,
        ),
    ]


# --- the conformance projects (issue 12) ---------------------------------------------


def _fixture_key(fixture: harness.Fixture) -> str:
    """What a materialised fixture was made from: its fixture.toml and the harness."""
    digest = hashlib.sha256()
    for path in (fixture.path / "fixture.toml", Path(harness.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def materialise_fixture(fixture: harness.Fixture) -> tuple[Path, float]:
    """The fixture as a repository under ``bench/.cache/conformance/NAME``, made by the
    conformance harness as the tests make it, and reused while its ``fixture.toml`` and the
    harness are unchanged: (the project directory, the seconds it took to make)."""
    from release.demo import GIT_ENV

    root = CONFORMANCE_DIR / fixture.name
    stamp = root / "complete.json"
    key = _fixture_key(fixture)
    try:
        made = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        made = {}
    if made.get("key") != key:
        print(f"materialising the conformance fixture {fixture.name} ...", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        start = time.perf_counter()
        # A fixed identity, and no user or system configuration (signing, hooks).
        env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
        harness.materialise(fixture, root, env)
        made = {"key": key, "seconds": round(time.perf_counter() - start, 2)}
        stamp.write_text(json.dumps(made) + "\n", encoding="utf-8")
    return root / fixture.name / fixture.subdir, float(made["seconds"])


def _git_out(cwd: Path, *argv: str) -> str | None:
    code, out, _err = run_captured([["git", *argv]], cwd)
    return out.strip() if code == 0 else None


def conformance_projects(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The projects of the group: each selected fixture, materialised, then each clone
    given with ``--conformance-clones`` (timed where it is, as it is)."""
    projects: dict[str, dict[str, Any]] = {}
    for fixture in harness.load_fixtures():
        if fixture.name not in args.conformance_fixtures:
            continue
        project, seconds = materialise_fixture(fixture)
        projects[fixture.name] = {
            "kind": "fixture",
            "path": str(project),
            "repository": fixture.repository,
            "commit": fixture.commit,
            "layout": fixture.layout,
            "tags": sum(1 for entry in fixture.history if entry.tag),
            "fragments": len(fixture.fragments),
            "materialised_s": seconds,
        }
    for clone in args.conformance_clones:
        path = clone.resolve()
        tags = _git_out(path, "tag", "--list")
        projects[f"clone {path.name}"] = {
            "kind": "clone",
            "path": str(path),
            "repository": _git_out(path, "remote", "get-url", "origin"),
            "commit": _git_out(path, "rev-parse", "HEAD"),
            "layout": None,
            "tags": None if tags is None else len(tags.splitlines()),
            "fragments": None,
        }
    return projects


def _plan_shown(version: str) -> Any:
    """The preview printed a plan for ``version`` with its changelog section (problems, if
    any, are listed beside it)."""

    def check(code: int, out: str, err: str) -> str | None:
        if f"-> {version}" in out and "Changelog section" in out:
            return None
        tail = " / ".join((out.strip() or err.strip()).splitlines()[-3:])
        return f"no plan for {version} (exit status {code}): {tail[:300]}"

    return check


def conformance_commands(key: str, project: Path, args: argparse.Namespace) -> list[Command]:
    """On one conformance project: ``release preview V`` (cache warm, and off) and
    ``towncrier build --draft --version V``, V being the harness's draft version."""
    version = harness.DRAFT_VERSION
    preview = [*release_argv(), "preview", version]
    fast: Reps = {"repeat": args.repeat, "warmup": args.warmup}
    return [
        Command(
            f"{report.CONF_PREVIEW} ({key})",
            "conformance",
            report.CONF_PREVIEW,
            [preview],
            project,
            key,
            ok_codes=PREVIEW_WITH_PROBLEMS,
            validate=_plan_shown(version),
            **fast,
        ),
        # For information (no target), as on the generated repositories.
        Command(
            f"{report.CONF_CACHE_OFF} ({key})",
            "conformance",
            report.CONF_CACHE_OFF,
            [preview],
            project,
            key,
            ok_codes=PREVIEW_WITH_PROBLEMS,
            validate=_plan_shown(version),
            env={"RELEASE_PIPELINE_NO_CACHE": "1"},
            **fast,
        ),
        # The towncrier release uses (this Python's), as the conformance tests run it.
        Command(
            f"{report.CONF_DRAFT} ({key})",
            "conformance",
            report.CONF_DRAFT,
            [[sys.executable, "-m", "towncrier", "build", "--draft", "--version", version]],
            project,
            key,
            validate=_contains(version),
            **fast,
        ),
    ]


# --- the workspace (issue 16) -------------------------------------------------------


def packages_with_fragments(workspace: Path) -> list[str]:
    """The packages of a generated workspace that have unreleased fragments: those a
    preview at its root must describe."""
    return sorted(
        package.name
        for package in (workspace / "packages").iterdir()
        if any(f.name != ".gitkeep" for f in (package / "changelog.d").iterdir())
    )


def _missing_names(text: str, names: Sequence[str]) -> list[str]:
    # "pkg-05" names pkg-05 in "pkg-05-v1.2.0" but not in "pkg-050".
    return [n for n in names if not re.search(rf"(?<![\w-]){re.escape(n)}(?!\w)", text)]


def _names_all(names: Sequence[str]) -> Validator:
    """The preview names every package in ``names``, so it did not stop at the root or
    at the first package."""

    def check(code: int, out: str, err: str) -> str | None:
        missing = _missing_names(out, names)
        if not missing:
            return None
        return (
            f"the preview names {len(names) - len(missing)} of the {len(names)} packages with "
            f"fragments (missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''})"
            f": {out.strip()[:120]!r}"
        )

    return check


def _json_names_all(names: Sequence[str]) -> Validator:
    def check(code: int, out: str, err: str) -> str | None:
        try:
            data = json.loads(out)
        except ValueError:
            return f"--json printed no JSON: {out[:200]!r}"
        if not isinstance(data, dict) or not data.get("ok"):
            ok = data.get("ok") if isinstance(data, dict) else None
            problems = data.get("problems") if isinstance(data, dict) else None
            return f"--json says ok={ok}: {problems}"
        return _names_all(names)(code, out, err)

    return check


def _first_line_failure(code: int, out: str, err: str) -> str:
    """The exit status and the first line of stderr (else of stdout)."""
    lines = (err.strip() or out.strip()).splitlines()
    return f"exit status {code}: {lines[0].strip() if lines else '(no output)'}"


def workspace_commands(workspace: Path, args: argparse.Namespace) -> list[Command]:
    """``release preview`` (and ``--json``, and with the cache off for information) at the
    root of the generated workspace.  Each must exit 0 and name every package with
    fragments; one that fails is reported with its exit status and first line of stderr,
    and its target fails as not measured."""
    release = release_argv()
    fast: Reps = {"repeat": args.repeat, "warmup": args.warmup}
    names = packages_with_fragments(workspace)
    found = []
    for tool, flag, validate, env in (
        ("release preview", [], _names_all(names), None),
        ("release preview --json", ["--json"], _json_names_all(names), None),
        (CACHE_OFF, [], _names_all(names), {"RELEASE_PIPELINE_NO_CACHE": "1"}),
    ):
        found.append(
            Command(
                f"{tool} ({WORKSPACE})",
                "workspace",
                tool,
                [[*release, "preview", *flag]],
                workspace,
                WORKSPACE,
                validate=validate,
                env=env,
                describe_failure=_first_line_failure,
                **fast,
            )
        )
    return found


# --- running -------------------------------------------------------------------------


def check_runs(commands: Sequence[Command]) -> dict[str, str]:
    """Run each command once, untimed; mark those that fail unavailable.  First lines out."""
    answers = {}
    for cmd in commands:
        if cmd.unavailable:
            continue
        print(f"checking {cmd.label} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        code, out, err = run_captured(cmd.steps, cmd.cwd, cmd.env)
        elapsed = time.perf_counter() - start
        problem = None
        if code not in cmd.ok_codes and cmd.describe_failure is not None:
            problem = cmd.describe_failure(code, out, err)
        elif code not in cmd.ok_codes:
            tail = (err.strip() or out.strip()).splitlines()[-3:]
            problem = f"exit status {code}: " + " / ".join(tail)
        elif cmd.validate is not None:
            problem = cmd.validate(code, out, err)
        if cmd.cleanup is not None:
            cmd.cleanup()
        if problem:
            cmd.unavailable = f"cannot run: {problem}"
            print(f"  {cmd.label}: {cmd.unavailable}", file=sys.stderr)
        else:
            first = next((line.strip() for line in out.splitlines() if line.strip()), "")
            answers[cmd.label] = first[:120]
            print(f"  ok in {elapsed:.2f} s: {first[:80]}", file=sys.stderr)
    return answers


def schedule(commands: Sequence[Command], seed: int) -> list[list[tuple[Command, bool]]]:
    """Rounds of (command, timed): each command's runs spread evenly, each round shuffled."""
    live = [c for c in commands if not c.unavailable]
    n_rounds = max((c.warmup + c.repeat for c in live), default=0)
    rounds: list[list[tuple[Command, bool]]] = [[] for _ in range(n_rounds)]
    for cmd in live:
        total = cmd.warmup + cmd.repeat
        for i in range(total):
            rounds[i * n_rounds // total].append((cmd, i >= cmd.warmup))
    rng = random.Random(seed)
    for entries in rounds:
        rng.shuffle(entries)
    return rounds


def run_rounds(rounds: list[list[tuple[Command, bool]]], loads: list[float]) -> None:
    start = time.perf_counter()
    for number, entries in enumerate(rounds, 1):
        for cmd, timed in entries:
            if cmd.unavailable:
                continue
            sample: Sample = run_once(cmd.steps, cmd.cwd, {**ENV, **cmd.env} if cmd.env else None)
            if cmd.cleanup is not None:
                cmd.cleanup()
            if sample.returncode not in cmd.ok_codes:
                cmd.unavailable = f"a timed run exited with status {sample.returncode}"
                print(f"  {cmd.label}: {cmd.unavailable}", file=sys.stderr)
            elif timed:
                cmd.samples.append(sample)
        load = loadavg()
        if load:
            loads.append(load[0])
        print(
            f"round {number}/{len(rounds)}: {len(entries)} runs, "
            f"{time.perf_counter() - start:.0f} s so far, load {load}",
            file=sys.stderr,
            flush=True,
        )


# --- checks --------------------------------------------------------------------------


def _check(name: str, value: float | None, limit: float, unit: str, detail: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "limit": limit,
        "unit": unit,
        "pass": value is not None and value <= limit,
        "detail": detail,
    }


def checks(
    commands: dict[str, dict[str, Any]],
    groups: set[str],
    sizes: Sequence[str],
    conformance: Sequence[str] = (),
    workspace: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    def median(label: str) -> tuple[float | None, str]:
        cmd = commands.get(label)
        if cmd is None:
            return None, f"{label} was not run"
        if cmd.get("unavailable") or not cmd.get("n"):
            return None, f"{label}: {cmd.get('unavailable') or 'no samples'}"
        return float(cmd["median_s"]), report.fmt_time(cmd["median_s"])

    def ratio(name: str, top: str, bottom: str, limit: float) -> dict[str, Any]:
        a, why_a = median(top)
        b, why_b = median(bottom)
        if a is None or b is None:
            return _check(name, None, limit, "x", why_a if a is None else why_b)
        return _check(name, a / b, limit, "x", f"{why_a} / {why_b}")

    found = []
    big, small = f"({LARGEST})", f"({SMALLEST})"
    if "preview" in groups and LARGEST in sizes:
        for flag in ("", " --json"):
            preview = f"release preview{flag}"
            if "tools" in groups:
                found.append(
                    ratio(
                        f"`{preview}` / `semantic-release --noop version --print`, {LARGEST}",
                        f"{preview} {big}",
                        f"{PSR} {big}",
                        PREVIEW_OVER_PSR_MAX,
                    )
                )
                found.append(
                    ratio(
                        f"`{preview}` / `cz bump --dry-run --yes`, {LARGEST}",
                        f"{preview} {big}",
                        f"{CZ} {big}",
                        PREVIEW_OVER_CZ_MAX,
                    )
                )
            if SAME_DELTA in sizes:
                found.append(
                    ratio(
                        f"`{preview}` {LARGEST} / {SAME_DELTA} (the same 1,000 fragments: "
                        "history alone)",
                        f"{preview} {big}",
                        f"{preview} ({SAME_DELTA})",
                        LARGE_OVER_SMALL_MAX,
                    )
                )
            if SMALLEST in sizes:
                # For information: this also measures 100 times the fragments (10 against
                # 1,000), work since the last release that the cost should follow.
                found.append(
                    {
                        **ratio(
                            f"`{preview}` {LARGEST} / {SMALLEST} (10 fragments)",
                            f"{preview} {big}",
                            f"{preview} {small}",
                            LARGE_OVER_SMALL_MAX,
                        ),
                        "info": True,
                    }
                )
            value, why = median(f"{preview} {big}")
            found.append(
                _check(
                    f"`{preview}` on {LARGEST}, median",
                    value,
                    PREVIEW_LARGE_MAX_S,
                    "s",
                    "" if value is not None else why,
                )
            )
            cmd = commands.get(f"{preview} {big}", {})
            rss = None if cmd.get("unavailable") or not cmd.get("n") else cmd["max_rss_bytes"]
            psr = commands.get(f"{PSR} {big}", {})
            detail = (
                f"python-semantic-release: {report.fmt_mb(psr['max_rss_bytes'])}"
                if psr.get("n") and not psr.get("unavailable")
                else ""
            )
            found.append(
                _check(
                    f"`{preview}` peak memory on {LARGEST}",
                    rss,
                    PREVIEW_RSS_MAX_BYTES,
                    "MB",
                    detail if rss is not None else f"{preview} {big} not measured",
                )
            )
    if "startup" in groups:
        found.append(
            ratio(
                "`release --help` / `python -c pass`",
                "release --help",
                "python -c pass",
                HELP_OVER_PYTHON_MAX,
            )
        )
    if "build" in groups:
        found.append(
            ratio(
                "build stage (`release build --no-verify`) / `uv build`",
                report.BUILD_STAGE,
                "uv build",
                BUILD_OVER_UV_MAX,
            )
        )
    if "local-release" in groups:
        found.append(
            ratio(
                "full local release (`release run`, through post) / by hand",
                report.LOCAL_RELEASE,
                report.BY_HAND,
                LOCAL_RELEASE_OVER_HAND_MAX,
            )
        )
    if "conformance" in groups:
        for key in conformance:
            found.append(
                ratio(
                    f"`release preview` / `towncrier build --draft`, {key}",
                    f"{report.CONF_PREVIEW} ({key})",
                    f"{report.CONF_DRAFT} ({key})",
                    PREVIEW_OVER_DRAFT_MAX,
                )
            )
    if "workspace" in groups and workspace is not None:
        for preview in ("release preview", "release preview --json"):
            value, why = median(f"{preview} ({WORKSPACE})")
            found.append(
                _check(
                    f"`{preview}` on the {workspace['packages']}-package workspace, median",
                    value,
                    PREVIEW_WORKSPACE_MAX_S,
                    "s",
                    "" if value is not None else why,
                )
            )
    return found


# --- main ----------------------------------------------------------------------------


def _csv(value: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [v for v in value.split(",") if v]
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown}; choose from {list(allowed)}")
    return items


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "-n",
        "--repeat",
        type=int,
        default=15,
        help="timed runs of release, python and the floor (default: 15)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="their untimed warm-up runs (default: 2)"
    )
    parser.add_argument(
        "--tool-repeat",
        type=int,
        default=9,
        help="timed runs of commitizen, bump-my-version, towncrier (default: 9)",
    )
    parser.add_argument("--tool-warmup", type=int, default=1, help="their warm-ups (default: 1)")
    parser.add_argument(
        "--slow-repeat",
        type=int,
        default=3,
        help="timed runs of python-semantic-release (default: 3)",
    )
    parser.add_argument(
        "--build-repeat", type=int, default=9, help="timed runs of each build (default: 9)"
    )
    parser.add_argument(
        "--release-repeat",
        type=int,
        default=5,
        help="timed runs of the local release and of the same by hand (default: 5)",
    )
    parser.add_argument(
        "--slow-warmup",
        type=int,
        default=1,
        help="warm-ups of python-semantic-release, the builds and the releases (default: 1)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda v: _csv(v, SIZES, "size"),
        default=list(SIZES),
        help=f"repositories (default: {','.join(SIZES)})",
    )
    parser.add_argument(
        "--only",
        type=lambda v: _csv(v, GROUPS, "group"),
        default=list(GROUPS),
        help=f"command groups (default: {','.join(GROUPS)})",
    )
    fixtures = [fixture.name for fixture in harness.load_fixtures()]
    parser.add_argument(
        "--conformance-fixtures",
        type=lambda v: [] if v == "none" else _csv(v, fixtures, "fixture"),
        default=fixtures,
        metavar="NAMES",
        help="the conformance fixtures to time, or none (default: all)",
    )
    parser.add_argument(
        "--conformance-clones",
        type=Path,
        nargs="+",
        default=[],
        metavar="DIR",
        help="also time these full clones of real projects (each the project's directory)",
    )
    parser.add_argument("--seed", type=int, default=0, help="of the shuffled order (default: 0)")
    parser.add_argument(
        "--output",
        type=Path,
        help="results file (default: bench/results.json for a complete run, "
        "else bench/.cache/results-partial.json)",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        help="the generated page (default: docs/performance.md, complete runs only)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS",
        help="only write the docs page (and print the report) from a results file",
    )
    args = parser.parse_args(argv)
    counts = (
        args.repeat,
        args.tool_repeat,
        args.slow_repeat,
        args.build_repeat,
        args.release_repeat,
    )
    if min(counts) < 1 or min(args.warmup, args.tool_warmup, args.slow_warmup) < 0:
        parser.error("repetitions must be >= 1 and warm-ups >= 0")
    if args.conformance_clones and "conformance" not in args.only:
        parser.error("--conformance-clones needs the conformance group (--only conformance)")
    return args


def _repo_entry(params: gen_repo.Params, path: Path) -> dict[str, Any]:
    return {
        "commits": params.commits,
        "tags": params.tags,
        "fragments": params.fragments,
        "seed": params.seed,
        "path": str(path),
        "generation_s": float((path.parent / "complete").read_text(encoding="ascii")),
    }


def collect(
    args: argparse.Namespace, groups: set[str], sizes: Sequence[str], tools_problem: str | None
) -> tuple[
    dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, Any] | None, list[Command]
]:
    """The repositories and the workspace (generated if needed), the conformance projects
    (materialised if needed) and every command to time."""
    repos: dict[str, dict[str, Any]] = {}
    conformance: dict[str, dict[str, Any]] = {}
    workspace: dict[str, Any] | None = None
    commands: list[Command] = []
    if "startup" in groups:
        commands += startup_commands(args)
    if groups & {"preview", "tools"}:
        for size in sizes:
            params = gen_repo.SIZES[size]
            path = gen_repo.ensure(params)
            repos[size] = _repo_entry(params, path)
            commands += repo_commands(size, path, args, groups, tools_problem)
    if "build" in groups:
        commands += build_commands(args, tools_problem)
    if "local-release" in groups:
        commands += local_release_commands(args, tools_problem)
    if "conformance" in groups:
        if harness.DRAFT_VERSION != report.CONFORMANCE_VERSION:
            raise RuntimeError("report.CONFORMANCE_VERSION is not harness.DRAFT_VERSION")
        conformance = conformance_projects(args)
        for key, project in conformance.items():
            commands += conformance_commands(key, Path(project["path"]), args)
    if "workspace" in groups:
        params = gen_repo.SIZES[WORKSPACE]
        path = gen_repo.ensure(params)
        workspace = _repo_entry(params, path) | {
            "packages": params.packages,
            "packages_with_fragments": len(packages_with_fragments(path)),
        }
        commands += workspace_commands(path, args)
    return repos, conformance, workspace, commands


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        docs = args.docs or DOCS
        docs.write_text(report.markdown_report(saved), encoding="utf-8")
        print(report.text_report(saved))
        print(f"\nwrote {docs}")
        return 0

    groups, sizes = set(args.only), [s for s in SIZES if s in args.sizes]
    all_fixtures = [fixture.name for fixture in harness.load_fixtures()]
    complete = (
        groups == set(GROUPS)
        and sizes == list(SIZES)
        and set(args.conformance_fixtures) == set(all_fixtures)
    )
    output = args.output or (RESULTS if complete else PARTIAL_RESULTS)
    docs = args.docs or (DOCS if complete else None)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    load_before = loadavg()

    tools_problem = None
    tool_versions: dict[str, str | None] = {}
    if groups & {"tools", "build", "local-release"}:
        try:
            tools_venv.ensure()
            tool_versions = tools_venv.versions()
        except tools_venv.ToolsVenvError as exc:
            tools_problem = f"the tools' environment could not be made: {exc}"
            print(tools_problem, file=sys.stderr)

    repos, conformance, workspace, commands = collect(args, groups, sizes, tools_problem)
    answers = check_runs(commands)
    loads: list[float] = []
    rounds = schedule(commands, args.seed)
    print(f"{len(rounds)} rounds of {sum(len(r) for r in rounds)} runs", file=sys.stderr)
    run_rounds(rounds, loads)

    stats = {c.label: c.stats() | {"check_output": answers.get(c.label)} for c in commands}
    results: dict[str, Any] = {
        "schema": "release-pipeline/bench",
        "schema_version": 1,
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "complete": complete,
        "largest": LARGEST if LARGEST in repos else None,
        "machine": machine()
        | {
            "tools": tool_versions,
            "release_pipeline": importlib.metadata.version("release-pipeline"),
            "release_build_installer": release_build_installer(),
        },
        "load": {
            "before": load_before,
            "after": loadavg(),
            "samples_1min": loads,
            "median_1min": statistics.median(loads) if loads else None,
        },
        "settings": {
            "repeat": args.repeat,
            "warmup": args.warmup,
            "tool_repeat": args.tool_repeat,
            "tool_warmup": args.tool_warmup,
            "slow_repeat": args.slow_repeat,
            "build_repeat": args.build_repeat,
            "release_repeat": args.release_repeat,
            "slow_warmup": args.slow_warmup,
            "seed": args.seed,
            "groups": sorted(groups),
            "sizes": sizes,
            "conformance_fixtures": args.conformance_fixtures,
            "conformance_clones": [str(c) for c in args.conformance_clones],
        },
        "repos": repos,
        "conformance": conformance,
        "workspace": workspace,
        "commands": stats,
        "checks": checks(stats, groups, sizes, list(conformance), workspace),
    }
    print()
    print(report.text_report(results))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}")
    if docs is not None:
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(report.markdown_report(results), encoding="utf-8")
        print(f"wrote {docs}")
    passed = all(c["pass"] for c in results["checks"] if not c.get("info"))
    return 0 if args.report_only or passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
