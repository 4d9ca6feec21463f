"""``release ci`` at the root of a repository of several packages, in memory
(release.ciworkspace): every tagged package's CI plan composed into one release, its
outputs and summary; and what the workspace pipelines trigger on (release.workflows)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from factsmaker import make_facts
from packaging.version import Version

from release.ciworkspace import artifact_dir, compose_ci, job_outputs, job_summary
from release.errors import CommandError
from release.executor import Outcome
from release.packages import Package
from release.plan import Plan, Request, Tagged, build
from release.workflows.github import branch_glob
from release.workflows.gitlab import branch_rule
from release.workspace.gather import about_package
from release.workspace.plan import Member

PUBLISH = {
    "publish": [
        {
            "name": "idx",
            "repository-url": "https://idx.example/legacy/",
            "index-url": "https://idx.example/simple/",
        },
    ],
}


def tagged_plan(version: str, job: str | None = None) -> Plan:
    """The CI plan of the sample project's tag ``v{version}``, as ``release ci`` makes it."""
    facts = make_facts(version=version, tags=("v1.2.0", f"v{version}"), release=PUBLISH)
    tagged = Tagged(f"v{version}", Version(version), "- A change.\n", job)
    return build(facts, Request(tagged=tagged))


def ci_members(job: str | None = None, version: str = "1.3.0") -> list[Member]:
    return [
        Member("core", "packages/core", tagged_plan(version, job)),
        Member("app", "packages/app", tagged_plan(version, job), requires=("core",)),
    ]


def test_every_tagged_package_is_built_then_published_in_order_with_the_wait() -> None:
    made = compose_ci(ci_members())
    ids = [s.id for s in made.steps]
    # What CI does not do: nothing is committed, tagged or pushed.
    assert {s.stage for s in made.steps} <= {"check", "build", "verify", "publish", "announce"}
    assert not [i for i in ids if i.split("/")[-1].startswith(("prepare.", "push.", "post."))]
    # Every package built and verified before the first upload; the dependency uploaded,
    # then waited for, before its dependent.
    first_upload = ids.index("core/publish.upload:idx")
    assert max(ids.index("core/verify.verify"), ids.index("app/verify.verify")) < first_upload
    assert first_upload < ids.index("publish.wait-for:core") < ids.index("app/publish.upload:idx")
    assert made.tags == ("v1.3.0", "v1.3.0")


def test_the_jobs_split_the_same_release() -> None:
    built = compose_ci(ci_members("build"))
    published = compose_ci(ci_members("publish"))
    assert {s.stage for s in built.steps} <= {"check", "build", "verify"}
    ids = [s.id for s in published.steps]
    assert ids[0] == "core/publish.upload:idx"
    assert ids.index("publish.wait-for:core") < ids.index("app/publish.upload:idx")


def test_outputs_name_every_package_in_dependency_order() -> None:
    made = compose_ci(
        [
            Member("core", "packages/core", tagged_plan("1.3.0")),
            Member("app", "packages/app", tagged_plan("2.0.0rc1"), requires=("core",)),
        ]
    )
    assert job_outputs(made, True) == {
        "version": "1.3.0 2.0.0rc1",
        "tag": "v1.3.0 v2.0.0rc1",
        "is-prerelease": "true",
        "released": "true",
    }
    assert job_outputs(None, False) == {
        "version": "",
        "tag": "",
        "is-prerelease": "false",
        "released": "false",
    }


def test_the_summary_has_each_packages_checklist_and_every_step() -> None:
    made = compose_ci(ci_members("build"))
    core_build = next(s for s in made.steps if s.id == "core/build.build")
    outcomes = [Outcome(core_build, "done", 1.25)]
    text = job_summary(made, outcomes, {"core": {"core-1.3.0.tar.gz": "ab" * 32}})
    assert text.count("# sample-project 1.3.0") == 2  # one checklist per package
    assert f"| core | build | {core_build.summary} | done | 1.2s |" in text
    assert f"| core | core-1.3.0.tar.gz | `{'ab' * 32}` |" in text
    assert job_summary(None, [], {}) == ""


def test_a_packages_artifacts_go_to_a_directory_named_after_it() -> None:
    assert artifact_dir(Path("dist"), "My_Package.Core") == Path("dist/my-package-core")


def test_an_error_about_a_package_keeps_its_own_kind_and_says_which() -> None:
    package = Package("core", "packages/core", ())
    with pytest.raises(CommandError) as caught, about_package(package):
        raise CommandError(["git", "fetch"], 128, "fatal: no remote")
    assert caught.value.message.startswith("Package core (packages/core): Command `git fetch`")
    assert caught.value.returncode == 128


def github_matches(glob: str, branch: str) -> bool:
    """A GitHub Actions branch filter as GitHub reads it: ``*`` any run but ``/``, ``**``
    any run, ``[...]`` a set, anything else itself."""
    out = ""
    for token in re.findall(r"\*\*|\*|\[[^\]]*\]|.", glob):
        out += {"**": ".*", "*": "[^/]*"}.get(token, token if token[0] == "[" else re.escape(token))
    return re.fullmatch(out, branch) is not None


@pytest.mark.parametrize(
    ("pattern", "matched", "not_matched"),
    [
        ("main", ["main"], ["main2", "x/main"]),
        ("release/*", ["release/1.x", "release/a/b"], ["release", "main"]),
        ("v?.x", ["v1.x"], ["main"]),
        ("rel+[0-9]", ["rel+1"], ["rel+x"]),
        ("[!m]ain", ["gain"], []),
    ],
)
def test_branch_filters_match_every_release_branch(
    pattern: str, matched: list[str], not_matched: list[str]
) -> None:
    """A `branches` pattern (shell-style: ``*`` matches ``/``) as a GitHub branch filter, at
    least as wide, and as a GitLab rule, exact."""
    import fnmatch

    glob = branch_glob(pattern)
    rule = branch_rule(pattern).strip("'")
    for branch in matched + not_matched:
        expected = fnmatch.fnmatchcase(branch, pattern)
        assert expected == (branch in matched)
        if expected:
            assert github_matches(glob, branch), (glob, branch)
        assert gitlab_branch_matches(rule, branch) == expected, (rule, branch)


def gitlab_branch_matches(rule: str, branch: str) -> bool:
    equal = re.fullmatch(r'\$CI_COMMIT_BRANCH == "(.*)"', rule)
    if equal:
        return branch == equal[1]
    regex = re.fullmatch(r"\$CI_COMMIT_BRANCH =~ /(.*)/", rule)
    assert regex is not None, rule
    return re.search(regex[1].replace("\\/", "/"), branch) is not None
