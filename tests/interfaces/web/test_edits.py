"""Terms dates must be plausible, and an owner can withdraw a mistaken terms entry."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import make_user

TODAY = dt.datetime.now(dt.timezone.utc).date()


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("day", ["9999-12-31", (TODAY + dt.timedelta(days=400)).isoformat(), "1066-10-14",
                                 "0001-01-01"])
def test_implausible_terms_dates_are_refused(client, app, day):
    aid, key = make_user(app, "a@example.org", "Alice Example")
    for url in (f"/v1/artists/{aid}/terms",):
        r = client.post(url, json={"ai_training": "not_allowed", "valid_from": day}, headers=_h(key))
        assert r.status_code == 422, r.text
        assert "valid_from" in r.text
    assert client.get(f"/v1/artists/{aid}/terms").json()["history"] == []


def test_plausible_dates_are_accepted(client, app):
    aid, key = make_user(app, "a@example.org", "Alice Example")
    for day in ("2001-05-01", (TODAY + dt.timedelta(days=30)).isoformat()):
        r = client.post(f"/v1/artists/{aid}/terms", json={"ai_training": "not_allowed", "valid_from": day},
                        headers=_h(key))
        assert r.status_code == 201, r.text


def test_owner_withdraws_a_mistaken_entry_and_can_state_new_terms(client, app):
    aid, key = make_user(app, "a@example.org", "Alice Example")
    first = client.post(f"/v1/artists/{aid}/terms", json={"ai_training": "allowed"}, headers=_h(key)).json()
    later = (TODAY + dt.timedelta(days=300)).isoformat()
    mistake = client.post(f"/v1/artists/{aid}/terms", json={"ai_training": "not_allowed", "valid_from": later},
                          headers=_h(key)).json()
    # Locked: new terms cannot start before the mistaken future entry.
    assert client.post(f"/v1/artists/{aid}/terms", json={"data_mining": "not_allowed"},
                       headers=_h(key)).status_code == 400
    r = client.delete(f"/v1/artists/{aid}/terms/{mistake['id']}", headers=_h(key))
    assert r.status_code == 200 and r.json()["withdrawn"]["id"] == mistake["id"]
    history = client.get(f"/v1/artists/{aid}/terms").json()["history"]
    assert [(t["id"], t["valid_to"]) for t in history] == [(first["id"], None)]  # reopened
    assert client.post(f"/v1/artists/{aid}/terms", json={"data_mining": "not_allowed"},
                       headers=_h(key)).status_code == 201


def test_withdrawing_is_limited_to_the_owners_latest_unsettled_entry(client, app):
    aid, key = make_user(app, "a@example.org", "Alice Example")
    _bid, other = make_user(app, "b@example.org", "Bob Example")
    old = client.post(f"/v1/artists/{aid}/terms", json={"ai_training": "allowed", "valid_from": "2020-01-01"},
                      headers=_h(key)).json()
    new = client.post(f"/v1/artists/{aid}/terms", json={"ai_training": "not_allowed"}, headers=_h(key)).json()
    assert client.delete(f"/v1/artists/{aid}/terms/{new['id']}", headers=_h(other)).status_code == 403
    assert client.delete(f"/v1/artists/{aid}/terms/{old['id']}", headers=_h(key)).status_code == 409  # not latest
    assert client.delete(f"/v1/artists/{aid}/terms/999999", headers=_h(key)).status_code == 404
    # An entry in force for more than a day is part of the record: it is superseded, not withdrawn.
    from artlineage.registry.models import ConsentTerms
    with app.state.platform.session() as s, s.begin():
        s.get(ConsentTerms, new["id"]).created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    r = client.delete(f"/v1/artists/{aid}/terms/{new['id']}", headers=_h(key))
    assert r.status_code == 409 and "new terms" in r.json()["detail"]


def test_work_terms_dates_and_withdrawal(client, app):
    from .conftest import png_bytes
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    card = client.post("/v1/works", headers=_h(key), files={"file": ("a.png", png_bytes(), "image/png")}).json()
    wid = card["work"]["id"]
    assert client.post(f"/v1/works/{wid}/terms", json={"valid_from": "3000-01-01"}, headers=_h(key)).status_code == 422
    t = client.post(f"/v1/works/{wid}/terms", json={"ai_training": "not_allowed"}, headers=_h(key)).json()
    assert client.delete(f"/v1/works/{wid}/terms/{t['id']}", headers=_h(key)).status_code == 200
    assert client.get(f"/v1/works/{wid}/terms").json()["history"] == []
