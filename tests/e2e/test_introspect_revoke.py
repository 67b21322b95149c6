# SPDX-License-Identifier: Apache-2.0
"""RFC 7662 introspection and RFC 7009 revocation (SPEC 4): client authentication required, own
tokens only unless the client holds api://keygate "introspect", revocation takes effect at once."""
from test_password_refresh import password_grant, refresh


def app_token(world, app=None):
    app = app or world.svc
    data = {"grant_type": "client_credentials", "scope": "api://iapm-api/.default"}
    auth = None
    if app["auth_method"] == "client_secret_basic":
        auth = (app["client_id"], app["client_secret"])
    else:
        data.update(client_id=app["client_id"], client_secret=app["client_secret"])
    r = world.kg.post("/contoso/oauth2/v2.0/token", data, auth=auth)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def call(world, endpoint, token, app=None, tenant="contoso"):
    app = app or world.svc
    return world.kg.post(f"/{tenant}/oauth2/v2.0/{endpoint}",
                         {"token": token, "client_id": app["client_id"],
                          "client_secret": app["client_secret"]})


def test_introspect_own_token(world):
    t = app_token(world)
    j = call(world, "introspect", t).json()
    assert j["active"] is True
    assert j["client_id"] == world.svc["client_id"] and j["aud"] == "api://iapm-api"
    assert j["token_type"] == "Bearer" and j["roles"] == ["grids:read"]
    assert j["iss"] == f"{world.kg.url}/{world.tid}/v2.0" and j["exp"] > j["iat"]


def test_introspect_needs_client_auth(world):
    r = world.kg.post("/contoso/oauth2/v2.0/introspect", {"token": app_token(world)})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = world.kg.post("/contoso/oauth2/v2.0/introspect",
                      {"token": app_token(world), "client_id": world.svc["client_id"],
                       "client_secret": "kg_sec_" + "B" * 49})
    assert r.status_code == 401


def test_others_tokens_need_the_introspect_permission(world):
    kg = world.kg
    t = app_token(world, world.basic)
    assert call(world, "introspect", t).json() == {"active": False}
    kg.cli("app", "grant", "--tenant", "contoso", world.svc["client_id"], "--api",
           "api://keygate", "--permission", "introspect")
    assert call(world, "introspect", t).json()["active"] is True  # the server sees it at once


def test_garbage_and_foreign_tokens_are_inactive(world):
    for t in ("garbage", "a.b.c", app_token(world)[:-5] + "AAAAA"):
        assert call(world, "introspect", t).json() == {"active": False}
    # a token of fabrikam presented at contoso is not contoso's
    r = world.kg.post("/fabrikam/oauth2/v2.0/token",
                      {"grant_type": "client_credentials",
                       "client_id": world.foreign["client_id"],
                       "client_secret": world.foreign["client_secret"],
                       "scope": "api://iapm-api/.default"})
    foreign = r.json()["access_token"]
    assert call(world, "introspect", foreign).json() == {"active": False}
    assert call(world, "introspect", foreign, world.foreign, "fabrikam").json()["active"]


def test_revoke_access_token(world):
    t = app_token(world)
    r = call(world, "revoke", t)
    assert r.status_code == 200
    assert call(world, "introspect", t).json() == {"active": False}
    events = world.kg.cli("audit", "list", "--tenant", "contoso")
    assert any(e["action"] == "token.revoked" for e in events)
    # revoking garbage is not an error (RFC 7009 2.2)
    assert call(world, "revoke", "garbage").status_code == 200


def test_revoke_refresh_token_revokes_family(world):
    t = password_grant(world).json()
    r = call(world, "revoke", t["refresh_token"], world.conf_pw)
    assert r.status_code == 200
    assert refresh(world, t["refresh_token"]).json()["error"] == "invalid_grant"
    assert call(world, "introspect", t["access_token"], world.conf_pw).json()["active"] is False


def test_introspect_refresh_token(world):
    t = password_grant(world).json()
    j = call(world, "introspect", t["refresh_token"], world.conf_pw).json()
    assert j["active"] is True and j["token_type"] == "refresh_token"
    assert j["sub"] == world.alice["id"]
    assert call(world, "introspect", t["refresh_token"]).json() == {"active": False}
