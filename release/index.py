"""Moved to :mod:`release.ops.index`.

This name remains only because :mod:`release.facts`, which is being rewritten, imports
it; point that import at ``release.ops.index`` and delete this module.
"""

from release.ops.index import IndexError_, read_files

__all__ = ["IndexError_", "read_files"]
