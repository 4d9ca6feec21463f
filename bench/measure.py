"""How the benchmark runs a command and what it records: wall, CPU and peak memory.

Every run is a subprocess, started by a small launcher and reaped with ``os.wait4`` so
that the kernel reports the child's resource usage directly: user + system CPU time and
the maximum resident set size (``ru_maxrss``), both including the child's own
(waited-for) subprocesses.  ``ru_maxrss`` is the peak of the largest single process in
that tree, not a sum over processes that ran at the same time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYCACHE = HERE / ".cache" / "pycache"
RELEASE_CACHE = HERE / ".cache" / "release-cache"


def child_env() -> dict[str, str]:
    """This environment, but with bytecode cached (as users have it), outside the source tree.

    With ``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` every run would compile
    every module again; the check and warm-up runs fill ``bench/.cache/pycache`` instead
    (for every tool alike: the tools' environment is installed without bytecode).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    # release's cache of towncrier's answers, filled by the check and warm-up runs like
    # the bytecode; the "cache off" rows show the cost without it.
    env["RELEASE_PIPELINE_CACHE_DIR"] = str(RELEASE_CACHE)
    env.pop("RELEASE_PIPELINE_NO_CACHE", None)
    return env


ENV = child_env()


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + system, the child and its waited-for children
    rss: int  # bytes, the largest peak resident set size of one process in the tree
    returncode: int


# Runs in a small Python of its own (``-I -S``): the kernel counts the memory image a
# child starts from (its parent's, shared until ``exec``) in the child's ``ru_maxrss``,
# so spawning straight from this process, whose memory grows with the samples, would
# put a floor of this process's size under every reading.  The launcher is about as
# big as a bare ``python -c pass``; its own start-up is outside the times it reports.
LAUNCHER = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
if spec["cwd"]:
    os.chdir(spec["cwd"])
null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY if fd else os.O_RDONLY, 0)
        for fd in (0, 1, 2)]
wall = cpu = 0.0
rss = code = 0
for argv in spec["steps"]:
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=null)
    except OSError:
        code = 127
        break
    _, status, usage = os.wait4(pid, 0)
    wall += time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    cpu += usage.ru_utime + usage.ru_stime
    rss = max(rss, usage.ru_maxrss)
    if code:
        break
print(json.dumps([wall, cpu, rss, code]))
"""


def run_once(
    steps: Sequence[Sequence[str]], cwd: Path | None, env: dict[str, str] | None = None
) -> Sample:
    """Run ``steps`` one after the other (output discarded); stop at the first failure.

    The steps run from the launcher, which reaps each with ``os.wait4`` and reports its
    wall time, CPU time and peak RSS.
    """
    spec = json.dumps({"cwd": None if cwd is None else str(cwd), "steps": [list(a) for a in steps]})
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, spec],
        env=ENV if env is None else env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the launcher failed: {done.stderr.strip()}")
    wall, cpu, maxrss, code = json.loads(done.stdout)
    # Linux reports kibibytes, macOS bytes.
    rss = int(maxrss) * (1 if sys.platform == "darwin" else 1024)
    return Sample(float(wall), float(cpu), rss, int(code))


def run_captured(
    steps: Sequence[Sequence[str]], cwd: Path | None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``steps`` keeping their output: (first non-zero status or 0, stdout, stderr)."""
    out: list[str] = []
    err: list[str] = []
    for argv in steps:
        try:
            done = subprocess.run(
                list(argv),
                cwd=cwd,
                env=ENV if env is None else {**ENV, **env},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
        except OSError as exc:
            return 127, "".join(out), f"{''.join(err)}{argv[0]}: {exc.strerror}"
        out.append(done.stdout)
        err.append(done.stderr)
        if done.returncode != 0:
            return done.returncode, "".join(out), "".join(err)
    return 0, "".join(out), "".join(err)


#: Checks a command's captured (status, stdout, stderr); returns why it failed, or None.
Validator = Callable[[int, str, str], "str | None"]


@dataclass
class Command:
    """One command of the benchmark and its samples."""

    label: str
    group: str  # preview | tools | startup | build | local-release | conformance | workspace
    tool: str  # the row of the summary table, e.g. "release preview"
    steps: list[list[str]]
    cwd: Path | None = None
    size: str | None = None  # the repository size, for the commands run on one
    repeat: int = 15
    warmup: int = 2
    ok_codes: frozenset[int] = frozenset({0})
    validate: Validator | None = None
    cleanup: Callable[[], None] | None = None  # after every run, untimed
    unavailable: str | None = None  # why the command cannot be timed
    env: dict[str, str] | None = None  # variables set for this command only
    # What a failed check run says; default: the status and the last lines of output.
    describe_failure: Callable[[int, str, str], str] | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def timed(self) -> bool:
        return self.unavailable is None and bool(self.samples)

    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    def peak_rss(self) -> int:
        return max(s.rss for s in self.samples)

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "group": self.group,
            "tool": self.tool,
            "size": self.size,
            "steps": self.steps,
            "cwd": None if self.cwd is None else str(self.cwd),
            "repeat": self.repeat,
            "warmup": self.warmup,
            "unavailable": self.unavailable,
        }
        if self.samples:
            walls = [s.wall for s in self.samples]
            data.update(
                {
                    "n": len(walls),
                    "min_s": min(walls),
                    "median_s": statistics.median(walls),
                    "mean_s": statistics.fmean(walls),
                    "cpu_median_s": statistics.median(s.cpu for s in self.samples),
                    "max_rss_bytes": self.peak_rss(),
                    "median_rss_bytes": statistics.median(s.rss for s in self.samples),
                    "samples_s": [round(w, 6) for w in walls],
                    "cpu_samples_s": [round(s.cpu, 6) for s in self.samples],
                    "rss_samples_bytes": [s.rss for s in self.samples],
                }
            )
        return data


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _first_line(argv: Sequence[str]) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


def machine() -> dict[str, Any]:
    """The machine the numbers come from."""
    cpu_model = platform.processor() or platform.machine()
    memory = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory_bytes": memory,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "git": _first_line(["git", "--version"]),
        "pycache_prefix": ENV["PYTHONPYCACHEPREFIX"],
    }
