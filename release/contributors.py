"""For contributors: create a valid fragment, and the pull-request gate that requires one."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from release.errors import ConfigError, ReleaseError, UsageError
from release.runner import Runner

_ISSUE = re.compile(r"\+?[A-Za-z0-9][A-Za-z0-9_-]*")


class NoFragment(ReleaseError):
    exit_code = 1


def create_fragment(
    project_dir: Path, issue: str, ftype: str, text: str, section: str = ""
) -> Path:
    """Write ``ISSUE.TYPE[.N].ext`` into the (section's) fragment directory; return its path."""
    from release.config import read_pyproject
    from release.fragments import load_towncrier, towncrier_configured

    pyproject = read_pyproject(project_dir)
    if not towncrier_configured(project_dir, pyproject):
        raise ConfigError(
            "This project has no towncrier configuration.",
            "Add [tool.towncrier] to pyproject.toml (release init writes one).",
        )
    tc = load_towncrier(project_dir, pyproject)
    types = tc.config.types
    if ftype not in types:
        raise UsageError(
            f"{ftype!r} is not a fragment type of this project.", f"Use one of: {', '.join(types)}."
        )
    if not _ISSUE.fullmatch(issue) or ".." in issue:
        raise UsageError(
            f"{issue!r} is not a safe issue name for a fragment file.",
            "Use the issue number (e.g. 123), a word with letters, digits, - and _, or "
            "+name for a fragment without an issue.",
        )
    body = text.strip()
    if not body:
        raise UsageError("The fragment text is empty.", 'Give the change in a sentence: "..."')
    if any(ord(c) < 32 and c not in "\n\t" for c in body):
        raise UsageError("The fragment text contains control characters.", "Write plain text.")
    dirs = tc.section_dirs
    sections = {name or "(default)": name for name in dirs}
    if section not in dirs:
        raise UsageError(
            f"{section!r} is not a changelog section of this project.",
            f"Use one of: {', '.join(sections)}.",
        )
    directory = dirs[section]
    ext = tc.template_extension if tc.config.create_add_extension else ""
    counter = 0
    while True:
        name = f"{issue}.{ftype}" + (f".{counter}" if counter else "") + ext
        path = directory / name
        if not path.exists():
            break
        counter += 1
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(body + ("\n" if tc.config.create_eof_newline else ""), encoding="utf-8")
    return path


@dataclass(frozen=True)
class GateResult:
    added: tuple[str, ...]
    exempt_reason: str


def fragment_gate(
    project_dir: Path, base: str, exempt_paths: tuple[str, ...], exempt_marker: str
) -> GateResult:
    """Fail (NoFragment) when the change since ``base`` adds no fragment and is not exempt."""
    from release.config import read_pyproject
    from release.fragments import load_towncrier, towncrier_configured

    runner = Runner(project_dir)
    pyproject = read_pyproject(project_dir)
    if not towncrier_configured(project_dir, pyproject):
        raise ConfigError(
            "This project has no towncrier configuration, so there are no fragments to require.",
            "Add [tool.towncrier] to pyproject.toml.",
        )
    if (
        runner.git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False).returncode
        != 0
    ):
        raise UsageError(
            f"--base {base!r} is not a commit in this repository.",
            "Fetch it first (e.g. git fetch origin main) and pass origin/main.",
        )
    top = Path(runner.git("rev-parse", "--show-toplevel").stdout.strip()).resolve()
    tc = load_towncrier(project_dir, pyproject)
    frag_dirs = [d.resolve().relative_to(top).as_posix() + "/" for d in tc.section_dirs.values()]
    diff = runner.git("diff", "--name-status", "--no-renames", "-z", f"{base}...HEAD").stdout
    fields = diff.split("\0")
    changes = list(zip(fields[0::2], fields[1::2], strict=False))
    from release.fragments import scan

    # The fragments towncrier itself finds; the diff's paths are relative to the top.
    here = project_dir.resolve().relative_to(top).as_posix()
    found = {f.path if here == "." else f"{here}/{f.path}" for f in scan(project_dir, tc).fragments}

    def is_fragment(path: str) -> bool:
        return path in found

    added = tuple(
        path
        for status, path in changes
        if status == "A" and any(path.startswith(d) for d in frag_dirs) and is_fragment(path)
    )
    if added:
        return GateResult(added, "")
    changed = [path for _status, path in changes if path]
    if (
        changed
        and exempt_paths
        and all(any(fnmatch.fnmatchcase(p, pat) for pat in exempt_paths) for p in changed)
    ):
        return GateResult((), "every changed file matches fragment-exempt-paths")
    if exempt_marker:
        log = runner.git("log", "--format=%B", f"{base}..HEAD").stdout
        if exempt_marker in log:
            return GateResult((), f"a commit message contains {exempt_marker!r}")
    if not changed:
        return GateResult((), f"nothing changed since {base}")
    raise NoFragment(
        f"The change since {base} adds no changelog fragment (looked in {', '.join(frag_dirs)}).",
        'Add one: release fragment ISSUE TYPE "what changed, for users". If the change '
        "needs none, "
        + (
            f"put {exempt_marker!r} in a commit message."
            if exempt_marker
            else "configure fragment-exempt-marker or fragment-exempt-paths."
        ),
    )
