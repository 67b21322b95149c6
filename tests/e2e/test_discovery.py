# SPDX-License-Identifier: Apache-2.0
"""Discovery documents, JWKS and the small lookups (SPEC 3, COMPAT "URLs" and "Discovery")."""
import time
import urllib.parse


REQUIRED = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
            "device_authorization_endpoint", "scopes_supported",
            "code_challenge_methods_supported", "userinfo_endpoint", "end_session_endpoint",
            "response_modes_supported", "token_endpoint_auth_methods_supported",
            "grant_types_supported", "id_token_signing_alg_values_supported",
            "subject_types_supported", "response_types_supported", "introspection_endpoint",
            "revocation_endpoint"]


def test_discovery_every_path_and_alias(world):
    kg, tid = world.kg, world.tid
    docs = []
    for alias in (tid, "contoso", "CONTOSO"):
        for path in (f"/{alias}/v2.0/.well-known/openid-configuration",
                     f"/{alias}/.well-known/openid-configuration",
                     f"/auth/{alias}/default/.well-known/openid-configuration"):
            r = kg.get(path)
            assert r.status_code == 200, path
            assert r.headers["Content-Type"] == "application/json"
            docs.append(r.json())
    for d in docs:
        assert d == docs[0]
    d = docs[0]
    for k in REQUIRED:
        assert k in d, k
    assert d["issuer"] == f"{kg.url}/{tid}/v2.0"
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert "form_post" in d["response_modes_supported"]
    assert d["token_endpoint"] == f"{kg.url}/{tid}/oauth2/v2.0/token"
    assert d["device_authorization_endpoint"] == f"{kg.url}/{tid}/oauth2/v2.0/devicecode"
    for k in ("client_credentials", "password", "refresh_token"):
        assert k in d["grant_types_supported"]


def test_discovery_ignores_host_header(world):
    kg = world.kg
    d = kg.get("/contoso/v2.0/.well-known/openid-configuration",
               headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}).json()
    assert "evil" not in str(d)


def test_jwks(world):
    kg = world.kg
    keys = kg.jwks("contoso")["keys"]
    assert len(keys) == 1
    k = keys[0]
    for f in ("kty", "use", "kid", "alg", "n", "e"):
        assert f in k
    assert k["use"] == "sig" and k["alg"] == "RS256" and k["kty"] == "RSA"
    assert "d" not in k and "p" not in k, "private key material in the JWKS"
    r = kg.get(f"/{world.tid}/discovery/v2.0/keys")
    assert r.json()["keys"] == keys
    assert "max-age" in r.headers["Cache-Control"]
    other = kg.jwks("fabrikam")["keys"]
    assert other[0]["kid"] != k["kid"], "tenants share a signing key"


def test_es256_tenant(kg):
    kg.cli("tenant", "create", "eccorp", "--signing-alg", "ES256")
    kg.cli("api", "create", "api://ec")
    app = kg.cli("app", "create", "--tenant", "eccorp", "svc")
    kg.start()
    k = kg.jwks("eccorp")["keys"][0]
    assert k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256"
    r = kg.post("/eccorp/oauth2/v2.0/token", {"grant_type": "client_credentials",
                "client_id": app["client_id"], "client_secret": app["client_secret"],
                "scope": "api://ec/.default"})
    assert r.status_code == 200, r.text
    tid = kg.cli("tenant", "list")[0]["id"]
    claims = kg.verify_jwt(r.json()["access_token"], tid, "api://ec", typ="at+jwt")
    assert claims["idtyp"] == "app"


def test_unknown_tenant(world):
    kg = world.kg
    r = kg.get("/nosuch/v2.0/.well-known/openid-configuration")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == 404 and p["code"] == 1010 and p["trace_id"]


def test_tenant_lookup(world):
    kg = world.kg
    assert kg.get("/tenants/lookup/contoso").json() == {"tenantId": world.tid, "name": "contoso"}
    # seed 003 asks with the full host name
    r = kg.get("/tenants/lookup/contoso.observe.appdynamics.com")
    assert r.json()["tenantId"] == world.tid
    r = kg.get("/tenants/lookup/nobody")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"


def test_userrealm(world):
    r = world.kg.get("/common/userrealm/" + urllib.parse.quote("alice@contoso.com"),
                     params={"api-version": "1.0"})
    assert r.status_code == 200
    j = r.json()
    assert j["account_type"] == "Managed" and j["ver"] == "1.0"
    assert j["domain_name"] == "contoso.com"
    assert j["cloud_audience_urn"] == "urn:federation:MicrosoftOnline"


def test_health_ready_metrics(world):
    kg = world.kg
    assert kg.get("/healthz").json()["status"] == "ok"
    r = kg.get("/readyz")
    assert r.status_code == 200 and r.json()["store"] == ("postgresql" if kg.db else "sqlite")
    m = kg.get("/metrics")
    assert m.headers["Content-Type"].startswith("text/plain")
    assert "keygate_http_requests_total" in m.text
    assert "keygate_tokens_issued_total" in m.text
    # the audit trail's group commit: events, the commits they shared, the time spent gathering
    values = dict(line.split(" ", 1) for line in m.text.splitlines()
                  if line.startswith("keygate_audit_"))
    assert int(values["keygate_audit_commits_total"]) <= int(values["keygate_audit_events_total"])
    assert float(values["keygate_audit_gather_seconds_total"]) >= 0
    # once the requests before have completed (on their own connections, which may lag behind
    # their answers), the /metrics request itself
    for _ in range(100):
        if "\nkeygate_http_requests_in_flight 1\n" in m.text:
            break
        time.sleep(0.05)
        m = kg.get("/metrics")
    assert "\nkeygate_http_requests_in_flight 1\n" in m.text


def test_error_doc(world):
    r = world.kg.get("/errors/6005")
    assert r.status_code == 200 and r.json()["error"] == "invalid_grant"
    assert world.kg.get("/errors/99999").status_code == 404


def test_every_problem_type_resolves(world):
    """A problem's type URI documents its code (RFC 9457 3.1.1)."""
    import requests
    kg = world.kg
    problems = [kg.get("/nowhere"), kg.get("/nosuch/v2.0/.well-known/openid-configuration"),
                requests.post(kg.url + "/contoso/discovery/v2.0/keys", verify=kg.ca, timeout=10)]
    for r in problems:
        p = r.json()
        assert r.headers["Content-Type"] == "application/problem+json"
        doc = requests.get(p["type"], verify=kg.ca, timeout=10)
        assert doc.status_code == 200, p["type"]
        # one code per cause; its HTTP status depends on the protocol answering (an unknown
        # tenant is 400 at the token endpoint, RFC 6749, and 404 for a URL)
        assert doc.json()["code"] == p["code"] and doc.json()["description"]
