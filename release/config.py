"""``[tool.release]``: schema, defaults, strict validation, and where each value came from.

Values come from four places, later ones winning: the schema's defaults,
``pyproject.toml``, the environment (``RELEASE_PIPELINE_<KEY>``) and the command
line (``-c key=value``).  The result is a frozen :class:`Config` that remembers
the source of every value, so ``release config`` can show it.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import posixpath
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from release.errors import ConfigError
from release.tomlfiles import read_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "RELEASE_PIPELINE_"
#: Variables with the prefix that are not configuration (debugging and test hooks).
NON_CONFIG_VARIABLES = frozenset(
    {
        "RELEASE_PIPELINE_DEBUG",
        "RELEASE_PIPELINE_TEST_FAILPOINT",
        "RELEASE_PIPELINE_NO_CACHE",
        "RELEASE_PIPELINE_CACHE_DIR",
        "RELEASE_PIPELINE_NOX_GATES",  # release.nox: the gates nox ran (see release/nox.py)
    }
)
LEVEL_CHOICES = ("major", "minor", "patch", "none")

#: towncrier's standard fragment types and the bump each one implies.
DEFAULT_FRAGMENT_BUMPS: dict[str, str] = {
    "removal": "major",
    "breaking": "major",
    "feature": "minor",
    "deprecation": "minor",
    "bugfix": "patch",
    "security": "patch",
    "doc": "none",
    "misc": "none",
}

# The name rule for fragment types the map does not list (see `fragment-bumps` in
# docs/configuration.md): a word that says "breaking" is major, one that says "new" is
# minor, one that users never see is none, and any other change is a patch.
_MAJOR_WORDS = ("break", "remov", "incompat")
_MINOR_WORDS = ("feat", "improv", "enhanc", "deprecat", "added", "addition", "new")
_NONE_WORDS = (
    "doc",
    "docs",
    "documentation",
    "misc",
    "trivial",
    "internal",
    "contrib",
    "contributor",
    "process",
    "chore",
    "skip",
)


def level_by_name(fragment_type: str) -> str:
    """The bump level of a fragment type by its name alone (the rule `release init` writes)."""
    words = [w for w in re.split(r"[^a-z]+", fragment_type.lower()) if w]
    if any(w.startswith(_MAJOR_WORDS) for w in words):
        return "major"
    if any(w.startswith(_MINOR_WORDS) for w in words):
        return "minor"
    if any(w.rstrip("s") in _NONE_WORDS or w in _NONE_WORDS for w in words):
        return "none"
    return "patch"


def fragment_level(bumps: Mapping[str, str], fragment_type: str) -> tuple[str, bool]:
    """The level of ``fragment_type``: from ``fragment-bumps``, else by the name rule (True)."""
    if fragment_type in bumps:
        return bumps[fragment_type], False
    return level_by_name(fragment_type), True


#: Conventional-commit types and their bumps; a ``!`` or ``BREAKING CHANGE`` is major.
DEFAULT_COMMIT_BUMPS: dict[str, str] = {"feat": "minor", "fix": "patch", "perf": "patch"}


class Location(NamedTuple):
    """One place that holds the project's version."""

    kind: Literal["toml", "python", "text", "scm", "pattern", "incremental", "uv-lock"]
    path: str = ""
    # The TOML key, the Python variable, (kind "pattern") the regex, or (kind "uv-lock") the
    # locked package, normalised; "" until `load` makes it the project's own name.
    key: str = ""

    def describe(self) -> str:
        if self.kind == "scm":
            return "scm (last release tag)"
        if self.kind == "toml":
            return f"{self.path} [{self.key}]"
        if self.kind == "python":
            return f"{self.path} ({self.key} = ...)"
        if self.kind == "pattern":
            return f"{self.path} (pattern {self.key!r})"
        if self.kind == "incremental":
            return f"{self.path} (incremental Version(...))"
        if self.kind == "uv-lock":
            return f"{self.path} (package {self.key})"
        return self.path


def _table_as_dict(table: tuple[Any, ...], fields: tuple[str, ...], sep: str) -> dict[str, Any]:
    """A configuration table's fields as a dict, with ``sep`` for '_' in the keys."""
    return {name.replace("_", sep): value for name, value in zip(fields, table, strict=True)}


def _python_names(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in data.items()}


class Target(NamedTuple):
    """A package index to publish to (``[[tool.release.publish]]``)."""

    name: str
    repository_url: str = ""
    repository: str = ""  # a .pypirc section, as twine names it
    index_url: str = ""
    verify_install: bool = False
    username_env: str = ""
    password_env: str = ""

    def describe(self) -> str:
        return self.repository_url or f".pypirc [{self.repository}]"

    def as_dict(self, sep: str = "-") -> dict[str, Any]:
        return _table_as_dict(self, self._fields, sep)

    @property
    def kind(self) -> str:
        """The target kind, a key of ``release.targets.TARGETS``: today always ``index``
        (a twine upload to a PEP 503/691 index)."""
        return "index"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        return cls(**_python_names(data))


class Forge(NamedTuple):
    """Where the announce stage makes a release (``[tool.release.forge]``); the defaults and
    rules of each kind live in ``release.forges.FORGES``."""

    repository: str
    kind: str = "github"
    url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    draft: bool = False
    attach_artifacts: bool = True

    def as_dict(self, sep: str = "-") -> dict[str, Any]:
        return _table_as_dict(self, self._fields, sep)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Forge:
        return cls(**_python_names(data))


FORGE_KEYS = ("kind", "repository", "url", "api-url", "token-env", "draft", "attach-artifacts")


class UserStep(NamedTuple):
    """A step the project declares (``[[tool.release.steps]]``): a command run in one stage,
    after that stage's built-in steps (in ``prepare``, before the release commit, which takes
    its changes to ``paths``)."""

    name: str
    stage: str
    run: tuple[str, ...]
    shell: bool = False
    done_if: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    def argv(self, command: tuple[str, ...]) -> tuple[str, ...]:
        """``command`` (``run`` or ``done-if``) as it is run: through ``sh -c`` with
        ``shell = true``."""
        return ("sh", "-c", command[0]) if self.shell and command else command

    def owns(self, path: str) -> bool:
        """Whether ``path`` (relative to the project) is one of ``paths`` or inside one."""
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.paths)

    def as_dict(self, sep: str = "-") -> dict[str, Any]:
        """As written in TOML: with ``shell = true``, ``run`` and ``done-if`` are strings."""
        data = _table_as_dict(self, self._fields, sep)
        for key in ("run", f"done{sep}if"):
            data[key] = ("".join(data[key]) if self.shell else list(data[key])) or ""
        data["paths"] = list(self.paths)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserStep:
        fields = _python_names(data)
        for key in ("run", "done_if", "paths"):
            value = fields.get(key) or ()
            fields[key] = (value,) if isinstance(value, str) else tuple(value)
        return cls(**fields)


USER_STEP_KEYS = ("name", "stage", "run", "shell", "done-if", "paths")


#: The channels a release line may have: the PEP 440 pre-release letter, and the kind
#: ``--pre`` names (release.version.Pre).
CHANNELS: dict[str, Literal["alpha", "beta", "rc"]] = {"a": "alpha", "b": "beta", "rc": "rc"}
LINE_KEYS = ("pattern", "series", "channel")
FROM_BRANCH = "from-branch"
# A series in a branch name: the numbers closing its last part, after a prefix that ends
# in neither a digit nor a dot, optionally followed by ".x": release/1.4.x, 1.x, stable-2.
_SERIES_IN_NAME = re.compile(r"(?:^|[^0-9.])v?(?P<series>\d+(?:\.\d+)?)(?:\.[xX])?$")
_SERIES = re.compile(r"\d+(?:\.\d+)?")


