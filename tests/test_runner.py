"""The runner's spawned commands: overlap without blocking, typed failures, masked secrets."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from release.errors import CommandError
from release.runner import Runner

BIG = 3 * 1024 * 1024  # far beyond any pipe buffer


def test_a_spawned_command_with_long_output_finishes_before_anyone_reads_it(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "finished"
    script = (
        "import sys, pathlib\n"
        f"sys.stdout.write('x' * {BIG})\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('done writing')\n"
        f"pathlib.Path({str(marker)!r}).write_text('yes')\n"
    )
    pending = Runner(tmp_path).spawn([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the command waited for its output to be read"
    done = pending.result()
    assert (done.returncode, len(done.stdout), done.stderr) == (0, BIG, "done writing")
    assert pending.result() is done


def test_a_missing_program_is_status_127_and_a_typed_error(tmp_path: Path) -> None:
    pending = Runner(tmp_path).spawn(["no-such-program-anywhere", "arg"])
    done = pending.result(check=False)
    assert done.returncode == 127
    assert "no-such-program-anywhere: not found" in done.stderr
    with pytest.raises(CommandError) as caught:
        pending.result()
    assert caught.value.returncode == 127


def test_a_failed_spawned_command_raises_with_its_output_and_secrets_masked(
    tmp_path: Path,
) -> None:
    runner = Runner(tmp_path, secrets=["hunter2-token"])
    pending = runner.spawn(
        [sys.executable, "-c", "import sys; print('using hunter2-token'); sys.exit(3)"]
    )
    with pytest.raises(CommandError) as caught:
        pending.result()
    assert caught.value.returncode == 3
    assert "hunter2-token" not in str(caught.value)
    assert "using ***" in str(caught.value)
    assert "hunter2" not in repr(runner)


def test_output_keeps_carriage_returns_and_undecodable_bytes_are_replaced(
    tmp_path: Path,
) -> None:
    script = "import sys; sys.stdout.buffer.write(b'a\\r\\nb\\rc\\0d\\xff')"
    done = Runner(tmp_path).spawn([sys.executable, "-c", script]).result()
    assert done.stdout == "a\r\nb\rc\0d\ufffd"


def test_spawn_falls_back_when_the_temporary_directory_cannot_hold_unnamed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "does-not-exist"))
    done = Runner(tmp_path).spawn([sys.executable, "-c", "print('still works')"]).result()
    assert done.stdout.strip() == "still works"
