# SPDX-License-Identifier: Apache-2.0
"""Helpers for the sign-in tests without a browser: a cookie-keeping HTTP client that reads and
submits keygate's own forms, and PKCE values."""
import base64
import hashlib
import html.parser
import secrets
import urllib.parse

import requests


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"),
                               "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value")))


def forms(page):
    p = _Forms()
    p.feed(page)
    return p.forms


class Browser:
    """What a browser does with keygate's pages, minus rendering: keeps cookies, follows
    nothing by itself, submits forms with the fields the page carried."""

    def __init__(self, kg):
        self.kg = kg
        self.s = requests.Session()
        self.s.verify = kg.ca

    def get(self, url, **kw):
        if url.startswith("/"):
            url = self.kg.url + url
        return self.s.get(url, allow_redirects=False, timeout=30, **kw)

    def submit(self, resp, index=0, **values):
        f = forms(resp.text)[index]
        data = dict(f["fields"])
        data.update({k: v for k, v in values.items() if v is not None})
        for k, v in values.items():
            if v is None:
                data.pop(k, None)
        action = f["action"]
        if action.startswith("/"):
            action = self.kg.url + action
        return self.s.post(action, data=data, allow_redirects=False, timeout=60)

    def login(self, resp, username, password):
        return self.submit(resp, username=username, password=password)

    def consent(self, resp, allow=True):
        return self.submit(resp, kg_consent="allow" if allow else "deny")


def authorize_url(kg, tenant, client_id, redirect_uri, scope="openid profile offline_access",
                  **extra):
    q = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
         "scope": scope}
    q.update(extra)
    return f"{kg.url}/{tenant}/oauth2/v2.0/authorize?" + urllib.parse.urlencode(q)


def redirect_params(resp):
    """The parameters of a redirect to the client (query or fragment)."""
    assert resp.status_code == 302, (resp.status_code, resp.text[:500])
    loc = urllib.parse.urlsplit(resp.headers["Location"])
    raw = loc.fragment or loc.query
    return loc, dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
