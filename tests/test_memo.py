"""towncrier's answers kept in the user's cache: same output, fewer imports, never stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CLI, git, write_fragments

from release.memo import KEEP, Memo, cache_dir, installed

pytestmark = [pytest.mark.cached_samples, pytest.mark.usefixtures("utc")]


#: Runs `release preview --json` and reports which of towncrier, jinja2 and click it imported.
PROBE = """
import contextlib, io, json, sys
from release.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["preview", "--json"])
loaded = sorted(m for m in ("towncrier", "jinja2", "click") if m in sys.modules)
print(json.dumps({"code": code, "plan": json.loads(out.getvalue())["plan"], "imported": loaded}))
"""


def probe(project: Path, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=project, capture_output=True, text=True,
        env={**os.environ, **env}, check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def cached_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json")) if root.exists() else []


def test_second_preview_answers_from_the_cache_without_importing_towncrier(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    project = sample_copy(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."})
    cache = tmp_path / "cache"
    first = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    assert first["imported"] == ["click", "jinja2", "towncrier"]
    assert {p.parent.name for p in cached_files(cache)} == {
        "towncrier-settings", "fragment-discovery", "changelog-section", "release-tags",
        "tag-format"
    }
    second = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    assert second["imported"] == []
    assert second["plan"] == first["plan"]
    assert second["code"] == first["code"] == 0


def test_the_cache_lives_outside_the_project_under_xdg_cache_home(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    before = git(project, "status", "--porcelain", "--ignored")
    probe(project, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert cached_files(tmp_path / "xdg" / "release-pipeline")
    assert git(project, "status", "--porcelain", "--ignored") == before
    assert not cached_files(project / ".git" / "release-pipeline")


def test_changed_fragments_and_versions_are_never_answered_stale(
    sample_copy: Callable[..., Path], run_inprocess: CLI, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELEASE_PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})

    def changelog(*args: str) -> str:
        result = run_inprocess("changelog", *args, cwd=project)
        assert result.code == 0, result.stderr
        return result.stdout

    assert "Add a thing." in changelog()
    (project / "changelog.d" / "12.feature.md").write_text("Add a better thing.", encoding="utf-8")
    assert "Add a better thing." in changelog()
    assert "Add a thing." not in changelog()
    write_fragments(project, {"14.removal.md": "Drop Python 3.9."}, commit=False)
    section = changelog()
    assert "Drop Python 3.9." in section
    assert "2.0.0" in section.splitlines()[0]
    assert "3.1.4" in changelog("3.1.4").splitlines()[0]


def test_a_changed_towncrier_configuration_is_read_again(
    sample_copy: Callable[..., Path], run_inprocess: CLI, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELEASE_PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    assert "Features" in run_inprocess("changelog", cwd=project).stdout
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text + '\n[[tool.towncrier.type]]\ndirectory = "feature"\nname = "Shiny new things"\n'
        'showcontent = true\n',
        encoding="utf-8",
    )
    section = run_inprocess("changelog", cwd=project).stdout
    assert "Shiny new things" in section
    assert "Features" not in section


def test_corrupt_or_foreign_cache_entries_are_computed_again(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    cache = tmp_path / "cache"
    first = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    files = cached_files(cache)
    for i, path in enumerate(files):
        path.write_text(["{not json", "[1, 2]", '{"settings": 3}'][i % 3], encoding="utf-8")
    again = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    assert again["plan"] == first["plan"]
    assert again["imported"] == ["click", "jinja2", "towncrier"]
    assert probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))["imported"] == []


def test_an_unwritable_cache_or_no_cache_changes_nothing_but_speed(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    reference = probe(project, RELEASE_PIPELINE_NO_CACHE="1")
    assert reference["imported"] == ["click", "jinja2", "towncrier"]
    unwritable = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(blocker / "cache"))
    assert unwritable["plan"] == reference["plan"]
    off = probe(project, RELEASE_PIPELINE_NO_CACHE="1", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert off["plan"] == reference["plan"]
    assert not (tmp_path / "xdg").exists()


def test_cache_dir_follows_the_platform_conventions(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()
    if sys.platform.startswith("linux"):
        assert cache_dir({}) == home / ".cache" / "release-pipeline"
        assert cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/release-pipeline")
    assert cache_dir({"RELEASE_PIPELINE_CACHE_DIR": "/y"}) == Path("/y")
    assert cache_dir({"RELEASE_PIPELINE_NO_CACHE": "1", "RELEASE_PIPELINE_CACHE_DIR": "/y"}) is None
    assert cache_dir({"RELEASE_PIPELINE_NO_CACHE": "0"}) is not None


def test_memo_keeps_a_bounded_number_of_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound is large (a workspace keeps entries for each package); the rule is the
    # same with a small one, which this test can fill quickly.
    assert KEEP >= 512
    monkeypatch.setattr("release.memo.KEEP", 16)
    keep = 16
    memo = Memo(tmp_path)
    for i in range(keep + 10):
        memo.put("kind", f"key{i}", {"n": i})
        os.utime(tmp_path / "kind" / f"key{i}.json", ns=(i * 10**9, i * 10**9))
    kept = sorted(p.stem for p in (tmp_path / "kind").glob("*.json"))
    assert len(kept) == keep
    assert "key0" not in kept
    assert memo.get("kind", f"key{keep + 9}") == {"n": keep + 9}
    assert memo.get("kind", "key0") is None
    assert not list((tmp_path / "kind").glob(".*.tmp"))


def test_a_stored_packaged_template_without_its_text_is_loaded_again(
    sample_copy: Callable[..., Path], tmp_path: Path
) -> None:
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    cache = tmp_path / "cache"
    first = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    (entry,) = (cache / "towncrier-settings").glob("*.json")
    stored = json.loads(entry.read_text(encoding="utf-8"))
    assert isinstance(stored["settings"]["template"], list)  # towncrier's packaged template
    stored["packaged_template"] = None
    entry.write_text(json.dumps(stored), encoding="utf-8")
    again = probe(project, RELEASE_PIPELINE_CACHE_DIR=str(cache))
    assert again["plan"] == first["plan"]
    assert "towncrier" in again["imported"]  # type: ignore[operator]


def test_installed_stamps_change_with_the_module_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "stamped_module_for_test.py"
    module.write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = installed("stamped_module_for_test", "no_such_module_anywhere")
    os.utime(module, ns=(10**18, 10**18))
    installed.cache_clear()  # a stamp is looked up once per process: as in a new process
    assert installed("stamped_module_for_test", "no_such_module_anywhere") != before
    assert "no_such_module_anywhere:None:?" in before


def test_answers_are_keyed_by_the_code_that_computed_them(
    sample_copy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer computed by an older release-pipeline is not read back by a newer one:
    the key of towncrier's answers stamps the module whose rules made them, not only
    towncrier (a cached discovery once outlived a change of its rules)."""
    import release.fragments
    from release.facts import gather

    asked: list[str] = []

    def recording(*modules: str) -> str:
        asked.extend(modules)
        return installed(*modules)

    monkeypatch.setattr(release.fragments, "installed", recording)
    project = sample_copy(fragments={"12.feature.md": "Add a thing."})
    gather(project, environ={"RELEASE_PIPELINE_CACHE_DIR": str(tmp_path / "cache")})
    assert {"towncrier", "release.fragments"} <= set(asked)
