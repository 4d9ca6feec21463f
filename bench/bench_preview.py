"""The quick benchmark: ``release preview`` and ``release --help`` only, no other tools.

A shortcut for ``run_bench.py --only preview,startup --sizes
small,large,small-1k-fragments``; any other ``run_bench.py`` argument may follow
(``-n``, ``--warmup``, ``--sizes``, ``--output``, ``--report-only``...).  Results go
to ``bench/.cache/results-partial.json`` unless ``--output`` says otherwise;
``bench/results.json`` and ``docs/performance.md`` are written only by a complete run
(``nox -s bench``).

Usage::

    python bench/bench_preview.py [-n 15] [--sizes small,large,small-1k-fragments]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

# run_bench is a sibling script, not a package module.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_bench


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    defaults = ["--only", "preview,startup"]
    if not any(a == "--sizes" or a.startswith("--sizes=") for a in args):
        defaults += ["--sizes", "small,large,small-1k-fragments"]
    return run_bench.main([*defaults, *args])


if __name__ == "__main__":
    raise SystemExit(main())
