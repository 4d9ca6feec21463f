"""The GitHub Actions release workflow that ``release init --ci github`` writes
(``.github/workflows/release.yml``).

Two jobs: ``build`` (read-only token, no persisted credentials) builds and verifies
the artifacts with ``release ci --build-only`` and uploads them; ``publish`` runs
in the ``pypi`` environment with only ``id-token: write`` (PyPI trusted publishing)
and ``contents: write`` (the GitHub release), downloads them and runs
``release ci --publish-from``.  Every action is pinned to a commit SHA; no caches
in release jobs; one release per ref at a time, never cancelled half way.  At the root of a
repository of several packages the same jobs release every package tagged on the commit,
whatever started the run (:func:`render_workspace`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from release.workflows import WheelPackage

#: Where the workflow goes, relative to the project.
PATH = ".github/workflows/release.yml"

# Commit SHAs of the actions' release tags (the comment names the tag).
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2"
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065  # v5.6.0"
UPLOAD_ARTIFACT = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02  # v4.6.2"
DOWNLOAD_ARTIFACT = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093  # v4.3.0"

#: The head of a workflow that a push of a release tag runs: one release per tag at a time,
#: never cancelled half way, no permission unless a job asks for it.
TAG_TRIGGERED = """\
name: release

on:
  push:
    tags:
{tag_filters}

permissions: {{}}

concurrency:
  group: release-${{{{ github.ref }}}}
  cancel-in-progress: false
"""

HEAD = """\
# Written by `release init --ci github` (release-pipeline). A push of a release tag
# builds and verifies the artifacts in one job, then publishes them to the package
# index (trusted publishing) and makes the GitHub release in another.
"""

#: The workflow of a repository of several packages (docs/monorepo.md). GitHub creates no
#: event for the tags of a push of more than three tags, and the tags of one release are
#: pushed at once, so a run must not depend on which tag started it: every run releases
#: every package tagged on its commit, in dependency order, and any one event for that
#: commit (the push to the release branch, which GitHub always reports, a push of a
#: release tag, or a run started by hand) is enough. Runs for one commit wait for each
#: other (``concurrency`` keyed on the commit, never cancelled half way); every step of a
#: release probes whether it is done, so a later run finds it done.
WORKSPACE = """\
# Written by `release init --ci github` (release-pipeline). The repository holds several
# packages. A run releases every package whose release tag is on the commit it runs for
# (`release ci` at the root): one job builds and verifies their artifacts, another
# uploads them to the package index in dependency order (trusted publishing), each
# dependent once the index serves what it requires, and makes their GitHub releases.
# Any one run for the release commit is enough: a push to a release branch (GitHub
# creates no event for the tags of a push of more than three tags), a push of a release
# tag, or a run started by hand on a release tag. Runs for one commit wait for each
# other, and a later one finds the release done. A commit without a release tag has
# nothing to release: its build job says so and the publish job is skipped.
{wheels_note}name: release

on:
  push:
    branches:
{branch_filters}
    tags:
{tag_filters}
  workflow_dispatch:

permissions: {{}}

concurrency:
  group: release-${{{{ github.sha }}}}  # one run per commit, whatever started it
  cancel-in-progress: false

