"""The platform's copy index folder: persisted next to the database, incremental (a new upload is one
new segment, a restart loads without fingerprinting), deleted works tombstoned (also when SQLite
reuses the id), registry works with a file location included, URL works matched on their pHash/PDQ,
and a stale or corrupt folder rebuilt rather than failing a request. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from .conftest import make_user
from .test_similar import centre_crop, jpeg, photo, png

pytest.importorskip("skimage.data")


@pytest.fixture
def counted(monkeypatch):
    """Counts fingerprints made (what the index must not redo on a restart)."""
    from artlineage.matching import copies
    made = []
    real = copies.fingerprint

    def fingerprint(image):
        made.append(str(image))
        return real(image)
    monkeypatch.setattr(copies, "fingerprint", fingerprint)
    return made


def _app(db, tmp_path):
    from artlineage.interfaces.web import create_app
    return create_app(db, tmp_path / "media", secret_key="k", pixels=False, prewarm=False)


def _upload(client, key, name, title):
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": (f"{name}.png", png(photo(name)), "image/png")}, data={"title": title})
    assert r.status_code == 201, r.text
    return r.json()["work"]["id"]


def _found(app, image) -> list[int]:
    platform = app.state.platform
    with platform.session() as s:
        return [m.work_id for m in platform.similar_works(s, jpeg(image))]


def _flow(db, tmp_path, counted, copies_dir):
    from fastapi.testclient import TestClient
    app = _app(db, tmp_path)
    assert app.state.platform.copies_dir == copies_dir
    _aid, key = make_user(app, "o@example.org", "Olga Original")
    with TestClient(app) as client:
        astro = _upload(client, key, "astronaut", "Astronaut")
        coffee = _upload(client, key, "coffee", "Coffee")
        assert _found(app, centre_crop(photo("astronaut"))) == [astro]
        index = app.state.platform.copy_index()
        assert (index.how, len(counted)) == ("built", 2)
        # each upload's own copy check brought the index up to date first: one segment per new work
        assert [p.name[:10] for p in sorted(copies_dir.iterdir())] == ["meta.json", "seg-000001", "seg-000002"]
        assert [json.loads((_seg(copies_dir, n) / "keys.json").read_text()) for n in (1, 2)] == [
            [_sha(app, astro)], [_sha(app, coffee)]]
        # a new upload: one more segment with that work alone, nothing else fingerprinted again
        camera = _upload(client, key, "camera", "Camera")
        assert _found(app, photo("camera").transpose(0)) == [camera]  # mirrored
        assert len(counted) == 3 and json.loads((_seg(copies_dir, 3) / "keys.json").read_text()) == [
            _sha(app, camera)]
        # a deleted work is gone at once and tombstoned on disk
        assert client.delete(f"/v1/works/{coffee}", headers={"Authorization": f"Bearer {key}"}).status_code == 204
        assert _found(app, centre_crop(photo("coffee"))) == []
        assert json.loads((copies_dir / "tombstones.json").read_text()) == [[coffee, _sha_of(photo("coffee"))]]
    app.state.platform.engine.dispose()
    # a restart loads the folder: nothing fingerprinted, the deleted work stays deleted
    again = _app(db, tmp_path)
    assert _found(again, centre_crop(photo("astronaut"))) == [astro]
    assert _found(again, centre_crop(photo("coffee"))) == []
    assert (again.state.platform.copy_index().how, len(counted)) == ("loaded", 3)
    again.state.platform.engine.dispose()
    return astro, camera


def _seg(copies_dir, n):
    [seg] = copies_dir.glob(f"seg-{n:06d}-*")
    return seg


def _sha(app, work_id):
    from artlineage.registry.models import Work
    with app.state.platform.session() as s:
        return s.get(Work, work_id).sha256


def _sha_of(im):
    import hashlib
    return hashlib.sha256(png(im)).hexdigest()


def test_sqlite_index_next_to_the_database_is_incremental(tmp_path, counted):
    astro, _camera = _flow(tmp_path / "p.sqlite", tmp_path, counted, tmp_path / "p.copies")
    # a corrupt folder is rebuilt from the database on the next start, never a failed request
    (_seg(tmp_path / "p.copies", 1) / "hashes.npy").write_bytes(b"garbage")
    app = _app(tmp_path / "p.sqlite", tmp_path)
    assert _found(app, centre_crop(photo("astronaut"))) == [astro]
    how = app.state.platform.copy_index().how
    assert how.startswith("rebuilt (unreadable (") and len(counted) == 3 + 2
    # a folder of another format (or window set) is stale: rebuilt too
    meta = tmp_path / "p.copies" / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "format": 0}))
    app2 = _app(tmp_path / "p.sqlite", tmp_path)
    assert _found(app2, centre_crop(photo("astronaut"))) == [astro]
    assert app2.state.platform.copy_index().how == "rebuilt (other format or window set)"


@pytest.mark.postgres
def test_postgres_index_in_the_media_folder_is_incremental(fresh_postgres_url, tmp_path, counted):
    _flow(fresh_postgres_url, tmp_path, counted, tmp_path / "media" / "copies")


def test_a_reused_sqlite_id_never_inherits_the_deleted_works_fingerprint(tmp_path):
    from fastapi.testclient import TestClient
    app = _app(tmp_path / "p.sqlite", tmp_path)
    _aid, key = make_user(app, "o@example.org", "Olga Original")
    with TestClient(app) as client:
        _upload(client, key, "astronaut", "Astronaut")
        coffee = _upload(client, key, "coffee", "Coffee")
        assert _found(app, centre_crop(photo("coffee"))) == [coffee]
        client.delete(f"/v1/works/{coffee}", headers={"Authorization": f"Bearer {key}"})
        camera = _upload(client, key, "camera", "Camera")
        assert camera == coffee  # SQLite hands the highest id out again
        assert _found(app, centre_crop(photo("coffee"))) == []
        assert _found(app, centre_crop(photo("camera"))) == [camera]


def test_registry_works_with_files_are_included_and_urls_match_on_their_hashes(tmp_path):
    from artlineage.matching.hashing import hash_image_file
    from artlineage.registry import Registry
    app = _app(tmp_path / "p.sqlite", tmp_path)
    platform = app.state.platform
    photo("astronaut").save(tmp_path / "astronaut.png")
    photo("coffee").save(tmp_path / "coffee.png")
    with platform.session() as s, s.begin():
        reg = Registry.in_session(s)
        artist = reg.add_artist("Reg Istry")
        on_disk = reg.add_work(artist.id, title="On disk", location=str(tmp_path / "astronaut.png"))
        on_web = reg.add_work(artist.id, title="On the web", location="https://example.org/coffee.png")
        phash, pdq = hash_image_file(str(tmp_path / "coffee.png"))
        reg.set_work_hashes(on_web.id, phash64=phash, pdq256=pdq)
        ids = on_disk.id, on_web.id
    with platform.session() as s:
        crop = platform.find_similar(s, jpeg(centre_crop(photo("astronaut"))))
        assert [(m.work_id, m.method) for m in crop.matches] == [(ids[0], "orb+ransac")]
        assert (crop.index.works, crop.index.without_image) == (1, 1)
        # the URL work has no image here: its stored pHash/PDQ still finds a resized copy, said so
        resized = platform.find_similar(s, jpeg(photo("coffee").resize((300, 200))))
        assert [(m.work_id, m.method) for m in resized.matches] == [(ids[1], "phash+pdq")]
        assert resized.matches[0].explanation.startswith("The whole picture's hash differs in ")
    failed = json.loads((tmp_path / "p.copies" / "failed.json").read_text())
    assert failed == {str(ids[1]): ["https://example.org/coffee.png",
                                    "no local image file (https://example.org/coffee.png)"]}


def test_the_server_opens_the_copy_index_at_start_up(tmp_path, counted):
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False)
    _aid, key = make_user(app, "o@example.org", "Olga Original")
    with TestClient(app) as client:
        astro = _upload(client, key, "astronaut", "Astronaut")
        assert _found(app, centre_crop(photo("astronaut"))) == [astro]
    counted.clear()
    again = create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False)
    with TestClient(again):  # the lifespan pre-warm opened it: loaded, nothing fingerprinted, before any request
        index = again.state.platform._similar
        assert (index.how, sorted(index.indexed), counted) == ("loaded", [astro], [])


def test_two_workers_share_the_folder_and_take_each_others_rows(tmp_path, counted, monkeypatch):
    """Two platform processes on one database and folder (as ``serve --workers 2``): each takes the
    rows the other wrote instead of fingerprinting again, also after the other folded the segments."""
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import copy_store
    monkeypatch.setattr(copy_store, "MAX_SEGMENTS", 2)
    a, b = _app(tmp_path / "p.sqlite", tmp_path), _app(tmp_path / "p.sqlite", tmp_path)
    _aid, key = make_user(a, "o@example.org", "Olga Original")
    with TestClient(a) as client:
        ids = {}
        for name in ("astronaut", "coffee", "camera", "chelsea"):  # four segments: folded at the third
            ids[name] = _upload(client, key, name, name)
            assert _found(a, centre_crop(photo(name))) == [ids[name]]
            if name == "astronaut":
                assert _found(b, centre_crop(photo(name))) == [ids[name]]  # b opens: loads a's segment
    assert len(counted) == 4  # every work fingerprinted once, by a
    assert [p.name[:10] for p in sorted((tmp_path / "p.copies").iterdir())] == ["base", "meta.json", "seg-000001", "tombstones"]
    for name in ("coffee", "chelsea"):  # b rereads the folded base and a's new segment
        assert _found(b, centre_crop(photo(name))) == [ids[name]]
    assert len(counted) == 4 and b.state.platform.copy_index().how == "loaded"


def test_works_not_fingerprinted_yet_match_on_their_hashes_meanwhile(tmp_path, monkeypatch):
    """A cold index fingerprints at most MAX_PER_SYNC works per request; the rest are "pending" and
    still match on their stored pHash/PDQ, and the answer counts them."""
    from artlineage.interfaces.web import copy_store
    from artlineage.matching.hashing import hash_image_file
    from artlineage.registry import Registry
    monkeypatch.setattr(copy_store, "MAX_PER_SYNC", 1)
    app = _app(tmp_path / "p.sqlite", tmp_path)
    platform = app.state.platform
    ids = []
    with platform.session() as s, s.begin():
        reg = Registry.in_session(s)
        artist = reg.add_artist("Reg Istry")
        for name in ("astronaut", "coffee"):
            photo(name).save(tmp_path / f"{name}.png")
            work = reg.add_work(artist.id, title=name, location=str(tmp_path / f"{name}.png"))
            phash, pdq = hash_image_file(str(tmp_path / f"{name}.png"))
            reg.set_work_hashes(work.id, phash64=phash, pdq256=pdq)
            ids.append(work.id)
    resized = jpeg(photo("coffee").resize((300, 200)))
    with platform.session() as s:
        first = platform.find_similar(s, resized)
        assert (first.index.works, first.index.pending) == (1, 1)
        assert [(m.work_id, m.method) for m in first.matches] == [(ids[1], "phash+pdq")]
        page = platform.find_similar(s, jpeg(centre_crop(photo("coffee"))))  # this request fingerprints it
        assert (page.index.works, page.index.pending) == (2, 0)
        assert [(m.work_id, m.method) for m in platform.find_similar(s, resized).matches][0] == (ids[1], "orb+ransac")
