"""The order of the tests, and which run together on one xdist worker (a pytest plugin,
registered in conftest.py through ``pytest_plugins``).

- The tests that build distributions (those that use ``shared_uv_cache``) run first, each
  part in the collected order. They take 5-30 s each, most others well under one: started
  first, the long ones are spread over the workers while the short ones fill the gaps at the
  end, instead of one worker finishing a long test alone.
- The tests that use a server too slow to start on every worker (``ONE_WORKER_SERVERS``)
  are marked ``xdist_group``; with ``--dist loadgroup`` (pyproject.toml) a group runs on one
  worker, which starts the server once.

pytest-xdist 3.8 finds a test's group in a suffix it appends to the test's node id, which
pytest 9.2's structured node ids no longer take (pytest-dev/pytest-xdist#1386): the tests of
a group would be spread over the workers without a word. So each worker also writes the
groups it collected (node id -> group) to a file of the run, and the scheduler made here
(``--dist loadgroup`` only) reads them; node ids that carry the suffix work as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

#: Session fixture -> the xdist group of every test that uses it. devpi-server takes 10-20 s
#: to start (a pypiserver about one).
ONE_WORKER_SERVERS = {"devpi_session": "devpi"}

_GROUPS_FILE = "xdist-groups-{worker}.json"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, group in ONE_WORKER_SERVERS.items():
            if fixture in item.fixturenames:
                item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: "shared_uv_cache" not in item.fixturenames)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return
    groups = {}
    for item in items:
        names = sorted({_group_name(mark) for mark in item.iter_markers("xdist_group")})
        if names:
            groups[item.nodeid] = "_".join(names)
    # A worker's temporary directory is inside the controller's (xdist gives it basetemp).
    run_dir = config._tmp_path_factory.getbasetemp().parent  # type: ignore[attr-defined]
    path = run_dir / _GROUPS_FILE.format(worker=worker)
    path.write_text(json.dumps(groups), encoding="utf-8")


def _group_name(mark: pytest.Mark) -> str:
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    run_dir: Path = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]

    class GroupsFromFiles(LoadGroupScheduling):
        """``--dist loadgroup``, the groups read from the workers' files."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # first asked once every worker has collected
                self.groups = {}
                for path in sorted(run_dir.glob(_GROUPS_FILE.format(worker="*"))):
                    self.groups.update(json.loads(path.read_text(encoding="utf-8")))
            group = self.groups.get(nodeid)
            return group if group is not None else str(super()._split_scope(nodeid))

    return GroupsFromFiles(config, log)
