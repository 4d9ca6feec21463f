"""``release init``: adopt an existing project by detecting how it already works.

Detects the version source, the towncrier configuration (or creates one), the tag
format from existing tags and the default branch from the remote, then writes
``[tool.release]`` with tomlkit so the rest of pyproject.toml keeps its style.
Every decision is reported with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release.config import read_pyproject
from release.errors import ConfigError, UsageError
from release.runner import Runner

# An assignment of a string literal (not a computed value such as version("pkg")).
_LITERAL_VERSION = r"^{name}\s*(?::\s*str\s*)?=\s*[\"']"

START = {
    ".md": "<!-- towncrier release notes start -->\n",
    ".rst": ".. towncrier release notes start\n",
}
NEWS_CANDIDATES = (
    "CHANGELOG.md",
    "CHANGES.md",
    "NEWS.md",
    "HISTORY.md",
    "CHANGELOG.rst",
    "CHANGES.rst",
    "NEWS.rst",
    "HISTORY.rst",
)


@dataclass
class Decisions:
    table: dict[str, Any] = field(default_factory=dict)
    towncrier: dict[str, Any] | None = None
    news_file_insert: tuple[str, str] | None = None  # (path, new text)
    reasons: list[str] = field(default_factory=list)


def _module_file(project_dir: Path, module: str) -> str | None:
    parts = module.split(".")
    for root in ("src", "."):
        base = project_dir / root
        package = base.joinpath(*parts)
        for candidate in (package / "__init__.py", base.joinpath(*parts[:-1], parts[-1] + ".py")):
            if candidate.is_file():
                return candidate.relative_to(project_dir).as_posix()
    return None


def detect_version(project_dir: Path, pyproject: Mapping[str, Any]) -> tuple[list[Any], str]:
    project = pyproject.get("project", {})
    tool = pyproject.get("tool", {})
    name = str(project.get("name", "")).replace("-", "_")
    dynamic = project.get("dynamic", [])
    if "version" in project and "version" not in dynamic:
        locations: list[Any] = ["pyproject.toml"]
        reason = "project.version is static in pyproject.toml"
        init = _module_file(project_dir, name) if name else None
        if init and re.search(
            _LITERAL_VERSION.format(name="__version__"),
            (project_dir / init).read_text(encoding="utf-8"),
            re.MULTILINE,
        ):
            locations.append(init)
            reason += f", and {init} repeats it in __version__ (both are kept in step)"
        return locations, reason
    requires = " ".join(pyproject.get("build-system", {}).get("requires", []))
    if (
        tool.get("hatch", {}).get("version", {}).get("source") == "vcs"
        or "setuptools_scm" in tool
        or re.search(r"setuptools[-_]scm|hatch-vcs", requires)
    ):
        return ["scm"], "the version comes from git tags (setuptools-scm / hatch-vcs)"
    hatch_path = tool.get("hatch", {}).get("version", {}).get("path")
    if hatch_path:
        text = (project_dir / hatch_path).read_text(encoding="utf-8")
        for name in ("__version__", "VERSION"):  # what hatch's regex source looks for
            if re.search(_LITERAL_VERSION.format(name=name), text, re.MULTILINE):
                entry = hatch_path if name == "__version__" else {"path": hatch_path, "key": name}
                return [entry], f"hatch reads the version from {hatch_path} ({name})"
        raise ConfigError(
            f"hatch reads the version from {hatch_path}, but it has no __version__ or VERSION "
            "string assignment.",
            "Set version-locations by hand, with the variable as `key`.",
        )
    attr = tool.get("setuptools", {}).get("dynamic", {}).get("version", {}).get("attr")
    if attr:
        module, _, variable = attr.rpartition(".")
        path = _module_file(project_dir, module)
        if path is None:
            raise ConfigError(
                f"setuptools reads the version from {attr!r}, but no file for "
                f"module {module!r} was found.",
                "Set version-locations by hand.",
            )
        located: Any = path if variable == "__version__" else {"path": path, "key": variable}
        return [located], f"setuptools reads the version from attr: {attr}"
    if "flit_core" in requires or "flit" in tool:
        module = tool.get("flit", {}).get("module", {}).get("name", name)
        path = _module_file(project_dir, module)
        if path:
            return [path], f"flit reads __version__ from {path}"
    raise ConfigError(
        "Cannot tell where this project keeps its version (no static project.version, "
        "no setuptools-scm / hatch-vcs, no hatch version path, setuptools attr or flit module).",
        'Add [tool.release] version-locations = ["path/to/file"] by hand.',
    )


def detect_tag_format(runner: Runner) -> tuple[str, str]:
    tags = runner.git("tag", "--list").stdout.split()
    v = sum(1 for t in tags if re.fullmatch(r"v\d+(\.\d+)*\S*", t))
    bare = sum(1 for t in tags if re.fullmatch(r"\d+(\.\d+)*\S*", t))
    if not tags:
        return "v{version}", "no tags yet, so the common v{version}"
    if bare > v:
        return "{version}", f"{bare} of {len(tags)} existing tags are bare versions"
    return "v{version}", f"{v} of {len(tags)} existing tags look like v1.2.3"


def detect_branch(runner: Runner) -> tuple[str, str]:
    head = runner.git(
        "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
    ).stdout.strip()
    if head:
        return head.split("/", 1)[1], f"origin/HEAD points to {head}"
    current = runner.git("branch", "--show-current", check=False).stdout.strip()
    if current:
        return current, f"the remote names no default branch; the current branch is {current}"
    return "main", "no branch could be detected"


def decide(project_dir: Path) -> Decisions:
    pyproject = read_pyproject(project_dir)
    if "release" in pyproject.get("tool", {}):
        raise UsageError(
            "pyproject.toml already has [tool.release].",
            "Edit it by hand; release config shows the effective values.",
        )
    runner = Runner(project_dir)
    out = Decisions()
    locations, why = detect_version(project_dir, pyproject)
    out.table["version-locations"] = locations
    out.reasons.append(f"version-locations = {locations}: {why}.")
    fmt, why = detect_tag_format(runner)
    out.table["tag-format"] = fmt
    out.reasons.append(f"tag-format = {fmt!r}: {why}.")
    branch, why = detect_branch(runner)
    out.table["branches"] = [branch]
    out.reasons.append(f"branches = [{branch!r}]: {why}.")
    from release.fragments import towncrier_configured

    if towncrier_configured(project_dir, pyproject):
        out.reasons.append("towncrier is already configured; its settings are used as they are.")
        return out
    news = next((n for n in NEWS_CANDIDATES if (project_dir / n).is_file()), "CHANGELOG.md")
    ext = Path(news).suffix
    out.towncrier = {"directory": "changelog.d", "filename": news}
    if ext == ".md":
        out.towncrier["title_format"] = "## {version} ({project_date})"
    out.reasons.append(
        f"towncrier: new configuration writing {news} from fragments in changelog.d/."
    )
    path = project_dir / news
    if path.is_file():
        text = _read(path)
        marker = START[ext]
        if marker.strip() not in text:
            lines = text.splitlines(keepends=True)
            at = 1 if lines and (lines[0].startswith("#") or ext == ".rst") else 0
            if ext == ".rst" and len(lines) > 1 and set(lines[1].strip()) <= set("=-~"):
                at = 2
            new = "".join(lines[:at]) + ("\n" if at else "") + marker + "\n" + "".join(lines[at:])
            out.news_file_insert = (news, new)
            out.reasons.append(
                f"{news}: towncrier's start marker inserted after its title, so "
                "new sections go above the old ones."
            )
    return out


def apply(project_dir: Path, decisions: Decisions) -> None:
    import tomlkit

    path = project_dir / "pyproject.toml"
    original = _read(path)
    doc = tomlkit.parse(original)
    tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
    table = tomlkit.table()
    for key, value in decisions.table.items():
        table[key] = value
    tool["release"] = table
    if decisions.towncrier is not None:
        towncrier = tomlkit.table()
        for key, value in decisions.towncrier.items():
            towncrier[key] = value
        tool["towncrier"] = towncrier
        (project_dir / "changelog.d").mkdir(exist_ok=True)
        keep = project_dir / "changelog.d" / ".gitkeep"
        if not any((project_dir / "changelog.d").iterdir()):
            keep.write_text("", encoding="utf-8")
    _write(path, tomlkit.dumps(doc), like=original)
    if decisions.news_file_insert is not None:
        name, text = decisions.news_file_insert
        _write(project_dir / name, text, like=_read(project_dir / name))


def _read(path: Path) -> str:
    """The file's text with its line endings as they are (CRLF stays CRLF)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _write(path: Path, text: str, *, like: str | None = None) -> None:
    """Write ``text``; when the file had CRLF line endings (``like``), so do the new lines."""
    if like is not None and "\r\n" in like and "\n" not in like.replace("\r\n", ""):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
