"""Copy detection (window hashes + ORB/RANSAC verification) on the real photographs scikit-image ships."""

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from artlineage.errors import HashError
from artlineage.matching import copies as cp
from artlineage.matching import copy_index
from artlineage.matching import _local_features as lf
from artlineage.registry.api import Registry

data = pytest.importorskip("skimage.data", reason="scikit-image ships the real test photographs")
needs_cv2 = pytest.mark.skipif(not lf.available(), reason="OpenCV (extra 'copies') not installed")

WORKS = ("astronaut", "coffee", "chelsea", "rocket")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)()).convert("RGB")


@pytest.fixture(scope="module")
def detector():
    works = {i: photo(n) for i, n in enumerate(WORKS)}
    names = dict(enumerate(WORKS))

    class W:
        def __init__(self, i):
            self.work_id, self.artist_id, self.artist, self.title = i, 7, "Ann", names[i]
    return cp.CopyDetector.from_images(works.items(), W)


def _crop(im, fx, fy, px, py):
    w, h = im.size
    cw, ch = int(w * fx), int(h * fy)
    x0, y0 = int((w - cw) * px), int((h - ch) * py)
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def _jpeg(im, q):
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=q)
    return buf.getvalue()


def _text(im):
    im = im.copy()
    d = ImageDraw.Draw(im)
    for i in range(3):
        d.text((8, 8 + 12 * i), "(c) someone else 2024", fill=(255, 255, 255))
    return im


