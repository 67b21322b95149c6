# SPDX-License-Identifier: Apache-2.0
"""End-to-end harness: the real keygate binary on a free loopback port with a temporary data
directory, provisioned through its own CLI, driven by real clients.

KEYGATE_BIN selects the binary (the normal or the sanitizer build). KEYGATE_TEST_DB=postgresql
runs the whole suite on PostgreSQL: one throwaway cluster for the session (scripts/pg.sh), and a
database of its own for every data directory. Every server's stderr is kept; a sanitizer report
or a crash in it fails the test that started it."""
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KEYGATE_BIN", os.path.join(ROOT, "build", "keygate"))
PG_SH = os.path.join(ROOT, "scripts", "pg.sh")
ON_PG = os.environ.get("KEYGATE_TEST_DB") == "postgresql"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")

# MSAL and requests must trust only what the test says (COMPAT: CURL_CA_BUNDLE overrides verify=)
for var in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "https_proxy",
            "HTTP_PROXY", "http_proxy"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = "*"


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_sanitizer_output(text, what):
    for mark in SANITIZER_MARKS:
        assert mark not in text, f"{what}: sanitizer report:\n{text[-4000:]}"


class PgCluster:
    """A throwaway PostgreSQL cluster (scripts/pg.sh) in a directory of its own under /tmp,
    where its non-root owner can reach it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keygate-pg-")
        self.url = self._sh("start", self.dir)

    def _sh(self, *args):
        return subprocess.run(["bash", PG_SH, *args], capture_output=True, text=True,
                              check=True, timeout=120).stdout.strip()

    def createdb(self):
        return self._sh("createdb", self.dir, "kg_" + uuid.uuid4().hex[:12])

    def stop(self):
        self._sh("stop", self.dir)

    def kill(self):
        self._sh("kill", self.dir)

    def start(self):
        port = open(os.path.join(self.dir, "port")).read().strip()
        self._sh("start", self.dir, port)

    def remove(self):
        subprocess.run(["rm", "-rf", self.dir], check=False)


_session_pg = None


def session_pg():
    """The suite's cluster on PostgreSQL runs (started on first use, stopped at exit)."""
    global _session_pg
    if _session_pg is None:
        _session_pg = PgCluster()
    return _session_pg


def pytest_sessionfinish(session, exitstatus):
    if _session_pg is not None:
        _session_pg.stop()
        _session_pg.remove()


def psql(url, query):
    """Rows of query on a PostgreSQL database, fields separated by '|' (audit schema first)."""
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", url,
                        "-c", query], capture_output=True, text=True,
                       env={**os.environ, "PGOPTIONS": "-c search_path=audit,public"})
    assert r.returncode == 0, r.stderr
    return r.stdout


