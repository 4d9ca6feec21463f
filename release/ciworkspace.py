"""``release ci`` at the root of a repository of several packages (docs/monorepo.md).

Whatever started the run (a push to a release branch, a push of a package's release tag,
a run started by hand), it releases every package whose release tag is on HEAD, as one
release: each package's CI plan (:func:`release.ci.prepare_plan`) composed with the others
(:func:`release.workspace.compose.compose`), so every package is built and verified, then
published in dependency order, a dependent only once every target serves the new files of
the packages it requires, all under one journal. Every step probes whether it is already done,
so a second run for the same commit finds the release done and changes nothing.
``--tag NAME`` narrows the run to that tag's package. A HEAD without a package's release
tag (any other commit pushed to the branch) is nothing to do.

With ``--build-only --outdir DIR`` each package's files and manifest go to a directory of
its own, ``DIR/<name>/`` (:func:`artifact_dir`); ``--publish-from DIR`` gathers each
package's files from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from release.errors import NothingToRelease, UsageError
from release.executor import Outcome
from release.journal import Lock, state_dir
from release.names import normalised
from release.ops.git import ROOT_PROJECT, locate
from release.runner import Runner
from release.steps import Context
from release.version import Scheme

if TYPE_CHECKING:
    from release.collect import Collected
    from release.config import Inherited
    from release.packages import Package
    from release.workspace.plan import Member, WorkspacePlan


class PackageTag(NamedTuple):
    """A package to release in this run, the tag it is released from, and the root
    settings it inherits."""

    package: Package
    tag: str
    inherited: Inherited


@dataclass
class WorkspaceCiResult:
    plan: WorkspacePlan
    outcomes: list[Outcome] = field(default_factory=list)
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)  # package -> file -> sha256
    warnings: list[str] = field(default_factory=list)


def artifact_dir(outdir: Path, name: str) -> Path:
    """Where a build job writes the files and manifest of the package ``name``, and where
    the publish job looks for them: a directory named after the package (its name
    PEP 503-normalised, which a valid name makes a safe path component)."""
    return outdir / normalised(name)


def head_tags(root: Path) -> list[str]:
    return Runner(root).git("tag", "--points-at", "HEAD").stdout.split()


def tagged_packages(
    root: Path, environ: Mapping[str, str], overrides: Sequence[str], given: str | None
) -> list[PackageTag]:
    """The packages to release and each one's tag, in dependency order: with ``given``
    (``--tag``), that tag's package alone; without, every package's release tag on HEAD,
    whichever tag or branch the CI system says the run is for. Empty when HEAD carries no
    package's release tag."""
    from release import tags as tags_mod
    from release.config import inherited_from_root, load
    from release.packages import dependency_order, discover
    from release.workspace.gather import about_package

    names = [given] if given else head_tags(root)
    found: list[PackageTag] = []
    owners: dict[str, list[str]] = {}
    formats: list[tuple[str, Scheme]] = []
    for package in dependency_order(discover(root)):
        inherited = inherited_from_root(root, package.path)
        with about_package(package):
            cfg = load(
                root / package.path, environ=environ, overrides=overrides, workspace=inherited
            )
        formats.append((cfg.tag_format, cfg.tag_scheme))
        mine = [t.name for t in tags_mod.release_tags(names, cfg.tag_format, cfg.tag_scheme)]
        if len(mine) > 1:
            raise UsageError(
                f"HEAD carries several release tags of {package.name}: {', '.join(mine)}; "
                "one run releases one version of a package.",
                "Name the one to release: release ci --tag NAME.",
            )
        for name in mine:
            owners.setdefault(name, []).append(package.name)
            found.append(PackageTag(package, name, inherited))
    shared = {name: who for name, who in owners.items() if len(who) > 1}
    if shared:
        name, who = next(iter(shared.items()))
        raise UsageError(
            f"The tag {name} is a release tag of several packages ({', '.join(who)}): their "
            "`tag-format`s write the same names.",
            "Give each package a `tag-format` of its own (the default is {name}-v{version}).",
        )
    if found and not given:
        _refuse_commits_below(root, formats, environ, overrides)
    if given and not found:
        raise NothingToRelease(
            f"Nothing to release: the tag {given!r} is no release tag of a package of this "
            "repository.",
            "Name a package's release tag (its `tag-format`, by default NAME-vVERSION), or "
            "leave --tag out to release every package's release tag on HEAD.",
        )
    return found