jobs:
{tagged_job}  build:
    name: Build and verify
    runs-on: ubuntu-latest
    permissions:
      contents: read  # check out the repository
    outputs:
      tags: ${{{{ steps.build.outputs.tag }}}}  # empty: the commit has no release tag
    steps:
{fresh_checkout}
      - name: Build and verify every package tagged on the commit
        id: build
        run: release ci --build-only --outdir dist{sdist_only}
      - if: steps.build.outputs.tag != ''
        uses: {upload}
        with:
          name: dist
          path: dist/  # one directory per package
          if-no-files-found: error
{wheel_jobs}
  publish:
    name: Publish and announce
{publish_when}    runs-on: ubuntu-latest
    environment:
      name: pypi
    permissions:
      id-token: write  # PyPI trusted publishing (OIDC)
      contents: write  # create the GitHub releases and attach the artifacts
    steps:
{fresh_checkout}
      - uses: {download}
        with:
          name: dist
          path: artifacts/
{wheel_downloads}      - name: Publish in dependency order and announce
        run: release ci --publish-from artifacts
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
"""

#: The jobs of the workflow of one project.
JOBS = """\
{tag_triggered}
jobs:
  build:
    name: Build and verify
    runs-on: ubuntu-latest
    permissions:
      contents: read  # check out the repository
    steps:
{fresh_checkout}
      - name: Build and verify
        run: release ci --build-only --outdir dist
      - uses: {upload}
        with:
          name: dist
          path: dist/
          if-no-files-found: error

  publish:
    name: Publish and announce
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: pypi
    permissions:
      id-token: write  # PyPI trusted publishing (OIDC)
      contents: write  # create the GitHub release and attach the artifacts
    steps:
{fresh_checkout}
      - uses: {download}
        with:
          name: dist
          path: artifacts/
      - name: Publish and announce
        run: release ci --publish-from artifacts
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
"""


#: The first steps of a job that runs release-pipeline, after its checkout.
INSTALL_STEPS = """\
      - uses: {setup_python}
        with:
          python-version: "{python}"
      - name: Install release-pipeline
        run: python -m pip install {install}"""

#: A job's checkout of the whole history, without credentials, then INSTALL_STEPS.
FRESH_CHECKOUT = """\
      - uses: {checkout}
        with:
          fetch-depth: 0
          persist-credentials: false
{install_steps}"""


def _job_setup(install: str, python: str) -> dict[str, str]:
    """The ``{install_steps}`` and ``{fresh_checkout}`` blocks of the templates."""
    install_steps = INSTALL_STEPS.format(setup_python=SETUP_PYTHON, python=python, install=install)
    return {
        "install_steps": install_steps,
        "fresh_checkout": FRESH_CHECKOUT.format(checkout=CHECKOUT, install_steps=install_steps),
    }


def _tag_triggered(*globs: str) -> str:
    return TAG_TRIGGERED.format(tag_filters="\n".join(f'      - "{glob}"' for glob in globs))


def tag_glob(tag_format: str) -> str:
    """A glob for GitHub's tag filter matching the tags ``tag_format`` produces."""
    prefix = tag_format.split("{version}", 1)[0].replace("{{", "{").replace("}}", "}")
    return f"{prefix}[0-9]*"


#: The tag filter of the packages whose tags are written the default way, NAME-vVERSION.
DEFAULT_PACKAGE_GLOB = "*-v[0-9]*"


def workspace_globs(packages: Sequence[tuple[str, str]]) -> list[str]:
    """The tag filters of a repository of several packages, from each package's (name, tag
    format): one filter for every package whose tags are written the default way
    (``NAME-v{version}``), so that a package added later needs no new workflow; each other
    package's own."""
    globs: list[str] = []
    for name, tag_format in packages:
        default = tag_format == f"{name}-v{{version}}"
        glob = DEFAULT_PACKAGE_GLOB if default else tag_glob(tag_format)
        if glob not in globs:
            globs.append(glob)
    return globs


def render(tag_format: str, *, install: str, python: str = "3.12") -> str:
    return _render(HEAD, _tag_triggered(tag_glob(tag_format)), install=install, python=python)


def branch_glob(pattern: str) -> str:
    """A GitHub branch filter matching at least the branches the shell-style ``pattern``
    (a `branches` entry) matches. There ``*`` and ``?`` match ``/`` too, so they become
    ``**``, as does a ``[!...]`` set and each character GitHub reads otherwise (``+``,
    ``!``, a lone ``]``); a wider filter only costs a run that finds nothing to release."""
    out = ""
    for token in re.findall(r"\*+|\[!?\]?[^\]]*\]|.", pattern):
        if token[0] == "[" and len(token) > 1 and token[1] != "!":
            out += token  # a set of characters, such as [0-9]: the same in both
        elif token[0] in "*?+![]\\":
            out += "" if out.endswith("**") else "**"
        else:
            out += token
    return out


