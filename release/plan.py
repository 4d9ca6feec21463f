"""The plan: a pure function of (facts, request).  No I/O.

Everything a release will do is decided here: the next version and why, each
file edit, the changelog text, commit and tag, and the ordered steps.  The
preview prints it; the executor runs it.  Steps read the plan, never the disk,
for planned values.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable
from typing import Any, NamedTuple

from packaging.version import Version

from release import changelog, commands, locations, newlines, textdiff
from release import fragments as fragments_mod
from release import tags as tags_mod
from release import version as versions
from release.commits import deciding_commits
from release.config import Forge, Gate, Line, Target, UserStep, fragment_level
from release.errors import NothingToRelease, VersionError
from release.facts import Facts, PreRelease
from release.stages import STAGES, ci_stages

SCHEMA_VERSION = 2


class Tagged(NamedTuple):
    """``release ci``'s release: the tag exists, with the release commit it names and the
    changelog section that commit holds."""

    tag: str
    version: Version
    notes: str
    job: str | None = None  # the CI job (release.stages.CI_JOBS); None: every CI stage


#: The trailer of a release commit that ``release pr`` makes: ``release ci`` on a push to a
#: branch releases the version it names when that commit is merged.
RELEASE_TRAILER = "Release-Version"


class Request(NamedTuple):
    """What the user asked for: a version, a level, ``post``, or nothing (let fragments decide);
    or, for ``release ci``, the release of a tag that exists (``tagged``)."""

    target: str | None = None
    pre: versions.Pre | None = None
    final: bool = False
    tagged: Tagged | None = None
    trailer: bool = False  # release pr: the commit carries RELEASE_TRAILER for release ci


class FileEdit(NamedTuple):
    path: str
    before: str | None
    after: str

    def diff(self) -> str:
        """The unified diff of the edit, for a person: a file's CRLF line endings (and byte
        order mark), which the edit keeps, are not shown on every line."""
        before = newlines.plain(self.before or "").splitlines(keepends=True)
        after = newlines.plain(self.after).splitlines(keepends=True)
        lines = textdiff.unified(
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
    package: str = ""  # in a release of several packages, whose step (empty: all of theirs)

    @property
    def id(self) -> str:
        own = f"{self.stage}.{self.name}" + (f":{self.path}" if self.path else "")
        return f"{self.package}/{own}" if self.package else own


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
    latest_release: Version | None = None  # the highest final version among the release tags
    commit_hooks: bool = True  # whether git commit runs the pre-commit and commit-msg hooks
    user_steps: tuple[UserStep, ...] = ()  # [[tool.release.steps]]
    line: Line | None = None  # the branch's release line (`branches`), its series resolved
    previous_tag_why: str = ""  # how previous_tag was chosen
    # The pre-releases whose entries the changelog section gathers (a final release after
    # them); their sections leave the news file.
    changelog_gathers: tuple[str, ...] = ()
    gates: tuple[Gate, ...] = ()  # `gates`: in release ci, only with ci-gates in the build job
    sdist_last: bool = True  # upload-order: the wheels first, then the sdist

    def user_step(self, name: str) -> UserStep:
        for step in self.user_steps:
            if step.name == name:
                return step
        raise KeyError(name)

    @property
    def marks_latest(self) -> bool:
        """Whether the forge marks this release its latest: only a final release at or above
        the highest release tag (a maintenance release or a pre-release never is)."""
        if self.version.is_prerelease:
            return False
        return self.latest_release is None or self.version >= self.latest_release

    @property
    def committed_paths(self) -> tuple[str, ...]:
        """What the release commit takes: the edited files, the removed fragments, and the
        ``paths`` of the prepare stage's user steps."""
        paths = [e.path for e in self.edits] + list(self.consumed_fragments)
        for step in self.user_steps:
            if step.stage == "prepare":
                paths += [p for p in step.paths if p not in paths]
        return tuple(paths)

    def edit_for(self, path: str, *, dev: bool = False) -> FileEdit:
        for edit in self.dev_edits if dev else self.edits:
            if edit.path == path:
                return edit
        raise KeyError(path)

    def to_json(self) -> dict[str, Any]:
        """The plan object of ``release preview --json`` (docs/plan-json.md)."""
        data: dict[str, Any] = {"schema": "release-pipeline/plan", "schema_version": SCHEMA_VERSION}
        data.update((m.key, m.dump(self)) for m in _PUBLIC)
        data["fingerprint"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        return data

    def to_journal(self) -> dict[str, Any]:
        """Everything needed to run the plan again, exactly (file texts included): the plan
        object, and what it shows only in part."""
        return {"public": self.to_json(), **{m.key: m.dump(self) for m in _KEPT}}

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> Plan:
        """The plan :meth:`to_journal` wrote, this version's or an earlier one's (a member it
        lacks leaves its field's default); KeyError, TypeError or ValueError when ``data`` is
        no such plan."""
        fields: dict[str, Any] = {}
        public = dict(data["public"])
        if "github" in public and "forge" not in public:  # written before forge kinds
            public["forge"] = public.pop("github")
        for members, written in ((_PUBLIC, public), (_KEPT, data)):
            for member in members:
                if member.key in written:
                    fields.update(member.load(written[member.key]))
        return cls(**fields)

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


def highest_final(facts: Facts) -> Version | None:
    """The highest final (not pre-release) version among the release tags."""
    # The tags are sorted by version and parsed on demand: read from the top down.
    for tag in reversed(facts.release_tags):
        if not tag.version.is_prerelease:
            return tag.version
    return None


def branch_line(facts: Facts) -> Line | None:
    """The release line of the branch HEAD is on (`branches`), its series resolved; None on
    a detached HEAD or a branch that is no release branch. A ConfigError when the series is
    to come from a branch name that holds none."""
    branch = facts.git.branch
    return facts.config.line_of(branch) if branch is not None else None


def reachable_top(facts: Facts) -> tags_mod.ReleaseTag | None:
    """The highest release HEAD contains, within the series of the branch's line when it has
    one: a new version must be above it."""
    line = branch_line(facts)
    name = facts.history.series_top if line and line.series else facts.history.reachable_top
    return facts.release_tags.find(name) if name is not None else None


def scm_tag(facts: Facts) -> tags_mod.ReleaseTag | None:
    """The release tag a version kept in tags is read from: the nearest reachable one, or on
    a series branch where that one is outside the series, the highest in it."""
    name = facts.history.nearest
    found = facts.release_tags.find(name) if name is not None else None
    line = branch_line(facts)
    if found is not None and line and not versions.in_series(found.version, line.numbers):
        return reachable_top(facts)
    return found


def previous_release(facts: Facts) -> tuple[str | None, str]:
    """The release tag the next version counts from (the version itself, when it is kept in
    tags), and why that one."""
    line = branch_line(facts)
    series = line.series if line else ""
    if any(loc.kind == "scm" for loc in facts.config.locations):
        tag = scm_tag(facts)
        if tag is None or tag.name == facts.history.nearest:
            return (tag.name if tag else None), facts.history.nearest_reason
        return tag.name, (
            f"the highest release tag reachable from HEAD in the series {series} (the "
            f"nearest, {facts.history.nearest}, is outside it)"
        )
    top = reachable_top(facts)
    where = f" in the series {series}" if series else ""
    if top is None:
        if not facts.release_tags:
            return None, "no release tag yet"
        return None, f"no release tag{where} is reachable from HEAD"
    why = f"the highest release tag reachable from HEAD{where}"
    highest = facts.release_tags[-1]
    if highest.name != top.name:
        outside = line is not None and not versions.in_series(highest.version, line.numbers)
        why += f" (the highest of all, {highest.name}, is " + (
            "outside it)" if outside else "not reachable from HEAD)"
        )
    return top.name, why


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


def _channel(facts: Facts, request: Request) -> tuple[versions.Pre | None, str]:
    """The pre-release kind the branch's channel asks for, and why, when the request leaves
    it open (no --pre, no --final, no explicit version, not post)."""
    line = branch_line(facts)
    if (
        line is None
        or line.pre is None
        or request.pre is not None
        or request.final
        or (request.target is not None and request.target not in versions.LEVELS)
    ):
        return None, ""
    return line.pre, (
        f"the branch {facts.git.branch} makes {line.pre} pre-releases (`branches`: "
        f'{line.pattern}, channel = "{line.channel}"); --final makes the final release'
    )


def next_version(
    facts: Facts, request: Request, current: Version
) -> tuple[Version, str | None, str, list[str]]:
    top = reachable_top(facts)
    released = [top.version] if top is not None else []
    target = request.target
    channel, by_channel = _channel(facts, request)
    pre = request.pre or channel
    if target == "post":
        if request.pre or request.final:
            raise VersionError("post cannot be combined with --pre or --final.", "Drop them.")
        return versions.next_post(current), "post", "request", ["asked for a post-release"]
    if target in versions.LEVELS:
        level = _as_level(target)
        new = versions.next_version(current, level, pre=pre, final=request.final)
        return new, level, "request", [f"asked for a {level} release", *filter(None, [by_channel])]
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
    # A channel makes pre-releases of changes: without one, nothing (not even rc2) is due.
    if (
        level_or_none is None
        and request.pre is None
        and not request.final
        and (channel is not None or not versions.in_cycle(current))
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
    new = versions.next_version(current, level_or_none, pre=pre, final=request.final)
    if by_channel:
        reasons.append(by_channel)
    if not reasons:
        reasons = [
            f"--pre {request.pre}"
            if request.pre
            else "--final"
            if request.final
            else "finishing the pre-release cycle"
        ]
    return new, level_or_none, source, reasons


class _Decision(NamedTuple):
    """Which release a plan makes: the version, why, and its tag."""

    current: Version
    sources: tuple[VersionSource, ...]
    version: Version
    level: str | None
    decided_by: str
    reasons: tuple[str, ...]
    previous_tag: str | None
    tag: str
    previous_tag_why: str = ""
    line: Line | None = None


class _Contents(NamedTuple):
    """What the release commit holds, and the development commit after it."""

    edits: tuple[FileEdit, ...] = ()
    consumed_fragments: tuple[str, ...] = ()
    changelog: str = ""
    changelog_file: str | None = None
    next_dev: Version | None = None
    dev_edits: tuple[FileEdit, ...] = ()
    changelog_gathers: tuple[str, ...] = ()


def build(facts: Facts, request: Request) -> Plan:
    """The plan of the release ``request`` asks for: every stage; or for ``release ci``
    (``request.tagged``) the stages CI runs, the tag and its commit existing."""
    cfg = facts.config
    tagged = request.tagged
    stages: tuple[str, ...]
    if tagged is None:
        decision = _decide(facts, request)
        contents = _contents(facts, decision)
        stages = STAGES
    else:
        decision = _decide_tagged(facts, tagged)
        contents = _Contents(changelog=tagged.notes)  # the commit and its edits exist
        stages = ci_stages(tagged.job)
    fmt = {"version": str(decision.version), "previous": str(decision.current), "tag": decision.tag}
    next_dev = contents.next_dev
    plan = Plan(
        project=_project_name(facts),
        current=decision.current,
        sources=decision.sources,
        version=decision.version,
        level=decision.level,
        decided_by=decision.decided_by,
        reasons=decision.reasons,
        previous_tag=decision.previous_tag,
        tag=decision.tag,
        tag_message=cfg["tag-message"].format(**fmt),
        commit_message=cfg["commit-message"].format(**fmt)
        + (f"\n\n{RELEASE_TRAILER}: {decision.version}" if request.trailer else ""),
        branch=facts.git.branch,
        remote=cfg["remote"],
        edits=contents.edits,
        consumed_fragments=contents.consumed_fragments,
        changelog=contents.changelog,
        changelog_file=contents.changelog_file,
        next_dev=next_dev,
        dev_edits=contents.dev_edits,
        dev_commit_message=""
        if next_dev is None
        else cfg["dev-commit-message"].format(
            version=str(next_dev), previous=str(decision.version), tag=decision.tag
        ),
        steps=(),
        dist_dir=cfg["dist-dir"],
        targets=cfg.targets,
        forge=cfg.forge,
        sign=cfg["sign"],
        reproducible=cfg["reproducible"],
        latest_release=highest_final(facts),
        commit_hooks=cfg["commit-hooks"],
        user_steps=cfg.user_steps,
        line=decision.line,
        previous_tag_why=decision.previous_tag_why,
        changelog_gathers=contents.changelog_gathers,
        # release ci runs the gates in the job that builds, unless CI ran them already.
        gates=cfg.gates if tagged is None or ("build" in stages and cfg["ci-gates"]) else (),
        sdist_last=cfg["upload-order"] == "wheels-first",
    )
    steps = _steps(plan)
    return plan._replace(steps=tuple(s for s in steps if s.stage in stages or s.name == "gate"))


def _decide(facts: Facts, request: Request) -> _Decision:
    """The next release: the current version, the next one and why, and its tag."""
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
        if any(loc.kind == "uv-lock" for loc in cfg.locations):
            hint += " After a change to pyproject.toml, `uv lock` brings uv.lock up to date."
        raise VersionError(f"The version locations disagree: {listing}.", hint)
    new, level, decided_by, reasons = next_version(facts, request, current)
    problem = versions.publishable_problem(new)
    if problem:
        raise VersionError(problem, "Choose a version without a local label.")
    previous_tag, why = previous_release(facts)
    return _Decision(
        current=current,
        sources=sources,
        version=new,
        level=level,
        decided_by=decided_by,
        reasons=tuple(reasons),
        previous_tag=previous_tag,
        tag=tags_mod.render(cfg.tag_format, new, cfg.tag_scheme),
        previous_tag_why=why,
        line=branch_line(facts),
    )


def _decide_tagged(facts: Facts, tagged: Tagged) -> _Decision:
    """The release of a tag that exists: its version is the current one."""
    below = tags_mod.version_key(tagged.version)
    previous = [t for t in facts.release_tags if t.key < below]
    return _Decision(
        current=tagged.version,
        sources=(),
        version=tagged.version,
        level=None,
        decided_by="tag",
        reasons=(f"the tag {tagged.tag}",),
        previous_tag=previous[-1].name if previous else None,
        tag=tagged.tag,
        previous_tag_why=f"the highest release tag below {tagged.tag}" if previous else "",
    )


def _contents(facts: Facts, decision: _Decision) -> _Contents:
    """The edits of the release commit (version locations, changelog, fragments consumed)
    and of the development commit after it."""
    cfg = facts.config
    new = decision.version
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
    tc = facts.towncrier
    merged = gathered_prereleases(facts, new)
    if tc is not None:
        # A final release after pre-releases gathers their entries (docs/release-lines.md).
        contents = facts.fragments.contents
        if merged:
            contents = fragments_mod.merge_contents(*(p.fragments for p in merged), contents)
        section = facts.render_changelog(tc, contents, str(new), facts.date)
        news_file = changelog.news_file_name(tc, str(new), facts.date)
        top = changelog.title(tc, str(new), facts.date)
        before = tc.news_text if tc.config.single_file else None
        shown = before
        if merged and before is not None:
            shown = changelog.without_sections(tc, before, [str(p.version) for p in merged])
        edits.append(
            FileEdit(news_file, before, changelog.updated_news_file(tc, section, top, shown))
        )

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
    return _Contents(
        edits=tuple(edits),
        consumed_fragments=tuple(f.path for f in facts.fragments.fragments),
        changelog=section,
        changelog_file=news_file,
        next_dev=next_dev,
        dev_edits=tuple(dev_edits),
        changelog_gathers=tuple(p.tag for p in merged),
    )


def gathered_prereleases(facts: Facts, new: Version) -> tuple[PreRelease, ...]:
    """The pre-releases whose changelog entries the section of ``new`` gathers: those of
    its cycle HEAD contains (2.0.0a1 ... 2.0.0rc2 for 2.0.0), when ``new`` is final."""
    if new.is_prerelease:
        return ()
    return tuple(p for p in facts.prereleases if Version(p.version.base_version) == new)


def _project_name(facts: Facts) -> str:
    project = facts.config.pyproject.get("project", {})
    name = project.get("name") if isinstance(project, dict) else None
    return str(name or facts.project_dir.name)


def _steps(plan: Plan) -> tuple[Step, ...]:
    """Every step of ``plan``, in order; each command is the one the step runs
    (:mod:`release.commands`), with placeholders for the commits the run makes. The user's
    steps of a stage come after its built-in steps; in ``prepare``, before the release
    commit, which takes their changes to their ``paths``."""
    builtin = _builtin_steps(plan)
    steps: list[Step] = []
    for stage in STAGES:
        own = [s for s in builtin if s.stage == stage]
        users = [_user_step(u) for u in plan.user_steps if u.stage == stage]
        if own and own[-1].name == "commit" and stage == "prepare":
            steps += own[:-1] + users + own[-1:]
        else:
            steps += own + users
    return tuple(steps)


def _user_step(step: UserStep) -> Step:
    argv = step.argv(step.run)
    summary = f"{step.name}: {argv[-1] if step.shell else shlex.join(argv)}"
    if step.paths:
        summary += f" (may change {', '.join(step.paths)})"
    return Step(step.stage, "user", summary, commands.user_step(step), path=step.name)


def gate_step(gate: Gate) -> Step:
    """The step of a release gate: ``check.gate:NAME``, with the command it runs."""
    argv = commands.gate(gate)
    what = f"nox session {gate.name}" if gate.is_session else gate.name
    return Step("check", "gate", f"gate {what}: {shlex.join(argv)}", argv, path=gate.name)


def _builtin_steps(plan: Plan) -> tuple[Step, ...]:
    steps: list[Step] = [Step("check", "preflight", "check every release gate")]
    steps += [gate_step(gate) for gate in plan.gates]
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
                f"write the {plan.version} section to {plan.changelog_file}"
                + (
                    f" in place of those of {', '.join(plan.changelog_gathers)}"
                    if plan.changelog_gathers
                    else ""
                )
                + f" and remove {len(plan.consumed_fragments)} fragment(s)",
                commands.stage_changelog(plan),
            )
        )
    steps.append(
        Step(
            "prepare",
            "commit",
            f"commit: {(plan.commit_message.splitlines() or [''])[0]}",
            commands.release_commit(plan),
        )
    )
    kind = "annotated" if plan.sign == "none" else f"{plan.sign}-signed"
    steps.append(
        Step(
            "tag",
            "tag",
            f"create the {kind} tag {plan.tag} on the release commit",
            commands.tag(plan),
        )
    )
    # Built in a clean export of the tagged commit by build's API, and checked by twine's:
    # no one command to show.
    steps.append(
        Step("build", "build", f"build the sdist and wheel of {plan.tag} into {plan.dist_dir}/")
    )
    steps.append(
        Step(
            "verify",
            "verify",
            "twine check; metadata name and version match the plan; sha256 manifest"
            + ("; rebuild and compare hashes" if plan.reproducible else ""),
        )
    )
    branch = plan.branch or "HEAD"
    steps.append(
        Step(
            "push",
            "push",
            f"push {branch} and {plan.tag} to {plan.remote} atomically",
            commands.push(plan),
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
        steps += _announce_steps(plan, plan.forge)
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
            Step("post", "commit", f"commit: {plan.dev_commit_message}", commands.dev_commit(plan))
        )
        steps.append(
            Step("post", "push", f"push {branch} to {plan.remote}", commands.push_dev(plan))
        )
    return tuple(steps)


# --- Serialisation: each member of the plan JSON once, both ways --------------------------


class _Member(NamedTuple):
    """A member of the plan JSON (or of the journal only): its key, its value from a plan,
    and the plan fields read back from it."""

    key: str
    dump: Callable[[Plan], Any]
    load: Callable[[Any], dict[str, Any]]


def _field(
    key: str,
    name: str,
    dump: Callable[[Any], Any] = lambda value: value,
    load: Callable[[Any], Any] = lambda raw: raw,
) -> _Member:
    """The member ``key`` showing the field ``name`` (written by ``dump``, read by ``load``)."""
    return _Member(key, lambda plan: dump(getattr(plan, name)), lambda raw: {name: load(raw)})


def _shown(key: str, dump: Callable[[Plan], Any]) -> _Member:
    """A member derived from other fields: written, never read back."""
    return _Member(key, dump, lambda _raw: {})


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _diffs(edits: tuple[FileEdit, ...]) -> list[dict[str, str]]:
    return [{"path": e.path, "diff": e.diff()} for e in edits]


def _announce_steps(plan: Plan, forge: Forge) -> list[Step]:
    """Draft, attach, publish: a release is public only once its files are attached."""
    from release.forges import FORGES

    title = FORGES[forge.kind].title
    kind = " pre-release" if plan.version.is_prerelease else ""
    draft = (
        f"draft the {title}{kind} release {plan.tag} in {forge.repository}, notes from the "
        "changelog section"
        if FORGES[forge.kind].drafts
        else f"prepare the {title}{kind} release {plan.tag} in {forge.repository} ({title} "
        "has no drafts: the publish step makes it, notes from the changelog section)"
    )
    steps = [Step("announce", "draft", draft)]
    if forge.attach_artifacts:
        steps.append(
            Step(
                "announce",
                "attach",
                f"attach the artifacts to the {title} release {plan.tag}, each read back",
            )
        )
    if not forge.draft:
        if plan.marks_latest:
            latest = "marked latest"
        elif FORGES[forge.kind].sets_latest:
            latest = "not marked latest"
        else:  # said, since it cannot be helped: the forge decides by date
            latest = f"below an earlier release, yet {title} shows its newest release as latest"
        steps.append(
            Step("announce", "publish", f"publish the {title} release {plan.tag} ({latest})")
        )
    return steps


def _line_json(line: Line) -> dict[str, str | None]:
    return {
        "pattern": line.pattern,
        "series": line.series or None,
        "channel": line.channel or None,
    }


def _line_from_json(raw: dict[str, str | None]) -> Line:
    return Line(str(raw["pattern"]), raw.get("series") or "", raw.get("channel") or "")


def _public_steps(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "stage": s.stage,
            "name": s.name,
            "summary": s.summary,
            "command": list(s.command),
        }
        for s in plan.steps
    ]


