# SPDX-License-Identifier: Apache-2.0
"""Operation: CLI contract and changes seen by a running server, SIGTERM drain, durability
after kill -9, TLS defaults, JSON logs with trace ids."""
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time

import requests

from conftest import BIN, Keygate, World


def test_cli_json_contract(kg):
    t = kg.cli("tenant", "create", "acme")
    assert set(t) >= {"id", "name"} and t["name"] == "acme"
    assert [x["name"] for x in kg.cli("tenant", "list")] == ["acme"]
    kg.cli("api", "create", "api://a", "--permission", "p:read")
    app = kg.cli("app", "create", "--tenant", "acme", "x")
    assert app["client_secret"].startswith("kg_sec_")
    s2 = kg.cli("app", "secret", "add", "--tenant", "acme", app["client_id"], "--expires", "30d")
    secrets = kg.cli("app", "secret", "list", "--tenant", "acme", app["client_id"])
    assert len(secrets) == 2 and all("client_secret" not in s for s in secrets)
    kg.cli("app", "secret", "remove", "--tenant", "acme", app["client_id"], s2["id"])
    assert len(kg.cli("app", "secret", "list", "--tenant", "acme", app["client_id"])) == 1
    r = kg.cli("role", "create", "--tenant", "acme", "GridAdmin", "--permission", "grids:*")
    assert r["name"] == "GridAdmin"
    u = kg.cli("user", "create", "--tenant", "acme", "bob", "--password-stdin", "--role",
               "GridAdmin", input="pw-bob-123\n")
    assert u["roles"] == ["GridAdmin"]
    pub = kg.cli("app", "create", "--tenant", "acme", "spa", "--public", "--redirect-uri",
                 "http://localhost/cb")
    assert "client_secret" not in pub


def test_cli_errors(kg):
    kg.cli("tenant", "create", "acme")
    for args in (("tenant", "create", "acme"), ("tenant", "create", "Bad Name"),
                 ("app", "create", "--tenant", "nope", "x"), ("tenant", "frobnicate"),
                 ("app", "create", "--tenant", "acme", "x", "--redirect-uri", "https://a/#f"),
                 ("app", "create", "--tenant", "acme", "x", "--redirect-uri", "http://a.com/cb"),
                 ("app", "create", "--tenant", "acme", "x", "--redirect-uri", "https://u@a.com/"),
                 ("user", "create", "--tenant", "acme", "u"),
                 ("tenant", "create", "acme2", "--display-name", "bad\udcff")):
        r = kg.cli_raw(*args, "--json")
        assert r.returncode != 0, args
        assert r.stdout == "" and r.stderr.startswith("keygate: "), args


def stored_bytes(kg):
    """Everything the store holds, as bytes: the database file, or a dump of the database."""
    if kg.db:
        return subprocess.run(["pg_dump", "--data-only", kg.db], capture_output=True,
                              check=True).stdout
    return open(os.path.join(kg.data, "keygate.db"), "rb").read()


