"""``release ci``: the release job of a CI run triggered by a tag push.

It checks that the tag is a release tag whose version every version source
holds and that HEAD is the tagged commit, then builds, verifies, publishes and
announces - never interactively.  ``--build-only`` (a matrix job) builds and
writes the artifacts with a manifest; ``--publish-from DIR`` (the single publish
job) verifies the gathered artifacts against their manifests, then publishes and
announces.  Re-running is safe: every step probes whether it is already done.  At the
root of a repository of several packages, :mod:`release.ciworkspace` releases every
package tagged on HEAD with the plans made here.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.collect import MANIFEST_PREFIX
from release.errors import EXIT_USAGE, NothingToRelease, ReleaseError
from release.executor import Outcome, Report, execute
from release.journal import PENDING, Journal, Lock, state_dir
from release.ops.git import locate
from release.plan import RELEASE_TRAILER, Plan, Request, Step, Tagged, build
from release.runner import Runner
from release.steps import Context

if TYPE_CHECKING:
    from release.collect import Collected
    from release.config import Config, Inherited
    from release.wheels import Expected


class TagMismatch(ReleaseError):
    exit_code = EXIT_USAGE


@dataclass
class CiResult:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. wheels nobody expected


def find_tag(
    runner: Runner, environ: Mapping[str, str], given: str | None, cfg: Config | None = None
) -> str:
    """The tag of the run: ``given``, else the one the CI system names, else on a push to a
    branch the tag of a merged release commit (made and pushed now), else HEAD's tag."""
    from release import cisystems

    if given:
        return given
    system = cisystems.detect(environ)
    named = system.tag(environ)
    if named:
        return named
    branch = system.branch(environ)
    if branch is not None and cfg is not None:
        merged = merged_release(runner, cfg)
        if merged is not None:
            return merged
    exact = runner.git("describe", "--exact-match", "--tags", "HEAD", check=False)
    if exact.returncode == 0:
        return exact.stdout.strip()
    raise NothingToRelease(
        "Nothing to release: this run is not for a tag "
        f"({system.ref_described(environ)} and HEAD carries no tag).",
        "release ci runs on a tag push, or on the push that merges a release pull request "
        f"(a commit with the trailer {RELEASE_TRAILER}: VERSION); pass --tag to name a tag.",
    )


def release_version(runner: Runner) -> str | None:
    """The version a merged release commit names in its trailer: HEAD's (a squash merge
    keeps the trailer in the squashed message; a rebase merge puts the commit itself on
    the branch), else, for a merge commit, its second parent's (the pull request's head)."""
    # git's own squash message indents the squashed messages: allow leading blanks.
    line = re.compile(rf"^[ \t]*{RELEASE_TRAILER}:[ \t]*(\S+)[ \t]*$", re.MULTILINE)
    for commit in ("HEAD", "HEAD^2"):
        shown = runner.git("show", "--no-patch", "--format=%B", commit, "--", check=False)
        if shown.returncode != 0:
            continue
        named = sorted({str(v) for v in line.findall(shown.stdout)})
        if len(named) > 1:
            raise TagMismatch(
                f"The commit {commit} names several release versions ({', '.join(named)}) "
                f"in {RELEASE_TRAILER} trailers.",
                "Merge one release pull request at a time; release the version meant with "
                "release ci --tag after tagging it.",
            )
        if named:
            return named[0]
    return None


def merged_release(runner: Runner, cfg: Config) -> str | None:
    """On a push that merged a release pull request: its tag, made on HEAD (the merged
    commit) and pushed, unless already there; None when HEAD is no merged release."""
    from release import commands, tags
    from release import version as versions
    from release.ops.git import remote_refs, rev
    from release.testhooks import failpoint

    found = release_version(runner)
    if found is None:
        return None
    version = versions.parse(found, where=f"the {RELEASE_TRAILER} trailer")
    name = tags.render(cfg.tag_format, version, cfg.tag_scheme)
    head = rev(runner, "HEAD")
    assert head is not None
    failpoint("merge.tag", "before")
    local = rev(runner, f"refs/tags/{name}^{{commit}}")
    if local is None:
        message = cfg["tag-message"].format(version=str(version), previous="", tag=name)
        runner.run(commands.tag_of(cfg["sign"], message, name, head))
    elif local != head:
        raise TagMismatch(
            f"The tag {name} exists on {local[:12]}, not on the merged release commit {head[:12]}.",
            "A release of that version was made elsewhere; check the tag before releasing.",
        )
    failpoint("merge.push-tag", "before")
    ref = f"refs/tags/{name}"
    there = remote_refs(runner, cfg["remote"], ref, f"{ref}^{{}}")
    peeled = there.get(f"{ref}^{{}}") or there.get(ref)
    if peeled is None:
        runner.run(commands.push_tag(cfg["remote"], name))
    elif peeled != head:
        raise TagMismatch(
            f"{cfg['remote']} has the tag {name} on {peeled[:12]}, not on the merged release "
            f"commit {head[:12]}.",
            "A release of that version was made elsewhere; check the tag before releasing.",
        )
    failpoint("merge.push-tag", "after")
    return name


