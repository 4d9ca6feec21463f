"""The reference documentation must agree with the code it describes.

docs/configuration.md has one ``### `key``` heading per ``[tool.release]`` key,
followed by the lines ``- Type: ...`` (exactly ``Key.type_name``) and
``- Default: ...`` (exactly what ``release config`` shows for the default, in
backticks or not). ``### `...``` headings are used for nothing else there.

docs/cli.md has one ``## `release COMMAND ...``` heading per subcommand, naming
each of its options, a table whose first column is ``status`` (the exit codes)
and a table whose first column is ``code`` (the problem codes).

docs/plan-json.md has tables whose first column is ``field``, listing every
member of ``release preview --json`` as a dotted path (``plan.steps[].id``).
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Result

from release import config, errors
from release.cli import build_parser
from release.demo import DEMO_FRAGMENTS

pytestmark = pytest.mark.cached_samples

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIGURATION_MD = DOCS / "configuration.md"
CLI_MD = DOCS / "cli.md"
PLAN_JSON_MD = DOCS / "plan-json.md"

# Keys whose default is not a value but detected from pyproject.toml; the Default
# line must name every possible outcome of the detection.
DETECTED_DEFAULTS: dict[str, list[dict[str, object]]] = {
    "version-locations": [
        {"project": {"name": "x", "version": "1.0"}},
        {"project": {"name": "x", "dynamic": ["version"]},
         "build-system": {"requires": ["hatchling", "hatch-vcs"]}},
    ],
}


# --- Markdown helpers -----------------------------------------------------------------


@dataclass(frozen=True)
class KeyDoc:
    name: str
    line: int  # of the heading, 1-based
    type_name: str | None
    default: str | None
    body: str


def _unquote(text: str) -> str:
    """``text`` without one pair of backticks around all of it."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "`" and "`" not in text[1:-1]:
        return text[1:-1]
    return text


def _outside_fences(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) of every line that is not inside a fenced code block."""
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield i, line


def parse_key_docs(text: str) -> tuple[list[KeyDoc], list[str]]:
    """Every ``### `key``` section, and the names of keys documented more than once."""
    lines = text.splitlines()
    heading = re.compile(r"^### `([^`]+)`\s*$")
    starts = [(i, m[1]) for i, line in _outside_fences(lines) if (m := heading.match(line))]
    ends = [i for i, line in _outside_fences(lines) if line.startswith(("# ", "## ", "### "))]
    docs: list[KeyDoc] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for start, name in starts:
        end = min((e for e in ends if e > start), default=len(lines))
        section = lines[start + 1:end]
        type_name = default = None
        for line in section:
            if line.startswith("- Type:") and type_name is None:
                type_name = _unquote(line[len("- Type:"):])
            elif line.startswith("- Default:") and default is None:
                default = _unquote(line[len("- Default:"):])
        if name in seen:
            duplicates.append(name)
        seen.add(name)
        docs.append(KeyDoc(name, start + 1, type_name, default, "\n".join(section)))
    return docs, duplicates


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table in ``text``: (header cells, body rows of cells)."""
    found: list[tuple[list[str], list[list[str]]]] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            block.append(cells)
            continue
        if len(block) >= 2:
            found.append((block[0], block[2:]))
        block = []
    return found


def table_column(text: str, first_header: str) -> list[str]:
    """The first cell of each row of every table whose first header cell is ``first_header``."""
    return [_unquote(row[0]) for header, rows in tables(text)
            if header and header[0].lower() == first_header for row in rows]


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The cells of each row of every table whose first header cell is ``first_header``."""
    return [row for header, rows in tables(text)
            if header and header[0].lower() == first_header for row in rows]


def sections(text: str, prefix: str) -> dict[str, str]:
    """``## `prefix...``` heading text (inside the backticks) -> the text up to the next ``## ``."""
    lines = text.splitlines()
    marks = [(i, line) for i, line in _outside_fences(lines) if line.startswith("## ")]
    out: dict[str, str] = {}
    for n, (i, line) in enumerate(marks):
        m = re.match(r"^## `([^`]+)`", line)
        if m and m[1].startswith(prefix):
            end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
            out[m[1]] = "\n".join(lines[i:end])
    return out


# --- docs/configuration.md ------------------------------------------------------------


