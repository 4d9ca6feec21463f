"""Tables and PASS/FAIL lines from a benchmark's results (``bench/results.json``).

Everything here reads the results dictionary that ``run_bench.py`` writes, so the
terminal report and ``docs/performance.md`` always show the numbers of one run and
can be rendered again from the JSON file (``run_bench.py --render``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SIZE_TITLES = {
    "small": "small",
    "medium": "medium",
    "large": "large",
    "many-fragments": "10k fragments",
    "small-1k-fragments": "small, 1k fragments",
}
#: The rows of the repository table, in order, and the command each compares with.
TOOL_ROWS = (
    "release preview",
    "release preview --json",
    "semantic-release --noop version --print",
    "cz bump --dry-run --yes",
    "bump-my-version show-bump",
    "towncrier build --draft",
    "floor: python -c pass + git describe + git log",
)
BASELINE_TOOL = "release preview"
#: The build stage alone (the target's row), and with the verify stage's checks (information).
BUILD_STAGE = "build stage (release build --no-verify)"
BUILD_VERIFY = "build + verify (release build)"
#: The label of the build row in results from before ``--no-verify`` (``release build``).
OLD_BUILD_STAGE = "build stage (release build)"
#: The local release comparison (``release run`` through post, against the same by hand).
LOCAL_RELEASE = "full local release (release run)"
BY_HAND = "by hand: towncrier, git, python -m build, twine check, git push"
#: The conformance group (issue 12): on each conformance fixture or real clone, release's
#: preview of a version far above any real one against towncrier's draft of it (the
#: version is tests/conformance/harness.py's DRAFT_VERSION; run_bench.py checks it).
CONFORMANCE_VERSION = "99.0.0"
CONF_PREVIEW = f"release preview {CONFORMANCE_VERSION}"
CONF_CACHE_OFF = f"release preview {CONFORMANCE_VERSION}, cache off"
CONF_DRAFT = f"towncrier build --draft --version {CONFORMANCE_VERSION}"
#: The workspace group (issue 16): its rows, at the root of the generated uv workspace.
WORKSPACE_SIZE = "workspace"
WORKSPACE_ROWS = ("release preview", "release preview --json", "release preview, cache off")
FAILURE_CELL = 100  # characters of a failure shown in the table (all of it under "Could not run")
MB = 1_000_000


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    right: frozenset[int] = frozenset()  # columns aligned right (the first never is)

    def text(self) -> str:
        widths = [
            max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))
        ]

        def fmt(row: Sequence[str]) -> str:
            cells = [
                cell.rjust(w) if i in self.right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(self.header), rule, *(fmt(r) for r in self.rows)])

    def markdown(self) -> str:
        def fmt(row: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

        align = ["---:" if i in self.right else "---" for i in range(len(self.header))]
        return "\n".join([fmt(self.header), "| " + " | ".join(align) + " |", *map(fmt, self.rows)])


def fmt_time(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f} MB"


def fmt_ratio(ratio: float) -> str:
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.2f}x"


def _median(cmd: dict[str, Any]) -> float | None:
    return cmd.get("median_s") if not cmd.get("unavailable") else None


def _by_tool_size(results: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(c["tool"], c["size"]): c for c in results["commands"].values()}


def repo_table(results: dict[str, Any]) -> Table:
    rows = []
    for size, repo in results["repos"].items():
        rows.append(
            [
                SIZE_TITLES.get(size, size),
                f"{repo['commits']:,}",
                f"{repo['tags']:,}",
                f"{repo['fragments']:,}",
                f"{repo['generation_s']:.1f} s",
            ]
        )
    return Table(
        ["repository", "commits", "release tags", "fragments", "generated in"],
        rows,
        frozenset({1, 2, 3, 4}),
    )


def tools_table(results: dict[str, Any]) -> Table:
    """Median wall time of each read-only command on each repository, and its ratio to
    ``release preview`` on the same repository."""
    sizes = list(results["repos"])
    by = _by_tool_size(results)
    rows = []
    for tool in TOOL_ROWS:
        if not any((tool, s) in by for s in sizes):
            continue
        row = [tool]
        for size in sizes:
            cmd = by.get((tool, size))
            base = by.get((BASELINE_TOOL, size))
            if cmd is None:
                row.append("-")
                continue
            median = _median(cmd)
            if median is None:
                row.append("unavailable")
                continue
            cell = fmt_time(median)
            base_median = None if base is None else _median(base)
            if tool != BASELINE_TOOL and base_median:
                cell += f" ({fmt_ratio(median / base_median)})"
            row.append(cell)
        rows.append(row)
    header = ["median (x release preview)", *(SIZE_TITLES.get(s, s) for s in sizes)]
    return Table(header, rows, frozenset(range(1, len(header))))


def conformance_table(results: dict[str, Any]) -> Table:
    """One row per conformance project: the median wall time of the preview (cache warm,
    cache off) and of towncrier's draft, and the preview's ratio to the draft, of the
    medians (the target) and of the CPU medians (less disturbed by a busy machine)."""
    by = _by_tool_size(results)
    rows = []
    for key, project in results.get("conformance", {}).items():
        cells = []
        for tool in (CONF_PREVIEW, CONF_CACHE_OFF, CONF_DRAFT):
            cmd = by.get((tool, key))
            if cmd is None:
                cells.append("-")
            else:
                median = _median(cmd)
                cells.append("unavailable" if median is None else fmt_time(median))
        preview, draft = by.get((CONF_PREVIEW, key)), by.get((CONF_DRAFT, key))
        ratios = ["-", "-"]
        if preview and draft and _median(preview) and _median(draft):
            ratios = [
                f"{preview['median_s'] / draft['median_s']:.2f}",
                f"{preview['cpu_median_s'] / draft['cpu_median_s']:.2f}",
            ]
        counts = [
            "-" if project.get(what) is None else f"{project[what]:,}"
            for what in ("tags", "fragments")
        ]
        rows.append([key, *counts, *cells, *ratios])
    return Table(
        [
            "project",
            "tags",
            "fragments",
            "release preview",
            "cache off",
            "towncrier --draft",
            "preview / draft",
            "cpu: preview / draft",
        ],
        rows,
        frozenset(range(1, 8)),
    )


def workspace_line(workspace: dict[str, Any]) -> str:
    """The generated workspace in one sentence."""
    return (
        f"a uv workspace of {workspace['packages']} packages: {workspace['commits']:,} commits, "
        f"{workspace['tags']:,} release tags and {workspace['fragments']:,} unreleased "
        f"fragments in total, the fragments in {workspace['packages_with_fragments']} of the "
        f"packages (generated in {workspace['generation_s']:.1f} s)"
    )


def workspace_table(results: dict[str, Any]) -> Table:
    """``release preview`` at the workspace's root: its times, or why it could not run."""
    by = _by_tool_size(results)
    rows = []
    for tool in WORKSPACE_ROWS:
        cmd = by.get((tool, WORKSPACE_SIZE))
        if cmd is None:
            continue
        if cmd.get("unavailable") or not cmd.get("n"):
            why = str(cmd.get("unavailable") or "no samples").removeprefix("cannot run: ")
            if len(why) > FAILURE_CELL:
                why = why[: FAILURE_CELL - 3] + "..."
            rows.append([tool, "-", "-", "-", "-", f"failed: {why}"])
            continue
        rows.append(
            [
                tool,
                fmt_time(cmd["min_s"]),
                fmt_time(cmd["median_s"]),
                fmt_time(cmd["cpu_median_s"]),
                fmt_mb(cmd["max_rss_bytes"]),
                "ok",
            ]
        )
    return Table(
        ["command", "min", "median", "cpu median", "peak RSS", "result"],
        rows,
        frozenset({1, 2, 3, 4}),
    )