def _refuse_commits_below(
    root: Path,
    formats: Sequence[tuple[str, Scheme]],
    environ: Mapping[str, str],
    overrides: Sequence[str],
) -> None:
    """With one release commit per package (``consolidate-commits = false``), the tags of
    a release are on a chain of commits, and HEAD has only the last package's: releasing
    it alone would publish a dependent before the packages it requires, so a run that
    finds package release tags on the commits just below HEAD refuses, naming them."""
    from release import tags as tags_mod
    from release.config import root_setting

    if root_setting(root, "consolidate-commits", environ=environ, overrides=overrides):
        return
    runner = Runner(root)
    below: list[str] = []
    for depth in range(1, 1000):
        done = runner.git("tag", "--points-at", f"HEAD~{depth}", check=False)
        names = done.stdout.split() if done.returncode == 0 else []
        released = [
            tag.name for fmt, scheme in formats for tag in tags_mod.release_tags(names, fmt, scheme)
        ]
        if not released:
            break
        below += released
    if below:
        raise UsageError(
            "HEAD carries the release tag of one package of a release made with one commit "
            "per package (consolidate-commits = false); the commits below it carry "
            f"{', '.join(below)}, which release ci at the root releases only from HEAD.",
            "Run release ci --tag NAME on a checkout of each of these tags, dependencies "
            "first, then this one; or set consolidate-commits = true (one commit, which "
            "CI releases in one run). See docs/monorepo.md.",
        )


def nothing_tagged(root: Path) -> str:
    """The one line a run says when HEAD carries no package's release tag."""
    head = Runner(root).git("rev-parse", "HEAD").stdout.strip()
    tags = ", ".join(head_tags(root)) or "none"
    return (
        f"Nothing to release: HEAD ({head[:12]}) carries no release tag of a package of this "
        f"repository (its tags: {tags})."
    )


def compose_ci(members: Sequence[Member]) -> WorkspacePlan:
    """The release of ``members`` (each one's CI plan, dependencies first) as one: the
    steps of a release of several packages, of which a CI plan has only those after the
    push (no commit, no push)."""
    from release.workspace.compose import compose

    return compose(members)


def plan(
    root: Path,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    tag: str | None,
    job: str | None = None,
) -> WorkspacePlan | None:
    """The CI release at ``root`` (the stages of ``job``, or of every CI job), or None
    when HEAD carries no package's release tag. Each tag is checked as in a project of its
    own: it matches its package's `tag-format`, HEAD is its commit, and the package's
    version files hold its version."""
    from release.ci import prepare_plan
    from release.workspace.gather import about_package
    from release.workspace.plan import Member
    from release.workspace.planning import requires_among

    chosen = tagged_packages(root, environ, overrides, tag)
    if not chosen:
        return None
    names = [item.package.name for item in chosen]
    members: list[Member] = []
    for item in chosen:
        with about_package(item.package):
            made, *_ = prepare_plan(
                root / item.package.path,
                environ,
                overrides,
                item.tag,
                job,
                workspace=item.inherited,
            )
        requires = requires_among(item.package, names)
        members.append(Member(item.package.name, item.package.path, made, requires))
    return compose_ci(members)