def _unshallow(runner: Runner, remote: str) -> None:
    shallow = runner.git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    if shallow:
        runner.git("fetch", "--quiet", "--unshallow", "--tags", remote)


def prepare_plan(
    project_dir: Path,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    tag: str | None,
    job: str | None = None,
    *,
    workspace: Inherited | None = None,
) -> tuple[Plan, Runner, Path, str]:
    """The plan of ``release ci`` for the tag: the stages of ``job`` (see
    :data:`release.stages.CI_JOBS`), or of every CI job when None. ``workspace``: the
    project is a package of a repository of several (the root settings it inherits)."""
    from release import tags as tags_mod
    from release import version as versions
    from release.changelog import extract_section
    from release.facts import gather
    from release.locations import read_version

    runner = Runner(project_dir)
    facts = gather(
        project_dir, environ=environ, overrides=overrides, runner=runner, workspace=workspace
    )
    name = find_tag(runner, environ, tag, facts.config)
    cfg = facts.config
    _unshallow(runner, cfg["remote"])
    facts = gather(
        project_dir, environ=environ, overrides=overrides, runner=runner, workspace=workspace
    )
    match = tags_mod.pattern(cfg.tag_format).match(name)
    try:
        version = versions.read(match["version"], cfg.tag_scheme) if match else None
    except ReleaseError:
        version = None
    if version is None:
        raise NothingToRelease(
            f"Nothing to release: the tag {name!r} is not a release tag of the form "
            f"{cfg.tag_format!r}.",
            "Only tags matching `tag-format` are released.",
        )
    tagged = runner.git(
        "rev-parse", "--verify", "--quiet", f"refs/tags/{name}^{{commit}}", check=False
    ).stdout.strip()
    if not tagged:
        raise TagMismatch(
            f"The tag {name} does not exist in this clone.",
            "Fetch tags (actions/checkout with fetch-depth: 0).",
        )
    if tagged != facts.git.head:
        raise TagMismatch(
            f"HEAD ({str(facts.git.head)[:12]}) is not the commit tagged {name} ({tagged[:12]}).",
            "Check out the tag itself in the release job.",
        )
    wrong = []
    for loc in cfg.locations:
        if loc.kind == "scm":
            continue
        value = read_version(loc, facts.files[loc.path])
        if versions.parse(value, where=loc.describe()) != version:
            wrong.append(f"{loc.describe()} = {value}")
    if wrong:
        raise TagMismatch(
            f"The tag {name} says {version}, but " + "; ".join(wrong) + ".",
            "Tag the commit whose version files hold that version (release run does).",
        )
    notes = ""
    if facts.towncrier is not None:
        notes = extract_section(facts.towncrier, str(version)) or ""
    plan = build(facts, Request(tagged=Tagged(name, version, notes, job)))
    return plan, runner, *locate(runner)


def ci_journal(
    state: Path,
    *,
    head: str,
    project: str,
    plan: dict[str, Any],
    branch: str | None,
    steps: Iterable[Step],
) -> Journal:
    """The journal of a ``release ci`` run (``plan`` as its journal holds it): the release
    commit is HEAD, already pushed, and every step is still to do."""
    return Journal(
        path=state / "ci-journal.json",
        plan=plan,
        start_head=head,
        start_branch=branch or "",
        steps={s.id: PENDING for s in steps},
        release_commit=head,
        pushed=True,
        project=project,
    )


def execute_journaled(ctx: Context, on_step: Callable[[Outcome], None]) -> Report:
    """Run the steps of a ``release ci`` job under its journal, saved before and after."""
    ctx.journal.save()
    report = execute(ctx, on_step=on_step)
    ctx.journal.finished = True
    ctx.journal.save()
    return report


def run_ci(
    project_dir: Path,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    tag: str | None = None,
    build_only: bool = False,
    publish_from: Path | None = None,
    outdir: Path | None = None,
    dist: str | None = None,
    on_step: Callable[[Outcome], None] = lambda _o: None,
    on_plan: Callable[[Plan], None] = lambda _p: None,
    workspace: Inherited | None = None,
) -> CiResult:
    job = "build" if build_only else "publish" if publish_from is not None else None
    plan, runner, git_dir, project = prepare_plan(
        project_dir, environ, overrides, tag, job, workspace=workspace
    )
    state = state_dir(git_dir, project)
    on_plan(plan)
    head = runner.git("rev-parse", "HEAD").stdout.strip()
    warnings: list[str] = []
    with Lock(state):
        journal = ci_journal(
            state,
            head=head,
            project=project,
            plan=plan.to_journal(),
            branch=plan.branch,
            steps=plan.steps,
        )
        if publish_from is not None:
            collected = gather_artifacts(
                publish_from,
                plan,
                project_dir / plan.dist_dir,
                expected_wheels(project_dir, environ, overrides, workspace=workspace),
            )
            journal.artifacts = collected.files
            warnings += collected.warnings
        ctx = Context(project_dir, state, runner, plan, journal, environ, tuple(overrides))
        report = execute_journaled(ctx, on_step)
    result = CiResult(plan, report.outcomes, dict(journal.artifacts), warnings)
    if build_only:
        kept = {n: d for n, d in journal.artifacts.items() if dist is None or _kind(n) == dist}
        write_manifest(
            project_dir / plan.dist_dir, outdir or project_dir / plan.dist_dir, plan, kept
        )
        result.artifacts = kept
    return result


