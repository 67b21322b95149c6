# SPDX-License-Identifier: Apache-2.0
"""OIDC userinfo (OIDC Core 5.3, RFC 6750): GET and POST with a user access token; sub equals
the ID token's sub (COMPAT); every failure is an RFC 6750 challenge."""
from test_introspect_revoke import app_token, call
from test_password_refresh import password_grant

OIDC = "openid profile email offline_access"


def userinfo(world, token=None, method="GET", tenant="contoso", **kw):
    headers = kw.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"/{tenant}/oidc/userinfo"
    if method == "GET":
        return world.kg.get(url, headers=headers, **kw)
    return world.kg.post(url, headers=headers, **kw)


def test_userinfo_get_and_post(world):
    t = password_grant(world, scope=OIDC).json()
    id_claims = world.kg.verify_jwt(t["id_token"], world.tid, world.conf_pw["client_id"])
    for r in (userinfo(world, t["access_token"]),
              userinfo(world, t["access_token"], method="POST"),
              userinfo(world, method="POST", data={"access_token": t["access_token"]})):
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["sub"] == id_claims["sub"] == world.alice["id"]
        assert j["email"] == "alice@contoso.com" and j["name"] == "Alice Example"
        assert j["preferred_username"] == "alice@contoso.com" and j["tid"] == world.tid
        assert r.headers["Cache-Control"] == "no-store"


def test_userinfo_with_api_token(world):
    t = password_grant(world).json()  # api://iapm-api/access_as_user + OIDC scopes
    assert userinfo(world, t["access_token"]).json()["sub"] == world.alice["id"]


def test_userinfo_refusals(world):
    r = userinfo(world)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="keygate"'
    r = userinfo(world, "garbage")
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = userinfo(world, app_token(world))  # an app token has no user
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    t = password_grant(world, scope=OIDC).json()
    r = userinfo(world, t["access_token"], tenant="fabrikam")  # another tenant's token
    assert r.status_code == 401
    r = userinfo(world, t["access_token"], method="POST", data={"access_token": "x"})
    assert r.status_code == 400 and 'error="invalid_request"' in r.headers["WWW-Authenticate"]
    r = userinfo(world, headers={"Authorization": "Basic abc"})
    assert r.status_code == 400
    r = world.kg.post("/contoso/oidc/userinfo", headers={"Authorization": "Bearer " + t["access_token"]})
    assert r.status_code == 200
    r = world.kg.get("/contoso/oidc/userinfo", headers={"Authorization": "Bearer " + t["access_token"]})
    assert r.status_code == 200
    call(world, "revoke", t["access_token"], world.conf_pw)  # revoked: refused at once
    r = userinfo(world, t["access_token"])
    assert r.status_code == 401 and "expired or revoked" in r.headers["WWW-Authenticate"]
    import requests
    r = requests.delete(world.kg.url + "/contoso/oidc/userinfo", verify=world.kg.ca, timeout=10)
    assert r.status_code == 405