@pytest.fixture(scope="module")
def key_docs() -> dict[str, KeyDoc]:
    docs, duplicates = parse_key_docs(CONFIGURATION_MD.read_text(encoding="utf-8"))
    assert not duplicates, f"docs/configuration.md documents these keys twice: {duplicates}"
    return {d.name: d for d in docs}


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> config.Config:
    """The configuration of a project that sets nothing, loaded the way the CLI loads it."""
    project = tmp_path_factory.mktemp("defaults")
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0"\n',
                                            encoding="utf-8")
    return config.load(project, environ={})


def test_every_schema_key_is_documented(key_docs: dict[str, KeyDoc]) -> None:
    missing = [k.name for k in config.SCHEMA if k.name not in key_docs]
    assert not missing, (
        "docs/configuration.md has no '### `KEY`' section for these [tool.release] keys: "
        + ", ".join(missing)
    )


def test_every_documented_key_is_in_the_schema(key_docs: dict[str, KeyDoc]) -> None:
    unknown = [f"{d.name} (line {d.line})" for d in key_docs.values()
               if d.name not in config.SCHEMA_BY_NAME]
    assert not unknown, (
        "docs/configuration.md documents keys that release/config.py SCHEMA does not have: "
        + ", ".join(unknown)
    )


def test_documented_types_match_the_schema(key_docs: dict[str, KeyDoc]) -> None:
    wrong = []
    for key in config.SCHEMA:
        doc = key_docs.get(key.name)
        if doc is None:
            continue  # reported by test_every_schema_key_is_documented
        if doc.type_name != key.type_name:
            wrong.append(f"`{key.name}` (line {doc.line}): the doc says Type: {doc.type_name!r}, "
                         f"the schema says {key.type_name!r}")
    assert not wrong, "docs/configuration.md disagrees with the schema:\n" + "\n".join(wrong)


def test_documented_defaults_match_the_schema(
    key_docs: dict[str, KeyDoc], defaults: config.Config
) -> None:
    wrong = []
    for key in config.SCHEMA:
        doc = key_docs.get(key.name)
        if doc is None:
            continue
        source = defaults.sources[key.name]
        if doc.default is None:
            wrong.append(f"`{key.name}` (line {doc.line}): no '- Default: ...' line")
        elif source.startswith("default (detected"):
            examples = DETECTED_DEFAULTS.get(key.name)
            assert examples is not None, (
                f"`{key.name}` has a detected default; add its cases to DETECTED_DEFAULTS "
                "in tests/test_docs.py"
            )
            for pyproject in examples:
                shown = config.show_value(config.default_locations(Path("."), pyproject))
                if shown not in doc.default:
                    wrong.append(f"`{key.name}` (line {doc.line}): the Default line does not "
                                 f"mention the detected default {shown} (for {pyproject})")
        else:
            assert source == "default", (key.name, source)
            shown = config.show_value(defaults.values[key.name])
            if doc.default != shown:
                wrong.append(f"`{key.name}` (line {doc.line}): the doc says Default: "
                             f"{doc.default}, `release config` shows {shown}")
    assert not wrong, "docs/configuration.md disagrees with the schema:\n" + "\n".join(wrong)


def test_bump_tables_match_the_defaults() -> None:
    text = CONFIGURATION_MD.read_text(encoding="utf-8")
    for header, defaults in (("fragment type", config.DEFAULT_FRAGMENT_BUMPS),
                             ("commit type", config.DEFAULT_COMMIT_BUMPS)):
        documented = {_unquote(row[0]): _unquote(row[1]) for row in table_rows(text, header)}
        assert documented == defaults, (
            f"docs/configuration.md: the table '| {header} | bump |' says {documented}, "
            f"release/config.py says {defaults}"
        )


def test_environment_prefix_is_documented() -> None:
    text = CONFIGURATION_MD.read_text(encoding="utf-8")
    assert f"{config.ENV_PREFIX}<KEY>" in text, (
        f"docs/configuration.md does not name the environment variables {config.ENV_PREFIX}<KEY>"
    )


# --- docs/cli.md ----------------------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("release.cli.build_parser() has no subcommands")


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    """What a user types or reads for each argument: long options and positional metavars."""
    names: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            names.append(max(action.option_strings, key=len))
        else:
            names.append(str(action.metavar or action.dest))
    return names


