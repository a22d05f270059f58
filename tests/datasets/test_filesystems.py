"""Locations: local and S3 (a loopback S3 server, the real client) behave alike; commits are atomic."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests._moto import moto_s3  # noqa: E402

from artlineage.datasets.filesystems import open_location, storage_options_from_pairs  # noqa: E402
from artlineage.errors import ConfigurationError  # noqa: E402


def _exercise(root):
    root.makedirs()
    root.child("b.tar").write_bytes(b"B")
    root.child("a.tar").write_with(lambda tmp: Path(tmp).write_bytes(b"A"), suffix=".tar")
    root.child("sub", "c.json").write_bytes(b"{}")
    assert [Path(p.path).name for p in root.list((".tar",))] == ["a.tar", "b.tar"]
    assert root.child("a.tar").read_bytes() == b"A" and root.child("a.tar").exists()
    assert not root.child("nope").exists() and root.child("missing-dir").list() == []
    assert [Path(p.path).name for p in root.walk_files()] == ["a.tar", "b.tar", "c.json"]


def test_local_location(tmp_path):
    root = open_location(tmp_path / "x")
    assert root.is_local and root.url == str(tmp_path / "x")
    _exercise(root)
    assert not [p for p in (tmp_path / "x").rglob("*") if p.name.endswith(".tmp")]


def test_s3_location_through_a_loopback_server():
    with moto_s3() as options:
        root = open_location("s3://datasets/run1", options)
        assert not root.is_local and root.url == "s3://datasets/run1"
        _exercise(root)


def test_storage_options_and_missing_extra():
    assert storage_options_from_pairs(["endpoint_url=http://h:1", "anon=true"]) == {"endpoint_url": "http://h:1",
                                                                                    "anon": True}
    with pytest.raises(ConfigurationError, match="KEY=VALUE"):
        storage_options_from_pairs(["novalue"])
    with pytest.raises(ConfigurationError):
        open_location("nosuchproto://x/y")
