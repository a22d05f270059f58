import io
import json
import sys
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from artlineage.datasets.manifest import ROW_ID, open_manifest, read_local_image, write_parquet_atomic


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    return buf.getvalue()


def test_parquet_and_csv_shards_are_stable(tmp_path):
    pq.write_table(pa.table({"url": [f"http://h/{i}" for i in range(25)], "extra": list(range(25))}), tmp_path / "m.parquet")
    shards = list(open_manifest(tmp_path / "m.parquet").iter_shards(10))
    assert [t.num_rows for t in shards] == [10, 10, 5]
    assert shards[2][ROW_ID].to_pylist() == list(range(20, 25)) and "extra" in shards[0].column_names
    (tmp_path / "m.csv").write_text("url,caption\n" + "".join(f"http://h/{i},c{i}\n" for i in range(7)))
    t = list(open_manifest(tmp_path / "m.csv").iter_shards(4))
    assert [x.num_rows for x in t] == [4, 3] and t[1]["caption"].to_pylist() == ["c4", "c5", "c6"]


def test_folder_and_webdataset(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(_png())
    rows = list(open_manifest(tmp_path / "imgs").iter_shards(10))[0].to_pylist()
    assert rows[0]["path"].endswith("a.png") and read_local_image(rows[0], 10**6) == _png()
    with tarfile.open(tmp_path / "00000.tar", "w") as tar:
        for name, data in [("000.jpg", _png()), ("000.json", json.dumps({"url": "http://h/0", "caption": "x"}).encode()),
                           ("001.png", _png()), ("001.txt", b"cap")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    m = open_manifest(tmp_path / "00000.tar")
    rows = list(m.iter_shards(10))[0].to_pylist()
    assert [(r["key"], r["url"], r["caption"]) for r in rows] == [("000", "http://h/0", "x"), ("001", None, "cap")]
    assert read_local_image(rows[1], 10**6) == _png()


def test_atomic_write_leaves_no_temp(tmp_path):
    write_parquet_atomic(pa.table({"a": [1]}), tmp_path / "x.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]


def test_filter_reports_progress_in_rows_against_the_parquet_row_count(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from artlineage.pipelines.consent_filter import FilterConfig, filter_manifest

    # Local paths that do not exist: no fetching, each row is decided (and kept) without signals.
    pq.write_table(pa.table({"url": [None] * 25, "path": [str(tmp_path / f"missing{i}.png") for i in range(25)]}),
                   tmp_path / "m.parquet")
    calls = []
    summary = filter_manifest(tmp_path / "m.parquet", tmp_path / "out", FilterConfig(shard_size=10),
                              progress=lambda rows, total: calls.append((rows, total)))
    assert summary.input_rows == 25 and summary.shards == 3
    assert calls == [(10, 25), (20, 25), (25, 25)]