def test_cli_doc_has_a_section_for_every_subcommand() -> None:
    documented = {name.split()[1] for name in sections(CLI_MD.read_text(encoding="utf-8"),
                                                       "release ")}
    commands = set(_subcommands())
    found = []
    if commands - documented:
        found.append("docs/cli.md has no '## `release COMMAND`' section for: "
                      + ", ".join(sorted(commands - documented)))
    if documented - commands:
        found.append("docs/cli.md documents commands that release.cli.build_parser() does "
                      "not have: " + ", ".join(sorted(documented - commands)))
    assert not found, "\n".join(found)


def test_cli_doc_names_every_argument_of_every_subcommand() -> None:
    docs = {name.split()[1]: text for name, text in
            sections(CLI_MD.read_text(encoding="utf-8"), "release ").items()}
    missing = [f"release {command}: {arg}"
               for command, parser in _subcommands().items() if command in docs
               for arg in _arguments(parser) if arg not in docs[command]]
    assert not missing, "docs/cli.md does not mention these arguments in the command's " \
                        "section:\n" + "\n".join(missing)


def test_cli_doc_names_the_global_options() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    parser = build_parser()
    missing = [arg for arg in _arguments(parser)
               if arg != "COMMAND" and f"`{arg}" not in text]
    assert not missing, f"docs/cli.md does not document the global options {missing}"


def test_cli_doc_lists_the_exit_codes() -> None:
    statuses = table_column(CLI_MD.read_text(encoding="utf-8"), "status")
    expected = {str(c) for c in (errors.EXIT_OK, errors.EXIT_CHECK_FAILED, errors.EXIT_USAGE)}
    assert expected <= set(statuses), (
        f"docs/cli.md: the '| status | ...' table lists {statuses}; it must list "
        f"{sorted(expected)}"
    )