#: The members of the plan object, in the order ``release preview --json`` shows them.
_PUBLIC: tuple[_Member, ...] = (
    _field("project", "project"),
    _field("current_version", "current", str, Version),
    _field(
        "version_sources",
        "sources",
        lambda sources: [s._asdict() for s in sources],
        lambda raw: tuple(VersionSource(s["location"], s["value"], s.get("why", "")) for s in raw),
    ),
    _field("version", "version", str, Version),
    _shown("is_prerelease", lambda plan: plan.version.is_prerelease),
    _field("bump", "level"),
    _field("decided_by", "decided_by"),
    _field("reasons", "reasons", list, tuple),
    _field("previous_tag", "previous_tag"),
    _field("previous_tag_why", "previous_tag_why"),
    _field("line", "line", _optional(_line_json), _optional(_line_from_json)),
    _field("tag", "tag"),
    _field("tag_message", "tag_message"),
    _field("commit_message", "commit_message"),
    _field("commit_hooks", "commit_hooks"),
    _field("branch", "branch"),
    _field("remote", "remote"),
    _shown("edits", lambda plan: _diffs(plan.edits)),  # the texts are kept in the journal
    _field("consumed_fragments", "consumed_fragments", list, tuple),
    _Member(
        "changelog",
        lambda plan: {"file": plan.changelog_file, "section": plan.changelog},
        lambda raw: {"changelog": raw["section"], "changelog_file": raw["file"]},
    ),
    _field("changelog_gathers", "changelog_gathers", list, tuple),
    _field("next_dev_version", "next_dev", _optional(str), _optional(Version)),
    _shown("dev_edits", lambda plan: _diffs(plan.dev_edits)),
    _field("dev_commit_message", "dev_commit_message"),
    _field("dist_dir", "dist_dir"),
    _field(
        "publish",
        "targets",
        lambda targets: [t.as_dict("_") for t in targets],
        lambda raw: tuple(Target.from_dict(t) for t in raw),
    ),
    _field("forge", "forge", _optional(lambda f: f.as_dict("_")), _optional(Forge.from_dict)),
    _shown("marks_latest", lambda plan: plan.marks_latest),
    _field("sign", "sign"),
    _field("reproducible", "reproducible"),
    _field(
        "user_steps",
        "user_steps",
        lambda steps: [s.as_dict("_") for s in steps],
        lambda raw: tuple(UserStep.from_dict(s) for s in raw),
    ),
    _field(
        "gates",
        "gates",
        lambda gates: [g.as_dict() for g in gates],
        lambda raw: tuple(Gate.from_dict(g) for g in raw),
    ),
    _shown("steps", _public_steps),  # the journal keeps them whole
)


def _edits_kept(key: str, name: str) -> _Member:
    return _field(
        key,
        name,
        lambda edits: [[e.path, e.before, e.after] for e in edits],
        lambda raw: tuple(FileEdit(*e) for e in raw),
    )


#: What the journal keeps beside the plan object, which shows it only in part.
_KEPT: tuple[_Member, ...] = (
    _edits_kept("edits", "edits"),
    _edits_kept("dev_edits", "dev_edits"),
    _field(
        "steps",
        "steps",
        lambda steps: [[s.stage, s.name, s.summary, list(s.command), s.path] for s in steps],
        lambda raw: tuple(Step(st, n, su, tuple(c), p) for st, n, su, c, p in raw),
    ),
    _field("latest_release", "latest_release", _optional(str), _optional(Version)),
    _field("sdist_last", "sdist_last"),
)
