# SPDX-License-Identifier: Apache-2.0
"""The device authorization grant (RFC 8628) with the /device page, without a browser: the
responses clients read, polling rules, approval and denial, replay, user-code guessing.
MSAL Python's device flow with Chromium entering the code is in test_browser.py."""
import time

import pytest

from signin import Browser, forms

SCOPE = "openid offline_access api://iapm-api/access_as_user"
URN = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def dev(world):
    kg = world.kg
    app = kg.cli("app", "create", "--tenant", "contoso", "TV App", "--public")
    return world, kg, app


def start(kg, app, scope=SCOPE):
    r = kg.post("/contoso/oauth2/v2.0/devicecode",
                data={"client_id": app["client_id"], "scope": scope})
    assert r.status_code == 200, r.text
    return r.json()


def poll(kg, app, flow, grant=URN):
    return kg.post("/contoso/oauth2/v2.0/token", data={
        "grant_type": grant, "client_id": app["client_id"], "device_code": flow["device_code"]})


def approve(world, kg, code, allow=True, typed=None):
    b = Browser(kg)
    page = b.get("/device")
    assert page.status_code == 200 and "Enter code" in page.text
    r = b.submit(page, user_code=typed or code)
    assert r.status_code == 200 and "Sign in" in r.text, r.text[:400]
    r = b.login(r, "alice@contoso.com", world.alice_password)
    assert r.status_code == 200 and "Allow access?" in r.text and code in r.text
    done = b.consent(r, allow=allow)
    assert done.status_code == 200
    return b, done


def test_device_flow_end_to_end(dev):
    world, kg, app = dev
    flow = start(kg, app)
    assert flow["verification_uri"] == kg.url + "/device"
    assert isinstance(flow["expires_in"], int) and flow["interval"] == 5
    assert flow["user_code"] in flow["message"] and flow["verification_uri"] in flow["message"]
    code = flow["user_code"]
    assert len(code) == 9 and code[4] == "-"
    assert all(c in "BCDFGHJKLMNPQRSTVWXZ" for c in code.replace("-", ""))
    r = poll(kg, app, flow)
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending"
    r = poll(kg, app, flow)
    assert r.json()["error"] == "slow_down"
    _, done = approve(world, kg, code, typed=code.replace("-", "").lower())
    assert "signed in" in done.text
    time.sleep(4.2)
    r = poll(kg, app, flow, grant="device_code")  # COMPAT: msal-node's bare word
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["scope"] == SCOPE and t["refresh_token"] and t["id_token"]
    claims = kg.verify_jwt(t["access_token"], world.tid, "api://iapm-api")
    assert claims["scp"] == "access_as_user" and claims["sub"] == world.alice["id"]
    again = poll(kg, app, flow)
    assert again.status_code == 400 and again.json()["error_codes"] == [6105]
    ui = kg.get("/contoso/oidc/userinfo", headers={"Authorization": "Bearer " + t["access_token"]})
    assert ui.status_code == 401  # the replay revoked it


def test_device_flow_declined_and_foreign_client(dev):
    world, kg, app = dev
    flow = start(kg, app)
    other = kg.cli("app", "create", "--tenant", "contoso", "Other TV", "--public")
    r = poll(kg, other, flow)
    assert r.json()["error"] == "bad_verification_code"
    _, done = approve(world, kg, flow["user_code"], allow=False)
    assert "declined" in done.text
    time.sleep(4.2)
    assert poll(kg, app, flow).json()["error"] == "access_denied"
    # the code cannot be approved afterwards
    b = Browser(kg)
    r = b.submit(b.get("/device"), user_code=flow["user_code"])
    assert r.status_code == 400 and "not valid" in r.text


def test_device_codes_refused_without_the_grant_and_malformed(dev):
    world, kg, app = dev
    r = kg.post("/contoso/oauth2/v2.0/devicecode", data={
        "client_id": world.svc["client_id"], "client_secret": world.svc["client_secret"],
        "scope": "openid"})
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    r = poll(kg, app, {"device_code": "kg_dc_nonsense"})
    assert r.json()["error"] == "bad_verification_code"
    r = kg.post("/contoso/oauth2/v2.0/devicecode", data={"client_id": app["client_id"]})
    assert r.json()["error"] == "invalid_request"


def test_user_code_guessing_is_throttled(dev):
    world, kg, app = dev
    flow = start(kg, app)
    b = Browser(kg)
    page = b.get("/device?user_code=" + flow["user_code"])
    assert forms(page.text)[0]["fields"]["user_code"] == flow["user_code"]
    for _ in range(10):
        r = b.submit(page, user_code="BBBB-BBBB")
        assert r.status_code == 400 and "not valid" in r.text
    r = b.submit(page, user_code=flow["user_code"])
    assert r.status_code == 400 and "Too many" in r.text


def test_device_page_needs_csrf(dev):
    world, kg, app = dev
    flow = start(kg, app)
    b = Browser(kg)
    page = b.get("/device")
    r = b.submit(page, user_code=flow["user_code"], kg_csrf="x" * 43)
    assert r.status_code == 403 and "Location" not in r.headers