def _kind(name: str) -> str:
    return "wheel" if name.endswith(".whl") else "sdist"


def expected_wheels(
    project_dir: Path,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    *,
    workspace: Inherited | None = None,
) -> Expected:
    """The wheels a release of the project must have (:func:`release.wheels.expected`); a
    ``CIBW_*`` variable of ``environ`` that overrides ``[tool.cibuildwheel]`` means none is
    derived from it. ``workspace``: the root settings a package inherits."""
    from release import wheels
    from release.config import load

    cfg = load(project_dir, environ=environ, overrides=overrides, workspace=workspace)
    return wheels.expected(cfg["wheels"], cfg.pyproject, environ)


def write_manifest(dist: Path, outdir: Path, plan: Plan, artifacts: dict[str, str]) -> Path:
    import hashlib

    outdir.mkdir(parents=True, exist_ok=True)
    for name in artifacts:
        if (outdir / name).resolve() != (dist / name).resolve():
            shutil.copy2(dist / name, outdir / name)
    key = hashlib.sha256("\n".join(sorted(artifacts)).encode()).hexdigest()[:12]
    path = outdir / f"{MANIFEST_PREFIX}-{key}.json"
    path.write_text(
        json.dumps(
            {
                "schema": "release-pipeline/artifacts",
                "schema_version": 1,
                "project": plan.project,
                "version": str(plan.version),
                "tag": plan.tag,
                "files": dict(sorted(artifacts.items())),
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def gather_artifacts(
    source: Path, plan: Plan, dist: Path, expected: Expected | None = None
) -> Collected:
    """Gather the files under ``source`` (each manifest's checked against it, bare wheels of
    cibuildwheel or maturin too), check them as one release of the plan's tag against the
    ``expected`` wheels, and copy them to ``dist`` (:mod:`release.collect`)."""
    from release.collect import collect
    from release.wheels import Expected

    return collect([source], plan.project, plan.version, dist, expected or Expected((), ""))


def job_outputs(plan: Plan | None, released: bool) -> dict[str, str]:
    """The outputs of a ``release ci`` job (:data:`release.cisystems.OUTPUT_NAMES`): known as
    soon as the tag is checked, so written on failure too."""
    return {
        "version": str(plan.version) if plan else "",
        "tag": plan.tag if plan else "",
        "is-prerelease": str(bool(plan and plan.version.is_prerelease)).lower(),
        "released": str(released).lower(),
    }


def job_summary(result: CiResult | None, plan: Plan | None) -> str:
    """The job's summary in Markdown: the release checklist (:mod:`release.markdown`: the
    version, the gates, the changelog section, each step done or not), then each step with
    its result and time, each file with its sha256 (empty before the tag is checked)."""
    if plan is None:
        return ""
    from release.markdown import plan_markdown

    outcomes = {o.step.id: o.status for o in (result.outcomes if result else [])}
    lines = [
        plan_markdown(plan, [], outcomes).rstrip("\n"),
        "",
        "## Times",
        "",
        "| stage | step | result | time |",
        "| --- | --- | --- | --- |",
    ]
    for outcome in result.outcomes if result else []:
        lines.append(
            f"| {outcome.step.stage} | {outcome.step.summary} | {outcome.status} "
            f"| {outcome.seconds:.1f}s |"
        )
    if result and result.artifacts:
        lines += ["", "| file | sha256 |", "| --- | --- |"]
        lines += [f"| {n} | `{h}` |" for n, h in sorted(result.artifacts.items())]
    return "\n".join(lines) + "\n"


def write_job_outputs(
    environ: Mapping[str, str], result: CiResult | None, released: bool, plan: Plan | None
) -> Path | None:
    """Write the job's outputs and summary where the CI system it runs in takes them
    (GitHub Actions: $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY; GitLab CI: the dotenv report
    release.env); the outputs' file, or None outside CI."""
    from release import cisystems

    system = cisystems.detect(environ)
    return system.write_outputs(environ, job_outputs(plan, released), job_summary(result, plan))
