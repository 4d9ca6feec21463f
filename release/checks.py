"""Preflight gates.  Every problem is collected; nothing stops at the first one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from release import version as versions
from release.errors import EXIT_CHECK_FAILED, EXIT_USAGE, ReleaseError
from release.facts import Facts, RemoteFacts
from release.plan import Plan, Request, reachable_top
from release.stages import reaches

if TYPE_CHECKING:
    from release.config import Forge
    from release.ops.gates import GateResult
    from release.runner import Runner
    from release.targets import TargetFacts


class Problem(NamedTuple):
    code: str
    message: str
    hint: str
    exit_code: int = EXIT_CHECK_FAILED

    @classmethod
    def from_error(cls, code: str, error: ReleaseError) -> Problem:
        return cls(code, error.message, error.hint, error.exit_code)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


def input_problems(facts: Facts) -> list[Problem]:
    """Problems with what the user wrote (exit 2): the fragments and towncrier's presence."""
    found = [Problem.from_error("fragment", e) for e in facts.fragments.problems]
    tc = facts.towncrier
    cfg = facts.config
    if tc is None and cfg["version-source"] == "fragments":
        found.append(
            Problem(
                "towncrier",
                "No towncrier configuration: neither [tool.towncrier] in pyproject.toml nor "
                "towncrier.toml exists, so there are no fragments to decide the version or write "
                "the changelog.",
                "Add a [tool.towncrier] section (release init can write one), or set "
                'version-source = "commits".',
                EXIT_USAGE,
            )
        )
    return found


def state_problems(
    facts: Facts,
    plan: Plan | None,
    remote: RemoteFacts | None,
    targets: tuple[TargetFacts, ...] = (),
    *,
    environ: Mapping[str, str] | None = None,
    until: str | None = None,
) -> list[Problem]:
    """Problems with the state of the repository (exit 1)."""
    git = facts.git
    cfg = facts.config
    found: list[Problem] = []
    if git.head is None:
        found.append(
            Problem(
                "no-commits",
                "The repository has no commits yet.",
                "Commit the project before releasing it.",
            )
        )
    # Untracked artifacts in dist-dir are this tool's own output, not a user's change.
    dist = cfg["dist-dir"].rstrip("/") + "/"
    dirty = [p for p in git.dirty if not p.startswith(dist)]
    if dirty:
        shown = ", ".join(dirty[:20]) + (f" and {len(dirty) - 20} more" if len(dirty) > 20 else "")
        found.append(
            Problem(
                "dirty-tree",
                f"The work tree has uncommitted changes: {shown}.",
                "Commit or stash them (git stash --include-untracked) first.",
            )
        )
    allowed = ", ".join(line.pattern for line in cfg.lines)
    if git.branch is None:
        found.append(
            Problem(
                "detached-head",
                "HEAD is detached; releases are made from a branch.",
                f"Check out a release branch ({allowed}).",
            )
        )
    elif not cfg.branch_allowed(git.branch):
        found.append(
            Problem(
                "branch",
                f"The branch {git.branch!r} is not a release branch.",
                f"Check out one of: {allowed} (or add it to `branches` in [tool.release]).",
            )
        )
    if not git.identity:
        found.append(
            Problem(
                "git-identity",
                "git does not know who is committing, so the release commit cannot be made.",
                'Set it: git config user.name "Your Name" && git config user.email you@example.com '
                "(or GIT_AUTHOR_NAME/EMAIL and GIT_COMMITTER_NAME/EMAIL in CI).",
            )
        )
    if git.shallow:
        found.append(
            Problem(
                "shallow",
                "The clone is shallow, so tags and history may be missing.",
                "Run git fetch --unshallow --tags first.",
            )
        )
    if git.behind:
        found.append(
            Problem(
                "behind",
                f"The branch is {git.behind} commit(s) behind {git.upstream}.",
                "Pull (git pull --rebase) before releasing.",
            )
        )
    if (
        not facts.fragments.fragments
        and not facts.fragments.problems  # invalid fragments are reported as such
        and facts.towncrier is not None
        and not cfg["allow-no-fragments"]
        # A final release after pre-releases gathers their entries: its section has them.
        and not (plan is not None and plan.changelog_gathers)
    ):
        found.append(
            Problem(
                "no-fragments",
                "There are no changelog fragments, so the changelog section would be empty.",
                'Add one (release fragment ISSUE TYPE "text"), or set allow-no-fragments = true.',
            )
        )
    if plan is not None:
        found += _plan_problems(facts, plan, remote)
        found += _target_problems(plan, targets)
        forge = plan.forge if reaches("announce", until) else None
        if forge is not None and environ is not None:
            found += _forge_problems(forge, environ)
    return found


