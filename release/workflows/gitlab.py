"""The GitLab CI release pipeline that ``release init --ci gitlab`` writes (``.gitlab-ci.yml``).

Two jobs, run only in a pipeline for a release tag: ``release-build`` builds and verifies
the artifacts with ``release ci --build-only`` and keeps them (``dist/``) as job artifacts;
``release-publish`` gets them (``needs``), and alone holds the ID token PyPI's trusted
publishing trades for an upload token, in the environment ``pypi`` (which the project
protects), one at a time per tag (``resource_group``), never interrupted, and runs
``release ci --publish-from``.  Both write the dotenv report with the job's outputs.

The jobs use GitLab's default stages (``build``, ``deploy``) and set nothing at the top
level, so they can be copied into an existing pipeline as they are.  At the root of a
repository of several packages the same jobs release every package tagged on the commit,
in a pipeline for a release branch or tag or one run by hand (:func:`render_workspace`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NoReturn

from release.cisystems import GITLAB_DOTENV, GITLAB_SUMMARY, id_token_variable
from release.workflows import WheelPackage

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

HEAD = """\
# Written by `release init --ci gitlab` (release-pipeline). A pipeline for a release
# tag builds and verifies the artifacts in one job, then publishes them to the package
# index (trusted publishing) and makes the release in another.
"""

#: The head of the pipeline of a repository of several packages (docs/monorepo.md). GitLab
#: creates at most four branch and tag pipelines for one push, and the tags of one release
#: are pushed at once, so a pipeline must not depend on which tag it is for: every one
#: releases every package tagged on its commit, in dependency order, and any one pipeline
#: for that commit is enough.
WORKSPACE_HEAD = """\
# Written by `release init --ci gitlab` (release-pipeline). The repository holds
# several packages. A pipeline releases every package whose release tag is on its
# commit (`release ci` at the root): release-build builds and verifies their
# artifacts; release-publish uploads them to the package index in dependency order
# (trusted publishing), each dependent once the index serves what it requires, and
# makes their releases. Any one pipeline for the release commit is enough: one for a
# release branch, for a release tag (GitLab creates at most four branch and tag
# pipelines for one push), or one run by hand (Build > Pipelines > New pipeline). The
# publish jobs of one commit wait for each other, and a later one finds the release
# done. For a commit without a release tag both jobs end at once: nothing to release.
"""

#: The start of a job of the build stage that runs ``release ci OPTIONS``.
RELEASE_CI_JOB = """\
{name}:
  stage: build
  image: {image}
  rules:
{rules}
  variables:
    GIT_DEPTH: "0"  # release ci needs the history and the tags{fetch_tags}
  script:
    - python -m pip install {install}
    - release ci {options}
"""

#: The jobs of the pipeline: the same for one project and for a repository of several,
#: but for what starts them and what the publish jobs wait for.
JOBS = """\
#
# The image is an exact Python version (not python:3), so these jobs change only
# when this file does; it is the full image because release ci runs git. To pin
# its bytes as well, append its digest: {image}@sha256:<digest>.

{tagged_job}{build_job}  artifacts:
    when: always  # the summary of a failed release too
    paths:
      - dist/
      - {summary}
    expose_as: release checklist
    reports:
      dotenv: {dotenv}
{wheel_jobs}
release-publish:
  stage: deploy
  image: {image}
  rules:
{rules}
  needs:{needs_note}
    - job: release-build
      artifacts: true
{wheel_needs}  environment:
    name: pypi  # protect it: Settings > CI/CD > Protected environments
  resource_group: {resource_group}
  interruptible: false
  variables:
    GIT_DEPTH: "0"{fetch_tags}
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


#: The ``rules: if:`` expression of the packages whose tags are written the default way,
#: NAME-vVERSION.
DEFAULT_PACKAGE_RULE = "'$CI_COMMIT_TAG =~ /-v[0-9]/'"


