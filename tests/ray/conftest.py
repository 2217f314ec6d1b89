"""A local Ray cluster for the tests of the Ray engine: 2 CPUs, no dashboard,
its temporary folder and HOME (Ray writes ~/.ray there) in fresh temp folders.

Session-scoped: started once per test process (each pytest-xdist worker gets
its own, as ``address="local"`` never joins another) and shut down at the end.
The test modules are marked ``xdist_group("ray")``, so ``--dist loadgroup``
keeps them in one process.  Skipped when Ray is not installed (``pip install 'regtui[ray]'``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any, Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    # Short paths: Ray puts Unix sockets under its temp dir (their paths are limited to ~107 bytes).
    root = tempfile.mkdtemp(prefix="regtui-ray-", dir="/tmp")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", os.path.join(root, "home"))
        mp.delenv("RAY_ADDRESS", raising=False)
        mp.setenv("REGTUI_THREADS", "1")
        ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=os.path.join(root, "ray"),
                 object_store_memory=100 * 2**20, log_to_driver=False, logging_level=logging.ERROR)
        try:
            yield ray
        finally:
            ray.shutdown()
            shutil.rmtree(root, ignore_errors=True)
