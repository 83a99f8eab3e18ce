"""One real Dask cluster for the whole test session: two worker processes.

Starting a ``LocalCluster`` costs seconds and, on a loaded machine, once in a
while fails to come up in time; one shared cluster started with retries keeps
the suite fast and steady. The client is not made the default scheduler, so
the other Dask tests keep the local threaded scheduler; a test runs on the
cluster inside ``with dask.config.set(scheduler=dask_client.get):``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A ``distributed.Client`` of a 2-process ``LocalCluster`` (1 thread each)."""
    distributed = pytest.importorskip("distributed")
    cluster = None
    for attempt in range(3):
        try:
            # ":0" picks a free port: 8787, the default, may be taken on a shared machine.
            cluster = distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
            break
        except (RuntimeError, TimeoutError, OSError):
            if attempt == 2:
                raise
    assert cluster is not None
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@contextmanager
def dask_on(client: Any) -> Iterator[Any]:
    """Run the Dask work of the block on ``client``; yields its task stream.

    ``tasks.data`` lists the tasks that ran on the cluster, so a test can check
    the work really left the test process.
    """
    import dask
    import distributed

    with (
        dask.config.set(scheduler=client.get),
        distributed.get_task_stream(client=client) as tasks,
    ):
        yield tasks