class Keygate:
    """One data directory and (optionally) a running server on it. On PostgreSQL runs it also
    has a database of its own (db), or shares the one given (another node). A server a test
    leaves running is stopped after it, with the same checks (stop_left_servers)."""

    started = []  # every instance whose server was started during the current test

    def __init__(self, data, host="127.0.0.1", port=None, public_url=None, extra=(), db=None):
        if db is None:  # the suite's store; False: SQLite whatever the suite runs on
            db = session_pg().createdb() if ON_PG else None
        self.db = db or None
        self.data = str(data)
        self.host = host
        self.port = port or free_port(host)
        scheme = "http" if "--insecure-http" in extra else "https"
        self.base = f"{scheme}://{host}:{self.port}"  # where this node listens
        self.public_url = public_url or self.base  # what it calls itself (shared by nodes)
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(self.data, "server.log")
        os.makedirs(self.data, exist_ok=True)

    # ---- CLI ----
    def store_args(self):
        return ["--data", self.data] + (["--db", self.db] if self.db else [])

    def cli_raw(self, *args, input=None):
        r = subprocess.run([BIN, *args, *self.store_args()], input=input, capture_output=True,
                           text=True, timeout=60)
        check_sanitizer_output(r.stderr, "keygate " + " ".join(args[:2]))
        return r

    def cli(self, *args, input=None):
        r = self.cli_raw(*args, "--json", input=input)
        assert r.returncode == 0, f"keygate {' '.join(args)} failed: {r.stderr}"
        return json.loads(r.stdout)

    def audit_until(self, tenant, found, timeout=5):
        """The tenant's audit events once found(events) holds (a /verify denial is committed
        just after its answer leaves, so it may take a moment to appear); fails after timeout."""
        deadline = time.time() + timeout
        while True:
            events = self.cli("audit", "list", "--tenant", tenant)
            if found(events):
                return events
            assert time.time() < deadline, f"audit events of {tenant} never matched: {events}"
            time.sleep(0.1)

    # ---- server ----
    @property
    def ca(self):
        return os.path.join(self.data, "tls", "ca.pem")

    @property
    def url(self):
        return self.public_url

    def start(self):
        Keygate.started.append(self)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", *self.store_args(), "--listen", f"{self.host}:{self.port}",
             "--public-url", self.public_url, *self.extra],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, f"keygate exited: {self.server_log()[-3000:]}"
            try:
                if requests.get(self.base + "/healthz", verify=self.ca, timeout=2).ok:
                    return self
            except (requests.ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError("keygate did not become healthy")

    def sql(self, query, audit=False):
        """Rows of query run directly on the store ('|' between fields): keygate.db (audit.db
        for the audit trail) on SQLite, the database (audit schema first) on PostgreSQL."""
        if self.db:
            return psql(self.db, query)
        db = os.path.join(self.data, "audit.db" if audit else "keygate.db")
        r = subprocess.run(["sqlite3", "-separator", "|", db, query], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def hex(self, column):
        """SQL for a blob column as hex, in the store's dialect."""
        return f"encode({column}, 'hex')" if self.db else f"hex({column})"

    def integrity_check(self):
        """The store's own consistency check: SQLite's integrity_check on both files, or
        PostgreSQL's amcheck over every heap and B-tree index of the database."""
        if not self.db:
            for f in ("keygate.db", "audit.db"):
                r = subprocess.run(["sqlite3", os.path.join(self.data, f), "PRAGMA integrity_check"],
                                   capture_output=True, text=True)
                assert r.stdout.strip() == "ok", f"{f}: {r.stdout}{r.stderr}"
            return
        u = urllib.parse.urlparse(self.db)
        pgbin = "/usr/lib/postgresql/" + sorted(os.listdir("/usr/lib/postgresql"))[-1] + "/bin"
        r = subprocess.run([pgbin + "/pg_amcheck", "--heapallindexed", "--install-missing",
                            "-h", u.hostname, "-p", str(u.port), "-U", u.username,
                            u.path.lstrip("/")], capture_output=True, text=True)
        assert r.returncode == 0, f"pg_amcheck: {r.stdout}{r.stderr}"

    def server_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if not self.proc:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
        finally:
            self.log.close()
            self.proc = None
        if sig == signal.SIGTERM:
            log = self.server_log()
            check_sanitizer_output(log, "keygate serve")
            assert rc == 0, f"keygate serve exited {rc}: {log[-3000:]}"
        return rc

    # ---- helpers ----
    def token_url(self, tenant):
        return f"{self.url}/{tenant}/oauth2/v2.0/token"

    def post(self, path, data=None, **kw):
        kw.setdefault("verify", self.ca)
        return requests.post(self.base + path, data=data, timeout=30, **kw)

    def get(self, path, **kw):
        kw.setdefault("verify", self.ca)
        return requests.get(self.base + path, timeout=30, **kw)

    def raw(self, data, timeout=10):
        """Sends data as it is (what an HTTP client would refuse to send or would normalise) on a
        fresh TLS connection, and returns all the server sends until it closes."""
        ctx = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            with ctx.wrap_socket(s, server_hostname=self.host) as t:
                t.sendall(data)
                out = b""
                while chunk := t.recv(65536):
                    out += chunk
                return out

    def jwks(self, tenant):
        return self.get(f"/{tenant}/discovery/v2.0/keys").json()

    def verify_jwt(self, token, tenant_id, audience, typ=None):
        """Verifies a JWT against the tenant's JWKS with PyJWT and returns its claims."""
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in self.jwks(tenant_id)["keys"]}
        assert header["kid"] in keys, "kid not in the JWKS"
        if typ:
            assert header.get("typ") == typ
        jwk = keys[header["kid"]]
        key = jwt.PyJWK(jwk).key
        return jwt.decode(token, key, algorithms=[jwk["alg"]], audience=audience,
                          issuer=f"{self.url}/{tenant_id}/v2.0")


class World:
    """The standard provisioning every test starts from."""

    def __init__(self, kg):
        self.kg = kg
        self.tenant = kg.cli("tenant", "create", "contoso", "--display-name", "Contoso Ltd")
        self.other = kg.cli("tenant", "create", "fabrikam")
        kg.cli("api", "create", "api://iapm-api", "--name", "IAPM", "--permission", "grids:read",
               "--permission", "limits:write", "--scope", "access_as_user")
        kg.cli("api", "create", "api://other-api", "--permission", "x:read")
        self.svc = kg.cli("app", "create", "--tenant", "contoso", "svc")  # client_secret_post
        kg.cli("app", "grant", "--tenant", "contoso", self.svc["client_id"], "--api",
               "api://iapm-api", "--permission", "grids:read")
        self.basic = kg.cli("app", "create", "--tenant", "contoso", "svc-basic", "--auth-method",
                            "client_secret_basic")
        kg.cli("app", "grant", "--tenant", "contoso", self.basic["client_id"], "--api",
               "api://iapm-api", "--permission", "grids:read", "--permission", "limits:write")
        self.nogrant = kg.cli("app", "create", "--tenant", "contoso", "svc-nothing")
        self.pub = kg.cli("app", "create", "--tenant", "contoso", "cli-public", "--public",
                          "--grant", "password", "--grant", "authorization_code")
        self.conf_pw = kg.cli("app", "create", "--tenant", "contoso", "keyavi", "--grant",
                              "password", "--grant", "client_credentials")
        self.conf_pw_basic = kg.cli("app", "create", "--tenant", "contoso", "pw-basic",
                                    "--grant", "password", "--auth-method",
                                    "client_secret_basic")
        self.foreign = kg.cli("app", "create", "--tenant", "fabrikam", "fab-svc")
        kg.cli("app", "grant", "--tenant", "fabrikam", self.foreign["client_id"], "--api",
               "api://iapm-api", "--permission", "grids:read")
        self.alice = kg.cli("user", "create", "--tenant", "contoso", "alice@contoso.com",
                            "--password-stdin", "--email", "alice@contoso.com",
                            "--display-name", "Alice Example", "--role", "Owner",
                            input="correct horse battery staple\n")
        self.alice_password = "correct horse battery staple"

    @property
    def tid(self):
        return self.tenant["id"]


@pytest.fixture(autouse=True)
def stop_left_servers():
    """After each test, stops (SIGTERM: a clean exit, no sanitizer report) every server it
    started and did not stop, so none outlives its test unchecked."""
    yield
    left = [k for k in Keygate.started if k.proc]
    Keygate.started.clear()
    for k in left:
        k.stop()


@pytest.fixture
def kg(tmp_path):
    k = Keygate(tmp_path / "data")
    yield k
    try:
        k.stop()
    except AssertionError:
        keep = os.environ.get("KEYGATE_KEEP_LOGS")
        if keep:  # for debugging a failed shutdown: keep the server's log
            os.makedirs(keep, exist_ok=True)
            with open(os.path.join(keep, f"{os.getpid()}-{time.time()}.log"), "w") as f:
                f.write(k.server_log())
        raise


@pytest.fixture
def world(kg):
    w = World(kg)
    kg.start()
    return w


def loopback_443():
    """A spare loopback address on port 443 for MSAL's userrealm request (COMPAT)."""
    for last in range(2, 250):
        host = f"127.0.0.{last}"
        try:
            with socket.socket() as s:
                s.bind((host, 443))
            return host
        except OSError:
            continue
    pytest.skip("no loopback address has port 443 free (needs root)")