class Line(NamedTuple):
    """A release line: the branches (``pattern``) releases of it are made from, the series
    its versions stay in, and the pre-release channel it makes (``branches`` in
    [tool.release]). As configured, ``series`` may be ``from-branch``; :meth:`resolve`
    gives the line of one branch, with the series read from its name."""

    pattern: str
    series: str = ""  # "" (any version), "from-branch", or numbers such as "1.4"
    channel: str = ""  # "" (final releases), "a", "b" or "rc"

    def matches(self, branch: str) -> bool:
        return fnmatch.fnmatchcase(branch, self.pattern)

    def resolve(self, branch: str, where: str = "pyproject.toml [tool.release]") -> Line:
        """This line for ``branch`` (which it matches): ``from-branch`` made the numbers in
        the branch's name. A ConfigError (naming ``where`` the line was set) when the name
        holds no series."""
        if self.series != FROM_BRANCH:
            return self
        found = _SERIES_IN_NAME.search(branch.rsplit("/", 1)[-1])
        if found is None:
            raise ConfigError(
                f'{where}: `branches` entry {{ pattern = "{self.pattern}", series = '
                f'"{FROM_BRANCH}" }} matches the branch "{branch}", whose name holds no '
                "series (such as 1.4 in release/1.4.x or 1 in 1.x).",
                f"Name the branch after its series (e.g. release/1.4.x), give this line an "
                f'explicit series (series = "1.4"), or narrow the pattern so it does not '
                f'match "{branch}".',
            )
        return self._replace(series=found["series"])

    @property
    def numbers(self) -> tuple[int, ...]:
        """The series as numbers (``1.4`` -> (1, 4)); empty without a series."""
        if not self.series or self.series == FROM_BRANCH:
            return ()
        return tuple(int(part) for part in self.series.split("."))

    @property
    def pre(self) -> Literal["alpha", "beta", "rc"] | None:
        """The pre-release kind the channel makes (``--pre``'s name), or None."""
        return CHANNELS.get(self.channel)

    def as_toml(self) -> str | dict[str, str]:
        """As ``branches`` writes it: the pattern alone, or a table."""
        if not self.series and not self.channel:
            return self.pattern
        table = {"pattern": self.pattern}
        if self.series:
            table["series"] = self.series
        if self.channel:
            table["channel"] = self.channel
        return table

    @classmethod
    def from_toml(cls, item: str | Mapping[str, str]) -> Line:
        if isinstance(item, str):
            return cls(item)
        return cls(item["pattern"], item.get("series", ""), item.get("channel", ""))

    def describe(self) -> str:
        """``release/*.x: series 1.4, channel rc`` (what the preview shows)."""
        parts = [f"series {self.series}" if self.series else "any series"]
        parts.append(f"channel {self.channel}" if self.channel else "final releases")
        return f"{self.pattern}: {', '.join(parts)}"


