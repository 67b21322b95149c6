# SPDX-License-Identifier: Apache-2.0
"""Interactive sign-in in real headless Chromium (Debian chromium + chromium-driver, driven by
selenium), against unmodified clients: MSAL Python's authorization-code flow and device flow,
Authlib's code flow with PKCE, prompt=none with and without a session, and logout. The browser
lands on a real loopback HTTP server that plays the client's redirect URI.

Screenshots of the login, consent and device pages are written to KEYGATE_SCREENSHOT_DIR (the
test's temporary directory by default; docs/screenshots/ holds the ones the README shows)."""
import http.server
import os
import shutil
import threading
import urllib.parse

import msal
import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.common.security import generate_token

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCOPE = ["api://iapm-api/access_as_user"]
PASSWORD_FIELD = (By.ID, "password")


class Callback:
    """The client's redirect URI: a loopback HTTP server recording what arrives."""

    def __init__(self):
        outer = self
        self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if not self.path.startswith("/callback"):  # favicon.ico and the like
                    self.send_error(404)
                    return
                outer.hits.append(self.path)
                body = b"<html><body><h1 id='done'>Back at the app</h1></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.uri = f"http://127.0.0.1:{self.port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last(self):
        assert self.hits, "the browser never came back to the client"
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.hits[-1]).query))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def chromium_driver(width=1280, height=900):
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("chromium and chromium-driver are not installed")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--ignore-certificate-errors", f"--window-size={width},{height}",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver), options=opts)


@pytest.fixture
def browser():
    d = chromium_driver()
    yield d
    d.quit()


@pytest.fixture
def callback():
    c = Callback()
    yield c
    c.close()


@pytest.fixture
def shots(tmp_path):
    d = os.environ.get("KEYGATE_SCREENSHOT_DIR") or str(tmp_path / "shots")
    os.makedirs(d, exist_ok=True)

    def take(driver, name):
        path = os.path.join(d, name + ".png")
        assert driver.save_screenshot(path)
        assert os.path.getsize(path) > 5000, "an empty screenshot"
        return path
    return take


@pytest.fixture
def bw(world, callback):
    """A confidential web app (client_secret_post, as MSAL sends it) whose loopback redirect URI
    is the callback server."""
    kg = world.kg
    web = kg.cli("app", "create", "--tenant", "contoso", "Contoso Dashboard",
                 "--redirect-uri", "http://127.0.0.1/callback")
    return world, kg, web


def wait(driver, locator, timeout=20):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located(locator))


def sign_in(driver, world, shots=None, prefix=""):
    wait(driver, PASSWORD_FIELD)
    if shots:
        shots(driver, prefix + "login")
    driver.find_element(By.ID, "username").send_keys("alice@contoso.com")
    driver.find_element(By.ID, "password").send_keys(world.alice_password)
    driver.find_element(By.ID, "signin").click()


def consent(driver, shots=None, prefix=""):
    wait(driver, (By.ID, "allow"))
    if shots:
        shots(driver, prefix + "consent")
    driver.find_element(By.ID, "allow").click()


def back_at_app(driver):
    wait(driver, (By.ID, "done"))


def msal_app(kg, web):
    return msal.ConfidentialClientApplication(
        web["client_id"], client_credential=web["client_secret"],
        authority=f"{kg.url}/contoso", validate_authority=False, verify=kg.ca)


def test_msal_auth_code_flow(bw, browser, callback, shots):
    world, kg, web = bw
    app = msal_app(kg, web)
    flow = app.initiate_auth_code_flow(SCOPE, redirect_uri=callback.uri)
    browser.get(flow["auth_uri"])
    sign_in(browser, world, shots)
    consent(browser, shots)
    back_at_app(browser)
    result = app.acquire_token_by_auth_code_flow(flow, callback.last())
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == "alice@contoso.com"
    assert claims["nonce"]  # MSAL sent one and checked it
    at = kg.verify_jwt(result["access_token"], world.tid, "api://iapm-api")
    assert at["scp"] == "access_as_user"
    accounts = app.get_accounts()
    assert accounts and accounts[0]["home_account_id"] == f"{world.alice['id']}.{world.tid}"
    silent = app.acquire_token_silent(SCOPE, account=accounts[0], force_refresh=True)
    assert silent and "access_token" in silent and silent["access_token"] != \
        result["access_token"]

    # prompt=none with the session: straight back with a code
    flow2 = app.initiate_auth_code_flow(SCOPE, redirect_uri=callback.uri, prompt="none")
    browser.get(flow2["auth_uri"])
    back_at_app(browser)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow2, callback.last())

    # logout through the end-session endpoint, then prompt=none finds no session
    q = urllib.parse.urlencode({"id_token_hint": result["id_token"],
                                "post_logout_redirect_uri": callback.uri, "state": "bye"})
    browser.get(f"{kg.url}/contoso/oauth2/v2.0/logout?{q}")
    back_at_app(browser)
    assert callback.last() == {"state": "bye"}
    flow3 = app.initiate_auth_code_flow(SCOPE, redirect_uri=callback.uri, prompt="none")
    browser.get(flow3["auth_uri"])
    back_at_app(browser)
    assert callback.last()["error"] == "login_required"
    assert callback.last()["state"] == flow3["state"]


