import numpy as np
import pytest

from artlineage.matching.index import HammingIndex, brute_force_search

rng = np.random.default_rng(11)


def _random_words(n, width):
    return rng.integers(0, 2**63, (n, width), dtype=np.int64).astype(np.uint64) * np.uint64(2) + \
        rng.integers(0, 2, (n, width)).astype(np.uint64)


def _near(words, bits, flips):
    q = words[rng.integers(0, len(words))].copy()
    for j in rng.choice(bits, flips, replace=False):
        q[j // 64] ^= np.uint64(1) << np.uint64(j % 64)
    return q


@pytest.mark.parametrize("bits,distances,expected_nonempty", [(64, [0, 3, 6, 10, 14], 100), (256, [8, 31, 48], 75)])
def test_agrees_exactly_with_brute_force(bits, distances, expected_nonempty):
    n = 60_000  # above the brute-force cut-over, so the MIH tables are used
    words = _random_words(n, bits // 64)
    # Plant near-duplicate clusters so answers are not all empty.
    for i in range(0, 3000, 3):
        words[i + 1] = words[i] ^ np.uint64(0b1011)
        words[i + 2] = words[i] ^ np.uint64(1 << 40)
    ids = np.arange(n, dtype=np.int64) * 7
    idx = HammingIndex(bits)
    idx.add(ids, words)
    idx.merge()
    assert len(idx) == n and idx.delta_size == 0
    nonempty = 0
    for d in distances:
        for _ in range(25):
            q = _near(words, bits, d // 2 + 1)
            got = idx.search(q, d)
            want = brute_force_search(words, ids, q, d, bits)
            assert np.array_equal(got.ids, want.ids) and np.array_equal(got.distances, want.distances)
            nonempty += len(got) > 0
    assert nonempty == expected_nonempty  # the planted clusters are found, so the comparison is not vacuous


def test_persistence_round_trip_and_incremental_add(tmp_path):
    words = _random_words(30_000, 1)[:, 0]
    idx = HammingIndex(64)
    idx.add(np.arange(30_000), words)
    idx.save(tmp_path / "ix")
    loaded = HammingIndex.load(tmp_path / "ix")
    assert isinstance(loaded._base_words, np.memmap) and len(loaded) == 30_000
    q = words[123]
    assert loaded.search(q, 5).pairs() == idx.search(q, 5).pairs() == [(123, 0)]
    # incremental add goes to the delta segment, is searchable at once, and survives a save/load
    new = np.array([q ^ np.uint64(0b111)], dtype=np.uint64)
    loaded.add([99_999], new)
    assert loaded.delta_size == 1
    assert loaded.search(q, 5).pairs() == [(123, 0), (99_999, 3)]
    loaded.save(tmp_path / "ix2")
    again = HammingIndex.load(tmp_path / "ix2", mmap=False)
    assert again.delta_size == 0 and again.search(q, 5).pairs() == [(123, 0), (99_999, 3)]


def test_delta_is_merged_when_large():
    idx = HammingIndex(64)
    idx.add(np.arange(40_000), _random_words(40_000, 1)[:, 0])
    assert idx.delta_size == 40_000          # small: stays a delta
    idx.add(np.arange(40_000, 60_000), _random_words(20_000, 1)[:, 0])
    assert idx.delta_size == 0 and len(idx) == 60_000   # past max(50k, base/8): merged


def test_accepts_digests_and_rejects_mismatches():
    idx = HammingIndex(256)
    d = bytes(range(32))
    idx.add([5], [d])
    assert idx.search(d, 0).pairs() == [(5, 0)]
    with pytest.raises(ValueError):
        idx.add([1, 2], [d])
    with pytest.raises(ValueError):
        HammingIndex(128)


def test_near_pairs_tiled_and_indexed_paths_find_exactly_the_close_pairs():
    from artlineage.matching.index import BRUTE_FORCE_BELOW, near_pairs
    for n in (3000, BRUTE_FORCE_BELOW + 5000):   # tiled popcounts, then the MIH index
        words = _random_words(n, 1)[:, 0]
        planted = set()
        for i in range(0, 600, 2):
            words[i + 1] = words[i] ^ np.uint64(0b10110)   # 3 bits apart
            planted.add((i, i + 1))
        got = near_pairs(words, 4)
        assert {tuple(p) for p in got.tolist()} == planted   # random 64-bit words are ~32 bits apart
        assert (got[:, 0] < got[:, 1]).all()
    w256 = _random_words(500, 4)
    w256[1] = w256[0] ^ np.uint64(1)
    assert near_pairs(w256, 10, bits=256).tolist() == [[0, 1]]
