# SPDX-License-Identifier: Apache-2.0
"""Each bad request of issue 2 gets the RFC 6749 error with the right status and a trace id,
stores nothing, and the server keeps serving (SPEC 12.8)."""
import base64
import socket
import ssl

import pytest

TOKEN = "/contoso/oauth2/v2.0/token"


def cc(world, **over):
    d = {"grant_type": "client_credentials", "client_id": world.svc["client_id"],
         "client_secret": world.svc["client_secret"], "scope": "api://iapm-api/.default"}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def expect(r, status, error, code=None):
    assert r.status_code == status, r.text
    j = r.json()
    assert j["error"] == error, j
    assert j["trace_id"] and j["timestamp"] and "correlation_id" in j and j["error_uri"]
    assert isinstance(j["error_codes"], list) and all(isinstance(c, int) for c in j["error_codes"])
    if code:
        assert j["error_codes"] == [code], j
    assert r.headers["X-Trace-Id"] == j["trace_id"]
    assert r.headers["Cache-Control"] == "no-store"
    return j


def audit_count(world):
    return len(world.kg.cli("audit", "list", "--tenant", "contoso"))


def still_serving(world):
    r = world.kg.post(TOKEN, cc(world))
    assert r.status_code == 200, r.text


def test_wrong_secret(world):
    r = world.kg.post(TOKEN, cc(world, client_secret="kg_sec_" + "A" * 49))
    expect(r, 401, "invalid_client", 2000)
    assert "WWW-Authenticate" not in r.headers  # only after Basic (COMPAT)


def test_wrong_secret_basic_gets_www_authenticate(world):
    r = world.kg.post(TOKEN, cc(world, client_id=None, client_secret=None),
                      auth=(world.basic["client_id"], "wrong"))
    expect(r, 401, "invalid_client", 2000)
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_other_method_than_registered(world):
    # svc is registered for client_secret_post; Basic is refused
    r = world.kg.post(TOKEN, cc(world, client_id=None, client_secret=None),
                      auth=(world.svc["client_id"], world.svc["client_secret"]))
    expect(r, 401, "invalid_client", 2001)
    # basic is registered for client_secret_basic; post is refused
    r = world.kg.post(TOKEN, cc(world, client_id=world.basic["client_id"],
                                client_secret=world.basic["client_secret"]))
    expect(r, 401, "invalid_client", 2001)


def test_doubled_client_authentication(world):
    b = world.basic
    r = world.kg.post(TOKEN, cc(world, client_id=b["client_id"], client_secret=b["client_secret"]),
                      auth=(b["client_id"], b["client_secret"]))
    expect(r, 401, "invalid_client", 2002)
    h = "Basic " + base64.b64encode(f"{b['client_id']}:{b['client_secret']}".encode()).decode()
    r = raw_post(world, TOKEN, "grant_type=client_credentials",
                 extra_headers=[("Authorization", h), ("Authorization", h)])
    assert b" 401 " in r.split(b"\r\n")[0]


def test_unknown_client_and_client_of_other_tenant(world):
    r = world.kg.post(TOKEN, cc(world, client_id="6a0b1e0e-0000-4000-8000-000000000000"))
    a = expect(r, 401, "invalid_client", 2000)
    f = world.foreign
    r = world.kg.post(TOKEN, cc(world, client_id=f["client_id"], client_secret=f["client_secret"]))
    b = expect(r, 401, "invalid_client", 2000)
    # the same answer whether the client exists elsewhere or nowhere (SPEC 12.5)
    assert a["error_description"].split(" Trace")[0] == b["error_description"].split(" Trace")[0]


