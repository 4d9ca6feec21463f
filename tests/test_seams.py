"""The seams of DESIGN.md "Layout and seams": a forge or a target kind plugs in with one
registry line.  A fake registered here is used by the steps and `release status` without
any other edit, and no module outside a seam's package names one of its kinds."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from release import forges, status, targets
from release.config import Forge as ForgeConfig
from release.config import Target as TargetConfig
from release.errors import ReleaseError
from release.forges import Announcement
from release.ops import BROKEN, MISSING, PRESENT
from release.steps import Context
from release.steps.announce import AttachFiles, DraftRelease, PublishRelease
from release.steps.publish import Publish
from release.targets import UPLOADED

ROOT = Path(__file__).resolve().parent.parent / "release"


class FakeForge:
    """A forge kept in memory; records what the announce steps asked of it."""

    def __init__(self) -> None:
        self.releases: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, str]] = {}
        self.calls: list[str] = []
        self.seal_on_publish = False

    @property
    def title(self) -> str:
        return "Fake"

    @property
    def where(self) -> str:
        return "fake somewhere"

    def find(self, tag: str) -> dict[str, Any] | None:
        self.calls.append("find")
        return self.releases.get(tag)

    def is_published(self, release: dict[str, Any]) -> bool:
        return bool(release["published"])

    def is_sealed(self, release: dict[str, Any]) -> bool:
        return bool(release["sealed"])

    def matches(self, release: dict[str, Any], want: Announcement) -> bool:
        return bool(release["notes"] == want.notes)

    def create_draft(self, want: Announcement) -> dict[str, Any]:
        self.calls.append("draft")
        self.releases[want.tag] = {
            "tag": want.tag, "notes": want.notes, "published": False, "sealed": False,
            "latest": None,
        }
        self.files[want.tag] = {}
        return self.releases[want.tag]

    def update(self, release: dict[str, Any], want: Announcement) -> dict[str, Any]:
        self.calls.append("update")
        release["notes"] = want.notes
        return release

    def publish(self, release: dict[str, Any], want: Announcement) -> dict[str, Any]:
        self.calls.append("publish")
        release.update(published=True, latest=want.latest, sealed=self.seal_on_publish)
        return release

    def file_states(
        self, release: dict[str, Any], files: dict[str, str]
    ) -> dict[str, tuple[str, dict[str, Any] | None]]:
        there = self.files[release["tag"]]
        return {
            name: ((PRESENT, {"name": name}) if there.get(name) == digest else (MISSING, None))
            for name, digest in files.items()
        }

    def attach(self, release: dict[str, Any], path: Path) -> None:
        import hashlib

        assert not release["sealed"]
        self.calls.append(f"attach {path.name}")
        self.files[release["tag"]][path.name] = hashlib.sha256(path.read_bytes()).hexdigest()

    def detach(self, asset: dict[str, Any]) -> None:
        self.calls.append("detach")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeForge:
    """One registry entry, and a configuration naming its kind."""
    forge = FakeForge()
    kind = forges.ForgeKind(
        title="Fake", factory=lambda config, token: forge, token_env="TOKEN",
        token_hint="a token", url="https://fake.example", api_path="/api",
        repository=r"[a-z]+/[a-z]+", repository_form="OWNER/NAME",
    )
    monkeypatch.setitem(forges.FORGES, "fake", kind)
    return forge


def _context(tmp_path: Path, config: ForgeConfig) -> Context:
    (tmp_path / "dist").mkdir()
    wheel = tmp_path / "dist" / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    import hashlib

    plan: Any = SimpleNamespace(
        tag="v1.0",
        changelog="## 1.0\n",
        version=SimpleNamespace(is_prerelease=False),
        forge=config,
        dist_dir="dist",
        sdist_last=True,
        marks_latest=True,
    )
    journal: Any = SimpleNamespace(artifacts={wheel.name: hashlib.sha256(b"wheel").hexdigest()})
    runner: Any = SimpleNamespace(secrets=[])
    return Context(tmp_path, tmp_path / "state", runner, plan, journal, {"TOKEN": "t"})


def _announce_steps() -> list[Any]:
    return [
        cls(step=SimpleNamespace(id=f"announce.{name}"))  # type: ignore[arg-type]
        for cls, name in (
            (DraftRelease, "draft"), (AttachFiles, "attach"), (PublishRelease, "publish")
        )
    ]


def test_a_registered_forge_is_used_by_announce_and_status(
    fake: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ForgeConfig(repository="o/n", kind="fake", token_env="TOKEN")
    ctx = _context(tmp_path, config)
    for step in _announce_steps():
        assert not step.is_done(ctx)
        step.run(ctx)
        assert step.is_done(ctx)
    done = [c for c in fake.calls if c != "find"]
    assert done == ["draft", "attach demo-1.0-py3-none-any.whl", "publish"]
    assert fake.releases["v1.0"]["latest"] is True
    assert ctx.runner.secrets == ["t"]

    monkeypatch.setenv("TOKEN", "t")
    data = {"forge": config.as_dict("_"), "tag": "v1.0", "files": ctx.journal.artifacts}
    rows = status._forge_rows(data)
    assert [(r.where, r.item, r.state) for r in rows] == [
        ("fake somewhere", "release v1.0", PRESENT),
        ("fake somewhere", "demo-1.0-py3-none-any.whl", PRESENT),
    ]


def test_the_forge_table_is_checked_against_the_registered_kind(fake: FakeForge) -> None:
    from release.config import _forge
    from release.errors import ConfigError

    check = _forge("forge")
    made = check({"kind": "fake", "repository": "o/n"}, "here")
    assert (made.url, made.api_url, made.token_env) == (
        "https://fake.example", "https://fake.example/api", "TOKEN"
    )
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        check({"kind": "fake", "repository": "O/N/x"}, "here")


def test_a_sealed_release_missing_a_file_stops_with_the_fix(
    fake: FakeForge, tmp_path: Path
) -> None:
    config = ForgeConfig(repository="o/n", kind="fake", token_env="TOKEN")
    ctx = _context(tmp_path, config)
    fake.seal_on_publish = True
    draft, attach, publish = _announce_steps()
    draft.run(ctx)
    publish.run(ctx)  # published (by hand, say) before the files were attached
    with pytest.raises(ReleaseError) as raised:
        attach.run(ctx)
    assert "immutable" in raised.value.message
    assert "demo-1.0-py3-none-any.whl" in raised.value.message
    assert "release resume --skip announce.attach" in raised.value.hint
    assert not any(c.startswith("attach") for c in fake.calls)


def test_a_broken_file_is_detached_and_attached_again(fake: FakeForge, tmp_path: Path) -> None:
    config = ForgeConfig(repository="o/n", kind="fake", token_env="TOKEN")
    ctx = _context(tmp_path, config)
    release = fake.create_draft(Announcement("v1.0", "v1.0", "## 1.0\n", False, False, True))
    states = fake.file_states
    first = True

    def broken_once(rel: dict[str, Any], files: dict[str, str]) -> Any:
        nonlocal first
        if first:
            first = False
            return {name: (BROKEN, {"name": name}) for name in files}
        return states(rel, files)

    fake.file_states = broken_once  # type: ignore[method-assign]
    AttachFiles(step=SimpleNamespace(id="x")).run(ctx)  # type: ignore[arg-type]
    assert "detach" in fake.calls
    assert fake.files[release["tag"]]


def _modules_outside(package: str) -> dict[Path, str]:
    return {
        path: path.read_text()
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] != package
    }


def test_forge_kinds_are_named_only_in_the_forges_package() -> None:
    """Outside release/forges/ a forge is reached through release.forges.connect."""
    for path, text in _modules_outside("forges").items():
        assert not re.search(r"release\.forges\.github|\bGitHub\(", text), path


class FakeTarget:
    """A target kept in memory."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.sent: list[str] = []

    @property
    def name(self) -> str:
        return "shelf"

    def probe(self, files: dict[str, str]) -> dict[str, str]:
        return {n: PRESENT if self.stored.get(n) == d else MISSING for n, d in files.items()}

    def upload(self, name: str, path: Path, digest: str) -> str:
        if self.stored.get(name) == digest:
            return PRESENT
        self.sent.append(name)
        self.stored[name] = digest
        return UPLOADED

    def confirm(self, files: dict[str, str]) -> dict[str, str]:
        return self.probe(files)

    def state(self, files: dict[str, str]) -> dict[str, str]:
        return self.probe(files)

    def survey(self, version: Any) -> targets.TargetFacts:
        there = tuple(n for n in self.stored if f"-{version}" in n)
        return targets.TargetFacts("shelf", None, there, "", "Put a key on the shelf.")


