import numpy as np
from PIL import Image

from artlineage.health.duplicates import (find_near_duplicates, hamming, near_duplicate_pairs, phash64)

from ._images import picture


def test_resized_and_recompressed_copies_cluster_and_distinct_images_do_not(tmp_path):
    paths, hashes = [], []
    for i in range(12):
        img = picture(i, 128)
        p = tmp_path / f"orig{i}.png"
        img.save(p)
        paths.append(str(p))
    for i in (0, 3):  # resized copies of two originals, one also JPEG-recompressed
        small = Image.open(paths[i]).resize((80, 80), Image.Resampling.BILINEAR)
        p = tmp_path / f"copy{i}.jpg"
        small.save(p, quality=75)
        paths.append(str(p))
    big = Image.open(paths[5]).resize((300, 300))
    p = tmp_path / "copy5_big.png"
    big.save(p)
    paths.append(str(p))
    hashes = [phash64(p) for p in paths]
    rep = find_near_duplicates(paths, hashes)
    clusters = sorted(sorted(c) for c in rep.clusters)
    expected = sorted(sorted([paths[i], str(tmp_path / name)]) for i, name in
                      ((0, "copy0.jpg"), (3, "copy3.jpg"), (5, "copy5_big.png")))
    assert clusters == expected
    assert rep.redundant == 3 and abs(rep.duplicate_rate - 3 / 15) < 1e-12


def test_multi_index_search_equals_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2 ** 63, 300, dtype=np.int64).astype(np.uint64)
    near = base[:60] ^ np.array([sum(1 << int(b) for b in rng.choice(64, k, replace=False))
                                 for k in rng.integers(0, 12, 60)], dtype=np.uint64)
    hashes = np.concatenate([base, near, base[:5]])  # also exact duplicates
    for d in (0, 3, 8):
        got = {tuple(p) for p in near_duplicate_pairs(hashes, d).tolist()}
        # Compare connectivity with brute force (exact groups are chained, not all-pairs).
        brute = {(i, j) for i in range(len(hashes)) for j in range(i + 1, len(hashes))
                 if hamming(hashes[i], hashes[j]) <= d}
        assert got <= brute
        names = [str(i) for i in range(len(hashes))]
        from artlineage.health.duplicates import clusters_from_pairs
        a = sorted(clusters_from_pairs(len(hashes), np.array(sorted(got)).reshape(-1, 2)))
        b = sorted(clusters_from_pairs(len(hashes), np.array(sorted(brute)).reshape(-1, 2)))
        assert a == b and names


def test_sha256_groups_join_clusters():
    rep = find_near_duplicates(["a", "b", "c"], [0, 2 ** 64 - 1, 0x0F0F0F0F0F0F0F0F], max_distance=2,
                               sha256=["x", None, "x"])
    assert rep.clusters == [["a", "c"]] and rep.exact_groups == 1


def test_health_hashes_are_matchings_hashes(tmp_path):
    from artlineage.matching.hashing import hash_image_file
    from artlineage.health.duplicates import hash_image
    p = tmp_path / "a.png"
    picture(7, 200).save(p)
    assert hash_image(p) == hash_image_file(p)[0]
    # from the decoded thumbnail health already holds: the same pHash, within a few bits of the file's
    assert hamming(phash64(p), hash_image_file(p)[0]) <= 4
