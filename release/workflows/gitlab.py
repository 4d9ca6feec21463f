"""The GitLab CI release pipeline that ``release init --ci gitlab`` writes (``.gitlab-ci.yml``).

Two jobs, run only in a pipeline for a release tag: ``release-build`` builds and verifies
the artifacts with ``release ci --build-only`` and keeps them (``dist/``) as job artifacts;
``release-publish`` gets them (``needs``), and alone holds the ID token PyPI's trusted
publishing trades for an upload token, in the environment ``pypi`` (which the project
protects), one at a time per tag (``resource_group``), never interrupted, and runs
``release ci --publish-from``.  Both write the dotenv report with the job's outputs.

The jobs use GitLab's default stages (``build``, ``deploy``) and set nothing at the top
level, so they can be copied into an existing pipeline as they are.
"""

from __future__ import annotations

from release.cisystems import GITLAB_DOTENV, GITLAB_SUMMARY, id_token_variable

#: Where the pipeline goes, relative to the project: GitLab's top-level pipeline file, the
#: one PyPI's trusted publisher for GitLab names.
PATH = ".gitlab-ci.yml"

#: An exact Python version (never a floating tag such as ``python:3``), so the release jobs
#: change only when this file does. The full image, not ``-slim``: release ci runs git,
#: which the slim images lack. A digest (``@sha256:...``) would pin the image's bytes too;
#: release init cannot look one up without a registry, and writes none it has not seen.
IMAGE = "python:3.12.10-bookworm"

#: The OIDC audience of PyPI (``https://pypi.org/_/oidc/audience``).
AUDIENCE = "pypi"

TEMPLATE = """\
# Written by `release init --ci gitlab` (release-pipeline). A pipeline for a release
# tag builds and verifies the artifacts in one job, then publishes them to the package
# index (trusted publishing) and makes the release in another.
#
# The image is an exact Python version (not python:3), so these jobs change only
# when this file does; it is the full image because release ci runs git. To pin
# its bytes as well, append its digest: {image}@sha256:<digest>.

release-build:
  stage: build
  image: {image}
  rules:
    - if: {rule}
  variables:
    GIT_DEPTH: "0"  # release ci needs the history and the tags
  script:
    - python -m pip install {install}
    - release ci --build-only --outdir dist
  artifacts:
    when: always  # the summary of a failed release too
    paths:
      - dist/
      - {summary}
    expose_as: release checklist
    reports:
      dotenv: {dotenv}

release-publish:
  stage: deploy
  image: {image}
  rules:
    - if: {rule}
  needs:
    - job: release-build
      artifacts: true
  environment:
    name: pypi  # protect it: Settings > CI/CD > Protected environments
  resource_group: release-$CI_COMMIT_TAG  # one release of a tag at a time
  interruptible: false
  variables:
    GIT_DEPTH: "0"
  id_tokens:
    {id_token}:  # PyPI trusted publishing (OIDC): this job alone holds it
      aud: {audience}
  script:
    - python -m pip install {install}
    - release ci --publish-from dist
  artifacts:
    when: always
    paths:
      - {summary}
    expose_as: release checklist
    reports:
      dotenv: {dotenv}
"""


def _regex_literal(text: str) -> str:
    """``text`` matched literally in a GitLab ``=~ /.../`` pattern (RE2): every character but
    an ASCII letter, digit or ``_`` escaped, ``/`` included."""
    return "".join(c if c.isascii() and (c.isalnum() or c == "_") else "\\" + c for c in text)


def tag_rule(tag_format: str) -> str:
    """The ``rules: if:`` expression, as a YAML single-quoted scalar, that is true in a
    pipeline for a tag ``tag_format`` produces: the tag starts with its prefix and a digit,
    and ends with its suffix."""
    from release.tags import affixes

    prefix, suffix = affixes(tag_format)
    pattern = "^" + _regex_literal(prefix) + "[0-9]"
    if suffix:
        pattern += ".*" + _regex_literal(suffix) + "$"
    expression = f"$CI_COMMIT_TAG =~ /{pattern}/"
    return "'" + expression.replace("'", "''") + "'"


def render(tag_format: str, *, install: str) -> str:
    return TEMPLATE.format(
        image=IMAGE,
        rule=tag_rule(tag_format),
        install=install,
        dotenv=GITLAB_DOTENV,
        summary=GITLAB_SUMMARY,
        id_token=id_token_variable(AUDIENCE),
        audience=AUDIENCE,
    )