@pytest.fixture
def shelf(monkeypatch: pytest.MonkeyPatch) -> FakeTarget:
    """One registry line (and the configuration naming the kind)."""
    target = FakeTarget()
    monkeypatch.setitem(targets.TARGETS, "fake", lambda *_args: target)
    monkeypatch.setattr(TargetConfig, "kind", property(lambda self: "fake"))
    return target


def test_a_registered_target_is_used_by_publish_and_status(
    shelf: FakeTarget, tmp_path: Path
) -> None:
    config = TargetConfig(name="shelf", repository_url="https://example.invalid/")
    ctx = _context(tmp_path, ForgeConfig(repository="o/n", token_env="TOKEN"))
    ctx.plan.targets = (config,)
    ctx.plan.project = "demo"
    ctx.journal.uploads = {}
    ctx.journal.save = lambda: None
    step = Publish(step=SimpleNamespace(id="publish.upload.shelf", path="shelf"))  # type: ignore[arg-type]
    assert not step.is_done(ctx)
    step.run(ctx)
    assert step.is_done(ctx)
    assert shelf.sent == ["demo-1.0-py3-none-any.whl"]
    assert ctx.journal.uploads == {"shelf": {"demo-1.0-py3-none-any.whl": UPLOADED}}

    data = {
        "publish": [config.as_dict("_")],
        "project": "demo",
        "files": ctx.journal.artifacts,
    }
    rows = status._target_rows(data)
    assert [(r.where, r.item, r.state) for r in rows] == [
        ("shelf", "demo-1.0-py3-none-any.whl", PRESENT)
    ]


