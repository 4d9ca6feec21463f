"""The command line is parsed by only the subcommand's parser, with the same result."""

from __future__ import annotations

import os

import pytest

from release.cli import _SUBCOMMANDS, _command_of, build_parser

ARGVS = [
    ["preview"],
    ["-C", "/tmp/x", "-c", "remote=up", "preview", "minor", "--pre", "rc", "--json"],
    ["-C/tmp/x", "-cnext-dev=true", "check", "--fragments", "--base", "origin/main"],
    ["version", "--next", "2.0.0"],
    ["changelog", "patch"],
    ["run", "--yes", "--until", "tag", "--final"],
    ["resume", "--yes"],
    ["abort"],
    ["pr", "minor", "--pre", "rc"],
    ["init", "--dry-run", "--ci", "github"],
    ["fragment", "12", "feature", "Add a thing.", "--section", "api"],
    ["ci", "--build-only", "--outdir", "out"],
    ["ci", "--build-only", "--dist", "wheel"],
    ["collect", "a", "b", "--tag", "v1.0", "--outdir", "merged"],
    ["build", "--no-verify"],
    ["status", "1.2.0", "--json"],
    ["config", "--json"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_the_subcommand_parser_alone_parses_like_the_whole_parser(argv: list[str]) -> None:
    command = _command_of(argv)
    assert command == next(a for a in argv if a in _SUBCOMMANDS)
    assert vars(build_parser(command).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_every_subcommand_is_known_to_the_fast_path() -> None:
    assert {a[next(i for i, x in enumerate(a) if x in _SUBCOMMANDS)] for a in ARGVS} == set(
        _SUBCOMMANDS
    )


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--version"], ["-C", "dir"], ["previe"], ["--bogus", "preview"]],
    ids=lambda a: " ".join(a) or "(nothing)",
)
def test_anything_else_builds_the_whole_parser(argv: list[str]) -> None:
    assert _command_of(argv) is None


def test_the_top_level_help_is_the_same_without_the_subcommands_arguments() -> None:
    assert build_parser(arguments=False).format_help() == build_parser().format_help()


@pytest.mark.parametrize(
    ("command", "status"), [("ci", 3), ("run", 1), ("preview", 1), ("version", 1), (None, 1)]
)
def test_nothing_to_release_is_status_3_only_for_release_ci(
    command: str | None, status: int
) -> None:
    from release.checks import ChecksFailed, InputRejected
    from release.cli import exit_status
    from release.errors import ConfigError, NothingToRelease

    assert exit_status(NothingToRelease("Nothing to release.", ""), command) == status
    # Any other error keeps its own status, in release ci too.
    assert exit_status(ChecksFailed("x"), command) == 1
    assert exit_status(InputRejected("x"), command) == 2
    assert exit_status(ConfigError("x"), command) == 2


def test_parsing_a_command_does_not_import_shutil_and_help_keeps_the_terminal_width() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from release.cli import build_parser; "
        "build_parser().parse_args(['preview', '--json']); print('shutil' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    # Help is as wide as argparse's own width (asked through shutil) makes it.
    compare = (
        "import argparse; from release import cli; "
        "ours = cli.build_parser('preview')._subparsers._group_actions[0].choices['preview']"
        ".format_help(); "
        "cli._Parser._get_formatter = argparse.ArgumentParser._get_formatter; "
        "theirs = cli.build_parser('preview')._subparsers._group_actions[0].choices['preview']"
        ".format_help(); "
        "print(ours == theirs, max(map(len, ours.splitlines())))"
    )
    widths = []
    for columns in (50, 120):
        done = subprocess.run(
            [sys.executable, "-c", compare],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": str(columns)},
        )
        same, widest = done.stdout.split()
        assert same == "True"
        widths.append(int(widest))
    assert widths[0] < widths[1] <= 118