def _forge_problems(forge: Forge, environ: Mapping[str, str]) -> list[Problem]:
    from release.forges import FORGES, token

    found: list[Problem] = []
    if not token(forge, environ):
        kind = FORGES[forge.kind]
        found.append(
            Problem(
                "forge-token",
                f"No {kind.title} token for the announce stage: {forge.token_env} is not set.",
                f"Set {forge.token_env} to {kind.token_hint} of {forge.repository}.",
            )
        )
    return found


def _target_problems(plan: Plan, targets: tuple[TargetFacts, ...]) -> list[Problem]:
    found: list[Problem] = []
    for facts in targets:
        if facts.credential_source is None:
            found.append(
                Problem(
                    "credentials",
                    f"No credentials for the publish target {facts.name!r}.",
                    facts.credentials_hint,
                )
            )
        if facts.error:
            found.append(
                Problem(
                    "index",
                    f"The index of publish target {facts.name!r} cannot be read: {facts.error}",
                    facts.error_hint,
                )
            )
        if facts.files_of_version:
            found.append(
                Problem(
                    "version-on-index",
                    f"{plan.project} {plan.version} is already on {facts.name!r} "
                    f"({', '.join(facts.files_of_version)}).",
                    "Release another version; an index never takes a filename twice.",
                )
            )
    return found


def _plan_problems(facts: Facts, plan: Plan, remote: RemoteFacts | None) -> list[Problem]:
    found: list[Problem] = []
    # Releases on other branches (2.0 beside the 1.4.x line) do not bound this one.
    reachable = reachable_top(facts)
    top = reachable.version if reachable is not None else None
    if (
        top is not None
        and plan.current < top
        and not any(s.location.startswith("scm") for s in plan.sources)
    ):
        found.append(
            Problem(
                "version-below-release",
                f"The current version {plan.current} is lower than the release {top}, which is "
                "already tagged.",
                f"Set the version locations to {top} (or later) before releasing.",
            )
        )
    if top is not None and plan.version <= top:
        found.append(
            Problem(
                "version-not-new",
                f"The next version {plan.version} is not greater than the release {top}"
                + (
                    f", the last of the series {plan.line.series}."
                    if plan.line and plan.line.series
                    else "."
                ),
                f"Ask for a version above {top}.",
            )
        )
    found += _series_problems(plan)
    if plan.tag in facts.git.tags:
        found.append(
            Problem(
                "tag-exists",
                f"The tag {plan.tag} already exists locally.",
                f"Delete it (git tag -d {plan.tag}) if it is stale, or release another version.",
            )
        )
    if remote is not None:
        if not remote.tag_name_valid:
            found.append(
                Problem(
                    "tag-name",
                    f"git check-ref-format rejects the tag name {plan.tag!r}.",
                    "Change `tag-format` in [tool.release].",
                    EXIT_USAGE,
                )
            )
        if not remote.reachable:
            found.append(
                Problem(
                    "remote",
                    f"The remote {facts.config['remote']!r} cannot be read: {remote.error}.",
                    "Add it (git remote add) or set `remote` in [tool.release].",
                )
            )
        else:
            if remote.tag_commit is not None:
                found.append(
                    Problem(
                        "tag-exists-remote",
                        f"The tag {plan.tag} already exists on {facts.config['remote']}.",
                        "That version was released; release another version.",
                    )
                )
            # Already reported as `behind` when the upstream is that same remote branch.
            same = facts.git.upstream == f"{facts.config['remote']}/{facts.git.branch}"
            if not remote.head_contains_remote and not (facts.git.behind and same):
                found.append(
                    Problem(
                        "behind-remote",
                        f"{facts.config['remote']}/{facts.git.branch} has commits that are not in "
                        "HEAD.",
                        "Pull (git pull --rebase) before releasing.",
                    )
                )
    return found


def _series_problems(plan: Plan) -> list[Problem]:
    """A version outside the series of the branch's line: a release line makes only its own
    versions (1.4.1 on release/1.4.x; a minor bump belongs on another branch)."""
    line = plan.line
    if line is None or not line.series or versions.in_series(plan.version, line.numbers):
        return []
    where = f"the branch {plan.branch} (`branches` entry {line.pattern})"
    if not versions.in_series(plan.current, line.numbers):
        return [
            Problem(
                "outside-series",
                f"The current version {plan.current} is outside the series {line.series} of "
                f"{where}.",
                f"Set the version locations to the last {line.series} release (or later in "
                f"{line.series}), or release from a branch of the series {plan.current} is in.",
            )
        ]
    allowed = "patch" if len(line.numbers) > 1 else "minor or patch"
    bump = f"a {plan.level} bump" if plan.level else f"the version {plan.version}"
    reasons = "; ".join(plan.reasons[:3])
    ask = {
        "fragments": "give the change a fragment type that bumps less (e.g. bugfix), or ask "
        "for a patch release (release run patch)",
        "commits": "ask for a patch release (release run patch)",
    }.get(plan.decided_by, "ask for a patch release (release run patch)")
    return [
        Problem(
            "outside-series",
            f"The next version {plan.version} leaves the series {line.series} of {where}: "
            f"{bump}, decided by {plan.decided_by} ({reasons}).",
            f"A {line.series} line makes {allowed} releases only: {ask}. Make the "
            f"{plan.level or plan.version} release from the branch of its own series "
            "(e.g. main).",
        )
    ]


