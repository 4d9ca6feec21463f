"""The CI systems ``release ci`` runs in, and everything that differs between them.

How a run names the tag it is for, which project it runs for, the token a job gets for
its project, where a job's outputs go, and how a job holds the OIDC identity that PyPI's
trusted publishing trades for an upload token (twine makes the trade, through the ``id``
package): each is a method of one class per CI system, chosen from :data:`SYSTEMS` by
:func:`detect`.  Nothing else in release-pipeline reads a CI system's variables.  Adding a
CI system is one class and one line in :data:`SYSTEMS`.

Importing this module costs nothing: it imports only the standard library and
release.errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from release.errors import UsageError

#: The outputs of a ``release ci`` job, by their GitHub step-output names, in order.
OUTPUT_NAMES = ("version", "tag", "is-prerelease", "released")

#: The dotenv report a GitLab CI job writes: relative to ``CI_PROJECT_DIR``, where GitLab
#: looks for the paths ``artifacts:reports:dotenv`` names (the generated .gitlab-ci.yml
#: declares this one).
GITLAB_DOTENV = "release.env"

#: The job's summary in Markdown (the release checklist) in a GitLab CI job: GitLab has no
#: job summary, so it is a file in ``CI_PROJECT_DIR`` that the generated .gitlab-ci.yml keeps
#: as an artifact (``artifacts:paths``, exposed in merge requests), failed jobs included.
GITLAB_SUMMARY = "release-summary.md"

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def id_token_variable(audience: str) -> str:
    """The variable a GitLab job's ID token for ``audience`` is read from, as the ``id``
    package names it: the audience upper-cased, every character other than an ASCII
    letter, digit or ``_`` (and a leading digit) replaced by ``_``, then ``_ID_TOKEN``:
    ``pypi`` -> ``PYPI_ID_TOKEN``, ``testpypi`` -> ``TESTPYPI_ID_TOKEN``."""
    return re.sub(r"[^A-Z0-9_]|^[^A-Z_]", "_", audience.upper()) + "_ID_TOKEN"


class CiSystem(Protocol):
    @property
    def name(self) -> str:
        """How messages name it: "GitHub Actions"."""

    @property
    def tag_variable(self) -> str:
        """The variable that names the tag of a run (for messages)."""

    def detected(self, environ: Mapping[str, str]) -> bool:
        """Whether this process runs in a job of this system."""

    def tag(self, environ: Mapping[str, str]) -> str | None:
        """The tag the run is for, or None when it is not for a tag."""

    def ref_described(self, environ: Mapping[str, str]) -> str:
        """What the run is for, when it is not for a tag: "GITHUB_REF is refs/heads/main"."""

    def branch(self, environ: Mapping[str, str]) -> str | None:
        """The branch a push run is for (a merged release pull request's), or None."""

    def project(self, environ: Mapping[str, str]) -> str | None:
        """The project the run is for on its forge ("group/sub/name"), when the system says."""

    def job_token(self, environ: Mapping[str, str]) -> str:
        """The token the system gives every job for its own project on the forge ("" when
        it gives none): what a forge uses when ``token-env`` is not set."""

    def id_token_ready(self, environ: Mapping[str, str], audience: str) -> bool:
        """Whether the job can get an OIDC token for ``audience`` (PyPI trusted publishing)."""

    def secret_variables(self, audiences: Iterable[str]) -> tuple[str, ...]:
        """The variables holding the job's OIDC credentials: masked in every output."""

    def trusted_publishing_hint(self, audience: str) -> str:
        """What a job of this system needs for trusted publishing to ``audience``."""

    def write_outputs(
        self, environ: Mapping[str, str], outputs: Mapping[str, str], summary: str
    ) -> Path | None:
        """Write the job's ``outputs`` (:data:`OUTPUT_NAMES` -> value) and its Markdown
        ``summary`` where this system takes them; the outputs' file, or None."""


def _write(path: Path, text: str, mode: str, what: str) -> None:
    try:
        with path.open(mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(
            f"Cannot write the job's {what} to {path}: {exc.strerror or exc}.",
            "The CI system names the file's directory: make sure it exists and is writable "
            "in the job.",
        ) from None


@dataclass(frozen=True)
class GitHubActions:
    """GitHub Actions: the tag from ``GITHUB_REF`` (``refs/tags/NAME``), step outputs appended
    to ``$GITHUB_OUTPUT``, a summary to ``$GITHUB_STEP_SUMMARY``; the OIDC token is requested
    at upload time with ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``..._TOKEN``, which a job has
    only with ``permissions: id-token: write``."""

    name: str = "GitHub Actions"
    tag_variable: str = "GITHUB_REF"

    def detected(self, environ: Mapping[str, str]) -> bool:
        # GITHUB_REF alone counts too: `env GITHUB_REF=refs/tags/v1.0 release ci` reproduces a
        # job's run by hand.
        return bool(environ.get("GITHUB_ACTIONS") or environ.get("GITHUB_REF"))

    def tag(self, environ: Mapping[str, str]) -> str | None:
        ref = environ.get("GITHUB_REF", "")
        return ref[len("refs/tags/") :] if ref.startswith("refs/tags/") else None

    def ref_described(self, environ: Mapping[str, str]) -> str:
        return f"GITHUB_REF is {environ.get('GITHUB_REF') or 'unset'}"

    def branch(self, environ: Mapping[str, str]) -> str | None:
        ref = environ.get("GITHUB_REF", "")
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None

    def project(self, environ: Mapping[str, str]) -> str | None:
        return environ.get("GITHUB_REPOSITORY") or None

    def job_token(self, environ: Mapping[str, str]) -> str:
        return ""  # GITHUB_TOKEN reaches a step only through `env:` in the workflow

    def id_token_ready(self, environ: Mapping[str, str], audience: str) -> bool:
        return bool(environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")) and bool(
            environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        )

    def secret_variables(self, audiences: Iterable[str]) -> tuple[str, ...]:
        return ("ACTIONS_ID_TOKEN_REQUEST_TOKEN",)

    def trusted_publishing_hint(self, audience: str) -> str:
        return "in GitHub Actions, PyPI trusted publishing needs `id-token: write`"

    def write_outputs(
        self, environ: Mapping[str, str], outputs: Mapping[str, str], summary: str
    ) -> Path | None:
        output = environ.get("GITHUB_OUTPUT")
        if output:
            text = "".join(f"{k}={v}\n" for k, v in outputs.items())
            _write(Path(output), text, "a", "outputs (GITHUB_OUTPUT)")
        step_summary = environ.get("GITHUB_STEP_SUMMARY")
        if step_summary and summary:
            _write(Path(step_summary), summary, "a", "summary (GITHUB_STEP_SUMMARY)")
        return Path(output) if output else None


@dataclass(frozen=True)
class GitLabCi:
    """GitLab CI: the tag from ``CI_COMMIT_TAG`` (set only in a pipeline for a tag), the
    project from ``CI_PROJECT_PATH``, the outputs as a dotenv report (:data:`GITLAB_DOTENV`
    in ``CI_PROJECT_DIR``, with names such as ``RELEASE_VERSION``) and the summary as the
    artifact :data:`GITLAB_SUMMARY` beside it; the OIDC token is the
    value of the job's ``id_tokens`` entry named for the audience (:func:`id_token_variable`),
    which is where the ``id`` package, and so twine, reads it."""

    name: str = "GitLab CI"
    tag_variable: str = "CI_COMMIT_TAG"

    def detected(self, environ: Mapping[str, str]) -> bool:
        return bool(environ.get("GITLAB_CI"))

    def tag(self, environ: Mapping[str, str]) -> str | None:
        return environ.get("CI_COMMIT_TAG") or None

    def ref_described(self, environ: Mapping[str, str]) -> str:
        ref = environ.get("CI_COMMIT_REF_NAME")
        return "CI_COMMIT_TAG is unset" + (f" in a pipeline for {ref}" if ref else "")

    def branch(self, environ: Mapping[str, str]) -> str | None:
        # Set in a branch pipeline only (not for a tag or a merge request pipeline).
        return environ.get("CI_COMMIT_BRANCH") or None

    def project(self, environ: Mapping[str, str]) -> str | None:
        return environ.get("CI_PROJECT_PATH") or None

    def job_token(self, environ: Mapping[str, str]) -> str:
        return environ.get("CI_JOB_TOKEN", "") if self.detected(environ) else ""

    def id_token_ready(self, environ: Mapping[str, str], audience: str) -> bool:
        return self.detected(environ) and bool(environ.get(id_token_variable(audience)))

    def secret_variables(self, audiences: Iterable[str]) -> tuple[str, ...]:
        return tuple(id_token_variable(audience) for audience in audiences)

    def trusted_publishing_hint(self, audience: str) -> str:
        return (
            f"in GitLab CI, the job needs the ID token `id_tokens: {id_token_variable(audience)}:"
            f" aud: {audience}`"
        )

    @staticmethod
    def output_name(name: str) -> str:
        """A dotenv variable for an output: ``is-prerelease`` -> ``RELEASE_IS_PRERELEASE``."""
        return "RELEASE_" + name.upper().replace("-", "_")

    def write_outputs(
        self, environ: Mapping[str, str], outputs: Mapping[str, str], summary: str
    ) -> Path | None:
        lines = []
        for name, value in outputs.items():
            key = self.output_name(name)
            # GitLab refuses the whole report for a bad name or a value on several lines.
            assert _VARIABLE_NAME.match(key), key
            assert "\n" not in value, (key, value)
            lines.append(f"{key}={value}\n")
        path = Path(environ.get("CI_PROJECT_DIR") or ".") / GITLAB_DOTENV
        _write(path, "".join(lines), "w", f"dotenv report ({GITLAB_DOTENV})")
        if summary:
            where = path.parent / GITLAB_SUMMARY
            _write(where, summary, "w", f"summary ({GITLAB_SUMMARY})")
        return path


@dataclass(frozen=True)
class NoCiSystem:
    """A run outside any CI system this module knows (a maintainer's shell)."""

    name: str = "no CI system"
    tag_variable: str = ""

    def detected(self, environ: Mapping[str, str]) -> bool:
        return True

    def tag(self, environ: Mapping[str, str]) -> str | None:
        return None

    def ref_described(self, environ: Mapping[str, str]) -> str:
        return " and ".join(system.tag_variable for system in SYSTEMS.values()) + " are unset"

    def branch(self, environ: Mapping[str, str]) -> str | None:
        return None

    def project(self, environ: Mapping[str, str]) -> str | None:
        return None

    def job_token(self, environ: Mapping[str, str]) -> str:
        return ""

    def id_token_ready(self, environ: Mapping[str, str], audience: str) -> bool:
        return False

    def secret_variables(self, audiences: Iterable[str]) -> tuple[str, ...]:
        return ()

    def trusted_publishing_hint(self, audience: str) -> str:
        return ""

    def write_outputs(
        self, environ: Mapping[str, str], outputs: Mapping[str, str], summary: str
    ) -> Path | None:
        return None


# The CI systems: the only place they are named. Detected in this order.
SYSTEMS: dict[str, CiSystem] = {
    "github": GitHubActions(),
    "gitlab": GitLabCi(),
}
NO_CI: CiSystem = NoCiSystem()


def detect(environ: Mapping[str, str]) -> CiSystem:
    """The CI system this process runs in (:data:`NO_CI` outside every known one)."""
    return next((s for s in SYSTEMS.values() if s.detected(environ)), NO_CI)


def trusted_publisher(environ: Mapping[str, str], audience: str) -> CiSystem | None:
    """The CI system whose job can get an OIDC token for ``audience`` now, or None."""
    return next((s for s in SYSTEMS.values() if s.id_token_ready(environ, audience)), None)


def secret_variables(audiences: Iterable[str]) -> tuple[str, ...]:
    """Every variable holding OIDC credentials of any CI system, for ``audiences``."""
    wanted = tuple(audiences)
    return tuple(name for s in SYSTEMS.values() for name in s.secret_variables(wanted))


def trusted_publishing_hints(audience: str) -> str:
    """What each CI system's job needs for trusted publishing to ``audience``, in a clause."""
    return "; ".join(s.trusted_publishing_hint(audience) for s in SYSTEMS.values())
