# SPDX-License-Identifier: Apache-2.0
"""Client credentials with curl exactly as seeds 000, 002 and 003 send it, MSAL Python,
Authlib and requests-oauthlib; every token verified against the JWKS with PyJWT."""
import base64
import json
import subprocess

import msal
import requests
from authlib.integrations.requests_client import OAuth2Session
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as RoSession


def curl(kg, *args):
    r = subprocess.run(["curl", "-sS", "--cacert", kg.ca, *args], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check_app_token(world, token, roles, client_id=None):
    kg = world.kg
    c = kg.verify_jwt(token, world.tid, "api://iapm-api", typ="at+jwt")
    client_id = client_id or world.svc["client_id"]
    assert c["idtyp"] == "app" and c["ver"] == "2.0"
    assert c["tid"] == world.tid and c["azp"] == client_id and c["client_id"] == client_id
    assert c["sub"] == c["oid"]
    assert sorted(c.get("roles", [])) == sorted(roles)
    assert c["exp"] - c["iat"] == 3600 and c["nbf"] <= c["iat"]
    assert "scp" not in c and c["jti"]
    return c


def test_seed000_curl_post(world):
    kg = world.kg
    t = curl(kg, "-X", "POST", kg.token_url(world.tid),
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "-d", f"client_id={world.svc['client_id']}",
             "-d", f"client_secret={world.svc['client_secret']}",
             "-d", "grant_type=client_credentials",
             "-d", "scope=api://iapm-api/.default")
    assert t["token_type"] == "Bearer" and t["scope"] == "api://iapm-api/.default"
    assert t["expires_in"] == 3600 and t["ext_expires_in"] == 3600
    assert isinstance(t["created_at"], int)
    assert "refresh_token" not in t and "error" not in t
    c = check_app_token(world, t["access_token"], ["grids:read"])
    assert c["sub"] == world.svc["service_principal_id"]


def test_seed002_curl_data_urlencode(world):
    kg = world.kg
    t = curl(kg, "--location", kg.token_url("contoso"),
             "--data-urlencode", "grant_type=client_credentials",
             "--data-urlencode", f"client_id={world.conf_pw['client_id']}",
             "--data-urlencode", f"client_secret={world.conf_pw['client_secret']}",
             "--data-urlencode", "scope=api://iapm-api/.default")
    c = kg.verify_jwt(t["access_token"], world.tid, "api://iapm-api")
    assert c["idtyp"] == "app" and "roles" not in c  # nothing granted: a token with no roles


def test_seed003_basic_and_post_without_scope(world):
    kg = world.kg
    url = f"{kg.url}/auth/{world.tid}/default/oauth2/token"
    basic = world.basic
    t = curl(kg, "-X", "POST", url,
             "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
             "-u", f"{basic['client_id']}:{basic['client_secret']}",
             "--data-urlencode", "grant_type=client_credentials")
    assert t["token_type"] == "Bearer" and t["scope"] == "api://iapm-api/.default"
    check_app_token(world, t["access_token"], ["grids:read", "limits:write"], basic["client_id"])
    t = curl(kg, "-X", "POST", url,
             "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
             "--data-urlencode", "grant_type=client_credentials",
             "--data-urlencode", f"client_id={world.svc['client_id']}",
             "--data-urlencode", f"client_secret={world.svc['client_secret']}")
    check_app_token(world, t["access_token"], ["grids:read"])


def test_msal_confidential_client(world):
    kg = world.kg
    app = msal.ConfidentialClientApplication(
        world.svc["client_id"], client_credential=world.svc["client_secret"],
        authority=f"{kg.url}/contoso", validate_authority=False, verify=kg.ca)
    r = app.acquire_token_for_client(scopes=["api://iapm-api/.default"])
    assert "access_token" in r, r
    check_app_token(world, r["access_token"], ["grids:read"])
    # MSAL 1.21 reads its cache for app tokens through acquire_token_silent(account=None)
    again = app.acquire_token_silent(["api://iapm-api/.default"], account=None)
    assert again and again["access_token"] == r["access_token"], "MSAL did not cache the token"


def test_authlib_client_secret_basic(world):
    kg = world.kg
    s = OAuth2Session(world.basic["client_id"], world.basic["client_secret"],
                      token_endpoint_auth_method="client_secret_basic",
                      scope="api://iapm-api/.default")
    s.verify = kg.ca
    t = s.fetch_token(kg.token_url("contoso"), grant_type="client_credentials")
    check_app_token(world, t["access_token"], ["grids:read", "limits:write"],
                    world.basic["client_id"])


def test_requests_oauthlib_backend_application(world):
    kg = world.kg
    client = BackendApplicationClient(client_id=world.basic["client_id"])
    s = RoSession(client=client)
    t = s.fetch_token(token_url=kg.token_url("contoso"), client_id=world.basic["client_id"],
                      client_secret=world.basic["client_secret"],
                      scope=["api://iapm-api/.default"], verify=kg.ca)
    check_app_token(world, t["access_token"], ["grids:read", "limits:write"],
                    world.basic["client_id"])


def test_basic_percent_encoded_credentials(world):
    """openid-client percent-encodes every byte of Basic credentials (COMPAT)."""
    kg = world.kg
    cid, sec = world.basic["client_id"], world.basic["client_secret"]
    enc = lambda s: "".join(f"%{b:02X}" for b in s.encode())
    h = base64.b64encode(f"{enc(cid)}:{enc(sec)}".encode()).decode()
    r = kg.post("/contoso/oauth2/v2.0/token",
                {"grant_type": "client_credentials", "scope": "api://iapm-api/.default"},
                headers={"Authorization": "Basic " + h})
    assert r.status_code == 200, r.text


def test_correlation_id_echoed(world):
    kg = world.kg
    r = kg.post("/contoso/oauth2/v2.0/token?client-request-id=abc-123",
                {"grant_type": "client_credentials", "client_id": world.svc["client_id"],
                 "client_secret": world.svc["client_secret"],
                 "scope": "api://iapm-api/.default", "x-client-sku": "ignored"})
    assert r.status_code == 200
    assert r.headers["client-request-id"] == "abc-123"
    assert r.headers["Cache-Control"] == "no-store"
    assert "Retry-After" not in r.headers


def test_token_issuance_is_audited(world):
    kg = world.kg
    r = kg.post("/contoso/oauth2/v2.0/token",
                {"grant_type": "client_credentials", "client_id": world.svc["client_id"],
                 "client_secret": world.svc["client_secret"],
                 "scope": "api://iapm-api/.default"})
    jti = requests.utils.unquote(
        json.loads(base64.urlsafe_b64decode(r.json()["access_token"].split(".")[1] + "=="))["jti"])
    events = kg.cli("audit", "list", "--tenant", "contoso")
    issued = [e for e in events if e["action"] == "token.issued" and jti in e["detail"]]
    assert len(issued) == 1
    assert issued[0]["actor_id"] == world.svc["client_id"]
    assert issued[0]["trace_id"] == r.headers["X-Trace-Id"]