def problem_codes_in_source() -> dict[str, str]:
    """Every problem code in release/: the first argument of ``Problem(...)`` and
    ``Problem.from_error(...)``, found by parsing the source; code -> where."""
    codes: dict[str, str] = {}
    not_literal: list[str] = []
    for path in sorted((ROOT / "release").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_problem = (isinstance(func, ast.Name) and func.id == "Problem") or (
                isinstance(func, ast.Attribute) and func.attr == "from_error"
                and isinstance(func.value, ast.Name) and func.value.id == "Problem"
            )
            if not is_problem:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.setdefault(first.value, where)
            else:
                not_literal.append(where)
    assert not not_literal, (
        "Problem codes must be string literals so docs/cli.md can be checked; not at: "
        + ", ".join(not_literal)
    )
    return codes


def test_problem_codes_are_found_in_the_source() -> None:
    codes = problem_codes_in_source()
    # The parser must find the codes at all, or the next test would pass vacuously.
    assert {"dirty-tree", "plan"} <= set(codes), codes


def test_cli_doc_explains_every_problem_code() -> None:
    documented = set(table_column(CLI_MD.read_text(encoding="utf-8"), "code"))
    codes = problem_codes_in_source()
    missing = [f"{code} ({where})" for code, where in codes.items() if code not in documented]
    stale = sorted(documented - set(codes))
    found = []
    if missing:
        found.append("docs/cli.md has no row in its '| code | ...' table for these problem "
                      "codes: " + ", ".join(missing))
    if stale:
        found.append(f"docs/cli.md explains problem codes that release/ no longer uses: {stale}")
    assert not found, "\n".join(found)


# --- docs/plan-json.md ----------------------------------------------------------------


def json_paths(value: object, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every member: ``plan``, ``plan.steps``, ``plan.steps[].id``..."""
    if isinstance(value, dict):
        for key, member in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from json_paths(member, path)
    elif isinstance(value, list):
        for item in value:
            yield from json_paths(item, f"{prefix}[]")


def test_plan_json_doc_lists_every_member(
    sample: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    project = sample(fragments={"12.feature.md": "Add a thing.", "13.bugfix.md": "Fix a bug."})
    (project / "untracked.txt").write_text("x", encoding="utf-8")  # a problem, to see its members
    with socket.socket() as sock:  # a local port with nothing listening: the index is unreadable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = (f'{{ name = "local", repository-url = "http://127.0.0.1:{port}/legacy/", '
              f'index-url = "http://127.0.0.1:{port}/simple/" }}')
    step = '{ name = "lock", stage = "prepare", run = ["uv", "lock"], paths = ["uv.lock"] }'
    result = cli("-c", "next-dev=true", "-c", f"publish=[{target}]",
                 "-c", 'forge={ kind = "github", repository = "owner/sample" }',
                 "-c", f"steps=[{step}]",
                 "-c", 'gates=["lint", { name = "docs", run = ["mkdocs", "build"] }]',
                 "preview", "--json", cwd=project)
    data = json.loads(result.stdout)
    assert data["plan"] is not None, result.stderr
    assert data["problems"], data
    actual = set(json_paths(data))
    documented = set(table_column(PLAN_JSON_MD.read_text(encoding="utf-8"), "field"))
    found = []
    if actual - documented:
        found.append("docs/plan-json.md has no '| field | ...' row for these members of "
                      "`release preview --json`: " + ", ".join(sorted(actual - documented)))
    if documented - actual:
        found.append("docs/plan-json.md documents members that `release preview --json` "
                      "does not have: " + ", ".join(sorted(documented - actual)))
    assert not found, "\n".join(found)
    text = PLAN_JSON_MD.read_text(encoding="utf-8")
    for obj in (data, data["plan"]):
        for member in ("schema", "schema_version"):
            written = f'"{member}": {json.dumps(obj[member])}'
            assert written in text, f"docs/plan-json.md does not say {written}"


# --- README.md and CONTRIBUTING.md ----------------------------------------------------


@functools.cache
def nox_sessions() -> frozenset[str]:
    """Every session noxfile.py defines, as ``nox --list`` shows them (selected or not)."""
    done = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--noxfile", str(ROOT / "noxfile.py")],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return frozenset(re.findall(r"^[*-] (\S+)", done.stdout, re.MULTILINE))


def test_readme_quick_start_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("python3 -m pip install nox && python3 -m nox -s demo",
                    "python3 -m pip install nox && python3 -m nox -s tests"):
        assert command in readme, f"README.md must show `{command}`"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI runs the README's test command itself, as its own line.
    assert "\npython3 -m nox -s tests\n" in ci, ".ci/run no longer runs the README's command"


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md"])
def test_every_nox_session_named_in_the_docs_exists(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    named = set(re.findall(r"nox -s ([\w-]+)", text))
    assert named, f"{name} names no nox session"
    unknown = named - nox_sessions()
    assert not unknown, f"{name} names nox sessions that noxfile.py does not define: {unknown}"


def test_doc_links_resolve() -> None:
    broken = []
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert not broken, "links to files that do not exist: " + ", ".join(broken)


# --- Output quoted in the docs --------------------------------------------------------


def quoted_output(text: str, command: str) -> str:
    """The output shown after the first ``$ command`` line of a console block."""
    start = text.index(f"$ {command}\n") + len(f"$ {command}\n")
    end = min(i for i in (text.find("\n$ ", start), text.find("\n```", start)) if i != -1)
    return text[start:end]


def test_quoted_preview_is_the_real_output(
    sample: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    project = sample(fragments=DEMO_FRAGMENTS)
    result = cli("preview", cwd=project)
    quoted = quoted_output(CLI_MD.read_text(encoding="utf-8"), "release preview")
    assert quoted == result.stdout.rstrip("\n"), (
        "docs/cli.md quotes `release preview` of the demo project differently from what it "
        "prints now; paste the new output:\n" + result.stdout
    )


def test_quoted_config_is_the_real_output(
    sample: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    project = sample(fragments=DEMO_FRAGMENTS)
    command = """release -c 'branches=["main", "release/*"]' config"""
    result = cli("-c", 'branches=["main", "release/*"]', "config", cwd=project,
                 env={"RELEASE_PIPELINE_REMOTE": "upstream"})
    actual = result.stdout.replace(str(project), "/tmp/demo/sample-project").rstrip("\n")
    quoted = quoted_output(CONFIGURATION_MD.read_text(encoding="utf-8"),
                           f"RELEASE_PIPELINE_REMOTE=upstream {command}")
    assert quoted == actual, (
        "docs/configuration.md quotes `release config` differently from what it prints now; "
        "paste the new output:\n" + actual
    )
