"""Error types: each carries a user-facing message, a hint and an exit status.

One place (``release.cli``) maps them to exit codes; nothing else prints them.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_NOTHING_TO_RELEASE = 3  # release ci and pr only: the run is not for a release


class ReleaseError(Exception):
    """Base of every error the tool reports to a person."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UsageError(ReleaseError):
    """The command line asked for something that cannot be done."""


class ConfigError(ReleaseError):
    """``[tool.release]``, ``[tool.towncrier]`` or a file they name is wrong."""


class VersionError(ReleaseError):
    """A version string is malformed, or a requested version is not allowed."""


class FragmentError(ReleaseError):
    """A changelog fragment is invalid (unknown type, duplicate, unsafe path, encoding)."""


class NothingToRelease(ReleaseError):
    """Nothing calls for a release: no version, level, fragment or commit (``release run``,
    ``preview``), or no release tag (``release ci``, which says so with its own status)."""

    exit_code = EXIT_CHECK_FAILED


class GitError(ReleaseError):
    """Git is missing, or the directory is not a usable git repository."""


class CommandError(ReleaseError):
    """A subprocess exited with a non-zero status."""

    exit_code = EXIT_CHECK_FAILED

    def __init__(self, argv: list[str], returncode: int, output: str) -> None:
        shown = " ".join(argv)
        super().__init__(
            f"Command `{shown}` failed with exit status {returncode}.",
            f"Its output was:\n{output.strip()}" if output.strip() else "",
        )
        self.argv = argv
        self.returncode = returncode
        self.output = output
