# SPDX-License-Identifier: Apache-2.0
"""Crash safety on both back ends: a node killed with SIGKILL in the middle of a stream of
refresh-token rotations, while API keys are being created (and some of those CLI processes are
killed too), loses nothing it acknowledged and leaves nothing half-done: every token and key a
client received is in the store, every refresh family has exactly one current token, and the
store's own consistency check passes. A full disk likewise: tokens refused while the audit trail
cannot be written, nothing acknowledged lost, and recovery without a restart."""
import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN, Keygate, World, session_pg
from test_password_refresh import password_grant, refresh


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_kill_9_in_a_stream_of_rotations_and_key_creations(tmp_path, store):
    kg = Keygate(tmp_path / "data", db=session_pg().createdb() if store == "postgresql" else False,
                 extra=["--refresh-grace", "120"])
    world = World(kg)
    kg.cli("workspace", "create", "--tenant", "contoso", "ws")
    kg.start()
    keys = []  # every API key whose creation was acknowledged
    stop = threading.Event()

    def rotations(chain):
        t = password_grant(world).json()
        chain.append(t["refresh_token"])
        while not stop.is_set():
            try:
                r = refresh(world, chain[-1])
            except Exception:
                return  # the server is gone
            if r.status_code != 200:
                return
            chain.append(r.json()["refresh_token"])

    def creations():
        rnd = random.Random(7)
        while not stop.is_set():
            p = subprocess.Popen([BIN, "key", "create", "--tenant", "contoso", "--workspace", "ws",
                                  "--name", f"k{len(keys)}", "--role", "Reader", "--json",
                                  *kg.store_args()], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            if rnd.random() < 0.3:  # some creations die half-way
                time.sleep(rnd.random() * 0.03)
                p.send_signal(signal.SIGKILL)
            out, _ = p.communicate()
            if p.returncode == 0:
                keys.append(json.loads(out)["id"])

    chains = [[] for _ in range(3)]  # every refresh token each client was given, in order
    threads = [threading.Thread(target=rotations, args=(c,)) for c in chains]
    threads.append(threading.Thread(target=creations))
    for t in threads:
        t.start()
    time.sleep(2.5)
    kg.proc.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
    kg.proc.wait()
    kg.log.close()
    kg.proc = None
    stop.set()
    for t in threads:
        t.join()
    assert sum(len(c) for c in chains) > 10 and keys, "the stream did not run"

    kg.start()  # at once: a token whose rotation was committed but never delivered is still in
    # its grace period, so each client carries on from the last token it received
    for chain in chains:
        r = refresh(world, chain[-1])
        assert r.status_code == 200, r.text
    assert kg.get("/readyz").status_code == 200

    kg.integrity_check()
    for chain in chains:
        for rt in chain:  # every refresh token a client received was recorded
            h = hashlib.sha256(rt.encode()).hexdigest()
            assert kg.sql(f"select count(*) from refresh_tokens where hash = '{h}'").strip() == "1"
    # no family is half-rotated: exactly one current token each, and every used one carries the
    # response that replaced it
    rows = kg.sql("select family_id, count(*) from refresh_tokens where used_at = 0 "
                  "group by family_id").split()
    assert len(rows) == len(chains) and all(r.endswith("|1") for r in rows), rows
    assert kg.sql("select count(*) from refresh_tokens where used_at <> 0 and grace is null"
                  ).strip() == "0"
    listed = {k["id"] for k in kg.cli("key", "list", "--tenant", "contoso")}
    assert set(keys) <= listed, "an acknowledged key creation was lost"


def test_full_disk_refuses_tokens_and_recovers_by_itself(tmp_path):
    """A full disk (a small tmpfs under the data directory, filled up): every token is a 503
    (the audit trail cannot take it), /readyz says so, nothing acknowledged is lost and nothing
    is corrupted; once there is space again, /readyz's probe write finds it with no token
    request coming in (a load balancer has taken the node out), and tokens flow again."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    kg = None
    try:
        kg = Keygate(mnt / "data", db=False)
        kg.log_path = str(tmp_path / "server.log")  # the log must not need the full disk
        world = World(kg)
        kg.start()
        form = {"grant_type": "client_credentials", "client_id": world.svc["client_id"],
                "client_secret": world.svc["client_secret"],
                "scope": "api://iapm-api/.default"}
        issued = []  # trace ids of every token a client received

        def token():
            r = kg.post("/contoso/oauth2/v2.0/token", data=form)
            if r.status_code == 200:
                issued.append(r.headers["X-Trace-Id"])
            return r

        assert token().status_code == 200
        ready = kg.get("/readyz")
        assert ready.status_code == 200 and ready.json()["audit"] == "ok", ready.text
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)  # every block of the disk
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        os.close(fd)
        for _ in range(200):  # the audit file's last page may still hold an event or two
            r = token()
            if r.status_code != 200:
                break
        assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable", r.text
        assert "audit trail" in r.json()["error_description"]
        for _ in range(2):  # each asks again (a probe write), and it still fails
            ready = kg.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["status"] == "unavailable" and ready.json()["audit"] == "failing"
        assert token().status_code == 503
        os.unlink(mnt / "filler")  # space again; no token request comes in
        ready = kg.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "audit": "ok", "store": "sqlite"}
        assert token().status_code == 200
        assert kg.stop() == 0
        log = kg.server_log()
        assert '"event":"audit.commit_failed"' in log and '"event":"audit.recovered"' in log
        kg.integrity_check()
        assert kg.cli("audit", "verify", "--tenant", "contoso")["intact"]
        traces = {e["trace_id"] for e in kg.cli("audit", "list", "--tenant", "contoso",
                                                "--limit", "100000")
                  if e["action"] == "token.issued"}
        assert set(issued) <= traces, "a token the client received is missing from the trail"
    finally:
        if kg and kg.proc:  # failed half-way: the server must not outlive its disk
            kg.proc.kill()
            kg.proc.wait()
            kg.log.close()
            kg.proc = None
        subprocess.run(["umount", "-l", str(mnt)])