class Gate(NamedTuple):
    """A release gate (``gates``): a session of the project's ``noxfile.py`` (no ``run``),
    or a command (``run``, an argument list). It passes when it exits with status 0."""

    name: str
    run: tuple[str, ...] = ()

    @property
    def is_session(self) -> bool:
        return not self.run

    def as_dict(self, sep: str = "-") -> dict[str, Any]:
        return {"name": self.name, "run": list(self.run)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Gate:
        return cls(str(data["name"]), tuple(data.get("run") or ()))

    def as_toml(self) -> str | dict[str, Any]:
        """As ``gates`` writes it: a session by its name, a command as a table."""
        return self.name if self.is_session else {"name": self.name, "run": list(self.run)}


KNOWN_INDEXES = {
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
}
KNOWN_SECTIONS = {
    "pypi": "https://upload.pypi.org/legacy/",
    "testpypi": "https://test.pypi.org/legacy/",
}
TARGET_KEYS = (
    "name",
    "repository-url",
    "repository",
    "index-url",
    "verify-install",
    "username-env",
    "password-env",
)

Validator = Callable[[Any, str], Any]


class Key(NamedTuple):
    name: str
    type_name: str
    default: Any
    doc: str
    validate: Validator


def _type_error(key: str, expected: str, value: Any, where: str) -> ConfigError:
    return ConfigError(
        f"{where}: key `{key}` must be {expected}, not {type(value).__name__} {value!r}.",
        f"Give `{key}` a value of that type.",
    )


def _string(key: str) -> Validator:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise _type_error(key, "a string", value, where)
        return str(value)

    return check


def _boolean(key: str) -> Validator:
    def check(value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise _type_error(key, "a boolean (true or false)", value, where)
        return value

    return check


def _choice(key: str, choices: Sequence[str]) -> Validator:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise _type_error(key, f"one of {', '.join(map(repr, choices))}", value, where)
        if value not in choices:
            raise ConfigError(
                f"{where}: `{key}` = {value!r} is not one of {', '.join(map(repr, choices))}."
                + _did_you_mean(value, choices),
                f"Set `{key}` to one of the allowed values.",
            )
        return value

    return check


def _string_list(key: str) -> Validator:
    def check(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _type_error(key, "a list of strings", value, where)
        return tuple(value)

    return check


def _level_table(key: str, defaults: Mapping[str, str]) -> Validator:
    def check(value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise _type_error(key, "a table of type = level", value, where)
        merged = dict(defaults)
        for given, level in value.items():
            # Commit types are matched case-insensitively.
            name = given.lower() if key == "commit-bumps" else given
            if level not in LEVEL_CHOICES:
                raise ConfigError(
                    f"{where}: `{key}.{name}` = {level!r} is not a bump level.",
                    f"Use one of {', '.join(map(repr, LEVEL_CHOICES))}.",
                )
            merged[name] = level
        return merged

    return check


def _template(key: str, *, must_contain: str = "") -> Validator:
    # A tag's name can only depend on its version; messages may also name the previous one.
    fields = (
        {"version": "1.0.0", "name": "pkg"}
        if must_contain
        else {"version": "1.0.0", "previous": "0.9.0", "tag": "v1.0.0", "name": "pkg"}
    )

    def check(value: Any, where: str) -> str:
        text = _string(key)(value, where)
        try:
            text.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            allowed = ", ".join("{" + f + "}" for f in fields)
            raise ConfigError(
                f"{where}: `{key}` = {text!r} is not a valid template ({exc!r}).",
                f"`{key}` may use {allowed}; write {{{{ and }}}} for literal braces.",
            ) from None
        if must_contain and must_contain not in text:
            raise ConfigError(
                f"{where}: `{key}` = {text!r} does not contain {must_contain}.",
                f"Include {must_contain} in `{key}`, for example 'v{{version}}'.",
            )
        if must_contain:
            from release.tags import tag_name_problem

            sample = text.format(version="1.2.3", name="pkg")
            problem = tag_name_problem(sample)
            if problem:
                raise ConfigError(
                    f"{where}: `{key}` = {text!r} gives tag names like {sample!r}, which "
                    f"{problem}.",
                    f"Change `{key}` to something like 'v{{version}}'.",
                )
        return str(text)

    return check


def _nonempty(key: str) -> Validator:
    def check(value: Any, where: str) -> str:
        text: str = _string(key)(value, where)
        if not text.strip() or text.startswith("-"):
            raise ConfigError(
                f"{where}: `{key}` = {text!r} is not a usable name.",
                f"Set `{key}` to a name such as 'origin'.",
            )
        return text

    return check


def _relative_dir(key: str) -> Validator:
    def check(value: Any, where: str) -> str:
        text: str = _string(key)(value, where)
        parts = Path(text).parts
        if not text.strip() or Path(text).is_absolute() or ".." in parts or ".git" in parts:
            raise ConfigError(
                f"{where}: `{key}` = {text!r} must be a directory inside the project.",
                f"Use a relative path without '..', e.g. {key} = \"dist\".",
            )
        return text

    return check


def _branch_lines(key: str) -> Validator:
    """``branches``: patterns, or tables ``{ pattern, series, channel }`` (release lines).
    The value keeps that TOML shape (a table as a dict of its keys); ``Config.lines``
    makes the lines."""

    def check(value: Any, where: str) -> tuple[str | dict[str, str], ...]:
        expected = "a list of branch patterns or { pattern, series, channel } tables"
        if not isinstance(value, list):
            raise _type_error(key, expected, value, where)
        if not value:
            raise ConfigError(
                f"{where}: `{key}` is empty, so no branch could ever be released from.",
                'List at least one branch name or pattern, e.g. ["main", "release/*"].',
            )
        entries: list[str | dict[str, str]] = []
        for item in value:
            if isinstance(item, str):
                entries.append(item)
            elif isinstance(item, dict):
                entries.append(_line_table(key, item, where))
            else:
                raise _type_error(key, expected, value, where)
        return tuple(entries)

    return check


def _line_table(key: str, item: dict[str, Any], where: str) -> dict[str, str]:
    shown = show_value(item)
    for name, value in item.items():
        if name not in LINE_KEYS:
            raise ConfigError(
                f"{where}: `{key}` entry {shown} has the unknown key `{name}`."
                + _did_you_mean(name, LINE_KEYS),
                f"A line takes {', '.join(LINE_KEYS)}; e.g. "
                '{ pattern = "release/*.x", series = "from-branch" }.',
            )
        if not isinstance(value, str):
            raise ConfigError(
                f"{where}: `{key}` entry {shown}: `{name}` must be a string, not "
                f"{type(value).__name__} {value!r}.",
                f'Quote it: {name} = "{value}".',
            )
    if not item.get("pattern"):
        raise ConfigError(
            f"{where}: `{key}` entry {shown} has no `pattern`: which branches is it for?",
            'Add one, e.g. { pattern = "release/*.x", series = "from-branch" }.',
        )
    series = item.get("series", "")
    if series and series != FROM_BRANCH and not _SERIES.fullmatch(series):
        raise ConfigError(
            f"{where}: `{key}` entry {shown}: series = {series!r} is not a series (one or "
            f'two numbers, such as "1" or "1.4") nor "{FROM_BRANCH}".',
            f'Write series = "1.4" (the versions 1.4.*), or series = "{FROM_BRANCH}" to read '
            "it from the branch name (release/1.4.x -> 1.4).",
        )
    channel = item.get("channel", "")
    if channel and channel not in CHANNELS:
        close = {"alpha": "a", "beta": "b", "candidate": "rc", "pre": "rc"}.get(channel.lower())
        suggestion = (
            f" Did you mean {close!r}?" if close else _did_you_mean(channel, list(CHANNELS))
        )
        raise ConfigError(
            f"{where}: `{key}` entry {shown}: channel = {channel!r} is not a pre-release "
            f"channel.{suggestion}",
            'Use "a" (alpha), "b" (beta) or "rc" (release candidate), as PEP 440 writes '
            "them (2.0.0rc1); leave `channel` out for final releases.",
        )
    return {name: item[name] for name in LINE_KEYS if item.get(name)}


def _locations(key: str) -> Validator:
    def check(value: Any, where: str) -> tuple[Location, ...]:
        if not isinstance(value, list) or not value:
            raise _type_error(key, 'a non-empty list of paths, "scm" or tables', value, where)
        found: list[Location] = []
        for item in value:
            if isinstance(item, str):
                found.append(location_from_path(item))
            elif isinstance(item, dict):
                unknown = set(item) - {"path", "key", "pattern", "format"}
                if unknown or not isinstance(item.get("path"), str):
                    raise ConfigError(
                        f"{where}: each table in `{key}` needs a string `path` and may have a "
                        f'`key`, a `pattern` or a `format` ("incremental" or "uv-lock"); got '
                        f"{item!r}.",
                        'Example: { path = "src/pkg/_version.py", key = "VERSION" }.',
                    )
                given = {"key", "pattern", "format"} & set(item)
                uv_lock_key = given == {"key", "format"} and item["format"] == "uv-lock"
                if len(given) > 1 and not uv_lock_key:
                    raise ConfigError(
                        f"{where}: a table in `{key}` takes one of `key`, `pattern` and "
                        f'`format` (only `format = "uv-lock"` may have a `key`); got {item!r}.',
                        "Keep the one that says how the version is written in that file.",
                    )
                if "pattern" in item:
                    found.append(_pattern_location(item, key, where))
                    continue
                if item.get("format") == "incremental":
                    found.append(Location("incremental", item["path"]))
                    continue
                if "format" in item and item["format"] != "uv-lock":
                    raise ConfigError(
                        f'{where}: `format` in `{key}` can be "incremental" (a _version.py '
                        'holding Version(...)) or "uv-lock" (a package\'s entry in uv.lock); '
                        f"got {item['format']!r}."
                        + _did_you_mean(str(item["format"]), ("incremental", "uv-lock")),
                        'Remove `format`, or set it to "incremental" or "uv-lock".',
                    )
                loc = location_from_path(item["path"])
                if "format" in item:
                    loc = Location("uv-lock", item["path"])
                if "key" in item:
                    if not isinstance(item["key"], str) or loc.kind not in KEYED_KINDS:
                        raise ConfigError(
                            f"{where}: `key` in `{key}` is a string and only applies to .toml "
                            f"and .py files and to uv.lock; got {item!r}.",
                            "Remove `key`, or point `path` at a .toml or .py file or a uv.lock.",
                        )
                    loc = Location(loc.kind, loc.path, item["key"])
                    if loc.kind == "uv-lock":
                        loc = _locked_package(loc, where)
                found.append(loc)
            else:
                raise _type_error(key, 'a list of paths, "scm" or tables', value, where)
        return tuple(found)

    return check


#: The location kinds a table's `key` applies to.
KEYED_KINDS = ("toml", "python", "uv-lock")


def _locked_package(loc: Location, where: str) -> Location:
    """A uv-lock location with its package name (``key``) checked and normalised."""
    from release import names

    if not names.is_project_name(loc.key):
        raise ConfigError(
            f"{where}: the `key` of the uv-lock location {loc.path!r} in `version-locations` "
            f"names the locked package, and {loc.key!r} is no package name.",
            "Set it to the project's name as [project] name writes it, or leave `key` out "
            "for the project's own name.",
        )
    return loc._replace(key=names.normalised(loc.key))


def project_name(pyproject: Mapping[str, Any]) -> str:
    """``[project] name`` as written, or "" when there is none."""
    project = pyproject.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) else ""


def resolve_locked_packages(
    locations: Sequence[Location], pyproject: Mapping[str, Any], where: str
) -> tuple[Location, ...]:
    """``locations`` with each uv-lock location's package (``key``) given: by default the
    project's own name, ``[project] name``; a ConfigError when there is none."""
    if all(loc.kind != "uv-lock" or loc.key for loc in locations):
        return tuple(locations)
    name = project_name(pyproject)
    if not name:
        path = next(loc.path for loc in locations if loc.kind == "uv-lock" and not loc.key)
        raise ConfigError(
            f"{where}: the `version-locations` entry {path!r} updates the project's own entry "
            "in uv.lock, found by [project] name, which pyproject.toml does not have.",
            f'Add [project] name, or name the locked package: {{ path = "{path}", format = '
            '"uv-lock", key = "NAME" }.',
        )
    return tuple(
        _locked_package(loc._replace(key=name), "pyproject.toml [project] name")
        if loc.kind == "uv-lock" and not loc.key
        else loc
        for loc in locations
    )


def _pattern_location(item: Mapping[str, Any], key: str, where: str) -> Location:
    pattern = item["pattern"]
    problem = ""
    if not isinstance(pattern, str):
        problem = "is not a string"
    else:
        try:
            compiled = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            problem = f"is not a valid regular expression ({exc})"
        else:
            if "version" not in compiled.groupindex:
                problem = "has no named group `version`"
    if problem:
        raise ConfigError(
            f"{where}: the `pattern` {pattern!r} of {item['path']!r} in `{key}` {problem}.",
            "Write a regular expression with a group (?P<version>...) around the version.",
        )
    return Location("pattern", item["path"], pattern)


def _table_array(
    key: str, make: Callable[[dict[str, Any], str], Any], what: str, hint: str
) -> Validator:
    """An array of tables (``[[tool.release.KEY]]``), each made by ``make``, named uniquely."""

    def check(value: Any, where: str) -> tuple[Any, ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _type_error(key, f"an array of tables ([[tool.release.{key}]])", value, where)
        made = [make(item, f"{where} [[{key}]] #{n}") for n, item in enumerate(value, 1)]
        names = [item.name for item in made]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(f"{where}: two {what} are named {name!r}.", hint)
        return tuple(made)

    return check


def _known_keys(item: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for name in item:
        if name not in allowed:
            raise ConfigError(
                f"{where}: unknown key `{name}`." + _did_you_mean(name, allowed),
                f"Allowed keys: {', '.join(allowed)}.",
            )


def _target(item: dict[str, Any], where: str) -> Target:
    _known_keys(item, TARGET_KEYS, where)
    for name, value in item.items():
        expected = bool if name == "verify-install" else str
        if not isinstance(value, expected):
            kind = "a boolean" if expected is bool else "a string"
            raise _type_error(f"publish.{name}", kind, value, where)
    if not item.get("name"):
        raise ConfigError(f"{where}: a publish target needs a `name`.", 'Add e.g. name = "pypi".')
    url, section = item.get("repository-url", ""), item.get("repository", "")
    if bool(url) == bool(section):
        raise ConfigError(
            f"{where}: publish target {item['name']!r} needs exactly one of `repository-url` "
            "(the upload URL, as twine names it) and `repository` (a .pypirc section).",
            'E.g. repository-url = "https://upload.pypi.org/legacy/".',
        )
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError(
            f"{where}: `repository-url` = {url!r} is not an http(s) URL.",
            "Use the index's upload URL, e.g. https://upload.pypi.org/legacy/.",
        )
    if "@" in urlsplit_netloc(url):
        raise ConfigError(
            f"{where}: `repository-url` of {item['name']!r} contains credentials.",
            "Remove them from the URL; set username-env / password-env, TWINE_USERNAME / "
            "TWINE_PASSWORD, keyring or .pypirc instead.",
        )
    index = item.get("index-url") or KNOWN_INDEXES.get(url or KNOWN_SECTIONS.get(section, ""), "")
    if not index:
        raise ConfigError(
            f"{where}: publish target {item['name']!r} needs `index-url`, the index's simple API "
            "(used to tell which files are already there).",
            'E.g. index-url = "https://my-index.example/simple/".',
        )
    return Target(
        item["name"],
        url,
        section,
        index,
        item.get("verify-install", False),
        item.get("username-env", ""),
        item.get("password-env", ""),
    )


def _user_step(item: dict[str, Any], where: str) -> UserStep:
    from release.stages import STAGES

    _known_keys(item, USER_STEP_KEYS, where)
    for required in ("name", "stage", "run"):
        if required not in item:
            raise ConfigError(
                f"{where}: a step needs `{required}`.",
                'E.g. name = "lock", stage = "prepare", run = ["uv", "lock"], paths = ["uv.lock"].',
            )
    name = _string("steps.name")(item["name"], where)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ConfigError(
            f"{where}: step name {name!r} is not a usable id.",
            "Use letters, digits, '-', '_' and '.', starting with a letter or digit.",
        )
    where = f"{where} ({name!r})"
    stage = _choice("steps.stage", STAGES)(item["stage"], where)
    shell = _boolean("steps.shell")(item.get("shell", False), where)
    commands: dict[str, tuple[str, ...]] = {}
    for key in ("run", "done-if"):
        if key not in item:
            continue
        value = item[key]
        if shell:
            if not isinstance(value, str) or not value.strip():
                raise _type_error(
                    f"steps.{key}", "a shell command line (shell = true)", value, where
                )
            commands[key] = (value,)
        else:
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v for v in value)
            ):
                raise _type_error(
                    f"steps.{key}",
                    "a non-empty list of arguments (or a string with shell = true)",
                    value,
                    where,
                )
            commands[key] = tuple(value)
    paths = _string_list("steps.paths")(item.get("paths", []), where)
    for path in paths:
        parts = Path(path).parts
        if not path.strip() or Path(path).is_absolute() or ".." in parts or ".git" in parts:
            raise ConfigError(
                f"{where}: `paths` entry {path!r} is not a path inside the project.",
                "Use paths relative to the project directory, without '..'.",
            )
    return UserStep(
        name,
        stage,
        commands["run"],
        shell,
        commands.get("done-if", ()),
        tuple(Path(p).as_posix() for p in paths),
    )


def _gates(key: str) -> Validator:
    example = 'gates = ["lint", "tests", { name = "docs", run = ["mkdocs", "build", "--strict"] }]'
    expected = "a list of nox session names and {name, run} tables"

    def check(value: Any, where: str) -> tuple[Gate, ...]:
        if not isinstance(value, list):
            raise _type_error(key, expected, value, where)
        found: list[Gate] = []
        for item in value:
            if isinstance(item, str):
                gate = Gate(item)
            elif isinstance(item, dict):
                _known_keys(item, ("name", "run"), f"{where}: a table in `{key}`")
                run = item.get("run")
                if not isinstance(item.get("name"), str) or not (
                    isinstance(run, list) and run and all(isinstance(a, str) and a for a in run)
                ):
                    raise ConfigError(
                        f"{where}: each table in `{key}` needs a string `name` and `run`, a "
                        f"non-empty list of arguments; got {item!r}.",
                        f"Example: {example}.",
                    )
                gate = Gate(item["name"], tuple(run))
            else:
                raise _type_error(key, expected, value, where)
            if not re.fullmatch(r"[A-Za-z0-9_][^\x00-\x1f\x7f]*", gate.name):
                raise ConfigError(
                    f"{where}: `{key}` entry {gate.name!r} is not a usable gate name.",
                    "Name a session of the noxfile (as `nox --list` shows it), or give a "
                    "command a name of letters, digits, '-', '_' and '.'.",
                )
            if any(g.name == gate.name for g in found):
                raise ConfigError(
                    f"{where}: `{key}` names the gate {gate.name!r} twice.",
                    "List each gate once: it is the id of its step (check.gate:NAME).",
                )
            found.append(gate)
        return tuple(found)

    return check


def _forge(key: str) -> Validator:
    def check(value: Any, where: str) -> Forge | None:
        from release.forges import FORGES

        if value is None:
            return None
        if not isinstance(value, dict):
            raise _type_error(key, f"a table ([tool.release.{key}])", value, where)
        for name, item in value.items():
            if name not in FORGE_KEYS:
                raise ConfigError(
                    f"{where}: unknown key `{key}.{name}`." + _did_you_mean(name, FORGE_KEYS),
                    f"Allowed keys: {', '.join(FORGE_KEYS)}.",
                )
            expected = bool if name in ("draft", "attach-artifacts") else str
            if not isinstance(item, expected):
                shown = "a boolean" if expected is bool else "a string"
                raise _type_error(f"{key}.{name}", shown, item, where)
        kinds = ", ".join(f'"{k}"' for k in FORGES)
        if "kind" not in value:
            raise ConfigError(
                f"{where}: `{key}.kind` is missing: which forge makes the release?",
                f'Set kind to one of {kinds}, e.g. kind = "github".',
            )
        kind = FORGES.get(value["kind"])
        if kind is None:
            raise ConfigError(
                f"{where}: `{key}.kind` = {value['kind']!r} is not a forge this tool knows."
                + _did_you_mean(value["kind"], list(FORGES)),
                f"Use one of {kinds}.",
            )
        repo = value.get("repository", "")
        if not kind.repository_ok(repo):
            raise ConfigError(
                f"{where}: `{key}.repository` = {repo!r} is not of the form "
                f"{kind.repository_form}.",
                f"Name the {kind.title} repository as {kind.repository_form}.",
            )
        urls = {}
        for name in ("url", "api-url"):
            if name in value:
                found = value[name]
                if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", found):
                    raise ConfigError(
                        f"{where}: `{key}.{name}` = {found!r} is not an http(s) URL.",
                        f'E.g. url = "https://git.example.org" for a self-hosted {kind.title}.',
                    )
                urls[name] = found.rstrip("/")
        url = urls.get("url", kind.url)
        if url is None:
            raise ConfigError(
                f"{where}: `{key}.url` is missing: a {kind.title} forge has no default host.",
                'Set url to the web address of the forge, e.g. url = "https://codeberg.org".',
            )
        return Forge(
            repo,
            value["kind"],
            url,
            urls.get("api-url", kind.api_url(url)),
            value.get("token-env", kind.token_env),
            value.get("draft", False),
            value.get("attach-artifacts", True),
        )

    return check


def _retired_github_table(value: Any, where: str) -> None:
    """``[tool.release.github]`` became ``[tool.release.forge]`` before any release had it:
    refused with the exact replacement, so no configuration means two things."""
    if value is None:
        return None
    table = value if isinstance(value, dict) else {}
    lines = ["[tool.release.forge]", 'kind = "github"']
    for name, item in table.items():
        if name == "api-url" and str(item).rstrip("/") != "https://api.github.com":
            host = str(item).rstrip("/").removesuffix("/api/v3")
            lines.append(f"url = {show_value(host)}")
        if name != "api-url":
            lines.append(f"{name} = {show_value(item)}")
    raise ConfigError(
        f"{where}: [tool.release.github] is now [tool.release.forge], which also names the "
        "kind of forge (github, gitlab or gitea). Replace the table with:\n\n" + "\n".join(lines),
        "See docs/configuration.md, [tool.release.forge].",
    )


def urlsplit_netloc(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def location_from_path(text: str) -> Location:
    if text == "scm":
        return Location("scm")
    if text.rsplit("/", 1)[-1] == "uv.lock":
        return Location("uv-lock", text)
    if text.endswith(".toml"):
        return Location("toml", text, "project.version")
    if text.endswith(".py"):
        return Location("python", text, "__version__")
    return Location("text", text)


def location_as_toml(loc: Location, package: str = "") -> str | dict[str, str]:
    """A location as ``version-locations`` writes it (the inverse of the validator).
    ``package`` is the project's name, which a uv-lock location need not repeat."""
    if loc.kind == "scm":
        return "scm"
    if loc.kind == "uv-lock":
        from release.names import normalised

        own = not loc.key or (package and loc.key == normalised(package))
        if location_from_path(loc.path).kind == "uv-lock":
            return loc.path if own else {"path": loc.path, "key": loc.key}
        table = {"path": loc.path, "format": "uv-lock"}
        return table if own else {**table, "key": loc.key}
    if loc.kind == "pattern":
        return {"path": loc.path, "pattern": loc.key}
    if loc.kind == "incremental":
        return {"path": loc.path, "format": "incremental"}
    if location_from_path(loc.path) == loc:
        return loc.path
    return {"path": loc.path, "key": loc.key}


SCHEMA: tuple[Key, ...] = (
    Key(
        "version-locations",
        'list of paths, "scm" or {path, key} tables',
        None,
        "Where the current version is read and written. A `.toml` path means its "
        "`project.version` (or `key`), a `.py` path its `__version__` assignment (or `key`), "
        "a `uv.lock` the version of the project's own entry, any other path a plain text file "
        'holding only the version, and `"scm"` the last '
        'release tag. All locations must agree. Default: `["pyproject.toml"]` when '
        '`project.version` is static, `["scm"]` for hatch-vcs and setuptools-scm projects.',
        _locations("version-locations"),
    ),
    Key(
        "version-source",
        '"fragments" | "commits"',
        "fragments",
        "What decides the bump when no version or level is asked for: the types of the "
        "changelog fragments, or the conventional commits since the last release tag.",
        _choice("version-source", ("fragments", "commits")),
    ),
    Key(
        "tag-format",
        "string",
        "v{version}",
        "The release tag's name; `{version}` is replaced by the version written in "
        "`tag-scheme` syntax, `{name}` by the project's `[project] name`. Only tags matching "
        "it count as releases. Default in a repository of several packages (docs/monorepo.md): "
        "`{name}-v{version}`.",
        _template("tag-format", must_contain="{version}"),
    ),
    Key(
        "tag-scheme",
        '"pep440" | "semver"',
        "pep440",
        "Version syntax inside tag names: `1.2.0rc1` (pep440) or `1.2.0-rc.1` (semver).",
        _choice("tag-scheme", ("pep440", "semver")),
    ),
    Key(
        "tag-message",
        "string",
        "Release {version}",
        "Message of the annotated tag. Placeholders: `{version}`, `{previous}`, `{tag}`.",
        _template("tag-message"),
    ),
    Key(
        "commit-message",
        "string",
        "Release {version}",
        "Message of the release commit. Placeholders: `{version}`, `{previous}`, `{tag}`.",
        _template("commit-message"),
    ),
    Key(
        "pr-branch",
        "string",
        "release/v{version}",
        "The branch `release pr` makes the release commit on and opens the release pull "
        "request from. It is the tool's own branch: every run force-pushes it. Placeholders: "
        "`{version}`, `{previous}`, `{tag}`.",
        _template("pr-branch"),
    ),
    Key(
        "commit-hooks",
        "boolean",
        True,
        "Run git's pre-commit and commit-msg hooks for the release commit and the development "
        "commit, as any commit does. `false` skips them (`git commit --no-verify`).",
        _boolean("commit-hooks"),
    ),
    Key(
        "branches",
        "list of patterns or {pattern, series, channel} tables",
        ("main", "master"),
        "Branches a release may be made from (shell-style patterns such as `release/*`); a "
        "table also gives the branches' release line: the `series` their versions stay in "
        '("1.4", or "from-branch": release/1.4.x -> 1.4) and the pre-release `channel` they '
        'make ("a", "b" or "rc"). The first entry that matches the branch is its line.',
        _branch_lines("branches"),
    ),
    Key(
        "remote",
        "string",
        "origin",
        "The git remote that receives the release commit and tag.",
        _nonempty("remote"),
    ),
    Key(
        "allow-no-fragments",
        "boolean",
        False,
        "Allow a release with no changelog fragments (the changelog section is then empty).",
        _boolean("allow-no-fragments"),
    ),
    Key(
        "major-on-zero",
        "boolean",
        False,
        "In 0.x, let a breaking change bump the major version. By default it bumps the "
        "minor, as is usual before 1.0.",
        _boolean("major-on-zero"),
    ),
    Key(
        "fragment-bumps",
        "table of type = level",
        DEFAULT_FRAGMENT_BUMPS,
        "Bump level implied by each fragment type (`major`, `minor`, `patch` or `none`), "
        "merged over the defaults for towncrier's standard types. Every configured fragment "
        "type needs a level.",
        _level_table("fragment-bumps", DEFAULT_FRAGMENT_BUMPS),
    ),
    Key(
        "commit-bumps",
        "table of type = level",
        DEFAULT_COMMIT_BUMPS,
        'With `version-source = "commits"`: bump level of each conventional-commit type, '
        "merged over the defaults. A `!` after the type or a `BREAKING CHANGE:` footer is "
        "always major.",
        _level_table("commit-bumps", DEFAULT_COMMIT_BUMPS),
    ),
    Key(
        "next-dev",
        "boolean",
        False,
        "After releasing, commit the next development version (1.3.0 -> 1.3.1.dev0) to every "
        "file version location.",
        _boolean("next-dev"),
    ),
    Key(
        "dev-commit-message",
        "string",
        "Start {version} development",
        "Message of the commit that starts the next development version.",
        _template("dev-commit-message"),
    ),
    Key(
        "sign",
        '"none" | "gpg" | "ssh"',
        "none",
        "Sign the release tag with the user's git signing configuration.",
        _choice("sign", ("none", "gpg", "ssh")),
    ),
    Key(
        "reproducible",
        "boolean",
        False,
        "After building, build again from the same tagged commit and require identical "
        "sha256 hashes (naming any file that differs).",
        _boolean("reproducible"),
    ),
    Key(
        "publish",
        "array of tables",
        (),
        "Package indexes to publish to, in order; a later target is used only after the "
        "earlier one is confirmed. Each table has `name`, `repository-url` (the upload URL) "
        "or `repository` (a .pypirc section), `index-url` (its simple API; known for PyPI "
        "and TestPyPI), `verify-install` (install the published version into a fresh "
        "environment and import it), and optionally `username-env` / `password-env` (names "
        "of environment variables holding this target's credentials).",
        _table_array(
            "publish",
            _target,
            "publish targets",
            "Give each [[tool.release.publish]] a unique `name`.",
        ),
    ),
    Key(
        "steps",
        "array of tables",
        (),
        "Commands of your own, each run as a step of the release: `name` (its id, unique), "
        "`stage` (one of the stages; it runs after that stage's built-in steps, and in "
        "`prepare` before the release commit), `run` (the argument list; a command line for "
        "the shell with `shell = true`), `done-if` (optional: a command whose exit status 0 "
        "means the step is already done), `paths` (the files and directories it may change; "
        "in `prepare` the release commit takes its changes to them; a change to any other "
        "file stops the release).",
        _table_array(
            "steps",
            _user_step,
            "steps",
            "Give each [[tool.release.steps]] a unique `name`: it is the step's id.",
        ),
    ),
    Key(
        "gates",
        "list of session names or {name, run} tables",
        (),
        "Release gates, run in the check stage before anything changes, in order: a string "
        "names a session of the project's `noxfile.py` (run as `nox --non-interactive -r "
        "--session NAME`), a table `{ name, run }` a command (`run`, an argument list). A "
        "gate passes when it exits with status 0; a failing gate stops the release. `release "
        "preview` lists them without running them; `release check --gates` runs them all.",
        _gates("gates"),
    ),
    Key(
        "ci-gates",
        "boolean",
        True,
        "Run the gates in the build job of `release ci` too. `false` for projects whose CI "
        "already ran them on the tagged commit.",
        _boolean("ci-gates"),
    ),
    Key(
        "fragment-exempt-paths",
        "list of strings",
        (),
        "For `release check --fragments`: a change that touches only files matching these "
        "patterns (e.g. `docs/*`, `.github/*`) needs no fragment.",
        _string_list("fragment-exempt-paths"),
    ),
    Key(
        "fragment-exempt-marker",
        "string",
        "[no fragment]",
        "For `release check --fragments`: a change with this text in a commit message needs "
        "no fragment. An empty string disables the marker.",
        _string("fragment-exempt-marker"),
    ),
    Key(
        "forge",
        "table",
        None,
        "Make a release on a forge in the announce stage: `kind` (github, gitlab or gitea; "
        "required), `repository` (OWNER/NAME; on GitLab the project path with its groups; "
        "required), `url` (the forge's web address; default https://github.com or "
        "https://gitlab.com, required for gitea), `api-url` (derived from `url`), "
        "`token-env` (the environment variable holding the token; default GITHUB_TOKEN, "
        "GITLAB_TOKEN or GITEA_TOKEN), `draft` (the release stays a draft; default false), "
        "`attach-artifacts` (default true). Without this table there is no announce stage.",
        _forge("forge"),
    ),
    Key(
        "wheels",
        "list of strings",
        None,
        "The wheels every release must have, as wheel patterns: `PYTHON-PLATFORM` or "
        "`PYTHON-ABI-PLATFORM`, shell-style (`*`, `?`, `[...]`) with braces expanded first "
        "(`cp3{10..14}-manylinux_*_x86_64`, `*-macosx_*_arm64`, `*-win_amd64`). Before "
        "anything is uploaded, each expanded pattern must match a wheel (else the release "
        "stops, listing what is missing); a wheel no pattern matches is a warning. Default: "
        "derived from `[tool.cibuildwheel]` when its `build` names every wheel, else no check.",
        lambda value, where: _wheels_validate("wheels", value, where),
    ),
    Key(
        "upload-order",
        '"wheels-first" | "sdist-first"',
        "wheels-first",
        "The order of the files uploaded to each target: the wheels, then the sdist (so "
        "nobody installs from an sdist-only release while the wheels are on their way), or "
        "the sdist first.",
        _choice("upload-order", ("wheels-first", "sdist-first")),
    ),
    Key(
        "packages",
        "array of {name, path} tables",
        (),
        "The packages of a repository that holds several (root pyproject.toml only): each "
        "`[[tool.release.packages]]` has `name` (its `[project] name`) and `path` (its "
        "directory). Without it, the members of a uv workspace (`[tool.uv.workspace]`) are "
        "the packages. See docs/monorepo.md.",
        lambda value, where: _packages_validate("packages", value, where),
    ),
    Key(
        "update-dependents",
        "boolean",
        False,
        "In a repository of several packages: when a package's new version falls outside a "
        "dependent package's requirement on it, rewrite that requirement in the release "
        "commit instead of refusing the release.",
        _boolean("update-dependents"),
    ),
    Key(
        "consolidate-commits",
        "boolean",
        True,
        "In a repository of several packages (root pyproject.toml only): make one release "
        "commit for every package released together (true), or one commit per package, in "
        "dependency order, each package's tag on its own commit (false).",
        _boolean("consolidate-commits"),
    ),
    Key(
        "dist-dir",
        "string",
        "dist",
        "Directory, relative to the project, that receives the built artifacts.",
        _relative_dir("dist-dir"),
    ),
)

SCHEMA_BY_NAME = {k.name: k for k in SCHEMA}


def _packages_validate(key: str, value: Any, where: str) -> tuple[dict[str, Any], ...]:
    """The shape of `packages`; release.packages checks the packages themselves."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _type_error(key, "an array of {name, path} tables", value, where)
    for item in value:
        _known_keys(item, ("name", "path"), f"{where}: a [[tool.release.packages]] table")
        if not isinstance(item.get("path"), str) or not isinstance(item.get("name", ""), str):
            raise ConfigError(
                f"{where}: each [[tool.release.packages]] needs a string `path` and may have "
                f"a string `name`; got {item!r}.",
                'Example: { path = "packages/a", name = "pkg-a" }.',
            )
    return tuple(dict(item) for item in value)


def _wheels_validate(key: str, value: Any, where: str) -> tuple[str, ...]:
    from release.wheels import validate

    return validate(key, value, where)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


class Config:
    """The effective configuration: each key's value and where it came from."""

    __slots__ = ("project_dir", "pyproject", "sources", "values")

    def __init__(
        self,
        project_dir: Path,
        pyproject: Mapping[str, Any],
        values: Mapping[str, Any],
        sources: Mapping[str, str],
    ) -> None:
        self.project_dir = project_dir
        self.pyproject = pyproject
        self.values = values
        self.sources = sources

    def __repr__(self) -> str:
        return f"Config({self.project_dir!r}, values={self.values!r})"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def locations(self) -> tuple[Location, ...]:
        locs: tuple[Location, ...] = self.values["version-locations"]
        return locs

    @property
    def forge(self) -> Forge | None:
        found: Forge | None = self.values.get("forge")
        return found

    @property
    def targets(self) -> tuple[Target, ...]:
        found: tuple[Target, ...] = self.values["publish"]
        return found

    @property
    def user_steps(self) -> tuple[UserStep, ...]:
        found: tuple[UserStep, ...] = self.values["steps"]
        return found

    @property
    def gates(self) -> tuple[Gate, ...]:
        found: tuple[Gate, ...] = self.values["gates"]
        return found

    @property
    def tag_format(self) -> str:
        return str(self.values["tag-format"])

    @property
    def tag_scheme(self) -> Literal["pep440", "semver"]:
        scheme: Literal["pep440", "semver"] = self.values["tag-scheme"]
        return scheme

    def detected(self, key: str, value: Any, source: str) -> Config:
        """This configuration with a default replaced by what was detected, and how."""
        values = {**self.values, key: value}
        sources = {**self.sources, key: source}
        return Config(self.project_dir, self.pyproject, values, sources)

    @property
    def lines(self) -> tuple[Line, ...]:
        """The release lines of `branches`, in the order configured."""
        return tuple(Line.from_toml(item) for item in self.values["branches"])

    def matching_line(self, branch: str) -> Line | None:
        """The first line whose pattern matches ``branch``, as configured (the one home of
        "which line is this branch"); None when ``branch`` is no release branch."""
        return next((line for line in self.lines if line.matches(branch)), None)

    def line_of(self, branch: str) -> Line | None:
        """The line of ``branch``, its series resolved (:meth:`Line.resolve`: a ConfigError
        when the series is to come from a name that holds none); None as above."""
        line = self.matching_line(branch)
        if line is None:
            return None
        source = self.sources.get("branches", "pyproject.toml")
        return line.resolve(
            branch, "pyproject.toml [tool.release]" if source == "pyproject.toml" else source
        )

    def branch_allowed(self, branch: str) -> bool:
        return self.matching_line(branch) is not None


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    return read_toml(
        project_dir / "pyproject.toml",
        missing=(
            f"No pyproject.toml in {project_dir}.",
            "Run release from the project's directory, or pass -C DIR.",
        ),
    )


def parse_override(text: str, where: str) -> tuple[str, Any]:
    """``key=value`` from the command line; the value is read as TOML, else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"{where}: {text!r} is not of the form key=value.",
            "Example: -c remote=upstream or -c 'branches=[\"main\"]'.",
        )
    return key.strip(), parse_value(raw.strip())


def parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def default_locations(project_dir: Path, pyproject: Mapping[str, Any]) -> tuple[Location, ...]:
    """Where the build backend keeps the version (see :mod:`release.detect`)."""
    return _detected_locations(project_dir, pyproject)[0]


def _detected_locations(
    project_dir: Path, pyproject: Mapping[str, Any]
) -> tuple[tuple[Location, ...], str]:
    from release.detect import version_locations

    found = version_locations(project_dir, pyproject)
    return found.locations, found.reason


@functools.cache
def _by_variable() -> dict[str, str]:
    """Each key by the environment variable that sets it."""
    return {ENV_PREFIX + n.upper().replace("-", "_"): n for n in SCHEMA_BY_NAME}


def load(
    project_dir: Path,
    *,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    pyproject: Mapping[str, Any] | None = None,
    is_file: Callable[[str], bool] | None = None,
    workspace: Inherited | None = None,
) -> Config:
    """Read, merge and validate the configuration of the project in ``project_dir``.

    ``is_file`` says whether a project-relative path is a file (by default: look in
    ``project_dir``); with ``pyproject`` and it, tests build a configuration without a disk.
    ``workspace``: the project is a package of a repository of several, whose root
    settings it inherits (docs/monorepo.md).
    """
    data = dict(pyproject) if pyproject is not None else read_pyproject(project_dir)
    table = data.get("tool", {}).get("release", {})
    where = "pyproject.toml [tool.release]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table.", "Write it as a [tool.release] section.")

    layers = _inherited_layers(project_dir, table, workspace)
    layers.append(("pyproject.toml", table))
    env_layer: dict[str, Any] = {}
    by_variable = _by_variable()
    # Names first (os.environ decodes each value it yields): few are ours.
    for var in [name for name in environ if name.startswith(ENV_PREFIX)]:
        if var in NON_CONFIG_VARIABLES:
            continue
        raw = environ[var]
        if var not in by_variable:
            raise ConfigError(
                f"environment: {var} names no [tool.release] key."
                + _did_you_mean(var, list(by_variable)),
                f"Unset it, or use {ENV_PREFIX}<KEY> with a key from docs/configuration.md.",
            )
        env_layer[by_variable[var]] = parse_value(raw)
    layers.append(("environment", env_layer))
    cli_layer = dict(parse_override(o, "-c") for o in overrides)
    layers.append(("command line", cli_layer))

    workspace_origin = workspace.where if workspace is not None else "pyproject.toml"
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SCHEMA:
        if key.default is not None:
            values[key.name] = key.validate(_toml_copy(key.default), "default")
            sources[key.name] = "default"
    # The last layer that sets a key wins; only the winning value is validated, so a
    # command-line or environment override can stand in for a broken pyproject value.
    winners: dict[str, tuple[str, Any]] = {}
    for origin, layer in layers:
        for name, value in layer.items():
            if name not in SCHEMA_BY_NAME:
                label = _label(origin, name, workspace, unknown=True)
                if name == "github":
                    _retired_github_table(value, label)
                raise ConfigError(
                    f"{label}: unknown key `{name}`." + _did_you_mean(name, list(SCHEMA_BY_NAME)),
                    "See docs/configuration.md for every key.",
                )
            winners[name] = (origin, value)
    for name, (origin, value) in winners.items():
        label = _label(origin, name, workspace)
        values[name] = SCHEMA_BY_NAME[name].validate(value, label)
        sources[name] = label if origin not in ("pyproject.toml", workspace_origin) else origin
    _name_placeholders(values, sources, data, project_dir)
    for unset in ("forge", "wheels"):  # keys whose default is "not set"
        if unset not in values:
            values[unset] = None
            sources[unset] = "default"
    if "version-locations" not in values:
        values["version-locations"], why = _detected_locations(project_dir, data)
        sources["version-locations"] = f"default (detected from the build configuration: {why})"
    configured = sources["version-locations"]
    values["version-locations"] = resolve_locked_packages(
        values["version-locations"], data, where if configured == "pyproject.toml" else configured
    )

    for loc in values["version-locations"]:
        parts = Path(loc.path).parts
        if loc.kind != "scm" and (Path(loc.path).is_absolute() or ".." in parts or ".git" in parts):
            raise ConfigError(
                f"{sources['version-locations']}: `version-locations` entry {loc.path!r} is "
                "outside the project; a release only edits and commits its own project's files.",
                "Use a path relative to the project directory, without '..'.",
            )
        exists = is_file(loc.path) if is_file else (project_dir / loc.path).is_file()
        if loc.kind != "scm" and not exists:
            raise ConfigError(
                f"{sources['version-locations']}: version location {loc.path!r} does not exist "
                f"in {project_dir}.",
                "Fix the path in `version-locations` (paths are relative to the project).",
            )
    return Config(project_dir, data, values, sources)


def _label(origin: str, key: str, workspace: Inherited | None, *, unknown: bool = False) -> str:
    """How an error names where ``key`` was set: the layer ``origin``."""
    if origin == "pyproject.toml" or (workspace is not None and origin == workspace.where):
        return f"{origin} [tool.release]"
    if origin == "environment" and not unknown:
        return f"environment ({ENV_PREFIX}{key.upper().replace('-', '_')})"
    return f"{origin} (-c)" if unknown else origin


def _inherited_layers(
    project_dir: Path, table: Mapping[str, Any], workspace: Inherited | None
) -> list[tuple[str, Mapping[str, Any]]]:
    """The layers below a package's own table: the defaults of a package of a repository of
    several, then what it inherits from the root."""
    if workspace is None:
        return []
    if workspace.where != "pyproject.toml":
        for key in ROOT_ONLY:
            if key in table:
                raise ConfigError(
                    f"{project_dir / 'pyproject.toml'} [tool.release]: `{key}` belongs in the "
                    f"root pyproject.toml of the repository, not in a package's: {ROOT_ONLY[key]}",
                    f"Move `{key}` to [tool.release] of the root pyproject.toml "
                    f"({workspace.where}).",
                )
    shared = {k: v for k, v in workspace.table.items() if k not in NOT_INHERITED}
    return [(WORKSPACE_DEFAULT, PACKAGE_DEFAULTS), (workspace.where, shared)]


class Inherited(NamedTuple):
    """The root settings a package of a repository of several inherits: the root
    pyproject.toml's [tool.release] table, and how to name it (its path from the package)."""

    table: Mapping[str, Any]
    where: str


def inherited_from_root(root: Path, package_path: str) -> Inherited:
    """What the package at ``package_path`` (relative to ``root``) inherits: the root
    pyproject.toml's [tool.release] table (none when it is not a table), named by its path
    from the package."""
    table = read_pyproject(root).get("tool", {}).get("release", {})
    where = posixpath.relpath("pyproject.toml", package_path)
    return Inherited(table if isinstance(table, dict) else {}, where)


#: Keys only the root of a repository of several packages sets, and what each is about.
ROOT_ONLY: Mapping[str, str] = {
    "packages": "it lists the packages.",
    "consolidate-commits": "it says how the packages released together are committed.",
}
#: Keys a package never inherits from the root: they name its own files, or are the root's.
NOT_INHERITED = frozenset({"version-locations", *ROOT_ONLY})


def root_setting(
    root: Path, key: str, *, environ: Mapping[str, str], overrides: Sequence[str]
) -> Any:
    """The value of ``key``, one of :data:`ROOT_ONLY`, for the repository of several packages
    at ``root``: from the command line (``-c``), the environment or the root
    pyproject.toml's [tool.release], the first that sets it, validated; else its default."""
    schema = SCHEMA_BY_NAME[key]
    for text in reversed(overrides):
        name, value = parse_override(text, "-c")
        if name == key:
            return schema.validate(value, "command line")
    variable = ENV_PREFIX + key.upper().replace("-", "_")
    if variable in environ:
        return schema.validate(parse_value(environ[variable]), f"environment ({variable})")
    table = read_pyproject(root).get("tool", {}).get("release", {})
    if isinstance(table, dict) and key in table:
        return schema.validate(table[key], "pyproject.toml [tool.release]")
    return schema.validate(_toml_copy(schema.default), "default")


WORKSPACE_DEFAULT = "default (a package of a repository of several)"
PACKAGE_DEFAULTS: Mapping[str, Any] = {
    "tag-format": "{name}-v{version}",
    "tag-message": "Release {name} {version}",
}
_NAME_FIELD = re.compile(r"(?<!\{)\{name\}(?!\})")


def _name_placeholders(
    values: dict[str, Any], sources: Mapping[str, str], data: Mapping[str, Any], project_dir: Path
) -> None:
    """Write the project's name where a template says `{name}` (tags and messages)."""
    for key in ("tag-format", "tag-message", "commit-message", "dev-commit-message"):
        text = values.get(key)
        if not isinstance(text, str) or not _NAME_FIELD.search(text):
            continue
        project = data.get("project")
        name = project.get("name") if isinstance(project, dict) else None
        if not isinstance(name, str) or not name:
            raise ConfigError(
                f"{sources[key]}: `{key}` = {text!r} uses {{name}}, but "
                f"{project_dir / 'pyproject.toml'} has no [project] name.",
                "Add `name` to [project], or write the name into the template.",
            )
        values[key] = _NAME_FIELD.sub(name, text)


def _toml_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {}
    if isinstance(value, tuple):
        return list(value)
    return value


def show_value(value: Any) -> str:
    """A value as it would be written in TOML (for ``release config``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Location):
        if value.kind == "scm":
            return '"scm"'
        if value.kind == "pattern":
            return f"{{ path = {show_value(value.path)}, pattern = {show_value(value.key)} }}"
        if value.kind == "incremental":
            return f'{{ path = {show_value(value.path)}, format = "incremental" }}'
        if value.kind == "uv-lock":
            return show_value(location_as_toml(value))
        default_key = location_from_path(value.path).key
        if value.key != default_key:
            return f"{{ path = {show_value(value.path)}, key = {show_value(value.key)} }}"
        return show_value(value.path)
    if value is None:
        return "(not set)"
    if isinstance(value, Gate):
        if value.is_session:
            return show_value(value.name)
        return f"{{ name = {show_value(value.name)}, run = {show_value(list(value.run))} }}"
    if isinstance(value, Forge):
        return "{ " + ", ".join(f"{k} = {show_value(v)}" for k, v in value.as_dict().items()) + " }"
    if isinstance(value, (Target, UserStep)):
        fields = value.as_dict()
        return (
            "{ "
            + ", ".join(
                f"{k} = {show_value(v)}" for k, v in fields.items() if v not in ("", False, [])
            )
            + " }"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {show_value(v)}" for k, v in value.items()) + " }"
    return str(value)