def render_workspace(
    packages: Sequence[tuple[str, str]],
    branches: Sequence[str],
    *,
    install: str,
    python: str = "3.12",
    compiled: Sequence[WheelPackage] = (),
) -> str:
    """The workflow of a repository of several packages (``packages``: each one's name and
    tag format; ``branches``: the release branches' patterns): on a push to a release
    branch, of any package's release tag, or by hand, the release of every package tagged
    on the commit; the wheels of the ``compiled`` packages in a matrix of jobs each."""
    setup = _job_setup(install, python)
    return WORKSPACE.format(
        **_workspace_wheels(compiled, setup, python),
        branch_filters="\n".join(f'      - "{branch_glob(b)}"' for b in branches),
        tag_filters="\n".join(f'      - "{glob}"' for glob in workspace_globs(packages)),
        upload=UPLOAD_ARTIFACT,
        download=DOWNLOAD_ARTIFACT,
        **setup,
    )


def _render(head: str, tag_triggered: str, *, install: str, python: str) -> str:
    return head + JOBS.format(
        tag_triggered=tag_triggered,
        checkout=CHECKOUT,
        setup_python=SETUP_PYTHON,
        upload=UPLOAD_ARTIFACT,
        download=DOWNLOAD_ARTIFACT,
        install=install,
        python=python,
        **_job_setup(install, python),
    )


# --- the matrix variant, for projects with compiled extensions --------------------------------

CIBUILDWHEEL = "pypa/cibuildwheel@1828c10ab37f080699c7b81cea34097c684a7074  # v4.2.0"
MATURIN = "PyO3/maturin-action@e83996d129638aa358a18fbd1dfb82f0b0fb5d3b  # v1.51.0"

MATRIX_HEAD = """\
# Written by `release init --ci github` (release-pipeline). A push of a release tag
# builds the sdist in one job and the wheels in a matrix of jobs ({builder}), one per
# platform; when every one of them succeeded, one job checks the files complete
# against the tag (`wheels` in [tool.release]), publishes them to the package index
# (trusted publishing) and makes the GitHub release.
{tag_triggered}
jobs:
  sdist:
    name: Build and verify the sdist
    runs-on: ubuntu-latest
    permissions:
      contents: read  # check out the repository
    steps:
{fresh_checkout}
      - name: Build and verify
        run: release ci --build-only --dist sdist --outdir dist
      - uses: {upload}
        with:
          name: sdist
          path: dist/
          if-no-files-found: error

{wheels_job}
  publish:
    name: Publish and announce
    # Needs every job: if the sdist or any wheel job failed, this job does not run, and
    # nothing is uploaded.
    needs: [sdist, wheels]
    runs-on: ubuntu-latest
    environment:
      name: pypi
    permissions:
      id-token: write  # PyPI trusted publishing (OIDC)
      contents: write  # create the GitHub release and attach the artifacts
    steps:
{fresh_checkout}
      - uses: {download}
        with:
          path: artifacts/  # every job's artifact, each in its own directory
      - name: Check complete, publish and announce
        run: release ci --publish-from artifacts
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
"""

#: The matrix of wheel jobs of a project, or of one package of a repository of several.
WHEELS_JOB = """\
  {job}:
    name: {title} on ${{{{ matrix.name }}}}
{condition}    runs-on: ${{{{ matrix.runner }}}}
    permissions:
      contents: read  # check out the repository
    strategy:
      fail-fast: false  # every platform's result is shown; publish still needs them all
      matrix:
        include:
{include}
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
{build_steps}
      - uses: {upload}
        with:
          name: {artifact}${{{{ matrix.name }}}}
          path: {wheelhouse}/*.whl
          if-no-files-found: error
"""

CIBUILDWHEEL_STEPS = """\
      - uses: {cibuildwheel}
        with:
{directory}          output-dir: wheelhouse
        env:
          CIBW_ARCHS: ${{{{ matrix.archs }}}}"""

MATURIN_STEPS = """\
      - uses: {setup_python}
        with:
          python-version: "{python}"
      - uses: {maturin}
        with:
{directory}          command: build
          target: ${{{{ matrix.target }}}}
          manylinux: auto
          args: --release --out wheelhouse"""


