"""A local Ray cluster for the tests of the Ray engine: 2 CPUs, no dashboard,
its temporary folder and HOME (Ray writes ~/.ray there) in fresh temp folders.

Started once per test process, by the first test that asks for it (each
pytest-xdist worker gets its own, as ``address="local"`` never joins another), and
shut down after the last test of this folder that runs in a row: an idle local Ray
(GCS, raylet, workers) costs ~4 % of a core, ~10 s of CPU over the rest of a CI run.
The test modules are marked ``xdist_group("ray")``, so ``--dist loadgroup``
keeps them in one process, one after the other.  Skipped when Ray is not installed
(``pip install 'regtui[ray]'``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")


_HERE = Path(__file__).resolve().parent
_cluster: dict[str, Any] = {}
"""The running cluster: ``ray``, its temporary folder ``root`` and the ``patch`` of the environment."""


def _start() -> Any:
    ray = pytest.importorskip("ray")
    # Short paths: Ray puts Unix sockets under its temp dir (their paths are limited to ~107 bytes).
    root = tempfile.mkdtemp(prefix="regtui-ray-", dir="/tmp")
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", os.path.join(root, "home"))
    patch.delenv("RAY_ADDRESS", raising=False)
    patch.setenv("REGTUI_THREADS", "1")
    try:
        ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=os.path.join(root, "ray"),
                 object_store_memory=100 * 2**20, log_to_driver=False, logging_level=logging.ERROR)
    except BaseException:
        patch.undo()
        shutil.rmtree(root, ignore_errors=True)
        raise
    _cluster.update(ray=ray, root=root, patch=patch)
    return ray


def _stop() -> None:
    if _cluster:
        try:
            _cluster["ray"].shutdown()
        finally:
            _cluster["patch"].undo()
            shutil.rmtree(_cluster["root"], ignore_errors=True)
            _cluster.clear()


@pytest.fixture
def ray_cluster() -> Any:
    """The local cluster (the ``ray`` module), started if it is not running."""
    return _cluster["ray"] if _cluster else _start()


@pytest.hookimpl(trylast=True)  # after the test's own fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of this folder in a row (or of the session), stop the cluster;
    a later test that asks for it starts another."""
    if nextitem is None or _HERE not in Path(nextitem.path).resolve().parents:
        _stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _stop()  # a run interrupted (Ctrl+C, -x) between two tests of this folder
