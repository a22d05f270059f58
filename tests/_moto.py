"""A local S3-compatible server (moto in server mode) on a free loopback port, for the object-storage
tests: the code under test talks HTTP to it through the real S3 client (s3fs / botocore)."""

from __future__ import annotations

import contextlib
from typing import Iterator

import pytest


@contextlib.contextmanager
def moto_s3(bucket: str = "datasets") -> Iterator[dict]:
    """Yield the storage options of a fresh S3 server with ``bucket`` created; stop it after."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] (test extra) is not installed")
    s3fs = pytest.importorskip("s3fs", reason="s3fs (s3 extra) is not installed")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        # Moto keeps its buckets in process-global state: start every server empty.
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"),
                               timeout=10).close()
        options = {"endpoint_url": f"http://{host}:{port}", "key": "testing", "secret": "testing",
                   "client_kwargs": {"region_name": "eu-west-1"}}
        s3fs.S3FileSystem(**options).mkdir(bucket, region_name="eu-west-1")
        yield options
    finally:
        server.stop()
