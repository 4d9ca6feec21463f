"""[tool.release]: strict validation, sources of each value, `release config`, and tag safety."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CLI, assert_usage_error, set_release_config

pytestmark = pytest.mark.cached_samples


def config_sources(stdout: str) -> dict[str, tuple[str, str]]:
    """``release config`` text -> key: (value, source)."""
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"^([a-z-]+)\s+= (.*?)\s+# (.+)$", line)
        if match:
            found[match[1]] = (match[2], match[3])
    return found


# --- validation ------------------------------------------------------------------------------


def test_unknown_key_suggests_the_right_one(project: Path, cli: CLI) -> None:
    set_release_config(project, 'tag-fromat = "release-{version}"')
    for command in (["check"], ["config"]):
        both = assert_usage_error(cli(*command, cwd=project), "`tag-fromat`", "pyproject.toml")
        assert "Did you mean 'tag-format'?" in both


def test_unknown_key_on_the_command_line(project: Path, cli: CLI) -> None:
    both = assert_usage_error(cli("-c", "tag-fromat=x{version}", "check", cwd=project),
                              "`tag-fromat`", "command line")
    assert "Did you mean 'tag-format'?" in both


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('allow-no-fragments = "yes"', "allow-no-fragments", "a boolean"),
        ('branches = "main"', "branches", "a list of branch patterns"),
        ("remote = 1", "remote", "a string"),
        ("fragment-bumps = 3", "fragment-bumps", "a table"),
        ("version-locations = []", "version-locations", "a non-empty list"),
    ],
)
def test_wrong_type_names_key_expected_type_and_file(
    project: Path, cli: CLI, line: str, key: str, expected: str
) -> None:
    set_release_config(project, line)
    both = assert_usage_error(cli("check", cwd=project), f"`{key}`", expected, "pyproject.toml")
    value = line.split(" = ", 1)[1].strip('"')
    assert value in both  # the offending value is shown


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('version-source = "comits"', ["`version-source`", "'comits'", "Did you mean 'commits'?"]),
        ('fragment-bumps = { feature = "big" }', ["`fragment-bumps.feature`", "'big'", "'minor'"]),
        ('tag-format = "release"', ["`tag-format`", "{version}"]),
        ('tag-format = "v{version"', ["`tag-format`", "'v{version'"]),
        ("branches = []", ["`branches`"]),
    ],
    ids=["choice", "bump-level", "tag-format-without-version", "tag-format-bad-braces",
         "no-branches"],
)
def test_bad_value_names_key_and_value(
    project: Path, cli: CLI, line: str, named: list[str]
) -> None:
    set_release_config(project, line)
    assert_usage_error(cli("check", cwd=project), "pyproject.toml", *named)


def test_missing_version_file_is_named(project: Path, cli: CLI) -> None:
    set_release_config(project, 'version-locations = ["src/sample_project/_version.py"]')
    for command in ("check", "config"):
        both = assert_usage_error(cli(command, cwd=project), "'src/sample_project/_version.py'")
        assert "version-locations" in both  # how to fix it


def test_version_file_without_a_version_is_named(project: Path, cli: CLI) -> None:
    (project / "src" / "sample_project" / "__init__.py").write_text('"""No version."""\n',
                                                                    encoding="utf-8")
    set_release_config(project, "")  # commits the change
    both = assert_usage_error(cli("version", cwd=project), "src/sample_project/__init__.py")
    assert "__version__" in both


def test_invalid_pyproject_toml_is_named(project: Path, cli: CLI) -> None:
    with (project / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("broken = [\n")
    assert_usage_error(cli("check", cwd=project), "pyproject.toml", "not valid TOML")


def test_not_a_key_value_override(project: Path, cli: CLI) -> None:
    assert_usage_error(cli("-c", "remote", "check", cwd=project), "'remote'", "key=value")


def test_bad_environment_value_names_the_variable(project: Path, cli: CLI) -> None:
    result = cli("check", cwd=project, env={"RELEASE_PIPELINE_ALLOW_NO_FRAGMENTS": "maybe"})
    assert_usage_error(result, "RELEASE_PIPELINE_ALLOW_NO_FRAGMENTS", "'maybe'", "a boolean")


# --- sources and overrides --------------------------------------------------------------------


def test_config_shows_the_source_of_each_value(project: Path, cli: CLI) -> None:
    set_release_config(project, 'sign = "none"')
    result = cli("-c", "tag-format=release-{version}", "config", cwd=project,
                 env={"RELEASE_PIPELINE_REMOTE": "upstream"})
    assert result.code == 0, result.stderr
    shown = config_sources(result.stdout)
    assert shown["tag-format"] == ('"release-{version}"', "command line")
    assert shown["remote"] == ('"upstream"', "environment (RELEASE_PIPELINE_REMOTE)")
    assert shown["sign"] == ('"none"', "pyproject.toml")
    assert shown["version-locations"] == (
        '["pyproject.toml", "src/sample_project/__init__.py"]', "pyproject.toml")
    assert shown["commit-message"] == ('"Release {version}"', "default")
    assert shown["allow-no-fragments"] == ("false", "default")
    assert str(project / "pyproject.toml") in result.stdout


def test_command_line_beats_environment_beats_pyproject(project: Path, cli: CLI) -> None:
    set_release_config(project, 'remote = "from-file"')
    env = {"RELEASE_PIPELINE_REMOTE": "from-env"}
    with_env = config_sources(cli("config", cwd=project, env=env).stdout)
    assert with_env["remote"] == ('"from-env"', "environment (RELEASE_PIPELINE_REMOTE)")
    both = config_sources(cli("-c", "remote=from-cli", "config", cwd=project, env=env).stdout)
    assert both["remote"] == ('"from-cli"', "command line")


def test_overrides_change_what_release_does(project: Path, cli: CLI) -> None:
    """The environment's remote is the one check reads (there is no `upstream` remote)."""
    result = cli("check", cwd=project, env={"RELEASE_PIPELINE_REMOTE": "upstream"})
    assert result.code == 1
    assert "'upstream'" in result.stdout
    tagged = cli("-c", "tag-format=release-{version}", "preview", "--json", cwd=project)
    assert json.loads(tagged.stdout)["plan"]["tag"] == "release-1.3.0"