def run(
    root: Path,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    tag: str | None = None,
    build_only: bool = False,
    publish_from: Path | None = None,
    outdir: Path | None = None,
    dist: str | None = None,
    sdist_only: Sequence[str] = (),
    on_step: Callable[[Outcome], None] = lambda _o: None,
    on_plan: Callable[[WorkspacePlan], None] = lambda _p: None,
) -> WorkspaceCiResult | None:
    """``release ci`` at the root: the release of every package tagged on HEAD (see
    :func:`plan`), or None, having changed nothing, when there is none. With
    ``build_only``, each package's files of the kind ``dist`` (both when None), but only
    the sdist of the packages ``sdist_only`` names (whose wheels a matrix of jobs builds)."""
    from release.ci import ci_journal, execute_journaled, write_manifest

    matrix = sdist_only_packages(root, sdist_only)
    job = "build" if build_only else "publish" if publish_from is not None else None
    made = plan(root, environ, overrides, tag, job)
    if made is None:
        return None
    on_plan(made)
    runner = Runner(root)
    git_dir, _project = locate(runner)
    state = state_dir(git_dir, ROOT_PROJECT)
    head = runner.git("rev-parse", "HEAD").stdout.strip()
    warnings: list[str] = []
    with Lock(state):
        journal = ci_journal(
            state,
            head=head,
            project=ROOT_PROJECT,
            plan=made.to_journal(),
            branch=made.shared.branch,
            steps=made.steps,
        )
        if publish_from is not None:
            for member in made.members:
                collected = gather_package(root, publish_from, member, environ, overrides)
                journal.of_package(member.name).artifacts = collected.files
                warnings += [f"{member.name}: {text}" for text in collected.warnings]
        ctx = Context(
            root, state, runner, made.shared, journal, environ, tuple(overrides), workspace=made
        )
        report = execute_journaled(ctx, on_step)
    artifacts = {m.name: dict(journal.of_package(m.name).artifacts) for m in made.members}
    if build_only:
        artifacts = {
            name: {f: h for f, h in files.items() if _kept(_kind(f), name, dist, matrix)}
            for name, files in artifacts.items()
        }
        for member in made.members:
            built = root / member.path / member.plan.dist_dir
            target = artifact_dir(outdir, member.name) if outdir is not None else built
            write_manifest(built, target, member.plan, artifacts[member.name])
    return WorkspaceCiResult(made, report.outcomes, artifacts, warnings)


def _kind(name: str) -> str:
    return "wheel" if name.endswith(".whl") else "sdist"


def _kept(kind: str, package: str, dist: str | None, sdist_only: frozenset[str]) -> bool:
    """Whether a build job writes a file of ``kind`` of ``package``."""
    wanted = "sdist" if normalised(package) in sdist_only else dist
    return wanted is None or kind == wanted


def sdist_only_packages(root: Path, names: Sequence[str]) -> frozenset[str]:
    """The packages ``--sdist-only`` names, PEP 503-normalised: each one a package of the
    repository (checked on every run, a commit without a release tag too, so that a name
    the pipeline misspells shows on its first run)."""
    if not names:
        return frozenset()
    from release.packages import discover

    known = {package.key: package.name for package in discover(root)}
    unknown = [name for name in names if normalised(name) not in known]
    if unknown:
        raise UsageError(
            f"release ci --sdist-only {unknown[0]}: no package of the repository at {root} is "
            f"named {unknown[0]!r} (its packages: {', '.join(sorted(known.values()))}).",
            "Name a package whose wheels a matrix of jobs builds; after renaming a package, "
            "run release init --ci again.",
        )
    return frozenset(normalised(name) for name in names)


# -- the packages tagged on HEAD, for the wheel jobs (--list-tagged) -------------------------


def tagged_names(
    root: Path, environ: Mapping[str, str], overrides: Sequence[str], tag: str | None
) -> list[str]:
    """The PEP 503-normalised names of the packages to release (:func:`tagged_packages`),
    in dependency order: empty when HEAD carries no package's release tag."""
    return [
        normalised(item.package.name) for item in tagged_packages(root, environ, overrides, tag)
    ]


