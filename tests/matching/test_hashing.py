import io

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps

from artlineage.matching import hashing
from artlineage.matching.hashing import (HashError, content_box, hamming64, hash_files, hash_image,
                                         hash_image_file, pdq, pdq_from_luma, phash)

from ._images import synthetic_image


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P"])
def test_phash_is_bit_compatible_with_imagehash(mode):
    for seed in range(40):
        im = synthetic_image(seed, (60 + seed, 40 + 2 * seed)).convert(mode)
        assert phash(im) == int(str(imagehash.phash(im)), 16), seed


def _pdq_reference(luma):
    """The reference PDQ order of operations: filter the whole image, then decimate, then DCT."""
    h, w = luma.shape
    x = luma.astype(np.float64)
    for axis, old in ((1, w), (0, h)):
        window = (old + 127) // 128
        if window > 1:
            for _ in range(2):
                x = hashing._box_filter(x, window, axis)
    rows = ((2 * np.arange(64) + 1) * h) // 128
    cols = ((2 * np.arange(64) + 1) * w) // 128
    d = hashing._pdq_dct_matrix()
    c = d @ x[np.ix_(rows, cols)] @ d.T
    return np.packbits(c.ravel() > np.median(c)).tobytes()


def test_pdq_matrix_shortcut_equals_filter_then_decimate():
    rng = np.random.default_rng(3)
    for shape in [(64, 64), (300, 200), (517, 383), (90, 1000)]:
        luma = rng.random(shape) * 255
        assert pdq_from_luma(luma) == _pdq_reference(luma)


def test_box_filter_matches_pdq_edge_rule():
    x = np.arange(10, dtype=float)[None, :]
    out = hashing._box_filter(x, 3, axis=1)[0]
    # window 3 -> half 2: output i averages x[i-1 .. i+1], clipped at the ends
    assert out[0] == pytest.approx(0.5) and out[5] == pytest.approx(5.0) and out[9] == pytest.approx(8.5)


def test_pdq_is_256_bits_and_discriminates():
    a, b = synthetic_image(1, (128, 96)), synthetic_image(2, (128, 96))
    ha, hb = pdq(a), pdq(b)
    assert len(ha) == 32 and sum(bin(x).count("1") for x in ha) == 128   # median threshold: half the bits
    assert hashing.hamming_bytes(ha, hb) == 122  # unrelated images: about half of 256 bits differ


def test_jpeg_draft_path_stays_close_to_full_decode(tmp_path):
    big = synthetic_image(5, (128, 96)).resize((1600, 1200), Image.BICUBIC)
    p = tmp_path / "big.jpg"
    big.save(p, quality=90)
    fast_phash, fast_pdq = hash_image_file(p)
    full_phash, full_pdq = hash_image(Image.open(p).convert("RGB"))
    # the JPEG draft decode (DCT scaling) differs from a full decode + resize by a few bits, exactly these
    assert hamming64(fast_phash, full_phash) == 2
    assert hashing.hamming_bytes(fast_pdq, full_pdq) == 14
    assert hamming64(fast_phash, int(str(imagehash.phash(Image.open(p))), 16)) == 2


def test_hash_files_reports_bad_files_without_stopping(tmp_path):
    good = tmp_path / "a.png"
    synthetic_image(1).save(good)
    bad = tmp_path / "b.png"
    bad.write_bytes(b"\x89PNG not really")
    ph, pq, ok = hash_files([good, bad])
    assert ok.tolist() == [True, False]
    assert int(ph[0]) == hash_image_file(good)[0] and ph[1] == 0
    assert pq.shape == (2, 4) and pq[0].any()
    with pytest.raises(HashError):
        hash_image_file(bad)


def test_content_box_trims_frames_but_not_pictures():
    im = synthetic_image(4, (100, 80))
    framed = ImageOps.expand(im, border=10, fill=(255, 255, 255))
    assert content_box(np.asarray(framed.convert("L"))) == (10, 10, 110, 90)
    assert content_box(np.asarray(im.convert("L"))) == (0, 0, 100, 80)
    assert hash_image(framed) == hash_image(im)