def render_matrix(tag_format: str, *, install: str, builder: str, python: str = "3.12") -> str:
    """The matrix workflow: ``builder`` is ``cibuildwheel`` or ``maturin``."""
    return MATRIX_HEAD.format(
        builder=builder_shown(builder),
        tag_triggered=_tag_triggered(tag_glob(tag_format)),
        upload=UPLOAD_ARTIFACT,
        download=DOWNLOAD_ARTIFACT,
        wheels_job=_wheels_job(builder, python=python),
        **_job_setup(install, python),
    )


def builder_shown(builder: str) -> str:
    """How the comments and messages name what builds the wheels."""
    return "maturin's action" if builder == "maturin" else "cibuildwheel"


def _wheels_job(
    builder: str,
    *,
    python: str,
    job: str = "wheels",
    title: str = "Wheels",
    condition: str = "",
    artifact: str = "wheels-",
    directory: str = ".",
) -> str:
    """The matrix of wheel jobs, one per platform of :data:`release.wheels.PLATFORMS`, that
    ``builder`` (cibuildwheel or maturin) runs in the project's ``directory`` (relative to
    the checkout), each uploading its wheels as the artifact ``{artifact}<platform>``."""
    from release.wheels import PLATFORMS

    maturin = builder == "maturin"
    include = "\n".join(
        f"          - name: {p.name}\n            runner: {p.runner}\n"
        + (
            f"            target: {p.maturin_target}"
            if maturin
            else f"            archs: {p.cibw_archs}"
        )
        for p in PLATFORMS
    )
    here = directory in ("", ".")
    # maturin's action writes to --out in its working directory, cibuildwheel in the checkout.
    option = "working-directory" if maturin else "package-dir"
    steps = (MATURIN_STEPS if maturin else CIBUILDWHEEL_STEPS).format(
        cibuildwheel=CIBUILDWHEEL,
        maturin=MATURIN,
        setup_python=SETUP_PYTHON,
        python=python,
        directory="" if here else f"          {option}: {directory}\n",
    )
    return WHEELS_JOB.format(
        job=job,
        title=title,
        condition=condition,
        include=include,
        checkout=CHECKOUT,
        build_steps=steps,
        upload=UPLOAD_ARTIFACT,
        artifact=artifact,
        wheelhouse="wheelhouse" if here or not maturin else f"{directory}/wheelhouse",
    )


# --- a repository of several packages with compiled extensions -------------------------------

#: The first job of a repository of several packages of which some have compiled extensions:
#: which packages are tagged on the commit, for the conditions of their wheel jobs.
TAGGED_JOB = """\
  tagged:
    name: List the packages tagged on the commit
    runs-on: ubuntu-latest
    permissions:
      contents: read  # check out the repository
    outputs:
      packages: ${{{{ steps.tagged.outputs.packages }}}}  # a JSON list; [] without a release tag
    steps:
{fresh_checkout}
      - name: List the packages whose release tags are on the commit
        id: tagged
        run: release ci --list-tagged

"""

#: What the publish job waits for, in a repository of several packages without (first) and
#: with (second) compiled extensions: a package not tagged on the commit skips its wheel
#: jobs, which stops nothing; a job that failed or was cancelled stops the release.
PUBLISH_WHEN = """\
    needs: build
    if: needs.build.outputs.tags != ''
"""
PUBLISH_WHEN_WHEELS = """\
    # Every job that ran must have succeeded (a package not tagged on the commit skips its
    # wheel jobs): a failed one stops the release before anything is uploaded.
    needs: [{needs}]
    if: >-
      !cancelled() && needs.build.outputs.tags != ''
      && !contains(needs.*.result, 'failure') && !contains(needs.*.result, 'cancelled')
"""

#: The download of one package's wheels, into the directory ``--publish-from`` reads it from.
WHEELS_DOWNLOAD = """\
      - if: {tagged}
        uses: {download}
        with:
          pattern: {artifact}*
          path: artifacts/{key}/  # beside its sdist, where release ci --publish-from looks
"""


def _tagged(key: str) -> str:
    """The condition that the package ``key`` is tagged on the commit (the job ``tagged``)."""
    return f"contains(fromJSON(needs.tagged.outputs.packages), '{key}')"


def _artifact(key: str) -> str:
    # "_" is in no normalised name: the artifacts of "spam" are never those of "spam-ext".
    return f"wheels-{key}_"