def workspace_rules(packages: Sequence[tuple[str, str]]) -> list[str]:
    """The ``rules: if:`` expressions of a repository of several packages, from each
    package's (name, tag format): one for every package whose tags are written the default
    way (``NAME-v{version}``), so that a package added later needs no new pipeline; each
    other package's own."""
    rules: list[str] = []
    for name, tag_format in packages:
        default = tag_format == f"{name}-v{{version}}"
        rule = DEFAULT_PACKAGE_RULE if default else tag_rule(tag_format)
        if rule not in rules:
            rules.append(rule)
    return rules


def branch_rule(pattern: str) -> str:
    """The ``rules: if:`` expression, as a YAML single-quoted scalar, that is true in a
    pipeline for a branch the shell-style ``pattern`` (a `branches` entry) matches."""
    if not any(c in pattern for c in "*?[") and '"' not in pattern:
        expression = f'$CI_COMMIT_BRANCH == "{pattern}"'
    else:
        regex = ""
        for token in re.findall(r"\*|\?|\[!?\]?[^\]]*\]|.", pattern):
            if token == "*":
                regex += ".*"
            elif token == "?":
                regex += "."
            elif token[0] == "[" and len(token) > 1:
                negated = token[1] == "!"
                inner = token[2:-1] if negated else token[1:-1]
                regex += "[" + ("^" if negated else "") + inner.replace("/", "\\/") + "]"
            else:
                regex += _regex_literal(token)
        expression = f"$CI_COMMIT_BRANCH =~ /^{regex}$/"
    return "'" + expression.replace("'", "''") + "'"


#: The ``rules: if:`` expression of a pipeline run by hand (Run pipeline, on any branch or tag).
RUN_BY_HAND_RULE = "'$CI_PIPELINE_SOURCE == \"web\"'"

#: Every tag in the clone, not only the one of a pipeline for a tag: release ci releases
#: every package tagged on the commit.
FETCH_TAGS = '''
    GIT_FETCH_EXTRA_FLAGS: "--prune --quiet --tags"'''


def render(tag_format: str, *, install: str) -> str:
    return _render(
        HEAD,
        [tag_rule(tag_format)],
        install=install,
        resource_group="release-$CI_COMMIT_TAG  # one release of a tag at a time",
    )


def render_workspace(
    packages: Sequence[tuple[str, str]],
    branches: Sequence[str],
    *,
    install: str,
    compiled: Sequence[WheelPackage] = (),
) -> str:
    """The pipeline of a repository of several packages (``packages``: each one's name and
    tag format; ``branches``: the release branches' patterns): in a pipeline for a release
    branch, for any package's release tag, or run by hand, the release of every package
    tagged on the commit; the Linux wheels of the ``compiled`` packages in jobs of their own
    (cibuildwheel only: a maturin package is refused)."""
    rules = [*(branch_rule(b) for b in branches), *workspace_rules(packages), RUN_BY_HAND_RULE]
    return _render(
        WORKSPACE_HEAD + (wheels_note(compiled) if compiled else ""),
        rules,
        install=install,
        resource_group="release-$CI_COMMIT_SHA  # one release of a commit at a time",
        fetch_tags=FETCH_TAGS,
        compiled=compiled,
    )


def _rule_lines(rules: Sequence[str]) -> str:
    return "\n".join(f"    - if: {rule}" for rule in rules)


def _render(
    head: str,
    rules: Sequence[str],
    *,
    install: str,
    resource_group: str,
    fetch_tags: str = "",
    compiled: Sequence[WheelPackage] = (),
) -> str:
    lines = _rule_lines(rules)
    return head + JOBS.format(
        **_workspace_wheels(compiled, lines, install, fetch_tags),
        image=IMAGE,
        rules=lines,
        install=install,
        dotenv=GITLAB_DOTENV,
        summary=GITLAB_SUMMARY,
        id_token=id_token_variable(AUDIENCE),
        audience=AUDIENCE,
        resource_group=resource_group,
        fetch_tags=fetch_tags,
    )


# --- the matrix variant, for projects with compiled extensions (Linux runners only) ----------