def _row_of(cmd: dict[str, Any] | None, base: dict[str, Any] | None, base_name: str) -> list[str]:
    if cmd is None:
        return ["-", "-", "-"]
    if cmd.get("unavailable"):
        return ["unavailable", "", ""]
    ratio = ""
    base_median = None if base is None else _median(base)
    if base is not None and base is not cmd and base_median:
        ratio = f"{fmt_ratio(cmd['median_s'] / base_median)} {base_name}"
    return [fmt_time(cmd["min_s"]), fmt_time(cmd["median_s"]), ratio]


def startup_build_table(results: dict[str, Any]) -> Table:
    by = _by_tool_size(results)
    rows = []
    python = by.get(("python -c pass", None))
    for tool, base, base_name in (
        ("python -c pass", python, ""),
        ("release --help", python, "python -c pass"),
        (BUILD_STAGE, by.get(("uv build", None)), "uv build"),
        (BUILD_VERIFY, by.get(("uv build", None)), "uv build"),
        (OLD_BUILD_STAGE, by.get(("uv build", None)), "uv build"),
        ("uv build", None, ""),
        ("python -m build", by.get(("uv build", None)), "uv build"),
        (LOCAL_RELEASE, by.get((BY_HAND, None)), "by hand"),
        (BY_HAND, None, ""),
    ):
        cmd = by.get((tool, None))
        if cmd is not None:
            rows.append([tool, *_row_of(cmd, base, base_name)])
    return Table(["command", "min", "median", "ratio of medians"], rows, frozenset({1, 2}))