def _workspace_wheels(
    compiled: Sequence[WheelPackage], setup: dict[str, str], python: str
) -> dict[str, str]:
    """The slots of :data:`WORKSPACE` for the packages whose wheels a matrix builds: the
    job ``tagged``, the build job's ``--sdist-only``, each package's matrix of wheel jobs,
    what the publish job waits for and where it downloads the wheels to."""
    if not compiled:
        return {
            "wheels_note": "",
            "tagged_job": "",
            "sdist_only": "",
            "wheel_jobs": "",
            "publish_when": PUBLISH_WHEN,
            "wheel_downloads": "",
        }
    jobs = [f"wheels-{p.key}" for p in compiled]
    return {
        "wheels_note": wheels_note(compiled),
        "tagged_job": TAGGED_JOB.format(**setup),
        "sdist_only": "".join(f" --sdist-only {p.key}" for p in compiled),
        "wheel_jobs": "".join(
            "\n"
            + _wheels_job(
                p.builder,
                python=python,
                job=f"wheels-{p.key}",
                title=f"Wheels of {p.key}",
                condition=f"    needs: tagged\n    if: {_tagged(p.key)}\n",
                artifact=_artifact(p.key),
                directory=p.path,
            )
            for p in compiled
        ),
        "publish_when": PUBLISH_WHEN_WHEELS.format(needs=", ".join(["tagged", "build", *jobs])),
        "wheel_downloads": "".join(
            WHEELS_DOWNLOAD.format(
                tagged=_tagged(p.key),
                download=DOWNLOAD_ARTIFACT,
                artifact=_artifact(p.key),
                key=p.key,
            )
            for p in compiled
        ),
    }


def wheels_note(compiled: Sequence[WheelPackage]) -> str:
    """The head comment's paragraph on the packages whose wheels a matrix of jobs builds."""
    import textwrap

    shown = [f"{p.key} ({builder_shown(p.builder)})" for p in compiled]
    names = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
    text = (
        f"Compiled extensions: the wheels of {names} are built in a matrix of jobs, one per "
        "platform, a package's only when its release tag is on the commit (the first job "
        "lists those packages); the build job writes only their sdists, and the publish job "
        "needs every job."
    )
    return textwrap.fill(text, 88, initial_indent="# ", subsequent_indent="# ") + "\n"


# --- the release pull request flow (``release init --ci github --release-pr``) ----------------

#: Where the two workflows of the release pull request flow go, relative to the project.
RELEASE_PR_PATH = ".github/workflows/release-pr.yml"
MERGE_PATH = ".github/workflows/release-merge.yml"

#: Who the release commit and the release tag are made by in the jobs that make them:
#: GitHub's own bot, the identity its GITHUB_TOKEN acts as.
BOT_IDENTITY = """\
          GIT_AUTHOR_NAME: github-actions[bot]
          GIT_AUTHOR_EMAIL: 41898282+github-actions[bot]@users.noreply.github.com
          GIT_COMMITTER_NAME: github-actions[bot]
          GIT_COMMITTER_EMAIL: 41898282+github-actions[bot]@users.noreply.github.com"""

RELEASE_PR_TEMPLATE = """\
# Written by `release init --ci github` (release-pipeline). Every push to a release
# branch opens or updates the release pull request (`release pr`): the version edits,
# the changelog and the release commit on release-pipeline's own branch. Merging that
# pull request releases ({merge_path}).
name: release-pr

on:
  push:
    branches:
{branches}

permissions: {{}}

concurrency:
  group: release-pr-${{{{ github.ref }}}}
  cancel-in-progress: false

jobs:
  release-pr:
    name: Open or update the release pull request
    runs-on: ubuntu-latest
    permissions:
      contents: write  # force-push the release pull request's branch
      pull-requests: write  # open, update or close the release pull request
    steps:
      # The credentials are kept on purpose: `release pr` force-pushes its branch with
      # `git push` to origin, which authenticates with the GITHUB_TOKEN that
      # actions/checkout stores in the clone's git config (http extraheader). Nothing in
      # this job uploads the clone.
      - uses: {checkout}  # zizmor: ignore[artipacked]
        with:
          fetch-depth: 0
{install_steps}
      - name: Open or update the release pull request
        # Exit status 3: nothing to release and no release pull request to close.
        run: release pr || test $? -eq 3
        env:
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}  # the pull request API (forge)
{identity}
"""

