"""Batch stamping of a folder: every file stamped once, per-file errors, resume from the journal."""

import io
import json

import numpy as np
from PIL import Image

from artlineage import inspect_file
from artlineage.pipelines.stamp import JOURNAL_NAME, stamp_folder
from artlineage.stamping import StampOptions, read_container_xmp
from artlineage.verdicts import Origin


def _folder(root):
    (root / "sub").mkdir(parents=True)
    for i, (name, fmt) in enumerate([("a.png", "PNG"), ("sub/b.jpg", "JPEG"), ("sub/c.webp", "WEBP")]):
        buf = io.BytesIO()
        Image.fromarray((np.random.default_rng(i).random((40, 48, 3)) * 255).astype("uint8")).save(buf, fmt)
        (root / name).write_bytes(buf.getvalue())
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nshort")
    (root / "notes.txt").write_text("not an image")


def test_folder_into_out_then_resume(tmp_path):
    src, out = tmp_path / "gen", tmp_path / "stamped"
    _folder(src)
    options = StampOptions(generator="Acme Imagine", sign=False)
    seen = []
    first = stamp_folder(src, options, out=out, on_progress=lambda n, total: seen.append((n, total)))
    assert (first.stamped, first.skipped, first.failed) == (3, 0, 1)
    assert first.errors[0]["file"] == "broken.png" and "truncated" in first.errors[0]["error"]
    assert seen[-1] == (4, 4)
    for rel in ("a.png", "sub/b.jpg", "sub/c.webp"):
        assert inspect_file(out / rel, pixels=False).verdict.origin == Origin.AI_GENERATED
        assert read_container_xmp((src / rel).read_bytes()) is None     # sources untouched
    rows = [json.loads(line) for line in (out / JOURNAL_NAME).read_text().splitlines()]
    assert sorted(r["file"] for r in rows if r["status"] == "ok") == ["a.png", "sub/b.jpg", "sub/c.webp"]

    second = stamp_folder(src, options, out=out)
    assert (second.stamped, second.skipped, second.failed) == (0, 3, 1)
    (out / "sub/b.jpg").unlink()                       # an output lost: stamped again
    (src / "a.png").write_bytes((src / "sub/c.webp").read_bytes())   # a source changed: stamped again
    third = stamp_folder(src, options, out=out)
    assert (third.stamped, third.skipped) == (2, 1)


def test_in_place_is_not_stamped_twice(tmp_path):
    _folder(tmp_path)
    (tmp_path / "broken.png").unlink()
    options = StampOptions(generator="Acme Imagine", sign=False)
    assert stamp_folder(tmp_path, options).stamped == 3
    before = (tmp_path / "a.png").read_bytes()
    again = stamp_folder(tmp_path, options)
    assert (again.stamped, again.skipped) == (0, 3) and (tmp_path / "a.png").read_bytes() == before
    assert stamp_folder(tmp_path, options, resume=False).stamped == 3
