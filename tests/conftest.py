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
    # Tens of rows: one shuffle partition saves scheduling hundreds of empty tasks per query.
    s.conf.set("spark.sql.shuffle.partitions", "1")
    # Generating and compiling Java for each query costs more than interpreting tens of rows.
    s.conf.set("spark.sql.codegen.wholeStage", "false")
    s.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
    yield s
    s.stop()
