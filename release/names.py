"""Project names as an index compares them (PEP 503), without importing packaging.utils:
it imports packaging's wheel-tag machinery, a cost paid on every preview of a workspace
for two regular expressions."""

from __future__ import annotations

import re

_NORMALISE = re.compile(r"[-_.]+")
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def normalised(name: str) -> str:
    """A project name as PEP 503 compares it (and as uv writes it): ``My_Pkg`` -> ``my-pkg``."""
    return _NORMALISE.sub("-", name).lower()


def is_project_name(name: str) -> bool:
    """Whether ``name`` is a valid project name (the core metadata's rule)."""
    return _PROJECT_NAME.match(name) is not None