def test_config_json(project: Path, cli: CLI) -> None:
    result = cli("-c", "next-dev=true", "config", "--json", cwd=project,
                 env={"RELEASE_PIPELINE_REMOTE": "upstream"})
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["remote"] == {"value": "upstream",
                              "source": "environment (RELEASE_PIPELINE_REMOTE)"}
    assert data["next-dev"] == {"value": True, "source": "command line"}
    assert data["branches"] == {"value": ["main", "master"], "source": "default"}
    assert data["version-locations"]["source"] == "pyproject.toml"
    assert [loc["path"] for loc in data["version-locations"]["value"]] == [
        "pyproject.toml", "src/sample_project/__init__.py"]
    assert data["fragment-bumps"]["value"]["removal"] == "major"
    assert all(set(entry) == {"value", "source"} for entry in data.values())


def test_config_detects_scm_version_for_hatch_vcs(
    sample: Callable[..., Path], run_inprocess: CLI
) -> None:
    project = sample("hatch-vcs")
    data = json.loads(run_inprocess("config", "--json", cwd=project).stdout)
    assert data["version-locations"]["value"] == [{"kind": "scm", "path": "", "key": ""}]
    assert data["version-locations"]["source"].startswith("default")


# --- tag-format cannot inject anything --------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("v{version};touch {marker}", ";"),
        ("v{version}$(touch {marker})", "$"),
        ("v{version}`touch {marker}`", "`"),
        ("-{version}", "-"),
        ("--upload-pack=touch {marker} {version}", "-"),
    ],
    ids=["semicolon", "dollar-paren", "backtick", "leading-dash", "option"],
)
def test_unsafe_tag_format_is_refused_and_runs_nothing(
    project: Path, cli: CLI, tmp_path: Path, template: str, shown: str
) -> None:
    marker = tmp_path / "INJECTED"
    tag_format = template.replace("{marker}", str(marker))
    set_release_config(project, f"tag-format = {json.dumps(tag_format)}")
    result = cli("preview", cwd=project)
    assert_usage_error(result, "tag-format", shown)
    assert not marker.exists(), "`release preview` ran an injected command"
    # The same template from the command line, through check (which also asks the remote).
    also = cli("-c", f"tag-format={tag_format}", "check", cwd=project)
    assert_usage_error(also, "tag-format", shown)
    assert not marker.exists(), "`release check` ran an injected command"


def test_unsafe_tag_format_error_names_where_it_was_set(project: Path, cli: CLI) -> None:
    """The error names the file and the key, like every other configuration error."""
    set_release_config(project, 'tag-format = "v{version};id"')
    assert_usage_error(cli("check", cwd=project), "pyproject.toml", "`tag-format`",
                       "'v{version};id'")
    from_cli = cli("-c", "tag-format=v{version};id", "check", cwd=project)
    assert_usage_error(from_cli, "command line", "tag-format")


