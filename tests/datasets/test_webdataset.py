"""WebDataset tar reading (grouping, bounds, damage) and writing (deterministic bytes)."""

import io
import tarfile

import pytest

from artlineage.datasets.webdataset import ShardWriter, iter_samples, split_member_name


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_members_group_into_samples_by_key():
    data = _tar([("a/001.jpg", b"J1"), ("a/001.json", b"{}"), ("a/001.txt", b"cap"), ("a/002.png", b"P2"),
                 ("a/002.seg.png", b"S2"), ("003.txt", b"no image")])
    samples = list(iter_samples(io.BytesIO(data)))
    assert [(s.key, list(s.fields), s.image_field) for s in samples] == [
        ("a/001", ["jpg", "json", "txt"], "jpg"), ("a/002", ["png", "seg.png"], "png"), ("003", ["txt"], None)]
    assert split_member_name("x/.hidden") is None and split_member_name("x/y.tar.gz") == ("x/y", "tar.gz")


def test_oversized_member_is_named_not_loaded_and_truncated_tar_keeps_what_came_before():
    data = _tar([("001.jpg", b"x" * 100), ("002.jpg", b"ok"), ("003.jpg", b"y" * 5000)])
    samples = list(iter_samples(io.BytesIO(data), max_member_bytes=50))
    assert samples[0].fields == {} and "above the 50 limit" in samples[0].errors[0]
    assert samples[1].fields == {"jpg": b"ok"}
    cut = list(iter_samples(io.BytesIO(data[:2048 + 1024]), max_member_bytes=10_000))
    assert cut[1].fields == {"jpg": b"ok"} and "damaged" in cut[-1].errors[-1]
    with pytest.raises(ValueError, match="not a tar"):
        list(iter_samples(io.BytesIO(b"\x00garbage" * 10)))


def test_writer_round_trips_and_is_deterministic(tmp_path):
    for name in ("a.tar", "b.tar"):
        with ShardWriter(tmp_path / name) as w:
            w.write("k1", {"jpg": b"J", "json": b'{"u": 1}'})
            w.write("k2", {"png": b"P"})
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    with open(tmp_path / "a.tar", "rb") as fh:
        got = [(s.key, s.fields) for s in iter_samples(fh)]
    assert got == [("k1", {"jpg": b"J", "json": b'{"u": 1}'}), ("k2", {"png": b"P"})]