EDITS = {
    "resize+jpeg50": lambda im: _jpeg(im.resize((im.width // 2, im.height // 2)), 50),
    "crop 62% area, corner": lambda im: _crop(im, 0.62, 1.0, 1.0, 0.0),
    "crop 78% sides, off-centre": lambda im: _crop(im, 0.78, 0.78, 0.2, 0.9),
    "centre square 256": lambda im: ImageOps.fit(im, (256, 256)),
    "letterbox": lambda im: ImageOps.pad(im, (im.width, im.width * 9 // 16 + 200), color=(0, 0, 0)),
    "mirror": ImageOps.mirror,
    "rotate 10": lambda im: im.rotate(10, Image.BILINEAR),
    "grey + contrast + text": lambda im: _text(ImageEnhance.Contrast(im.convert("L").convert("RGB")).enhance(0.6)),
}


@needs_cv2
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("work", [0, 2])
def test_edited_copies_are_found_with_their_transform(detector, edit, work):
    found = detector.find_copies(EDITS[edit](photo(WORKS[work])))
    assert [m.work_id for m in found] == [work]
    m = found[0]
    assert m.title == WORKS[work] and m.artist == "Ann" and m.artist_id == 7
    assert m.evidence.method == "orb+ransac" and m.evidence.inliers >= lf.MIN_INLIERS
    assert m.evidence.mirrored is (edit == "mirror")
    # the homography's angle is the edit's: 10 degrees counter-clockwise (PIL), none for the others
    assert m.evidence.rotation_deg == pytest.approx(10.0 if edit == "rotate 10" else 0.0, abs=0.2)
    # coverage against the share of the work each edit keeps, computed here from the edit's geometry
    assert m.evidence.coverage == pytest.approx(_kept_share(edit, photo(WORKS[work])), abs=0.015)
    assert m.score == round(m.evidence.inliers / (m.evidence.inliers + lf.MIN_INLIERS), 4)


def _kept_share(edit, im):
    """The share of the work's area an edit in EDITS leaves in the picture (1.0 for edits that keep it all)."""
    w, h = im.size
    if edit == "crop 62% area, corner":
        return int(w * 0.62) * h / (w * h)
    if edit == "crop 78% sides, off-centre":
        return int(w * 0.78) * int(h * 0.78) / (w * h)
    if edit == "centre square 256":
        return min(w, h) / max(w, h)
    if edit == "rotate 10":  # the rotated frame's corners fall outside the canvas
        return float(np.asarray(Image.new("L", im.size, 255).rotate(10, Image.BILINEAR), dtype=float).mean() / 255)
    return 1.0


@needs_cv2
@pytest.mark.parametrize("name", ["camera", "coins", "page", "moon", "horse", "immunohistochemistry"])
def test_other_photographs_match_nothing(detector, name):
    im = photo(name)
    assert detector.find_copies(im) == []
    assert detector.find_copies(ImageOps.mirror(_crop(im, 0.8, 0.8, 0.5, 0.5))) == []


def test_without_verification_exact_copies_still_match_on_hashes(detector):
    hashes_only = cp.CopyDetector(detector.index, verify=False)
    found = hashes_only.find_copies(ImageOps.mirror(photo("coffee").resize((200, 133))))
    assert [(m.work_id, m.evidence.method, m.evidence.mirrored) for m in found] == [(1, "window-hash", True)]
    assert (found[0].distance, found[0].score) == (0, 1.0)  # score = 1 - distance / 64
    assert hashes_only.find_copies(photo("camera")) == []


def test_windows_cover_fixed_boxes():
    assert len(cp.WINDOWS) == len(cp.window_boxes(300, 200)) == len(set(cp.WINDOWS))
    boxes = dict(zip(cp.WINDOWS, cp.window_boxes(300, 200)))
    assert boxes["full"] == (0, 0, 300, 200)
    assert boxes["square-centre"] == (50, 0, 250, 200)
    assert boxes["0.72x1.00@1.0,0.5"] == (84, 0, 300, 200)
    assert boxes["full@rot+8"] == (0, 0, 300, 200)


@pytest.mark.parametrize("bad", [b"", b"not an image at all", _jpeg(Image.new("RGB", (64, 64)), 90)[:200]])
def test_unreadable_images_raise_hash_error(detector, bad):
    with pytest.raises(HashError):
        detector.find_copies(bad)


def test_decompression_bomb_is_refused(detector, monkeypatch):
    monkeypatch.setattr(cp, "MAX_PIXELS", 100)
    with pytest.raises(HashError, match="exceeds"):
        detector.find_copies(_jpeg(Image.new("RGB", (64, 64)), 90))


def test_index_round_trip(detector, tmp_path):
    detector.index.save(tmp_path / "c")
    loaded = cp.CopyIndex.load(tmp_path / "c")
    assert np.array_equal(loaded.hashes, detector.index.hashes)
    assert np.array_equal(loaded.desc, detector.index.desc)
    again = cp.CopyDetector(loaded, verify=detector.verify)
    assert [m.work_id for m in again.find_copies(ImageOps.mirror(photo("rocket")))] == [3]


def _registry_flow(reg, tmp_path):
    folder = tmp_path / "works"
    folder.mkdir()
    for n in WORKS[:2]:
        photo(n).save(folder / f"{n}.png")
    reg.add_artist("Ann")
    reg.add_work_files("Ann", folder)
    copies_dir = copy_index.default_dir(reg)
    assert (copies_dir / "base" / "meta.json").exists()
    more = tmp_path / "more"
    more.mkdir()
    photo("chelsea").save(more / "chelsea.png")
    reg.add_work_files("Ann", more)
    assert sorted(p.name for p in copies_dir.glob("seg-*")) == ["seg-000001"]   # appended, base kept
    # a work whose file is gone after it was added: indexed when added, so neither failed nor lost
    gone = tmp_path / "gone"
    gone.mkdir()
    photo("rocket").save(gone / "rocket.png")
    (rocket,) = reg.add_work_files("Ann", gone, perceptual=True)
    (gone / "rocket.png").unlink()
    web = reg.add_work(  # registered by URL only: no image to fingerprint, recorded as failed
        "Ann", title="web", location="https://example.org/x.png")
    det = cp.CopyDetector.from_registry(reg)
    failed = json.loads((copies_dir / "failed.json").read_text())
    assert failed == {str(web.id): "no local image file (https://example.org/x.png)"}
    assert det.how == "appended"
    assert [m.work_id for m in det.find_copies(photo("rocket"))] == [rocket.work.id]
    hit = det.find_copies(ImageOps.mirror(_crop(photo("chelsea"), 0.8, 0.8, 0.0, 1.0)))
    assert [(m.title, m.artist) for m in hit] == [("chelsea", "Ann")]
    exact = det.find_copies(photo("astronaut").resize((256, 256)))
    assert [m.title for m in exact] == ["astronaut"]
    again = cp.CopyDetector.from_registry(reg)
    assert again.how == "loaded" and len(again.index) == len(det.index)


@needs_cv2
def test_registry_index_is_persisted_and_incremental_sqlite(tmp_path):
    with Registry(tmp_path / "reg.sqlite") as reg:
        assert copy_index.default_dir(reg) == tmp_path / "reg.sqlite.copies"
        _registry_flow(reg, tmp_path)


@needs_cv2
@pytest.mark.postgres
def test_registry_index_is_persisted_and_incremental_postgres(fresh_postgres_url, tmp_path):
    with Registry(fresh_postgres_url, match_index=tmp_path / "pg.index") as reg:
        assert copy_index.default_dir(reg) == tmp_path / "pg.copies"
        _registry_flow(reg, tmp_path)


def _tar(path, members):
    import tarfile
    with tarfile.open(path, "w") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


@needs_cv2
def test_match_command_finds_crops_in_shards_and_reports_broken_images(tmp_path):
    from typer.testing import CliRunner
    from artlineage.interfaces.cli import app
    works = tmp_path / "works"
    works.mkdir()
    for n in WORKS:
        photo(n).save(works / f"{n}.png")
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        reg.add_artist("Ann")
        reg.add_work_files("Ann", works)
        reg.set_terms("Ann", ai_training="not_allowed")
    shards = tmp_path / "shards"
    shards.mkdir()
    crop = _jpeg(ImageOps.mirror(_crop(photo("chelsea"), 0.7, 0.9, 0.1, 0.5)), 70)
    _tar(shards / "00000.tar", {"a.jpg": crop, "a.json": b"{}", "b.jpg": crop[:300],
                                "c.png": _png(photo("camera"))})
    _tar(shards / "00001.tar", {"d.jpg": _jpeg(EDITS["rotate 10"](photo("rocket")), 80)})
    res = CliRunner().invoke(app, ["match", str(shards), "--registry", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["method"] == "copies" and out["verification"] == "orb+ransac" and out["images"] == 4
    found = {(m["path"].rsplit("/", 1)[-1], m["title"], m["terms"]["ai_training"], m["evidence"]["mirrored"])
             for m in out["matches"]}
    assert found == {("00000.tar#a.jpg", "chelsea", "not_allowed", True), ("00001.tar#d.jpg", "rocket", "not_allowed", False)}
    assert len(out["errors"]) == 1 and out["errors"][0].startswith(f"{shards / '00000.tar'}#b.jpg: ")
    # the same with two worker processes and the plain-hash method for comparison
    res = CliRunner().invoke(app, ["match", str(shards), "--registry", str(db), "--json", "--workers", "2"])
    assert {m["title"] for m in json.loads(res.output)["matches"]} == {"chelsea", "rocket"}
    res = CliRunner().invoke(app, ["match", str(works), "--registry", str(db), "--json", "--method", "hashes"])
    assert sorted(m["title"] for m in json.loads(res.output)["matches"]) == sorted(WORKS)


def _png(im):
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_broken_registered_files_are_recorded_not_fatal(tmp_path):
    folder = tmp_path / "works"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    photo("coffee").save(folder / "coffee.png")
    with Registry(tmp_path / "reg.sqlite") as reg:
        reg.add_artist("Ann")
        added = reg.add_work_files("Ann", folder)
        assert len(added) == 2
        failed = json.loads((copy_index.default_dir(reg) / "failed.json").read_text())
        broken_id = next(a.work.id for a in added if a.work.title == "broken")
        assert list(failed) == [str(broken_id)] and "broken.png" in failed[str(broken_id)]
        det = cp.CopyDetector.from_registry(reg)
        assert det.how == "loaded" and len(det.index) == 1
        assert [m.title for m in det.find_copies(photo("coffee").resize((200, 133)))] == ["coffee"]


def test_work_matcher_find_copies_is_the_global_hash_answer():
    from artlineage.matching.hashing import hash_image
    from artlineage.matching.match import RegisteredWork, WorkMatcher
    works = [RegisteredWork(i, 3, "Bo", *hash_image(photo(n)), title=n) for i, n in enumerate(WORKS)]
    matcher = WorkMatcher(works)
    (m,) = matcher.find_copies(_jpeg(photo("coffee"), 50))
    assert (m.work_id, m.title, m.artist, m.evidence.method, m.evidence.window) == (1, "coffee", "Bo", "phash+pdq", "full")
    assert matcher.find_copies(ImageOps.mirror(photo("coffee"))) == []    # what CopyDetector adds


def _clustered_index(n_works, rng):
    """Window hashes drawn near a few hundred centres (real pHashes cluster), no features."""
    centres = rng.integers(0, 2**63, (300, len(cp.WINDOWS)), dtype=np.int64).astype(np.uint64)
    flips = np.zeros((n_works, len(cp.WINDOWS)), np.uint64)
    for _ in range(10):
        flips ^= np.left_shift(np.uint64(1), rng.integers(0, 64, flips.shape).astype(np.uint64))
    idx = cp.CopyIndex()
    idx.add((1000 + i, cp.WorkFingerprint(h, None)) for i, h in enumerate(centres[rng.integers(0, 300, n_works)] ^ flips))
    return idx


def _brute_force_nearest(hashes, q, k):
    """The ranking nearest() promises, computed the slow way: by best window, then second window."""
    d = np.minimum(np.bitwise_count(hashes ^ q[0]), np.bitwise_count(hashes ^ q[1])).astype(int)
    ds = np.sort(d, axis=1)
    order = np.lexsort((np.arange(len(d)), ds[:, 1], ds[:, 0]))[:k]
    return [(int(r), int(ds[r, 0]), int(ds[r, 1])) for r in order]


@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("use_faiss", [True, False])
def test_window_scan_ranks_by_best_then_second_window(monkeypatch, use_faiss, coarse):
    if use_faiss and lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: the numpy scan is the only one")
    if not use_faiss:
        monkeypatch.setattr(lf, "_FAISS", [None])
    rng = np.random.default_rng(3)
    width = len(cp.COARSE_WINDOWS) if coarse else len(cp.WINDOWS)
    idx = _clustered_index(cp.FAISS_MIN_WINDOWS // width + 100, rng)    # big enough for faiss's scan
    hashes = np.asarray(idx.hashes)[:, list(cp.COARSE_WINDOWS)] if coarse else np.asarray(idx.hashes)
    for t in range(15):
        q = np.asarray(idx.hashes)[rng.integers(0, len(idx))][rng.integers(0, width, 2)]
        q = q ^ np.left_shift(np.uint64(1), rng.integers(0, 64, 2).astype(np.uint64))
        got = idx.nearest(q, 12, coarse=coarse)
        want = _brute_force_nearest(hashes, q, 12)
        assert [(r, d) for r, d, _, _ in got] == [(r, d) for r, d, _ in want]
        for row, d, window, mirrored in got:
            plain = int(np.bitwise_count(hashes[row] ^ q[0]).min())
            mirror = int(np.bitwise_count(hashes[row] ^ q[1]).min())
            assert mirrored == (mirror < plain)
            assert int(np.bitwise_count(hashes[row][window] ^ q[1 if mirrored else 0])) == d


@needs_cv2
def test_descriptor_matching_is_the_same_with_faiss_and_opencv(detector, monkeypatch):
    q = cp._query(photo("chelsea")).features(False)
    w = detector.index.features(2)
    fast = lf.two_nearest(q.desc, w.desc)
    monkeypatch.setattr(lf, "_FAISS", [None])
    slow = lf.two_nearest(q.desc, w.desc)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    unique = fast[0] < fast[1]            # the nearest is unambiguous: both name the same descriptor
    assert unique.sum() > 100 and np.array_equal(fast[2][unique], slow[2][unique])
    # below the caller's minimum of ratio-tested matches no transform is fitted
    other = cp._query(photo("camera")).features(False)
    v = lf.verify(other, w, min_matches=lf.MIN_INLIERS)
    assert v.inliers == 0 and v.matches < lf.MIN_INLIERS


@needs_cv2
def test_a_work_registered_twice_is_found_twice():
    im = photo("coffee")
    det = cp.CopyDetector.from_images([(1, im), (2, im.copy()), (3, photo("rocket"))])
    found = det.find_copies(_crop(im, 0.8, 0.8, 0.3, 0.6))
    assert sorted(m.work_id for m in found) == [1, 2]
    assert found[0].distance == found[1].distance and found[0].evidence.inliers == found[1].evidence.inliers


def test_inverted_file_finds_what_the_scan_finds_and_survives_save_add_load(tmp_path):
    if lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: no inverted file")
    rng = np.random.default_rng(8)
    idx = _clustered_index(3000, rng)
    hashes = np.asarray(idx.hashes).copy()
    queries = [hashes[r][rng.integers(0, len(cp.WINDOWS), 2)] ^ np.uint64(1 << int(rng.integers(0, 64)))
               for r in rng.integers(0, len(idx), 10)]
    exact = [idx.nearest(q, 12) for q in queries]
    idx.build_ivf(lists=32, probes=32)                 # every list visited: the exact answer
    assert idx.ivf.ntotal == len(idx) * len(cp.WINDOWS)
    assert [idx.nearest(q, 12) for q in queries] == exact
    idx.ivf.nprobe = 4                                  # 4 of 32 lists: a 1-bit variant still ranks first
    assert all(idx.nearest(q, 12)[0][:2] == e[0][:2] for q, e in zip(queries, exact))
    new = rng.integers(0, 2**63, len(cp.WINDOWS), dtype=np.int64).astype(np.uint64)
    idx.add([(99, cp.WorkFingerprint(new, None))])      # added works go into the trained lists
    assert idx.nearest(new[[5, 9]], 1)[0][:2] == (len(idx) - 1, 0)
    idx.save(tmp_path / "c")
    loaded = cp.CopyIndex.load(tmp_path / "c")
    assert loaded.ivf is not None and loaded.ivf.ntotal == len(loaded) * len(cp.WINDOWS)
    (tmp_path / "c2").mkdir()
    for f in (tmp_path / "c").iterdir():
        (tmp_path / "c2" / f.name).write_bytes(f.read_bytes()[:100] if f.name == "windows.ivf" else f.read_bytes())
    broken = cp.CopyIndex.load(tmp_path / "c2")      # a truncated inverted file: the exact scan answers
    assert broken.ivf is None and broken.nearest(new[[5, 9]], 1)[0][:2] == (len(idx) - 1, 0)
    assert loaded.nearest(new[[5, 9]], 1)[0][:2] == (len(idx) - 1, 0)
    # a segment appended to a base with an inverted file is searched through it too
    seg = cp.CopyIndex()
    other = new ^ np.uint64(0xFFFF)
    seg.add([(100, cp.WorkFingerprint(other, None))])
    both = copy_index.concat([loaded, seg])
    assert both.ivf.ntotal == len(both) * len(cp.WINDOWS)
    assert both.nearest(other[[0, 1]], 1)[0][:2] == (len(both) - 1, 0)


@needs_cv2
def test_registry_index_gets_an_inverted_file_from_ivf_min_works(tmp_path, monkeypatch):
    if lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: no inverted file")
    monkeypatch.setattr(copy_index, "IVF_MIN_WORKS", 2)
    folder, more = tmp_path / "works", tmp_path / "more"
    folder.mkdir()
    more.mkdir()
    for n in WORKS[:2]:
        photo(n).save(folder / f"{n}.png")
    photo("chelsea").save(more / "chelsea.png")
    with Registry(tmp_path / "reg.sqlite") as reg:
        reg.add_artist("Ann")
        reg.add_work_files("Ann", folder)
        base = copy_index.default_dir(reg) / "base"
        assert (base / "windows.ivf").exists()
        reg.add_work_files("Ann", more)            # a segment: searched through the base's lists
        det = cp.CopyDetector.from_registry(reg)
        # with features the visual words rank crops: the file holds the coarse windows only
        assert det.how == "loaded" and det.index.ivf.ntotal == 3 * len(cp.COARSE_WINDOWS)
        assert det.index.ivf_windows == cp.COARSE_WINDOWS
        hit = det.find_copies(ImageOps.mirror(_crop(photo("chelsea"), 0.8, 0.8, 0.0, 1.0)))
        assert [m.title for m in hit] == ["chelsea"]


def test_an_index_with_an_inverted_file_pickles_for_worker_processes():
    import pickle
    if lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: no inverted file")
    idx = _clustered_index(400, np.random.default_rng(4))
    idx.build_ivf(lists=4, probes=4)
    again = pickle.loads(pickle.dumps(idx))
    q = np.asarray(idx.hashes)[17][[3, 8]]
    assert again.ivf.ntotal == idx.ivf.ntotal == 400 * len(cp.WINDOWS) and again.ivf.nprobe == 4
    assert again.nearest(q, 5) == idx.nearest(q, 5) and again.nearest(q, 1)[0][:2] == (17, 0)


def test_an_inverted_file_visiting_few_lists_returns_what_it_found():
    if lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: no inverted file")
    idx = _clustered_index(300, np.random.default_rng(6))
    idx.build_ivf(lists=256, probes=1)          # ~66 windows per list, one list per query hash
    q = np.asarray(idx.hashes)[5][[0, 1]]
    found = idx.nearest(q, 300)
    assert 0 < len(found) < 150 and found[0][:2] == (5, 0)


@needs_cv2
@pytest.mark.parametrize("scale", [0.3, 0.25])
def test_a_small_thumbnail_is_found_though_its_enlarged_features_are_blurred(detector, scale):
    im = photo("coffee")
    thumb = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    q = cp._query(thumb)
    row, dist, _window, mirrored = detector.index.nearest(q.hashes, 1)[0]
    v = lf.verify(q.features(mirrored), detector.index.features(row), detector.min_inliers)
    # the case the near-hash rule is for: the window hash is the work's own; the blurred fit needs only 70 %
    assert dist <= cp.NEAR_DISTANCE and cp.NEAR_INLIER_RATIO * v.matches <= v.inliers
    found = detector.find_copies(thumb)
    assert [(m.work_id, m.evidence.method) for m in found] == [(1, "orb+ransac")]


@needs_cv2
def test_a_neighbouring_stereo_frame_is_not_a_copy_even_small():
    left, right, _ = data.stereo_motorcycle()
    det = cp.CopyDetector.from_images([(1, Image.fromarray(left))])
    frame = Image.fromarray(right)
    for q in (frame, frame.resize((160, 110))):
        row, dist, _w, mirrored = det.index.nearest(cp._query(q).hashes, 1)[0]
        assert dist > cp.NEAR_DISTANCE  # same scene, another photograph: 4 bits away
        assert det.find_copies(q) == []


@needs_cv2
def test_a_mirrored_crop_of_an_image_symmetric_about_its_horizontal_axis_is_found_mirrored():
    # In the wrong orientation the Mandelbrot set fits as well, turned 180 degrees: that fit fails the
    # rotation check and must not hide the mirrored one (the README's example).
    work = Image.effect_mandelbrot((320, 240), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    det = cp.CopyDetector.from_images([(1, work)])
    q = cp._query(ImageOps.mirror(work.crop((40, 20, 300, 230))))
    wrong = lf.verify(q.features(False), det.index.features(0), lf.MIN_INLIERS)
    assert wrong.inliers >= lf.MIN_INLIERS and abs(wrong.rotation_deg) == pytest.approx(180, abs=1)
    (m,) = det.find_copies(ImageOps.mirror(work.crop((40, 20, 300, 230))))
    assert m.work_id == 1 and m.evidence.mirrored and abs(m.evidence.rotation_deg) < 1
    assert m.evidence.coverage == pytest.approx(260 * 210 / (320 * 240), abs=0.02)
