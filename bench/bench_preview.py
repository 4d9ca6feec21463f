"""Benchmark ``release preview`` against the performance targets.

Runs every command as a subprocess of this Python (the ``release`` console script
next to ``sys.executable``), alternating the commands within each round (in a
shuffled order, so no command always runs after the same neighbour), after
warm-up rounds.  Reports the minimum and median wall time (and the median CPU
time of the child, which a busy machine disturbs less), checks the targets and
writes ``bench/results.json``.

Usage::

    python bench/bench_preview.py [-n 15] [--warmup 2] [--output bench/results.json]
    nox -s bench -- -n 30
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# gen_repo is a sibling script, not a package module.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_repo

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results.json"

PYCACHE = HERE / ".cache" / "pycache"

HELP_OVER_PYTHON_MAX = 4.0
PREVIEW_LARGE_MAX_S = 0.25
LARGE_OVER_SMALL_MAX = 1.3


def child_env() -> dict[str, str]:
    """This environment, but with bytecode cached (as users have it), outside the source tree.

    With ``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` every run would compile
    every module again; the warm-up rounds fill ``bench/.cache/pycache`` instead.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


ENV = child_env()


@dataclass
class Command:
    label: str
    argv: list[str]
    cwd: Path | None = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        return {
            "argv": self.argv,
            "cwd": None if self.cwd is None else str(self.cwd),
            "min_s": min(self.wall),
            "median_s": statistics.median(self.wall),
            "mean_s": statistics.fmean(self.wall),
            "cpu_median_s": statistics.median(self.cpu),
            "samples_s": [round(t, 6) for t in self.wall],
            "cpu_samples_s": [round(t, 6) for t in self.cpu],
        }


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    limit: float
    unit: str

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        shown = f"{self.value:.3f} s" if self.unit == "s" else f"{self.value:.2f}"
        limit = f"{self.limit:g} s" if self.unit == "s" else f"{self.limit:g}"
        return f"{self.name}: {shown} <= {limit}  {'PASS' if self.passed else 'FAIL'}"


def release_argv() -> list[str]:
    """The ``release`` console script of this Python's environment, else ``-m release``."""
    bindir = Path(sys.executable).parent
    for name in ("release", "release.exe"):
        script = bindir / name
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "release"]


def run_once(cmd: Command) -> tuple[float, float, int]:
    """Wall and child CPU seconds of one run, and its exit status (stdout discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        cmd.argv,
        cwd=cmd.cwd,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def sanity_check(cmd: Command) -> str | None:
    """Why the command's output shows it did not do its job, or ``None``."""
    done = subprocess.run(
        cmd.argv, cwd=cmd.cwd, env=ENV, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"exit status {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    if "--json" in cmd.argv:
        data = json.loads(done.stdout)
        if not data.get("ok") or data.get("plan") is None:
            return f"--json says ok={data.get('ok')}: {data.get('problems')}"
    elif "preview" in cmd.argv and not done.stdout.strip():
        return "no output"
    return None


def machine() -> dict[str, Any]:
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "git": git.stdout.strip(),
        "loadavg": _loadavg(),
        "pycache_prefix": ENV["PYTHONPYCACHEPREFIX"],
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def checks(by_label: dict[str, Command]) -> list[Check]:
    def median(label: str) -> float:
        return statistics.median(by_label[label].wall)

    found = [
        Check(
            "`release --help` / `python -c pass` (median)",
            median("release --help") / median("python -c pass"),
            HELP_OVER_PYTHON_MAX,
            "x",
        )
    ]
    for flag in ("", " --json"):
        large, small = f"release preview{flag} (large)", f"release preview{flag} (small)"
        if large in by_label:
            found.append(
                Check(
                    f"`release preview{flag}` on large, median",
                    median(large),
                    PREVIEW_LARGE_MAX_S,
                    "s",
                )
            )
        if large in by_label and small in by_label:
            found.append(
                Check(
                    f"`release preview{flag}` large / small (median)",
                    median(large) / median(small),
                    LARGE_OVER_SMALL_MAX,
                    "x",
                )
            )
    return found


def table(commands: Sequence[Command]) -> str:
    width = max(len(c.label) for c in commands)
    lines = [
        f"{'command':<{width}}  {'min':>9}  {'median':>9}  {'cpu med':>9}",
        f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 9}",
    ]
    for c in commands:
        lines.append(
            f"{c.label:<{width}}  {min(c.wall) * 1000:>6.1f} ms  "
            f"{statistics.median(c.wall) * 1000:>6.1f} ms  "
            f"{statistics.median(c.cpu) * 1000:>6.1f} ms"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", "--repeat", type=int, default=15, help="timed rounds (default: 15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default: 2)")
    parser.add_argument(
        "--sizes",
        default="small,large",
        help="comma-separated repository sizes (default: small,large)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the results (default: bench/results.json)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even when a target is missed"
    )
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in gen_repo.SIZES]
    if unknown or args.repeat < 1 or args.warmup < 0:
        parser.error(f"unknown size(s) {unknown}" if unknown else "bad --repeat or --warmup")

    repos: dict[str, dict[str, Any]] = {}
    for size in sizes:
        params = gen_repo.SIZES[size]
        path = gen_repo.ensure(params)
        marker = path.parent / "complete"
        repos[size] = {
            "commits": params.commits,
            "tags": params.tags,
            "fragments": params.fragments,
            "seed": params.seed,
            "path": str(path),
            "generation_s": float(marker.read_text(encoding="ascii")),
        }

    release = release_argv()
    commands = [
        Command("python -c pass", [sys.executable, "-c", "pass"]),
        Command("release --help", [*release, "--help"]),
    ]
    for size in sizes:
        for flag in ([], ["--json"]):
            label = " ".join(["release preview", *flag]) + f" ({size})"
            commands.append(Command(label, [*release, "preview", *flag], Path(repos[size]["path"])))

    for cmd in commands:
        problem = sanity_check(cmd)
        if problem:
            print(f"{cmd.label} does not work in {cmd.cwd}: {problem}", file=sys.stderr)
            return 2

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = _loadavg()
    rng = random.Random(0)
    for round_no in range(args.warmup + args.repeat):
        order = commands[:]
        rng.shuffle(order)
        for cmd in order:
            wall, cpu, code = run_once(cmd)
            if code != 0:
                print(f"{cmd.label} exited with status {code}", file=sys.stderr)
                return 2
            if round_no >= args.warmup:
                cmd.wall.append(wall)
                cmd.cpu.append(cpu)

    print(
        f"{args.repeat} rounds after {args.warmup} warm-up rounds, commands alternating; "
        f"{os.cpu_count()} CPUs, load average {load_before} -> {_loadavg()}"
    )
    print(table(commands))
    print()
    by_label = {c.label: c for c in commands}
    found = checks(by_label)
    for check in found:
        print(check.line())

    results = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "repetitions": args.repeat,
        "warmups": args.warmup,
        "repos": repos,
        "commands": {c.label: c.stats() for c in commands},
        "checks": [
            {"name": c.name, "value": c.value, "limit": c.limit, "pass": c.passed} for c in found
        ],
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")
    return 0 if args.report_only or all(c.passed for c in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
