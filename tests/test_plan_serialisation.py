"""The plan is built by one builder (``release run``'s and ``release ci``'s) and written one
way: the plan JSON, and the journal that keeps what the JSON shows only in part. A journal
written by the previous version is still read."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FRAGMENTS, GOLDEN_DIR
from packaging.version import Version

from release.facts import Facts, gather
from release.plan import SCHEMA_VERSION, Plan, Request, Tagged, build
from release.stages import CI_JOBS, STAGES
from release.steps import implementation

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]

# Every field of the plan away from its default: publish targets, a forge, next-dev, signing.
EVERYTHING = (
    "next-dev=true",
    'sign="ssh"',
    "reproducible=true",
    'publish=[{ name = "local", repository-url = "http://127.0.0.1:9/legacy/", '
    'index-url = "http://127.0.0.1:9/simple/", verify-install = true }]',
    'forge={ kind = "github", repository = "owner/sample", draft = true }',
)


@pytest.fixture
def facts(sample: Callable[..., Path]) -> Facts:
    project = sample(fragments=FRAGMENTS)
    return gather(project, environ=os.environ, overrides=EVERYTHING)


def test_a_plan_comes_back_from_its_journal_field_for_field(facts: Facts) -> None:
    plan = build(facts, Request())
    assert plan.next_dev is not None
    assert plan.targets
    assert plan.forge is not None
    written = json.loads(json.dumps(plan.to_journal()))  # as the journal file holds it
    assert Plan.from_journal(written) == plan
    assert written["public"] == plan.to_json()


def test_the_plan_of_a_tag_is_the_same_builder_with_only_the_ci_stages(facts: Facts) -> None:
    version = Version("1.2.0")
    whole = build(facts, Request(tagged=Tagged("v1.2.0", version, "notes\n")))
    assert (whole.version, whole.current, whole.tag, whole.decided_by) == (
        version,
        version,
        "v1.2.0",
        "tag",
    )
    assert (whole.edits, whole.consumed_fragments, whole.next_dev) == ((), (), None)
    assert whole.changelog == "notes\n"
    assert whole.previous_tag is None  # v1.2.0 is the sample's only release tag
    assert {s.stage for s in whole.steps} == set(CI_JOBS)
    for job in ("build", "publish"):
        plan = build(facts, Request(tagged=Tagged("v1.2.0", version, "", job)))
        wanted = [s.stage for s in whole.steps if CI_JOBS[s.stage] == job]
        assert [s.stage for s in plan.steps] == wanted
    # The steps CI runs are those release run plans for the same stages.
    release = build(facts, Request())
    ci_ids = [s.id for s in whole.steps]
    assert ci_ids == [s.id for s in release.steps if s.stage in CI_JOBS]
    assert [s.stage for s in release.steps] == sorted(
        (s.stage for s in release.steps), key=STAGES.index
    )


def test_a_journal_written_by_the_previous_version_is_read() -> None:
    """tests/golden/journal-v2.json: `release run --until tag` of the sample project by the
    version before the plan's serialisation was table-driven (next-dev, a publish target with
    verify-install and a GitHub release configured)."""
    journal = json.loads((GOLDEN_DIR / "journal-v2.json").read_text(encoding="utf-8"))
    stored = journal["plan"]
    plan = Plan.from_journal(stored)
    assert (str(plan.version), plan.tag, str(plan.next_dev)) == ("1.3.0", "v1.3.0", "1.3.1.dev0")
    assert [t.name for t in plan.targets] == ["local"]
    assert plan.forge is not None
    assert plan.forge.repository == "owner/sample"
    assert [s.id for s in plan.steps] == list(journal["steps"])
    assert plan.edit_for("CHANGELOG.md").after.startswith("# Changelog")
    again = plan.to_journal()
    for key in ("edits", "dev_edits", "steps", "latest_release"):
        assert again[key] == stored[key], key
    # Every member it wrote is written again the same (members added since come beside them),
    # but the schema version, raised since (2: the release line's members).
    old, new = stored["public"], again["public"]
    assert (old["schema_version"], new["schema_version"]) == (1, SCHEMA_VERSION)
    renamed = {"github": "forge"}  # the forge table became [tool.release.forge]
    # The public edits' diffs are drawn from the kept texts (compared above): since the diff
    # leaves out a long file's shared start (release/textdiff.py), a blank line inserted
    # beside a blank line may be shown as the other one. Their files are the same.
    shown = ("edits", "dev_edits")
    skipped = ("fingerprint", "schema_version", *shown)
    assert {k: new[renamed.get(k, k)] for k in old if k not in skipped} == {
        k: {**v, "kind": "github", "url": "https://github.com"} if k == "github" else v
        for k, v in old.items() if k not in skipped
    }
    for key in shown:
        assert [e["path"] for e in new[key]] == [e["path"] for e in old[key]], key
        assert [e["diff"] for e in new[key]] == [e.diff() for e in getattr(plan, key)], key
    assert "announce.github-release" in [s.id for s in plan.steps]
    earlier = implementation(next(s for s in plan.steps if s.stage == "announce"))
    assert type(earlier).__name__ == "EarlierAnnounce", "an old journal's announce step resumes"