#: The cibuildwheel the wheel jobs install (pinned: the jobs change only when this file does).
CIBUILDWHEEL = "cibuildwheel==4.2.0"
#: cibuildwheel builds Linux wheels in manylinux/musllinux containers: a Docker daemon as a
#: service (exact version).
DIND = "docker:27.5.1-dind"
#: GitLab.com's hosted Linux runners for Arm (the x86_64 job runs on the default ones).
ARM_RUNNER_TAG = "saas-linux-small-arm64"

MATRIX_HEAD = """\
# Written by `release init --ci gitlab` (release-pipeline). A pipeline for a release
# tag builds the sdist in one job and the Linux wheels with cibuildwheel in one job per
# architecture; when all of them succeeded, one job checks the files complete against
# the tag (`wheels` in [tool.release]), publishes them to the package index (trusted
# publishing) and makes the release. GitLab.com has no hosted macOS or Windows runners
# here: wheels for them are not built by this pipeline (see docs/ci.md).
#
# The image is an exact Python version (not python:3), so these jobs change only
# when this file does; it is the full image because release ci runs git. To pin
# its bytes as well, append its digest: {image}@sha256:<digest>.

release-sdist:
  stage: build
  image: {image}
  rules:
    - if: {rule}
  variables:
    GIT_DEPTH: "0"  # release ci needs the history and the tags
  script:
    - python -m pip install {install}
    - release ci --build-only --dist sdist --outdir dist
  artifacts:
    paths:
      - dist/
{wheel_jobs}
release-publish:
  stage: deploy
  image: {image}
  rules:
    - if: {rule}
  needs:  # every build job: when one failed, this job does not run and nothing is uploaded
    - job: release-sdist
      artifacts: true
{needs}
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
    reports:
      dotenv: {dotenv}
"""

WHEEL_JOB = """
{job}:
  stage: build
  image: {image}
  rules:
{rules}
{needs}{tags}  services:
    - name: {dind}
      alias: docker
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
    CIBW_ARCHS: {archs}
  script:
{check}    - apt-get update && apt-get install --yes --no-install-recommends docker.io
    - python -m pip install "{cibuildwheel}"
    - cibuildwheel --output-dir {out}{package_dir}
  artifacts:
    paths:
      - {out}/
"""


def render_matrix(tag_format: str, *, install: str, builder: str) -> str:
    """The Linux matrix pipeline; ``builder`` must be cibuildwheel (maturin's jobs are not
    written for GitLab)."""
    if builder != "cibuildwheel":
        _refuse_maturin("this project")
    rule = tag_rule(tag_format)
    jobs = _wheel_jobs(f"    - if: {rule}")
    return MATRIX_HEAD.format(
        image=IMAGE,
        rule=rule,
        install=install,
        wheel_jobs="".join(jobs.values()),
        needs=_needs(jobs).rstrip("\n"),
        dotenv=GITLAB_DOTENV,
        id_token=id_token_variable(AUDIENCE),
        audience=AUDIENCE,
    )


def _refuse_maturin(who: str) -> NoReturn:
    from release.errors import UsageError

    raise UsageError(
        f"release init --ci gitlab writes wheel jobs with cibuildwheel only; {who} builds its "
        "wheels with maturin, whose jobs it does not write.",
        "Use release init --ci github, or add maturin build jobs to .gitlab-ci.yml by hand "
        "(see docs/ci.md, Extension projects).",
    )


def _needs(jobs: Iterable[str]) -> str:
    """The ``needs`` entries of ``jobs``, with their artifacts."""
    return "".join(f"    - job: {job}\n      artifacts: true\n" for job in jobs)