#: How many of the last lines of a failing gate's output its problem shows.
GATE_TAIL_LINES = 20


def gate_problems(results: Sequence[GateResult]) -> list[Problem]:
    """A problem (code ``gate``) for each gate in ``results`` that failed: its command, its
    exit status and the last lines of its output, and how to run it by hand."""
    import shlex

    found: list[Problem] = []
    for result in results:
        if result.passed:
            continue
        shown = shlex.join(result.command)
        if not result.started:
            said = f"could not run `{shown}`: {result.output.strip() or 'not found'}."
            hint = f"Install {result.command[0]} (or fix the gate in `gates`), then run `{shown}`."
        else:
            lines = result.output.rstrip("\n").splitlines()
            said = f"`{shown}` exited with status {result.returncode}, printing nothing."
            if lines:
                cut = len(lines) > GATE_TAIL_LINES
                of = f" (the last {GATE_TAIL_LINES} of {len(lines)} lines)" if cut else ""
                said = (
                    f"`{shown}` exited with status {result.returncode}; its output{of}:\n"
                    + "\n".join(lines[-GATE_TAIL_LINES:])
                )
            hint = f"Run it by hand to see why: `{shown}`."
        found.append(Problem("gate", f"The gate {result.name!r} failed: {said}", hint))
    return found


def exit_code(problems: Sequence[Problem]) -> int:
    """The exit status of a command that found ``problems``: the highest of theirs."""
    return max((p.exit_code for p in problems), default=0)


class ChecksFailed(ReleaseError):
    """Problems stop the command: a check failed (status 1)."""

    exit_code = EXIT_CHECK_FAILED


class InputRejected(ChecksFailed):
    """Problems stop the command, and one of them is with what the user wrote (status 2)."""

    exit_code = EXIT_USAGE


def refusal(
    problems: Sequence[Problem], headline: str = "", *, listed: bool = True
) -> ChecksFailed:
    """The one error that ``problems`` stop a command with; its status is :func:`exit_code`'s.

    ``headline`` says what they stop; each problem (code, message, hint) follows it unless
    ``listed`` is false (the command showed them already). Without a headline a single
    problem is reported as itself.
    """
    assert problems, "no problem, no refusal"
    kind = InputRejected if exit_code(problems) == EXIT_USAGE else ChecksFailed
    if not headline and len(problems) == 1:
        return kind(problems[0].message, problems[0].hint)
    text = headline or f"{len(problems)} problems were found"
    if listed:
        text += ":\n" + "\n".join(f"  - [{p.code}] {p.message} {p.hint}".rstrip() for p in problems)
    else:
        text += "."
    return kind(text, "Fix every problem listed, then run release again.")


def evaluate(
    facts: Facts,
    wanted: Request | Plan,
    environ: Mapping[str, str],
    until: str | None = None,
    *,
    runner: Runner | None = None,
) -> tuple[Plan | None, list[Problem]]:
    """Every problem with releasing: input problems first, then the plan's, then state.

    ``wanted`` is a request to plan (preview, check, run) or a plan already made (the check
    step of a run, just before anything changes). The plan is None when none can be made.
    """
    from release.facts import read_remote, read_targets
    from release.plan import build
    from release.runner import Runner

    problems = input_problems(facts)
    plan = wanted if isinstance(wanted, Plan) else None
    # Problems with the input do not withhold the plan: it is shown beside them, and only
    # a plan that cannot be made at all (no current version, nothing to release) is missing.
    if isinstance(wanted, Request):
        try:
            plan = build(facts, wanted)
        except ReleaseError as exc:
            problems.append(Problem.from_error("plan", exc))
    remote = None
    targets: tuple[TargetFacts, ...] = ()
    if plan is not None:
        remote = read_remote(runner or Runner(facts.project_dir), facts, plan.tag)
        # A run that stops before publishing (e.g. --until push, with CI publishing later
        # through trusted publishing) needs no index credentials now.
        if reaches("publish", until):
            targets = read_targets(plan.targets, plan.project, plan.version, environ)
    problems += state_problems(facts, plan, remote, targets, environ=environ, until=until)
    return plan, problems