def test_secrets_are_stored_hashed(world):
    db = stored_bytes(world.kg)
    assert world.svc["client_secret"].encode() not in db
    assert world.alice_password.encode() not in db
    key = os.path.join(world.kg.data, "master.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert b"PRIVATE KEY" not in db and b'"d":' not in db, "signing key stored in clear"


def test_cli_changes_are_seen_at_once(world):
    kg = world.kg
    app = kg.cli("app", "create", "--tenant", "contoso", "late")
    kg.cli("app", "grant", "--tenant", "contoso", app["client_id"], "--api", "api://iapm-api",
           "--permission", "limits:write")
    r = kg.post("/contoso/oauth2/v2.0/token",
                {"grant_type": "client_credentials", "client_id": app["client_id"],
                 "client_secret": app["client_secret"], "scope": "api://iapm-api/.default"})
    assert r.status_code == 200, r.text
    claims = kg.verify_jwt(r.json()["access_token"], world.tid, "api://iapm-api")
    assert claims["roles"] == ["limits:write"]
    kg.cli("tenant", "create", "newco")
    assert kg.get("/newco/v2.0/.well-known/openid-configuration").status_code == 200


def test_json_logs_with_trace_id(world):
    r = world.kg.get("/healthz")
    # the access line is written when the request completes, which may follow the response
    for _ in range(100):
        lines = [json.loads(l) for l in world.kg.server_log().splitlines() if l.startswith("{")]
        hits = [l for l in lines if l.get("trace_id") == r.headers["X-Trace-Id"]]
        if hits:
            break
        time.sleep(0.02)
    assert hits and hits[0]["event"] == "http.request" and hits[0]["status"] == "200"
    assert world.svc["client_secret"] not in world.kg.server_log()


def test_threads_are_named(world):
    """keygate's own threads carry names (top -H, perf; bench/token.sh splits CPU by them)."""
    tasks = f"/proc/{world.kg.proc.pid}/task"
    names = {open(f"{tasks}/{t}/comm").read().strip() for t in os.listdir(tasks)}
    assert {"kg-audit", "kg-linger", "kg-rotator", "MHD-worker"} <= names, names


def test_pipelined_responses_reach_a_slow_reader(world):
    """Many pipelined HTTPS requests, read slowly through a small receive buffer: the server's
    writes find the socket full again and again, with header records held back to go out with
    their body (http/tls_io.c), and every response still arrives whole and in order. The last
    is a HEAD: no body follows its header, which must not be held back waiting for one."""
    kg = world.kg
    path = "/contoso/v2.0/.well-known/openid-configuration"
    doc = requests.get(kg.base + path, verify=kg.ca, timeout=10).content
    n = 150
    req = f"GET {path} HTTP/1.1\r\nHost: {kg.host}\r\n\r\n".encode()
    head = f"HEAD /healthz HTTP/1.1\r\nHost: {kg.host}\r\n\r\n"  # keep-alive: nothing after
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect((kg.host, kg.port))
    out = b""
    with ssl.create_default_context(cafile=kg.ca).wrap_socket(raw, server_hostname=kg.host) as t:
        t.sendall(req * n + head.encode())
        time.sleep(0.5)  # let the server fill the socket before anything is read
        while not (out.count(b"HTTP/1.1 200 OK\r\n") == n + 1 and out.endswith(b"\r\n\r\n")):
            out += t.recv(1024)  # times out if the HEAD's header is held back
    for i in range(n):
        status, rest = out.split(b"\r\n", 1)
        assert status == b"HTTP/1.1 200 OK", (i, status)
        headers, rest = rest.split(b"\r\n\r\n", 1)
        length = int([h.split(b":")[1] for h in headers.split(b"\r\n")
                      if h.lower().startswith(b"content-length:")][0])
        assert rest[:length] == doc, i
        out = rest[length:]
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n"), out


def test_sigterm_drains_in_flight_requests(world):
    kg = world.kg
    results = []

    def hammer():
        s = requests.Session()
        for _ in range(40):
            try:
                r = s.post(kg.token_url("contoso"),
                           {"grant_type": "password", "client_id": world.conf_pw["client_id"],
                            "client_secret": world.conf_pw["client_secret"],
                            "username": "alice@contoso.com", "password": world.alice_password,
                            "scope": "api://iapm-api/access_as_user"}, verify=kg.ca, timeout=30)
                # a request that starts as the drain ends is refused with 503, code 9001
                results.append(r.status_code if r.status_code != 503 else
                               "refused" if r.json()["code"] == 9001 else r.text)
            except requests.RequestException:
                results.append("refused")
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    while len(results) < 8:
        pass
    assert kg.stop(signal.SIGTERM) == 0
    for t in threads:
        t.join()
    # every request the server accepted was answered in full: no 5xx, no truncated response
    assert all(r in (200, "refused") for r in results), results


WRK_RECORD = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "%s"
local n, out = 0, nil
function setup(thread) n = n + 1; thread:set("id", n) end
function init(args) out = io.open("%s." .. id, "w") end
function response(status, headers, body)
  local ok = status == 200 and body:find('"access_token":"[^"]+%%.[^"]+%%.[^"]+"') ~= nil
  out:write(status, " ", headers["X-Trace-Id"] or "-", " ", ok and "token" or body:gsub("\\n", " "), "\\n")
  out:flush()
end
"""


def test_sigterm_under_sustained_load(world, tmp_path):
    """SIGTERM while wrk keeps 32 keep-alive connections busy asking for tokens, each held for
    the audit trail's group commit (a suspended connection, under which libmicrohttpd may not be
    stopped: keygate aborted here, in MHD_stop_daemon, before its drain refused new work): it
    exits 0, every answer is a whole token or the 503 of a server stopping, and every token a
    client received is in the audit trail."""
    kg = world.kg
    body = (f"grant_type=client_credentials&client_id={world.svc['client_id']}"
            f"&client_secret={world.svc['client_secret']}&scope=api%3A%2F%2Fiapm-api%2F.default")
    script = tmp_path / "record.lua"
    script.write_text(WRK_RECORD % (body, tmp_path / "answers"))
    wrk = subprocess.Popen(["wrk", "-t2", "-c32", "-d60s", "-s", str(script),
                            kg.token_url("contoso")], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        started = time.monotonic()
        assert kg.stop(signal.SIGTERM) == 0  # also: no sanitizer report, no libmicrohttpd panic
        assert time.monotonic() - started < 20
    finally:
        wrk.kill()
        wrk.wait()
    answers = [line.split(" ", 2) for f in tmp_path.glob("answers.*")
               for line in f.read_text().splitlines()]
    issued = {trace for status, trace, what in answers if status == "200" and what == "token"}
    assert len(issued) > 100, "wrk got too few tokens to tell anything"
    for status, trace, what in answers:
        assert (status, what) == ("200", "token") or (
            status == "503" and json.loads(what)["code"] == 9001), (status, what)
    traces = {e["trace_id"] for e in kg.cli("audit", "list", "--tenant", "contoso",
                                            "--limit", "100000")
              if e["action"] == "token.issued"}
    assert issued <= traces, "a token the client received is missing from the audit trail"
    kg.integrity_check()


def test_sigterm_drain_refuses_new_work_and_finishes_what_is_in_flight(world):
    """The drain step by step: a request in flight (its body still coming) holds the drain
    open; meanwhile /readyz on an open connection answers 503 "stopping" and closes it, and a
    new connection is not served; the request in flight is then answered in full, closing its
    connection, and keygate exits 0."""
    kg = world.kg
    body = (f"grant_type=client_credentials&client_id={world.svc['client_id']}"
            f"&client_secret={world.svc['client_secret']}&scope=api%3A%2F%2Fiapm-api%2F.default")
    ctx = ssl.create_default_context(cafile=kg.ca)
    slow = ctx.wrap_socket(socket.create_connection((kg.host, kg.port), timeout=10),
                           server_hostname=kg.host)
    slow.sendall((f"POST /contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: {kg.host}\r\n"
                  "Content-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n{body[:10]}").encode())
    probe = requests.Session()
    assert probe.get(kg.base + "/readyz", verify=kg.ca, timeout=10).status_code == 200
    deadline = time.monotonic() + 10
    while True:  # until the server has the request's head: it is in flight (with the /metrics
        # request itself; the probe's earlier ones, on the same connection, have completed)
        m = probe.get(kg.base + "/metrics", verify=kg.ca, timeout=10).text
        if "\nkeygate_http_requests_in_flight 2\n" in m or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert "\nkeygate_http_requests_in_flight 2\n" in m
    kg.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while True:  # the same keep-alive connection, until the server has seen the signal
        r = probe.get(kg.base + "/readyz", verify=kg.ca, timeout=10)
        # one reading of the drain per request: "ready" keeps the connection, "stopping" closes
        # it (a 200 that closed it would send the next probe to a refused connection)
        assert (r.status_code == 503) == (r.headers.get("Connection", "").lower() == "close")
        if r.status_code == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert r.status_code == 503 and r.json()["status"] == "stopping", r.text
    assert r.headers["Connection"].lower() == "close"
    try:
        with ctx.wrap_socket(socket.create_connection((kg.host, kg.port), timeout=5),
                             server_hostname=kg.host) as t:
            t.sendall(f"GET /healthz HTTP/1.1\r\nHost: {kg.host}\r\n\r\n".encode())
            answer = t.recv(4096)
    except (OSError, ssl.SSLError):
        answer = b""
    assert answer == b"", answer  # a new connection gets nothing
    assert kg.proc.poll() is None  # still draining: the slow request is in flight
    slow.sendall(body[10:].encode())
    out = b""
    while True:
        chunk = slow.recv(65536)
        if not chunk:
            break
        out += chunk
    slow.close()
    head, payload = out.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
    assert b"\r\nconnection: close" in head.lower()
    assert json.loads(payload)["token_type"] == "Bearer"
    assert kg.stop(signal.SIGTERM) == 0


def test_drain_deadline(tmp_path):
    """--drain-timeout bounds the drain. Responses still being sent at the deadline, to a
    client that does not read them, are cut off and keygate stops cleanly (exit 0); a request
    not yet answered (its body still coming) could be suspended, under which libmicrohttpd
    cannot be stopped, so keygate then logs server.drain_timeout and exits 1."""
    k = Keygate(tmp_path / "d", extra=["--drain-timeout", "1s"])
    World(k)
    path = "/contoso/v2.0/.well-known/openid-configuration"
    for stalled in (True, False):
        k.start()
        ctx = ssl.create_default_context(cafile=k.ca)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.settimeout(10)
        raw.connect((k.host, k.port))
        with ctx.wrap_socket(raw, server_hostname=k.host) as t:
            if stalled:  # more responses asked for (over 1 KB each) than the server's socket
                # buffer can hold at its largest, none read: the server's writes stall
                wmem_max = int(open("/proc/sys/net/ipv4/tcp_wmem").read().split()[2])
                t.sendall(f"GET {path} HTTP/1.1\r\nHost: {k.host}\r\n\r\n".encode()
                          * (wmem_max // 1000 + 1000))
            else:  # a request whose body never comes
                t.sendall((f"POST /contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: {k.host}\r\n"
                           "Content-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: 100\r\n\r\ngrant_type").encode())
            # until the server is stuck: no request completes any more (a slow build can
            # take seconds to fill the socket buffers)
            done, deadline = -1, time.monotonic() + 30
            while time.monotonic() < deadline:
                time.sleep(0.5)
                now = k.server_log().count('"event":"http.request"')
                if now == done:
                    break
                done = now
            started = time.monotonic()
            k.proc.send_signal(signal.SIGTERM)
            rc = k.proc.wait(timeout=20)
            assert 0.9 < time.monotonic() - started < 10
        k.log.close()
        k.proc = None
        log = k.server_log()
        if stalled:
            assert rc == 0 and "http.drain_deadline" in log, log[-2000:]
            assert "server.stopped" in log
        else:
            assert rc == 1 and "server.drain_timeout" in log, log[-2000:]
        os.truncate(k.log_path, 0)


def test_kill9_loses_no_acknowledged_write(world):
    kg = world.kg
    issued = []
    for _ in range(30):
        r = kg.post("/contoso/oauth2/v2.0/token",
                    {"grant_type": "client_credentials", "client_id": world.svc["client_id"],
                     "client_secret": world.svc["client_secret"],
                     "scope": "api://iapm-api/.default"})
        assert r.status_code == 200
        issued.append(r.headers["X-Trace-Id"])
    kg.proc.kill()
    kg.proc.wait()
    kg.log.close()
    kg.proc = None
    traces = {e["trace_id"] for e in kg.cli("audit", "list", "--tenant", "contoso")
              if e["action"] == "token.issued"}
    assert set(issued) <= traces, "a token the client received is missing from the audit trail"
    kg.integrity_check()
    kg.start()
    assert kg.get("/readyz").status_code == 200


def test_insecure_http_only_on_loopback(kg):
    r = subprocess.run([BIN, "serve", "--data", kg.data, "--insecure-http", "--listen",
                        "0.0.0.0:0"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "loopback" in r.stderr


def test_insecure_http_on_loopback_behind_proxy(tmp_path):
    k = Keygate(tmp_path / "plain", public_url=None, extra=["--insecure-http"])
    k.public_url = f"http://127.0.0.1:{k.port}"
    World(k)
    try:
        k.start()
        d = k.get("/contoso/v2.0/.well-known/openid-configuration").json()
        assert d["issuer"].startswith("http://127.0.0.1")
        assert "insecure_http" in k.server_log()
    finally:
        k.stop()


def test_default_listen_is_https_8443(tmp_path):
    """The README's first command: serve with no arguments (port 8443 must be free)."""
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8443))
        except OSError:
            import pytest
            pytest.skip("8443 in use")
    p = subprocess.Popen([BIN, "serve"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert "https://127.0.0.1:8443" in line
        ca = tmp_path / "var" / "tls" / "ca.pem"
        assert requests.get("https://127.0.0.1:8443/healthz", verify=str(ca), timeout=5).ok
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err


def test_second_server_on_the_same_port_is_refused(world):
    """No SO_REUSEPORT: a second keygate must not silently share the port of a running one."""
    r = subprocess.run([BIN, "serve", "--data", world.kg.data, "--listen",
                        f"127.0.0.1:{world.kg.port}"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "cannot listen" in r.stderr
    assert world.kg.get("/healthz").status_code == 200


def test_operator_supplied_certificate(tmp_path):
    """--tls-cert/--tls-key: keygate serves the operator's certificate, not the development one."""
    import datetime
    import ipaddress
    import ssl as _ssl
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operator test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operator")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    d = tmp_path / "tls"
    d.mkdir()
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    k = Keygate(tmp_path / "data", extra=["--tls-cert", str(d / "cert.pem"),
                                          "--tls-key", str(d / "key.pem")])
    k.cli("tenant", "create", "acme")
    os.makedirs(os.path.dirname(k.ca), exist_ok=True)
    with open(k.ca, "wb") as f:  # the harness trusts Keygate.ca: point it at the operator's CA
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    try:
        k.start()
        served = _ssl.get_server_certificate(("127.0.0.1", k.port))
        assert x509.load_pem_x509_certificate(served.encode()).serial_number == cert.serial_number
        assert k.get("/acme/v2.0/.well-known/openid-configuration").status_code == 200
    finally:
        k.stop()