def test_grant_type_unknown_missing_doubled(world):
    expect(world.kg.post(TOKEN, cc(world, grant_type="magic")), 400, "unsupported_grant_type",
           4000)
    expect(world.kg.post(TOKEN, cc(world, grant_type=None)), 400, "invalid_request", 1004)
    body = "grant_type=client_credentials&grant_type=password&client_id=x"
    r = world.kg.post(TOKEN, body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(r, 400, "invalid_request", 1002)


def test_scopes(world):
    expect(world.kg.post(TOKEN, cc(world, scope="api://iapm-api/.default api://other-api/.default")),
           400, "invalid_scope", 5000)
    expect(world.kg.post(TOKEN, cc(world, scope="api://nope/.default")), 400, "invalid_scope",
           5001)
    expect(world.kg.post(TOKEN, cc(world, scope="api://iapm-api/access_as_user")), 400,
           "invalid_scope", 5004)
    expect(world.kg.post(TOKEN, cc(world, scope="api://iapm-api/.default openid")), 400,
           "invalid_scope", 5004)
    expect(world.kg.post(TOKEN, cc(world, scope="noslash")), 400, "invalid_scope", 5002)


def test_public_client_cannot_use_client_credentials(world):
    r = world.kg.post(TOKEN, {"grant_type": "client_credentials",
                              "client_id": world.pub["client_id"],
                              "scope": "api://iapm-api/.default"})
    expect(r, 400, "unauthorized_client", 3001)


def test_confidential_client_without_secret(world):
    expect(world.kg.post(TOKEN, cc(world, client_secret=None)), 401, "invalid_client", 2003)


def test_oversized_body_and_field(world):
    before = audit_count(world)
    r = world.kg.post(TOKEN, "a=" + "x" * 100000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(r, 413, "invalid_request", 1003)
    r = world.kg.post(TOKEN, cc(world, scope="a" * 5000))
    expect(r, 400, "invalid_request", 1008)
    many = "&".join(f"f{i}=1" for i in range(40))
    r = world.kg.post(TOKEN, many, headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(r, 400, "invalid_request", 1008)
    assert audit_count(world) == before
    still_serving(world)


@pytest.mark.parametrize("body", [
    b"grant_type=client_credentials&client_id=%00abc",
    b"grant_type=client_credentials&client_id=\xff\xfe",
    b"grant_type=client_credentials&client_id=%C3%28",
    b"grant_type=client_credentials&client_id=%ZZ",
    b"grant_type=client_credentials&client_id=%4",
    b"grant_type=client_credentials&=value",
])
def test_bad_encoding(world, body):
    r = world.kg.post(TOKEN, body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(r, 400, "invalid_request")
    still_serving(world)


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "multipart/form-data",
                                   "application/x-www-form-urlencodedX"])
def test_non_form_content_type(world, ctype):
    r = world.kg.post(TOKEN, "grant_type=client_credentials", headers={"Content-Type": ctype})
    expect(r, 400, "invalid_request", 1001)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_methods_other_than_post(world, method):
    import requests
    r = requests.request(method, world.kg.url + TOKEN, verify=world.kg.ca, timeout=10)
    j = expect(r, 405, "invalid_request", 1007)
    assert r.headers["Allow"] == "POST" and j


def test_unknown_tenant_at_token_endpoint(world):
    r = world.kg.post("/nosuch/oauth2/v2.0/token", cc(world))
    expect(r, 400, "invalid_request", 1010)


def test_garbage_basic_header(world):
    for h in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
              "Bearer abc", "Basic " + "A" * 5000):
        r = world.kg.post(TOKEN, {"grant_type": "client_credentials"},
                          headers={"Authorization": h})
        assert r.status_code in (401, 400), (h, r.text)
        assert r.json()["error"] in ("invalid_client", "invalid_request")
    still_serving(world)


def raw_post(world, path, body, extra_headers=(), ctype="application/x-www-form-urlencoded"):
    kg = world.kg
    lines = [f"POST {path} HTTP/1.1", f"Host: {kg.host}", f"Content-Type: {ctype}",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in extra_headers]
    return kg.raw(("\r\n".join(lines) + "\r\n\r\n" + body).encode())


def test_declared_oversized_body_is_answered_unread(world):
    """A Content-Length over the cap gets 413 at once: the server does not wait for (or read) a
    body it will refuse, and a client that asked for 100-continue is not told to send it."""
    head = (f"POST {TOKEN} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000000\r\n")
    for extra in ("Expect: 100-continue\r\n", ""):
        out = world.kg.raw((head + extra + "\r\n").encode(), timeout=5)
        assert out.startswith(b"HTTP/1.1 413 "), out[:200]
        assert b'"error_codes":[1003]' in out and b"100 Continue" not in out
    still_serving(world)


def test_chunked_oversized_body(world):
    """Chunked bodies have no length to refuse early. Over the cap but within
    KG_MAX_DISCARDED_BODY (1 MiB) the rest is read and dropped and the answer is 413; far past it
    the server stops reading and closes the connection unanswered."""
    head = (f"POST {TOKEN} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
            ).encode()

    def chunked(total):
        piece = b"a" * 16384
        return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece)
                        for _ in range(total // len(piece))) + b"0\r\n\r\n"

    out = world.kg.raw(head + chunked(64 * 1024))
    assert out.startswith(b"HTTP/1.1 413 ") and b'"error_codes":[1003]' in out, out[:200]
    try:
        out = world.kg.raw(head + chunked(16 * 1024 * 1024))
    except (OSError, ssl.SSLError):
        out = b""  # closed while we were still sending
    assert out == b"", out[:200]  # no answer at all: the body was not read to its end
    still_serving(world)


def test_malformed_http_does_not_kill_the_server(world):
    kg = world.kg
    ctx = ssl.create_default_context(cafile=kg.ca)
    junk = [b"GARBAGE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 2000 + b"\r\n",
            b"POST /contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
            b"\r\n\r\nZZZ\r\n"]
    for j in junk:
        try:
            with socket.create_connection((kg.host, kg.port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname=kg.host) as t:
                    t.sendall(j)
                    t.recv(4096)
        except (OSError, ssl.SSLError):
            pass
    still_serving(world)


def test_path_tricks_do_not_route(world):
    """Sent raw: HTTP clients would normalise these before they reach the server."""
    body = "&".join(f"{k}={v}" for k, v in cc(world).items())
    for p in ("/contoso/oauth2/v2.0/../v2.0/token", "/contoso//oauth2/v2.0/token",
              "/contoso/oauth2/v2.0/%74oken", "/contoso/oauth2/v2.0/./token",
              "/contoso/oauth2/v2.0/token/.."):
        status = raw_post(world, p, body).split(b"\r\n")[0]
        assert b" 404 " in status, (p, status)
    assert b" 200 " in raw_post(world, TOKEN, body).split(b"\r\n")[0]


def test_token_body_cap_boundary(world):
    """KG_MAX_TOKEN_BODY (8192) at -1/0/+1: up to the cap the body is read and parsed (and here
    refused because one field is over its own cap, 1008); one byte more is 413 (1003), unread."""
    base = "grant_type=client_credentials&client_id=x&pad="
    for size, status, code in ((8191, 400, 1008), (8192, 400, 1008), (8193, 413, 1003)):
        body = base + "a" * (size - len(base))
        assert len(body) == size
        r = world.kg.post(TOKEN, body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect(r, status, "invalid_request", code)
