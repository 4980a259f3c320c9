"""Shared fixtures: ``s3_server``/``s3``, one real S3-compatible server (moto) per test session on
127.0.0.1; ``spark``, one local SparkSession per test session."""

from __future__ import annotations

import itertools

import pytest
from s3server import S3Server, aws_env

_buckets = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def _user_cache_dir(tmp_path_factory):
    """rumq's user cache (the portability of user query files) in a folder of the test run, for this
    process and the rumq subprocesses it starts: never the developer's ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, started once for the session and stopped at its end."""
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, tmp_path, monkeypatch):
    """A fresh bucket on the session's server, with the environment pointing rumq at it.

    Yields (server, boto3 client, bucket name). The environment holds the
    test credentials and ``AWS_ENDPOINT_URL``; the developer's ~/.aws is never read.
    """
    for k, v in aws_env(s3_server.url, tmp_path).items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_MAX_ATTEMPTS", "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    client = s3_server.client()
    bucket = f"rumq-test-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    yield s3_server, client, bucket


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
