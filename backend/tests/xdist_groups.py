"""One pytest-xdist worker for the tests that record statuses (see `status_record.py`).

`tests/api/test_openapi.py::test_every_observed_status_is_declared` compares what every test on
the recording `client` observed with the OpenAPI document, so under `-n` those tests and the check
(collected last) must run in one process, in collection order. pytest-xdist's own `xdist_group`
mark cannot carry that here (it renames node ids, which pytest 9.2 no longer lets it do), so:
each worker writes the node ids of the group to a file the controller named before starting them,
and the controller's scheduler (`--dist loadgroup`) makes them one work unit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

GROUP = "observed_statuses"
_ENV = "TENANCY_TEST_XDIST_GROUP_FILE"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def configure(config: pytest.Config) -> None:
    """On the controller of a distributed run: name the file and install the scheduler."""
    if is_worker(config) or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.getvalue("dist") != "loadgroup" or not config.getvalue("numprocesses"):
        return
    fd, name = tempfile.mkstemp(prefix="tenancy-xdist-group-")
    os.close(fd)
    os.environ[_ENV] = name  # the workers are started later and inherit it
    config.pluginmanager.register(_Scheduler(Path(name)), "tenancy-xdist-group")


def record(config: pytest.Config, nodeids: list[str]) -> None:
    """On a worker: the group's node ids, for the controller (every worker writes the same)."""
    name = os.environ.get(_ENV)
    if not is_worker(config) or not name:
        return
    part = Path(f"{name}.{config.workerinput['workerid']}")
    part.write_text("".join(f"{nodeid}\n" for nodeid in nodeids))
    part.replace(name)  # whole, never half-written


class _Scheduler:
    def __init__(self, path: Path) -> None:
        self.path = path

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: object) -> object:
        from xdist.scheduler import LoadGroupScheduling

        path = self.path
        members: set[str] = set()
        read: list[bool] = []

        class Scheduler(LoadGroupScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                # Called once all workers have collected (and so written the file).
                if not read:
                    members.update(path.read_text().splitlines())
                    read.append(True)
                return GROUP if nodeid in members else super()._split_scope(nodeid)

        return Scheduler(config, log)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.path.unlink(missing_ok=True)