MERGE_TEMPLATE = """\
# Written by `release init --ci github` (release-pipeline). The push that merges the
# release pull request (opened by {release_pr_path}) releases: `release ci`
# recognises the merged release commit by its Release-Version trailer, tags it and
# pushes the tag in a job that builds nothing (the only one that may push), builds and
# verifies the artifacts in a read-only job, then publishes them to the package index
# (trusted publishing) and makes the GitHub release in a third, all in this run: a tag
# pushed with GITHUB_TOKEN starts no other workflow. Any other push is "nothing to
# release".
name: release-merge

on:
  push:
    branches:
{branches}

permissions: {{}}

concurrency:
  group: release-merge-${{{{ github.ref }}}}
  cancel-in-progress: false

jobs:
  tag:
    name: Tag the merged release
    runs-on: ubuntu-latest
    permissions:
      contents: write  # push the release tag
    outputs:
      tag: ${{{{ steps.tag.outputs.tag }}}}
    steps:
      # The credentials are kept on purpose: `release ci --tag-only` pushes the release tag
      # with `git push` to origin, which authenticates with the GITHUB_TOKEN that
      # actions/checkout stores in the clone's git config. This job builds nothing: no
      # build backend or test code runs where that token is.
      - uses: {checkout}  # zizmor: ignore[artipacked]
        with:
          fetch-depth: 0
{install_steps}
      - name: Tag the merged release
        id: tag
        # Exit status 3: this push merged no release pull request (the tag output is empty).
        run: release ci --tag-only || test $? -eq 3
        env:
{identity}

  build:
    name: Build and verify
    needs: tag
    if: needs.tag.outputs.tag != ''
    runs-on: ubuntu-latest
    permissions:
      contents: read  # check out the tag
    outputs:
      tag: ${{{{ needs.tag.outputs.tag }}}}
    steps:
      - uses: {checkout}
        with:
          ref: refs/tags/${{{{ needs.tag.outputs.tag }}}}
          fetch-depth: 0
          persist-credentials: false
{install_steps}
      - name: Build and verify
        run: release ci --build-only --outdir dist --tag "$TAG"
        env:
          TAG: ${{{{ needs.tag.outputs.tag }}}}
      - uses: {upload}
        with:
          name: dist
          path: dist/
          if-no-files-found: error

  publish:
    name: Publish and announce
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: pypi
    permissions:
      id-token: write  # PyPI trusted publishing (OIDC)
      contents: write  # create the GitHub release and attach the artifacts
    steps:
      - uses: {checkout}
        with:
          ref: refs/tags/${{{{ needs.build.outputs.tag }}}}  # the tag the first job pushed
          fetch-depth: 0
          persist-credentials: false
{install_steps}
      - uses: {download}
        with:
          name: dist
          path: artifacts/
      - name: Publish and announce
        run: release ci --publish-from artifacts --tag "$TAG"
        env:
          TAG: ${{{{ needs.build.outputs.tag }}}}
          GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
"""


def _branch_filter(branches: tuple[str, ...]) -> str:
    return "\n".join(f'      - "{b}"' for b in branches)


def render_release_pr(
    branches: tuple[str, ...], *, install: str, python: str = "3.12"
) -> dict[str, str]:
    """The two workflows of the release pull request flow, by path: ``release pr`` on every
    push to ``branches`` (GitHub branch filters), and the release on the push that merges
    the release pull request."""
    common = {
        "branches": _branch_filter(branches),
        "checkout": CHECKOUT,
        "setup_python": SETUP_PYTHON,
        "install": install,
        "python": python,
        "identity": BOT_IDENTITY,
        **_job_setup(install, python),
    }
    return {
        RELEASE_PR_PATH: RELEASE_PR_TEMPLATE.format(merge_path=MERGE_PATH, **common),
        MERGE_PATH: MERGE_TEMPLATE.format(
            release_pr_path=RELEASE_PR_PATH,
            upload=UPLOAD_ARTIFACT,
            download=DOWNLOAD_ARTIFACT,
            **common,
        ),
    }
