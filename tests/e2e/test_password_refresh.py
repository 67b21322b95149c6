# SPDX-License-Identifier: Apache-2.0
"""The password grant (seed 002) and refresh-token rotation (SPEC 4, seed 001): MSAL Python's
public-client username/password flow on port 443 of a spare loopback address (COMPAT), Authlib,
curl; rotation, the grace window, reuse detection revoking the family, client binding."""
import time

import msal
import pytest
from authlib.integrations.requests_client import OAuth2Session

from conftest import Keygate, World, loopback_443

SCOPE = "api://iapm-api/access_as_user"


def password_grant(world, app=None, scope=SCOPE + " offline_access openid profile email",
                   **extra):
    app = app or world.conf_pw
    data = {"grant_type": "password", "client_id": app["client_id"],
            "username": "alice@contoso.com", "password": world.alice_password, "scope": scope}
    if "client_secret" in app:
        data["client_secret"] = app["client_secret"]
    data.update(extra)
    return world.kg.post("/contoso/oauth2/v2.0/token", data)


def refresh(world, rt, app=None, **extra):
    app = app or world.conf_pw
    data = {"grant_type": "refresh_token", "client_id": app["client_id"], "refresh_token": rt}
    if "client_secret" in app:
        data["client_secret"] = app["client_secret"]
    data.update(extra)
    return world.kg.post("/contoso/oauth2/v2.0/token", data)


def test_seed002_password_grant(world):
    kg = world.kg
    r = password_grant(world, client_info="1")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["scope"] == SCOPE + " offline_access openid profile email"
    assert t["refresh_token"].startswith("kg_rt_") and t["refresh_token_expires_in"] > 0
    at = kg.verify_jwt(t["access_token"], world.tid, "api://iapm-api", typ="at+jwt")
    assert at["idtyp"] == "user" and at["scp"] == "access_as_user"
    assert at["oid"] == world.alice["id"] == at["sub"]
    assert at["preferred_username"] == "alice@contoso.com" and at["name"] == "Alice Example"
    assert at["email"] == "alice@contoso.com" and at["roles"] == ["Owner"]
    idt = kg.verify_jwt(t["id_token"], world.tid, world.conf_pw["client_id"], typ="JWT")
    assert idt["aud"] == world.conf_pw["client_id"] and idt["ver"] == "2.0"
    assert isinstance(idt["auth_time"], int) and "nonce" not in idt
    assert idt["email"] == "alice@contoso.com"
    assert t["client_info"]


def test_username_is_case_insensitive(world):
    r = password_grant(world, username="ALICE@Contoso.COM")
    assert r.status_code == 200, r.text


def test_password_grant_needs_scope_and_permission(world):
    r = password_grant(world, scope=None)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = password_grant(world, app=world.svc)  # svc is not allowed the password grant
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"


def test_wrong_password_and_unknown_user_look_alike(world):
    a = password_grant(world, password="wrong")
    b = password_grant(world, username="nobody@contoso.com")
    assert a.status_code == b.status_code == 400
    ja, jb = a.json(), b.json()
    assert ja["error"] == jb["error"] == "invalid_grant"
    assert ja["error_codes"] == jb["error_codes"]
    assert ja["error_description"].split(" Trace ID")[0] == \
        jb["error_description"].split(" Trace ID")[0]


def test_password_failures_are_throttled(world):
    for _ in range(5):
        assert password_grant(world, password="wrong").json()["error_codes"] == [6000]
    r = password_grant(world)  # the right password is refused while throttled
    assert r.status_code == 400 and r.json()["error_codes"] == [6001]
    events = world.kg.cli("audit", "list", "--tenant", "contoso")
    assert sum(e["action"] == "signin.failed" for e in events) == 5
    assert any(e["action"] == "signin.throttled" for e in events)


