"""release-pipeline: staged, resumable, previewable releases of Python packages.

The public API is imported lazily so that ``release --help`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = ["Facts", "Plan", "ReleaseError", "Request", "__version__", "build_plan", "gather"]

if TYPE_CHECKING:
    from release.errors import ReleaseError
    from release.facts import Facts, gather
    from release.plan import Plan, Request
    from release.plan import build as build_plan

_LAZY = {
    "Facts": ("release.facts", "Facts"),
    "gather": ("release.facts", "gather"),
    "Plan": ("release.plan", "Plan"),
    "Request": ("release.plan", "Request"),
    "build_plan": ("release.plan", "build"),
    "ReleaseError": ("release.errors", "ReleaseError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'release' has no attribute {name!r}")
