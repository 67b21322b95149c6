# SPDX-License-Identifier: Apache-2.0
"""The seed scenarios through real nginx with deploy/nginx/keygate.conf (auth_request): the
identity headers reach the upstream, a client's own X-Auth-* do not, keygate's status and
problem body reach the client, and a client cannot name another original request."""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import ROOT, free_port
from test_verify import IAPM, VWorld

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Upstream:
    """The protected API: answers 200 with the headers it received."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self):
                body = json.dumps({"method": self.command, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()}})
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = handle_one

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Nginx:
    def __init__(self, prefix, keygate, upstream, api=IAPM):
        if not os.path.exists(NGINX):
            pytest.skip("nginx is not installed")
        self.prefix = str(prefix)
        os.makedirs(self.prefix, exist_ok=True)
        self.port = free_port()
        site = open(os.path.join(ROOT, "deploy", "nginx", "keygate.conf")).read()
        for k, v in {"@KEYGATE@": f"{keygate.host}:{keygate.port}", "@CA@": keygate.ca,
                     "@TLS_NAME@": "localhost", "@API@": requests.utils.quote(api, safe=""),
                     "@UPSTREAM@": f"127.0.0.1:{upstream.port}",
                     "@LISTEN@": f"127.0.0.1:{self.port}"}.items():
            site = site.replace(k, v)
        assert not re.search(r"@[A-Z_]+@", site), "a placeholder of the site was not filled"
        with open(os.path.join(self.prefix, "keygate.conf"), "w") as f:
            f.write(site)
        p = self.prefix
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(os.path.join(p, "nginx.conf"), "w") as f:
            f.write(f"""{user}worker_processes 1;