def test_refresh_rotation_grace_and_reuse(world):
    kg = world.kg
    t1 = password_grant(world).json()
    r = refresh(world, t1["refresh_token"])
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["refresh_token"] != t1["refresh_token"]
    assert t2["access_token"] != t1["access_token"]
    # the access token issued with the used refresh token is revoked (seed 001)
    intro = introspect(world, t1["access_token"])
    assert intro["active"] is False
    assert introspect(world, t2["access_token"])["active"] is True
    # within the grace window the previous token returns the same new pair
    again = refresh(world, t1["refresh_token"]).json()
    assert again["refresh_token"] == t2["refresh_token"]
    assert again["access_token"] == t2["access_token"]
    # rotate on; now t1 is two generations old: theft. The family dies.
    t3 = refresh(world, t2["refresh_token"]).json()
    r = refresh(world, t1["refresh_token"])
    assert r.status_code == 400
    j = r.json()
    assert j["error"] == "invalid_grant" and j["suberror"] == "bad_token"
    assert j["error_codes"] == [6005]
    r = refresh(world, t3["refresh_token"])
    assert r.status_code == 400 and r.json()["error_codes"] == [6004]
    assert introspect(world, t3["access_token"])["active"] is False
    events = kg.cli("audit", "list", "--tenant", "contoso")
    assert any(e["action"] == "refresh_token.reuse_detected" for e in events)


def test_store_writing_grants_run_on_worker_threads(world):
    """A grant that waits for a write to the main store (its fsync, or a PostgreSQL round trip)
    before its answer is run on a worker thread, so that the wait does not hold the other
    connections an HTTP thread serves; client credentials, which only add an audit event to the
    group commit, stay on the HTTP thread."""
    kg = world.kg

    def offloaded():
        m = kg.get("/metrics").text
        return int(next(l.split()[1] for l in m.splitlines()
                        if l.startswith("keygate_offloaded_requests_total ")))

    n = offloaded()
    t = password_grant(world).json()  # argon2
    assert offloaded() == n + 1
    t = refresh(world, t["refresh_token"]).json()
    assert "access_token" in t and offloaded() == n + 2
    r = kg.post("/contoso/oauth2/v2.0/revoke", {"token": t["refresh_token"],
                                                "client_id": world.conf_pw["client_id"],
                                                "client_secret": world.conf_pw["client_secret"]})
    assert r.status_code == 200 and offloaded() == n + 3
    r = kg.post("/contoso/oauth2/v2.0/token", {
        "grant_type": "client_credentials", "client_id": world.svc["client_id"],
        "client_secret": world.svc["client_secret"], "scope": "api://iapm-api/.default"})
    assert r.status_code == 200 and offloaded() == n + 3


def test_refresh_after_grace_is_reuse(kg):
    world = World(kg)
    kg.extra = ["--refresh-grace", "1"]
    kg.start()
    t1 = password_grant(world).json()
    t2 = refresh(world, t1["refresh_token"]).json()
    time.sleep(2.2)
    r = refresh(world, t1["refresh_token"])
    assert r.json()["error_codes"] == [6005]
    assert refresh(world, t2["refresh_token"]).json()["error_codes"] == [6004]


