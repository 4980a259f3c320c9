"""A real S3-compatible HTTP server on 127.0.0.1 for the tests (moto's standalone server).

``S3Server`` starts ``moto_server`` (from the ``moto[server]`` dev
dependency) on a free port and stops it; tests talk to it over HTTP with
boto3, exactly as rumq does against AWS. Nothing is patched in-process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

#: Credentials the tests use; moto accepts any, and they must never be printed.
ACCESS_KEY = "AKIATESTRUMQ00000000"
SECRET_KEY = "rumq-test-secret-do-not-print-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """``moto_server`` on 127.0.0.1:<free port>, started by ``start`` and stopped by ``stop``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> S3Server:
        exe = Path(sys.executable).with_name("moto_server")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        self.proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with code {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto_server did not listen on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self, endpoint: str | None = None):
        """A boto3 client of the server (for test set-up: buckets, uploads)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=endpoint or self.url, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                            config=Config(max_pool_connections=16, s3={"addressing_style": "path"}))


def aws_env(endpoint: str, home: Path) -> dict[str, str]:
    """Environment for rumq talking to ``endpoint``: the test keys, no user config, fast retries."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        # Never the developer's own ~/.aws.
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUMQ_S3_RETRY_BASE": "0.01",
    }


def upload_tree(client, bucket: str, root: Path, prefix: str = "") -> list[str]:
    """Upload every file under ``root`` to ``bucket`` at ``prefix`` + its relative path; return the keys."""
    keys = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            key = prefix + p.relative_to(root).as_posix()
            client.put_object(Bucket=bucket, Key=key, Body=p.read_bytes())
            keys.append(key)
    return keys


__all__ = ["ACCESS_KEY", "SECRET_KEY", "S3Server", "aws_env", "free_port", "upload_tree"]
