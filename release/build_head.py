"""``release build``: build (and verify) the sdist and wheel of HEAD into dist/, outside a release.

The same clean-export build as the release's build stage (HEAD's committed tree,
never uncommitted changes), then, unless ``verify`` is false, what the release's
verify stage checks: twine check and the metadata name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from release.errors import ReleaseError
from release.runner import Runner


class BuildCheckFailed(ReleaseError):
    exit_code = 1


def build_head(
    project_dir: Path, dist_dir: str, project: str, *, verify: bool = True
) -> list[tuple[Path, str]]:
    from release.journal import state_dir
    from release.ops.build import build_artifacts
    from release.ops.git import project_path
    from release.ops.hashing import sha256

    runner = Runner(project_dir)
    read = runner.git("rev-parse", "--absolute-git-dir", "--show-prefix", "--verify", "HEAD")
    git_dir, prefix, head = read.stdout.split("\n")[:3]
    staging = state_dir(Path(git_dir), project_path(prefix)) / "build-head"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        built = build_artifacts(runner, head, staging)
        if verify:
            _verify(built, project)
        dist = project_dir / dist_dir
        dist.mkdir(parents=True, exist_ok=True)
        result = []
        for path in built:
            digest = sha256(path)
            shutil.move(str(path), dist / path.name)
            result.append((dist / path.name, digest))
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verify(built: list[Path], project: str) -> None:
    """twine check, and the metadata name is the project's (as the release's verify stage)."""
    from release.names import normalised
    from release.ops.dists import read_metadata, twine_check

    report = twine_check(built)
    problems = [f"twine check failed:\n{report.strip()}"] if report else []
    for path in built:
        name, _version = read_metadata(path)
        if normalised(name) != normalised(project):
            problems.append(f"{path.name}: metadata Name is {name!r}, expected {project!r}")
    if problems:
        raise BuildCheckFailed(
            "The build of HEAD does not verify:\n  - " + "\n  - ".join(problems),
            "Fix the packaging metadata.",
        )
