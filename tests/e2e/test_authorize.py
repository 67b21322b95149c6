# SPDX-License-Identifier: Apache-2.0
"""The authorization endpoint, its pages, codes and logout, driven without a browser (a
cookie-keeping HTTP client that fills keygate's forms): the flows and every attack of issue 3.
The same flows in real Chromium with MSAL and Authlib are in test_browser.py."""
import base64
import json
import time
import urllib.parse

import pytest
import requests

from signin import Browser, authorize_url, forms, pkce_pair, redirect_params

WEB_CB = "https://app.example/cb"
LOOPBACK_CB = "http://localhost/callback"


class SigninWorld:
    def __init__(self, world):
        self.w = world
        kg = world.kg
        self.kg = kg
        self.web = kg.cli("app", "create", "--tenant", "contoso", "Web Portal", "--auth-method",
                          "client_secret_basic", "--redirect-uri", WEB_CB, "--redirect-uri",
                          LOOPBACK_CB)
        self.spa = kg.cli("app", "create", "--tenant", "contoso", "Desktop", "--public",
                          "--redirect-uri", "http://localhost/cb")
        self.fab = kg.cli("app", "create", "--tenant", "fabrikam", "Fab Web", "--redirect-uri",
                          WEB_CB)

    def url(self, client=None, redirect_uri=WEB_CB, tenant="contoso", **kw):
        client = client or self.web
        return authorize_url(self.kg, tenant, client["client_id"], redirect_uri, **kw)

    def sign_in(self, b, url, consent=True):
        """Login (+ consent) from an authorize URL; returns the final redirect."""
        r = b.get(url)
        assert r.status_code == 200 and "Sign in" in r.text, r.text[:300]
        r = b.login(r, "alice@contoso.com", self.w.alice_password)
        if consent:
            assert r.status_code == 200 and "Allow access?" in r.text, r.text[:300]
            r = b.consent(r)
        return r

    def redeem(self, code, client=None, redirect_uri=WEB_CB, **extra):
        client = client or self.web
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        data.update(extra)
        auth = None
        if client.get("client_secret"):
            auth = (client["client_id"], client["client_secret"])
        else:
            data["client_id"] = client["client_id"]
        return self.kg.post("/contoso/oauth2/v2.0/token", data=data, auth=auth)


@pytest.fixture
def sw(world):
    return SigninWorld(world)


def assert_error_page(r, status=400):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert "trace" in r.text
    return r


# ---- the flow ----