def test_prompt_none_without_session(bw, browser, callback):
    world, kg, web = bw
    app = msal_app(kg, web)
    flow = app.initiate_auth_code_flow(SCOPE, redirect_uri=callback.uri, prompt="none")
    browser.get(flow["auth_uri"])
    back_at_app(browser)
    result = app.acquire_token_by_auth_code_flow(flow, callback.last())
    assert result.get("error") == "login_required"


def test_authlib_code_flow_with_pkce(bw, browser, callback):
    world, kg, _ = bw
    web = kg.cli("app", "create", "--tenant", "contoso", "Authlib App", "--auth-method",
                 "client_secret_basic", "--redirect-uri", "http://127.0.0.1/callback")
    meta = kg.get("/contoso/v2.0/.well-known/openid-configuration").json()
    client = OAuth2Session(web["client_id"], web["client_secret"],
                           scope="openid profile email offline_access",
                           redirect_uri=callback.uri, code_challenge_method="S256")
    client.verify = kg.ca
    verifier = generate_token(48)
    nonce = generate_token(16)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"],
                                                 code_verifier=verifier, nonce=nonce)
    browser.get(uri)
    sign_in(browser, world)
    consent(browser)
    back_at_app(browser)
    got = callback.last()
    assert got["state"] == state
    token = client.fetch_token(meta["token_endpoint"],
                               authorization_response=callback.uri + "?" +
                               urllib.parse.urlencode(got),
                               code_verifier=verifier)
    claims = kg.verify_jwt(token["id_token"], world.tid, web["client_id"])
    assert claims["nonce"] == nonce and claims["email"] == "alice@contoso.com"
    refreshed = client.refresh_token(meta["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    ui = client.get(meta["userinfo_endpoint"])
    assert ui.status_code == 200 and ui.json()["sub"] == claims["sub"]


def test_msal_device_flow_with_browser(world, browser, shots):
    kg = world.kg
    tv = kg.cli("app", "create", "--tenant", "contoso", "Living Room TV", "--public")
    app = msal.PublicClientApplication(tv["client_id"], authority=f"{kg.url}/contoso",
                                       validate_authority=False, verify=kg.ca)
    flow = app.initiate_device_flow(scopes=SCOPE)
    assert flow["user_code"] in flow["message"], flow
    result = {}
    poller = threading.Thread(
        target=lambda: result.update(app.acquire_token_by_device_flow(flow)), daemon=True)
    poller.start()
    browser.get(flow["verification_uri"])
    code = wait(browser, (By.ID, "user_code"))
    shots(browser, "device")
    code.send_keys(flow["user_code"])
    browser.find_element(By.ID, "next").click()
    sign_in(browser, world)
    consent(browser, shots, prefix="device-")
    wait(browser, (By.TAG_NAME, "h1"))
    assert "signed in" in browser.page_source
    poller.join(timeout=60)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "alice@contoso.com"


def test_pages_fit_a_phone(bw, browser, callback, shots):
    world, kg, web = bw
    phone = chromium_driver(390, 844)
    try:
        app = msal_app(kg, web)
        flow = app.initiate_auth_code_flow(SCOPE, redirect_uri=callback.uri)
        phone.get(flow["auth_uri"])
        wait(phone, PASSWORD_FIELD)
        width = phone.execute_script("return document.documentElement.scrollWidth")
        inner = phone.execute_script("return window.innerWidth")
        assert width <= inner, "the login page scrolls sideways on a phone"
        shots(phone, "login-phone")
    finally:
        phone.quit()