def test_the_preflight_asks_a_registered_target_through_its_survey(shelf: FakeTarget) -> None:
    from factsmaker import FakeRunner, make_facts

    from release import checks
    from release.plan import Request

    shelf.stored["sample_project-1.2.1.tar.gz"] = "x"
    target = {"name": "shelf", "repository-url": "https://example.invalid/",
              "index-url": "https://example.invalid/simple/"}
    facts = make_facts(release={"publish": [target]})
    _plan, problems = checks.evaluate(
        facts, Request("patch"), {}, None, runner=FakeRunner()  # type: ignore[arg-type]
    )
    found = {p.code: p for p in problems}
    assert found["credentials"].hint == "Put a key on the shelf."
    assert "sample_project-1.2.1.tar.gz" in found["version-on-index"].message


def test_target_kinds_are_named_only_in_the_targets_package() -> None:
    """Outside release/targets/ a target is reached through release.targets.connect
    (verify-install still reads the index's URL: see CONTRIBUTING.md)."""
    for path, text in _modules_outside("targets").items():
        named = re.search(r"release\.targets\.index|IndexTarget|twine\.commands\.upload", text)
        assert not named, path


# --- the Step seam: every kind of step has its own undo ---------------------------------------


def _every_step_kind() -> list[tuple[tuple[str, str], Any]]:
    from release.plan import Step
    from release.steps import registry

    return [(key, factory(Step(*key, "a step", path="x"))) for key, factory in registry().items()]


def test_every_registered_step_kind_has_its_own_undo() -> None:
    """Adding a step is implementing describe, is_done, run and undo: none may fall back on
    the protocol's (an explicit subclass of StepImpl would inherit its empty undo)."""
    from release.steps import StepImpl

    for key, impl in _every_step_kind():
        undo = getattr(type(impl), "undo", None)
        assert callable(undo), f"{key} has no undo"
        assert undo is not StepImpl.undo, f"{key} uses the protocol's undo"


def test_the_undo_of_every_public_step_refuses() -> None:
    """From the push on, what a step did is public: its undo raises UndoRefused, before
    touching anything (the context here holds no repository at all)."""
    from release.stages import public
    from release.steps import UndoRefused

    plan: Any = SimpleNamespace(
        tag="v1.0", remote="origin", user_step=lambda name: SimpleNamespace(stage=stage)
    )
    ctx: Any = SimpleNamespace(plan=plan, workspace=None)
    kinds = [(key, impl) for key, impl in _every_step_kind() if public(key[0])]
    assert {stage for (stage, _), _ in kinds} == {"push", "publish", "announce", "post"}
    for (stage, name), impl in kinds:
        with pytest.raises(UndoRefused, match=r"never undone") as refused:
            impl.undo(ctx)
        assert f"{stage}.{name}:x" in refused.value.message
        assert "release resume" in refused.value.hint