def _wheel_jobs(rules: str, package: WheelPackage | None = None) -> dict[str, str]:
    """The cibuildwheel job of each Linux platform, by name: of the project, or of the
    ``package`` of a repository of several, which ends at once when the package is not
    tagged on the commit."""
    from release.wheels import LINUX

    if package is None:
        prefix, out, needs, check, directory = "release-wheels-", "dist/wheels", "", "", ""
    else:
        prefix = f"release-wheels-{package.key}-"
        out = f"dist/{package.key}/wheels"  # beside its sdist, where --publish-from looks
        needs = TAGGED_NEEDS
        check = TAGGED_CHECK.format(key=package.key)
        directory = "" if package.path in ("", ".") else f" {package.path}"
    return {
        prefix + p.name: WHEEL_JOB.format(
            job=prefix + p.name,
            image=IMAGE,
            rules=rules,
            needs=needs,
            tags=f"  tags:\n    - {ARM_RUNNER_TAG}\n" if p.cibw_archs == "aarch64" else "",
            dind=DIND,
            archs=p.cibw_archs,
            check=check,
            cibuildwheel=CIBUILDWHEEL,
            out=out,
            package_dir=directory,
        )
        for p in LINUX
    }


# --- a repository of several packages with compiled extensions -------------------------------

#: The end of the job that lists the packages tagged on the commit (release-tagged), in its
#: dotenv report (``RELEASE_PACKAGES``, a JSON list), for the wheel jobs of each package.
TAGGED_ARTIFACTS = """\
  artifacts:
    reports:
      dotenv: {dotenv}

"""

TAGGED_NEEDS = """\
  needs:
    - job: release-tagged
      artifacts: true  # its dotenv report: RELEASE_PACKAGES, the packages tagged on the commit
"""

#: A package's wheel job ends at once, successfully, when the package is not tagged on the
#: commit (GitLab cannot leave a job out because of what an earlier one found).
TAGGED_CHECK = """\
    - |
      case "$RELEASE_PACKAGES" in
        *'"{key}"'*) ;;
        *) echo "No release tag of {key} on this commit: no wheels to build."; exit 0 ;;
      esac
"""


def _workspace_wheels(
    compiled: Sequence[WheelPackage], rules: str, install: str, fetch_tags: str
) -> dict[str, str]:
    """The slots of :data:`JOBS` that the packages whose wheels the pipeline builds change:
    the job release-tagged, release-build (its ``--sdist-only``), each package's Linux wheel
    jobs and release-publish's needs."""

    def release_ci(name: str, options: str) -> str:
        return RELEASE_CI_JOB.format(
            name=name,
            image=IMAGE,
            rules=rules,
            fetch_tags=fetch_tags,
            install=install,
            options=options,
        )

    build = "--build-only --outdir dist"
    if not compiled:
        return {
            "tagged_job": "",
            "build_job": release_ci("release-build", build),
            "wheel_jobs": "",
            "needs_note": "",
            "wheel_needs": "",
        }
    refused = [p for p in compiled if p.builder != "cibuildwheel"]
    if refused:
        _refuse_maturin(f"the package {refused[0].key} ({refused[0].path})")
    jobs: dict[str, str] = {}
    for package in compiled:
        jobs.update(_wheel_jobs(rules, package))
    return {
        "tagged_job": release_ci("release-tagged", "--list-tagged")
        + TAGGED_ARTIFACTS.format(dotenv=GITLAB_DOTENV),
        "build_job": release_ci(
            "release-build", build + "".join(f" --sdist-only {p.key}" for p in compiled)
        ),
        "wheel_jobs": "".join(jobs.values()),
        "needs_note": "  # every build job: when one failed, this job does not run and "
        "nothing is uploaded",
        "wheel_needs": _needs(jobs),
    }


def wheels_note(compiled: Sequence[WheelPackage]) -> str:
    """The head comment's paragraph on the packages whose wheels the pipeline builds."""
    import textwrap

    names = " and ".join(p.key for p in compiled)
    text = (
        f"Compiled extensions: the Linux wheels of {names} are built with cibuildwheel, one "
        "job per architecture; a package's wheel jobs end at once when its release tag is "
        "not on the commit (release-tagged lists the packages tagged on it). release-build "
        "writes only their sdists, and release-publish needs every job. GitLab.com has no "
        "hosted macOS or Windows runners here: wheels for them are not built by this "
        "pipeline (see docs/ci.md)."
    )
    return textwrap.fill(text, 88, initial_indent="# ", subsequent_indent="# ") + "\n"