error_log {p}/error.log warn;
pid {p}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    include {p}/keygate.conf;
}}
""")
        subprocess.run([NGINX, "-t", "-p", p, "-c", f"{p}/nginx.conf"], check=True,
                       capture_output=True)
        self.proc = subprocess.Popen([NGINX, "-p", p, "-c", f"{p}/nginx.conf", "-g",
                                      "daemon off;"], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                requests.get(self.url("/"), timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, **kw):
        return requests.request(method, self.url(path), timeout=10, **kw)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=10)


@pytest.fixture
def stack(world, tmp_path):
    vw = VWorld(world)
    up = Upstream()
    ngx = Nginx(tmp_path / "nginx", world.kg, up)
    yield vw, ngx
    ngx.stop()
    up.close()


def problem(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == code
    return r.json()


def test_seed000_through_nginx(stack):
    vw, ngx = stack
    key = vw.reader_key["key"]
    r = ngx.request("GET", "/apm/grids/grid-1/limits", headers={
        "API-Key": key, "X-Auth-Tenant": "spoofed", "X-Auth-Roles": "Owner"})
    assert r.status_code == 200, r.text
    seen = r.json()["headers"]
    assert seen["x-auth-tenant"] == vw.w.tid and seen["x-auth-roles"] == "Reader"
    assert seen["x-auth-principal-type"] == "apikey"
    assert seen["x-auth-workspace"] == vw.grid1["id"]
    body = problem(ngx.request("PUT", "/apm/grids/grid-1/limits", headers={"API-Key": key}),
                   403, 10012)
    assert "Owner" in body["detail"]
    problem(ngx.request("GET", "/apm/grids/grid-2/limits", headers={"API-Key": key}), 403, 10014)
    carol = vw.user_token("carol")
    body = problem(ngx.request("GET", "/apm/grids/grid-1/limits",
                               headers={"Authorization": "Bearer " + carol}), 403, 10011)
    assert "not a member" in body["detail"]
    problem(ngx.request("PUT", "/apm/grids/grid-1/limits",
                        headers={"Authorization": "Bearer " + vw.app_token()}), 403, 10013)
    r = ngx.request("GET", "/apm/status")
    problem(r, 401, 10001)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    problem(ngx.request("GET", "/apm/status", headers={"Authorization": "Bearer x.y.z"}),
            401, 10002)
    vw.kg.cli("key", "rotate", "--tenant", "contoso", vw.reader_key["id"])
    body = problem(ngx.request("GET", "/apm/status", headers={"API-Key": key}), 401, 10004)
    assert "revoked" in body["detail"]


def test_client_cannot_name_another_original_request(stack):
    vw, ngx = stack
    key = vw.reader_key["key"]
    # the client asks for a path its key may not use, claiming another in forwarded headers
    r = ngx.request("PUT", "/apm/grids/grid-1/limits", headers={
        "API-Key": key, "X-Forwarded-Uri": "/apm/status", "X-Forwarded-Method": "GET",
        "X-Original-URI": "/apm/status", "X-Original-Method": "GET"})
    assert r.status_code == 403 and "x-auth-tenant" not in r.text
    for path in ("/apm/grids/grid-1/../grid-2/limits", "/apm/grids/%2e%2e/limits",
                 "/apm//status", "/apm/status;a=b", "/APM/status"):
        r = ngx.request("GET", path, headers={"API-Key": key})
        assert r.status_code in (400, 403), (path, r.status_code)


def test_seeds_001_002_004_and_rate_limit_through_nginx(stack, tmp_path):
    vw, ngx = stack
    kg = vw.kg
    # seed 004: a bare Authorization header with an API token
    owner = kg.cli("key", "create", "--tenant", "contoso", "--workspace", "grid-1", "--name", "o",
                   "--role", "Owner")["key"]
    r = ngx.request("PUT", "/apm/grids/grid-1/limits", headers={"Authorization": owner})
    assert r.status_code == 200 and r.json()["method"] == "PUT"
    assert r.json()["headers"]["x-auth-roles"] == "Owner"
    # rate limit: a 429 with Retry-After reaches the client
    kg.cli("api", "create", "api://limited", "--permission", "r:read", "--rate-limit", "1")
    kg.cli("api", "route", "add", "api://limited", "GET", "/r", "--permission", "r:read")
    up = Upstream()
    lim = Nginx(tmp_path / "nginx2", kg, up, api="api://limited")
    try:
        codes = [lim.request("GET", "/r", headers={"API-Key": owner}) for _ in range(4)]
        assert codes[0].status_code == 200
        limited = [c for c in codes if c.status_code == 429]
        assert limited and int(limited[0].headers["Retry-After"]) >= 1
        assert limited[0].json()["code"] == 10015
    finally:
        lim.stop()
        up.close()
    # seed 001 and 002 through an nginx in front of their APIs
    kg.cli("api", "create", "api://monitoring", "--permission", "data:read", "--tenant-header",
           "X-Tenant-ID", "--require-caller-id")
    kg.cli("api", "route", "add", "api://monitoring", "GET", "/data", "--permission", "data:read")
    kg.cli("app", "grant", "--tenant", "contoso", vw.w.svc["client_id"], "--api",
           "api://monitoring", "--permission", "data:read")
    tok = vw.app_token(scope="api://monitoring/.default")
    up = Upstream()
    mon = Nginx(tmp_path / "nginx3", kg, up, api="api://monitoring")
    try:
        h = {"Authorization": "Bearer " + tok, "x-api-caller-id": "ops@contoso.com"}
        r = mon.request("GET", "/data", headers=dict(h, **{"X-Tenant-ID": "contoso"}))
        assert r.status_code == 200 and r.json()["headers"]["x-auth-caller"] == "ops@contoso.com"
        problem(mon.request("GET", "/data", headers=dict(h, **{"X-Tenant-ID": "fabrikam"})),
                403, 10006)
        problem(mon.request("GET", "/data", headers={"Authorization": "Bearer " + tok,
                                                     "X-Tenant-ID": "contoso"}), 400, 10008)
    finally:
        mon.stop()
        up.close()
    events = kg.audit_until("contoso", lambda events: any(
        e["action"] == "verify.denied" and e["target"] == "10006" for e in events))
    callers = [e for e in events if e["action"] == "verify.denied" and e["target"] == "10006"]
    assert callers[-1]["caller_id"] == "ops@contoso.com"
