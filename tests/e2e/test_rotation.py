# SPDX-License-Identifier: Apache-2.0
"""Signing-key rotation without downtime (SPEC 9, issue 5): a next key is in the JWKS (whose
Cache-Control max-age matches the wait) before it signs; the old key stays published; tokens
keep verifying at /verify while keys rotate under load; and the server's schedule rotates by
itself. Runs with a 1 s JWKS max-age so that it does not take minutes."""
import os
import threading
import time

import jwt as pyjwt
import pytest

from conftest import Keygate, World

IAPM = "api://iapm-api"


def kids(kg):
    return [k["kid"] for k in kg.jwks("contoso")["keys"]]


def token(kg, app):
    r = kg.post("/contoso/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": IAPM + "/.default"})
    assert r.ok, r.text
    return r.json()["access_token"]


def statuses(kg):
    return {k["kid"]: k["status"] for k in kg.cli("signing-key", "list", "--tenant", "contoso")}


@pytest.fixture
def rw(tmp_path):
    os.environ["KEYGATE_JWKS_MAX_AGE"] = "1"  # the CLI's value; the server gets the flag
    kg = Keygate(tmp_path / "data", extra=["--jwks-max-age", "1", "--signing-key-lifetime", "0"])
    w = World(kg)
    kg.cli("api", "route", "add", IAPM, "GET", "/apm/status", "--permission", "grids:read")
    kg.start()
    yield w, kg
    os.environ.pop("KEYGATE_JWKS_MAX_AGE", None)
    kg.stop()


def test_rotation_publishes_first_and_keeps_the_old_key(rw):
    w, kg = rw
    r = kg.get("/contoso/discovery/v2.0/keys")
    assert r.headers["Cache-Control"] == "public, max-age=1"
    (first,) = kids(kg)
    assert statuses(kg) == {first: "active"}
    out = kg.cli("signing-key", "rotate", "--tenant", "contoso")
    assert out["promoted"] is False
    nxt = out["next"]
    assert set(kids(kg)) == {first, nxt}  # published before it signs
    assert pyjwt.get_unverified_header(token(kg, w.svc))["kid"] == first
    # (asked with a longer max-age so that a slow machine cannot make it old enough)
    early = kg.cli_raw("signing-key", "rotate", "--tenant", "contoso", "--jwks-max-age", "60s",
                       "--json")
    assert early.returncode == 1 and "rotate again" in early.stderr
    old_tok = token(kg, w.svc)
    time.sleep(1.2)
    out = kg.cli("signing-key", "rotate", "--tenant", "contoso")
    assert out["promoted"] is True
    st = statuses(kg)
    assert st[first] == "retired" and st[nxt] == "active" and st[out["next"]] == "next"
    assert {first, nxt, out["next"]} <= set(kids(kg))  # the old key stays published
    deadline = time.time() + 10  # nodes re-read the active key within 5 s
    while pyjwt.get_unverified_header(token(kg, w.svc))["kid"] != nxt:
        assert time.time() < deadline, "the new key never signed"
        time.sleep(0.2)
    claims = kg.verify_jwt(old_tok, w.tid, IAPM)  # still verifiable against the JWKS
    assert claims["azp"] == w.svc["client_id"]
    r = kg.get("/verify?api=api%3A%2F%2Fiapm-api", headers={
        "X-Original-URI": "/apm/status", "Authorization": "Bearer " + old_tok})
    assert r.status_code == 200


def test_no_valid_token_refused_while_keys_rotate_twice(rw):
    w, kg = rw
    failures, done, count = [], threading.Event(), [0]

    def load():
        while not done.is_set():
            t = token(kg, w.svc)
            r = kg.get("/verify?api=api%3A%2F%2Fiapm-api", headers={
                "X-Original-URI": "/apm/status", "Authorization": "Bearer " + t})
            count[0] += 1
            if r.status_code != 200:
                failures.append((r.status_code, r.text))
    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        promotions = 0
        while promotions < 2:
            # the first step publishes; later ones promote (a next key is published with each)
            promotions += kg.cli("signing-key", "rotate", "--tenant", "contoso")["promoted"]
            time.sleep(1.2)
            if promotions:
                time.sleep(5)  # past the keyring's re-read: the new key signs under load
    finally:
        done.set()
        for t in threads:
            t.join()
    assert count[0] > 50 and not failures, failures[:3]
    st = statuses(kg)
    assert list(st.values()).count("active") == 1 and list(st.values()).count("retired") == 2


def test_the_schedule_rotates_by_itself(tmp_path):
    kg = Keygate(tmp_path / "data", extra=["--jwks-max-age", "1", "--signing-key-lifetime", "4s"])
    World(kg)
    (first,) = [k["kid"] for k in kg.cli("signing-key", "list", "--tenant", "contoso")]
    kg.start()
    try:
        deadline = time.time() + 20
        while True:
            st = statuses(kg)
            if st.get(first) == "retired":
                break
            assert time.time() < deadline, st
            time.sleep(0.5)
        assert list(st.values()).count("active") == 1
        assert first in kids(kg)
    finally:
        kg.stop()
