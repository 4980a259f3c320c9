"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test run (starting Spark costs seconds).

    Built through ``rumq.engines.spark.session`` with two cores, so the tests
    exercise rumq's own settings (UTC, few shuffle partitions); later calls
    of ``session()`` find it active and use it.
    """
    from rumq.engines.spark import session

    s = session(master="local[2]")
    yield s
    s.stop()
