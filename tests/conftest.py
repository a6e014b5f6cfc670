"""Fixtures shared by the test modules: a dask cluster, and each backend."""

# SPDX-License-Identifier: BSD-3-Clause

import pytest

from ._helpers import BACKENDS, array_api_combinations


@pytest.fixture(scope="module")
def cluster():
    """A real cluster on loopback: two worker processes, one thread each.

    One per module that asks, closed after it: its scheduler runs in this
    process, and while it lives its threads allocate now and then, which the
    tests that measure allocations with tracemalloc (it counts every
    thread's) would take for their own.
    """
    distributed = pytest.importorskip(
        "distributed",
        reason="the dask extra (pip install '.[dask]') is needed",
    )
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # Port 0: a free port for the scheduler's HTTP server, which starts
        # even without a dashboard and would otherwise try 8787 (in use when
        # another cluster runs), with a warning.
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    """A client of the cluster, the default one for each module that asks.

    A module that starts and closes a client of its own leaves no default
    client behind; a client per module makes the cluster's the default again.
    """
    import distributed

    with distributed.Client(cluster) as client:
        yield client


@pytest.fixture
def two_workers(client):
    # A previous test may have killed a worker; its nanny restarts it.
    client.wait_for_workers(2, timeout=120)
    return client


@pytest.fixture(params=BACKENDS, ids=[backend.name for backend in BACKENDS])
def backend(request):
    """Each evaluation backend in turn, with what it needs (a cluster) set up."""
    if request.param.fixture is not None:
        request.getfixturevalue(request.param.fixture)
    return request.param


def pytest_collection_modifyitems(config, items):
    # A wrapped repr puts a line break into an id, which pytest escapes as
    # "\n": such an id is hard to read in a report and to pass back to pytest.
    wrapped = [item.nodeid for item in items if "\\n" in item.nodeid]
    if wrapped:
        raise pytest.UsageError(f"test ids with a line break: {wrapped}")


def pytest_terminal_summary(terminalreporter):
    # The Array API tests are generated only for installed namespaces: say
    # which ones they did not run on, once, rather than a skip per test.
    _, missing = array_api_combinations()
    stats = terminalreporter.stats
    reports = [
        r for outcome in ("passed", "failed", "skipped") for r in stats.get(outcome, [])
    ]
    if missing and any(
        "test_array_api.py::" in getattr(r, "nodeid", "") for r in reports
    ):
        terminalreporter.write_line(
            f"Array API tests not run on {', '.join(missing)}: not installed"
        )
