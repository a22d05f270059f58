"""The registry's persisted match index: written by `work add`, appended to, loaded by match, rebuilt when stale."""

import numpy as np
import pytest

from artlineage.matching import work_index
from artlineage.matching.hashing import hash_image, pdq_to_words
from artlineage.matching.match import WorkMatcher
from artlineage.registry.api import Registry

from ._images import synthetic_image, variants


def _save(folder, seeds):
    folder.mkdir()
    for s in seeds:
        synthetic_image(s, (128, 96)).save(folder / f"w{s}.png")
    return folder


def _found(matcher, seed, edit="jpeg60"):
    ph, pq = hash_image(variants(synthetic_image(seed, (128, 96)))[edit])
    return [(w.work_id, w.title) for w, _, _ in matcher.lookup(ph, pdq_to_words(pq))]


def test_work_add_updates_the_index_on_disk_and_match_loads_it(tmp_path, monkeypatch):
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        assert reg.match_index_dir == tmp_path / "reg.sqlite.index"
        reg.add_artist("Jane Painter", living=True)
        reg.add_work_files("Jane Painter", _save(tmp_path / "a", range(3)))
        meta = work_index.read_meta(reg.match_index_dir)
        assert meta["base_rows"] == 3 and meta["segments"] == [] and meta["registry"] == [3, 3]
        added = reg.add_work_files("Jane Painter", _save(tmp_path / "b", [10, 11]))
        meta = work_index.read_meta(reg.match_index_dir)
        # appended as a segment: the base was not rewritten
        assert meta["base_rows"] == 3 and meta["segments"] == ["seg-000001.npz"] and meta["registry"] == [5, 5]
        # match loads the index from disk: reading every work's hashes (a rebuild) would fail here
        monkeypatch.setattr(Registry, "works_with_hashes", lambda self: pytest.fail("index was rebuilt"))
        matcher = WorkMatcher.from_registry(reg)
        assert matcher.how == "loaded" and len(matcher) == 5
        assert _found(matcher, 11) == [(added[1].work.id, "w11")]
        assert _found(matcher, 1, "border10") == [(2, "w1")]
        assert _found(matcher, 999) == []


def test_stale_or_damaged_index_is_rebuilt(tmp_path):
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        reg.add_artist("Jane Painter")
        reg.add_work_files("Jane Painter", _save(tmp_path / "a", range(3)))
        # a work added without going through add_work_files: the index does not know it
        ph, pq = hash_image(synthetic_image(50, (128, 96)))
        w = reg.add_work("Jane Painter", title="direct", phash64=ph, pdq256=pq)
        matcher = WorkMatcher.from_registry(reg)
        assert matcher.how == "rebuilt" and _found(matcher, 50) == [(w.id, "direct")]
        assert WorkMatcher.from_registry(reg).how == "loaded"
        # a hash changed in place invalidates the index
        reg.set_work_hashes(w.id, phash64=ph ^ 0xFFFF_0000_FFFF)
        assert work_index.read_meta(reg.match_index_dir) is None
        assert WorkMatcher.from_registry(reg).how == "rebuilt"
        # the next add after a stale state rebuilds rather than appends
        (reg.match_index_dir / "meta.json").unlink()
        reg.add_work_files("Jane Painter", _save(tmp_path / "b", [60]))
        meta = work_index.read_meta(reg.match_index_dir)
        assert meta["segments"] == [] and meta["base_rows"] == 5


def test_segments_are_compacted(tmp_path, monkeypatch):
    monkeypatch.setattr(work_index, "MAX_SEGMENTS", 2)
    with Registry(tmp_path / "reg.sqlite") as reg:
        reg.add_artist("A")
        for k in range(4):
            reg.add_work_files("A", _save(tmp_path / f"f{k}", [100 + k]))
        meta = work_index.read_meta(reg.match_index_dir)
        assert meta["base_rows"] == 4 and meta["segments"] == [] and meta["registry"] == [4, 4]   # 3rd segment: compacted
        idx, _ = work_index.WorkIndex.load(reg.match_index_dir)
        assert len(idx) == 4 and sorted(idx.rows().work_ids.tolist()) == [1, 2, 3, 4]


def test_in_memory_registry_has_no_index_folder(tmp_path):
    with Registry("sqlite://") as reg:
        assert reg.match_index_dir is None
        reg.add_artist("A")
        reg.add_work_files("A", _save(tmp_path / "a", [1]))
        matcher = WorkMatcher.from_registry(reg)
        assert matcher.how == "built" and len(matcher) == 1


def test_work_index_lookup_agrees_with_rows():
    rows = work_index.WorkRows.from_hashes([(5, 1, 0b1111, None), (2, None, 0, "00" * 32), (9, 3, None, None)])
    idx = work_index.WorkIndex(rows)
    assert len(idx) == 2 and idx.artist_id(2) is None and idx.artist_id(5) == 1
    assert idx.lookup(0, np.zeros(4, np.uint64), 4, 0.5, 2) == [(2, 0, 0)]   # 5 is 4 bits away, without PDQ: > 2
    assert idx.lookup(0, None, 4, 0.5, 4) == [(2, 0, None), (5, 4, None)]