def test_code_flow_with_pkce_nonce_state(sw):
    b = Browser(sw.kg)
    verifier, challenge = pkce_pair()
    r = sw.sign_in(b, sw.url(state="s-1", nonce="n-1", code_challenge=challenge,
                             code_challenge_method="S256"))
    loc, p = redirect_params(r)
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == WEB_CB
    assert p["state"] == "s-1" and p["code"].startswith("kg_ac_") and p["session_state"]
    assert r.headers["Cache-Control"] == "no-store"
    cookies = r.headers.get("Set-Cookie", "")
    tok = sw.redeem(p["code"], code_verifier=verifier)
    assert tok.status_code == 200, tok.text
    t = tok.json()
    assert t["scope"] == "openid profile offline_access" and t["refresh_token"]
    idt = sw.kg.verify_jwt(t["id_token"], sw.w.tid, sw.web["client_id"], typ="JWT")
    assert idt["nonce"] == "n-1" and idt["sub"] == sw.w.alice["id"]
    assert idt["preferred_username"] == "alice@contoso.com" and isinstance(idt["auth_time"], int)
    assert idt["sid"] == p["session_state"]
    at = sw.kg.verify_jwt(t["access_token"], sw.w.tid, sw.web["client_id"], typ="at+jwt")
    assert at["idtyp"] == "user" and at["azp"] == sw.web["client_id"]
    # userinfo's sub is the ID token's
    ui = sw.kg.get("/contoso/oidc/userinfo",
                   headers={"Authorization": "Bearer " + t["access_token"]})
    assert ui.status_code == 200 and ui.json()["sub"] == idt["sub"]
    # the refresh token rotates as in the token service
    rt = sw.kg.post("/contoso/oauth2/v2.0/token", data={
        "grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
        auth=(sw.web["client_id"], sw.web["client_secret"]))
    assert rt.status_code == 200 and rt.json()["refresh_token"] != t["refresh_token"]
    assert cookies == ""  # the session cookie was set at login, not again here


def test_session_cookie_attributes_and_no_nonce_when_not_sent(sw):
    b = Browser(sw.kg)
    r = b.get(sw.url())
    assert "kg_b=" in r.headers["Set-Cookie"]
    r = b.login(r, "alice@contoso.com", sw.w.alice_password)
    sc = r.headers["Set-Cookie"]
    assert "kg_s_" + sw.w.tid in sc
    for attr in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attr in sc
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"  # once, not repeated
    _, p = redirect_params(b.consent(r))
    t = sw.redeem(p["code"]).json()
    assert "nonce" not in sw.kg.verify_jwt(t["id_token"], sw.w.tid, sw.web["client_id"])


def test_second_authorization_skips_login_and_consent(sw):
    b = Browser(sw.kg)
    _, p1 = redirect_params(sw.sign_in(b, sw.url(state="a")))
    r = b.get(sw.url(state="b"))
    _, p2 = redirect_params(r)
    assert p2["state"] == "b" and p2["code"] != p1["code"]
    assert p2["session_state"] == p1["session_state"]
    # a scope not consented yet asks again
    r = b.get(sw.url(scope="openid email"))
    assert r.status_code == 200 and "See your email address" in r.text


def test_response_modes_fragment_and_form_post(sw):
    b = Browser(sw.kg)
    r = sw.sign_in(b, sw.url(response_mode="fragment", state="f"))
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.query == "" and "code=" in loc.fragment and "state=f" in loc.fragment
    r = b.get(sw.url(response_mode="form_post", state="fp<&>"))
    assert r.status_code == 200
    f = forms(r.text)[0]
    assert f["action"] == WEB_CB and f["method"] == "post"
    assert f["fields"]["state"] == "fp<&>" and f["fields"]["code"].startswith("kg_ac_")
    assert "nonce-" in r.headers["Content-Security-Policy"]
    assert "fp<&>" not in r.text
    r = b.get(sw.url(response_mode="jwt", state="x"))
    _, p = redirect_params(r)
    assert p["error"] == "invalid_request" and p["state"] == "x"


def test_client_info_for_msal(sw):
    b = Browser(sw.kg)
    _, p = redirect_params(sw.sign_in(b, sw.url(client_info="1")))
    info = json.loads(base64.urlsafe_b64decode(p["client_info"] + "=="))
    assert info == {"uid": sw.w.alice["id"], "utid": sw.w.tid}


def test_prompt_values_login_hint_max_age(sw):
    b = Browser(sw.kg)
    r = b.get(sw.url(prompt="none", state="pn"))
    _, p = redirect_params(r)
    assert p["error"] == "login_required" and p["state"] == "pn"
    sw.sign_in(b, sw.url())
    _, p = redirect_params(b.get(sw.url(prompt="none")))
    assert "code" in p
    _, p = redirect_params(b.get(sw.url(prompt="none", scope="openid email")))
    assert p["error"] == "consent_required"
    r = b.get(sw.url(prompt="login"))
    assert r.status_code == 200 and "Sign in" in r.text
    r = b.get(sw.url(prompt="consent"))
    assert r.status_code == 200 and "Allow access?" in r.text
    _, p = redirect_params(b.get(sw.url(prompt="none login")))
    assert p["error"] == "invalid_request"
    r = b.get(sw.url(prompt="select_account"))  # ignored (COMPAT)
    assert "code" in redirect_params(r)[1]
    time.sleep(1.1)
    r = b.get(sw.url(max_age="0"))
    assert r.status_code == 200 and "Sign in" in r.text
    r = b.get(sw.url(login_hint="bob@contoso.com"))
    assert r.status_code == 200 and 'value="bob@contoso.com"' in r.text
    r = b.get(sw.url(login_hint="ALICE@contoso.com"))  # the same user: no login
    assert r.status_code == 302


def test_deny_consent_and_wrong_password(sw):
    b = Browser(sw.kg)
    r = b.get(sw.url(state="d"))
    bad = b.login(r, "alice@contoso.com", "wrong")
    assert bad.status_code == 401 and "incorrect" in bad.text
    assert 'value="alice@contoso.com"' in bad.text
    r = b.login(bad, "alice@contoso.com", sw.w.alice_password)
    _, p = redirect_params(b.consent(r, allow=False))
    assert p["error"] == "access_denied" and p["state"] == "d"
    audit = sw.kg.cli("audit", "list", "--tenant", "contoso")
    actions = [e["action"] for e in audit]
    assert "signin.failed" in actions and "consent.declined" in actions


def test_login_is_throttled(sw):
    b = Browser(sw.kg)
    r = b.get(sw.url())
    for _ in range(5):
        r = b.login(r, "alice@contoso.com", "wrong")
    r = b.login(r, "alice@contoso.com", sw.w.alice_password)
    assert r.status_code == 401 and "Too many" in r.text


# ---- redirect URIs ----

@pytest.mark.parametrize("uri", [
    "https://app.example/cb/../evil", "https://app.example/CB", "https://APP.example/cb",
    "https://app.example/cb?x=1", "https://evil.example/cb", "https://user@app.example/cb",
    "https://app.example/cb#frag", "https://app.example/cb/", "https://app.example:444/cb",
    "http://app.example/cb", "https://app.example/c%62", "https://app.example.evil/cb",
    "http://localhost:8080/callback/x", "http://127.0.0.1:8080/callback",
])
def test_unregistered_redirect_uri_shows_page(sw, uri):
    r = assert_error_page(Browser(sw.kg).get(sw.url(redirect_uri=uri)))
    assert "KG8101" in r.text


def test_loopback_redirect_matches_any_port(sw):
    b = Browser(sw.kg)
    r = sw.sign_in(b, sw.url(redirect_uri="http://localhost:54321/callback"))
    loc, p = redirect_params(r)
    assert loc.netloc == "localhost:54321"
    # the token request must name the same URI, port included
    assert sw.redeem(p["code"], redirect_uri="http://localhost:1/callback").status_code == 400
    assert sw.redeem(p["code"], redirect_uri="http://localhost:54321/callback").ok


def test_unknown_client_and_other_tenant_show_page(sw):
    assert_error_page(Browser(sw.kg).get(sw.url(client={"client_id": "nope"})))
    b = Browser(sw.kg)
    r = assert_error_page(b.get(sw.url(client=sw.fab, tenant="contoso")))
    assert "KG8100" in r.text
    r = assert_error_page(b.get(sw.url(client=sw.web, tenant="fabrikam")))
    r = b.get(sw.kg.url + "/contoso/oauth2/v2.0/authorize")
    assert_error_page(r)
    assert_error_page(b.get(sw.url(tenant="nosuch")), 400)


def test_other_errors_go_back_to_the_client(sw):
    b = Browser(sw.kg)
    for extra, err in [({"response_type": "token"}, "unsupported_response_type"),
                       ({"scope": "api://iapm-api/x:read api://other-api/x:read"},
                        "invalid_scope"),
                       ({"scope": "api://unknown/.default"}, "invalid_scope"),
                       ({"code_challenge": "abc", "code_challenge_method": "plain"},
                        "invalid_request"),
                       ({"max_age": "-1"}, "invalid_request")]:
        q = {"state": "e"}
        q.update(extra)
        _, p = redirect_params(b.get(sw.url(**q)))
        assert p["error"] == err and p["state"] == "e", (extra, p)
        assert p["error_description"].startswith("KG")


# ---- PKCE ----

def test_pkce_rules(sw):
    b = Browser(sw.kg)
    spa_cb = "http://localhost:9999/cb"
    _, p = redirect_params(b.get(sw.url(client=sw.spa, redirect_uri=spa_cb, state="p")))
    assert p["error"] == "invalid_request" and "code_challenge" in p["error_description"]
    verifier, challenge = pkce_pair()
    _, p = redirect_params(b.get(sw.url(client=sw.spa, redirect_uri=spa_cb,
                                        code_challenge=verifier, code_challenge_method="plain")))
    assert p["error"] == "invalid_request"
    _, p = redirect_params(b.get(sw.url(client=sw.spa, redirect_uri=spa_cb,
                                        code_challenge=challenge)))  # method defaults to plain
    assert p["error"] == "invalid_request"
    r = sw.sign_in(b, sw.url(client=sw.spa, redirect_uri=spa_cb, code_challenge=challenge,
                             code_challenge_method="S256"))
    _, p = redirect_params(r)
    missing = sw.redeem(p["code"], client=sw.spa, redirect_uri=spa_cb)
    assert missing.status_code == 400 and missing.json()["error_codes"] == [6012]
    wrong = sw.redeem(p["code"], client=sw.spa, redirect_uri=spa_cb,
                      code_verifier=pkce_pair()[0])
    assert wrong.json()["error_codes"] == [6013]
    ok = sw.redeem(p["code"], client=sw.spa, redirect_uri=spa_cb, code_verifier=verifier)
    assert ok.status_code == 200, ok.text
    # downgrade: a verifier where no challenge was stored
    r = b.get(sw.url())  # signed in already; this client needs consent
    _, p = redirect_params(b.consent(r))
    down = sw.redeem(p["code"], code_verifier=verifier)
    assert down.json()["error"] == "invalid_grant" and down.json()["error_codes"] == [6014]


# ---- codes ----

def test_code_replay_revokes_what_it_produced(sw):
    b = Browser(sw.kg)
    _, p = redirect_params(sw.sign_in(b, sw.url()))
    first = sw.redeem(p["code"])
    assert first.ok
    t = first.json()
    again = sw.redeem(p["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.json()["error_codes"] == [6010]
    ui = sw.kg.get("/contoso/oidc/userinfo",
                   headers={"Authorization": "Bearer " + t["access_token"]})
    assert ui.status_code == 401
    rt = sw.kg.post("/contoso/oauth2/v2.0/token", data={
        "grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
        auth=(sw.web["client_id"], sw.web["client_secret"]))
    assert rt.status_code == 400 and rt.json()["error"] == "invalid_grant"
    actions = [e["action"] for e in sw.kg.cli("audit", "list", "--tenant", "contoso")]
    assert "code.reuse_detected" in actions


def test_code_of_another_client_or_redirect(sw):
    other = sw.kg.cli("app", "create", "--tenant", "contoso", "other", "--redirect-uri", WEB_CB)
    b = Browser(sw.kg)
    _, p = redirect_params(sw.sign_in(b, sw.url()))
    stolen = sw.kg.post("/contoso/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "code": p["code"], "redirect_uri": WEB_CB,
        "client_id": other["client_id"], "client_secret": other["client_secret"]})
    assert stolen.status_code == 400 and stolen.json()["error_codes"] == [6008]
    assert sw.redeem(p["code"], redirect_uri=WEB_CB + "x").json()["error_codes"] == [6011]
    assert sw.redeem("kg_ac_" + "A" * 49).json()["error_codes"] == [6008]
    fab = sw.kg.post("/fabrikam/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "code": p["code"], "redirect_uri": WEB_CB},
        auth=(sw.web["client_id"], sw.web["client_secret"]))
    assert fab.status_code == 401  # the client is unknown in fabrikam
    assert sw.redeem(p["code"]).ok  # none of that consumed it


# ---- CSRF, injection, CR/LF ----

def test_csrf_missing_or_from_another_browser(sw):
    a, b = Browser(sw.kg), Browser(sw.kg)
    ra = a.get(sw.url())
    rb = b.get(sw.url())
    r = a.submit(ra, username="alice@contoso.com", password=sw.w.alice_password, kg_csrf=None)
    assert_error_page(r, 403)
    b_token = forms(rb.text)[0]["fields"]["kg_csrf"]
    r = a.submit(ra, username="alice@contoso.com", password=sw.w.alice_password,
                 kg_csrf=b_token)
    assert_error_page(r, 403)
    assert "kg_s_" not in r.headers.get("Set-Cookie", "")
    # and a GET cannot carry a form action
    assert_error_page(a.get(sw.url(kg_action="consent", kg_consent="allow",
                                   kg_csrf=forms(ra.text)[0]["fields"]["kg_csrf"])), 403)


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_script_injection_through_echoed_parameters(sw):
    b = Browser(sw.kg)
    r = b.get(sw.url(state=XSS, nonce=XSS, login_hint=XSS, **{"x-client-SKU": XSS,
                                                               XSS[:20]: "v"}))
    assert r.status_code == 200
    for page in (r, b.login(r, XSS, "x")):
        assert "<script>" not in page.text and "onerror=alert" not in page.text.replace(
            "onerror=alert(2)&gt;", "")
        assert "&lt;script&gt;" in page.text
    r = b.get(sw.url(state=XSS, response_mode="form_post", prompt="none"))
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    r = b.get(sw.url(redirect_uri=XSS))
    assert "<script>alert" not in r.text
    page = Browser(sw.kg).get("/device?user_code=" + urllib.parse.quote(XSS))
    assert "<script>alert" not in page.text


def test_state_with_crlf_cannot_split_the_redirect(sw):
    b = Browser(sw.kg)
    sw.sign_in(b, sw.url())
    evil = "x\r\nSet-Cookie: pwned=1\r\n\r\n<html>"
    r = b.get(sw.url(state=evil))
    assert "pwned" not in r.headers.get("Set-Cookie", "")
    assert "%0D%0ASet-Cookie" in r.headers["Location"]
    _, p = redirect_params(r)
    assert p["state"] == evil


def test_malformed_requests_get_a_page(sw):
    b = Browser(sw.kg)
    q = urllib.parse.urlencode({"client_id": sw.web["client_id"], "response_type": "code"})
    assert_error_page(b.get(f"/contoso/oauth2/v2.0/authorize?{q}&client_id=x"))
    assert_error_page(b.get(f"/contoso/oauth2/v2.0/authorize?{q}&state=%ZZ"))
    assert_error_page(b.get(f"/contoso/oauth2/v2.0/authorize?{q}&state=%00"))
    assert_error_page(b.get(f"/contoso/oauth2/v2.0/authorize?{q}&state=" + "a" * 5000))
    r = requests.put(sw.kg.url + "/contoso/oauth2/v2.0/authorize", verify=sw.kg.ca)
    assert r.status_code == 405


# ---- logout ----

def test_logout_with_id_token_hint_redirects_to_registered_uri(sw):
    b = Browser(sw.kg)
    _, p = redirect_params(sw.sign_in(b, sw.url()))
    idt = sw.redeem(p["code"]).json()["id_token"]
    q = urllib.parse.urlencode({"id_token_hint": idt, "post_logout_redirect_uri": WEB_CB,
                                "state": "bye"})
    r = b.get(f"/contoso/oauth2/v2.0/logout?{q}")
    assert r.status_code == 302 and r.headers["Location"] == WEB_CB + "?state=bye"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    r = b.get(sw.url(prompt="none"))
    assert redirect_params(r)[1]["error"] == "login_required"


def test_logout_without_hint_asks_and_refuses_unregistered_uri(sw):
    b = Browser(sw.kg)
    sw.sign_in(b, sw.url())
    q = urllib.parse.urlencode({"client_id": sw.web["client_id"],
                                "post_logout_redirect_uri": "https://evil.example/"})
    assert_error_page(b.get(f"/contoso/oauth2/v2.0/logout?{q}"))
    r = b.get("/contoso/oauth2/v2.0/logout")
    assert r.status_code == 200 and "Sign out?" in r.text
    assert b.get(sw.url(prompt="none")).status_code == 302
    assert "code=" in b.get(sw.url(prompt="none")).headers["Location"]  # still signed in
    assert_error_page(b.submit(r, kg_csrf="forged"), 403)
    done = b.submit(r)
    assert done.status_code == 200 and "signed out" in done.text
    assert redirect_params(b.get(sw.url(prompt="none")))[1]["error"] == "login_required"