def memory_table(results: dict[str, Any], size: str) -> Table:
    by = _by_tool_size(results)
    rows = []
    for tool in TOOL_ROWS:
        cmd = by.get((tool, size))
        if cmd is None:
            continue
        if cmd.get("unavailable"):
            rows.append([tool, "unavailable", ""])
        else:
            rows.append([tool, fmt_mb(cmd["max_rss_bytes"]), fmt_mb(cmd["median_rss_bytes"])])
    return Table(["command", "peak RSS (max)", "median"], rows, frozenset({1, 2}))


def detail_table(results: dict[str, Any]) -> Table:
    rows = []
    for label, cmd in results["commands"].items():
        if cmd.get("unavailable") and not cmd.get("n"):
            rows.append([label, "-", "unavailable", "", "", ""])
            continue
        rows.append(
            [
                label,
                f"{cmd['n']}+{cmd['warmup']}",
                fmt_time(cmd["min_s"]),
                fmt_time(cmd["median_s"]),
                fmt_time(cmd["cpu_median_s"]),
                fmt_mb(cmd["max_rss_bytes"]),
            ]
        )
    return Table(
        ["command", "runs+warm-ups", "min", "median", "cpu median", "peak RSS"],
        rows,
        frozenset({1, 2, 3, 4, 5}),
    )


def check_line(check: dict[str, Any]) -> str:
    value, limit, unit = check["value"], check["limit"], check["unit"]
    if value is None:
        verdict = "(information, not a target)" if check.get("info") else "FAIL"
        return f"{check['name']}: not measured ({check['detail']})  {verdict}"
    if unit == "s":
        shown, bound = fmt_time(value), fmt_time(limit)
    elif unit == "MB":
        shown, bound = fmt_mb(value), fmt_mb(limit)
    elif limit < 0.1:
        shown, bound = f"{value:.4f} (1/{1 / value:.0f})" if value else "0", f"{limit:g}"
    else:
        shown, bound = f"{value:.2f}", f"{limit:g}"
    detail = f" ({check['detail']})" if check.get("detail") else ""
    if check.get("info"):
        return f"{check['name']}: {shown}{detail}  (information, not a target)"
    return f"{check['name']}: {shown} <= {bound}{detail}  {'PASS' if check['pass'] else 'FAIL'}"


def unavailable_lines(results: dict[str, Any]) -> list[str]:
    return [
        f"{label}: {cmd['unavailable']}"
        for label, cmd in results["commands"].items()
        if cmd.get("unavailable")
    ]


