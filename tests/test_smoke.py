from __future__ import annotations

from pathlib import Path

from conftest import Result


def test_preview_of_sample_project_plans_a_minor_release(project: Path, cli) -> None:
    result: Result = cli("preview", cwd=project)
    assert result.code == 0, result.stderr
    assert "sample-project 1.2.0 -> 1.3.0 (minor, decided by fragments)" in result.stdout
    assert "+version = \"1.3.0\"" in result.stdout
    assert "Checks: all passed." in result.stdout
