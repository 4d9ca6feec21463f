"""Where a publish target's credentials come from; the secrets themselves are never shown.

Order: the target's own environment variables (``username-env`` / ``password-env``),
``TWINE_USERNAME`` / ``TWINE_PASSWORD``, the ``.pypirc`` section, keyring, and
finally PyPI trusted publishing (OIDC) in a CI job that can get an ID token for the
index (GitHub Actions, GitLab CI: :mod:`release.cisystems`), which twine performs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.config import KNOWN_SECTIONS, Forge, Target
from release.errors import ReleaseError
from release.ops.index import Credentials

if TYPE_CHECKING:
    from release.cisystems import CiSystem

TOKEN_USERNAME = "__token__"


@dataclass(frozen=True)
class Resolved:
    """How a target authenticates: ``credentials`` is None for trusted publishing."""

    repository_url: str
    credentials: Credentials | None
    source: str


class NoCredentials(ReleaseError):
    exit_code = 1


def pypirc_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME", os.path.expanduser("~"))) / ".pypirc"


def _pypirc_section(path: Path, section: str) -> dict[str, str]:
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return {}
    return dict(parser.items(section)) if parser.has_section(section) else {}


#: The indexes that take trusted publishing, and the OIDC audience each wants (what
#: ``https://INDEX/_/oidc/audience`` answers; twine asks it before it asks for a token).
TRUSTED_AUDIENCES = {
    KNOWN_SECTIONS["pypi"]: "pypi",
    KNOWN_SECTIONS["testpypi"]: "testpypi",
}


def trusted_publishing_available(target_url: str, environ: Mapping[str, str]) -> bool:
    return _trusted_publisher(target_url, environ) is not None


def _trusted_publisher(target_url: str, environ: Mapping[str, str]) -> CiSystem | None:
    from release import cisystems

    audience = TRUSTED_AUDIENCES.get(target_url)
    return cisystems.trusted_publisher(environ, audience) if audience else None


def resolve(target: Target, environ: Mapping[str, str]) -> Resolved | None:
    """The credentials for ``target``, or None when there are none anywhere."""
    section = _pypirc_section(pypirc_path(environ), target.repository) if target.repository else {}
    url = (
        target.repository_url
        or section.get("repository")
        or KNOWN_SECTIONS.get(target.repository, "")
    )
    if target.password_env and environ.get(target.password_env):
        user = environ.get(target.username_env, "") if target.username_env else ""
        return Resolved(
            url,
            Credentials(user or TOKEN_USERNAME, environ[target.password_env]),
            f"environment ({target.password_env})",
        )
    if environ.get("TWINE_PASSWORD"):
        return Resolved(
            url,
            Credentials(environ.get("TWINE_USERNAME") or TOKEN_USERNAME, environ["TWINE_PASSWORD"]),
            "environment (TWINE_PASSWORD)",
        )
    if section.get("password"):
        return Resolved(
            url,
            Credentials(section.get("username") or TOKEN_USERNAME, section["password"]),
            f".pypirc [{target.repository}]",
        )
    username = (
        (environ.get(target.username_env, "") if target.username_env else "")
        or environ.get("TWINE_USERNAME")
        or section.get("username")
        or TOKEN_USERNAME
    )
    password = _keyring(url, username)
    if password:
        return Resolved(url, Credentials(username, password), "keyring")
    system = _trusted_publisher(url, environ)
    if system is not None:
        return Resolved(url, None, f"trusted publishing ({system.name} OIDC, through twine)")
    return None


def require(target: Target, environ: Mapping[str, str], secrets: list[str]) -> Resolved:
    """:func:`resolve`, or :class:`NoCredentials` when there are none; the password joins
    ``secrets`` (what a runner masks), so it is never shown from then on."""
    found = resolve(target, environ)
    if found is None:
        raise NoCredentials(
            f"No credentials for the publish target {target.name!r}.", missing_hint(target)
        )
    if found.credentials is not None:
        secrets.append(found.credentials.password)
    else:  # trusted publishing: the job's OIDC credentials are as secret as a password
        from release import cisystems

        names = cisystems.secret_variables(TRUSTED_AUDIENCES.values())
        secrets += [environ[n] for n in names if environ.get(n) and environ[n] not in secrets]
    return found


def _keyring(url: str, username: str) -> str | None:
    if not url:
        return None
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        found = keyring.get_password(url, username)
    except (KeyringError, RuntimeError):
        return None
    return found if isinstance(found, str) else None


def missing_hint(target: Target) -> str:
    from release import cisystems

    own = (
        f"{target.password_env} (and {target.username_env or 'optionally a user name'}), "
        if target.password_env
        else ""
    )
    hint = (
        f"Set {own}TWINE_USERNAME / TWINE_PASSWORD, a .pypirc section, or a keyring entry "
        f"for {target.describe()}"
    )
    audience = TRUSTED_AUDIENCES.get(_target_url(target))
    if audience is None:  # no trusted publishing to this index
        return hint + "."
    return f"{hint}; {cisystems.trusted_publishing_hints(audience)}."


def _target_url(target: Target) -> str:
    return target.repository_url or KNOWN_SECTIONS.get(target.repository or "", "")


def environment_secrets(
    targets: tuple[Target, ...], forge: Forge | None, environ: Mapping[str, str]
) -> list[str]:
    """The secrets the release would read from ``environ`` (each target's password variable,
    ``TWINE_PASSWORD``, the forge's token, a CI job's OIDC credentials for trusted
    publishing), so a command of the user's can be masked before any step has needed them."""
    from release import cisystems
    from release.forges import token

    names = {"TWINE_PASSWORD"} | {t.password_env for t in targets if t.password_env}
    names |= set(cisystems.secret_variables(TRUSTED_AUDIENCES.values()))
    found = [environ[name] for name in sorted(names) if environ.get(name)]
    forge_token = token(forge, environ) if forge is not None else ""
    return [*found, forge_token] if forge_token else found