def _load(values: Sequence[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "unknown"


def machine_lines(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    load = results["load"]
    memory = f"{m['memory_bytes'] / 2**30:.1f} GiB" if m.get("memory_bytes") else "unknown"
    tools = ", ".join(f"{k} {v}" for k, v in m.get("tools", {}).items())
    samples = load.get("samples_1min") or []
    during = (
        f"1-minute load min {min(samples):.2f} / median {statistics.median(samples):.2f} / "
        f"max {max(samples):.2f} over the run"
        if samples
        else "unknown"
    )
    return [
        f"date: {results['date']} (the run took {results['duration_s'] / 60:.1f} min)",
        f"CPUs: {m['nproc']} ({m['cpu_model']}), memory {memory}",
        f"platform: {m['platform']}",
        f"Python {m['python']} ({m['python_implementation']}), {m['git']}",
        f"load average (1, 5, 15 min): {_load(load['before'])} before, "
        f"{_load(load['after'])} after; {during}",
        f"release-pipeline {m.get('release_pipeline')}; release build installs with "
        f"{m.get('release_build_installer')}",
        f"tools (bench/tools-requirements.txt): {tools}",
    ]


def settings_line(results: dict[str, Any]) -> str:
    s = results["settings"]
    groups = set(s["groups"])
    runs = [f"release, python and the floor {s['repeat']} (+{s['warmup']})"]
    if "tools" in groups:
        runs.append(
            f"commitizen, bump-my-version and towncrier {s['tool_repeat']} (+{s['tool_warmup']}); "
            f"python-semantic-release, the slowest, only {s['slow_repeat']} (+{s['slow_warmup']})"
        )
    if "build" in groups:
        runs.append(f"each build {s['build_repeat']} (+{s['slow_warmup']})")
    if "local-release" in groups:
        runs.append(
            f"the local release and the same by hand {s.get('release_repeat')} "
            f"(+{s['slow_warmup']}), each run on a fresh sample project made untimed"
        )
    if "conformance" in groups:
        runs.append(
            f"on each conformance project, release preview (cache warm and off) and "
            f"towncrier's draft {s['repeat']} (+{s['warmup']})"
        )
    if "workspace" in groups:
        runs.append(f"at the workspace's root, each release preview {s['repeat']} (+{s['warmup']})")
    return (
        f"Rounds alternate the commands in a shuffled order (seed {s['seed']}); every command "
        f"ran once untimed as a check first. Timed runs (+ warm-ups), each command's spread "
        f"evenly over the rounds: {'; '.join(runs)}."
    )


def text_report(results: dict[str, Any]) -> str:
    largest = results.get("largest")
    parts = [
        *machine_lines(results),
        "",
        settings_line(results),
        "",
    ]
    if results["repos"]:
        parts += [
            repo_table(results).text(),
            "",
            "Read-only commands, median wall time (in brackets: x `release preview` on the "
            "same repository):",
            tools_table(results).text(),
            "",
        ]
    if results.get("conformance"):
        parts += [
            f"Conformance projects: `{CONF_PREVIEW}` against `{CONF_DRAFT}`, median wall "
            "time, and the ratios of the medians:",
            conformance_table(results).text(),
            "",
        ]
    if results.get("workspace"):
        parts += [
            f"At the root of {workspace_line(results['workspace'])}:",
            workspace_table(results).text(),
            "",
        ]
    startup_build = startup_build_table(results)
    if startup_build.rows:
        parts.append(startup_build.text())
    if largest:
        parts += ["", f"Peak memory on the {largest} repository:"]
        parts.append(memory_table(results, largest).text())
    parts += ["", "Every command:", detail_table(results).text()]
    missing = unavailable_lines(results)
    if missing:
        parts += ["", "Could not run:", *(f"  {line}" for line in missing)]
    parts += ["", *(check_line(c) for c in results["checks"])]
    return "\n".join(parts)


def markdown_report(results: dict[str, Any]) -> str:
    """The whole of docs/performance.md."""
    largest = results.get("largest")
    checks = results["checks"]
    targets = [c for c in checks if not c.get("info")]
    passed = sum(1 for c in targets if c["pass"])
    lines = [
        "# Performance",
        "",
        "<!-- Generated by bench/run_bench.py from bench/results.json; do not edit by hand. "
        "Run `nox -s bench` to measure again. -->",
        "",
        "How `release` compares with the tools users would pick instead, measured side by "
        "side in one run (`nox -s bench`, see bench/README.md) on synthetic repositories of "
        "a sample project with conventional-commit history, annotated release tags and "
        "towncrier fragments. Each tool is configured in the repositories' `pyproject.toml` "
        "as a user of it would, and runs from its own virtual environment at the versions "
        "pinned in `bench/tools-requirements.txt`.",
        "",
        f"Targets: {passed} of {len(targets)} met in this run.",
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine_lines(results)),
        "",
        "The machine is shared with other work; the load average above shows how much. "
        "Wall times on a loaded machine are inflated, for every command alike (the commands "
        "alternate within each round); the minimum and CPU columns below are disturbed less.",
        "",
    ]
    if results["repos"]:
        lines += [
            "## Repositories",
            "",
            repo_table(results).markdown(),
            "",
            "## Read-only commands",
            "",
            "Median wall time; in brackets, the ratio to `release preview` on the same "
            "repository. The floor is what any tool must pay: start Python, find the last "
            "tag, read the commits since it.",
            "",
            tools_table(results).markdown(),
            "",
        ]
    if results.get("conformance"):
        lines += [
            "## Conformance projects",
            "",
            f"On each conformance fixture (`tests/conformance/fixtures`: a real project that "
            f"uses towncrier reduced to its configuration, fragment names and tag history, "
            f"materialised as a git repository by the conformance harness) and each real "
            f"clone given: `{CONF_PREVIEW}` against `{CONF_DRAFT}` in the project's "
            f"directory, both from the same environment (the same towncrier). The cache-off "
            f"row computes towncrier's answers afresh on every run. Median wall time; the "
            f"target is the ratio of the medians; the ratio of the CPU medians is shown for "
            f"information.",
            "",
            conformance_table(results).markdown(),
            "",
        ]
    if results.get("workspace"):
        lines += [
            "## Workspace",
            "",
            f"`release preview` at the root of {workspace_line(results['workspace'])}. Each "
            "package (`packages/pkg-NN`) has its own `pyproject.toml` with a static version, "
            "towncrier configuration, `CHANGELOG.md`, `changelog.d/` and release tags "
            "`pkg-NN-vX.Y.Z`; some depend on others. The preview must exit 0 and name every "
            "package with fragments; a preview that cannot is listed with its exit status and "
            "the first line of its error output, and its target fails.",
            "",
            workspace_table(results).markdown(),
            "",
        ]
    lines += [
        "## Start-up and build",
        "",
        "The build stage is `release build --no-verify` on a sample project made by "
        "`release.demo.create_sample_project`: it builds HEAD as the release's build stage "
        "does, from a clean worktree export, the sdist and then the wheel from the sdist, in "
        "one isolated environment (made with uv). `release build` adds the verify stage's "
        "checks (twine check, the metadata name), shown for information. `uv build` "
        "(default isolation) and `python -m build` build the same project from its work "
        "tree.",
        "",
        "The full local release is `release -c next-dev=true run --yes` (check, prepare, tag, "
        "build, verify, push, post; nothing to publish to) on a fresh sample project with two "
        "fragments; by hand is the same work as subprocesses in sequence on an identical "
        "project: `towncrier build --yes`, a version edit, `git add -A`, `git commit`, "
        "`git tag -a`, `python -m build` (pip, the tools' environment), `twine check`, "
        "`git push --atomic`, then the development version edit, `git commit -a` and "
        "`git push`. Each run gets a new project, made untimed.",
        "",
        startup_build_table(results).markdown(),
        "",
    ]
    if largest:
        lines += [
            f"## Peak memory on the {largest} repository",
            "",
            "Maximum resident set size of the command's process tree as the kernel reports "
            "it (`os.wait4`): the peak of the largest single process, not a sum.",
            "",
            memory_table(results, largest).markdown(),
            "",
        ]
    lines += [
        "## Targets",
        "",
        "```text",
        *(check_line(c) for c in checks),
        "```",
        "",
        "## Every command",
        "",
        settings_line(results),
        "",
        detail_table(results).markdown(),
        "",
    ]
    missing = unavailable_lines(results)
    if missing:
        lines += ["## Could not run", "", *(f"- {line}" for line in missing), ""]
    return "\n".join(lines)
