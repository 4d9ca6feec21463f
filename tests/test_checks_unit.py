"""The preflight rules on facts built in memory (tests/factsmaker.py): no disk, no git.

``checks.evaluate`` asks the remote through the runner; here a ``FakeRunner`` answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from factsmaker import REMOTE_REFS, FakeRunner, make_facts

from release import checks
from release.checks import ChecksFailed, InputRejected, Problem
from release.errors import EXIT_CHECK_FAILED, EXIT_USAGE, FragmentError, NothingToRelease
from release.plan import Plan, Request

FRAGMENT = {"12.feature.md": "Add a thing."}  # 1.2.0 -> 1.3.0


NO_REQUEST = Request()  # let the fragments decide


def evaluate(
    request: Request = NO_REQUEST,
    *,
    environ: Mapping[str, str] | None = None,
    runner: FakeRunner | None = None,
    **facts: Any,
) -> tuple[Plan | None, list[Problem]]:
    facts.setdefault("fragments", FRAGMENT)
    return checks.evaluate(
        make_facts(**facts), request, environ or {}, runner=runner or FakeRunner()  # type: ignore[arg-type]
    )


def codes(request: Request = NO_REQUEST, **facts: Any) -> list[str]:
    return [p.code for p in evaluate(request, **facts)[1]]


def test_a_clean_release_has_no_problem() -> None:
    plan, problems = evaluate()
    assert problems == []
    assert plan is not None
    assert str(plan.version) == "1.3.0"


STATE = [
    # (id, facts, the problem codes)
    ("dirty-tree", {"dirty": ("stray.txt",)}, ["dirty-tree"]),
    ("dist-dir-is-ours", {"dirty": ("dist/sample-1.3.0.tar.gz",)}, []),
    ("other-dist-dir", {"dirty": ("dist/x.whl",), "release": {"dist-dir": "out"}}, ["dirty-tree"]),
    ("branch", {"branch": "feature/x", "remote_refs": {}}, ["branch"]),
    ("branch-pattern", {"branch": "release/1.x", "release": {"branches": ["release/*"]},
                        "remote_refs": {}}, []),
    ("detached-head", {"branch": None}, ["detached-head"]),
    ("identity", {"identity": False}, ["git-identity"]),
    ("shallow", {"shallow": True}, ["shallow"]),
    ("behind", {"behind": 2}, ["behind"]),
    ("no-commits", {"head": None}, ["no-commits"]),
    ("no-fragments", {"fragments": {}}, ["plan", "no-fragments"]),
    ("allow-no-fragments", {"fragments": {}, "release": {"allow-no-fragments": True}}, ["plan"]),
    ("tag-exists", {"tags": ("v1.2.0", "v1.3.0"), "reachable": ("v1.2.0",)}, ["tag-exists"]),
    ("tag-exists-remote",
     {"remote_refs": {**REMOTE_REFS, "refs/tags/v1.3.0": "c" * 40}}, ["tag-exists-remote"]),
    ("remote-unreadable", {"remote_refs": None}, ["remote"]),
    ("no-such-remote", {"remotes": ()}, ["remote"]),
]


@pytest.mark.parametrize(("facts", "expected"), [pytest.param(*r[1:], id=r[0]) for r in STATE])
def test_state_problems(facts: dict[str, Any], expected: list[str]) -> None:
    assert codes(**facts) == expected


def test_every_problem_is_collected_at_once() -> None:
    found = codes(dirty=("a",), branch="topic", identity=False, shallow=True, behind=1)
    assert found == ["dirty-tree", "branch", "git-identity", "shallow", "behind"]


def test_dirty_tree_names_the_paths() -> None:
    _, problems = evaluate(dirty=tuple(f"f{i}" for i in range(22)))
    assert problems[0].message == (
        "The work tree has uncommitted changes: "
        + ", ".join(f"f{i}" for i in range(20))
        + " and 2 more."
    )


def test_behind_the_remote_branch() -> None:
    refs = {**REMOTE_REFS, "refs/heads/main": "e" * 40}
    runner = FakeRunner(contains_remote=False)
    assert [p.code for p in evaluate(remote_refs=refs, runner=runner)[1]] == ["behind-remote"]
    assert ("merge-base", "--is-ancestor", "e" * 40, "HEAD") in runner.calls
    # Reported once, as `behind`, when the upstream is that branch.
    runner = FakeRunner(contains_remote=False)
    assert [p.code for p in evaluate(remote_refs=refs, runner=runner, behind=1)[1]] == ["behind"]


def test_an_invalid_tag_name_is_a_usage_problem() -> None:
    # The configuration refuses such formats; a plan made elsewhere is checked still: git
    # refuses a part of a reference name that ends with ".lock".
    plan, _ = evaluate()
    assert plan is not None
    made = make_facts(fragments=FRAGMENT)
    _, problems = checks.evaluate(made, plan._replace(tag="v1.3.0.lock"), {}, runner=FakeRunner())  # type: ignore[arg-type]
    assert [(p.code, p.exit_code) for p in problems] == [("tag-name", EXIT_USAGE)]


# --- the version against the releases HEAD contains --------------------------------------

BOUNDS = [
    # (id, facts, request, the problem codes)
    ("not-new", {"tags": ("v1.2.0", "v1.3.0")}, Request("patch"),
     ["version-below-release", "version-not-new"]),
    ("equal-to-the-top", {"tags": ("v1.2.0", "v1.2.1")}, Request("patch"),
     ["version-below-release", "version-not-new", "tag-exists"]),
    ("another-branch-does-not-bound", {"tags": ("v1.2.0", "v1.3.0"), "reachable": ("v1.2.0",)},
     Request("patch"), []),
    ("above-the-top", {"tags": ("v1.2.0", "v1.3.0")}, Request("major"),
     ["version-below-release"]),
    ("current-is-the-top", {"tags": ("v1.1.0", "v1.2.0")}, Request("patch"), []),
    ("first-release", {"tags": ()}, Request("patch"), []),
]


@pytest.mark.parametrize(
    ("facts", "request_", "expected"), [pytest.param(*r[1:], id=r[0]) for r in BOUNDS]
)
def test_version_against_the_reachable_top(
    facts: dict[str, Any], request_: Request, expected: list[str]
) -> None:
    assert codes(request_, **facts) == expected


def test_version_problems_name_the_release() -> None:
    _, problems = evaluate(Request("patch"), tags=("v1.2.0", "v1.3.0"))
    by_code = {p.code: p for p in problems}
    assert by_code["version-not-new"].message == (
        "The next version 1.2.1 is not greater than the release 1.3.0."
    )
    assert by_code["version-below-release"].hint == (
        "Set the version locations to 1.3.0 (or later) before releasing."
    )


def test_a_version_kept_in_tags_is_never_below_its_release() -> None:
    found = codes(Request("patch"), release={"version-locations": ["scm"]})
    assert found == []


# --- problems with the input: shown beside the plan, exit 2 -------------------------------


def test_fragment_problems_come_beside_a_plan_that_is_still_built() -> None:
    bad = FragmentError("Fragment changelog.d/12.feeture.md has no known type.", "Rename it.")
    plan, problems = evaluate(fragment_problems=[bad])
    assert plan is not None
    assert str(plan.version) == "1.3.0"
    assert [(p.code, p.exit_code) for p in problems] == [("fragment", EXIT_USAGE)]
    assert checks.exit_code(problems) == EXIT_USAGE


def test_invalid_fragments_alone_are_not_reported_as_missing_fragments() -> None:
    bad = FragmentError("Fragment changelog.d/12.feeture.md has no known type.", "Rename it.")
    plan, problems = evaluate(fragments={}, fragment_problems=[bad])
    assert plan is None
    assert [p.code for p in problems] == ["fragment", "plan"]


def test_without_towncrier_fragments_cannot_decide() -> None:
    plan, problems = evaluate(towncrier=None)
    assert plan is None
    assert [(p.code, p.exit_code) for p in problems] == [
        ("towncrier", EXIT_USAGE),
        ("plan", NothingToRelease.exit_code),
    ]


def test_a_plan_that_cannot_be_made_is_a_problem_and_no_plan() -> None:
    plan, problems = evaluate(fragments={"1.doc.md": "Docs."})
    assert plan is None
    assert [p.code for p in problems] == ["plan"]
    assert problems[0].message.startswith("Nothing to release:")


def test_a_plan_given_is_checked_as_it_is() -> None:
    made, _ = evaluate()
    assert made is not None
    facts = make_facts(fragments=FRAGMENT, dirty=("x",))
    plan, problems = checks.evaluate(facts, made, {}, runner=FakeRunner())  # type: ignore[arg-type]
    assert plan is made
    assert [p.code for p in problems] == ["dirty-tree"]


def test_forge_token_only_when_the_run_reaches_announce() -> None:
    github = {"forge": {"kind": "github", "repository": "org/sample"}}
    assert codes(release=github) == ["forge-token"]
    assert codes(release=github, environ={"GITHUB_TOKEN": "x"}) == []
    facts = make_facts(fragments=FRAGMENT, release=github)
    _, problems = checks.evaluate(facts, Request(), {}, "push", runner=FakeRunner())  # type: ignore[arg-type]
    assert problems == []


# --- refusal: the one error problems stop a command with ---------------------------------

CHECK = Problem("dirty-tree", "The work tree is dirty.", "Commit first.")
INPUT = Problem("fragment", "A bad fragment.", "Rename it.", EXIT_USAGE)


def test_refusal_of_one_problem_is_that_problem() -> None:
    error = checks.refusal([CHECK])
    assert type(error) is ChecksFailed
    assert (error.message, error.hint, error.exit_code) == (
        "The work tree is dirty.", "Commit first.", EXIT_CHECK_FAILED
    )


def test_refusal_lists_every_problem_and_takes_the_highest_status() -> None:
    error = checks.refusal([CHECK, INPUT], "No release can be planned")
    assert isinstance(error, InputRejected)
    assert error.exit_code == EXIT_USAGE
    assert error.message == (
        "No release can be planned:\n"
        "  - [dirty-tree] The work tree is dirty. Commit first.\n"
        "  - [fragment] A bad fragment. Rename it."
    )
    assert error.hint == "Fix every problem listed, then run release again."


def test_refusal_without_a_headline_counts_and_unlisted_does_not_repeat() -> None:
    assert checks.refusal([CHECK, CHECK]).message.startswith("2 problems were found:\n")
    error = checks.refusal([CHECK, INPUT], "The release checks failed", listed=False)
    assert error.message == "The release checks failed."


def test_no_problem_is_no_refusal() -> None:
    with pytest.raises(AssertionError):
        checks.refusal([])
    assert checks.exit_code([]) == 0




# --- release lines: the series of the branch bounds the version ---------------------------

LINES = {"branches": ["main", {"pattern": "release/*.x", "series": "from-branch"},
                      {"pattern": "next", "channel": "rc"}]}
# release/1.4.x beside main at 2.0.0 (remote_refs={}: the remote has no such branch yet).
MAINTENANCE = {"version": "1.4.0", "release": LINES, "branch": "release/1.4.x",
               "tags": ("v1.4.0", "v2.0.0"), "reachable": ("v1.4.0",), "remote_refs": {}}

SERIES_BOUNDS = [
    # (id, facts, request, the problem codes)
    ("patch", {**MAINTENANCE, "fragments": {"1.bugfix.md": "A."}}, Request(), []),
    ("minor-leaves-the-series", MAINTENANCE, Request(), ["outside-series"]),
    ("asked-minor", MAINTENANCE, Request("minor"), ["outside-series"]),
    ("explicit-outside", MAINTENANCE, Request("1.5.0"), ["outside-series"]),
    # Within the series the last release of the series bounds the version, not 2.0.0.
    ("not-new-in-series", {**MAINTENANCE, "tags": ("v1.4.0", "v1.4.1", "v2.0.0"),
                           "reachable": ("v1.4.0", "v1.4.1")},
     Request("patch"), ["version-below-release", "version-not-new", "tag-exists"]),
    ("a-reachable-tag-of-another-series-does-not-bound",
     {**MAINTENANCE, "tags": ("v1.4.0", "v1.5.0"), "reachable": ("v1.4.0", "v1.5.0")},
     Request("patch"), []),
    ("current-outside", {**MAINTENANCE, "version": "2.0.0"}, Request("patch"),
     ["outside-series"]),
]


@pytest.mark.parametrize(
    ("facts", "request_", "expected"), [pytest.param(*r[1:], id=r[0]) for r in SERIES_BOUNDS]
)
def test_version_against_the_series(
    facts: dict[str, Any], request_: Request, expected: list[str]
) -> None:
    assert codes(request_, **facts) == expected


def test_leaving_the_series_names_the_branch_the_series_and_the_fragment() -> None:
    plan, problems = evaluate(**MAINTENANCE)
    assert plan is not None  # shown beside the problem
    assert str(plan.version) == "1.5.0"
    [problem] = problems
    assert (problem.code, problem.exit_code) == ("outside-series", EXIT_CHECK_FAILED)
    assert problem.message == (
        "The next version 1.5.0 leaves the series 1.4 of the branch release/1.4.x (`branches` "
        "entry release/*.x): a minor bump, decided by fragments "
        "(changelog.d/12.feature.md (feature): minor)."
    )
    assert problem.hint.startswith("A 1.4 line makes patch releases only: ")
    assert "release run patch" in problem.hint


def test_version_not_new_names_the_series() -> None:
    facts = {**MAINTENANCE, "tags": ("v1.4.0", "v1.4.1", "v2.0.0"),
             "reachable": ("v1.4.0", "v1.4.1")}
    _, problems = evaluate(Request("patch"), **facts)
    by_code = {p.code: p for p in problems}
    assert by_code["version-not-new"].message == (
        "The next version 1.4.1 is not greater than the release 1.4.1, the last of the "
        "series 1.4."
    )


def test_a_branch_name_without_its_series_is_a_usage_problem() -> None:
    plan, problems = evaluate(**{**MAINTENANCE, "branch": "release/next.x"})
    assert plan is None
    assert [(p.code, p.exit_code) for p in problems] == [("plan", EXIT_USAGE)]
    assert '"release/next.x"' in problems[0].message


def test_a_final_release_that_gathers_pre_releases_needs_no_new_fragment() -> None:
    cycle = {"release": LINES, "branch": "next", "version": "1.3.0rc1",
             "tags": ("v1.2.0", "v1.3.0rc1"), "fragments": {},
             "remote_refs": {"refs/heads/next": "a" * 40}}
    assert codes(Request(final=True), **cycle) == ["no-fragments"]
    gathered = {**cycle, "prereleases": {"v1.3.0rc1": {"12.feature.md": "Add a thing."}}}
    assert codes(Request(final=True), **gathered) == []