# --- [tool.release.forge] ----------------------------------------------------------------

def _forge(table: dict[str, object]) -> object:
    from release import config

    return config.load(Path("/nowhere"), environ={}, pyproject={
        "project": {"name": "x", "version": "1.0"},
        "tool": {"release": {"version-locations": ["pyproject.toml"], "forge": table}},
    }, is_file=lambda _path: True).forge


FORGE_DEFAULTS = [
    ({"kind": "github", "repository": "o/n"},
     ("https://github.com", "https://api.github.com", "GITHUB_TOKEN")),
    ({"kind": "github", "repository": "o/n", "url": "https://ghe.example.com/"},
     ("https://ghe.example.com", "https://ghe.example.com/api/v3", "GITHUB_TOKEN")),
    ({"kind": "github", "repository": "o/n", "api-url": "http://127.0.0.1:9/", "token-env": "T"},
     ("https://github.com", "http://127.0.0.1:9", "T")),
]


@pytest.mark.parametrize(("table", "expected"), FORGE_DEFAULTS)
def test_forge_urls_and_token_are_derived_per_kind(
    table: dict[str, object], expected: tuple[str, str, str]
) -> None:
    forge = _forge(table)
    assert (forge.url, forge.api_url, forge.token_env) == expected  # type: ignore[attr-defined]


FORGE_ERRORS = [
    ({"repository": "o/n"}, r"`forge.kind` is missing.*kind = \"github\""),
    ({"kind": "githib", "repository": "o/n"}, r"'githib' is not a forge.*did you mean.*github"),
    ({"kind": "github", "repository": "o/n/x"}, r"'o/n/x' is not of the form OWNER/NAME"),
    ({"kind": "github", "repository": "o/n", "url": "github.com"}, r"`forge.url`.*not an http"),
    ({"kind": "github", "repository": "o/n", "token": "x"}, r"unknown key `forge.token`"),
]


@pytest.mark.parametrize(("table", "message"), FORGE_ERRORS)
def test_a_bad_forge_table_names_the_key_and_the_fix(
    table: dict[str, object], message: str
) -> None:
    from release.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        _forge(table)
    assert re.search(message, str(raised.value), re.S | re.I), str(raised.value)


GITLAB_TABLES = [
    ({"kind": "gitlab", "repository": "group/name"},
     ("group/name", "https://gitlab.com", "https://gitlab.com/api/v4", "GITLAB_TOKEN")),
    ({"kind": "gitlab", "repository": "my-group/tools/py.pkg", "url": "https://git.example.org/"},
     ("my-group/tools/py.pkg", "https://git.example.org", "https://git.example.org/api/v4",
      "GITLAB_TOKEN")),
    ({"kind": "gitlab", "repository": "a/b/c/d", "url": "https://git.example.org/gitlab",
      "token-env": "RELEASE_TOKEN"},
     ("a/b/c/d", "https://git.example.org/gitlab", "https://git.example.org/gitlab/api/v4",
      "RELEASE_TOKEN")),
]


@pytest.mark.parametrize(("table", "expected"), GITLAB_TABLES)
def test_a_gitlab_project_with_subgroups_on_a_self_hosted_url(
    table: dict[str, object], expected: tuple[str, str, str, str]
) -> None:
    forge = _forge(table)
    assert (forge.repository, forge.url, forge.api_url,  # type: ignore[attr-defined]
            forge.token_env) == expected  # type: ignore[attr-defined]


def test_a_gitlab_repository_needs_its_group() -> None:
    from release.errors import ConfigError

    with pytest.raises(ConfigError, match=r"'name' is not of the form GROUP/PROJECT \(subgroups"):
        _forge({"kind": "gitlab", "repository": "name"})


def test_the_retired_github_table_is_refused_with_its_exact_replacement(
    project: Path, cli: CLI
) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[tool.release.github]\n'
                    'repository = "octo/hello"\napi-url = "https://ghe.example.com/api/v3"\n'
                    "draft = true\n", encoding="utf-8")
    replacement = ('[tool.release.forge]\nkind = "github"\nrepository = "octo/hello"\n'
                   'url = "https://ghe.example.com"\ndraft = true')
    assert_usage_error(cli("preview", cwd=project), replacement, "[tool.release.github]")
