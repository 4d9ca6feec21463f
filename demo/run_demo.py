"""The end-to-end demo (``nox -s demo``): a real staged release, on this machine only.

In a temporary directory it creates a sample project with a bare git remote,
starts a real package index (pypiserver, with a password) and the GitHub API
stand-in from the test suite on 127.0.0.1, and releases the project for real:
check, prepare, tag, build, verify, push, publish (with an install-and-import
check), announce, post.  Then it installs the published version into a fresh
environment and imports it, and runs a pre-release cycle: 1.1.0rc1, then 1.1.0.
It ends with a table of every stage's result and time, and stops every server
it started (by PID), also on failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the index runner and the GitHub stand-in

from github_standin import GitHubStandIn  # noqa: E402
from indexes import PypiServer  # noqa: E402

from release import flow  # noqa: E402
from release.demo import GIT_ENV, create_sample_project, git  # noqa: E402
from release.executor import Outcome  # noqa: E402
from release.plan import Plan, Request  # noqa: E402

ROWS: list[tuple[str, str, str, float]] = []


def say(text: str) -> None:
    print(text, flush=True)


def configure(project: Path, index: PypiServer, forge: GitHubStandIn) -> None:
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "\n[tool.release]\n", "\n[tool.release]\nnext-dev = true\n", 1
        )
        + textwrap.dedent(f"""
            [[tool.release.publish]]
            name = "local-index"
            repository-url = "{index.target.upload_url}"
            index-url = "{index.target.simple_url}"
            verify-install = true

            [tool.release.forge]
            kind = "github"
            repository = "{forge.full_name}"
            api-url = "{forge.api_url}"
            """),
        encoding="utf-8",
    )
    git(project, "commit", "--quiet", "-am", "Publish to the local index; announce on GitHub")
    git(project, "push", "--quiet", "origin", "main")


def add_fragment(project: Path, name: str, text: str) -> None:
    (project / "changelog.d" / name).write_text(text + "\n", encoding="utf-8")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", f"Add {name}")
    git(project, "push", "--quiet", "origin", "main")


def release(project: Path, environ: dict[str, str], request: Request, label: str) -> Plan:
    say(f"\n=== {label} ===")
    shown: list[Plan] = []

    def show(plan: Plan, problems: list[str]) -> None:
        shown.append(plan)
        say(f"{plan.project} {plan.current} -> {plan.version}: {len(plan.steps)} steps")
        for problem in problems:
            say(f"  x {problem}")

    def progress(outcome: Outcome) -> None:
        step = outcome.step
        say(f"  {outcome.status:<12} {step.stage:<8} {step.summary} ({outcome.seconds:.1f}s)")
        ROWS.append((label, step.stage, outcome.status, outcome.seconds))

    flow.run(project, request=request, environ=environ, overrides=(), until=None, show=show,
             confirm=lambda _plan: True, on_step=progress)
    return shown[0]


def install_and_import(index: PypiServer, work: Path, version: str) -> None:
    say(f"\n=== Installing sample-project=={version} from the index into a fresh venv ===")
    env_dir = work / "consumer-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    start = time.monotonic()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir",
                    "--disable-pip-version-check", "--index-url", index.target.simple_url,
                    f"sample-project=={version}"], check=True)
    out = subprocess.run([str(python), "-c", "import sample_project, importlib.metadata as m; "
                          "print(m.version('sample-project'), sample_project.__version__)"],
                         check=True, capture_output=True, text=True).stdout.strip()
    say(f"  import sample_project -> metadata and __version__: {out}")
    if out != f"{version} {version}":
        raise SystemExit(f"installed version mismatch: {out!r}")
    ROWS.append(("install from index", "import", "done", time.monotonic() - start))


def summary() -> None:
    say("\n=== Summary ===")
    say(f"  {'release':<25}{'stage':<10}{'result':<14}time")
    merged: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for label, stage, status, seconds in ROWS:
        merged.setdefault((label, stage), []).append((status, seconds))
    for (label, stage), results in merged.items():
        statuses = {s for s, _ in results}
        result = "failed" if "failed" in statuses else (
            "already done" if statuses == {"already done"} else "done")
        say(f"  {label:<25}{stage:<10}{result:<14}{sum(t for _, t in results):.1f}s")


def main() -> int:
    os.environ.update(GIT_ENV)
    with tempfile.TemporaryDirectory(prefix="release-demo-") as tmp:
        work = Path(tmp)
        index = PypiServer(work / "index")
        forge = GitHubStandIn(owner="demo-org", repo="sample-project")
        pid: int | None = None
        try:
            index.start()
            pid = index.pid
            forge.start()
            say(f"pypiserver (PID {index.pid}) at {index.origin}, user {index.username!r}; "
                f"GitHub stand-in at {forge.api_url}")
            project = create_sample_project(
                work, version="1.0.0", fragments={"7.bugfix.md": "Fix a crash on empty input."})
            configure(project, index, forge)
            environ = {**os.environ, "TWINE_USERNAME": index.username,
                       "TWINE_PASSWORD": index.password, "GITHUB_TOKEN": forge.token}
            first = release(project, environ, Request(), "1.0.1")
            install_and_import(index, work, str(first.version))
            add_fragment(project, "8.feature.md", "Add `--json` output.")
            release(project, environ, Request(pre="rc"), "1.1.0rc1 (pre-release)")
            add_fragment(project, "9.bugfix.md", "Fix the rc's JSON escaping.")
            release(project, environ, Request(final=True), "1.1.0 (final)")
            releases = {r["tag_name"]: r["prerelease"] for r in forge.releases()}
            say(f"\nGitHub releases: {releases}")
            files = sorted(p.name for p in index.packages_dir.iterdir())
            say(f"Files on the index: {', '.join(files)}")
            say("Tags on the remote: " + git(work / "sample-project.git", "tag").replace(
                "\n", " ").strip())
            summary()
        finally:
            forge.stop()
            index.stop()
            say(f"\nStopped pypiserver (PID {pid}) and the GitHub stand-in.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
