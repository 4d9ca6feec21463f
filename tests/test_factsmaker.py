"""tests/factsmaker.py stays true to facts.gather: the same project, read from a real
repository and built in memory, makes the same plan (so the unit layer tests what runs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from factsmaker import make_facts

from release import plan
from release.facts import gather

pytestmark = [pytest.mark.usefixtures("utc"), pytest.mark.cached_samples]


@pytest.mark.parametrize(
    ("fragments", "request_"),
    [
        ({"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."}, plan.Request()),
        ({"14.removal.md": "Drop it.", "15.doc.md": "Docs."}, plan.Request(pre="rc")),
        ({}, plan.Request("patch")),
    ],
)
def test_in_memory_facts_plan_as_gathered_facts_do(
    sample: Callable[..., Path], fragments: dict[str, str], request_: plan.Request
) -> None:
    project = sample(fragments=fragments)
    real = gather(project, environ=dict(os.environ))
    assert real.towncrier is not None
    # The sample's own file texts (longer than the factory's), its date.
    memory = make_facts(
        fragments=fragments, files=real.files, news_text=real.towncrier.news_text
    )._replace(date=real.date)
    assert memory.fragments == real.fragments
    assert memory.towncrier is not None
    assert memory.towncrier.config == real.towncrier.config
    assert memory.git.tags == real.git.tags
    assert memory.history.reachable_top == real.history.reachable_top
    assert plan.build(memory, request_).to_journal() == plan.build(real, request_).to_journal()
