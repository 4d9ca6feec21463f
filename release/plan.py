"""The plan: a pure function of (facts, request).  No I/O.

Everything a release will do is decided here: the next version and why, each
file edit, the changelog text, commit and tag, and the ordered steps.  The
preview prints it; the executor runs it.  Steps read the plan, never the disk,
for planned values.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any, NamedTuple

from packaging.version import Version

from release import changelog, locations
from release import tags as tags_mod
from release import version as versions
from release.commits import deciding_commits
from release.config import Forge, Target, fragment_level
from release.errors import NothingToRelease, VersionError
from release.facts import Facts
from release.stages import ci_stages

SCHEMA_VERSION = 1


class Request(NamedTuple):
    """What the user asked for: a version, a level, ``post``, or nothing (let fragments decide)."""

    target: str | None = None
    pre: versions.Pre | None = None
    final: bool = False


class FileEdit(NamedTuple):
    path: str
    before: str | None
    after: str

    def diff(self) -> str:
        before = (self.before or "").splitlines(keepends=True)
        after = self.after.splitlines(keepends=True)
        lines = difflib.unified_diff(
            before,
            after,
            fromfile="/dev/null" if self.before is None else f"a/{self.path}",
            tofile=f"b/{self.path}",
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )


class Step(NamedTuple):
    """One planned side effect.  ``id`` is stable: the journal and failpoints use it."""

    stage: str
    name: str
    summary: str
    command: tuple[str, ...] = ()
    path: str = ""

    @property
    def id(self) -> str:
        return f"{self.stage}.{self.name}" + (f":{self.path}" if self.path else "")


class VersionSource(NamedTuple):
    location: str
    value: str
    why: str = ""  # where the location came from, or which tag was read and why


class Plan(NamedTuple):
    project: str
    current: Version
    sources: tuple[VersionSource, ...]
    version: Version
    level: str | None
    decided_by: str
    reasons: tuple[str, ...]
    previous_tag: str | None
    tag: str
    tag_message: str
    commit_message: str
    branch: str | None
    remote: str
    edits: tuple[FileEdit, ...]
    consumed_fragments: tuple[str, ...]
    changelog: str
    changelog_file: str | None
    next_dev: Version | None
    dev_edits: tuple[FileEdit, ...]
    dev_commit_message: str
    steps: tuple[Step, ...]
    dist_dir: str = "dist"
    targets: tuple[Target, ...] = ()
    forge: Forge | None = None
    sign: str = "none"
    reproducible: bool = False
    latest_release: Version | None = None  # the highest version among the release tags

    def edit_for(self, path: str, *, dev: bool = False) -> FileEdit:
        for edit in self.dev_edits if dev else self.edits:
            if edit.path == path:
                return edit
        raise KeyError(path)

    def to_journal(self) -> dict[str, Any]:
        """Everything needed to run the plan again, exactly (file texts included)."""
        return {
            "public": self.to_json(),
            "edits": [[e.path, e.before, e.after] for e in self.edits],
            "dev_edits": [[e.path, e.before, e.after] for e in self.dev_edits],
            "steps": [[s.stage, s.name, s.summary, list(s.command), s.path] for s in self.steps],
            "latest_release": None if self.latest_release is None else str(self.latest_release),
        }

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> Plan:
        pub = data["public"]
        return cls(
            project=pub["project"],
            current=Version(pub["current_version"]),
            sources=tuple(
                VersionSource(s["location"], s["value"], s.get("why", ""))
                for s in pub["version_sources"]
            ),
            version=Version(pub["version"]),
            level=pub["bump"],
            decided_by=pub["decided_by"],
            reasons=tuple(pub["reasons"]),
            previous_tag=pub["previous_tag"],
            tag=pub["tag"],
            tag_message=pub["tag_message"],
            commit_message=pub["commit_message"],
            branch=pub["branch"],
            remote=pub["remote"],
            edits=tuple(FileEdit(*e) for e in data["edits"]),
            consumed_fragments=tuple(pub["consumed_fragments"]),
            changelog=pub["changelog"]["section"],
            changelog_file=pub["changelog"]["file"],
            next_dev=None if pub["next_dev_version"] is None else Version(pub["next_dev_version"]),
            dev_edits=tuple(FileEdit(*e) for e in data["dev_edits"]),
            dev_commit_message=pub["dev_commit_message"],
            steps=tuple(Step(st, n, su, tuple(c), p) for st, n, su, c, p in data["steps"]),
            dist_dir=pub["dist_dir"],
            targets=tuple(Target.from_dict(t) for t in pub["publish"]),
            forge=None if pub["github"] is None else Forge.from_dict(pub["github"]),
            sign=pub["sign"],
            reproducible=pub["reproducible"],
            latest_release=None
            if data.get("latest_release") is None
            else Version(data["latest_release"]),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": "release-pipeline/plan",
            "schema_version": SCHEMA_VERSION,
            "project": self.project,
            "current_version": str(self.current),
            "version_sources": [
                {"location": s.location, "value": s.value, "why": s.why} for s in self.sources
            ],
            "version": str(self.version),
            "is_prerelease": self.version.is_prerelease,
            "bump": self.level,
            "decided_by": self.decided_by,
            "reasons": list(self.reasons),
            "previous_tag": self.previous_tag,
            "tag": self.tag,
            "tag_message": self.tag_message,
            "commit_message": self.commit_message,
            "branch": self.branch,
            "remote": self.remote,
            "edits": [{"path": e.path, "diff": e.diff()} for e in self.edits],
            "consumed_fragments": list(self.consumed_fragments),
            "changelog": {"file": self.changelog_file, "section": self.changelog},
            "next_dev_version": None if self.next_dev is None else str(self.next_dev),
            "dev_edits": [{"path": e.path, "diff": e.diff()} for e in self.dev_edits],
            "dev_commit_message": self.dev_commit_message,
            "dist_dir": self.dist_dir,
            "publish": [t.as_dict("_") for t in self.targets],
            "github": None if self.forge is None else self.forge.as_dict("_"),
            "sign": self.sign,
            "reproducible": self.reproducible,
            "steps": [
                {
                    "id": s.id,
                    "stage": s.stage,
                    "name": s.name,
                    "summary": s.summary,
                    "command": list(s.command),
                }
                for s in self.steps
            ],
        }
        data["fingerprint"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        return data

    @property
    def fingerprint(self) -> str:
        return str(self.to_json()["fingerprint"])


def current_version(facts: Facts) -> tuple[Version | None, tuple[VersionSource, ...]]:
    """The version every location holds, and each location's own value.

    Returns ``None`` as the version when the locations disagree.
    """
    found: list[VersionSource] = []
    configured = facts.config.sources["version-locations"]
    if configured == "pyproject.toml":
        configured = "version-locations in pyproject.toml [tool.release]"
    for loc in facts.config.locations:
        if loc.kind == "scm":
            tag = scm_tag(facts)
            value = str(tag.version) if tag is not None else "0.0.0"
            why = facts.history.nearest_reason
        else:
            value = locations.read_version(loc, facts.files[loc.path])
            why = configured
        found.append(VersionSource(loc.describe(), value, why))
    parsed = {versions.parse(s.value, where=s.location) for s in found}
    return (parsed.pop() if len(parsed) == 1 else None), tuple(found)


def scm_tag(facts: Facts) -> tags_mod.ReleaseTag | None:
    """The release tag a version kept in tags is read from (the nearest reachable one)."""
    name = facts.history.nearest
    if name is None:
        return facts.release_tags[-1] if facts.release_tags else None
    return facts.release_tags.find(name)


def _as_level(text: str) -> versions.Level:
    for level in versions.LEVELS:
        if level == text:
            return level
    raise AssertionError(text)


def decide_level(facts: Facts, current: Version) -> tuple[versions.Level | None, str, list[str]]:
    """The bump the fragments (or commits) call for, and the reasons, most significant first."""
    cfg = facts.config
    if cfg["version-source"] == "commits":
        decided = deciding_commits(facts.commits or (), cfg["commit-bumps"])
        source = "commits"
        items = [(lvl, f"{c.sha[:10]} {c.subject}") for c, lvl in decided]
    else:
        bumps: dict[str, str] = cfg["fragment-bumps"]
        source = "fragments"
        items = []
        for frag in facts.fragments.fragments:
            level_text, by_name = fragment_level(bumps, frag.type)
            if level_text != "none":
                rule = ", by its name" if by_name else ""
                items.append((_as_level(level_text), f"{frag.path} ({frag.type}{rule})"))
    level: versions.Level | None = None
    for lvl, _ in items:
        level = versions.higher_level(level, lvl)
    adjusted = versions.zero_major(level, current, major_on_zero=cfg["major-on-zero"])
    reasons = [f"{text}: {lvl}" for lvl, text in items if lvl == level]
    if adjusted != level:
        reasons.append("0.x: a breaking change bumps the minor (major-on-zero = false)")
    return adjusted, source, reasons


def next_version(
    facts: Facts, request: Request, current: Version
) -> tuple[Version, str | None, str, list[str]]:
    released = [facts.release_tags[-1].version] if facts.release_tags else []
    target = request.target
    if target == "post":
        if request.pre or request.final:
            raise VersionError("post cannot be combined with --pre or --final.", "Drop them.")
        return versions.next_post(current), "post", "request", ["asked for a post-release"]
    if target in versions.LEVELS:
        level = _as_level(target)
        new = versions.next_version(current, level, pre=request.pre, final=request.final)
        return new, level, "request", [f"asked for a {level} release"]
    if target is not None:
        if request.pre or request.final:
            raise VersionError(
                f"An explicit version ({target}) cannot be combined with --pre or --final.",
                "Write the pre-release into the version itself, e.g. 1.2.0rc1.",
            )
        explicit = versions.parse(target, where="the command line")
        versions.check_explicit(explicit, current, released)
        return explicit, None, "request", [f"asked for version {explicit}"]
    level_or_none, source, reasons = decide_level(facts, current)
    if (
        level_or_none is None
        and request.pre is None
        and not (request.final or versions.in_cycle(current))
    ):
        what = (
            "no conventional commit since the last release calls for a release"
            if source == "commits"
            else "no changelog fragment calls for a version bump"
        )
        raise NothingToRelease(
            f"Nothing to release: {what} (current version {current}).",
            'Add a fragment (release fragment ISSUE TYPE "text"), or name a level or '
            "version: release preview minor.",
        )
    new = versions.next_version(current, level_or_none, pre=request.pre, final=request.final)
    if not reasons:
        reasons = [
            f"--pre {request.pre}"
            if request.pre
            else "--final"
            if request.final
            else "finishing the pre-release cycle"
        ]
    return new, level_or_none, source, reasons


def build(facts: Facts, request: Request) -> Plan:
    cfg = facts.config
    current, sources = current_version(facts)
    if current is None:
        listing = "; ".join(f"{s.location} = {s.value}" for s in sources)
        hint = "Make them hold the same version, or remove the stale one from `version-locations`."
        last = facts.release_tags[-1] if facts.release_tags else None
        values = [versions.parse(s.value, where=s.location) for s in sources]
        if last is not None and all(last.version > v for v in values):
            listing += f"; and the last release tag {last.name} is above all of them"
            hint = f"Make them hold the same version, {last.version} (the last release) or later."
        raise VersionError(f"The version locations disagree: {listing}.", hint)
    new, level, decided_by, reasons = next_version(facts, request, current)
    problem = versions.publishable_problem(new)
    if problem:
        raise VersionError(problem, "Choose a version without a local label.")
    tag = tags_mod.render(cfg.tag_format, new, cfg.tag_scheme)
    previous_tag = facts.release_tags[-1].name if facts.release_tags else None
    if any(loc.kind == "scm" for loc in cfg.locations):
        nearest = scm_tag(facts)
        previous_tag = nearest.name if nearest is not None else None
    fmt = {"version": str(new), "previous": str(current), "tag": tag}

    edits = [
        FileEdit(
            loc.path,
            facts.files[loc.path],
            locations.write_version(loc, facts.files[loc.path], str(new)),
        )
        for loc in cfg.locations
        if loc.kind != "scm"
    ]
    section = ""
    news_file: str | None = None
    consumed = tuple(f.path for f in facts.fragments.fragments)
    tc = facts.towncrier
    if tc is not None:
        section = changelog.render_section(tc, facts.fragments.contents, str(new), facts.date)
        news_file = changelog.news_file_name(tc, str(new), facts.date)
        top = changelog.title(tc, str(new), facts.date)
        before = tc.news_text if tc.config.single_file else None
        edits.append(FileEdit(news_file, before, changelog.updated_news_file(tc, section, top)))

    # With the version only in tags (scm) there is no file to carry a development version.
    has_files = any(loc.kind != "scm" for loc in cfg.locations)
    next_dev = versions.next_dev(new) if cfg["next-dev"] and has_files else None
    dev_edits: list[FileEdit] = []
    if next_dev is not None:
        after_release = {e.path: e.after for e in edits}
        dev_edits = [
            FileEdit(
                loc.path,
                after_release[loc.path],
                locations.write_version(loc, after_release[loc.path], str(next_dev)),
            )
            for loc in cfg.locations
            if loc.kind != "scm"
        ]
    plan = Plan(
        project=_project_name(facts),
        current=current,
        sources=sources,
        version=new,
        level=level,
        decided_by=decided_by,
        reasons=tuple(reasons),
        previous_tag=previous_tag,
        tag=tag,
        tag_message=cfg["tag-message"].format(**fmt),
        commit_message=cfg["commit-message"].format(**fmt),
        branch=facts.git.branch,
        remote=cfg["remote"],
        edits=tuple(edits),
        consumed_fragments=consumed,
        changelog=section,
        changelog_file=news_file,
        next_dev=next_dev,
        dev_edits=tuple(dev_edits),
        dev_commit_message=""
        if next_dev is None
        else cfg["dev-commit-message"].format(version=str(next_dev), previous=str(new), tag=tag),
        steps=(),
        dist_dir=cfg["dist-dir"],
        targets=cfg.targets,
        forge=cfg.forge,
        sign=cfg["sign"],
        reproducible=cfg["reproducible"],
        latest_release=facts.release_tags[-1].version if facts.release_tags else None,
    )
    return _with_steps(plan, facts)


def _project_name(facts: Facts) -> str:
    project = facts.config.pyproject.get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    return str(name or facts.project_dir.name)


def _with_steps(plan: Plan, facts: Facts) -> Plan:
    cfg = facts.config
    dist = cfg["dist-dir"]
    steps: list[Step] = [Step("check", "preflight", "check every release gate")]
    for edit in plan.edits:
        if edit.path != plan.changelog_file:
            steps.append(
                Step("prepare", "edit-version", f"set the version in {edit.path}", path=edit.path)
            )
    if plan.changelog_file is not None:
        steps.append(
            Step(
                "prepare",
                "changelog",
                f"write the {plan.version} section to {plan.changelog_file} and remove "
                f"{len(plan.consumed_fragments)} fragment(s)",
                ("git", "rm", "--quiet", "--", *plan.consumed_fragments)
                if plan.consumed_fragments
                else (),
            )
        )
    changed = [e.path for e in plan.edits]
    steps.append(
        Step(
            "prepare",
            "commit",
            f"commit: {(plan.commit_message.splitlines() or [''])[0]}",
            ("git", "commit", "-m", plan.commit_message, "--", *changed, *plan.consumed_fragments),
        )
    )
    # The same arguments the tag step runs (release.steps.git.Tag), the commit named last.
    prefix = ["-c", "gpg.format=ssh"] if cfg["sign"] == "ssh" else []
    flags = ["--annotate"] if cfg["sign"] == "none" else ["--sign"]
    kind = "annotated" if cfg["sign"] == "none" else f"{cfg['sign']}-signed"
    steps.append(
        Step(
            "tag",
            "tag",
            f"create the {kind} tag {plan.tag} on the release commit",
            (
                "git",
                *prefix,
                "tag",
                *flags,
                "-m",
                plan.tag_message,
                "--",
                plan.tag,
                "<release commit>",
            ),
        )
    )
    steps.append(
        Step(
            "build",
            "build",
            f"build the sdist and wheel of {plan.tag} into {dist}/",
            ("python", "-m", "build", "--sdist", "--wheel", "--outdir", dist),
        )
    )
    steps.append(
        Step(
            "verify",
            "verify",
            "twine check; metadata name and version match the plan; sha256 manifest"
            + ("; rebuild and compare hashes" if plan.reproducible else ""),
            ("twine", "check", "--strict", f"{dist}/*"),
        )
    )
    branch = plan.branch or "HEAD"
    steps.append(
        Step(
            "push",
            "push",
            f"push {branch} and {plan.tag} to {plan.remote} atomically",
            ("git", "push", "--atomic", plan.remote, branch, f"refs/tags/{plan.tag}"),
        )
    )
    for target in plan.targets:
        steps.append(
            Step(
                "publish",
                "upload",
                f"upload to {target.name} ({target.describe()}), skipping files "
                "already there with the same sha256",
                path=target.name,
            )
        )
        if target.verify_install:
            steps.append(
                Step(
                    "publish",
                    "verify-install",
                    f"install {plan.project}=={plan.version} from {target.name} into "
                    "a fresh environment and import it",
                    path=target.name,
                )
            )
    if plan.forge is not None:
        steps.append(
            Step(
                "announce",
                "github-release",
                f"GitHub release {plan.tag} in {plan.forge.repository}"
                + (" (draft)" if plan.forge.draft else "")
                + (" (pre-release)" if plan.version.is_prerelease else "")
                + (", artifacts attached" if plan.forge.attach_artifacts else ""),
            )
        )
    if plan.next_dev is not None:
        for edit in plan.dev_edits:
            steps.append(
                Step(
                    "post",
                    "edit-version",
                    f"set the development version {plan.next_dev} in {edit.path}",
                    path=edit.path,
                )
            )
        steps.append(
            Step(
                "post",
                "commit",
                f"commit: {plan.dev_commit_message}",
                (
                    "git",
                    "commit",
                    "-m",
                    plan.dev_commit_message,
                    "--",
                    *[e.path for e in plan.dev_edits],
                ),
            )
        )
        steps.append(
            Step(
                "post",
                "push",
                f"push {branch} to {plan.remote}",
                ("git", "push", plan.remote, branch),
            )
        )
    return plan._replace(steps=tuple(steps))


def for_tag(
    facts: Facts, tag: str, version: Version, notes: str, *, job: str | None = None
) -> Plan:
    """The plan of ``release ci``: the tagged commit exists; the stages CI runs (those of
    ``job``, see :data:`release.stages.CI_JOBS`)."""
    cfg = facts.config
    below = tags_mod.version_key(version)
    previous = [t for t in facts.release_tags if t.key < below]
    plan = Plan(
        project=_project_name(facts),
        current=version,
        sources=(),
        version=version,
        level=None,
        decided_by="tag",
        reasons=(f"the tag {tag}",),
        previous_tag=previous[-1].name if previous else None,
        tag=tag,
        tag_message="",
        commit_message="",
        branch=facts.git.branch,
        remote=cfg["remote"],
        edits=(),
        consumed_fragments=(),
        changelog=notes,
        changelog_file=None,
        next_dev=None,
        dev_edits=(),
        dev_commit_message="",
        steps=(),
        dist_dir=cfg["dist-dir"],
        targets=cfg.targets,
        forge=cfg.forge,
        sign=cfg["sign"],
        reproducible=cfg["reproducible"],
        latest_release=facts.release_tags[-1].version if facts.release_tags else None,
    )
    full = _with_steps(plan, facts)
    ci = ci_stages(job)
    return full._replace(steps=tuple(s for s in full.steps if s.stage in ci))