def test_refresh_is_bound_to_client_and_tenant(world):
    t = password_grant(world).json()
    other = world.conf_pw_basic
    r = world.kg.post("/contoso/oauth2/v2.0/token",
                      {"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      auth=(other["client_id"], other["client_secret"]))
    assert r.status_code == 400 and r.json()["error_codes"] == [6006]
    r = world.kg.post("/fabrikam/oauth2/v2.0/token",
                      {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                       "client_id": world.foreign["client_id"],
                       "client_secret": world.foreign["client_secret"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # still usable by its own client afterwards
    assert refresh(world, t["refresh_token"]).status_code == 200


def test_refresh_scope_cannot_widen(world):
    t = password_grant(world, scope=SCOPE + " offline_access").json()
    r = refresh(world, t["refresh_token"], scope=SCOPE + " offline_access openid")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = refresh(world, t["refresh_token"], scope=SCOPE)
    assert r.status_code == 200 and r.json()["scope"] == SCOPE


def test_malformed_refresh_tokens(world):
    for bad in ("x", "kg_rt_" + "A" * 49, "kg_rt_" + "A" * 43 + "AAAAAA", "ey.x.y"):
        r = refresh(world, bad)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", bad
        assert r.json()["suberror"] == "bad_token"


def test_authlib_password_and_refresh(world):
    kg = world.kg
    app = world.conf_pw_basic
    s = OAuth2Session(app["client_id"], app["client_secret"],
                      token_endpoint_auth_method="client_secret_basic",
                      scope=SCOPE + " offline_access")
    s.verify = kg.ca
    t = s.fetch_token(kg.token_url("contoso"), username="alice@contoso.com",
                      password=world.alice_password)
    t2 = s.refresh_token(kg.token_url("contoso"), refresh_token=t["refresh_token"])
    assert t2["access_token"] != t["access_token"]
    kg.verify_jwt(t2["access_token"], world.tid, "api://iapm-api")


def introspect(world, token):
    r = world.kg.post("/contoso/oauth2/v2.0/introspect",
                      {"token": token, "client_id": world.conf_pw["client_id"],
                       "client_secret": world.conf_pw["client_secret"]})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def kg443(tmp_path):
    host = loopback_443()
    k = Keygate(tmp_path / "data443", host=host, port=443, public_url=f"https://{host}")
    yield k
    k.stop()


def test_msal_public_client_username_password_and_silent_refresh(kg443):
    kg = kg443
    world = World(kg)
    kg.start()
    cache = msal.SerializableTokenCache()
    app = msal.PublicClientApplication(world.pub["client_id"], authority=f"{kg.url}/contoso",
                                       validate_authority=False, verify=kg.ca,
                                       token_cache=cache)
    r = app.acquire_token_by_username_password("alice@contoso.com", world.alice_password,
                                               scopes=[SCOPE])
    assert "access_token" in r, r
    claims = kg.verify_jwt(r["access_token"], world.tid, "api://iapm-api")
    assert claims["preferred_username"] == "alice@contoso.com"
    assert r["id_token_claims"]["oid"] == world.alice["id"]
    accounts = app.get_accounts(username="alice@contoso.com")
    assert len(accounts) == 1
    cached = app.acquire_token_silent([SCOPE], account=accounts[0])
    assert cached["access_token"] == r["access_token"]

    def expire_cached_access_tokens():
        for at in cache._cache.get("AccessToken", {}).values():
            at["expires_on"] = str(int(time.time()) - 10)
            at.pop("refresh_on", None)

    # after expiry MSAL refreshes by itself with the rotating refresh token, twice in a row
    seen = {r["access_token"]}
    for _ in range(2):
        expire_cached_access_tokens()
        refreshed = app.acquire_token_silent([SCOPE], account=accounts[0])
        assert refreshed and "access_token" in refreshed, refreshed
        assert refreshed["access_token"] not in seen
        seen.add(refreshed["access_token"])
        kg.verify_jwt(refreshed["access_token"], world.tid, "api://iapm-api")
    rts = list(cache._cache.get("RefreshToken", {}).values())
    assert len(rts) == 1 and rts[0]["secret"].startswith("kg_rt_")


def offloaded(world):
    m = world.kg.get("/metrics").text
    return int(next(l.split()[1] for l in m.splitlines()
                    if l.startswith("keygate_offloaded_requests_total")))


def test_password_grants_run_on_worker_threads(world):
    """argon2 runs on worker threads, not on the HTTP threads that serve every other request;
    concurrent grants all succeed and other requests keep being served meanwhile."""
    import concurrent.futures
    before = offloaded(world)
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
        grants = [ex.submit(password_grant, world) for _ in range(20)]
        health = [world.kg.get("/healthz").status_code for _ in range(10)]
        results = [g.result() for g in grants]
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert health == [200] * 10
    assert offloaded(world) - before == 20
    assert password_grant(world, client_id="nope").status_code == 401  # failures offload too
    assert offloaded(world) - before == 21