def write_tagged_output(environ: Mapping[str, str], names: Sequence[str]) -> str:
    """``names`` as one line of JSON, written to the job output ``packages`` where the CI
    system takes it (GitLab: ``RELEASE_PACKAGES`` in the dotenv report); the line."""
    import json

    from release import cisystems

    line = json.dumps(list(names), separators=(",", ":"))
    cisystems.detect(environ).write_outputs(environ, {"packages": line}, "")
    return line


def gather_package(
    root: Path,
    source: Path,
    member: Member,
    environ: Mapping[str, str],
    overrides: Sequence[str],
) -> Collected:
    """The files of ``member`` that the build job wrote to ``source/<name>/``, checked as
    one release of its tag and copied to its dist-dir (:func:`release.ci.gather_artifacts`)."""
    from release.ci import expected_wheels, gather_artifacts
    from release.collect import CollectError
    from release.config import inherited_from_root

    own = artifact_dir(source, member.name)
    if not own.is_dir():
        raise CollectError(
            f"{own} does not exist: the files of {member.name} {member.plan.version} "
            f"({member.plan.tag}) are looked for there.",
            "At the root of a repository of several packages, release ci --build-only "
            "--outdir DIR writes each package's files to DIR/<name>/; give --publish-from "
            "the directory it wrote, as it wrote it.",
        )
    package_dir = root / member.path
    expected = expected_wheels(
        package_dir, environ, overrides, workspace=inherited_from_root(root, member.path)
    )
    return gather_artifacts(own, member.plan, package_dir / member.plan.dist_dir, expected)


# -- the job's outputs ----------------------------------------------------------------------


def job_outputs(made: WorkspacePlan | None, released: bool) -> dict[str, str]:
    """The outputs of the job (:data:`release.cisystems.OUTPUT_NAMES`): every package's
    version and tag, in dependency order, separated by spaces."""
    plans = [m.plan for m in made.members] if made is not None else []
    return {
        "version": " ".join(str(p.version) for p in plans),
        "tag": " ".join(p.tag for p in plans),
        "is-prerelease": str(any(p.version.is_prerelease for p in plans)).lower(),
        "released": str(released).lower(),
    }


def job_summary(
    made: WorkspacePlan | None,
    outcomes: Sequence[Outcome],
    artifacts: Mapping[str, Mapping[str, str]],
) -> str:
    """The job's summary in Markdown: each package's release checklist (its own steps,
    done or not), then every step with its result and time, then each file's sha256."""
    if made is None:
        return ""
    from release.markdown import plan_markdown

    lines: list[str] = []
    for member in made.members:
        own = {
            o.step._replace(package="").id: o.status
            for o in outcomes
            if o.step.package == member.name
        }
        lines += [plan_markdown(member.plan, [], own).rstrip("\n"), ""]
    lines += [
        "## Times",
        "",
        "| package | stage | step | result | time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for outcome in outcomes:
        step = outcome.step
        lines.append(
            f"| {step.package or 'all'} | {step.stage} | {step.summary} | {outcome.status} "
            f"| {outcome.seconds:.1f}s |"
        )
    files = [(n, f, h) for n, own_files in artifacts.items() for f, h in sorted(own_files.items())]
    if files:
        lines += ["", "| package | file | sha256 |", "| --- | --- | --- |"]
        lines += [f"| {n} | {f} | `{h}` |" for n, f, h in files]
    return "\n".join(lines) + "\n"


def write_job_outputs(
    environ: Mapping[str, str],
    made: WorkspacePlan | None,
    outcomes: Sequence[Outcome],
    artifacts: Mapping[str, Mapping[str, str]],
    released: bool,
) -> Path | None:
    """Write the job's outputs and summary where the CI system takes them (see
    :func:`release.ci.write_job_outputs`)."""
    from release import cisystems

    system = cisystems.detect(environ)
    return system.write_outputs(
        environ, job_outputs(made, released), job_summary(made, outcomes, artifacts)
    )
