"""Where does ``release preview`` spend its time?  Imports, git, and Python work.

Three measurements on a generated repository (``large`` by default), or in any
project directory (``--dir``: a conformance fixture materialised by ``run_bench.py``
under ``bench/.cache/conformance/``, a clone), each the minimum over ``-n`` runs so
that a busy machine disturbs them less:

1. ``python -X importtime -m release preview`` in a subprocess: the modules the
   command imports, with their cumulative import time;
2. the command run in this process (after a warm-up run, so imports are done):
   every subprocess it starts (``git ...``) with its wall time, and the Python work
   left over;
3. ``cProfile`` of one warm in-process run: the functions of ``release``,
   ``towncrier`` and ``jinja2`` with the most cumulative time.

Usage::

    python bench/profile_preview.py [--size large|small] [-n 10] [-- preview --json]
    python bench/profile_preview.py --dir bench/.cache/conformance/twisted/twisted -- preview 99.0.0
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# gen_repo and measure are sibling scripts, not package modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_repo
from measure import ENV

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@dataclass
class ImportRow:
    module: str
    depth: int
    self_us: int
    cumulative_us: int
    children: list[ImportRow] = field(default_factory=list)


def import_tree(rows: list[ImportRow]) -> list[ImportRow]:
    """The top-level imports, each with its children (importtime prints children first)."""
    stack: list[ImportRow] = []
    for row in rows:
        children: list[ImportRow] = []
        while stack and stack[-1].depth > row.depth:
            children.insert(0, stack.pop())
        row.children = children
        stack.append(row)
    return stack


def import_times(repo: Path, command: Sequence[str], runs: int) -> list[ImportRow]:
    """The import tree of one run, each time the minimum over ``runs`` runs."""
    best: dict[str, ImportRow] = {}
    order: list[str] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "release", *command],
            cwd=repo,
            env=ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        order = []
        for line in done.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if not match:
                continue
            name = match[4]
            row = ImportRow(name, len(match[3]) // 2, int(match[1]), int(match[2]))
            order.append(name)
            old = best.get(name)
            if old is None or row.cumulative_us < old.cumulative_us:
                best[name] = row
    return [best[name] for name in order]


def print_imports(rows: list[ImportRow], threshold_ms: float, max_depth: int) -> None:
    top = import_tree(rows)
    total = sum(r.cumulative_us for r in top) / 1000
    print(f"## Imports (python -X importtime; min of runs): {total:.1f} ms in all")
    print(f"Imports of at least {threshold_ms:g} ms, cumulative ms (parents before children):")

    def show(row: ImportRow) -> None:
        if row.depth > max_depth or row.cumulative_us / 1000 < threshold_ms:
            return
        print(f"  {row.cumulative_us / 1000:7.1f}  {'  ' * row.depth}{row.module}")
        for child in row.children:
            show(child)

    for row in top:
        show(row)
    groups: dict[str, float] = defaultdict(float)
    for row in top:
        groups[row.module.split(".")[0]] += row.cumulative_us / 1000
    print("By top-level package (cumulative ms, where the first import happened):")
    for name, ms in sorted(groups.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {ms:7.1f}  {name}")
    print()


def _run_cli(repo: Path, command: Sequence[str]) -> int:
    from release.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["-C", str(repo), *command])


def subprocess_times(repo: Path, command: Sequence[str], runs: int) -> None:
    """Run the command in-process, timing each subprocess it starts."""
    calls: list[tuple[str, float]] = []
    real_run: Callable[..., Any] = subprocess.run

    def timed_run(args: Any, *a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return real_run(args, *a, **kw)
        finally:
            shown = " ".join(str(x) for x in args) if not isinstance(args, str) else args
            calls.append((shown, time.perf_counter() - start))

    os.environ.update({k: v for k, v in ENV.items() if k.startswith("PYTHON")})
    _run_cli(repo, command)  # warm-up: imports, file system caches
    best_total = float("inf")
    best_calls: dict[str, float] = {}
    order: list[str] = []
    subprocess.run = timed_run
    try:
        for _ in range(runs):
            calls.clear()
            start = time.perf_counter()
            code = _run_cli(repo, command)
            best_total = min(best_total, time.perf_counter() - start)
            order = [c for c, _ in calls]
            for shown, elapsed in calls:
                best_calls[shown] = min(best_calls.get(shown, float("inf")), elapsed)
    finally:
        subprocess.run = real_run
    in_git = sum(best_calls[c] for c in order)
    print(
        f"## In-process run after imports (min of runs; exit status {code}): "
        f"{best_total * 1000:.1f} ms"
    )
    print(f"Subprocesses, in order ({len(order)}, {in_git * 1000:.1f} ms):")
    for shown in order:
        print(f"  {best_calls[shown] * 1000:7.1f}  {shown[:110]}")
    print(f"Python work besides subprocesses: about {(best_total - in_git) * 1000:.1f} ms")
    print()


def profile(repo: Path, command: Sequence[str], top: int) -> None:
    _run_cli(repo, command)
    profiler = cProfile.Profile()
    profiler.enable()
    _run_cli(repo, command)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"release/|towncrier|jinja2|json|difflib", top)
    print("## cProfile of a warm in-process run (cumulative; profiling overhead included)")
    text = out.getvalue()
    print(text[text.find("   ncalls") :].rstrip())
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--size",
        default="large",
        choices=sorted(gen_repo.SIZES),
        help="the generated repository (default: large)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        help="profile in this project directory instead of a generated repository",
    )
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument(
        "--threshold",
        type=float,
        default=2.0,
        help="show imports costing at least this many ms (default: 2)",
    )
    parser.add_argument("--depth", type=int, default=2, help="import tree depth shown")
    parser.add_argument("--top", type=int, default=35, help="cProfile rows shown")
    parser.add_argument(
        "command", nargs="*", default=["preview"], help="release arguments (default: preview)"
    )
    args = parser.parse_args(argv)
    repo = args.dir.resolve() if args.dir else gen_repo.ensure(gen_repo.SIZES[args.size])
    print(f"# release {' '.join(args.command)} in {repo}\n")
    print_imports(import_times(repo, args.command, args.runs), args.threshold, args.depth)
    subprocess_times(repo, args.command, args.runs)
    profile(repo, args.command, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
